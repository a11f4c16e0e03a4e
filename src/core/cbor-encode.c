/* SPDX-License-Identifier: MIT */
/* Deterministic CBOR (RFC 8949 section 4.2.1) from a JSON tree, for
 * secfu-manifest: the daemon only reads CBOR and does not link this. */
#include <cbor.h>

#include "core/cbor.h"
#include "core/hex.h"

/* One encoded map entry. */
struct pair {
        uint8_t *key, *value;
        size_t key_len, value_len;
};

static void pairs_free(struct pair *pairs, size_t n) {
        for (size_t i = 0; pairs && i < n; i++) {
                free(pairs[i].key);
                free(pairs[i].value);
        }
        free(pairs);
}

/* Bytewise lexicographic order of the encoded keys (RFC 8949 4.2.1). */
static int compare_pairs(const void *a, const void *b) {
        const struct pair *x = a, *y = b;
        size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
        int c = memcmp(x->key, y->key, n);

        if (c != 0)
                return c;
        return x->key_len < y->key_len ? -1 : x->key_len > y->key_len ? 1 : 0;
}

static int encode(struct sfu_cbor_writer *w, const json_t *v, bool bytes_here, const char *bytes_key,
                  struct sfu_err *err);

static int encode_object(struct sfu_cbor_writer *w, const json_t *obj, const char *bytes_key,
                         struct sfu_err *err) {
        size_t n = json_object_size(obj), i = 0;
        struct pair *pairs = calloc(n ? n : 1, sizeof(*pairs));
        const char *name;
        json_t *value;
        int r = 0;

        if (!pairs)
                return -ENOMEM;
        json_object_foreach((json_t *) obj, name, value) {
                struct sfu_cbor_writer kw = {}, vw = {};

                sfu_cbor_write_text(&kw, name, strlen(name));
                r = sfu_cbor_writer_finish(&kw, &pairs[i].key, &pairs[i].key_len);
                if (r < 0)
                        break;
                r = encode(&vw, value, bytes_key && strcmp(name, bytes_key) == 0, bytes_key, err);
                if (r < 0) {
                        sfu_cbor_writer_clear(&vw);
                        break;
                }
                r = sfu_cbor_writer_finish(&vw, &pairs[i].value, &pairs[i].value_len);
                if (r < 0)
                        break;
                i++;
        }
        if (r == 0) {
                qsort(pairs, n, sizeof(*pairs), compare_pairs);
                sfu_cbor_write_head(w, SFU_CBOR_MAJOR_MAP, n);
                for (size_t k = 0; k < n; k++) {
                        sfu_cbor_write_raw(w, pairs[k].key, pairs[k].key_len);
                        sfu_cbor_write_raw(w, pairs[k].value, pairs[k].value_len);
                }
        }
        pairs_free(pairs, n);
        return r;
}

static int encode(struct sfu_cbor_writer *w, const json_t *v, bool bytes_here, const char *bytes_key,
                  struct sfu_err *err) {
        int r;

        if (bytes_here) {
                _cleanup_free_ uint8_t *bytes = NULL;
                size_t len;

                if (!json_is_string(v))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"%s\" is not a hex string", bytes_key);
                len = json_string_length(v);
                if (len % 2 != 0)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"%s\" has an odd number of hex digits",
                                           bytes_key);
                bytes = malloc(len / 2 + 1);
                if (!bytes)
                        return -ENOMEM;
                if (strlen(json_string_value(v)) != len ||
                    sfu_hex_decode(json_string_value(v), bytes, len / 2) < 0)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"%s\" is not hexadecimal", bytes_key);
                sfu_cbor_write_bytes(w, bytes, len / 2);
                return 0;
        }

        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return encode_object(w, v, bytes_key, err);
        case JSON_ARRAY:
                sfu_cbor_write_head(w, SFU_CBOR_MAJOR_ARRAY, json_array_size(v));
                for (size_t i = 0; i < json_array_size(v); i++) {
                        r = encode(w, json_array_get(v, i), false, bytes_key, err);
                        if (r < 0)
                                return r;
                }
                return 0;
        case JSON_STRING:
                sfu_cbor_write_text(w, json_string_value(v), json_string_length(v));
                return 0;
        case JSON_INTEGER:
                sfu_cbor_write_int(w, (int64_t) json_integer_value(v));
                return 0;
        case JSON_TRUE:
                sfu_cbor_write_simple(w, SFU_CBOR_TRUE);
                return 0;
        case JSON_FALSE:
                sfu_cbor_write_simple(w, SFU_CBOR_FALSE);
                return 0;
        case JSON_NULL:
                sfu_cbor_write_simple(w, SFU_CBOR_NULL);
                return 0;
        case JSON_REAL:
                return sfu_err_set(err, SFU_ERR_PARSE, EDOM,
                                   "a real number cannot be written: the CBOR manifest has no floating point");
        }
        return -EINVAL;
}

int sfu_cbor_encode_json(const json_t *value, const char *bytes_key, uint8_t **ret, size_t *ret_len,
                         struct sfu_err *err) {
        _cleanup_cbor_writer_ struct sfu_cbor_writer w = {};
        int r;

        if (!value)
                return -EINVAL;
        r = encode(&w, value, false, bytes_key, err);
        if (r < 0)
                return r;
        return sfu_cbor_writer_finish(&w, ret, ret_len);
}
