/* SPDX-License-Identifier: MIT */
/* libFuzzer target: a trust-store key's NAME.scope file (core/scope.c).
 * A refusal says why and yields nothing; a scope that parses has lists
 * within their bounds, names without blanks, and a threshold in 1..16 or
 * none. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/scope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_list(char *const *list, size_t n) {
        if (n > SFU_SCOPE_MAX_NAMES)
                abort();
        for (size_t i = 0; i < n; i++) {
                if (!list[i][0])
                        abort();
                for (const char *c = list[i]; *c; c++)
                        if (!isgraph((unsigned char) *c) || *c == ',')
                                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_scope *s = NULL;

        if (sfu_scope_parse((const char *) data, size, "fuzz.scope", &s, &err) < 0) {
                if (s || err.message[0] == '\0')
                        abort();
                return 0;
        }
        check_list(s->manufacturers, s->n_manufacturers);
        check_list(s->models, s->n_models);
        check_list(s->slot_classes, s->n_slot_classes);
        check_list(s->images, s->n_images);
        if (s->min_signatures > SFU_SCOPE_MAX_SIGNATURES)
                abort();
        sfu_scope_free(s);
        return 0;
}
