/* SPDX-License-Identifier: MIT */
#include "core/http.h"

/* Parses the decimal number at *p (at least one digit, no sign, no
 * overflow) and advances *p past it. */
static int parse_u64(const char **p, uint64_t *ret) {
        uint64_t v = 0;
        const char *s = *p;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        for (; *s >= '0' && *s <= '9'; s++) {
                unsigned digit = (unsigned) (*s - '0');
                if (v > (UINT64_MAX - digit) / 10)
                        return -ERANGE;
                v = v * 10 + digit;
        }
        *p = s;
        *ret = v;
        return 0;
}

int sfu_http_parse_content_range(const char *value, uint64_t *ret_start, uint64_t *ret_end, uint64_t *ret_total) {
        uint64_t start, end, total = SFU_HTTP_LENGTH_UNKNOWN;
        const char *p = value;

        if (!value || strnlen(value, SFU_HTTP_HEADER_MAX + 1) > SFU_HTTP_HEADER_MAX)
                return -EINVAL;
        if (strncmp(p, "bytes ", 6) != 0)
                return -EINVAL;
        p += 6;
        if (parse_u64(&p, &start) < 0 || *p++ != '-' || parse_u64(&p, &end) < 0 || *p++ != '/')
                return -EINVAL;
        if (*p == '*')
                p++;
        else if (parse_u64(&p, &total) < 0 || end >= total)
                return -EINVAL;
        if (*p != 0 || start > end)
                return -EINVAL;
        *ret_start = start;
        *ret_end = end;
        *ret_total = total;
        return 0;
}
