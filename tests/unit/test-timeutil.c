/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "core/timeutil.h"
#include "core/units.h"
#include "tap.h"

#define SENTINEL INT64_C(-4242)

static void rfc3339(const char *s, int64_t want) {
        int64_t t = SENTINEL;
        int r = sfu_time_parse_rfc3339(s, false, &t);

        ok(r == 0 && t == want, "\"%s\" == %" PRId64 " (r=%d, got %" PRId64 ")", s, want, r, t);
}

static void rfc3339_refused(const char *s, const char *why) {
        int64_t t = SENTINEL, t2 = SENTINEL;
        int r = sfu_time_parse_rfc3339(s, false, &t);
        int r2 = sfu_time_parse_rfc3339(s, true, &t2);

        ok(r < 0 && r2 < 0 && t == SENTINEL && t2 == SENTINEL, "\"%s\" refused: %s (r=%d, %d)", s, why, r, r2);
}

static void duration(const char *s, uint64_t want) {
        uint64_t u = 4242;
        int r = sfu_units_parse_duration(s, &u);

        ok(r == 0 && u == want, "duration \"%s\" == %" PRIu64 " usec (r=%d, got %" PRIu64 ")", s, want, r, u);
}

static void duration_refused(const char *s, int want_r) {
        uint64_t u = 4242;
        int r = sfu_units_parse_duration(s, &u);

        ok(r == want_r && u == 4242, "duration \"%s\" refused with %d (got %d)", s ? s : "(null)", want_r, r);
}

static void size(const char *s, uint64_t want) {
        uint64_t b = 4242;
        int r = sfu_units_parse_size(s, &b);

        ok(r == 0 && b == want, "size \"%s\" == %" PRIu64 " (r=%d, got %" PRIu64 ")", s, want, r, b);
}

static void size_refused(const char *s, int want_r) {
        uint64_t b = 4242;
        int r = sfu_units_parse_size(s, &b);

        ok(r == want_r && b == 4242, "size \"%s\" refused with %d (got %d)", s ? s : "(null)", want_r, r);
}

/* The parser against libc's timegm() over many dates, and the formatter
 * back. */
static void cross_check_timegm(void) {
        unsigned mismatches = 0, checked = 0;
        char text[64], buf[32];

        for (int64_t t = -INT64_C(62135596800); t < INT64_C(253402300799); t += INT64_C(86399) * 97 + 13) {
                time_t tt = (time_t) t;
                struct tm tm;
                int64_t parsed;

                if (!gmtime_r(&tt, &tm))
                        continue;
                snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
                checked++;
                if (sfu_time_parse_rfc3339(text, false, &parsed) < 0 || parsed != t ||
                    strcmp(sfu_time_format_rfc3339(t, buf), text) != 0) {
                        if (mismatches++ < 5)
                                tap_diag("mismatch at %" PRId64 ": %s vs %s", t, text, buf);
                }
        }
        ok(checked > 20000 && mismatches == 0, "%u dates from year 1 to 9999 agree with gmtime_r (%u mismatches)",
           checked, mismatches);
}

int main(void) {
        char buf[32];
        int64_t t = SENTINEL;

        /* RFC 3339 */
        rfc3339("1970-01-01T00:00:00Z", 0);
        rfc3339("2026-11-20T15:12:15Z", INT64_C(1795187535));
        rfc3339("2026-11-20t15:12:15z", INT64_C(1795187535));
        rfc3339("2026-11-20T16:12:15+01:00", INT64_C(1795187535));
        rfc3339("2026-11-20T10:42:15-04:30", INT64_C(1795187535));
        rfc3339("2026-11-20T15:12:15-00:00", INT64_C(1795187535));
        rfc3339("2026-11-20T15:12:15.999999999Z", INT64_C(1795187535));
        rfc3339("2026-11-20T15:12:15.1+00:00", INT64_C(1795187535));
        rfc3339("1969-12-31T23:59:59Z", -1);
        rfc3339("2000-02-29T00:00:00Z", INT64_C(951782400));
        rfc3339("2024-02-29T12:00:00Z", INT64_C(1709208000));
        rfc3339("1990-12-31T23:59:60Z", INT64_C(662688000));   /* leap second = next minute */
        rfc3339("0000-01-01T00:00:00Z", -INT64_C(62167219200));
        rfc3339("9999-12-31T23:59:59Z", INT64_C(253402300799));
        rfc3339("2026-01-01T00:00:00+23:59", INT64_C(1767225600) - 86340);

        rfc3339_refused(NULL, "NULL");
        rfc3339_refused("", "empty");
        rfc3339_refused("2026-11-20 15:12:15Z", "space instead of T");
        rfc3339_refused("2026-11-20T15:12:15", "no offset");
        rfc3339_refused("2026-11-20T15:12Z", "no seconds");
        rfc3339_refused("2026-11-20T15:12:15.Z", "empty fraction");
        rfc3339_refused("2026-11-20T15:12:15,5Z", "comma fraction");
        rfc3339_refused("2026-11-20T15:12:15+0100", "offset without colon");
        rfc3339_refused("2026-11-20T15:12:15+01", "short offset");
        rfc3339_refused("2026-11-20T15:12:15+24:00", "offset hour 24");
        rfc3339_refused("2026-11-20T15:12:15+01:60", "offset minute 60");
        rfc3339_refused("2026-11-20T15:12:15ZZ", "trailing garbage");
        rfc3339_refused("2026-11-20T15:12:15Z ", "trailing space");
        rfc3339_refused(" 2026-11-20T15:12:15Z", "leading space");
        rfc3339_refused("2026-13-20T15:12:15Z", "month 13");
        rfc3339_refused("2026-00-20T15:12:15Z", "month 0");
        rfc3339_refused("2026-11-00T15:12:15Z", "day 0");
        rfc3339_refused("2026-11-31T15:12:15Z", "November 31");
        rfc3339_refused("2026-02-29T15:12:15Z", "February 29 of a common year");
        rfc3339_refused("1900-02-29T15:12:15Z", "February 29 of 1900 (not a leap year)");
        rfc3339_refused("2026-11-20T24:00:00Z", "hour 24");
        rfc3339_refused("2026-11-20T23:60:00Z", "minute 60");
        rfc3339_refused("2026-11-20T23:59:61Z", "second 61");
        rfc3339_refused("26-11-20T15:12:15Z", "two-digit year");
        rfc3339_refused("+2026-11-20T15:12:15Z", "signed year");
        rfc3339_refused("2026-1-20T15:12:15Z", "one-digit month");
        rfc3339_refused("2026-11-20T5:12:15Z", "one-digit hour");
        rfc3339_refused("2026/11/20T15:12:15Z", "slashes");
        rfc3339_refused("2026-11-20T15:12:15 +01:00", "space before offset");
        rfc3339_refused("2026-11-20T15:12:15.5.5Z", "two fractions");
        rfc3339_refused("2026-11-20T15:12:15\xd9\xa1Z", "non-ASCII digit");

        ok(sfu_time_parse_rfc3339("2026-11-20", false, &t) < 0 && t == SENTINEL,
           "date only refused unless allowed");
        ok(sfu_time_parse_rfc3339("2026-11-20", true, &t) == 0 && t == INT64_C(1795132800),
           "date only allowed means midnight UTC (%" PRId64 ")", t);
        t = SENTINEL;
        ok(sfu_time_parse_rfc3339("2026-02-30", true, &t) < 0 && t == SENTINEL, "date only still validated");
        ok(sfu_time_parse_rfc3339("2026-11-20T", true, &t) < 0 && t == SENTINEL, "date with a bare T refused");

        is_str(sfu_time_format_rfc3339(0, buf), "1970-01-01T00:00:00Z", "format epoch");
        is_str(sfu_time_format_rfc3339(INT64_C(1795187535), buf), "2026-11-20T15:12:15Z", "format 2026");
        is_str(sfu_time_format_rfc3339(-1, buf), "1969-12-31T23:59:59Z", "format -1");
        is_str(sfu_time_format_rfc3339(INT64_C(951782400), buf), "2000-02-29T00:00:00Z", "format leap day");
        sfu_time_format_rfc3339(INT64_MAX, buf);
        ok(strlen(buf) < 32 && buf[strlen(buf) - 1] == 'Z', "format INT64_MAX fits (%s)", buf);
        sfu_time_format_rfc3339(INT64_MIN, buf);
        ok(strlen(buf) < 32 && buf[strlen(buf) - 1] == 'Z', "format INT64_MIN fits (%s)", buf);
        cross_check_timegm();

        /* durations */
        duration("0", 0);
        duration("0s", 0);
        duration("30s", UINT64_C(30000000));
        duration("15m", UINT64_C(900000000));
        duration("6h", UINT64_C(21600000000));
        duration("1d", UINT64_C(86400000000));
        duration("365d", UINT64_C(31536000000000));
        duration("18446744073709s", UINT64_C(18446744073709000000));
        duration_refused(NULL, -EINVAL);
        duration_refused("", -EINVAL);
        duration_refused("30", -EINVAL);
        duration_refused("s", -EINVAL);
        duration_refused("30x", -EINVAL);
        duration_refused("30S", -EINVAL);
        duration_refused("30 s", -EINVAL);
        duration_refused(" 30s", -EINVAL);
        duration_refused("-1s", -EINVAL);
        duration_refused("+1s", -EINVAL);
        duration_refused("1.5h", -EINVAL);
        duration_refused("30ss", -EINVAL);
        duration_refused("1h30m", -EINVAL);
        duration_refused("18446744073710s", -ERANGE);
        duration_refused("213503982335d", -ERANGE);
        duration_refused("99999999999999999999s", -ERANGE);

        /* sizes */
        size("0", 0);
        size("512", 512);
        size("512K", UINT64_C(524288));
        size("64M", UINT64_C(67108864));
        size("4G", UINT64_C(4294967296));
        size("1T", UINT64_C(1099511627776));
        size("18446744073709551615", UINT64_MAX);
        size("16777215T", UINT64_C(16777215) << 40);
        size_refused(NULL, -EINVAL);
        size_refused("", -EINVAL);
        size_refused("K", -EINVAL);
        size_refused("1k", -EINVAL);
        size_refused("1KB", -EINVAL);
        size_refused("1P", -EINVAL);
        size_refused("-1", -EINVAL);
        size_refused(" 1", -EINVAL);
        size_refused("1 ", -EINVAL);
        size_refused("1.5M", -EINVAL);
        size_refused("0x10", -EINVAL);
        size_refused("18446744073709551616", -ERANGE);
        size_refused("16777216T", -ERANGE);
        size_refused("17179869184G", -ERANGE);

        return tap_done();
}
