/* SPDX-License-Identifier: MIT */
/* The encryptor of the segmented image stream (segcrypt.h), for the
 * vendor tool (libsfusign.a): plaintext in, segments out. */
#include <inttypes.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "core/segcrypt-internal.h"

/* Seals buf[0..buf_len) (at most S bytes) as segment `segment`. */
static int seal_segment(struct sfu_segcrypt *s, bool last, struct sfu_err *err) {
        uint8_t nonce[SFU_SEGCRYPT_NONCE_SIZE];
        int n = 0, fin = 0, r;
        bool good;

        if (s->segment >= SFU_SEGCRYPT_MAX_SEGMENTS)
                return sfu_err_set(err, SFU_ERR_SIZE, EOVERFLOW, "encrypted image: more than 2^32 segments");
        sfu_segcrypt_nonce(&s->params, s->segment, last, nonce);
        good = EVP_EncryptInit_ex2(s->ctx, NULL, NULL, nonce, NULL) == 1 &&
               EVP_EncryptUpdate(s->ctx, s->buf, &n, s->buf, (int) s->buf_len) == 1 && (size_t) n == s->buf_len &&
               EVP_EncryptFinal_ex(s->ctx, s->buf + n, &fin) == 1 && fin == 0 &&
               EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_GET_TAG, SFU_SEGCRYPT_TAG_SIZE, s->buf + s->buf_len) == 1;
        ERR_clear_error();
        if (!good)
                return sfu_err_set(err, SFU_ERR_STORAGE, EIO, "encrypted image: AES-256-GCM failed on segment %" PRIu64,
                                   s->segment);
        r = s->write(s->userdata, s->buf, s->buf_len + SFU_SEGCRYPT_TAG_SIZE, err);
        if (r < 0)
                return r;
        s->plain_done += s->buf_len;
        s->buf_len = 0;
        s->segment++;
        return 0;
}

int sfu_segcrypt_encrypt_new(const struct sfu_segcrypt_params *params, sfu_segcrypt_write_fn write, void *userdata,
                             struct sfu_segcrypt **ret, struct sfu_err *err) {
        struct sfu_segcrypt *s = NULL;
        int r;

        r = sfu_segcrypt_alloc(params, true, write, userdata, &s, err);
        if (r < 0)
                return r;
        s->process = seal_segment;
        s->unit = params->segment_size;
        *ret = s;
        return 0;
}

int sfu_segcrypt_params_generate(uint32_t segment_size, struct sfu_segcrypt_params *ret, struct sfu_err *err) {
        if (!sfu_segcrypt_segment_size_ok(segment_size))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "segment size %" PRIu32 " is outside %u to %u bytes",
                                   segment_size, SFU_SEGCRYPT_MIN_SEGMENT, SFU_SEGCRYPT_MAX_SEGMENT);
        if (RAND_priv_bytes(ret->key, sizeof(ret->key)) != 1 ||
            RAND_bytes(ret->nonce_prefix, sizeof(ret->nonce_prefix)) != 1) {
                ERR_clear_error();
                OPENSSL_cleanse(ret, sizeof(*ret));
                return sfu_err_set(err, SFU_ERR_STORAGE, EIO, "the random number generator failed");
        }
        ret->segment_size = segment_size;
        return 0;
}
