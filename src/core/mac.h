/* SPDX-License-Identifier: MIT */
/* A keyed check value for comparing bytes with themselves later:
 * Poly1305 with a fresh random key per sfu_mac_new(), kept in memory only
 * and wiped on free.
 *
 * Staging computes it over the image bytes as they are hashed, and again
 * over what the slot holds when it is read back before the switch: equal
 * values mean equal bytes, except with probability at most
 * 8 * ceil(L / 16) / 2^106 for any two different inputs of up to L bytes
 * chosen without knowledge of the key (Poly1305's hash is a polynomial in
 * the secret r, of that degree; about 2^-79 for 256 MiB).  Neither the key
 * nor a value ever leaves the process, so nobody can learn or aim at them;
 * it runs at memory speed, several times faster than SHA-256.
 * doc/staging.md has the argument in full. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "core/macro.h"

#define SFU_MAC_SIZE 16

struct sfu_mac;

/* A context under a new random key. */
int sfu_mac_new(struct sfu_mac **ret) _wur_;
/* A fresh context under the same key as mac (for the second pass). */
int sfu_mac_new_same_key(const struct sfu_mac *mac, struct sfu_mac **ret) _wur_;
int sfu_mac_update(struct sfu_mac *mac, const void *buf, size_t len) _wur_;
/* Finishes; after this only _reset and _free are valid. */
int sfu_mac_final(struct sfu_mac *mac, uint8_t out[SFU_MAC_SIZE]) _wur_;
/* Starts over under the same key. */
int sfu_mac_reset(struct sfu_mac *mac) _wur_;
void sfu_mac_free(struct sfu_mac *mac);
static inline void sfu_mac_freep(struct sfu_mac **p) { sfu_mac_free(*p); }
#define _cleanup_mac_ _cleanup_(sfu_mac_freep)
