/* SPDX-License-Identifier: MIT */
/* JWS (RFC 7515) in compact, flattened JSON and general JSON
 * serialization, with the rules of doc/manifest.md ("Signatures"):
 *  - alg only from the protected header, never "none", never HMAC;
 *  - "crit" naming anything is refused (we understand no extension that
 *    may be critical), "b64" other than true is refused, "kid" and "typ"
 *    must be strings, typ the required one: these hold for the JWS as a
 *    whole, so one signature that breaks them refuses it;
 *  - a signature counts when a trusted key verified it under the
 *    allow-list: the key type fits the alg (curve for ES*, >= 2048-bit
 *    RSA, Ed25519 for EdDSA), a key with an "alg" only makes that alg,
 *    ECDSA signatures are raw R||S (RFC 7518 3.4);
 *  - keys only from the trust store: jwk, jku, x5u, x5c headers are never
 *    used (and their presence does not help);
 *  - kid selects the key when present; otherwise every trusted key of the
 *    right type is tried.
 * Parsing is strict (base64url, JSON, sizes) and keeps everything needed to
 * verify; verifying needs the trust store. */
#pragma once
#include <stdbool.h>
#include <jansson.h>
#include "core/err.h"
#include "core/alg.h"
#include "core/key.h"

#define SFU_JWS_MAX_SIZE (4u * 1024u * 1024u)
#define SFU_JWS_MAX_SIGNATURES 16
#define SFU_JWS_MAX_HEADER 8192
#define SFU_JWS_TYP_MANIFEST "secfu-manifest+jws"

enum sfu_jws_form {
        SFU_JWS_COMPACT,
        SFU_JWS_FLATTENED,
        SFU_JWS_GENERAL,
};

struct sfu_jws_signature {
        char *protected_b64;            /* as received (signing input) */
        json_t *protected_header;       /* decoded, an object */
        json_t *unprotected_header;     /* object or NULL */
        uint8_t *signature;
        size_t signature_len;
};

struct sfu_jws {
        enum sfu_jws_form form;
        char *payload_b64;              /* as received (signing input) */
        uint8_t *payload;
        size_t payload_len;
        struct sfu_jws_signature signatures[SFU_JWS_MAX_SIGNATURES];
        size_t n_signatures;
};

/* Parses compact ("a.b.c") or JSON (flattened or general). Rejects:
 * sizes over SFU_JWS_MAX_SIZE, bad base64url, JSON that is not strict
 * (json.h), wrong number of segments, a detached or empty payload, more
 * than SFU_JWS_MAX_SIGNATURES signatures, mixing flattened and general
 * members, header parameters present in both protected and unprotected
 * headers, a protected header that is not a JSON object. Does not check
 * alg or keys (that is verify's job).  The input may be any file at all
 * (an operator's, read before anything is verified), so a refusal quotes
 * none of its bytes: JSON syntax errors give the place and the kind only
 * (sfu_json_parse_object_quiet); a name or value is quoted (printable, at
 * most SFU_QUOTE_MAX characters) only from a header that decoded as JSON. */
int sfu_jws_parse(const char *buf, size_t len, struct sfu_jws **ret, struct sfu_err *err) _wur_;

struct sfu_jws_verify_opts {
        unsigned alg_allow;             /* mask; 0 means SFU_ALG_MASK_ALL */
        unsigned min_signatures;        /* distinct trusted keys needed; 0 means 1 */
        const char *required_typ;       /* NULL: typ not checked */
        /* Told why each signature that counts for nothing did not count
         * (may be NULL). */
        void (*note)(void *userdata, const char *why);
        void *userdata;
        unsigned *ret_algs;             /* set to the mask of the algs that counted (may be NULL) */
        /* Set to the distinct keys that counted, in the order they first
         * did (SFU_SIG_TALLY_MAX entries, borrowed from the ring; may be
         * NULL); their number is *ret_valid. */
        const struct sfu_key **ret_signers;
};

/* Verifies jws against ring. Succeeds when at least min_signatures
 * distinct trusted keys made valid signatures; a signature with an alg
 * outside the allow-list or unknown here, an unknown kid, or one that does
 * not verify counts for nothing (opts->note hears why); a signature that
 * breaks a rule of the whole (none, HMAC, crit, b64, typ, malformed
 * headers) refuses the JWS even if others are fine. On success *ret_valid
 * (may be NULL) is the number of distinct keys that verified. Errors are
 * SFU_ERR_SIGNATURE (or SFU_ERR_POLICY for alg-list / typ refusals) with
 * one-line reasons; a lone signature that does not count gives its own
 * reason. */
int sfu_jws_verify(const struct sfu_jws *jws, const struct sfu_keyring *ring,
                   const struct sfu_jws_verify_opts *opts, unsigned *ret_valid,
                   struct sfu_err *err) _wur_;

struct sfu_jws_sign_opts {
        enum sfu_alg alg;
        const char *kid;                /* NULL: the key's kid (thumbprint) */
        const char *typ;                /* NULL: SFU_JWS_TYP_MANIFEST */
        enum sfu_jws_form form;
};

/* Signs payload with key into a new string in the requested form. */
int sfu_jws_sign(const uint8_t *payload, size_t payload_len, const struct sfu_key *key,
                 const struct sfu_jws_sign_opts *opts, char **ret, struct sfu_err *err) _wur_;
/* Adds a signature by key to an existing JWS (any form), producing the
 * general JSON serialization. The payload is kept byte for byte. */
int sfu_jws_add_signature(const struct sfu_jws *jws, const struct sfu_key *key,
                          const struct sfu_jws_sign_opts *opts, char **ret,
                          struct sfu_err *err) _wur_;

void sfu_jws_free(struct sfu_jws *jws);
static inline void sfu_jws_freep(struct sfu_jws **j) { sfu_jws_free(*j); }
#define _cleanup_jws_ _cleanup_(sfu_jws_freep)
