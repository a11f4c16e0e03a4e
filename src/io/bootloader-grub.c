/* SPDX-License-Identifier: MIT */
/* GRUB: RAUC's variables ORDER, <B>_OK and <B>_TRY in a grubenv block
 * (etc/grub/secfu-ab.cfg is the matching grub.cfg snippet).  The block is
 * read with `grub-editenv FILE list` and changed with exactly one
 * `grub-editenv COPY set K=V ...` per switch.  grub-editenv rewrites its
 * file in place (open with O_TRUNC, write, fsync): a power cut between the
 * truncation and the write leaves an empty file, which GRUB can neither
 * load nor save, so it edits a copy beside the grubenv, and the edited
 * copy replaces the grubenv by a crash-safe rename.  grub-editenv is found
 * on PATH; SFU_GRUB_EDITENV names another one (tests). */
#include <sys/stat.h>
#include <unistd.h>

#include "io/bootloader.h"
#include "io/spawn.h"
#include "io/envfile.h"
#include "io/fault.h"
#include "io/fileio.h"

#define GRUB_EDITENV "grub-editenv"
#define GRUBENV_MAX (64u * 1024u)       /* a grubenv block is 1024 bytes */
#define GRUBENV_EDIT_SUFFIX ".secfud-edit"

struct grub {
        char *grubenv;
        char *editenv;
};

static int grub_open(struct sfu_bootloader *bl, const struct sfu_config *config, struct sfu_err *err) {
        struct grub *g;
        const char *editenv = NULL;
        struct stat st;

#ifdef SFU_FAULT_INJECTION
        /* Test builds only: a wrapper around grub-editenv. */
        editenv = getenv("SFU_GRUB_EDITENV");
#endif

        if (!config->grubenv || config->grubenv[0] != '/')
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL,
                                   "[bootloader] grubenv must be an absolute path");
        /* grub-editenv creates a missing file: a wrong path would silently
         * give GRUB a block it never reads. */
        if (stat(config->grubenv, &st) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "grubenv %s: %s", config->grubenv,
                                   strerror(errno));
        if (!S_ISREG(st.st_mode))
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL, "grubenv %s is not a regular file",
                                   config->grubenv);
        g = calloc(1, sizeof(*g));
        if (!g)
                return -ENOMEM;
        g->grubenv = strdup(config->grubenv);
        g->editenv = strdup(editenv && *editenv ? editenv : GRUB_EDITENV);
        bl->data = g;
        if (!g->grubenv || !g->editenv)
                return -ENOMEM;
        return 0;
}

static void grub_close(struct sfu_bootloader *bl) {
        struct grub *g = bl->data;

        if (!g)
                return;
        free(g->grubenv);
        free(g->editenv);
        free(g);
        bl->data = NULL;
}

static int grub_check_exists(const struct grub *g, struct sfu_err *err) {
        struct stat st;

        if (stat(g->grubenv, &st) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "grubenv %s: %s", g->grubenv,
                                   strerror(errno));
        return 0;
}

static int grub_run(struct sfu_bootloader *bl, char *const argv[], char **ret_stdout, struct sfu_err *err) {
        char stderr_line[256];
        int status, r;

        r = sfu_spawn_run(argv, bl->timeout_usec, SFU_BOOTLOADER_OUTPUT_MAX, ret_stdout, &status,
                          stderr_line, sizeof(stderr_line), err);
        if (r < 0)
                return r;
        if (status != 0) {
                if (ret_stdout)
                        free(TAKE_PTR(*ret_stdout));
                if (status < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, EIO, "%s %s was killed by a signal",
                                           argv[0], argv[2]);
                return sfu_err_set(err, SFU_ERR_STORAGE, EIO, "%s %s on %s failed with exit status %d%s%s",
                                   argv[0], argv[2], argv[1], status, stderr_line[0] ? ": " : "",
                                   stderr_line);
        }
        return 0;
}

/* `grub-editenv list` prints NAME=VALUE lines with the values raw: a value
 * holding a newline continues on the next line, which has no '=' of its
 * own or is taken for a new variable.  secfud's variables never hold one. */
static int grub_load(struct sfu_bootloader *bl, struct sfu_envfile **ret, struct sfu_err *err) {
        struct grub *g = bl->data;
        _cleanup_envfile_ struct sfu_envfile *env = NULL;
        _cleanup_free_ char *out = NULL, *last_key = NULL;
        char *argv[] = {g->editenv, g->grubenv, (char *) "list", NULL};
        int r;

        r = grub_check_exists(g, err);
        if (r < 0)
                return r;
        r = grub_run(bl, argv, &out, err);
        if (r < 0)
                return r;
        r = sfu_envfile_new(&env);
        if (r < 0)
                return r;
        for (char *line = out, *next; line && *line; line = next) {
                char *eq;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                eq = strchr(line, '=');
                if (!eq || eq == line) {
                        _cleanup_free_ char *joined = NULL;
                        const char *prev;

                        if (!last_key)
                                return sfu_err_set(err, SFU_ERR_STATE, EBADMSG,
                                                   "cannot parse the output of %s list", g->editenv);
                        prev = sfu_envfile_get(env, last_key);
                        if (asprintf(&joined, "%s\n%s", prev ? prev : "", line) < 0)
                                return -ENOMEM;
                        r = sfu_envfile_set(env, last_key, joined);
                        if (r < 0)
                                return r;
                        continue;
                }
                *eq = 0;
                r = sfu_envfile_set(env, line, eq + 1);
                if (r == -E2BIG)
                        return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "grubenv %s has more than %u variables",
                                           g->grubenv, SFU_ENVFILE_MAX_VARS);
                if (r < 0)
                        return sfu_err_set(err, SFU_ERR_STATE, EBADMSG, "cannot parse the output of %s list",
                                           g->editenv);
                free(last_key);
                last_key = strdup(line);
                if (!last_key)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(env);
        return 0;
}

static void free_strv(char **v) {
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

static void free_strvp(char ***v) {
        free_strv(*v);
}

/* One grub-editenv invocation for all changes, on a copy of the grubenv
 * that then replaces it atomically (see the top of this file).  An unset
 * becomes an empty value: `unset` would need a second invocation, and the
 * boot script treats empty and unset alike. */
static int grub_store(struct sfu_bootloader *bl, const struct sfu_envfile *changes, struct sfu_err *err) {
        struct grub *g = bl->data;
        _cleanup_(free_strvp) char **argv = NULL;
        _cleanup_free_ char *edit = NULL, *old = NULL, *edited = NULL;
        size_t n = sfu_envfile_size(changes), k = 0, old_len = 0, edited_len = 0;
        struct stat st;
        int r;

        if (n == 0)
                return 0;
        r = grub_check_exists(g, err);
        if (r < 0)
                return r;
        if (asprintf(&edit, "%s%s", g->grubenv, GRUBENV_EDIT_SUFFIX) < 0) {
                edit = NULL;
                return -ENOMEM;
        }
        argv = calloc(n + 4, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        {
                const char *fixed[] = {g->editenv, edit, "set"};
                for (size_t i = 0; i < ELEMENTSOF(fixed); i++) {
                        argv[k] = strdup(fixed[i]);
                        if (!argv[k])
                                return -ENOMEM;
                        k++;
                }
        }
        for (size_t i = 0; i < n; i++) {
                const char *value = sfu_envfile_value_at(changes, i);
                if (value && strpbrk(value, "\n\\"))
                        return sfu_err_set(err, SFU_ERR_STATE, EINVAL, "cannot store '%s' in a grubenv",
                                           sfu_envfile_key_at(changes, i));
                if (asprintf(&argv[k], "%s=%s", sfu_envfile_key_at(changes, i), value ? value : "") < 0) {
                        argv[k] = NULL;
                        return -ENOMEM;
                }
                k++;
        }
        r = SFU_FAULT("env-write");
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot run %s set on %s: %s", g->editenv,
                                   g->grubenv, strerror(-r));
        if (stat(g->grubenv, &st) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "grubenv %s: %s", g->grubenv, strerror(errno));
        r = sfu_file_read(g->grubenv, GRUBENV_MAX, 0, &old, &old_len, err);
        if (r == -ENOENT)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOENT, "grubenv %s: no such file", g->grubenv);
        if (r < 0)
                return r;
        r = sfu_file_write_atomic(edit, old, old_len, st.st_mode & 0777, err);
        if (r < 0)
                return r;
        r = grub_run(bl, argv, NULL, err);
        if (r >= 0)
                r = sfu_file_read(edit, GRUBENV_MAX, 0, &edited, &edited_len, err);
        if (r >= 0)
                r = sfu_file_write_atomic(g->grubenv, edited, edited_len, st.st_mode & 0777, err);
        (void) unlink(edit);
        if (r == -ENOENT)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOENT, "%s: no such file after %s", edit, g->editenv);
        if (r < 0)
                return r;
        r = SFU_FAULT("env-written"); /* tests: the new block has replaced the grubenv, nothing else is written */
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "after writing grubenv %s: %s", g->grubenv,
                                   strerror(-r));
        return 0;
}

const struct sfu_bootloader_ops sfu_bootloader_grub_ops = {
        .name = "grub",
        .scheme = SFU_BOOTLOADER_SCHEME_GRUB,
        .open = grub_open,
        .close = grub_close,
        .load = grub_load,
        .store = grub_store,
};
