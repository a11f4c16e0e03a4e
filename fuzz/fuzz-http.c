/* SPDX-License-Identifier: MIT */
/* The HTTP header values secfud parses itself (Content-Range of a resumed
 * download): a server is untrusted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *value = malloc(size + 1);
        uint64_t start, end, total;

        if (!value)
                return 0;
        memcpy(value, data, size);
        value[size] = 0;
        if (sfu_http_parse_content_range(value, &start, &end, &total) == 0 &&
            (start > end || (total != SFU_HTTP_LENGTH_UNKNOWN && end >= total)))
                abort(); /* an accepted range is always consistent */
        free(value);
        return 0;
}
