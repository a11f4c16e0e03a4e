/* SPDX-License-Identifier: MIT */
/* secfu-manifest keygen: a new signing key pair in two files that must
 * not exist yet: PEM for the JOSE/COSE algorithms, or a stateful HSS/LMS
 * private-key file (io/hsskey.c) and its public key for a trust store. */
#include "core/hss-sign.h"
#include "core/key.h"
#include "io/fileio.h"
#include "io/hsskey.h"
#include "tool/tool.h"

static void help(void) {
        printf("Usage: " SFU_TOOL_PROG " keygen --alg ALG [--hss PARAMS] --out PREFIX\n\n"
               "Writes a new private key to PREFIX.key (PKCS#8 PEM, mode 0600) and its\n"
               "public key to PREFIX.pub (SubjectPublicKeyInfo PEM, mode 0644); prints the\n"
               "key id (RFC 7638 thumbprint). Existing files are never overwritten.\n\n"
               "With --alg HSS-LMS: PREFIX.hsskey, the STATEFUL private key (mode 0600; every\n"
               "signature advances it: never copy or restore it), and PREFIX.hss, the 60-byte\n"
               "public key a trust store takes; prints the key id (SHA-256, base64url).\n\n"
               "  --alg ALG      ES256 ES384 ES512 EdDSA (P-256/P-384/P-521/Ed25519),\n"
               "                 RS256 RS384 RS512 PS256 PS384 PS512 (RSA 3072), or\n"
               "                 HSS-LMS (hash-based; COSE signatures only)\n"
               "  --hss PARAMS   HSS levels from the top, H<height>/W<width> each\n"
               "                 (default " SFU_HSS_PARAMS_DEFAULT ": 2^20 signatures)\n"
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

/* PREFIX.hss is claimed first, the key file is created whole (never over
 * an existing one), and then the public key is written: a failure leaves
 * neither file. */
static int write_hss_pair(const char *key_path, const char *pub_path, const struct sfu_hss_params *params,
                          char **ret_kid, struct sfu_err *err) {
        struct created_files created _cleanup_(created_files_cleanup) = {};
        _cleanup_close_ int pub_fd = -1;
        uint8_t pub[SFU_HSS_PUBLIC_KEY_SIZE];
        int r;

        r = claim(pub_path, 0644, &created, &pub_fd, err);
        if (r >= 0) {
                r = sfu_hsskey_generate(key_path, params, pub, err);
                if (r >= 0)
                        created.paths[created.n++] = key_path;
        }
        if (r >= 0)
                r = sfu_file_finish(TAKE_FD(pub_fd), pub_path, pub, sizeof(pub), 0644, err);
        if (r >= 0 && (r = sfu_file_sync_parent(pub_path)) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot sync the directory of %s: %s", pub_path,
                                   strerror(-r));
        if (r >= 0 && sfu_hss_kid(pub, sizeof(pub), ret_kid) < 0)
                r = sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "cannot compute the key id");
        if (r < 0)
                return r;
        created.keep = true;
        return 0;
}

static int keygen_hss(const char *prefix, const char *params_text) {
        const char *cmd = command.name;
        _cleanup_free_ char *key_path = NULL, *pub_path = NULL, *kid = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_hss_params params;
        int r;

        if (sfu_hss_params_from_string(params_text ? params_text : SFU_HSS_PARAMS_DEFAULT, &params, &err) < 0 ||
            sfu_hss_params_check(&params, &err) < 0)
                return sfu_tool_usage_error(cmd, "--hss: %s", err.message);
        key_path = sfu_tool_format("%s.hsskey", prefix);
        pub_path = sfu_tool_format("%s.hss", prefix);
        if (!key_path || !pub_path)
                return sfu_tool_failf(cmd, "out of memory");
        r = write_hss_pair(key_path, pub_path, &params, &kid, &err);
        if (r < 0)
                return sfu_tool_fail(cmd, r, &err);
        printf("%s\n", kid);
        return sfu_tool_done(cmd);
}

int sfu_tool_keygen(int argc, char **argv) {
        const char *cmd = command.name, *alg_name = NULL, *prefix = NULL, *hss_params = NULL;
        const struct sfu_tool_option options[] = {
                { "alg", 'a', SFU_TOOL_STRING, &alg_name },
                { "out", 'o', SFU_TOOL_STRING, &prefix },
                { "hss", 0, SFU_TOOL_STRING, &hss_params },
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
        if (alg == SFU_ALG_HSS_LMS)
                return keygen_hss(prefix, hss_params);
        if (hss_params)
                return sfu_tool_usage_error(cmd, "--hss goes with --alg HSS-LMS");

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
