/* SPDX-License-Identifier: MIT */
/* secfuctl's human output: the status as aligned "key: value" lines and a
 * slot table, monitor lines, and apply's progress (a bar redrawn in place
 * on a terminal, plain lines at most every 10% otherwise). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

/* "1.5 MiB" */
void sfu_ctl_format_bytes(double bytes, char *buf, size_t size);

/* The reply of Status. */
void sfu_ctl_print_status(FILE *f, json_t *status);

/* One JSON document: indented, or on one line (monitor --json). */
void sfu_ctl_print_json(FILE *f, json_t *j, bool one_line);

/* One line for a Monitor reply {"event", "status"}. */
void sfu_ctl_print_event(FILE *f, json_t *event);

struct sfu_ctl_progress {
        FILE *f;
        bool tty;               /* redraw one line in place */
        unsigned width;         /* of the terminal */
        char phase[32];
        int last_decile;        /* plain lines: the last 10% step printed */
        bool drawn;             /* a bar is on the screen */
};

void sfu_ctl_progress_init(struct sfu_ctl_progress *p, FILE *f, bool tty);
/* Shows status.progress (phase, done, total, rate); does nothing when it
 * is null. */
void sfu_ctl_progress_update(struct sfu_ctl_progress *p, json_t *status);
/* Ends the bar's line. */
void sfu_ctl_progress_finish(struct sfu_ctl_progress *p);
