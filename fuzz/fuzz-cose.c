/* SPDX-License-Identifier: MIT */
/* Fuzzes the COSE parser and verifier: every input is parsed and, when it
 * parses, its Sig_structures are built and it is verified against a small
 * fixed trust store (the public halves of tests/data/keys/ec-p256,
 * ed25519 and rsa2048, so that the seed corpus reaches the signature
 * checks) with two sets of options.  A payload that verifies goes on to
 * the manifest front end its content type names. */
#include <stdint.h>
#include <stdlib.h>

#include "core/cose.h"
#include "core/key.h"
#include "core/manifest.h"
#include "fuzz-common.h"

static void count_note(void *userdata, const char *message) {
        unsigned *n = userdata;
        if (!message || !message[0])
                abort();
        (*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        unsigned notes = 0;
        const struct sfu_cose_verify_opts strict = {
                .alg_allow = SFU_ALG_MASK(SFU_ALG_ES256) | SFU_ALG_MASK(SFU_ALG_EDDSA) | SFU_ALG_MASK(SFU_ALG_PS256),
                .min_signatures = 2,
                .content_allow = SFU_COSE_CONTENT_MASK(SFU_COSE_CONTENT_CBOR),
                .note = count_note,
                .userdata = &notes,
        };
        const struct sfu_cose_verify_opts any = { .content_allow = (1u << _SFU_COSE_CONTENT_MAX) - 1 };
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_keyring *ring = fuzz_trusted_ring();
        struct sfu_cose *cose = NULL;
        unsigned valid = 0;
        int r;

        r = sfu_cose_parse(data, size, &cose, &err);
        if (r < 0) {
                if (r != -ENOMEM)
                        fuzz_check_message(&err);
                return 0;
        }
        if (cose->n_signatures < 1 || cose->n_signatures > SFU_COSE_MAX_SIGNATURES || !cose->payload ||
            cose->payload_len == 0)
                abort();
        for (size_t i = 0; i < cose->n_signatures; i++) {
                uint8_t *tbs = NULL;
                size_t len = 0;
                if (sfu_cose_sig_structure(cose, i, &tbs, &len) == 0)
                        free(tbs);
        }

        sfu_err_clear(&err);
        r = sfu_cose_verify(cose, ring, &any, &valid, &err);
        if (r == 0 && (valid < 1 || valid > ring->n_keys))
                abort();
        if (r < 0 && r != -ENOMEM)
                fuzz_check_message(&err);
        sfu_err_clear(&err);
        r = sfu_cose_verify(cose, ring, &strict, &valid, &err);
        if (r == 0 && (valid < 2 || valid > ring->n_keys || cose->content != SFU_COSE_CONTENT_CBOR))
                abort();
        if (notes > cose->n_signatures)
                abort();
        if (r == 0) {
                struct sfu_manifest *m = NULL;
                sfu_err_clear(&err);
                if (sfu_manifest_parse_cbor(cose->payload, cose->payload_len, SFU_MANIFEST_MAX_SIZE, &m, &err) == 0)
                        sfu_manifest_free(m);
        }
        sfu_cose_free(cose);
        return 0;
}
