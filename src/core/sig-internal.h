/* SPDX-License-Identifier: MIT */
/* Shared by sig.c (verify) and sig-sign.c (sign, linked by the tool only). */
#pragma once
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include "core/sig.h"

static inline void sfu_md_ctx_freep(EVP_MD_CTX **p) { EVP_MD_CTX_free(*p); }
static inline void sfu_ecdsa_sig_freep(ECDSA_SIG **p) { ECDSA_SIG_free(*p); }
static inline void sfu_bn_freep(BIGNUM **p) { BN_free(*p); }
static inline void sfu_openssl_freep(unsigned char **p) { OPENSSL_free(*p); }

/* The padding and salt rules of info's family. */
int sfu_sig_pkey_ctx_init(EVP_PKEY_CTX *pctx, const struct sfu_alg_info *info) _wur_;
