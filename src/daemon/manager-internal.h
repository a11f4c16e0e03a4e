/* SPDX-License-Identifier: MIT */
/* Shared by manager.c (lifecycle, status, short operations) and
 * install.c (the long job).  Not for the adapters. */
#pragma once
#include "core/version.h"
#include "daemon/manager.h"

#define SFU_STATE_FILE "state.json"

struct subscriber {
        unsigned id;
        sfu_event_fn fn;
        void *userdata;
};

struct progress {
        bool active;
        char phase[16];         /* downloading | verifying | syncing | resuming */
        char image[64];
        uint64_t done;
        uint64_t total;
        double rate;            /* bytes per second */
        uint64_t started_usec;  /* CLOCK_MONOTONIC */
};

/* The job's cancel word: the control plane moves it from RUNNING to
 * REQUESTED, the worker from RUNNING to COMMITTING when it starts the
 * bootloader switch.  Whichever comes first wins, so a cancel either stops
 * the job before the switch or is refused as too late: never half of each. */
enum manager_cancel {
        MANAGER_CANCEL_RUNNING,
        MANAGER_CANCEL_REQUESTED,       /* = 1: what io/fetch.c aborts on */
        MANAGER_CANCEL_COMMITTING,
};

struct sfu_manager {
        struct sfu_config *config;
        sd_event *event;
        sd_event_source *notify_source;
        int notify_fd;                  /* eventfd: the worker wakes the loop */

        pthread_mutex_t lock;           /* guards everything below that the worker touches */
        struct sfu_state state;
        bool state_unusable;            /* refuse installs until the operator acts */
        char state_problem[SFU_ERR_MESSAGE_MAX];
        char *saved_state;              /* the text last written (or read): unchanged states are not rewritten */
        char *booted;                   /* bootname of the running slot, NULL if unknown */
        bool has_running;
        struct sfu_version running;
        char primary[40];               /* cached from the bootloader */
        struct sfu_bootloader *boot;
        struct progress progress;
        atomic_int cancel;              /* enum manager_cancel */
        atomic_bool busy;
        atomic_bool job_cancelled;      /* the last job ended because it was cancelled */
        uint64_t poll_started;          /* CLOCK_BOOTTIME usec of the last poll job's start (0: none) */
        unsigned pending_events;        /* bit 0: state, bit 1: progress */

        pthread_t worker;
        bool worker_joinable;
        struct sfu_job_request job;     /* copy; source owned below */
        char *job_source;
        sfu_job_done_fn job_done;
        void *job_userdata;
        int job_r;
        struct sfu_err job_err;
        json_t *job_result;
        bool job_finished;

        struct subscriber subscribers[SFU_MANAGER_MAX_SUBSCRIBERS];
        size_t n_subscribers;
        unsigned next_subscriber_id;
};

/* The worker and the short operations use these; they take the lock. */
void manager_set_state(struct sfu_manager *m, enum sfu_install_state st, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Like manager_set_state, but a failed save is an error (for the saves
 * that must be on disk before the next step). */
int manager_set_state_checked(struct sfu_manager *m, struct sfu_err *err, enum sfu_install_state st,
                              const char *fmt, ...) __attribute__((format(printf, 4, 5))) _wur_;
int manager_save_state_locked(struct sfu_manager *m, struct sfu_err *err) _wur_;
void manager_notify(struct sfu_manager *m, unsigned what);
void manager_progress_begin(struct sfu_manager *m, const char *phase, const char *image, uint64_t done,
                            uint64_t total);
void manager_progress_update(struct sfu_manager *m, uint64_t done);
void manager_progress_end(struct sfu_manager *m);
int manager_refresh_primary(struct sfu_manager *m);
uint64_t manager_now_usec(void);     /* CLOCK_MONOTONIC */
int64_t manager_wallclock(void);     /* seconds since the epoch */

/* install.c: runs one job to the end on the calling thread. */
int sfu_install_run(struct sfu_manager *m, const struct sfu_job_request *req, json_t **ret_result,
                    struct sfu_err *err) _wur_;

#define MANAGER_EVENT_STATE 1u
#define MANAGER_EVENT_PROGRESS 2u
