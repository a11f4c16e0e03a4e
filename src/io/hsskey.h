/* SPDX-License-Identifier: MIT */
/* The stateful HSS private-key file of the signer (doc/hss.md).  Every
 * signature advances the file's index, durably, before the signature is
 * computed: a crash can lose indices, never use one twice.
 *
 * The file must be a regular file (not a symbolic link), of mode 0600,
 * with a single hard link.  A signer holds flock(LOCK_EX) on it from
 * reading the state to renaming the new state into place, so concurrent
 * signers take distinct indices.  Copies of the file (backups, a restored
 * snapshot) are copies of the state: signing from two copies reuses
 * one-time keys and breaks the scheme. */
#pragma once
#include <stdint.h>
#include "core/err.h"
#include "core/hss-sign.h"
#include "core/sig.h"

/* Creates path (which must not exist) with a fresh key, mode 0600, durably
 * (temporary file, fsync, link into place, fsync of the directory).
 * Writes the 60-byte public key to pub. */
int sfu_hsskey_generate(const char *path, const struct sfu_hss_params *params,
                        uint8_t pub[SFU_HSS_PUBLIC_KEY_SIZE], struct sfu_err *err) _wur_;

/* Signs msg with the next index of the key in path: lock, read, advance
 * and durably write the state, then sign (and self-verify).  A new
 * signature buffer in *ret_sig; the signatures left afterwards in
 * *ret_remaining (may be NULL).  An exhausted key is SFU_ERR_STATE:
 * "HSS key PATH is exhausted: all N signatures used". */
int sfu_hsskey_sign(const char *path, const uint8_t *msg, size_t msg_len, uint8_t **ret_sig,
                    size_t *ret_sig_len, uint64_t *ret_remaining, struct sfu_err *err) _wur_;

/* Reads the key without signing: its parameters, public key and the
 * signatures left (each may be NULL). */
int sfu_hsskey_info(const char *path, struct sfu_hss_params *ret_params,
                    uint8_t pub[SFU_HSS_PUBLIC_KEY_SIZE], uint64_t *ret_remaining,
                    struct sfu_err *err) _wur_;

/* A signer (core/sig.h) that signs with the key file at path: each
 * signature advances the file's state first.  kid_buf receives the key's
 * kid (sfu_hss_kid), which the signer names; remaining (may be NULL) is
 * set after each signature. */
struct sfu_hsskey_signer {
        const char *path;
        char kid[64];
        uint64_t remaining;
};
int sfu_hsskey_signer(const char *path, struct sfu_hsskey_signer *state, struct sfu_signer *ret,
                      struct sfu_err *err) _wur_;
