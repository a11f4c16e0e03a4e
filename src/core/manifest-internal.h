/* SPDX-License-Identifier: MIT */
/* Shared by manifest.c (the front end: a tree into the model) and
 * manifest-model.c (checking a model however it was filled, the model as
 * JSON, freeing it). */
#pragma once
#include "core/manifest.h"

#define MANIFEST_MAX_DIGEST_ENTRIES 16  /* entries of one commitHash list */
#define MANIFEST_PATH_MAX 96            /* "images[15].commitHash[15].digestAlgo" */
#define EXCERPT_MAX 64                  /* bytes of manifest text quoted in a message */

/* How many bytes of s to quote: at most EXCERPT_MAX, not cutting a UTF-8
 * sequence in two. */
int sfu_manifest_excerpt(const char *s);
/* A text field: non-empty, at most max bytes, no control characters. */
int sfu_manifest_check_text(const char *what, const char *s, size_t max, struct sfu_err *err) _wur_;
int sfu_manifest_check_version_field(const char *s, struct sfu_err *err) _wur_;
int sfu_manifest_check_slot_class(const char *what, const char *s, struct sfu_err *err) _wur_;
int sfu_manifest_check_location(const char *what, const char *s, struct sfu_err *err) _wur_;
int sfu_manifest_check_new_key(json_t *jwk, size_t index, struct sfu_err *err) _wur_;
bool sfu_manifest_understood(const char *extension);
