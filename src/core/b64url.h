/* SPDX-License-Identifier: MIT */
/* Strict base64url of RFC 7515 section 2: alphabet A-Z a-z 0-9 - _, no
 * padding, no white space, and the unused low bits of the last symbol must
 * be zero (so every byte string has exactly one encoding). */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "core/macro.h"

/* Returns a new NUL-terminated string. NULL only on allocation failure. */
char *sfu_b64url_encode(const uint8_t *in, size_t len);
/* Decodes len characters of in into a new buffer (NUL-terminated for
 * convenience, the NUL not counted in *ret_len). -EINVAL on any character
 * outside the alphabet, padding, a length of 1 mod 4, or non-zero trailing
 * bits; -ENOMEM. */
int sfu_b64url_decode(const char *in, size_t len, uint8_t **ret, size_t *ret_len) _wur_;
