/* SPDX-License-Identifier: MIT */
/* secfu-manifest verify: a signed manifest checked as a device checks its
 * signatures; the payload on success. */
#include <ctype.h>

#include "core/key.h"
#include "core/manifest.h"
#include "tool/tool.h"

#define VERIFY_MAX_KEY_ARGS SFU_KEYRING_MAX

static void help(void) {
        printf("Usage: " SFU_TOOL_PROG " verify --key PUB [--key PUB ...] [--alg-allow LIST]\n"
               "           [--min-signatures N] FILE\n\n"
               "Verifies the JWS in FILE with the given trusted keys, as a device does,\n"
               "and checks that its payload is a syntactically valid manifest. On success\n"
               "prints the payload, byte for byte, and exits 0; otherwise prints nothing\n"
               "on standard output and one reason on standard error.\n\n"
               "  --key PUB            trusted public key (PEM or JWK), or a directory of\n"
               "                       *.pem and *.jwk files; repeatable\n"
               "  --alg-allow LIST     comma-separated algorithms to accept (default: all ten)\n"
               "  --min-signatures N   distinct trusted keys that must have signed (default 1)\n");
}

static const struct sfu_tool_command command = { "verify", help };

struct trusted_paths {
        const char *items[VERIFY_MAX_KEY_ARGS];
        size_t n;
};

static int add_key_path(void *target, const char *path) {
        struct trusted_paths *keys = target;

        if (keys->n >= ELEMENTSOF(keys->items))
                return sfu_tool_usage_error(command.name, "at most %zu --key options", ELEMENTSOF(keys->items));
        keys->items[keys->n++] = path;
        return 0;
}

static int parse_min_signatures(void *target, const char *text) {
        unsigned *ret = target;
        char *end;
        unsigned long n;

        errno = 0;
        n = strtoul(text, &end, 10);
        if (errno || end == text || *end || !isdigit((unsigned char) text[0]) || n < 1 ||
            n > SFU_JWS_MAX_SIGNATURES)
                return sfu_tool_usage_error(command.name, "--min-signatures must be a number from 1 to %d",
                                            SFU_JWS_MAX_SIGNATURES);
        *ret = (unsigned) n;
        return 0;
}

/* Verifies the JWS in path with the keys and writes its payload out. */
static int verify_file(const char *path, const struct trusted_paths *keys, const struct sfu_jws_verify_opts *opts,
                       struct sfu_err *err) {
        _cleanup_manifest_ struct sfu_manifest *manifest = NULL;
        _cleanup_keyring_ struct sfu_keyring *ring = NULL;
        _cleanup_jws_ struct sfu_jws *jws = NULL;
        _cleanup_free_ char *input = NULL;
        size_t input_len = 0;
        unsigned valid = 0;
        int r;

        if (sfu_keyring_new(&ring) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        for (size_t i = 0; i < keys->n; i++) {
                r = sfu_keyring_load_path(ring, keys->items[i], err);
                if (r < 0)
                        return r;
        }
        if (ring->n_keys == 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, ENOKEY, "no trusted key was found in the given --key paths");

        r = sfu_tool_read_jws(path, &input, &input_len, &jws, err);
        if (r < 0)
                return r;
        r = sfu_jws_verify(jws, ring, opts, &valid, err);
        if (r < 0)
                return r;
        r = sfu_manifest_parse_json((const char *) jws->payload, jws->payload_len, SFU_MANIFEST_MAX_SIZE,
                                    &manifest, err);
        if (r < 0) {
                sfu_err_prefix(err, "the signed payload is not a valid manifest");
                return r;
        }
        return sfu_tool_write_stdout(jws->payload, jws->payload_len, err);
}

int sfu_tool_verify(int argc, char **argv) {
        const char *cmd = command.name, *alg_allow = NULL, *path = NULL;
        struct sfu_jws_verify_opts opts = { .required_typ = SFU_JWS_TYP_MANIFEST };
        struct trusted_paths keys = {};
        const struct sfu_tool_option options[] = {
                { "key", 0, SFU_TOOL_CALL, &keys, add_key_path },
                { "alg-allow", 0, SFU_TOOL_STRING, &alg_allow },
                { "min-signatures", 0, SFU_TOOL_CALL, &opts.min_signatures, parse_min_signatures },
        };
        struct sfu_err err = SFU_ERR_INIT;
        int r, status;

        if (sfu_tool_parse_options(&command, argc, argv, options, ELEMENTSOF(options), &status) < 0)
                return status;
        if (keys.n == 0)
                return sfu_tool_usage_error(cmd, "at least one --key is required");
        if (sfu_tool_one_operand(&command, argc, argv, &path, &status) < 0)
                return status;
        if (alg_allow) {
                r = sfu_alg_list_parse(alg_allow, &opts.alg_allow, &err);
                if (r < 0)
                        return sfu_tool_usage_error(cmd, "--alg-allow: %s", err.message);
        }
        r = verify_file(path, &keys, &opts, &err);
        if (r < 0)
                return sfu_tool_fail(cmd, r, &err);
        return EXIT_SUCCESS;
}
