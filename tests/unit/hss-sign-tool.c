/* SPDX-License-Identifier: MIT */
/* A test helper around io/hsskey.c for tests/integration/hss-signer-kill.sh
 * (built for `make check` only):
 *
 *   hss-sign-tool keygen KEY PARAMS PUB       new key file, public key to PUB
 *   hss-sign-tool sign KEY MSG SIG            sign file MSG, write SIG (temp
 *                                             + rename: SIG exists only whole);
 *                                             prints "index=N remaining=M"
 *   hss-sign-tool inspect PUB MSG SIG         verify; print "index=N" and per
 *                                             level "level=L I=.. q=.. signed=.."
 *                                             (signed: SHA-256 of what that leaf
 *                                             signed); exit 1 when invalid
 *   hss-sign-tool info KEY                    "params=.. remaining=.. kid=.."
 *   hss-sign-tool faults                      "yes" when fault points exist
 *
 * Exit status 0 on success, 1 on a refusal (reason on stderr). */
#include <inttypes.h>
#include <openssl/evp.h>

#include "core/hex.h"
#include "core/hss.h"
#include "io/fileio.h"
#include "io/hsskey.h"

#define TOOL_FILE_MAX (4u * 1024u * 1024u)

static int fail(const char *what, const struct sfu_err *err) {
        fprintf(stderr, "hss-sign-tool: %s: %s\n", what, err->message[0] ? err->message : "failed");
        return 1;
}

static int read_all(const char *path, char **ret, size_t *ret_len, struct sfu_err *err) {
        int r = sfu_file_read(path, TOOL_FILE_MAX, 0, ret, ret_len, err);
        if (r == -ENOENT)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOENT, "%s does not exist", path);
        return r;
}

static uint32_t get_u32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static int cmd_keygen(char **argv) {
        struct sfu_hss_params params;
        struct sfu_err err = SFU_ERR_INIT;
        uint8_t pub[SFU_HSS_PUBLIC_KEY_SIZE];

        if (sfu_hss_params_from_string(argv[1], &params, &err) < 0 ||
            sfu_hsskey_generate(argv[0], &params, pub, &err) < 0 ||
            sfu_file_write_atomic(argv[2], pub, sizeof(pub), 0644, &err) < 0)
                return fail("keygen", &err);
        return 0;
}

static int cmd_sign(char **argv) {
        _cleanup_free_ char *msg = NULL;
        _cleanup_free_ uint8_t *sig = NULL;
        struct sfu_hss_params params;
        struct sfu_err err = SFU_ERR_INIT;
        size_t msg_len = 0, sig_len = 0;
        uint64_t remaining = 0;

        if (read_all(argv[1], &msg, &msg_len, &err) < 0 ||
            sfu_hsskey_sign(argv[0], (const uint8_t *) msg, msg_len, &sig, &sig_len, &remaining, &err) < 0)
                return fail("sign", &err);
        /* The parameters for the index only: the signature is made. */
        if (sfu_hsskey_info(argv[0], &params, NULL, NULL, &err) < 0)
                return fail("sign", &err);
        if (sfu_file_write_atomic(argv[2], sig, sig_len, 0644, &err) < 0)
                return fail("sign", &err);
        printf("index=%" PRIu64 " remaining=%" PRIu64 "\n", sfu_hss_params_total(&params) - remaining - 1,
               remaining);
        return 0;
}

static int cmd_inspect(char **argv) {
        _cleanup_free_ char *pub = NULL, *msg = NULL, *sig = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        size_t pub_len = 0, msg_len = 0, sig_len = 0, off = 4;
        const uint8_t *key, *s;
        uint64_t index = 0;
        unsigned L;

        if (read_all(argv[0], &pub, &pub_len, &err) < 0 || read_all(argv[1], &msg, &msg_len, &err) < 0 ||
            read_all(argv[2], &sig, &sig_len, &err) < 0 ||
            sfu_hss_verify((const uint8_t *) pub, pub_len, (const uint8_t *) msg, msg_len,
                           (const uint8_t *) sig, sig_len, &err) < 0)
                return fail("inspect", &err);
        /* Valid, hence well-formed: walk the levels. */
        key = (const uint8_t *) pub + 4;
        s = (const uint8_t *) sig;
        L = get_u32((const uint8_t *) pub);
        for (unsigned l = 0; l < L; l++) {
                uint32_t lms = get_u32(key), ots = get_u32(key + 4), q = get_u32(s + off);
                size_t size = sfu_hss_lms_signature_size(lms, ots);
                const uint8_t *signed_msg = l + 1 < L ? s + off + size : (const uint8_t *) msg;
                size_t signed_len = l + 1 < L ? SFU_HSS_LMS_PUBLIC_KEY_SIZE : msg_len;
                uint8_t digest[32];
                char I_hex[33], d_hex[65];

                if (EVP_Digest(signed_msg, signed_len, digest, NULL, EVP_sha256(), NULL) != 1)
                        return 1;
                sfu_hex_encode(key + 8, 16, I_hex);
                sfu_hex_encode(digest, sizeof(digest), d_hex);
                printf("level=%u I=%s q=%" PRIu32 " signed=%s\n", l, I_hex, q, d_hex);
                index = (index << sfu_hss_lms_height(lms)) | q;
                off += size;
                key = s + off;
                off += SFU_HSS_LMS_PUBLIC_KEY_SIZE;
        }
        printf("index=%" PRIu64 "\n", index);
        return 0;
}

static int cmd_info(char **argv) {
        _cleanup_free_ char *kid = NULL;
        struct sfu_hss_params params;
        struct sfu_err err = SFU_ERR_INIT;
        uint8_t pub[SFU_HSS_PUBLIC_KEY_SIZE];
        char text[SFU_HSS_PARAMS_STRING_MAX];
        uint64_t remaining = 0;

        if (sfu_hsskey_info(argv[0], &params, pub, &remaining, &err) < 0)
                return fail("info", &err);
        if (sfu_hss_kid(pub, sizeof(pub), &kid) < 0)
                return 1;
        sfu_hss_params_to_string(&params, text);
        printf("params=%s remaining=%" PRIu64 " kid=%s\n", text, remaining, kid);
        return 0;
}

int main(int argc, char **argv) {
        static const struct {
                const char *name;
                int args;
                int (*run)(char **argv);
        } cmds[] = {
                {"keygen", 3, cmd_keygen},
                {"sign", 3, cmd_sign},
                {"inspect", 3, cmd_inspect},
                {"info", 1, cmd_info},
        };

        if (argc == 2 && strcmp(argv[1], "faults") == 0) {
#ifdef SFU_FAULT_INJECTION
                puts("yes");
#else
                puts("no");
#endif
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(cmds); i++)
                if (argc == cmds[i].args + 2 && strcmp(argv[1], cmds[i].name) == 0)
                        return cmds[i].run(argv + 2);
        fprintf(stderr, "usage: hss-sign-tool keygen KEY PARAMS PUB | sign KEY MSG SIG | inspect PUB MSG "
                        "SIG | info KEY | faults\n");
        return 2;
}
