/* SPDX-License-Identifier: MIT */
/* Making signatures: used by secfu-manifest only, so that the daemon links
 * no signing code. */
#include <openssl/err.h>

#include "core/sig-internal.h"

int sfu_sig_sign(enum sfu_alg alg, const struct sfu_key *key, const void *input, size_t input_len,
                 uint8_t **ret, size_t *ret_len) {
        const struct sfu_alg_info *info = sfu_alg_info(alg);
        _cleanup_(sfu_md_ctx_freep) EVP_MD_CTX *mctx = NULL;
        _cleanup_free_ uint8_t *sig = NULL;
        EVP_PKEY_CTX *pctx = NULL;
        size_t sig_len = 0;

        if (!info || !key || !key->pkey)
                return -EINVAL;
        mctx = EVP_MD_CTX_new();
        if (!mctx)
                return -ENOMEM;
        if (EVP_DigestSignInit_ex(mctx, &pctx, info->md, NULL, NULL, key->pkey, NULL) != 1 ||
            sfu_sig_pkey_ctx_init(pctx, info) < 0 || EVP_DigestSign(mctx, NULL, &sig_len, input, input_len) != 1) {
                ERR_clear_error();
                return -EIO;
        }
        sig = malloc(sig_len);
        if (!sig)
                return -ENOMEM;
        if (EVP_DigestSign(mctx, sig, &sig_len, input, input_len) != 1) {
                ERR_clear_error();
                return -EIO;
        }

        if (info->family == SFU_ALG_FAMILY_ECDSA) {
                /* DER SEQUENCE { r, s } to the fixed-width R || S of RFC
                 * 7518 3.4 and RFC 9053 2.1. */
                _cleanup_(sfu_ecdsa_sig_freep) ECDSA_SIG *ecsig = NULL;
                _cleanup_free_ uint8_t *raw = NULL;
                const unsigned char *p = sig;
                const BIGNUM *r = NULL, *s = NULL;

                ecsig = d2i_ECDSA_SIG(NULL, &p, (long) sig_len);
                if (!ecsig) {
                        ERR_clear_error();
                        return -EIO;
                }
                ECDSA_SIG_get0(ecsig, &r, &s);
                raw = malloc(2 * info->ec_size);
                if (!raw)
                        return -ENOMEM;
                if (BN_bn2binpad(r, raw, (int) info->ec_size) < 0 ||
                    BN_bn2binpad(s, raw + info->ec_size, (int) info->ec_size) < 0)
                        return -EIO;
                *ret = TAKE_PTR(raw);
                *ret_len = 2 * info->ec_size;
                return 0;
        }
        *ret = TAKE_PTR(sig);
        *ret_len = sig_len;
        return 0;
}

int sfu_sig_signer_key(const struct sfu_key *key, enum sfu_alg alg, const char *kid, struct sfu_signer *ret,
                       struct sfu_err *err) {
        if (!key || (unsigned) alg >= _SFU_ALG_MAX)
                return -EINVAL;
        if (!key->is_private)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, ENOKEY, "%s is a public key; signing needs the private key",
                                   key->source ? key->source : "the key");
        if (!sfu_sig_fits_key(alg, key))
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EKEYREJECTED, "alg %s does not fit the %s key %s",
                                   sfu_alg_name(alg), sfu_key_type_name(key->type), key->source ? key->source : "");
        kid = kid ? kid : key->kid;
        *ret = (struct sfu_signer) { .alg = alg, .kid = kid && kid[0] ? kid : NULL, .key = key };
        return 0;
}

int sfu_signer_sign(const struct sfu_signer *s, const void *input, size_t input_len, uint8_t **ret, size_t *ret_len,
                    struct sfu_err *err) {
        int r;

        if (s->sign)
                return s->sign(s->userdata, input, input_len, ret, ret_len, err);
        r = sfu_sig_sign(s->alg, s->key, input, input_len, ret, ret_len);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, -r, "signing with %s failed", sfu_alg_name(s->alg));
        return 0;
}
