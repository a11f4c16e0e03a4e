/* SPDX-License-Identifier: MIT */
/* Strict JSON for untrusted input: jansson with duplicate keys refused, no
 * NUL in strings, valid UTF-8 only, nesting depth and size bounded. */
#pragma once
#include <stdint.h>
#include <jansson.h>
#include "core/err.h"

#define SFU_JSON_MAX_DEPTH 32

/* jansson.h (>= 2.11, GCC and clang) already defines json_decrefp(), which
 * decrefs *j (NULL is fine) and clears it. */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* Parses exactly buf[0..len) (no trailing garbage except white space) into
 * a new reference; the top level must be an object. Errors are
 * SFU_ERR_SIZE (len > max_size) or SFU_ERR_PARSE with line/column. */
int sfu_json_parse_object(const char *buf, size_t len, size_t max_size, json_t **ret,
                          struct sfu_err *err) _wur_;
/* The same, but a syntax error is described by its place and its kind
 * only ("invalid JSON at line 1 column 5: invalid syntax"), never by the
 * text near it as jansson would: for input that may be any file at all (a
 * manifest an operator passed, read before its signature is checked),
 * whose bytes must not reach a message other users can read. */
int sfu_json_parse_object_quiet(const char *buf, size_t len, size_t max_size, json_t **ret,
                                struct sfu_err *err) _wur_;

/* Typed getters for the validators; each returns -ENOENT when the key is
 * absent and -EINVAL (after recording a parse error naming `what`) when it
 * has the wrong type. */
int sfu_json_get_string(json_t *obj, const char *key, const char **ret, struct sfu_err *err) _wur_;
int sfu_json_get_u64(json_t *obj, const char *key, uint64_t *ret, struct sfu_err *err) _wur_;

/* Serialises with sorted keys, compact; new string or NULL. */
char *sfu_json_dump_compact(const json_t *j);
