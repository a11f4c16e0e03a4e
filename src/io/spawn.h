/* SPDX-License-Identifier: MIT */
/* The one way secfud starts another program (grub-editenv, a custom
 * bootloader script, `systemctl reboot`): an argv, never a shell; argv[0]
 * is searched on PATH when it has no '/'; stdin comes from /dev/null; the
 * signal mask is empty and every signal has its default action; the child
 * leads a process group of its own, so that killing it on a timeout kills
 * what it started too.  Every descriptor secfud opens is O_CLOEXEC, so the
 * child inherits only 0, 1 and 2.
 *
 * Two shapes: sfu_spawn_run() runs a program to its end with a time limit
 * and a cap on what it may print; sfu_spawn_start() starts one and returns
 * at once, for a caller with an event loop that watches the pidfd. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"

/* Bytes of a child's stderr kept by sfu_spawn_run (its first line is
 * returned; the rest is read and dropped). */
#define SFU_SPAWN_STDERR_MAX 512u

struct sfu_spawn_child {
        pid_t pid;      /* 0 once reaped */
        int pidfd;      /* readable once the child has ended; -1 where the kernel has no pidfd_open */
};

/* Starts argv and returns at once; the child's stdout and stderr are the
 * caller's.  Failure to start: SFU_ERR_STORAGE. */
int sfu_spawn_start(char *const argv[], struct sfu_spawn_child *ret, struct sfu_err *err) _wur_;

/* Reaps the child if it has ended, without blocking: 1 with *ret_status
 * (the exit status, or -1 when a signal ended it; *ret_signal then names
 * it, else 0), 0 while it runs, -errno when it cannot be waited for. */
int sfu_spawn_collect(struct sfu_spawn_child *c, int *ret_status, int *ret_signal) _wur_;

/* Closes the pidfd and stops watching the child; a child still running
 * is left to run (a `systemctl reboot` must outlive the daemon it stops). */
void sfu_spawn_forget(struct sfu_spawn_child *c);

/* Runs argv to its end, killed (with its process group) after
 * timeout_usec.  stdout is returned NUL-terminated (at most output_max
 * bytes; more is -EFBIG, SFU_ERR_SIZE; a NUL byte in it is SFU_ERR_STATE),
 * the first line of stderr goes into ret_stderr_line.  ret_status: the
 * exit status, or -1 when killed by a signal.  Failure to start and the
 * timeout (-ETIMEDOUT) are SFU_ERR_STORAGE. */
int sfu_spawn_run(char *const argv[], uint64_t timeout_usec, size_t output_max, char **ret_stdout,
                  int *ret_status, char *ret_stderr_line, size_t stderr_line_size, struct sfu_err *err) _wur_;
