/* SPDX-License-Identifier: MIT */
/* secfu-manifest: the manufacturer's tool.  It makes keys and writes,
 * signs, verifies, shows and publishes manifests (DESIGN section 1).
 * Everything that decides whether a key, a JWS or a manifest is valid lives
 * in src/core; this file parses options, reads and writes files and
 * prints.
 *
 * Exit status: 0 success, 1 failure (one line "secfu-manifest: CMD: reason"
 * on stderr), 2 usage error. */

#include <ctype.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "io/fileio.h"
#include "core/digest.h"
#include "core/err.h"
#include "core/hex.h"
#include "core/json.h"
#include "core/jws.h"
#include "core/sig.h"
#include "core/key.h"
#include "core/manifest.h"
#include "core/timeutil.h"
#include "core/version.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define PROG "secfu-manifest"
#define EXIT_USAGE 2

#define IO_BLOCK_SIZE (1024u * 1024u)           /* image read / copy block */
#define INSPECT_TEXT_MAX 4096u                  /* bytes of a non-JSON payload shown */
#define CREATE_MAX_IMAGES SFU_MANIFEST_MAX_IMAGES
#define VERIFY_MAX_KEY_ARGS SFU_KEYRING_MAX
#define PUBLISH_MAX_IMAGE_ARGS SFU_MANIFEST_MAX_IMAGES

/* ------------------------------------------------------------ messages */

/* Prints msg without control characters, so that one reason stays one
 * line whatever a file or a peer put into it. */
static void put_sanitized(FILE *f, const char *msg) {
        for (const char *p = msg; *p; p++)
                fputc(iscntrl((unsigned char) *p) ? '?' : *p, f);
}

_printf_(2, 0) static void vreport(const char *cmd, const char *fmt, va_list ap) {
        char msg[SFU_ERR_MESSAGE_MAX + 256];

        vsnprintf(msg, sizeof(msg), fmt, ap);
        fputs(PROG ": ", stderr);
        if (cmd)
                fprintf(stderr, "%s: ", cmd);
        put_sanitized(stderr, msg);
        fputc('\n', stderr);
}

_printf_(2, 3) static int failf(const char *cmd, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vreport(cmd, fmt, ap);
        va_end(ap);
        return EXIT_FAILURE;
}

/* The one failure line for an error the core (or a helper here) recorded. */
static int fail(const char *cmd, int r, const struct sfu_err *err) {
        if (sfu_err_isset(err))
                return failf(cmd, "%s", err->message);
        return failf(cmd, "%s", strerror(r < 0 ? -r : EINVAL));
}

_printf_(2, 3) static int usage_error(const char *cmd, const char *fmt, ...) {
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (cmd)
                failf(cmd, "%s (see '" PROG " %s --help')", msg, cmd);
        else
                failf(NULL, "%s (see '" PROG " --help')", msg);
        return EXIT_USAGE;
}

/* getopt with opterr = 0 and an optstring starting with ':' reports '?'
 * (unknown option) and ':' (missing argument); both are usage errors. */
static int bad_option(const char *cmd, int c, char **argv) {
        const char *arg = argv[optind - 1];

        if (c == ':')
                return usage_error(cmd, "option %s needs an argument", arg);
        if (optopt && !(arg[0] == '-' && arg[1] == '-'))
                return usage_error(cmd, "unknown option -%c", optopt);
        return usage_error(cmd, "unknown option %s", arg);
}

/* ------------------------------------------------------------ files */

/* asprintf() that returns the new string, or NULL (never an undefined
 * pointer) when memory runs out. */
_printf_(1, 2) static char *format_new(const char *fmt, ...) {
        char *s = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

static void secret_freep(char **p) {
        if (*p) {
                sfu_wipe(*p, strlen(*p));
                free(*p);
        }
}
#define _cleanup_secret_ _cleanup_(secret_freep)

static int write_all(int fd, const void *buf, size_t len) {
        const uint8_t *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

static ssize_t read_some(int fd, void *buf, size_t len) {
        for (;;) {
                ssize_t n = read(fd, buf, len);
                if (n >= 0 || errno != EINTR)
                        return n < 0 ? -errno : n;
        }
}

/* Reads all of path ("-": standard input) into a new NUL-terminated
 * buffer; more than max bytes is an error. */
static int read_file(const char *path, size_t max, char **ret, size_t *ret_len, struct sfu_err *err) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, alloc = 0;
        int in = STDIN_FILENO;

        if (!sfu_streq(path, "-")) {
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot open %s: %s", path,
                                           strerror(errno));
                in = fd;
        }
        for (;;) {
                ssize_t n;

                if (alloc - len < 2) {
                        size_t want = alloc ? alloc * 2 : 64 * 1024;
                        char *p;

                        if (want > max + 2)
                                want = max + 2;
                        if (want <= alloc)
                                return sfu_err_set(err, SFU_ERR_SIZE, EFBIG,
                                                   "%s is larger than the limit of %zu bytes", path, max);
                        p = realloc(buf, want);
                        if (!p)
                                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory reading %s",
                                                   path);
                        buf = p;
                        alloc = want;
                }
                n = read_some(in, buf + len, alloc - len - 1);
                if (n < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, (int) -n, "cannot read %s: %s", path,
                                           strerror((int) -n));
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > max)
                        return sfu_err_set(err, SFU_ERR_SIZE, EFBIG, "%s is larger than the limit of %zu bytes",
                                           path, max);
        }
        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory reading %s", path);
        }
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

/* Opens an existing regular file for reading. */
static int open_regular(const char *path, int *ret_fd, struct sfu_err *err) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot open %s: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot stat %s: %s", path, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return sfu_err_set(err, SFU_ERR_STORAGE, EINVAL, "%s is not a regular file", path);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static char *dir_of(const char *path) {
        const char *slash = strrchr(path, '/');

        if (!slash)
                return strdup(".");
        if (slash == path)
                return strdup("/");
        return strndup(path, (size_t) (slash - path));
}

static int fsync_dir(const char *dir, struct sfu_err *err) {
        _cleanup_close_ int fd = -1;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot sync directory %s: %s", dir,
                                   strerror(errno));
        return 0;
}

static int fsync_parent(const char *path, struct sfu_err *err) {
        _cleanup_free_ char *dir = dir_of(path);

        if (!dir)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        return fsync_dir(dir, err);
}

/* Creates every missing directory of path (mode 0755), path itself too. */
static int mkdir_all(const char *path, struct sfu_err *err) {
        _cleanup_free_ char *copy = strdup(path);

        if (!copy)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        for (char *p = copy + 1;; p++) {
                bool end = *p == 0;
                struct stat st;

                if (*p != '/' && !end)
                        continue;
                *p = 0;
                if (mkdir(copy, 0755) < 0) {
                        if (errno != EEXIST)
                                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot create directory %s: %s",
                                                   copy, strerror(errno));
                        if (stat(copy, &st) < 0 || !S_ISDIR(st.st_mode))
                                return sfu_err_set(err, SFU_ERR_STORAGE, ENOTDIR, "%s exists and is not a directory",
                                                   copy);
                }
                if (end)
                        return 0;
                *p = '/';
        }
}

/* A temporary file beside path, for a later rename over path. */
static int create_temp_beside(const char *path, char **ret_tmp, int *ret_fd, struct sfu_err *err) {
        _cleanup_free_ char *dir = dir_of(path), *tmpl = NULL;
        int fd;

        if (!dir || !(tmpl = format_new("%s/.secfu-manifest-XXXXXX", dir)))
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        fd = mkostemp(tmpl, O_CLOEXEC);
        if (fd < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot create a temporary file in %s: %s", dir,
                                   strerror(errno));
        *ret_tmp = TAKE_PTR(tmpl);
        *ret_fd = fd;
        return 0;
}

/* Closes fd after fchmod and fsync; errors name path. */
static int finish_file(int fd, mode_t mode, const char *path, struct sfu_err *err) {
        int r = 0;

        if (fchmod(fd, mode) < 0 || fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot write %s: %s", path, strerror(-r));
        return 0;
}

/* Removes the files it lists when a command fails half way. */
struct created_files {
        const char *paths[2];
        size_t n;
        bool keep;
};

static void created_files_cleanup(struct created_files *c) {
        if (c->keep)
                return;
        for (size_t i = 0; i < c->n; i++)
                unlink(c->paths[i]);
}

/* Creates path, which must not exist, with exactly mode. */
static int create_new_file(const char *path, mode_t mode, struct created_files *created, int *ret_fd,
                           struct sfu_err *err) {
        int fd;

        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, mode);
        if (fd < 0) {
                if (errno == EEXIST)
                        return sfu_err_set(err, SFU_ERR_STORAGE, EEXIST, "%s already exists; not overwriting it",
                                           path);
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot create %s: %s", path, strerror(errno));
        }
        created->paths[created->n++] = path;
        *ret_fd = fd;
        return 0;
}

/* Writes text to the new file behind fd, then syncs and closes it. */
static int write_key_file(int fd, const char *path, const char *text, mode_t mode, struct sfu_err *err) {
        int r;

        r = write_all(fd, text, strlen(text));
        if (r < 0) {
                close(fd);
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot write %s: %s", path, strerror(-r));
        }
        return finish_file(fd, mode, path, err);
}

/* Drops trailing white space (a newline after a compact JWS). */
static size_t trim_trailing_space(const char *buf, size_t len) {
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
                           buf[len - 1] == '\t'))
                len--;
        return len;
}

static int write_stdout(const void *buf, size_t len, struct sfu_err *err) {
        if (len > 0 && fwrite(buf, 1, len, stdout) != len)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno ? errno : EIO, "cannot write to standard output");
        if (fflush(stdout) != 0 || ferror(stdout))
                return sfu_err_set(err, SFU_ERR_STORAGE, errno ? errno : EIO, "cannot write to standard output");
        return 0;
}

/* ------------------------------------------------------------ digests */

/* Reads fd to its end once, feeding every block to set and copying it to
 * out_fd (sfu_digest_fd() without the copy).  More than max_bytes is
 * -EFBIG. */
static int digest_and_copy(int fd, int out_fd, struct sfu_digest_set *set, uint64_t max_bytes,
                           uint64_t *ret_bytes) {
        _cleanup_free_ uint8_t *block = malloc(IO_BLOCK_SIZE);
        uint64_t total = 0;
        int r;

        if (!block)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read_some(fd, block, IO_BLOCK_SIZE);
                if (n < 0)
                        return (int) n;
                if (n == 0)
                        break;
                total += (uint64_t) n;
                if (total > max_bytes)
                        return -EFBIG;
                r = sfu_digest_set_update(set, block, (size_t) n);
                if (r < 0)
                        return r;
                r = write_all(out_fd, block, (size_t) n);
                if (r < 0)
                        return r;
        }
        r = sfu_digest_set_final(set);
        if (r < 0)
                return r;
        *ret_bytes = total;
        return 0;
}

/* ------------------------------------------------------------ keygen */

static void help_keygen(void) {
        printf("Usage: " PROG " keygen --alg ALG --out PREFIX\n\n"
               "Writes a new private key to PREFIX.key (PKCS#8 PEM, mode 0600) and its\n"
               "public key to PREFIX.pub (SubjectPublicKeyInfo PEM, mode 0644); prints the\n"
               "key id (RFC 7638 thumbprint). Existing files are never overwritten.\n\n"
               "  --alg ALG      ES256 ES384 ES512 EdDSA (P-256/P-384/P-521/Ed25519) or\n"
               "                 RS256 RS384 RS512 PS256 PS384 PS512 (RSA 3072)\n"
               "  --out PREFIX   path prefix of the two files\n");
}

static int cmd_keygen(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "alg", required_argument, NULL, 'a' },
                { "out", required_argument, NULL, 'o' },
                {}
        };
        const char *cmd = "keygen", *alg_name = NULL, *prefix = NULL;
        _cleanup_free_ char *key_path = NULL, *pub_path = NULL, *pub_pem = NULL, *kid = NULL;
        _cleanup_secret_ char *key_pem = NULL;
        _cleanup_key_ struct sfu_key *key = NULL;
        struct created_files created _cleanup_(created_files_cleanup) = {};
        _cleanup_close_ int key_fd = -1, pub_fd = -1;
        struct sfu_err err = SFU_ERR_INIT;
        enum sfu_alg alg;
        int c, r;

        while ((c = getopt_long(argc, argv, ":ha:o:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help_keygen();
                        return EXIT_SUCCESS;
                case 'a':
                        alg_name = optarg;
                        break;
                case 'o':
                        prefix = optarg;
                        break;
                default:
                        return bad_option(cmd, c, argv);
                }
        if (optind < argc)
                return usage_error(cmd, "unexpected argument %s", argv[optind]);
        if (!alg_name)
                return usage_error(cmd, "--alg is required");
        if (!prefix || !*prefix)
                return usage_error(cmd, "--out is required");
        if (sfu_alg_from_name(alg_name, &alg) < 0)
                return usage_error(cmd, "unknown algorithm %s", alg_name);

        key_path = format_new("%s.key", prefix);
        pub_path = format_new("%s.pub", prefix);
        if (!key_path || !pub_path)
                return failf(cmd, "out of memory");

        r = sfu_key_generate(sfu_alg_name(alg), &key, &err);
        if (r < 0)
                return fail(cmd, r, &err);
        if (sfu_key_to_pem(key, true, &key_pem) < 0 || sfu_key_to_pem(key, false, &pub_pem) < 0)
                return failf(cmd, "cannot encode the new key as PEM");
        if (sfu_key_thumbprint(key, &kid) < 0)
                return failf(cmd, "cannot compute the key id");

        /* Both names are claimed before either is written, and a failure
         * removes what was created; the private key file is created with
         * mode 0600 and never exists with a wider one. */
        r = create_new_file(key_path, 0600, &created, &key_fd, &err);
        if (r >= 0)
                r = create_new_file(pub_path, 0644, &created, &pub_fd, &err);
        if (r >= 0)
                r = write_key_file(TAKE_FD(key_fd), key_path, key_pem, 0600, &err);
        if (r >= 0)
                r = write_key_file(TAKE_FD(pub_fd), pub_path, pub_pem, 0644, &err);
        if (r >= 0)
                r = fsync_parent(key_path, &err);
        if (r < 0)
                return fail(cmd, r, &err);
        created.keep = true;
        printf("%s\n", kid);
        return fflush(stdout) == 0 ? EXIT_SUCCESS : failf(cmd, "cannot write to standard output");
}

/* ------------------------------------------------------------ create */

struct create_image {
        char *file;
        char *location;         /* NULL: the basename of file, percent-encoded */
        const char *slot_class;
        const char *name;       /* NULL: basename of file without its extension */
        char *name_default;
};

struct create_images {
        struct create_image items[CREATE_MAX_IMAGES];
        size_t n;
};

static void create_images_free(struct create_images *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].file);
                free(l->items[i].location);
                free(l->items[i].name_default);
        }
}

static void help_create(void) {
        printf("Usage: " PROG " create --manufacturer M --model X --version V\n"
               "           --image FILE[=LOCATION] [--slot-class CLASS] [--name NAME] ...\n"
               "           [--expires DATE] [--timestamp DATE]\n\n"
               "Prints a manifest (JSON) with the size, SHA-256 and SHA-512 of every image.\n\n"
               "  --manufacturer M     manufacturer, as the devices have it configured\n"
               "  --model X            model, as the devices have it configured\n"
               "  --version V          firmware version major.minor.revision\n"
               "  --image FILE[=LOC]   image file; LOC is its location relative to the\n"
               "                       manifest URL or an absolute http(s) URI (default:\n"
               "                       the file's name); split at the first '='\n"
               "  --slot-class CLASS   slot class of the preceding --image\n"
               "  --name NAME          name of the preceding --image (default: its file\n"
               "                       name without the extension)\n"
               "  --expires DATE       RFC 3339 date-time or YYYY-MM-DD\n"
               "  --timestamp DATE     use DATE instead of the current time\n\n"
               "One --image without --slot-class gives the single-image form\n"
               "(firmwareLocation); several images, or any --slot-class, give the\n"
               "\"images\" form, where every image needs --slot-class.\n");
}

/* The default location: the file's basename, percent-encoded except for
 * the unreserved characters of RFC 3986, so it is always a relative
 * reference to a file beside the manifest. */
static char *location_from_basename(const char *base) {
        static const char hex_digits[] = "0123456789ABCDEF";
        char *out = malloc(strlen(base) * 3 + 1), *p = out;

        if (!out)
                return NULL;
        for (const unsigned char *s = (const unsigned char *) base; *s; s++) {
                if (isalnum(*s) || *s == '-' || *s == '.' || *s == '_' || *s == '~')
                        *p++ = (char) *s;
                else {
                        *p++ = '%';
                        *p++ = hex_digits[*s >> 4];
                        *p++ = hex_digits[*s & 15];
                }
        }
        *p = 0;
        return out;
}

static const char *base_name(const char *path) {
        const char *slash = strrchr(path, '/');

        return slash ? slash + 1 : path;
}

static char *name_from_basename(const char *base) {
        const char *dot = strrchr(base, '.');

        if (!dot || dot == base)
                return strdup(base);
        return strndup(base, (size_t) (dot - base));
}

static int add_string(json_t *obj, const char *key, const char *value, const char *what, struct sfu_err *err) {
        json_t *s = json_string(value);

        if (!s)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s is not valid UTF-8", what);
        if (json_object_set_new(obj, key, s) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        return 0;
}

/* Size and commitHash of one image file, in one read. */
static int image_entry(const struct create_image *img, json_t **ret_hashes, uint64_t *ret_size,
                       struct sfu_err *err) {
        static const enum sfu_digest_alg algs[] = { SFU_DIGEST_SHA256, SFU_DIGEST_SHA512 };
        _cleanup_digest_set_ struct sfu_digest_set *set = NULL;
        _cleanup_json_ json_t *hashes = NULL;
        _cleanup_close_ int fd = -1;
        uint64_t size;
        int r;

        r = open_regular(img->file, &fd, err);
        if (r < 0)
                return r;
        r = sfu_digest_set_new(SFU_DIGEST_MASK(SFU_DIGEST_SHA256) | SFU_DIGEST_MASK(SFU_DIGEST_SHA512), &set);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot set up the digests");
        r = sfu_digest_fd(fd, set, &size);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot read %s: %s", img->file, strerror(-r));

        hashes = json_array();
        if (!hashes)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        for (size_t i = 0; i < ELEMENTSOF(algs); i++) {
                uint8_t value[SFU_DIGEST_MAX_SIZE];
                char hex[2 * SFU_DIGEST_MAX_SIZE + 1];
                json_t *entry;

                r = sfu_digest_set_get(set, algs[i], value);
                if (r < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot read the %s digest",
                                           sfu_digest_name(algs[i]));
                sfu_hex_encode(value, sfu_digest_size(algs[i]), hex);
                entry = json_pack("{s:s, s:s}", "digestAlgo", sfu_digest_name(algs[i]), "hash", hex);
                if (!entry || json_array_append_new(hashes, entry) < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        }
        *ret_hashes = TAKE_PTR(hashes);
        *ret_size = size;
        return 0;
}

static int build_manifest(const char *manufacturer, const char *model, const char *version,
                          const struct create_images *images, bool split, int64_t timestamp, bool has_expires,
                          int64_t expires, json_t **ret, struct sfu_err *err) {
        _cleanup_json_ json_t *root = json_object(), *list = NULL;
        char when[32];
        int r;

        if (!root)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        r = add_string(root, "manifestVersion", "1.0", "manifestVersion", err);
        if (r >= 0)
                r = add_string(root, "timestamp", sfu_time_format_rfc3339(timestamp, when), "timestamp", err);
        if (r >= 0 && has_expires)
                r = add_string(root, "expires", sfu_time_format_rfc3339(expires, when), "--expires", err);
        if (r >= 0)
                r = add_string(root, "manufacturer", manufacturer, "--manufacturer", err);
        if (r >= 0)
                r = add_string(root, "model", model, "--model", err);
        if (r >= 0)
                r = add_string(root, "firmwareVersion", version, "--version", err);
        if (r < 0)
                return r;

        if (split) {
                list = json_array();
                if (!list)
                        return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < images->n; i++) {
                const struct create_image *img = &images->items[i];
                _cleanup_json_ json_t *hashes = NULL, *entry = NULL;
                _cleanup_free_ char *location = NULL;
                uint64_t size = 0;

                r = image_entry(img, &hashes, &size, err);
                if (r < 0)
                        return r;
                location = img->location ? strdup(img->location) : location_from_basename(base_name(img->file));
                if (!location)
                        return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
                if (size > (uint64_t) INT64_MAX)
                        return sfu_err_set(err, SFU_ERR_SIZE, EFBIG, "%s is too large", img->file);

                if (!split) {
                        r = add_string(root, "firmwareLocation", location, "the image location", err);
                        if (r < 0)
                                return r;
                        if (json_object_set_new(root, "firmwareSize", json_integer((json_int_t) size)) < 0 ||
                            json_object_set_new(root, "firmwareCryptoInfo",
                                                json_pack("{s:O}", "commitHash", hashes)) < 0)
                                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
                        continue;
                }
                entry = json_object();
                if (!entry)
                        return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
                r = add_string(entry, "name", img->name ? img->name : img->name_default, "the image name", err);
                if (r >= 0)
                        r = add_string(entry, "slotClass", img->slot_class, "--slot-class", err);
                if (r >= 0)
                        r = add_string(entry, "location", location, "the image location", err);
                if (r < 0)
                        return r;
                if (json_object_set_new(entry, "size", json_integer((json_int_t) size)) < 0 ||
                    json_object_set(entry, "commitHash", hashes) < 0 ||
                    json_array_append(list, entry) < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        }
        if (split && json_object_set(root, "images", list) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        *ret = TAKE_PTR(root);
        return 0;
}

static int parse_date_option(const char *cmd, const char *opt, const char *value, int64_t *ret) {
        if (sfu_time_parse_rfc3339(value, true, ret) < 0)
                return usage_error(cmd, "%s %s is not an RFC 3339 date-time or YYYY-MM-DD date", opt, value);
        return 0;
}

static int cmd_create(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "manufacturer", required_argument, NULL, 'm' },
                { "model", required_argument, NULL, 'M' },
                { "version", required_argument, NULL, 'v' },
                { "image", required_argument, NULL, 'i' },
                { "slot-class", required_argument, NULL, 'c' },
                { "name", required_argument, NULL, 'n' },
                { "expires", required_argument, NULL, 'e' },
                { "timestamp", required_argument, NULL, 't' },
                {}
        };
        const char *cmd = "create", *manufacturer = NULL, *model = NULL, *version = NULL;
        const char *expires_text = NULL, *timestamp_text = NULL;
        struct create_images images _cleanup_(create_images_free) = {};
        _cleanup_manifest_ struct sfu_manifest *check = NULL;
        _cleanup_json_ json_t *root = NULL;
        _cleanup_free_ char *text = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_version parsed_version;
        int64_t timestamp = 0, expires = 0;
        bool split = false;
        int c, r;

        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
                struct create_image *last = images.n > 0 ? &images.items[images.n - 1] : NULL;

                switch (c) {
                case 'h':
                        help_create();
                        return EXIT_SUCCESS;
                case 'm':
                        manufacturer = optarg;
                        break;
                case 'M':
                        model = optarg;
                        break;
                case 'v':
                        version = optarg;
                        break;
                case 'i': {
                        struct create_image *img;
                        char *eq;

                        if (images.n >= CREATE_MAX_IMAGES)
                                return usage_error(cmd, "at most %d images", CREATE_MAX_IMAGES);
                        img = &images.items[images.n++];
                        img->file = strdup(optarg);
                        if (!img->file)
                                return failf(cmd, "out of memory");
                        eq = strchr(img->file, '=');
                        if (eq) {
                                *eq = 0;
                                if (!eq[1])
                                        return usage_error(cmd, "empty location in --image %s", optarg);
                                img->location = strdup(eq + 1);
                                if (!img->location)
                                        return failf(cmd, "out of memory");
                        }
                        if (!img->file[0])
                                return usage_error(cmd, "empty file name in --image %s", optarg);
                        img->name_default = name_from_basename(base_name(img->file));
                        if (!img->name_default)
                                return failf(cmd, "out of memory");
                        break;
                }
                case 'c':
                        if (!last)
                                return usage_error(cmd, "--slot-class must follow the --image it applies to");
                        if (last->slot_class)
                                return usage_error(cmd, "two --slot-class options for --image %s", last->file);
                        last->slot_class = optarg;
                        break;
                case 'n':
                        if (!last)
                                return usage_error(cmd, "--name must follow the --image it applies to");
                        if (last->name)
                                return usage_error(cmd, "two --name options for --image %s", last->file);
                        last->name = optarg;
                        break;
                case 'e':
                        expires_text = optarg;
                        break;
                case 't':
                        timestamp_text = optarg;
                        break;
                default:
                        return bad_option(cmd, c, argv);
                }
        }
        if (optind < argc)
                return usage_error(cmd, "unexpected argument %s", argv[optind]);
        if (!manufacturer)
                return usage_error(cmd, "--manufacturer is required");
        if (!model)
                return usage_error(cmd, "--model is required");
        if (!version)
                return usage_error(cmd, "--version is required");
        if (images.n == 0)
                return usage_error(cmd, "at least one --image is required");
        if (sfu_version_parse(version, &parsed_version) < 0)
                return usage_error(cmd, "--version %s is not major.minor.revision (decimal, no leading zeros)",
                                   version);

        if (timestamp_text) {
                r = parse_date_option(cmd, "--timestamp", timestamp_text, &timestamp);
                if (r != 0)
                        return r;
        } else {
                struct timespec now;
                if (clock_gettime(CLOCK_REALTIME, &now) < 0)
                        return failf(cmd, "cannot read the clock: %s", strerror(errno));
                timestamp = (int64_t) now.tv_sec;
        }
        if (expires_text) {
                r = parse_date_option(cmd, "--expires", expires_text, &expires);
                if (r != 0)
                        return r;
                if (expires <= timestamp)
                        return usage_error(cmd, "--expires %s is not after the manifest's timestamp", expires_text);
        }

        split = images.n > 1;
        for (size_t i = 0; i < images.n; i++)
                if (images.items[i].slot_class)
                        split = true;
        for (size_t i = 0; i < images.n; i++) {
                const struct create_image *img = &images.items[i];
                const char *name = img->name ? img->name : img->name_default;

                if (!split && img->name)
                        return usage_error(cmd, "--name needs the images form: give --slot-class too");
                if (!split)
                        continue;
                if (!img->slot_class)
                        return usage_error(cmd, "--image %s needs a --slot-class (several images)", img->file);
                if (!*name)
                        return usage_error(cmd, "--image %s needs a --name", img->file);
                for (size_t j = 0; j < i; j++) {
                        const struct create_image *o = &images.items[j];
                        if (sfu_streq(name, o->name ? o->name : o->name_default))
                                return usage_error(cmd, "two images are named \"%s\"; give --name", name);
                }
        }

        r = build_manifest(manufacturer, model, version, &images, split, timestamp, !!expires_text, expires, &root,
                           &err);
        if (r < 0)
                return fail(cmd, r, &err);
        text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text)
                return failf(cmd, "out of memory");

        /* What we print must be what a device accepts as syntax. */
        r = sfu_manifest_parse_json(text, strlen(text), SFU_MANIFEST_MAX_SIZE, &check, &err);
        if (r < 0) {
                sfu_err_prefix(&err, "the manifest would not be valid");
                return fail(cmd, r, &err);
        }
        printf("%s\n", text);
        return fflush(stdout) == 0 ? EXIT_SUCCESS : failf(cmd, "cannot write to standard output");
}

/* ------------------------------------------------------------ sign */

static void help_sign(void) {
        printf("Usage: " PROG " sign --key KEY [--alg ALG] [--kid KID] [--json] FILE\n\n"
               "Prints a JWS of FILE's bytes with typ \"" SFU_JWS_TYP_MANIFEST "\": compact, or the\n"
               "flattened JSON serialization with --json. When FILE already is a JWS,\n"
               "adds a signature and prints the general JSON serialization.\n\n"
               "  --key KEY   private key (PKCS#8 or traditional PEM, or JWK)\n"
               "  --alg ALG   signature algorithm; optional for EC and Ed25519 keys,\n"
               "              required for RSA (RS256..RS512, PS256..PS512)\n"
               "  --kid KID   key id for the header (default: the JWK kid or the\n"
               "              RFC 7638 thumbprint)\n"
               "  --json      JSON serialization instead of compact\n");
}

static bool is_b64url_char(char c) {
        return isalnum((unsigned char) c) || c == '-' || c == '_';
}

/* A JWS to add a signature to: the JSON serialization (an object with a
 * "payload" member, which no manifest has) or three base64url segments. */
static bool looks_like_jws(const char *buf, size_t len) {
        _cleanup_json_ json_t *j = NULL;
        size_t dots = 0, i = 0;

        while (i < len && isspace((unsigned char) buf[i]))
                i++;
        if (i < len && buf[i] == '{') {
                if (sfu_json_parse_object(buf, len, SFU_JWS_MAX_SIZE, &j, NULL) < 0)
                        return false;
                return json_object_get(j, "payload") != NULL;
        }
        len = trim_trailing_space(buf, len);
        if (len == 0)
                return false;
        for (i = 0; i < len; i++) {
                if (buf[i] == '.')
                        dots++;
                else if (!is_b64url_char(buf[i]))
                        return false;
        }
        return dots == 2;
}

static int cmd_sign(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "key", required_argument, NULL, 'k' },
                { "alg", required_argument, NULL, 'a' },
                { "kid", required_argument, NULL, 'K' },
                { "json", no_argument, NULL, 'j' },
                {}
        };
        const char *cmd = "sign", *key_path = NULL, *alg_name = NULL, *kid = NULL, *path;
        _cleanup_manifest_ struct sfu_manifest *manifest = NULL;
        _cleanup_key_ struct sfu_key *key = NULL;
        _cleanup_jws_ struct sfu_jws *jws = NULL;
        _cleanup_free_ char *input = NULL, *out = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_jws_sign_opts opts = {};
        enum sfu_alg alg;
        bool json = false;
        size_t input_len = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help_sign();
                        return EXIT_SUCCESS;
                case 'k':
                        key_path = optarg;
                        break;
                case 'a':
                        alg_name = optarg;
                        break;
                case 'K':
                        kid = optarg;
                        break;
                case 'j':
                        json = true;
                        break;
                default:
                        return bad_option(cmd, c, argv);
                }
        if (!key_path)
                return usage_error(cmd, "--key is required");
        if (argc - optind != 1)
                return usage_error(cmd, "expected exactly one FILE");
        path = argv[optind];
        if (kid && !*kid)
                return usage_error(cmd, "--kid must not be empty");
        if (alg_name && sfu_alg_from_name(alg_name, &alg) < 0)
                return usage_error(cmd, "unknown algorithm %s", alg_name);

        r = sfu_key_load_file(key_path, true, &key, &err);
        if (r < 0)
                return fail(cmd, r, &err);
        if (!alg_name && sfu_sig_default_alg(key, &alg) < 0)
                return usage_error(cmd, "--alg is required with an %s key (RS256..RS512 or PS256..PS512)",
                                   sfu_key_type_name(key->type));
        if (!sfu_sig_fits_key(alg, key))
                return failf(cmd, "%s is a %s key and cannot make %s signatures", key_path,
                             sfu_key_type_name(key->type), sfu_alg_name(alg));

        r = read_file(path, SFU_JWS_MAX_SIZE, &input, &input_len, &err);
        if (r < 0)
                return fail(cmd, r, &err);

        opts = (struct sfu_jws_sign_opts) {
                .alg = alg,
                .kid = kid,
                .typ = SFU_JWS_TYP_MANIFEST,
                .form = json ? SFU_JWS_FLATTENED : SFU_JWS_COMPACT,
        };

        if (looks_like_jws(input, input_len)) {
                const char *new_kid = kid ? kid : key->kid;

                r = sfu_jws_parse(input, trim_trailing_space(input, input_len), &jws, &err);
                if (r < 0) {
                        sfu_err_prefix(&err, "%s looks like a JWS but is not valid", path);
                        return fail(cmd, r, &err);
                }
                /* A second signature by the same key adds nothing. */
                for (size_t i = 0; i < jws->n_signatures; i++) {
                        json_t *h = jws->signatures[i].protected_header;
                        const char *old_kid = json_string_value(json_object_get(h, "kid"));
                        if (new_kid && sfu_streq(old_kid, new_kid))
                                return failf(cmd, "%s already has a signature with kid %s", path, new_kid);
                }
                opts.form = SFU_JWS_GENERAL;
                r = sfu_jws_add_signature(jws, key, &opts, &out, &err);
        } else {
                if (input_len > SFU_MANIFEST_MAX_SIZE)
                        return failf(cmd, "%s is larger than the manifest limit of %u bytes", path,
                                     SFU_MANIFEST_MAX_SIZE);
                /* Signing is not refused (tests sign broken manifests on
                 * purpose), but a device would refuse this payload. */
                if (sfu_manifest_parse_json(input, input_len, SFU_MANIFEST_MAX_SIZE, &manifest, &err) < 0) {
                        fputs(PROG ": sign: warning: ", stderr);
                        put_sanitized(stderr, path);
                        fputs(" is not a valid manifest: ", stderr);
                        put_sanitized(stderr, err.message);
                        fputc('\n', stderr);
                        sfu_err_clear(&err);
                }
                r = sfu_jws_sign((const uint8_t *) input, input_len, key, &opts, &out, &err);
        }
        if (r < 0)
                return fail(cmd, r, &err);
        printf("%s\n", out);
        return fflush(stdout) == 0 ? EXIT_SUCCESS : failf(cmd, "cannot write to standard output");
}

/* ------------------------------------------------------------ verify */

static void help_verify(void) {
        printf("Usage: " PROG " verify --key PUB [--key PUB ...] [--alg-allow LIST]\n"
               "           [--min-signatures N] FILE\n\n"
               "Verifies the JWS in FILE with the given trusted keys, as a device does,\n"
               "and checks that its payload is a syntactically valid manifest. On success\n"
               "prints the payload, byte for byte, and exits 0; otherwise prints nothing\n"
               "on standard output and one reason on standard error.\n\n"
               "  --key PUB            trusted public key (PEM or JWK), or a directory of\n"
               "                       *.pem and *.jwk files; repeatable\n"
               "  --alg-allow LIST     comma-separated algorithms to accept (default: all ten)\n"
               "  --min-signatures N   distinct trusted keys that must have signed (default 1)\n");
}

static int load_trusted(struct sfu_keyring *ring, const char *path, struct sfu_err *err) {
        _cleanup_key_ struct sfu_key *key = NULL;
        struct stat st;
        int r;

        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
                return sfu_keyring_load_dir(ring, path, err);
        r = sfu_key_load_file(path, false, &key, err);
        if (r < 0)
                return r;
        r = sfu_keyring_add(ring, key, err);
        if (r < 0)
                return r;
        TAKE_PTR(key);
        return 0;
}

static int cmd_verify(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "key", required_argument, NULL, 'k' },
                { "alg-allow", required_argument, NULL, 'a' },
                { "min-signatures", required_argument, NULL, 'n' },
                {}
        };
        const char *cmd = "verify", *keys[VERIFY_MAX_KEY_ARGS], *alg_allow = NULL, *path;
        _cleanup_manifest_ struct sfu_manifest *manifest = NULL;
        _cleanup_keyring_ struct sfu_keyring *ring = NULL;
        _cleanup_jws_ struct sfu_jws *jws = NULL;
        _cleanup_free_ char *input = NULL;
        struct sfu_jws_verify_opts opts = { .required_typ = SFU_JWS_TYP_MANIFEST };
        struct sfu_err err = SFU_ERR_INIT;
        size_t n_keys = 0, input_len = 0;
        unsigned valid = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help_verify();
                        return EXIT_SUCCESS;
                case 'k':
                        if (n_keys >= ELEMENTSOF(keys))
                                return usage_error(cmd, "at most %zu --key options", ELEMENTSOF(keys));
                        keys[n_keys++] = optarg;
                        break;
                case 'a':
                        alg_allow = optarg;
                        break;
                case 'n': {
                        char *end;
                        unsigned long n;

                        errno = 0;
                        n = strtoul(optarg, &end, 10);
                        if (errno || end == optarg || *end || !isdigit((unsigned char) optarg[0]) || n < 1 ||
                            n > SFU_JWS_MAX_SIGNATURES)
                                return usage_error(cmd, "--min-signatures must be a number from 1 to %d",
                                                   SFU_JWS_MAX_SIGNATURES);
                        opts.min_signatures = (unsigned) n;
                        break;
                }
                default:
                        return bad_option(cmd, c, argv);
                }
        if (n_keys == 0)
                return usage_error(cmd, "at least one --key is required");
        if (argc - optind != 1)
                return usage_error(cmd, "expected exactly one FILE");
        path = argv[optind];
        if (alg_allow) {
                r = sfu_alg_list_parse(alg_allow, &opts.alg_allow, &err);
                if (r < 0)
                        return usage_error(cmd, "--alg-allow: %s", err.message);
        }

        if (sfu_keyring_new(&ring) < 0)
                return failf(cmd, "out of memory");
        for (size_t i = 0; i < n_keys; i++) {
                r = load_trusted(ring, keys[i], &err);
                if (r < 0)
                        return fail(cmd, r, &err);
        }
        if (ring->n_keys == 0)
                return failf(cmd, "no trusted key was found in the given --key paths");

        r = read_file(path, SFU_JWS_MAX_SIZE, &input, &input_len, &err);
        if (r < 0)
                return fail(cmd, r, &err);
        r = sfu_jws_parse(input, trim_trailing_space(input, input_len), &jws, &err);
        if (r < 0)
                return fail(cmd, r, &err);
        r = sfu_jws_verify(jws, ring, &opts, &valid, &err);
        if (r < 0)
                return fail(cmd, r, &err);
        r = sfu_manifest_parse_json((const char *) jws->payload, jws->payload_len, SFU_MANIFEST_MAX_SIZE,
                                    &manifest, &err);
        if (r < 0) {
                sfu_err_prefix(&err, "the signed payload is not a valid manifest");
                return fail(cmd, r, &err);
        }
        r = write_stdout(jws->payload, jws->payload_len, &err);
        if (r < 0)
                return fail(cmd, r, &err);
        return EXIT_SUCCESS;
}

/* ------------------------------------------------------------ inspect */

static void help_inspect(void) {
        printf("Usage: " PROG " inspect FILE\n\n"
               "Shows the header(s) and the payload of the JWS in FILE WITHOUT verifying\n"
               "anything: the output is marked NOT VERIFIED.\n");
}

/* Pretty JSON with every line indented; non-ASCII escaped, so that what
 * an untrusted file contains cannot play tricks on a terminal. */
static void print_json_indented(const json_t *j, const char *indent) {
        _cleanup_free_ char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        const char *line;

        if (!text) {
                printf("%s(cannot show)\n", indent);
                return;
        }
        line = text;
        while (*line) {
                const char *nl = strchr(line, '\n');
                size_t n = nl ? (size_t) (nl - line) : strlen(line);

                printf("%s%.*s\n", indent, (int) n, line);
                line += n + (nl ? 1 : 0);
        }
}

static void print_escaped_text(const uint8_t *p, size_t len) {
        size_t shown = len < INSPECT_TEXT_MAX ? len : INSPECT_TEXT_MAX;

        for (size_t i = 0; i < shown; i++) {
                if (p[i] == '\n' || p[i] == '\t' || (p[i] >= 0x20 && p[i] < 0x7f))
                        putchar(p[i]);
                else
                        printf("\\x%02x", p[i]);
        }
        if (shown > 0 && p[shown - 1] != '\n')
                putchar('\n');
        if (shown < len)
                printf("... (%zu more bytes not shown)\n", len - shown);
}

static const char *form_name(enum sfu_jws_form form) {
        switch (form) {
        case SFU_JWS_COMPACT:
                return "compact";
        case SFU_JWS_FLATTENED:
                return "flattened JSON";
        case SFU_JWS_GENERAL:
                return "general JSON";
        }
        return "unknown";
}

static int cmd_inspect(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *cmd = "inspect", *path;
        _cleanup_manifest_ struct sfu_manifest *manifest = NULL;
        _cleanup_jws_ struct sfu_jws *jws = NULL;
        _cleanup_json_ json_t *payload_json = NULL;
        _cleanup_free_ char *input = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        size_t input_len = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help_inspect();
                        return EXIT_SUCCESS;
                default:
                        return bad_option(cmd, c, argv);
                }
        if (argc - optind != 1)
                return usage_error(cmd, "expected exactly one FILE");
        path = argv[optind];

        r = read_file(path, SFU_JWS_MAX_SIZE, &input, &input_len, &err);
        if (r < 0)
                return fail(cmd, r, &err);
        r = sfu_jws_parse(input, trim_trailing_space(input, input_len), &jws, &err);
        if (r < 0)
                return fail(cmd, r, &err);

        printf("NOT VERIFIED: shown without checking any signature; do not trust this content.\n");
        printf("serialization: %s\n", form_name(jws->form));
        printf("signatures: %zu\n", jws->n_signatures);
        for (size_t i = 0; i < jws->n_signatures; i++) {
                const struct sfu_jws_signature *s = &jws->signatures[i];

                printf("signature %zu of %zu (NOT VERIFIED):\n", i + 1, jws->n_signatures);
                printf("  protected header:\n");
                print_json_indented(s->protected_header, "    ");
                if (s->unprotected_header) {
                        printf("  unprotected header:\n");
                        print_json_indented(s->unprotected_header, "    ");
                } else
                        printf("  unprotected header: none\n");
                printf("  signature: %zu bytes\n", s->signature_len);
        }
        if (sfu_json_parse_object((const char *) jws->payload, jws->payload_len, SFU_JWS_MAX_SIZE, &payload_json,
                                  NULL) >= 0) {
                printf("payload (NOT VERIFIED): %zu bytes of JSON\n", jws->payload_len);
                print_json_indented(payload_json, "");
        } else {
                printf("payload (NOT VERIFIED): %zu bytes, not a JSON object\n", jws->payload_len);
                print_escaped_text(jws->payload, jws->payload_len);
        }
        r = sfu_manifest_parse_json((const char *) jws->payload, jws->payload_len, SFU_MANIFEST_MAX_SIZE,
                                    &manifest, &err);
        if (r < 0) {
                printf("manifest syntax: INVALID: ");
                put_sanitized(stdout, err.message);
                putchar('\n');
        } else
                printf("manifest syntax: valid (signatures NOT VERIFIED)\n");
        return fflush(stdout) == 0 ? EXIT_SUCCESS : failf(cmd, "cannot write to standard output");
}

/* ------------------------------------------------------------ publish */

static void help_publish(void) {
        printf("Usage: " PROG " publish --root DIR [--allow-external] MANIFEST.jws [IMAGE ...]\n\n"
               "Lays out DIR for a static HTTP server: the JWS goes to\n"
               "DIR/.well-known/firmware/MANUFACTURER/MODEL/manifest.json and every IMAGE to\n"
               "the path its location in the manifest resolves to. Signatures are not\n"
               "checked; each IMAGE must match the size and digests of an image of the\n"
               "manifest. Files are written atomically; the manifest last.\n\n"
               "  --root DIR         document root of the web server (created if missing)\n"
               "  --allow-external   accept images with absolute http(s) locations (they\n"
               "                     are not copied; publish them there yourself)\n");
}

/* A manufacturer or model used as a directory name: unreserved URI
 * characters only, so that the URL path and the file path agree. */
static bool safe_path_component(const char *s) {
        if (!s || !*s || sfu_streq(s, ".") || sfu_streq(s, ".."))
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && *s != '-' && *s != '.' && *s != '_' && *s != '~')
                        return false;
        return true;
}

static bool has_uri_scheme(const char *s) {
        if (!isalpha((unsigned char) s[0]))
                return false;
        for (const char *p = s + 1; *p; p++) {
                if (*p == ':')
                        return true;
                if (!isalnum((unsigned char) *p) && *p != '+' && *p != '-' && *p != '.')
                        return false;
        }
        return false;
}

static int hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Percent-decodes one path segment into out (size >= len + 1); refuses
 * escapes that are not two hex digits and decoded '/', NUL or controls. */
static int decode_segment(const char *seg, size_t len, char *out) {
        size_t o = 0;

        for (size_t i = 0; i < len; i++) {
                unsigned char ch = (unsigned char) seg[i];

                if (ch == '%') {
                        int hi, lo;

                        if (len - i < 3)
                                return -EINVAL;
                        hi = hex_value(seg[i + 1]);
                        lo = hex_value(seg[i + 2]);
                        if (hi < 0 || lo < 0)
                                return -EINVAL;
                        ch = (unsigned char) (hi << 4 | lo);
                        i += 2;
                }
                if (ch == 0 || ch == '/' || iscntrl(ch))
                        return -EINVAL;
                out[o++] = (char) ch;
        }
        out[o] = 0;
        return 0;
}

#define PUBLISH_MAX_SEGMENTS 64

struct segments {
        char *items[PUBLISH_MAX_SEGMENTS];
        size_t n;
};

static void segments_free(struct segments *s) {
        for (size_t i = 0; i < s->n; i++)
                free(s->items[i]);
}

/* Resolves a location against the directory of the manifest URL (the
 * path part of RFC 3986 section 5.2, with dot segments removed) into a
 * path below the root.  Returns -EREMOTE, recording nothing, for an
 * absolute URI or a network-path reference; a location that climbs above
 * the root with ".." is refused rather than clamped. */
static int location_to_path(const char *location, const char *manifest_dir, char **ret, struct sfu_err *err) {
        struct segments segs _cleanup_(segments_free) = {};
        _cleanup_free_ char *out = NULL;
        bool directory = false;
        const char *p;
        size_t total = 0;

        if (has_uri_scheme(location) || strncmp(location, "//", 2) == 0)
                return -EREMOTE;
        if (!*location)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "empty location");
        if (strpbrk(location, "?#"))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "location %s has a query or fragment, which a file cannot have", location);

        if (location[0] != '/')
                for (const char *b = manifest_dir; *b;) {
                        size_t len = strcspn(b, "/");
                        if (len > 0) {
                                if (segs.n >= PUBLISH_MAX_SEGMENTS)
                                        return sfu_err_set(err, SFU_ERR_PARSE, E2BIG, "path too deep");
                                segs.items[segs.n] = strndup(b, len);
                                if (!segs.items[segs.n])
                                        return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
                                segs.n++;
                        }
                        b += len + (b[len] == '/');
                }

        p = location[0] == '/' ? location + 1 : location;
        for (;;) {
                size_t len = strcspn(p, "/");
                bool last = p[len] == 0;
                _cleanup_free_ char *seg = malloc(len + 1);

                if (!seg)
                        return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
                if (decode_segment(p, len, seg) < 0)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "location %s has a bad percent-escape or a control character", location);
                directory = false;
                if (sfu_streq(seg, "..")) {
                        if (segs.n == 0)
                                return sfu_err_set(err, SFU_ERR_POLICY, EPERM,
                                                   "location %s leads outside the publish root", location);
                        free(segs.items[--segs.n]);
                        directory = true;
                } else if (sfu_streq(seg, "."))
                        directory = true;
                else if (!*seg) {
                        if (!last)
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "location %s has an empty path segment",
                                                   location);
                        directory = true;
                } else {
                        if (segs.n >= PUBLISH_MAX_SEGMENTS)
                                return sfu_err_set(err, SFU_ERR_PARSE, E2BIG, "location %s is too deep", location);
                        segs.items[segs.n++] = TAKE_PTR(seg);
                }
                if (last)
                        break;
                p += len + 1;
        }
        if (directory || segs.n == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EISDIR, "location %s names a directory, not a file", location);

        for (size_t i = 0; i < segs.n; i++)
                total += strlen(segs.items[i]) + 1;
        if (total > PATH_MAX)
                return sfu_err_set(err, SFU_ERR_PARSE, ENAMETOOLONG, "location %s is too long", location);
        out = malloc(total);
        if (!out)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        out[0] = 0;
        for (size_t i = 0; i < segs.n; i++) {
                if (i > 0)
                        strcat(out, "/");
                strcat(out, segs.items[i]);
        }
        *ret = TAKE_PTR(out);
        return 0;
}

struct publish_image {
        const struct sfu_manifest_image *image;
        char *rel;              /* path below the root; NULL: external, not copied */
        char *target;           /* root/rel */
        char *tmp;              /* verified copy waiting to be renamed to target */
        const char *source;     /* the IMAGE argument it came from */
};

struct publish_plan {
        struct publish_image items[SFU_MANIFEST_MAX_IMAGES];
        size_t n;
};

static void publish_plan_free(struct publish_plan *plan) {
        for (size_t i = 0; i < plan->n; i++) {
                if (plan->items[i].tmp)
                        unlink(plan->items[i].tmp);
                free(plan->items[i].tmp);
                free(plan->items[i].rel);
                free(plan->items[i].target);
        }
}

/* The first digest of image that differs from set, or NULL when all
 * listed digests match. */
static const char *digest_mismatch(const struct sfu_manifest_image *image, const struct sfu_digest_set *set) {
        for (size_t i = 0; i < image->n_digests; i++) {
                const struct sfu_manifest_digest *d = &image->digests[i];
                uint8_t value[SFU_DIGEST_MAX_SIZE];

                if (sfu_digest_set_get(set, d->alg, value) < 0 ||
                    memcmp(value, d->value, sfu_digest_size(d->alg)) != 0)
                        return sfu_digest_name(d->alg);
        }
        return NULL;
}

/* Copies one IMAGE argument into a temporary file in tmp_dir, hashing it
 * in the same pass, and hands the copy to the plan entry it matches. */
static int publish_copy_image(struct publish_plan *plan, const char *source, const char *tmp_dir,
                              struct sfu_err *err) {
        _cleanup_digest_set_ struct sfu_digest_set *set = NULL;
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *tmp = NULL, *tmp_hint = NULL;
        const struct publish_image *only = NULL;
        uint64_t size, max_size = 0;
        size_t open_entries = 0;
        int out_fd = -1, r;

        for (size_t i = 0; i < plan->n; i++) {
                const struct publish_image *pi = &plan->items[i];
                if (!pi->rel || pi->tmp)
                        continue;
                open_entries++;
                only = pi;
                max_size = !pi->image->has_size ? UINT64_MAX :
                           pi->image->size > max_size ? pi->image->size : max_size;
        }
        if (open_entries == 0)
                return sfu_err_set(err, SFU_ERR_POLICY, EINVAL,
                                   "%s is one image too many: every image of the manifest is already given", source);

        r = open_regular(source, &fd, err);
        if (r < 0)
                return r;
        if (sfu_digest_set_new(SFU_DIGEST_MASK_ALL, &set) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "cannot set up the digests");
        tmp_hint = format_new("%s/x", tmp_dir);
        if (!tmp_hint)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        r = create_temp_beside(tmp_hint, &tmp, &out_fd, err);
        if (r < 0)
                return r;
        r = digest_and_copy(fd, out_fd, set, max_size, &size);
        if (r >= 0)
                r = finish_file(out_fd, 0644, tmp, err);
        else
                close(out_fd);
        if (r < 0) {
                unlink(tmp);
                if (r == -EFBIG)
                        return sfu_err_set(err, SFU_ERR_SIZE, EFBIG,
                                           "%s is larger than every image of the manifest", source);
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot copy %s: %s", source, strerror(-r));
        }

        for (size_t i = 0; i < plan->n; i++) {
                struct publish_image *pi = &plan->items[i];
                if (!pi->rel || pi->tmp)
                        continue;
                if ((pi->image->has_size && pi->image->size != size) || digest_mismatch(pi->image, set))
                        continue;
                pi->tmp = TAKE_PTR(tmp);
                pi->source = source;
                return 0;
        }
        unlink(tmp);
        if (open_entries == 1 && only->image->has_size && only->image->size != size)
                return sfu_err_set(err, SFU_ERR_SIZE, EINVAL,
                                   "%s has %" PRIu64 " bytes, but the manifest's image \"%s\" has %" PRIu64, source,
                                   size, only->image->name, only->image->size);
        if (open_entries == 1)
                return sfu_err_set(err, SFU_ERR_DIGEST, EINVAL,
                                   "the %s digest of %s does not match the manifest's image \"%s\"",
                                   digest_mismatch(only->image, set), source, only->image->name);
        return sfu_err_set(err, SFU_ERR_DIGEST, EINVAL,
                           "%s (%" PRIu64 " bytes) matches the size and digests of no image of the manifest", source,
                           size);
}

static int cmd_publish(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "root", required_argument, NULL, 'r' },
                { "allow-external", no_argument, NULL, 'x' },
                {}
        };
        const char *cmd = "publish", *root = NULL, *manifest_path;
        _cleanup_free_ char *input = NULL, *manifest_dir = NULL, *manifest_rel = NULL, *manifest_file = NULL;
        _cleanup_manifest_ struct sfu_manifest *manifest = NULL;
        struct publish_plan plan _cleanup_(publish_plan_free) = {};
        _cleanup_jws_ struct sfu_jws *jws = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        bool allow_external = false;
        size_t input_len = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help_publish();
                        return EXIT_SUCCESS;
                case 'r':
                        root = optarg;
                        break;
                case 'x':
                        allow_external = true;
                        break;
                default:
                        return bad_option(cmd, c, argv);
                }
        if (!root || !*root)
                return usage_error(cmd, "--root is required");
        if (optind >= argc)
                return usage_error(cmd, "expected MANIFEST.jws and the image files");
        if (argc - optind - 1 > PUBLISH_MAX_IMAGE_ARGS)
                return usage_error(cmd, "at most %d images", PUBLISH_MAX_IMAGE_ARGS);
        manifest_path = argv[optind];

        /* The payload is read without trust: only to learn where things go.
         * Whoever fetches the manifest verifies it. */
        r = read_file(manifest_path, SFU_JWS_MAX_SIZE, &input, &input_len, &err);
        if (r < 0)
                return fail(cmd, r, &err);
        r = sfu_jws_parse(input, trim_trailing_space(input, input_len), &jws, &err);
        if (r >= 0)
                r = sfu_manifest_parse_json((const char *) jws->payload, jws->payload_len, SFU_MANIFEST_MAX_SIZE,
                                            &manifest, &err);
        if (r < 0) {
                sfu_err_prefix(&err, "%s", manifest_path);
                return fail(cmd, r, &err);
        }
        if (!safe_path_component(manifest->manufacturer))
                return failf(cmd, "manufacturer \"%s\" cannot be used as a directory name", manifest->manufacturer);
        if (!safe_path_component(manifest->model))
                return failf(cmd, "model \"%s\" cannot be used as a directory name", manifest->model);
        manifest_dir = format_new(".well-known/firmware/%s/%s", manifest->manufacturer, manifest->model);
        manifest_rel = manifest_dir ? format_new("%s/manifest.json", manifest_dir) : NULL;
        if (!manifest_rel)
                return failf(cmd, "out of memory");

        /* Plan: where each image of the manifest goes. */
        for (size_t i = 0; i < manifest->n_images; i++) {
                struct publish_image *pi = &plan.items[plan.n++];

                pi->image = &manifest->images[i];
                r = location_to_path(pi->image->location, manifest_dir, &pi->rel, &err);
                if (r == -EREMOTE) {
                        if (!allow_external)
                                return failf(cmd, "image \"%s\" has the external location %s; "
                                             "use --allow-external and publish it there yourself",
                                             pi->image->name, pi->image->location);
                        continue;
                }
                if (r < 0) {
                        sfu_err_prefix(&err, "image \"%s\"", pi->image->name);
                        return fail(cmd, r, &err);
                }
                if (sfu_streq(pi->rel, manifest_rel))
                        return failf(cmd, "image \"%s\" would replace the manifest itself", pi->image->name);
                for (size_t j = 0; j < i; j++)
                        if (sfu_streq(plan.items[j].rel, pi->rel))
                                return failf(cmd, "images \"%s\" and \"%s\" have the same location",
                                             plan.items[j].image->name, pi->image->name);
                pi->target = format_new("%s/%s", root, pi->rel);
                if (!pi->target)
                        return failf(cmd, "out of memory");
        }
        manifest_file = format_new("%s/%s", root, manifest_rel);
        if (!manifest_file)
                return failf(cmd, "out of memory");

        /* Copy and check every image before anything becomes visible. */
        {
                _cleanup_free_ char *tmp_dir = dir_of(manifest_file);
                if (!tmp_dir)
                        return failf(cmd, "out of memory");
                r = mkdir_all(tmp_dir, &err);
                if (r < 0)
                        return fail(cmd, r, &err);
                for (int a = optind + 1; a < argc; a++) {
                        r = publish_copy_image(&plan, argv[a], tmp_dir, &err);
                        if (r < 0)
                                return fail(cmd, r, &err);
                }
        }
        for (size_t i = 0; i < plan.n; i++)
                if (plan.items[i].rel && !plan.items[i].tmp)
                        return failf(cmd, "no file was given for the manifest's image \"%s\" (%s)",
                                     plan.items[i].image->name, plan.items[i].image->location);

        /* Images first, the manifest last: a server never offers a
         * manifest whose images are missing. */
        for (size_t i = 0; i < plan.n; i++) {
                struct publish_image *pi = &plan.items[i];
                _cleanup_free_ char *dir = NULL;

                if (!pi->rel)
                        continue;
                dir = dir_of(pi->target);
                if (!dir)
                        return failf(cmd, "out of memory");
                r = mkdir_all(dir, &err);
                if (r < 0)
                        return fail(cmd, r, &err);
                if (rename(pi->tmp, pi->target) < 0)
                        return failf(cmd, "cannot rename %s into %s: %s", pi->source, pi->target, strerror(errno));
                free(TAKE_PTR(pi->tmp));
                r = fsync_dir(dir, &err);
                if (r < 0)
                        return fail(cmd, r, &err);
        }
        r = sfu_file_write_atomic(manifest_file, input, input_len, 0644, &err);
        if (r < 0)
                return fail(cmd, r, &err);

        for (size_t i = 0; i < plan.n; i++) {
                if (plan.items[i].rel)
                        printf("%s\n", plan.items[i].rel);
                else
                        fprintf(stderr, PROG ": publish: note: image \"%s\" is at %s and was not copied\n",
                                plan.items[i].image->name, plan.items[i].image->location);
        }
        printf("%s\n", manifest_rel);
        return fflush(stdout) == 0 ? EXIT_SUCCESS : failf(cmd, "cannot write to standard output");
}

/* ------------------------------------------------------------ main */

static const struct command {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
} commands[] = {
        { "keygen", cmd_keygen, "make a signing key pair" },
        { "create", cmd_create, "print a manifest for image files" },
        { "sign", cmd_sign, "sign a manifest (or add a signature to a JWS)" },
        { "verify", cmd_verify, "verify a signed manifest and print it" },
        { "inspect", cmd_inspect, "show a JWS without verifying it" },
        { "publish", cmd_publish, "lay out a web server directory" },
};

static void help_main(void) {
        printf("Usage: " PROG " COMMAND [OPTIONS] [ARGS]\n"
               "       " PROG " --help | --version\n\n"
               "Makes keys and writes, signs, verifies and publishes SecFU firmware manifests.\n\n"
               "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                printf("  %-8s %s\n", commands[i].name, commands[i].summary);
        printf("\n'" PROG " COMMAND --help' describes a command; see also secfu-manifest(1).\n");
}

int main(int argc, char **argv) {
        const char *name;

        opterr = 0;
        if (argc < 2)
                return usage_error(NULL, "no command given");
        name = argv[1];
        if (sfu_streq(name, "--help") || sfu_streq(name, "-h")) {
                help_main();
                return EXIT_SUCCESS;
        }
        if (sfu_streq(name, "--version")) {
                printf(PROG " " PACKAGE_VERSION "\n");
                return EXIT_SUCCESS;
        }
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (sfu_streq(name, commands[i].name)) {
                        optind = 0;
                        return commands[i].run(argc - 1, argv + 1);
                }
        if (name[0] == '-')
                return usage_error(NULL, "unknown option %s", name);
        return usage_error(NULL, "unknown command %s", name);
}
