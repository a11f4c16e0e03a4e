/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <systemd/sd-bus.h>

#include "io/discovery.h"
#include "tap.h"

extern char **environ;

/* ------------------------------------------------ helpers */

struct reports {
        unsigned count;
        char source[4200];
        char candidate[128];
};

static void on_invalid(const char *source, const char *candidate, void *userdata) {
        struct reports *r = userdata;

        r->count++;
        snprintf(r->source, sizeof(r->source), "%s", source);
        snprintf(r->candidate, sizeof(r->candidate), "%s", candidate);
}

/* Every source off, resolved off: tests switch on what they need. */
static struct sfu_discovery_paths no_sources(struct reports *reports) {
        return (struct sfu_discovery_paths) {
                .resolved_timeout_usec = SFU_DISCOVERY_RESOLVED_TIMEOUT_USEC,
                .on_invalid = on_invalid,
                .userdata = reports,
        };
}

static char *path_join(const char *dir, const char *name) {
        char *p;

        if (asprintf(&p, "%s/%s", dir, name) < 0)
                abort();
        return p;
}

static void write_file(const char *dir, const char *name, const char *fmt, ...) _printf_(3, 4);
static void write_file(const char *dir, const char *name, const char *fmt, ...) {
        char *path = path_join(dir, name);
        FILE *f = fopen(path, "we");
        va_list ap;

        if (!f) {
                printf("Bail out! cannot write %s\n", path);
                exit(1);
        }
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
        if (fclose(f) != 0)
                abort();
        free(path);
}

static void make_dir(const char *dir, const char *name) {
        char *path = path_join(dir, name);
        if (mkdir(path, 0755) < 0)
                abort();
        free(path);
}

static void set_mtime(const char *path, time_t when) {
        struct timespec times[2] = { { when, 0 }, { when, 0 } };
        if (utimensat(AT_FDCWD, path, times, 0) < 0)
                abort();
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st, (void) flag, (void) ftw;
        return remove(path);
}

static void rm_rf(char *dir) {
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(dir);
}

static double now_sec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Runs a search and checks the domain and source it finds. */
static void expect_domain(const struct sfu_discovery_paths *paths, const char *want, const char *want_source,
                          const char *what) {
        struct sfu_err err = SFU_ERR_INIT;
        char *domain = NULL;
        const char *source = NULL;
        int r = sfu_discovery_domain(paths, &domain, &source, &err);

        is_int(r, 0, what);
        is_str(domain, want, "  domain");
        if (want_source)
                is_str(source, want_source, "  source");
        ok(!sfu_err_isset(&err), "  no error recorded");
        free(domain);
}

static void expect_none(const struct sfu_discovery_paths *paths, const char *what) {
        struct sfu_err err = SFU_ERR_INIT;
        char *domain = (char *) "untouched";
        const char *source = "untouched";
        int r = sfu_discovery_domain(paths, &domain, &source, &err);

        is_int(r, -ENOENT, what);
        ok(strcmp(domain, "untouched") == 0 && strcmp(source, "untouched") == 0, "  outputs untouched");
        ok(!sfu_err_isset(&err), "  -ENOENT is not recorded as an error");
}

/* ------------------------------------------------ tests */

static void test_defaults(void) {
        struct sfu_discovery_paths p;

        memset(&p, 0x55, sizeof(p));
        sfu_discovery_paths_default(&p);
        is_str(p.networkd_leases_dir, "/run/systemd/netif/leases", "default networkd lease dir");
        is_str(p.resolv_conf, "/etc/resolv.conf", "default resolv.conf");
        ok(p.use_resolved, "resolved on by default");
        is_int(p.resolved_timeout_usec, 1000000, "resolved timeout 1 s");
        ok(p.dhclient_leases_globs &&
                   sfu_streq(p.dhclient_leases_globs[0], "/var/lib/dhcp/dhclient*.leases") &&
                   sfu_streq(p.dhclient_leases_globs[1], "/var/lib/dhclient/*.leases") &&
                   !p.dhclient_leases_globs[2],
           "default dhclient globs");
        ok(!p.on_invalid && !p.userdata, "no callback by default");
}

static void test_networkd(void) {
        struct reports reports = {};
        struct sfu_discovery_paths p = no_sources(&reports);
        char *dir = tap_mkdtemp(), *target, *path, big[SFU_DISCOVERY_FILE_MAX + 64];
        char *want_source;

        if (asprintf(&want_source, "systemd-networkd lease %s/2", tap_data("discovery/networkd")) < 0)
                abort();
        p.networkd_leases_dir = strdup(tap_data("discovery/networkd"));
        expect_domain(&p, "home.example", want_source, "networkd: lease \"2\" comes before \"10\"");
        free(want_source);
        free((char *) p.networkd_leases_dir);
        is_int(reports.count, 0, "  nothing reported");

        /* A directory full of things that must be skipped. */
        write_file(dir, "target", "DOMAINNAME=evil.example\n");
        target = path_join(dir, "target");
        make_dir(dir, "leases");
        path = path_join(dir, "leases/1");
        ok(symlink(target, path) == 0, "made symlink lease 1");
        free(path);
        {
                char *leases = path_join(dir, "leases");

                write_file(leases, ".#2a8b7c", "DOMAINNAME=temporary.example\n");
                write_file(leases, "3", "ADDRESS=10.0.0.3\nDOMAINNAME=bad_domain\n");
                memset(big, 'x', sizeof(big) - 1);
                big[sizeof(big) - 1] = 0;
                memcpy(big, "DOMAINNAME=big.example\n#", 24);
                write_file(leases, "4", "%s\n", big);
                path = path_join(leases, "5");
                ok(mkfifo(path, 0644) == 0, "made FIFO lease 5");
                free(path);
                make_dir(leases, "6");
                write_file(leases, "7", "ADDRESS=10.0.0.7\n");
                write_file(leases, "8", "DOMAINNAME=\n");
                write_file(leases, "9", "DOMAINNAME=first.example\n  DOMAINNAME = \"lan.example.\"  \n");
                write_file(leases, "10", "DOMAINNAME=later.example\n");
                write_file(leases, "3a", "DOMAINNAME=nul.example\n%c\n", 0);

                p.networkd_leases_dir = leases;
                expect_domain(&p, "first.example", NULL,
                              "networkd: symlink, temporary, invalid, NUL, big, FIFO, dir, empty skipped");
                is_int(reports.count, 1, "  the invalid name was reported once");
                ok(strstr(reports.source, "/leases/3") != NULL, "  report names lease 3 (%s)",
                   reports.source);
                is_str(reports.candidate, "bad_domain", "  report shows the candidate");

                write_file(leases, "9", "DOMAINNAME=first.example\nDOMAINNAME=\"lan.example.\"\r\n");
                reports.count = 0;
                expect_domain(&p, "lan.example", NULL,
                              "networkd: last DOMAINNAME, quoted, trailing dot dropped");
                is_int(reports.count, 1, "  invalid lease 3 reported");
                free(leases);
        }
        free(target);
        rm_rf(dir);

        /* Hostile names are reported in a printable, bounded form. */
        dir = tap_mkdtemp();
        write_file(dir, "2", "DOMAINNAME=$(reboot)\x1b[31m;rm -rf /\n");
        p.networkd_leases_dir = dir;
        reports.count = 0;
        expect_none(&p, "networkd: only a hostile name");
        is_int(reports.count, 1, "  reported");
        is_str(reports.candidate, "$(reboot)?[31m;rm -rf /", "  shown with control bytes replaced");
        write_file(dir, "2", "DOMAINNAME=%0100d\xff\n", 7);
        expect_none(&p, "networkd: only an over-long name");
        is_int(strlen(reports.candidate), SFU_DISCOVERY_CANDIDATE_SHOWN_MAX + 3, "  shown cut to the limit");
        ok(strcmp(reports.candidate + SFU_DISCOVERY_CANDIDATE_SHOWN_MAX, "...") == 0, "  ... marks the cut");
        rm_rf(dir);

        p.networkd_leases_dir = "/nonexistent/secfud-test";
        expect_none(&p, "networkd: missing directory");
}

static void test_dhclient(void) {
        struct reports reports = {};
        struct sfu_discovery_paths p = no_sources(&reports);
        _cleanup_free_ char *pattern = NULL, *eth0 = NULL, *wlan0 = NULL, *link = NULL, *src = NULL;
        char *dir = tap_mkdtemp();
        const char *globs[3] = {};
        char want[4200];

        globs[0] = strdup(tap_data("discovery/dhclient.eth0.leases"));
        p.dhclient_leases_globs = globs;
        snprintf(want, sizeof(want), "dhclient lease %s", globs[0]);
        expect_domain(&p, "site.example", want, "dhclient: last lease block, first name of the list");
        free((char *) globs[0]);

        globs[0] = strdup(tap_data("discovery/dhclient.truncated.leases"));
        expect_domain(&p, "complete.example", NULL, "dhclient: an unfinished last block is ignored");
        free((char *) globs[0]);

        globs[0] = strdup(tap_data("discovery/dhclient.last-without-domain.leases"));
        expect_none(&p, "dhclient: the newest lease has no domain-name: no older one is used");
        free((char *) globs[0]);

        globs[0] = strdup(tap_data("discovery/dhclient6.leases"));
        expect_none(&p, "dhclient: lease6 blocks are not DHCPv4 leases");
        free((char *) globs[0]);

        /* Several files: the most recently written one first. */
        write_file(dir, "dhclient.eth0.leases",
                   "lease {\n option domain-name \"eth0.example\";\n}\n");
        write_file(dir, "dhclient.wlan0.leases",
                   "lease {\n option domain-name \"wlan0.example\";\n}\n");
        write_file(dir, "dhclient.broken.leases", "lease {\n option domain-name \"unterminated;\n}\n");
        write_file(dir, "dhclient.unbalanced.leases", "}\nlease {\n option domain-name \"x.example\";\n}\n");
        write_file(dir, "dhclient.bad.leases", "lease {\n option domain-name \"bad..example\";\n}\n");
        eth0 = path_join(dir, "dhclient.eth0.leases");
        wlan0 = path_join(dir, "dhclient.wlan0.leases");
        set_mtime(eth0, 1700000000);
        set_mtime(wlan0, 1700000100);
        src = path_join(dir, "dhclient.bad.leases");
        set_mtime(src, 1700000200);
        free(src);
        pattern = path_join(dir, "dhclient*.leases");
        globs[0] = pattern;
        expect_domain(&p, "wlan0.example", NULL, "dhclient: newest valid file wins");
        is_int(reports.count, 1, "  the newer file's invalid name was reported");
        ok(strstr(reports.source, "dhclient lease ") && strstr(reports.source, "dhclient.bad.leases"),
           "  report names the file (%s)", reports.source);
        set_mtime(eth0, 1700000150);
        expect_domain(&p, "eth0.example", NULL, "dhclient: rewriting eth0's file makes it the newest");

        /* A symlinked lease file is not followed. */
        write_file(dir, "target", "lease {\n option domain-name \"link.example\";\n}\n");
        link = path_join(dir, "dhclient.zz.leases");
        src = path_join(dir, "target");
        ok(symlink(src, link) == 0, "made symlinked lease file");
        set_mtime(eth0, 1600000000);
        expect_domain(&p, "wlan0.example", NULL, "dhclient: symlinked lease file skipped");

        /* Two patterns; the second holds the only lease. */
        free(pattern);
        pattern = path_join(dir, "nothing-*.leases");
        globs[0] = pattern;
        globs[1] = wlan0;
        expect_domain(&p, "wlan0.example", NULL, "dhclient: second glob pattern");

        rm_rf(dir);
}

static void test_resolv_conf(void) {
        struct reports reports = {};
        struct sfu_discovery_paths p = no_sources(&reports);
        _cleanup_free_ char *copy = NULL, *link = NULL;
        char *dir = tap_mkdtemp();

        p.resolv_conf = strdup(tap_data("discovery/resolv-domain.conf"));
        expect_domain(&p, "last.example", p.resolv_conf,
                      "resolv.conf: the last domain line wins over search");
        free((char *) p.resolv_conf);

        p.resolv_conf = strdup(tap_data("discovery/resolv-search.conf"));
        expect_domain(&p, "three.example", NULL, "resolv.conf: first entry of the last search line");
        free((char *) p.resolv_conf);

        p.resolv_conf = strdup(tap_data("discovery/resolv-stub.conf"));
        expect_none(&p, "resolv.conf: resolved's stub with \"search .\"");
        is_int(reports.count, 0, "  \".\" is not reported as invalid");
        free((char *) p.resolv_conf);

        p.resolv_conf = strdup(tap_data("discovery/resolv-comments.conf"));
        expect_none(&p, "resolv.conf: comments, indented and look-alike lines");
        free((char *) p.resolv_conf);

        /* resolv.conf is often a symlink: followed. */
        write_file(dir, "real.conf", "nameserver 10.0.0.1\nsearch linked.example\n");
        copy = path_join(dir, "real.conf");
        link = path_join(dir, "resolv.conf");
        ok(symlink(copy, link) == 0, "made symlinked resolv.conf");
        p.resolv_conf = link;
        expect_domain(&p, "linked.example", link, "resolv.conf: symlink followed");

        write_file(dir, "real.conf", "domain my_domain\nsearch good.example\n");
        reports.count = 0;
        expect_domain(&p, "good.example", NULL, "resolv.conf: invalid domain line, search used");
        is_int(reports.count, 1, "  invalid domain reported");
        is_str(reports.source, link, "  report names the file");

        write_file(dir, "real.conf", "domain 192.168.1.1\nsearch 10.0.0.1\n");
        reports.count = 0;
        expect_none(&p, "resolv.conf: IPv4 literals are not domains");
        is_int(reports.count, 2, "  both reported");

        p.resolv_conf = "/nonexistent/resolv.conf";
        expect_none(&p, "resolv.conf: missing file");
        rm_rf(dir);
}

static void test_priority(void) {
        struct reports reports = {};
        struct sfu_discovery_paths p = no_sources(&reports);
        _cleanup_free_ char *leases = NULL, *dhcp = NULL, *resolv = NULL, *pattern = NULL;
        char *dir = tap_mkdtemp();
        const char *globs[2] = {};

        make_dir(dir, "leases");
        leases = path_join(dir, "leases");
        write_file(dir, "dhclient.eth0.leases", "lease {\n option domain-name \"dhcp.example\";\n}\n");
        dhcp = path_join(dir, "dhclient.eth0.leases");
        write_file(dir, "resolv.conf", "search resolv.example\n");
        resolv = path_join(dir, "resolv.conf");
        pattern = path_join(dir, "dhclient*.leases");
        globs[0] = pattern;
        write_file(leases, "2", "DOMAINNAME=networkd.example\n");

        p.networkd_leases_dir = leases;
        p.dhclient_leases_globs = globs;
        p.resolv_conf = resolv;
        expect_domain(&p, "networkd.example", NULL, "priority: networkd first");

        write_file(leases, "2", "DOMAINNAME=bad!.example\n");
        expect_domain(&p, "dhcp.example", NULL, "priority: invalid networkd name falls through to dhclient");
        is_int(reports.count, 1, "  invalid networkd name reported");
        ok(strncmp(reports.source, "systemd-networkd lease ", 23) == 0, "  report names networkd (%s)",
           reports.source);
        is_str(reports.candidate, "bad!.example", "  report shows it");

        write_file(leases, "2", "ADDRESS=10.0.0.2\n");
        write_file(dir, "dhclient.eth0.leases", "lease {\n option domain-name \"-bad\";\n}\n");
        reports.count = 0;
        expect_domain(&p, "resolv.example", resolv, "priority: then resolv.conf");
        is_int(reports.count, 1, "  invalid dhclient name reported");

        p.resolv_conf = NULL;
        expect_none(&p, "priority: nothing valid anywhere");
        p.networkd_leases_dir = NULL;
        p.dhclient_leases_globs = NULL;
        expect_none(&p, "all sources off");

        p.resolv_conf = resolv;
        p.on_invalid = NULL;
        expect_domain(&p, "resolv.example", NULL, "works without a callback");

        rm_rf(dir);
}

/* ------------------------------------------------ systemd-resolved */

static void test_resolved_no_bus(void) {
        struct reports reports = {};
        struct sfu_discovery_paths p = no_sources(&reports);
        double start;

        setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/secfud-test-bus", 1);
        p.use_resolved = true;
        p.resolv_conf = strdup(tap_data("discovery/resolv-search.conf"));
        start = now_sec();
        expect_domain(&p, "three.example", NULL, "resolved: no system bus, skipped");
        ok(now_sec() - start < 1.0, "  within 1 s (%.3f s)", now_sec() - start);
        free((char *) p.resolv_conf);
        p.resolv_conf = NULL;
        start = now_sec();
        expect_none(&p, "resolved: no system bus and nothing else");
        ok(now_sec() - start < 1.0, "  within 1 s");
        is_int(reports.count, 0, "  nothing reported");
}

struct fake_domain {
        int32_t ifindex;
        const char *name;
        int route_only;
};

static const struct fake_domain *fake_domains;

static int get_domains(sd_bus *bus, const char *path, const char *interface, const char *property,
                       sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        int r;

        (void) bus, (void) path, (void) interface, (void) property, (void) userdata, (void) ret_error;
        r = sd_bus_message_open_container(reply, 'a', "(isb)");
        for (const struct fake_domain *d = fake_domains; r >= 0 && d->name; d++)
                r = sd_bus_message_append(reply, "(isb)", d->ifindex, d->name, d->route_only);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static const sd_bus_vtable fake_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Domains", "a(isb)", get_domains, 0, 0),
        SD_BUS_VTABLE_END,
};

/* A child that owns org.freedesktop.resolve1 on the test bus and serves
 * Domains (or, with answer false, never reads its messages).  Returns its
 * pid once the name is taken, or -1. */
static pid_t start_fake_resolved(const struct fake_domain *domains, bool answer) {
        int fds[2];
        pid_t pid;
        char byte;
        struct pollfd pfd;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return -1;
        pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                sd_bus *bus = NULL;

                close(fds[0]);
                fake_domains = domains;
                if (sd_bus_open_system(&bus) < 0 ||
                    sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/resolve1",
                                             "org.freedesktop.resolve1.Manager", fake_vtable, NULL) < 0 ||
                    sd_bus_request_name(bus, "org.freedesktop.resolve1", 0) < 0)
                        _exit(1);
                if (write(fds[1], "1", 1) != 1)
                        _exit(1);
                for (;;) {
                        if (!answer) {
                                pause();
                                continue;
                        }
                        if (sd_bus_process(bus, NULL) < 0)
                                _exit(1);
                        if (sd_bus_wait(bus, UINT64_MAX) < 0)
                                _exit(1);
                }
        }
        close(fds[1]);
        pfd = (struct pollfd) { .fd = fds[0], .events = POLLIN };
        if (poll(&pfd, 1, 5000) != 1 || read(fds[0], &byte, 1) != 1) {
                close(fds[0]);
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return -1;
        }
        close(fds[0]);
        return pid;
}

static void stop(pid_t pid) {
        if (pid > 0) {
                kill(pid, SIGTERM);
                waitpid(pid, NULL, 0);
        }
}

/* Starts a private dbus-daemon and points DBUS_SYSTEM_BUS_ADDRESS at it.
 * Returns its pid, 0 when dbus-daemon is not installed, -1 on failure. */
static pid_t start_bus(const char *dir) {
        char *config, *address, *socket_path, *argv[6];
        posix_spawn_file_actions_t actions;
        pid_t pid;
        int r;

        if (asprintf(&config, "--config-file=%s", tap_data("discovery/dbus-test.conf")) < 0 ||
            asprintf(&socket_path, "%s/bus", dir) < 0 ||
            asprintf(&address, "--address=unix:path=%s", socket_path) < 0)
                abort();
        argv[0] = (char *) "dbus-daemon";
        argv[1] = config;
        argv[2] = address;
        argv[3] = (char *) "--nofork";
        argv[4] = (char *) "--nopidfile";
        argv[5] = NULL;
        /* Quiet: it complains about fd limits when not root. */
        if (posix_spawn_file_actions_init(&actions) != 0 ||
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0) != 0 ||
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) != 0)
                abort();
        r = posix_spawnp(&pid, "dbus-daemon", &actions, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&actions);
        free(config);
        if (r != 0) {
                free(address);
                free(socket_path);
                return r == ENOENT ? 0 : -1;
        }
        for (int i = 0; i < 500 && access(socket_path, F_OK) < 0; i++)
                usleep(10000);
        setenv("DBUS_SYSTEM_BUS_ADDRESS", address + strlen("--address="), 1);
        r = access(socket_path, F_OK);
        free(address);
        free(socket_path);
        if (r < 0) {
                stop(pid);
                return -1;
        }
        return pid;
}

static void test_resolved_fake(void) {
        static const struct fake_domain domains[] = {
                { 0, "global.example", 0 },
                { 5, "five.example", 0 },
                { 3, "~.", 1 },
                { 2, "routing.example", 1 },
                { 2, "bad_link.example", 0 },
                { 3, "three.example", 0 },
                { 3, "three-b.example", 0 },
                {},
        };
        static const struct fake_domain global_only[] = {
                { 0, "global.example", 0 },
                { 2, "routing-only.example", 1 },
                {},
        };
        static const struct fake_domain routing_only[] = {
                { 2, ".", 1 },
                { 2, "corp.example", 1 },
                {},
        };
        struct reports reports = {};
        struct sfu_discovery_paths p = no_sources(&reports);
        char *dir = tap_mkdtemp(), *resolv_conf = NULL;
        pid_t bus, fake;
        double start;

        bus = start_bus(dir);
        if (bus == 0) {
                tap_skip("dbus-daemon not installed: resolved over D-Bus not tested");
                rm_rf(dir);
                return;
        }
        ok(bus > 0, "private dbus-daemon started");
        if (bus < 0) {
                rm_rf(dir);
                return;
        }
        p.use_resolved = true;
        resolv_conf = strdup(tap_data("discovery/resolv-search.conf"));
        p.resolv_conf = resolv_conf;

        start = now_sec();
        expect_domain(&p, "three.example", NULL, "resolved: bus without resolved, skipped (no activation)");
        ok(now_sec() - start < 1.0, "  within 1 s (%.3f s)", now_sec() - start);

        fake = start_fake_resolved(domains, true);
        ok(fake > 0, "fake resolved started");
        reports.count = 0;
        expect_domain(&p, "three.example", "systemd-resolved (link 3)",
                      "resolved: lowest link with a valid non-routing domain");
        is_int(reports.count, 1, "  invalid link domain reported");
        is_str(reports.source, "systemd-resolved (link 2)", "  report names the link");
        is_str(reports.candidate, "bad_link.example", "  report shows the name");
        p.resolv_conf = NULL;
        expect_domain(&p, "three.example", NULL, "resolved: found without resolv.conf too");
        stop(fake);

        fake = start_fake_resolved(global_only, true);
        ok(fake > 0, "fake resolved (global only) started");
        expect_domain(&p, "global.example", "systemd-resolved (global)",
                      "resolved: global domain when no link has one");
        stop(fake);

        fake = start_fake_resolved(routing_only, true);
        ok(fake > 0, "fake resolved (routing-only) started");
        expect_none(&p, "resolved: routing-only domains are not the local domain");
        stop(fake);

        fake = start_fake_resolved(domains, false);
        ok(fake > 0, "fake resolved (silent) started");
        p.resolved_timeout_usec = 300 * 1000;
        start = now_sec();
        expect_none(&p, "resolved: a service that does not answer is skipped");
        ok(now_sec() - start >= 0.29 && now_sec() - start < 1.0, "  after the timeout (%.3f s)",
           now_sec() - start);
        stop(fake);

        free(resolv_conf);
        stop(bus);
        rm_rf(dir);
}

int main(void) {
        /* Nothing here may reach the real system bus. */
        setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/secfud-test-bus", 1);
        test_defaults();
        test_networkd();
        test_dhclient();
        test_resolv_conf();
        test_priority();
        test_resolved_no_bus();
        test_resolved_fake();
        return tap_done();
}
