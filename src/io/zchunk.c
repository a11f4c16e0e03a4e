/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zck.h>
#include <zstd.h>

#include <openssl/sha.h>

#include "core/hex.h"
#include "io/fileio.h"
#include "io/zchunk.h"

struct sfu_zchunk_decoder {
        ZSTD_DCtx *dctx;
};

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
        if (chunk_size == 0 || chunk_size > 64u * 1024u * 1024u)
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

static int hex_digest(zckChunk *c, bool plain, uint8_t out[static SFU_ZCHUNK_DIGEST_SIZE]) {
        _cleanup_free_ char *hex = plain ? zck_get_chunk_digest_uncompressed(c) : zck_get_chunk_digest(c);
        if (!hex || strlen(hex) != 2 * SFU_ZCHUNK_DIGEST_SIZE)
                return -EINVAL;
        return sfu_hex_decode(hex, out, SFU_ZCHUNK_DIGEST_SIZE);
}

int sfu_zchunk_index_read(const uint8_t *header, size_t len, uint32_t chunk_size, uint64_t image_size,
                          uint64_t file_size, struct sfu_zchunk_index *ret, struct sfu_err *err) {
        _cleanup_close_ int fd = memfd_create("secfud-zck-header", MFD_CLOEXEC);

        if (fd < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot create a memory file: %s", strerror(errno));
        for (size_t off = 0; off < len;) {
                ssize_t n = write(fd, header + off, len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot fill a memory file");
                off += (size_t) n;
        }
        return sfu_zchunk_index_read_fd(fd, len, chunk_size, image_size, file_size, ret, err);
}

int sfu_zchunk_index_read_fd(int fd, size_t len, uint32_t chunk_size, uint64_t image_size, uint64_t file_size,
                             struct sfu_zchunk_index *ret, struct sfu_err *err) {
        _cleanup_(zck_freep) zckCtx *z = NULL;
        _cleanup_free_ struct sfu_zchunk_chunk *chunks = NULL;
        uint64_t next, total = 0;
        size_t max_comp = ZSTD_compressBound(chunk_size), n_chunks, i = 0;
        ssize_t count;
        zckChunk *c;

        quiet();
        if (chunk_size == 0 || image_size == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "zchunk: empty image or chunk size");
        if (lseek(fd, 0, SEEK_SET) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot rewind the header file");
        z = zck_create();
        if (!z)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        if (!zck_init_adv_read(z, fd) || !zck_read_lead(z) || !zck_read_header(z))
                return zck_fail(z, err, "unreadable header");
        if (zck_get_header_length(z) != (ssize_t) len)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "zchunk: the header is %zd bytes, not %zu",
                                   zck_get_header_length(z), len);
        if (zck_get_chunk_digest_size(z) != SFU_ZCHUNK_DIGEST_SIZE)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "zchunk: chunk digests are not SHA-256");
        count = zck_get_chunk_count(z);
        if (count < 2 || (size_t) count - 1 > SFU_ZCHUNK_MAX_CHUNKS)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "zchunk: %zd chunks", count);
        n_chunks = (size_t) count - 1;
        if (n_chunks != (image_size + chunk_size - 1) / chunk_size)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG,
                                   "zchunk: %zu chunks cannot hold %" PRIu64 " bytes in chunks of %" PRIu32,
                                   n_chunks, image_size, chunk_size);
        chunks = calloc(n_chunks, sizeof(*chunks));
        if (!chunks)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        c = zck_get_first_chunk(z);
        /* Chunk 0 is the compression dictionary: there must be none. */
        if (!c || zck_get_chunk_size(c) != 0 || zck_get_chunk_comp_size(c) != 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "zchunk: the file has a dictionary");
        next = len;
        for (c = zck_get_next_chunk(c); c; c = zck_get_next_chunk(c), i++) {
                struct sfu_zchunk_chunk *k = &chunks[i];
                ssize_t start = zck_get_chunk_start(c), size = zck_get_chunk_size(c),
                        comp = zck_get_chunk_comp_size(c);
                uint64_t want = i + 1 < n_chunks ? chunk_size : image_size - (uint64_t) chunk_size * (n_chunks - 1);

                if (i >= n_chunks || start < 0 || (uint64_t) start != next || size < 0 || (uint64_t) size != want ||
                    comp <= 0 || (size_t) comp > max_comp || hex_digest(c, false, k->digest) < 0 ||
                    hex_digest(c, true, k->digest_plain) < 0)
                        return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "zchunk: chunk %zu is not as expected", i + 1);
                k->offset = (uint64_t) start;
                k->size = (uint32_t) size;
                k->comp_size = (uint32_t) comp;
                next += (uint64_t) comp;
                total += (uint64_t) size;
        }
        if (i != n_chunks || total != image_size || next != file_size)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG,
                                   "zchunk: the chunks make %" PRIu64 " bytes of image and a file of %" PRIu64
                                   ", not %" PRIu64 " and %" PRIu64,
                                   total, next, image_size, file_size);
        *ret = (struct sfu_zchunk_index) {
                .chunks = TAKE_PTR(chunks),
                .n = n_chunks,
                .chunk_size = chunk_size,
                .max_comp_size = (uint32_t) max_comp,
        };
        return 0;
}

void sfu_zchunk_index_free(struct sfu_zchunk_index *idx) {
        free(idx->chunks);
        *idx = (struct sfu_zchunk_index) {};
}

int sfu_zchunk_decoder_new(struct sfu_zchunk_decoder **ret) {
        struct sfu_zchunk_decoder *d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->dctx = ZSTD_createDCtx();
        if (!d->dctx) {
                free(d);
                return -ENOMEM;
        }
        *ret = d;
        return 0;
}

void sfu_zchunk_decoder_free(struct sfu_zchunk_decoder *d) {
        if (!d)
                return;
        ZSTD_freeDCtx(d->dctx);
        free(d);
}

int sfu_zchunk_decode(struct sfu_zchunk_decoder *d, const struct sfu_zchunk_chunk *chunk, const uint8_t *comp,
                      uint8_t *out, struct sfu_err *err) {
        uint8_t md[SFU_ZCHUNK_DIGEST_SIZE];
        size_t n;

        /* zstd reads nothing that the header does not vouch for. */
        SHA256(comp, chunk->comp_size, md);
        if (memcmp(md, chunk->digest, sizeof(md)) != 0)
                return sfu_err_set(err, SFU_ERR_DIGEST, EBADMSG,
                                   "delta chunk at %" PRIu64 ": the compressed bytes do not match their digest",
                                   chunk->offset);
        n = ZSTD_decompressDCtx(d->dctx, out, chunk->size, comp, chunk->comp_size);
        if (ZSTD_isError(n) || n != chunk->size)
                return sfu_err_set(err, SFU_ERR_DIGEST, EBADMSG, "delta chunk at %" PRIu64 ": does not decompress to %" PRIu32 " bytes",
                                   chunk->offset, chunk->size);
        SHA256(out, chunk->size, md);
        if (memcmp(md, chunk->digest_plain, sizeof(md)) != 0)
                return sfu_err_set(err, SFU_ERR_DIGEST, EBADMSG,
                                   "delta chunk at %" PRIu64 ": the image bytes do not match their digest", chunk->offset);
        return 0;
}
