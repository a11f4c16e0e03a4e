/* SPDX-License-Identifier: MIT */
/* What the rooms of a job share: source.c, verify.c, trust.c, stage.c and
 * switch.c each take the running job and change only its copy of the
 * state; job.c sequences them. */
#pragma once
#include "daemon/job.h"
#include "io/fetch.h"

struct sfu_job {
        const struct sfu_job_env *env;
        const struct sfu_config *config;        /* env->config */
        struct sfu_state *state;                /* the working copy */
        const struct sfu_job_report *report;
        struct sfu_job_progress progress;
        uint64_t progress_started;              /* CLOCK_MONOTONIC usec */
        uint64_t progress_notified;
        uint64_t deadline;                      /* CLOCK_MONOTONIC usec: [network] job-timeout */
};

/* Sets state and reason in the copy and publishes it (durably, except for
 * "checking", which a crash reconciles to idle anyway). */
void sfu_job_set_state(struct sfu_job *job, enum sfu_install_state st, const char *fmt, ...) _printf_(3, 4);
/* Like sfu_job_set_state, but the state must be on disk before the next
 * step: a failed save is an error. */
int sfu_job_set_state_durable(struct sfu_job *job, struct sfu_err *err, enum sfu_install_state st,
                              const char *fmt, ...) _printf_(4, 5) _wur_;
/* Sets a slot's health and version (NULL: unknown) in the copy. */
void sfu_job_set_slot(struct sfu_job *job, const char *bootname, enum sfu_slot_health health,
                      const struct sfu_version *version);
/* Publishes the copy as it is; durable as above. */
int sfu_job_save(struct sfu_job *job, bool durable, struct sfu_err *err) _wur_;

void sfu_job_progress_begin(struct sfu_job *job, const char *phase, const char *image, uint64_t done,
                            uint64_t total);
void sfu_job_progress_update(struct sfu_job *job, uint64_t done);
/* A delta's bytes from the server so far (shown with the next update). */
void sfu_job_progress_fetched(struct sfu_job *job, uint64_t fetched);
/* Reports the progress now, whatever the last report's time. */
void sfu_job_progress_flush(struct sfu_job *job);
void sfu_job_progress_end(struct sfu_job *job);

bool sfu_job_cancelled(const struct sfu_job *job);
/* How long to wait before retry number attempt (0, 1, ...) of url: the
 * server's Retry-After when it sent one, else exponential back-off with
 * jitter.  An error (err overwritten) when the server asks for more than
 * [network] retry-after-max (EAGAIN: the next poll tries again) or the
 * wait would pass the job's deadline (ETIME). */
int sfu_job_retry_delay(const struct sfu_job *job, const char *url, long status, uint64_t retry_after_sec,
                        unsigned attempt, uint64_t *ret_usec, struct sfu_err *err) _wur_;
/* Sleeps usec in slices; -ECANCELED (err set) as soon as a cancel arrives. */
int sfu_job_wait(const struct sfu_job *job, uint64_t usec, struct sfu_err *err) _wur_;
/* A transport failure that another try may heal (not a refused scheme, a
 * redirect loop or a refused TLS peer). */
bool sfu_job_transient(const struct sfu_err *e);
/* Fetch options for this job: the config and its cancel word. */
void sfu_job_fetch_opts(const struct sfu_job *job, struct sfu_fetch_opts *opts);

#define SFU_JOB_FETCH_ATTEMPTS 5
