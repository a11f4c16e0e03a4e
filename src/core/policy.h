/* SPDX-License-Identifier: MIT */
/* The rules that need the device (doc/manifest.md, "What a device
 * checks"): identity, versions (anti-rollback), replay, expiry, sizes; and
 * the install decision (stage or not, and why) that a job takes once a
 * manifest passed them.  Pure: the state, the request and "now" are passed
 * in, a verdict and its reason come out. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "core/err.h"
#include "core/config.h"
#include "core/manifest.h"
#include "core/state.h"
#include "core/version.h"

struct sfu_policy_device {
        const char *manufacturer;
        const char *model;
        struct sfu_version running;
        bool has_highest;               /* highest committed version (version order) */
        struct sfu_version highest;
        bool has_floor;                 /* the anti-rollback floor: nothing below it installs */
        struct sfu_version floor;
        bool has_newest_timestamp;      /* newest accepted manifest */
        int64_t newest_timestamp;
        bool allow_downgrade;           /* version order only: never the floor */
        uint64_t max_image_size;
        int64_t now;                    /* seconds since the epoch */
        /* The device clock is known to be right (NTP): a manifest dated
         * more than max_skew seconds after now is refused.  An unsynchronised
         * clock cannot judge a timestamp: it is taken as signed. */
        bool clock_synchronized;
        int64_t max_skew;
        /* Slot classes the device has (for split manifests), NULL-terminated;
         * NULL: not checked. */
        const char *const *slot_classes;
};

enum sfu_policy_verdict {
        SFU_POLICY_INSTALL,             /* newer than running and highest: go */
        SFU_POLICY_UP_TO_DATE,          /* same as running (nothing newer) */
};

/* Checks every rule that needs only the manifest and the device, before
 * any image byte is requested. Refusals are SFU_ERR_POLICY (identity,
 * version, replay, expiry) or SFU_ERR_SIZE, with one-line reasons.  The
 * running version is SFU_POLICY_UP_TO_DATE.  Version order: by default
 * only a version newer than the running one and than the highest committed
 * one installs; allow_downgrade lifts that.  Nothing below the
 * anti-rollback floor installs, whatever allow_downgrade says. */
int sfu_policy_check(const struct sfu_manifest *m, const struct sfu_policy_device *dev,
                     enum sfu_policy_verdict *ret, struct sfu_err *err) _wur_;

/* The rules for the manifest a provider entry p names (doc/manifest.md,
 * "Providers"), checked before any of its image bytes is requested: the
 * device's identity, expiry, clock and sizes as for any manifest; exactly
 * one image, the entry's component (name and slot class); no keyInfo; a
 * firmwareVersion at least the entry's minVersion; and, against the
 * newest of the component accepted before (comp, NULL: none), neither an
 * older timestamp nor an older version. */
int sfu_policy_check_provider(const struct sfu_manifest *pm, const struct sfu_manifest_provider *p,
                              const struct sfu_policy_device *dev, const struct sfu_state_component *comp,
                              struct sfu_err *err) _wur_;

/* What a job was asked to do. */
enum sfu_policy_job {
        SFU_POLICY_JOB_CHECK,           /* discover and verify; never download */
        SFU_POLICY_JOB_APPLY,           /* download and stage the available update */
        SFU_POLICY_JOB_POLL,            /* as far as [poll] policy allows */
};

/* Why a job is refused before it starts (unusable state, an apply during
 * a trial boot); 0 when it may run. */
int sfu_policy_job_allowed(enum sfu_policy_job job, const struct sfu_state *state, bool state_unusable,
                           const char *state_problem, struct sfu_err *err) _wur_;

/* A trial in progress or a fall-back that happened stays visible until
 * something new is installed. */
bool sfu_policy_state_sticky(enum sfu_install_state st);

/* The state a job starts from, for the decision: an interrupted check or
 * download counts as idle. */
enum sfu_install_state sfu_policy_state_before(enum sfu_install_state st);

/* The state after a failed check (before: sfu_policy_state_before). */
enum sfu_install_state sfu_policy_state_after_check_error(enum sfu_install_state before);

enum sfu_policy_action {
        SFU_POLICY_ACTION_UP_TO_DATE,   /* nothing newer */
        SFU_POLICY_ACTION_REPORT,       /* newer, but this job only reports it */
        SFU_POLICY_ACTION_STAGE,        /* download and stage it */
};

struct sfu_policy_situation {
        enum sfu_policy_job job;
        enum sfu_config_policy poll_policy;     /* [poll] policy */
        enum sfu_policy_verdict verdict;        /* of sfu_policy_check */
        struct sfu_version offered;
        enum sfu_install_state before;          /* sfu_policy_state_before() */
        const struct sfu_state *state;          /* rejected version, pending trial */
};

struct sfu_policy_decision {
        enum sfu_policy_action action;
        bool already_staged;            /* REPORT: this version waits in the trial slot */
        bool keep_state;                /* sticky: state and reason stay as they were */
        enum sfu_install_state next;    /* the state to show when !keep_state (not for STAGE) */
        const char *why;                /* a phrase for the log: why REPORT and not STAGE; "" otherwise */
};

/* The install decision: up to date, already staged, rejected here before,
 * a trial in progress, a check or a poll under policy=check only looks. */
void sfu_policy_decide(const struct sfu_policy_situation *s, struct sfu_policy_decision *ret);

/* The byte to resume image `image` of manifest `manifest_sha256` at in slot
 * `bootname`, fetched from url (0: from the start), from the resume record
 * of state; never beyond max. */
uint64_t sfu_policy_resume_offset(const struct sfu_state *state, const char *manifest_sha256, const char *image,
                                  const char *bootname, const char *url, uint64_t max);

/* A signed offer from the local server whose staging failed is held back
 * (the manufacturer is asked instead) for SFU_POLICY_HOLD_BASE_SEC after
 * the first failure, doubling with each further one up to
 * SFU_POLICY_HOLD_MAX_SEC. */
#define SFU_POLICY_HOLD_BASE_SEC 3600
#define SFU_POLICY_HOLD_MAX_SEC (7 * 24 * 3600)
/* The hold on the offer with manifest_sha256 that is still in force at now,
 * or NULL. */
const struct sfu_state_hold *sfu_policy_offer_held(const struct sfu_state *state, const char *manifest_sha256,
                                                   int64_t now);
/* Records one more failure of that offer at now; returns its hold. The
 * table keeps the SFU_STATE_MAX_HOLDS most recent offers. */
const struct sfu_state_hold *sfu_policy_hold_offer(struct sfu_state *state, const char *manifest_sha256, int64_t now);
