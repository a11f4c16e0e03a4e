/* SPDX-License-Identifier: MIT */
/* Making JWS: used by secfu-manifest only, so that the daemon links no
 * signing code. */
#include "core/alg.h"
#include "core/b64url.h"
#include "core/json.h"
#include "core/jws.h"
#include "core/jws-internal.h"
#include "core/sig.h"

/* Room kept beside the payload when signing, for headers and signatures. */
#define JWS_SIGN_RESERVE (256u * 1024u)

struct new_signature {
        char *protected_b64;
        char *signature_b64;
};
static void new_signature_freep(struct new_signature *s) {
        free(s->protected_b64);
        free(s->signature_b64);
}

static int make_signature(const char *payload_b64, const struct sfu_key *key,
                          const struct sfu_jws_sign_opts *opts, struct new_signature *ret,
                          struct sfu_err *err) {
        _cleanup_json_ json_t *header = NULL;
        _cleanup_free_ char *header_text = NULL, *protected_b64 = NULL, *input = NULL, *sig_b64 = NULL;
        _cleanup_free_ uint8_t *sig = NULL;
        const char *kid, *typ;
        size_t input_len = 0, sig_len = 0;
        int r;

        if (!key || !key->pkey || !opts)
                return -EINVAL;
        if ((unsigned) opts->alg >= _SFU_ALG_MAX)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EINVAL, "invalid signature algorithm");
        if (!key->is_private)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, ENOKEY,
                                   "%s is a public key; signing needs the private key",
                                   key->source ? key->source : "the key");
        if (!sfu_sig_fits_key(opts->alg, key))
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EKEYREJECTED, "alg %s does not fit the %s key %s",
                                   sfu_alg_name(opts->alg), sfu_key_type_name(key->type),
                                   key->source ? key->source : "");
        kid = opts->kid ? opts->kid : key->kid;
        typ = opts->typ ? opts->typ : SFU_JWS_TYP_MANIFEST;

        header = json_object();
        if (!header || json_object_set_new(header, "alg", json_string(sfu_alg_name(opts->alg))) < 0)
                return -ENOMEM;
        if (kid) {
                json_t *k = json_string(kid);
                if (!k)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "kid is not valid UTF-8");
                if (json_object_set_new(header, "kid", k) < 0)
                        return -ENOMEM;
        }
        {
                json_t *t = json_string(typ);
                if (!t)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "typ is not valid UTF-8");
                if (json_object_set_new(header, "typ", t) < 0)
                        return -ENOMEM;
        }
        header_text = json_dumps(header, JSON_COMPACT);
        if (!header_text)
                return -ENOMEM;
        if (strlen(header_text) > SFU_JWS_MAX_HEADER)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG,
                                   "the protected header exceeds the limit of %u bytes", SFU_JWS_MAX_HEADER);
        protected_b64 = sfu_b64url_encode((const uint8_t *) header_text, strlen(header_text));
        if (!protected_b64)
                return -ENOMEM;
        r = sfu_jws_signing_input(protected_b64, payload_b64, &input, &input_len);
        if (r < 0)
                return r;
        r = sfu_sig_sign(opts->alg, key, input, input_len, &sig, &sig_len);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, -r, "signing with %s failed",
                                   sfu_alg_name(opts->alg));
        sig_b64 = sfu_b64url_encode(sig, sig_len);
        if (!sig_b64)
                return -ENOMEM;
        ret->protected_b64 = TAKE_PTR(protected_b64);
        ret->signature_b64 = TAKE_PTR(sig_b64);
        return 0;
}

static json_t *signature_object(const char *protected_b64, json_t *unprotected, const char *signature_b64) {
        _cleanup_json_ json_t *obj = json_object();

        if (!obj)
                return NULL;
        if (protected_b64 && protected_b64[0] &&
            json_object_set_new(obj, "protected", json_string(protected_b64)) < 0)
                return NULL;
        if (unprotected && json_object_set(obj, "header", unprotected) < 0)
                return NULL;
        if (json_object_set_new(obj, "signature", json_string(signature_b64)) < 0)
                return NULL;
        return TAKE_PTR(obj);
}

static int dump(json_t *root, char **ret) {
        char *s = json_dumps(root, JSON_COMPACT);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int sfu_jws_sign(const uint8_t *payload, size_t payload_len, const struct sfu_key *key,
                 const struct sfu_jws_sign_opts *opts, char **ret, struct sfu_err *err) {
        _cleanup_(new_signature_freep) struct new_signature ns = {};
        _cleanup_free_ char *payload_b64 = NULL;
        _cleanup_json_ json_t *root = NULL, *sigs = NULL;
        int r;

        if (!payload || payload_len == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "cannot sign an empty payload");
        /* The result must stay parseable: payload, headers and up to
         * SFU_JWS_MAX_SIGNATURES signatures within SFU_JWS_MAX_SIZE. */
        if (payload_len > (SFU_JWS_MAX_SIZE - JWS_SIGN_RESERVE) / 4 * 3)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG,
                                   "payload of %zu bytes is too large to sign (at most %u bytes)",
                                   payload_len, (SFU_JWS_MAX_SIZE - JWS_SIGN_RESERVE) / 4 * 3);
        if (!opts)
                return -EINVAL;
        payload_b64 = sfu_b64url_encode(payload, payload_len);
        if (!payload_b64)
                return -ENOMEM;
        r = make_signature(payload_b64, key, opts, &ns, err);
        if (r < 0)
                return r;

        switch (opts->form) {
        case SFU_JWS_COMPACT: {
                char *out = NULL;
                if (asprintf(&out, "%s.%s.%s", ns.protected_b64, payload_b64, ns.signature_b64) < 0)
                        return -ENOMEM;
                *ret = out;
                return 0;
        }
        case SFU_JWS_FLATTENED:
                root = json_object();
                if (!root || json_object_set_new(root, "payload", json_string(payload_b64)) < 0 ||
                    json_object_set_new(root, "protected", json_string(ns.protected_b64)) < 0 ||
                    json_object_set_new(root, "signature", json_string(ns.signature_b64)) < 0)
                        return -ENOMEM;
                return dump(root, ret);
        case SFU_JWS_GENERAL:
                root = json_object();
                sigs = json_array();
                if (!root || !sigs || json_object_set_new(root, "payload", json_string(payload_b64)) < 0 ||
                    json_array_append_new(sigs, signature_object(ns.protected_b64, NULL, ns.signature_b64)) <
                            0 ||
                    json_object_set_new(root, "signatures", TAKE_PTR(sigs)) < 0)
                        return -ENOMEM;
                return dump(root, ret);
        }
        return -EINVAL;
}

int sfu_jws_add_signature(const struct sfu_jws *jws, const struct sfu_key *key,
                          const struct sfu_jws_sign_opts *opts, char **ret, struct sfu_err *err) {
        _cleanup_(new_signature_freep) struct new_signature ns = {};
        _cleanup_json_ json_t *root = NULL, *sigs = NULL;
        int r;

        if (!jws || !jws->payload_b64 || !opts)
                return -EINVAL;
        if (jws->n_signatures >= SFU_JWS_MAX_SIGNATURES)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG,
                                   "the JWS already has the maximum of %d signatures",
                                   SFU_JWS_MAX_SIGNATURES);
        r = make_signature(jws->payload_b64, key, opts, &ns, err);
        if (r < 0)
                return r;

        root = json_object();
        sigs = json_array();
        if (!root || !sigs || json_object_set_new(root, "payload", json_string(jws->payload_b64)) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < jws->n_signatures; i++) {
                const struct sfu_jws_signature *s = &jws->signatures[i];
                _cleanup_free_ char *sig_b64 = sfu_b64url_encode(s->signature, s->signature_len);
                if (!sig_b64 ||
                    json_array_append_new(
                            sigs, signature_object(s->protected_b64, s->unprotected_header, sig_b64)) < 0)
                        return -ENOMEM;
        }
        if (json_array_append_new(sigs, signature_object(ns.protected_b64, NULL, ns.signature_b64)) < 0 ||
            json_object_set_new(root, "signatures", TAKE_PTR(sigs)) < 0)
                return -ENOMEM;
        return dump(root, ret);
}
