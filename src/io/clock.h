/* SPDX-License-Identifier: MIT */
/* The clocks, in one place: the core never reads them (time is passed in);
 * everything above reads them here.  Header-only, so that secfuctl uses it
 * without linking the io library. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/timex.h>
#include <time.h>

static inline uint64_t sfu_clock_usec(clockid_t id) {
        struct timespec ts;
        clock_gettime(id, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/* For timeouts and rates. */
static inline uint64_t sfu_clock_monotonic_usec(void) {
        return sfu_clock_usec(CLOCK_MONOTONIC);
}

/* Like the monotonic clock, but it counts suspended time too: for poll
 * intervals, which run in wall time. */
static inline uint64_t sfu_clock_boottime_usec(void) {
        return sfu_clock_usec(CLOCK_BOOTTIME);
}

/* Seconds since the epoch. */
static inline int64_t sfu_clock_wallclock(void) {
        return (int64_t) time(NULL);
}

/* Whether the kernel says the system clock is synchronised (NTP, chrony,
 * systemd-timesyncd clear STA_UNSYNC once they have set it). */
static inline bool sfu_clock_synchronized(void) {
        struct timex tx = { .modes = 0 };
        int r = adjtimex(&tx);
        return r >= 0 && r != TIME_ERROR && !(tx.status & STA_UNSYNC);
}
