/* SPDX-License-Identifier: MIT */
/* Shared by jwe.c (parse, decrypt: the daemon), jwe-encrypt.c (the
 * vendor tool) and the COSE twins (cose-crypt.c, cose-crypt-encrypt.c):
 * the key-management and content-encryption steps both formats and both
 * directions need. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <jansson.h>
#include "core/jwe.h"
#include "core/key.h"

/* Largest ECDH shared secret: P-521, 66 bytes. */
#define SFU_JWE_ECDH_Z_MAX 66

/* The ECDH shared secret Z of priv and peer (same curve; peer checked
 * by OpenSSL as a valid public key) into z.  -EBADMSG on failure. */
int sfu_jwe_ecdh(EVP_PKEY *priv, EVP_PKEY *peer, uint8_t z[static SFU_JWE_ECDH_Z_MAX], size_t *ret_len)
        __attribute__((warn_unused_result));

/* Concat KDF of RFC 7518 4.6.2 (NIST SP 800-56A, SHA-256) for a key of
 * out_len bytes (1 to 32: one round): the first out_len bytes of
 * SHA-256(00000001 || Z || len(alg) || alg || len(apu) || apu || len(apv)
 * || apv || keydatalen), lengths and keydatalen (bits) 32-bit big-endian. */
int sfu_jwe_concat_kdf(const uint8_t *z, size_t z_len, const char *alg, const uint8_t *apu, size_t apu_len,
                       const uint8_t *apv, size_t apv_len, uint8_t *out, size_t out_len)
        __attribute__((warn_unused_result));

/* RFC 3394 AES-256 key wrap of a 32-byte content key into 40 bytes
 * (jwe-encrypt.c), and unwrap (-EBADMSG when the integrity check fails). */
int sfu_jwe_aes_wrap(const uint8_t kek[static 32], const uint8_t cek[static 32], uint8_t out[static 40])
        __attribute__((warn_unused_result));
int sfu_jwe_aes_unwrap(const uint8_t kek[static 32], const uint8_t *wrapped, size_t wrapped_len, uint8_t cek[static 32])
        __attribute__((warn_unused_result));

/* RSA-OAEP-256 (SHA-256, MGF1 with SHA-256) of a 32-byte content key:
 * unwrap with a private key (jwe-decrypt.c; -EBADMSG on any failure) and
 * wrap for a public one (jwe-encrypt.c). */
int sfu_jwe_rsa_unwrap(const struct sfu_key *key, const uint8_t *ek, size_t ek_len, uint8_t cek[static 32])
        __attribute__((warn_unused_result));
int sfu_jwe_rsa_wrap(const struct sfu_key *key, const uint8_t cek[static 32], uint8_t **ret, size_t *ret_len)
        __attribute__((warn_unused_result));

/* AES-256-GCM with a 12-byte IV and a 16-byte tag.  Decryption into a new
 * buffer of len + 1 bytes (NUL-terminated; -EBADMSG, nothing returned,
 * when the tag does not verify), and encryption into out (len bytes). */
int sfu_jwe_gcm_decrypt(const uint8_t cek[static 32], const uint8_t iv[static 12], const uint8_t *aad,
                        size_t aad_len, const uint8_t *in, size_t len, const uint8_t tag[static 16], uint8_t **ret)
        __attribute__((warn_unused_result));
int sfu_jwe_gcm_encrypt(const uint8_t cek[static 32], const uint8_t iv[static 12], const uint8_t *aad,
                        size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[static 16])
        __attribute__((warn_unused_result));

/* jwe-encrypt.c: a fresh ephemeral key on peer's curve and the ECDH
 * secret Z with peer; and an ephemeral public key as a JWK (kty, crv and
 * the coordinates, without "d"). */
int sfu_jwe_ephemeral(EVP_PKEY *peer, EVP_PKEY **ret_eph, uint8_t z[static SFU_JWE_ECDH_Z_MAX], size_t *ret_len)
        __attribute__((warn_unused_result));
int sfu_jwe_epk_jwk(EVP_PKEY *eph, enum sfu_key_type type, json_t **ret) __attribute__((warn_unused_result));

/* The recipients of a JWE or COSE_Encrypt, as the one decryption driver
 * sees them (ctx is the parsed structure). */
struct sfu_jwe_recipients_ops {
        const char *what;               /* "JWE", "COSE_Encrypt": for the message that no key fits */
        size_t n;
        enum sfu_jwe_alg (*alg)(const void *ctx, size_t i);
        const struct sfu_key *(*epk)(const void *ctx, size_t i);        /* NULL for RSA-OAEP-256 */
        bool (*names)(const void *ctx, size_t i, const struct sfu_key *key);    /* its kid is the key's */
        /* the content key with key, then the content into ret->plaintext(_len); -EBADMSG when it fails */
        int (*attempt)(const void *ctx, size_t i, const struct sfu_key *key, struct sfu_jwe_result *ret);
};

/* Tries the recipients whose kid names a key, then every recipient whose
 * alg and curve fit a key, each pair once (jwe-decrypt.c).  The messages
 * of sfu_jwe_decrypt. */
int sfu_jwe_decrypt_with(const struct sfu_jwe_recipients_ops *ops, const void *ctx, const struct sfu_keyring *keys,
                         struct sfu_jwe_result *ret, struct sfu_err *err) __attribute__((warn_unused_result));

static inline void sfu_jwe_evp_cipher_ctx_freep(EVP_CIPHER_CTX **p) {
        EVP_CIPHER_CTX_free(*p);
}
static inline void sfu_jwe_evp_pkey_ctx_freep(EVP_PKEY_CTX **p) {
        EVP_PKEY_CTX_free(*p);
}
static inline void sfu_jwe_evp_cipher_freep(EVP_CIPHER **p) {
        EVP_CIPHER_free(*p);
}
