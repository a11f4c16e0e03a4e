/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <openssl/crypto.h>

#include "core/hex.h"
#include "core/segcrypt.h"
#include "core/url.h"
#include "daemon/delta.h"
#include "daemon/log.h"
#include "daemon/stage.h"
#include "io/clock.h"
#include "io/fault.h"
#include "io/hashpipe.h"

#define RESUME_CHECKPOINT (64u * 1024u * 1024u)
/* After the first checkpoint of a transfer, at most one per second: each
 * stalls the stream for an fdatasync and a state write (~40 ms), which on
 * a fast link came every 0.2 s.  A kill loses at most 64 MiB or one
 * second of transfer, whichever is more. */
#define RESUME_CHECKPOINT_MIN_INTERVAL_USEC 1000000u

/* Picks the slot each image goes to: in an A/B class the one whose index
 * differs from the booted slot's; a single-copy class's only slot, which
 * must not be the running system. */
static int plan_targets(const struct sfu_job *job, const struct sfu_candidate *c, struct sfu_stage_target *targets,
                        struct sfu_err *err) {
        const struct sfu_config *cfg = job->config;
        const char *booted_name = job->env->booted;
        const struct sfu_config_slot *booted = sfu_config_boot_slot(cfg, booted_name);
        int r;

        if (!booted)
                return sfu_err_set(err, SFU_ERR_STATE, ENOENT, "the booted slot is unknown (booted-slot = %s)",
                                   cfg->booted_slot);
        for (size_t i = 0; i < c->n_components; i++) {
                const struct sfu_manifest_image *img = c->components[i].image;
                const struct sfu_candidate *from = c->components[i].from;
                const char *class_name = img->slot_class ? img->slot_class : booted->class_name;
                size_t n = sfu_config_class_size(cfg, class_name);
                struct sfu_stage_target *t = &targets[i];

                t->image = img;
                t->slot = NULL;
                t->single_copy = n == 1;
                for (size_t s = 0; s < cfg->n_slots; s++) {
                        const struct sfu_config_slot *cs = &cfg->slots[s];
                        if (strcmp(cs->class_name, class_name) != 0)
                                continue;
                        if (n == 1 || cs->index != booted->index)
                                t->slot = cs;
                }
                if (!t->slot)
                        return sfu_err_set(err, SFU_ERR_POLICY, ENOENT, "no inactive slot for image \"%s\" (class %s)",
                                           img->name, class_name);
                /* A bootname names one side of every class: a slot that
                 * shares the booted bootname is on the running side,
                 * whichever class a first-match lookup happened to find. */
                if (t->slot == booted || sfu_streq(t->slot->bootname, booted_name) ||
                    sfu_slot_same_device(t->slot->device, booted->device))
                        return sfu_err_set(err, SFU_ERR_STORAGE, EPERM,
                                           "slot %s of class %s is the running system; it can only be updated from another system",
                                           t->slot->bootname, class_name);
                t->component = &c->components[i];
                if (from->bundle && from->has_fd)
                        t->url = NULL; /* the images are read from the bundle's file */
                else if (from->bundle) {
                        t->url = strdup(from->url); /* the images follow the manifest in the bundle */
                        if (!t->url)
                                return -ENOMEM;
                } else if (from->url[0]) {
                        _cleanup_free_ char *url = NULL;
                        r = sfu_url_resolve(from->url, img->location, &url, err);
                        if (r < 0)
                                return r;
                        t->url = TAKE_PTR(url);
                } else if (sfu_url_scheme_allowed(img->location)) {
                        t->url = strdup(img->location);
                        if (!t->url)
                                return -ENOMEM;
                } else
                        return sfu_err_set(err, SFU_ERR_POLICY, EINVAL,
                                           "image \"%s\" has the relative location \"%s\", but the manifest came from a file",
                                           img->name, img->location);
        }
        return 0;
}

struct download {
        struct sfu_job *job;
        const struct sfu_candidate *c;
        struct sfu_stage_target *target;
        struct sfu_hashpipe *pipe;      /* bytes -> slot, then every digest on its own thread */
        uint64_t base;                  /* the image's first byte in the file: 0, or its place in a bundle */
        uint64_t size;                  /* the image's bytes (a bundle's image: exactly; else at most) */
        bool whole_file;                /* this answer is a bundle from byte 0: skip to base */
        uint64_t requested_offset;      /* in the file */
        struct sfu_stage_checkpoint checkpoint;
        const char *resume_etag;
        /* An encrypted image (doc/encryption.md): the ciphertext goes
         * through the decryptor, which hands whole authenticated segments
         * to the pipe; offsets in the file are the ciphertext's. */
        const struct sfu_manifest_encryption *enc;
        struct sfu_segcrypt *crypt;
        uint64_t cipher_next;           /* the next ciphertext byte expected */
};

static uint64_t written(const struct download *d) {
        return sfu_hashpipe_offset(d->pipe);
}

static int feed_pipe(void *userdata, const void *buf, size_t len, struct sfu_err *err);

static int decrypted(void *userdata, const uint8_t *data, size_t len, struct sfu_err *err) {
        struct download *d = userdata;
        return sfu_hashpipe_feed(d->pipe, data, len, err);
}

/* A fresh decryptor at the segment where the plaintext in the pipe ends
 * (always a segment boundary: only whole segments come out); what it held
 * of a segment is asked for again.  Returns the ciphertext offset. */
static int crypt_restart(struct download *d, uint64_t *ret_offset, struct sfu_err *err) {
        uint32_t s = d->enc->params.segment_size;
        uint64_t segment = written(d) / s;

        if (written(d) % s != 0)
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL, "decrypted data ends inside a segment");
        sfu_segcrypt_free(d->crypt);
        d->crypt = NULL;
        *ret_offset = sfu_segcrypt_ciphertext_offset(segment, s);
        d->cipher_next = *ret_offset;
        return sfu_segcrypt_decrypt_new(&d->enc->params, segment, d->enc->size, decrypted, d, &d->crypt, err);
}

/* Restarts the image from byte 0. */
static int start_over(struct download *d) {
        struct sfu_err err = SFU_ERR_INIT;
        uint64_t zero;
        int r;

        d->checkpoint.at = 0;
        r = sfu_hashpipe_reset(d->pipe);
        if (r >= 0 && d->enc)
                r = crypt_restart(d, &zero, &err);
        return r;
}

static int sink_start(void *userdata, const struct sfu_fetch_result *res, struct sfu_err *err) {
        struct download *d = userdata;
        int r;

        d->whole_file = false;
        if (d->c->bundle && res->total_length && res->total_length != sfu_bundle_length(&d->c->bundle_header))
                return sfu_err_set(err, SFU_ERR_SIZE, EBADMSG,
                                   "the bundle on the server is %" PRIu64 " bytes now, its header says %" PRIu64,
                                   res->total_length, sfu_bundle_length(&d->c->bundle_header));
        if (d->requested_offset == 0)
                return 0;
        if (res->status == 206 && res->range_start == d->requested_offset &&
            (!d->resume_etag || !d->resume_etag[0] || !res->etag[0] || strcmp(d->resume_etag, res->etag) == 0))
                return 0;
        if (res->status == 200) {
                /* Range ignored or If-Range said the file changed: start over. */
                log_info("server sent the whole %s instead of a range; starting over", d->c->bundle ? "bundle" : "image");
                r = start_over(d);
                if (r < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot restart the digests");
                d->whole_file = d->c->bundle;
                return 0;
        }
        return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO,
                           "server answered a range starting at %" PRIu64 " (ETag %s) for a resume at %" PRIu64,
                           res->range_start, res->etag[0] ? res->etag : "none", d->requested_offset);
}

/* Records that the first `offset` bytes of t's slot are durable: the
 * next cycle that stages the same manifest's image into the same slot
 * from the same URL reads them back and goes on from there. */
static void record_resume(struct sfu_job *job, const struct sfu_stage_target *t, const char *etag, uint64_t offset) {
        struct sfu_state *s = job->state;
        struct sfu_err err = SFU_ERR_INIT;

        s->has_resume = true;
        snprintf(s->resume_manifest_sha256, sizeof(s->resume_manifest_sha256), "%s", t->component->from->sha256);
        snprintf(s->resume_image, sizeof(s->resume_image), "%s", t->image->name);
        snprintf(s->resume_bootname, sizeof(s->resume_bootname), "%s", t->slot->bootname);
        snprintf(s->resume_etag, sizeof(s->resume_etag), "%s", etag ? etag : "");
        snprintf(s->resume_url, sizeof(s->resume_url), "%s", t->url);
        s->resume_offset = offset;
        if (sfu_job_save(job, true, &err) < 0)
                log_warning("cannot record resume data: %s", err.message);
}

int sfu_stage_checkpoint(struct sfu_job *job, const struct sfu_stage_target *t, struct sfu_hashpipe *pipe,
                         struct sfu_stage_checkpoint *cp, const char *etag, bool force, struct sfu_err *err) {
        uint64_t at = sfu_hashpipe_offset(pipe), now = sfu_clock_monotonic_usec(), durable;
        int r;

        if (!force && (at < cp->at + RESUME_CHECKPOINT ||
                       (cp->usec != 0 && now - cp->usec < RESUME_CHECKPOINT_MIN_INTERVAL_USEC)))
                return 0;
        /* Durable progress: what the resume data claims is on disk (whole
         * blocks only; the partial one is not yet written). */
        durable = sfu_hashpipe_sunk(pipe);
        r = sfu_slot_writer_sync(t->writer, err);
        if (r < 0)
                return r;
        cp->at = at;
        cp->usec = now;
        if (durable > 0)
                record_resume(job, t, etag, durable);
        return 0;
}

/* The pipeline's sink: blocks go into the slot before they are hashed. */
static int slot_sink(void *userdata, uint64_t offset, const void *buf, size_t len, struct sfu_err *err) {
        struct download *d = userdata;
        return sfu_slot_writer_write(d->target->writer, offset, buf, len, err);
}

/* A whole bundle from byte 0 (a server that ignored the range, or whose
 * file changed): its head must be the one verified; the bytes before the
 * image are skipped.  Leaves *buf, *len, *offset at the image's part. */
static int skip_to_image(const struct download *d, uint64_t *offset, const char **buf, size_t *len,
                         struct sfu_err *err) {
        uint64_t end = *offset + *len;

        if (*offset < d->c->len) {
                size_t n = (size_t) ((end < d->c->len ? end : d->c->len) - *offset);
                if (memcmp(*buf, d->c->bytes + *offset, n) != 0)
                        return sfu_err_set(err, SFU_ERR_PARSE, ESTALE,
                                           "the bundle changed on the server after its manifest was checked; "
                                           "the next check starts over");
        }
        if (end <= d->base) {
                *len = 0;
                return 0;
        }
        if (*offset < d->base) {
                *buf += d->base - *offset;
                *len -= (size_t) (d->base - *offset);
                *offset = d->base;
        }
        return 0;
}

static int sink_write(void *userdata, uint64_t offset, const void *data, size_t len, struct sfu_err *err) {
        struct download *d = userdata;
        const char *buf = data;
        bool last = false;
        int r;

        if (d->whole_file) {
                r = skip_to_image(d, &offset, &buf, &len, err);
                if (r < 0 || len == 0)
                        return r;
        }
        if (d->enc) {
                if (offset != d->cipher_next)
                        return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO, "non-contiguous data at %" PRIu64, offset);
                d->cipher_next += len;
                r = sfu_segcrypt_feed(d->crypt, buf, len, err);
                if (r < 0)
                        return r;
        } else if (offset - d->base != written(d) || offset < d->base)
                return sfu_err_set(err, SFU_ERR_NETWORK, EPROTO, "non-contiguous data at %" PRIu64, offset);
        if (!d->enc && d->c->bundle && written(d) + len >= d->size) {
                /* The next image's bytes are not this one's. */
                len = (size_t) (d->size - written(d));
                last = true;
        }
        if (!d->enc) {
                r = sfu_hashpipe_feed(d->pipe, buf, len, err);
                if (r < 0)
                        return r;
        }
        sfu_job_progress_update(d->job, written(d));
        r = sfu_stage_checkpoint(d->job, d->target, d->pipe, &d->checkpoint, d->resume_etag, false, err);
        if (r < 0)
                return r;
        return last ? SFU_FETCH_STOP : 0;
}

static int compare_digests(const struct sfu_stage_target *t, struct sfu_hashpipe *pipe, struct sfu_err *err) {
        for (size_t i = 0; i < t->image->n_digests; i++) {
                const struct sfu_manifest_digest *want = &t->image->digests[i];
                uint8_t got[SFU_DIGEST_MAX_SIZE];
                int r = sfu_hashpipe_get(pipe, want->alg, got);
                if (r < 0)
                        return sfu_err_set(err, SFU_ERR_DIGEST, r, "digest %s not computed", sfu_digest_name(want->alg));
                if (memcmp(got, want->value, sfu_digest_size(want->alg)) != 0) {
                        char hex[2 * SFU_DIGEST_MAX_SIZE + 1];
                        sfu_hex_encode(got, sfu_digest_size(want->alg), hex);
                        return sfu_err_set(err, SFU_ERR_DIGEST, EBADMSG,
                                           "image \"%s\": %s mismatch (got %.16s…, manifest says another value)",
                                           t->image->name, sfu_digest_name(want->alg), hex);
                }
        }
        return 0;
}

static int feed_pipe(void *userdata, const void *buf, size_t len, struct sfu_err *err) {
        return sfu_hashpipe_feed(userdata, buf, len, err);
}

/* GET (with Range from the first missing byte, bytes=A-B for a bundle's
 * image) until the image is complete, retrying what another try may heal. */
static int fetch_image(struct download *d, char *resume_etag, struct sfu_err *err) {
        struct sfu_job *job = d->job;
        struct sfu_stage_target *t = d->target;
        const struct sfu_manifest_image *img = t->image;
        uint64_t max_total = d->c->bundle ? sfu_bundle_length(&d->c->bundle_header) : d->enc ? d->enc->size : d->size;
        char etag_seen[SFU_FETCH_MAX_HEADER_VALUE] = "";
        struct sfu_fetch_opts opts;
        int r;

        sfu_job_fetch_opts(job, &opts);
        for (unsigned attempt = 0;; attempt++) {
                struct sfu_fetch_sink sink = { sink_start, sink_write, d };
                struct sfu_fetch_result res;
                struct sfu_err fetch_err = SFU_ERR_INIT;
                uint64_t wait = 0;

                d->requested_offset = d->base + written(d);
                if (d->enc) {
                        r = crypt_restart(d, &d->requested_offset, err);
                        if (r < 0)
                                return r;
                }
                r = sfu_fetch_stream(&opts, t->url, d->requested_offset, d->c->bundle ? d->base + d->size - 1 : 0,
                                     resume_etag, max_total, &sink, &res, &fetch_err);
                if (res.etag[0])
                        snprintf(etag_seen, sizeof(etag_seen), "%s", res.etag);
                if (r >= 0 && (res.status == 200 || res.status == 206) && d->enc) {
                        if (d->cipher_next == d->enc->size) {
                                /* The last segment must authenticate as the last. */
                                r = sfu_segcrypt_finish(d->crypt, err);
                                if (r < 0)
                                        return r;
                                break;
                        }
                        r = sfu_err_set(&fetch_err, SFU_ERR_NETWORK, EPIPE,
                                        "%s: transfer ended at byte %" PRIu64 " of %" PRIu64 " (encrypted)", t->url,
                                        d->cipher_next, d->enc->size);
                } else if (r >= 0 && (res.status == 200 || res.status == 206)) {
                        if (!img->has_size || written(d) == img->size)
                                break;
                        r = sfu_err_set(&fetch_err, SFU_ERR_NETWORK, EPIPE,
                                        "%s: transfer ended at byte %" PRIu64 " of %" PRIu64, t->url, written(d),
                                        img->size);
                } else if (r >= 0) {
                        bool retryable = res.status == 408 || res.status == 429 || res.status >= 500;
                        r = sfu_err_set(&fetch_err, SFU_ERR_NETWORK, EIO, "%s: HTTP %ld", t->url, res.status);
                        if (res.status == 416 && written(d) > 0) {
                                /* Our range makes no sense to the server: start over. */
                                r = start_over(d);
                                if (r < 0)
                                        return r;
                                retryable = true;
                        }
                        if (!retryable) {
                                *err = fetch_err;
                                return -EIO;
                        }
                }
                if (sfu_job_cancelled(job))
                        return sfu_err_set(err, SFU_ERR_NETWORK, ECANCELED, "cancelled");
                /* Every wait obeys retry-after-max and the job's deadline,
                 * whatever the answer that asked for it (a 503, or a 200
                 * that ended early). */
                if (!sfu_job_transient(&fetch_err) || attempt + 1 >= SFU_JOB_FETCH_ATTEMPTS ||
                    sfu_job_retry_delay(job, t->url, res.status, res.retry_after, attempt, &wait, &fetch_err) < 0) {
                        *err = fetch_err;
                        if (fetch_err.code == SFU_ERR_NETWORK) {
                                /* Keep what is durably in the slot for the next cycle. */
                                struct sfu_err sync_err = SFU_ERR_INIT;
                                uint64_t durable = sfu_hashpipe_sunk(d->pipe);
                                if (sfu_slot_writer_sync(t->writer, &sync_err) >= 0)
                                        record_resume(d->job, d->target, etag_seen, durable);
                        }
                        return r < 0 ? r : -EIO;
                }
                if (fetch_err.errnum == EPROTO) {
                        /* A wrong range or a changed file: never splice. */
                        r = start_over(d);
                        if (r < 0)
                                return r;
                }
                if (written(d) > 0 && etag_seen[0])
                        snprintf(resume_etag, SFU_STATE_MAX_TEXT, "%s", etag_seen);
                log_info("%s; retrying from byte %" PRIu64 " in %.1f s", fetch_err.message, written(d),
                         (double) wait / 1e6);
                r = sfu_job_wait(job, wait, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A bundle's image from the file the operator named or passed. */
static int read_image(struct download *d, struct sfu_err *err) {
        enum { CHUNK = 1024 * 1024 };
        _cleanup_free_ char *buf = malloc(CHUNK);

        if (!buf)
                return -ENOMEM;
        while (written(d) < d->size) {
                uint64_t left = d->size - written(d);
                ssize_t n = pread(d->c->fd, buf, left < CHUNK ? (size_t) left : CHUNK, (off_t) (d->base + written(d)));
                int r;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot read the bundle: %s", strerror(errno));
                if (n == 0)
                        return sfu_err_set(err, SFU_ERR_SIZE, EPIPE,
                                           "the bundle file ended in image \"%s\" at byte %" PRIu64 " of %" PRIu64,
                                           d->target->image->name, written(d), d->size);
                if (sfu_job_cancelled(d->job))
                        return sfu_err_set(err, SFU_ERR_NETWORK, ECANCELED, "cancelled");
                r = sfu_hashpipe_feed(d->pipe, buf, (size_t) n, err);
                if (r < 0)
                        return r;
                sfu_job_progress_update(d->job, written(d));
        }
        return 0;
}

static int download_image(struct sfu_job *job, struct sfu_stage_target *t, struct sfu_err *err) {
        _cleanup_hashpipe_ struct sfu_hashpipe *pipe = NULL;
        const struct sfu_manifest_image *img = t->image;
        /* The manifest that carries the image: the set's, or a provider's. */
        const struct sfu_candidate *c = t->component->from;
        char resume_etag[SFU_STATE_MAX_TEXT] = "";
        struct download d = {
                .job = job,
                .c = c,
                .target = t,
                .base = t->component->offset,
                .size = img->has_size ? img->size : job->config->max_image_size,
        };
        uint64_t offset = 0;
        bool delta_done = false;
        int r;

        if (img->encryption.present) {
                d.enc = &img->encryption;
                if (!img->has_size &&
                    sfu_segcrypt_plaintext_size(d.enc->size, d.enc->params.segment_size, &d.size) < 0)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "image \"%s\": impossible encrypted size",
                                           img->name);
                if (!t->url)
                        return sfu_err_set(err, SFU_ERR_POLICY, EINVAL,
                                           "image \"%s\" is encrypted: it is fetched, never read from a bundle",
                                           img->name);
        }
        r = sfu_hashpipe_new(img->digest_mask, &pipe);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot start the digest threads");
        d.pipe = pipe;
        r = sfu_mac_new(&t->check);
        if (r >= 0)
                r = sfu_hashpipe_set_mac(pipe, t->check);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot start the slot's check value");
        /* A bundle's images are asked for "If-Range" its ETag: a bundle
         * that changed since its manifest was read comes whole. */
        snprintf(resume_etag, sizeof(resume_etag), "%s", c->bundle ? c->etag : "");
        if (t->url)
                offset = sfu_policy_resume_offset(job->state, c->sha256, t->image->name, t->slot->bootname, t->url,
                                                  d.size);
        if (d.enc) /* only whole segments were written */
                offset -= offset % d.enc->params.segment_size;
        else if (sfu_delta_offered(job, t)) {
                /* a delta goes on at a chunk, and has one chunk at least
                 * to do (a record may say the whole image was written) */
                if (img->size > 0 && offset >= img->size)
                        offset = img->size - 1;
                offset -= offset % img->delta.chunk_size;
        }
        if (offset > 0) {
                snprintf(resume_etag, sizeof(resume_etag), "%s", job->state->resume_etag);
                /* Never trust memory or the record: hash what the slot holds. */
                sfu_job_progress_begin(job, "resuming", img->name, 0, offset);
                r = sfu_slot_writer_read_back(t->writer, offset, feed_pipe, pipe, err);
                if (r < 0)
                        return r;
                log_info("resuming %s at byte %" PRIu64, img->name, offset);
        }
        r = sfu_hashpipe_set_sink(pipe, slot_sink, &d, err);
        if (r < 0)
                return r;
        d.checkpoint.at = offset;
        d.resume_etag = resume_etag;
        sfu_job_progress_begin(job, "downloading", img->name, offset, img->has_size ? img->size : 0);
        /* From the chunks the device holds, when the manifest offers a
         * delta (doc/delta.md); else, or when that fails, in full. */
        r = sfu_delta_try(job, t, pipe, &delta_done, err);
        if (r < 0)
                return r;
        d.checkpoint.at = written(&d); /* a failed delta starts over */
        if (delta_done)
                r = 0;
        else
                r = t->url ? fetch_image(&d, resume_etag, err) : read_image(&d, err);
        sfu_segcrypt_free(d.crypt);
        d.crypt = NULL;
        if (r < 0)
                return r;

        sfu_job_progress_begin(job, "syncing", img->name, written(&d), written(&d));
        r = sfu_hashpipe_finish(pipe, err);
        if (r < 0)
                return r;
        r = sfu_slot_writer_sync(t->writer, err);
        if (r < 0)
                return r;
        sfu_job_progress_begin(job, "verifying", img->name, written(&d), written(&d));
        if (img->has_size && written(&d) != img->size)
                r = sfu_err_set(err, SFU_ERR_SIZE, EBADMSG, "image \"%s\": got %" PRIu64 " bytes, expected %" PRIu64,
                                img->name, written(&d), img->size);
        else
                r = compare_digests(t, pipe, err);
        if (r >= 0) {
                t->length = written(&d);
                r = sfu_mac_final(t->check, t->check_value);
                if (r < 0)
                        r = sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot finish the slot's check value");
        }
        if (r < 0) {
                /* Some byte in the slot is wrong: resuming onto it again
                 * would fail the same way forever.  The next cycle starts
                 * over. */
                job->state->has_resume = false;
        }
        return r;
}

struct recheck {
        struct sfu_job *job;
        struct sfu_mac *mac;
        uint64_t done;
};

static int recheck_update(void *userdata, const void *buf, size_t len, struct sfu_err *err) {
        struct recheck *x = userdata;
        int r = sfu_mac_update(x->mac, buf, len);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot check the slot: %s", strerror(-r));
        x->done += len;
        sfu_job_progress_update(x->job, x->done);
        return 0;
}

/* Reads the image back from the slot just before activation and checks
 * that the slot still holds exactly the bytes that were verified while
 * streaming (no other writer, no aliasing of slots): their keyed check
 * value (core/mac.h), computed over the same bytes as the digests under a
 * random key that never left this process, must come out the same.  Any
 * change of the slot is caught as surely as by a second SHA-256 pass
 * (doc/staging.md), at memory speed. */
static int recheck_image(struct sfu_job *job, const struct sfu_stage_target *t, struct sfu_err *err) {
        _cleanup_mac_ struct sfu_mac *mac = NULL;
        uint8_t got[SFU_MAC_SIZE];
        int r;

        if (!t->check)
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL, "image \"%s\" has no check value", t->image->name);
        r = sfu_mac_new_same_key(t->check, &mac);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot start the slot's check: %s", strerror(-r));
        r = sfu_slot_writer_check_path(t->writer, err);
        if (r < 0)
                return r;
        sfu_job_progress_begin(job, "rechecking", t->image->name, 0, t->length);
        r = sfu_slot_writer_read_back(t->writer, t->length, recheck_update,
                                      &(struct recheck) { .job = job, .mac = mac }, err);
        if (r < 0)
                return r;
        r = sfu_mac_final(mac, got);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot finish the slot's check: %s", strerror(-r));
        if (CRYPTO_memcmp(got, t->check_value, sizeof(got)) != 0)
                return sfu_err_set(err, SFU_ERR_DIGEST, EBADMSG,
                                   "image \"%s\" changed in slot %s after it was verified (check value mismatch on re-reading); not activating it",
                                   t->image->name, t->slot->bootname);
        return 0;
}

int sfu_stage_images(struct sfu_job *job, const struct sfu_candidate *c, struct sfu_stage_plan *plan,
                     struct sfu_err *err) {
        const struct sfu_config *cfg = job->config;
        const struct sfu_config_slot *booted = sfu_config_boot_slot(cfg, job->env->booted);
        struct sfu_stage_target *targets = plan->targets;
        const char *forbidden[SFU_CONFIG_MAX_SLOTS + 2];
        size_t n = c->n_components;
        int r;

        if (n == 0)
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL, "the set was not resolved before staging");
        plan->n_targets = n;
        r = plan_targets(job, c, targets, err);
        if (r < 0)
                return r;
        /* Every image's slot is opened (and its size checked) before the
         * first byte is requested. The running slot and every slot not
         * being written are forbidden targets. */
        for (size_t i = 0; i < n; i++) {
                size_t nf = 0;
                forbidden[nf++] = booted->device;
                for (size_t s = 0; s < cfg->n_slots; s++)
                        if (&cfg->slots[s] != targets[i].slot && &cfg->slots[s] != booted)
                                forbidden[nf++] = cfg->slots[s].device;
                forbidden[nf] = NULL;
                r = sfu_slot_writer_open(targets[i].slot->device, forbidden,
                                         targets[i].image->has_size ? targets[i].image->size : 0, &targets[i].writer,
                                         err);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < n; i++) {
                /* From here on the slot's old content is gone. */
                sfu_job_set_slot(job, targets[i].slot->bootname, SFU_HEALTH_EMPTY, NULL);
                if (targets[i].single_copy) {
                        r = sfu_bootloader_set_incomplete(job->env->boot, targets[i].slot->class_name, err);
                        if (r < 0)
                                return r;
                }
        }
        sfu_job_set_state(job, SFU_STATE_DOWNLOADING, "downloading %s", c->manifest->version_text);

        for (size_t i = 0; i < n; i++) {
                r = download_image(job, &targets[i], err);
                if (r < 0) {
                        sfu_err_prefix(err, "slot %s", targets[i].slot->bootname);
                        return r;
                }
                log_info("image %s verified in slot %s", targets[i].image->name, targets[i].slot->bootname);
        }
        r = SFU_FAULT("before-switch");
        if (r < 0) {
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "fault injected before the bootloader switch");
        }
        for (size_t i = 0; i < n; i++) {
                r = recheck_image(job, &targets[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

void sfu_stage_plan_finish(struct sfu_job *job, struct sfu_stage_plan *plan, bool failed) {
        for (size_t i = 0; i < plan->n_targets; i++) {
                struct sfu_stage_target *t = &plan->targets[i];
                if (failed && t->writer)
                        sfu_job_set_slot(job, t->slot->bootname, SFU_HEALTH_BAD, NULL);
                sfu_slot_writer_free(t->writer);
                t->writer = NULL;
                sfu_mac_free(t->check);
                t->check = NULL;
                OPENSSL_cleanse(t->check_value, sizeof(t->check_value));
                free(t->url);
                t->url = NULL;
        }
}
