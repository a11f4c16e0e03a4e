/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <string.h>

#include "core/hex.h"
#include "core/json.h"
#include "core/manifest.h"
#include "tap.h"

#define NOT_WRITTEN ((struct sfu_manifest *) 0x1)

static char *minimal_text;              /* tests/data/manifest/minimal.json */
static size_t minimal_len;

/* ------------------------------------------------------------ helpers */

static json_t *load_doc(const char *name) {
        _cleanup_free_ char *text = NULL;
        json_error_t jerr;
        size_t len;
        json_t *j;

        text = tap_read_file(tap_data(name), &len);
        j = json_loadb(text, len, 0, &jerr);
        if (!j) {
                printf("Bail out! %s: %s\n", name, jerr.text);
                exit(1);
        }
        return j;
}

static json_t *minimal(void) {
        return load_doc("manifest/minimal.json");
}

static json_t *split(void) {
        return load_doc("manifest/split.json");
}

/* Borrowed: firmwareCryptoInfo.commitHash of a single-image document. */
static json_t *commit_hash(json_t *doc) {
        return json_object_get(json_object_get(doc, "firmwareCryptoInfo"), "commitHash");
}

static json_t *digest_entry(const char *algo, const char *hash) {
        return json_pack("{s:s, s:s}", "digestAlgo", algo, "hash", hash);
}

/* text with the first occurrence of from replaced by to; new string */
static char *replace(const char *text, const char *from, const char *to) {
        const char *at = strstr(text, from);
        char *out;

        if (!at) {
                printf("Bail out! \"%s\" not in the test document\n", from);
                exit(1);
        }
        if (asprintf(&out, "%.*s%s%s", (int) (at - text), text, to, at + strlen(from)) < 0)
                abort();
        return out;
}

/* Parses text[0..len) from a buffer of exactly len bytes. */
static int parse_n(const char *text, size_t len, size_t max, struct sfu_manifest **ret, struct sfu_err *err) {
        _cleanup_free_ char *copy = malloc(len ? len : 1);
        if (!copy)
                abort();
        memcpy(copy, text, len);
        return sfu_manifest_parse_json(copy, len, max, ret, err);
}

static void refused_text_n(const char *text, size_t len, size_t max, enum sfu_err_code code, const char *reason,
                           const char *desc) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_manifest *m = NOT_WRITTEN;
        int r = parse_n(text, len, max, &m, &err);

        ok(r < 0 && m == NOT_WRITTEN && err.code == code && strstr(err.message, reason) &&
           tap_one_line(err.message),
           "refused: %s (want %s \"%s\", got %d %s \"%s\")", desc, sfu_err_code_name(code), reason, r,
           sfu_err_code_name(err.code), err.message);
        if (r >= 0 && m != NOT_WRITTEN)
                sfu_manifest_free(m);
}

static void refused_text(const char *text, const char *reason, const char *desc) {
        refused_text_n(text, strlen(text), SFU_MANIFEST_MAX_SIZE, SFU_ERR_PARSE, reason, desc);
}

/* Takes doc. */
static void refused(json_t *doc, const char *reason, const char *desc) {
        _cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT);

        json_decref(doc);
        if (!text)
                abort();
        refused_text(text, reason, desc);
}

/* Takes doc; returns the manifest or NULL. */
static struct sfu_manifest *accepted(json_t *doc, const char *desc) {
        _cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT);
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_manifest *m = NULL;
        int r;

        json_decref(doc);
        if (!text)
                abort();
        r = parse_n(text, strlen(text), SFU_MANIFEST_MAX_SIZE, &m, &err);
        ok(r == 0 && m && !sfu_err_isset(&err), "accepted: %s (r=%d \"%s\")", desc, r, err.message);
        return r == 0 ? m : NULL;
}

static void accepted_free(json_t *doc, const char *desc) {
        sfu_manifest_free(accepted(doc, desc));
}

static json_t *with(json_t *doc, const char *key, json_t *value) {
        if (json_object_set_new(doc, key, value) < 0)
                abort();
        return doc;
}

static json_t *without(json_t *doc, const char *key) {
        if (json_object_del(doc, key) < 0)
                abort();
        return doc;
}

/* Digest of a test data file, computed here with the digest module. */
static bool file_digest(const char *name, enum sfu_digest_alg alg, uint8_t out[SFU_DIGEST_MAX_SIZE],
                        uint64_t *ret_size) {
        _cleanup_digest_set_ struct sfu_digest_set *set = NULL;
        _cleanup_close_ int fd = open(tap_data(name), O_RDONLY | O_CLOEXEC);

        return fd >= 0 && sfu_digest_set_new(SFU_DIGEST_MASK(alg), &set) == 0 &&
               sfu_digest_fd(fd, set, ret_size) == 0 && sfu_digest_set_get(set, alg, out) == 0;
}

static bool image_digest_is(const struct sfu_manifest_image *img, size_t index, enum sfu_digest_alg alg,
                            const char *file) {
        uint8_t want[SFU_DIGEST_MAX_SIZE];
        uint64_t size = 0;

        if (index >= img->n_digests || img->digests[index].alg != alg || !file_digest(file, alg, want, &size))
                return false;
        return memcmp(img->digests[index].value, want, sfu_digest_size(alg)) == 0 && (!img->has_size || img->size == size);
}

/* to_json, dump, parse again, to_json again: the two objects are equal
 * and the second parse accepted the first's output. */
static void round_trip(const struct sfu_manifest *m, const char *desc) {
        _cleanup_json_ json_t *first = NULL, *second = NULL;
        _cleanup_free_ char *text = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        _cleanup_manifest_ struct sfu_manifest *again = NULL;

        ok(m && sfu_manifest_to_json(m, &first) == 0 && (text = json_dumps(first, JSON_COMPACT)) &&
           sfu_manifest_parse_json(text, strlen(text), SFU_MANIFEST_MAX_SIZE, &again, &err) == 0 &&
           sfu_manifest_to_json(again, &second) == 0 && json_equal(first, second),
           "%s: to_json output parses back to the same model (%s)", desc, err.message);
}

/* ------------------------------------------------------------ valid manifests */

static void test_minimal(void) {
        struct sfu_err err = SFU_ERR_INIT;
        _cleanup_manifest_ struct sfu_manifest *m = NULL;
        _cleanup_json_ json_t *j = NULL;
        const struct sfu_manifest_image *img;
        char hex[2 * SFU_DIGEST_MAX_SIZE + 1];
        json_t *ch;

        ok(sfu_manifest_parse_json(minimal_text, minimal_len, SFU_MANIFEST_MAX_SIZE, &m, &err) == 0 && m,
           "DESIGN section 5 minimal manifest accepted (%s)", err.message);
        if (!m)
                return;
        img = &m->images[0];
        is_str(m->manifest_version, "1.0", "manifestVersion");
        is_int(m->timestamp, 1795187535, "timestamp in seconds");
        is_str(m->timestamp_text, "2026-11-20T15:12:15Z", "timestamp text");
        is_str(m->manufacturer, "example.com", "manufacturer");
        is_str(m->model, "gw100", "model");
        ok(m->version.major == 10 && m->version.minor == 4 && m->version.revision == 12, "firmwareVersion 10.4.12");
        is_str(m->version_text, "10.4.12", "version text");
        ok(!m->has_expires && !m->split && m->n_images == 1, "no expires, single-image form, one image");
        is_str(img->name, "firmware", "the single image is called firmware");
        ok(img->slot_class == NULL, "single image has no slot class");
        is_str(img->location, "gw100-10.4.12.img", "relative location kept");
        ok(img->has_size && img->size == 10000, "firmwareSize");
        ok(img->n_digests == 2 && img->digest_mask == (SFU_DIGEST_MASK(SFU_DIGEST_SHA256) | SFU_DIGEST_MASK(SFU_DIGEST_SHA512)),
           "two digests, mask sha256|sha512");
        ok(image_digest_is(img, 0, SFU_DIGEST_SHA256, "manifest/gw100-10.4.12.img"),
           "sha256 equals the image file's digest and size");
        ok(image_digest_is(img, 1, SFU_DIGEST_SHA512, "manifest/gw100-10.4.12.img"), "sha512 equals the image file's");
        ok(!m->new_keys && m->n_revoked_kids == 0 && m->n_crit == 0, "no keyInfo, no crit");

        ok(sfu_manifest_to_json(m, &j) == 0, "to_json");
        ch = commit_hash(j);
        sfu_hex_encode(img->digests[0].value, 32, hex);
        ok(json_array_size(ch) == 2 && sfu_streq(json_string_value(json_object_get(json_array_get(ch, 0), "hash")), hex) &&
           sfu_streq(json_string_value(json_object_get(json_array_get(ch, 0), "digestAlgo")), "sha256"),
           "to_json carries the sha256 digest in hex");
        ok(json_integer_value(json_object_get(j, "firmwareSize")) == 10000 &&
           sfu_streq(json_string_value(json_object_get(j, "firmwareLocation")), "gw100-10.4.12.img") &&
           !json_object_get(j, "images") && !json_object_get(j, "expires") && !json_object_get(j, "crit"),
           "to_json: single-image members only");
        round_trip(m, "minimal");

        /* validate() on the model: every change below must be caught */
        ok(sfu_manifest_validate(m, NULL) == 0, "validate accepts the parsed model");
        m->images[0].digests[1].alg = SFU_DIGEST_SHA256;
        sfu_err_clear(&err);
        ok(sfu_manifest_validate(m, &err) < 0 && strstr(err.message, "repeated digest"), "validate: repeated digest (%s)",
           err.message);
        m->images[0].digests[1].alg = SFU_DIGEST_SHA512;
        m->n_images = 0;
        sfu_err_clear(&err);
        ok(sfu_manifest_validate(m, &err) < 0 && strstr(err.message, "0 images"), "validate: no image (%s)", err.message);
        m->n_images = 1;
        m->images[0].has_size = true;
        m->images[0].size = 0;
        sfu_err_clear(&err);
        ok(sfu_manifest_validate(m, &err) < 0 && strstr(err.message, "size"), "validate: size 0 (%s)", err.message);
        m->images[0].size = 10000;
        m->version.minor = 5;
        sfu_err_clear(&err);
        ok(sfu_manifest_validate(m, &err) < 0 && strstr(err.message, "firmwareVersion"),
           "validate: version and its text disagree (%s)", err.message);
        {
                json_t *unchanged = (json_t *) 0x1;
                ok(sfu_manifest_to_json(m, &unchanged) < 0 && unchanged == (json_t *) 0x1,
                   "to_json refuses an invalid model");
        }
        m->version.minor = 4;
        m->has_expires = true;
        m->expires = m->timestamp - 1;
        sfu_err_clear(&err);
        ok(sfu_manifest_validate(m, &err) < 0 && strstr(err.message, "earlier than"), "validate: expires before timestamp");
        m->has_expires = false;
        ok(sfu_manifest_validate(m, NULL) == 0, "validate accepts the model again after the changes are undone");
        ok(sfu_manifest_validate(NULL, NULL) == -EINVAL, "validate(NULL) is EINVAL");
        sfu_manifest_free(NULL);
}

static void test_split(void) {
        _cleanup_manifest_ struct sfu_manifest *m = accepted(split(), "split form (images)");
        _cleanup_json_ json_t *j = NULL;

        if (!m)
                return;
        ok(m->split && m->n_images == 2, "split, two images");
        is_str(m->images[0].name, "rootfs", "image 0 name");
        is_str(m->images[0].slot_class, "rootfs", "image 0 slot class");
        is_str(m->images[1].name, "boot", "image 1 name");
        is_str(m->images[1].slot_class, "boot", "image 1 slot class");
        is_str(m->images[1].location, "https://firmware.example.com/gw100/gw100-10.4.12-boot.img", "absolute https location");
        ok(image_digest_is(&m->images[0], 1, SFU_DIGEST_SHA512, "manifest/gw100-10.4.12.img"), "image 0 sha512 and size");
        ok(m->images[1].n_digests == 1 && image_digest_is(&m->images[1], 0, SFU_DIGEST_SHA384, "manifest/gw100-10.4.12-boot.img"),
           "image 1 has sha384 only, equal to the file's");
        is_int(m->timestamp, 1795244400, "timestamp 08:00:00.250+01:00 is 07:00:00Z");
        ok(m->has_expires && m->expires == 1810886400, "expires (%lld)", (long long) m->expires);
        ok(m->n_crit == 2 && sfu_streq(m->crit[0], "images") && sfu_streq(m->crit[1], "expires"), "crit kept in order");
        ok(sfu_manifest_to_json(m, &j) == 0 && json_array_size(json_object_get(j, "images")) == 2 &&
           !json_object_get(j, "firmwareLocation") &&
           sfu_streq(json_string_value(json_object_get(j, "expires")), "2027-05-21T08:00:00Z"),
           "to_json: images, expires, no single-image members");
        round_trip(m, "split");
}

static void test_key_info(void) {
        _cleanup_manifest_ struct sfu_manifest *m = accepted(load_doc("manifest/keyinfo.json"),
                                                             "keyInfo, crit, SHA256 upper case, md5 and blake3 beside it, "
                                                             "unknown member");
        if (!m)
                return;
        is_str(m->manifest_version, "1.1", "manifestVersion 1.1");
        ok(m->images[0].n_digests == 1 && m->images[0].digest_mask == SFU_DIGEST_MASK(SFU_DIGEST_SHA256) &&
           image_digest_is(&m->images[0], 0, SFU_DIGEST_SHA256, "manifest/gw100-10.4.12.img"),
           "only sha256 counts; its upper-case hex decoded");
        ok(!m->images[0].has_size, "no firmwareSize");
        ok(json_is_array(m->new_keys) && json_array_size(m->new_keys) == 1 &&
           sfu_streq(json_string_value(json_object_get(json_array_get(m->new_keys, 0), "kty")), "OKP"),
           "newKeys kept as a JSON array");
        ok(m->n_revoked_kids == 1 && sfu_streq(m->revoked_kids[0], "factory-2024"), "revokedKeys");
        ok(m->n_crit == 1 && sfu_streq(m->crit[0], "keyInfo"), "crit keyInfo");
        round_trip(m, "keyInfo");
}

static void test_accepted_variants(void) {
        static const char *const locations[] = {
                "fw.img", "../images/fw.img", "/firmware/gw100/fw.img", "//mirror.example.net/fw.img",
                "fw.img?token=abc&x=1#part", "HTTPS://Example.COM:8443/fw%20image.img",
                "http://[2001:db8::1]/fw.img", "http://user@host/fw.img", "./a:b.img",
        };
        json_t *doc;

        for (size_t i = 0; i < ELEMENTSOF(locations); i++)
                accepted_free(with(minimal(), "firmwareLocation", json_string(locations[i])), locations[i]);

        doc = minimal();
        json_array_append_new(commit_hash(doc), digest_entry("blake3", "zz-not-checked"));
        accepted_free(doc, "unknown digestAlgo beside sha256");
        doc = minimal();
        json_array_append_new(commit_hash(doc), digest_entry("sha1", "0123"));
        accepted_free(doc, "weak digest beside sha256 is ignored");
        doc = minimal();
        json_array_append_new(commit_hash(doc), digest_entry("sha384", "0123456789abcdef0123456789abcdef0123456789abcdef"
                                                                       "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"));
        accepted_free(doc, "sha384 added, mixed-case hex");
        accepted_free(without(minimal(), "firmwareSize"), "without firmwareSize");
        accepted_free(with(minimal(), "manifestVersion", json_string("1.999999999")), "manifestVersion 1.999999999");
        accepted_free(with(minimal(), "firmwareVersion", json_string("0.0.0")), "firmwareVersion 0.0.0");
        accepted_free(with(minimal(), "firmwareSize", json_integer(INT64_MAX)), "firmwareSize INT64_MAX");
        accepted_free(with(minimal(), "model", json_string("gw100 \xc3\xa9\xe2\x82\xac")), "model with spaces and UTF-8");
        accepted_free(with(minimal(), "timestamp", json_string("2026-11-20t15:12:15.123456-08:00")),
                      "lower-case t, fraction, negative offset");
        accepted_free(with(minimal(), "expires", json_string("2026-11-20T15:12:15Z")), "expires equal to timestamp");
        accepted_free(with(minimal(), "crit", json_pack("[s]", "firmwareSize")), "crit firmwareSize, present");
        accepted_free(with(minimal(), "futureMember", json_pack("{s:[i,i]}", "x", 1, 2)), "unknown member ignored");
        accepted_free(with(minimal(), "keyInfo", json_object()), "empty keyInfo");
        {
                /* 16 images, the most allowed */
                json_t *images = json_array(), *first;
                doc = split();
                first = json_array_get(json_object_get(doc, "images"), 0);
                for (int i = 0; i < SFU_MANIFEST_MAX_IMAGES; i++) {
                        json_t *img = json_deep_copy(first);
                        char name[16];
                        snprintf(name, sizeof(name), "part%d", i);
                        json_object_set_new(img, "name", json_string(name));
                        json_object_set_new(img, "slotClass", json_string(name));
                        json_array_append_new(images, img);
                }
                accepted_free(with(doc, "images", images), "16 images");
        }
}

/* ------------------------------------------------------------ refusals */

static void test_missing_and_types(void) {
        static const char *const required[] = { "manifestVersion", "timestamp", "manufacturer", "model",
                                                "firmwareVersion", "firmwareLocation", "firmwareCryptoInfo" };
        static const char *const strings[] = { "manifestVersion", "timestamp", "manufacturer", "model",
                                               "firmwareVersion", "firmwareLocation", "expires" };
        _cleanup_free_ char *long_string = tap_repeat('m', SFU_MANIFEST_MAX_STRING + 1);
        _cleanup_free_ char *max_string = tap_repeat('m', SFU_MANIFEST_MAX_STRING);
        _cleanup_free_ char *long_location = tap_repeat('l', SFU_MANIFEST_MAX_LOCATION + 1);
        char reason[128], desc[128], *text;
        json_t *doc;

        for (size_t i = 0; i < ELEMENTSOF(required); i++) {
                snprintf(reason, sizeof(reason), "manifest has no \"%s\"", required[i]);
                snprintf(desc, sizeof(desc), "missing %s", required[i]);
                /* firmwareLocation gone but firmwareSize/CryptoInfo still there: still the single form */
                refused(without(minimal(), required[i]), reason, desc);
        }
        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                snprintf(reason, sizeof(reason), "\"%s\" is not a string", strings[i]);
                snprintf(desc, sizeof(desc), "%s is a number", strings[i]);
                refused(with(minimal(), strings[i], json_integer(1)), reason, desc);
                snprintf(desc, sizeof(desc), "%s is null", strings[i]);
                refused(with(minimal(), strings[i], json_null()), reason, desc);
                snprintf(desc, sizeof(desc), "%s is an array", strings[i]);
                refused(with(minimal(), strings[i], json_pack("[s]", "1.0")), reason, desc);
        }
        refused(with(minimal(), "manufacturer", json_string("")), "\"manufacturer\" is empty", "empty manufacturer");
        refused(with(minimal(), "model", json_string("")), "\"model\" is empty", "empty model");
        refused(with(minimal(), "model", json_string(long_string)), "longer than 1024 bytes", "model of 1025 bytes");
        accepted_free(with(minimal(), "model", json_string(max_string)), "model of 1024 bytes");
        refused(with(minimal(), "model", json_string("gw\n100")), "\"model\" contains a control character",
                "newline in model");
        refused(with(minimal(), "manufacturer", json_string("ex\x7f" "ample")), "control character", "DEL in manufacturer");
        refused(with(minimal(), "manufacturer", json_string("ex\xc2\x85mple")), "control character",
                "C1 control (U+0085) in manufacturer");
        refused(with(minimal(), "firmwareLocation", json_string(long_location)), "longer than 4096 bytes",
                "location of 4097 bytes");

        refused(with(minimal(), "firmwareSize", json_string("10000")), "\"firmwareSize\" is not an integer",
                "firmwareSize as a string");
        refused(with(minimal(), "firmwareSize", json_real(10000.0)), "\"firmwareSize\" is not an integer",
                "firmwareSize as a JSON real (10000.0)");
        text = replace(minimal_text, "\"firmwareSize\": 10000", "\"firmwareSize\": 1e4");
        refused_text(text, "not an integer", "firmwareSize written 1e4");
        free(text);
        refused(with(minimal(), "firmwareSize", json_integer(0)), "not greater than zero", "firmwareSize 0");
        refused(with(minimal(), "firmwareSize", json_integer(-1)), "not greater than zero", "firmwareSize -1");
        refused(with(minimal(), "firmwareSize", json_true()), "not an integer", "firmwareSize true");
        text = replace(minimal_text, "\"firmwareSize\": 10000", "\"firmwareSize\": 18446744073709551615");
        refused_text(text, "invalid JSON", "firmwareSize beyond int64");
        free(text);
        refused(with(minimal(), "firmwareCryptoInfo", json_array()), "\"firmwareCryptoInfo\" is not an object",
                "firmwareCryptoInfo is an array");
        refused(with(minimal(), "firmwareCryptoInfo", json_object()), "has no \"firmwareCryptoInfo.commitHash\"",
                "firmwareCryptoInfo without commitHash");
        doc = minimal();
        json_object_set_new(json_object_get(doc, "firmwareCryptoInfo"), "commitHash", json_object());
        refused(doc, "\"firmwareCryptoInfo.commitHash\" is not an array", "commitHash is an object");
        refused_text("[]", "not an object", "top-level array");
        refused_text("\"manifest\"", "not an object", "top-level string");
        refused_text("", "invalid JSON", "empty input");
        refused_text("{}", "manifest has no \"manifestVersion\"", "empty object");
}

static void test_versions(void) {
        static const char *const bad[] = { "01.2.3", "1.2", "1.2.3.4", "1234567890.0.0", "-1.0.0", " 1.0.0",
                                           "1.0.0 ", "1.0.0-rc1", "v1.0.0", "1.0.01", "1..0", "+1.0.0" };
        static const char *const bad_manifest_versions[] = { "1", "01.0", "1.0.0", "v1.0", "1.", ".1", "1.01", "1.0 ",
                                                             "1.1234567890" };
        char desc[64];

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                snprintf(desc, sizeof(desc), "firmwareVersion \"%s\"", bad[i]);
                refused(with(minimal(), "firmwareVersion", json_string(bad[i])),
                        "\"firmwareVersion\" \"", desc);
        }
        refused(with(minimal(), "firmwareVersion", json_string("1234567890.0.0")),
                "is not a version MAJOR.MINOR.REVISION", "the reason explains the version form");
        for (size_t i = 0; i < ELEMENTSOF(bad_manifest_versions); i++) {
                snprintf(desc, sizeof(desc), "manifestVersion \"%s\"", bad_manifest_versions[i]);
                refused(with(minimal(), "manifestVersion", json_string(bad_manifest_versions[i])),
                        "is not of the form MAJOR.MINOR", desc);
        }
        refused(with(minimal(), "manifestVersion", json_string("2.0")), "2.0 is not supported: this device reads 1.x",
                "manifestVersion 2.0");
        refused(with(minimal(), "manifestVersion", json_string("0.9")), "not supported", "manifestVersion 0.9");
}

static void test_times(void) {
        static const char *const bad[] = { "2026-11-20 15:12:15Z", "2026-02-30T00:00:00Z", "2026-11-20T15:12:15",
                                           "2026-11-20", "yesterday", "2026-11-20T25:00:00Z", "2026-11-20T15:12:15+1:00",
                                           "1795187535", "2026-11-20T15:12:15.Z" };
        char desc[96];

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                snprintf(desc, sizeof(desc), "timestamp \"%s\"", bad[i]);
                refused(with(minimal(), "timestamp", json_string(bad[i])),
                        "\"timestamp\" \"", desc);
                snprintf(desc, sizeof(desc), "expires \"%s\"", bad[i]);
                refused(with(minimal(), "expires", json_string(bad[i])), "is not an RFC 3339 date-time", desc);
        }
        refused(with(minimal(), "timestamp", json_integer(1795187535)), "\"timestamp\" is not a string",
                "timestamp as a number");
        refused(with(minimal(), "expires", json_string("2026-11-20T15:12:14Z")), "\"expires\" is earlier than",
                "expires a second before the timestamp");
}

/* Where commit_hash_refused() puts its entries: over entry 0 or 1 (one
 * entry), after the entries there are, or instead of them. */
enum { AT_0, AT_1, APPEND, REPLACE };

/* refused(): minimal() with its commitHash changed by `entries` (a JSON
 * array, taken) put at the place `at`. */
static void commit_hash_refused(int at, json_t *entries, const char *reason, const char *desc) {
        json_t *doc = minimal(), *ch = commit_hash(doc);

        if (at == AT_0 || at == AT_1)
                json_array_set(ch, (size_t) at, json_array_get(entries, 0));
        else {
                if (at == REPLACE)
                        json_array_clear(ch);
                json_array_extend(ch, entries);
        }
        json_decref(entries);
        refused(doc, reason, desc);
}

static void test_digests(void) {
        _cleanup_free_ char *hex63 = tap_repeat('a', 63), *hex65 = tap_repeat('a', 65),
                            *hex64 = tap_repeat('a', 64);
        _cleanup_free_ char *nonhex = tap_repeat('a', 64), *hex128 = tap_repeat('b', 128);
        /* Entries of digestAlgo and hash (up to two), and the reason for the refusal. */
        const struct {
                int at;
                const char *algo, *hash, *algo2, *hash2, *reason, *desc;
        } cases[] = {
                {APPEND, "sha256", hex64, NULL, NULL, "names digestAlgo \"sha256\" twice",
                 "sha256 listed twice"},
                {APPEND, "SHA256", hex64, NULL, NULL, "names digestAlgo \"SHA256\" twice",
                 "sha256 and SHA256 (case-insensitive duplicate)"},
                {APPEND, "sha-256", hex64, NULL, NULL, "names digestAlgo sha256 twice",
                 "sha256 and sha-256 (one algorithm)"},
                {APPEND, "md5", "00", "MD5", "00", "names digestAlgo \"MD5\" twice",
                 "md5 twice (even ignored names may not repeat)"},
                {REPLACE, "md5", "d41d8cd98f00b204e9800998ecf8427e", "sha1",
                 "da39a3ee5e6b4b0d3255bfef95601890afd80709",
                 "has only weak digests (md5); a sha256, sha384 or sha512 digest is required",
                 "only md5 and sha1"},
                {REPLACE, "sha224", hex64, NULL, NULL, "only weak digests (sha224)",
                 "only sha224 (under 256 bits)"},
                {REPLACE, "blake3", hex64, NULL, NULL,
                 "unknown digestAlgo \"blake3\" and no sha256, sha384 or sha512 digest",
                 "unknown algo alone"},
                {REPLACE, "md5", "00", "sha3-512", hex128, "unknown digestAlgo \"sha3-512\"",
                 "unknown and weak, nothing supported"},
                {REPLACE, NULL, NULL, NULL, NULL, "\"firmwareCryptoInfo.commitHash\" is empty",
                 "empty commitHash"},
                {AT_0, "sha256", hex63, NULL, NULL, "is 63 characters long; a sha256 hash is 64 hex digits",
                 "short sha256 hash"},
                {AT_0, "sha256", hex65, NULL, NULL, "a sha256 hash is 64 hex digits", "long sha256 hash"},
                {AT_1, "sha512", hex64, NULL, NULL, "a sha512 hash is 128 hex digits",
                 "sha512 with 64 digits"},
                {AT_0, "sha256", nonhex, NULL, NULL,
                 "\"firmwareCryptoInfo.commitHash[0].hash\" is not hexadecimal", "non-hex sha256 hash"},
                {AT_0, "sha256", "", NULL, NULL, "commitHash[0].hash\" is empty", "empty hash"},
                {APPEND, "", "00", NULL, NULL, "digestAlgo\" is empty", "empty digestAlgo"},
        };
        /* Entries that are not a pair of strings, appended. */
        static const struct {
                const char *entry_json, *reason, *desc;
        } malformed[] = {
                {"\"sha384\"", "\"firmwareCryptoInfo.commitHash[2]\" is not an object",
                 "commitHash entry is a string"},
                {"{\"digestAlgo\": 256, \"hash\": \"00\"}", "commitHash[2].digestAlgo\" is not a string",
                 "digestAlgo is a number"},
                {"{\"digestAlgo\": \"sha384\", \"hash\": 0}", "commitHash[2].hash\" is not a string",
                 "hash is a number"},
                {"{\"digestAlgo\": \"sha384\"}", "has no \"firmwareCryptoInfo.commitHash[2].hash\"",
                 "entry without hash"},
                {"{\"hash\": \"00\"}", "has no \"firmwareCryptoInfo.commitHash[2].digestAlgo\"",
                 "entry without digestAlgo"},
        };
        json_t *entries;

        nonhex[10] = 'g';
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                entries = json_array();
                if (cases[i].algo)
                        json_array_append_new(entries, digest_entry(cases[i].algo, cases[i].hash));
                if (cases[i].algo2)
                        json_array_append_new(entries, digest_entry(cases[i].algo2, cases[i].hash2));
                commit_hash_refused(cases[i].at, entries, cases[i].reason, cases[i].desc);
        }
        entries = json_array();
        for (int i = 0; i < 15; i++) {
                char name[16];
                snprintf(name, sizeof(name), "x-%d", i);
                json_array_append_new(entries, digest_entry(name, "00"));
        }
        commit_hash_refused(APPEND, entries, "has more than 16 entries", "17 commitHash entries");
        for (size_t i = 0; i < ELEMENTSOF(malformed); i++) {
                json_t *entry = json_loads(malformed[i].entry_json, JSON_DECODE_ANY, NULL);
                if (!entry)
                        abort();
                commit_hash_refused(APPEND, json_pack("[o]", entry), malformed[i].reason, malformed[i].desc);
        }
}

static void test_locations(void) {
        static const struct {
                const char *location, *reason;
        } bad[] = {
                { "file:///etc/shadow", "uses the scheme \"file\"; only http and https are allowed" },
                { "FILE:/etc/shadow", "scheme \"FILE\"" },
                { "ftp://example.com/fw.img", "scheme \"ftp\"" },
                { "data:,abc", "scheme \"data\"" },
                { "javascript:alert(1)", "scheme \"javascript\"" },
                { "gopher://x/", "scheme \"gopher\"" },
                { "http://", "without a host" },
                { "https:///fw.img", "without a host" },
                { "http:fw.img", "without a host" },
                { "1http://x/fw.img", "not a valid URI reference" },
                { ":fw.img", "not a valid URI reference" },
                { "a_b:c", "not a valid URI reference" },
                { "fw image.img", "a URI may not contain" },
                { "fw\\image.img", "a URI may not contain" },
                { "fw\xc3\xa9.img", "a URI may not contain" },
                { "fw%zz.img", "a URI may not contain" },
                { "fw%4.img", "a URI may not contain" },
                { "fw\"x.img", "a URI may not contain" },
                { "fw<x>.img", "a URI may not contain" },
                { "fw\t.img", "control character" },
                { "", "\"firmwareLocation\" is empty" },
        };
        char desc[96];

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                snprintf(desc, sizeof(desc), "location \"%s\"", bad[i].location);
                for (char *p = desc; *p; p++)
                        if ((unsigned char) *p < 0x20)
                                *p = '?';
                refused(with(minimal(), "firmwareLocation", json_string(bad[i].location)), bad[i].reason, desc);
        }
}

static void test_crit(void) {
        refused(with(minimal(), "crit", json_pack("[s]", "fooExt")),
                "manifest crit names \"fooExt\", which this device does not understand", "unknown crit");
        refused(with(with(minimal(), "crit", json_pack("[s]", "fooExt")), "fooExt", json_true()),
                "which this device does not understand", "unknown crit, member present");
        refused(with(minimal(), "crit", json_pack("[ss]", "firmwareSize", "cborExt")),
                "crit names \"cborExt\"", "second crit entry unknown");
        refused(with(minimal(), "crit", json_pack("[s]", "manufacturer")), "crit names \"manufacturer\", which this device",
                "crit naming a base member");
        refused(with(without(minimal(), "manifestVersion"), "crit", json_pack("[s]", "fooExt")),
                "does not understand", "an unknown crit is reported before anything else");
        refused(with(minimal(), "crit", json_pack("[s]", "expires")),
                "crit names \"expires\", which the manifest does not contain", "crit names an absent extension");
        refused(with(minimal(), "crit", json_array()), "\"crit\" is an empty list", "empty crit");
        refused(with(minimal(), "crit", json_string("firmwareSize")), "\"crit\" is not an array", "crit is a string");
        refused(with(minimal(), "crit", json_pack("[i]", 1)), "\"crit[0]\" is not a string", "crit entry a number");
        refused(with(minimal(), "crit", json_pack("[ss]", "firmwareSize", "firmwareSize")),
                "crit names \"firmwareSize\" twice", "crit entry twice");
        refused(with(minimal(), "crit", json_pack("[s]", "Expires")), "does not understand", "crit is case-sensitive");
        {
                json_t *crit = json_array();
                for (int i = 0; i < SFU_MANIFEST_MAX_CRIT + 1; i++)
                        json_array_append_new(crit, json_string("firmwareSize"));
                refused(with(minimal(), "crit", crit), "more than 16 entries", "17 crit entries");
        }
}

static void test_forms(void) {
        json_t *doc, *images, *img;

        doc = split();
        refused(with(doc, "firmwareLocation", json_string("fw.img")),
                "manifest has both \"images\" and \"firmwareLocation\"", "both forms");
        doc = split();
        refused(with(doc, "firmwareCryptoInfo", json_object()), "both \"images\" and \"firmwareCryptoInfo\"",
                "images and firmwareCryptoInfo");
        doc = split();
        refused(with(doc, "firmwareSize", json_integer(1)), "both \"images\" and \"firmwareSize\"", "images and firmwareSize");
        doc = minimal();
        json_object_del(doc, "firmwareLocation");
        json_object_del(doc, "firmwareSize");
        json_object_del(doc, "firmwareCryptoInfo");
        refused(doc, "manifest has neither \"firmwareLocation\" nor \"images\"", "neither form");

        refused(with(split(), "images", json_array()), "\"images\" is empty", "empty images");
        refused(with(split(), "images", json_object()), "\"images\" is not an array", "images is an object");
        refused(with(split(), "images", json_pack("[s]", "rootfs")), "\"images[0]\" is not an object",
                "images entry is a string");

        doc = split();
        images = json_object_get(doc, "images");
        img = json_array_get(images, 1);
        json_object_set_new(img, "name", json_string("rootfs"));
        refused(doc, "names the image \"rootfs\" twice", "duplicate image name");
        doc = split();
        img = json_array_get(json_object_get(doc, "images"), 1);
        json_object_set_new(img, "slotClass", json_string("rootfs"));
        refused(doc, "images \"rootfs\" and \"boot\" both go to slot class \"rootfs\"", "two images, one slot class");
        {
                static const char *const members[] = { "name", "slotClass", "location", "size", "commitHash" };
                char reason[64], desc[64];
                for (size_t i = 0; i < ELEMENTSOF(members); i++) {
                        doc = split();
                        json_object_del(json_array_get(json_object_get(doc, "images"), 1), members[i]);
                        snprintf(reason, sizeof(reason), "has no \"images[1].%s\"", members[i]);
                        snprintf(desc, sizeof(desc), "image without %s", members[i]);
                        refused(doc, reason, desc);
                }
        }
        doc = split();
        json_object_set_new(json_array_get(json_object_get(doc, "images"), 0), "slotClass", json_string("root.fs"));
        refused(doc, "\"images[0].slotClass\" \"root.fs\" may hold only letters, digits, '_' and '-'", "slot class with a dot");
        doc = split();
        json_object_set_new(json_array_get(json_object_get(doc, "images"), 0), "size", json_real(1.5));
        refused(doc, "\"images[0].size\" is not an integer", "image size 1.5");
        doc = split();
        json_object_set_new(json_array_get(json_object_get(doc, "images"), 0), "size", json_integer(0));
        refused(doc, "\"images[0].size\" is not greater than zero", "image size 0");
        doc = split();
        json_object_set_new(json_array_get(json_object_get(doc, "images"), 1), "location", json_string("tftp://x/boot"));
        refused(doc, "\"images[1].location\" uses the scheme \"tftp\"", "image location tftp");
        doc = split();
        json_array_clear(json_object_get(json_array_get(json_object_get(doc, "images"), 1), "commitHash"));
        refused(doc, "\"images[1].commitHash\" is empty", "image with an empty commitHash");
        doc = split();
        images = json_object_get(doc, "images");
        while (json_array_size(images) <= SFU_MANIFEST_MAX_IMAGES) {
                char name[16];
                img = json_deep_copy(json_array_get(images, 0));
                snprintf(name, sizeof(name), "p%zu", json_array_size(images));
                json_object_set_new(img, "name", json_string(name));
                json_object_set_new(img, "slotClass", json_string(name));
                json_array_append_new(images, img);
        }
        refused(doc, "\"images\" has more than 16 entries", "17 images");
        refused(with(split(), "crit", json_pack("[s]", "firmwareSize")),
                "crit names \"firmwareSize\", which the manifest does not contain", "crit firmwareSize in split form");
}

static void test_key_info_refusals(void) {
        json_t *doc;
        json_t *jwk = json_pack("{s:s,s:s,s:s}", "kty", "OKP", "crv", "Ed25519", "x", "abc");

        refused(with(minimal(), "keyInfo", json_array()), "\"keyInfo\" is not an object", "keyInfo is an array");
        refused(with(minimal(), "keyInfo", json_pack("{s:o}", "newKeys", json_deep_copy(jwk))),
                "\"keyInfo.newKeys\" is not an array", "newKeys is an object");
        refused(with(minimal(), "keyInfo", json_pack("{s:[s]}", "newKeys", "key")),
                "\"keyInfo.newKeys[0]\" is not a JWK object", "newKeys entry is a string");
        refused(with(minimal(), "keyInfo", json_pack("{s:[{s:s}]}", "newKeys", "crv", "P-256")),
                "\"keyInfo.newKeys[0]\" has no \"kty\" string", "JWK without kty");
        refused(with(minimal(), "keyInfo", json_pack("{s:[{s:i}]}", "newKeys", "kty", 1)), "has no \"kty\" string",
                "JWK with a numeric kty");
        refused(with(minimal(), "keyInfo", json_pack("{s:[{s:s,s:s}]}", "newKeys", "kty", "EC", "d", "secret")),
                "\"keyInfo.newKeys[0]\" holds private key material (\"d\")", "JWK with a private part");
        refused(with(minimal(), "keyInfo", json_pack("{s:[{s:s,s:s}]}", "newKeys", "kty", "oct", "k", "secret")),
                "private key material (\"k\")", "symmetric JWK");
        refused(with(minimal(), "keyInfo", json_pack("{s:s}", "revokedKeys", "kid")),
                "\"keyInfo.revokedKeys\" is not an array", "revokedKeys is a string");
        refused(with(minimal(), "keyInfo", json_pack("{s:[i]}", "revokedKeys", 3)),
                "\"keyInfo.revokedKeys[0]\" is not a string", "revoked kid is a number");
        refused(with(minimal(), "keyInfo", json_pack("{s:[s]}", "revokedKeys", "")),
                "\"keyInfo.revokedKeys[0]\" is empty", "empty revoked kid");
        doc = with(minimal(), "keyInfo", json_pack("{s:[]}", "newKeys"));
        for (int i = 0; i <= SFU_MANIFEST_MAX_KEYS; i++)
                json_array_append(json_object_get(json_object_get(doc, "keyInfo"), "newKeys"), jwk);
        refused(doc, "\"keyInfo.newKeys\" has more than 16 entries", "17 new keys");
        doc = with(minimal(), "keyInfo", json_pack("{s:[]}", "revokedKeys"));
        for (int i = 0; i <= SFU_MANIFEST_MAX_KEYS; i++)
                json_array_append_new(json_object_get(json_object_get(doc, "keyInfo"), "revokedKeys"), json_string("k"));
        refused(doc, "\"keyInfo.revokedKeys\" has more than 16 entries", "17 revoked kids");
        refused(with(with(minimal(), "keyInfo", json_object()), "crit", json_pack("[s]", "keyInfo")),
                "crit names \"keyInfo\", which the manifest does not contain", "crit keyInfo with an empty keyInfo");
        json_decref(jwk);
}

static void test_raw_text(void) {
        _cleanup_free_ char *big = NULL, *deep = NULL;
        size_t big_len = 10u * 1024u * 1024u;
        char *t;

        /* minimal.json with one text replaced, and the reason it is refused */
        static const struct {
                const char *from, *to, *reason, *desc;
        } edits[] = {
                {"\"model\": \"gw100\",", "\"model\": \"gw100\", \"model\": \"gw200\",",
                 "duplicate object key", "duplicate model member"},
                {"\"model\": \"gw100\",", "\"model\": \"gw100\", \"model\": \"gw100\",",
                 "duplicate object key", "duplicate member with the same value"},
                {"{ \"digestAlgo\": \"sha256\",", "{ \"digestAlgo\": \"sha256\", \"digestAlgo\": \"md5\",",
                 "duplicate object key", "duplicate digestAlgo member inside an entry"},
                {"\"example.com\"", "\"example\\u0000.com\"", "u0000", "escaped NUL in manufacturer"},
                {"\"gw100\"",
                 "\"gw\xff"
                 "100\"",
                 "invalid JSON", "invalid UTF-8 in model"},
                {"\"gw100\"",
                 "\"gw\xed\xa0\x80"
                 "100\"",
                 "invalid JSON", "UTF-8 surrogate in model"},
                {"\"gw100\"", "\"gw\\ud800\"", "invalid JSON", "lone surrogate escape in model"},
                {"\"firmwareVersion\"",
                 "\"x\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]], "
                 "\"firmwareVersion\"",
                 "nested deeper than 32 levels", "deep nesting in an unknown member"},
        };
        for (size_t i = 0; i < ELEMENTSOF(edits); i++) {
                t = replace(minimal_text, edits[i].from, edits[i].to);
                refused_text(t, edits[i].reason, edits[i].desc);
                free(t);
        }
        if (asprintf(&t, "%s trailing", minimal_text) < 0)
                abort();
        refused_text(t, "invalid JSON", "trailing garbage");
        free(t);
        refused_text_n(minimal_text, minimal_len - 2, SFU_MANIFEST_MAX_SIZE, SFU_ERR_PARSE, "invalid JSON",
                       "truncated document");
        {
                char *with_nul = malloc(minimal_len + 8);
                memcpy(with_nul, minimal_text, minimal_len);
                memcpy(with_nul + minimal_len, "\0{\"a\":1}", 8);
                refused_text_n(with_nul, minimal_len + 8, SFU_MANIFEST_MAX_SIZE, SFU_ERR_PARSE, "NUL byte",
                               "raw NUL and more after the document");
                free(with_nul);
        }

        /* 10 MB: refused by size before any parsing */
        big = malloc(big_len);
        if (!big)
                abort();
        memset(big, ' ', big_len);
        memcpy(big, minimal_text, minimal_len);
        refused_text_n(big, big_len, SFU_MANIFEST_MAX_SIZE, SFU_ERR_SIZE,
                       "manifest of 10485760 bytes exceeds the limit of 1048576 bytes", "10 MB manifest");
        refused_text_n(big, big_len, SIZE_MAX, SFU_ERR_SIZE, "exceeds the limit of 1048576 bytes",
                       "a max_size above the hard cap does not raise it");
        refused_text_n(big, SFU_MANIFEST_MAX_SIZE + 1, SFU_MANIFEST_MAX_SIZE, SFU_ERR_SIZE, "exceeds",
                       "one byte over the hard cap");
        {
                struct sfu_err err = SFU_ERR_INIT;
                _cleanup_manifest_ struct sfu_manifest *m = NULL;
                ok(parse_n(big, SFU_MANIFEST_MAX_SIZE, SFU_MANIFEST_MAX_SIZE, &m, &err) == 0,
                   "exactly the hard cap (trailing white space) is accepted (%s)", err.message);
        }
        refused_text_n(minimal_text, minimal_len, minimal_len - 1, SFU_ERR_SIZE, "exceeds the limit",
                       "a lower max_size (from the configuration) is honoured");
        {
                struct sfu_err err = SFU_ERR_INIT;
                _cleanup_manifest_ struct sfu_manifest *m = NULL;
                ok(parse_n(minimal_text, minimal_len, minimal_len, &m, &err) == 0, "max_size equal to the length");
        }
        deep = malloc(40000);
        if (!deep)
                abort();
        memset(deep, '[', 40000);
        deep[0] = '{';
        refused_text_n(deep, 40000, SFU_MANIFEST_MAX_SIZE, SFU_ERR_PARSE, "nested deeper", "40000 open brackets");
}

/* ------------------------------------------------------------ delta */

#define DELTA_SHA "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static json_t *delta_member(void) {
        return json_pack("{s:s, s:s, s:i, s:i, s:s, s:i}", "format", "zchunk", "location", "rootfs.img.zck", "size",
                         200000, "headerSize", 5000, "headerSha256", DELTA_SHA, "chunkSize", 16384);
}

static json_t *split_delta(json_t *member) {
        json_t *doc = split();
        json_object_set_new(json_array_get(json_object_get(doc, "images"), 0), "delta", member);
        return doc;
}

static json_t *delta_with(const char *key, json_t *value) {
        json_t *e = delta_member();
        if (value)
                json_object_set_new(e, key, value);
        else
                json_object_del(e, key);
        return e;
}

static void test_delta(void) {
        struct sfu_manifest *m;
        json_t *j = NULL, *doc;

        m = accepted(split_delta(delta_member()), "images[0].delta");
        ok(m && m->images[0].delta.present && !m->images[1].delta.present &&
                   sfu_streq(m->images[0].delta.location, "rootfs.img.zck") && m->images[0].delta.size == 200000 &&
                   m->images[0].delta.header_size == 5000 && m->images[0].delta.chunk_size == 16384 &&
                   m->images[0].delta.header_sha256[0] == 0x00 && m->images[0].delta.header_sha256[31] == 0xff,
           "the model has the image's delta");
        ok(m && sfu_manifest_to_json(m, &j) == 0 &&
                   sfu_streq(json_string_value(json_object_get(json_object_get(json_array_get(json_object_get(j, "images"), 0),
                                                                               "delta"),
                                                               "headerSha256")),
                             DELTA_SHA),
           "to_json shows the delta");
        json_decref(j);
        sfu_manifest_free(m);

        doc = minimal();
        json_object_set_new(doc, "firmwareDelta", delta_member());
        m = accepted(doc, "firmwareDelta in the single-image form");
        ok(m && m->images[0].delta.present, "single-image delta in the model");
        sfu_manifest_free(m);
        doc = minimal();
        json_object_del(doc, "firmwareSize");
        json_object_set_new(doc, "firmwareDelta", delta_member());
        refused(doc, "a delta needs the image's size", "firmwareDelta without firmwareSize");

        refused(split_delta(json_string("x")), "\"images[0].delta\" is not an object", "delta not an object");
        refused(split_delta(delta_with("x-extra", json_true())), "which this device does not understand",
                "an unknown delta member");
        refused(split_delta(delta_with("format", json_string("xdelta"))), "is not supported (zchunk is)",
                "another format");
        refused(split_delta(delta_with("location", NULL)), "has no \"images[0].delta.location\"", "no location");
        refused(split_delta(delta_with("location", json_string("tftp://x/y.zck"))), "uses the scheme \"tftp\"",
                "a tftp location");
        refused(split_delta(delta_with("headerSha256", json_string("0011"))), "is not 64 hexadecimal digits",
                "a short header digest");
        refused(split_delta(delta_with("headerSha256", NULL)), "has no \"images[0].delta.headerSha256\"",
                "no header digest");
        refused(split_delta(delta_with("headerSize", json_integer(200000))), "does not fit",
                "a header as large as the file");
        refused(split_delta(delta_with("headerSize", json_integer(0))), "not an integer greater than zero",
                "a header of 0 bytes");
        refused(split_delta(delta_with("headerSize", json_integer(40 * 1024 * 1024))), "does not fit",
                "a header over the cap");
        refused(split_delta(delta_with("chunkSize", json_integer(1000))), "chunkSize is not a multiple",
                "a chunk size that is not a multiple of 4096");
        refused(split_delta(delta_with("chunkSize", json_integer(8 * 1024 * 1024))), "chunkSize is not a multiple",
                "a chunk size over 4 MiB");
        refused(split_delta(delta_with("size", json_string("1"))), "not an integer greater than zero",
                "a size as a string");
}

/* ------------------------------------------------------------ encryption */

#define ENC_KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"   /* bytes 00..1f */
#define ENC_PREFIX "oKGio6Slpg"                                  /* bytes a0..a6 */

/* An "encryption" member for a plaintext of 10000 bytes, 64 KiB segments. */
static json_t *enc_member(void) {
        return json_pack("{s:s, s:s, s:s, s:i, s:i}", "alg", "A256GCM-STREAM", "key", ENC_KEY, "noncePrefix", ENC_PREFIX,
                         "segmentSize", 65536, "size", 10016);
}

/* split.json with images[0].encryption set to member (taken). */
static json_t *split_enc(json_t *member) {
        json_t *doc = split();
        json_object_set_new(json_array_get(json_object_get(doc, "images"), 0), "encryption", member);
        return doc;
}

static json_t *enc_with(const char *key, json_t *value) {
        json_t *e = enc_member();
        if (value)
                json_object_set_new(e, key, value);
        else
                json_object_del(e, key);
        return e;
}

static void test_encryption(void) {
        struct sfu_manifest *m;
        json_t *j = NULL, *e;
        bool key_ok = true, prefix_ok = true;

        m = accepted(split_enc(enc_member()), "images[0].encryption");
        ok(m && m->images[0].encryption.present && !m->images[1].encryption.present &&
                   m->images[0].encryption.size == 10016 && m->images[0].encryption.params.segment_size == 65536,
           "the model has the image's encryption");
        for (size_t i = 0; m && i < 32; i++)
                key_ok = key_ok && m->images[0].encryption.params.key[i] == i;
        for (size_t i = 0; m && i < 7; i++)
                prefix_ok = prefix_ok && m->images[0].encryption.params.nonce_prefix[i] == 0xa0 + i;
        ok(m && key_ok && prefix_ok, "key and nonce prefix decoded");
        ok(m && m->images[0].has_size && m->images[0].size == 10000, "the image's size and digests stay the plaintext's");
        ok(m && sfu_manifest_to_json(m, &j) == 0, "to_json");
        e = json_object_get(json_array_get(json_object_get(j, "images"), 0), "encryption");
        ok(e && !json_object_get(e, "key") && sfu_streq(json_string_value(json_object_get(e, "noncePrefix")), ENC_PREFIX) &&
                   json_integer_value(json_object_get(e, "size")) == 10016 &&
                   sfu_streq(json_string_value(json_object_get(e, "alg")), "A256GCM-STREAM"),
           "to_json shows the encryption without its key");
        json_decref(j);
        j = NULL;
        sfu_manifest_free(m);

        /* crit may name it when an image has it */
        json_t *doc = split_enc(enc_member());
        json_array_append_new(json_object_get(doc, "crit"), json_string("encryption"));
        m = accepted(doc, "crit names encryption");
        ok(m && m->n_crit == 3, "crit kept");
        sfu_manifest_free(m);
        doc = split();
        json_array_append_new(json_object_get(doc, "crit"), json_string("encryption"));
        refused(doc, "crit names \"encryption\", which the manifest does not contain", "crit encryption, no image encrypted");

        /* the single-image form: firmwareCryptoInfo.encryption */
        doc = minimal();
        json_object_set_new(json_object_get(doc, "firmwareCryptoInfo"), "encryption", enc_member());
        json_object_set_new(doc, "firmwareSize", json_integer(10000));
        json_object_set_new(doc, "crit", json_pack("[s]", "encryption"));
        m = accepted(doc, "firmwareCryptoInfo.encryption with firmwareSize");
        ok(m && m->images[0].encryption.present, "single-image encryption in the model");
        ok(m && sfu_manifest_to_json(m, &j) == 0 &&
                   json_object_get(json_object_get(j, "firmwareCryptoInfo"), "encryption") &&
                   !json_object_get(json_object_get(json_object_get(j, "firmwareCryptoInfo"), "encryption"), "key"),
           "to_json: firmwareCryptoInfo.encryption without key");
        json_decref(j);
        sfu_manifest_free(m);
        doc = without(minimal(), "firmwareSize");
        json_object_set_new(json_object_get(doc, "firmwareCryptoInfo"), "encryption", enc_member());
        accepted_free(doc, "firmwareCryptoInfo.encryption without firmwareSize");
        doc = minimal();
        json_object_set_new(json_object_get(doc, "firmwareCryptoInfo"), "encryption", enc_member());
        json_object_set_new(doc, "firmwareSize", json_integer(10001));
        refused(doc, "encryption size 10016 does not fit its size 10001 (10017 expected)", "single image, sizes disagree");
        doc = minimal();
        json_object_set_new(json_object_get(doc, "firmwareCryptoInfo"), "encryption", json_string("yes"));
        refused(doc, "\"firmwareCryptoInfo.encryption\" is not an object", "encryption not an object");

        /* each member */
        refused(split_enc(enc_with("x-mode", json_string("cbc"))),
                "\"images[0].encryption\" has the member \"x-mode\", which this device does not understand", "unknown member");
        refused(split_enc(enc_with("alg", json_string("A128GCM-STREAM"))),
                "\"images[0].encryption.alg\" \"A128GCM-STREAM\" is not supported (A256GCM-STREAM is)", "another alg");
        refused(split_enc(enc_with("alg", NULL)), "manifest has no \"encryption.alg\"", "no alg");
        refused(split_enc(enc_with("key", NULL)), "no \"images[0].encryption.key\"", "no key");
        refused(split_enc(enc_with("key", json_string("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg"))),
                "\"images[0].encryption.key\" is not 32 bytes of base64url", "a 31-byte key");
        refused(split_enc(enc_with("key", json_string(ENC_KEY "="))), "is not 32 bytes of base64url", "a padded key");
        refused(split_enc(enc_with("key", json_integer(5))), "\"images[0].encryption.key\" is not a string", "key a number");
        refused(split_enc(enc_with("noncePrefix", json_string("oKGio6SlpqA"))),
                "\"images[0].encryption.noncePrefix\" is not 7 bytes of base64url", "an 8-byte nonce prefix");
        refused(split_enc(enc_with("noncePrefix", NULL)), "no \"images[0].encryption.noncePrefix\"", "no nonce prefix");
        refused(split_enc(enc_with("segmentSize", json_integer(63))), "segmentSize\" is outside 64 to 4194304 bytes",
                "a 63-byte segment");
        refused(split_enc(enc_with("segmentSize", json_integer(4194305))), "is outside 64 to 4194304 bytes",
                "a segment over 4 MiB");
        refused(split_enc(enc_with("segmentSize", json_string("65536"))), "segmentSize\" is not an integer",
                "segmentSize a string");
        refused(split_enc(enc_with("size", json_integer(0))), "\"images[0].encryption.size\" is not an integer greater than zero",
                "size 0");
        refused(split_enc(enc_with("size", json_integer(10015))), "encryption size 10015 does not fit its size 10000",
                "size one short");
        refused(split_enc(enc_with("size", NULL)), "no \"images[0].encryption.size\"", "no size");
        doc = minimal();
        json_object_set_new(json_object_get(doc, "firmwareCryptoInfo"), "encryption",
                            enc_with("size", json_integer(65552 + 16)));
        refused(doc, "is not a possible ciphertext size with 65536-byte segments", "an impossible ciphertext size");
        /* 10000 bytes in 64-byte segments: 157 segments */
        e = enc_with("segmentSize", json_integer(64));
        json_object_set_new(e, "size", json_integer(10000 + 157 * 16));
        accepted_free(split_enc(e), "64-byte segments, size 10000 + 157 * 16");
}

int main(void) {
        minimal_text = tap_read_file(tap_data("manifest/minimal.json"), &minimal_len);

        test_minimal();
        test_split();
        test_key_info();
        test_accepted_variants();
        test_missing_and_types();
        test_versions();
        test_times();
        test_digests();
        test_locations();
        test_crit();
        test_forms();
        test_key_info_refusals();
        test_raw_text();
        test_encryption();
        test_delta();

        free(minimal_text);
        return tap_done();
}
