/* SPDX-License-Identifier: MIT */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "core/sig-internal.h"

/* The modulus size of an RSA key, or the curve of an EC key, as the key
 * object itself says (not as the struct claims). */
bool sfu_sig_fits_key(enum sfu_alg alg, const struct sfu_key *key) {
        char group[64];
        size_t glen = 0;

        if ((unsigned) alg >= _SFU_ALG_MAX || !key || !key->pkey || key->type != (*sfu_alg_info(alg)).key_type)
                return false;
        switch ((*sfu_alg_info(alg)).family) {
        case SFU_ALG_FAMILY_RSA_PKCS1:
        case SFU_ALG_FAMILY_RSA_PSS:
                return EVP_PKEY_is_a(key->pkey, "RSA") && EVP_PKEY_get_bits(key->pkey) >= SFU_RSA_MIN_BITS;
        case SFU_ALG_FAMILY_ECDSA:
                if (!EVP_PKEY_is_a(key->pkey, "EC") ||
                    EVP_PKEY_get_group_name(key->pkey, group, sizeof(group), &glen) != 1) {
                        ERR_clear_error();
                        return false;
                }
                return (alg == SFU_ALG_ES256 && strcmp(group, "prime256v1") == 0) ||
                       (alg == SFU_ALG_ES384 && strcmp(group, "secp384r1") == 0) ||
                       (alg == SFU_ALG_ES512 && strcmp(group, "secp521r1") == 0);
        case SFU_ALG_FAMILY_EDDSA:
                return EVP_PKEY_is_a(key->pkey, "ED25519");
        }
        return false;
}

int sfu_sig_default_alg(const struct sfu_key *key, enum sfu_alg *ret) {
        if (!key)
                return -EINVAL;
        switch (key->type) {
        case SFU_KEY_EC_P256:
                *ret = SFU_ALG_ES256;
                return 0;
        case SFU_KEY_EC_P384:
                *ret = SFU_ALG_ES384;
                return 0;
        case SFU_KEY_EC_P521:
                *ret = SFU_ALG_ES512;
                return 0;
        case SFU_KEY_ED25519:
                *ret = SFU_ALG_EDDSA;
                return 0;
        case SFU_KEY_RSA:
        case _SFU_KEY_TYPE_MAX:
        default:
                return -EINVAL;
        }
}

size_t sfu_sig_size(enum sfu_alg alg, const struct sfu_key *key) {
        if ((unsigned) alg >= _SFU_ALG_MAX)
                return 0;
        switch ((*sfu_alg_info(alg)).family) {
        case SFU_ALG_FAMILY_RSA_PKCS1:
        case SFU_ALG_FAMILY_RSA_PSS:
                return key && key->pkey ? (size_t) EVP_PKEY_get_size(key->pkey) : 0;
        case SFU_ALG_FAMILY_ECDSA:
                return 2 * (*sfu_alg_info(alg)).ec_size;
        case SFU_ALG_FAMILY_EDDSA:
                return 64;
        }
        return 0;
}

int sfu_sig_pkey_ctx_init(EVP_PKEY_CTX *pctx, const struct sfu_alg_info *info) {
        switch (info->family) {
        case SFU_ALG_FAMILY_RSA_PKCS1:
                return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 ? 0 : -EIO;
        case SFU_ALG_FAMILY_RSA_PSS:
                /* RFC 7518 3.5 and RFC 8230: salt as long as the hash, MGF1
                 * with the same hash. SALTLEN_DIGEST also makes
                 * verification refuse any other salt length. */
                if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
                    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, info->md, NULL) != 1)
                        return -EIO;
                return 0;
        case SFU_ALG_FAMILY_ECDSA:
        case SFU_ALG_FAMILY_EDDSA:
                return 0;
        }
        return -EINVAL;
}

int sfu_sig_verify(enum sfu_alg alg, const struct sfu_key *key, const void *input, size_t input_len,
                   const uint8_t *sig, size_t sig_len) {
        const struct sfu_alg_info *info = sfu_alg_info(alg);
        _cleanup_(sfu_md_ctx_freep) EVP_MD_CTX *mctx = NULL;
        _cleanup_(sfu_ecdsa_sig_freep) ECDSA_SIG *ecsig = NULL;
        _cleanup_(sfu_openssl_freep) unsigned char *der = NULL;
        EVP_PKEY_CTX *pctx = NULL;
        int r;

        if (!info || !key || !key->pkey)
                return -EINVAL;
        if (info->family == SFU_ALG_FAMILY_ECDSA) {
                _cleanup_(sfu_bn_freep) BIGNUM *rr = NULL, *ss = NULL;
                int der_len;

                if (sig_len != 2 * info->ec_size)
                        return 0;
                ecsig = ECDSA_SIG_new();
                rr = BN_bin2bn(sig, (int) info->ec_size, NULL);
                ss = BN_bin2bn(sig + info->ec_size, (int) info->ec_size, NULL);
                if (!ecsig || !rr || !ss)
                        return -ENOMEM;
                if (ECDSA_SIG_set0(ecsig, rr, ss) != 1)
                        return -ENOMEM;
                rr = ss = NULL; /* owned by ecsig now */
                der_len = i2d_ECDSA_SIG(ecsig, &der);
                if (der_len <= 0)
                        return -ENOMEM;
                sig = der;
                sig_len = (size_t) der_len;
        }

        mctx = EVP_MD_CTX_new();
        if (!mctx)
                return -ENOMEM;
        if (EVP_DigestVerifyInit_ex(mctx, &pctx, info->md, NULL, NULL, key->pkey, NULL) != 1 ||
            sfu_sig_pkey_ctx_init(pctx, info) < 0) {
                ERR_clear_error();
                return -EIO;
        }
        r = EVP_DigestVerify(mctx, sig, sig_len, input, input_len);
        ERR_clear_error();
        return r == 1 ? 1 : 0;
}
