/* SPDX-License-Identifier: MIT */
#include "core/policy.h"
#include "core/timeutil.h"

static int check_identity(const struct sfu_manifest *m, const struct sfu_policy_device *dev, struct sfu_err *err) {
        /* Byte for byte: look-alike characters are different bytes. */
        if (strcmp(m->manufacturer, dev->manufacturer) != 0)
                return sfu_err_set(err, SFU_ERR_POLICY, EPERM,
                                   "manifest is for manufacturer \"%s\", this device is \"%s\"", m->manufacturer,
                                   dev->manufacturer);
        if (strcmp(m->model, dev->model) != 0)
                return sfu_err_set(err, SFU_ERR_POLICY, EPERM, "manifest is for model \"%s\", this device is \"%s\"",
                                   m->model, dev->model);
        return 0;
}

static int check_freshness(const struct sfu_manifest *m, const struct sfu_policy_device *dev, struct sfu_err *err) {
        char a[32], b[32];

        if (m->has_expires && m->expires <= dev->now)
                return sfu_err_set(err, SFU_ERR_POLICY, EPERM, "manifest expired at %s (device time %s)",
                                   sfu_time_format_rfc3339(m->expires, a), sfu_time_format_rfc3339(dev->now, b));
        if (dev->has_newest_timestamp && m->timestamp < dev->newest_timestamp)
                return sfu_err_set(err, SFU_ERR_POLICY, EPERM,
                                   "manifest timestamp %s is older than the newest accepted manifest (%s): replay refused",
                                   sfu_time_format_rfc3339(m->timestamp, a),
                                   sfu_time_format_rfc3339(dev->newest_timestamp, b));
        return 0;
}

static int check_images(const struct sfu_manifest *m, const struct sfu_policy_device *dev, struct sfu_err *err) {
        for (size_t i = 0; i < m->n_images; i++) {
                const struct sfu_manifest_image *img = &m->images[i];
                if (img->has_size && img->size > dev->max_image_size)
                        return sfu_err_set(err, SFU_ERR_SIZE, EFBIG,
                                           "image \"%s\" of %llu bytes exceeds max-image-size (%llu)", img->name,
                                           (unsigned long long) img->size, (unsigned long long) dev->max_image_size);
                if (img->slot_class && dev->slot_classes) {
                        bool known = false;
                        for (size_t c = 0; dev->slot_classes[c]; c++)
                                if (strcmp(dev->slot_classes[c], img->slot_class) == 0)
                                        known = true;
                        if (!known)
                                return sfu_err_set(err, SFU_ERR_POLICY, EPERM,
                                                   "image \"%s\" targets slot class \"%s\", which this device does not have",
                                                   img->name, img->slot_class);
                }
        }
        return 0;
}

int sfu_policy_check(const struct sfu_manifest *m, const struct sfu_policy_device *dev,
                     enum sfu_policy_verdict *ret, struct sfu_err *err) {
        char offered[SFU_VERSION_STRING_MAX], have[SFU_VERSION_STRING_MAX];
        int r, cmp_running;

        r = check_identity(m, dev, err);
        if (r < 0)
                return r;
        r = check_freshness(m, dev, err);
        if (r < 0)
                return r;
        r = check_images(m, dev, err);
        if (r < 0)
                return r;

        sfu_version_format(&m->version, offered);
        cmp_running = sfu_version_compare(&m->version, &dev->running);
        if (cmp_running == 0) {
                *ret = SFU_POLICY_UP_TO_DATE;
                return 0;
        }
        if (!dev->allow_downgrade) {
                if (cmp_running < 0)
                        return sfu_err_set(err, SFU_ERR_POLICY, EPERM,
                                           "firmwareVersion %s is older than the running %s: downgrade refused", offered,
                                           sfu_version_format(&dev->running, have));
                if (dev->has_highest && sfu_version_compare(&m->version, &dev->highest) <= 0)
                        return sfu_err_set(err, SFU_ERR_POLICY, EPERM,
                                           "firmwareVersion %s is not newer than the highest installed %s: rollback refused",
                                           offered, sfu_version_format(&dev->highest, have));
        }
        *ret = SFU_POLICY_INSTALL;
        return 0;
}
