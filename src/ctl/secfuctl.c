/* SPDX-License-Identifier: MIT */
/* secfuctl: talks to secfud over its control socket (Varlink) or, with
 * --dbus, over D-Bus.  Exit codes: 0 success, 1 operation failed, 2 usage
 * error, 3 daemon not reachable, 4 not permitted. */
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "core/json.h"
#include "core/varlink.h"
#include "ctl/ctl.h"
#include "ctl/dbus-client.h"
#include "ctl/output.h"
#include "ctl/varlink-client.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define PROG "secfuctl"
#define INTERFACE "org.secfu.Daemon."

enum {
        FLAG_REBOOT = 1u << 0,
        FLAG_NO_WAIT = 1u << 1,
        FLAG_ALLOW_DOWNGRADE = 1u << 2,
};

struct options {
        const char *socket;
        bool json;
        bool dbus;
        unsigned flags;
        const char *argument;   /* apply's URL or FILE */
};

struct command {
        const char *name;
        const char *method;     /* Varlink member / D-Bus method */
        unsigned flags;         /* which FLAG_* it takes */
        bool takes_argument;
        int (*run)(const struct command *cmd, const struct options *o, struct sfu_ctl_failure *f);
};

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig) {
        interrupted = 1;
}

static void help(void) {
        printf("Usage: " PROG " [--json] [-s PATH] [--dbus] COMMAND\n"
               "\n"
               "Controls secfud, the firmware-update agent.\n"
               "\n"
               "Commands:\n"
               "  status                     state, slots, versions, progress, last error\n"
               "  check                      discover and verify the manifest now\n"
               "  apply [--reboot] [--no-wait] [--allow-downgrade] [URL|FILE]\n"
               "                             download, verify and stage the available update\n"
               "                             (or the manifest at URL, or in FILE, which secfuctl\n"
               "                             opens with your rights and passes to secfud)\n"
               "  cancel                     abort the running download/stage\n"
               "  rollback [--reboot]        make the other slot primary again\n"
               "  mark-good                  confirm the trial boot of the running slot\n"
               "  mark-bad                   reject the running slot\n"
               "  monitor                    print events until interrupted\n"
               "\n"
               "Options:\n"
               "  -s, --socket PATH          control socket (default %s)\n"
               "      --dbus                 use D-Bus (org.secfu.Daemon1) instead of the socket\n"
               "      --json                 machine output: one JSON document (monitor: one per line)\n"
               "      --version              print the version\n"
               "  -h, --help                 this text\n"
               "\n"
               "Exit status: 0 success, 1 operation failed, 2 usage error, 3 secfud not\n"
               "reachable, 4 not permitted.\n",
               SFU_CTL_DEFAULT_SOCKET);
}

_printf_(1, 2) static int usage_error(const char *fmt, ...) {
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        fprintf(stderr, PROG ": %s (see '" PROG " --help')\n", msg);
        return SFU_CTL_EXIT_USAGE;
}

/* ---------------------------------------------------------------- Varlink */

static int connect_daemon(const struct options *o, struct sfu_varlink_client **ret, struct sfu_ctl_failure *f) {
        int r = sfu_varlink_client_connect(o->socket, ret);

        if (r == -EACCES || r == -EPERM)
                return sfu_ctl_fail(f, SFU_CTL_EXIT_UNREACHABLE, "cannot connect to %s: %s", o->socket,
                                    strerror(-r));
        if (r < 0)
                return sfu_ctl_fail(f, SFU_CTL_EXIT_UNREACHABLE,
                                    "secfud is not running (cannot connect to %s): systemctl start secfud", o->socket);
        return 0;
}

static int receive_failure(int r, const struct sfu_err *err, struct sfu_ctl_failure *f) {
        if (r == -EINTR)
                return sfu_ctl_fail(f, SFU_CTL_EXIT_FAILED, "interrupted");
        if (r == -EBADMSG)
                return sfu_ctl_fail(f, SFU_CTL_EXIT_FAILED, "unexpected reply from secfud: %s", err->message);
        if (r == -EMSGSIZE)
                return sfu_ctl_fail(f, SFU_CTL_EXIT_FAILED, "reply from secfud exceeds %u bytes",
                                    SFU_VARLINK_CLIENT_REPLY_MAX);
        return sfu_ctl_fail(f, SFU_CTL_EXIT_UNREACHABLE, "secfud closed the connection (%s)", strerror(-r));
}

/* An error reply: the message it carries, the exit status its code maps to. */
static int error_reply(const struct sfu_varlink_reply *reply, struct sfu_ctl_failure *f) {
        const char *message = json_string_value(json_object_get(reply->parameters, "message"));
        const char *code = json_string_value(json_object_get(reply->parameters, "code"));
        const char *parameter = json_string_value(json_object_get(reply->parameters, "parameter"));
        int status = sfu_ctl_exit_status_for(reply->error, code);

        if (message)
                return sfu_ctl_fail(f, status, "%s", message);
        if (parameter)
                return sfu_ctl_fail(f, status, "%s: invalid parameter \"%s\"", reply->error, parameter);
        return sfu_ctl_fail(f, status, "secfud answered %s", reply->error);
}

/* Sends member with params, and fd (when >= 0) with it. */
static int send_call(struct sfu_varlink_client *c, const char *member, json_t *params, bool more, int fd) {
        char method[128];

        snprintf(method, sizeof(method), INTERFACE "%s", member);
        return fd >= 0 ? sfu_varlink_client_call_fd(c, method, params, more, fd)
                       : sfu_varlink_client_call(c, method, params, more);
}

/* One call, one reply: *ret gets the reply's parameters. */
static int varlink_call(const struct options *o, const char *member, json_t *params, int fd, json_t **ret,
                        struct sfu_ctl_failure *f) {
        _cleanup_varlink_client_ struct sfu_varlink_client *c = NULL;
        struct sfu_varlink_reply reply = {};
        struct sfu_err err = SFU_ERR_INIT;
        int r;

        if (connect_daemon(o, &c, f) < 0)
                return -1;
        r = send_call(c, member, params, false, fd);
        if (r < 0)
                return sfu_ctl_fail(f, SFU_CTL_EXIT_UNREACHABLE, "cannot send to secfud: %s", strerror(-r));
        r = sfu_varlink_client_receive(c, true, &reply, &err);
        if (r < 0)
                return receive_failure(r, &err, f);
        if (reply.error) {
                (void) error_reply(&reply, f);
                sfu_varlink_reply_done(&reply);
                return -1;
        }
        *ret = json_incref(reply.parameters);
        sfu_varlink_reply_done(&reply);
        return 0;
}

/* Apply (or ApplyFile) with a progress display: Monitor (more) on one
 * connection shows the progress, the call on another ends it when its
 * reply arrives. */
static int varlink_apply_with_progress(const struct options *o, const char *member, json_t *params, int fd,
                                       struct sfu_ctl_progress *progress, json_t **ret, struct sfu_ctl_failure *f) {
        _cleanup_varlink_client_ struct sfu_varlink_client *monitor = NULL, *apply = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        bool monitoring = true;
        int r;

        if (connect_daemon(o, &monitor, f) < 0 || connect_daemon(o, &apply, f) < 0)
                return -1;
        if (sfu_varlink_client_call(monitor, INTERFACE "Monitor", NULL, true) < 0)
                monitoring = false;
        r = send_call(apply, member, params, false, fd);
        if (r < 0)
                return sfu_ctl_fail(f, SFU_CTL_EXIT_UNREACHABLE, "cannot send to secfud: %s", strerror(-r));
        for (;;) {
                struct pollfd p[2] = {
                        { .fd = sfu_varlink_client_fd(apply), .events = POLLIN },
                        { .fd = monitoring ? sfu_varlink_client_fd(monitor) : -1, .events = POLLIN },
                };
                struct sfu_varlink_reply reply = {};

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return sfu_ctl_fail(f, SFU_CTL_EXIT_FAILED, "poll: %s", strerror(errno));
                }
                if (p[1].revents) {
                        while ((r = sfu_varlink_client_receive(monitor, false, &reply, &err)) > 0) {
                                if (!reply.error)
                                        sfu_ctl_progress_update(progress,
                                                                json_object_get(reply.parameters, "status"));
                                if (reply.error || !reply.continues)
                                        monitoring = false;
                                sfu_varlink_reply_done(&reply);
                        }
                        if (r < 0)
                                monitoring = false; /* progress is a nicety; the answer matters */
                }
                if (p[0].revents) {
                        r = sfu_varlink_client_receive(apply, false, &reply, &err);
                        if (r < 0) {
                                sfu_ctl_progress_finish(progress);
                                return receive_failure(r, &err, f);
                        }
                        if (r > 0) {
                                sfu_ctl_progress_finish(progress);
                                if (reply.error) {
                                        (void) error_reply(&reply, f);
                                        sfu_varlink_reply_done(&reply);
                                        return -1;
                                }
                                *ret = json_incref(reply.parameters);
                                sfu_varlink_reply_done(&reply);
                                return 0;
                        }
                }
        }
}

/* ---------------------------------------------------------------- transport */

/* The command's one call through the chosen transport, with fd (when
 * >= 0) passed along (ApplyFile). progress: show it while the call runs
 * (apply on a terminal or in plain lines). */
static int call_fd(const struct options *o, const char *member, json_t *params, int fd,
                   struct sfu_ctl_progress *progress, json_t **ret, struct sfu_ctl_failure *f) {
        if (o->dbus) {
                sd_bus *bus = NULL;
                int r;
                if (sfu_ctl_bus_open(&bus, f) < 0)
                        return -1;
                r = sfu_ctl_bus_call(bus, member, params, fd, progress, ret, f);
                sd_bus_flush_close_unref(bus);
                return r;
        }
        if (progress)
                return varlink_apply_with_progress(o, member, params, fd, progress, ret, f);
        return varlink_call(o, member, params, fd, ret, f);
}

static int call(const struct options *o, const char *member, json_t *params, struct sfu_ctl_progress *progress,
                json_t **ret, struct sfu_ctl_failure *f) {
        return call_fd(o, member, params, -1, progress, ret, f);
}

/* ---------------------------------------------------------------- commands */

static const char *str(json_t *obj, const char *key) {
        const char *v = json_string_value(json_object_get(obj, key));
        return v ? v : "?";
}

/* The reboot part of a reply: "reboot": false with "rebootError" fails. */
static int report_reboot(json_t *reply, struct sfu_ctl_failure *f) {
        json_t *reboot = json_object_get(reply, "reboot");
        const char *why = json_string_value(json_object_get(reply, "rebootError"));

        if (json_is_false(reboot) && why)
                return sfu_ctl_fail(f, SFU_CTL_EXIT_FAILED, "the reboot failed: %s", why);
        return 0;
}

static int run_status(const struct command *cmd, const struct options *o, struct sfu_ctl_failure *f) {
        _cleanup_json_ json_t *reply = NULL;

        if (call(o, cmd->method, NULL, NULL, &reply, f) < 0)
                return -1;
        if (o->json)
                sfu_ctl_print_json(stdout, reply, false);
        else
                sfu_ctl_print_status(stdout, reply);
        return 0;
}

static int run_check(const struct command *cmd, const struct options *o, struct sfu_ctl_failure *f) {
        _cleanup_json_ json_t *reply = NULL;
        const char *result;

        if (call(o, cmd->method, NULL, NULL, &reply, f) < 0)
                return -1;
        if (o->json) {
                sfu_ctl_print_json(stdout, reply, false);
                return 0;
        }
        result = str(reply, "result");
        if (strcmp(result, "up-to-date") == 0)
                printf("up to date (the newest firmware offered is %s, from %s)\n", str(reply, "version"),
                       str(reply, "source"));
        else if (strcmp(result, "available") == 0)
                printf("update available: %s (from %s); install it with: secfuctl apply\n", str(reply, "version"),
                       str(reply, "source"));
        else if (strcmp(result, "staged") == 0)
                printf("%s is staged (from %s); reboot to try it\n", str(reply, "version"), str(reply, "source"));
        else
                printf("%s\n", result);
        return 0;
}

static bool is_url(const char *arg) {
        return strncasecmp(arg, "http://", 7) == 0 || strncasecmp(arg, "https://", 8) == 0;
}

/* FILE by its absolute path, for messages. */
static int absolute_path(const char *arg, char **ret, struct sfu_ctl_failure *f) {
        char cwd[PATH_MAX];

        if (arg[0] == '/')
                *ret = strdup(arg);
        else if (!getcwd(cwd, sizeof(cwd)))
                return sfu_ctl_fail(f, SFU_CTL_EXIT_FAILED, "cannot find the current directory: %s", strerror(errno));
        else if (asprintf(ret, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, arg) < 0)
                *ret = NULL;
        return *ret ? 0 : sfu_ctl_fail(f, SFU_CTL_EXIT_FAILED, "out of memory");
}

/* FILE, opened with the caller's rights (secfud opens no file for anyone
 * but root): a regular file, or the caller's error before anything is
 * sent. */
static int open_manifest(const char *arg, int *ret_fd, struct sfu_ctl_failure *f) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (absolute_path(arg, &path, f) < 0)
                return -1;
        /* O_NONBLOCK: a FIFO does not hang us here; secfud refuses it. */
        fd = open(arg, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return sfu_ctl_fail(f, SFU_CTL_EXIT_FAILED, "cannot open %s: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0)
                return sfu_ctl_fail(f, SFU_CTL_EXIT_FAILED, "cannot inspect %s: %s", path, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return sfu_ctl_fail(f, SFU_CTL_EXIT_FAILED, "%s is not a regular file", path);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int run_apply(const struct command *cmd, const struct options *o, struct sfu_ctl_failure *f) {
        _cleanup_json_ json_t *params = NULL;
        _cleanup_json_ json_t *reply = NULL;
        _cleanup_close_ int fd = -1;
        struct sfu_ctl_progress progress;
        bool wait = !(o->flags & FLAG_NO_WAIT);
        const char *member = cmd->method, *result;

        if (o->argument && strstr(o->argument, "://") && !is_url(o->argument))
                return sfu_ctl_fail(f, SFU_CTL_EXIT_USAGE, "%s: only http and https URLs are supported", o->argument);
        params = json_pack("{s:b,s:b,s:b}", "allowDowngrade", (o->flags & FLAG_ALLOW_DOWNGRADE) != 0, "wait", wait,
                           "reboot", (o->flags & FLAG_REBOOT) != 0);
        if (!params)
                return sfu_ctl_fail(f, SFU_CTL_EXIT_FAILED, "out of memory");
        if (o->argument && is_url(o->argument)) {
                if (json_object_set_new(params, "source", json_string(o->argument)) < 0)
                        return sfu_ctl_fail(f, SFU_CTL_EXIT_FAILED, "out of memory");
        } else if (o->argument) {
                if (open_manifest(o->argument, &fd, f) < 0)
                        return -1;
                member = "ApplyFile";
                if (json_object_set_new(params, "fd", json_integer(0)) < 0)
                        return sfu_ctl_fail(f, SFU_CTL_EXIT_FAILED, "out of memory");
        }

        sfu_ctl_progress_init(&progress, stdout, isatty(STDOUT_FILENO) == 1);
        if (call_fd(o, member, params, fd, wait && !o->json ? &progress : NULL, &reply, f) < 0)
                return -1;
        if (o->json) {
                sfu_ctl_print_json(stdout, reply, false);
                return report_reboot(reply, f);
        }
        result = str(reply, "result");
        if (strcmp(result, "started") == 0)
                printf("apply started; follow it with: secfuctl monitor\n");
        else if (strcmp(result, "staged") == 0) {
                printf("%s staged (from %s)", str(reply, "version"), str(reply, "source"));
                if (json_is_true(json_object_get(reply, "reboot")))
                        printf("; rebooting now\n");
                else
                        printf("; reboot to try it (systemctl reboot)\n");
        } else if (strcmp(result, "up-to-date") == 0)
                printf("up to date (the newest firmware offered is %s, from %s); nothing to apply\n",
                       str(reply, "version"), str(reply, "source"));
        else
                printf("%s: %s\n", result, str(reply, "version"));
        return report_reboot(reply, f);
}

static int run_cancel(const struct command *cmd, const struct options *o, struct sfu_ctl_failure *f) {
        _cleanup_json_ json_t *reply = NULL;

        if (call(o, cmd->method, NULL, NULL, &reply, f) < 0)
                return -1;
        if (o->json)
                sfu_ctl_print_json(stdout, reply, false);
        else if (strcmp(str(reply, "result"), "cancelled") == 0)
                printf("cancelled\n");
        else if (strcmp(str(reply, "result"), "finished") == 0)
                printf("the operation finished before the cancel took effect (see secfuctl status)\n");
        else
                printf("cancel requested; the operation is still stopping (see secfuctl status)\n");
        return 0;
}

static int run_rollback(const struct command *cmd, const struct options *o, struct sfu_ctl_failure *f) {
        _cleanup_json_ json_t *params = NULL;
        _cleanup_json_ json_t *reply = NULL;

        if ((o->flags & FLAG_REBOOT) && !(params = json_pack("{s:b}", "reboot", true)))
                return sfu_ctl_fail(f, SFU_CTL_EXIT_FAILED, "out of memory");
        if (call(o, cmd->method, params, NULL, &reply, f) < 0)
                return -1;
        if (o->json)
                sfu_ctl_print_json(stdout, reply, false);
        else
                printf("the next boot starts slot %s%s\n", str(reply, "next"),
                       json_is_true(json_object_get(reply, "reboot")) ? "; rebooting now" : "");
        return report_reboot(reply, f);
}

static int run_mark(const struct command *cmd, const struct options *o, struct sfu_ctl_failure *f) {
        _cleanup_json_ json_t *reply = NULL;

        if (call(o, cmd->method, NULL, NULL, &reply, f) < 0)
                return -1;
        if (o->json)
                sfu_ctl_print_json(stdout, reply, false);
        else if (json_object_get(reply, "next"))
                printf("slot %s marked bad; the next boot starts slot %s\n", str(reply, "slot"), str(reply, "next"));
        else
                printf("slot %s: %s\n", str(reply, "slot"), str(reply, "result"));
        return 0;
}

static int run_monitor(const struct command *cmd, const struct options *o, struct sfu_ctl_failure *f) {
        _cleanup_varlink_client_ struct sfu_varlink_client *c = NULL;
        struct sigaction sa = { .sa_handler = on_interrupt };
        struct sfu_err err = SFU_ERR_INIT;
        int r;

        /* No SA_RESTART: the wait returns, and the loop ends cleanly. */
        sigemptyset(&sa.sa_mask);
        (void) sigaction(SIGINT, &sa, NULL);
        (void) sigaction(SIGTERM, &sa, NULL);
        if (o->dbus) {
                sd_bus *bus = NULL;
                if (sfu_ctl_bus_open(&bus, f) < 0)
                        return -1;
                r = sfu_ctl_bus_monitor(bus, o->json, &interrupted, f);
                sd_bus_flush_close_unref(bus);
                return r;
        }
        if (connect_daemon(o, &c, f) < 0)
                return -1;
        r = sfu_varlink_client_call(c, INTERFACE "Monitor", NULL, true);
        if (r < 0)
                return sfu_ctl_fail(f, SFU_CTL_EXIT_UNREACHABLE, "cannot send to secfud: %s", strerror(-r));
        while (!interrupted) {
                struct sfu_varlink_reply reply = {};
                r = sfu_varlink_client_receive(c, true, &reply, &err);
                if (r == -EINTR)
                        continue;
                if (r < 0)
                        return receive_failure(r, &err, f);
                if (reply.error) {
                        (void) error_reply(&reply, f);
                        sfu_varlink_reply_done(&reply);
                        return -1;
                }
                if (o->json)
                        sfu_ctl_print_json(stdout, reply.parameters, true);
                else
                        sfu_ctl_print_event(stdout, reply.parameters);
                if (!reply.continues) {
                        sfu_varlink_reply_done(&reply);
                        return sfu_ctl_fail(f, SFU_CTL_EXIT_FAILED, "secfud ended the monitor");
                }
                sfu_varlink_reply_done(&reply);
        }
        return 0;
}

static const struct command commands[] = {
        { "status", "Status", 0, false, run_status },
        { "check", "Check", 0, false, run_check },
        { "apply", "Apply", FLAG_REBOOT | FLAG_NO_WAIT | FLAG_ALLOW_DOWNGRADE, true, run_apply },
        { "cancel", "Cancel", 0, false, run_cancel },
        { "rollback", "Rollback", FLAG_REBOOT, false, run_rollback },
        { "mark-good", "MarkGood", 0, false, run_mark },
        { "mark-bad", "MarkBad", 0, false, run_mark },
        { "monitor", "Monitor", 0, false, run_monitor },
};

static const char *flag_name(unsigned flag) {
        switch (flag) {
        case FLAG_REBOOT:
                return "--reboot";
        case FLAG_NO_WAIT:
                return "--no-wait";
        case FLAG_ALLOW_DOWNGRADE:
                return "--allow-downgrade";
        default:
                return "?";
        }
}

int main(int argc, char **argv) {
        enum { OPT_JSON = 0x100, OPT_DBUS, OPT_REBOOT, OPT_NO_WAIT, OPT_ALLOW_DOWNGRADE, OPT_VERSION };
        static const struct option long_options[] = {
                { "json", no_argument, NULL, OPT_JSON },
                { "socket", required_argument, NULL, 's' },
                { "dbus", no_argument, NULL, OPT_DBUS },
                { "reboot", no_argument, NULL, OPT_REBOOT },
                { "no-wait", no_argument, NULL, OPT_NO_WAIT },
                { "allow-downgrade", no_argument, NULL, OPT_ALLOW_DOWNGRADE },
                { "version", no_argument, NULL, OPT_VERSION },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct options o = { .socket = SFU_CTL_DEFAULT_SOCKET };
        struct sfu_ctl_failure f = { .exit_status = SFU_CTL_EXIT_OK };
        const struct command *cmd = NULL;
        int c;

        opterr = 0;
        /* Options may come before or after the command (getopt permutes). */
        while ((c = getopt_long(argc, argv, ":s:h", long_options, NULL)) >= 0)
                switch (c) {
                case OPT_JSON:
                        o.json = true;
                        break;
                case 's':
                        o.socket = optarg;
                        break;
                case OPT_DBUS:
                        o.dbus = true;
                        break;
                case OPT_REBOOT:
                        o.flags |= FLAG_REBOOT;
                        break;
                case OPT_NO_WAIT:
                        o.flags |= FLAG_NO_WAIT;
                        break;
                case OPT_ALLOW_DOWNGRADE:
                        o.flags |= FLAG_ALLOW_DOWNGRADE;
                        break;
                case OPT_VERSION:
                        printf(PROG " %s\n", PACKAGE_VERSION);
                        return SFU_CTL_EXIT_OK;
                case 'h':
                        help();
                        return SFU_CTL_EXIT_OK;
                case ':':
                        return usage_error("option %s needs an argument", argv[optind - 1]);
                default:
                        return usage_error("unknown option %s", argv[optind - 1]);
                }
        if (optind >= argc)
                return usage_error("no command given");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (strcmp(commands[i].name, argv[optind]) == 0)
                        cmd = &commands[i];
        if (!cmd)
                return usage_error("unknown command \"%s\"", argv[optind]);
        optind++;
        if (cmd->takes_argument && optind < argc)
                o.argument = argv[optind++];
        if (optind < argc)
                return usage_error("unexpected argument \"%s\"", argv[optind]);
        for (unsigned flag = 1; flag <= FLAG_ALLOW_DOWNGRADE; flag <<= 1)
                if ((o.flags & flag) && !(cmd->flags & flag))
                        return usage_error("%s does not take %s", cmd->name, flag_name(flag));
        if (o.argument && o.argument[0] == 0)
                return usage_error("empty URL or FILE");

        if (cmd->run(cmd, &o, &f) < 0) {
                if (f.exit_status == SFU_CTL_EXIT_OK)
                        f.exit_status = SFU_CTL_EXIT_FAILED;
                fprintf(stderr, PROG ": %s\n", f.message[0] ? f.message : "failed");
                return f.exit_status;
        }
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, PROG ": cannot write the output: %s\n", strerror(errno));
                return SFU_CTL_EXIT_FAILED;
        }
        return SFU_CTL_EXIT_OK;
}
