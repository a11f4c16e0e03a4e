/* SPDX-License-Identifier: MIT */
#include "core/cose-crypt.h"
#include "core/envelope.h"

enum sfu_envelope sfu_envelope_detect(const void *buf, size_t len) {
        if (sfu_cose_crypt_detect(buf, len))
                return SFU_ENVELOPE_COSE;
        if (sfu_jwe_detect(buf, len))
                return SFU_ENVELOPE_JWE;
        return SFU_ENVELOPE_NONE;
}

const char *sfu_envelope_name(enum sfu_envelope e) {
        switch (e) {
        case SFU_ENVELOPE_JWE:
                return "JWE";
        case SFU_ENVELOPE_COSE:
                return "COSE_Encrypt";
        case SFU_ENVELOPE_NONE:
                break;
        }
        return "none";
}

int sfu_envelope_open(const void *buf, size_t len, const struct sfu_keyring *keys, struct sfu_jwe_result *ret,
                      struct sfu_err *err) {
        switch (sfu_envelope_detect(buf, len)) {
        case SFU_ENVELOPE_COSE:
                return sfu_cose_crypt_open_manifest(buf, len, keys, ret, err);
        case SFU_ENVELOPE_JWE:
                return sfu_jwe_open_manifest(buf, len, keys, ret, err);
        case SFU_ENVELOPE_NONE:
                break;
        }
        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "not an encrypted manifest (a JWE or a COSE_Encrypt)");
}
