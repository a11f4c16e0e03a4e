/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <sys/stat.h>

#include "core/json.h"
#include "daemon/log.h"
#include "daemon/trust.h"
#include "io/fileio.h"

#define ROTATED_KEYS_DIR "keys"
#define REVOKED_FILE "revoked-kids"
#define REVOKED_MAX (64u * 1024u)

static bool kid_revoked(const char *revoked, const char *kid) {
        size_t n = strlen(kid);
        for (const char *p = revoked; p && *p;) {
                const char *eol = strchrnul(p, '\n');
                if ((size_t) (eol - p) == n && strncmp(p, kid, n) == 0)
                        return true;
                p = *eol ? eol + 1 : eol;
        }
        return false;
}

int sfu_trust_load(const struct sfu_config *config, struct sfu_keyring **ret, struct sfu_err *err) {
        _cleanup_keyring_ struct sfu_keyring *ring = NULL;
        _cleanup_free_ char *revoked = NULL;
        char path[4096];
        struct stat st;
        size_t len;
        int r;

        r = sfu_keyring_new(&ring);
        if (r < 0)
                return r;
        r = sfu_keyring_load_dir(ring, config->keys, err);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "%s/%s", config->state_dir, ROTATED_KEYS_DIR);
        if (stat(path, &st) == 0) {
                r = sfu_keyring_load_dir(ring, path, err);
                if (r < 0)
                        return r;
        }
        snprintf(path, sizeof(path), "%s/%s", config->state_dir, REVOKED_FILE);
        r = sfu_file_read(path, REVOKED_MAX, SFU_READ_NOFOLLOW, &revoked, &len, err);
        if (r < 0 && r != -ENOENT)
                return r;
        if (revoked) {
                size_t kept = 0;
                for (size_t i = 0; i < ring->n_keys; i++) {
                        if (kid_revoked(revoked, ring->keys[i]->kid))
                                sfu_key_free(ring->keys[i]);
                        else
                                ring->keys[kept++] = ring->keys[i];
                }
                ring->n_keys = kept;
        }
        if (ring->n_keys == 0)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, ENOKEY, "no trusted keys in %s", config->keys);
        *ret = TAKE_PTR(ring);
        return 0;
}

int sfu_trust_rotate(const struct sfu_config *config, const struct sfu_manifest *man, struct sfu_err *err) {
        char dir[4096], path[4200];
        int r;

        if (!man->new_keys && man->n_revoked_kids == 0)
                return 0;
        snprintf(dir, sizeof(dir), "%s/%s", config->state_dir, ROTATED_KEYS_DIR);
        r = sfu_mkdir_p(dir, 0700);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot create %s", dir);
        for (size_t i = 0; man->new_keys && i < json_array_size(man->new_keys); i++) {
                _cleanup_key_ struct sfu_key *key = NULL;
                _cleanup_json_ json_t *jwk = NULL;
                _cleanup_free_ char *text = NULL;
                r = sfu_key_from_jwk(json_array_get(man->new_keys, i), "keyInfo", false, &key, err);
                if (r < 0)
                        return r;
                r = sfu_key_to_jwk(key, &jwk);
                if (r < 0)
                        return r;
                text = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS);
                if (!text)
                        return -ENOMEM;
                /* kid is a thumbprint or the JWK's own kid: keep only safe characters in the file name. */
                char name[128];
                size_t n = 0;
                for (const char *p = key->kid; *p && n < sizeof(name) - 1; p++)
                        name[n++] = (isalnum((unsigned char) *p) || *p == '-' || *p == '_') ? *p : '_';
                name[n] = 0;
                snprintf(path, sizeof(path), "%s/%s.jwk", dir, name);
                r = sfu_file_write_atomic(path, text, strlen(text), 0644, err);
                if (r < 0)
                        return r;
                log_notice("key rotation: trusting new key %s", key->kid);
        }
        if (man->n_revoked_kids > 0) {
                _cleanup_free_ char *old = NULL, *joined = NULL;
                size_t len = 0;
                snprintf(path, sizeof(path), "%s/%s", config->state_dir, REVOKED_FILE);
                r = sfu_file_read(path, REVOKED_MAX, SFU_READ_NOFOLLOW, &old, &len, err);
                if (r < 0 && r != -ENOENT)
                        return r;
                size_t cap = len + 1;
                for (size_t i = 0; i < man->n_revoked_kids; i++)
                        cap += strlen(man->revoked_kids[i]) + 1;
                joined = calloc(1, cap);
                if (!joined)
                        return -ENOMEM;
                if (old)
                        strcpy(joined, old);
                for (size_t i = 0; i < man->n_revoked_kids; i++)
                        if (!old || !kid_revoked(old, man->revoked_kids[i])) {
                                strcat(joined, man->revoked_kids[i]);
                                strcat(joined, "\n");
                                log_notice("key rotation: key %s revoked", man->revoked_kids[i]);
                        }
                r = sfu_file_write_atomic(path, joined, strlen(joined), 0644, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

