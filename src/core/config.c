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

#include "core/config.h"
#include "core/file.h"
#include "core/jws.h"
#include "core/signed.h"
#include "core/timeutil.h"

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
        SECTION_SLOT,
        _SECTION_MAX,
};

static const char *const fixed_sections[_SECTION_MAX] = {
        [SECTION_DEVICE] = "device",
        [SECTION_DISCOVERY] = "discovery",
        [SECTION_SECURITY] = "security",
        [SECTION_NETWORK] = "network",
        [SECTION_POLL] = "poll",
        [SECTION_BOOTLOADER] = "bootloader",
        [SECTION_STORAGE] = "storage",
};

struct parse_ctx;
typedef int (*value_parser)(struct parse_ctx *ctx, const char *value, void *field);

struct key_def {
        enum section section;
        const char *key;
        value_parser parse;
        size_t offset;          /* in struct sfu_config, or struct sfu_config_slot for SECTION_SLOT */
};

static int parse_name(struct parse_ctx *ctx, const char *value, void *field);
static int parse_path(struct parse_ctx *ctx, const char *value, void *field);
static int parse_path_or_empty(struct parse_ctx *ctx, const char *value, void *field);
static int parse_booted_slot(struct parse_ctx *ctx, const char *value, void *field);
static int parse_domain(struct parse_ctx *ctx, const char *value, void *field);
static int parse_url_template(struct parse_ctx *ctx, const char *value, void *field);
static int parse_connect_to(struct parse_ctx *ctx, const char *value, void *field);
static int parse_algorithms(struct parse_ctx *ctx, const char *value, void *field);
static int parse_min_signatures(struct parse_ctx *ctx, const char *value, void *field);
static int parse_formats(struct parse_ctx *ctx, const char *value, void *field);
static int parse_bool(struct parse_ctx *ctx, const char *value, void *field);
static int parse_manifest_size(struct parse_ctx *ctx, const char *value, void *field);
static int parse_image_size(struct parse_ctx *ctx, const char *value, void *field);
static int parse_proxy(struct parse_ctx *ctx, const char *value, void *field);
static int parse_timeout(struct parse_ctx *ctx, const char *value, void *field);
static int parse_interval(struct parse_ctx *ctx, const char *value, void *field);
static int parse_duration(struct parse_ctx *ctx, const char *value, void *field);
static int parse_policy(struct parse_ctx *ctx, const char *value, void *field);
static int parse_backend(struct parse_ctx *ctx, const char *value, void *field);
static int parse_attempts(struct parse_ctx *ctx, const char *value, void *field);
static int parse_bootname(struct parse_ctx *ctx, const char *value, void *field);

#define CFG(f) offsetof(struct sfu_config, f)
#define SLOT(f) offsetof(struct sfu_config_slot, f)

static const struct key_def key_table[] = {
        { SECTION_DEVICE, "manufacturer", parse_name, CFG(manufacturer) },
        { SECTION_DEVICE, "model", parse_name, CFG(model) },
        { SECTION_DEVICE, "version-file", parse_path, CFG(version_file) },
        { SECTION_DEVICE, "booted-slot", parse_booted_slot, CFG(booted_slot) },

        { SECTION_DISCOVERY, "domain", parse_domain, CFG(domain) },
        { SECTION_DISCOVERY, "local-url", parse_url_template, CFG(local_url) },
        { SECTION_DISCOVERY, "manufacturer-url", parse_url_template, CFG(manufacturer_url) },
        { SECTION_DISCOVERY, "connect-to", parse_connect_to, CFG(connect_to) },

        { SECTION_SECURITY, "keys", parse_path, CFG(keys) },
        { SECTION_SECURITY, "algorithms", parse_algorithms, CFG(algorithms) },
        { SECTION_SECURITY, "formats", parse_formats, CFG(formats) },
        { SECTION_SECURITY, "min-signatures", parse_min_signatures, CFG(min_signatures) },
        { SECTION_SECURITY, "allow-downgrade", parse_bool, CFG(allow_downgrade) },
        { SECTION_SECURITY, "max-manifest-size", parse_manifest_size, CFG(max_manifest_size) },
        { SECTION_SECURITY, "max-image-size", parse_image_size, CFG(max_image_size) },
        { SECTION_SECURITY, "clock-skew", parse_duration, CFG(clock_skew_usec) },

        { SECTION_NETWORK, "ca-file", parse_path_or_empty, CFG(ca_file) },
        { SECTION_NETWORK, "proxy", parse_proxy, CFG(proxy) },
        { SECTION_NETWORK, "connect-timeout", parse_timeout, CFG(connect_timeout_usec) },
        { SECTION_NETWORK, "low-speed-timeout", parse_timeout, CFG(low_speed_timeout_usec) },
        { SECTION_NETWORK, "retry-after-max", parse_timeout, CFG(retry_after_max_usec) },
        { SECTION_NETWORK, "job-timeout", parse_timeout, CFG(job_timeout_usec) },

        { SECTION_POLL, "interval", parse_interval, CFG(interval_usec) },
        { SECTION_POLL, "jitter", parse_duration, CFG(jitter_usec) },
        { SECTION_POLL, "policy", parse_policy, CFG(policy) },

        { SECTION_BOOTLOADER, "backend", parse_backend, CFG(backend) },
        { SECTION_BOOTLOADER, "grubenv", parse_path, CFG(grubenv) },
        { SECTION_BOOTLOADER, "fw-env-config", parse_path, CFG(fw_env_config) },
        { SECTION_BOOTLOADER, "script", parse_path, CFG(script) },
        { SECTION_BOOTLOADER, "file", parse_path, CFG(bootenv_file) },
        { SECTION_BOOTLOADER, "attempts", parse_attempts, CFG(attempts) },

        { SECTION_STORAGE, "state-dir", parse_path, CFG(state_dir) },
        { SECTION_STORAGE, "runtime-dir", parse_path, CFG(runtime_dir) },

        { SECTION_SLOT, "device", parse_path, SLOT(device) },
        { SECTION_SLOT, "bootname", parse_bootname, SLOT(bootname) },
};

#define N_KEYS ELEMENTSOF(key_table)

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
        unsigned key_line[1 + SFU_CONFIG_MAX_SLOTS][N_KEYS];
        unsigned slot_line[SFU_CONFIG_MAX_SLOTS];

        const char *key;                /* key and value being parsed, for messages */
        const char *value;

        bool failed;
        unsigned err_line;
        struct sfu_err err;
};

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
static int fail_at(struct parse_ctx *ctx, unsigned line, const char *fmt, ...) _printf_(3, 4);
static int fail_at(struct parse_ctx *ctx, unsigned line, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vfail(ctx, line, EINVAL, fmt, ap);
        va_end(ap);
        return r;
}

static int fail_oom(struct parse_ctx *ctx) {
        if (ctx->failed)
                return -ctx->err.errnum;
        ctx->failed = true;
        ctx->err_line = ctx->lineno;
        return sfu_err_set(&ctx->err, SFU_ERR_PARSE, ENOMEM, "%s: out of memory", ctx->name);
}

/* A bad value of the key being parsed: 'invalid KEY "VALUE": reason'. */
static int invalid(struct parse_ctx *ctx, const char *fmt, ...) _printf_(2, 3);
static int invalid(struct parse_ctx *ctx, const char *fmt, ...) {
        char reason[SFU_ERR_MESSAGE_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        return fail_at(ctx, ctx->lineno, "invalid %s \"%.*s\": %s", ctx->key, MAX_SHOWN, ctx->value, reason);
}

/* ------------------------------------------------------------ character classes (ASCII, no locale) */

static bool is_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

/* Printable ASCII without space. */
static bool is_graph(char c) {
        return c > ' ' && c < 0x7f;
}

static bool all_of(const char *s, bool (*pred)(char)) {
        for (; *s; s++)
                if (!pred(*s))
                        return false;
        return true;
}

static bool is_name_char(char c) {
        return is_alnum(c) || c == '.' || c == '_' || c == '~' || c == '-';
}

static bool is_bootname_char(char c) {
        return is_alnum(c) || c == '_' || c == '-';
}

static bool is_class_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool is_cmdline_key_char(char c) {
        return is_alnum(c) || c == '.' || c == '_' || c == '-';
}

static const char *startswith(const char *s, const char *prefix) {
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* A DNS name (secfud.conf(5), [discovery] domain): LDH labels of 1..63 characters, no
 * hyphen at either end of a label, at most 253 characters, no trailing
 * dot, and a last label that is not all digits (it would read as an IPv4
 * address).  A subset of what sfu_url_domain_valid() accepts. */
static bool domain_valid(const char *name) {
        size_t total = strlen(name), label = 0;
        bool all_digits = true;

        if (total == 0 || total > MAX_DOMAIN)
                return false;
        for (const char *p = name;; p++) {
                if (*p == '.' || *p == '\0') {
                        if (label == 0 || label > MAX_DOMAIN_LABEL || p[-1] == '-')
                                return false;
                        if (*p == '\0')
                                return !all_digits;
                        label = 0;
                        all_digits = true;
                        continue;
                }
                if (!is_alnum(*p) && *p != '-')
                        return false;
                if (*p == '-' && label == 0)
                        return false;
                if (*p < '0' || *p > '9')
                        all_digits = false;
                label++;
        }
}

/* ------------------------------------------------------------ value parsers */

static int set_string(struct parse_ctx *ctx, char **field, const char *value) {
        char *copy = strdup(value);
        if (!copy)
                return fail_oom(ctx);
        free(*field);
        *field = copy;
        return 0;
}

static int parse_name(struct parse_ctx *ctx, const char *value, void *field) {
        size_t len = strlen(value);

        if (len == 0)
                return invalid(ctx, "must not be empty");
        if (len > SFU_CONFIG_MAX_NAME)
                return invalid(ctx, "longer than %d characters", SFU_CONFIG_MAX_NAME);
        if (!all_of(value, is_name_char) || strcmp(value, ".") == 0 || strcmp(value, "..") == 0)
                return invalid(ctx, "may contain only letters, digits, \".\", \"_\", \"~\" and \"-\" (it is used in URLs)");
        return set_string(ctx, field, value);
}

static int parse_path(struct parse_ctx *ctx, const char *value, void *field) {
        if (value[0] != '/')
                return invalid(ctx, "must be an absolute path");
        return set_string(ctx, field, value);
}

static int parse_path_or_empty(struct parse_ctx *ctx, const char *value, void *field) {
        if (value[0] == '\0')
                return set_string(ctx, field, "");
        return parse_path(ctx, value, field);
}

static int parse_booted_slot(struct parse_ctx *ctx, const char *value, void *field) {
        const char *rest;

        if ((rest = startswith(value, "cmdline:"))) {
                if (*rest == '\0' || strlen(rest) > MAX_CMDLINE_KEY || !all_of(rest, is_cmdline_key_char))
                        return invalid(ctx, "the kernel command line key must be 1 to %d letters, digits, \".\", \"_\" or \"-\"",
                                       MAX_CMDLINE_KEY);
        } else if ((rest = startswith(value, "file:"))) {
                if (rest[0] != '/')
                        return invalid(ctx, "file: must be followed by an absolute path");
        } else
                return invalid(ctx, "must be cmdline:KEY or file:/ABSOLUTE/PATH");
        return set_string(ctx, field, value);
}

static int parse_domain(struct parse_ctx *ctx, const char *value, void *field) {
        if (strcmp(value, "auto") != 0 && strcmp(value, "none") != 0 && !domain_valid(value))
                return invalid(ctx, "must be \"auto\", \"none\" or a DNS name (labels of letters, digits and \"-\", "
                               "at most %d characters each and %d in all)", MAX_DOMAIN_LABEL, MAX_DOMAIN);
        return set_string(ctx, field, value);
}

static int parse_url_template(struct parse_ctx *ctx, const char *value, void *field) {
        static const char *const placeholders[] = { "domain", "manufacturer", "model" };
        const char *rest;

        rest = startswith(value, "http://");
        if (!rest)
                rest = startswith(value, "https://");
        if (!rest)
                return invalid(ctx, "must start with http:// or https://");
        if (*rest == '\0' || *rest == '/')
                return invalid(ctx, "lacks a host name");
        for (const char *p = value; *p; p++) {
                if (!is_graph(*p))
                        return invalid(ctx, "may contain only printable ASCII characters without spaces");
                if (*p == '}')
                        return invalid(ctx, "has a \"}\" without \"{\"");
                if (*p == '{') {
                        const char *close = strchr(p, '}');
                        bool known = false;

                        if (!close)
                                return invalid(ctx, "has a \"{\" without \"}\"");
                        for (size_t i = 0; i < ELEMENTSOF(placeholders); i++)
                                if ((size_t) (close - p - 1) == strlen(placeholders[i]) &&
                                    strncmp(p + 1, placeholders[i], strlen(placeholders[i])) == 0)
                                        known = true;
                        if (!known)
                                return invalid(ctx, "unknown placeholder \"%.*s\" (known: {domain}, {manufacturer}, {model})",
                                               (int) (close - p + 1), p);
                        p = close;
                }
        }
        return set_string(ctx, field, value);
}

/* "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT" entries (libcurl
 * CURLOPT_CONNECT_TO), stored joined by single spaces. */
static int parse_connect_to(struct parse_ctx *ctx, const char *value, void *field) {
        char joined[SFU_CONFIG_MAX_LINE + 1];
        size_t out = 0, entries = 0;
        const char *p = value;

        for (;;) {
                const char *start;
                size_t colons = 0;

                while (is_blank(*p))
                        p++;
                if (*p == '\0')
                        break;
                start = p;
                for (; *p && !is_blank(*p); p++) {
                        if (!is_graph(*p))
                                return invalid(ctx, "may contain only printable ASCII characters");
                        if (*p == ',')
                                return invalid(ctx, "entries are separated by blanks, not commas");
                        if (*p == ':')
                                colons++;
                }
                if (colons < 3)
                        return invalid(ctx, "entry \"%.*s\" is not HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT",
                                       (int) (p - start), start);
                if (++entries > SFU_CONFIG_MAX_CONNECT_TO)
                        return invalid(ctx, "more than %d entries", SFU_CONFIG_MAX_CONNECT_TO);
                if (out > 0)
                        joined[out++] = ' ';
                if (out + (size_t) (p - start) >= sizeof(joined))
                        return invalid(ctx, "too long");
                memcpy(joined + out, start, (size_t) (p - start));
                out += (size_t) (p - start);
        }
        joined[out] = '\0';
        return set_string(ctx, field, joined);
}

static int parse_algorithms(struct parse_ctx *ctx, const char *value, void *field) {
        struct sfu_err e = SFU_ERR_INIT;
        unsigned mask = 0;

        if (sfu_alg_list_parse(value, &mask, &e) < 0)
                return invalid(ctx, "%s", sfu_err_isset(&e) ? e.message : "not a list of JWS algorithms");
        if (mask == 0)
                return invalid(ctx, "must name at least one algorithm");
        *(unsigned *) field = mask;
        return 0;
}

/* "jws, cose": the families of signed manifests taken, in order of
 * preference (what a request asks for first). */
static int parse_formats(struct parse_ctx *ctx, const char *value, void *field) {
        struct sfu_config_formats f = {};
        const char *p = value;

        for (;;) {
                const char *start = p, *end = strchrnul(p, ',');
                enum sfu_signed_family family;
                char name[16];
                size_t len;

                while (start < end && (*start == ' ' || *start == '\t'))
                        start++;
                len = (size_t) (end - start);
                while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
                        len--;
                if (len == 0 || len >= sizeof(name))
                        return invalid(ctx, "must be a list of jws, cose");
                memcpy(name, start, len);
                name[len] = 0;
                if (sfu_signed_family_from_name(name, &family) < 0)
                        return invalid(ctx, "unknown format \"%.*s\" (known: jws, cose)", (int) len, start);
                if (f.mask & SFU_SIGNED_FAMILY_MASK(family))
                        return invalid(ctx, "names %s twice", name);
                f.mask |= SFU_SIGNED_FAMILY_MASK(family);
                f.order[f.n++] = family;
                if (!*end)
                        break;
                p = end + 1;
        }
        *(struct sfu_config_formats *) field = f;
        return 0;
}

static int parse_uint(struct parse_ctx *ctx, const char *value, unsigned min, unsigned max, unsigned *field) {
        unsigned long v = 0;

        if (*value == '\0' || strlen(value) > 9)
                goto bad;
        for (const char *p = value; *p; p++) {
                if (*p < '0' || *p > '9')
                        goto bad;
                v = v * 10 + (unsigned) (*p - '0');
        }
        if (v < min || v > max)
                goto bad;
        *field = (unsigned) v;
        return 0;
bad:
        return invalid(ctx, "must be a whole number from %u to %u", min, max);
}

static int parse_min_signatures(struct parse_ctx *ctx, const char *value, void *field) {
        return parse_uint(ctx, value, 1, SFU_JWS_MAX_SIGNATURES, field);
}

static int parse_attempts(struct parse_ctx *ctx, const char *value, void *field) {
        return parse_uint(ctx, value, 1, MAX_ATTEMPTS, field);
}

static int parse_bool(struct parse_ctx *ctx, const char *value, void *field) {
        static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no", "false", "off", "0" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(value, yes[i]) == 0) {
                        *(bool *) field = true;
                        return 0;
                }
                if (strcasecmp(value, no[i]) == 0) {
                        *(bool *) field = false;
                        return 0;
                }
        }
        return invalid(ctx, "must be yes, no, true, false, on, off, 1 or 0");
}

static int parse_size_range(struct parse_ctx *ctx, const char *value, uint64_t min, uint64_t max,
                            const char *range, uint64_t *field) {
        uint64_t v;

        if (sfu_size_parse(value, &v) < 0)
                return invalid(ctx, "must be a size such as 512K, 64M or 4G");
        if (v < min || v > max)
                return invalid(ctx, "must be %s", range);
        *field = v;
        return 0;
}

static int parse_manifest_size(struct parse_ctx *ctx, const char *value, void *field) {
        /* A manifest is a JWS, and the JWS parser takes no more than this. */
        return parse_size_range(ctx, value, 1, SFU_JWS_MAX_SIZE, "from 1 byte to 4M", field);
}

static int parse_image_size(struct parse_ctx *ctx, const char *value, void *field) {
        return parse_size_range(ctx, value, 1, UINT64_MAX, "at least 1 byte", field);
}

static int parse_duration_min(struct parse_ctx *ctx, const char *value, uint64_t min, const char *range,
                              uint64_t *field) {
        uint64_t v;

        if (sfu_duration_parse(value, &v) < 0)
                return invalid(ctx, "must be a duration such as 30s, 15m, 6h or 1d");
        if (v < min)
                return invalid(ctx, "must be %s", range);
        *field = v;
        return 0;
}

static int parse_timeout(struct parse_ctx *ctx, const char *value, void *field) {
        return parse_duration_min(ctx, value, MIN_TIMEOUT_USEC, "at least 1s", field);
}

static int parse_interval(struct parse_ctx *ctx, const char *value, void *field) {
        return parse_duration_min(ctx, value, MIN_POLL_INTERVAL_USEC, "at least 1m", field);
}

static int parse_duration(struct parse_ctx *ctx, const char *value, void *field) {
        return parse_duration_min(ctx, value, 0, "", field);
}

static const char *const policy_names[] = {
        [SFU_CONFIG_POLL_CHECK] = "check",
        [SFU_CONFIG_POLL_STAGE] = "stage",
        [SFU_CONFIG_POLL_REBOOT] = "reboot",
};

static const char *const backend_names[] = {
        [SFU_CONFIG_BACKEND_GRUB] = "grub",
        [SFU_CONFIG_BACKEND_UBOOT] = "uboot",
        [SFU_CONFIG_BACKEND_CUSTOM] = "custom",
        [SFU_CONFIG_BACKEND_FILE] = "file",
};

const char *sfu_config_policy_name(enum sfu_config_policy p) {
        if ((unsigned) p >= ELEMENTSOF(policy_names))
                return NULL;
        return policy_names[p];
}

const char *sfu_config_backend_name(enum sfu_config_backend b) {
        if ((unsigned) b >= ELEMENTSOF(backend_names))
                return NULL;
        return backend_names[b];
}

static int parse_policy(struct parse_ctx *ctx, const char *value, void *field) {
        for (size_t i = 0; i < ELEMENTSOF(policy_names); i++)
                if (strcmp(value, policy_names[i]) == 0) {
                        *(enum sfu_config_policy *) field = (enum sfu_config_policy) i;
                        return 0;
                }
        return invalid(ctx, "must be check, stage or reboot");
}

static int parse_backend(struct parse_ctx *ctx, const char *value, void *field) {
        for (size_t i = 0; i < ELEMENTSOF(backend_names); i++)
                if (strcmp(value, backend_names[i]) == 0) {
                        *(enum sfu_config_backend *) field = (enum sfu_config_backend) i;
                        return 0;
                }
        return invalid(ctx, "must be grub, uboot, custom or file");
}

static int parse_proxy(struct parse_ctx *ctx, const char *value, void *field) {
        static const char *const schemes[] = {
                "http://", "https://", "socks4://", "socks4a://", "socks5://", "socks5h://",
        };
        struct sfu_config *c = ctx->config;
        enum sfu_config_proxy *proxy = field;
        const char *rest = NULL;

        if (value[0] == '\0' || strcmp(value, "none") == 0) {
                *proxy = SFU_CONFIG_PROXY_NONE;
                free(c->proxy_url);
                c->proxy_url = NULL;
                return 0;
        }
        if (strcmp(value, "env") == 0) {
                *proxy = SFU_CONFIG_PROXY_ENV;
                free(c->proxy_url);
                c->proxy_url = NULL;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(schemes) && !rest; i++)
                rest = startswith(value, schemes[i]);
        if (!rest)
                return invalid(ctx, "must be none, env or a proxy URL (http://, https://, socks4://, socks4a://, "
                               "socks5:// or socks5h://)");
        if (*rest == '\0' || *rest == '/')
                return invalid(ctx, "lacks a host name");
        if (!all_of(value, is_graph))
                return invalid(ctx, "may contain only printable ASCII characters without spaces");
        if (set_string(ctx, &c->proxy_url, value) < 0)
                return -ENOMEM;
        *proxy = SFU_CONFIG_PROXY_URL;
        return 0;
}

static int parse_bootname(struct parse_ctx *ctx, const char *value, void *field) {
        if (value[0] == '\0' || strlen(value) > SFU_CONFIG_MAX_BOOTNAME || !all_of(value, is_bootname_char))
                return invalid(ctx, "must be 1 to %d letters, digits, \"_\" or \"-\"", SFU_CONFIG_MAX_BOOTNAME);
        return set_string(ctx, field, value);
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
                if (fixed_sections[i] && strlen(fixed_sections[i]) == len && memcmp(fixed_sections[i], name, len) == 0) {
                        ctx->section = (enum section) i;
                        ctx->slot = -1;
                        snprintf(ctx->section_name, sizeof(ctx->section_name), "%s", fixed_sections[i]);
                        return 0;
                }

        if (len < 5 || memcmp(name, "slot.", 5) != 0)
                return fail_at(ctx, ctx->lineno, "unknown section [%.*s]", shown, name);
        rest = name + 5;
        if (parse_slot_section(rest, len - 5, &class_len, &index) < 0)
                return fail_at(ctx, ctx->lineno,
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
                return fail_at(ctx, ctx->lineno, "too many slots: at most %d [slot.CLASS.N] sections",
                               SFU_CONFIG_MAX_SLOTS);
        c->slots[c->n_slots].class_name = strndup(rest, class_len);
        if (!c->slots[c->n_slots].class_name)
                return fail_oom(ctx);
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
                fail_at(ctx, ctx->lineno, "inih line buffer too small");
                return NULL;
        }
        if ((size_t) num - 2 < cap)
                cap = (size_t) num - 2;
        if (content > cap) {
                fail_at(ctx, ctx->lineno, "line longer than %zu characters", cap);
                return NULL;
        }
        for (size_t i = 0; i < content; i++) {
                unsigned char ch = (unsigned char) line[i];
                if (ch == '\0') {
                        fail_at(ctx, ctx->lineno, "NUL byte in line");
                        return NULL;
                }
                if ((ch < ' ' && ch != '\t') || ch == 0x7f) {
                        fail_at(ctx, ctx->lineno, "control character 0x%02x in line", ch);
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
                                fail_at(ctx, ctx->lineno, "unexpected text after \"]\" in section header");
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
        for (size_t i = 0; i < N_KEYS; i++)
                if (key_table[i].section == section && strcmp(key_table[i].key, key) == 0) {
                        *ret_index = i;
                        return &key_table[i];
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
                fail_at(ctx, ctx->lineno, "key \"%.*s\" outside of any section", MAX_SHOWN, name);
                return 0;
        }
        def = find_key(ctx->section, name, &index);
        if (!def) {
                fail_at(ctx, ctx->lineno, "unknown key \"%.*s\" in section [%s]", MAX_SHOWN, name, ctx->section_name);
                return 0;
        }
        line = &ctx->key_line[ctx->slot < 0 ? 0 : 1 + ctx->slot][index];
        if (*line > 0) {
                fail_at(ctx, ctx->lineno, "duplicate key \"%s\" in section [%s] (first set on line %u)", name,
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
                return fail_at(ctx, lineno, "section header without \"]\"");
        return fail_at(ctx, lineno, "expected \"key = value\", \"[section]\" or a comment");
}

/* ------------------------------------------------------------ validation */

static int validate(struct parse_ctx *ctx) {
        struct sfu_config *c = ctx->config;
        const char *need = NULL, *need_key = NULL;

        if (!c->manufacturer)
                return fail_at(ctx, 0, "[device] manufacturer is required");
        if (!c->model)
                return fail_at(ctx, 0, "[device] model is required");
        if (c->n_slots == 0)
                return fail_at(ctx, 0, "no slots: at least one [slot.CLASS.N] section is required");

        for (size_t i = 0; i < c->n_slots; i++) {
                const struct sfu_config_slot *s = &c->slots[i];
                size_t in_class = 0;

                if (!s->device)
                        return fail_at(ctx, ctx->slot_line[i], "[slot.%s.%u] lacks the required key \"device\"",
                                       s->class_name, s->index);
                if (!s->bootname)
                        return fail_at(ctx, ctx->slot_line[i], "[slot.%s.%u] lacks the required key \"bootname\"",
                                       s->class_name, s->index);
                for (size_t j = 0; j < c->n_slots; j++)
                        if (strcmp(c->slots[j].class_name, s->class_name) == 0)
                                in_class++;
                if (in_class > SFU_CONFIG_MAX_SLOTS_PER_CLASS)
                        return fail_at(ctx, ctx->slot_line[i],
                                       "slot class \"%s\" has %zu slots; a class has 1 (single-copy) or 2 (A/B)",
                                       s->class_name, in_class);
                if (s->index >= in_class)
                        return fail_at(ctx, ctx->slot_line[i],
                                       "[slot.%s.%u]: the slots of class \"%s\" must be numbered from 0 without gaps",
                                       s->class_name, s->index, s->class_name);
        }

        for (size_t i = 0; i < c->n_slots; i++)
                for (size_t j = 0; j < i; j++) {
                        const struct sfu_config_slot *a = &c->slots[j], *b = &c->slots[i];

                        if (strcmp(a->device, b->device) == 0)
                                return fail_at(ctx, ctx->slot_line[i], "[slot.%s.%u] uses device %s of [slot.%s.%u]",
                                               b->class_name, b->index, b->device, a->class_name, a->index);
                        /* A bootname names one side (index) of every class. */
                        if (strcmp(a->bootname, b->bootname) == 0 && a->index != b->index)
                                return fail_at(ctx, ctx->slot_line[i],
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
                return fail_at(ctx, 0, "[bootloader] backend %s needs %s", sfu_config_backend_name(c->backend),
                               need_key ? need_key : "its key");
        return 0;
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
                { CFG(grubenv), "/boot/grub/grubenv" },
                { CFG(fw_env_config), SFU_SYSCONFDIR "/fw_env.config" },
                { CFG(script), "/usr/libexec/secfud/boot" },
                { CFG(bootenv_file), SFU_LOCALSTATEDIR "/lib/secfud/bootenv" },
                { CFG(state_dir), SFU_LOCALSTATEDIR "/lib/secfud" },
                { CFG(runtime_dir), "/run/secfud" },
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
                (void) fail_oom(ctx);
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
