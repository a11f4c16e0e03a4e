/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#ifndef SFU_TEST_DATA
#define SFU_TEST_DATA "tests/data"
#endif

static unsigned n_tests, n_failed;

void tap_ok(bool pass, const char *file, int line, const char *fmt, ...) {
        va_list ap;

        n_tests++;
        if (!pass)
                n_failed++;
        printf("%s %u - ", pass ? "ok" : "not ok", n_tests);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
        if (!pass)
                printf("# failed at %s:%d\n", file, line);
        fflush(stdout);
}

void tap_diag(const char *fmt, ...) {
        va_list ap;

        fputs("# ", stdout);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
}

void tap_skip(const char *why) {
        n_tests++;
        printf("ok %u # SKIP %s\n", n_tests, why);
}

int tap_done(void) {
        printf("1..%u\n", n_tests);
        return n_failed ? 1 : 0;
}

char *tap_read_file(const char *path, size_t *ret_len) {
        FILE *f = fopen(path, "rbe");
        char *buf = NULL;
        size_t cap = 0, len = 0;

        if (!f) {
                printf("Bail out! cannot open %s\n", path);
                exit(1);
        }
        for (;;) {
                if (len + 4096 + 1 > cap) {
                        cap = cap ? cap * 2 : 8192;
                        buf = realloc(buf, cap);
                        if (!buf)
                                abort();
                }
                size_t got = fread(buf + len, 1, cap - len - 1, f);
                len += got;
                if (got == 0)
                        break;
        }
        fclose(f);
        buf[len] = 0;
        if (ret_len)
                *ret_len = len;
        return buf;
}

const char *tap_data(const char *name) {
        static char path[4096];
        snprintf(path, sizeof(path), "%s/%s", SFU_TEST_DATA, name);
        return path;
}

bool tap_survives(void (*fn)(void)) {
        int status = 0;
        pid_t pid;

        fflush(stdout);
        pid = fork();
        if (pid < 0) {
                printf("Bail out! fork failed\n");
                exit(1);
        }
        if (pid == 0) {
                fn();
                _exit(0);
        }
        if (waitpid(pid, &status, 0) != pid)
                return false;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

char *tap_mkdtemp(void) {
        char tmpl[] = "/tmp/sfu-test.XXXXXX";
        char *dir = mkdtemp(tmpl);
        if (!dir) {
                printf("Bail out! mkdtemp failed\n");
                exit(1);
        }
        return strdup(dir);
}
