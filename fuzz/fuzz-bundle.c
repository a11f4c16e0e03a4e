/* SPDX-License-Identifier: MIT */
/* Fuzzes the bundle header (core/bundle.c): the parser refuses with a
 * reason or yields lengths that add up without overflow, writing the
 * parsed header back gives the same 24 bytes, and the prefix a reader
 * wants is the same however the bytes are split into blocks. */
#include <stdlib.h>
#include <string.h>

#include "core/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct sfu_bundle_header h;
        struct sfu_err err = SFU_ERR_INIT;
        size_t whole = sfu_bundle_prefix_limit(NULL, 0, (const char *) data, size);
        int r = sfu_bundle_parse_header(data, size, &h, &err);

        if (r < 0 && !err.message[0])
                abort(); /* a refusal without a reason */
        if (r >= 0) {
                uint8_t back[SFU_BUNDLE_HEADER_SIZE];
                if (h.manifest_len == 0 || h.manifest_len > SFU_BUNDLE_MANIFEST_MAX ||
                    sfu_bundle_length(&h) < h.images_len || whole != SFU_BUNDLE_HEADER_SIZE + h.manifest_len)
                        abort();
                sfu_bundle_write_header(&h, back);
                if (memcmp(back, data, SFU_BUNDLE_HEADER_SIZE) != 0)
                        abort();
        }
        for (size_t split = 0; split <= size && split <= SFU_BUNDLE_HEADER_SIZE + 1; split++)
                if (size >= SFU_BUNDLE_HEADER_SIZE &&
                    sfu_bundle_prefix_limit((const char *) data, split, (const char *) data + split, size - split) != whole)
                        abort();
        return 0;
}
