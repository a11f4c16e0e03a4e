/* SPDX-License-Identifier: MIT */
/* The job in order: refuse early, load the trust store, find and verify a
 * manifest (source.c, verify.c), remember it, decide (core/policy.c),
 * stage (stage.c), pass the point of no return, switch (switch.c).  Only
 * the sequencing and the reporting live here. */
#include <stdarg.h>
#include <time.h>

#include "core/timeutil.h"
#include "daemon/log.h"
#include "daemon/provider.h"
#include "daemon/source.h"
#include "daemon/stage.h"
#include "daemon/switch.h"
#include "daemon/trust.h"
#include "io/clock.h"

#define BACKOFF_BASE_MS 500
#define PROGRESS_INTERVAL_USEC 200000   /* at most five progress reports a second */

/* ---------------------------------------------------------------- reporting */

int sfu_job_save(struct sfu_job *job, bool durable, struct sfu_err *err) {
        return job->report->publish(job->report->userdata, job->state, durable, err);
}

static int set_state_v(struct sfu_job *job, bool durable, struct sfu_err *err, enum sfu_install_state st,
                       const char *fmt, va_list ap) {
        job->state->state = st;
        vsnprintf(job->state->reason, sizeof(job->state->reason), fmt, ap);
        return sfu_job_save(job, durable, err);
}

void sfu_job_set_state(struct sfu_job *job, enum sfu_install_state st, const char *fmt, ...) {
        struct sfu_err err = SFU_ERR_INIT;
        va_list ap;

        /* "checking" is not worth a disk write: after a crash it would be
         * reconciled to idle anyway. */
        va_start(ap, fmt);
        if (set_state_v(job, st != SFU_STATE_CHECKING, &err, st, fmt, ap) < 0)
                log_warning("cannot save state: %s", err.message);
        va_end(ap);
}

int sfu_job_set_state_durable(struct sfu_job *job, struct sfu_err *err, enum sfu_install_state st,
                              const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = set_state_v(job, true, err, st, fmt, ap);
        va_end(ap);
        return r;
}

void sfu_job_set_slot(struct sfu_job *job, const char *bootname, enum sfu_slot_health health,
                      const struct sfu_version *version) {
        struct sfu_state_slot *slot = sfu_state_slot_ensure(job->state, bootname);
        if (slot) {
                slot->health = health;
                slot->has_version = version != NULL;
                slot->has_floor = false; /* it went with the old content */
                if (version)
                        slot->version = *version;
        }
}

static void progress_report(struct sfu_job *job) {
        if (job->report->progress)
                job->report->progress(job->report->userdata, &job->progress);
}

void sfu_job_progress_begin(struct sfu_job *job, const char *phase, const char *image, uint64_t done,
                            uint64_t total) {
        struct sfu_job_progress *p = &job->progress;

        p->active = true;
        snprintf(p->phase, sizeof(p->phase), "%s", phase);
        snprintf(p->image, sizeof(p->image), "%s", image ? image : "");
        p->done = done;
        p->total = total;
        p->rate = 0;
        p->has_fetched = false;
        p->fetched = 0;
        job->progress_started = sfu_clock_monotonic_usec();
        progress_report(job);
}

void sfu_job_progress_update(struct sfu_job *job, uint64_t done) {
        struct sfu_job_progress *p = &job->progress;
        uint64_t now = sfu_clock_monotonic_usec();
        uint64_t elapsed = now - job->progress_started;
        uint64_t base = p->done;

        p->done = done;
        if (elapsed > 0 && done >= base)
                p->rate = (double) done * 1e6 / (double) elapsed;
        if (now - job->progress_notified >= PROGRESS_INTERVAL_USEC) {
                job->progress_notified = now;
                progress_report(job);
        }
}

void sfu_job_progress_fetched(struct sfu_job *job, uint64_t fetched) {
        job->progress.has_fetched = true;
        job->progress.fetched = fetched;
}

void sfu_job_progress_flush(struct sfu_job *job) {
        job->progress_notified = sfu_clock_monotonic_usec();
        progress_report(job);
}

void sfu_job_progress_end(struct sfu_job *job) {
        job->progress.active = false;
        progress_report(job);
}

/* ---------------------------------------------------------------- waiting */

bool sfu_job_cancelled(const struct sfu_job *job) {
        return atomic_load(job->env->cancel) == SFU_JOB_CANCEL_REQUESTED;
}

int sfu_job_wait(const struct sfu_job *job, uint64_t usec, struct sfu_err *err) {
        while (usec > 0 && !sfu_job_cancelled(job)) {
                uint64_t slice = usec > 100000 ? 100000 : usec;
                struct timespec ts = { 0, (long) slice * 1000 };
                nanosleep(&ts, NULL);
                usec -= slice;
        }
        return sfu_job_cancelled(job) ? sfu_err_set(err, SFU_ERR_NETWORK, ECANCELED, "cancelled") : 0;
}

static uint64_t backoff_usec(unsigned attempt) {
        uint64_t base = (uint64_t) BACKOFF_BASE_MS * 1000u << (attempt < 6 ? attempt : 6);
        return base + (uint64_t) random() % (base / 2 + 1); /* jitter */
}

int sfu_job_retry_delay(const struct sfu_job *job, const char *url, long status, uint64_t retry_after_sec,
                        unsigned attempt, uint64_t *ret_usec, struct sfu_err *err) {
        uint64_t max_sec = job->config->retry_after_max_usec / 1000000u;
        uint64_t wait;

        if (retry_after_sec > max_sec) {
                sfu_err_clear(err);
                return sfu_err_set(err, SFU_ERR_NETWORK, EAGAIN,
                                   "%s: HTTP %ld, server asks to retry after %" PRIu64
                                   " s (more than retry-after-max, %" PRIu64 " s); trying again at the next poll",
                                   url, status, retry_after_sec, max_sec);
        }
        wait = retry_after_sec ? retry_after_sec * 1000000u : backoff_usec(attempt);
        if (job->deadline && sfu_clock_monotonic_usec() + wait > job->deadline) {
                sfu_err_clear(err);
                return sfu_err_set(err, SFU_ERR_NETWORK, ETIME,
                                   "%s: retrying in %.1f s would pass the job's deadline (job-timeout)", url,
                                   (double) wait / 1e6);
        }
        *ret_usec = wait;
        return 0;
}

/* A scheme refused by the http/https rule (a redirect to file:// or
 * ftp://), a redirect loop, a refused TLS peer, the job's deadline or a
 * long Retry-After is a refusal, not bad luck: the next poll may try
 * again, this cycle ends. */
bool sfu_job_transient(const struct sfu_err *e) {
        return e->code == SFU_ERR_NETWORK && e->errnum != EPROTONOSUPPORT && e->errnum != ELOOP &&
               e->errnum != EKEYREJECTED && e->errnum != ETIME && e->errnum != EAGAIN;
}

void sfu_job_fetch_opts(const struct sfu_job *job, struct sfu_fetch_opts *opts) {
        *opts = (struct sfu_fetch_opts) {
                .config = job->config,
                .cancel = job->env->cancel,
                .deadline_usec = job->deadline,
        };
}

/* The point of no return: false if a cancel came first. */
static bool begin_commit(const struct sfu_job *job) {
        int expected = SFU_JOB_RUNNING;
        return atomic_compare_exchange_strong(job->env->cancel, &expected, SFU_JOB_COMMITTING);
}

/* ---------------------------------------------------------------- the job */

static void record_error(struct sfu_job *job, enum sfu_install_state back_to, const struct sfu_err *err) {
        sfu_state_set_error(job->state, err);
        job->state->has_last_check = true;
        job->state->last_check = sfu_clock_wallclock();
        sfu_job_set_state(job, back_to, "%s", err->message);
}

/* A manifest passed every rule: remember it (freshness floor, newest
 * seen) and take its key rotation. */
static void accept_manifest(struct sfu_job *job, struct sfu_keyring *ring, const struct sfu_candidate *c) {
        const struct sfu_manifest *man = c->manifest;
        struct sfu_state *s = job->state;
        struct sfu_err err = SFU_ERR_INIT;

        if (!s->has_newest_timestamp || man->timestamp > s->newest_timestamp) {
                s->has_newest_timestamp = true;
                s->newest_timestamp = man->timestamp;
        }
        if (!s->has_newest_seen || sfu_version_compare(&man->version, &s->newest_seen) >= 0) {
                s->has_newest_seen = true;
                s->newest_seen = man->version;
                s->newest_seen_timestamp = man->timestamp;
                s->newest_seen_source = c->source;
                snprintf(s->newest_seen_form, sizeof(s->newest_seen_form), "%s%s%s", sfu_signed_form_name(c->info.form),
                         c->envelope ? " in a " : "", c->envelope ? sfu_envelope_name(c->envelope) : "");
                sfu_signed_alg_names(c->info.alg_mask, s->newest_seen_algs, sizeof(s->newest_seen_algs));
        }
        sfu_provider_remember(job, c);
        s->has_last_check = true;
        s->last_check = sfu_clock_wallclock();
        if (sfu_trust_rotate(job->config, ring, man, &err) < 0)
                log_warning("key rotation failed: %s", err.message);
}

static json_t *result(const char *what, const struct sfu_candidate *c) {
        return json_pack("{s:s,s:s,s:s}", "result", what, "version", c->manifest->version_text, "source",
                         sfu_state_source_name(c->source));
}

/* Stage, pass the point of no return, switch. */
static int install(struct sfu_job *job, const struct sfu_candidate *c, struct sfu_err *err) {
        struct sfu_stage_plan plan = {};
        const char *next_slot = "";
        int r;

        r = sfu_stage_images(job, c, &plan, err);
        if (r >= 0 && !begin_commit(job))
                r = sfu_err_set(err, SFU_ERR_NETWORK, ECANCELED, "cancelled before the bootloader switch");
        if (r >= 0)
                r = sfu_switch_activate(job, c, &plan, &next_slot, err);
        sfu_stage_plan_finish(job, &plan, r < 0);
        return r;
}

/* A staging from the local server that failed for a reason the
 * manufacturer's copy may not share (a wrong or short image, a stalled
 * transfer): not a cancel, not our own storage. */
static bool local_failure(const struct sfu_candidate *c, const struct sfu_err *err) {
        return c->source == SFU_SOURCE_LOCAL && err->errnum != ECANCELED &&
               (err->code == SFU_ERR_DIGEST || err->code == SFU_ERR_SIZE || err->code == SFU_ERR_NETWORK);
}

/* Holds the local offer back and says so. */
static void hold_local_offer(struct sfu_job *job, const struct sfu_candidate *c, const struct sfu_err *err) {
        const struct sfu_state_hold *hold = sfu_policy_hold_offer(job->state, c->sha256, sfu_clock_wallclock());
        char until[32];

        log_warning("staging %s from the local server failed: %s; that offer is held back until %s, asking the "
                    "manufacturer",
                    c->manifest->version_text, err->message, sfu_time_format_rfc3339(hold->until, until));
}

/* Decides on a verified candidate and acts: report, or stage and switch. */
static int act(struct sfu_job *job, const struct sfu_job_request *req, const struct sfu_candidate *c,
               enum sfu_install_state before, const char *before_reason, json_t **ret_result, struct sfu_err *err) {
        struct sfu_policy_decision d;
        int r;

        sfu_policy_decide(&(struct sfu_policy_situation) {
                                  .job = req->kind,
                                  .poll_policy = job->config->policy,
                                  .verdict = c->verdict,
                                  .offered = c->manifest->version,
                                  .before = before,
                                  .state = job->state,
                          },
                          &d);
        switch (d.action) {
        case SFU_POLICY_ACTION_UP_TO_DATE:
                log_info("up to date (%s from %s)", c->manifest->version_text, sfu_state_source_name(c->source));
                if (d.keep_state)
                        sfu_job_set_state(job, before, "%s", before_reason);
                else {
                        job->state->has_last_error = false;
                        sfu_job_set_state(job, d.next, "up to date (%s)", c->manifest->version_text);
                }
                *ret_result = result("up-to-date", c);
                return 0;
        case SFU_POLICY_ACTION_REPORT:
                log_info("update %s available from %s%s", c->manifest->version_text, sfu_state_source_name(c->source),
                         d.why);
                if (d.keep_state)
                        sfu_job_set_state(job, before, "%s", before_reason);
                else
                        sfu_job_set_state(job, d.next, "%s available from %s%s", c->manifest->version_text,
                                          sfu_state_source_name(c->source), d.already_staged ? " (staged)" : "");
                *ret_result = result(d.already_staged ? "staged" : "available", c);
                return 0;
        case SFU_POLICY_ACTION_STAGE:
                break;
        }
        log_info("staging %s from %s", c->manifest->version_text, sfu_state_source_name(c->source));
        r = install(job, c, err);
        sfu_job_progress_end(job);
        if (r < 0)
                return r;
        log_notice("%s staged", c->manifest->version_text);
        *ret_result = result("staged", c);
        return 0;
}

int sfu_job_run(const struct sfu_job_env *env, const struct sfu_job_request *req, struct sfu_state *state,
                const struct sfu_job_report *report, json_t **ret_result, struct sfu_err *err) {
        _cleanup_keyring_ struct sfu_keyring *ring = NULL;
        struct sfu_job job = {
                .env = env,
                .config = env->config,
                .state = state,
                .report = report,
                .deadline = sfu_clock_monotonic_usec() + env->config->job_timeout_usec,
        };
        struct sfu_candidate c = {};
        enum sfu_install_state before = sfu_policy_state_before(state->state);
        char before_reason[SFU_STATE_MAX_TEXT];
        bool skip_local = false, fetching = false;
        int r;

        snprintf(before_reason, sizeof(before_reason), "%s", state->reason);
        r = sfu_policy_job_allowed(req->kind, state, env->state_unusable, env->state_problem, err);
        if (r < 0) {
                /* --once exits on this: its one line of reason. */
                log_error("%s", err->message);
                return r;
        }
        sfu_job_set_state(&job, SFU_STATE_CHECKING, "checking for updates");
        r = sfu_trust_load(job.config, &ring, err);
        /* libcurl, for this job only (io/fetch.h) */
        if (r >= 0 && (r = sfu_fetch_acquire(err)) >= 0)
                fetching = true;
        for (;;) {
                if (r >= 0)
                        r = sfu_source_find(&job, ring, req, skip_local, &c, err);
                /* An offer to act on: the whole set, every provider's
                 * manifest verified, before any image byte. */
                if (r >= 0 && c.verdict == SFU_POLICY_INSTALL)
                        r = sfu_provider_resolve(&job, ring, &c, err);
                if (r < 0) {
                        log_error("check failed: %s", err->message);
                        record_error(&job, sfu_policy_state_after_check_error(before), err);
                        break;
                }
                accept_manifest(&job, ring, &c);
                r = act(&job, req, &c, before, before_reason, ret_result, err);
                if (r >= 0)
                        break;
                if (!skip_local && local_failure(&c, err)) {
                        /* A LAN attacker's cache must not hold updates back:
                         * the manufacturer in this very cycle. */
                        hold_local_offer(&job, &c, err);
                        sfu_err_clear(err);
                        sfu_candidate_clear(&c);
                        skip_local = true;
                        r = 0;
                        continue;
                }
                log_error("staging %s failed: %s", c.manifest->version_text, err->message);
                record_error(&job, SFU_STATE_IDLE, err);
                break;
        }
        sfu_candidate_clear(&c);
        if (fetching)
                sfu_fetch_release();
        return r;
}
