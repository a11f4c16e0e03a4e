/* SPDX-License-Identifier: MIT */
/* HSS/LMS verification (RFC 8554 sections 4.6, 5.4.2 and 6.3).  The
 * signature is first parsed as a whole (every field's offset from the
 * type codes, every length checked, nothing left over), then each level is
 * verified: the candidate LM-OTS public key, the path to the root, a
 * constant-time comparison with the root of the key above. */
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/b64url.h"
#include "core/hss-internal.h"
#include "core/hss.h"

static const struct sfu_hss_lms_param lms_params[] = {
        {SFU_HSS_LMS_SHA256_M32_H5, 5, "LMS_SHA256_M32_H5"},
        {SFU_HSS_LMS_SHA256_M32_H10, 10, "LMS_SHA256_M32_H10"},
        {SFU_HSS_LMS_SHA256_M32_H15, 15, "LMS_SHA256_M32_H15"},
        {SFU_HSS_LMS_SHA256_M32_H20, 20, "LMS_SHA256_M32_H20"},
        {SFU_HSS_LMS_SHA256_M32_H25, 25, "LMS_SHA256_M32_H25"},
};

/* RFC 8554 section 4.1 and Table 1: p = u + v chains with u = 8n/w and
 * v = ceil((floor(log2((2^w - 1) u)) + 1) / w), ls = 16 - v w. */
static const struct sfu_hss_lmots_param lmots_params[] = {
        {SFU_HSS_LMOTS_SHA256_N32_W1, 1, 265, 7, "LMOTS_SHA256_N32_W1"},
        {SFU_HSS_LMOTS_SHA256_N32_W2, 2, 133, 6, "LMOTS_SHA256_N32_W2"},
        {SFU_HSS_LMOTS_SHA256_N32_W4, 4, 67, 4, "LMOTS_SHA256_N32_W4"},
        {SFU_HSS_LMOTS_SHA256_N32_W8, 8, 34, 0, "LMOTS_SHA256_N32_W8"},
};

const struct sfu_hss_lms_param *sfu_hss_lms_param(uint32_t type) {
        for (size_t i = 0; i < ELEMENTSOF(lms_params); i++)
                if (lms_params[i].type == type)
                        return &lms_params[i];
        return NULL;
}

const struct sfu_hss_lmots_param *sfu_hss_lmots_param(uint32_t type) {
        for (size_t i = 0; i < ELEMENTSOF(lmots_params); i++)
                if (lmots_params[i].type == type)
                        return &lmots_params[i];
        return NULL;
}

unsigned sfu_hss_lms_height(uint32_t lms_type) {
        const struct sfu_hss_lms_param *lms = sfu_hss_lms_param(lms_type);
        return lms ? lms->h : 0;
}

unsigned sfu_hss_lmots_width(uint32_t lmots_type) {
        const struct sfu_hss_lmots_param *ots = sfu_hss_lmots_param(lmots_type);
        return ots ? ots->w : 0;
}

const char *sfu_hss_lms_type_name(uint32_t lms_type) {
        const struct sfu_hss_lms_param *lms = sfu_hss_lms_param(lms_type);
        return lms ? lms->name : NULL;
}

const char *sfu_hss_lmots_type_name(uint32_t lmots_type) {
        const struct sfu_hss_lmots_param *ots = sfu_hss_lmots_param(lmots_type);
        return ots ? ots->name : NULL;
}

/* u32 q || u32 otstype || C || y[p] || u32 type || path[h] */
static size_t lms_signature_size(const struct sfu_hss_lms_param *lms,
                                 const struct sfu_hss_lmots_param *ots) {
        return 4 + 4 + SFU_HSS_N + (size_t) ots->p * SFU_HSS_N + 4 + (size_t) lms->h * SFU_HSS_N;
}

size_t sfu_hss_lms_signature_size(uint32_t lms_type, uint32_t lmots_type) {
        const struct sfu_hss_lms_param *lms = sfu_hss_lms_param(lms_type);
        const struct sfu_hss_lmots_param *ots = sfu_hss_lmots_param(lmots_type);
        return lms && ots ? lms_signature_size(lms, ots) : 0;
}

/* ---------------------------------------------------------------- hashing */

int sfu_hss_hash_init(struct sfu_hss_hash *h) {
        *h = (struct sfu_hss_hash){};
        h->md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
        h->ctx = EVP_MD_CTX_new();
        h->outer = EVP_MD_CTX_new();
        if (!h->md || !h->ctx || !h->outer) {
                sfu_hss_hash_done(h);
                return -ENOMEM;
        }
        return 0;
}

void sfu_hss_hash_done(struct sfu_hss_hash *h) {
        /* The contexts have hashed private values (the signer's x_q[i]). */
        EVP_MD_CTX_free(h->ctx);
        EVP_MD_CTX_free(h->outer);
        EVP_MD_free(h->md);
        *h = (struct sfu_hss_hash){};
}

int sfu_hss_hash_once(struct sfu_hss_hash *h, const void *data, size_t len, uint8_t out[SFU_HSS_N]) {
        if (EVP_DigestInit_ex2(h->ctx, h->md, NULL) != 1 || EVP_DigestUpdate(h->ctx, data, len) != 1 ||
            EVP_DigestFinal_ex(h->ctx, out, NULL) != 1)
                return -EIO;
        return 0;
}

int sfu_hss_chain(struct sfu_hss_hash *h, const uint8_t I[SFU_HSS_I_SIZE], uint32_t q, uint16_t i,
                  unsigned from, unsigned to, uint8_t tmp[SFU_HSS_N]) {
        /* I || u32(q) || u16(i) || u8(j) || tmp: 55 bytes, one SHA-256 block. */
        uint8_t buf[SFU_HSS_I_SIZE + 4 + 2 + 1 + SFU_HSS_N];
        int r = 0;

        if (from >= to)
                return 0;
        memcpy(buf, I, SFU_HSS_I_SIZE);
        sfu_hss_put_u32(buf + 16, q);
        sfu_hss_put_u16(buf + 20, i);
        memcpy(buf + 23, tmp, SFU_HSS_N);
        for (unsigned j = from; j < to && r == 0; j++) {
                buf[22] = (uint8_t) j;
                r = sfu_hss_hash_once(h, buf, sizeof(buf), buf + 23);
        }
        memcpy(tmp, buf + 23, SFU_HSS_N);
        OPENSSL_cleanse(buf, sizeof(buf));
        return r;
}

/* coef(S, i, w) of RFC 8554 section 3.1.3. */
static unsigned coef(const uint8_t *S, unsigned i, unsigned w) {
        unsigned per_byte = 8 / w;
        unsigned shift = 8 - (w * (i % per_byte) + w);
        return (S[i / per_byte] >> shift) & ((1u << w) - 1);
}

int sfu_hss_lmots_digits(struct sfu_hss_hash *h, const struct sfu_hss_lmots_param *ots,
                         const uint8_t I[SFU_HSS_I_SIZE], uint32_t q, const uint8_t C[SFU_HSS_N],
                         const uint8_t *msg, size_t msg_len, uint8_t digits[SFU_HSS_P_MAX]) {
        uint8_t prefix[SFU_HSS_I_SIZE + 4 + 2], Q[SFU_HSS_N + 2];
        unsigned u = 8 * SFU_HSS_N / ots->w, sum = 0;

        memcpy(prefix, I, SFU_HSS_I_SIZE);
        sfu_hss_put_u32(prefix + 16, q);
        sfu_hss_put_u16(prefix + 20, SFU_HSS_D_MESG);
        if (EVP_DigestInit_ex2(h->ctx, h->md, NULL) != 1 ||
            EVP_DigestUpdate(h->ctx, prefix, sizeof(prefix)) != 1 ||
            EVP_DigestUpdate(h->ctx, C, SFU_HSS_N) != 1 ||
            (msg_len > 0 && EVP_DigestUpdate(h->ctx, msg, msg_len) != 1) ||
            EVP_DigestFinal_ex(h->ctx, Q, NULL) != 1)
                return -EIO;
        /* Cksm(Q), section 4.4. */
        for (unsigned i = 0; i < u; i++)
                sum += (1u << ots->w) - 1 - coef(Q, i, ots->w);
        sum <<= ots->ls;
        sfu_hss_put_u16(Q + SFU_HSS_N, (uint16_t) sum);
        for (unsigned i = 0; i < ots->p; i++)
                digits[i] = (uint8_t) coef(Q, i, ots->w);
        return 0;
}

int sfu_hss_leaf(struct sfu_hss_hash *h, const uint8_t I[SFU_HSS_I_SIZE], uint32_t r,
                 const uint8_t K[SFU_HSS_N], uint8_t out[SFU_HSS_N]) {
        uint8_t buf[SFU_HSS_I_SIZE + 4 + 2 + SFU_HSS_N];

        memcpy(buf, I, SFU_HSS_I_SIZE);
        sfu_hss_put_u32(buf + 16, r);
        sfu_hss_put_u16(buf + 20, SFU_HSS_D_LEAF);
        memcpy(buf + 22, K, SFU_HSS_N);
        return sfu_hss_hash_once(h, buf, sizeof(buf), out);
}

int sfu_hss_node(struct sfu_hss_hash *h, const uint8_t I[SFU_HSS_I_SIZE], uint32_t r,
                 const uint8_t left[SFU_HSS_N], const uint8_t right[SFU_HSS_N], uint8_t out[SFU_HSS_N]) {
        uint8_t buf[SFU_HSS_I_SIZE + 4 + 2 + 2 * SFU_HSS_N];

        memcpy(buf, I, SFU_HSS_I_SIZE);
        sfu_hss_put_u32(buf + 16, r);
        sfu_hss_put_u16(buf + 20, SFU_HSS_D_INTR);
        memcpy(buf + 22, left, SFU_HSS_N);
        memcpy(buf + 22 + SFU_HSS_N, right, SFU_HSS_N);
        return sfu_hss_hash_once(h, buf, sizeof(buf), out);
}

/* ---------------------------------------------------------------- keys */

/* A public key is u32 L || u32 type || u32 otstype || I || T[1]. */
static int public_key_parse(const uint8_t *pub, size_t len, unsigned *ret_levels, struct sfu_err *err) {
        uint32_t levels;

        if (!pub || len != SFU_HSS_PUBLIC_KEY_SIZE)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "HSS public key is %zu bytes, not %d",
                                   pub ? len : 0, SFU_HSS_PUBLIC_KEY_SIZE);
        levels = sfu_hss_get_u32(pub);
        if (levels < 1 || levels > SFU_HSS_LEVELS_MAX)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "HSS public key has %" PRIu32 " levels, not 1 to %d", levels,
                                   SFU_HSS_LEVELS_MAX);
        if (!sfu_hss_lms_param(sfu_hss_get_u32(pub + 4)))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "HSS public key has the unsupported LMS type 0x%08" PRIx32,
                                   sfu_hss_get_u32(pub + 4));
        if (!sfu_hss_lmots_param(sfu_hss_get_u32(pub + 8)))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "HSS public key has the unsupported LM-OTS type 0x%08" PRIx32,
                                   sfu_hss_get_u32(pub + 8));
        if (ret_levels)
                *ret_levels = levels;
        return 0;
}

int sfu_hss_public_key_check(const uint8_t *pub, size_t len, struct sfu_err *err) {
        return public_key_parse(pub, len, NULL, err);
}

int sfu_hss_kid(const uint8_t *pub, size_t len, char **ret) {
        uint8_t digest[SFU_HSS_N];
        char *kid;

        if (public_key_parse(pub, len, NULL, NULL) < 0)
                return -EINVAL;
        if (EVP_Digest(pub, len, digest, NULL, EVP_sha256(), NULL) != 1)
                return -EIO;
        kid = sfu_b64url_encode(digest, sizeof(digest));
        if (!kid)
                return -ENOMEM;
        *ret = kid;
        return 0;
}

/* ---------------------------------------------------------------- verification */

/* One level of a parsed HSS signature: the LMS public key that checks it
 * and the message it signs (the next level's public key or the message). */
struct level {
        const uint8_t *key; /* 56 bytes */
        const uint8_t *lms_sig;
        const struct sfu_hss_lms_param *lms;
        const struct sfu_hss_lmots_param *ots;
        const uint8_t *msg;
        size_t msg_len;
};

static int signature_parse(const uint8_t *pub, unsigned levels, const uint8_t *msg, size_t msg_len,
                           const uint8_t *sig, size_t sig_len, struct level out[SFU_HSS_LEVELS_MAX],
                           struct sfu_err *err) {
        const uint8_t *key = pub + 4;
        size_t off = 4;
        uint32_t nspk;

        if (!sig || sig_len < 4)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL, "HSS signature is %zu bytes, too short",
                                   sig ? sig_len : 0);
        nspk = sfu_hss_get_u32(sig);
        if (nspk != levels - 1)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL,
                                   "HSS signature has %" PRIu32
                                   " signed public keys, the key's %u levels need %u",
                                   nspk, levels, levels - 1);
        for (unsigned l = 0; l < levels; l++) {
                struct level *lv = &out[l];
                uint32_t q, ots_type, lms_type;
                size_t size;

                lv->key = key;
                lv->lms = sfu_hss_lms_param(sfu_hss_get_u32(key));
                lv->ots = sfu_hss_lmots_param(sfu_hss_get_u32(key + 4));
                if (!lv->lms || !lv->ots) /* checked with the key above */
                        return sfu_err_set(
                                err, SFU_ERR_SIGNATURE, EINVAL,
                                "HSS signature: level %u public key has unsupported types 0x%08" PRIx32
                                "/0x%08" PRIx32,
                                l + 1, sfu_hss_get_u32(key), sfu_hss_get_u32(key + 4));
                if (sig_len - off < 8)
                        return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL,
                                           "HSS signature ends inside the level %u LMS signature", l + 1);
                q = sfu_hss_get_u32(sig + off);
                ots_type = sfu_hss_get_u32(sig + off + 4);
                if (ots_type != lv->ots->type)
                        return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL,
                                           "HSS signature: level %u LM-OTS type 0x%08" PRIx32
                                           " is not the key's %s",
                                           l + 1, ots_type, lv->ots->name);
                size = lms_signature_size(lv->lms, lv->ots);
                if (sig_len - off < size)
                        return sfu_err_set(
                                err, SFU_ERR_SIGNATURE, EINVAL,
                                "HSS signature ends inside the level %u LMS signature (%zu of %zu bytes)",
                                l + 1, sig_len - off, size);
                lms_type = sfu_hss_get_u32(sig + off + 8 + SFU_HSS_N + (size_t) lv->ots->p * SFU_HSS_N);
                if (lms_type != lv->lms->type)
                        return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL,
                                           "HSS signature: level %u LMS type 0x%08" PRIx32
                                           " is not the key's %s",
                                           l + 1, lms_type, lv->lms->name);
                if (q >> lv->lms->h)
                        return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL,
                                           "HSS signature: level %u leaf index %" PRIu32
                                           " is outside its tree of 2^%u",
                                           l + 1, q, lv->lms->h);
                lv->lms_sig = sig + off;
                off += size;
                if (l + 1 < levels) {
                        if (sig_len - off < SFU_HSS_LMS_PUBLIC_KEY_SIZE)
                                return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL,
                                                   "HSS signature ends inside the level %u public key",
                                                   l + 2);
                        key = sig + off;
                        if (!sfu_hss_lms_param(sfu_hss_get_u32(key)) ||
                            !sfu_hss_lmots_param(sfu_hss_get_u32(key + 4)))
                                return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL,
                                                   "HSS signature: level %u public key has unsupported "
                                                   "types 0x%08" PRIx32 "/0x%08" PRIx32,
                                                   l + 2, sfu_hss_get_u32(key), sfu_hss_get_u32(key + 4));
                        lv->msg = key;
                        lv->msg_len = SFU_HSS_LMS_PUBLIC_KEY_SIZE;
                        off += SFU_HSS_LMS_PUBLIC_KEY_SIZE;
                } else {
                        lv->msg = msg;
                        lv->msg_len = msg_len;
                }
        }
        if (off != sig_len)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL, "HSS signature has %zu trailing bytes",
                                   sig_len - off);
        return 0;
}

/* RFC 8554 Algorithm 4b (candidate LM-OTS public key) and 6a (candidate
 * root), compared in constant time with the key's T[1]. */
static int lms_verify(struct sfu_hss_hash *h, const struct level *lv, bool *ret_valid) {
        const uint8_t *I = lv->key + 8, *T1 = lv->key + 8 + SFU_HSS_I_SIZE;
        const uint8_t *C = lv->lms_sig + 8, *y = C + SFU_HSS_N;
        const uint8_t *path = y + (size_t) lv->ots->p * SFU_HSS_N + 4;
        uint32_t q = sfu_hss_get_u32(lv->lms_sig);
        uint8_t digits[SFU_HSS_P_MAX], prefix[SFU_HSS_I_SIZE + 4 + 2], tmp[SFU_HSS_N], Kc[SFU_HSS_N];
        uint32_t node;
        int r;

        r = sfu_hss_lmots_digits(h, lv->ots, I, q, C, lv->msg, lv->msg_len, digits);
        if (r < 0)
                return r;
        memcpy(prefix, I, SFU_HSS_I_SIZE);
        sfu_hss_put_u32(prefix + 16, q);
        sfu_hss_put_u16(prefix + 20, SFU_HSS_D_PBLC);
        if (EVP_DigestInit_ex2(h->outer, h->md, NULL) != 1 ||
            EVP_DigestUpdate(h->outer, prefix, sizeof(prefix)) != 1)
                return -EIO;
        for (unsigned i = 0; i < lv->ots->p; i++) {
                memcpy(tmp, y + (size_t) i * SFU_HSS_N, SFU_HSS_N);
                r = sfu_hss_chain(h, I, q, (uint16_t) i, digits[i], (1u << lv->ots->w) - 1, tmp);
                if (r < 0)
                        return r;
                if (EVP_DigestUpdate(h->outer, tmp, SFU_HSS_N) != 1)
                        return -EIO;
        }
        if (EVP_DigestFinal_ex(h->outer, Kc, NULL) != 1)
                return -EIO;

        node = (UINT32_C(1) << lv->lms->h) + q;
        r = sfu_hss_leaf(h, I, node, Kc, tmp);
        for (unsigned i = 0; r == 0 && node > 1; i++, node >>= 1) {
                const uint8_t *sibling = path + (size_t) i * SFU_HSS_N;
                if (node & 1)
                        r = sfu_hss_node(h, I, node >> 1, sibling, tmp, tmp);
                else
                        r = sfu_hss_node(h, I, node >> 1, tmp, sibling, tmp);
        }
        if (r < 0)
                return r;
        *ret_valid = CRYPTO_memcmp(tmp, T1, SFU_HSS_N) == 0;
        return 0;
}

int sfu_hss_verify(const uint8_t *pub, size_t pub_len, const uint8_t *msg, size_t msg_len,
                   const uint8_t *sig, size_t sig_len, struct sfu_err *err) {
        struct level levels[SFU_HSS_LEVELS_MAX] = {};
        struct sfu_hss_hash h;
        unsigned n_levels = 0;
        int r;

        r = public_key_parse(pub, pub_len, &n_levels, err);
        if (r < 0)
                return r;
        if (!msg && msg_len > 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL, "HSS verification without a message");
        r = signature_parse(pub, n_levels, msg, msg_len, sig, sig_len, levels, err);
        if (r < 0)
                return r;
        r = sfu_hss_hash_init(&h);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, r, "HSS verification: cannot set up SHA-256");
        for (unsigned l = 0; l < n_levels; l++) {
                bool valid = false;
                r = lms_verify(&h, &levels[l], &valid);
                if (r < 0) {
                        r = sfu_err_set(err, SFU_ERR_SIGNATURE, r, "HSS verification: SHA-256 failed");
                        break;
                }
                if (!valid) {
                        if (n_levels == 1)
                                r = sfu_err_set(err, SFU_ERR_SIGNATURE, EBADMSG,
                                                "HSS signature does not verify");
                        else
                                r = sfu_err_set(err, SFU_ERR_SIGNATURE, EBADMSG,
                                                "HSS signature does not verify at level %u of %u", l + 1,
                                                n_levels);
                        break;
                }
        }
        sfu_hss_hash_done(&h);
        return r;
}
