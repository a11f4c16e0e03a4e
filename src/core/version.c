/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "core/version.h"

#define VERSION_MAX_DIGITS 9    /* 999999999 fits in uint32_t */

/* One component: 1..9 ASCII digits, no leading zero unless it is "0".
 * Advances *p past it. */
static int parse_component(const char **p, uint32_t *ret) {
        const char *s = *p;
        uint32_t value = 0;
        size_t n = 0;

        while (s[n] >= '0' && s[n] <= '9') {
                if (n == VERSION_MAX_DIGITS)
                        return -ERANGE;
                value = value * 10 + (uint32_t) (s[n] - '0');
                n++;
        }
        if (n == 0)
                return -EINVAL;
        if (n > 1 && s[0] == '0')
                return -EINVAL;
        *p = s + n;
        *ret = value;
        return 0;
}

int sfu_version_parse(const char *s, struct sfu_version *ret) {
        uint32_t parts[3];
        int r;

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                if (i > 0) {
                        if (*s != '.')
                                return -EINVAL;
                        s++;
                }
                r = parse_component(&s, &parts[i]);
                if (r < 0)
                        return r;
        }
        if (*s != 0)
                return -EINVAL;
        *ret = (struct sfu_version) { .major = parts[0], .minor = parts[1], .revision = parts[2] };
        return 0;
}

static int cmp_u32(uint32_t a, uint32_t b) {
        return (a > b) - (a < b);
}

int sfu_version_compare(const struct sfu_version *a, const struct sfu_version *b) {
        int c = cmp_u32(a->major, b->major);
        if (c == 0)
                c = cmp_u32(a->minor, b->minor);
        if (c == 0)
                c = cmp_u32(a->revision, b->revision);
        return c;
}

char *sfu_version_format(const struct sfu_version *v, char buf[SFU_VERSION_STRING_MAX]) {
        snprintf(buf, SFU_VERSION_STRING_MAX, "%" PRIu32 ".%" PRIu32 ".%" PRIu32,
                 v->major, v->minor, v->revision);
        return buf;
}
