/* SPDX-License-Identifier: MIT */
/* The trust store: the factory keys, the keys later manifests announced
 * (state-dir/keys), minus the revoked ones (state-dir/revoked-kids); and
 * the rotation a verified manifest's keyInfo asks for. */
#pragma once
#include "core/key.h"
#include "core/manifest.h"
#include "daemon/job-internal.h"

int sfu_trust_load(const struct sfu_config *config, struct sfu_keyring **ret, struct sfu_err *err) _wur_;
/* keyInfo of a manifest that ring (the current trust store) verified: new
 * keys are added (to the store and to ring), revoked key ids removed, for
 * every later manifest.  A key already trusted is a no-op; one the store
 * could not load, or one over its limit, is reported and not written; a
 * revocation that would leave fewer than min-signatures keys is refused. */
int sfu_trust_rotate(const struct sfu_config *config, struct sfu_keyring *ring, const struct sfu_manifest *man,
                     struct sfu_err *err) _wur_;
