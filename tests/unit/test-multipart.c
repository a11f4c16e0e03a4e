/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "core/http.h"
#include "core/multipart.h"
#include "tap.h"

struct got {
        char text[4096];        /* "[s-e/t]data" per part */
        size_t len;
        int refuse_part;        /* refuse the part with this index (1-based; 0: none) */
        int parts;
};

static int on_part(void *userdata, uint64_t start, uint64_t end, uint64_t total, struct sfu_err *err) {
        struct got *g = userdata;
        g->parts++;
        if (g->parts == g->refuse_part)
                return sfu_err_set(err, SFU_ERR_NETWORK, ERANGE, "not the range asked for");
        g->len += (size_t) snprintf(g->text + g->len, sizeof(g->text) - g->len, "[%llu-%llu/%lld]",
                                    (unsigned long long) start, (unsigned long long) end,
                                    total == SFU_HTTP_LENGTH_UNKNOWN ? -1LL : (long long) total);
        return 0;
}

static int on_data(void *userdata, const uint8_t *buf, size_t len, struct sfu_err *err) {
        struct got *g = userdata;
        if (g->len + len >= sizeof(g->text))
                return -ENOBUFS;
        memcpy(g->text + g->len, buf, len);
        g->len += len;
        g->text[g->len] = 0;
        return 0;
}

static const struct sfu_multipart_callbacks cb = { on_part, on_data };

/* Parses body fed in pieces of step bytes; returns 0 or the error. */
static int parse(const char *boundary, const char *body, size_t step, struct got *g, struct sfu_err *err) {
        struct sfu_multipart p;
        size_t len = strlen(body);
        int r = sfu_multipart_init(&p, boundary, &cb, g);

        if (r < 0)
                return r;
        for (size_t off = 0; off < len; off += step) {
                r = sfu_multipart_feed(&p, body + off, len - off < step ? len - off : step, err);
                if (r < 0)
                        return r;
        }
        return sfu_multipart_finish(&p, err);
}

static const char nginx[] = "\r\n--00000000000000000001\r\n"
                            "Content-Type: application/octet-stream\r\n"
                            "Content-Range: bytes 0-3/100\r\n\r\n"
                            "abcd\r\n--00000000000000000001\r\n"
                            "Content-Type: application/octet-stream\r\n"
                            "Content-Range: bytes 50-55/100\r\n\r\n"
                            "\r\n--x-\r\n--00000000000000000001--\r\n";

static void accepts(const char *name, const char *boundary, const char *body, const char *want) {
        bool all = true;
        for (size_t step = 1; step <= strlen(body) + 1; step++) {
                struct got g = {};
                struct sfu_err err = SFU_ERR_INIT;
                if (parse(boundary, body, step, &g, &err) < 0 || strcmp(g.text, want) != 0) {
                        tap_diag("step %zu: %s / %s", step, err.message, g.text);
                        all = false;
                        break;
                }
        }
        ok(all, "%s: parsed the same in pieces of every size", name);
}

static void refuses(const char *name, const char *boundary, const char *body) {
        bool all = true;
        for (size_t step = 1; step <= strlen(body) + 1; step++) {
                struct got g = {};
                struct sfu_err err = SFU_ERR_INIT;
                int r = parse(boundary, body, step, &g, &err);
                if (r >= 0 || !tap_one_line(err.message)) {
                        all = false;
                        break;
                }
        }
        ok(all, "refused: %s", name);
}

int main(void) {
        char b[SFU_MULTIPART_BOUNDARY_MAX + 1];
        struct sfu_multipart p;
        struct got g = {};
        struct sfu_err err = SFU_ERR_INIT;

        ok(sfu_multipart_boundary("multipart/byteranges; boundary=00000000000000000001", b) == 0 &&
                   strcmp(b, "00000000000000000001") == 0,
           "boundary of nginx's Content-Type");
        ok(sfu_multipart_boundary("Multipart/ByteRanges;charset=x; Boundary=\"a b:c\"", b) == 0 && strcmp(b, "a b:c") == 0,
           "quoted boundary, other parameters, any case");
        ok(sfu_multipart_boundary("multipart/byteranges", b) == -EINVAL, "no boundary refused");
        ok(sfu_multipart_boundary("multipart/mixed; boundary=x", b) == -EINVAL, "another multipart type refused");
        ok(sfu_multipart_boundary("multipart/byteranges; boundary=", b) == -EINVAL, "empty boundary refused");
        ok(sfu_multipart_boundary("multipart/byteranges; boundary=\"abc", b) == -EINVAL, "unterminated quote refused");
        ok(sfu_multipart_boundary("multipart/byteranges; boundary=a\x01", b) == -EINVAL, "control character refused");
        {
                char *long_b = NULL;
                char *v = tap_repeat('a', 71);
                ok(asprintf(&long_b, "multipart/byteranges; boundary=%s", v) > 0 &&
                           sfu_multipart_boundary(long_b, b) == -EINVAL,
                   "a boundary of 71 characters refused");
                free(long_b);
                free(v);
        }
        ok(sfu_multipart_init(&p, "", &cb, &g) == -EINVAL, "an empty boundary cannot start a parser");

        accepts("nginx's answer", "00000000000000000001", nginx, "[0-3/100]abcd[50-55/100]\r\n--x-");
        accepts("bare LF, no preamble, unknown total", "B",
                "--B\nContent-range: bytes 5-5/*\n\nz\n--B--", "[5-5/-1]z");
        accepts("transport padding and an epilogue", "B",
                "--B \r\nContent-Range: bytes 1-2/3\r\n\r\nxy\r\n--B--\t\r\nepilogue", "[1-2/3]xy");

        refuses("no close delimiter", "B", "--B\r\nContent-Range: bytes 0-0/1\r\n\r\nx\r\n");
        refuses("ends inside data", "B", "--B\r\nContent-Range: bytes 0-9/10\r\n\r\nxyz");
        refuses("data longer than its range", "B", "--B\r\nContent-Range: bytes 0-0/1\r\n\r\nxy\r\n--B--\r\n");
        refuses("data shorter than its range", "B", "--B\r\nContent-Range: bytes 0-2/3\r\n\r\nx\r\n--B--\r\n");
        refuses("another boundary", "B", "--C\r\nContent-Range: bytes 0-0/1\r\n\r\nx\r\n--C--\r\n");
        refuses("a wrong delimiter after a part", "B", "--B\r\nContent-Range: bytes 0-0/1\r\n\r\nx\r\n--Bx\r\n");
        refuses("a part without Content-Range", "B", "--B\r\nContent-Type: a/b\r\n\r\nx\r\n--B--\r\n");
        refuses("two Content-Range lines", "B",
                "--B\r\nContent-Range: bytes 0-0/1\r\nContent-Range: bytes 0-0/1\r\n\r\nx\r\n--B--\r\n");
        refuses("an inverted range", "B", "--B\r\nContent-Range: bytes 5-1/9\r\n\r\nx\r\n--B--\r\n");
        refuses("a range past the total", "B", "--B\r\nContent-Range: bytes 0-9/5\r\n\r\nx\r\n--B--\r\n");
        refuses("a huge range length overflow", "B",
                "--B\r\nContent-Range: bytes 0-99999999999999999999/1\r\n\r\nx\r\n--B--\r\n");
        refuses("preamble text", "B", "hello\r\n--B\r\nContent-Range: bytes 0-0/1\r\n\r\nx\r\n--B--\r\n");
        refuses("close delimiter first", "B", "--B--\r\n");
        refuses("a folded header", "B", "--B\r\nContent-Range: bytes 0-0/1\r\n x\r\n\r\nx\r\n--B--\r\n");
        {
                char *line = tap_repeat('h', SFU_MULTIPART_LINE_MAX + 1);
                char *body = NULL;
                ok(asprintf(&body, "--B\r\nX: %s\r\n\r\n", line) > 0, "built a long header line");
                refuses("a header line over the cap", "B", body);
                free(body);
                free(line);
        }
        {
                char body[2048] = "--B\r\n";
                for (int i = 0; i <= SFU_MULTIPART_HEADERS_MAX; i++)
                        strcat(body, "X: y\r\n");
                strcat(body, "Content-Range: bytes 0-0/1\r\n\r\nx\r\n--B--\r\n");
                refuses("too many header lines", "B", body);
        }
        {
                char *tail = tap_repeat('e', SFU_MULTIPART_EPILOGUE_MAX + 1);
                char *body = NULL;
                ok(asprintf(&body, "--B\r\nContent-Range: bytes 0-0/1\r\n\r\nx\r\n--B--\r\n%s", tail) > 0,
                   "built a long epilogue");
                refuses("an epilogue over the cap", "B", body);
                free(body);
                free(tail);
        }
        {
                struct got r2 = { .refuse_part = 2 };
                struct sfu_err e2 = SFU_ERR_INIT;
                ok(parse("00000000000000000001", nginx, 7, &r2, &e2) == -ERANGE && e2.errnum == ERANGE,
                   "a part the caller refuses ends the parse with the caller's error");
        }
        ok(parse("B", "", 1, &g, &err) < 0 && err.errnum == EPIPE, "an empty body is refused at the end");
        return tap_done();
}
