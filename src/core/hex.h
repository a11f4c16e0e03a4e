/* SPDX-License-Identifier: MIT */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "core/macro.h"

/* Writes 2*len lowercase hex digits and a NUL into out (size >= 2*len+1). */
void sfu_hex_encode(const uint8_t *in, size_t len, char *out);
/* Decodes exactly 2*out_len hex digits (either case) from in; -EINVAL on a
 * wrong length or a non-hex character. */
int sfu_hex_decode(const char *in, uint8_t *out, size_t out_len) _wur_;
