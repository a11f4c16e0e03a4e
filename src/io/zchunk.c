/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <unistd.h>
#include <zstd.h>

#include <openssl/sha.h>

#include "io/fileio.h"
#include "io/zchunk.h"

struct sfu_zchunk_decoder {
        ZSTD_DCtx *dctx;
};

int sfu_zchunk_index_read(const uint8_t *header, size_t len, uint32_t chunk_size, uint64_t image_size,
                          uint64_t file_size, struct sfu_zchunk_index *ret, struct sfu_err *err) {
        return sfu_zchunk_index_parse_buffer(header, len, chunk_size, image_size, file_size, ret, err);
}

static int fd_read(void *userdata, uint64_t offset, uint8_t *buf, size_t len, struct sfu_err *err) {
        int fd = *(const int *) userdata;
        size_t got = 0;
        int r = sfu_file_read_full(fd, buf, len, (int64_t) offset, &got);

        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot read the header file: %s", strerror(-r));
        if (got != len)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "zchunk: the header file ends early");
        return 0;
}

int sfu_zchunk_index_read_fd(int fd, size_t len, uint32_t chunk_size, uint64_t image_size, uint64_t file_size,
                             struct sfu_zchunk_index *ret, struct sfu_err *err) {
        return sfu_zchunk_index_parse(fd_read, &fd, len, chunk_size, image_size, file_size, ret, err);
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
