/* SPDX-License-Identifier: MIT */
/* HTTP(S) transfers with libcurl, restricted the way secfud.conf(5) [network] says
 * wants: http and https only (redirects too, at most 5), TLS verified
 * against the configured or the system CA bundle (never one named by the
 * environment), proxies only as configured, connect and low-speed
 * timeouts, hard byte caps.  Blocking: callers run it off the event loop
 * and cancel through opts->cancel. */
#pragma once
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "core/config.h"
#include "core/err.h"

#define SFU_FETCH_MAX_REDIRECTS 5
#define SFU_FETCH_MAX_HEADER_VALUE 512
#define SFU_FETCH_ERROR_BODY_MAX (64u * 1024u)  /* bytes of a non-2xx body we read and drop */
#define SFU_FETCH_BUFFER (128u * 1024u)             /* libcurl's receive buffer */
#define SFU_FETCH_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

struct sfu_fetch_opts {
        const struct sfu_config *config;        /* network section, connect-to */
        atomic_int *cancel;                     /* 1 there aborts a transfer (may be NULL) */
        uint64_t deadline_usec;                 /* CLOCK_MONOTONIC; a transfer ends there (0: none) */
        const char *accept;                     /* an Accept header value (NULL: none) */
        /* sfu_fetch_buffer: told the bytes kept so far (buf, len) and the
         * block arriving (data, n), it may answer how many bytes of the body
         * the caller wants (0: not known yet).  The body is then cut there
         * and the transfer ends (result truncated when more was coming): a
         * bundle's header and manifest are read, not its images. */
        size_t (*prefix_limit)(const char *buf, size_t len, const char *data, size_t n);
        /* Called with progress of the body (bytes so far of this transfer);
         * may be NULL. Runs on the fetching thread. */
        void (*progress)(void *userdata, uint64_t bytes_now);
        void *userdata;
};

struct sfu_fetch_result {
        long status;                            /* HTTP status, 0 when none */
        char etag[SFU_FETCH_MAX_HEADER_VALUE];
        char last_modified[SFU_FETCH_MAX_HEADER_VALUE];
        char content_type[SFU_FETCH_MAX_HEADER_VALUE];
        char effective_url[4096];
        uint64_t retry_after;                   /* seconds, 0 if none */
        uint64_t range_start;                   /* first byte offset of the body (206) */
        uint64_t body_bytes;                    /* bytes delivered to the sink / buffer */
        uint64_t total_length;                  /* of the whole file, when the server said (0: unknown) */
        bool truncated;                         /* prefix_limit cut the body */
        bool multipart;                         /* a 206 multipart/byteranges (sfu_fetch_ranges) */
};

/* GET url into a new buffer of at most max bytes (an answer with more is
 * SFU_ERR_SIZE).  Conditional when etag / last_modified are non-empty:
 * a 304 returns 0 with status 304 and no body.  Non-2xx answers return 0
 * with their status (the body dropped): the caller decides. Transport
 * failures are SFU_ERR_NETWORK. */
int sfu_fetch_buffer(const struct sfu_fetch_opts *opts, const char *url, const char *etag,
                     const char *last_modified, size_t max, char **ret_body, size_t *ret_len,
                     struct sfu_fetch_result *ret, struct sfu_err *err) _wur_;

/* Streams url to sink starting at offset (Range: bytes=offset- when
 * offset > 0, or bytes=offset-end when end > 0; with If-Range:
 * if_range_etag when given).  sink is called with the absolute offset of
 * each block; before the first block, start(userdata, result) learns the
 * status and range start and may refuse (negative errno).  A write that
 * returns SFU_FETCH_STOP ends the transfer there, successfully. At most
 * max_total bytes of the whole file are accepted: beyond that the
 * transfer is aborted with SFU_ERR_SIZE. */
#define SFU_FETCH_STOP 1
struct sfu_fetch_sink {
        int (*start)(void *userdata, const struct sfu_fetch_result *result, struct sfu_err *err);
        int (*write)(void *userdata, uint64_t offset, const void *buf, size_t len, struct sfu_err *err);
        void *userdata;
};

int sfu_fetch_stream(const struct sfu_fetch_opts *opts, const char *url, uint64_t offset, uint64_t end,
                     const char *if_range_etag, uint64_t max_total, const struct sfu_fetch_sink *sink, struct sfu_fetch_result *ret,
                     struct sfu_err *err) _wur_;

/* GET url with "Range: bytes=RANGES" (e.g. "0-99,200-299") and If-Range
 * when if_range_etag is given, streaming the body to sink.  start() sees
 * the answer first: a 206 with one Content-Range (write() offsets are then
 * file offsets, at most max_total), a 206 multipart/byteranges
 * (result->multipart; offsets count body bytes, at most max_body; the
 * caller parses the parts, result->content_type has the boundary), or a
 * 200 (the server ignored Range or If-Range; the caller decides). */
int sfu_fetch_ranges(const struct sfu_fetch_opts *opts, const char *url, const char *ranges, const char *if_range_etag,
                     uint64_t max_total, uint64_t max_body, const struct sfu_fetch_sink *sink,
                     struct sfu_fetch_result *ret, struct sfu_err *err) _wur_;

/* Once per process, before any thread fetches. */
int sfu_fetch_global_init(void) _wur_;

/* libcurl is loaded only while someone holds it: a job acquires it before
 * its first transfer and releases it at its end; sfu_fetch_unload() then
 * unloads it when nobody holds it (the daemon does a while after a job).
 * Every other function here needs it held. */
int sfu_fetch_acquire(struct sfu_err *err) _wur_;
void sfu_fetch_release(void);
void sfu_fetch_unload(void);
