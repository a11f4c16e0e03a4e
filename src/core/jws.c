/* SPDX-License-Identifier: MIT */
#include <strings.h>

#include "core/alg.h"
#include "core/b64url.h"
#include "core/json.h"
#include "core/jws.h"
#include "core/jws-internal.h"
#include "core/sig.h"

/* Largest signature we parse: RSA at 16384 bits. */
#define JWS_SIGNATURE_MAX 2048
/* Base64url length of the largest protected header. */
#define JWS_HEADER_B64_MAX ((SFU_JWS_MAX_HEADER + 2) / 3 * 4)

static const char *quote_json(const json_t *s, char buf[static SFU_QUOTE_MAX + 4]) {
        return sfu_quote(json_string_value(s), json_string_length(s), buf);
}

/* ---------------------------------------------------------------- parsing */

/* Why s is not strict base64url, for messages. */
static const char *b64url_problem(const char *s, size_t len) {
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c == '=')
                        return "padding '=' is not allowed";
                if (c == '+' || c == '/')
                        return "'+' and '/' are standard base64, not base64url";
                if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
                        return "white space is not allowed";
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_'))
                        return "a character outside the base64url alphabet";
        }
        if (len % 4 == 1)
                return "impossible length";
        return "non-zero unused bits in the last character";
}

static int decode_b64(const char *what, size_t idx, const char *s, size_t len, uint8_t **ret,
                      size_t *ret_len, struct sfu_err *err) {
        int r = sfu_b64url_decode(s, len, ret, ret_len);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (idx)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "signature %zu: %s is not valid base64url: %s", idx, what,
                                           b64url_problem(s, len));
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s is not valid base64url: %s", what,
                                   b64url_problem(s, len));
        }
        return 0;
}

static void signature_clear(struct sfu_jws_signature *sig) {
        free(sig->protected_b64);
        if (sig->protected_header)
                json_decref(sig->protected_header);
        if (sig->unprotected_header)
                json_decref(sig->unprotected_header);
        free(sig->signature);
        *sig = (struct sfu_jws_signature){};
}

void sfu_jws_free(struct sfu_jws *jws) {
        if (!jws)
                return;
        free(jws->payload_b64);
        free(jws->payload);
        for (size_t i = 0; i < jws->n_signatures; i++)
                signature_clear(&jws->signatures[i]);
        free(jws);
}

/* Fills sig from its parts; unprotected is borrowed (may be NULL). */
static int parse_signature(struct sfu_jws_signature *sig, size_t idx, const char *prot, size_t prot_len,
                           json_t *unprotected, const char *sig_b64, size_t sig_b64_len,
                           struct sfu_err *err) {
        _cleanup_free_ uint8_t *header = NULL;
        size_t header_len = 0;
        const char *key;
        json_t *value;
        int r;

        if (prot_len > JWS_HEADER_B64_MAX)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG,
                                   "signature %zu: protected header exceeds the limit of %u bytes", idx,
                                   SFU_JWS_MAX_HEADER);
        if (sig_b64_len > (JWS_SIGNATURE_MAX + 2) / 3 * 4)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG,
                                   "signature %zu: signature exceeds the limit of %d bytes", idx,
                                   JWS_SIGNATURE_MAX);

        sig->protected_b64 = strndup(prot, prot_len);
        if (!sig->protected_b64)
                return -ENOMEM;
        if (prot_len > 0) {
                r = decode_b64("protected header", idx, prot, prot_len, &header, &header_len, err);
                if (r < 0)
                        return r;
                r = sfu_json_parse_object_quiet((const char *) header, header_len, SFU_JWS_MAX_HEADER,
                                                &sig->protected_header, err);
                if (r < 0) {
                        sfu_err_prefix(err, "signature %zu: protected header", idx);
                        return r;
                }
        } else {
                sig->protected_header = json_object();
                if (!sig->protected_header)
                        return -ENOMEM;
        }

        if (unprotected) {
                if (!json_is_object(unprotected))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "signature %zu: unprotected \"header\" is not a JSON object",
                                           idx);
                json_object_foreach(unprotected, key, value) {
                        char q[SFU_QUOTE_MAX + 4];
                        (void) value;
                        if (json_object_get(sig->protected_header, key))
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                                   "signature %zu: header parameter \"%s\" is in both the "
                                                   "protected and the unprotected header",
                                                   idx, sfu_quote(key, strlen(key), q));
                }
                sig->unprotected_header = json_incref(unprotected);
        }

        r = decode_b64("signature", idx, sig_b64, sig_b64_len, &sig->signature, &sig->signature_len, err);
        if (r < 0)
                return r;
        return 0;
}

static int parse_payload(struct sfu_jws *jws, const char *s, size_t len, struct sfu_err *err) {
        int r;

        if (len == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "the JWS payload is empty (detached payloads are not supported)");
        r = decode_b64("payload", 0, s, len, &jws->payload, &jws->payload_len, err);
        if (r < 0)
                return r;
        jws->payload_b64 = strndup(s, len);
        if (!jws->payload_b64)
                return -ENOMEM;
        return 0;
}

static int parse_compact(struct sfu_jws *jws, const char *buf, size_t len, struct sfu_err *err) {
        const char *dot[2] = {};
        size_t n_dots = 0;

        for (size_t i = 0; i < len; i++)
                if (buf[i] == '.') {
                        if (n_dots < 2)
                                dot[n_dots] = buf + i;
                        n_dots++;
                }
        if (n_dots != 2)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "a compact JWS has 3 segments separated by '.', this has %zu%s",
                                   n_dots + 1,
                                   n_dots == 4 ? " (a JWE? encrypted manifests are not supported)" : "");
        jws->form = SFU_JWS_COMPACT;
        if (dot[0] == buf)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the JWS protected header is empty");
        jws->n_signatures = 1;
        int r = parse_signature(&jws->signatures[0], 1, buf, (size_t) (dot[0] - buf), NULL, dot[1] + 1,
                                (size_t) (buf + len - dot[1] - 1), err);
        if (r < 0)
                return r;
        return parse_payload(jws, dot[0] + 1, (size_t) (dot[1] - dot[0] - 1), err);
}

/* A string member of a JWS JSON object; -ENOENT when absent. */
static int json_member_string(json_t *obj, const char *name, size_t idx, const char **ret, size_t *ret_len,
                              struct sfu_err *err) {
        json_t *v = json_object_get(obj, name);
        if (!v)
                return -ENOENT;
        if (!json_is_string(v)) {
                if (idx)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "signature %zu: \"%s\" is not a string", idx, name);
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "JWS member \"%s\" is not a string", name);
        }
        *ret = json_string_value(v);
        *ret_len = json_string_length(v);
        return 0;
}

static int parse_json_signature(struct sfu_jws *jws, json_t *obj, size_t idx, struct sfu_err *err) {
        const char *prot = "", *sig = NULL;
        size_t prot_len = 0, sig_len = 0;
        json_t *header;
        int r;

        if (!json_is_object(obj))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "signature %zu is not a JSON object", idx);
        r = json_member_string(obj, "protected", idx, &prot, &prot_len, err);
        if (r < 0 && r != -ENOENT)
                return r;
        if (r == 0 && prot_len == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "signature %zu: \"protected\" is empty", idx);
        header = json_object_get(obj, "header");
        if (r == -ENOENT && !header)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "signature %zu has neither \"protected\" nor \"header\"", idx);
        r = json_member_string(obj, "signature", idx, &sig, &sig_len, err);
        if (r == -ENOENT)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "signature %zu has no \"signature\"", idx);
        if (r < 0)
                return r;
        r = parse_signature(&jws->signatures[idx - 1], idx, prot, prot_len, header, sig, sig_len, err);
        jws->n_signatures = idx;
        return r;
}

static int parse_json(struct sfu_jws *jws, const char *buf, size_t len, struct sfu_err *err) {
        _cleanup_json_ json_t *root = NULL;
        const char *payload = NULL;
        size_t payload_len = 0;
        json_t *signatures;
        bool flattened;
        int r;

        r = sfu_json_parse_object_quiet(buf, len, SFU_JWS_MAX_SIZE, &root, err);
        if (r < 0) {
                sfu_err_prefix(err, "JWS");
                return r;
        }
        r = json_member_string(root, "payload", 0, &payload, &payload_len, err);
        if (r == -ENOENT)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "the JWS has no \"payload\" (detached payloads are not supported)");
        if (r < 0)
                return r;
        r = parse_payload(jws, payload, payload_len, err);
        if (r < 0)
                return r;

        signatures = json_object_get(root, "signatures");
        flattened = json_object_get(root, "protected") || json_object_get(root, "header") ||
                    json_object_get(root, "signature");
        if (signatures && flattened)
                return sfu_err_set(
                        err, SFU_ERR_PARSE, EINVAL,
                        "the JWS mixes the flattened (\"signature\") and general (\"signatures\") forms");
        if (flattened) {
                jws->form = SFU_JWS_FLATTENED;
                return parse_json_signature(jws, root, 1, err);
        }
        if (!signatures)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "the JWS has neither \"signature\" nor \"signatures\"");
        if (!json_is_array(signatures))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "JWS \"signatures\" is not an array");
        if (json_array_size(signatures) == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "JWS \"signatures\" is empty");
        if (json_array_size(signatures) > SFU_JWS_MAX_SIGNATURES)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG,
                                   "the JWS has %zu signatures, more than the limit of %d",
                                   json_array_size(signatures), SFU_JWS_MAX_SIGNATURES);
        jws->form = SFU_JWS_GENERAL;
        for (size_t i = 0; i < json_array_size(signatures); i++) {
                r = parse_json_signature(jws, json_array_get(signatures, i), i + 1, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool is_space(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int sfu_jws_parse(const char *buf, size_t len, struct sfu_jws **ret, struct sfu_err *err) {
        _cleanup_jws_ struct sfu_jws *jws = NULL;
        int r;

        if (!buf && len > 0)
                return -EINVAL;
        if (len > SFU_JWS_MAX_SIZE)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG,
                                   "JWS of %zu bytes exceeds the limit of %u bytes", len, SFU_JWS_MAX_SIZE);
        /* White space around the whole (a trailing newline in a file). */
        while (len > 0 && is_space(buf[0])) {
                buf++;
                len--;
        }
        while (len > 0 && is_space(buf[len - 1]))
                len--;
        if (len == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "empty input is not a JWS");

        jws = calloc(1, sizeof(*jws));
        if (!jws)
                return -ENOMEM;
        if (buf[0] == '[')
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "a JWS in JSON serialization must be a JSON object");
        r = buf[0] == '{' ? parse_json(jws, buf, len, err) : parse_compact(jws, buf, len, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(jws);
        return 0;
}

/* ---------------------------------------------------------------- signing input */

int sfu_jws_signing_input(const char *protected_b64, const char *payload_b64, char **ret,
                              size_t *ret_len) {
        size_t a = strlen(protected_b64), b = strlen(payload_b64);
        char *s = malloc(a + 1 + b + 1);

        if (!s)
                return -ENOMEM;
        memcpy(s, protected_b64, a);
        s[a] = '.';
        memcpy(s + a + 1, payload_b64, b);
        s[a + 1 + b] = 0;
        *ret = s;
        *ret_len = a + 1 + b;
        return 0;
}

/* ---------------------------------------------------------------- verify */

static bool typ_matches(const char *got, const char *want) {
        /* RFC 7515 4.1.9: media types compare case-insensitively and the
         * "application/" prefix may be left out. */
        if (strcasecmp(got, want) == 0)
                return true;
        if (strncasecmp(got, "application/", 12) == 0 && strcasecmp(got + 12, want) == 0)
                return true;
        if (strncasecmp(want, "application/", 12) == 0 && strcasecmp(want + 12, got) == 0)
                return true;
        return false;
}

/* The rules of the JWS as a whole, which no other signature can make up
 * for (jws.h): -errno when a signature breaks one; otherwise 0, with
 * *ret_alg the signature's algorithm, or _SFU_ALG_INVALID and m filled
 * when the algorithm is one this device does not accept (unknown to it,
 * or not in the allow-list): such a signature counts for nothing. */
static int check_rules(const struct sfu_jws_signature *sig, size_t idx,
                       const struct sfu_jws_verify_opts *opts, enum sfu_alg *ret_alg, struct sfu_sig_miss *m,
                       struct sfu_err *err) {
        json_t *ph = sig->protected_header, *uh = sig->unprotected_header;
        json_t *alg_v, *crit, *b64, *typ, *kid;
        char q[SFU_QUOTE_MAX + 4];
        enum sfu_alg alg;
        const char *name;

        *ret_alg = _SFU_ALG_INVALID;
        alg_v = json_object_get(ph, "alg");
        if (!alg_v) {
                if (uh && json_object_get(uh, "alg"))
                        return sfu_err_set(err, SFU_ERR_SIGNATURE, EBADMSG,
                                           "signature %zu: \"alg\" is only in the unprotected header; it "
                                           "must be in the protected header",
                                           idx);
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EBADMSG,
                                   "signature %zu: the protected header has no \"alg\"", idx);
        }
        if (!json_is_string(alg_v))
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "signature %zu: \"alg\" is not a string",
                                   idx);
        name = json_string_value(alg_v);
        quote_json(alg_v, q);
        if (strcasecmp(name, "none") == 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EBADMSG,
                                   "signature %zu: alg \"%s\" is not allowed", idx, q);
        if (strncasecmp(name, "HS", 2) == 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EBADMSG,
                                   "signature %zu: alg \"%s\" (HMAC) is not allowed", idx, q);

        if (uh && json_object_get(uh, "crit"))
                return sfu_err_set(
                        err, SFU_ERR_SIGNATURE, EBADMSG,
                        "signature %zu: header parameter \"crit\" must be in the protected header", idx);
        crit = json_object_get(ph, "crit");
        if (crit) {
                json_t *first = json_is_array(crit) ? json_array_get(crit, 0) : NULL;
                if (!first || !json_is_string(first))
                        return sfu_err_set(
                                err, SFU_ERR_SIGNATURE, EBADMSG,
                                "signature %zu: header parameter \"crit\" must be a non-empty list of names",
                                idx);
                /* We understand no extension that may be critical. */
                return sfu_err_set(
                        err, SFU_ERR_SIGNATURE, EBADMSG,
                        "signature %zu: header parameter \"crit\" names \"%s\", which is not understood",
                        idx, quote_json(first, q));
        }
        b64 = json_object_get(ph, "b64");
        if (!b64 && uh)
                b64 = json_object_get(uh, "b64");
        if (b64 && !json_is_true(b64))
                return sfu_err_set(
                        err, SFU_ERR_SIGNATURE, EBADMSG,
                        "signature %zu: \"b64\": false (unencoded payload, RFC 7797) is not supported", idx);

        kid = json_object_get(ph, "kid");
        if (!kid && uh)
                kid = json_object_get(uh, "kid");
        if (kid && !json_is_string(kid))
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "signature %zu: \"kid\" is not a string",
                                   idx);

        if (opts->required_typ) {
                typ = json_object_get(ph, "typ");
                if (!typ)
                        return sfu_err_set(
                                err, SFU_ERR_POLICY, EBADMSG,
                                "signature %zu: the protected header has no \"typ\"; \"%s\" is required",
                                idx, opts->required_typ);
                if (!json_is_string(typ))
                        return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG,
                                           "signature %zu: \"typ\" is not a string", idx);
                if (!typ_matches(json_string_value(typ), opts->required_typ))
                        return sfu_err_set(err, SFU_ERR_POLICY, EBADMSG,
                                           "signature %zu: typ \"%s\" is not the required \"%s\"", idx,
                                           quote_json(typ, q), opts->required_typ);
        }

        /* An algorithm this device does not take: the signature counts for
         * nothing, but another one may still carry the manifest (a device
         * that moved to a new algorithm, or has not yet). */
        if (sfu_alg_from_name(name, &alg) < 0 || !sfu_alg_info(alg)->jose) {
                if (strcmp(name, "Ed448") == 0)
                        return sfu_sig_miss(m, SFU_ERR_SIGNATURE,
                                    "signature %zu: alg \"Ed448\" is not supported (EdDSA here means Ed25519 only)",
                                    idx);
                return sfu_sig_miss(m, SFU_ERR_SIGNATURE, "signature %zu: alg \"%s\" is not supported", idx, q);
        }
        if (!(opts->alg_allow & SFU_ALG_MASK(alg)))
                return sfu_sig_miss(m, SFU_ERR_POLICY, "signature %zu: alg \"%s\" is not in the allowed list", idx,
                            sfu_alg_name(alg));
        *ret_alg = alg;
        return 0;
}

/* Checks one signature that passed check_rules: *ret_key the trusted key
 * that verified it, or NULL and m saying why it counts for nothing.  < 0
 * only when a check could not be made. */
static int verify_signature(const struct sfu_jws *jws, const struct sfu_jws_signature *sig, size_t idx,
                            enum sfu_alg alg, const struct sfu_keyring *ring, const struct sfu_key **ret_key,
                            struct sfu_sig_miss *m, struct sfu_err *err) {
        _cleanup_free_ char *input = NULL;
        size_t input_len = 0;
        json_t *kid;
        int r;

        r = sfu_jws_signing_input(sig->protected_b64, jws->payload_b64, &input, &input_len);
        if (r < 0)
                return r;
        kid = json_object_get(sig->protected_header, "kid");
        if (!kid && sig->unprotected_header)
                kid = json_object_get(sig->unprotected_header, "kid");
        return sfu_sig_find_signer(&(struct sfu_sig_check) {
                                           .index = idx,
                                           .alg = alg,
                                           .kid = json_string_value(kid),
                                           .kid_len = kid ? json_string_length(kid) : 0,
                                           .input = input,
                                           .input_len = input_len,
                                           .sig = sig->signature,
                                           .sig_len = sig->signature_len,
                                   },
                                   ring, ret_key, m, err);
}

int sfu_jws_verify(const struct sfu_jws *jws, const struct sfu_keyring *ring,
                   const struct sfu_jws_verify_opts *opts_in, unsigned *ret_valid, struct sfu_err *err) {
        struct sfu_jws_verify_opts opts = opts_in ? *opts_in : (struct sfu_jws_verify_opts){};
        enum sfu_alg sig_alg[SFU_JWS_MAX_SIGNATURES];
        struct sfu_sig_miss misses[SFU_JWS_MAX_SIGNATURES] = {};
        struct sfu_sig_tally tally = {};
        int r;

        if (opts.alg_allow == 0)
                opts.alg_allow = SFU_ALG_MASK_ALL;
        if (!jws || jws->n_signatures == 0 || jws->n_signatures > SFU_JWS_MAX_SIGNATURES ||
            !jws->payload_b64)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "not a parsed JWS");
        if (!ring || ring->n_keys == 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, ENOKEY, "the trust store holds no keys");

        /* Every signature must obey the rules of the whole, whatever the
         * others do. */
        for (size_t i = 0; i < jws->n_signatures; i++) {
                r = check_rules(&jws->signatures[i], i + 1, &opts, &sig_alg[i], &misses[i], err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < jws->n_signatures; i++) {
                const struct sfu_key *key = NULL;

                if (sig_alg[i] != _SFU_ALG_INVALID) {
                        r = verify_signature(jws, &jws->signatures[i], i + 1, sig_alg[i], ring, &key, &misses[i],
                                             err);
                        if (r < 0)
                                return r;
                }
                sfu_sig_tally_add(&tally, sig_alg[i], key, &misses[i], opts.note, opts.userdata);
        }
        if (opts.ret_algs)
                *opts.ret_algs = tally.alg_mask;
        if (opts.ret_signers)
                memcpy(opts.ret_signers, tally.signers, tally.n_signers * sizeof(tally.signers[0]));
        return sfu_sig_tally_result(&tally, opts.min_signatures, ret_valid, err);
}
