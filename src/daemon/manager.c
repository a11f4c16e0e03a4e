/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdarg.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "daemon/log.h"
#include "daemon/manager-internal.h"
#include "io/fileio.h"

uint64_t manager_now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

int64_t manager_wallclock(void) {
        return (int64_t) time(NULL);
}

const struct sfu_config *sfu_manager_config(const struct sfu_manager *m) {
        return m->config;
}

/* ---------------------------------------------------------------- state file */

static int state_path(const struct sfu_manager *m, char *buf, size_t size) {
        int n = snprintf(buf, size, "%s/%s", m->config->state_dir, SFU_STATE_FILE);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

int manager_save_state_locked(struct sfu_manager *m, struct sfu_err *err) {
        _cleanup_free_ char *text = NULL;
        char path[4096];
        int r;

        if (m->state_unusable)
                return sfu_err_set(err, SFU_ERR_STATE, EBADMSG, "state file is unusable, not overwriting it: %s",
                                   m->state_problem);
        r = state_path(m, path, sizeof(path));
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "state-dir path too long");
        r = sfu_mkdir_p(m->config->state_dir, 0700);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot create %s: %s", m->config->state_dir,
                                   strerror(-r));
        r = sfu_state_to_json(&m->state, &text);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot serialise the state");
        if (m->saved_state && strcmp(m->saved_state, text) == 0)
                return 0; /* unchanged: no write, no fsync */
        r = sfu_file_write_atomic(path, text, strlen(text), 0600, err);
        if (r < 0)
                return r;
        free(m->saved_state);
        m->saved_state = TAKE_PTR(text);
        return 0;
}

static void load_state(struct sfu_manager *m) {
        _cleanup_free_ char *text = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        char path[4096];
        size_t len;
        int r;

        sfu_state_init(&m->state);
        if (state_path(m, path, sizeof(path)) < 0) {
                m->state_unusable = true;
                snprintf(m->state_problem, sizeof(m->state_problem), "state-dir path too long");
                return;
        }
        r = sfu_file_read(path, SFU_STATE_MAX_SIZE, SFU_READ_NOFOLLOW | SFU_READ_PRIVATE, &text, &len, &err);
        if (r == -ENOENT)
                return; /* first start: nothing recorded yet */
        if (r >= 0)
                r = sfu_state_from_json(text, len, &m->state, &err);
        if (r >= 0)
                m->saved_state = TAKE_PTR(text);
        if (r < 0) {
                sfu_state_init(&m->state);
                m->state_unusable = true;
                snprintf(m->state_problem, sizeof(m->state_problem),
                         "%s: %s; installs are refused until it is repaired or removed", path,
                         err.message[0] ? err.message : strerror(-r));
        }
}

/* ---------------------------------------------------------------- events */

void manager_notify(struct sfu_manager *m, unsigned what) {
        uint64_t one = 1;
        /* Called with or without the lock; pending_events is atomic enough
         * under the lock, and the eventfd write is async-safe. */
        __atomic_fetch_or(&m->pending_events, what, __ATOMIC_SEQ_CST);
        if (m->notify_fd >= 0 && write(m->notify_fd, &one, sizeof(one)) < 0) {
                /* EAGAIN: the counter is saturated, the loop will wake anyway. */
        }
}

static void emit(struct sfu_manager *m, const char *kind) {
        _cleanup_json_ json_t *status = NULL;
        if (m->n_subscribers == 0 || sfu_manager_status(m, &status) < 0)
                return;
        /* Subscribers may unsubscribe themselves from inside the callback. */
        for (size_t i = 0; i < m->n_subscribers; i++) {
                unsigned id = m->subscribers[i].id;
                m->subscribers[i].fn(m, kind, status, m->subscribers[i].userdata);
                if (i < m->n_subscribers && m->subscribers[i].id != id)
                        i--;
        }
}

static void finish_job(struct sfu_manager *m) {
        sfu_job_done_fn done = m->job_done;
        void *userdata = m->job_userdata;
        json_t *result = m->job_result;
        struct sfu_err err = m->job_err;
        int r = m->job_r;

        if (m->worker_joinable) {
                pthread_join(m->worker, NULL);
                m->worker_joinable = false;
        }
        m->job_result = NULL;
        m->job_done = NULL;
        m->job_finished = false;
        free(m->job_source);
        m->job_source = NULL;
        atomic_store(&m->busy, false);
        if (done)
                done(m, r, &err, result, userdata);
        json_decref(result);
}

static int on_notify(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct sfu_manager *m = userdata;
        uint64_t count;
        unsigned what;

        if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
                return 0;
        what = __atomic_exchange_n(&m->pending_events, 0, __ATOMIC_SEQ_CST);
        if (what & MANAGER_EVENT_STATE)
                emit(m, "state");
        else if (what & MANAGER_EVENT_PROGRESS)
                emit(m, "progress");
        pthread_mutex_lock(&m->lock);
        bool finished = m->job_finished;
        pthread_mutex_unlock(&m->lock);
        if (finished)
                finish_job(m);
        return 0;
}

int sfu_manager_subscribe(struct sfu_manager *m, sfu_event_fn fn, void *userdata, unsigned *ret_id) {
        if (m->n_subscribers >= SFU_MANAGER_MAX_SUBSCRIBERS)
                return -EMFILE;
        m->subscribers[m->n_subscribers] = (struct subscriber) { ++m->next_subscriber_id, fn, userdata };
        *ret_id = m->subscribers[m->n_subscribers++].id;
        return 0;
}

void sfu_manager_unsubscribe(struct sfu_manager *m, unsigned id) {
        for (size_t i = 0; i < m->n_subscribers; i++)
                if (m->subscribers[i].id == id) {
                        memmove(&m->subscribers[i], &m->subscribers[i + 1],
                                (m->n_subscribers - i - 1) * sizeof(m->subscribers[0]));
                        m->n_subscribers--;
                        return;
                }
}

/* ---------------------------------------------------------------- state changes */

/* Sets state and reason, saves when save is true (err gets why not). */
static int set_state_v(struct sfu_manager *m, bool save, struct sfu_err *err, enum sfu_install_state st,
                       const char *fmt, va_list ap) {
        int r = 0;

        pthread_mutex_lock(&m->lock);
        m->state.state = st;
        vsnprintf(m->state.reason, sizeof(m->state.reason), fmt, ap);
        if (save)
                r = manager_save_state_locked(m, err);
        pthread_mutex_unlock(&m->lock);
        manager_notify(m, MANAGER_EVENT_STATE);
        return r;
}

void manager_set_state(struct sfu_manager *m, enum sfu_install_state st, const char *fmt, ...) {
        struct sfu_err err = SFU_ERR_INIT;
        va_list ap;

        /* "checking" is not worth a disk write: after a crash it would be
         * reconciled to idle anyway. */
        va_start(ap, fmt);
        if (set_state_v(m, st != SFU_STATE_CHECKING && !m->state_unusable, &err, st, fmt, ap) < 0)
                log_warning("cannot save state: %s", err.message);
        va_end(ap);
}

int manager_set_state_checked(struct sfu_manager *m, struct sfu_err *err, enum sfu_install_state st,
                              const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = set_state_v(m, true, err, st, fmt, ap);
        va_end(ap);
        return r;
}

void manager_progress_begin(struct sfu_manager *m, const char *phase, const char *image, uint64_t done,
                            uint64_t total) {
        pthread_mutex_lock(&m->lock);
        m->progress.active = true;
        snprintf(m->progress.phase, sizeof(m->progress.phase), "%s", phase);
        snprintf(m->progress.image, sizeof(m->progress.image), "%s", image ? image : "");
        m->progress.done = done;
        m->progress.total = total;
        m->progress.rate = 0;
        m->progress.started_usec = manager_now_usec();
        pthread_mutex_unlock(&m->lock);
        manager_notify(m, MANAGER_EVENT_PROGRESS);
}

void manager_progress_update(struct sfu_manager *m, uint64_t done) {
        static const uint64_t min_interval_usec = 200000;
        static __thread uint64_t last_notify;
        uint64_t now = manager_now_usec();

        pthread_mutex_lock(&m->lock);
        uint64_t elapsed = now - m->progress.started_usec;
        uint64_t base = m->progress.done;
        m->progress.done = done;
        if (elapsed > 0 && done >= base)
                m->progress.rate = (double) done * 1e6 / (double) elapsed;
        pthread_mutex_unlock(&m->lock);
        if (now - last_notify >= min_interval_usec) {
                last_notify = now;
                manager_notify(m, MANAGER_EVENT_PROGRESS);
        }
}

void manager_progress_end(struct sfu_manager *m) {
        pthread_mutex_lock(&m->lock);
        m->progress.active = false;
        pthread_mutex_unlock(&m->lock);
        manager_notify(m, MANAGER_EVENT_PROGRESS);
}

int manager_refresh_primary(struct sfu_manager *m) {
        _cleanup_free_ char *primary = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        int r = sfu_bootloader_get_primary(m->boot, &primary, &err);

        pthread_mutex_lock(&m->lock);
        snprintf(m->primary, sizeof(m->primary), "%s", r >= 0 && primary ? primary : "");
        pthread_mutex_unlock(&m->lock);
        return r;
}

/* ---------------------------------------------------------------- start-up */

static const struct sfu_config_slot *config_slot(const struct sfu_config *c, const char *bootname) {
        for (size_t i = 0; i < c->n_slots; i++)
                if (sfu_streq(c->slots[i].bootname, bootname))
                        return &c->slots[i];
        return NULL;
}

static void read_running_version(struct sfu_manager *m) {
        _cleanup_free_ char *text = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        size_t len;

        m->has_running = false;
        if (sfu_file_read(m->config->version_file, 256, 0, &text, &len, &err) < 0)
                return;
        text[strcspn(text, "\r\n")] = 0;
        m->has_running = sfu_version_parse(text, &m->running) >= 0;
}

/* What booted, compared with what we asked the bootloader to try. */
static void reconcile_boot(struct sfu_manager *m) {
        struct sfu_state *s = &m->state;

        for (size_t i = 0; i < m->config->n_slots; i++)
                (void) sfu_state_slot_ensure(s, m->config->slots[i].bootname);

        if (m->booted) {
                struct sfu_state_slot *booted = sfu_state_slot(s, m->booted);
                if (booted && m->has_running) {
                        booted->has_version = true;
                        booted->version = m->running;
                }
                if (booted && booted->health != SFU_HEALTH_TRIAL)
                        booted->health = SFU_HEALTH_GOOD;
                /* What runs and is not on trial is installed: the first
                 * anti-rollback floor. */
                if (m->has_running && !s->has_highest && !sfu_streq(s->trial_bootname, m->booted)) {
                        s->has_highest = true;
                        s->highest = m->running;
                }
        }

        if (s->trial_bootname[0] && m->booted) {
                struct sfu_state_slot *trial = sfu_state_slot(s, s->trial_bootname);
                bool fell_back = true;
                if (strcmp(s->trial_bootname, m->booted) == 0) {
                        fell_back = false;
                        if (trial)
                                trial->health = SFU_HEALTH_TRIAL;
                        s->state = SFU_STATE_TRIAL;
                        snprintf(s->reason, sizeof(s->reason),
                                 "running slot %s on trial; confirm with mark-good or reject with mark-bad",
                                 m->booted);
                } else if (s->state == SFU_STATE_STAGED && s->trial_previous[0] &&
                           strcmp(s->trial_previous, m->booted) == 0 && trial && trial->health == SFU_HEALTH_STAGED) {
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
                        if (sfu_bootloader_get_first(m->boot, &first, &boot_err) >= 0 &&
                            !sfu_streq(first, s->trial_bootname)) {
                                trial->health = SFU_HEALTH_BAD;
                                s->state = SFU_STATE_IDLE;
                                snprintf(s->reason, sizeof(s->reason),
                                         "the switch to slot %s did not complete; it will be staged again",
                                         s->trial_bootname);
                                s->trial_bootname[0] = s->trial_previous[0] = 0;
                        } else if (first && sfu_bootloader_get_slot_state(m->boot, s->trial_bootname, &trial_env,
                                                                         &boot_err) >= 0 &&
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
                        if (sfu_bootloader_mark_bad(m->boot, s->trial_bootname, &boot_err) < 0 ||
                            sfu_bootloader_mark_good(m->boot, m->booted, &boot_err) < 0)
                                log_warning("cannot update the bootloader after the fall-back: %s", boot_err.message);
                        s->state = SFU_STATE_ROLLED_BACK;
                        snprintf(s->reason, sizeof(s->reason),
                                 "trial boot of slot %s failed: the bootloader fell back to slot %s",
                                 s->trial_bootname, m->booted);
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
                if (!config_slot(m->config, s->slots[i].bootname))
                        continue;
                if (sfu_bootloader_get_slot_state(m->boot, s->slots[i].bootname, &bs, &err) < 0)
                        continue;
                if (!bs.good && s->slots[i].health == SFU_HEALTH_GOOD &&
                    !sfu_streq(s->slots[i].bootname, m->booted))
                        s->slots[i].health = SFU_HEALTH_BAD;
        }
}

int sfu_manager_new(struct sfu_config *config, sd_event *event, struct sfu_manager **ret, struct sfu_err *err) {
        struct sfu_manager *m;
        struct sfu_err boot_err = SFU_ERR_INIT;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->config = config;
        m->notify_fd = -1;
        pthread_mutex_init(&m->lock, NULL);

        r = sfu_bootloader_open(config, &m->boot, err);
        if (r < 0) {
                sfu_manager_free(m);
                return r;
        }
        if (sfu_bootloader_booted_slot(config->booted_slot, getenv("SFU_PROC_CMDLINE"), &m->booted, &boot_err) < 0)
                m->booted = NULL;
        if (m->booted && !sfu_config_boot_slot(config, m->booted)) {
                r = sfu_err_set(err, SFU_ERR_STATE, EINVAL, "booted slot \"%s\" is not a configured slot", m->booted);
                sfu_manager_free(m);
                return r;
        }
        read_running_version(m);
        load_state(m);
        if (!m->state_unusable) {
                reconcile_boot(m);
                struct sfu_err save_err = SFU_ERR_INIT;
                if (manager_save_state_locked(m, &save_err) < 0)
                        log_warning("cannot save state: %s", save_err.message);
        }
        (void) manager_refresh_primary(m);

        if (event) {
                m->event = sd_event_ref(event);
                m->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                if (m->notify_fd < 0 ||
                    sd_event_add_io(event, &m->notify_source, m->notify_fd, EPOLLIN, on_notify, m) < 0) {
                        r = sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot set up the event loop");
                        sfu_manager_free(m);
                        return r;
                }
        }
        *ret = m;
        return 0;
}

void sfu_manager_free(struct sfu_manager *m) {
        if (!m)
                return;
        if (atomic_load(&m->busy)) {
                int expected = MANAGER_CANCEL_RUNNING;
                (void) atomic_compare_exchange_strong(&m->cancel, &expected, MANAGER_CANCEL_REQUESTED);
                if (m->worker_joinable)
                        pthread_join(m->worker, NULL);
        }
        json_decref(m->job_result);
        free(m->job_source);
        sd_event_source_disable_unref(m->notify_source);
        if (m->notify_fd >= 0)
                close(m->notify_fd);
        sd_event_unref(m->event);
        sfu_bootloader_close(m->boot);
        free(m->booted);
        free(m->saved_state);
        pthread_mutex_destroy(&m->lock);
        free(m);
}

/* ---------------------------------------------------------------- status */

static json_t *version_or_null(bool has, const struct sfu_version *v) {
        char buf[SFU_VERSION_STRING_MAX];
        return has ? json_string(sfu_version_format(v, buf)) : json_null();
}

static json_t *time_or_null(bool has, int64_t t) {
        char buf[32];
        return has ? json_string(sfu_time_format_rfc3339(t, buf)) : json_null();
}

int sfu_manager_status(struct sfu_manager *m, json_t **ret) {
        _cleanup_json_ json_t *st = json_object();
        json_t *slots = json_array();
        const struct sfu_state *s = &m->state;
        bool has_staged = false;
        struct sfu_version staged = {};

        if (!st || !slots) {
                json_decref(slots);
                return -ENOMEM;
        }
        pthread_mutex_lock(&m->lock);
        json_object_set_new(st, "state", json_string(sfu_install_state_name(s->state)));
        json_object_set_new(st, "reason", json_string(m->state_unusable ? m->state_problem : s->reason));
        json_object_set_new(st, "stateUsable", json_boolean(!m->state_unusable));
        json_object_set_new(st, "bootedSlot", m->booted ? json_string(m->booted) : json_null());
        json_object_set_new(st, "primarySlot", m->primary[0] ? json_string(m->primary) : json_null());
        json_object_set_new(st, "runningVersion", version_or_null(m->has_running, &m->running));
        for (size_t i = 0; i < m->config->n_slots; i++) {
                const struct sfu_config_slot *cs = &m->config->slots[i];
                struct sfu_state_slot *ss = sfu_state_slot(&m->state, cs->bootname);
                json_t *slot = json_pack("{s:s,s:s,s:s,s:o,s:s,s:b}", "class", cs->class_name, "bootname",
                                         cs->bootname, "device", cs->device, "version",
                                         version_or_null(ss && ss->has_version, ss ? &ss->version : NULL),
                                         "health", sfu_slot_health_name(ss ? ss->health : SFU_HEALTH_EMPTY),
                                         "booted", sfu_streq(m->booted, cs->bootname));
                json_array_append_new(slots, slot);
                if (ss && ss->has_version && (ss->health == SFU_HEALTH_STAGED)) {
                        has_staged = true;
                        staged = ss->version;
                }
        }
        json_object_set_new(st, "slots", slots);
        json_object_set_new(st, "stagedVersion", version_or_null(has_staged, &staged));
        bool available = s->has_newest_seen && m->has_running &&
                         sfu_version_compare(&s->newest_seen, &m->running) > 0 &&
                         !(has_staged && sfu_version_compare(&staged, &s->newest_seen) == 0) &&
                         s->state != SFU_STATE_TRIAL;
        json_object_set_new(st, "availableVersion", version_or_null(available, &s->newest_seen));
        json_object_set_new(st, "highestInstalled", version_or_null(s->has_highest, &s->highest));
        json_object_set_new(st, "lastCheck", time_or_null(s->has_last_check, s->last_check));
        if (s->has_newest_seen)
                json_object_set_new(st, "newestSeen",
                                    json_pack("{s:o,s:o,s:s}", "version", version_or_null(true, &s->newest_seen),
                                              "timestamp", time_or_null(true, s->newest_seen_timestamp), "source",
                                              sfu_source_name(s->newest_seen_source)));
        else
                json_object_set_new(st, "newestSeen", json_null());
        if (m->progress.active)
                json_object_set_new(st, "progress",
                                    json_pack("{s:s,s:s,s:I,s:I,s:f}", "phase", m->progress.phase, "image",
                                              m->progress.image, "done", (json_int_t) m->progress.done, "total",
                                              (json_int_t) m->progress.total, "rate", m->progress.rate));
        else
                json_object_set_new(st, "progress", json_null());
        if (m->state_unusable)
                json_object_set_new(st, "lastError",
                                    json_pack("{s:s,s:s}", "code", "state", "message", m->state_problem));
        else if (s->has_last_error)
                json_object_set_new(st, "lastError", json_pack("{s:s,s:s}", "code", s->last_error_code, "message",
                                                               s->last_error_message));
        else
                json_object_set_new(st, "lastError", json_null());
        json_object_set_new(st, "busy", json_boolean(atomic_load(&m->busy)));
        pthread_mutex_unlock(&m->lock);
        *ret = TAKE_PTR(st);
        return 0;
}

static void human_bytes(double v, char *buf, size_t size) {
        const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        size_t u = 0;
        while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024;
                u++;
        }
        snprintf(buf, size, "%.1f %s", v, units[u]);
}

void sfu_manager_status_line(struct sfu_manager *m, char *buf, size_t size) {
        pthread_mutex_lock(&m->lock);
        if (m->progress.active && m->progress.total > 0) {
                char rate[32];
                human_bytes(m->progress.rate, rate, sizeof(rate));
                snprintf(buf, size, "%c%s %s: %u%% (%s/s)", m->progress.phase[0] & ~0x20, m->progress.phase + 1,
                         m->progress.image, (unsigned) (m->progress.done * 100 / m->progress.total), rate);
        } else {
                const char *reason = m->state_unusable ? m->state_problem : m->state.reason;
                snprintf(buf, size, "%s%s%s", sfu_install_state_name(m->state.state), reason[0] ? ": " : "",
                         reason);
        }
        pthread_mutex_unlock(&m->lock);
}

/* ---------------------------------------------------------------- jobs */

static void *worker_main(void *userdata) {
        struct sfu_manager *m = userdata;
        struct sfu_err err = SFU_ERR_INIT;
        json_t *result = NULL;
        int r = sfu_install_run(m, &m->job, &result, &err);

        atomic_store(&m->job_cancelled, r < 0 && err.errnum == ECANCELED);
        pthread_mutex_lock(&m->lock);
        m->job_r = r;
        m->job_err = err;
        m->job_result = result;
        m->job_finished = true;
        pthread_mutex_unlock(&m->lock);
        manager_notify(m, MANAGER_EVENT_STATE);
        return NULL;
}

static uint64_t boottime_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_BOOTTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

bool sfu_manager_busy(struct sfu_manager *m) {
        return atomic_load(&m->busy);
}

int sfu_manager_start_job(struct sfu_manager *m, const struct sfu_job_request *req, sfu_job_done_fn done,
                          void *userdata, struct sfu_err *err) {
        bool expected = false;

        if (!atomic_compare_exchange_strong(&m->busy, &expected, true))
                return sfu_err_set(err, SFU_ERR_BUSY, EBUSY, "another operation is running");
        atomic_store(&m->cancel, MANAGER_CANCEL_RUNNING);
        atomic_store(&m->job_cancelled, false);
        if (req->kind == SFU_JOB_POLL)
                /* Counted even when the poll cannot record its lastCheck
                 * (a state file refused): no re-poll before the interval. */
                m->poll_started = boottime_usec();
        m->job = *req;
        m->job_source = sfu_strdup_or_null(req->source);
        m->job.source = m->job_source;
        m->job_done = done;
        m->job_userdata = userdata;
        m->job_err = (struct sfu_err) SFU_ERR_INIT;

        if (!m->event) {
                /* --once: no loop to come back to; run here. */
                json_t *result = NULL;
                struct sfu_err job_err = SFU_ERR_INIT;
                int r = sfu_install_run(m, &m->job, &result, &job_err);
                m->job_r = r;
                m->job_err = job_err;
                m->job_result = result;
                finish_job(m);
                return 0;
        }
        if (pthread_create(&m->worker, NULL, worker_main, m) != 0) {
                atomic_store(&m->busy, false);
                return sfu_err_set(err, SFU_ERR_STORAGE, EAGAIN, "cannot start a worker thread");
        }
        m->worker_joinable = true;
        return 0;
}

int sfu_manager_cancel(struct sfu_manager *m, struct sfu_err *err) {
        int expected = MANAGER_CANCEL_RUNNING;

        if (!atomic_load(&m->busy))
                return sfu_err_set(err, SFU_ERR_STATE, EALREADY, "no operation is running");
        if (!atomic_compare_exchange_strong(&m->cancel, &expected, MANAGER_CANCEL_REQUESTED) &&
            expected == MANAGER_CANCEL_COMMITTING)
                return sfu_err_set(err, SFU_ERR_STATE, EBUSY,
                                   "too late to cancel: the verified update is being activated (use rollback once it is staged)");
        return 0;
}

bool sfu_manager_job_cancelled(struct sfu_manager *m) {
        return atomic_load(&m->job_cancelled);
}

uint64_t sfu_manager_next_poll_usec(struct sfu_manager *m) {
        uint64_t jitter = m->config->jitter_usec ? (uint64_t) random() % m->config->jitter_usec : 0;
        int64_t since;

        pthread_mutex_lock(&m->lock);
        since = m->state.has_last_check ? manager_wallclock() - m->state.last_check : INT64_MAX / 2;
        pthread_mutex_unlock(&m->lock);
        if (since < 0)
                since = 0; /* the clock went back: count from now */
        uint64_t since_usec = (uint64_t) since >= m->config->interval_usec / 1000000u + 1
                                      ? m->config->interval_usec
                                      : (uint64_t) since * 1000000u;
        uint64_t now = boottime_usec();
        if (m->poll_started && now - m->poll_started < since_usec)
                since_usec = now - m->poll_started;
        if (since_usec >= m->config->interval_usec)
                return jitter;
        return m->config->interval_usec - since_usec + jitter;
}

/* ---------------------------------------------------------------- short operations */

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

static int refuse_if_unusable(struct sfu_manager *m, struct sfu_err *err) {
        if (m->state_unusable)
                return sfu_err_set(err, SFU_ERR_STATE, EBADMSG, "%s", m->state_problem);
        if (!m->booted)
                return sfu_err_set(err, SFU_ERR_STATE, ENOENT,
                                   "the booted slot is unknown (booted-slot = %s)", m->config->booted_slot);
        if (atomic_load(&m->busy))
                return sfu_err_set(err, SFU_ERR_BUSY, EBUSY, "another operation is running");
        return 0;
}

int sfu_manager_mark_good(struct sfu_manager *m, json_t **ret, struct sfu_err *err) {
        struct sfu_state_slot *slot;
        bool was_trial;
        int r;

        r = refuse_if_unusable(m, err);
        if (r < 0)
                return r;
        pthread_mutex_lock(&m->lock);
        was_trial = m->state.state == SFU_STATE_TRIAL && sfu_streq(m->state.trial_bootname, m->booted);
        pthread_mutex_unlock(&m->lock);
        /* Always: with a boot counter, every boot spends an attempt, and
         * confirming the running slot gives them back. */
        r = sfu_bootloader_mark_good(m->boot, m->booted, err);
        if (r < 0)
                return r;
        if (!was_trial) {
                (void) manager_refresh_primary(m);
                *ret = json_pack("{s:s,s:s}", "slot", m->booted, "result", "confirmed (no trial was pending)");
                return 0;
        }
        pthread_mutex_lock(&m->lock);
        slot = sfu_state_slot(&m->state, m->booted);
        if (slot) {
                slot->health = SFU_HEALTH_GOOD;
                if (slot->has_version &&
                    (!m->state.has_highest || sfu_version_compare(&slot->version, &m->state.highest) > 0)) {
                        m->state.has_highest = true;
                        m->state.highest = slot->version;
                }
        }
        m->state.trial_bootname[0] = m->state.trial_previous[0] = 0;
        m->state.has_last_error = false;
        pthread_mutex_unlock(&m->lock);
        manager_set_state(m, SFU_STATE_COMMITTED, "slot %s committed", m->booted);
        (void) manager_refresh_primary(m);
        *ret = json_pack("{s:s,s:s}", "slot", m->booted, "result", "committed");
        return 0;
}

int sfu_manager_mark_bad(struct sfu_manager *m, json_t **ret, struct sfu_err *err) {
        const struct sfu_config_slot *other;
        struct sfu_state_slot *slot;
        int r;

        r = refuse_if_unusable(m, err);
        if (r < 0)
                return r;
        other = other_slot(m->config, m->booted);
        if (!other)
                return sfu_err_set(err, SFU_ERR_STATE, ENOENT,
                                   "slot %s has no other slot to fall back to; refusing to mark it bad", m->booted);
        r = sfu_bootloader_mark_bad(m->boot, m->booted, err);
        if (r < 0)
                return r;
        pthread_mutex_lock(&m->lock);
        slot = sfu_state_slot(&m->state, m->booted);
        if (slot) {
                slot->health = SFU_HEALTH_BAD;
                if (slot->has_version) {
                        m->state.has_rejected = true;
                        m->state.rejected = slot->version;
                }
        }
        m->state.trial_bootname[0] = m->state.trial_previous[0] = 0;
        pthread_mutex_unlock(&m->lock);
        manager_set_state(m, SFU_STATE_ROLLED_BACK, "slot %s marked bad; the next boot starts slot %s", m->booted,
                          other->bootname);
        (void) manager_refresh_primary(m);
        *ret = json_pack("{s:s,s:s}", "slot", m->booted, "next", other->bootname);
        return 0;
}

int sfu_manager_rollback(struct sfu_manager *m, json_t **ret, struct sfu_err *err) {
        const struct sfu_config_slot *other;
        struct sfu_bootloader_slot_state bs;
        struct sfu_state_slot *slot;
        bool good;
        int r;

        r = refuse_if_unusable(m, err);
        if (r < 0)
                return r;
        other = other_slot(m->config, m->booted);
        if (!other)
                return sfu_err_set(err, SFU_ERR_STATE, ENOENT, "slot %s has no other slot to roll back to", m->booted);
        pthread_mutex_lock(&m->lock);
        slot = sfu_state_slot(&m->state, other->bootname);
        good = slot && slot->health == SFU_HEALTH_GOOD && slot->has_version;
        pthread_mutex_unlock(&m->lock);
        if (!good)
                return sfu_err_set(err, SFU_ERR_STATE, ENOENT,
                                   "slot %s does not hold a verified good image; nothing to roll back to",
                                   other->bootname);
        r = sfu_bootloader_get_slot_state(m->boot, other->bootname, &bs, err);
        if (r < 0)
                return r;
        r = sfu_bootloader_set_primary(m->boot, other->bootname, err);
        if (r < 0)
                return r;
        pthread_mutex_lock(&m->lock);
        m->state.trial_bootname[0] = m->state.trial_previous[0] = 0;
        pthread_mutex_unlock(&m->lock);
        manager_set_state(m, SFU_STATE_ROLLED_BACK, "rollback: the next boot starts slot %s", other->bootname);
        (void) manager_refresh_primary(m);
        *ret = json_pack("{s:s}", "next", other->bootname);
        return 0;
}
