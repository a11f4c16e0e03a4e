/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "io/clock.h"
#include "io/spawn.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char **environ;

static void file_actions_destroyp(posix_spawn_file_actions_t **fa) {
        if (*fa)
                posix_spawn_file_actions_destroy(*fa);
}

static void attr_destroyp(posix_spawnattr_t **a) {
        if (*a)
                posix_spawnattr_destroy(*a);
}

/* Kills and reaps the child's process group unless it has been reaped. */
static void child_reapp(pid_t *pid) {
        if (*pid > 0) {
                int saved = errno;
                (void) kill(-*pid, SIGKILL);
                while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                errno = saved;
        }
}

/* The one place a child is made.  out_w / err_w: its stdout and stderr
 * (-1: ours). */
static int spawn(char *const argv[], int out_w, int err_w, pid_t *ret_pid, struct sfu_err *err) {
        _cleanup_(file_actions_destroyp) posix_spawn_file_actions_t *fa = NULL;
        _cleanup_(attr_destroyp) posix_spawnattr_t *attr = NULL;
        posix_spawn_file_actions_t fa_storage;
        posix_spawnattr_t attr_storage;
        sigset_t mask;
        int r;

        if (!argv || !argv[0] || !argv[0][0])
                return sfu_err_set(err, SFU_ERR_STORAGE, EINVAL, "no program to run");
        if (posix_spawn_file_actions_init(&fa_storage) != 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "cannot start %s: out of memory", argv[0]);
        fa = &fa_storage;
        if (posix_spawn_file_actions_addopen(fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0) != 0 ||
            (out_w >= 0 && posix_spawn_file_actions_adddup2(fa, out_w, STDOUT_FILENO) != 0) ||
            (err_w >= 0 && posix_spawn_file_actions_adddup2(fa, err_w, STDERR_FILENO) != 0))
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "cannot start %s: out of memory", argv[0]);
        if (posix_spawnattr_init(&attr_storage) != 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "cannot start %s: out of memory", argv[0]);
        attr = &attr_storage;
        sigemptyset(&mask);
        (void) posix_spawnattr_setsigmask(attr, &mask);
        sigfillset(&mask);
        (void) posix_spawnattr_setsigdefault(attr, &mask);
        (void) posix_spawnattr_setpgroup(attr, 0);
        (void) posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

        r = strchr(argv[0], '/') ? posix_spawn(ret_pid, argv[0], fa, attr, argv, environ)
                                 : posix_spawnp(ret_pid, argv[0], fa, attr, argv, environ);
        if (r != 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot run %s: %s", argv[0], strerror(r));
        return 0;
}

/* ---------------------------------------------------------------- started, watched by the caller */

int sfu_spawn_start(char *const argv[], struct sfu_spawn_child *ret, struct sfu_err *err) {
        pid_t pid = 0;
        int r;

        r = spawn(argv, -1, -1, &pid, err);
        if (r < 0)
                return r;
        *ret = (struct sfu_spawn_child) {
                .pid = pid,
                .pidfd = (int) syscall(SYS_pidfd_open, pid, 0),
        };
        return 0;
}

int sfu_spawn_collect(struct sfu_spawn_child *c, int *ret_status, int *ret_signal) {
        siginfo_t si = {};

        if (c->pid <= 0)
                return -ECHILD;
        for (;;) {
                int r = c->pidfd >= 0 ? waitid((idtype_t) P_PIDFD, (id_t) c->pidfd, &si, WEXITED | WNOHANG)
                                      : waitid(P_PID, (id_t) c->pid, &si, WEXITED | WNOHANG);
                if (r == 0)
                        break;
                if (errno != EINTR)
                        return -errno;
        }
        if (si.si_pid == 0)
                return 0;
        c->pid = 0;
        if (si.si_code == CLD_EXITED) {
                *ret_status = si.si_status;
                *ret_signal = 0;
        } else {
                *ret_status = -1;
                *ret_signal = si.si_status;
        }
        return 1;
}

void sfu_spawn_forget(struct sfu_spawn_child *c) {
        if (c->pidfd >= 0)
                close(c->pidfd);
        c->pidfd = -1;
        c->pid = 0;
}

/* ---------------------------------------------------------------- run to the end */

int sfu_spawn_run(char *const argv[], uint64_t timeout_usec, size_t output_max, char **ret_stdout,
                  int *ret_status, char *ret_stderr_line, size_t stderr_line_size, struct sfu_err *err) {
        _cleanup_close_ int out_r = -1, out_w = -1, err_r = -1, err_w = -1;
        _cleanup_(child_reapp) pid_t pid = 0;
        _cleanup_free_ char *out = malloc(output_max + 1);
        char errbuf[SFU_SPAWN_STDERR_MAX];
        size_t out_len = 0, err_len = 0;
        uint64_t deadline = sfu_clock_monotonic_usec() + timeout_usec;
        int pipe_out[2], pipe_err[2], status, r;

        if (!out)
                return -ENOMEM;
        if (pipe2(pipe_out, O_CLOEXEC) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot create a pipe: %s", strerror(errno));
        out_r = pipe_out[0];
        out_w = pipe_out[1];
        if (pipe2(pipe_err, O_CLOEXEC) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot create a pipe: %s", strerror(errno));
        err_r = pipe_err[0];
        err_w = pipe_err[1];

        r = spawn(argv, out_w, err_w, &pid, err);
        if (r < 0) {
                pid = 0;
                return r;
        }
        closep(&out_w);
        out_w = -1;
        closep(&err_w);
        err_w = -1;

        while (out_r >= 0 || err_r >= 0) {
                struct pollfd fds[2] = { { .fd = out_r, .events = POLLIN }, { .fd = err_r, .events = POLLIN } };
                uint64_t now = sfu_clock_monotonic_usec();
                char chunk[4096];

                if (now >= deadline)
                        return sfu_err_set(err, SFU_ERR_STORAGE, ETIMEDOUT, "%s did not finish within %llu s",
                                           argv[0], (unsigned long long) (timeout_usec / 1000000u));
                r = poll(fds, 2, (int) ((deadline - now + 999) / 1000));
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return sfu_err_set(err, SFU_ERR_STORAGE, errno, "poll: %s", strerror(errno));
                }
                for (size_t i = 0; i < 2; i++) {
                        int *fd = i == 0 ? &out_r : &err_r;
                        ssize_t n;

                        if (*fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        n = read(*fd, chunk, sizeof(chunk));
                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n <= 0) {
                                closep(fd);
                                *fd = -1;
                                continue;
                        }
                        if (i == 0) {
                                if (out_len + (size_t) n > output_max)
                                        return sfu_err_set(err, SFU_ERR_SIZE, EFBIG,
                                                           "%s wrote more than %zu bytes to stdout", argv[0],
                                                           output_max);
                                memcpy(out + out_len, chunk, (size_t) n);
                                out_len += (size_t) n;
                        } else {
                                size_t room = sizeof(errbuf) - 1 - err_len;
                                size_t take = (size_t) n < room ? (size_t) n : room;
                                memcpy(errbuf + err_len, chunk, take);
                                err_len += take;
                        }
                }
        }

        for (;;) {
                pid_t w = waitpid(pid, &status, WNOHANG);
                if (w == pid)
                        break;
                if (w < 0 && errno != EINTR)
                        return sfu_err_set(err, SFU_ERR_STORAGE, errno, "waitpid: %s", strerror(errno));
                if (sfu_clock_monotonic_usec() >= deadline)
                        return sfu_err_set(err, SFU_ERR_STORAGE, ETIMEDOUT, "%s did not finish within %llu s",
                                           argv[0], (unsigned long long) (timeout_usec / 1000000u));
                (void) poll(NULL, 0, 5);
        }
        pid = 0; /* reaped */

        out[out_len] = 0;
        errbuf[err_len] = 0;
        errbuf[strcspn(errbuf, "\n")] = 0;
        if (ret_stderr_line && stderr_line_size > 0)
                snprintf(ret_stderr_line, stderr_line_size, "%s", errbuf);
        if (memchr(out, 0, out_len))
                return sfu_err_set(err, SFU_ERR_STATE, EBADMSG, "%s wrote a NUL byte to stdout", argv[0]);
        if (ret_stdout)
                *ret_stdout = TAKE_PTR(out);
        *ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return 0;
}
