/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "core/b64url.h"
#include "core/file.h"
#include "core/hss.h"
#include "core/json.h"
#include "core/key.h"
#include "core/scope.h"
#include "core/key-internal.h"

#define PAIRWISE_TEST_INPUT "secfud key consistency test"

/* A parsed JWK may hold private members: wipe the strings jansson keeps
 * before letting it go. */
void sfu_key_jwk_wipe_free(json_t *jwk) {
        const char *name;
        json_t *v;

        if (!jwk)
                return;
        json_object_foreach(jwk, name, v) if (json_is_string(v))
                sfu_wipe((char *) json_string_value(v), json_string_length(v));
        json_decref(jwk);
}
static void jwk_wipe_decrefp(json_t **j) {
        sfu_key_jwk_wipe_free(*j);
}

static const char *const key_type_names[_SFU_KEY_TYPE_MAX] = {
        [SFU_KEY_RSA] = "RSA",       [SFU_KEY_EC_P256] = "P-256",   [SFU_KEY_EC_P384] = "P-384",
        [SFU_KEY_EC_P521] = "P-521", [SFU_KEY_ED25519] = "Ed25519", [SFU_KEY_HSS] = "HSS",
        [SFU_KEY_X25519] = "X25519",
};

const char *sfu_key_type_name(enum sfu_key_type t) {
        if ((unsigned) t >= _SFU_KEY_TYPE_MAX)
                return "unknown";
        return key_type_names[t];
}

/* The curves we support: JWK name, OpenSSL group name, bytes per
 * coordinate. */
static const struct sfu_key_curve curves[] = {
        {SFU_KEY_EC_P256, "P-256", "prime256v1", 32},
        {SFU_KEY_EC_P384, "P-384", "secp384r1", 48},
        {SFU_KEY_EC_P521, "P-521", "secp521r1", 66},
};

const struct sfu_key_curve *sfu_key_curve_by_jwk_name(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(curves); i++)
                if (strcmp(name, curves[i].jwk_name) == 0)
                        return &curves[i];
        return NULL;
}

const struct sfu_key_curve *sfu_key_curve(enum sfu_key_type t) {
        for (size_t i = 0; i < ELEMENTSOF(curves); i++)
                if (curves[i].type == t)
                        return &curves[i];
        return NULL;
}

/* ---------------------------------------------------------------- checks */

static bool pkey_has_private(EVP_PKEY *pkey, enum sfu_key_type type) {
        _cleanup_(bn_clear_freep) BIGNUM *bn = NULL;
        size_t len = 0;
        bool has;

        switch (type) {
        case SFU_KEY_RSA:
                has = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_D, &bn) == 1;
                break;
        case SFU_KEY_EC_P256:
        case SFU_KEY_EC_P384:
        case SFU_KEY_EC_P521:
                has = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &bn) == 1;
                break;
        case SFU_KEY_ED25519:
        case SFU_KEY_X25519:
                has = EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, NULL, 0, &len) == 1;
                break;
        case SFU_KEY_HSS:
        case _SFU_KEY_TYPE_MAX:
        default:
                has = false;
        }
        ERR_clear_error();
        return has;
}

/* Classifies pkey; refuses every type and curve that the purpose (JWS or
 * key management) here cannot use, with a reason. */
static int pkey_classify(EVP_PKEY *pkey, const char *source, enum sfu_key_use use, enum sfu_key_type *ret_type,
                         int *ret_bits, struct sfu_err *err) {
        int bits = EVP_PKEY_get_bits(pkey);

        if (EVP_PKEY_is_a(pkey, "RSA")) {
                if (bits < SFU_RSA_MIN_BITS)
                        return sfu_err_set(err, SFU_ERR_SIGNATURE, EKEYREJECTED,
                                           "%s: RSA key of %d bits is below the minimum of %d",
                                           src_name(source), bits, SFU_RSA_MIN_BITS);
                if (bits > RSA_MAX_BITS)
                        return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                           "%s: RSA key of %d bits is above the maximum of %d",
                                           src_name(source), bits, RSA_MAX_BITS);
                *ret_type = SFU_KEY_RSA;
                *ret_bits = bits;
                return 0;
        }
        if (EVP_PKEY_is_a(pkey, "RSA-PSS"))
                return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                   "%s: RSA-PSS-restricted keys are not supported; use a plain RSA key for "
                                   "PS256/384/512",
                                   src_name(source));
        if (EVP_PKEY_is_a(pkey, "EC")) {
                char group[64];
                size_t glen = 0;
                if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) != 1) {
                        ERR_clear_error();
                        return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                           "%s: EC key without a named curve is not supported",
                                           src_name(source));
                }
                for (size_t i = 0; i < ELEMENTSOF(curves); i++)
                        if (strcmp(group, curves[i].group) == 0) {
                                *ret_type = curves[i].type;
                                *ret_bits = bits;
                                return 0;
                        }
                return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                   "%s: EC curve %s is not supported (P-256, P-384 and P-521 are)",
                                   src_name(source), group);
        }
        if (EVP_PKEY_is_a(pkey, "ED25519")) {
                if (use == SFU_KEY_USE_ENC)
                        return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                           "%s: Ed25519 is a signature key; a decryption key is RSA, EC or X25519",
                                           src_name(source));
                *ret_type = SFU_KEY_ED25519;
                *ret_bits = bits;
                return 0;
        }
        if (EVP_PKEY_is_a(pkey, "X25519")) {
                if (use == SFU_KEY_USE_SIG)
                        return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                           "%s: X25519 keys are not supported for signatures (a key-agreement key)",
                                           src_name(source));
                *ret_type = SFU_KEY_X25519;
                *ret_bits = bits;
                return 0;
        }
        if (EVP_PKEY_is_a(pkey, "ED448"))
                return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                   "%s: Ed448 keys are not supported (EdDSA here means Ed25519 only)",
                                   src_name(source));
        return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED, "%s: %s keys are not supported (RSA, EC P-256/384/521 and %s are)",
                           src_name(source),
                           EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "this type of",
                           use == SFU_KEY_USE_ENC ? "X25519" : "Ed25519");
}

/* Signs a fixed message and checks it with the same key: proves that the
 * private half matches the public half (a JWK can carry any d). */
static int pkey_pairwise_test(EVP_PKEY *pkey, enum sfu_key_type type) {
        _cleanup_(md_ctx_freep) EVP_MD_CTX *sctx = NULL, *vctx = NULL;
        _cleanup_free_ uint8_t *sig = NULL;
        const char *md = type == SFU_KEY_ED25519 ? NULL : "SHA256";
        const uint8_t *msg = (const uint8_t *) PAIRWISE_TEST_INPUT;
        size_t msg_len = strlen(PAIRWISE_TEST_INPUT), sig_len = 0;
        bool good;

        sctx = EVP_MD_CTX_new();
        vctx = EVP_MD_CTX_new();
        if (!sctx || !vctx)
                return -ENOMEM;
        good = EVP_DigestSignInit_ex(sctx, NULL, md, NULL, NULL, pkey, NULL) == 1 &&
               EVP_DigestSign(sctx, NULL, &sig_len, msg, msg_len) == 1 && sig_len > 0;
        if (good) {
                sig = malloc(sig_len);
                if (!sig)
                        return -ENOMEM;
                good = EVP_DigestSign(sctx, sig, &sig_len, msg, msg_len) == 1 &&
                       EVP_DigestVerifyInit_ex(vctx, NULL, md, NULL, NULL, pkey, NULL) == 1 &&
                       EVP_DigestVerify(vctx, sig, sig_len, msg, msg_len) == 1;
        }
        ERR_clear_error();
        return good ? 0 : -EKEYREJECTED;
}

bool sfu_key_kid_valid(const char *kid, size_t len) {
        if (len == 0 || len > KID_MAX || strlen(kid) != len)
                return false;
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) kid[i] < 0x20 || (unsigned char) kid[i] > 0x7e)
                        return false;
        return true;
}

/* Takes pkey (on success and on failure), checks it and wraps it. */
int sfu_key_finish(EVP_PKEY *pkey_in, const char *source, const char *kid, enum sfu_key_use use,
                   bool want_private, struct sfu_key **ret, struct sfu_err *err) {
        _cleanup_evp_pkey_ EVP_PKEY *pkey = pkey_in;
        _cleanup_key_ struct sfu_key *key = NULL;
        _cleanup_(pkey_ctx_freep) EVP_PKEY_CTX *ctx = NULL;
        enum sfu_key_type type = SFU_KEY_RSA;
        int bits = 0, r;
        bool is_private;

        r = pkey_classify(pkey, source, use, &type, &bits, err);
        if (r < 0)
                return r;
        is_private = pkey_has_private(pkey, type);
        if (want_private && !is_private)
                return sfu_err_set(err, SFU_ERR_PARSE, ENOKEY,
                                   "%s: is a public key; a private key is needed", src_name(source));

        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        if (!ctx)
                return -ENOMEM;
        if (EVP_PKEY_public_check(ctx) != 1) {
                ERR_clear_error();
                return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED, "%s: the public key is invalid",
                                   src_name(source));
        }
        /* An X25519 private key carries no separate public value: OpenSSL
         * derives it (and the JWK loader compares "x" with it). */
        if (is_private && type != SFU_KEY_X25519) {
                r = pkey_pairwise_test(pkey, type);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                           "%s: the private key does not match the public key",
                                           src_name(source));
        }

        key = calloc(1, sizeof(*key));
        if (!key)
                return -ENOMEM;
        key->pkey = TAKE_PTR(pkey);
        key->type = type;
        key->bits = bits;
        key->is_private = is_private;
        key->use = use;
        key->source = strdup(src_name(source));
        if (!key->source)
                return -ENOMEM;
        if (kid) {
                key->kid = strdup(kid);
                if (!key->kid)
                        return -ENOMEM;
        } else {
                r = sfu_key_thumbprint(key, &key->kid);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(key);
        return 0;
}

/* ---------------------------------------------------------------- PEM */

static int no_passphrase(char *buf, size_t size, size_t *ret_len, const OSSL_PARAM params[],
                         void *userdata) {
        (void) buf;
        (void) size;
        (void) params;
        (void) userdata;
        *ret_len = 0;
        return 0;
}

static int key_from_pem(const char *buf, size_t len, const char *source, enum sfu_key_use use, bool want_private,
                        struct sfu_key **ret, struct sfu_err *err) {
        _cleanup_(decoder_ctx_freep) OSSL_DECODER_CTX *dctx = NULL;
        EVP_PKEY *pkey = NULL;
        const unsigned char *p = (const unsigned char *) buf;
        size_t left = len;

        if (!memmem(buf, len, "-----BEGIN ", 11))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: neither a PEM key nor a JWK",
                                   src_name(source));
        if (memmem(buf, len, "ENCRYPTED", 9))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "%s: encrypted private keys are not supported; store the key unencrypted "
                                   "with mode 0600",
                                   src_name(source));

        /* "openssl ecparam -genkey" writes an EC PARAMETERS block before
         * the key: start at the first block that is not one. */
        for (const char *b = buf; (b = memmem(b, len - (size_t) (b - buf), "-----BEGIN ", 11)); b += 11)
                if ((size_t) (buf + len - b) < 30 || memcmp(b, "-----BEGIN EC PARAMETERS-----", 29) != 0) {
                        p = (const unsigned char *) b;
                        left = len - (size_t) (b - buf);
                        break;
                }

        /* Selection 0: any of private key, public key (SubjectPublicKeyInfo,
         * PKCS#8, PKCS#1 and the traditional EC/RSA forms). */
        dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, NULL, want_private ? EVP_PKEY_KEYPAIR : 0,
                                             NULL, NULL);
        if (!dctx)
                return -ENOMEM;
        if (OSSL_DECODER_CTX_set_passphrase_cb(dctx, no_passphrase, NULL) != 1)
                return -ENOMEM;
        if (OSSL_DECODER_from_data(dctx, &p, &left) != 1 || !pkey) {
                ERR_clear_error();
                EVP_PKEY_free(pkey);
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: no usable %skey found in the PEM data",
                                   src_name(source), want_private ? "private " : "");
        }
        ERR_clear_error();
        return sfu_key_finish(pkey, source, NULL, use, want_private, ret, err);
}

/* ---------------------------------------------------------------- loading */

int sfu_key_from_buffer(const char *buf, size_t len, const char *source, bool want_private,
                        struct sfu_key **ret, struct sfu_err *err) {
        return sfu_key_from_buffer_for(buf, len, source, SFU_KEY_USE_SIG, want_private, ret, err);
}

int sfu_key_from_buffer_for(const char *buf, size_t len, const char *source, enum sfu_key_use use,
                            bool want_private, struct sfu_key **ret, struct sfu_err *err) {
        _cleanup_(jwk_wipe_decrefp) json_t *jwk = NULL;
        size_t i = 0;
        int r;

        if (len > SFU_KEY_FILE_MAX)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "%s: key of %zu bytes exceeds the limit of %u",
                                   src_name(source), len, SFU_KEY_FILE_MAX);
        while (i < len && buf[i] && strchr(" \t\r\n", buf[i]))
                i++;
        if (i == len)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: empty key file", src_name(source));
        if (buf[i] != '{')
                return key_from_pem(buf, len, source, use, want_private, ret, err);

        r = sfu_json_parse_object(buf, len, SFU_KEY_FILE_MAX, &jwk, err);
        if (r < 0) {
                sfu_err_prefix(err, "%s", src_name(source));
                return r;
        }
        return sfu_key_from_jwk_for(jwk, source, use, want_private, ret, err);
}

/* Reads a whole key file from fd into a buffer of SFU_KEY_FILE_MAX + 1
 * bytes (wiped on free). */
int sfu_key_read_fd(int fd, const char *path, char **ret, size_t *ret_len, struct sfu_err *err) {
        int r = sfu_file_load_fd(fd, SFU_KEY_FILE_MAX, SFU_FILE_REGULAR | SFU_FILE_SECRET, ret, ret_len);

        if (r == -EINVAL)
                return sfu_err_set(err, SFU_ERR_STORAGE, EINVAL, "%s: not a regular file", path);
        if (r == -EFBIG)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "%s: key file exceeds the limit of %u bytes", path,
                                   SFU_KEY_FILE_MAX);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "%s: %s", path, strerror(-r));
        return 0;
}

int sfu_key_load_file(const char *path, bool want_private, struct sfu_key **ret, struct sfu_err *err) {
        return sfu_key_load_file_for(path, SFU_KEY_USE_SIG, want_private, ret, err);
}

int sfu_key_load_file_for(const char *path, enum sfu_key_use use, bool want_private, struct sfu_key **ret,
                          struct sfu_err *err) {
        _cleanup_close_ int fd = -1;
        _cleanup_(secret_bufp) char *buf = NULL;
        size_t len = 0;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = errno;
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot open key %s: %s", path, strerror(r));
        }
        r = sfu_key_read_fd(fd, path, &buf, &len, err);
        if (r < 0)
                return r;
        return sfu_key_from_buffer_for(buf, len, path, use, want_private, ret, err);
}

bool sfu_key_same(const struct sfu_key *a, const struct sfu_key *b) {
        int r;

        if (!a || !b || a->type != b->type)
                return false;
        if (a->type == SFU_KEY_HSS)
                return a->hss_len == b->hss_len && memcmp(a->hss, b->hss, a->hss_len) == 0;
        r = EVP_PKEY_eq(a->pkey, b->pkey);
        ERR_clear_error();
        return r == 1;
}

int sfu_key_from_hss(const uint8_t *pub, size_t len, const char *source, struct sfu_key **ret,
                     struct sfu_err *err) {
        _cleanup_key_ struct sfu_key *key = NULL;
        int r;

        r = sfu_hss_public_key_check(pub, len, err);
        if (r < 0) {
                sfu_err_prefix(err, "%s", src_name(source));
                return r;
        }
        key = calloc(1, sizeof(*key));
        if (!key)
                return -ENOMEM;
        key->type = SFU_KEY_HSS;
        key->hss = malloc(len);
        key->source = strdup(src_name(source));
        if (!key->hss || !key->source)
                return -ENOMEM;
        memcpy(key->hss, pub, len);
        key->hss_len = len;
        r = sfu_hss_kid(pub, len, &key->kid);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(key);
        return 0;
}

void sfu_key_free(struct sfu_key *key) {
        if (!key)
                return;
        free(key->hss);
        sfu_scope_free(key->scope);
        EVP_PKEY_free(key->pkey);
        free(key->kid);
        free(key->source);
        free(key);
}

