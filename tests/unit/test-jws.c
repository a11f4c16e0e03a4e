/* SPDX-License-Identifier: MIT */
/* JWS: round trips of all 10 algorithms in all 3 serializations, the
 * published examples of RFC 7515 and RFC 8037, and one refusal per rule of
 * DESIGN section 5, each with its reason. Signatures for the attacks are
 * made here with plain OpenSSL calls (forge()), independent of jws.c. */
#include <stdarg.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "core/b64url.h"
#include "core/json.h"
#include "core/jws.h"
#include "core/sig.h"
#include "tap.h"

static const char payload_text[] = "{\"manifestVersion\":\"1.0\",\"manufacturer\":\"example.com\",\"model\":"
                                   "\"gw100\",\"firmwareVersion\":\"10.4.12\"}";

/* ---------------------------------------------------------------- helpers */

static char *b64(const void *data, size_t len) {
        char *s = sfu_b64url_encode(data, len);
        if (!s)
                abort();
        return s;
}

static char *b64s(const char *s) {
        return b64(s, strlen(s));
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...) {
        va_list ap;
        char *s = NULL;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                abort();
        va_end(ap);
        return s;
}

enum forge_kind {
        FORGE_PLAIN, /* RSA PKCS#1 v1.5, EdDSA, or ECDSA as DER */
        FORGE_PSS,   /* RSA-PSS with salt = hash length */
        FORGE_ECDSA_RAW,
};

/* Raw signature over input, made with OpenSSL directly. */
static uint8_t *forge_sig(const char *input, EVP_PKEY *pkey, const char *md, enum forge_kind kind,
                          size_t ec_size, size_t *ret_len) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        size_t len = 0;
        uint8_t *sig;

        if (!ctx || EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, pkey, NULL) != 1)
                abort();
        if (kind == FORGE_PSS && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                                  EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
                abort();
        if (EVP_DigestSign(ctx, NULL, &len, (const uint8_t *) input, strlen(input)) != 1)
                abort();
        sig = malloc(len);
        if (!sig || EVP_DigestSign(ctx, sig, &len, (const uint8_t *) input, strlen(input)) != 1)
                abort();
        EVP_MD_CTX_free(ctx);
        if (kind == FORGE_ECDSA_RAW) {
                const unsigned char *p = sig;
                ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long) len);
                uint8_t *raw = malloc(2 * ec_size);
                if (!es || !raw || BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int) ec_size) < 0 ||
                    BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + ec_size, (int) ec_size) < 0)
                        abort();
                ECDSA_SIG_free(es);
                free(sig);
                sig = raw;
                len = 2 * ec_size;
        }
        *ret_len = len;
        return sig;
}

/* A compact JWS with any protected header, signed by OpenSSL directly. */
static char *forge(const char *header, const char *payload, EVP_PKEY *pkey, const char *md,
                   enum forge_kind kind, size_t ec_size) {
        _cleanup_free_ char *h = b64s(header), *p = b64s(payload), *input = xasprintf("%s.%s", h, p),
                            *s = NULL;
        _cleanup_free_ uint8_t *sig = NULL;
        size_t sig_len = 0;

        sig = forge_sig(input, pkey, md, kind, ec_size, &sig_len);
        s = b64(sig, sig_len);
        return xasprintf("%s.%s", input, s);
}

/* Splits a compact JWS into new strings. */
static void split3(const char *jws, char **h, char **p, char **s) {
        const char *d1 = strchr(jws, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
        if (!d2)
                abort();
        *h = strndup(jws, (size_t) (d1 - jws));
        *p = strndup(d1 + 1, (size_t) (d2 - d1 - 1));
        *s = strdup(d2 + 1);
}

/* Flips one bit of the decoded segment `which` (0 header, 1 payload, 2
 * signature) and re-encodes it canonically. */
static char *flip_bit(const char *jws, int which, size_t byte, unsigned bit) {
        _cleanup_free_ char *h = NULL, *p = NULL, *s = NULL;
        char **seg[3] = {&h, &p, &s};
        _cleanup_free_ uint8_t *raw = NULL;
        size_t len = 0;

        split3(jws, &h, &p, &s);
        if (sfu_b64url_decode(*seg[which], strlen(*seg[which]), &raw, &len) < 0 || byte >= len)
                abort();
        raw[byte] ^= (uint8_t) (1u << bit);
        free(*seg[which]);
        *seg[which] = b64(raw, len);
        return xasprintf("%s.%s.%s", h, p, s);
}

/* The JWS with its signature cut or zero-padded to new_len bytes. */
static char *resize_sig(const char *jws, size_t new_len) {
        _cleanup_free_ char *h = NULL, *p = NULL, *s = NULL, *s2 = NULL;
        _cleanup_free_ uint8_t *raw = NULL, *sized = calloc(1, new_len + 1);
        size_t len = 0;

        split3(jws, &h, &p, &s);
        if (!sized || sfu_b64url_decode(s, strlen(s), &raw, &len) < 0)
                abort();
        memcpy(sized, raw, len < new_len ? len : new_len);
        s2 = b64(sized, new_len);
        return xasprintf("%s.%s.%s", h, p, s2);
}

static int parse_verify(const char *text, const struct sfu_keyring *ring,
                        const struct sfu_jws_verify_opts *opts, unsigned *valid, struct sfu_err *err) {
        _cleanup_jws_ struct sfu_jws *jws = NULL;
        int r = sfu_jws_parse(text, strlen(text), &jws, err);
        if (r < 0)
                return r;
        return sfu_jws_verify(jws, ring, opts, valid, err);
}

static void accepted(const char *what, const char *text, const struct sfu_keyring *ring,
                     const struct sfu_jws_verify_opts *opts, unsigned want_valid) {
        struct sfu_err err = SFU_ERR_INIT;
        unsigned valid = 999;
        int r = parse_verify(text, ring, opts, &valid, &err);
        ok(r == 0 && valid == want_valid, "%s: accepted with %u distinct key(s) (r=%d valid=%u %s)", what,
           want_valid, r, valid, err.message);
}

static void refused(const char *what, const char *text, const struct sfu_keyring *ring,
                    const struct sfu_jws_verify_opts *opts, enum sfu_err_code code, const char *reason) {
        struct sfu_err err = SFU_ERR_INIT;
        unsigned valid = 999;
        int r = parse_verify(text, ring, opts, &valid, &err);
        ok(r < 0 && valid == 999, "%s: refused", what);
        ok(err.code == code && strstr(err.message, reason), "%s: %s error has \"%s\" (got %s: \"%s\")", what,
           sfu_err_code_name(code), reason, sfu_err_code_name(err.code), err.message);
        ok(!strchr(err.message, '\n'), "%s: the reason is one line", what);
}

static const struct sfu_jws_verify_opts manifest_opts = {.required_typ = SFU_JWS_TYP_MANIFEST};

/* ---------------------------------------------------------------- keys */

static struct {
        struct sfu_key *rsa, *rsa_b, *p256, *p256_b, *p384, *p521, *ed, *rsa1024;
        struct sfu_keyring *ring; /* public halves of rsa, p256, p384, p521, ed */
} K;

/* refused() of TEXT (made by xasprintf()) for a parse reason; frees TEXT. */
static void parse_refused(const char *what, char *text, const char *reason) {
        refused(what, text, K.ring, NULL, SFU_ERR_PARSE, reason);
        free(text);
}

static void keys_setup(void) {
        static const char *const pubs[] = {"keys/rsa2048.pub.pem", "keys/ec-p256.pub.pem",
                                           "keys/ec-p384.pub.jwk", "keys/ec-p521.pub.pem",
                                           "keys/ed25519.pub.jwk"};
        struct sfu_err err = SFU_ERR_INIT;

        K.rsa = tap_load_key("keys/rsa2048.pem", true);
        K.rsa_b = tap_load_key("keys/rsa2048-b.pem", true);
        K.p256 = tap_load_key("keys/ec-p256.pem", true);
        K.p256_b = tap_load_key("keys/ec-p256-b.pem", true);
        K.p384 = tap_load_key("keys/ec-p384.jwk", true);
        K.p521 = tap_load_key("keys/ec-p521.pem", true);
        K.ed = tap_load_key("keys/ed25519.pem", true);
        if (sfu_keyring_new(&K.ring) < 0)
                abort();
        for (size_t i = 0; i < ELEMENTSOF(pubs); i++)
                if (sfu_keyring_add(K.ring, tap_load_key(pubs[i], false), &err) < 0) {
                        printf("Bail out! %s\n", err.message);
                        exit(1);
                }
}

static void keys_free(void) {
        struct sfu_key *const keys[] = {K.rsa, K.rsa_b, K.p256, K.p256_b, K.p384, K.p521, K.ed};

        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                sfu_key_free(keys[i]);
        sfu_keyring_free(K.ring);
}

/* The private key of the test keys that signs with alg. */
static const struct sfu_key *key_for_alg(enum sfu_alg alg) {
        const struct sfu_key *const ec[] = {K.p256, K.p384, K.p521};

        if (alg >= SFU_ALG_RS256 && alg <= SFU_ALG_PS512)
                return K.rsa;
        if (alg >= SFU_ALG_ES256 && alg <= SFU_ALG_ES512)
                return ec[alg - SFU_ALG_ES256];
        if (alg == SFU_ALG_EDDSA)
                return K.ed;
        abort(); /* HSS-LMS is not a JOSE algorithm */
}

static char *sign(enum sfu_alg alg, enum sfu_jws_form form) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_jws_sign_opts o = {.alg = alg, .form = form};
        char *out = NULL;
        if (sfu_jws_sign((const uint8_t *) payload_text, strlen(payload_text), key_for_alg(alg), &o, &out,
                         &err) < 0) {
                printf("Bail out! sign %s: %s\n", sfu_alg_name(alg), err.message);
                exit(1);
        }
        return out;
}

/* ---------------------------------------------------------------- tests */

static void test_alg_names(void) {
        static const char *const names[] = {"RS256", "RS384", "RS512", "PS256", "PS384",
                                            "PS512", "ES256", "ES384", "ES512", "EdDSA"};
        struct sfu_err err = SFU_ERR_INIT;
        unsigned mask = 0;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                enum sfu_alg alg = _SFU_ALG_INVALID;
                ok(sfu_alg_from_name(names[i], &alg) == 0 && alg == (enum sfu_alg) i &&
                           sfu_streq(sfu_alg_name(alg), names[i]),
                   "alg name %s", names[i]);
        }
        {
                static const char *const bad[] = {"rs256",  "eddsa",   "EDDSA", "none",  "HS256",
                                                  "ES256K", "Ed25519", "",      "RS256 "};
                for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                        enum sfu_alg alg = SFU_ALG_RS256;
                        ok(sfu_alg_from_name(bad[i], &alg) == -EINVAL && alg == SFU_ALG_RS256,
                           "\"%s\" is not an alg name", bad[i]);
                }
        }
        ok(sfu_alg_name(_SFU_ALG_MAX) == NULL, "no name for an out-of-range alg");

        ok(sfu_alg_list_parse("ES256,ES384,ES512,EdDSA,PS256,PS384,PS512,RS256,RS384,RS512", &mask,
                                  &err) == 0 &&
                   mask == (SFU_ALG_MASK_ALL & ~SFU_ALG_MASK(SFU_ALG_HSS_LMS)),
           "the ten JOSE names give every JOSE alg");
        ok(sfu_alg_list_parse(" ES256 ,\tEdDSA ", &mask, &err) == 0 &&
                   mask == (SFU_ALG_MASK(SFU_ALG_ES256) | SFU_ALG_MASK(SFU_ALG_EDDSA)),
           "spaces around names are allowed");
        {
                static const struct {
                        const char *list, *reason;
                } bad[] = {
                        {"", "empty algorithm list"},
                        {"   ", "empty algorithm list"},
                        {"ES256,,EdDSA", "empty name"},
                        {"ES256,", "empty name"},
                        {"ES256,none", "\"none\" is never allowed"},
                        {"HS256", "\"HS256\" is never allowed (HMAC)"},
                        {"ES256,FOO", "unknown algorithm \"FOO\""},
                        {"es256", "unknown algorithm \"es256\""},
                        {"ES256 EdDSA", "unknown algorithm \"ES256 EdDSA\""},
                };
                for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                        unsigned m = 12345;
                        sfu_err_clear(&err);
                        ok(sfu_alg_list_parse(bad[i].list, &m, &err) < 0 && m == 12345 &&
                                   err.code == SFU_ERR_PARSE && strstr(err.message, bad[i].reason),
                           "alg list \"%s\" refused: %s", bad[i].list, err.message);
                }
        }
}

static void test_fits(void) {
        const struct sfu_key *keys[] = {K.rsa, K.p256, K.p384, K.p521, K.ed};
        /* fits[alg][key] */
        static const bool fits[SFU_ALG_EDDSA + 1][5] = {
                {1, 0, 0, 0, 0}, {1, 0, 0, 0, 0}, {1, 0, 0, 0, 0}, {1, 0, 0, 0, 0}, {1, 0, 0, 0, 0},
                {1, 0, 0, 0, 0}, {0, 1, 0, 0, 0}, {0, 0, 1, 0, 0}, {0, 0, 0, 1, 0}, {0, 0, 0, 0, 1},
        };
        bool all = true;
        for (int a = 0; a <= SFU_ALG_EDDSA; a++)
                for (size_t k = 0; k < ELEMENTSOF(keys); k++)
                        if (sfu_sig_fits_key((enum sfu_alg) a, keys[k]) != fits[a][k]) {
                                tap_diag("alg %s key %s", sfu_alg_name((enum sfu_alg) a),
                                         sfu_key_type_name(keys[k]->type));
                                all = false;
                        }
        ok(all, "alg/key fit matrix (10 algs x 5 key types)");
        ok(!sfu_sig_fits_key(SFU_ALG_ES256, NULL), "no alg fits a NULL key");
        {
                enum sfu_alg alg = SFU_ALG_RS256;
                ok(sfu_sig_default_alg(K.p256, &alg) == 0 && alg == SFU_ALG_ES256,
                   "default alg P-256: ES256");
                ok(sfu_sig_default_alg(K.p384, &alg) == 0 && alg == SFU_ALG_ES384,
                   "default alg P-384: ES384");
                ok(sfu_sig_default_alg(K.p521, &alg) == 0 && alg == SFU_ALG_ES512,
                   "default alg P-521: ES512");
                ok(sfu_sig_default_alg(K.ed, &alg) == 0 && alg == SFU_ALG_EDDSA,
                   "default alg Ed25519: EdDSA");
                alg = SFU_ALG_ES256;
                ok(sfu_sig_default_alg(K.rsa, &alg) == -EINVAL && alg == SFU_ALG_ES256,
                   "no default alg for RSA (the signer chooses RS or PS)");
        }
}

/* Checks a signature made by jws.c with plain OpenSSL: RSA-PSS with the
 * salt length equal to the hash length, ECDSA as raw R||S. */
static bool independent_check(enum sfu_alg alg, const struct sfu_jws *jws) {
        static const char *const mds[] = {"SHA256", "SHA384", "SHA512", "SHA256", "SHA384",
                                          "SHA512", "SHA256", "SHA384", "SHA512", NULL};
        static const int hash_len[] = {32, 48, 64, 32, 48, 64, 32, 48, 64, 0};
        const struct sfu_jws_signature *s = &jws->signatures[0];
        _cleanup_free_ char *input = xasprintf("%s.%s", s->protected_b64, jws->payload_b64);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        const uint8_t *sig = s->signature;
        size_t sig_len = s->signature_len;
        unsigned char *der = NULL;
        int r;

        if (EVP_DigestVerifyInit_ex(ctx, &pctx, mds[alg], NULL, NULL, key_for_alg(alg)->pkey, NULL) != 1)
                abort();
        if (alg >= SFU_ALG_PS256 && alg <= SFU_ALG_PS512) {
                /* An explicit salt length: passes only if the signer used
                 * exactly the hash length. */
                if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, hash_len[alg]) != 1 ||
                    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, mds[alg], NULL) != 1)
                        abort();
        }
        if (alg >= SFU_ALG_ES256 && alg <= SFU_ALG_ES512) {
                size_t half = sig_len / 2;
                ECDSA_SIG *es = ECDSA_SIG_new();
                int der_len;
                if (!es || ECDSA_SIG_set0(es, BN_bin2bn(sig, (int) half, NULL),
                                          BN_bin2bn(sig + half, (int) half, NULL)) != 1)
                        abort();
                der_len = i2d_ECDSA_SIG(es, &der);
                ECDSA_SIG_free(es);
                sig = der;
                sig_len = (size_t) der_len;
        }
        r = EVP_DigestVerify(ctx, sig, sig_len, (const uint8_t *) input, strlen(input));
        OPENSSL_free(der);
        EVP_MD_CTX_free(ctx);
        ERR_clear_error();
        return r == 1;
}

static void test_round_trips(void) {
        static const size_t sig_len[] = {256, 256, 256, 256, 256, 256, 64, 96, 132, 64};
        static const char *const form_names[] = {"compact", "flattened", "general"};

        for (int a = 0; a <= SFU_ALG_EDDSA; a++)
                for (int f = SFU_JWS_COMPACT; f <= SFU_JWS_GENERAL; f++) {
                        enum sfu_alg alg = (enum sfu_alg) a;
                        const char *name = sfu_alg_name(alg);
                        struct sfu_err err = SFU_ERR_INIT;
                        _cleanup_free_ char *text = sign(alg, (enum sfu_jws_form) f);
                        _cleanup_jws_ struct sfu_jws *jws = NULL;
                        unsigned valid = 0;
                        int r;

                        r = sfu_jws_parse(text, strlen(text), &jws, &err);
                        ok(r == 0 && jws->form == (enum sfu_jws_form) f && jws->n_signatures == 1,
                           "%s %s: parses as %s (%s)", name, form_names[f], form_names[f], err.message);
                        if (r < 0)
                                continue;
                        ok(jws->payload_len == strlen(payload_text) &&
                                   memcmp(jws->payload, payload_text, jws->payload_len) == 0,
                           "%s %s: payload kept", name, form_names[f]);
                        ok(sfu_streq(json_string_value(
                                             json_object_get(jws->signatures[0].protected_header, "alg")),
                                     name) &&
                                   sfu_streq(json_string_value(json_object_get(
                                                     jws->signatures[0].protected_header, "kid")),
                                             key_for_alg(alg)->kid) &&
                                   sfu_streq(json_string_value(json_object_get(
                                                     jws->signatures[0].protected_header, "typ")),
                                             SFU_JWS_TYP_MANIFEST) &&
                                   json_object_size(jws->signatures[0].protected_header) == 3,
                           "%s %s: protected header is exactly alg, kid (the thumbprint) and typ", name,
                           form_names[f]);
                        is_int(jws->signatures[0].signature_len, sig_len[a], "signature length");
                        r = sfu_jws_verify(jws, K.ring, &manifest_opts, &valid, &err);
                        ok(r == 0 && valid == 1, "%s %s: verifies with the trust store (%s)", name,
                           form_names[f], err.message);
                        if (f == SFU_JWS_COMPACT)
                                ok(independent_check(alg, jws), "%s: plain OpenSSL verifies it too%s", name,
                                   alg >= SFU_ALG_PS256 && alg <= SFU_ALG_PS512
                                           ? " with salt length = hash length"
                                           : "");
                }
}

static char *rfc_file(const char *name) {
        char path[256];
        snprintf(path, sizeof(path), "jws/%s", name);
        return tap_read_file(tap_data(path), NULL);
}

static void test_rfc_examples(void) {
        static const char rfc7515_payload[] =
                "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
        static const struct {
                const char *jwk, *jws, *what, *payload;
        } cases[] = {
                {"jws/rfc7515-a2.jwk", "rfc7515-a2.jws", "RFC 7515 A.2 (RS256)", rfc7515_payload},
                {"jws/rfc7515-a3.jwk", "rfc7515-a3.jws", "RFC 7515 A.3 (ES256)", rfc7515_payload},
                {"jws/rfc8037-a1.jwk", "rfc8037-a4.jws", "RFC 8037 A.4 (Ed25519)",
                 "Example of Ed25519 signing"},
        };
        _cleanup_keyring_ struct sfu_keyring *ring = NULL;
        struct sfu_err err = SFU_ERR_INIT;

        if (sfu_keyring_new(&ring) < 0)
                abort();
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct sfu_key *key = tap_load_key(cases[i].jwk, true);
                ok(sfu_keyring_add(ring, key, &err) == 0, "add the %s key", cases[i].what);
        }
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *text = rfc_file(cases[i].jws);
                _cleanup_jws_ struct sfu_jws *jws = NULL;
                unsigned valid = 0;
                int r;

                sfu_err_clear(&err);
                r = sfu_jws_parse(text, strlen(text), &jws, &err);
                ok(r == 0, "%s parses (%s)", cases[i].what, err.message);
                if (r < 0)
                        continue;
                ok(jws->payload_len == strlen(cases[i].payload) &&
                           memcmp(jws->payload, cases[i].payload, jws->payload_len) == 0,
                   "%s payload is the published one", cases[i].what);
                r = sfu_jws_verify(jws, ring, NULL, &valid, &err);
                ok(r == 0 && valid == 1, "%s verifies (%s)", cases[i].what, err.message);
                refused(cases[i].what, text, ring, &manifest_opts, SFU_ERR_POLICY, "has no \"typ\"");
                refused(cases[i].what, text, K.ring, NULL, SFU_ERR_SIGNATURE, "does not verify with any");
        }

        /* RFC 7515 A.6 (general) and A.7 (flattened) carry the kids
         * "2010-12-29" and "e9bc097a-ce51-4036-9562-d2ade882db0d". */
        {
                _cleanup_keyring_ struct sfu_keyring *kid_ring = NULL;
                _cleanup_free_ char *a6 = rfc_file("rfc7515-a6.json"), *a7 = rfc_file("rfc7515-a7.json");
                static const char *const files[] = {"jws/rfc7515-a2.jwk", "jws/rfc7515-a3.jwk"};
                static const char *const kids[] = {"2010-12-29", "e9bc097a-ce51-4036-9562-d2ade882db0d"};

                refused("RFC 7515 A.6 without those kids", a6, ring, NULL, SFU_ERR_SIGNATURE,
                        "signature 1: no trusted key with kid \"2010-12-29\"");
                if (sfu_keyring_new(&kid_ring) < 0)
                        abort();
                for (size_t i = 0; i < 2; i++) {
                        struct sfu_key *key = tap_load_key(files[i], false);
                        free(key->kid);
                        key->kid = strdup(kids[i]);
                        if (sfu_keyring_add(kid_ring, key, &err) < 0)
                                abort();
                }
                accepted("RFC 7515 A.6 general serialization, 2 signatures", a6, kid_ring, NULL, 2);
                accepted("RFC 7515 A.7 flattened serialization", a7, kid_ring, NULL, 1);
                {
                        struct sfu_jws_verify_opts two = {.min_signatures = 2};
                        accepted("RFC 7515 A.6 with min_signatures 2", a6, kid_ring, &two, 2);
                        refused("RFC 7515 A.7 with min_signatures 2", a7, kid_ring, &two, SFU_ERR_SIGNATURE,
                                "1 distinct trusted key(s) signed, 2 required");
                }
        }
}

static void test_tampering(void) {
        static const enum sfu_alg algs[] = {SFU_ALG_RS256, SFU_ALG_PS384, SFU_ALG_ES256, SFU_ALG_ES512,
                                                SFU_ALG_EDDSA};
        for (size_t i = 0; i < ELEMENTSOF(algs); i++) {
                const char *name = sfu_alg_name(algs[i]);
                _cleanup_free_ char *good = sign(algs[i], SFU_JWS_COMPACT);
                _cleanup_free_ char *h = NULL, *p = NULL, *s = NULL, *what = NULL;
                _cleanup_free_ char *bad_payload = NULL, *bad_header = NULL, *bad_sig = NULL,
                                    *bad_sig_last = NULL;
                _cleanup_free_ uint8_t *hdr = NULL;
                size_t hdr_len = 0;
                char *typ_pos;

                split3(good, &h, &p, &s);
                if (sfu_b64url_decode(h, strlen(h), &hdr, &hdr_len) < 0)
                        abort();
                /* A bit inside the typ value keeps the header valid JSON. */
                typ_pos = strstr((char *) hdr, "secfu-manifest");
                bad_payload = flip_bit(good, 1, 20, 0);
                bad_header = flip_bit(good, 0, (size_t) (typ_pos - (char *) hdr) + 2, 0);
                bad_sig = flip_bit(good, 2, 10, 3);
                bad_sig_last = flip_bit(good, 2,
                                        algs[i] == SFU_ALG_ES512   ? 131
                                        : algs[i] <= SFU_ALG_PS512 ? 255
                                                                   : 63,
                                        7);
                accepted(name, good, K.ring, &manifest_opts, 1);
                what = xasprintf("%s, one bit flipped in the payload", name);
                refused(what, bad_payload, K.ring, &manifest_opts, SFU_ERR_SIGNATURE, "does not verify");
                free(what);
                what = xasprintf("%s, one bit flipped in the header", name);
                refused(what, bad_header, K.ring, NULL, SFU_ERR_SIGNATURE, "does not verify");
                free(what);
                what = xasprintf("%s, one bit flipped in the header's typ, typ required", name);
                refused(what, bad_header, K.ring, &manifest_opts, SFU_ERR_POLICY, "is not the required");
                free(what);
                what = xasprintf("%s, one bit flipped in the signature", name);
                refused(what, bad_sig, K.ring, &manifest_opts, SFU_ERR_SIGNATURE, "does not verify");
                free(what);
                what = xasprintf("%s, last bit of the signature flipped", name);
                refused(what, bad_sig_last, K.ring, &manifest_opts, SFU_ERR_SIGNATURE, "does not verify");
                free(what);
                what = NULL;
        }

        /* Every single-bit change of an Ed25519 signature is refused. */
        {
                _cleanup_free_ char *good = sign(SFU_ALG_EDDSA, SFU_JWS_COMPACT);
                unsigned accepted_count = 0;
                for (size_t byte = 0; byte < 64; byte++)
                        for (unsigned bit = 0; bit < 8; bit++) {
                                struct sfu_err err = SFU_ERR_INIT;
                                _cleanup_free_ char *bad = flip_bit(good, 2, byte, bit);
                                if (parse_verify(bad, K.ring, NULL, NULL, &err) == 0)
                                        accepted_count++;
                        }
                is_int(accepted_count, 0,
                       "none of the 512 one-bit changes of an Ed25519 signature verifies");
        }
        /* And of every byte of an ES256 JWS's payload (low bit). */
        {
                _cleanup_free_ char *good = sign(SFU_ALG_ES256, SFU_JWS_COMPACT);
                unsigned accepted_count = 0;
                for (size_t byte = 0; byte < strlen(payload_text); byte++) {
                        struct sfu_err err = SFU_ERR_INIT;
                        _cleanup_free_ char *bad = flip_bit(good, 1, byte, 0);
                        if (parse_verify(bad, K.ring, NULL, NULL, &err) == 0)
                                accepted_count++;
                }
                is_int(accepted_count, 0, "no payload byte of an ES256 JWS can change");
        }
}

static char *header_with_kid(const char *alg, const struct sfu_key *key, const char *extra) {
        return xasprintf("{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"secfu-manifest+jws\"%s}", alg, key->kid,
                         extra);
}

/* Who signs a forged JWS, and how. */
enum forged_signer {
        BY_P256,             /* ES256 */
        BY_P256_B,           /* ES256, an untrusted key */
        BY_P256_DER,         /* ES256 with the signature in DER */
        BY_P384_OVER_SHA256, /* ES384 made over SHA-256 */
        BY_RSA_RS256,
        BY_RSA_B_RS256, /* an untrusted key */
        BY_RSA_PS256,
        BY_RSA_PS512,
        BY_ED,
};
static const struct {
        struct sfu_key *const *key;
        const char *md;
        enum forge_kind kind;
        size_t ec_size;
} forged_signers[] = {
        [BY_P256] = {&K.p256, "SHA256", FORGE_ECDSA_RAW, 32},
        [BY_P256_B] = {&K.p256_b, "SHA256", FORGE_ECDSA_RAW, 32},
        [BY_P256_DER] = {&K.p256, "SHA256", FORGE_PLAIN, 0},
        [BY_P384_OVER_SHA256] = {&K.p384, "SHA256", FORGE_ECDSA_RAW, 48},
        [BY_RSA_RS256] = {&K.rsa, "SHA256", FORGE_PLAIN, 0},
        [BY_RSA_B_RS256] = {&K.rsa_b, "SHA256", FORGE_PLAIN, 0},
        [BY_RSA_PS256] = {&K.rsa, "SHA256", FORGE_PSS, 0},
        [BY_RSA_PS512] = {&K.rsa, "SHA512", FORGE_PSS, 0},
        [BY_ED] = {&K.ed, NULL, FORGE_PLAIN, 0},
};

/* A JWS made by forge() and what verifying it against the trust store
 * must say. */
struct forged_case {
        const char *what;
        const char *header; /* the protected header, or when NULL: */
        const char *alg;    /* header_with_kid(alg, *kid_of, extra) */
        struct sfu_key *const *kid_of;
        const char *extra; /* (NULL: none) */
        enum forged_signer by;
        const struct sfu_jws_verify_opts *opts;
        enum sfu_err_code code; /* SFU_ERR_NONE: accepted with one key */
        const char *reason;
};

static const struct sfu_jws_verify_opts no_typ_opts = {};
static const struct sfu_jws_verify_opts only_eddsa_opts = {.alg_allow = SFU_ALG_MASK(SFU_ALG_EDDSA)};
static const struct sfu_jws_verify_opts only_es256_opts = {.alg_allow = SFU_ALG_MASK(SFU_ALG_ES256)};

static const struct forged_case forged_cases[] = {
        /* Sanity: forge() itself makes signatures we accept. */
        {"independently made ES256 JWS", .alg = "ES256", .kid_of = &K.p256, .by = BY_P256,
         .opts = &manifest_opts},
        {"independently made PS512 JWS", .alg = "PS512", .kid_of = &K.rsa, .by = BY_RSA_PS512,
         .opts = &manifest_opts},
        {"EdDSA JWS without kid: the right key is found",
         .header = "{\"alg\":\"EdDSA\",\"typ\":\"secfu-manifest+jws\"}", .by = BY_ED,
         .opts = &manifest_opts},
        {"RS256 JWS without kid or typ, typ not required", .header = "{\"alg\":\"RS256\"}",
         .by = BY_RSA_RS256, .opts = &no_typ_opts},

        /* Signatures by keys that are not trusted, kids naming no trusted key. */
        {"signature by another key (no kid)", .header = "{\"alg\":\"ES256\"}", .by = BY_P256_B,
         .code = SFU_ERR_SIGNATURE, .reason = "does not verify with any of the 1 trusted key(s)"},
        {"signature by another key claiming a trusted kid", .alg = "ES256", .kid_of = &K.p256,
         .by = BY_P256_B, .code = SFU_ERR_SIGNATURE,
         .reason = "signature does not verify with the trusted key with kid"},
        {"RSA signature by another key claiming a trusted kid", .alg = "RS256", .kid_of = &K.rsa,
         .by = BY_RSA_B_RS256, .code = SFU_ERR_SIGNATURE, .reason = "RS256 signature does not verify"},
        {"kid pointing to an unknown key", .header = "{\"alg\":\"ES256\",\"kid\":\"nobody\"}", .by = BY_P256,
         .code = SFU_ERR_SIGNATURE, .reason = "no trusted key with kid \"nobody\""},
        {"kid not a string", .header = "{\"alg\":\"ES256\",\"kid\":7}", .by = BY_P256, .code = SFU_ERR_PARSE,
         .reason = "\"kid\" is not a string"},

        /* ECDSA signatures in DER. */
        {"ES256 with a DER signature", .alg = "ES256", .kid_of = &K.p256, .by = BY_P256_DER,
         .code = SFU_ERR_SIGNATURE, .reason = "ECDSA signature must be 64 bytes for ES256, got 7"},
        {"ES256 with a DER signature (reason names DER)", .alg = "ES256", .kid_of = &K.p256,
         .by = BY_P256_DER, .code = SFU_ERR_SIGNATURE, .reason = "DER-encoded"},

        /* crit and b64. */
        {"unknown crit", .alg = "ES256", .kid_of = &K.p256,
         .extra = ",\"crit\":[\"exp\"],\"exp\":1363284000", .by = BY_P256, .code = SFU_ERR_SIGNATURE,
         .reason = "signature 1: header parameter \"crit\" names \"exp\", which is not understood"},
        {"empty crit", .alg = "ES256", .kid_of = &K.p256, .extra = ",\"crit\":[]", .by = BY_P256,
         .code = SFU_ERR_SIGNATURE, .reason = "\"crit\" must be a non-empty list"},
        {"crit not a list", .alg = "ES256", .kid_of = &K.p256, .extra = ",\"crit\":\"exp\"", .by = BY_P256,
         .code = SFU_ERR_SIGNATURE, .reason = "\"crit\" must be a non-empty list"},
        {"b64:false with crit", .alg = "ES256", .kid_of = &K.p256,
         .extra = ",\"b64\":false,\"crit\":[\"b64\"]", .by = BY_P256, .code = SFU_ERR_SIGNATURE,
         .reason = "\"crit\" names \"b64\""},
        {"b64:false", .alg = "ES256", .kid_of = &K.p256, .extra = ",\"b64\":false", .by = BY_P256,
         .code = SFU_ERR_SIGNATURE,
         .reason = "\"b64\": false (unencoded payload, RFC 7797) is not supported"},
        {"b64:true is the default and harmless", .alg = "ES256", .kid_of = &K.p256, .extra = ",\"b64\":true",
         .by = BY_P256},

        /* alg that does not fit the key the kid selects. */
        {"RS256 header with the kid of an EC key", .alg = "RS256", .kid_of = &K.p256, .by = BY_RSA_RS256,
         .code = SFU_ERR_SIGNATURE, .reason = "alg RS256 does not fit the P-256 key"},
        {"EdDSA header with the kid of an EC key", .alg = "EdDSA", .kid_of = &K.p256, .by = BY_ED,
         .code = SFU_ERR_SIGNATURE, .reason = "alg EdDSA does not fit the P-256 key"},
        {"ES256 header with the kid of a P-384 key", .alg = "ES256", .kid_of = &K.p384, .by = BY_P256,
         .code = SFU_ERR_SIGNATURE, .reason = "alg ES256 does not fit the P-384 key"},
        {"PS256 header with the kid of an Ed25519 key", .alg = "PS256", .kid_of = &K.ed, .by = BY_RSA_PS256,
         .code = SFU_ERR_SIGNATURE, .reason = "alg PS256 does not fit the Ed25519 key"},
        /* An RS256 signature presented as PS256 (same key and hash). */
        {"PKCS#1 v1.5 signature labelled PS256", .alg = "PS256", .kid_of = &K.rsa, .by = BY_RSA_RS256,
         .code = SFU_ERR_SIGNATURE, .reason = "does not verify"},
        {"ES384 signature made over SHA-256", .alg = "ES384", .kid_of = &K.p384, .by = BY_P384_OVER_SHA256,
         .code = SFU_ERR_SIGNATURE, .reason = "does not verify"},

        /* Unsupported algs, and the allow-list. */
        {"alg Ed448", .header = "{\"alg\":\"Ed448\"}", .by = BY_ED, .code = SFU_ERR_SIGNATURE,
         .reason = "\"Ed448\" is not supported (EdDSA here means Ed25519 only)"},
        {"alg ES256K", .header = "{\"alg\":\"ES256K\"}", .by = BY_P256, .code = SFU_ERR_SIGNATURE,
         .reason = "alg \"ES256K\" is not supported"},
        {"alg in lower case", .header = "{\"alg\":\"es256\"}", .by = BY_P256, .code = SFU_ERR_SIGNATURE,
         .reason = "alg \"es256\" is not supported"},
        {"alg not a string", .header = "{\"alg\":256}", .by = BY_P256, .code = SFU_ERR_PARSE,
         .reason = "\"alg\" is not a string"},
        {"no alg at all", .header = "{\"typ\":\"secfu-manifest+jws\"}", .by = BY_P256,
         .code = SFU_ERR_SIGNATURE, .reason = "the protected header has no \"alg\""},
        {"alg outside the allow-list", .alg = "ES256", .kid_of = &K.p256, .by = BY_P256,
         .opts = &only_eddsa_opts, .code = SFU_ERR_POLICY,
         .reason = "alg \"ES256\" is not in the allowed list"},
        {"alg inside the allow-list", .alg = "ES256", .kid_of = &K.p256, .by = BY_P256,
         .opts = &only_es256_opts},

        /* Duplicate keys, invalid UTF-8, not an object. */
        {"duplicate JSON keys in the protected header", .header = "{\"alg\":\"ES256\",\"alg\":\"none\"}",
         .by = BY_P256, .code = SFU_ERR_PARSE, .reason = "duplicate"},
        {"invalid UTF-8 in the protected header", .header = "{\"alg\":\"ES256\",\"x\":\"\xff\xfe\"}",
         .by = BY_P256, .code = SFU_ERR_PARSE, .reason = "protected header: invalid JSON"},
        {"overlong UTF-8 in the protected header", .header = "{\"alg\":\"ES256\",\"x\":\"\xc0\xaf\"}",
         .by = BY_P256, .code = SFU_ERR_PARSE, .reason = "invalid JSON"},
        {"\\u0000 in the protected header", .header = "{\"alg\":\"ES256\",\"x\":\"a\\u0000b\"}",
         .by = BY_P256, .code = SFU_ERR_PARSE, .reason = "invalid JSON"},
        {"protected header is an array", .header = "[\"alg\",\"ES256\"]", .by = BY_P256,
         .code = SFU_ERR_PARSE, .reason = "not an object"},
        {"garbage after the protected header", .header = "{\"alg\":\"ES256\"} x", .by = BY_P256,
         .code = SFU_ERR_PARSE, .reason = "invalid JSON"},
};

static void check_forged(const struct forged_case *c) {
        _cleanup_free_ char *h = c->header ? strdup(c->header)
                                           : header_with_kid(c->alg, *c->kid_of, c->extra ? c->extra : "");
        _cleanup_free_ char *jws =
                forge(h, payload_text, (*forged_signers[c->by].key)->pkey, forged_signers[c->by].md,
                      forged_signers[c->by].kind, forged_signers[c->by].ec_size);

        if (c->code == SFU_ERR_NONE)
                accepted(c->what, jws, K.ring, c->opts, 1);
        else
                refused(c->what, jws, K.ring, c->opts, c->code, c->reason);
}

static void test_forged(void) {
        _cleanup_free_ char *h = NULL, *jws = NULL, *rsa_pub_pem = NULL;

        for (size_t i = 0; i < ELEMENTSOF(forged_cases); i++)
                check_forged(&forged_cases[i]);

        /* alg none, in any case. */
        {
                _cleanup_free_ char *hn = b64s("{\"alg\":\"none\"}"),
                                    *hN = b64s("{\"alg\":\"NoNe\",\"typ\":\"secfu-manifest+jws\"}"),
                                    *p = b64s(payload_text);
                jws = xasprintf("%s.%s.", hn, p);
                refused("alg none", jws, K.ring, NULL, SFU_ERR_SIGNATURE,
                        "signature 1: alg \"none\" is not allowed");
                free(jws);
                jws = xasprintf("%s.%s.", hN, p);
                refused("alg NoNe", jws, K.ring, &manifest_opts, SFU_ERR_SIGNATURE,
                        "alg \"NoNe\" is not allowed");
                free(jws);
        }

        /* HS256 with the RSA public key PEM as the HMAC secret (the
         * classic key-confusion attack). */
        {
                _cleanup_free_ char *hb = NULL, *p = b64s(payload_text), *input = NULL, *sb = NULL,
                                    *hdr = NULL;
                uint8_t mac[EVP_MAX_MD_SIZE];
                unsigned mac_len = 0;
                ok(sfu_key_to_pem(K.ring->keys[0], false, &rsa_pub_pem) == 0,
                   "public PEM of the trusted RSA key");
                hdr = header_with_kid("HS256", K.rsa, "");
                hb = b64s(hdr);
                input = xasprintf("%s.%s", hb, p);
                if (!HMAC(EVP_sha256(), rsa_pub_pem, (int) strlen(rsa_pub_pem), (const uint8_t *) input,
                          strlen(input), mac, &mac_len))
                        abort();
                sb = b64(mac, mac_len);
                jws = xasprintf("%s.%s", input, sb);
                refused("HS256 made with the RSA public key as HMAC secret", jws, K.ring, NULL,
                        SFU_ERR_SIGNATURE, "alg \"HS256\" (HMAC) is not allowed");
                free(jws);
                free(hdr);
                hdr = xasprintf("{\"alg\":\"HS512\"}");
                free(hb);
                hb = b64s(hdr);
                jws = xasprintf("%s.%s.%s", hb, p, sb);
                refused("HS512", jws, K.ring, NULL, SFU_ERR_SIGNATURE, "(HMAC) is not allowed");
                free(jws);
                jws = NULL;
        }

        /* Signature by a key that is not trusted. */
        h = header_with_kid("ES256", K.p256_b, "");
        jws = forge(h, payload_text, K.p256_b->pkey, "SHA256", FORGE_ECDSA_RAW, 32);
        {
                _cleanup_free_ char *want =
                        xasprintf("signature 1: no trusted key with kid \"%s\"", K.p256_b->kid);
                refused("signature by another key (its own kid)", jws, K.ring, NULL, SFU_ERR_SIGNATURE,
                        want);
        }
        free(h), free(jws);

        /* A jwk header carrying the attacker's own key is never used. */
        {
                _cleanup_json_ json_t *attacker = NULL;
                _cleanup_free_ char *jwk_text = NULL;
                unsigned n_before = (unsigned) K.ring->n_keys;
                if (sfu_key_to_jwk(K.p256_b, &attacker) < 0)
                        abort();
                json_object_del(attacker, "kid");
                jwk_text = json_dumps(attacker, JSON_COMPACT);
                h = xasprintf("{\"alg\":\"ES256\",\"jwk\":%s}", jwk_text);
                jws = forge(h, payload_text, K.p256_b->pkey, "SHA256", FORGE_ECDSA_RAW, 32);
                refused("jwk header with the attacker's key", jws, K.ring, NULL, SFU_ERR_SIGNATURE,
                        "does not verify with any");
                free(h), free(jws);
                h = xasprintf("{\"alg\":\"ES256\",\"kid\":\"%s\",\"jwk\":%s}", K.p256_b->kid, jwk_text);
                jws = forge(h, payload_text, K.p256_b->pkey, "SHA256", FORGE_ECDSA_RAW, 32);
                refused("jwk header with the attacker's key and its kid", jws, K.ring, NULL,
                        SFU_ERR_SIGNATURE, "no trusted key with kid");
                free(h), free(jws);
                h = xasprintf("{\"alg\":\"ES256\",\"jku\":\"https://evil.example/keys\",\"x5u\":\"https://"
                              "evil.example/c\",\"x5c\":[\"AAAA\"]}");
                jws = forge(h, payload_text, K.p256_b->pkey, "SHA256", FORGE_ECDSA_RAW, 32);
                refused("jku, x5u and x5c headers", jws, K.ring, NULL, SFU_ERR_SIGNATURE,
                        "does not verify with any");
                free(h), free(jws);
                is_int(K.ring->n_keys, n_before, "the trust store did not change");
                /* Their presence does not make a good signature bad. */
                h = xasprintf("{\"alg\":\"ES256\",\"jwk\":%s}", jwk_text);
                jws = forge(h, payload_text, K.p256->pkey, "SHA256", FORGE_ECDSA_RAW, 32);
                accepted("a trusted signature with an unrelated jwk header", jws, K.ring, NULL, 1);
                free(h), free(jws);
        }

        /* Signatures of wrong lengths. */
        {
                static const struct {
                        enum sfu_alg alg;
                        size_t len;
                        const char *reason;
                } cases[] = {
                        {SFU_ALG_ES256, 63, "ECDSA signature must be 64 bytes for ES256, got 63"},
                        {SFU_ALG_ES256, 65, "ECDSA signature must be 64 bytes for ES256, got 65"},
                        {SFU_ALG_ES256, 0, "ECDSA signature must be 64 bytes for ES256, got 0"},
                        {SFU_ALG_ES384, 94, "ECDSA signature must be 96 bytes for ES384, got 94"},
                        {SFU_ALG_ES512, 128, "ECDSA signature must be 132 bytes for ES512, got 128"},
                        {SFU_ALG_ES512, 64, "ECDSA signature must be 132 bytes for ES512, got 64"},
                        {SFU_ALG_RS256, 255, "RSA signature must be 256 bytes for the 2048-bit key"},
                        {SFU_ALG_PS512, 512, "RSA signature must be 256 bytes for the 2048-bit key"},
                        {SFU_ALG_EDDSA, 32, "EdDSA signature must be 64 bytes, got 32"},
                        {SFU_ALG_EDDSA, 65, "EdDSA signature must be 64 bytes, got 65"},
                };
                for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                        _cleanup_free_ char *good = sign(cases[i].alg, SFU_JWS_COMPACT), *what = NULL;
                        jws = resize_sig(good, cases[i].len);
                        what = xasprintf("%s signature of %zu bytes", sfu_alg_name(cases[i].alg),
                                         cases[i].len);
                        refused(what, jws, K.ring, NULL, SFU_ERR_SIGNATURE, cases[i].reason);
                        free(jws);
                }
                jws = NULL;
        }

        /* RSA-1024: refused at load (test-key) and at verify, even when a
         * ring holds such a key. */
        {
                _cleanup_keyring_ struct sfu_keyring *weak_ring = NULL;
                struct sfu_key *weak = calloc(1, sizeof(*weak));
                FILE *f = fopen(tap_data("keys/rsa1024.pem"), "re");
                if (!weak || !f || sfu_keyring_new(&weak_ring) < 0)
                        abort();
                weak->pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
                fclose(f);
                weak->type = SFU_KEY_RSA;
                weak->bits = 1024;
                weak->kid = strdup("weak");
                weak->source = strdup("hand-made");
                weak_ring->keys[weak_ring->n_keys++] = weak; /* bypasses keyring_add's check */
                jws = forge("{\"alg\":\"RS256\",\"kid\":\"weak\"}", payload_text, weak->pkey, "SHA256",
                            FORGE_PLAIN, 0);
                refused("RS256 by an RSA-1024 key selected by kid", jws, weak_ring, NULL, SFU_ERR_SIGNATURE,
                        "RSA key of 1024 bits is below the minimum of 2048");
                free(jws);
                jws = forge("{\"alg\":\"PS256\"}", payload_text, weak->pkey, "SHA256", FORGE_PSS, 0);
                refused("PS256 by an RSA-1024 key without kid", jws, weak_ring, NULL, SFU_ERR_SIGNATURE,
                        "no trusted key fits alg PS256");
                free(jws);
                jws = NULL;
        }

        /* typ. */
        h = header_with_kid("ES256", K.p256, "");
        {
                char *jwt = strstr(h, "secfu-manifest+jws");
                _cleanup_free_ char *h2 = NULL;
                memcpy(jwt, "JWT\"}", 6);
                jws = forge(h, payload_text, K.p256->pkey, "SHA256", FORGE_ECDSA_RAW, 32);
                refused("typ JWT where the manifest typ is required", jws, K.ring, &manifest_opts,
                        SFU_ERR_POLICY, "typ \"JWT\" is not the required \"secfu-manifest+jws\"");
                accepted("typ JWT, typ not required", jws, K.ring, NULL, 1);
                free(jws);
                h2 = xasprintf("{\"alg\":\"ES256\",\"typ\":\"application/SECFU-manifest+JWS\"}");
                jws = forge(h2, payload_text, K.p256->pkey, "SHA256", FORGE_ECDSA_RAW, 32);
                accepted("typ with application/ prefix and other case (RFC 7515 4.1.9)", jws, K.ring,
                         &manifest_opts, 1);
        }
        free(h), free(jws);
        h = NULL, jws = NULL;
}

static char *flattened(const char *protected_json, const char *header_json, const char *payload,
                       EVP_PKEY *pkey, const char *md, enum forge_kind kind, size_t ec_size) {
        _cleanup_free_ char *pb = protected_json ? b64s(protected_json) : strdup(""), *p = b64s(payload),
                            *input = xasprintf("%s.%s", pb, p), *s = NULL, *prot = NULL, *hdr = NULL;
        _cleanup_free_ uint8_t *sig = NULL;
        size_t len = 0;

        sig = forge_sig(input, pkey, md, kind, ec_size, &len);
        s = b64(sig, len);
        prot = protected_json ? xasprintf("\"protected\":\"%s\",", pb) : strdup("");
        hdr = header_json ? xasprintf("\"header\":%s,", header_json) : strdup("");
        return xasprintf("{\"payload\":\"%s\",%s%s\"signature\":\"%s\"}", p, prot, hdr, s);
}

static void test_json_forms(void) {
        struct sfu_err err = SFU_ERR_INIT;
        char *jws;

        /* ES256 by the trusted P-256 key, with headers in the wrong places. */
        static const struct {
                const char *what, *protected_json, *header_json;
                enum sfu_err_code code;
                const char *reason;
        } cases[] = {
                {"alg only in the unprotected header", "{\"typ\":\"secfu-manifest+jws\"}",
                 "{\"alg\":\"ES256\"}", SFU_ERR_SIGNATURE, "\"alg\" is only in the unprotected header"},
                {"no protected header at all", NULL, "{\"alg\":\"ES256\"}", SFU_ERR_SIGNATURE,
                 "\"alg\" is only in the unprotected header"},
                {"crit in the unprotected header", "{\"alg\":\"ES256\"}", "{\"crit\":[\"exp\"]}",
                 SFU_ERR_SIGNATURE, "\"crit\" must be in the protected header"},
                {"b64:false in the unprotected header", "{\"alg\":\"ES256\"}", "{\"b64\":false}",
                 SFU_ERR_SIGNATURE, "\"b64\": false"},
                {"alg in both headers", "{\"alg\":\"ES256\"}", "{\"alg\":\"none\"}", SFU_ERR_PARSE,
                 "header parameter \"alg\" is in both the protected and the unprotected header"},
                {"unprotected header not an object", "{\"alg\":\"ES256\"}", "[1]", SFU_ERR_PARSE,
                 "is not a JSON object"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                jws = flattened(cases[i].protected_json, cases[i].header_json, payload_text, K.p256->pkey,
                                "SHA256", FORGE_ECDSA_RAW, 32);
                refused(cases[i].what, jws, K.ring, NULL, cases[i].code, cases[i].reason);
                free(jws);
        }
        /* kid in the unprotected header only selects; it is fine. */
        {
                _cleanup_free_ char *hdr = xasprintf("{\"kid\":\"%s\"}", K.p256->kid);
                jws = flattened("{\"alg\":\"ES256\"}", hdr, payload_text, K.p256->pkey, "SHA256",
                                FORGE_ECDSA_RAW, 32);
                accepted("flattened with kid in the unprotected header", jws, K.ring, NULL, 1);
                free(jws);
        }

        {
                _cleanup_free_ char *good = sign(SFU_ALG_ES256, SFU_JWS_FLATTENED);
                char *dup = xasprintf("{\"payload\":\"AAAA\",%s", good + 1);
                refused("duplicate \"payload\" in JWS JSON", dup, K.ring, NULL, SFU_ERR_PARSE, "duplicate");
                free(dup);
        }

        /* Form errors. */
        {
                _cleanup_free_ char *flat = sign(SFU_ALG_ES256, SFU_JWS_FLATTENED),
                                    *general = sign(SFU_ALG_ES256, SFU_JWS_GENERAL);
                char *mixed = xasprintf("{\"signatures\":[],%s", flat + 1);
                refused("flattened and general members mixed", mixed, K.ring, NULL, SFU_ERR_PARSE, "mixes");
                free(mixed);
                mixed = xasprintf("{\"signature\":\"AAAA\",%s", general + 1);
                refused("general plus a flattened \"signature\"", mixed, K.ring, NULL, SFU_ERR_PARSE,
                        "mixes");
                free(mixed);
                refused("no payload", "{\"protected\":\"eyJhbGciOiJFUzI1NiJ9\",\"signature\":\"AAAA\"}",
                        K.ring, NULL, SFU_ERR_PARSE, "detached payloads are not supported");
                refused("empty payload (JSON)",
                        "{\"payload\":\"\",\"protected\":\"eyJhbGciOiJFUzI1NiJ9\",\"signature\":\"AAAA\"}",
                        K.ring, NULL, SFU_ERR_PARSE, "payload is empty");
                refused("payload not a string",
                        "{\"payload\":5,\"protected\":\"eyJhbGciOiJFUzI1NiJ9\",\"signature\":\"AAAA\"}",
                        K.ring, NULL, SFU_ERR_PARSE, "\"payload\" is not a string");
                refused("no signature", "{\"payload\":\"AAAA\"}", K.ring, NULL, SFU_ERR_PARSE,
                        "neither \"signature\" nor \"signatures\"");
                refused("flattened without signature",
                        "{\"payload\":\"AAAA\",\"protected\":\"eyJhbGciOiJFUzI1NiJ9\"}", K.ring, NULL,
                        SFU_ERR_PARSE, "has no \"signature\"");
                refused("empty signatures", "{\"payload\":\"AAAA\",\"signatures\":[]}", K.ring, NULL,
                        SFU_ERR_PARSE, "\"signatures\" is empty");
                refused("signatures not an array", "{\"payload\":\"AAAA\",\"signatures\":{}}", K.ring, NULL,
                        SFU_ERR_PARSE, "is not an array");
                refused("signature entry not an object", "{\"payload\":\"AAAA\",\"signatures\":[1]}", K.ring,
                        NULL, SFU_ERR_PARSE, "signature 1 is not a JSON object");
                refused("signature entry without headers",
                        "{\"payload\":\"AAAA\",\"signatures\":[{\"signature\":\"AAAA\"}]}", K.ring, NULL,
                        SFU_ERR_PARSE, "neither \"protected\" nor \"header\"");
                refused("empty protected member",
                        "{\"payload\":\"AAAA\",\"protected\":\"\",\"signature\":\"AAAA\"}", K.ring, NULL,
                        SFU_ERR_PARSE, "\"protected\" is empty");
                refused("JWS JSON not an object", "[\"a\"]", K.ring, NULL, SFU_ERR_PARSE,
                        "must be a JSON object");
        }
        {
                /* 17 signatures. */
                char *big = strdup("{\"payload\":\"AAAA\",\"signatures\":[");
                for (int i = 0; i < SFU_JWS_MAX_SIGNATURES + 1; i++) {
                        char *next = xasprintf(
                                "%s%s{\"protected\":\"eyJhbGciOiJFUzI1NiJ9\",\"signature\":\"AAAA\"}", big,
                                i ? "," : "");
                        free(big);
                        big = next;
                }
                char *closed = xasprintf("%s]}", big);
                refused("17 signatures", closed, K.ring, NULL, SFU_ERR_SIZE, "more than the limit of 16");
                free(big);
                free(closed);
        }
        (void) err;
}

static void test_compact_syntax(void) {
        _cleanup_free_ char *good = sign(SFU_ALG_ES256, SFU_JWS_COMPACT), *h = NULL, *p = NULL, *s = NULL;
        char *jws;

        split3(good, &h, &p, &s);
        {
                char *with_nl = xasprintf("\n  %s\r\n", good);
                accepted("white space around a compact JWS", with_nl, K.ring, NULL, 1);
                free(with_nl);
        }
        /* Base64url: padding, '+', '/', white space inside. */
        {
                /* A payload whose length is not a multiple of 3 needs
                 * padding in standard base64. */
                _cleanup_free_ char *hd = NULL, *pd = NULL, *sig = NULL, *sd = NULL;
                const char *odd_payload = "{\"a\":1}"; /* 7 bytes */
                char *f = forge("{\"alg\":\"ES256\"}", odd_payload, K.p256->pkey, "SHA256", FORGE_ECDSA_RAW,
                                32);
                split3(f, &hd, &pd, &sd);
                free(f);
                parse_refused("payload with padding", xasprintf("%s.%s=.%s", hd, pd, sd),
                              "payload is not valid base64url: padding");
                parse_refused("header with padding", xasprintf("%s==.%s.%s", hd, pd, sd),
                              "protected header is not valid base64url: padding");
                sig = strdup(sd);
                for (char *c = sig; *c; c++)
                        if (*c == '-')
                                *c = '+';
                        else if (*c == '_')
                                *c = '/';
                if (strcmp(sig, sd) != 0) {
                        jws = xasprintf("%s.%s.%s", hd, pd, sig);
                        refused("signature in standard base64 ('+' or '/')", jws, K.ring, NULL,
                                SFU_ERR_PARSE, "'+' and '/' are standard base64");
                        free(jws);
                }
        }
        parse_refused("a '+' in the payload", xasprintf("%s.%s+.%s", h, p, s),
                      "'+' and '/' are standard base64");
        parse_refused("a '/' in the payload", xasprintf("%s./%s.%s", h, p, s),
                      "'+' and '/' are standard base64");
        parse_refused("a space inside the signature", xasprintf("%s.%s.%.20s %s", h, p, s, s + 20),
                      "white space is not allowed");
        parse_refused("a '*' in the signature", xasprintf("%s.%s.%s*", h, p, s),
                      "outside the base64url alphabet");
        {
                /* Non-canonical trailing bits in the signature. */
                _cleanup_free_ char *nc = strdup(s);
                size_t n = strlen(nc);
                /* 64 bytes: 86 chars, the last carries 2 data bits + 4 zero bits. */
                nc[n - 1] = nc[n - 1] == 'A' ? 'B' : (char) (nc[n - 1] + 1);
                if (n % 4 != 0) {
                        parse_refused("non-canonical last character", xasprintf("%s.%s.%s", h, p, nc),
                                      "non-zero unused bits");
                }
        }

        /* Segment counts. */
        parse_refused("2 segments", xasprintf("%s.%s", h, p), "3 segments separated by '.', this has 2");
        parse_refused("4 segments", xasprintf("%s.%s.%s.%s", h, p, s, s), "this has 4");
        parse_refused("5 segments (JWE)", xasprintf("%s.%s.%s.%s.%s", h, p, s, s, s),
                      "encrypted manifests are not supported");
        refused("1 segment", h, K.ring, NULL, SFU_ERR_PARSE, "this has 1");
        refused("empty input", "", K.ring, NULL, SFU_ERR_PARSE, "empty input");
        refused("only white space", " \n", K.ring, NULL, SFU_ERR_PARSE, "empty input");
        parse_refused("empty header segment", xasprintf(".%s.%s", p, s), "protected header is empty");
        parse_refused("empty payload segment (detached)", xasprintf("%s..%s", h, s), "payload is empty");
        refused("dots only", "..", K.ring, NULL, SFU_ERR_PARSE, "protected header is empty");

        /* 10 MB of garbage. */
        {
                size_t len = 10u * 1024 * 1024;
                char *garbage = malloc(len + 1);
                struct sfu_err err = SFU_ERR_INIT;
                struct sfu_jws *out = (struct sfu_jws *) 0x1;
                for (size_t i = 0; i < len; i++)
                        garbage[i] = (char) ('A' + (i * 7919) % 53);
                garbage[len] = 0;
                ok(sfu_jws_parse(garbage, len, &out, &err) == -E2BIG && out == (struct sfu_jws *) 0x1,
                   "10 MB of garbage refused");
                ok(err.code == SFU_ERR_SIZE && strstr(err.message, "exceeds the limit of 4194304 bytes"),
                   "10 MB of garbage: size error (%s)", err.message);
                /* Just under the limit, still garbage. */
                sfu_err_clear(&err);
                ok(sfu_jws_parse(garbage, SFU_JWS_MAX_SIZE, &out, &err) < 0 && err.code == SFU_ERR_PARSE,
                   "4 MiB of garbage is a parse error (%s)", err.message);
                garbage[0] = '{';
                sfu_err_clear(&err);
                ok(sfu_jws_parse(garbage, SFU_JWS_MAX_SIZE, &out, &err) < 0 && err.code == SFU_ERR_PARSE,
                   "4 MiB of garbage starting with '{' is a parse error (%s)", err.message);
                free(garbage);
        }
        /* A protected header over the limit. */
        {
                size_t n = SFU_JWS_MAX_HEADER + 100;
                char *big = malloc(n + 32);
                strcpy(big, "{\"alg\":\"ES256\",\"x\":\"");
                memset(big + strlen(big), 'a', n);
                strcpy(big + 20 + n, "\"}");
                jws = forge(big, payload_text, K.p256->pkey, "SHA256", FORGE_ECDSA_RAW, 32);
                refused("protected header over the limit", jws, K.ring, NULL, SFU_ERR_SIZE,
                        "protected header exceeds the limit");
                free(jws);
                free(big);
        }
        {
                struct sfu_keyring empty = {};
                refused("an empty trust store", good, &empty, NULL, SFU_ERR_SIGNATURE,
                        "the trust store holds no keys");
        }
}

static void test_multi(void) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_jws_sign_opts es = {.alg = SFU_ALG_ES256, .form = SFU_JWS_FLATTENED};
        struct sfu_jws_sign_opts ps = {.alg = SFU_ALG_PS256, .form = SFU_JWS_COMPACT};
        struct sfu_jws_verify_opts two = {.min_signatures = 2, .required_typ = SFU_JWS_TYP_MANIFEST};
        struct sfu_jws_verify_opts three = {.min_signatures = 3};
        _cleanup_free_ char *first = NULL, *same_twice = NULL, *two_keys = NULL, *three_sigs = NULL;
        _cleanup_jws_ struct sfu_jws *j1 = NULL, *j2 = NULL, *j3 = NULL;
        int r;

        r = sfu_jws_sign((const uint8_t *) payload_text, strlen(payload_text), K.p256, &es, &first, &err);
        ok(r == 0, "sign flattened ES256");
        ok(sfu_jws_parse(first, strlen(first), &j1, &err) == 0, "parse it");
        if (!j1)
                return;
        r = sfu_jws_add_signature(j1, K.p256, &es, &same_twice, &err);
        ok(r == 0, "add a second signature by the same key");
        refused("min_signatures=2, the same key signing twice", same_twice, K.ring, &two, SFU_ERR_SIGNATURE,
                "1 distinct trusted key(s) signed, 2 required");
        accepted("min_signatures=1, the same key signing twice", same_twice, K.ring, NULL, 1);

        r = sfu_jws_add_signature(j1, K.rsa, &ps, &two_keys, &err);
        ok(r == 0, "add a PS256 signature by the RSA key (%s)", err.message);
        accepted("min_signatures=2 with two keys", two_keys, K.ring, &two, 2);
        refused("min_signatures=3 with two keys", two_keys, K.ring, &three, SFU_ERR_SIGNATURE,
                "2 distinct trusted key(s) signed, 3 required");

        ok(sfu_jws_parse(two_keys, strlen(two_keys), &j2, &err) == 0 && j2->form == SFU_JWS_GENERAL &&
                   j2->n_signatures == 2,
           "add_signature gives the general serialization with 2 signatures");
        if (j2) {
                ok(strcmp(j2->payload_b64, j1->payload_b64) == 0,
                   "add_signature keeps the payload byte for byte");
                ok(strcmp(j2->signatures[0].protected_b64, j1->signatures[0].protected_b64) == 0 &&
                           j2->signatures[0].signature_len == j1->signatures[0].signature_len &&
                           memcmp(j2->signatures[0].signature, j1->signatures[0].signature,
                                  j1->signatures[0].signature_len) == 0,
                   "add_signature keeps the first signature");
                r = sfu_jws_add_signature(j2, K.ed, &(struct sfu_jws_sign_opts){.alg = SFU_ALG_EDDSA},
                                          &three_sigs, &err);
                ok(r == 0, "add a third signature (EdDSA)");
                accepted("three signatures by three keys, min 3", three_sigs, K.ring, &three, 3);
        }

        /* One good signature and one from a key not in the store: the
         * store's key counts, the other does not (key rotation). */
        {
                _cleanup_free_ char *mixed = NULL;
                struct sfu_jws_sign_opts o = {.alg = SFU_ALG_ES256};
                r = sfu_jws_add_signature(j1, K.p256_b, &o, &mixed, &err);
                ok(r == 0, "add a signature by an untrusted key");
                accepted("a trusted and an untrusted signature, min 1", mixed, K.ring, NULL, 1);
                refused("a trusted and an untrusted signature, min 2", mixed, K.ring, &two,
                        SFU_ERR_SIGNATURE, "signature 2: no trusted key with kid");
        }
        /* One good signature and one that breaks a rule: all fail. */
        {
                _cleanup_free_ char *h = b64s("{\"alg\":\"none\"}");
                char *bad;
                {
                        _cleanup_free_ char *sig_b64 =
                                b64(j1->signatures[0].signature, j1->signatures[0].signature_len);
                        bad = xasprintf("{\"payload\":\"%s\",\"signatures\":[{\"protected\":\"%s\","
                                        "\"signature\":\"%s\"},{\"protected\":\"%s\",\"signature\":\"\"}]}",
                                        j1->payload_b64, j1->signatures[0].protected_b64, sig_b64, h);
                }
                refused("a good signature plus alg none", bad, K.ring, NULL, SFU_ERR_SIGNATURE,
                        "signature 2: alg \"none\" is not allowed");
                free(bad);
                {
                        _cleanup_free_ char *sig_b64 =
                                b64(j1->signatures[0].signature, j1->signatures[0].signature_len);
                        _cleanup_free_ char *ch = NULL, *input = NULL, *s2 = NULL;
                        _cleanup_free_ uint8_t *raw = NULL;
                        size_t len = 0;
                        ch = b64s("{\"alg\":\"EdDSA\",\"crit\":[\"x-ext\"],\"x-ext\":1}");
                        input = xasprintf("%s.%s", ch, j1->payload_b64);
                        raw = forge_sig(input, K.ed->pkey, NULL, FORGE_PLAIN, 0, &len);
                        s2 = b64(raw, len);
                        bad = xasprintf(
                                "{\"payload\":\"%s\",\"signatures\":[{\"protected\":\"%s\",\"signature\":\"%"
                                "s\"},{\"protected\":\"%s\",\"signature\":\"%s\"}]}",
                                j1->payload_b64, j1->signatures[0].protected_b64, sig_b64, ch, s2);
                        refused("a good signature plus one with unknown crit", bad, K.ring, NULL,
                                SFU_ERR_SIGNATURE, "signature 2: header parameter \"crit\" names \"x-ext\"");
                        free(bad);
                }
        }
        /* A forged signature with a trusted kid counts for nothing: the
         * good one carries the manifest alone, but not two required. */
        {
                _cleanup_free_ char *sig_b64 =
                        b64(j1->signatures[0].signature, j1->signatures[0].signature_len);
                _cleanup_free_ char *rh = NULL, *input = NULL, *s2 = NULL,
                                    *hdr = header_with_kid("RS256", K.rsa, "");
                _cleanup_free_ uint8_t *raw = NULL;
                size_t len = 0;
                char *bad;
                rh = b64s(hdr);
                input = xasprintf("%s.%s", rh, j1->payload_b64);
                raw = forge_sig(input, K.rsa_b->pkey, "SHA256", FORGE_PLAIN, 0, &len);
                s2 = b64(raw, len);
                bad = xasprintf("{\"payload\":\"%s\",\"signatures\":[{\"protected\":\"%s\",\"signature\":\"%"
                                "s\"},{\"protected\":\"%s\",\"signature\":\"%s\"}]}",
                                j1->payload_b64, j1->signatures[0].protected_b64, sig_b64, rh, s2);
                accepted("a good signature plus a forged one with a trusted kid", bad, K.ring, NULL, 1);
                refused("a good signature plus a forged one with a trusted kid, two required", bad, K.ring,
                        &(struct sfu_jws_verify_opts){.min_signatures = 2}, SFU_ERR_SIGNATURE,
                        "1 distinct trusted key(s) signed, 2 required (2 signature(s)); signature 2: RS256 "
                        "signature does not verify");
                free(bad);
        }

        /* add_signature keeps unprotected headers and the RFC payload. */
        {
                _cleanup_free_ char *a6 = rfc_file("rfc7515-a6.json"), *out = NULL;
                _cleanup_json_ json_t *root = NULL;
                ok(sfu_jws_parse(a6, strlen(a6), &j3, &err) == 0, "parse RFC 7515 A.6");
                ok(j3 && sfu_jws_add_signature(j3, K.ed, &(struct sfu_jws_sign_opts){.alg = SFU_ALG_EDDSA},
                                               &out, &err) == 0,
                   "add a signature to RFC 7515 A.6");
                ok(out && sfu_json_parse_object(out, strlen(out), SFU_JWS_MAX_SIZE, &root, &err) == 0,
                   "the result is JSON");
                ok(root && json_array_size(json_object_get(root, "signatures")) == 3 &&
                           sfu_streq(json_string_value(json_object_get(
                                             json_object_get(
                                                     json_array_get(json_object_get(root, "signatures"), 0),
                                                     "header"),
                                             "kid")),
                                     "2010-12-29") &&
                           sfu_streq(json_string_value(json_object_get(root, "payload")), j3->payload_b64),
                   "unprotected headers and the payload are kept");
                accepted("RFC 7515 A.6 plus our signature verifies with our key", out, K.ring, NULL, 1);
        }

        /* Signing refusals. */
        {
                char *out = (char *) 0x1;
                struct sfu_jws_sign_opts o = {.alg = SFU_ALG_ES256};
                sfu_err_clear(&err);
                ok(sfu_jws_sign((const uint8_t *) "x", 1, K.ring->keys[1], &o, &out, &err) < 0 &&
                           out == (char *) 0x1 && strstr(err.message, "public key"),
                   "signing with a public key is refused (%s)", err.message);
                sfu_err_clear(&err);
                o.alg = SFU_ALG_ES384;
                ok(sfu_jws_sign((const uint8_t *) "x", 1, K.p256, &o, &out, &err) < 0 &&
                           out == (char *) 0x1 &&
                           strstr(err.message, "alg ES384 does not fit the P-256 key"),
                   "signing with an alg that does not fit the key is refused (%s)", err.message);
                sfu_err_clear(&err);
                o.alg = SFU_ALG_ES256;
                ok(sfu_jws_sign((const uint8_t *) "", 0, K.p256, &o, &out, &err) < 0 &&
                           out == (char *) 0x1 && strstr(err.message, "empty payload"),
                   "signing an empty payload is refused (%s)", err.message);
                {
                        size_t big_len = SFU_JWS_MAX_SIZE / 4 * 3;
                        uint8_t *big = calloc(1, big_len);
                        sfu_err_clear(&err);
                        ok(big && sfu_jws_sign(big, big_len, K.p256, &o, &out, &err) < 0 &&
                                   out == (char *) 0x1 && err.code == SFU_ERR_SIZE &&
                                   strstr(err.message, "too large to sign"),
                           "signing a payload whose JWS would exceed the size limit is refused (%s)",
                           err.message);
                        free(big);
                }
                {
                        /* The largest payload we sign gives a JWS we parse. */
                        size_t big_len = (SFU_JWS_MAX_SIZE - 256u * 1024u) / 4 * 3;
                        uint8_t *big = malloc(big_len);
                        char *text = NULL;
                        _cleanup_jws_ struct sfu_jws *j = NULL;
                        memset(big, 'x', big_len);
                        o.form = SFU_JWS_GENERAL;
                        ok(sfu_jws_sign(big, big_len, K.p256, &o, &text, &err) == 0 &&
                                   sfu_jws_parse(text, strlen(text), &j, &err) == 0 &&
                                   j->payload_len == big_len &&
                                   sfu_jws_verify(j, K.ring, NULL, NULL, &err) == 0,
                           "the largest payload signs, parses and verifies (%s)", err.message);
                        free(text);
                        free(big);
                }
        }
        /* Sign options: kid and typ. */
        {
                _cleanup_free_ char *out = NULL;
                _cleanup_jws_ struct sfu_jws *j = NULL;
                struct sfu_jws_sign_opts o = {.alg = SFU_ALG_EDDSA, .kid = "factory-2026", .typ = "JOSE"};
                ok(sfu_jws_sign((const uint8_t *) "x", 1, K.ed, &o, &out, &err) == 0 &&
                           sfu_jws_parse(out, strlen(out), &j, &err) == 0 &&
                           sfu_streq(json_string_value(
                                             json_object_get(j->signatures[0].protected_header, "kid")),
                                     "factory-2026") &&
                           sfu_streq(json_string_value(
                                             json_object_get(j->signatures[0].protected_header, "typ")),
                                     "JOSE"),
                   "sign writes the given kid and typ");
                refused("a kid that is not in the store", out, K.ring, NULL, SFU_ERR_SIGNATURE,
                        "no trusted key with kid \"factory-2026\"");
        }
}


/* Item: a device that moved to a new algorithm still takes a manifest
 * signed with the old and the new one; each signature counts only for
 * what the allow-list, the trust store and the key's own "alg" permit. */
static void note_count(void *userdata, const char *why) {
        (*(unsigned *) userdata)++;
        ok(strncmp(why, "signature ", 10) == 0 && !strchr(why, '\n'), "note: \"%s\"", why);
}

static char *two_signatures(const struct sfu_key *a, enum sfu_alg alg_a, const struct sfu_key *b, enum sfu_alg alg_b) {
        struct sfu_err err = SFU_ERR_INIT;
        _cleanup_jws_ struct sfu_jws *jws = NULL;
        _cleanup_free_ char *one = NULL;
        char *two = NULL;
        static const char payload[] = "{\"x\":1}";

        if (sfu_jws_sign((const uint8_t *) payload, sizeof(payload) - 1, a,
                         &(struct sfu_jws_sign_opts){ .alg = alg_a, .form = SFU_JWS_GENERAL }, &one, &err) < 0 ||
            sfu_jws_parse(one, strlen(one), &jws, &err) < 0 ||
            sfu_jws_add_signature(jws, b, &(struct sfu_jws_sign_opts){ .alg = alg_b }, &two, &err) < 0) {
                printf("Bail out! %s\n", err.message);
                exit(1);
        }
        return two;
}

static void set_protected(json_t *sig, const char *header) {
        _cleanup_free_ char *b = b64s(header);
        json_object_set_new(sig, "protected", json_string(b));
}

static void test_migration(void) {
        _cleanup_free_ char *both = two_signatures(K.p256, SFU_ALG_ES256, K.ed, SFU_ALG_EDDSA);
        unsigned notes = 0;

        accepted("ES256 + EdDSA, both allowed", both, K.ring, NULL, 2);
        accepted("ES256 + EdDSA, algorithms = EdDSA", both, K.ring,
                 &(struct sfu_jws_verify_opts){ .alg_allow = SFU_ALG_MASK(SFU_ALG_EDDSA) }, 1);
        accepted("ES256 + EdDSA, algorithms = ES256", both, K.ring,
                 &(struct sfu_jws_verify_opts){ .alg_allow = SFU_ALG_MASK(SFU_ALG_ES256) }, 1);
        refused("ES256 + EdDSA, algorithms = EdDSA, two required", both, K.ring,
                &(struct sfu_jws_verify_opts){ .alg_allow = SFU_ALG_MASK(SFU_ALG_EDDSA), .min_signatures = 2 },
                SFU_ERR_SIGNATURE, "signature 1: alg \"ES256\" is not in the allowed list");
        refused("ES256 + EdDSA, algorithms = PS256", both, K.ring,
                &(struct sfu_jws_verify_opts){ .alg_allow = SFU_ALG_MASK(SFU_ALG_PS256) }, SFU_ERR_POLICY,
                "signature 1: alg \"ES256\" is not in the allowed list");
        {
                struct sfu_jws_verify_opts o = { .alg_allow = SFU_ALG_MASK(SFU_ALG_EDDSA), .note = note_count,
                                                 .userdata = &notes };
                accepted("ES256 + EdDSA, algorithms = EdDSA, with notes", both, K.ring, &o, 1);
                ok(notes == 1, "one note for the signature that did not count (%u)", notes);
        }

        /* The same key twice counts once. */
        {
                _cleanup_free_ char *twice = two_signatures(K.ed, SFU_ALG_EDDSA, K.ed, SFU_ALG_EDDSA);
                accepted("EdDSA twice by one key", twice, K.ring, NULL, 1);
                refused("EdDSA twice by one key, two required", twice, K.ring,
                        &(struct sfu_jws_verify_opts){ .min_signatures = 2 }, SFU_ERR_SIGNATURE,
                        "1 distinct trusted key(s) signed, 2 required");
        }

        /* An unknown algorithm or an unknown kid beside a good signature. */
        {
                _cleanup_json_ json_t *root = NULL;
                struct sfu_err err = SFU_ERR_INIT;
                json_t *sig;
                ok(sfu_json_parse_object(both, strlen(both), SFU_JWS_MAX_SIZE, &root, &err) == 0, "parse");
                sig = json_array_get(json_object_get(root, "signatures"), 0);
                set_protected(sig, "{\"alg\":\"ML-DSA-65\",\"typ\":\"x\"}");
                _cleanup_free_ char *unknown = json_dumps(root, JSON_COMPACT);
                accepted("an unknown algorithm beside EdDSA", unknown, K.ring, NULL, 1);
                set_protected(sig, "{\"alg\":\"ES256\",\"kid\":\"nobody\"}");
                _cleanup_free_ char *nokid = json_dumps(root, JSON_COMPACT);
                accepted("an unknown kid beside EdDSA", nokid, K.ring, NULL, 1);
                set_protected(sig, "{\"alg\":\"none\"}");
                _cleanup_free_ char *none = json_dumps(root, JSON_COMPACT);
                refused("alg none beside EdDSA", none, K.ring, NULL, SFU_ERR_SIGNATURE,
                        "signature 1: alg \"none\" is not allowed");
                set_protected(sig, "{\"alg\":\"HS256\"}");
                _cleanup_free_ char *hmac = json_dumps(root, JSON_COMPACT);
                refused("HS256 beside EdDSA", hmac, K.ring, NULL, SFU_ERR_SIGNATURE, "(HMAC) is not allowed");
                set_protected(sig, "{\"alg\":\"ES256\",\"crit\":[\"x\"],\"x\":1}");
                _cleanup_free_ char *crit = json_dumps(root, JSON_COMPACT);
                refused("unknown crit beside EdDSA", crit, K.ring, NULL, SFU_ERR_SIGNATURE,
                        "header parameter \"crit\" names \"x\"");
        }
}

/* A trusted JWK's "alg" restricts the key to that algorithm (RFC 7517
 * 4.4): RS256 only, not PS256, with the same RSA key. */
static void test_key_alg(void) {
        _cleanup_keyring_ struct sfu_keyring *ring = NULL;
        _cleanup_json_ json_t *jwk = NULL;
        struct sfu_key *restricted = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        _cleanup_free_ char *rs = NULL, *ps = NULL;
        static const char payload[] = "{\"x\":1}";

        ok(sfu_key_to_jwk(K.rsa, &jwk) == 0 && json_object_set_new(jwk, "alg", json_string("RS256")) == 0,
           "a public JWK with \"alg\": \"RS256\"");
        ok(sfu_key_from_jwk(jwk, "restricted", false, &restricted, &err) == 0 && restricted->has_alg &&
                   restricted->alg == SFU_ALG_RS256,
           "the key remembers its alg (%s)", err.message);
        ok(sfu_keyring_new(&ring) == 0 && sfu_keyring_add(ring, restricted, &err) == 0, "a ring of that key");
        ok(sfu_jws_sign((const uint8_t *) payload, sizeof(payload) - 1, K.rsa,
                        &(struct sfu_jws_sign_opts){ .alg = SFU_ALG_RS256 }, &rs, &err) == 0 &&
                   sfu_jws_sign((const uint8_t *) payload, sizeof(payload) - 1, K.rsa,
                                &(struct sfu_jws_sign_opts){ .alg = SFU_ALG_PS256 }, &ps, &err) == 0,
           "RS256 and PS256 signatures by the RSA key");
        accepted("RS256 by an RS256-only key", rs, ring, NULL, 1);
        refused("PS256 by an RS256-only key", ps, ring, NULL, SFU_ERR_SIGNATURE,
                "is restricted to RS256 by its \"alg\"; the signature is PS256");
        accepted("PS256 by the same key without \"alg\"", ps, K.ring, NULL, 1);
        {
                _cleanup_json_ json_t *back = NULL;
                ok(sfu_key_to_jwk(restricted, &back) == 0 &&
                           sfu_streq(json_string_value(json_object_get(back, "alg")), "RS256"),
                   "the exported JWK keeps \"alg\"");
        }
}

int main(void) {
        keys_setup();
        test_alg_names();
        test_fits();
        test_round_trips();
        test_rfc_examples();
        test_tampering();
        test_forged();
        test_json_forms();
        test_compact_syntax();
        test_multi();
        test_migration();
        test_key_alg();
        keys_free();
        return tap_done();
}
