/* SPDX-License-Identifier: MIT */
/* The bootloader side of an update: activating verified images (a trial
 * boot for an A/B class, the "incomplete" mark cleared for a single-copy
 * class), reconciling what booted with what was asked at start-up, and
 * the operator's commit (mark-good), reject (mark-bad) and rollback.
 * Each works on a state record it is handed; the caller saves it. */
#pragma once
#include <jansson.h>
#include "daemon/job-internal.h"
#include "daemon/stage.h"

/* After the point of no return: saves each slot's manifest, records the
 * trial intent (durably) and only then writes the bootloader environment.
 * *ret_slot: the slot that boots next ("" for single-copy only updates). */
int sfu_switch_activate(struct sfu_job *job, const struct sfu_candidate *c, const struct sfu_stage_plan *plan,
                        const char **ret_slot, struct sfu_err *err) _wur_;

/* At start-up: what booted, compared with what was asked of the
 * bootloader (trial, fall-back, an interrupted switch). */
void sfu_switch_reconcile(const struct sfu_job_env *env, struct sfu_state *s);

/* The operator's operations on the running slot; env->booted is known.
 * *ret: the reply object. */
int sfu_switch_mark_good(const struct sfu_job_env *env, struct sfu_state *s, json_t **ret,
                         struct sfu_err *err) _wur_;
int sfu_switch_mark_bad(const struct sfu_job_env *env, struct sfu_state *s, json_t **ret,
                        struct sfu_err *err) _wur_;
int sfu_switch_rollback(const struct sfu_job_env *env, struct sfu_state *s, json_t **ret,
                        struct sfu_err *err) _wur_;
