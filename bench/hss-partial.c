/* SPDX-License-Identifier: MIT */
#include "bench/hss-partial.h"
#include "core/hss-internal.h"

/* An L-level key and signature from partial trees, as tests/unit/test-hss.c. */
void sfu_bench_hss_partial(unsigned L, const uint32_t *lms, const uint32_t *ots,
                    uint8_t pub[SFU_HSS_PUBLIC_KEY_SIZE], const uint8_t *msg, size_t msg_len, uint8_t *sig,
                    size_t *ret_len) {
        struct sfu_hss_hash h;
        uint8_t child[SFU_HSS_LEVELS_MAX][SFU_HSS_LMS_PUBLIC_KEY_SIZE];
        uint8_t I[SFU_HSS_LEVELS_MAX][16], SEED[SFU_HSS_LEVELS_MAX][32], path[SFU_HSS_LEVELS_MAX][25][32];
        size_t off = 4;

        if (sfu_hss_hash_init(&h) < 0)
                exit(1);
        for (unsigned l = 0; l < L; l++) {
                unsigned height = sfu_hss_lms_height(lms[l]);
                uint8_t K[32], tmp[32];
                uint32_t node = (UINT32_C(1) << height) + 1; /* q = 1 */
                for (unsigned i = 0; i < 16; i++)
                        I[l][i] = (uint8_t) (i * 7 + l);
                for (unsigned i = 0; i < 32; i++)
                        SEED[l][i] = (uint8_t) (i * 13 + l);
                memset(path[l], 0x5a ^ (int) l, sizeof(path[l]));
                if (sfu_hss_ots_public(&h, sfu_hss_lmots_param(ots[l]), I[l], SEED[l], 1, K) < 0 ||
                    sfu_hss_leaf(&h, I[l], node, K, tmp) < 0)
                        exit(1);
                for (unsigned k = 0; node > 1; k++, node >>= 1)
                        if (((node & 1) ? sfu_hss_node(&h, I[l], node >> 1, path[l][k], tmp, tmp)
                                        : sfu_hss_node(&h, I[l], node >> 1, tmp, path[l][k], tmp)) < 0)
                                exit(1);
                sfu_hss_put_u32(child[l], lms[l]);
                sfu_hss_put_u32(child[l] + 4, ots[l]);
                memcpy(child[l] + 8, I[l], 16);
                memcpy(child[l] + 24, tmp, 32);
        }
        sfu_hss_put_u32(pub, L);
        memcpy(pub + 4, child[0], SFU_HSS_LMS_PUBLIC_KEY_SIZE);
        sfu_hss_put_u32(sig, L - 1);
        for (unsigned l = 0; l < L; l++) {
                const struct sfu_hss_lmots_param *p = sfu_hss_lmots_param(ots[l]);
                uint8_t C[32];
                memset(C, 0xc0 + (int) l, sizeof(C));
                sfu_hss_put_u32(sig + off, 1);
                if (sfu_hss_ots_sign(&h, p, I[l], SEED[l], 1, C, l + 1 < L ? child[l + 1] : msg,
                                     l + 1 < L ? SFU_HSS_LMS_PUBLIC_KEY_SIZE : msg_len, sig + off + 4) < 0)
                        exit(1);
                off += 8 + 32 + (size_t) p->p * 32;
                sfu_hss_put_u32(sig + off, lms[l]);
                off += 4;
                memcpy(sig + off, path[l], (size_t) sfu_hss_lms_height(lms[l]) * 32);
                off += (size_t) sfu_hss_lms_height(lms[l]) * 32;
                if (l + 1 < L) {
                        memcpy(sig + off, child[l + 1], SFU_HSS_LMS_PUBLIC_KEY_SIZE);
                        off += SFU_HSS_LMS_PUBLIC_KEY_SIZE;
                }
        }
        sfu_hss_hash_done(&h);
        *ret_len = off;
}

