/* SPDX-License-Identifier: MIT */
/* Scopes (core/scope.c): the scope file and its refusals; what a scoped
 * key covers; the rule that each signature counts for what its key's
 * scope covers, with thresholds per scope and keyInfo for key managers,
 * through sfu_signed_open; NAME.scope files in a trust-store directory
 * (a scope that does not parse keeps its key out, a scope beside no key
 * stops the load); and the manifest's "providers" entries. */
#include <fcntl.h>
#include <sys/stat.h>

#include "core/jws.h"
#include "core/scope.h"
#include "core/signed.h"
#include "tap.h"

static struct sfu_scope *parse(const char *text) {
        struct sfu_scope *s = NULL;
        struct sfu_err err = SFU_ERR_INIT;

        if (sfu_scope_parse(text, strlen(text), "t.scope", &s, &err) < 0)
                tap_diag("parse: %s", err.message);
        return s;
}

static void refused(const char *text, const char *reason) {
        struct sfu_scope *s = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        int r = sfu_scope_parse(text, strlen(text), "t.scope", &s, &err);

        ok(r < 0 && !s && strstr(err.message, reason), "scope refused: %s (%s)", reason, err.message);
}

static void test_file(void) {
        struct sfu_scope *s = parse("# the modem vendor\n[scope]\nmanufacturers = example.com\n"
                                    "models = gw100, gw200\nslot-classes = modem\nimages = modem\n"
                                    "keys = no\nmin-signatures = 2\n");

        ok(s && s->n_manufacturers == 1 && s->n_models == 2 && !strcmp(s->models[1], "gw200") &&
                   s->n_slot_classes == 1 && s->n_images == 1 && !s->keys && s->min_signatures == 2,
           "a full scope parses");
        sfu_scope_free(s);
        s = parse("[scope]\r\nkeys = yes\r\n");
        ok(s && s->keys && s->n_models == 0 && s->min_signatures == 0, "CRLF, and absent lists mean any");
        sfu_scope_free(s);

        refused("manufacturers = x\n", "before the [scope] section");
        refused("[scope]\nmodel = gw100\n", "unknown key \"model\"");
        refused("[scope]\nmodels = a\nmodels = b\n", "set twice");
        refused("[scope]\nmodels = \n", "an empty list");
        refused("[scope]\nkeys = maybe\n", "neither yes nor no");
        refused("[scope]\nmin-signatures = 0\n", "from 1 to 16");
        refused("[scope]\nmin-signatures = 17\n", "from 1 to 16");
        refused("[scope]\nmin-signatures = 2x\n", "from 1 to 16");
        refused("[other]\n", "unknown section");
        refused("[scope]\n[scope]\n", "appears twice");
        refused("[scope]\nmodels gw100\n", "expected KEY = VALUE");
        refused("# nothing\n", "no [scope] section");
        refused("[scope]\nmodels = a b c d e f g h i j k l m n o p q\n", "more than 16 names");
        refused("[scope]\nmodels = a\xff\n", "printable ASCII");
}

/* ---------------------------------------------------------------- the rule */

static struct sfu_key *new_key(const char *scope_text) {
        struct sfu_key *key = NULL;
        struct sfu_err err = SFU_ERR_INIT;

        if (sfu_key_generate("ES256", &key, &err) < 0) {
                printf("Bail out! %s\n", err.message);
                exit(1);
        }
        if (scope_text)
                key->scope = parse(scope_text);
        return key;
}

static const char *const MANIFEST =
        "{\"manifestVersion\": \"1.0\", \"timestamp\": \"2026-01-01T00:00:00Z\", \"manufacturer\": \"example.com\","
        " \"model\": \"gw100\", \"firmwareVersion\": \"1.2.0\", %s"
        " \"images\": ["
        "  {\"name\": \"rootfs\", \"slotClass\": \"rootfs\", \"location\": \"r.img\", \"size\": 10,"
        "   \"commitHash\": [{\"digestAlgo\": \"sha256\", \"hash\": \"%064d\"}]},"
        "  {\"name\": \"modem\", \"slotClass\": \"modem\", \"location\": \"m.img\", \"size\": 10,"
        "   \"commitHash\": [{\"digestAlgo\": \"sha256\", \"hash\": \"%064d\"}]}]}";

/* The manifest (extra members first) signed by each key of keys. */
static char *sign_all(const char *extra, struct sfu_key *const *keys, size_t n) {
        char payload[4096];
        char *jws = NULL;
        struct sfu_err err = SFU_ERR_INIT;

        snprintf(payload, sizeof(payload), MANIFEST, extra, 0, 0);
        for (size_t i = 0; i < n; i++) {
                struct sfu_jws_sign_opts o = { .alg = SFU_ALG_ES256, .form = SFU_JWS_GENERAL };
                char *next = NULL;
                int r;
                if (i == 0)
                        r = sfu_jws_sign((const uint8_t *) payload, strlen(payload), keys[i], &o, &next, &err);
                else {
                        struct sfu_jws *parsed = NULL;
                        r = sfu_jws_parse(jws, strlen(jws), &parsed, &err);
                        if (r >= 0)
                                r = sfu_jws_add_signature(parsed, keys[i], &o, &next, &err);
                        sfu_jws_free(parsed);
                }
                free(jws);
                jws = next;
                if (r < 0) {
                        printf("Bail out! sign: %s\n", err.message);
                        exit(1);
                }
        }
        return jws;
}

/* A report's names point into the manifest: it lives as long as m. */
static struct sfu_manifest *m;

static int open_with(const char *jws, const struct sfu_keyring *ring, unsigned min, struct sfu_scope_report *rep,
                     struct sfu_err *err) {
        struct sfu_signed_opts opts = { .min_signatures = min, .scope_report = rep };

        sfu_manifest_free(m);
        m = NULL;
        return sfu_signed_open(jws, strlen(jws), ring, &opts, &m, NULL, err);
}

static void test_rule(void) {
        struct sfu_keyring *ring = NULL;
        struct sfu_key *oem = new_key(NULL);
        struct sfu_key *vendor = new_key("[scope]\nslot-classes = modem\nmin-signatures = 2\n");
        struct sfu_key *other = new_key("[scope]\nmodels = gw200\n");
        struct sfu_key *manager = new_key("[scope]\nslot-classes = rootfs modem\nkeys = yes\n");
        struct sfu_scope_report rep;
        struct sfu_err err = SFU_ERR_INIT;
        char *jws;

        if (sfu_keyring_new(&ring) < 0 || sfu_keyring_add(ring, oem, &err) < 0 ||
            sfu_keyring_add(ring, vendor, &err) < 0 || sfu_keyring_add(ring, other, &err) < 0 ||
            sfu_keyring_add(ring, manager, &err) < 0)
                exit(1);

        jws = sign_all("", (struct sfu_key *[]) { oem }, 1);
        ok(open_with(jws, ring, 1, NULL, &err) < 0 && strstr(err.message, "component \"modem\" needs 2 signatures"),
           "the vendor's scope asks 2 signatures for modem; the OEM alone is not enough (%s)", err.message);
        free(jws);

        jws = sign_all("", (struct sfu_key *[]) { oem, vendor }, 2);
        sfu_err_clear(&err);
        ok(open_with(jws, ring, 1, &rep, &err) == 0, "OEM + vendor: accepted (%s)", err.message);
        ok(rep.n_components == 2 && !strcmp(rep.components[0].name, "rootfs") && rep.components[0].n_keys == 1 &&
                   rep.components[0].keys[0] == oem && rep.components[1].n_keys == 2 && rep.components[1].need == 2,
           "the report: rootfs by the OEM, modem by both, needing 2");
        free(jws);

        jws = sign_all("", (struct sfu_key *[]) { vendor }, 1);
        sfu_err_clear(&err);
        ok(open_with(jws, ring, 1, NULL, &err) < 0 &&
                   strstr(err.message, "no signing key's scope covers component \"rootfs\""),
           "the vendor alone cannot vouch for rootfs (%s)", err.message);
        free(jws);

        jws = sign_all("", (struct sfu_key *[]) { other }, 1);
        sfu_err_clear(&err);
        ok(open_with(jws, ring, 1, NULL, &err) < 0 && strstr(err.message, "no signing key's scope covers"),
           "a key for another model covers nothing of gw100 (%s)", err.message);
        free(jws);

        sfu_keyring_free(ring);

        /* keyInfo: only keys that may manage keys count for it. */
        struct sfu_key *builder = new_key("[scope]\nslot-classes = rootfs\n");
        struct sfu_key *modem = new_key("[scope]\nslot-classes = modem\n");
        manager = new_key("[scope]\nslot-classes = rootfs modem\nkeys = yes\n");
        if (sfu_keyring_new(&ring) < 0 || sfu_keyring_add(ring, builder, &err) < 0 ||
            sfu_keyring_add(ring, modem, &err) < 0 || sfu_keyring_add(ring, manager, &err) < 0)
                exit(1);
        jws = sign_all("", (struct sfu_key *[]) { builder, modem }, 2);
        sfu_err_clear(&err);
        ok(open_with(jws, ring, 1, NULL, &err) == 0, "two keys each covering one component: accepted (%s)",
           err.message);
        free(jws);
        jws = sign_all("\"keyInfo\": {\"revokedKeys\": [\"x\"]},", (struct sfu_key *[]) { builder, modem }, 2);
        sfu_err_clear(&err);
        ok(open_with(jws, ring, 1, NULL, &err) < 0 && strstr(err.message, "keyInfo needs 1 signatures"),
           "... but their keyInfo is refused: neither may manage keys (%s)", err.message);
        free(jws);
        jws = sign_all("\"keyInfo\": {\"revokedKeys\": [\"x\"]},", (struct sfu_key *[]) { builder, modem, manager },
                       3);
        sfu_err_clear(&err);
        ok(open_with(jws, ring, 1, NULL, &err) == 0, "... a key with keys = yes may (%s)", err.message);
        free(jws);
        sfu_keyring_free(ring);
}

/* ---------------------------------------------------------------- keys.d */

static void put(const char *dir, const char *name, const char *text) {
        char path[4096];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "w");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                exit(1);
}

static void test_dir(void) {
        char *dir = tap_mkdtemp(), *pem = NULL, path[4096];
        struct sfu_key *key = new_key(NULL);
        struct sfu_keyring *ring = NULL;
        struct sfu_err err = SFU_ERR_INIT;

        if (sfu_key_to_pem(key, false, &pem) < 0)
                exit(1);
        put(dir, "vendor.pem", pem);
        put(dir, "vendor.scope", "[scope]\nslot-classes = modem\n");
        ok(sfu_keyring_new(&ring) == 0 && sfu_keyring_load_dir(ring, dir, &err) == 0 && ring->n_keys == 1 &&
                   ring->keys[0]->scope && !strcmp(ring->keys[0]->scope->slot_classes[0], "modem"),
           "vendor.scope limits vendor.pem (%s)", err.message);
        sfu_keyring_free(ring);

        put(dir, "vendor.scope", "[scope]\nslot-class = modem\n");
        sfu_err_clear(&err);
        ok(sfu_keyring_new(&ring) == 0 && sfu_keyring_load_dir(ring, dir, &err) < 0 &&
                   strstr(err.message, "vendor.scope:2: unknown key"),
           "a scope that does not parse keeps the key out (%s)", err.message);
        sfu_keyring_free(ring);

        put(dir, "vendor.scope", "[scope]\nslot-classes = modem\n");
        put(dir, "vendr.scope", "[scope]\nslot-classes = modem\n");
        sfu_err_clear(&err);
        ok(sfu_keyring_new(&ring) == 0 && sfu_keyring_load_dir(ring, dir, &err) < 0 &&
                   strstr(err.message, "vendr.scope limits no key"),
           "a scope beside no key stops the load (%s)", err.message);
        sfu_keyring_free(ring);
        snprintf(path, sizeof(path), "%s/vendr.scope", dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/vendor.scope", dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/vendor.pem", dir);
        unlink(path);
        rmdir(dir);
        free(dir);
        free(pem);
        sfu_key_free(key);
}

/* ---------------------------------------------------------------- providers */

static const char *const PROVIDED =
        "{\"manifestVersion\": \"1.0\", \"timestamp\": \"2026-01-01T00:00:00Z\", \"manufacturer\": \"example.com\","
        " \"model\": \"gw100\", \"firmwareVersion\": \"1.2.0\", %s"
        " \"images\": [{\"name\": \"rootfs\", \"slotClass\": \"rootfs\", \"location\": \"r.img\", \"size\": 10,"
        "   \"commitHash\": [{\"digestAlgo\": \"sha256\", \"hash\": \"%064d\"}]}],"
        " \"providers\": [%s]}";

static int provided(const char *crit, const char *entries, struct sfu_manifest **ret, struct sfu_err *err) {
        char text[4096];

        snprintf(text, sizeof(text), PROVIDED, crit, 0, entries);
        return sfu_manifest_parse_json(text, strlen(text), SFU_MANIFEST_MAX_SIZE, ret, err);
}

static void provider_refused(const char *entries, const char *reason) {
        struct sfu_manifest *p = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        int r = provided("\"crit\": [\"providers\"],", entries, &p, &err);

        ok(r < 0 && strstr(err.message, reason), "providers refused: %s (%s)", reason, err.message);
        sfu_manifest_free(p);
}

static void test_providers(void) {
        struct sfu_err err = SFU_ERR_INIT;
        json_t *back = NULL;

        ok(provided("\"crit\": [\"providers\"],",
                    "{\"name\": \"modem\", \"slotClass\": \"modem\", \"manifest\": \"https://v.example/m.jws\","
                    " \"kid\": \"vendor-1\", \"minVersion\": \"2.1.0\"}",
                    &m, &err) == 0 &&
                   m->n_providers == 1 && !strcmp(m->providers[0].kid, "vendor-1") &&
                   m->providers[0].has_min_version && m->providers[0].min_version.minor == 1,
           "a provider entry parses (%s)", err.message);
        ok(m && sfu_manifest_to_json(m, &back) == 0 &&
                   json_is_string(json_object_get(json_array_get(json_object_get(back, "providers"), 0), "minVersion")),
           "... and comes back in the JSON form");
        json_decref(back);
        sfu_manifest_free(m);
        m = NULL;

        sfu_err_clear(&err);
        ok(provided("", "{\"name\": \"modem\", \"slotClass\": \"modem\", \"manifest\": \"m.jws\", \"kid\": \"k\"}", &m,
                    &err) < 0 &&
                   strstr(err.message, "does not name it in \"crit\""),
           "providers without crit are refused: an older device must not stage half of the set (%s)", err.message);
        sfu_manifest_free(m);
        provider_refused("{\"name\": \"modem\", \"slotClass\": \"modem\", \"manifest\": \"m.jws\"}",
                         "exactly one of \"kid\"");
        provider_refused("{\"name\": \"modem\", \"slotClass\": \"modem\", \"manifest\": \"m.jws\", \"kid\": \"k\","
                         " \"key\": {\"kty\": \"EC\"}}",
                         "exactly one of \"kid\"");
        provider_refused("{\"name\": \"rootfs\", \"slotClass\": \"modem\", \"manifest\": \"m.jws\", \"kid\": \"k\"}",
                         "names the component \"rootfs\" twice");
        provider_refused("{\"name\": \"modem\", \"slotClass\": \"rootfs\", \"manifest\": \"m.jws\", \"kid\": \"k\"}",
                         "two components to slot class \"rootfs\"");
        provider_refused("{\"name\": \"modem\", \"slotClass\": \"modem\", \"manifest\": \"ftp://x/m\", \"kid\": \"k\"}",
                         "providers[0].manifest");
        provider_refused("{\"name\": \"modem\", \"slotClass\": \"modem\", \"manifest\": \"m.jws\", \"kid\": \"k\","
                         " \"minVersion\": \"2.1\"}",
                         "providers[0].minVersion");
        provider_refused("{\"name\": \"modem\", \"slotClass\": \"modem\", \"manifest\": \"m.jws\","
                         " \"key\": {\"kty\": \"EC\", \"d\": \"secret\"}}",
                         "private key material");
}

int main(void) {
        test_file();
        test_rule();
        sfu_manifest_free(m);
        m = NULL;
        test_dir();
        test_providers();
        return tap_done();
}
