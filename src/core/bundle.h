/* SPDX-License-Identifier: MIT */
/* A bundle (a ".sfu" file, doc/bundle.md): a signed manifest and the
 * images it names in one file, so that a device can fetch an update in one
 * download and check every rule of the manifest before the first image
 * byte reaches a slot.
 *
 *   offset  size  field (integers big-endian)
 *   0       8     magic 89 53 46 55 0d 0a 1a 0a ("\x89SFU\r\n\x1a\n")
 *   8       2     format version: 1
 *   10      2     header length: 24
 *   12      4     M: bytes of the signed manifest, 1 .. SFU_BUNDLE_MANIFEST_MAX
 *   16      8     T: bytes of the images, the sum of the manifest's image sizes
 *   24      M     the signed manifest, in any form a device takes
 *   24 + M  T     the images, in the manifest's order, each exactly its size
 *
 * and nothing after them. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "core/manifest.h"

#define SFU_BUNDLE_MAGIC "\x89SFU\r\n\x1a\n"
#define SFU_BUNDLE_MAGIC_SIZE 8
#define SFU_BUNDLE_HEADER_SIZE 24
#define SFU_BUNDLE_VERSION 1
#define SFU_BUNDLE_MANIFEST_MAX (4u * 1024u * 1024u)
#define SFU_BUNDLE_MEDIA_TYPE "application/vnd.secfu.image"

struct sfu_bundle_header {
        uint32_t manifest_len;          /* M */
        uint64_t images_len;            /* T */
};

/* Whether buf starts like a bundle (its magic). */
bool sfu_bundle_is(const void *buf, size_t len);
/* Parses the 24-byte header: magic, version 1, header length 24, M within
 * 1..SFU_BUNDLE_MANIFEST_MAX, T without overflow.  SFU_ERR_PARSE with a
 * one-line reason otherwise. */
int sfu_bundle_parse_header(const void *buf, size_t len, struct sfu_bundle_header *ret, struct sfu_err *err) _wur_;
/* How many bytes of a file starting with buf (len) then data (n) a reader
 * wants before the images: 24 + M once a bundle's header has arrived, 24
 * when that header is malformed (the parser then says why), 0 for
 * anything that is not a bundle or not enough bytes yet.  Fits
 * sfu_fetch_opts.prefix_limit. */
size_t sfu_bundle_prefix_limit(const char *buf, size_t len, const char *data, size_t n);
void sfu_bundle_write_header(const struct sfu_bundle_header *h, uint8_t out[SFU_BUNDLE_HEADER_SIZE]);
/* The bundle's whole length: 24 + M + T. */
uint64_t sfu_bundle_length(const struct sfu_bundle_header *h);
/* The manifest inside fits the bundle: every image has a size and their
 * sum is T.  On success ret_offsets[i] is image i's offset in the file. */
int sfu_bundle_check(const struct sfu_bundle_header *h, const struct sfu_manifest *m, uint64_t *ret_offsets,
                     struct sfu_err *err) _wur_;
