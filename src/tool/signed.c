/* SPDX-License-Identifier: MIT */
/* A signed manifest read without trust: the form told by the bytes (as a
 * device tells it, core/signed.c), the structure parsed by the core's
 * parsers, the payload and its manifest.  inspect, pack and publish need
 * no keys; verify lets the core decide (sfu_signed_open) and uses this
 * for what it prints. */
#include "core/cbor.h"
#include "core/json.h"
#include "tool/tool.h"

void sfu_tool_signed_clear(struct sfu_tool_signed *s) {
        sfu_jws_free(s->jws);
        sfu_cose_free(s->cose);
        *s = (struct sfu_tool_signed) {};
}

int sfu_tool_signed_parse(const void *buf, size_t len, struct sfu_tool_signed *ret, struct sfu_err *err) {
        struct sfu_tool_signed s = {};
        int r;

        if (sfu_signed_detect(buf, len, &s.form) < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG,
                                   "not a signed manifest: neither a JWS (compact or JSON) nor a COSE_Sign1 or COSE_Sign");
        if (sfu_signed_family_of(s.form) == SFU_SIGNED_FAMILY_JWS) {
                r = sfu_jws_parse(buf, len, &s.jws, err);
                if (r < 0)
                        return r;
                s.payload = s.jws->payload;
                s.payload_len = s.jws->payload_len;
        } else {
                r = sfu_cose_parse(buf, len, &s.cose, err);
                if (r < 0)
                        return r;
                s.payload = s.cose->payload;
                s.payload_len = s.cose->payload_len;
                s.cbor = s.cose->content == SFU_COSE_CONTENT_CBOR;
        }
        *ret = s;
        return 0;
}

const char *sfu_tool_signed_content(const struct sfu_tool_signed *s) {
        if (!s->cose || s->cose->content == SFU_COSE_CONTENT_JSON)
                return "a JSON manifest";
        if (s->cose->content == SFU_COSE_CONTENT_CBOR)
                return "a CBOR manifest";
        return sfu_cose_content_name(s->cose->content);
}

int sfu_tool_signed_manifest(const struct sfu_tool_signed *s, struct sfu_manifest **ret, struct sfu_err *err) {
        if (s->cose && s->cose->content != SFU_COSE_CONTENT_CBOR && s->cose->content != SFU_COSE_CONTENT_JSON)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "the COSE structure's content type (%s) is not a manifest's",
                                   sfu_cose_content_name(s->cose->content));
        if (s->cbor)
                return sfu_manifest_parse_cbor(s->payload, s->payload_len, SFU_MANIFEST_MAX_SIZE, ret, err);
        return sfu_manifest_parse_json((const char *) s->payload, s->payload_len, SFU_MANIFEST_MAX_SIZE, ret, err);
}

int sfu_tool_signed_payload_json(const struct sfu_tool_signed *s, json_t **ret, struct sfu_err *err) {
        const struct sfu_cbor_limits limits = { .max_size = SFU_MANIFEST_MAX_SIZE };
        _cleanup_cbor_ struct sfu_cbor *cbor = NULL;
        int r;

        if (!s->cbor) {
                r = sfu_json_parse_object((const char *) s->payload, s->payload_len, SFU_JWS_MAX_SIZE, ret, NULL);
                return r < 0 ? -EINVAL : 0;
        }
        r = sfu_cbor_decode(s->payload, s->payload_len, &limits, &cbor, err);
        if (r < 0)
                return r;
        return sfu_cbor_to_json(sfu_cbor_root(cbor), SFU_MANIFEST_CBOR_BYTES_KEY, ret, err);
}

int sfu_tool_read_signed(const char *path, size_t max, char **ret_bytes, size_t *ret_len, struct sfu_tool_signed *ret,
                         struct sfu_manifest **ret_manifest, struct sfu_err *err) {
        _cleanup_tool_signed_ struct sfu_tool_signed s = {};
        _cleanup_free_ char *bytes = NULL;
        size_t len = 0;
        int r;

        r = sfu_tool_read_input(path, max, &bytes, &len, err);
        if (r >= 0)
                r = sfu_tool_signed_parse(bytes, len, &s, err);
        if (r >= 0)
                r = sfu_tool_signed_manifest(&s, ret_manifest, err);
        if (r < 0) {
                sfu_err_prefix(err, "%s", path);
                return r;
        }
        *ret = s;
        s = (struct sfu_tool_signed) {};
        *ret_bytes = TAKE_PTR(bytes);
        *ret_len = len;
        return 0;
}
