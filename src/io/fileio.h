/* SPDX-License-Identifier: MIT */
/* Crash-safe files: write a temporary file in the same directory, fsync
 * it, rename it over the old one, fsync the directory.  Reads are capped
 * and refuse anything but a regular file. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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

/* write(2) until all len bytes are written (EINTR retried): 0 or -errno. */
int sfu_file_write_all(int fd, const void *data, size_t len) _wur_;

/* read(2) (offset < 0) or pread(2) at offset until len bytes or the end
 * of the file (EINTR retried); *ret the bytes read.  0 or -errno. */
int sfu_file_read_full(int fd, void *buf, size_t len, int64_t offset, size_t *ret) _wur_;

/* fsync of the directory that holds path (after a rename, link or
 * unlink in it). */
int sfu_file_sync_parent(const char *path) _wur_;

/* The first (at most) max bytes of the regular file open at fd, from its
 * start, into a new NUL-terminated buffer; *ret_size is its whole size. */
int sfu_file_read_head_fd(int fd, const char *name, size_t max, char **ret, size_t *ret_len, uint64_t *ret_size,
                          struct sfu_err *err) _wur_;
/* mkdir -p with mode for the last component. */
int sfu_mkdir_p(const char *path, mode_t mode) _wur_;

/* ---------------------------------------------------------------------
 * Streams, new files and verified copies (the vendor tool's needs: key
 * files that must not exist yet, "-" for standard input, images copied
 * and hashed in one pass and then moved into a web server's tree). */

struct sfu_digest_set;

/* Reads fd (a pipe, a terminal, a file) to its end into a new
 * NUL-terminated buffer; more than max bytes is an error (SFU_ERR_SIZE).
 * name is the file's name in messages ("standard input"). */
int sfu_file_read_fd(int fd, const char *name, size_t max, char **ret, size_t *ret_len,
                     struct sfu_err *err) _wur_;

/* Opens an existing regular file for reading; a directory, FIFO or
 * device is an error. */
int sfu_file_open_regular(const char *path, int *ret_fd, struct sfu_err *err) _wur_;

/* Creates path for writing with exactly mode, whatever the umask.  Never
 * overwrites: an existing file or symbolic link at path is an error
 * ("already exists; not overwriting it", errno EEXIST). */
int sfu_file_create_new(const char *path, mode_t mode, int *ret_fd, struct sfu_err *err) _wur_;

/* Creates a new empty file with a unique name in dir (mode 0600) and
 * returns its path (new string) and fd, for sfu_file_finish() and then
 * sfu_file_move_into(). */
int sfu_file_create_temp(const char *dir, char **ret_path, int *ret_fd, struct sfu_err *err) _wur_;

/* Writes len bytes of data (none: len 0) to fd, gives the file exactly
 * mode, syncs it and closes fd, also on failure.  Messages name path. */
int sfu_file_finish(int fd, const char *path, const void *data, size_t len, mode_t mode,
                    struct sfu_err *err) _wur_;

/* Copies in_fd from its offset to its end into out_fd, feeding every
 * block to set (NULL: none) and finalising it.  More than max_bytes is
 * -EFBIG.  Returns 0 or a negative errno and records nothing: the caller
 * knows what the two descriptors are. */
int sfu_file_copy(int in_fd, int out_fd, uint64_t max_bytes, struct sfu_digest_set *set,
                  uint64_t *ret_bytes) _wur_;

/* Renames the finished file from over path (replacing a file there),
 * creating path's missing directories (mode 0755) first, and syncs the
 * directory that now holds path. */
int sfu_file_move_into(const char *from, const char *path, struct sfu_err *err) _wur_;

