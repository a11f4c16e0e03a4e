/* SPDX-License-Identifier: MIT */
/* JSON front end and model checks of the SecFU manifest (doc/manifest.md).
 * Every message names the member it is about ("images[1].commitHash[0]"),
 * and quotes manifest text only after that text is known to be free of
 * control characters, shortened on a UTF-8 character boundary, so that a
 * message stays one line of valid text. */
#include <inttypes.h>
#include <strings.h>

#include "core/cbor.h"
#include "core/hex.h"
#include "core/json.h"
#include "core/manifest-internal.h"
#include "core/timeutil.h"

#define MANIFEST_MAX_ALGO_NAME 64       /* length of a digestAlgo value */

/* The extensions of doc/manifest.md that this implementation understands
 * and that a manifest may therefore list in "crit". */
static const char *const understood_extensions[] = { "firmwareSize", "expires", "images", "keyInfo", "rollbackFloor",
                                                             "providers", "encryption" };

/* JWK members that carry private key material (RFC 7518 section 6). */
static const char *const jwk_private_members[] = { "d", "p", "q", "dp", "dq", "qi", "oth", "k" };

static int oom(struct sfu_err *err) {
        return sfu_err_set(err, SFU_ERR_PARSE, ENOMEM, "out of memory while reading the manifest");
}

/* How many bytes of s to quote: at most EXCERPT_MAX, not cutting a UTF-8
 * sequence in two. */
int sfu_manifest_excerpt(const char *s) {
        size_t n = strlen(s);

        if (n <= EXCERPT_MAX)
                return (int) n;
        n = EXCERPT_MAX;
        while (n > 0 && ((unsigned char) s[n] & 0xc0) == 0x80)
                n--;
        return (int) n;
}

/* True when s holds a C0 control character, DEL, or a C1 control character
 * (U+0080..U+009F, in UTF-8 0xc2 0x80..0x9f).  s is valid UTF-8. */
static bool has_control(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p < 0x20 || *p == 0x7f)
                        return true;
                if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
                        return true;
        }
        return false;
}

/* A text field: non-empty, at most max bytes, no control characters. */
int sfu_manifest_check_text(const char *what, const char *s, size_t max, struct sfu_err *err) {
        size_t len;

        if (!s)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest has no \"%s\"", what);
        len = strlen(s);
        if (len == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s\" is empty", what);
        if (len > max)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s\" is longer than %zu bytes",
                                   what, max);
        if (has_control(s))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s\" contains a control character",
                                   what);
        return 0;
}

/* A string member of obj that passes sfu_manifest_check_text().  *ret is NULL (and 0
 * returned) when the member is absent and not required. */
int sfu_manifest_get_positive(json_t *obj, const char *path, const char *key, uint64_t *ret,
                              struct sfu_err *err) {
        json_t *v = json_object_get(obj, key);

        if (!v)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest has no \"%s.%s\"", path, key);
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s.%s\" is not an integer greater than zero",
                                   path, key);
        *ret = (uint64_t) json_integer_value(v);
        return 0;
}

int sfu_manifest_check_members(json_t *obj, const char *path, const char *const *members, size_t n,
                               struct sfu_err *err) {
        const char *key;
        json_t *v;

        if (!json_is_object(obj))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s\" is not an object", path);
        json_object_foreach(obj, key, v) {
                bool known = false;
                for (size_t i = 0; i < n; i++)
                        known = known || strcmp(key, members[i]) == 0;
                if (!known)
                        return sfu_err_set(err, SFU_ERR_PARSE, EOPNOTSUPP,
                                           "manifest \"%s\" has the member \"%.*s\", which this device does not understand",
                                           path, sfu_manifest_excerpt(key), key);
        }
        return 0;
}

int sfu_manifest_get_text(json_t *obj, const char *key, const char *what, bool required, size_t max,
                          const char **ret, struct sfu_err *err) {
        json_t *v = json_object_get(obj, key);
        const char *s;
        int r;

        if (!v) {
                if (required)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest has no \"%s\"", what);
                *ret = NULL;
                return 0;
        }
        if (!json_is_string(v))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s\" is not a string", what);
        s = json_string_value(v);
        r = sfu_manifest_check_text(what, s, max, err);
        if (r < 0)
                return r;
        *ret = s;
        return 0;
}

int sfu_manifest_dup_text(const char *s, char **ret, struct sfu_err *err) {
        char *copy = strdup(s);
        if (!copy)
                return oom(err);
        *ret = copy;
        return 0;
}

static bool is_ascii_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool is_ascii_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* "MAJOR.MINOR" with 1..9 digits each and no leading zeros; this device
 * reads major version 1. */
int sfu_manifest_check_version_field(const char *s, struct sfu_err *err) {
        const char *p = s;
        size_t n;
        int r;

        r = sfu_manifest_check_text("manifestVersion", s, SFU_MANIFEST_MAX_STRING, err);
        if (r < 0)
                return r;
        for (int part = 0; part < 2; part++) {
                for (n = 0; is_ascii_digit(p[n]); n++)
                        ;
                if (n == 0 || n > 9 || (n > 1 && p[0] == '0') || p[n] != (part == 0 ? '.' : 0))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "manifest \"manifestVersion\" \"%.*s\" is not of the form MAJOR.MINOR",
                                           sfu_manifest_excerpt(s), s);
                p += n + 1;
        }
        if (strncmp(s, "1.", 2) != 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "manifest \"manifestVersion\" %.*s is not supported: this device reads 1.x",
                                   sfu_manifest_excerpt(s), s);
        return 0;
}

/* A slot class as configured ([slot.CLASS.N]): letters, digits, '_', '-'. */
int sfu_manifest_check_slot_class(const char *what, const char *s, struct sfu_err *err) {
        int r = sfu_manifest_check_text(what, s, SFU_MANIFEST_MAX_STRING, err);
        if (r < 0)
                return r;
        for (const char *p = s; *p; p++)
                if (!is_ascii_alpha(*p) && !is_ascii_digit(*p) && *p != '_' && *p != '-')
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "manifest \"%s\" \"%.*s\" may hold only letters, digits, '_' and '-'",
                                           what, sfu_manifest_excerpt(s), s);
        return 0;
}

static bool is_hex(char c) {
        return is_ascii_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 3986 characters: unreserved, reserved, and '%' before two hex
 * digits. */
static bool uri_char_ok(const char *p) {
        if (*p == '%')
                return is_hex(p[1]) && is_hex(p[2]);
        return is_ascii_alpha(*p) || is_ascii_digit(*p) || strchr("-._~:/?#[]@!$&'()*+,;=", *p);
}

/* An absolute http(s) URI or a relative reference (RFC 3986 section 4.1);
 * doc/manifest.md, firmwareLocation. */
int sfu_manifest_check_location(const char *what, const char *s, struct sfu_err *err) {
        size_t scheme_len;
        int r;

        r = sfu_manifest_check_text(what, s, SFU_MANIFEST_MAX_LOCATION, err);
        if (r < 0)
                return r;
        for (const char *p = s; *p; p++)
                if (!uri_char_ok(p))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "manifest \"%s\" has a character that a URI may not contain "
                                           "(spaces and non-ASCII must be percent-encoded)", what);
        /* A ':' before the first '/', '?' or '#' ends a scheme; a relative
         * reference cannot have one there (RFC 3986 section 4.2). */
        scheme_len = strcspn(s, ":/?#");
        if (s[scheme_len] != ':')
                return 0;
        if (scheme_len == 0 || !is_ascii_alpha(s[0]))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s\" is not a valid URI reference",
                                   what);
        for (size_t i = 1; i < scheme_len; i++)
                if (!is_ascii_alpha(s[i]) && !is_ascii_digit(s[i]) && !strchr("+-.", s[i]))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "manifest \"%s\" is not a valid URI reference", what);
        if (!((scheme_len == 4 && strncasecmp(s, "http", 4) == 0) ||
              (scheme_len == 5 && strncasecmp(s, "https", 5) == 0)))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "manifest \"%s\" uses the scheme \"%.*s\"; only http and https are allowed",
                                   what, (int) (scheme_len < EXCERPT_MAX ? scheme_len : EXCERPT_MAX), s);
        /* "http:" must go on with "//" and a host */
        if (strncmp(s + scheme_len + 1, "//", 2) != 0 || strchr("/?#", s[scheme_len + 3]))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s\" is an http(s) URI without a host",
                                   what);
        return 0;
}

/* A byte count: a JSON integer (not a real) greater than zero. */
static int get_size(json_t *obj, const char *key, const char *what, bool required, uint64_t *ret,
                    bool *ret_present, struct sfu_err *err) {
        json_t *v = json_object_get(obj, key);

        if (!v) {
                if (required)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest has no \"%s\"", what);
                *ret_present = false;
                return 0;
        }
        if (!json_is_integer(v))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s\" is not an integer", what);
        if (json_integer_value(v) <= 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s\" is not greater than zero",
                                   what);
        *ret = (uint64_t) json_integer_value(v);
        *ret_present = true;
        return 0;
}

static int get_time(json_t *obj, const char *key, bool required, const char **ret_text, int64_t *ret,
                    struct sfu_err *err) {
        const char *s = NULL;
        int64_t t;
        int r;

        r = sfu_manifest_get_text(obj, key, key, required, SFU_MANIFEST_MAX_STRING, &s, err);
        if (r < 0)
                return r;
        if (!s) {
                *ret_text = NULL;
                return 0;
        }
        if (sfu_time_parse_rfc3339(s, false, &t) < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "manifest \"%s\" \"%.*s\" is not an RFC 3339 date-time such as 2026-11-20T15:12:15Z",
                                   key, sfu_manifest_excerpt(s), s);
        *ret_text = s;
        *ret = t;
        return 0;
}

/* commitHash: [{"digestAlgo": NAME, "hash": HEX}, ...] into img->digests.
 * Each name at most once (case-insensitively); sha256/384/512 must carry
 * hex of their exact length; weak names never count; unknown names are
 * tolerated only beside at least one supported digest. */
static int parse_commit_hash(json_t *list, const char *path, struct sfu_manifest_image *img,
                             struct sfu_err *err) {
        const char *seen[MANIFEST_MAX_DIGEST_ENTRIES];
        const char *first_unknown = NULL, *first_weak = NULL;
        size_t n;
        int r;

        if (!json_is_array(list))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s\" is not an array", path);
        n = json_array_size(list);
        if (n == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s\" is empty", path);
        if (n > MANIFEST_MAX_DIGEST_ENTRIES)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s\" has more than %d entries",
                                   path, MANIFEST_MAX_DIGEST_ENTRIES);

        for (size_t i = 0; i < n; i++) {
                json_t *entry = json_array_get(list, i);
                char what[MANIFEST_PATH_MAX];
                const char *algo = NULL, *hash = NULL;
                enum sfu_digest_alg alg;

                snprintf(what, sizeof(what), "%s[%zu]", path, i);
                if (!json_is_object(entry))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s\" is not an object", what);
                snprintf(what, sizeof(what), "%s[%zu].digestAlgo", path, i);
                r = sfu_manifest_get_text(entry, "digestAlgo", what, true, MANIFEST_MAX_ALGO_NAME, &algo, err);
                if (r < 0)
                        return r;
                snprintf(what, sizeof(what), "%s[%zu].hash", path, i);
                r = sfu_manifest_get_text(entry, "hash", what, true, SFU_MANIFEST_MAX_STRING, &hash, err);
                if (r < 0)
                        return r;

                for (size_t j = 0; j < i; j++)
                        if (strcasecmp(seen[j], algo) == 0)
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                                   "manifest \"%s\" names digestAlgo \"%.*s\" twice", path,
                                                   sfu_manifest_excerpt(algo), algo);
                seen[i] = algo;

                if (sfu_digest_from_name(algo, &alg) >= 0) {
                        struct sfu_manifest_digest *d;
                        size_t want = 2 * sfu_digest_size(alg);

                        /* "sha256" and "SHA-256" are one algorithm */
                        if (img->digest_mask & SFU_DIGEST_MASK(alg))
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                                   "manifest \"%s\" names digestAlgo %s twice", path,
                                                   sfu_digest_name(alg));
                        if (strlen(hash) != want)
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                                   "manifest \"%s\" is %zu characters long; a %s hash is %zu hex digits (%zu bytes)",
                                                   what, strlen(hash), sfu_digest_name(alg), want, want / 2);
                        d = &img->digests[img->n_digests];
                        if (sfu_hex_decode(hash, d->value, sfu_digest_size(alg)) < 0)
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                                   "manifest \"%s\" is not hexadecimal", what);
                        d->alg = alg;
                        img->n_digests++;
                        img->digest_mask |= SFU_DIGEST_MASK(alg);
                } else if (sfu_digest_name_is_weak(algo)) {
                        if (!first_weak)
                                first_weak = algo;
                } else if (!first_unknown)
                        first_unknown = algo;
        }

        if (img->n_digests > 0)
                return 0;
        if (first_unknown)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "manifest \"%s\" has the unknown digestAlgo \"%.*s\" and no sha256, sha384 or sha512 digest",
                                   path, sfu_manifest_excerpt(first_unknown), first_unknown);
        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                           "manifest \"%s\" has only weak digests (%.*s); a sha256, sha384 or sha512 digest is required",
                           path, sfu_manifest_excerpt(first_weak), first_weak);
}

static int parse_single(json_t *root, struct sfu_manifest *m, struct sfu_err *err) {
        struct sfu_manifest_image *img = &m->images[0];
        const char *location = NULL;
        json_t *crypto_info, *commit_hash;
        int r;

        r = sfu_manifest_get_text(root, "firmwareLocation", "firmwareLocation", true, SFU_MANIFEST_MAX_LOCATION, &location, err);
        if (r < 0)
                return r;
        r = sfu_manifest_check_location("firmwareLocation", location, err);
        if (r < 0)
                return r;
        r = get_size(root, "firmwareSize", "firmwareSize", false, &img->size, &img->has_size, err);
        if (r < 0)
                return r;
        crypto_info = json_object_get(root, "firmwareCryptoInfo");
        if (!crypto_info)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest has no \"firmwareCryptoInfo\"");
        if (!json_is_object(crypto_info))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"firmwareCryptoInfo\" is not an object");
        commit_hash = json_object_get(crypto_info, "commitHash");
        if (!commit_hash)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest has no \"firmwareCryptoInfo.commitHash\"");
        r = parse_commit_hash(commit_hash, "firmwareCryptoInfo.commitHash", img, err);
        if (r < 0)
                return r;
        if (json_object_get(crypto_info, "encryption")) {
                r = sfu_manifest_parse_encryption(json_object_get(crypto_info, "encryption"),
                                                  "firmwareCryptoInfo.encryption", img, err);
                if (r < 0)
                        return r;
        }
        if (json_object_get(root, "firmwareDelta")) {
                r = sfu_manifest_parse_delta(json_object_get(root, "firmwareDelta"), "firmwareDelta", img, err);
                if (r < 0)
                        return r;
        }

        r = sfu_manifest_dup_text("firmware", &img->name, err);
        if (r < 0)
                return r;
        r = sfu_manifest_dup_text(location, &img->location, err);
        if (r < 0)
                return r;
        m->n_images = 1;
        m->split = false;
        return 0;
}

static int parse_images(json_t *list, struct sfu_manifest *m, struct sfu_err *err) {
        size_t n;
        int r;

        if (!json_is_array(list))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"images\" is not an array");
        n = json_array_size(list);
        if (n == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"images\" is empty");
        if (n > SFU_MANIFEST_MAX_IMAGES)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"images\" has more than %d entries",
                                   SFU_MANIFEST_MAX_IMAGES);
        m->split = true;

        for (size_t i = 0; i < n; i++) {
                struct sfu_manifest_image *img = &m->images[i];
                json_t *entry = json_array_get(list, i), *commit_hash;
                const char *name = NULL, *slot_class = NULL, *location = NULL;
                char what[MANIFEST_PATH_MAX];

                snprintf(what, sizeof(what), "images[%zu]", i);
                if (!json_is_object(entry))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s\" is not an object", what);
                snprintf(what, sizeof(what), "images[%zu].name", i);
                r = sfu_manifest_get_text(entry, "name", what, true, SFU_MANIFEST_MAX_STRING, &name, err);
                if (r < 0)
                        return r;
                snprintf(what, sizeof(what), "images[%zu].slotClass", i);
                r = sfu_manifest_get_text(entry, "slotClass", what, true, SFU_MANIFEST_MAX_STRING, &slot_class, err);
                if (r < 0)
                        return r;
                r = sfu_manifest_check_slot_class(what, slot_class, err);
                if (r < 0)
                        return r;
                snprintf(what, sizeof(what), "images[%zu].location", i);
                r = sfu_manifest_get_text(entry, "location", what, true, SFU_MANIFEST_MAX_LOCATION, &location, err);
                if (r < 0)
                        return r;
                r = sfu_manifest_check_location(what, location, err);
                if (r < 0)
                        return r;
                snprintf(what, sizeof(what), "images[%zu].size", i);
                r = get_size(entry, "size", what, true, &img->size, &img->has_size, err);
                if (r < 0)
                        return r;
                snprintf(what, sizeof(what), "images[%zu].commitHash", i);
                commit_hash = json_object_get(entry, "commitHash");
                if (!commit_hash)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest has no \"%s\"", what);
                r = parse_commit_hash(commit_hash, what, img, err);
                if (r < 0)
                        return r;
                if (json_object_get(entry, "encryption")) {
                        snprintf(what, sizeof(what), "images[%zu].encryption", i);
                        r = sfu_manifest_parse_encryption(json_object_get(entry, "encryption"), what, img, err);
                        if (r < 0)
                                return r;
                }
                if (json_object_get(entry, "delta")) {
                        snprintf(what, sizeof(what), "images[%zu].delta", i);
                        r = sfu_manifest_parse_delta(json_object_get(entry, "delta"), what, img, err);
                        if (r < 0)
                                return r;
                }

                for (size_t j = 0; j < i; j++) {
                        if (strcmp(m->images[j].name, name) == 0)
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                                   "manifest \"images\" names the image \"%.*s\" twice",
                                                   sfu_manifest_excerpt(name), name);
                        if (strcmp(m->images[j].slot_class, slot_class) == 0)
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                                   "manifest images \"%.*s\" and \"%.*s\" both go to slot class \"%.*s\"",
                                                   sfu_manifest_excerpt(m->images[j].name), m->images[j].name,
                                                   sfu_manifest_excerpt(name), name, sfu_manifest_excerpt(slot_class), slot_class);
                }

                r = sfu_manifest_dup_text(name, &img->name, err);
                if (r < 0)
                        return r;
                r = sfu_manifest_dup_text(slot_class, &img->slot_class, err);
                if (r < 0)
                        return r;
                r = sfu_manifest_dup_text(location, &img->location, err);
                if (r < 0)
                        return r;
                m->n_images++;
        }
        return 0;
}

/* A JWK as far as the manifest is concerned: an object with a "kty"
 * string and no private key members.  The key module checks the rest when
 * the key is installed. */
int sfu_manifest_check_new_key(json_t *jwk, size_t index, struct sfu_err *err) {
        json_t *kty;

        if (!json_is_object(jwk))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "manifest \"keyInfo.newKeys[%zu]\" is not a JWK object", index);
        kty = json_object_get(jwk, "kty");
        if (!json_is_string(kty) || json_string_length(kty) == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "manifest \"keyInfo.newKeys[%zu]\" has no \"kty\" string", index);
        for (size_t i = 0; i < ELEMENTSOF(jwk_private_members); i++)
                if (json_object_get(jwk, jwk_private_members[i]))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "manifest \"keyInfo.newKeys[%zu]\" holds private key material (\"%s\")",
                                           index, jwk_private_members[i]);
        return 0;
}

static int parse_key_info(json_t *key_info, struct sfu_manifest *m, struct sfu_err *err) {
        json_t *new_keys, *revoked;
        int r;

        if (!json_is_object(key_info))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"keyInfo\" is not an object");

        new_keys = json_object_get(key_info, "newKeys");
        if (new_keys) {
                if (!json_is_array(new_keys))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"keyInfo.newKeys\" is not an array");
                if (json_array_size(new_keys) > SFU_MANIFEST_MAX_KEYS)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "manifest \"keyInfo.newKeys\" has more than %d entries",
                                           SFU_MANIFEST_MAX_KEYS);
                for (size_t i = 0; i < json_array_size(new_keys); i++) {
                        r = sfu_manifest_check_new_key(json_array_get(new_keys, i), i, err);
                        if (r < 0)
                                return r;
                }
                m->new_keys = json_incref(new_keys);
        }

        revoked = json_object_get(key_info, "revokedKeys");
        if (revoked) {
                if (!json_is_array(revoked))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "manifest \"keyInfo.revokedKeys\" is not an array");
                if (json_array_size(revoked) > SFU_MANIFEST_MAX_KEYS)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "manifest \"keyInfo.revokedKeys\" has more than %d entries",
                                           SFU_MANIFEST_MAX_KEYS);
                for (size_t i = 0; i < json_array_size(revoked); i++) {
                        json_t *kid = json_array_get(revoked, i);
                        char what[MANIFEST_PATH_MAX];

                        snprintf(what, sizeof(what), "keyInfo.revokedKeys[%zu]", i);
                        if (!json_is_string(kid))
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s\" is not a string",
                                                   what);
                        r = sfu_manifest_check_text(what, json_string_value(kid), SFU_MANIFEST_MAX_STRING, err);
                        if (r < 0)
                                return r;
                        r = sfu_manifest_dup_text(json_string_value(kid), &m->revoked_kids[i], err);
                        if (r < 0)
                                return r;
                        m->n_revoked_kids++;
                }
        }
        return 0;
}

bool sfu_manifest_understood(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(understood_extensions); i++)
                if (strcmp(name, understood_extensions[i]) == 0)
                        return true;
        return false;
}

/* "crit" as in RFC 7515 section 4.1.11: a non-empty list of distinct
 * names, each one we understand and each present in the manifest. */
static int parse_crit(json_t *root, struct sfu_manifest *m, struct sfu_err *err) {
        json_t *crit = json_object_get(root, "crit");
        size_t n;
        int r;

        if (!crit)
                return 0;
        if (!json_is_array(crit))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"crit\" is not an array");
        n = json_array_size(crit);
        if (n == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"crit\" is an empty list");
        if (n > SFU_MANIFEST_MAX_CRIT)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"crit\" has more than %d entries",
                                   SFU_MANIFEST_MAX_CRIT);
        for (size_t i = 0; i < n; i++) {
                json_t *v = json_array_get(crit, i);
                char what[MANIFEST_PATH_MAX];
                const char *name;

                snprintf(what, sizeof(what), "crit[%zu]", i);
                if (!json_is_string(v))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s\" is not a string", what);
                name = json_string_value(v);
                r = sfu_manifest_check_text(what, name, SFU_MANIFEST_MAX_STRING, err);
                if (r < 0)
                        return r;
                if (!sfu_manifest_understood(name))
                        return sfu_err_set(err, SFU_ERR_PARSE, EOPNOTSUPP,
                                           "manifest crit names \"%.*s\", which this device does not understand",
                                           sfu_manifest_excerpt(name), name);
                for (size_t j = 0; j < i; j++)
                        if (strcmp(m->crit[j], name) == 0)
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest crit names \"%s\" twice",
                                                   name);
                /* "encryption" is a member of images, not of the root:
                 * sfu_manifest_validate() checks that an image has it. */
                if (strcmp(name, "encryption") != 0 && !json_object_get(root, name))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "manifest crit names \"%s\", which the manifest does not contain", name);
                r = sfu_manifest_dup_text(name, &m->crit[i], err);
                if (r < 0)
                        return r;
                m->n_crit++;
        }
        return 0;
}

int sfu_manifest_from_tree(json_t *root, struct sfu_manifest **ret, struct sfu_err *err) {
        _cleanup_manifest_ struct sfu_manifest *m = NULL;
        const char *s = NULL, *single_member = NULL;
        json_t *images, *key_info;
        int r;

        if (!json_is_object(root))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest is not an object");
        m = calloc(1, sizeof(*m));
        if (!m)
                return oom(err);

        /* First, so that a manifest built on an extension we lack is
         * refused for that reason and not for a symptom of it. */
        r = parse_crit(root, m, err);
        if (r < 0)
                return r;

        r = sfu_manifest_get_text(root, "manifestVersion", "manifestVersion", true, SFU_MANIFEST_MAX_STRING, &s, err);
        if (r < 0)
                return r;
        r = sfu_manifest_check_version_field(s, err);
        if (r < 0)
                return r;
        r = sfu_manifest_dup_text(s, &m->manifest_version, err);
        if (r < 0)
                return r;

        r = get_time(root, "timestamp", true, &s, &m->timestamp, err);
        if (r < 0)
                return r;
        r = sfu_manifest_dup_text(s, &m->timestamp_text, err);
        if (r < 0)
                return r;

        r = sfu_manifest_get_text(root, "manufacturer", "manufacturer", true, SFU_MANIFEST_MAX_STRING, &s, err);
        if (r < 0)
                return r;
        r = sfu_manifest_dup_text(s, &m->manufacturer, err);
        if (r < 0)
                return r;
        r = sfu_manifest_get_text(root, "model", "model", true, SFU_MANIFEST_MAX_STRING, &s, err);
        if (r < 0)
                return r;
        r = sfu_manifest_dup_text(s, &m->model, err);
        if (r < 0)
                return r;

        r = sfu_manifest_get_text(root, "firmwareVersion", "firmwareVersion", true, SFU_MANIFEST_MAX_STRING, &s, err);
        if (r < 0)
                return r;
        if (sfu_version_parse(s, &m->version) < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "manifest \"firmwareVersion\" \"%.*s\" is not a version MAJOR.MINOR.REVISION "
                                   "(numbers of at most 9 digits without leading zeros)",
                                   sfu_manifest_excerpt(s), s);
        r = sfu_manifest_dup_text(s, &m->version_text, err);
        if (r < 0)
                return r;

        r = get_time(root, "expires", false, &s, &m->expires, err);
        if (r < 0)
                return r;
        m->has_expires = s != NULL;

        r = sfu_manifest_get_text(root, "rollbackFloor", "rollbackFloor", false, SFU_MANIFEST_MAX_STRING, &s, err);
        if (r < 0)
                return r;
        if (s && sfu_version_parse(s, &m->rollback_floor) < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "manifest \"rollbackFloor\" \"%.*s\" is not a version MAJOR.MINOR.REVISION",
                                   sfu_manifest_excerpt(s), s);
        m->has_rollback_floor = s != NULL;

        images = json_object_get(root, "images");
        if (json_object_get(root, "firmwareLocation"))
                single_member = "firmwareLocation";
        else if (json_object_get(root, "firmwareSize"))
                single_member = "firmwareSize";
        else if (json_object_get(root, "firmwareCryptoInfo"))
                single_member = "firmwareCryptoInfo";
        if (images && single_member)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "manifest has both \"images\" and \"%s\"; \"images\" replaces the single-image members",
                                   single_member);
        if (images)
                r = parse_images(images, m, err);
        else if (single_member)
                r = parse_single(root, m, err);
        else
                r = sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest has neither \"firmwareLocation\" nor \"images\"");
        if (r < 0)
                return r;

        if (json_object_get(root, "providers")) {
                r = sfu_manifest_parse_providers(json_object_get(root, "providers"), m, err);
                if (r < 0)
                        return r;
        }

        key_info = json_object_get(root, "keyInfo");
        if (key_info) {
                r = parse_key_info(key_info, m, err);
                if (r < 0)
                        return r;
        }

        r = sfu_manifest_validate(m, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

static size_t size_cap(size_t max_size) {
        return max_size < SFU_MANIFEST_MAX_SIZE ? max_size : SFU_MANIFEST_MAX_SIZE;
}

int sfu_manifest_parse_json(const char *buf, size_t len, size_t max_size,
                            struct sfu_manifest **ret, struct sfu_err *err) {
        _cleanup_json_ json_t *root = NULL;
        size_t cap = size_cap(max_size);
        int r;

        if (!buf && len > 0)
                return -EINVAL;
        if (len > cap)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "manifest of %zu bytes exceeds the limit of %zu bytes",
                                   len, cap);
        r = sfu_json_parse_object(buf, len, cap, &root, err);
        if (r < 0) {
                sfu_err_prefix(err, "manifest");
                return r;
        }
        return sfu_manifest_from_tree(root, ret, err);
}

int sfu_manifest_parse_cbor(const uint8_t *buf, size_t len, size_t max_size, struct sfu_manifest **ret,
                            struct sfu_err *err) {
        _cleanup_cbor_ struct sfu_cbor *cbor = NULL;
        _cleanup_json_ json_t *root = NULL;
        size_t cap = size_cap(max_size);
        const struct sfu_cbor_limits limits = {
                .max_size = cap,
                .max_depth = SFU_CBOR_MAX_DEPTH,
                .max_items = SFU_CBOR_MAX_ITEMS,
        };
        int r;

        if (!buf && len > 0)
                return -EINVAL;
        if (len > cap)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "manifest of %zu bytes exceeds the limit of %zu bytes",
                                   len, cap);
        r = sfu_cbor_decode(buf, len, &limits, &cbor, err);
        if (r < 0) {
                sfu_err_prefix(err, "manifest");
                return r;
        }
        if (sfu_cbor_root(cbor)->type != SFU_CBOR_MAP)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest: the CBOR document is %s, not a map",
                                   sfu_cbor_type_name(sfu_cbor_root(cbor)->type));
        r = sfu_cbor_to_json(sfu_cbor_root(cbor), SFU_MANIFEST_CBOR_BYTES_KEY, &root, err);
        if (r == -ENOMEM)
                return oom(err);
        if (r < 0)
                return r;
        return sfu_manifest_from_tree(root, ret, err);
}
