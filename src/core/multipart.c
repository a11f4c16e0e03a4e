/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "core/http.h"
#include "core/multipart.h"

static bool boundary_char(char c) {
        /* RFC 2046 bcharsnospace, and the space (not last) */
        return isalnum((unsigned char) c) || strchr("'()+_,-./:=? ", c);
}

static bool boundary_ok(const char *b, size_t len) {
        if (len == 0 || len > SFU_MULTIPART_BOUNDARY_MAX || b[len - 1] == ' ')
                return false;
        for (size_t i = 0; i < len; i++)
                if (!boundary_char(b[i]))
                        return false;
        return true;
}

int sfu_multipart_boundary(const char *content_type, char out[static SFU_MULTIPART_BOUNDARY_MAX + 1]) {
        static const char type[] = "multipart/byteranges";
        const char *p = content_type;

        if (!p || strlen(p) > SFU_HTTP_HEADER_MAX)
                return -EINVAL;
        while (*p == ' ' || *p == '\t')
                p++;
        if (strncasecmp(p, type, sizeof(type) - 1) != 0)
                return -EINVAL;
        p += sizeof(type) - 1;
        for (;;) {
                const char *name, *value;
                size_t name_len, value_len;
                bool quoted = false;

                while (*p == ' ' || *p == '\t')
                        p++;
                if (*p == 0)
                        return -EINVAL; /* no boundary */
                if (*p != ';')
                        return -EINVAL;
                p++;
                while (*p == ' ' || *p == '\t')
                        p++;
                name = p;
                while (*p && *p != '=' && *p != ';' && *p != ' ' && *p != '\t')
                        p++;
                name_len = (size_t) (p - name);
                if (*p != '=')
                        return -EINVAL;
                p++;
                if (*p == '"') {
                        quoted = true;
                        value = ++p;
                        while (*p && *p != '"') {
                                if (*p == '\\')
                                        return -EINVAL; /* no escapes in a boundary */
                                p++;
                        }
                        if (*p != '"')
                                return -EINVAL;
                        value_len = (size_t) (p - value);
                        p++;
                } else {
                        value = p;
                        while (*p && *p != ';' && *p != ' ' && *p != '\t')
                                p++;
                        value_len = (size_t) (p - value);
                }
                if (name_len == 8 && strncasecmp(name, "boundary", 8) == 0) {
                        if (!boundary_ok(value, value_len) || (!quoted && memchr(value, ' ', value_len)))
                                return -EINVAL;
                        memcpy(out, value, value_len);
                        out[value_len] = 0;
                        return 0;
                }
        }
}

int sfu_multipart_init(struct sfu_multipart *p, const char *boundary, const struct sfu_multipart_callbacks *cb,
                       void *userdata) {
        size_t len = boundary ? strlen(boundary) : 0;

        if (!boundary_ok(boundary ? boundary : "", len) || !cb || !cb->part || !cb->data)
                return -EINVAL;
        *p = (struct sfu_multipart) { .cb = cb, .userdata = userdata, .state = SFU_MULTIPART_PREAMBLE };
        memcpy(p->boundary, boundary, len + 1);
        return 0;
}

static int bad(struct sfu_multipart *p, struct sfu_err *err, const char *what) {
        return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO, "malformed multipart/byteranges answer (part %u): %s",
                           p->parts, what);
}

/* "--boundary" (close: "--boundary--"), then optional transport padding. */
static int delimiter(const struct sfu_multipart *p, const char *line, bool *ret_close) {
        size_t blen = strlen(p->boundary), len = strlen(line);

        while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
                len--;
        if (len < blen + 2 || line[0] != '-' || line[1] != '-' || memcmp(line + 2, p->boundary, blen) != 0)
                return -EINVAL;
        if (len == blen + 2) {
                *ret_close = false;
                return 0;
        }
        if (len == blen + 4 && line[blen + 2] == '-' && line[blen + 3] == '-') {
                *ret_close = true;
                return 0;
        }
        return -EINVAL;
}

static int header_line(struct sfu_multipart *p, const char *line, struct sfu_err *err) {
        static const char name[] = "content-range:";
        const char *v;

        if (++p->lines > SFU_MULTIPART_HEADERS_MAX)
                return bad(p, err, "too many header lines");
        if (line[0] == ' ' || line[0] == '\t')
                return bad(p, err, "a folded header line");
        if (!strchr(line, ':'))
                return bad(p, err, "a header line without a colon");
        if (strncasecmp(line, name, sizeof(name) - 1) != 0)
                return 0; /* Content-Type and the like: not needed */
        if (p->has_range)
                return bad(p, err, "two Content-Range lines");
        v = line + sizeof(name) - 1;
        while (*v == ' ' || *v == '\t')
                v++;
        if (sfu_http_parse_content_range(v, &p->start, &p->end, &p->total) < 0)
                return bad(p, err, "an unusable Content-Range");
        p->has_range = true;
        return 0;
}

/* One complete line (without its LF, and without a CR before it). */
static int on_line(struct sfu_multipart *p, const char *line, struct sfu_err *err) {
        bool close = false;
        int r;

        switch (p->state) {
        case SFU_MULTIPART_PREAMBLE:
                if (line[0] == 0) {
                        if (++p->lines > SFU_MULTIPART_BLANK_MAX)
                                return bad(p, err, "too many blank lines before the first part");
                        return 0;
                }
                if (delimiter(p, line, &close) < 0 || close)
                        return bad(p, err, "the body does not start with the boundary");
                break;
        case SFU_MULTIPART_HEADERS:
                if (line[0] != 0)
                        return header_line(p, line, err);
                if (!p->has_range)
                        return bad(p, err, "a part without Content-Range");
                r = p->cb->part(p->userdata, p->start, p->end, p->total, err);
                if (r < 0)
                        return r;
                p->left = p->end - p->start + 1;
                p->state = SFU_MULTIPART_BODY;
                return 0;
        case SFU_MULTIPART_BODY_END:
                if (line[0] != 0)
                        return bad(p, err, "a part longer than its Content-Range");
                p->state = SFU_MULTIPART_DELIMITER;
                return 0;
        case SFU_MULTIPART_DELIMITER:
                if (delimiter(p, line, &close) < 0)
                        return bad(p, err, "a part not followed by the boundary");
                if (close) {
                        p->state = SFU_MULTIPART_DONE;
                        return 0;
                }
                break;
        case SFU_MULTIPART_BODY:
        case SFU_MULTIPART_DONE:
        default:
                return bad(p, err, "an unexpected line");
        }
        /* After a delimiter: the next part's headers. */
        p->state = SFU_MULTIPART_HEADERS;
        p->parts++;
        p->lines = 0;
        p->has_range = false;
        return 0;
}

int sfu_multipart_feed(struct sfu_multipart *p, const void *buf, size_t len, struct sfu_err *err) {
        const uint8_t *b = buf;
        int r;

        while (len > 0) {
                if (p->state == SFU_MULTIPART_DONE) {
                        p->epilogue += len;
                        if (p->epilogue > SFU_MULTIPART_EPILOGUE_MAX)
                                return bad(p, err, "too much data after the last part");
                        return 0;
                }
                if (p->state == SFU_MULTIPART_BODY) {
                        size_t n = len < p->left ? len : (size_t) p->left;
                        r = p->cb->data(p->userdata, b, n, err);
                        if (r < 0)
                                return r;
                        b += n;
                        len -= n;
                        p->left -= n;
                        if (p->left == 0)
                                p->state = SFU_MULTIPART_BODY_END;
                        continue;
                }
                /* A line: up to LF. */
                uint8_t c = *b++;
                len--;
                if (c == '\n') {
                        if (p->line_len > 0 && p->line[p->line_len - 1] == '\r')
                                p->line_len--;
                        p->line[p->line_len] = 0;
                        if (memchr(p->line, 0, p->line_len))
                                return bad(p, err, "a NUL byte in a header");
                        p->line_len = 0;
                        r = on_line(p, p->line, err);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (p->line_len >= SFU_MULTIPART_LINE_MAX)
                        return bad(p, err, "a header line too long");
                p->line[p->line_len++] = (char) c;
        }
        return 0;
}

int sfu_multipart_finish(const struct sfu_multipart *p, struct sfu_err *err) {
        bool close = false;

        if (p->state == SFU_MULTIPART_DELIMITER && p->line_len > 0 && p->line_len <= SFU_MULTIPART_LINE_MAX) {
                /* The close delimiter may end the body without a CRLF. */
                char line[SFU_MULTIPART_LINE_MAX + 1];
                memcpy(line, p->line, p->line_len);
                line[p->line_len] = 0;
                if (!memchr(line, 0, p->line_len) && delimiter(p, line, &close) == 0 && close)
                        return 0;
        }
        if (p->state != SFU_MULTIPART_DONE)
                return sfu_err_set(err, SFU_ERR_NETWORK, EPIPE,
                                   "multipart/byteranges answer ended before its last boundary (part %u)", p->parts);
        return 0;
}
