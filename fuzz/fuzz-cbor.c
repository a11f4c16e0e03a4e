/* SPDX-License-Identifier: MIT */
/* The strict CBOR decoder and the CBOR manifest front end on arbitrary
 * bytes.  Besides crashes and leaks it checks the promises of cbor.h and
 * manifest.h:
 *  - a decoded document's items cover exactly the input, each inside its
 *    parent;
 *  - a document the manifest mapping takes encodes deterministically and
 *    decodes back to the same tree (decoder and encoder agree), and the
 *    deterministic form is a fixed point;
 *  - a refused manifest carries a one-line message; an accepted one
 *    survives sfu_manifest_to_json() -> CBOR -> sfu_manifest_parse_cbor()
 *    with the same model. */
#include <stdint.h>

#include "core/cbor.h"
#include "core/json.h"
#include "core/manifest.h"
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_items(const struct sfu_cbor *c, size_t size) {
        const struct sfu_cbor_item *root = sfu_cbor_root(c);

        if (root->n_items != c->n_items || root->offset + root->size != size)
                abort();
        for (size_t i = 0; i < c->n_items; i++) {
                const struct sfu_cbor_item *it = &c->items[i], *end = sfu_cbor_next(it);
                if (it->n_items == 0 || end > c->items + c->n_items)
                        abort();
                /* everything inside lies inside its bytes */
                for (const struct sfu_cbor_item *in = it + 1; in < end; in++)
                        if (in->offset < it->offset || in->offset + in->size > it->offset + it->size)
                                abort();
        }
}

static void decoder_and_encoder(const uint8_t *data, size_t size) {
        const struct sfu_cbor_limits limits = { .max_size = SFU_MANIFEST_MAX_SIZE, .allow_tag = true };
        _cleanup_cbor_ struct sfu_cbor *c = NULL, *again = NULL;
        _cleanup_json_ json_t *tree = NULL, *tree2 = NULL;
        _cleanup_free_ uint8_t *enc = NULL, *enc2 = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        size_t enc_len = 0, enc2_len = 0;
        int r;

        r = sfu_cbor_decode(data, size, &limits, &c, &err);
        if (r < 0) {
                if (r != -ENOMEM)
                        fuzz_check_message(&err);
                return;
        }
        check_items(c, size);
        if (sfu_cbor_to_json(sfu_cbor_root(c), "hash", &tree, &err) < 0)
                return;
        r = sfu_cbor_encode_json(tree, "hash", &enc, &enc_len, &err);
        if (r == -ENOMEM)
                return;
        if (r < 0)
                abort();
        if (sfu_cbor_decode(enc, enc_len, &limits, &again, &err) < 0 ||
            sfu_cbor_to_json(sfu_cbor_root(again), "hash", &tree2, &err) < 0 || !json_equal(tree, tree2))
                abort();
        if (sfu_cbor_encode_json(tree2, "hash", &enc2, &enc2_len, &err) < 0 || enc2_len != enc_len ||
            memcmp(enc, enc2, enc_len) != 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_manifest_ struct sfu_manifest *m = NULL, *again = NULL;
        _cleanup_json_ json_t *first = NULL;
        _cleanup_free_ uint8_t *cbor = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        size_t cbor_len = 0;
        int r;

        decoder_and_encoder(data, size);

        r = sfu_manifest_parse_cbor(data, size, SFU_MANIFEST_MAX_SIZE, &m, &err);
        if (!fuzz_manifest_model(r, m, &err, &first))
                return 0;
        r = sfu_cbor_encode_json(first, SFU_MANIFEST_CBOR_BYTES_KEY, &cbor, &cbor_len, &err);
        if (r == -ENOMEM)
                return 0;
        if (r < 0)
                abort();
        r = sfu_manifest_parse_cbor(cbor, cbor_len, SFU_MANIFEST_MAX_SIZE, &again, &err);
        fuzz_manifest_same_model(r, again, first);
        return 0;
}
