/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "core/hex.h"
#include "tap.h"

static void decodes(const char *in, const uint8_t *want, size_t len) {
        uint8_t out[16];

        memset(out, 0x5a, sizeof(out));
        ok(sfu_hex_decode(in, out, len) == 0 && memcmp(out, want, len) == 0 && (len == sizeof(out) || out[len] == 0x5a),
           "decode \"%s\" into %zu bytes, nothing written past them", in, len);
}

static void refused(const char *in, size_t len, const char *why) {
        uint8_t out[16];

        ok(sfu_hex_decode(in, out, len) == -EINVAL, "decode refused: %s", why);
}

int main(void) {
        static const uint8_t bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff };
        uint8_t all[256], back[256];
        char hex[2 * 256 + 1];

        sfu_hex_encode(bytes, sizeof(bytes), hex);
        is_str(hex, "00017f80abcdefff", "encode is lower case");
        memset(hex, 'x', sizeof(hex));
        sfu_hex_encode(bytes, 0, hex);
        ok(hex[0] == 0, "encode of nothing is the empty string");
        sfu_hex_encode(bytes, 1, hex);
        ok(strcmp(hex, "00") == 0 && hex[3] == 'x', "encode writes 2*len+1 bytes, no more");

        for (int i = 0; i < 256; i++)
                all[i] = (uint8_t) i;
        sfu_hex_encode(all, sizeof(all), hex);
        ok(strlen(hex) == 512 && sfu_hex_decode(hex, back, sizeof(back)) == 0 && memcmp(all, back, 256) == 0,
           "all 256 byte values survive encode and decode");

        decodes("00017f80abcdefff", bytes, sizeof(bytes));
        decodes("00017F80ABCDEFFF", bytes, sizeof(bytes));
        decodes("00017f80AbCdEfFf", bytes, sizeof(bytes));
        decodes("", bytes, 0);

        refused(NULL, 1, "NULL");
        refused("0", 1, "odd length");
        refused("000", 1, "too long");
        refused("00", 2, "too short");
        refused("0g", 1, "g is not hex");
        refused("g0", 1, "g in the high nibble");
        refused(" 0", 1, "space");
        refused("0x", 1, "0x prefix");
        refused("-1", 1, "sign");
        refused("\xc3\xa9", 1, "non-ASCII");
        refused("0:", 1, "character after '9'");
        refused("0@", 1, "character before 'A'");
        refused("0`", 1, "character before 'a'");
        refused("0G", 1, "character after 'F'");
        return tap_done();
}
