/* SPDX-License-Identifier: MIT */
/* sfu_manifest_parse_json() on arbitrary bytes.  Besides crashes and leaks
 * it checks two promises: a refusal always carries a one-line message that
 * is valid UTF-8 (it ends up in JSON replies), and an accepted manifest
 * survives sfu_manifest_to_json() and parses back to the same model. */
#include <stdint.h>

#include "core/json.h"
#include "core/manifest.h"
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_check_message(), and the message is valid UTF-8. */
static void check_message(const struct sfu_err *err) {
        json_t *s;

        fuzz_check_message(err);
        s = json_string(err->message);
        if (!s)
                abort();
        json_decref(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_manifest_ struct sfu_manifest *m = NULL, *again = NULL;
        _cleanup_json_ json_t *first = NULL;
        _cleanup_free_ char *text = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        int r;

        r = sfu_manifest_parse_json((const char *) data, size, SFU_MANIFEST_MAX_SIZE, &m, &err);
        if (r < 0) {
                if (r != -ENOMEM)
                        check_message(&err);
                return 0;
        }
        if (!fuzz_manifest_model(r, m, &err, &first))
                return 0;
        text = json_dumps(first, JSON_COMPACT);
        if (!text)
                return 0;
        r = sfu_manifest_parse_json(text, strlen(text), SFU_MANIFEST_MAX_SIZE, &again, &err);
        fuzz_manifest_same_model(r, again, first);
        return 0;
}
