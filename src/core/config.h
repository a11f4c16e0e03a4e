/* SPDX-License-Identifier: MIT */
/* secfud.conf (secfud.conf(5)): INI via inih, a table of
 * {section, key, parser, offset}; unknown sections or keys and bad values
 * are errors naming file and line.  Parsing fills a fresh struct that the
 * caller swaps in only when all of it is valid. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

#define SFU_CONFIG_DEFAULT_PATH SFU_SYSCONFDIR "/secfud/secfud.conf"
#define SFU_CONFIG_MAX_SIZE (256u * 1024u)
#define SFU_CONFIG_MAX_SLOTS 16
/* inih reads lines into a 200-byte buffer (Debian's libinih); a longer
 * line is refused rather than cut. */
#define SFU_CONFIG_MAX_LINE 198
#define SFU_CONFIG_MAX_NAME 128         /* manufacturer, model */
#define SFU_CONFIG_MAX_CLASS_NAME 32    /* CLASS of [slot.CLASS.N] */
#define SFU_CONFIG_MAX_BOOTNAME 32
#define SFU_CONFIG_MAX_SLOTS_PER_CLASS 2
#define SFU_CONFIG_MAX_CONNECT_TO 16
#define SFU_CONFIG_MAX_DELTA_BATCH 256  /* [delta] batch */    /* entries of [discovery] connect-to */

enum sfu_config_policy {
        SFU_CONFIG_POLL_CHECK,
        SFU_CONFIG_POLL_STAGE,
        SFU_CONFIG_POLL_REBOOT,
};

enum sfu_config_backend {
        SFU_CONFIG_BACKEND_GRUB,
        SFU_CONFIG_BACKEND_UBOOT,
        SFU_CONFIG_BACKEND_CUSTOM,
        SFU_CONFIG_BACKEND_FILE,
};

enum sfu_config_proxy {
        SFU_CONFIG_PROXY_NONE,
        SFU_CONFIG_PROXY_ENV,
        SFU_CONFIG_PROXY_URL,
};

/* [security] formats: the signed-manifest families taken, in order of
 * preference (enum sfu_signed_family). */
struct sfu_config_formats {
        unsigned mask;
        int order[2];
        size_t n;
};

struct sfu_config_slot {
        char *class_name;       /* "rootfs" of [slot.rootfs.0] */
        unsigned index;         /* 0 of [slot.rootfs.0] */
        char *device;
        char *bootname;
};

struct sfu_config {
        char *path;             /* file it came from, for messages */

        /* [device] */
        char *manufacturer;
        char *model;
        char *version_file;
        char *booted_slot;      /* "cmdline:KEY" or "file:PATH" (validated) */

        /* [discovery] */
        char *domain;           /* "auto" or a fixed name */
        char *local_url;        /* template with {domain} {manufacturer} {model} */
        char *manufacturer_url;
        char *connect_to;       /* space separated CONNECT_TO entries, may be "" */

        /* [security] */
        char *keys;             /* directory */
        char *decryption_keys;  /* directory of the device's decryption keys; "" none */
        unsigned algorithms;    /* mask of enum sfu_alg */
        struct sfu_config_formats formats;
        unsigned min_signatures;
        bool allow_downgrade;
        uint64_t max_manifest_size;
        uint64_t max_image_size;
        uint64_t clock_skew_usec;       /* how far ahead of a synchronised clock a timestamp may be */

        /* [network] */
        char *ca_file;          /* "" = system default */
        enum sfu_config_proxy proxy;
        char *proxy_url;        /* when proxy == SFU_CONFIG_PROXY_URL */
        uint64_t connect_timeout_usec;
        uint64_t low_speed_timeout_usec;
        uint64_t retry_after_max_usec;  /* a longer Retry-After ends the cycle */
        uint64_t job_timeout_usec;      /* every job's overall deadline */

        /* [poll] */
        uint64_t interval_usec;
        uint64_t jitter_usec;
        enum sfu_config_policy policy;

        /* [bootloader] */
        enum sfu_config_backend backend;
        char *grubenv;
        char *fw_env_config;
        char *script;
        char *bootenv_file;     /* key "file" */
        unsigned attempts;

        /* [slot.CLASS.N], sorted by class then index */
        struct sfu_config_slot slots[SFU_CONFIG_MAX_SLOTS];
        size_t n_slots;

        /* [storage] */
        char *state_dir;
        char *runtime_dir;

        /* [delta] (doc/delta.md) */
        bool delta_enable;
        bool delta_fallback;            /* a failed delta falls back to the full download */
        char *delta_source_slots;       /* "running", "none", or "CLASS.N ..." */
        unsigned delta_batch;           /* ranges per request */
        bool delta_shifted;             /* look for chunks at every 4 KiB of the source too */
};

/* A config with every default of secfud.conf(5) (manufacturer and model
 * unset, no slots). */
int sfu_config_new_defaults(struct sfu_config **ret) _wur_;
/* Parses a file / a buffer ("name" is used in messages; NULL gives
 * "(buffer)") on top of the defaults, then validates the whole: required
 * keys, slot classes with indices 0..n-1 (1 or 2 slots), distinct devices,
 * bootnames that each name one index, templates.  Slots come out sorted by
 * class, then index.  The first error wins: SFU_ERR_PARSE with
 * "FILE:LINE: reason" (or "FILE: reason" for a missing key),
 * SFU_ERR_SIZE/EFBIG over SFU_CONFIG_MAX_SIZE, SFU_ERR_STORAGE with the
 * errno when the file cannot be opened or read.  *ret is untouched on
 * failure. */
int sfu_config_load(const char *path, struct sfu_config **ret, struct sfu_err *err) _wur_;
int sfu_config_load_buffer(const char *name, const char *buf, size_t len, struct sfu_config **ret,
                           struct sfu_err *err) _wur_;
void sfu_config_free(struct sfu_config *c);
static inline void sfu_config_freep(struct sfu_config **c) { sfu_config_free(*c); }
#define _cleanup_config_ _cleanup_(sfu_config_freep)

/* "check", "stage", "reboot" / "grub", "uboot", "custom", "file"; NULL for
 * a value out of range. */
/* The slot the bootloader starts under bootname: several classes may use
 * the same bootnames (rootfs.0 and appfs.0 both "A"); the one that boots is
 * the "rootfs" class if it has the name, else the first A/B class (two
 * slots) that has it, else the first slot with it. NULL when none has it. */
/* How many slots class_name has (1: single-copy, 2: A/B). */
size_t sfu_config_class_size(const struct sfu_config *c, const char *class_name);
const struct sfu_config_slot *sfu_config_boot_slot(const struct sfu_config *c, const char *bootname);

/* May slot s serve as the delta source of an image of s's class?
 * booted: the running slot ([delta] source-slots). */
bool sfu_config_delta_source_ok(const struct sfu_config *c, const struct sfu_config_slot *s,
                                const struct sfu_config_slot *booted);

const char *sfu_config_policy_name(enum sfu_config_policy p);
const char *sfu_config_backend_name(enum sfu_config_backend b);
