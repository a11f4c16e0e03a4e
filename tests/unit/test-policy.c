/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "core/policy.h"
#include "core/timeutil.h"
#include "tap.h"

static struct sfu_manifest *manifest(const char *manufacturer, const char *model, struct sfu_version v, int64_t ts) {
        struct sfu_manifest *m = calloc(1, sizeof(*m));
        m->manufacturer = strdup(manufacturer);
        m->model = strdup(model);
        m->version = v;
        m->timestamp = ts;
        m->n_images = 1;
        m->images[0].name = strdup("firmware");
        m->images[0].location = strdup("fw.img");
        m->images[0].has_size = true;
        m->images[0].size = 1024;
        return m;
}

static struct sfu_policy_device device(void) {
        return (struct sfu_policy_device) {
                .manufacturer = "example.com",
                .model = "gw100",
                .running = { 1, 0, 0 },
                .max_image_size = 1u << 30,
                .now = 1795000000,
        };
}

static int check(struct sfu_manifest *m, const struct sfu_policy_device *dev, enum sfu_policy_verdict *v,
                 struct sfu_err *err) {
        sfu_err_clear(err);
        return sfu_policy_check(m, dev, v, err);
}

static void test_check(void) {
        struct sfu_policy_device dev = device();
        struct sfu_err err = SFU_ERR_INIT;
        enum sfu_policy_verdict v;
        struct sfu_manifest *m;

        m = manifest("example.com", "gw100", (struct sfu_version) { 1, 1, 0 }, 1794000000);
        ok(check(m, &dev, &v, &err) == 0 && v == SFU_POLICY_INSTALL, "newer version: install");

        m->version = (struct sfu_version) { 1, 0, 0 };
        ok(check(m, &dev, &v, &err) == 0 && v == SFU_POLICY_UP_TO_DATE, "same version: up to date");

        m->version = (struct sfu_version) { 0, 9, 9 };
        ok(check(m, &dev, &v, &err) < 0 && err.code == SFU_ERR_POLICY && strstr(err.message, "downgrade"),
           "older version refused: %s", err.message);
        dev.allow_downgrade = true;
        ok(check(m, &dev, &v, &err) == 0 && v == SFU_POLICY_INSTALL, "older version with allow-downgrade");
        dev.allow_downgrade = false;

        /* numeric, not textual, comparison */
        m->version = (struct sfu_version) { 1, 0, 10 };
        dev.running = (struct sfu_version) { 1, 0, 9 };
        ok(check(m, &dev, &v, &err) == 0 && v == SFU_POLICY_INSTALL, "1.0.10 is newer than 1.0.9");
        dev.running = (struct sfu_version) { 1, 0, 0 };

        /* anti-rollback floor */
        dev.has_highest = true;
        dev.highest = (struct sfu_version) { 1, 2, 0 };
        m->version = (struct sfu_version) { 1, 1, 0 };
        ok(check(m, &dev, &v, &err) < 0 && strstr(err.message, "highest installed"),
           "newer than running but below the highest installed: refused (%s)", err.message);
        m->version = (struct sfu_version) { 1, 2, 0 };
        ok(check(m, &dev, &v, &err) < 0, "equal to the highest installed: refused");
        m->version = (struct sfu_version) { 1, 3, 0 };
        ok(check(m, &dev, &v, &err) == 0 && v == SFU_POLICY_INSTALL, "above the highest: install");
        dev.has_highest = false;

        /* identity, byte for byte */
        free(m->model);
        m->model = strdup("gw101");
        ok(check(m, &dev, &v, &err) < 0 && strstr(err.message, "model \"gw101\""), "wrong model refused");
        free(m->model);
        m->model = strdup("gw\xd0\xbe" "100"); /* Cyrillic o */
        ok(check(m, &dev, &v, &err) < 0 && err.code == SFU_ERR_POLICY, "look-alike model refused");
        free(m->model);
        m->model = strdup("gw100");
        free(m->manufacturer);
        m->manufacturer = strdup("Example.com");
        ok(check(m, &dev, &v, &err) < 0 && strstr(err.message, "manufacturer"), "manufacturer case differs: refused");
        free(m->manufacturer);
        m->manufacturer = strdup("example.com");

        /* replay */
        dev.has_newest_timestamp = true;
        dev.newest_timestamp = 1794500000;
        ok(check(m, &dev, &v, &err) < 0 && strstr(err.message, "replay"), "older timestamp refused: %s",
           err.message);
        dev.newest_timestamp = 1794000000;
        ok(check(m, &dev, &v, &err) == 0, "equal timestamp accepted (same manifest again)");
        dev.has_newest_timestamp = false;

        /* expiry against the device clock, both ways */
        m->has_expires = true;
        m->expires = dev.now - 1;
        ok(check(m, &dev, &v, &err) < 0 && strstr(err.message, "expired"), "expired refused: %s", err.message);
        m->expires = dev.now + 3600;
        ok(check(m, &dev, &v, &err) == 0, "not yet expired accepted");
        /* a manifest from the future: refused only by a synchronised clock */
        {
                int64_t saved = m->timestamp;
                m->timestamp = dev.now + 2 * 86400;
                dev.max_skew = 86400;
                ok(check(m, &dev, &v, &err) == 0, "dated 2 days ahead, clock not synchronised: taken");
                dev.clock_synchronized = true;
                ok(check(m, &dev, &v, &err) < 0 && err.code == SFU_ERR_POLICY && strstr(err.message, "clock-skew"),
                   "dated 2 days ahead, clock synchronised: refused (%s)", err.message);
                m->timestamp = dev.now + 86400;
                ok(check(m, &dev, &v, &err) == 0, "dated exactly clock-skew ahead: taken");
                m->timestamp = SFU_TIME_MAX;
                ok(check(m, &dev, &v, &err) < 0 && strstr(err.message, "9999-12-31T23:59:59Z"),
                   "dated 9999: refused (%s)", err.message);
                dev.clock_synchronized = false;
                m->timestamp = saved;
        }
        dev.now = 4102444800; /* a clock far in the future */
        ok(check(m, &dev, &v, &err) < 0 && strstr(err.message, "expired"), "clock ahead: expired");
        dev.now = 1795000000;
        m->has_expires = false;

        /* sizes and slot classes */
        m->images[0].size = (1u << 30) + 1;
        ok(check(m, &dev, &v, &err) < 0 && err.code == SFU_ERR_SIZE, "image over max-image-size refused");
        m->images[0].size = 1024;
        const char *classes[] = { "rootfs", NULL };
        dev.slot_classes = classes;
        m->images[0].slot_class = strdup("appfs");
        ok(check(m, &dev, &v, &err) < 0 && strstr(err.message, "appfs"), "unknown slot class refused");
        free(m->images[0].slot_class);
        m->images[0].slot_class = strdup("rootfs");
        ok(check(m, &dev, &v, &err) == 0, "known slot class accepted");

        sfu_manifest_free(m);
}

/* Version order is the operator's to lift; the anti-rollback floor is not. */
static void test_floor(void) {
        struct sfu_policy_device dev = device();
        struct sfu_err err = SFU_ERR_INIT;
        enum sfu_policy_verdict v;
        struct sfu_manifest *m = manifest("example.com", "gw100", (struct sfu_version) { 0, 9, 0 }, 1794000000);

        dev.has_floor = true;
        dev.floor = (struct sfu_version) { 1, 0, 0 };
        dev.has_highest = true;
        dev.highest = (struct sfu_version) { 1, 0, 0 };
        ok(check(m, &dev, &v, &err) < 0 && strstr(err.message, "downgrade refused"),
           "below the floor and the running version: version order refuses first (%s)", err.message);
        dev.allow_downgrade = true;
        ok(check(m, &dev, &v, &err) < 0 && err.code == SFU_ERR_POLICY &&
                   strstr(err.message, "below the anti-rollback floor 1.0.0"),
           "below the floor with allow-downgrade: still refused (%s)", err.message);
        dev.floor = (struct sfu_version) { 0, 9, 0 };
        ok(check(m, &dev, &v, &err) == 0 && v == SFU_POLICY_INSTALL, "at a lowered floor with allow-downgrade: install");
        dev.allow_downgrade = false;
        ok(check(m, &dev, &v, &err) < 0 && strstr(err.message, "downgrade refused"),
           "at the floor without allow-downgrade: version order refuses (%s)", err.message);
        dev.allow_downgrade = true;
        dev.running = (struct sfu_version) { 0, 8, 0 };
        dev.floor = (struct sfu_version) { 1, 1, 0 };
        m->version = (struct sfu_version) { 0, 8, 0 };
        ok(check(m, &dev, &v, &err) == 0 && v == SFU_POLICY_UP_TO_DATE,
           "the running version below the floor is up to date, not refused");
        m->version = (struct sfu_version) { 1, 1, 0 };
        ok(check(m, &dev, &v, &err) == 0 && v == SFU_POLICY_INSTALL, "at the floor: install");
        sfu_manifest_free(m);
}

/* The install decision as a table: no I/O, no clock. */
static void test_decide(void) {
        enum { NO, YES };
        static const struct row {
                const char *what;
                enum sfu_policy_job job;
                enum sfu_config_policy poll;
                enum sfu_policy_verdict verdict;
                enum sfu_install_state before;
                int rejected;           /* 1.1.0 failed its trial here */
                int trial_holds;        /* the pending trial slot holds 1.1.0 */
                enum sfu_policy_action action;
                int keep;
                enum sfu_install_state next;
                const char *why;
        } rows[] = {
                { "poll, idle, newer", SFU_POLICY_JOB_POLL, SFU_CONFIG_POLL_STAGE, SFU_POLICY_INSTALL, SFU_STATE_IDLE, NO, NO, SFU_POLICY_ACTION_STAGE, NO, 0, "" },
                { "poll, reboot policy, newer", SFU_POLICY_JOB_POLL, SFU_CONFIG_POLL_REBOOT, SFU_POLICY_INSTALL, SFU_STATE_IDLE, NO, NO, SFU_POLICY_ACTION_STAGE, NO, 0, "" },
                { "poll, check policy, newer", SFU_POLICY_JOB_POLL, SFU_CONFIG_POLL_CHECK, SFU_POLICY_INSTALL, SFU_STATE_IDLE, NO, NO, SFU_POLICY_ACTION_REPORT, NO, SFU_STATE_AVAILABLE, "" },
                { "check, idle, newer", SFU_POLICY_JOB_CHECK, SFU_CONFIG_POLL_STAGE, SFU_POLICY_INSTALL, SFU_STATE_IDLE, NO, NO, SFU_POLICY_ACTION_REPORT, NO, SFU_STATE_AVAILABLE, "" },
                { "apply, idle, newer", SFU_POLICY_JOB_APPLY, SFU_CONFIG_POLL_CHECK, SFU_POLICY_INSTALL, SFU_STATE_IDLE, NO, NO, SFU_POLICY_ACTION_STAGE, NO, 0, "" },
                { "apply, available, newer", SFU_POLICY_JOB_APPLY, SFU_CONFIG_POLL_CHECK, SFU_POLICY_INSTALL, SFU_STATE_AVAILABLE, NO, NO, SFU_POLICY_ACTION_STAGE, NO, 0, "" },
                { "poll, available, newer", SFU_POLICY_JOB_POLL, SFU_CONFIG_POLL_STAGE, SFU_POLICY_INSTALL, SFU_STATE_AVAILABLE, NO, NO, SFU_POLICY_ACTION_STAGE, NO, 0, "" },
                { "poll, committed, newer", SFU_POLICY_JOB_POLL, SFU_CONFIG_POLL_STAGE, SFU_POLICY_INSTALL, SFU_STATE_COMMITTED, NO, NO, SFU_POLICY_ACTION_STAGE, NO, 0, "" },
                { "poll, trial, newer: only looks", SFU_POLICY_JOB_POLL, SFU_CONFIG_POLL_STAGE, SFU_POLICY_INSTALL, SFU_STATE_TRIAL, NO, NO, SFU_POLICY_ACTION_REPORT, YES, 0, "" },
                { "check, trial, newer", SFU_POLICY_JOB_CHECK, SFU_CONFIG_POLL_STAGE, SFU_POLICY_INSTALL, SFU_STATE_TRIAL, NO, NO, SFU_POLICY_ACTION_REPORT, YES, 0, "" },
                { "poll, rolled back, newer", SFU_POLICY_JOB_POLL, SFU_CONFIG_POLL_STAGE, SFU_POLICY_INSTALL, SFU_STATE_ROLLED_BACK, NO, NO, SFU_POLICY_ACTION_STAGE, NO, 0, "" },
                { "poll, rolled back, rejected version", SFU_POLICY_JOB_POLL, SFU_CONFIG_POLL_STAGE, SFU_POLICY_INSTALL, SFU_STATE_ROLLED_BACK, YES, NO, SFU_POLICY_ACTION_REPORT, YES, 0, "failed its trial boot here" },
                { "poll, idle, rejected version", SFU_POLICY_JOB_POLL, SFU_CONFIG_POLL_STAGE, SFU_POLICY_INSTALL, SFU_STATE_IDLE, YES, NO, SFU_POLICY_ACTION_REPORT, NO, SFU_STATE_AVAILABLE, "only an explicit apply installs it" },
                { "check, idle, rejected version", SFU_POLICY_JOB_CHECK, SFU_CONFIG_POLL_STAGE, SFU_POLICY_INSTALL, SFU_STATE_IDLE, YES, NO, SFU_POLICY_ACTION_REPORT, NO, SFU_STATE_AVAILABLE, "failed its trial boot here" },
                { "apply, idle, rejected version: explicit apply installs", SFU_POLICY_JOB_APPLY, SFU_CONFIG_POLL_STAGE, SFU_POLICY_INSTALL, SFU_STATE_IDLE, YES, NO, SFU_POLICY_ACTION_STAGE, NO, 0, "" },
                { "apply, rolled back, rejected version", SFU_POLICY_JOB_APPLY, SFU_CONFIG_POLL_STAGE, SFU_POLICY_INSTALL, SFU_STATE_ROLLED_BACK, YES, NO, SFU_POLICY_ACTION_STAGE, NO, 0, "" },
                { "poll, staged, same version in the trial slot", SFU_POLICY_JOB_POLL, SFU_CONFIG_POLL_STAGE, SFU_POLICY_INSTALL, SFU_STATE_STAGED, NO, YES, SFU_POLICY_ACTION_REPORT, NO, SFU_STATE_STAGED, "already staged" },
                { "apply, staged, same version in the trial slot", SFU_POLICY_JOB_APPLY, SFU_CONFIG_POLL_STAGE, SFU_POLICY_INSTALL, SFU_STATE_STAGED, NO, YES, SFU_POLICY_ACTION_REPORT, NO, SFU_STATE_STAGED, "already staged" },
                { "check, staged, same version in the trial slot", SFU_POLICY_JOB_CHECK, SFU_CONFIG_POLL_STAGE, SFU_POLICY_INSTALL, SFU_STATE_STAGED, NO, YES, SFU_POLICY_ACTION_REPORT, NO, SFU_STATE_STAGED, "already staged" },
                { "poll, staged, another version in the trial slot", SFU_POLICY_JOB_POLL, SFU_CONFIG_POLL_STAGE, SFU_POLICY_INSTALL, SFU_STATE_STAGED, NO, NO, SFU_POLICY_ACTION_STAGE, NO, 0, "" },
                { "poll, idle, trial slot holds it but nothing staged", SFU_POLICY_JOB_POLL, SFU_CONFIG_POLL_STAGE, SFU_POLICY_INSTALL, SFU_STATE_IDLE, NO, YES, SFU_POLICY_ACTION_STAGE, NO, 0, "" },
                { "poll, check policy, staged same", SFU_POLICY_JOB_POLL, SFU_CONFIG_POLL_CHECK, SFU_POLICY_INSTALL, SFU_STATE_STAGED, NO, YES, SFU_POLICY_ACTION_REPORT, NO, SFU_STATE_STAGED, "already staged" },
                { "poll, staged, rejected and staged", SFU_POLICY_JOB_POLL, SFU_CONFIG_POLL_STAGE, SFU_POLICY_INSTALL, SFU_STATE_STAGED, YES, YES, SFU_POLICY_ACTION_REPORT, NO, SFU_STATE_STAGED, "already staged" },
                { "up to date, idle", SFU_POLICY_JOB_POLL, SFU_CONFIG_POLL_STAGE, SFU_POLICY_UP_TO_DATE, SFU_STATE_IDLE, NO, NO, SFU_POLICY_ACTION_UP_TO_DATE, NO, SFU_STATE_IDLE, "" },
                { "up to date, available", SFU_POLICY_JOB_CHECK, SFU_CONFIG_POLL_STAGE, SFU_POLICY_UP_TO_DATE, SFU_STATE_AVAILABLE, NO, NO, SFU_POLICY_ACTION_UP_TO_DATE, NO, SFU_STATE_IDLE, "" },
                { "up to date, committed", SFU_POLICY_JOB_POLL, SFU_CONFIG_POLL_STAGE, SFU_POLICY_UP_TO_DATE, SFU_STATE_COMMITTED, NO, NO, SFU_POLICY_ACTION_UP_TO_DATE, NO, SFU_STATE_IDLE, "" },
                { "up to date, staged stays staged", SFU_POLICY_JOB_POLL, SFU_CONFIG_POLL_STAGE, SFU_POLICY_UP_TO_DATE, SFU_STATE_STAGED, NO, NO, SFU_POLICY_ACTION_UP_TO_DATE, NO, SFU_STATE_STAGED, "" },
                { "up to date, trial stays", SFU_POLICY_JOB_POLL, SFU_CONFIG_POLL_STAGE, SFU_POLICY_UP_TO_DATE, SFU_STATE_TRIAL, NO, NO, SFU_POLICY_ACTION_UP_TO_DATE, YES, 0, "" },
                { "up to date, rolled back stays", SFU_POLICY_JOB_CHECK, SFU_CONFIG_POLL_STAGE, SFU_POLICY_UP_TO_DATE, SFU_STATE_ROLLED_BACK, NO, NO, SFU_POLICY_ACTION_UP_TO_DATE, YES, 0, "" },
                { "up to date, apply", SFU_POLICY_JOB_APPLY, SFU_CONFIG_POLL_STAGE, SFU_POLICY_UP_TO_DATE, SFU_STATE_IDLE, NO, NO, SFU_POLICY_ACTION_UP_TO_DATE, NO, SFU_STATE_IDLE, "" },
                { "check, rolled back, newer", SFU_POLICY_JOB_CHECK, SFU_CONFIG_POLL_STAGE, SFU_POLICY_INSTALL, SFU_STATE_ROLLED_BACK, NO, NO, SFU_POLICY_ACTION_REPORT, YES, 0, "" },
                { "poll, check policy, rolled back", SFU_POLICY_JOB_POLL, SFU_CONFIG_POLL_CHECK, SFU_POLICY_INSTALL, SFU_STATE_ROLLED_BACK, NO, NO, SFU_POLICY_ACTION_REPORT, YES, 0, "" },
                { "check, committed, newer", SFU_POLICY_JOB_CHECK, SFU_CONFIG_POLL_STAGE, SFU_POLICY_INSTALL, SFU_STATE_COMMITTED, NO, NO, SFU_POLICY_ACTION_REPORT, NO, SFU_STATE_AVAILABLE, "" },
                { "poll, check policy, committed", SFU_POLICY_JOB_POLL, SFU_CONFIG_POLL_CHECK, SFU_POLICY_INSTALL, SFU_STATE_COMMITTED, NO, NO, SFU_POLICY_ACTION_REPORT, NO, SFU_STATE_AVAILABLE, "" },
        };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                const struct row *r = &rows[i];
                struct sfu_state st;
                struct sfu_policy_decision d;
                struct sfu_state_slot *b;

                sfu_state_init(&st);
                st.state = SFU_STATE_CHECKING; /* what a running job shows */
                st.has_newest_seen = true;
                st.newest_seen = (struct sfu_version) { 1, 1, 0 };
                if (r->rejected) {
                        st.has_rejected = true;
                        st.rejected = (struct sfu_version) { 1, 1, 0 };
                }
                b = sfu_state_slot_ensure(&st, "B");
                b->has_version = true;
                b->version = r->trial_holds ? (struct sfu_version) { 1, 1, 0 } : (struct sfu_version) { 1, 0, 5 };
                b->health = SFU_HEALTH_STAGED;
                snprintf(st.trial_bootname, sizeof(st.trial_bootname), "B");
                sfu_policy_decide(&(struct sfu_policy_situation) { .job = r->job,
                                                                  .poll_policy = r->poll,
                                                                  .verdict = r->verdict,
                                                                  .offered = { 1, 1, 0 },
                                                                  .before = r->before,
                                                                  .state = &st },
                                  &d);
                ok(d.action == r->action && d.keep_state == (r->keep == YES) &&
                           (r->keep == YES || d.action == SFU_POLICY_ACTION_STAGE || d.next == r->next) &&
                           strstr(d.why, r->why),
                   "decide: %s (action %d keep %d next %s why \"%s\")", r->what, d.action, d.keep_state,
                   sfu_state_install_name(d.next), d.why);
        }
}

static void test_states(void) {
        struct sfu_state st;
        struct sfu_err err = SFU_ERR_INIT;

        sfu_state_init(&st);
        ok(sfu_policy_state_before(SFU_STATE_CHECKING) == SFU_STATE_IDLE &&
                   sfu_policy_state_before(SFU_STATE_DOWNLOADING) == SFU_STATE_IDLE &&
                   sfu_policy_state_before(SFU_STATE_STAGED) == SFU_STATE_STAGED,
           "an interrupted check or download starts from idle");
        ok(sfu_policy_state_after_check_error(SFU_STATE_AVAILABLE) == SFU_STATE_IDLE &&
                   sfu_policy_state_after_check_error(SFU_STATE_TRIAL) == SFU_STATE_TRIAL,
           "a failed check clears available, keeps the rest");
        ok(sfu_policy_job_allowed(SFU_POLICY_JOB_POLL, &st, true, "state.json: broken", &err) < 0 &&
                   err.code == SFU_ERR_STATE && strstr(err.message, "broken"),
           "an unusable state refuses every job");
        sfu_err_clear(&err);
        st.state = SFU_STATE_TRIAL;
        snprintf(st.trial_bootname, sizeof(st.trial_bootname), "B");
        ok(sfu_policy_job_allowed(SFU_POLICY_JOB_APPLY, &st, false, "", &err) < 0 && strstr(err.message, "slot B is on trial"),
           "apply during a trial: refused (%s)", err.message);
        ok(sfu_policy_job_allowed(SFU_POLICY_JOB_POLL, &st, false, "", &err) == 0 &&
                   sfu_policy_job_allowed(SFU_POLICY_JOB_CHECK, &st, false, "", &err) == 0,
           "poll and check during a trial: allowed");
}

static void test_resume(void) {
        struct sfu_state st;

        sfu_state_init(&st);
        ok(sfu_policy_resume_offset(&st, "abc", "firmware", "B", "http://a/fw", 1000) == 0, "no record: from the start");
        st.has_resume = true;
        snprintf(st.resume_manifest_sha256, sizeof(st.resume_manifest_sha256), "abc");
        snprintf(st.resume_image, sizeof(st.resume_image), "firmware");
        snprintf(st.resume_bootname, sizeof(st.resume_bootname), "B");
        snprintf(st.resume_url, sizeof(st.resume_url), "http://a/fw");
        st.resume_offset = 512;
        ok(sfu_policy_resume_offset(&st, "abc", "firmware", "B", "http://a/fw", 1000) == 512,
           "the same manifest, image, slot, URL: resume");
        ok(sfu_policy_resume_offset(&st, "abd", "firmware", "B", "http://a/fw", 1000) == 0, "another manifest: from the start");
        ok(sfu_policy_resume_offset(&st, "abc", "rootfs", "B", "http://a/fw", 1000) == 0, "another image: from the start");
        ok(sfu_policy_resume_offset(&st, "abc", "firmware", "A", "http://a/fw", 1000) == 0, "another slot: from the start");
        ok(sfu_policy_resume_offset(&st, "abc", "firmware", "B", "http://b/fw", 1000) == 0,
           "the same manifest from another server: from the start");
        ok(sfu_policy_resume_offset(&st, "abc", "firmware", "B", "http://a/fw", 500) == 0, "beyond the image: from the start");
}

static void test_holds(void) {
        struct sfu_state st;
        const struct sfu_state_hold *h;
        const int64_t t0 = 1795000000;

        sfu_state_init(&st);
        ok(!sfu_policy_offer_held(&st, "aa", t0), "nothing held at first");
        h = sfu_policy_hold_offer(&st, "aa", t0);
        ok(h && h->failures == 1 && h->until == t0 + SFU_POLICY_HOLD_BASE_SEC, "first failure: held for the base time");
        ok(sfu_policy_offer_held(&st, "aa", t0 + SFU_POLICY_HOLD_BASE_SEC - 1), "held until just before the end");
        ok(!sfu_policy_offer_held(&st, "aa", t0 + SFU_POLICY_HOLD_BASE_SEC), "free again at the end");
        ok(!sfu_policy_offer_held(&st, "bb", t0), "another offer is not held");
        h = sfu_policy_hold_offer(&st, "aa", t0 + 10000);
        ok(h && h->failures == 2 && h->until == t0 + 10000 + 2 * SFU_POLICY_HOLD_BASE_SEC, "second failure: twice as long");
        for (int i = 0; i < 20; i++)
                h = sfu_policy_hold_offer(&st, "aa", t0);
        ok(h && h->until == t0 + SFU_POLICY_HOLD_MAX_SEC, "many failures: held for the maximum");
        for (int i = 0; i < SFU_STATE_MAX_HOLDS + 2; i++) {
                char sha[8];
                snprintf(sha, sizeof(sha), "x%d", i);
                (void) sfu_policy_hold_offer(&st, sha, t0 + i);
        }
        ok(st.n_holds == SFU_STATE_MAX_HOLDS, "the table stays bounded (%zu)", st.n_holds);
        ok(sfu_policy_offer_held(&st, "aa", t0 + 1), "the longest hold is kept");
        h = sfu_policy_hold_offer(&st, "yy", SFU_TIME_MAX - 10);
        ok(h && h->until == SFU_TIME_MAX, "a hold never ends beyond the largest time");
}

int main(void) {
        test_check();
        test_floor();
        test_decide();
        test_states();
        test_resume();
        test_holds();
        return tap_done();
}
