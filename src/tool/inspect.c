/* SPDX-License-Identifier: MIT */
/* secfu-manifest inspect: a signed manifest in any form, a bundle or a
 * key file, shown without verifying anything.  The COSE details are in
 * inspect-cose.c. */
#include <fcntl.h>
#include <inttypes.h>

#include "core/hss-sign.h"
#include "core/json.h"
#include "core/cose-crypt.h"
#include "core/jwe.h"
#include "core/key.h"
#include "io/fileio.h"
#include "io/hsskey.h"
#include "tool/tool.h"

#define INSPECT_TEXT_MAX 4096u                  /* bytes of a non-JSON payload shown */

static void help(void) {
        printf("Usage: " SFU_TOOL_PROG " inspect FILE\n\n"
               "Shows what FILE is WITHOUT verifying anything:\n"
               "  - a signed manifest (JWS compact or JSON, COSE_Sign1 or COSE_Sign): the\n"
               "    headers of every signature (COSE: alg, kid, content type; HSS-LMS: the\n"
               "    levels and leaves used), the payload (a CBOR manifest as JSON) and\n"
               "    whether it is a valid manifest; marked NOT VERIFIED;\n"
               "  - a bundle (.sfu): its header, where each image lies, whether the header\n"
               "    fits the manifest, then the manifest as above (image bytes are not read);\n"
               "  - a key file (PEM, JWK, NAME.hss, PREFIX.hsskey): its type and key id; an\n"
               "    HSS private key also its parameters and the signatures it has left;\n"
               "  - an encrypted manifest (JWE): its serialization, content type and\n"
               "    recipients (alg, kid, curve), without decrypting.\n");
}

static const struct sfu_tool_command command = { "inspect", help };

static const char not_verified[] = "NOT VERIFIED: shown without checking any signature; do not trust this content.\n";

/* ------------------------------------------------------------ shared with inspect-cose.c */

void sfu_tool_print_json_indented(const json_t *j, const char *indent) {
        _cleanup_free_ char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        const char *line;

        if (!text) {
                printf("%s(cannot show)\n", indent);
                return;
        }
        line = text;
        while (*line) {
                const char *nl = strchr(line, '\n');
                size_t n = nl ? (size_t) (nl - line) : strlen(line);

                printf("%s%.*s\n", indent, (int) n, line);
                line += n + (nl ? 1 : 0);
        }
}

static void print_escaped_text(const uint8_t *p, size_t len) {
        size_t shown = len < INSPECT_TEXT_MAX ? len : INSPECT_TEXT_MAX;

        for (size_t i = 0; i < shown; i++) {
                if (p[i] == '\n' || p[i] == '\t' || (p[i] >= 0x20 && p[i] < 0x7f))
                        putchar(p[i]);
                else
                        printf("\\x%02x", p[i]);
        }
        if (shown > 0 && p[shown - 1] != '\n')
                putchar('\n');
        if (shown < len)
                printf("... (%zu more bytes not shown)\n", len - shown);
}

/* ------------------------------------------------------------ signed manifests */

static const char *jws_form_name(enum sfu_jws_form form) {
        switch (form) {
        case SFU_JWS_COMPACT:
                return "compact";
        case SFU_JWS_FLATTENED:
                return "flattened JSON";
        case SFU_JWS_GENERAL:
                return "general JSON";
        }
        return "unknown";
}

static void print_jws_signatures(const struct sfu_jws *jws) {
        printf("serialization: %s\n", jws_form_name(jws->form));
        printf("signatures: %zu\n", jws->n_signatures);
        for (size_t i = 0; i < jws->n_signatures; i++) {
                const struct sfu_jws_signature *s = &jws->signatures[i];

                printf("signature %zu of %zu (NOT VERIFIED):\n", i + 1, jws->n_signatures);
                printf("  protected header:\n");
                sfu_tool_print_json_indented(s->protected_header, "    ");
                if (s->unprotected_header) {
                        printf("  unprotected header:\n");
                        sfu_tool_print_json_indented(s->unprotected_header, "    ");
                } else
                        printf("  unprotected header: none\n");
                printf("  signature: %zu bytes\n", s->signature_len);
        }
}

static void print_payload(const struct sfu_tool_signed *s) {
        _cleanup_manifest_ struct sfu_manifest *manifest = NULL;
        _cleanup_json_ json_t *tree = NULL;
        struct sfu_err err = SFU_ERR_INIT;

        if (sfu_tool_signed_payload_json(s, &tree, &err) >= 0) {
                if (s->cbor)
                        printf("payload (NOT VERIFIED): %zu bytes of CBOR, shown as JSON (digests as hex)\n",
                               s->payload_len);
                else
                        printf("payload (NOT VERIFIED): %zu bytes of JSON\n", s->payload_len);
                sfu_tool_print_json_indented(tree, "");
        } else if (s->cbor) {
                printf("payload (NOT VERIFIED): %zu bytes of CBOR, not a manifest's: ", s->payload_len);
                sfu_tool_put_sanitized(stdout, err.message);
                putchar('\n');
        } else {
                printf("payload (NOT VERIFIED): %zu bytes, not a JSON object\n", s->payload_len);
                print_escaped_text(s->payload, s->payload_len);
        }
        sfu_err_clear(&err);
        if (sfu_tool_signed_manifest(s, &manifest, &err) < 0) {
                printf("manifest syntax: INVALID: ");
                sfu_tool_put_sanitized(stdout, err.message);
                putchar('\n');
        } else
                printf("manifest syntax: valid (signatures NOT VERIFIED)\n");
}

static void print_signed(const struct sfu_tool_signed *s) {
        if (s->jws)
                print_jws_signatures(s->jws);
        else
                sfu_tool_inspect_cose(s);
        print_payload(s);
}

/* ------------------------------------------------------------ bundles */

static void print_bundle_layout(const struct sfu_tool_bundle *b, const struct sfu_manifest *m) {
        const struct sfu_bundle_header *h = &b->header;
        uint64_t offsets[SFU_MANIFEST_MAX_IMAGES];
        struct sfu_err err = SFU_ERR_INIT;

        printf("bundle: format version %d, header %d bytes\n", SFU_BUNDLE_VERSION, SFU_BUNDLE_HEADER_SIZE);
        printf("signed manifest: bytes 24 to %" PRIu64 " (%" PRIu32 " bytes)\n",
               (uint64_t) SFU_BUNDLE_HEADER_SIZE + h->manifest_len - 1, h->manifest_len);
        printf("images: %" PRIu64 " bytes after the manifest, by the header\n", h->images_len);
        if (b->has_file_size)
                printf("file: %" PRIu64 " bytes; the header says %" PRIu64 "%s\n", b->file_size, sfu_bundle_length(h),
                       b->file_size == sfu_bundle_length(h) ? "" : ": MISMATCH");
        if (!m)
                return;
        if (sfu_bundle_check(h, m, offsets, &err) < 0) {
                printf("bundle check: INVALID: ");
                sfu_tool_put_sanitized(stdout, err.message);
                putchar('\n');
                return;
        }
        for (size_t i = 0; i < m->n_images; i++) {
                const struct sfu_manifest_image *img = &m->images[i];

                printf("image %zu of %zu \"", i + 1, m->n_images);
                sfu_tool_put_sanitized(stdout, img->name);
                printf("\": bytes %" PRIu64 " to %" PRIu64 " (%" PRIu64 " bytes)", offsets[i], offsets[i] + img->size - 1,
                       img->size);
                if (img->slot_class) {
                        printf(", slot class ");
                        sfu_tool_put_sanitized(stdout, img->slot_class);
                }
                putchar('\n');
        }
        printf("bundle check: the header fits the manifest (image bytes NOT read; verify reads them)\n");
}

static int inspect_bundle(int fd, const char *path, const char *first, size_t have, struct sfu_err *err) {
        _cleanup_(sfu_tool_bundle_clear) struct sfu_tool_bundle b = {};
        _cleanup_tool_signed_ struct sfu_tool_signed s = {};
        _cleanup_manifest_ struct sfu_manifest *m = NULL;
        struct sfu_err why = SFU_ERR_INIT;
        int r;

        r = sfu_tool_bundle_read_head(fd, path, first, have, true, &b, err);
        if (r < 0)
                return r;
        if (sfu_tool_signed_parse(b.manifest, b.header.manifest_len, &s, &why) < 0) {
                printf("%s", not_verified);
                print_bundle_layout(&b, NULL);
                printf("signed manifest: INVALID: ");
                sfu_tool_put_sanitized(stdout, why.message);
                putchar('\n');
                return 0;
        }
        if (sfu_tool_signed_manifest(&s, &m, &why) < 0)
                m = NULL;       /* print_payload() says why */
        printf("%s", not_verified);
        print_bundle_layout(&b, m);
        printf("signed manifest: %s\n", sfu_signed_form_name(s.form));
        print_signed(&s);
        return 0;
}

/* ------------------------------------------------------------ keys */

static bool looks_like_key(const char *path, const char *buf, size_t len) {
        _cleanup_json_ json_t *j = NULL;

        if (len >= 10 && memcmp(buf, "-----BEGIN", 10) == 0)
                return true;
        if (sfu_tool_has_suffix(path, ".hss"))
                return true;
        return sfu_json_parse_object(buf, len, SFU_KEY_FILE_MAX, &j, NULL) >= 0 && json_object_get(j, "kty") &&
               !json_object_get(j, "payload");
}

static int inspect_hsskey(const char *path, struct sfu_err *err) {
        _cleanup_free_ char *kid = NULL;
        struct sfu_hss_params params;
        uint8_t pub[SFU_HSS_PUBLIC_KEY_SIZE];
        char text[SFU_HSS_PARAMS_STRING_MAX];
        uint64_t remaining = 0;
        int r;

        r = sfu_hsskey_info(path, &params, pub, &remaining, err);
        if (r < 0)
                return r;
        if (sfu_hss_kid(pub, sizeof(pub), &kid) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "cannot compute the key id");
        sfu_hss_params_to_string(&params, text);
        printf("key: HSS-LMS private key (stateful: every signature advances it; never copy or restore it)\n");
        printf("parameters: %s, %u level%s\n", text, params.levels, params.levels == 1 ? "" : "s");
        printf("signatures: %" PRIu64 " in all, %" PRIu64 " left\n", sfu_hss_params_total(&params), remaining);
        printf("signature size: %zu bytes\n", sfu_hss_signature_size(&params));
        printf("kid: %s\n", kid);
        return 0;
}

static int inspect_key(const char *path, const char *buf, size_t len, struct sfu_err *err) {
        _cleanup_key_ struct sfu_key *key = NULL;
        int r;

        if (sfu_tool_has_suffix(path, ".hss"))
                r = sfu_key_from_hss((const uint8_t *) buf, len, path, &key, err);
        else
                r = sfu_key_from_buffer(buf, len, path, false, &key, err);
        if (r < 0)
                return r;
        if (key->type == SFU_KEY_HSS) {
                uint32_t levels = (uint32_t) key->hss[0] << 24 | (uint32_t) key->hss[1] << 16 |
                                  (uint32_t) key->hss[2] << 8 | key->hss[3];
                uint32_t lms = (uint32_t) key->hss[4] << 24 | (uint32_t) key->hss[5] << 16 |
                               (uint32_t) key->hss[6] << 8 | key->hss[7];
                uint32_t ots = (uint32_t) key->hss[8] << 24 | (uint32_t) key->hss[9] << 16 |
                               (uint32_t) key->hss[10] << 8 | key->hss[11];
                printf("key: HSS-LMS public key (%zu bytes), %" PRIu32 " level%s, top tree %s, %s\n", key->hss_len,
                       levels, levels == 1 ? "" : "s", sfu_hss_lms_type_name(lms), sfu_hss_lmots_type_name(ots));
        } else
                printf("key: %s %s key (%s)\n", sfu_key_type_name(key->type), key->is_private ? "private" : "public",
                       buf[0] == '{' ? "JWK" : "PEM");
        printf("kid: ");
        sfu_tool_put_sanitized(stdout, key->kid);
        putchar('\n');
        return 0;
}

/* ------------------------------------------------------------ the command */

/* A JWE: what it is for whom, never what is inside. */
static int inspect_jwe(const char *buf, size_t len, struct sfu_err *err) {
        _cleanup_jwe_ struct sfu_jwe *jwe = NULL;
        _cleanup_json_ json_t *recipients = NULL;
        _cleanup_free_ char *text = NULL;
        int r;

        while (len > 0 && strchr(" \t\r\n", buf[len - 1]))
                len--;
        r = sfu_jwe_parse(buf, len, &jwe, err);
        if (r < 0)
                return r;
        r = sfu_jwe_recipients_to_json(jwe, &recipients);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "out of memory");
        text = json_dumps(recipients, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        printf("form: JWE (%s), encrypted; not decrypted\n", sfu_jwe_form_name(jwe->form));
        printf("content type (cty): %s\n", jwe->cty ? jwe->cty : "-");
        printf("content encryption: A256GCM, %zu bytes of ciphertext\n", jwe->ciphertext_len);
        printf("recipients: %s\n", text);
        return 0;
}

/* A COSE_Encrypt: likewise. */
static int inspect_cose_encrypt(const char *buf, size_t len, struct sfu_err *err) {
        _cleanup_cose_crypt_ struct sfu_cose_crypt *ce = NULL;
        _cleanup_json_ json_t *recipients = NULL;
        _cleanup_free_ char *text = NULL;
        int r;

        r = sfu_cose_crypt_parse((const uint8_t *) buf, len, &ce, err);
        if (r < 0)
                return r;
        r = sfu_cose_crypt_recipients_to_json(ce, &recipients);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "out of memory");
        text = json_dumps(recipients, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        printf("form: COSE_Encrypt, encrypted; not decrypted\n");
        if (!ce->has_content_type)
                printf("content type: -\n");
        else if (ce->content_type_is_text) {
                /* as it is, control characters shown as '?' */
                char ct[256];
                size_t n = ce->content_type_len < sizeof(ct) - 1 ? ce->content_type_len : sizeof(ct) - 1;
                memcpy(ct, ce->content_type_raw, n);
                ct[n] = 0;
                fputs("content type: ", stdout);
                sfu_tool_put_sanitized(stdout, ct);
                putchar('\n');
        }
        else
                printf("content type: %" PRIu64 " (CoAP Content-Format)\n", ce->content_format);
        printf("content encryption: A256GCM, %zu bytes of ciphertext\n", ce->ciphertext_len);
        printf("recipients: %s\n", text);
        return 0;
}

static int inspect_fd(int fd, const char *path, struct sfu_err *err) {
        _cleanup_tool_signed_ struct sfu_tool_signed s = {};
        _cleanup_free_ char *rest = NULL, *all = NULL;
        char first[SFU_BUNDLE_HEADER_SIZE];
        size_t have = 0, rest_len = 0;
        int r;

        while (have < sizeof(first)) {
                ssize_t n = read(fd, first + have, sizeof(first) - have);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot read %s: %s", path, strerror(errno));
                if (n == 0)
                        break;
                have += (size_t) n;
        }
        if (sfu_bundle_is(first, have))
                return inspect_bundle(fd, path, first, have, err);
        if (have >= 8 && memcmp(first, "SECFUHSS", 8) == 0)
                return inspect_hsskey(path, err);
        r = sfu_file_read_fd(fd, path, SFU_JWE_MAX_SIZE - have, &rest, &rest_len, err);
        if (r < 0)
                return r;
        all = malloc(have + rest_len + 1);
        if (!all)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        memcpy(all, first, have);
        memcpy(all + have, rest, rest_len + 1);
        if (looks_like_key(path, all, have + rest_len))
                return inspect_key(path, all, have + rest_len, err);
        if (sfu_cose_crypt_detect(all, have + rest_len))
                return inspect_cose_encrypt(all, have + rest_len, err);
        if (sfu_jwe_detect(all, have + rest_len))
                return inspect_jwe(all, have + rest_len, err);
        r = sfu_tool_signed_parse(all, have + rest_len, &s, err);
        if (r < 0)
                return r;
        printf("%s", not_verified);
        printf("form: %s\n", sfu_signed_form_name(s.form));
        print_signed(&s);
        return 0;
}

int sfu_tool_inspect(int argc, char **argv) {
        const char *cmd = command.name, *path = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        _cleanup_close_ int fd = -1;
        int r, status;

        if (sfu_tool_parse_options(&command, argc, argv, NULL, 0, &status) < 0 ||
            sfu_tool_one_operand(&command, argc, argv, &path, &status) < 0)
                return status;
        if (sfu_streq(path, "-"))
                r = inspect_fd(STDIN_FILENO, path, &err);
        else if ((r = sfu_file_open_regular(path, &fd, &err)) >= 0)
                r = inspect_fd(fd, path, &err);
        if (r < 0) {
                fflush(stdout);
                return sfu_tool_fail(cmd, r, &err);
        }
        return sfu_tool_done(cmd);
}
