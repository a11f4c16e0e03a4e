/* SPDX-License-Identifier: MIT */
/* Images as zchunk files (doc/delta.md), through libzck and libzstd.
 * The vendor side writes one: fixed-size chunks of the image, each
 * compressed on its own with zstd, SHA-256 of every chunk compressed and
 * uncompressed in the header.  The device side reads a header it has
 * already authenticated into a flat index, and turns one fetched chunk
 * into image bytes only when both of its digests match. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "core/err.h"
#include "core/macro.h"

#define SFU_ZCHUNK_DIGEST_SIZE 32       /* SHA-256 */
#define SFU_ZCHUNK_MAX_CHUNKS (1u << 22)
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

/* Writes the image read from in_fd as a zchunk file to out_fd; returns the
 * lead-and-header size and its SHA-256, and the file's size. */
int sfu_zchunk_write(int in_fd, int out_fd, uint32_t chunk_size, int level, uint64_t *ret_header_size,
                     uint8_t ret_header_sha256[static SFU_ZCHUNK_DIGEST_SIZE], uint64_t *ret_file_size,
                     struct sfu_err *err) _wur_;

/* The index of an authenticated lead and header (len bytes, the whole of
 * them).  Checks that it describes exactly image_size bytes in chunks of
 * chunk_size (the last may be shorter), SHA-256 digests of both kinds,
 * no dictionary, and chunks that follow each other up to file_size. */
int sfu_zchunk_index_read(const uint8_t *header, size_t len, uint32_t chunk_size, uint64_t image_size,
                          uint64_t file_size, struct sfu_zchunk_index *ret, struct sfu_err *err) _wur_;
/* The same from a file holding exactly those len bytes (read from its
 * start): a memory file keeps the header out of the process's memory. */
int sfu_zchunk_index_read_fd(int fd, size_t len, uint32_t chunk_size, uint64_t image_size, uint64_t file_size,
                             struct sfu_zchunk_index *ret, struct sfu_err *err) _wur_;
void sfu_zchunk_index_free(struct sfu_zchunk_index *idx);

/* A decompression context, reused for every chunk. */
struct sfu_zchunk_decoder;
int sfu_zchunk_decoder_new(struct sfu_zchunk_decoder **ret) _wur_;
void sfu_zchunk_decoder_free(struct sfu_zchunk_decoder *d);
/* comp holds the chunk's comp_size fetched bytes; out has room for
 * chunk->size bytes.  SFU_ERR_DIGEST unless both digests match. */
int sfu_zchunk_decode(struct sfu_zchunk_decoder *d, const struct sfu_zchunk_chunk *chunk, const uint8_t *comp,
                      uint8_t *out, struct sfu_err *err) _wur_;
