/* SPDX-License-Identifier: MIT */
/* Which slot booted: a key of the kernel command line (cmdline:KEY, the
 * shipped boot scripts pass secfu.slot=) or a file (file:/PATH). */
#include "io/bootloader.h"
#include "io/fileio.h"

/* A small text file (the kernel command line, a booted-slot file) through
 * the one capped reader; a NUL byte in it is refused. */
static int read_small_file(const char *path, size_t max, char **ret, struct sfu_err *err) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        r = sfu_file_read(path, max, 0, &buf, &len, err);
        if (r == -ENOENT)
                return sfu_err_set(err, SFU_ERR_STATE, ENOENT, "%s does not exist", path);
        if (r < 0)
                return r;
        if (memchr(buf, 0, len))
                return sfu_err_set(err, SFU_ERR_STATE, EBADMSG, "%s contains a NUL byte", path);
        *ret = TAKE_PTR(buf);
        return 0;
}

static int booted_from_cmdline(const char *key, const char *path, char **ret, struct sfu_err *err) {
        _cleanup_free_ char *cmdline = NULL, *found = NULL;
        size_t key_len = strlen(key);
        int r;

        r = read_small_file(path, SFU_BOOTLOADER_CMDLINE_MAX, &cmdline, err);
        if (r < 0)
                return r;
        for (const char *p = cmdline; *p;) {
                _cleanup_free_ char *word = NULL;
                bool quoted = false;
                size_t len = 0;

                p += strspn(p, " \t\n");
                if (!*p)
                        break;
                word = malloc(strlen(p) + 1);
                if (!word)
                        return -ENOMEM;
                /* the kernel's rule: whitespace outside double quotes ends a word;
                 * the quotes themselves are not part of it */
                for (; *p && (quoted || !strchr(" \t\n", *p)); p++) {
                        if (*p == '"')
                                quoted = !quoted;
                        else
                                word[len++] = *p;
                }
                word[len] = 0;
                if (len > key_len && strncmp(word, key, key_len) == 0 && word[key_len] == '=') {
                        free(found);
                        found = strdup(word + key_len + 1);
                        if (!found)
                                return -ENOMEM;
                }
        }
        if (!found)
                return sfu_err_set(err, SFU_ERR_STATE, ENOENT,
                                   "the kernel command line (%s) has no %s=", path, key);
        if (!sfu_bootloader_bootname_valid(found))
                return sfu_err_set(err, SFU_ERR_STATE, EBADMSG,
                                   "the kernel command line sets %s to '%.32s', not a valid bootname", key,
                                   found);
        *ret = TAKE_PTR(found);
        return 0;
}

static int booted_from_file(const char *path, char **ret, struct sfu_err *err) {
        _cleanup_free_ char *content = NULL;
        size_t len;
        int r;

        r = read_small_file(path, SFU_BOOTLOADER_BOOTED_FILE_MAX, &content, err);
        if (r < 0)
                return r;
        len = strcspn(content, "\n");
        content[len] = 0;
        while (len > 0 && (content[len - 1] == ' ' || content[len - 1] == '\t' || content[len - 1] == '\r'))
                content[--len] = 0;
        if (!sfu_bootloader_bootname_valid(content))
                return sfu_err_set(err, SFU_ERR_STATE, EBADMSG, "%s holds '%.32s', not a valid bootname",
                                   path, content);
        *ret = TAKE_PTR(content);
        return 0;
}

int sfu_bootloader_booted_slot(const char *spec, const char *proc_cmdline_path, char **ret,
                               struct sfu_err *err) {
        if (!spec)
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL, "no booted-slot source configured");
        if (strncmp(spec, "cmdline:", 8) == 0 && spec[8] && !strpbrk(spec + 8, " \t\n=\""))
                return booted_from_cmdline(spec + 8, proc_cmdline_path ? proc_cmdline_path : "/proc/cmdline",
                                           ret, err);
        if (strncmp(spec, "file:", 5) == 0 && spec[5] == '/')
                return booted_from_file(spec + 5, ret, err);
        return sfu_err_set(err, SFU_ERR_STATE, EINVAL,
                           "booted-slot '%.64s' is neither cmdline:KEY nor file:/ABSOLUTE/PATH", spec);
}
