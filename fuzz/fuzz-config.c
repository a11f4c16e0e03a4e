/* SPDX-License-Identifier: MIT */
/* libFuzzer target: secfud.conf parsing and validation on arbitrary
 * bytes.  A config that loads must be self-consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_config *c = NULL;

        if (sfu_config_load_buffer("fuzz.conf", (const char *) data, size, &c, &err) < 0) {
                /* every failure explains itself */
                if (err.code == SFU_ERR_NONE || err.message[0] == '\0' || c)
                        abort();
                return 0;
        }
        if (!c || !c->manufacturer || !c->model || c->n_slots == 0 || c->n_slots > SFU_CONFIG_MAX_SLOTS ||
            !sfu_config_policy_name(c->policy) || !sfu_config_backend_name(c->backend) ||
            (c->proxy == SFU_CONFIG_PROXY_URL) != (c->proxy_url != NULL))
                abort();
        for (size_t i = 0; i < c->n_slots; i++) {
                if (!c->slots[i].device || !c->slots[i].bootname || c->slots[i].index >= SFU_CONFIG_MAX_SLOTS_PER_CLASS)
                        abort();
                if (i > 0 && strcmp(c->slots[i - 1].class_name, c->slots[i].class_name) > 0)
                        abort();
        }
        sfu_config_free(c);
        return 0;
}
