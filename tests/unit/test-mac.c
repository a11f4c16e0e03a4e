/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "core/mac.h"
#include "tap.h"

/* The check value of data, fed in pieces of `piece` bytes. */
static bool value_of(struct sfu_mac *mac, const uint8_t *data, size_t len, size_t piece, uint8_t out[SFU_MAC_SIZE]) {
        for (size_t off = 0; off < len; off += piece)
                if (sfu_mac_update(mac, data + off, len - off < piece ? len - off : piece) < 0)
                        return false;
        return sfu_mac_final(mac, out) == 0;
}

static void free_null_mac(void) {
        sfu_mac_free(NULL);
}

int main(void) {
        const size_t size = 1000003;
        uint8_t *data = malloc(size);
        uint8_t a[SFU_MAC_SIZE], b[SFU_MAC_SIZE], c[SFU_MAC_SIZE], zero[SFU_MAC_SIZE] = { 0 };
        struct sfu_mac *m = NULL, *same = NULL, *other = NULL;
        uint32_t x = 777;

        for (size_t i = 0; i < size; i++) {
                x = x * 1103515245u + 12345u;
                data[i] = (uint8_t) (x >> 16);
        }
        ok(sfu_mac_new(&m) == 0, "a check value under a random key");
        ok(value_of(m, data, size, 131072, a), "computed in 128 KiB pieces");
        ok(memcmp(a, zero, sizeof(a)) != 0, "the value is not all zeros");
        ok(sfu_mac_new_same_key(m, &same) == 0, "a second context under the same key");
        ok(value_of(same, data, size, 32768, b), "computed again in 32 KiB pieces");
        ok(memcmp(a, b, sizeof(a)) == 0, "same key, same bytes, other piece sizes: the same value");

        /* every single-bit change, at the start, inside, at the end */
        const size_t flips[] = { 0, 15, 16, 4096, size / 2, size - 1 };
        bool all_differ = true;
        for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
                data[flips[i]] ^= 0x01;
                if (sfu_mac_reset(same) < 0 || !value_of(same, data, size, 65536, c) || memcmp(a, c, sizeof(a)) == 0)
                        all_differ = false;
                data[flips[i]] ^= 0x01;
        }
        ok(all_differ, "a flipped bit anywhere changes the value");
        ok(sfu_mac_reset(same) == 0 && value_of(same, data, size - 1, 65536, c) && memcmp(a, c, sizeof(a)) != 0,
           "one byte fewer changes the value");
        uint8_t *longer = calloc(1, size + 16);
        memcpy(longer, data, size);
        ok(sfu_mac_reset(same) == 0 && value_of(same, longer, size + 16, 65536, c) && memcmp(a, c, sizeof(a)) != 0,
           "zeros appended change the value");
        free(longer);
        ok(sfu_mac_reset(same) == 0 && value_of(same, data, size, 1 << 20, c) && memcmp(a, c, sizeof(a)) == 0,
           "after a reset: the original bytes give the original value");

        ok(sfu_mac_new(&other) == 0, "another random key");
        ok(value_of(other, data, size, 131072, c) && memcmp(a, c, sizeof(a)) != 0,
           "another key gives another value for the same bytes");
        sfu_mac_free(m);
        sfu_mac_free(same);
        sfu_mac_free(other);
        ok(tap_survives(free_null_mac), "free accepts NULL");
        free(data);
        return tap_done();
}
