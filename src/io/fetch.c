/* SPDX-License-Identifier: MIT */
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>

#include "core/http.h"
#include "io/fetch.h"
#include "io/clock.h"

#define USER_AGENT "secfud/" PACKAGE_VERSION
#define LIBCURL_SONAME "libcurl.so.4"

/* libcurl is loaded while a job needs it, and unloaded after (see
 * sfu_fetch_acquire): an idle daemon does not keep it, nor what it
 * pulls in (GnuTLS through librtmp, Kerberos, LDAP, libssh2, ...), which
 * were about 4 MiB of its 11 MiB resident.  Its functions are called
 * through this table; the names below stand for its entries.  (Calls
 * through a pointer skip curl.h's compile-time type checks of
 * curl_easy_setopt: every value below is a long, a pointer or a
 * curl_off_t, as its option wants.) */
static struct {
        pthread_mutex_t lock;
        unsigned users;
        void *dl;
        __typeof__(curl_global_init) *global_init;
        __typeof__(curl_global_cleanup) *global_cleanup;
        __typeof__(curl_easy_init) *easy_init;
        __typeof__(curl_easy_setopt) *easy_setopt;
        __typeof__(curl_easy_perform) *easy_perform;
        __typeof__(curl_easy_getinfo) *easy_getinfo;
        __typeof__(curl_easy_cleanup) *easy_cleanup;
        __typeof__(curl_easy_strerror) *easy_strerror;
        __typeof__(curl_easy_header) *easy_header;
        __typeof__(curl_slist_append) *slist_append;
        __typeof__(curl_slist_free_all) *slist_free_all;
} api = { .lock = PTHREAD_MUTEX_INITIALIZER };

#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_easy_init (*api.easy_init)
#define curl_easy_setopt (*api.easy_setopt)
#define curl_easy_perform (*api.easy_perform)
#define curl_easy_getinfo (*api.easy_getinfo)
#define curl_easy_cleanup (*api.easy_cleanup)
#define curl_easy_strerror (*api.easy_strerror)
#define curl_easy_header (*api.easy_header)
#define curl_slist_append (*api.slist_append)
#define curl_slist_free_all (*api.slist_free_all)

int sfu_fetch_acquire(struct sfu_err *err) {
        static const struct {
                const char *name;
                size_t offset;
        } syms[] = {
#define SYM(field, name) { name, offsetof(__typeof__(api), field) }
                SYM(global_init, "curl_global_init"),   SYM(global_cleanup, "curl_global_cleanup"),
                SYM(easy_init, "curl_easy_init"),       SYM(easy_setopt, "curl_easy_setopt"),
                SYM(easy_perform, "curl_easy_perform"), SYM(easy_getinfo, "curl_easy_getinfo"),
                SYM(easy_cleanup, "curl_easy_cleanup"), SYM(easy_strerror, "curl_easy_strerror"),
                SYM(easy_header, "curl_easy_header"),   SYM(slist_append, "curl_slist_append"),
                SYM(slist_free_all, "curl_slist_free_all"),
#undef SYM
        };
        int r = 0;

        pthread_mutex_lock(&api.lock);
        if (api.dl) { /* still loaded (sfu_fetch_unload not yet called) */
                api.users++;
                goto out;
        }
        api.dl = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!api.dl) {
                const char *e = dlerror();
                r = sfu_err_set(err, SFU_ERR_STORAGE, ELIBACC, "cannot load %s: %s", LIBCURL_SONAME, e ? e : "?");
                goto out;
        }
        for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
                void *f = dlsym(api.dl, syms[i].name);
                if (!f) {
                        r = sfu_err_set(err, SFU_ERR_STORAGE, ELIBBAD, "%s has no %s", LIBCURL_SONAME, syms[i].name);
                        break;
                }
                memcpy((char *) &api + syms[i].offset, &f, sizeof(f));
        }
        if (r >= 0 && api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                r = sfu_err_set(err, SFU_ERR_STORAGE, EIO, "cannot initialise libcurl");
        if (r < 0) {
                dlclose(api.dl);
                api.dl = NULL;
                goto out;
        }
        api.users = 1;
out:
        pthread_mutex_unlock(&api.lock);
        return r;
}

void sfu_fetch_release(void) {
        pthread_mutex_lock(&api.lock);
        if (api.users > 0)
                api.users--;
        pthread_mutex_unlock(&api.lock);
}

void sfu_fetch_unload(void) {
        pthread_mutex_lock(&api.lock);
        if (api.users == 0 && api.dl) {
                api.global_cleanup();
                dlclose(api.dl);
                api.dl = NULL;
        }
        pthread_mutex_unlock(&api.lock);
}

static inline void curl_easy_cleanupp(CURL **c) {
        if (*c)
                curl_easy_cleanup(*c);
}
static inline void curl_slist_free_allp(struct curl_slist **l) {
        curl_slist_free_all(*l);
}

struct xfer {
        CURL *curl;
        const struct sfu_fetch_opts *opts;
        struct sfu_err *err;
        struct sfu_fetch_result *result;
        bool started;
        bool accept_body;
        bool stopped;           /* we ended the transfer on purpose (error body read enough) */
        int failure;            /* negative errno recorded by a callback */
        uint64_t dropped;

        /* buffer mode */
        char *buf;
        size_t len, cap, max;

        /* stream mode */
        const struct sfu_fetch_sink *sink;
        uint64_t next_offset;
        uint64_t max_total;
        bool multipart_ok;      /* a 206 may be multipart/byteranges */
        uint64_t max_body;      /* then: at most this many body bytes */
};

int sfu_fetch_global_init(void) {
        /* libcrypto's error strings stay unloaded: libcurl's init would
         * load them all into a hash table (about 0.5 MiB resident for the
         * life of the daemon) only to spell out some TLS failures, which
         * then read like "error:0A00010B:lib(20)::reason(267)";
         * `openssl errstr 0A00010B` names the reason.  Certificate
         * verification failures keep their text (libcurl takes it from
         * X509_verify_cert_error_string, which needs no table). */
        return OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, NULL) == 1 ? 0 : -EIO;
}

static void copy_header(CURL *curl, const char *name, char *out, size_t out_size) {
        struct curl_header *h = NULL;
        out[0] = 0;
        if (curl_easy_header(curl, name, 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h && h->value &&
            strlen(h->value) < out_size)
                strcpy(out, h->value);
}

/* Learns the final response (after redirects) at its first body byte. */
static int on_start(struct xfer *x) {
        long status = 0;
        curl_off_t retry = 0;
        char *effective = NULL;

        x->started = true;
        curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
        x->result->status = status;
        if (curl_easy_getinfo(x->curl, CURLINFO_RETRY_AFTER, &retry) == CURLE_OK && retry > 0)
                x->result->retry_after = (uint64_t) retry;
        if (curl_easy_getinfo(x->curl, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK && effective)
                snprintf(x->result->effective_url, sizeof(x->result->effective_url), "%s", effective);
        copy_header(x->curl, "ETag", x->result->etag, sizeof(x->result->etag));
        copy_header(x->curl, "Last-Modified", x->result->last_modified, sizeof(x->result->last_modified));
        copy_header(x->curl, "Content-Type", x->result->content_type, sizeof(x->result->content_type));
        x->result->range_start = 0;
        x->accept_body = status == 200 || (x->sink && status == 206);
        if (status == 200) {
                curl_off_t length = -1;
                if (curl_easy_getinfo(x->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK && length > 0)
                        x->result->total_length = (uint64_t) length;
        }
        if (x->sink && status == 206 && x->multipart_ok &&
            strncasecmp(x->result->content_type, "multipart/byteranges", 20) == 0) {
                /* The parts say their ranges; offsets count body bytes. */
                x->result->multipart = true;
                x->max_total = x->max_body;
        } else if (x->sink && status == 206) {
                char range[SFU_FETCH_MAX_HEADER_VALUE];
                copy_header(x->curl, "Content-Range", range, sizeof(range));
                uint64_t end, total;
                if (sfu_http_parse_content_range(range, &x->result->range_start, &end, &total) < 0)
                        return sfu_err_set(x->err, SFU_ERR_NETWORK, EPROTO,
                                           "server answered 206 without a usable Content-Range (\"%s\")", range);
                x->result->total_length = total;
        }
        if (x->sink && x->accept_body) {
                x->next_offset = x->result->range_start;
                if (x->sink->start) {
                        int r = x->sink->start(x->sink->userdata, x->result, x->err);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata) {
        struct xfer *x = userdata;
        size_t len = size * nmemb;
        int r;

        if (!x->started) {
                r = on_start(x);
                if (r < 0) {
                        x->failure = r;
                        return 0;
                }
        }
        if (!x->accept_body) {
                /* An error page: read a little (keeps the connection sane),
                 * then stop. */
                x->dropped += len;
                if (x->dropped > SFU_FETCH_ERROR_BODY_MAX) {
                        x->stopped = true;
                        return 0;
                }
                return len;
        }
        if (x->sink) {
                if (x->next_offset + len > x->max_total || x->next_offset + len < x->next_offset) {
                        x->failure = sfu_err_set(x->err, SFU_ERR_SIZE, EFBIG,
                                                 "server sent more than the expected %" PRIu64 " bytes",
                                                 x->max_total);
                        return 0;
                }
                r = x->sink->write(x->sink->userdata, x->next_offset, data, len, x->err);
                if (r < 0) {
                        x->failure = r;
                        return 0;
                }
                x->next_offset += len;
                if (r == SFU_FETCH_STOP) {
                        x->stopped = true;
                        return 0;
                }
        } else {
                size_t keep = x->max, want = 0;
                if (x->opts->prefix_limit) {
                        /* The caller may know from the first bytes how many
                         * it wants: then what is beyond is cut, not refused
                         * (the caller judges a short prefix). */
                        want = x->opts->prefix_limit(x->buf, x->len, data, len);
                        if (want > 0 && want < keep)
                                keep = want;
                }
                if (x->len + len > keep && want > 0) {
                        /* Keep what the caller wants, end the transfer there. */
                        len = keep > x->len ? keep - x->len : 0;
                        x->result->truncated = true;
                        x->stopped = true;
                } else if (x->len + len > x->max) {
                        x->failure = sfu_err_set(x->err, SFU_ERR_SIZE, EFBIG,
                                                 "response exceeds the limit of %zu bytes", x->max);
                        return 0;
                }
                if (x->len + len + 1 > x->cap) {
                        size_t cap = x->cap ? x->cap : 16384;
                        while (cap < x->len + len + 1)
                                cap *= 2;
                        char *n = realloc(x->buf, cap);
                        if (!n) {
                                x->failure = -ENOMEM;
                                return 0;
                        }
                        x->buf = n;
                        x->cap = cap;
                }
                memcpy(x->buf + x->len, data, len);
                x->len += len;
        }
        x->result->body_bytes += len;
        return len;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
        struct xfer *x = userdata;
        if (x->opts->cancel && atomic_load(x->opts->cancel) == 1)
                return 1;
        if (x->opts->progress)
                x->opts->progress(x->opts->userdata, (uint64_t) dlnow);
        return 0;
}

static int setup(struct xfer *x, const char *url, struct curl_slist **headers, struct curl_slist **connect_to) {
        const struct sfu_config *c = x->opts->config;
        CURL *h = x->curl;
        CURLcode rc = CURLE_OK;

#define SET(opt, val)                                     \
        do {                                              \
                if (rc == CURLE_OK)                       \
                        rc = curl_easy_setopt(h, opt, val); \
        } while (0)
        SET(CURLOPT_URL, url);
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_FOLLOWLOCATION, 1L);
        SET(CURLOPT_MAXREDIRS, (long) SFU_FETCH_MAX_REDIRECTS);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_USERAGENT, USER_AGENT);
        SET(CURLOPT_SSL_VERIFYPEER, 1L);
        SET(CURLOPT_SSL_VERIFYHOST, 2L);
        /* Name the CA bundle always: OpenSSL's defaults would honour
         * SSL_CERT_FILE / SSL_CERT_DIR from the environment. */
        SET(CURLOPT_CAINFO, c->ca_file && c->ca_file[0] ? c->ca_file : SFU_FETCH_SYSTEM_CA);
        SET(CURLOPT_CAPATH, NULL);
        switch (c->proxy) {
        case SFU_CONFIG_PROXY_NONE:
                SET(CURLOPT_PROXY, ""); /* "" disables every proxy, the environment's too */
                break;
        case SFU_CONFIG_PROXY_URL:
                SET(CURLOPT_PROXY, c->proxy_url);
                break;
        case SFU_CONFIG_PROXY_ENV:
                break; /* libcurl reads http_proxy & co. */
        }
        SET(CURLOPT_CONNECTTIMEOUT_MS, (long) (c->connect_timeout_usec / 1000));
        if (x->opts->deadline_usec) {
                uint64_t now = sfu_clock_monotonic_usec();
                long left_ms = now < x->opts->deadline_usec ? (long) ((x->opts->deadline_usec - now) / 1000) : 0;
                SET(CURLOPT_TIMEOUT_MS, left_ms > 0 ? left_ms : 1L);
        }
        SET(CURLOPT_LOW_SPEED_LIMIT, 1024L);
        SET(CURLOPT_LOW_SPEED_TIME, (long) (c->low_speed_timeout_usec / 1000000 ? c->low_speed_timeout_usec / 1000000 : 1));
        SET(CURLOPT_BUFFERSIZE, (long) SFU_FETCH_BUFFER);
        SET(CURLOPT_WRITEFUNCTION, on_body);
        SET(CURLOPT_WRITEDATA, x);
        SET(CURLOPT_NOPROGRESS, 0L);
        SET(CURLOPT_XFERINFOFUNCTION, on_progress);
        SET(CURLOPT_XFERINFODATA, x);
        if (c->connect_to && c->connect_to[0]) {
                _cleanup_free_ char *copy = strdup(c->connect_to);
                char *save = NULL;
                if (!copy)
                        return -ENOMEM;
                for (char *tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
                        struct curl_slist *n = curl_slist_append(*connect_to, tok);
                        if (!n)
                                return -ENOMEM;
                        *connect_to = n;
                }
                SET(CURLOPT_CONNECT_TO, *connect_to);
        }
        if (*headers)
                SET(CURLOPT_HTTPHEADER, *headers);
#undef SET
        return rc == CURLE_OK ? 0 : -EINVAL;
}

static int add_header(struct curl_slist **headers, const char *name, const char *value) {
        _cleanup_free_ char *line = NULL;
        struct curl_slist *n;
        /* A header value with CR/LF would inject headers of its own. */
        if (strpbrk(value, "\r\n"))
                return -EINVAL;
        if (asprintf(&line, "%s: %s", name, value) < 0)
                return -ENOMEM;
        n = curl_slist_append(*headers, line);
        if (!n)
                return -ENOMEM;
        *headers = n;
        return 0;
}

static int perform(struct xfer *x, const char *url) {
        CURLcode rc = curl_easy_perform(x->curl);

        if (!x->started && rc == CURLE_OK) {
                /* An answer without a body (304, 204, empty 200). */
                int r = on_start(x);
                if (r < 0)
                        return r;
        }
        if (x->failure < 0)
                return x->failure;
        if (x->stopped && rc == CURLE_WRITE_ERROR)
                return 0;
        if (rc == CURLE_ABORTED_BY_CALLBACK)
                return sfu_err_set(x->err, SFU_ERR_NETWORK, ECANCELED, "transfer of %s cancelled", url);
        if (rc == CURLE_TOO_MANY_REDIRECTS)
                return sfu_err_set(x->err, SFU_ERR_NETWORK, ELOOP, "%s: more than %d redirects", url,
                                   SFU_FETCH_MAX_REDIRECTS);
        if (rc == CURLE_UNSUPPORTED_PROTOCOL)
                return sfu_err_set(x->err, SFU_ERR_NETWORK, EPROTONOSUPPORT,
                                   "%s: refused a scheme other than http or https (redirect?)", url);
        if (rc == CURLE_OPERATION_TIMEDOUT && x->opts->deadline_usec &&
            sfu_clock_monotonic_usec() + 1000 >= x->opts->deadline_usec)
                return sfu_err_set(x->err, SFU_ERR_NETWORK, ETIME, "%s: the job ran out of time (job-timeout)", url);
        if (rc != CURLE_OK) {
                long os_errno = 0;
                curl_easy_getinfo(x->curl, CURLINFO_OS_ERRNO, &os_errno);
                return sfu_err_set(x->err, SFU_ERR_NETWORK,
                                   rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
                                                   rc == CURLE_SSL_CERTPROBLEM
                                           ? EKEYREJECTED /* TLS trust: not worth retrying */
                                   : rc == CURLE_COULDNT_RESOLVE_HOST ? EHOSTUNREACH
                                   : rc == CURLE_OPERATION_TIMEDOUT ? ETIMEDOUT
                                   : rc == CURLE_COULDNT_CONNECT ? ECONNREFUSED
                                                                    : EIO,
                                   "%s: %s", url, curl_easy_strerror(rc));
        }
        return 0;
}

int sfu_fetch_buffer(const struct sfu_fetch_opts *opts, const char *url, const char *etag, const char *last_modified,
                     size_t max, char **ret_body, size_t *ret_len, struct sfu_fetch_result *ret, struct sfu_err *err) {
        _cleanup_(curl_easy_cleanupp) CURL *curl = NULL;
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        _cleanup_(curl_slist_free_allp) struct curl_slist *connect_to = NULL;
        struct sfu_fetch_result result = {};
        struct xfer x = { .opts = opts, .err = err, .result = &result, .max = max };
        int r;

        if (!api.dl)
                return sfu_err_set(err, SFU_ERR_STORAGE, ELIBACC, "libcurl is not loaded (a fetch outside a job)");
        curl = curl_easy_init();
        if (!curl)
                return -ENOMEM;
        x.curl = curl;
        if ((opts->accept && add_header(&headers, "Accept", opts->accept) < 0) ||
            (etag && etag[0] && add_header(&headers, "If-None-Match", etag) < 0) ||
            (last_modified && last_modified[0] && add_header(&headers, "If-Modified-Since", last_modified) < 0))
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL, "stored ETag or Last-Modified is malformed");
        r = setup(&x, url, &headers, &connect_to);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_NETWORK, r, "cannot set up a transfer of %s", url);
        r = perform(&x, url);
        if (r < 0) {
                free(x.buf);
                return r;
        }
        if (result.status != 200) {
                free(x.buf);
                x.buf = NULL;
                x.len = 0;
        } else if (!x.buf) {
                x.buf = strdup("");
                if (!x.buf)
                        return -ENOMEM;
        } else
                x.buf[x.len] = 0;
        *ret_body = x.buf;
        *ret_len = x.len;
        *ret = result;
        return 0;
}

int sfu_fetch_stream(const struct sfu_fetch_opts *opts, const char *url, uint64_t offset, uint64_t end,
                     const char *if_range_etag, uint64_t max_total, const struct sfu_fetch_sink *sink,
                     struct sfu_fetch_result *ret, struct sfu_err *err) {
        _cleanup_(curl_easy_cleanupp) CURL *curl = NULL;
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        _cleanup_(curl_slist_free_allp) struct curl_slist *connect_to = NULL;
        struct sfu_fetch_result result = {};
        struct xfer x = { .opts = opts, .err = err, .result = &result, .sink = sink, .max_total = max_total };
        int r;

        if (!api.dl)
                return sfu_err_set(err, SFU_ERR_STORAGE, ELIBACC, "libcurl is not loaded (a fetch outside a job)");
        curl = curl_easy_init();
        if (!curl)
                return -ENOMEM;
        x.curl = curl;
        if (offset > 0 || end > 0) {
                char range[64];
                if (end > 0)
                        snprintf(range, sizeof(range), "bytes=%" PRIu64 "-%" PRIu64, offset, end);
                else
                        snprintf(range, sizeof(range), "bytes=%" PRIu64 "-", offset);
                if (add_header(&headers, "Range", range) < 0 ||
                    (if_range_etag && if_range_etag[0] && add_header(&headers, "If-Range", if_range_etag) < 0))
                        return sfu_err_set(err, SFU_ERR_STATE, EINVAL, "stored ETag is malformed");
        }
        r = setup(&x, url, &headers, &connect_to);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_NETWORK, r, "cannot set up a transfer of %s", url);
        r = perform(&x, url);
        *ret = result;
        return r;
}

int sfu_fetch_ranges(const struct sfu_fetch_opts *opts, const char *url, const char *ranges, const char *if_range_etag,
                     uint64_t max_total, uint64_t max_body, const struct sfu_fetch_sink *sink,
                     struct sfu_fetch_result *ret, struct sfu_err *err) {
        _cleanup_(curl_easy_cleanupp) CURL *curl = NULL;
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        _cleanup_(curl_slist_free_allp) struct curl_slist *connect_to = NULL;
        _cleanup_free_ char *range = NULL;
        struct sfu_fetch_result result = {};
        struct xfer x = { .opts = opts, .err = err, .result = &result, .sink = sink, .max_total = max_total,
                          .multipart_ok = true, .max_body = max_body };
        int r;

        if (!api.dl)
                return sfu_err_set(err, SFU_ERR_STORAGE, ELIBACC, "libcurl is not loaded (a fetch outside a job)");
        curl = curl_easy_init();
        if (!curl)
                return -ENOMEM;
        x.curl = curl;
        if (asprintf(&range, "bytes=%s", ranges) < 0)
                return -ENOMEM;
        if (add_header(&headers, "Range", range) < 0 ||
            (if_range_etag && if_range_etag[0] && add_header(&headers, "If-Range", if_range_etag) < 0))
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL, "malformed Range or ETag");
        r = setup(&x, url, &headers, &connect_to);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_NETWORK, r, "cannot set up a transfer of %s", url);
        r = perform(&x, url);
        *ret = result;
        return r;
}
