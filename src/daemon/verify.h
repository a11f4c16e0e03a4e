/* SPDX-License-Identifier: MIT */
/* From fetched bytes to a manifest the device may act on: the signature
 * with the trust store, the manifest's syntax, then the device's rules
 * (core/policy.c), all before any image byte is requested. */
#pragma once
#include <stdbool.h>
#include "core/envelope.h"
#include "core/bundle.h"
#include "core/key.h"
#include "core/manifest.h"
#include "core/policy.h"
#include "core/signed.h"
#include "core/state.h"
#include "daemon/job-internal.h"

#define SFU_SET_MAX_PROVIDERS 8          /* provider manifests in one set */
#define SFU_SET_MAX_DEPTH 4              /* providers of providers, at most this deep */

struct sfu_candidate;

/* One image of the set to stage, and the manifest that carries it. */
struct sfu_component {
        const struct sfu_manifest_image *image;
        const struct sfu_candidate *from;       /* its URL resolves the location, its sha256 names resume data */
        uint64_t offset;                        /* in from's bundle, when from is one */
};

/* A manifest offered by one source, alone or at the head of a bundle
 * (core/bundle.h), or a provider's manifest that one names. */
struct sfu_candidate {
        char *bytes;                    /* as fetched: the signed manifest, or a bundle's header and manifest */
        size_t len;
        uint64_t file_size;             /* a bundle's whole length as its server or file says (0: unknown) */
        bool has_fd;                    /* a bundle read from a file: open here for its images */
        int fd;
        char url[4096];                 /* base of relative locations; "" for a file */
        enum sfu_source source;
        bool not_modified;              /* the server answered 304: bytes from the cache */
        bool cacheable;                 /* a 200 to a conditional GET: cache once verified */
        char etag[SFU_STATE_MAX_TEXT];
        char last_modified[64];
        char content_type[128];         /* what the server said the bytes are ("" for a file or the cache) */
        /* Set by sfu_verify_candidate: */
        struct sfu_manifest *manifest;
        enum sfu_policy_verdict verdict;
        struct sfu_signed_info info;    /* form, algorithms */
        char sha256[65];                /* of the bytes: names the manifest in resume data */
        enum sfu_envelope envelope;     /* the signed manifest came in a JWE or COSE_Encrypt (doc/encryption.md) */
        bool bundle;                    /* the bytes are a bundle's head; its images follow in the file */
        struct sfu_bundle_header bundle_header;
        uint64_t image_offsets[SFU_MANIFEST_MAX_IMAGES]; /* in the bundle, per manifest image */
        /* The set (daemon/provider.h): every image to stage, the provider
         * manifests it took them from. */
        struct sfu_component components[SFU_MANIFEST_MAX_IMAGES];
        size_t n_components;
        struct sfu_candidate *providers[SFU_SET_MAX_PROVIDERS];
        size_t n_providers;
        /* A provider's manifest: the entry that named it, its key. */
        const struct sfu_manifest_provider *entry;
        const struct sfu_key *provider_key;
        struct sfu_key *introduced_key;         /* owned: the entry's own JWK */
        unsigned depth;                         /* 1: named by the set's manifest */
};

void sfu_candidate_clear(struct sfu_candidate *c);
/* The signed manifest itself: all of c's bytes, or those inside its bundle. */
const char *sfu_candidate_manifest(const struct sfu_candidate *c, size_t *ret_len);

/* Verifies c's bytes (any form [security] formats takes, alone or in a
 * bundle) against ring and the device's rules; fills c->manifest,
 * c->info, c->verdict and c->sha256, and for a bundle its header and
 * image offsets.  A bundle's structure (header, lengths) is checked
 * before its manifest, its images' sizes against the header after. */
int sfu_verify_candidate(struct sfu_job *job, const struct sfu_keyring *ring, bool allow_downgrade,
                         struct sfu_candidate *c, struct sfu_err *err) _wur_;

/* Verifies pc's bytes as the manifest of the provider entry names
 * (doc/manifest.md, "Providers"): signed by the entry's key (a trust-store
 * key, or the key the entry introduces, scoped to the component) and by
 * as many keys as the component's scopes ask, then the provider rules of
 * core/policy.c against the component's record in the state. */
int sfu_verify_provider(struct sfu_job *job, const struct sfu_keyring *ring, const struct sfu_manifest_provider *entry,
                        const struct sfu_manifest *parent, struct sfu_candidate *pc, struct sfu_err *err) _wur_;

/* The Accept header for a manifest request: the forms of [security]
 * formats in their order, into buf. */
const char *sfu_verify_accept(const struct sfu_config *config, char *buf, size_t size);
