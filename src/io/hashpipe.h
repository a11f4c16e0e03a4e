/* SPDX-License-Identifier: MIT */
/* A streaming pipeline for image bytes: the feeding thread copies data
 * into a small ring of blocks; each full block is first handed to a sink
 * (the slot writer) on the feeding thread, then hashed by one thread per
 * digest algorithm, so that SHA-256 and SHA-512 run on separate cores
 * while the next block is received.  Memory is bounded by the ring:
 * SFU_HASHPIPE_BLOCKS x SFU_HASHPIPE_BLOCK_SIZE, whatever the image size. */
#pragma once
#include <stdint.h>
#include "core/digest.h"
#include "core/err.h"
#include "core/mac.h"

#define SFU_HASHPIPE_BLOCKS 3
#define SFU_HASHPIPE_BLOCK_SIZE (128u * 1024u)

/* Receives each block (absolute offset) before it is hashed. */
typedef int (*sfu_hashpipe_sink_fn)(void *userdata, uint64_t offset, const void *buf, size_t len,
                                    struct sfu_err *err);

struct sfu_hashpipe;

int sfu_hashpipe_new(unsigned digest_mask, struct sfu_hashpipe **ret) _wur_;
/* Sets the sink (NULL: hash only, e.g. when re-hashing what a slot already
 * holds). Flushes the partial block first under the old sink. */
int sfu_hashpipe_set_sink(struct sfu_hashpipe *p, sfu_hashpipe_sink_fn sink, void *userdata,
                          struct sfu_err *err) _wur_;
/* Also feeds every block to mac (borrowed; it must outlive the pipe's
 * use), on the first digest's thread, and resets it with the pipe: the
 * keyed check value of exactly the bytes the digests saw.  Only before the
 * first byte is fed. */
int sfu_hashpipe_set_mac(struct sfu_hashpipe *p, struct sfu_mac *mac) _wur_;
/* Appends data; blocks when every block is still being hashed. */
int sfu_hashpipe_feed(struct sfu_hashpipe *p, const void *buf, size_t len, struct sfu_err *err) _wur_;
/* Bytes fed since creation or the last reset. */
uint64_t sfu_hashpipe_offset(const struct sfu_hashpipe *p);
/* Bytes handed to the sink so far (the rest waits in the block being filled). */
uint64_t sfu_hashpipe_sunk(const struct sfu_hashpipe *p);
/* Flushes, waits for the hashers, finalises every digest (not the mac:
 * its owner does, once this succeeded). */
int sfu_hashpipe_finish(struct sfu_hashpipe *p, struct sfu_err *err) _wur_;
int sfu_hashpipe_get(const struct sfu_hashpipe *p, enum sfu_digest_alg alg, uint8_t out[SFU_DIGEST_MAX_SIZE]) _wur_;
/* Drops everything fed so far (the partial block is discarded, not sunk)
 * and starts again at offset 0. */
int sfu_hashpipe_reset(struct sfu_hashpipe *p) _wur_;
void sfu_hashpipe_free(struct sfu_hashpipe *p);
static inline void sfu_hashpipe_freep(struct sfu_hashpipe **p) { sfu_hashpipe_free(*p); }
#define _cleanup_hashpipe_ _cleanup_(sfu_hashpipe_freep)
