/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <sys/stat.h>

#include "core/file.h"

int sfu_file_load_fd(int fd, size_t max, unsigned flags, char **ret, size_t *ret_len) {
        char *buf;
        struct stat st;
        size_t len = 0;
        int r = 0;

        if (fstat(fd, &st) < 0)
                return -errno;
        if ((flags & SFU_FILE_REGULAR) && !S_ISREG(st.st_mode))
                return -EINVAL;
        if (S_ISREG(st.st_mode) && (uint64_t) st.st_size > max && !(flags & SFU_FILE_HEAD))
                return -EFBIG;
        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;
        /* One byte more than allowed tells "too large" from "just fits". */
        while (len <= max) {
                size_t want = (flags & SFU_FILE_HEAD) ? max - len : max + 1 - len;
                if (want == 0)
                        break;
                ssize_t n = read(fd, buf + len, want);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        break;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        if (r >= 0 && len > max)
                r = -EFBIG;
        if (r >= 0 && (flags & SFU_FILE_NO_NUL) && memchr(buf, 0, len))
                r = -EBADMSG;
        if (r < 0) {
                if (flags & SFU_FILE_SECRET)
                        sfu_wipe(buf, max + 1);
                free(buf);
                return r;
        }
        buf[len] = 0;
        *ret = buf;
        if (ret_len)
                *ret_len = len;
        return 0;
}
