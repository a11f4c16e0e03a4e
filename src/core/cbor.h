/* SPDX-License-Identifier: MIT */
/* Strict CBOR (RFC 8949) for untrusted input, and the few encoding
 * helpers the COSE verifier needs.
 *
 * Decoding: libcbor's streaming decoder reads each head; this module
 * enforces one profile on top of it, the same for manifests and COSE:
 *  - exactly one data item, no trailing bytes;
 *  - definite lengths only (no indefinite strings, arrays or maps);
 *  - preferred serialization: every head in its shortest form (RFC 8949
 *    section 4.2.1, first rule).  Map keys may come in any order; the
 *    tool writes them sorted (cbor-encode.c);
 *  - no duplicate map keys (two keys are the same when their encodings
 *    are: with shortest heads and no floats or tags that is equality of
 *    the data items);
 *  - text strings are valid UTF-8;
 *  - no tags, except one around the outermost item when the caller allows
 *    it (COSE: 18 and 98), which is then reported, not interpreted;
 *  - no floating-point numbers; of the simple values only false, true and
 *    null;
 *  - nesting of arrays and maps, size and number of items bounded.
 *
 * The result is a flat array of items in pre-order that points into the
 * caller's buffer: item + 1 is the first thing inside an array or map,
 * sfu_cbor_next(item) skips an item with everything inside it.  Every item
 * knows its encoded bytes (offset, size), so that a caller can keep parts
 * of the input byte for byte. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "core/err.h"
#include "core/json.h"

/* The same nesting bound as the JSON parser's. */
#define SFU_CBOR_MAX_DEPTH SFU_JSON_MAX_DEPTH
/* Items of one decoded document (a manifest has a few hundred). */
#define SFU_CBOR_MAX_ITEMS 65536u

enum sfu_cbor_type {
        SFU_CBOR_UINT,
        SFU_CBOR_NEGINT,
        SFU_CBOR_BYTES,
        SFU_CBOR_TEXT,
        SFU_CBOR_ARRAY,
        SFU_CBOR_MAP,
        SFU_CBOR_FALSE,
        SFU_CBOR_TRUE,
        SFU_CBOR_NULL,
};

struct sfu_cbor_item {
        enum sfu_cbor_type type;
        /* UINT: the value; NEGINT: n for the value -1 - n; BYTES, TEXT:
         * the length; ARRAY: the number of items; MAP: the number of
         * pairs (2 * value items follow, key before value). */
        uint64_t value;
        const uint8_t *data;            /* BYTES, TEXT: the contents (in the input) */
        size_t offset, size;            /* the whole encoding: input[offset, offset + size) */
        size_t n_items;                 /* this item and everything inside it */
};

struct sfu_cbor_limits {
        size_t max_size;                /* bytes of input */
        unsigned max_depth;             /* 0: SFU_CBOR_MAX_DEPTH */
        size_t max_items;               /* 0: SFU_CBOR_MAX_ITEMS */
        bool allow_tag;                 /* one tag around the outermost item */
};

struct sfu_cbor {
        bool tagged;
        uint64_t tag;                   /* when tagged */
        struct sfu_cbor_item *items;    /* items[0] is the outermost item (under the tag) */
        size_t n_items;
};

/* Decodes buf[0..len) under the profile above.  buf must outlive the
 * result.  Errors: SFU_ERR_SIZE for the size, depth and item bounds,
 * SFU_ERR_PARSE naming the problem and its byte offset otherwise. */
int sfu_cbor_decode(const uint8_t *buf, size_t len, const struct sfu_cbor_limits *limits, struct sfu_cbor **ret,
                    struct sfu_err *err) _wur_;
void sfu_cbor_free(struct sfu_cbor *c);
static inline void sfu_cbor_freep(struct sfu_cbor **c) { sfu_cbor_free(*c); }
#define _cleanup_cbor_ _cleanup_(sfu_cbor_freep)

static inline const struct sfu_cbor_item *sfu_cbor_root(const struct sfu_cbor *c) { return &c->items[0]; }
/* The item after it and everything inside it. */
static inline const struct sfu_cbor_item *sfu_cbor_next(const struct sfu_cbor_item *it) { return it + it->n_items; }

/* An integer item as int64_t; false when it is not an integer or out of
 * range. */
bool sfu_cbor_get_int(const struct sfu_cbor_item *it, int64_t *ret);
/* True when it is a text string equal to s. */
bool sfu_cbor_text_is(const struct sfu_cbor_item *it, const char *s);
/* The value of map under an integer key (label), or under a text key;
 * NULL when absent (or map is not a map). */
const struct sfu_cbor_item *sfu_cbor_map_get_int(const struct sfu_cbor_item *map, int64_t label);
const struct sfu_cbor_item *sfu_cbor_map_get_text(const struct sfu_cbor_item *map, const char *key);
/* "text string", "map", ... for messages. */
const char *sfu_cbor_type_name(enum sfu_cbor_type t);

/* The JSON tree of a CBOR document in the manifest mapping: maps with
 * text keys become objects, arrays arrays, text strings strings (NUL
 * refused, like the JSON parser's \u0000), unsigned integers up to
 * INT64_MAX integers, false/true/null themselves.  A byte string is
 * allowed only as the value of a map key equal to bytes_key and becomes
 * lowercase hex text; bytes_key itself must then hold a byte string.
 * Negative integers are refused (the manifest has none).  Messages name
 * the member ("images[0].size"). */
int sfu_cbor_to_json(const struct sfu_cbor_item *item, const char *bytes_key, json_t **ret,
                     struct sfu_err *err) _wur_;

/* ---------------------------------------------------------------- writing */

enum sfu_cbor_major {
        SFU_CBOR_MAJOR_UINT = 0,
        SFU_CBOR_MAJOR_NEGINT = 1,
        SFU_CBOR_MAJOR_BYTES = 2,
        SFU_CBOR_MAJOR_TEXT = 3,
        SFU_CBOR_MAJOR_ARRAY = 4,
        SFU_CBOR_MAJOR_MAP = 5,
        SFU_CBOR_MAJOR_TAG = 6,
};

/* A growing buffer of CBOR.  Writes never fail on their own; the first
 * failure (memory, max) is remembered and reported by finish. */
struct sfu_cbor_writer {
        uint8_t *data;
        size_t len, cap;
        size_t max;                     /* 0: no bound */
        int error;                      /* negative errno of the first failure */
};

/* A head in its shortest form (RFC 8949 section 4.2.1). */
void sfu_cbor_write_head(struct sfu_cbor_writer *w, enum sfu_cbor_major major, uint64_t arg);
void sfu_cbor_write_raw(struct sfu_cbor_writer *w, const void *data, size_t len);
void sfu_cbor_write_bytes(struct sfu_cbor_writer *w, const void *data, size_t len);
void sfu_cbor_write_text(struct sfu_cbor_writer *w, const char *s, size_t len);
void sfu_cbor_write_int(struct sfu_cbor_writer *w, int64_t v);
void sfu_cbor_write_simple(struct sfu_cbor_writer *w, enum sfu_cbor_type t);     /* FALSE, TRUE, NULL */
/* Hands over the bytes (a new buffer, also for 0 bytes) or returns the
 * first failure; the writer is empty afterwards either way. */
int sfu_cbor_writer_finish(struct sfu_cbor_writer *w, uint8_t **ret, size_t *ret_len) _wur_;
void sfu_cbor_writer_clear(struct sfu_cbor_writer *w);
static inline void sfu_cbor_writer_clearp(struct sfu_cbor_writer *w) { sfu_cbor_writer_clear(w); }
#define _cleanup_cbor_writer_ _cleanup_(sfu_cbor_writer_clearp)

/* cbor-encode.c, linked by secfu-manifest and the tests only: */
/* Deterministic encoding (RFC 8949 section 4.2.1) of a JSON tree in the
 * manifest mapping above: shortest heads, definite lengths, map keys
 * sorted bytewise by their encodings; a string member named bytes_key is
 * hex text and becomes the byte string it spells.  Reals are refused
 * (-EDOM), as are hex errors under bytes_key (SFU_ERR_PARSE). */
int sfu_cbor_encode_json(const json_t *value, const char *bytes_key, uint8_t **ret, size_t *ret_len,
                         struct sfu_err *err) _wur_;
