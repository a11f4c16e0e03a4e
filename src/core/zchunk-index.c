/* SPDX-License-Identifier: MIT */
/* The reader of an (authenticated) zchunk header: a stream over the
 * header in small blocks, so that memory holds the flat index and nothing
 * else (libzck keeps the whole header and several structures per chunk).
 * The format is zchunk version 1 (doc/delta.md), restricted to what
 * secfu-manifest writes. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/zchunk-index.h"

#define ZCK_ID "\0ZCK1"
#define ZCK_ID_LEN 5
#define ZCK_HASH_SHA256_TYPE 1
#define ZCK_COMP_ZSTD 2
#define ZCK_FLAG_STREAMS 1u
#define ZCK_FLAG_OPTIONAL 2u
#define ZCK_FLAG_UNCOMPRESSED 4u
#define ZCK_READ_BLOCK 4096u

struct hreader {
        sfu_zchunk_read_fn read;
        void *userdata;
        size_t len;                     /* the header's bytes, all of them */
        size_t pos;                     /* the next byte's offset */
        uint8_t buf[ZCK_READ_BLOCK];
        size_t buf_start, buf_len;      /* buf holds bytes [buf_start, buf_start + buf_len) */
        EVP_MD_CTX *md;                 /* the header checksum's, over every byte consumed but it */
        bool hashing;
        struct sfu_err *err;
};

static void md_freep(EVP_MD_CTX **p) {
        EVP_MD_CTX_free(*p);
}

static int hr_fail(struct hreader *h, const char *what) {
        return sfu_err_set(h->err, SFU_ERR_PARSE, EBADMSG, "zchunk: %s at header byte %zu", what, h->pos);
}

static int hr_fill(struct hreader *h) {
        size_t want = h->len - h->pos < ZCK_READ_BLOCK ? h->len - h->pos : ZCK_READ_BLOCK;
        int r;

        if (want == 0)
                return hr_fail(h, "the header ends early");
        r = h->read(h->userdata, h->pos, h->buf, want, h->err);
        if (r < 0)
                return r;
        h->buf_start = h->pos;
        h->buf_len = want;
        return 0;
}

static int hr_bytes(struct hreader *h, uint8_t *out, size_t n) {
        while (n > 0) {
                size_t avail, k;
                int r;

                if (h->pos < h->buf_start || h->pos >= h->buf_start + h->buf_len) {
                        r = hr_fill(h);
                        if (r < 0)
                                return r;
                }
                avail = h->buf_start + h->buf_len - h->pos;
                k = n < avail ? n : avail;
                if (h->hashing && EVP_DigestUpdate(h->md, h->buf + (h->pos - h->buf_start), k) != 1)
                        return sfu_err_set(h->err, SFU_ERR_STORAGE, EIO, "cannot hash the zchunk header");
                if (out) {
                        memcpy(out, h->buf + (h->pos - h->buf_start), k);
                        out += k;
                }
                h->pos += k;
                n -= k;
        }
        return 0;
}

static int hr_skip(struct hreader *h, uint64_t n) {
        if (n > h->len - h->pos)
                return hr_fail(h, "a field runs past the header");
        return hr_bytes(h, NULL, (size_t) n);
}

/* A compressed integer: 7 bits per byte, least significant first, the
 * top bit set on the last byte only.  At most 64 bits, no padding. */
static int hr_ci(struct hreader *h, uint64_t *ret) {
        uint64_t v = 0;

        for (unsigned shift = 0;; shift += 7) {
                uint8_t c;
                int r = hr_bytes(h, &c, 1);
                if (r < 0)
                        return r;
                if (shift > 63 || (shift == 63 && (c & 0x7f) > 1))
                        return hr_fail(h, "an integer out of range");
                v |= (uint64_t) (c & 0x7f) << shift;
                if (c & 0x80) {
                        if (shift > 0 && (c & 0x7f) == 0)
                                return hr_fail(h, "an integer with padding");
                        *ret = v;
                        return 0;
                }
        }
}

int sfu_zchunk_index_parse(sfu_zchunk_read_fn read, void *userdata, size_t len, uint32_t chunk_size,
                           uint64_t image_size, uint64_t file_size, struct sfu_zchunk_index *ret, struct sfu_err *err) {
        _cleanup_free_ struct hreader *h = calloc(1, sizeof(*h));
        _cleanup_(md_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
        _cleanup_free_ struct sfu_zchunk_chunk *chunks = NULL;
        size_t max_comp, n_chunks;
        uint64_t v, header_size, flags, index_size, index_end, count, next, total = 0;
        uint8_t id[ZCK_ID_LEN], zero[SFU_ZCHUNK_DIGEST_SIZE] = {}, digest[SFU_ZCHUNK_DIGEST_SIZE];
        uint8_t header_sum[SFU_ZCHUNK_DIGEST_SIZE], got_sum[SFU_ZCHUNK_DIGEST_SIZE];
        int r;

        if (!h || !md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        *h = (struct hreader) { .read = read, .userdata = userdata, .len = len, .md = md, .hashing = true, .err = err };
        if (chunk_size == 0 || chunk_size > SFU_ZCHUNK_MAX_CHUNK_SIZE || image_size == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "zchunk: empty image or chunk size out of range");
        max_comp = ZSTD_COMPRESSBOUND(chunk_size);

        /* The lead: ID, checksum type, header size, header checksum (of
         * every byte of lead and header but itself). */
        if ((r = hr_bytes(h, id, sizeof(id))) < 0)
                return r;
        if (memcmp(id, ZCK_ID, ZCK_ID_LEN) != 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "zchunk: not a zchunk version 1 file");
        if ((r = hr_ci(h, &v)) < 0)
                return r;
        if (v != ZCK_HASH_SHA256_TYPE)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "zchunk: the header checksum is not SHA-256");
        if ((r = hr_ci(h, &header_size)) < 0)
                return r;
        h->hashing = false;
        if ((r = hr_bytes(h, header_sum, sizeof(header_sum))) < 0)
                return r;
        h->hashing = true;
        if (header_size != len - h->pos)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "zchunk: the header is %" PRIu64 " bytes after the lead, not %zu",
                                   header_size, len - h->pos);

        /* The preface: data checksum, flags, compression, optional elements. */
        if ((r = hr_skip(h, SFU_ZCHUNK_DIGEST_SIZE)) < 0 || (r = hr_ci(h, &flags)) < 0)
                return r;
        if (flags & ~(ZCK_FLAG_OPTIONAL | ZCK_FLAG_UNCOMPRESSED) || !(flags & ZCK_FLAG_UNCOMPRESSED))
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG,
                                   "zchunk: flags %#" PRIx64 " (streams or unknown flags, or no uncompressed digests)", flags);
        if ((r = hr_ci(h, &v)) < 0)
                return r;
        if (v != ZCK_COMP_ZSTD)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "zchunk: compression %" PRIu64 ", not zstd", v);
        if (flags & ZCK_FLAG_OPTIONAL) {
                uint64_t n, size;
                if ((r = hr_ci(h, &n)) < 0)
                        return r;
                if (n == 0)
                        return hr_fail(h, "an empty list of optional elements");
                for (uint64_t k = 0; k < n; k++)
                        if ((r = hr_ci(h, &v)) < 0 || (r = hr_ci(h, &size)) < 0 || (r = hr_skip(h, size)) < 0)
                                return r;
        }

        /* The index: its size, the chunk checksum type, the chunk count;
         * the dictionary (which must be empty), then the chunks. */
        if ((r = hr_ci(h, &index_size)) < 0)
                return r;
        if (index_size > len - h->pos)
                return hr_fail(h, "the index runs past the header");
        index_end = h->pos + index_size;
        if ((r = hr_ci(h, &v)) < 0)
                return r;
        if (v != ZCK_HASH_SHA256_TYPE)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "zchunk: chunk digests are not SHA-256");
        if ((r = hr_ci(h, &count)) < 0)
                return r;
        if (count < 2 || count - 1 > SFU_ZCHUNK_MAX_CHUNKS)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "zchunk: %" PRIu64 " chunks", count);
        n_chunks = (size_t) (count - 1);
        if (n_chunks != (image_size + chunk_size - 1) / chunk_size)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG,
                                   "zchunk: %zu chunks cannot hold %" PRIu64 " bytes in chunks of %" PRIu32, n_chunks,
                                   image_size, chunk_size);
        for (unsigned k = 0; k < 2; k++) {
                if ((r = hr_bytes(h, digest, sizeof(digest))) < 0)
                        return r;
                if (memcmp(digest, zero, sizeof(zero)) != 0)
                        return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "zchunk: the file has a dictionary");
        }
        for (unsigned k = 0; k < 2; k++) {
                if ((r = hr_ci(h, &v)) < 0)
                        return r;
                if (v != 0)
                        return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "zchunk: the file has a dictionary");
        }
        chunks = calloc(n_chunks, sizeof(*chunks));
        if (!chunks)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        next = len;
        for (size_t i = 0; i < n_chunks; i++) {
                struct sfu_zchunk_chunk *k = &chunks[i];
                uint64_t comp, size, want = i + 1 < n_chunks ? chunk_size : image_size - (uint64_t) chunk_size * (n_chunks - 1);

                if ((r = hr_bytes(h, k->digest, sizeof(k->digest))) < 0 ||
                    (r = hr_bytes(h, k->digest_plain, sizeof(k->digest_plain))) < 0 || (r = hr_ci(h, &comp)) < 0 ||
                    (r = hr_ci(h, &size)) < 0)
                        return r;
                if (size != want || comp == 0 || comp > max_comp || h->pos > index_end)
                        return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "zchunk: chunk %zu is not as expected", i + 1);
                k->offset = next;
                k->size = (uint32_t) size;
                k->comp_size = (uint32_t) comp;
                next += comp;
                total += size;
        }
        if (h->pos != index_end)
                return hr_fail(h, "the index is not as long as it says");
        /* The signatures: libzck knows no type yet; none is expected. */
        if ((r = hr_ci(h, &v)) < 0)
                return r;
        if (v != 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "zchunk: %" PRIu64 " signatures in the header", v);
        if (h->pos != len)
                return hr_fail(h, "bytes after the signatures");
        if (EVP_DigestFinal_ex(md, got_sum, NULL) != 1)
                return sfu_err_set(err, SFU_ERR_STORAGE, EIO, "cannot hash the zchunk header");
        if (CRYPTO_memcmp(got_sum, header_sum, sizeof(got_sum)) != 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "zchunk: the header checksum does not match");
        if (total != image_size || next != file_size)
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

struct mem {
        const uint8_t *p;
        size_t len;
};

static int mem_read(void *userdata, uint64_t offset, uint8_t *buf, size_t len, struct sfu_err *err) {
        const struct mem *m = userdata;

        if (offset > m->len || len > m->len - offset)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "zchunk: the header ends early");
        memcpy(buf, m->p + offset, len);
        return 0;
}

int sfu_zchunk_index_parse_buffer(const uint8_t *header, size_t len, uint32_t chunk_size, uint64_t image_size,
                                  uint64_t file_size, struct sfu_zchunk_index *ret, struct sfu_err *err) {
        struct mem m = { header, len };
        return sfu_zchunk_index_parse(mem_read, &m, len, chunk_size, image_size, file_size, ret, err);
}
