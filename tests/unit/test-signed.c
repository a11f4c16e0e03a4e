/* SPDX-License-Identifier: MIT */
/* A signed manifest in any form: recognised by its bytes, opened through
 * one path (signature rule, manifest model), refused when the form is not
 * taken or the server's content type contradicts the bytes; HSS-LMS over
 * COSE with a trust-store key built from its public key bytes. */
#include <string.h>

#include "core/cbor.h"
#include "core/cose.h"
#include "core/hss-sign.h"
#include "core/json.h"
#include "core/jws.h"
#include "core/signed.h"
#include "tap.h"

static struct sfu_key *load_key(const char *name, bool want_private) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_key *key = NULL;
        if (sfu_key_load_file(tap_data(name), want_private, &key, &err) < 0) {
                printf("Bail out! cannot load %s: %s\n", name, err.message);
                exit(1);
        }
        return key;
}

static char *manifest_text;
static size_t manifest_len;

static void detect_is(const char *what, const void *buf, size_t len, int want) {
        enum sfu_signed_form form = _SFU_SIGNED_FORM_MAX;
        int r = sfu_signed_detect(buf, len, &form);
        ok(want < 0 ? r < 0 : (r == 0 && form == (enum sfu_signed_form) want), "detect %s: %s", what,
           r < 0 ? "none" : sfu_signed_form_name(form));
}

static void test_detect(void) {
        static const uint8_t sign1[] = { 0xd2, 0x84 }, sign[] = { 0xd8, 0x62, 0x84 }, sign1_long[] = { 0xd8, 0x12 };
        static const uint8_t mac0[] = { 0xd1, 0x84 }, untagged[] = { 0x84, 0x40 };

        detect_is("a compact JWS", "eyJh.eyJi.c2ln", 14, SFU_SIGNED_JWS_COMPACT);
        detect_is("a JSON JWS", "  \n{\"payload\":\"x\"}", 19, SFU_SIGNED_JWS_JSON);
        detect_is("a COSE_Sign1 (tag 18)", sign1, sizeof(sign1), SFU_SIGNED_COSE_SIGN1);
        detect_is("a COSE_Sign1 (tag 18, two-byte head)", sign1_long, sizeof(sign1_long), SFU_SIGNED_COSE_SIGN1);
        detect_is("a COSE_Sign (tag 98)", sign, sizeof(sign), SFU_SIGNED_COSE_SIGN);
        detect_is("a COSE_Mac0 (tag 17)", mac0, sizeof(mac0), -1);
        detect_is("an untagged COSE array", untagged, sizeof(untagged), -1);
        detect_is("a shadow file", "root:$6$x$y:19000:0:99999:7:::\n", 32, -1);
        detect_is("one dot (the JWS parser names the segments)", "abc.def", 7, SFU_SIGNED_JWS_COMPACT);
        detect_is("padded base64url with dots", "eyJh=.eyJi.c2ln==\n", 18, SFU_SIGNED_JWS_COMPACT);
        detect_is("a long base64url run without dots", "eyJhbGciOiJFUzI1NiJ9", 20, SFU_SIGNED_JWS_COMPACT);
        detect_is("a short word", "abc", 3, -1);
        detect_is("prose", "not a manifest at all", 21, -1);
        detect_is("binary", "\x01\x02\x03.", 4, -1);
        detect_is("nothing", "", 0, -1);
}

struct opened {
        int r;
        struct sfu_err err;
        struct sfu_signed_info info;
        struct sfu_manifest *manifest;
};

static struct opened open_it(const void *buf, size_t len, const struct sfu_keyring *ring,
                             const struct sfu_signed_opts *opts) {
        struct opened o = { .err = SFU_ERR_INIT };
        o.r = sfu_signed_open(buf, len, ring, opts, &o.manifest, &o.info, &o.err);
        return o;
}

static void opened_ok(struct opened o, enum sfu_signed_form form, bool cbor, unsigned algs, const char *what) {
        ok(o.r == 0 && o.info.form == form && o.info.cbor == cbor && o.info.alg_mask == algs && o.manifest &&
                   sfu_streq(o.manifest->version_text, "10.4.12"),
           "%s: opened as %s, %s manifest (%s)", what, sfu_signed_form_name(form), cbor ? "CBOR" : "JSON",
           o.err.message);
        sfu_manifest_free(o.manifest);
}

static void opened_refused(struct opened o, enum sfu_err_code code, const char *reason, const char *what) {
        ok(o.r < 0 && o.err.code == code && strstr(o.err.message, reason) && !o.manifest,
           "%s: refused, %s \"%s\" (got %s \"%s\")", what, sfu_err_code_name(code), reason,
           sfu_err_code_name(o.err.code), o.err.message);
        sfu_manifest_free(o.manifest);
}

static void test_open(void) {
        struct sfu_key *p256 = load_key("keys/ec-p256.pem", true);
        _cleanup_keyring_ struct sfu_keyring *ring = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        _cleanup_free_ char *jws = NULL;
        _cleanup_free_ uint8_t *cbor = NULL, *cose_cbor = NULL, *cose_json = NULL;
        _cleanup_json_ json_t *tree = NULL;
        size_t cbor_len = 0, cose_cbor_len = 0, cose_json_len = 0;
        const unsigned es256 = SFU_ALG_MASK(SFU_ALG_ES256);

        if (sfu_keyring_new(&ring) < 0 || sfu_keyring_add(ring, load_key("keys/ec-p256.pub.pem", false), &err) < 0)
                abort();
        ok(sfu_jws_sign((const uint8_t *) manifest_text, manifest_len, p256,
                        &(struct sfu_jws_sign_opts) { .alg = SFU_ALG_ES256 }, &jws, &err) == 0,
           "a JWS of the manifest");
        ok(sfu_json_parse_object(manifest_text, manifest_len, SFU_MANIFEST_MAX_SIZE, &tree, &err) == 0 &&
                   sfu_cbor_encode_json(tree, SFU_MANIFEST_CBOR_BYTES_KEY, &cbor, &cbor_len, &err) == 0,
           "the manifest as CBOR");
        ok(sfu_cose_sign1(cbor, cbor_len, p256,
                          &(struct sfu_cose_sign_opts) { .alg = SFU_ALG_ES256, .content = SFU_COSE_CONTENT_CBOR },
                          &cose_cbor, &cose_cbor_len, &err) == 0 &&
                   sfu_cose_sign(
                           (const uint8_t *) manifest_text, manifest_len, p256,
                           &(struct sfu_cose_sign_opts) { .alg = SFU_ALG_ES256, .content = SFU_COSE_CONTENT_JSON },
                           &cose_json, &cose_json_len, &err) == 0,
           "a COSE_Sign1 over the CBOR manifest, a COSE_Sign over manifest.json");

        opened_ok(open_it(jws, strlen(jws), ring, NULL), SFU_SIGNED_JWS_COMPACT, false, es256, "JWS");
        opened_ok(open_it(cose_cbor, cose_cbor_len, ring, NULL), SFU_SIGNED_COSE_SIGN1, true, es256, "COSE_Sign1");
        opened_ok(open_it(cose_json, cose_json_len, ring, NULL), SFU_SIGNED_COSE_SIGN, false, es256, "COSE_Sign");
        opened_ok(open_it(jws, strlen(jws), ring, &(struct sfu_signed_opts) { .content_type = "application/json" }),
                  SFU_SIGNED_JWS_COMPACT, false, es256, "JWS served as application/json");
        opened_ok(open_it(cose_cbor, cose_cbor_len, ring,
                          &(struct sfu_signed_opts) { .content_type = "application/cose; cose-type=\"cose-sign1\"" }),
                  SFU_SIGNED_COSE_SIGN1, true, es256, "COSE served as application/cose");

        opened_refused(open_it(cose_cbor, cose_cbor_len, ring,
                               &(struct sfu_signed_opts) { .families = SFU_SIGNED_FAMILY_MASK(SFU_SIGNED_FAMILY_JWS) }),
                       SFU_ERR_POLICY, "a form this device does not take", "COSE to a device that takes JWS only");
        opened_refused(open_it(jws, strlen(jws), ring,
                               &(struct sfu_signed_opts) { .families = SFU_SIGNED_FAMILY_MASK(SFU_SIGNED_FAMILY_COSE) }),
                       SFU_ERR_POLICY, "a form this device does not take", "JWS to a device that takes COSE only");
        opened_refused(open_it(jws, strlen(jws), ring, &(struct sfu_signed_opts) { .content_type = "application/cose" }),
                       SFU_ERR_PARSE, "the server says application/cose, but the manifest is a JWS (compact)",
                       "a JWS served as application/cose");
        opened_refused(open_it(cose_cbor, cose_cbor_len, ring,
                               &(struct sfu_signed_opts) { .content_type = "application/jose+json" }),
                       SFU_ERR_PARSE, "but the manifest is a COSE_Sign1", "a COSE_Sign1 served as application/jose+json");
        opened_refused(open_it(manifest_text, manifest_len, ring, NULL), SFU_ERR_PARSE, "no \"payload\"",
                       "an unsigned JSON manifest (it looks like a JSON JWS)");
        opened_refused(open_it("root:x:0:0::/root:/bin/sh\n", 26, ring, NULL), SFU_ERR_PARSE,
                       "not a signed manifest: neither a JWS", "a passwd line");
        opened_refused(open_it(cose_cbor, cose_cbor_len, ring,
                               &(struct sfu_signed_opts) { .alg_allow = SFU_ALG_MASK(SFU_ALG_EDDSA) }),
                       SFU_ERR_POLICY, "not in the allowed list", "COSE ES256, algorithms = EdDSA");
        cose_cbor[cose_cbor_len - 1] ^= 1;
        opened_refused(open_it(cose_cbor, cose_cbor_len, ring, NULL), SFU_ERR_SIGNATURE, "does not verify",
                       "COSE_Sign1 with a flipped signature bit");
        sfu_key_free(p256);
}

static int sign_hss(void *userdata, const void *input, size_t input_len, uint8_t **ret, size_t *ret_len,
                    struct sfu_err *err) {
        return sfu_hss_sign(userdata, input, input_len, ret, ret_len, err);
}

static void test_hss(void) {
        struct sfu_hss_key *hss = NULL;
        struct sfu_hss_params params;
        uint8_t pub[SFU_HSS_PUBLIC_KEY_SIZE];
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_key *trusted = NULL;
        _cleanup_keyring_ struct sfu_keyring *ring = NULL;
        _cleanup_free_ uint8_t *cose = NULL;
        size_t cose_len = 0;

        ok(sfu_hss_params_from_string("H5/W4,H5/W4", &params, &err) == 0 && sfu_hss_keygen(&params, &hss, &err) == 0,
           "an HSS key of two levels (H5/W4)");
        if (!hss)
                return;
        sfu_hss_key_public(hss, pub);
        ok(sfu_key_from_hss(pub, sizeof(pub), "test.hss", &trusted, &err) == 0 && trusted->type == SFU_KEY_HSS &&
                   strlen(trusted->kid) == 43,
           "its public key as a trust-store key, kid %s", trusted ? trusted->kid : "-");
        ok(sfu_keyring_new(&ring) == 0 && sfu_keyring_add(ring, trusted, &err) == 0, "a ring of it");
        {
                const struct sfu_signer signer = {
                        .alg = SFU_ALG_HSS_LMS, .kid = trusted->kid, .sign = sign_hss, .userdata = hss,
                };
                ok(sfu_cose_sign1_with((const uint8_t *) manifest_text, manifest_len, SFU_COSE_CONTENT_JSON, &signer,
                                       &cose, &cose_len, &err) == 0,
                   "COSE_Sign1 HSS-LMS over manifest.json (hash-sigs(manifest.json, key))");
        }
        opened_ok(open_it(cose, cose_len, ring, NULL), SFU_SIGNED_COSE_SIGN1, false, SFU_ALG_MASK(SFU_ALG_HSS_LMS),
                  "COSE_Sign1 HSS-LMS");
        opened_refused(open_it(cose, cose_len, ring,
                               &(struct sfu_signed_opts) { .alg_allow = SFU_ALG_MASK_ALL & ~SFU_ALG_MASK(SFU_ALG_HSS_LMS) }),
                       SFU_ERR_POLICY, "alg \"HSS-LMS\" is not in the allowed list", "HSS-LMS not allowed");
        cose[cose_len / 2] ^= 0x40;
        opened_refused(open_it(cose, cose_len, ring, NULL), SFU_ERR_SIGNATURE, "", "HSS-LMS with a flipped bit");
        sfu_hss_key_free(hss);
}

/* Which trusted keys vouched: the distinct keys that counted, in order,
 * pointing into the ring; a key the ring lacks and a second signature by
 * one key are not among them. */
static void test_signer_keys(void) {
        struct sfu_key *p256 = load_key("keys/ec-p256.pem", true), *ed = load_key("keys/ed25519.pem", true);
        struct sfu_key *p384 = load_key("keys/ec-p384.pem", true);
        _cleanup_keyring_ struct sfu_keyring *ring = NULL;
        _cleanup_cose_ struct sfu_cose *one = NULL, *two = NULL;
        _cleanup_free_ uint8_t *c1 = NULL, *c2 = NULL, *c3 = NULL;
        _cleanup_jws_ struct sfu_jws *jws = NULL;
        _cleanup_free_ char *j1 = NULL, *j2 = NULL;
        const struct sfu_cose_sign_opts es = { .alg = SFU_ALG_ES256, .content = SFU_COSE_CONTENT_JSON };
        struct sfu_err err = SFU_ERR_INIT;
        size_t l1 = 0, l2 = 0, l3 = 0;
        struct opened o;

        if (sfu_keyring_new(&ring) < 0 || sfu_keyring_add(ring, load_key("keys/ed25519.pub.pem", false), &err) < 0 ||
            sfu_keyring_add(ring, load_key("keys/ec-p256.pub.pem", false), &err) < 0)
                abort();
        /* P-256, then P-384 (not trusted), then Ed25519. */
        ok(sfu_cose_sign((const uint8_t *) manifest_text, manifest_len, p256, &es, &c1, &l1, &err) == 0 &&
                   sfu_cose_parse(c1, l1, &one, &err) == 0 &&
                   sfu_cose_add_signature(one, p384, &(struct sfu_cose_sign_opts) { .alg = SFU_ALG_ES384 }, &c2, &l2,
                                          &err) == 0 &&
                   sfu_cose_parse(c2, l2, &two, &err) == 0 &&
                   sfu_cose_add_signature(two, ed, &(struct sfu_cose_sign_opts) { .alg = SFU_ALG_EDDSA }, &c3, &l3,
                                          &err) == 0,
           "a COSE_Sign by P-256, P-384 and Ed25519 (%s)", err.message);
        o = open_it(c3, l3, ring, NULL);
        ok(o.r == 0 && o.info.signers == 2 && o.info.signer_keys[0] == ring->keys[1] &&
                   o.info.signer_keys[1] == ring->keys[0],
           "COSE_Sign: the keys that vouched are the ring's P-256 and Ed25519 keys, in the signatures' order");
        sfu_manifest_free(o.manifest);
        /* A general JWS with two signatures by the same key: one signer. */
        ok(sfu_jws_sign((const uint8_t *) manifest_text, manifest_len, ed,
                        &(struct sfu_jws_sign_opts) { .alg = SFU_ALG_EDDSA }, &j1, &err) == 0 &&
                   sfu_jws_parse(j1, strlen(j1), &jws, &err) == 0 &&
                   sfu_jws_add_signature(jws, ed, &(struct sfu_jws_sign_opts) { .alg = SFU_ALG_EDDSA },
                                         &j2, &err) == 0,
           "a general JWS signed twice by the Ed25519 key (%s)", err.message);
        o = open_it(j2, strlen(j2), ring, NULL);
        ok(o.r == 0 && o.info.signers == 1 && o.info.signer_keys[0] == ring->keys[0],
           "JWS: one key vouched, the ring's Ed25519 key");
        sfu_manifest_free(o.manifest);
        sfu_key_free(p256);
        sfu_key_free(ed);
        sfu_key_free(p384);
}

int main(void) {
        manifest_text = tap_read_file(tap_data("manifest/minimal.json"), &manifest_len);
        if (!manifest_text) {
                printf("Bail out! no manifest/minimal.json\n");
                return 1;
        }
        test_detect();
        test_open();
        test_signer_keys();
        test_hss();
        free(manifest_text);
        return tap_done();
}
