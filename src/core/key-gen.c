/* SPDX-License-Identifier: MIT */
/* Key generation and private-key export: used by secfu-manifest only, so
 * that the daemon links none of it. */
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "core/key-internal.h"

int sfu_key_generate(const char *alg_name, struct sfu_key **ret, struct sfu_err *err) {
        enum sfu_alg alg;
        EVP_PKEY *pkey = NULL;
        char q[SFU_QUOTE_MAX + 4];

        if (!alg_name || sfu_alg_from_name(alg_name, &alg) < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "cannot generate a key for algorithm \"%s\" (RS256..512, PS256..512, "
                                   "ES256..512, EdDSA are supported)",
                                   sfu_quote(alg_name ? alg_name : "", alg_name ? strlen(alg_name) : 0, q));
        switch (alg) {
        case SFU_ALG_RS256:
        case SFU_ALG_RS384:
        case SFU_ALG_RS512:
        case SFU_ALG_PS256:
        case SFU_ALG_PS384:
        case SFU_ALG_PS512:
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 3072);
                break;
        case SFU_ALG_ES256:
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
                break;
        case SFU_ALG_ES384:
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
                break;
        case SFU_ALG_ES512:
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
                break;
        case SFU_ALG_EDDSA:
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
                break;
        case SFU_ALG_HSS_LMS:
                /* A stateful key: io/hsskey.c makes and keeps it. */
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "HSS-LMS keys are stateful: they are made by the HSS key store, not here");
        case _SFU_ALG_MAX:
        case _SFU_ALG_INVALID:
        default:
                return -EINVAL;
        }
        if (!pkey) {
                ERR_clear_error();
                return sfu_err_set(err, SFU_ERR_SIGNATURE, ENOMEM, "key generation for %s failed", alg_name);
        }
        return sfu_key_finish(pkey, "generated key", NULL, SFU_KEY_USE_SIG, true, ret, err);
}

/* Private members of a JWK (RFC 7518 6.2.2, 6.3.2; RFC 8037 2). */
static int add_private_members(json_t *jwk, const struct sfu_key *key) {
        static const char *const crt[][2] = {
                { OSSL_PKEY_PARAM_RSA_FACTOR1, "p" },     { OSSL_PKEY_PARAM_RSA_FACTOR2, "q" },
                { OSSL_PKEY_PARAM_RSA_EXPONENT1, "dp" },  { OSSL_PKEY_PARAM_RSA_EXPONENT2, "dq" },
                { OSSL_PKEY_PARAM_RSA_COEFFICIENT1, "qi" },
        };
        const struct sfu_key_curve *curve;
        int r;

        switch (key->type) {
        case SFU_KEY_RSA:
                r = sfu_key_jwk_set_bn(jwk, key->pkey, OSSL_PKEY_PARAM_RSA_D, "d", 0);
                if (r < 0)
                        return r == -ENOENT ? -EINVAL : r;
                /* A key made from d alone has no CRT values: then d alone,
                 * as RFC 7518 6.3.2 allows. */
                for (size_t i = 0; i < ELEMENTSOF(crt); i++) {
                        r = sfu_key_jwk_set_bn(jwk, key->pkey, crt[i][0], crt[i][1], 0);
                        if (r == -ENOENT) {
                                for (size_t j = 0; j < ELEMENTSOF(crt); j++)
                                        (void) json_object_del(jwk, crt[j][1]);
                                return 0;
                        }
                        if (r < 0)
                                return r;
                }
                return 0;
        case SFU_KEY_EC_P256:
        case SFU_KEY_EC_P384:
        case SFU_KEY_EC_P521:
                curve = sfu_key_curve(key->type);
                r = sfu_key_jwk_set_bn(jwk, key->pkey, OSSL_PKEY_PARAM_PRIV_KEY, "d", curve->size);
                return r == -ENOENT ? -EINVAL : r;
        case SFU_KEY_ED25519:
        case SFU_KEY_X25519:
                r = sfu_key_jwk_set_octets(jwk, key->pkey, OSSL_PKEY_PARAM_PRIV_KEY, "d");
                return r == -ENOENT ? -EINVAL : r;
        case SFU_KEY_HSS:
        case _SFU_KEY_TYPE_MAX:
        default:
                return -EINVAL;
        }
}

int sfu_key_to_private_jwk(const struct sfu_key *key, json_t **ret) {
        json_t *jwk = NULL;
        int r;

        if (!key || !key->pkey)
                return -EINVAL;
        if (!key->is_private)
                return -ENOKEY;
        r = sfu_key_to_jwk(key, &jwk);
        if (r < 0)
                return r;
        r = add_private_members(jwk, key);
        if (r < 0) {
                sfu_key_jwk_wipe_free(jwk);
                return r;
        }
        *ret = jwk;
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
