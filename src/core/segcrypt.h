/* SPDX-License-Identifier: MIT */
/* The encrypted image format (doc/encryption.md, "The encrypted image"):
 * AES-256-GCM in independently authenticated segments, in the manner of
 * the STREAM construction.  The plaintext is cut into segments of
 * segment_size bytes (the last one shorter, or empty for an empty image:
 * there is always exactly one final segment); segment i is
 *
 *     AES-256-GCM(key, nonce_i, no AAD, plaintext_i) || tag_i (16 bytes)
 *     nonce_i = nonce_prefix (7 bytes) || i (4 bytes, big-endian) || last (1 byte: 0x01 final, else 0x00)
 *
 * and the ciphertext is the segments one after the other, nothing else:
 * C = P + 16 * max(1, ceil(P / S)).  Segment k starts at ciphertext
 * offset k * (S + 16) and holds plaintext from k * S, so a download can
 * resume at any segment boundary with an HTTP Range.
 *
 * The decryptor takes ciphertext in blocks of any size and hands out
 * plaintext only after its segment authenticated, holding at most one
 * segment (memory does not grow with the image).  It refuses, at the first
 * segment that shows it: a wrong key or nonce prefix, a segment altered,
 * moved, reordered or taken from another stream, a stream truncated (no
 * final segment at the end: at a segment boundary the last segment then
 * fails as final), extended (anything after the final segment) or of a
 * size other than the manifest's. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

#define SFU_SEGCRYPT_ALG "A256GCM-STREAM"       /* the manifest's "encryption.alg" */
#define SFU_SEGCRYPT_KEY_SIZE 32
#define SFU_SEGCRYPT_PREFIX_SIZE 7
#define SFU_SEGCRYPT_TAG_SIZE 16
#define SFU_SEGCRYPT_NONCE_SIZE 12
#define SFU_SEGCRYPT_DEFAULT_SEGMENT (64u * 1024u)
#define SFU_SEGCRYPT_MIN_SEGMENT 64u
#define SFU_SEGCRYPT_MAX_SEGMENT (4u * 1024u * 1024u)  /* the decryptor holds one segment */
#define SFU_SEGCRYPT_MAX_SEGMENTS (UINT64_C(1) << 32)  /* the counter is 32 bits */

struct sfu_segcrypt_params {
        uint8_t key[SFU_SEGCRYPT_KEY_SIZE];
        uint8_t nonce_prefix[SFU_SEGCRYPT_PREFIX_SIZE];
        uint32_t segment_size;
};

/* segment_size within [SFU_SEGCRYPT_MIN_SEGMENT, SFU_SEGCRYPT_MAX_SEGMENT]. */
bool sfu_segcrypt_segment_size_ok(uint64_t segment_size);
/* Segments of a plaintext of plain_size bytes: max(1, ceil(P / S)). */
uint64_t sfu_segcrypt_segments(uint64_t plain_size, uint32_t segment_size);
/* C = P + 16 * segments; -EOVERFLOW past 2^32 segments or 2^63 bytes,
 * -EINVAL for a segment size out of range. */
int sfu_segcrypt_ciphertext_size(uint64_t plain_size, uint32_t segment_size, uint64_t *ret) _wur_;
/* The inverse: -EINVAL when no plaintext has ciphertext_size (a final
 * segment shorter than its tag, an empty final segment after others). */
int sfu_segcrypt_plaintext_size(uint64_t ciphertext_size, uint32_t segment_size, uint64_t *ret) _wur_;
/* Where segment k starts: k * (S + 16) in the ciphertext, k * S in the
 * plaintext. */
static inline uint64_t sfu_segcrypt_ciphertext_offset(uint64_t segment, uint32_t segment_size) {
        return segment * ((uint64_t) segment_size + SFU_SEGCRYPT_TAG_SIZE);
}
static inline uint64_t sfu_segcrypt_plaintext_offset(uint64_t segment, uint32_t segment_size) {
        return segment * segment_size;
}

/* Receives the output (plaintext when decrypting, ciphertext when
 * encrypting), never empty (the empty image gives no call): 0, or a
 * negative errno (with err filled) that stops the stream. */
typedef int (*sfu_segcrypt_write_fn)(void *userdata, const uint8_t *data, size_t len, struct sfu_err *err);

struct sfu_segcrypt;

/* A decryptor starting at segment start_segment (0, or where a resumed
 * download continues: its first byte is at
 * sfu_segcrypt_ciphertext_offset(start_segment)).  ciphertext_size is the
 * size of the whole stream (the manifest's "size"), or 0 when unknown;
 * with it, a stream that would go past it or ends short of it is refused,
 * and so is a start segment beyond it.  The key is copied (and wiped on
 * free). */
int sfu_segcrypt_decrypt_new(const struct sfu_segcrypt_params *params, uint64_t start_segment,
                             uint64_t ciphertext_size, sfu_segcrypt_write_fn write, void *userdata,
                             struct sfu_segcrypt **ret, struct sfu_err *err) _wur_;
/* Feeds len bytes (any split).  Errors: SFU_ERR_DIGEST for a segment that
 * does not authenticate (naming it), SFU_ERR_SIZE beyond the size, or
 * what write said.  After an error every call fails the same way. */
int sfu_segcrypt_feed(struct sfu_segcrypt *s, const void *data, size_t len, struct sfu_err *err) _wur_;
/* The end of the stream: the held segment must authenticate as the final
 * one. */
int sfu_segcrypt_finish(struct sfu_segcrypt *s, struct sfu_err *err) _wur_;
/* Segments fully handled so far, counting from 0 (not from the start
 * segment); plaintext bytes handed out, counting from the stream's start. */
uint64_t sfu_segcrypt_next_segment(const struct sfu_segcrypt *s);
uint64_t sfu_segcrypt_plaintext_done(const struct sfu_segcrypt *s);
void sfu_segcrypt_free(struct sfu_segcrypt *s);
static inline void sfu_segcrypt_freep(struct sfu_segcrypt **s) { sfu_segcrypt_free(*s); }
#define _cleanup_segcrypt_ _cleanup_(sfu_segcrypt_freep)

/* segcrypt-encrypt.c, in libsfusign.a (the vendor tool): an encryptor
 * with the same feed/finish/free; write receives ciphertext. */
int sfu_segcrypt_encrypt_new(const struct sfu_segcrypt_params *params, sfu_segcrypt_write_fn write, void *userdata,
                             struct sfu_segcrypt **ret, struct sfu_err *err) _wur_;
/* Fresh random parameters: key and nonce prefix from the OS's CSPRNG. */
int sfu_segcrypt_params_generate(uint32_t segment_size, struct sfu_segcrypt_params *ret, struct sfu_err *err) _wur_;
