/* SPDX-License-Identifier: MIT */
/* io/fileio: new files that must not exist, streams, verified copies. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/digest.h"
#include "core/hex.h"
#include "io/fileio.h"
#include "tap.h"

static char *dir;

static char *path_of(const char *name) {
        char *p = NULL;

        if (asprintf(&p, "%s/%s", dir, name) < 0)
                abort();
        return p;
}

static void put_file(const char *path, const char *text) {
        FILE *f = fopen(path, "w");

        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                abort();
}

static mode_t mode_of(const char *path) {
        struct stat st;

        return lstat(path, &st) < 0 ? (mode_t) -1 : st.st_mode & 07777;
}

static void test_read_fd(void) {
        struct sfu_err err = SFU_ERR_INIT;
        char *buf = NULL, *big = calloc(1, 200001);
        size_t len = 0;
        int fds[2];

        /* A pipe: no size known in advance; more than the first buffer. */
        if (!big || pipe(fds) < 0)
                abort();
        memset(big, 'x', 200000);
        if (fork() == 0) {
                close(fds[0]);
                for (size_t off = 0; off < 200000;) {
                        ssize_t n = write(fds[1], big + off, 200000 - off);
                        if (n <= 0)
                                _exit(1);
                        off += (size_t) n;
                }
                _exit(0);
        }
        close(fds[1]);
        ok(sfu_file_read_fd(fds[0], "the pipe", 200000, &buf, &len, &err) == 0 && len == 200000 &&
           memcmp(buf, big, len) == 0 && buf[len] == 0, "read_fd: 200000 bytes from a pipe, NUL-terminated");
        close(fds[0]);
        free(buf);
        buf = NULL;

        if (pipe(fds) < 0 || write(fds[1], "12345", 5) != 5)
                abort();
        close(fds[1]);
        ok(sfu_file_read_fd(fds[0], "the pipe", 4, &buf, &len, &err) == -EFBIG && err.code == SFU_ERR_SIZE &&
           strstr(err.message, "the pipe") && !buf, "read_fd: one byte over the limit is refused, naming the input");
        close(fds[0]);
        sfu_err_clear(&err);

        if (pipe(fds) < 0)
                abort();
        close(fds[1]);
        ok(sfu_file_read_fd(fds[0], "empty", 4, &buf, &len, &err) == 0 && len == 0 && buf && buf[0] == 0,
           "read_fd: an empty stream is an empty string");
        close(fds[0]);
        free(buf);
        free(big);
}

static void test_create_new(void) {
        struct sfu_err err = SFU_ERR_INIT;
        char *key = path_of("new.key"), *link = path_of("link.key");
        mode_t old_umask = umask(0);
        char *buf = NULL;
        int fd = -1;

        umask(077);
        ok(sfu_file_create_new(key, 0644, &fd, &err) == 0 && mode_of(key) == 0644,
           "create_new: exactly the mode, whatever the umask (077)");
        ok(sfu_file_finish(fd, key, "secret\n", 7, 0600, &err) == 0 && mode_of(key) == 0600,
           "finish: data written, mode set, fd closed");
        ok(sfu_file_read(key, 100, 0, &buf, NULL, &err) == 0 && strcmp(buf, "secret\n") == 0, "finish: content");
        free(buf);
        ok(sfu_file_create_new(key, 0600, &fd, &err) == -EEXIST && strstr(err.message, "not overwriting"),
           "create_new: an existing file is never overwritten");
        sfu_err_clear(&err);
        if (symlink("nowhere", link) < 0)
                abort();
        ok(sfu_file_create_new(link, 0600, &fd, &err) == -EEXIST && mode_of(link) != (mode_t) -1 &&
           access(link, F_OK) < 0, "create_new: a dangling symbolic link counts as existing, nothing created behind it");
        sfu_err_clear(&err);
        umask(old_umask);
        free(key);
        free(link);
}

static void test_open_regular(void) {
        struct sfu_err err = SFU_ERR_INIT;
        char *fifo = path_of("fifo"), *file = path_of("regular");
        int fd = -1;

        put_file(file, "x");
        ok(sfu_file_open_regular(file, &fd, &err) == 0 && fd >= 0 && !(fcntl(fd, F_GETFL) & O_NONBLOCK),
           "open_regular: a regular file, blocking");
        close(fd);
        ok(sfu_file_open_regular(dir, &fd, &err) < 0 && strstr(err.message, "not a regular file"),
           "open_regular: a directory is refused");
        sfu_err_clear(&err);
        if (mkfifo(fifo, 0600) < 0)
                abort();
        ok(sfu_file_open_regular(fifo, &fd, &err) < 0 && strstr(err.message, "not a regular file"),
           "open_regular: a FIFO is refused without hanging");
        sfu_err_clear(&err);
        free(fifo);
        free(file);
}

static void test_copy_and_move(void) {
        static const char text[] = "abc";
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_digest_set *set = NULL;
        char *src = path_of("src"), *target = path_of("a/b/c/target"), *tmp = NULL, *buf = NULL;
        uint8_t value[SFU_DIGEST_MAX_SIZE];
        char hex[2 * SFU_DIGEST_MAX_SIZE + 1];
        uint64_t bytes = 0;
        int in = -1, out = -1;

        put_file(src, text);
        ok(sfu_file_create_temp(dir, &tmp, &out, &err) == 0 && strncmp(tmp, dir, strlen(dir)) == 0 &&
           mode_of(tmp) == 0600, "create_temp: a new 0600 file in the directory");
        if (sfu_digest_set_new(SFU_DIGEST_MASK(SFU_DIGEST_SHA256), &set) < 0 ||
            sfu_file_open_regular(src, &in, &err) < 0)
                abort();
        ok(sfu_file_copy(in, out, 3, set, &bytes) == 0 && bytes == 3, "copy: 3 bytes with a limit of 3");
        ok(sfu_digest_set_get(set, SFU_DIGEST_SHA256, value) == 0, "copy: the digest set is finalised");
        sfu_hex_encode(value, 32, hex);
        is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "copy: SHA-256 of \"abc\"");
        ok(sfu_file_finish(out, tmp, NULL, 0, 0644, &err) == 0 && mode_of(tmp) == 0644,
           "finish without data: mode and sync only");

        ok(sfu_file_move_into(tmp, target, &err) == 0 && access(tmp, F_OK) < 0 &&
           sfu_file_read(target, 10, 0, &buf, NULL, &err) == 0 && strcmp(buf, text) == 0,
           "move_into: missing directories created, the file moved");
        free(buf);
        ok(sfu_file_sync_parent(target) == 0, "sync_parent of the new file");

        if (lseek(in, 0, SEEK_SET) < 0 || (out = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
                abort();
        ok(sfu_file_copy(in, out, 2, NULL, &bytes) == -EFBIG, "copy: one byte over the limit is -EFBIG");
        close(in);
        close(out);
        sfu_digest_set_free(set);
        free(src);
        free(target);
        free(tmp);
}

int main(void) {
        dir = tap_mkdtemp();
        test_read_fd();
        test_create_new();
        test_open_regular();
        test_copy_and_move();
        return tap_done();
}
