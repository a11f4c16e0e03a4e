/* SPDX-License-Identifier: MIT */
/* A test-only front end to the core's CBOR and COSE API, for the interop
 * scripts (tests/interop/cose-*.sh) until secfu-manifest has the verbs.
 *
 *   cose-tool sign1 --key KEY [--alg ALG] [--kid KID] [--content cbor|json] PAYLOAD
 *   cose-tool sign  --key KEY [--alg ALG] [--kid KID] [--content cbor|json] PAYLOAD
 *   cose-tool add   --key KEY [--alg ALG] [--kid KID] COSE_SIGN
 *           write COSE_Sign1 / COSE_Sign / COSE_Sign plus a signature to stdout
 *   cose-tool verify --key PUB [--key PUB ...] [--min N] [--alg-allow LIST]
 *                    [--content manifest|cbor|json|any] COSE
 *           prints the payload; "content: KIND" and "valid: N" go to stderr
 *           with --verbose, and every note
 *   cose-tool manifest-cbor MANIFEST.json   the deterministic CBOR form
 *   cose-tool manifest-check MANIFEST.cbor  the model as JSON (sorted keys)
 *   cose-tool kid KEY                       the key's kid
 *
 * ALG defaults to the key's natural alg (PS256 for RSA).  Failures print
 * one line "cose-tool: CMD: reason" on stderr and exit 1 (2: usage). */
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>

#include "core/alg.h"
#include "core/cbor.h"
#include "core/cose.h"
#include "core/json.h"
#include "core/key.h"
#include "core/manifest.h"
#include "core/sig.h"

#define COSE_TOOL_MAX_FILE (8u * 1024u * 1024u)
#define COSE_TOOL_MAX_KEYS 16

static const char *cmd = "?";
static bool verbose;

static int fail(const char *fmt, ...) _printf_(1, 2);
static int fail(const char *fmt, ...) {
        va_list ap;
        fprintf(stderr, "cose-tool: %s: ", cmd);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return 1;
}

static int read_file(const char *path, uint8_t **ret, size_t *ret_len) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ uint8_t *buf = NULL;
        struct stat st;
        size_t len = 0;

        if (fd < 0 || fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || (uint64_t) st.st_size > COSE_TOOL_MAX_FILE)
                return -EFBIG;
        buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (len < (size_t) st.st_size) {
                ssize_t n = read(fd, buf + len, (size_t) st.st_size - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EIO;
                len += (size_t) n;
        }
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

static int write_all(const void *p, size_t len) {
        return fwrite(p, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : 1;
}

static void print_note(void *userdata, const char *message) {
        (void) userdata;
        fprintf(stderr, "cose-tool: note: %s\n", message);
}

static int usage(void) {
        fprintf(stderr, "usage: cose-tool sign1|sign|add|verify|manifest-cbor|manifest-check|kid ... (see cose-tool.c)\n");
        return 2;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "key", required_argument, NULL, 'k' },
                { "alg", required_argument, NULL, 'a' },
                { "kid", required_argument, NULL, 'i' },
                { "content", required_argument, NULL, 'c' },
                { "min", required_argument, NULL, 'm' },
                { "alg-allow", required_argument, NULL, 'A' },
                { "verbose", no_argument, NULL, 'v' },
                {},
        };
        const char *keys[COSE_TOOL_MAX_KEYS], *alg_name = NULL, *kid = NULL, *content = NULL, *allow = NULL;
        size_t n_keys = 0;
        unsigned min = 0;
        _cleanup_free_ uint8_t *in = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        size_t in_len = 0;
        int c, r;

        if (argc < 2)
                return usage();
        cmd = argv[1];
        optind = 2;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'k':
                        if (n_keys == COSE_TOOL_MAX_KEYS)
                                return usage();
                        keys[n_keys++] = optarg;
                        break;
                case 'a':
                        alg_name = optarg;
                        break;
                case 'i':
                        kid = optarg;
                        break;
                case 'c':
                        content = optarg;
                        break;
                case 'm':
                        min = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 'A':
                        allow = optarg;
                        break;
                case 'v':
                        verbose = true;
                        break;
                default:
                        return usage();
                }
        if (optind != argc - 1)
                return usage();
        r = read_file(argv[optind], &in, &in_len);
        if (r < 0 && strcmp(cmd, "kid") != 0)
                return fail("cannot read %s: %s", argv[optind], strerror(-r));
        r = 0;

        if (strcmp(cmd, "sign1") == 0 || strcmp(cmd, "sign") == 0 || strcmp(cmd, "add") == 0) {
                _cleanup_key_ struct sfu_key *key = NULL;
                _cleanup_free_ uint8_t *out = NULL;
                struct sfu_cose_sign_opts opts = { .kid = kid };
                size_t out_len = 0;

                if (n_keys != 1)
                        return usage();
                if (sfu_key_load_file(keys[0], true, &key, &err) < 0)
                        return fail("%s", err.message);
                if (alg_name)
                        r = sfu_alg_from_name(alg_name, &opts.alg);
                else if (sfu_sig_default_alg(key, &opts.alg) < 0)
                        r = sfu_alg_from_name("PS256", &opts.alg);      /* RSA */
                if (r < 0)
                        return fail("unknown alg \"%s\"", alg_name);
                opts.content = content && strcmp(content, "json") == 0 ? SFU_COSE_CONTENT_JSON : SFU_COSE_CONTENT_CBOR;
                if (strcmp(cmd, "add") == 0) {
                        _cleanup_cose_ struct sfu_cose *cose = NULL;
                        r = sfu_cose_parse(in, in_len, &cose, &err);
                        if (r == 0)
                                r = sfu_cose_add_signature(cose, key, &opts, &out, &out_len, &err);
                } else if (strcmp(cmd, "sign") == 0)
                        r = sfu_cose_sign(in, in_len, key, &opts, &out, &out_len, &err);
                else
                        r = sfu_cose_sign1(in, in_len, key, &opts, &out, &out_len, &err);
                if (r < 0)
                        return fail("%s", err.message[0] ? err.message : strerror(-r));
                return write_all(out, out_len);
        }

        if (strcmp(cmd, "verify") == 0) {
                _cleanup_keyring_ struct sfu_keyring *ring = NULL;
                _cleanup_cose_ struct sfu_cose *cose = NULL;
                struct sfu_cose_verify_opts opts = { .min_signatures = min };
                unsigned valid = 0;

                if (verbose)
                        opts.note = print_note;
                if (sfu_keyring_new(&ring) < 0)
                        return fail("out of memory");
                for (size_t i = 0; i < n_keys; i++) {
                        struct sfu_key *key = NULL;
                        if (sfu_key_load_file(keys[i], false, &key, &err) < 0)
                                return fail("%s", err.message);
                        if (sfu_keyring_add(ring, key, &err) < 0) {
                                sfu_key_free(key);
                                return fail("%s", err.message);
                        }
                }
                if (allow && sfu_alg_list_parse(allow, &opts.alg_allow, &err) < 0)
                        return fail("%s", err.message);
                if (!content || strcmp(content, "manifest") == 0)
                        opts.content_allow = SFU_COSE_CONTENT_MANIFESTS;
                else if (strcmp(content, "cbor") == 0)
                        opts.content_allow = SFU_COSE_CONTENT_MASK(SFU_COSE_CONTENT_CBOR);
                else if (strcmp(content, "json") == 0)
                        opts.content_allow = SFU_COSE_CONTENT_MASK(SFU_COSE_CONTENT_JSON);
                else if (strcmp(content, "any") == 0)
                        opts.content_allow = (1u << _SFU_COSE_CONTENT_MAX) - 1;
                else
                        return usage();
                r = sfu_cose_parse(in, in_len, &cose, &err);
                if (r == 0)
                        r = sfu_cose_verify(cose, ring, &opts, &valid, &err);
                if (r < 0)
                        return fail("%s", err.message[0] ? err.message : strerror(-r));
                if (verbose)
                        fprintf(stderr, "cose-tool: %s, %s, %u valid\n", sfu_cose_form_name(cose->form),
                                sfu_cose_content_name(cose->content), valid);
                return write_all(cose->payload, cose->payload_len);
        }

        if (strcmp(cmd, "manifest-cbor") == 0) {
                _cleanup_json_ json_t *tree = NULL;
                _cleanup_free_ uint8_t *out = NULL;
                size_t out_len = 0;

                if (sfu_json_parse_object((const char *) in, in_len, SFU_MANIFEST_MAX_SIZE, &tree, &err) < 0 ||
                    sfu_cbor_encode_json(tree, SFU_MANIFEST_CBOR_BYTES_KEY, &out, &out_len, &err) < 0)
                        return fail("%s", err.message);
                return write_all(out, out_len);
        }

        if (strcmp(cmd, "manifest-check") == 0) {
                _cleanup_manifest_ struct sfu_manifest *m = NULL;
                _cleanup_json_ json_t *j = NULL;
                _cleanup_free_ char *text = NULL;

                if (sfu_manifest_parse_cbor(in, in_len, SFU_MANIFEST_MAX_SIZE, &m, &err) < 0)
                        return fail("%s", err.message);
                if (sfu_manifest_to_json(m, &j) < 0 || !(text = sfu_json_dump_compact(j)))
                        return fail("out of memory");
                printf("%s\n", text);
                return 0;
        }

        if (strcmp(cmd, "kid") == 0) {
                _cleanup_key_ struct sfu_key *key = NULL;
                if (sfu_key_load_file(argv[optind], false, &key, &err) < 0)
                        return fail("%s", err.message);
                printf("%s\n", key->kid);
                return 0;
        }
        return usage();
}
