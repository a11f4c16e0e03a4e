/* SPDX-License-Identifier: MIT */
/* The trust store in memory: a ring of distinct public keys, and loading
 * a directory of key files into it (strictly, or leniently for a device
 * that must keep working with whatever of its store still loads). */
#include <fcntl.h>
#include <sys/stat.h>

#include <openssl/err.h>

#include "core/key.h"
#include "core/key-internal.h"
#include "core/file.h"
#include "core/scope.h"

int sfu_keyring_new(struct sfu_keyring **ret) {
        struct sfu_keyring *ring = calloc(1, sizeof(*ring));
        if (!ring)
                return -ENOMEM;
        *ret = ring;
        return 0;
}

/* Whether key may join ring: room, strength, no duplicate. */
static int keyring_check_add(const struct sfu_keyring *ring, const struct sfu_key *key,
                             struct sfu_err *err) {
        if (ring->n_keys >= SFU_KEYRING_MAX)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "%s: the trust store holds at most %d keys",
                                   src_name(key->source), SFU_KEYRING_MAX);
        if (key->type == SFU_KEY_RSA && key->pkey && EVP_PKEY_get_bits(key->pkey) < SFU_RSA_MIN_BITS)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EKEYREJECTED,
                                   "%s: RSA key of %d bits is below the minimum of %d",
                                   src_name(key->source), EVP_PKEY_get_bits(key->pkey), SFU_RSA_MIN_BITS);
        for (size_t i = 0; i < ring->n_keys; i++) {
                const struct sfu_key *other = ring->keys[i];
                if (sfu_key_same(other, key))
                        return sfu_err_set(err, SFU_ERR_PARSE, EEXIST,
                                           "%s: the same public key is already in %s", src_name(key->source),
                                           src_name(other->source));
                if (strcmp(other->kid, key->kid) == 0)
                        return sfu_err_set(err, SFU_ERR_PARSE, EEXIST,
                                           "%s: kid \"%s\" is already used by %s", src_name(key->source),
                                           key->kid, src_name(other->source));
        }
        return 0;
}

int sfu_keyring_add(struct sfu_keyring *ring, struct sfu_key *key, struct sfu_err *err) {
        int r;

        if (!ring || !key || !(key->pkey || key->hss) || !key->kid)
                return -EINVAL;
        r = keyring_check_add(ring, key, err);
        if (r < 0)
                return r;
        ring->keys[ring->n_keys++] = key;
        return 0;
}

const struct sfu_key *sfu_keyring_find_kid(const struct sfu_keyring *ring, const char *kid) {
        if (!ring || !kid)
                return NULL;
        for (size_t i = 0; i < ring->n_keys; i++)
                if (sfu_streq(ring->keys[i]->kid, kid))
                        return ring->keys[i];
        return NULL;
}

static bool is_key_file_name(const char *name) {
        size_t len = strlen(name);
        if (name[0] == '.' || len < 5)
                return false;
        return strcmp(name + len - 4, ".pem") == 0 || strcmp(name + len - 4, ".jwk") == 0 ||
               strcmp(name + len - 4, ".hss") == 0;
}

static int compare_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* A directory is listed up to this many key files; a strict load refuses
 * more than SFU_KEYRING_MAX of them. */
#define KEY_DIR_MAX_FILES 1024

struct name_list {
        char *names[KEY_DIR_MAX_FILES];
        size_t n;
};
static void name_list_freep(struct name_list *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->names[i]);
}

/* A trusted key from the file open at fd: an HSS public key (*.hss), else
 * PEM or JWK. */
static int load_fd(int fd, const char *path, struct sfu_key **ret, struct sfu_err *err) {
        _cleanup_(secret_bufp) char *buf = NULL;
        size_t len = 0, n = strlen(path);
        int r = sfu_key_read_fd(fd, path, &buf, &len, err);

        if (r < 0)
                return r;
        if (n >= 4 && strcmp(path + n - 4, ".hss") == 0)
                return sfu_key_from_hss((const uint8_t *) buf, len, path, ret, err);
        return sfu_key_from_buffer(buf, len, path, false, ret, err);
}

static int attach_scope(int dfd, const char *dir, const char *key_name, struct sfu_key *key, struct sfu_err *err);

static int load_one(int dfd, const char *dir, const char *name, struct sfu_key **ret, struct sfu_err *err) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *path = NULL;
        _cleanup_key_ struct sfu_key *key = NULL;
        int r;

        if (asprintf(&path, "%s/%s", dir, name) < 0) {
                path = NULL;
                return -ENOMEM;
        }
        fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                int e = errno;
                return sfu_err_set(err, SFU_ERR_STORAGE, e, "cannot open key %s: %s", path, strerror(e));
        }
        r = load_fd(fd, path, &key, err);
        if (r >= 0)
                r = attach_scope(dfd, dir, name, key, err);
        if (r >= 0)
                *ret = TAKE_PTR(key);
        return r;
}

/* NAME.scope for the key file NAME.pem, NAME.jwk or NAME.hss, into buf. */
static int scope_name(const char *key_name, char *buf, size_t size) {
        size_t stem = strlen(key_name) - 4;
        int n = snprintf(buf, size, "%.*s.scope", (int) stem, key_name);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

/* A key's scope file, when there is one: a scope that does not parse
 * keeps the key out (it must never load with more power than meant). */
static int attach_scope(int dfd, const char *dir, const char *key_name, struct sfu_key *key, struct sfu_err *err) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *text = NULL;
        char name[NAME_MAX + 8], path[PATH_MAX];
        size_t len = 0;
        int r;

        if (scope_name(key_name, name, sizeof(name)) < 0)
                return -ENAMETOOLONG;
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0 && errno == ENOENT)
                return 0;
        if (fd < 0) {
                int e = errno;
                return sfu_err_set(err, SFU_ERR_STORAGE, e, "cannot open the scope %s: %s", path, strerror(e));
        }
        r = sfu_file_load_fd(fd, SFU_SCOPE_FILE_MAX, SFU_FILE_REGULAR | SFU_FILE_NO_NUL, &text, &len);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot read the scope %s: %s", path, strerror(-r));
        return sfu_scope_parse(text, len, path, &key->scope, err);
}

static bool ends_with(const char *s, const char *suffix) {
        size_t n = strlen(s), m = strlen(suffix);
        return n > m && strcmp(s + n - m, suffix) == 0;
}

/* A NAME.scope beside no key: a typo there would leave the key it meant
 * to limit with all powers, so it is an error, not an ignored file. */
static int check_orphan_scope(int dfd, const char *dir, const char *name, struct sfu_err *err) {
        static const char *const exts[] = { ".pem", ".jwk", ".hss" };
        size_t stem = strlen(name) - strlen(".scope");
        char key[NAME_MAX + 8];

        for (size_t i = 0; i < ELEMENTSOF(exts); i++) {
                snprintf(key, sizeof(key), "%.*s%s", (int) stem, name, exts[i]);
                if (faccessat(dfd, key, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                        return 0;
        }
        return sfu_err_set(err, SFU_ERR_PARSE, ENOENT, "%s/%s limits no key: there is no %.*s.pem, .jwk or .hss",
                           dir, name, (int) stem, name);
}

/* Sorted names of the key files in d. */
static int list_key_files(DIR *d, const char *dir, struct name_list *list, struct sfu_err *err) {
        int r;

        for (;;) {
                struct dirent *de;
                errno = 0;
                de = readdir(d);
                if (!de) {
                        r = errno;
                        if (r != 0)
                                return sfu_err_set(err, SFU_ERR_STORAGE, r,
                                                   "cannot read key directory %s: %s", dir, strerror(r));
                        break;
                }
                if (de->d_name[0] != '.' && ends_with(de->d_name, ".scope")) {
                        r = check_orphan_scope(dirfd(d), dir, de->d_name, err);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (!is_key_file_name(de->d_name))
                        continue;
                if (list->n >= KEY_DIR_MAX_FILES)
                        return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "%s holds more than %d key files", dir,
                                           KEY_DIR_MAX_FILES);
                list->names[list->n] = strdup(de->d_name);
                if (!list->names[list->n])
                        return -ENOMEM;
                list->n++;
        }
        qsort(list->names, list->n, sizeof(list->names[0]), compare_names);
        return 0;
}

/* Lenient: each file on its own; what cannot join the ring is told to
 * opts->skipped and left out. */
static int load_each(struct sfu_keyring *ring, DIR *d, const char *dir, const struct name_list *list,
                     const struct sfu_keyring_load_opts *opts) {
        for (size_t i = 0; i < list->n; i++) {
                _cleanup_key_ struct sfu_key *key = NULL;
                _cleanup_free_ char *path = NULL;
                struct sfu_err why = SFU_ERR_INIT;
                int r;

                if (asprintf(&path, "%s/%s", dir, list->names[i]) < 0) {
                        path = NULL;
                        return -ENOMEM;
                }
                r = load_one(dirfd(d), dir, list->names[i], &key, &why);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0 && opts->skip && opts->skip(opts->userdata, path, key))
                        continue;
                if (r >= 0)
                        r = sfu_keyring_add(ring, key, &why);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        opts->skipped(opts->userdata, path, &why);
                        continue;
                }
                TAKE_PTR(key);
        }
        return 0;
}

int sfu_keyring_load_dir_opts(struct sfu_keyring *ring, const char *dir, const struct sfu_keyring_load_opts *opts,
                              struct sfu_err *err) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_(name_list_freep) struct name_list list = {};
        _cleanup_keyring_ struct sfu_keyring *loaded = NULL;
        int fd, r;

        if (!ring || !dir)
                return -EINVAL;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                r = errno;
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot open key directory %s: %s", dir,
                                   strerror(r));
        }
        d = fdopendir(fd);
        if (!d) {
                r = errno;
                close(fd);
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot read key directory %s: %s", dir,
                                   strerror(r));
        }
        r = list_key_files(d, dir, &list, err);
        if (r < 0)
                return r;
        if (opts && opts->skipped)
                return load_each(ring, d, dir, &list, opts);
        if (list.n > SFU_KEYRING_MAX)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "%s holds more than %d key files", dir,
                                   SFU_KEYRING_MAX);

        /* All or nothing: load into a fresh ring, check every key against
         * ring, then move them over. */
        r = sfu_keyring_new(&loaded);
        if (r < 0)
                return r;
        for (size_t i = 0; i < list.n; i++) {
                _cleanup_key_ struct sfu_key *key = NULL;
                r = load_one(dirfd(d), dir, list.names[i], &key, err);
                if (r < 0)
                        return r;
                if (opts && opts->skip && opts->skip(opts->userdata, key->source, key))
                        continue;
                r = sfu_keyring_add(loaded, key, err);
                if (r < 0)
                        return r;
                TAKE_PTR(key);
        }
        if (ring->n_keys + loaded->n_keys > SFU_KEYRING_MAX)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "%s: the trust store holds at most %d keys",
                                   dir, SFU_KEYRING_MAX);
        for (size_t i = 0; i < loaded->n_keys; i++) {
                r = keyring_check_add(ring, loaded->keys[i], err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < loaded->n_keys; i++)
                ring->keys[ring->n_keys++] = TAKE_PTR(loaded->keys[i]);
        loaded->n_keys = 0;
        return 0;
}

int sfu_keyring_load_dir(struct sfu_keyring *ring, const char *dir, struct sfu_err *err) {
        return sfu_keyring_load_dir_opts(ring, dir, NULL, err);
}

/* The key of ring that is key: the same kid or the same public key. */
const struct sfu_key *sfu_keyring_find_key(const struct sfu_keyring *ring, const struct sfu_key *key) {
        for (size_t i = 0; ring && key && i < ring->n_keys; i++)
                if (sfu_key_same(ring->keys[i], key) || strcmp(ring->keys[i]->kid, key->kid) == 0)
                        return ring->keys[i];
        return NULL;
}

void sfu_keyring_free(struct sfu_keyring *ring) {
        if (!ring)
                return;
        for (size_t i = 0; i < ring->n_keys; i++)
                sfu_key_free(ring->keys[i]);
        free(ring);
}

int sfu_keyring_load_path(struct sfu_keyring *ring, const char *path, struct sfu_err *err) {
        _cleanup_key_ struct sfu_key *key = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
                return sfu_keyring_load_dir(ring, path, err);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                int e = errno;
                return sfu_err_set(err, SFU_ERR_STORAGE, e, "cannot open key %s: %s", path, strerror(e));
        }
        r = load_fd(fd, path, &key, err);
        if (r >= 0)
                r = sfu_keyring_add(ring, key, err);
        if (r >= 0)
                key = NULL; /* the ring owns it now */
        return r;
}
