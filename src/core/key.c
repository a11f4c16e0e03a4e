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
#include "core/json.h"
#include "core/jws.h"
#include "core/key.h"

/* OpenSSL refuses RSA moduli above this for public operations anyway;
 * bounding it here keeps a hostile key from costing minutes. */
#define RSA_MAX_BITS 16384
/* Longest base64url JWK member we accept (a 16384-bit modulus is 2731). */
#define JWK_MEMBER_MAX 4096
#define KID_MAX 256
#define PAIRWISE_TEST_INPUT "secfud key consistency test"

static inline void bn_clear_freep(BIGNUM **p) {
        BN_clear_free(*p);
}
static inline void param_bld_freep(OSSL_PARAM_BLD **p) {
        OSSL_PARAM_BLD_free(*p);
}
/* OpenSSL 3.0 has no OSSL_PARAM_clear_free: wipe every value (they may
 * be private key parts) before freeing. */
static void param_clear_freep(OSSL_PARAM **params) {
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
static void secret_freep(struct secret *s) {
        if (s->data) {
                sfu_wipe(s->data, s->len);
                free(s->data);
        }
}
static void secret_strp(char **s) {
        if (*s) {
                sfu_wipe(*s, strlen(*s));
                free(*s);
        }
}
/* A key file buffer, always SFU_KEY_FILE_MAX + 1 bytes (read_key_fd). */
static void secret_bufp(char **s) {
        if (*s) {
                sfu_wipe(*s, SFU_KEY_FILE_MAX + 1);
                free(*s);
        }
}
/* A parsed JWK may hold private members: wipe the strings jansson keeps
 * before letting it go. */
static void jwk_wipe_decrefp(json_t **j) {
        const char *name;
        json_t *v;

        if (!*j)
                return;
        json_object_foreach(*j, name, v) if (json_is_string(v))
                sfu_wipe((char *) json_string_value(v), json_string_length(v));
        json_decref(*j);
}

static const char *src_name(const char *source) {
        return source ? source : "key";
}

/* An untrusted name for a one-line message: at most 32 characters,
 * anything but printable ASCII as '?'. */
static const char *printable(const char *s, char buf[static 33]) {
        size_t i = 0;
        for (; s[i] && i < 32; i++)
                buf[i] = ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e) ? '?' : s[i];
        buf[i] = 0;
        return buf;
}

static const char *const key_type_names[_SFU_KEY_TYPE_MAX] = {
        [SFU_KEY_RSA] = "RSA",       [SFU_KEY_EC_P256] = "P-256",   [SFU_KEY_EC_P384] = "P-384",
        [SFU_KEY_EC_P521] = "P-521", [SFU_KEY_ED25519] = "Ed25519",
};

const char *sfu_key_type_name(enum sfu_key_type t) {
        if ((unsigned) t >= _SFU_KEY_TYPE_MAX)
                return "unknown";
        return key_type_names[t];
}

/* The curves we support: JWK name, OpenSSL group name, bytes per
 * coordinate. */
static const struct curve {
        enum sfu_key_type type;
        const char *jwk_name;
        const char *group;
        size_t size;
} curves[] = {
        {SFU_KEY_EC_P256, "P-256", "prime256v1", 32},
        {SFU_KEY_EC_P384, "P-384", "secp384r1", 48},
        {SFU_KEY_EC_P521, "P-521", "secp521r1", 66},
};

static const struct curve *curve_by_type(enum sfu_key_type t) {
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
                has = EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, NULL, 0, &len) == 1;
                break;
        case _SFU_KEY_TYPE_MAX:
        default:
                has = false;
        }
        ERR_clear_error();
        return has;
}

/* Classifies pkey; refuses every type and curve that JWS here cannot use,
 * with a reason. */
static int pkey_classify(EVP_PKEY *pkey, const char *source, enum sfu_key_type *ret_type, int *ret_bits,
                         struct sfu_err *err) {
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
                *ret_type = SFU_KEY_ED25519;
                *ret_bits = bits;
                return 0;
        }
        if (EVP_PKEY_is_a(pkey, "ED448"))
                return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                   "%s: Ed448 keys are not supported (EdDSA here means Ed25519 only)",
                                   src_name(source));
        return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                           "%s: %s keys are not supported (RSA, EC P-256/384/521 and Ed25519 are)",
                           src_name(source),
                           EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "this type of");
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

static bool kid_valid(const char *kid, size_t len) {
        if (len == 0 || len > KID_MAX || strlen(kid) != len)
                return false;
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) kid[i] < 0x20 || (unsigned char) kid[i] > 0x7e)
                        return false;
        return true;
}

/* Takes pkey (on success and on failure), checks it and wraps it. */
static int key_finish(EVP_PKEY *pkey_in, const char *source, const char *kid, bool want_private,
                      struct sfu_key **ret, struct sfu_err *err) {
        _cleanup_evp_pkey_ EVP_PKEY *pkey = pkey_in;
        _cleanup_key_ struct sfu_key *key = NULL;
        _cleanup_(pkey_ctx_freep) EVP_PKEY_CTX *ctx = NULL;
        enum sfu_key_type type = SFU_KEY_RSA;
        int bits = 0, r;
        bool is_private;

        r = pkey_classify(pkey, source, &type, &bits, err);
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
        if (is_private) {
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

static int key_from_pem(const char *buf, size_t len, const char *source, bool want_private,
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
        return key_finish(pkey, source, NULL, want_private, ret, err);
}

/* ---------------------------------------------------------------- JWK */

/* Decodes the base64url member `name`; -ENOENT when absent. */
static int jwk_member(json_t *jwk, const char *name, const char *source, struct secret *ret,
                      struct sfu_err *err) {
        json_t *v = json_object_get(jwk, name);
        uint8_t *data = NULL;
        size_t len = 0;

        if (!v)
                return -ENOENT;
        if (!json_is_string(v))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: JWK member \"%s\" is not a string",
                                   src_name(source), name);
        if (json_string_length(v) > JWK_MEMBER_MAX)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "%s: JWK member \"%s\" is longer than %d characters", src_name(source),
                                   name, JWK_MEMBER_MAX);
        if (sfu_b64url_decode(json_string_value(v), json_string_length(v), &data, &len) < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "%s: JWK member \"%s\" is not valid base64url", src_name(source), name);
        if (len == 0) {
                free(data);
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: JWK member \"%s\" is empty",
                                   src_name(source), name);
        }
        ret->data = data;
        ret->len = len;
        return 0;
}

static int jwk_required(json_t *jwk, const char *name, const char *source, struct secret *ret,
                        struct sfu_err *err) {
        int r = jwk_member(jwk, name, source, ret, err);
        if (r == -ENOENT)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: JWK has no \"%s\"", src_name(source),
                                   name);
        return r;
}

static int pkey_fromdata(const char *type_name, OSSL_PARAM_BLD *bld, int selection, EVP_PKEY **ret) {
        _cleanup_(param_clear_freep) OSSL_PARAM *params = NULL;
        _cleanup_(pkey_ctx_freep) EVP_PKEY_CTX *ctx = NULL;
        EVP_PKEY *pkey = NULL;

        params = OSSL_PARAM_BLD_to_param(bld);
        if (!params)
                return -ENOMEM;
        ctx = EVP_PKEY_CTX_new_from_name(NULL, type_name, NULL);
        if (!ctx)
                return -ENOMEM;
        if (EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &pkey, selection, params) != 1 ||
            !pkey) {
                ERR_clear_error();
                return -EINVAL;
        }
        *ret = pkey;
        return 0;
}

/* OSSL_PARAM_BLD keeps pointers to the BIGNUMs pushed until
 * OSSL_PARAM_BLD_to_param(): they live in this list until then. */
struct bn_list {
        BIGNUM *bn[8];
        size_t n;
};
static void bn_list_freep(struct bn_list *l) {
        for (size_t i = 0; i < l->n; i++)
                BN_clear_free(l->bn[i]);
}

static int bld_push_bytes_bn(OSSL_PARAM_BLD *bld, struct bn_list *keep, const char *param,
                             const struct secret *s) {
        BIGNUM *bn;

        if (keep->n >= ELEMENTSOF(keep->bn))
                return -E2BIG;
        bn = BN_bin2bn(s->data, (int) s->len, NULL);
        if (!bn)
                return -ENOMEM;
        keep->bn[keep->n++] = bn;
        if (OSSL_PARAM_BLD_push_BN(bld, param, bn) != 1)
                return -ENOMEM;
        return 0;
}

static int jwk_rsa(json_t *jwk, const char *source, EVP_PKEY **ret, struct sfu_err *err) {
        static const struct {
                const char *member;
                const char *param;
        } crt[] = {
                {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},       {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},
                {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},    {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2},
                {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
        };
        _cleanup_(secret_freep) struct secret n = {}, e = {}, d = {};
        _cleanup_(secret_freep) struct secret c0 = {}, c1 = {}, c2 = {}, c3 = {}, c4 = {};
        struct secret *crt_val[ELEMENTSOF(crt)] = {&c0, &c1, &c2, &c3, &c4};
        _cleanup_(bn_list_freep) struct bn_list keep = {};
        _cleanup_(param_bld_freep) OSSL_PARAM_BLD *bld = NULL;
        size_t n_crt = 0;
        int r;

        if (json_object_get(jwk, "oth"))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "%s: multi-prime RSA keys (\"oth\") are not supported", src_name(source));
        r = jwk_required(jwk, "n", source, &n, err);
        if (r < 0)
                return r;
        r = jwk_required(jwk, "e", source, &e, err);
        if (r < 0)
                return r;
        r = jwk_member(jwk, "d", source, &d, err);
        if (r < 0 && r != -ENOENT)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(crt); i++) {
                r = jwk_member(jwk, crt[i].member, source, crt_val[i], err);
                if (r == 0)
                        n_crt++;
                else if (r != -ENOENT)
                        return r;
        }
        if (n_crt > 0 && (!d.data || n_crt != ELEMENTSOF(crt)))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "%s: RSA JWK must have d with all of p, q, dp, dq, qi, or d alone",
                                   src_name(source));
        if (n.len > RSA_MAX_BITS / 8 + 1)
                return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                   "%s: RSA key of %zu bytes is above the maximum of %d bits",
                                   src_name(source), n.len, RSA_MAX_BITS);

        bld = OSSL_PARAM_BLD_new();
        if (!bld)
                return -ENOMEM;
        if (bld_push_bytes_bn(bld, &keep, OSSL_PKEY_PARAM_RSA_N, &n) < 0 ||
            bld_push_bytes_bn(bld, &keep, OSSL_PKEY_PARAM_RSA_E, &e) < 0)
                return -ENOMEM;
        if (d.data && bld_push_bytes_bn(bld, &keep, OSSL_PKEY_PARAM_RSA_D, &d) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n_crt; i++)
                if (bld_push_bytes_bn(bld, &keep, crt[i].param, crt_val[i]) < 0)
                        return -ENOMEM;
        r = pkey_fromdata("RSA", bld, d.data ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, ret);
        if (r == -EINVAL)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: OpenSSL refused the RSA JWK",
                                   src_name(source));
        return r;
}

static const char *jwk_crv(json_t *jwk, const char *source, struct sfu_err *err) {
        const char *crv = NULL;
        int r = sfu_json_get_string(jwk, "crv", &crv, NULL);
        if (r < 0) {
                sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: JWK has no string \"crv\"", src_name(source));
                return NULL;
        }
        return crv;
}

static int jwk_ec(json_t *jwk, const char *source, EVP_PKEY **ret, struct sfu_err *err) {
        _cleanup_(secret_freep) struct secret x = {}, y = {}, d = {};
        _cleanup_(bn_list_freep) struct bn_list keep = {};
        _cleanup_(param_bld_freep) OSSL_PARAM_BLD *bld = NULL;
        _cleanup_free_ uint8_t *point = NULL;
        const struct curve *curve = NULL;
        const char *crv;
        int r;

        crv = jwk_crv(jwk, source, err);
        if (!crv)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(curves); i++)
                if (strcmp(crv, curves[i].jwk_name) == 0)
                        curve = &curves[i];
        if (!curve) {
                char q[33];
                return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                   "%s: EC curve \"%s\" is not supported (P-256, P-384 and P-521 are)",
                                   src_name(source), printable(crv, q));
        }
        r = jwk_required(jwk, "x", source, &x, err);
        if (r < 0)
                return r;
        r = jwk_required(jwk, "y", source, &y, err);
        if (r < 0)
                return r;
        r = jwk_member(jwk, "d", source, &d, err);
        if (r < 0 && r != -ENOENT)
                return r;
        /* RFC 7518 6.2.1.2: coordinates are the full field size. */
        if (x.len != curve->size || y.len != curve->size || (d.data && d.len != curve->size))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "%s: %s JWK coordinates must be %zu bytes each", src_name(source),
                                   curve->jwk_name, curve->size);

        point = malloc(1 + 2 * curve->size);
        if (!point)
                return -ENOMEM;
        point[0] = 0x04;
        memcpy(point + 1, x.data, curve->size);
        memcpy(point + 1 + curve->size, y.data, curve->size);

        bld = OSSL_PARAM_BLD_new();
        if (!bld)
                return -ENOMEM;
        if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curve->group, 0) != 1 ||
            OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * curve->size) != 1)
                return -ENOMEM;
        if (d.data && bld_push_bytes_bn(bld, &keep, OSSL_PKEY_PARAM_PRIV_KEY, &d) < 0)
                return -ENOMEM;
        r = pkey_fromdata("EC", bld, d.data ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, ret);
        if (r == -EINVAL)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "%s: the EC JWK is not a valid %s key (point not on the curve?)",
                                   src_name(source), curve->jwk_name);
        return r;
}

static int jwk_okp(json_t *jwk, const char *source, EVP_PKEY **ret, struct sfu_err *err) {
        _cleanup_(secret_freep) struct secret x = {}, d = {};
        _cleanup_(param_bld_freep) OSSL_PARAM_BLD *bld = NULL;
        _cleanup_evp_pkey_ EVP_PKEY *pkey = NULL;
        uint8_t derived[32];
        size_t derived_len = 0;
        const char *crv;
        int r;

        crv = jwk_crv(jwk, source, err);
        if (!crv)
                return -EINVAL;
        if (strcmp(crv, "Ed448") == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                   "%s: Ed448 keys are not supported (EdDSA here means Ed25519 only)",
                                   src_name(source));
        if (strcmp(crv, "X25519") == 0 || strcmp(crv, "X448") == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                   "%s: %s is a key-agreement curve, not a signature key", src_name(source),
                                   crv);
        if (strcmp(crv, "Ed25519") != 0) {
                char q[33];
                return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED, "%s: OKP curve \"%s\" is not supported",
                                   src_name(source), printable(crv, q));
        }
        r = jwk_required(jwk, "x", source, &x, err);
        if (r < 0)
                return r;
        r = jwk_member(jwk, "d", source, &d, err);
        if (r < 0 && r != -ENOENT)
                return r;
        if (x.len != 32 || (d.data && d.len != 32))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "%s: Ed25519 JWK \"x\" and \"d\" must be 32 bytes", src_name(source));

        bld = OSSL_PARAM_BLD_new();
        if (!bld)
                return -ENOMEM;
        /* With d, build from d alone and compare the derived public key
         * with x: OpenSSL would otherwise take both as given. */
        if (d.data) {
                if (OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PRIV_KEY, d.data, d.len) != 1)
                        return -ENOMEM;
        } else if (OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, x.data, x.len) != 1)
                return -ENOMEM;
        r = pkey_fromdata("ED25519", bld, d.data ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, &pkey);
        if (r == -EINVAL)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: OpenSSL refused the Ed25519 JWK",
                                   src_name(source));
        if (r < 0)
                return r;
        if (d.data) {
                if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, derived, sizeof(derived),
                                                    &derived_len) != 1) {
                        ERR_clear_error();
                        return -EINVAL;
                }
                if (derived_len != 32 || memcmp(derived, x.data, 32) != 0)
                        return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                           "%s: the Ed25519 private key \"d\" does not match \"x\"",
                                           src_name(source));
        }
        *ret = TAKE_PTR(pkey);
        return 0;
}

int sfu_key_from_jwk(json_t *jwk, const char *source, bool want_private, struct sfu_key **ret,
                     struct sfu_err *err) {
        EVP_PKEY *pkey = NULL;
        const char *kty = NULL, *kid = NULL, *use = NULL;
        char q[33];
        json_t *v;
        int r;

        if (!json_is_object(jwk))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: JWK is not a JSON object",
                                   src_name(source));
        if (sfu_json_get_string(jwk, "kty", &kty, NULL) < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: JWK has no string \"kty\"",
                                   src_name(source));

        v = json_object_get(jwk, "kid");
        if (v) {
                if (!json_is_string(v) || !kid_valid(json_string_value(v), json_string_length(v)))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "%s: JWK \"kid\" must be 1 to %d printable ASCII characters",
                                           src_name(source), KID_MAX);
                kid = json_string_value(v);
        }
        r = sfu_json_get_string(jwk, "use", &use, NULL);
        if (r == 0 && strcmp(use, "sig") != 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: JWK \"use\" is \"%s\", not \"sig\"",
                                   src_name(source), printable(use, q));
        if (r < 0 && r != -ENOENT)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: JWK \"use\" is not a string",
                                   src_name(source));
        v = json_object_get(jwk, "key_ops");
        if (v) {
                bool sig_op = false;
                size_t i;
                json_t *op;
                if (!json_is_array(v))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: JWK \"key_ops\" is not an array",
                                           src_name(source));
                json_array_foreach(v, i, op) if (sfu_streq(json_string_value(op), "verify") ||
                                                 sfu_streq(json_string_value(op), "sign")) sig_op = true;
                if (!sig_op)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "%s: JWK \"key_ops\" allows neither \"sign\" nor \"verify\"",
                                           src_name(source));
        }

        if (strcmp(kty, "RSA") == 0)
                r = jwk_rsa(jwk, source, &pkey, err);
        else if (strcmp(kty, "EC") == 0)
                r = jwk_ec(jwk, source, &pkey, err);
        else if (strcmp(kty, "OKP") == 0)
                r = jwk_okp(jwk, source, &pkey, err);
        else if (strcmp(kty, "oct") == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                   "%s: symmetric (\"oct\") keys are not allowed: HMAC is never accepted",
                                   src_name(source));
        else
                return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                   "%s: JWK key type \"%s\" is not supported", src_name(source),
                                   printable(kty, q));
        if (r < 0)
                return r;

        _cleanup_key_ struct sfu_key *key = NULL;
        r = key_finish(pkey, source, kid, want_private, &key, err);
        if (r < 0)
                return r;

        /* An "alg" member restricts the key; it must at least fit it. */
        v = json_object_get(jwk, "alg");
        if (v) {
                enum sfu_jws_alg alg;
                if (!json_is_string(v) || sfu_jws_alg_from_name(json_string_value(v), &alg) < 0)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "%s: JWK \"alg\" is not a supported algorithm", src_name(source));
                if (!sfu_jws_alg_fits_key(alg, key))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "%s: JWK \"alg\" %s does not fit a %s key", src_name(source),
                                           sfu_jws_alg_name(alg), sfu_key_type_name(key->type));
        }
        *ret = TAKE_PTR(key);
        return 0;
}

/* ---------------------------------------------------------------- loading */

int sfu_key_from_buffer(const char *buf, size_t len, const char *source, bool want_private,
                        struct sfu_key **ret, struct sfu_err *err) {
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
                return key_from_pem(buf, len, source, want_private, ret, err);

        r = sfu_json_parse_object(buf, len, SFU_KEY_FILE_MAX, &jwk, err);
        if (r < 0) {
                sfu_err_prefix(err, "%s", src_name(source));
                return r;
        }
        return sfu_key_from_jwk(jwk, source, want_private, ret, err);
}

/* Reads a whole key file from fd into a buffer of SFU_KEY_FILE_MAX + 1
 * bytes (wiped on free). */
static int read_key_fd(int fd, const char *path, char **ret, size_t *ret_len, struct sfu_err *err) {
        _cleanup_(secret_bufp) char *buf = NULL;
        struct stat st;
        size_t len = 0;

        if (fstat(fd, &st) < 0) {
                int e = errno;
                return sfu_err_set(err, SFU_ERR_STORAGE, e, "%s: %s", path, strerror(e));
        }
        if (!S_ISREG(st.st_mode))
                return sfu_err_set(err, SFU_ERR_STORAGE, EINVAL, "%s: not a regular file", path);
        if ((uintmax_t) st.st_size > SFU_KEY_FILE_MAX)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG,
                                   "%s: key file of %jd bytes exceeds the limit of %u", path,
                                   (intmax_t) st.st_size, SFU_KEY_FILE_MAX);
        buf = malloc(SFU_KEY_FILE_MAX + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf + len, SFU_KEY_FILE_MAX + 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int e = errno;
                        return sfu_err_set(err, SFU_ERR_STORAGE, e, "%s: %s", path, strerror(e));
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > SFU_KEY_FILE_MAX)
                        return sfu_err_set(err, SFU_ERR_SIZE, E2BIG,
                                           "%s: key file exceeds the limit of %u bytes", path,
                                           SFU_KEY_FILE_MAX);
        }
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

int sfu_key_load_file(const char *path, bool want_private, struct sfu_key **ret, struct sfu_err *err) {
        _cleanup_close_ int fd = -1;
        _cleanup_(secret_bufp) char *buf = NULL;
        size_t len = 0;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = errno;
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot open key %s: %s", path, strerror(r));
        }
        r = read_key_fd(fd, path, &buf, &len, err);
        if (r < 0)
                return r;
        return sfu_key_from_buffer(buf, len, path, want_private, ret, err);
}

int sfu_key_generate(const char *alg_name, struct sfu_key **ret, struct sfu_err *err) {
        enum sfu_jws_alg alg;
        EVP_PKEY *pkey = NULL;
        char q[33];

        if (!alg_name || sfu_jws_alg_from_name(alg_name, &alg) < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "cannot generate a key for algorithm \"%s\" (RS256..512, PS256..512, "
                                   "ES256..512, EdDSA are supported)",
                                   printable(alg_name ? alg_name : "", q));
        switch (alg) {
        case SFU_JWS_RS256:
        case SFU_JWS_RS384:
        case SFU_JWS_RS512:
        case SFU_JWS_PS256:
        case SFU_JWS_PS384:
        case SFU_JWS_PS512:
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 3072);
                break;
        case SFU_JWS_ES256:
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
                break;
        case SFU_JWS_ES384:
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
                break;
        case SFU_JWS_ES512:
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
                break;
        case SFU_JWS_EDDSA:
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
                break;
        case _SFU_JWS_ALG_MAX:
        case _SFU_JWS_ALG_INVALID:
        default:
                return -EINVAL;
        }
        if (!pkey) {
                ERR_clear_error();
                return sfu_err_set(err, SFU_ERR_SIGNATURE, ENOMEM, "key generation for %s failed", alg_name);
        }
        return key_finish(pkey, "generated key", NULL, true, ret, err);
}

/* ---------------------------------------------------------------- export */

/* base64url of bn, left-padded with zeros to pad bytes (0: minimal). */
static char *bn_b64(const BIGNUM *bn, size_t pad) {
        _cleanup_(secret_freep) struct secret bytes = {};
        size_t len = pad ? pad : (size_t) BN_num_bytes(bn);

        if (len == 0)
                len = 1;
        bytes.data = malloc(len);
        if (!bytes.data)
                return NULL;
        bytes.len = len;
        if (BN_bn2binpad(bn, bytes.data, (int) len) < 0)
                return NULL;
        return sfu_b64url_encode(bytes.data, len);
}

/* Sets member `name` of jwk to the base64url of BN parameter `param`.
 * -ENOENT when the key does not have it. */
static int set_bn_member(json_t *jwk, const EVP_PKEY *pkey, const char *param, const char *name,
                         size_t pad) {
        _cleanup_(bn_clear_freep) BIGNUM *bn = NULL;
        _cleanup_(secret_strp) char *b64 = NULL;

        if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1) {
                ERR_clear_error();
                return -ENOENT;
        }
        b64 = bn_b64(bn, pad);
        if (!b64)
                return -ENOMEM;
        if (json_object_set_new(jwk, name, json_string(b64)) < 0)
                return -ENOMEM;
        return 0;
}

static int set_octet_member(json_t *jwk, const EVP_PKEY *pkey, const char *param, const char *name) {
        uint8_t buf[64];
        size_t len = 0;
        _cleanup_(secret_strp) char *b64 = NULL;

        if (EVP_PKEY_get_octet_string_param(pkey, param, buf, sizeof(buf), &len) != 1) {
                ERR_clear_error();
                return -ENOENT;
        }
        b64 = sfu_b64url_encode(buf, len);
        sfu_wipe(buf, sizeof(buf));
        if (!b64)
                return -ENOMEM;
        if (json_object_set_new(jwk, name, json_string(b64)) < 0)
                return -ENOMEM;
        return 0;
}

static int key_jwk(const struct sfu_key *key, bool include_private, bool with_kid, json_t **ret) {
        _cleanup_json_ json_t *jwk = json_object();
        const struct curve *curve;
        int r;

        if (!key || !key->pkey)
                return -EINVAL;
        if (include_private && !key->is_private)
                return -ENOKEY;
        if (!jwk)
                return -ENOMEM;

        switch (key->type) {
        case SFU_KEY_RSA:
                if (json_object_set_new(jwk, "kty", json_string("RSA")) < 0)
                        return -ENOMEM;
                r = set_bn_member(jwk, key->pkey, OSSL_PKEY_PARAM_RSA_N, "n", 0);
                if (r < 0)
                        return r == -ENOENT ? -EINVAL : r;
                r = set_bn_member(jwk, key->pkey, OSSL_PKEY_PARAM_RSA_E, "e", 0);
                if (r < 0)
                        return r == -ENOENT ? -EINVAL : r;
                if (include_private) {
                        static const char *const names[][2] = {
                                {OSSL_PKEY_PARAM_RSA_FACTOR1, "p"},
                                {OSSL_PKEY_PARAM_RSA_FACTOR2, "q"},
                                {OSSL_PKEY_PARAM_RSA_EXPONENT1, "dp"},
                                {OSSL_PKEY_PARAM_RSA_EXPONENT2, "dq"},
                                {OSSL_PKEY_PARAM_RSA_COEFFICIENT1, "qi"},
                        };
                        r = set_bn_member(jwk, key->pkey, OSSL_PKEY_PARAM_RSA_D, "d", 0);
                        if (r < 0)
                                return r == -ENOENT ? -EINVAL : r;
                        /* A key made from d alone has no CRT values: then
                         * d alone, as RFC 7518 6.3.2 allows. */
                        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                                r = set_bn_member(jwk, key->pkey, names[i][0], names[i][1], 0);
                                if (r == -ENOENT)
                                        break;
                                if (r < 0)
                                        return r;
                        }
                        if (r == -ENOENT)
                                for (size_t i = 0; i < ELEMENTSOF(names); i++)
                                        (void) json_object_del(jwk, names[i][1]);
                }
                break;
        case SFU_KEY_EC_P256:
        case SFU_KEY_EC_P384:
        case SFU_KEY_EC_P521:
                curve = curve_by_type(key->type);
                if (json_object_set_new(jwk, "kty", json_string("EC")) < 0 ||
                    json_object_set_new(jwk, "crv", json_string(curve->jwk_name)) < 0)
                        return -ENOMEM;
                r = set_bn_member(jwk, key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, "x", curve->size);
                if (r < 0)
                        return r == -ENOENT ? -EINVAL : r;
                r = set_bn_member(jwk, key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, "y", curve->size);
                if (r < 0)
                        return r == -ENOENT ? -EINVAL : r;
                if (include_private) {
                        r = set_bn_member(jwk, key->pkey, OSSL_PKEY_PARAM_PRIV_KEY, "d", curve->size);
                        if (r < 0)
                                return r == -ENOENT ? -EINVAL : r;
                }
                break;
        case SFU_KEY_ED25519:
                if (json_object_set_new(jwk, "kty", json_string("OKP")) < 0 ||
                    json_object_set_new(jwk, "crv", json_string("Ed25519")) < 0)
                        return -ENOMEM;
                r = set_octet_member(jwk, key->pkey, OSSL_PKEY_PARAM_PUB_KEY, "x");
                if (r < 0)
                        return r == -ENOENT ? -EINVAL : r;
                if (include_private) {
                        r = set_octet_member(jwk, key->pkey, OSSL_PKEY_PARAM_PRIV_KEY, "d");
                        if (r < 0)
                                return r == -ENOENT ? -EINVAL : r;
                }
                break;
        case _SFU_KEY_TYPE_MAX:
        default:
                return -EINVAL;
        }
        if (with_kid && key->kid && json_object_set_new(jwk, "kid", json_string(key->kid)) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(jwk);
        return 0;
}

int sfu_key_to_jwk(const struct sfu_key *key, bool include_private, json_t **ret) {
        return key_jwk(key, include_private, true, ret);
}

int sfu_key_thumbprint(const struct sfu_key *key, char **ret) {
        _cleanup_json_ json_t *jwk = NULL;
        _cleanup_free_ char *canonical = NULL;
        uint8_t digest[32];
        unsigned digest_len = 0;
        char *b64;
        int r;

        r = key_jwk(key, false, false, &jwk);
        if (r < 0)
                return r;
        /* RFC 7638 3.2: the required members only, sorted, no white
         * space. Every value is base64url or a fixed name, so no escaping
         * is involved. */
        switch (key->type) {
        case SFU_KEY_RSA:
                r = asprintf(&canonical, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}",
                             json_string_value(json_object_get(jwk, "e")),
                             json_string_value(json_object_get(jwk, "n")));
                break;
        case SFU_KEY_EC_P256:
        case SFU_KEY_EC_P384:
        case SFU_KEY_EC_P521:
                r = asprintf(&canonical, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
                             json_string_value(json_object_get(jwk, "crv")),
                             json_string_value(json_object_get(jwk, "x")),
                             json_string_value(json_object_get(jwk, "y")));
                break;
        case SFU_KEY_ED25519:
                r = asprintf(&canonical, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}",
                             json_string_value(json_object_get(jwk, "x")));
                break;
        case _SFU_KEY_TYPE_MAX:
        default:
                return -EINVAL;
        }
        if (r < 0) {
                canonical = NULL;
                return -ENOMEM;
        }
        if (EVP_Digest(canonical, strlen(canonical), digest, &digest_len, EVP_sha256(), NULL) != 1) {
                ERR_clear_error();
                return -EIO;
        }
        b64 = sfu_b64url_encode(digest, digest_len);
        if (!b64)
                return -ENOMEM;
        *ret = b64;
        return 0;
}

int sfu_key_to_pem(const struct sfu_key *key, bool include_private, char **ret) {
        _cleanup_(bio_freep) BIO *bio = NULL;
        char *data = NULL, *out;
        long len;

        if (!key || !key->pkey)
                return -EINVAL;
        if (include_private && !key->is_private)
                return -ENOKEY;
        bio = BIO_new(include_private ? BIO_s_secmem() : BIO_s_mem());
        if (!bio)
                return -ENOMEM;
        /* OpenSSL 3 writes PKCS#8 ("BEGIN PRIVATE KEY") here. */
        if ((include_private ? PEM_write_bio_PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL)
                             : PEM_write_bio_PUBKEY(bio, key->pkey)) != 1) {
                ERR_clear_error();
                return -EIO;
        }
        len = BIO_get_mem_data(bio, &data);
        if (len <= 0 || !data)
                return -EIO;
        out = malloc((size_t) len + 1);
        if (!out)
                return -ENOMEM;
        memcpy(out, data, (size_t) len);
        out[len] = 0;
        *ret = out;
        return 0;
}

void sfu_key_free(struct sfu_key *key) {
        if (!key)
                return;
        EVP_PKEY_free(key->pkey);
        free(key->kid);
        free(key->source);
        free(key);
}

/* ---------------------------------------------------------------- keyring */

int sfu_keyring_new(struct sfu_keyring **ret) {
        struct sfu_keyring *ring = calloc(1, sizeof(*ring));
        if (!ring)
                return -ENOMEM;
        *ret = ring;
        return 0;
}

/* Whether key may join ring: room, strength, no duplicate. */
static int keyring_check_add(const struct sfu_keyring *ring, const struct sfu_key *key,
                             struct sfu_err *err) {
        if (ring->n_keys >= SFU_KEYRING_MAX)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "%s: the trust store holds at most %d keys",
                                   src_name(key->source), SFU_KEYRING_MAX);
        if (key->type == SFU_KEY_RSA && EVP_PKEY_get_bits(key->pkey) < SFU_RSA_MIN_BITS)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EKEYREJECTED,
                                   "%s: RSA key of %d bits is below the minimum of %d",
                                   src_name(key->source), EVP_PKEY_get_bits(key->pkey), SFU_RSA_MIN_BITS);
        for (size_t i = 0; i < ring->n_keys; i++) {
                const struct sfu_key *other = ring->keys[i];
                if (EVP_PKEY_eq(other->pkey, key->pkey) == 1)
                        return sfu_err_set(err, SFU_ERR_PARSE, EEXIST,
                                           "%s: the same public key is already in %s", src_name(key->source),
                                           src_name(other->source));
                ERR_clear_error();
                if (strcmp(other->kid, key->kid) == 0)
                        return sfu_err_set(err, SFU_ERR_PARSE, EEXIST,
                                           "%s: kid \"%s\" is already used by %s", src_name(key->source),
                                           key->kid, src_name(other->source));
        }
        return 0;
}

int sfu_keyring_add(struct sfu_keyring *ring, struct sfu_key *key, struct sfu_err *err) {
        int r;

        if (!ring || !key || !key->pkey || !key->kid)
                return -EINVAL;
        r = keyring_check_add(ring, key, err);
        if (r < 0)
                return r;
        ring->keys[ring->n_keys++] = key;
        return 0;
}

const struct sfu_key *sfu_keyring_find_kid(const struct sfu_keyring *ring, const char *kid) {
        if (!ring || !kid)
                return NULL;
        for (size_t i = 0; i < ring->n_keys; i++)
                if (sfu_streq(ring->keys[i]->kid, kid))
                        return ring->keys[i];
        return NULL;
}

static bool is_key_file_name(const char *name) {
        size_t len = strlen(name);
        if (name[0] == '.' || len < 5)
                return false;
        return strcmp(name + len - 4, ".pem") == 0 || strcmp(name + len - 4, ".jwk") == 0;
}

static int compare_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

struct name_list {
        char *names[SFU_KEYRING_MAX];
        size_t n;
};
static void name_list_freep(struct name_list *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->names[i]);
}

static int load_one(struct sfu_keyring *ring, int dfd, const char *dir, const char *name,
                    struct sfu_err *err) {
        _cleanup_close_ int fd = -1;
        _cleanup_(secret_bufp) char *buf = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_key_ struct sfu_key *key = NULL;
        size_t len = 0;
        int r;

        if (asprintf(&path, "%s/%s", dir, name) < 0) {
                path = NULL;
                return -ENOMEM;
        }
        fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = errno;
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot open key %s: %s", path, strerror(r));
        }
        r = read_key_fd(fd, path, &buf, &len, err);
        if (r < 0)
                return r;
        r = sfu_key_from_buffer(buf, len, path, false, &key, err);
        if (r < 0)
                return r;
        r = sfu_keyring_add(ring, key, err);
        if (r < 0)
                return r;
        TAKE_PTR(key);
        return 0;
}

/* Sorted names of the key files in d. */
static int list_key_files(DIR *d, const char *dir, struct name_list *list, struct sfu_err *err) {
        for (;;) {
                struct dirent *de;
                errno = 0;
                de = readdir(d);
                if (!de) {
                        int r = errno;
                        if (r != 0)
                                return sfu_err_set(err, SFU_ERR_STORAGE, r,
                                                   "cannot read key directory %s: %s", dir, strerror(r));
                        break;
                }
                if (!is_key_file_name(de->d_name))
                        continue;
                if (list->n >= SFU_KEYRING_MAX)
                        return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "%s holds more than %d key files", dir,
                                           SFU_KEYRING_MAX);
                list->names[list->n] = strdup(de->d_name);
                if (!list->names[list->n])
                        return -ENOMEM;
                list->n++;
        }
        qsort(list->names, list->n, sizeof(list->names[0]), compare_names);
        return 0;
}

int sfu_keyring_load_dir(struct sfu_keyring *ring, const char *dir, struct sfu_err *err) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_(name_list_freep) struct name_list list = {};
        _cleanup_keyring_ struct sfu_keyring *loaded = NULL;
        int fd, r;

        if (!ring || !dir)
                return -EINVAL;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                r = errno;
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot open key directory %s: %s", dir,
                                   strerror(r));
        }
        d = fdopendir(fd);
        if (!d) {
                r = errno;
                close(fd);
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot read key directory %s: %s", dir,
                                   strerror(r));
        }
        r = list_key_files(d, dir, &list, err);
        if (r < 0)
                return r;

        /* All or nothing: load into a fresh ring, check every key against
         * ring, then move them over. */
        r = sfu_keyring_new(&loaded);
        if (r < 0)
                return r;
        for (size_t i = 0; i < list.n; i++) {
                r = load_one(loaded, dirfd(d), dir, list.names[i], err);
                if (r < 0)
                        return r;
        }
        if (ring->n_keys + loaded->n_keys > SFU_KEYRING_MAX)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "%s: the trust store holds at most %d keys",
                                   dir, SFU_KEYRING_MAX);
        for (size_t i = 0; i < loaded->n_keys; i++) {
                r = keyring_check_add(ring, loaded->keys[i], err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < loaded->n_keys; i++)
                ring->keys[ring->n_keys++] = TAKE_PTR(loaded->keys[i]);
        loaded->n_keys = 0;
        return 0;
}

void sfu_keyring_free(struct sfu_keyring *ring) {
        if (!ring)
                return;
        for (size_t i = 0; i < ring->n_keys; i++)
                sfu_key_free(ring->keys[i]);
        free(ring);
}

int sfu_keyring_load_path(struct sfu_keyring *ring, const char *path, struct sfu_err *err) {
        _cleanup_key_ struct sfu_key *key = NULL;
        struct stat st;
        int r;

        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
                return sfu_keyring_load_dir(ring, path, err);
        r = sfu_key_load_file(path, false, &key, err);
        if (r >= 0)
                r = sfu_keyring_add(ring, key, err);
        if (r >= 0)
                key = NULL;     /* the ring owns it now */
        return r;
}
