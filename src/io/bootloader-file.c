/* SPDX-License-Identifier: MIT */
/* file: the U-Boot scheme's variables (BOOT_ORDER, BOOT_<B>_LEFT, and
 * SECFU_INCOMPLETE) in a plain KEY=VALUE file, for development, tests and
 * the demo; tests/integration/bootsim plays the boot script on it.  A
 * missing file is an empty environment (the boot script's defaults apply,
 * as with an erased U-Boot environment); a file that does not parse is an
 * error and is never rewritten.  Each switch replaces the file crash-safely
 * (temporary file, fsync, rename, fsync of the directory). */
#include "io/bootloader.h"
#include "io/envfile.h"

struct file_backend {
        char *path;
};

static int file_open(struct sfu_bootloader *bl, const struct sfu_config *config, struct sfu_err *err) {
        struct file_backend *f;

        if (!config->bootenv_file || config->bootenv_file[0] != '/')
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL, "[bootloader] file must be an absolute path");
        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        bl->data = f;
        f->path = strdup(config->bootenv_file);
        if (!f->path)
                return -ENOMEM;
        return 0;
}

static void file_close(struct sfu_bootloader *bl) {
        struct file_backend *f = bl->data;

        if (!f)
                return;
        free(f->path);
        free(f);
        bl->data = NULL;
}

static int file_load(struct sfu_bootloader *bl, struct sfu_envfile **ret, struct sfu_err *err) {
        struct file_backend *f = bl->data;
        int r;

        r = sfu_envfile_load(f->path, ret, err);
        if (r == -ENOENT)
                return sfu_envfile_new(ret);
        if (r < 0)
                sfu_err_prefix(err, "boot environment");
        return r;
}

static int file_store(struct sfu_bootloader *bl, const struct sfu_envfile *changes, struct sfu_err *err) {
        struct file_backend *f = bl->data;
        _cleanup_envfile_ struct sfu_envfile *env = NULL;
        int r;

        r = file_load(bl, &env, err);
        if (r < 0)
                return r;
        r = sfu_envfile_apply(env, changes);
        if (r < 0)
                return r;
        return sfu_envfile_save(env, f->path, err);
}

const struct sfu_bootloader_ops sfu_bootloader_file_ops = {
        .name = "file",
        .scheme = SFU_BOOTLOADER_SCHEME_COUNTER,
        .open = file_open,
        .close = file_close,
        .load = file_load,
        .store = file_store,
};
