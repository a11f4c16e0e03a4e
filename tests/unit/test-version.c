/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "core/version.h"
#include "tap.h"

static void parses(const char *s, uint32_t major, uint32_t minor, uint32_t revision) {
        struct sfu_version v = { 7, 7, 7 };
        int r = sfu_version_parse(s, &v);

        ok(r == 0 && v.major == major && v.minor == minor && v.revision == revision,
           "\"%s\" parses as %u.%u.%u (r=%d, got %u.%u.%u)", s, major, minor, revision, r, v.major, v.minor,
           v.revision);
}

static void refused(const char *s, const char *why) {
        struct sfu_version v = { 7, 7, 7 };
        int r = sfu_version_parse(s, &v);

        ok(r < 0 && v.major == 7 && v.minor == 7 && v.revision == 7, "version refused: %s, output untouched (r=%d)",
           why, r);
}

static void compares(const char *a, const char *b, int want) {
        struct sfu_version va, vb;
        int ra = sfu_version_parse(a, &va), rb = sfu_version_parse(b, &vb);
        int got = ra == 0 && rb == 0 ? sfu_version_compare(&va, &vb) : 99;
        int back = ra == 0 && rb == 0 ? sfu_version_compare(&vb, &va) : 99;

        ok(got == want && back == -want, "compare(%s, %s) == %d and reverse == %d (got %d, %d)", a, b, want,
           -want, got, back);
}

int main(void) {
        char buf[SFU_VERSION_STRING_MAX];
        struct sfu_version v;

        parses("0.0.0", 0, 0, 0);
        parses("1.2.3", 1, 2, 3);
        parses("10.4.12", 10, 4, 12);
        parses("999999999.999999999.999999999", 999999999, 999999999, 999999999);
        parses("100.0.1", 100, 0, 1);

        refused(NULL, "NULL");
        refused("", "empty");
        refused("1.2", "two numbers");
        refused("1", "one number");
        refused("1.2.3.4", "four numbers");
        refused("01.2.3", "leading zero in major");
        refused("1.02.3", "leading zero in minor");
        refused("1.2.03", "leading zero in revision");
        refused("1.2.00", "double zero");
        refused("1234567890.0.0", "ten digits");
        refused("0.0.1000000000", "ten digits in revision");
        refused("-1.0.0", "sign");
        refused("+1.0.0", "plus sign");
        refused(" 1.0.0", "leading space");
        refused("1.0.0 ", "trailing space");
        refused("1.0.0\n", "trailing newline");
        refused("1..0", "empty component");
        refused(".1.0", "empty major");
        refused("1.0.", "empty revision");
        refused("1.0.0.", "trailing dot");
        refused("v1.0.0", "prefix");
        refused("1.0.0-rc1", "suffix");
        refused("1.0.0a", "letter");
        refused("1,0,0", "commas");
        refused("1.0x1.0", "hex");
        refused("\xd9\xa1.0.0", "Arabic-Indic digit");
        refused("4294967297.0.0", "wraps uint32");

        compares("1.0.0", "1.0.0", 0);
        compares("1.0.0", "1.0.1", -1);
        compares("1.0.9", "1.0.10", -1);   /* numeric, not lexical */
        compares("1.9.0", "1.10.0", -1);
        compares("9.0.0", "10.0.0", -1);
        compares("2.0.0", "1.999999999.999999999", 1);
        compares("0.0.0", "999999999.999999999.999999999", -1);
        compares("1.2.3", "1.3.0", -1);

        ok(sfu_version_parse("10.4.12", &v) == 0, "parse 10.4.12");
        is_str(sfu_version_format(&v, buf), "10.4.12", "format round trip");
        v = (struct sfu_version) { 999999999, 999999999, 999999999 };
        is_str(sfu_version_format(&v, buf), "999999999.999999999.999999999", "format of the largest");
        /* only a hand-made struct can exceed 9 digits; it is cut short, terminated */
        v = (struct sfu_version) { 4294967295u, 4294967295u, 4294967295u };
        sfu_version_format(&v, buf);
        ok(strlen(buf) == SFU_VERSION_STRING_MAX - 1 && strncmp(buf, "4294967295.4294967295.", 22) == 0,
           "format of out-of-range values stays inside the buffer (%s)", buf);

        return tap_done();
}
