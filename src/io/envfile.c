/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>

#include "core/file.h"
#include "io/envfile.h"
#include "io/fileio.h"
#include "io/fault.h"

struct var {
        char *key;
        char *value; /* NULL: "unset" in a list of changes */
};

struct sfu_envfile {
        struct var *vars;
        size_t n_vars;
        size_t allocated;
};

int sfu_envfile_new(struct sfu_envfile **ret) {
        struct sfu_envfile *e = calloc(1, sizeof(*e));

        if (!e)
                return -ENOMEM;
        *ret = e;
        return 0;
}

void sfu_envfile_free(struct sfu_envfile *e) {
        if (!e)
                return;
        for (size_t i = 0; i < e->n_vars; i++) {
                free(e->vars[i].key);
                free(e->vars[i].value);
        }
        free(e->vars);
        free(e);
}

static struct var *find(const struct sfu_envfile *e, const char *key) {
        for (size_t i = 0; i < e->n_vars; i++)
                if (strcmp(e->vars[i].key, key) == 0)
                        return &e->vars[i];
        return NULL;
}

static bool key_valid(const char *key) {
        size_t len = strlen(key);

        return len > 0 && len <= SFU_ENVFILE_KEY_MAX && !strpbrk(key, "=\n");
}

const char *sfu_envfile_get(const struct sfu_envfile *e, const char *key) {
        const struct var *v = find(e, key);

        return v ? v->value : NULL;
}

bool sfu_envfile_contains(const struct sfu_envfile *e, const char *key) {
        return find(e, key) != NULL;
}

int sfu_envfile_set(struct sfu_envfile *e, const char *key, const char *value) {
        _cleanup_free_ char *key_copy = NULL, *value_copy = NULL;
        struct var *v;

        if (!key_valid(key))
                return -EINVAL;
        if (value) {
                value_copy = strdup(value);
                if (!value_copy)
                        return -ENOMEM;
        }
        v = find(e, key);
        if (v) {
                free(v->value);
                v->value = TAKE_PTR(value_copy);
                return 0;
        }
        if (e->n_vars >= SFU_ENVFILE_MAX_VARS)
                return -E2BIG;
        key_copy = strdup(key);
        if (!key_copy)
                return -ENOMEM;
        if (e->n_vars == e->allocated) {
                size_t n = e->allocated ? e->allocated * 2 : 16;
                struct var *vars = reallocarray(e->vars, n, sizeof(*vars));
                if (!vars)
                        return -ENOMEM;
                e->vars = vars;
                e->allocated = n;
        }
        e->vars[e->n_vars++] = (struct var){.key = TAKE_PTR(key_copy), .value = TAKE_PTR(value_copy)};
        return 0;
}

int sfu_envfile_setf(struct sfu_envfile *e, const char *key, const char *fmt, ...) {
        _cleanup_free_ char *value = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&value, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return sfu_envfile_set(e, key, value);
}

void sfu_envfile_remove(struct sfu_envfile *e, const char *key) {
        struct var *v = find(e, key);
        size_t i;

        if (!v)
                return;
        i = (size_t) (v - e->vars);
        free(v->key);
        free(v->value);
        memmove(&e->vars[i], &e->vars[i + 1], (e->n_vars - i - 1) * sizeof(*v));
        e->n_vars--;
}

int sfu_envfile_apply(struct sfu_envfile *e, const struct sfu_envfile *changes) {
        for (size_t i = 0; i < changes->n_vars; i++) {
                const struct var *c = &changes->vars[i];
                if (c->value) {
                        int r = sfu_envfile_set(e, c->key, c->value);
                        if (r < 0)
                                return r;
                } else
                        sfu_envfile_remove(e, c->key);
        }
        return 0;
}

size_t sfu_envfile_size(const struct sfu_envfile *e) {
        return e->n_vars;
}

const char *sfu_envfile_key_at(const struct sfu_envfile *e, size_t i) {
        return i < e->n_vars ? e->vars[i].key : NULL;
}

const char *sfu_envfile_value_at(const struct sfu_envfile *e, size_t i) {
        return i < e->n_vars ? e->vars[i].value : NULL;
}

/* Keys of the text format: what shell-like boot scripts can name. */
static bool text_key_valid(const char *key, size_t len) {
        if (len == 0 || len > SFU_ENVFILE_KEY_MAX)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = key[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '.' || c == '-'))
                        return false;
        }
        return true;
}

int sfu_envfile_parse(const char *name, const char *buf, size_t len, struct sfu_envfile **ret,
                      struct sfu_err *err) {
        _cleanup_envfile_ struct sfu_envfile *e = NULL;
        unsigned line_no = 0;
        size_t pos = 0;
        int r;

        if (len > SFU_ENVFILE_MAX_SIZE)
                return sfu_err_set(err, SFU_ERR_SIZE, EFBIG, "%s: larger than %u bytes", name,
                                   SFU_ENVFILE_MAX_SIZE);
        if (memchr(buf, '\0', len))
                return sfu_err_set(err, SFU_ERR_STATE, EBADMSG, "%s: contains a NUL byte", name);
        r = sfu_envfile_new(&e);
        if (r < 0)
                return r;

        while (pos < len) {
                const char *line = buf + pos, *nl = memchr(line, '\n', len - pos), *eq;
                size_t line_len = nl ? (size_t) (nl - line) : len - pos;
                _cleanup_free_ char *key = NULL, *value = NULL;

                pos += line_len + (nl ? 1 : 0);
                line_no++;
                if (line_len > 0 && line[line_len - 1] == '\r')
                        line_len--;
                if (line_len == 0 || line[0] == '#')
                        continue;
                eq = memchr(line, '=', line_len);
                if (!eq)
                        return sfu_err_set(err, SFU_ERR_STATE, EBADMSG, "%s:%u: not a KEY=VALUE line", name,
                                           line_no);
                if (!text_key_valid(line, (size_t) (eq - line)))
                        return sfu_err_set(err, SFU_ERR_STATE, EBADMSG, "%s:%u: invalid variable name", name,
                                           line_no);
                key = strndup(line, (size_t) (eq - line));
                value = strndup(eq + 1, line_len - (size_t) (eq - line) - 1);
                if (!key || !value)
                        return -ENOMEM;
                if (find(e, key))
                        return sfu_err_set(err, SFU_ERR_STATE, EBADMSG, "%s:%u: variable %s set twice", name,
                                           line_no, key);
                r = sfu_envfile_set(e, key, value);
                if (r == -E2BIG)
                        return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "%s: more than %u variables", name,
                                           SFU_ENVFILE_MAX_VARS);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(e);
        return 0;
}

int sfu_envfile_load(const char *path, struct sfu_envfile **ret, struct sfu_err *err) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (errno == ENOENT)
                        return -ENOENT;
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot open %s: %s", path, strerror(errno));
        }
        r = sfu_file_load_fd(fd, SFU_ENVFILE_MAX_SIZE, SFU_FILE_REGULAR, &buf, &len);
        if (r == -EINVAL)
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL, "%s is not a regular file", path);
        if (r == -EFBIG)
                return sfu_err_set(err, SFU_ERR_SIZE, EFBIG, "%s: larger than %u bytes", path, SFU_ENVFILE_MAX_SIZE);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot read %s: %s", path, strerror(-r));
        return sfu_envfile_parse(path, buf, len, ret, err);
}

int sfu_envfile_format(const struct sfu_envfile *e, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&out, &size);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < e->n_vars; i++) {
                const struct var *v = &e->vars[i];
                if (!v->value)
                        continue;
                if (!text_key_valid(v->key, strlen(v->key)) || strchr(v->value, '\n')) {
                        fclose(f);
                        return -EINVAL;
                }
                fprintf(f, "%s=%s\n", v->key, v->value);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        if (size > SFU_ENVFILE_MAX_SIZE)
                return -EFBIG;
        *ret = TAKE_PTR(out);
        return 0;
}

static void unlinkp(char **path) {
        if (*path) {
                int saved = errno;
                (void) unlink(*path);
                errno = saved;
                free(*path);
        }
}

int sfu_envfile_save(const struct sfu_envfile *e, const char *path, struct sfu_err *err) {
        _cleanup_(unlinkp) char *tmp = NULL;
        _cleanup_free_ char *text = NULL, *path_copy = NULL;
        _cleanup_close_ int fd = -1, dir_fd = -1;
        const char *dir;
        int r;

        r = sfu_envfile_format(e, &text);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STATE, -r, "%s: a variable cannot be written as KEY=VALUE",
                                   path);

        path_copy = strdup(path);
        if (!path_copy || asprintf(&tmp, "%s.XXXXXX", path) < 0) {
                tmp = NULL;
                return -ENOMEM;
        }
        dir = dirname(path_copy);
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot open directory %s: %s", dir,
                                   strerror(errno));
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                free(TAKE_PTR(tmp));
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot create a temporary file beside %s: %s",
                                   path, strerror(-r));
        }
        if (fchmod(fd, 0644) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot chmod %s: %s", tmp, strerror(errno));
        r = SFU_FAULT("env-write");
        if (r >= 0)
                r = sfu_file_write_all(fd, text, strlen(text));
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot write %s: %s", tmp, strerror(-r));
        if (fsync(fd) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot sync %s: %s", tmp, strerror(errno));
        r = SFU_FAULT("env-rename");
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot rename %s to %s: %s", tmp, path,
                                   strerror(-r));
        if (rename(tmp, path) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot rename %s to %s: %s", tmp, path,
                                   strerror(errno));
        free(TAKE_PTR(tmp)); /* renamed: nothing left to remove */
        if (fsync(dir_fd) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot sync directory %s: %s", dir,
                                   strerror(errno));
        r = SFU_FAULT("env-written"); /* tests: the new environment is durable, nothing else is */
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "after writing %s: %s", path, strerror(-r));
        return 0;
}
