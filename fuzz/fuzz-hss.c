/* SPDX-License-Identifier: MIT */
/* Fuzzes the HSS/LMS verifier.  Input framing (big-endian):
 *
 *   u32 pub_len || pub || u32 msg_len || msg || sig
 *
 * (fuzz/corpus/hss/ holds valid keys and signatures in it, among them
 * RFC 8554's two test cases).  Every input goes through the public-key
 * check, the kid and verification; a refusal must say why, and a
 * signature that verifies must stop verifying when its message changes
 * or when it loses its last byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t get_u32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct sfu_err err = SFU_ERR_INIT;
        const uint8_t *pub, *msg, *sig;
        size_t pub_len, msg_len, sig_len;
        uint8_t *msg2;
        char *kid = NULL;
        int r;

        if (size < 4 || get_u32(data) > size - 4)
                return 0;
        pub_len = get_u32(data);
        pub = data + 4;
        if (size - 4 - pub_len < 4 || get_u32(pub + pub_len) > size - 8 - pub_len)
                return 0;
        msg_len = get_u32(pub + pub_len);
        msg = pub + pub_len + 4;
        sig = msg + msg_len;
        sig_len = size - 8 - pub_len - msg_len;

        r = sfu_hss_public_key_check(pub, pub_len, &err);
        if ((r < 0) != sfu_err_isset(&err) || (r < 0 && err.code != SFU_ERR_PARSE))
                abort();
        if (sfu_hss_kid(pub, pub_len, &kid) == 0) {
                if (r < 0 || !kid || strlen(kid) != 43)
                        abort();
                free(kid);
        } else if (r == 0)
                abort();

        sfu_err_clear(&err);
        r = sfu_hss_verify(pub, pub_len, msg, msg_len, sig, sig_len, &err);
        if (r < 0) {
                if (!sfu_err_isset(&err) || !err.message[0])
                        abort(); /* a refusal must say why */
                return 0;
        }
        if (sfu_err_isset(&err) || sig_len > SFU_HSS_SIGNATURE_MAX)
                abort();
        if (sfu_hss_verify(pub, pub_len, msg, msg_len, sig, sig_len - 1, NULL) == 0)
                abort();
        msg2 = malloc(msg_len + 1);
        if (!msg2)
                abort();
        memcpy(msg2, msg, msg_len);
        msg2[msg_len] = 0;
        if (msg_len > 0)
                msg2[msg_len / 2] ^= 0x01;
        if (sfu_hss_verify(pub, pub_len, msg2, msg_len + (msg_len == 0), sig, sig_len, NULL) == 0)
                abort();
        free(msg2);
        return 0;
}
