/* SPDX-License-Identifier: MIT */
/* COSE_Encrypt for the vendor tool (libsfusign.a): one fresh content key,
 * A256GCM, wrapped for each recipient with ECDH-ES + A256KW (a fresh
 * ephemeral key each, HKDF-SHA-256) or RSA-OAEP-256.  Every map is written
 * with its keys in deterministic order (RFC 8949 section 4.2.1). */
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "core/b64url.h"
#include "core/cbor.h"
#include "core/cose.h"
#include "core/cose-crypt.h"
#include "core/json.h"
#include "core/jwe-internal.h"

static void pkey_freep(EVP_PKEY **p) {
        EVP_PKEY_free(*p);
}

/* A JWK member (base64url) as a CBOR byte string. */
static int write_b64_member(struct sfu_cbor_writer *w, json_t *jwk, const char *name) {
        const char *s = json_string_value(json_object_get(jwk, name));
        _cleanup_free_ uint8_t *raw = NULL;
        size_t len = 0;

        if (!s || sfu_b64url_decode(s, strlen(s), &raw, &len) < 0)
                return -EIO;
        sfu_cbor_write_bytes(w, raw, len);
        return 0;
}

/* The ephemeral public key as a COSE_Key: {1: kty, -1: crv, -2: x, -3: y}
 * (EC2), {1: 1, -1: 4, -2: x} (OKP X25519). */
static int write_cose_key(struct sfu_cbor_writer *w, EVP_PKEY *eph, enum sfu_key_type type) {
        _cleanup_json_ json_t *jwk = NULL;
        bool okp = type == SFU_KEY_X25519;
        int crv = type == SFU_KEY_EC_P256 ? 1 : type == SFU_KEY_EC_P384 ? 2 : type == SFU_KEY_EC_P521 ? 3 : 4;
        int r;

        r = sfu_jwe_epk_jwk(eph, type, &jwk);
        if (r < 0)
                return r;
        sfu_cbor_write_head(w, SFU_CBOR_MAJOR_MAP, okp ? 3 : 4);
        sfu_cbor_write_int(w, 1);
        sfu_cbor_write_int(w, okp ? 1 : 2);
        sfu_cbor_write_int(w, -1);
        sfu_cbor_write_int(w, crv);
        sfu_cbor_write_int(w, -2);
        r = write_b64_member(w, jwk, "x");
        if (r >= 0 && !okp) {
                sfu_cbor_write_int(w, -3);
                r = write_b64_member(w, jwk, "y");
        }
        return r;
}

/* One COSE_recipient into w. */
static int write_recipient(struct sfu_cbor_writer *w, const struct sfu_key *key,
                           const uint8_t cek[static SFU_JWE_CEK_SIZE], bool no_kid, struct sfu_err *err) {
        _cleanup_cbor_writer_ struct sfu_cbor_writer pw = {};
        _cleanup_free_ uint8_t *prot = NULL, *rsa_ek = NULL;
        _cleanup_(pkey_freep) EVP_PKEY *eph = NULL;
        const char *source = key && key->source ? key->source : "recipient";
        uint8_t z[SFU_JWE_ECDH_Z_MAX], kek[32], wrapped[SFU_JWE_WRAPPED_KEY_SIZE];
        size_t prot_len = 0, z_len = 0, ek_len = 0;
        bool rsa, kid;
        int r;

        if (!key || !key->pkey || key->use != SFU_KEY_USE_ENC)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: not a key-management (encryption) key", source);
        switch (key->type) {
        case SFU_KEY_RSA:
                rsa = true;
                break;
        case SFU_KEY_EC_P256:
        case SFU_KEY_EC_P384:
        case SFU_KEY_EC_P521:
        case SFU_KEY_X25519:
                rsa = false;
                break;
        case SFU_KEY_ED25519:
        case SFU_KEY_HSS:
        case _SFU_KEY_TYPE_MAX:
        default:
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: a %s key cannot be a COSE_Encrypt recipient", source,
                                   sfu_key_type_name(key->type));
        }
        kid = !no_kid && key->kid;

        /* protected {1: alg} */
        sfu_cbor_write_head(&pw, SFU_CBOR_MAJOR_MAP, 1);
        sfu_cbor_write_int(&pw, SFU_COSE_LABEL_ALG);
        sfu_cbor_write_int(&pw, rsa ? SFU_COSE_ALG_RSA_OAEP_256 : SFU_COSE_ALG_ECDH_ES_A256KW);
        r = sfu_cbor_writer_finish(&pw, &prot, &prot_len);
        if (r < 0)
                return r;

        if (rsa) {
                r = sfu_jwe_rsa_wrap(key, cek, &rsa_ek, &ek_len);
        } else {
                r = sfu_jwe_ephemeral(key->pkey, &eph, z, &z_len);
                if (r >= 0)
                        r = sfu_cose_crypt_kek(z, z_len, prot, prot_len, kek);
                OPENSSL_cleanse(z, sizeof(z));
                if (r >= 0)
                        r = sfu_jwe_aes_wrap(kek, cek, wrapped);
                OPENSSL_cleanse(kek, sizeof(kek));
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EIO, "%s: wrapping the content key failed", source);

        /* [protected, unprotected {4: kid, -1: COSE_Key}, encrypted key] */
        sfu_cbor_write_head(w, SFU_CBOR_MAJOR_ARRAY, 3);
        sfu_cbor_write_bytes(w, prot, prot_len);
        sfu_cbor_write_head(w, SFU_CBOR_MAJOR_MAP, (uint64_t) kid + !rsa);
        if (kid) {
                sfu_cbor_write_int(w, SFU_COSE_LABEL_KID);
                sfu_cbor_write_bytes(w, key->kid, strlen(key->kid));
        }
        if (!rsa) {
                sfu_cbor_write_int(w, SFU_COSE_LABEL_EPHEMERAL_KEY);
                r = write_cose_key(w, eph, key->type);
                if (r < 0)
                        return r;
                sfu_cbor_write_bytes(w, wrapped, sizeof(wrapped));
        } else
                sfu_cbor_write_bytes(w, rsa_ek, ek_len);
        return 0;
}

static void cek_cleanse(uint8_t (*cek)[SFU_JWE_CEK_SIZE]) {
        OPENSSL_cleanse(*cek, sizeof(*cek));
}

int sfu_cose_crypt_encrypt(const uint8_t *plaintext, size_t len, const struct sfu_key *const *recipients,
                           size_t n_recipients, const char *content_type, bool no_kid, uint8_t **ret,
                           size_t *ret_len, struct sfu_err *err) {
        _cleanup_(cek_cleanse) uint8_t cek[SFU_JWE_CEK_SIZE] = {};
        _cleanup_cbor_writer_ struct sfu_cbor_writer pw = {}, w = {};
        _cleanup_free_ uint8_t *prot = NULL, *aad = NULL, *ct = NULL;
        uint8_t iv[SFU_JWE_IV_SIZE];
        size_t prot_len = 0, aad_len = 0;
        int r;

        if ((!plaintext && len > 0) || !recipients || !ret || !ret_len)
                return -EINVAL;
        if (n_recipients == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "no recipient to encrypt for");
        if (n_recipients > SFU_COSE_CRYPT_MAX_RECIPIENTS)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "%zu recipients; a COSE_Encrypt here has at most %d",
                                   n_recipients, SFU_COSE_CRYPT_MAX_RECIPIENTS);
        if (len == 0 || len > SFU_JWE_MAX_PLAINTEXT)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "plaintext of %zu bytes: 1 to %u bytes can be encrypted",
                                   len, SFU_JWE_MAX_PLAINTEXT);
        if (RAND_priv_bytes(cek, sizeof(cek)) != 1 || RAND_bytes(iv, sizeof(iv)) != 1) {
                ERR_clear_error();
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EIO, "the random number generator failed");
        }

        /* protected {1: A256GCM, 3: content type} */
        sfu_cbor_write_head(&pw, SFU_CBOR_MAJOR_MAP, content_type ? 2 : 1);
        sfu_cbor_write_int(&pw, SFU_COSE_LABEL_ALG);
        sfu_cbor_write_int(&pw, SFU_COSE_ALG_A256GCM);
        if (content_type) {
                sfu_cbor_write_int(&pw, SFU_COSE_LABEL_CONTENT_TYPE);
                sfu_cbor_write_text(&pw, content_type, strlen(content_type));
        }
        r = sfu_cbor_writer_finish(&pw, &prot, &prot_len);
        if (r >= 0)
                r = sfu_cose_crypt_enc_structure(prot, prot_len, &aad, &aad_len);
        if (r < 0)
                return r;
        ct = malloc(len + SFU_JWE_TAG_SIZE);
        if (!ct)
                return -ENOMEM;
        r = sfu_jwe_gcm_encrypt(cek, iv, aad, aad_len, plaintext, len, ct, ct + len);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EIO, "A256GCM encryption failed");

        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_TAG, SFU_COSE_TAG_ENCRYPT);
        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_ARRAY, 4);
        sfu_cbor_write_bytes(&w, prot, prot_len);
        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_MAP, 1);
        sfu_cbor_write_int(&w, SFU_COSE_LABEL_IV);
        sfu_cbor_write_bytes(&w, iv, sizeof(iv));
        sfu_cbor_write_bytes(&w, ct, len + SFU_JWE_TAG_SIZE);
        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_ARRAY, n_recipients);
        for (size_t i = 0; i < n_recipients; i++) {
                r = write_recipient(&w, recipients[i], cek, no_kid, err);
                if (r < 0)
                        return r;
        }
        return sfu_cbor_writer_finish(&w, ret, ret_len);
}
