/* SPDX-License-Identifier: MIT */
/* A small ordered set of KEY=VALUE variables: the in-memory form of a
 * bootloader environment (whatever the backend stores it in) and the text
 * format of the `file` backend:
 *
 *     # comment
 *     BOOT_ORDER=A B
 *     BOOT_A_LEFT=3
 *
 * One variable per line, split at the first '=', no quoting; blank lines and
 * lines starting with '#' are ignored; a key may appear once.  An entry may
 * also hold a NULL value, which means "unset" when the set is used as a list
 * of changes (sfu_envfile_apply()). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "core/err.h"

#define SFU_ENVFILE_MAX_SIZE (64u * 1024u) /* bytes of one file */
#define SFU_ENVFILE_MAX_VARS 1024u         /* variables in one set */
#define SFU_ENVFILE_KEY_MAX 128u           /* bytes of one key */

struct sfu_envfile;

int sfu_envfile_new(struct sfu_envfile **ret) _wur_;
void sfu_envfile_free(struct sfu_envfile *e);
static inline void sfu_envfile_freep(struct sfu_envfile **e) {
        sfu_envfile_free(*e);
}
#define _cleanup_envfile_ _cleanup_(sfu_envfile_freep)

/* Parses the text format ("name" is used in messages: a path or "output of X"). */
int sfu_envfile_parse(const char *name, const char *buf, size_t len, struct sfu_envfile **ret,
                      struct sfu_err *err) _wur_;
/* Reads and parses a file.  A missing file is -ENOENT without an error
 * recorded, so that callers can decide whether that means "empty". */
int sfu_envfile_load(const char *path, struct sfu_envfile **ret, struct sfu_err *err) _wur_;
/* Writes the set crash-safely: temporary file in the same directory, fsync,
 * rename over PATH, fsync of the directory.  Entries with a NULL value are
 * not written. */
int sfu_envfile_save(const struct sfu_envfile *e, const char *path, struct sfu_err *err) _wur_;
/* The text format, NUL-terminated; -EINVAL when a key or value cannot be
 * represented (newline, NUL, '=' in a key). */
int sfu_envfile_format(const struct sfu_envfile *e, char **ret) _wur_;

/* NULL when the key is absent or holds NULL (borrowed). */
const char *sfu_envfile_get(const struct sfu_envfile *e, const char *key);
bool sfu_envfile_contains(const struct sfu_envfile *e, const char *key);
/* Adds or replaces KEY (value copied; NULL records "unset").  Keys must be
 * non-empty, at most SFU_ENVFILE_KEY_MAX bytes and hold no '=' or newline. */
int sfu_envfile_set(struct sfu_envfile *e, const char *key, const char *value) _wur_;
int sfu_envfile_setf(struct sfu_envfile *e, const char *key, const char *fmt, ...) _printf_(3, 4) _wur_;
/* Removes KEY entirely (nothing happens when it is absent). */
void sfu_envfile_remove(struct sfu_envfile *e, const char *key);
/* Applies a list of changes: a NULL value removes the key, any other sets it. */
int sfu_envfile_apply(struct sfu_envfile *e, const struct sfu_envfile *changes) _wur_;

size_t sfu_envfile_size(const struct sfu_envfile *e);
const char *sfu_envfile_key_at(const struct sfu_envfile *e, size_t i);
const char *sfu_envfile_value_at(const struct sfu_envfile *e, size_t i);
