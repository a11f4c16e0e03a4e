/* SPDX-License-Identifier: MIT */
/* Fuzzes the JWS parser and verifier: every input is parsed (compact or
 * JSON) and, when it parses, verified against a small fixed trust store
 * (the public halves of tests/data/keys/ec-p256, ed25519 and rsa2048, so
 * that the seed corpus reaches the signature checks) with two sets of
 * options. Inputs that look like JSON also go through the JWK loader. */
#include <stdint.h>
#include <stdlib.h>

#include "core/jws.h"
#include "core/key.h"
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const struct sfu_jws_verify_opts strict = {
                .alg_allow = SFU_ALG_MASK(SFU_ALG_ES256) | SFU_ALG_MASK(SFU_ALG_EDDSA) |
                             SFU_ALG_MASK(SFU_ALG_PS256),
                .min_signatures = 2,
                .required_typ = SFU_JWS_TYP_MANIFEST,
        };
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_jws *jws = NULL;
        struct sfu_keyring *ring = fuzz_trusted_ring();
        unsigned valid = 0;

        if (sfu_jws_parse((const char *) data, size, &jws, &err) == 0) {
                sfu_err_clear(&err);
                if (sfu_jws_verify(jws, ring, NULL, &valid, &err) == 0 &&
                    (valid < 1 || valid > ring->n_keys))
                        abort();
                sfu_err_clear(&err);
                if (sfu_jws_verify(jws, ring, &strict, &valid, &err) == 0 &&
                    (valid < 2 || valid > ring->n_keys))
                        abort();
                sfu_jws_free(jws);
        }

        if (size > 0 && size <= SFU_KEY_FILE_MAX && data[0] == '{') {
                struct sfu_key *key = NULL;
                sfu_err_clear(&err);
                if (sfu_key_from_buffer((const char *) data, size, "fuzz", false, &key, &err) == 0) {
                        char *tp = NULL;
                        json_t *jwk = NULL;
                        if (sfu_key_thumbprint(key, &tp) < 0 ||
                            (key->is_private ? sfu_key_to_private_jwk(key, &jwk) : sfu_key_to_jwk(key, &jwk)) < 0)
                                abort();
                        free(tp);
                        json_decref(jwk);
                        sfu_key_free(key);
                }
        }
        return 0;
}
