/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "core/policy.h"
#include "core/timeutil.h"

static int check_identity(const struct sfu_manifest *m, const struct sfu_policy_device *dev, struct sfu_err *err) {
        /* Byte for byte: look-alike characters are different bytes. */
        if (strcmp(m->manufacturer, dev->manufacturer) != 0)
                return sfu_err_set(err, SFU_ERR_POLICY, EPERM,
                                   "manifest is for manufacturer \"%s\", this device is \"%s\"", m->manufacturer,
                                   dev->manufacturer);
        if (strcmp(m->model, dev->model) != 0)
                return sfu_err_set(err, SFU_ERR_POLICY, EPERM, "manifest is for model \"%s\", this device is \"%s\"",
                                   m->model, dev->model);
        return 0;
}

static int check_freshness(const struct sfu_manifest *m, const struct sfu_policy_device *dev, struct sfu_err *err) {
        char a[32], b[32];

        if (m->has_expires && m->expires <= dev->now)
                return sfu_err_set(err, SFU_ERR_POLICY, EPERM, "manifest expired at %s (device time %s)",
                                   sfu_time_format_rfc3339(m->expires, a), sfu_time_format_rfc3339(dev->now, b));
        if (dev->clock_synchronized && m->timestamp > dev->now && m->timestamp - dev->now > dev->max_skew)
                return sfu_err_set(err, SFU_ERR_POLICY, EPERM,
                                   "manifest timestamp %s is more than clock-skew (%" PRId64
                                   " s) ahead of the synchronised device clock (%s): refused",
                                   sfu_time_format_rfc3339(m->timestamp, a), dev->max_skew,
                                   sfu_time_format_rfc3339(dev->now, b));
        if (dev->has_newest_timestamp && m->timestamp < dev->newest_timestamp)
                return sfu_err_set(err, SFU_ERR_POLICY, EPERM,
                                   "manifest timestamp %s is older than the newest accepted manifest (%s): replay refused",
                                   sfu_time_format_rfc3339(m->timestamp, a),
                                   sfu_time_format_rfc3339(dev->newest_timestamp, b));
        return 0;
}

static int check_images(const struct sfu_manifest *m, const struct sfu_policy_device *dev, struct sfu_err *err) {
        for (size_t i = 0; i < m->n_images; i++) {
                const struct sfu_manifest_image *img = &m->images[i];
                if (img->has_size && img->size > dev->max_image_size)
                        return sfu_err_set(err, SFU_ERR_SIZE, EFBIG,
                                           "image \"%s\" of %llu bytes exceeds max-image-size (%llu)", img->name,
                                           (unsigned long long) img->size, (unsigned long long) dev->max_image_size);
                if (img->slot_class && dev->slot_classes) {
                        bool known = false;
                        for (size_t c = 0; dev->slot_classes[c]; c++)
                                if (strcmp(dev->slot_classes[c], img->slot_class) == 0)
                                        known = true;
                        if (!known)
                                return sfu_err_set(err, SFU_ERR_POLICY, EPERM,
                                                   "image \"%s\" targets slot class \"%s\", which this device does not have",
                                                   img->name, img->slot_class);
                }
        }
        return 0;
}

int sfu_policy_check(const struct sfu_manifest *m, const struct sfu_policy_device *dev,
                     enum sfu_policy_verdict *ret, struct sfu_err *err) {
        char offered[SFU_VERSION_STRING_MAX], have[SFU_VERSION_STRING_MAX];
        int r, cmp_running;

        r = check_identity(m, dev, err);
        if (r < 0)
                return r;
        r = check_freshness(m, dev, err);
        if (r < 0)
                return r;
        r = check_images(m, dev, err);
        if (r < 0)
                return r;

        sfu_version_format(&m->version, offered);
        cmp_running = sfu_version_compare(&m->version, &dev->running);
        if (cmp_running == 0) {
                *ret = SFU_POLICY_UP_TO_DATE;
                return 0;
        }
        if (!dev->allow_downgrade) {
                if (cmp_running < 0)
                        return sfu_err_set(err, SFU_ERR_POLICY, EPERM,
                                           "firmwareVersion %s is older than the running %s: downgrade refused", offered,
                                           sfu_version_format(&dev->running, have));
                if (dev->has_highest && sfu_version_compare(&m->version, &dev->highest) <= 0)
                        return sfu_err_set(err, SFU_ERR_POLICY, EPERM,
                                           "firmwareVersion %s is not newer than the highest installed %s: rollback refused",
                                           offered, sfu_version_format(&dev->highest, have));
        }
        /* Whatever version order allows: nothing below the floor. */
        if (dev->has_floor && sfu_version_compare(&m->version, &dev->floor) < 0)
                return sfu_err_set(err, SFU_ERR_POLICY, EPERM,
                                   "firmwareVersion %s is below the anti-rollback floor %s: refused (no option "
                                   "lowers the floor)",
                                   offered, sfu_version_format(&dev->floor, have));
        *ret = SFU_POLICY_INSTALL;
        return 0;
}

/* ---------------------------------------------------------------- the install decision */

int sfu_policy_check_provider(const struct sfu_manifest *pm, const struct sfu_manifest_provider *p,
                              const struct sfu_policy_device *dev, const struct sfu_state_component *comp,
                              struct sfu_err *err) {
        struct sfu_policy_device d = *dev;
        char offered[SFU_VERSION_STRING_MAX], have[SFU_VERSION_STRING_MAX];
        const struct sfu_manifest_image *img = &pm->images[0];
        int r;

        /* The component's own newest, not the set's, is what a replay is
         * measured against. */
        d.has_newest_timestamp = comp != NULL;
        d.newest_timestamp = comp ? comp->timestamp : 0;
        r = check_identity(pm, &d, err);
        if (r >= 0)
                r = check_freshness(pm, &d, err);
        if (r >= 0)
                r = check_images(pm, &d, err);
        if (r < 0)
                return r;
        if (pm->n_images != 1 || !sfu_streq(img->name, p->name) || !sfu_streq(img->slot_class, p->slot_class))
                return sfu_err_set(err, SFU_ERR_POLICY, EPERM,
                                   "the provider manifest must carry the one image \"%.64s\" of slot class %.64s, "
                                   "it carries %zu (the first \"%.64s\", class %.64s)",
                                   p->name, p->slot_class, pm->n_images, img->name,
                                   img->slot_class ? img->slot_class : "of the running system");
        if (pm->new_keys || pm->n_revoked_kids > 0)
                return sfu_err_set(err, SFU_ERR_POLICY, EPERM,
                                   "a provider manifest may not announce or revoke keys (keyInfo)");
        sfu_version_format(&pm->version, offered);
        if (p->has_min_version && sfu_version_compare(&pm->version, &p->min_version) < 0)
                return sfu_err_set(err, SFU_ERR_POLICY, EPERM,
                                   "the provider's firmwareVersion %s is below the minVersion %s its entry asks",
                                   offered, sfu_version_format(&p->min_version, have));
        if (comp && sfu_version_compare(&pm->version, &comp->version) < 0)
                return sfu_err_set(err, SFU_ERR_POLICY, EPERM,
                                   "the provider's firmwareVersion %s is older than %s, accepted before for \"%.64s\": "
                                   "replay refused",
                                   offered, sfu_version_format(&comp->version, have), p->name);
        return 0;
}

int sfu_policy_job_allowed(enum sfu_policy_job job, const struct sfu_state *state, bool state_unusable,
                           const char *state_problem, struct sfu_err *err) {
        if (state_unusable)
                return sfu_err_set(err, SFU_ERR_STATE, EBADMSG, "%s", state_problem);
        if (job == SFU_POLICY_JOB_APPLY && state->state == SFU_STATE_TRIAL)
                return sfu_err_set(err, SFU_ERR_STATE, EBUSY,
                                   "slot %s is on trial: confirm it (mark-good) or reject it (mark-bad) first",
                                   state->trial_bootname);
        return 0;
}

bool sfu_policy_state_sticky(enum sfu_install_state st) {
        return st == SFU_STATE_TRIAL || st == SFU_STATE_ROLLED_BACK;
}

enum sfu_install_state sfu_policy_state_before(enum sfu_install_state st) {
        return st == SFU_STATE_CHECKING || st == SFU_STATE_DOWNLOADING ? SFU_STATE_IDLE : st;
}

enum sfu_install_state sfu_policy_state_after_check_error(enum sfu_install_state before) {
        /* "available" would claim what the failed check could not see. */
        return before == SFU_STATE_AVAILABLE ? SFU_STATE_IDLE : before;
}

/* The version offered waits in the slot of the pending trial already. */
static bool staged_already(const struct sfu_policy_situation *s) {
        const struct sfu_state *st = s->state;
        const struct sfu_state_slot *trial;

        if (s->before != SFU_STATE_STAGED || !st->has_newest_seen || !st->trial_bootname[0])
                return false;
        trial = sfu_state_slot((struct sfu_state *) st, st->trial_bootname);
        return trial && trial->has_version && sfu_version_compare(&trial->version, &s->offered) == 0;
}

void sfu_policy_decide(const struct sfu_policy_situation *s, struct sfu_policy_decision *ret) {
        const struct sfu_state *st = s->state;
        bool sticky = sfu_policy_state_sticky(s->before);
        bool rejected = st->has_rejected && sfu_version_compare(&st->rejected, &s->offered) == 0;

        *ret = (struct sfu_policy_decision) { .why = "" };
        if (s->verdict == SFU_POLICY_UP_TO_DATE) {
                ret->action = SFU_POLICY_ACTION_UP_TO_DATE;
                ret->keep_state = sticky;
                ret->next = s->before == SFU_STATE_STAGED ? SFU_STATE_STAGED : SFU_STATE_IDLE;
                return;
        }
        ret->already_staged = staged_already(s);
        ret->why = ret->already_staged ? " (already staged)"
                   : rejected          ? "; it failed its trial boot here, so only an explicit apply installs it"
                                       : "";
        /* A poll during a trial boot only looks: staging would overwrite
         * the slot the trial falls back to. */
        bool go = s->job == SFU_POLICY_JOB_APPLY ||
                  (s->job == SFU_POLICY_JOB_POLL && s->poll_policy != SFU_CONFIG_POLL_CHECK &&
                   s->before != SFU_STATE_TRIAL && !rejected);
        if (go && !ret->already_staged) {
                ret->action = SFU_POLICY_ACTION_STAGE;
                return;
        }
        ret->action = SFU_POLICY_ACTION_REPORT;
        ret->keep_state = sticky;
        ret->next = ret->already_staged ? SFU_STATE_STAGED : SFU_STATE_AVAILABLE;
}

uint64_t sfu_policy_resume_offset(const struct sfu_state *state, const char *manifest_sha256, const char *image,
                                  const char *bootname, const char *url, uint64_t max) {
        /* The bytes already in the slot came from url: the same signed
         * manifest served by another server (a local cache, then the
         * manufacturer) starts over rather than build on them. */
        if (!state->has_resume || strcmp(state->resume_manifest_sha256, manifest_sha256) != 0 ||
            strcmp(state->resume_image, image) != 0 || strcmp(state->resume_bootname, bootname) != 0 ||
            strcmp(state->resume_url, url) != 0 || state->resume_offset > max)
                return 0;
        return state->resume_offset;
}

const struct sfu_state_hold *sfu_policy_offer_held(const struct sfu_state *state, const char *manifest_sha256,
                                                   int64_t now) {
        for (size_t i = 0; i < state->n_holds; i++)
                if (strcmp(state->holds[i].manifest_sha256, manifest_sha256) == 0)
                        return now < state->holds[i].until ? &state->holds[i] : NULL;
        return NULL;
}

const struct sfu_state_hold *sfu_policy_hold_offer(struct sfu_state *state, const char *manifest_sha256, int64_t now) {
        struct sfu_state_hold *hold = NULL;
        int64_t hold_sec;

        for (size_t i = 0; i < state->n_holds; i++)
                if (strcmp(state->holds[i].manifest_sha256, manifest_sha256) == 0)
                        hold = &state->holds[i];
        if (!hold) {
                /* A new offer: the table drops the one whose hold ends first. */
                if (state->n_holds < SFU_STATE_MAX_HOLDS)
                        hold = &state->holds[state->n_holds++];
                else {
                        hold = &state->holds[0];
                        for (size_t i = 1; i < state->n_holds; i++)
                                if (state->holds[i].until < hold->until)
                                        hold = &state->holds[i];
                }
                *hold = (struct sfu_state_hold) {};
                snprintf(hold->manifest_sha256, sizeof(hold->manifest_sha256), "%s", manifest_sha256);
        }
        if (hold->failures < 64)
                hold->failures++;
        hold_sec = SFU_POLICY_HOLD_BASE_SEC;
        for (unsigned i = 1; i < hold->failures && hold_sec < SFU_POLICY_HOLD_MAX_SEC; i++)
                hold_sec *= 2;
        if (hold_sec > SFU_POLICY_HOLD_MAX_SEC)
                hold_sec = SFU_POLICY_HOLD_MAX_SEC;
        hold->until = now > SFU_TIME_MAX - hold_sec ? SFU_TIME_MAX : now + hold_sec;
        return hold;
}
