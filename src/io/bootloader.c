/* SPDX-License-Identifier: MIT */
/* The backend-independent part: dispatch through the ops table, the two
 * RAUC variable schemes (GRUB flags, U-Boot counters) on top of a
 * backend's load/store, and booted-slot detection.  Helper programs
 * (grub-editenv, the custom script) run through io/spawn.h. */

#include "io/bootloader.h"
#include "io/envfile.h"

#define ORDER_MAX 32u /* entries of ORDER / BOOT_ORDER */

static const struct sfu_bootloader_ops *const backends[] = {
        [SFU_CONFIG_BACKEND_GRUB] = &sfu_bootloader_grub_ops,
        [SFU_CONFIG_BACKEND_UBOOT] = &sfu_bootloader_uboot_ops,
        [SFU_CONFIG_BACKEND_CUSTOM] = &sfu_bootloader_custom_ops,
        [SFU_CONFIG_BACKEND_FILE] = &sfu_bootloader_file_ops,
};

bool sfu_bootloader_bootname_valid(const char *bootname) {
        size_t len;

        if (!bootname)
                return false;
        len = strlen(bootname);
        if (len == 0 || len > SFU_BOOTLOADER_BOOTNAME_MAX)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = bootname[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '_'))
                        return false;
        }
        return true;
}

static bool class_valid(const char *class_name) {
        size_t len;

        if (!class_name)
                return false;
        len = strlen(class_name);
        if (len == 0 || len > SFU_BOOTLOADER_CLASS_MAX)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = class_name[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '.'))
                        return false;
        }
        return true;
}

int sfu_bootloader_open(const struct sfu_config *config, struct sfu_bootloader **ret, struct sfu_err *err) {
        struct sfu_bootloader *bl;
        int r;

        if ((unsigned) config->backend >= ELEMENTSOF(backends) || !backends[config->backend])
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL, "unknown bootloader backend");
        if (config->attempts < 1)
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL, "[bootloader] attempts must be at least 1");

        bl = calloc(1, sizeof(*bl));
        if (!bl)
                return -ENOMEM;
        bl->attempts = config->attempts;
        bl->timeout_usec = SFU_BOOTLOADER_TIMEOUT_USEC;
        for (size_t i = 0; i < config->n_slots && i < SFU_CONFIG_MAX_SLOTS; i++) {
                const char *name = config->slots[i].bootname;
                if (!name)
                        continue;
                if (!sfu_bootloader_bootname_valid(name)) {
                        sfu_bootloader_close(bl);
                        return sfu_err_set(err, SFU_ERR_STATE, EINVAL,
                                           "slot %s.%u: bootname '%s' is not 1-%d letters, digits or '_'",
                                           config->slots[i].class_name ? config->slots[i].class_name : "?",
                                           config->slots[i].index, name, SFU_BOOTLOADER_BOOTNAME_MAX);
                }
                bl->bootnames[bl->n_bootnames] = strdup(name);
                if (!bl->bootnames[bl->n_bootnames]) {
                        sfu_bootloader_close(bl);
                        return -ENOMEM;
                }
                bl->n_bootnames++;
        }
        if (bl->n_bootnames == 0) {
                sfu_bootloader_close(bl);
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL, "no slot has a bootname");
        }
        bl->ops = backends[config->backend];
        r = bl->ops->open(bl, config, err);
        if (r < 0) {
                sfu_bootloader_close(bl); /* the backend's close copes with a partial open */
                return r;
        }
        *ret = bl;
        return 0;
}

void sfu_bootloader_close(struct sfu_bootloader *bl) {
        if (!bl)
                return;
        if (bl->ops && bl->ops->close)
                bl->ops->close(bl);
        for (size_t i = 0; i < bl->n_bootnames; i++)
                free(bl->bootnames[i]);
        free(bl);
}

const char *sfu_bootloader_name(const struct sfu_bootloader *bl) {
        return bl->ops->name;
}

unsigned sfu_bootloader_trial_attempts(const struct sfu_bootloader *bl) {
        return bl->ops->scheme == SFU_BOOTLOADER_SCHEME_GRUB ? 1 : bl->attempts;
}

void sfu_bootloader_set_timeout(struct sfu_bootloader *bl, uint64_t usec) {
        bl->timeout_usec = usec;
}

static bool configured(const struct sfu_bootloader *bl, const char *bootname) {
        for (size_t i = 0; i < bl->n_bootnames; i++)
                if (strcmp(bl->bootnames[i], bootname) == 0)
                        return true;
        return false;
}

static int check_bootname(const struct sfu_bootloader *bl, const char *bootname, struct sfu_err *err) {
        if (!bootname || !configured(bl, bootname))
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL,
                                   "'%s' is not the bootname of a configured slot",
                                   bootname ? bootname : "(null)");
        return 0;
}

/* ---- the variable schemes -------------------------------------------------- */

struct order {
        char names[ORDER_MAX][SFU_BOOTLOADER_BOOTNAME_MAX + 1];
        size_t n;
};

static const char *order_var(const struct sfu_bootloader *bl) {
        return bl->ops->scheme == SFU_BOOTLOADER_SCHEME_GRUB ? "ORDER" : "BOOT_ORDER";
}

static bool order_contains(const struct order *o, const char *name) {
        for (size_t i = 0; i < o->n; i++)
                if (strcmp(o->names[i], name) == 0)
                        return true;
        return false;
}

static int order_add(struct order *o, const char *name) {
        if (order_contains(o, name))
                return 0;
        if (o->n >= ORDER_MAX || strlen(name) > SFU_BOOTLOADER_BOOTNAME_MAX)
                return -E2BIG;
        strcpy(o->names[o->n++], name);
        return 0;
}

/* The order as the boot script sees it: the variable, or the configured
 * bootnames when it is not set (the scripts' default).  Unknown entries
 * (a recovery slot the script knows about) are kept. */
static int order_read(const struct sfu_bootloader *bl, const struct sfu_envfile *env, struct order *ret,
                      struct sfu_err *err) {
        const char *var = order_var(bl), *value = sfu_envfile_get(env, var);
        struct order o = {.n = 0};

        /* U-Boot's script replaces an empty BOOT_ORDER too (test -n); GRUB's
         * sets ORDER before load_env, so only a missing one is defaulted. */
        if (!value || (bl->ops->scheme == SFU_BOOTLOADER_SCHEME_COUNTER && !value[strspn(value, " \t")])) {
                for (size_t i = 0; i < bl->n_bootnames; i++)
                        if (order_add(&o, bl->bootnames[i]) < 0)
                                return sfu_err_set(err, SFU_ERR_STATE, E2BIG, "too many slots");
                *ret = o;
                return 0;
        }
        for (const char *p = value; *p;) {
                char name[SFU_BOOTLOADER_BOOTNAME_MAX + 1];
                size_t len = strcspn(p, " \t");

                if (len == 0) {
                        p++;
                        continue;
                }
                if (len > SFU_BOOTLOADER_BOOTNAME_MAX)
                        return sfu_err_set(err, SFU_ERR_STATE, EBADMSG,
                                           "bootloader variable %s holds an entry longer than %d bytes", var,
                                           SFU_BOOTLOADER_BOOTNAME_MAX);
                memcpy(name, p, len);
                name[len] = 0;
                if (order_add(&o, name) < 0)
                        return sfu_err_set(err, SFU_ERR_STATE, E2BIG,
                                           "bootloader variable %s has more than %u entries", var,
                                           ORDER_MAX);
                p += len;
        }
        *ret = o;
        return 0;
}

static int order_join(const struct order *o, char **ret) {
        size_t len = 0;
        char *s;

        for (size_t i = 0; i < o->n; i++)
                len += strlen(o->names[i]) + 1;
        s = malloc(len + 1);
        if (!s)
                return -ENOMEM;
        s[0] = 0;
        for (size_t i = 0; i < o->n; i++) {
                if (i > 0)
                        strcat(s, " ");
                strcat(s, o->names[i]);
        }
        *ret = s;
        return 0;
}

/* first, second (may be NULL), then the old order without them */
static int order_reorder(const struct order *old, const char *first, const char *second, struct order *ret) {
        struct order o = {.n = 0};
        int r;

        if (first) {
                r = order_add(&o, first);
                if (r < 0)
                        return r;
        }
        if (second) {
                r = order_add(&o, second);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < old->n; i++) {
                r = order_add(&o, old->names[i]);
                if (r < 0)
                        return r;
        }
        *ret = o;
        return 0;
}

static int read_number(const struct sfu_bootloader *bl, const struct sfu_envfile *env, const char *key,
                       int base, unsigned dflt, unsigned *ret, struct sfu_err *err) {
        const char *value = sfu_envfile_get(env, key), *p;
        unsigned long n;
        char *end;

        if (!value || !*value) { /* both scripts treat empty as unset */
                *ret = dflt;
                return 0;
        }
        p = value;
        if (base == 16 && (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')))
                p += 2;
        errno = 0;
        n = strtoul(p, &end, base);
        if (!*p || *end || errno || n > 0xffff || *p == '-' || *p == '+' || *p == ' ')
                return sfu_err_set(err, SFU_ERR_STATE, EBADMSG,
                                   "%s bootloader variable %s has the invalid value '%.32s'", bl->ops->name,
                                   key, value);
        *ret = (unsigned) n;
        return 0;
}

struct slot_vars {
        bool in_order;
        bool usable;   /* not marked bad (grub: OK=1; counter: attempts left) */
        bool bootable; /* the script would pick it when it reaches it */
        unsigned attempts_left;
};

static int slot_vars(const struct sfu_bootloader *bl, const struct sfu_envfile *env, const struct order *o,
                     const char *bootname, struct slot_vars *ret, struct sfu_err *err) {
        char key[SFU_BOOTLOADER_BOOTNAME_MAX + 16];
        struct slot_vars v = {.in_order = order_contains(o, bootname)};
        int r;

        if (bl->ops->scheme == SFU_BOOTLOADER_SCHEME_GRUB) {
                unsigned ok, try;

                snprintf(key, sizeof(key), "%s_OK", bootname);
                r = read_number(bl, env, key, 10, 0, &ok, err);
                if (r < 0)
                        return r;
                snprintf(key, sizeof(key), "%s_TRY", bootname);
                r = read_number(bl, env, key, 10, 0, &try, err);
                if (r < 0)
                        return r;
                v.attempts_left = ok == 1 && try == 0 ? 1 : 0;
                v.usable = v.in_order && ok == 1;
        } else {
                snprintf(key, sizeof(key), "BOOT_%s_LEFT", bootname);
                r = read_number(bl, env, key, 16, bl->attempts, &v.attempts_left, err);
                if (r < 0)
                        return r;
                v.usable = v.in_order && v.attempts_left > 0;
        }
        v.bootable = v.in_order && v.attempts_left > 0;
        *ret = v;
        return 0;
}

static int env_load(struct sfu_bootloader *bl, struct sfu_envfile **ret_env, struct order *ret_order,
                    struct sfu_err *err) {
        _cleanup_envfile_ struct sfu_envfile *env = NULL;
        int r;

        r = bl->ops->load(bl, &env, err);
        if (r < 0)
                return r;
        r = order_read(bl, env, ret_order, err);
        if (r < 0)
                return r;
        *ret_env = TAKE_PTR(env);
        return 0;
}

/* Adds the variables that make bootname bootable with fresh attempts. */
static int changes_refresh(const struct sfu_bootloader *bl, struct sfu_envfile *changes,
                           const char *bootname) {
        char key[SFU_BOOTLOADER_BOOTNAME_MAX + 16];
        int r;

        if (bl->ops->scheme == SFU_BOOTLOADER_SCHEME_GRUB) {
                snprintf(key, sizeof(key), "%s_OK", bootname);
                r = sfu_envfile_set(changes, key, "1");
                if (r < 0)
                        return r;
                snprintf(key, sizeof(key), "%s_TRY", bootname);
                return sfu_envfile_set(changes, key, "0");
        }
        snprintf(key, sizeof(key), "BOOT_%s_LEFT", bootname);
        return sfu_envfile_setf(changes, key, "%x", bl->attempts);
}

static int changes_order(const struct sfu_bootloader *bl, struct sfu_envfile *changes,
                         const struct order *o) {
        _cleanup_free_ char *joined = NULL;
        int r;

        r = order_join(o, &joined);
        if (r < 0)
                return r;
        return sfu_envfile_set(changes, order_var(bl), joined);
}

static int env_get_primary(struct sfu_bootloader *bl, char **ret, struct sfu_err *err) {
        _cleanup_envfile_ struct sfu_envfile *env = NULL;
        struct order o;
        int r;

        r = env_load(bl, &env, &o, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < o.n; i++) {
                struct slot_vars v;

                if (!configured(bl, o.names[i]))
                        continue;
                r = slot_vars(bl, env, &o, o.names[i], &v, err);
                if (r < 0)
                        return r;
                if (v.bootable) {
                        char *s = strdup(o.names[i]);
                        if (!s)
                                return -ENOMEM;
                        *ret = s;
                        return 0;
                }
        }
        return sfu_err_set(err, SFU_ERR_STATE, ENOENT, "the %s environment has no bootable slot in %s",
                           bl->ops->name, order_var(bl));
}

static int env_get_slot_state(struct sfu_bootloader *bl, const char *bootname,
                              struct sfu_bootloader_slot_state *ret, struct sfu_err *err) {
        _cleanup_envfile_ struct sfu_envfile *env = NULL;
        struct slot_vars v;
        struct order o;
        int r;

        r = env_load(bl, &env, &o, err);
        if (r < 0)
                return r;
        r = slot_vars(bl, env, &o, bootname, &v, err);
        if (r < 0)
                return r;
        *ret = (struct sfu_bootloader_slot_state){
                .in_order = v.in_order,
                .good = v.bootable,
                .attempts_left = v.attempts_left,
        };
        return 0;
}

static int env_store(struct sfu_bootloader *bl, const struct sfu_envfile *changes, struct sfu_err *err) {
        return bl->ops->store(bl, changes, err);
}

/* first goes first with fresh attempts; second (may be NULL) second with
 * fresh attempts; the rest keeps its order and its variables. */
static int env_promote(struct sfu_bootloader *bl, const char *first, const char *second,
                       struct sfu_err *err) {
        _cleanup_envfile_ struct sfu_envfile *env = NULL, *changes = NULL;
        struct order o, n;
        int r;

        r = env_load(bl, &env, &o, err);
        if (r < 0)
                return r;
        r = order_reorder(&o, first, second, &n);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STATE, -r, "cannot build the new boot order");
        r = sfu_envfile_new(&changes);
        if (r < 0)
                return r;
        r = changes_order(bl, changes, &n);
        if (r >= 0)
                r = changes_refresh(bl, changes, first);
        if (r >= 0 && second)
                r = changes_refresh(bl, changes, second);
        if (r < 0)
                return r;
        return env_store(bl, changes, err);
}

static int env_set_trial(struct sfu_bootloader *bl, const char *bootname, const char *fallback,
                         struct sfu_err *err) {
        return env_promote(bl, bootname, fallback, err);
}

static int env_mark_good(struct sfu_bootloader *bl, const char *bootname, struct sfu_err *err) {
        return env_promote(bl, bootname, NULL, err);
}

static int env_set_primary(struct sfu_bootloader *bl, const char *bootname, struct sfu_err *err) {
        return env_promote(bl, bootname, NULL, err);
}

static int env_mark_bad(struct sfu_bootloader *bl, const char *bootname, struct sfu_err *err) {
        _cleanup_envfile_ struct sfu_envfile *env = NULL, *changes = NULL;
        char key[SFU_BOOTLOADER_BOOTNAME_MAX + 16];
        struct order o, n = {.n = 0};
        bool other_usable = false;
        int r;

        r = env_load(bl, &env, &o, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < o.n; i++)
                if (strcmp(o.names[i], bootname) != 0)
                        (void) order_add(&n, o.names[i]);
        for (size_t i = 0; i < n.n; i++) {
                struct slot_vars v;

                if (!configured(bl, n.names[i]))
                        continue;
                r = slot_vars(bl, env, &n, n.names[i], &v, err);
                if (r < 0)
                        return r;
                other_usable = other_usable || v.usable;
        }
        if (!other_usable)
                return sfu_err_set(err, SFU_ERR_STATE, EPERM,
                                   "refusing to mark %s bad: no other slot in %s could be booted", bootname,
                                   order_var(bl));

        r = sfu_envfile_new(&changes);
        if (r < 0)
                return r;
        r = changes_order(bl, changes, &n);
        if (r < 0)
                return r;
        if (bl->ops->scheme == SFU_BOOTLOADER_SCHEME_GRUB) {
                snprintf(key, sizeof(key), "%s_OK", bootname);
                r = sfu_envfile_set(changes, key, "0");
                if (r < 0)
                        return r;
                snprintf(key, sizeof(key), "%s_TRY", bootname);
                r = sfu_envfile_set(changes, key, "0");
        } else {
                snprintf(key, sizeof(key), "BOOT_%s_LEFT", bootname);
                r = sfu_envfile_set(changes, key, "0");
        }
        if (r < 0)
                return r;
        return env_store(bl, changes, err);
}

static int env_get_incomplete(struct sfu_bootloader *bl, char **ret, struct sfu_err *err) {
        _cleanup_envfile_ struct sfu_envfile *env = NULL;
        const char *value;
        char *s;
        int r;

        r = bl->ops->load(bl, &env, err);
        if (r < 0)
                return r;
        value = sfu_envfile_get(env, SFU_BOOTLOADER_INCOMPLETE_VAR);
        s = strdup(value ? value : "");
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static bool list_contains(const char *list, const char *word) {
        size_t len = strlen(word);

        for (const char *p = list; *p;) {
                size_t n = strcspn(p, " \t\n");
                if (n == len && strncmp(p, word, len) == 0)
                        return true;
                p += n;
                p += strspn(p, " \t\n");
        }
        return false;
}

/* list with word added (add) or removed (!add); NULL when it ends empty */
static int list_edit(const char *list, const char *word, bool add, char **ret) {
        size_t cap = strlen(list) + strlen(word) + 2, len = 0;
        _cleanup_free_ char *out = malloc(cap);

        if (!out)
                return -ENOMEM;
        out[0] = 0;
        for (const char *p = list + strspn(list, " \t\n"); *p;) {
                size_t n = strcspn(p, " \t\n");
                if (!(n == strlen(word) && strncmp(p, word, n) == 0)) {
                        if (len > 0)
                                out[len++] = ' ';
                        memcpy(out + len, p, n);
                        len += n;
                        out[len] = 0;
                }
                p += n;
                p += strspn(p, " \t\n");
        }
        if (add) {
                if (len > 0)
                        out[len++] = ' ';
                strcpy(out + len, word);
                len += strlen(word);
        }
        *ret = len > 0 ? TAKE_PTR(out) : NULL;
        return 0;
}

static int env_edit_incomplete(struct sfu_bootloader *bl, const char *class_name, bool add,
                               struct sfu_err *err) {
        _cleanup_envfile_ struct sfu_envfile *env = NULL, *changes = NULL;
        _cleanup_free_ char *edited = NULL;
        const char *value;
        int r;

        r = bl->ops->load(bl, &env, err);
        if (r < 0)
                return r;
        value = sfu_envfile_get(env, SFU_BOOTLOADER_INCOMPLETE_VAR);
        if (!value)
                value = "";
        if (list_contains(value, class_name) == add)
                return 0; /* already so: nothing to write */
        r = list_edit(value, class_name, add, &edited);
        if (r < 0)
                return r;
        r = sfu_envfile_new(&changes);
        if (r < 0)
                return r;
        r = sfu_envfile_set(changes, SFU_BOOTLOADER_INCOMPLETE_VAR, edited);
        if (r < 0)
                return r;
        return env_store(bl, changes, err);
}

/* ---- the public verbs -------------------------------------------------------- */

int sfu_bootloader_get_primary(struct sfu_bootloader *bl, char **ret, struct sfu_err *err) {
        _cleanup_free_ char *primary = NULL;
        int r;

        if (bl->ops->scheme == SFU_BOOTLOADER_SCHEME_NONE)
                r = bl->ops->get_primary(bl, &primary, err);
        else
                r = env_get_primary(bl, &primary, err);
        if (r < 0)
                return r;
        if (!configured(bl, primary))
                return sfu_err_set(err, SFU_ERR_STATE, EBADMSG,
                                   "the %s bootloader names '%.32s' as primary, not a configured bootname",
                                   bl->ops->name, primary);
        *ret = TAKE_PTR(primary);
        return 0;
}

int sfu_bootloader_get_first(struct sfu_bootloader *bl, char **ret, struct sfu_err *err) {
        _cleanup_envfile_ struct sfu_envfile *env = NULL;
        struct order o;
        int r;

        if (bl->ops->scheme == SFU_BOOTLOADER_SCHEME_NONE)
                return sfu_bootloader_get_primary(bl, ret, err);
        r = env_load(bl, &env, &o, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < o.n; i++) {
                if (!configured(bl, o.names[i]))
                        continue;
                *ret = strdup(o.names[i]);
                return *ret ? 0 : -ENOMEM;
        }
        return sfu_err_set(err, SFU_ERR_STATE, ENOENT, "the %s environment lists no configured slot in %s",
                           bl->ops->name, order_var(bl));
}

int sfu_bootloader_get_slot_state(struct sfu_bootloader *bl, const char *bootname,
                                  struct sfu_bootloader_slot_state *ret, struct sfu_err *err) {
        int r = check_bootname(bl, bootname, err);

        if (r < 0)
                return r;
        if (bl->ops->scheme == SFU_BOOTLOADER_SCHEME_NONE)
                return bl->ops->get_slot_state(bl, bootname, ret, err);
        return env_get_slot_state(bl, bootname, ret, err);
}

int sfu_bootloader_set_trial(struct sfu_bootloader *bl, const char *bootname, const char *fallback,
                             struct sfu_err *err) {
        int r = check_bootname(bl, bootname, err);

        if (r < 0)
                return r;
        if (fallback) {
                r = check_bootname(bl, fallback, err);
                if (r < 0)
                        return r;
                if (strcmp(fallback, bootname) == 0)
                        return sfu_err_set(err, SFU_ERR_STATE, EINVAL,
                                           "the trial slot %s cannot be its own fallback", bootname);
        }
        if (bl->ops->scheme == SFU_BOOTLOADER_SCHEME_NONE)
                return bl->ops->set_trial(bl, bootname, fallback, err);
        return env_set_trial(bl, bootname, fallback, err);
}

int sfu_bootloader_mark_good(struct sfu_bootloader *bl, const char *bootname, struct sfu_err *err) {
        int r = check_bootname(bl, bootname, err);

        if (r < 0)
                return r;
        if (bl->ops->scheme == SFU_BOOTLOADER_SCHEME_NONE)
                return bl->ops->mark_good(bl, bootname, err);
        return env_mark_good(bl, bootname, err);
}

/* Verb backends: the same refusal as env_mark_bad(), from get-state. */
static int check_other_good(struct sfu_bootloader *bl, const char *bootname, struct sfu_err *err) {
        for (size_t i = 0; i < bl->n_bootnames; i++) {
                struct sfu_bootloader_slot_state st;
                int r;

                if (strcmp(bl->bootnames[i], bootname) == 0)
                        continue;
                r = bl->ops->get_slot_state(bl, bl->bootnames[i], &st, err);
                if (r < 0)
                        return r;
                if (st.good)
                        return 0;
        }
        return sfu_err_set(err, SFU_ERR_STATE, EPERM,
                           "refusing to mark %s bad: the %s bootloader reports no other good slot", bootname,
                           bl->ops->name);
}

int sfu_bootloader_mark_bad(struct sfu_bootloader *bl, const char *bootname, struct sfu_err *err) {
        int r = check_bootname(bl, bootname, err);

        if (r < 0)
                return r;
        if (bl->ops->scheme == SFU_BOOTLOADER_SCHEME_NONE) {
                r = check_other_good(bl, bootname, err);
                if (r < 0)
                        return r;
                return bl->ops->mark_bad(bl, bootname, err);
        }
        return env_mark_bad(bl, bootname, err);
}

int sfu_bootloader_set_primary(struct sfu_bootloader *bl, const char *bootname, struct sfu_err *err) {
        int r = check_bootname(bl, bootname, err);

        if (r < 0)
                return r;
        if (bl->ops->scheme == SFU_BOOTLOADER_SCHEME_NONE)
                return bl->ops->set_primary(bl, bootname, err);
        return env_set_primary(bl, bootname, err);
}

static int check_class(const char *class_name, struct sfu_err *err) {
        if (!class_valid(class_name))
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL,
                                   "slot class '%.64s' is not 1-%d letters, digits, '_', '-' or '.'",
                                   class_name ? class_name : "(null)", SFU_BOOTLOADER_CLASS_MAX);
        return 0;
}

int sfu_bootloader_set_incomplete(struct sfu_bootloader *bl, const char *class_name, struct sfu_err *err) {
        int r = check_class(class_name, err);

        if (r < 0)
                return r;
        if (bl->ops->scheme == SFU_BOOTLOADER_SCHEME_NONE)
                return bl->ops->set_incomplete(bl, class_name, err);
        return env_edit_incomplete(bl, class_name, true, err);
}

int sfu_bootloader_clear_incomplete(struct sfu_bootloader *bl, const char *class_name, struct sfu_err *err) {
        int r = check_class(class_name, err);

        if (r < 0)
                return r;
        if (bl->ops->scheme == SFU_BOOTLOADER_SCHEME_NONE)
                return bl->ops->clear_incomplete(bl, class_name, err);
        return env_edit_incomplete(bl, class_name, false, err);
}

int sfu_bootloader_get_incomplete(struct sfu_bootloader *bl, const char *class_name, bool *ret,
                                  struct sfu_err *err) {
        _cleanup_free_ char *list = NULL;
        int r = check_class(class_name, err);

        if (r < 0)
                return r;
        if (bl->ops->scheme == SFU_BOOTLOADER_SCHEME_NONE)
                r = bl->ops->get_incomplete(bl, &list, err);
        else
                r = env_get_incomplete(bl, &list, err);
        if (r < 0)
                return r;
        *ret = list_contains(list, class_name);
        return 0;
}
