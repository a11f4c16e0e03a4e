/* SPDX-License-Identifier: MIT */
/* Staging: pick each image's inactive slot, open every slot before the
 * first byte is requested, stream each image into its slot while hashing
 * it (resuming where a checkpoint says), sync, compare every listed
 * digest, and read every image back once more just before the switch. */
#pragma once
#include "core/mac.h"
#include "core/manifest.h"
#include "daemon/job-internal.h"
#include "daemon/verify.h"
#include "io/hashpipe.h"
#include "io/slot.h"

struct sfu_stage_target {
        const struct sfu_component *component;  /* the image and the manifest that carries it */
        const struct sfu_manifest_image *image;
        const struct sfu_config_slot *slot;
        bool single_copy;
        char *url;                      /* owned; heap, so that the plan stays small on the stack */
        struct sfu_slot_writer *writer;
        uint64_t length;                /* bytes written and verified */
        /* The keyed check value (core/mac.h) of the verified bytes, under
         * a key of this staging only; the read-back must match it. */
        struct sfu_mac *check;
        uint8_t check_value[SFU_MAC_SIZE];
};

struct sfu_stage_plan {
        struct sfu_stage_target targets[SFU_MANIFEST_MAX_IMAGES];
        size_t n_targets;
};

/* Where the last resume checkpoint of a transfer was taken. */
struct sfu_stage_checkpoint {
        uint64_t at;                    /* bytes in the pipe then */
        uint64_t usec;                  /* monotonic time; 0: none yet */
};

/* Every 64 MiB into the pipe (at most once a second after the first), or
 * now when force is set: makes what the pipe has written to t's slot
 * durable and records it in the state as the point where the next cycle
 * resumes t (etag: the If-Range for a full download resuming there, ""
 * for none). */
int sfu_stage_checkpoint(struct sfu_job *job, const struct sfu_stage_target *t, struct sfu_hashpipe *pipe,
                         struct sfu_stage_checkpoint *cp, const char *etag, bool force, struct sfu_err *err) _wur_;

/* Everything up to the point of no return: on success every image is in
 * its slot, synced, verified and re-read. */
int sfu_stage_images(struct sfu_job *job, const struct sfu_candidate *c, struct sfu_stage_plan *plan,
                     struct sfu_err *err) _wur_;
/* Closes the slots; after a failure every slot that was opened is marked
 * bad (its old content may be gone). */
void sfu_stage_plan_finish(struct sfu_job *job, struct sfu_stage_plan *plan, bool failed);
