/* SPDX-License-Identifier: MIT */
/* JWE encryption for the vendor tool (libsfusign.a): one fresh content
 * key, A256GCM, wrapped for each recipient with ECDH-ES+A256KW (a fresh
 * ephemeral key per recipient) or RSA-OAEP-256. */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "core/b64url.h"
#include "core/json.h"
#include "core/jwe.h"
#include "core/jwe-internal.h"

static void pkey_freep(EVP_PKEY **p) {
        EVP_PKEY_free(*p);
}

static int set_new(json_t *obj, const char *key, json_t *value) {
        return json_object_set_new(obj, key, value) < 0 ? -ENOMEM : 0;
}

static int set_b64(json_t *obj, const char *key, const uint8_t *data, size_t len) {
        char *s = sfu_b64url_encode(data, len);
        int r;

        if (!s)
                return -ENOMEM;
        r = set_new(obj, key, json_string(s));
        free(s);
        return r;
}

/* base64url of a BIGNUM parameter, left-padded to size bytes. */
static int set_bn(json_t *obj, const char *key, EVP_PKEY *pkey, const char *param, size_t size) {
        BIGNUM *bn = NULL;
        uint8_t buf[SFU_JWE_ECDH_Z_MAX];
        int r;

        if (size > sizeof(buf) || EVP_PKEY_get_bn_param(pkey, param, &bn) != 1 ||
            BN_bn2binpad(bn, buf, (int) size) < 0) {
                BN_free(bn);
                ERR_clear_error();
                return -EIO;
        }
        BN_free(bn);
        r = set_b64(obj, key, buf, size);
        return r;
}

int sfu_jwe_epk_jwk(EVP_PKEY *eph, enum sfu_key_type type, json_t **ret) {
        _cleanup_json_ json_t *jwk = json_object();
        uint8_t x[32];
        size_t x_len = 0, size;
        int r;

        if (!jwk)
                return -ENOMEM;
        if (type == SFU_KEY_X25519) {
                if (EVP_PKEY_get_octet_string_param(eph, OSSL_PKEY_PARAM_PUB_KEY, x, sizeof(x), &x_len) != 1 ||
                    x_len != 32) {
                        ERR_clear_error();
                        return -EIO;
                }
                if (set_new(jwk, "kty", json_string("OKP")) < 0 || set_new(jwk, "crv", json_string("X25519")) < 0 ||
                    set_b64(jwk, "x", x, x_len) < 0)
                        return -ENOMEM;
                *ret = TAKE_PTR(jwk);
                return 0;
        }
        size = type == SFU_KEY_EC_P256 ? 32 : type == SFU_KEY_EC_P384 ? 48 : 66;
        if (set_new(jwk, "kty", json_string("EC")) < 0 || set_new(jwk, "crv", json_string(sfu_key_type_name(type))) < 0)
                return -ENOMEM;
        r = set_bn(jwk, "x", eph, OSSL_PKEY_PARAM_EC_PUB_X, size);
        if (r >= 0)
                r = set_bn(jwk, "y", eph, OSSL_PKEY_PARAM_EC_PUB_Y, size);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(jwk);
        return 0;
}

int sfu_jwe_aes_wrap(const uint8_t kek[static 32], const uint8_t cek[static SFU_JWE_CEK_SIZE],
                     uint8_t out[static SFU_JWE_WRAPPED_KEY_SIZE]) {
        _cleanup_(sfu_jwe_evp_cipher_ctx_freep) EVP_CIPHER_CTX *ctx = NULL;
        _cleanup_(sfu_jwe_evp_cipher_freep) EVP_CIPHER *cipher = NULL;
        int len = 0, fin = 0;
        bool good;

        cipher = EVP_CIPHER_fetch(NULL, "AES-256-WRAP", NULL);
        ctx = EVP_CIPHER_CTX_new();
        if (!cipher || !ctx) {
                ERR_clear_error();
                return -ENOMEM;
        }
        good = EVP_EncryptInit_ex2(ctx, cipher, kek, NULL, NULL) == 1 &&
               EVP_EncryptUpdate(ctx, out, &len, cek, SFU_JWE_CEK_SIZE) == 1 &&
               EVP_EncryptFinal_ex(ctx, out + len, &fin) == 1 && len + fin == SFU_JWE_WRAPPED_KEY_SIZE;
        ERR_clear_error();
        return good ? 0 : -EIO;
}

int sfu_jwe_ephemeral(EVP_PKEY *peer, EVP_PKEY **ret_eph, uint8_t z[static SFU_JWE_ECDH_Z_MAX], size_t *ret_len) {
        _cleanup_(sfu_jwe_evp_pkey_ctx_freep) EVP_PKEY_CTX *gen = NULL;
        _cleanup_(pkey_freep) EVP_PKEY *eph = NULL;
        int r;

        /* An ephemeral key with the recipient's parameters (its curve). */
        gen = EVP_PKEY_CTX_new_from_pkey(NULL, peer, NULL);
        if (!gen)
                return -ENOMEM;
        if (EVP_PKEY_keygen_init(gen) != 1 || EVP_PKEY_keygen(gen, &eph) != 1) {
                ERR_clear_error();
                return -EIO;
        }
        r = sfu_jwe_ecdh(eph, peer, z, ret_len);
        if (r < 0)
                return -EIO;
        *ret_eph = TAKE_PTR(eph);
        return 0;
}

/* ECDH-ES+A256KW for key: a fresh ephemeral key, Z, the KEK, the wrap.
 * Adds "epk" to header. */
static int wrap_ecdh(const struct sfu_key *key, const uint8_t cek[static SFU_JWE_CEK_SIZE], json_t *header,
                     uint8_t out[static SFU_JWE_WRAPPED_KEY_SIZE]) {
        _cleanup_(pkey_freep) EVP_PKEY *eph = NULL;
        json_t *epk = NULL;
        uint8_t z[SFU_JWE_ECDH_Z_MAX], kek[32];
        size_t z_len = 0;
        int r;

        r = sfu_jwe_ephemeral(key->pkey, &eph, z, &z_len);
        if (r < 0)
                return r;
        r = sfu_jwe_concat_kdf(z, z_len, sfu_jwe_alg_name(SFU_JWE_ECDH_ES_A256KW), NULL, 0, NULL, 0, kek, sizeof(kek));
        OPENSSL_cleanse(z, sizeof(z));
        if (r >= 0)
                r = sfu_jwe_aes_wrap(kek, cek, out);
        OPENSSL_cleanse(kek, sizeof(kek));
        if (r < 0)
                return r;
        r = sfu_jwe_epk_jwk(eph, key->type, &epk);
        if (r < 0)
                return r;
        return set_new(header, "epk", epk);
}

int sfu_jwe_rsa_wrap(const struct sfu_key *key, const uint8_t cek[static SFU_JWE_CEK_SIZE], uint8_t **ret,
                     size_t *ret_len) {
        _cleanup_(sfu_jwe_evp_pkey_ctx_freep) EVP_PKEY_CTX *ctx = NULL;
        _cleanup_free_ uint8_t *out = NULL;
        size_t out_len = (size_t) EVP_PKEY_get_size(key->pkey);

        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
        out = malloc(out_len);
        if (!ctx || !out)
                return -ENOMEM;
        if (EVP_PKEY_encrypt_init(ctx) != 1 || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx, "SHA256", NULL) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx, "SHA256", NULL) != 1 ||
            EVP_PKEY_encrypt(ctx, out, &out_len, cek, SFU_JWE_CEK_SIZE) != 1) {
                ERR_clear_error();
                return -EIO;
        }
        *ret = TAKE_PTR(out);
        *ret_len = out_len;
        return 0;
}

/* The per-recipient header (alg, kid, epk) and the encrypted key. */
static int make_recipient(const struct sfu_key *key, const uint8_t cek[static SFU_JWE_CEK_SIZE],
                          const struct sfu_jwe_encrypt_opts *opts, json_t **ret_header, char **ret_ek,
                          struct sfu_err *err) {
        _cleanup_json_ json_t *header = json_object();
        _cleanup_free_ uint8_t *rsa_ek = NULL;
        uint8_t wrapped[SFU_JWE_WRAPPED_KEY_SIZE];
        const uint8_t *ek;
        size_t ek_len = 0;
        enum sfu_jwe_alg alg;
        int r;

        if (!header)
                return -ENOMEM;
        if (!key || !key->pkey || key->use != SFU_KEY_USE_ENC)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: not a key-management (encryption) key",
                                   key && key->source ? key->source : "recipient");
        switch (key->type) {
        case SFU_KEY_RSA:
                alg = SFU_JWE_RSA_OAEP_256;
                break;
        case SFU_KEY_EC_P256:
        case SFU_KEY_EC_P384:
        case SFU_KEY_EC_P521:
        case SFU_KEY_X25519:
                alg = SFU_JWE_ECDH_ES_A256KW;
                break;
        case SFU_KEY_ED25519:
        case SFU_KEY_HSS:
        case _SFU_KEY_TYPE_MAX:
        default:
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: a %s key cannot be a JWE recipient",
                                   key->source ? key->source : "recipient", sfu_key_type_name(key->type));
        }
        if (set_new(header, "alg", json_string(sfu_jwe_alg_name(alg))) < 0)
                return -ENOMEM;
        if (!opts->no_kid && key->kid && set_new(header, "kid", json_string(key->kid)) < 0)
                return -ENOMEM;
        if (alg == SFU_JWE_RSA_OAEP_256) {
                r = sfu_jwe_rsa_wrap(key, cek, &rsa_ek, &ek_len);
                ek = rsa_ek;
        } else {
                r = wrap_ecdh(key, cek, header, wrapped);
                ek = wrapped;
                ek_len = sizeof(wrapped);
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EIO, "%s: wrapping the content key failed",
                                   key->source ? key->source : "recipient");
        *ret_ek = sfu_b64url_encode(ek, ek_len);
        if (!*ret_ek)
                return -ENOMEM;
        *ret_header = TAKE_PTR(header);
        return 0;
}

int sfu_jwe_gcm_encrypt(const uint8_t cek[static SFU_JWE_CEK_SIZE], const uint8_t iv[static SFU_JWE_IV_SIZE],
                        const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                        uint8_t tag[static SFU_JWE_TAG_SIZE]) {
        _cleanup_(sfu_jwe_evp_cipher_ctx_freep) EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        int n = 0, fin = 0;
        bool good;

        if (!ctx)
                return -ENOMEM;
        good = EVP_EncryptInit_ex2(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
               EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SFU_JWE_IV_SIZE, NULL) == 1 &&
               EVP_EncryptInit_ex2(ctx, NULL, cek, iv, NULL) == 1 &&
               EVP_EncryptUpdate(ctx, NULL, &n, aad, (int) aad_len) == 1 &&
               EVP_EncryptUpdate(ctx, out, &n, in, (int) len) == 1 && EVP_EncryptFinal_ex(ctx, out + n, &fin) == 1 &&
               (size_t) (n + fin) == len &&
               EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SFU_JWE_TAG_SIZE, tag) == 1;
        ERR_clear_error();
        return good ? 0 : -EIO;
}

static void cek_cleanse(uint8_t (*cek)[SFU_JWE_CEK_SIZE]) {
        OPENSSL_cleanse(*cek, sizeof(*cek));
}

static void strv_freep(char *(*v)[SFU_JWE_MAX_RECIPIENTS]) {
        for (size_t i = 0; i < SFU_JWE_MAX_RECIPIENTS; i++)
                free((*v)[i]);
}

static void jsonv_freep(json_t *(*v)[SFU_JWE_MAX_RECIPIENTS]) {
        for (size_t i = 0; i < SFU_JWE_MAX_RECIPIENTS; i++)
                if ((*v)[i])
                        json_decref((*v)[i]);
}

int sfu_jwe_encrypt(const uint8_t *plaintext, size_t len, const struct sfu_key *const *recipients,
                    size_t n_recipients, const struct sfu_jwe_encrypt_opts *opts_in, char **ret,
                    struct sfu_err *err) {
        const struct sfu_jwe_encrypt_opts defaults = {};
        const struct sfu_jwe_encrypt_opts *opts = opts_in ? opts_in : &defaults;
        _cleanup_(cek_cleanse) uint8_t cek[SFU_JWE_CEK_SIZE] = {};
        _cleanup_(strv_freep) char *eks[SFU_JWE_MAX_RECIPIENTS] = {};
        _cleanup_(jsonv_freep) json_t *headers[SFU_JWE_MAX_RECIPIENTS] = {};
        _cleanup_json_ json_t *prot = NULL, *out = NULL;
        _cleanup_free_ char *prot_text = NULL, *prot_b64 = NULL, *ct_b64 = NULL, *iv_b64 = NULL, *tag_b64 = NULL;
        _cleanup_free_ uint8_t *ct = NULL;
        uint8_t iv[SFU_JWE_IV_SIZE], tag[SFU_JWE_TAG_SIZE];
        enum sfu_jwe_encrypt_form form = opts->form;
        char *text;
        int r;

        if ((!plaintext && len > 0) || !recipients || !ret)
                return -EINVAL;
        if (n_recipients == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "no recipient to encrypt for");
        if (n_recipients > SFU_JWE_MAX_RECIPIENTS)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "%zu recipients; a JWE here has at most %d", n_recipients,
                                   SFU_JWE_MAX_RECIPIENTS);
        if (len > SFU_JWE_MAX_PLAINTEXT)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "plaintext of %zu bytes exceeds the limit of %u bytes",
                                   len, SFU_JWE_MAX_PLAINTEXT);
        if (form == SFU_JWE_ENCRYPT_AUTO)
                form = n_recipients == 1 ? SFU_JWE_ENCRYPT_COMPACT : SFU_JWE_ENCRYPT_GENERAL;
        if (n_recipients > 1 && form != SFU_JWE_ENCRYPT_GENERAL)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "%zu recipients need the general JSON serialization", n_recipients);
        if (RAND_priv_bytes(cek, sizeof(cek)) != 1 || RAND_bytes(iv, sizeof(iv)) != 1) {
                ERR_clear_error();
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EIO, "the random number generator failed");
        }
        for (size_t i = 0; i < n_recipients; i++) {
                r = make_recipient(recipients[i], cek, opts, &headers[i], &eks[i], err);
                if (r < 0)
                        return r;
        }

        /* Compact: everything in the protected header.  JSON: enc and cty
         * protected, alg, kid and epk per recipient. */
        prot = form == SFU_JWE_ENCRYPT_COMPACT ? json_deep_copy(headers[0]) : json_object();
        if (!prot || set_new(prot, "enc", json_string("A256GCM")) < 0)
                return -ENOMEM;
        if (opts->cty && set_new(prot, "cty", json_string(opts->cty)) < 0)
                return -ENOMEM;
        prot_text = sfu_json_dump_compact(prot);
        if (!prot_text)
                return -ENOMEM;
        prot_b64 = sfu_b64url_encode((const uint8_t *) prot_text, strlen(prot_text));
        ct = malloc(len + 1);
        if (!prot_b64 || !ct)
                return -ENOMEM;
        r = sfu_jwe_gcm_encrypt(cek, iv, (const uint8_t *) prot_b64, strlen(prot_b64), plaintext, len, ct, tag);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EIO, "A256GCM encryption failed");
        ct_b64 = sfu_b64url_encode(ct, len);
        iv_b64 = sfu_b64url_encode(iv, sizeof(iv));
        tag_b64 = sfu_b64url_encode(tag, sizeof(tag));
        if (!ct_b64 || !iv_b64 || !tag_b64)
                return -ENOMEM;

        if (form == SFU_JWE_ENCRYPT_COMPACT) {
                if (asprintf(&text, "%s.%s.%s.%s.%s", prot_b64, eks[0], iv_b64, ct_b64, tag_b64) < 0)
                        return -ENOMEM;
                *ret = text;
                return 0;
        }
        out = json_object();
        if (!out || set_new(out, "protected", json_string(prot_b64)) < 0 ||
            set_new(out, "iv", json_string(iv_b64)) < 0 || set_new(out, "ciphertext", json_string(ct_b64)) < 0 ||
            set_new(out, "tag", json_string(tag_b64)) < 0)
                return -ENOMEM;
        if (form == SFU_JWE_ENCRYPT_FLATTENED) {
                if (set_new(out, "header", json_incref(headers[0])) < 0 ||
                    set_new(out, "encrypted_key", json_string(eks[0])) < 0)
                        return -ENOMEM;
        } else {
                json_t *list = json_array();
                if (set_new(out, "recipients", list) < 0)
                        return -ENOMEM;
                for (size_t i = 0; i < n_recipients; i++) {
                        json_t *entry = json_object();
                        if (json_array_append_new(list, entry) < 0 ||
                            set_new(entry, "header", json_incref(headers[i])) < 0 ||
                            set_new(entry, "encrypted_key", json_string(eks[i])) < 0)
                                return -ENOMEM;
                }
        }
        text = sfu_json_dump_compact(out);
        if (!text)
                return -ENOMEM;
        *ret = text;
        return 0;
}
