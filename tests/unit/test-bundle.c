/* SPDX-License-Identifier: MIT */
/* core/bundle.c: the header byte for byte (doc/bundle.md), every refusal
 * with its reason, the prefix a reader wants however the bytes arrive,
 * and the images' sizes against the header. */
#include <string.h>

#include "core/bundle.h"
#include "tap.h"

/* A header as doc/bundle.md draws it, written here byte by byte. */
static void header(uint8_t out[24], unsigned version, unsigned hlen, uint32_t m, uint64_t t) {
        memcpy(out, "\x89SFU\r\n\x1a\n", 8);
        out[8] = (uint8_t) (version >> 8);
        out[9] = (uint8_t) version;
        out[10] = (uint8_t) (hlen >> 8);
        out[11] = (uint8_t) hlen;
        for (int i = 0; i < 4; i++)
                out[12 + i] = (uint8_t) (m >> (24 - 8 * i));
        for (int i = 0; i < 8; i++)
                out[16 + i] = (uint8_t) (t >> (56 - 8 * i));
}

static void refused(const uint8_t *buf, size_t len, const char *reason, const char *what) {
        struct sfu_bundle_header h;
        struct sfu_err err = SFU_ERR_INIT;
        int r = sfu_bundle_parse_header(buf, len, &h, &err);

        ok(r < 0 && strstr(err.message, reason) != NULL, "refused: %s (%s)", what, err.message);
}

static void check_sizes(void) {
        struct sfu_manifest m = { .n_images = 2 };
        struct sfu_bundle_header h = { .manifest_len = 100, .images_len = 30 };
        struct sfu_err err = SFU_ERR_INIT;
        uint64_t offsets[SFU_MANIFEST_MAX_IMAGES];
        char rootfs[] = "rootfs", boot[] = "boot";

        m.images[0] = (struct sfu_manifest_image) { .name = rootfs, .size = 10, .has_size = true };
        m.images[1] = (struct sfu_manifest_image) { .name = boot, .size = 20, .has_size = true };
        ok(sfu_bundle_check(&h, &m, offsets, &err) == 0 && offsets[0] == 124 && offsets[1] == 134,
           "two images: at 24 + M and right after the first");
        h.images_len = 31;
        sfu_err_clear(&err);
        ok(sfu_bundle_check(&h, &m, offsets, &err) < 0 && strstr(err.message, "says 31 image bytes, its manifest 30"),
           "the header's T must be the images' sum (%s)", err.message);
        h.images_len = 29;
        sfu_err_clear(&err);
        ok(sfu_bundle_check(&h, &m, offsets, &err) < 0, "nor less than it");
        m.images[1].has_size = false;
        h.images_len = 30;
        sfu_err_clear(&err);
        ok(sfu_bundle_check(&h, &m, offsets, &err) < 0 && strstr(err.message, "\"boot\" has no size"),
           "every image needs its size (%s)", err.message);
        m.images[1] = (struct sfu_manifest_image) { .name = boot, .size = UINT64_MAX - 5, .has_size = true };
        sfu_err_clear(&err);
        ok(sfu_bundle_check(&h, &m, offsets, &err) < 0 && strstr(err.message, "overflow"),
           "sizes that overflow are refused (%s)", err.message);
}

static void prefix(void) {
        uint8_t b[40];
        char *c = (char *) b;

        header(b, 1, 24, 1000, 5);
        memset(b + 24, 'x', 16);
        is_int(sfu_bundle_prefix_limit(NULL, 0, c, 40), 1024, "whole header in one block: 24 + M");
        is_int(sfu_bundle_prefix_limit(NULL, 0, c, 5), 0, "five bytes: not known yet");
        is_int(sfu_bundle_prefix_limit(NULL, 0, c, 23), 0, "23 bytes: not known yet");
        is_int(sfu_bundle_prefix_limit(c, 7, c + 7, 17), 1024, "header split at byte 7");
        is_int(sfu_bundle_prefix_limit(c, 30, c + 30, 10), 1024, "asked again later: the same answer");
        is_int(sfu_bundle_prefix_limit(NULL, 0, "eyJhbGciOiJFUzI1NiJ9.eyJ4IjoxfQ.AAAA", 36), 0,
               "a compact JWS: no limit");
        header(b, 2, 24, 1000, 5);
        is_int(sfu_bundle_prefix_limit(NULL, 0, c, 24), 24, "a malformed header: the header only, for the parser");
}

int main(void) {
        uint8_t b[24], w[24];
        struct sfu_bundle_header h;
        struct sfu_err err = SFU_ERR_INIT;

        header(b, 1, 24, 1234, 0x0102030405060708ull);
        ok(sfu_bundle_is(b, 24) && sfu_bundle_is(b, 8) && !sfu_bundle_is(b, 7), "the magic is the first 8 bytes");
        ok(sfu_bundle_parse_header(b, 24, &h, &err) == 0 && h.manifest_len == 1234 &&
                   h.images_len == 0x0102030405060708ull,
           "a header parses, integers big-endian");
        is_int(sfu_bundle_length(&h), 24 + 1234 + 0x0102030405060708ull, "length 24 + M + T");
        sfu_bundle_write_header(&h, w);
        ok(memcmp(b, w, 24) == 0, "written back byte for byte");
        header(b, 1, 24, 1, 0);
        ok(sfu_bundle_parse_header(b, 24, &h, &err) == 0, "M = 1, T = 0 parse");
        header(b, 1, 24, 4u * 1024 * 1024, 0);
        ok(sfu_bundle_parse_header(b, 24, &h, &err) == 0, "M = 4 MiB parses");

        header(b, 1, 24, 100, 0);
        refused(b, 23, "truncated: 23 of 24", "23 bytes");
        refused(b, 3, "magic is missing", "3 bytes");
        b[3] = 'V';
        refused(b, 24, "magic is missing", "another magic");
        header(b, 2, 24, 100, 0);
        refused(b, 24, "version 2 is not supported", "version 2");
        header(b, 0, 24, 100, 0);
        refused(b, 24, "version 0 is not supported", "version 0");
        header(b, 1, 32, 100, 0);
        refused(b, 24, "header length is 32", "header length 32");
        header(b, 1, 24, 0, 0);
        refused(b, 24, "length 0 is outside", "M = 0");
        header(b, 1, 24, 4u * 1024 * 1024 + 1, 0);
        refused(b, 24, "is outside 1..", "M beyond 4 MiB");
        header(b, 1, 24, 100, UINT64_MAX - 123);
        refused(b, 24, "impossible", "24 + M + T beyond 2^64");

        check_sizes();
        prefix();
        return tap_done();
}
