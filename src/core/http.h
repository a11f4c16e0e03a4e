/* SPDX-License-Identifier: MIT */
/* The few HTTP header values secfud interprets itself (libcurl parses the
 * rest): strict, overflow-checked, with a length cap. */
#pragma once
#include <stdint.h>
#include "core/macro.h"

#define SFU_HTTP_HEADER_MAX 512
#define SFU_HTTP_LENGTH_UNKNOWN UINT64_MAX

/* "bytes START-END/TOTAL" or "bytes START-END/\*" (RFC 9110 14.4): decimal
 * digits only, START <= END < TOTAL. -EINVAL otherwise. */
int sfu_http_parse_content_range(const char *value, uint64_t *ret_start, uint64_t *ret_end, uint64_t *ret_total) _wur_;
