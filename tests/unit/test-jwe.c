/* SPDX-License-Identifier: MIT */
/* JWE: the key-agreement steps against published vectors (RFC 7518
 * appendix C, RFC 3394 4.6), round trips for every key type in every
 * serialization, several recipients and the order they are tried in, each
 * refusal of the profile with its reason, and every tamper class giving
 * the one "cannot decrypt" message.  JWEs for the refusals are made by
 * editing valid ones as JSON here. */
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "core/b64url.h"
#include "core/json.h"
#include "core/jwe.h"
#include "core/jwe-internal.h"
#include "tap.h"

#define NO_FIT "cannot decrypt with this device's key(s)"

static const char plaintext[] = "eyJhbGciOiJFUzI1NiJ9.eyJtYW5pZmVzdFZlcnNpb24iOiIxLjAifQ.c2lnbmF0dXJl";

/* ---------------------------------------------------------------- helpers */

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

/* A fresh private ENC key, through PEM and the key loader. */
static struct sfu_key *gen_key(const char *type, const char *curve, const char *kid) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_key *key = NULL;
        EVP_PKEY *pkey;
        BIO *bio = BIO_new(BIO_s_mem());
        char *data = NULL;
        long len;

        if (strcmp(type, "RSA") == 0)
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
        else if (curve)
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
        else
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, type);
        if (!pkey || !bio || PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1)
                abort();
        len = BIO_get_mem_data(bio, &data);
        if (sfu_key_from_buffer_for(data, (size_t) len, "generated", SFU_KEY_USE_ENC, true, &key, &err) < 0) {
                printf("Bail out! cannot load a generated %s key: %s\n", type, err.message);
                exit(1);
        }
        BIO_free(bio);
        EVP_PKEY_free(pkey);
        if (kid) {
                free(key->kid);
                key->kid = strdup(kid);
        }
        return key;
}

/* The public half of key, loaded as an ENC key. */
static struct sfu_key *public_of(const struct sfu_key *key) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_key *pub = NULL;
        char *pem = NULL;

        if (sfu_key_to_pem(key, false, &pem) < 0 ||
            sfu_key_from_buffer_for(pem, strlen(pem), "public", SFU_KEY_USE_ENC, false, &pub, &err) < 0)
                abort();
        free(pem);
        free(pub->kid);
        pub->kid = strdup(key->kid);
        return pub;
}

static struct sfu_keyring *ring_of(struct sfu_key *const *keys, size_t n) {
        struct sfu_keyring *ring = NULL;
        if (sfu_keyring_new(&ring) < 0)
                abort();
        /* borrowed: the ring is freed with free(), not sfu_keyring_free */
        for (size_t i = 0; i < n; i++)
                ring->keys[ring->n_keys++] = keys[i];
        return ring;
}

static char *encrypt_for(struct sfu_key *const *recipients, size_t n, enum sfu_jwe_encrypt_form form,
                         const char *cty) {
        const struct sfu_key *pubs[SFU_JWE_MAX_RECIPIENTS];
        struct sfu_jwe_encrypt_opts opts = { .form = form, .cty = cty };
        struct sfu_err err = SFU_ERR_INIT;
        char *out = NULL;

        for (size_t i = 0; i < n; i++)
                pubs[i] = public_of(recipients[i]);
        if (sfu_jwe_encrypt((const uint8_t *) plaintext, strlen(plaintext), pubs, n, &opts, &out, &err) < 0) {
                printf("Bail out! encryption failed: %s\n", err.message);
                exit(1);
        }
        for (size_t i = 0; i < n; i++)
                sfu_key_free((struct sfu_key *) pubs[i]);
        return out;
}

/* Parses and decrypts text with ring: 0 and the recipient index, or the
 * error. */
static int open_with(const char *text, const struct sfu_keyring *ring, size_t *ret_recipient, struct sfu_err *err) {
        struct sfu_jwe *jwe = NULL;
        struct sfu_jwe_result res = {};
        int r;

        r = sfu_jwe_parse(text, strlen(text), &jwe, err);
        if (r < 0)
                return r;
        r = sfu_jwe_decrypt(jwe, ring, &res, err);
        if (r == 0) {
                if (res.plaintext_len != strlen(plaintext) || memcmp(res.plaintext, plaintext, res.plaintext_len) != 0)
                        r = -EBADMSG;
                if (ret_recipient)
                        *ret_recipient = res.recipient;
        }
        sfu_jwe_result_clear(&res);
        sfu_jwe_free(jwe);
        return r;
}

static bool one_line(const char *s) {
        return s[0] && !strchr(s, '\n');
}

/* text is refused by the parser with code and a reason holding want. */
static void refused(const char *name, const char *text, enum sfu_err_code code, const char *want) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_jwe *jwe = NULL;
        int r = sfu_jwe_parse(text, strlen(text), &jwe, &err);

        ok(r < 0 && !jwe && err.code == code && strstr(err.message, want) && one_line(err.message),
           "%s: refused (%s: \"%s\", want %s \"%s\")", name, sfu_err_code_name(err.code), err.message,
           sfu_err_code_name(code), want);
        sfu_jwe_free(jwe);
}

/* text parses, and decrypting it with ring fails with the one message. */
static void undecryptable(const char *name, const char *text, const struct sfu_keyring *ring) {
        struct sfu_err err = SFU_ERR_INIT;
        int r = open_with(text, ring, NULL, &err);

        ok(r < 0 && err.code == SFU_ERR_SIGNATURE && strcmp(err.message, NO_FIT) == 0,
           "%s: cannot decrypt, and says only that (\"%s\")", name, err.message);
}

/* ---------------------------------------------------------------- editing JWEs */

static json_t *load_json(const char *text) {
        json_t *j = json_loads(text, 0, NULL);
        if (!j)
                abort();
        return j;
}

static char *dump(json_t *j) {
        char *s = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        if (!s)
                abort();
        return s;
}

static json_t *decode_protected(json_t *jwe) {
        uint8_t *raw = NULL;
        size_t len = 0;
        const char *b64 = json_string_value(json_object_get(jwe, "protected"));
        json_t *h;

        if (sfu_b64url_decode(b64, strlen(b64), &raw, &len) < 0)
                abort();
        h = json_loadb((const char *) raw, len, 0, NULL);
        free(raw);
        if (!h)
                abort();
        return h;
}

static void set_protected(json_t *jwe, json_t *header) {
        char *text = json_dumps(header, JSON_COMPACT);
        char *b64 = sfu_b64url_encode((const uint8_t *) text, strlen(text));
        json_object_set_new(jwe, "protected", json_string(b64));
        free(text);
        free(b64);
        json_decref(header);
}

/* The per-recipient header of a general JWE's recipient i. */
static json_t *rcpt_header(json_t *jwe, size_t i) {
        return json_object_get(json_array_get(json_object_get(jwe, "recipients"), i), "header");
}

/* A copy of general with the per-recipient header member name of
 * recipient 0 set to value (NULL: removed). */
static char *with_rcpt(const char *general, const char *name, json_t *value) {
        json_t *j = load_json(general);
        if (value)
                json_object_set_new(rcpt_header(j, 0), name, value);
        else
                json_object_del(rcpt_header(j, 0), name);
        return dump(j);
}

static char *with_protected(const char *general, const char *name, json_t *value) {
        json_t *j = load_json(general), *h = decode_protected(j);
        if (value)
                json_object_set_new(h, name, value);
        else
                json_object_del(h, name);
        set_protected(j, h);
        return dump(j);
}

static char *with_member(const char *general, const char *name, json_t *value) {
        json_t *j = load_json(general);
        if (value)
                json_object_set_new(j, name, value);
        else
                json_object_del(j, name);
        return dump(j);
}

/* Flips one bit of the base64url member name (decoded byte index). */
static char *with_flipped(const char *general, const char *name, size_t index) {
        json_t *j = load_json(general);
        const char *b64 = json_string_value(json_object_get(j, name));
        uint8_t *raw = NULL;
        size_t len = 0;
        char *again;

        if (sfu_b64url_decode(b64, strlen(b64), &raw, &len) < 0 || index >= len)
                abort();
        raw[index] ^= 0x01;
        again = sfu_b64url_encode(raw, len);
        json_object_set_new(j, name, json_string(again));
        free(raw);
        free(again);
        return dump(j);
}

static json_t *b64_json(const void *data, size_t len) {
        char *s = sfu_b64url_encode(data, len);
        json_t *j = json_string(s);
        free(s);
        return j;
}

/* A flattened JWE for the RSA key made with OpenSSL alone: a known CEK
 * wrapped with RSA-OAEP-256, A256GCM over plaintext with the AAD of RFC
 * 7516 5.1 step 14.  protected_b64 NULL: alg and enc go to the shared
 * unprotected header and the AAD is empty. */
static char *handmade(const struct sfu_key *rsa, const char *protected_b64, const char *aad_b64) {
        static const uint8_t cek[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                         17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
        static const uint8_t iv[12] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2 };
        EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, rsa->pkey, NULL);
        EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
        uint8_t ek[512], ct[sizeof(plaintext)], tag[16];
        size_t ek_len = sizeof(ek);
        int n = 0, fin = 0;
        char *aad = xasprintf("%s%s%s", protected_b64 ? protected_b64 : "", aad_b64 ? "." : "", aad_b64 ? aad_b64 : "");
        json_t *j;

        if (!pctx || !c || EVP_PKEY_encrypt_init(pctx) != 1 ||
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_oaep_md_name(pctx, "SHA256", NULL) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA256", NULL) != 1 ||
            EVP_PKEY_encrypt(pctx, ek, &ek_len, cek, sizeof(cek)) != 1)
                abort();
        if (EVP_EncryptInit_ex2(c, EVP_aes_256_gcm(), cek, iv, NULL) != 1 ||
            EVP_EncryptUpdate(c, NULL, &n, (const uint8_t *) aad, (int) strlen(aad)) != 1 ||
            EVP_EncryptUpdate(c, ct, &n, (const uint8_t *) plaintext, (int) strlen(plaintext)) != 1 ||
            EVP_EncryptFinal_ex(c, ct + n, &fin) != 1 || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
                abort();
        j = json_object();
        if (protected_b64)
                json_object_set_new(j, "protected", json_string(protected_b64));
        else
                json_object_set_new(j, "unprotected", json_pack("{s:s,s:s}", "alg", "RSA-OAEP-256", "enc", "A256GCM"));
        if (aad_b64)
                json_object_set_new(j, "aad", json_string(aad_b64));
        json_object_set_new(j, "encrypted_key", b64_json(ek, ek_len));
        json_object_set_new(j, "iv", b64_json(iv, sizeof(iv)));
        json_object_set_new(j, "ciphertext", b64_json(ct, strlen(plaintext)));
        json_object_set_new(j, "tag", b64_json(tag, sizeof(tag)));
        EVP_PKEY_CTX_free(pctx);
        EVP_CIPHER_CTX_free(c);
        free(aad);
        return dump(j);
}

/* ---------------------------------------------------------------- vectors */

static void test_vectors(void) {
        /* RFC 7518 appendix C: Alice's ephemeral key, Bob's key, Z and the
         * Concat KDF output for A128GCM with apu "Alice" and apv "Bob". */
        static const char bob[] = "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ\","
                                  "\"y\":\"e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck\","
                                  "\"d\":\"VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw\"}";
        static const char alice_epk[] = "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0\","
                                        "\"y\":\"SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps\"}";
        static const uint8_t z_want[32] = { 158, 86,  217, 29,  129, 113, 53,  211, 114, 131, 66,
                                            131, 191, 132, 38,  156, 251, 49,  110, 163, 218, 128,
                                            106, 72,  246, 218, 167, 121, 140, 254, 144, 196 };
        static const uint8_t kdf_want[16] = { 86, 170, 141, 234, 248, 35, 109, 32, 92, 34, 40, 205, 113, 167, 16, 26 };
        /* RFC 3394 4.6: 256 bits of key data wrapped with a 256-bit KEK. */
        static const uint8_t kw_data[32] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
                                             0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
                                             0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
        static const uint8_t kw_want[40] = { 0x28, 0xc9, 0xf4, 0x04, 0xc4, 0xb8, 0x10, 0xf4, 0xcb, 0xcc,
                                             0xb3, 0x5c, 0xfb, 0x87, 0xf8, 0x26, 0x3f, 0x57, 0x86, 0xe2,
                                             0xd8, 0x0e, 0xd3, 0x26, 0xcb, 0xc7, 0xf0, 0xe7, 0x1a, 0x99,
                                             0xf4, 0x3b, 0xfb, 0x98, 0x8b, 0x9b, 0x7a, 0x02, 0xdd, 0x21 };
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_key *b = NULL, *a = NULL;
        uint8_t z[SFU_JWE_ECDH_Z_MAX], out[32], kek[32], wrapped[40], back[32];
        size_t z_len = 0;

        ok(sfu_key_from_buffer_for(bob, strlen(bob), "bob", SFU_KEY_USE_ENC, true, &b, &err) == 0,
           "RFC 7518 C: Bob's key loads as a decryption key (%s)", err.message);
        ok(sfu_key_from_buffer_for(alice_epk, strlen(alice_epk), "alice", SFU_KEY_USE_ENC, false, &a, &err) == 0,
           "RFC 7518 C: Alice's ephemeral public key loads (%s)", err.message);
        ok(b && a && sfu_jwe_ecdh(b->pkey, a->pkey, z, &z_len) == 0 && z_len == 32 && memcmp(z, z_want, 32) == 0,
           "RFC 7518 C: ECDH gives the published Z");
        ok(sfu_jwe_concat_kdf(z_want, 32, "A128GCM", (const uint8_t *) "Alice", 5, (const uint8_t *) "Bob", 3, out,
                              16) == 0 &&
                   memcmp(out, kdf_want, 16) == 0,
           "RFC 7518 C: Concat KDF gives VqqN6vgjbSBcIijNcacQGg");
        ok(sfu_jwe_concat_kdf(z_want, 32, "A128GCM", NULL, 0, NULL, 0, out, 33) < 0, "Concat KDF: at most one round");
        sfu_key_free(a);
        sfu_key_free(b);

        for (size_t i = 0; i < 32; i++)
                kek[i] = (uint8_t) i;
        ok(sfu_jwe_aes_wrap(kek, kw_data, wrapped) == 0 && memcmp(wrapped, kw_want, 40) == 0,
           "RFC 3394 4.6: AES-256 key wrap");
        ok(sfu_jwe_aes_unwrap(kek, kw_want, 40, back) == 0 && memcmp(back, kw_data, 32) == 0,
           "RFC 3394 4.6: AES-256 key unwrap");
        memcpy(wrapped, kw_want, 40);
        wrapped[39] ^= 1;
        ok(sfu_jwe_aes_unwrap(kek, wrapped, 40, back) == -EBADMSG, "RFC 3394: a changed wrapped key fails the integrity check");
        kek[0] ^= 1;
        ok(sfu_jwe_aes_unwrap(kek, kw_want, 40, back) == -EBADMSG, "RFC 3394: another KEK fails the integrity check");
        ok(sfu_jwe_aes_unwrap(kek, kw_want, 32, back) == -EBADMSG, "RFC 3394: a short wrapped key fails");
}

/* ---------------------------------------------------------------- keys */

static void test_keys(void) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_key *key = NULL;
        static const char x25519_pub[] = "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"use\":\"enc\",\"x\":\"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08\"}";

        ok(sfu_key_load_file_for(tap_data("keys/x25519.pem"), SFU_KEY_USE_ENC, true, &key, &err) == 0 && key &&
                   key->type == SFU_KEY_X25519 && key->is_private && key->use == SFU_KEY_USE_ENC,
           "x25519.pem loads as a private decryption key (%s)", err.message);
        sfu_key_free(key);
        key = NULL;
        sfu_err_clear(&err);
        ok(sfu_key_load_file(tap_data("keys/x25519.pem"), true, &key, &err) < 0 &&
                   strstr(err.message, "X25519 keys are not supported for signatures"),
           "and is still refused as a signature key (%s)", err.message);
        sfu_err_clear(&err);
        ok(sfu_key_load_file_for(tap_data("keys/ed25519.pem"), SFU_KEY_USE_ENC, true, &key, &err) < 0 &&
                   strstr(err.message, "Ed25519 is a signature key"),
           "Ed25519 is refused as a decryption key (%s)", err.message);
        sfu_err_clear(&err);
        ok(sfu_key_load_file_for(tap_data("keys/ec-p256.pem"), SFU_KEY_USE_ENC, true, &key, &err) == 0 &&
                   key->type == SFU_KEY_EC_P256,
           "an EC P-256 PEM loads as a decryption key");
        sfu_key_free(key);
        key = NULL;
        ok(sfu_key_load_file_for(tap_data("keys/rsa2048.jwk"), SFU_KEY_USE_ENC, true, &key, &err) == 0 &&
                   key->type == SFU_KEY_RSA,
           "an RSA JWK loads as a decryption key (%s)", err.message);
        sfu_key_free(key);
        key = NULL;
        ok(sfu_key_from_buffer_for(x25519_pub, strlen(x25519_pub), "x", SFU_KEY_USE_ENC, false, &key, &err) == 0 &&
                   key->type == SFU_KEY_X25519 && !key->is_private && key->kid && strlen(key->kid) == 43,
           "an X25519 public JWK with use enc loads, with a thumbprint kid");
        sfu_key_free(key);
        key = NULL;

        struct {
                const char *name, *jwk, *want;
        } bad[] = {
                { "use sig", "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"use\":\"sig\",\"x\":\"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08\"}",
                  "not \"enc\"" },
                { "key_ops sign", "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"key_ops\":[\"sign\"],\"x\":\"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08\"}",
                  "no encryption or key-management operation" },
                { "Ed25519 OKP", "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
                  "signature curve" },
                { "X448", "{\"kty\":\"OKP\",\"crv\":\"X448\",\"x\":\"AA\"}", "not supported" },
                { "alg RSA-OAEP on EC", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"RSA-OAEP\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}",
                  "for ECDH-ES+A256KW only" },
                { "alg ES256 on EC", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ES256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}",
                  "for ECDH-ES+A256KW only" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                sfu_err_clear(&err);
                ok(sfu_key_from_buffer_for(bad[i].jwk, strlen(bad[i].jwk), bad[i].name, SFU_KEY_USE_ENC, false, &key,
                                           &err) < 0 &&
                           strstr(err.message, bad[i].want),
                   "decryption key %s refused (%s)", bad[i].name, err.message);
        }
        sfu_err_clear(&err);
        static const char ec_alg[] = "{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ECDH-ES+A256KW\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}";
        ok(sfu_key_from_buffer_for(ec_alg, strlen(ec_alg), "ec", SFU_KEY_USE_ENC, false, &key, &err) == 0,
           "an EC JWK with alg ECDH-ES+A256KW loads (%s)", err.message);
        sfu_key_free(key);
}

/* ---------------------------------------------------------------- round trips */

struct kind {
        const char *name, *type, *curve;
};
static const struct kind kinds[] = {
        { "P-256", "EC", "P-256" }, { "P-384", "EC", "P-384" }, { "P-521", "EC", "P-521" },
        { "X25519", "X25519", NULL }, { "RSA", "RSA", NULL },
};

static void test_round_trips(void) {
        static const enum sfu_jwe_encrypt_form forms[] = { SFU_JWE_ENCRYPT_COMPACT, SFU_JWE_ENCRYPT_FLATTENED,
                                                           SFU_JWE_ENCRYPT_GENERAL };
        static const enum sfu_jwe_form parsed[] = { SFU_JWE_COMPACT, SFU_JWE_FLATTENED, SFU_JWE_GENERAL };

        for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                struct sfu_key *key = gen_key(kinds[k].type, kinds[k].curve, NULL);
                struct sfu_keyring *ring = ring_of(&key, 1);

                for (size_t f = 0; f < ELEMENTSOF(forms); f++) {
                        struct sfu_err err = SFU_ERR_INIT;
                        struct sfu_jwe *jwe = NULL;
                        struct sfu_jwe_result res = {};
                        char *text = encrypt_for(&key, 1, forms[f], "jose");

                        ok(sfu_jwe_parse(text, strlen(text), &jwe, &err) == 0 && jwe->form == parsed[f] &&
                                   jwe->n_recipients == 1,
                           "%s %s: parses (%s)", kinds[k].name, sfu_jwe_form_name(parsed[f]), err.message);
                        ok(jwe && sfu_streq(jwe->cty, "jose") && sfu_jwe_cty_is(jwe->cty, "application/jose"),
                           "%s %s: cty \"jose\" exposed", kinds[k].name, sfu_jwe_form_name(parsed[f]));
                        ok(jwe && sfu_jwe_decrypt(jwe, ring, &res, &err) == 0 &&
                                   res.plaintext_len == strlen(plaintext) &&
                                   memcmp(res.plaintext, plaintext, res.plaintext_len) == 0 && res.key == key,
                           "%s %s: decrypts to the plaintext (%s)", kinds[k].name, sfu_jwe_form_name(parsed[f]),
                           err.message);
                        ok(jwe && sfu_streq(jwe->recipients[0].kid, key->kid), "%s %s: the recipient names the key's kid",
                           kinds[k].name, sfu_jwe_form_name(parsed[f]));
                        sfu_jwe_result_clear(&res);
                        ok(!res.plaintext && res.plaintext_len == 0, "result cleared");
                        sfu_jwe_free(jwe);
                        free(text);
                }
                free(ring);
                sfu_key_free(key);
        }

        /* An empty plaintext and one of the largest allowed size. */
        struct sfu_key *key = gen_key("X25519", NULL, NULL);
        struct sfu_keyring *ring = ring_of(&key, 1);
        const struct sfu_key *pub = public_of(key);
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_jwe *jwe = NULL;
        struct sfu_jwe_result res = {};
        uint8_t *big = calloc(1, SFU_JWE_MAX_PLAINTEXT + 1);
        char *text = NULL;

        ok(sfu_jwe_encrypt((const uint8_t *) "", 0, &pub, 1, NULL, &text, &err) == 0 &&
                   sfu_jwe_parse(text, strlen(text), &jwe, &err) == 0 && sfu_jwe_decrypt(jwe, ring, &res, &err) == 0 &&
                   res.plaintext_len == 0,
           "an empty plaintext round-trips (%s)", err.message);
        sfu_jwe_result_clear(&res);
        sfu_jwe_free(jwe);
        jwe = NULL;
        free(text);
        text = NULL;
        ok(big && sfu_jwe_encrypt(big, SFU_JWE_MAX_PLAINTEXT, &pub, 1, NULL, &text, &err) == 0 &&
                   sfu_jwe_parse(text, strlen(text), &jwe, &err) == 0 && sfu_jwe_decrypt(jwe, ring, &res, &err) == 0 &&
                   res.plaintext_len == SFU_JWE_MAX_PLAINTEXT,
           "a plaintext of SFU_JWE_MAX_PLAINTEXT bytes round-trips (%s)", err.message);
        sfu_jwe_result_clear(&res);
        sfu_jwe_free(jwe);
        free(text);
        text = NULL;
        sfu_err_clear(&err);
        ok(sfu_jwe_encrypt(big, SFU_JWE_MAX_PLAINTEXT + 1, &pub, 1, NULL, &text, &err) < 0 && err.code == SFU_ERR_SIZE,
           "one byte more is refused (%s)", err.message);
        free(big);
        sfu_key_free((struct sfu_key *) pub);
        free(ring);
        sfu_key_free(key);
}

/* ---------------------------------------------------------------- recipients */

static void test_recipients(void) {
        struct sfu_key *keys[ELEMENTSOF(kinds)];
        struct sfu_err err = SFU_ERR_INIT;
        char *text;

        for (size_t k = 0; k < ELEMENTSOF(kinds); k++)
                keys[k] = gen_key(kinds[k].type, kinds[k].curve, NULL);
        text = encrypt_for(keys, ELEMENTSOF(kinds), SFU_JWE_ENCRYPT_AUTO, NULL);
        ok(text[0] == '{', "several recipients give the general JSON serialization");
        for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                struct sfu_keyring *ring = ring_of(&keys[k], 1);
                size_t idx = 99;
                sfu_err_clear(&err);
                ok(open_with(text, ring, &idx, &err) == 0 && idx == k, "recipient %zu (%s) decrypts alone (%s)", k + 1,
                   kinds[k].name, err.message);
                free(ring);
        }

        /* A device with several keys: the one the JWE names first. */
        struct sfu_keyring *all = ring_of(keys, ELEMENTSOF(kinds));
        size_t idx = 99;
        ok(open_with(text, all, &idx, &err) == 0 && idx == 0, "a device with every key decrypts");
        free(all);

        /* A key whose kid another recipient names is tried for that
         * recipient first, even though an earlier one fits too. */
        struct sfu_key *a = gen_key("EC", "P-256", "device-a"), *b = gen_key("EC", "P-256", "device-b");
        struct sfu_key *pair[2] = { a, b };
        char *two = encrypt_for(pair, 2, SFU_JWE_ENCRYPT_GENERAL, NULL);
        struct sfu_keyring *ring_b = ring_of(&b, 1);
        idx = 99;
        ok(open_with(two, ring_b, &idx, &err) == 0 && idx == 1, "the kid match (recipient 2) decrypts");
        free(ring_b);

        /* Without kids, every recipient whose alg fits is tried. */
        const struct sfu_key *pubs[2] = { public_of(a), public_of(b) };
        struct sfu_jwe_encrypt_opts no_kid = { .form = SFU_JWE_ENCRYPT_GENERAL, .no_kid = true };
        char *anon = NULL;
        struct sfu_keyring *ring_a = ring_of(&b, 1);
        ok(sfu_jwe_encrypt((const uint8_t *) plaintext, strlen(plaintext), pubs, 2, &no_kid, &anon, &err) == 0 &&
                   !strstr(anon, "\"kid\""),
           "recipients without kid");
        idx = 99;
        ok(open_with(anon, ring_a, &idx, &err) == 0 && idx == 1, "without kids the fitting recipient is found by trying");
        free(ring_a);

        /* A kid that names the key, on a recipient for another key: the
         * kid is a hint; the right recipient is still found. */
        json_t *j = load_json(two);
        json_object_set_new(rcpt_header(j, 0), "kid", json_string("device-b"));
        json_object_set_new(rcpt_header(j, 1), "kid", json_string("device-a"));
        char *swapped_kids = dump(j);
        ring_b = ring_of(&b, 1);
        idx = 99;
        ok(open_with(swapped_kids, ring_b, &idx, &err) == 0 && idx == 1, "a misleading kid only changes the order");
        free(ring_b);

        /* Keys that fit no recipient, and keys of the wrong purpose. */
        struct sfu_key *other = gen_key("EC", "P-384", NULL);
        struct sfu_keyring *ring_o = ring_of(&other, 1);
        sfu_err_clear(&err);
        ok(open_with(two, ring_o, NULL, &err) < 0 && err.code == SFU_ERR_SIGNATURE &&
                   strstr(err.message, "no recipient of the JWE (ECDH-ES+A256KW/P-256, ECDH-ES+A256KW/P-256) fits"),
           "a P-384 key fits no P-256 recipient, and the message says so (%s)", err.message);
        free(ring_o);
        struct sfu_key *sig = NULL;
        ok(sfu_key_load_file(tap_data("keys/ec-p256.pem"), true, &sig, &err) == 0, "a P-256 signature key");
        struct sfu_keyring *ring_s = ring_of(&sig, 1);
        sfu_err_clear(&err);
        ok(open_with(two, ring_s, NULL, &err) < 0 && strstr(err.message, "no recipient"),
           "a signature key is never used to decrypt (%s)", err.message);
        free(ring_s);
        struct sfu_key *pub_only = public_of(a);
        struct sfu_keyring *ring_p = ring_of(&pub_only, 1);
        sfu_err_clear(&err);
        ok(open_with(two, ring_p, NULL, &err) < 0 && strstr(err.message, "no recipient"),
           "a public key cannot decrypt (%s)", err.message);
        free(ring_p);

        /* The right curve, another key: the one message. */
        struct sfu_key *stranger = gen_key("EC", "P-256", "device-a");
        struct sfu_keyring *ring_x = ring_of(&stranger, 1);
        undecryptable("another P-256 key with the recipient's kid", two, ring_x);
        free(ring_x);
        struct sfu_key *rsa_stranger = gen_key("RSA", NULL, NULL);
        char *for_rsa = encrypt_for(&keys[4], 1, SFU_JWE_ENCRYPT_COMPACT, NULL);
        struct sfu_keyring *ring_r = ring_of(&rsa_stranger, 1);
        undecryptable("another RSA key", for_rsa, ring_r);
        free(ring_r);

        /* Listing the recipients without a key. */
        struct sfu_jwe *jwe = NULL;
        json_t *list = NULL;
        ok(sfu_jwe_parse(text, strlen(text), &jwe, &err) == 0 && sfu_jwe_recipients_to_json(jwe, &list) == 0 &&
                   json_array_size(list) == ELEMENTSOF(kinds) &&
                   sfu_streq(json_string_value(json_object_get(json_array_get(list, 3), "crv")), "X25519") &&
                   sfu_streq(json_string_value(json_object_get(json_array_get(list, 4), "alg")), "RSA-OAEP-256"),
           "recipients listed without decrypting");
        json_decref(list);
        sfu_jwe_free(jwe);

        sfu_key_free(stranger);
        sfu_key_free(rsa_stranger);
        sfu_key_free(pub_only);
        sfu_key_free(sig);
        sfu_key_free(other);
        sfu_key_free((struct sfu_key *) pubs[0]);
        sfu_key_free((struct sfu_key *) pubs[1]);
        free(for_rsa);
        free(swapped_kids);
        free(anon);
        free(two);
        sfu_key_free(a);
        sfu_key_free(b);
        free(text);
        for (size_t k = 0; k < ELEMENTSOF(kinds); k++)
                sfu_key_free(keys[k]);
}

/* ---------------------------------------------------------------- refusals */

static void test_refusals(void) {
        struct sfu_key *key = gen_key("EC", "P-256", "dev"), *rsa = gen_key("RSA", NULL, "rsa");
        struct sfu_key *both[2] = { key, rsa };
        char *general = encrypt_for(both, 2, SFU_JWE_ENCRYPT_GENERAL, "jose");
        char *flat = encrypt_for(&key, 1, SFU_JWE_ENCRYPT_FLATTENED, NULL);
        char *compact = encrypt_for(&key, 1, SFU_JWE_ENCRYPT_COMPACT, NULL);
        char *t;
        struct {
                const char *alg, *want;
        } algs[] = {
                { "dir", "alg \"dir\" (a content key shared with the device) is not accepted" },
                { "RSA1_5", "alg \"RSA1_5\" (RSA PKCS#1 v1.5 key transport) is not accepted" },
                { "none", "alg \"none\" is not accepted" },
                { "RSA-OAEP", "alg \"RSA-OAEP\" is not accepted" },
                { "ECDH-ES", "alg \"ECDH-ES\" is not accepted" },
                { "ECDH-ES+A128KW", "alg \"ECDH-ES+A128KW\" is not accepted" },
                { "A256KW", "alg \"A256KW\" is not accepted" },
                { "A256GCMKW", "alg \"A256GCMKW\" is not accepted" },
                { "PBES2-HS512+A256KW", "alg \"PBES2-HS512+A256KW\" is not accepted" },
                { "ecdh-es+a256kw", "alg \"ecdh-es+a256kw\" is not accepted" },
        };
        for (size_t i = 0; i < ELEMENTSOF(algs); i++) {
                t = with_rcpt(general, "alg", json_string(algs[i].alg));
                refused(algs[i].alg, t, SFU_ERR_SIGNATURE, algs[i].want);
                free(t);
        }
        t = with_rcpt(general, "alg", json_integer(1));
        refused("alg not a string", t, SFU_ERR_PARSE, "\"alg\" is not a string");
        free(t);
        t = with_rcpt(general, "alg", NULL);
        refused("no alg", t, SFU_ERR_PARSE, "recipient 1: the JWE header has no \"alg\"");
        free(t);

        static const char *const encs[] = { "A128GCM", "A192GCM", "A256CBC-HS512", "A128CBC-HS256", "a256gcm", "none" };
        for (size_t i = 0; i < ELEMENTSOF(encs); i++) {
                char name[64];
                snprintf(name, sizeof(name), "enc %s", encs[i]);
                t = with_protected(general, "enc", json_string(encs[i]));
                refused(name, t, SFU_ERR_SIGNATURE, "is not accepted (A256GCM is)");
                free(t);
        }
        t = with_protected(general, "enc", NULL);
        refused("no enc", t, SFU_ERR_PARSE, "has no \"enc\"");
        free(t);

        /* zip and crit, in each header. */
        t = with_protected(general, "zip", json_string("DEF"));
        refused("zip in the protected header", t, SFU_ERR_SIGNATURE, "protected header has \"zip\"");
        free(t);
        t = with_member(general, "unprotected", json_pack("{s:s}", "zip", "DEF"));
        refused("zip in the shared header", t, SFU_ERR_SIGNATURE, "shared unprotected header has \"zip\"");
        free(t);
        t = with_rcpt(general, "zip", json_string("DEF"));
        refused("zip in a per-recipient header", t, SFU_ERR_SIGNATURE, "per-recipient header has \"zip\"");
        free(t);
        t = with_protected(general, "crit", json_pack("[s]", "exp"));
        refused("crit in the protected header", t, SFU_ERR_SIGNATURE, "has \"crit\"");
        free(t);
        t = with_member(general, "unprotected", json_pack("{s:[]}", "crit"));
        refused("empty crit in the shared header", t, SFU_ERR_SIGNATURE, "has \"crit\"");
        free(t);
        t = with_rcpt(general, "crit", json_pack("[s]", "b64"));
        refused("crit in a per-recipient header", t, SFU_ERR_SIGNATURE, "has \"crit\"");
        free(t);

        /* A member in two headers. */
        t = with_member(general, "unprotected", json_pack("{s:s}", "enc", "A256GCM"));
        refused("enc protected and shared", t, SFU_ERR_PARSE, "\"enc\" is in both the shared unprotected and the protected header");
        free(t);
        t = with_rcpt(general, "enc", json_string("A256GCM"));
        refused("enc protected and per-recipient", t, SFU_ERR_PARSE, "\"enc\" is in both the per-recipient and the protected header");
        free(t);
        json_t *j = load_json(general);
        json_object_set_new(j, "unprotected", json_pack("{s:s}", "x-note", "a"));
        json_object_set_new(rcpt_header(j, 1), "x-note", json_string("b"));
        t = dump(j);
        refused("a member shared and per-recipient", t, SFU_ERR_PARSE,
                "recipient 2: header parameter \"x-note\" is in both the per-recipient and the shared unprotected header");
        free(t);
        char *no_cty = with_protected(general, "cty", NULL);
        t = with_rcpt(no_cty, "cty", json_string("jose"));
        refused("cty per recipient", t, SFU_ERR_PARSE, "\"cty\" must be in the protected header");
        free(t);
        t = with_member(no_cty, "unprotected", json_pack("{s:s}", "cty", "jose"));
        refused("cty shared", t, SFU_ERR_PARSE, "\"cty\" must be in the protected header");
        free(t);
        free(no_cty);
        t = with_protected(general, "cty", json_integer(3));
        refused("cty not a string", t, SFU_ERR_PARSE, "\"cty\" must be");
        free(t);

        /* IV and tag. */
        t = with_member(general, "iv", NULL);
        refused("no IV", t, SFU_ERR_PARSE, "the JWE has no IV");
        free(t);
        t = with_member(general, "iv", b64_json("0123456789abcdef", 16));
        refused("a 16-byte IV", t, SFU_ERR_PARSE, "the JWE IV is 16 bytes; A256GCM needs 12");
        free(t);
        t = with_member(general, "iv", b64_json("01234567", 8));
        refused("an 8-byte IV", t, SFU_ERR_PARSE, "the JWE IV is 8 bytes");
        free(t);
        t = with_member(general, "iv", json_string(""));
        refused("an empty IV", t, SFU_ERR_PARSE, "the JWE has no IV");
        free(t);
        t = with_member(general, "tag", NULL);
        refused("no tag", t, SFU_ERR_PARSE, "the JWE has no authentication tag");
        free(t);
        t = with_member(general, "tag", b64_json("0123456789ab", 12));
        refused("a truncated (12-byte) tag", t, SFU_ERR_PARSE, "the JWE authentication tag is 12 bytes; A256GCM needs 16");
        free(t);
        t = with_member(general, "tag", b64_json("0123456789abcdef0", 17));
        refused("a 17-byte tag", t, SFU_ERR_PARSE, "authentication tag is 17 bytes");
        free(t);
        t = with_member(general, "ciphertext", NULL);
        refused("no ciphertext", t, SFU_ERR_PARSE, "the JWE has no ciphertext");
        free(t);
        t = with_member(general, "ciphertext", json_string("ab=="));
        refused("padded ciphertext", t, SFU_ERR_PARSE, "ciphertext is not valid base64url");
        free(t);
        t = with_member(general, "iv", json_integer(5));
        refused("iv not a string", t, SFU_ERR_PARSE, "JWE member \"iv\" is not a string");
        free(t);

        /* epk. */
        t = with_rcpt(general, "epk", NULL);
        refused("no epk", t, SFU_ERR_PARSE, "recipient 1: ECDH-ES+A256KW needs an \"epk\"");
        free(t);
        j = load_json(general);
        json_object_set_new(json_object_get(rcpt_header(j, 0), "epk"), "d",
                            json_string("AAsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"));
        t = dump(j);
        refused("a private epk", t, SFU_ERR_PARSE, "\"epk\" holds a private key");
        free(t);
        t = with_rcpt(general, "epk", json_pack("{s:s,s:s,s:s}", "kty", "RSA", "n", "AQAB", "e", "AQAB"));
        refused("an RSA epk", t, SFU_ERR_PARSE, "key-type mismatch");
        free(t);
        t = with_rcpt(general, "epk", json_pack("{s:s,s:s,s:s}", "kty", "OKP", "crv", "Ed25519", "x",
                                                "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"));
        refused("an Ed25519 epk", t, SFU_ERR_PARSE, "\"epk\" is not a usable public key");
        free(t);
        t = with_rcpt(general, "epk", json_pack("{s:s,s:s,s:s,s:s}", "kty", "EC", "crv", "P-256", "x",
                                                "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y",
                                                "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a1"));
        refused("an epk off the curve", t, SFU_ERR_PARSE, "\"epk\" is not a usable public key");
        free(t);
        t = with_rcpt(general, "epk", json_string("x"));
        refused("an epk that is not an object", t, SFU_ERR_PARSE, "not a JWK object");
        free(t);
        t = with_rcpt(general, "apu", json_string("QWxpY2U="));
        refused("padded apu", t, SFU_ERR_PARSE, "apu is not valid base64url");
        free(t);
        char longinfo[400];
        memset(longinfo, 'A', sizeof(longinfo) - 1);
        longinfo[sizeof(longinfo) - 1] = 0;
        t = with_rcpt(general, "apv", json_string(longinfo));
        refused("an oversized apv", t, SFU_ERR_SIZE, "\"apv\" exceeds the limit of 256 bytes");
        free(t);

        /* Encrypted keys. */
        j = load_json(general);
        json_object_del(json_array_get(json_object_get(j, "recipients"), 0), "encrypted_key");
        t = dump(j);
        refused("no encrypted key", t, SFU_ERR_PARSE, "ECDH-ES+A256KW needs an encrypted key");
        free(t);
        j = load_json(general);
        json_object_set_new(json_array_get(json_object_get(j, "recipients"), 0), "encrypted_key",
                            b64_json("0123456789abcdef0123456789abcdef", 32));
        t = dump(j);
        refused("a 32-byte ECDH encrypted key", t, SFU_ERR_PARSE, "the encrypted key is 32 bytes");
        free(t);
        j = load_json(general);
        char *huge = calloc(1, 3000);
        memset(huge, 'A', 2999);
        json_object_set_new(json_array_get(json_object_get(j, "recipients"), 1), "encrypted_key", json_string(huge));
        free(huge);
        t = dump(j);
        refused("an oversized encrypted key", t, SFU_ERR_SIZE, "recipient 2: the encrypted key exceeds the limit");
        free(t);

        /* kid. */
        t = with_rcpt(general, "kid", json_integer(7));
        refused("kid not a string", t, SFU_ERR_PARSE, "\"kid\" must be 1 to 256 printable ASCII characters");
        free(t);
        t = with_rcpt(general, "kid", json_string("a\nb"));
        refused("kid with a newline", t, SFU_ERR_PARSE, "\"kid\" must be");
        free(t);

        /* Structure. */
        j = load_json(general);
        json_object_set_new(j, "header", json_object());
        t = dump(j);
        refused("general and flattened mixed", t, SFU_ERR_PARSE, "mixes the general");
        free(t);
        t = with_member(general, "recipients", json_array());
        refused("no recipients", t, SFU_ERR_PARSE, "the JWE has no recipients");
        free(t);
        t = with_member(general, "recipients", json_object());
        refused("recipients not an array", t, SFU_ERR_PARSE, "\"recipients\" is not an array");
        free(t);
        j = load_json(general);
        json_t *list = json_object_get(j, "recipients");
        while (json_array_size(list) <= SFU_JWE_MAX_RECIPIENTS)
                json_array_append(list, json_array_get(list, 0));
        t = dump(j);
        refused("17 recipients", t, SFU_ERR_SIZE, "more than the limit of 16");
        free(t);
        j = load_json(general);
        json_array_set_new(json_object_get(j, "recipients"), 1, json_string("x"));
        t = dump(j);
        refused("a recipient that is not an object", t, SFU_ERR_PARSE, "recipient 2: is not a JSON object");
        free(t);
        t = with_member(general, "unprotected", json_string("x"));
        refused("shared header not an object", t, SFU_ERR_PARSE, "shared unprotected header is not a JSON object");
        free(t);
        t = with_member(general, "protected", json_string(""));
        refused("empty protected member", t, SFU_ERR_PARSE, "\"protected\" member is empty");
        free(t);
        t = with_member(general, "protected", b64_json("[1]", 3));
        refused("protected header an array", t, SFU_ERR_PARSE, "the JWE protected header");
        free(t);
        t = with_member(general, "protected", b64_json("{\"enc\":\"A256GCM\",\"enc\":\"A256GCM\"}", 33));
        refused("protected header with a duplicate member", t, SFU_ERR_PARSE, "duplicate");
        free(t);
        t = with_member(general, "aad", json_string("a+b"));
        refused("aad not base64url", t, SFU_ERR_PARSE, "\"aad\" is not valid base64url");
        free(t);
        char *big_aad = calloc(1, SFU_JWE_MAX_AAD + 2);
        memset(big_aad, 'A', SFU_JWE_MAX_AAD + 1);
        t = with_member(general, "aad", json_string(big_aad));
        refused("an oversized aad", t, SFU_ERR_SIZE, "\"aad\" exceeds the limit");
        free(t);
        free(big_aad);
        char *big_header = calloc(1, SFU_JWE_MAX_HEADER + 2);
        memset(big_header, 'x', SFU_JWE_MAX_HEADER + 1);
        t = with_protected(general, "x-pad", json_string(big_header));
        refused("an oversized protected header", t, SFU_ERR_SIZE, "protected header exceeds the limit of 8192 bytes");
        free(t);
        t = with_rcpt(general, "x-pad", json_string(big_header));
        refused("an oversized per-recipient header", t, SFU_ERR_SIZE, "per-recipient header exceeds the limit");
        free(t);
        free(big_header);

        refused("empty", "", SFU_ERR_PARSE, "the JWE is empty");
        refused("four segments", "eyJhIjoxfQ.a.b.c", SFU_ERR_PARSE, "a compact JWE has 5 segments separated by '.', this has 4");
        refused("six segments", "eyJhIjoxfQ.a.b.c.d.e", SFU_ERR_PARSE, "this has 6");
        refused("a JWS", "eyJhbGciOiJFUzI1NiJ9.e30.c2ln", SFU_ERR_PARSE, "this has 3");
        refused("compact without protected header", ".a.b.c.d", SFU_ERR_PARSE, "protected header is empty");
        refused("not JSON", "{\"ciphertext\":", SFU_ERR_PARSE, "JWE");
        /* compact with each part damaged */
        {
                char *parts = strdup(compact), *dots[4], *p = parts;
                for (int i = 0; i < 4; i++) {
                        p = strchr(p, '.');
                        dots[i] = p++;
                }
                (void) dots;
                char *c = xasprintf("%.*s=.%s", (int) (dots[0] - parts), parts, dots[0] + 1);
                refused("compact: padded protected header", c, SFU_ERR_PARSE, "protected header is not valid base64url");
                free(c);
                c = xasprintf("%.*s.%s", (int) (dots[0] - parts), parts, dots[1] + 1);
                refused("compact: a segment dropped", c, SFU_ERR_PARSE, "this has 4");
                free(c);
                c = xasprintf("%.*s..%s", (int) (dots[0] - parts), parts, dots[1] + 1);
                refused("compact: no encrypted key", c, SFU_ERR_PARSE, "needs an encrypted key");
                free(c);
                c = xasprintf("%s\n", compact);
                refused("compact with a newline", c, SFU_ERR_PARSE, "not valid base64url");
                free(c);
                free(parts);
        }
        /* compact with zip in the protected header */
        {
                json_t *h = json_pack("{s:s,s:s,s:s}", "alg", "ECDH-ES+A256KW", "enc", "A256GCM", "zip", "DEF");
                char *ht = json_dumps(h, JSON_COMPACT), *hb = sfu_b64url_encode((const uint8_t *) ht, strlen(ht));
                const char *rest = strchr(compact, '.');
                char *c = xasprintf("%s%s", hb, rest);
                refused("compact with zip", c, SFU_ERR_SIGNATURE, "has \"zip\"");
                free(c);
                free(hb);
                free(ht);
                json_decref(h);
        }
        /* a flattened JWE with a general member */
        t = with_member(flat, "recipients", json_array());
        refused("flattened with recipients", t, SFU_ERR_PARSE, "mixes the general");
        free(t);
        /* unknown members are ignored (RFC 7516 7.2.1) */
        {
                struct sfu_keyring *ring = ring_of(&key, 1);
                struct sfu_err err = SFU_ERR_INIT;
                t = with_member(flat, "x-extra", json_string("ignored"));
                ok(open_with(t, ring, NULL, &err) == 0, "an unknown top-level member is ignored (%s)", err.message);
                free(t);
                free(ring);
        }
        /* size caps */
        {
                char *big = malloc(SFU_JWE_MAX_SIZE + 2);
                memset(big, 'A', SFU_JWE_MAX_SIZE + 1);
                big[SFU_JWE_MAX_SIZE + 1] = 0;
                refused("over the size limit", big, SFU_ERR_SIZE, "exceeds the limit of 6291456 bytes");
                big[0] = '{';
                refused("JSON over the size limit", big, SFU_ERR_SIZE, "exceeds the limit");
                free(big);
        }
        {
                struct sfu_err err = SFU_ERR_INIT;
                struct sfu_jwe *jwe = NULL;
                ok(sfu_jwe_parse("a\0b.c.d.e.f", 11, &jwe, &err) < 0 && strstr(err.message, "NUL"), "a NUL byte is refused");
        }

        free(general);
        free(flat);
        free(compact);
        sfu_key_free(key);
        sfu_key_free(rsa);
}

/* ---------------------------------------------------------------- tampering */

static void test_tampering(void) {
        struct sfu_key *key = gen_key("X25519", NULL, "dev"), *rsa = gen_key("RSA", NULL, "rsa");
        struct sfu_key *both[2] = { key, rsa };
        struct sfu_keyring *ring = ring_of(&key, 1), *ring_rsa = ring_of(&rsa, 1);
        char *general = encrypt_for(both, 2, SFU_JWE_ENCRYPT_GENERAL, "jose");
        char *general2 = encrypt_for(both, 2, SFU_JWE_ENCRYPT_GENERAL, "jose");
        struct sfu_err err = SFU_ERR_INIT;
        json_t *j, *k;
        char *t;

        ok(open_with(general, ring, NULL, &err) == 0 && open_with(general2, ring_rsa, NULL, &err) == 0,
           "the untouched JWEs decrypt");

        t = with_flipped(general, "tag", 15);
        undecryptable("tampered tag", t, ring);
        free(t);
        t = with_flipped(general, "ciphertext", 3);
        undecryptable("tampered ciphertext", t, ring);
        free(t);
        t = with_flipped(general, "iv", 0);
        undecryptable("tampered IV", t, ring);
        free(t);
        t = with_protected(general, "x-extra", json_string("added"));
        undecryptable("tampered protected header (a member added)", t, ring);
        free(t);
        t = with_protected(general, "cty", json_string("cose"));
        undecryptable("tampered protected header (cty changed)", t, ring);
        free(t);
        t = with_member(general, "aad", json_string("YWRkZWQ"));
        undecryptable("an aad member added", t, ring);
        free(t);
        /* the JSON "aad" member: a JWE made here with plain OpenSSL calls
         * (RFC 7516 5.1 step 14), then with its aad changed or removed */
        {
                char *with_aad = handmade(rsa, "eyJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAtMjU2In0", "c2VjZnU");
                ok(open_with(with_aad, ring_rsa, NULL, &err) == 0, "a JWE with an aad member decrypts (%s)", err.message);
                t = with_member(with_aad, "aad", json_string("c2VjZnY"));
                undecryptable("the aad member changed", t, ring_rsa);
                free(t);
                t = with_member(with_aad, "aad", NULL);
                undecryptable("the aad member removed", t, ring_rsa);
                free(t);
                free(with_aad);
                char *no_aad = handmade(rsa, "eyJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAtMjU2In0", NULL);
                ok(open_with(no_aad, ring_rsa, NULL, &err) == 0, "the same without aad decrypts (%s)", err.message);
                free(no_aad);
                char *unprot = handmade(rsa, NULL, NULL);
                ok(open_with(unprot, ring_rsa, NULL, &err) == 0,
                   "a JWE without a protected header (alg and enc unprotected, empty AAD) decrypts (%s)", err.message);
                free(unprot);
        }

        /* swaps between two JWEs for the same recipients */
        j = load_json(general);
        k = load_json(general2);
        json_object_set(j, "ciphertext", json_object_get(k, "ciphertext"));
        json_object_set(j, "tag", json_object_get(k, "tag"));
        json_object_set(j, "iv", json_object_get(k, "iv"));
        t = dump(j);
        undecryptable("another JWE's ciphertext, IV and tag", t, ring);
        undecryptable("another JWE's ciphertext, IV and tag (RSA)", t, ring_rsa);
        free(t);
        j = load_json(general);
        json_array_set(json_object_get(j, "recipients"), 0, json_array_get(json_object_get(k, "recipients"), 0));
        t = dump(j);
        undecryptable("another JWE's recipient (its encrypted key)", t, ring);
        free(t);
        j = load_json(general);
        json_object_set(rcpt_header(j, 0), "epk", json_object_get(rcpt_header(k, 0), "epk"));
        t = dump(j);
        undecryptable("another JWE's epk", t, ring);
        free(t);
        json_decref(k);

        /* the recipients' encrypted keys swapped within one JWE */
        j = load_json(general);
        json_t *r0 = json_array_get(json_object_get(j, "recipients"), 0);
        json_t *r1 = json_array_get(json_object_get(j, "recipients"), 1);
        json_t *ek0 = json_incref(json_object_get(r0, "encrypted_key"));
        json_object_set(r0, "encrypted_key", json_object_get(r1, "encrypted_key"));
        json_object_set_new(r1, "encrypted_key", ek0);
        t = dump(j);
        /* recipient 1 has an ECDH epk and now a 256-byte key: refused */
        refused("encrypted keys swapped between recipients", t, SFU_ERR_PARSE, "the encrypted key is 256 bytes");
        free(t);

        /* the encrypted key changed by one bit, for each key type */
        j = load_json(general);
        for (size_t i = 0; i < 2; i++) {
                json_t *rcpt = json_array_get(json_object_get(j, "recipients"), i);
                const char *b64 = json_string_value(json_object_get(rcpt, "encrypted_key"));
                uint8_t *raw = NULL;
                size_t len = 0;
                if (sfu_b64url_decode(b64, strlen(b64), &raw, &len) < 0)
                        abort();
                raw[len / 2] ^= 0x80;
                json_object_set_new(rcpt, "encrypted_key", b64_json(raw, len));
                free(raw);
        }
        t = dump(j);
        undecryptable("a flipped bit in the ECDH-wrapped key", t, ring);
        undecryptable("a flipped bit in the RSA-OAEP key", t, ring_rsa);
        free(t);

        /* apu / apv added: the KEK changes */
        t = with_rcpt(general, "apu", json_string("QWxpY2U"));
        undecryptable("apu added", t, ring);
        free(t);
        /* the ciphertext cut short or extended */
        {
                json_t *cj = load_json(general);
                const char *b64 = json_string_value(json_object_get(cj, "ciphertext"));
                uint8_t *raw = NULL;
                size_t len = 0;
                if (sfu_b64url_decode(b64, strlen(b64), &raw, &len) < 0)
                        abort();
                json_object_set_new(cj, "ciphertext", b64_json(raw, len - 1));
                t = dump(json_incref(cj));
                undecryptable("the ciphertext one byte short", t, ring);
                free(t);
                uint8_t *longer = calloc(1, len + 1);
                memcpy(longer, raw, len);
                json_object_set_new(cj, "ciphertext", b64_json(longer, len + 1));
                t = dump(cj);
                undecryptable("the ciphertext one byte longer", t, ring);
                free(t);
                free(longer);
                free(raw);
        }
        /* a compact JWE whose protected header is re-encoded */
        {
                char *compact = encrypt_for(&key, 1, SFU_JWE_ENCRYPT_COMPACT, NULL);
                const char *dot = strchr(compact, '.');
                uint8_t *raw = NULL;
                size_t len = 0;
                if (sfu_b64url_decode(compact, (size_t) (dot - compact), &raw, &len) < 0)
                        abort();
                json_t *h = json_loadb((const char *) raw, len, 0, NULL);
                char *ht = json_dumps(h, JSON_COMPACT | JSON_INDENT(1));
                char *hb = sfu_b64url_encode((const uint8_t *) ht, strlen(ht));
                char *c = xasprintf("%s%s", hb, dot);
                undecryptable("compact: the same header, re-encoded", c, ring);
                free(c);
                free(hb);
                free(ht);
                json_decref(h);
                free(raw);
                free(compact);
        }
        free(general);
        free(general2);
        free(ring);
        free(ring_rsa);
        sfu_key_free(key);
        sfu_key_free(rsa);
}

/* ---------------------------------------------------------------- small helpers */

static void test_helpers(void) {
        ok(sfu_jwe_cty_is("jose", "application/jose"), "cty jose is application/jose");
        ok(sfu_jwe_cty_is("JOSE+JSON", "application/jose+json"), "cty is case-insensitive");
        ok(sfu_jwe_cty_is("application/cose", "application/cose"), "cty may be the full media type");
        ok(!sfu_jwe_cty_is("jose", "application/jose+json"), "jose is not jose+json");
        ok(!sfu_jwe_cty_is("jose; x=1", "application/jose"), "cty with parameters is not matched");
        ok(!sfu_jwe_cty_is("text/jose", "application/jose"), "another top-level type is not matched");
        ok(!sfu_jwe_cty_is(NULL, "application/jose"), "no cty matches nothing");
        ok(sfu_jwe_detect("a.b.c.d.e", 9) && sfu_jwe_detect("a.b.c.d.e\n", 10), "compact JWE detected");
        ok(!sfu_jwe_detect("a.b.c", 5), "a compact JWS is not a JWE");
        ok(sfu_jwe_detect(" {\"ciphertext\":\"\"}", 18), "JSON JWE detected");
        ok(!sfu_jwe_detect("{\"payload\":\"\"}", 14), "JSON JWS is not a JWE");
        ok(!sfu_jwe_detect("\xd2\x84", 2), "COSE is not a JWE");
        is_str(sfu_jwe_alg_name(SFU_JWE_RSA_OAEP_256), "RSA-OAEP-256", "alg name");
        ok(sfu_jwe_alg_name(_SFU_JWE_ALG_MAX) == NULL, "no name out of range");
}

/* ---------------------------------------------------------------- the key directory */

static void write_file(const char *dir, const char *name, const char *text, mode_t mode) {
        char *path = xasprintf("%s/%s", dir, name);
        FILE *f = fopen(path, "we");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0 || chmod(path, mode) < 0)
                abort();
        free(path);
}

static void dir_refused(const char *name, const char *dir, const char *want) {
        struct sfu_keyring *ring = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        if (sfu_keyring_new(&ring) < 0)
                abort();
        ok(sfu_keyring_load_decryption_dir(ring, dir, &err) < 0 && ring->n_keys == 0 && strstr(err.message, want),
           "key directory %s: refused (%s)", name, err.message);
        sfu_keyring_free(ring);
}

static void test_key_dir(void) {
        char *dir = tap_mkdtemp(), *sub, *path, *pem = NULL, *jwk_text;
        struct sfu_key *p256 = gen_key("EC", "P-256", NULL), *x = gen_key("X25519", NULL, NULL);
        struct sfu_keyring *ring = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        json_t *jwk = NULL;

        if (chmod(dir, 0700) < 0 || sfu_key_to_pem(p256, true, &pem) < 0 || sfu_key_to_private_jwk(x, &jwk) < 0)
                abort();
        jwk_text = json_dumps(jwk, JSON_COMPACT);
        ok(jwk_text && strstr(jwk_text, "\"crv\":\"X25519\"") && strstr(jwk_text, "\"d\":"),
           "an X25519 key exports as a private OKP JWK");
        write_file(dir, "10-p256.pem", pem, 0600);
        write_file(dir, "20-x25519.jwk", jwk_text, 0400);
        write_file(dir, "README", "not a key\n", 0644);
        if (sfu_keyring_new(&ring) < 0)
                abort();
        ok(sfu_keyring_load_decryption_dir(ring, dir, &err) == 0 && ring->n_keys == 2 &&
                   ring->keys[0]->type == SFU_KEY_EC_P256 && ring->keys[1]->type == SFU_KEY_X25519 &&
                   ring->keys[1]->is_private && ring->keys[1]->use == SFU_KEY_USE_ENC &&
                   sfu_streq(ring->keys[1]->kid, x->kid),
           "a 0700 directory of 0600/0400 key files loads, in name order, other names ignored (%s)", err.message);
        {
                char *text = encrypt_for(&x, 1, SFU_JWE_ENCRYPT_COMPACT, NULL);
                ok(open_with(text, ring, NULL, &err) == 0, "and its keys decrypt");
                free(text);
        }
        sfu_keyring_free(ring);

        if (chmod(dir, 0750) < 0)
                abort();
        dir_refused("mode 0750", dir, "has mode 0750; it must be 0700 or stricter");
        if (chmod(dir, 0700) < 0)
                abort();
        path = xasprintf("%s/10-p256.pem", dir);
        if (chmod(path, 0640) < 0)
                abort();
        dir_refused("a key file 0640", dir, "10-p256.pem has mode 0640; it must be 0600 or stricter");
        if (chmod(path, 0600) < 0 || chown(path, 65534, 65534) < 0)
                abort();
        dir_refused("a key file owned by another user", dir, "10-p256.pem is owned by uid 65534");
        if (chown(path, 0, 0) < 0)
                abort();
        free(path);
        path = xasprintf("%s/30-link.pem", dir);
        if (symlink("10-p256.pem", path) < 0)
                abort();
        dir_refused("a symbolic link", dir, "30-link.pem is a symbolic link");
        unlink(path);
        free(path);
        {
                char *pub = NULL;
                if (sfu_key_to_pem(p256, false, &pub) < 0)
                        abort();
                write_file(dir, "40-public.pem", pub, 0600);
                dir_refused("a public key", dir, "40-public.pem: no usable private key");
                path = xasprintf("%s/40-public.pem", dir);
                unlink(path);
                free(path);
                free(pub);
        }
        {
                char *ed = tap_read_file(tap_data("keys/ed25519.pem"), NULL);
                write_file(dir, "50-ed25519.pem", ed, 0600);
                dir_refused("a signing key", dir, "Ed25519 is a signature key");
                path = xasprintf("%s/50-ed25519.pem", dir);
                unlink(path);
                free(path);
                free(ed);
        }
        write_file(dir, "60-same.pem", pem, 0600);
        dir_refused("the same key twice", dir, "60-same.pem: the same public key is already in");
        path = xasprintf("%s/60-same.pem", dir);
        unlink(path);
        free(path);

        sub = xasprintf("%s/empty", dir);
        if (mkdir(sub, 0700) < 0 || sfu_keyring_new(&ring) < 0)
                abort();
        ok(sfu_keyring_load_decryption_dir(ring, sub, &err) == 0 && ring->n_keys == 0, "an empty directory gives no key");
        sfu_keyring_free(ring);
        path = xasprintf("%s/link", dir);
        if (symlink(sub, path) < 0)
                abort();
        dir_refused("a symbolic link to a directory", path, "it is a symbolic link");
        dir_refused("a missing directory", "/nonexistent/secfud/decrypt.d", "No such file or directory");
        free(path);
        free(sub);

        sfu_wipe(jwk_text, strlen(jwk_text));
        free(jwk_text);
        sfu_key_jwk_wipe_free(jwk);
        sfu_wipe(pem, strlen(pem));
        free(pem);
        sfu_key_free(p256);
        sfu_key_free(x);
        free(dir);
}

int main(void) {
        test_vectors();
        test_keys();
        test_helpers();
        test_round_trips();
        test_recipients();
        test_refusals();
        test_tampering();
        test_key_dir();
        return tap_done();
}
