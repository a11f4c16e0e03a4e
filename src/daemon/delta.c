/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <unistd.h>

#include <sys/mman.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "core/http.h"
#include "core/multipart.h"
#include "core/url.h"
#include "daemon/delta.h"
#include "daemon/log.h"
#include "io/fileio.h"
#include "io/fetch.h"
#include "io/zchunk.h"

/* Bytes of compressed chunks asked for in one request, whatever the
 * number of ranges: a failed request costs at most this much. */
#define DELTA_REQUEST_BYTES (8u * 1024u * 1024u)
/* The source is read in blocks of this size (or of a chunk, if larger). */
#define DELTA_INDEX_READ (256u * 1024u)
/* File systems move data by whole blocks. */
#define DELTA_BLOCK 4096u
/* A multipart answer's headers and delimiters, per range. */
#define DELTA_PART_OVERHEAD 512u

struct source_entry {
        uint8_t digest[SFU_ZCHUNK_DIGEST_SIZE];
        uint64_t offset;
        uint32_t size;
};

struct run {
        size_t first, last;             /* chunks, inclusive */
};

struct delta {
        struct sfu_job *job;
        struct sfu_stage_target *t;
        const struct sfu_manifest_delta *m;
        struct sfu_hashpipe *pipe;
        char *url;
        char etag[SFU_FETCH_MAX_HEADER_VALUE];

        struct sfu_zchunk_index idx;
        int64_t *local;                 /* per chunk: its offset in the source slot, or -1 */
        int source_fd;
        const struct sfu_config_slot *source;
        struct sfu_zchunk_decoder *dec;
        uint8_t *comp, *out;            /* one compressed chunk, one chunk of image */

        size_t cursor;                  /* the next chunk to go into the pipe */
        size_t first;                   /* the first chunk of this run (a resume's) */
        uint64_t fetched;               /* body bytes received, the header's too */
        size_t n_local, n_fetched;
        struct sfu_stage_checkpoint checkpoint;

        /* the request in flight */
        struct run runs[SFU_CONFIG_MAX_DELTA_BATCH];
        size_t n_runs, run;             /* runs asked for; the one being received */
        size_t chunk;                   /* the chunk being received */
        uint32_t comp_len;              /* its bytes so far */
        bool in_part;
        bool single;                    /* the answer is one range, not multipart */
        bool retry_single;              /* ask again, one range per request */
        struct sfu_multipart mp;
        /* the header, in a memory file (not in the process's memory) */
        int header_fd;
        size_t header_len;
        EVP_MD_CTX *header_md;
};

static int source_compare(const void *a, const void *b) {
        const struct source_entry *x = a, *y = b;
        int r = memcmp(x->digest, y->digest, sizeof(x->digest));
        if (r != 0)
                return r;
        return x->size < y->size ? -1 : x->size > y->size;
}

/* A chunk went into the pipe: progress, and now and then a checkpoint
 * (the slot holds the image's first bytes: a later cycle goes on from
 * there). */
static int chunk_done(struct delta *d, struct sfu_err *err) {
        sfu_job_progress_update(d->job, sfu_hashpipe_offset(d->pipe));
        return sfu_stage_checkpoint(d->job, d->t, d->pipe, &d->checkpoint, "", false, err);
}

/* The source slot: the first slot of the image's class that is not the
 * target and that [delta] source-slots allows. */
static int open_source(struct delta *d, struct sfu_err *err) {
        const struct sfu_config *cfg = d->job->config;
        const struct sfu_config_slot *booted = sfu_config_boot_slot(cfg, d->job->env->booted);

        for (size_t i = 0; i < cfg->n_slots; i++) {
                const struct sfu_config_slot *s = &cfg->slots[i];
                if (strcmp(s->class_name, d->t->slot->class_name) != 0 || s == d->t->slot ||
                    sfu_slot_same_device(s->device, d->t->slot->device) ||
                    !sfu_config_delta_source_ok(cfg, s, booted))
                        continue;
                d->source_fd = open(s->device, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (d->source_fd < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot open the delta source %s: %s",
                                           s->device, strerror(errno));
                (void) posix_fadvise(d->source_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
                d->source = s;
                return 0;
        }
        return sfu_err_set(err, SFU_ERR_POLICY, ENOENT, "no slot of class %s may serve as the delta source",
                           d->t->slot->class_name);
}

/* [delta] shifted-chunks: the chunks still missing, looked for in every
 * chunk-sized window of the source that starts at a 4 KiB block but not
 * at a multiple of the chunk size (a file system rebuilt from scratch
 * moves the files after one that grew by whole blocks).  Memory: the
 * missing chunks' digests and two chunks of the source. */
static int search_shifted(struct delta *d, struct sfu_err *err) {
        uint64_t size = d->t->image->size;
        uint32_t cs = d->idx.chunk_size;
        size_t n_missing = 0, found = 0, k = 0;
        _cleanup_free_ struct source_entry *miss = NULL;
        _cleanup_free_ uint8_t *win = NULL;
        int r;

        for (size_t i = 0; i < d->idx.n; i++)
                if (d->local[i] < 0 && d->idx.chunks[i].size == cs)
                        n_missing++;
        if (n_missing == 0)
                return 0;
        miss = calloc(n_missing, sizeof(*miss));
        win = malloc(2 * (size_t) cs);
        if (!miss || !win)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        /* offset: the chunk's index, to be told apart after the search */
        for (size_t i = 0; i < d->idx.n; i++)
                if (d->local[i] < 0 && d->idx.chunks[i].size == cs) {
                        memcpy(miss[k].digest, d->idx.chunks[i].digest_plain, sizeof(miss[k].digest));
                        miss[k].size = cs;
                        miss[k++].offset = i;
                }
        qsort(miss, n_missing, sizeof(*miss), source_compare);
        sfu_job_progress_begin(d->job, "delta-search", d->t->image->name, 0, size);
        /* win holds the source's bytes [off, off + 2 cs): every window
         * that starts inside the first chunk of it */
        for (uint64_t off = 0; off + cs < size; off += cs) {
                size_t got = 0;
                r = sfu_file_read_full(d->source_fd, win, 2 * (size_t) cs, (int64_t) off, &got);
                if (r < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot read the delta source %s: %s",
                                           d->source->device, strerror(-r));
                for (size_t w = DELTA_BLOCK; w < cs && w + cs <= got; w += DELTA_BLOCK) {
                        struct source_entry key = { .size = cs };
                        const struct source_entry *hit;
                        SHA256(win + w, cs, key.digest);
                        hit = bsearch(&key, miss, n_missing, sizeof(*miss), source_compare);
                        if (!hit)
                                continue;
                        /* every missing chunk with these bytes */
                        while (hit > miss && source_compare(hit - 1, &key) == 0)
                                hit--;
                        for (; hit < miss + n_missing && source_compare(hit, &key) == 0; hit++)
                                if (d->local[hit->offset] < 0) {
                                        d->local[hit->offset] = (int64_t) (off + w);
                                        found++;
                                }
                }
                if (got < 2 * (size_t) cs)
                        break; /* the source ends here */
                if (sfu_job_cancelled(d->job))
                        return sfu_err_set(err, SFU_ERR_NETWORK, ECANCELED, "cancelled");
                sfu_job_progress_update(d->job, off + cs);
        }
        d->n_local += found;
        log_info("delta: %s: %zu more chunks found in slot %s at other 4 KiB offsets", d->t->image->name, found,
                 d->source->bootname);
        return 0;
}

/* One part of the source, hashed in chunks: [from, to) (from a multiple
 * of the chunk size; to one, or the image's size). */
struct index_part {
        struct delta *d;
        uint64_t from, to;
        struct source_entry *e;         /* room for its chunks */
        size_t k;                       /* entries made */
        bool report;                    /* this part reports progress (twice its share) */
        int r;
};

static void hash_part(struct index_part *p) {
        struct delta *d = p->d;
        uint32_t cs = d->idx.chunk_size;
        size_t len = cs >= DELTA_INDEX_READ ? cs : DELTA_INDEX_READ - DELTA_INDEX_READ % cs;
        _cleanup_free_ uint8_t *buf = malloc(len);

        p->r = buf ? 0 : -ENOMEM;
        for (uint64_t off = p->from; p->r >= 0 && off < p->to;) {
                size_t want = p->to - off < len ? (size_t) (p->to - off) : len, got = 0;

                p->r = sfu_file_read_full(d->source_fd, buf, want, (int64_t) off, &got);
                if (p->r < 0)
                        break;
                /* whole chunks, and the image's short last one */
                for (size_t c = 0; c < got; c += cs) {
                        size_t n = got - c < cs ? got - c : cs;
                        if (n < cs && off + c + n != d->t->image->size)
                                break;
                        SHA256(buf + c, n, p->e[p->k].digest);
                        p->e[p->k].offset = off + c;
                        p->e[p->k].size = (uint32_t) n;
                        p->k++;
                }
                if (got < want)
                        break; /* the source ends here */
                off += got;
                if (sfu_job_cancelled(d->job))
                        p->r = -ECANCELED;
                else if (p->report)
                        sfu_job_progress_update(d->job, 2 * (off - p->from));
        }
}

static void *hash_part_main(void *userdata) {
        hash_part(userdata);
        return NULL;
}

/* Hashes the source slot in chunks at the chunk size's multiples (up to
 * the image's size: an image's blocks stay near their places) and marks
 * every chunk of the new image found there.  Two threads, each half of
 * the source: this pass is what a delta adds to a full download's work. */
static int index_source(struct delta *d, struct sfu_err *err) {
        uint64_t size = d->t->image->size;
        uint32_t cs = d->idx.chunk_size;
        size_t n = (size_t) ((size + cs - 1) / cs), k;
        _cleanup_free_ struct source_entry *e = calloc(n, sizeof(*e));
        struct index_part parts[2];
        pthread_t helper;
        bool threaded;

        d->local = malloc(d->idx.n * sizeof(*d->local));
        if (!e || !d->local)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        sfu_job_progress_begin(d->job, "delta-index", d->t->image->name, 0, size);
        parts[0] = (struct index_part) { .d = d, .from = 0, .to = (uint64_t) (n / 2) * cs, .e = e, .report = true };
        parts[1] = (struct index_part) { .d = d, .from = (uint64_t) (n / 2) * cs, .to = size, .e = e + n / 2 };
        threaded = n >= 2 && pthread_create(&helper, NULL, hash_part_main, &parts[1]) == 0;
        hash_part(&parts[0]);
        if (threaded)
                pthread_join(helper, NULL);
        else
                hash_part(&parts[1]);
        for (size_t i = 0; i < 2; i++)
                if (parts[i].r == -ECANCELED)
                        return sfu_err_set(err, SFU_ERR_NETWORK, ECANCELED, "cancelled");
                else if (parts[i].r < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, -parts[i].r, "cannot read the delta source %s: %s",
                                           d->source->device, strerror(-parts[i].r));
        /* the second part's entries right after the first's */
        memmove(e + parts[0].k, parts[1].e, parts[1].k * sizeof(*e));
        k = parts[0].k + parts[1].k;
        qsort(e, k, sizeof(*e), source_compare);
        for (size_t i = 0; i < d->idx.n; i++) {
                struct source_entry key = { .size = d->idx.chunks[i].size };
                const struct source_entry *hit;
                memcpy(key.digest, d->idx.chunks[i].digest_plain, sizeof(key.digest));
                hit = bsearch(&key, e, k, sizeof(*e), source_compare);
                d->local[i] = hit ? (int64_t) hit->offset : -1;
                if (hit)
                        d->n_local++;
        }
        if (d->job->config->delta_shifted && d->n_local < d->idx.n && cs > DELTA_BLOCK)
                return search_shifted(d, err);
        return 0;
}

/* Puts chunk i, which the source holds, into the pipe.  Its digest is
 * not checked again here: the image's digests over every byte that went
 * into the pipe decide, as for a full download (a source that changed
 * since it was indexed fails them, and the delta falls back). */
static int copy_local(struct delta *d, size_t i, struct sfu_err *err) {
        const struct sfu_zchunk_chunk *c = &d->idx.chunks[i];
        size_t got = 0;
        int r = sfu_file_read_full(d->source_fd, d->out, c->size, (int64_t) d->local[i], &got);

        if (r < 0 || got != c->size)
                return sfu_err_set(err, SFU_ERR_STORAGE, r < 0 ? -r : EIO, "cannot read the delta source %s",
                                   d->source->device);
        return sfu_hashpipe_feed(d->pipe, d->out, c->size, err);
}

/* Everything before chunk `until` that the source holds. */
static int copy_until(struct delta *d, size_t until, struct sfu_err *err) {
        int r;

        for (; d->cursor < until; d->cursor++) {
                if (d->local[d->cursor] < 0)
                        return sfu_err_set(err, SFU_ERR_STATE, EINVAL, "delta chunk %zu was never fetched", d->cursor);
                r = copy_local(d, d->cursor, err);
                if (r < 0)
                        return r;
                r = chunk_done(d, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ------------------------------------------------------------ a request's answer */

static int on_part(void *userdata, uint64_t start, uint64_t end, uint64_t total, struct sfu_err *err) {
        struct delta *d = userdata;
        const struct run *run;

        if (d->in_part)
                return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO, "delta: a part began inside another");
        if (d->run >= d->n_runs)
                return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO, "delta: the server sent more ranges than asked for");
        run = &d->runs[d->run];
        if (start != d->idx.chunks[run->first].offset ||
            end != d->idx.chunks[run->last].offset + d->idx.chunks[run->last].comp_size - 1 ||
            (total != SFU_HTTP_LENGTH_UNKNOWN && total != d->m->size))
                return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO,
                                   "delta: the server sent bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64
                                   " where range %zu was expected",
                                   start, end, total, d->run);
        d->in_part = true;
        d->chunk = run->first;
        d->comp_len = 0;
        return 0;
}

static int on_data(void *userdata, const uint8_t *buf, size_t len, struct sfu_err *err) {
        struct delta *d = userdata;
        int r;

        while (len > 0) {
                const struct sfu_zchunk_chunk *c;
                size_t n;

                if (!d->in_part)
                        return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO, "delta: data outside a range");
                c = &d->idx.chunks[d->chunk];
                n = c->comp_size - d->comp_len;
                if (n > len)
                        n = len;
                memcpy(d->comp + d->comp_len, buf, n);
                d->comp_len += (uint32_t) n;
                buf += n;
                len -= n;
                if (d->comp_len < c->comp_size)
                        continue;
                /* A whole chunk: what precedes it from the source, then it. */
                r = copy_until(d, d->chunk, err);
                if (r < 0)
                        return r;
                r = sfu_zchunk_decode(d->dec, c, d->comp, d->out, err);
                if (r < 0)
                        return r;
                r = sfu_hashpipe_feed(d->pipe, d->out, c->size, err);
                if (r < 0)
                        return r;
                d->n_fetched++;
                d->cursor = d->chunk + 1;
                d->comp_len = 0;
                r = chunk_done(d, err);
                if (r < 0)
                        return r;
                if (d->chunk == d->runs[d->run].last) {
                        d->in_part = false;
                        d->run++;
                } else
                        d->chunk++;
        }
        return 0;
}

static const struct sfu_multipart_callbacks part_callbacks = { on_part, on_data };

static int answer_start(void *userdata, const struct sfu_fetch_result *res, struct sfu_err *err) {
        struct delta *d = userdata;
        char boundary[SFU_MULTIPART_BOUNDARY_MAX + 1];

        if (res->status == 200 && d->n_runs > 1 && !d->single && d->etag[0] && strcmp(d->etag, res->etag) == 0) {
                /* The same file, whole: this server answers several
                 * ranges with everything.  One range per request then. */
                d->retry_single = true;
                return sfu_err_set(err, SFU_ERR_NETWORK, EAGAIN, "delta: several ranges answered with the whole file");
        }
        if (res->status != 206)
                return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO,
                                   "delta: the server answered %ld, not 206 (no Range, or the file changed)",
                                   res->status);
        if (d->etag[0] && strcmp(d->etag, res->etag) != 0)
                return sfu_err_set(err, SFU_ERR_NETWORK, ESTALE, "delta: the file changed on the server (ETag)");
        d->in_part = false;
        if (res->multipart) {
                d->single = false;
                if (sfu_multipart_boundary(res->content_type, boundary) < 0 ||
                    sfu_multipart_init(&d->mp, boundary, &part_callbacks, d) < 0)
                        return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO,
                                           "delta: a multipart answer without a usable boundary");
                return 0;
        }
        /* One range: the first asked for (a server that does not do
         * multipart answers only that one). */
        d->single = true;
        if (res->range_start != d->idx.chunks[d->runs[0].first].offset ||
            (res->total_length && res->total_length != d->m->size))
                return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO,
                                   "delta: the server answered the range at %" PRIu64 " of %" PRIu64
                                   ", not the one asked for",
                                   res->range_start, res->total_length);
        return 0;
}

static int answer_write(void *userdata, uint64_t offset, const void *buf, size_t len, struct sfu_err *err) {
        struct delta *d = userdata;
        int r;

        d->fetched += len;
        sfu_job_progress_fetched(d->job, d->fetched);
        if (sfu_job_cancelled(d->job))
                return sfu_err_set(err, SFU_ERR_NETWORK, ECANCELED, "cancelled");
        if (!d->single)
                return sfu_multipart_feed(&d->mp, buf, len, err);
        if (!d->in_part) {
                /* The single range must be exactly the first run. */
                const struct run *run = &d->runs[d->run];
                uint64_t end = d->idx.chunks[run->last].offset + d->idx.chunks[run->last].comp_size - 1;
                if (offset != d->idx.chunks[run->first].offset)
                        return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO, "delta: a range at %" PRIu64 " was not asked for",
                                           offset);
                r = on_part(d, offset, end, d->m->size, err);
                if (r < 0)
                        return r;
        }
        /* Only up to the run's end: more is the server's error. */
        if (!d->in_part)
                return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO, "delta: more bytes than the range asked for");
        return on_data(d, buf, len, err);
}

/* Asks for the next batch of missing chunks from the cursor on. */
static int fetch_batch(struct delta *d, struct sfu_err *err) {
        struct sfu_fetch_sink sink = { answer_start, answer_write, d };
        struct sfu_fetch_opts opts;
        struct sfu_fetch_result res;
        unsigned batch = d->single ? 1 : d->job->config->delta_batch;
        _cleanup_free_ char *ranges = NULL;
        size_t ranges_len = 0, i = d->cursor;
        uint64_t bytes = 0;
        FILE *f;
        int r;

        d->n_runs = 0;
        d->run = 0;
        while (i < d->idx.n && d->n_runs < batch && bytes < DELTA_REQUEST_BYTES) {
                struct run *run;
                if (d->local[i] >= 0) {
                        i++;
                        continue;
                }
                run = &d->runs[d->n_runs++];
                run->first = i;
                while (i < d->idx.n && d->local[i] < 0 && bytes < DELTA_REQUEST_BYTES)
                        bytes += d->idx.chunks[i++].comp_size;
                run->last = i - 1;
        }
        if (d->n_runs == 0)
                return 0;
        f = open_memstream(&ranges, &ranges_len);
        if (!f)
                return -ENOMEM;
        for (size_t k = 0; k < d->n_runs; k++) {
                const struct sfu_zchunk_chunk *a = &d->idx.chunks[d->runs[k].first], *b = &d->idx.chunks[d->runs[k].last];
                fprintf(f, "%s%" PRIu64 "-%" PRIu64, k ? "," : "", a->offset, b->offset + b->comp_size - 1);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        sfu_job_fetch_opts(d->job, &opts);
        d->retry_single = false;
        r = sfu_fetch_ranges(&opts, d->url, ranges, d->etag, d->m->size,
                             bytes + (uint64_t) d->n_runs * DELTA_PART_OVERHEAD + SFU_MULTIPART_EPILOGUE_MAX, &sink,
                             &res, err);
        if (r < 0 && d->retry_single) {
                log_info("delta: %s answers several ranges with the whole file; asking for one at a time", d->url);
                sfu_err_clear(err);
                d->single = true;
                return 0;
        }
        if (r < 0)
                return r;
        if (res.status != 206)
                return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO, "delta: the server answered %ld, not 206", res.status);
        if (!d->single) {
                r = sfu_multipart_finish(&d->mp, err);
                if (r < 0)
                        return r;
        }
        if (d->in_part)
                return sfu_err_set(err, SFU_ERR_NETWORK, EPIPE, "delta: the answer ended inside a range");
        if (d->run == 0)
                return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO, "delta: the answer held none of the ranges");
        if (d->run < d->n_runs) {
                if (!d->single)
                        return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO, "delta: the answer held %zu of %zu ranges",
                                           d->run, d->n_runs);
                if (d->n_runs > 1)
                        log_info("delta: %s answers one range per request", d->url);
        }
        return 0;
}

/* ------------------------------------------------------------ the header */

static int header_start(void *userdata, const struct sfu_fetch_result *res, struct sfu_err *err) {
        struct delta *d = userdata;

        if (res->status != 206 || res->multipart || res->range_start != 0)
                return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO,
                                   "delta: the server answered %ld to a range request for the header (no Range support)",
                                   res->status);
        if (res->total_length != d->m->size)
                return sfu_err_set(err, SFU_ERR_SIZE, EBADMSG,
                                   "delta: the file on the server is %" PRIu64 " bytes, the manifest says %" PRIu64,
                                   res->total_length, d->m->size);
        snprintf(d->etag, sizeof(d->etag), "%s", res->etag);
        return 0;
}

static int header_write(void *userdata, uint64_t offset, const void *buf, size_t len, struct sfu_err *err) {
        struct delta *d = userdata;

        d->fetched += len;
        sfu_job_progress_fetched(d->job, d->fetched);
        if (offset != d->header_len || d->header_len + len > d->m->header_size)
                return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO, "delta: the header's answer is not the range asked for");
        for (size_t off = 0; off < len;) {
                ssize_t n = write(d->header_fd, (const char *) buf + off, len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot fill a memory file");
                off += (size_t) n;
        }
        if (EVP_DigestUpdate(d->header_md, buf, len) != 1)
                return sfu_err_set(err, SFU_ERR_STORAGE, EIO, "cannot hash the header");
        d->header_len += len;
        return 0;
}

static int fetch_header(struct delta *d, struct sfu_err *err) {
        struct sfu_fetch_sink sink = { header_start, header_write, d };
        struct sfu_fetch_opts opts;
        struct sfu_fetch_result res;
        uint8_t md[SHA256_DIGEST_LENGTH];
        char range[64];
        int r;

        d->header_fd = memfd_create("secfud-zck-header", MFD_CLOEXEC);
        if (d->header_fd < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot create a memory file: %s", strerror(errno));
        d->header_md = EVP_MD_CTX_new();
        if (!d->header_md || EVP_DigestInit_ex(d->header_md, EVP_sha256(), NULL) != 1)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "cannot start a digest");
        snprintf(range, sizeof(range), "0-%" PRIu64, d->m->header_size - 1);
        sfu_job_fetch_opts(d->job, &opts);
        r = sfu_fetch_ranges(&opts, d->url, range, NULL, d->m->size, 0, &sink, &res, err);
        if (r < 0)
                return r;
        if (res.status != 206)
                return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO, "delta: the server answered %ld to a range request",
                                   res.status);
        if (d->header_len != d->m->header_size)
                return sfu_err_set(err, SFU_ERR_NETWORK, EPIPE, "delta: got %zu of the header's %" PRIu64 " bytes",
                                   d->header_len, d->m->header_size);
        /* Authenticated before any byte of it is parsed. */
        if (EVP_DigestFinal_ex(d->header_md, md, NULL) != 1)
                return sfu_err_set(err, SFU_ERR_STORAGE, EIO, "cannot hash the header");
        if (CRYPTO_memcmp(md, d->m->header_sha256, sizeof(md)) != 0)
                return sfu_err_set(err, SFU_ERR_DIGEST, EBADMSG,
                                   "delta: the zchunk header does not match the manifest's headerSha256");
        r = sfu_zchunk_index_read_fd(d->header_fd, d->header_len, d->m->chunk_size, d->t->image->size, d->m->size,
                                     &d->idx, err);
        close(d->header_fd);
        d->header_fd = -1;
        return r;
}

/* ------------------------------------------------------------ the whole */

static void delta_done(struct delta *d) {
        free(d->url);
        if (d->header_fd >= 0)
                close(d->header_fd);
        EVP_MD_CTX_free(d->header_md);
        free(d->local);
        free(d->comp);
        free(d->out);
        sfu_zchunk_index_free(&d->idx);
        sfu_zchunk_decoder_free(d->dec);
        if (d->source_fd >= 0)
                close(d->source_fd);
}

static int resolve_url(struct delta *d, struct sfu_err *err) {
        const struct sfu_candidate *from = d->t->component->from;

        if (from->url[0])
                return sfu_url_resolve(from->url, d->m->location, &d->url, err);
        if (!sfu_url_scheme_allowed(d->m->location))
                return sfu_err_set(err, SFU_ERR_POLICY, EINVAL, "delta: a relative location, but the manifest came from a file");
        d->url = strdup(d->m->location);
        return d->url ? 0 : -ENOMEM;
}

/* The connection failed (refused, reset, timed out, cut short): not the
 * server's answer, which a full download would not cure.  Anything
 * wrong in what did arrive is another error. */
static bool transport_failure(const struct sfu_err *e) {
        return e->code == SFU_ERR_NETWORK && (e->errnum == EIO || e->errnum == ETIMEDOUT || e->errnum == ECONNREFUSED ||
                                              e->errnum == EHOSTUNREACH || e->errnum == ECONNRESET || e->errnum == ETIME);
}

static int run_delta(struct delta *d, struct sfu_err *err) {
        const struct sfu_manifest_image *img = d->t->image;
        int r;

        r = resolve_url(d, err);
        if (r < 0)
                return r;
        r = open_source(d, err);
        if (r < 0)
                return r;
        r = fetch_header(d, err);
        if (r < 0)
                return r;
        d->comp = malloc(d->idx.max_comp_size);
        d->out = malloc(d->idx.chunk_size);
        if (!d->comp || !d->out || sfu_zchunk_decoder_new(&d->dec) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        r = index_source(d, err);
        if (r < 0)
                return r;
        if (d->first > 0)
                log_info("delta: %s: resuming at byte %" PRIu64 " (chunk %zu of %zu), which slot %s holds already",
                         img->name, sfu_hashpipe_offset(d->pipe), d->first, d->idx.n, d->t->slot->bootname);
        log_info("delta: %s: %zu of %zu chunks are in slot %s; fetching the rest from %s", img->name, d->n_local,
                 d->idx.n, d->source->bootname, d->url);
        sfu_job_progress_begin(d->job, "downloading", img->name, sfu_hashpipe_offset(d->pipe), img->size);
        sfu_job_progress_fetched(d->job, d->fetched);
        sfu_job_progress_flush(d->job);
        for (unsigned attempt = 0; d->cursor < d->idx.n;) {
                size_t before;
                bool was_single = d->single;
                uint64_t wait = 0;
                /* the source's chunks up to the next missing one */
                while (d->cursor < d->idx.n && d->local[d->cursor] >= 0) {
                        r = copy_local(d, d->cursor, err);
                        if (r < 0)
                                return r;
                        d->cursor++;
                        r = chunk_done(d, err);
                        if (r < 0)
                                return r;
                }
                if (d->cursor >= d->idx.n)
                        break;
                before = d->cursor;
                r = fetch_batch(d, err);
                if (r < 0 && transport_failure(err) && d->cursor > before)
                        attempt = 0; /* it moved on before it broke */
                if (r < 0 && transport_failure(err) && attempt + 1 < SFU_JOB_FETCH_ATTEMPTS &&
                    sfu_job_retry_delay(d->job, d->url, 0, 0, attempt, &wait, err) >= 0) {
                        /* The connection broke: again from the first chunk
                         * not yet in the pipe. */
                        log_info("%s; delta goes on at chunk %zu in %.1f s", err->message, d->cursor,
                                 (double) wait / 1e6);
                        sfu_err_clear(err);
                        attempt++;
                        r = sfu_job_wait(d->job, wait, err);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (r < 0)
                        return r;
                attempt = 0;
                if (d->cursor == before && (was_single || !d->single))
                        return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO, "delta: no progress at chunk %zu", before);
        }
        if (sfu_hashpipe_offset(d->pipe) != img->size)
                return sfu_err_set(err, SFU_ERR_SIZE, EBADMSG, "delta: built %" PRIu64 " bytes, not %" PRIu64,
                                   sfu_hashpipe_offset(d->pipe), img->size);
        /* the whole image built: status and secfuctl show what it cost */
        sfu_job_progress_update(d->job, img->size);
        sfu_job_progress_flush(d->job);
        log_info("delta: %s: fetched %" PRIu64 " bytes for an image of %" PRIu64 " (%.1f %%, %" PRIu64
                 " bytes saved); %zu chunks fetched, %zu from slot %s",
                 img->name, d->fetched, img->size, 100.0 * (double) d->fetched / (double) img->size,
                 d->fetched < img->size ? img->size - d->fetched : 0, d->n_fetched, d->n_local, d->source->bootname);
        return 0;
}

bool sfu_delta_offered(const struct sfu_job *job, const struct sfu_stage_target *t) {
        const struct sfu_manifest_image *img = t->image;

        return job->config->delta_enable && img->delta.present && img->has_size && !img->encryption.present &&
               !t->component->from->bundle && t->url;
}

int sfu_delta_try(struct sfu_job *job, struct sfu_stage_target *t, struct sfu_hashpipe *pipe, bool *done,
                  struct sfu_err *err) {
        const struct sfu_manifest_image *img = t->image;
        uint64_t start = sfu_hashpipe_offset(pipe);
        struct delta d = { .job = job, .t = t, .m = &img->delta, .pipe = pipe, .source_fd = -1, .header_fd = -1 };
        struct sfu_err derr = SFU_ERR_INIT;
        int r;

        *done = false;
        if (!sfu_delta_offered(job, t))
                return 0;
        if (start % img->delta.chunk_size != 0 || (start > 0 && start >= img->size))
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL, "delta: cannot begin at byte %" PRIu64, start);
        d.first = d.cursor = (size_t) (start / img->delta.chunk_size);
        d.checkpoint.at = start;
        r = run_delta(&d, &derr);
        delta_done(&d);
        if (r >= 0) {
                *done = true;
                return 0;
        }
        if (derr.code == SFU_ERR_NONE)
                sfu_err_set(&derr, SFU_ERR_STORAGE, -r, "delta: %s", strerror(-r));
        if (transport_failure(&derr) && sfu_hashpipe_offset(pipe) > 0) {
                /* The server went away: a full download from it would
                 * fail alike.  What the slot holds is kept for the next
                 * cycle, which goes on from there. */
                struct sfu_err serr = SFU_ERR_INIT;
                if (sfu_stage_checkpoint(job, t, pipe, &d.checkpoint, "", true, &serr) < 0)
                        log_warning("delta: cannot keep what %s holds: %s", t->slot->bootname, serr.message);
                *err = derr;
                return r;
        }
        if (derr.errnum == ECANCELED || !job->config->delta_fallback) {
                *err = derr;
                return r;
        }
        log_warning("delta for %s failed (%s); downloading the whole image", img->name, derr.message);
        r = sfu_hashpipe_reset(pipe);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot restart the digests");
        return 0;
}
