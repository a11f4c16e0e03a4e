/* SPDX-License-Identifier: MIT */
/* The multipart/byteranges parser (core/multipart.c): a delta download
 * reads it from an untrusted server.  The first byte picks how the rest is
 * cut into feeds; the boundary is fixed ("B0UND", what the corpus uses).
 * Every accepted part delivers exactly its range's length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
        uint64_t want, got;
        bool in_part;
};

static int part(void *userdata, uint64_t start, uint64_t end, uint64_t total, struct sfu_err *err) {
        struct seen *s = userdata;
        if (s->in_part && s->got != s->want)
                abort(); /* the previous part ended early */
        if (start > end)
                abort();
        s->want = end - start + 1;
        s->got = 0;
        s->in_part = true;
        return 0;
}

static int data_cb(void *userdata, const uint8_t *buf, size_t len, struct sfu_err *err) {
        struct seen *s = userdata;
        if (!s->in_part || s->got + len > s->want)
                abort();
        s->got += len;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const struct sfu_multipart_callbacks cb = { part, data_cb };
        struct sfu_multipart p;
        struct sfu_err err = SFU_ERR_INIT;
        struct seen s = {};
        size_t step;

        if (size < 1)
                return 0;
        step = (size_t) data[0] + 1;
        data++;
        size--;
        if (sfu_multipart_init(&p, "B0UND", &cb, &s) < 0)
                abort();
        for (size_t off = 0; off < size; off += step)
                if (sfu_multipart_feed(&p, data + off, size - off < step ? size - off : step, &err) < 0)
                        return 0;
        if (sfu_multipart_finish(&p, &err) == 0 && s.in_part && s.got != s.want)
                abort(); /* accepted with a short last part */
        return 0;
}
