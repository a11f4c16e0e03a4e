/* SPDX-License-Identifier: MIT */
/* The rules of DESIGN section 5 that need the device: identity, versions
 * (anti-rollback), replay, expiry, sizes.  Pure: "now" is passed in. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "core/err.h"
#include "core/manifest.h"
#include "core/version.h"

struct sfu_policy_device {
        const char *manufacturer;
        const char *model;
        struct sfu_version running;
        bool has_highest;               /* highest committed version */
        struct sfu_version highest;
        bool has_newest_timestamp;      /* newest accepted manifest */
        int64_t newest_timestamp;
        bool allow_downgrade;
        uint64_t max_image_size;
        int64_t now;                    /* seconds since the epoch */
        /* Slot classes the device has (for split manifests), NULL-terminated;
         * NULL: not checked. */
        const char *const *slot_classes;
};

enum sfu_policy_verdict {
        SFU_POLICY_INSTALL,             /* newer than running and highest: go */
        SFU_POLICY_UP_TO_DATE,          /* same as running (nothing newer) */
};

/* Checks every rule that needs only the manifest and the device, before
 * any image byte is requested. Refusals are SFU_ERR_POLICY (identity,
 * version, replay, expiry) or SFU_ERR_SIZE, with one-line reasons. An
 * older manifest than running is a refusal (anti-rollback) unless
 * allow_downgrade; an equal one is SFU_POLICY_UP_TO_DATE. */
int sfu_policy_check(const struct sfu_manifest *m, const struct sfu_policy_device *dev,
                     enum sfu_policy_verdict *ret, struct sfu_err *err) _wur_;
