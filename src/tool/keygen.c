/* SPDX-License-Identifier: MIT */
/* secfu-manifest keygen: a new signing key pair in two files that must
 * not exist yet. */
#include "core/key.h"
#include "io/fileio.h"
#include "tool/tool.h"

static void help(void) {
        printf("Usage: " SFU_TOOL_PROG " keygen --alg ALG --out PREFIX\n\n"
               "Writes a new private key to PREFIX.key (PKCS#8 PEM, mode 0600) and its\n"
               "public key to PREFIX.pub (SubjectPublicKeyInfo PEM, mode 0644); prints the\n"
               "key id (RFC 7638 thumbprint). Existing files are never overwritten.\n\n"
               "  --alg ALG      ES256 ES384 ES512 EdDSA (P-256/P-384/P-521/Ed25519) or\n"
               "                 RS256 RS384 RS512 PS256 PS384 PS512 (RSA 3072)\n"
               "  --out PREFIX   path prefix of the two files\n");
}

static const struct sfu_tool_command command = { "keygen", help };

/* Removes the files it lists unless keep is set: a failure half way
 * leaves nothing behind. */
struct created_files {
        const char *paths[2];
        size_t n;
        bool keep;
};

static void created_files_cleanup(struct created_files *c) {
        if (c->keep)
                return;
        for (size_t i = 0; i < c->n; i++)
                unlink(c->paths[i]);
}

static int claim(const char *path, mode_t mode, struct created_files *created, int *ret_fd, struct sfu_err *err) {
        int r = sfu_file_create_new(path, mode, ret_fd, err);

        if (r >= 0)
                created->paths[created->n++] = path;
        return r;
}

/* Both names are claimed before either is written, and a failure removes
 * what was created; the private key file is created with mode 0600 and
 * never exists with a wider one. */
static int write_pair(const char *key_path, const char *key_pem, const char *pub_path, const char *pub_pem,
                      struct sfu_err *err) {
        struct created_files created _cleanup_(created_files_cleanup) = {};
        _cleanup_close_ int key_fd = -1, pub_fd = -1;
        int r;

        r = claim(key_path, 0600, &created, &key_fd, err);
        if (r >= 0)
                r = claim(pub_path, 0644, &created, &pub_fd, err);
        if (r >= 0)
                r = sfu_file_finish(TAKE_FD(key_fd), key_path, key_pem, strlen(key_pem), 0600, err);
        if (r >= 0)
                r = sfu_file_finish(TAKE_FD(pub_fd), pub_path, pub_pem, strlen(pub_pem), 0644, err);
        if (r >= 0 && (r = sfu_file_sync_parent(key_path)) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot sync the directory of %s: %s", key_path,
                                   strerror(-r));
        if (r < 0)
                return r;
        created.keep = true;
        return 0;
}

int sfu_tool_keygen(int argc, char **argv) {
        const char *cmd = command.name, *alg_name = NULL, *prefix = NULL;
        const struct sfu_tool_option options[] = {
                { "alg", 'a', SFU_TOOL_STRING, &alg_name },
                { "out", 'o', SFU_TOOL_STRING, &prefix },
        };
        _cleanup_free_ char *key_path = NULL, *pub_path = NULL, *pub_pem = NULL, *kid = NULL;
        _cleanup_secret_ char *key_pem = NULL;
        _cleanup_key_ struct sfu_key *key = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        enum sfu_alg alg;
        int r, status;

        if (sfu_tool_parse_options(&command, argc, argv, options, ELEMENTSOF(options), &status) < 0)
                return status;
        if (optind < argc)
                return sfu_tool_usage_error(cmd, "unexpected argument %s", argv[optind]);
        if (!alg_name)
                return sfu_tool_usage_error(cmd, "--alg is required");
        if (!prefix || !*prefix)
                return sfu_tool_usage_error(cmd, "--out is required");
        if (sfu_alg_from_name(alg_name, &alg) < 0)
                return sfu_tool_usage_error(cmd, "unknown algorithm %s", alg_name);

        key_path = sfu_tool_format("%s.key", prefix);
        pub_path = sfu_tool_format("%s.pub", prefix);
        if (!key_path || !pub_path)
                return sfu_tool_failf(cmd, "out of memory");

        r = sfu_key_generate(sfu_alg_name(alg), &key, &err);
        if (r < 0)
                return sfu_tool_fail(cmd, r, &err);
        if (sfu_key_to_pem(key, true, &key_pem) < 0 || sfu_key_to_pem(key, false, &pub_pem) < 0)
                return sfu_tool_failf(cmd, "cannot encode the new key as PEM");
        if (sfu_key_thumbprint(key, &kid) < 0)
                return sfu_tool_failf(cmd, "cannot compute the key id");
        r = write_pair(key_path, key_pem, pub_path, pub_pem, &err);
        if (r < 0)
                return sfu_tool_fail(cmd, r, &err);
        printf("%s\n", kid);
        return sfu_tool_done(cmd);
}
