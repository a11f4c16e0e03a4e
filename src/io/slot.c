/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "io/fault.h"
#include "io/slot.h"

struct sfu_slot_writer {
        int fd;
        char *path;
        uint64_t capacity;
        uint8_t *buf;           /* pending bytes for [buf_offset, buf_offset + buf_len) */
        uint64_t buf_offset;
        size_t buf_len;
        uint64_t wb_start, wb_end;      /* written, writeback not started yet */
};

/* Starts writeback of what was written (without waiting), so that the
 * final fdatasync does not find the whole image dirty in the page cache. */
static void start_writeback(struct sfu_slot_writer *w, uint64_t end, size_t len) {
        uint64_t start = end - len;
        if (start != w->wb_end)
                w->wb_start = start;
        w->wb_end = end;
        if (w->wb_end - w->wb_start < SFU_SLOT_WRITEBACK_CHUNK)
                return;
        (void) sync_file_range(w->fd, (off64_t) w->wb_start, (off64_t) (w->wb_end - w->wb_start),
                               SYNC_FILE_RANGE_WRITE);
        w->wb_start = w->wb_end;
}

static bool same_file(const struct stat *a, const struct stat *b) {
        if (S_ISBLK(a->st_mode) && S_ISBLK(b->st_mode))
                return a->st_rdev == b->st_rdev;
        return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

bool sfu_slot_same_device(const char *a, const char *b) {
        struct stat sa, sb;
        if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
                return false;
        return same_file(&sa, &sb);
}

int sfu_slot_writer_open(const char *device, const char *const *forbidden, uint64_t need,
                         struct sfu_slot_writer **ret, struct sfu_err *err) {
        _cleanup_close_ int fd = -1;
        struct sfu_slot_writer *w;
        struct stat st;
        uint64_t capacity;
        bool in_dev = strncmp(device, "/dev/", 5) == 0;

        /* Under /dev a slot is a block device (possibly reached through a
         * udev symlink) and is opened exclusively: the kernel refuses while
         * it is mounted or held by another exclusive opener, and nobody
         * can mount it while it is being written. */
        fd = open(device, O_RDWR | O_CLOEXEC | O_NOCTTY | (in_dev ? O_EXCL : O_NOFOLLOW));
        if (fd < 0) {
                if (errno == EBUSY)
                        return sfu_err_set(err, SFU_ERR_STORAGE, EBUSY,
                                           "slot %s is in use (mounted or held by another program); refusing to write it",
                                           device);
                if (errno == ELOOP)
                        return sfu_err_set(err, SFU_ERR_STORAGE, ELOOP,
                                           "slot %s is a symbolic link; refusing to follow it", device);
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot open slot %s: %s", device, strerror(errno));
        }
        if (fstat(fd, &st) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot stat slot %s: %s", device, strerror(errno));
        for (size_t i = 0; forbidden && forbidden[i]; i++) {
                struct stat fst;
                if (stat(forbidden[i], &fst) == 0 && same_file(&st, &fst))
                        return sfu_err_set(err, SFU_ERR_STORAGE, EPERM,
                                           "slot %s is the same device as %s%s; refusing to write it", device,
                                           forbidden[i], i == 0 ? " (the running slot)" : "");
        }
        if (S_ISBLK(st.st_mode)) {
                if (ioctl(fd, BLKGETSIZE64, &capacity) < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot get the size of %s: %s", device,
                                           strerror(errno));
        } else if (S_ISREG(st.st_mode))
                capacity = (uint64_t) st.st_size;
        else
                return sfu_err_set(err, SFU_ERR_STORAGE, ENODEV, "slot %s is neither a block device nor a regular file",
                                   device);
        if (need > capacity)
                return sfu_err_set(err, SFU_ERR_SIZE, ENOSPC,
                                   "slot %s holds %" PRIu64 " bytes, the image needs %" PRIu64, device, capacity, need);

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->path = strdup(device);
        if (!w->path) {
                free(w);
                return -ENOMEM;
        }
        w->fd = TAKE_FD(fd);
        w->capacity = capacity;
        *ret = w;
        return 0;
}

/* The buffer is allocated on first need: a writer fed only whole blocks
 * never needs it. */
static int ensure_buffer(struct sfu_slot_writer *w) {
        if (!w->buf) {
                w->buf = malloc(SFU_SLOT_WRITE_BUFFER);
                if (!w->buf)
                        return -ENOMEM;
        }
        return 0;
}

static int pwrite_all(struct sfu_slot_writer *w, const uint8_t *buf, size_t len, uint64_t offset,
                      struct sfu_err *err) {
        size_t done = 0;
        while (done < len) {
                ssize_t n = pwrite(w->fd, buf + done, len - done, (off_t) (offset + done));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot write slot %s at %" PRIu64 ": %s",
                                           w->path, offset + done, strerror(errno));
                }
                done += (size_t) n;
        }
        return 0;
}

uint64_t sfu_slot_writer_capacity(const struct sfu_slot_writer *w) {
        return w->capacity;
}

static int flush(struct sfu_slot_writer *w, struct sfu_err *err) {
        int r;

        if (w->buf_len == 0)
                return 0;
        r = SFU_FAULT("slot-write");
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot write slot %s: %s", w->path, strerror(-r));
        r = pwrite_all(w, w->buf, w->buf_len, w->buf_offset, err);
        if (r < 0)
                return r;
        start_writeback(w, w->buf_offset + w->buf_len, w->buf_len);
        w->buf_offset += w->buf_len;
        w->buf_len = 0;
        return 0;
}

int sfu_slot_writer_write(struct sfu_slot_writer *w, uint64_t offset, const void *buf, size_t len,
                          struct sfu_err *err) {
        const uint8_t *p = buf;
        int r;

        if (offset + len > w->capacity || offset + len < offset)
                return sfu_err_set(err, SFU_ERR_SIZE, ENOSPC, "image does not fit into slot %s (%" PRIu64 " bytes)",
                                   w->path, w->capacity);
        if (offset != w->buf_offset + w->buf_len) {
                r = flush(w, err);
                if (r < 0)
                        return r;
                w->buf_offset = offset;
        }
        if (w->buf_len == 0 && len >= SFU_SLOT_DIRECT_MIN) {
                /* Large blocks (the hash pipeline's) need no copy. */
                r = SFU_FAULT("slot-write");
                if (r < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot write slot %s: %s", w->path,
                                           strerror(-r));
                r = pwrite_all(w, p, len, offset, err);
                if (r < 0)
                        return r;
                start_writeback(w, offset + len, len);
                w->buf_offset = offset + len;
                return 0;
        }
        r = ensure_buffer(w);
        if (r < 0)
                return r;
        while (len > 0) {
                size_t n = SFU_SLOT_WRITE_BUFFER - w->buf_len;
                if (n > len)
                        n = len;
                memcpy(w->buf + w->buf_len, p, n);
                w->buf_len += n;
                p += n;
                len -= n;
                if (w->buf_len == SFU_SLOT_WRITE_BUFFER) {
                        r = flush(w, err);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int sfu_slot_writer_sync(struct sfu_slot_writer *w, struct sfu_err *err) {
        int r = flush(w, err);
        if (r < 0)
                return r;
        r = SFU_FAULT("slot-sync");
        if (r < 0 || fdatasync(w->fd) < 0) {
                if (r == 0)
                        r = -errno;
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot sync slot %s: %s", w->path, strerror(-r));
        }
        return 0;
}

int sfu_slot_writer_read_back(struct sfu_slot_writer *w, uint64_t len,
                              int (*fn)(void *userdata, const void *buf, size_t len, struct sfu_err *err),
                              void *userdata, struct sfu_err *err) {
        _cleanup_free_ uint8_t *buf = NULL;
        uint64_t offset = 0;
        int r = flush(w, err);

        if (r < 0)
                return r;
        /* A buffer of its own, no larger than the hash pipe's ring (gone
         * by the time of the re-check): the write buffer (1 MiB) is never
         * needed by a download fed whole blocks, and reading back must not
         * raise the peak memory of staging.  128 KiB stays in the CPU's L2
         * cache between pread and hashing; 32 KiB took twice as long. */
        buf = malloc(SFU_SLOT_READ_BACK_BUFFER);
        if (!buf)
                return -ENOMEM;
        while (offset < len) {
                size_t want = len - offset > SFU_SLOT_READ_BACK_BUFFER ? SFU_SLOT_READ_BACK_BUFFER
                                                                      : (size_t) (len - offset);
                ssize_t n = pread(w->fd, buf, want, (off_t) offset);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, n < 0 ? errno : EIO,
                                           "cannot read back slot %s at %" PRIu64, w->path, offset);
                r = fn(userdata, buf, (size_t) n, err);
                if (r < 0)
                        return r;
                offset += (uint64_t) n;
        }
        return 0;
}

int sfu_slot_writer_check_path(const struct sfu_slot_writer *w, struct sfu_err *err) {
        struct stat opened, now;
        bool in_dev = strncmp(w->path, "/dev/", 5) == 0;

        if (fstat(w->fd, &opened) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot stat slot %s: %s", w->path, strerror(errno));
        if ((in_dev ? stat(w->path, &now) : lstat(w->path, &now)) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "slot %s is gone: %s", w->path, strerror(errno));
        if (!same_file(&opened, &now))
                return sfu_err_set(err, SFU_ERR_STORAGE, EXDEV,
                                   "slot %s was replaced by another file while it was written; not activating it",
                                   w->path);
        return 0;
}

void sfu_slot_writer_free(struct sfu_slot_writer *w) {
        if (!w)
                return;
        if (w->fd >= 0)
                close(w->fd);
        free(w->buf);
        free(w->path);
        free(w);
}
