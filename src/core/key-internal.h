/* SPDX-License-Identifier: MIT */
/* Shared by key.c (loading, public export, the trust store) and key-gen.c
 * (generation and private export, linked by secfu-manifest only). */
#pragma once
#include <jansson.h>
#include <openssl/evp.h>
#include "core/key.h"

struct sfu_key_curve {
        enum sfu_key_type type;
        const char *jwk_name;
        const char *group;              /* OpenSSL's name */
        size_t size;                    /* bytes per coordinate */
};
const struct sfu_key_curve *sfu_key_curve(enum sfu_key_type t);

/* Classifies pkey (taking it), checks it, and makes the key. */
int sfu_key_finish(EVP_PKEY *pkey, const char *source, const char *kid, bool want_private, struct sfu_key **ret,
                   struct sfu_err *err) _wur_;
/* Sets member name of jwk to the base64url of the key's BIGNUM parameter
 * param, left-padded to pad bytes (0: minimal); or of its octet string
 * parameter.  -ENOENT when the key does not have it. */
int sfu_key_jwk_set_bn(json_t *jwk, const EVP_PKEY *pkey, const char *param, const char *name, size_t pad) _wur_;
int sfu_key_jwk_set_octets(json_t *jwk, const EVP_PKEY *pkey, const char *param, const char *name) _wur_;
