/* SPDX-License-Identifier: MIT */
/* Feeds files to sfu_json_parse_object() for tests/unit/jsontestsuite.sh.
 *
 *   json-check FILE...
 *
 * prints one line per file, fields separated by tabs:
 *
 *   FILE <TAB> accept|refuse <TAB> reason <TAB> accept|refuse <TAB> reason
 *
 * The first verdict is for the file as it stands, the second for the file
 * wrapped as the value of a member, {"v":FILE}, which lets a suite file
 * whose top level is not an object still show that the parser takes its
 * value.  Reasons have control characters replaced, so a line stays one
 * line.  Exit status: 0 when every file was accepted as it stands, 1 when
 * any was refused, 2 on a usage or I/O error; a crash is anything else. */
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

#include "core/json.h"

#define JSON_CHECK_MAX_FILE (16u * 1024u * 1024u)

static const char wrap_head[] = "{\"v\":";
static const char wrap_tail[] = "}";

static int read_file(const char *path, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || (uint64_t) st.st_size > JSON_CHECK_MAX_FILE)
                return -EFBIG;
        /* room for the wrapper around the content */
        buf = malloc((size_t) st.st_size + sizeof(wrap_head) + sizeof(wrap_tail) + 1);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, wrap_head, sizeof(wrap_head) - 1);
        while (len < (size_t) st.st_size) {
                ssize_t got = read(fd, buf + sizeof(wrap_head) - 1 + len, (size_t) st.st_size - len);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0)
                        return -errno;
                if (got == 0)
                        break;
                len += (size_t) got;
        }
        memcpy(buf + sizeof(wrap_head) - 1 + len, wrap_tail, sizeof(wrap_tail));
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

static void print_clean(const char *s) {
        for (; *s; s++)
                putchar((unsigned char) *s < 0x20 || *s == 0x7f ? '?' : *s);
}

/* Parses buf[0..len), prints the verdict and returns true on accept. */
static bool check(const char *buf, size_t len) {
        struct sfu_err err = SFU_ERR_INIT;
        _cleanup_json_ json_t *j = NULL;
        int r;

        r = sfu_json_parse_object(buf, len, JSON_CHECK_MAX_FILE + 64, &j, &err);
        if (r >= 0) {
                fputs("accept\t", stdout);
                return true;
        }
        fputs("refuse\t", stdout);
        print_clean(err.message);
        return false;
}

int main(int argc, char **argv) {
        bool all_accepted = true;

        if (argc < 2) {
                fprintf(stderr, "usage: %s FILE...\n", argv[0]);
                return 2;
        }
        for (int i = 1; i < argc; i++) {
                _cleanup_free_ char *buf = NULL;
                size_t len = 0;
                int r;

                r = read_file(argv[i], &buf, &len);
                if (r < 0) {
                        fprintf(stderr, "%s: %s\n", argv[i], strerror(-r));
                        return 2;
                }
                print_clean(argv[i]);
                putchar('\t');
                if (!check(buf + sizeof(wrap_head) - 1, len))
                        all_accepted = false;
                putchar('\t');
                check(buf, len + sizeof(wrap_head) - 1 + sizeof(wrap_tail) - 1);
                putchar('\n');
                fflush(stdout);
        }
        return all_accepted ? 0 : 1;
}
