/* SPDX-License-Identifier: MIT */
/* JWE parse and decrypt (doc/encryption.md, "The JWE profile"). */
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

/* Base64url length of the largest protected header. */
#define JWE_HEADER_B64_MAX ((SFU_JWE_MAX_HEADER + 2) / 3 * 4)
#define JWE_KID_MAX 256
#define JWE_CTY_MAX 256

static const char *const alg_names[_SFU_JWE_ALG_MAX] = {
        [SFU_JWE_ECDH_ES_A256KW] = "ECDH-ES+A256KW",
        [SFU_JWE_RSA_OAEP_256] = "RSA-OAEP-256",
};

const char *sfu_jwe_alg_name(enum sfu_jwe_alg alg) {
        return (unsigned) alg < _SFU_JWE_ALG_MAX ? alg_names[alg] : NULL;
}

const char *sfu_jwe_form_name(enum sfu_jwe_form form) {
        switch (form) {
        case SFU_JWE_COMPACT:
                return "compact";
        case SFU_JWE_FLATTENED:
                return "flattened JSON";
        case SFU_JWE_GENERAL:
                return "general JSON";
        }
        return "unknown";
}

bool sfu_jwe_cty_is(const char *cty, const char *media_type) {
        static const char prefix[] = "application/";
        size_t n = sizeof(prefix) - 1;

        if (!cty || !media_type)
                return false;
        if (strchr(cty, ';') || strchr(cty, ' '))
                return false;
        if (strcasecmp(cty, media_type) == 0)
                return true;
        return !strchr(cty, '/') && strncasecmp(media_type, prefix, n) == 0 &&
               strcasecmp(cty, media_type + n) == 0;
}

/* ---------------------------------------------------------------- freeing */

static void recipient_clear(struct sfu_jwe_recipient *r) {
        if (r->header)
                json_decref(r->header);
        sfu_key_free(r->epk);
        free(r->apu);
        free(r->apv);
        free(r->encrypted_key);
        *r = (struct sfu_jwe_recipient){};
}

void sfu_jwe_free(struct sfu_jwe *jwe) {
        if (!jwe)
                return;
        free(jwe->protected_b64);
        if (jwe->protected_header)
                json_decref(jwe->protected_header);
        if (jwe->shared_header)
                json_decref(jwe->shared_header);
        free(jwe->aad_b64);
        free(jwe->ciphertext);
        for (size_t i = 0; i < jwe->n_recipients; i++)
                recipient_clear(&jwe->recipients[i]);
        free(jwe);
}

void sfu_jwe_result_clear(struct sfu_jwe_result *result) {
        if (!result)
                return;
        if (result->plaintext) {
                OPENSSL_cleanse(result->plaintext, result->plaintext_len);
                free(result->plaintext);
        }
        *result = (struct sfu_jwe_result){};
}

/* ---------------------------------------------------------------- parsing */

bool sfu_jwe_detect(const void *buf, size_t len) {
        const char *s = buf;
        size_t dots = 0, i = 0;

        while (i < len && strchr(" \t\r\n", s[i]) && s[i])
                i++;
        if (i < len && s[i] == '{')
                return memmem(s + i, len - i, "\"ciphertext\"", 12) != NULL;
        for (; i < len; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c == '.')
                        dots++;
                else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                           c == '-' || c == '_' || c == '\n' || c == '\r'))
                        return false;
        }
        return dots == 4;
}

static int decode_b64(const char *where, const char *what, const char *s, size_t len, uint8_t **ret, size_t *ret_len,
                      struct sfu_err *err) {
        int r = sfu_b64url_decode(s, len, ret, ret_len);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s%s is not valid base64url", where, what);
        return 0;
}

/* A header object: its size, and no member that refuses the JWE. */
static int check_header(json_t *h, const char *where, const char *what, struct sfu_err *err) {
        size_t size;

        if (!json_is_object(h))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%sthe JWE %s header is not a JSON object", where, what);
        size = json_dumpb(h, NULL, 0, JSON_COMPACT);
        if (size == 0 || size > SFU_JWE_MAX_HEADER)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "%sthe JWE %s header exceeds the limit of %u bytes",
                                   where, what, SFU_JWE_MAX_HEADER);
        if (json_object_get(h, "zip"))
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EOPNOTSUPP,
                                   "%sthe JWE %s header has \"zip\": compressed plaintext is not accepted", where, what);
        if (json_object_get(h, "crit"))
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EOPNOTSUPP,
                                   "%sthe JWE %s header has \"crit\": no critical extension is understood", where,
                                   what);
        return 0;
}

/* RFC 7516 7.2.1: the member names of the headers must be disjoint. */
static int check_disjoint(json_t *a, const char *what_a, json_t *b, const char *what_b, const char *where,
                          struct sfu_err *err) {
        const char *key;
        json_t *value;

        if (!a || !b)
                return 0;
        json_object_foreach(a, key, value) {
                char q[SFU_QUOTE_MAX + 4];
                (void) value;
                if (json_object_get(b, key))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "%sheader parameter \"%s\" is in both the %s and the %s header", where,
                                           sfu_quote(key, strlen(key), q), what_a, what_b);
        }
        return 0;
}

/* A member of the joint header of recipient r (the headers are
 * disjoint, so at most one holds it). */
static json_t *joint_get(const struct sfu_jwe *jwe, json_t *per_recipient, const char *name) {
        json_t *v = json_object_get(jwe->protected_header, name);

        if (!v && jwe->shared_header)
                v = json_object_get(jwe->shared_header, name);
        if (!v && per_recipient)
                v = json_object_get(per_recipient, name);
        return v;
}

static int parse_alg(const char *where, json_t *v, enum sfu_jwe_alg *ret, struct sfu_err *err) {
        char q[SFU_QUOTE_MAX + 4];
        const char *s;

        if (!v)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%sthe JWE header has no \"alg\"", where);
        if (!json_is_string(v))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%sthe JWE \"alg\" is not a string", where);
        s = json_string_value(v);
        for (size_t i = 0; i < _SFU_JWE_ALG_MAX; i++)
                if (strcmp(s, alg_names[i]) == 0) {
                        *ret = (enum sfu_jwe_alg) i;
                        return 0;
                }
        if (strcmp(s, "dir") == 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EOPNOTSUPP,
                                   "%salg \"dir\" (a content key shared with the device) is not accepted", where);
        if (strcmp(s, "RSA1_5") == 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EOPNOTSUPP,
                                   "%salg \"RSA1_5\" (RSA PKCS#1 v1.5 key transport) is not accepted; use RSA-OAEP-256",
                                   where);
        return sfu_err_set(err, SFU_ERR_SIGNATURE, EOPNOTSUPP,
                           "%salg \"%s\" is not accepted (ECDH-ES+A256KW and RSA-OAEP-256 are)", where,
                           sfu_quote(s, json_string_length(v), q));
}

static int parse_enc(const char *where, json_t *v, struct sfu_err *err) {
        char q[SFU_QUOTE_MAX + 4];

        if (!v)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%sthe JWE header has no \"enc\"", where);
        if (!json_is_string(v))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%sthe JWE \"enc\" is not a string", where);
        if (strcmp(json_string_value(v), "A256GCM") != 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EOPNOTSUPP, "%senc \"%s\" is not accepted (A256GCM is)",
                                   where, sfu_quote(json_string_value(v), json_string_length(v), q));
        return 0;
}

static bool printable_ascii(const char *s, size_t len) {
        if (strlen(s) != len)
                return false;
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e)
                        return false;
        return true;
}

/* "apu" / "apv": base64url of at most SFU_JWE_MAX_PARTY_INFO bytes. */
static int parse_party_info(const char *where, const char *name, json_t *v, uint8_t **ret, size_t *ret_len,
                            struct sfu_err *err) {
        if (!v)
                return 0;
        if (!json_is_string(v))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%sthe JWE \"%s\" is not a string", where, name);
        if (json_string_length(v) > (SFU_JWE_MAX_PARTY_INFO + 2) / 3 * 4)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "%sthe JWE \"%s\" exceeds the limit of %d bytes", where,
                                   name, SFU_JWE_MAX_PARTY_INFO);
        return decode_b64(where, name, json_string_value(v), json_string_length(v), ret, ret_len, err);
}

static int parse_epk(const char *where, json_t *v, struct sfu_key **ret, struct sfu_err *err) {
        json_t *kty;
        int r;

        if (!v)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%sECDH-ES+A256KW needs an \"epk\"", where);
        if (!json_is_object(v))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%sthe JWE \"epk\" is not a JWK object", where);
        kty = json_object_get(v, "kty");
        if (!json_is_string(kty) || (strcmp(json_string_value(kty), "EC") != 0 && strcmp(json_string_value(kty), "OKP") != 0))
                return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                   "%sthe JWE \"epk\" is not an EC or OKP key: key-type mismatch with ECDH-ES+A256KW",
                                   where);
        if (json_object_get(v, "d"))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%sthe JWE \"epk\" holds a private key", where);
        r = sfu_key_from_jwk_for(v, "epk", SFU_KEY_USE_ENC, false, ret, err);
        if (r < 0 && r != -ENOMEM)
                sfu_err_prefix(err, "%sthe JWE \"epk\" is not a usable public key", where);
        return r;
}

/* Fills recipient idx from its header (borrowed, may be NULL) and its
 * encrypted key (base64url, may be NULL). */
static int parse_recipient(struct sfu_jwe *jwe, size_t idx, json_t *header, const char *ek, size_t ek_len,
                           struct sfu_err *err) {
        struct sfu_jwe_recipient *rcpt = &jwe->recipients[idx];
        char where[48] = "";
        json_t *v;
        int r;

        if (jwe->form == SFU_JWE_GENERAL)
                snprintf(where, sizeof(where), "recipient %zu: ", idx + 1);
        if (header) {
                r = check_header(header, where, "per-recipient", err);
                if (r < 0)
                        return r;
                r = check_disjoint(header, "per-recipient", jwe->protected_header, "protected", where, err);
                if (r < 0)
                        return r;
                r = check_disjoint(header, "per-recipient", jwe->shared_header, "shared unprotected", where, err);
                if (r < 0)
                        return r;
                if (json_object_get(header, "cty"))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "%s\"cty\" must be in the protected header (it would not be authenticated)",
                                           where);
                rcpt->header = json_incref(header);
        }

        r = parse_alg(where, joint_get(jwe, header, "alg"), &rcpt->alg, err);
        if (r < 0)
                return r;
        r = parse_enc(where, joint_get(jwe, header, "enc"), err);
        if (r < 0)
                return r;

        v = joint_get(jwe, header, "kid");
        if (v) {
                if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > JWE_KID_MAX ||
                    !printable_ascii(json_string_value(v), json_string_length(v)))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "%sthe JWE \"kid\" must be 1 to %d printable ASCII characters", where,
                                           JWE_KID_MAX);
                rcpt->kid = json_string_value(v);
        }

        if (rcpt->alg == SFU_JWE_ECDH_ES_A256KW) {
                r = parse_epk(where, joint_get(jwe, header, "epk"), &rcpt->epk, err);
                if (r < 0)
                        return r;
                r = parse_party_info(where, "apu", joint_get(jwe, header, "apu"), &rcpt->apu, &rcpt->apu_len, err);
                if (r < 0)
                        return r;
                r = parse_party_info(where, "apv", joint_get(jwe, header, "apv"), &rcpt->apv, &rcpt->apv_len, err);
                if (r < 0)
                        return r;
        }

        if (!ek || ek_len == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s%s needs an encrypted key; the JWE has none", where,
                                   alg_names[rcpt->alg]);
        if (ek_len > (SFU_JWE_MAX_ENCRYPTED_KEY + 2) / 3 * 4)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "%sthe encrypted key exceeds the limit of %d bytes", where,
                                   SFU_JWE_MAX_ENCRYPTED_KEY);
        r = decode_b64(where, "the encrypted key", ek, ek_len, &rcpt->encrypted_key, &rcpt->encrypted_key_len, err);
        if (r < 0)
                return r;
        if (rcpt->alg == SFU_JWE_ECDH_ES_A256KW && rcpt->encrypted_key_len != SFU_JWE_WRAPPED_KEY_SIZE)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "%sthe encrypted key is %zu bytes; an A256KW-wrapped A256GCM key is %d", where,
                                   rcpt->encrypted_key_len, SFU_JWE_WRAPPED_KEY_SIZE);
        return 0;
}

static int parse_protected(struct sfu_jwe *jwe, const char *s, size_t len, struct sfu_err *err) {
        _cleanup_free_ uint8_t *header = NULL;
        size_t header_len = 0;
        int r;

        if (len > JWE_HEADER_B64_MAX)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "the JWE protected header exceeds the limit of %u bytes",
                                   SFU_JWE_MAX_HEADER);
        jwe->protected_b64 = strndup(s, len);
        if (!jwe->protected_b64)
                return -ENOMEM;
        if (len == 0) {
                jwe->protected_header = json_object();
                return jwe->protected_header ? 0 : -ENOMEM;
        }
        r = decode_b64("", "the JWE protected header", s, len, &header, &header_len, err);
        if (r < 0)
                return r;
        r = sfu_json_parse_object((const char *) header, header_len, SFU_JWE_MAX_HEADER, &jwe->protected_header, err);
        if (r < 0) {
                sfu_err_prefix(err, "the JWE protected header");
                return r;
        }
        return check_header(jwe->protected_header, "", "protected", err);
}

/* The fixed-size members: exactly n bytes. */
static int parse_fixed(const char *what, const char *s, size_t len, uint8_t *out, size_t n, struct sfu_err *err) {
        _cleanup_free_ uint8_t *data = NULL;
        size_t data_len = 0;
        int r;

        if (!s || len == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the JWE has no %s", what);
        if (len > 64)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the JWE %s is not %zu bytes (A256GCM)", what, n);
        r = decode_b64("", what, s, len, &data, &data_len, err);
        if (r < 0)
                return r;
        if (data_len != n)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the JWE %s is %zu bytes; A256GCM needs %zu", what,
                                   data_len, n);
        memcpy(out, data, n);
        return 0;
}

static int parse_body(struct sfu_jwe *jwe, const char *iv, size_t iv_len, const char *ct, size_t ct_len,
                      const char *tag, size_t tag_len, struct sfu_err *err) {
        int r;

        r = parse_fixed("IV", iv, iv_len, jwe->iv, SFU_JWE_IV_SIZE, err);
        if (r < 0)
                return r;
        r = parse_fixed("authentication tag", tag, tag_len, jwe->tag, SFU_JWE_TAG_SIZE, err);
        if (r < 0)
                return r;
        if (!ct)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the JWE has no ciphertext");
        if (ct_len > (SFU_JWE_MAX_PLAINTEXT + 2) / 3 * 4)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "the JWE ciphertext exceeds the limit of %u bytes",
                                   SFU_JWE_MAX_PLAINTEXT);
        return decode_b64("", "the JWE ciphertext", ct, ct_len, &jwe->ciphertext, &jwe->ciphertext_len, err);
}

static int parse_compact(struct sfu_jwe *jwe, const char *buf, size_t len, struct sfu_err *err) {
        const char *part[5];
        size_t part_len[5], n = 0, start = 0;
        int r;

        for (size_t i = 0; i <= len; i++)
                if (i == len || buf[i] == '.') {
                        if (n < 5) {
                                part[n] = buf + start;
                                part_len[n] = i - start;
                        }
                        n++;
                        start = i + 1;
                }
        if (n != 5)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "a compact JWE has 5 segments separated by '.', this has %zu", n);
        jwe->form = SFU_JWE_COMPACT;
        if (part_len[0] == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the JWE protected header is empty");
        r = parse_protected(jwe, part[0], part_len[0], err);
        if (r < 0)
                return r;
        /* The headers first, so that a refused alg or enc is named as
         * such and not by a symptom (a CBC IV's size). */
        jwe->n_recipients = 1;
        r = parse_recipient(jwe, 0, NULL, part[1], part_len[1], err);
        if (r < 0)
                return r;
        return parse_body(jwe, part[2], part_len[2], part[3], part_len[3], part[4], part_len[4], err);
}

/* A string member of a JWE JSON object; -ENOENT when absent. */
static int member_string(json_t *obj, const char *where, const char *name, const char **ret, size_t *ret_len,
                         struct sfu_err *err) {
        json_t *v = json_object_get(obj, name);

        if (!v)
                return -ENOENT;
        if (!json_is_string(v))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%sJWE member \"%s\" is not a string", where, name);
        *ret = json_string_value(v);
        *ret_len = json_string_length(v);
        return 0;
}

/* member_string for an optional member: *ret stays NULL when absent. */
static int optional_string(json_t *obj, const char *where, const char *name, const char **ret, size_t *ret_len,
                           struct sfu_err *err) {
        int r = member_string(obj, where, name, ret, ret_len, err);
        return r == -ENOENT ? 0 : r;
}

static int parse_json(struct sfu_jwe *jwe, const char *buf, size_t len, struct sfu_err *err) {
        _cleanup_json_ json_t *root = NULL;
        const char *prot = "", *iv = NULL, *ct = NULL, *tag = NULL, *aad = NULL, *ek = NULL;
        size_t prot_len = 0, iv_len = 0, ct_len = 0, tag_len = 0, aad_len = 0, ek_len = 0;
        json_t *recipients, *shared, *header;
        int r;

        r = sfu_json_parse_object(buf, len, SFU_JWE_MAX_SIZE, &root, err);
        if (r < 0) {
                sfu_err_prefix(err, "JWE");
                return r;
        }
        recipients = json_object_get(root, "recipients");
        header = json_object_get(root, "header");
        if (recipients && (header || json_object_get(root, "encrypted_key")))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "the JWE mixes the general (\"recipients\") and the flattened (\"header\", "
                                   "\"encrypted_key\") serialization");
        jwe->form = recipients ? SFU_JWE_GENERAL : SFU_JWE_FLATTENED;

        if ((r = optional_string(root, "", "protected", &prot, &prot_len, err)) < 0 ||
            (r = optional_string(root, "", "iv", &iv, &iv_len, err)) < 0 ||
            (r = optional_string(root, "", "ciphertext", &ct, &ct_len, err)) < 0 ||
            (r = optional_string(root, "", "tag", &tag, &tag_len, err)) < 0 ||
            (r = optional_string(root, "", "aad", &aad, &aad_len, err)) < 0 ||
            (r = optional_string(root, "", "encrypted_key", &ek, &ek_len, err)) < 0)
                return r;
        if (json_object_get(root, "protected") && prot_len == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the JWE \"protected\" member is empty");
        r = parse_protected(jwe, prot, prot_len, err);
        if (r < 0)
                return r;

        shared = json_object_get(root, "unprotected");
        if (shared) {
                r = check_header(shared, "", "shared unprotected", err);
                if (r < 0)
                        return r;
                r = check_disjoint(shared, "shared unprotected", jwe->protected_header, "protected", "", err);
                if (r < 0)
                        return r;
                if (json_object_get(shared, "cty"))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "\"cty\" must be in the protected header (it would not be authenticated)");
                jwe->shared_header = json_incref(shared);
        }

        if (aad) {
                _cleanup_free_ uint8_t *decoded = NULL;
                size_t decoded_len = 0;

                if (aad_len > SFU_JWE_MAX_AAD)
                        return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "the JWE \"aad\" exceeds the limit of %u characters",
                                           SFU_JWE_MAX_AAD);
                r = decode_b64("", "the JWE \"aad\"", aad, aad_len, &decoded, &decoded_len, err);
                if (r < 0)
                        return r;
                jwe->aad_b64 = strndup(aad, aad_len);
                if (!jwe->aad_b64)
                        return -ENOMEM;
        }

        if (!recipients) {
                jwe->n_recipients = 1;
                r = parse_recipient(jwe, 0, header, ek, ek_len, err);
                if (r < 0)
                        return r;
                return parse_body(jwe, iv, iv_len, ct, ct_len, tag, tag_len, err);
        }
        if (!json_is_array(recipients))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "JWE member \"recipients\" is not an array");
        if (json_array_size(recipients) == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the JWE has no recipients");
        if (json_array_size(recipients) > SFU_JWE_MAX_RECIPIENTS)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "the JWE has %zu recipients, more than the limit of %d",
                                   json_array_size(recipients), SFU_JWE_MAX_RECIPIENTS);
        for (size_t i = 0; i < json_array_size(recipients); i++) {
                json_t *rcpt = json_array_get(recipients, i);
                char where[48];

                snprintf(where, sizeof(where), "recipient %zu: ", i + 1);
                if (!json_is_object(rcpt))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%sis not a JSON object", where);
                ek = NULL;
                ek_len = 0;
                r = optional_string(rcpt, where, "encrypted_key", &ek, &ek_len, err);
                if (r < 0)
                        return r;
                jwe->n_recipients = i + 1;
                r = parse_recipient(jwe, i, json_object_get(rcpt, "header"), ek, ek_len, err);
                if (r < 0)
                        return r;
        }
        return parse_body(jwe, iv, iv_len, ct, ct_len, tag, tag_len, err);
}

int sfu_jwe_parse(const char *buf, size_t len, struct sfu_jwe **ret, struct sfu_err *err) {
        _cleanup_jwe_ struct sfu_jwe *jwe = NULL;
        json_t *cty;
        size_t i = 0;
        int r;

        if (!buf && len > 0)
                return -EINVAL;
        if (len > SFU_JWE_MAX_SIZE)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "JWE of %zu bytes exceeds the limit of %u bytes", len,
                                   SFU_JWE_MAX_SIZE);
        if (len == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the JWE is empty");
        if (memchr(buf, 0, len))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the JWE contains a NUL byte");
        jwe = calloc(1, sizeof(*jwe));
        if (!jwe)
                return -ENOMEM;
        while (i < len && strchr(" \t\r\n", buf[i]))
                i++;
        r = i < len && buf[i] == '{' ? parse_json(jwe, buf, len, err) : parse_compact(jwe, buf, len, err);
        if (r < 0)
                return r;

        cty = json_object_get(jwe->protected_header, "cty");
        if (cty) {
                if (!json_is_string(cty) || json_string_length(cty) == 0 || json_string_length(cty) > JWE_CTY_MAX ||
                    !printable_ascii(json_string_value(cty), json_string_length(cty)))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "the JWE \"cty\" must be 1 to %d printable ASCII characters", JWE_CTY_MAX);
                jwe->cty = json_string_value(cty);
        }
        *ret = TAKE_PTR(jwe);
        return 0;
}

int sfu_jwe_recipients_to_json(const struct sfu_jwe *jwe, json_t **ret) {
        _cleanup_json_ json_t *list = json_array();

        if (!jwe || !list)
                return -ENOMEM;
        for (size_t i = 0; i < jwe->n_recipients; i++) {
                const struct sfu_jwe_recipient *rcpt = &jwe->recipients[i];
                json_t *entry = json_object();

                if (json_array_append_new(list, entry) < 0 ||
                    json_object_set_new(entry, "alg", json_string(alg_names[rcpt->alg])) < 0)
                        return -ENOMEM;
                if (rcpt->kid && json_object_set_new(entry, "kid", json_string(rcpt->kid)) < 0)
                        return -ENOMEM;
                if (rcpt->epk &&
                    json_object_set_new(entry, "crv", json_string(sfu_key_type_name(rcpt->epk->type))) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(list);
        return 0;
}
