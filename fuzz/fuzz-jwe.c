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

static const char *const device_pems[] = {
        /* p256 */
        "-----BEGIN PRIVATE KEY-----\n"
        "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgvvT0Fui4KxGObMKP\n"
        "FBazukQ0mGx5Ee3FfXKpI9p5qO2hRANCAARNEkO5lsunNWH3Cj+2/BIKsP2Tahds\n"
        "AcYqflJombcksWQxRq3WNq5goHwgtNDkEJS+LV1MYgSFu91LzJTKBpOG\n"
        "-----END PRIVATE KEY-----\n"
        ,
        /* x25519 */
        "-----BEGIN PRIVATE KEY-----\n"
        "MC4CAQAwBQYDK2VuBCIEIGhJMnCGSpnm5oVAkdaT9HsshpBYKEnzlPXA3TCQk5Zm\n"
        "-----END PRIVATE KEY-----\n"
        ,
        /* rsa */
        "-----BEGIN PRIVATE KEY-----\n"
        "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC6FqjRqv/dtskW\n"
        "b/UNwdqdqrYiemX4UBC5PMn96UmQldUzT2EJIG3tyCTV3U87E2uyHHcJc4Sx6Bw2\n"
        "YMKAbLFVE4nN1BfGX7yia+OyS+lGiYTyKztTyclMO9iyMeoYErmghJatznOo7/G5\n"
        "dNgtGeWkfLXeJriV9IkjeNtBBuL9zm8Wh0lRBC+eG9UtRxFdRfgqL5WHw+sTr5RT\n"
        "lf7jWfdHCA6Vb+YOzEd0D4zFad71yblQ6pA320/4Gw91W4mo/m605XujfZmDS34E\n"
        "Ycv7U3ULN4b6pLanh3JH+2NG/aEfeJhamgCSYHNaecvymc7aTqs8zNfyfMPVOW0b\n"
        "qrgubFOFAgMBAAECggEACeMOUSV+tq7xfCmyoWp9TQc26hoKtOi8GrtqF/1/FRmA\n"
        "3FsJUszQSmPp4RsDDKZ5gFsWz/+9Ox6T8Seu7dfYjCafmbn9EWMgyJhm3qA94quH\n"
        "zr4RRuBfu5cqaj1QrLrB9g9VWiKv7nfhJfNZUPwhQV4G46i3AfCeIK5ZJ9lP0iBA\n"
        "cX+cexoOQbLYb6dEYbuabB/SuvzelD/vLFBS8x6egjE4qfaTih9G4yez5n1/N9Ya\n"
        "LLKsNsF0N2lsGFS+nue5PYrKV7B+PbUz4CcARfUFVWBdJLghGuBdeKaNQpJ37dR5\n"
        "Td7Jiesru40sfxfBF0OElCjPhCPyqNBLp970pCjHQQKBgQDqxXxtv+9WphT2YuBT\n"
        "4S6e3FgMRXajOaNtXyW7TydHXqWr6eJrf/essHD8Yw/JqctUApOJHio8sYk4p9QQ\n"
        "FmMmPobRWv5YM7cXwDjibIexI8FWJwkNRUaQ+vRIK1Gr6O2nTbcu1HJRA2WHkUS7\n"
        "QZJgDWNz8IOvFEpJHcBEX0LVjQKBgQDK6kGPDXCAd7mp0aDRs/fe1pKoX0xuJbx/\n"
        "dLIxYvh8YienGsWvcRFn2xpLs5A3UAOKmIipLr480ysX0ELiJS6bvfoY0s1W6UeG\n"
        "9PyfFYnLqwy5M64OCJjJHICRsDQ6mEvG+JZmpLvfFsFU+fGEAkRRrcP+CaiXH7S6\n"
        "/d7yCUlL2QKBgFgwOt9XG+ammHU9Cxs3GTYfewuRBFGoExXAigHkZ9LNYNpFDwJm\n"
        "nXjHBoooBAQyvege16DILgGChxM7J9OrNS9miWoXDje/pWVMlZGoRwhpb/SW0TWk\n"
        "8i7/tcduTk2PP8Z60PbMYuy/o+Ha1cCpjvx5ywQAMtcPfiAdBt4oEoj5AoGBAL8U\n"
        "DRw6maBAHfPOVVRj1pxfDsfCxeRLYM/dAhgDjN8ERzbSvSlSngNgjciPlNShYlRX\n"
        "Awnd3ILGj6PjF7iBLvy1zxclGvwmvJZXiLP9wj6qGlckVVkdu1JWprOKbARpeaIq\n"
        "YObTZZ7UfMYaf9XBlLgdm5xTWBDHaJdVjWX6XK0xAoGBANgphWacrx5V7TDKUZt3\n"
        "XuUVzLkw8Abga0lnPK0kXkB+PhofRcW5M/yrRCo3XkRg44mErJE+DZdob7OLkDzF\n"
        "rc35TnBPR5TfutycjJBrwSTy3g/ocgJShFiOo+ediXOs2UPqvyXQX+HElBTxRoa7\n"
        "HndgLypqbF7YKC/yB9oARtTn\n"
        "-----END PRIVATE KEY-----\n"
        ,
};

static struct sfu_keyring *ring;

static void ring_setup(void) {
        struct sfu_err err = SFU_ERR_INIT;

        if (sfu_keyring_new(&ring) < 0)
                abort();
        for (size_t i = 0; i < ELEMENTSOF(device_pems); i++) {
                struct sfu_key *key = NULL;
                if (sfu_key_from_buffer_for(device_pems[i], strlen(device_pems[i]), "embedded", SFU_KEY_USE_ENC, true,
                                            &key, &err) < 0 ||
                    sfu_keyring_add(ring, key, &err) < 0)
                        abort();
        }
}

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
