/* SPDX-License-Identifier: MIT */
/* Shared by jwe.c (parse, decrypt: the daemon) and jwe-encrypt.c (the
 * vendor tool): the key-agreement steps both directions need. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

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

static inline void sfu_jwe_evp_cipher_ctx_freep(EVP_CIPHER_CTX **p) {
        EVP_CIPHER_CTX_free(*p);
}
static inline void sfu_jwe_evp_pkey_ctx_freep(EVP_PKEY_CTX **p) {
        EVP_PKEY_CTX_free(*p);
}
static inline void sfu_jwe_evp_cipher_freep(EVP_CIPHER **p) {
        EVP_CIPHER_free(*p);
}
