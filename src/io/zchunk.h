/* SPDX-License-Identifier: MIT */
/* Images as zchunk files (doc/delta.md).  The vendor side writes one
 * through libzck (zchunk-write.c): fixed-size chunks of the image, each
 * compressed on its own with zstd, SHA-256 of every chunk compressed and
 * uncompressed in the header.  The device side (zchunk.c: libzstd only)
 * reads a header it has already authenticated into a flat index with a
 * reader of its own that streams it from a file, and turns one fetched
 * chunk into image bytes only when both of its digests match. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "core/err.h"
#include "core/macro.h"
#include "core/zchunk-index.h"

/* Writes the image read from in_fd as a zchunk file to out_fd; returns the
 * lead-and-header size and its SHA-256, and the file's size. */
int sfu_zchunk_write(int in_fd, int out_fd, uint32_t chunk_size, int level, uint64_t *ret_header_size,
                     uint8_t ret_header_sha256[static SFU_ZCHUNK_DIGEST_SIZE], uint64_t *ret_file_size,
                     struct sfu_err *err) _wur_;

/* The index of an authenticated lead and header (len bytes, the whole of
 * them), as sfu_zchunk_index_parse() reads it. */
int sfu_zchunk_index_read(const uint8_t *header, size_t len, uint32_t chunk_size, uint64_t image_size,
                          uint64_t file_size, struct sfu_zchunk_index *ret, struct sfu_err *err) _wur_;
/* The same from a file holding exactly those len bytes (read from its
 * start): a memory file keeps the header out of the process's memory. */
int sfu_zchunk_index_read_fd(int fd, size_t len, uint32_t chunk_size, uint64_t image_size, uint64_t file_size,
                             struct sfu_zchunk_index *ret, struct sfu_err *err) _wur_;

/* A decompression context, reused for every chunk. */
struct sfu_zchunk_decoder;
int sfu_zchunk_decoder_new(struct sfu_zchunk_decoder **ret) _wur_;
void sfu_zchunk_decoder_free(struct sfu_zchunk_decoder *d);
/* comp holds the chunk's comp_size fetched bytes; out has room for
 * chunk->size bytes.  SFU_ERR_DIGEST unless both digests match. */
int sfu_zchunk_decode(struct sfu_zchunk_decoder *d, const struct sfu_zchunk_chunk *chunk, const uint8_t *comp,
                      uint8_t *out, struct sfu_err *err) _wur_;
