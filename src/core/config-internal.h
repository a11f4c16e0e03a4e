/* SPDX-License-Identifier: MIT */
/* Shared by config.c (reading: lines, sections, keys, validation) and
 * config-keys.c (the key table and the value parsers). */
#pragma once
#include <stdarg.h>
#include <stddef.h>
#include "core/config.h"
#include "core/url.h"

#define CFG(f) offsetof(struct sfu_config, f)
#define SLOT(f) offsetof(struct sfu_config_slot, f)

#define USEC_PER_SEC UINT64_C(1000000)
/* Polling a manufacturer's server more often than this is a mistake. */
#define MIN_POLL_INTERVAL_USEC (60 * USEC_PER_SEC)
#define MIN_TIMEOUT_USEC USEC_PER_SEC
#define MAX_CMDLINE_KEY 64
#define MAX_ATTEMPTS 10
#define MAX_DOMAIN 253
#define MAX_DOMAIN_LABEL 63
/* Enough to show which section or value is meant, short enough to leave
 * room for the rest of a message. */
#define MAX_SHOWN 64

enum section {
        SECTION_NONE,
        SECTION_DEVICE,
        SECTION_DISCOVERY,
        SECTION_SECURITY,
        SECTION_NETWORK,
        SECTION_POLL,
        SECTION_BOOTLOADER,
        SECTION_STORAGE,
        SECTION_DELTA,
        SECTION_SLOT,
        _SECTION_MAX,
};

extern const char *const sfu_config_sections[_SECTION_MAX];

struct parse_ctx;
typedef int (*value_parser)(struct parse_ctx *ctx, const char *value, void *field);

#define CONFIG_N_KEYS 41

struct key_def {
        enum section section;
        const char *key;
        value_parser parse;
        size_t offset;          /* in struct sfu_config, or struct sfu_config_slot for SECTION_SLOT */
};


struct parse_ctx {
        struct sfu_config *config;
        const char *name;               /* file name for messages */
        const char *buf;
        size_t len;
        size_t pos;
        unsigned lineno;                /* of the line inih is working on */

        enum section section;
        int slot;                       /* index into config->slots, or -1 */
        char section_name[MAX_SHOWN + 1];
        /* Line on which each key was set: row 0 for the fixed sections,
         * row 1 + i for config->slots[i]; 0 = not set. */
        unsigned key_line[1 + SFU_CONFIG_MAX_SLOTS][CONFIG_N_KEYS];
        unsigned slot_line[SFU_CONFIG_MAX_SLOTS];

        const char *key;                /* key and value being parsed, for messages */
        const char *value;

        bool failed;
        unsigned err_line;
        struct sfu_err err;
};


extern const struct key_def sfu_config_keys[CONFIG_N_KEYS];

/* A failure at line (0: about the whole file); an allocation failure; a
 * bad value of the key being parsed ('invalid KEY "VALUE": reason'). */
int sfu_config_fail_at(struct parse_ctx *ctx, unsigned line, const char *fmt, ...) _printf_(3, 4);
int sfu_config_fail_oom(struct parse_ctx *ctx);
int sfu_config_invalid(struct parse_ctx *ctx, const char *fmt, ...) _printf_(2, 3);

/* Character classes (ASCII, no locale). */

static inline bool is_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static inline bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

/* Printable ASCII without space. */
static inline bool is_graph(char c) {
        return c > ' ' && c < 0x7f;
}

static inline bool all_of(const char *s, bool (*pred)(char)) {
        for (; *s; s++)
                if (!pred(*s))
                        return false;
        return true;
}

static inline bool is_name_char(char c) {
        return is_alnum(c) || c == '.' || c == '_' || c == '~' || c == '-';
}

static inline bool is_bootname_char(char c) {
        return is_alnum(c) || c == '_' || c == '-';
}

static inline bool is_class_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static inline bool is_cmdline_key_char(char c) {
        return is_alnum(c) || c == '.' || c == '_' || c == '-';
}

static inline const char *startswith(const char *s, const char *prefix) {
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* A DNS name (secfud.conf(5), [discovery] domain): what
 * sfu_url_domain_valid() takes, without a trailing dot. */
static inline bool domain_valid(const char *name) {
        size_t len = strlen(name);
        return sfu_url_domain_valid(name) && len > 0 && name[len - 1] != '.';
}

