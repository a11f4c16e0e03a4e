/* SPDX-License-Identifier: MIT */
/* Firmware versions: exactly three decimal numbers "major.minor.revision",
 * no leading zeros (a lone "0" is fine), at most 9 digits each, compared
 * numerically. */
#pragma once
#include <stdint.h>
#include "core/macro.h"

struct sfu_version {
        uint32_t major, minor, revision;
};

#define SFU_VERSION_STRING_MAX 32

int sfu_version_parse(const char *s, struct sfu_version *ret) _wur_;
int sfu_version_compare(const struct sfu_version *a, const struct sfu_version *b);
/* buf must hold SFU_VERSION_STRING_MAX bytes; returns buf. */
char *sfu_version_format(const struct sfu_version *v, char buf[SFU_VERSION_STRING_MAX]);
