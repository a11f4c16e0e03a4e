/* SPDX-License-Identifier: MIT */
/* The D-Bus adapter: org.secfu.Daemon1 on the system bus.  Each method
 * turns its arguments into the JSON parameters of the command table (the
 * same names, in snake_case here: allow_downgrade is allowDowngrade) and
 * answers with the reply's JSON as a string; the properties mirror the
 * status and PropertiesChanged follows the manager's events.  Check and
 * Apply answer from their job's end (the request message is kept).
 * ApplyFile's 'h' is borrowed from the message: the call gets a dup.
 *
 * The caller is who the bus says it is: its uid and groups as the bus
 * driver reports them for the sender's unique name (GetConnectionCredentials),
 * nothing read from /proc, which a process can change or race. */
#include <fcntl.h>
#include <systemd/sd-bus.h>

#include "core/json.h"
#include "daemon/control.h"
#include "daemon/log.h"

#define BUS_NAME "org.secfu.Daemon1"
#define OBJECT_PATH "/org/secfu/Daemon1"
#define INTERFACE "org.secfu.Daemon1"

/* The properties that PropertiesChanged reports, in the vtable's order. */
static const char *const property_names[] = {
        "State", "BootedSlot", "RunningVersion", "AvailableVersion", "StagedVersion", "Progress", "Fetched", "LastError",
};
#define N_PROPERTIES ELEMENTSOF(property_names)

struct sfu_dbus_service {
        struct sfu_commands *cmds;
        struct sfu_manager *manager;
        sd_bus *bus;
        sd_bus_slot *vtable_slot;
        unsigned subscription;
        bool subscribed;
        char *last[N_PROPERTIES];       /* values last reported, for PropertiesChanged */
};

struct dcall {
        struct sfu_call base;
        sd_bus_message *msg;
};

/* ---------------------------------------------------------------- values */

static const char *string_or_empty(json_t *status, const char *key) {
        const char *v = json_string_value(json_object_get(status, key));
        return v ? v : "";
}

static void progress_of(json_t *status, uint64_t *ret_done, uint64_t *ret_total) {
        json_t *p = json_object_get(status, "progress");
        json_int_t done = json_integer_value(json_object_get(p, "done"));
        json_int_t total = json_integer_value(json_object_get(p, "total"));

        *ret_done = done > 0 ? (uint64_t) done : 0;
        *ret_total = total > 0 ? (uint64_t) total : 0;
}

/* progress.fetched: during a delta, the bytes received from the server;
 * 0 otherwise. */
static uint64_t fetched_of(json_t *status) {
        json_int_t fetched = json_integer_value(json_object_get(json_object_get(status, "progress"), "fetched"));
        return fetched > 0 ? (uint64_t) fetched : 0;
}

/* One property as text, for comparing with what was last reported. */
static char *property_text(json_t *status, const char *name) {
        char *text = NULL;

        if (strcmp(name, "State") == 0)
                return strdup(string_or_empty(status, "state"));
        if (strcmp(name, "BootedSlot") == 0)
                return strdup(string_or_empty(status, "bootedSlot"));
        if (strcmp(name, "RunningVersion") == 0)
                return strdup(string_or_empty(status, "runningVersion"));
        if (strcmp(name, "AvailableVersion") == 0)
                return strdup(string_or_empty(status, "availableVersion"));
        if (strcmp(name, "StagedVersion") == 0)
                return strdup(string_or_empty(status, "stagedVersion"));
        if (strcmp(name, "LastError") == 0)
                return strdup(string_or_empty(json_object_get(status, "lastError"), "message"));
        if (strcmp(name, "Progress") == 0) {
                uint64_t done, total;
                progress_of(status, &done, &total);
                if (asprintf(&text, "%llu %llu", (unsigned long long) done, (unsigned long long) total) < 0)
                        return NULL;
                return text;
        }
        if (strcmp(name, "Fetched") == 0) {
                if (asprintf(&text, "%llu", (unsigned long long) fetched_of(status)) < 0)
                        return NULL;
                return text;
        }
        return NULL;
}

static int get_string_property(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        struct sfu_dbus_service *s = userdata;
        _cleanup_json_ json_t *status = NULL;
        _cleanup_free_ char *text = NULL;

        if (sfu_manager_status(s->manager, &status) < 0)
                return -ENOMEM;
        text = property_text(status, property);
        if (!text)
                return -ENOMEM;
        return sd_bus_message_append(reply, "s", text);
}

static int get_progress(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        struct sfu_dbus_service *s = userdata;
        _cleanup_json_ json_t *status = NULL;
        uint64_t done, total;

        if (sfu_manager_status(s->manager, &status) < 0)
                return -ENOMEM;
        progress_of(status, &done, &total);
        return sd_bus_message_append(reply, "(tt)", done, total);
}

static int get_fetched(sd_bus *bus, const char *path, const char *interface, const char *property,
                       sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        struct sfu_dbus_service *s = userdata;
        _cleanup_json_ json_t *status = NULL;

        if (sfu_manager_status(s->manager, &status) < 0)
                return -ENOMEM;
        return sd_bus_message_append(reply, "t", fetched_of(status));
}

static void on_manager_event(struct sfu_manager *m, const char *kind, json_t *status, void *userdata) {
        struct sfu_dbus_service *s = userdata;
        char *changed[N_PROPERTIES + 1];
        size_t n = 0;
        int r;

        for (size_t i = 0; i < N_PROPERTIES; i++) {
                char *text = property_text(status, property_names[i]);
                if (!text || sfu_streq(text, s->last[i])) {
                        free(text);
                        continue;
                }
                free(s->last[i]);
                s->last[i] = text;
                changed[n++] = (char *) property_names[i];
        }
        if (n == 0)
                return;
        changed[n] = NULL;
        r = sd_bus_emit_properties_changed_strv(s->bus, OBJECT_PATH, INTERFACE, changed);
        if (r < 0)
                log_debug("cannot emit PropertiesChanged: %s", strerror(-r));
}

/* ---------------------------------------------------------------- calls */

static struct dcall *dcall_of(struct sfu_call *call) {
        return (struct dcall *) call;
}

static void reply_json(struct dcall *dc, json_t *parameters) {
        _cleanup_free_ char *text = sfu_json_dump_compact(parameters);
        int r;

        if (!text)
                r = sd_bus_reply_method_errorf(dc->msg, SD_BUS_ERROR_NO_MEMORY, "out of memory");
        else
                r = sd_bus_reply_method_return(dc->msg, "s", text);
        if (r < 0)
                log_debug("cannot answer a D-Bus call: %s", strerror(-r));
}

static void op_reply(struct sfu_call *call, json_t *parameters) {
        reply_json(dcall_of(call), parameters);
}

static void op_more(struct sfu_call *call, json_t *parameters) {
        /* D-Bus methods answer once; changes go out as PropertiesChanged. */
}

static void op_fail(struct sfu_call *call, const struct sfu_err *err) {
        int r = sd_bus_reply_method_errorf(dcall_of(call)->msg, sfu_err_code_dbus(err->code), "%s", err->message);
        if (r < 0)
                log_debug("cannot answer a D-Bus call: %s", strerror(-r));
}

/* A parameter of the command table by its D-Bus argument name. */
static const char *argument_name(const char *parameter) {
        static const char *const names[][2] = {
                { "allowDowngrade", "allow_downgrade" },
                { "fd", "file" },
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (sfu_streq(parameter, names[i][0]))
                        return names[i][1];
        return parameter;
}

static void op_invalid_parameter(struct sfu_call *call, const char *parameter) {
        int r = sd_bus_reply_method_errorf(dcall_of(call)->msg, SD_BUS_ERROR_INVALID_ARGS, "invalid argument: %s",
                                           argument_name(parameter));
        if (r < 0)
                log_debug("cannot answer a D-Bus call: %s", strerror(-r));
}

static void op_free(struct sfu_call *call) {
        struct dcall *dc = dcall_of(call);
        sd_bus_message_unref(dc->msg);
        free(dc);
}

static const struct sfu_call_ops dcall_ops = {
        .reply = op_reply,
        .more = op_more,
        .fail = op_fail,
        .invalid_parameter = op_invalid_parameter,
        .free = op_free,
};

static const char *sender_name(sd_bus_message *msg) {
        const char *name = sd_bus_message_get_sender(msg);
        return name ? name : "(no sender)";
}

/* Groups of a caller read from the bus driver's answer. */
#define MAX_GROUPS 65536u

/* The caller's uid and groups as the bus driver records them for the
 * sender's unique name: org.freedesktop.DBus.GetConnectionCredentials,
 * UnixUserID and UnixGroupIDs (dbus-daemon takes both from the kernel,
 * SO_PEERCRED and SO_PEERGROUPS, when the caller connected, and a unique
 * name is never reused).  Nothing comes from /proc: sd-bus would augment
 * what it cannot map from the bus (libsystemd 252 maps no UnixGroupIDs)
 * from /proc/PID, which the caller can race.  -ENODATA when the bus does
 * not name the uid; *ret_has_groups says whether it named the groups. */
static int bus_credentials(sd_bus_message *msg, uid_t *ret_uid, gid_t **ret_groups, size_t *ret_n,
                           bool *ret_has_groups) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ gid_t *groups = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *sender = sd_bus_message_get_sender(msg);
        bool has_uid = false, has_groups = false;
        uid_t uid = (uid_t) -1;
        size_t n = 0;
        int r;

        if (!sender || sender[0] != ':')
                return -ENODATA;
        r = sd_bus_call_method(sd_bus_message_get_bus(msg), "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "GetConnectionCredentials", &error, &reply, "s", sender);
        sd_bus_error_free(&error);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *key;
                r = sd_bus_message_read(reply, "s", &key);
                if (r < 0)
                        return r;
                if (strcmp(key, "UnixUserID") == 0) {
                        uint32_t u;
                        r = sd_bus_message_read(reply, "v", "u", &u);
                        if (r < 0)
                                return r;
                        uid = (uid_t) u;
                        has_uid = true;
                } else if (strcmp(key, "UnixGroupIDs") == 0) {
                        const void *array;
                        size_t size;
                        r = sd_bus_message_enter_container(reply, 'v', "au");
                        if (r < 0)
                                return r;
                        r = sd_bus_message_read_array(reply, 'u', &array, &size);
                        if (r < 0)
                                return r;
                        if (size / sizeof(uint32_t) > MAX_GROUPS)
                                return -E2BIG;
                        free(groups);
                        groups = calloc(size / sizeof(uint32_t) + 1, sizeof(gid_t));
                        if (!groups)
                                return -ENOMEM;
                        n = size / sizeof(uint32_t);
                        for (size_t i = 0; i < n; i++) {
                                uint32_t g;
                                memcpy(&g, (const char *) array + i * sizeof(uint32_t), sizeof(g));
                                groups[i] = (gid_t) g;
                        }
                        has_groups = true;
                        r = sd_bus_message_exit_container(reply);
                        if (r < 0)
                                return r;
                } else {
                        r = sd_bus_message_skip(reply, "v");
                        if (r < 0)
                                return r;
                }
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        if (!has_uid)
                return -ENODATA;
        *ret_uid = uid;
        *ret_groups = TAKE_PTR(groups);
        *ret_n = n;
        *ret_has_groups = has_groups;
        return 0;
}

/* Privileged: uid 0, or the group secfu among the groups the bus reports
 * (dbus-daemon's UnixGroupIDs hold the primary group too); when the bus
 * reports no groups, only uid 0 is.  *ret_uid: the caller's uid, or
 * (uid_t) -1 when the bus does not say. */
static bool sender_privileged(sd_bus_message *msg, uid_t *ret_uid) {
        _cleanup_free_ gid_t *groups = NULL;
        bool has_groups = false;
        uid_t uid = (uid_t) -1;
        size_t n = 0;
        int r;

        *ret_uid = uid;
        r = bus_credentials(msg, &uid, &groups, &n, &has_groups);
        if (r < 0) {
                log_debug("cannot learn the credentials of %s from the bus: %s", sender_name(msg), strerror(-r));
                return false;
        }
        *ret_uid = uid;
        log_debug("D-Bus caller %s: uid %u, %zu group(s) vouched for by the bus%s", sender_name(msg), (unsigned) uid,
                  n, has_groups ? "" : " (it names none)");
        if (uid == 0)
                return true;
        if (!has_groups)
                return false;
        return sfu_commands_peer_privileged(uid, (gid_t) -1, groups, n);
}

static int set_flag(json_t *params, const char *key, int value) {
        return json_object_set_new(params, key, json_boolean(value)) < 0 ? -ENOMEM : 0;
}

/* The method's arguments as the command table's parameters; ApplyFile's
 * descriptor, duplicated, in *ret_fd (else -1). */
static int read_parameters(sd_bus_message *msg, const char *member, json_t *params, int *ret_fd) {
        int allow_downgrade = 0, wait = 1, reboot = 0, r;

        *ret_fd = -1;
        if (strcmp(member, "Apply") == 0) {
                const char *source = NULL;
                r = sd_bus_message_read(msg, "sbbb", &source, &allow_downgrade, &wait, &reboot);
                if (r < 0)
                        return r;
                if (source && source[0] && json_object_set_new(params, "source", json_string(source)) < 0)
                        return -ENOMEM;
        } else if (strcmp(member, "ApplyFile") == 0) {
                int borrowed = -1, fd;
                r = sd_bus_message_read(msg, "hbbb", &borrowed, &allow_downgrade, &wait, &reboot);
                if (r < 0)
                        return r;
                fd = fcntl(borrowed, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return -errno;
                if (json_object_set_new(params, "fd", json_integer(0)) < 0) {
                        close(fd);
                        return -ENOMEM;
                }
                *ret_fd = fd;
        } else if (strcmp(member, "Rollback") == 0) {
                r = sd_bus_message_read(msg, "b", &reboot);
                if (r < 0)
                        return r;
                return set_flag(params, "reboot", reboot);
        } else
                return 0;
        if (set_flag(params, "allowDowngrade", allow_downgrade) < 0 || set_flag(params, "wait", wait) < 0 ||
            set_flag(params, "reboot", reboot) < 0) {
                if (*ret_fd >= 0)
                        close(*ret_fd);
                *ret_fd = -1;
                return -ENOMEM;
        }
        return 0;
}

static int method_call(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        struct sfu_dbus_service *s = userdata;
        const char *member = sd_bus_message_get_member(msg);
        const struct sfu_command *cmd = sfu_commands_find(member);
        _cleanup_json_ json_t *params = json_object();
        struct dcall *dc;
        bool privileged = false;
        uid_t uid = (uid_t) -1;
        int fd = -1, r;

        if (!cmd || cmd->streams)
                return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_METHOD, "unknown method %s", member);
        if (!params)
                return -ENOMEM;
        r = read_parameters(msg, member, params, &fd);
        if (r < 0)
                return r;
        if (cmd->needs_privilege)
                privileged = sender_privileged(msg, &uid);
        dc = calloc(1, sizeof(*dc));
        if (!dc) {
                if (fd >= 0)
                        close(fd);
                return -ENOMEM;
        }
        sfu_call_init(&dc->base, &dcall_ops, cmd->name, uid, privileged, false);
        dc->base.fd = fd;
        dc->msg = sd_bus_message_ref(msg);
        sfu_commands_dispatch(s->cmds, cmd, &dc->base, params);
        sfu_call_unref(&dc->base);
        return 1;
}

static const sd_bus_vtable service_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("State", "s", get_string_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("BootedSlot", "s", get_string_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("RunningVersion", "s", get_string_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("AvailableVersion", "s", get_string_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StagedVersion", "s", get_string_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Progress", "(tt)", get_progress, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Fetched", "t", get_fetched, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LastError", "s", get_string_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        /* Access is decided per call (sfu_commands_dispatch), not by
         * sd-bus' capability check. */
        SD_BUS_METHOD("Status", "", "s", method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Check", "", "s", method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        /* The arguments are the Varlink parameters of the same method,
         * in snake_case (tests/integration/control-parity.sh holds them
         * together); "" as source is none. */
        SD_BUS_METHOD_WITH_ARGS("Apply", SD_BUS_ARGS("s", source, "b", allow_downgrade, "b", wait, "b", reboot),
                                SD_BUS_RESULT("s", result), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ApplyFile", SD_BUS_ARGS("h", file, "b", allow_downgrade, "b", wait, "b", reboot),
                                SD_BUS_RESULT("s", result), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Cancel", "", "s", method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Rollback", SD_BUS_ARGS("b", reboot), SD_BUS_RESULT("s", result), method_call,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("MarkGood", "", "s", method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("MarkBad", "", "s", method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

/* ---------------------------------------------------------------- lifecycle */

int sfu_dbus_service_new(struct sfu_commands *cmds, struct sfu_manager *m, sd_event *event,
                         struct sfu_dbus_service **ret, struct sfu_err *err) {
        struct sfu_dbus_service *s;
        _cleanup_json_ json_t *status = NULL;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->cmds = cmds;
        s->manager = m;

        r = sd_bus_open_system(&s->bus);
        if (r < 0) {
                sfu_dbus_service_free(s);
                return sfu_err_set(err, SFU_ERR_STATE, r, "no system bus: %s", strerror(-r));
        }
        (void) sd_bus_set_exit_on_disconnect(s->bus, false);
        r = sd_bus_add_object_vtable(s->bus, &s->vtable_slot, OBJECT_PATH, INTERFACE, service_vtable, s);
        if (r < 0) {
                sfu_dbus_service_free(s);
                return sfu_err_set(err, SFU_ERR_STATE, r, "cannot export %s: %s", OBJECT_PATH, strerror(-r));
        }
        r = sd_bus_request_name(s->bus, BUS_NAME, 0);
        if (r < 0) {
                sfu_dbus_service_free(s);
                return sfu_err_set(err, SFU_ERR_STATE, r, "cannot own the bus name %s: %s", BUS_NAME,
                                   strerror(-r));
        }
        r = sd_bus_attach_event(s->bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0) {
                sfu_dbus_service_free(s);
                return sfu_err_set(err, SFU_ERR_STATE, r, "cannot attach the bus to the event loop: %s",
                                   strerror(-r));
        }
        /* What the properties say now is the base for PropertiesChanged. */
        if (sfu_manager_status(m, &status) >= 0)
                for (size_t i = 0; i < N_PROPERTIES; i++)
                        s->last[i] = property_text(status, property_names[i]);
        r = sfu_manager_subscribe(m, on_manager_event, s, &s->subscription);
        if (r < 0) {
                sfu_dbus_service_free(s);
                return sfu_err_set(err, SFU_ERR_STATE, r, "cannot follow the manager's events");
        }
        s->subscribed = true;
        *ret = s;
        return 0;
}

void sfu_dbus_service_free(struct sfu_dbus_service *s) {
        if (!s)
                return;
        if (s->subscribed)
                sfu_manager_unsubscribe(s->manager, s->subscription);
        sd_bus_slot_unref(s->vtable_slot);
        if (s->bus) {
                (void) sd_bus_flush(s->bus);
                sd_bus_detach_event(s->bus);
                sd_bus_flush_close_unref(s->bus);
        }
        for (size_t i = 0; i < N_PROPERTIES; i++)
                free(s->last[i]);
        free(s);
}
