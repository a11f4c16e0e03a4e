/* SPDX-License-Identifier: MIT */
/* COSE_Encrypt: parsing under the rules of cose-crypt.h, the recipients'
 * key management (shared with the JWE code: jwe-internal.h) and the
 * opened manifest (doc/encryption.md). */
#include <inttypes.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/core_names.h>

#include "core/b64url.h"
#include "core/cbor.h"
#include "core/cose.h"
#include "core/cose-crypt.h"
#include "core/json.h"
#include "core/jwe-internal.h"
#include "core/signed.h"

/* COSE_Key (RFC 9052 section 7) labels and values. */
#define KEY_KTY 1
#define KEY_CRV (-1)
#define KEY_X (-2)
#define KEY_Y (-3)
#define KEY_D (-4)
#define KTY_OKP 1
#define KTY_EC2 2

bool sfu_cose_crypt_detect(const void *buf, size_t len) {
        const uint8_t *p = buf;

        if (!buf || len == 0)
                return false;
        return p[0] == 0xd0 || (len >= 2 && p[0] == 0xd8 && p[1] == SFU_COSE_TAG_ENCRYPT);
}

void sfu_cose_crypt_free(struct sfu_cose_crypt *ce) {
        if (!ce)
                return;
        for (size_t i = 0; i < ce->n_recipients; i++)
                sfu_key_free(ce->recipients[i].epk);
        free(ce->buf);
        free(ce);
}

/* ---------------------------------------------------------------- headers */

/* What one layer's headers say about the parameters we act on. */
struct layer {
        bool has_alg, alg_protected;
        int64_t alg;
        const struct sfu_cbor_item *kid, *iv, *epk, *content_type;
        bool content_type_protected;
};

static bool label_int(const struct sfu_cbor_item *key, int64_t *ret) {
        return (key->type == SFU_CBOR_UINT || key->type == SFU_CBOR_NEGINT) && sfu_cbor_get_int(key, ret);
}

static bool same_label(const struct sfu_cbor_item *a, const struct sfu_cbor_item *b, const uint8_t *abase,
                       const uint8_t *bbase) {
        return a->size == b->size && memcmp(abase + a->offset, bbase + b->offset, a->size) == 0;
}

/* Reads one header map (protected: decoded separately, its items in pbase;
 * else in the outer document).  where: "the COSE_Encrypt" or
 * "recipient 2". */
static int read_map(const struct sfu_cbor_item *map, bool is_protected, const char *where, struct layer *l,
                    struct sfu_err *err) {
        const char *bucket = is_protected ? "protected" : "unprotected";
        const struct sfu_cbor_item *key = map + 1;

        for (uint64_t i = 0; i < map->value; i++) {
                const struct sfu_cbor_item *value = sfu_cbor_next(key);
                int64_t label;

                if (key->type == SFU_CBOR_TEXT) {
                        key = sfu_cbor_next(value);
                        continue; /* private-use text labels: not ours */
                }
                if (!label_int(key, &label))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "%s: a label of the %s header is %s; labels are integers or text strings",
                                           where, bucket, sfu_cbor_type_name(key->type));
                switch (label) {
                case SFU_COSE_LABEL_ALG:
                        if (!sfu_cbor_get_int(value, &l->alg))
                                return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL,
                                                   "%s: \"alg\" (1) is %s, not one of the supported algorithms",
                                                   where, sfu_cbor_type_name(value->type));
                        l->has_alg = true;
                        l->alg_protected = is_protected;
                        break;
                case SFU_COSE_LABEL_CRIT:
                        return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL,
                                           "%s: \"crit\" (2) names parameters this device does not understand; refused",
                                           where);
                case SFU_COSE_LABEL_CONTENT_TYPE:
                        if (value->type != SFU_CBOR_UINT && value->type != SFU_CBOR_TEXT)
                                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG,
                                                   "%s: \"content type\" (3) is %s, not a text string or an unsigned integer",
                                                   where, sfu_cbor_type_name(value->type));
                        l->content_type = value;
                        l->content_type_protected = is_protected;
                        break;
                case SFU_COSE_LABEL_KID:
                        if (value->type != SFU_CBOR_BYTES)
                                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "%s: \"kid\" (4) is %s, not a byte string",
                                                   where, sfu_cbor_type_name(value->type));
                        l->kid = value;
                        break;
                case SFU_COSE_LABEL_IV:
                        if (value->type != SFU_CBOR_BYTES || value->value != SFU_JWE_IV_SIZE)
                                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "%s: the IV (5) must be %d bytes",
                                                   where, SFU_JWE_IV_SIZE);
                        l->iv = value;
                        break;
                case SFU_COSE_LABEL_PARTIAL_IV:
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "%s: a Partial IV (6) implies a key shared with the sender; refused", where);
                case SFU_COSE_LABEL_EPHEMERAL_KEY:
                        if (value->type != SFU_CBOR_MAP)
                                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG,
                                                   "%s: the ephemeral key (-1) is %s, not a COSE_Key map", where,
                                                   sfu_cbor_type_name(value->type));
                        l->epk = value;
                        break;
                case -2:
                case -3:
                        return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL,
                                           "%s: a static sender key (%" PRId64 ", ECDH-SS) is not supported", where,
                                           label);
                case -26:
                case -25:
                case -24:
                case -23:
                case -22:
                case -21:
                case -20:
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "%s: header parameter %" PRId64 " (salt or party information) is not supported",
                                           where, label);
                default:
                        break; /* not ours, not critical */
                }
                key = sfu_cbor_next(value);
        }
        return 0;
}

/* One layer: prot (a bstr item of doc) and unprot (a map item of doc).
 * The decoded protected map is kept in *ret_pmap (items point into doc's
 * buffer). */
static int read_layer(const uint8_t *base, const struct sfu_cbor_item *prot, const struct sfu_cbor_item *unprot,
                      const char *where, struct layer *l, struct sfu_cbor **ret_pmap, struct sfu_err *err) {
        const struct sfu_cbor_limits limits = { .max_size = SFU_COSE_CRYPT_MAX_HEADER };
        _cleanup_cbor_ struct sfu_cbor *pmap = NULL;
        int r;

        if (prot->type != SFU_CBOR_BYTES)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: the protected header is %s, not a byte string", where,
                                   sfu_cbor_type_name(prot->type));
        if (unprot->type != SFU_CBOR_MAP)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: the unprotected header is %s, not a map", where,
                                   sfu_cbor_type_name(unprot->type));
        if (prot->value > SFU_COSE_CRYPT_MAX_HEADER)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "%s: the protected header exceeds %u bytes", where,
                                   SFU_COSE_CRYPT_MAX_HEADER);
        *l = (struct layer) {};
        if (prot->value > 0) {
                r = sfu_cbor_decode(prot->data, (size_t) prot->value, &limits, &pmap, err);
                if (r < 0) {
                        sfu_err_prefix(err, "%s: the protected header", where);
                        return r;
                }
                if (sfu_cbor_root(pmap)->type != SFU_CBOR_MAP)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: the protected header is not a map", where);
                r = read_map(sfu_cbor_root(pmap), true, where, l, err);
                if (r < 0)
                        return r;
                /* A label in both buckets is refused (RFC 9052 section 3). */
                for (const struct sfu_cbor_item *k = unprot + 1; k < sfu_cbor_next(unprot);
                     k = sfu_cbor_next(sfu_cbor_next(k)))
                        for (const struct sfu_cbor_item *pk = sfu_cbor_root(pmap) + 1;
                             pk < sfu_cbor_next(sfu_cbor_root(pmap)); pk = sfu_cbor_next(sfu_cbor_next(pk)))
                                if (same_label(k, pk, base, prot->data))
                                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                                           "%s: a label is in both the protected and the unprotected header",
                                                           where);
        }
        r = read_map(unprot, false, where, l, err);
        if (r < 0)
                return r;
        *ret_pmap = TAKE_PTR(pmap);
        return 0;
}

/* ---------------------------------------------------------------- keys */

static int json_b64(json_t *obj, const char *name, const struct sfu_cbor_item *v) {
        char *s = sfu_b64url_encode(v->data, (size_t) v->value);
        int r;

        if (!s)
                return -ENOMEM;
        r = json_object_set_new(obj, name, json_string(s)) < 0 ? -ENOMEM : 0;
        free(s);
        return r;
}

/* The ephemeral COSE_Key as a public key: through its JWK equivalent, so
 * that it is checked exactly as a JWE's "epk" is. */
static int parse_epk(const struct sfu_cbor_item *map, const char *where, struct sfu_key **ret, struct sfu_err *err) {
        static const char *const curves[] = { [1] = "P-256", [2] = "P-384", [3] = "P-521", [4] = "X25519" };
        const struct sfu_cbor_item *kty = sfu_cbor_map_get_int(map, KEY_KTY), *crv = sfu_cbor_map_get_int(map, KEY_CRV),
                                   *x = sfu_cbor_map_get_int(map, KEY_X), *y = sfu_cbor_map_get_int(map, KEY_Y);
        _cleanup_json_ json_t *jwk = json_object();
        int64_t kty_v = 0, crv_v = 0;
        int r;

        if (!jwk)
                return -ENOMEM;
        if (sfu_cbor_map_get_int(map, KEY_D))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: the ephemeral key holds a private key", where);
        if (!kty || !sfu_cbor_get_int(kty, &kty_v) || (kty_v != KTY_OKP && kty_v != KTY_EC2))
                return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                   "%s: the ephemeral key is not an EC2 or OKP key: key-type mismatch with ECDH-ES + A256KW",
                                   where);
        if (!crv || !sfu_cbor_get_int(crv, &crv_v) || crv_v < 1 || crv_v > 4 || (crv_v == 4) != (kty_v == KTY_OKP))
                return sfu_err_set(err, SFU_ERR_PARSE, EKEYREJECTED,
                                   "%s: the ephemeral key's curve is not P-256, P-384, P-521 or X25519", where);
        if (!x || x->type != SFU_CBOR_BYTES || (kty_v == KTY_EC2 && (!y || y->type != SFU_CBOR_BYTES)))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "%s: the ephemeral key needs its coordinates as byte strings (x%s; compressed points are not supported)",
                                   where, kty_v == KTY_EC2 ? " and y" : "");
        if (json_object_set_new(jwk, "kty", json_string(kty_v == KTY_OKP ? "OKP" : "EC")) < 0 ||
            json_object_set_new(jwk, "crv", json_string(curves[crv_v])) < 0 || json_b64(jwk, "x", x) < 0 ||
            (kty_v == KTY_EC2 && json_b64(jwk, "y", y) < 0))
                return -ENOMEM;
        r = sfu_key_from_jwk_for(jwk, "ephemeral key", SFU_KEY_USE_ENC, false, ret, err);
        if (r < 0 && r != -ENOMEM)
                sfu_err_prefix(err, "%s: the ephemeral key is not a usable public key", where);
        return r;
}

/* ---------------------------------------------------------------- parsing */

static int parse_recipient(struct sfu_cose_crypt *ce, size_t idx, const struct sfu_cbor_item *it,
                           struct sfu_err *err) {
        struct sfu_cose_crypt_recipient *rcpt = &ce->recipients[idx];
        _cleanup_cbor_ struct sfu_cbor *pmap = NULL;
        const struct sfu_cbor_item *prot, *unprot, *ek;
        struct layer l;
        char where[32];
        int r;

        snprintf(where, sizeof(where), "recipient %zu", idx + 1);
        if (it->type != SFU_CBOR_ARRAY || (it->value != 3 && it->value != 4))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s is not a COSE_recipient (an array of 3)", where);
        if (it->value == 4)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s has recipients of its own; nested layers are refused",
                                   where);
        prot = it + 1;
        unprot = sfu_cbor_next(prot);
        ek = sfu_cbor_next(unprot);
        r = read_layer(ce->buf, prot, unprot, where, &l, &pmap, err);
        if (r < 0)
                return r;
        if (!l.has_alg)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL, "%s has no \"alg\" (1)", where);
        switch (l.alg) {
        case SFU_COSE_ALG_ECDH_ES_A256KW:
                rcpt->alg = SFU_JWE_ECDH_ES_A256KW;
                break;
        case SFU_COSE_ALG_RSA_OAEP_256:
                rcpt->alg = SFU_JWE_RSA_OAEP_256;
                break;
        case SFU_COSE_ALG_DIRECT:
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL,
                                   "%s: alg \"direct\" (-6) uses a key shared by every device; refused", where);
        default:
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL,
                                   "%s: alg %" PRId64 " is not supported (ECDH-ES + A256KW is -31, RSA-OAEP-256 -41)",
                                   where, l.alg);
        }
        if (l.content_type)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: a content type (3) belongs to the outer layer", where);
        if (l.iv)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: an IV (5) has no use in a key-management layer",
                                   where);
        if (rcpt->alg == SFU_JWE_ECDH_ES_A256KW) {
                if (!l.epk)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: ECDH-ES + A256KW needs an ephemeral key (-1)",
                                           where);
                r = parse_epk(l.epk, where, &rcpt->epk, err);
                if (r < 0)
                        return r;
        } else if (l.epk)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: an ephemeral key (-1) has no use with RSA-OAEP-256",
                                   where);
        if (ek->type != SFU_CBOR_BYTES || ek->value == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: the encrypted key is %s, not a non-empty byte string",
                                   where, ek->type == SFU_CBOR_NULL ? "nil" : sfu_cbor_type_name(ek->type));
        if (rcpt->alg == SFU_JWE_ECDH_ES_A256KW && ek->value != SFU_JWE_WRAPPED_KEY_SIZE)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "%s: the wrapped key is %" PRIu64 " bytes; A256KW of the content key is %d", where,
                                   ek->value, SFU_JWE_WRAPPED_KEY_SIZE);
        if (ek->value > SFU_JWE_MAX_ENCRYPTED_KEY)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "%s: the encrypted key exceeds %d bytes", where,
                                   SFU_JWE_MAX_ENCRYPTED_KEY);
        rcpt->encrypted_key = ek->data;
        rcpt->encrypted_key_len = (size_t) ek->value;
        rcpt->protected_bytes = prot->data;
        rcpt->protected_len = (size_t) prot->value;
        if (l.kid) {
                rcpt->kid = l.kid->data;
                rcpt->kid_len = (size_t) l.kid->value;
        }
        return 0;
}

static int check_tag(const struct sfu_cbor *c, struct sfu_err *err) {
        if (!c->tagged)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the COSE structure has no tag: COSE_Encrypt needs tag 96");
        if (c->tag == SFU_COSE_TAG_ENCRYPT0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL,
                                   "COSE_Encrypt0 (tag 16) uses a key shared by every device; refused "
                                   "(a COSE_Encrypt has a recipient per device or device class)");
        if (c->tag != SFU_COSE_TAG_ENCRYPT)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "CBOR tag %" PRIu64 " is not a COSE_Encrypt (tag 96)",
                                   c->tag);
        return 0;
}

static void set_content_type(struct sfu_cose_crypt *ce, const struct sfu_cbor_item *ct) {
        ce->has_content_type = true;
        ce->content_type_is_text = ct->type == SFU_CBOR_TEXT;
        if (ce->content_type_is_text) {
                sfu_quote((const char *) ct->data, (size_t) ct->value, ce->content_type);
                ce->content_type_raw = ct->data;
                ce->content_type_len = (size_t) ct->value;
        } else
                ce->content_format = ct->value;
}

int sfu_cose_crypt_parse(const uint8_t *buf, size_t len, struct sfu_cose_crypt **ret, struct sfu_err *err) {
        _cleanup_cose_crypt_ struct sfu_cose_crypt *ce = NULL;
        _cleanup_cbor_ struct sfu_cbor *c = NULL, *pmap = NULL;
        const struct sfu_cbor_limits limits = {
                .max_size = SFU_COSE_CRYPT_MAX_SIZE,
                .max_items = SFU_COSE_CRYPT_MAX_ITEMS,
                .allow_tag = true,
        };
        const struct sfu_cbor_item *root, *prot, *unprot, *ct, *list;
        struct layer l;
        int r;

        if (!buf && len > 0)
                return -EINVAL;
        if (len > SFU_COSE_CRYPT_MAX_SIZE)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "COSE_Encrypt of %zu bytes exceeds the limit of %u bytes",
                                   len, SFU_COSE_CRYPT_MAX_SIZE);
        if (len == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "empty input is not a COSE_Encrypt");
        ce = calloc(1, sizeof(*ce));
        if (!ce)
                return -ENOMEM;
        ce->buf = malloc(len);
        if (!ce->buf)
                return -ENOMEM;
        memcpy(ce->buf, buf, len);
        ce->len = len;

        r = sfu_cbor_decode(ce->buf, len, &limits, &c, err);
        if (r < 0) {
                sfu_err_prefix(err, "COSE_Encrypt");
                return r;
        }
        r = check_tag(c, err);
        if (r < 0)
                return r;
        root = sfu_cbor_root(c);
        if (root->type != SFU_CBOR_ARRAY || root->value != 4)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the COSE_Encrypt is not an array of 4");
        prot = root + 1;
        unprot = sfu_cbor_next(prot);
        ct = sfu_cbor_next(unprot);
        list = sfu_cbor_next(ct);

        r = read_layer(ce->buf, prot, unprot, "the COSE_Encrypt", &l, &pmap, err);
        if (r < 0)
                return r;
        if (!l.has_alg)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL, "the COSE_Encrypt has no \"alg\" (1)");
        if (l.alg != SFU_COSE_ALG_A256GCM)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL,
                                   "the COSE_Encrypt's alg %" PRId64 " is not A256GCM (3), the only content encryption here",
                                   l.alg);
        if (!l.alg_protected)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL,
                                   "the COSE_Encrypt's alg is in the unprotected header; it must be protected");
        if (l.content_type && !l.content_type_protected)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "the COSE_Encrypt's content type (3) is in the unprotected header; it must be protected");
        if (!l.iv)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the COSE_Encrypt has no IV (5)");
        if (l.epk)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the COSE_Encrypt's outer layer has an ephemeral key (-1)");
        memcpy(ce->iv, l.iv->data, SFU_JWE_IV_SIZE);
        if (l.content_type)
                set_content_type(ce, l.content_type);
        ce->protected_bytes = prot->data;
        ce->protected_len = (size_t) prot->value;

        if (ct->type == SFU_CBOR_NULL)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the COSE_Encrypt's ciphertext is nil (detached is refused)");
        if (ct->type != SFU_CBOR_BYTES)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the COSE_Encrypt's ciphertext is %s, not a byte string",
                                   sfu_cbor_type_name(ct->type));
        if (ct->value <= SFU_JWE_TAG_SIZE)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "the COSE_Encrypt's ciphertext is %" PRIu64 " bytes: no room for a manifest and the %d-byte tag",
                                   ct->value, SFU_JWE_TAG_SIZE);
        if (ct->value - SFU_JWE_TAG_SIZE > SFU_JWE_MAX_PLAINTEXT)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "the COSE_Encrypt's plaintext would exceed %u bytes",
                                   SFU_JWE_MAX_PLAINTEXT);
        ce->ciphertext = ct->data;
        ce->ciphertext_len = (size_t) ct->value - SFU_JWE_TAG_SIZE;
        ce->tag = ct->data + ce->ciphertext_len;

        if (list->type != SFU_CBOR_ARRAY || list->value == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the COSE_Encrypt's recipients are not a non-empty array");
        if (list->value > SFU_COSE_CRYPT_MAX_RECIPIENTS)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "the COSE_Encrypt has %" PRIu64 " recipients; at most %d",
                                   list->value, SFU_COSE_CRYPT_MAX_RECIPIENTS);
        for (const struct sfu_cbor_item *it = list + 1; it < sfu_cbor_next(list); it = sfu_cbor_next(it)) {
                r = parse_recipient(ce, ce->n_recipients, it, err);
                /* counted even when it failed half-way: free() sees its key */
                ce->n_recipients++;
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(ce);
        return 0;
}

/* ---------------------------------------------------------------- structures */

int sfu_cose_crypt_enc_structure(const uint8_t *protected_bytes, size_t protected_len, uint8_t **ret,
                                 size_t *ret_len) {
        _cleanup_cbor_writer_ struct sfu_cbor_writer w = {};

        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_ARRAY, 3);
        sfu_cbor_write_text(&w, "Encrypt", 7);
        sfu_cbor_write_bytes(&w, protected_bytes, protected_len);
        sfu_cbor_write_bytes(&w, "", 0);
        return sfu_cbor_writer_finish(&w, ret, ret_len);
}

int sfu_cose_crypt_kdf_context(const uint8_t *protected_bytes, size_t protected_len, uint8_t **ret,
                               size_t *ret_len) {
        _cleanup_cbor_writer_ struct sfu_cbor_writer w = {};

        /* [AlgorithmID, PartyUInfo, PartyVInfo, SuppPubInfo] */
        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_ARRAY, 4);
        sfu_cbor_write_int(&w, SFU_COSE_ALG_A256KW);
        for (int party = 0; party < 2; party++) {
                /* [identity, nonce, other]: all nil */
                sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_ARRAY, 3);
                for (int i = 0; i < 3; i++)
                        sfu_cbor_write_simple(&w, SFU_CBOR_NULL);
        }
        /* [keyDataLength, protected] */
        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_ARRAY, 2);
        sfu_cbor_write_int(&w, 256);
        sfu_cbor_write_bytes(&w, protected_bytes, protected_len);
        return sfu_cbor_writer_finish(&w, ret, ret_len);
}

int sfu_cose_crypt_kek(const uint8_t *z, size_t z_len, const uint8_t *protected_bytes, size_t protected_len,
                       uint8_t kek[static 32]) {
        _cleanup_free_ uint8_t *info = NULL;
        EVP_KDF *kdf = NULL;
        EVP_KDF_CTX *ctx = NULL;
        size_t info_len = 0;
        OSSL_PARAM params[4];
        bool good;
        int r;

        r = sfu_cose_crypt_kdf_context(protected_bytes, protected_len, &info, &info_len);
        if (r < 0)
                return r;
        kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
        ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
        EVP_KDF_free(kdf);
        if (!ctx) {
                ERR_clear_error();
                return -ENOMEM;
        }
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *) "SHA256", 0);
        params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *) z, z_len);
        params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, info_len);
        params[3] = OSSL_PARAM_construct_end();
        good = EVP_KDF_derive(ctx, kek, 32, params) == 1;
        /* the context held Z */
        EVP_KDF_CTX_free(ctx);
        ERR_clear_error();
        return good ? 0 : -EIO;
}

/* ---------------------------------------------------------------- decryption */

/* The COSE_Encrypt's recipients for sfu_jwe_decrypt_with. */
static enum sfu_jwe_alg ce_alg(const void *ctx, size_t i) {
        return ((const struct sfu_cose_crypt *) ctx)->recipients[i].alg;
}

static const struct sfu_key *ce_epk(const void *ctx, size_t i) {
        return ((const struct sfu_cose_crypt *) ctx)->recipients[i].epk;
}

/* A kid (bytes) names a device key whose kid has exactly these bytes. */
static bool ce_names(const void *ctx, size_t i, const struct sfu_key *key) {
        const struct sfu_cose_crypt_recipient *rcpt = &((const struct sfu_cose_crypt *) ctx)->recipients[i];
        return rcpt->kid && key->kid && strlen(key->kid) == rcpt->kid_len &&
               memcmp(key->kid, rcpt->kid, rcpt->kid_len) == 0;
}

static int unwrap(const struct sfu_cose_crypt_recipient *rcpt, const struct sfu_key *key,
                  uint8_t cek[static SFU_JWE_CEK_SIZE]) {
        uint8_t z[SFU_JWE_ECDH_Z_MAX], kek[32];
        size_t z_len = 0;
        int r;

        if (rcpt->alg == SFU_JWE_RSA_OAEP_256)
                return sfu_jwe_rsa_unwrap(key, rcpt->encrypted_key, rcpt->encrypted_key_len, cek);
        r = sfu_jwe_ecdh(key->pkey, rcpt->epk->pkey, z, &z_len);
        if (r < 0)
                return r;
        r = sfu_cose_crypt_kek(z, z_len, rcpt->protected_bytes, rcpt->protected_len, kek);
        OPENSSL_cleanse(z, sizeof(z));
        if (r < 0)
                return r;
        r = sfu_jwe_aes_unwrap(kek, rcpt->encrypted_key, rcpt->encrypted_key_len, cek);
        OPENSSL_cleanse(kek, sizeof(kek));
        return r;
}

static int ce_attempt(const void *ctx, size_t i, const struct sfu_key *key, struct sfu_jwe_result *ret) {
        const struct sfu_cose_crypt *ce = ctx;
        _cleanup_free_ uint8_t *aad = NULL;
        uint8_t cek[SFU_JWE_CEK_SIZE];
        size_t aad_len = 0;
        int r;

        r = sfu_cose_crypt_enc_structure(ce->protected_bytes, ce->protected_len, &aad, &aad_len);
        if (r < 0)
                return r;
        r = unwrap(&ce->recipients[i], key, cek);
        if (r >= 0)
                r = sfu_jwe_gcm_decrypt(cek, ce->iv, aad, aad_len, ce->ciphertext, ce->ciphertext_len, ce->tag,
                                        &ret->plaintext);
        OPENSSL_cleanse(cek, sizeof(cek));
        if (r < 0)
                return r;
        ret->plaintext_len = ce->ciphertext_len;
        return 0;
}

int sfu_cose_crypt_decrypt(const struct sfu_cose_crypt *ce, const struct sfu_keyring *keys,
                           struct sfu_jwe_result *ret, struct sfu_err *err) {
        const struct sfu_jwe_recipients_ops ops = {
                .what = "COSE_Encrypt",
                .n = ce ? ce->n_recipients : 0,
                .alg = ce_alg,
                .epk = ce_epk,
                .names = ce_names,
                .attempt = ce_attempt,
        };

        if (!ce)
                return -EINVAL;
        return sfu_jwe_decrypt_with(&ops, ce, keys, ret, err);
}

/* Whether the content type names a signed manifest of this form. */
static bool content_type_names(const struct sfu_cose_crypt *ce, enum sfu_signed_form form) {
        const char *media = sfu_signed_media_type(form);
        bool cose = sfu_signed_family_of(form) == SFU_SIGNED_FAMILY_COSE;
        const char *cose_type = form == SFU_SIGNED_COSE_SIGN1 ? "cose-sign1" : "cose-sign";
        char with_param[64], text[64];

        if (!ce->content_type_is_text)
                return cose && ce->content_format == (form == SFU_SIGNED_COSE_SIGN1 ? SFU_COSE_TAG_SIGN1 : SFU_COSE_TAG_SIGN);
        if (ce->content_type_len >= sizeof(text) || memchr(ce->content_type_raw, 0, ce->content_type_len))
                return false;
        memcpy(text, ce->content_type_raw, ce->content_type_len);
        text[ce->content_type_len] = 0;
        if (sfu_jwe_cty_is(text, media))
                return true;
        /* application/cose; cose-type="cose-sign1" (RFC 9052 section 2) */
        snprintf(with_param, sizeof(with_param), "%s; cose-type=\"%s\"", media, cose_type);
        return cose && strcasecmp(text, with_param) == 0;
}

int sfu_cose_crypt_open_manifest(const uint8_t *buf, size_t len, const struct sfu_keyring *keys,
                                 struct sfu_jwe_result *ret, struct sfu_err *err) {
        _cleanup_cose_crypt_ struct sfu_cose_crypt *ce = NULL;
        struct sfu_jwe_result res = {};
        enum sfu_signed_form form;
        int r;

        *ret = (struct sfu_jwe_result) {};
        r = sfu_cose_crypt_parse(buf, len, &ce, err);
        if (r < 0)
                return r;
        r = sfu_cose_crypt_decrypt(ce, keys, &res, err);
        if (r < 0)
                return r;
        if (sfu_signed_detect(res.plaintext, res.plaintext_len, &form) < 0)
                r = sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the COSE_Encrypt decrypts, but not to a signed manifest");
        else if (ce->has_content_type && !content_type_names(ce, form)) {
                char text[32];
                if (!ce->content_type_is_text)
                        snprintf(text, sizeof(text), "%" PRIu64, ce->content_format);
                r = sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                "the COSE_Encrypt's content type %s%s%s does not name its plaintext, a %s",
                                ce->content_type_is_text ? "\"" : "",
                                ce->content_type_is_text ? ce->content_type : text,
                                ce->content_type_is_text ? "\"" : "", sfu_signed_form_name(form));
        }
        if (r < 0) {
                sfu_jwe_result_clear(&res);
                return r;
        }
        *ret = res;
        return 0;
}

int sfu_cose_crypt_recipients_to_json(const struct sfu_cose_crypt *ce, json_t **ret) {
        _cleanup_json_ json_t *list = json_array();

        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < ce->n_recipients; i++) {
                const struct sfu_cose_crypt_recipient *rcpt = &ce->recipients[i];
                json_t *o = json_object();
                char kid[2 * 64 + 1];

                if (json_array_append_new(list, o) < 0 ||
                    json_object_set_new(o, "alg", json_string(sfu_jwe_alg_name(rcpt->alg))) < 0)
                        return -ENOMEM;
                if (rcpt->kid) {
                        bool printable = rcpt->kid_len > 0 && rcpt->kid_len < sizeof(kid);
                        for (size_t k = 0; printable && k < rcpt->kid_len; k++)
                                printable = rcpt->kid[k] >= 0x21 && rcpt->kid[k] <= 0x7e;
                        if (printable) {
                                memcpy(kid, rcpt->kid, rcpt->kid_len);
                                kid[rcpt->kid_len] = 0;
                        } else {
                                size_t n = rcpt->kid_len < 64 ? rcpt->kid_len : 64;
                                for (size_t k = 0; k < n; k++)
                                        snprintf(kid + 2 * k, 3, "%02x", rcpt->kid[k]);
                                kid[2 * n] = 0;
                        }
                        if (json_object_set_new(o, "kid", json_string(kid)) < 0)
                                return -ENOMEM;
                }
                if (rcpt->epk && json_object_set_new(o, "crv", json_string(sfu_key_type_name(rcpt->epk->type))) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(list);
        return 0;
}
