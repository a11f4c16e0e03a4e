/* SPDX-License-Identifier: MIT */
/* The set a verified manifest describes (doc/manifest.md, "Providers"):
 * its own images, and for each "providers" entry the image of the
 * provider's own manifest, fetched and verified with the provider's key
 * and scope, and the providers that one names in turn; bounded in depth
 * and number, a manifest met twice is a cycle.  Every manifest of the set
 * passes before any image byte is requested: the set is staged whole or
 * not at all. */
#pragma once
#include "core/key.h"
#include "daemon/job-internal.h"
#include "daemon/verify.h"

/* Fills c->components (and c->providers); c verified already. */
int sfu_provider_resolve(struct sfu_job *job, const struct sfu_keyring *ring, struct sfu_candidate *c,
                         struct sfu_err *err) _wur_;
/* The newest version and timestamp of each provided component, from the
 * set's provider manifests, into the job's state. */
void sfu_provider_remember(struct sfu_job *job, const struct sfu_candidate *c);
