/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/config.h"
#include "core/jws.h"
#include "tap.h"

#define USEC UINT64_C(1000000)

/* Nine lines that make a valid file; snippets appended after it start on
 * line 10. */
#define BASE                            \
        "[device]\n"                    \
        "manufacturer = example.com\n"  \
        "model = gw100\n"               \
        "[slot.rootfs.0]\n"             \
        "device = /dev/sda2\n"          \
        "bootname = A\n"                \
        "[slot.rootfs.1]\n"             \
        "device = /dev/sda3\n"          \
        "bootname = B\n"

static struct sfu_config *sentinel(void) {
        return (struct sfu_config *) (uintptr_t) 0x1;
}

static struct sfu_config *load_text(const char *text, struct sfu_err *err) {
        struct sfu_config *c = sentinel();
        int r = sfu_config_load_buffer("test.conf", text, strlen(text), &c, err);
        if (r < 0) {
                if (c != sentinel())
                        tap_diag("ret written on failure");
                return NULL;
        }
        return c;
}

/* The buffer must be refused with exactly this message, an error code
 * and without touching *ret. */
static void expect_error(const char *text, const char *want, const char *what) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_config *c = sentinel();
        int r = sfu_config_load_buffer("test.conf", text, strlen(text), &c, &err);

        if (r >= 0) {
                ok(false, "%s: accepted, expected \"%s\"", what, want);
                sfu_config_free(c);
                return;
        }
        ok(c == sentinel() && r == -err.errnum && err.code != SFU_ERR_NONE && strcmp(err.message, want) == 0,
           "%s (got \"%s\" r=%d, want \"%s\")", what, err.message, r, want);
}

/* Like expect_error, but only the start of the message is ours. */
static void expect_error_prefix(const char *text, const char *prefix, const char *what) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_config *c = sentinel();
        int r = sfu_config_load_buffer("test.conf", text, strlen(text), &c, &err);

        if (r >= 0) {
                ok(false, "%s: accepted", what);
                sfu_config_free(c);
                return;
        }
        ok(c == sentinel() && strncmp(err.message, prefix, strlen(prefix)) == 0, "%s (got \"%s\")", what,
           err.message);
}

static void expect_ok(const char *text, const char *what) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_config *c = load_text(text, &err);
        ok(c != NULL, "%s%s%s", what, c ? "" : ": ", c ? "" : err.message);
        sfu_config_free(c);
}

static char *with_base(const char *snippet) {
        char *s = NULL;
        if (asprintf(&s, "%s%s", BASE, snippet) < 0)
                abort();
        return s;
}

static void expect_base_error(const char *snippet, const char *want, const char *what) {
        char *text = with_base(snippet);
        expect_error(text, want, what);
        free(text);
}

static void expect_base_ok(const char *snippet, const char *what) {
        char *text = with_base(snippet);
        expect_ok(text, what);
        free(text);
}

/* Loads BASE + snippet, which must be valid. */
static struct sfu_config *load_base(const char *snippet) {
        struct sfu_err err = SFU_ERR_INIT;
        char *text = with_base(snippet);
        struct sfu_config *c = load_text(text, &err);
        if (!c)
                tap_diag("unexpected error: %s", err.message);
        free(text);
        return c;
}

/* The keys whose value is one of a few names: each name, the value it
 * gives, and the name of that value back. */
static int policy_of(const struct sfu_config *c) {
        return (int) c->policy;
}
static const char *policy_name(int value) {
        return sfu_config_policy_name((enum sfu_config_policy) value);
}
static int backend_of(const struct sfu_config *c) {
        return (int) c->backend;
}
static const char *backend_name(int value) {
        return sfu_config_backend_name((enum sfu_config_backend) value);
}
static const struct {
        const char *section, *key, *text;
        int want;
        int (*value_of)(const struct sfu_config *c);
        const char *(*name_of)(int value);
} enum_values[] = {
        {"poll", "policy", "check", SFU_CONFIG_POLL_CHECK, policy_of, policy_name},
        {"poll", "policy", "stage", SFU_CONFIG_POLL_STAGE, policy_of, policy_name},
        {"poll", "policy", "reboot", SFU_CONFIG_POLL_REBOOT, policy_of, policy_name},
        {"bootloader", "backend", "grub", SFU_CONFIG_BACKEND_GRUB, backend_of, backend_name},
        {"bootloader", "backend", "uboot", SFU_CONFIG_BACKEND_UBOOT, backend_of, backend_name},
        {"bootloader", "backend", "custom", SFU_CONFIG_BACKEND_CUSTOM, backend_of, backend_name},
        {"bootloader", "backend", "file", SFU_CONFIG_BACKEND_FILE, backend_of, backend_name},
};

static void test_defaults(void) {
        struct sfu_config *c = NULL;

        ok(sfu_config_new_defaults(&c) == 0 && c, "defaults: created");
        if (!c)
                return;
        ok(!c->manufacturer && !c->model && c->n_slots == 0, "defaults: no manufacturer, model or slots");
        is_str(c->version_file, SFU_SYSCONFDIR "/secfu-version", "defaults: version-file");
        is_str(c->booted_slot, "cmdline:secfu.slot", "defaults: booted-slot");
        is_str(c->domain, "auto", "defaults: domain");
        is_str(c->local_url, "http://_firmware.{domain}/.well-known/firmware/{manufacturer}/{model}/manifest.json",
               "defaults: local-url");
        is_str(c->manufacturer_url,
               "https://firmware.example.com/.well-known/firmware/{manufacturer}/{model}/manifest.json",
               "defaults: manufacturer-url");
        is_str(c->connect_to, "", "defaults: connect-to");
        is_str(c->keys, SFU_SYSCONFDIR "/secfud/keys.d", "defaults: keys");
        is_int(c->algorithms, SFU_ALG_MASK_ALL, "defaults: algorithms");
        is_int(c->min_signatures, 1, "defaults: min-signatures");
        ok(!c->allow_downgrade, "defaults: allow-downgrade no");
        is_int(c->max_manifest_size, 1024 * 1024, "defaults: max-manifest-size");
        is_int(c->max_image_size, UINT64_C(4) * 1024 * 1024 * 1024, "defaults: max-image-size");
        is_str(c->ca_file, "", "defaults: ca-file");
        ok(c->proxy == SFU_CONFIG_PROXY_NONE && !c->proxy_url, "defaults: proxy none");
        is_int(c->connect_timeout_usec, 30 * USEC, "defaults: connect-timeout");
        is_int(c->low_speed_timeout_usec, 60 * USEC, "defaults: low-speed-timeout");
        is_int(c->interval_usec, 6 * 3600 * USEC, "defaults: interval");
        is_int(c->jitter_usec, 30 * 60 * USEC, "defaults: jitter");
        is_int(c->policy, SFU_CONFIG_POLL_STAGE, "defaults: policy");
        is_int(c->backend, SFU_CONFIG_BACKEND_GRUB, "defaults: backend");
        is_str(c->grubenv, "/boot/grub/grubenv", "defaults: grubenv");
        is_str(c->fw_env_config, SFU_SYSCONFDIR "/fw_env.config", "defaults: fw-env-config");
        is_str(c->script, "/usr/libexec/secfud/boot", "defaults: script");
        is_str(c->bootenv_file, SFU_LOCALSTATEDIR "/lib/secfud/bootenv", "defaults: file");
        is_int(c->attempts, 3, "defaults: attempts");
        is_str(c->state_dir, SFU_LOCALSTATEDIR "/lib/secfud", "defaults: state-dir");
        is_str(c->runtime_dir, "/run/secfud", "defaults: runtime-dir");
        ok(c->delta_enable && c->delta_fallback && c->delta_batch == 32 && !c->delta_shifted &&
                   sfu_streq(c->delta_source_slots, "running"),
           "defaults: [delta] enable, fallback, batch 32, source-slots running");
        sfu_config_free(c);

        /* A minimal file leaves every default in place. */
        c = load_base("");
        ok(c && c->attempts == 3 && c->policy == SFU_CONFIG_POLL_STAGE && sfu_streq(c->domain, "auto") &&
                   c->interval_usec == 6 * 3600 * USEC,
           "minimal file keeps the defaults");
        sfu_config_free(c);
}

static void test_design_example(void) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_config *c = NULL;
        const char *path = tap_data("config/design-example.conf");

        ok(sfu_config_load(path, &c, &err) == 0 && c, "DESIGN example parses (%s)", err.message);
        if (!c)
                return;
        is_str(c->path, path, "example: path kept");
        is_str(c->manufacturer, "example.com", "example: manufacturer (comment stripped)");
        is_str(c->model, "gw100", "example: model");
        is_str(c->version_file, "/etc/secfu-version", "example: version-file");
        is_str(c->booted_slot, "cmdline:secfu.slot", "example: booted-slot");
        is_str(c->domain, "auto", "example: domain");
        is_str(c->manufacturer_url,
               "https://firmware.example.com/.well-known/firmware/{manufacturer}/{model}/manifest.json",
               "example: manufacturer-url");
        is_str(c->connect_to, "", "example: connect-to empty (only a comment)");
        is_int(c->algorithms, SFU_ALG_MASK_ALL & ~SFU_ALG_MASK(SFU_ALG_HSS_LMS), "example: all ten JOSE algorithms");
        is_str(c->ca_file, "", "example: ca-file empty");
        ok(c->proxy == SFU_CONFIG_PROXY_NONE, "example: proxy none");
        is_int(c->low_speed_timeout_usec, 60 * USEC, "example: low-speed-timeout");
        is_int(c->jitter_usec, 1800 * USEC, "example: jitter");
        is_int(c->policy, SFU_CONFIG_POLL_STAGE, "example: policy");
        is_int(c->backend, SFU_CONFIG_BACKEND_GRUB, "example: backend");
        is_str(c->bootenv_file, "/var/lib/secfud/bootenv", "example: file");
        is_int(c->n_slots, 2, "example: two slots");
        if (c->n_slots == 2) {
                ok(sfu_streq(c->slots[0].class_name, "rootfs") && c->slots[0].index == 0 &&
                           sfu_streq(c->slots[0].device, "/dev/mmcblk0p2") && sfu_streq(c->slots[0].bootname, "A"),
                   "example: slot rootfs.0");
                ok(sfu_streq(c->slots[1].class_name, "rootfs") && c->slots[1].index == 1 &&
                           sfu_streq(c->slots[1].device, "/dev/mmcblk0p3") && sfu_streq(c->slots[1].bootname, "B"),
                   "example: slot rootfs.1");
        }
        is_str(c->state_dir, "/var/lib/secfud", "example: state-dir");
        sfu_config_free(c);
}

static void test_nondefault(void) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_config *c = NULL;

        ok(sfu_config_load(tap_data("config/nondefault.conf"), &c, &err) == 0 && c, "every key set (%s)",
           err.message);
        if (!c)
                return;
        is_str(c->model, "router-7_x", "nondefault: model");
        is_str(c->booted_slot, "file:/run/boot-slot", "nondefault: booted-slot file:");
        is_str(c->domain, "corp.example.net", "nondefault: fixed domain");
        is_str(c->local_url, "https://fw.{domain}/{manufacturer}/{model}.jws", "nondefault: local-url");
        is_str(c->connect_to, "updates.acme.example:443:127.0.0.1:8443 ::fallback.example:443",
               "nondefault: connect-to entries joined by one space");
        is_int(c->algorithms, SFU_ALG_MASK(SFU_ALG_ES256) | SFU_ALG_MASK(SFU_ALG_EDDSA),
               "nondefault: algorithms mask");
        is_int(c->min_signatures, 2, "nondefault: min-signatures");
        ok(c->allow_downgrade, "nondefault: allow-downgrade");
        is_int(c->max_manifest_size, 512 * 1024, "nondefault: max-manifest-size 512K");
        is_int(c->max_image_size, 64 * 1024 * 1024, "nondefault: max-image-size 64M");
        is_str(c->ca_file, "/etc/ssl/private-ca.pem", "nondefault: ca-file");
        ok(c->proxy == SFU_CONFIG_PROXY_URL && sfu_streq(c->proxy_url, "socks5h://proxy.corp.example:1080"),
           "nondefault: proxy URL");
        is_int(c->connect_timeout_usec, 15 * 60 * USEC, "nondefault: connect-timeout 15m");
        is_int(c->low_speed_timeout_usec, 86400 * USEC, "nondefault: low-speed-timeout 1d");
        is_int(c->interval_usec, 86400 * USEC, "nondefault: interval 1d");
        is_int(c->jitter_usec, 0, "nondefault: jitter 0");
        is_int(c->policy, SFU_CONFIG_POLL_REBOOT, "nondefault: policy reboot");
        is_int(c->backend, SFU_CONFIG_BACKEND_FILE, "nondefault: backend file");
        is_str(c->bootenv_file, "/tmp/bootenv", "nondefault: file");
        is_str(c->script, "/usr/local/bin/boot-switch", "nondefault: script");
        is_int(c->attempts, 10, "nondefault: attempts");
        is_str(c->runtime_dir, "/run/secfud2", "nondefault: runtime-dir");
        is_int(c->n_slots, 5, "nondefault: five slots");
        if (c->n_slots == 5) {
                /* sorted by class, then index */
                static const char *const want[][3] = {
                        { "appfs", "/srv/app0.img", "system0" },  { "appfs", "/srv/app1.img", "system1" },
                        { "recovery", "/dev/sdb4", "R" },         { "rootfs", "/dev/sdb2", "system0" },
                        { "rootfs", "/dev/sdb3", "system1" },
                };
                static const unsigned want_index[] = { 0, 1, 0, 0, 1 };
                bool all = true;
                for (size_t i = 0; i < 5; i++)
                        all = all && sfu_streq(c->slots[i].class_name, want[i][0]) &&
                              sfu_streq(c->slots[i].device, want[i][1]) && sfu_streq(c->slots[i].bootname, want[i][2]) &&
                              c->slots[i].index == want_index[i];
                ok(all, "nondefault: slots sorted by class then index, single-copy class kept");
        }
        sfu_config_free(c);
}

static void test_shipped_config(void) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_config *c = NULL;
        const char *path = SFU_TEST_DATA "/../../etc/secfud.conf";

        ok(sfu_config_load(path, &c, &err) == 0 && c, "etc/secfud.conf parses as shipped (%s)", err.message);
        if (c)
                ok(c->n_slots >= 1 && c->manufacturer && c->model, "etc/secfud.conf has example device and slots");
        sfu_config_free(c);
}

static void test_syntax(void) {
        struct sfu_config *c;

        expect_error("[device]\nmanufacturer = x\njunk line\n", "test.conf:3: expected \"key = value\", \"[section]\" or a comment",
                     "line without =");
        expect_error("[device\nmanufacturer = x\n", "test.conf:1: section header without \"]\"", "section without ]");
        expect_error("[device] model = x\n", "test.conf:1: unexpected text after \"]\" in section header",
                     "text after ]");
        expect_ok(BASE "[storage] # comment\n[poll] ; comment\n", "comment after section header");
        expect_error("model = gw100\n", "test.conf:1: key \"model\" outside of any section", "key before any section");
        /* The earliest error wins even when inih only reports it at the end. */
        expect_error("[device]\nbroken\nmodel = a\nmodel = b\n",
                     "test.conf:2: expected \"key = value\", \"[section]\" or a comment", "first error wins");
        expect_base_error("[device]\nfoo = 1\n", "test.conf:11: unknown key \"foo\" in section [device]",
                          "unknown key");
        expect_base_error("[slot.rootfs.1]\nsize = 1\n", "test.conf:11: unknown key \"size\" in section [slot.rootfs.1]",
                          "unknown key in slot section");
        expect_base_error("[devices]\n", "test.conf:10: unknown section [devices]", "unknown section");
        expect_base_error("[bogus]\n", "test.conf:10: unknown section [bogus]", "unknown empty section");
        expect_base_error("[device]\nmodel = other\n",
                          "test.conf:11: duplicate key \"model\" in section [device] (first set on line 3)",
                          "duplicate key in a repeated section");
        expect_base_error("[poll]\njitter = 1m\njitter = 2m\n",
                          "test.conf:12: duplicate key \"jitter\" in section [poll] (first set on line 11)",
                          "duplicate key");
        expect_error_prefix("[device]\nmanufacturer = x\nmanufacturer = x\n", "test.conf:3: duplicate key",
                            "duplicate key with the same value");

        /* Comments */
        c = load_base("[device]\nversion-file = /etc/v#1   # comment\n[network]\nca-file = /etc/ca.pem ; comment\n"
                      "[security]\n# min-signatures = 5\n    ; also a comment\n");
        ok(c && sfu_streq(c->version_file, "/etc/v#1"), "\"#\" inside a value is kept, \" #\" starts a comment");
        ok(c && sfu_streq(c->ca_file, "/etc/ca.pem"), "\" ;\" starts a comment");
        ok(!c || c->min_signatures == 1, "commented-out key ignored");
        sfu_config_free(c);
        expect_base_error("[security]\nmin-signatures = 2#\n",
                          "test.conf:11: invalid min-signatures \"2#\": must be a whole number from 1 to 16",
                          "\"#\" without a blank before it is part of the value");

        /* Indentation means nothing; there are no continuation lines. */
        c = load_base("[poll]\n    interval = 1h\n\tjitter = 5m\n");
        ok(c && c->interval_usec == 3600 * USEC && c->jitter_usec == 300 * USEC, "indented keys are plain keys");
        sfu_config_free(c);
        expect_base_error("[storage]\nstate-dir = /var/lib/a\n    /more\n",
                          "test.conf:12: expected \"key = value\", \"[section]\" or a comment",
                          "indented continuation line refused");
        expect_base_error("[bootloader]\nscript = /a\n    attempts = 2\n    attempts = 3\n",
                          "test.conf:13: duplicate key \"attempts\" in section [bootloader] (first set on line 12)",
                          "indented key is not a continuation of the previous key");

        /* Bytes */
        {
                char text[] = BASE "[poll]\npolicy = check\0\n";
                struct sfu_err err = SFU_ERR_INIT;
                struct sfu_config *x = sentinel();
                int r = sfu_config_load_buffer("test.conf", text, sizeof(text) - 1, &x, &err);
                ok(r < 0 && x == sentinel() && strcmp(err.message, "test.conf:11: NUL byte in line") == 0,
                   "NUL byte refused (%s)", err.message);
        }
        expect_base_error("[poll]\npolicy = check\x1b\n", "test.conf:11: control character 0x1b in line",
                          "control character refused");
        expect_base_error("[poll]\npolicy = ch\reck\n", "test.conf:11: control character 0x0d in line",
                          "lone CR refused");
        {
                char line[300], *text;
                memset(line, 'x', sizeof(line));
                memcpy(line, "# ", 2);
                line[SFU_CONFIG_MAX_LINE] = '\0';
                if (asprintf(&text, BASE "%s\n", line) < 0)
                        abort();
                expect_ok(text, "a line of exactly SFU_CONFIG_MAX_LINE characters");
                free(text);
                line[SFU_CONFIG_MAX_LINE] = 'x';
                line[SFU_CONFIG_MAX_LINE + 1] = '\0';
                if (asprintf(&text, BASE "%s\n", line) < 0)
                        abort();
                expect_error(text, "test.conf:10: line longer than 198 characters", "over-long line refused");
                free(text);
        }

        c = NULL;
        {
                struct sfu_err err = SFU_ERR_INIT;
                ok(sfu_config_load(tap_data("config/bom-crlf.conf"), &c, &err) == 0 && c && c->n_slots == 1 &&
                           sfu_streq(c->model, "gw100") && sfu_streq(c->slots[0].device, "/dev/vda2"),
                   "UTF-8 BOM, CRLF and indentation (%s)", err.message);
                sfu_config_free(c);
        }
        expect_ok(BASE, "BASE alone");
        {
                /* no newline at the end of the last line */
                const char *text = BASE "[poll]\npolicy = check";
                struct sfu_config *x = load_text(text, NULL);
                ok(x && x->policy == SFU_CONFIG_POLL_CHECK, "last line without newline");
                sfu_config_free(x);
        }
        expect_ok(BASE "\n\n   \n", "blank lines");
        expect_ok(BASE "[poll]\npolicy: check\n", "inih also accepts \":\" between key and value");
}

static void test_values(void) {
        struct sfu_config *c;

        /* booleans */
        static const char *const yes[] = { "yes", "true", "on", "1", "YES", "True" };
        static const char *const no[] = { "no", "false", "off", "0", "No" };
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                char snippet[64];
                snprintf(snippet, sizeof(snippet), "[security]\nallow-downgrade = %s\n", yes[i]);
                c = load_base(snippet);
                ok(c && c->allow_downgrade, "boolean \"%s\" is true", yes[i]);
                sfu_config_free(c);
        }
        for (size_t i = 0; i < ELEMENTSOF(no); i++) {
                char snippet[64];
                snprintf(snippet, sizeof(snippet), "[security]\nallow-downgrade = %s\n", no[i]);
                c = load_base(snippet);
                ok(c && !c->allow_downgrade, "boolean \"%s\" is false", no[i]);
                sfu_config_free(c);
        }
        expect_base_error("[security]\nallow-downgrade = maybe\n",
                          "test.conf:11: invalid allow-downgrade \"maybe\": must be yes, no, true, false, on, off, 1 or 0",
                          "bad boolean");
        expect_base_error("[security]\nallow-downgrade =\n",
                          "test.conf:11: invalid allow-downgrade \"\": must be yes, no, true, false, on, off, 1 or 0",
                          "empty boolean");

        /* numbers */
        expect_base_error("[security]\nmin-signatures = 0\n",
                          "test.conf:11: invalid min-signatures \"0\": must be a whole number from 1 to 16",
                          "min-signatures 0");
        expect_base_error("[security]\nmin-signatures = 17\n",
                          "test.conf:11: invalid min-signatures \"17\": must be a whole number from 1 to 16",
                          "min-signatures 17");
        expect_base_error("[security]\nmin-signatures = -1\n",
                          "test.conf:11: invalid min-signatures \"-1\": must be a whole number from 1 to 16",
                          "min-signatures negative");
        expect_base_error("[security]\nmin-signatures = 99999999999999999999\n",
                          "test.conf:11: invalid min-signatures \"99999999999999999999\": must be a whole number from 1 to 16",
                          "min-signatures overflow");
        c = load_base("[security]\nmin-signatures = 16\n[bootloader]\nattempts = 1\n");
        ok(c && c->min_signatures == 16 && c->attempts == 1, "min-signatures 16 and attempts 1 accepted");
        sfu_config_free(c);
        expect_base_error("[bootloader]\nattempts = 11\n",
                          "test.conf:11: invalid attempts \"11\": must be a whole number from 1 to 10", "attempts 11");
        expect_base_error("[bootloader]\nattempts = 0\n",
                          "test.conf:11: invalid attempts \"0\": must be a whole number from 1 to 10", "attempts 0");

        /* durations and sizes */
        c = load_base("[network]\nconnect-timeout = 1s\nlow-speed-timeout = 2h\n[poll]\ninterval = 1m\njitter = 45s\n");
        ok(c && c->connect_timeout_usec == USEC && c->low_speed_timeout_usec == 7200 * USEC &&
                   c->interval_usec == 60 * USEC && c->jitter_usec == 45 * USEC,
           "durations s, h, m");
        sfu_config_free(c);
        expect_base_error("[poll]\ninterval = 30s\n", "test.conf:11: invalid interval \"30s\": must be at least 1m",
                          "interval below one minute");
        expect_base_error("[discovery]\nconnect-to = a.test:80:127.0.0.1:8080,b.test:80:127.0.0.1:8081\n",
                          "test.conf:11: invalid connect-to \"a.test:80:127.0.0.1:8080,b.test:80:127.0.0.1:8081\": "
                          "entries are separated by blanks, not commas",
                          "connect-to entries joined by a comma");
        expect_base_error("[network]\nconnect-timeout = 0\n",
                          "test.conf:11: invalid connect-timeout \"0\": must be at least 1s", "timeout 0");
        expect_base_error("[poll]\njitter = 5x\n",
                          "test.conf:11: invalid jitter \"5x\": must be a duration such as 30s, 15m, 6h or 1d",
                          "bad duration");
        expect_base_error("[poll]\njitter =\n",
                          "test.conf:11: invalid jitter \"\": must be a duration such as 30s, 15m, 6h or 1d",
                          "empty duration");
        c = load_base("[security]\nmax-manifest-size = 4M\nmax-image-size = 512\n");
        ok(c && c->max_manifest_size == 4 * 1024 * 1024 && c->max_image_size == 512, "sizes 4M and 512");
        sfu_config_free(c);
        c = load_base("[security]\nmax-image-size = 16G\n");
        ok(c && c->max_image_size == UINT64_C(16) << 30, "size 16G");
        sfu_config_free(c);
        expect_base_error("[security]\nmax-manifest-size = 5M\n",
                          "test.conf:11: invalid max-manifest-size \"5M\": must be from 1 byte to 4M",
                          "manifest size above the JWS limit");
        expect_base_error("[security]\nmax-image-size = 0\n",
                          "test.conf:11: invalid max-image-size \"0\": must be at least 1 byte", "image size 0");
        expect_base_error("[security]\nmax-image-size = 1Q\n",
                          "test.conf:11: invalid max-image-size \"1Q\": must be a size such as 512K, 64M or 4G",
                          "bad size");

        /* enumerations */
        for (size_t i = 0; i < ELEMENTSOF(enum_values); i++) {
                char snippet[64];
                snprintf(snippet, sizeof(snippet), "[%s]\n%s = %s\n", enum_values[i].section, enum_values[i].key,
                         enum_values[i].text);
                c = load_base(snippet);
                ok(c && enum_values[i].value_of(c) == enum_values[i].want &&
                           sfu_streq(enum_values[i].name_of(enum_values[i].want), enum_values[i].text),
                   "%s %s", enum_values[i].key, enum_values[i].text);
                sfu_config_free(c);
        }
        expect_base_error("[poll]\npolicy = Stage\n", "test.conf:11: invalid policy \"Stage\": must be check, stage or reboot",
                          "policy names are lower case");
        expect_base_error("[bootloader]\nbackend = barebox\n",
                          "test.conf:11: invalid backend \"barebox\": must be grub, uboot, custom or file", "bad backend");
        ok(sfu_config_policy_name((enum sfu_config_policy) 7) == NULL &&
                   sfu_config_backend_name((enum sfu_config_backend) 9) == NULL,
           "names of out-of-range values are NULL");

        /* proxy */
        c = load_base("[network]\nproxy = env\n");
        ok(c && c->proxy == SFU_CONFIG_PROXY_ENV && !c->proxy_url, "proxy env");
        sfu_config_free(c);
        c = load_base("[network]\nproxy = none\n");
        ok(c && c->proxy == SFU_CONFIG_PROXY_NONE && !c->proxy_url, "proxy none");
        sfu_config_free(c);
        c = load_base("[network]\nproxy = http://user:pw@proxy.example:3128/\n");
        ok(c && c->proxy == SFU_CONFIG_PROXY_URL && sfu_streq(c->proxy_url, "http://user:pw@proxy.example:3128/"),
           "proxy http URL");
        sfu_config_free(c);
        expect_base_error("[network]\nproxy = ftp://proxy\n",
                          "test.conf:11: invalid proxy \"ftp://proxy\": must be none, env or a proxy URL (http://, "
                          "https://, socks4://, socks4a://, socks5:// or socks5h://)",
                          "proxy with a bad scheme");
        expect_base_error("[network]\nproxy = https://\n", "test.conf:11: invalid proxy \"https://\": lacks a host name",
                          "proxy without host");

        /* paths */
        expect_base_error("[storage]\nstate-dir = var/lib/secfud\n",
                          "test.conf:11: invalid state-dir \"var/lib/secfud\": must be an absolute path",
                          "relative path refused");
        expect_base_error("[security]\nkeys =\n", "test.conf:11: invalid keys \"\": must be an absolute path",
                          "empty path refused");
        expect_base_error("[network]\nca-file = ca.pem\n", "test.conf:11: invalid ca-file \"ca.pem\": must be an absolute path",
                          "relative ca-file refused");
        c = load_base("[network]\nca-file =\n");
        ok(c && sfu_streq(c->ca_file, ""), "empty ca-file means the system's");
        sfu_config_free(c);

        /* booted-slot */
        expect_base_error("[device]\nbooted-slot = efivar:X\n",
                          "test.conf:11: invalid booted-slot \"efivar:X\": must be cmdline:KEY or file:/ABSOLUTE/PATH",
                          "booted-slot of an unknown kind");
        expect_base_error("[device]\nbooted-slot = file:run/slot\n",
                          "test.conf:11: invalid booted-slot \"file:run/slot\": file: must be followed by an absolute path",
                          "booted-slot file: relative");
        expect_base_error("[device]\nbooted-slot = cmdline:\n",
                          "test.conf:11: invalid booted-slot \"cmdline:\": the kernel command line key must be 1 to 64 "
                          "letters, digits, \".\", \"_\" or \"-\"",
                          "booted-slot cmdline: without key");
        expect_base_error("[device]\nbooted-slot = cmdline:a=b\n",
                          "test.conf:11: invalid booted-slot \"cmdline:a=b\": the kernel command line key must be 1 to 64 "
                          "letters, digits, \".\", \"_\" or \"-\"",
                          "booted-slot cmdline key with =");
        c = load_base("[device]\nbooted-slot = cmdline:rauc.slot\n");
        ok(c && sfu_streq(c->booted_slot, "cmdline:rauc.slot"), "booted-slot cmdline:rauc.slot");
        sfu_config_free(c);

        /* manufacturer / model */
        expect_error("[device]\nmanufacturer = Acme Corp\n",
                     "test.conf:2: invalid manufacturer \"Acme Corp\": may contain only letters, digits, \".\", \"_\", "
                     "\"~\" and \"-\" (it is used in URLs)",
                     "manufacturer with a space");
        expect_error("[device]\nmodel = ..\n",
                     "test.conf:2: invalid model \"..\": may contain only letters, digits, \".\", \"_\", \"~\" and \"-\" "
                     "(it is used in URLs)",
                     "model \"..\"");
        expect_error("[device]\nmodel =\n", "test.conf:2: invalid model \"\": must not be empty", "empty model");

        /* domain */
        c = load_base("[discovery]\ndomain = Lan-1.example.ORG\n");
        ok(c && sfu_streq(c->domain, "Lan-1.example.ORG"), "fixed domain");
        sfu_config_free(c);
        c = load_base("[discovery]\ndomain = none\n");
        ok(c && sfu_streq(c->domain, "none"), "domain = none: no local server");
        sfu_config_free(c);
        c = load_base("");
        ok(c && c->retry_after_max_usec == 300000000u && c->job_timeout_usec == UINT64_C(21600000000) &&
                   c->clock_skew_usec == 86400000000u,
           "defaults: retry-after-max 5m, job-timeout 6h, clock-skew 1d");
        sfu_config_free(c);
        c = load_base("[network]\nretry-after-max = 1h\njob-timeout = 30m\n[security]\nclock-skew = 0\n");
        ok(c && c->retry_after_max_usec == 3600000000u && c->job_timeout_usec == 1800000000u && c->clock_skew_usec == 0,
           "retry-after-max, job-timeout, clock-skew set");
        sfu_config_free(c);
        {
                static const char *const bad[] = {
                        "-lan.example", "lan-.example", "a..b", "under_score.example", ".example", "example.",
                        "10.0.0.1", "xn--ü.example",
                };
                for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                        char snippet[128], prefix[128];
                        snprintf(snippet, sizeof(snippet), "[discovery]\ndomain = %s\n", bad[i]);
                        snprintf(prefix, sizeof(prefix), "test.conf:11: invalid domain \"%s\": must be \"auto\", \"none\" or a DNS name",
                                 bad[i]);
                        char *text = with_base(snippet);
                        expect_error_prefix(text, prefix, bad[i]);
                        free(text);
                }
                char label[70], *snippet;
                memset(label, 'a', 64);
                label[64] = '\0';
                if (asprintf(&snippet, "[discovery]\ndomain = %s.example\n", label) < 0)
                        abort();
                char *text = with_base(snippet);
                expect_error_prefix(text, "test.conf:11: invalid domain", "domain label of 64 characters");
                free(text);
                free(snippet);
                label[63] = '\0';
                if (asprintf(&snippet, "[discovery]\ndomain = %s.%s.x\n", label, label) < 0)
                        abort();
                expect_base_ok(snippet, "domain with 63 character labels");
                free(snippet);
                /* A name near 253 characters does not fit in a line. */
                if (asprintf(&snippet, "[discovery]\ndomain = %s.%s.%s\n", label, label, label) < 0)
                        abort();
                text = with_base(snippet);
                expect_error(text, "test.conf:11: line longer than 198 characters", "domain of 191 characters");
                free(text);
                free(snippet);
        }

        /* URL templates */
        expect_base_error("[discovery]\nlocal-url = ftp://x/{model}\n",
                          "test.conf:11: invalid local-url \"ftp://x/{model}\": must start with http:// or https://",
                          "template with ftp scheme");
        expect_base_error("[discovery]\nlocal-url = HTTP://x/\n",
                          "test.conf:11: invalid local-url \"HTTP://x/\": must start with http:// or https://",
                          "template scheme must be lower case");
        expect_base_error("[discovery]\nmanufacturer-url = https://x/{serial}\n",
                          "test.conf:11: invalid manufacturer-url \"https://x/{serial}\": unknown placeholder \"{serial}\" "
                          "(known: {domain}, {manufacturer}, {model})",
                          "template with unknown placeholder");
        expect_base_error("[discovery]\nmanufacturer-url = https://x/{model\n",
                          "test.conf:11: invalid manufacturer-url \"https://x/{model\": has a \"{\" without \"}\"",
                          "template with unclosed brace");
        expect_base_error("[discovery]\nmanufacturer-url = https://x/model}\n",
                          "test.conf:11: invalid manufacturer-url \"https://x/model}\": has a \"}\" without \"{\"",
                          "template with stray brace");
        expect_base_error("[discovery]\nmanufacturer-url = https:///path\n",
                          "test.conf:11: invalid manufacturer-url \"https:///path\": lacks a host name",
                          "template without host");
        expect_base_error("[discovery]\nmanufacturer-url = https://a b/\n",
                          "test.conf:11: invalid manufacturer-url \"https://a b/\": may contain only printable ASCII "
                          "characters without spaces",
                          "template with a space");

        /* connect-to */
        expect_base_error("[discovery]\nconnect-to = example.com:443\n",
                          "test.conf:11: invalid connect-to \"example.com:443\": entry \"example.com:443\" is not "
                          "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT",
                          "connect-to entry with too few fields");

        /* algorithms (the reason itself comes from the JWS module) */
        expect_error_prefix(BASE "[security]\nalgorithms = ES256,HS256\n", "test.conf:11: invalid algorithms \"ES256,HS256\": ",
                            "HMAC algorithm refused");
        expect_error_prefix(BASE "[security]\nalgorithms = none\n", "test.conf:11: invalid algorithms \"none\": ",
                            "alg none refused");
        expect_error_prefix(BASE "[security]\nalgorithms =\n", "test.conf:11: invalid algorithms \"\": ",
                            "empty algorithm list refused");
        c = load_base("[security]\nalgorithms = RS256\n");
        ok(c && c->algorithms == SFU_ALG_MASK(SFU_ALG_RS256), "algorithms RS256 alone");
        sfu_config_free(c);
}

static void test_slots(void) {
        char text[8192], *p;
        struct sfu_config *c;

        /* Single-copy class */
        c = load_text("[device]\nmanufacturer = m\nmodel = x\n[slot.rootfs.0]\ndevice = /dev/sda2\nbootname = A\n", NULL);
        ok(c && c->n_slots == 1 && sfu_streq(c->slots[0].class_name, "rootfs"), "single-copy class");
        sfu_config_free(c);

        expect_error("[device]\nmanufacturer = m\nmodel = x\n[slot.rootfs.0]\ndevice = /dev/sda2\nbootname = A\n"
                     "[slot.rootfs.1]\ndevice = /dev/sda3\nbootname = B\n[slot.rootfs.2]\ndevice = /dev/sda4\nbootname = C\n",
                     "test.conf:4: slot class \"rootfs\" has 3 slots; a class has 1 (single-copy) or 2 (A/B)",
                     "three slots in a class");
        expect_error("[device]\nmanufacturer = m\nmodel = x\n[slot.rootfs.1]\ndevice = /dev/sda2\nbootname = A\n",
                     "test.conf:4: [slot.rootfs.1]: the slots of class \"rootfs\" must be numbered from 0 without gaps",
                     "class without slot 0");
        expect_error("[device]\nmanufacturer = m\nmodel = x\n[slot.rootfs.0]\ndevice = /dev/sda2\nbootname = A\n"
                     "[slot.rootfs.2]\ndevice = /dev/sda3\nbootname = B\n",
                     "test.conf:7: [slot.rootfs.2]: the slots of class \"rootfs\" must be numbered from 0 without gaps",
                     "gap in slot indices");
        expect_base_error("[slot.data.0]\ndevice = /dev/sda2\nbootname = A\n",
                          "test.conf:10: [slot.data.0] uses device /dev/sda2 of [slot.rootfs.0]", "devices distinct");
        expect_error("[device]\nmanufacturer = m\nmodel = x\n[slot.rootfs.0]\ndevice = /dev/sda2\nbootname = A\n"
                     "[slot.rootfs.1]\ndevice = /dev/sda3\nbootname = A\n",
                     "test.conf:7: [slot.rootfs.1] uses bootname \"A\" of [slot.rootfs.0]", "bootnames distinct in a class");
        expect_base_error("[slot.data.0]\ndevice = /dev/sdb2\nbootname = B\n",
                          "test.conf:10: [slot.data.0] uses bootname \"B\" of [slot.rootfs.1]",
                          "a bootname names one index across classes");
        expect_base_ok("[slot.data.0]\ndevice = /dev/sdb2\nbootname = A\n[slot.data.1]\ndevice = /dev/sdb3\nbootname = B\n",
                       "same bootnames for the same index of two classes");
        expect_base_error("[slot.data.0]\ndevice = /dev/sdb2\n",
                          "test.conf:10: [slot.data.0] lacks the required key \"bootname\"", "slot without bootname");
        expect_base_error("[slot.data.0]\n", "test.conf:10: [slot.data.0] lacks the required key \"device\"",
                          "empty slot section");
        expect_base_error("[slot.data.0]\ndevice = /dev/sdb2\nbootname = B C\n",
                          "test.conf:12: invalid bootname \"B C\": must be 1 to 32 letters, digits, \"_\" or \"-\"",
                          "bootname with a space");
        expect_base_error("[slot.data.0]\ndevice = /dev/sdb2\nbootname = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
                          "test.conf:12: invalid bootname \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": must be 1 to 32 letters, "
                          "digits, \"_\" or \"-\"",
                          "bootname of 33 characters");
        expect_base_error("[slot.data.0]\ndevice = dev/sdb2\n",
                          "test.conf:11: invalid device \"dev/sdb2\": must be an absolute path", "relative slot device");
        {
                static const char *const bad[] = {
                        "slot.rootfs.01", "slot.Rootfs.0", "slot.rootfs.16", "slot..0", "slot.rootfs", "slot.rootfs.",
                        "slot.root.fs.0", "slot.rootfs.-1", "slot.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.0",
                };
                for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                        char snippet[128], want[128];
                        snprintf(snippet, sizeof(snippet), "[%s]\n", bad[i]);
                        snprintf(want, sizeof(want), "test.conf:10: invalid section [%s]: expected [slot.CLASS.N]", bad[i]);
                        char *t = with_base(snippet);
                        expect_error_prefix(t, want, bad[i]);
                        free(t);
                }
        }
        expect_base_ok("[slot.r_o-o7.0]\ndevice = /x\nbootname = A\n", "class of a-z, 0-9, _ and -");
        expect_base_error("[slot.rootfs.1]\nbootname = C\n",
                          "test.conf:11: duplicate key \"bootname\" in section [slot.rootfs.1] (first set on line 9)",
                          "key set again in a repeated slot section");
        expect_base_ok("[slot.rootfs.1]\n", "repeated slot section without keys");
        expect_ok(BASE "[slot.data.1]\ndevice = /dev/sdb3\nbootname = B\n[slot.data.0]\ndevice = /dev/sdb2\nbootname = A\n",
                  "slots in any order");

        /* More than SFU_CONFIG_MAX_SLOTS slots */
        p = text;
        p += sprintf(p, "[device]\nmanufacturer = m\nmodel = x\n");
        for (int i = 0; i < SFU_CONFIG_MAX_SLOTS + 1; i++)
                p += sprintf(p, "[slot.c%d.0]\ndevice = /dev/d%d\nbootname = A\n", i, i);
        expect_error(text, "test.conf:52: too many slots: at most 16 [slot.CLASS.N] sections", "17 slots refused");
        p = text;
        p += sprintf(p, "[device]\nmanufacturer = m\nmodel = x\n");
        for (int i = 0; i < SFU_CONFIG_MAX_SLOTS; i++)
                p += sprintf(p, "[slot.c%02d.%d]\ndevice = /dev/d%d\nbootname = %s\n", i / 2, i % 2, i, i % 2 ? "B" : "A");
        c = load_text(text, NULL);
        ok(c && c->n_slots == 16 && sfu_streq(c->slots[15].class_name, "c07") && c->slots[15].index == 1,
           "16 slots in 8 A/B classes");
        sfu_config_free(c);
}

static void test_required(void) {
        expect_error("[device]\nmodel = x\n[slot.a.0]\ndevice = /d\nbootname = A\n",
                     "test.conf: [device] manufacturer is required", "manufacturer required");
        expect_error("[device]\nmanufacturer = m\n[slot.a.0]\ndevice = /d\nbootname = A\n",
                     "test.conf: [device] model is required", "model required");
        expect_error("[device]\nmanufacturer = m\nmodel = x\n",
                     "test.conf: no slots: at least one [slot.CLASS.N] section is required", "slots required");
        expect_error("", "test.conf: [device] manufacturer is required", "empty file");
        {
                struct sfu_err err = SFU_ERR_INIT;
                struct sfu_config *c = sentinel();
                ok(sfu_config_load_buffer(NULL, "", 0, &c, &err) < 0 && c == sentinel() &&
                           strcmp(err.message, "(buffer): [device] manufacturer is required") == 0,
                   "NULL name (%s)", err.message);
        }
}

static void free_null_config(void) {
        sfu_config_free(NULL);
}

static void test_files(void) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_config *c = sentinel();
        char *dir = tap_mkdtemp(), path[512], *big;
        FILE *f;
        int r;

        r = sfu_config_load("/nonexistent/secfud.conf", &c, &err);
        ok(r == -ENOENT && c == sentinel() && err.code == SFU_ERR_STORAGE &&
                   strcmp(err.message, "cannot open /nonexistent/secfud.conf: No such file or directory") == 0,
           "missing file (%s)", err.message);

        sfu_err_clear(&err);
        r = sfu_config_load(tap_data("config/bad-unknown-key.conf"), &c, &err);
        {
                char want[600];
                snprintf(want, sizeof(want), "%s:4: unknown key \"colour\" in section [device]",
                         tap_data("config/bad-unknown-key.conf"));
                ok(r == -EINVAL && c == sentinel() && err.code == SFU_ERR_PARSE && strcmp(err.message, want) == 0,
                   "file error names the file and line (%s)", err.message);
        }
        sfu_err_clear(&err);
        r = sfu_config_load(tap_data("config/bad-duplicate-key.conf"), &c, &err);
        ok(r < 0 && strstr(err.message, ":8: duplicate key \"device\" in section [slot.rootfs.0] (first set on line 5)"),
           "repeated slot section sets device twice (%s)", err.message);

        sfu_err_clear(&err);
        r = sfu_config_load(dir, &c, &err);
        ok(r == -EISDIR && c == sentinel() && err.code == SFU_ERR_STORAGE, "directory refused (%s)", err.message);

        /* Exactly at the cap: fine (a long comment); one byte more: refused. */
        big = malloc(SFU_CONFIG_MAX_SIZE + 2);
        if (!big)
                abort();
        memset(big, '#', SFU_CONFIG_MAX_SIZE + 1);
        for (size_t i = 100; i < SFU_CONFIG_MAX_SIZE + 1; i += 100)
                big[i] = '\n';
        memcpy(big, BASE, strlen(BASE));
        snprintf(path, sizeof(path), "%s/big.conf", dir);
        f = fopen(path, "we");
        if (!f || fwrite(big, 1, SFU_CONFIG_MAX_SIZE, f) != SFU_CONFIG_MAX_SIZE || fclose(f) != 0)
                abort();
        sfu_err_clear(&err);
        c = NULL;
        r = sfu_config_load(path, &c, &err);
        ok(r == 0 && c, "file of exactly SFU_CONFIG_MAX_SIZE bytes (%s)", err.message);
        sfu_config_free(c);
        c = sentinel();
        f = fopen(path, "we");
        if (!f || fwrite(big, 1, SFU_CONFIG_MAX_SIZE + 1, f) != SFU_CONFIG_MAX_SIZE + 1 || fclose(f) != 0)
                abort();
        sfu_err_clear(&err);
        r = sfu_config_load(path, &c, &err);
        ok(r == -EFBIG && c == sentinel() && err.code == SFU_ERR_SIZE, "file over SFU_CONFIG_MAX_SIZE (%s)", err.message);
        sfu_err_clear(&err);
        r = sfu_config_load_buffer("big", big, SFU_CONFIG_MAX_SIZE + 1, &c, &err);
        ok(r == -EFBIG && c == sentinel() && err.code == SFU_ERR_SIZE, "buffer over SFU_CONFIG_MAX_SIZE (%s)",
           err.message);
        unlink(path);
        rmdir(dir);
        free(big);
        free(dir);

        /* The first error already in err is kept. */
        sfu_err_clear(&err);
        (void) sfu_err_set(&err, SFU_ERR_NETWORK, EIO, "earlier");
        r = sfu_config_load_buffer("x", "junk", 4, &c, &err);
        ok(r < 0 && err.code == SFU_ERR_NETWORK && strcmp(err.message, "earlier") == 0, "an earlier error is kept");

        ok(tap_survives(free_null_config), "sfu_config_free(NULL)");
}

static void test_delta(void) {
        struct sfu_config *c = load_base(
                "[delta]\nenable = no\nfallback = off\nbatch = 256\nsource-slots = rootfs.0  boot.1\nshifted-chunks = yes\n");
        struct sfu_config_slot a = { .class_name = (char *) "rootfs", .index = 0 },
                               b = { .class_name = (char *) "rootfs", .index = 1 },
                               boot1 = { .class_name = (char *) "boot", .index = 1 };

        ok(c && !c->delta_enable && !c->delta_fallback && c->delta_batch == 256 && c->delta_shifted,
           "[delta] values read");
        ok(c && sfu_config_delta_source_ok(c, &a, &b) && !sfu_config_delta_source_ok(c, &b, &a) &&
                   sfu_config_delta_source_ok(c, &boot1, &a),
           "source-slots: the slots listed, whichever runs");
        sfu_config_free(c);
        c = load_base("[delta]\nsource-slots = running\n");
        ok(c && sfu_config_delta_source_ok(c, &a, &a) && !sfu_config_delta_source_ok(c, &b, &a),
           "source-slots = running: the running side only");
        sfu_config_free(c);
        c = load_base("[delta]\nsource-slots = none\n");
        ok(c && !sfu_config_delta_source_ok(c, &a, &a), "source-slots = none: no source");
        sfu_config_free(c);
        expect_base_error("[delta]\nbatch = 0\n", "test.conf:11: invalid batch \"0\": must be a whole number from 1 to 256", "batch 0 refused");
        expect_base_error("[delta]\nbatch = 257\n", "test.conf:11: invalid batch \"257\": must be a whole number from 1 to 256", "batch over 256 refused");
        expect_base_error("[delta]\nsource-slots = rootfs\n", "test.conf:11: invalid source-slots \"rootfs\": must be running, none, or slot names such as rootfs.0", "a slot name without its number refused");
        expect_base_error("[delta]\nsource-slots = rootfs.16\n", "test.conf:11: invalid source-slots \"rootfs.16\": slot numbers go from 0 to 15", "a slot number over 15 refused");
        expect_base_error("[delta]\nsource-slots = Root.0\n", "test.conf:11: invalid source-slots \"Root.0\": must be running, none, or slot names such as rootfs.0", "an upper-case class refused");
        expect_base_error("[delta]\nsource-slots =\n", "test.conf:11: invalid source-slots \"\": must be running, none, or slot names such as rootfs.0", "an empty list refused");
        expect_base_error("[delta]\nenable = maybe\n", "test.conf:11: invalid enable \"maybe\": must be yes, no, true, false, on, off, 1 or 0", "enable = maybe refused");
        expect_base_error("[delta]\nchunk = 4\n", "test.conf:11: unknown key \"chunk\" in section [delta]", "an unknown [delta] key refused");
}

int main(void) {
        test_defaults();
        test_delta();
        test_design_example();
        test_nondefault();
        test_shipped_config();
        test_syntax();
        test_values();
        test_slots();
        test_required();
        test_files();
        return tap_done();
}
