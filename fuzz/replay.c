/* SPDX-License-Identifier: MIT */
/* Feeds files (or every file of directories) to a fuzz target's
 * LLVMFuzzerTestOneInput, so that `make check` replays each corpus with
 * the normal compiler and the sanitizer build, without libFuzzer. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (16u * 1024u * 1024u)

static int replay_file(const char *path) {
        FILE *f = fopen(path, "rbe");
        uint8_t *buf;
        size_t len;

        if (!f) {
                fprintf(stderr, "cannot open %s\n", path);
                return -1;
        }
        buf = malloc(REPLAY_MAX_INPUT);
        if (!buf) {
                fclose(f);
                return -1;
        }
        len = fread(buf, 1, REPLAY_MAX_INPUT, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        return 0;
}

static int replay_path(const char *path, unsigned *count) {
        struct stat st;
        if (stat(path, &st) < 0) {
                fprintf(stderr, "cannot stat %s\n", path);
                return -1;
        }
        if (!S_ISDIR(st.st_mode)) {
                (*count)++;
                return replay_file(path);
        }
        struct dirent **names;
        int n = scandir(path, &names, NULL, alphasort), r = 0;
        if (n < 0)
                return -1;
        for (int i = 0; i < n; i++) {
                if (names[i]->d_name[0] != '.') {
                        char child[4096];
                        snprintf(child, sizeof(child), "%s/%s", path, names[i]->d_name);
                        if (replay_path(child, count) < 0)
                                r = -1;
                }
                free(names[i]);
        }
        free(names);
        return r;
}

int main(int argc, char **argv) {
        unsigned count = 0;
        int r = 0;
        for (int i = 1; i < argc; i++)
                if (replay_path(argv[i], &count) < 0)
                        r = 1;
        printf("replayed %u inputs\n", count);
        return r;
}
