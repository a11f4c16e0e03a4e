/* SPDX-License-Identifier: MIT */
/* Incremental SHA-2 digests through OpenSSL EVP; several at once in one
 * pass over the data. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/macro.h"

enum sfu_digest_alg {
        SFU_DIGEST_SHA256,
        SFU_DIGEST_SHA384,
        SFU_DIGEST_SHA512,
        _SFU_DIGEST_MAX,
        _SFU_DIGEST_INVALID = -EINVAL,
};

#define SFU_DIGEST_MAX_SIZE 64
#define SFU_DIGEST_MASK(alg) (1u << (alg))
#define SFU_DIGEST_MASK_ALL ((1u << _SFU_DIGEST_MAX) - 1)

const char *sfu_digest_name(enum sfu_digest_alg alg);     /* "sha256" ... */
size_t sfu_digest_size(enum sfu_digest_alg alg);          /* 32, 48, 64 */
/* -ENOENT for a name that is not one of ours; weak (md5, sha1, sha224...)
 * and unknown names are both -ENOENT: the manifest layer decides. */
int sfu_digest_from_name(const char *name, enum sfu_digest_alg *ret) _wur_;
/* True for names of digests that must never count (md5, sha1, ...). */
bool sfu_digest_name_is_weak(const char *name);

struct sfu_digest_set;
/* A set computing every algorithm in mask. */
int sfu_digest_set_new(unsigned mask, struct sfu_digest_set **ret) _wur_;
int sfu_digest_set_update(struct sfu_digest_set *set, const void *buf, size_t len) _wur_;
/* Finishes all digests; after this only _get and _free are valid (or _reset). */
int sfu_digest_set_final(struct sfu_digest_set *set) _wur_;
/* Copies the final value of alg (must be in the mask) into out. */
int sfu_digest_set_get(const struct sfu_digest_set *set, enum sfu_digest_alg alg,
                       uint8_t out[SFU_DIGEST_MAX_SIZE]) _wur_;
int sfu_digest_set_reset(struct sfu_digest_set *set) _wur_;
unsigned sfu_digest_set_mask(const struct sfu_digest_set *set);
void sfu_digest_set_free(struct sfu_digest_set *set);
static inline void sfu_digest_set_freep(struct sfu_digest_set **p) { sfu_digest_set_free(*p); }
#define _cleanup_digest_set_ _cleanup_(sfu_digest_set_freep)

/* One-shot over a whole file descriptor from its current offset to EOF,
 * reading in large blocks; computes every algorithm of mask. */
int sfu_digest_fd(int fd, struct sfu_digest_set *set, uint64_t *ret_bytes) _wur_;
