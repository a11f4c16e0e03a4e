/* SPDX-License-Identifier: MIT */
/* Fuzzes the JWE parser and decryption: every input is parsed (compact or
 * JSON) and, when it parses, decrypted with a fixed set of device keys
 * (P-256, X25519 and RSA-2048, made for this target only; the seeds in
 * fuzz/corpus/jwe/ are encrypted to them, so that the fuzzer reaches the
 * unwrap and the tag check).  A refusal must say why in one line; a
 * decryption failure must be one of the two messages; a success must have
 * a plaintext within the cap and name the key and recipient. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/jwe.h"
#include "core/key.h"
#include "fuzz-devkeys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_jwe *jwe = NULL;
        struct sfu_jwe_result res = {};
        json_t *list = NULL;
        int r;

        if (!ring)
                ring_setup();
        (void) sfu_jwe_detect(data, size);
        r = sfu_jwe_parse((const char *) data, size, &jwe, &err);
        if (r < 0) {
                if (r != -ENOMEM && (!sfu_err_isset(&err) || !err.message[0] || strchr(err.message, '\n')))
                        abort(); /* a refusal says why, in one line */
                if (jwe)
                        abort();
                return 0;
        }
        if (!jwe || jwe->n_recipients == 0 || jwe->n_recipients > SFU_JWE_MAX_RECIPIENTS ||
            jwe->ciphertext_len > SFU_JWE_MAX_PLAINTEXT)
                abort();
        if (sfu_jwe_recipients_to_json(jwe, &list) < 0 || json_array_size(list) != jwe->n_recipients)
                abort();
        json_decref(list);

        r = sfu_jwe_decrypt(jwe, ring, &res, &err);
        if (r == 0) {
                if (!res.key || res.recipient >= jwe->n_recipients || res.plaintext_len != jwe->ciphertext_len ||
                    !res.plaintext || sfu_err_isset(&err))
                        abort();
        } else if (r != -ENOMEM) {
                /* no oracle: one message, or the public fact that no key fits */
                if (strcmp(err.message, "cannot decrypt with this device's key(s)") != 0 &&
                    strncmp(err.message, "no recipient of the JWE (", 25) != 0)
                        abort();
                if (res.plaintext)
                        abort();
        }
        sfu_jwe_result_clear(&res);
        sfu_jwe_free(jwe);
        return 0;
}
