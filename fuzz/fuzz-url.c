/* SPDX-License-Identifier: MIT */
/* URL handling of untrusted input: a DHCP domain (from lease files or the
 * network) and a manifest's firmwareLocation resolved against the URL it
 * came from. Input: "base\nreference\ndomain". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *buf = malloc(size + 1), *parts[3] = { NULL, NULL, NULL }, *save = NULL, *resolved = NULL,
             *expanded = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        size_t n = 0;

        if (!buf)
                return 0;
        memcpy(buf, data, size);
        buf[size] = 0;
        for (char *tok = strtok_r(buf, "\n", &save); tok && n < 3; tok = strtok_r(NULL, "\n", &save))
                parts[n++] = tok;
        if (n >= 2 && sfu_url_resolve(parts[0], parts[1], &resolved, &err) == 0) {
                if (!sfu_url_scheme_allowed(resolved))
                        abort(); /* a resolved location is always http(s) */
                free(resolved);
        }
        if (n >= 3) {
                bool valid = sfu_url_domain_valid(parts[2]);
                sfu_err_clear(&err);
                int r = sfu_url_expand_template("http://_firmware.{domain}/x/{manufacturer}/{model}", parts[2],
                                                "example.com", "gw100", &expanded, &err);
                if (r == 0 && !valid)
                        abort(); /* an invalid domain must never reach a URL */
                free(expanded);
        }
        free(buf);
        return 0;
}
