/* SPDX-License-Identifier: MIT */
/* secfu-manifest inspect: a JWS shown without verifying anything. */
#include "core/json.h"
#include "core/manifest.h"
#include "tool/tool.h"

#define INSPECT_TEXT_MAX 4096u                  /* bytes of a non-JSON payload shown */

static void help(void) {
        printf("Usage: " SFU_TOOL_PROG " inspect FILE\n\n"
               "Shows the header(s) and the payload of the JWS in FILE WITHOUT verifying\n"
               "anything: the output is marked NOT VERIFIED.\n");
}

static const struct sfu_tool_command command = { "inspect", help };

/* Pretty JSON with every line indented; non-ASCII escaped, so that what
 * an untrusted file contains cannot play tricks on a terminal. */
static void print_json_indented(const json_t *j, const char *indent) {
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

static const char *form_name(enum sfu_jws_form form) {
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

static void print_signatures(const struct sfu_jws *jws) {
        printf("serialization: %s\n", form_name(jws->form));
        printf("signatures: %zu\n", jws->n_signatures);
        for (size_t i = 0; i < jws->n_signatures; i++) {
                const struct sfu_jws_signature *s = &jws->signatures[i];

                printf("signature %zu of %zu (NOT VERIFIED):\n", i + 1, jws->n_signatures);
                printf("  protected header:\n");
                print_json_indented(s->protected_header, "    ");
                if (s->unprotected_header) {
                        printf("  unprotected header:\n");
                        print_json_indented(s->unprotected_header, "    ");
                } else
                        printf("  unprotected header: none\n");
                printf("  signature: %zu bytes\n", s->signature_len);
        }
}

static void print_payload(const struct sfu_jws *jws) {
        _cleanup_manifest_ struct sfu_manifest *manifest = NULL;
        _cleanup_json_ json_t *payload_json = NULL;
        struct sfu_err err = SFU_ERR_INIT;

        if (sfu_json_parse_object((const char *) jws->payload, jws->payload_len, SFU_JWS_MAX_SIZE, &payload_json,
                                  NULL) >= 0) {
                printf("payload (NOT VERIFIED): %zu bytes of JSON\n", jws->payload_len);
                print_json_indented(payload_json, "");
        } else {
                printf("payload (NOT VERIFIED): %zu bytes, not a JSON object\n", jws->payload_len);
                print_escaped_text(jws->payload, jws->payload_len);
        }
        if (sfu_manifest_parse_json((const char *) jws->payload, jws->payload_len, SFU_MANIFEST_MAX_SIZE,
                                    &manifest, &err) < 0) {
                printf("manifest syntax: INVALID: ");
                sfu_tool_put_sanitized(stdout, err.message);
                putchar('\n');
        } else
                printf("manifest syntax: valid (signatures NOT VERIFIED)\n");
}

int sfu_tool_inspect(int argc, char **argv) {
        const char *cmd = command.name, *path = NULL;
        _cleanup_jws_ struct sfu_jws *jws = NULL;
        _cleanup_free_ char *input = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        size_t input_len = 0;
        int r, status;

        if (sfu_tool_parse_options(&command, argc, argv, NULL, 0, &status) < 0 ||
            sfu_tool_one_operand(&command, argc, argv, &path, &status) < 0)
                return status;
        r = sfu_tool_read_jws(path, &input, &input_len, &jws, &err);
        if (r < 0)
                return sfu_tool_fail(cmd, r, &err);

        printf("NOT VERIFIED: shown without checking any signature; do not trust this content.\n");
        print_signatures(jws);
        print_payload(jws);
        return sfu_tool_done(cmd);
}
