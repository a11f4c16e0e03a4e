/* SPDX-License-Identifier: MIT */
/* The HSS private-key file: generation (never over an existing file),
 * signing with strictly increasing indices until the key is exhausted,
 * refusal of symbolic links, other modes, hard links, damaged files;
 * left-over temporary states removed; concurrent signers in separate
 * processes never share an index. */
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/hss-sign.h"
#include "core/hss.h"
#include "io/hsskey.h"
#include "tap.h"

static char *dir;

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path);
}

static char *path_in(const char *name) {
        char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, name) < 0)
                abort();
        return p;
}

static uint32_t get_u32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

/* The signature number spelled by the leaf indices of sig (q_0 first). */
static uint64_t signature_index(const uint8_t *pub, const uint8_t *sig) {
        const uint8_t *key = pub + 4;
        uint64_t index = 0;
        size_t off = 4;

        for (unsigned l = 0; l < get_u32(pub); l++) {
                uint32_t lms = get_u32(key), ots = get_u32(key + 4);
                index = (index << sfu_hss_lms_height(lms)) | get_u32(sig + off);
                off += sfu_hss_lms_signature_size(lms, ots);
                key = sig + off;
                off += SFU_HSS_LMS_PUBLIC_KEY_SIZE;
        }
        return index;
}

static char *slurp(const char *path, size_t *len) {
        return tap_read_file(path, len);
}

static bool same_file(const char *path, const char *content, size_t len) {
        size_t now_len = 0;
        char *now = slurp(path, &now_len);
        bool same = now_len == len && memcmp(now, content, len) == 0;
        free(now);
        return same;
}

static int generate(const char *path, const char *params_text, uint8_t pub[SFU_HSS_PUBLIC_KEY_SIZE],
                    struct sfu_err *err) {
        struct sfu_hss_params params;
        sfu_err_clear(err);
        if (sfu_hss_params_from_string(params_text, &params, err) < 0)
                return -EINVAL;
        return sfu_hsskey_generate(path, &params, pub, err);
}

static void test_lifecycle(void) {
        _cleanup_free_ char *key = path_in("small.key"), *before = NULL;
        uint8_t pub[SFU_HSS_PUBLIC_KEY_SIZE], pub2[SFU_HSS_PUBLIC_KEY_SIZE];
        struct sfu_hss_params params;
        struct sfu_err err = SFU_ERR_INIT;
        uint64_t remaining = 0, last = 0;
        size_t before_len = 0;
        unsigned bad = 0;
        struct stat st;
        int r;

        r = generate(key, "H5/W4", pub, &err);
        ok(r == 0, "generate an H5/W4 key file (%s)", err.message);
        if (r < 0)
                return;
        ok(stat(key, &st) == 0 && (st.st_mode & 07777) == 0600 && st.st_size == SFU_HSS_PRIVATE_KEY_SIZE(1),
           "key file is 0600 and %d bytes", SFU_HSS_PRIVATE_KEY_SIZE(1));
        r = sfu_hsskey_info(key, &params, pub2, &remaining, &err);
        ok(r == 0 && memcmp(pub, pub2, sizeof(pub)) == 0 && remaining == 32 && params.levels == 1,
           "info: the same public key, 32 signatures left");

        before = slurp(key, &before_len);
        r = generate(key, "H5/W4", pub2, &err);
        ok(r == -EEXIST && strstr(err.message, "refusing to overwrite") &&
                   same_file(key, before, before_len),
           "generate over an existing key refused, file unchanged: %s", err.message);

        for (unsigned i = 0; i < 32; i++) {
                _cleanup_free_ uint8_t *sig = NULL;
                char msg[32];
                size_t sig_len = 0;
                uint64_t index;

                snprintf(msg, sizeof(msg), "message %u", i);
                sfu_err_clear(&err);
                r = sfu_hsskey_sign(key, (const uint8_t *) msg, strlen(msg), &sig, &sig_len, &remaining,
                                    &err);
                if (r < 0) {
                        ok(false, "sign #%u: %s", i, err.message);
                        bad++;
                        break;
                }
                index = signature_index(pub, sig);
                if ((i > 0 && index <= last) || index != i || remaining != 31 - i ||
                    sfu_hss_verify(pub, sizeof(pub), (const uint8_t *) msg, strlen(msg), sig, sig_len,
                                   &err) < 0)
                        bad++;
                last = index;
        }
        ok(bad == 0,
           "32 signatures: indices 0 .. 31 strictly increasing, each verifies, remaining counts down");

        free(before);
        before = slurp(key, &before_len);
        {
                _cleanup_free_ char *want = NULL;
                uint8_t *sig = NULL;
                size_t sig_len = 0;
                if (asprintf(&want, "HSS key %s is exhausted: all 32 signatures used", key) < 0)
                        abort();
                sfu_err_clear(&err);
                r = sfu_hsskey_sign(key, (const uint8_t *) "m", 1, &sig, &sig_len, &remaining, &err);
                ok(r == -ENOSPC && err.code == SFU_ERR_STATE && strcmp(err.message, want) == 0 && !sig,
                   "33rd signature refused: %s", err.message);
                ok(same_file(key, before, before_len), "the exhausted key file is unchanged");
        }
        r = sfu_hsskey_info(key, NULL, NULL, &remaining, &err);
        ok(r == 0 && remaining == 0, "info: 0 left");

        /* Invalid parameters create nothing. */
        {
                _cleanup_free_ char *tall = path_in("tall.key");
                r = generate(tall, "H20/W4", pub2, &err);
                ok(r < 0 && strstr(err.message, "height 20") && access(tall, F_OK) < 0,
                   "H20 key refused, no file: %s", err.message);
        }
}

static void test_refusals(void) {
        _cleanup_free_ char *key = path_in("refuse.key"), *link_path = path_in("refuse.link"),
                            *hard = path_in("refuse.hard"), *subdir = path_in("adir"), *before = NULL;
        uint8_t pub[SFU_HSS_PUBLIC_KEY_SIZE];
        struct sfu_err err = SFU_ERR_INIT;
        uint8_t *sig = NULL;
        size_t sig_len = 0, before_len = 0;
        uint64_t remaining = 0;
        static const mode_t modes[] = {0644, 0640, 0604, 0400, 0700, 0660, 0666, 04600};
        int r;

        if (generate(key, "H5/W2", pub, &err) < 0) {
                ok(false, "generate: %s", err.message);
                return;
        }
        before = slurp(key, &before_len);
        for (size_t i = 0; i < ELEMENTSOF(modes); i++) {
                char want[16];
                if (chmod(key, modes[i]) < 0)
                        abort();
                snprintf(want, sizeof(want), "mode %04o", (unsigned) modes[i]);
                sfu_err_clear(&err);
                r = sfu_hsskey_sign(key, (const uint8_t *) "m", 1, &sig, &sig_len, &remaining, &err);
                ok(r < 0 && !sig && strstr(err.message, want) && strstr(err.message, "must be 0600") &&
                           same_file(key, before, before_len),
                   "key of %s refused, unchanged: %s", want, err.message);
        }
        if (chmod(key, 0600) < 0)
                abort();

        if (symlink(key, link_path) < 0)
                abort();
        sfu_err_clear(&err);
        r = sfu_hsskey_sign(link_path, (const uint8_t *) "m", 1, &sig, &sig_len, &remaining, &err);
        ok(r < 0 && !sig && strstr(err.message, "symbolic link") && same_file(key, before, before_len),
           "symbolic link refused: %s", err.message);
        sfu_err_clear(&err);
        ok(sfu_hsskey_info(link_path, NULL, NULL, &remaining, &err) < 0 &&
                   strstr(err.message, "symbolic link"),
           "info refuses the symbolic link too");

        if (link(key, hard) < 0)
                abort();
        sfu_err_clear(&err);
        r = sfu_hsskey_sign(key, (const uint8_t *) "m", 1, &sig, &sig_len, &remaining, &err);
        ok(r < 0 && !sig && strstr(err.message, "2 hard links") && same_file(key, before, before_len),
           "key with a second hard link refused: %s", err.message);
        if (unlink(hard) < 0)
                abort();

        if (mkdir(subdir, 0700) < 0)
                abort();
        sfu_err_clear(&err);
        r = sfu_hsskey_sign(subdir, (const uint8_t *) "m", 1, &sig, &sig_len, &remaining, &err);
        ok(r < 0 && strstr(err.message, "not a regular file"), "directory refused: %s", err.message);

        /* Damaged, truncated and extended files. */
        {
                _cleanup_free_ char *bad = path_in("damaged.key");
                char *copy = malloc(before_len + 8);
                int fd;

                if (!copy)
                        abort();
                memcpy(copy, before, before_len);
                copy[30] ^= 0x10;
                fd = open(bad, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (fd < 0 || write(fd, copy, before_len) != (ssize_t) before_len || close(fd) < 0)
                        abort();
                sfu_err_clear(&err);
                r = sfu_hsskey_sign(bad, (const uint8_t *) "m", 1, &sig, &sig_len, &remaining, &err);
                ok(r < 0 && err.code == SFU_ERR_PARSE && strstr(err.message, bad) &&
                           strstr(err.message, "damaged"),
                   "damaged key refused: %s", err.message);
                if (truncate(bad, (off_t) before_len - 1) < 0)
                        abort();
                sfu_err_clear(&err);
                r = sfu_hsskey_sign(bad, (const uint8_t *) "m", 1, &sig, &sig_len, &remaining, &err);
                ok(r < 0 && err.code == SFU_ERR_PARSE, "truncated key refused: %s", err.message);
                if (truncate(bad, 4096) < 0)
                        abort();
                sfu_err_clear(&err);
                r = sfu_hsskey_sign(bad, (const uint8_t *) "m", 1, &sig, &sig_len, &remaining, &err);
                ok(r < 0 && err.code == SFU_ERR_PARSE && strstr(err.message, "larger"),
                   "oversized key refused: %s", err.message);
                free(copy);
        }
        {
                _cleanup_free_ char *none = path_in("none.key");
                sfu_err_clear(&err);
                ok(sfu_hsskey_sign(none, (const uint8_t *) "m", 1, &sig, &sig_len, &remaining, &err) ==
                                   -ENOENT &&
                           err.code == SFU_ERR_STORAGE,
                   "missing key: %s", err.message);
        }
        r = sfu_hsskey_sign(key, (const uint8_t *) "m", 1, &sig, &sig_len, &remaining, &err);
        ok(r == 0 && remaining == 31, "after the refusals the key still signs, index 0 (31 left)");
        free(sig);
}

static void test_stale_temporaries(void) {
        _cleanup_free_ char *key = path_in("temps.key"), *stale = path_in("temps.key.tmp.4242"),
                            *other = path_in("temps.key.tmp.x1"), *other2 = path_in("temps.keyx.tmp.1"),
                            *staged = path_in("temps.key.new.31337");
        uint8_t pub[SFU_HSS_PUBLIC_KEY_SIZE];
        struct sfu_err err = SFU_ERR_INIT;
        uint8_t *sig = NULL;
        size_t sig_len = 0;
        uint64_t remaining = 0;
        int r;

        if (generate(key, "H5/W8", pub, &err) < 0)
                abort();
        for (const char *const *p = (const char *const[]){stale, other, other2, NULL}; *p; p++) {
                int fd = open(*p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (fd < 0 || close(fd) < 0)
                        abort();
        }
        /* A crash of generate between link(2) and unlink(2): KEY.new.PID is
         * a second name of the key. */
        if (link(key, staged) < 0)
                abort();
        r = sfu_hsskey_sign(key, (const uint8_t *) "m", 1, &sig, &sig_len, &remaining, &err);
        ok(r == 0 && access(stale, F_OK) < 0 && access(staged, F_OK) < 0 && access(other, F_OK) == 0 &&
                   access(other2, F_OK) == 0,
           "left-over KEY.tmp.PID and KEY.new.PID (a second hard link) are removed under the lock, other "
           "names "
           "stay (%s)",
           err.message);
        free(sig);
}

/* Several processes sign with one two-level key at once. */
static void test_concurrent(void) {
        enum { CHILDREN = 4, EACH = 12 };
        _cleanup_free_ char *key = path_in("shared.key");
        uint8_t pub[SFU_HSS_PUBLIC_KEY_SIZE];
        struct sfu_err err = SFU_ERR_INIT;
        uint64_t seen[CHILDREN * EACH], remaining = 0;
        size_t n_seen = 0;
        unsigned bad = 0;
        int fds[2], r;

        if (generate(key, "H5/W2,H5/W2", pub, &err) < 0 || pipe(fds) < 0)
                abort();
        for (unsigned c = 0; c < CHILDREN; c++) {
                pid_t pid = fork();
                if (pid < 0)
                        abort();
                if (pid == 0) {
                        close(fds[0]);
                        for (unsigned i = 0; i < EACH; i++) {
                                uint8_t *sig = NULL;
                                size_t sig_len = 0;
                                uint64_t index = UINT64_MAX;
                                struct sfu_err cerr = SFU_ERR_INIT;
                                char msg[32];

                                snprintf(msg, sizeof(msg), "child %u message %u", c, i);
                                if (sfu_hsskey_sign(key, (const uint8_t *) msg, strlen(msg), &sig, &sig_len,
                                                    NULL, &cerr) == 0 &&
                                    sfu_hss_verify(pub, sizeof(pub), (const uint8_t *) msg, strlen(msg), sig,
                                                   sig_len, &cerr) == 0)
                                        index = signature_index(pub, sig);
                                if (write(fds[1], &index, sizeof(index)) != sizeof(index))
                                        _exit(2);
                                free(sig);
                        }
                        _exit(0);
                }
        }
        close(fds[1]);
        while (n_seen < ELEMENTSOF(seen) && read(fds[0], &seen[n_seen], sizeof(seen[0])) == sizeof(seen[0]))
                n_seen++;
        close(fds[0]);
        for (unsigned c = 0; c < CHILDREN; c++) {
                int status = 0;
                if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        bad++;
        }
        for (size_t i = 0; i < n_seen; i++) {
                if (seen[i] >= CHILDREN * EACH)
                        bad++;
                for (size_t j = 0; j < i; j++)
                        if (seen[i] == seen[j])
                                bad++;
        }
        ok(n_seen == CHILDREN * EACH && bad == 0,
           "%d processes x %d signatures: %zu valid signatures, indices distinct and 0 .. %d", CHILDREN,
           EACH, n_seen, CHILDREN * EACH - 1);
        r = sfu_hsskey_info(key, NULL, NULL, &remaining, &err);
        ok(r == 0 && remaining == 1024 - CHILDREN * EACH, "the key has %" PRIu64 " of 1024 left", remaining);
}

int main(void) {
        dir = tap_mkdtemp();
        test_lifecycle();
        test_refusals();
        test_stale_temporaries();
        test_concurrent();
        if (!getenv("KEEP"))
                nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(dir);
        return tap_done();
}
