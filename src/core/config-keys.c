/* SPDX-License-Identifier: MIT */
/* The keys of secfud.conf, one table {section, key, parser, offset}, and
 * the parsers of their values (secfud.conf(5) says what each takes). */
#include <stddef.h>
#include <strings.h>

#include "core/config-internal.h"
#include "core/jws.h"
#include "core/signed.h"
#include "core/units.h"
#include "core/url.h"

const char *const sfu_config_sections[_SECTION_MAX] = {
        [SECTION_DEVICE] = "device",
        [SECTION_DISCOVERY] = "discovery",
        [SECTION_SECURITY] = "security",
        [SECTION_NETWORK] = "network",
        [SECTION_POLL] = "poll",
        [SECTION_BOOTLOADER] = "bootloader",
        [SECTION_STORAGE] = "storage",
        [SECTION_DELTA] = "delta",
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
static int parse_source_slots(struct parse_ctx *ctx, const char *value, void *field);
static int parse_batch(struct parse_ctx *ctx, const char *value, void *field);



const struct key_def sfu_config_keys[] = {
        { SECTION_DEVICE, "manufacturer", parse_name, CFG(manufacturer) },
        { SECTION_DEVICE, "model", parse_name, CFG(model) },
        { SECTION_DEVICE, "version-file", parse_path, CFG(version_file) },
        { SECTION_DEVICE, "booted-slot", parse_booted_slot, CFG(booted_slot) },

        { SECTION_DISCOVERY, "domain", parse_domain, CFG(domain) },
        { SECTION_DISCOVERY, "local-url", parse_url_template, CFG(local_url) },
        { SECTION_DISCOVERY, "manufacturer-url", parse_url_template, CFG(manufacturer_url) },
        { SECTION_DISCOVERY, "connect-to", parse_connect_to, CFG(connect_to) },

        { SECTION_SECURITY, "keys", parse_path, CFG(keys) },
        { SECTION_SECURITY, "decryption-keys", parse_path_or_empty, CFG(decryption_keys) },
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

        { SECTION_DELTA, "enable", parse_bool, CFG(delta_enable) },
        { SECTION_DELTA, "fallback", parse_bool, CFG(delta_fallback) },
        { SECTION_DELTA, "source-slots", parse_source_slots, CFG(delta_source_slots) },
        { SECTION_DELTA, "batch", parse_batch, CFG(delta_batch) },
        { SECTION_DELTA, "shifted-chunks", parse_bool, CFG(delta_shifted) },

        { SECTION_SLOT, "device", parse_path, SLOT(device) },
        { SECTION_SLOT, "bootname", parse_bootname, SLOT(bootname) },
};
_Static_assert(ELEMENTSOF(sfu_config_keys) == CONFIG_N_KEYS, "CONFIG_N_KEYS counts the key table");


/* ------------------------------------------------------------ value parsers */

static int set_string(struct parse_ctx *ctx, char **field, const char *value) {
        char *copy = strdup(value);
        if (!copy)
                return sfu_config_fail_oom(ctx);
        free(*field);
        *field = copy;
        return 0;
}

static int parse_name(struct parse_ctx *ctx, const char *value, void *field) {
        size_t len = strlen(value);

        if (len == 0)
                return sfu_config_invalid(ctx, "must not be empty");
        if (len > SFU_CONFIG_MAX_NAME)
                return sfu_config_invalid(ctx, "longer than %d characters", SFU_CONFIG_MAX_NAME);
        if (!all_of(value, is_name_char) || strcmp(value, ".") == 0 || strcmp(value, "..") == 0)
                return sfu_config_invalid(ctx, "may contain only letters, digits, \".\", \"_\", \"~\" and \"-\" (it is used in URLs)");
        return set_string(ctx, field, value);
}

static int parse_path(struct parse_ctx *ctx, const char *value, void *field) {
        if (value[0] != '/')
                return sfu_config_invalid(ctx, "must be an absolute path");
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
                        return sfu_config_invalid(ctx, "the kernel command line key must be 1 to %d letters, digits, \".\", \"_\" or \"-\"",
                                       MAX_CMDLINE_KEY);
        } else if ((rest = startswith(value, "file:"))) {
                if (rest[0] != '/')
                        return sfu_config_invalid(ctx, "file: must be followed by an absolute path");
        } else
                return sfu_config_invalid(ctx, "must be cmdline:KEY or file:/ABSOLUTE/PATH");
        return set_string(ctx, field, value);
}

static int parse_domain(struct parse_ctx *ctx, const char *value, void *field) {
        if (strcmp(value, "auto") != 0 && strcmp(value, "none") != 0 && !domain_valid(value))
                return sfu_config_invalid(ctx, "must be \"auto\", \"none\" or a DNS name (labels of letters, digits and \"-\", "
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
                return sfu_config_invalid(ctx, "must start with http:// or https://");
        if (*rest == '\0' || *rest == '/')
                return sfu_config_invalid(ctx, "lacks a host name");
        for (const char *p = value; *p; p++) {
                if (!is_graph(*p))
                        return sfu_config_invalid(ctx, "may contain only printable ASCII characters without spaces");
                if (*p == '}')
                        return sfu_config_invalid(ctx, "has a \"}\" without \"{\"");
                if (*p == '{') {
                        const char *close = strchr(p, '}');
                        bool known = false;

                        if (!close)
                                return sfu_config_invalid(ctx, "has a \"{\" without \"}\"");
                        for (size_t i = 0; i < ELEMENTSOF(placeholders); i++)
                                if ((size_t) (close - p - 1) == strlen(placeholders[i]) &&
                                    strncmp(p + 1, placeholders[i], strlen(placeholders[i])) == 0)
                                        known = true;
                        if (!known)
                                return sfu_config_invalid(ctx, "unknown placeholder \"%.*s\" (known: {domain}, {manufacturer}, {model})",
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
                                return sfu_config_invalid(ctx, "may contain only printable ASCII characters");
                        if (*p == ',')
                                return sfu_config_invalid(ctx, "entries are separated by blanks, not commas");
                        if (*p == ':')
                                colons++;
                }
                if (colons < 3)
                        return sfu_config_invalid(ctx, "entry \"%.*s\" is not HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT",
                                       (int) (p - start), start);
                if (++entries > SFU_CONFIG_MAX_CONNECT_TO)
                        return sfu_config_invalid(ctx, "more than %d entries", SFU_CONFIG_MAX_CONNECT_TO);
                if (out > 0)
                        joined[out++] = ' ';
                if (out + (size_t) (p - start) >= sizeof(joined))
                        return sfu_config_invalid(ctx, "too long");
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
                return sfu_config_invalid(ctx, "%s", sfu_err_isset(&e) ? e.message : "not a list of JWS algorithms");
        if (mask == 0)
                return sfu_config_invalid(ctx, "must name at least one algorithm");
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
                        return sfu_config_invalid(ctx, "must be a list of jws, cose");
                memcpy(name, start, len);
                name[len] = 0;
                if (sfu_signed_family_from_name(name, &family) < 0)
                        return sfu_config_invalid(ctx, "unknown format \"%.*s\" (known: jws, cose)", (int) len, start);
                if (f.mask & SFU_SIGNED_FAMILY_MASK(family))
                        return sfu_config_invalid(ctx, "names %s twice", name);
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
        return sfu_config_invalid(ctx, "must be a whole number from %u to %u", min, max);
}

static int parse_min_signatures(struct parse_ctx *ctx, const char *value, void *field) {
        return parse_uint(ctx, value, 1, SFU_JWS_MAX_SIGNATURES, field);
}

static int parse_attempts(struct parse_ctx *ctx, const char *value, void *field) {
        return parse_uint(ctx, value, 1, MAX_ATTEMPTS, field);
}

static int parse_batch(struct parse_ctx *ctx, const char *value, void *field) {
        return parse_uint(ctx, value, 1, SFU_CONFIG_MAX_DELTA_BATCH, field);
}

/* "running", "none", or slot names CLASS.N (of [slot.CLASS.N]) separated
 * by spaces; the slots need not be declared yet. */
static int parse_source_slots(struct parse_ctx *ctx, const char *value, void *field) {
        size_t n = 0;

        if (strcmp(value, "running") == 0 || strcmp(value, "none") == 0)
                return set_string(ctx, field, value);
        for (const char *p = value; *p;) {
                size_t len = strcspn(p, " \t"), class_len = 0;
                unsigned index;
                if (len == 0) {
                        p++;
                        continue;
                }
                while (class_len < len && is_class_char(p[class_len]))
                        class_len++;
                if (class_len == 0 || class_len > SFU_CONFIG_MAX_CLASS_NAME || class_len + 1 >= len ||
                    p[class_len] != '.' || len - class_len - 1 > 2)
                        return sfu_config_invalid(ctx, "must be running, none, or slot names such as rootfs.0");
                index = 0;
                for (size_t i = class_len + 1; i < len; i++) {
                        if (p[i] < '0' || p[i] > '9')
                                return sfu_config_invalid(ctx, "must be running, none, or slot names such as rootfs.0");
                        index = index * 10 + (unsigned) (p[i] - '0');
                }
                if (index >= SFU_CONFIG_MAX_SLOTS)
                        return sfu_config_invalid(ctx, "slot numbers go from 0 to %d", SFU_CONFIG_MAX_SLOTS - 1);
                if (++n > SFU_CONFIG_MAX_SLOTS)
                        return sfu_config_invalid(ctx, "names more than %d slots", SFU_CONFIG_MAX_SLOTS);
                p += len;
        }
        if (n == 0)
                return sfu_config_invalid(ctx, "must be running, none, or slot names such as rootfs.0");
        return set_string(ctx, field, value);
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
        return sfu_config_invalid(ctx, "must be yes, no, true, false, on, off, 1 or 0");
}

static int parse_size_range(struct parse_ctx *ctx, const char *value, uint64_t min, uint64_t max,
                            const char *range, uint64_t *field) {
        uint64_t v;

        if (sfu_units_parse_size(value, &v) < 0)
                return sfu_config_invalid(ctx, "must be a size such as 512K, 64M or 4G");
        if (v < min || v > max)
                return sfu_config_invalid(ctx, "must be %s", range);
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

        if (sfu_units_parse_duration(value, &v) < 0)
                return sfu_config_invalid(ctx, "must be a duration such as 30s, 15m, 6h or 1d");
        if (v < min)
                return sfu_config_invalid(ctx, "must be %s", range);
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
        return sfu_config_invalid(ctx, "must be check, stage or reboot");
}

static int parse_backend(struct parse_ctx *ctx, const char *value, void *field) {
        for (size_t i = 0; i < ELEMENTSOF(backend_names); i++)
                if (strcmp(value, backend_names[i]) == 0) {
                        *(enum sfu_config_backend *) field = (enum sfu_config_backend) i;
                        return 0;
                }
        return sfu_config_invalid(ctx, "must be grub, uboot, custom or file");
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
                return sfu_config_invalid(ctx, "must be none, env or a proxy URL (http://, https://, socks4://, socks4a://, "
                               "socks5:// or socks5h://)");
        if (*rest == '\0' || *rest == '/')
                return sfu_config_invalid(ctx, "lacks a host name");
        if (!all_of(value, is_graph))
                return sfu_config_invalid(ctx, "may contain only printable ASCII characters without spaces");
        if (set_string(ctx, &c->proxy_url, value) < 0)
                return -ENOMEM;
        *proxy = SFU_CONFIG_PROXY_URL;
        return 0;
}

static int parse_bootname(struct parse_ctx *ctx, const char *value, void *field) {
        if (value[0] == '\0' || strlen(value) > SFU_CONFIG_MAX_BOOTNAME || !all_of(value, is_bootname_char))
                return sfu_config_invalid(ctx, "must be 1 to %d letters, digits, \"_\" or \"-\"", SFU_CONFIG_MAX_BOOTNAME);
        return set_string(ctx, field, value);
}

