/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>

#include "core/b64url.h"

static const char alphabet[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Value of one symbol, or -1 for anything outside the alphabet. */
static int symbol_value(unsigned char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '-')
                return 62;
        if (c == '_')
                return 63;
        return -1;
}

char *sfu_b64url_encode(const uint8_t *in, size_t len) {
        size_t out_len, o = 0, i = 0;
        char *out;

        if (len > (SIZE_MAX - 4) / 4 * 3)
                return NULL;
        out_len = len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
        out = malloc(out_len + 1);
        if (!out)
                return NULL;

        for (; i + 3 <= len; i += 3) {
                uint32_t v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];
                out[o++] = alphabet[(v >> 18) & 63];
                out[o++] = alphabet[(v >> 12) & 63];
                out[o++] = alphabet[(v >> 6) & 63];
                out[o++] = alphabet[v & 63];
        }
        if (len - i == 1) {
                uint32_t v = (uint32_t) in[i] << 16;
                out[o++] = alphabet[(v >> 18) & 63];
                out[o++] = alphabet[(v >> 12) & 63];
        } else if (len - i == 2) {
                uint32_t v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8;
                out[o++] = alphabet[(v >> 18) & 63];
                out[o++] = alphabet[(v >> 12) & 63];
                out[o++] = alphabet[(v >> 6) & 63];
        }
        out[o] = 0;
        return out;
}

int sfu_b64url_decode(const char *in, size_t len, uint8_t **ret, size_t *ret_len) {
        size_t out_len, o = 0, i = 0;
        uint8_t *out;

        if (!in && len > 0)
                return -EINVAL;
        /* 1 symbol carries only 6 bits: never a whole byte. */
        if (len % 4 == 1)
                return -EINVAL;
        for (size_t k = 0; k < len; k++)
                if (symbol_value((unsigned char) in[k]) < 0)
                        return -EINVAL;

        out_len = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
        out = malloc(out_len + 1);
        if (!out)
                return -ENOMEM;

        for (; i + 4 <= len; i += 4) {
                uint32_t v = (uint32_t) symbol_value((unsigned char) in[i]) << 18 |
                             (uint32_t) symbol_value((unsigned char) in[i + 1]) << 12 |
                             (uint32_t) symbol_value((unsigned char) in[i + 2]) << 6 |
                             (uint32_t) symbol_value((unsigned char) in[i + 3]);
                out[o++] = (uint8_t) (v >> 16);
                out[o++] = (uint8_t) (v >> 8);
                out[o++] = (uint8_t) v;
        }
        if (len - i == 2) {
                uint32_t v = (uint32_t) symbol_value((unsigned char) in[i]) << 18 |
                             (uint32_t) symbol_value((unsigned char) in[i + 1]) << 12;
                /* The last symbol's low 4 bits fall outside the data. */
                if (v & 0xffffu)
                        goto noncanonical;
                out[o++] = (uint8_t) (v >> 16);
        } else if (len - i == 3) {
                uint32_t v = (uint32_t) symbol_value((unsigned char) in[i]) << 18 |
                             (uint32_t) symbol_value((unsigned char) in[i + 1]) << 12 |
                             (uint32_t) symbol_value((unsigned char) in[i + 2]) << 6;
                /* The last symbol's low 2 bits fall outside the data. */
                if (v & 0xffu)
                        goto noncanonical;
                out[o++] = (uint8_t) (v >> 16);
                out[o++] = (uint8_t) (v >> 8);
        }
        out[o] = 0;
        *ret = out;
        if (ret_len)
                *ret_len = o;
        return 0;

noncanonical:
        sfu_wipe(out, out_len + 1);
        free(out);
        return -EINVAL;
}
