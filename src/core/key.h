/* SPDX-License-Identifier: MIT */
/* Public and private keys for JOSE: PEM (SubjectPublicKeyInfo, PKCS#8 and
 * the traditional private formats OpenSSL reads) or JWK, RFC 7638
 * thumbprints, and the trust store (a directory of *.pem and *.jwk). */
#pragma once
#include <stdbool.h>
#include <openssl/evp.h>
#include <jansson.h>
#include "core/alg.h"
#include "core/err.h"

#define SFU_KEY_FILE_MAX (64u * 1024u)
#define SFU_KEYRING_MAX 64
#define SFU_RSA_MIN_BITS 2048


struct sfu_scope;

/* What a key is loaded for.  SIG: signatures (the trust store, signing):
 * RSA, EC P-256/384/521, Ed25519.  ENC: key management for encryption
 * (core/jwe.h: a device's decryption keys, the recipients of an encrypted
 * manifest): RSA, EC P-256/384/521, X25519.  A JWK's "use" and "key_ops"
 * must fit the purpose; a key of one purpose is refused for the other. */
enum sfu_key_use {
        SFU_KEY_USE_SIG,
        SFU_KEY_USE_ENC,
};

struct sfu_key {
        EVP_PKEY *pkey;
        enum sfu_key_type type;
        int bits;
        bool is_private;
        char *kid;              /* from the JWK "kid", else the RFC 7638 thumbprint */
        char *source;           /* file name, for messages */
        uint8_t *hss;           /* SFU_KEY_HSS: the RFC 8554 public key (pkey is NULL) */
        size_t hss_len;
        bool has_alg;           /* a JWK "alg" restricts the key to alg (RFC 7517 4.4) */
        enum sfu_alg alg;
        struct sfu_scope *scope; /* what it may vouch for (core/scope.h); NULL: everything */
        enum sfu_key_use use;
};

/* Loads a key from PEM or JWK bytes (detected: a JWK starts with '{').
 * want_private requires private key material. Unsupported types (DSA,
 * Ed448, other curves) and RSA below SFU_RSA_MIN_BITS are refused with
 * SFU_ERR_PARSE / SFU_ERR_SIGNATURE. */
int sfu_key_from_buffer(const char *buf, size_t len, const char *source, bool want_private,
                        struct sfu_key **ret, struct sfu_err *err) _wur_;
int sfu_key_load_file(const char *path, bool want_private, struct sfu_key **ret,
                      struct sfu_err *err) _wur_;
int sfu_key_from_jwk(json_t *jwk, const char *source, bool want_private, struct sfu_key **ret,
                     struct sfu_err *err) _wur_;
/* The same for a purpose (the three above are SFU_KEY_USE_SIG).  An ENC
 * JWK's "alg", when present, must be the key-management algorithm of
 * core/jwe.h that fits it (ECDH-ES+A256KW or RSA-OAEP-256). */
int sfu_key_from_buffer_for(const char *buf, size_t len, const char *source, enum sfu_key_use use,
                            bool want_private, struct sfu_key **ret, struct sfu_err *err) _wur_;
int sfu_key_load_file_for(const char *path, enum sfu_key_use use, bool want_private, struct sfu_key **ret,
                          struct sfu_err *err) _wur_;
int sfu_key_from_jwk_for(json_t *jwk, const char *source, enum sfu_key_use use, bool want_private,
                         struct sfu_key **ret, struct sfu_err *err) _wur_;
/* An HSS public key (RFC 8554: u32 L || LMS public key, as a NAME.hss file
 * holds it); its kid is sfu_hss_kid's. */
int sfu_key_from_hss(const uint8_t *pub, size_t len, const char *source, struct sfu_key **ret,
                     struct sfu_err *err) _wur_;
/* Whether a and b are the same public key. */
bool sfu_key_same(const struct sfu_key *a, const struct sfu_key *b);

/* RFC 7638 thumbprint (SHA-256, base64url) as a new string. */
int sfu_key_thumbprint(const struct sfu_key *key, char **ret) _wur_;
/* Public JWK as a new json object, with "kid" set. */
int sfu_key_to_jwk(const struct sfu_key *key, json_t **ret) _wur_;
/* Wipes every string member (a JWK may hold private parts), then frees. */
void sfu_key_jwk_wipe_free(json_t *jwk);

/* key-gen.c, linked by secfu-manifest only: */
/* Generates a fresh private key of the type alg needs (RS*: 3072 bits;
 * PS*: 3072; ES256/384/512: P-256/384/521; EdDSA: Ed25519). */
int sfu_key_generate(const char *alg_name, struct sfu_key **ret, struct sfu_err *err) _wur_;
/* Private JWK (public members, kid and the private parts); -ENOKEY for a
 * public key.  Free it with sfu_key_jwk_wipe_free. */
int sfu_key_to_private_jwk(const struct sfu_key *key, json_t **ret) _wur_;
/* PEM text: SubjectPublicKeyInfo, or PKCS#8 for private. New string. */
int sfu_key_to_pem(const struct sfu_key *key, bool include_private, char **ret) _wur_;

const char *sfu_key_type_name(enum sfu_key_type t);   /* "RSA", "P-256", "Ed25519", "X25519" ... */

void sfu_key_free(struct sfu_key *key);
static inline void sfu_key_freep(struct sfu_key **k) { sfu_key_free(*k); }
#define _cleanup_key_ _cleanup_(sfu_key_freep)

struct sfu_keyring {
        struct sfu_key *keys[SFU_KEYRING_MAX];
        size_t n_keys;
};

int sfu_keyring_new(struct sfu_keyring **ret) _wur_;
/* Takes ownership of key on success. Refuses a second key with the same
 * kid (-EEXIST) or the same public key. */
int sfu_keyring_add(struct sfu_keyring *ring, struct sfu_key *key, struct sfu_err *err) _wur_;
/* Loads every *.pem, *.jwk and *.hss of dir (sorted by name; other files are
 * ignored; a file that fails to load is an error naming it). An empty
 * directory gives an empty ring. */
int sfu_keyring_load_dir(struct sfu_keyring *ring, const char *dir, struct sfu_err *err) _wur_;
const struct sfu_key *sfu_keyring_find_kid(const struct sfu_keyring *ring, const char *kid);
/* The key of ring with key's kid or key's public key, or NULL. */
const struct sfu_key *sfu_keyring_find_key(const struct sfu_keyring *ring, const struct sfu_key *key);

struct sfu_keyring_load_opts {
        /* A key for which skip() says true is left out (a revoked one). */
        bool (*skip)(void *userdata, const char *path, const struct sfu_key *key);
        /* When set, the load is lenient: a file that does not load, a key
         * the ring holds already and a key beyond the ring's limit are told
         * here and left out, instead of failing the directory. */
        void (*skipped)(void *userdata, const char *path, const struct sfu_err *why);
        void *userdata;
};
int sfu_keyring_load_dir_opts(struct sfu_keyring *ring, const char *dir, const struct sfu_keyring_load_opts *opts,
                              struct sfu_err *err) _wur_;
/* A device's decryption keys (keyring-decrypt.c): every *.pem and *.jwk
 * of dir as a private ENC key.  dir must be owned by the effective uid
 * with mode 0700 or stricter, not a symbolic link; each key file a
 * regular file (not a symbolic link) owned by that uid, mode 0600 or
 * stricter.  Anything else, or a file that does not load, refuses the
 * whole directory naming the file (all or nothing); other names are
 * ignored; an empty directory gives no key. */
int sfu_keyring_load_decryption_dir(struct sfu_keyring *ring, const char *dir, struct sfu_err *err) _wur_;
void sfu_keyring_free(struct sfu_keyring *ring);
static inline void sfu_keyring_freep(struct sfu_keyring **k) { sfu_keyring_free(*k); }
#define _cleanup_keyring_ _cleanup_(sfu_keyring_freep)

static inline void sfu_evp_pkey_freep(EVP_PKEY **p) { EVP_PKEY_free(*p); }
#define _cleanup_evp_pkey_ _cleanup_(sfu_evp_pkey_freep)

/* A key file (PEM or JWK; a private key file adds its public key) or, when
 * path is a directory, every key of it as sfu_keyring_load_dir() does,
 * added to ring. */
int sfu_keyring_load_path(struct sfu_keyring *ring, const char *path, struct sfu_err *err) _wur_;
