/* SPDX-License-Identifier: MIT */
/* Calendar arithmetic on the proleptic Gregorian calendar, without libc's
 * time zone machinery: days are counted from 1970-01-01 with the usual
 * era (400-year cycle) decomposition. */
#include <inttypes.h>

#include "core/timeutil.h"

#define SECONDS_PER_DAY INT64_C(86400)

static bool is_leap(int64_t year) {
        return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int64_t year, int month) {
        static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

/* Days since 1970-01-01 of year-month-day (month 1..12). */
static int64_t days_from_civil(int64_t year, int month, int day) {
        int64_t era, yoe, doy, doe;

        year -= month <= 2;
        era = (year >= 0 ? year : year - 399) / 400;
        yoe = year - era * 400;                                         /* 0..399 */
        doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1; /* 0..365 */
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                    /* 0..146096 */
        return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t days, int64_t *ret_year, int *ret_month, int *ret_day) {
        int64_t era, doe, yoe, doy, mp, year;
        int month;

        days += 719468;
        era = (days >= 0 ? days : days - 146096) / 146097;
        doe = days - era * 146097;
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        year = yoe + era * 400;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        mp = (5 * doy + 2) / 153;
        *ret_day = (int) (doy - (153 * mp + 2) / 5 + 1);
        month = (int) (mp < 10 ? mp + 3 : mp - 9);
        *ret_month = month;
        *ret_year = year + (month <= 2);
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* Exactly n ASCII digits at s. */
static int fixed_digits(const char *s, size_t n, int *ret) {
        int value = 0;

        for (size_t i = 0; i < n; i++) {
                if (!is_digit(s[i]))
                        return -EINVAL;
                value = value * 10 + (s[i] - '0');
        }
        *ret = value;
        return 0;
}

/* RFC 3339 section 5.6:
 *   full-date  = YYYY "-" MM "-" DD
 *   full-time  = hh ":" mm ":" ss [ "." 1*DIGIT ] ( "Z" / ("+" / "-") hh ":" mm )
 *   date-time  = full-date "T" full-time
 * "T" and "Z" may be lower case (section 5.6, NOTE). */
int sfu_time_parse_rfc3339(const char *s, bool allow_date_only, int64_t *ret) {
        int year, month, day, hour, minute, second, off_hour = 0, off_minute = 0;
        int64_t t, offset = 0;
        const char *p;

        if (!s)
                return -EINVAL;
        if (fixed_digits(s, 4, &year) < 0 || s[4] != '-' ||
            fixed_digits(s + 5, 2, &month) < 0 || s[7] != '-' ||
            fixed_digits(s + 8, 2, &day) < 0)
                return -EINVAL;
        if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
                return -EINVAL;
        if (s[10] == 0) {
                if (!allow_date_only)
                        return -EINVAL;
                *ret = days_from_civil(year, month, day) * SECONDS_PER_DAY;
                return 0;
        }
        if (s[10] != 'T' && s[10] != 't')
                return -EINVAL;
        if (fixed_digits(s + 11, 2, &hour) < 0 || s[13] != ':' ||
            fixed_digits(s + 14, 2, &minute) < 0 || s[16] != ':' ||
            fixed_digits(s + 17, 2, &second) < 0)
                return -EINVAL;
        /* second 60 is a leap second; it counts as the next minute's 0 */
        if (hour > 23 || minute > 59 || second > 60)
                return -EINVAL;
        p = s + 19;
        if (*p == '.') {
                p++;
                if (!is_digit(*p))
                        return -EINVAL;
                while (is_digit(*p))
                        p++;
        }
        if (*p == 'Z' || *p == 'z')
                p++;
        else if (*p == '+' || *p == '-') {
                if (fixed_digits(p + 1, 2, &off_hour) < 0 || p[3] != ':' ||
                    fixed_digits(p + 4, 2, &off_minute) < 0)
                        return -EINVAL;
                if (off_hour > 23 || off_minute > 59)
                        return -EINVAL;
                offset = (int64_t) off_hour * 3600 + off_minute * 60;
                if (*p == '-')
                        offset = -offset;
                p += 6;
        } else
                return -EINVAL;
        if (*p != 0)
                return -EINVAL;

        t = days_from_civil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second - offset;
        /* An offset or a leap second can carry 9999-12-31 into year 10000,
         * and 0000-01-01 into year -1: neither has the 4-digit form that
         * every stored time must read back as. */
        if (t < SFU_TIME_MIN || t > SFU_TIME_MAX)
                return -ERANGE;
        *ret = t;
        return 0;
}

char *sfu_time_format_rfc3339(int64_t t, char buf[32]) {
        int64_t days = t / SECONDS_PER_DAY, rem = t % SECONDS_PER_DAY, year;
        int month, day;

        if (rem < 0) {
                rem += SECONDS_PER_DAY;
                days--;
        }
        civil_from_days(days, &year, &month, &day);
        snprintf(buf, 32, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02dZ", year, month, day,
                 (int) (rem / 3600), (int) (rem / 60 % 60), (int) (rem % 60));
        return buf;
}
