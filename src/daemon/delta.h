/* SPDX-License-Identifier: MIT */
/* Delta staging (doc/delta.md): an image that the manifest also lists as
 * a zchunk file is built in its slot from the chunks the device already
 * holds in a source slot (by default the running system's slot of the
 * same class) and the chunks it lacks, fetched with Range requests.  Every
 * byte goes through the same pipeline as a full download, so the image's
 * digests, the sync and the read-back re-check are the usual ones. */
#pragma once
#include "daemon/stage.h"
#include "io/hashpipe.h"

/* Whether the manifest offers a delta for t and [delta] allows it. */
bool sfu_delta_offered(const struct sfu_job *job, const struct sfu_stage_target *t);

/* Tries a delta for t when sfu_delta_offered().  The pipe may hold the
 * image's first bytes already (a resume: they were read back from t's
 * slot), up to a chunk boundary; the delta goes on from there, and now
 * and then records how far the slot is durably written, so that another
 * cycle can go on from there too.  On success *done is true and the pipe
 * has been fed the whole image.  A connection that keeps failing ends it
 * with that error (a full download from the same server would fail
 * alike), its progress recorded.
 * When the delta cannot be used (no delta, no source, a server without
 * Range, a header or chunk that does not match, ...) the pipe is reset
 * to byte 0 and 0 is returned with *done false, so that the caller
 * downloads the image in full; with [delta] fallback = no that failure is
 * returned instead. */
int sfu_delta_try(struct sfu_job *job, struct sfu_stage_target *t, struct sfu_hashpipe *pipe, bool *done,
                  struct sfu_err *err) _wur_;
