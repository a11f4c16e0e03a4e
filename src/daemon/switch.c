/* SPDX-License-Identifier: MIT */
#include "daemon/log.h"
#include "daemon/switch.h"
#include "io/fileio.h"

static int save_slot_manifest(struct sfu_job *job, const char *bootname, const struct sfu_candidate *c,
                              struct sfu_err *err) {
        char path[4096];
        size_t len;
        const char *manifest = sfu_candidate_manifest(c, &len);

        snprintf(path, sizeof(path), "%s/manifest-%s.jws", job->config->state_dir, bootname);
        return sfu_file_write_atomic(path, manifest, len, 0600, err);
}

/* Marks a slot as holding c's firmware, with the floor committing it sets. */
static void record_slot(struct sfu_job *job, const char *bootname, enum sfu_slot_health health,
                        const struct sfu_candidate *c) {
        struct sfu_state_slot *slot;

        sfu_job_set_slot(job, bootname, health, &c->manifest->version);
        slot = sfu_state_slot(job->state, bootname);
        if (slot) {
                slot->has_floor = c->manifest->has_rollback_floor;
                slot->floor = c->manifest->rollback_floor;
        }
}

int sfu_switch_activate(struct sfu_job *job, const struct sfu_candidate *c, const struct sfu_stage_plan *plan,
                        const char **ret_slot, struct sfu_err *err) {
        const struct sfu_stage_target *targets = plan->targets;
        const struct sfu_config_slot *booted = sfu_config_boot_slot(job->config, job->env->booted);
        struct sfu_state *s = job->state;
        const char *ab_target = NULL;
        size_t n = plan->n_targets;
        int r;

        /* Everything is written, synced and verified: now the bootloader. */
        for (size_t i = 0; i < n; i++) {
                r = save_slot_manifest(job, targets[i].slot->bootname, c, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n; i++) {
                if (targets[i].single_copy) {
                        r = sfu_bootloader_clear_incomplete(job->env->boot, targets[i].slot->class_name, err);
                        if (r < 0)
                                return r;
                        record_slot(job, targets[i].slot->bootname, SFU_HEALTH_GOOD, c);
                } else if (strcmp(targets[i].slot->class_name, booted->class_name) == 0)
                        ab_target = targets[i].slot->bootname;
                else
                        record_slot(job, targets[i].slot->bootname, SFU_HEALTH_STAGED, c);
        }
        if (ab_target) {
                /* The intent goes to disk first: a crash between this save
                 * and the environment write is recognised at start-up
                 * (sfu_switch_reconcile compares the primary slot with the intent). */
                record_slot(job, ab_target, SFU_HEALTH_STAGED, c);
                snprintf(s->trial_bootname, sizeof(s->trial_bootname), "%s", ab_target);
                snprintf(s->trial_previous, sizeof(s->trial_previous), "%s", job->env->booted);
                s->has_resume = false;
                r = sfu_job_set_state_durable(job, err, SFU_STATE_STAGED, "switching the bootloader to slot %s",
                                              ab_target);
                if (r < 0)
                        return r;
                r = sfu_bootloader_set_trial(job->env->boot, ab_target, job->env->booted, err);
                if (r < 0) {
                        /* Did the switch happen after all (failure reported
                         * after the write)? The environment decides. */
                        _cleanup_free_ char *primary = NULL;
                        struct sfu_err probe = SFU_ERR_INIT;
                        if (sfu_bootloader_get_primary(job->env->boot, &primary, &probe) >= 0 &&
                            sfu_streq(primary, ab_target)) {
                                log_warning("the bootloader reported an error but boots slot %s next: %s", ab_target,
                                            err->message);
                                sfu_err_clear(err);
                        } else {
                                s->trial_bootname[0] = s->trial_previous[0] = 0;
                                return r;
                        }
                }
        }
        s->has_resume = false;
        s->has_last_error = false;
        if (job->report->primary_changed)
                job->report->primary_changed(job->report->userdata);
        r = sfu_job_set_state_durable(job, err, SFU_STATE_STAGED, "%s staged in slot %s; reboot to try it",
                                      c->manifest->version_text, ab_target ? ab_target : targets[0].slot->bootname);
        if (r < 0 && ab_target) {
                /* The switch is done and cannot be taken back safely; the
                 * intent on disk already says so. */
                log_warning("%s", err->message);
                sfu_err_clear(err);
                r = 0;
        }
        if (r < 0)
                return r;
        *ret_slot = ab_target ? ab_target : "";
        return 0;
}


static const struct sfu_config_slot *config_slot(const struct sfu_config *c, const char *bootname) {
        for (size_t i = 0; i < c->n_slots; i++)
                if (sfu_streq(c->slots[i].bootname, bootname))
                        return &c->slots[i];
        return NULL;
}

/* What booted, compared with what we asked the bootloader to try. */
void sfu_switch_reconcile(const struct sfu_job_env *env, struct sfu_state *s) {

        for (size_t i = 0; i < env->config->n_slots; i++)
                (void) sfu_state_slot_ensure(s, env->config->slots[i].bootname);

        if (env->booted) {
                struct sfu_state_slot *booted = sfu_state_slot(s, env->booted);
                if (booted && env->has_running) {
                        booted->has_version = true;
                        booted->version = env->running;
                }
                if (booted && booted->health != SFU_HEALTH_TRIAL)
                        booted->health = SFU_HEALTH_GOOD;
                /* What runs and is not on trial is installed: the first
                 * highest version and anti-rollback floor. */
                if (env->has_running && !s->has_highest && !sfu_streq(s->trial_bootname, env->booted)) {
                        s->has_highest = true;
                        s->highest = env->running;
                }
        }
        /* A record from before the floor was its own field: the highest
         * committed version was the floor. */
        if (!s->has_floor && s->has_highest) {
                s->has_floor = true;
                s->floor = s->highest;
        }

        if (s->trial_bootname[0] && env->booted) {
                struct sfu_state_slot *trial = sfu_state_slot(s, s->trial_bootname);
                bool fell_back = true;
                if (strcmp(s->trial_bootname, env->booted) == 0) {
                        fell_back = false;
                        if (trial)
                                trial->health = SFU_HEALTH_TRIAL;
                        s->state = SFU_STATE_TRIAL;
                        snprintf(s->reason, sizeof(s->reason),
                                 "running slot %s on trial; confirm with mark-good or reject with mark-bad",
                                 env->booted);
                } else if (s->state == SFU_STATE_STAGED && s->trial_previous[0] &&
                           strcmp(s->trial_previous, env->booted) == 0 && trial && trial->health == SFU_HEALTH_STAGED) {
                        /* Staged, not rebooted yet?  The intent was saved
                         * before the environment write: the order tells
                         * whether the switch reached the environment (it
                         * puts the trial slot first; the bootloaders never
                         * reorder).  If it did and the trial slot has no
                         * attempt left, every trial boot failed before
                         * secfud ran in it (kernel, initramfs, early boot)
                         * and the bootloader fell back.  The primary is no
                         * guide here: the booted slot's own attempt of this
                         * boot (GRUB's TRY=1 until mark-good) hides it. */
                        _cleanup_free_ char *first = NULL;
                        struct sfu_bootloader_slot_state trial_env = {};
                        struct sfu_err boot_err = SFU_ERR_INIT;
                        fell_back = false;
                        if (sfu_bootloader_get_first(env->boot, &first, &boot_err) >= 0 &&
                            !sfu_streq(first, s->trial_bootname)) {
                                trial->health = SFU_HEALTH_BAD;
                                s->state = SFU_STATE_IDLE;
                                snprintf(s->reason, sizeof(s->reason),
                                         "the switch to slot %s did not complete; it will be staged again",
                                         s->trial_bootname);
                                s->trial_bootname[0] = s->trial_previous[0] = 0;
                        } else if (first &&
                                   sfu_bootloader_get_slot_state(env->boot, s->trial_bootname, &trial_env, &boot_err) >= 0 &&
                                   !trial_env.good)
                                fell_back = true;
                }
                if (fell_back) {
                        struct sfu_err boot_err = SFU_ERR_INIT;
                        if (trial) {
                                trial->health = SFU_HEALTH_BAD;
                                if (trial->has_version) {
                                        s->has_rejected = true;
                                        s->rejected = trial->version;
                                }
                        }
                        /* The bootloader fell back on its own; make that
                         * final: the failed slot out of the order, the
                         * running one first with fresh attempts. */
                        if (sfu_bootloader_mark_bad(env->boot, s->trial_bootname, &boot_err) < 0 ||
                            sfu_bootloader_mark_good(env->boot, env->booted, &boot_err) < 0)
                                log_warning("cannot update the bootloader after the fall-back: %s", boot_err.message);
                        s->state = SFU_STATE_ROLLED_BACK;
                        snprintf(s->reason, sizeof(s->reason),
                                 "trial boot of slot %s failed: the bootloader fell back to slot %s",
                                 s->trial_bootname, env->booted);
                        s->has_last_error = true;
                        snprintf(s->last_error_code, sizeof(s->last_error_code), "trial");
                        snprintf(s->last_error_message, sizeof(s->last_error_message), "%s", s->reason);
                        s->trial_bootname[0] = s->trial_previous[0] = 0;
                }
        }

        if (s->state == SFU_STATE_CHECKING || s->state == SFU_STATE_DOWNLOADING) {
                s->state = SFU_STATE_IDLE;
                snprintf(s->reason, sizeof(s->reason), "%s",
                         s->has_resume ? "an interrupted download will resume at the next check"
                                       : "the previous operation was interrupted");
        }

        /* The bootloader environment wins for slot health. */
        for (size_t i = 0; i < s->n_slots; i++) {
                struct sfu_bootloader_slot_state bs;
                struct sfu_err err = SFU_ERR_INIT;
                if (!config_slot(env->config, s->slots[i].bootname))
                        continue;
                if (sfu_bootloader_get_slot_state(env->boot, s->slots[i].bootname, &bs, &err) < 0)
                        continue;
                if (!bs.good && s->slots[i].health == SFU_HEALTH_GOOD &&
                    !sfu_streq(s->slots[i].bootname, env->booted))
                        s->slots[i].health = SFU_HEALTH_BAD;
        }
}

static const struct sfu_config_slot *other_slot(const struct sfu_config *c, const char *bootname) {
        const struct sfu_config_slot *mine = sfu_config_boot_slot(c, bootname);
        if (!mine)
                return NULL;
        for (size_t i = 0; i < c->n_slots; i++)
                if (strcmp(c->slots[i].class_name, mine->class_name) == 0 &&
                    strcmp(c->slots[i].bootname, bootname) != 0)
                        return &c->slots[i];
        return NULL;
}

/* The floor rises at a commit only, and only from a signed value: the
 * manifest's rollbackFloor recorded with the slot when it was staged,
 * else its firmwareVersion.  It never goes down. */
static void raise_floor(struct sfu_state *s, const struct sfu_state_slot *committed) {
        const struct sfu_version *v = committed->has_floor ? &committed->floor
                                      : committed->has_version ? &committed->version
                                                               : NULL;
        if (v && (!s->has_floor || sfu_version_compare(v, &s->floor) > 0)) {
                s->has_floor = true;
                s->floor = *v;
        }
}

/* Refuses to make slot the next boot when its version is below the
 * anti-rollback floor (a rollback or mark-bad would cross it). */
static int check_floor(const struct sfu_state *s, const struct sfu_state_slot *slot, const char *what,
                       struct sfu_err *err) {
        char have[SFU_VERSION_STRING_MAX], floor[SFU_VERSION_STRING_MAX];

        if (!s->has_floor || !slot || !slot->has_version || sfu_version_compare(&slot->version, &s->floor) >= 0)
                return 0;
        return sfu_err_set(err, SFU_ERR_POLICY, EPERM,
                           "slot %s holds %s, below the anti-rollback floor %s; refusing to %s", slot->bootname,
                           sfu_version_format(&slot->version, have), sfu_version_format(&s->floor, floor), what);
}

int sfu_switch_mark_good(const struct sfu_job_env *env, struct sfu_state *s, json_t **ret, struct sfu_err *err) {
        struct sfu_state_slot *slot;
        bool was_trial = s->state == SFU_STATE_TRIAL && sfu_streq(s->trial_bootname, env->booted);
        int r;

        /* Always: with a boot counter, every boot spends an attempt, and
         * confirming the running slot gives them back. */
        r = sfu_bootloader_mark_good(env->boot, env->booted, err);
        if (r < 0)
                return r;
        if (!was_trial) {
                *ret = json_pack("{s:s,s:s}", "slot", env->booted, "result", "confirmed (no trial was pending)");
                return 0;
        }
        slot = sfu_state_slot(s, env->booted);
        if (slot) {
                slot->health = SFU_HEALTH_GOOD;
                if (slot->has_version && (!s->has_highest || sfu_version_compare(&slot->version, &s->highest) > 0)) {
                        s->has_highest = true;
                        s->highest = slot->version;
                }
                raise_floor(s, slot);
        }
        s->trial_bootname[0] = s->trial_previous[0] = 0;
        s->has_last_error = false;
        s->state = SFU_STATE_COMMITTED;
        snprintf(s->reason, sizeof(s->reason), "slot %s committed", env->booted);
        *ret = json_pack("{s:s,s:s}", "slot", env->booted, "result", "committed");
        return 0;
}

int sfu_switch_mark_bad(const struct sfu_job_env *env, struct sfu_state *s, json_t **ret, struct sfu_err *err) {
        const struct sfu_config_slot *other;
        struct sfu_state_slot *slot;
        int r;

        other = other_slot(env->config, env->booted);
        if (!other)
                return sfu_err_set(err, SFU_ERR_STATE, ENOENT,
                                   "slot %s has no other slot to fall back to; refusing to mark it bad", env->booted);
        /* A trial falls back to what was committed before it; a committed
         * slot would fall back to an older one. */
        if (!(s->state == SFU_STATE_TRIAL && sfu_streq(s->trial_bootname, env->booted))) {
                r = check_floor(s, sfu_state_slot(s, other->bootname), "mark the running slot bad", err);
                if (r < 0)
                        return r;
        }
        r = sfu_bootloader_mark_bad(env->boot, env->booted, err);
        if (r < 0)
                return r;
        slot = sfu_state_slot(s, env->booted);
        if (slot) {
                slot->health = SFU_HEALTH_BAD;
                if (slot->has_version) {
                        s->has_rejected = true;
                        s->rejected = slot->version;
                }
        }
        s->trial_bootname[0] = s->trial_previous[0] = 0;
        s->state = SFU_STATE_ROLLED_BACK;
        snprintf(s->reason, sizeof(s->reason), "slot %s marked bad; the next boot starts slot %s", env->booted,
                 other->bootname);
        *ret = json_pack("{s:s,s:s}", "slot", env->booted, "next", other->bootname);
        return 0;
}

int sfu_switch_rollback(const struct sfu_job_env *env, struct sfu_state *s, json_t **ret, struct sfu_err *err) {
        const struct sfu_config_slot *other;
        struct sfu_bootloader_slot_state bs;
        struct sfu_state_slot *slot;
        bool good;
        int r;

        other = other_slot(env->config, env->booted);
        if (!other)
                return sfu_err_set(err, SFU_ERR_STATE, ENOENT, "slot %s has no other slot to roll back to", env->booted);
        slot = sfu_state_slot(s, other->bootname);
        good = slot && slot->health == SFU_HEALTH_GOOD && slot->has_version;
        if (!good)
                return sfu_err_set(err, SFU_ERR_STATE, ENOENT,
                                   "slot %s does not hold a verified good image; nothing to roll back to",
                                   other->bootname);
        r = check_floor(s, slot, "roll back to it", err);
        if (r < 0)
                return r;
        r = sfu_bootloader_get_slot_state(env->boot, other->bootname, &bs, err);
        if (r < 0)
                return r;
        r = sfu_bootloader_set_primary(env->boot, other->bootname, err);
        if (r < 0)
                return r;
        s->trial_bootname[0] = s->trial_previous[0] = 0;
        s->state = SFU_STATE_ROLLED_BACK;
        snprintf(s->reason, sizeof(s->reason), "rollback: the next boot starts slot %s", other->bootname);
        *ret = json_pack("{s:s}", "next", other->bootname);
        return 0;
}
