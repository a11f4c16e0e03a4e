/* SPDX-License-Identifier: MIT */
/* What the commands of secfu-manifest share: option parsing, the failure
 * and usage lines, reading inputs. */
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#include "io/fileio.h"
#include "tool/tool.h"

/* ------------------------------------------------------------ options */

/* getopt with an optstring starting with ':' reports '?' (unknown
 * option) and ':' (missing argument); both are usage errors. */
static int bad_option(const char *cmd, int c, char **argv) {
        const char *arg = argv[optind - 1];

        if (c == ':')
                return sfu_tool_usage_error(cmd, "option %s needs an argument", arg);
        if (optopt && !(arg[0] == '-' && arg[1] == '-'))
                return sfu_tool_usage_error(cmd, "unknown option -%c", optopt);
        return sfu_tool_usage_error(cmd, "unknown option %s", arg);
}

/* getopt_long()'s view of the table: long options return 256 + index,
 * short ones their character. */
static int getopt_tables(const struct sfu_tool_option *options, size_t n, struct option *longs, char *shorts) {
        char *s = shorts;

        if (n > SFU_TOOL_MAX_OPTIONS)
                return -E2BIG;
        *s++ = ':';
        *s++ = 'h';
        longs[0] = (struct option) { "help", no_argument, NULL, 'h' };
        for (size_t i = 0; i < n; i++) {
                bool has_arg = options[i].arg != SFU_TOOL_FLAG;

                longs[i + 1] = (struct option) { options[i].name, has_arg ? required_argument : no_argument, NULL,
                                                 256 + (int) i };
                if (options[i].short_name) {
                        *s++ = options[i].short_name;
                        if (has_arg)
                                *s++ = ':';
                }
        }
        longs[n + 1] = (struct option) {};
        *s = 0;
        return 0;
}

/* The table entry getopt_long() returned c for. */
static const struct sfu_tool_option *option_of(const struct sfu_tool_option *options, size_t n, int c) {
        if (c >= 256 && (size_t) (c - 256) < n)
                return &options[c - 256];
        for (size_t i = 0; i < n; i++)
                if (options[i].short_name && options[i].short_name == c)
                        return &options[i];
        return NULL;
}

int sfu_tool_parse_options(const struct sfu_tool_command *cmd, int argc, char **argv,
                           const struct sfu_tool_option *options, size_t n_options, int *ret_status) {
        struct option longs[SFU_TOOL_MAX_OPTIONS + 2];
        char shorts[2 * SFU_TOOL_MAX_OPTIONS + 3];
        int c;

        if (getopt_tables(options, n_options, longs, shorts) < 0) {
                *ret_status = sfu_tool_failf(cmd->name, "too many options");
                return -1;
        }
        while ((c = getopt_long(argc, argv, shorts, longs, NULL)) >= 0) {
                const struct sfu_tool_option *o = option_of(options, n_options, c);

                if (c == 'h') {
                        cmd->help();
                        *ret_status = EXIT_SUCCESS;
                        return -1;
                }
                if (!o) {
                        *ret_status = bad_option(cmd->name, c, argv);
                        return -1;
                }
                if (o->arg == SFU_TOOL_FLAG)
                        *(bool *) o->target = true;
                else if (o->arg == SFU_TOOL_STRING)
                        *(const char **) o->target = optarg;
                else if ((*ret_status = o->call(o->target, optarg)) != 0)
                        return -1;
        }
        return 0;
}

int sfu_tool_one_operand(const struct sfu_tool_command *cmd, int argc, char **argv, const char **ret,
                         int *ret_status) {
        if (argc - optind != 1) {
                *ret_status = sfu_tool_usage_error(cmd->name, "expected exactly one FILE");
                return -1;
        }
        *ret = argv[optind];
        return 0;
}

/* ------------------------------------------------------------ messages */

void sfu_tool_put_sanitized(FILE *f, const char *msg) {
        for (const unsigned char *p = (const unsigned char *) msg; *p; p++)
                fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
}

_printf_(2, 0) static void vreport(const char *cmd, const char *fmt, va_list ap) {
        char msg[SFU_ERR_MESSAGE_MAX + 256];

        vsnprintf(msg, sizeof(msg), fmt, ap);
        fputs(SFU_TOOL_PROG ": ", stderr);
        if (cmd)
                fprintf(stderr, "%s: ", cmd);
        sfu_tool_put_sanitized(stderr, msg);
        fputc('\n', stderr);
}

int sfu_tool_failf(const char *cmd, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vreport(cmd, fmt, ap);
        va_end(ap);
        return EXIT_FAILURE;
}

int sfu_tool_fail(const char *cmd, int r, const struct sfu_err *err) {
        if (sfu_err_isset(err))
                return sfu_tool_failf(cmd, "%s", err->message);
        return sfu_tool_failf(cmd, "%s", strerror(r < 0 ? -r : EINVAL));
}

int sfu_tool_usage_error(const char *cmd, const char *fmt, ...) {
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (cmd)
                sfu_tool_failf(cmd, "%s (see '" SFU_TOOL_PROG " %s --help')", msg, cmd);
        else
                sfu_tool_failf(NULL, "%s (see '" SFU_TOOL_PROG " --help')", msg);
        return SFU_TOOL_EXIT_USAGE;
}

int sfu_tool_done(const char *cmd) {
        if (fflush(stdout) != 0 || ferror(stdout))
                return sfu_tool_failf(cmd, "cannot write to standard output");
        return EXIT_SUCCESS;
}

/* ------------------------------------------------------------ inputs and outputs */

char *sfu_tool_format(const char *fmt, ...) {
        char *s = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

void sfu_tool_secret_freep(char **p) {
        if (*p) {
                sfu_wipe(*p, strlen(*p));
                free(*p);
        }
}

int sfu_tool_read_input(const char *path, size_t max, char **ret, size_t *ret_len, struct sfu_err *err) {
        int r;

        if (sfu_streq(path, "-"))
                return sfu_file_read_fd(STDIN_FILENO, "standard input", max, ret, ret_len, err);
        r = sfu_file_read(path, max, 0, ret, ret_len, err);
        if (r == -ENOENT)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOENT, "cannot open %s: %s", path, strerror(ENOENT));
        return r;
}

size_t sfu_tool_trim_space(const char *buf, size_t len) {
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
                           buf[len - 1] == '\t'))
                len--;
        return len;
}

int sfu_tool_write_stdout(const void *buf, size_t len, struct sfu_err *err) {
        if (len > 0 && fwrite(buf, 1, len, stdout) != len)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno ? errno : EIO, "cannot write to standard output");
        if (fflush(stdout) != 0 || ferror(stdout))
                return sfu_err_set(err, SFU_ERR_STORAGE, errno ? errno : EIO, "cannot write to standard output");
        return 0;
}

int sfu_tool_write_output(const char *path, const void *buf, size_t len, bool binary, struct sfu_err *err) {
        if (path && !sfu_streq(path, "-"))
                return sfu_file_write_atomic(path, buf, len, 0644, err);
        if (binary && isatty(STDOUT_FILENO))
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOTTY,
                                   "not writing binary output to a terminal; use -o FILE or a redirection");
        return sfu_tool_write_stdout(buf, len, err);
}

bool sfu_tool_has_suffix(const char *s, const char *suffix) {
        size_t n = strlen(s), m = strlen(suffix);

        return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool sfu_tool_is_hsskey(const char *path) {
        static const char magic[] = "SECFUHSS";
        char head[sizeof(magic) - 1];
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        ssize_t n;

        if (fd < 0)
                return false;
        do
                n = read(fd, head, sizeof(head));
        while (n < 0 && errno == EINTR);
        return n == (ssize_t) sizeof(head) && memcmp(head, magic, sizeof(head)) == 0;
}

int sfu_tool_load_decryption_keys(const char *const *paths, size_t n, struct sfu_keyring **ret,
                                  struct sfu_err *err) {
        _cleanup_keyring_ struct sfu_keyring *ring = NULL;
        int r;

        if (sfu_keyring_new(&ring) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                struct sfu_key *key = NULL;
                r = sfu_key_load_file_for(paths[i], SFU_KEY_USE_ENC, true, &key, err);
                if (r >= 0 && (r = sfu_keyring_add(ring, key, err)) < 0)
                        sfu_key_free(key);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(ring);
        return 0;
}
