/* SPDX-License-Identifier: MIT */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/mac.h"

#define MAC_KEY_SIZE 32         /* Poly1305: r (clamped to 106 bits) and s */

struct sfu_mac {
        EVP_MAC_CTX *ctx;
        uint8_t key[MAC_KEY_SIZE];
};

static int mac_init(struct sfu_mac *mac) {
        return EVP_MAC_init(mac->ctx, mac->key, sizeof(mac->key), NULL) == 1 ? 0 : -EIO;
}

static int mac_alloc(struct sfu_mac **ret) {
        EVP_MAC *alg = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_POLY1305, NULL);
        struct sfu_mac *mac;

        if (!alg)
                return -EOPNOTSUPP;
        mac = calloc(1, sizeof(*mac));
        if (!mac) {
                EVP_MAC_free(alg);
                return -ENOMEM;
        }
        mac->ctx = EVP_MAC_CTX_new(alg);
        EVP_MAC_free(alg);      /* the context holds its own reference */
        if (!mac->ctx) {
                free(mac);
                return -ENOMEM;
        }
        *ret = mac;
        return 0;
}

int sfu_mac_new(struct sfu_mac **ret) {
        struct sfu_mac *mac = NULL;
        int r = mac_alloc(&mac);

        if (r < 0)
                return r;
        if (RAND_bytes(mac->key, sizeof(mac->key)) != 1)
                r = -EIO;
        if (r == 0)
                r = mac_init(mac);
        if (r < 0) {
                sfu_mac_free(mac);
                return r;
        }
        *ret = mac;
        return 0;
}

int sfu_mac_new_same_key(const struct sfu_mac *mac, struct sfu_mac **ret) {
        struct sfu_mac *copy = NULL;
        int r = mac_alloc(&copy);

        if (r < 0)
                return r;
        memcpy(copy->key, mac->key, sizeof(copy->key));
        r = mac_init(copy);
        if (r < 0) {
                sfu_mac_free(copy);
                return r;
        }
        *ret = copy;
        return 0;
}

int sfu_mac_update(struct sfu_mac *mac, const void *buf, size_t len) {
        return EVP_MAC_update(mac->ctx, buf, len) == 1 ? 0 : -EIO;
}

int sfu_mac_final(struct sfu_mac *mac, uint8_t out[SFU_MAC_SIZE]) {
        size_t len = 0;
        if (EVP_MAC_final(mac->ctx, out, &len, SFU_MAC_SIZE) != 1 || len != SFU_MAC_SIZE)
                return -EIO;
        return 0;
}

int sfu_mac_reset(struct sfu_mac *mac) {
        return mac_init(mac);
}

void sfu_mac_free(struct sfu_mac *mac) {
        if (!mac)
                return;
        EVP_MAC_CTX_free(mac->ctx);
        OPENSSL_cleanse(mac->key, sizeof(mac->key));
        free(mac);
}
