/* SPDX-License-Identifier: MIT */
/* The zchunk header reader (core/zchunk-index.c).  The device reads only
 * headers whose SHA-256 the signed manifest names, but the reader must
 * not rely on that.  Input: 1 byte picking the chunk size (4 KiB << n%5),
 * 4 bytes of image size and 4 of chunk data size (little endian), then
 * the header.  An accepted index must describe exactly what was asked. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/zchunk-index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct sfu_zchunk_index idx = {};
        struct sfu_err err = SFU_ERR_INIT;
        uint32_t chunk_size;
        uint64_t image_size, file_size, next, total = 0;
        const uint8_t *header;
        size_t len;

        if (size < 9)
                return 0;
        chunk_size = 4096u << (data[0] % 5);
        image_size = le32(data + 1);
        header = data + 9;
        len = size - 9;
        file_size = len + (uint64_t) le32(data + 5);
        if (sfu_zchunk_index_parse_buffer(header, len, chunk_size, image_size, file_size, &idx, &err) < 0) {
                if (!err.message[0])
                        abort(); /* a refusal always says why */
                return 0;
        }
        if (idx.n == 0 || idx.n != (image_size + chunk_size - 1) / chunk_size || idx.chunk_size != chunk_size)
                abort();
        next = len;
        for (size_t i = 0; i < idx.n; i++) {
                const struct sfu_zchunk_chunk *c = &idx.chunks[i];
                if (c->offset != next || c->comp_size == 0 || c->comp_size > idx.max_comp_size ||
                    (i + 1 < idx.n && c->size != chunk_size) || c->size == 0 || c->size > chunk_size)
                        abort();
                next += c->comp_size;
                total += c->size;
        }
        if (next != file_size || total != image_size)
                abort();
        sfu_zchunk_index_free(&idx);
        return 0;
}
