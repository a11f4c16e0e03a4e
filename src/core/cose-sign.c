/* SPDX-License-Identifier: MIT */
/* Making COSE_Sign1 and COSE_Sign: used by secfu-manifest and the tests
 * only, so that the daemon links no signing code.  Every structure is
 * written in deterministic encoding (RFC 8949 section 4.2.1): the header
 * maps have their integer labels in ascending order. */
#include "core/cbor.h"
#include "core/cose.h"
#include "core/sig.h"

/* Room kept beside the payload for headers and signatures. */
#define COSE_SIGN_RESERVE (256u * 1024u)

static const char *content_type_text(enum sfu_cose_content c) {
        return c == SFU_COSE_CONTENT_CBOR ? SFU_COSE_CONTENT_TYPE_CBOR
               : c == SFU_COSE_CONTENT_JSON ? SFU_COSE_CONTENT_TYPE_JSON
                                            : NULL;
}

/* The encoded protected header map: {1: alg, 3: content type, 4: kid},
 * each only when wanted. */
static int protected_header(bool with_alg, enum sfu_alg alg, const char *content_type, const char *kid,
                            uint8_t **ret, size_t *ret_len) {
        _cleanup_cbor_writer_ struct sfu_cbor_writer w = {};

        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_MAP, (uint64_t) with_alg + !!content_type + !!kid);
        if (with_alg) {
                sfu_cbor_write_int(&w, SFU_COSE_LABEL_ALG);
                sfu_cbor_write_int(&w, sfu_alg_info(alg)->cose_id);
        }
        if (content_type) {
                sfu_cbor_write_int(&w, SFU_COSE_LABEL_CONTENT_TYPE);
                sfu_cbor_write_text(&w, content_type, strlen(content_type));
        }
        if (kid) {
                sfu_cbor_write_int(&w, SFU_COSE_LABEL_KID);
                sfu_cbor_write_bytes(&w, kid, strlen(kid));
        }
        return sfu_cbor_writer_finish(&w, ret, ret_len);
}

/* Signs the Sig_structure for the given layers. sign_protected NULL: a
 * COSE_Sign1 ("Signature1"). */
static int sign_structure(const struct sfu_signer *signer, const uint8_t *body_protected,
                          size_t body_protected_len, const uint8_t *sign_protected, size_t sign_protected_len,
                          const uint8_t *payload, size_t payload_len, uint8_t **ret, size_t *ret_len,
                          struct sfu_err *err) {
        _cleanup_cbor_writer_ struct sfu_cbor_writer w = {};
        _cleanup_free_ uint8_t *input = NULL;
        size_t input_len = 0;
        int r;

        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_ARRAY, sign_protected ? 5 : 4);
        if (sign_protected)
                sfu_cbor_write_text(&w, "Signature", strlen("Signature"));
        else
                sfu_cbor_write_text(&w, "Signature1", strlen("Signature1"));
        sfu_cbor_write_bytes(&w, body_protected, body_protected_len);
        if (sign_protected)
                sfu_cbor_write_bytes(&w, sign_protected, sign_protected_len);
        sfu_cbor_write_bytes(&w, NULL, 0);
        sfu_cbor_write_bytes(&w, payload, payload_len);
        r = sfu_cbor_writer_finish(&w, &input, &input_len);
        if (r < 0)
                return r;
        return sfu_signer_sign(signer, input, input_len, ret, ret_len, err);
}

static int check_payload(const uint8_t *payload, size_t payload_len, enum sfu_cose_content content,
                         struct sfu_err *err) {
        if (!payload || payload_len == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "cannot sign an empty payload");
        if (payload_len > SFU_COSE_MAX_SIZE - COSE_SIGN_RESERVE)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "payload of %zu bytes is too large to sign (at most %u bytes)",
                                   payload_len, SFU_COSE_MAX_SIZE - COSE_SIGN_RESERVE);
        if (!content_type_text(content))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the content must be a CBOR or a JSON manifest");
        return 0;
}

int sfu_cose_sign1_with(const uint8_t *payload, size_t payload_len, enum sfu_cose_content content,
                        const struct sfu_signer *signer, uint8_t **ret, size_t *ret_len, struct sfu_err *err) {
        _cleanup_cbor_writer_ struct sfu_cbor_writer w = {};
        _cleanup_free_ uint8_t *prot = NULL, *sig = NULL;
        size_t prot_len = 0, sig_len = 0;
        int r;

        r = check_payload(payload, payload_len, content, err);
        if (r < 0)
                return r;
        r = protected_header(true, signer->alg, content_type_text(content), signer->kid, &prot, &prot_len);
        if (r < 0)
                return r;
        r = sign_structure(signer, prot, prot_len, NULL, 0, payload, payload_len, &sig, &sig_len, err);
        if (r < 0)
                return r;

        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_TAG, SFU_COSE_TAG_SIGN1);
        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_ARRAY, 4);
        sfu_cbor_write_bytes(&w, prot, prot_len);
        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_MAP, 0);
        sfu_cbor_write_bytes(&w, payload, payload_len);
        sfu_cbor_write_bytes(&w, sig, sig_len);
        return sfu_cbor_writer_finish(&w, ret, ret_len);
}

int sfu_cose_sign1(const uint8_t *payload, size_t payload_len, const struct sfu_key *key,
                   const struct sfu_cose_sign_opts *opts, uint8_t **ret, size_t *ret_len, struct sfu_err *err) {
        struct sfu_signer signer;
        int r = opts ? sfu_sig_signer_key(key, opts->alg, opts->kid, &signer, err) : -EINVAL;
        return r < 0 ? r : sfu_cose_sign1_with(payload, payload_len, opts->content, &signer, ret, ret_len, err);
}

/* One encoded COSE_Signature by key over body_protected and payload. */
static int make_signature(const struct sfu_signer *signer, const uint8_t *body_protected, size_t body_protected_len,
                          const uint8_t *payload, size_t payload_len, struct sfu_cbor_writer *out,
                          struct sfu_err *err) {
        _cleanup_free_ uint8_t *prot = NULL, *sig = NULL;
        size_t prot_len = 0, sig_len = 0;
        int r;

        r = protected_header(true, signer->alg, NULL, signer->kid, &prot, &prot_len);
        if (r < 0)
                return r;
        r = sign_structure(signer, body_protected, body_protected_len, prot, prot_len, payload, payload_len, &sig,
                           &sig_len, err);
        if (r < 0)
                return r;
        sfu_cbor_write_head(out, SFU_CBOR_MAJOR_ARRAY, 3);
        sfu_cbor_write_bytes(out, prot, prot_len);
        sfu_cbor_write_head(out, SFU_CBOR_MAJOR_MAP, 0);
        sfu_cbor_write_bytes(out, sig, sig_len);
        return 0;
}

int sfu_cose_sign_with(const uint8_t *payload, size_t payload_len, enum sfu_cose_content content,
                       const struct sfu_signer *signer, uint8_t **ret, size_t *ret_len, struct sfu_err *err) {
        _cleanup_cbor_writer_ struct sfu_cbor_writer w = {};
        _cleanup_free_ uint8_t *body = NULL;
        size_t body_len = 0;
        int r;

        r = check_payload(payload, payload_len, content, err);
        if (r < 0)
                return r;
        r = protected_header(false, signer->alg, content_type_text(content), NULL, &body, &body_len);
        if (r < 0)
                return r;

        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_TAG, SFU_COSE_TAG_SIGN);
        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_ARRAY, 4);
        sfu_cbor_write_bytes(&w, body, body_len);
        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_MAP, 0);
        sfu_cbor_write_bytes(&w, payload, payload_len);
        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_ARRAY, 1);
        r = make_signature(signer, body, body_len, payload, payload_len, &w, err);
        if (r < 0)
                return r;
        return sfu_cbor_writer_finish(&w, ret, ret_len);
}

int sfu_cose_sign(const uint8_t *payload, size_t payload_len, const struct sfu_key *key,
                  const struct sfu_cose_sign_opts *opts, uint8_t **ret, size_t *ret_len, struct sfu_err *err) {
        struct sfu_signer signer;
        int r = opts ? sfu_sig_signer_key(key, opts->alg, opts->kid, &signer, err) : -EINVAL;
        return r < 0 ? r : sfu_cose_sign_with(payload, payload_len, opts->content, &signer, ret, ret_len, err);
}

int sfu_cose_add_signature_with(const struct sfu_cose *cose, const struct sfu_signer *signer, uint8_t **ret,
                                size_t *ret_len, struct sfu_err *err) {
        _cleanup_cbor_writer_ struct sfu_cbor_writer w = {};
        int r;

        if (!cose || !cose->payload)
                return -EINVAL;
        if (cose->form != SFU_COSE_SIGN)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "a COSE_Sign1 has room for one signature; make a COSE_Sign to have several");
        if (cose->n_signatures >= SFU_COSE_MAX_SIGNATURES)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "the COSE_Sign already has the maximum of %d signatures",
                                   SFU_COSE_MAX_SIGNATURES);

        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_TAG, SFU_COSE_TAG_SIGN);
        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_ARRAY, 4);
        sfu_cbor_write_bytes(&w, cose->body.protected_bytes, cose->body.protected_len);
        sfu_cbor_write_raw(&w, cose->body.unprotected_raw, cose->body.unprotected_len);
        sfu_cbor_write_bytes(&w, cose->payload, cose->payload_len);
        sfu_cbor_write_head(&w, SFU_CBOR_MAJOR_ARRAY, cose->n_signatures + 1);
        for (size_t i = 0; i < cose->n_signatures; i++)
                sfu_cbor_write_raw(&w, cose->signatures[i].raw, cose->signatures[i].raw_len);
        r = make_signature(signer, cose->body.protected_bytes, cose->body.protected_len, cose->payload,
                           cose->payload_len, &w, err);
        if (r < 0)
                return r;
        return sfu_cbor_writer_finish(&w, ret, ret_len);
}

int sfu_cose_add_signature(const struct sfu_cose *cose, const struct sfu_key *key,
                           const struct sfu_cose_sign_opts *opts, uint8_t **ret, size_t *ret_len,
                           struct sfu_err *err) {
        struct sfu_signer signer;
        int r = opts ? sfu_sig_signer_key(key, opts->alg, opts->kid, &signer, err) : -EINVAL;
        return r < 0 ? r : sfu_cose_add_signature_with(cose, &signer, ret, ret_len, err);
}
