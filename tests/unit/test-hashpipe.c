/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "io/hashpipe.h"
#include "tap.h"

struct sink_log {
        uint8_t *copy;          /* what the sink received, by offset */
        size_t size;
        uint64_t next;          /* next expected offset */
        bool contiguous;
        unsigned calls;
        int fail_at_call;       /* 0: never */
};

static int sink(void *userdata, uint64_t offset, const void *buf, size_t len, struct sfu_err *err) {
        struct sink_log *log = userdata;
        log->calls++;
        if (log->fail_at_call && (int) log->calls == log->fail_at_call)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOSPC, "disk full");
        if (offset != log->next)
                log->contiguous = false;
        if (offset + len <= log->size)
                memcpy(log->copy + offset, buf, len);
        log->next = offset + len;
        return 0;
}

static void reference(const uint8_t *data, size_t len, unsigned mask, uint8_t out[][SFU_DIGEST_MAX_SIZE]) {
        struct sfu_digest_set *set = NULL;
        if (sfu_digest_set_new(mask, &set) < 0 || sfu_digest_set_update(set, data, len) < 0 ||
            sfu_digest_set_final(set) < 0)
                abort();
        for (int alg = 0; alg < _SFU_DIGEST_MAX; alg++)
                if (mask & SFU_DIGEST_MASK(alg) && sfu_digest_set_get(set, alg, out[alg]) < 0)
                        abort();
        sfu_digest_set_free(set);
}

static bool same_digests(struct sfu_hashpipe *p, unsigned mask, uint8_t want[][SFU_DIGEST_MAX_SIZE]) {
        for (int alg = 0; alg < _SFU_DIGEST_MAX; alg++) {
                uint8_t got[SFU_DIGEST_MAX_SIZE];
                if (!(mask & SFU_DIGEST_MASK(alg)))
                        continue;
                if (sfu_hashpipe_get(p, alg, got) < 0 || memcmp(got, want[alg], sfu_digest_size(alg)) != 0)
                        return false;
        }
        return true;
}

static void free_null_hashpipe(void) {
        sfu_hashpipe_free(NULL);
}

int main(void) {
        const size_t size = 5 * SFU_HASHPIPE_BLOCK_SIZE * SFU_HASHPIPE_BLOCKS / 2 + 12345;
        uint8_t *data = malloc(size);
        uint8_t want[_SFU_DIGEST_MAX][SFU_DIGEST_MAX_SIZE];
        unsigned mask = SFU_DIGEST_MASK(SFU_DIGEST_SHA256) | SFU_DIGEST_MASK(SFU_DIGEST_SHA512);
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_hashpipe *p = NULL;
        struct sink_log log = { .copy = calloc(1, size), .size = size, .contiguous = true };
        uint32_t x = 12345;

        for (size_t i = 0; i < size; i++) {
                x = x * 1103515245u + 12345u;
                data[i] = (uint8_t) (x >> 16);
        }
        reference(data, size, mask | SFU_DIGEST_MASK(SFU_DIGEST_SHA384), want);

        ok(sfu_hashpipe_new(0, &p) == -EINVAL, "an empty digest mask is refused");
        ok(sfu_hashpipe_new(mask, &p) == 0, "pipeline with sha256 + sha512");
        ok(sfu_hashpipe_set_sink(p, sink, &log, &err) == 0, "sink set");
        /* odd chunk sizes, as a network delivers them */
        size_t off = 0, chunk = 1;
        bool fed = true;
        while (off < size) {
                size_t n = chunk < size - off ? chunk : size - off;
                if (sfu_hashpipe_feed(p, data + off, n, &err) < 0)
                        fed = false;
                off += n;
                chunk = chunk * 7 % 99991 + 1;
        }
        ok(fed, "all chunks fed");
        is_int(sfu_hashpipe_offset(p), size, "offset counts every byte");
        ok(sfu_hashpipe_sunk(p) <= size, "sunk never passes the offset");
        ok(sfu_hashpipe_finish(p, &err) == 0, "finish");
        ok(same_digests(p, mask, want), "digests equal a one-pass computation");
        uint8_t unused[SFU_DIGEST_MAX_SIZE];
        ok(sfu_hashpipe_get(p, SFU_DIGEST_SHA384, unused) == -ENOENT, "an algorithm not in the mask is not there");
        ok(log.contiguous && log.next == size, "sink saw contiguous offsets up to the end");
        ok(memcmp(log.copy, data, size) == 0, "sink got every byte in order");
        ok(log.calls >= size / SFU_HASHPIPE_BLOCK_SIZE, "sink called per block (%u calls)", log.calls);

        /* reset and re-hash: a resume re-reads the first part without the sink */
        ok(sfu_hashpipe_reset(p) == 0, "reset");
        is_int(sfu_hashpipe_offset(p), 0, "offset back to 0");
        ok(sfu_hashpipe_set_sink(p, NULL, NULL, &err) == 0, "no sink for the re-read part");
        size_t first = 3 * SFU_HASHPIPE_BLOCK_SIZE + 777;
        ok(sfu_hashpipe_feed(p, data, first, &err) == 0, "re-read part fed");
        free(log.copy);
        memset(&log, 0, sizeof(log));
        log.copy = calloc(1, size);
        log.size = size;
        log.contiguous = true;
        log.next = first;
        ok(sfu_hashpipe_set_sink(p, sink, &log, &err) == 0, "sink back on");
        is_int(sfu_hashpipe_sunk(p), first, "the re-read part counts as sunk");
        ok(sfu_hashpipe_feed(p, data + first, size - first, &err) == 0, "the rest fed");
        ok(sfu_hashpipe_finish(p, &err) == 0, "finish after resume");
        ok(same_digests(p, mask, want), "digests over re-read + new bytes are right");
        ok(log.contiguous && log.next == size, "sink saw only the new part, from the resume offset");
        ok(memcmp(log.copy + first, data + first, size - first) == 0, "sink bytes right after resume");
        ok(sfu_hashpipe_feed(p, data, 1, &err) == -EALREADY, "feeding a finished pipeline is refused");
        sfu_hashpipe_free(p);
        free(log.copy);

        /* the keyed check value sees exactly the bytes the digests saw,
         * also across a reset (a resume that starts over) */
        {
                struct sfu_mac *mac = NULL, *ref = NULL;
                uint8_t got[SFU_MAC_SIZE], expect[SFU_MAC_SIZE];
                p = NULL;
                ok(sfu_hashpipe_new(mask, &p) == 0 && sfu_mac_new(&mac) == 0, "pipeline and check value");
                ok(sfu_hashpipe_set_mac(p, mac) == 0, "check value attached before the first byte");
                ok(sfu_hashpipe_feed(p, data + 5, 100000, &err) == 0, "some other bytes fed");
                ok(sfu_hashpipe_set_mac(p, mac) == -EBUSY, "attaching after bytes were fed is refused");
                ok(sfu_hashpipe_reset(p) == 0, "reset");
                ok(sfu_hashpipe_feed(p, data, size, &err) == 0 && sfu_hashpipe_finish(p, &err) == 0,
                   "the image fed after the reset");
                ok(same_digests(p, mask, want), "digests right");
                ok(sfu_mac_final(mac, got) == 0, "check value finished");
                ok(sfu_mac_new_same_key(mac, &ref) == 0 && sfu_mac_update(ref, data, size) == 0 &&
                   sfu_mac_final(ref, expect) == 0, "the same key over the image in one piece");
                ok(memcmp(got, expect, SFU_MAC_SIZE) == 0, "the pipeline's check value is that of the image alone");
                sfu_hashpipe_free(p);
                sfu_mac_free(mac);
                sfu_mac_free(ref);
        }

        /* a failing sink stops the feed with its reason */
        p = NULL;
        ok(sfu_hashpipe_new(SFU_DIGEST_MASK(SFU_DIGEST_SHA256), &p) == 0, "single-digest pipeline");
        memset(&log, 0, sizeof(log));
        log.fail_at_call = 2;
        log.contiguous = true;
        sfu_err_clear(&err);
        ok(sfu_hashpipe_set_sink(p, sink, &log, &err) == 0, "sink set");
        ok(sfu_hashpipe_feed(p, data, size, &err) == -ENOSPC && strstr(err.message, "disk full"),
           "sink failure returned: %s", err.message);
        sfu_hashpipe_free(p);
        ok(tap_survives(free_null_hashpipe), "free accepts NULL");
        free(data);
        return tap_done();
}
