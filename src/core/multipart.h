/* SPDX-License-Identifier: MIT */
/* A streaming parser of a multipart/byteranges body (RFC 9110 14.6, the
 * answer to a Range request for several ranges).  The body comes from an
 * untrusted server: every part must carry a Content-Range, its data is
 * exactly that range's length (never searched for the boundary), each
 * delimiter must be the announced boundary, and the body must end with the
 * close delimiter.  Memory is fixed: one header line at a time. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

#define SFU_MULTIPART_BOUNDARY_MAX 70   /* RFC 2046 5.1.1 */
#define SFU_MULTIPART_LINE_MAX 1024     /* one header line */
#define SFU_MULTIPART_HEADERS_MAX 16    /* header lines of one part */
#define SFU_MULTIPART_BLANK_MAX 4       /* empty lines before the first delimiter */
#define SFU_MULTIPART_EPILOGUE_MAX 1024 /* bytes after the close delimiter */

struct sfu_multipart_callbacks {
        /* A part begins: its Content-Range (total may be
         * SFU_HTTP_LENGTH_UNKNOWN).  Negative errno refuses it. */
        int (*part)(void *userdata, uint64_t start, uint64_t end, uint64_t total, struct sfu_err *err);
        /* Bytes of the current part, in order. */
        int (*data)(void *userdata, const uint8_t *buf, size_t len, struct sfu_err *err);
};

enum sfu_multipart_state {
        SFU_MULTIPART_PREAMBLE,
        SFU_MULTIPART_HEADERS,
        SFU_MULTIPART_BODY,
        SFU_MULTIPART_BODY_END,         /* the CRLF that ends a part's data */
        SFU_MULTIPART_DELIMITER,        /* "--boundary" or "--boundary--" */
        SFU_MULTIPART_DONE,
};

struct sfu_multipart {
        char boundary[SFU_MULTIPART_BOUNDARY_MAX + 1];
        const struct sfu_multipart_callbacks *cb;
        void *userdata;
        enum sfu_multipart_state state;
        char line[SFU_MULTIPART_LINE_MAX + 1];
        size_t line_len;
        unsigned lines;                 /* blank lines (preamble) or header lines (part) */
        bool has_range;
        uint64_t start, end, total;
        uint64_t left;                  /* data bytes of the current part still to come */
        uint64_t epilogue;
        unsigned parts;
};

/* The boundary parameter of a Content-Type "multipart/byteranges; ...
 * boundary=B" (B a token or a quoted string of 1 to 70 characters).
 * -EINVAL when the type is another or the boundary is missing or bad. */
int sfu_multipart_boundary(const char *content_type, char out[static SFU_MULTIPART_BOUNDARY_MAX + 1]) _wur_;

/* Starts a parser; boundary as sfu_multipart_boundary() returned it. */
int sfu_multipart_init(struct sfu_multipart *p, const char *boundary, const struct sfu_multipart_callbacks *cb,
                       void *userdata) _wur_;
/* Feeds the next bytes of the body.  SFU_ERR_NETWORK/EPROTO on a
 * malformed body; a callback's error as it set it. */
int sfu_multipart_feed(struct sfu_multipart *p, const void *buf, size_t len, struct sfu_err *err) _wur_;
/* The body ended: 0 when it ended after the close delimiter. */
int sfu_multipart_finish(const struct sfu_multipart *p, struct sfu_err *err) _wur_;
