/* SPDX-License-Identifier: MIT */
/* What the JWS parser says about a file that is no manifest at all: an
 * operator may pass any file to `secfuctl apply FILE` (its own secrets, a
 * copy of /etc/shadow), and the refusal ends up in the status's lastError,
 * which every local user reads.  sfu_jws_parse runs on those raw bytes, so
 * none of them may come back in its message.  Each input here carries the
 * secret at the place where a parser would quote it.
 *
 * The daemon opens every form through sfu_signed_open (core/signed.c),
 * which tells the form by the bytes and hands a JWS to sfu_jws_parse, a
 * COSE message to the CBOR decoder: both are fed the same files here.
 *
 * The manifest parser (sfu_manifest_parse_json) runs only on the payload
 * of a JWS whose signature verified (daemon/verify.c), so it may quote the
 * signed text; the cases at the end only check that it refuses the same
 * garbage. */
#include <string.h>

#include "core/b64url.h"
#include "core/json.h"
#include "core/jws.h"
#include "core/key.h"
#include "core/manifest.h"
#include "core/signed.h"
#include "tap.h"

#define SECRET "Hunter2xQz9Secret"

struct garbage {
        const char *what;
        const char *text;       /* NULL: built in main */
        size_t len;
};

/* True when message holds any run of 5 bytes of the secret: a parser
 * that quotes "near 'Hunter2xQ...'" or a truncated quote is caught too. */
static bool leaks(const char *message) {
        const size_t n = strlen(SECRET), run = 5;
        for (size_t i = 0; i + run <= n; i++)
                if (memmem(message, strlen(message), SECRET + i, run))
                        return true;
        return false;
}

static bool one_printable_line(const char *message) {
        for (const unsigned char *p = (const unsigned char *) message; *p; p++)
                if (*p < 0x20 || *p > 0x7e)
                        return false;
        return message[0] != 0;
}

static char *compact_with_header(const char *header_json) {
        _cleanup_free_ char *h = sfu_b64url_encode((const uint8_t *) header_json, strlen(header_json));
        char *out = NULL;
        if (!h || asprintf(&out, "%s.eyJhIjoxfQ.c2lnbmF0dXJl", h) < 0)
                abort();
        return out;
}

static void refused_quietly(const struct garbage *g, const struct sfu_keyring *ring) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_jws *jws = NULL;
        struct sfu_manifest *m = NULL;
        size_t len = g->len ? g->len : strlen(g->text);
        int r = sfu_jws_parse(g->text, len, &jws, &err);

        ok(r < 0 && !jws && (err.code == SFU_ERR_PARSE || err.code == SFU_ERR_SIZE),
           "%s: refused as %s (%s)", g->what, sfu_err_code_name(err.code), err.message);
        ok(!leaks(err.message), "%s: the message quotes nothing of the file", g->what);
        ok(one_printable_line(err.message), "%s: the message is one printable line", g->what);
        sfu_jws_free(jws);

        sfu_err_clear(&err);
        r = sfu_signed_open(g->text, len, ring, NULL, &m, NULL, &err);
        ok(r < 0 && !m && err.code != SFU_ERR_NONE && !leaks(err.message) && one_printable_line(err.message),
           "%s: the daemon's door (sfu_signed_open) refuses it quietly too (%s)", g->what, err.message);
        sfu_manifest_free(m);
}

int main(void) {
        static const char shadow[] =
                "root:$6$Sv7rTq2Pz$" SECRET "AsDfGhJkL.zXcVbNm/1234:19341:0:99999:7:::\n"
                "daemon:*:19341:0:99999:7:::\n"
                "bin:*:19341:0:99999:7:::\n";
        static const char shadow_two_dots[] = "root:$6$salt$" SECRET ".hash.tail:19341:0:99999:7:::\n";
        static const char pem[] = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI" SECRET "\n"
                                  "-----END PRIVATE KEY-----\n";
        static const char json_token[] = "{\"user\": \"admin\" \"" SECRET "\": 1}";
        static const char json_dup[] = "{\"" SECRET "\": 1, \"" SECRET "\": 2}";
        static const char json_bad_value[] = "{\"password\": " SECRET "}";
        static const char json_no_jws[] = "{\"token\": \"" SECRET "\"}";
        static const char json_bad_payload[] = "{\"payload\": \"" SECRET "!\", \"signature\": \"AA\"}";
        static const char json_ctrl[] = "{\"password\": \"" SECRET "\x01\"}";
        static const char binary[] = "\x7f" "ELF\x02\x01\x01\0\0\0" SECRET "\xff\xfe";
        /* COSE_Sign1's tag, then no COSE: text, a short array, junk. */
        static const char cose_text[] = "\xd2\x71" SECRET;
        static const char cose_array[] = "\xd2\x82\x71" SECRET "\x71" SECRET;
        static const char cose_junk[] = "\xd2\x84\xff" SECRET;
        _cleanup_free_ char *header_token = compact_with_header("{\"alg\" \"" SECRET "\"}");
        _cleanup_free_ char *header_dup = compact_with_header("{\"" SECRET "\":1,\"" SECRET "\":2}");
        _cleanup_free_ char *header_utf8 = compact_with_header("{\"alg\":\"" SECRET "\xff\"}");
        const struct garbage cases[] = {
                { "an /etc/shadow-like file", shadow, 0 },
                { "a shadow line with two dots (three 'segments')", shadow_two_dots, 0 },
                { "a PEM private key", pem, 0 },
                { "JSON with the secret as the unexpected token", json_token, 0 },
                { "JSON with the secret as a duplicate key", json_dup, 0 },
                { "JSON with the secret as a bare word", json_bad_value, 0 },
                { "JSON that is no JWS", json_no_jws, 0 },
                { "JSON whose payload is the secret", json_bad_payload, 0 },
                { "JSON with a control character after the secret", json_ctrl, 0 },
                { "a binary file", binary, sizeof(binary) - 1 },
                { "COSE_Sign1's tag on a text string", cose_text, sizeof(cose_text) - 1 },
                { "COSE_Sign1's tag on an array of two texts", cose_array, sizeof(cose_array) - 1 },
                { "COSE_Sign1's tag on junk", cose_junk, sizeof(cose_junk) - 1 },
                { "a compact JWS whose header is broken JSON at the secret", header_token, 0 },
                { "a compact JWS whose header repeats the secret as a key", header_dup, 0 },
                { "a compact JWS whose header has invalid UTF-8 after the secret", header_utf8, 0 },
        };
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_keyring *ring = NULL;
        json_t *j = NULL;

        if (sfu_keyring_new(&ring) < 0)
                abort();
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                refused_quietly(&cases[i], ring);

        /* The check above can fail: jansson's own message quotes the token. */
        ok(sfu_json_parse_object(json_token, strlen(json_token), 4096, &j, &err) < 0 && leaks(err.message),
           "jansson's message, unfiltered, does quote the secret (%s)", err.message);
        sfu_err_clear(&err);
        ok(sfu_json_parse_object_quiet(json_token, strlen(json_token), 4096, &j, &err) < 0 && !leaks(err.message) &&
                   strstr(err.message, "line 1 column"),
           "the quiet parser says where, not what (%s)", err.message);
        sfu_err_clear(&err);
        ok(sfu_json_parse_object_quiet(json_dup, strlen(json_dup), 4096, &j, &err) < 0 &&
                   strstr(err.message, "duplicate object key") && !leaks(err.message),
           "the quiet parser names a duplicate key's kind, not the key (%s)", err.message);

        /* The manifest parser refuses the same files (it never sees them
         * unsigned in the daemon). */
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct sfu_manifest *m = NULL;
                size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
                sfu_err_clear(&err);
                ok(sfu_manifest_parse_json(cases[i].text, len, 65536, &m, &err) < 0 && !m &&
                           err.code == SFU_ERR_PARSE && one_printable_line(err.message),
                   "manifest parser: %s refused as parse (%s)", cases[i].what, err.message);
                sfu_manifest_free(m);
        }
        sfu_keyring_free(ring);
        return tap_done();
}
