/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <string.h>

#include "core/json.h"

/* jansson bounds nesting only at 2048 levels; we want far less, and we
 * want to say so before jansson allocates anything.  A scan that skips
 * strings finds the deepest nesting. */
static int max_depth(const char *buf, size_t len, size_t limit) {
        size_t depth = 0;
        bool in_string = false;

        for (size_t i = 0; i < len; i++) {
                char c = buf[i];
                if (in_string) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_string = false;
                        continue;
                }
                if (c == '"')
                        in_string = true;
                else if (c == '[' || c == '{') {
                        if (++depth > limit)
                                return -E2BIG;
                } else if ((c == ']' || c == '}') && depth > 0)
                        depth--;
        }
        return 0;
}

/* jansson quotes the offending input in its message ("near '...'"); the
 * message goes to logs and into JSON replies, so it must stay one line of
 * valid text: control characters and non-ASCII bytes become '?'. */
static void printable(char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || (unsigned char) *s >= 0x7f)
                        *s = '?';
}

/* What went wrong, in words that quote nothing of the input. */
static const char *error_kind(const json_error_t *jerr) {
        switch (json_error_code(jerr)) {
        case json_error_out_of_memory:
                return "out of memory";
        case json_error_stack_overflow:
                return "nested too deeply";
        case json_error_invalid_utf8:
                return "invalid UTF-8";
        case json_error_premature_end_of_input:
                return "unexpected end of input";
        case json_error_end_of_input_expected:
                return "end of file expected";
        case json_error_null_character:
        case json_error_null_byte_in_key:
                return "\\u0000 (a NUL character) is not allowed";
        case json_error_duplicate_key:
                return "duplicate object key";
        case json_error_numeric_overflow:
                return "number too big";
        case json_error_invalid_syntax:
                return "invalid syntax";
        case json_error_unknown:
        case json_error_cannot_open_file:
        case json_error_invalid_argument:
        case json_error_invalid_format:
        case json_error_wrong_type:
        case json_error_null_value:
        case json_error_item_not_found:
        case json_error_index_out_of_range:
        default:
                return "not JSON text";
        }
}

static int parse_object(const char *buf, size_t len, size_t max_size, bool quote, json_t **ret, struct sfu_err *err) {
        json_error_t jerr;
        const char *nul;
        json_t *j;

        if (len > max_size)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "JSON document of %zu bytes exceeds the limit of %zu",
                                   len, max_size);
        /* A raw NUL byte is never valid JSON text (in a string it would
         * have to be escaped), and jansson's buffer reader takes it for the
         * end of input: "{...}\0anything" would be accepted with the tail
         * unread. */
        nul = len > 0 ? memchr(buf, 0, len) : NULL;
        if (nul)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "invalid JSON: NUL byte at offset %zu",
                                   (size_t) (nul - buf));
        if (max_depth(buf, len, SFU_JSON_MAX_DEPTH) < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "JSON nested deeper than %d levels",
                                   SFU_JSON_MAX_DEPTH);
        /* No JSON_ALLOW_NUL: a \u0000 in a string is refused.  jansson
         * refuses invalid UTF-8.  JSON_DECODE_ANY lets any value through
         * jansson, so that a valid document with a scalar top level gets
         * the same clear "not an object" refusal as an array. */
        j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
        if (!j) {
                if (quote)
                        printable(jerr.text);
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "invalid JSON at line %d column %d: %s",
                                   jerr.line, jerr.column, quote ? jerr.text : error_kind(&jerr));
        }
        if (!json_is_object(j)) {
                json_decref(j);
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "JSON document is not an object");
        }
        *ret = j;
        return 0;
}

int sfu_json_parse_object(const char *buf, size_t len, size_t max_size, json_t **ret, struct sfu_err *err) {
        return parse_object(buf, len, max_size, true, ret, err);
}

int sfu_json_parse_object_quiet(const char *buf, size_t len, size_t max_size, json_t **ret, struct sfu_err *err) {
        return parse_object(buf, len, max_size, false, ret, err);
}

int sfu_json_get_string(json_t *obj, const char *key, const char **ret, struct sfu_err *err) {
        json_t *v = json_object_get(obj, key);
        if (!v)
                return -ENOENT;
        if (!json_is_string(v))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"%s\" is not a string", key);
        *ret = json_string_value(v);
        return 0;
}

int sfu_json_get_u64(json_t *obj, const char *key, uint64_t *ret, struct sfu_err *err) {
        json_t *v = json_object_get(obj, key);
        if (!v)
                return -ENOENT;
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"%s\" is not a non-negative integer", key);
        *ret = (uint64_t) json_integer_value(v);
        return 0;
}

char *sfu_json_dump_compact(const json_t *j) {
        return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
}
