/* SPDX-License-Identifier: MIT */
/* JWE (RFC 7516) for encrypted manifests, with the profile of
 * doc/encryption.md:
 *  - compact, flattened JSON and general JSON serialization (several
 *    recipients, one per device class or device);
 *  - key management ECDH-ES+A256KW (P-256, P-384, P-521, X25519: Concat
 *    KDF of RFC 7518 4.6.2, AES key wrap of RFC 3394) or RSA-OAEP-256;
 *    content encryption A256GCM only, AAD as RFC 7516 5.1 step 14 says
 *    (the JSON "aad" member included);
 *  - refused, for the whole JWE: alg "dir" (a shared key), RSA1_5, "none"
 *    and any other alg or enc; "zip" in any header; "crit" in any header;
 *    a header member in more than one of the protected, shared and
 *    per-recipient headers; "cty" outside the protected header (it would
 *    not be authenticated); an IV that is not 12 bytes, a tag that is not
 *    16; an "epk" that is missing, private, not a valid point or of
 *    another key type than the alg needs;
 *  - decryption tries the recipients whose kid names one of the device's
 *    keys first, then every recipient whose alg and curve fit a key.  Every
 *    failure after that is one message: "cannot decrypt with this device's
 *    key(s)"; which step failed (unwrap, the tag) is never told.  The
 *    content key and every intermediate secret are wiped on every path.
 * The plaintext is a signed manifest (JWS, or COSE_Sign1 / COSE_Sign);
 * "cty" names its type and checking it is the caller's (core/signed.h). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "core/err.h"
#include "core/jws.h"
#include "core/key.h"

#define SFU_JWE_MAX_PLAINTEXT SFU_JWS_MAX_SIZE          /* the signed manifest inside */
#define SFU_JWE_MAX_SIZE (6u * 1024u * 1024u)           /* the whole JWE text */
#define SFU_JWE_MAX_RECIPIENTS 16
#define SFU_JWE_MAX_HEADER 8192         /* the decoded protected header, and each JSON header object */
#define SFU_JWE_MAX_AAD (64u * 1024u)   /* the JSON "aad" member, in base64url characters */
#define SFU_JWE_MAX_ENCRYPTED_KEY 2048  /* bytes: RSA-OAEP-256 with a 16384-bit key */
#define SFU_JWE_MAX_PARTY_INFO 256      /* bytes of "apu" and of "apv" */
#define SFU_JWE_CEK_SIZE 32             /* A256GCM */
#define SFU_JWE_IV_SIZE 12
#define SFU_JWE_TAG_SIZE 16
#define SFU_JWE_WRAPPED_KEY_SIZE 40     /* A256KW of a 32-byte key */

enum sfu_jwe_form {
        SFU_JWE_COMPACT,
        SFU_JWE_FLATTENED,
        SFU_JWE_GENERAL,
};

enum sfu_jwe_alg {
        SFU_JWE_ECDH_ES_A256KW,
        SFU_JWE_RSA_OAEP_256,
        _SFU_JWE_ALG_MAX,
};

struct sfu_jwe_recipient {
        json_t *header;                 /* the per-recipient header, or NULL */
        enum sfu_jwe_alg alg;
        const char *kid;                /* from the joint header (borrowed), or NULL */
        struct sfu_key *epk;            /* ECDH-ES: the sender's ephemeral public key */
        uint8_t *apu, *apv;             /* ECDH-ES: Concat KDF party info (NULL when absent) */
        size_t apu_len, apv_len;
        uint8_t *encrypted_key;
        size_t encrypted_key_len;
};

struct sfu_jwe {
        enum sfu_jwe_form form;
        char *protected_b64;            /* as received ("" when absent): part of the AAD */
        json_t *protected_header;       /* decoded (an empty object when absent) */
        json_t *shared_header;          /* JSON "unprotected", or NULL */
        char *aad_b64;                  /* JSON "aad" as received, or NULL */
        const char *cty;                /* protected "cty" (borrowed), or NULL */
        uint8_t iv[SFU_JWE_IV_SIZE];
        uint8_t tag[SFU_JWE_TAG_SIZE];
        uint8_t *ciphertext;
        size_t ciphertext_len;
        struct sfu_jwe_recipient recipients[SFU_JWE_MAX_RECIPIENTS];
        size_t n_recipients;
};

/* Whether buf looks like a JWE rather than a JWS or COSE: compact with
 * five segments, or a JSON object with "ciphertext".  Only a hint for
 * routing; sfu_jwe_parse decides. */
bool sfu_jwe_detect(const void *buf, size_t len);

/* Parses and checks everything that can be checked without a key (the
 * list above).  Errors: SFU_ERR_SIZE for a cap, SFU_ERR_SIGNATURE for a
 * refused algorithm, zip or crit, SFU_ERR_PARSE otherwise; one line each. */
int sfu_jwe_parse(const char *buf, size_t len, struct sfu_jwe **ret, struct sfu_err *err) _wur_;

const char *sfu_jwe_alg_name(enum sfu_jwe_alg alg);
const char *sfu_jwe_form_name(enum sfu_jwe_form form);

/* Whether a "cty" value names media_type ("application/jose"): RFC 7515
 * 4.1.10 lets cty omit "application/"; case is ignored, parameters are
 * not allowed. */
bool sfu_jwe_cty_is(const char *cty, const char *media_type);

struct sfu_jwe_result {
        uint8_t *plaintext;             /* secret (it may hold image keys): sfu_jwe_result_clear wipes it */
        size_t plaintext_len;
        size_t recipient;               /* index of the recipient that decrypted */
        const struct sfu_key *key;      /* the device key that did (borrowed from keys) */
};

/* Decrypts jwe with one of the device's keys (ENC keys: core/key.h).
 * SFU_ERR_SIGNATURE "no recipient ... fits this device's key(s)" when no
 * recipient's alg and curve fit a key (public facts only), otherwise
 * "cannot decrypt with this device's key(s)" whatever failed. */
int sfu_jwe_decrypt(const struct sfu_jwe *jwe, const struct sfu_keyring *keys, struct sfu_jwe_result *ret,
                    struct sfu_err *err) _wur_;
void sfu_jwe_result_clear(struct sfu_jwe_result *result);

/* An encrypted manifest as a device takes it (doc/encryption.md): the JWE
 * in buf (trailing white space ignored) parsed, decrypted with one of keys, and its plaintext a signed
 * manifest (any form core/signed.h detects) whose media type agrees with
 * the JWE's "cty" when it has one.  The plaintext is not verified here:
 * the caller hands it to sfu_signed_open and then clears ret. */
int sfu_jwe_open_manifest(const char *buf, size_t len, const struct sfu_keyring *keys, struct sfu_jwe_result *ret,
                          struct sfu_err *err) _wur_;

/* The recipients as JSON, without decrypting (for inspect):
 * [{"alg": ..., "kid": ..., "crv": ...}, ...]. */
int sfu_jwe_recipients_to_json(const struct sfu_jwe *jwe, json_t **ret) _wur_;

void sfu_jwe_free(struct sfu_jwe *jwe);
static inline void sfu_jwe_freep(struct sfu_jwe **j) { sfu_jwe_free(*j); }
#define _cleanup_jwe_ _cleanup_(sfu_jwe_freep)

/* jwe-encrypt.c, in libsfusign.a (the vendor tool; the daemon never
 * encrypts). */
enum sfu_jwe_encrypt_form {
        SFU_JWE_ENCRYPT_AUTO,           /* compact for one recipient, general JSON otherwise */
        SFU_JWE_ENCRYPT_COMPACT,        /* one recipient only */
        SFU_JWE_ENCRYPT_FLATTENED,      /* one recipient only */
        SFU_JWE_ENCRYPT_GENERAL,
};

struct sfu_jwe_encrypt_opts {
        enum sfu_jwe_encrypt_form form;
        const char *cty;                /* NULL: none; else in the protected header */
        bool no_kid;                    /* leave out each recipient's kid */
};

/* Encrypts plaintext for recipients (public or private ENC keys: RSA for
 * RSA-OAEP-256, EC or X25519 for ECDH-ES+A256KW with a fresh ephemeral key
 * each) under one fresh content key, A256GCM.  A new string. */
int sfu_jwe_encrypt(const uint8_t *plaintext, size_t len, const struct sfu_key *const *recipients,
                    size_t n_recipients, const struct sfu_jwe_encrypt_opts *opts, char **ret,
                    struct sfu_err *err) _wur_;
