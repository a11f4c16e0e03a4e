/* SPDX-License-Identifier: MIT */
/* The index of a zchunk file's header (doc/delta.md), read with a parser
 * of our own from any source of bytes (io/zchunk.h reads it from a file;
 * the fuzz target from memory). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "core/macro.h"

#define SFU_ZCHUNK_DIGEST_SIZE 32       /* SHA-256 */
#define SFU_ZCHUNK_MAX_CHUNKS (1u << 22)
#define SFU_ZCHUNK_MAX_CHUNK_SIZE (64u * 1024u * 1024u)
#define SFU_ZCHUNK_DEFAULT_CHUNK (16u * 1024u)
#define SFU_ZCHUNK_DEFAULT_LEVEL 9

struct sfu_zchunk_chunk {
        uint64_t offset;                /* of its compressed bytes in the zchunk file */
        uint32_t comp_size;
        uint32_t size;                  /* image bytes */
        uint8_t digest[SFU_ZCHUNK_DIGEST_SIZE];         /* of the compressed bytes */
        uint8_t digest_plain[SFU_ZCHUNK_DIGEST_SIZE];   /* of the image bytes */
};

struct sfu_zchunk_index {
        struct sfu_zchunk_chunk *chunks;
        size_t n;
        uint32_t chunk_size;
        uint32_t max_comp_size;
};

/* Fills buf with the len header bytes at offset, or fails (setting err). */
typedef int (*sfu_zchunk_read_fn)(void *userdata, uint64_t offset, uint8_t *buf, size_t len, struct sfu_err *err);

/* The index of an (authenticated) lead and header of len bytes that read
 * returns.  It must be a zchunk version 1 header with SHA-256 checksums,
 * zstd, uncompressed digests and no streams, dictionary or signatures,
 * that describes exactly image_size bytes in chunks of chunk_size (the
 * last may be shorter) following each other up to file_size.  Any byte
 * out of place is an error (SFU_ERR_PARSE); the header's own checksum is
 * not checked (the caller has authenticated every byte already). */
int sfu_zchunk_index_parse(sfu_zchunk_read_fn read, void *userdata, size_t len, uint32_t chunk_size,
                           uint64_t image_size, uint64_t file_size, struct sfu_zchunk_index *ret,
                           struct sfu_err *err) _wur_;
/* The same from len bytes in memory. */
int sfu_zchunk_index_parse_buffer(const uint8_t *header, size_t len, uint32_t chunk_size, uint64_t image_size,
                                  uint64_t file_size, struct sfu_zchunk_index *ret, struct sfu_err *err) _wur_;
void sfu_zchunk_index_free(struct sfu_zchunk_index *idx);
