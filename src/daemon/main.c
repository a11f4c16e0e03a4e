/* SPDX-License-Identifier: MIT */
/* secfud: parse the command line, load the configuration, and either run
 * one cycle (--once) or serve: the poll timer, the control socket, D-Bus,
 * sd_notify. Everything else lives in the manager. */
#include <getopt.h>
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "core/config.h"
#include "daemon/control.h"
#include "daemon/log.h"
#include "daemon/manager.h"
#include "io/fetch.h"

struct daemon {
        struct sfu_manager *manager;
        sd_event *event;
        sd_event_source *poll_timer;
        sd_event_source *status_timer;
        struct sfu_control *control;
};

static void help(void) {
        printf("Usage: secfud [-c FILE] [--once] [--check-config] [--log-level LEVEL]\n"
               "\n"
               "The secfud firmware-update agent.\n"
               "\n"
               "  -c, --config FILE     configuration (default %s)\n"
               "      --once            one cycle (discover, verify, decide, stage as [poll] policy\n"
               "                        allows), then exit: 0 when it ended without error\n"
               "      --check-config    parse the configuration, print problems, exit\n"
               "      --log-level L     err, warning, notice, info (default) or debug\n"
               "      --version         print the version\n"
               "  -h, --help            this text\n",
               SFU_CONFIG_DEFAULT_PATH);
}

static void arm_poll(struct daemon *d);

static void poll_done(struct sfu_manager *m, int r, const struct sfu_err *err, json_t *result, void *userdata) {
        struct daemon *d = userdata;
        arm_poll(d);
}

static int on_poll(sd_event_source *s, uint64_t usec, void *userdata) {
        struct daemon *d = userdata;
        struct sfu_job_request req = { .kind = SFU_POLICY_JOB_POLL };
        struct sfu_err err = SFU_ERR_INIT;

        if (sfu_manager_busy(d->manager)) {
                arm_poll(d);
                return 0;
        }
        if (sfu_manager_start_job(d->manager, &req, poll_done, d, &err) < 0) {
                log_warning("poll: %s", err.message);
                arm_poll(d);
        }
        return 0;
}

static void arm_poll(struct daemon *d) {
        uint64_t delay = sfu_manager_next_poll_usec(d->manager);
#ifdef SFU_FAULT_INJECTION
        /* Test builds only: SFU_TEST_POLL_AT_START=1 polls at once,
         * whatever the state says; =never arms no poll at start, so that a
         * test's own calls never meet a poll that a fresh state (first
         * poll within the jitter) would start at a random moment. */
        static bool first = true;
        const char *at_start = first ? getenv("SFU_TEST_POLL_AT_START") : NULL;
        first = false;
        if (at_start && strcmp(at_start, "never") == 0) {
                log_debug("test build: no poll at start");
                return;
        }
        if (at_start)
                delay = 0;
#endif
        sd_event_source_disable_unref(d->poll_timer);
        d->poll_timer = NULL;
        if (sd_event_add_time_relative(d->event, &d->poll_timer, CLOCK_BOOTTIME, delay, 1000000, on_poll, d) < 0)
                log_error("cannot arm the poll timer");
        else
                log_debug("next poll in %llu s", (unsigned long long) (delay / 1000000));
}

static void on_event(struct sfu_manager *m, const char *kind, json_t *status, void *userdata) {
        char line[256];
        sfu_manager_status_line(m, line, sizeof(line));
        sd_notifyf(false, "STATUS=%s", line);
}

struct once_outcome {
        int r;
        bool called;
};

static void once_done(struct sfu_manager *m, int r, const struct sfu_err *err, json_t *result, void *userdata) {
        struct once_outcome *o = userdata;
        o->r = r;
        o->called = true;
}

/* One cycle on this thread; install.c has logged the reason of a failure
 * at error level, so the exit status is all that is left to say. */
static int run_once(struct sfu_config *config) {
        _cleanup_manager_ struct sfu_manager *m = NULL;
        struct sfu_job_request req = { .kind = SFU_POLICY_JOB_POLL };
        struct sfu_err err = SFU_ERR_INIT;
        struct once_outcome outcome = {};

        if (sfu_manager_new(config, NULL, &m, &err) < 0 ||
            sfu_manager_start_job(m, &req, once_done, &outcome, &err) < 0) {
                log_error("%s", err.message);
                return 1;
        }
        return outcome.called && outcome.r >= 0 ? 0 : 1;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct daemon *d = userdata;
        log_info("received %s, exiting", strsignal((int) si->ssi_signo));
        sd_notify(false, "STOPPING=1");
        sd_event_exit(d->event, 0);
        return 0;
}

static int on_status_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct daemon *d = userdata;
        char line[256];
        if (sfu_manager_busy(d->manager)) {
                sfu_manager_status_line(d->manager, line, sizeof(line));
                sd_notifyf(false, "STATUS=%s", line);
        }
        return sd_event_source_set_time_relative(s, 1000000) < 0 ? 0 : 0;
}

static int run_daemon(struct sfu_config *config) {
        struct daemon d = {};
        struct sfu_err err = SFU_ERR_INIT;
        unsigned sub;
        sigset_t mask;
        int r, status = 1;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);

        r = sd_event_default(&d.event);
        if (r < 0) {
                log_error("cannot create the event loop: %s", strerror(-r));
                return 1;
        }
        (void) sd_event_set_watchdog(d.event, true);
        if (sd_event_add_signal(d.event, NULL, SIGTERM, on_signal, &d) < 0 ||
            sd_event_add_signal(d.event, NULL, SIGINT, on_signal, &d) < 0)
                goto out;
        r = sfu_manager_new(config, d.event, &d.manager, &err);
        if (r < 0) {
                log_error("%s", err.message);
                goto out;
        }
        if (sfu_manager_subscribe(d.manager, on_event, &d, &sub) < 0)
                goto out;
        r = sfu_control_new(d.manager, d.event, &d.control, &err);
        if (r < 0) {
                log_error("%s", err.message);
                goto out;
        }
        if (sd_event_add_time_relative(d.event, &d.status_timer, CLOCK_MONOTONIC, 1000000, 100000, on_status_timer,
                                       &d) >= 0)
                (void) sd_event_source_set_enabled(d.status_timer, SD_EVENT_ON);
        arm_poll(&d);
        {
                char line[256];
                sfu_manager_status_line(d.manager, line, sizeof(line));
                sd_notifyf(false, "READY=1\nSTATUS=%s", line);
                log_info("secfud %s ready: %s", PACKAGE_VERSION, line);
        }
        r = sd_event_loop(d.event);
        status = r < 0 ? 1 : 0;
out:
        sfu_control_free(d.control);
        sd_event_source_disable_unref(d.poll_timer);
        sd_event_source_disable_unref(d.status_timer);
        sfu_manager_free(d.manager);
        sd_event_unref(d.event);
        return status;
}

int main(int argc, char **argv) {
        enum { OPT_ONCE = 0x100, OPT_LOG_LEVEL, OPT_VERSION, OPT_CHECK_CONFIG };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "once", no_argument, NULL, OPT_ONCE },
                { "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
                { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
                { "version", no_argument, NULL, OPT_VERSION },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_config_ struct sfu_config *config = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        const char *config_path = SFU_CONFIG_DEFAULT_PATH;
        bool once = false, check_config = false;
        int c, level;

        while ((c = getopt_long(argc, argv, "c:h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        config_path = optarg;
                        break;
                case OPT_ONCE:
                        once = true;
                        break;
                case OPT_CHECK_CONFIG:
                        check_config = true;
                        break;
                case OPT_LOG_LEVEL:
                        level = sfu_log_level_from_name(optarg);
                        if (level < 0) {
                                fprintf(stderr, "secfud: unknown log level \"%s\"\n", optarg);
                                return 2;
                        }
                        sfu_log_set_max_level(level);
                        break;
                case OPT_VERSION:
                        printf("secfud %s\n", PACKAGE_VERSION);
                        return 0;
                case 'h':
                        help();
                        return 0;
                default:
                        fprintf(stderr, "Try 'secfud --help'.\n");
                        return 2;
                }
        if (optind < argc) {
                fprintf(stderr, "secfud: unexpected argument \"%s\"\n", argv[optind]);
                return 2;
        }

        if (sfu_config_load(config_path, &config, &err) < 0) {
                log_error("%s", err.message);
                return 1;
        }
        if (check_config) {
                printf("%s: OK\n", config_path);
                return 0;
        }
        if (sfu_fetch_global_init() < 0) {
                log_error("cannot initialise libcurl");
                return 1;
        }
        srandom((unsigned) getpid() ^ (unsigned) time(NULL));
        return once ? run_once(config) : run_daemon(config);
}
