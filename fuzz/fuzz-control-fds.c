/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the descriptor bookkeeping of the control socket
 * (core/varlink.h, sfu_varlink_fds_*), driven the way the Varlink server
 * drives it, by an arbitrary script of reads (with or without
 * descriptors), dispatched calls and closed connections.  Descriptors are
 * stand-in numbers, checked against a model: every one that arrives is
 * handed back exactly once (refused by push, or taken by the call whose
 * bytes it came with, oldest first), never more than SFU_VARLINK_FDS_MAX
 * are held, and a call never gets one that arrived after its last byte.
 *
 * Script bytes: op = byte % 4, then its argument byte:
 *   0  a read of 1..64 bytes that carries 0..7 descriptors
 *   1  a read of 1..256 bytes without descriptors
 *   2  a call of 1..64 of the bytes read so far is dispatched
 *   3  the connection closes (everything held is taken), a new one starts */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/varlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FDS 4096

struct model {
        uint64_t at[MAX_FDS];   /* by stand-in number */
        uint8_t returned[MAX_FDS];
        int next;               /* the next stand-in number */
};

static void returned(struct model *m, int fd) {
        if (fd < 0 || fd >= m->next || m->returned[fd])
                abort(); /* unknown, or handed back twice */
        m->returned[fd] = 1;
}

static void take(struct sfu_varlink_fds *q, struct model *m, uint64_t end) {
        int out[SFU_VARLINK_FDS_MAX];
        size_t held = q->n, n = sfu_varlink_fds_take(q, end, out);

        if (n > held || q->n != held - n)
                abort();
        for (size_t i = 0; i < n; i++) {
                if (m->at[out[i]] >= end || (i > 0 && out[i] < out[i - 1]))
                        abort(); /* arrived after the call, or out of order */
                returned(m, out[i]);
        }
        /* What stays arrived at or after end. */
        for (size_t i = 0; i < q->n; i++)
                if (q->at[i] < end)
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct model m;
        struct sfu_varlink_fds q = { .n = 0 };
        uint64_t received = 0, consumed = 0;

        memset(&m, 0, sizeof(m));
        for (size_t i = 0; i + 1 < size && m.next + 8 < MAX_FDS; i += 2) {
                unsigned arg = data[i + 1];

                switch (data[i] % 4) {
                case 0: {
                        unsigned n = arg % 8;
                        for (unsigned k = 0; k < n; k++) {
                                int fd = m.next++;
                                m.at[fd] = received;
                                if (sfu_varlink_fds_push(&q, fd, received) < 0) {
                                        if (q.n < SFU_VARLINK_FDS_MAX)
                                                abort(); /* refused with room left */
                                        returned(&m, fd);
                                }
                        }
                        received += 1 + arg % 64;
                        break;
                }
                case 1:
                        received += 1 + arg;
                        break;
                case 2: {
                        uint64_t end = consumed + 1 + arg % 64;
                        if (end > received)
                                end = received;
                        if (end > consumed) {
                                take(&q, &m, end);
                                consumed = end;
                        }
                        break;
                }
                default:
                        take(&q, &m, UINT64_MAX);
                        if (q.n != 0)
                                abort();
                        received = consumed = 0;
                        break;
                }
                if (q.n > SFU_VARLINK_FDS_MAX)
                        abort();
        }
        /* An offset before the last one queued and a negative fd are refused. */
        if (q.n > 0 && q.at[q.n - 1] > 0 && q.n < SFU_VARLINK_FDS_MAX &&
            sfu_varlink_fds_push(&q, 0, q.at[q.n - 1] - 1) != -EINVAL)
                abort();
        if (sfu_varlink_fds_push(&q, -1, UINT64_MAX) != -EINVAL)
                abort();
        take(&q, &m, UINT64_MAX);
        for (int fd = 0; fd < m.next; fd++)
                if (!m.returned[fd])
                        abort(); /* lost: the server would leak it */
        return 0;
}
