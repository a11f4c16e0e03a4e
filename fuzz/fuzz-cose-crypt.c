/* SPDX-License-Identifier: MIT */
/* Fuzzes the COSE_Encrypt parser and decryption (core/cose-crypt.h): every
 * input is parsed and, when it parses, decrypted with the fixed device keys
 * of fuzz-devkeys.h (the seeds in fuzz/corpus/cose-crypt/ are encrypted to
 * them), then opened as an encrypted manifest.  A refusal must say why in
 * one line; a decryption failure must be one of the two messages; a
 * success must have a plaintext of the ciphertext's length and name the key
 * and recipient. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cose-crypt.h"
#include "core/envelope.h"
#include "core/key.h"
#include "fuzz-devkeys.h"

static void one_line(int r, const struct sfu_err *err) {
        if (r != -ENOMEM && (!sfu_err_isset(err) || !err->message[0] || strchr(err->message, '\n')))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct sfu_err err = SFU_ERR_INIT, err2 = SFU_ERR_INIT;
        struct sfu_cose_crypt *ce = NULL;
        struct sfu_jwe_result res = {}, opened = {};
        json_t *list = NULL;
        int r;

        if (!ring)
                ring_setup();
        (void) sfu_cose_crypt_detect(data, size);
        r = sfu_cose_crypt_parse(data, size, &ce, &err);
        if (r < 0) {
                one_line(r, &err);
                if (ce)
                        abort();
                return 0;
        }
        if (!ce || ce->n_recipients == 0 || ce->n_recipients > SFU_COSE_CRYPT_MAX_RECIPIENTS ||
            ce->ciphertext_len > SFU_JWE_MAX_PLAINTEXT || ce->tag != ce->ciphertext + ce->ciphertext_len)
                abort();
        if (sfu_cose_crypt_recipients_to_json(ce, &list) < 0 || json_array_size(list) != ce->n_recipients)
                abort();
        json_decref(list);

        r = sfu_cose_crypt_decrypt(ce, ring, &res, &err);
        if (r == 0) {
                if (!res.key || res.recipient >= ce->n_recipients || res.plaintext_len != ce->ciphertext_len ||
                    !res.plaintext || sfu_err_isset(&err))
                        abort();
                /* the whole device path: parse, decrypt, the plaintext's type */
                r = sfu_envelope_open(data, size, ring, &opened, &err2);
                if (r < 0)
                        one_line(r, &err2);
                else if (opened.plaintext_len != res.plaintext_len ||
                         memcmp(opened.plaintext, res.plaintext, res.plaintext_len) != 0)
                        abort();
        } else if (r != -ENOMEM) {
                /* no oracle: one message, or the public fact that no key fits */
                if (strcmp(err.message, "cannot decrypt with this device's key(s)") != 0 &&
                    strncmp(err.message, "no recipient of the COSE_Encrypt (", 34) != 0)
                        abort();
                if (res.plaintext)
                        abort();
        }
        sfu_jwe_result_clear(&res);
        sfu_jwe_result_clear(&opened);
        sfu_cose_crypt_free(ce);
        return 0;
}
