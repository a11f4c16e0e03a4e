/* SPDX-License-Identifier: MIT */
/* One job, start to end, on the calling thread: find the manifest (local
 * cache first, then the manufacturer), verify it, decide, and — when the
 * job may — stream every image into its inactive slot while hashing it,
 * sync, compare, and only then hand the bootloader a trial boot. */
#include <ctype.h>
#include <dirent.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <time.h>

#include "core/hex.h"
#include "core/json.h"
#include "core/jws.h"
#include "core/manifest.h"
#include "core/policy.h"
#include "core/timeutil.h"
#include "core/url.h"
#include "daemon/log.h"
#include "daemon/manager-internal.h"
#include "io/discovery.h"
#include "io/fault.h"
#include "io/fetch.h"
#include "io/fileio.h"
#include "io/hashpipe.h"
#include "io/slot.h"

#define MANIFEST_CACHE_FILE "manifest-cache.jws"
#define ROTATED_KEYS_DIR "keys"
#define REVOKED_FILE "revoked-kids"
#define REVOKED_MAX (64u * 1024u)
#define FETCH_ATTEMPTS 5
#define RETRY_AFTER_MAX_SEC 300         /* longer: give up this cycle, the next poll retries */
#define BACKOFF_BASE_MS 500
#define RESUME_CHECKPOINT (64u * 1024u * 1024u)

struct candidate {
        char *jws;
        size_t jws_len;
        char url[4096];                 /* base of relative locations; "" for a file */
        enum sfu_source source;
        struct sfu_manifest *manifest;
        enum sfu_policy_verdict verdict;
        char sha256[65];                /* of the JWS bytes: names the manifest in resume data */
        bool not_modified;
};

static void candidate_clear(struct candidate *c) {
        free(c->jws);
        sfu_manifest_free(c->manifest);
        memset(c, 0, sizeof(*c));
}

static bool cancelled(struct sfu_manager *m) {
        return atomic_load(&m->cancel) == MANAGER_CANCEL_REQUESTED;
}

/* The point of no return: false if a cancel came first. */
static bool begin_commit(struct sfu_manager *m) {
        int expected = MANAGER_CANCEL_RUNNING;
        return atomic_compare_exchange_strong(&m->cancel, &expected, MANAGER_CANCEL_COMMITTING);
}

/* Sleeps up to usec, in slices, returning early (-ECANCELED) on cancel. */
static int sleep_cancellable(struct sfu_manager *m, uint64_t usec) {
        while (usec > 0) {
                uint64_t slice = usec > 100000 ? 100000 : usec;
                struct timespec ts = { 0, (long) slice * 1000 };
                if (cancelled(m))
                        return -ECANCELED;
                nanosleep(&ts, NULL);
                usec -= slice;
        }
        return cancelled(m) ? -ECANCELED : 0;
}

static uint64_t backoff_usec(unsigned attempt) {
        uint64_t base = (uint64_t) BACKOFF_BASE_MS * 1000u << (attempt < 6 ? attempt : 6);
        return base + (uint64_t) random() % (base / 2 + 1); /* jitter */
}

/* A transport failure that another try may heal.  A scheme refused by the
 * http/https rule (a redirect to file:// or ftp://) or a redirect loop is
 * a refusal, not bad luck: the next poll may try again, this cycle ends. */
static bool transient(const struct sfu_err *e) {
        return e->code == SFU_ERR_NETWORK && e->errnum != EPROTONOSUPPORT && e->errnum != ELOOP &&
               e->errnum != EKEYREJECTED;
}

static void fetch_opts(struct sfu_manager *m, struct sfu_fetch_opts *opts) {
        *opts = (struct sfu_fetch_opts) { .config = m->config, .cancel = &m->cancel };
}

/* ---------------------------------------------------------------- trust store */

static bool kid_revoked(const char *revoked, const char *kid) {
        size_t n = strlen(kid);
        for (const char *p = revoked; p && *p;) {
                const char *eol = strchrnul(p, '\n');
                if ((size_t) (eol - p) == n && strncmp(p, kid, n) == 0)
                        return true;
                p = *eol ? eol + 1 : eol;
        }
        return false;
}

static int load_trust(struct sfu_manager *m, struct sfu_keyring **ret, struct sfu_err *err) {
        _cleanup_keyring_ struct sfu_keyring *ring = NULL;
        _cleanup_free_ char *revoked = NULL;
        char path[4096];
        struct stat st;
        size_t len;
        int r;

        r = sfu_keyring_new(&ring);
        if (r < 0)
                return r;
        r = sfu_keyring_load_dir(ring, m->config->keys, err);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "%s/%s", m->config->state_dir, ROTATED_KEYS_DIR);
        if (stat(path, &st) == 0) {
                r = sfu_keyring_load_dir(ring, path, err);
                if (r < 0)
                        return r;
        }
        snprintf(path, sizeof(path), "%s/%s", m->config->state_dir, REVOKED_FILE);
        r = sfu_file_read(path, REVOKED_MAX, SFU_READ_NOFOLLOW, &revoked, &len, err);
        if (r < 0 && r != -ENOENT)
                return r;
        if (revoked) {
                size_t kept = 0;
                for (size_t i = 0; i < ring->n_keys; i++) {
                        if (kid_revoked(revoked, ring->keys[i]->kid))
                                sfu_key_free(ring->keys[i]);
                        else
                                ring->keys[kept++] = ring->keys[i];
                }
                ring->n_keys = kept;
        }
        if (ring->n_keys == 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, ENOKEY, "no trusted keys in %s", m->config->keys);
        *ret = TAKE_PTR(ring);
        return 0;
}

/* keyInfo of a manifest that the current trust store verified: new keys
 * are added, revoked key ids removed, for every later manifest. */
static int apply_key_info(struct sfu_manager *m, const struct sfu_manifest *man, struct sfu_err *err) {
        char dir[4096], path[4200];
        int r;

        if (!man->new_keys && man->n_revoked_kids == 0)
                return 0;
        snprintf(dir, sizeof(dir), "%s/%s", m->config->state_dir, ROTATED_KEYS_DIR);
        r = sfu_mkdir_p(dir, 0700);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot create %s", dir);
        for (size_t i = 0; man->new_keys && i < json_array_size(man->new_keys); i++) {
                _cleanup_key_ struct sfu_key *key = NULL;
                _cleanup_json_ json_t *jwk = NULL;
                _cleanup_free_ char *text = NULL;
                r = sfu_key_from_jwk(json_array_get(man->new_keys, i), "keyInfo", false, &key, err);
                if (r < 0)
                        return r;
                r = sfu_key_to_jwk(key, &jwk);
                if (r < 0)
                        return r;
                text = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS);
                if (!text)
                        return -ENOMEM;
                /* kid is a thumbprint or the JWK's own kid: keep only safe characters in the file name. */
                char name[128];
                size_t n = 0;
                for (const char *p = key->kid; *p && n < sizeof(name) - 1; p++)
                        name[n++] = (isalnum((unsigned char) *p) || *p == '-' || *p == '_') ? *p : '_';
                name[n] = 0;
                snprintf(path, sizeof(path), "%s/%s.jwk", dir, name);
                r = sfu_file_write_atomic(path, text, strlen(text), 0644, err);
                if (r < 0)
                        return r;
                log_notice("key rotation: trusting new key %s", key->kid);
        }
        if (man->n_revoked_kids > 0) {
                _cleanup_free_ char *old = NULL, *joined = NULL;
                size_t len = 0;
                snprintf(path, sizeof(path), "%s/%s", m->config->state_dir, REVOKED_FILE);
                r = sfu_file_read(path, REVOKED_MAX, SFU_READ_NOFOLLOW, &old, &len, err);
                if (r < 0 && r != -ENOENT)
                        return r;
                size_t cap = len + 1;
                for (size_t i = 0; i < man->n_revoked_kids; i++)
                        cap += strlen(man->revoked_kids[i]) + 1;
                joined = calloc(1, cap);
                if (!joined)
                        return -ENOMEM;
                if (old)
                        strcpy(joined, old);
                for (size_t i = 0; i < man->n_revoked_kids; i++)
                        if (!old || !kid_revoked(old, man->revoked_kids[i])) {
                                strcat(joined, man->revoked_kids[i]);
                                strcat(joined, "\n");
                                log_notice("key rotation: key %s revoked", man->revoked_kids[i]);
                        }
                r = sfu_file_write_atomic(path, joined, strlen(joined), 0644, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---------------------------------------------------------------- the manifest */

static int policy_device(struct sfu_manager *m, bool allow_downgrade, const char **classes,
                         struct sfu_policy_device *dev, struct sfu_err *err) {
        size_t n = 0;

        if (!m->has_running)
                return sfu_err_set(err, SFU_ERR_STATE, ENOENT,
                                   "running firmware version unknown: %s is missing or not \"major.minor.revision\"",
                                   m->config->version_file);
        for (size_t i = 0; i < m->config->n_slots; i++) {
                bool seen = false;
                for (size_t j = 0; j < n; j++)
                        if (strcmp(classes[j], m->config->slots[i].class_name) == 0)
                                seen = true;
                if (!seen)
                        classes[n++] = m->config->slots[i].class_name;
        }
        classes[n] = NULL;
        pthread_mutex_lock(&m->lock);
        *dev = (struct sfu_policy_device) {
                .manufacturer = m->config->manufacturer,
                .model = m->config->model,
                .running = m->running,
                .has_highest = m->state.has_highest,
                .highest = m->state.highest,
                .has_newest_timestamp = m->state.has_newest_timestamp,
                .newest_timestamp = m->state.newest_timestamp,
                .allow_downgrade = allow_downgrade || m->config->allow_downgrade,
                .max_image_size = m->config->max_image_size,
                .now = manager_wallclock(),
                .slot_classes = classes,
        };
        pthread_mutex_unlock(&m->lock);
        return 0;
}

/* JWS rules, manifest syntax, then the device's rules: all before any
 * image byte is requested. */
static int evaluate(struct sfu_manager *m, const struct sfu_keyring *ring, bool allow_downgrade,
                    struct candidate *c, struct sfu_err *err) {
        _cleanup_jws_ struct sfu_jws *jws = NULL;
        const char *classes[SFU_CONFIG_MAX_SLOTS + 1];
        struct sfu_policy_device dev;
        struct sfu_jws_verify_opts opts = {
                .alg_allow = m->config->algorithms,
                .min_signatures = m->config->min_signatures,
                .required_typ = SFU_JWS_TYP_MANIFEST,
        };
        int r;

        r = sfu_jws_parse(c->jws, c->jws_len, &jws, err);
        if (r < 0)
                return r;
        r = sfu_jws_verify(jws, ring, &opts, NULL, err);
        if (r < 0)
                return r;
        r = sfu_manifest_parse_json((const char *) jws->payload, jws->payload_len, m->config->max_manifest_size,
                                    &c->manifest, err);
        if (r < 0)
                return r;
        r = policy_device(m, allow_downgrade, classes, &dev, err);
        if (r < 0)
                return r;
        r = sfu_policy_check(c->manifest, &dev, &c->verdict, err);
        if (r < 0)
                return r;
        {
                uint8_t digest[SFU_DIGEST_MAX_SIZE];
                _cleanup_digest_set_ struct sfu_digest_set *set = NULL;
                r = sfu_digest_set_new(SFU_DIGEST_MASK(SFU_DIGEST_SHA256), &set);
                if (r >= 0)
                        r = sfu_digest_set_update(set, c->jws, c->jws_len);
                if (r >= 0)
                        r = sfu_digest_set_final(set);
                if (r >= 0)
                        r = sfu_digest_set_get(set, SFU_DIGEST_SHA256, digest);
                if (r < 0)
                        return r;
                sfu_hex_encode(digest, 32, c->sha256);
        }
        return 0;
}

static int cache_path(struct sfu_manager *m, char *buf, size_t size) {
        return snprintf(buf, size, "%s/%s", m->config->state_dir, MANIFEST_CACHE_FILE) >= (int) size ? -ENAMETOOLONG
                                                                                                      : 0;
}

/* GET a manifest, with retries for 429/5xx and transport errors when
 * `persistent` (the manufacturer); the local cache gets one try. -ENOENT:
 * 404 / 410. */
static int fetch_manifest(struct sfu_manager *m, const char *url, bool conditional, bool persistent,
                          struct candidate *c, struct sfu_err *err) {
        struct sfu_fetch_opts opts;
        unsigned attempts = persistent ? FETCH_ATTEMPTS : 1;
        char etag[SFU_STATE_MAX_TEXT] = "", last_modified[64] = "";
        int r = 0;

        fetch_opts(m, &opts);
        pthread_mutex_lock(&m->lock);
        if (conditional && strcmp(m->state.manifest_url, url) == 0) {
                snprintf(etag, sizeof(etag), "%s", m->state.manifest_etag);
                snprintf(last_modified, sizeof(last_modified), "%s", m->state.manifest_last_modified);
        }
        pthread_mutex_unlock(&m->lock);

        for (unsigned attempt = 0; attempt < attempts; attempt++) {
                struct sfu_fetch_result res;
                struct sfu_err fetch_err = SFU_ERR_INIT;
                char *body = NULL;
                size_t len = 0;

                r = sfu_fetch_buffer(&opts, url, etag, last_modified, m->config->max_manifest_size, &body, &len, &res,
                                     &fetch_err);
                if (r >= 0 && res.status == 200) {
                        c->jws = body;
                        c->jws_len = len;
                        snprintf(c->url, sizeof(c->url), "%s", res.effective_url[0] ? res.effective_url : url);
                        if (conditional) {
                                char path[4096];
                                struct sfu_err cache_err = SFU_ERR_INIT;
                                pthread_mutex_lock(&m->lock);
                                snprintf(m->state.manifest_url, sizeof(m->state.manifest_url), "%s", url);
                                snprintf(m->state.manifest_etag, sizeof(m->state.manifest_etag), "%s", res.etag);
                                snprintf(m->state.manifest_last_modified, sizeof(m->state.manifest_last_modified),
                                         "%s", res.last_modified);
                                pthread_mutex_unlock(&m->lock);
                                if (cache_path(m, path, sizeof(path)) == 0 &&
                                    sfu_file_write_atomic(path, body, len, 0600, &cache_err) < 0)
                                        log_warning("cannot cache the manifest: %s", cache_err.message);
                        }
                        return 0;
                }
                free(body);
                if (r >= 0 && res.status == 304) {
                        char path[4096];
                        r = cache_path(m, path, sizeof(path));
                        if (r >= 0)
                                r = sfu_file_read(path, m->config->max_manifest_size, SFU_READ_NOFOLLOW, &c->jws,
                                                  &c->jws_len, &fetch_err);
                        if (r >= 0) {
                                c->not_modified = true;
                                snprintf(c->url, sizeof(c->url), "%s", url);
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
                        if (res.retry_after > RETRY_AFTER_MAX_SEC) {
                                return sfu_err_set(err, SFU_ERR_NETWORK, EAGAIN,
                                                   "%s: HTTP %ld, server asks to retry after %" PRIu64
                                                   " s; trying again at the next poll",
                                                   url, res.status, res.retry_after);
                        }
                        if (attempt + 1 < attempts) {
                                uint64_t wait = res.retry_after ? res.retry_after * 1000000u : backoff_usec(attempt);
                                log_info("%s: HTTP %ld, retrying in %.1f s", url, res.status, (double) wait / 1e6);
                                if (sleep_cancellable(m, wait) < 0)
                                        return sfu_err_set(err, SFU_ERR_NETWORK, ECANCELED, "cancelled");
                        }
                } else {
                        if (cancelled(m) || fetch_err.errnum == ECANCELED) {
                                *err = fetch_err;
                                return r;
                        }
                        if (!transient(&fetch_err) || attempt + 1 >= attempts) {
                                *err = fetch_err;
                                return r;
                        }
                        log_info("%s, retrying", fetch_err.message);
                        if (sleep_cancellable(m, backoff_usec(attempt)) < 0)
                                return sfu_err_set(err, SFU_ERR_NETWORK, ECANCELED, "cancelled");
                }
                if (attempt + 1 >= attempts) {
                        *err = fetch_err;
                        return r < 0 ? r : -EIO;
                }
        }
        return r < 0 ? r : -EIO;
}

static int read_manifest_file(const char *path, struct candidate *c, size_t max, struct sfu_err *err) {
        int r = sfu_file_read(path, max, 0, &c->jws, &c->jws_len, err);
        if (r == -ENOENT)
                return sfu_err_set(err, SFU_ERR_PARSE, ENOENT, "%s: no such file", path);
        c->url[0] = 0;
        c->source = SFU_SOURCE_OPERATOR;
        return r;
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

static int local_url(struct sfu_manager *m, char **ret) {
        _cleanup_free_ char *found = NULL;
        const char *domain = m->config->domain, *source = "configuration";
        struct sfu_err err = SFU_ERR_INIT;
        int r;

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
        r = sfu_url_expand_template(m->config->local_url, domain, m->config->manufacturer, m->config->model, ret,
                                    &err);
        if (r < 0) {
                log_warning("discovery: local server skipped: %s", err.message);
                return -ENOENT;
        }
        return 0;
}

/* Tries one URL; on success c holds an evaluated candidate. */
static int try_source(struct sfu_manager *m, const struct sfu_keyring *ring, const char *url, enum sfu_source source,
                      bool allow_downgrade, struct candidate *c, struct sfu_err *err) {
        int r;

        candidate_clear(c);
        c->source = source;
        r = fetch_manifest(m, url, source == SFU_SOURCE_MANUFACTURER, source != SFU_SOURCE_LOCAL, c, err);
        if (r < 0)
                return r;
        r = evaluate(m, ring, allow_downgrade, c, err);
        if (r < 0)
                sfu_err_prefix(err, "manifest from %s", url);
        return r;
}

/* DESIGN section 4 step 2: the local cache first, the manufacturer when
 * the local server is absent, unreachable, 404, invalid, or offers
 * nothing newer. */
static int find_manifest(struct sfu_manager *m, const struct sfu_keyring *ring, const struct sfu_job_request *req,
                         struct candidate *c, struct sfu_err *err) {
        _cleanup_free_ char *local = NULL, *manufacturer = NULL;
        struct sfu_err local_err = SFU_ERR_INIT;
        bool local_up_to_date = false;
        int r;

        if (req->source) {
                c->source = SFU_SOURCE_OPERATOR;
                if (sfu_url_scheme_allowed(req->source))
                        r = fetch_manifest(m, req->source, false, true, c, err);
                else if (req->source[0] == '/')
                        r = read_manifest_file(req->source, c, m->config->max_manifest_size, err);
                else
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "\"%s\" is neither an http(s) URL nor an absolute file path", req->source);
                if (r < 0)
                        return r;
                c->source = SFU_SOURCE_OPERATOR;
                r = evaluate(m, ring, req->allow_downgrade, c, err);
                if (r < 0)
                        sfu_err_prefix(err, "manifest from %s", req->source);
                return r;
        }

        if (local_url(m, &local) >= 0) {
                r = try_source(m, ring, local, SFU_SOURCE_LOCAL, req->allow_downgrade, c, &local_err);
                if (r >= 0 && c->verdict == SFU_POLICY_INSTALL) {
                        log_info("local server %s offers %s", local, c->manifest->version_text);
                        return 0;
                }
                if (r >= 0) {
                        local_up_to_date = true;
                        log_info("local server offers nothing newer; asking the manufacturer");
                } else
                        log_info("local server: %s; asking the manufacturer", local_err.message);
        }
        r = sfu_url_expand_template(m->config->manufacturer_url, NULL, m->config->manufacturer, m->config->model,
                                    &manufacturer, err);
        if (r < 0)
                return r;
        r = try_source(m, ring, manufacturer, SFU_SOURCE_MANUFACTURER, req->allow_downgrade, c, err);
        if (r < 0 && local_up_to_date && err->code == SFU_ERR_NETWORK) {
                log_warning("%s; the local server's manifest says up to date", err->message);
                sfu_err_clear(err);
                return try_source(m, ring, local, SFU_SOURCE_LOCAL, req->allow_downgrade, c, err);
        }
        return r;
}

/* A manifest passed every rule: remember it (freshness floor, newest seen). */
static void accept_manifest(struct sfu_manager *m, const struct candidate *c) {
        const struct sfu_manifest *man = c->manifest;
        struct sfu_err err = SFU_ERR_INIT;

        pthread_mutex_lock(&m->lock);
        if (!m->state.has_newest_timestamp || man->timestamp > m->state.newest_timestamp) {
                m->state.has_newest_timestamp = true;
                m->state.newest_timestamp = man->timestamp;
        }
        if (!m->state.has_newest_seen || sfu_version_compare(&man->version, &m->state.newest_seen) >= 0) {
                m->state.has_newest_seen = true;
                m->state.newest_seen = man->version;
                m->state.newest_seen_timestamp = man->timestamp;
                m->state.newest_seen_source = c->source;
        }
        m->state.has_last_check = true;
        m->state.last_check = manager_wallclock();
        pthread_mutex_unlock(&m->lock);
        if (apply_key_info(m, man, &err) < 0)
                log_warning("key rotation failed: %s", err.message);
}

/* ---------------------------------------------------------------- staging */

struct target {
        const struct sfu_manifest_image *image;
        const struct sfu_config_slot *slot;
        bool single_copy;
        char *url;                      /* owned; heap, so that the array stays small on the stack */
        struct sfu_slot_writer *writer;
        uint64_t length;                /* bytes written and verified */
};

/* Picks the slot each image goes to: in an A/B class the one whose index
 * differs from the booted slot's; a single-copy class's only slot, which
 * must not be the running system. */
static int plan_targets(struct sfu_manager *m, const struct candidate *c, struct target *targets,
                        struct sfu_err *err) {
        const struct sfu_config *cfg = m->config;
        const struct sfu_config_slot *booted = sfu_config_boot_slot(cfg, m->booted);
        int r;

        if (!booted)
                return sfu_err_set(err, SFU_ERR_STATE, ENOENT, "the booted slot is unknown (booted-slot = %s)",
                                   cfg->booted_slot);
        for (size_t i = 0; i < c->manifest->n_images; i++) {
                const struct sfu_manifest_image *img = &c->manifest->images[i];
                const char *class_name = img->slot_class ? img->slot_class : booted->class_name;
                size_t n = sfu_config_class_size(cfg, class_name);
                struct target *t = &targets[i];

                t->image = img;
                t->slot = NULL;
                t->single_copy = n == 1;
                for (size_t s = 0; s < cfg->n_slots; s++) {
                        const struct sfu_config_slot *cs = &cfg->slots[s];
                        if (strcmp(cs->class_name, class_name) != 0)
                                continue;
                        if (n == 1 || cs->index != booted->index)
                                t->slot = cs;
                }
                if (!t->slot)
                        return sfu_err_set(err, SFU_ERR_POLICY, ENOENT, "no inactive slot for image \"%s\" (class %s)",
                                           img->name, class_name);
                /* A bootname names one side of every class: a slot that
                 * shares the booted bootname is on the running side,
                 * whichever class a first-match lookup happened to find. */
                if (t->slot == booted || sfu_streq(t->slot->bootname, m->booted) ||
                    sfu_slot_same_device(t->slot->device, booted->device))
                        return sfu_err_set(err, SFU_ERR_STORAGE, EPERM,
                                           "slot %s of class %s is the running system; it can only be updated from another system",
                                           t->slot->bootname, class_name);
                if (c->url[0]) {
                        _cleanup_free_ char *url = NULL;
                        r = sfu_url_resolve(c->url, img->location, &url, err);
                        if (r < 0)
                                return r;
                        t->url = TAKE_PTR(url);
                } else if (sfu_url_scheme_allowed(img->location)) {
                        t->url = strdup(img->location);
                        if (!t->url)
                                return -ENOMEM;
                } else
                        return sfu_err_set(err, SFU_ERR_POLICY, EINVAL,
                                           "image \"%s\" has the relative location \"%s\", but the manifest came from a file",
                                           img->name, img->location);
        }
        return 0;
}

struct download {
        struct sfu_manager *m;
        struct target *target;
        struct sfu_hashpipe *pipe;      /* bytes -> slot, then every digest on its own thread */
        uint64_t requested_offset;
        uint64_t checkpoint;
        const char *resume_etag;
        const char *manifest_sha256;
};

static uint64_t written(const struct download *d) {
        return sfu_hashpipe_offset(d->pipe);
}

static int sink_start(void *userdata, const struct sfu_fetch_result *res, struct sfu_err *err) {
        struct download *d = userdata;
        int r;

        if (d->requested_offset == 0)
                return 0;
        if (res->status == 206 && res->range_start == d->requested_offset &&
            (!d->resume_etag || !d->resume_etag[0] || !res->etag[0] || strcmp(d->resume_etag, res->etag) == 0))
                return 0;
        if (res->status == 200) {
                /* Range ignored or If-Range said the file changed: start over. */
                log_info("server sent the whole image instead of a range; starting over");
                r = sfu_hashpipe_reset(d->pipe);
                if (r < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot restart the digests");
                d->checkpoint = 0;
                return 0;
        }
        return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO,
                           "server answered a range starting at %" PRIu64 " (ETag %s) for a resume at %" PRIu64,
                           res->range_start, res->etag[0] ? res->etag : "none", d->requested_offset);
}

static void save_resume(struct download *d, const char *etag, uint64_t offset) {
        struct sfu_manager *m = d->m;
        struct sfu_err err = SFU_ERR_INIT;

        pthread_mutex_lock(&m->lock);
        m->state.has_resume = true;
        snprintf(m->state.resume_manifest_sha256, sizeof(m->state.resume_manifest_sha256), "%s", d->manifest_sha256);
        snprintf(m->state.resume_image, sizeof(m->state.resume_image), "%s", d->target->image->name);
        snprintf(m->state.resume_bootname, sizeof(m->state.resume_bootname), "%s", d->target->slot->bootname);
        snprintf(m->state.resume_etag, sizeof(m->state.resume_etag), "%s", etag ? etag : "");
        m->state.resume_offset = offset;
        if (manager_save_state_locked(m, &err) < 0)
                log_warning("cannot record resume data: %s", err.message);
        pthread_mutex_unlock(&m->lock);
}

/* The pipeline's sink: blocks go into the slot before they are hashed. */
static int slot_sink(void *userdata, uint64_t offset, const void *buf, size_t len, struct sfu_err *err) {
        struct download *d = userdata;
        return sfu_slot_writer_write(d->target->writer, offset, buf, len, err);
}

static int sink_write(void *userdata, uint64_t offset, const void *buf, size_t len, struct sfu_err *err) {
        struct download *d = userdata;
        int r;

        if (offset != written(d))
                return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO, "non-contiguous data at %" PRIu64, offset);
        r = sfu_hashpipe_feed(d->pipe, buf, len, err);
        if (r < 0)
                return r;
        manager_progress_update(d->m, written(d));
        if (written(d) - d->checkpoint >= RESUME_CHECKPOINT) {
                /* Durable progress: what the resume data claims is on disk
                 * (whole blocks only; the partial one is not yet written). */
                uint64_t durable = sfu_hashpipe_sunk(d->pipe);
                r = sfu_slot_writer_sync(d->target->writer, err);
                if (r < 0)
                        return r;
                d->checkpoint = written(d);
                save_resume(d, d->resume_etag, durable);
        }
        return 0;
}

static int resume_point(struct sfu_manager *m, const struct candidate *c, const struct target *t, uint64_t max,
                        uint64_t *ret_offset, char *etag, size_t etag_size) {
        bool match;
        pthread_mutex_lock(&m->lock);
        match = m->state.has_resume && strcmp(m->state.resume_manifest_sha256, c->sha256) == 0 &&
                strcmp(m->state.resume_image, t->image->name) == 0 &&
                strcmp(m->state.resume_bootname, t->slot->bootname) == 0 && m->state.resume_offset <= max;
        *ret_offset = match ? m->state.resume_offset : 0;
        snprintf(etag, etag_size, "%s", match ? m->state.resume_etag : "");
        pthread_mutex_unlock(&m->lock);
        return match ? 0 : -ENOENT;
}

static int compare_digests(const struct target *t, struct sfu_hashpipe *pipe, struct sfu_err *err) {
        for (size_t i = 0; i < t->image->n_digests; i++) {
                const struct sfu_manifest_digest *want = &t->image->digests[i];
                uint8_t got[SFU_DIGEST_MAX_SIZE];
                int r = sfu_hashpipe_get(pipe, want->alg, got);
                if (r < 0)
                        return sfu_err_set(err, SFU_ERR_DIGEST, r, "digest %s not computed", sfu_digest_name(want->alg));
                if (memcmp(got, want->value, sfu_digest_size(want->alg)) != 0) {
                        char hex[2 * SFU_DIGEST_MAX_SIZE + 1];
                        sfu_hex_encode(got, sfu_digest_size(want->alg), hex);
                        return sfu_err_set(err, SFU_ERR_DIGEST, EBADMSG,
                                           "image \"%s\": %s mismatch (got %.16s…, manifest says another value)",
                                           t->image->name, sfu_digest_name(want->alg), hex);
                }
        }
        return 0;
}

static int feed_pipe(void *userdata, const void *buf, size_t len, struct sfu_err *err) {
        return sfu_hashpipe_feed(userdata, buf, len, err);
}

/* Restarts the image from byte 0. */
static int start_over(struct download *d) {
        d->checkpoint = 0;
        return sfu_hashpipe_reset(d->pipe);
}

static int download_image(struct sfu_manager *m, const struct candidate *c, struct target *t, struct sfu_err *err) {
        _cleanup_hashpipe_ struct sfu_hashpipe *pipe = NULL;
        const struct sfu_manifest_image *img = t->image;
        uint64_t max = img->has_size ? img->size : m->config->max_image_size;
        char resume_etag[SFU_STATE_MAX_TEXT] = "", etag_seen[SFU_FETCH_MAX_HEADER_VALUE] = "";
        struct download d = { .m = m, .target = t, .manifest_sha256 = c->sha256 };
        struct sfu_fetch_opts opts;
        uint64_t offset = 0;
        int r;

        r = sfu_hashpipe_new(img->digest_mask, &pipe);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot start the digest threads");
        d.pipe = pipe;
        if (resume_point(m, c, t, max, &offset, resume_etag, sizeof(resume_etag)) >= 0 && offset > 0) {
                /* Never trust memory or the record: hash what the slot holds. */
                manager_progress_begin(m, "resuming", img->name, 0, offset);
                r = sfu_slot_writer_read_back(t->writer, offset, feed_pipe, pipe, err);
                if (r < 0)
                        return r;
                log_info("resuming %s at byte %" PRIu64, img->name, offset);
        }
        r = sfu_hashpipe_set_sink(pipe, slot_sink, &d, err);
        if (r < 0)
                return r;
        d.checkpoint = offset;
        d.resume_etag = resume_etag;
        fetch_opts(m, &opts);
        manager_progress_begin(m, "downloading", img->name, offset, img->has_size ? img->size : 0);

        for (unsigned attempt = 0;; attempt++) {
                struct sfu_fetch_sink sink = { sink_start, sink_write, &d };
                struct sfu_fetch_result res;
                struct sfu_err fetch_err = SFU_ERR_INIT;

                d.requested_offset = written(&d);
                r = sfu_fetch_stream(&opts, t->url, written(&d), resume_etag, max, &sink, &res, &fetch_err);
                if (res.etag[0])
                        snprintf(etag_seen, sizeof(etag_seen), "%s", res.etag);
                if (r >= 0 && (res.status == 200 || res.status == 206)) {
                        if (!img->has_size || written(&d) == img->size)
                                break;
                        r = sfu_err_set(&fetch_err, SFU_ERR_NETWORK, EPIPE,
                                        "%s: transfer ended at byte %" PRIu64 " of %" PRIu64, t->url, written(&d),
                                        img->size);
                } else if (r >= 0) {
                        bool retryable = res.status == 408 || res.status == 429 || res.status >= 500;
                        r = sfu_err_set(&fetch_err, SFU_ERR_NETWORK, EIO, "%s: HTTP %ld", t->url, res.status);
                        if (res.status == 416 && written(&d) > 0) {
                                /* Our range makes no sense to the server: start over. */
                                r = start_over(&d);
                                if (r < 0)
                                        return r;
                                retryable = true;
                        }
                        if (!retryable) {
                                *err = fetch_err;
                                return -EIO;
                        }
                        if (res.retry_after > RETRY_AFTER_MAX_SEC)
                                return sfu_err_set(err, SFU_ERR_NETWORK, EAGAIN,
                                                   "%s: HTTP %ld, server asks to retry after %" PRIu64 " s", t->url,
                                                   res.status, res.retry_after);
                }
                if (cancelled(m))
                        return sfu_err_set(err, SFU_ERR_NETWORK, ECANCELED, "cancelled");
                if (!transient(&fetch_err) || attempt + 1 >= FETCH_ATTEMPTS) {
                        *err = fetch_err;
                        if (fetch_err.code == SFU_ERR_NETWORK) {
                                /* Keep what is durably in the slot for the next cycle. */
                                struct sfu_err sync_err = SFU_ERR_INIT;
                                uint64_t durable = sfu_hashpipe_sunk(pipe);
                                if (sfu_slot_writer_sync(t->writer, &sync_err) >= 0)
                                        save_resume(&d, etag_seen, durable);
                        }
                        return r < 0 ? r : -EIO;
                }
                if (fetch_err.errnum == EPROTO) {
                        /* A wrong range or a changed file: never splice. */
                        r = start_over(&d);
                        if (r < 0)
                                return r;
                }
                if (written(&d) > 0 && etag_seen[0])
                        snprintf(resume_etag, sizeof(resume_etag), "%s", etag_seen);
                uint64_t wait = res.retry_after ? res.retry_after * 1000000u : backoff_usec(attempt);
                log_info("%s; retrying from byte %" PRIu64 " in %.1f s", fetch_err.message, written(&d),
                         (double) wait / 1e6);
                if (sleep_cancellable(m, wait) < 0)
                        return sfu_err_set(err, SFU_ERR_NETWORK, ECANCELED, "cancelled");
        }

        manager_progress_begin(m, "syncing", img->name, written(&d), written(&d));
        r = sfu_hashpipe_finish(pipe, err);
        if (r < 0)
                return r;
        r = sfu_slot_writer_sync(t->writer, err);
        if (r < 0)
                return r;
        manager_progress_begin(m, "verifying", img->name, written(&d), written(&d));
        if (img->has_size && written(&d) != img->size)
                r = sfu_err_set(err, SFU_ERR_SIZE, EBADMSG, "image \"%s\": got %" PRIu64 " bytes, expected %" PRIu64,
                                img->name, written(&d), img->size);
        else
                r = compare_digests(t, pipe, err);
        if (r >= 0)
                t->length = written(&d);
        if (r < 0) {
                /* Some byte in the slot is wrong: resuming onto it again
                 * would fail the same way forever.  The next cycle starts
                 * over. */
                pthread_mutex_lock(&m->lock);
                m->state.has_resume = false;
                pthread_mutex_unlock(&m->lock);
        }
        return r;
}

struct recheck {
        struct sfu_manager *m;
        struct sfu_digest_set *set;
        uint64_t done;
};

static int recheck_update(void *userdata, const void *buf, size_t len, struct sfu_err *err) {
        struct recheck *x = userdata;
        int r = sfu_digest_set_update(x->set, buf, len);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot hash the slot: %s", strerror(-r));
        x->done += len;
        manager_progress_update(x->m, x->done);
        return 0;
}

/* Reads the image back from the slot just before activation and checks it
 * against the manifest once more: the bytes verified while streaming are
 * the bytes that were written, this proves the slot still holds them (no
 * other writer, no aliasing of slots).  One of the listed digests is
 * enough: every listed one already matched the same bytes, and each is
 * collision resistant.  SHA-256 is preferred, as CPUs accelerate it. */
static int recheck_image(struct sfu_manager *m, const struct target *t, struct sfu_err *err) {
        _cleanup_digest_set_ struct sfu_digest_set *set = NULL;
        const struct sfu_manifest_digest *want = NULL;
        uint8_t got[SFU_DIGEST_MAX_SIZE];
        int r;

        for (size_t i = 0; i < t->image->n_digests; i++)
                if (!want || t->image->digests[i].alg == SFU_DIGEST_SHA256)
                        want = &t->image->digests[i];
        if (!want)
                return sfu_err_set(err, SFU_ERR_DIGEST, EBADMSG, "image \"%s\" lists no digest", t->image->name);
        r = sfu_digest_set_new(SFU_DIGEST_MASK(want->alg), &set);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot start a digest: %s", strerror(-r));
        r = sfu_slot_writer_check_path(t->writer, err);
        if (r < 0)
                return r;
        manager_progress_begin(m, "rechecking", t->image->name, 0, t->length);
        r = sfu_slot_writer_read_back(t->writer, t->length, recheck_update,
                                      &(struct recheck) { .m = m, .set = set }, err);
        if (r < 0)
                return r;
        r = sfu_digest_set_final(set);
        if (r >= 0)
                r = sfu_digest_set_get(set, want->alg, got);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot finish a digest: %s", strerror(-r));
        if (memcmp(got, want->value, sfu_digest_size(want->alg)) != 0)
                return sfu_err_set(err, SFU_ERR_DIGEST, EBADMSG,
                                   "image \"%s\" changed in slot %s after it was verified (%s mismatch on re-reading); not activating it",
                                   t->image->name, t->slot->bootname, sfu_digest_name(want->alg));
        return 0;
}

static void set_slot(struct sfu_manager *m, const char *bootname, enum sfu_slot_health health,
                     const struct sfu_version *version) {
        pthread_mutex_lock(&m->lock);
        struct sfu_state_slot *slot = sfu_state_slot_ensure(&m->state, bootname);
        if (slot) {
                slot->health = health;
                slot->has_version = version != NULL;
                if (version)
                        slot->version = *version;
        }
        pthread_mutex_unlock(&m->lock);
}

static int save_slot_manifest(struct sfu_manager *m, const char *bootname, const struct candidate *c,
                              struct sfu_err *err) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/manifest-%s.jws", m->config->state_dir, bootname);
        return sfu_file_write_atomic(path, c->jws, c->jws_len, 0600, err);
}

static int stage(struct sfu_manager *m, const struct candidate *c, struct sfu_err *err) {
        struct target targets[SFU_MANIFEST_MAX_IMAGES] = {};
        const struct sfu_config_slot *booted = sfu_config_boot_slot(m->config, m->booted);
        const char *ab_target = NULL;
        const char *forbidden[SFU_CONFIG_MAX_SLOTS + 2];
        size_t n = c->manifest->n_images;
        int r;

        r = plan_targets(m, c, targets, err);
        if (r < 0)
                goto out;
        /* Every image's slot is opened (and its size checked) before the
         * first byte is requested. The running slot and every slot not
         * being written are forbidden targets. */
        for (size_t i = 0; i < n; i++) {
                size_t nf = 0;
                forbidden[nf++] = booted->device;
                for (size_t s = 0; s < m->config->n_slots; s++)
                        if (&m->config->slots[s] != targets[i].slot && &m->config->slots[s] != booted)
                                forbidden[nf++] = m->config->slots[s].device;
                forbidden[nf] = NULL;
                r = sfu_slot_writer_open(targets[i].slot->device, forbidden,
                                         targets[i].image->has_size ? targets[i].image->size : 0, &targets[i].writer,
                                         err);
                if (r < 0)
                        goto out;
        }

        for (size_t i = 0; i < n; i++) {
                /* From here on the slot's old content is gone. */
                set_slot(m, targets[i].slot->bootname, SFU_HEALTH_EMPTY, NULL);
                if (targets[i].single_copy) {
                        r = sfu_bootloader_set_incomplete(m->boot, targets[i].slot->class_name, err);
                        if (r < 0)
                                goto out;
                }
        }
        manager_set_state(m, SFU_STATE_DOWNLOADING, "downloading %s", c->manifest->version_text);

        for (size_t i = 0; i < n; i++) {
                r = download_image(m, c, &targets[i], err);
                if (r < 0) {
                        sfu_err_prefix(err, "slot %s", targets[i].slot->bootname);
                        goto out;
                }
                log_info("image %s verified in slot %s", targets[i].image->name, targets[i].slot->bootname);
        }
        r = SFU_FAULT("before-switch");
        if (r < 0) {
                sfu_err_set(err, SFU_ERR_STORAGE, r, "fault injected before the bootloader switch");
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                r = recheck_image(m, &targets[i], err);
                if (r < 0)
                        goto out;
        }
        if (!begin_commit(m)) {
                r = sfu_err_set(err, SFU_ERR_NETWORK, ECANCELED, "cancelled before the bootloader switch");
                goto out;
        }

        /* Everything is written, synced and verified: now the bootloader. */
        for (size_t i = 0; i < n; i++) {
                r = save_slot_manifest(m, targets[i].slot->bootname, c, err);
                if (r < 0)
                        goto out;
        }
        for (size_t i = 0; i < n; i++) {
                if (targets[i].single_copy) {
                        r = sfu_bootloader_clear_incomplete(m->boot, targets[i].slot->class_name, err);
                        if (r < 0)
                                goto out;
                        set_slot(m, targets[i].slot->bootname, SFU_HEALTH_GOOD, &c->manifest->version);
                } else if (strcmp(targets[i].slot->class_name, booted->class_name) == 0)
                        ab_target = targets[i].slot->bootname;
                else
                        set_slot(m, targets[i].slot->bootname, SFU_HEALTH_STAGED, &c->manifest->version);
        }
        if (ab_target) {
                /* The intent goes to disk first: a crash between this save
                 * and the environment write is recognised at start-up
                 * (manager.c compares the primary slot with the intent). */
                set_slot(m, ab_target, SFU_HEALTH_STAGED, &c->manifest->version);
                pthread_mutex_lock(&m->lock);
                snprintf(m->state.trial_bootname, sizeof(m->state.trial_bootname), "%s", ab_target);
                snprintf(m->state.trial_previous, sizeof(m->state.trial_previous), "%s", m->booted);
                m->state.has_resume = false;
                pthread_mutex_unlock(&m->lock);
                r = manager_set_state_checked(m, err, SFU_STATE_STAGED, "switching the bootloader to slot %s",
                                              ab_target);
                if (r < 0)
                        goto out;
                r = sfu_bootloader_set_trial(m->boot, ab_target, m->booted, err);
                if (r < 0) {
                        /* Did the switch happen after all (failure reported
                         * after the write)? The environment decides. */
                        _cleanup_free_ char *primary = NULL;
                        struct sfu_err probe = SFU_ERR_INIT;
                        if (sfu_bootloader_get_primary(m->boot, &primary, &probe) >= 0 &&
                            sfu_streq(primary, ab_target)) {
                                log_warning("the bootloader reported an error but boots slot %s next: %s", ab_target,
                                            err->message);
                                sfu_err_clear(err);
                        } else {
                                pthread_mutex_lock(&m->lock);
                                m->state.trial_bootname[0] = m->state.trial_previous[0] = 0;
                                pthread_mutex_unlock(&m->lock);
                                goto out;
                        }
                }
        }
        pthread_mutex_lock(&m->lock);
        m->state.has_resume = false;
        m->state.has_last_error = false;
        pthread_mutex_unlock(&m->lock);
        (void) manager_refresh_primary(m);
        r = manager_set_state_checked(m, err, SFU_STATE_STAGED, "%s staged in slot %s; reboot to try it",
                                      c->manifest->version_text, ab_target ? ab_target : targets[0].slot->bootname);
        if (r < 0 && ab_target) {
                /* The switch is done and cannot be taken back safely; the
                 * intent on disk already says so. */
                log_warning("%s", err->message);
                sfu_err_clear(err);
                r = 0;
        }
        if (r < 0)
                goto out;
        r = 0;
out:
        for (size_t i = 0; i < n; i++) {
                if (r < 0 && targets[i].writer)
                        set_slot(m, targets[i].slot->bootname, SFU_HEALTH_BAD, NULL);
                sfu_slot_writer_free(targets[i].writer);
                free(targets[i].url);
        }
        return r;
}

/* ---------------------------------------------------------------- the job */

static int refuse_job(struct sfu_manager *m, const struct sfu_job_request *req, struct sfu_err *err) {
        if (m->state_unusable)
                return sfu_err_set(err, SFU_ERR_STATE, EBADMSG, "%s", m->state_problem);
        if (req->kind == SFU_JOB_APPLY && m->state.state == SFU_STATE_TRIAL)
                return sfu_err_set(err, SFU_ERR_STATE, EBUSY,
                                   "slot %s is on trial: confirm it (mark-good) or reject it (mark-bad) first",
                                   m->state.trial_bootname);
        return 0;
}

/* A trial in progress or a fall-back that happened stays visible until
 * something new is installed: a poll that finds nothing to do does not
 * hide it. */
static bool sticky(enum sfu_install_state st) {
        return st == SFU_STATE_TRIAL || st == SFU_STATE_ROLLED_BACK;
}

static void record_error(struct sfu_manager *m, enum sfu_install_state back_to, const struct sfu_err *err) {
        pthread_mutex_lock(&m->lock);
        sfu_state_set_error(&m->state, err);
        m->state.has_last_check = true;
        m->state.last_check = manager_wallclock();
        pthread_mutex_unlock(&m->lock);
        manager_set_state(m, back_to, "%s", err->message);
}

int sfu_install_run(struct sfu_manager *m, const struct sfu_job_request *req, json_t **ret_result,
                    struct sfu_err *err) {
        _cleanup_keyring_ struct sfu_keyring *ring = NULL;
        struct candidate c = {};
        enum sfu_install_state before = m->state.state;
        char before_reason[SFU_STATE_MAX_TEXT];
        bool go, rejected;
        int r;

        snprintf(before_reason, sizeof(before_reason), "%s", m->state.reason);

        r = refuse_job(m, req, err);
        if (r < 0) {
                /* --once exits on this: its one line of reason. */
                log_error("%s", err->message);
                return r;
        }
        if (before == SFU_STATE_CHECKING || before == SFU_STATE_DOWNLOADING)
                before = SFU_STATE_IDLE;
        manager_set_state(m, SFU_STATE_CHECKING, "checking for updates");
        r = load_trust(m, &ring, err);
        if (r >= 0)
                r = find_manifest(m, ring, req, &c, err);
        if (r < 0) {
                log_error("check failed: %s", err->message);
                record_error(m, before == SFU_STATE_AVAILABLE ? SFU_STATE_IDLE : before, err);
                candidate_clear(&c);
                return r;
        }
        accept_manifest(m, &c);

        if (c.verdict == SFU_POLICY_UP_TO_DATE) {
                log_info("up to date (%s from %s)", c.manifest->version_text, sfu_source_name(c.source));
                if (sticky(before)) {
                        manager_set_state(m, before, "%s", before_reason);
                } else {
                        pthread_mutex_lock(&m->lock);
                        m->state.has_last_error = false;
                        pthread_mutex_unlock(&m->lock);
                        manager_set_state(m, before == SFU_STATE_STAGED ? before : SFU_STATE_IDLE, "up to date (%s)",
                                          c.manifest->version_text);
                }
                *ret_result = json_pack("{s:s,s:s,s:s}", "result", "up-to-date", "version", c.manifest->version_text,
                                        "source", sfu_source_name(c.source));
                candidate_clear(&c);
                return 0;
        }

        /* Staged already: the same version need not be staged again. */
        pthread_mutex_lock(&m->lock);
        bool already_staged = m->state.state != SFU_STATE_ROLLED_BACK && before == SFU_STATE_STAGED &&
                              m->state.has_newest_seen && m->state.trial_bootname[0] &&
                              (sfu_state_slot(&m->state, m->state.trial_bootname)->has_version &&
                               sfu_version_compare(&sfu_state_slot(&m->state, m->state.trial_bootname)->version,
                                                   &c.manifest->version) == 0);
        pthread_mutex_unlock(&m->lock);

        /* A poll during a trial boot only looks: staging would overwrite the
         * slot the trial falls back to. */
        pthread_mutex_lock(&m->lock);
        rejected = m->state.has_rejected && sfu_version_compare(&m->state.rejected, &c.manifest->version) == 0;
        pthread_mutex_unlock(&m->lock);
        go = req->kind == SFU_JOB_APPLY || (req->kind == SFU_JOB_POLL && m->config->policy != SFU_POLICY_CHECK &&
                                            before != SFU_STATE_TRIAL && !rejected);
        if (!go || already_staged) {
                log_info("update %s available from %s%s", c.manifest->version_text, sfu_source_name(c.source),
                         already_staged ? " (already staged)"
                         : rejected    ? "; it failed its trial boot here, so only an explicit apply installs it"
                                       : "");
                if (sticky(before))
                        manager_set_state(m, before, "%s", before_reason);
                else
                        manager_set_state(m, already_staged ? SFU_STATE_STAGED : SFU_STATE_AVAILABLE,
                                          "%s available from %s%s", c.manifest->version_text,
                                          sfu_source_name(c.source), already_staged ? " (staged)" : "");
                *ret_result = json_pack("{s:s,s:s,s:s}", "result", already_staged ? "staged" : "available", "version",
                                        c.manifest->version_text, "source", sfu_source_name(c.source));
                candidate_clear(&c);
                return 0;
        }

        log_info("staging %s from %s", c.manifest->version_text, sfu_source_name(c.source));
        r = stage(m, &c, err);
        manager_progress_end(m);
        if (r < 0) {
                log_error("staging %s failed: %s", c.manifest->version_text, err->message);
                record_error(m, SFU_STATE_IDLE, err);
                candidate_clear(&c);
                return r;
        }
        log_notice("%s staged", c.manifest->version_text);
        *ret_result = json_pack("{s:s,s:s,s:s}", "result", "staged", "version", c.manifest->version_text, "source",
                                sfu_source_name(c.source));
        candidate_clear(&c);
        return 0;
}
