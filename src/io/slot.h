/* SPDX-License-Identifier: MIT */
/* Writing an image into a slot (a block device or a regular file used as
 * one): capacity checks, refusal to open the running slot (or anything
 * that is the same file), buffered positioned writes, fdatasync, and
 * re-reading what is there (to re-hash before a resume and before
 * activation). */
#pragma once
#include <stdint.h>
#include "core/digest.h"
#include "core/err.h"

#define SFU_SLOT_WRITE_BUFFER (1024u * 1024u)
#define SFU_SLOT_DIRECT_MIN (64u * 1024u)             /* blocks this large skip the buffer */
#define SFU_SLOT_WRITEBACK_CHUNK (8u * 1024u * 1024u)  /* start writeback every 8 MiB */
#define SFU_SLOT_READ_BACK_BUFFER (128u * 1024u)       /* reading a slot back: fits a CPU's L2 */

struct sfu_slot_writer;

/* Opens device for writing. forbidden is a NULL-terminated list of paths
 * (the booted slot first) that device must not be, by identity (same
 * inode or same block device), whatever its name. A path outside /dev
 * must not be a symbolic link. need is the image size (0: unknown). A
 * regular file's capacity is its current size; a block device's, its
 * size. */
int sfu_slot_writer_open(const char *device, const char *const *forbidden, uint64_t need,
                         struct sfu_slot_writer **ret, struct sfu_err *err) _wur_;
uint64_t sfu_slot_writer_capacity(const struct sfu_slot_writer *w);
/* Writes len bytes at offset (buffered; contiguous writes are merged;
 * a block of at least SFU_SLOT_WRITE_BUFFER bytes goes straight to the device). */
int sfu_slot_writer_write(struct sfu_slot_writer *w, uint64_t offset, const void *buf, size_t len,
                          struct sfu_err *err) _wur_;
/* Flushes the buffer and fdatasyncs. */
int sfu_slot_writer_sync(struct sfu_slot_writer *w, struct sfu_err *err) _wur_;
/* Reads bytes [0, len) of the slot back (from the device itself, after
 * flushing) and passes them to fn in blocks. */
int sfu_slot_writer_read_back(struct sfu_slot_writer *w, uint64_t len,
                              int (*fn)(void *userdata, const void *buf, size_t len, struct sfu_err *err),
                              void *userdata, struct sfu_err *err) _wur_;
/* Checks that the slot's path still names the file or device that was
 * opened (nobody replaced it, e.g. by a symbolic link, since). */
int sfu_slot_writer_check_path(const struct sfu_slot_writer *w, struct sfu_err *err) _wur_;
void sfu_slot_writer_free(struct sfu_slot_writer *w);
static inline void sfu_slot_writer_freep(struct sfu_slot_writer **w) { sfu_slot_writer_free(*w); }
#define _cleanup_slot_writer_ _cleanup_(sfu_slot_writer_freep)

/* True when path a and path b name the same file or block device. */
bool sfu_slot_same_device(const char *a, const char *b);
