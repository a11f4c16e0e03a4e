/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>

#include "core/scope.h"

#define SCOPE_LINE_MAX 1024

void sfu_scope_free(struct sfu_scope *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n_manufacturers; i++)
                free(s->manufacturers[i]);
        for (size_t i = 0; i < s->n_models; i++)
                free(s->models[i]);
        for (size_t i = 0; i < s->n_slot_classes; i++)
                free(s->slot_classes[i]);
        for (size_t i = 0; i < s->n_images; i++)
                free(s->images[i]);
        free(s);
}

/* ---------------------------------------------------------------- the file */

struct scope_parse {
        struct sfu_scope *scope;
        const char *name;
        unsigned line;
        unsigned seen;                  /* bit per key: each at most once */
        struct sfu_err *err;
};

static int fail(const struct scope_parse *p, const char *fmt, ...) _printf_(2, 3);
static int fail(const struct scope_parse *p, const char *fmt, ...) {
        char reason[SFU_ERR_MESSAGE_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        return sfu_err_set(p->err, SFU_ERR_PARSE, EINVAL, "%s:%u: %s", p->name, p->line, reason);
}

/* A space- or comma-separated list of names of printable ASCII. */
static int parse_list(struct scope_parse *p, const char *key, char *value, char **list, size_t *n) {
        for (char *save = NULL, *tok = strtok_r(value, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
                for (const char *c = tok; *c; c++)
                        if (!isgraph((unsigned char) *c))
                                return fail(p, "%s: \"%s\" is not a name of printable ASCII", key, tok);
                if (*n >= SFU_SCOPE_MAX_NAMES)
                        return fail(p, "%s: more than 16 names", key);
                list[*n] = strdup(tok);
                if (!list[*n])
                        return -ENOMEM;
                (*n)++;
        }
        if (*n == 0)
                return fail(p, "%s: an empty list (leave the key out to allow any)", key);
        return 0;
}

static int parse_pair(struct scope_parse *p, const char *key, char *value) {
        static const char *const keys[] = { "manufacturers", "models", "slot-classes", "images", "keys",
                                            "min-signatures" };
        struct sfu_scope *s = p->scope;
        size_t k = 0;

        while (k < ELEMENTSOF(keys) && strcmp(keys[k], key) != 0)
                k++;
        if (k == ELEMENTSOF(keys))
                return fail(p, "unknown key \"%s\"", key);
        if (p->seen & (1u << k))
                return fail(p, "\"%s\" is set twice", key);
        p->seen |= 1u << k;
        switch (k) {
        case 0:
                return parse_list(p, key, value, s->manufacturers, &s->n_manufacturers);
        case 1:
                return parse_list(p, key, value, s->models, &s->n_models);
        case 2:
                return parse_list(p, key, value, s->slot_classes, &s->n_slot_classes);
        case 3:
                return parse_list(p, key, value, s->images, &s->n_images);
        case 4:
                if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
                        return fail(p, "keys: \"%s\" is neither yes nor no", value);
                s->keys = strcmp(value, "yes") == 0;
                return 0;
        default: {
                char *end = NULL;
                unsigned long v = strtoul(value, &end, 10);
                if (!isdigit((unsigned char) value[0]) || *end || v < 1 || v > SFU_SCOPE_MAX_SIGNATURES)
                        return fail(p, "min-signatures: \"%s\" is not a number from 1 to 16", value);
                s->min_signatures = (unsigned) v;
                return 0;
        }
        }
}

static char *trim(char *s) {
        char *end;

        while (*s == ' ' || *s == '\t')
                s++;
        end = s + strlen(s);
        while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
                *--end = 0;
        return s;
}

static int parse_line(struct scope_parse *p, char *line, bool *in_section) {
        char *eq, *s = trim(line);

        if (!*s || *s == '#' || *s == ';')
                return 0;
        if (*s == '[') {
                if (strcmp(s, "[scope]") != 0)
                        return fail(p, "unknown section %s (a scope file has one section, [scope])", s);
                if (*in_section)
                        return fail(p, "[scope] appears twice");
                *in_section = true;
                return 0;
        }
        if (!*in_section)
                return fail(p, "\"%s\" before the [scope] section", s);
        eq = strchr(s, '=');
        if (!eq)
                return fail(p, "expected KEY = VALUE, got \"%s\"", s);
        *eq = 0;
        return parse_pair(p, trim(s), trim(eq + 1));
}

int sfu_scope_parse(const char *text, size_t len, const char *name, struct sfu_scope **ret, struct sfu_err *err) {
        struct scope_parse p = { .name = name, .err = err };
        bool in_section = false;
        size_t pos = 0;
        int r = 0;

        if (len > SFU_SCOPE_FILE_MAX)
                return sfu_err_set(err, SFU_ERR_SIZE, EFBIG, "%s: larger than %u bytes", name, SFU_SCOPE_FILE_MAX);
        if (memchr(text, 0, len))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: holds a NUL byte", name);
        p.scope = calloc(1, sizeof(*p.scope));
        if (!p.scope)
                return -ENOMEM;
        while (pos < len && r >= 0) {
                const char *nl = memchr(text + pos, '\n', len - pos);
                size_t n = (nl ? (size_t) (nl - text) : len) - pos;
                char line[SCOPE_LINE_MAX + 1];

                p.line++;
                if (n > SCOPE_LINE_MAX)
                        r = fail(&p, "a line longer than %d bytes", SCOPE_LINE_MAX);
                else {
                        memcpy(line, text + pos, n);
                        line[n] = 0;
                        r = parse_line(&p, line, &in_section);
                }
                pos += n + 1;
        }
        if (r >= 0 && !in_section)
                r = sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: no [scope] section", name);
        if (r < 0) {
                sfu_scope_free(p.scope);
                return r == -ENOMEM ? sfu_err_set(err, SFU_ERR_PARSE, ENOMEM, "%s: out of memory", name) : r;
        }
        *ret = p.scope;
        return 0;
}

static int add_name(char **list, size_t *n, const char *name) {
        if (!name)
                return 0;
        list[0] = strdup(name);
        if (!list[0])
                return -ENOMEM;
        *n = 1;
        return 0;
}

int sfu_scope_for_component(const char *manufacturer, const char *model, const char *slot_class, const char *name,
                            struct sfu_scope **ret) {
        struct sfu_scope *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        if (add_name(s->manufacturers, &s->n_manufacturers, manufacturer) < 0 ||
            add_name(s->models, &s->n_models, model) < 0 ||
            add_name(s->slot_classes, &s->n_slot_classes, slot_class) < 0 ||
            add_name(s->images, &s->n_images, name) < 0) {
                sfu_scope_free(s);
                return -ENOMEM;
        }
        *ret = s;
        return 0;
}

/* ---------------------------------------------------------------- the rule */

static bool listed(char *const *list, size_t n, const char *value) {
        if (n == 0)
                return true; /* no list: any */
        for (size_t i = 0; value && i < n; i++)
                if (strcmp(list[i], value) == 0)
                        return true;
        return false;
}

bool sfu_scope_covers_device(const struct sfu_key *key, const char *manufacturer, const char *model) {
        const struct sfu_scope *s = key->scope;
        return !s || (listed(s->manufacturers, s->n_manufacturers, manufacturer) &&
                      listed(s->models, s->n_models, model));
}

bool sfu_scope_covers_component(const struct sfu_key *key, const char *manufacturer, const char *model,
                                const char *slot_class, const char *name) {
        const struct sfu_scope *s = key->scope;
        return sfu_scope_covers_device(key, manufacturer, model) &&
               (!s || (listed(s->slot_classes, s->n_slot_classes, slot_class) &&
                       listed(s->images, s->n_images, name)));
}

bool sfu_scope_may_manage_keys(const struct sfu_key *key) {
        return !key->scope || key->scope->keys;
}

static void key_names(const struct sfu_scope_vouch *v, char *buf, size_t size) {
        size_t used = 0;

        buf[0] = 0;
        for (unsigned i = 0; i < v->n_keys && used < size; i++)
                used += (size_t) snprintf(buf + used, size - used, "%s%s", i ? ", " : "", v->keys[i]->kid);
}

/* Tallies one component: who covers it, and what it needs. */
static int check_component(const struct sfu_manifest *m, const struct sfu_keyring *ring,
                           const struct sfu_key *const *signers, size_t n_signers, unsigned min_signatures,
                           struct sfu_scope_vouch *v, struct sfu_err *err) {
        char who[512];

        v->need = min_signatures ? min_signatures : 1;
        /* A scope's threshold is for the component's bytes: the entry that
         * delegates it to a provider needs only the manifest's signers. */
        for (size_t i = 0; !v->delegated && ring && i < ring->n_keys; i++) {
                const struct sfu_key *k = ring->keys[i];
                if (k->scope && k->scope->min_signatures > v->need &&
                    sfu_scope_covers_component(k, m->manufacturer, m->model, v->slot_class, v->name))
                        v->need = k->scope->min_signatures;
        }
        for (size_t i = 0; i < n_signers; i++)
                if (v->n_keys < SFU_SCOPE_MAX_SIGNATURES &&
                    sfu_scope_covers_component(signers[i], m->manufacturer, m->model, v->slot_class, v->name))
                        v->keys[v->n_keys++] = signers[i];
        if (v->n_keys >= v->need)
                return 0;
        key_names(v, who, sizeof(who));
        if (v->n_keys == 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EKEYREJECTED,
                                   "no signing key's scope covers component \"%.64s\" (slot class %.64s) of %.64s %.64s",
                                   v->name, v->slot_class ? v->slot_class : "of the running system", m->manufacturer,
                                   m->model);
        return sfu_err_set(err, SFU_ERR_SIGNATURE, EKEYREJECTED,
                           "component \"%.64s\" needs %u signatures by keys whose scope covers it, has %u (%s)",
                           v->name, v->need, v->n_keys, who);
}

int sfu_scope_check(const struct sfu_manifest *m, const struct sfu_keyring *ring, const struct sfu_key *const *signers,
                    size_t n_signers, unsigned min_signatures, struct sfu_scope_report *report, struct sfu_err *err) {
        struct sfu_scope_report local = {};
        struct sfu_scope_report *rep = report ? report : &local;
        unsigned managers = 0, need = min_signatures ? min_signatures : 1;
        int r;

        memset(rep, 0, sizeof(*rep));
        for (size_t i = 0; i < m->n_images; i++)
                rep->components[rep->n_components++] = (struct sfu_scope_vouch) {
                        .name = m->images[i].name,
                        .slot_class = m->images[i].slot_class,
                };
        for (size_t i = 0; i < m->n_providers; i++)
                rep->components[rep->n_components++] = (struct sfu_scope_vouch) {
                        .name = m->providers[i].name,
                        .slot_class = m->providers[i].slot_class,
                        .delegated = true,
                };
        for (size_t i = 0; i < rep->n_components; i++) {
                r = check_component(m, ring, signers, n_signers, min_signatures, &rep->components[i], err);
                if (r < 0)
                        return r;
        }
        if (!m->new_keys && m->n_revoked_kids == 0)
                return 0;
        for (size_t i = 0; i < n_signers; i++)
                if (sfu_scope_may_manage_keys(signers[i]) &&
                    sfu_scope_covers_device(signers[i], m->manufacturer, m->model))
                        managers++;
        if (managers < need)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EKEYREJECTED,
                                   "keyInfo needs %u signatures by keys that may announce or revoke keys, has %u",
                                   need, managers);
        return 0;
}
