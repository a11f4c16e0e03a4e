/* SPDX-License-Identifier: MIT */
/* The encrypted envelope around a signed manifest (doc/encryption.md): a
 * JWE (core/jwe.h) or a COSE_Encrypt (core/cose-crypt.h).  Recognised by
 * its first bytes, opened with the device's decryption keys; the
 * plaintext is a signed manifest for core/signed.h. */
#pragma once
#include <stddef.h>
#include "core/err.h"
#include "core/jwe.h"
#include "core/key.h"

enum sfu_envelope {
        SFU_ENVELOPE_NONE,              /* not encrypted (or not recognisably so) */
        SFU_ENVELOPE_JWE,
        SFU_ENVELOPE_COSE,              /* COSE_Encrypt (a COSE_Encrypt0 is recognised to be refused) */
};

enum sfu_envelope sfu_envelope_detect(const void *buf, size_t len);
/* "JWE", "COSE_Encrypt", "none". */
const char *sfu_envelope_name(enum sfu_envelope e);

/* Opens buf (an envelope of the detected kind; a JWE may end with white
 * space) with one of keys: sfu_jwe_open_manifest or
 * sfu_cose_crypt_open_manifest. */
int sfu_envelope_open(const void *buf, size_t len, const struct sfu_keyring *keys, struct sfu_jwe_result *ret,
                      struct sfu_err *err) _wur_;
