/* SPDX-License-Identifier: MIT */
/* What the HSS verifier (hss.c) shares with the signer (hss-sign.c) and
 * the unit tests: the parameter tables, the big-endian fields and the
 * hash computations of RFC 8554 with their domain separators. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include "core/hss.h"

/* Domain separators of RFC 8554 section 3.2 (and 7.1 for D_LEAF/D_INTR). */
#define SFU_HSS_D_PBLC 0x8080
#define SFU_HSS_D_MESG 0x8181
#define SFU_HSS_D_LEAF 0x8282
#define SFU_HSS_D_INTR 0x8383

#define SFU_HSS_P_MAX 265 /* p of LMOTS_SHA256_N32_W1 */
#define SFU_HSS_H_MAX 25

struct sfu_hss_lmots_param {
        uint32_t type;
        unsigned w;  /* Winternitz width in bits */
        unsigned p;  /* number of n-byte chains */
        unsigned ls; /* checksum left shift */
        const char *name;
};
struct sfu_hss_lms_param {
        uint32_t type;
        unsigned h;
        const char *name;
};
/* NULL for an unknown code. */
const struct sfu_hss_lmots_param *sfu_hss_lmots_param(uint32_t type);
const struct sfu_hss_lms_param *sfu_hss_lms_param(uint32_t type);

static inline uint32_t sfu_hss_get_u32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}
static inline void sfu_hss_put_u32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) (v >> 24);
        p[1] = (uint8_t) (v >> 16);
        p[2] = (uint8_t) (v >> 8);
        p[3] = (uint8_t) v;
}
static inline void sfu_hss_put_u16(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t) (v >> 8);
        p[1] = (uint8_t) v;
}

/* One SHA-256 implementation fetched once per operation and two contexts:
 * `ctx` for every short hash, `outer` for K = H(I || u32(q) || D_PBLC ||
 * z[0] || ... || z[p-1]), streamed so that no p x n array is needed. */
struct sfu_hss_hash {
        EVP_MD *md;
        EVP_MD_CTX *ctx;
        EVP_MD_CTX *outer;
};
int sfu_hss_hash_init(struct sfu_hss_hash *h) _wur_;
void sfu_hss_hash_done(struct sfu_hss_hash *h);

/* out = H(data) with h->ctx. */
int sfu_hss_hash_once(struct sfu_hss_hash *h, const void *data, size_t len, uint8_t out[SFU_HSS_N]) _wur_;

/* The Winternitz chain of RFC 8554 section 4.5/4.6: for j = from .. to-1,
 * tmp = H(I || u32(q) || u16(i) || u8(j) || tmp). */
int sfu_hss_chain(struct sfu_hss_hash *h, const uint8_t I[SFU_HSS_I_SIZE], uint32_t q, uint16_t i,
                  unsigned from, unsigned to, uint8_t tmp[SFU_HSS_N]) _wur_;

/* The p base-2^w digits of Q || Cksm(Q), Q = H(I || u32(q) || D_MESG || C
 * || message) (RFC 8554 section 4.4 and 4.5 step 5). */
int sfu_hss_lmots_digits(struct sfu_hss_hash *h, const struct sfu_hss_lmots_param *ots,
                         const uint8_t I[SFU_HSS_I_SIZE], uint32_t q, const uint8_t C[SFU_HSS_N],
                         const uint8_t *msg, size_t msg_len, uint8_t digits[SFU_HSS_P_MAX]) _wur_;

/* Leaf r: H(I || u32(r) || D_LEAF || K); interior node r:
 * H(I || u32(r) || D_INTR || left || right) (RFC 8554 section 5.3). */
int sfu_hss_leaf(struct sfu_hss_hash *h, const uint8_t I[SFU_HSS_I_SIZE], uint32_t r,
                 const uint8_t K[SFU_HSS_N], uint8_t out[SFU_HSS_N]) _wur_;
int sfu_hss_node(struct sfu_hss_hash *h, const uint8_t I[SFU_HSS_I_SIZE], uint32_t r,
                 const uint8_t left[SFU_HSS_N], const uint8_t right[SFU_HSS_N],
                 uint8_t out[SFU_HSS_N]) _wur_;

/* The signer's LM-OTS (hss-sign.c), with the private values of RFC 8554
 * Appendix A: x_q[i] = H(I || u32(q) || u16(i) || u8(0xff) || SEED).
 * The public key K of leaf q; the LM-OTS signature u32 type || C || y[p]
 * of msg with the given randomizer C into out (4 + n + p*n bytes). */
int sfu_hss_ots_public(struct sfu_hss_hash *h, const struct sfu_hss_lmots_param *ots,
                       const uint8_t I[SFU_HSS_I_SIZE], const uint8_t SEED[SFU_HSS_N], uint32_t q,
                       uint8_t K[SFU_HSS_N]) _wur_;
int sfu_hss_ots_sign(struct sfu_hss_hash *h, const struct sfu_hss_lmots_param *ots,
                     const uint8_t I[SFU_HSS_I_SIZE], const uint8_t SEED[SFU_HSS_N], uint32_t q,
                     const uint8_t C[SFU_HSS_N], const uint8_t *msg, size_t msg_len, uint8_t *out) _wur_;
