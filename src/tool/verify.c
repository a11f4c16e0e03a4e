/* SPDX-License-Identifier: MIT */
/* secfu-manifest verify: a signed manifest in any form, or a bundle,
 * checked as a device checks it (core/signed.c, doc/bundle.md); the
 * payload on standard output, what vouched for it on standard error. */
#include <ctype.h>
#include <fcntl.h>

#include "core/json.h"
#include "core/envelope.h"
#include "core/key.h"
#include "core/scope.h"
#include "io/fileio.h"
#include "tool/tool.h"

#define VERIFY_MAX_KEY_ARGS SFU_KEYRING_MAX

static void help(void) {
        printf("Usage: " SFU_TOOL_PROG " verify --key PUB [--key PUB ...] [--alg-allow LIST]\n"
               "           [--min-signatures N] [--decrypt-key KEY ...] [--json] [--quiet] FILE\n\n"
               "Verifies the signed manifest in FILE (JWS compact or JSON, COSE_Sign1 or\n"
               "COSE_Sign) with the given trusted keys, as a device does, and checks that its\n"
               "payload is a valid manifest. When FILE is a bundle (.sfu), also checks its\n"
               "header and streams every image through the manifest's sizes and digests.\n"
               "On success prints the payload, byte for byte, on standard output and the\n"
               "form, algorithms and trusted keys that signed, and which of them vouched\n"
               "for each component (a key's NAME.scope beside it limits what it covers), on\n"
               "standard error, and exits 0; otherwise prints nothing on standard output and one reason on standard\n"
               "error.\n\n"
               "  --key PUB            trusted public key (PEM, JWK or a 60-byte NAME.hss), or a\n"
               "                       directory of *.pem, *.jwk and *.hss files; repeatable\n"
               "  --alg-allow LIST     comma-separated algorithms to accept (default: all)\n"
               "  --min-signatures N   distinct trusted keys that must have signed (default 1)\n"
               "  --decrypt-key KEY    a device's private key: FILE may be a JWE (an encrypted\n"
               "                       manifest) around the signed manifest; repeatable\n"
               "  --json               print a CBOR manifest as JSON (digests as hex)\n"
               "  --quiet              nothing on standard error on success\n");
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

static int load_ring(const struct trusted_paths *keys, struct sfu_keyring **ret, struct sfu_err *err) {
        _cleanup_keyring_ struct sfu_keyring *ring = NULL;
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
        *ret = TAKE_PTR(ring);
        return 0;
}

/* ------------------------------------------------------------ reading FILE */

struct verify_input {
        int fd;                         /* FILE, or standard input */
        char *bytes;                    /* the signed manifest (a bundle's: its manifest) */
        size_t len;
        struct sfu_tool_bundle bundle;
        bool is_bundle;
};

static void verify_input_clear(struct verify_input *in) {
        if (in->fd > STDIN_FILENO)
                close(in->fd);
        free(in->bytes);
        sfu_tool_bundle_clear(&in->bundle);
}

/* Reads the first bytes: a bundle's head, or else the whole signed
 * manifest (at most SFU_JWS_MAX_SIZE bytes). */
static int read_input(const char *path, struct verify_input *in, struct sfu_err *err) {
        char first[SFU_BUNDLE_HEADER_SIZE];
        _cleanup_free_ char *rest = NULL;
        size_t have = 0, rest_len = 0;
        int r;

        if (sfu_streq(path, "-"))
                in->fd = STDIN_FILENO;
        else if ((r = sfu_file_open_regular(path, &in->fd, err)) < 0)
                return r;
        while (have < sizeof(first)) {
                ssize_t n = read(in->fd, first + have, sizeof(first) - have);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot read %s: %s", path, strerror(errno));
                if (n == 0)
                        break;
                have += (size_t) n;
        }
        if (sfu_bundle_is(first, have)) {
                in->is_bundle = true;
                return sfu_tool_bundle_read_head(in->fd, path, first, have, false, &in->bundle, err);
        }
        r = sfu_file_read_fd(in->fd, path, SFU_JWE_MAX_SIZE - have, &rest, &rest_len, err);
        if (r < 0)
                return r;
        in->bytes = malloc(have + rest_len + 1);
        if (!in->bytes)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        memcpy(in->bytes, first, have);
        memcpy(in->bytes + have, rest, rest_len + 1);
        in->len = have + rest_len;
        return 0;
}

/* ------------------------------------------------------------ output */

static void put_key(const struct sfu_key *key) {
        fputs("kid ", stderr);
        sfu_tool_put_sanitized(stderr, key->kid);
}

/* One line per component: the keys that vouched for an image; for a
 * provider's component, which key must sign the provider's manifest. */
static void print_components(const struct sfu_scope_report *report, const struct sfu_manifest *m) {
        for (size_t i = 0; i < report->n_components; i++) {
                const struct sfu_scope_vouch *v = &report->components[i];

                fputs("component ", stderr);
                sfu_tool_put_sanitized(stderr, v->name);
                fputs(" (", stderr);
                sfu_tool_put_sanitized(stderr, v->slot_class ? v->slot_class : "default slot class");
                fputs("): ", stderr);
                if (v->delegated) {
                        const struct sfu_manifest_provider *p = NULL;
                        for (size_t j = 0; j < m->n_providers; j++)
                                if (sfu_streq(m->providers[j].name, v->name))
                                        p = &m->providers[j];
                        fputs("delegated to ", stderr);
                        sfu_tool_put_sanitized(stderr, p ? p->manifest : "?");
                        if (p && p->kid) {
                                fputs(", signed by the trusted kid ", stderr);
                                sfu_tool_put_sanitized(stderr, p->kid);
                        } else if (p) {
                                const char *kid = json_string_value(json_object_get(p->key, "kid"));
                                fputs(", signed by the key this manifest introduces", stderr);
                                if (kid) {
                                        fputs(" (kid ", stderr);
                                        sfu_tool_put_sanitized(stderr, kid);
                                        fputc(')', stderr);
                                }
                        }
                        fputs("; this manifest vouched by ", stderr);
                } else
                        fputs("vouched for by ", stderr);
                for (unsigned k = 0; k < v->n_keys; k++) {
                        if (k > 0)
                                fputs(", ", stderr);
                        put_key(v->keys[k]);
                }
                fprintf(stderr, " (%u needed)\n", v->need);
        }
}

/* What vouched for the manifest, on standard error. */
static void print_summary(const struct verify_input *in, const struct sfu_signed_info *info,
                          const struct sfu_manifest *m, const struct sfu_scope_report *report) {
        char algs[128];

        if (in->is_bundle)
                fprintf(stderr, "bundle: %zu image%s, %llu bytes, every size and digest as signed\n", m->n_images,
                        m->n_images == 1 ? "" : "s", (unsigned long long) sfu_bundle_length(&in->bundle.header));
        fprintf(stderr, "verified: %s over %s\n", sfu_signed_form_name(info->form),
                info->cbor ? "a CBOR manifest" : "a JSON manifest");
        fprintf(stderr, "algorithm%s: %s\n", __builtin_popcount(info->alg_mask) == 1 ? "" : "s",
                sfu_signed_alg_names(info->alg_mask, algs, sizeof(algs)));
        for (unsigned i = 0; i < info->signers && i < SFU_SIG_TALLY_MAX; i++) {
                const struct sfu_key *key = info->signer_keys[i];

                fputs("signed by: ", stderr);
                sfu_tool_put_sanitized(stderr, key->source ? key->source : "(a trusted key)");
                fputs(" (kid ", stderr);
                sfu_tool_put_sanitized(stderr, key->kid);
                fputs(")\n", stderr);
        }
        print_components(report, m);
}

/* The payload byte for byte, or (--json) a CBOR manifest as JSON. */
static int print_payload(const char *bytes, size_t len, bool json, struct sfu_err *err) {
        _cleanup_tool_signed_ struct sfu_tool_signed s = {};
        _cleanup_json_ json_t *tree = NULL;
        _cleanup_free_ char *text = NULL;
        int r;

        /* The core accepted these bytes: parsing them again only finds
         * the payload. */
        r = sfu_tool_signed_parse(bytes, len, &s, err);
        if (r < 0)
                return r;
        if (s.cbor && !json && isatty(STDOUT_FILENO))
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOTTY,
                                   "the manifest is CBOR: not writing it to a terminal; use --json or a redirection");
        if (!json || !s.cbor)
                return sfu_tool_write_stdout(s.payload, s.payload_len, err);
        r = sfu_tool_signed_payload_json(&s, &tree, err);
        if (r < 0)
                return r;
        text = json_dumps(tree, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        printf("%s\n", text);
        return sfu_tool_write_stdout(NULL, 0, err);
}

struct verify_opts {
        struct trusted_paths keys;
        struct trusted_paths decrypt_keys;
        struct sfu_signed_opts signed_opts;
        bool json, quiet;
};

static void jwe_result_clearp(struct sfu_jwe_result *res) {
        sfu_jwe_result_clear(res);
}

/* A JWE or COSE_Encrypt around the signed manifest: decrypted with the
 * --decrypt-key keys; *bytes and *len then point at the plaintext in res. */
static int open_encrypted(const struct trusted_paths *paths, const char **bytes, size_t *len,
                          struct sfu_jwe_result *res, char *who, size_t who_size, struct sfu_err *err) {
        _cleanup_keyring_ struct sfu_keyring *keys = NULL;
        int r;

        if (paths->n == 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, ENOKEY,
                                   "the manifest is encrypted (%s): give the device's key with --decrypt-key",
                                   sfu_envelope_name(sfu_envelope_detect(*bytes, *len)));
        r = sfu_tool_load_decryption_keys(paths->items, paths->n, &keys, err);
        if (r < 0)
                return r;
        r = sfu_envelope_open(*bytes, *len, keys, res, err);
        if (r < 0)
                return r;
        /* the key goes with the ring: name it now */
        snprintf(who, who_size, "%s (kid %s)", res->key && res->key->source ? res->key->source : "a device key",
                 res->key && res->key->kid ? res->key->kid : "-");
        res->key = NULL;
        *bytes = (const char *) res->plaintext;
        *len = res->plaintext_len;
        return 0;
}

static int verify_file(const char *path, const struct verify_opts *o, struct sfu_err *err) {
        struct verify_input in _cleanup_(verify_input_clear) = { .fd = -1 };
        _cleanup_manifest_ struct sfu_manifest *manifest = NULL;
        _cleanup_keyring_ struct sfu_keyring *ring = NULL;
        struct sfu_signed_info info = {};
        struct sfu_scope_report report = {};
        struct sfu_jwe_result plain _cleanup_(jwe_result_clearp) = {};
        char who[512] = "";
        enum sfu_envelope envelope;
        struct sfu_signed_opts signed_opts = o->signed_opts;
        uint64_t offsets[SFU_MANIFEST_MAX_IMAGES];
        const char *bytes;
        size_t len;
        int r;

        r = load_ring(&o->keys, &ring, err);
        if (r >= 0)
                r = read_input(path, &in, err);
        if (r < 0)
                return r;
        bytes = in.is_bundle ? in.bundle.manifest : in.bytes;
        len = in.is_bundle ? in.bundle.header.manifest_len : in.len;
        envelope = sfu_envelope_detect(bytes, len);
        if (envelope != SFU_ENVELOPE_NONE) {
                r = open_encrypted(&o->decrypt_keys, &bytes, &len, &plain, who, sizeof(who), err);
                if (r < 0)
                        return r;
        }
        signed_opts.scope_report = &report;
        r = sfu_signed_open(bytes, len, ring, &signed_opts, &manifest, &info, err);
        if (r >= 0 && in.is_bundle)
                r = sfu_bundle_check(&in.bundle.header, manifest, offsets, err);
        if (r >= 0 && in.is_bundle)
                r = sfu_tool_bundle_check_images(&in.bundle, manifest, offsets, err);
        if (r >= 0)
                r = print_payload(bytes, len, o->json, err);
        if (r < 0)
                return r;
        if (!o->quiet && plain.plaintext) {
                fprintf(stderr, "decrypted: a %s, with ", sfu_envelope_name(envelope));
                sfu_tool_put_sanitized(stderr, who);
                fputc('\n', stderr);
        }
        if (!o->quiet)
                print_summary(&in, &info, manifest, &report);
        return 0;
}

int sfu_tool_verify(int argc, char **argv) {
        const char *cmd = command.name, *alg_allow = NULL, *path = NULL;
        struct verify_opts o = {};
        const struct sfu_tool_option options[] = {
                { "key", 0, SFU_TOOL_CALL, &o.keys, add_key_path },
                { "decrypt-key", 0, SFU_TOOL_CALL, &o.decrypt_keys, add_key_path },
                { "alg-allow", 0, SFU_TOOL_STRING, &alg_allow },
                { "min-signatures", 0, SFU_TOOL_CALL, &o.signed_opts.min_signatures, parse_min_signatures },
                { "json", 0, SFU_TOOL_FLAG, &o.json },
                { "quiet", 'q', SFU_TOOL_FLAG, &o.quiet },
        };
        struct sfu_err err = SFU_ERR_INIT;
        int r, status;

        if (sfu_tool_parse_options(&command, argc, argv, options, ELEMENTSOF(options), &status) < 0)
                return status;
        if (o.keys.n == 0)
                return sfu_tool_usage_error(cmd, "at least one --key is required");
        if (sfu_tool_one_operand(&command, argc, argv, &path, &status) < 0)
                return status;
        if (alg_allow) {
                r = sfu_alg_list_parse(alg_allow, &o.signed_opts.alg_allow, &err);
                if (r < 0)
                        return sfu_tool_usage_error(cmd, "--alg-allow: %s", err.message);
        }
        r = verify_file(path, &o, &err);
        if (r < 0)
                return sfu_tool_fail(cmd, r, &err);
        return EXIT_SUCCESS;
}
