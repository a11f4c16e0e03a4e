/* SPDX-License-Identifier: MIT */
/* Logging of the programs' decision layer: stderr lines with sd-daemon
 * "<N>" priority prefixes, which journald turns into priorities. The core
 * and io layers never log; they return struct sfu_err. */
#pragma once
#include <syslog.h>
#include "core/macro.h"

void sfu_log_set_max_level(int level);
int sfu_log_level_from_name(const char *name);  /* "debug".."err", or -EINVAL */
void sfu_log(int level, const char *fmt, ...) _printf_(2, 3);

#define log_debug(...) sfu_log(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) sfu_log(LOG_INFO, __VA_ARGS__)
#define log_notice(...) sfu_log(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) sfu_log(LOG_WARNING, __VA_ARGS__)
#define log_error(...) sfu_log(LOG_ERR, __VA_ARGS__)
