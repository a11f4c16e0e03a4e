/* SPDX-License-Identifier: MIT */
/* The vendor side of io/zchunk.h: writing a zchunk file, through libzck
 * (only secfu-manifest and the tests link it; the daemon reads headers
 * with io/zchunk.c). */
#include <inttypes.h>
#include <unistd.h>
#include <zck.h>

#include <openssl/sha.h>

#include "io/fileio.h"
#include "io/zchunk.h"

static void quiet(void) {
        zck_set_log_level(ZCK_LOG_NONE);
}

static void zck_freep(zckCtx **z) {
        if (*z)
                zck_free(z);
}

static int zck_fail(zckCtx *z, struct sfu_err *err, const char *what) {
        const char *msg = z ? zck_get_error(z) : NULL;
        char buf[SFU_QUOTE_MAX + 4];
        return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "zchunk: %s: %s", what,
                           msg ? sfu_quote(msg, strlen(msg), buf) : "failed");
}

int sfu_zchunk_write(int in_fd, int out_fd, uint32_t chunk_size, int level, uint64_t *ret_header_size,
                     uint8_t ret_header_sha256[static SFU_ZCHUNK_DIGEST_SIZE], uint64_t *ret_file_size,
                     struct sfu_err *err) {
        _cleanup_(zck_freep) zckCtx *z = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        off_t end;
        ssize_t header;
        int r;

        quiet();
        if (chunk_size == 0 || chunk_size > SFU_ZCHUNK_MAX_CHUNK_SIZE)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "zchunk: chunk size %" PRIu32 " out of range",
                                   chunk_size);
        buf = malloc(chunk_size);
        z = zck_create();
        if (!buf || !z)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        if (!zck_init_write(z, out_fd))
                return zck_fail(z, err, "cannot start writing");
        if (!zck_set_ioption(z, ZCK_HASH_CHUNK_TYPE, ZCK_HASH_SHA256) ||
            !zck_set_ioption(z, ZCK_UNCOMP_HEADER, 1) || !zck_set_ioption(z, ZCK_MANUAL_CHUNK, 1) ||
            !zck_set_ioption(z, ZCK_CHUNK_MAX, (ssize_t) chunk_size) ||
            !zck_set_ioption(z, ZCK_ZSTD_COMP_LEVEL, level))
                return zck_fail(z, err, "cannot set the chunk parameters");
        for (;;) {
                size_t n;
                r = sfu_file_read_full(in_fd, buf, chunk_size, -1, &n);
                if (r < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot read the image: %s", strerror(-r));
                if (n == 0)
                        break;
                if (zck_write(z, (const char *) buf, n) != (ssize_t) n || zck_end_chunk(z) < 0)
                        return zck_fail(z, err, "cannot write a chunk");
                if (n < chunk_size)
                        break;
        }
        if (!zck_close(z))
                return zck_fail(z, err, "cannot finish the file");
        header = zck_get_header_length(z);
        if (header <= 0)
                return zck_fail(z, err, "no header length");
        zck_free(&z);

        /* The digest of the bytes as written: read them back. */
        end = lseek(out_fd, 0, SEEK_END);
        if (end < header)
                return sfu_err_set(err, SFU_ERR_STORAGE, EIO, "zchunk: the file is shorter than its header");
        {
                _cleanup_free_ uint8_t *h = malloc((size_t) header);
                size_t got = 0;
                if (!h)
                        return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
                if (lseek(out_fd, 0, SEEK_SET) < 0 || sfu_file_read_full(out_fd, h, (size_t) header, -1, &got) < 0 ||
                    got != (size_t) header)
                        return sfu_err_set(err, SFU_ERR_STORAGE, EIO, "zchunk: cannot read the header back");
                SHA256(h, (size_t) header, ret_header_sha256);
        }
        *ret_header_size = (uint64_t) header;
        *ret_file_size = (uint64_t) end;
        return 0;
}
