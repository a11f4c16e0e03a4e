/* SPDX-License-Identifier: MIT */
/* What a trusted key may vouch for (doc/trust.md, "Scopes").  A key of
 * the trust store without a scope vouches for everything, as every key
 * did before scopes; a key with one (its NAME.scope file beside NAME.pem,
 * NAME.jwk or NAME.hss) only for manifests of the listed manufacturers and
 * models, and within them only for the components (images and provider
 * entries) of the listed slot classes and names.  A scope also says
 * whether its key may announce or revoke keys, and how many signatures
 * the components it covers need.
 *
 *   [scope]
 *   manufacturers = example.com
 *   models = gw100 gw200
 *   slot-classes = modem
 *   images = modem
 *   keys = no
 *   min-signatures = 2
 *
 * Pure: the caller reads the file. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "core/err.h"
#include "core/key.h"
#include "core/manifest.h"

#define SFU_SCOPE_FILE_MAX (16u * 1024u)
#define SFU_SCOPE_MAX_NAMES 16          /* per list */
#define SFU_SCOPE_MAX_SIGNATURES 16     /* min-signatures at most */

struct sfu_scope {
        char *manufacturers[SFU_SCOPE_MAX_NAMES];
        size_t n_manufacturers;         /* 0: any */
        char *models[SFU_SCOPE_MAX_NAMES];
        size_t n_models;
        char *slot_classes[SFU_SCOPE_MAX_NAMES];
        size_t n_slot_classes;
        char *images[SFU_SCOPE_MAX_NAMES];
        size_t n_images;
        bool keys;                      /* may announce or revoke keys (keyInfo) */
        unsigned min_signatures;        /* the covered components need this many (0: no demand) */
};

/* Parses a scope file's text; name is for messages.  Unknown sections or
 * keys, empty lists, repeated keys and bad values are refused with the
 * line: a key whose scope cannot be read must not load at all. */
int sfu_scope_parse(const char *text, size_t len, const char *name, struct sfu_scope **ret,
                    struct sfu_err *err) _wur_;
/* A scope for one component: what a manifest introduces with a provider's
 * key (doc/manifest.md, "Providers"). */
int sfu_scope_for_component(const char *manufacturer, const char *model, const char *slot_class,
                            const char *name, struct sfu_scope **ret) _wur_;
void sfu_scope_free(struct sfu_scope *s);
static inline void sfu_scope_freep(struct sfu_scope **s) { sfu_scope_free(*s); }
#define _cleanup_scope_ _cleanup_(sfu_scope_freep)

/* Whether key (NULL scope: everything) may vouch for manifests of this
 * manufacturer and model. */
bool sfu_scope_covers_device(const struct sfu_key *key, const char *manufacturer, const char *model);
/* ... and for the component of slot_class (NULL: the device's default
 * class, which a list of slot classes never covers) named name. */
bool sfu_scope_covers_component(const struct sfu_key *key, const char *manufacturer, const char *model,
                                const char *slot_class, const char *name);
/* ... and whether it may announce or revoke keys. */
bool sfu_scope_may_manage_keys(const struct sfu_key *key);

/* Who vouched for one component of a manifest. */
struct sfu_scope_vouch {
        const char *name;               /* the component (image or provider entry) */
        const char *slot_class;
        bool delegated;                 /* a "providers" entry: its bytes come with the provider's manifest */
        unsigned need;                  /* signatures it needs */
        const struct sfu_key *keys[SFU_SCOPE_MAX_SIGNATURES];
        unsigned n_keys;                /* signers whose scope covers it */
};

struct sfu_scope_report {
        struct sfu_scope_vouch components[2 * SFU_MANIFEST_MAX_IMAGES];
        size_t n_components;
};

/* The scope rule for manifest m that signers (distinct keys whose
 * signatures verified) signed, with ring the whole trust store: every
 * component needs as many signers whose scope covers it as the most
 * demanding of min_signatures and the min-signatures of every ring key's
 * scope that covers it (a "providers" entry: min_signatures only, the
 * threshold applies to the provider's manifest); keyInfo needs min_signatures signers that may
 * manage keys.  SFU_ERR_SIGNATURE with a one-line reason otherwise.
 * report (may be NULL) says who vouched for what; its names point into m
 * and its keys into the ring. */
int sfu_scope_check(const struct sfu_manifest *m, const struct sfu_keyring *ring, const struct sfu_key *const *signers,
                    size_t n_signers, unsigned min_signatures, struct sfu_scope_report *report,
                    struct sfu_err *err) _wur_;
