/* SPDX-License-Identifier: MIT */
/* HSS/LMS key generation and signing (RFC 8554) for the vendor tool.  In
 * its own object file: the daemon only verifies (hss.h) and never links
 * this.
 *
 * A private key is a small state: the parameters, a 32-byte master seed
 * from which every tree's identifier I and secret SEED are derived, the
 * index of the next unused signature, and the public key.  Signing derives
 * the trees on the path of an index (kept in memory for the next index)
 * and never needs more than the state.  doc/hss.md gives the derivations
 * and the byte layout of sfu_hss_key_save().
 *
 * The state is the security of the scheme: an index may sign once.  Use
 * sfu_hss_reserve() to take the next index, persist the advanced state
 * (sfu_hss_key_save(), then a durable write), and only then
 * sfu_hss_sign_index() — io/hsskey.c does this with a key file. */
#pragma once
#include <stdint.h>
#include "core/hss.h"

struct sfu_hss_params {
        unsigned levels; /* 1 .. SFU_HSS_LEVELS_MAX */
        struct {
                uint32_t lms_type;   /* enum sfu_hss_lms_type */
                uint32_t lmots_type; /* enum sfu_hss_lmots_type */
        } level[SFU_HSS_LEVELS_MAX]; /* [0] is the top tree */
};

/* Two levels of LMS_SHA256_M32_H10 with LMOTS_SHA256_N32_W4: 2^20
 * signatures, about 0.3 s per signature from a cold start. */
#define SFU_HSS_PARAMS_DEFAULT "H10/W4,H10/W4"
/* The signer builds whole trees, so it refuses taller ones (a height-20
 * tree is 2^20 LM-OTS key pairs: minutes per signature); verification
 * takes every height. */
#define SFU_HSS_SIGN_HEIGHT_MAX 15
/* The sum of the heights: the number of signatures, 2^sum, fits a u64. */
#define SFU_HSS_SIGN_TOTAL_HEIGHT_MAX 63

#define SFU_HSS_SEED_SIZE 32
#define SFU_HSS_PRIVATE_KEY_SIZE(levels) (148 + 8 * (levels))
#define SFU_HSS_PRIVATE_KEY_MAX SFU_HSS_PRIVATE_KEY_SIZE(SFU_HSS_LEVELS_MAX)
#define SFU_HSS_PARAMS_STRING_MAX (SFU_HSS_LEVELS_MAX * 7)

/* "H10/W4,H5/W8": the levels from the top, each "H<height>/W<width>". */
int sfu_hss_params_from_string(const char *text, struct sfu_hss_params *ret, struct sfu_err *err) _wur_;
/* The same form into buf (SFU_HSS_PARAMS_STRING_MAX bytes). */
void sfu_hss_params_to_string(const struct sfu_hss_params *params, char buf[SFU_HSS_PARAMS_STRING_MAX]);
/* Whether this signer can use params (known types, the height limits). */
int sfu_hss_params_check(const struct sfu_hss_params *params, struct sfu_err *err) _wur_;
/* Number of signatures: 2^(sum of the heights). */
uint64_t sfu_hss_params_total(const struct sfu_hss_params *params);
/* Size of every signature made with params. */
size_t sfu_hss_signature_size(const struct sfu_hss_params *params);

struct sfu_hss_key;

/* A new key with a master seed from RAND_bytes; builds the top tree. */
int sfu_hss_keygen(const struct sfu_hss_params *params, struct sfu_hss_key **ret, struct sfu_err *err) _wur_;
/* The same from a given seed (tests, known answers). */
int sfu_hss_key_from_seed(const struct sfu_hss_params *params, const uint8_t seed[SFU_HSS_SEED_SIZE],
                          struct sfu_hss_key **ret, struct sfu_err *err) _wur_;
/* Parses a saved state strictly (magic, version, types, limits, checksum,
 * index within range, the public key belonging to the seed's top tree);
 * SFU_ERR_PARSE. */
int sfu_hss_key_load(const uint8_t *buf, size_t len, struct sfu_hss_key **ret, struct sfu_err *err) _wur_;
/* Serialises the state into out; returns its length.  out holds the
 * master seed: wipe it (OPENSSL_cleanse) after use. */
size_t sfu_hss_key_save(const struct sfu_hss_key *key, uint8_t out[SFU_HSS_PRIVATE_KEY_MAX]);

void sfu_hss_key_public(const struct sfu_hss_key *key, uint8_t out[SFU_HSS_PUBLIC_KEY_SIZE]);
const struct sfu_hss_params *sfu_hss_key_params(const struct sfu_hss_key *key);
uint64_t sfu_hss_key_next_index(const struct sfu_hss_key *key);
/* Signatures left. */
uint64_t sfu_hss_remaining(const struct sfu_hss_key *key);

/* Takes the next index (advances the in-memory state).  An exhausted key
 * is SFU_ERR_STATE, -ENOSPC. */
int sfu_hss_reserve(struct sfu_hss_key *key, uint64_t *ret_index, struct sfu_err *err) _wur_;
/* Signs msg with the leaves of index, which must have been reserved
 * (index < next index).  The signature is checked against the public key
 * before it is returned.  New buffer of sfu_hss_signature_size() bytes. */
int sfu_hss_sign_index(struct sfu_hss_key *key, uint64_t index, const uint8_t *msg, size_t msg_len,
                       uint8_t **ret_sig, size_t *ret_sig_len, struct sfu_err *err) _wur_;
/* reserve + sign_index, for a key whose state lives in memory only. */
int sfu_hss_sign(struct sfu_hss_key *key, const uint8_t *msg, size_t msg_len, uint8_t **ret_sig,
                 size_t *ret_sig_len, struct sfu_err *err) _wur_;

/* Wipes the seed and the cached trees' secrets; accepts NULL. */
void sfu_hss_key_free(struct sfu_hss_key *key);
static inline void sfu_hss_key_freep(struct sfu_hss_key **k) {
        sfu_hss_key_free(*k);
}
#define _cleanup_hss_key_ _cleanup_(sfu_hss_key_freep)
