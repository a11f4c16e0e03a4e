/* SPDX-License-Identifier: MIT */
/* Fuzzes the encrypted image stream reader.  Input framing:
 *
 *   u8 segment size selector || u8 flags || u16 feed size (big-endian) || stream
 *
 * segment size: 64, 100, 1000 or 65536 by selector % 4; flags bit 0: the
 * stream's size is known (the whole stream's length), bits 1-2: start at
 * that segment.  The key and nonce prefix are fixed (fuzz/corpus/segcrypt/
 * holds streams made with them).  The stream is decrypted fed in pieces of
 * the given size; a refusal must say why; a success must give exactly the
 * plaintext size the stream's length implies.  Then the stream's bytes are
 * taken as a plaintext: encrypted, decrypted back unchanged, and with one
 * bit of the ciphertext flipped refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/segcrypt.h"

struct out {
        uint8_t *data;
        size_t len, cap;
};

static int collect(void *userdata, const uint8_t *data, size_t len, struct sfu_err *err) {
        struct out *o = userdata;
        (void) err;
        if (len == 0)
                abort(); /* the stream never hands out nothing */
        if (o->len + len > o->cap) {
                o->cap = (o->len + len) * 2 + 64;
                o->data = realloc(o->data, o->cap);
                if (!o->data)
                        abort();
        }
        memcpy(o->data + o->len, data, len);
        o->len += len;
        return 0;
}

static struct sfu_segcrypt_params params(uint32_t segment_size) {
        struct sfu_segcrypt_params p = { .segment_size = segment_size };
        for (size_t i = 0; i < sizeof(p.key); i++)
                p.key[i] = (uint8_t) (0x40 + i);
        for (size_t i = 0; i < sizeof(p.nonce_prefix); i++)
                p.nonce_prefix[i] = (uint8_t) (0xf0 + i);
        return p;
}

/* Decrypts stream from segment start, fed by chunk bytes. */
static int decrypt(const struct sfu_segcrypt_params *p, uint64_t start, uint64_t size, const uint8_t *stream,
                   size_t len, size_t chunk, struct out *o, struct sfu_err *err) {
        struct sfu_segcrypt *s = NULL;
        int r = sfu_segcrypt_decrypt_new(p, start, size, collect, o, &s, err);

        for (size_t off = 0; r >= 0 && off < len; off += chunk)
                r = sfu_segcrypt_feed(s, stream + off, len - off < chunk ? len - off : chunk, err);
        if (r >= 0)
                r = sfu_segcrypt_finish(s, err);
        sfu_segcrypt_free(s);
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const uint32_t sizes[] = { 64, 100, 1000, 65536 };
        struct sfu_err err = SFU_ERR_INIT;
        struct out o = {}, ct = {}, back = {};
        struct sfu_segcrypt_params p;
        struct sfu_segcrypt *enc = NULL;
        const uint8_t *stream;
        size_t len, chunk;
        uint64_t start, known = 0, plain = 0;
        int r;

        if (size < 4 || size > (1u << 20))
                return 0;
        p = params(sizes[data[0] % 4]);
        start = (data[1] >> 1) & 3;
        chunk = ((size_t) data[2] << 8 | data[3]) + 1;
        stream = data + 4;
        len = size - 4;
        if (data[1] & 1)
                known = len + sfu_segcrypt_ciphertext_offset(start, p.segment_size);

        r = decrypt(&p, start, known, stream, len, chunk, &o, &err);
        if (r < 0) {
                if (!sfu_err_isset(&err) || !err.message[0])
                        abort(); /* a refusal says why */
        } else {
                uint64_t total = len + sfu_segcrypt_ciphertext_offset(start, p.segment_size);
                if (sfu_segcrypt_plaintext_size(total, p.segment_size, &plain) < 0 ||
                    o.len != plain - sfu_segcrypt_plaintext_offset(start, p.segment_size))
                        abort();
        }
        free(o.data);

        /* The input as a plaintext: a round trip, then one flipped bit. */
        if (sfu_segcrypt_encrypt_new(&p, collect, &ct, &enc, NULL) < 0 || sfu_segcrypt_feed(enc, stream, len, NULL) < 0 ||
            sfu_segcrypt_finish(enc, NULL) < 0)
                abort();
        sfu_segcrypt_free(enc);
        if (decrypt(&p, 0, ct.len, ct.data, ct.len, chunk, &back, NULL) < 0 || back.len != len ||
            (len && memcmp(back.data, stream, len) != 0))
                abort();
        ct.data[(chunk * 7919) % ct.len] ^= (uint8_t) (1u << (data[1] % 8));
        back.len = 0;
        if (decrypt(&p, 0, 0, ct.data, ct.len, chunk, &back, NULL) == 0)
                abort();
        free(ct.data);
        free(back.data);
        return 0;
}
