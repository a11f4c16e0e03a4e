/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <sys/mman.h>

#include "io/hashpipe.h"

struct block {
        uint8_t *data;
        size_t len;
        unsigned pending;               /* hashers still to read it */
};

struct hasher {
        struct sfu_hashpipe *pipe;
        pthread_t thread;
        bool started;
        enum sfu_digest_alg alg;
        struct sfu_digest_set *set;
        struct sfu_mac *mac;            /* also updated here (the first hasher only) */
        uint64_t next;                  /* sequence number of the next block to hash */
        int error;
};

struct sfu_hashpipe {
        pthread_mutex_t lock;
        /* Two conditions, so that nobody wakes up for nothing (a wakeup
         * per 128 KiB block adds up): */
        pthread_cond_t data;            /* a block was published, or stop: the hashers wait */
        pthread_cond_t space;           /* a block is free, or a hasher caught up: the feeder waits */
        uint8_t *ring;                  /* one mapping: every block's data */
        struct block blocks[SFU_HASHPIPE_BLOCKS];
        uint64_t published;             /* blocks handed to the hashers so far */
        size_t fill;                    /* bytes in the block being filled */
        uint64_t offset;                /* bytes fed */
        uint64_t sunk;                  /* offset of the block being filled */
        bool stop;
        bool finished;
        struct hasher hashers[_SFU_DIGEST_MAX];
        size_t n_hashers;
        sfu_hashpipe_sink_fn sink;
        void *userdata;
};

static void *hasher_main(void *userdata) {
        struct hasher *h = userdata;
        struct sfu_hashpipe *p = h->pipe;

        pthread_mutex_lock(&p->lock);
        for (;;) {
                while (h->next >= p->published && !p->stop)
                        pthread_cond_wait(&p->data, &p->lock);
                if (h->next >= p->published)
                        break;
                struct block *b = &p->blocks[h->next % SFU_HASHPIPE_BLOCKS];
                pthread_mutex_unlock(&p->lock);
                int r = sfu_digest_set_update(h->set, b->data, b->len);
                if (r >= 0 && h->mac)
                        r = sfu_mac_update(h->mac, b->data, b->len);
                pthread_mutex_lock(&p->lock);
                if (r < 0 && h->error == 0)
                        h->error = r;
                b->pending--;
                h->next++;
                if (b->pending == 0 || h->next == p->published)
                        pthread_cond_signal(&p->space);
        }
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

int sfu_hashpipe_new(unsigned digest_mask, struct sfu_hashpipe **ret) {
        struct sfu_hashpipe *p;
        int r = 0;

        if (digest_mask == 0 || (digest_mask & ~SFU_DIGEST_MASK_ALL))
                return -EINVAL;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->data, NULL);
        pthread_cond_init(&p->space, NULL);
        /* One mapping for the ring, returned whole to the system at the
         * end: from malloc, blocks below its mmap threshold would stay in
         * the heap after staging. */
        p->ring = mmap(NULL, SFU_HASHPIPE_BLOCKS * SFU_HASHPIPE_BLOCK_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p->ring == MAP_FAILED) {
                p->ring = NULL;
                r = -ENOMEM;
        }
        for (size_t i = 0; i < SFU_HASHPIPE_BLOCKS && r == 0; i++)
                p->blocks[i].data = p->ring + i * SFU_HASHPIPE_BLOCK_SIZE;
        for (int alg = 0; alg < _SFU_DIGEST_MAX && r == 0; alg++) {
                struct hasher *h;
                if (!(digest_mask & SFU_DIGEST_MASK(alg)))
                        continue;
                h = &p->hashers[p->n_hashers++];
                h->pipe = p;
                h->alg = (enum sfu_digest_alg) alg;
                r = sfu_digest_set_new(SFU_DIGEST_MASK(alg), &h->set);
                if (r == 0) {
                        r = -pthread_create(&h->thread, NULL, hasher_main, h);
                        h->started = r == 0;
                }
        }
        if (r < 0) {
                sfu_hashpipe_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

/* Hands the block being filled to the sink, then to the hashers. */
static int publish(struct sfu_hashpipe *p, bool use_sink, struct sfu_err *err) {
        struct block *b = &p->blocks[p->published % SFU_HASHPIPE_BLOCKS];
        int r;

        if (p->fill == 0)
                return 0;
        if (use_sink && p->sink) {
                r = p->sink(p->userdata, p->sunk, b->data, p->fill, err);
                if (r < 0)
                        return r;
        }
        pthread_mutex_lock(&p->lock);
        b->len = p->fill;
        b->pending = (unsigned) p->n_hashers;
        p->published++;
        pthread_cond_broadcast(&p->data);
        pthread_mutex_unlock(&p->lock);
        p->sunk += p->fill;
        p->fill = 0;
        return 0;
}

int sfu_hashpipe_feed(struct sfu_hashpipe *p, const void *buf, size_t len, struct sfu_err *err) {
        const uint8_t *src = buf;
        int r;

        if (p->finished)
                return -EALREADY;
        while (len > 0) {
                struct block *b = &p->blocks[p->published % SFU_HASHPIPE_BLOCKS];
                if (p->fill == 0) {
                        pthread_mutex_lock(&p->lock);
                        while (b->pending > 0)
                                pthread_cond_wait(&p->space, &p->lock);
                        pthread_mutex_unlock(&p->lock);
                }
                size_t n = SFU_HASHPIPE_BLOCK_SIZE - p->fill;
                if (n > len)
                        n = len;
                memcpy(b->data + p->fill, src, n);
                p->fill += n;
                p->offset += n;
                src += n;
                len -= n;
                if (p->fill == SFU_HASHPIPE_BLOCK_SIZE) {
                        r = publish(p, true, err);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int sfu_hashpipe_set_mac(struct sfu_hashpipe *p, struct sfu_mac *mac) {
        if (p->offset > 0 || p->published > 0 || p->n_hashers == 0)
                return -EBUSY;
        /* hashers[0] is the lowest algorithm listed: SHA-256 when it is
         * there, the fastest (CPUs accelerate it), so its thread has time
         * to spare while SHA-512's catches up. */
        p->hashers[0].mac = mac;
        return 0;
}

uint64_t sfu_hashpipe_offset(const struct sfu_hashpipe *p) {
        return p->offset;
}

uint64_t sfu_hashpipe_sunk(const struct sfu_hashpipe *p) {
        return p->sunk;
}

int sfu_hashpipe_set_sink(struct sfu_hashpipe *p, sfu_hashpipe_sink_fn sink, void *userdata, struct sfu_err *err) {
        int r = publish(p, true, err);
        if (r < 0)
                return r;
        p->sink = sink;
        p->userdata = userdata;
        return 0;
}

static void wait_idle(struct sfu_hashpipe *p) {
        pthread_mutex_lock(&p->lock);
        for (;;) {
                bool idle = true;
                for (size_t i = 0; i < p->n_hashers; i++)
                        if (p->hashers[i].next < p->published)
                                idle = false;
                if (idle)
                        break;
                pthread_cond_wait(&p->space, &p->lock);
        }
        pthread_mutex_unlock(&p->lock);
}

int sfu_hashpipe_finish(struct sfu_hashpipe *p, struct sfu_err *err) {
        int r = publish(p, true, err);
        if (r < 0)
                return r;
        wait_idle(p);
        for (size_t i = 0; i < p->n_hashers; i++) {
                if (p->hashers[i].error < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, p->hashers[i].error, "digest computation failed");
                r = sfu_digest_set_final(p->hashers[i].set);
                if (r < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, r, "digest computation failed");
        }
        p->finished = true;
        return 0;
}

int sfu_hashpipe_get(const struct sfu_hashpipe *p, enum sfu_digest_alg alg, uint8_t out[SFU_DIGEST_MAX_SIZE]) {
        if (!p->finished)
                return -EBUSY;
        for (size_t i = 0; i < p->n_hashers; i++)
                if (p->hashers[i].alg == alg)
                        return sfu_digest_set_get(p->hashers[i].set, alg, out);
        return -ENOENT;
}

int sfu_hashpipe_reset(struct sfu_hashpipe *p) {
        wait_idle(p);
        for (size_t i = 0; i < p->n_hashers; i++) {
                int r = sfu_digest_set_reset(p->hashers[i].set);
                if (r >= 0 && p->hashers[i].mac)
                        r = sfu_mac_reset(p->hashers[i].mac);
                if (r < 0)
                        return r;
                p->hashers[i].error = 0;
        }
        p->fill = 0;
        p->offset = 0;
        p->sunk = 0;
        p->finished = false;
        return 0;
}

void sfu_hashpipe_free(struct sfu_hashpipe *p) {
        if (!p)
                return;
        pthread_mutex_lock(&p->lock);
        p->stop = true;
        pthread_cond_broadcast(&p->data);
        pthread_mutex_unlock(&p->lock);
        for (size_t i = 0; i < p->n_hashers; i++) {
                if (p->hashers[i].started)
                        pthread_join(p->hashers[i].thread, NULL);
                sfu_digest_set_free(p->hashers[i].set);
        }
        if (p->ring)
                munmap(p->ring, SFU_HASHPIPE_BLOCKS * SFU_HASHPIPE_BLOCK_SIZE);
        pthread_cond_destroy(&p->data);
        pthread_cond_destroy(&p->space);
        pthread_mutex_destroy(&p->lock);
        free(p);
}
