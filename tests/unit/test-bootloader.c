/* SPDX-License-Identifier: MIT */
/* The bootloader backends against real environments: a KEY=VALUE file, a
 * grubenv written by the real grub-editenv, redundant U-Boot environments
 * in regular files written by libubootenv, and a custom script.  Boots are
 * played by tests/integration/bootsim, which reads and writes the
 * environment formats on its own, the way the boot scripts in etc/ do. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "io/bootloader.h"
#include "io/envfile.h"
#include "io/spawn.h"
#include "tap.h"

#ifndef SFU_TEST_DATA
#define SFU_TEST_DATA "tests/data"
#endif

static char *tmpdir;

/* ---- helpers ----------------------------------------------------------------- */

static char *path_in_tmp(const char *name) {
        char *p;

        if (asprintf(&p, "%s/%s", tmpdir, name) < 0)
                abort();
        return p;
}

static void write_file(const char *path, const char *content, size_t len, mode_t mode) {
        FILE *f = fopen(path, "we");

        if (!f || fwrite(content, 1, len, f) != len || fclose(f) != 0) {
                printf("Bail out! cannot write %s\n", path);
                exit(1);
        }
        chmod(path, mode);
}

static void write_text(const char *path, const char *content) {
        write_file(path, content, strlen(content), 0644);
}

/* whole file, or NULL when missing; *len set */
static char *slurp(const char *path, size_t *len) {
        struct stat st;

        if (stat(path, &st) < 0)
                return NULL;
        return tap_read_file(path, len);
}

static int run(char *const argv[], bool quiet) {
        pid_t pid = fork();
        int status;

        if (pid < 0)
                abort();
        if (pid == 0) {
                if (quiet) {
                        int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
                        dup2(fd, 1);
                        dup2(fd, 2);
                }
                execvp(argv[0], argv);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) < 0)
                abort();
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *bootsim_path(void) {
        static char path[4096];
        const char *top = getenv("top_srcdir");

        if (top)
                snprintf(path, sizeof(path), "%s/tests/integration/bootsim", top);
        else
                snprintf(path, sizeof(path), "%s/../integration/bootsim", SFU_TEST_DATA);
        return path;
}

/* one simulated boot; returns bootsim's exit status */
static int boot(const char *backend, const char *env, const char *out, bool fail) {
        char *argv[] = {(char *) bootsim_path(),
                        (char *) "--backend",
                        (char *) backend,
                        (char *) "--env",
                        (char *) env,
                        (char *) "--out",
                        (char *) out,
                        fail ? (char *) "--fail-boot" : NULL,
                        NULL};
        return run(argv, true);
}

static char *booted(const char *out) {
        _cleanup_free_ char *spec = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        char *name = NULL;

        if (asprintf(&spec, "file:%s", out) < 0)
                abort();
        if (sfu_bootloader_booted_slot(spec, NULL, &name, &err) < 0)
                return strdup("(error)");
        return name;
}

static struct sfu_config *config_new(enum sfu_config_backend backend) {
        struct sfu_config *c = calloc(1, sizeof(*c));
        const char *names[] = {"A", "B"};

        if (!c)
                abort();
        c->backend = backend;
        c->attempts = 3;
        for (unsigned i = 0; i < 2; i++) {
                c->slots[i].class_name = strdup("rootfs");
                c->slots[i].index = i;
                c->slots[i].device = strdup("/dev/null");
                c->slots[i].bootname = strdup(names[i]);
        }
        c->n_slots = 2;
        return c;
}

static void config_done(struct sfu_config *c) {
        for (size_t i = 0; i < c->n_slots; i++) {
                free(c->slots[i].class_name);
                free(c->slots[i].device);
                free(c->slots[i].bootname);
        }
        free(c->grubenv);
        free(c->fw_env_config);
        free(c->script);
        free(c->bootenv_file);
        free(c);
}

static char *primary(struct sfu_bootloader *bl) {
        struct sfu_err err = SFU_ERR_INIT;
        char *p = NULL;

        if (sfu_bootloader_get_primary(bl, &p, &err) < 0) {
                tap_diag("get_primary: %s", err.message);
                return strdup("(error)");
        }
        return p;
}

static struct sfu_bootloader_slot_state state_of(struct sfu_bootloader *bl, const char *name) {
        struct sfu_bootloader_slot_state s = {.attempts_left = 999};
        struct sfu_err err = SFU_ERR_INIT;

        if (sfu_bootloader_get_slot_state(bl, name, &s, &err) < 0)
                tap_diag("get_slot_state %s: %s", name, err.message);
        return s;
}

/* Files that make up an environment, to prove that a refused operation
 * changed nothing. */
struct snapshot {
        char *content[2];
        size_t len[2];
};

static void snapshot_take(struct snapshot *s, const char *f0, const char *f1) {
        s->content[0] = f0 ? slurp(f0, &s->len[0]) : NULL;
        s->content[1] = f1 ? slurp(f1, &s->len[1]) : NULL;
}

static bool snapshot_same(struct snapshot *s, const char *f0, const char *f1) {
        bool same = true;

        for (int i = 0; i < 2; i++) {
                const char *f = i == 0 ? f0 : f1;
                size_t len = 0;
                char *now;

                if (!f)
                        continue;
                now = slurp(f, &len);
                if (!now != !s->content[i] ||
                    (now && (len != s->len[i] || memcmp(now, s->content[i], len) != 0)))
                        same = false;
                free(now);
        }
        free(s->content[0]);
        free(s->content[1]);
        return same;
}

#define is_primary(bl, want, name)                                                                          \
        do {                                                                                                \
                _cleanup_free_ char *p_ = primary(bl);                                                      \
                is_str(p_, want, name);                                                                     \
        } while (0)

#define is_booted(out, want, name)                                                                          \
        do {                                                                                                \
                _cleanup_free_ char *b_ = booted(out);                                                      \
                is_str(b_, want, name);                                                                     \
        } while (0)

/* ---- envfile ------------------------------------------------------------------ */

static void test_envfile(void) {
        struct sfu_err err = SFU_ERR_INIT;
        _cleanup_envfile_ struct sfu_envfile *e = NULL, *changes = NULL, *again = NULL;
        _cleanup_free_ char *text = NULL, *path = path_in_tmp("env.txt");
        const char *good = "# a comment\n\nBOOT_ORDER=A B\r\nBOOT_A_LEFT=3\nEMPTY=\nX.y-z=a=b\n";
        struct sfu_envfile *bad = NULL;
        char big[SFU_ENVFILE_MAX_SIZE + 16];
        DIR *d;
        struct dirent *de;
        bool leftover = false;

        ok(sfu_envfile_parse("t", good, strlen(good), &e, &err) == 0,
           "envfile: parses comments, CRLF, empty values");
        is_int(sfu_envfile_size(e), 4, "envfile: four variables");
        is_str(sfu_envfile_get(e, "BOOT_ORDER"), "A B", "envfile: CRLF stripped, spaces kept");
        is_str(sfu_envfile_get(e, "EMPTY"), "", "envfile: empty value");
        is_str(sfu_envfile_get(e, "X.y-z"), "a=b", "envfile: split at the first '='");
        ok(sfu_envfile_get(e, "NOPE") == NULL, "envfile: absent key is NULL");

#define BAD(text_, code_, what_)                                                                            \
        do {                                                                                                \
                struct sfu_err e_ = SFU_ERR_INIT;                                                           \
                int r_ = sfu_envfile_parse("t", text_, sizeof(text_) - 1, &bad, &e_);                       \
                ok(r_ < 0 && e_.code == code_ && e_.message[0], "envfile: rejects %s (%s)", what_,          \
                   e_.message);                                                                             \
        } while (0)
        BAD("A=1\nA=2\n", SFU_ERR_STATE, "a key set twice");
        BAD("A=1\njunk\n", SFU_ERR_STATE, "a line without '='");
        BAD("=1\n", SFU_ERR_STATE, "an empty key");
        BAD("A B=1\n", SFU_ERR_STATE, "a key with a space");
        BAD("A=1\0\n", SFU_ERR_STATE, "a NUL byte");
#undef BAD
        memset(big, 'x', sizeof(big));
        sfu_err_clear(&err);
        ok(sfu_envfile_parse("t", big, sizeof(big), &bad, &err) < 0 && err.code == SFU_ERR_SIZE,
           "envfile: rejects more than SFU_ENVFILE_MAX_SIZE bytes");

        ok(sfu_envfile_new(&changes) == 0, "envfile: new");
        ok(sfu_envfile_set(changes, "BOOT_A_LEFT", "2") == 0 &&
                   sfu_envfile_set(changes, "EMPTY", NULL) == 0 && sfu_envfile_set(changes, "NEW", "v") == 0,
           "envfile: changes with an unset");
        ok(sfu_envfile_contains(changes, "EMPTY") && !sfu_envfile_get(changes, "EMPTY"),
           "envfile: an unset is recorded as a NULL value");
        ok(sfu_envfile_set(changes, "A=B", "1") == -EINVAL && sfu_envfile_set(changes, "", "1") == -EINVAL,
           "envfile: keys with '=' or empty are refused");
        ok(sfu_envfile_apply(e, changes) == 0, "envfile: apply");
        is_str(sfu_envfile_get(e, "BOOT_A_LEFT"), "2", "envfile: apply replaces");
        ok(!sfu_envfile_contains(e, "EMPTY"), "envfile: apply removes");
        is_str(sfu_envfile_get(e, "NEW"), "v", "envfile: apply adds");
        ok(sfu_envfile_format(e, &text) == 0, "envfile: format");
        ok(sfu_streq(text, "BOOT_ORDER=A B\nBOOT_A_LEFT=2\nX.y-z=a=b\nNEW=v\n"),
           "envfile: format keeps the order");

        sfu_err_clear(&err);
        ok(sfu_envfile_save(e, path, &err) == 0, "envfile: save");
        ok(sfu_envfile_load(path, &again, &err) == 0, "envfile: load what was saved");
        is_str(sfu_envfile_get(again, "X.y-z"), "a=b", "envfile: round trip");
        d = opendir(tmpdir);
        while (d && (de = readdir(d)))
                if (strncmp(de->d_name, "env.txt.", 8) == 0)
                        leftover = true;
        if (d)
                closedir(d);
        ok(!leftover, "envfile: no temporary file left behind");
        {
                struct stat st;
                ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644, "envfile: saved with mode 0644");
        }
        {
                _cleanup_free_ char *missing = path_in_tmp("nope.txt");
                sfu_err_clear(&err);
                ok(sfu_envfile_load(missing, &bad, &err) == -ENOENT && !sfu_err_isset(&err),
                   "envfile: a missing file is -ENOENT without an error");
        }
        ok(sfu_envfile_set(e, "NL", "a\nb") == 0, "envfile: a value with a newline can be held");
        {
                _cleanup_free_ char *t2 = NULL;
                ok(sfu_envfile_format(e, &t2) == -EINVAL, "envfile: but not formatted");
        }
        sfu_err_clear(&err);
        ok(sfu_envfile_save(e, path, &err) < 0 && err.code == SFU_ERR_STATE, "envfile: nor saved");
        sfu_envfile_remove(e, "NL");
        ok(!sfu_envfile_contains(e, "NL"), "envfile: remove");
}

/* ---- booted slot ------------------------------------------------------------------ */

static void test_booted_slot(void) {
        _cleanup_free_ char *cmdline = path_in_tmp("cmdline"), *file = path_in_tmp("booted"), *spec = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        char *name = NULL;

#define CMDLINE(text_, want_, what_)                                                                        \
        do {                                                                                                \
                struct sfu_err e_ = SFU_ERR_INIT;                                                           \
                char *n_ = NULL;                                                                            \
                write_text(cmdline, text_);                                                                 \
                int r_ = sfu_bootloader_booted_slot("cmdline:secfu.slot", cmdline, &n_, &e_);               \
                if (want_)                                                                                  \
                        ok(r_ == 0 && sfu_streq(n_, want_), "booted: %s (got %s)", what_,                   \
                           n_ ? n_ : e_.message);                                                           \
                else                                                                                        \
                        ok(r_ < 0 && e_.code == SFU_ERR_STATE && !n_, "booted: %s (%s)", what_,             \
                           e_.message);                                                                     \
                free(n_);                                                                                   \
        } while (0)
        CMDLINE("BOOT_IMAGE=/vmlinuz root=/dev/sda2 secfu.slot=B quiet\n", "B", "cmdline key in the middle");
        CMDLINE("secfu.slot=A", "A", "cmdline key alone, no newline");
        CMDLINE("secfu.slot=\"A\" ro", "A", "quoted value");
        CMDLINE("secfu.slot=A secfu.slot=B", "B", "the last occurrence wins");
        CMDLINE("x=\"a b secfu.slot=B\" secfu.slot=A", "A", "inside quotes is not a parameter");
        CMDLINE("root=/dev/sda2 quiet", NULL, "missing key");
        CMDLINE("secfu.slotx=A xsecfu.slot=B", NULL, "only the exact key counts");
        CMDLINE("secfu.slot=A/B", NULL, "an invalid bootname");
        CMDLINE("secfu.slot=", NULL, "an empty value");
#undef CMDLINE

        write_text(file, "B\n");
        if (asprintf(&spec, "file:%s", file) < 0)
                abort();
        ok(sfu_bootloader_booted_slot(spec, NULL, &name, &err) == 0 && sfu_streq(name, "B"),
           "booted: file:PATH");
        free(name);
        name = NULL;
        write_text(file, "");
        sfu_err_clear(&err);
        ok(sfu_bootloader_booted_slot(spec, NULL, &name, &err) < 0 && err.code == SFU_ERR_STATE,
           "booted: an empty file is refused");
        unlink(file);
        sfu_err_clear(&err);
        ok(sfu_bootloader_booted_slot(spec, NULL, &name, &err) == -ENOENT && err.code == SFU_ERR_STATE,
           "booted: a missing file is -ENOENT");
        sfu_err_clear(&err);
        ok(sfu_bootloader_booted_slot("file:relative", NULL, &name, &err) == -EINVAL,
           "booted: relative file refused");
        sfu_err_clear(&err);
        ok(sfu_bootloader_booted_slot("cmdline:", NULL, &name, &err) == -EINVAL,
           "booted: empty key refused");
        sfu_err_clear(&err);
        ok(sfu_bootloader_booted_slot("efivar:x", NULL, &name, &err) == -EINVAL && err.message[0],
           "booted: unknown source refused (%s)", err.message);
        ok(name == NULL, "booted: ret untouched on failure");
}

/* ---- helper programs ------------------------------------------------------------------ */

static void test_run(void) {
        struct sfu_err err = SFU_ERR_INIT;
        char *argv_ok[] = {(char *) "sh", (char *) "-c",
                           (char *) "echo out; echo 'first line' >&2; echo second >&2; exit 3", NULL};
        char *argv_hang[] = {(char *) "sh", (char *) "-c", (char *) "sleep 20", NULL};
        char *argv_flood[] = {(char *) "sh", (char *) "-c", (char *) "yes", NULL};
        char *argv_missing[] = {(char *) "/nonexistent/program", NULL};
        _cleanup_free_ char *out = NULL;
        char line[64];
        int status = 0, r;

        ok(sfu_spawn_run(argv_ok, 5000000, 1024, &out, &status, line, sizeof(line), &err) == 0,
           "run: a program that fails still runs");
        is_int(status, 3, "run: exit status");
        ok(sfu_streq(out, "out\n"), "run: stdout");
        is_str(line, "first line", "run: first line of stderr");
        sfu_err_clear(&err);
        ok(sfu_spawn_run(argv_hang, 300000, 1024, NULL, &status, NULL, 0, &err) == -ETIMEDOUT &&
                   err.code == SFU_ERR_STORAGE,
           "run: killed after its time limit (%s)", err.message);
        sfu_err_clear(&err);
        ok(sfu_spawn_run(argv_flood, 5000000, 4096, NULL, &status, NULL, 0, &err) == -EFBIG &&
                   err.code == SFU_ERR_SIZE,
           "run: output over the cap is refused (%s)", err.message);
        sfu_err_clear(&err);
        status = 0;
        r = sfu_spawn_run(argv_missing, 5000000, 1024, NULL, &status, NULL, 0, &err);
        /* glibc reports the failed exec; where posix_spawn falls back to
         * fork (valgrind) the child exits 127 as a shell would */
        ok((r < 0 && err.code == SFU_ERR_STORAGE) || (r == 0 && status == 127),
           "run: a missing program is an error (%s)", err.message);
}

/* ---- the shared life cycle -------------------------------------------------------------------- */

/* env_arg: what bootsim gets as --env; f0/f1: the files that hold the
 * environment (for snapshots).  The environment starts with A primary. */
static void lifecycle(const char *what, struct sfu_bootloader *bl, const char *backend, const char *env_arg,
                      const char *f0, const char *f1) {
        _cleanup_free_ char *out = path_in_tmp("booted-slot");
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_bootloader_slot_state st;
        struct snapshot snap;
        unsigned trial = sfu_bootloader_trial_attempts(bl);
        bool grub = sfu_streq(backend, "grub");
        bool flag = false;
        char msg[128];

        unlink(out);
        is_primary(bl, "A", "lifecycle: A is primary at first");
        is_int(boot(backend, env_arg, out, false), 0, "lifecycle: boot");
        is_booted(out, "A", "lifecycle: A booted");
        ok(sfu_bootloader_mark_good(bl, "A", &err) == 0, "%s: mark_good(A) %s", what, err.message);

        /* a trial that succeeds */
        ok(sfu_bootloader_set_trial(bl, "B", "A", &err) == 0, "%s: set_trial(B, fallback A) %s", what,
           err.message);
        is_primary(bl, "B", "trial: B is primary");
        st = state_of(bl, "B");
        ok(st.in_order && st.good && st.attempts_left == trial, "%s: B in order with %u attempts (got %u)",
           what, trial, st.attempts_left);
        st = state_of(bl, "A");
        ok(st.in_order && st.good && st.attempts_left == trial, "%s: fallback A refreshed (got %u)", what,
           st.attempts_left);
        is_int(boot(backend, env_arg, out, false), 0, "trial: boot");
        is_booted(out, "B", "trial: B booted");
        st = state_of(bl, "B");
        if (grub)
                ok(!st.good && st.attempts_left == 0, "%s: B's one try is spent until committed", what);
        else
                ok(st.good && st.attempts_left == trial - 1, "%s: B has one attempt less (%u)", what,
                   st.attempts_left);
        ok(sfu_bootloader_mark_good(bl, "B", &err) == 0, "%s: mark_good(B) %s", what, err.message);
        is_primary(bl, "B", "commit: B stays primary");
        st = state_of(bl, "B");
        ok(st.good && st.attempts_left == trial, "%s: B's attempts reset by the commit (%u)", what,
           st.attempts_left);
        is_int(boot(backend, env_arg, out, false), 0, "commit: boot");
        is_booted(out, "B", "commit: B boots again");
        ok(sfu_bootloader_mark_good(bl, "B", &err) == 0, "%s: mark_good(B) on the next boot", what);

        /* a trial that fails: every attempt crashes, the bootloader falls back */
        ok(sfu_bootloader_set_trial(bl, "A", "B", &err) == 0, "%s: set_trial(A, fallback B)", what);
        for (unsigned i = 0; i < trial; i++) {
                snprintf(msg, sizeof(msg), "failed boot %u of A", i + 1);
                is_int(boot(backend, env_arg, out, true), 0, msg);
                is_booted(out, "B", "the booted file is left alone by a failed boot");
        }
        st = state_of(bl, "A");
        ok(!st.good && st.attempts_left == 0, "%s: A has no attempts left", what);
        is_primary(bl, "B", "fallback: B is primary again");
        is_int(boot(backend, env_arg, out, false), 0, "fallback: boot");
        is_booted(out, "B", "fallback: B booted");
        ok(sfu_bootloader_mark_bad(bl, "A", &err) == 0, "%s: mark_bad(A) %s", what, err.message);
        st = state_of(bl, "A");
        ok(!st.in_order && !st.good && st.attempts_left == 0, "%s: A out of the order", what);
        ok(sfu_bootloader_mark_good(bl, "B", &err) == 0, "%s: mark_good(B) after the fallback", what);
        is_int(boot(backend, env_arg, out, false), 0, "after mark_bad: boot");
        is_booted(out, "B", "after mark_bad: B boots");

        /* mark_bad of the last bootable slot is refused and changes nothing */
        snapshot_take(&snap, f0, f1);
        sfu_err_clear(&err);
        ok(sfu_bootloader_mark_bad(bl, "B", &err) == -EPERM && err.code == SFU_ERR_STATE,
           "%s: mark_bad of the last slot refused (%s)", what, err.message);
        ok(snapshot_same(&snap, f0, f1), "%s: the environment is unchanged", what);

        /* rollback to A (operator's choice) */
        sfu_err_clear(&err);
        ok(sfu_bootloader_set_primary(bl, "A", &err) == 0, "%s: set_primary(A) %s", what, err.message);
        is_primary(bl, "A", "rollback: A primary");
        st = state_of(bl, "A");
        ok(st.in_order && st.good && st.attempts_left == trial, "%s: A back in the order", what);
        is_int(boot(backend, env_arg, out, false), 0, "rollback: boot");
        is_booted(out, "A", "rollback: A booted");
        ok(sfu_bootloader_mark_good(bl, "A", &err) == 0, "%s: mark_good(A)", what);
        ok(sfu_bootloader_mark_bad(bl, "B", &err) == 0, "%s: mark_bad(B) while A is good", what);
        is_primary(bl, "A", "A primary after B marked bad");

        /* the incomplete mark */
        ok(sfu_bootloader_get_incomplete(bl, "rootfs", &flag, &err) == 0 && !flag, "%s: no incomplete mark",
           what);
        ok(sfu_bootloader_set_incomplete(bl, "rootfs", &err) == 0, "%s: set_incomplete(rootfs)", what);
        ok(sfu_bootloader_set_incomplete(bl, "rootfs", &err) == 0, "%s: set_incomplete twice", what);
        ok(sfu_bootloader_set_incomplete(bl, "boot", &err) == 0, "%s: set_incomplete(boot)", what);
        flag = false;
        ok(sfu_bootloader_get_incomplete(bl, "rootfs", &flag, &err) == 0 && flag, "%s: rootfs marked", what);
        ok(sfu_bootloader_clear_incomplete(bl, "rootfs", &err) == 0, "%s: clear_incomplete(rootfs)", what);
        flag = true;
        ok(sfu_bootloader_get_incomplete(bl, "rootfs", &flag, &err) == 0 && !flag, "%s: rootfs cleared",
           what);
        flag = false;
        ok(sfu_bootloader_get_incomplete(bl, "boot", &flag, &err) == 0 && flag, "%s: boot still marked",
           what);
        ok(sfu_bootloader_clear_incomplete(bl, "boot", &err) == 0, "%s: clear_incomplete(boot)", what);
        flag = true;
        ok(sfu_bootloader_get_incomplete(bl, "boot", &flag, &err) == 0 && !flag, "%s: boot cleared", what);
        is_primary(bl, "A", "the incomplete mark leaves the order alone");

        /* refused arguments change nothing */
        snapshot_take(&snap, f0, f1);
        sfu_err_clear(&err);
        ok(sfu_bootloader_set_trial(bl, "C", NULL, &err) == -EINVAL && err.code == SFU_ERR_STATE,
           "%s: unknown bootname refused (%s)", what, err.message);
        sfu_err_clear(&err);
        ok(sfu_bootloader_set_trial(bl, "A", "A", &err) == -EINVAL, "%s: a slot cannot be its own fallback",
           what);
        sfu_err_clear(&err);
        ok(sfu_bootloader_set_incomplete(bl, "a b", &err) == -EINVAL, "%s: a class with a space refused",
           what);
        ok(snapshot_same(&snap, f0, f1), "%s: nothing written by refused calls", what);
        sfu_err_clear(&err);
}

/* ---- file -------------------------------------------------------------------------------- */

static void test_file(void) {
        _cleanup_free_ char *env = path_in_tmp("bootenv"), *out = path_in_tmp("booted-file");
        struct sfu_config *c = config_new(SFU_CONFIG_BACKEND_FILE);
        _cleanup_bootloader_ struct sfu_bootloader *bl = NULL;
        _cleanup_envfile_ struct sfu_envfile *e = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        struct snapshot snap;

        c->bootenv_file = strdup(env);
        unlink(env);
        ok(sfu_bootloader_open(c, &bl, &err) == 0, "file: open (%s)", err.message);
        is_str(sfu_bootloader_name(bl), "file", "file: name");
        is_int(sfu_bootloader_trial_attempts(bl), 3, "file: trial attempts from the config");
        is_primary(bl, "A", "file: a missing file is the boot script's defaults");
        ok(access(env, F_OK) < 0, "file: reading does not create the file");

        ok(sfu_bootloader_set_trial(bl, "B", "A", &err) == 0, "file: set_trial");
        ok(sfu_envfile_load(env, &e, &err) == 0, "file: written as KEY=VALUE");
        is_str(sfu_envfile_get(e, "BOOT_ORDER"), "B A", "file: BOOT_ORDER");
        is_str(sfu_envfile_get(e, "BOOT_B_LEFT"), "3", "file: BOOT_B_LEFT");
        is_str(sfu_envfile_get(e, "BOOT_A_LEFT"), "3", "file: BOOT_A_LEFT");
        ok(sfu_bootloader_set_primary(bl, "A", &err) == 0, "file: back to A");

        lifecycle("file", bl, "file", env, env, NULL);

        /* a file that does not parse is reported, never replaced */
        write_text(env, "BOOT_ORDER=A B\ngarbage\n");
        snapshot_take(&snap, env, NULL);
        sfu_err_clear(&err);
        {
                char *p = NULL;
                ok(sfu_bootloader_get_primary(bl, &p, &err) < 0 && err.code == SFU_ERR_STATE && !p,
                   "file: a corrupt file is an error (%s)", err.message);
        }
        sfu_err_clear(&err);
        ok(sfu_bootloader_mark_good(bl, "A", &err) < 0 && err.code == SFU_ERR_STATE,
           "file: and is not written");
        ok(snapshot_same(&snap, env, NULL), "file: the corrupt file is unchanged");
        write_text(env, "BOOT_ORDER=A B\nBOOT_A_LEFT=zz\n");
        sfu_err_clear(&err);
        {
                struct sfu_bootloader_slot_state st;
                ok(sfu_bootloader_get_slot_state(bl, "A", &st, &err) < 0 && err.code == SFU_ERR_STATE,
                   "file: an invalid counter is an error (%s)", err.message);
        }
        write_text(env, "BOOT_ORDER=\nBOOT_A_LEFT=\n");
        is_primary(bl, "A", "file: empty BOOT_ORDER and counter mean the script's defaults");

        /* the incomplete mark reaches the boot script */
        ok(sfu_bootloader_set_incomplete(bl, "rootfs", &err) == 0, "file: set_incomplete");
        {
                char *argv[] = {(char *) bootsim_path(),
                                (char *) "--backend",
                                (char *) "file",
                                (char *) "--env",
                                env,
                                (char *) "--out",
                                out,
                                (char *) "--recovery",
                                (char *) "R",
                                NULL};
                is_int(run(argv, true), 0, "file: boot with an incomplete mark");
                is_booted(out, "R", "file: the boot script chose recovery");
        }
        ok(sfu_bootloader_clear_incomplete(bl, "rootfs", &err) == 0, "file: clear_incomplete");
        sfu_bootloader_close(TAKE_PTR(bl));

        free(c->bootenv_file);
        c->bootenv_file = strdup("relative/path");
        sfu_err_clear(&err);
        ok(sfu_bootloader_open(c, &bl, &err) == -EINVAL && !bl, "file: a relative path is refused");
        config_done(c);
}

/* ---- grub ----------------------------------------------------------------------------------- */

static unsigned count_lines(const char *path, const char *word) {
        size_t len;
        _cleanup_free_ char *text = slurp(path, &len);
        unsigned n = 0;

        if (!text)
                return 0;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
                if (strcmp(line, word) == 0)
                        n++;
        return n;
}

static void test_grub(void) {
        _cleanup_free_ char *env = path_in_tmp("grubenv"), *wrapper = path_in_tmp("grub-editenv-counting"),
                            *log = path_in_tmp("grub-editenv.log"), *script = NULL;
        struct sfu_config *c = config_new(SFU_CONFIG_BACKEND_GRUB);
        _cleanup_bootloader_ struct sfu_bootloader *bl = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        struct snapshot snap;
        char *create[] = {(char *) "grub-editenv", env, (char *) "create", NULL};
        char *init[] = {(char *) "grub-editenv",  env,
                        (char *) "set",           (char *) "ORDER=A B",
                        (char *) "A_OK=1",        (char *) "A_TRY=0",
                        (char *) "B_OK=1",        (char *) "B_TRY=0",
                        (char *) "saved_entry=0", NULL};

        if (run((char *[]){(char *) "grub-editenv", (char *) "--version", NULL}, true) != 0) {
                tap_skip("grub-editenv is not installed (apt-get install grub-common)");
                config_done(c);
                return;
        }
        is_int(run(create, false), 0, "grub: grub-editenv create");
        is_int(run(init, false), 0, "grub: RAUC's initial variables");
        if (asprintf(&script, "#!/bin/sh\necho \"$2\" >> '%s'\nexec grub-editenv \"$@\"\n", log) < 0)
                abort();
        write_file(wrapper, script, strlen(script), 0755);
        setenv("SFU_GRUB_EDITENV", wrapper, 1);

        c->grubenv = strdup(env);
        ok(sfu_bootloader_open(c, &bl, &err) == 0, "grub: open (%s)", err.message);
        is_int(sfu_bootloader_trial_attempts(bl), 1, "grub: one try per trial (RAUC's scheme)");

        unlink(log);
        ok(sfu_bootloader_set_trial(bl, "B", "A", &err) == 0, "grub: set_trial");
        is_int(count_lines(log, "set"), 1, "grub: one switch is one grub-editenv set");
        is_int(count_lines(log, "list"), 1, "grub: after one list");
        unlink(log);
        ok(sfu_bootloader_mark_bad(bl, "B", &err) == 0, "grub: mark_bad");
        is_int(count_lines(log, "set"), 1, "grub: mark_bad is one grub-editenv set");
        unlink(log);
        ok(sfu_bootloader_clear_incomplete(bl, "rootfs", &err) == 0,
           "grub: clear_incomplete when not marked");
        is_int(count_lines(log, "set"), 0, "grub: nothing to change, nothing written");
        ok(sfu_bootloader_set_primary(bl, "A", &err) == 0, "grub: back to A");

        lifecycle("grub", bl, "grub", env, env, NULL);

        /* the variables RAUC's scripts and other tools read are where they belong */
        {
                _cleanup_free_ char *outp = NULL;
                char *list[] = {(char *) "grub-editenv", env, (char *) "list", NULL};
                int status = -1;
                ok(sfu_spawn_run(list, 5000000, 65536, &outp, &status, NULL, 0, &err) == 0 &&
                           status == 0,
                   "grub: grub-editenv list");
                ok(outp && strstr(outp, "ORDER=A\n") && strstr(outp, "A_OK=1\n") &&
                           strstr(outp, "B_OK=0\n") && strstr(outp, "saved_entry=0\n"),
                   "grub: ORDER, A_OK, B_OK as RAUC's GRUB script reads them; foreign variables kept");
        }
        {
                struct stat st;
                ok(stat(env, &st) == 0 && st.st_size == 1024, "grub: the block keeps its 1024 bytes");
        }

        /* a block that is not a grubenv */
        write_text(env, "garbage\n");
        snapshot_take(&snap, env, NULL);
        sfu_err_clear(&err);
        ok(sfu_bootloader_set_trial(bl, "B", "A", &err) < 0 && err.code == SFU_ERR_STORAGE,
           "grub: an invalid block is an error (%s)", err.message);
        ok(snapshot_same(&snap, env, NULL), "grub: and is not rewritten");
        sfu_bootloader_close(TAKE_PTR(bl));

        /* grub-editenv creates a missing file: secfud must not */
        unlink(env);
        sfu_err_clear(&err);
        ok(sfu_bootloader_open(c, &bl, &err) == -ENOENT && err.code == SFU_ERR_STORAGE,
           "grub: a missing grubenv is refused (%s)", err.message);
        ok(access(env, F_OK) < 0, "grub: and not created");

        setenv("SFU_GRUB_EDITENV", "/nonexistent/grub-editenv", 1);
        is_int(run(create, false), 0, "grub: grub-editenv create");
        sfu_err_clear(&err);
        ok(sfu_bootloader_open(c, &bl, &err) == 0, "grub: open with a missing tool");
        {
                char *p = NULL;
                ok(sfu_bootloader_get_primary(bl, &p, &err) < 0 && err.code == SFU_ERR_STORAGE,
                   "grub: a missing grub-editenv is a clear error (%s)", err.message);
        }
        unsetenv("SFU_GRUB_EDITENV");
        config_done(c);
}

/* ---- uboot ------------------------------------------------------------------------------- */

#define UBOOT_ENV_SIZE 0x4000

static unsigned char flag_of(const char *dev) {
        size_t len;
        _cleanup_free_ char *data = slurp(dev, &len);

        return data && len > 4 ? (unsigned char) data[4] : 0;
}

/* the flag of the copy libubootenv and U-Boot take as current (both valid) */
static unsigned char newest_flag(const char *d0, const char *d1) {
        unsigned char f0 = flag_of(d0), f1 = flag_of(d1);

        if (f0 == 0xff && f1 == 0)
                return f1;
        if (f1 == 0xff && f0 == 0)
                return f0;
        return f1 > f0 ? f1 : f0;
}

static void corrupt(const char *dev, size_t at) {
        int fd = open(dev, O_RDWR | O_CLOEXEC);
        unsigned char b;

        if (fd < 0 || pread(fd, &b, 1, (off_t) at) != 1)
                abort();
        b ^= 0x55;
        if (pwrite(fd, &b, 1, (off_t) at) != 1)
                abort();
        close(fd);
}

static void make_uboot_env(const char *cfg, const char *d0, const char *d1, const char *vars) {
        _cleanup_free_ char *empty = path_in_tmp("empty-defaults"),
                            *script = path_in_tmp("fw_setenv-script");
        _cleanup_free_ char *zeros = calloc(1, UBOOT_ENV_SIZE), *text = NULL;
        char *argv[] = {(char *) "fw_setenv", (char *) "-c", (char *) cfg, (char *) "-f", empty,
                        (char *) "-s",        script,        NULL};

        write_file(d0, zeros, UBOOT_ENV_SIZE, 0644);
        if (d1) {
                write_file(d1, zeros, UBOOT_ENV_SIZE, 0644);
                if (asprintf(&text, "%s 0x0 0x%x\n%s 0x0 0x%x\n", d0, UBOOT_ENV_SIZE, d1, UBOOT_ENV_SIZE) <
                    0)
                        abort();
        } else if (asprintf(&text, "# one copy\n%s 0x0 0x%x\n", d0, UBOOT_ENV_SIZE) < 0)
                abort();
        write_text(cfg, text);
        write_text(empty, "");
        write_text(script, vars);
        if (run(argv, true) != 0)
                tap_diag("fw_setenv failed for %s", cfg);
}

static void test_uboot(void) {
        _cleanup_free_ char *cfg = path_in_tmp("fw_env.config"), *d0 = path_in_tmp("uboot-env0"),
                            *d1 = path_in_tmp("uboot-env1"), *out = path_in_tmp("booted-uboot");
        struct sfu_config *c = config_new(SFU_CONFIG_BACKEND_UBOOT);
        _cleanup_bootloader_ struct sfu_bootloader *bl = NULL;
        struct sfu_bootloader_slot_state st;
        struct sfu_err err = SFU_ERR_INIT;
        struct snapshot snap;
        unsigned char before;

        if (run((char *[]){(char *) "fw_setenv", (char *) "-V", NULL}, true) != 0) {
                tap_skip("fw_setenv is not installed (apt-get install libubootenv-tool)");
                config_done(c);
                return;
        }
        make_uboot_env(cfg, d0, d1, "BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\nbootdelay=2\n");
        c->fw_env_config = strdup(cfg);
        ok(sfu_bootloader_open(c, &bl, &err) == 0, "uboot: open (%s)", err.message);
        is_primary(bl, "A", "uboot: environment made by fw_setenv");

        before = newest_flag(d0, d1);
        ok(sfu_bootloader_set_trial(bl, "B", "A", &err) == 0, "uboot: set_trial");
        is_int(newest_flag(d0, d1), (unsigned char) (before + 1),
               "uboot: one switch is one store (flag + 1)");
        ok(flag_of(d0) != flag_of(d1), "uboot: the previous copy is kept beside the new one");
        before = newest_flag(d0, d1);
        ok(sfu_bootloader_mark_good(bl, "B", &err) == 0, "uboot: mark_good");
        is_int(newest_flag(d0, d1), (unsigned char) (before + 1), "uboot: mark_good is one store");
        before = newest_flag(d0, d1);
        is_primary(bl, "B", "uboot: a read");
        is_int(newest_flag(d0, d1), before, "uboot: reading writes nothing");
        ok(sfu_bootloader_set_primary(bl, "A", &err) == 0, "uboot: back to A");

        lifecycle("uboot", bl, "uboot", cfg, d0, d1);

        /* the newest copy goes bad (an interrupted write): the older valid one wins */
        ok(sfu_bootloader_set_trial(bl, "B", "A", &err) == 0, "uboot: set_trial before the corruption");
        is_primary(bl, "B", "uboot: B primary in the newest copy");
        corrupt(flag_of(d0) == newest_flag(d0, d1) ? d0 : d1, 100);
        is_primary(bl, "A", "uboot: with the newest copy corrupt the previous one is read");
        st = state_of(bl, "B");
        ok(!st.in_order, "uboot: B is not in the previous copy's order");
        ok(sfu_bootloader_set_trial(bl, "B", "A", &err) == 0, "uboot: a write after the corruption");
        is_primary(bl, "B", "uboot: the write replaced the corrupt copy");
        is_int(boot("uboot", cfg, out, false), 0, "uboot: boot after the repair");
        is_booted(out, "B", "uboot: U-Boot (bootsim) reads the repaired copy");
        ok(sfu_bootloader_mark_good(bl, "B", &err) == 0, "uboot: mark_good(B)");

        /* both copies bad: refused, nothing written */
        corrupt(d0, 50);
        corrupt(d1, 50);
        snapshot_take(&snap, d0, d1);
        sfu_err_clear(&err);
        {
                char *p = NULL;
                ok(sfu_bootloader_get_primary(bl, &p, &err) < 0 && err.code == SFU_ERR_STATE && !p,
                   "uboot: no valid copy is an error (%s)", err.message);
        }
        sfu_err_clear(&err);
        ok(sfu_bootloader_set_trial(bl, "A", "B", &err) < 0 && err.code == SFU_ERR_STATE,
           "uboot: and nothing is written to it");
        sfu_err_clear(&err);
        ok(sfu_bootloader_set_incomplete(bl, "rootfs", &err) < 0, "uboot: not even the incomplete mark");
        ok(snapshot_same(&snap, d0, d1), "uboot: the invalid environment is not replaced by defaults");
        sfu_bootloader_close(TAKE_PTR(bl));

        /* a single copy works too */
        make_uboot_env(cfg, d0, NULL, "BOOT_ORDER=B A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n");
        sfu_err_clear(&err);
        ok(sfu_bootloader_open(c, &bl, &err) == 0, "uboot: open a single copy (%s)", err.message);
        is_primary(bl, "B", "uboot: single copy read");
        ok(sfu_bootloader_set_trial(bl, "A", "B", &err) == 0, "uboot: single copy written");
        is_int(boot("uboot", cfg, out, false), 0, "uboot: boot from a single copy");
        is_booted(out, "A", "uboot: single copy: A booted");
        st = state_of(bl, "A");
        is_int(st.attempts_left, 2, "uboot: bootsim's setexpr read back");
        sfu_bootloader_close(TAKE_PTR(bl));

        /* U-Boot's test reads decimal, setexpr writes hex: at most 9 attempts */
        c->attempts = 10;
        sfu_err_clear(&err);
        ok(sfu_bootloader_open(c, &bl, &err) == -EINVAL && !bl, "uboot: attempts over 9 refused (%s)",
           err.message);
        c->attempts = 3;
        unlink(d0);
        sfu_err_clear(&err);
        ok(sfu_bootloader_open(c, &bl, &err) < 0 && err.code == SFU_ERR_STORAGE && !bl,
           "uboot: a missing device is refused (%s)", err.message);
        config_done(c);
}

/* ---- custom ------------------------------------------------------------------------------ */

static void test_custom(void) {
        _cleanup_free_ char *env = path_in_tmp("custom-env"), *log = path_in_tmp("custom.log"),
                            *script = NULL;
        struct sfu_config *c = config_new(SFU_CONFIG_BACKEND_CUSTOM);
        _cleanup_bootloader_ struct sfu_bootloader *bl = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        struct snapshot snap;
        char *p = NULL;

        if (asprintf(&script, "%s/bootloader/custom-boot", SFU_TEST_DATA) < 0)
                abort();
        if (script[0] != '/') {
                char cwd[4096], *abs;
                if (!getcwd(cwd, sizeof(cwd)) || asprintf(&abs, "%s/%s", cwd, script) < 0)
                        abort();
                free(script);
                script = abs;
        }
        setenv("SFU_TEST_CUSTOM_ENV", env, 1);
        setenv("SFU_TEST_CUSTOM_LOG", log, 1);
        unsetenv("SFU_TEST_CUSTOM_MODE");
        unlink(env);
        c->script = strdup(script);
        ok(sfu_bootloader_open(c, &bl, &err) == 0, "custom: open (%s)", err.message);
        is_str(sfu_bootloader_name(bl), "custom", "custom: name");

        unlink(log);
        ok(sfu_bootloader_set_trial(bl, "B", "A", &err) == 0, "custom: set_trial (%s)", err.message);
        is_int(count_lines(log, "set-trial B 3 A"), 1, "custom: one run: set-trial SLOT ATTEMPTS FALLBACK");
        unlink(log);
        ok(sfu_bootloader_mark_good(bl, "B", &err) == 0, "custom: mark_good");
        is_int(count_lines(log, "set-state B good"), 1, "custom: mark_good is set-state SLOT good");
        ok(sfu_bootloader_set_primary(bl, "A", &err) == 0, "custom: set_primary");
        is_int(count_lines(log, "set-primary A"), 1, "custom: set-primary SLOT");

        lifecycle("custom", bl, "file", env, env, NULL);

        setenv("SFU_TEST_CUSTOM_MODE", "fail", 1);
        sfu_err_clear(&err);
        ok(sfu_bootloader_get_primary(bl, &p, &err) < 0 && err.code == SFU_ERR_STORAGE &&
                   strstr(err.message, "the environment is locked") && strstr(err.message, "status 5"),
           "custom: a failing script's stderr and status are reported (%s)", err.message);
        setenv("SFU_TEST_CUSTOM_MODE", "flood", 1);
        sfu_err_clear(&err);
        ok(sfu_bootloader_get_primary(bl, &p, &err) == -EFBIG && err.code == SFU_ERR_SIZE,
           "custom: output is capped (%s)", err.message);
        setenv("SFU_TEST_CUSTOM_MODE", "hang", 1);
        sfu_bootloader_set_timeout(bl, 300000);
        snapshot_take(&snap, env, NULL);
        sfu_err_clear(&err);
        ok(sfu_bootloader_mark_good(bl, "A", &err) == -ETIMEDOUT && err.code == SFU_ERR_STORAGE,
           "custom: a hanging script is killed (%s)", err.message);
        ok(snapshot_same(&snap, env, NULL), "custom: nothing written by the failed calls");
        ok(p == NULL, "custom: ret untouched on failure");
        unsetenv("SFU_TEST_CUSTOM_MODE");
        /* The short limit was for the hanging script only: a busy machine
         * must not fail the next, ordinary calls. */
        sfu_bootloader_set_timeout(bl, SFU_BOOTLOADER_TIMEOUT_USEC);

        write_text(env, "BOOT_ORDER=A B\nBOOT_A_LEFT=0\nBOOT_B_LEFT=0\n");
        sfu_err_clear(&err);
        ok(sfu_bootloader_get_primary(bl, &p, &err) < 0 && strstr(err.message, "no bootable slot"),
           "custom: the script's refusal is reported (%s)", err.message);
        sfu_bootloader_close(TAKE_PTR(bl));

        free(c->script);
        c->script = path_in_tmp("not-executable");
        write_text(c->script, "#!/bin/sh\n");
        sfu_err_clear(&err);
        ok(sfu_bootloader_open(c, &bl, &err) < 0 && !bl,
           "custom: a script that is not executable is refused (%s)", err.message);
        unsetenv("SFU_TEST_CUSTOM_ENV");
        unsetenv("SFU_TEST_CUSTOM_LOG");
        config_done(c);
}

static void test_open(void) {
        struct sfu_config *c = config_new(SFU_CONFIG_BACKEND_FILE);
        _cleanup_bootloader_ struct sfu_bootloader *bl = NULL;
        struct sfu_err err = SFU_ERR_INIT;

        c->bootenv_file = path_in_tmp("open-env");
        free(c->slots[1].bootname);
        c->slots[1].bootname = strdup("B C");
        ok(sfu_bootloader_open(c, &bl, &err) == -EINVAL && !bl && strstr(err.message, "bootname"),
           "open: a bootname with a space is refused (%s)", err.message);
        free(c->slots[1].bootname);
        c->slots[1].bootname = strdup("B");
        c->attempts = 0;
        sfu_err_clear(&err);
        ok(sfu_bootloader_open(c, &bl, &err) == -EINVAL && !bl, "open: zero attempts refused");
        c->attempts = 3;
        c->backend = (enum sfu_config_backend) 42;
        sfu_err_clear(&err);
        ok(sfu_bootloader_open(c, &bl, &err) == -EINVAL && !bl, "open: unknown backend refused");
        config_done(c);
}

int main(void) {
        tmpdir = tap_mkdtemp();

        test_envfile();
        test_booted_slot();
        test_run();
        test_open();
        test_file();
        test_grub();
        test_uboot();
        test_custom();

        {
                char *argv[] = {(char *) "rm", (char *) "-rf", tmpdir, NULL};
                run(argv, true);
        }
        free(tmpdir);
        return tap_done();
}
