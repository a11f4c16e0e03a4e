/* SPDX-License-Identifier: MIT */
/* Where the manifest comes from (doc/ARCHITECTURE.md, "How an update
 * flows"): an operator's URL or file, else the local cache at
 * _firmware.<DHCP domain>, else the manufacturer; conditional GET with a
 * cached copy, retries for the manufacturer. */
#include <fcntl.h>
#include <inttypes.h>

#include "core/timeutil.h"
#include "core/url.h"
#include "daemon/log.h"
#include "daemon/source.h"
#include "io/clock.h"
#include "io/discovery.h"
#include "io/fileio.h"

#define MANIFEST_CACHE_FILE "manifest-cache.jws"

/* The most a manifest source reads: a manifest, or a bundle's header and
 * manifest. */
static size_t head_max(const struct sfu_job *job) {
        return job->config->max_manifest_size + SFU_BUNDLE_HEADER_SIZE;
}

static int cache_path(const struct sfu_job *job, char *buf, size_t size) {
        int n = snprintf(buf, size, "%s/%s", job->config->state_dir, MANIFEST_CACHE_FILE);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

/* GET a manifest, with retries for 429/5xx and transport errors when
 * `persistent` (the manufacturer); the local cache gets one try. -ENOENT:
 * 404 / 410. */
static int fetch_manifest(struct sfu_job *job, const char *url, bool conditional, bool persistent,
                          struct sfu_candidate *c, struct sfu_err *err) {
        struct sfu_fetch_opts opts;
        unsigned attempts = persistent ? SFU_JOB_FETCH_ATTEMPTS : 1;
        char etag[SFU_STATE_MAX_TEXT] = "", last_modified[64] = "", accept[256];
        int r = 0;

        sfu_job_fetch_opts(job, &opts);
        opts.accept = sfu_verify_accept(job->config, accept, sizeof(accept));
        /* A bundle is read up to the end of its manifest. */
        opts.prefix_limit = sfu_bundle_prefix_limit;
        if (conditional && strcmp(job->state->manifest_url, url) == 0) {
                snprintf(etag, sizeof(etag), "%s", job->state->manifest_etag);
                snprintf(last_modified, sizeof(last_modified), "%s", job->state->manifest_last_modified);
        }

        for (unsigned attempt = 0; attempt < attempts; attempt++) {
                struct sfu_fetch_result res;
                struct sfu_err fetch_err = SFU_ERR_INIT;
                char *body = NULL;
                size_t len = 0;

                r = sfu_fetch_buffer(&opts, url, etag, last_modified, head_max(job), &body, &len, &res, &fetch_err);
                if (r >= 0 && res.status == 200) {
                        c->bytes = body;
                        c->len = len;
                        c->file_size = res.truncated ? res.total_length : len;
                        snprintf(c->content_type, sizeof(c->content_type), "%s", res.content_type);
                        snprintf(c->url, sizeof(c->url), "%s", res.effective_url[0] ? res.effective_url : url);
                        /* A bundle's images are asked for If-Range this ETag. */
                        snprintf(c->etag, sizeof(c->etag), "%s", res.etag);
                        snprintf(c->last_modified, sizeof(c->last_modified), "%s", res.last_modified);
                        /* Cached only once it verified (store_cache). */
                        c->cacheable = conditional;
                        return 0;
                }
                free(body);
                if (r >= 0 && res.status == 304) {
                        char path[4096];
                        r = cache_path(job, path, sizeof(path));
                        if (r >= 0)
                                r = sfu_file_read(path, head_max(job), SFU_READ_NOFOLLOW, &c->bytes, &c->len,
                                                  &fetch_err);
                        if (r >= 0) {
                                c->not_modified = true;
                                snprintf(c->url, sizeof(c->url), "%s", url);
                                snprintf(c->etag, sizeof(c->etag), "%s", etag);
                                return 0;
                        }
                        /* The cache is gone: ask again without conditions. */
                        etag[0] = last_modified[0] = 0;
                        continue;
                }
                if (r >= 0 && (res.status == 404 || res.status == 410))
                        return sfu_err_set(err, SFU_ERR_NETWORK, ENOENT, "%s: HTTP %ld", url, res.status);
                if (r >= 0) {
                        bool retryable = res.status == 408 || res.status == 429 || res.status >= 500;
                        r = sfu_err_set(&fetch_err, SFU_ERR_NETWORK, EIO, "%s: HTTP %ld", url, res.status);
                        if (!retryable) {
                                *err = fetch_err;
                                return r;
                        }
                        if (attempt + 1 < attempts) {
                                uint64_t wait;
                                r = sfu_job_retry_delay(job, url, res.status, res.retry_after, attempt, &wait, err);
                                if (r < 0)
                                        return r;
                                log_info("%s: HTTP %ld, retrying in %.1f s", url, res.status, (double) wait / 1e6);
                                r = sfu_job_wait(job, wait, err);
                                if (r < 0)
                                        return r;
                        }
                } else {
                        if (sfu_job_cancelled(job) || fetch_err.errnum == ECANCELED) {
                                *err = fetch_err;
                                return r;
                        }
                        if (!sfu_job_transient(&fetch_err) || attempt + 1 >= attempts) {
                                *err = fetch_err;
                                return r;
                        }
                        uint64_t wait;
                        r = sfu_job_retry_delay(job, url, 0, 0, attempt, &wait, err);
                        if (r < 0)
                                return r;
                        log_info("%s, retrying", fetch_err.message);
                        r = sfu_job_wait(job, wait, err);
                        if (r < 0)
                                return r;
                }
                if (attempt + 1 >= attempts) {
                        *err = fetch_err;
                        return r < 0 ? r : -EIO;
                }
        }
        return r < 0 ? r : -EIO;
}

/* A manifest, or a bundle's head, from a file the operator named or
 * passed: the file stays open in c when it is a bundle. */
int sfu_source_fetch(struct sfu_job *job, const char *url, struct sfu_candidate *c, struct sfu_err *err) {
        return fetch_manifest(job, url, false, true, c, err);
}

static int read_manifest_fd(const struct sfu_job *job, int fd, const char *name, struct sfu_candidate *c,
                            struct sfu_err *err) {
        size_t max = job->config->max_manifest_size;
        int r = sfu_file_read_head_fd(fd, name, head_max(job), &c->bytes, &c->len, &c->file_size, err);

        if (r < 0)
                return r;
        c->url[0] = 0;
        c->source = SFU_SOURCE_OPERATOR;
        if (sfu_bundle_is(c->bytes, c->len)) {
                c->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                if (c->fd < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot keep %s open: %s", name, strerror(errno));
                c->has_fd = true;
        } else if (c->file_size > max)
                return sfu_err_set(err, SFU_ERR_SIZE, EFBIG, "%s is %" PRIu64 " bytes, more than the limit of %zu", name,
                                   c->file_size, max);
        return 0;
}

static int read_manifest_file(const struct sfu_job *job, const char *path, struct sfu_candidate *c,
                              struct sfu_err *err) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

        if (fd < 0 && errno == ENOENT)
                return sfu_err_set(err, SFU_ERR_PARSE, ENOENT, "%s: no such file", path);
        if (fd < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot open %s: %s", path, strerror(errno));
        return read_manifest_fd(job, fd, path, c, err);
}

static void discovery_invalid(const char *source, const char *candidate, void *userdata) {
        log_warning("discovery: ignoring invalid domain from %s: \"%s\"", source, candidate);
}

static void discovery_paths(struct sfu_discovery_paths *paths) {
        sfu_discovery_paths_default(paths);
        paths->on_invalid = discovery_invalid;
#ifdef SFU_FAULT_INJECTION
        /* Test builds only: point discovery at the tests' files. */
        static const char *globs[2];
        const char *v;
        if ((v = getenv("SFU_TEST_NETWORKD_LEASES")))
                paths->networkd_leases_dir = v[0] ? v : NULL;
        if ((v = getenv("SFU_TEST_DHCLIENT_GLOB"))) {
                globs[0] = v;
                paths->dhclient_leases_globs = v[0] ? globs : NULL;
        }
        if ((v = getenv("SFU_TEST_RESOLV_CONF")))
                paths->resolv_conf = v[0] ? v : NULL;
        if (getenv("SFU_TEST_NO_RESOLVED"))
                paths->use_resolved = false;
#endif
}

static int local_url(const struct sfu_job *job, char **ret) {
        _cleanup_free_ char *found = NULL;
        const char *domain = job->config->domain, *source = "configuration";
        struct sfu_err err = SFU_ERR_INIT;
        int r;

        if (strcmp(domain, "none") == 0) {
                log_debug("discovery: off (domain = none); asking the manufacturer only");
                return -ENOENT;
        }
        if (strcmp(domain, "auto") == 0) {
                struct sfu_discovery_paths paths;
                discovery_paths(&paths);
                r = sfu_discovery_domain(&paths, &found, &source, &err);
                if (r < 0) {
                        log_info("discovery: no DHCP domain known%s%s; skipping the local server",
                                 err.message[0] ? ": " : "", err.message);
                        return -ENOENT;
                }
                domain = found;
        }
        log_info("discovery: domain \"%s\" from %s", domain, source);
        r = sfu_url_expand_template(job->config->local_url, domain, job->config->manufacturer, job->config->model, ret,
                                    &err);
        if (r < 0) {
                log_warning("discovery: local server skipped: %s", err.message);
                return -ENOENT;
        }
        return 0;
}

/* Tries one URL; on success c holds an evaluated candidate. */
/* The manifest at url verified: keep it and its validators for the next
 * conditional GET.  A forged answer that copied the real ETag never gets
 * here, so a later 304 cannot bring it back. */
static void store_cache(struct sfu_job *job, const char *url, const struct sfu_candidate *c) {
        struct sfu_state *s = job->state;
        struct sfu_err err = SFU_ERR_INIT;
        char path[4096];

        if (cache_path(job, path, sizeof(path)) < 0 || sfu_file_write_atomic(path, c->bytes, c->len, 0600, &err) < 0) {
                log_warning("cannot cache the manifest: %s", err.message[0] ? err.message : "path too long");
                return;
        }
        snprintf(s->manifest_url, sizeof(s->manifest_url), "%s", url);
        snprintf(s->manifest_etag, sizeof(s->manifest_etag), "%s", c->etag);
        snprintf(s->manifest_last_modified, sizeof(s->manifest_last_modified), "%s", c->last_modified);
}

static int try_source(struct sfu_job *job, const struct sfu_keyring *ring, const char *url, enum sfu_source source,
                      bool allow_downgrade, struct sfu_candidate *c, struct sfu_err *err) {
        int r;

        sfu_candidate_clear(c);
        c->source = source;
        r = fetch_manifest(job, url, source == SFU_SOURCE_MANUFACTURER, source != SFU_SOURCE_LOCAL, c, err);
        if (r < 0)
                return r;
        r = sfu_verify_candidate(job, ring, allow_downgrade, c, err);
        if (r < 0) {
                sfu_err_prefix(err, "manifest from %s", url);
                return r;
        }
        if (c->cacheable)
                store_cache(job, url, c);
        return 0;
}

/* doc/manifest.md, "Where devices find it": the local cache first, the manufacturer when
 * the local server is absent, unreachable, 404, invalid, or offers
 * nothing newer. */
int sfu_source_find(struct sfu_job *job, const struct sfu_keyring *ring, const struct sfu_job_request *req,
                    bool skip_local, struct sfu_candidate *c, struct sfu_err *err) {
        _cleanup_free_ char *local = NULL, *manufacturer = NULL;
        struct sfu_err local_err = SFU_ERR_INIT;
        bool local_up_to_date = false;
        int r;

        if (req->has_fd) {
                r = read_manifest_fd(job, req->fd, "the manifest passed", c, err);
                if (r >= 0)
                        r = sfu_verify_candidate(job, ring, req->allow_downgrade, c, err);
                if (r < 0)
                        sfu_err_prefix(err, "manifest passed by the caller");
                return r;
        }
        if (req->source) {
                c->source = SFU_SOURCE_OPERATOR;
                if (sfu_url_scheme_allowed(req->source))
                        r = fetch_manifest(job, req->source, false, true, c, err);
                else if (req->source[0] == '/')
                        r = read_manifest_file(job, req->source, c, err);
                else
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "\"%s\" is neither an http(s) URL nor an absolute file path", req->source);
                if (r < 0)
                        return r;
                c->source = SFU_SOURCE_OPERATOR;
                r = sfu_verify_candidate(job, ring, req->allow_downgrade, c, err);
                if (r < 0)
                        sfu_err_prefix(err, "manifest from %s", req->source);
                return r;
        }

        if (!skip_local && local_url(job, &local) >= 0) {
                const struct sfu_state_hold *hold;
                r = try_source(job, ring, local, SFU_SOURCE_LOCAL, req->allow_downgrade, c, &local_err);
                hold = r >= 0 ? sfu_policy_offer_held(job->state, c->sha256, sfu_clock_wallclock()) : NULL;
                if (hold) {
                        char until[32];
                        log_notice("local server %s offers %s, held back until %s after %u failed staging(s); "
                                   "asking the manufacturer",
                                   local, c->manifest->version_text, sfu_time_format_rfc3339(hold->until, until),
                                   hold->failures);
                } else if (r >= 0 && c->verdict == SFU_POLICY_INSTALL) {
                        log_info("local server %s offers %s", local, c->manifest->version_text);
                        return 0;
                } else if (r >= 0) {
                        local_up_to_date = true;
                        log_info("local server offers nothing newer; asking the manufacturer");
                } else
                        log_info("local server: %s; asking the manufacturer", local_err.message);
        }
        r = sfu_url_expand_template(job->config->manufacturer_url, NULL, job->config->manufacturer, job->config->model,
                                    &manufacturer, err);
        if (r < 0)
                return r;
        r = try_source(job, ring, manufacturer, SFU_SOURCE_MANUFACTURER, req->allow_downgrade, c, err);
        if (r < 0 && local_up_to_date && err->code == SFU_ERR_NETWORK) {
                log_warning("%s; the local server's manifest says up to date", err->message);
                sfu_err_clear(err);
                return try_source(job, ring, local, SFU_SOURCE_LOCAL, req->allow_downgrade, c, err);
        }
        return r;
}

