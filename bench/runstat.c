/* SPDX-License-Identifier: MIT */
/* Runs a command and reports what it cost, for `make bench`:
 *
 *   runstat OUTFILE PROGRAM [ARGS...]
 *
 * writes "STATUS MAXRSS_KIB USER_USEC SYS_USEC WALL_USEC" to OUTFILE, from
 * wait4()'s rusage of the child (ru_maxrss is the peak of the child or of
 * the largest process it waited for, not a sum) and CLOCK_MONOTONIC around
 * fork and reap. STATUS is the exit status, or 128+signal. Exits with the
 * child's status. */
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long usec(const struct timeval *tv) {
        return (long long) tv->tv_sec * 1000000 + tv->tv_usec;
}

int main(int argc, char **argv) {
        struct timespec t0, t1;
        struct rusage ru;
        int wstatus = 0, status;
        pid_t pid;
        FILE *out;

        if (argc < 3) {
                fprintf(stderr, "usage: runstat OUTFILE PROGRAM [ARGS...]\n");
                return 2;
        }
        out = fopen(argv[1], "we");
        if (!out) {
                perror("runstat: OUTFILE");
                return 2;
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        pid = fork();
        if (pid < 0) {
                perror("runstat: fork");
                return 2;
        }
        if (pid == 0) {
                execvp(argv[2], argv + 2);
                perror("runstat: exec");
                _exit(127);
        }
        while (wait4(pid, &wstatus, 0, &ru) < 0)
                if (errno != EINTR) {
                        perror("runstat: wait4");
                        return 2;
                }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
        fprintf(out, "%d %ld %lld %lld %lld\n", status, ru.ru_maxrss, usec(&ru.ru_utime), usec(&ru.ru_stime),
                (long long) (t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000);
        if (fclose(out) != 0) {
                perror("runstat: OUTFILE");
                return 2;
        }
        return status;
}
