/* SPDX-License-Identifier: MIT */
/* io/spawn.c: what a started program gets (an argv and no shell, stdin
 * from /dev/null, no blocked signals, its own process group) and how the
 * caller learns that it ended (sfu_spawn_start / sfu_spawn_collect /
 * sfu_spawn_forget).  sfu_spawn_run's time limit and output cap are tested
 * in test-bootloader.c, whose helper programs run through it. */
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include "io/spawn.h"
#include "tap.h"

static char *run_output(char *const argv[], int *ret_status) {
        struct sfu_err err = SFU_ERR_INIT;
        char *out = NULL;

        if (sfu_spawn_run(argv, 5000000, 4096, &out, ret_status, NULL, 0, &err) < 0) {
                tap_diag("%s", err.message);
                return NULL;
        }
        out[strcspn(out, "\n")] = 0;
        return out;
}

static void test_what_the_child_gets(void) {
        char *no_shell[] = { (char *) "printf", (char *) "%s", (char *) "a;b $(id) `id` *", NULL };
        char *stdin_of[] = { (char *) "readlink", (char *) "/proc/self/fd/0", NULL };
        char *blocked[] = { (char *) "sh", (char *) "-c", (char *) "grep '^SigBlk:' /proc/self/status", NULL };
        char *ignored[] = { (char *) "sh", (char *) "-c", (char *) "grep '^SigIgn:' /proc/self/status", NULL };
        char *group[] = { (char *) "sh", (char *) "-c", (char *) "echo $$ $(cut -d' ' -f5 /proc/$$/stat)", NULL };
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;
        sigset_t mask, old;
        int status = -2;

        a = run_output(no_shell, &status);
        is_str(a, "a;b $(id) `id` *", "an argument reaches the program as it is: no shell");
        is_int(status, 0, "printf exits 0");
        b = run_output(stdin_of, &status);
        is_str(b, "/dev/null", "stdin is /dev/null");

        /* What the caller blocks and ignores is not passed on. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGUSR1);
        sigprocmask(SIG_BLOCK, &mask, &old);
        signal(SIGUSR2, SIG_IGN);
        c = run_output(blocked, &status);
        d = run_output(ignored, &status);
        sigprocmask(SIG_SETMASK, &old, NULL);
        signal(SIGUSR2, SIG_DFL);
        ok(c && strcmp(c + strcspn(c, "0123456789abcdef"), "0000000000000000") == 0,
           "no signal is blocked in the child (%s)", c ? c : "?");
        /* Signals 1-31 (bit n-1 for signal n): SIGUSR2, which we ignore
         * here, must not be ignored there.  The C library's own real-time
         * signals above 31 are not ours to judge. */
        ok(d && (strtoull(d + strcspn(d, "0123456789abcdef"), NULL, 16) & 0x7fffffffull) == 0,
           "no standard signal is ignored in the child (%s)", d ? d : "?");

        e = run_output(group, &status);
        if (e) {
                long pid = 0, pgid = -1;
                ok(sscanf(e, "%ld %ld", &pid, &pgid) == 2 && pid == pgid,
                   "the child leads a process group of its own (%s)", e);
        } else
                ok(false, "the child leads a process group of its own (ps did not run)");
}

/* Waits for the pidfd (or polls collect where there is none). */
static int wait_collect(struct sfu_spawn_child *c, int *status, int *sig) {
        for (int i = 0; i < 500; i++) {
                int r;
                if (c->pidfd >= 0) {
                        struct pollfd p = { .fd = c->pidfd, .events = POLLIN };
                        (void) poll(&p, 1, 10);
                } else
                        (void) poll(NULL, 0, 10);
                r = sfu_spawn_collect(c, status, sig);
                if (r != 0)
                        return r;
        }
        return 0;
}

static void test_started(void) {
        char *exits7[] = { (char *) "sh", (char *) "-c", (char *) "exit 7", NULL };
        char *killed[] = { (char *) "sh", (char *) "-c", (char *) "kill -TERM $$", NULL };
        char *sleeps[] = { (char *) "sleep", (char *) "30", NULL };
        char *missing[] = { (char *) "/nonexistent/program", NULL };
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_spawn_child c = { .pidfd = -1 };
        int status = -2, sig = -2, r;
        pid_t pid;

        ok(sfu_spawn_start(exits7, &c, &err) == 0 && c.pid > 0, "start: sh -c 'exit 7' runs");
        ok(c.pidfd >= 0, "start: a pidfd to watch");
        is_int(wait_collect(&c, &status, &sig), 1, "collect: it ended");
        is_int(status, 7, "collect: its exit status");
        is_int(sig, 0, "collect: no signal");
        is_int(c.pid, 0, "collect: reaped");
        is_int(sfu_spawn_collect(&c, &status, &sig), -ECHILD, "collect again: nothing left to wait for");
        sfu_spawn_forget(&c);

        ok(sfu_spawn_start(killed, &c, &err) == 0, "start: a child that a signal ends");
        is_int(wait_collect(&c, &status, &sig), 1, "collect: it ended");
        ok(status == -1 && sig == SIGTERM, "collect: ended by SIGTERM (status %d, signal %d)", status, sig);
        sfu_spawn_forget(&c);

        ok(sfu_spawn_start(sleeps, &c, &err) == 0, "start: sleep 30");
        pid = c.pid;
        is_int(sfu_spawn_collect(&c, &status, &sig), 0, "collect while it runs: 0");
        sfu_spawn_forget(&c);
        ok(c.pid == 0 && c.pidfd == -1, "forget: nothing left to watch");
        ok(kill(pid, 0) == 0, "forget: the child goes on running (a reboot must outlive us)");
        (void) kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;

        sfu_err_clear(&err);
        c = (struct sfu_spawn_child) { .pidfd = -1 };
        r = sfu_spawn_start(missing, &c, &err);
        if (r == 0) {
                /* where posix_spawn falls back to fork (valgrind) the child
                 * exits 127 as a shell would */
                is_int(wait_collect(&c, &status, &sig), 1, "start of a missing program: the child ends");
                is_int(status, 127, "start of a missing program: exit status 127");
                sfu_spawn_forget(&c);
        } else {
                ok(err.code == SFU_ERR_STORAGE && strstr(err.message, "/nonexistent/program"),
                   "start of a missing program: an error naming it (%s)", err.message);
                ok(c.pid == 0, "start of a missing program: no child");
        }
        sfu_err_clear(&err);
        ok(sfu_spawn_start((char *[]) { NULL }, &c, &err) == -EINVAL, "start without a program: -EINVAL");
}

int main(void) {
        test_what_the_child_gets();
        test_started();
        return tap_done();
}
