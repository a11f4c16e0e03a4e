/* SPDX-License-Identifier: MIT */
/* state.json is written by secfud, but a damaged or tampered file must be
 * refused cleanly: parse arbitrary bytes, and a record that parses must
 * serialise and parse back to the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct sfu_state s, back;
        struct sfu_err err = SFU_ERR_INIT;
        char *text = NULL, *again = NULL;

        if (sfu_state_from_json((const char *) data, size, &s, &err) < 0) {
                if (err.code == SFU_ERR_NONE)
                        abort(); /* a refusal must say why */
                return 0;
        }
        if (sfu_state_to_json(&s, &text) < 0)
                abort();
        sfu_err_clear(&err);
        if (sfu_state_from_json(text, strlen(text), &back, &err) < 0)
                abort(); /* what we write we must read */
        if (sfu_state_to_json(&back, &again) < 0 || strcmp(text, again) != 0)
                abort();
        free(text);
        free(again);
        return 0;
}
