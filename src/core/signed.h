/* SPDX-License-Identifier: MIT */
/* A signed manifest in any of the forms a device takes (doc/manifest.md,
 * "Forms"): a JWS (compact or JSON serialization) over a JSON manifest, or
 * a COSE_Sign1 / COSE_Sign over a CBOR or a JSON manifest.  The form is
 * told by the bytes; the content type a server sent may only agree.  One
 * manifest model and one signature rule (sig.h) behind every form. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "core/key.h"
#include "core/manifest.h"
#include "core/sig.h"

enum sfu_signed_form {
        SFU_SIGNED_JWS_COMPACT,
        SFU_SIGNED_JWS_JSON,
        SFU_SIGNED_COSE_SIGN1,
        SFU_SIGNED_COSE_SIGN,
        _SFU_SIGNED_FORM_MAX,
};

/* The families a configuration names ([security] formats): "jws", "cose". */
enum sfu_signed_family {
        SFU_SIGNED_FAMILY_JWS,
        SFU_SIGNED_FAMILY_COSE,
        _SFU_SIGNED_FAMILY_MAX,
};
#define SFU_SIGNED_FAMILY_MASK(f) (1u << (f))
#define SFU_SIGNED_FAMILY_ALL ((1u << _SFU_SIGNED_FAMILY_MAX) - 1)
#define SFU_SIGNED_MAX_FAMILIES _SFU_SIGNED_FAMILY_MAX

/* The form of buf, by its bytes: -EINVAL when it is none of them. */
int sfu_signed_detect(const void *buf, size_t len, enum sfu_signed_form *ret) _wur_;
enum sfu_signed_family sfu_signed_family_of(enum sfu_signed_form form);
const char *sfu_signed_form_name(enum sfu_signed_form form);           /* "JWS compact", "COSE_Sign1", ... */
const char *sfu_signed_family_name(enum sfu_signed_family family);     /* "jws", "cose" */
int sfu_signed_family_from_name(const char *name, enum sfu_signed_family *ret) _wur_;
/* Whether a Content-Type value is type (parameters and case ignored). */
bool sfu_signed_media_type_is(const char *content_type, const char *type);
/* The media type a server names the form with ("application/jose", ...). */
const char *sfu_signed_media_type(enum sfu_signed_form form);

struct sfu_signed_opts {
        unsigned families;              /* mask of SFU_SIGNED_FAMILY_MASK(); 0: all */
        unsigned alg_allow;             /* 0: all */
        unsigned min_signatures;        /* 0: 1 */
        size_t max_manifest_size;       /* 0: SFU_MANIFEST_MAX_SIZE */
        const char *content_type;       /* what the server said (may be NULL): must not contradict the bytes */
        void (*note)(void *userdata, const char *why);  /* signatures that counted for nothing */
        void *userdata;
        struct sfu_scope_report *scope_report;  /* who vouched for which component (may be NULL) */
};

struct sfu_signed_info {
        enum sfu_signed_form form;
        bool cbor;                      /* the manifest inside is CBOR (else JSON) */
        unsigned alg_mask;              /* the algorithms of the signatures that counted */
        unsigned signers;               /* distinct trusted keys */
        /* The first `signers` entries: those keys, in the order they first
         * counted (borrowed from the ring). */
        const struct sfu_key *signer_keys[SFU_SIG_TALLY_MAX];
};

struct sfu_scope_report;

/* Recognises, verifies and parses: the manifest of a signed manifest that
 * the trust store ring vouches for, each signature for what its key's
 * scope covers (core/scope.h).  Refusals are one-line reasons
 * (SFU_ERR_PARSE, SFU_ERR_SIGNATURE, SFU_ERR_POLICY for a form or an
 * algorithm the options do not allow). */
int sfu_signed_open(const void *buf, size_t len, const struct sfu_keyring *ring, const struct sfu_signed_opts *opts,
                    struct sfu_manifest **ret, struct sfu_signed_info *ret_info, struct sfu_err *err) _wur_;

/* "ES256, HSS-LMS" for a mask of algorithms, into buf. */
const char *sfu_signed_alg_names(unsigned alg_mask, char *buf, size_t size);
