/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "core/hss.h"
#include "core/sig-internal.h"

/* The modulus size of an RSA key, or the curve of an EC key, as the key
 * object itself says (not as the struct claims). */
bool sfu_sig_fits_key(enum sfu_alg alg, const struct sfu_key *key) {
        char group[64];
        size_t glen = 0;

        if ((unsigned) alg >= _SFU_ALG_MAX || !key || key->type != sfu_alg_info(alg)->key_type)
                return false;
        if (sfu_alg_info(alg)->family == SFU_ALG_FAMILY_HSS)
                return key->hss != NULL;
        if (!key->pkey)
                return false;
        switch (sfu_alg_info(alg)->family) {
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
        case SFU_ALG_FAMILY_HSS:
                break;
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
        case SFU_KEY_HSS:
                *ret = SFU_ALG_HSS_LMS;
                return 0;
        case SFU_KEY_RSA:
        case SFU_KEY_X25519:
        case _SFU_KEY_TYPE_MAX:
        default:
                return -EINVAL;
        }
}

size_t sfu_sig_size(enum sfu_alg alg, const struct sfu_key *key) {
        const struct sfu_alg_info *info = sfu_alg_info(alg);

        if (!info)
                return 0;
        switch (info->family) {
        case SFU_ALG_FAMILY_RSA_PKCS1:
        case SFU_ALG_FAMILY_RSA_PSS:
                return key && key->pkey ? (size_t) EVP_PKEY_get_size(key->pkey) : 0;
        case SFU_ALG_FAMILY_ECDSA:
                return 2 * info->ec_size;
        case SFU_ALG_FAMILY_EDDSA:
                return 64;
        case SFU_ALG_FAMILY_HSS:
                return 0; /* set by the key's and the signature's parameters */
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
        case SFU_ALG_FAMILY_HSS:
                break;
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

        if (!info || !key)
                return -EINVAL;
        if (info->family == SFU_ALG_FAMILY_HSS) {
                struct sfu_err ignored = SFU_ERR_INIT;
                if (!key->hss)
                        return -EINVAL;
                r = sfu_hss_verify(key->hss, key->hss_len, input, input_len, sig, sig_len, &ignored);
                return r == -ENOMEM ? r : r == 0;
        }
        if (!key->pkey)
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

/* ---------------------------------------------------------------- counting signatures */

int sfu_sig_miss(struct sfu_sig_miss *m, enum sfu_err_code code, const char *fmt, ...) {
        va_list ap;

        m->code = code;
        va_start(ap, fmt);
        vsnprintf(m->why, sizeof(m->why), fmt, ap);
        va_end(ap);
        sfu_text_one_line(m->why, sizeof(m->why));
        return 0;
}

/* Lengths the alg alone fixes: "" or why not. */
static void alg_length_problem(const struct sfu_sig_check *c, char *out, size_t size) {
        const struct sfu_alg_info *info = sfu_alg_info(c->alg);

        out[0] = 0;
        if (info->family == SFU_ALG_FAMILY_ECDSA && c->sig_len != 2 * info->ec_size)
                snprintf(out, size, "ECDSA signature must be %zu bytes for %s, got %zu%s", 2 * info->ec_size, info->name,
                         c->sig_len,
                         c->sig_len > 0 && c->sig[0] == 0x30 ? " (it looks DER-encoded; a signature here is raw R||S)"
                                                             : "");
        else if (info->family == SFU_ALG_FAMILY_EDDSA && c->sig_len != 64)
                snprintf(out, size, "EdDSA signature must be 64 bytes, got %zu", c->sig_len);
}

/* Whether key may have made c's signature: 0, or -1 with m saying why not. */
static int key_unfit(const struct sfu_sig_check *c, const struct sfu_key *key, struct sfu_sig_miss *m) {
        const char *alg_name = sfu_alg_name(c->alg);
        char q[SFU_QUOTE_MAX + 4];
        int bits = key->pkey ? EVP_PKEY_get_bits(key->pkey) : 0;

        sfu_quote(key->kid, strlen(key->kid), q);
        if (key->type == SFU_KEY_RSA && bits < SFU_RSA_MIN_BITS)
                return sfu_sig_miss(m, SFU_ERR_SIGNATURE, "signature %zu: RSA key of %d bits is below the minimum of %d",
                                    c->index, bits, SFU_RSA_MIN_BITS) - 1;
        if (!sfu_sig_fits_key(c->alg, key))
                return sfu_sig_miss(m, SFU_ERR_SIGNATURE, "signature %zu: alg %s does not fit the %s key with kid \"%s\"",
                                    c->index, alg_name, sfu_key_type_name(key->type), q) - 1;
        if (key->has_alg && key->alg != c->alg)
                return sfu_sig_miss(m, SFU_ERR_SIGNATURE,
                                    "signature %zu: the trusted key with kid \"%s\" is restricted to %s by its \"alg\"; "
                                    "the signature is %s",
                                    c->index, q, sfu_alg_name(key->alg), alg_name) - 1;
        if (key->type == SFU_KEY_RSA && c->sig_len != sfu_sig_size(c->alg, key))
                return sfu_sig_miss(m, SFU_ERR_SIGNATURE,
                                    "signature %zu: RSA signature must be %zu bytes for the %d-bit key with kid \"%s\", "
                                    "got %zu",
                                    c->index, sfu_sig_size(c->alg, key), bits, q, c->sig_len) - 1;
        return 0;
}

static int could_not_check(const struct sfu_sig_check *c, int r, struct sfu_err *err) {
        return sfu_err_set(err, SFU_ERR_SIGNATURE, -r, "signature %zu: the signature could not be checked", c->index);
}

int sfu_sig_find_signer(const struct sfu_sig_check *c, const struct sfu_keyring *ring, const struct sfu_key **ret_key,
                        struct sfu_sig_miss *m, struct sfu_err *err) {
        const char *alg_name = sfu_alg_name(c->alg);
        char q[SFU_QUOTE_MAX + 4], problem[SFU_ERR_MESSAGE_MAX];
        size_t tried = 0;
        int r;

        *ret_key = NULL;
        alg_length_problem(c, problem, sizeof(problem));
        if (problem[0])
                return sfu_sig_miss(m, SFU_ERR_SIGNATURE, "signature %zu: %s", c->index, problem);
        if (c->kid) {
                const struct sfu_key *key = NULL;

                for (size_t i = 0; ring && i < ring->n_keys && !key; i++)
                        if (strlen(ring->keys[i]->kid) == c->kid_len && memcmp(ring->keys[i]->kid, c->kid, c->kid_len) == 0)
                                key = ring->keys[i];
                sfu_quote(c->kid, c->kid_len, q);
                if (!key)
                        return sfu_sig_miss(m, SFU_ERR_SIGNATURE, "signature %zu: no trusted key with kid \"%s\"", c->index,
                                            q);
                if (key_unfit(c, key, m) < 0)
                        return 0;
                r = sfu_sig_verify(c->alg, key, c->input, c->input_len, c->sig, c->sig_len);
                if (r < 0)
                        return could_not_check(c, r, err);
                if (r == 0)
                        return sfu_sig_miss(m, SFU_ERR_SIGNATURE,
                                            "signature %zu: %s signature does not verify with the trusted key with kid "
                                            "\"%s\"",
                                            c->index, alg_name, q);
                *ret_key = key;
                return 0;
        }

        /* No kid: every trusted key that may have made it. */
        for (size_t i = 0; ring && i < ring->n_keys; i++) {
                struct sfu_sig_miss ignored;
                if (key_unfit(c, ring->keys[i], &ignored) < 0)
                        continue;
                tried++;
                r = sfu_sig_verify(c->alg, ring->keys[i], c->input, c->input_len, c->sig, c->sig_len);
                if (r < 0)
                        return could_not_check(c, r, err);
                if (r == 1) {
                        *ret_key = ring->keys[i];
                        return 0;
                }
        }
        if (tried == 0)
                return sfu_sig_miss(m, SFU_ERR_SIGNATURE, "signature %zu: no trusted key fits alg %s%s", c->index,
                                    alg_name,
                                    sfu_alg_info(c->alg)->key_type == SFU_KEY_RSA ? " and a signature of this length"
                                                                                  : "");
        return sfu_sig_miss(m, SFU_ERR_SIGNATURE,
                            "signature %zu: %s signature does not verify with any of the %zu trusted key(s) that fit",
                            c->index, alg_name, tried);
}

void sfu_sig_tally_add(struct sfu_sig_tally *t, enum sfu_alg alg, const struct sfu_key *key,
                       const struct sfu_sig_miss *m, void (*note)(void *userdata, const char *why), void *userdata) {
        t->n_signatures++;
        if (!key) {
                if (note)
                        note(userdata, m->why);
                if (!t->has_first) {
                        t->first = *m;
                        t->has_first = true;
                }
                return;
        }
        t->alg_mask |= SFU_ALG_MASK(alg);
        for (unsigned k = 0; k < t->n_signers; k++)
                if (t->signers[k] == key)
                        return;
        if (t->n_signers < SFU_SIG_TALLY_MAX)
                t->signers[t->n_signers++] = key;
}

int sfu_sig_tally_result(const struct sfu_sig_tally *t, unsigned min_signatures, unsigned *ret_valid,
                         struct sfu_err *err) {
        if (min_signatures == 0)
                min_signatures = 1;
        if (t->n_signers < min_signatures) {
                if (t->n_signers == 0 && min_signatures == 1 && t->has_first)
                        return sfu_err_set(err, t->first.code, EBADMSG, "%s", t->first.why);
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EBADMSG,
                                   "%u distinct trusted key(s) signed, %u required (%zu signature(s))%s%s", t->n_signers,
                                   min_signatures, t->n_signatures, t->has_first ? "; " : "",
                                   t->has_first ? t->first.why : "");
        }
        if (ret_valid)
                *ret_valid = t->n_signers;
        return 0;
}
