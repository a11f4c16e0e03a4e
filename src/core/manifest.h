/* SPDX-License-Identifier: MIT */
/* The SecFU manifest (doc/manifest.md): one in-memory model, filled from
 * the JSON payload of a JWS or the JSON or CBOR payload of a COSE
 * signature, through one tree (sfu_manifest_from_tree).  Parsing checks
 * every field's type and syntax; the rules that need the device (model,
 * versions, replay, expiry) live in the policy module. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "core/digest.h"
#include "core/err.h"
#include "core/segcrypt.h"
#include "core/version.h"

#define SFU_MANIFEST_MAX_SIZE (1024u * 1024u)   /* hard cap; config may lower it */
#define SFU_MANIFEST_MAX_IMAGES 16
#define SFU_MANIFEST_MAX_STRING 1024            /* any string field */
#define SFU_MANIFEST_MAX_LOCATION 4096
#define SFU_MANIFEST_MAX_KEYS 16                /* keyInfo entries */
#define SFU_MANIFEST_MAX_CRIT 16
#define SFU_MANIFEST_MAX_PROVIDERS 8

struct sfu_manifest_digest {
        enum sfu_digest_alg alg;
        uint8_t value[SFU_DIGEST_MAX_SIZE];
};

/* An image published encrypted (doc/encryption.md): the member
 * "encryption" of an images[] entry, or of firmwareCryptoInfo in the
 * single-image form.  The digests and size stay those of the plaintext
 * (what lands in the slot); size here is the ciphertext's.  The key is
 * secret: it is wiped when the manifest is freed and never written out by
 * sfu_manifest_to_json. */
struct sfu_manifest_encryption {
        bool present;
        struct sfu_segcrypt_params params;
        uint64_t size;                  /* ciphertext bytes */
};

/* The image also published as a zchunk file (doc/delta.md): the member
 * "delta" of an images[] entry, or "firmwareDelta" in the single-image
 * form.  The header (lead and header, header_size bytes) is authenticated
 * by header_sha256; every chunk by the digests in that header; the image
 * by its digests as always. */
#define SFU_DELTA_FORMAT "zchunk"
#define SFU_DELTA_MAX_HEADER (32u * 1024u * 1024u)      /* lead + header bytes */
#define SFU_DELTA_MIN_CHUNK 4096u
#define SFU_DELTA_MAX_CHUNK (4u * 1024u * 1024u)
struct sfu_manifest_delta {
        bool present;
        char *location;                 /* absolute http(s) URI or relative reference */
        uint64_t size;                  /* the zchunk file's bytes */
        uint64_t header_size;           /* its lead and header */
        uint8_t header_sha256[32];
        uint32_t chunk_size;            /* every chunk but the last has this many bytes of the image */
};

struct sfu_manifest_image {
        char *name;                     /* "firmware" for the single-image form */
        char *slot_class;               /* NULL in the single-image form: the caller's default */
        char *location;                 /* absolute http(s) URI or relative reference */
        uint64_t size;
        bool has_size;
        struct sfu_manifest_digest digests[_SFU_DIGEST_MAX];
        size_t n_digests;               /* supported digests only; >= 1 */
        unsigned digest_mask;
        struct sfu_manifest_encryption encryption;
        struct sfu_manifest_delta delta;
};

/* A component another party supplies (doc/manifest.md, "Providers"): its
 * own signed manifest at manifest, signed by the trust store's key kid or
 * by the key this entry introduces for the component. */
struct sfu_manifest_provider {
        char *name;                     /* the component, as an image name */
        char *slot_class;
        char *manifest;                 /* absolute http(s) URI or relative reference */
        char *kid;                      /* a trust-store key (NULL: key) */
        json_t *key;                    /* a public JWK for this component only (NULL: kid) */
        bool has_min_version;           /* the provider's firmwareVersion must be at least this */
        struct sfu_version min_version;
};

struct sfu_manifest {
        char *manifest_version;         /* "1.0" */
        int64_t timestamp;              /* seconds since the epoch */
        char *timestamp_text;
        char *manufacturer;
        char *model;
        struct sfu_version version;
        char *version_text;
        bool has_expires;
        int64_t expires;
        /* The anti-rollback floor committing this firmware sets (at most
         * firmwareVersion); without it, firmwareVersion itself. */
        bool has_rollback_floor;
        struct sfu_version rollback_floor;
        bool split;                     /* came from "images" */
        struct sfu_manifest_image images[SFU_MANIFEST_MAX_IMAGES];
        size_t n_images;
        struct sfu_manifest_provider providers[SFU_MANIFEST_MAX_PROVIDERS];
        size_t n_providers;
        json_t *new_keys;               /* keyInfo.newKeys: array of JWK objects, or NULL */
        char *revoked_kids[SFU_MANIFEST_MAX_KEYS];
        size_t n_revoked_kids;
        char *crit[SFU_MANIFEST_MAX_CRIT];
        size_t n_crit;
};

/* The CBOR form carries the digests ("hash" of each commitHash entry) as
 * byte strings; every other member has the JSON form's name and type
 * (doc/cose.md).  The tool writes it with
 * sfu_cbor_encode_json(tree, SFU_MANIFEST_CBOR_BYTES_KEY, ...). */
#define SFU_MANIFEST_CBOR_BYTES_KEY "hash"

/* Parses and validates a JSON manifest (strict JSON, size <= max_size and
 * <= SFU_MANIFEST_MAX_SIZE). Errors: SFU_ERR_PARSE / SFU_ERR_SIZE with a
 * one-line reason naming the field. */
int sfu_manifest_parse_json(const char *buf, size_t len, size_t max_size,
                            struct sfu_manifest **ret, struct sfu_err *err) _wur_;
/* The same for the CBOR form: strict CBOR (cbor.h: definite lengths,
 * shortest heads, no duplicate keys, tags, floats or trailing bytes, the
 * JSON parser's nesting bound), whose tree goes through the same
 * sfu_manifest_from_tree() as JSON's. */
int sfu_manifest_parse_cbor(const uint8_t *buf, size_t len, size_t max_size,
                            struct sfu_manifest **ret, struct sfu_err *err) _wur_;
/* Fills and validates the model from a JSON tree (what both front ends
 * produce); root is borrowed. */
int sfu_manifest_from_tree(json_t *root, struct sfu_manifest **ret, struct sfu_err *err) _wur_;
/* Validates a manifest model however it was filled (the JSON and the
 * CBOR front end share this). */
int sfu_manifest_validate(const struct sfu_manifest *m, struct sfu_err *err) _wur_;
/* The manifest as a JSON object (for `inspect`, status and state). */
int sfu_manifest_to_json(const struct sfu_manifest *m, json_t **ret) _wur_;

void sfu_manifest_free(struct sfu_manifest *m);
static inline void sfu_manifest_freep(struct sfu_manifest **m) { sfu_manifest_free(*m); }
#define _cleanup_manifest_ _cleanup_(sfu_manifest_freep)
