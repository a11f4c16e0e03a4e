/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <grp.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "core/json.h"
#include "daemon/commands.h"
#include "daemon/log.h"
#include "io/clock.h"
#include "io/spawn.h"

/* Bytes of the group database entry buffer for getgrnam_r. */
#define GROUP_BUFFER_MAX (1024u * 1024u)
/* How often a waiting Cancel looks whether the job has stopped. */
#define CANCEL_POLL_USEC (50u * 1000u)

/* ---------------------------------------------------------------- calls */

void sfu_call_init(struct sfu_call *call, const struct sfu_call_ops *ops, const char *method, uid_t uid,
                   bool privileged, bool more) {
        *call = (struct sfu_call) {
                .ops = ops,
                .n_ref = 1,
                .method = method,
                .uid = uid,
                .privileged = privileged,
                .more = more,
                .fd = -1,
        };
}

static void call_close_fd(struct sfu_call *call) {
        if (call->fd >= 0)
                close(call->fd);
        call->fd = -1;
}

struct sfu_call *sfu_call_ref(struct sfu_call *call) {
        call->n_ref++;
        return call;
}

void sfu_call_unref(struct sfu_call *call) {
        if (!call)
                return;
        if (--call->n_ref == 0) {
                call_close_fd(call);
                call->ops->free(call);
        }
}

void sfu_call_gone(struct sfu_call *call) {
        void (*on_gone)(struct sfu_call *c);

        if (!call || call->gone)
                return;
        call->gone = true;
        on_gone = call->on_gone;
        call->on_gone = NULL;
        if (on_gone && !call->done)
                on_gone(call);
}

static bool call_open(struct sfu_call *call) {
        return call && !call->done && !call->gone;
}

void sfu_call_reply(struct sfu_call *call, json_t *parameters) {
        if (!call_open(call))
                return;
        call->done = true;
        call->on_gone = NULL;
        call->ops->reply(call, parameters);
}

void sfu_call_more(struct sfu_call *call, json_t *parameters) {
        if (!call_open(call) || !call->more)
                return;
        call->ops->more(call, parameters);
}

void sfu_call_fail(struct sfu_call *call, const struct sfu_err *err) {
        struct sfu_err e = SFU_ERR_INIT;

        if (!call_open(call))
                return;
        if (sfu_err_isset(err))
                e = *err;
        else
                (void) sfu_err_set(&e, SFU_ERR_STATE, EIO, "the operation failed");
        call->done = true;
        call->on_gone = NULL;
        call->ops->fail(call, &e);
}

void sfu_call_invalid_parameter(struct sfu_call *call, const char *parameter) {
        if (!call_open(call))
                return;
        call->done = true;
        call->on_gone = NULL;
        call->ops->invalid_parameter(call, parameter);
}

/* ---------------------------------------------------------------- context */

/* A call that waits for something: a Monitor subscription, a Cancel
 * waiting for the job to stop.  Each list is doubly linked. */
struct waiter {
        struct waiter *prev, *next;
        struct waiter **head;
        size_t *count;
        struct sfu_call *call;  /* a reference */
        uint64_t deadline;      /* CLOCK_MONOTONIC usec, Cancel only */
};

/* The Check or Apply this module started. */
struct job_wait {
        struct sfu_commands *cmds;
        struct sfu_call *call;  /* a reference; NULL without wait or once the peer left */
        uid_t uid;
        bool reboot;
};

/* A `systemctl reboot` this module started, watched through a pidfd. */
struct child {
        struct child *next;
        struct sfu_commands *cmds;
        struct sfu_spawn_child child;
        sd_event_source *source;
};

struct sfu_commands {
        struct sfu_manager *manager;
        sd_event *event;
        unsigned subscription;
        bool subscribed;
        struct waiter *monitors;
        size_t n_monitors;
        struct waiter *cancels;
        size_t n_cancels;
        sd_event_source *cancel_timer;
        struct job_wait *job;
        struct child *children;
};

static struct waiter *waiter_add(struct waiter **head, size_t *count, struct sfu_call *call,
                                 void (*on_gone)(struct sfu_call *c)) {
        struct waiter *w = calloc(1, sizeof(*w));
        if (!w)
                return NULL;
        w->head = head;
        w->count = count;
        w->call = sfu_call_ref(call);
        w->next = *head;
        if (*head)
                (*head)->prev = w;
        *head = w;
        (*count)++;
        call->handler_data = w;
        call->on_gone = on_gone;
        return w;
}

static void waiter_free(struct waiter *w) {
        if (!w)
                return;
        if (w->prev)
                w->prev->next = w->next;
        else
                *w->head = w->next;
        if (w->next)
                w->next->prev = w->prev;
        (*w->count)--;
        w->call->on_gone = NULL;
        w->call->handler_data = NULL;
        sfu_call_unref(w->call);
        free(w);
}

static void waiter_on_gone(struct sfu_call *call) {
        waiter_free(call->handler_data);
}

/* ---------------------------------------------------------------- the access rule */

bool sfu_commands_peer_privileged(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups) {
        _cleanup_free_ char *buf = NULL;
        struct group grp, *found = NULL;
        size_t size = 4096;

        if (uid == 0)
                return true;
        /* Looked up on every check: the group may be created or changed
         * while secfud runs. */
        for (;;) {
                char *bigger = realloc(buf, size);
                int r;
                if (!bigger)
                        return false;
                buf = bigger;
                r = getgrnam_r(SFU_CONTROL_GROUP, &grp, buf, size, &found);
                if (r == ERANGE && size < GROUP_BUFFER_MAX) {
                        size *= 2;
                        continue;
                }
                if (r != 0 || !found)
                        return false;
                break;
        }
        if (gid == found->gr_gid)
                return true;
        for (size_t i = 0; i < n_groups; i++)
                if (groups[i] == found->gr_gid)
                        return true;
        return false;
}

/* ---------------------------------------------------------------- reboot */

static void child_free(struct child *c) {
        struct child **p;

        if (!c)
                return;
        for (p = &c->cmds->children; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        sd_event_source_disable_unref(c->source);
        /* Not killed: a reboot in progress stops this daemon too. */
        sfu_spawn_forget(&c->child);
        free(c);
}

static int on_child_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct child *c = userdata;
        int status, sig, r;

        r = sfu_spawn_collect(&c->child, &status, &sig);
        if (r == 0)
                return 0; /* not yet */
        if (r < 0)
                log_warning("cannot collect the exit status of systemctl reboot: %s", strerror(-r));
        else if (status == 0)
                log_info("systemctl reboot succeeded");
        else if (status > 0)
                log_error("reboot failed: systemctl reboot exited with status %d", status);
        else
                log_error("reboot failed: systemctl reboot was killed by signal %d", sig);
        child_free(c);
        return 0;
}

/* Starts `systemctl reboot` (found through PATH, as systemd sets it for
 * the service) through io/spawn.h; its exit status is logged when it
 * ends. */
static int spawn_reboot(struct sfu_commands *cmds, uid_t uid, struct sfu_err *err) {
        static char *const argv[] = { (char *) "systemctl", (char *) "reboot", NULL };
        struct sfu_spawn_child child = { .pidfd = -1 };
        struct child *c;
        int r;

        log_notice("rebooting on request of uid %u: systemctl reboot", (unsigned) uid);
        r = sfu_spawn_start(argv, &child, err);
        if (r < 0)
                return r;
        c = calloc(1, sizeof(*c));
        if (!c) {
                sfu_spawn_forget(&child);
                return 0; /* started; only its exit status goes unreported */
        }
        c->cmds = cmds;
        c->child = child;
        if (c->child.pidfd < 0 ||
            sd_event_add_io(cmds->event, &c->source, c->child.pidfd, EPOLLIN, on_child_exit, c) < 0) {
                log_warning("cannot watch systemctl reboot (pid %d); its exit status goes unreported",
                            (int) c->child.pid);
                sfu_spawn_forget(&c->child);
                free(c);
                return 0;
        }
        c->next = cmds->children;
        cmds->children = c;
        return 0;
}

/* Adds "reboot" (and "rebootError") to a reply after a success. */
static void maybe_reboot(struct sfu_commands *cmds, uid_t uid, json_t *reply) {
        struct sfu_err err = SFU_ERR_INIT;

        if (spawn_reboot(cmds, uid, &err) < 0) {
                log_error("%s", err.message);
                json_object_set_new(reply, "reboot", json_false());
                json_object_set_new(reply, "rebootError", json_string(err.message));
        } else
                json_object_set_new(reply, "reboot", json_true());
}

/* ---------------------------------------------------------------- monitor */

static void on_manager_event(struct sfu_manager *m, const char *kind, json_t *status, void *userdata) {
        struct sfu_commands *cmds = userdata;
        _cleanup_json_ json_t *params = NULL;
        struct waiter *w, *next;

        if (!cmds->monitors)
                return;
        params = json_pack("{s:s,s:O}", "event", kind, "status", status);
        if (!params)
                return;
        /* An adapter may drop a peer that cannot keep up; it does so
         * later, from the loop, so the list stays intact here. */
        for (w = cmds->monitors; w; w = next) {
                next = w->next;
                sfu_call_more(w->call, params);
        }
}

static void handle_monitor(struct sfu_commands *cmds, struct sfu_call *call, json_t *parameters) {
        _cleanup_json_ json_t *status = NULL;
        _cleanup_json_ json_t *params = NULL;
        struct sfu_err err = SFU_ERR_INIT;

        if (sfu_manager_status(cmds->manager, &status) < 0 ||
            !(params = json_pack("{s:s,s:O}", "event", "status", "status", status))) {
                (void) sfu_err_set(&err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
                sfu_call_fail(call, &err);
                return;
        }
        if (!call->more) {
                sfu_call_reply(call, params);
                return;
        }
        if (cmds->n_monitors >= SFU_COMMANDS_MAX_MONITORS) {
                (void) sfu_err_set(&err, SFU_ERR_BUSY, EMFILE, "too many monitors (at most %u)",
                                   SFU_COMMANDS_MAX_MONITORS);
                sfu_call_fail(call, &err);
                return;
        }
        if (!waiter_add(&cmds->monitors, &cmds->n_monitors, call, waiter_on_gone)) {
                (void) sfu_err_set(&err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
                sfu_call_fail(call, &err);
                return;
        }
        sfu_call_more(call, params);
}

/* ---------------------------------------------------------------- jobs */

static void job_wait_free(struct job_wait *w) {
        if (!w)
                return;
        if (w->call) {
                w->call->on_gone = NULL;
                w->call->handler_data = NULL;
                sfu_call_unref(w->call);
        }
        if (w->cmds && w->cmds->job == w)
                w->cmds->job = NULL;
        free(w);
}

static void job_on_gone(struct sfu_call *call) {
        struct job_wait *w = call->handler_data;

        /* The job goes on (and reboots if asked to); only its answer has
         * nobody to go to. */
        call->handler_data = NULL;
        w->call = NULL;
        sfu_call_unref(call);
}

static void job_done(struct sfu_manager *m, int r, const struct sfu_err *err, json_t *result, void *userdata) {
        struct job_wait *w = userdata;
        _cleanup_json_ json_t *reply = NULL;
        const char *outcome;

        if (r < 0) {
                sfu_call_fail(w->call, err);
                job_wait_free(w);
                return;
        }
        reply = result ? json_deep_copy(result) : json_object();
        if (!reply) {
                struct sfu_err e = SFU_ERR_INIT;
                (void) sfu_err_set(&e, SFU_ERR_STORAGE, ENOMEM, "out of memory");
                sfu_call_fail(w->call, &e);
                job_wait_free(w);
                return;
        }
        outcome = json_string_value(json_object_get(reply, "result"));
        if (w->reboot && sfu_streq(outcome, "staged"))
                maybe_reboot(w->cmds, w->uid, reply);
        else if (w->reboot)
                json_object_set_new(reply, "reboot", json_false());
        sfu_call_reply(w->call, reply);
        job_wait_free(w);
}

static void start_job(struct sfu_commands *cmds, struct sfu_call *call, const struct sfu_job_request *req, bool wait,
                      bool reboot) {
        struct sfu_err err = SFU_ERR_INIT;
        struct job_wait *w;
        int r;

        w = calloc(1, sizeof(*w));
        if (!w) {
                (void) sfu_err_set(&err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
                sfu_call_fail(call, &err);
                return;
        }
        *w = (struct job_wait) {
                .cmds = cmds,
                .call = wait ? sfu_call_ref(call) : NULL,
                .uid = call->uid,
                .reboot = reboot,
        };
        if (wait) {
                call->handler_data = w;
                call->on_gone = job_on_gone;
        }
        cmds->job = w;
        r = sfu_manager_start_job(cmds->manager, req, job_done, w, &err);
        if (r < 0) {
                job_wait_free(w);
                sfu_call_fail(call, &err);
                return;
        }
        log_info("%s started by uid %u", call->method, (unsigned) call->uid);
        if (!wait) {
                _cleanup_json_ json_t *reply = json_pack("{s:s}", "result", "started");
                sfu_call_reply(call, reply);
        }
}

static bool get_flag(json_t *parameters, const char *key, bool fallback) {
        json_t *v = json_object_get(parameters, key);
        return json_is_boolean(v) ? json_is_true(v) : fallback;
}

static void handle_check(struct sfu_commands *cmds, struct sfu_call *call, json_t *parameters) {
        struct sfu_job_request req = { .kind = SFU_POLICY_JOB_CHECK };
        start_job(cmds, call, &req, true, false);
}

static bool source_valid(const char *s) {
        size_t len = strnlen(s, SFU_COMMANDS_SOURCE_MAX + 1);

        if (len == 0 || len > SFU_COMMANDS_SOURCE_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return s[0] == '/' || strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

static void handle_apply(struct sfu_commands *cmds, struct sfu_call *call, json_t *parameters) {
        struct sfu_job_request req = { .kind = SFU_POLICY_JOB_APPLY };
        json_t *source = json_object_get(parameters, "source");

        if (json_is_string(source)) {
                const char *text = json_string_value(source);
                if (!source_valid(text)) {
                        sfu_call_invalid_parameter(call, "source");
                        return;
                }
                /* A path would be opened with the daemon's rights on the
                 * caller's behalf: root's alone. */
                if (text[0] == '/' && call->uid != SFU_COMMANDS_PATH_UID) {
                        struct sfu_err err = SFU_ERR_INIT;
                        log_notice("denied Apply of the path %s to uid %u", text, (unsigned) call->uid);
                        (void) sfu_err_set(&err, SFU_ERR_DENIED, EPERM,
                                           "secfud opens a file on the device for root only: pass the file "
                                           "itself (ApplyFile; secfuctl apply FILE does)");
                        sfu_call_fail(call, &err);
                        return;
                }
                req.source = text;
        }
        req.allow_downgrade = get_flag(parameters, "allowDowngrade", false);
        start_job(cmds, call, &req, get_flag(parameters, "wait", true), get_flag(parameters, "reboot", false));
}

/* The descriptor an ApplyFile call passed: a regular file, open for
 * reading.  Checked here so that an unusable descriptor is the caller's
 * error, not a failed job; its size is the job's to judge (a manifest
 * within max-manifest-size, or a bundle with its images). */
static int check_file(int fd, struct sfu_err *err) {
        struct stat st;
        int flags = fcntl(fd, F_GETFL);

        if (flags < 0 || fstat(fd, &st) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot inspect the file passed: %s", strerror(errno));
        if ((flags & O_PATH) || (flags & O_ACCMODE) == O_WRONLY)
                return sfu_err_set(err, SFU_ERR_STORAGE, EBADF, "the file passed is not open for reading");
        if (!S_ISREG(st.st_mode))
                return sfu_err_set(err, SFU_ERR_STORAGE, EINVAL, "the file passed is not a regular file");
        return 0;
}

static void handle_apply_file(struct sfu_commands *cmds, struct sfu_call *call, json_t *parameters) {
        struct sfu_job_request req = { .kind = SFU_POLICY_JOB_APPLY };
        json_t *index = json_object_get(parameters, "fd");
        struct sfu_err err = SFU_ERR_INIT;

        /* fd indexes the descriptors sent with the call; the adapter has
         * put the first one in call->fd. */
        if (!json_is_integer(index) || json_integer_value(index) != 0 || call->fd < 0) {
                sfu_call_invalid_parameter(call, "fd");
                return;
        }
        if (check_file(call->fd, &err) < 0) {
                log_notice("ApplyFile by uid %u refused: %s", (unsigned) call->uid, err.message);
                sfu_call_fail(call, &err);
                return;
        }
        req.has_fd = true;
        req.fd = call->fd;
        req.allow_downgrade = get_flag(parameters, "allowDowngrade", false);
        start_job(cmds, call, &req, get_flag(parameters, "wait", true), get_flag(parameters, "reboot", false));
}

/* ---------------------------------------------------------------- cancel */

static void cancels_check(struct sfu_commands *cmds) {
        bool stopped = !sfu_manager_busy(cmds->manager);
        uint64_t now = sfu_clock_monotonic_usec();
        struct waiter *w, *next;

        for (w = cmds->cancels; w; w = next) {
                next = w->next;
                if (stopped || now >= w->deadline) {
                        const char *result = !stopped                                   ? "pending"
                                             : sfu_manager_job_cancelled(cmds->manager) ? "cancelled"
                                                                                        : "finished";
                        _cleanup_json_ json_t *reply = json_pack("{s:s}", "result", result);
                        sfu_call_reply(w->call, reply);
                        waiter_free(w);
                }
        }
        if (!cmds->cancels)
                (void) sd_event_source_set_enabled(cmds->cancel_timer, SD_EVENT_OFF);
}

static int on_cancel_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct sfu_commands *cmds = userdata;

        cancels_check(cmds);
        if (cmds->cancels) {
                (void) sd_event_source_set_time_relative(s, CANCEL_POLL_USEC);
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        }
        return 0;
}

static void handle_cancel(struct sfu_commands *cmds, struct sfu_call *call, json_t *parameters) {
        struct sfu_err err = SFU_ERR_INIT;
        struct waiter *w;

        if (sfu_manager_cancel(cmds->manager, &err) < 0) {
                sfu_call_fail(call, &err);
                return;
        }
        log_notice("cancel requested by uid %u", (unsigned) call->uid);
        if (cmds->n_cancels >= SFU_COMMANDS_MAX_MONITORS ||
            !(w = waiter_add(&cmds->cancels, &cmds->n_cancels, call, waiter_on_gone))) {
                _cleanup_json_ json_t *reply = json_pack("{s:s}", "result", "pending");
                sfu_call_reply(call, reply);
                return;
        }
        w->deadline = sfu_clock_monotonic_usec() + SFU_COMMANDS_CANCEL_WAIT_USEC;
        if (!cmds->cancel_timer) {
                if (sd_event_add_time_relative(cmds->event, &cmds->cancel_timer, CLOCK_MONOTONIC, CANCEL_POLL_USEC,
                                               10000, on_cancel_timer, cmds) < 0) {
                        cancels_check(cmds);
                        return;
                }
        } else
                (void) sd_event_source_set_time_relative(cmds->cancel_timer, CANCEL_POLL_USEC);
        (void) sd_event_source_set_enabled(cmds->cancel_timer, SD_EVENT_ONESHOT);
}

/* ---------------------------------------------------------------- short operations */

static void handle_status(struct sfu_commands *cmds, struct sfu_call *call, json_t *parameters) {
        _cleanup_json_ json_t *status = NULL;
        struct sfu_err err = SFU_ERR_INIT;

        if (sfu_manager_status(cmds->manager, &status) < 0) {
                (void) sfu_err_set(&err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
                sfu_call_fail(call, &err);
                return;
        }
        sfu_call_reply(call, status);
}

typedef int (*short_op_fn)(struct sfu_manager *m, json_t **ret, struct sfu_err *err);

static void short_op(struct sfu_commands *cmds, struct sfu_call *call, short_op_fn fn, bool reboot) {
        _cleanup_json_ json_t *reply = NULL;
        struct sfu_err err = SFU_ERR_INIT;

        if (fn(cmds->manager, &reply, &err) < 0) {
                log_warning("%s by uid %u failed: %s", call->method, (unsigned) call->uid, err.message);
                sfu_call_fail(call, &err);
                return;
        }
        log_notice("%s by uid %u", call->method, (unsigned) call->uid);
        if (!reply)
                reply = json_object();
        if (reboot && reply)
                maybe_reboot(cmds, call->uid, reply);
        sfu_call_reply(call, reply);
}

static void handle_rollback(struct sfu_commands *cmds, struct sfu_call *call, json_t *parameters) {
        short_op(cmds, call, sfu_manager_rollback, get_flag(parameters, "reboot", false));
}

static void handle_mark_good(struct sfu_commands *cmds, struct sfu_call *call, json_t *parameters) {
        short_op(cmds, call, sfu_manager_mark_good, false);
}

static void handle_mark_bad(struct sfu_commands *cmds, struct sfu_call *call, json_t *parameters) {
        short_op(cmds, call, sfu_manager_mark_bad, false);
}

/* ---------------------------------------------------------------- the table */

static const struct sfu_varlink_param apply_params[] = {
        { "source", SFU_VARLINK_STRING },
        { "allowDowngrade", SFU_VARLINK_BOOL },
        { "wait", SFU_VARLINK_BOOL },
        { "reboot", SFU_VARLINK_BOOL },
};

static const struct sfu_varlink_param rollback_params[] = {
        { "reboot", SFU_VARLINK_BOOL },
};

static const struct sfu_varlink_param apply_file_params[] = {
        { "fd", SFU_VARLINK_INT },
        { "allowDowngrade", SFU_VARLINK_BOOL },
        { "wait", SFU_VARLINK_BOOL },
        { "reboot", SFU_VARLINK_BOOL },
};

#define PARAMS(p) .params = (p), .n_params = ELEMENTSOF(p)

static const struct sfu_command table[] = {
        { .name = "Status", .handler = handle_status },
        { .name = "Check", .needs_privilege = true, .handler = handle_check },
        { .name = "Apply", .needs_privilege = true, PARAMS(apply_params), .handler = handle_apply },
        { .name = "ApplyFile",
          .needs_privilege = true,
          .takes_fd = true,
          PARAMS(apply_file_params),
          .handler = handle_apply_file },
        { .name = "Cancel", .needs_privilege = true, .handler = handle_cancel },
        { .name = "Rollback", .needs_privilege = true, PARAMS(rollback_params), .handler = handle_rollback },
        { .name = "MarkGood", .needs_privilege = true, .handler = handle_mark_good },
        { .name = "MarkBad", .needs_privilege = true, .handler = handle_mark_bad },
        { .name = "Monitor", .streams = true, .handler = handle_monitor },
};

const struct sfu_command *sfu_commands_table(size_t *ret_n) {
        *ret_n = ELEMENTSOF(table);
        return table;
}

const struct sfu_command *sfu_commands_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (sfu_streq(table[i].name, name))
                        return &table[i];
        return NULL;
}

void sfu_commands_dispatch(struct sfu_commands *cmds, const struct sfu_command *cmd, struct sfu_call *call,
                           json_t *parameters) {
        const char *bad = NULL;

        if (sfu_varlink_params_check(parameters, cmd->params, cmd->n_params, &bad) < 0) {
                sfu_call_invalid_parameter(call, bad);
                call_close_fd(call);
                return;
        }
        if (cmd->needs_privilege && !call->privileged) {
                struct sfu_err err = SFU_ERR_INIT;
                log_notice("denied %s to uid %u", cmd->name, (unsigned) call->uid);
                (void) sfu_err_set(&err, SFU_ERR_DENIED, EPERM,
                                   "permission denied: %s needs root or membership in the group \"%s\"",
                                   cmd->name, SFU_CONTROL_GROUP);
                sfu_call_fail(call, &err);
                call_close_fd(call);
                return;
        }
        sfu_call_ref(call);
        cmd->handler(cmds, call, parameters);
        /* A job that took the file has its own duplicate. */
        call_close_fd(call);
        sfu_call_unref(call);
}

/* ---------------------------------------------------------------- lifecycle */

int sfu_commands_new(struct sfu_manager *m, sd_event *event, struct sfu_commands **ret) {
        struct sfu_commands *cmds;
        int r;

        cmds = calloc(1, sizeof(*cmds));
        if (!cmds)
                return -ENOMEM;
        cmds->manager = m;
        cmds->event = sd_event_ref(event);
        r = sfu_manager_subscribe(m, on_manager_event, cmds, &cmds->subscription);
        if (r < 0) {
                sfu_commands_free(cmds);
                return r;
        }
        cmds->subscribed = true;
        *ret = cmds;
        return 0;
}

void sfu_commands_free(struct sfu_commands *cmds) {
        if (!cmds)
                return;
        if (cmds->subscribed)
                sfu_manager_unsubscribe(cmds->manager, cmds->subscription);
        while (cmds->monitors)
                waiter_free(cmds->monitors);
        while (cmds->cancels)
                waiter_free(cmds->cancels);
        /* The manager no longer calls job_done once the loop has stopped;
         * the wait record is ours to drop. */
        if (cmds->job) {
                cmds->job->cmds = NULL;
                job_wait_free(cmds->job);
        }
        while (cmds->children)
                child_free(cmds->children);
        sd_event_source_disable_unref(cmds->cancel_timer);
        sd_event_unref(cmds->event);
        free(cmds);
}
