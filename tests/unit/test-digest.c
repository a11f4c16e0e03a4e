/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/evp.h>

#include "core/digest.h"
#include "core/hex.h"
#include "tap.h"

/* FIPS 180-4 example values (NIST CSRC "Examples with intermediate
 * values"): "abc", the empty message, and one million 'a'. */
static const char *const abc_hex[_SFU_DIGEST_MAX] = {
        [SFU_DIGEST_SHA256] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        [SFU_DIGEST_SHA384] = "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
                              "8086072ba1e7cc2358baeca134c825a7",
        [SFU_DIGEST_SHA512] = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                              "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
};
static const char *const empty_hex[_SFU_DIGEST_MAX] = {
        [SFU_DIGEST_SHA256] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        [SFU_DIGEST_SHA384] = "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da"
                              "274edebfe76f65fbd51ad2f14898b95b",
        [SFU_DIGEST_SHA512] = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
                              "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
};
static const char million_a_sha256[] = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

static const char *openssl_name(enum sfu_digest_alg alg) {
        return alg == SFU_DIGEST_SHA256 ? "SHA256" : alg == SFU_DIGEST_SHA384 ? "SHA384" : "SHA512";
}

/* The reference: OpenSSL's one-shot EVP_Digest(), independent of the set. */
static void reference(enum sfu_digest_alg alg, const void *buf, size_t len, uint8_t out[SFU_DIGEST_MAX_SIZE]) {
        unsigned n = 0;
        memset(out, 0, SFU_DIGEST_MAX_SIZE);
        if (EVP_Digest(buf, len, out, &n, EVP_get_digestbyname(openssl_name(alg)), NULL) != 1)
                abort();
}

static bool value_is(const struct sfu_digest_set *set, enum sfu_digest_alg alg, const char *hex) {
        uint8_t got[SFU_DIGEST_MAX_SIZE], want[SFU_DIGEST_MAX_SIZE] = { 0 };

        if (sfu_digest_set_get(set, alg, got) < 0)
                return false;
        if (sfu_hex_decode(hex, want, sfu_digest_size(alg)) < 0)
                return false;
        return memcmp(got, want, SFU_DIGEST_MAX_SIZE) == 0;
}

static void test_names(void) {
        static const char *const weak[] = { "md5", "MD5", "Md4", "md2", "sha1", "SHA-1", "sha224", "SHA-224",
                                            "sha512/224", "sha3-224", "ripemd160", "RIPEMD-160", "crc32" };
        static const char *const not_weak[] = { "sha256", "SHA-512", "sha3-256", "blake3", "foo", "" };
        enum sfu_digest_alg alg = _SFU_DIGEST_MAX;

        is_str(sfu_digest_name(SFU_DIGEST_SHA256), "sha256", "name sha256");
        is_str(sfu_digest_name(SFU_DIGEST_SHA384), "sha384", "name sha384");
        is_str(sfu_digest_name(SFU_DIGEST_SHA512), "sha512", "name sha512");
        ok(sfu_digest_name(_SFU_DIGEST_MAX) == NULL, "no name for an invalid alg");
        is_int(sfu_digest_size(SFU_DIGEST_SHA256), 32, "size sha256");
        is_int(sfu_digest_size(SFU_DIGEST_SHA384), 48, "size sha384");
        is_int(sfu_digest_size(SFU_DIGEST_SHA512), 64, "size sha512");
        is_int(sfu_digest_size(_SFU_DIGEST_MAX), 0, "size of an invalid alg");

        ok(sfu_digest_from_name("sha256", &alg) == 0 && alg == SFU_DIGEST_SHA256, "from_name sha256");
        ok(sfu_digest_from_name("SHA384", &alg) == 0 && alg == SFU_DIGEST_SHA384, "from_name SHA384");
        ok(sfu_digest_from_name("sha-512", &alg) == 0 && alg == SFU_DIGEST_SHA512, "from_name sha-512");
        alg = _SFU_DIGEST_MAX;
        ok(sfu_digest_from_name("sha224", &alg) == -ENOENT && alg == _SFU_DIGEST_MAX, "from_name sha224 is ENOENT");
        ok(sfu_digest_from_name("md5", &alg) == -ENOENT, "from_name md5 is ENOENT");
        ok(sfu_digest_from_name("sha256 ", &alg) == -ENOENT, "from_name with a space is ENOENT");
        ok(sfu_digest_from_name("sha3-256", &alg) == -ENOENT, "from_name sha3-256 is ENOENT");
        ok(sfu_digest_from_name(NULL, &alg) == -ENOENT, "from_name NULL is ENOENT");

        for (size_t i = 0; i < ELEMENTSOF(weak); i++)
                ok(sfu_digest_name_is_weak(weak[i]), "%s is weak", weak[i]);
        for (size_t i = 0; i < ELEMENTSOF(not_weak); i++)
                ok(!sfu_digest_name_is_weak(not_weak[i]), "\"%s\" is not weak", not_weak[i]);
        ok(!sfu_digest_name_is_weak(NULL), "NULL is not weak");
}

static void test_vectors(void) {
        _cleanup_digest_set_ struct sfu_digest_set *set = NULL;
        uint8_t out[SFU_DIGEST_MAX_SIZE];

        ok(sfu_digest_set_new(SFU_DIGEST_MASK_ALL, &set) == 0 && set, "set of all algorithms");
        is_int(sfu_digest_set_mask(set), SFU_DIGEST_MASK_ALL, "mask of the set");
        ok(sfu_digest_set_get(set, SFU_DIGEST_SHA256, out) < 0, "get before final refused");
        ok(sfu_digest_set_update(set, "a", 1) == 0 && sfu_digest_set_update(set, "", 0) == 0 &&
           sfu_digest_set_update(set, NULL, 0) == 0 && sfu_digest_set_update(set, "bc", 2) == 0,
           "update \"abc\" in pieces, with empty updates");
        ok(sfu_digest_set_update(set, NULL, 1) == -EINVAL, "update from NULL with a length refused");
        ok(sfu_digest_set_final(set) == 0, "final");
        for (int a = 0; a < _SFU_DIGEST_MAX; a++)
                ok(value_is(set, a, abc_hex[a]), "%s(\"abc\") matches FIPS 180-4", sfu_digest_name(a));
        ok(sfu_digest_set_update(set, "x", 1) == -EINVAL, "update after final refused");
        ok(sfu_digest_set_final(set) == 0 && value_is(set, SFU_DIGEST_SHA512, abc_hex[SFU_DIGEST_SHA512]),
           "final twice keeps the values");
        ok(sfu_digest_set_get(set, _SFU_DIGEST_MAX, out) == -EINVAL, "get of an invalid alg refused");

        ok(sfu_digest_set_reset(set) == 0 && sfu_digest_set_final(set) == 0, "reset, then final of nothing");
        for (int a = 0; a < _SFU_DIGEST_MAX; a++)
                ok(value_is(set, a, empty_hex[a]), "%s of the empty message after reset", sfu_digest_name(a));
        ok(sfu_digest_set_reset(set) == 0 && sfu_digest_set_update(set, "abc", 3) == 0 &&
           sfu_digest_set_final(set) == 0 && value_is(set, SFU_DIGEST_SHA256, abc_hex[SFU_DIGEST_SHA256]),
           "the set computes again after reset");
}

static void free_null_digest_set(void) {
        sfu_digest_set_free(NULL);
}

static void test_masks(void) {
        struct sfu_digest_set *set = (struct sfu_digest_set *) &set;   /* a non-NULL sentinel */
        _cleanup_digest_set_ struct sfu_digest_set *one = NULL;
        uint8_t out[SFU_DIGEST_MAX_SIZE];

        ok(sfu_digest_set_new(0, &set) == -EINVAL && set == (struct sfu_digest_set *) &set, "empty mask refused");
        ok(sfu_digest_set_new(1u << _SFU_DIGEST_MAX, &set) == -EINVAL, "unknown bit refused");
        ok(sfu_digest_set_new(SFU_DIGEST_MASK(SFU_DIGEST_SHA384), &one) == 0, "set of sha384 only");
        ok(sfu_digest_set_update(one, "abc", 3) == 0 && sfu_digest_set_final(one) == 0, "hash abc");
        ok(value_is(one, SFU_DIGEST_SHA384, abc_hex[SFU_DIGEST_SHA384]), "sha384 of abc");
        ok(sfu_digest_set_get(one, SFU_DIGEST_SHA256, out) == -EINVAL, "get of an alg outside the mask refused");
        memset(out, 0xaa, sizeof(out));
        ok(sfu_digest_set_get(one, SFU_DIGEST_SHA384, out) == 0 && out[48] == 0 && out[63] == 0,
           "bytes after a short digest are zero");
        ok(tap_survives(free_null_digest_set), "free(NULL) is fine");
}

/* Random-ish data in uneven chunks against the one-shot reference. */
static void test_chunks(void) {
        static uint8_t data[300000];
        uint32_t x = 12345;

        for (size_t i = 0; i < sizeof(data); i++) {
                x = x * 1103515245u + 12345u;
                data[i] = (uint8_t) (x >> 16);
        }
        for (size_t chunk = 1; chunk <= 70001; chunk = chunk * 7 + 3) {
                _cleanup_digest_set_ struct sfu_digest_set *set = NULL;
                bool same = true;

                if (sfu_digest_set_new(SFU_DIGEST_MASK_ALL, &set) < 0)
                        abort();
                for (size_t off = 0; off < sizeof(data); off += chunk) {
                        size_t n = sizeof(data) - off < chunk ? sizeof(data) - off : chunk;
                        if (sfu_digest_set_update(set, data + off, n) < 0)
                                same = false;
                }
                if (sfu_digest_set_final(set) < 0)
                        same = false;
                for (int a = 0; a < _SFU_DIGEST_MAX; a++) {
                        uint8_t got[SFU_DIGEST_MAX_SIZE], want[SFU_DIGEST_MAX_SIZE];
                        reference(a, data, sizeof(data), want);
                        if (sfu_digest_set_get(set, a, got) < 0 || memcmp(got, want, sizeof(got)) != 0)
                                same = false;
                }
                ok(same, "300000 bytes in chunks of %zu match EVP_Digest for all three", chunk);
        }
}

static int write_file(const char *path, const uint8_t *buf, size_t len) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n <= 0) {
                        close(fd);
                        return -EIO;
                }
                buf += n;
                len -= (size_t) n;
        }
        return close(fd) < 0 ? -errno : 0;
}

static void test_fd(void) {
        _cleanup_free_ char *dir = tap_mkdtemp();
        _cleanup_free_ uint8_t *data = NULL;
        char path[4096], empty_path[4096];
        size_t len = 2u * 1024 * 1024 + 12345;     /* more than two blocks */
        uint64_t bytes = 4242;
        int pipefd[2];

        snprintf(path, sizeof(path), "%s/image", dir);
        snprintf(empty_path, sizeof(empty_path), "%s/empty", dir);
        data = malloc(len);
        if (!data)
                abort();
        for (size_t i = 0; i < len; i++)
                data[i] = (uint8_t) (i * 31 + (i >> 12));
        ok(write_file(path, data, len) == 0 && write_file(empty_path, NULL, 0) == 0, "test files written");

        {
                _cleanup_digest_set_ struct sfu_digest_set *set = NULL;
                _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
                uint8_t got[SFU_DIGEST_MAX_SIZE], want[SFU_DIGEST_MAX_SIZE];
                bool same = true;

                ok(fd >= 0 && sfu_digest_set_new(SFU_DIGEST_MASK_ALL, &set) == 0, "open and new set");
                ok(sfu_digest_fd(fd, set, &bytes) == 0 && bytes == len, "digest_fd over %zu bytes (got %llu)", len,
                   (unsigned long long) bytes);
                for (int a = 0; a < _SFU_DIGEST_MAX; a++) {
                        reference(a, data, len, want);
                        if (sfu_digest_set_get(set, a, got) < 0 || memcmp(got, want, sizeof(got)) != 0)
                                same = false;
                }
                ok(same, "digest_fd values match EVP_Digest");
                ok(sfu_digest_fd(fd, set, &bytes) == -EINVAL, "digest_fd on a finished set refused");
        }
        {
                _cleanup_digest_set_ struct sfu_digest_set *set = NULL;
                _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
                uint8_t got[SFU_DIGEST_MAX_SIZE], want[SFU_DIGEST_MAX_SIZE];

                ok(fd >= 0 && lseek(fd, 1000, SEEK_SET) == 1000 &&
                   sfu_digest_set_new(SFU_DIGEST_MASK(SFU_DIGEST_SHA256), &set) == 0, "open, seek to 1000");
                ok(sfu_digest_fd(fd, set, NULL) == 0, "digest_fd from the current offset, no byte count");
                reference(SFU_DIGEST_SHA256, data + 1000, len - 1000, want);
                ok(sfu_digest_set_get(set, SFU_DIGEST_SHA256, got) == 0 && memcmp(got, want, sizeof(got)) == 0,
                   "digest covers offset 1000 to EOF");
        }
        {
                _cleanup_digest_set_ struct sfu_digest_set *set = NULL;
                _cleanup_close_ int fd = open(empty_path, O_RDONLY | O_CLOEXEC);

                bytes = 4242;
                ok(fd >= 0 && sfu_digest_set_new(SFU_DIGEST_MASK_ALL, &set) == 0 && sfu_digest_fd(fd, set, &bytes) == 0 &&
                   bytes == 0 && value_is(set, SFU_DIGEST_SHA384, empty_hex[SFU_DIGEST_SHA384]),
                   "empty file: 0 bytes, digest of the empty message");
        }
        {
                _cleanup_digest_set_ struct sfu_digest_set *set = NULL;
                _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                bytes = 4242;
                ok(fd >= 0 && sfu_digest_set_new(SFU_DIGEST_MASK_ALL, &set) == 0 &&
                   sfu_digest_fd(fd, set, &bytes) == -EISDIR && bytes == 4242,
                   "a directory fails with EISDIR, byte count untouched");
                ok(sfu_digest_fd(-1, set, &bytes) == -EINVAL, "fd -1 refused");
        }
        {
                /* a pipe: not seekable, and reads may come short */
                _cleanup_digest_set_ struct sfu_digest_set *set = NULL;
                uint8_t got[SFU_DIGEST_MAX_SIZE], want[SFU_DIGEST_MAX_SIZE];
                size_t n = 60000;       /* fits the default pipe buffer: no writer process needed */

                ok(pipe2(pipefd, O_CLOEXEC) == 0 && sfu_digest_set_new(SFU_DIGEST_MASK_ALL, &set) == 0, "pipe");
                ok(write(pipefd[1], data, n) == (ssize_t) n && close(pipefd[1]) == 0, "60000 bytes into the pipe");
                ok(sfu_digest_fd(pipefd[0], set, &bytes) == 0 && bytes == n, "digest_fd over a pipe");
                close(pipefd[0]);
                reference(SFU_DIGEST_SHA512, data, n, want);
                ok(sfu_digest_set_get(set, SFU_DIGEST_SHA512, got) == 0 && memcmp(got, want, sizeof(got)) == 0,
                   "pipe digest matches EVP_Digest");
        }
        {
                /* one million 'a' from a file */
                _cleanup_digest_set_ struct sfu_digest_set *set = NULL;
                _cleanup_close_ int fd = -1;

                memset(data, 'a', 1000000);
                ok(write_file(path, data, 1000000) == 0, "file of one million 'a'");
                fd = open(path, O_RDONLY | O_CLOEXEC);
                ok(fd >= 0 && sfu_digest_set_new(SFU_DIGEST_MASK(SFU_DIGEST_SHA256), &set) == 0 &&
                   sfu_digest_fd(fd, set, &bytes) == 0 && bytes == 1000000, "digest_fd over it");
                ok(value_is(set, SFU_DIGEST_SHA256, million_a_sha256), "sha256 of one million 'a' matches FIPS 180-4");
        }
        unlink(path);
        unlink(empty_path);
        rmdir(dir);
}

int main(void) {
        test_names();
        test_vectors();
        test_masks();
        test_chunks();
        test_fd();
        return tap_done();
}
