/* SPDX-License-Identifier: MIT */
/* The signature algorithms secfud knows, one table for every format that
 * carries them: JOSE names (RFC 7518, RFC 8037) and COSE identifiers
 * (RFC 9053, RFC 8812), the digest, the family and the key type each
 * needs.  Only data: sig.h checks and makes signatures with keys. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/* The key types the algorithms need. */
enum sfu_key_type {
        SFU_KEY_RSA,
        SFU_KEY_EC_P256,
        SFU_KEY_EC_P384,
        SFU_KEY_EC_P521,
        SFU_KEY_ED25519,
        SFU_KEY_HSS,            /* an RFC 8554 HSS public key (no OpenSSL key object) */
        SFU_KEY_X25519,         /* key agreement only (core/jwe.h), never a signature key */
        _SFU_KEY_TYPE_MAX,
};

enum sfu_alg {
        SFU_ALG_RS256,
        SFU_ALG_RS384,
        SFU_ALG_RS512,
        SFU_ALG_PS256,
        SFU_ALG_PS384,
        SFU_ALG_PS512,
        SFU_ALG_ES256,
        SFU_ALG_ES384,
        SFU_ALG_ES512,
        SFU_ALG_EDDSA,
        SFU_ALG_HSS_LMS,        /* COSE only (RFC 8778): no JOSE name is registered */
        _SFU_ALG_MAX,
        _SFU_ALG_INVALID = -EINVAL,
};

#define SFU_ALG_MASK(a) (1u << (a))
#define SFU_ALG_MASK_ALL ((1u << _SFU_ALG_MAX) - 1)

enum sfu_alg_family {
        SFU_ALG_FAMILY_RSA_PKCS1,
        SFU_ALG_FAMILY_RSA_PSS,
        SFU_ALG_FAMILY_ECDSA,
        SFU_ALG_FAMILY_EDDSA,
        SFU_ALG_FAMILY_HSS,
};

struct sfu_alg_info {
        const char *name;               /* JOSE name, also used in the config and by the tool */
        int cose_id;                    /* COSE algorithm identifier */
        const char *md;                 /* OpenSSL digest name; NULL: EdDSA hashes internally */
        enum sfu_alg_family family;
        enum sfu_key_type key_type;
        size_t ec_size;                 /* ECDSA: bytes of R (and of S) */
        bool jose;                      /* a JWS may use it */
};

/* NULL for an invalid alg. */
const struct sfu_alg_info *sfu_alg_info(enum sfu_alg alg);
const char *sfu_alg_name(enum sfu_alg alg);
/* Exact, case-sensitive names ("RS256", "EdDSA"). */
int sfu_alg_from_name(const char *name, enum sfu_alg *ret) _wur_;
int sfu_alg_from_cose_id(int64_t id, enum sfu_alg *ret) _wur_;
/* Comma-separated list (spaces around names allowed); an unknown name or
 * an empty list is an error naming it; "none" and HMAC are refused by name. */
int sfu_alg_list_parse(const char *list, unsigned *ret_mask, struct sfu_err *err) _wur_;
