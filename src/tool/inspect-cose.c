/* SPDX-License-Identifier: MIT */
/* secfu-manifest inspect, COSE: the header maps in CBOR diagnostic
 * notation (RFC 8949 section 8) with the labels secfud acts on named, and
 * the levels and leaves of an HSS-LMS signature (RFC 8554 section 6.2).
 * Nothing is verified; text from the file is escaped. */
#include <inttypes.h>

#include "core/cbor.h"
#include "core/hss.h"
#include "tool/tool.h"

#define DIAG_BYTES_MAX 48u              /* bytes of a byte string shown */
#define DIAG_TEXT_MAX 256u              /* characters of a text string shown */

static void print_text(const uint8_t *p, size_t len) {
        size_t shown = len < DIAG_TEXT_MAX ? len : DIAG_TEXT_MAX;

        putchar('"');
        for (size_t i = 0; i < shown; i++) {
                if (p[i] == '"' || p[i] == '\\')
                        printf("\\%c", p[i]);
                else if (p[i] >= 0x20 && p[i] < 0x7f)
                        putchar(p[i]);
                else
                        printf("\\x%02x", p[i]);
        }
        putchar('"');
        if (shown < len)
                printf("...(%zu bytes)", len);
}

/* A byte string: 'text' when it is printable ASCII (a kid), else hex. */
static void print_bytes(const uint8_t *p, size_t len) {
        size_t shown = len < DIAG_BYTES_MAX ? len : DIAG_BYTES_MAX;
        bool printable = len > 0 && len <= DIAG_TEXT_MAX;

        for (size_t i = 0; printable && i < len; i++)
                printable = p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\'' && p[i] != '\\';
        if (printable) {
                printf("'%.*s'", (int) len, (const char *) p);
                return;
        }
        printf("h'");
        for (size_t i = 0; i < shown; i++)
                printf("%02x", p[i]);
        putchar('\'');
        if (shown < len)
                printf("...(%zu bytes)", len);
}

/* Prints one item (and what it holds) on the current line. */
static void print_diag(const struct sfu_cbor_item *it) {
        const struct sfu_cbor_item *inner = it + 1;

        switch (it->type) {
        case SFU_CBOR_UINT:
                printf("%" PRIu64, it->value);
                return;
        case SFU_CBOR_NEGINT:
                if (it->value < INT64_MAX)
                        printf("-%" PRIu64, it->value + 1);
                else
                        printf("-1-%" PRIu64, it->value);
                return;
        case SFU_CBOR_BYTES:
                print_bytes(it->data, (size_t) it->value);
                return;
        case SFU_CBOR_TEXT:
                print_text(it->data, (size_t) it->value);
                return;
        case SFU_CBOR_ARRAY:
        case SFU_CBOR_MAP:
                putchar(it->type == SFU_CBOR_ARRAY ? '[' : '{');
                for (uint64_t i = 0; i < (it->type == SFU_CBOR_MAP ? 2 * it->value : it->value); i++) {
                        if (i > 0)
                                printf(it->type == SFU_CBOR_MAP && i % 2 ? ": " : ", ");
                        print_diag(inner);
                        inner = sfu_cbor_next(inner);
                }
                putchar(it->type == SFU_CBOR_ARRAY ? ']' : '}');
                return;
        case SFU_CBOR_FALSE:
                printf("false");
                return;
        case SFU_CBOR_TRUE:
                printf("true");
                return;
        case SFU_CBOR_NULL:
                printf("null");
                return;
        }
}

static const char *label_name(const struct sfu_cbor_item *label) {
        int64_t v;

        if (!sfu_cbor_get_int(label, &v))
                return NULL;
        switch (v) {
        case SFU_COSE_LABEL_ALG:
                return "alg";
        case SFU_COSE_LABEL_CRIT:
                return "crit";
        case SFU_COSE_LABEL_CONTENT_TYPE:
                return "content type";
        case SFU_COSE_LABEL_KID:
                return "kid";
        default:
                return NULL;
        }
}

/* One header map (encoded in buf), a label per line. */
static void print_header_map(const char *what, const uint8_t *buf, size_t len) {
        const struct sfu_cbor_limits limits = { .max_size = SFU_COSE_MAX_HEADER };
        _cleanup_cbor_ struct sfu_cbor *map = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        const struct sfu_cbor_item *it;

        if (len == 0) {
                printf("  %s: empty\n", what);
                return;
        }
        if (sfu_cbor_decode(buf, len, &limits, &map, &err) < 0 || sfu_cbor_root(map)->type != SFU_CBOR_MAP) {
                printf("  %s (%zu bytes): not a map: ", what, len);
                sfu_tool_put_sanitized(stdout, err.message[0] ? err.message : "another type");
                putchar('\n');
                return;
        }
        it = sfu_cbor_root(map);
        if (it->value == 0) {
                printf("  %s: none (an empty map)\n", what);
                return;
        }
        printf("  %s (%zu bytes):\n", what, len);
        it++;
        for (uint64_t i = 0; i < sfu_cbor_root(map)->value; i++) {
                const struct sfu_cbor_item *value = sfu_cbor_next(it);
                const char *name = label_name(it);
                int64_t alg_id;
                enum sfu_alg alg;

                printf("    ");
                print_diag(it);
                if (name)
                        printf(" (%s)", name);
                printf(": ");
                print_diag(value);
                if (sfu_streq(name, "alg") && sfu_cbor_get_int(value, &alg_id) && sfu_alg_from_cose_id(alg_id, &alg) >= 0)
                        printf(" (%s)", sfu_alg_name(alg));
                putchar('\n');
                it = sfu_cbor_next(value);
        }
}

/* ------------------------------------------------------------ HSS */

static uint32_t get_u32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

struct hss_level {
        uint32_t lms, ots, q;
        const uint8_t *I;               /* NULL for the top tree (its I is in the public key) */
};

/* Walks the levels of an HSS signature without verifying it; false when
 * it is malformed (a short field, an unknown type). */
static bool hss_walk(const uint8_t *sig, size_t len, struct hss_level *levels, unsigned *ret_n) {
        size_t off = 4;
        uint32_t n;

        if (len < 4 || (n = get_u32(sig) + 1) > SFU_HSS_LEVELS_MAX || n == 0)
                return false;
        for (uint32_t l = 0; l < n; l++) {
                size_t ots_end, size;
                struct hss_level *lv = &levels[l];

                if (len - off < 8)
                        return false;
                lv->q = get_u32(sig + off);
                lv->ots = get_u32(sig + off + 4);
                /* An LMS signature: q, the LM-OTS signature, the LMS type, the path. */
                size = sfu_hss_lms_signature_size(SFU_HSS_LMS_SHA256_M32_H5, lv->ots);
                if (size == 0)
                        return false;
                ots_end = off + size - 4 - 5 * SFU_HSS_N;
                if (ots_end + 4 > len)
                        return false;
                lv->lms = get_u32(sig + ots_end);
                size = sfu_hss_lms_signature_size(lv->lms, lv->ots);
                if (size == 0 || size > len - off)
                        return false;
                off += size;
                if (l + 1 < n) {
                        if (len - off < SFU_HSS_LMS_PUBLIC_KEY_SIZE)
                                return false;
                        levels[l + 1].I = sig + off + 8;
                        off += SFU_HSS_LMS_PUBLIC_KEY_SIZE;
                }
        }
        *ret_n = n;
        return off == len;
}

static void print_hss(const uint8_t *sig, size_t len) {
        struct hss_level levels[SFU_HSS_LEVELS_MAX] = {};
        unsigned n = 0, bits = 0;
        uint64_t index = 0;

        if (!hss_walk(sig, len, levels, &n)) {
                printf("  HSS: malformed (the levels cannot be read)\n");
                return;
        }
        for (unsigned l = 0; l < n; l++) {
                unsigned h = sfu_hss_lms_height(levels[l].lms);
                bits += h;
                index = bits <= 64 ? (index << h) | levels[l].q : 0;
        }
        if (bits < 64)
                printf("  HSS: %u level%s, signature %" PRIu64 " of %" PRIu64 "\n", n, n == 1 ? "" : "s", index,
                       UINT64_C(1) << bits);
        else
                printf("  HSS: %u levels\n", n);
        for (unsigned l = 0; l < n; l++) {
                printf("    level %u of %u: tree ", l + 1, n);
                if (levels[l].I)
                        for (size_t i = 0; i < SFU_HSS_I_SIZE; i++)
                                printf("%02x", levels[l].I[i]);
                else
                        printf("top");
                printf(", leaf %" PRIu32 " (%s, %s)\n", levels[l].q, sfu_hss_lms_type_name(levels[l].lms),
                       sfu_hss_lmots_type_name(levels[l].ots));
        }
}

/* ------------------------------------------------------------ the structure */

static void print_layer_headers(const struct sfu_cose_header *h) {
        print_header_map("protected header", h->protected_bytes, h->protected_len);
        print_header_map("unprotected header", h->unprotected_raw, h->unprotected_len);
}

void sfu_tool_inspect_cose(const struct sfu_tool_signed *s) {
        const struct sfu_cose *c = s->cose;

        printf("content: %s\n", sfu_tool_signed_content(s));
        if (c->form == SFU_COSE_SIGN) {
                printf("body:\n");
                print_layer_headers(&c->body);
        }
        printf("signatures: %zu\n", c->n_signatures);
        for (size_t i = 0; i < c->n_signatures; i++) {
                const struct sfu_cose_signature *sig = &c->signatures[i];
                const struct sfu_cose_header *h = c->form == SFU_COSE_SIGN1 ? &c->body : &sig->header;
                enum sfu_alg alg;

                printf("signature %zu of %zu (NOT VERIFIED):\n", i + 1, c->n_signatures);
                print_layer_headers(h);
                printf("  signature: %zu bytes\n", sig->signature_len);
                if (h->has_alg && !h->alg_is_text && sfu_alg_from_cose_id(h->alg, &alg) >= 0 && alg == SFU_ALG_HSS_LMS)
                        print_hss(sig->signature, sig->signature_len);
        }
}
