/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdint.h>
#include <libgen.h>
#include <sys/stat.h>

#include "io/fault.h"
#include "io/fileio.h"
#include "core/digest.h"

int sfu_file_write_all(int fd, const void *data, size_t len) {
        const char *p = data;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

int sfu_file_read_full(int fd, void *buf, size_t len, int64_t offset, size_t *ret) {
        size_t got = 0;

        while (got < len) {
                ssize_t n = offset < 0 ? read(fd, (char *) buf + got, len - got)
                                       : pread(fd, (char *) buf + got, len - got, (off_t) ((uint64_t) offset + got));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                got += (size_t) n;
        }
        *ret = got;
        return 0;
}

int sfu_file_sync_parent(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int dfd = -1;

        if (!copy)
                return -ENOMEM;
        dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if (fsync(dfd) < 0)
                return -errno;
        return 0;
}

int sfu_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct sfu_err *err) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if (asprintf(&tmp, "%s.tmp.%d", path, (int) getpid()) < 0) {
                tmp = NULL;
                return -ENOMEM;
        }
        unlink(tmp); /* a leftover of an earlier crash of the same pid */
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot create %s: %s", tmp, strerror(errno));
        r = SFU_FAULT("atomic-write");
        if (r >= 0)
                r = sfu_file_write_all(fd, data, len);
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0)
                r = SFU_FAULT("atomic-rename");
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot write %s: %s", path, strerror(-r));
        }
        r = sfu_file_sync_parent(path);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot sync the directory of %s: %s", path, strerror(-r));
        return 0;
}

/* Reads what remains of fd (a regular file) into a new NUL-terminated
 * buffer of at most max bytes; name is for messages. */
static int read_regular(int fd, const char *name, size_t max, unsigned flags, char **ret, size_t *ret_len,
                        struct sfu_err *err) {
        struct stat st;
        int r;

        if (fstat(fd, &st) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot stat %s: %s", name, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL, "%s is not a regular file", name);
        if ((flags & SFU_READ_PRIVATE) && (st.st_mode & 022))
                return sfu_err_set(err, SFU_ERR_STATE, EPERM, "%s is writable by group or others (mode %04o)", name,
                                   (unsigned) (st.st_mode & 07777));
        if ((uint64_t) st.st_size > max)
                return sfu_err_set(err, SFU_ERR_SIZE, EFBIG, "%s is %lld bytes, more than the limit of %zu", name,
                                   (long long) st.st_size, max);
        r = sfu_file_load_fd(fd, max, SFU_FILE_REGULAR, ret, ret_len);
        if (r == -EFBIG)
                return sfu_err_set(err, SFU_ERR_SIZE, EFBIG, "%s grew beyond the limit of %zu bytes", name, max);
        if (r < 0 && r != -ENOMEM)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot read %s: %s", name, strerror(-r));
        return r;
}

int sfu_file_read(const char *path, size_t max, unsigned flags, char **ret, size_t *ret_len, struct sfu_err *err) {
        _cleanup_close_ int fd = -1;

        /* O_NONBLOCK so that a FIFO planted at path cannot hang us. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | ((flags & SFU_READ_NOFOLLOW) ? O_NOFOLLOW : 0));
        if (fd < 0) {
                if (errno == ENOENT)
                        return -ENOENT;
                if (errno == ELOOP)
                        return sfu_err_set(err, SFU_ERR_STATE, ELOOP, "%s is a symbolic link", path);
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot open %s: %s", path, strerror(errno));
        }
        return read_regular(fd, path, max, flags, ret, ret_len, err);
}

int sfu_file_read_head_fd(int fd, const char *name, size_t max, char **ret, size_t *ret_len, uint64_t *ret_size,
                          struct sfu_err *err) {
        struct stat st;
        int r;

        if (lseek(fd, 0, SEEK_SET) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot read %s: %s", name, strerror(errno));
        if (fstat(fd, &st) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot stat %s: %s", name, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL, "%s is not a regular file", name);
        r = sfu_file_load_fd(fd, max, SFU_FILE_REGULAR | SFU_FILE_HEAD, ret, ret_len);
        if (r < 0 && r != -ENOMEM)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot read %s: %s", name, strerror(-r));
        if (r >= 0)
                *ret_size = (uint64_t) st.st_size;
        return r;
}

int sfu_mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        for (char *p = copy + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                if (mkdir(copy, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(copy, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* ---------------------------------------------------------------------
 * Streams, new files and verified copies. */

#define FILE_COPY_BLOCK (1024u * 1024u)         /* block of sfu_file_copy() */

static ssize_t read_retry(int fd, void *buf, size_t len) {
        for (;;) {
                ssize_t n = read(fd, buf, len);
                if (n >= 0 || errno != EINTR)
                        return n < 0 ? -errno : n;
        }
}

int sfu_file_read_fd(int fd, const char *name, size_t max, char **ret, size_t *ret_len, struct sfu_err *err) {
        int r = sfu_file_load_fd(fd, max, 0, ret, ret_len);

        if (r == -EFBIG)
                return sfu_err_set(err, SFU_ERR_SIZE, EFBIG, "%s is larger than the limit of %zu bytes", name, max);
        if (r == -ENOMEM)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory reading %s", name);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot read %s: %s", name, strerror(-r));
        return 0;
}

int sfu_file_open_regular(const char *path, int *ret_fd, struct sfu_err *err) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        /* O_NONBLOCK: a FIFO at path must not hang the open. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot open %s: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot stat %s: %s", path, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return sfu_err_set(err, SFU_ERR_STORAGE, EINVAL, "%s is not a regular file", path);
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot open %s: %s", path, strerror(errno));
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int sfu_file_create_new(const char *path, mode_t mode, int *ret_fd, struct sfu_err *err) {
        int fd;

        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, mode);
        if (fd < 0) {
                if (errno == EEXIST)
                        return sfu_err_set(err, SFU_ERR_STORAGE, EEXIST, "%s already exists; not overwriting it",
                                           path);
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot create %s: %s", path, strerror(errno));
        }
        /* The umask may have narrowed mode; it can never have widened it. */
        if (fchmod(fd, mode) < 0) {
                int saved = errno;
                close(fd);
                unlink(path);
                return sfu_err_set(err, SFU_ERR_STORAGE, saved, "cannot set the mode of %s: %s", path,
                                   strerror(saved));
        }
        *ret_fd = fd;
        return 0;
}

int sfu_file_create_temp(const char *dir, char **ret_path, int *ret_fd, struct sfu_err *err) {
        _cleanup_free_ char *tmpl = NULL;
        int fd;

        if (asprintf(&tmpl, "%s/.secfu-XXXXXX", dir) < 0) {
                tmpl = NULL;
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        }
        fd = mkostemp(tmpl, O_CLOEXEC);
        if (fd < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot create a temporary file in %s: %s", dir,
                                   strerror(errno));
        *ret_path = TAKE_PTR(tmpl);
        *ret_fd = fd;
        return 0;
}

int sfu_file_finish(int fd, const char *path, const void *data, size_t len, mode_t mode, struct sfu_err *err) {
        int r;

        r = sfu_file_write_all(fd, data, len);
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r >= 0)
                r = -errno;
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot write %s: %s", path, strerror(-r));
        return 0;
}

int sfu_file_copy(int in_fd, int out_fd, uint64_t max_bytes, struct sfu_digest_set *set, uint64_t *ret_bytes) {
        _cleanup_free_ uint8_t *block = malloc(FILE_COPY_BLOCK);
        uint64_t total = 0;
        int r;

        if (!block)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read_retry(in_fd, block, FILE_COPY_BLOCK);

                if (n <= 0) {
                        if (n < 0)
                                return (int) n;
                        break;
                }
                total += (uint64_t) n;
                if (total > max_bytes)
                        return -EFBIG;
                if (set && (r = sfu_digest_set_update(set, block, (size_t) n)) < 0)
                        return r;
                r = sfu_file_write_all(out_fd, block, (size_t) n);
                if (r < 0)
                        return r;
        }
        if (set && (r = sfu_digest_set_final(set)) < 0)
                return r;
        if (ret_bytes)
                *ret_bytes = total;
        return 0;
}

int sfu_file_move_into(const char *from, const char *path, struct sfu_err *err) {
        _cleanup_free_ char *copy = strdup(path);
        const char *dir;
        int r;

        if (!copy)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        dir = dirname(copy);
        r = sfu_mkdir_p(dir, 0755);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot create directory %s: %s", dir, strerror(-r));
        if (rename(from, path) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot rename %s to %s: %s", from, path,
                                   strerror(errno));
        r = sfu_file_sync_parent(path);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot sync the directory of %s: %s", path, strerror(-r));
        return 0;
}
