/* SPDX-License-Identifier: MIT */
/* Finding the manifest: the operator's URL or file when given, else the
 * local cache first and the manufacturer when the local server is absent,
 * unreachable, 404, invalid, offers nothing newer, or offers what is held
 * back after a failed staging (or skip_local says so: after a staging from
 * the local server failed in this cycle).  Each candidate is verified
 * (verify.h) before the next source is considered. */
#pragma once
#include "daemon/job.h"
#include "daemon/verify.h"

int sfu_source_find(struct sfu_job *job, const struct sfu_keyring *ring, const struct sfu_job_request *req,
                    bool skip_local, struct sfu_candidate *c, struct sfu_err *err) _wur_;
/* GET a manifest at url (no cache, retries as for the manufacturer): for a
 * provider's manifest. */
int sfu_source_fetch(struct sfu_job *job, const char *url, struct sfu_candidate *c, struct sfu_err *err) _wur_;
