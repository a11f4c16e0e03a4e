/* SPDX-License-Identifier: MIT */
/* HSS/LMS key generation and signing (RFC 8554 sections 4.5, 5.4.1 and
 * 6.2) with deterministic trees:
 *
 *   I(l, t)    = first 16 bytes of SHA-256(S || u8(l) || u64(t) || u8(1))
 *   SEED(l, t) = SHA-256(S || u8(l) || u64(t) || u8(2))
 *   x_q[i]     = SHA-256(I || u32(q) || u16(i) || u8(0xff) || SEED)
 *   C_q        = SHA-256(I || u32(q) || u16(0xfffd) || u8(0xff) || SEED)
 *
 * S is the 32-byte master seed, l the level (0 = top), t the index of the
 * tree within its level; x_q[i] is RFC 8554 Appendix A.  Signature number
 * `index` uses, at level l, leaf q_l of tree t_l, where index is the
 * concatenation of q_0 .. q_{L-1} (q_0 the most significant) and t_l that
 * of q_0 .. q_{l-1}.  Since C is derived too, the signature of a child tree
 * by its parent leaf is the same every time it is recomputed. */
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/hss-internal.h"
#include "core/hss-sign.h"

static const uint8_t key_magic[8] = {'S', 'E', 'C', 'F', 'U', 'H', 'S', 'S'};
#define KEY_VERSION 1
#define C_INDEX 0xfffd /* i of C_q: never a chain index (p <= 265) */

struct tree {
        bool valid;
        uint64_t t; /* index of the tree within its level */
        uint8_t I[SFU_HSS_I_SIZE];
        uint8_t SEED[SFU_HSS_N];
        uint8_t *nodes; /* node r at nodes + r*n, r = 1 .. 2^(h+1)-1 */
};

struct sfu_hss_key {
        struct sfu_hss_params params;
        uint8_t seed[SFU_HSS_SEED_SIZE];
        uint64_t next_index;
        uint64_t total;
        uint8_t pub[SFU_HSS_PUBLIC_KEY_SIZE];
        struct tree trees[SFU_HSS_LEVELS_MAX];
};

/* ---------------------------------------------------------------- parameters */

int sfu_hss_params_from_string(const char *text, struct sfu_hss_params *ret, struct sfu_err *err) {
        struct sfu_hss_params params = {};
        const char *p = text;

        if (!text || !*text)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "empty HSS parameters");
        for (;;) {
                unsigned h = 0, w = 0, lms = 0, ots = 0, used = 1;

                if (params.levels == SFU_HSS_LEVELS_MAX)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "HSS parameters \"%s\": more than %d levels", text,
                                           SFU_HSS_LEVELS_MAX);
                /* H<1 or 2 digits, no leading 0>/W<digit> */
                if (p[0] == 'H' && p[1] >= '1' && p[1] <= '9') {
                        h = (unsigned) (p[1] - '0');
                        used = 2;
                        if (p[2] >= '0' && p[2] <= '9') {
                                h = h * 10 + (unsigned) (p[2] - '0');
                                used = 3;
                        }
                }
                if (used == 1 || p[used] != '/' || p[used + 1] != 'W' || p[used + 2] < '0' ||
                    p[used + 2] > '9')
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "HSS parameters \"%s\": level %u is not H<height>/W<width>", text,
                                           params.levels + 1);
                w = (unsigned) (p[used + 2] - '0');
                used += 3;
                for (uint32_t t = SFU_HSS_LMS_SHA256_M32_H5; t <= SFU_HSS_LMS_SHA256_M32_H25; t++)
                        if (sfu_hss_lms_height(t) == h)
                                lms = t;
                for (uint32_t t = SFU_HSS_LMOTS_SHA256_N32_W1; t <= SFU_HSS_LMOTS_SHA256_N32_W8; t++)
                        if (sfu_hss_lmots_width(t) == w)
                                ots = t;
                if (!lms || !ots)
                        return sfu_err_set(
                                err, SFU_ERR_PARSE, EINVAL,
                                "HSS parameters \"%s\": H%u/W%u is not a parameter set (H5, H10, H15, H20, "
                                "H25; W1, W2, W4, W8)",
                                text, h, w);
                params.level[params.levels].lms_type = lms;
                params.level[params.levels].lmots_type = ots;
                params.levels++;
                p += used;
                if (*p == 0)
                        break;
                if (*p != ',' || p[1] == 0)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "HSS parameters \"%s\": levels must be separated by ','", text);
                p++;
        }
        *ret = params;
        return 0;
}

void sfu_hss_params_to_string(const struct sfu_hss_params *params, char buf[SFU_HSS_PARAMS_STRING_MAX]) {
        size_t len = 0;

        buf[0] = 0;
        for (unsigned l = 0; l < params->levels && l < SFU_HSS_LEVELS_MAX; l++)
                len += (size_t) snprintf(buf + len, SFU_HSS_PARAMS_STRING_MAX - len, "%sH%u/W%u",
                                         l ? "," : "", sfu_hss_lms_height(params->level[l].lms_type),
                                         sfu_hss_lmots_width(params->level[l].lmots_type));
}

int sfu_hss_params_check(const struct sfu_hss_params *params, struct sfu_err *err) {
        unsigned sum = 0;

        if (params->levels < 1 || params->levels > SFU_HSS_LEVELS_MAX)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "HSS parameters have %u levels, not 1 to %d",
                                   params->levels, SFU_HSS_LEVELS_MAX);
        for (unsigned l = 0; l < params->levels; l++) {
                unsigned h = sfu_hss_lms_height(params->level[l].lms_type);
                if (!h || !sfu_hss_lmots_param(params->level[l].lmots_type))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "HSS parameters: level %u has unsupported types 0x%08" PRIx32
                                           "/0x%08" PRIx32,
                                           l + 1, params->level[l].lms_type, params->level[l].lmots_type);
                if (h > SFU_HSS_SIGN_HEIGHT_MAX)
                        return sfu_err_set(
                                err, SFU_ERR_PARSE, EINVAL,
                                "HSS parameters: level %u has height %u; this signer builds whole trees and "
                                "takes heights up to %d (use more levels)",
                                l + 1, h, SFU_HSS_SIGN_HEIGHT_MAX);
                sum += h;
        }
        if (sum > SFU_HSS_SIGN_TOTAL_HEIGHT_MAX)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "HSS parameters: the heights add up to %u, more than %d", sum,
                                   SFU_HSS_SIGN_TOTAL_HEIGHT_MAX);
        return 0;
}

uint64_t sfu_hss_params_total(const struct sfu_hss_params *params) {
        unsigned sum = 0;
        for (unsigned l = 0; l < params->levels && l < SFU_HSS_LEVELS_MAX; l++)
                sum += sfu_hss_lms_height(params->level[l].lms_type);
        return sum > SFU_HSS_SIGN_TOTAL_HEIGHT_MAX ? 0 : UINT64_C(1) << sum;
}

size_t sfu_hss_signature_size(const struct sfu_hss_params *params) {
        size_t size = 4;
        for (unsigned l = 0; l < params->levels && l < SFU_HSS_LEVELS_MAX; l++) {
                size_t lms =
                        sfu_hss_lms_signature_size(params->level[l].lms_type, params->level[l].lmots_type);
                if (!lms)
                        return 0;
                size += lms + (l + 1 < params->levels ? SFU_HSS_LMS_PUBLIC_KEY_SIZE : 0);
        }
        return size;
}

/* ---------------------------------------------------------------- LM-OTS */

static int ots_private(struct sfu_hss_hash *h, const uint8_t I[SFU_HSS_I_SIZE],
                       const uint8_t SEED[SFU_HSS_N], uint32_t q, uint16_t i, uint8_t out[SFU_HSS_N]) {
        uint8_t buf[SFU_HSS_I_SIZE + 4 + 2 + 1 + SFU_HSS_N];
        int r;

        memcpy(buf, I, SFU_HSS_I_SIZE);
        sfu_hss_put_u32(buf + 16, q);
        sfu_hss_put_u16(buf + 20, i);
        buf[22] = 0xff;
        memcpy(buf + 23, SEED, SFU_HSS_N);
        r = sfu_hss_hash_once(h, buf, sizeof(buf), out);
        OPENSSL_cleanse(buf, sizeof(buf));
        return r;
}

int sfu_hss_ots_public(struct sfu_hss_hash *h, const struct sfu_hss_lmots_param *ots,
                       const uint8_t I[SFU_HSS_I_SIZE], const uint8_t SEED[SFU_HSS_N], uint32_t q,
                       uint8_t K[SFU_HSS_N]) {
        uint8_t prefix[SFU_HSS_I_SIZE + 4 + 2], tmp[SFU_HSS_N];
        int r = 0;

        memcpy(prefix, I, SFU_HSS_I_SIZE);
        sfu_hss_put_u32(prefix + 16, q);
        sfu_hss_put_u16(prefix + 20, SFU_HSS_D_PBLC);
        if (EVP_DigestInit_ex2(h->outer, h->md, NULL) != 1 ||
            EVP_DigestUpdate(h->outer, prefix, sizeof(prefix)) != 1)
                return -EIO;
        for (unsigned i = 0; i < ots->p && r == 0; i++) {
                r = ots_private(h, I, SEED, q, (uint16_t) i, tmp);
                if (r == 0)
                        r = sfu_hss_chain(h, I, q, (uint16_t) i, 0, (1u << ots->w) - 1, tmp);
                if (r == 0 && EVP_DigestUpdate(h->outer, tmp, SFU_HSS_N) != 1)
                        r = -EIO;
        }
        if (r == 0 && EVP_DigestFinal_ex(h->outer, K, NULL) != 1)
                r = -EIO;
        OPENSSL_cleanse(tmp, sizeof(tmp));
        return r;
}

int sfu_hss_ots_sign(struct sfu_hss_hash *h, const struct sfu_hss_lmots_param *ots,
                     const uint8_t I[SFU_HSS_I_SIZE], const uint8_t SEED[SFU_HSS_N], uint32_t q,
                     const uint8_t C[SFU_HSS_N], const uint8_t *msg, size_t msg_len, uint8_t *out) {
        uint8_t digits[SFU_HSS_P_MAX];
        uint8_t *y = out + 4 + SFU_HSS_N;
        int r;

        r = sfu_hss_lmots_digits(h, ots, I, q, C, msg, msg_len, digits);
        if (r < 0)
                return r;
        sfu_hss_put_u32(out, ots->type);
        memcpy(out + 4, C, SFU_HSS_N);
        for (unsigned i = 0; i < ots->p && r == 0; i++) {
                uint8_t *yi = y + (size_t) i * SFU_HSS_N;
                r = ots_private(h, I, SEED, q, (uint16_t) i, yi);
                if (r == 0)
                        r = sfu_hss_chain(h, I, q, (uint16_t) i, 0, digits[i], yi);
        }
        return r;
}

/* ---------------------------------------------------------------- trees */

static int derive(struct sfu_hss_hash *h, const uint8_t seed[SFU_HSS_SEED_SIZE], unsigned level, uint64_t t,
                  uint8_t label, uint8_t out[SFU_HSS_N]) {
        uint8_t buf[SFU_HSS_SEED_SIZE + 1 + 8 + 1];
        int r;

        memcpy(buf, seed, SFU_HSS_SEED_SIZE);
        buf[32] = (uint8_t) level;
        for (unsigned k = 0; k < 8; k++)
                buf[33 + k] = (uint8_t) (t >> (56 - 8 * k));
        buf[41] = label;
        r = sfu_hss_hash_once(h, buf, sizeof(buf), out);
        OPENSSL_cleanse(buf, sizeof(buf));
        return r;
}

static int derive_tree_ids(struct sfu_hss_hash *h, const uint8_t seed[SFU_HSS_SEED_SIZE], unsigned level,
                           uint64_t t, uint8_t I[SFU_HSS_I_SIZE], uint8_t SEED[SFU_HSS_N]) {
        uint8_t full[SFU_HSS_N];
        int r;

        r = derive(h, seed, level, t, 1, full);
        if (r == 0)
                memcpy(I, full, SFU_HSS_I_SIZE);
        if (r == 0 && SEED)
                r = derive(h, seed, level, t, 2, SEED);
        return r;
}

static unsigned level_height(const struct sfu_hss_key *key, unsigned l) {
        return sfu_hss_lms_height(key->params.level[l].lms_type);
}

static uint8_t *tree_node(const struct tree *tr, uint32_t r) {
        return tr->nodes + (size_t) r * SFU_HSS_N;
}

/* Builds (or finds in memory) tree t of level l: every leaf, then every
 * interior node from the bottom up. */
static int tree_build(struct sfu_hss_key *key, struct sfu_hss_hash *h, unsigned l, uint64_t t) {
        struct tree *tr = &key->trees[l];
        const struct sfu_hss_lmots_param *ots = sfu_hss_lmots_param(key->params.level[l].lmots_type);
        unsigned height = level_height(key, l);
        uint32_t leaves = UINT32_C(1) << height;
        uint8_t K[SFU_HSS_N];
        int r;

        if (tr->valid && tr->t == t)
                return 0;
        tr->valid = false;
        if (!tr->nodes) {
                tr->nodes = malloc((size_t) 2 * leaves * SFU_HSS_N);
                if (!tr->nodes)
                        return -ENOMEM;
        }
        r = derive_tree_ids(h, key->seed, l, t, tr->I, tr->SEED);
        for (uint32_t q = 0; q < leaves && r == 0; q++) {
                r = sfu_hss_ots_public(h, ots, tr->I, tr->SEED, q, K);
                if (r == 0)
                        r = sfu_hss_leaf(h, tr->I, leaves + q, K, tree_node(tr, leaves + q));
        }
        for (uint32_t node = leaves - 1; node >= 1 && r == 0; node--)
                r = sfu_hss_node(h, tr->I, node, tree_node(tr, 2 * node), tree_node(tr, 2 * node + 1),
                                 tree_node(tr, node));
        if (r < 0)
                return r;
        tr->t = t;
        tr->valid = true;
        return 0;
}

/* u32 type || u32 otstype || I || T[1] of a built tree. */
static void tree_public(const struct sfu_hss_key *key, unsigned l,
                        uint8_t out[SFU_HSS_LMS_PUBLIC_KEY_SIZE]) {
        const struct tree *tr = &key->trees[l];
        sfu_hss_put_u32(out, key->params.level[l].lms_type);
        sfu_hss_put_u32(out + 4, key->params.level[l].lmots_type);
        memcpy(out + 8, tr->I, SFU_HSS_I_SIZE);
        memcpy(out + 8 + SFU_HSS_I_SIZE, tree_node(tr, 1), SFU_HSS_N);
}

/* ---------------------------------------------------------------- keys */

static int key_new(const struct sfu_hss_params *params, const uint8_t seed[SFU_HSS_SEED_SIZE],
                   struct sfu_hss_key **ret, struct sfu_err *err) {
        struct sfu_hss_key *key;
        int r;

        r = sfu_hss_params_check(params, err);
        if (r < 0)
                return r;
        key = calloc(1, sizeof(*key));
        if (!key)
                return -ENOMEM;
        key->params = *params;
        memcpy(key->seed, seed, SFU_HSS_SEED_SIZE);
        key->total = sfu_hss_params_total(params);
        *ret = key;
        return 0;
}

int sfu_hss_key_from_seed(const struct sfu_hss_params *params, const uint8_t seed[SFU_HSS_SEED_SIZE],
                          struct sfu_hss_key **ret, struct sfu_err *err) {
        _cleanup_hss_key_ struct sfu_hss_key *key = NULL;
        struct sfu_hss_hash h;
        int r;

        r = key_new(params, seed, &key, err);
        if (r < 0)
                return r;
        r = sfu_hss_hash_init(&h);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, r, "HSS key generation: cannot set up SHA-256");
        r = tree_build(key, &h, 0, 0);
        sfu_hss_hash_done(&h);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, r, "HSS key generation failed: %s", strerror(-r));
        sfu_hss_put_u32(key->pub, params->levels);
        tree_public(key, 0, key->pub + 4);
        *ret = TAKE_PTR(key);
        return 0;
}

int sfu_hss_keygen(const struct sfu_hss_params *params, struct sfu_hss_key **ret, struct sfu_err *err) {
        uint8_t seed[SFU_HSS_SEED_SIZE];
        int r;

        if (RAND_priv_bytes(seed, sizeof(seed)) != 1)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EIO,
                                   "HSS key generation: no random bytes from OpenSSL");
        r = sfu_hss_key_from_seed(params, seed, ret, err);
        OPENSSL_cleanse(seed, sizeof(seed));
        return r;
}

static void put_u64(uint8_t *p, uint64_t v) {
        for (unsigned k = 0; k < 8; k++)
                p[k] = (uint8_t) (v >> (56 - 8 * k));
}

static uint64_t get_u64(const uint8_t *p) {
        uint64_t v = 0;
        for (unsigned k = 0; k < 8; k++)
                v = v << 8 | p[k];
        return v;
}

/* Layout (doc/hss.md):
 *   0        8   magic "SECFUHSS"
 *   8        4   version (1)
 *   12       4   L
 *   16       8L  per level: u32 LMS type, u32 LM-OTS type
 *   16+8L    32  master seed S
 *   48+8L    8   next index (u64)
 *   56+8L    60  HSS public key
 *   116+8L   32  SHA-256 of the bytes before it */
size_t sfu_hss_key_save(const struct sfu_hss_key *key, uint8_t out[SFU_HSS_PRIVATE_KEY_MAX]) {
        unsigned L = key->params.levels;
        size_t off = 0, len = SFU_HSS_PRIVATE_KEY_SIZE(L);

        memcpy(out, key_magic, sizeof(key_magic));
        sfu_hss_put_u32(out + 8, KEY_VERSION);
        sfu_hss_put_u32(out + 12, L);
        off = 16;
        for (unsigned l = 0; l < L; l++, off += 8) {
                sfu_hss_put_u32(out + off, key->params.level[l].lms_type);
                sfu_hss_put_u32(out + off + 4, key->params.level[l].lmots_type);
        }
        memcpy(out + off, key->seed, SFU_HSS_SEED_SIZE);
        off += SFU_HSS_SEED_SIZE;
        put_u64(out + off, key->next_index);
        off += 8;
        memcpy(out + off, key->pub, SFU_HSS_PUBLIC_KEY_SIZE);
        off += SFU_HSS_PUBLIC_KEY_SIZE;
        /* EVP_Digest of a fixed, small buffer only fails when OpenSSL is
         * broken; a zero checksum then makes the saved state unloadable. */
        if (EVP_Digest(out, off, out + off, NULL, EVP_sha256(), NULL) != 1)
                memset(out + off, 0, SFU_HSS_N);
        return len;
}

int sfu_hss_key_load(const uint8_t *buf, size_t len, struct sfu_hss_key **ret, struct sfu_err *err) {
        _cleanup_hss_key_ struct sfu_hss_key *key = NULL;
        struct sfu_hss_params params = {};
        uint8_t seed[SFU_HSS_SEED_SIZE], digest[SFU_HSS_N], I[SFU_HSS_I_SIZE];
        struct sfu_hss_hash h;
        size_t off;
        uint32_t L;
        int r;

        if (len < 16 || memcmp(buf, key_magic, sizeof(key_magic)) != 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "not an HSS private key (no SECFUHSS header)");
        if (sfu_hss_get_u32(buf + 8) != KEY_VERSION)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "HSS private key has format version %" PRIu32 ", not %d",
                                   sfu_hss_get_u32(buf + 8), KEY_VERSION);
        L = sfu_hss_get_u32(buf + 12);
        if (L < 1 || L > SFU_HSS_LEVELS_MAX)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "HSS private key has %" PRIu32 " levels, not 1 to %d", L,
                                   SFU_HSS_LEVELS_MAX);
        if (len != SFU_HSS_PRIVATE_KEY_SIZE(L))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "HSS private key is %zu bytes, its %" PRIu32 " levels need %d", len, L,
                                   SFU_HSS_PRIVATE_KEY_SIZE(L));
        off = len - SFU_HSS_N;
        if (EVP_Digest(buf, off, digest, NULL, EVP_sha256(), NULL) != 1)
                return sfu_err_set(err, SFU_ERR_PARSE, EIO, "HSS private key: SHA-256 failed");
        if (CRYPTO_memcmp(digest, buf + off, SFU_HSS_N) != 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG,
                                   "HSS private key is damaged (checksum mismatch)");
        params.levels = L;
        off = 16;
        for (unsigned l = 0; l < L; l++, off += 8) {
                params.level[l].lms_type = sfu_hss_get_u32(buf + off);
                params.level[l].lmots_type = sfu_hss_get_u32(buf + off + 4);
        }
        memcpy(seed, buf + off, SFU_HSS_SEED_SIZE);
        r = key_new(&params, seed, &key, err);
        OPENSSL_cleanse(seed, sizeof(seed));
        if (r < 0)
                return r;
        off += SFU_HSS_SEED_SIZE;
        key->next_index = get_u64(buf + off);
        off += 8;
        if (key->next_index > key->total)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "HSS private key: next index %" PRIu64 " is beyond its %" PRIu64
                                   " signatures",
                                   key->next_index, key->total);
        memcpy(key->pub, buf + off, SFU_HSS_PUBLIC_KEY_SIZE);
        if (sfu_hss_get_u32(key->pub) != L || sfu_hss_get_u32(key->pub + 4) != params.level[0].lms_type ||
            sfu_hss_get_u32(key->pub + 8) != params.level[0].lmots_type)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "HSS private key: its public key has other parameters than the key");
        r = sfu_hss_hash_init(&h);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, r, "HSS private key: cannot set up SHA-256");
        r = derive_tree_ids(&h, key->seed, 0, 0, I, NULL);
        sfu_hss_hash_done(&h);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, r, "HSS private key: SHA-256 failed");
        if (memcmp(I, key->pub + 12, SFU_HSS_I_SIZE) != 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "HSS private key: its public key does not belong to its seed");
        *ret = TAKE_PTR(key);
        return 0;
}

void sfu_hss_key_public(const struct sfu_hss_key *key, uint8_t out[SFU_HSS_PUBLIC_KEY_SIZE]) {
        memcpy(out, key->pub, SFU_HSS_PUBLIC_KEY_SIZE);
}

const struct sfu_hss_params *sfu_hss_key_params(const struct sfu_hss_key *key) {
        return &key->params;
}

uint64_t sfu_hss_key_next_index(const struct sfu_hss_key *key) {
        return key->next_index;
}

uint64_t sfu_hss_remaining(const struct sfu_hss_key *key) {
        return key->total - key->next_index;
}

int sfu_hss_reserve(struct sfu_hss_key *key, uint64_t *ret_index, struct sfu_err *err) {
        if (key->next_index >= key->total)
                return sfu_err_set(err, SFU_ERR_STATE, ENOSPC,
                                   "HSS key is exhausted: all %" PRIu64 " signatures used", key->total);
        *ret_index = key->next_index++;
        return 0;
}

/* ---------------------------------------------------------------- signing */

static int sign_levels(struct sfu_hss_key *key, struct sfu_hss_hash *h, uint64_t index, const uint8_t *msg,
                       size_t msg_len, uint8_t *out, size_t size) {
        unsigned L = key->params.levels, below = 0;
        uint32_t q[SFU_HSS_LEVELS_MAX];
        uint64_t t[SFU_HSS_LEVELS_MAX];
        size_t off = 0;
        int r;

        /* index = q_0 || q_1 || ... || q_{L-1}, bit strings of h_l bits. */
        for (unsigned l = L; l-- > 0;) {
                unsigned height = level_height(key, l);
                q[l] = (uint32_t) ((index >> below) & ((UINT64_C(1) << height) - 1));
                below += height;
        }
        below = 0;
        for (unsigned l = L; l-- > 0;) {
                below += level_height(key, l);
                t[l] = below >= 64 ? 0 : index >> below;
        }
        for (unsigned l = 0; l < L; l++) {
                r = tree_build(key, h, l, t[l]);
                if (r < 0)
                        return r;
        }
        if (memcmp(key->trees[0].I, key->pub + 12, SFU_HSS_I_SIZE) != 0 ||
            memcmp(tree_node(&key->trees[0], 1), key->pub + 28, SFU_HSS_N) != 0)
                return -EBADMSG;

        sfu_hss_put_u32(out, L - 1);
        off = 4;
        for (unsigned l = 0; l < L; l++) {
                const struct tree *tr = &key->trees[l];
                const struct sfu_hss_lmots_param *ots = sfu_hss_lmots_param(key->params.level[l].lmots_type);
                unsigned height = level_height(key, l);
                uint8_t child[SFU_HSS_LMS_PUBLIC_KEY_SIZE], C[SFU_HSS_N],
                        cbuf[SFU_HSS_I_SIZE + 4 + 2 + 1 + SFU_HSS_N];
                const uint8_t *m = msg;
                size_t m_len = msg_len;
                uint32_t node;

                if (l + 1 < L) {
                        tree_public(key, l + 1, child);
                        m = child;
                        m_len = sizeof(child);
                }
                memcpy(cbuf, tr->I, SFU_HSS_I_SIZE);
                sfu_hss_put_u32(cbuf + 16, q[l]);
                sfu_hss_put_u16(cbuf + 20, C_INDEX);
                cbuf[22] = 0xff;
                memcpy(cbuf + 23, tr->SEED, SFU_HSS_N);
                r = sfu_hss_hash_once(h, cbuf, sizeof(cbuf), C);
                OPENSSL_cleanse(cbuf, sizeof(cbuf));
                if (r < 0)
                        return r;
                if (size - off < sfu_hss_lms_signature_size(key->params.level[l].lms_type, ots->type))
                        return -EINVAL;
                sfu_hss_put_u32(out + off, q[l]);
                off += 4;
                r = sfu_hss_ots_sign(h, ots, tr->I, tr->SEED, q[l], C, m, m_len, out + off);
                if (r < 0)
                        return r;
                off += 4 + SFU_HSS_N + (size_t) ots->p * SFU_HSS_N;
                sfu_hss_put_u32(out + off, key->params.level[l].lms_type);
                off += 4;
                node = (UINT32_C(1) << height) + q[l];
                for (unsigned k = 0; k < height; k++, node >>= 1, off += SFU_HSS_N)
                        memcpy(out + off, tree_node(tr, node ^ 1), SFU_HSS_N);
                if (l + 1 < L) {
                        if (size - off < sizeof(child))
                                return -EINVAL;
                        memcpy(out + off, child, sizeof(child));
                        off += sizeof(child);
                }
        }
        return off == size ? 0 : -EINVAL;
}

int sfu_hss_sign_index(struct sfu_hss_key *key, uint64_t index, const uint8_t *msg, size_t msg_len,
                       uint8_t **ret_sig, size_t *ret_sig_len, struct sfu_err *err) {
        _cleanup_free_ uint8_t *sig = NULL;
        size_t size = sfu_hss_signature_size(&key->params);
        struct sfu_hss_hash h;
        struct sfu_err verr = SFU_ERR_INIT;
        int r;

        if (index >= key->next_index)
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL,
                                   "HSS signing: index %" PRIu64
                                   " has not been reserved (next index %" PRIu64 ")",
                                   index, key->next_index);
        if (!msg && msg_len > 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL, "HSS signing without a message");
        sig = malloc(size);
        if (!sig)
                return -ENOMEM;
        r = sfu_hss_hash_init(&h);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, r, "HSS signing: cannot set up SHA-256");
        r = sign_levels(key, &h, index, msg, msg_len, sig, size);
        sfu_hss_hash_done(&h);
        if (r == -EBADMSG)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, r,
                                   "HSS signing: the private key does not match its public key");
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, r, "HSS signing failed: %s", strerror(-r));
        /* A fault (memory, a damaged seed) must not release a bad signature. */
        r = sfu_hss_verify(key->pub, sizeof(key->pub), msg, msg_len, sig, size, &verr);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, r,
                                   "HSS signing: the new signature does not verify: %s", verr.message);
        *ret_sig = TAKE_PTR(sig);
        *ret_sig_len = size;
        return 0;
}

int sfu_hss_sign(struct sfu_hss_key *key, const uint8_t *msg, size_t msg_len, uint8_t **ret_sig,
                 size_t *ret_sig_len, struct sfu_err *err) {
        uint64_t index = 0;
        int r;

        r = sfu_hss_reserve(key, &index, err);
        if (r < 0)
                return r;
        return sfu_hss_sign_index(key, index, msg, msg_len, ret_sig, ret_sig_len, err);
}

void sfu_hss_key_free(struct sfu_hss_key *key) {
        if (!key)
                return;
        for (unsigned l = 0; l < SFU_HSS_LEVELS_MAX; l++)
                free(key->trees[l].nodes); /* public values */
        OPENSSL_cleanse(key, sizeof(*key));
        free(key);
}
