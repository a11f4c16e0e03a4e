/* SPDX-License-Identifier: MIT */
/* What the bench programs share: the CPU time of the process, an order
 * for qsort() of doubles (for medians), and dying with the reason. */
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/err.h"

static inline double bench_cpu_now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static inline int bench_cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

/* "PROGRAM: WHAT: REASON" on stderr, exit 1. */
static inline void bench_die(const char *program, const char *what, const struct sfu_err *err) {
        fprintf(stderr, "%s: %s: %s\n", program, what, err && err->message[0] ? err->message : "failed");
        exit(1);
}
