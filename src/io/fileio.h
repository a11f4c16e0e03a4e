/* SPDX-License-Identifier: MIT */
/* Crash-safe files: write a temporary file in the same directory, fsync
 * it, rename it over the old one, fsync the directory.  Reads are capped
 * and refuse anything but a regular file. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "core/err.h"
#include "core/file.h"

int sfu_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                          struct sfu_err *err) _wur_;

enum {
        SFU_READ_NOFOLLOW = 1 << 0,     /* refuse a symlink at path */
        SFU_READ_PRIVATE = 1 << 1,      /* refuse a group/world-writable file */
};

/* Reads a whole regular file of at most max bytes into a new
 * NUL-terminated buffer. -ENOENT when absent (not recorded in err).
 * Anything else (FIFO, symlink with NOFOLLOW, too large, unsafe mode) is
 * an error with a reason. */
int sfu_file_read(const char *path, size_t max, unsigned flags, char **ret, size_t *ret_len,
                  struct sfu_err *err) _wur_;

/* fsync of the directory that holds path (after a rename, link or
 * unlink in it). */
int sfu_file_sync_parent(const char *path) _wur_;

/* The first (at most) max bytes of the regular file open at fd, from its
 * start, into a new NUL-terminated buffer; *ret_size is its whole size. */
int sfu_file_read_head_fd(int fd, const char *name, size_t max, char **ret, size_t *ret_len, uint64_t *ret_size,
                          struct sfu_err *err) _wur_;
/* mkdir -p with mode for the last component. */
int sfu_mkdir_p(const char *path, mode_t mode) _wur_;
