/* SPDX-License-Identifier: MIT */
#include <strings.h>
#include <openssl/evp.h>

#include "core/digest.h"

/* Block size of sfu_digest_fd(): large enough that the syscalls do not
 * matter next to the hashing, small enough for a 64 MiB device. */
#define DIGEST_FD_BLOCK (1024u * 1024u)

static const struct {
        const char *name;               /* our name, as in manifests */
        const char *alt_name;           /* the IANA "Named Information" spelling */
        const char *openssl_name;       /* for EVP_MD_fetch() */
        size_t size;
} algs[_SFU_DIGEST_MAX] = {
        [SFU_DIGEST_SHA256] = { "sha256", "sha-256", "SHA2-256", 32 },
        [SFU_DIGEST_SHA384] = { "sha384", "sha-384", "SHA2-384", 48 },
        [SFU_DIGEST_SHA512] = { "sha512", "sha-512", "SHA2-512", 64 },
};

/* Digests that must never count towards a manifest's integrity.  We
 * require at least 256 bits of output (128-bit collision resistance):
 * md2, md4, md5 and sha1 have practical collision attacks, ripemd128/160
 * and every 224-bit or shorter output (sha224, sha512/224, sha3-224, the
 * truncated sha-256-NNN of the IANA registry) fall short of that bound,
 * and checksums (crc32, adler32) are not cryptographic at all. */
static const char *const weak_names[] = {
        "md2", "md4", "md5", "sha", "sha0", "sha1", "sha-1", "sha-0",
        "sha224", "sha-224", "sha2-224", "sha512-224", "sha512/224", "sha-512/224", "sha2-512/224",
        "sha3-224", "sha3224", "shake128",
        "sha-256-128", "sha-256-120", "sha-256-96", "sha-256-64", "sha-256-32",
        "ripemd", "ripemd128", "ripemd-128", "ripemd160", "ripemd-160", "rmd128", "rmd160",
        "crc32", "crc32c", "adler32",
};

struct sfu_digest_set {
        unsigned mask;
        bool finalized;
        EVP_MD *md[_SFU_DIGEST_MAX];
        EVP_MD_CTX *ctx[_SFU_DIGEST_MAX];
        uint8_t value[_SFU_DIGEST_MAX][SFU_DIGEST_MAX_SIZE];
};

const char *sfu_digest_name(enum sfu_digest_alg alg) {
        if ((unsigned) alg >= _SFU_DIGEST_MAX)
                return NULL;
        return algs[alg].name;
}

size_t sfu_digest_size(enum sfu_digest_alg alg) {
        if ((unsigned) alg >= _SFU_DIGEST_MAX)
                return 0;
        return algs[alg].size;
}

int sfu_digest_from_name(const char *name, enum sfu_digest_alg *ret) {
        if (!name)
                return -ENOENT;
        for (size_t i = 0; i < _SFU_DIGEST_MAX; i++)
                if (strcasecmp(name, algs[i].name) == 0 || strcasecmp(name, algs[i].alt_name) == 0) {
                        *ret = (enum sfu_digest_alg) i;
                        return 0;
                }
        return -ENOENT;
}

bool sfu_digest_name_is_weak(const char *name) {
        if (!name)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(weak_names); i++)
                if (strcasecmp(name, weak_names[i]) == 0)
                        return true;
        return false;
}

static int init_all(struct sfu_digest_set *set) {
        for (size_t i = 0; i < _SFU_DIGEST_MAX; i++)
                if (set->ctx[i] && EVP_DigestInit_ex2(set->ctx[i], set->md[i], NULL) != 1)
                        return -EIO;
        set->finalized = false;
        return 0;
}

int sfu_digest_set_new(unsigned mask, struct sfu_digest_set **ret) {
        struct sfu_digest_set *set;
        int r;

        if (mask == 0 || (mask & ~SFU_DIGEST_MASK_ALL) != 0)
                return -EINVAL;
        set = calloc(1, sizeof(*set));
        if (!set)
                return -ENOMEM;
        set->mask = mask;
        /* Fetched once per algorithm here and kept for the set's life, so
         * that update/reset never look anything up again. */
        for (size_t i = 0; i < _SFU_DIGEST_MAX; i++) {
                if (!(mask & SFU_DIGEST_MASK(i)))
                        continue;
                set->md[i] = EVP_MD_fetch(NULL, algs[i].openssl_name, NULL);
                if (!set->md[i]) {
                        sfu_digest_set_free(set);
                        return -EOPNOTSUPP;
                }
                set->ctx[i] = EVP_MD_CTX_new();
                if (!set->ctx[i]) {
                        sfu_digest_set_free(set);
                        return -ENOMEM;
                }
        }
        r = init_all(set);
        if (r < 0) {
                sfu_digest_set_free(set);
                return r;
        }
        *ret = set;
        return 0;
}

int sfu_digest_set_update(struct sfu_digest_set *set, const void *buf, size_t len) {
        if (!set || set->finalized || (!buf && len > 0))
                return -EINVAL;
        if (len == 0)
                return 0;
        for (size_t i = 0; i < _SFU_DIGEST_MAX; i++)
                if (set->ctx[i] && EVP_DigestUpdate(set->ctx[i], buf, len) != 1)
                        return -EIO;
        return 0;
}

int sfu_digest_set_final(struct sfu_digest_set *set) {
        if (!set)
                return -EINVAL;
        /* Finishing twice is harmless: the values stay. */
        if (set->finalized)
                return 0;
        for (size_t i = 0; i < _SFU_DIGEST_MAX; i++) {
                unsigned out_len = 0;

                if (!set->ctx[i])
                        continue;
                if (EVP_DigestFinal_ex(set->ctx[i], set->value[i], &out_len) != 1 ||
                    out_len != algs[i].size)
                        return -EIO;
        }
        set->finalized = true;
        return 0;
}

int sfu_digest_set_get(const struct sfu_digest_set *set, enum sfu_digest_alg alg,
                       uint8_t out[SFU_DIGEST_MAX_SIZE]) {
        if (!set || (unsigned) alg >= _SFU_DIGEST_MAX || !(set->mask & SFU_DIGEST_MASK(alg)))
                return -EINVAL;
        if (!set->finalized)
                return -EBUSY;
        memset(out, 0, SFU_DIGEST_MAX_SIZE);
        memcpy(out, set->value[alg], algs[alg].size);
        return 0;
}

int sfu_digest_set_reset(struct sfu_digest_set *set) {
        if (!set)
                return -EINVAL;
        memset(set->value, 0, sizeof(set->value));
        return init_all(set);
}

unsigned sfu_digest_set_mask(const struct sfu_digest_set *set) {
        return set ? set->mask : 0;
}

void sfu_digest_set_free(struct sfu_digest_set *set) {
        if (!set)
                return;
        for (size_t i = 0; i < _SFU_DIGEST_MAX; i++) {
                EVP_MD_CTX_free(set->ctx[i]);
                EVP_MD_free(set->md[i]);
        }
        free(set);
}

int sfu_digest_fd(int fd, struct sfu_digest_set *set, uint64_t *ret_bytes) {
        _cleanup_free_ uint8_t *block = NULL;
        uint64_t total = 0;
        int r;

        if (fd < 0 || !set || set->finalized)
                return -EINVAL;
        block = malloc(DIGEST_FD_BLOCK);
        if (!block)
                return -ENOMEM;
        for (;;) {
                ssize_t got = read(fd, block, DIGEST_FD_BLOCK);
                if (got < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (got == 0)
                        break;
                r = sfu_digest_set_update(set, block, (size_t) got);
                if (r < 0)
                        return r;
                total += (uint64_t) got;
        }
        r = sfu_digest_set_final(set);
        if (r < 0)
                return r;
        if (ret_bytes)
                *ret_bytes = total;
        return 0;
}
