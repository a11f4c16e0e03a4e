/* SPDX-License-Identifier: MIT */
/* The HSS private-key file: lock, read, advance + durable write, sign.
 * The order is the whole point: the advanced state is on disk (fsync of
 * the file and of its directory) before the signature exists. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "io/fault.h"
#include "io/fileio.h"
#include "core/hss.h"
#include "io/hsskey.h"

/* How often a signer re-opens a key file that another signer renamed a
 * new state over while we waited for its lock. */
#define HSSKEY_OPEN_TRIES 64

/* Under the exclusive lock no other signer is writing, so PATH.tmp.PID
 * (sfu_file_write_atomic's temporary state) and PATH.new.PID (the staged
 * file of sfu_hsskey_generate, maybe a second name of the key) are
 * left-overs of a crash: copies of a state, removed so that nobody signs
 * with them. */
static bool is_leftover(const char *name, const char *base) {
        size_t len = strlen(base);
        const char *rest;

        if (strncmp(name, base, len) != 0)
                return false;
        rest = name + len;
        if (strncmp(rest, ".tmp.", 5) != 0 && strncmp(rest, ".new.", 5) != 0)
                return false;
        rest += 5;
        return *rest && strspn(rest, "0123456789") == strlen(rest);
}

static void remove_leftovers(const char *path) {
        _cleanup_free_ char *dir_copy = strdup(path), *base_copy = strdup(path);
        DIR *dir;
        struct dirent *de;

        if (!dir_copy || !base_copy)
                return;
        dir = opendir(dirname(dir_copy));
        if (!dir)
                return;
        while ((de = readdir(dir)))
                if (is_leftover(de->d_name, basename(base_copy)))
                        (void) unlinkat(dirfd(dir), de->d_name, 0);
        closedir(dir);
}

static int open_locked(const char *path, int lock_op, int *ret_fd, struct sfu_err *err) {
        for (unsigned tries = 0; tries < HSSKEY_OPEN_TRIES; tries++) {
                _cleanup_close_ int fd = -1;
                struct stat st, now;

                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
                if (fd < 0) {
                        if (errno == ELOOP)
                                return sfu_err_set(err, SFU_ERR_STATE, ELOOP,
                                                   "HSS key %s is a symbolic link; refusing it", path);
                        return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot open HSS key %s: %s", path,
                                           strerror(errno));
                }
                while (flock(fd, lock_op) < 0)
                        if (errno != EINTR)
                                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot lock HSS key %s: %s",
                                                   path, strerror(errno));
                if (fstat(fd, &st) < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot stat HSS key %s: %s", path,
                                           strerror(errno));
                /* A signer that held the lock may have renamed a new state
                 * over path meanwhile: then our fd is the old file. */
                if (lstat(path, &now) < 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino)
                        continue;
                if (!S_ISREG(st.st_mode))
                        return sfu_err_set(err, SFU_ERR_STATE, EINVAL, "HSS key %s is not a regular file",
                                           path);
                if ((st.st_mode & 07777) != 0600)
                        return sfu_err_set(err, SFU_ERR_STATE, EPERM,
                                           "HSS key %s has mode %04o; it must be 0600", path,
                                           (unsigned) (st.st_mode & 07777));
                if (lock_op == LOCK_EX) {
                        remove_leftovers(path);
                        if (fstat(fd, &st) < 0)
                                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot stat HSS key %s: %s",
                                                   path, strerror(errno));
                }
                if (st.st_nlink != 1)
                        return sfu_err_set(
                                err, SFU_ERR_STATE, EMLINK,
                                "HSS key %s has %ju hard links; it must have one (a second name keeps an "
                                "old state that would sign again)",
                                path, (uintmax_t) st.st_nlink);
                *ret_fd = TAKE_FD(fd);
                return 0;
        }
        return sfu_err_set(err, SFU_ERR_STORAGE, EAGAIN, "HSS key %s keeps being replaced; cannot lock it",
                           path);
}

static int read_key(int fd, const char *path, struct sfu_hss_key **ret, struct sfu_err *err) {
        uint8_t buf[SFU_HSS_PRIVATE_KEY_MAX + 1];
        size_t len = 0;
        int r;

        for (;;) {
                ssize_t n = pread(fd, buf + len, sizeof(buf) - len, (off_t) len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot read HSS key %s: %s", path,
                                        strerror(errno));
                        goto out;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len == sizeof(buf)) {
                        r = sfu_err_set(err, SFU_ERR_PARSE, EFBIG,
                                        "%s is larger than an HSS private key (%d bytes)", path,
                                        SFU_HSS_PRIVATE_KEY_MAX);
                        goto out;
                }
        }
        r = sfu_hss_key_load(buf, len, ret, err);
        if (r < 0)
                sfu_err_prefix(err, "%s", path);
out:
        OPENSSL_cleanse(buf, sizeof(buf));
        return r;
}

int sfu_hsskey_sign(const char *path, const uint8_t *msg, size_t msg_len, uint8_t **ret_sig,
                    size_t *ret_sig_len, uint64_t *ret_remaining, struct sfu_err *err) {
        _cleanup_hss_key_ struct sfu_hss_key *key = NULL;
        _cleanup_close_ int fd = -1;
        uint8_t state[SFU_HSS_PRIVATE_KEY_MAX];
        uint64_t index = 0;
        size_t len;
        int r;

        r = open_locked(path, LOCK_EX, &fd, err);
        if (r < 0)
                return r;
        r = read_key(fd, path, &key, err);
        if (r < 0)
                return r;
        if (sfu_hss_remaining(key) == 0)
                return sfu_err_set(err, SFU_ERR_STATE, ENOSPC,
                                   "HSS key %s is exhausted: all %" PRIu64 " signatures used", path,
                                   sfu_hss_params_total(sfu_hss_key_params(key)));
        r = sfu_hss_reserve(key, &index, err);
        if (r < 0)
                return r;
        len = sfu_hss_key_save(key, state);
        r = sfu_file_write_atomic(path, state, len, 0600, err);
        OPENSSL_cleanse(state, sizeof(state));
        if (r < 0)
                return r;
        /* Tests: the advanced state is durable, the signature not yet made. */
        r = SFU_FAULT("hss-state-synced");
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "HSS key %s: %s", path, strerror(-r));
        (void) close(TAKE_FD(fd)); /* unlocks: the next signer may go on */
        r = sfu_hss_sign_index(key, index, msg, msg_len, ret_sig, ret_sig_len, err);
        if (r < 0)
                return r;
        if (ret_remaining)
                *ret_remaining = sfu_hss_remaining(key);
        return 0;
}

int sfu_hsskey_info(const char *path, struct sfu_hss_params *ret_params,
                    uint8_t pub[SFU_HSS_PUBLIC_KEY_SIZE], uint64_t *ret_remaining, struct sfu_err *err) {
        _cleanup_hss_key_ struct sfu_hss_key *key = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        r = open_locked(path, LOCK_SH, &fd, err);
        if (r < 0)
                return r;
        r = read_key(fd, path, &key, err);
        if (r < 0)
                return r;
        if (ret_params)
                *ret_params = *sfu_hss_key_params(key);
        if (pub)
                sfu_hss_key_public(key, pub);
        if (ret_remaining)
                *ret_remaining = sfu_hss_remaining(key);
        return 0;
}

int sfu_hsskey_generate(const char *path, const struct sfu_hss_params *params,
                        uint8_t pub[SFU_HSS_PUBLIC_KEY_SIZE], struct sfu_err *err) {
        _cleanup_hss_key_ struct sfu_hss_key *key = NULL;
        _cleanup_free_ char *staged = NULL;
        uint8_t state[SFU_HSS_PRIVATE_KEY_MAX];
        struct stat st;
        size_t len;
        int r;

        if (lstat(path, &st) == 0)
                return sfu_err_set(
                        err, SFU_ERR_STORAGE, EEXIST,
                        "%s exists; refusing to overwrite an HSS private key (its used signatures would "
                        "be signed again)",
                        path);
        if (errno != ENOENT)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot create %s: %s", path,
                                   strerror(errno));
        r = sfu_hss_keygen(params, &key, err);
        if (r < 0)
                return r;
        if (asprintf(&staged, "%s.new.%d", path, (int) getpid()) < 0) {
                staged = NULL;
                return -ENOMEM;
        }
        /* A complete, synced file under a temporary name, then link(2),
         * which fails if path appeared meanwhile: never a replacement. */
        (void) unlink(staged);
        len = sfu_hss_key_save(key, state);
        r = sfu_file_write_atomic(staged, state, len, 0600, err);
        OPENSSL_cleanse(state, sizeof(state));
        if (r < 0)
                return r;
        if (link(staged, path) < 0) {
                r = -errno;
                (void) unlink(staged);
                if (r == -EEXIST)
                        return sfu_err_set(err, SFU_ERR_STORAGE, EEXIST,
                                           "%s exists; refusing to overwrite an HSS private key", path);
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot create %s: %s", path, strerror(-r));
        }
        (void) unlink(staged);
        r = sfu_file_sync_parent(path);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot sync the directory of %s: %s", path,
                                   strerror(-r));
        sfu_hss_key_public(key, pub);
        return 0;
}

static int sign_with_file(void *userdata, const void *input, size_t input_len, uint8_t **ret, size_t *ret_len,
                          struct sfu_err *err) {
        struct sfu_hsskey_signer *state = userdata;
        return sfu_hsskey_sign(state->path, input, input_len, ret, ret_len, &state->remaining, err);
}

int sfu_hsskey_signer(const char *path, struct sfu_hsskey_signer *state, struct sfu_signer *ret,
                      struct sfu_err *err) {
        uint8_t pub[SFU_HSS_PUBLIC_KEY_SIZE];
        struct sfu_hss_params params;
        _cleanup_free_ char *kid = NULL;
        int r;

        *state = (struct sfu_hsskey_signer) { .path = path };
        r = sfu_hsskey_info(path, &params, pub, &state->remaining, err);
        if (r < 0)
                return r;
        r = sfu_hss_kid(pub, sizeof(pub), &kid);
        if (r < 0)
                return r;
        snprintf(state->kid, sizeof(state->kid), "%s", kid);
        *ret = (struct sfu_signer) { .alg = SFU_ALG_HSS_LMS, .kid = state->kid, .sign = sign_with_file, .userdata = state };
        return 0;
}
