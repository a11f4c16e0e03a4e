/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include <cbor.h>

#include "core/cbor.h"
#include "core/hex.h"

/* ---------------------------------------------------------------- one head */

/* What libcbor's streaming decoder reported for one head. */
struct head {
        enum sfu_cbor_type type;
        uint64_t value;
        const uint8_t *data;
        bool seen;
};

static void on_uint(struct head *h, uint64_t v) {
        h->type = SFU_CBOR_UINT;
        h->value = v;
        h->seen = true;
}
static void on_negint(struct head *h, uint64_t v) {
        h->type = SFU_CBOR_NEGINT;
        h->value = v;
        h->seen = true;
}
static void cb_uint8(void *c, uint8_t v) { on_uint(c, v); }
static void cb_uint16(void *c, uint16_t v) { on_uint(c, v); }
static void cb_uint32(void *c, uint32_t v) { on_uint(c, v); }
static void cb_uint64(void *c, uint64_t v) { on_uint(c, v); }
static void cb_negint8(void *c, uint8_t v) { on_negint(c, v); }
static void cb_negint16(void *c, uint16_t v) { on_negint(c, v); }
static void cb_negint32(void *c, uint32_t v) { on_negint(c, v); }
static void cb_negint64(void *c, uint64_t v) { on_negint(c, v); }

static void on_string(void *c, enum sfu_cbor_type t, cbor_data data, size_t len) {
        struct head *h = c;
        h->type = t;
        h->value = len;
        h->data = data;
        h->seen = true;
}
static void cb_bytes(void *c, cbor_data data, size_t len) { on_string(c, SFU_CBOR_BYTES, data, len); }
static void cb_text(void *c, cbor_data data, size_t len) { on_string(c, SFU_CBOR_TEXT, data, len); }

static void on_collection(void *c, enum sfu_cbor_type t, size_t n) {
        struct head *h = c;
        h->type = t;
        h->value = n;
        h->seen = true;
}
static void cb_array(void *c, size_t n) { on_collection(c, SFU_CBOR_ARRAY, n); }
static void cb_map(void *c, size_t n) { on_collection(c, SFU_CBOR_MAP, n); }
static void cb_bool(void *c, bool b) {
        struct head *h = c;
        h->type = b ? SFU_CBOR_TRUE : SFU_CBOR_FALSE;
        h->seen = true;
}
static void cb_null(void *c) {
        struct head *h = c;
        h->type = SFU_CBOR_NULL;
        h->seen = true;
}

/* Everything else (indefinite starts, break, tags, floats, undefined) is
 * refused from the initial byte before libcbor is asked, and keeps the
 * empty callbacks. */
static struct cbor_callbacks make_callbacks(void) {
        struct cbor_callbacks cb = cbor_empty_callbacks;
        cb.uint8 = cb_uint8;
        cb.uint16 = cb_uint16;
        cb.uint32 = cb_uint32;
        cb.uint64 = cb_uint64;
        cb.negint8 = cb_negint8;
        cb.negint16 = cb_negint16;
        cb.negint32 = cb_negint32;
        cb.negint64 = cb_negint64;
        cb.byte_string = cb_bytes;
        cb.string = cb_text;
        cb.array_start = cb_array;
        cb.map_start = cb_map;
        cb.boolean = cb_bool;
        cb.null = cb_null;
        return cb;
}

/* Bytes of the shortest head for argument arg. */
static size_t shortest_head(uint64_t arg) {
        if (arg < 24)
                return 1;
        if (arg <= UINT8_MAX)
                return 2;
        if (arg <= UINT16_MAX)
                return 3;
        if (arg <= UINT32_MAX)
                return 5;
        return 9;
}

static int bad(struct sfu_err *err, size_t offset, const char *what) {
        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "invalid CBOR at offset %zu: %s", offset, what);
}

/* Why the initial byte b starts something the profile refuses; NULL when
 * libcbor may decode it. */
static const char *refused_initial_byte(uint8_t b) {
        unsigned major = b >> 5, ai = b & 0x1f;

        if (ai >= 28 && ai <= 30)
                return "reserved additional information (not well-formed)";
        if (ai == 31) {
                if (major >= 2 && major <= 5)
                        return major == 2   ? "indefinite-length byte string"
                               : major == 3 ? "indefinite-length text string"
                               : major == 4 ? "indefinite-length array"
                                            : "indefinite-length map";
                return major == 7 ? "\"break\" outside an indefinite-length item" : "not well-formed initial byte";
        }
        if (major == 6)
                return "a tag is not allowed here";
        if (major == 7) {
                if (ai == 20 || ai == 21 || ai == 22)
                        return NULL;
                if (ai == 23)
                        return "the simple value undefined is not allowed";
                if (ai >= 25 && ai <= 27)
                        return "floating-point numbers are not allowed";
                return "simple values other than false, true and null are not allowed";
        }
        return NULL;
}

/* RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const uint8_t *s, size_t len) {
        size_t i = 0;

        while (i < len) {
                uint8_t c = s[i];
                size_t n;
                uint32_t cp;

                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf) {
                        n = 1;
                        cp = c & 0x1f;
                } else if (c >= 0xe0 && c <= 0xef) {
                        n = 2;
                        cp = c & 0x0f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        n = 3;
                        cp = c & 0x07;
                } else
                        return false;
                if (len - i - 1 < n)
                        return false;
                for (size_t k = 1; k <= n; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (s[i + k] & 0x3f);
                }
                if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                i += n + 1;
        }
        return true;
}

/* ---------------------------------------------------------------- decoding */

struct open_container {
        size_t index;                   /* of the array or map item */
        uint64_t remaining;             /* items still to come (a map: keys and values) */
};

struct decoder {
        const uint8_t *buf;
        size_t len, pos;
        struct sfu_cbor *out;
        size_t cap;
        size_t max_items;
        struct open_container stack[SFU_CBOR_MAX_DEPTH];
        unsigned depth, max_depth;
        struct cbor_callbacks callbacks;
};

struct key_range {
        const uint8_t *p;
        size_t size;
};

static int compare_keys(const void *a, const void *b) {
        const struct key_range *x = a, *y = b;
        if (x->size != y->size)
                return x->size < y->size ? -1 : 1;
        return memcmp(x->p, y->p, x->size);
}

/* Two keys of one map with the same encoding. */
static int check_duplicates(struct decoder *d, size_t index, struct sfu_err *err) {
        const struct sfu_cbor_item *map = &d->out->items[index], *child = map + 1;
        _cleanup_free_ struct key_range *keys = NULL;
        size_t n = (size_t) map->value;

        if (n < 2)
                return 0;
        keys = calloc(n, sizeof(*keys));
        if (!keys)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                keys[i] = (struct key_range){ d->buf + child->offset, child->size };
                child = sfu_cbor_next(child);   /* the value */
                child = sfu_cbor_next(child);
        }
        qsort(keys, n, sizeof(*keys), compare_keys);
        for (size_t i = 1; i < n; i++)
                if (compare_keys(&keys[i - 1], &keys[i]) == 0) {
                        char q[SFU_QUOTE_MAX + 4];
                        const uint8_t *p = keys[i].p;
                        size_t offset = (size_t) (p - d->buf);

                        /* Name a text key (the common case), else say where. */
                        if ((p[0] >> 5) == SFU_CBOR_MAJOR_TEXT) {
                                /* a well-formed head: 1, 2, 3, 5 or 9 bytes */
                                size_t head = (p[0] & 0x1f) < 24 ? 1 : (size_t) 1 + (1u << ((p[0] & 0x1f) - 24));
                                sfu_quote((const char *) p + head, keys[i].size - head, q);
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                                   "invalid CBOR: map at offset %zu has the key \"%s\" twice",
                                                   map->offset, q);
                        }
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "invalid CBOR: map at offset %zu has a duplicate key (at offset %zu)",
                                           map->offset, offset);
                }
        return 0;
}

static int finish_item(struct decoder *d, size_t index, struct sfu_err *err) {
        struct sfu_cbor_item *it = &d->out->items[index];

        it->size = d->pos - it->offset;
        it->n_items = d->out->n_items - index;
        if (it->type == SFU_CBOR_MAP)
                return check_duplicates(d, index, err);
        return 0;
}

/* An item is complete: close every container it completes. */
static int item_done(struct decoder *d, size_t index, struct sfu_err *err) {
        int r = finish_item(d, index, err);
        if (r < 0)
                return r;
        while (d->depth > 0) {
                struct open_container *top = &d->stack[d->depth - 1];
                if (--top->remaining > 0)
                        return 0;
                d->depth--;
                r = finish_item(d, top->index, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_item(struct decoder *d, size_t *ret_index, struct sfu_err *err) {
        struct sfu_cbor *out = d->out;

        if (out->n_items >= d->max_items)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "CBOR document has more than %zu items",
                                   d->max_items);
        if (out->n_items == d->cap) {
                size_t cap = d->cap ? 2 * d->cap : 16;
                struct sfu_cbor_item *items;

                if (cap > d->max_items)
                        cap = d->max_items;
                items = reallocarray(out->items, cap, sizeof(*items));
                if (!items)
                        return -ENOMEM;
                out->items = items;
                d->cap = cap;
        }
        out->items[out->n_items] = (struct sfu_cbor_item){ .offset = d->pos };
        *ret_index = out->n_items++;
        return 0;
}

/* One head at d->pos, and a string's contents. */
static int decode_one(struct decoder *d, struct sfu_err *err) {
        struct head h = {};
        struct cbor_decoder_result res;
        struct sfu_cbor_item *it;
        const char *why;
        size_t head_len, index = 0, left;
        int r;

        why = refused_initial_byte(d->buf[d->pos]);
        if (why)
                return bad(err, d->pos, why);
        res = cbor_stream_decode(d->buf + d->pos, d->len - d->pos, &d->callbacks, &h);
        if (res.status == CBOR_DECODER_NEDATA)
                return bad(err, d->pos, "truncated: the input ends inside this item");
        if (res.status != CBOR_DECODER_FINISHED || !h.seen || res.read == 0 || res.read > d->len - d->pos)
                return bad(err, d->pos, "not well-formed");

        head_len = res.read;
        if (h.type == SFU_CBOR_BYTES || h.type == SFU_CBOR_TEXT)
                head_len -= (size_t) h.value;
        if (h.type <= SFU_CBOR_MAP && head_len != shortest_head(h.value))
                return bad(err, d->pos, "the head is not in its shortest form (preferred serialization)");
        if (h.type == SFU_CBOR_TEXT && !utf8_valid(h.data, (size_t) h.value))
                return bad(err, d->pos, "a text string that is not valid UTF-8");

        r = add_item(d, &index, err);
        if (r < 0)
                return r;
        it = &d->out->items[index];
        it->type = h.type;
        it->value = h.value;
        it->data = h.data;
        d->pos += res.read;
        left = d->len - d->pos;

        if ((h.type == SFU_CBOR_ARRAY || h.type == SFU_CBOR_MAP) && h.value > 0) {
                /* Every item takes at least one byte: a count the rest of
                 * the input cannot hold is refused before anything else. */
                if (h.value > left || (h.type == SFU_CBOR_MAP && h.value > left / 2))
                        return bad(err, it->offset, "truncated: the input ends before the items this head announces");
                if (d->depth >= d->max_depth)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "invalid CBOR at offset %zu: nested deeper than %u levels", it->offset,
                                           d->max_depth);
                d->stack[d->depth++] = (struct open_container){
                        .index = index,
                        .remaining = h.type == SFU_CBOR_MAP ? 2 * h.value : h.value,
                };
                return 0;
        }
        return item_done(d, index, err);
}

/* The tag head of the outermost item.  Read here rather than by libcbor:
 * libcbor 0.8 refuses the one-byte tags 6 to 20 (0xc6..0xd4), which
 * includes 18, COSE_Sign1's. */
static int decode_tag(struct decoder *d, struct sfu_err *err) {
        uint8_t b = d->buf[0], ai = b & 0x1f;
        size_t n = ai < 24 ? 0 : ai <= 27 ? (size_t) 1 << (ai - 24) : 0;
        uint64_t tag = ai < 24 ? ai : 0;

        if (ai >= 28)
                return bad(err, 0, "not well-formed tag");
        if (d->len < 1 + n + 1)
                return bad(err, 0, "truncated: the input ends inside this item");
        for (size_t i = 0; i < n; i++)
                tag = (tag << 8) | d->buf[1 + i];
        if (1 + n != shortest_head(tag))
                return bad(err, 0, "the head is not in its shortest form (preferred serialization)");
        d->out->tagged = true;
        d->out->tag = tag;
        d->pos = 1 + n;
        return 0;
}

int sfu_cbor_decode(const uint8_t *buf, size_t len, const struct sfu_cbor_limits *limits, struct sfu_cbor **ret,
                    struct sfu_err *err) {
        struct decoder d = {
                .buf = buf,
                .len = len,
                .max_depth = limits && limits->max_depth && limits->max_depth < SFU_CBOR_MAX_DEPTH
                                     ? limits->max_depth
                                     : SFU_CBOR_MAX_DEPTH,
                .max_items = limits && limits->max_items ? limits->max_items : SFU_CBOR_MAX_ITEMS,
                .callbacks = make_callbacks(),
        };
        _cleanup_cbor_ struct sfu_cbor *out = NULL;
        int r;

        if (!limits || (!buf && len > 0))
                return -EINVAL;
        if (len > limits->max_size)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "CBOR document of %zu bytes exceeds the limit of %zu",
                                   len, limits->max_size);
        if (len == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "invalid CBOR: empty input");
        out = calloc(1, sizeof(*out));
        if (!out)
                return -ENOMEM;
        d.out = out;

        if ((buf[0] >> 5) == SFU_CBOR_MAJOR_TAG && limits->allow_tag) {
                r = decode_tag(&d, err);
                if (r < 0)
                        return r;
        }
        do {
                if (d.pos >= len)
                        return bad(err, d.pos, "truncated: the input ends before the item");
                r = decode_one(&d, err);
                if (r < 0)
                        return r;
        } while (d.depth > 0);
        if (d.pos != len)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "invalid CBOR: %zu trailing byte(s) after the data item (at offset %zu)",
                                   len - d.pos, d.pos);
        *ret = TAKE_PTR(out);
        return 0;
}

void sfu_cbor_free(struct sfu_cbor *c) {
        if (!c)
                return;
        free(c->items);
        free(c);
}

/* ---------------------------------------------------------------- access */

bool sfu_cbor_get_int(const struct sfu_cbor_item *it, int64_t *ret) {
        if (!it || it->value > INT64_MAX)
                return false;
        if (it->type == SFU_CBOR_UINT)
                *ret = (int64_t) it->value;
        else if (it->type == SFU_CBOR_NEGINT)
                *ret = -1 - (int64_t) it->value;
        else
                return false;
        return true;
}

bool sfu_cbor_text_is(const struct sfu_cbor_item *it, const char *s) {
        size_t n = strlen(s);
        return it && it->type == SFU_CBOR_TEXT && it->value == n && memcmp(it->data, s, n) == 0;
}

const struct sfu_cbor_item *sfu_cbor_map_get_int(const struct sfu_cbor_item *map, int64_t label) {
        const struct sfu_cbor_item *key;
        int64_t v;

        if (!map || map->type != SFU_CBOR_MAP)
                return NULL;
        key = map + 1;
        for (uint64_t i = 0; i < map->value; i++) {
                const struct sfu_cbor_item *value = sfu_cbor_next(key);
                if (sfu_cbor_get_int(key, &v) && v == label)
                        return value;
                key = sfu_cbor_next(value);
        }
        return NULL;
}

const struct sfu_cbor_item *sfu_cbor_map_get_text(const struct sfu_cbor_item *map, const char *name) {
        const struct sfu_cbor_item *key;

        if (!map || map->type != SFU_CBOR_MAP)
                return NULL;
        key = map + 1;
        for (uint64_t i = 0; i < map->value; i++) {
                const struct sfu_cbor_item *value = sfu_cbor_next(key);
                if (sfu_cbor_text_is(key, name))
                        return value;
                key = sfu_cbor_next(value);
        }
        return NULL;
}

const char *sfu_cbor_type_name(enum sfu_cbor_type t) {
        switch (t) {
        case SFU_CBOR_UINT:
                return "an unsigned integer";
        case SFU_CBOR_NEGINT:
                return "a negative integer";
        case SFU_CBOR_BYTES:
                return "a byte string";
        case SFU_CBOR_TEXT:
                return "a text string";
        case SFU_CBOR_ARRAY:
                return "an array";
        case SFU_CBOR_MAP:
                return "a map";
        case SFU_CBOR_FALSE:
                return "false";
        case SFU_CBOR_TRUE:
                return "true";
        case SFU_CBOR_NULL:
                return "null";
        }
        return "?";
}

/* ---------------------------------------------------------------- to JSON */

#define PATH_MAX_LEN 128

static void path_key(char *path, const char *parent, const struct sfu_cbor_item *key) {
        char q[SFU_QUOTE_MAX + 4];
        sfu_quote((const char *) key->data, (size_t) key->value, q);
        if (parent[0])
                snprintf(path, PATH_MAX_LEN, "%s.%s", parent, q);
        else
                snprintf(path, PATH_MAX_LEN, "%s", q);
}

static int to_json(const struct sfu_cbor_item *it, const char *path, bool bytes_here, const char *bytes_key,
                   json_t **ret, struct sfu_err *err) {
        _cleanup_json_ json_t *v = NULL;
        char subject[PATH_MAX_LEN + 16];
        int r;

        /* "manifest \"images[0].size\"", or "the manifest" at the top */
        if (path[0])
                snprintf(subject, sizeof(subject), "manifest \"%s\"", path);
        else
                snprintf(subject, sizeof(subject), "the manifest");

        if (bytes_here && it->type != SFU_CBOR_BYTES)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s is %s; CBOR carries it as a byte string",
                                   subject, sfu_cbor_type_name(it->type));
        switch (it->type) {
        case SFU_CBOR_UINT:
                if (it->value > INT64_MAX)
                        return sfu_err_set(err, SFU_ERR_PARSE, ERANGE, "%s is an integer out of range", subject);
                v = json_integer((json_int_t) it->value);
                break;
        case SFU_CBOR_NEGINT:
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s is a negative integer", subject);
        case SFU_CBOR_BYTES: {
                _cleanup_free_ char *hex = NULL;
                if (!bytes_here)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "%s is a byte string; only \"%s\" may be one", subject,
                                           bytes_key ? bytes_key : "(none)");
                hex = malloc(2 * (size_t) it->value + 1);
                if (!hex)
                        return -ENOMEM;
                sfu_hex_encode(it->data, (size_t) it->value, hex);
                v = json_string(hex);
                break;
        }
        case SFU_CBOR_TEXT:
                if (memchr(it->data, 0, (size_t) it->value))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s holds a NUL character", subject);
                v = json_stringn((const char *) it->data, (size_t) it->value);
                break;
        case SFU_CBOR_FALSE:
                v = json_false();
                break;
        case SFU_CBOR_TRUE:
                v = json_true();
                break;
        case SFU_CBOR_NULL:
                v = json_null();
                break;
        case SFU_CBOR_ARRAY: {
                const struct sfu_cbor_item *child = it + 1;
                v = json_array();
                if (!v)
                        return -ENOMEM;
                for (uint64_t i = 0; i < it->value; i++, child = sfu_cbor_next(child)) {
                        char sub[PATH_MAX_LEN];
                        json_t *c = NULL;

                        snprintf(sub, sizeof(sub), "%s[%" PRIu64 "]", path, i);
                        r = to_json(child, sub, false, bytes_key, &c, err);
                        if (r < 0)
                                return r;
                        if (json_array_append_new(v, c) < 0)
                                return -ENOMEM;
                }
                break;
        }
        case SFU_CBOR_MAP: {
                const struct sfu_cbor_item *key = it + 1;
                v = json_object();
                if (!v)
                        return -ENOMEM;
                for (uint64_t i = 0; i < it->value; i++) {
                        const struct sfu_cbor_item *value = sfu_cbor_next(key);
                        _cleanup_free_ char *name = NULL;
                        char sub[PATH_MAX_LEN];
                        json_t *c = NULL;

                        if (key->type != SFU_CBOR_TEXT)
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                                   "%s has a key that is %s; keys are text strings",
                                                   subject, sfu_cbor_type_name(key->type));
                        if (memchr(key->data, 0, (size_t) key->value))
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                                   "%s has a key with a NUL character", subject);
                        /* not strndup: the key is not NUL-terminated */
                        name = malloc((size_t) key->value + 1);
                        if (!name)
                                return -ENOMEM;
                        memcpy(name, key->data, (size_t) key->value);
                        name[key->value] = 0;
                        path_key(sub, path, key);
                        r = to_json(value, sub, bytes_key && strcmp(name, bytes_key) == 0, bytes_key, &c, err);
                        if (r < 0)
                                return r;
                        if (json_object_set_new(v, name, c) < 0)
                                return -ENOMEM;
                        key = sfu_cbor_next(value);
                }
                break;
        }
        }
        if (!v)
                return -ENOMEM;
        *ret = TAKE_PTR(v);
        return 0;
}

int sfu_cbor_to_json(const struct sfu_cbor_item *item, const char *bytes_key, json_t **ret, struct sfu_err *err) {
        if (!item)
                return -EINVAL;
        return to_json(item, "", false, bytes_key, ret, err);
}

/* ---------------------------------------------------------------- writing */

static void writer_reserve(struct sfu_cbor_writer *w, size_t n) {
        size_t cap;
        uint8_t *p;

        if (w->error < 0)
                return;
        if (n > SIZE_MAX / 2 - w->len || (w->max && w->len + n > w->max)) {
                w->error = -E2BIG;
                return;
        }
        if (w->len + n <= w->cap)
                return;
        cap = w->cap ? w->cap : 64;
        while (cap < w->len + n)
                cap *= 2;
        p = realloc(w->data, cap);
        if (!p) {
                w->error = -ENOMEM;
                return;
        }
        w->data = p;
        w->cap = cap;
}

void sfu_cbor_write_raw(struct sfu_cbor_writer *w, const void *data, size_t len) {
        writer_reserve(w, len);
        if (w->error < 0 || len == 0)
                return;
        memcpy(w->data + w->len, data, len);
        w->len += len;
}

void sfu_cbor_write_head(struct sfu_cbor_writer *w, enum sfu_cbor_major major, uint64_t arg) {
        unsigned char head[9];
        size_t n = 0;

        switch (major) {
        case SFU_CBOR_MAJOR_UINT:
                n = cbor_encode_uint(arg, head, sizeof(head));
                break;
        case SFU_CBOR_MAJOR_NEGINT:
                n = cbor_encode_negint(arg, head, sizeof(head));
                break;
        case SFU_CBOR_MAJOR_BYTES:
                n = cbor_encode_bytestring_start((size_t) arg, head, sizeof(head));
                break;
        case SFU_CBOR_MAJOR_TEXT:
                n = cbor_encode_string_start((size_t) arg, head, sizeof(head));
                break;
        case SFU_CBOR_MAJOR_ARRAY:
                n = cbor_encode_array_start((size_t) arg, head, sizeof(head));
                break;
        case SFU_CBOR_MAJOR_MAP:
                n = cbor_encode_map_start((size_t) arg, head, sizeof(head));
                break;
        case SFU_CBOR_MAJOR_TAG:
                n = cbor_encode_tag(arg, head, sizeof(head));
                break;
        }
        if (n == 0) {
                if (w->error == 0)
                        w->error = -EINVAL;
                return;
        }
        sfu_cbor_write_raw(w, head, n);
}

void sfu_cbor_write_bytes(struct sfu_cbor_writer *w, const void *data, size_t len) {
        sfu_cbor_write_head(w, SFU_CBOR_MAJOR_BYTES, len);
        sfu_cbor_write_raw(w, data, len);
}

void sfu_cbor_write_text(struct sfu_cbor_writer *w, const char *s, size_t len) {
        sfu_cbor_write_head(w, SFU_CBOR_MAJOR_TEXT, len);
        sfu_cbor_write_raw(w, s, len);
}

void sfu_cbor_write_int(struct sfu_cbor_writer *w, int64_t v) {
        if (v >= 0)
                sfu_cbor_write_head(w, SFU_CBOR_MAJOR_UINT, (uint64_t) v);
        else
                sfu_cbor_write_head(w, SFU_CBOR_MAJOR_NEGINT, (uint64_t) (-1 - v));
}

void sfu_cbor_write_simple(struct sfu_cbor_writer *w, enum sfu_cbor_type t) {
        uint8_t b = t == SFU_CBOR_FALSE ? 0xf4 : t == SFU_CBOR_TRUE ? 0xf5 : t == SFU_CBOR_NULL ? 0xf6 : 0;
        if (b == 0) {
                if (w->error == 0)
                        w->error = -EINVAL;
                return;
        }
        sfu_cbor_write_raw(w, &b, 1);
}

int sfu_cbor_writer_finish(struct sfu_cbor_writer *w, uint8_t **ret, size_t *ret_len) {
        int r = w->error;

        if (r == 0 && !w->data) {
                w->data = malloc(1);
                if (!w->data)
                        r = -ENOMEM;
        }
        if (r < 0) {
                sfu_cbor_writer_clear(w);
                return r;
        }
        *ret = TAKE_PTR(w->data);
        *ret_len = w->len;
        sfu_cbor_writer_clear(w);
        return 0;
}

void sfu_cbor_writer_clear(struct sfu_cbor_writer *w) {
        free(w->data);
        *w = (struct sfu_cbor_writer){ .max = w->max };
}
