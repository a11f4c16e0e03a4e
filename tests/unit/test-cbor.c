/* SPDX-License-Identifier: MIT */
/* CBOR: the examples of RFC 8949 Appendix A that our profile has (decoded,
 * mapped to JSON and encoded back to the same bytes), the deterministic
 * encoder, one refusal per rule of the strict profile, and the CBOR
 * manifest front end against the JSON one. */
#include <string.h>

#include "core/cbor.h"
#include "core/hex.h"
#include "core/json.h"
#include "core/manifest.h"
#include "tap.h"

static const struct sfu_cbor_limits plain = { .max_size = 1u << 20 };

/* A heap copy of the bytes a hex string spells (spaces allowed), so that
 * ASan sees every read past the end. */
static uint8_t *unhex(const char *hex, size_t *ret_len) {
        size_t n = 0, len = strlen(hex);
        uint8_t *out = malloc(len / 2 + 1);

        if (!out)
                abort();
        for (size_t i = 0; i < len;) {
                if (hex[i] == ' ') {
                        i++;
                        continue;
                }
                char pair[3] = { hex[i], i + 1 < len ? hex[i + 1] : 0, 0 };
                if (sfu_hex_decode(pair, out + n, 1) < 0) {
                        printf("Bail out! bad hex in the test: %s\n", hex);
                        exit(1);
                }
                n++;
                i += 2;
        }
        *ret_len = n;
        return out;
}

/* ---------------------------------------------------------------- Appendix A */

/* Decodes hex, maps it to JSON (bytes under "hash" only), encodes that
 * again: the same bytes, for every deterministic example we can map. */
static void round_trip(const char *hex, const char *diag) {
        _cleanup_free_ uint8_t *in = NULL, *out = NULL;
        _cleanup_free_ char *back = NULL;
        _cleanup_cbor_ struct sfu_cbor *c = NULL;
        _cleanup_json_ json_t *j = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        size_t len, out_len = 0;
        int r;

        in = unhex(hex, &len);
        r = sfu_cbor_decode(in, len, &plain, &c, &err);
        if (r == 0)
                r = sfu_cbor_to_json(sfu_cbor_root(c), "hash", &j, &err);
        if (r == 0)
                r = sfu_cbor_encode_json(j, "hash", &out, &out_len, &err);
        if (r == 0)
                back = tap_hex(out, out_len);
        {
                _cleanup_free_ char *want = tap_hex(in, len);
                ok(r == 0 && strcmp(back, want) == 0, "RFC 8949 A: %s = %s round trip (got %s, %s)", diag, want,
                   back ? back : "-", err.message);
        }
}

/* Decodes hex, expects one item of type t with value v (and, for an
 * integer, the int64 i). */
static void decodes_int(const char *hex, enum sfu_cbor_type t, uint64_t v, const char *diag) {
        _cleanup_free_ uint8_t *in = NULL;
        _cleanup_cbor_ struct sfu_cbor *c = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        size_t len;
        int r;

        in = unhex(hex, &len);
        r = sfu_cbor_decode(in, len, &plain, &c, &err);
        ok(r == 0 && c->n_items == 1 && sfu_cbor_root(c)->type == t && sfu_cbor_root(c)->value == v,
           "RFC 8949 A: %s decodes (%s)", diag, err.message);
}

/* Encodes a JSON value: the expected hex. */
static void encodes(json_t *v, const char *hex, const char *diag) {
        _cleanup_free_ uint8_t *out = NULL;
        _cleanup_free_ char *got = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        size_t out_len = 0;
        int r = sfu_cbor_encode_json(v, "hash", &out, &out_len, &err);

        json_decref(v);
        if (r == 0)
                got = tap_hex(out, out_len);
        ok(r == 0 && strcmp(got, hex) == 0, "encode %s = %s (got %s)", diag, hex, got ? got : err.message);
}

static void test_appendix_a(void) {
        /* Integers within JSON's range: decode, map, encode. */
        round_trip("00", "0");
        round_trip("01", "1");
        round_trip("0a", "10");
        round_trip("17", "23");
        round_trip("1818", "24");
        round_trip("1819", "25");
        round_trip("1864", "100");
        round_trip("1903e8", "1000");
        round_trip("1a000f4240", "1000000");
        round_trip("1b000000e8d4a51000", "1000000000000");
        /* Beyond int64 and negative: decoded, but the manifest mapping
         * refuses them (and the encoder writes the negative ones). */
        decodes_int("1bffffffffffffffff", SFU_CBOR_UINT, UINT64_MAX, "18446744073709551615");
        decodes_int("3bffffffffffffffff", SFU_CBOR_NEGINT, UINT64_MAX, "-18446744073709551616");
        decodes_int("20", SFU_CBOR_NEGINT, 0, "-1");
        decodes_int("29", SFU_CBOR_NEGINT, 9, "-10");
        decodes_int("3863", SFU_CBOR_NEGINT, 99, "-100");
        decodes_int("3903e7", SFU_CBOR_NEGINT, 999, "-1000");
        encodes(json_integer(-1), "20", "-1");
        encodes(json_integer(-10), "29", "-10");
        encodes(json_integer(-100), "3863", "-100");
        encodes(json_integer(-1000), "3903e7", "-1000");
        encodes(json_integer(INT64_MIN), "3b7fffffffffffffff", "INT64_MIN");
        encodes(json_integer(INT64_MAX), "1b7fffffffffffffff", "INT64_MAX");
        {
                int64_t v = 0;
                _cleanup_free_ uint8_t *in = NULL;
                _cleanup_cbor_ struct sfu_cbor *c = NULL;
                size_t len;
                in = unhex("3903e7", &len);
                ok(sfu_cbor_decode(in, len, &plain, &c, NULL) == 0 && sfu_cbor_get_int(sfu_cbor_root(c), &v) &&
                           v == -1000,
                   "sfu_cbor_get_int(-1000)");
        }

        round_trip("f4", "false");
        round_trip("f5", "true");
        round_trip("f6", "null");
        /* Byte strings: only as "hash" in our mapping. */
        round_trip("a1646861736840", "{\"hash\": h''}");
        round_trip("a1646861736844 01020304", "{\"hash\": h'01020304'}");
        round_trip("60", "\"\"");
        round_trip("6161", "\"a\"");
        round_trip("6449455446", "\"IETF\"");
        round_trip("62225c", "\"\\\"\\\\\"");
        round_trip("62c3bc", "\"\\u00fc\"");
        round_trip("63e6b0b4", "\"\\u6c34\"");
        round_trip("64f0908591", "\"\\ud800\\udd51\"");
        round_trip("80", "[]");
        round_trip("83010203", "[1, 2, 3]");
        round_trip("8301820203820405", "[1, [2, 3], [4, 5]]");
        round_trip("98190102030405060708090a0b0c0d0e0f101112131415161718181819", "[1, 2, ..., 25]");
        round_trip("a0", "{}");
        round_trip("a26161016162820203", "{\"a\": 1, \"b\": [2, 3]}");
        round_trip("826161a161626163", "[\"a\", {\"b\": \"c\"}]");
        round_trip("a56161614161626142616361436164614461656145", "{\"a\": \"A\", ..., \"e\": \"E\"}");
}

/* ---------------------------------------------------------------- encoder */

static void test_encoder(void) {
        struct sfu_cbor_writer w = {};
        _cleanup_free_ uint8_t *out = NULL;
        _cleanup_free_ char *hex = NULL;
        size_t len = 0;
        static const uint64_t args[] = { 0, 23, 24, 255, 256, 65535, 65536, UINT32_MAX, (uint64_t) UINT32_MAX + 1 };

        for (size_t i = 0; i < ELEMENTSOF(args); i++)
                sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_ARRAY, args[i]);
        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_TAG, 18);
        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_TAG, 98);
        ok(sfu_cbor_writer_finish(&w, &out, &len) == 0, "writer finishes");
        hex = tap_hex(out, len);
        is_str(hex, "80" "97" "9818" "98ff" "990100" "99ffff" "9a00010000" "9affffffff" "9b0000000100000000" "d2" "d862",
               "heads in their shortest forms at every boundary");

        /* RFC 8949 4.2.1: keys sorted bytewise by their encodings, which
         * for text keys means shorter first. */
        encodes(json_pack("{s:i, s:i, s:i, s:i, s:i}", "bb", 1, "a", 2, "aa", 3, "b", 4, "", 5),
                "a5" "6005" "616102" "616204" "62616103" "62626201", "map keys sorted by their encodings");
        {
                /* A 24-byte key sorts after every shorter one though 'a' < 'z'. */
                json_t *v = json_object();
                json_object_set_new(v, "aaaaaaaaaaaaaaaaaaaaaaaa", json_integer(1));
                json_object_set_new(v, "zzzzzzzzzzzzzzzzzzzzzzz", json_integer(2));
                encodes(v,
                        "a2" "77" "7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a" "02" "7818"
                        "616161616161616161616161616161616161616161616161" "01",
                        "a 23-byte key before a 24-byte key (head 0x77 < 0x78)");
        }
        {
                struct sfu_err err = SFU_ERR_INIT;
                json_t *v = json_real(1.5);
                uint8_t *o = NULL;
                size_t l;
                ok(sfu_cbor_encode_json(v, "hash", &o, &l, &err) == -EDOM && strstr(err.message, "floating point"),
                   "a real is refused by the encoder (%s)", err.message);
                json_decref(v);
                sfu_err_clear(&err);
                v = json_pack("{s:s}", "hash", "abc");
                ok(sfu_cbor_encode_json(v, "hash", &o, &l, &err) < 0 && strstr(err.message, "odd number"),
                   "odd hex under \"hash\" is refused (%s)", err.message);
                json_decref(v);
                sfu_err_clear(&err);
                v = json_pack("{s:s}", "hash", "zz");
                ok(sfu_cbor_encode_json(v, "hash", &o, &l, &err) < 0 && strstr(err.message, "not hexadecimal"),
                   "non-hex under \"hash\" is refused (%s)", err.message);
                json_decref(v);
                sfu_err_clear(&err);
                v = json_pack("{s:i}", "hash", 3);
                ok(sfu_cbor_encode_json(v, "hash", &o, &l, &err) < 0 && strstr(err.message, "not a hex string"),
                   "a number under \"hash\" is refused (%s)", err.message);
                json_decref(v);
        }
        {
                /* The writer's bound. */
                struct sfu_cbor_writer bw = { .max = 4 };
                uint8_t *o = NULL;
                size_t l;
                sfu_cbor_write_bytes(&bw, "abcd", 4);
                ok(sfu_cbor_writer_finish(&bw, &o, &l) == -E2BIG, "the writer's max is enforced");
        }
}

/* ---------------------------------------------------------------- refusals */

static void refused_with(const char *hex, const struct sfu_cbor_limits *lim, enum sfu_err_code code,
                         const char *reason, const char *desc) {
        _cleanup_free_ uint8_t *in = NULL;
        struct sfu_cbor *c = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        size_t len;
        int r;

        in = unhex(hex, &len);
        r = sfu_cbor_decode(in, len, lim, &c, &err);
        ok(r < 0 && !c && err.code == code && strstr(err.message, reason) && tap_one_line(err.message),
           "refused: %s (want \"%s\", got %d \"%s\")", desc, reason, r, err.message);
        sfu_cbor_free(c);
}

static void refused_cbor(const char *hex, const char *reason, const char *desc) {
        refused_with(hex, &plain, SFU_ERR_PARSE, reason, desc);
}

/* depth levels of alternating arrays and maps (key ""), around 0. */
static char *nested(size_t depth) {
        char *s = calloc(1, 4 * depth + 3);
        if (!s)
                abort();
        for (size_t i = 0; i < depth; i++)
                strcat(s, i % 2 ? "a160" : "81");
        strcat(s, "00");
        return s;
}

static void test_refusals(void) {
        /* Indefinite lengths, RFC 8949 Appendix A's examples among them. */
        refused_cbor("5f42010243030405ff", "indefinite-length byte string", "(_ h'0102', h'030405')");
        refused_cbor("7f657374726561646d696e67ff", "indefinite-length text string", "(_ \"strea\", \"ming\")");
        refused_cbor("9fff", "indefinite-length array", "[_ ]");
        refused_cbor("9f018202039f0405ffff", "indefinite-length array", "[_ 1, [2, 3], [_ 4, 5]]");
        refused_cbor("83018202039f0405ff", "indefinite-length array", "[1, [2, 3], [_ 4, 5]] (nested)");
        refused_cbor("bf61610161629f0203ffff", "indefinite-length map", "{_ \"a\": 1, \"b\": [_ 2, 3]}");
        refused_cbor("a1616bbf6161f5ff", "indefinite-length map", "indefinite map inside a map");
        refused_cbor("ff", "break", "a stray break");

        /* Duplicate map keys. */
        refused_cbor("a2616101616102", "key \"a\" twice", "{\"a\": 1, \"a\": 2}");
        refused_cbor("a3616101616202616103", "key \"a\" twice", "{\"a\": 1, \"b\": 2, \"a\": 3}");
        refused_cbor("a201010102", "duplicate key", "{1: 1, 1: 2}");
        refused_cbor("a28201020182010202", "duplicate key", "{[1, 2]: 1, [1, 2]: 2}");
        refused_cbor("81a16178a2616101616102", "key \"a\" twice", "duplicate keys in a nested map");
        round_trip("a2616101616202", "{\"a\": 1, \"b\": 2} (no duplicates)");
        {
                /* "a" and 'a' and 97 are different keys. */
                _cleanup_free_ uint8_t *in = NULL;
                _cleanup_cbor_ struct sfu_cbor *c = NULL;
                size_t len;
                in = unhex("a3616101416102186103", &len);
                ok(sfu_cbor_decode(in, len, &plain, &c, NULL) == 0 && sfu_cbor_map_get_int(sfu_cbor_root(c), 97) &&
                           sfu_cbor_map_get_text(sfu_cbor_root(c), "a"),
                   "keys \"a\", h'61' and 97 are distinct");
        }

        /* Trailing bytes, truncation, empty input. */
        refused_cbor("0100", "1 trailing byte", "1 followed by 0");
        refused_cbor("a0a0", "trailing byte", "{} {}");
        refused_cbor("83010203 ff", "trailing byte", "[1, 2, 3] then a break");
        refused_cbor("", "empty input", "no bytes at all");
        refused_cbor("6261", "truncated", "a text string cut short");
        refused_cbor("8301", "truncated", "an array cut short");
        refused_cbor("a1616b", "truncated", "a map without its value");
        refused_cbor("19", "truncated", "a head cut short");
        refused_cbor("9bffffffffffffffff01", "truncated", "an array announcing 2^64-1 items");
        refused_cbor("bb7fffffffffffffff0101", "truncated", "a map announcing 2^63-1 pairs");
        refused_cbor("5bffffffffffffffff00", "truncated", "a byte string announcing 2^64-1 bytes");

        /* Tags: none inside; one outside only when allowed. */
        refused_cbor("c074323031332d30332d32315432303a30343a30305a", "tag is not allowed", "0(\"2013-...\")");
        refused_cbor("c11a514b67b0", "tag is not allowed", "1(1363896240)");
        refused_cbor("d74401020304", "tag is not allowed", "23(h'01020304')");
        refused_cbor("d818456449455446", "tag is not allowed", "24(h'6449455446')");
        refused_cbor("c249010000000000000000", "tag is not allowed", "2(h'010000000000000000') (bignum)");
        refused_cbor("8201d20102", "tag is not allowed", "a tag inside an array");
        {
                const struct sfu_cbor_limits tagged = { .max_size = 100, .allow_tag = true };
                _cleanup_free_ uint8_t *in = NULL;
                _cleanup_cbor_ struct sfu_cbor *c = NULL;
                size_t len;

                in = unhex("d2820102", &len);
                ok(sfu_cbor_decode(in, len, &tagged, &c, NULL) == 0 && c->tagged && c->tag == 18 &&
                           sfu_cbor_root(c)->type == SFU_CBOR_ARRAY && sfu_cbor_root(c)->offset == 1,
                   "an outermost tag 18 (0xd2, which libcbor 0.8 cannot decode) is reported when allowed");
                refused_with("d2d2820102", &tagged, SFU_ERR_PARSE, "tag is not allowed", "two tags");
                refused_with("d81282", &tagged, SFU_ERR_PARSE, "shortest form", "tag 18 as 0xd8 0x12");
                refused_with("d2", &tagged, SFU_ERR_PARSE, "truncated", "a tag without an item");
        }

        /* Floats and simple values. */
        refused_cbor("f90000", "floating-point", "0.0 (half)");
        refused_cbor("f93c00", "floating-point", "1.0 (half)");
        refused_cbor("fa47c35000", "floating-point", "100000.0 (single)");
        refused_cbor("fb3ff199999999999a", "floating-point", "1.1 (double)");
        refused_cbor("fb7ff8000000000000", "floating-point", "NaN");
        refused_cbor("a1616bf97c00", "floating-point", "Infinity in a map");
        refused_cbor("f7", "undefined", "undefined");
        refused_cbor("f0", "simple values", "simple(16)");
        refused_cbor("f8ff", "simple values", "simple(255)");
        refused_cbor("fc", "reserved", "0xfc (reserved)");
        refused_cbor("1c", "reserved", "0x1c (reserved)");

        /* Not the shortest head. */
        refused_cbor("1817", "shortest form", "23 as 0x18 0x17");
        refused_cbor("190017", "shortest form", "23 in two bytes");
        refused_cbor("1a0000ffff", "shortest form", "65535 in four bytes");
        refused_cbor("1b00000000ffffffff", "shortest form", "2^32-1 in eight bytes");
        refused_cbor("3817", "shortest form", "-24 as 0x38 0x17");
        refused_cbor("5800", "shortest form", "h'' with a one-byte length");
        refused_cbor("780161", "shortest form", "\"a\" with a one-byte length");
        refused_cbor("9800", "shortest form", "[] with a one-byte count");
        refused_cbor("b800", "shortest form", "{} with a one-byte count");
        refused_cbor("a1 7801 61 00", "shortest form", "a map key with a long head");

        /* UTF-8. */
        refused_cbor("62c328", "UTF-8", "an invalid continuation");
        refused_cbor("62c080", "UTF-8", "an overlong NUL");
        refused_cbor("63eda080", "UTF-8", "a surrogate (U+D800)");
        refused_cbor("64f4908080", "UTF-8", "above U+10FFFF");
        refused_cbor("61ff", "UTF-8", "0xff");
        refused_cbor("63e282", "truncated", "a text string shorter than its head");
        round_trip("64f48fbfbf", "U+10FFFF");

        /* Bounds. */
        {
                _cleanup_free_ char *ok32 = nested(SFU_CBOR_MAX_DEPTH), *deep = nested(SFU_CBOR_MAX_DEPTH + 1);
                _cleanup_free_ uint8_t *in = NULL;
                _cleanup_cbor_ struct sfu_cbor *c = NULL;
                size_t len;

                in = unhex(ok32, &len);
                ok(sfu_cbor_decode(in, len, &plain, &c, NULL) == 0, "nesting of %d levels (the JSON bound) is accepted",
                   SFU_CBOR_MAX_DEPTH);
                refused_cbor(deep, "nested deeper than 32 levels", "nesting of 33 levels");
        }
        {
                const struct sfu_cbor_limits small = { .max_size = 3 };
                const struct sfu_cbor_limits few = { .max_size = 100, .max_items = 3 };
                const struct sfu_cbor_limits shallow = { .max_size = 100, .max_depth = 2 };
                refused_with("83010203", &small, SFU_ERR_SIZE, "exceeds the limit of 3", "4 bytes over a 3-byte limit");
                refused_with("83010203", &few, SFU_ERR_SIZE, "more than 3 items", "4 items over a 3-item limit");
                refused_with("81818100", &shallow, SFU_ERR_PARSE, "deeper than 2 levels", "depth 3 over a limit of 2");
        }
}

/* ---------------------------------------------------------------- items */

static void test_items(void) {
        _cleanup_free_ uint8_t *in = NULL;
        _cleanup_cbor_ struct sfu_cbor *c = NULL;
        const struct sfu_cbor_item *root, *a, *b;
        size_t len;

        /* {"a": [1, {"x": h'00'}], 3: "t"} */
        in = unhex("a2 6161 82 01 a1 6178 4100 03 6174", &len);
        if (sfu_cbor_decode(in, len, &plain, &c, NULL) < 0) {
                ok(false, "the item example decodes");
                return;
        }
        root = sfu_cbor_root(c);
        ok(root->type == SFU_CBOR_MAP && root->value == 2 && root->n_items == c->n_items && root->size == len,
           "the root covers every item and byte");
        a = sfu_cbor_map_get_text(root, "a");
        ok(a && a->type == SFU_CBOR_ARRAY && a->n_items == 5 && a->offset == 3 && a->size == 7,
           "\"a\": an array of 5 items in 7 bytes at offset 3");
        b = sfu_cbor_map_get_int(root, 3);
        ok(b && sfu_cbor_text_is(b, "t") && sfu_cbor_next(b) == root + root->n_items, "3: \"t\", the last item");
        ok(!sfu_cbor_map_get_text(root, "b") && !sfu_cbor_map_get_int(root, 4) && !sfu_cbor_map_get_int(a, 1),
           "absent keys and a non-map give NULL");
}

/* ---------------------------------------------------------------- manifests */

static json_t *load_json(const char *name) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        json_t *j;

        text = tap_read_file(tap_data(name), &len);
        j = json_loadb(text, len, 0, NULL);
        if (!j) {
                printf("Bail out! %s is not JSON\n", name);
                exit(1);
        }
        return j;
}

static uint8_t *encode_or_die(json_t *tree, const char *bytes_key, size_t *ret_len) {
        struct sfu_err err = SFU_ERR_INIT;
        uint8_t *out = NULL;

        if (sfu_cbor_encode_json(tree, bytes_key, &out, ret_len, &err) < 0) {
                printf("Bail out! cannot encode: %s\n", err.message);
                exit(1);
        }
        return out;
}

/* The same manifest as JSON and as CBOR: the same model. */
static void same_model(const char *name) {
        _cleanup_free_ char *text = NULL, *again_hex = NULL, *first_hex = NULL;
        _cleanup_free_ uint8_t *cbor = NULL, *again = NULL;
        _cleanup_json_ json_t *tree = NULL, *from_json = NULL, *from_cbor = NULL;
        _cleanup_manifest_ struct sfu_manifest *mj = NULL, *mc = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        size_t len, cbor_len, again_len;
        int r;

        text = tap_read_file(tap_data(name), &len);
        r = sfu_manifest_parse_json(text, len, SFU_MANIFEST_MAX_SIZE, &mj, &err);
        ok(r == 0, "%s: the JSON front end accepts it (%s)", name, err.message);
        tree = load_json(name);
        cbor = encode_or_die(tree, SFU_MANIFEST_CBOR_BYTES_KEY, &cbor_len);
        r = sfu_manifest_parse_cbor(cbor, cbor_len, SFU_MANIFEST_MAX_SIZE, &mc, &err);
        ok(r == 0, "%s: the CBOR front end accepts its CBOR form (%s)", name, err.message);
        if (!mj || !mc)
                return;
        ok(sfu_manifest_to_json(mj, &from_json) == 0 && sfu_manifest_to_json(mc, &from_cbor) == 0 &&
                   json_equal(from_json, from_cbor),
           "%s: JSON and CBOR give the same model (sfu_manifest_to_json equal)", name);
        ok(cbor_len < len, "%s: the CBOR form is smaller (%zu < %zu bytes)", name, cbor_len, len);

        /* Deterministic: encoding the decoded tree again gives the same bytes. */
        {
                _cleanup_cbor_ struct sfu_cbor *c = NULL;
                _cleanup_json_ json_t *back = NULL;
                const struct sfu_cbor_limits lim = { .max_size = SFU_MANIFEST_MAX_SIZE };
                r = sfu_cbor_decode(cbor, cbor_len, &lim, &c, &err);
                if (r == 0)
                        r = sfu_cbor_to_json(sfu_cbor_root(c), SFU_MANIFEST_CBOR_BYTES_KEY, &back, &err);
                if (r == 0)
                        again = encode_or_die(back, SFU_MANIFEST_CBOR_BYTES_KEY, &again_len);
                first_hex = tap_hex(cbor, cbor_len);
                again_hex = again ? tap_hex(again, again_len) : NULL;
                ok(r == 0 && again_hex && strcmp(first_hex, again_hex) == 0,
                   "%s: CBOR -> tree -> CBOR is the identity", name);
        }
}

/* Takes tree; CBOR-encodes it with bytes_key and expects a refusal. */
static void manifest_refused(json_t *tree, const char *bytes_key, const char *reason, const char *desc) {
        _cleanup_free_ uint8_t *cbor = NULL;
        struct sfu_manifest *m = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        size_t len;
        int r;

        cbor = encode_or_die(tree, bytes_key, &len);
        json_decref(tree);
        r = sfu_manifest_parse_cbor(cbor, len, SFU_MANIFEST_MAX_SIZE, &m, &err);
        ok(r < 0 && !m && err.code == SFU_ERR_PARSE && strstr(err.message, reason) && tap_one_line(err.message),
           "CBOR manifest refused: %s (want \"%s\", got \"%s\")", desc, reason, err.message);
        sfu_manifest_free(m);
}

static void manifest_refused_hex(const char *hex, enum sfu_err_code code, const char *reason, const char *desc) {
        _cleanup_free_ uint8_t *cbor = NULL;
        struct sfu_manifest *m = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        size_t len;
        int r;

        cbor = unhex(hex, &len);
        r = sfu_manifest_parse_cbor(cbor, len, SFU_MANIFEST_MAX_SIZE, &m, &err);
        ok(r < 0 && !m && err.code == code && strstr(err.message, reason) && tap_one_line(err.message),
           "CBOR manifest refused: %s (want \"%s\", got \"%s\")", desc, reason, err.message);
        sfu_manifest_free(m);
}

static json_t *minimal_with(const char *key, json_t *value) {
        json_t *t = load_json("manifest/minimal.json");
        if (value)
                json_object_set_new(t, key, value);
        else
                json_object_del(t, key);
        return t;
}

static void test_manifests(void) {
        same_model("manifest/minimal.json");
        same_model("manifest/split.json");
        same_model("manifest/keyinfo.json");

        /* The front end's own refusals. */
        manifest_refused_hex("83010203", SFU_ERR_PARSE, "is an array, not a map", "an array at the top level");
        manifest_refused_hex("d9d9f7a0", SFU_ERR_PARSE, "tag is not allowed", "self-described CBOR (tag 55799)");
        manifest_refused_hex("a1 6161 f93c00", SFU_ERR_PARSE, "floating-point", "a float anywhere");
        manifest_refused_hex("a1 6161 01 00", SFU_ERR_PARSE, "trailing", "trailing bytes");
        manifest_refused_hex("bf ff", SFU_ERR_PARSE, "indefinite-length map", "an indefinite-length map");
        manifest_refused_hex("a2 6161 01 6161 02", SFU_ERR_PARSE, "key \"a\" twice", "duplicate keys");
        manifest_refused_hex("a1 01 01", SFU_ERR_PARSE, "keys are text strings", "an integer key");
        manifest_refused_hex("a1 6161 62 6100", SFU_ERR_PARSE, "NUL", "a NUL in a text string");
        {
                /* Size: over the caller's and over the hard cap. */
                _cleanup_free_ uint8_t *big = calloc(1, 2000);
                struct sfu_manifest *m = NULL;
                struct sfu_err err = SFU_ERR_INIT;
                ok(big && sfu_manifest_parse_cbor(big, 2000, 1000, &m, &err) < 0 && err.code == SFU_ERR_SIZE &&
                           strstr(err.message, "exceeds the limit of 1000"),
                   "a CBOR manifest over max_size is refused before decoding (%s)", err.message);
        }

        /* Wrong types per field: the JSON front end's messages. */
        manifest_refused(minimal_with("firmwareSize", json_string("10000")), "hash", "\"firmwareSize\" is not an integer",
                         "firmwareSize as text");
        manifest_refused(minimal_with("manifestVersion", json_integer(1)), "hash", "\"manifestVersion\" is not a string",
                         "manifestVersion as an integer");
        manifest_refused(minimal_with("timestamp", json_integer(1700000000)), "hash", "\"timestamp\" is not a string",
                         "timestamp as an integer (CBOR's epoch form is not used)");
        manifest_refused(minimal_with("firmwareCryptoInfo", json_pack("{s:{}}", "commitHash")), "hash",
                         "commitHash\" is not an array", "commitHash as a map");
        manifest_refused(minimal_with("firmwareSize", json_integer(-5)), "hash", "negative integer",
                         "a negative firmwareSize");
        manifest_refused(minimal_with("firmwareSize", json_integer(0)), "hash", "not greater than zero",
                         "firmwareSize 0");
        manifest_refused(minimal_with("firmwareSize", json_true()), "hash", "\"firmwareSize\" is not an integer",
                         "firmwareSize as true");
        manifest_refused(minimal_with("model", json_string("676d")), "model", "\"model\" is a byte string; only \"hash\"",
                         "model as a byte string");
        manifest_refused(minimal_with("firmwareVersion", NULL), "hash", "has no \"firmwareVersion\"",
                         "firmwareVersion missing");
        /* hash as hex text instead of bytes. */
        manifest_refused(load_json("manifest/minimal.json"), NULL,
                         "commitHash[0].hash\" is a text string; CBOR carries it as a byte string",
                         "a digest as hex text");
        {
                json_t *t = load_json("manifest/minimal.json");
                json_t *entry = json_array_get(json_object_get(json_object_get(t, "firmwareCryptoInfo"), "commitHash"), 0);
                json_object_set_new(entry, "hash", json_string("62fa956d"));
                manifest_refused(t, "hash", "a sha256 hash is 64 hex digits", "a 4-byte sha256 digest");
        }
        /* An integer beyond int64 for firmwareSize (hand-made: JSON cannot). */
        {
                json_t *t = minimal_with("firmwareSize", json_integer(1234567));
                size_t len;
                _cleanup_free_ uint8_t *cbor = encode_or_die(t, "hash", &len);
                _cleanup_free_ char *hex = tap_hex(cbor, len), *patched = NULL;
                char *at = strstr(hex, "1a0012d687");   /* 1234567 */
                json_decref(t);
                if (!at || asprintf(&patched, "%.*s1bffffffffffffffff%s", (int) (at - hex), hex, at + 10) < 0)
                        abort();
                manifest_refused_hex(patched, SFU_ERR_PARSE, "\"firmwareSize\" is an integer out of range",
                                     "firmwareSize 2^64-1");
        }
}

int main(void) {
        test_appendix_a();
        test_encoder();
        test_refusals();
        test_items();
        test_manifests();
        return tap_done();
}
