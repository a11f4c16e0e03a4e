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
