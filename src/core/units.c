/* SPDX-License-Identifier: MIT */
/* The configuration's units: durations and sizes with a one-letter
 * suffix. */
#include <errno.h>

#include "core/units.h"

#define USEC_PER_SEC UINT64_C(1000000)

static bool is_ascii_digit(char c) {
        return c >= '0' && c <= '9';
}

/* A decimal number of ASCII digits (at least one) followed by at most a
 * one-character suffix; no sign, no space. */
static int parse_number_suffix(const char *s, uint64_t *ret_value, char *ret_suffix) {
        uint64_t value = 0;
        const char *p = s;

        if (!s || !is_ascii_digit(*s))
                return -EINVAL;
        for (; is_ascii_digit(*p); p++) {
                unsigned d = (unsigned) (*p - '0');
                if (value > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                value = value * 10 + d;
        }
        if (p[0] != 0 && p[1] != 0)
                return -EINVAL;
        *ret_value = value;
        *ret_suffix = p[0];
        return 0;
}

static int multiply(uint64_t value, uint64_t factor, uint64_t *ret) {
        if (factor != 0 && value > UINT64_MAX / factor)
                return -ERANGE;
        *ret = value * factor;
        return 0;
}

int sfu_units_parse_duration(const char *s, uint64_t *ret_usec) {
        uint64_t value, factor;
        char unit;
        int r;

        r = parse_number_suffix(s, &value, &unit);
        if (r < 0)
                return r;
        switch (unit) {
        case 's':
                factor = 1;
                break;
        case 'm':
                factor = 60;
                break;
        case 'h':
                factor = 3600;
                break;
        case 'd':
                factor = 86400;
                break;
        case 0:
                /* a bare number is ambiguous (seconds? milliseconds?), except 0 */
                if (value != 0)
                        return -EINVAL;
                factor = 1;
                break;
        default:
                return -EINVAL;
        }
        r = multiply(value, factor, &value);
        if (r < 0)
                return r;
        return multiply(value, USEC_PER_SEC, ret_usec);
}

int sfu_units_parse_size(const char *s, uint64_t *ret_bytes) {
        uint64_t value;
        unsigned shift;
        char suffix;
        int r;

        r = parse_number_suffix(s, &value, &suffix);
        if (r < 0)
                return r;
        switch (suffix) {
        case 0:
                shift = 0;
                break;
        case 'K':
                shift = 10;
                break;
        case 'M':
                shift = 20;
                break;
        case 'G':
                shift = 30;
                break;
        case 'T':
                shift = 40;
                break;
        default:
                return -EINVAL;
        }
        return multiply(value, UINT64_C(1) << shift, ret_bytes);
}
