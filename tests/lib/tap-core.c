/* SPDX-License-Identifier: MIT */
/* The helpers of tap.h that use the core library (a file of its own in
 * libsfutap.a: only the programs that call them link that code). */
#include <stdio.h>
#include <stdlib.h>

#include "core/hex.h"
#include "core/key.h"
#include "tap.h"

struct sfu_key *tap_load_key(const char *name, bool want_private) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_key *key = NULL;

        if (sfu_key_load_file(tap_data(name), want_private, &key, &err) < 0) {
                printf("Bail out! cannot load %s: %s\n", name, err.message);
                exit(1);
        }
        return key;
}

char *tap_hex(const uint8_t *p, size_t len) {
        char *s = malloc(2 * len + 1);

        if (!s)
                abort();
        sfu_hex_encode(p, len, s);
        return s;
}
