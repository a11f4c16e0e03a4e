/* SPDX-License-Identifier: MIT */
/* io/zchunk.c: what the vendor writes, the device reads back into the
 * same image, chunk by chunk, and a changed byte anywhere is caught. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "io/zchunk.h"
#include "tap.h"

#define CHUNK 8192u

static int memfile(const void *data, size_t len) {
        int fd = memfd_create("test", MFD_CLOEXEC);
        if (fd < 0 || write(fd, data, len) != (ssize_t) len || lseek(fd, 0, SEEK_SET) < 0)
                abort();
        return fd;
}

static uint8_t *slurp(int fd, size_t *ret_len) {
        off_t end = lseek(fd, 0, SEEK_END);
        uint8_t *buf = malloc((size_t) end);
        if (!buf || pread(fd, buf, (size_t) end, 0) != end)
                abort();
        *ret_len = (size_t) end;
        return buf;
}

int main(void) {
        size_t size = 5 * CHUNK + 1234, file_len = 0;
        uint8_t *image = malloc(size), *out = malloc(CHUNK), *file, sha[SFU_ZCHUNK_DIGEST_SIZE], md[32];
        uint64_t header = 0, file_size = 0;
        struct sfu_zchunk_index idx = {};
        struct sfu_zchunk_decoder *dec = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        int in, zfd = memfd_create("zck", MFD_CLOEXEC);
        bool all = true, same = true;

        /* half compressible, half random */
        for (size_t i = 0; i < size; i++)
                image[i] = i < size / 2 ? (uint8_t) (i / 100) : (uint8_t) rand();
        in = memfile(image, size);
        ok(sfu_zchunk_write(in, zfd, CHUNK, 3, &header, sha, &file_size, &err) == 0, "write (%s)", err.message);
        file = slurp(zfd, &file_len);
        ok(file_len == file_size && header > 0 && header < file_size, "file and header sizes reported");
        SHA256(file, header, md);
        ok(memcmp(md, sha, sizeof(md)) == 0, "the header digest is SHA-256 of the lead and header");

        ok(sfu_zchunk_index_read(file, header, CHUNK, size, file_size, &idx, &err) == 0, "index read (%s)",
           err.message);
        ok(idx.n == 6 && idx.chunks[0].offset == header && idx.chunks[5].size == 1234 && idx.chunks[0].size == CHUNK,
           "six chunks: five full, one of 1234 bytes, the first right after the header");
        ok(sfu_zchunk_decoder_new(&dec) == 0, "decoder");
        for (size_t i = 0; i < idx.n; i++) {
                err = (struct sfu_err) SFU_ERR_INIT;
                if (sfu_zchunk_decode(dec, &idx.chunks[i], file + idx.chunks[i].offset, out, &err) < 0)
                        all = false;
                else if (memcmp(out, image + i * CHUNK, idx.chunks[i].size) != 0)
                        same = false;
        }
        ok(all && same, "every chunk decodes to the image's bytes (%s)", err.message);

        /* a flipped byte in a chunk's compressed bytes */
        file[idx.chunks[2].offset + 3] ^= 1;
        err = (struct sfu_err) SFU_ERR_INIT;
        ok(sfu_zchunk_decode(dec, &idx.chunks[2], file + idx.chunks[2].offset, out, &err) < 0 &&
                   err.code == SFU_ERR_DIGEST && strstr(err.message, "compressed bytes"),
           "a changed compressed byte is refused before decompression (%s)", err.message);
        file[idx.chunks[2].offset + 3] ^= 1;
        /* a chunk whose compressed digest was forged too: the image digest decides */
        {
                struct sfu_zchunk_chunk forged = idx.chunks[1];
                forged.comp_size = idx.chunks[0].comp_size;
                SHA256(file + idx.chunks[0].offset, forged.comp_size, forged.digest);
                err = (struct sfu_err) SFU_ERR_INIT;
                ok(sfu_zchunk_decode(dec, &forged, file + idx.chunks[0].offset, out, &err) < 0 &&
                           strstr(err.message, "image bytes"),
                   "another chunk's bytes under a matching compressed digest: refused by the image digest (%s)",
                   err.message);
        }
        sfu_zchunk_index_free(&idx);

        /* the index must describe exactly the image */
        err = (struct sfu_err) SFU_ERR_INIT;
        ok(sfu_zchunk_index_read(file, header, CHUNK, size + 1, file_size, &idx, &err) < 0, "another image size refused (%s)",
           err.message);
        err = (struct sfu_err) SFU_ERR_INIT;
        ok(sfu_zchunk_index_read(file, header, CHUNK * 2, size, file_size, &idx, &err) < 0,
           "another chunk size refused (%s)", err.message);
        err = (struct sfu_err) SFU_ERR_INIT;
        ok(sfu_zchunk_index_read(file, header, CHUNK, size, file_size + 1, &idx, &err) < 0,
           "another file size refused (%s)", err.message);
        err = (struct sfu_err) SFU_ERR_INIT;
        ok(sfu_zchunk_index_read(file, header - 1, CHUNK, size, file_size, &idx, &err) < 0,
           "a truncated header refused (%s)", err.message);
        file[header - 5] ^= 0x40; /* inside the index: libzck's own header digest catches it */
        err = (struct sfu_err) SFU_ERR_INIT;
        ok(sfu_zchunk_index_read(file, header, CHUNK, size, file_size, &idx, &err) < 0, "a changed header refused (%s)",
           err.message);

        sfu_zchunk_decoder_free(dec);
        free(file);
        free(image);
        free(out);
        close(in);
        close(zfd);
        return tap_done();
}
