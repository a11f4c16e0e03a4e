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
void sfu_job_progress_end(struct sfu_job *job);

bool sfu_job_cancelled(const struct sfu_job *job);
/* Sleeps up to usec in slices; -ECANCELED as soon as a cancel arrives. */
int sfu_job_sleep(const struct sfu_job *job, uint64_t usec) _wur_;
/* Exponential back-off with jitter for retry number attempt (0, 1, ...). */
uint64_t sfu_job_backoff_usec(unsigned attempt);
/* A transport failure that another try may heal (not a refused scheme, a
 * redirect loop or a refused TLS peer). */
bool sfu_job_transient(const struct sfu_err *e);
/* Fetch options for this job: the config and its cancel word. */
void sfu_job_fetch_opts(const struct sfu_job *job, struct sfu_fetch_opts *opts);

#define SFU_JOB_FETCH_ATTEMPTS 5
#define SFU_JOB_RETRY_AFTER_MAX_SEC 300 /* longer: give up this cycle, the next poll retries */
