/* SPDX-License-Identifier: MIT */
/* secfu-manifest sign: a JWS of a manifest, or one more signature on a
 * JWS. */
#include <ctype.h>

#include "core/json.h"
#include "core/key.h"
#include "core/manifest.h"
#include "tool/tool.h"

static void help(void) {
        printf("Usage: " SFU_TOOL_PROG " sign --key KEY [--alg ALG] [--kid KID] [--json] FILE\n\n"
               "Prints a JWS of FILE's bytes with typ \"" SFU_JWS_TYP_MANIFEST "\": compact, or the\n"
               "flattened JSON serialization with --json. When FILE already is a JWS,\n"
               "adds a signature and prints the general JSON serialization.\n\n"
               "  --key KEY   private key (PKCS#8 or traditional PEM, or JWK)\n"
               "  --alg ALG   signature algorithm; optional for EC and Ed25519 keys,\n"
               "              required for RSA (RS256..RS512, PS256..PS512)\n"
               "  --kid KID   key id for the header (default: the JWK kid or the\n"
               "              RFC 7638 thumbprint)\n"
               "  --json      JSON serialization instead of compact\n");
}

static const struct sfu_tool_command command = { "sign", help };

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

/* Adds a signature by key to the JWS in input (general serialization). */
static int add_signature(const char *path, const char *input, size_t input_len, const struct sfu_key *key,
                         struct sfu_jws_sign_opts *opts, char **ret, struct sfu_err *err) {
        _cleanup_jws_ struct sfu_jws *jws = NULL;
        const char *new_kid = opts->kid ? opts->kid : key->kid;
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
                if (new_kid && sfu_streq(old_kid, new_kid))
                        return sfu_err_set(err, SFU_ERR_SIGNATURE, EEXIST, "%s already has a signature with kid %s",
                                           path, new_kid);
        }
        opts->form = SFU_JWS_GENERAL;
        return sfu_jws_add_signature(jws, key, opts, ret, err);
}

/* Signs the bytes of input, which should be a manifest. */
static int sign_payload(const char *path, const char *input, size_t input_len, const struct sfu_key *key,
                        const struct sfu_jws_sign_opts *opts, char **ret, struct sfu_err *err) {
        _cleanup_manifest_ struct sfu_manifest *manifest = NULL;
        struct sfu_err warning = SFU_ERR_INIT;

        if (input_len > SFU_MANIFEST_MAX_SIZE)
                return sfu_err_set(err, SFU_ERR_SIZE, EFBIG, "%s is larger than the manifest limit of %u bytes", path,
                                   SFU_MANIFEST_MAX_SIZE);
        /* Signing is not refused (tests sign broken manifests on purpose),
         * but a device would refuse this payload. */
        if (sfu_manifest_parse_json(input, input_len, SFU_MANIFEST_MAX_SIZE, &manifest, &warning) < 0) {
                fputs(SFU_TOOL_PROG ": sign: warning: ", stderr);
                sfu_tool_put_sanitized(stderr, path);
                fputs(" is not a valid manifest: ", stderr);
                sfu_tool_put_sanitized(stderr, warning.message);
                fputc('\n', stderr);
        }
        return sfu_jws_sign((const uint8_t *) input, input_len, key, opts, ret, err);
}

int sfu_tool_sign(int argc, char **argv) {
        const char *cmd = command.name, *key_path = NULL, *alg_name = NULL, *kid = NULL, *path = NULL;
        bool json = false;
        const struct sfu_tool_option options[] = {
                { "key", 0, SFU_TOOL_STRING, &key_path },
                { "alg", 0, SFU_TOOL_STRING, &alg_name },
                { "kid", 0, SFU_TOOL_STRING, &kid },
                { "json", 0, SFU_TOOL_FLAG, &json },
        };
        _cleanup_key_ struct sfu_key *key = NULL;
        _cleanup_free_ char *input = NULL, *out = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_jws_sign_opts opts = {};
        enum sfu_alg alg;
        size_t input_len = 0;
        int r, status;

        if (sfu_tool_parse_options(&command, argc, argv, options, ELEMENTSOF(options), &status) < 0)
                return status;
        if (!key_path)
                return sfu_tool_usage_error(cmd, "--key is required");
        if (sfu_tool_one_operand(&command, argc, argv, &path, &status) < 0)
                return status;
        if (kid && !*kid)
                return sfu_tool_usage_error(cmd, "--kid must not be empty");
        if (alg_name && sfu_alg_from_name(alg_name, &alg) < 0)
                return sfu_tool_usage_error(cmd, "unknown algorithm %s", alg_name);

        r = sfu_key_load_file(key_path, true, &key, &err);
        if (r < 0)
                return sfu_tool_fail(cmd, r, &err);
        if (!alg_name && sfu_sig_default_alg(key, &alg) < 0)
                return sfu_tool_usage_error(cmd, "--alg is required with an %s key (RS256..RS512 or PS256..PS512)",
                                            sfu_key_type_name(key->type));
        if (!sfu_sig_fits_key(alg, key))
                return sfu_tool_failf(cmd, "%s is a %s key and cannot make %s signatures", key_path,
                                      sfu_key_type_name(key->type), sfu_alg_name(alg));

        r = sfu_tool_read_input(path, SFU_JWS_MAX_SIZE, &input, &input_len, &err);
        if (r < 0)
                return sfu_tool_fail(cmd, r, &err);
        opts = (struct sfu_jws_sign_opts) {
                .alg = alg,
                .kid = kid,
                .typ = SFU_JWS_TYP_MANIFEST,
                .form = json ? SFU_JWS_FLATTENED : SFU_JWS_COMPACT,
        };
        if (looks_like_jws(input, input_len))
                r = add_signature(path, input, input_len, key, &opts, &out, &err);
        else
                r = sign_payload(path, input, input_len, key, &opts, &out, &err);
        if (r < 0)
                return sfu_tool_fail(cmd, r, &err);
        printf("%s\n", out);
        return sfu_tool_done(cmd);
}
