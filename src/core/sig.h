/* SPDX-License-Identifier: MIT */
/* One signature with one key, in the form JOSE and COSE share (ECDSA as
 * raw R || S, RFC 7518 3.4 and RFC 9053 2.1). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/alg.h"
#include "core/err.h"
#include "core/key.h"

/* True when key can make/check signatures of alg (type, curve, RSA size). */
bool sfu_sig_fits_key(enum sfu_alg alg, const struct sfu_key *key);
/* The natural alg for a key; -EINVAL for RSA (the signer chooses). */
int sfu_sig_default_alg(const struct sfu_key *key, enum sfu_alg *ret) _wur_;
/* The exact signature length alg makes with key (RSA: the modulus size). */
size_t sfu_sig_size(enum sfu_alg alg, const struct sfu_key *key);

/* 1: valid, 0: not valid, < 0: an error. */
int sfu_sig_verify(enum sfu_alg alg, const struct sfu_key *key, const void *input, size_t input_len,
                   const uint8_t *sig, size_t sig_len) _wur_;
/* Signs (secfu-manifest only: sig-sign.c). A new buffer in the same form. */
int sfu_sig_sign(enum sfu_alg alg, const struct sfu_key *key, const void *input, size_t input_len,
                 uint8_t **ret, size_t *ret_len) _wur_;

/* Something that signs: a private key in memory (sfu_sig_signer_key), or
 * a stateful HSS key file that must record its next leaf before it
 * releases a signature (io/hsskey.c). */
struct sfu_signer {
        enum sfu_alg alg;
        const char *kid;                /* what the signature names; NULL: none */
        const struct sfu_key *key;      /* sign with this private key, or else: */
        int (*sign)(void *userdata, const void *input, size_t input_len, uint8_t **ret, size_t *ret_len,
                    struct sfu_err *err);
        void *userdata;
};
/* sig-sign.c: a signer of key with alg (checked: private, fitting); kid
 * NULL takes the key's, "" none. */
int sfu_sig_signer_key(const struct sfu_key *key, enum sfu_alg alg, const char *kid, struct sfu_signer *ret,
                       struct sfu_err *err) _wur_;
/* The signature of input in the shared form (ECDSA as R || S). */
int sfu_signer_sign(const struct sfu_signer *s, const void *input, size_t input_len, uint8_t **ret, size_t *ret_len,
                    struct sfu_err *err) _wur_;

/* ---------------------------------------------------------------- counting signatures */
/* The rule every signed format shares (JWS and COSE): a signature counts
 * when a trusted key verified it under the allow-list; one with an alg the
 * device does not take, an unknown kid, a key that cannot have made it or
 * that does not verify it counts for nothing; distinct keys are counted
 * against min-signatures. */

/* Why a signature counts for nothing, and the code it gets when it was the
 * only one. */
struct sfu_sig_miss {
        enum sfu_err_code code;
        char why[SFU_ERR_MESSAGE_MAX];
};
/* Fills m (one line); returns 0. */
int sfu_sig_miss(struct sfu_sig_miss *m, enum sfu_err_code code, const char *fmt, ...) _printf_(3, 4);

struct sfu_sig_check {
        size_t index;                   /* 1-based, for messages */
        enum sfu_alg alg;               /* allowed and known: the caller checked */
        const char *kid;                /* the key the signature names (bytes), or NULL: try every key */
        size_t kid_len;
        const void *input;              /* what was signed */
        size_t input_len;
        const uint8_t *sig;
        size_t sig_len;
};
/* The trusted key of ring that made the signature: *ret_key, or NULL with
 * m saying why it counts for nothing.  < 0 only when a check could not be
 * made at all (err). */
int sfu_sig_find_signer(const struct sfu_sig_check *c, const struct sfu_keyring *ring, const struct sfu_key **ret_key,
                        struct sfu_sig_miss *m, struct sfu_err *err) _wur_;

#define SFU_SIG_TALLY_MAX 16
struct sfu_sig_tally {
        const struct sfu_key *signers[SFU_SIG_TALLY_MAX];
        unsigned n_signers;
        size_t n_signatures;
        unsigned alg_mask;              /* SFU_ALG_MASK() of the signatures that counted */
        bool has_first;
        struct sfu_sig_miss first;      /* why the first that did not count did not */
};
/* One signature's outcome: key (it signed with alg), or NULL and m (told
 * to note). */
void sfu_sig_tally_add(struct sfu_sig_tally *t, enum sfu_alg alg, const struct sfu_key *key,
                       const struct sfu_sig_miss *m, void (*note)(void *userdata, const char *why), void *userdata);
/* 0 and *ret_valid (may be NULL) when enough distinct keys signed; else
 * the refusal: a lone signature's own reason, or the count. */
int sfu_sig_tally_result(const struct sfu_sig_tally *t, unsigned min_signatures, unsigned *ret_valid,
                         struct sfu_err *err) _wur_;
