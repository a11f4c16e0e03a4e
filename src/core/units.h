/* SPDX-License-Identifier: MIT */
/* The configuration's units (secfud.conf(5)). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "core/macro.h"

/* Durations "30s", "15m", "6h", "1d" (also "0") into microseconds;
 * sizes "512", "512K", "64M", "4G" (binary multiples) into bytes.
 * -EINVAL for anything else, -ERANGE on overflow. */
int sfu_units_parse_duration(const char *s, uint64_t *ret_usec) _wur_;
int sfu_units_parse_size(const char *s, uint64_t *ret_bytes) _wur_;
