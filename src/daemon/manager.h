/* SPDX-License-Identifier: MIT */
/* The manager owns everything secfud knows at run time: the config, the
 * persistent state, the booted slot, the bootloader, the progress of the
 * one operation that may run, and the subscribers that want to hear about
 * changes.  Long operations (check, apply, the poll cycle) run on a worker
 * thread; short ones (mark-good, mark-bad, rollback, cancel) run on the
 * caller's thread.  The control adapters (Varlink, D-Bus) and --once call
 * only the functions below. */
#pragma once
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <systemd/sd-event.h>

#include "core/config.h"
#include "core/err.h"
#include "core/key.h"
#include "core/state.h"
#include "daemon/job.h"
#include "io/bootloader.h"

#define SFU_MANAGER_MAX_SUBSCRIBERS 64

struct sfu_manager;


/* Called on the event loop thread (or, with no loop, on the caller's)
 * when a job ends. result: a JSON object describing the outcome (borrowed). */
typedef void (*sfu_job_done_fn)(struct sfu_manager *m, int r, const struct sfu_err *err, json_t *result,
                                void *userdata);

/* An event for Monitor / PropertiesChanged: kind is "state" or "progress";
 * data is the status object (borrowed). Runs on the loop thread. */
typedef void (*sfu_event_fn)(struct sfu_manager *m, const char *kind, json_t *status, void *userdata);

/* Loads the config's state, learns the booted slot, reconciles a pending
 * trial with what actually booted. Problems with the state file do not
 * fail: they make the manager refuse installs (reported in status). */
int sfu_manager_new(struct sfu_config *config, sd_event *event, struct sfu_manager **ret,
                    struct sfu_err *err) _wur_;
void sfu_manager_free(struct sfu_manager *m);
static inline void sfu_manager_freep(struct sfu_manager **m) { sfu_manager_free(*m); }
#define _cleanup_manager_ _cleanup_(sfu_manager_freep)

const struct sfu_config *sfu_manager_config(const struct sfu_manager *m);

/* A snapshot of the status (doc/control.md) as a new JSON object. */
int sfu_manager_status(struct sfu_manager *m, json_t **ret) _wur_;
/* One line for sd_notify STATUS=. */
void sfu_manager_status_line(struct sfu_manager *m, char *buf, size_t size);

/* Starts a job on the worker thread (-EBUSY / SFU_ERR_BUSY when one
 * runs). With no event loop (--once), runs it on the calling thread and
 * calls done before returning. */
int sfu_manager_start_job(struct sfu_manager *m, const struct sfu_job_request *req, sfu_job_done_fn done,
                          void *userdata, struct sfu_err *err) _wur_;
bool sfu_manager_busy(struct sfu_manager *m);
/* Asks the running job to stop; refused (SFU_ERR_STATE) once the job has
 * begun switching the bootloader. */
int sfu_manager_cancel(struct sfu_manager *m, struct sfu_err *err) _wur_;
/* Whether the last job ended because it was cancelled (not on its own). */
bool sfu_manager_job_cancelled(struct sfu_manager *m);

int sfu_manager_mark_good(struct sfu_manager *m, json_t **ret, struct sfu_err *err) _wur_;
int sfu_manager_mark_bad(struct sfu_manager *m, json_t **ret, struct sfu_err *err) _wur_;
int sfu_manager_rollback(struct sfu_manager *m, json_t **ret, struct sfu_err *err) _wur_;

int sfu_manager_subscribe(struct sfu_manager *m, sfu_event_fn fn, void *userdata, unsigned *ret_id) _wur_;
void sfu_manager_unsubscribe(struct sfu_manager *m, unsigned id);

/* Microseconds until the next poll is due (interval plus jitter from the
 * last check), for the daemon's timer. */
uint64_t sfu_manager_next_poll_usec(struct sfu_manager *m);
