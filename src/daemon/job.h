/* SPDX-License-Identifier: MIT */
/* One job (check, apply or poll), start to end, on the calling thread:
 * source -> verify -> decide -> stage -> switch.  The job never sees the
 * manager: it gets a copy of what it needs (struct sfu_job_env and the
 * persistent state) and reports through struct sfu_job_report, whose
 * owner alone decides what to lock and when to write. */
#pragma once
#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "core/policy.h"
#include "core/state.h"
#include "core/version.h"
#include "io/bootloader.h"

struct sfu_job_request {
        enum sfu_policy_job kind;
        const char *source;     /* NULL: discovery (or fd); else a manifest URL or file path */
        bool has_fd;            /* the manifest is the regular file open at fd (passed by the caller) */
        int fd;
        bool allow_downgrade;
};

/* The job's cancel word: the control plane moves it from RUNNING to
 * REQUESTED, the job from RUNNING to COMMITTING when it starts the
 * bootloader switch.  Whichever comes first wins, so a cancel either stops
 * the job before the switch or is refused as too late: never half of each. */
enum sfu_job_cancel {
        SFU_JOB_RUNNING,
        SFU_JOB_CANCEL_REQUESTED,       /* = 1: what io/fetch.c aborts on */
        SFU_JOB_COMMITTING,
};

/* What the job runs with; everything here outlives the job. */
struct sfu_job_env {
        const struct sfu_config *config;
        struct sfu_bootloader *boot;
        const char *booted;             /* bootname of the running slot, NULL if unknown */
        bool has_running;
        struct sfu_version running;
        bool state_unusable;            /* the state file did not parse: refuse */
        const char *state_problem;
        atomic_int *cancel;             /* enum sfu_job_cancel */
};

/* The one operation's progress, as status shows it. */
struct sfu_job_progress {
        bool active;
        char phase[16];                 /* downloading | verifying | syncing | resuming | rechecking */
        char image[64];
        uint64_t done;
        uint64_t total;
        double rate;                    /* bytes per second */
        bool has_fetched;               /* a delta: done counts bytes from the source slot too */
        uint64_t fetched;               /* then: bytes received from the server for this image */
};

struct sfu_job_report {
        /* The job's copy of the persistent state changed; durable: it must
         * be on disk before this returns (an error stops the job).  The
         * state's owner copies it. */
        int (*publish)(void *userdata, const struct sfu_state *state, bool durable, struct sfu_err *err);
        /* Progress of the running phase (throttled by the job). */
        void (*progress)(void *userdata, const struct sfu_job_progress *progress);
        /* The bootloader's primary slot may have changed. */
        void (*primary_changed)(void *userdata);
        void *userdata;
};

/* Runs req to the end.  state is the job's working copy of the persistent
 * record, published through report as it changes.  On success *ret_result
 * is a new JSON object {"result": "up-to-date|available|staged", "version",
 * "source"}; on failure err says why. */
int sfu_job_run(const struct sfu_job_env *env, const struct sfu_job_request *req, struct sfu_state *state,
                const struct sfu_job_report *report, json_t **ret_result, struct sfu_err *err) _wur_;
