/* SPDX-License-Identifier: MIT */
/* The manager owns what secfud knows at run time and alone locks it: the
 * persistent state (state.json), the booted slot, the bootloader, the
 * progress of the one operation that may run and the subscribers.  A job
 * runs on a worker thread with a copy of the state and reports back
 * through its struct sfu_job_report (job.h); the short operations run on
 * the caller's thread through switch.c. */
#include <inttypes.h>
#include <malloc.h>
#include <stdarg.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/stat.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "daemon/job.h"
#include "daemon/log.h"
#include "daemon/manager.h"
#include "daemon/switch.h"
#include "io/clock.h"
#include "io/fileio.h"

#define STATE_FILE "state.json"
#define EVENT_STATE 1u
#define EVENT_PROGRESS 2u

struct subscriber {
        unsigned id;
        sfu_event_fn fn;
        void *userdata;
};

struct sfu_manager {
        struct sfu_job_env env;         /* config, bootloader, booted slot, running version, cancel word */
        sd_event *event;
        sd_event_source *notify_source;
        sd_event_source *unload_source; /* unloads libcurl a while after the last job */
        int notify_fd;                  /* eventfd: the worker wakes the loop */

        pthread_mutex_t lock;           /* guards everything below that the worker reaches */
        struct sfu_state state;
        char state_problem[SFU_ERR_MESSAGE_MAX];
        char *saved_state;              /* the text last written (or read): unchanged states are not rewritten */
        char *booted;                   /* owned; env.booted points here */
        char primary[40];               /* cached from the bootloader */
        struct sfu_job_progress progress;
        atomic_int cancel;              /* enum sfu_job_cancel */
        atomic_bool busy;
        atomic_bool job_cancelled;      /* the last job ended because it was cancelled */
        uint64_t poll_started;          /* CLOCK_BOOTTIME usec of the last poll job's start (0: none) */
        unsigned pending_events;        /* EVENT_* */

        pthread_t worker;
        bool worker_joinable;
        struct sfu_job_request job;     /* copy; source and fd owned below */
        char *job_source;
        int job_fd;                     /* a dup of the caller's descriptor, or -1 */
        struct sfu_state job_state;     /* the job's working copy (the worker's alone while it runs) */
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

const struct sfu_config *sfu_manager_config(const struct sfu_manager *m) {
        return m->env.config;
}

/* ---------------------------------------------------------------- state file */

static int state_path(const struct sfu_manager *m, char *buf, size_t size) {
        int n = snprintf(buf, size, "%s/%s", m->env.config->state_dir, STATE_FILE);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

/* Writes m->state (crash-safely) unless it is what the file holds. */
static int save_state_locked(struct sfu_manager *m, struct sfu_err *err) {
        _cleanup_free_ char *text = NULL;
        char path[4096];
        int r;

        if (m->env.state_unusable)
                return sfu_err_set(err, SFU_ERR_STATE, EBADMSG, "state file is unusable, not overwriting it: %s",
                                   m->state_problem);
        r = state_path(m, path, sizeof(path));
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "state-dir path too long");
        r = sfu_mkdir_p(m->env.config->state_dir, 0700);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot create %s: %s", m->env.config->state_dir,
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

static void unusable(struct sfu_manager *m, const char *fmt, ...) _printf_(2, 3);
static void unusable(struct sfu_manager *m, const char *fmt, ...) {
        va_list ap;

        sfu_state_init(&m->state);
        m->env.state_unusable = true;
        va_start(ap, fmt);
        vsnprintf(m->state_problem, sizeof(m->state_problem), fmt, ap);
        va_end(ap);
}

static void load_state(struct sfu_manager *m) {
        _cleanup_free_ char *text = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        char path[4096];
        size_t len;
        int r;

        sfu_state_init(&m->state);
        if (state_path(m, path, sizeof(path)) < 0)
                return unusable(m, "state-dir path too long");
        r = sfu_file_read(path, SFU_STATE_MAX_SIZE, SFU_READ_NOFOLLOW | SFU_READ_PRIVATE, &text, &len, &err);
        if (r == -ENOENT)
                return; /* first start: nothing recorded yet */
        if (r >= 0)
                r = sfu_state_from_json(text, len, &m->state, &err);
        if (r >= 0)
                m->saved_state = TAKE_PTR(text);
        else
                unusable(m, "%s: %s; installs are refused until it is repaired or removed", path,
                         err.message[0] ? err.message : strerror(-r));
}

/* ---------------------------------------------------------------- events */

static void notify(struct sfu_manager *m, unsigned what) {
        uint64_t one = 1;
        /* Called from either thread; the eventfd write is async-safe. */
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

/* libcurl (io/fetch.h) stays loaded for a while after a job: an
 * operator's check is often followed by an apply, and loading it costs
 * ~15 ms of CPU; then it goes, and what it pulled in with it. */
#define FETCH_LINGER_USEC (10u * 1000000u)

static int on_unload(sd_event_source *s, uint64_t usec, void *userdata) {
        sfu_fetch_unload();
        malloc_trim(0);
        return 0;
}

static void schedule_unload(struct sfu_manager *m) {
        int r;

        if (!m->event)
                return; /* --once: the process ends soon */
        if (m->unload_source)
                r = sd_event_source_set_time_relative(m->unload_source, FETCH_LINGER_USEC);
        else
                r = sd_event_add_time_relative(m->event, &m->unload_source, CLOCK_MONOTONIC, FETCH_LINGER_USEC, 0,
                                               on_unload, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->unload_source, SD_EVENT_ONESHOT);
        if (r < 0) {
                log_warning("cannot schedule unloading libcurl: %s; unloading it now", strerror(-r));
                sfu_fetch_unload();
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
                /* What the job freed goes back to the kernel now (the
                 * worker's malloc arena keeps it otherwise, ~0.4 MiB of an
                 * idle daemon's RSS). */
                malloc_trim(0);
                schedule_unload(m);
        }
        m->job_result = NULL;
        m->job_done = NULL;
        m->job_finished = false;
        free(m->job_source);
        m->job_source = NULL;
        if (m->job_fd >= 0)
                close(m->job_fd);
        m->job_fd = -1;
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
        if (what & EVENT_STATE)
                emit(m, "state");
        else if (what & EVENT_PROGRESS)
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

static void refresh_primary(struct sfu_manager *m) {
        _cleanup_free_ char *primary = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        int r = sfu_bootloader_get_primary(m->env.boot, &primary, &err);

        pthread_mutex_lock(&m->lock);
        snprintf(m->primary, sizeof(m->primary), "%s", r >= 0 && primary ? primary : "");
        pthread_mutex_unlock(&m->lock);
}

/* Takes a new state (from a job or a short operation) and saves it. */
static int publish_state(struct sfu_manager *m, const struct sfu_state *state, bool durable, struct sfu_err *err) {
        int r = 0;

        pthread_mutex_lock(&m->lock);
        if (state != &m->state)
                m->state = *state;
        if (durable && !m->env.state_unusable)
                r = save_state_locked(m, err);
        pthread_mutex_unlock(&m->lock);
        notify(m, EVENT_STATE);
        return r;
}

/* ---------------------------------------------------------------- the job's report */

static int job_publish(void *userdata, const struct sfu_state *state, bool durable, struct sfu_err *err) {
        return publish_state(userdata, state, durable, err);
}

static void job_progress(void *userdata, const struct sfu_job_progress *progress) {
        struct sfu_manager *m = userdata;

        pthread_mutex_lock(&m->lock);
        m->progress = *progress;
        pthread_mutex_unlock(&m->lock);
        notify(m, EVENT_PROGRESS);
}

static void job_primary_changed(void *userdata) {
        refresh_primary(userdata);
}

static int run_job(struct sfu_manager *m, json_t **ret_result, struct sfu_err *err) {
        const struct sfu_job_report report = {
                .publish = job_publish,
                .progress = job_progress,
                .primary_changed = job_primary_changed,
                .userdata = m,
        };
        struct sfu_err ignored = SFU_ERR_INIT;
        int r;

        pthread_mutex_lock(&m->lock);
        m->job_state = m->state;
        pthread_mutex_unlock(&m->lock);
        r = sfu_job_run(&m->env, &m->job, &m->job_state, &report, ret_result, err);
        (void) publish_state(m, &m->job_state, false, &ignored);
        return r;
}

/* ---------------------------------------------------------------- start-up */

static void read_running_version(struct sfu_manager *m) {
        _cleanup_free_ char *text = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        size_t len;

        m->env.has_running = false;
        if (sfu_file_read(m->env.config->version_file, 256, 0, &text, &len, &err) < 0)
                return;
        text[strcspn(text, "\r\n")] = 0;
        m->env.has_running = sfu_version_parse(text, &m->env.running) >= 0;
}

static const char *proc_cmdline(void) {
#ifdef SFU_FAULT_INJECTION
        /* Test builds only: the tests' kernel command line. */
        return getenv("SFU_PROC_CMDLINE");
#else
        return NULL;
#endif
}

int sfu_manager_new(struct sfu_config *config, sd_event *event, struct sfu_manager **ret, struct sfu_err *err) {
        struct sfu_manager *m;
        struct sfu_err boot_err = SFU_ERR_INIT;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->env.config = config;
        m->env.cancel = &m->cancel;
        m->env.state_problem = m->state_problem;
        m->notify_fd = -1;
        m->job_fd = -1;
        pthread_mutex_init(&m->lock, NULL);

        r = sfu_bootloader_open(config, &m->env.boot, err);
        if (r < 0) {
                sfu_manager_free(m);
                return r;
        }
        if (sfu_bootloader_booted_slot(config->booted_slot, proc_cmdline(), &m->booted, &boot_err) < 0)
                m->booted = NULL;
        m->env.booted = m->booted;
        if (m->booted && !sfu_config_boot_slot(config, m->booted)) {
                r = sfu_err_set(err, SFU_ERR_STATE, EINVAL, "booted slot \"%s\" is not a configured slot", m->booted);
                sfu_manager_free(m);
                return r;
        }
        read_running_version(m);
        load_state(m);
        if (!m->env.state_unusable) {
                struct sfu_err save_err = SFU_ERR_INIT;
                sfu_switch_reconcile(&m->env, &m->state);
                if (save_state_locked(m, &save_err) < 0)
                        log_warning("cannot save state: %s", save_err.message);
        }
        refresh_primary(m);

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
                int expected = SFU_JOB_RUNNING;
                (void) atomic_compare_exchange_strong(&m->cancel, &expected, SFU_JOB_CANCEL_REQUESTED);
                if (m->worker_joinable)
                        pthread_join(m->worker, NULL);
        }
        json_decref(m->job_result);
        free(m->job_source);
        if (m->job_fd >= 0)
                close(m->job_fd);
        sd_event_source_disable_unref(m->notify_source);
        sd_event_source_disable_unref(m->unload_source);
        if (m->notify_fd >= 0)
                close(m->notify_fd);
        sd_event_unref(m->event);
        sfu_bootloader_close(m->env.boot);
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
        json_object_set_new(st, "state", json_string(sfu_state_install_name(s->state)));
        json_object_set_new(st, "reason", json_string(m->env.state_unusable ? m->env.state_problem : s->reason));
        json_object_set_new(st, "stateUsable", json_boolean(!m->env.state_unusable));
        json_object_set_new(st, "bootedSlot", m->env.booted ? json_string(m->env.booted) : json_null());
        json_object_set_new(st, "primarySlot", m->primary[0] ? json_string(m->primary) : json_null());
        json_object_set_new(st, "runningVersion", version_or_null(m->env.has_running, &m->env.running));
        for (size_t i = 0; i < m->env.config->n_slots; i++) {
                const struct sfu_config_slot *cs = &m->env.config->slots[i];
                struct sfu_state_slot *ss = sfu_state_slot(&m->state, cs->bootname);
                json_t *slot = json_pack("{s:s,s:s,s:s,s:o,s:s,s:b}", "class", cs->class_name, "bootname",
                                         cs->bootname, "device", cs->device, "version",
                                         version_or_null(ss && ss->has_version, ss ? &ss->version : NULL),
                                         "health", sfu_state_health_name(ss ? ss->health : SFU_HEALTH_EMPTY),
                                         "booted", sfu_streq(m->env.booted, cs->bootname));
                json_array_append_new(slots, slot);
                if (ss && ss->has_version && (ss->health == SFU_HEALTH_STAGED)) {
                        has_staged = true;
                        staged = ss->version;
                }
        }
        json_object_set_new(st, "slots", slots);
        json_object_set_new(st, "stagedVersion", version_or_null(has_staged, &staged));
        bool available = s->has_newest_seen && m->env.has_running &&
                         sfu_version_compare(&s->newest_seen, &m->env.running) > 0 &&
                         !(has_staged && sfu_version_compare(&staged, &s->newest_seen) == 0) &&
                         s->state != SFU_STATE_TRIAL;
        json_object_set_new(st, "availableVersion", version_or_null(available, &s->newest_seen));
        json_object_set_new(st, "highestInstalled", version_or_null(s->has_highest, &s->highest));
        json_object_set_new(st, "rollbackFloor", version_or_null(s->has_floor, &s->floor));
        json_object_set_new(st, "lastCheck", time_or_null(s->has_last_check, s->last_check));
        if (s->has_newest_seen)
                json_object_set_new(st, "newestSeen",
                                    json_pack("{s:o,s:o,s:s,s:o,s:o}", "version",
                                              version_or_null(true, &s->newest_seen), "timestamp",
                                              time_or_null(true, s->newest_seen_timestamp), "source",
                                              sfu_state_source_name(s->newest_seen_source), "format",
                                              s->newest_seen_form[0] ? json_string(s->newest_seen_form) : json_null(),
                                              "algorithms",
                                              s->newest_seen_algs[0] ? json_string(s->newest_seen_algs) : json_null()));
        else
                json_object_set_new(st, "newestSeen", json_null());
        if (m->progress.active) {
                json_t *p = json_pack("{s:s,s:s,s:I,s:I,s:f}", "phase", m->progress.phase, "image", m->progress.image,
                                      "done", (json_int_t) m->progress.done, "total", (json_int_t) m->progress.total,
                                      "rate", m->progress.rate);
                if (p && m->progress.has_fetched)
                        json_object_set_new(p, "fetched", json_integer((json_int_t) m->progress.fetched));
                json_object_set_new(st, "progress", p);
        }
        else
                json_object_set_new(st, "progress", json_null());
        if (m->env.state_unusable)
                json_object_set_new(st, "lastError",
                                    json_pack("{s:s,s:s}", "code", "state", "message", m->env.state_problem));
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
                char rate[32], fetched[48] = "";
                human_bytes(m->progress.rate, rate, sizeof(rate));
                if (m->progress.has_fetched) {
                        char f[32];
                        human_bytes((double) m->progress.fetched, f, sizeof(f));
                        snprintf(fetched, sizeof(fetched), ", %s fetched", f);
                }
                snprintf(buf, size, "%c%s %s: %u%% (%s/s%s)", m->progress.phase[0] & ~0x20, m->progress.phase + 1,
                         m->progress.image, (unsigned) (m->progress.done * 100 / m->progress.total), rate, fetched);
        } else {
                const char *reason = m->env.state_unusable ? m->env.state_problem : m->state.reason;
                snprintf(buf, size, "%s%s%s", sfu_state_install_name(m->state.state), reason[0] ? ": " : "",
                         reason);
        }
        pthread_mutex_unlock(&m->lock);
}

/* ---------------------------------------------------------------- jobs */

static void *worker_main(void *userdata) {
        struct sfu_manager *m = userdata;
        struct sfu_err err = SFU_ERR_INIT;
        json_t *result = NULL;
        int r = run_job(m, &result, &err);

        atomic_store(&m->job_cancelled, r < 0 && err.errnum == ECANCELED);
        pthread_mutex_lock(&m->lock);
        m->job_r = r;
        m->job_err = err;
        m->job_result = result;
        m->job_finished = true;
        pthread_mutex_unlock(&m->lock);
        notify(m, EVENT_STATE);
        return NULL;
}

bool sfu_manager_busy(struct sfu_manager *m) {
        return atomic_load(&m->busy);
}

int sfu_manager_start_job(struct sfu_manager *m, const struct sfu_job_request *req, sfu_job_done_fn done,
                          void *userdata, struct sfu_err *err) {
        bool expected = false;

        if (!atomic_compare_exchange_strong(&m->busy, &expected, true))
                return sfu_err_set(err, SFU_ERR_BUSY, EBUSY, "another operation is running");
        atomic_store(&m->cancel, SFU_JOB_RUNNING);
        atomic_store(&m->job_cancelled, false);
        if (req->kind == SFU_POLICY_JOB_POLL)
                /* Counted even when the poll cannot record its lastCheck
                 * (a state file refused): no re-poll before the interval. */
                m->poll_started = sfu_clock_boottime_usec();
        m->job = *req;
        m->job_source = sfu_strdup_or_null(req->source);
        m->job.source = m->job_source;
        if (req->has_fd) {
                m->job_fd = fcntl(req->fd, F_DUPFD_CLOEXEC, 3);
                if (m->job_fd < 0) {
                        int e = errno;
                        free(TAKE_PTR(m->job_source));
                        atomic_store(&m->busy, false);
                        return sfu_err_set(err, SFU_ERR_STORAGE, e, "cannot keep the file passed: %s", strerror(e));
                }
                m->job.fd = m->job_fd;
        }
        m->job_done = done;
        m->job_userdata = userdata;
        m->job_err = (struct sfu_err) SFU_ERR_INIT;

        if (!m->event) {
                /* --once: no loop to come back to; run here. */
                json_t *result = NULL;
                struct sfu_err job_err = SFU_ERR_INIT;
                int r = run_job(m, &result, &job_err);
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
        int expected = SFU_JOB_RUNNING;

        if (!atomic_load(&m->busy))
                return sfu_err_set(err, SFU_ERR_STATE, EALREADY, "no operation is running");
        if (!atomic_compare_exchange_strong(&m->cancel, &expected, SFU_JOB_CANCEL_REQUESTED) &&
            expected == SFU_JOB_COMMITTING)
                return sfu_err_set(err, SFU_ERR_STATE, EBUSY,
                                   "too late to cancel: the verified update is being activated (use rollback once it is staged)");
        return 0;
}

bool sfu_manager_job_cancelled(struct sfu_manager *m) {
        return atomic_load(&m->job_cancelled);
}

uint64_t sfu_manager_next_poll_usec(struct sfu_manager *m) {
        const struct sfu_config *cfg = m->env.config;
        uint64_t jitter = cfg->jitter_usec ? (uint64_t) random() % cfg->jitter_usec : 0;
        int64_t since;

        pthread_mutex_lock(&m->lock);
        since = m->state.has_last_check ? sfu_clock_wallclock() - m->state.last_check : INT64_MAX / 2;
        pthread_mutex_unlock(&m->lock);
        if (since < 0)
                since = 0; /* the clock went back: count from now */
        uint64_t since_usec = (uint64_t) since >= cfg->interval_usec / 1000000u + 1 ? cfg->interval_usec
                                                                                      : (uint64_t) since * 1000000u;
        uint64_t now = sfu_clock_boottime_usec();
        if (m->poll_started && now - m->poll_started < since_usec)
                since_usec = now - m->poll_started;
        if (since_usec >= cfg->interval_usec)
                return jitter;
        return cfg->interval_usec - since_usec + jitter;
}

/* ---------------------------------------------------------------- short operations */

typedef int (*short_op_fn)(const struct sfu_job_env *env, struct sfu_state *s, json_t **ret, struct sfu_err *err);

/* mark-good, mark-bad, rollback: on a copy of the state, which replaces
 * the state (and is saved) when the operation succeeded. */
static int short_op(struct sfu_manager *m, short_op_fn fn, json_t **ret, struct sfu_err *err) {
        struct sfu_state copy;
        struct sfu_err save_err = SFU_ERR_INIT;
        int r;

        if (m->env.state_unusable)
                return sfu_err_set(err, SFU_ERR_STATE, EBADMSG, "%s", m->state_problem);
        if (!m->env.booted)
                return sfu_err_set(err, SFU_ERR_STATE, ENOENT, "the booted slot is unknown (booted-slot = %s)",
                                   m->env.config->booted_slot);
        if (atomic_load(&m->busy))
                return sfu_err_set(err, SFU_ERR_BUSY, EBUSY, "another operation is running");
        pthread_mutex_lock(&m->lock);
        copy = m->state;
        pthread_mutex_unlock(&m->lock);
        r = fn(&m->env, &copy, ret, err);
        if (r < 0)
                return r;
        if (publish_state(m, &copy, true, &save_err) < 0)
                log_warning("cannot save state: %s", save_err.message);
        refresh_primary(m);
        return 0;
}

int sfu_manager_mark_good(struct sfu_manager *m, json_t **ret, struct sfu_err *err) {
        return short_op(m, sfu_switch_mark_good, ret, err);
}

int sfu_manager_mark_bad(struct sfu_manager *m, json_t **ret, struct sfu_err *err) {
        return short_op(m, sfu_switch_mark_bad, ret, err);
}

int sfu_manager_rollback(struct sfu_manager *m, json_t **ret, struct sfu_err *err) {
        return short_op(m, sfu_switch_rollback, ret, err);
}
