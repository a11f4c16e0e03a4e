/* SPDX-License-Identifier: MIT */
/* custom: an executable ([bootloader] script) that speaks the verb protocol
 * of doc/custom-bootloader.md.  One run per operation, started with an argv
 * (no shell), stdin from /dev/null, a time limit and a cap on its output;
 * the script makes each switch one write of its own. */
#include <sys/stat.h>

#include "io/bootloader.h"
#include "io/spawn.h"

struct custom {
        char *script;
};

static int custom_open(struct sfu_bootloader *bl, const struct sfu_config *config, struct sfu_err *err) {
        struct custom *c;
        struct stat st;

        if (!config->script || config->script[0] != '/')
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL,
                                   "[bootloader] script must be an absolute path");
        if (stat(config->script, &st) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "bootloader script %s: %s", config->script,
                                   strerror(errno));
        if (!S_ISREG(st.st_mode) || access(config->script, X_OK) < 0)
                return sfu_err_set(err, SFU_ERR_STATE, EACCES,
                                   "bootloader script %s is not an executable file", config->script);
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        bl->data = c;
        c->script = strdup(config->script);
        if (!c->script)
                return -ENOMEM;
        return 0;
}

static void custom_close(struct sfu_bootloader *bl) {
        struct custom *c = bl->data;

        if (!c)
                return;
        free(c->script);
        free(c);
        bl->data = NULL;
}

/* Runs `script VERB ARGS...`; on success ret_line (if asked for) gets the
 * first line of stdout without trailing whitespace. */
static int custom_run(struct sfu_bootloader *bl, const char *verb, const char *arg1, const char *arg2,
                      const char *arg3, char **ret_line, struct sfu_err *err) {
        struct custom *c = bl->data;
        char *argv[] = {c->script, (char *) verb, (char *) arg1, (char *) arg2, (char *) arg3, NULL};
        _cleanup_free_ char *out = NULL;
        char stderr_line[256];
        size_t len;
        int status, r;

        r = sfu_spawn_run(argv, bl->timeout_usec, SFU_BOOTLOADER_CUSTOM_OUTPUT_MAX, &out, &status,
                          stderr_line, sizeof(stderr_line), err);
        if (r < 0)
                return r;
        if (status != 0) {
                if (status < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, EIO,
                                           "bootloader script %s %s was killed by a signal", c->script,
                                           verb);
                return sfu_err_set(err, SFU_ERR_STORAGE, EIO,
                                   "bootloader script %s %s failed with exit status %d%s%s", c->script, verb,
                                   status, stderr_line[0] ? ": " : "", stderr_line);
        }
        if (!ret_line)
                return 0;
        len = strcspn(out, "\n");
        out[len] = 0;
        while (len > 0 && strchr(" \t\r", out[len - 1]))
                out[--len] = 0;
        *ret_line = TAKE_PTR(out);
        return 0;
}

static int custom_get_primary(struct sfu_bootloader *bl, char **ret, struct sfu_err *err) {
        _cleanup_free_ char *line = NULL;
        int r;

        r = custom_run(bl, "get-primary", NULL, NULL, NULL, &line, err);
        if (r < 0)
                return r;
        if (!sfu_bootloader_bootname_valid(line))
                return sfu_err_set(err, SFU_ERR_STATE, EBADMSG,
                                   "bootloader script get-primary printed '%.32s', not a bootname", line);
        *ret = TAKE_PTR(line);
        return 0;
}

/* "good" or "bad", optionally followed by the attempts left (decimal). */
static int custom_get_slot_state(struct sfu_bootloader *bl, const char *bootname,
                                 struct sfu_bootloader_slot_state *ret, struct sfu_err *err) {
        _cleanup_free_ char *line = NULL;
        struct sfu_bootloader_slot_state state = {};
        const char *rest;
        int r;

        r = custom_run(bl, "get-state", bootname, NULL, NULL, &line, err);
        if (r < 0)
                return r;
        if (strncmp(line, "good", 4) == 0) {
                state.good = state.in_order = true;
                state.attempts_left = 1;
                rest = line + 4;
        } else if (strncmp(line, "bad", 3) == 0) {
                rest = line + 3;
        } else
                rest = NULL;
        if (rest && *rest == ' ') {
                char *end;
                unsigned long n;

                errno = 0;
                n = strtoul(rest + 1, &end, 10);
                if (errno || *end || end == rest + 1 || rest[1] == '-' || n > 0xffff)
                        rest = NULL;
                else
                        state.attempts_left = (unsigned) n;
        } else if (rest && *rest)
                rest = NULL;
        if (!rest || (state.good && state.attempts_left == 0))
                return sfu_err_set(
                        err, SFU_ERR_STATE, EBADMSG,
                        "bootloader script get-state %s printed '%.32s', not 'good [N]' or 'bad [N]'",
                        bootname, line);
        *ret = state;
        return 0;
}

static int custom_set_trial(struct sfu_bootloader *bl, const char *bootname, const char *fallback,
                            struct sfu_err *err) {
        char attempts[16];

        snprintf(attempts, sizeof(attempts), "%u", bl->attempts);
        return custom_run(bl, "set-trial", bootname, attempts, fallback, NULL, err);
}

static int custom_mark_good(struct sfu_bootloader *bl, const char *bootname, struct sfu_err *err) {
        return custom_run(bl, "set-state", bootname, "good", NULL, NULL, err);
}

static int custom_mark_bad(struct sfu_bootloader *bl, const char *bootname, struct sfu_err *err) {
        return custom_run(bl, "set-state", bootname, "bad", NULL, NULL, err);
}

static int custom_set_primary(struct sfu_bootloader *bl, const char *bootname, struct sfu_err *err) {
        return custom_run(bl, "set-primary", bootname, NULL, NULL, NULL, err);
}

static int custom_get_incomplete(struct sfu_bootloader *bl, char **ret, struct sfu_err *err) {
        return custom_run(bl, "get-incomplete", NULL, NULL, NULL, ret, err);
}

static int custom_set_incomplete(struct sfu_bootloader *bl, const char *class_name, struct sfu_err *err) {
        return custom_run(bl, "set-incomplete", class_name, NULL, NULL, NULL, err);
}

static int custom_clear_incomplete(struct sfu_bootloader *bl, const char *class_name, struct sfu_err *err) {
        return custom_run(bl, "clear-incomplete", class_name, NULL, NULL, NULL, err);
}

const struct sfu_bootloader_ops sfu_bootloader_custom_ops = {
        .name = "custom",
        .scheme = SFU_BOOTLOADER_SCHEME_NONE,
        .open = custom_open,
        .close = custom_close,
        .get_primary = custom_get_primary,
        .get_slot_state = custom_get_slot_state,
        .set_trial = custom_set_trial,
        .mark_good = custom_mark_good,
        .mark_bad = custom_mark_bad,
        .set_primary = custom_set_primary,
        .get_incomplete = custom_get_incomplete,
        .set_incomplete = custom_set_incomplete,
        .clear_incomplete = custom_clear_incomplete,
};
