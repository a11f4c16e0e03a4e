/* SPDX-License-Identifier: MIT */
/* A tiny TAP producer for the unit tests: every ok() is one test case that
 * automake's tap-driver counts. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void tap_ok(bool pass, const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tap_skip(const char *why);
/* Prints the plan and returns the process exit status (0 when all passed). */
int tap_done(void);

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, name)                                                           \
        do {                                                                             \
                long long g_ = (long long) (got), w_ = (long long) (want);              \
                tap_ok(g_ == w_, __FILE__, __LINE__, "%s (got %lld, want %lld)", name, g_, w_); \
        } while (0)
#define is_str(got, want, name)                                                           \
        do {                                                                             \
                const char *g_ = (got), *w_ = (want);                                    \
                tap_ok(g_ && w_ && strcmp(g_, w_) == 0, __FILE__, __LINE__, "%s (got \"%s\", want \"%s\")", \
                       name, g_ ? g_ : "(null)", w_ ? w_ : "(null)");                     \
        } while (0)

/* Reads a whole file (test data); aborts the test program when missing. */
char *tap_read_file(const char *path, size_t *ret_len);
/* Path of a file under tests/data (static buffer, valid until next call). */
const char *tap_data(const char *name);
/* Runs fn in a child process: true when it returns (no signal, no
 * sanitizer report ending the process). */
bool tap_survives(void (*fn)(void));
/* A fresh temporary directory (removed by the caller or left in /tmp). */
char *tap_mkdtemp(void);
