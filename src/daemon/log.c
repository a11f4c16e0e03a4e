/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include "core/err.h"
#include "daemon/log.h"

static int max_level = LOG_INFO;

void sfu_log_set_max_level(int level) {
        max_level = level;
}

int sfu_log_level_from_name(const char *name) {
        static const char *const names[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcmp(names[i], name) == 0)
                        return (int) i;
        if (strcmp(name, "error") == 0)
                return LOG_ERR;
        if (strcmp(name, "warn") == 0)
                return LOG_WARNING;
        return -EINVAL;
}

void sfu_log(int level, const char *fmt, ...) {
        char line[2048];
        va_list ap;

        if (level > max_level)
                return;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        sfu_text_one_line(line, sizeof(line));
        /* One write per line so that threads do not interleave. */
        dprintf(STDERR_FILENO, "<%d>%s\n", level, line);
}
