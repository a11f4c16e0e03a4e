/* SPDX-License-Identifier: MIT */
/* Strict base64url: the RFC 4648 vectors in the URL alphabet, the RFC 7515
 * example, round trips of every byte value, and every kind of refusal. */
#include <string.h>

#include "core/b64url.h"
#include "tap.h"

static void check_encode(const char *in, size_t len, const char *want) {
        char *got = sfu_b64url_encode((const uint8_t *) in, len);
        is_str(got, want, "encode");
        free(got);
}

static void check_decode(const char *in, const char *want, size_t want_len) {
        uint8_t *out = NULL;
        size_t len = 12345;
        int r = sfu_b64url_decode(in, strlen(in), &out, &len);

        ok(r == 0, "decode \"%s\" succeeds (r=%d)", in, r);
        ok(r == 0 && len == want_len && memcmp(out, want, want_len) == 0,
           "decode \"%s\" gives the expected %zu bytes", in, want_len);
        ok(r == 0 && out[len] == 0, "decode \"%s\" is NUL-terminated", in);
        free(out);
}

static void check_refused(const char *in, size_t len, const char *why) {
        uint8_t *out = (uint8_t *) 0x1;
        size_t out_len = 777;
        int r = sfu_b64url_decode(in, len, &out, &out_len);

        is_int(r, -EINVAL, why);
        ok(out == (uint8_t *) 0x1 && out_len == 777, "%s: outputs untouched", why);
}

int main(void) {
        /* RFC 4648 section 10, which has no '+', '/' in its outputs, so
         * the URL alphabet gives the same strings without padding. */
        static const struct {
                const char *plain, *enc;
        } rfc4648[] = {
                {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
                {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
        };
        for (size_t i = 0; i < ELEMENTSOF(rfc4648); i++) {
                check_encode(rfc4648[i].plain, strlen(rfc4648[i].plain), rfc4648[i].enc);
                check_decode(rfc4648[i].enc, rfc4648[i].plain, strlen(rfc4648[i].plain));
        }

        /* The characters that differ from standard base64. */
        check_encode("\xfb\xff", 2, "-_8");
        check_decode("-_8", "\xfb\xff", 2);
        check_encode("\xfb\xef\xbe", 3, "----");
        check_encode("\xff\xff\xff", 3, "____");
        check_decode("____", "\xff\xff\xff", 3);
        check_encode("\0\0\0", 3, "AAAA");
        check_decode("AAAA", "\0\0\0", 3);

        /* RFC 7515 section 3.3: the encoded protected header of A.1. */
        static const uint8_t hdr[] = {123, 34, 116, 121, 112, 34, 58, 34, 74, 87, 84, 34, 44, 13, 10,
                                      32,  34, 97,  108, 103, 34, 58, 34, 72, 83, 50, 53, 54, 34, 125};
        check_encode((const char *) hdr, sizeof(hdr), "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9");
        check_decode("eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9", (const char *) hdr, sizeof(hdr));

        /* Every byte value, every length up to 3 * 256 + 2: encode then
         * decode gives the input back and the length formula holds. */
        {
                uint8_t all[770];
                bool good = true;
                for (size_t i = 0; i < sizeof(all); i++)
                        all[i] = (uint8_t) (i * 7 + 3);
                for (size_t len = 0; len <= sizeof(all); len++) {
                        char *enc = sfu_b64url_encode(all, len);
                        uint8_t *dec = NULL;
                        size_t dec_len = 0;
                        if (!enc || strlen(enc) != (len * 4 + 2) / 3 || strpbrk(enc, "+/=") ||
                            sfu_b64url_decode(enc, strlen(enc), &dec, &dec_len) < 0 || dec_len != len ||
                            memcmp(dec, all, len) != 0)
                                good = false;
                        free(enc);
                        free(dec);
                }
                ok(good, "round trip of 0..770 bytes covering every byte value");
        }

        /* Decoding uses len, not the NUL. */
        check_decode("Zm9vYmFy", "foobar", 6);
        {
                uint8_t *out = NULL;
                size_t len = 0;
                int r = sfu_b64url_decode("Zm9vYmFyXXXX", 8, &out, &len);
                ok(r == 0 && len == 6 && memcmp(out, "foobar", 6) == 0, "decode honours len");
                free(out);
        }

        /* Refusals. */
        check_refused("Zg==", 4, "padding \"==\"");
        check_refused("Zm8=", 4, "padding \"=\"");
        check_refused("Zg=", 3, "padding after 2 symbols");
        check_refused("=", 1, "padding alone");
        check_refused("+_8", 3, "'+' from standard base64");
        check_refused("-/8", 3, "'/' from standard base64");
        check_refused("+/8=", 4, "standard base64 with padding");
        check_refused("Zm9v Yg", 7, "a space");
        check_refused("Zm9v\nYg", 7, "a newline");
        check_refused("Zm9v\r\nYg", 8, "CR LF");
        check_refused("Zm9v\tYg", 7, "a tab");
        check_refused(" Zm9v", 5, "leading space");
        check_refused("Zm9v ", 5, "trailing space");
        check_refused("Zm9v\0Yg", 7, "an embedded NUL");
        check_refused("Zm9v.Yg", 7, "a dot");
        check_refused("Zm9v\xc3\xa9", 6, "non-ASCII bytes");
        check_refused("Zm9v%3D", 7, "percent-encoding");
        check_refused("Z", 1, "length 1");
        check_refused("Zm9vY", 5, "length 5 (1 mod 4)");
        check_refused("Zm9vYmFyZ", 9, "length 9 (1 mod 4)");
        /* Non-canonical: unused low bits set. "f" is "Zg"; "Zh".."Zv"
         * decode to "f" too in lax decoders. */
        check_refused("Zh", 2, "non-zero trailing bits (2 symbols)");
        check_refused("Zv", 2, "non-zero trailing bits, all 4 unused bits set");
        check_refused("Zm9", 3, "non-zero trailing bits (3 symbols)");
        check_refused("Zm9vYm", 6, "a prefix that cuts inside a byte");
        check_refused("__", 2, "\"__\" (0xff plus 4 stray bits)");
        check_refused("_-_", 3, "\"_-_\" (2 stray bits)");
        {
                uint8_t *out = NULL;
                size_t len = 99;
                int r = sfu_b64url_decode("", 0, &out, &len);
                ok(r == 0 && len == 0 && out && out[0] == 0, "the empty string decodes to zero bytes");
                free(out);
        }
        return tap_done();
}
