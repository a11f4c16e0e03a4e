/* SPDX-License-Identifier: MIT */
/* Pure time helpers (no clock reads: callers pass "now" in). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "core/macro.h"

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: what four-digit years hold. */
#define SFU_TIME_MIN INT64_C(-62167219200)
#define SFU_TIME_MAX INT64_C(253402300799)

/* RFC 3339 date-time ("2026-11-20T15:12:15Z", "...15.123+02:00"); also a
 * plain full-date "2026-11-20" when allow_date_only (means 00:00:00Z).
 * Fractions are truncated. Returns seconds since the epoch in *ret;
 * -ERANGE when the UTC time falls outside SFU_TIME_MIN..SFU_TIME_MAX. */
int sfu_time_parse_rfc3339(const char *s, bool allow_date_only, int64_t *ret) _wur_;
/* "2026-11-20T15:12:15Z" into buf (>= 21 bytes). */
char *sfu_time_format_rfc3339(int64_t t, char buf[32]);
