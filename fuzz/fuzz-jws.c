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

static const char *const trusted_pems[] = {
        "-----BEGIN PUBLIC KEY-----\n"
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqhGjS+0BD7uhObR2WtNvuMkxDFjS\n"
        "qAgqS88RfBCKTvnUymmCChryeJnO0Xgr0Z7edxrG7Y27DajRNfgvFsYqng==\n"
        "-----END PUBLIC KEY-----\n",
        "-----BEGIN PUBLIC KEY-----\n"
        "MCowBQYDK2VwAyEA9GIh30S18p7aBA+ZdnsbNnbFzACYNMyy+S/nAwj1lWU=\n"
        "-----END PUBLIC KEY-----\n",
        "-----BEGIN PUBLIC KEY-----\n"
        "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwEXbUcDd+7s9WVZegMnj\n"
        "K2LbiOHVwTTx3SAh+uxKIjlw+4VLHnFPz6ZQPMG16K+WjIBwxzeZWkBIHEe7T7FA\n"
        "K3BlPLcyEpzCccc4FnWRCbZVQdFugr/GAPBS6zQs0eJrtSm/cZ8cwdbOwuXdWy9n\n"
        "JSz/Khr+LOOBUhCkEriqpMo9FnR10XKTmLT9NxB9EnQxqYxcbhI9NQw9fSMwhrjA\n"
        "6lwOYtEjDbTu313pJJzyTM3G5160V2HI76t0MDdi/CfdH1ltHS17mCnBasEkDDHa\n"
        "l9yAjfsBc/EWnsA+xr+MM308ekN1N/8tnGTcNuy4HS+fJV+kgu0WCs7eqr/BOJzN\n"
        "5wIDAQAB\n"
        "-----END PUBLIC KEY-----\n",
};

static struct sfu_keyring *ring;

static void ring_setup(void) {
        struct sfu_err err = SFU_ERR_INIT;

        if (sfu_keyring_new(&ring) < 0)
                abort();
        for (size_t i = 0; i < ELEMENTSOF(trusted_pems); i++) {
                struct sfu_key *key = NULL;
                if (sfu_key_from_buffer(trusted_pems[i], strlen(trusted_pems[i]), "embedded", false, &key,
                                        &err) < 0 ||
                    sfu_keyring_add(ring, key, &err) < 0)
                        abort();
        }
}

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
        unsigned valid = 0;

        if (!ring)
                ring_setup();

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
