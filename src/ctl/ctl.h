/* SPDX-License-Identifier: MIT */
/* What secfuctl's parts share: the exit codes (doc/control.md, "Errors") and how
 * a failure travels to main(). */
#pragma once
#include <stdbool.h>
#include <jansson.h>

#include "core/err.h"

#define SFU_CTL_EXIT_OK 0
#define SFU_CTL_EXIT_FAILED 1           /* the operation failed */
#define SFU_CTL_EXIT_USAGE 2            /* bad command line */
#define SFU_CTL_EXIT_UNREACHABLE 3      /* secfud not reachable */
#define SFU_CTL_EXIT_DENIED 4           /* not permitted */

#define SFU_CTL_DEFAULT_SOCKET "/run/secfud/secfud.sock"

struct sfu_ctl_failure {
        int exit_status;                        /* one of the above */
        char message[SFU_ERR_MESSAGE_MAX + 128];
};

/* Records the first failure; returns -1 so callers can `return sfu_ctl_fail(...)`. */
int sfu_ctl_fail(struct sfu_ctl_failure *f, int exit_status, const char *fmt, ...) _printf_(3, 4);

/* The exit status for an error reply: by its code name ("busy", ...) when
 * it has one, else by its error name (Varlink or D-Bus). */
int sfu_ctl_exit_status_for(const char *error_name, const char *code);
