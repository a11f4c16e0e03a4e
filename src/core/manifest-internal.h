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
/* A string member of obj that passes sfu_manifest_check_text(); *ret is
 * NULL (and 0 returned) when it is absent and not required. */
int sfu_manifest_get_text(json_t *obj, const char *key, const char *what, bool required, size_t max,
                          const char **ret, struct sfu_err *err) _wur_;
int sfu_manifest_dup_text(const char *s, char **ret, struct sfu_err *err) _wur_;
/* The required member key of the object at path: an integer > 0. */
int sfu_manifest_get_positive(json_t *obj, const char *path, const char *key, uint64_t *ret,
                              struct sfu_err *err) _wur_;
/* obj (at path) is an object with no member outside members[n]. */
int sfu_manifest_check_members(json_t *obj, const char *path, const char *const *members, size_t n,
                               struct sfu_err *err) _wur_;

/* manifest-encryption.c: an image's "encryption" member. */
int sfu_manifest_parse_encryption(json_t *obj, const char *path, struct sfu_manifest_image *img,
                                  struct sfu_err *err) _wur_;
int sfu_manifest_validate_encryption(const struct sfu_manifest_image *img, struct sfu_err *err) _wur_;
int sfu_manifest_encryption_to_json(const struct sfu_manifest_image *img, json_t *obj) _wur_;

/* manifest-delta.c: an image's "delta" member. */
int sfu_manifest_parse_delta(json_t *obj, const char *path, struct sfu_manifest_image *img, struct sfu_err *err) _wur_;
int sfu_manifest_validate_delta(const struct sfu_manifest_image *img, struct sfu_err *err) _wur_;
int sfu_manifest_delta_to_json(const struct sfu_manifest_image *img, json_t *obj, const char *key) _wur_;

/* manifest-provider.c: "providers". */
int sfu_manifest_parse_providers(json_t *list, struct sfu_manifest *m, struct sfu_err *err) _wur_;
int sfu_manifest_validate_providers(const struct sfu_manifest *m, struct sfu_err *err) _wur_;
int sfu_manifest_providers_to_json(const struct sfu_manifest *m, json_t *obj) _wur_;
void sfu_manifest_providers_free(struct sfu_manifest *m);
