/* SPDX-License-Identifier: MIT */
#include <strings.h>

#include "core/alg.h"

static const struct sfu_alg_info algs[_SFU_ALG_MAX] = {
        [SFU_ALG_RS256] = { "RS256", -257, "SHA256", SFU_ALG_FAMILY_RSA_PKCS1, SFU_KEY_RSA, 0, true },
        [SFU_ALG_RS384] = { "RS384", -258, "SHA384", SFU_ALG_FAMILY_RSA_PKCS1, SFU_KEY_RSA, 0, true },
        [SFU_ALG_RS512] = { "RS512", -259, "SHA512", SFU_ALG_FAMILY_RSA_PKCS1, SFU_KEY_RSA, 0, true },
        [SFU_ALG_PS256] = { "PS256", -37, "SHA256", SFU_ALG_FAMILY_RSA_PSS, SFU_KEY_RSA, 0, true },
        [SFU_ALG_PS384] = { "PS384", -38, "SHA384", SFU_ALG_FAMILY_RSA_PSS, SFU_KEY_RSA, 0, true },
        [SFU_ALG_PS512] = { "PS512", -39, "SHA512", SFU_ALG_FAMILY_RSA_PSS, SFU_KEY_RSA, 0, true },
        [SFU_ALG_ES256] = { "ES256", -7, "SHA256", SFU_ALG_FAMILY_ECDSA, SFU_KEY_EC_P256, 32, true },
        [SFU_ALG_ES384] = { "ES384", -35, "SHA384", SFU_ALG_FAMILY_ECDSA, SFU_KEY_EC_P384, 48, true },
        [SFU_ALG_ES512] = { "ES512", -36, "SHA512", SFU_ALG_FAMILY_ECDSA, SFU_KEY_EC_P521, 66, true },
        [SFU_ALG_EDDSA] = { "EdDSA", -8, NULL, SFU_ALG_FAMILY_EDDSA, SFU_KEY_ED25519, 0, true },
        [SFU_ALG_HSS_LMS] = { "HSS-LMS", -46, NULL, SFU_ALG_FAMILY_HSS, SFU_KEY_HSS, 0, false },
};

const struct sfu_alg_info *sfu_alg_info(enum sfu_alg alg) {
        return (unsigned) alg < _SFU_ALG_MAX ? &algs[alg] : NULL;
}

const char *sfu_alg_name(enum sfu_alg alg) {
        return (unsigned) alg < _SFU_ALG_MAX ? algs[alg].name : NULL;
}

int sfu_alg_from_name(const char *name, enum sfu_alg *ret) {
        if (!name)
                return -EINVAL;
        for (size_t i = 0; i < _SFU_ALG_MAX; i++)
                if (strcmp(name, algs[i].name) == 0) {
                        *ret = (enum sfu_alg) i;
                        return 0;
                }
        return -EINVAL;
}

int sfu_alg_from_cose_id(int64_t id, enum sfu_alg *ret) {
        for (size_t i = 0; i < _SFU_ALG_MAX; i++)
                if (algs[i].cose_id == id) {
                        *ret = (enum sfu_alg) i;
                        return 0;
                }
        return -EINVAL;
}

int sfu_alg_list_parse(const char *list, unsigned *ret_mask, struct sfu_err *err) {
        char q[SFU_QUOTE_MAX + 4];
        unsigned mask = 0;
        const char *p = list;

        if (!list)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "empty algorithm list");
        for (;;) {
                const char *start = p, *end = strchrnul(p, ','), *next = end;
                enum sfu_alg alg = _SFU_ALG_INVALID;
                char name[16];
                size_t len;

                while (start < end && (*start == ' ' || *start == '\t'))
                        start++;
                while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
                        end--;
                len = (size_t) (end - start);
                if (len == 0) {
                        if (*next == 0 && p == list)
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "empty algorithm list");
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "empty name in algorithm list \"%s\"",
                                           sfu_quote(list, strlen(list), q));
                }
                if (len < sizeof(name)) {
                        memcpy(name, start, len);
                        name[len] = 0;
                        if (sfu_alg_from_name(name, &alg) < 0)
                                alg = _SFU_ALG_INVALID;
                }
                if (alg == _SFU_ALG_INVALID) {
                        sfu_quote(start, len, q);
                        if (len == 4 && strncasecmp(start, "none", 4) == 0)
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                                   "algorithm \"%s\" is never allowed", q);
                        if (strncasecmp(start, "HS", 2) == 0)
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                                   "algorithm \"%s\" is never allowed (HMAC)", q);
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "unknown algorithm \"%s\" (known: RS256, RS384, RS512, PS256, "
                                           "PS384, PS512, ES256, ES384, ES512, EdDSA, HSS-LMS)",
                                           q);
                }
                mask |= SFU_ALG_MASK(alg);
                if (*next == 0)
                        break;
                p = next + 1;
        }
        *ret_mask = mask;
        return 0;
}
