/* SPDX-License-Identifier: MIT */
/* secfu-manifest: the manufacturer's tool.  One file per command
 * (keygen.c, create.c, sign.c, verify.c, inspect.c, publish.c), each
 * exporting sfu_tool_<command>(); main.c holds the command table; this
 * header and common.c the option parsing, messages and input helpers they
 * share.  Everything that decides whether a key, a JWS or a manifest is
 * valid lives in src/core, files are written through src/io/fileio.
 *
 * Exit status: 0 success, 1 failure (one line "secfu-manifest: CMD: reason"
 * on stderr), 2 usage error. */
#pragma once
#include <getopt.h>
#include <stdio.h>

#include "core/err.h"
#include "core/jws.h"
#include "core/sig.h"

#define SFU_TOOL_PROG "secfu-manifest"
#define SFU_TOOL_EXIT_USAGE 2

/* The commands, argv[0] being the command's name. */
int sfu_tool_keygen(int argc, char **argv);
int sfu_tool_create(int argc, char **argv);
int sfu_tool_sign(int argc, char **argv);
int sfu_tool_verify(int argc, char **argv);
int sfu_tool_inspect(int argc, char **argv);
int sfu_tool_publish(int argc, char **argv);
int sfu_tool_encrypt(int argc, char **argv);
int sfu_tool_decrypt(int argc, char **argv);

/* ------------------------------------------------------------ options */

#define SFU_TOOL_MAX_OPTIONS 16         /* options of one command, --help not counted */

/* What every command has: its name (for messages) and its help text. */
struct sfu_tool_command {
        const char *name;
        void (*help)(void);
};

enum sfu_tool_arg {
        SFU_TOOL_FLAG,                  /* no argument; target is a bool, set to true */
        SFU_TOOL_STRING,                /* target is a const char *; the last one given counts */
        SFU_TOOL_CALL,                  /* call(target, argument), for lists and checked values */
};

/* One option of a command, "--name" (and "-short" when short is set). */
struct sfu_tool_option {
        const char *name;
        char short_name;
        enum sfu_tool_arg arg;
        void *target;
        /* SFU_TOOL_CALL: 0, or the exit status that ends the command
         * (after printing why). */
        int (*call)(void *target, const char *arg);
};

/* Parses the options of a command (getopt_long, in order; --help and -h
 * print cmd->help).  Returns 0 with optind at the first operand, or -1
 * when the command is over with its exit status in *ret_status: 0 after
 * --help, 2 after an unknown option or a missing argument, or what a
 * call returned. */
int sfu_tool_parse_options(const struct sfu_tool_command *cmd, int argc, char **argv,
                           const struct sfu_tool_option *options, size_t n_options, int *ret_status);

/* The operands after the options: exactly one FILE, or a usage error
 * (*ret_status 2, returns -1). */
int sfu_tool_one_operand(const struct sfu_tool_command *cmd, int argc, char **argv, const char **ret,
                         int *ret_status);

/* ------------------------------------------------------------ messages */

/* Prints msg with every control character replaced by '?', so that one
 * reason stays one line whatever a file or a peer put into it. */
void sfu_tool_put_sanitized(FILE *f, const char *msg);

/* "secfu-manifest: CMD: message" on stderr; returns EXIT_FAILURE. */
int sfu_tool_failf(const char *cmd, const char *fmt, ...) _printf_(2, 3);

/* The one failure line for an error the core or io recorded in err (or,
 * when none was, strerror(r)); returns EXIT_FAILURE. */
int sfu_tool_fail(const char *cmd, int r, const struct sfu_err *err);

/* A usage error: the message and a pointer to --help; returns 2. */
int sfu_tool_usage_error(const char *cmd, const char *fmt, ...) _printf_(2, 3);

/* Flushes standard output: EXIT_SUCCESS, or the failure line. */
int sfu_tool_done(const char *cmd);

/* ------------------------------------------------------------ inputs and outputs */

/* asprintf() that returns the new string, or NULL when memory runs out. */
char *sfu_tool_format(const char *fmt, ...) _printf_(1, 2);

/* Frees a string holding key material after wiping it. */
void sfu_tool_secret_freep(char **p);
#define _cleanup_secret_ _cleanup_(sfu_tool_secret_freep)

/* Reads all of path ("-": standard input) into a new NUL-terminated
 * buffer; more than max bytes is an error. */
int sfu_tool_read_input(const char *path, size_t max, char **ret, size_t *ret_len, struct sfu_err *err) _wur_;

/* Length of buf without trailing white space (a newline after a compact
 * JWS). */
size_t sfu_tool_trim_space(const char *buf, size_t len);

/* Reads the JWS in path ("-": standard input) and parses it; *ret_input
 * keeps the bytes as read. */
int sfu_tool_read_jws(const char *path, char **ret_input, size_t *ret_len, struct sfu_jws **ret,
                      struct sfu_err *err) _wur_;

/* Writes len bytes to standard output and flushes it. */
int sfu_tool_write_stdout(const void *buf, size_t len, struct sfu_err *err) _wur_;
