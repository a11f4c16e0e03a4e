/* SPDX-License-Identifier: MIT */
/* Bootloader backends (secfud.conf(5) [bootloader], doc/control.md states): which slot the bootloader
 * boots next, trial boots with a bounded number of attempts, commit,
 * rejection, rollback, and the "update incomplete" mark of single-copy
 * classes.
 *
 * Backends sit behind one ops table:
 *   grub    RAUC's GRUB variables ORDER, <B>_OK, <B>_TRY in a grubenv,
 *           changed with one `grub-editenv FILE set ...` per switch;
 *   uboot   RAUC's U-Boot variables BOOT_ORDER, BOOT_<B>_LEFT through
 *           libubootenv (redundant environments honoured), one store per
 *           switch;
 *   file    the U-Boot variables in a plain KEY=VALUE file, replaced
 *           crash-safely (development, tests, the demo);
 *   custom  an executable speaking the verb protocol of
 *           doc/custom-bootloader.md, one run per operation.
 *
 * Every operation reads the whole environment, computes the new variables
 * and writes all of them in one environment write.  Bootnames are those of
 * the configured slots; an operation on any other name is refused.
 *
 * Semantics shared by all backends ("bootable" = the bootloader would still
 * pick the slot when it walks the order):
 *   primary        first slot of the order that is bootable: the slot the
 *                  next boot starts.
 *   set_trial      the slot goes first with `attempts` tries (grub: its one
 *                  try), the fallback (normally the booted slot) second with
 *                  its attempts refreshed, the rest of the order after them.
 *   mark_good      commit: the slot goes first, good, attempts reset.
 *   set_primary    rollback to a slot that holds a good image: same variables
 *                  as mark_good.
 *   mark_bad       the slot is never tried again: out of the order, no
 *                  attempts left; refused when no other bootable slot would
 *                  remain.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "core/config.h"
#include "core/err.h"

#define SFU_BOOTLOADER_BOOTNAME_MAX 31               /* bytes of a bootname ([A-Za-z0-9_]) */
#define SFU_BOOTLOADER_CLASS_MAX 64                  /* bytes of a slot class in the incomplete mark */
#define SFU_BOOTLOADER_CMDLINE_MAX (64u * 1024u)     /* bytes of /proc/cmdline read */
#define SFU_BOOTLOADER_BOOTED_FILE_MAX 256u          /* bytes of a booted-slot file */
#define SFU_BOOTLOADER_TIMEOUT_USEC (30u * 1000000u) /* a helper program's run */
#define SFU_BOOTLOADER_OUTPUT_MAX (64u * 1024u)      /* stdout of grub-editenv list */
#define SFU_BOOTLOADER_CUSTOM_OUTPUT_MAX 4096u       /* stdout of the custom script */
#define SFU_BOOTLOADER_UBOOT_ATTEMPTS_MAX 9u /* U-Boot's `test -gt` reads decimal, setexpr writes hex */
#define SFU_BOOTLOADER_INCOMPLETE_VAR "SECFU_INCOMPLETE"

struct sfu_bootloader;

struct sfu_bootloader_slot_state {
        bool in_order;          /* listed in ORDER / BOOT_ORDER */
        bool good;              /* in the order with attempts left (RAUC's "good") */
        unsigned attempts_left; /* boots the bootloader still tries (grub: 0 or 1) */
};

/* Opens the backend of config->backend for the slots of config (their
 * bootnames); checks the backend's files and tools. */
int sfu_bootloader_open(const struct sfu_config *config, struct sfu_bootloader **ret,
                        struct sfu_err *err) _wur_;
void sfu_bootloader_close(struct sfu_bootloader *bl);
static inline void sfu_bootloader_closep(struct sfu_bootloader **bl) {
        sfu_bootloader_close(*bl);
}
#define _cleanup_bootloader_ _cleanup_(sfu_bootloader_closep)

const char *sfu_bootloader_name(const struct sfu_bootloader *bl);
/* Attempts a trial gets with this backend (grub: always 1). */
unsigned sfu_bootloader_trial_attempts(const struct sfu_bootloader *bl);
/* For tests: the time limit of helper programs (grub-editenv, custom). */
void sfu_bootloader_set_timeout(struct sfu_bootloader *bl, uint64_t usec);

int sfu_bootloader_get_primary(struct sfu_bootloader *bl, char **ret, struct sfu_err *err) _wur_;
/* The first configured slot of ORDER / BOOT_ORDER, whatever its attempts:
 * the slot the last switch put first (custom backend: the primary). */
int sfu_bootloader_get_first(struct sfu_bootloader *bl, char **ret, struct sfu_err *err) _wur_;
int sfu_bootloader_get_slot_state(struct sfu_bootloader *bl, const char *bootname,
                                  struct sfu_bootloader_slot_state *ret, struct sfu_err *err) _wur_;
/* fallback: the slot to return to when the trial fails (normally the booted
 * one); NULL keeps the rest of the order as it is. */
int sfu_bootloader_set_trial(struct sfu_bootloader *bl, const char *bootname, const char *fallback,
                             struct sfu_err *err) _wur_;
int sfu_bootloader_mark_good(struct sfu_bootloader *bl, const char *bootname, struct sfu_err *err) _wur_;
int sfu_bootloader_mark_bad(struct sfu_bootloader *bl, const char *bootname, struct sfu_err *err) _wur_;
int sfu_bootloader_set_primary(struct sfu_bootloader *bl, const char *bootname, struct sfu_err *err) _wur_;

/* The "update incomplete" mark of single-copy classes: the variable
 * SECFU_INCOMPLETE holds the space-separated names of the classes whose
 * in-place update has not been verified yet. */
int sfu_bootloader_set_incomplete(struct sfu_bootloader *bl, const char *class_name,
                                  struct sfu_err *err) _wur_;
int sfu_bootloader_clear_incomplete(struct sfu_bootloader *bl, const char *class_name,
                                    struct sfu_err *err) _wur_;
int sfu_bootloader_get_incomplete(struct sfu_bootloader *bl, const char *class_name, bool *ret,
                                  struct sfu_err *err) _wur_;

/* The booted slot's bootname from the [device] booted-slot spec:
 * "cmdline:KEY" reads KEY=VALUE from proc_cmdline_path (NULL: /proc/cmdline;
 * the last occurrence wins, double quotes group), "file:PATH" reads the
 * first line of PATH.  -ENOENT with SFU_ERR_STATE when the key or file is
 * missing. */
int sfu_bootloader_booted_slot(const char *spec, const char *proc_cmdline_path, char **ret,
                               struct sfu_err *err) _wur_;

bool sfu_bootloader_bootname_valid(const char *bootname);

/* ---- backend interface (bootloader-*.c only) ---------------------------- */

struct sfu_envfile;

enum sfu_bootloader_scheme {
        SFU_BOOTLOADER_SCHEME_NONE,    /* the backend implements the verbs itself */
        SFU_BOOTLOADER_SCHEME_GRUB,    /* ORDER, <B>_OK, <B>_TRY */
        SFU_BOOTLOADER_SCHEME_COUNTER, /* BOOT_ORDER, BOOT_<B>_LEFT (hex) */
};

struct sfu_bootloader_ops {
        const char *name;
        enum sfu_bootloader_scheme scheme;
        int (*open)(struct sfu_bootloader *bl, const struct sfu_config *config, struct sfu_err *err);
        void (*close)(struct sfu_bootloader *bl);
        /* Environment backends (scheme != NONE): read every variable; write
         * a list of changes (NULL value: unset) in one environment write. */
        int (*load)(struct sfu_bootloader *bl, struct sfu_envfile **ret, struct sfu_err *err);
        int (*store)(struct sfu_bootloader *bl, const struct sfu_envfile *changes, struct sfu_err *err);
        /* Verb backends (scheme == NONE). */
        int (*get_primary)(struct sfu_bootloader *bl, char **ret, struct sfu_err *err);
        int (*get_slot_state)(struct sfu_bootloader *bl, const char *bootname,
                              struct sfu_bootloader_slot_state *ret, struct sfu_err *err);
        int (*set_trial)(struct sfu_bootloader *bl, const char *bootname, const char *fallback,
                         struct sfu_err *err);
        int (*mark_good)(struct sfu_bootloader *bl, const char *bootname, struct sfu_err *err);
        int (*mark_bad)(struct sfu_bootloader *bl, const char *bootname, struct sfu_err *err);
        int (*set_primary)(struct sfu_bootloader *bl, const char *bootname, struct sfu_err *err);
        int (*get_incomplete)(struct sfu_bootloader *bl, char **ret, struct sfu_err *err);
        int (*set_incomplete)(struct sfu_bootloader *bl, const char *class_name, struct sfu_err *err);
        int (*clear_incomplete)(struct sfu_bootloader *bl, const char *class_name, struct sfu_err *err);
};

struct sfu_bootloader {
        const struct sfu_bootloader_ops *ops;
        void *data;                            /* the backend's */
        char *bootnames[SFU_CONFIG_MAX_SLOTS]; /* configured, in config order: the default order */
        size_t n_bootnames;
        unsigned attempts;
        uint64_t timeout_usec;
};

extern const struct sfu_bootloader_ops sfu_bootloader_grub_ops;
extern const struct sfu_bootloader_ops sfu_bootloader_uboot_ops;
extern const struct sfu_bootloader_ops sfu_bootloader_file_ops;
extern const struct sfu_bootloader_ops sfu_bootloader_custom_ops;

