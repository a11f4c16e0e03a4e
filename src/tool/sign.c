/* SPDX-License-Identifier: MIT */
/* secfu-manifest sign: a JWS or a COSE signature of a manifest by one or
 * several keys, or more signatures on a JWS or a COSE_Sign.  The keys are
 * PEM/JWK private keys or stateful HSS key files (COSE only); sign-cose.c
 * makes the COSE structures. */
#include <ctype.h>

#include "core/json.h"
#include "core/key.h"
#include "io/hsskey.h"
#include "tool/tool.h"

static void help(void) {
        printf("Usage: " SFU_TOOL_PROG " sign --key KEY [--alg ALG] [--kid KID] [--key KEY ...]\n"
               "           [--json | --cose | --cose-sign] [--content cbor|json] [-o OUT] FILE\n\n"
               "Signs the manifest in FILE. Without --cose: a JWS of FILE's bytes with typ\n"
               "\"" SFU_JWS_TYP_MANIFEST "\", compact, or the flattened JSON serialization with\n"
               "--json, or the general JSON serialization for several keys. With --cose: a\n"
               "COSE_Sign1 (one key) or COSE_Sign (several keys, or --cose-sign) over the CBOR\n"
               "form of the manifest (FILE may be the JSON or the CBOR form) or, with\n"
               "--content json, over FILE's bytes.\n"
               "When FILE already is a JWS or a COSE_Sign, the keys' signatures are added\n"
               "to it (the payload is kept byte for byte; a COSE_Sign1 takes no second one).\n\n"
               "  --key KEY          private key: PEM (PKCS#8 or traditional), JWK, or an\n"
               "                     HSS-LMS key file (PREFIX.hsskey, COSE only: each\n"
               "                     signature advances its state); repeatable, at most %d\n"
               "  --alg ALG          algorithm of the --key before it (before any --key:\n"
               "                     of every key); optional except for RSA keys\n"
               "                     (RS256..RS512, PS256..PS512)\n"
               "  --kid KID          key id of the --key before it (default: the JWK kid\n"
               "                     or the RFC 7638 thumbprint; HSS: its key id)\n"
               "  --json             JWS: flattened JSON serialization instead of compact\n"
               "  --cose             COSE instead of JWS\n"
               "  --cose-sign        COSE_Sign even for one key (signatures can be added\n"
               "                     to it later)\n"
               "  --content KIND     COSE payload: cbor (default) or json\n"
               "  -o, --output OUT   write OUT (atomically) instead of standard output;\n"
               "                     COSE is binary and is not written to a terminal\n",
               SFU_TOOL_SIGN_MAX_KEYS);
}

static const struct sfu_tool_command command = { "sign", help };

/* ------------------------------------------------------------ options */

struct sign_key_arg {
        const char *path, *alg, *kid;
};

struct sign_opts {
        struct sign_key_arg keys[SFU_TOOL_SIGN_MAX_KEYS];
        size_t n_keys;
        const char *alg, *kid;          /* given before any --key: for every key */
        const char *content, *output, *path;
        bool json, cose, cose_sign;
};

static int add_key(void *target, const char *arg) {
        struct sign_opts *o = target;

        if (o->n_keys >= SFU_TOOL_SIGN_MAX_KEYS)
                return sfu_tool_usage_error(command.name, "at most %d --key options", SFU_TOOL_SIGN_MAX_KEYS);
        o->keys[o->n_keys++] = (struct sign_key_arg) { .path = arg };
        return 0;
}

/* --alg and --kid belong to the --key before them, or to all keys. */
static int set_key_field(struct sign_opts *o, bool is_alg, const char *arg) {
        struct sign_key_arg *last = o->n_keys > 0 ? &o->keys[o->n_keys - 1] : NULL;
        const char **field = is_alg ? (last ? &last->alg : &o->alg) : (last ? &last->kid : &o->kid);

        if (*field)
                return sfu_tool_usage_error(command.name, "two %s options for one key", is_alg ? "--alg" : "--kid");
        *field = arg;
        return 0;
}

static int set_alg(void *target, const char *arg) {
        enum sfu_alg alg;

        if (sfu_alg_from_name(arg, &alg) < 0)
                return sfu_tool_usage_error(command.name, "unknown algorithm %s", arg);
        return set_key_field(target, true, arg);
}

static int set_kid(void *target, const char *arg) {
        if (!*arg)
                return sfu_tool_usage_error(command.name, "--kid must not be empty");
        return set_key_field(target, false, arg);
}

/* Reads the options into o.  Returns 0, or -1 when the command is over
 * (--help, a usage error) with its exit status in *ret_status. */
static int parse_options(int argc, char **argv, struct sign_opts *o, int *ret_status) {
        const char *cmd = command.name;
        const struct sfu_tool_option options[] = {
                { "key", 0, SFU_TOOL_CALL, o, add_key },
                { "alg", 0, SFU_TOOL_CALL, o, set_alg },
                { "kid", 0, SFU_TOOL_CALL, o, set_kid },
                { "json", 0, SFU_TOOL_FLAG, &o->json },
                { "cose", 0, SFU_TOOL_FLAG, &o->cose },
                { "cose-sign", 0, SFU_TOOL_FLAG, &o->cose_sign },
                { "content", 0, SFU_TOOL_STRING, &o->content },
                { "output", 'o', SFU_TOOL_STRING, &o->output },
        };
        bool hss_alg;

        if (sfu_tool_parse_options(&command, argc, argv, options, ELEMENTSOF(options), ret_status) < 0)
                return -1;
        if (o->n_keys == 0) {
                *ret_status = sfu_tool_usage_error(cmd, "--key is required");
                return -1;
        }
        if (sfu_tool_one_operand(&command, argc, argv, &o->path, ret_status) < 0)
                return -1;
        o->cose = o->cose || o->cose_sign;
        hss_alg = sfu_streq(o->alg, "HSS-LMS");
        for (size_t i = 0; i < o->n_keys; i++)
                hss_alg = hss_alg || sfu_streq(o->keys[i].alg, "HSS-LMS");
        if (o->json && o->cose)
                *ret_status = sfu_tool_usage_error(cmd, "--json is a JWS serialization; it does not go with --cose");
        else if (o->content && !o->cose)
                *ret_status = sfu_tool_usage_error(cmd, "--content goes with --cose");
        else if (o->content && !sfu_streq(o->content, "cbor") && !sfu_streq(o->content, "json"))
                *ret_status = sfu_tool_usage_error(cmd, "--content must be cbor or json, not %s", o->content);
        else if (hss_alg && !o->cose)
                *ret_status = sfu_tool_usage_error(cmd, "HSS-LMS has no JOSE name, so a JWS cannot carry it: "
                                                        "sign with --cose");
        else
                return 0;
        return -1;
}

/* ------------------------------------------------------------ keys */

static void signers_free(struct sfu_tool_signers *s) {
        for (size_t i = 0; i < s->n; i++)
                sfu_key_free(s->items[i].key);
        s->n = 0;
}

/* An HSS key file: COSE only, alg HSS-LMS. */
static int load_hss(const struct sign_key_arg *k, const char *alg_name, const char *kid, struct sfu_tool_signer *s,
                    struct sfu_err *err) {
        int r;

        if (alg_name && !sfu_streq(alg_name, "HSS-LMS"))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s is an HSS key and makes HSS-LMS signatures only, not %s",
                                   k->path, alg_name);
        r = sfu_hsskey_signer(k->path, &s->hss, &s->signer, err);
        if (r < 0)
                return r;
        s->is_hss = true;
        if (kid)
                s->signer.kid = kid;
        return 0;
}

/* Loads every --key, its alg (checked against the key and the output
 * form) and kid; refuses one key id twice.  Returns 0, a negative errno
 * (err says why) or, for a missing --alg, the usage error's exit status. */
static int load_signers(const struct sign_opts *o, bool cose, struct sfu_tool_signers *ret, struct sfu_err *err) {
        int r;

        for (size_t i = 0; i < o->n_keys; i++) {
                const struct sign_key_arg *k = &o->keys[i];
                const char *alg_name = k->alg ? k->alg : o->alg, *kid = k->kid ? k->kid : o->kid;
                struct sfu_tool_signer *s = &ret->items[ret->n];
                enum sfu_alg alg;

                *s = (struct sfu_tool_signer) { .path = k->path };
                if (sfu_tool_is_hsskey(k->path)) {
                        if (!cose)
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                                   "%s is an HSS-LMS key, which has no JOSE name: a JWS cannot carry its "
                                                   "signature; sign with --cose", k->path);
                        r = load_hss(k, alg_name, kid, s, err);
                        if (r < 0)
                                return r;
                        ret->n++;
                } else {
                        r = sfu_key_load_file(k->path, true, &s->key, err);
                        if (r < 0)
                                return r;
                        ret->n++;
                        if (alg_name)
                                r = sfu_alg_from_name(alg_name, &alg);
                        else if ((r = sfu_sig_default_alg(s->key, &alg)) < 0)
                                return sfu_tool_usage_error(command.name,
                                                            "--alg is required with an %s key (RS256..RS512 or "
                                                            "PS256..PS512)", sfu_key_type_name(s->key->type));
                        if (r < 0 || !sfu_sig_fits_key(alg, s->key))
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s is a %s key and cannot make %s signatures",
                                                   k->path, sfu_key_type_name(s->key->type), alg_name);
                        r = sfu_sig_signer_key(s->key, alg, kid, &s->signer, err);
                        if (r < 0)
                                return r;
                }
                for (size_t j = 0; j < i; j++)
                        if (sfu_streq(ret->items[j].signer.kid, s->signer.kid))
                                return sfu_err_set(err, SFU_ERR_PARSE, EEXIST, "%s and %s have the same kid %s",
                                                   ret->items[j].path, k->path, s->signer.kid);
        }
        return 0;
}

/* ------------------------------------------------------------ JWS */

static bool is_b64url_char(char c) {
        return isalnum((unsigned char) c) || c == '-' || c == '_';
}

/* A JWS to add a signature to: the JSON serialization (an object with a
 * "payload" member, which no manifest has) or three base64url segments. */
static bool looks_like_jws(const char *buf, size_t len) {
        _cleanup_json_ json_t *j = NULL;
        size_t dots = 0, i = 0;

        while (i < len && isspace((unsigned char) buf[i]))
                i++;
        if (i < len && buf[i] == '{') {
                if (sfu_json_parse_object(buf, len, SFU_JWS_MAX_SIZE, &j, NULL) < 0)
                        return false;
                return json_object_get(j, "payload") != NULL;
        }
        len = sfu_tool_trim_space(buf, len);
        if (len == 0)
                return false;
        for (i = 0; i < len; i++) {
                if (buf[i] == '.')
                        dots++;
                else if (!is_b64url_char(buf[i]))
                        return false;
        }
        return dots == 2;
}

/* Adds a signature by s to the JWS in input (general serialization). */
static int jws_add(const char *path, const char *input, size_t input_len, const struct sfu_tool_signer *s, char **ret,
                   struct sfu_err *err) {
        _cleanup_jws_ struct sfu_jws *jws = NULL;
        struct sfu_jws_sign_opts opts = {
                .alg = s->signer.alg,
                .kid = s->signer.kid,
                .typ = SFU_JWS_TYP_MANIFEST,
                .form = SFU_JWS_GENERAL,
        };
        int r;

        r = sfu_jws_parse(input, sfu_tool_trim_space(input, input_len), &jws, err);
        if (r < 0) {
                sfu_err_prefix(err, "%s looks like a JWS but is not valid", path);
                return r;
        }
        /* A second signature by the same key adds nothing. */
        for (size_t i = 0; i < jws->n_signatures; i++) {
                json_t *h = jws->signatures[i].protected_header;
                const char *old_kid = json_string_value(json_object_get(h, "kid"));
                if (sfu_streq(old_kid, opts.kid))
                        return sfu_err_set(err, SFU_ERR_SIGNATURE, EEXIST, "%s already has a signature with kid %s",
                                           path, opts.kid);
        }
        return sfu_jws_add_signature(jws, s->key, &opts, ret, err);
}

/* The JWS of input by every signer, or every signature added to the
 * JWS in input. */
static int sign_jws(const struct sign_opts *o, const char *input, size_t input_len, bool add,
                    const struct sfu_tool_signers *signers, char **ret, struct sfu_err *err) {
        _cleanup_free_ char *current = NULL;
        size_t first = 0;
        int r;

        if (!add) {
                struct sfu_jws_sign_opts opts = {
                        .alg = signers->items[0].signer.alg,
                        .kid = signers->items[0].signer.kid,
                        .typ = SFU_JWS_TYP_MANIFEST,
                        .form = o->json ? SFU_JWS_FLATTENED : SFU_JWS_COMPACT,
                };
                sfu_tool_sign_check_payload(o->path, input, input_len, false);
                r = sfu_jws_sign((const uint8_t *) input, input_len, signers->items[0].key, &opts, &current, err);
                if (r < 0)
                        return r;
                first = 1;
        }
        for (size_t i = first; i < signers->n; i++) {
                char *next = NULL;

                r = jws_add(o->path, current ? current : input, current ? strlen(current) : input_len,
                            &signers->items[i], &next, err);
                if (r < 0)
                        return r;
                free(current);
                current = next;
        }
        *ret = TAKE_PTR(current);
        return 0;
}

/* ------------------------------------------------------------ the command */

void sfu_tool_sign_check_payload(const char *path, const void *payload, size_t len, bool cbor) {
        _cleanup_manifest_ struct sfu_manifest *manifest = NULL;
        struct sfu_err warning = SFU_ERR_INIT;
        int r;

        /* Signing is not refused (tests sign broken manifests on purpose),
         * but a device would refuse this payload. */
        if (cbor)
                r = sfu_manifest_parse_cbor(payload, len, SFU_MANIFEST_MAX_SIZE, &manifest, &warning);
        else
                r = sfu_manifest_parse_json(payload, len, SFU_MANIFEST_MAX_SIZE, &manifest, &warning);
        if (r >= 0)
                return;
        fputs(SFU_TOOL_PROG ": sign: warning: ", stderr);
        sfu_tool_put_sanitized(stderr, path);
        fputs(" is not a valid manifest: ", stderr);
        sfu_tool_put_sanitized(stderr, warning.message);
        fputc('\n', stderr);
}

/* What FILE is decides the output: more signatures on a JWS or a COSE
 * structure, or a new signature of a manifest. */
static int classify_input(const struct sign_opts *o, const char *input, size_t len, bool *ret_cose, bool *ret_add,
                          struct sfu_err *err) {
        enum sfu_signed_form form;
        bool cose_input = len > 0 && sfu_signed_detect(input, len, &form) >= 0 &&
                          sfu_signed_family_of(form) == SFU_SIGNED_FAMILY_COSE;

        *ret_add = cose_input || looks_like_jws(input, len);
        *ret_cose = o->cose || cose_input;
        if (*ret_add && !cose_input && o->cose)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "%s is a JWS: --cose signs a manifest (its JSON or CBOR form), not a JWS", o->path);
        if (*ret_add && (o->content || o->cose_sign || o->json))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "%s is signed already: its signatures are added to it as it is (%s does not apply)",
                                   o->path, o->content ? "--content" : o->cose_sign ? "--cose-sign" : "--json");
        if (!*ret_add && len > SFU_MANIFEST_MAX_SIZE)
                return sfu_err_set(err, SFU_ERR_SIZE, EFBIG, "%s is larger than the manifest limit of %u bytes", o->path,
                                   SFU_MANIFEST_MAX_SIZE);
        return 0;
}

static void print_hss_notes(const struct sfu_tool_signers *signers) {
        for (size_t i = 0; i < signers->n; i++)
                if (signers->items[i].is_hss) {
                        fputs(SFU_TOOL_PROG ": sign: note: ", stderr);
                        sfu_tool_put_sanitized(stderr, signers->items[i].path);
                        fprintf(stderr, " has %llu signatures left\n",
                                (unsigned long long) signers->items[i].hss.remaining);
                }
}

int sfu_tool_sign(int argc, char **argv) {
        const char *cmd = command.name;
        struct sign_opts o = {};
        struct sfu_tool_signers signers _cleanup_(signers_free) = {};
        _cleanup_free_ char *input = NULL, *text = NULL;
        _cleanup_free_ uint8_t *cose_out = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        size_t input_len = 0, cose_len = 0;
        bool cose = false, add = false;
        int r, status = 0;

        if (parse_options(argc, argv, &o, &status) < 0)
                return status;
        r = sfu_tool_read_input(o.path, SFU_JWS_MAX_SIZE, &input, &input_len, &err);
        if (r >= 0)
                r = classify_input(&o, input, input_len, &cose, &add, &err);
        if (r >= 0)
                r = load_signers(&o, cose, &signers, &err);
        if (r > 0)
                return r;
        if (r < 0)
                return sfu_tool_fail(cmd, r, &err);

        if (cose) {
                struct sfu_tool_cose_job job = {
                        .path = o.path,
                        .add = add,
                        .multi = o.cose_sign || signers.n > 1,
                        .content = sfu_streq(o.content, "json") ? SFU_COSE_CONTENT_JSON : SFU_COSE_CONTENT_CBOR,
                };
                r = sfu_tool_sign_cose(&job, (const uint8_t *) input, input_len, &signers, &cose_out, &cose_len, &err);
                if (r >= 0)
                        r = sfu_tool_write_output(o.output, cose_out, cose_len, true, &err);
        } else {
                r = sign_jws(&o, input, input_len, add, &signers, &text, &err);
                if (r >= 0) {
                        char *line = sfu_tool_format("%s\n", text);
                        r = line ? sfu_tool_write_output(o.output, line, strlen(line), false, &err) : -ENOMEM;
                        free(line);
                }
        }
        if (r < 0)
                return sfu_tool_fail(cmd, r, &err);
        print_hss_notes(&signers);
        return EXIT_SUCCESS;
}
