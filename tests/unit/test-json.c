/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "core/json.h"
#include "tap.h"

#define MAX (1024u * 1024u)

/* Parses a copy of text[0..len) in a buffer of exactly len bytes (no
 * terminating NUL), so that the sanitizers catch a read past the end. */
static int parse(const char *text, size_t len, size_t max, json_t **ret, struct sfu_err *err) {
        _cleanup_free_ char *copy = malloc(len ? len : 1);
        if (!copy)
                abort();
        memcpy(copy, text, len);
        return sfu_json_parse_object(copy, len, max, ret, err);
}

static bool printable_line(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || (unsigned char) *s >= 0x7f)
                        return false;
        return true;
}

static void accepted(const char *text, const char *desc) {
        struct sfu_err err = SFU_ERR_INIT;
        _cleanup_json_ json_t *j = NULL;
        int r = parse(text, strlen(text), MAX, &j, &err);

        ok(r == 0 && json_is_object(j) && !sfu_err_isset(&err), "accepted: %s (r=%d %s)", desc, r, err.message);
}

static void refused_n(const char *text, size_t len, enum sfu_err_code code, const char *reason, const char *desc) {
        struct sfu_err err = SFU_ERR_INIT;
        json_t *j = (json_t *) 0x1;    /* must stay untouched */
        int r = parse(text, len, MAX, &j, &err);

        ok(r < 0 && j == (json_t *) 0x1 && err.code == code && strstr(err.message, reason) &&
           printable_line(err.message),
           "refused: %s (want \"%s\", got %d \"%s\")", desc, reason, r, err.message);
}

static void refused(const char *text, enum sfu_err_code code, const char *reason, const char *desc) {
        refused_n(text, strlen(text), code, reason, desc);
}

static char *nested(size_t depth, char open, char close, const char *inner) {
        size_t len = 2 * depth + strlen(inner) + 16;
        char *s = malloc(len), *p = s;

        if (!s)
                abort();
        /* the top level must be an object: {"a": [[[...]]]} */
        p += sprintf(p, "{\"a\":");
        for (size_t i = 1; i < depth; i++)
                *p++ = open;
        p += sprintf(p, "%s", inner);
        for (size_t i = 1; i < depth; i++)
                *p++ = close;
        *p++ = '}';
        *p = 0;
        return s;
}

static void test_parse(void) {
        static const char nul_inside[] = "{\"a\":\"x\0y\"}";
        static const char nul_after[] = "{\"a\":1}\0{\"b\":2}";
        char *s;

        accepted("{}", "empty object");
        accepted(" \t\r\n{\"a\": [1, 2.5, -3e2, true, false, null, \"x\", {}]} \n\t", "every value type, white space");
        accepted("{\"\\u00e9t\\u00e9\": \"\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80\"}", "escaped and raw UTF-8");
        accepted("{\"a\":\"\\ud83d\\ude00\"}", "surrogate pair escape");
        accepted("{\"a\":\"[[[[{{{{\\\"\"}", "brackets inside a string do not nest");

        refused("[]", SFU_ERR_PARSE, "not an object", "top-level array");
        refused("\"text\"", SFU_ERR_PARSE, "not an object", "top-level string");
        refused("42", SFU_ERR_PARSE, "not an object", "top-level number");
        refused("null", SFU_ERR_PARSE, "not an object", "top-level null");
        refused("", SFU_ERR_PARSE, "invalid JSON", "empty input");
        refused("   ", SFU_ERR_PARSE, "invalid JSON", "only white space");
        refused("{\"a\":1,\"a\":2}", SFU_ERR_PARSE, "duplicate object key", "duplicate key");
        refused("{\"a\":1,\"\\u0061\":1}", SFU_ERR_PARSE, "duplicate object key", "duplicate key spelled differently");
        refused("{\"o\":{\"k\":1,\"k\":1}}", SFU_ERR_PARSE, "duplicate object key", "duplicate key in a nested object");
        refused("{\"a\":\"x\\u0000y\"}", SFU_ERR_PARSE, "u0000", "escaped NUL in a string");
        refused("{\"a\\u0000\":1}", SFU_ERR_PARSE, "NUL", "escaped NUL in a key");
        refused_n(nul_inside, sizeof(nul_inside) - 1, SFU_ERR_PARSE, "NUL byte at offset 7", "raw NUL in a string");
        refused_n(nul_after, sizeof(nul_after) - 1, SFU_ERR_PARSE, "NUL byte at offset 7",
                  "raw NUL after the object (jansson alone stops reading there)");
        refused("{\"a\":\"\xff\"}", SFU_ERR_PARSE, "invalid JSON", "invalid UTF-8 byte");
        refused("{\"a\":\"\xc0\xaf\"}", SFU_ERR_PARSE, "invalid JSON", "overlong UTF-8");
        refused("{\"a\":\"\xed\xa0\x80\"}", SFU_ERR_PARSE, "invalid JSON", "UTF-8 encoded surrogate");
        refused("{\"a\":\"\\ud800\"}", SFU_ERR_PARSE, "invalid JSON", "lone surrogate escape");
        refused("\xef\xbb\xbf{}", SFU_ERR_PARSE, "invalid JSON", "byte order mark");
        refused("{} x", SFU_ERR_PARSE, "invalid JSON", "trailing garbage");
        refused("{}{}", SFU_ERR_PARSE, "invalid JSON", "two documents");
        refused("{\"a\":1,}", SFU_ERR_PARSE, "invalid JSON", "trailing comma");
        refused("{'a':1}", SFU_ERR_PARSE, "invalid JSON", "single quotes");
        refused("{\"a\":01}", SFU_ERR_PARSE, "invalid JSON", "leading zero");
        refused("{\"a\":NaN}", SFU_ERR_PARSE, "invalid JSON", "NaN");
        refused("{\"a\":\"tab\there\"}", SFU_ERR_PARSE, "invalid JSON", "raw control character in a string");
        refused("{\"a\":1} // comment", SFU_ERR_PARSE, "invalid JSON", "comment");
        refused("{\"a\":99999999999999999999}", SFU_ERR_PARSE, "invalid JSON", "integer overflow");
        refused("{\"a\":1e999}", SFU_ERR_PARSE, "invalid JSON", "real overflow");
        refused("{\"a\":\"\xe6\x97\xa5\xd1\x88\xfa\"}", SFU_ERR_PARSE, "near '\"?????",
                "message quoting non-ASCII input stays printable ASCII");
        refused("{\"a\":\n\n  tru}", SFU_ERR_PARSE, "line 3", "message names the line");

        s = nested(SFU_JSON_MAX_DEPTH, '[', ']', "1");
        accepted(s, "nesting of exactly SFU_JSON_MAX_DEPTH");
        free(s);
        s = nested(SFU_JSON_MAX_DEPTH + 1, '[', ']', "1");
        refused(s, SFU_ERR_PARSE, "nested deeper than", "nesting one deeper");
        free(s);
        s = nested(100000, '{', '}', "");
        refused(s, SFU_ERR_PARSE, "nested deeper than", "100000 levels (no stack exhaustion)");
        free(s);
        s = nested(SFU_JSON_MAX_DEPTH + 1, '[', ']', "\"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\"");
        refused(s, SFU_ERR_PARSE, "nested deeper than", "closing brackets in a string do not hide depth");
        free(s);
}

static void test_size(void) {
        struct sfu_err err = SFU_ERR_INIT;
        _cleanup_json_ json_t *j = NULL;
        json_t *untouched = (json_t *) 0x1;
        const char *doc = "{\"abc\":123}";        /* 11 bytes */

        ok(parse(doc, 11, 11, &j, &err) == 0 && j, "a document of exactly max_size is accepted");
        ok(parse(doc, 11, 10, &untouched, &err) == -E2BIG && err.code == SFU_ERR_SIZE &&
           strstr(err.message, "11 bytes exceeds the limit of 10") && untouched == (json_t *) 0x1,
           "one byte over max_size is a size error (%s)", err.message);
        sfu_err_clear(&err);
        ok(sfu_json_parse_object(NULL, 0, 10, &untouched, &err) < 0 && err.code == SFU_ERR_PARSE,
           "NULL buffer of length 0 is refused as a parse error");
        ok(parse(doc, 11, 64, &untouched, NULL) == 0 && untouched != (json_t *) 0x1, "NULL err is fine");
        json_decref(untouched);
        untouched = (json_t *) 0x1;
        ok(parse("[", 1, 64, &untouched, NULL) < 0 && untouched == (json_t *) 0x1, "NULL err on failure is fine");
}

static void test_getters(void) {
        struct sfu_err err = SFU_ERR_INIT;
        _cleanup_json_ json_t *j = NULL;
        const char *s = "untouched";
        uint64_t u = 4242;
        const char *doc = "{\"s\":\"str\",\"n\":42,\"neg\":-1,\"real\":1.0,\"big\":9223372036854775807,\"arr\":[],"
                          "\"null\":null}";

        if (parse(doc, strlen(doc), MAX, &j, &err) < 0)
                abort();
        ok(sfu_json_get_string(j, "s", &s, &err) == 0 && strcmp(s, "str") == 0, "get_string");
        s = "untouched";
        ok(sfu_json_get_string(j, "missing", &s, &err) == -ENOENT && strcmp(s, "untouched") == 0 &&
           !sfu_err_isset(&err), "get_string of an absent key: ENOENT, no error recorded");
        ok(sfu_json_get_string(j, "n", &s, &err) == -EINVAL && err.code == SFU_ERR_PARSE &&
           strstr(err.message, "\"n\" is not a string") && strcmp(s, "untouched") == 0,
           "get_string of a number: EINVAL naming the key (%s)", err.message);
        sfu_err_clear(&err);
        ok(sfu_json_get_string(j, "null", &s, &err) == -EINVAL, "get_string of null: EINVAL");
        sfu_err_clear(&err);

        ok(sfu_json_get_u64(j, "n", &u, &err) == 0 && u == 42, "get_u64");
        ok(sfu_json_get_u64(j, "big", &u, &err) == 0 && u == 9223372036854775807ull, "get_u64 of INT64_MAX");
        u = 4242;
        ok(sfu_json_get_u64(j, "missing", &u, &err) == -ENOENT && u == 4242 && !sfu_err_isset(&err),
           "get_u64 of an absent key: ENOENT");
        ok(sfu_json_get_u64(j, "neg", &u, &err) == -EINVAL && u == 4242 && strstr(err.message, "\"neg\""),
           "get_u64 of a negative number: EINVAL (%s)", err.message);
        sfu_err_clear(&err);
        ok(sfu_json_get_u64(j, "real", &u, &err) == -EINVAL && u == 4242, "get_u64 of 1.0 (a real): EINVAL");
        sfu_err_clear(&err);
        ok(sfu_json_get_u64(j, "s", &u, &err) == -EINVAL && u == 4242, "get_u64 of a string: EINVAL");
        sfu_err_clear(&err);
        ok(sfu_json_get_u64(j, "arr", &u, &err) == -EINVAL && u == 4242, "get_u64 of an array: EINVAL");
}

static void test_dump(void) {
        struct sfu_err err = SFU_ERR_INIT;
        _cleanup_json_ json_t *j = NULL;
        _cleanup_free_ char *out = NULL;
        const char *doc = "{ \"b\" : [1, 2], \"a\" : {\"z\": \"\xc3\xa9\", \"y\": null} }";

        if (parse(doc, strlen(doc), MAX, &j, &err) < 0)
                abort();
        out = sfu_json_dump_compact(j);
        is_str(out, "{\"a\":{\"y\":null,\"z\":\"\xc3\xa9\"},\"b\":[1,2]}", "dump is compact with sorted keys");
}

int main(void) {
        test_parse();
        test_size();
        test_getters();
        test_dump();
        return tap_done();
}
