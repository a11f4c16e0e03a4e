/* SPDX-License-Identifier: MIT */
/* Shared by segcrypt.c (the stream machinery and the decryptor: the
 * daemon) and segcrypt-encrypt.c (the encryptor: the vendor tool). */
#pragma once
#include <openssl/evp.h>
#include "core/segcrypt.h"

struct sfu_segcrypt {
        /* Seals or opens buf[0..buf_len) as segment `segment`, hands the
         * result to write, empties buf and moves to the next segment. */
        int (*process)(struct sfu_segcrypt *s, bool last, struct sfu_err *err);
        struct sfu_segcrypt_params params;
        EVP_CIPHER_CTX *ctx;
        uint8_t *buf;                   /* segment_size + 16 bytes */
        size_t buf_len;
        size_t unit;                    /* input bytes of a full segment: S + 16 to open, S to seal */
        uint64_t segment;               /* index of the segment in buf */
        uint64_t plain_done;            /* plaintext bytes from the stream's start */
        uint64_t in_done;               /* input bytes fed to this object */
        uint64_t in_max;                /* decrypting with a known size: input bytes expected; else 0 */
        uint64_t size;                  /* that size, of the whole stream */
        bool finished;
        int failed;                     /* the sticky error, or 0 */
        struct sfu_err failure;
        sfu_segcrypt_write_fn write;
        void *userdata;
};

/* nonce_i = prefix || i (big-endian) || last. */
void sfu_segcrypt_nonce(const struct sfu_segcrypt_params *params, uint64_t segment, bool last,
                        uint8_t nonce[static SFU_SEGCRYPT_NONCE_SIZE]);
/* A stream object with buf, ctx (AES-256-GCM keyed for encrypt or
 * decrypt) and the parameters; the caller sets process and unit. */
int sfu_segcrypt_alloc(const struct sfu_segcrypt_params *params, bool encrypt, sfu_segcrypt_write_fn write,
                       void *userdata, struct sfu_segcrypt **ret, struct sfu_err *err) _wur_;
