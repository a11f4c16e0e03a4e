/* SPDX-License-Identifier: MIT */
/* secfud.conf: inih does the line splitting, everything else is ours.
 *
 * inih as Debian builds it (libinih 55) reads lines into a 200-byte buffer,
 * strips only ";" inline comments, keeps going after a syntax error, allows
 * continuation lines (an indented line after a key continues its value),
 * never tells the handler about a section without keys and ignores text
 * after the "]" of a section header.  None of that should surprise a
 * user, so inih reads through our own line reader, which
 *  - counts lines (the handler learns its line number from it),
 *  - refuses over-long lines, NUL bytes and control characters,
 *  - drops leading whitespace, so that indentation is allowed and there
 *    are no continuation lines,
 *  - sees every "[section]" header, checks it and stops at the first
 *    error.
 * The key handler strips "#" comments and hands the value to the parser
 * that the key table names. */
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <strings.h>

#include "core/config-internal.h"
#include "core/file.h"
#include "core/jws.h"
#include "core/signed.h"
#include "core/url.h"
#include "core/timeutil.h"

/* ------------------------------------------------------------ messages */

static int vfail(struct parse_ctx *ctx, unsigned line, int errnum, const char *fmt, va_list ap)
        _printf_(4, 0);
static int vfail(struct parse_ctx *ctx, unsigned line, int errnum, const char *fmt, va_list ap) {
        char msg[SFU_ERR_MESSAGE_MAX];

        if (ctx->failed)
                return -ctx->err.errnum;
        vsnprintf(msg, sizeof(msg), fmt, ap);
        ctx->failed = true;
        ctx->err_line = line;
        if (line > 0)
                return sfu_err_set(&ctx->err, SFU_ERR_PARSE, errnum, "%s:%u: %s", ctx->name, line, msg);
        return sfu_err_set(&ctx->err, SFU_ERR_PARSE, errnum, "%s: %s", ctx->name, msg);
}

/* An error at line (0: about the whole file). */
int sfu_config_fail_at(struct parse_ctx *ctx, unsigned line, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vfail(ctx, line, EINVAL, fmt, ap);
        va_end(ap);
        return r;
}

int sfu_config_fail_oom(struct parse_ctx *ctx) {
        if (ctx->failed)
                return -ctx->err.errnum;
        ctx->failed = true;
        ctx->err_line = ctx->lineno;
        return sfu_err_set(&ctx->err, SFU_ERR_PARSE, ENOMEM, "%s: out of memory", ctx->name);
}

/* A bad value of the key being parsed: 'invalid KEY "VALUE": reason'. */
int sfu_config_invalid(struct parse_ctx *ctx, const char *fmt, ...) {
        char reason[SFU_ERR_MESSAGE_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        return sfu_config_fail_at(ctx, ctx->lineno, "invalid %s \"%.*s\": %s", ctx->key, MAX_SHOWN, ctx->value, reason);
}

/* ------------------------------------------------------------ sections */

/* [slot.CLASS.N]: CLASS of [a-z0-9_-], N from 0 to SFU_CONFIG_MAX_SLOTS - 1
 * without leading zeros. */
static int parse_slot_section(const char *name, size_t len, size_t *ret_class_len, unsigned *ret_index) {
        size_t i = 0, class_len;
        unsigned index = 0;

        while (i < len && is_class_char(name[i]))
                i++;
        class_len = i;
        if (class_len == 0 || class_len > SFU_CONFIG_MAX_CLASS_NAME || i >= len || name[i] != '.')
                return -EINVAL;
        i++;
        if (i >= len || (name[i] == '0' && i + 1 < len))
                return -EINVAL;
        for (; i < len; i++) {
                if (name[i] < '0' || name[i] > '9')
                        return -EINVAL;
                index = index * 10 + (unsigned) (name[i] - '0');
                if (index >= SFU_CONFIG_MAX_SLOTS)
                        return -EINVAL;
        }
        *ret_class_len = class_len;
        *ret_index = index;
        return 0;
}

static int enter_section(struct parse_ctx *ctx, const char *name, size_t len) {
        struct sfu_config *c = ctx->config;
        const char *rest;
        size_t class_len;
        unsigned index;
        int shown = (int) (len > MAX_SHOWN ? MAX_SHOWN : len);

        for (size_t i = 0; i < _SECTION_MAX; i++)
                if (sfu_config_sections[i] && strlen(sfu_config_sections[i]) == len && memcmp(sfu_config_sections[i], name, len) == 0) {
                        ctx->section = (enum section) i;
                        ctx->slot = -1;
                        snprintf(ctx->section_name, sizeof(ctx->section_name), "%s", sfu_config_sections[i]);
                        return 0;
                }

        if (len < 5 || memcmp(name, "slot.", 5) != 0)
                return sfu_config_fail_at(ctx, ctx->lineno, "unknown section [%.*s]", shown, name);
        rest = name + 5;
        if (parse_slot_section(rest, len - 5, &class_len, &index) < 0)
                return sfu_config_fail_at(ctx, ctx->lineno,
                               "invalid section [%.*s]: expected [slot.CLASS.N], CLASS of a-z, 0-9, \"_\" and \"-\" "
                               "(at most %d), N from 0 to %d",
                               shown, name, SFU_CONFIG_MAX_CLASS_NAME, SFU_CONFIG_MAX_SLOTS - 1);

        ctx->section = SECTION_SLOT;
        snprintf(ctx->section_name, sizeof(ctx->section_name), "%.*s", (int) len, name);
        for (size_t i = 0; i < c->n_slots; i++)
                if (c->slots[i].index == index && strlen(c->slots[i].class_name) == class_len &&
                    memcmp(c->slots[i].class_name, rest, class_len) == 0) {
                        /* A repeated header continues the slot; a key set
                         * twice is still an error. */
                        ctx->slot = (int) i;
                        return 0;
                }
        if (c->n_slots >= SFU_CONFIG_MAX_SLOTS)
                return sfu_config_fail_at(ctx, ctx->lineno, "too many slots: at most %d [slot.CLASS.N] sections",
                               SFU_CONFIG_MAX_SLOTS);
        c->slots[c->n_slots].class_name = strndup(rest, class_len);
        if (!c->slots[c->n_slots].class_name)
                return sfu_config_fail_oom(ctx);
        c->slots[c->n_slots].index = index;
        ctx->slot_line[c->n_slots] = ctx->lineno;
        ctx->slot = (int) c->n_slots++;
        return 0;
}

/* ------------------------------------------------------------ inih callbacks */

/* inih's line reader: one line of the buffer per call (without leading
 * whitespace, with "\n"), or NULL at the end or after an error. */
static char *read_line(char *str, int num, void *stream) {
        struct parse_ctx *ctx = stream;
        const char *line, *nl;
        size_t avail, len, content, start = 0, cap;

        if (ctx->failed || ctx->pos >= ctx->len)
                return NULL;
        if (ctx->pos == 0 && ctx->len >= 3 && memcmp(ctx->buf, "\xef\xbb\xbf", 3) == 0) {
                ctx->pos = 3;   /* UTF-8 byte order mark */
                if (ctx->pos >= ctx->len)
                        return NULL;
        }

        line = ctx->buf + ctx->pos;
        avail = ctx->len - ctx->pos;
        nl = memchr(line, '\n', avail);
        len = nl ? (size_t) (nl - line) : avail;
        ctx->pos += nl ? len + 1 : len;
        ctx->lineno++;

        content = len;
        if (content > 0 && line[content - 1] == '\r')
                content--;
        /* inih needs room for "\n" and the terminating NUL. */
        cap = SFU_CONFIG_MAX_LINE;
        if (num < 3) {
                sfu_config_fail_at(ctx, ctx->lineno, "inih line buffer too small");
                return NULL;
        }
        if ((size_t) num - 2 < cap)
                cap = (size_t) num - 2;
        if (content > cap) {
                sfu_config_fail_at(ctx, ctx->lineno, "line longer than %zu characters", cap);
                return NULL;
        }
        for (size_t i = 0; i < content; i++) {
                unsigned char ch = (unsigned char) line[i];
                if (ch == '\0') {
                        sfu_config_fail_at(ctx, ctx->lineno, "NUL byte in line");
                        return NULL;
                }
                if ((ch < ' ' && ch != '\t') || ch == 0x7f) {
                        sfu_config_fail_at(ctx, ctx->lineno, "control character 0x%02x in line", ch);
                        return NULL;
                }
        }

        /* Indentation is allowed and means nothing: inih's continuation
         * lines never happen. */
        while (start < content && is_blank(line[start]))
                start++;

        if (start < content && line[start] == '[') {
                const char *open = line + start + 1, *end = line + content;
                const char *close = memchr(open, ']', (size_t) (end - open));

                /* Without "]" inih reports a syntax error for this line. */
                if (close) {
                        const char *after = close + 1;
                        while (after < end && is_blank(*after))
                                after++;
                        if (after < end && *after != '#' && *after != ';') {
                                sfu_config_fail_at(ctx, ctx->lineno, "unexpected text after \"]\" in section header");
                                return NULL;
                        }
                        if (enter_section(ctx, open, (size_t) (close - open)) < 0)
                                return NULL;
                }
        }

        memcpy(str, line + start, content - start);
        str[content - start] = '\n';
        str[content - start + 1] = '\0';
        return str;
}

static const struct key_def *find_key(enum section section, const char *key, size_t *ret_index) {
        for (size_t i = 0; i < CONFIG_N_KEYS; i++)
                if (sfu_config_keys[i].section == section && strcmp(sfu_config_keys[i].key, key) == 0) {
                        *ret_index = i;
                        return &sfu_config_keys[i];
                }
        return NULL;
}

/* "#" at the start of the value or after a blank starts a comment (inih
 * itself strips only ";" comments). */
static void strip_comment(char *value) {
        size_t len;

        for (char *p = value; *p; p++)
                if (*p == '#' && (p == value || is_blank(p[-1]))) {
                        *p = '\0';
                        break;
                }
        len = strlen(value);
        while (len > 0 && is_blank(value[len - 1]))
                value[--len] = '\0';
}

static int handle_key(void *user, const char *section, const char *name, const char *value) {
        struct parse_ctx *ctx = user;
        char buf[SFU_CONFIG_MAX_LINE + 1];
        const struct key_def *def;
        unsigned *line;
        size_t index;
        char *base;

        (void) section; /* ctx->section_name is the one we checked */
        if (ctx->failed)
                return 0;
        if (ctx->section == SECTION_NONE) {
                sfu_config_fail_at(ctx, ctx->lineno, "key \"%.*s\" outside of any section", MAX_SHOWN, name);
                return 0;
        }
        def = find_key(ctx->section, name, &index);
        if (!def) {
                sfu_config_fail_at(ctx, ctx->lineno, "unknown key \"%.*s\" in section [%s]", MAX_SHOWN, name, ctx->section_name);
                return 0;
        }
        line = &ctx->key_line[ctx->slot < 0 ? 0 : 1 + ctx->slot][index];
        if (*line > 0) {
                sfu_config_fail_at(ctx, ctx->lineno, "duplicate key \"%s\" in section [%s] (first set on line %u)", name,
                        ctx->section_name, *line);
                return 0;
        }
        *line = ctx->lineno;

        snprintf(buf, sizeof(buf), "%s", value);
        strip_comment(buf);
        ctx->key = def->key;
        ctx->value = buf;
        base = ctx->slot < 0 ? (char *) ctx->config : (char *) &ctx->config->slots[ctx->slot];
        if (def->parse(ctx, buf, base + def->offset) < 0)
                return 0;
        ctx->key = ctx->value = NULL;
        return 1;
}

/* inih found a line that is neither a comment, a section header nor
 * "key = value": say which. */
static int syntax_error(struct parse_ctx *ctx, unsigned lineno) {
        const char *p = ctx->buf, *end = ctx->buf + ctx->len;

        for (unsigned l = 1; l < lineno && p < end; l++) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                p = nl ? nl + 1 : end;
        }
        if (lineno == 1 && ctx->len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
                p += 3;
        while (p < end && is_blank(*p))
                p++;
        if (p < end && *p == '[')
                return sfu_config_fail_at(ctx, lineno, "section header without \"]\"");
        return sfu_config_fail_at(ctx, lineno, "expected \"key = value\", \"[section]\" or a comment");
}

/* ------------------------------------------------------------ validation */

static int validate(struct parse_ctx *ctx) {
        struct sfu_config *c = ctx->config;
        const char *need = NULL, *need_key = NULL;

        if (!c->manufacturer)
                return sfu_config_fail_at(ctx, 0, "[device] manufacturer is required");
        if (!c->model)
                return sfu_config_fail_at(ctx, 0, "[device] model is required");
        if (c->n_slots == 0)
                return sfu_config_fail_at(ctx, 0, "no slots: at least one [slot.CLASS.N] section is required");

        for (size_t i = 0; i < c->n_slots; i++) {
                const struct sfu_config_slot *s = &c->slots[i];
                size_t in_class = 0;

                if (!s->device)
                        return sfu_config_fail_at(ctx, ctx->slot_line[i], "[slot.%s.%u] lacks the required key \"device\"",
                                       s->class_name, s->index);
                if (!s->bootname)
                        return sfu_config_fail_at(ctx, ctx->slot_line[i], "[slot.%s.%u] lacks the required key \"bootname\"",
                                       s->class_name, s->index);
                for (size_t j = 0; j < c->n_slots; j++)
                        if (strcmp(c->slots[j].class_name, s->class_name) == 0)
                                in_class++;
                if (in_class > SFU_CONFIG_MAX_SLOTS_PER_CLASS)
                        return sfu_config_fail_at(ctx, ctx->slot_line[i],
                                       "slot class \"%s\" has %zu slots; a class has 1 (single-copy) or 2 (A/B)",
                                       s->class_name, in_class);
                if (s->index >= in_class)
                        return sfu_config_fail_at(ctx, ctx->slot_line[i],
                                       "[slot.%s.%u]: the slots of class \"%s\" must be numbered from 0 without gaps",
                                       s->class_name, s->index, s->class_name);
        }

        for (size_t i = 0; i < c->n_slots; i++)
                for (size_t j = 0; j < i; j++) {
                        const struct sfu_config_slot *a = &c->slots[j], *b = &c->slots[i];

                        if (strcmp(a->device, b->device) == 0)
                                return sfu_config_fail_at(ctx, ctx->slot_line[i], "[slot.%s.%u] uses device %s of [slot.%s.%u]",
                                               b->class_name, b->index, b->device, a->class_name, a->index);
                        /* A bootname names one side (index) of every class. */
                        if (strcmp(a->bootname, b->bootname) == 0 && a->index != b->index)
                                return sfu_config_fail_at(ctx, ctx->slot_line[i],
                                               "[slot.%s.%u] uses bootname \"%s\" of [slot.%s.%u]", b->class_name,
                                               b->index, b->bootname, a->class_name, a->index);
                }

        switch (c->backend) {
        case SFU_CONFIG_BACKEND_GRUB:
                need = c->grubenv, need_key = "grubenv";
                break;
        case SFU_CONFIG_BACKEND_UBOOT:
                need = c->fw_env_config, need_key = "fw-env-config";
                break;
        case SFU_CONFIG_BACKEND_CUSTOM:
                need = c->script, need_key = "script";
                break;
        case SFU_CONFIG_BACKEND_FILE:
                need = c->bootenv_file, need_key = "file";
                break;
        }
        if (!need || need[0] != '/')
                return sfu_config_fail_at(ctx, 0, "[bootloader] backend %s needs %s", sfu_config_backend_name(c->backend),
                               need_key ? need_key : "its key");
        return 0;
}

bool sfu_config_delta_source_ok(const struct sfu_config *c, const struct sfu_config_slot *s,
                                const struct sfu_config_slot *booted) {
        const char *list = c->delta_source_slots;
        char name[SFU_CONFIG_MAX_CLASS_NAME + 8];

        if (!list || strcmp(list, "none") == 0)
                return false;
        if (strcmp(list, "running") == 0)
                return booted && s->index == booted->index;
        snprintf(name, sizeof(name), "%s.%u", s->class_name, s->index);
        for (const char *p = list; *p;) {
                size_t len = strcspn(p, " \t");
                if (len == strlen(name) && memcmp(p, name, len) == 0)
                        return true;
                p += len;
                p += strspn(p, " \t");
        }
        return false;
}

static int slot_compare(const void *a, const void *b) {
        const struct sfu_config_slot *x = a, *y = b;
        int r = strcmp(x->class_name, y->class_name);
        if (r != 0)
                return r;
        return x->index < y->index ? -1 : x->index > y->index;
}

/* ------------------------------------------------------------ public */

int sfu_config_new_defaults(struct sfu_config **ret) {
        static const struct {
                size_t offset;
                const char *value;
        } strings[] = {
                { CFG(version_file), SFU_SYSCONFDIR "/secfu-version" },
                { CFG(booted_slot), "cmdline:secfu.slot" },
                { CFG(domain), "auto" },
                { CFG(local_url), "http://_firmware.{domain}/.well-known/firmware/{manufacturer}/{model}/manifest.json" },
                /* secfud.conf(5)'s example value: a packager sets the real one. */
                { CFG(manufacturer_url),
                  "https://firmware.example.com/.well-known/firmware/{manufacturer}/{model}/manifest.json" },
                { CFG(connect_to), "" },
                { CFG(keys), SFU_SYSCONFDIR "/secfud/keys.d" },
                { CFG(ca_file), "" },
                { CFG(decryption_keys), "" },
                { CFG(grubenv), "/boot/grub/grubenv" },
                { CFG(fw_env_config), SFU_SYSCONFDIR "/fw_env.config" },
                { CFG(script), "/usr/libexec/secfud/boot" },
                { CFG(bootenv_file), SFU_LOCALSTATEDIR "/lib/secfud/bootenv" },
                { CFG(state_dir), SFU_LOCALSTATEDIR "/lib/secfud" },
                { CFG(runtime_dir), "/run/secfud" },
                { CFG(delta_source_slots), "running" },
        };
        _cleanup_config_ struct sfu_config *c = NULL;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                char **field = (void *) ((char *) c + strings[i].offset);
                *field = strdup(strings[i].value);
                if (!*field)
                        return -ENOMEM;
        }
        c->algorithms = SFU_ALG_MASK_ALL;
        c->formats = (struct sfu_config_formats) {
                .mask = SFU_SIGNED_FAMILY_ALL,
                .order = { SFU_SIGNED_FAMILY_JWS, SFU_SIGNED_FAMILY_COSE },
                .n = 2,
        };
        c->min_signatures = 1;
        c->allow_downgrade = false;
        c->max_manifest_size = UINT64_C(1) << 20;
        c->max_image_size = UINT64_C(4) << 30;
        c->proxy = SFU_CONFIG_PROXY_NONE;
        c->connect_timeout_usec = 30 * USEC_PER_SEC;
        c->low_speed_timeout_usec = 60 * USEC_PER_SEC;
        c->retry_after_max_usec = 5 * 60 * USEC_PER_SEC;
        c->job_timeout_usec = 6 * 3600 * USEC_PER_SEC;
        c->clock_skew_usec = 24 * 3600 * USEC_PER_SEC;
        c->interval_usec = 6 * 3600 * USEC_PER_SEC;
        c->jitter_usec = 30 * 60 * USEC_PER_SEC;
        c->policy = SFU_CONFIG_POLL_STAGE;
        c->backend = SFU_CONFIG_BACKEND_GRUB;
        c->attempts = 3;
        c->delta_enable = true;
        c->delta_fallback = true;
        c->delta_batch = 32;
        *ret = TAKE_PTR(c);
        return 0;
}

int sfu_config_load_buffer(const char *name, const char *buf, size_t len, struct sfu_config **ret,
                           struct sfu_err *err) {
        _cleanup_config_ struct sfu_config *c = NULL;
        _cleanup_free_ struct parse_ctx *ctx = NULL;
        int r;

        if (!name)
                name = "(buffer)";
        if (!buf && len > 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: no data", name);
        if (len > SFU_CONFIG_MAX_SIZE)
                return sfu_err_set(err, SFU_ERR_SIZE, EFBIG, "%s: %zu bytes exceed the limit of %u for a configuration",
                                   name, len, SFU_CONFIG_MAX_SIZE);
        if (sfu_config_new_defaults(&c) < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, ENOMEM, "%s: out of memory", name);
        c->path = strdup(name);
        ctx = calloc(1, sizeof(*ctx));
        if (!c->path || !ctx)
                return sfu_err_set(err, SFU_ERR_PARSE, ENOMEM, "%s: out of memory", name);
        *ctx = (struct parse_ctx) {
                .config = c,
                .name = name,
                .buf = buf ? buf : "",
                .len = len,
                .section = SECTION_NONE,
                .slot = -1,
                .err = SFU_ERR_INIT,
        };

        r = ini_parse_stream(read_line, ctx, handle_key, ctx);
        if (r > 0 && (!ctx->failed || (unsigned) r < ctx->err_line)) {
                /* inih's own error came first. */
                ctx->failed = false;
                sfu_err_clear(&ctx->err);
                (void) syntax_error(ctx, (unsigned) r);
        } else if (r < 0 && !ctx->failed)
                (void) sfu_config_fail_oom(ctx);
        if (!ctx->failed)
                (void) validate(ctx);
        if (ctx->failed)
                return sfu_err_set(err, ctx->err.code, ctx->err.errnum, "%s", ctx->err.message);

        qsort(c->slots, c->n_slots, sizeof(c->slots[0]), slot_compare);
        *ret = TAKE_PTR(c);
        return 0;
}

int sfu_config_load(const char *path, struct sfu_config **ret, struct sfu_err *err) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                int saved = errno;
                return sfu_err_set(err, SFU_ERR_STORAGE, saved, "cannot open %s: %s", path, strerror(saved));
        }
        r = sfu_file_load_fd(fd, SFU_CONFIG_MAX_SIZE, 0, &buf, &len);
        if (r == -EFBIG)
                return sfu_err_set(err, SFU_ERR_SIZE, EFBIG, "%s: larger than the limit of %u bytes for a configuration",
                                   path, SFU_CONFIG_MAX_SIZE);
        if (r == -ENOMEM)
                return sfu_err_set(err, SFU_ERR_PARSE, ENOMEM, "%s: out of memory", path);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot read %s: %s", path, strerror(-r));
        return sfu_config_load_buffer(path, buf, len, ret, err);
}

void sfu_config_free(struct sfu_config *c) {
        if (!c)
                return;
        free(c->path);
        free(c->manufacturer);
        free(c->model);
        free(c->version_file);
        free(c->booted_slot);
        free(c->domain);
        free(c->local_url);
        free(c->manufacturer_url);
        free(c->connect_to);
        free(c->keys);
        free(c->ca_file);
        free(c->decryption_keys);
        free(c->proxy_url);
        free(c->grubenv);
        free(c->fw_env_config);
        free(c->script);
        free(c->bootenv_file);
        for (size_t i = 0; i < c->n_slots && i < SFU_CONFIG_MAX_SLOTS; i++) {
                free(c->slots[i].class_name);
                free(c->slots[i].device);
                free(c->slots[i].bootname);
        }
        free(c->state_dir);
        free(c->runtime_dir);
        free(c->delta_source_slots);
        free(c);
}

size_t sfu_config_class_size(const struct sfu_config *c, const char *class_name) {
        size_t n = 0;
        for (size_t i = 0; i < c->n_slots; i++)
                if (strcmp(c->slots[i].class_name, class_name) == 0)
                        n++;
        return n;
}

const struct sfu_config_slot *sfu_config_boot_slot(const struct sfu_config *c, const char *bootname) {
        const struct sfu_config_slot *first = NULL, *ab = NULL;

        if (!bootname)
                return NULL;
        for (size_t i = 0; i < c->n_slots; i++) {
                const struct sfu_config_slot *s = &c->slots[i];
                if (strcmp(s->bootname, bootname) != 0)
                        continue;
                if (strcmp(s->class_name, "rootfs") == 0)
                        return s;
                if (!ab && sfu_config_class_size(c, s->class_name) == 2)
                        ab = s;
                if (!first)
                        first = s;
        }
        return ab ? ab : first;
}
