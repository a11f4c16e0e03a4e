/* SPDX-License-Identifier: MIT */
/* Keys: PEM (SPKI, PKCS#8, traditional) and JWK for every supported type,
 * the refusals, RFC 7638 thumbprints (checked against the RFC and against
 * python3-jwcrypto's output stored beside the keys), JWK and PEM export
 * round trips, generation and the trust store directory. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>

#include "core/json.h"
#include "core/jws.h"
#include "core/sig.h"
#include "core/key.h"
#include "tap.h"

static char *data_file(const char *name, size_t *ret_len) {
        char path[512];
        snprintf(path, sizeof(path), "keys/%s", name);
        return tap_read_file(tap_data(path), ret_len);
}

static struct sfu_key *load(const char *name, bool want_private) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_key *key = NULL;
        char path[512];
        int r;

        snprintf(path, sizeof(path), "keys/%s", name);
        r = sfu_key_load_file(tap_data(path), want_private, &key, &err);
        ok(r == 0 && key, "load %s%s (%s)", name, want_private ? " as private key" : "", err.message);
        return key;
}

static void refused_buf(const char *what, const char *buf, size_t len, bool want_private,
                        enum sfu_err_code code, const char *reason) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_key *key = (struct sfu_key *) 0x1;
        int r = sfu_key_from_buffer(buf, len, what, want_private, &key, &err);

        ok(r < 0 && key == (struct sfu_key *) 0x1, "%s refused", what);
        ok(err.code == code && strstr(err.message, reason), "%s: reason \"%s\" has \"%s\", code %s", what,
           err.message, reason, sfu_err_code_name(err.code));
}

static void refused_file(const char *name, bool want_private, enum sfu_err_code code, const char *reason) {
        size_t len = 0;
        char *buf = data_file(name, &len);
        refused_buf(name, buf, len, want_private, code, reason);
        free(buf);
}

static void refused_jwk(const char *what, const char *jwk, enum sfu_err_code code, const char *reason) {
        refused_buf(what, jwk, strlen(jwk), false, code, reason);
}

static void check_type(const struct sfu_key *key, enum sfu_key_type type, int bits, bool is_private,
                       const char *what) {
        ok(key && key->type == type, "%s: type %s", what, key ? sfu_key_type_name(key->type) : "-");
        ok(key && key->bits == bits, "%s: %d bits (got %d)", what, bits, key ? key->bits : -1);
        ok(key && key->is_private == is_private, "%s: %s", what, is_private ? "private" : "public");
        ok(key && key->kid && strlen(key->kid) == 43, "%s: kid is a 43-character thumbprint", what);
}

static bool same_key(const struct sfu_key *a, const struct sfu_key *b) {
        return a && b && EVP_PKEY_eq(a->pkey, b->pkey) == 1;
}

static const char *member(json_t *obj, const char *name) {
        return json_string_value(json_object_get(obj, name));
}

/* Compares our JWK export with the JWK python3-jwcrypto wrote for the same
 * PEM: every member, public and private. */
static void check_export_matches_jwcrypto(const char *base, bool include_private) {
        static const char *const names[] = {"kty", "crv", "x", "y",  "n",  "e",
                                            "d",   "p",   "q", "dp", "dq", "qi"};
        struct sfu_err err = SFU_ERR_INIT;
        _cleanup_key_ struct sfu_key *key = NULL;
        _cleanup_json_ json_t *ours = NULL, *theirs = NULL;
        char name[128];
        size_t len = 0;
        char *text;
        bool same = true;

        snprintf(name, sizeof(name), "%s.pem", base);
        key = load(name, true);
        snprintf(name, sizeof(name), "%s%s.jwk", base, include_private ? "" : ".pub");
        text = data_file(name, &len);
        ok(sfu_json_parse_object(text, len, 65536, &theirs, &err) == 0, "parse %s", name);
        free(text);
        ok(key && (include_private ? sfu_key_to_private_jwk(key, &ours) : sfu_key_to_jwk(key, &ours)) == 0, "export %s JWK of %s",
           include_private ? "private" : "public", base);
        if (!ours || !theirs)
                return;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                const char *a = member(ours, names[i]), *b = member(theirs, names[i]);
                if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0)) {
                        tap_diag("member %s: ours %s, jwcrypto %s", names[i], a ? a : "-", b ? b : "-");
                        same = false;
                }
        }
        ok(same, "%s JWK export of %s equals python3-jwcrypto's", include_private ? "private" : "public",
           base);
        ok(sfu_streq(member(ours, "kid"), key->kid), "export of %s carries the kid", base);
}

static void check_jwk_round_trip(const char *pem_name) {
        struct sfu_err err = SFU_ERR_INIT;
        _cleanup_key_ struct sfu_key *key = NULL, *pub = NULL, *priv = NULL;
        _cleanup_json_ json_t *pub_jwk = NULL, *priv_jwk = NULL;
        char *pub_tp = NULL;

        key = load(pem_name, true);
        if (!key)
                return;
        ok(sfu_key_to_jwk(key, &pub_jwk) == 0 && !json_object_get(pub_jwk, "d"),
           "%s: public JWK has no \"d\"", pem_name);
        ok(sfu_key_to_private_jwk(key, &priv_jwk) == 0 && json_object_get(priv_jwk, "d"),
           "%s: private JWK has \"d\"", pem_name);
        ok(pub_jwk && sfu_key_from_jwk(pub_jwk, "pub", false, &pub, &err) == 0,
           "%s: public JWK imports (%s)", pem_name, err.message);
        ok(priv_jwk && sfu_key_from_jwk(priv_jwk, "priv", true, &priv, &err) == 0,
           "%s: private JWK imports (%s)", pem_name, err.message);
        ok(same_key(key, pub) && pub && !pub->is_private, "%s: public JWK round trip gives the same key",
           pem_name);
        ok(same_key(key, priv) && priv && priv->is_private, "%s: private JWK round trip gives the same key",
           pem_name);
        ok(pub && sfu_key_thumbprint(pub, &pub_tp) == 0 && sfu_streq(pub_tp, key->kid),
           "%s: thumbprint survives the round trip", pem_name);
        free(pub_tp);
}

static void check_pem_round_trip(const char *pem_name) {
        struct sfu_err err = SFU_ERR_INIT;
        _cleanup_key_ struct sfu_key *key = NULL, *pub = NULL, *priv = NULL;
        _cleanup_free_ char *pub_pem = NULL, *priv_pem = NULL;

        key = load(pem_name, true);
        if (!key)
                return;
        ok(sfu_key_to_pem(key, false, &pub_pem) == 0 &&
                   strncmp(pub_pem, "-----BEGIN PUBLIC KEY-----\n", 27) == 0,
           "%s: public PEM is SubjectPublicKeyInfo", pem_name);
        ok(sfu_key_to_pem(key, true, &priv_pem) == 0 &&
                   strncmp(priv_pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0,
           "%s: private PEM is PKCS#8", pem_name);
        ok(pub_pem && sfu_key_from_buffer(pub_pem, strlen(pub_pem), "pub", false, &pub, &err) == 0 &&
                   same_key(key, pub) && !pub->is_private,
           "%s: public PEM round trip", pem_name);
        ok(priv_pem && sfu_key_from_buffer(priv_pem, strlen(priv_pem), "priv", true, &priv, &err) == 0 &&
                   same_key(key, priv) && priv->is_private,
           "%s: private PEM round trip", pem_name);
}

static void check_thumbprint_vs_jwcrypto(const char *base) {
        _cleanup_key_ struct sfu_key *pem = NULL, *jwk = NULL;
        _cleanup_free_ char *want = NULL;
        char name[128];
        size_t len = 0;

        snprintf(name, sizeof(name), "%s.thumbprint", base);
        want = data_file(name, &len);
        while (len > 0 && (want[len - 1] == '\n' || want[len - 1] == '\r'))
                want[--len] = 0;
        snprintf(name, sizeof(name), "%s.pub.pem", base);
        pem = load(name, false);
        snprintf(name, sizeof(name), "%s.pub.jwk", base);
        jwk = load(name, false);
        is_str(pem ? pem->kid : NULL, want, "thumbprint of the PEM key equals python3-jwcrypto's");
        is_str(jwk ? jwk->kid : NULL, want, "thumbprint of the JWK key equals python3-jwcrypto's");
        ok(same_key(pem, jwk), "%s: PEM and JWK give the same key", base);
}

static void write_file(const char *dir, const char *name, const char *content, size_t len) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "we");
        if (!f || fwrite(content, 1, len, f) != len || fclose(f) != 0) {
                printf("Bail out! cannot write %s\n", path);
                exit(1);
        }
}

static void copy_key(const char *dir, const char *data_name, const char *name) {
        size_t len = 0;
        char *buf = data_file(data_name, &len);
        write_file(dir, name, buf, len);
        free(buf);
}

static void remove_files(const char *dir, const char *const *names, size_t n) {
        char path[512];
        for (size_t i = 0; i < n; i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                (void) unlink(path);
        }
        (void) rmdir(dir);
}

/* A file of a key directory: a copy of the test key data_name, or text. */
struct key_file {
        const char *name, *data_name;
        char *text;
};

/* sfu_keyring_load_dir() into a new ring (*ret_ring, one TAP case: it is
 * made) over a new directory holding the two files, removed afterwards;
 * frees the texts. */
static int load_two_files(struct key_file files[2], struct sfu_keyring **ret_ring, struct sfu_err *err) {
        _cleanup_free_ char *dir = tap_mkdtemp();
        const char *names[2];
        int r;

        for (size_t i = 0; i < 2; i++) {
                names[i] = files[i].name;
                if (files[i].text)
                        write_file(dir, files[i].name, files[i].text, strlen(files[i].text));
                else
                        copy_key(dir, files[i].data_name, files[i].name);
                free(files[i].text);
        }
        sfu_err_clear(err);
        ok(sfu_keyring_new(ret_ring) == 0, "keyring_new");
        r = sfu_keyring_load_dir(*ret_ring, dir, err);
        remove_files(dir, names, 2);
        return r;
}

static char *jwk_with_kid(const char *data_name, const char *kid) {
        struct sfu_err err = SFU_ERR_INIT;
        _cleanup_json_ json_t *j = NULL;
        size_t len = 0;
        char *text = data_file(data_name, &len), *out;

        if (sfu_json_parse_object(text, len, 65536, &j, &err) < 0 ||
            json_object_set_new(j, "kid", json_string(kid)) < 0)
                abort();
        free(text);
        out = json_dumps(j, 0);
        if (!out)
                abort();
        return out;
}

static void test_keyring(void) {
        struct sfu_err err = SFU_ERR_INIT;
        const struct sfu_key *found;
        int r;

        /* Loading: sorted, only *.pem and *.jwk, no hidden files. */
        {
                static const char *const files[] = {"10-ec.pem", "20-ed.jwk",   "30-rsa.pem",
                                                    "notes.txt", ".hidden.pem", "key.pem.bak"};
                _cleanup_keyring_ struct sfu_keyring *ring = NULL;
                _cleanup_free_ char *dir = tap_mkdtemp();

                ok(sfu_keyring_new(&ring) == 0, "keyring_new");
                r = sfu_keyring_load_dir(ring, dir, &err);
                ok(r == 0 && ring->n_keys == 0, "an empty directory gives an empty ring");
                copy_key(dir, "ec-p256.pub.pem", "10-ec.pem");
                copy_key(dir, "ed25519.pub.jwk", "20-ed.jwk");
                copy_key(dir, "rsa2048.pub.pem", "30-rsa.pem");
                write_file(dir, "notes.txt", "not a key", 9);
                write_file(dir, ".hidden.pem", "not a key", 9);
                write_file(dir, "key.pem.bak", "not a key", 9);
                r = sfu_keyring_load_dir(ring, dir, &err);
                ok(r == 0, "load_dir of 3 keys beside 3 ignored files (%s)", err.message);
                is_int(ring->n_keys, 3, "3 keys loaded");
                ok(ring->n_keys == 3 && ring->keys[0]->type == SFU_KEY_EC_P256 &&
                           ring->keys[1]->type == SFU_KEY_ED25519 && ring->keys[2]->type == SFU_KEY_RSA,
                   "keys are loaded in name order");
                ok(ring->n_keys == 3 && strstr(ring->keys[0]->source, "10-ec.pem"),
                   "a key's source names its file");
                found = ring->n_keys == 3 ? sfu_keyring_find_kid(ring, ring->keys[1]->kid) : NULL;
                ok(found && found == ring->keys[1], "find_kid finds a key by its kid");
                ok(!sfu_keyring_find_kid(ring, "no-such-kid"), "find_kid of an unknown kid is NULL");
                ok(!sfu_keyring_find_kid(ring, NULL), "find_kid(NULL) is NULL");
                sfu_err_clear(&err);
                r = sfu_keyring_load_dir(ring, dir, &err);
                ok(r == -EEXIST && ring->n_keys == 3 && strstr(err.message, "10-ec.pem"),
                   "loading the same directory again is refused and changes nothing (%s)", err.message);
                remove_files(dir, files, ELEMENTSOF(files));
        }

        /* The same public key twice (as PEM and as JWK). */
        {
                struct key_file files[] = {{"a.pem", "ec-p256.pub.pem"}, {"b.jwk", "ec-p256.pub.jwk"}};
                _cleanup_keyring_ struct sfu_keyring *ring = NULL;

                r = load_two_files(files, &ring, &err);
                ok(r == -EEXIST && strstr(err.message, "b.jwk") && strstr(err.message, "same public key"),
                   "the same public key twice is refused (%s)", err.message);
        }

        /* Two keys with one kid. */
        {
                struct key_file files[] = {{"a.jwk", .text = jwk_with_kid("ec-p256.pub.jwk", "factory-1")},
                                           {"b.jwk", .text = jwk_with_kid("ed25519.pub.jwk", "factory-1")}};
                _cleanup_keyring_ struct sfu_keyring *ring = NULL;

                r = load_two_files(files, &ring, &err);
                ok(r == -EEXIST && strstr(err.message, "kid \"factory-1\" is already used"),
                   "two keys with one kid are refused (%s)", err.message);
                is_int(ring->n_keys, 0, "nothing is loaded");
                {
                        _cleanup_key_ struct sfu_key *key = NULL;
                        char *text = jwk_with_kid("ed25519.pub.jwk", "factory-1");
                        ok(sfu_key_from_buffer(text, strlen(text), "a.jwk", false, &key, &err) == 0 &&
                                   sfu_streq(key->kid, "factory-1"),
                           "a JWK \"kid\" becomes the kid");
                        free(text);
                }
        }

        /* A file that fails to load is an error naming it. */
        {
                struct key_file files[] = {{"good.pem", "ec-p256.pub.pem"}, {"weak.pem", "rsa1024.pub.pem"}};
                _cleanup_keyring_ struct sfu_keyring *ring = NULL;

                r = load_two_files(files, &ring, &err);
                ok(r < 0 && strstr(err.message, "weak.pem") && strstr(err.message, "1024 bits"),
                   "a bad key file fails the load and is named (%s)", err.message);
                is_int(ring->n_keys, 0, "a failed load leaves the ring as it was (all or nothing)");
        }

        /* A missing directory. */
        {
                _cleanup_keyring_ struct sfu_keyring *ring = NULL;
                sfu_err_clear(&err);
                ok(sfu_keyring_new(&ring) == 0, "keyring_new");
                r = sfu_keyring_load_dir(ring, "/nonexistent/secfud/keys.d", &err);
                ok(r == -ENOENT && err.code == SFU_ERR_STORAGE &&
                           strstr(err.message, "/nonexistent/secfud/keys.d"),
                   "a missing key directory is an error naming it (%s)", err.message);
        }

        /* keyring_add refuses a weak RSA key even when built by hand. */
        {
                _cleanup_keyring_ struct sfu_keyring *ring = NULL;
                _cleanup_key_ struct sfu_key *weak = calloc(1, sizeof(*weak));
                size_t len = 0;
                char *pem = data_file("rsa1024.pub.pem", &len);
                BIO *bio = BIO_new_mem_buf(pem, (int) len);

                weak->pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
                BIO_free(bio);
                free(pem);
                weak->type = SFU_KEY_RSA;
                weak->bits = 1024;
                weak->kid = strdup("weak");
                weak->source = strdup("hand-made");
                sfu_err_clear(&err);
                ok(sfu_keyring_new(&ring) == 0, "keyring_new");
                r = sfu_keyring_add(ring, weak, &err);
                ok(r < 0 && ring->n_keys == 0 &&
                           strstr(err.message, "RSA key of 1024 bits is below the minimum of 2048"),
                   "keyring_add refuses an RSA-1024 key (%s)", err.message);
        }
}

static void test_generate(void) {
        static const struct {
                const char *alg;
                enum sfu_key_type type;
                int bits;
        } cases[] = {
                {"ES256", SFU_KEY_EC_P256, 256}, {"ES384", SFU_KEY_EC_P384, 384},
                {"ES512", SFU_KEY_EC_P521, 521}, {"EdDSA", SFU_KEY_ED25519, 256},
                {"PS256", SFU_KEY_RSA, 3072},
        };
        struct sfu_err err = SFU_ERR_INIT;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_key_ struct sfu_key *key = NULL;
                enum sfu_alg alg;
                int r = sfu_key_generate(cases[i].alg, &key, &err);
                ok(r == 0, "generate a key for %s", cases[i].alg);
                if (r < 0)
                        continue;
                check_type(key, cases[i].type, cases[i].bits, true, cases[i].alg);
                ok(sfu_alg_from_name(cases[i].alg, &alg) == 0 && sfu_sig_fits_key(alg, key),
                   "the generated key fits %s", cases[i].alg);
        }
        {
                static const char *const bad[] = {"HS256", "none", "Ed448", "ES256K", "", "rs256"};
                for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                        struct sfu_key *key = (struct sfu_key *) 0x1;
                        sfu_err_clear(&err);
                        ok(sfu_key_generate(bad[i], &key, &err) < 0 && key == (struct sfu_key *) 0x1 &&
                                   err.code == SFU_ERR_PARSE,
                           "no key generated for \"%s\" (%s)", bad[i], err.message);
                }
        }
}

static void test_jwk_refusals(void) {
        refused_jwk("no kty", "{\"crv\":\"P-256\"}", SFU_ERR_PARSE, "no string \"kty\"");
        refused_jwk("oct",
                    "{\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-"
                    "1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"}",
                    SFU_ERR_PARSE, "HMAC is never accepted");
        refused_jwk("unknown kty", "{\"kty\":\"DSA\"}", SFU_ERR_PARSE, "key type \"DSA\" is not supported");
        refused_jwk("P-192", "{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"AA\",\"y\":\"AA\"}", SFU_ERR_PARSE,
                    "curve \"P-192\" is not supported");
        refused_jwk("short x",
                    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVA\","
                    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}",
                    SFU_ERR_PARSE, "must be 32 bytes");
        /* RFC 7515 A.3's key with the last bit of y changed: not on the curve. */
        refused_jwk(
                "point off the curve",
                "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
                "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a4\"}",
                SFU_ERR_PARSE, "not a valid P-256 key");
        refused_jwk("EC d of another key",
                    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":"
                    "\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_"
                    "tue659LNpXW6pCyStikYjKIWI5a0\",\"d\":\"AAsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI\"}",
                    SFU_ERR_PARSE, "does not match");
        refused_jwk(
                "Ed25519 d not matching x",
                "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\","
                "\"x\":\"9GIh30S18p7aBA-ZdnsbNnbFzACYNMyy-S_nAwj1lWU\"}",
                SFU_ERR_PARSE, "does not match \"x\"");
        refused_jwk("Ed448", "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"AA\"}", SFU_ERR_PARSE,
                    "Ed448 keys are not supported");
        refused_jwk(
                "X25519",
                "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08\"}",
                SFU_ERR_PARSE, "key-agreement");
        refused_jwk(
                "Ed25519 short x",
                "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg\"}",
                SFU_ERR_PARSE, "must be 32 bytes");
        refused_jwk("padded x",
                    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_"
                    "7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"}",
                    SFU_ERR_PARSE, "not valid base64url");
        refused_jwk("x not a string", "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":42}", SFU_ERR_PARSE,
                    "\"x\" is not a string");
        refused_jwk("RSA without e", "{\"kty\":\"RSA\",\"n\":\"AQAB\"}", SFU_ERR_PARSE, "has no \"e\"");
        refused_jwk("RSA p without q",
                    "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\",\"d\":\"AQAB\",\"p\":\"AQAB\"}",
                    SFU_ERR_PARSE, "all of p, q, dp, dq, qi");
        refused_jwk("RSA oth", "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\",\"oth\":[]}", SFU_ERR_PARSE,
                    "multi-prime");
        refused_jwk("use enc",
                    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"use\":\"enc\",\"x\":\"11qYAYKxCrfVS_"
                    "7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
                    SFU_ERR_PARSE, "not \"sig\"");
        refused_jwk("key_ops encrypt",
                    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"key_ops\":[\"encrypt\"],\"x\":\"11qYAYKxCrfVS_"
                    "7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
                    SFU_ERR_PARSE, "neither \"sign\" nor \"verify\"");
        refused_jwk("alg HS256",
                    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"alg\":\"HS256\",\"x\":\"11qYAYKxCrfVS_"
                    "7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
                    SFU_ERR_PARSE, "not a supported algorithm");
        refused_jwk("alg ES256 on Ed25519",
                    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"alg\":\"ES256\",\"x\":\"11qYAYKxCrfVS_"
                    "7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
                    SFU_ERR_PARSE, "does not fit");
        refused_jwk("kid not a string",
                    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":7,\"x\":\"11qYAYKxCrfVS_"
                    "7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
                    SFU_ERR_PARSE, "\"kid\" must be");
        refused_jwk("kid with a newline",
                    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"a\\nb\",\"x\":\"11qYAYKxCrfVS_"
                    "7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
                    SFU_ERR_PARSE, "\"kid\" must be");
        refused_jwk("duplicate member",
                    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_"
                    "7TyWQHOg7hcvPapiMlrwIaaPcHURo\",\"x\":\"9GIh30S18p7aBA-ZdnsbNnbFzACYNMyy-S_nAwj1lWU\"}",
                    SFU_ERR_PARSE, "duplicate");
        refused_jwk("JWK array", "[{\"kty\":\"OKP\"}]", SFU_ERR_PARSE, "neither a PEM key nor a JWK");
        refused_jwk("trailing garbage",
                    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_"
                    "7TyWQHOg7hcvPapiMlrwIaaPcHURo\"} x",
                    SFU_ERR_PARSE, "invalid JSON");
        refused_file("rsa1024.pub.jwk", false, SFU_ERR_SIGNATURE,
                     "RSA key of 1024 bits is below the minimum of 2048");
        refused_file("ed25519.pub.jwk", true, SFU_ERR_PARSE, "a private key is needed");

        /* RSA d of another key with the right n and e. */
        {
                struct sfu_err err = SFU_ERR_INIT;
                _cleanup_key_ struct sfu_key *a = load("rsa2048.pem", true),
                                             *b = load("rsa2048-b.pem", true);
                _cleanup_json_ json_t *ja = NULL, *jb = NULL;
                _cleanup_free_ char *text = NULL;
                ok(a && b && sfu_key_to_private_jwk(a, &ja) == 0 && sfu_key_to_private_jwk(b, &jb) == 0,
                   "export two RSA keys");
                if (ja && jb) {
                        static const char *const crt[] = {"p", "q", "dp", "dq", "qi", "kid"};
                        json_object_set(ja, "d", json_object_get(jb, "d"));
                        for (size_t i = 0; i < ELEMENTSOF(crt); i++)
                                json_object_del(ja, crt[i]);
                        text = json_dumps(ja, 0);
                        refused_jwk("RSA d of another key", text, SFU_ERR_PARSE, "does not match");
                }
                (void) err;
        }
}

static void test_rsa_d_only(void) {
        struct sfu_err err = SFU_ERR_INIT;
        _cleanup_key_ struct sfu_key *full = load("rsa2048.pem", true), *donly = NULL;
        _cleanup_json_ json_t *j = NULL, *back = NULL;
        static const char *const crt[] = {"p", "q", "dp", "dq", "qi"};

        ok(full && sfu_key_to_private_jwk(full, &j) == 0, "export RSA private JWK");
        if (!j)
                return;
        for (size_t i = 0; i < ELEMENTSOF(crt); i++)
                json_object_del(j, crt[i]);
        ok(sfu_key_from_jwk(j, "d-only", true, &donly, &err) == 0, "an RSA JWK with d alone loads (%s)",
           err.message);
        ok(donly && donly->is_private && same_key(full, donly), "it is the same private key");
        ok(donly && sfu_key_to_private_jwk(donly, &back) == 0 && json_object_get(back, "d") &&
                   !json_object_get(back, "p"),
           "its private export has d and no CRT members");
}

/* sfu_keyring_load_path(): a file, a private key file, a directory. */
static void test_keyring_load_path(void) {
        static const char *const files[] = {"a.pem", "b.jwk"};
        _cleanup_keyring_ struct sfu_keyring *ring = NULL;
        _cleanup_free_ char *dir = tap_mkdtemp();
        struct sfu_err err = SFU_ERR_INIT;

        copy_key(dir, "ec-p384.pub.pem", "a.pem");
        copy_key(dir, "ed25519.pub.jwk", "b.jwk");
        ok(sfu_keyring_new(&ring) == 0, "keyring_new");
        ok(sfu_keyring_load_path(ring, tap_data("keys/ec-p256.pub.pem"), &err) == 0 && ring->n_keys == 1 &&
                   !ring->keys[0]->is_private,
           "load_path of a public key file adds one key (%s)", err.message);
        ok(sfu_keyring_load_path(ring, tap_data("keys/rsa2048.pem"), &err) == 0 && ring->n_keys == 2,
           "load_path of a private key file adds its key (%s)", err.message);
        ok(sfu_keyring_load_path(ring, dir, &err) == 0 && ring->n_keys == 4,
           "load_path of a directory adds its keys (%s)", err.message);
        ok(sfu_keyring_load_path(ring, tap_data("keys/ec-p256.pub.jwk"), &err) == -EEXIST && ring->n_keys == 4,
           "load_path of a key already in the ring is refused");
        sfu_err_clear(&err);
        ok(sfu_keyring_load_path(ring, "/nonexistent/key.pem", &err) < 0 && ring->n_keys == 4 &&
                   strstr(err.message, "/nonexistent/key.pem"),
           "load_path of a missing file names it (%s)", err.message);
        remove_files(dir, files, ELEMENTSOF(files));
}

int main(void) {
        static const char *const bases[] = {"rsa2048", "ec-p256", "ec-p384", "ec-p521", "ed25519"};

        /* PEM of every supported type and form. */
        {
                static const struct {
                        const char *file;
                        enum sfu_key_type type;
                        int bits;
                        bool want_private, is_private;
                } cases[] = {
                        {"rsa2048.pem", SFU_KEY_RSA, 2048, true, true},
                        {"rsa2048.pem", SFU_KEY_RSA, 2048, false, true},
                        {"rsa2048.pub.pem", SFU_KEY_RSA, 2048, false, false},
                        {"rsa2048-trad.pem", SFU_KEY_RSA, 2048, true, true},
                        {"rsa2048-pkcs1.pub.pem", SFU_KEY_RSA, 2048, false, false},
                        {"ec-p256.pem", SFU_KEY_EC_P256, 256, true, true},
                        {"ec-p256.pub.pem", SFU_KEY_EC_P256, 256, false, false},
                        {"ec-p256-trad.pem", SFU_KEY_EC_P256, 256, true, true},
                        {"ec-p384.pem", SFU_KEY_EC_P384, 384, true, true},
                        {"ec-p384.pub.pem", SFU_KEY_EC_P384, 384, false, false},
                        {"ec-p521.pem", SFU_KEY_EC_P521, 521, true, true},
                        {"ec-p521.pub.pem", SFU_KEY_EC_P521, 521, false, false},
                        {"ed25519.pem", SFU_KEY_ED25519, 256, true, true},
                        {"ed25519.pub.pem", SFU_KEY_ED25519, 256, false, false},
                        {"rsa2048.jwk", SFU_KEY_RSA, 2048, true, true},
                        {"rsa2048.pub.jwk", SFU_KEY_RSA, 2048, false, false},
                        {"ec-p256.jwk", SFU_KEY_EC_P256, 256, true, true},
                        {"ec-p256.pub.jwk", SFU_KEY_EC_P256, 256, false, false},
                        {"ec-p384.jwk", SFU_KEY_EC_P384, 384, true, true},
                        {"ec-p384.pub.jwk", SFU_KEY_EC_P384, 384, false, false},
                        {"ec-p521.jwk", SFU_KEY_EC_P521, 521, true, true},
                        {"ec-p521.pub.jwk", SFU_KEY_EC_P521, 521, false, false},
                        {"ed25519.jwk", SFU_KEY_ED25519, 256, true, true},
                        {"ed25519.pub.jwk", SFU_KEY_ED25519, 256, false, false},
                };
                for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                        _cleanup_key_ struct sfu_key *key = load(cases[i].file, cases[i].want_private);
                        check_type(key, cases[i].type, cases[i].bits, cases[i].is_private, cases[i].file);
                        ok(key && key->source && strstr(key->source, cases[i].file),
                           "%s: source is the file name", cases[i].file);
                }
        }
        {
                _cleanup_key_ struct sfu_key *trad = load("rsa2048-trad.pem", true),
                                             *pkcs8 = load("rsa2048.pem", true),
                                             *pkcs1 = load("rsa2048-pkcs1.pub.pem", false);
                ok(same_key(trad, pkcs8) && same_key(pkcs1, pkcs8),
                   "traditional, PKCS#1 and PKCS#8 forms give the same RSA key");
                ok(trad && pkcs1 && sfu_streq(trad->kid, pkcs1->kid), "and the same kid");
        }

        /* Refused PEM. */
        refused_file("rsa1024.pem", true, SFU_ERR_SIGNATURE,
                     "RSA key of 1024 bits is below the minimum of 2048");
        refused_file("rsa1024.pub.pem", false, SFU_ERR_SIGNATURE,
                     "RSA key of 1024 bits is below the minimum of 2048");
        refused_file("ed448.pem", true, SFU_ERR_PARSE, "Ed448 keys are not supported");
        refused_file("ed448.pub.pem", false, SFU_ERR_PARSE, "Ed448 keys are not supported");
        refused_file("ec-secp256k1.pem", true, SFU_ERR_PARSE, "EC curve secp256k1 is not supported");
        refused_file("x25519.pem", true, SFU_ERR_PARSE, "X25519 keys are not supported");
        refused_file("ec-p256-encrypted.pem", true, SFU_ERR_PARSE,
                     "encrypted private keys are not supported");
        refused_file("ec-p256.pub.pem", true, SFU_ERR_PARSE, "no usable private key");
        refused_file("rsa2048.pub.pem", true, SFU_ERR_PARSE, "no usable private key");
        refused_buf("garbage", "hello world\n", 12, false, SFU_ERR_PARSE, "neither a PEM key nor a JWK");
        refused_buf("empty", "", 0, false, SFU_ERR_PARSE, "empty key file");
        refused_buf("white space", " \n\t\n", 4, false, SFU_ERR_PARSE, "empty key file");
        refused_buf("broken PEM", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", 54, false,
                    SFU_ERR_PARSE, "no usable key");
        {
                char *big = malloc(SFU_KEY_FILE_MAX + 2);
                memset(big, 'A', SFU_KEY_FILE_MAX + 1);
                big[SFU_KEY_FILE_MAX + 1] = 0;
                refused_buf("oversized", big, SFU_KEY_FILE_MAX + 1, false, SFU_ERR_SIZE,
                            "exceeds the limit");
                free(big);
        }
        {
                struct sfu_err err = SFU_ERR_INIT;
                struct sfu_key *key = NULL;
                ok(sfu_key_load_file("/nonexistent/key.pem", false, &key, &err) == -ENOENT &&
                           err.code == SFU_ERR_STORAGE && strstr(err.message, "/nonexistent/key.pem"),
                   "a missing key file is an error naming it (%s)", err.message);
                sfu_err_clear(&err);
                ok(sfu_key_load_file("/", false, &key, &err) < 0 && strstr(err.message, "/"),
                   "a directory is not a key file (%s)", err.message);
        }

        /* RFC 7638 section 3.1: the example key and its thumbprint. The
         * JWK's own "kid" wins over the thumbprint as kid. */
        {
                _cleanup_key_ struct sfu_key *key = load("rfc7638-3.1.jwk", false);
                _cleanup_free_ char *tp = NULL;
                ok(key && sfu_key_thumbprint(key, &tp) == 0, "thumbprint of the RFC 7638 key");
                is_str(tp, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", "RFC 7638 section 3.1 thumbprint");
                is_str(key ? key->kid : NULL, "2011-04-29", "kid from the JWK");
        }
        /* RFC 8037 A.3: the Ed25519 example key's thumbprint, also the
         * default kid when the JWK has none. */
        {
                struct sfu_err err = SFU_ERR_INIT;
                _cleanup_key_ struct sfu_key *key = NULL;
                ok(sfu_key_load_file(tap_data("jws/rfc8037-a1.jwk"), true, &key, &err) == 0,
                   "load RFC 8037 A.1 key");
                is_str(key ? key->kid : NULL, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
                       "RFC 8037 A.3 thumbprint is the default kid");
        }
        /* Thumbprints and exports against python3-jwcrypto. */
        for (size_t i = 0; i < ELEMENTSOF(bases); i++) {
                check_thumbprint_vs_jwcrypto(bases[i]);
                check_export_matches_jwcrypto(bases[i], false);
                check_export_matches_jwcrypto(bases[i], true);
        }
        /* Round trips. */
        {
                static const char *const pems[] = {"rsa2048.pem",      "rsa2048-trad.pem", "ec-p256.pem",
                                                   "ec-p256-trad.pem", "ec-p384.pem",      "ec-p521.pem",
                                                   "ed25519.pem"};
                for (size_t i = 0; i < ELEMENTSOF(pems); i++) {
                        check_jwk_round_trip(pems[i]);
                        check_pem_round_trip(pems[i]);
                }
        }
        {
                _cleanup_key_ struct sfu_key *pub = load("ec-p256.pub.pem", false);
                json_t *j = NULL;
                char *pem = NULL;
                ok(pub && sfu_key_to_private_jwk(pub, &j) < 0 && !j, "no private JWK from a public key");
                ok(pub && sfu_key_to_pem(pub, true, &pem) < 0 && !pem, "no private PEM from a public key");
        }
        test_rsa_d_only();
        test_jwk_refusals();
        test_generate();
        test_keyring();
        test_keyring_load_path();

        is_str(sfu_key_type_name(SFU_KEY_RSA), "RSA", "type name RSA");
        is_str(sfu_key_type_name(SFU_KEY_EC_P521), "P-521", "type name P-521");
        is_str(sfu_key_type_name(SFU_KEY_ED25519), "Ed25519", "type name Ed25519");
        is_str(sfu_key_type_name(_SFU_KEY_TYPE_MAX), "unknown", "type name out of range");
        return tap_done();
}
