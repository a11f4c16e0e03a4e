/* SPDX-License-Identifier: MIT */
/* The one capped read loop: a whole file open at fd, at most max bytes,
 * into a new NUL-terminated buffer.  Every reader of the tree (config,
 * keys, state, leases, environments, manifests passed in) goes through it;
 * each caller words its own messages from the errno.  Crash-safe writing
 * is io/fileio.h's. */
#pragma once
#include <stddef.h>
#include "core/macro.h"

enum {
        SFU_FILE_REGULAR = 1 << 0,      /* refuse anything but a regular file (-EINVAL) */
        SFU_FILE_NO_NUL = 1 << 1,       /* refuse a NUL byte in the contents (-EBADMSG) */
        SFU_FILE_SECRET = 1 << 2,       /* wipe what was read when failing (key material) */
        SFU_FILE_HEAD = 1 << 3,         /* a longer file is no error: its first max bytes are read */
};

/* 0, or -errno: -EFBIG when the file holds more than max bytes (by its
 * size or while reading), -EINVAL / -EBADMSG for the flags above, or what
 * read() or fstat() said. *ret_len may be NULL. */
int sfu_file_load_fd(int fd, size_t max, unsigned flags, char **ret, size_t *ret_len) _wur_;
