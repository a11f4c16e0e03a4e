/* SPDX-License-Identifier: MIT */
/* Small helpers shared by every layer: cleanup attributes and ownership
 * hand-over.  Only libc here; library-specific cleanups live beside the
 * module that uses the library. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _wur_ __attribute__((warn_unused_result))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Take ownership of a pointer or fd: returns it and clears the variable so
 * that its cleanup attribute does nothing. */
#define TAKE_PTR(p)                        \
        ({                                 \
                __typeof__(p) _p_ = (p);   \
                (p) = NULL;                \
                _p_;                       \
        })
#define TAKE_FD(fd)                        \
        ({                                 \
                int _fd_ = (fd);           \
                (fd) = -1;                 \
                _fd_;                      \
        })

static inline void freep(void *p) { free(*(void **)p); }
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Wipe secrets before freeing them. */
static inline void sfu_wipe(void *p, size_t n) {
        if (p && n)
                explicit_bzero(p, n);
}

static inline char *sfu_strdup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static inline bool sfu_streq(const char *a, const char *b) {
        return a && b && strcmp(a, b) == 0;
}
