/* SPDX-License-Identifier: MIT */
#include "core/hex.h"

void sfu_hex_encode(const uint8_t *in, size_t len, char *out) {
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < len; i++) {
                out[2 * i] = digits[in[i] >> 4];
                out[2 * i + 1] = digits[in[i] & 15];
        }
        out[2 * len] = 0;
}

static int nibble(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int sfu_hex_decode(const char *in, uint8_t *out, size_t out_len) {
        if (!in || strlen(in) != 2 * out_len)
                return -EINVAL;
        for (size_t i = 0; i < out_len; i++) {
                int hi = nibble(in[2 * i]), lo = nibble(in[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                out[i] = (uint8_t) (hi << 4 | lo);
        }
        return 0;
}
