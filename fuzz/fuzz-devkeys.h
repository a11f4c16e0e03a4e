/* SPDX-License-Identifier: MIT */
/* The device keys of the decryption fuzz targets (fuzz-jwe.c,
 * fuzz-cose-crypt.c): P-256, X25519 and RSA-2048, made for fuzzing only;
 * the seeds in fuzz/corpus/jwe/ and fuzz/corpus/cose-crypt/ are encrypted
 * to them, so that the fuzzer reaches the unwrap and the tag check. */
#pragma once
#include <stdlib.h>
#include <string.h>

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

static inline void ring_setup(void) {
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

