/* SPDX-License-Identifier: MIT */
/* The segmented AES-256-GCM image stream (segcrypt.h): sizes, the
 * stream machinery shared with the encryptor, and the decryptor. */
#include <inttypes.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "core/segcrypt-internal.h"

bool sfu_segcrypt_segment_size_ok(uint64_t segment_size) {
        return segment_size >= SFU_SEGCRYPT_MIN_SEGMENT && segment_size <= SFU_SEGCRYPT_MAX_SEGMENT;
}

uint64_t sfu_segcrypt_segments(uint64_t plain_size, uint32_t segment_size) {
        if (segment_size == 0)
                return 0;
        if (plain_size == 0)
                return 1;
        return plain_size / segment_size + (plain_size % segment_size != 0);
}

int sfu_segcrypt_ciphertext_size(uint64_t plain_size, uint32_t segment_size, uint64_t *ret) {
        uint64_t n;

        if (!sfu_segcrypt_segment_size_ok(segment_size))
                return -EINVAL;
        n = sfu_segcrypt_segments(plain_size, segment_size);
        if (n > SFU_SEGCRYPT_MAX_SEGMENTS || plain_size > (uint64_t) INT64_MAX - n * SFU_SEGCRYPT_TAG_SIZE)
                return -EOVERFLOW;
        *ret = plain_size + n * SFU_SEGCRYPT_TAG_SIZE;
        return 0;
}

int sfu_segcrypt_plaintext_size(uint64_t ciphertext_size, uint32_t segment_size, uint64_t *ret) {
        uint64_t unit = (uint64_t) segment_size + SFU_SEGCRYPT_TAG_SIZE, full, rest;

        if (!sfu_segcrypt_segment_size_ok(segment_size) || ciphertext_size > INT64_MAX)
                return -EINVAL;
        full = ciphertext_size / unit;
        rest = ciphertext_size % unit;
        if (rest == 0) {
                /* ends with a full final segment */
                if (full == 0)
                        return -EINVAL;
                if (full > SFU_SEGCRYPT_MAX_SEGMENTS)
                        return -EINVAL;
                *ret = full * segment_size;
                return 0;
        }
        /* a shorter final segment: its tag and at least one byte, or the
         * empty image's lone empty segment */
        if (rest < SFU_SEGCRYPT_TAG_SIZE || (rest == SFU_SEGCRYPT_TAG_SIZE && full > 0) ||
            full + 1 > SFU_SEGCRYPT_MAX_SEGMENTS)
                return -EINVAL;
        *ret = full * segment_size + (rest - SFU_SEGCRYPT_TAG_SIZE);
        return 0;
}

void sfu_segcrypt_nonce(const struct sfu_segcrypt_params *params, uint64_t segment, bool last,
                        uint8_t nonce[static SFU_SEGCRYPT_NONCE_SIZE]) {
        memcpy(nonce, params->nonce_prefix, SFU_SEGCRYPT_PREFIX_SIZE);
        nonce[7] = (uint8_t) (segment >> 24);
        nonce[8] = (uint8_t) (segment >> 16);
        nonce[9] = (uint8_t) (segment >> 8);
        nonce[10] = (uint8_t) segment;
        nonce[11] = last ? 0x01 : 0x00;
}

void sfu_segcrypt_free(struct sfu_segcrypt *s) {
        if (!s)
                return;
        EVP_CIPHER_CTX_free(s->ctx);
        if (s->buf) {
                OPENSSL_cleanse(s->buf, (size_t) s->params.segment_size + SFU_SEGCRYPT_TAG_SIZE);
                free(s->buf);
        }
        OPENSSL_cleanse(&s->params, sizeof(s->params));
        free(s);
}

int sfu_segcrypt_alloc(const struct sfu_segcrypt_params *params, bool encrypt, sfu_segcrypt_write_fn write,
                       void *userdata, struct sfu_segcrypt **ret, struct sfu_err *err) {
        struct sfu_segcrypt *s;
        int ok;

        if (!params || !write || !ret)
                return -EINVAL;
        if (!sfu_segcrypt_segment_size_ok(params->segment_size))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "segment size %" PRIu32 " is outside %u to %u bytes", params->segment_size,
                                   SFU_SEGCRYPT_MIN_SEGMENT, SFU_SEGCRYPT_MAX_SEGMENT);
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->params = *params;
        s->write = write;
        s->userdata = userdata;
        s->buf = malloc((size_t) params->segment_size + SFU_SEGCRYPT_TAG_SIZE);
        s->ctx = EVP_CIPHER_CTX_new();
        if (!s->buf || !s->ctx) {
                sfu_segcrypt_free(s);
                return -ENOMEM;
        }
        ok = encrypt ? EVP_EncryptInit_ex2(s->ctx, EVP_aes_256_gcm(), params->key, NULL, NULL)
                     : EVP_DecryptInit_ex2(s->ctx, EVP_aes_256_gcm(), params->key, NULL, NULL);
        if (ok != 1) {
                ERR_clear_error();
                sfu_segcrypt_free(s);
                return sfu_err_set(err, SFU_ERR_STORAGE, EIO, "AES-256-GCM is not available");
        }
        *ret = s;
        return 0;
}

/* Records the first failure, so that every later call repeats it. */
static int fail(struct sfu_segcrypt *s, int r, struct sfu_err *err) {
        if (s->failed)
                return s->failed;
        s->failed = r < 0 ? r : -EIO;
        if (sfu_err_isset(err))
                s->failure = *err;
        else
                sfu_err_set(&s->failure, SFU_ERR_STORAGE, -s->failed, "encrypted image: %s", strerror(-s->failed));
        return s->failed;
}

static int replay_failure(const struct sfu_segcrypt *s, struct sfu_err *err) {
        if (err && !sfu_err_isset(err))
                *err = s->failure;
        return s->failed;
}

/* Opens the segment in buf: authenticated plaintext to write, or a
 * refusal naming the segment (the unauthenticated bytes are wiped). */
static int open_segment(struct sfu_segcrypt *s, bool last, struct sfu_err *err) {
        uint8_t nonce[SFU_SEGCRYPT_NONCE_SIZE];
        size_t pt_len;
        int n = 0, fin = 0, r;
        bool good;

        if (s->segment >= SFU_SEGCRYPT_MAX_SEGMENTS)
                return sfu_err_set(err, SFU_ERR_SIZE, EOVERFLOW, "encrypted image: more than 2^32 segments");
        if (s->buf_len < SFU_SEGCRYPT_TAG_SIZE)
                return sfu_err_set(err, SFU_ERR_DIGEST, EBADMSG,
                                   "encrypted image: segment %" PRIu64 " is %zu bytes, shorter than its tag: the "
                                   "stream is truncated",
                                   s->segment, s->buf_len);
        pt_len = s->buf_len - SFU_SEGCRYPT_TAG_SIZE;
        if (last && pt_len == 0 && s->segment > 0)
                return sfu_err_set(err, SFU_ERR_DIGEST, EBADMSG,
                                   "encrypted image: segment %" PRIu64 " is an empty final segment after others",
                                   s->segment);
        sfu_segcrypt_nonce(&s->params, s->segment, last, nonce);
        good = EVP_DecryptInit_ex2(s->ctx, NULL, NULL, nonce, NULL) == 1 &&
               EVP_DecryptUpdate(s->ctx, s->buf, &n, s->buf, (int) pt_len) == 1 && (size_t) n == pt_len &&
               EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_SET_TAG, SFU_SEGCRYPT_TAG_SIZE, s->buf + pt_len) == 1 &&
               EVP_DecryptFinal_ex(s->ctx, s->buf + n, &fin) == 1 && fin == 0;
        ERR_clear_error();
        if (!good) {
                OPENSSL_cleanse(s->buf, s->buf_len);
                s->buf_len = 0;
                if (last)
                        return sfu_err_set(err, SFU_ERR_DIGEST, EBADMSG,
                                           "encrypted image: segment %" PRIu64 " does not authenticate as the final "
                                           "segment (a wrong key, or the stream was truncated or altered)",
                                           s->segment);
                return sfu_err_set(err, SFU_ERR_DIGEST, EBADMSG,
                                   "encrypted image: segment %" PRIu64 " does not authenticate (a wrong key, or the "
                                   "stream was altered, reordered, spliced or extended)",
                                   s->segment);
        }
        r = pt_len > 0 ? s->write(s->userdata, s->buf, pt_len, err) : 0;
        if (r < 0)
                return r;
        s->plain_done += pt_len;
        s->buf_len = 0;
        s->segment++;
        return 0;
}

int sfu_segcrypt_decrypt_new(const struct sfu_segcrypt_params *params, uint64_t start_segment,
                             uint64_t ciphertext_size, sfu_segcrypt_write_fn write, void *userdata,
                             struct sfu_segcrypt **ret, struct sfu_err *err) {
        struct sfu_segcrypt *s = NULL;
        uint64_t plain_size = 0, start;
        int r;

        r = sfu_segcrypt_alloc(params, false, write, userdata, &s, err);
        if (r < 0)
                return r;
        s->process = open_segment;
        s->unit = (size_t) params->segment_size + SFU_SEGCRYPT_TAG_SIZE;
        s->segment = start_segment;
        s->plain_done = sfu_segcrypt_plaintext_offset(start_segment, params->segment_size);
        start = sfu_segcrypt_ciphertext_offset(start_segment, params->segment_size);
        if (start_segment >= SFU_SEGCRYPT_MAX_SEGMENTS)
                r = sfu_err_set(err, SFU_ERR_SIZE, EOVERFLOW, "encrypted image: segment %" PRIu64 " is beyond 2^32",
                                start_segment);
        else if (ciphertext_size > 0 && sfu_segcrypt_plaintext_size(ciphertext_size, params->segment_size, &plain_size) < 0)
                r = sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                "encrypted image: %" PRIu64 " bytes is not a possible size with %" PRIu32 "-byte segments",
                                ciphertext_size, params->segment_size);
        else if (ciphertext_size > 0 && start >= ciphertext_size)
                r = sfu_err_set(err, SFU_ERR_SIZE, ERANGE,
                                "encrypted image: segment %" PRIu64 " starts past the end of its %" PRIu64 " bytes",
                                start_segment, ciphertext_size);
        if (r < 0) {
                sfu_segcrypt_free(s);
                return r;
        }
        s->in_max = ciphertext_size > 0 ? ciphertext_size - start : 0;
        s->size = ciphertext_size;
        *ret = s;
        return 0;
}

int sfu_segcrypt_feed(struct sfu_segcrypt *s, const void *data, size_t len, struct sfu_err *err) {
        const uint8_t *p = data;
        bool extended = false;
        int r;

        if (!s || (!data && len > 0))
                return -EINVAL;
        if (s->failed)
                return replay_failure(s, err);
        if (s->finished) {
                sfu_err_set(err, SFU_ERR_STORAGE, EINVAL, "encrypted image: data after the end of the stream");
                return fail(s, -EINVAL, err);
        }
        /* With a known size, what fits is taken (its segments are told
         * apart as usual) and the first byte beyond is refused. */
        if (s->in_max > 0 && len > s->in_max - s->in_done)
                extended = true;
        if (extended)
                len = (size_t) (s->in_max - s->in_done);
        while (len > 0) {
                size_t n;

                /* A full segment followed by more input is not the last. */
                if (s->buf_len == s->unit) {
                        r = s->process(s, false, err);
                        if (r < 0)
                                return fail(s, r, err);
                }
                n = s->unit - s->buf_len < len ? s->unit - s->buf_len : len;
                memcpy(s->buf + s->buf_len, p, n);
                s->buf_len += n;
                s->in_done += n;
                p += n;
                len -= n;
        }
        if (extended) {
                sfu_err_set(err, SFU_ERR_SIZE, EFBIG,
                            "encrypted image: more than the %" PRIu64 " bytes the manifest states: the stream is "
                            "extended",
                            s->size);
                return fail(s, -EFBIG, err);
        }
        return 0;
}

int sfu_segcrypt_finish(struct sfu_segcrypt *s, struct sfu_err *err) {
        int r;

        if (!s)
                return -EINVAL;
        if (s->failed)
                return replay_failure(s, err);
        if (s->finished)
                return 0;
        if (s->in_max > 0 && s->in_done != s->in_max) {
                sfu_err_set(err, SFU_ERR_DIGEST, EBADMSG,
                            "encrypted image: the stream ends after %" PRIu64 " of %" PRIu64 " bytes: it is truncated",
                            s->in_done, s->in_max);
                return fail(s, -EBADMSG, err);
        }
        if (s->process == open_segment && s->in_done == 0) {
                sfu_err_set(err, SFU_ERR_DIGEST, EBADMSG,
                            "encrypted image: the stream ends before its final segment %" PRIu64, s->segment);
                return fail(s, -EBADMSG, err);
        }
        r = s->process(s, true, err);
        if (r < 0)
                return fail(s, r, err);
        s->finished = true;
        return 0;
}

uint64_t sfu_segcrypt_next_segment(const struct sfu_segcrypt *s) {
        return s ? s->segment : 0;
}

uint64_t sfu_segcrypt_plaintext_done(const struct sfu_segcrypt *s) {
        return s ? s->plain_done : 0;
}
