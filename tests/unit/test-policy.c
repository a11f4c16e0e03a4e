/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "core/policy.h"
#include "tap.h"

static struct sfu_manifest *manifest(const char *manufacturer, const char *model, struct sfu_version v, int64_t ts) {
        struct sfu_manifest *m = calloc(1, sizeof(*m));
        m->manufacturer = strdup(manufacturer);
        m->model = strdup(model);
        m->version = v;
        m->timestamp = ts;
        m->n_images = 1;
        m->images[0].name = strdup("firmware");
        m->images[0].location = strdup("fw.img");
        m->images[0].has_size = true;
        m->images[0].size = 1024;
        return m;
}

static struct sfu_policy_device device(void) {
        return (struct sfu_policy_device) {
                .manufacturer = "example.com",
                .model = "gw100",
                .running = { 1, 0, 0 },
                .max_image_size = 1u << 30,
                .now = 1795000000,
        };
}

static int check(struct sfu_manifest *m, const struct sfu_policy_device *dev, enum sfu_policy_verdict *v,
                 struct sfu_err *err) {
        sfu_err_clear(err);
        return sfu_policy_check(m, dev, v, err);
}

int main(void) {
        struct sfu_policy_device dev = device();
        struct sfu_err err = SFU_ERR_INIT;
        enum sfu_policy_verdict v;
        struct sfu_manifest *m;

        m = manifest("example.com", "gw100", (struct sfu_version) { 1, 1, 0 }, 1794000000);
        ok(check(m, &dev, &v, &err) == 0 && v == SFU_POLICY_INSTALL, "newer version: install");

        m->version = (struct sfu_version) { 1, 0, 0 };
        ok(check(m, &dev, &v, &err) == 0 && v == SFU_POLICY_UP_TO_DATE, "same version: up to date");

        m->version = (struct sfu_version) { 0, 9, 9 };
        ok(check(m, &dev, &v, &err) < 0 && err.code == SFU_ERR_POLICY && strstr(err.message, "downgrade"),
           "older version refused: %s", err.message);
        dev.allow_downgrade = true;
        ok(check(m, &dev, &v, &err) == 0 && v == SFU_POLICY_INSTALL, "older version with allow-downgrade");
        dev.allow_downgrade = false;

        /* numeric, not textual, comparison */
        m->version = (struct sfu_version) { 1, 0, 10 };
        dev.running = (struct sfu_version) { 1, 0, 9 };
        ok(check(m, &dev, &v, &err) == 0 && v == SFU_POLICY_INSTALL, "1.0.10 is newer than 1.0.9");
        dev.running = (struct sfu_version) { 1, 0, 0 };

        /* anti-rollback floor */
        dev.has_highest = true;
        dev.highest = (struct sfu_version) { 1, 2, 0 };
        m->version = (struct sfu_version) { 1, 1, 0 };
        ok(check(m, &dev, &v, &err) < 0 && strstr(err.message, "highest installed"),
           "newer than running but below the highest installed: refused (%s)", err.message);
        m->version = (struct sfu_version) { 1, 2, 0 };
        ok(check(m, &dev, &v, &err) < 0, "equal to the highest installed: refused");
        m->version = (struct sfu_version) { 1, 3, 0 };
        ok(check(m, &dev, &v, &err) == 0 && v == SFU_POLICY_INSTALL, "above the highest: install");
        dev.has_highest = false;

        /* identity, byte for byte */
        free(m->model);
        m->model = strdup("gw101");
        ok(check(m, &dev, &v, &err) < 0 && strstr(err.message, "model \"gw101\""), "wrong model refused");
        free(m->model);
        m->model = strdup("gw\xd0\xbe" "100"); /* Cyrillic o */
        ok(check(m, &dev, &v, &err) < 0 && err.code == SFU_ERR_POLICY, "look-alike model refused");
        free(m->model);
        m->model = strdup("gw100");
        free(m->manufacturer);
        m->manufacturer = strdup("Example.com");
        ok(check(m, &dev, &v, &err) < 0 && strstr(err.message, "manufacturer"), "manufacturer case differs: refused");
        free(m->manufacturer);
        m->manufacturer = strdup("example.com");

        /* replay */
        dev.has_newest_timestamp = true;
        dev.newest_timestamp = 1794500000;
        ok(check(m, &dev, &v, &err) < 0 && strstr(err.message, "replay"), "older timestamp refused: %s",
           err.message);
        dev.newest_timestamp = 1794000000;
        ok(check(m, &dev, &v, &err) == 0, "equal timestamp accepted (same manifest again)");
        dev.has_newest_timestamp = false;

        /* expiry against the device clock, both ways */
        m->has_expires = true;
        m->expires = dev.now - 1;
        ok(check(m, &dev, &v, &err) < 0 && strstr(err.message, "expired"), "expired refused: %s", err.message);
        m->expires = dev.now + 3600;
        ok(check(m, &dev, &v, &err) == 0, "not yet expired accepted");
        dev.now = 4102444800; /* a clock far in the future */
        ok(check(m, &dev, &v, &err) < 0 && strstr(err.message, "expired"), "clock ahead: expired");
        dev.now = 1795000000;
        m->has_expires = false;

        /* sizes and slot classes */
        m->images[0].size = (1u << 30) + 1;
        ok(check(m, &dev, &v, &err) < 0 && err.code == SFU_ERR_SIZE, "image over max-image-size refused");
        m->images[0].size = 1024;
        const char *classes[] = { "rootfs", NULL };
        dev.slot_classes = classes;
        m->images[0].slot_class = strdup("appfs");
        ok(check(m, &dev, &v, &err) < 0 && strstr(err.message, "appfs"), "unknown slot class refused");
        free(m->images[0].slot_class);
        m->images[0].slot_class = strdup("rootfs");
        ok(check(m, &dev, &v, &err) == 0, "known slot class accepted");

        sfu_manifest_free(m);
        return tap_done();
}
