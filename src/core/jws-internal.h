/* SPDX-License-Identifier: MIT */
/* Shared by jws.c (parse, verify) and jws-sign.c (the tool's signing). */
#pragma once
#include <stddef.h>

/* "protected.payload", the JWS Signing Input of RFC 7515 5.1. New string. */
int sfu_jws_signing_input(const char *protected_b64, const char *payload_b64, char **ret, size_t *ret_len)
        __attribute__((warn_unused_result));
