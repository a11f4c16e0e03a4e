/* SPDX-License-Identifier: MIT */
/* COSE signatures over a manifest (RFC 9052; algorithms of RFC 9053 and
 * RFC 8812): COSE_Sign1 (tag 18) for one signer, COSE_Sign (tag 98) for
 * several.  The rules are the JWS rules of jws.h, in COSE's terms
 * (doc/cose.md):
 *  - the outermost item carries its tag; untagged structures, COSE_Mac,
 *    COSE_Encrypt and any other tag are refused;
 *  - strict CBOR everywhere (cbor.h), also inside the protected headers;
 *  - the payload is attached (nil, i.e. detached, is refused) and not
 *    empty; external AAD is always empty;
 *  - alg (label 1) only in the protected header, an integer of the
 *    algorithm table (alg.h); crit (label 2) only in the protected header,
 *    and since we understand no critical parameter, any crit is refused;
 *    a label in both the protected and the unprotected header is refused;
 *  - kid (label 4, a byte string, in either header) selects the trusted
 *    key whose kid has exactly these bytes; without kid every trusted key
 *    that fits the alg is tried;
 *  - the content type (label 3) in the protected header of the body (the
 *    only header of a COSE_Sign1) says what the payload is: a CBOR or a
 *    JSON manifest (SFU_COSE_CONTENT_*);
 *  - keys come only from the trust store: x5chain, x5u, COSE_Key or any
 *    other header is never used.
 * Parsing checks the structure and the types of the parameters above;
 * verifying applies the rules and needs the trust store. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/alg.h"
#include "core/err.h"
#include "core/hss.h"
#include "core/key.h"
#include "core/sig.h"

#define SFU_COSE_MAX_SIZE (4u * 1024u * 1024u)          /* a whole COSE structure */
#define SFU_COSE_MAX_SIGNATURES 16                      /* of a COSE_Sign */
#define SFU_COSE_MAX_HEADER 8192                        /* encoded bytes of one header map */
#define SFU_COSE_MAX_SIGNATURE SFU_HSS_SIGNATURE_MAX    /* bytes: HSS at 8 levels of H25/W1 (RSA: 2048) */
#define SFU_COSE_MAX_ITEMS 4096                         /* CBOR items of the outer structure */

#define SFU_COSE_TAG_SIGN1 18
#define SFU_COSE_TAG_SIGN 98

/* Header labels (RFC 9052 section 3.1). */
#define SFU_COSE_LABEL_ALG 1
#define SFU_COSE_LABEL_CRIT 2
#define SFU_COSE_LABEL_CONTENT_TYPE 3
#define SFU_COSE_LABEL_KID 4

/* The content types secfu-manifest writes.  Also accepted:
 * "application/cbor" and CoAP Content-Format 60 for CBOR,
 * "application/json" and Content-Format 50 for JSON (media types compare
 * case-insensitively; parameters such as "; charset=" are refused). */
#define SFU_COSE_CONTENT_TYPE_CBOR "application/secfu-manifest+cbor"
#define SFU_COSE_CONTENT_TYPE_JSON "application/secfu-manifest+json"
#define SFU_COSE_CONTENT_FORMAT_JSON 50
#define SFU_COSE_CONTENT_FORMAT_CBOR 60

enum sfu_cose_form {
        SFU_COSE_SIGN1,
        SFU_COSE_SIGN,
};

/* What the content type says the payload is. */
enum sfu_cose_content {
        SFU_COSE_CONTENT_NONE,          /* no content type in the body's protected header */
        SFU_COSE_CONTENT_OTHER,         /* a content type that is not a manifest's */
        SFU_COSE_CONTENT_CBOR,          /* a CBOR manifest */
        SFU_COSE_CONTENT_JSON,          /* a JSON manifest (manifest.json's bytes) */
        _SFU_COSE_CONTENT_MAX,
};
#define SFU_COSE_CONTENT_MASK(c) (1u << (c))
#define SFU_COSE_CONTENT_MANIFESTS (SFU_COSE_CONTENT_MASK(SFU_COSE_CONTENT_CBOR) | SFU_COSE_CONTENT_MASK(SFU_COSE_CONTENT_JSON))

#define SFU_COSE_TEXT_MAX 84            /* quoted header text kept for messages */

/* What one layer's two header buckets say about the parameters we act on. */
struct sfu_cose_header {
        const uint8_t *protected_bytes; /* the protected bstr's contents as received */
        size_t protected_len;
        const uint8_t *unprotected_raw; /* the encoded unprotected map as received */
        size_t unprotected_len;

        bool has_alg, alg_unprotected, alg_is_text;
        int64_t alg;                    /* when !alg_is_text */
        char alg_text[SFU_COSE_TEXT_MAX];       /* when alg_is_text, for messages */
        bool has_crit, crit_unprotected;
        char crit_first[SFU_COSE_TEXT_MAX];     /* the first label crit names, for messages */
        bool has_content_type, content_type_unprotected;
        enum sfu_cose_content content;
        char content_type[SFU_COSE_TEXT_MAX];   /* as text, for messages */
        bool has_kid;
        const uint8_t *kid;
        size_t kid_len;
};

struct sfu_cose_signature {
        struct sfu_cose_header header;  /* COSE_Sign only; a COSE_Sign1's is the body */
        const uint8_t *signature;
        size_t signature_len;
        const uint8_t *raw;             /* the encoded COSE_Signature as received */
        size_t raw_len;
};

struct sfu_cose {
        enum sfu_cose_form form;
        uint8_t *buf;                   /* a copy of the input; everything points into it */
        size_t len;
        struct sfu_cose_header body;
        const uint8_t *payload;
        size_t payload_len;
        enum sfu_cose_content content;  /* from the body's protected content type */
        struct sfu_cose_signature signatures[SFU_COSE_MAX_SIGNATURES];
        size_t n_signatures;            /* 1 for COSE_Sign1 */
};

/* Parses a tagged COSE_Sign1 or COSE_Sign.  Errors: SFU_ERR_SIZE (limits
 * above), SFU_ERR_PARSE with one-line reasons.  Does not check alg, crit
 * or keys (that is verify's job). */
int sfu_cose_parse(const uint8_t *buf, size_t len, struct sfu_cose **ret, struct sfu_err *err) _wur_;

struct sfu_cose_verify_opts {
        unsigned alg_allow;             /* mask; 0 means SFU_ALG_MASK_ALL */
        unsigned min_signatures;        /* distinct trusted keys needed; 0 means 1 */
        unsigned content_allow;         /* mask of SFU_COSE_CONTENT_MASK(); 0 means SFU_COSE_CONTENT_MANIFESTS */
        /* Told why each signature that counts for nothing did not count
         * (may be NULL): a debug note for the caller's log. */
        void (*note)(void *userdata, const char *why);
        void *userdata;
        unsigned *ret_algs;             /* set to the mask of the algs that counted (may be NULL) */
        const struct sfu_key **ret_signers;     /* as in sfu_jws_verify_opts */
};

/* Verifies cose against ring.  Succeeds when at least min_signatures
 * distinct trusted keys made valid signatures.  A signature with an
 * unsupported or disallowed alg, a kid no trusted key has, a key that does
 * not fit the alg (or is restricted to another by its JWK "alg", or is RSA
 * below SFU_RSA_MIN_BITS), or that does not verify counts for nothing (and
 * is named in a note); a defect of the
 * structure fails the whole: alg missing or only in the unprotected header,
 * any crit, a content type that is missing, unprotected or not in
 * content_allow.  On success *ret_valid (may be NULL) is the number of
 * distinct keys that verified; the payload is cose->payload and its kind
 * cose->content.  Errors are SFU_ERR_SIGNATURE (SFU_ERR_POLICY for
 * alg-list and content-type refusals) with one-line reasons. */
int sfu_cose_verify(const struct sfu_cose *cose, const struct sfu_keyring *ring,
                    const struct sfu_cose_verify_opts *opts, unsigned *ret_valid, struct sfu_err *err) _wur_;

/* The Sig_structure of RFC 9052 section 4.4 for signature idx (0-based)
 * with an empty external AAD, as a new buffer. */
int sfu_cose_sig_structure(const struct sfu_cose *cose, size_t idx, uint8_t **ret, size_t *ret_len) _wur_;

/* "COSE_Sign1" / "COSE_Sign"; "CBOR manifest", "JSON manifest", ... */
const char *sfu_cose_form_name(enum sfu_cose_form form);
const char *sfu_cose_content_name(enum sfu_cose_content content);

void sfu_cose_free(struct sfu_cose *cose);
static inline void sfu_cose_freep(struct sfu_cose **c) { sfu_cose_free(*c); }
#define _cleanup_cose_ _cleanup_(sfu_cose_freep)

/* ---------------------------------------------------------------- signing
 * cose-sign.c, linked by secfu-manifest and the tests only.  Everything is
 * written in deterministic encoding (RFC 8949 section 4.2.1). */

struct sfu_cose_sign_opts {
        enum sfu_alg alg;
        const char *kid;                /* NULL: the key's kid; "": no kid */
        enum sfu_cose_content content;  /* SFU_COSE_CONTENT_CBOR or _JSON */
};

/* COSE_Sign1: protected {1: alg, 3: content type, 4: kid}, unprotected {}. */
int sfu_cose_sign1(const uint8_t *payload, size_t payload_len, const struct sfu_key *key,
                   const struct sfu_cose_sign_opts *opts, uint8_t **ret, size_t *ret_len,
                   struct sfu_err *err) _wur_;
/* COSE_Sign with one signature: body protected {3: content type}, the
 * signature's protected {1: alg, 4: kid}. */
int sfu_cose_sign(const uint8_t *payload, size_t payload_len, const struct sfu_key *key,
                  const struct sfu_cose_sign_opts *opts, uint8_t **ret, size_t *ret_len,
                  struct sfu_err *err) _wur_;
/* Adds a signature to a COSE_Sign, keeping everything it has byte for byte
 * (opts->content is not used: the body keeps its content type).  A
 * COSE_Sign1 cannot take a second signature (its one signature covers
 * "Signature1"): -EINVAL with a reason. */
int sfu_cose_add_signature(const struct sfu_cose *cose, const struct sfu_key *key,
                           const struct sfu_cose_sign_opts *opts, uint8_t **ret, size_t *ret_len,
                           struct sfu_err *err) _wur_;
/* The same with any signer (sig.h): a stateful HSS key signs this way. */
int sfu_cose_sign1_with(const uint8_t *payload, size_t payload_len, enum sfu_cose_content content,
                        const struct sfu_signer *signer, uint8_t **ret, size_t *ret_len, struct sfu_err *err) _wur_;
int sfu_cose_sign_with(const uint8_t *payload, size_t payload_len, enum sfu_cose_content content,
                       const struct sfu_signer *signer, uint8_t **ret, size_t *ret_len, struct sfu_err *err) _wur_;
int sfu_cose_add_signature_with(const struct sfu_cose *cose, const struct sfu_signer *signer, uint8_t **ret,
                                size_t *ret_len, struct sfu_err *err) _wur_;
