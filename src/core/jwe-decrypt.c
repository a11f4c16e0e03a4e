/* SPDX-License-Identifier: MIT */
/* JWE decryption (doc/encryption.md): ECDH-ES key agreement with the
 * Concat KDF, AES key unwrap, RSA-OAEP-256, A256GCM; which recipient fits
 * which device key; the encrypted manifest opened for core/signed.c. */
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "core/b64url.h"
#include "core/json.h"
#include "core/jwe.h"
#include "core/jwe-internal.h"
#include "core/signed.h"

#define NO_FIT "cannot decrypt with this device's key(s)"

/* ---------------------------------------------------------------- key agreement */

int sfu_jwe_ecdh(EVP_PKEY *priv, EVP_PKEY *peer, uint8_t z[static SFU_JWE_ECDH_Z_MAX], size_t *ret_len) {
        _cleanup_(sfu_jwe_evp_pkey_ctx_freep) EVP_PKEY_CTX *ctx = NULL;
        size_t len = SFU_JWE_ECDH_Z_MAX;

        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
        if (!ctx)
                return -ENOMEM;
        /* validate_peer: the peer's point is checked (on the curve, not
         * the identity); X25519 refuses an all-zero result. */
        if (EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer_ex(ctx, peer, 1) != 1 ||
            EVP_PKEY_derive(ctx, z, &len) != 1 || len == 0 || len > SFU_JWE_ECDH_Z_MAX) {
                OPENSSL_cleanse(z, SFU_JWE_ECDH_Z_MAX);
                ERR_clear_error();
                return -EBADMSG;
        }
        *ret_len = len;
        return 0;
}

static void put_u32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) (v >> 24);
        p[1] = (uint8_t) (v >> 16);
        p[2] = (uint8_t) (v >> 8);
        p[3] = (uint8_t) v;
}

int sfu_jwe_concat_kdf(const uint8_t *z, size_t z_len, const char *alg, const uint8_t *apu, size_t apu_len,
                       const uint8_t *apv, size_t apv_len, uint8_t *out, size_t out_len) {
        EVP_MD_CTX *ctx = NULL;
        uint8_t counter[4], len_alg[4], len_apu[4], len_apv[4], supp_pub[4], digest[32];
        unsigned digest_len = 0;
        size_t alg_len = strlen(alg);
        bool good;

        if (out_len == 0 || out_len > sizeof(digest))
                return -EINVAL;
        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        put_u32(counter, 1);
        put_u32(len_alg, (uint32_t) alg_len);
        put_u32(len_apu, (uint32_t) apu_len);
        put_u32(len_apv, (uint32_t) apv_len);
        put_u32(supp_pub, (uint32_t) (out_len * 8));
        good = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(ctx, counter, 4) == 1 &&
               EVP_DigestUpdate(ctx, z, z_len) == 1 && EVP_DigestUpdate(ctx, len_alg, 4) == 1 &&
               EVP_DigestUpdate(ctx, alg, alg_len) == 1 && EVP_DigestUpdate(ctx, len_apu, 4) == 1 &&
               (apu_len == 0 || EVP_DigestUpdate(ctx, apu, apu_len) == 1) && EVP_DigestUpdate(ctx, len_apv, 4) == 1 &&
               (apv_len == 0 || EVP_DigestUpdate(ctx, apv, apv_len) == 1) &&
               EVP_DigestUpdate(ctx, supp_pub, 4) == 1 && EVP_DigestFinal_ex(ctx, digest, &digest_len) == 1 &&
               digest_len == sizeof(digest);
        /* the context held Z's hash state */
        EVP_MD_CTX_free(ctx);
        if (good)
                memcpy(out, digest, out_len);
        OPENSSL_cleanse(digest, sizeof(digest));
        if (!good) {
                ERR_clear_error();
                return -EIO;
        }
        return 0;
}

/* ---------------------------------------------------------------- decryption */

/* RFC 3394 unwrap of a 40-byte key with kek into cek (32 bytes). */
int sfu_jwe_aes_unwrap(const uint8_t kek[static 32], const uint8_t *wrapped, size_t wrapped_len,
                       uint8_t cek[static SFU_JWE_CEK_SIZE]) {
        _cleanup_(sfu_jwe_evp_cipher_ctx_freep) EVP_CIPHER_CTX *ctx = NULL;
        _cleanup_(sfu_jwe_evp_cipher_freep) EVP_CIPHER *cipher = NULL;
        uint8_t out[SFU_JWE_WRAPPED_KEY_SIZE + 16];
        int len = 0, fin = 0;
        bool good;

        if (wrapped_len != SFU_JWE_WRAPPED_KEY_SIZE)
                return -EBADMSG;
        cipher = EVP_CIPHER_fetch(NULL, "AES-256-WRAP", NULL);
        ctx = EVP_CIPHER_CTX_new();
        if (!cipher || !ctx) {
                ERR_clear_error();
                return -ENOMEM;
        }
        good = EVP_DecryptInit_ex2(ctx, cipher, kek, NULL, NULL) == 1 &&
               EVP_DecryptUpdate(ctx, out, &len, wrapped, (int) wrapped_len) == 1 &&
               EVP_DecryptFinal_ex(ctx, out + len, &fin) == 1 && len + fin == SFU_JWE_CEK_SIZE;
        if (good)
                memcpy(cek, out, SFU_JWE_CEK_SIZE);
        OPENSSL_cleanse(out, sizeof(out));
        ERR_clear_error();
        return good ? 0 : -EBADMSG;
}

static int unwrap_ecdh(const struct sfu_jwe_recipient *rcpt, const struct sfu_key *key,
                       uint8_t cek[static SFU_JWE_CEK_SIZE]) {
        uint8_t z[SFU_JWE_ECDH_Z_MAX], kek[32];
        size_t z_len = 0;
        int r;

        r = sfu_jwe_ecdh(key->pkey, rcpt->epk->pkey, z, &z_len);
        if (r < 0)
                return r;
        r = sfu_jwe_concat_kdf(z, z_len, sfu_jwe_alg_name(SFU_JWE_ECDH_ES_A256KW), rcpt->apu, rcpt->apu_len, rcpt->apv,
                               rcpt->apv_len, kek, sizeof(kek));
        OPENSSL_cleanse(z, sizeof(z));
        if (r < 0)
                return r;
        r = sfu_jwe_aes_unwrap(kek, rcpt->encrypted_key, rcpt->encrypted_key_len, cek);
        OPENSSL_cleanse(kek, sizeof(kek));
        return r;
}

int sfu_jwe_rsa_unwrap(const struct sfu_key *key, const uint8_t *ek, size_t ek_len,
                       uint8_t cek[static SFU_JWE_CEK_SIZE]) {
        _cleanup_(sfu_jwe_evp_pkey_ctx_freep) EVP_PKEY_CTX *ctx = NULL;
        uint8_t out[SFU_JWE_MAX_ENCRYPTED_KEY];
        size_t out_len = sizeof(out);
        bool good;

        if (ek_len != (size_t) EVP_PKEY_get_size(key->pkey))
                return -EBADMSG;
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
        if (!ctx)
                return -ENOMEM;
        good = EVP_PKEY_decrypt_init(ctx) == 1 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
               EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx, "SHA256", NULL) == 1 &&
               EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx, "SHA256", NULL) == 1 &&
               EVP_PKEY_decrypt(ctx, out, &out_len, ek, ek_len) == 1 &&
               out_len == SFU_JWE_CEK_SIZE;
        if (good)
                memcpy(cek, out, SFU_JWE_CEK_SIZE);
        OPENSSL_cleanse(out, sizeof(out));
        ERR_clear_error();
        return good ? 0 : -EBADMSG;
}

/* AAD of RFC 7516 5.1 step 14: ASCII(protected) or ASCII(protected '.' aad). */
static char *make_aad(const struct sfu_jwe *jwe, size_t *ret_len) {
        char *aad = NULL;
        int n;

        if (jwe->aad_b64)
                n = asprintf(&aad, "%s.%s", jwe->protected_b64, jwe->aad_b64);
        else
                n = asprintf(&aad, "%s", jwe->protected_b64);
        if (n < 0)
                return NULL;
        *ret_len = (size_t) n;
        return aad;
}

int sfu_jwe_gcm_decrypt(const uint8_t cek[static SFU_JWE_CEK_SIZE], const uint8_t iv[static SFU_JWE_IV_SIZE],
                        const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                        const uint8_t tag[static SFU_JWE_TAG_SIZE], uint8_t **ret) {
        _cleanup_(sfu_jwe_evp_cipher_ctx_freep) EVP_CIPHER_CTX *ctx = NULL;
        uint8_t *out;
        int n = 0, fin = 0;
        bool good;

        ctx = EVP_CIPHER_CTX_new();
        out = malloc(len + 1);
        if (!ctx || !out) {
                free(out);
                return -ENOMEM;
        }
        good = EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
               EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SFU_JWE_IV_SIZE, NULL) == 1 &&
               EVP_DecryptInit_ex2(ctx, NULL, cek, iv, NULL) == 1 &&
               EVP_DecryptUpdate(ctx, NULL, &n, aad, (int) aad_len) == 1 &&
               EVP_DecryptUpdate(ctx, out, &n, in, (int) len) == 1 &&
               EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SFU_JWE_TAG_SIZE, (void *) tag) == 1 &&
               EVP_DecryptFinal_ex(ctx, out + n, &fin) == 1 && (size_t) (n + fin) == len;
        ERR_clear_error();
        if (!good) {
                OPENSSL_cleanse(out, len + 1);
                free(out);
                return -EBADMSG;
        }
        out[len] = 0;
        *ret = out;
        return 0;
}

/* A256GCM decryption of the content. */
static int content_decrypt(const struct sfu_jwe *jwe, const uint8_t cek[static SFU_JWE_CEK_SIZE], uint8_t **ret,
                           size_t *ret_len) {
        _cleanup_free_ char *aad = NULL;
        size_t aad_len = 0;
        int r;

        aad = make_aad(jwe, &aad_len);
        if (!aad)
                return -ENOMEM;
        r = sfu_jwe_gcm_decrypt(cek, jwe->iv, (const uint8_t *) aad, aad_len, jwe->ciphertext, jwe->ciphertext_len,
                                jwe->tag, ret);
        if (r < 0)
                return r;
        *ret_len = jwe->ciphertext_len;
        return 0;
}

static bool key_fits(enum sfu_jwe_alg alg, const struct sfu_key *epk, const struct sfu_key *key) {
        if (!key || !key->pkey || !key->is_private || key->use != SFU_KEY_USE_ENC)
                return false;
        switch (alg) {
        case SFU_JWE_ECDH_ES_A256KW:
                return epk && key->type != SFU_KEY_RSA && key->type == epk->type;
        case SFU_JWE_RSA_OAEP_256:
                return key->type == SFU_KEY_RSA;
        case _SFU_JWE_ALG_MAX:
        default:
                return false;
        }
}

/* "ECDH-ES+A256KW/P-384, RSA-OAEP-256" into buf: what the recipients
 * need, for the message that no key fits (public facts only). */
static const char *describe_recipients(const struct sfu_jwe_recipients_ops *ops, const void *ctx, char *buf,
                                       size_t size) {
        size_t off = 0;

        buf[0] = 0;
        for (size_t i = 0; i < ops->n && off < size; i++) {
                const struct sfu_key *epk = ops->epk(ctx, i);
                int n = snprintf(buf + off, size - off, "%s%s%s%s", i ? ", " : "", sfu_jwe_alg_name(ops->alg(ctx, i)),
                                 epk ? "/" : "", epk ? sfu_key_type_name(epk->type) : "");
                if (n < 0)
                        break;
                off += (size_t) n;
        }
        return buf;
}

int sfu_jwe_decrypt_with(const struct sfu_jwe_recipients_ops *ops, const void *ctx, const struct sfu_keyring *keys,
                         struct sfu_jwe_result *ret, struct sfu_err *err) {
        bool tried[SFU_JWE_MAX_RECIPIENTS][SFU_KEYRING_MAX] = {};
        struct sfu_jwe_result result = {};
        size_t n_keys, fitting = 0;
        char list[160];
        int r;

        if (!ops || !keys || !ret || ops->n > SFU_JWE_MAX_RECIPIENTS)
                return -EINVAL;
        n_keys = keys->n_keys < SFU_KEYRING_MAX ? keys->n_keys : SFU_KEYRING_MAX;
        /* Two rounds: the recipients that name one of the keys, then
         * every recipient whose alg and curve fit a key. */
        for (int round = 0; round < 2; round++)
                for (size_t i = 0; i < ops->n; i++)
                        for (size_t k = 0; k < n_keys; k++) {
                                const struct sfu_key *key = keys->keys[k];
                                if (tried[i][k] || !key_fits(ops->alg(ctx, i), ops->epk(ctx, i), key) ||
                                    (round == 0 && !ops->names(ctx, i, key)))
                                        continue;
                                tried[i][k] = true;
                                fitting++;
                                r = ops->attempt(ctx, i, key, &result);
                                if (r == -ENOMEM)
                                        return r;
                                if (r == 0) {
                                        result.recipient = i;
                                        result.key = key;
                                        *ret = result;
                                        return 0;
                                }
                        }
        if (fitting == 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, ENOKEY,
                                   "no recipient of the %s (%s) fits this device's %zu decryption key(s)", ops->what,
                                   describe_recipients(ops, ctx, list, sizeof(list)), n_keys);
        return sfu_err_set(err, SFU_ERR_SIGNATURE, EBADMSG, NO_FIT);
}

/* The JWE's recipients for sfu_jwe_decrypt_with. */
static enum sfu_jwe_alg jwe_alg(const void *ctx, size_t i) {
        return ((const struct sfu_jwe *) ctx)->recipients[i].alg;
}

static const struct sfu_key *jwe_epk(const void *ctx, size_t i) {
        return ((const struct sfu_jwe *) ctx)->recipients[i].epk;
}

static bool jwe_names(const void *ctx, size_t i, const struct sfu_key *key) {
        const char *kid = ((const struct sfu_jwe *) ctx)->recipients[i].kid;
        return kid && sfu_streq(key->kid, kid);
}

/* One attempt: the content key of recipient i with key, then the content. */
static int jwe_attempt(const void *ctx, size_t i, const struct sfu_key *key, struct sfu_jwe_result *ret) {
        const struct sfu_jwe *jwe = ctx;
        const struct sfu_jwe_recipient *rcpt = &jwe->recipients[i];
        uint8_t cek[SFU_JWE_CEK_SIZE];
        int r;

        r = rcpt->alg == SFU_JWE_RSA_OAEP_256 ? sfu_jwe_rsa_unwrap(key, rcpt->encrypted_key, rcpt->encrypted_key_len, cek)
                                              : unwrap_ecdh(rcpt, key, cek);
        if (r >= 0)
                r = content_decrypt(jwe, cek, &ret->plaintext, &ret->plaintext_len);
        OPENSSL_cleanse(cek, sizeof(cek));
        return r;
}

int sfu_jwe_decrypt(const struct sfu_jwe *jwe, const struct sfu_keyring *keys, struct sfu_jwe_result *ret,
                    struct sfu_err *err) {
        const struct sfu_jwe_recipients_ops ops = {
                .what = "JWE",
                .n = jwe ? jwe->n_recipients : 0,
                .alg = jwe_alg,
                .epk = jwe_epk,
                .names = jwe_names,
                .attempt = jwe_attempt,
        };

        if (!jwe)
                return -EINVAL;
        return sfu_jwe_decrypt_with(&ops, jwe, keys, ret, err);
}

int sfu_jwe_open_manifest(const char *buf, size_t len, const struct sfu_keyring *keys, struct sfu_jwe_result *ret,
                          struct sfu_err *err) {
        _cleanup_jwe_ struct sfu_jwe *jwe = NULL;
        struct sfu_jwe_result res = {};
        enum sfu_signed_form form;
        int r;

        *ret = (struct sfu_jwe_result) {};
        /* as a JWS may, a JWE may end with a newline */
        while (len > 0 && strchr(" \t\r\n", buf[len - 1]))
                len--;
        r = sfu_jwe_parse(buf, len, &jwe, err);
        if (r < 0)
                return r;
        r = sfu_jwe_decrypt(jwe, keys, &res, err);
        if (r < 0)
                return r;
        if (sfu_signed_detect(res.plaintext, res.plaintext_len, &form) < 0)
                r = sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the JWE decrypts, but not to a signed manifest");
        else if (jwe->cty && !sfu_jwe_cty_is(jwe->cty, sfu_signed_media_type(form))) {
                char q[SFU_QUOTE_MAX + 4];
                r = sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the JWE's cty \"%s\" does not name its plaintext, a %s",
                                sfu_quote(jwe->cty, strlen(jwe->cty), q), sfu_signed_form_name(form));
        }
        if (r < 0) {
                sfu_jwe_result_clear(&res);
                return r;
        }
        *ret = res;
        return 0;
}
