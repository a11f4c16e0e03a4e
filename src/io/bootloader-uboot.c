/* SPDX-License-Identifier: MIT */
/* U-Boot: RAUC's variables BOOT_ORDER and BOOT_<B>_LEFT (hex, as U-Boot's
 * setexpr writes them) through libubootenv, configured by fw_env.config
 * (etc/u-boot/secfu-ab.cmd is the matching boot script).  Each switch sets
 * its variables in the library's copy and stores once: with two devices in
 * fw_env.config (a redundant environment) libubootenv writes the copy that
 * is not current with the next flag value, so an interrupted write leaves
 * the previous environment intact.
 *
 * An environment with no valid copy (bad CRC everywhere) is refused for
 * reading and writing: U-Boot would boot with its built-in default, which
 * secfud cannot know, and writing would silently replace whatever was there
 * with secfud's few variables. */
#include <fcntl.h>
#include <libuboot.h>

#include "io/bootloader.h"
#include "io/envfile.h"
#include "io/fault.h"

#define FW_ENV_CONFIG_MAX (16u * 1024u)

struct uboot {
        char *config_path;
        char *devices[2];
        size_t n_devices;
        struct uboot_ctx *ctx;
};

/* The device names of fw_env.config (libubootenv keeps its own copy
 * private): to sync them after a store, and to say which one is bad. */
static int parse_devices(struct uboot *u, struct sfu_err *err) {
        _cleanup_fclose_ FILE *f = NULL;
        char line[1024];
        unsigned line_no = 0;

        f = fopen(u->config_path, "re");
        if (!f)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot open %s: %s", u->config_path,
                                   strerror(errno));
        while (fgets(line, sizeof(line), f)) {
                char *p = line + strspn(line, " \t"), *end;

                if (++line_no > FW_ENV_CONFIG_MAX / 8)
                        return sfu_err_set(err, SFU_ERR_SIZE, EFBIG, "%s is too long", u->config_path);
                if (!strchr(line, '\n') && !feof(f))
                        return sfu_err_set(err, SFU_ERR_STATE, EBADMSG, "%s:%u: line too long",
                                           u->config_path, line_no);
                if (*p == '#' || *p == '\n' || *p == 0)
                        continue;
                end = p + strcspn(p, " \t\n");
                if (u->n_devices == ELEMENTSOF(u->devices))
                        break; /* like libubootenv: at most two copies */
                u->devices[u->n_devices] = strndup(p, (size_t) (end - p));
                if (!u->devices[u->n_devices])
                        return -ENOMEM;
                u->n_devices++;
        }
        if (u->n_devices == 0)
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL, "%s names no environment device",
                                   u->config_path);
        return 0;
}

static int uboot_open(struct sfu_bootloader *bl, const struct sfu_config *config, struct sfu_err *err) {
        struct uboot *u;
        int r;

        if (!config->fw_env_config || config->fw_env_config[0] != '/')
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL,
                                   "[bootloader] fw-env-config must be an absolute path");
        if (bl->attempts > SFU_BOOTLOADER_UBOOT_ATTEMPTS_MAX)
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL,
                                   "[bootloader] attempts must be at most %u with U-Boot (its test command "
                                   "reads decimal, setexpr writes hex)",
                                   SFU_BOOTLOADER_UBOOT_ATTEMPTS_MAX);
        u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        bl->data = u;
        u->config_path = strdup(config->fw_env_config);
        if (!u->config_path)
                return -ENOMEM;
        r = parse_devices(u, err);
        if (r < 0)
                return r;
        r = libuboot_initialize(&u->ctx, NULL);
        if (r < 0) {
                u->ctx = NULL;
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot initialise libubootenv");
        }
        r = libuboot_read_config(u->ctx, u->config_path);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r,
                                   "libubootenv rejects %s (missing device, or sizes that differ)",
                                   u->config_path);
        return 0;
}

static void uboot_close(struct sfu_bootloader *bl) {
        struct uboot *u = bl->data;

        if (!u)
                return;
        if (u->ctx)
                libuboot_exit(u->ctx);
        for (size_t i = 0; i < u->n_devices; i++)
                free(u->devices[i]);
        free(u->config_path);
        free(u);
        bl->data = NULL;
}

static void env_closep(struct uboot_ctx **ctx) {
        if (*ctx)
                libuboot_close(*ctx);
}

static int env_open(struct uboot *u, struct uboot_ctx **ret, struct sfu_err *err) {
        int r = libuboot_open(u->ctx);

        if (r < 0) {
                libuboot_close(u->ctx);
                if (r == -ENODATA)
                        return sfu_err_set(err, SFU_ERR_STATE, EBADMSG,
                                           "the U-Boot environment (%s%s%s) has no copy with a valid CRC; "
                                           "refusing to read or write it",
                                           u->devices[0], u->n_devices > 1 ? ", " : "",
                                           u->n_devices > 1 ? u->devices[1] : "");
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot read the U-Boot environment of %s: %s",
                                   u->config_path, strerror(-r));
        }
        *ret = u->ctx;
        return 0;
}

static int uboot_load(struct sfu_bootloader *bl, struct sfu_envfile **ret, struct sfu_err *err) {
        struct uboot *u = bl->data;
        _cleanup_(env_closep) struct uboot_ctx *ctx = NULL;
        _cleanup_envfile_ struct sfu_envfile *env = NULL;
        int r;

        r = env_open(u, &ctx, err);
        if (r < 0)
                return r;
        r = sfu_envfile_new(&env);
        if (r < 0)
                return r;
        for (void *entry = libuboot_iterator(ctx, NULL); entry; entry = libuboot_iterator(ctx, entry)) {
                const char *name = libuboot_getname(entry), *value = libuboot_getvalue(entry);

                if (!name || !value)
                        continue;
                r = sfu_envfile_set(env, name, value);
                if (r == -E2BIG)
                        return sfu_err_set(err, SFU_ERR_SIZE, E2BIG,
                                           "the U-Boot environment has more than %u variables",
                                           SFU_ENVFILE_MAX_VARS);
                if (r == -EINVAL)
                        continue; /* a name secfud never uses */
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(env);
        return 0;
}

static int sync_devices(const struct uboot *u, struct sfu_err *err) {
        for (size_t i = 0; i < u->n_devices; i++) {
                _cleanup_close_ int fd = open(u->devices[i], O_RDONLY | O_CLOEXEC | O_NOCTTY);

                if (fd < 0 || fsync(fd) < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot sync %s: %s", u->devices[i],
                                           strerror(errno));
        }
        return 0;
}

static int uboot_store(struct sfu_bootloader *bl, const struct sfu_envfile *changes, struct sfu_err *err) {
        struct uboot *u = bl->data;
        _cleanup_(env_closep) struct uboot_ctx *ctx = NULL;
        int r;

        if (sfu_envfile_size(changes) == 0)
                return 0;
        r = env_open(u, &ctx, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < sfu_envfile_size(changes); i++) {
                const char *key = sfu_envfile_key_at(changes, i);

                r = libuboot_set_env(ctx, key, sfu_envfile_value_at(changes, i));
                if (r < 0)
                        return sfu_err_set(err, SFU_ERR_STATE, -r,
                                           "libubootenv refuses to change %s (read-only by .flags?)", key);
        }
        r = SFU_FAULT("env-write");
        if (r >= 0)
                r = libuboot_env_store(ctx);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot write the U-Boot environment of %s: %s",
                                   u->config_path, strerror(-r));
        r = sync_devices(u, err);
        if (r < 0)
                return r;
        r = SFU_FAULT("env-written"); /* tests: the new copy is durable, nothing else is */
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "after writing the U-Boot environment: %s",
                                   strerror(-r));
        return 0;
}

const struct sfu_bootloader_ops sfu_bootloader_uboot_ops = {
        .name = "uboot",
        .scheme = SFU_BOOTLOADER_SCHEME_COUNTER,
        .open = uboot_open,
        .close = uboot_close,
        .load = uboot_load,
        .store = uboot_store,
};
