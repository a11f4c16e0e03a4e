/* SPDX-License-Identifier: MIT */
#include <strings.h>

#include "core/cose.h"
#include "core/jws.h"
#include "core/scope.h"
#include "core/signed.h"

static const struct {
        const char *name;
        const char *media_type;
        enum sfu_signed_family family;
} forms[_SFU_SIGNED_FORM_MAX] = {
        [SFU_SIGNED_JWS_COMPACT] = { "JWS (compact)", "application/jose", SFU_SIGNED_FAMILY_JWS },
        [SFU_SIGNED_JWS_JSON] = { "JWS (JSON)", "application/jose+json", SFU_SIGNED_FAMILY_JWS },
        [SFU_SIGNED_COSE_SIGN1] = { "COSE_Sign1", "application/cose", SFU_SIGNED_FAMILY_COSE },
        [SFU_SIGNED_COSE_SIGN] = { "COSE_Sign", "application/cose", SFU_SIGNED_FAMILY_COSE },
};

static const char *const family_names[_SFU_SIGNED_FAMILY_MAX] = {
        [SFU_SIGNED_FAMILY_JWS] = "jws",
        [SFU_SIGNED_FAMILY_COSE] = "cose",
};

const char *sfu_signed_form_name(enum sfu_signed_form form) {
        return (unsigned) form < _SFU_SIGNED_FORM_MAX ? forms[form].name : "unknown";
}

const char *sfu_signed_media_type(enum sfu_signed_form form) {
        return (unsigned) form < _SFU_SIGNED_FORM_MAX ? forms[form].media_type : NULL;
}

enum sfu_signed_family sfu_signed_family_of(enum sfu_signed_form form) {
        return forms[form].family;
}

const char *sfu_signed_family_name(enum sfu_signed_family family) {
        return (unsigned) family < _SFU_SIGNED_FAMILY_MAX ? family_names[family] : "unknown";
}

int sfu_signed_family_from_name(const char *name, enum sfu_signed_family *ret) {
        for (size_t i = 0; i < _SFU_SIGNED_FAMILY_MAX; i++)
                if (name && strcmp(name, family_names[i]) == 0) {
                        *ret = (enum sfu_signed_family) i;
                        return 0;
                }
        return -EINVAL;
}

static bool is_b64url(unsigned char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int sfu_signed_detect(const void *buf, size_t len, enum sfu_signed_form *ret) {
        const unsigned char *p = buf;
        size_t i = 0, dots = 0, run = 0, longest = 0;

        if (!buf || len == 0)
                return -EINVAL;
        /* COSE: the tag in its one- or two-byte head. */
        if (p[0] == 0xd2) {
                *ret = SFU_SIGNED_COSE_SIGN1;
                return 0;
        }
        if (len >= 2 && p[0] == 0xd8 && p[1] == 0x62) {
                *ret = SFU_SIGNED_COSE_SIGN;
                return 0;
        }
        if (len >= 2 && p[0] == 0xd8 && p[1] == 0x12) {
                *ret = SFU_SIGNED_COSE_SIGN1;
                return 0;
        }
        while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
                i++;
        /* JSON (an array or a byte order mark is the JSON parser's to
         * refuse). */
        if (i < len && (p[i] == '{' || p[i] == '[' || (len - i >= 3 && !memcmp(p + i, "\xef\xbb\xbf", 3)))) {
                *ret = SFU_SIGNED_JWS_JSON;
                return 0;
        }
        /* Compact: printable ASCII text with a dot or a run of base64url
         * (white space may be in it).  A near miss (padding, standard
         * base64, white space, a wrong number of segments) is still the
         * JWS parser's to name. */
        for (; i < len; i++) {
                if (p[i] < 0x20 ? !(p[i] == '\t' || p[i] == '\r' || p[i] == '\n') : p[i] > 0x7e)
                        return -EINVAL;
                dots += p[i] == '.';
                run = is_b64url(p[i]) ? run + 1 : 0;
                if (run > longest)
                        longest = run;
        }
        if (dots > 0 || longest >= 16) {
                *ret = SFU_SIGNED_JWS_COMPACT;
                return 0;
        }
        return -EINVAL;
}

bool sfu_signed_media_type_is(const char *content_type, const char *type) {
        size_t len;

        if (!content_type)
                return false;
        len = strcspn(content_type, "; \t");
        return len == strlen(type) && strncasecmp(content_type, type, len) == 0;
}

/* A content type that names a signed form must name this one; others
 * (application/json, application/octet-stream, none) leave it to the
 * bytes, as static servers label files by their extension. */
static int check_content_type(const char *content_type, enum sfu_signed_form form, struct sfu_err *err) {
        char q[SFU_QUOTE_MAX + 4];
        enum sfu_signed_family says;

        if (sfu_signed_media_type_is(content_type, "application/jose") ||
            sfu_signed_media_type_is(content_type, "application/jose+json"))
                says = SFU_SIGNED_FAMILY_JWS;
        else if (sfu_signed_media_type_is(content_type, "application/cose"))
                says = SFU_SIGNED_FAMILY_COSE;
        else
                return 0;
        if (says == sfu_signed_family_of(form))
                return 0;
        return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "the server says %s, but the manifest is a %s",
                           sfu_quote(content_type, strlen(content_type), q), sfu_signed_form_name(form));
}

static int open_jws(const void *buf, size_t len, const struct sfu_keyring *ring, const struct sfu_signed_opts *o,
                    struct sfu_manifest **ret, struct sfu_signed_info *info, struct sfu_err *err) {
        _cleanup_jws_ struct sfu_jws *jws = NULL;
        struct sfu_jws_verify_opts opts = {
                .alg_allow = o->alg_allow,
                .min_signatures = o->min_signatures,
                .required_typ = SFU_JWS_TYP_MANIFEST,
                .note = o->note,
                .userdata = o->userdata,
                .ret_algs = &info->alg_mask,
                .ret_signers = info->signer_keys,
        };
        int r;

        r = sfu_jws_parse(buf, len, &jws, err);
        if (r >= 0)
                r = sfu_jws_verify(jws, ring, &opts, &info->signers, err);
        if (r >= 0)
                r = sfu_manifest_parse_json((const char *) jws->payload, jws->payload_len, o->max_manifest_size, ret,
                                            err);
        return r;
}

static int open_cose(const void *buf, size_t len, const struct sfu_keyring *ring, const struct sfu_signed_opts *o,
                     struct sfu_manifest **ret, struct sfu_signed_info *info, struct sfu_err *err) {
        _cleanup_cose_ struct sfu_cose *cose = NULL;
        struct sfu_cose_verify_opts opts = {
                .alg_allow = o->alg_allow,
                .min_signatures = o->min_signatures,
                .content_allow = SFU_COSE_CONTENT_MANIFESTS,
                .note = o->note,
                .userdata = o->userdata,
                .ret_algs = &info->alg_mask,
                .ret_signers = info->signer_keys,
        };
        int r;

        r = sfu_cose_parse(buf, len, &cose, err);
        if (r >= 0)
                r = sfu_cose_verify(cose, ring, &opts, &info->signers, err);
        if (r < 0)
                return r;
        info->cbor = cose->content == SFU_COSE_CONTENT_CBOR;
        if (info->cbor)
                return sfu_manifest_parse_cbor(cose->payload, cose->payload_len, o->max_manifest_size, ret, err);
        return sfu_manifest_parse_json((const char *) cose->payload, cose->payload_len, o->max_manifest_size, ret,
                                       err);
}

int sfu_signed_open(const void *buf, size_t len, const struct sfu_keyring *ring, const struct sfu_signed_opts *opts_in,
                    struct sfu_manifest **ret, struct sfu_signed_info *ret_info, struct sfu_err *err) {
        struct sfu_signed_opts opts = opts_in ? *opts_in : (struct sfu_signed_opts) {};
        _cleanup_manifest_ struct sfu_manifest *m = NULL;
        struct sfu_signed_info info = {};
        enum sfu_signed_family family;
        int r;

        if (opts.families == 0)
                opts.families = SFU_SIGNED_FAMILY_ALL;
        if (opts.max_manifest_size == 0 || opts.max_manifest_size > SFU_MANIFEST_MAX_SIZE)
                opts.max_manifest_size = SFU_MANIFEST_MAX_SIZE;
        if (sfu_signed_detect(buf, len, &info.form) < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG,
                                   "not a signed manifest: neither a JWS (compact or JSON) nor a COSE_Sign1 or COSE_Sign");
        family = sfu_signed_family_of(info.form);
        if (!(opts.families & SFU_SIGNED_FAMILY_MASK(family)))
                return sfu_err_set(err, SFU_ERR_POLICY, EPERM,
                                   "the manifest is a %s, a form this device does not take ([security] formats)",
                                   sfu_signed_form_name(info.form));
        r = check_content_type(opts.content_type, info.form, err);
        if (r < 0)
                return r;
        r = family == SFU_SIGNED_FAMILY_COSE ? open_cose(buf, len, ring, &opts, &m, &info, err)
                                             : open_jws(buf, len, ring, &opts, &m, &info, err);
        if (r < 0)
                return r;
        /* Each signature counts for what its key's scope covers. */
        r = sfu_scope_check(m, ring, info.signer_keys, info.signers, opts.min_signatures, opts.scope_report, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        if (ret_info)
                *ret_info = info;
        return 0;
}

const char *sfu_signed_alg_names(unsigned alg_mask, char *buf, size_t size) {
        size_t used = 0;

        buf[0] = 0;
        for (int a = 0; a < _SFU_ALG_MAX && used < size; a++)
                if (alg_mask & SFU_ALG_MASK(a))
                        used += (size_t) snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
                                                  sfu_alg_name((enum sfu_alg) a));
        return buf;
}
