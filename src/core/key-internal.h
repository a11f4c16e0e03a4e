/* SPDX-License-Identifier: MIT */
/* Shared by key.c (loading, public export, the trust store) and key-gen.c
 * (generation and private export, linked by secfu-manifest only). */
#pragma once
#include <jansson.h>
#include <dirent.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/param_build.h>
#include "core/key.h"

struct sfu_key_curve {
        enum sfu_key_type type;
        const char *jwk_name;
        const char *group;              /* OpenSSL's name */
        size_t size;                    /* bytes per coordinate */
};
const struct sfu_key_curve *sfu_key_curve(enum sfu_key_type t);
const struct sfu_key_curve *sfu_key_curve_by_jwk_name(const char *name);

/* Classifies pkey (taking it), checks it, and makes the key. */
int sfu_key_finish(EVP_PKEY *pkey, const char *source, const char *kid, enum sfu_key_use use, bool want_private,
                   struct sfu_key **ret, struct sfu_err *err) _wur_;
/* Sets member name of jwk to the base64url of the key's BIGNUM parameter
 * param, left-padded to pad bytes (0: minimal); or of its octet string
 * parameter.  -ENOENT when the key does not have it. */
int sfu_key_jwk_set_bn(json_t *jwk, const EVP_PKEY *pkey, const char *param, const char *name, size_t pad) _wur_;
int sfu_key_jwk_set_octets(json_t *jwk, const EVP_PKEY *pkey, const char *param, const char *name) _wur_;

/* OpenSSL refuses RSA moduli above this for public operations anyway;
 * bounding it here keeps a hostile key from costing minutes. */
#define RSA_MAX_BITS 16384
/* Longest base64url JWK member we accept (a 16384-bit modulus is 2731). */
#define JWK_MEMBER_MAX 4096
#define KID_MAX 256

static inline void bn_clear_freep(BIGNUM **p) {
        BN_clear_free(*p);
}
static inline void param_bld_freep(OSSL_PARAM_BLD **p) {
        OSSL_PARAM_BLD_free(*p);
}
/* OpenSSL 3.0 has no OSSL_PARAM_clear_free: wipe every value (they may
 * be private key parts) before freeing. */
static inline void param_clear_freep(OSSL_PARAM **params) {
        if (!*params)
                return;
        for (OSSL_PARAM *p = *params; p->key; p++)
                if (p->data && p->data_size)
                        OPENSSL_cleanse(p->data, p->data_size);
        OSSL_PARAM_free(*params);
}
static inline void pkey_ctx_freep(EVP_PKEY_CTX **p) {
        EVP_PKEY_CTX_free(*p);
}
static inline void md_ctx_freep(EVP_MD_CTX **p) {
        EVP_MD_CTX_free(*p);
}
static inline void bio_freep(BIO **p) {
        BIO_free(*p);
}
static inline void decoder_ctx_freep(OSSL_DECODER_CTX **p) {
        OSSL_DECODER_CTX_free(*p);
}
static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

/* Bytes that may be key material: wiped when they go out of scope. */
struct secret {
        uint8_t *data;
        size_t len;
};
static inline void secret_freep(struct secret *s) {
        if (s->data) {
                sfu_wipe(s->data, s->len);
                free(s->data);
        }
}
static inline void secret_strp(char **s) {
        if (*s) {
                sfu_wipe(*s, strlen(*s));
                free(*s);
        }
}
/* A key file buffer, always SFU_KEY_FILE_MAX + 1 bytes (read_key_fd). */
static inline void secret_bufp(char **s) {
        if (*s) {
                sfu_wipe(*s, SFU_KEY_FILE_MAX + 1);
                free(*s);
        }
}
static inline const char *src_name(const char *source) {
        return source ? source : "key";
}

/* An untrusted name for a one-line message: at most 32 characters,
 * anything but printable ASCII as '?'. */
static inline const char *printable(const char *s, char buf[static 33]) {
        size_t i = 0;
        for (; s[i] && i < 32; i++)
                buf[i] = ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e) ? '?' : s[i];
        buf[i] = 0;
        return buf;
}

/* 1 to KID_MAX printable ASCII characters. */
bool sfu_key_kid_valid(const char *kid, size_t len);
/* Reads a key file open at fd (path for messages) into a buffer of
 * SFU_KEY_FILE_MAX + 1 bytes, which the caller wipes (secret_bufp). */
int sfu_key_read_fd(int fd, const char *path, char **ret, size_t *ret_len, struct sfu_err *err) _wur_;
