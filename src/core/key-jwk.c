/* SPDX-License-Identifier: MIT */
/* JWK (RFC 7517, RFC 7518 section 6, RFC 8037): keys from JWK objects,
 * public JWKs out, and RFC 7638 thumbprints. */
#include <openssl/err.h>

#include "core/b64url.h"
#include "core/json.h"
#include "core/key.h"
#include "core/key-internal.h"


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
        const struct sfu_key_curve *curve = NULL;
        const char *crv;
        int r;

        crv = jwk_crv(jwk, source, err);
        if (!crv)
                return -EINVAL;
        curve = sfu_key_curve_by_jwk_name(crv);
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

/* OKP: Ed25519 for signatures, X25519 for key agreement (RFC 8037). */
static int jwk_okp(json_t *jwk, const char *source, enum sfu_key_use use, EVP_PKEY **ret, struct sfu_err *err) {
        _cleanup_(secret_freep) struct secret x = {}, d = {};
        _cleanup_(param_bld_freep) OSSL_PARAM_BLD *bld = NULL;
        _cleanup_evp_pkey_ EVP_PKEY *pkey = NULL;
        uint8_t derived[32];
        size_t derived_len = 0;
        const char *crv, *type_name;
        int r;

        crv = jwk_crv(jwk, source, err);
        if (!crv)
                return -EINVAL;
        if (strcmp(crv, "Ed448") == 0 && use == SFU_KEY_USE_SIG)
                return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                   "%s: Ed448 keys are not supported (EdDSA here means Ed25519 only)",
                                   src_name(source));
        if (use == SFU_KEY_USE_SIG && (strcmp(crv, "X25519") == 0 || strcmp(crv, "X448") == 0))
                return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                   "%s: %s is a key-agreement curve, not a signature key", src_name(source),
                                   crv);
        if (use == SFU_KEY_USE_ENC && (strcmp(crv, "Ed25519") == 0 || strcmp(crv, "Ed448") == 0))
                return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                   "%s: %s is a signature curve, not a key-agreement key (X25519 is)",
                                   src_name(source), crv);
        type_name = use == SFU_KEY_USE_SIG ? "Ed25519" : "X25519";
        if (strcmp(crv, type_name) != 0) {
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
                                   "%s: %s JWK \"x\" and \"d\" must be 32 bytes", src_name(source), type_name);

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
        r = pkey_fromdata(use == SFU_KEY_USE_SIG ? "ED25519" : "X25519", bld,
                          d.data ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, &pkey);
        if (r == -EINVAL)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: OpenSSL refused the %s JWK",
                                   src_name(source), type_name);
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
                                           "%s: the %s private key \"d\" does not match \"x\"",
                                           src_name(source), type_name);
        }
        *ret = TAKE_PTR(pkey);
        return 0;
}

int sfu_key_from_jwk(json_t *jwk, const char *source, bool want_private, struct sfu_key **ret,
                     struct sfu_err *err) {
        return sfu_key_from_jwk_for(jwk, source, SFU_KEY_USE_SIG, want_private, ret, err);
}

/* Whether key_ops (RFC 7517 4.3) allows the purpose. */
static bool key_ops_fit(json_t *ops, enum sfu_key_use use) {
        static const char *const sig_ops[] = { "sign", "verify" };
        static const char *const enc_ops[] = { "encrypt", "decrypt", "wrapKey", "unwrapKey", "deriveKey", "deriveBits" };
        const char *const *want = use == SFU_KEY_USE_SIG ? sig_ops : enc_ops;
        size_t n_want = use == SFU_KEY_USE_SIG ? ELEMENTSOF(sig_ops) : ELEMENTSOF(enc_ops);
        size_t i;
        json_t *op;

        json_array_foreach(ops, i, op)
                for (size_t j = 0; j < n_want; j++)
                        if (sfu_streq(json_string_value(op), want[j]))
                                return true;
        return false;
}

/* An ENC JWK's "alg" (RFC 7517 4.4): the one key-management algorithm
 * core/jwe.h uses with a key of its type. */
static int enc_alg_fits(json_t *v, const struct sfu_key *key, const char *source, struct sfu_err *err) {
        const char *want = key->type == SFU_KEY_RSA ? "RSA-OAEP-256" : "ECDH-ES+A256KW";
        char q[33];

        if (!json_is_string(v))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: JWK \"alg\" is not a string", src_name(source));
        if (strcmp(json_string_value(v), want) != 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "%s: JWK \"alg\" is \"%s\"; a %s decryption key here is for %s only",
                                   src_name(source), printable(json_string_value(v), q),
                                   sfu_key_type_name(key->type), want);
        return 0;
}

int sfu_key_from_jwk_for(json_t *jwk, const char *source, enum sfu_key_use use, bool want_private,
                         struct sfu_key **ret, struct sfu_err *err) {
        const char *want_use = use == SFU_KEY_USE_SIG ? "sig" : "enc";
        EVP_PKEY *pkey = NULL;
        const char *kty = NULL, *kid = NULL, *jwk_use = NULL;
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
                if (!json_is_string(v) || !sfu_key_kid_valid(json_string_value(v), json_string_length(v)))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "%s: JWK \"kid\" must be 1 to %d printable ASCII characters",
                                           src_name(source), KID_MAX);
                kid = json_string_value(v);
        }
        r = sfu_json_get_string(jwk, "use", &jwk_use, NULL);
        if (r == 0 && strcmp(jwk_use, want_use) != 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: JWK \"use\" is \"%s\", not \"%s\"",
                                   src_name(source), printable(jwk_use, q), want_use);
        if (r < 0 && r != -ENOENT)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: JWK \"use\" is not a string",
                                   src_name(source));
        v = json_object_get(jwk, "key_ops");
        if (v) {
                if (!json_is_array(v))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: JWK \"key_ops\" is not an array",
                                           src_name(source));
                if (!key_ops_fit(v, use))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: JWK \"key_ops\" allows %s",
                                           src_name(source),
                                           use == SFU_KEY_USE_SIG ? "neither \"sign\" nor \"verify\""
                                                                  : "no encryption or key-management operation");
        }

        if (strcmp(kty, "RSA") == 0)
                r = jwk_rsa(jwk, source, &pkey, err);
        else if (strcmp(kty, "EC") == 0)
                r = jwk_ec(jwk, source, &pkey, err);
        else if (strcmp(kty, "OKP") == 0)
                r = jwk_okp(jwk, source, use, &pkey, err);
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
        r = sfu_key_finish(pkey, source, kid, use, want_private, &key, err);
        if (r < 0)
                return r;

        v = json_object_get(jwk, "alg");
        if (v && use == SFU_KEY_USE_ENC) {
                r = enc_alg_fits(v, key, source, err);
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(key);
                return 0;
        }

        /* An "alg" member restricts the key to that algorithm (RFC 7517
         * 4.4); it must at least fit it. */
        if (v) {
                enum sfu_alg alg;
                if (!json_is_string(v) || sfu_alg_from_name(json_string_value(v), &alg) < 0)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "%s: JWK \"alg\" is not a supported algorithm", src_name(source));
                if (sfu_alg_info(alg)->key_type != key->type)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "%s: JWK \"alg\" %s does not fit a %s key", src_name(source),
                                           sfu_alg_name(alg), sfu_key_type_name(key->type));
                key->has_alg = true;
                key->alg = alg;
        }
        *ret = TAKE_PTR(key);
        return 0;
}


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
int sfu_key_jwk_set_bn(json_t *jwk, const EVP_PKEY *pkey, const char *param, const char *name,
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

int sfu_key_jwk_set_octets(json_t *jwk, const EVP_PKEY *pkey, const char *param, const char *name) {
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

static int key_jwk(const struct sfu_key *key, bool with_kid, json_t **ret) {
        _cleanup_json_ json_t *jwk = json_object();
        const struct sfu_key_curve *curve;
        int r;

        if (!key || !key->pkey)
                return -EINVAL;
        if (!jwk)
                return -ENOMEM;

        switch (key->type) {
        case SFU_KEY_RSA:
                if (json_object_set_new(jwk, "kty", json_string("RSA")) < 0)
                        return -ENOMEM;
                r = sfu_key_jwk_set_bn(jwk, key->pkey, OSSL_PKEY_PARAM_RSA_N, "n", 0);
                if (r < 0)
                        return r == -ENOENT ? -EINVAL : r;
                r = sfu_key_jwk_set_bn(jwk, key->pkey, OSSL_PKEY_PARAM_RSA_E, "e", 0);
                if (r < 0)
                        return r == -ENOENT ? -EINVAL : r;
                break;
        case SFU_KEY_EC_P256:
        case SFU_KEY_EC_P384:
        case SFU_KEY_EC_P521:
                curve = sfu_key_curve(key->type);
                if (json_object_set_new(jwk, "kty", json_string("EC")) < 0 ||
                    json_object_set_new(jwk, "crv", json_string(curve->jwk_name)) < 0)
                        return -ENOMEM;
                r = sfu_key_jwk_set_bn(jwk, key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, "x", curve->size);
                if (r < 0)
                        return r == -ENOENT ? -EINVAL : r;
                r = sfu_key_jwk_set_bn(jwk, key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, "y", curve->size);
                if (r < 0)
                        return r == -ENOENT ? -EINVAL : r;
                break;
        case SFU_KEY_ED25519:
        case SFU_KEY_X25519:
                if (json_object_set_new(jwk, "kty", json_string("OKP")) < 0 ||
                    json_object_set_new(jwk, "crv", json_string(sfu_key_type_name(key->type))) < 0)
                        return -ENOMEM;
                r = sfu_key_jwk_set_octets(jwk, key->pkey, OSSL_PKEY_PARAM_PUB_KEY, "x");
                if (r < 0)
                        return r == -ENOENT ? -EINVAL : r;
                break;
        case SFU_KEY_HSS:
        case _SFU_KEY_TYPE_MAX:
        default:
                return -EINVAL;
        }
        if (with_kid && key->kid && json_object_set_new(jwk, "kid", json_string(key->kid)) < 0)
                return -ENOMEM;
        if (with_kid && key->has_alg && json_object_set_new(jwk, "alg", json_string(sfu_alg_name(key->alg))) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(jwk);
        return 0;
}

int sfu_key_to_jwk(const struct sfu_key *key, json_t **ret) {
        return key_jwk(key, true, ret);
}

int sfu_key_thumbprint(const struct sfu_key *key, char **ret) {
        _cleanup_json_ json_t *jwk = NULL;
        _cleanup_free_ char *canonical = NULL;
        uint8_t digest[32];
        unsigned digest_len = 0;
        char *b64;
        int r;

        r = key_jwk(key, false, &jwk);
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
        case SFU_KEY_X25519:
                r = asprintf(&canonical, "{\"crv\":\"%s\",\"kty\":\"OKP\",\"x\":\"%s\"}",
                             sfu_key_type_name(key->type), json_string_value(json_object_get(jwk, "x")));
                break;
        case SFU_KEY_HSS:
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

