/* SPDX-License-Identifier: MIT */
#include <time.h>

#include "core/json.h"
#include "ctl/dbus-client.h"
#include "io/clock.h"

#define DESTINATION "org.secfu.Daemon1"
#define OBJECT_PATH "/org/secfu/Daemon1"
#define INTERFACE "org.secfu.Daemon1"
#define PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"

static void bus_message_unrefp(sd_bus_message **m) {
        sd_bus_message_unref(*m);
}
#define _cleanup_bus_message_ _cleanup_(bus_message_unrefp)

static void bus_slot_unrefp(sd_bus_slot **s) {
        sd_bus_slot_unref(*s);
}
#define _cleanup_bus_slot_ _cleanup_(bus_slot_unrefp)

int sfu_ctl_bus_open(sd_bus **ret, struct sfu_ctl_failure *f) {
        int r = sd_bus_open_system(ret);
        if (r < 0)
                return sfu_ctl_fail(f, SFU_CTL_EXIT_UNREACHABLE, "cannot connect to the system bus: %s", strerror(-r));
        return 0;
}

static int bus_failure(const sd_bus_error *error, int r, struct sfu_ctl_failure *f) {
        const char *name = error && error->name ? error->name : NULL;
        const char *message = error && error->message ? error->message : strerror(-r);

        if (sfu_streq(name, SD_BUS_ERROR_SERVICE_UNKNOWN) || sfu_streq(name, SD_BUS_ERROR_NAME_HAS_NO_OWNER) ||
            sfu_streq(name, SD_BUS_ERROR_DISCONNECTED) || (!name && (r == -ECONNRESET || r == -ENOTCONN)))
                return sfu_ctl_fail(f, SFU_CTL_EXIT_UNREACHABLE,
                                    "secfud is not running on the system bus (%s): systemctl start secfud",
                                    DESTINATION);
        if (sfu_streq(name, SD_BUS_ERROR_ACCESS_DENIED))
                return sfu_ctl_fail(f, SFU_CTL_EXIT_DENIED, "permission denied: %s", message);
        return sfu_ctl_fail(f, name ? sfu_ctl_exit_status_for(name, NULL) : SFU_CTL_EXIT_FAILED, "%s", message);
}

static int flag(json_t *params, const char *key, bool fallback) {
        json_t *v = json_object_get(params, key);
        return v ? (int) json_is_true(v) : (int) fallback;
}

static int new_call(sd_bus *bus, const char *method, json_t *params, int fd, sd_bus_message **ret,
                    struct sfu_ctl_failure *f) {
        _cleanup_bus_message_ sd_bus_message *m = NULL;
        int r = 0;

        r = sd_bus_message_new_method_call(bus, &m, DESTINATION, OBJECT_PATH, INTERFACE, method);
        if (r < 0)
                return bus_failure(NULL, r, f);
        if (strcmp(method, "Apply") == 0) {
                const char *source = json_string_value(json_object_get(params, "source"));
                r = sd_bus_message_append(m, "sbbb", source ? source : "", flag(params, "allowDowngrade", false),
                                          flag(params, "wait", true), flag(params, "reboot", false));
        } else if (strcmp(method, "ApplyFile") == 0)
                r = sd_bus_message_append(m, "hbbb", fd, flag(params, "allowDowngrade", false),
                                          flag(params, "wait", true), flag(params, "reboot", false));
        else if (strcmp(method, "Rollback") == 0)
                r = sd_bus_message_append(m, "b", flag(params, "reboot", false));
        if (r < 0)
                return bus_failure(NULL, r, f);
        *ret = TAKE_PTR(m);
        return 0;
}

static int parse_reply(sd_bus_message *reply, json_t **ret, struct sfu_ctl_failure *f) {
        struct sfu_err err = SFU_ERR_INIT;
        const char *text = NULL;
        int r = sd_bus_message_read(reply, "s", &text);

        if (r < 0)
                return sfu_ctl_fail(f, SFU_CTL_EXIT_FAILED, "unexpected reply from secfud: %s", strerror(-r));
        if (sfu_json_parse_object(text, strlen(text), SFU_CTL_BUS_REPLY_MAX, ret, &err) < 0)
                return sfu_ctl_fail(f, SFU_CTL_EXIT_FAILED, "unexpected reply from secfud: %s", err.message);
        return 0;
}

/* ---------------------------------------------------------------- properties */

/* Reads one a{sv} of our properties into obj (strings, Fetched as a
 * number, Progress as [done, total]); other types are skipped. */
static int read_properties(sd_bus_message *m, json_t *obj) {
        int r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name, *contents;
                char type;
                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(m, &type, &contents);
                if (r < 0)
                        return r;
                if (sfu_streq(contents, "s")) {
                        const char *value;
                        r = sd_bus_message_read(m, "v", "s", &value);
                        if (r < 0)
                                return r;
                        json_object_set_new(obj, name, json_string(value));
                } else if (sfu_streq(contents, "t")) {
                        uint64_t value;
                        r = sd_bus_message_read(m, "v", "t", &value);
                        if (r < 0)
                                return r;
                        json_object_set_new(obj, name, json_integer((json_int_t) value));
                } else if (sfu_streq(contents, "(tt)")) {
                        uint64_t done, total;
                        r = sd_bus_message_read(m, "v", "(tt)", &done, &total);
                        if (r < 0)
                                return r;
                        json_object_set_new(obj, name, json_pack("[I,I]", (json_int_t) done, (json_int_t) total));
                } else {
                        r = sd_bus_message_skip(m, "v");
                        if (r < 0)
                                return r;
                }
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

struct progress_state {
        struct sfu_ctl_progress *progress;
        char state[32];
        uint64_t done, total;
        uint64_t fetched;       /* Fetched: bytes a delta received, 0 otherwise */
        uint64_t last_done, last_usec;
        double rate;
};

/* D-Bus has no phase or rate: the state stands for the phase, and the
 * rate is measured here. */
static void progress_changed(struct progress_state *ps, json_t *changed) {
        _cleanup_json_ json_t *status = NULL;
        json_t *progress = json_object_get(changed, "Progress");
        json_t *fetched = json_object_get(changed, "Fetched");
        const char *state = json_string_value(json_object_get(changed, "State"));
        uint64_t now = sfu_clock_monotonic_usec();

        if (state)
                snprintf(ps->state, sizeof(ps->state), "%s", state);
        if (json_is_integer(fetched))
                ps->fetched = (uint64_t) json_integer_value(fetched);
        if (json_is_array(progress)) {
                ps->done = (uint64_t) json_integer_value(json_array_get(progress, 0));
                ps->total = (uint64_t) json_integer_value(json_array_get(progress, 1));
                if (ps->last_usec && now > ps->last_usec && ps->done >= ps->last_done)
                        ps->rate = (double) (ps->done - ps->last_done) * 1e6 / (double) (now - ps->last_usec);
                ps->last_done = ps->done;
                ps->last_usec = now;
        }
        if (!ps->progress || ps->total == 0)
                return;
        status = json_pack("{s:{s:s,s:s,s:I,s:I,s:f}}", "progress", "phase", ps->state[0] ? ps->state : "working",
                           "image", "", "done", (json_int_t) ps->done, "total", (json_int_t) ps->total, "rate",
                           ps->rate);
        if (!status)
                return;
        if (ps->fetched > 0)
                json_object_set_new(json_object_get(status, "progress"), "fetched",
                                    json_integer((json_int_t) ps->fetched));
        sfu_ctl_progress_update(ps->progress, status);
}

static int changed_properties(sd_bus_message *m, json_t **ret) {
        _cleanup_json_ json_t *changed = json_object();
        const char *iface;
        int r;

        if (!changed)
                return -ENOMEM;
        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0)
                return r;
        if (!sfu_streq(iface, INTERFACE))
                return 0;
        r = read_properties(m, changed);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(changed);
        return 1;
}

/* ---------------------------------------------------------------- calls */

struct pending {
        bool done;
        json_t *result;
        struct sfu_ctl_failure *f;
        struct progress_state ps;
};

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        struct pending *p = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        p->done = true;
        if (e)
                (void) bus_failure(e, -sd_bus_error_get_errno(e), p->f);
        else
                (void) parse_reply(reply, &p->result, p->f);
        return 0;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        struct pending *p = userdata;
        _cleanup_json_ json_t *changed = NULL;

        if (changed_properties(m, &changed) > 0)
                progress_changed(&p->ps, changed);
        return 0;
}

int sfu_ctl_bus_call(sd_bus *bus, const char *method, json_t *params, int fd, struct sfu_ctl_progress *progress,
                     json_t **ret, struct sfu_ctl_failure *f) {
        _cleanup_bus_message_ sd_bus_message *m = NULL;
        _cleanup_bus_slot_ sd_bus_slot *match = NULL, *call = NULL;
        struct pending p = { .f = f, .ps = { .progress = progress } };
        int r;

        if (new_call(bus, method, params, fd, &m, f) < 0)
                return -1;
        if (progress) {
                r = sd_bus_match_signal(bus, &match, DESTINATION, OBJECT_PATH, PROPERTIES_INTERFACE,
                                        "PropertiesChanged", on_properties_changed, &p);
                if (r < 0)
                        return bus_failure(NULL, r, f);
        }
        /* No timeout: Check and Apply last as long as their job. */
        r = sd_bus_call_async(bus, &call, m, on_reply, &p, UINT64_MAX);
        if (r < 0)
                return bus_failure(NULL, r, f);
        while (!p.done) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return bus_failure(NULL, r, f);
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0 && r != -EINTR)
                        return bus_failure(NULL, r, f);
        }
        if (progress)
                sfu_ctl_progress_finish(progress);
        if (!p.result)
                return -1;
        *ret = p.result;
        return 0;
}

/* ---------------------------------------------------------------- monitor */

struct monitor {
        bool json;
};

static void print_properties(bool json, const char *event, json_t *props) {
        char stamp[16] = "";
        time_t now = time(NULL);
        struct tm tm;
        const char *key;
        json_t *v;

        if (json) {
                _cleanup_json_ json_t *line = json_pack("{s:s,s:O}", "event", event, "properties", props);
                if (line)
                        sfu_ctl_print_json(stdout, line, true);
                return;
        }
        if (localtime_r(&now, &tm))
                strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
        printf("%s %s:", stamp, event);
        json_object_foreach(props, key, v) {
                if (json_is_string(v))
                        printf(" %s=%s", key, json_string_value(v)[0] ? json_string_value(v) : "-");
                else if (json_is_array(v))
                        printf(" %s=%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT, key,
                               json_integer_value(json_array_get(v, 0)), json_integer_value(json_array_get(v, 1)));
        }
        printf("\n");
        fflush(stdout);
}

static int on_monitor_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        struct monitor *mon = userdata;
        _cleanup_json_ json_t *changed = NULL;

        if (changed_properties(m, &changed) > 0)
                print_properties(mon->json, "changed", changed);
        return 0;
}

int sfu_ctl_bus_monitor(sd_bus *bus, bool json, volatile sig_atomic_t *stop, struct sfu_ctl_failure *f) {
        _cleanup_bus_slot_ sd_bus_slot *match = NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        _cleanup_json_ json_t *props = json_object();
        sd_bus_error error = SD_BUS_ERROR_NULL;
        struct monitor mon = { .json = json };
        int r;

        if (!props)
                return sfu_ctl_fail(f, SFU_CTL_EXIT_FAILED, "out of memory");
        r = sd_bus_match_signal(bus, &match, DESTINATION, OBJECT_PATH, PROPERTIES_INTERFACE, "PropertiesChanged",
                                on_monitor_signal, &mon);
        if (r < 0)
                return bus_failure(NULL, r, f);
        r = sd_bus_call_method(bus, DESTINATION, OBJECT_PATH, PROPERTIES_INTERFACE, "GetAll", &error, &reply, "s",
                               INTERFACE);
        if (r < 0) {
                (void) bus_failure(&error, r, f);
                sd_bus_error_free(&error);
                return -1;
        }
        r = read_properties(reply, props);
        if (r < 0)
                return sfu_ctl_fail(f, SFU_CTL_EXIT_FAILED, "unexpected reply from secfud: %s", strerror(-r));
        print_properties(json, "properties", props);
        while (!*stop) {
                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        if (r == -ECONNRESET || r == -ENOTCONN)
                                return sfu_ctl_fail(f, SFU_CTL_EXIT_UNREACHABLE, "the system bus went away");
                        return bus_failure(NULL, r, f);
                }
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0 && r != -EINTR)
                        return bus_failure(NULL, r, f);
        }
        return 0;
}
