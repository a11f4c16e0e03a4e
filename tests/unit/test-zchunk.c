/* SPDX-License-Identifier: MIT */
/* io/zchunk.c and core/zchunk-index.c: what the vendor writes, the device
 * reads back into the same image, chunk by chunk, and a changed byte
 * anywhere is caught; hand-made headers with each thing the reader must
 * refuse. */
#include <fcntl.h>
#include <stdbool.h>
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

/* ---------------------------------------------------------------- hand-made headers */

struct hdr_opts {
        const char *id;                 /* 5 bytes */
        uint64_t lead_type, flags, comp, chunk_type, dict_len, sigs;
        int index_size_delta;           /* added to the true index size */
        bool optional, pad_ci, huge_ci, trailing, zero_comp, only_dict, bad_sum;
};

struct buf {
        uint8_t b[4096];
        size_t n;
};

static void put(struct buf *b, const void *p, size_t n) {
        if (b->n + n > sizeof(b->b))
                abort();
        memcpy(b->b + b->n, p, n);
        b->n += n;
}

static void put_ci(struct buf *b, uint64_t v) {
        do {
                uint8_t c = v & 0x7f;
                v >>= 7;
                if (v == 0)
                        c |= 0x80;
                put(b, &c, 1);
        } while (v);
}

static void put_fill(struct buf *b, uint8_t byte, size_t n) {
        for (size_t i = 0; i < n; i++)
                put(b, &byte, 1);
}

#define HCHUNKS 3
#define HCHUNK 4096u
#define HCOMP 100u

/* A header for an image of 2.5 chunks of HCHUNK, each chunk HCOMP bytes
 * compressed; returns its length, *ret_file_size the zchunk file's. */
static size_t make_header(const struct hdr_opts *o, uint8_t *out, uint64_t *ret_file_size) {
        struct buf index = {}, pre = {}, all = {};
        uint8_t sum[32];
        size_t sum_at;

        put_ci(&index, o->chunk_type);
        put_ci(&index, o->only_dict ? 1 : HCHUNKS + 1);
        put_fill(&index, 0, 64);                /* the dictionary's two digests */
        put_ci(&index, o->dict_len);
        put_ci(&index, o->dict_len);
        for (unsigned i = 0; !o->only_dict && i < HCHUNKS; i++) {
                put_fill(&index, (uint8_t) (0x10 + i), 32);
                put_fill(&index, (uint8_t) (0x20 + i), 32);
                if (i == 1 && o->pad_ci) {
                        put(&index, (uint8_t[]) { HCOMP, 0x80 }, 2); /* HCOMP with a padding byte */
                } else if (i == 1 && o->huge_ci) {
                        put_fill(&index, 0x7f, 9);
                        put(&index, (uint8_t[]) { 0x83 }, 1);   /* more than 64 bits */
                } else
                        put_ci(&index, i == 0 && o->zero_comp ? 0 : HCOMP);
                put_ci(&index, i + 1 < HCHUNKS ? HCHUNK : HCHUNK / 2);
        }

        put_fill(&pre, 0x55, 32);               /* the data checksum */
        put_ci(&pre, o->flags);
        put_ci(&pre, o->comp);
        if (o->optional) {
                put_ci(&pre, 1);
                put_ci(&pre, 7);
                put_ci(&pre, 3);
                put(&pre, "abc", 3);
        }
        put_ci(&pre, (uint64_t) ((int64_t) index.n + o->index_size_delta));
        put(&pre, index.b, index.n);
        put_ci(&pre, o->sigs);
        for (uint64_t i = 0; i < o->sigs; i++) {
                put_ci(&pre, 1);
                put_ci(&pre, 2);
                put(&pre, "sg", 2);
        }
        if (o->trailing)
                put_fill(&pre, 0, 1);

        put(&all, o->id, 5);
        put_ci(&all, o->lead_type);
        put_ci(&all, pre.n);
        sum_at = all.n;
        put_fill(&all, 0, 32);
        put(&all, pre.b, pre.n);
        /* the checksum: of everything but itself */
        {
                struct buf hashed = {};
                put(&hashed, all.b, sum_at);
                put(&hashed, all.b + sum_at + 32, all.n - sum_at - 32);
                SHA256(hashed.b, hashed.n, sum);
        }
        if (o->bad_sum)
                sum[0] ^= 1;
        memcpy(all.b + sum_at, sum, 32);
        memcpy(out, all.b, all.n);
        *ret_file_size = all.n + (o->only_dict ? 0 : (uint64_t) HCHUNKS * HCOMP) - (o->zero_comp ? HCOMP : 0);
        return all.n;
}

static void hand_made(void) {
        const struct hdr_opts good = {
                .id = "\0ZCK1", .lead_type = 1, .flags = 4, .comp = 2, .chunk_type = 1,
        };
        static const struct {
                const char *what;
                struct hdr_opts o;
        } bad[] = {
                { "another file ID", { .id = "\0ZHR1", .lead_type = 1, .flags = 4, .comp = 2, .chunk_type = 1 } },
                { "a SHA-1 header checksum", { .id = "\0ZCK1", .lead_type = 0, .flags = 4, .comp = 2, .chunk_type = 1 } },
                { "data streams", { .id = "\0ZCK1", .lead_type = 1, .flags = 5, .comp = 2, .chunk_type = 1 } },
                { "an unknown flag", { .id = "\0ZCK1", .lead_type = 1, .flags = 12, .comp = 2, .chunk_type = 1 } },
                { "no uncompressed digests", { .id = "\0ZCK1", .lead_type = 1, .flags = 0, .comp = 2, .chunk_type = 1 } },
                { "no compression", { .id = "\0ZCK1", .lead_type = 1, .flags = 4, .comp = 0, .chunk_type = 1 } },
                { "SHA-1 chunk digests", { .id = "\0ZCK1", .lead_type = 1, .flags = 4, .comp = 2, .chunk_type = 0 } },
                { "a dictionary", { .id = "\0ZCK1", .lead_type = 1, .flags = 4, .comp = 2, .chunk_type = 1, .dict_len = 9 } },
                { "a signature", { .id = "\0ZCK1", .lead_type = 1, .flags = 4, .comp = 2, .chunk_type = 1, .sigs = 1 } },
                { "an integer with a padding byte", { .id = "\0ZCK1", .lead_type = 1, .flags = 4, .comp = 2, .chunk_type = 1, .pad_ci = true } },
                { "an integer of more than 64 bits", { .id = "\0ZCK1", .lead_type = 1, .flags = 4, .comp = 2, .chunk_type = 1, .huge_ci = true } },
                { "an index size one too long", { .id = "\0ZCK1", .lead_type = 1, .flags = 4, .comp = 2, .chunk_type = 1, .index_size_delta = 1 } },
                { "an index size one too short", { .id = "\0ZCK1", .lead_type = 1, .flags = 4, .comp = 2, .chunk_type = 1, .index_size_delta = -1 } },
                { "a byte after the signatures", { .id = "\0ZCK1", .lead_type = 1, .flags = 4, .comp = 2, .chunk_type = 1, .trailing = true } },
                { "an empty chunk", { .id = "\0ZCK1", .lead_type = 1, .flags = 4, .comp = 2, .chunk_type = 1, .zero_comp = true } },
                { "no chunk but the dictionary", { .id = "\0ZCK1", .lead_type = 1, .flags = 4, .comp = 2, .chunk_type = 1, .only_dict = true } },
                { "a wrong header checksum", { .id = "\0ZCK1", .lead_type = 1, .flags = 4, .comp = 2, .chunk_type = 1, .bad_sum = true } },
        };
        uint8_t h[4096];
        uint64_t file_size, image = 2 * HCHUNK + HCHUNK / 2;
        struct sfu_zchunk_index idx = {};
        struct sfu_err err = SFU_ERR_INIT;
        struct hdr_opts opt = good;
        size_t len = make_header(&good, h, &file_size);

        ok(sfu_zchunk_index_read(h, len, HCHUNK, image, file_size, &idx, &err) == 0 && idx.n == HCHUNKS &&
                   idx.chunks[0].offset == len && idx.chunks[2].offset == len + 2 * HCOMP &&
                   idx.chunks[2].size == HCHUNK / 2 && idx.chunks[1].digest[0] == 0x11 &&
                   idx.chunks[1].digest_plain[31] == 0x21,
           "a hand-made header is read (%s)", err.message);
        sfu_zchunk_index_free(&idx);
        opt.optional = true;
        opt.flags = 6;
        len = make_header(&opt, h, &file_size);
        err = (struct sfu_err) SFU_ERR_INIT;
        ok(sfu_zchunk_index_read(h, len, HCHUNK, image, file_size, &idx, &err) == 0 && idx.n == HCHUNKS,
           "an optional element is skipped (%s)", err.message);
        sfu_zchunk_index_free(&idx);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                len = make_header(&bad[i].o, h, &file_size);
                err = (struct sfu_err) SFU_ERR_INIT;
                ok(sfu_zchunk_index_read(h, len, HCHUNK, image, file_size, &idx, &err) < 0 && err.message[0],
                   "%s: refused (%s)", bad[i].what, err.message);
                sfu_zchunk_index_free(&idx);
        }
        /* every prefix of a good header is refused */
        len = make_header(&good, h, &file_size);
        {
                bool all = true;
                for (size_t n = 0; n < len; n++) {
                        err = (struct sfu_err) SFU_ERR_INIT;
                        if (sfu_zchunk_index_read(h, n, HCHUNK, image, file_size, &idx, &err) == 0)
                                all = false;
                        sfu_zchunk_index_free(&idx);
                }
                ok(all, "each of the %zu shorter prefixes of a good header is refused", len);
        }
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
        file[header - 5] ^= 0x40; /* inside the index: the header checksum catches it */
        err = (struct sfu_err) SFU_ERR_INIT;
        ok(sfu_zchunk_index_read(file, header, CHUNK, size, file_size, &idx, &err) < 0, "a changed header refused (%s)",
           err.message);

        hand_made();
        sfu_zchunk_decoder_free(dec);
        free(file);
        free(image);
        free(out);
        close(in);
        close(zfd);
        return tap_done();
}
