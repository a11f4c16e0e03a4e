/* SPDX-License-Identifier: MIT */
/* What several fuzz targets check alike: a refusal carries a one-line
 * message; a manifest a parser accepts validates and keeps its model
 * through another encoding; and a trust store of three embedded public
 * keys (P-256, Ed25519, RSA-2048) to verify against.  static inline:
 * each target takes what it uses. */
#pragma once
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/key.h"
#include "core/manifest.h"

/* A refusal's message: set, one line of printable characters. */
static inline void fuzz_check_message(const struct sfu_err *err) {
        if (!sfu_err_isset(err) || err->message[0] == 0)
                abort();
        for (const char *p = err->message; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        abort();
}

/* After a manifest parser returned r with m: false when there is nothing
 * more to check (a refusal, whose message must be good, or no memory);
 * else m validates and *ret_model is its JSON model. */
static inline bool fuzz_manifest_model(int r, const struct sfu_manifest *m, const struct sfu_err *err,
                                       json_t **ret_model) {
        if (r < 0) {
                if (r != -ENOMEM)
                        fuzz_check_message(err);
                return false;
        }
        if (sfu_manifest_validate(m, NULL) < 0)
                abort();
        r = sfu_manifest_to_json(m, ret_model);
        if (r < 0 && r != -ENOMEM)
                abort();
        return r == 0;
}

/* The manifest parsed again (r, again) from another encoding of model has
 * the same model (no memory aside). */
static inline void fuzz_manifest_same_model(int r, const struct sfu_manifest *again, const json_t *model) {
        _cleanup_json_ json_t *second = NULL;

        if (r == -ENOMEM)
                return;
        if (r < 0 || sfu_manifest_to_json(again, &second) < 0 || !json_equal(model, second))
                abort();
}

/* The trust store (made on first use). */
static inline struct sfu_keyring *fuzz_trusted_ring(void) {
        static const char *const pems[] = {
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
        struct sfu_err err = SFU_ERR_INIT;

        if (ring)
                return ring;
        if (sfu_keyring_new(&ring) < 0)
                abort();
        for (size_t i = 0; i < ELEMENTSOF(pems); i++) {
                struct sfu_key *key = NULL;
                if (sfu_key_from_buffer(pems[i], strlen(pems[i]), "embedded", false, &key, &err) < 0 ||
                    sfu_keyring_add(ring, key, &err) < 0)
                        abort();
        }
        return ring;
}
