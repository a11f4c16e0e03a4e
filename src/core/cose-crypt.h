/* SPDX-License-Identifier: MIT */
/* COSE_Encrypt (RFC 9052 section 5.1, tag 96) around a signed manifest:
 * the COSE twin of core/jwe.h, with the same rules (doc/encryption.md):
 *  - content encryption A256GCM (alg 3) only, its alg in the protected
 *    header of the outer layer, a 12-byte IV (label 5) in either header of
 *    that layer, the 16-byte tag at the end of the ciphertext, the AAD the
 *    Enc_structure ["Encrypt", protected, h''] (no external AAD);
 *  - one to SFU_COSE_CRYPT_MAX_RECIPIENTS recipients, each
 *    ECDH-ES + A256KW (alg -31: an ephemeral COSE_Key (label -1) on P-256,
 *    P-384, P-521 or X25519, HKDF-SHA-256 over the COSE_KDF_Context of
 *    RFC 9053 section 5.2, AES key wrap of the 32-byte content key) or
 *    RSA-OAEP-256 (alg -41); a kid (label 4, bytes) names the device key;
 *  - refused before any key is used: COSE_Encrypt0 (tag 16: its key is
 *    shared by every device, like JWE "dir"), untagged input, "direct"
 *    (alg -6) and every other alg, crit (label 2) anywhere, Partial IV
 *    (label 6), a label in both headers of a layer, nested recipients, a
 *    detached (nil) ciphertext, static keys (ECDH-SS, labels -2 and -3),
 *    salt and PartyU / PartyV information (labels -20 to -26: never
 *    written by secfu-manifest, and not needed by a device), a content type
 *    outside the protected header, an ephemeral key that is missing,
 *    private, not on its curve or not of a key-agreement type;
 *  - decryption as for a JWE: the recipients whose kid names a device key
 *    first, then every recipient whose alg and curve fit; every failure
 *    after that is one message, and every secret is wiped.
 * The plaintext is a signed manifest of any form (core/signed.h); the
 * content type (label 3), when present, names it: "application/cose"
 * (with or without a cose-type parameter naming its structure) or CoAP
 * Content-Format 18 (COSE_Sign1) / 98 (COSE_Sign) for COSE,
 * "application/jose" / "application/jose+json" for a JWS. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "core/err.h"
#include "core/jwe.h"
#include "core/key.h"

#define SFU_COSE_TAG_ENCRYPT 96
#define SFU_COSE_TAG_ENCRYPT0 16
#define SFU_COSE_CRYPT_MAX_RECIPIENTS SFU_JWE_MAX_RECIPIENTS
/* The whole structure: the largest signed manifest, its tag, and the
 * recipients with room to spare. */
#define SFU_COSE_CRYPT_MAX_SIZE (SFU_JWE_MAX_PLAINTEXT + 64u * 1024u)
#define SFU_COSE_CRYPT_MAX_ITEMS 1024   /* CBOR items of the outer structure */
#define SFU_COSE_CRYPT_MAX_HEADER 4096  /* encoded bytes of one protected header */

/* Algorithm identifiers (RFC 9053). */
#define SFU_COSE_ALG_A256GCM 3
#define SFU_COSE_ALG_A256KW (-5)
#define SFU_COSE_ALG_DIRECT (-6)
#define SFU_COSE_ALG_ECDH_ES_A256KW (-31)
#define SFU_COSE_ALG_RSA_OAEP_256 (-41)

/* Header labels beyond core/cose.h's. */
#define SFU_COSE_LABEL_IV 5
#define SFU_COSE_LABEL_PARTIAL_IV 6
#define SFU_COSE_LABEL_EPHEMERAL_KEY (-1)

struct sfu_cose_crypt_recipient {
        enum sfu_jwe_alg alg;           /* the same two algorithms as a JWE's */
        const uint8_t *kid;             /* in the structure's buffer, or NULL */
        size_t kid_len;
        struct sfu_key *epk;            /* ECDH-ES: the sender's ephemeral public key */
        const uint8_t *protected_bytes; /* the recipient's protected bstr contents (the KDF context has them) */
        size_t protected_len;
        const uint8_t *encrypted_key;
        size_t encrypted_key_len;
};

struct sfu_cose_crypt {
        uint8_t *buf;                   /* a copy of the input; the pointers below point into it */
        size_t len;
        const uint8_t *protected_bytes; /* the outer layer's protected bstr contents (the AAD has them) */
        size_t protected_len;
        bool has_content_type;
        bool content_type_is_text;
        char content_type[SFU_QUOTE_MAX + 4];  /* text, quoted for messages, when content_type_is_text */
        const uint8_t *content_type_raw;        /* the text as received (in buf) */
        size_t content_type_len;
        uint64_t content_format;        /* CoAP Content-Format, when !content_type_is_text */
        uint8_t iv[SFU_JWE_IV_SIZE];
        const uint8_t *ciphertext;      /* without the tag */
        size_t ciphertext_len;
        const uint8_t *tag;
        struct sfu_cose_crypt_recipient recipients[SFU_COSE_CRYPT_MAX_RECIPIENTS];
        size_t n_recipients;
};

/* Whether buf starts with the tag of a COSE_Encrypt (or COSE_Encrypt0,
 * which the parser then refuses with its reason).  A hint for routing. */
bool sfu_cose_crypt_detect(const void *buf, size_t len);

/* Parses and checks everything that can be checked without a key (the
 * list above).  SFU_ERR_SIZE for a cap, SFU_ERR_SIGNATURE for a refused
 * algorithm, crit or COSE_Encrypt0, SFU_ERR_PARSE otherwise. */
int sfu_cose_crypt_parse(const uint8_t *buf, size_t len, struct sfu_cose_crypt **ret, struct sfu_err *err) _wur_;

/* Decrypts with one of the device's keys; the messages of
 * sfu_jwe_decrypt (the result type is shared). */
int sfu_cose_crypt_decrypt(const struct sfu_cose_crypt *ce, const struct sfu_keyring *keys,
                           struct sfu_jwe_result *ret, struct sfu_err *err) _wur_;

/* An encrypted manifest as a device takes it: parsed, decrypted, its
 * plaintext a signed manifest of the type the content type names (when
 * there is one).  Not verified here: the caller hands the plaintext to
 * sfu_signed_open and then clears ret. */
int sfu_cose_crypt_open_manifest(const uint8_t *buf, size_t len, const struct sfu_keyring *keys,
                                 struct sfu_jwe_result *ret, struct sfu_err *err) _wur_;

/* The recipients as JSON without decrypting (for inspect), as
 * sfu_jwe_recipients_to_json: [{"alg", "kid" (the bytes as text when
 * printable, else hex), "crv"}]. */
int sfu_cose_crypt_recipients_to_json(const struct sfu_cose_crypt *ce, json_t **ret) _wur_;

void sfu_cose_crypt_free(struct sfu_cose_crypt *ce);
static inline void sfu_cose_crypt_freep(struct sfu_cose_crypt **c) { sfu_cose_crypt_free(*c); }
#define _cleanup_cose_crypt_ _cleanup_(sfu_cose_crypt_freep)

/* cose-crypt-encrypt.c, in libsfusign.a: a COSE_Encrypt of plaintext for
 * recipients (ENC keys: RSA for RSA-OAEP-256, EC or X25519 for
 * ECDH-ES + A256KW with a fresh ephemeral key each), one fresh content key,
 * A256GCM; content_type (may be NULL) in the outer protected header; each
 * recipient's kid unless no_kid.  Deterministic CBOR encoding. */
int sfu_cose_crypt_encrypt(const uint8_t *plaintext, size_t len, const struct sfu_key *const *recipients,
                           size_t n_recipients, const char *content_type, bool no_kid, uint8_t **ret,
                           size_t *ret_len, struct sfu_err *err) _wur_;

/* Shared by both directions: the AAD of the outer layer (the
 * Enc_structure) and the HKDF info of a recipient (the COSE_KDF_Context
 * for A256KW), as new buffers. */
int sfu_cose_crypt_enc_structure(const uint8_t *protected_bytes, size_t protected_len, uint8_t **ret,
                                 size_t *ret_len) _wur_;
int sfu_cose_crypt_kdf_context(const uint8_t *protected_bytes, size_t protected_len, uint8_t **ret,
                               size_t *ret_len) _wur_;
/* HKDF-SHA-256 of the ECDH secret z (no salt) with that context into a
 * 32-byte key-encryption key. */
int sfu_cose_crypt_kek(const uint8_t *z, size_t z_len, const uint8_t *protected_bytes, size_t protected_len,
                       uint8_t kek[static 32]) _wur_;
