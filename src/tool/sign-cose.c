/* SPDX-License-Identifier: MIT */
/* secfu-manifest sign --cose: COSE_Sign1 for one key, COSE_Sign for
 * several (doc/cose.md "What the tool writes"), over the deterministic
 * CBOR form of the manifest or over the bytes of a JSON manifest; and
 * signatures added to an existing COSE_Sign. */
#include "core/cbor.h"
#include "core/json.h"
#include "tool/tool.h"

/* A CBOR map's first byte (major type 5): a JSON text never starts so. */
static bool starts_like_cbor_map(const uint8_t *p, size_t len) {
        return len > 0 && (p[0] >> 5) == SFU_CBOR_MAJOR_MAP;
}

/* The payload of a new COSE structure: the CBOR manifest as given, the
 * CBOR form of a JSON manifest, or a JSON manifest's bytes. */
static int make_payload(const struct sfu_tool_cose_job *job, const uint8_t *input, size_t len, uint8_t **ret,
                        size_t *ret_len, struct sfu_err *err) {
        _cleanup_json_ json_t *tree = NULL;
        bool cbor_input = starts_like_cbor_map(input, len);
        int r;

        if (job->content == SFU_COSE_CONTENT_JSON) {
                if (cbor_input)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "%s is a CBOR manifest; --content json signs a JSON manifest's bytes", job->path);
                sfu_tool_sign_check_payload(job->path, input, len, false);
                *ret = len > 0 ? malloc(len) : NULL;
                if (len > 0 && !*ret)
                        return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
                if (len > 0)
                        memcpy(*ret, input, len);
                *ret_len = len;
                return 0;
        }
        if (cbor_input) {
                sfu_tool_sign_check_payload(job->path, input, len, true);
                *ret = malloc(len);
                if (!*ret)
                        return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
                memcpy(*ret, input, len);
                *ret_len = len;
                return 0;
        }
        r = sfu_json_parse_object((const char *) input, len, SFU_MANIFEST_MAX_SIZE, &tree, err);
        if (r >= 0)
                r = sfu_cbor_encode_json(tree, SFU_MANIFEST_CBOR_BYTES_KEY, ret, ret_len, err);
        if (r < 0) {
                if (r == -EDOM && !sfu_err_isset(err))
                        sfu_err_set(err, SFU_ERR_PARSE, EDOM, "a CBOR manifest has no real numbers");
                sfu_err_prefix(err, "%s cannot be written as a CBOR manifest", job->path);
                return r;
        }
        sfu_tool_sign_check_payload(job->path, *ret, *ret_len, true);
        return 0;
}

/* Whether a signature of cose already names kid. */
static bool has_kid(const struct sfu_cose *cose, const char *kid) {
        size_t len = kid ? strlen(kid) : 0;

        for (size_t i = 0; kid && i < cose->n_signatures; i++) {
                const struct sfu_cose_header *h =
                        cose->form == SFU_COSE_SIGN1 ? &cose->body : &cose->signatures[i].header;
                if (h->has_kid && h->kid_len == len && memcmp(h->kid, kid, len) == 0)
                        return true;
        }
        return false;
}

/* Adds the signatures of signers[first..] to the COSE structure in
 * buf/len (which is replaced). */
static int add_signatures(const struct sfu_tool_cose_job *job, uint8_t **buf, size_t *len,
                          const struct sfu_tool_signers *signers, size_t first, struct sfu_err *err) {
        int r;

        for (size_t i = first; i < signers->n; i++) {
                const struct sfu_tool_signer *s = &signers->items[i];
                _cleanup_cose_ struct sfu_cose *cose = NULL;
                uint8_t *next = NULL;
                size_t next_len = 0;

                r = sfu_cose_parse(*buf, *len, &cose, err);
                if (r < 0) {
                        sfu_err_prefix(err, "%s looks like COSE but is not valid", job->path);
                        return r;
                }
                if (has_kid(cose, s->signer.kid))
                        return sfu_err_set(err, SFU_ERR_SIGNATURE, EEXIST, "%s already has a signature with kid %s",
                                           job->path, s->signer.kid);
                r = sfu_cose_add_signature_with(cose, &s->signer, &next, &next_len, err);
                if (r < 0) {
                        sfu_err_prefix(err, "%s", job->path);
                        return r;
                }
                free(*buf);
                *buf = next;
                *len = next_len;
        }
        return 0;
}

int sfu_tool_sign_cose(const struct sfu_tool_cose_job *job, const uint8_t *input, size_t len,
                       const struct sfu_tool_signers *signers, uint8_t **ret, size_t *ret_len, struct sfu_err *err) {
        _cleanup_free_ uint8_t *payload = NULL, *out = NULL;
        size_t payload_len = 0, out_len = 0, first = 0;
        int r;

        if (job->add) {
                out = malloc(len);
                if (!out)
                        return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
                memcpy(out, input, len);
                out_len = len;
        } else {
                r = make_payload(job, input, len, &payload, &payload_len, err);
                if (r < 0)
                        return r;
                if (job->multi)
                        r = sfu_cose_sign_with(payload, payload_len, job->content, &signers->items[0].signer, &out,
                                               &out_len, err);
                else
                        r = sfu_cose_sign1_with(payload, payload_len, job->content, &signers->items[0].signer, &out,
                                                &out_len, err);
                if (r < 0)
                        return r;
                first = 1;
        }
        r = add_signatures(job, &out, &out_len, signers, first, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(out);
        *ret_len = out_len;
        return 0;
}
