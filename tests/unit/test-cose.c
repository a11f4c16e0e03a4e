/* SPDX-License-Identifier: MIT */
/* COSE: the published examples (RFC 8152 Appendix C, repeated in RFC 9052,
 * and the cose-wg Sign1 pass/fail cases), Sig_structure against their
 * intermediate values, sign/verify round trips of all ten algorithms as
 * COSE_Sign1 and COSE_Sign, the multi-signer count, and one refusal per
 * rule (cose.h), each with its reason.  Structures that break a rule are
 * assembled here from CBOR parts and signed with sfu_sig_sign over a
 * Sig_structure built here too, so that they carry valid signatures and
 * are refused for the rule alone. */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "core/cbor.h"
#include "core/cose.h"
#include "core/hex.h"
#include "core/json.h"
#include "core/manifest.h"
#include "core/sig.h"
#include "tap.h"

#define NOT_WRITTEN ((struct sfu_cose *) 0x1)

struct bytes {
        uint8_t *p;
        size_t len;
};

static void bytes_free(struct bytes *b) {
        free(b->p);
        *b = (struct bytes){};
}

static struct bytes cbor_payload, json_payload;

/* ---------------------------------------------------------------- helpers */

/* A ring of the public keys named (NULL-terminated). */
static struct sfu_keyring *ring_of(const char *first, ...) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_keyring *ring = NULL;
        va_list ap;

        if (sfu_keyring_new(&ring) < 0)
                abort();
        va_start(ap, first);
        for (const char *name = first; name; name = va_arg(ap, const char *))
                if (sfu_keyring_add(ring, tap_load_key(name, false), &err) < 0) {
                        printf("Bail out! keyring: %s\n", err.message);
                        exit(1);
                }
        va_end(ap);
        return ring;
}

static struct bytes read_data(const char *name) {
        struct bytes b;
        b.p = (uint8_t *) tap_read_file(tap_data(name), &b.len);
        return b;
}

static struct bytes unhex(const char *hex) {
        size_t n = 0, len = strlen(hex);
        struct bytes b = { malloc(len / 2 + 1), 0 };

        if (!b.p)
                abort();
        for (size_t i = 0; i < len; i += 2) {
                char pair[3] = { hex[i], i + 1 < len ? hex[i + 1] : 0, 0 };
                if (sfu_hex_decode(pair, b.p + n++, 1) < 0)
                        abort();
        }
        b.len = n;
        return b;
}

/* An exact-size heap copy (ASan sees reads past the end). */
static struct bytes copy(const uint8_t *p, size_t len) {
        struct bytes b = { malloc(len ? len : 1), len };
        if (!b.p)
                abort();
        if (len)
                memcpy(b.p, p, len);
        return b;
}

static struct bytes finish(struct sfu_cbor_writer *w) {
        struct bytes b = {};
        if (sfu_cbor_writer_finish(w, &b.p, &b.len) < 0)
                abort();
        return b;
}

/* Writers for building headers and structures. */
static void w_map(struct sfu_cbor_writer *w, uint64_t n) { sfu_cbor_write_head(w, SFU_CBOR_MAJOR_MAP, n); }
static void w_array(struct sfu_cbor_writer *w, uint64_t n) { sfu_cbor_write_head(w, SFU_CBOR_MAJOR_ARRAY, n); }
static void w_int(struct sfu_cbor_writer *w, int64_t v) { sfu_cbor_write_int(w, v); }
static void w_text(struct sfu_cbor_writer *w, const char *s) { sfu_cbor_write_text(w, s, strlen(s)); }
static void w_bstr(struct sfu_cbor_writer *w, const void *p, size_t n) { sfu_cbor_write_bytes(w, p, n); }

/* A common protected header {1: alg, 3: content type, 4: kid}. */
static struct bytes header(int64_t alg, const char *content_type, const char *kid) {
        struct sfu_cbor_writer w = {};
        w_map(&w, 1 + !!content_type + !!kid);
        w_int(&w, 1);
        w_int(&w, alg);
        if (content_type) {
                w_int(&w, 3);
                w_text(&w, content_type);
        }
        if (kid) {
                w_int(&w, 4);
                w_bstr(&w, kid, strlen(kid));
        }
        return finish(&w);
}

static struct bytes empty_map(void) {
        return unhex("a0");
}

/* Signs the Sig_structure built here (RFC 9052 4.4): sign_prot NULL for
 * "Signature1". */
static struct bytes forge_sig(const struct sfu_key *key, enum sfu_alg alg, const struct bytes *body_prot,
                              const struct bytes *sign_prot, const struct bytes *payload) {
        struct sfu_cbor_writer w = {};
        struct bytes tbs, sig = {};

        w_array(&w, sign_prot ? 5 : 4);
        w_text(&w, sign_prot ? "Signature" : "Signature1");
        w_bstr(&w, body_prot->p, body_prot->len);
        if (sign_prot)
                w_bstr(&w, sign_prot->p, sign_prot->len);
        w_bstr(&w, NULL, 0);
        w_bstr(&w, payload->p, payload->len);
        tbs = finish(&w);
        if (sfu_sig_sign(alg, key, tbs.p, tbs.len, &sig.p, &sig.len) < 0)
                abort();
        bytes_free(&tbs);
        return sig;
}

/* tag(18)[prot, unprot (encoded map), payload, signature by key]; tag 0:
 * no tag. */
static struct bytes forge_sign1(uint64_t tag, const struct bytes *prot, const struct bytes *unprot,
                                const struct bytes *payload, const struct sfu_key *key, enum sfu_alg alg) {
        struct sfu_cbor_writer w = {};
        struct bytes sig = forge_sig(key, alg, prot, NULL, payload);

        if (tag)
                sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_TAG, tag);
        w_array(&w, 4);
        w_bstr(&w, prot->p, prot->len);
        sfu_cbor_write_raw(&w, unprot->p, unprot->len);
        w_bstr(&w, payload->p, payload->len);
        w_bstr(&w, sig.p, sig.len);
        bytes_free(&sig);
        return finish(&w);
}

/* Parse and verify; 0 or the error, with *err filled. */
static int check(const struct bytes *b, const struct sfu_keyring *ring, const struct sfu_cose_verify_opts *opts,
                 unsigned *valid, struct sfu_err *err) {
        _cleanup_cose_ struct sfu_cose *cose = NULL;
        struct bytes c = copy(b->p, b->len);
        int r = sfu_cose_parse(c.p, c.len, &cose, err);
        if (r == 0)
                r = sfu_cose_verify(cose, ring, opts, valid, err);
        bytes_free(&c);
        return r;
}

static void refused_b(const struct bytes *b, const struct sfu_keyring *ring, const struct sfu_cose_verify_opts *opts,
                      enum sfu_err_code code, const char *reason, const char *desc) {
        struct sfu_err err = SFU_ERR_INIT;
        unsigned valid = 77;
        int r = check(b, ring, opts, &valid, &err);

        ok(r < 0 && valid == 77 && err.code == code && strstr(err.message, reason) && tap_one_line(err.message),
           "refused: %s (want %s \"%s\", got %d %s \"%s\")", desc, sfu_err_code_name(code), reason, r,
           sfu_err_code_name(err.code), err.message);
}

/* Takes b. */
static void refused(struct bytes b, const struct sfu_keyring *ring, enum sfu_err_code code, const char *reason,
                    const char *desc) {
        refused_b(&b, ring, NULL, code, reason, desc);
        bytes_free(&b);
}

static void parse_refused(struct bytes b, enum sfu_err_code code, const char *reason, const char *desc) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_cose *cose = NOT_WRITTEN;
        struct bytes c = copy(b.p, b.len);
        int r = sfu_cose_parse(c.p, c.len, &cose, &err);

        ok(r < 0 && cose == NOT_WRITTEN && err.code == code && strstr(err.message, reason) &&
                   tap_one_line(err.message),
           "parse refused: %s (want \"%s\", got %d \"%s\")", desc, reason, r, err.message);
        if (r == 0)
                sfu_cose_free(cose);
        bytes_free(&c);
        bytes_free(&b);
}

static void accepted_b(const struct bytes *b, const struct sfu_keyring *ring, const struct sfu_cose_verify_opts *opts,
                       unsigned want_valid, const char *desc) {
        struct sfu_err err = SFU_ERR_INIT;
        unsigned valid = 0;
        int r = check(b, ring, opts, &valid, &err);
        ok(r == 0 && valid == want_valid, "accepted: %s (valid %u, want %u; %s)", desc, valid, want_valid, err.message);
}

/* ---------------------------------------------------------------- examples */

struct notes {
        unsigned n;
        char first[SFU_ERR_MESSAGE_MAX];
};

static void collect(void *userdata, const char *message) {
        struct notes *notes = userdata;
        if (notes->n++ == 0)
                snprintf(notes->first, sizeof(notes->first), "%s", message);
}

static void collect_last(void *userdata, const char *message) {
        struct notes *notes = userdata;
        notes->n++;
        snprintf(notes->first, sizeof(notes->first), "%s", message);
}

static struct sfu_keyring *rfc_ring(bool with_bilbo) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_keyring *ring = NULL;
        const char *names[] = { "cose/key-11.pub.jwk", "cose/key-bilbo.pub.jwk" };

        if (sfu_keyring_new(&ring) < 0)
                abort();
        for (size_t i = 0; i < (with_bilbo ? 2u : 1u); i++) {
                struct sfu_key *key = tap_load_key(names[i], false);
                if (sfu_keyring_add(ring, key, &err) < 0)
                        abort();
        }
        return ring;
}

static void sig_structure_is(const char *file, size_t idx, const char *want_hex) {
        _cleanup_cose_ struct sfu_cose *cose = NULL;
        _cleanup_free_ uint8_t *tbs = NULL;
        _cleanup_free_ char *got = NULL;
        struct bytes b = read_data(file);
        size_t len = 0;
        char want[256];

        for (size_t i = 0; want_hex[i] && i < sizeof(want) - 1; i++)
                want[i] = (char) (want_hex[i] >= 'A' && want_hex[i] <= 'F' ? want_hex[i] + 32 : want_hex[i]);
        want[strlen(want_hex) < sizeof(want) ? strlen(want_hex) : sizeof(want) - 1] = 0;
        if (sfu_cose_parse(b.p, b.len, &cose, NULL) == 0 && sfu_cose_sig_structure(cose, idx, &tbs, &len) == 0)
                got = tap_hex(tbs, len);
        is_str(got, want, "Sig_structure (ToBeSigned) equals the example's intermediate value");
        bytes_free(&b);
}

static void test_examples(void) {
        const struct sfu_cose_verify_opts no_ct = { .content_allow = SFU_COSE_CONTENT_MASK(SFU_COSE_CONTENT_NONE) };
        const struct sfu_cose_verify_opts any_ct = {
                .content_allow = SFU_COSE_CONTENT_MASK(SFU_COSE_CONTENT_NONE) |
                                 SFU_COSE_CONTENT_MASK(SFU_COSE_CONTENT_OTHER),
        };
        struct sfu_keyring *ring = rfc_ring(false), *both = rfc_ring(true);
        struct bytes b;

        /* C.2.1: COSE_Sign1, ES256, kid '11' in the unprotected header. */
        b = read_data("cose/rfc8152-c2.1-sign1-es256.cbor");
        {
                _cleanup_cose_ struct sfu_cose *cose = NULL;
                ok(sfu_cose_parse(b.p, b.len, &cose, NULL) == 0 && cose->form == SFU_COSE_SIGN1 &&
                           cose->n_signatures == 1 && cose->payload_len == 20 &&
                           memcmp(cose->payload, "This is the content.", 20) == 0 &&
                           cose->content == SFU_COSE_CONTENT_NONE && cose->body.has_kid && cose->body.kid_len == 2,
                   "C.2.1 parses: COSE_Sign1, payload \"This is the content.\", kid '11', no content type");
        }
        sig_structure_is("cose/rfc8152-c2.1-sign1-es256.cbor", 0,
                         "846A5369676E61747572653143A101264054546869732069732074686520636F6E74656E742E");
        accepted_b(&b, ring, &no_ct, 1, "C.2.1 COSE_Sign1 ES256 verifies with the example's key '11'");
        refused_b(&b, ring, NULL, SFU_ERR_POLICY, "has no content type (3)",
                  "C.2.1 without a content type is not a manifest (default options)");
        bytes_free(&b);

        /* C.1.1: COSE_Sign, one ES256 signature. */
        b = read_data("cose/rfc8152-c1.1-sign-es256.cbor");
        sig_structure_is("cose/rfc8152-c1.1-sign-es256.cbor", 0,
                         "85695369676E61747572654043A101264054546869732069732074686520636F6E74656E742E");
        accepted_b(&b, ring, &no_ct, 1, "C.1.1 COSE_Sign ES256");
        bytes_free(&b);

        /* C.1.2: ES256 and ES512 signers. */
        b = read_data("cose/rfc8152-c1.2-sign-es256-es512.cbor");
        sig_structure_is("cose/rfc8152-c1.2-sign-es256-es512.cbor", 1,
                         "85695369676E61747572654044A10138234054546869732069732074686520636F6E74656E742E");
        {
                struct sfu_cose_verify_opts two = no_ct;
                two.min_signatures = 2;
                accepted_b(&b, both, &two, 2, "C.1.2 two signers (ES256, ES512 over P-521), min-signatures 2");
                refused_b(&b, ring, &two, SFU_ERR_SIGNATURE,
                          "1 distinct trusted key(s) signed, 2 required (2 signature(s)); signature 2: no trusted key with kid \"bilbo.baggins@hobbiton.example\"",
                          "C.1.2 with only key '11' trusted and min-signatures 2");
        }
        {
                struct notes notes = {};
                struct sfu_cose_verify_opts one = no_ct;
                one.note = collect;
                one.userdata = &notes;
                accepted_b(&b, ring, &one, 1, "C.1.2 with only key '11' trusted, min-signatures 1");
                ok(notes.n == 1 && strstr(notes.first, "signature 2: no trusted key with kid \"bilbo"),
                   "... the other signature is named in a note (%u: %s)", notes.n, notes.first);
        }
        bytes_free(&b);

        /* C.1.3 (RFC 8152): a countersignature in the unprotected header is
         * not used and does not hurt. */
        b = read_data("cose/rfc8152-c1.3-sign-countersignature.cbor");
        accepted_b(&b, ring, &no_ct, 1, "C.1.3 COSE_Sign with a countersignature (ignored)");
        bytes_free(&b);

        /* C.1.4 (C.1.3 in RFC 9052): crit names "reserved" in the body. */
        b = read_data("cose/rfc8152-c1.4-sign-crit.cbor");
        refused_b(&b, ring, &no_ct, SFU_ERR_SIGNATURE,
                  "the COSE_Sign body: header parameter \"crit\" names \"reserved\", which is not understood",
                  "C.1.4 crit [\"reserved\"]");
        bytes_free(&b);

        /* The cose-wg Sign1 cases: every "fail" fails, and the "pass" ones
         * break a rule of ours. */
        parse_refused(read_data("cose/examples-sign1-sign-fail-01.cbor"), SFU_ERR_PARSE,
                      "CBOR tag 998 is not a COSE signature", "sign-fail-01: wrong tag");
        b = read_data("cose/examples-sign1-sign-fail-02.cbor");
        refused_b(&b, ring, &no_ct, SFU_ERR_SIGNATURE, "signature does not verify with the trusted key with kid \"11\"",
                  "sign-fail-02: payload changed");
        bytes_free(&b);
        b = read_data("cose/examples-sign1-sign-fail-03.cbor");
        refused_b(&b, ring, &no_ct, SFU_ERR_SIGNATURE, "alg -999 is not supported", "sign-fail-03: alg -999");
        bytes_free(&b);
        b = read_data("cose/examples-sign1-sign-fail-04.cbor");
        refused_b(&b, ring, &no_ct, SFU_ERR_SIGNATURE, "alg \"unknown\" is not supported",
                  "sign-fail-04: alg \"unknown\"");
        bytes_free(&b);
        b = read_data("cose/examples-sign1-sign-fail-06.cbor");
        refused_b(&b, ring, &no_ct, SFU_ERR_POLICY, "content type 0 is not a manifest's",
                  "sign-fail-06: content type 0 added");
        refused_b(&b, ring, &any_ct, SFU_ERR_SIGNATURE, "does not verify", "sign-fail-06 ... and its signature fails");
        bytes_free(&b);
        b = read_data("cose/examples-sign1-sign-fail-07.cbor");
        refused_b(&b, ring, &any_ct, SFU_ERR_SIGNATURE, "does not verify", "sign-fail-07: protected content removed");
        bytes_free(&b);
        b = read_data("cose/examples-sign1-sign-pass-01.cbor");
        refused_b(&b, ring, &no_ct, SFU_ERR_SIGNATURE,
                  "signature 1: \"alg\" is only in the unprotected header; it must be in the protected header",
                  "sign-pass-01: protected h'a0', alg unprotected");
        bytes_free(&b);
        b = read_data("cose/examples-sign1-sign-pass-02.cbor");
        refused_b(&b, ring, &no_ct, SFU_ERR_SIGNATURE, "does not verify",
                  "sign-pass-02: made with external AAD (ours is always empty)");
        bytes_free(&b);
        parse_refused(read_data("cose/examples-sign1-sign-pass-03.cbor"), SFU_ERR_PARSE,
                      "has no tag: COSE_Sign1 needs tag 18", "sign-pass-03: untagged");

        sfu_keyring_free(ring);
        sfu_keyring_free(both);
}

/* ---------------------------------------------------------------- round trips */

struct alg_case {
        enum sfu_alg alg;
        const char *priv, *pub;
};

static const struct alg_case alg_cases[] = {
        { SFU_ALG_ES256, "keys/ec-p256.pem", "keys/ec-p256.pub.pem" },
        { SFU_ALG_ES384, "keys/ec-p384.pem", "keys/ec-p384.pub.pem" },
        { SFU_ALG_ES512, "keys/ec-p521.pem", "keys/ec-p521.pub.pem" },
        { SFU_ALG_EDDSA, "keys/ed25519.pem", "keys/ed25519.pub.pem" },
        { SFU_ALG_RS256, "keys/rsa2048.pem", "keys/rsa2048.pub.pem" },
        { SFU_ALG_RS384, "keys/rsa2048.pem", "keys/rsa2048.pub.pem" },
        { SFU_ALG_RS512, "keys/rsa2048.pem", "keys/rsa2048.pub.pem" },
        { SFU_ALG_PS256, "keys/rsa2048.pem", "keys/rsa2048.pub.pem" },
        { SFU_ALG_PS384, "keys/rsa2048.pem", "keys/rsa2048.pub.pem" },
        { SFU_ALG_PS512, "keys/rsa2048.pem", "keys/rsa2048.pub.pem" },
};

static void test_round_trips(void) {
        struct sfu_keyring *ring = ring_of("keys/ec-p256.pub.pem", "keys/ec-p384.pub.pem", "keys/ec-p521.pub.pem",
                                           "keys/ed25519.pub.pem", "keys/rsa2048.pub.pem", NULL);

        for (size_t i = 0; i < ELEMENTSOF(alg_cases); i++) {
                const struct alg_case *c = &alg_cases[i];
                struct sfu_key *key = tap_load_key(c->priv, true);
                const char *name = sfu_alg_name(c->alg);

                for (int form = 0; form < 2; form++)
                        for (int kind = 0; kind < 2; kind++) {
                                const struct bytes *payload = kind ? &json_payload : &cbor_payload;
                                const struct sfu_cose_sign_opts opts = {
                                        .alg = c->alg,
                                        .content = kind ? SFU_COSE_CONTENT_JSON : SFU_COSE_CONTENT_CBOR,
                                };
                                _cleanup_cose_ struct sfu_cose *cose = NULL;
                                struct sfu_err err = SFU_ERR_INIT;
                                struct bytes out = {};
                                unsigned valid = 0;
                                int r;

                                r = form ? sfu_cose_sign(payload->p, payload->len, key, &opts, &out.p, &out.len, &err)
                                         : sfu_cose_sign1(payload->p, payload->len, key, &opts, &out.p, &out.len, &err);
                                if (r == 0)
                                        r = sfu_cose_parse(out.p, out.len, &cose, &err);
                                if (r == 0)
                                        r = sfu_cose_verify(cose, ring, NULL, &valid, &err);
                                ok(r == 0 && valid == 1 && cose->form == (form ? SFU_COSE_SIGN : SFU_COSE_SIGN1) &&
                                           cose->content == opts.content && cose->payload_len == payload->len &&
                                           memcmp(cose->payload, payload->p, payload->len) == 0,
                                   "%s %s over a %s manifest: signs, parses, verifies, same payload (%s)", name,
                                   form ? "COSE_Sign" : "COSE_Sign1", kind ? "JSON" : "CBOR", err.message);
                                bytes_free(&out);
                        }
                sfu_key_free(key);
        }

        /* What we write: deterministic, tagged with the shortest head,
         * protected {1: alg, 3: content type, 4: kid} in label order. */
        {
                struct sfu_key *key = tap_load_key("keys/ed25519.pem", true);
                const struct sfu_cose_sign_opts opts = { .alg = SFU_ALG_EDDSA, .content = SFU_COSE_CONTENT_CBOR };
                struct bytes a = {}, b = {};
                _cleanup_free_ char *hex = NULL, *want = NULL;

                if (sfu_cose_sign1(cbor_payload.p, cbor_payload.len, key, &opts, &a.p, &a.len, NULL) < 0 ||
                    sfu_cose_sign1(cbor_payload.p, cbor_payload.len, key, &opts, &b.p, &b.len, NULL) < 0)
                        abort();
                ok(a.len == b.len && memcmp(a.p, b.p, a.len) == 0, "EdDSA COSE_Sign1 is byte-for-byte reproducible");
                hex = tap_hex(a.p, 64);
                /* d2 84 58 <len> a3 01 27 03 78 1f "application/secfu-manifest+cbor" 04 58 2b <kid> */
                ok(strncmp(hex, "d28458", 6) == 0 && strncmp(hex + 8, "a30127037" "81f", 12) == 0,
                   "tag 18 as 0xd2, protected header {1: -8, 3: ..., 4: ...} (%.*s)", 40, hex);
                bytes_free(&a);
                bytes_free(&b);
                sfu_key_free(key);
        }
        sfu_keyring_free(ring);
}

/* ---------------------------------------------------------------- multi-signer */

static struct bytes sign_many(const char *const *keys, const enum sfu_alg *algs, size_t n) {
        struct bytes out = {};

        for (size_t i = 0; i < n; i++) {
                struct sfu_key *key = tap_load_key(keys[i], true);
                const struct sfu_cose_sign_opts opts = { .alg = algs[i], .content = SFU_COSE_CONTENT_CBOR };
                struct sfu_err err = SFU_ERR_INIT;
                struct bytes next = {};
                int r;

                if (i == 0)
                        r = sfu_cose_sign(cbor_payload.p, cbor_payload.len, key, &opts, &next.p, &next.len, &err);
                else {
                        _cleanup_cose_ struct sfu_cose *cose = NULL;
                        r = sfu_cose_parse(out.p, out.len, &cose, &err);
                        if (r == 0)
                                r = sfu_cose_add_signature(cose, key, &opts, &next.p, &next.len, &err);
                }
                if (r < 0) {
                        printf("Bail out! signing %zu: %s\n", i, err.message);
                        exit(1);
                }
                bytes_free(&out);
                out = next;
                sfu_key_free(key);
        }
        return out;
}

static void test_multi(void) {
        const char *keys[] = { "keys/ec-p256.pem", "keys/ed25519.pem", "keys/rsa2048.pem" };
        const enum sfu_alg algs[] = { SFU_ALG_ES256, SFU_ALG_EDDSA, SFU_ALG_PS256 };
        struct sfu_keyring *all = ring_of("keys/ec-p256.pub.pem", "keys/ed25519.pub.pem", "keys/rsa2048.pub.pem", NULL);
        struct sfu_keyring *two = ring_of("keys/ec-p256.pub.pem", "keys/ed25519.pub.pem", NULL);
        struct bytes three = sign_many(keys, algs, 3);
        struct sfu_cose_verify_opts opts = {};

        opts.min_signatures = 3;
        accepted_b(&three, all, &opts, 3, "three signers, three trusted keys, min-signatures 3");
        opts.min_signatures = 4;
        refused_b(&three, all, &opts, SFU_ERR_SIGNATURE, "3 distinct trusted key(s) signed, 4 required (3 signature(s))",
                  "three signers, min-signatures 4");
        opts.min_signatures = 3;
        refused_b(&three, two, &opts, SFU_ERR_SIGNATURE,
                  "2 distinct trusted key(s) signed, 3 required (3 signature(s)); signature 3: no trusted key with kid",
                  "the RSA signer not trusted, min-signatures 3");
        opts.min_signatures = 2;
        accepted_b(&three, two, &opts, 2, "... min-signatures 2: the unknown kid counts for nothing");

        /* A disallowed alg counts for nothing; the rest still count. */
        {
                struct notes notes = {};
                struct sfu_cose_verify_opts o = {
                        .alg_allow = SFU_ALG_MASK(SFU_ALG_ES256) | SFU_ALG_MASK(SFU_ALG_PS256),
                        .min_signatures = 2,
                        .note = collect,
                        .userdata = &notes,
                };
                accepted_b(&three, all, &o, 2, "EdDSA not allowed: the other two count");
                ok(notes.n == 1 && strstr(notes.first, "signature 2: alg \"EdDSA\" is not in the allowed list"),
                   "... the EdDSA signature is named in a note (%s)", notes.first);
                o.min_signatures = 3;
                o.note = NULL;
                refused_b(&three, all, &o, SFU_ERR_SIGNATURE, "2 distinct trusted key(s) signed, 3 required",
                          "EdDSA not allowed, min-signatures 3");
        }
        {
                /* One signer alone with a disallowed alg: the allow-list
                 * refusal is the reason (and a policy error). */
                const struct sfu_cose_verify_opts o = { .alg_allow = SFU_ALG_MASK(SFU_ALG_EDDSA) };
                struct sfu_key *key = tap_load_key("keys/ec-p256.pem", true);
                const struct sfu_cose_sign_opts so = { .alg = SFU_ALG_ES256, .content = SFU_COSE_CONTENT_CBOR };
                struct bytes b = {};
                if (sfu_cose_sign1(cbor_payload.p, cbor_payload.len, key, &so, &b.p, &b.len, NULL) < 0)
                        abort();
                refused_b(&b, all, &o, SFU_ERR_POLICY, "signature 1: alg \"ES256\" is not in the allowed list",
                          "COSE_Sign1 ES256 with --alg-allow EdDSA");
                bytes_free(&b);
                sfu_key_free(key);
        }

        /* A trusted JWK's "alg" restricts its key (RFC 7517 4.4). */
        {
                _cleanup_free_ char *text = NULL;
                struct sfu_keyring *restricted = NULL;
                struct sfu_key *key = NULL;
                struct sfu_err err = SFU_ERR_INIT;
                json_t *jwk;
                size_t len;

                text = tap_read_file(tap_data("keys/rsa2048.pub.jwk"), &len);
                jwk = json_loadb(text, len, 0, NULL);
                if (!jwk || json_object_set_new(jwk, "alg", json_string("RS256")) < 0 ||
                    sfu_key_from_jwk(jwk, "rsa2048+alg", false, &key, &err) < 0 || sfu_keyring_new(&restricted) < 0 ||
                    sfu_keyring_add(restricted, key, &err) < 0) {
                        printf("Bail out! %s\n", err.message);
                        exit(1);
                }
                json_decref(jwk);
                {
                        struct notes notes = {};
                        const struct sfu_cose_verify_opts o = { .note = collect_last, .userdata = &notes };
                        refused_b(&three, restricted, &o, SFU_ERR_SIGNATURE, "signature 1: no trusted key with kid",
                                  "a PS256 signature and the trusted RSA key's JWK says alg RS256");
                        ok(notes.n == 3 && strstr(notes.first,
                                                  "\" is restricted to RS256 by its \"alg\"; the signature is PS256") &&
                                   strncmp(notes.first, "signature 3: the trusted key with kid", 37) == 0,
                           "... the note for the PS256 signature says why (%s)", notes.first);
                }
                {
                        struct sfu_key *rsa = tap_load_key("keys/rsa2048.pem", true);
                        const struct sfu_cose_sign_opts so = { .alg = SFU_ALG_RS256, .content = SFU_COSE_CONTENT_CBOR };
                        struct bytes b = {};
                        if (sfu_cose_sign1(cbor_payload.p, cbor_payload.len, rsa, &so, &b.p, &b.len, NULL) < 0)
                                abort();
                        accepted_b(&b, restricted, NULL, 1, "... an RS256 signature by it counts");
                        bytes_free(&b);
                        sfu_key_free(rsa);
                }
                sfu_keyring_free(restricted);
        }

        /* The same key twice counts once. */
        {
                const char *same[] = { "keys/ec-p256.pem", "keys/ec-p256.pem" };
                const enum sfu_alg es[] = { SFU_ALG_ES256, SFU_ALG_ES256 };
                struct bytes twice = sign_many(same, es, 2);
                struct sfu_cose_verify_opts o = { .min_signatures = 2 };
                refused_b(&twice, all, &o, SFU_ERR_SIGNATURE, "1 distinct trusted key(s) signed, 2 required (2 signature(s))",
                          "two signatures by one key, min-signatures 2");
                o.min_signatures = 1;
                accepted_b(&twice, all, &o, 1, "... count once with min-signatures 1");
                bytes_free(&twice);
        }

        /* A signature that does not verify counts for nothing. */
        {
                struct bytes bad = copy(three.p, three.len);
                _cleanup_cose_ struct sfu_cose *cose = NULL;
                struct sfu_cose_verify_opts o = { .min_signatures = 2 };
                if (sfu_cose_parse(bad.p, bad.len, &cose, NULL) < 0)
                        abort();
                /* the last byte of the ES256 signature (signature 1) */
                bad.p[(size_t) (cose->signatures[0].signature - cose->buf) + cose->signatures[0].signature_len - 1] ^= 1;
                accepted_b(&bad, all, &o, 2, "signature 1 damaged: the other two still make 2");
                o.min_signatures = 3;
                refused_b(&bad, all, &o, SFU_ERR_SIGNATURE,
                          "2 distinct trusted key(s) signed, 3 required (3 signature(s)); signature 1: ES256 signature does not verify",
                          "signature 1 damaged, min-signatures 3");
                bytes_free(&bad);
        }

        /* Adding keeps every byte of what was there. */
        {
                _cleanup_cose_ struct sfu_cose *before = NULL, *after = NULL;
                struct sfu_key *rsa = tap_load_key("keys/rsa2048.pem", true);
                const struct sfu_cose_sign_opts so = { .alg = SFU_ALG_RS256, .content = SFU_COSE_CONTENT_JSON };
                struct bytes added = {};
                bool kept = true;

                if (sfu_cose_parse(three.p, three.len, &before, NULL) < 0 ||
                    sfu_cose_add_signature(before, rsa, &so, &added.p, &added.len, NULL) < 0 ||
                    sfu_cose_parse(added.p, added.len, &after, NULL) < 0)
                        abort();
                for (size_t i = 0; i < 3; i++)
                        kept = kept && after->signatures[i].raw_len == before->signatures[i].raw_len &&
                               memcmp(after->signatures[i].raw, before->signatures[i].raw, before->signatures[i].raw_len) == 0;
                ok(after->n_signatures == 4 && kept && after->content == SFU_COSE_CONTENT_CBOR &&
                           after->body.protected_len == before->body.protected_len &&
                           memcmp(before->body.protected_bytes, after->body.protected_bytes, after->body.protected_len) == 0,
                   "add_signature keeps the body and every COSE_Signature byte for byte (and the content type)");
                opts.min_signatures = 3;
                accepted_b(&added, all, &opts, 3, "... RS256 by the same RSA key as the PS256 signature: still 3 keys");
                bytes_free(&added);
                sfu_key_free(rsa);
        }

        /* A COSE_Sign1 takes no second signature; 16 is the limit. */
        {
                struct sfu_key *key = tap_load_key("keys/ed25519.pem", true);
                const struct sfu_cose_sign_opts so = { .alg = SFU_ALG_EDDSA, .content = SFU_COSE_CONTENT_CBOR };
                _cleanup_cose_ struct sfu_cose *cose = NULL;
                struct sfu_err err = SFU_ERR_INIT;
                struct bytes b = {}, c = {};
                int r;

                if (sfu_cose_sign1(cbor_payload.p, cbor_payload.len, key, &so, &b.p, &b.len, NULL) < 0 ||
                    sfu_cose_parse(b.p, b.len, &cose, NULL) < 0)
                        abort();
                r = sfu_cose_add_signature(cose, key, &so, &c.p, &c.len, &err);
                ok(r < 0 && strstr(err.message, "COSE_Sign1 has room for one signature"),
                   "add_signature to a COSE_Sign1 is refused (%s)", err.message);
                bytes_free(&b);
                sfu_key_free(key);
        }
        {
                const char *k16[16];
                enum sfu_alg a16[16];
                struct sfu_key *key = tap_load_key("keys/ed25519.pem", true);
                const struct sfu_cose_sign_opts so = { .alg = SFU_ALG_EDDSA, .content = SFU_COSE_CONTENT_CBOR };
                _cleanup_cose_ struct sfu_cose *cose = NULL;
                struct sfu_err err = SFU_ERR_INIT;
                struct bytes full, c = {};
                int r;

                for (size_t i = 0; i < 16; i++) {
                        k16[i] = "keys/ed25519.pem";
                        a16[i] = SFU_ALG_EDDSA;
                }
                full = sign_many(k16, a16, 16);
                r = sfu_cose_parse(full.p, full.len, &cose, &err);
                ok(r == 0 && cose->n_signatures == 16, "a COSE_Sign with 16 signatures parses (%s)", err.message);
                if (r == 0) {
                        r = sfu_cose_add_signature(cose, key, &so, &c.p, &c.len, &err);
                        ok(r < 0 && err.code == SFU_ERR_SIZE && strstr(err.message, "maximum of 16"),
                           "a 17th signature is refused (%s)", err.message);
                }
                /* 17 signatures made by hand: the parser refuses them. */
                {
                        struct bytes dup = copy(full.p, full.len);
                        struct sfu_cbor_writer w = {};
                        size_t sigs_at = (size_t) (cose->signatures[0].raw - cose->buf);
                        /* the array head before the first COSE_Signature is 0x90 (16) */
                        sfu_cbor_write_raw(&w, dup.p, sigs_at - 1);
                        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_ARRAY, 17);
                        sfu_cbor_write_raw(&w, dup.p + sigs_at, dup.len - sigs_at);
                        sfu_cbor_write_raw(&w, cose->signatures[0].raw, cose->signatures[0].raw_len);
                        parse_refused(finish(&w), SFU_ERR_SIZE, "has 17 signatures, more than the limit of 16",
                                      "a COSE_Sign with 17 signatures");
                        bytes_free(&dup);
                }
                bytes_free(&full);
                sfu_key_free(key);
        }

        bytes_free(&three);
        sfu_keyring_free(all);
        sfu_keyring_free(two);
}

/* ---------------------------------------------------------------- negatives */

static void test_bit_flips_and_truncation(void) {
        struct sfu_keyring *ring = ring_of("keys/ec-p256.pub.pem", "keys/ed25519.pub.pem", NULL);
        const char *keys[] = { "keys/ec-p256.pem", "keys/ed25519.pem" };
        const enum sfu_alg algs[] = { SFU_ALG_ES256, SFU_ALG_EDDSA };
        struct bytes sign = sign_many(keys, algs, 2), sign1;
        const struct sfu_cose_verify_opts two = { .min_signatures = 2 };
        struct sfu_key *key = tap_load_key("keys/ec-p256.pem", true);
        const struct sfu_cose_sign_opts so = { .alg = SFU_ALG_ES256, .content = SFU_COSE_CONTENT_CBOR };
        const struct {
                const char *name;
                struct bytes *b;
                const struct sfu_cose_verify_opts *opts;
        } cases[] = { { "COSE_Sign1", &sign1, NULL }, { "COSE_Sign with 2 signatures, min 2", &sign, &two } };

        if (sfu_cose_sign1(cbor_payload.p, cbor_payload.len, key, &so, &sign1.p, &sign1.len, NULL) < 0)
                abort();
        for (size_t k = 0; k < ELEMENTSOF(cases); k++) {
                const struct bytes *b = cases[k].b;
                size_t accepted = 0, first = SIZE_MAX;

                accepted_b(b, ring, cases[k].opts, cases[k].opts ? 2 : 1, cases[k].name);
                /* Every byte, one bit each (a different bit per position). */
                for (size_t i = 0; i < b->len; i++) {
                        struct bytes f = copy(b->p, b->len);
                        unsigned valid;
                        f.p[i] ^= (uint8_t) (1u << (i % 8));
                        if (check(&f, ring, cases[k].opts, &valid, NULL) == 0) {
                                accepted++;
                                if (first == SIZE_MAX)
                                        first = i;
                        }
                        bytes_free(&f);
                }
                ok(accepted == 0, "%s: all %zu single-bit flips are refused (accepted %zu, first at %zd)", cases[k].name,
                   b->len, accepted, first == SIZE_MAX ? (ssize_t) -1 : (ssize_t) first);
                /* Every truncation. */
                accepted = 0;
                for (size_t n = 0; n < b->len; n++) {
                        struct bytes t = copy(b->p, n);
                        struct sfu_cose *cose = NULL;
                        if (sfu_cose_parse(t.p, t.len, &cose, NULL) == 0) {
                                accepted++;
                                sfu_cose_free(cose);
                        }
                        bytes_free(&t);
                }
                ok(accepted == 0, "%s: all %zu truncations are refused by the parser", cases[k].name, b->len);
                /* Trailing bytes. */
                {
                        struct sfu_cbor_writer w = {};
                        sfu_cbor_write_raw(&w, b->p, b->len);
                        sfu_cbor_write_raw(&w, "\0", 1);
                        parse_refused(finish(&w), SFU_ERR_PARSE, "1 trailing byte(s)", "a trailing zero byte");
                }
        }
        bytes_free(&sign);
        bytes_free(&sign1);
        sfu_key_free(key);
        sfu_keyring_free(ring);
}

static void test_headers(void) {
        struct sfu_keyring *ring = ring_of("keys/ec-p256.pub.pem", "keys/ed25519.pub.pem", "keys/rsa2048.pub.pem", NULL);
        struct sfu_key *p256 = tap_load_key("keys/ec-p256.pem", true), *ed = tap_load_key("keys/ed25519.pem", true);
        struct bytes unprot = empty_map(), prot;
        const char *kid = p256->kid, *CT = SFU_COSE_CONTENT_TYPE_CBOR;

        /* The baseline: a hand-made COSE_Sign1 that is fine. */
        prot = header(-7, CT, kid);
        {
                struct bytes b = forge_sign1(18, &prot, &unprot, &cbor_payload, p256, SFU_ALG_ES256);
                accepted_b(&b, ring, NULL, 1, "hand-assembled COSE_Sign1 ES256 (the baseline of what follows)");
                bytes_free(&b);
        }

        /* alg */
        {
                struct sfu_cbor_writer w = {};
                struct bytes p, u;
                w_map(&w, 2);
                w_int(&w, 3);
                w_text(&w, CT);
                w_int(&w, 4);
                w_bstr(&w, kid, strlen(kid));
                p = finish(&w);
                w_map(&w, 1);
                w_int(&w, 1);
                w_int(&w, -7);
                u = finish(&w);
                refused(forge_sign1(18, &p, &u, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_SIGNATURE,
                        "signature 1: \"alg\" is only in the unprotected header; it must be in the protected header",
                        "alg in the unprotected header");
                refused(forge_sign1(18, &p, &unprot, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_SIGNATURE,
                        "signature 1: the protected header has no \"alg\"", "no alg at all");
                bytes_free(&u);
                /* alg in both headers */
                w_map(&w, 1);
                w_int(&w, 1);
                w_int(&w, -7);
                u = finish(&w);
                refused(forge_sign1(18, &prot, &u, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_PARSE,
                        "header parameter 1 is in both the protected and the unprotected header", "alg in both headers");
                bytes_free(&u);
                bytes_free(&p);
        }
        {
                struct bytes p = header(-46, CT, kid);
                refused(forge_sign1(18, &p, &unprot, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_SIGNATURE,
                        "alg HSS-LMS does not fit the P-256 key", "alg -46 (HSS-LMS) with the kid of a P-256 key");
                bytes_free(&p);
                p = header(-47, CT, kid);
                refused(forge_sign1(18, &p, &unprot, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_SIGNATURE,
                        "alg -47 is not supported", "alg -47 (ES256K)");
                bytes_free(&p);
                p = header(5, CT, kid);
                refused(forge_sign1(18, &p, &unprot, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_SIGNATURE,
                        "alg 5 is not supported", "alg 5 (HMAC 256/256)");
                bytes_free(&p);
        }
        {
                struct sfu_cbor_writer w = {};
                struct bytes p;
                w_map(&w, 2);
                w_int(&w, 1);
                sfu_cbor_write_simple(&w, SFU_CBOR_NULL);
                w_int(&w, 3);
                w_text(&w, CT);
                p = finish(&w);
                refused(forge_sign1(18, &p, &unprot, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_PARSE,
                        "\"alg\" (1) is null, not an integer", "alg null");
                bytes_free(&p);
        }

        /* crit */
        {
                struct sfu_cbor_writer w = {};
                struct bytes p, u;
                w_map(&w, 5);
                w_int(&w, 1);
                w_int(&w, -7);
                w_int(&w, 2);
                w_array(&w, 1);
                w_int(&w, 99);
                w_int(&w, 3);
                w_text(&w, CT);
                w_int(&w, 4);
                w_bstr(&w, kid, strlen(kid));
                w_int(&w, 99);
                w_int(&w, 0);
                p = finish(&w);
                refused(forge_sign1(18, &p, &unprot, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_SIGNATURE,
                        "signature 1: header parameter \"crit\" names 99, which is not understood", "unknown crit [99]");
                bytes_free(&p);
                w_map(&w, 2);
                w_int(&w, 2);
                w_array(&w, 1);
                w_int(&w, 99);
                w_int(&w, 99);
                w_int(&w, 0);
                u = finish(&w);
                refused(forge_sign1(18, &prot, &u, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_SIGNATURE,
                        "header parameter \"crit\" must be in the protected header", "crit in the unprotected header");
                bytes_free(&u);
                w_map(&w, 1);
                w_int(&w, 2);
                w_array(&w, 0);
                u = finish(&w);
                refused(forge_sign1(18, &prot, &u, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_PARSE,
                        "\"crit\" (2) must be a non-empty list of labels", "crit []");
                bytes_free(&u);
        }

        /* kid */
        {
                struct bytes p = header(-7, CT, "nobody");
                refused(forge_sign1(18, &p, &unprot, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_SIGNATURE,
                        "signature 1: no trusted key with kid \"nobody\"", "wrong kid");
                bytes_free(&p);
                p = header(-7, CT, ed->kid);
                refused(forge_sign1(18, &p, &unprot, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_SIGNATURE,
                        "alg ES256 does not fit the Ed25519 key with kid", "kid of the Ed25519 key on an ES256 signature");
                bytes_free(&p);
                /* kid only in the unprotected header still selects the key. */
                {
                        struct sfu_cbor_writer w = {};
                        struct bytes u, pk = header(-7, CT, NULL);
                        w_map(&w, 1);
                        w_int(&w, 4);
                        w_bstr(&w, kid, strlen(kid));
                        u = finish(&w);
                        {
                                struct bytes b = forge_sign1(18, &pk, &u, &cbor_payload, p256, SFU_ALG_ES256);
                                accepted_b(&b, ring, NULL, 1, "kid in the unprotected header selects the key");
                                bytes_free(&b);
                        }
                        bytes_free(&u);
                        w_map(&w, 1);
                        w_int(&w, 4);
                        w_text(&w, kid);
                        u = finish(&w);
                        refused(forge_sign1(18, &pk, &u, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_PARSE,
                                "\"kid\" (4) is a text string, not a byte string", "kid as text");
                        bytes_free(&u);
                        /* No kid: every key that fits is tried. */
                        {
                                struct bytes b = forge_sign1(18, &pk, &unprot, &cbor_payload, p256, SFU_ALG_ES256);
                                struct sfu_keyring *other = ring_of("keys/ec-p256-b.pub.pem", NULL);
                                accepted_b(&b, ring, NULL, 1, "no kid: the trusted key that fits is found");
                                refused_b(&b, other, NULL, SFU_ERR_SIGNATURE,
                                          "ES256 signature does not verify with any of the 1 trusted key(s) that fit",
                                          "no kid, only another P-256 key trusted");
                                sfu_keyring_free(other);
                                other = ring_of("keys/ed25519.pub.pem", NULL);
                                refused_b(&b, other, NULL, SFU_ERR_SIGNATURE, "no trusted key fits alg ES256",
                                          "no kid, no P-256 key trusted");
                                sfu_keyring_free(other);
                                bytes_free(&b);
                        }
                        bytes_free(&pk);
                }
        }

        /* Duplicate labels inside one header (strict CBOR) and across. */
        {
                struct sfu_cbor_writer w = {};
                struct bytes p, u;
                w_map(&w, 3);
                w_int(&w, 1);
                w_int(&w, -7);
                w_int(&w, 3);
                w_text(&w, CT);
                w_int(&w, 1);
                w_int(&w, -7);
                p = finish(&w);
                refused(forge_sign1(18, &p, &unprot, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_PARSE,
                        "signature 1: protected header: invalid CBOR: map at offset 0 has a duplicate key",
                        "alg twice in the protected header");
                bytes_free(&p);
                w_map(&w, 2);
                w_int(&w, 4);
                w_bstr(&w, kid, strlen(kid));
                w_int(&w, 4);
                w_bstr(&w, kid, strlen(kid));
                u = finish(&w);
                refused(forge_sign1(18, &prot, &u, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_PARSE,
                        "COSE: invalid CBOR: map at offset", "kid twice in the unprotected header");
                bytes_free(&u);
                w_map(&w, 1);
                w_int(&w, 4);
                w_bstr(&w, kid, strlen(kid));
                u = finish(&w);
                refused(forge_sign1(18, &prot, &u, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_PARSE,
                        "header parameter 4 is in both the protected and the unprotected header", "kid in both headers");
                bytes_free(&u);
        }

        /* Indefinite lengths: inside the protected header and outside. */
        {
                struct sfu_cbor_writer w = {};
                struct bytes p, b, s;
                sfu_cbor_write_raw(&w, "\xbf", 1);
                w_int(&w, 1);
                w_int(&w, -7);
                w_int(&w, 3);
                w_text(&w, CT);
                sfu_cbor_write_raw(&w, "\xff", 1);
                p = finish(&w);
                refused(forge_sign1(18, &p, &unprot, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_PARSE,
                        "indefinite-length map", "an indefinite-length protected header");
                bytes_free(&p);
                /* The outer array as [_ ...]. */
                b = forge_sign1(18, &prot, &unprot, &cbor_payload, p256, SFU_ALG_ES256);
                s = copy(b.p, b.len + 1);
                s.p[1] = 0x9f;                  /* was 0x84 */
                s.p[b.len] = 0xff;
                s.len = b.len + 1;
                parse_refused(s, SFU_ERR_PARSE, "indefinite-length array", "an indefinite-length COSE_Sign1 array");
                bytes_free(&b);
                /* The payload as an indefinite byte string. */
                {
                        struct sfu_cbor_writer x = {};
                        struct bytes sig = forge_sig(p256, SFU_ALG_ES256, &prot, NULL, &cbor_payload);
                        sfu_cbor_write_head(&x, SFU_CBOR_MAJOR_TAG, 18);
                        w_array(&x, 4);
                        w_bstr(&x, prot.p, prot.len);
                        sfu_cbor_write_raw(&x, "\xa0\x5f", 2);
                        w_bstr(&x, cbor_payload.p, cbor_payload.len);
                        sfu_cbor_write_raw(&x, "\xff", 1);
                        w_bstr(&x, sig.p, sig.len);
                        parse_refused(finish(&x), SFU_ERR_PARSE, "indefinite-length byte string",
                                      "an indefinite-length payload");
                        bytes_free(&sig);
                }
        }

        /* Tags. */
        parse_refused(forge_sign1(0, &prot, &unprot, &cbor_payload, p256, SFU_ALG_ES256), SFU_ERR_PARSE,
                      "has no tag", "untagged COSE_Sign1");
        parse_refused(forge_sign1(17, &prot, &unprot, &cbor_payload, p256, SFU_ALG_ES256), SFU_ERR_PARSE,
                      "COSE_Mac0 (tag 17)", "tag 17 (COSE_Mac0)");
        parse_refused(forge_sign1(16, &prot, &unprot, &cbor_payload, p256, SFU_ALG_ES256), SFU_ERR_PARSE,
                      "COSE_Encrypt0 (tag 16)", "tag 16 (COSE_Encrypt0)");
        parse_refused(forge_sign1(98, &prot, &unprot, &cbor_payload, p256, SFU_ALG_ES256), SFU_ERR_PARSE,
                      "COSE_Sign \"signatures\" is a byte string, not an array", "a COSE_Sign1 body under tag 98");
        parse_refused(forge_sign1(55799, &prot, &unprot, &cbor_payload, p256, SFU_ALG_ES256), SFU_ERR_PARSE,
                      "CBOR tag 55799 is not a COSE signature", "self-described CBOR tag");
        {
                /* A tag inside: around the payload. */
                struct bytes b = forge_sign1(18, &prot, &unprot, &cbor_payload, p256, SFU_ALG_ES256), t;
                struct sfu_cbor_writer w = {};
                size_t at = 2 + 1 + (prot.len >= 24) + prot.len + 1;   /* d2 84 bstr(prot) a0 */
                sfu_cbor_write_raw(&w, b.p, at);
                sfu_cbor_write_raw(&w, "\xd8\x18", 2);  /* tag 24 (encoded CBOR) */
                sfu_cbor_write_raw(&w, b.p + at, b.len - at);
                t = finish(&w);
                parse_refused(t, SFU_ERR_PARSE, "a tag is not allowed here", "a tag around the payload");
                bytes_free(&b);
        }

        /* The payload. */
        {
                struct sfu_cbor_writer w = {};
                struct bytes sig = forge_sig(p256, SFU_ALG_ES256, &prot, NULL, &cbor_payload);
                sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_TAG, 18);
                w_array(&w, 4);
                w_bstr(&w, prot.p, prot.len);
                w_map(&w, 0);
                sfu_cbor_write_simple(&w, SFU_CBOR_NULL);
                w_bstr(&w, sig.p, sig.len);
                parse_refused(finish(&w), SFU_ERR_PARSE, "detached payloads are not supported", "a nil (detached) payload");
                sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_TAG, 18);
                w_array(&w, 4);
                w_bstr(&w, prot.p, prot.len);
                w_map(&w, 0);
                w_bstr(&w, NULL, 0);
                w_bstr(&w, sig.p, sig.len);
                parse_refused(finish(&w), SFU_ERR_PARSE, "the COSE payload is empty", "an empty payload");
                sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_TAG, 18);
                w_array(&w, 4);
                w_bstr(&w, prot.p, prot.len);
                w_map(&w, 0);
                w_text(&w, "{}");
                w_bstr(&w, sig.p, sig.len);
                parse_refused(finish(&w), SFU_ERR_PARSE, "the COSE payload is a text string", "a text payload");
                sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_TAG, 18);
                w_array(&w, 3);
                w_bstr(&w, prot.p, prot.len);
                w_map(&w, 0);
                w_bstr(&w, sig.p, sig.len);
                parse_refused(finish(&w), SFU_ERR_PARSE, "COSE_Sign1 is not an array of 4", "an array of 3");
                bytes_free(&sig);
        }

        /* Content type. */
        {
                struct bytes p = header(-7, NULL, kid);
                refused(forge_sign1(18, &p, &unprot, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_POLICY,
                        "the protected header has no content type (3)", "no content type");
                {
                        struct sfu_cbor_writer w = {};
                        struct bytes u;
                        w_map(&w, 1);
                        w_int(&w, 3);
                        w_text(&w, CT);
                        u = finish(&w);
                        refused(forge_sign1(18, &p, &u, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_POLICY,
                                "the content type (3) is in the unprotected header", "content type unprotected");
                        bytes_free(&u);
                }
                bytes_free(&p);
                p = header(-7, "text/plain", kid);
                refused(forge_sign1(18, &p, &unprot, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_POLICY,
                        "content type \"text/plain\" is not a manifest's", "content type text/plain");
                bytes_free(&p);
                p = header(-7, "application/json; charset=utf-8", kid);
                refused(forge_sign1(18, &p, &unprot, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_POLICY,
                        "is not a manifest's", "a media type with parameters");
                bytes_free(&p);
                p = header(-7, SFU_COSE_CONTENT_TYPE_JSON, kid);
                {
                        struct bytes b = forge_sign1(18, &p, &unprot, &cbor_payload, p256, SFU_ALG_ES256);
                        const struct sfu_cose_verify_opts cbor_only = {
                                .content_allow = SFU_COSE_CONTENT_MASK(SFU_COSE_CONTENT_CBOR),
                        };
                        refused_b(&b, ring, &cbor_only, SFU_ERR_POLICY,
                                  "content type \"application/secfu-manifest+json\" (a JSON manifest) is not accepted here",
                                  "a JSON manifest where only CBOR is allowed");
                        bytes_free(&b);
                }
                bytes_free(&p);
                /* The accepted spellings and their kinds. */
                {
                        static const struct {
                                const char *text;
                                int64_t format;
                                enum sfu_cose_content want;
                        } spellings[] = {
                                { "application/secfu-manifest+cbor", -1, SFU_COSE_CONTENT_CBOR },
                                { "Application/SecFU-Manifest+CBOR", -1, SFU_COSE_CONTENT_CBOR },
                                { "application/cbor", -1, SFU_COSE_CONTENT_CBOR },
                                { NULL, 60, SFU_COSE_CONTENT_CBOR },
                                { "application/secfu-manifest+json", -1, SFU_COSE_CONTENT_JSON },
                                { "application/json", -1, SFU_COSE_CONTENT_JSON },
                                { NULL, 50, SFU_COSE_CONTENT_JSON },
                                { NULL, 0, SFU_COSE_CONTENT_OTHER },
                        };
                        for (size_t i = 0; i < ELEMENTSOF(spellings); i++) {
                                struct sfu_cbor_writer w = {};
                                _cleanup_cose_ struct sfu_cose *cose = NULL;
                                struct bytes ph, b;
                                w_map(&w, 2);
                                w_int(&w, 1);
                                w_int(&w, -7);
                                w_int(&w, 3);
                                if (spellings[i].text)
                                        w_text(&w, spellings[i].text);
                                else
                                        w_int(&w, spellings[i].format);
                                ph = finish(&w);
                                b = forge_sign1(18, &ph, &unprot, &cbor_payload, p256, SFU_ALG_ES256);
                                ok(sfu_cose_parse(b.p, b.len, &cose, NULL) == 0 && cose->content == spellings[i].want,
                                   "content type %s%.0" PRId64 " is a %s", spellings[i].text ? spellings[i].text : "",
                                   spellings[i].format, sfu_cose_content_name(spellings[i].want));
                                bytes_free(&b);
                                bytes_free(&ph);
                        }
                }
        }

        /* Signature forms. */
        {
                struct bytes b = forge_sign1(18, &prot, &unprot, &cbor_payload, p256, SFU_ALG_ES256), der;
                _cleanup_cose_ struct sfu_cose *cose = NULL;
                struct sfu_cbor_writer w = {};
                uint8_t raw[80];
                size_t l = 0;

                /* The same R||S as DER: SEQUENCE { INTEGER r, INTEGER s }. */
                if (sfu_cose_parse(b.p, b.len, &cose, NULL) < 0)
                        abort();
                raw[l++] = 0x30;
                raw[l++] = 0;
                for (int part = 0; part < 2; part++) {
                        const uint8_t *v = cose->signatures[0].signature + 32 * part;
                        bool pad = v[0] & 0x80;
                        raw[l++] = 0x02;
                        raw[l++] = (uint8_t) (32 + pad);
                        if (pad)
                                raw[l++] = 0;
                        memcpy(raw + l, v, 32);
                        l += 32;
                }
                raw[1] = (uint8_t) (l - 2);
                sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_TAG, 18);
                w_array(&w, 4);
                w_bstr(&w, prot.p, prot.len);
                w_map(&w, 0);
                w_bstr(&w, cbor_payload.p, cbor_payload.len);
                w_bstr(&w, raw, l);
                der = finish(&w);
                refused(der, ring, SFU_ERR_SIGNATURE, "it looks DER-encoded; a signature here is raw R||S",
                        "an ECDSA signature in DER");
                bytes_free(&b);
        }
        {
                struct sfu_key *rsa = tap_load_key("keys/rsa2048.pem", true);
                struct bytes p = header(-37, CT, rsa->kid);
                /* An RSA signature one byte short. */
                {
                        struct sfu_cbor_writer w = {};
                        struct bytes sig = forge_sig(rsa, SFU_ALG_PS256, &p, NULL, &cbor_payload);
                        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_TAG, 18);
                        w_array(&w, 4);
                        w_bstr(&w, p.p, p.len);
                        w_map(&w, 0);
                        w_bstr(&w, cbor_payload.p, cbor_payload.len);
                        w_bstr(&w, sig.p, sig.len - 1);
                        refused(finish(&w), ring, SFU_ERR_SIGNATURE, "RSA signature must be 256 bytes for the 2048-bit key with kid",
                                "an RSA signature one byte short");
                        bytes_free(&sig);
                }
                bytes_free(&p);
                sfu_key_free(rsa);
        }
        {
                /* A signature over the limit (the largest HSS signature). */
                struct sfu_cbor_writer w = {};
                char reason[64];
                _cleanup_free_ uint8_t *zero = calloc(1, SFU_COSE_MAX_SIGNATURE + 1);
                sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_TAG, 18);
                w_array(&w, 4);
                w_bstr(&w, prot.p, prot.len);
                w_map(&w, 0);
                w_bstr(&w, cbor_payload.p, cbor_payload.len);
                w_bstr(&w, zero, SFU_COSE_MAX_SIGNATURE + 1);
                snprintf(reason, sizeof(reason), "signature exceeds the limit of %u bytes", (unsigned) SFU_COSE_MAX_SIGNATURE);
                parse_refused(finish(&w), SFU_ERR_SIZE, reason, "a signature one byte over the limit");
        }

        /* Header shapes. */
        {
                struct bytes p = unhex("01"), big;
                struct sfu_cbor_writer w = {};
                _cleanup_free_ char *long_text = calloc(1, 8200);
                refused(forge_sign1(18, &p, &unprot, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_PARSE,
                        "the protected header is an unsigned integer, not a map", "a protected header that is not a map");
                bytes_free(&p);
                p = unhex("a0");
                refused(forge_sign1(18, &p, &unprot, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_SIGNATURE,
                        "the protected header has no \"alg\"", "protected h'a0' is read as empty");
                bytes_free(&p);
                w_map(&w, 2);
                w_int(&w, 1);
                w_int(&w, -7);
                w_bstr(&w, "x", 1);
                w_int(&w, 0);
                p = finish(&w);
                refused(forge_sign1(18, &p, &unprot, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_PARSE,
                        "a label of the protected header is a byte string", "a byte-string label");
                bytes_free(&p);
                memset(long_text, 'a', 8199);
                w_map(&w, 2);
                w_int(&w, 1);
                w_int(&w, -7);
                w_int(&w, -70000);
                w_text(&w, long_text);
                big = finish(&w);
                refused(forge_sign1(18, &big, &unprot, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_SIZE,
                        "protected header exceeds the limit of 8192 bytes", "an 8 KiB protected header");
                refused(forge_sign1(18, &prot, &big, &cbor_payload, p256, SFU_ALG_ES256), ring, SFU_ERR_SIZE,
                        "unprotected header exceeds the limit of 8192 bytes", "an 8 KiB unprotected header");
                bytes_free(&big);
                /* Unknown labels in either header are fine. */
                w_map(&w, 2);
                w_int(&w, 33);
                w_bstr(&w, "certificate?", 12);
                w_text(&w, "vendor");
                w_array(&w, 0);
                p = finish(&w);
                {
                        struct bytes b = forge_sign1(18, &prot, &p, &cbor_payload, p256, SFU_ALG_ES256);
                        accepted_b(&b, ring, NULL, 1, "x5chain (33) and a text label in the unprotected header are ignored");
                        bytes_free(&b);
                }
                bytes_free(&p);
        }

        /* COSE_Sign structure. */
        {
                struct sfu_cbor_writer w = {};
                struct bytes body;
                w_map(&w, 1);
                w_int(&w, 3);
                w_text(&w, CT);
                body = finish(&w);
                sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_TAG, 98);
                w_array(&w, 4);
                w_bstr(&w, body.p, body.len);
                w_map(&w, 0);
                w_bstr(&w, cbor_payload.p, cbor_payload.len);
                w_array(&w, 0);
                parse_refused(finish(&w), SFU_ERR_PARSE, "COSE_Sign \"signatures\" is empty", "a COSE_Sign without signatures");
                sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_TAG, 98);
                w_array(&w, 4);
                w_bstr(&w, body.p, body.len);
                w_map(&w, 0);
                w_bstr(&w, cbor_payload.p, cbor_payload.len);
                w_bstr(&w, "sig", 3);
                parse_refused(finish(&w), SFU_ERR_PARSE, "\"signatures\" is a byte string, not an array",
                              "a COSE_Sign with a COSE_Sign1 signature");
                sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_TAG, 98);
                w_array(&w, 4);
                w_bstr(&w, body.p, body.len);
                w_map(&w, 0);
                w_bstr(&w, cbor_payload.p, cbor_payload.len);
                w_array(&w, 1);
                w_array(&w, 2);
                w_bstr(&w, NULL, 0);
                w_map(&w, 0);
                parse_refused(finish(&w), SFU_ERR_PARSE, "signature 1 is not a COSE_Signature (an array of 3)",
                              "a COSE_Signature of 2 items");
                /* crit in a signature's protected header. */
                {
                        struct bytes sp, sig;
                        w_map(&w, 3);
                        w_int(&w, 1);
                        w_int(&w, -8);
                        w_int(&w, 2);
                        w_array(&w, 1);
                        w_text(&w, "exp");
                        w_text(&w, "exp");
                        w_int(&w, 1);
                        sp = finish(&w);
                        sig = forge_sig(ed, SFU_ALG_EDDSA, &body, &sp, &cbor_payload);
                        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_TAG, 98);
                        w_array(&w, 4);
                        w_bstr(&w, body.p, body.len);
                        w_map(&w, 0);
                        w_bstr(&w, cbor_payload.p, cbor_payload.len);
                        w_array(&w, 1);
                        w_array(&w, 3);
                        w_bstr(&w, sp.p, sp.len);
                        w_map(&w, 0);
                        w_bstr(&w, sig.p, sig.len);
                        refused(finish(&w), ring, SFU_ERR_SIGNATURE,
                                "signature 1: header parameter \"crit\" names \"exp\", which is not understood",
                                "crit [\"exp\"] in a COSE_Signature");
                        bytes_free(&sp);
                        bytes_free(&sig);
                }
                bytes_free(&body);
        }

        {
                /* An empty trust store; sizes. */
                struct sfu_keyring *empty = NULL;
                struct bytes b = forge_sign1(18, &prot, &unprot, &cbor_payload, p256, SFU_ALG_ES256);
                if (sfu_keyring_new(&empty) < 0)
                        abort();
                refused_b(&b, empty, NULL, SFU_ERR_SIGNATURE, "the trust store holds no keys", "an empty trust store");
                sfu_keyring_free(empty);
                bytes_free(&b);
        }
        {
                _cleanup_free_ uint8_t *huge = calloc(1, SFU_COSE_MAX_SIZE + 1);
                struct sfu_cose *cose = NOT_WRITTEN;
                struct sfu_err err = SFU_ERR_INIT;
                ok(huge && sfu_cose_parse(huge, SFU_COSE_MAX_SIZE + 1, &cose, &err) < 0 && err.code == SFU_ERR_SIZE &&
                           cose == NOT_WRITTEN,
                   "an input over 4 MiB is refused before decoding (%s)", err.message);
                parse_refused(unhex(""), SFU_ERR_PARSE, "empty input", "empty input");
        }

        bytes_free(&prot);
        bytes_free(&unprot);
        sfu_key_free(p256);
        sfu_key_free(ed);
        sfu_keyring_free(ring);
}

int main(void) {
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ json_t *tree = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        size_t len;

        text = tap_read_file(tap_data("manifest/minimal.json"), &len);
        json_payload = copy((const uint8_t *) text, len);
        tree = json_loadb(text, len, 0, NULL);
        if (!tree || sfu_cbor_encode_json(tree, SFU_MANIFEST_CBOR_BYTES_KEY, &cbor_payload.p, &cbor_payload.len, &err) < 0) {
                printf("Bail out! cannot make the CBOR manifest: %s\n", err.message);
                return 1;
        }

        test_examples();
        test_round_trips();
        test_multi();
        test_bit_flips_and_truncation();
        test_headers();

        bytes_free(&cbor_payload);
        bytes_free(&json_payload);
        return tap_done();
}
