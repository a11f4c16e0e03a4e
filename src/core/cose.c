/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdarg.h>
#include <strings.h>

#include "core/cbor.h"
#include "core/cose.h"
#include "core/sig.h"

/* CBOR items of one protected header. */
#define COSE_HEADER_MAX_ITEMS 512

/* ---------------------------------------------------------------- parsing */

/* "signature 2", "the COSE_Sign body": who a message is about. */
struct where {
        char text[32];
};

static struct where where_signature(size_t idx) {
        struct where w;
        snprintf(w.text, sizeof(w.text), "signature %zu", idx);
        return w;
}

static struct where where_body(void) {
        struct where w;
        snprintf(w.text, sizeof(w.text), "the COSE_Sign body");
        return w;
}

/* A label as text for messages: 4, -7 or "reserved". */
static void label_text(const struct sfu_cbor_item *label, char out[static SFU_COSE_TEXT_MAX]) {
        char q[SFU_QUOTE_MAX + 4];
        int64_t v;

        if (sfu_cbor_get_int(label, &v))
                snprintf(out, SFU_COSE_TEXT_MAX, "%" PRId64, v);
        else if (label->type == SFU_CBOR_TEXT)
                snprintf(out, SFU_COSE_TEXT_MAX, "\"%s\"", sfu_quote((const char *) label->data, (size_t) label->value, q));
        else
                snprintf(out, SFU_COSE_TEXT_MAX, "(%s)", sfu_cbor_type_name(label->type));
}

static bool labels_equal(const struct sfu_cbor_item *a, const struct sfu_cbor_item *b) {
        int64_t x, y;

        if (sfu_cbor_get_int(a, &x) && sfu_cbor_get_int(b, &y))
                return x == y;
        return a->type == SFU_CBOR_TEXT && b->type == SFU_CBOR_TEXT && a->value == b->value &&
               memcmp(a->data, b->data, (size_t) a->value) == 0;
}

static bool label_is(const struct sfu_cbor_item *label, int64_t want) {
        int64_t v;
        return sfu_cbor_get_int(label, &v) && v == want;
}

static bool media_type_is(const struct sfu_cbor_item *s, const char *want) {
        size_t n = strlen(want);
        return s->value == n && strncasecmp((const char *) s->data, want, n) == 0;
}

static enum sfu_cose_content classify_content_type(const struct sfu_cbor_item *v) {
        if (v->type == SFU_CBOR_UINT)
                return v->value == SFU_COSE_CONTENT_FORMAT_CBOR   ? SFU_COSE_CONTENT_CBOR
                       : v->value == SFU_COSE_CONTENT_FORMAT_JSON ? SFU_COSE_CONTENT_JSON
                                                                  : SFU_COSE_CONTENT_OTHER;
        if (media_type_is(v, SFU_COSE_CONTENT_TYPE_CBOR) || media_type_is(v, "application/cbor"))
                return SFU_COSE_CONTENT_CBOR;
        if (media_type_is(v, SFU_COSE_CONTENT_TYPE_JSON) || media_type_is(v, "application/json"))
                return SFU_COSE_CONTENT_JSON;
        return SFU_COSE_CONTENT_OTHER;
}

/* The parameters of one bucket (a decoded map) into h. */
static int read_bucket(const struct sfu_cbor_item *map, bool is_protected, const struct where *w,
                       struct sfu_cose_header *h, struct sfu_err *err) {
        const char *bucket = is_protected ? "protected" : "unprotected";
        const struct sfu_cbor_item *key = map + 1;

        for (uint64_t i = 0; i < map->value; i++) {
                const struct sfu_cbor_item *value = sfu_cbor_next(key);

                if (key->type != SFU_CBOR_UINT && key->type != SFU_CBOR_NEGINT && key->type != SFU_CBOR_TEXT)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "%s: a label of the %s header is %s; labels are integers or text strings",
                                           w->text, bucket, sfu_cbor_type_name(key->type));
                if (label_is(key, SFU_COSE_LABEL_ALG)) {
                        if (value->type == SFU_CBOR_TEXT) {
                                h->alg_is_text = true;
                                label_text(value, h->alg_text);
                        } else if (!sfu_cbor_get_int(value, &h->alg))
                                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG,
                                                   "%s: \"alg\" (1) is %s, not an integer", w->text,
                                                   sfu_cbor_type_name(value->type));
                        h->has_alg = true;
                        h->alg_unprotected = !is_protected;
                } else if (label_is(key, SFU_COSE_LABEL_CRIT)) {
                        if (value->type != SFU_CBOR_ARRAY || value->value == 0)
                                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG,
                                                   "%s: header parameter \"crit\" (2) must be a non-empty list of labels",
                                                   w->text);
                        for (const struct sfu_cbor_item *c = value + 1; c < sfu_cbor_next(value); c = sfu_cbor_next(c))
                                if (c->type != SFU_CBOR_UINT && c->type != SFU_CBOR_NEGINT && c->type != SFU_CBOR_TEXT)
                                        return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG,
                                                           "%s: header parameter \"crit\" (2) must be a non-empty list of labels",
                                                           w->text);
                        h->has_crit = true;
                        h->crit_unprotected = !is_protected;
                        label_text(value + 1, h->crit_first);
                } else if (label_is(key, SFU_COSE_LABEL_CONTENT_TYPE)) {
                        if (value->type != SFU_CBOR_UINT && value->type != SFU_CBOR_TEXT)
                                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG,
                                                   "%s: \"content type\" (3) is %s, not a text string or an unsigned integer",
                                                   w->text, sfu_cbor_type_name(value->type));
                        h->has_content_type = true;
                        h->content_type_unprotected = !is_protected;
                        h->content = classify_content_type(value);
                        label_text(value, h->content_type);
                } else if (label_is(key, SFU_COSE_LABEL_KID)) {
                        if (value->type != SFU_CBOR_BYTES)
                                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG,
                                                   "%s: \"kid\" (4) is %s, not a byte string", w->text,
                                                   sfu_cbor_type_name(value->type));
                        h->has_kid = true;
                        h->kid = value->data;
                        h->kid_len = (size_t) value->value;
                }
                key = sfu_cbor_next(value);
        }
        return 0;
}

/* One layer's headers: prot is the protected bstr item, unprot the
 * unprotected map item of the outer document (whose input is base). */
static int parse_header(const uint8_t *base, const struct sfu_cbor_item *prot, const struct sfu_cbor_item *unprot,
                        const struct where *w, struct sfu_cose_header *h, struct sfu_err *err) {
        _cleanup_cbor_ struct sfu_cbor *pmap = NULL;
        const struct sfu_cbor_limits limits = {
                .max_size = SFU_COSE_MAX_HEADER,
                .max_items = COSE_HEADER_MAX_ITEMS,
        };
        int r;

        if (prot->type != SFU_CBOR_BYTES)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "%s: the protected header is %s, not a byte string", w->text,
                                   sfu_cbor_type_name(prot->type));
        if (unprot->type != SFU_CBOR_MAP)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: the unprotected header is %s, not a map",
                                   w->text, sfu_cbor_type_name(unprot->type));
        if (prot->value > SFU_COSE_MAX_HEADER || unprot->size > SFU_COSE_MAX_HEADER)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "%s: %s header exceeds the limit of %u bytes", w->text,
                                   prot->value > SFU_COSE_MAX_HEADER ? "protected" : "unprotected",
                                   SFU_COSE_MAX_HEADER);
        h->protected_bytes = prot->data;
        h->protected_len = (size_t) prot->value;
        h->unprotected_raw = base + unprot->offset;
        h->unprotected_len = unprot->size;

        /* RFC 9052 section 3: an empty protected header is h'', and
         * recipients accept an encoded empty map too. */
        if (prot->value > 0) {
                r = sfu_cbor_decode(prot->data, (size_t) prot->value, &limits, &pmap, err);
                if (r < 0) {
                        sfu_err_prefix(err, "%s: protected header", w->text);
                        return r;
                }
                if (sfu_cbor_root(pmap)->type != SFU_CBOR_MAP)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: the protected header is %s, not a map",
                                           w->text, sfu_cbor_type_name(sfu_cbor_root(pmap)->type));
                r = read_bucket(sfu_cbor_root(pmap), true, w, h, err);
                if (r < 0)
                        return r;
        }
        r = read_bucket(unprot, false, w, h, err);
        if (r < 0)
                return r;

        /* RFC 9052 section 3: labels are unique across both buckets. */
        if (pmap) {
                const struct sfu_cbor_item *pm = sfu_cbor_root(pmap);
                const struct sfu_cbor_item *uk = unprot + 1;
                for (uint64_t i = 0; i < unprot->value; i++) {
                        const struct sfu_cbor_item *pk = pm + 1;
                        for (uint64_t j = 0; j < pm->value; j++) {
                                if (labels_equal(uk, pk)) {
                                        char t[SFU_COSE_TEXT_MAX];
                                        label_text(uk, t);
                                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                                           "%s: header parameter %s is in both the protected and the "
                                                           "unprotected header",
                                                           w->text, t);
                                }
                                pk = sfu_cbor_next(sfu_cbor_next(pk));
                        }
                        uk = sfu_cbor_next(sfu_cbor_next(uk));
                }
        }
        return 0;
}

static int parse_signature_bytes(const struct sfu_cbor_item *it, size_t idx, struct sfu_cose_signature *sig,
                                 struct sfu_err *err) {
        if (it->type != SFU_CBOR_BYTES)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "signature %zu: the signature is %s, not a byte string",
                                   idx, sfu_cbor_type_name(it->type));
        if (it->value > SFU_COSE_MAX_SIGNATURE)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "signature %zu: signature exceeds the limit of %d bytes",
                                   idx, SFU_COSE_MAX_SIGNATURE);
        sig->signature = it->data;
        sig->signature_len = (size_t) it->value;
        return 0;
}

static int parse_signatures(struct sfu_cose *cose, const struct sfu_cbor_item *list, struct sfu_err *err) {
        const struct sfu_cbor_item *s;
        int r;

        if (list->type != SFU_CBOR_ARRAY)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "COSE_Sign \"signatures\" is %s, not an array",
                                   sfu_cbor_type_name(list->type));
        if (list->value == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "COSE_Sign \"signatures\" is empty");
        if (list->value > SFU_COSE_MAX_SIGNATURES)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "the COSE_Sign has %" PRIu64 " signatures, more than the limit of %d",
                                   list->value, SFU_COSE_MAX_SIGNATURES);
        s = list + 1;
        for (size_t i = 0; i < list->value; i++, s = sfu_cbor_next(s)) {
                struct sfu_cose_signature *sig = &cose->signatures[i];
                struct where w = where_signature(i + 1);
                const struct sfu_cbor_item *prot, *unprot;

                if (s->type != SFU_CBOR_ARRAY || s->value != 3)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "signature %zu is not a COSE_Signature (an array of 3)", i + 1);
                prot = s + 1;
                unprot = sfu_cbor_next(prot);
                r = parse_header(cose->buf, prot, unprot, &w, &sig->header, err);
                if (r < 0)
                        return r;
                r = parse_signature_bytes(sfu_cbor_next(unprot), i + 1, sig, err);
                if (r < 0)
                        return r;
                sig->raw = cose->buf + s->offset;
                sig->raw_len = s->size;
                cose->n_signatures = i + 1;
        }
        return 0;
}

static int check_tag(const struct sfu_cbor *c, enum sfu_cose_form *ret, struct sfu_err *err) {
        if (!c->tagged)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "the COSE structure has no tag: COSE_Sign1 needs tag 18, COSE_Sign tag 98");
        switch (c->tag) {
        case SFU_COSE_TAG_SIGN1:
                *ret = SFU_COSE_SIGN1;
                return 0;
        case SFU_COSE_TAG_SIGN:
                *ret = SFU_COSE_SIGN;
                return 0;
        case 16:
        case 96:
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "COSE_Encrypt%s (tag %" PRIu64 "): encrypted manifests are not supported",
                                   c->tag == 16 ? "0" : "", c->tag);
        case 17:
        case 97:
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "COSE_Mac%s (tag %" PRIu64 "): a MAC is not a signature, it is not accepted",
                                   c->tag == 17 ? "0" : "", c->tag);
        default:
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "CBOR tag %" PRIu64 " is not a COSE signature (COSE_Sign1 is 18, COSE_Sign 98)",
                                   c->tag);
        }
}

void sfu_cose_free(struct sfu_cose *cose) {
        if (!cose)
                return;
        free(cose->buf);
        free(cose);
}

int sfu_cose_parse(const uint8_t *buf, size_t len, struct sfu_cose **ret, struct sfu_err *err) {
        _cleanup_cose_ struct sfu_cose *cose = NULL;
        _cleanup_cbor_ struct sfu_cbor *c = NULL;
        const struct sfu_cbor_limits limits = {
                .max_size = SFU_COSE_MAX_SIZE,
                .max_items = SFU_COSE_MAX_ITEMS,
                .allow_tag = true,
        };
        const struct sfu_cbor_item *root, *prot, *unprot, *payload, *last;
        struct where w;
        int r;

        if (!buf && len > 0)
                return -EINVAL;
        if (len > SFU_COSE_MAX_SIZE)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "COSE structure of %zu bytes exceeds the limit of %u bytes",
                                   len, SFU_COSE_MAX_SIZE);
        if (len == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "empty input is not a COSE structure");
        cose = calloc(1, sizeof(*cose));
        if (!cose)
                return -ENOMEM;
        cose->buf = malloc(len);
        if (!cose->buf)
                return -ENOMEM;
        memcpy(cose->buf, buf, len);
        cose->len = len;

        r = sfu_cbor_decode(cose->buf, len, &limits, &c, err);
        if (r < 0) {
                sfu_err_prefix(err, "COSE");
                return r;
        }
        r = check_tag(c, &cose->form, err);
        if (r < 0)
                return r;
        root = sfu_cbor_root(c);
        if (root->type != SFU_CBOR_ARRAY || root->value != 4)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s is not an array of 4",
                                   sfu_cose_form_name(cose->form));
        prot = root + 1;
        unprot = sfu_cbor_next(prot);
        payload = sfu_cbor_next(unprot);
        last = sfu_cbor_next(payload);

        w = cose->form == SFU_COSE_SIGN1 ? where_signature(1) : where_body();
        r = parse_header(cose->buf, prot, unprot, &w, &cose->body, err);
        if (r < 0)
                return r;

        if (payload->type == SFU_CBOR_NULL)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "the COSE payload is nil (detached payloads are not supported)");
        if (payload->type != SFU_CBOR_BYTES)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the COSE payload is %s, not a byte string",
                                   sfu_cbor_type_name(payload->type));
        if (payload->value == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the COSE payload is empty");
        cose->payload = payload->data;
        cose->payload_len = (size_t) payload->value;
        cose->content = cose->body.has_content_type ? cose->body.content : SFU_COSE_CONTENT_NONE;

        if (cose->form == SFU_COSE_SIGN1) {
                r = parse_signature_bytes(last, 1, &cose->signatures[0], err);
                if (r < 0)
                        return r;
                cose->n_signatures = 1;
        } else {
                r = parse_signatures(cose, last, err);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(cose);
        return 0;
}

const char *sfu_cose_form_name(enum sfu_cose_form form) {
        return form == SFU_COSE_SIGN1 ? "COSE_Sign1" : "COSE_Sign";
}

const char *sfu_cose_content_name(enum sfu_cose_content content) {
        switch (content) {
        case SFU_COSE_CONTENT_NONE:
                return "no content type";
        case SFU_COSE_CONTENT_OTHER:
                return "not a manifest";
        case SFU_COSE_CONTENT_CBOR:
                return "CBOR manifest";
        case SFU_COSE_CONTENT_JSON:
                return "JSON manifest";
        case _SFU_COSE_CONTENT_MAX:
                break;
        }
        return "?";
}

/* ---------------------------------------------------------------- Sig_structure */

int sfu_cose_sig_structure(const struct sfu_cose *cose, size_t idx, uint8_t **ret, size_t *ret_len) {
        _cleanup_cbor_writer_ struct sfu_cbor_writer w = {};

        if (!cose || idx >= cose->n_signatures)
                return -EINVAL;
        if (cose->form == SFU_COSE_SIGN1) {
                sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_ARRAY, 4);
                sfu_cbor_write_text(&w, "Signature1", strlen("Signature1"));
                sfu_cbor_write_bytes(&w, cose->body.protected_bytes, cose->body.protected_len);
        } else {
                const struct sfu_cose_header *h = &cose->signatures[idx].header;
                sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_ARRAY, 5);
                sfu_cbor_write_text(&w, "Signature", strlen("Signature"));
                sfu_cbor_write_bytes(&w, cose->body.protected_bytes, cose->body.protected_len);
                sfu_cbor_write_bytes(&w, h->protected_bytes, h->protected_len);
        }
        sfu_cbor_write_bytes(&w, NULL, 0);      /* external_aad */
        sfu_cbor_write_bytes(&w, cose->payload, cose->payload_len);
        return sfu_cbor_writer_finish(&w, ret, ret_len);
}

/* ---------------------------------------------------------------- verify */

/* The structural rules that need no key, for the layer h; all of them
 * fail the whole structure. */
static int check_crit(const struct sfu_cose_header *h, const struct where *w, struct sfu_err *err) {
        if (h->has_crit && h->crit_unprotected)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EBADMSG,
                                   "%s: header parameter \"crit\" must be in the protected header", w->text);
        /* We understand no parameter that may be critical. */
        if (h->has_crit)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EBADMSG,
                                   "%s: header parameter \"crit\" names %s, which is not understood", w->text,
                                   h->crit_first);
        return 0;
}

static int check_alg_present(const struct sfu_cose_header *h, const struct where *w, struct sfu_err *err) {
        if (h->has_alg && h->alg_unprotected)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EBADMSG,
                                   "%s: \"alg\" is only in the unprotected header; it must be in the protected header",
                                   w->text);
        if (!h->has_alg)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EBADMSG, "%s: the protected header has no \"alg\"",
                                   w->text);
        return 0;
}

static int check_content(const struct sfu_cose *cose, unsigned allow, struct sfu_err *err) {
        const struct sfu_cose_header *h = &cose->body;
        const char *whose = cose->form == SFU_COSE_SIGN1 ? "the" : "the body's";

        if (h->has_content_type && h->content_type_unprotected)
                return sfu_err_set(err, SFU_ERR_POLICY, EBADMSG,
                                   "the content type (3) is in the unprotected header; it must be in %s protected header",
                                   whose);
        if (allow & SFU_COSE_CONTENT_MASK(cose->content))
                return 0;
        if (cose->content == SFU_COSE_CONTENT_NONE)
                return sfu_err_set(err, SFU_ERR_POLICY, EBADMSG,
                                   "%s protected header has no content type (3); \"%s\" or \"%s\" is required", whose,
                                   SFU_COSE_CONTENT_TYPE_CBOR, SFU_COSE_CONTENT_TYPE_JSON);
        if (cose->content == SFU_COSE_CONTENT_OTHER)
                return sfu_err_set(err, SFU_ERR_POLICY, EBADMSG,
                                   "content type %s is not a manifest's (\"%s\" or \"%s\")", h->content_type,
                                   SFU_COSE_CONTENT_TYPE_CBOR, SFU_COSE_CONTENT_TYPE_JSON);
        return sfu_err_set(err, SFU_ERR_POLICY, EBADMSG, "content type %s (a %s) is not accepted here",
                           h->content_type, sfu_cose_content_name(cose->content));
}

/* Checks signature idx (0-based) after the structural rules passed:
 * *ret_key the trusted key that verified it, or NULL and m saying why it
 * counts for nothing.  < 0 only when the check itself could not be made. */
static int verify_signature(const struct sfu_cose *cose, size_t idx, const struct sfu_keyring *ring,
                            const struct sfu_cose_verify_opts *opts, enum sfu_alg *ret_alg,
                            const struct sfu_key **ret_key, struct sfu_sig_miss *m, struct sfu_err *err) {
        const struct sfu_cose_signature *sig = &cose->signatures[idx];
        const struct sfu_cose_header *h = cose->form == SFU_COSE_SIGN1 ? &cose->body : &sig->header;
        _cleanup_free_ uint8_t *input = NULL;
        size_t input_len = 0, n = idx + 1;
        enum sfu_alg alg;
        int r;

        *ret_key = NULL;
        if (h->alg_is_text)
                return sfu_sig_miss(m, SFU_ERR_SIGNATURE, "signature %zu: alg %s is not supported", n, h->alg_text);
        if (sfu_alg_from_cose_id(h->alg, &alg) < 0)
                return sfu_sig_miss(m, SFU_ERR_SIGNATURE, "signature %zu: alg %" PRId64 " is not supported", n,
                                    h->alg);
        if (!(opts->alg_allow & SFU_ALG_MASK(alg)))
                return sfu_sig_miss(m, SFU_ERR_POLICY, "signature %zu: alg \"%s\" is not in the allowed list", n,
                                    sfu_alg_name(alg));
        *ret_alg = alg;
        r = sfu_cose_sig_structure(cose, idx, &input, &input_len);
        if (r < 0)
                return r;
        return sfu_sig_find_signer(&(struct sfu_sig_check) {
                                           .index = n,
                                           .alg = alg,
                                           .kid = h->has_kid ? (const char *) h->kid : NULL,
                                           .kid_len = h->kid_len,
                                           .input = input,
                                           .input_len = input_len,
                                           .sig = sig->signature,
                                           .sig_len = sig->signature_len,
                                   },
                                   ring, ret_key, m, err);
}

int sfu_cose_verify(const struct sfu_cose *cose, const struct sfu_keyring *ring,
                    const struct sfu_cose_verify_opts *opts_in, unsigned *ret_valid, struct sfu_err *err) {
        struct sfu_cose_verify_opts opts = opts_in ? *opts_in : (struct sfu_cose_verify_opts){};
        struct sfu_sig_tally tally = {};
        struct where w;
        int r;

        if (opts.alg_allow == 0)
                opts.alg_allow = SFU_ALG_MASK_ALL;
        if (opts.min_signatures == 0)
                opts.min_signatures = 1;
        if (opts.content_allow == 0)
                opts.content_allow = SFU_COSE_CONTENT_MANIFESTS;
        if (!cose || cose->n_signatures == 0 || cose->n_signatures > SFU_COSE_MAX_SIGNATURES || !cose->payload)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "not a parsed COSE structure");
        if (!ring || ring->n_keys == 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, ENOKEY, "the trust store holds no keys");

        /* The structure first: every layer obeys the rules, whatever the
         * signatures do. */
        w = cose->form == SFU_COSE_SIGN1 ? where_signature(1) : where_body();
        r = check_crit(&cose->body, &w, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < cose->n_signatures; i++) {
                const struct sfu_cose_header *h =
                        cose->form == SFU_COSE_SIGN1 ? &cose->body : &cose->signatures[i].header;
                w = where_signature(i + 1);
                if (cose->form == SFU_COSE_SIGN) {
                        r = check_crit(h, &w, err);
                        if (r < 0)
                                return r;
                }
                r = check_alg_present(h, &w, err);
                if (r < 0)
                        return r;
        }
        r = check_content(cose, opts.content_allow, err);
        if (r < 0)
                return r;

        for (size_t i = 0; i < cose->n_signatures; i++) {
                const struct sfu_key *key = NULL;
                struct sfu_sig_miss m = {};
                enum sfu_alg alg = _SFU_ALG_INVALID;

                r = verify_signature(cose, i, ring, &opts, &alg, &key, &m, err);
                if (r < 0)
                        return r;
                sfu_sig_tally_add(&tally, alg, key, &m, opts.note, opts.userdata);
        }
        if (opts.ret_algs)
                *opts.ret_algs = tally.alg_mask;
        if (opts.ret_signers)
                memcpy(opts.ret_signers, tally.signers, tally.n_signers * sizeof(tally.signers[0]));
        return sfu_sig_tally_result(&tally, opts.min_signatures, ret_valid, err);
}
