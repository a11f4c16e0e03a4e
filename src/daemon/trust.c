/* SPDX-License-Identifier: MIT */
/* The trust store on disk:
 *   keys (config [security] keys)   the factory keys, read-only
 *   STATE/keys/THUMBPRINT.jwk       keys announced by verified manifests
 *   STATE/revoked-kids              kids revoked by verified manifests, one a line
 * It must stay loadable after any sequence of signed rotations, so loading
 * is lenient (a file that does not load, a key trusted twice, a key beyond
 * the ring's limit are reported and skipped; a revoked key never counts)
 * and a rotation never writes what loading would refuse.  A rotation writes
 * in an order that a crash at any point leaves consistent: new key files,
 * then the revoked list, then the revoked keys' files go. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <openssl/err.h>

#include "core/json.h"
#include "daemon/log.h"
#include "daemon/trust.h"
#include "io/fault.h"
#include "io/fileio.h"

#define ROTATED_KEYS_DIR "keys"
#define REVOKED_FILE "revoked-kids"
#define REVOKED_MAX (64u * 1024u)

struct revoked {
        char *text;                     /* "kid\n" lines; NULL: none */
        size_t len;
};

static void revoked_clear(struct revoked *r) {
        free(r->text);
        *r = (struct revoked) {};
}

static bool revoked_has(const struct revoked *revoked, const char *kid) {
        size_t n = strlen(kid);
        for (const char *p = revoked->text; p && *p;) {
                const char *eol = strchrnul(p, '\n');
                if ((size_t) (eol - p) == n && strncmp(p, kid, n) == 0)
                        return true;
                p = *eol ? eol + 1 : eol;
        }
        return false;
}

static int path_in_state(const struct sfu_config *config, const char *name, char *buf, size_t size) {
        int n = snprintf(buf, size, "%s/%s", config->state_dir, name);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

/* An unreadable list fails closed: revoked keys must not come back. */
static int read_revoked(const struct sfu_config *config, struct revoked *ret, struct sfu_err *err) {
        char path[4096];
        int r = path_in_state(config, REVOKED_FILE, path, sizeof(path));

        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "state-dir path too long");
        r = sfu_file_read(path, REVOKED_MAX, SFU_READ_NOFOLLOW, &ret->text, &ret->len, err);
        return r == -ENOENT ? 0 : r;
}

struct loading {
        const struct revoked *revoked;
        const char *what;               /* "factory" | "rotated" */
};

static bool skip_revoked(void *userdata, const char *path, const struct sfu_key *key) {
        struct loading *l = userdata;
        if (!revoked_has(l->revoked, key->kid))
                return false;
        log_debug("trust store: %s key %s (%s) is revoked", l->what, key->kid, path);
        return true;
}

static void report_skipped(void *userdata, const char *path, const struct sfu_err *why) {
        struct loading *l = userdata;
        if (why->errnum == EEXIST)
                log_debug("trust store: %s key %s is trusted already: %s", l->what, path, why->message);
        else
                log_warning("trust store: skipping %s key %s: %s", l->what, path, why->message);
}

static int load_dir(struct sfu_keyring *ring, const char *dir, struct loading *l, struct sfu_err *err) {
        const struct sfu_keyring_load_opts opts = { .skip = skip_revoked, .skipped = report_skipped, .userdata = l };
        return sfu_keyring_load_dir_opts(ring, dir, &opts, err);
}

int sfu_trust_load(const struct sfu_config *config, struct sfu_keyring **ret, struct sfu_err *err) {
        _cleanup_keyring_ struct sfu_keyring *ring = NULL;
        struct revoked revoked = {};
        char path[4096];
        struct stat st;
        int r;

        r = read_revoked(config, &revoked, err);
        if (r >= 0)
                r = sfu_keyring_new(&ring);
        if (r >= 0)
                r = load_dir(ring, config->keys, &(struct loading) { &revoked, "factory" }, err);
        if (r >= 0 && path_in_state(config, ROTATED_KEYS_DIR, path, sizeof(path)) >= 0 && stat(path, &st) == 0)
                r = load_dir(ring, path, &(struct loading) { &revoked, "rotated" }, err);
        revoked_clear(&revoked);
        if (r < 0)
                return r;
        if (ring->n_keys == 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, ENOKEY, "no trusted keys in %s", config->keys);
        *ret = TAKE_PTR(ring);
        return 0;
}

/* ---------------------------------------------------------------- rotation */

static int key_file_path(const char *dir, const struct sfu_key *key, char *buf, size_t size) {
        _cleanup_free_ char *thumbprint = NULL;
        int r = sfu_key_thumbprint(key, &thumbprint);

        /* The thumbprint names the public key: base64url, safe in a file
         * name, and one file per key whatever kid it carries. */
        if (r < 0)
                return r;
        r = snprintf(buf, size, "%s/%s.jwk", dir, thumbprint);
        return r < 0 || (size_t) r >= size ? -ENAMETOOLONG : 0;
}

static int announce(const char *dir, struct sfu_keyring *ring, json_t *jwk, struct sfu_err *err) {
        _cleanup_key_ struct sfu_key *key = NULL;
        _cleanup_json_ json_t *public_jwk = NULL;
        _cleanup_free_ char *text = NULL;
        struct sfu_err why = SFU_ERR_INIT;
        char path[4200];
        int r;

        r = sfu_key_from_jwk(jwk, "keyInfo", false, &key, &why);
        if (r >= 0) {
                const struct sfu_key *known = sfu_keyring_find_key(ring, key);
                if (known && strcmp(known->kid, key->kid) == 0 && EVP_PKEY_eq(known->pkey, key->pkey) == 1) {
                        log_info("key rotation: key %s is trusted already", key->kid);
                        return 0;
                }
                if (known)
                        r = sfu_err_set(&why, SFU_ERR_SIGNATURE, EEXIST,
                                        "key %s collides with the trusted key %s (same kid or same public key)",
                                        key->kid, known->kid);
        }
        if (r >= 0 && ring->n_keys >= SFU_KEYRING_MAX)
                r = sfu_err_set(&why, SFU_ERR_SIZE, E2BIG, "the trust store holds its maximum of %d keys",
                                SFU_KEYRING_MAX);
        if (r >= 0)
                r = sfu_key_to_jwk(key, &public_jwk);
        if (r >= 0) {
                text = json_dumps(public_jwk, JSON_COMPACT | JSON_SORT_KEYS);
                r = text ? key_file_path(dir, key, path, sizeof(path)) : -ENOMEM;
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                /* Loading would refuse it: never written, so it never
                 * stands in the way of a later update. */
                log_warning("key rotation: not trusting an announced key: %s",
                            why.message[0] ? why.message : strerror(-r));
                return 0;
        }
        r = SFU_FAULT("trust-key-saving");
        if (r >= 0)
                r = sfu_file_write_atomic(path, text, strlen(text), 0644, err);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot save key %s", key->kid);
        r = SFU_FAULT("trust-key-saved");
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "fault injected after saving a key");
        log_notice("key rotation: trusting new key %s", key->kid);
        r = sfu_keyring_add(ring, key, err);
        if (r < 0)
                return r;
        TAKE_PTR(key);
        return 0;
}

/* Keys of ring that would remain with the kids of man's revokedKeys and
 * those already revoked gone. */
static size_t remaining_after(const struct sfu_keyring *ring, const struct sfu_manifest *man) {
        size_t n = 0;
        for (size_t i = 0; i < ring->n_keys; i++) {
                bool gone = false;
                for (size_t k = 0; k < man->n_revoked_kids; k++)
                        if (strcmp(ring->keys[i]->kid, man->revoked_kids[k]) == 0)
                                gone = true;
                n += !gone;
        }
        return n;
}

static int save_revoked(const struct sfu_config *config, const struct revoked *old, const struct sfu_manifest *man,
                        struct sfu_err *err) {
        _cleanup_free_ char *joined = NULL;
        char path[4096];
        size_t cap = old->len + 1, len = old->len;
        bool changed = false;
        int r;

        for (size_t i = 0; i < man->n_revoked_kids; i++)
                cap += strlen(man->revoked_kids[i]) + 1;
        if (cap > REVOKED_MAX)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "the list of revoked keys would exceed %u bytes",
                                   REVOKED_MAX);
        joined = calloc(1, cap);
        if (!joined)
                return -ENOMEM;
        if (old->text)
                memcpy(joined, old->text, old->len);
        for (size_t i = 0; i < man->n_revoked_kids; i++) {
                struct revoked so_far = { joined, len };
                if (revoked_has(&so_far, man->revoked_kids[i]))
                        continue;
                len += (size_t) sprintf(joined + len, "%s\n", man->revoked_kids[i]);
                changed = true;
                log_notice("key rotation: key %s revoked", man->revoked_kids[i]);
        }
        if (!changed)
                return 0;
        r = path_in_state(config, REVOKED_FILE, path, sizeof(path));
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "state-dir path too long");
        r = sfu_file_write_atomic(path, joined, len, 0644, err);
        if (r < 0)
                return r;
        r = SFU_FAULT("trust-revoked-saved");
        return r < 0 ? sfu_err_set(err, SFU_ERR_STORAGE, -r, "fault injected after saving the revocations") : 0;
}

/* The files of rotated keys that are revoked go: they would never count. */
static int remove_revoked_files(const char *dir, const struct revoked *revoked, struct sfu_err *err) {
        _cleanup_keyring_ struct sfu_keyring *ring = NULL;
        struct loading l = { revoked, "rotated" };
        const struct sfu_keyring_load_opts opts = { .skipped = report_skipped, .userdata = &l };
        const char *any_removed = NULL;
        int r;

        r = sfu_keyring_new(&ring);
        if (r >= 0)
                r = sfu_keyring_load_dir_opts(ring, dir, &opts, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ring->n_keys; i++) {
                if (!revoked_has(revoked, ring->keys[i]->kid))
                        continue;
                if (unlink(ring->keys[i]->source) < 0 && errno != ENOENT)
                        return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot remove %s: %s", ring->keys[i]->source,
                                           strerror(errno));
                any_removed = ring->keys[i]->source;
                r = SFU_FAULT("trust-key-removed");
                if (r < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, -r, "fault injected after removing a key");
        }
        if (any_removed && (r = sfu_file_sync_parent(any_removed)) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot sync %s: %s", dir, strerror(-r));
        return 0;
}

int sfu_trust_rotate(const struct sfu_config *config, struct sfu_keyring *ring, const struct sfu_manifest *man,
                     struct sfu_err *err) {
        struct revoked revoked = {};
        char dir[4096];
        int r;

        if (!man->new_keys && man->n_revoked_kids == 0)
                return 0;
        r = path_in_state(config, ROTATED_KEYS_DIR, dir, sizeof(dir));
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "state-dir path too long");
        r = sfu_mkdir_p(dir, 0700);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot create %s", dir);
        for (size_t i = 0; man->new_keys && i < json_array_size(man->new_keys); i++) {
                r = announce(dir, ring, json_array_get(man->new_keys, i), err);
                if (r < 0)
                        return r;
        }
        if (man->n_revoked_kids == 0)
                return 0;
        /* A rotation that would leave fewer keys than a manifest needs
         * would stop every later update: refused as a whole. */
        if (remaining_after(ring, man) < (config->min_signatures ? config->min_signatures : 1)) {
                log_warning("key rotation: not revoking %zu key(s): fewer than min-signatures (%u) trusted keys "
                            "would remain",
                            man->n_revoked_kids, config->min_signatures);
                return 0;
        }
        r = read_revoked(config, &revoked, err);
        if (r >= 0)
                r = save_revoked(config, &revoked, man, err);
        revoked_clear(&revoked);
        if (r >= 0)
                r = read_revoked(config, &revoked, err);
        if (r >= 0)
                r = remove_revoked_files(dir, &revoked, err);
        revoked_clear(&revoked);
        return r;
}
