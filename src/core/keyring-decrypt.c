/* SPDX-License-Identifier: MIT */
/* A device's decryption keys (doc/encryption.md, "Decryption keys on the
 * device"): a directory only its owner may enter, of private key files
 * only their owner may read, loaded as key-management (ENC) keys. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "core/key.h"
#include "core/key-internal.h"

/* A directory holds at most this many entries worth looking at. */
#define DECRYPT_DIR_MAX_FILES 256

static bool is_key_name(const char *name) {
        size_t len = strlen(name);
        return name[0] != '.' && len > 4 &&
               (strcmp(name + len - 4, ".pem") == 0 || strcmp(name + len - 4, ".jwk") == 0);
}

static int compare(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

struct names {
        char *v[DECRYPT_DIR_MAX_FILES];
        size_t n;
};
static void names_freep(struct names *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
}

/* Owned by uid, nothing for group and others. */
static int check_private(const struct stat *st, uid_t uid, const char *path, bool dir, struct sfu_err *err) {
        if (st->st_uid != uid)
                return sfu_err_set(err, SFU_ERR_STORAGE, EPERM, "%s is owned by uid %u, not %u: decryption keys must be the daemon's own",
                                   path, (unsigned) st->st_uid, (unsigned) uid);
        if (st->st_mode & 077)
                return sfu_err_set(err, SFU_ERR_STORAGE, EPERM, "%s has mode %04o; it must be %s or stricter", path,
                                   (unsigned) (st->st_mode & 07777), dir ? "0700" : "0600");
        return 0;
}

static int load_file(int dfd, const char *dir, const char *name, uid_t uid, struct sfu_key **ret, struct sfu_err *err) {
        _cleanup_close_ int fd = -1;
        _cleanup_(secret_bufp) char *buf = NULL;
        char path[PATH_MAX];
        struct stat st;
        size_t len = 0;
        int r;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0) {
                r = errno;
                if (r == ELOOP)
                        return sfu_err_set(err, SFU_ERR_STORAGE, r, "%s is a symbolic link; decryption keys must be files",
                                           path);
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot open %s: %s", path, strerror(r));
        }
        if (fstat(fd, &st) < 0) {
                r = errno;
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot stat %s: %s", path, strerror(r));
        }
        if (!S_ISREG(st.st_mode))
                return sfu_err_set(err, SFU_ERR_STORAGE, EINVAL, "%s is not a regular file", path);
        r = check_private(&st, uid, path, false, err);
        if (r < 0)
                return r;
        r = sfu_key_read_fd(fd, path, &buf, &len, err);
        if (r < 0)
                return r;
        return sfu_key_from_buffer_for(buf, len, path, SFU_KEY_USE_ENC, true, ret, err);
}

int sfu_keyring_load_decryption_dir(struct sfu_keyring *ring, const char *dir, struct sfu_err *err) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_(names_freep) struct names list = {};
        _cleanup_keyring_ struct sfu_keyring *loaded = NULL;
        uid_t uid = geteuid();
        struct stat st;
        int fd, r;

        if (!ring || !dir)
                return -EINVAL;
        /* O_NOFOLLOW keeps a link swapped in later out; lstat names it. */
        if (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
                return sfu_err_set(err, SFU_ERR_STORAGE, ELOOP,
                                   "cannot open the decryption key directory %s: it is a symbolic link", dir);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                r = errno;
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot open the decryption key directory %s: %s", dir,
                                   r == ELOOP ? "it is a symbolic link" : strerror(r));
        }
        d = fdopendir(fd);
        if (!d) {
                r = errno;
                close(fd);
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot read %s: %s", dir, strerror(r));
        }
        if (fstat(dirfd(d), &st) < 0) {
                r = errno;
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot stat %s: %s", dir, strerror(r));
        }
        r = check_private(&st, uid, dir, true, err);
        if (r < 0)
                return r;

        for (;;) {
                struct dirent *de;
                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno)
                                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot read %s: %s", dir, strerror(errno));
                        break;
                }
                if (!is_key_name(de->d_name))
                        continue;
                if (list.n >= ELEMENTSOF(list.v) || list.n >= SFU_KEYRING_MAX)
                        return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "%s holds more than %d key files", dir,
                                           SFU_KEYRING_MAX);
                list.v[list.n] = strdup(de->d_name);
                if (!list.v[list.n])
                        return -ENOMEM;
                list.n++;
        }
        qsort(list.v, list.n, sizeof(list.v[0]), compare);

        /* All or nothing. */
        r = sfu_keyring_new(&loaded);
        if (r < 0)
                return r;
        for (size_t i = 0; i < list.n; i++) {
                struct sfu_key *key = NULL;
                r = load_file(dirfd(d), dir, list.v[i], uid, &key, err);
                if (r < 0)
                        return r;
                r = sfu_keyring_add(loaded, key, err);
                if (r < 0) {
                        sfu_key_free(key);
                        return r;
                }
        }
        if (ring->n_keys + loaded->n_keys > SFU_KEYRING_MAX)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "%s: at most %d decryption keys", dir, SFU_KEYRING_MAX);
        for (size_t i = 0; i < loaded->n_keys; i++)
                if (sfu_keyring_find_key(ring, loaded->keys[i]))
                        return sfu_err_set(err, SFU_ERR_PARSE, EEXIST, "%s: the ring holds this key already",
                                           loaded->keys[i]->source);
        for (size_t i = 0; i < loaded->n_keys; i++)
                ring->keys[ring->n_keys++] = TAKE_PTR(loaded->keys[i]);
        loaded->n_keys = 0;
        return 0;
}
