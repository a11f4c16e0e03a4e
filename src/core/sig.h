/* SPDX-License-Identifier: MIT */
/* One signature with one key, in the form JOSE and COSE share (ECDSA as
 * raw R || S, RFC 7518 3.4 and RFC 9053 2.1). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/alg.h"
#include "core/key.h"

/* True when key can make/check signatures of alg (type, curve, RSA size). */
bool sfu_sig_fits_key(enum sfu_alg alg, const struct sfu_key *key);
/* The natural alg for a key; -EINVAL for RSA (the signer chooses). */
int sfu_sig_default_alg(const struct sfu_key *key, enum sfu_alg *ret) _wur_;
/* The exact signature length alg makes with key (RSA: the modulus size). */
size_t sfu_sig_size(enum sfu_alg alg, const struct sfu_key *key);

/* 1: valid, 0: not valid, < 0: an error. */
int sfu_sig_verify(enum sfu_alg alg, const struct sfu_key *key, const void *input, size_t input_len,
                   const uint8_t *sig, size_t sig_len) _wur_;
/* Signs (secfu-manifest only: sig-sign.c). A new buffer in the same form. */
int sfu_sig_sign(enum sfu_alg alg, const struct sfu_key *key, const void *input, size_t input_len,
                 uint8_t **ret, size_t *ret_len) _wur_;
