/* SPDX-License-Identifier: MIT */
/* Verification of Leighton-Micali hash-based signatures: HSS over LMS over
 * LM-OTS (RFC 8554), with SHA-256 and n = m = 32, every tree height
 * (LMS_SHA256_M32_H5 ... H25) and every Winternitz width
 * (LMOTS_SHA256_N32_W1 ... W8), 1 to 8 levels.
 *
 * The byte strings are exactly RFC 8554's: a public key is
 * u32 L || LMS public key (section 6.1 and 5.3), 60 bytes; a signature is
 * u32 (L-1) || (L-1) x (LMS signature || LMS public key) || LMS signature
 * (section 6.2).  A trust store file NAME.hss holds the 60 public-key
 * bytes.  Parsing is strict: unknown type codes, a signature whose level
 * count differs from the key's, a leaf index outside its tree, a short
 * field and trailing bytes are all refused.
 *
 * Verification is pure and small: no allocation beyond two digest
 * contexts, no recursion, memory independent of the tree height.  The
 * signer (key generation, state) is in hss-sign.h, in its own object so
 * that the daemon does not link it. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/* The type codes of the IANA registries of RFC 8554 section 8. */
enum sfu_hss_lms_type {
        SFU_HSS_LMS_SHA256_M32_H5 = 5,
        SFU_HSS_LMS_SHA256_M32_H10 = 6,
        SFU_HSS_LMS_SHA256_M32_H15 = 7,
        SFU_HSS_LMS_SHA256_M32_H20 = 8,
        SFU_HSS_LMS_SHA256_M32_H25 = 9,
};
enum sfu_hss_lmots_type {
        SFU_HSS_LMOTS_SHA256_N32_W1 = 1,
        SFU_HSS_LMOTS_SHA256_N32_W2 = 2,
        SFU_HSS_LMOTS_SHA256_N32_W4 = 3,
        SFU_HSS_LMOTS_SHA256_N32_W8 = 4,
};

#define SFU_HSS_LEVELS_MAX 8
#define SFU_HSS_N 32                   /* n = m: SHA-256 output */
#define SFU_HSS_I_SIZE 16              /* the tree identifier I */
#define SFU_HSS_LMS_PUBLIC_KEY_SIZE 56 /* u32 type, u32 otstype, I, T[1] */
#define SFU_HSS_PUBLIC_KEY_SIZE 60     /* u32 L || LMS public key */
/* The largest HSS signature: 8 levels of LMS_SHA256_M32_H25 with
 * LMOTS_SHA256_N32_W1 (RFC 8554 sections 4.5, 5.4, 6.2). */
#define SFU_HSS_LMS_SIGNATURE_MAX (4 + 4 + SFU_HSS_N + 265 * SFU_HSS_N + 4 + 25 * SFU_HSS_N)
#define SFU_HSS_SIGNATURE_MAX                                                                               \
        (4 + (SFU_HSS_LEVELS_MAX - 1) * (SFU_HSS_LMS_SIGNATURE_MAX + SFU_HSS_LMS_PUBLIC_KEY_SIZE) +         \
         SFU_HSS_LMS_SIGNATURE_MAX)

/* Checks that pub is a well-formed HSS public key: exactly 60 bytes,
 * 1 <= L <= 8, known LMS and LM-OTS types.  SFU_ERR_PARSE otherwise. */
int sfu_hss_public_key_check(const uint8_t *pub, size_t len, struct sfu_err *err) _wur_;

/* Verifies an HSS signature of msg under pub.  0 when valid; a malformed
 * public key is SFU_ERR_PARSE, every other failure (malformed signature,
 * wrong types, levels, a leaf index out of range, a root that does not
 * match) is SFU_ERR_SIGNATURE with a one-line reason; -ENOMEM/-EIO when
 * the digest cannot be computed. */
int sfu_hss_verify(const uint8_t *pub, size_t pub_len, const uint8_t *msg, size_t msg_len,
                   const uint8_t *sig, size_t sig_len, struct sfu_err *err) _wur_;

/* The key id of a trust-store key: base64url (no padding) of SHA-256 over
 * the exact public-key bytes, 43 characters, as a new string.  -EINVAL
 * when pub is not a well-formed public key, -ENOMEM. */
int sfu_hss_kid(const uint8_t *pub, size_t len, char **ret) _wur_;

/* Tree height h (5..25) of an LMS type, Winternitz width w (1, 2, 4, 8) of
 * an LM-OTS type; 0 for an unknown code. */
unsigned sfu_hss_lms_height(uint32_t lms_type);
unsigned sfu_hss_lmots_width(uint32_t lmots_type);
/* "LMS_SHA256_M32_H10", "LMOTS_SHA256_N32_W4"; NULL for an unknown code. */
const char *sfu_hss_lms_type_name(uint32_t lms_type);
const char *sfu_hss_lmots_type_name(uint32_t lmots_type);
/* Size of one LMS signature with these types (0 for unknown codes). */
size_t sfu_hss_lms_signature_size(uint32_t lms_type, uint32_t lmots_type);
