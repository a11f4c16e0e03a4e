/* SPDX-License-Identifier: MIT */
/* The persistent record of secfud (state.json in state-dir) and its JSON
 * form.  Pure: reading and writing the file is the io layer's job
 * (io/statefile.c).  A record that fails to parse is never replaced by
 * defaults: callers report it and refuse to install. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "core/err.h"
#include "core/version.h"

#define SFU_STATE_FORMAT 1
#define SFU_STATE_MAX_SIZE (256u * 1024u)
#define SFU_STATE_MAX_SLOTS 16
#define SFU_STATE_MAX_TEXT 512
#define SFU_STATE_MAX_HOLDS 4
#define SFU_STATE_MAX_COMPONENTS 16

enum sfu_install_state {
        SFU_STATE_IDLE,
        SFU_STATE_CHECKING,
        SFU_STATE_AVAILABLE,
        SFU_STATE_DOWNLOADING,
        SFU_STATE_STAGED,
        SFU_STATE_TRIAL,
        SFU_STATE_COMMITTED,
        SFU_STATE_ROLLED_BACK,
        _SFU_STATE_MAX,
};

enum sfu_slot_health {
        SFU_HEALTH_EMPTY,
        SFU_HEALTH_GOOD,
        SFU_HEALTH_BAD,
        SFU_HEALTH_TRIAL,
        SFU_HEALTH_STAGED,
        _SFU_HEALTH_MAX,
};

enum sfu_source {
        SFU_SOURCE_NONE,
        SFU_SOURCE_LOCAL,
        SFU_SOURCE_MANUFACTURER,
        SFU_SOURCE_OPERATOR,    /* secfuctl apply URL|FILE */
        _SFU_SOURCE_MAX,
};

struct sfu_state_slot {
        char bootname[33];
        bool has_version;
        struct sfu_version version;
        enum sfu_slot_health health;
        bool has_floor;                 /* the anti-rollback floor its image sets when committed */
        struct sfu_version floor;
};

/* A signed offer from the local server whose staging failed: not tried
 * again before until (exponential back-off), so a hostile cache cannot
 * make every poll rewrite the inactive slot. */
struct sfu_state_hold {
        char manifest_sha256[65];
        unsigned failures;
        int64_t until;                  /* seconds since the epoch */
};

/* A component another party provides (doc/manifest.md, "Providers"): the
 * newest provider manifest of it that a verified set carried.  One older
 * than that is a replay. */
struct sfu_state_component {
        char name[128];
        struct sfu_version version;
        int64_t timestamp;
};

struct sfu_state {
        enum sfu_install_state state;
        char reason[SFU_STATE_MAX_TEXT];        /* why it is in this state */

        bool has_highest;                       /* highest committed version */
        struct sfu_version highest;
        bool has_floor;                         /* anti-rollback floor: nothing below it installs */
        struct sfu_version floor;
        bool has_newest_timestamp;              /* newest accepted manifest timestamp (replay) */
        int64_t newest_timestamp;

        bool has_rejected;                      /* a version whose trial failed here: polls do not stage it again */
        struct sfu_version rejected;

        bool has_newest_seen;                   /* newest valid manifest seen */
        struct sfu_version newest_seen;
        int64_t newest_seen_timestamp;
        enum sfu_source newest_seen_source;
        char newest_seen_form[40];              /* "COSE_Sign1", "JWS (compact)", ... ("" when not recorded) */
        char newest_seen_algs[96];              /* the algorithms of the signatures that counted */

        bool has_last_check;
        int64_t last_check;

        bool has_last_error;
        char last_error_code[16];
        char last_error_message[SFU_STATE_MAX_TEXT];

        struct sfu_state_slot slots[SFU_STATE_MAX_SLOTS];
        size_t n_slots;

        char trial_bootname[33];                /* "" when no trial is pending */
        char trial_previous[33];                /* the slot to fall back to */

        /* An interrupted download: resumed only for the same manifest
         * (sha256 of its bytes), image, slot, URL and ETag. */
        bool has_resume;
        char resume_manifest_sha256[65];
        char resume_image[SFU_STATE_MAX_TEXT];
        char resume_bootname[33];
        uint64_t resume_offset;
        char resume_etag[SFU_STATE_MAX_TEXT];
        char resume_url[SFU_STATE_MAX_TEXT * 2];

        struct sfu_state_hold holds[SFU_STATE_MAX_HOLDS];
        size_t n_holds;

        struct sfu_state_component components[SFU_STATE_MAX_COMPONENTS];
        size_t n_components;

        /* Conditional GET of the manifest. */
        char manifest_url[SFU_STATE_MAX_TEXT * 2];
        char manifest_etag[SFU_STATE_MAX_TEXT];
        char manifest_last_modified[64];
};

void sfu_state_init(struct sfu_state *s);
/* Slot record by bootname; NULL when absent. _ensure adds it (empty). */
struct sfu_state_slot *sfu_state_slot(struct sfu_state *s, const char *bootname);
struct sfu_state_slot *sfu_state_slot_ensure(struct sfu_state *s, const char *bootname);
/* Component record by name; NULL when absent. _ensure adds it (version
 * 0.0.0, timestamp 0), NULL when the table is full or name too long. */
struct sfu_state_component *sfu_state_component(struct sfu_state *s, const char *name);
struct sfu_state_component *sfu_state_component_ensure(struct sfu_state *s, const char *name);

int sfu_state_from_json(const char *buf, size_t len, struct sfu_state *ret, struct sfu_err *err) _wur_;
/* New string, pretty-printed, ending in a newline. */
int sfu_state_to_json(const struct sfu_state *s, char **ret) _wur_;

const char *sfu_state_install_name(enum sfu_install_state st);
const char *sfu_state_health_name(enum sfu_slot_health h);
const char *sfu_state_source_name(enum sfu_source src);
void sfu_state_set_error(struct sfu_state *s, const struct sfu_err *err);
