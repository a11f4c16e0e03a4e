/* SPDX-License-Identifier: MIT */
/* secfu-manifest create: a manifest for image files, with the key
 * rotation (keyInfo), the rollback floor it announces and the components
 * it delegates to providers. */
#include <fcntl.h>
#include <stddef.h>
#include <unistd.h>
#include <time.h>

#include "core/digest.h"
#include "core/hex.h"
#include "core/json.h"
#include "core/key.h"
#include "core/manifest.h"
#include "core/timeutil.h"
#include "core/units.h"
#include "core/url.h"
#include "core/version.h"
#include "io/fileio.h"
#include "io/zchunk.h"
#include "tool/tool.h"

#define CREATE_MAX_IMAGES SFU_MANIFEST_MAX_IMAGES
#define CREATE_MAX_KEYS SFU_MANIFEST_MAX_KEYS   /* --announce-key, and --revoke-kid */
#define CREATE_MAX_PROVIDERS SFU_MANIFEST_MAX_PROVIDERS

static void help(void) {
        printf("Usage: " SFU_TOOL_PROG " create --manufacturer M --model X --version V\n"
               "           --image FILE[=LOCATION] [--slot-class CLASS] [--name NAME] ...\n"
               "           [--expires DATE] [--timestamp DATE] [--rollback-floor VERSION]\n"
               "           [--announce-key PUB ...] [--revoke-kid KID ...]\n"
               "           [--provider NAME=MANIFEST (--provider-kid KID | --provider-key PUB)\n"
               "            [--provider-class CLASS] [--min-version V] ...]\n"
               "           [--delta [--delta-chunk-size SIZE]]\n\n"
               "Prints a manifest (JSON) with the size, SHA-256 and SHA-512 of every image.\n\n"
               "  --manufacturer M         manufacturer, as the devices have it configured\n"
               "  --model X                model, as the devices have it configured\n"
               "  --version V              firmware version major.minor.revision\n"
               "  --image FILE[=LOC]       image file; LOC is its location relative to the\n"
               "                           manifest URL or an absolute http(s) URI (default:\n"
               "                           the file's name); split at the first '='\n"
               "  --slot-class CLASS       slot class of the preceding --image\n"
               "  --name NAME              name of the preceding --image (default: its file\n"
               "                           name without the extension)\n"
               "  --expires DATE           RFC 3339 date-time or YYYY-MM-DD\n"
               "  --timestamp DATE         use DATE instead of the current time\n"
               "  --rollback-floor VERSION oldest version devices may go back to (at most V)\n"
               "  --announce-key PUB       public key (PEM or JWK) devices trust from now on\n"
               "                           (keyInfo.newKeys); repeatable, at most %d\n"
               "  --revoke-kid KID         key id devices stop trusting (keyInfo.revokedKeys);\n"
               "                           repeatable, at most %d\n"
               "  --provider NAME=MANIFEST a component another party supplies: its name and\n"
               "                           where its signed manifest is (relative to this\n"
               "                           manifest's URL, or an absolute http(s) URI);\n"
               "                           repeatable, at most %d\n"
               "  --provider-kid KID       the trust-store key that signs that manifest\n"
               "  --provider-key PUB       or a public key (PEM or JWK) this manifest\n"
               "                           introduces for that component only\n"
               "  --provider-class CLASS   its slot class (default: NAME)\n"
               "  --min-version V          the lowest version of it devices take\n"
               "  --delta                  also write every image as a zchunk file FILE.zck\n"
               "                           beside it (at LOC.zck) and list it in the manifest,\n"
               "                           so that devices fetch only the chunks they lack\n"
               "  --delta-chunk-size SIZE  bytes of image per chunk (default 16K; a multiple\n"
               "                           of 4K up to 4M)\n\n"
               "One --image without --slot-class gives the single-image form\n"
               "(firmwareLocation); several images, or any --slot-class, give the\n"
               "\"images\" form, where every image needs --slot-class.  --provider-kid or\n"
               "--provider-key, --provider-class and --min-version apply to the --provider\n"
               "before them; a manifest with providers has the images form and names\n"
               "\"providers\" in \"crit\".\n",
               CREATE_MAX_KEYS, CREATE_MAX_KEYS, CREATE_MAX_PROVIDERS);
}

static const struct sfu_tool_command command = { "create", help };

struct create_image {
        char *file;             /* the --image argument, cut at its first '=' */
        const char *location;   /* after that '=' in the same buffer; NULL: the
                                 * basename of file, percent-encoded */
        const char *slot_class;
        const char *name;       /* NULL: basename of file without its extension */
        char *name_default;
};

struct create_provider {
        char *name;             /* the --provider argument, cut at its first '=' */
        const char *manifest;   /* after that '=' in the same buffer */
        const char *kid, *key_path, *slot_class, *min_version;
};

struct create_opts {
        const char *manufacturer, *model, *version, *expires_text, *timestamp_text, *rollback_floor;
        struct create_image images[CREATE_MAX_IMAGES];
        size_t n_images;
        struct create_provider providers[CREATE_MAX_PROVIDERS];
        size_t n_providers;
        const char *announce[CREATE_MAX_KEYS];
        size_t n_announce;
        const char *revoke[CREATE_MAX_KEYS];
        size_t n_revoke;
        int64_t timestamp, expires;
        bool split;
        bool delta;                     /* --delta: FILE.zck beside every image */
        const char *delta_chunk_text;
        uint32_t delta_chunk;
};

static void create_opts_free(struct create_opts *o) {
        for (size_t i = 0; i < o->n_images; i++) {
                free(o->images[i].file);
                free(o->images[i].name_default);
        }
        for (size_t i = 0; i < o->n_providers; i++)
                free(o->providers[i].name);
}

/* ------------------------------------------------------------ the JSON */

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

/* commitHash (SHA-256 and SHA-512) and size of one image file, in one
 * read. */
static int image_hashes(const struct create_image *img, json_t **ret_hashes, uint64_t *ret_size,
                        struct sfu_err *err) {
        static const enum sfu_digest_alg algs[] = { SFU_DIGEST_SHA256, SFU_DIGEST_SHA512 };
        _cleanup_digest_set_ struct sfu_digest_set *set = NULL;
        _cleanup_json_ json_t *hashes = NULL;
        _cleanup_close_ int fd = -1;
        uint64_t size;
        int r;

        r = sfu_file_open_regular(img->file, &fd, err);
        if (r < 0)
                return r;
        r = sfu_digest_set_new(SFU_DIGEST_MASK(SFU_DIGEST_SHA256) | SFU_DIGEST_MASK(SFU_DIGEST_SHA512), &set);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot set up the digests");
        r = sfu_digest_fd(fd, set, &size);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot read %s: %s", img->file, strerror(-r));
        if (size > (uint64_t) INT64_MAX)
                return sfu_err_set(err, SFU_ERR_SIZE, EFBIG, "%s is too large", img->file);

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

/* Adds one image: to root in the single-image form, to list otherwise. */
/* FILE.zck beside the image, and the manifest member that binds it. */
static int image_delta(const struct create_image *img, const char *location, uint32_t chunk_size,
                       json_t **ret, struct sfu_err *err) {
        _cleanup_free_ char *path = NULL, *zck_location = NULL;
        _cleanup_close_ int in = -1, out = -1;
        uint8_t sha[SFU_ZCHUNK_DIGEST_SIZE];
        char hex[2 * SFU_ZCHUNK_DIGEST_SIZE + 1];
        uint64_t header = 0, size = 0;
        size_t qpos = strcspn(location, "?#");
        int r;

        if (asprintf(&path, "%s.zck", img->file) < 0 ||
            asprintf(&zck_location, "%.*s.zck%s", (int) qpos, location, location + qpos) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        r = sfu_file_open_regular(img->file, &in, err);
        if (r < 0)
                return r;
        out = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot create %s: %s", path, strerror(errno));
        r = sfu_zchunk_write(in, out, chunk_size, SFU_ZCHUNK_DEFAULT_LEVEL, &header, sha, &size, err);
        if (r < 0) {
                sfu_err_prefix(err, "%s", path);
                (void) unlink(path);
                return r;
        }
        if (fsync(out) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot sync %s: %s", path, strerror(errno));
        sfu_hex_encode(sha, sizeof(sha), hex);
        *ret = json_pack("{s:s, s:s, s:I, s:I, s:s, s:I}", "format", SFU_DELTA_FORMAT, "location", zck_location,
                         "size", (json_int_t) size, "headerSize", (json_int_t) header, "headerSha256", hex,
                         "chunkSize", (json_int_t) chunk_size);
        if (!*ret)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        return 0;
}

static int add_image(json_t *root, json_t *list, const struct create_image *img, uint32_t delta_chunk,
                     struct sfu_err *err) {
        _cleanup_json_ json_t *hashes = NULL, *entry = NULL, *delta = NULL;
        _cleanup_free_ char *location = NULL;
        uint64_t size = 0;
        int r;

        r = image_hashes(img, &hashes, &size, err);
        if (r < 0)
                return r;
        if (img->location)
                location = strdup(img->location);
        else if (sfu_url_segment_encode(base_name(img->file), &location) < 0)
                location = NULL;
        if (!location)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        if (delta_chunk) {
                r = image_delta(img, location, delta_chunk, &delta, err);
                if (r < 0)
                        return r;
        }

        if (!list) {
                r = add_string(root, "firmwareLocation", location, "the image location", err);
                if (r < 0)
                        return r;
                if (json_object_set_new(root, "firmwareSize", json_integer((json_int_t) size)) < 0 ||
                    json_object_set_new(root, "firmwareCryptoInfo", json_pack("{s:O}", "commitHash", hashes)) < 0 ||
                    (delta && json_object_set(root, "firmwareDelta", delta) < 0))
                        return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
                return 0;
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
            json_object_set(entry, "commitHash", hashes) < 0 || (delta && json_object_set(entry, "delta", delta) < 0) ||
            json_array_append(list, entry) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        return 0;
}

/* keyInfo.newKeys: the public JWK (with its kid) of every --announce-key
 * file.  A private key, the same key twice, two keys with one kid and a
 * key whose kid is revoked in the same manifest are refused. */
static int new_keys_json(const struct create_opts *o, json_t **ret, struct sfu_err *err) {
        _cleanup_json_ json_t *list = json_array();
        char *thumbprints[CREATE_MAX_KEYS] = {};
        int r = 0;

        if (!list)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        for (size_t i = 0; i < o->n_announce && r >= 0; i++) {
                const char *path = o->announce[i];
                _cleanup_key_ struct sfu_key *key = NULL;
                json_t *jwk = NULL;

                r = sfu_key_load_file(path, false, &key, err);
                if (r >= 0 && key->is_private)
                        r = sfu_err_set(err, SFU_ERR_PARSE, EPERM,
                                        "--announce-key %s holds a private key; give the public key", path);
                if (r >= 0 && sfu_key_thumbprint(key, &thumbprints[i]) < 0)
                        r = sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "cannot compute the thumbprint of %s", path);
                for (size_t j = 0; r >= 0 && j < i; j++)
                        if (sfu_streq(thumbprints[i], thumbprints[j]))
                                r = sfu_err_set(err, SFU_ERR_PARSE, EEXIST, "--announce-key %s is the same key as %s",
                                                path, o->announce[j]);
                for (size_t j = 0; r >= 0 && j < i; j++)
                        if (sfu_streq(key->kid, json_string_value(json_object_get(json_array_get(list, j), "kid"))))
                                r = sfu_err_set(err, SFU_ERR_PARSE, EEXIST, "--announce-key %s and %s have the kid %s",
                                                o->announce[j], path, key->kid);
                for (size_t j = 0; r >= 0 && j < o->n_revoke; j++)
                        if (sfu_streq(key->kid, o->revoke[j]))
                                r = sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                                "--announce-key %s has the kid %s, which --revoke-kid revokes", path,
                                                key->kid);
                if (r >= 0 && (sfu_key_to_jwk(key, &jwk) < 0 || json_array_append_new(list, jwk) < 0))
                        r = sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "cannot export %s as a JWK", path);
        }
        for (size_t i = 0; i < o->n_announce; i++)
                free(thumbprints[i]);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(list);
        return 0;
}

static int add_key_info(json_t *root, const struct create_opts *o, struct sfu_err *err) {
        _cleanup_json_ json_t *key_info = NULL, *new_keys = NULL, *revoked = NULL;
        int r;

        if (o->n_announce == 0 && o->n_revoke == 0)
                return 0;
        key_info = json_object();
        if (!key_info)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        if (o->n_announce > 0) {
                r = new_keys_json(o, &new_keys, err);
                if (r < 0)
                        return r;
                if (json_object_set(key_info, "newKeys", new_keys) < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        }
        if (o->n_revoke > 0) {
                revoked = json_array();
                if (!revoked || json_object_set(key_info, "revokedKeys", revoked) < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
                for (size_t i = 0; i < o->n_revoke; i++) {
                        json_t *kid = json_string(o->revoke[i]);
                        if (!kid)
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "--revoke-kid is not valid UTF-8");
                        if (json_array_append_new(revoked, kid) < 0)
                                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
                }
        }
        if (json_object_set(root, "keyInfo", key_info) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        return 0;
}

/* One "providers" entry; a --provider-key becomes the public JWK (with
 * its kid) that the entry introduces. */
static int provider_json(const struct create_provider *p, json_t **ret, struct sfu_err *err) {
        _cleanup_json_ json_t *entry = json_object();
        int r;

        if (!entry)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        r = add_string(entry, "name", p->name, "--provider", err);
        if (r >= 0)
                r = add_string(entry, "slotClass", p->slot_class ? p->slot_class : p->name, "--provider-class", err);
        if (r >= 0)
                r = add_string(entry, "manifest", p->manifest, "--provider", err);
        if (r >= 0 && p->kid)
                r = add_string(entry, "kid", p->kid, "--provider-kid", err);
        if (r >= 0 && p->key_path) {
                _cleanup_key_ struct sfu_key *key = NULL;
                json_t *jwk = NULL;

                r = sfu_key_load_file(p->key_path, false, &key, err);
                if (r >= 0 && key->is_private)
                        r = sfu_err_set(err, SFU_ERR_PARSE, EPERM,
                                        "--provider-key %s holds a private key; give the public key", p->key_path);
                if (r >= 0 && (sfu_key_to_jwk(key, &jwk) < 0 || json_object_set_new(entry, "key", jwk) < 0))
                        r = sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "cannot export %s as a JWK", p->key_path);
        }
        if (r >= 0 && p->min_version)
                r = add_string(entry, "minVersion", p->min_version, "--min-version", err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(entry);
        return 0;
}

static int add_providers(json_t *root, const struct create_opts *o, struct sfu_err *err) {
        _cleanup_json_ json_t *list = NULL;
        int r;

        if (o->n_providers == 0)
                return 0;
        list = json_array();
        if (!list || json_object_set_new(root, "crit", json_pack("[s]", "providers")) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        for (size_t i = 0; i < o->n_providers; i++) {
                json_t *entry = NULL;

                r = provider_json(&o->providers[i], &entry, err);
                if (r < 0)
                        return r;
                if (json_array_append_new(list, entry) < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        }
        if (json_object_set(root, "providers", list) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        return 0;
}

static int build_manifest(const struct create_opts *o, json_t **ret, struct sfu_err *err) {
        _cleanup_json_ json_t *root = json_object(), *list = NULL;
        char when[32];
        int r;

        if (!root)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        r = add_string(root, "manifestVersion", "1.0", "manifestVersion", err);
        if (r >= 0)
                r = add_string(root, "timestamp", sfu_time_format_rfc3339(o->timestamp, when), "timestamp", err);
        if (r >= 0 && o->expires_text)
                r = add_string(root, "expires", sfu_time_format_rfc3339(o->expires, when), "--expires", err);
        if (r >= 0)
                r = add_string(root, "manufacturer", o->manufacturer, "--manufacturer", err);
        if (r >= 0)
                r = add_string(root, "model", o->model, "--model", err);
        if (r >= 0)
                r = add_string(root, "firmwareVersion", o->version, "--version", err);
        if (r >= 0 && o->rollback_floor)
                r = add_string(root, "rollbackFloor", o->rollback_floor, "--rollback-floor", err);
        if (r < 0)
                return r;

        if (o->split && !(list = json_array()))
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        for (size_t i = 0; i < o->n_images; i++) {
                r = add_image(root, list, &o->images[i], o->delta ? o->delta_chunk : 0, err);
                if (r < 0)
                        return r;
        }
        if (list && json_object_set(root, "images", list) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        r = add_providers(root, o, err);
        if (r >= 0)
                r = add_key_info(root, o, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(root);
        return 0;
}

/* ------------------------------------------------------------ the options */

static int add_image_option(void *target, const char *arg) {
        const char *cmd = command.name;
        struct create_opts *o = target;
        struct create_image *img;
        char *eq;

        if (o->n_images >= CREATE_MAX_IMAGES)
                return sfu_tool_usage_error(cmd, "at most %d images", CREATE_MAX_IMAGES);
        img = &o->images[o->n_images++];
        img->file = strdup(arg);
        if (!img->file)
                return sfu_tool_failf(cmd, "out of memory");
        eq = strchr(img->file, '=');
        if (eq) {
                *eq = 0;
                if (!eq[1])
                        return sfu_tool_usage_error(cmd, "empty location in --image %s", arg);
                img->location = eq + 1;
        }
        if (!img->file[0])
                return sfu_tool_usage_error(cmd, "empty file name in --image %s", arg);
        img->name_default = name_from_basename(base_name(img->file));
        if (!img->name_default)
                return sfu_tool_failf(cmd, "out of memory");
        return 0;
}

/* --slot-class and --name apply to the --image before them. */
static int set_image_field(struct create_opts *o, const char *option, size_t offset, const char *arg) {
        struct create_image *last = o->n_images > 0 ? &o->images[o->n_images - 1] : NULL;
        const char **field;

        if (!last)
                return sfu_tool_usage_error(command.name, "%s must follow the --image it applies to", option);
        field = (const char **) (void *) ((char *) last + offset);
        if (*field)
                return sfu_tool_usage_error(command.name, "two %s options for --image %s", option, last->file);
        *field = arg;
        return 0;
}

static int set_slot_class(void *target, const char *arg) {
        return set_image_field(target, "--slot-class", offsetof(struct create_image, slot_class), arg);
}

static int set_name(void *target, const char *arg) {
        return set_image_field(target, "--name", offsetof(struct create_image, name), arg);
}

/* --announce-key and --revoke-kid: at most the manifest's limit, each
 * value once. */
static int add_repeated(const char **list, size_t *n, const char *option, const char *arg) {
        if (*n >= CREATE_MAX_KEYS)
                return sfu_tool_usage_error(command.name, "at most %d %s options (the manifest's limit)",
                                            CREATE_MAX_KEYS, option);
        if (!*arg)
                return sfu_tool_usage_error(command.name, "%s must not be empty", option);
        for (size_t i = 0; i < *n; i++)
                if (sfu_streq(list[i], arg))
                        return sfu_tool_usage_error(command.name, "%s %s is given twice", option, arg);
        list[(*n)++] = arg;
        return 0;
}

static int add_announce(void *target, const char *arg) {
        struct create_opts *o = target;
        return add_repeated(o->announce, &o->n_announce, "--announce-key", arg);
}

static int add_revoke(void *target, const char *arg) {
        struct create_opts *o = target;
        return add_repeated(o->revoke, &o->n_revoke, "--revoke-kid", arg);
}

static int add_provider(void *target, const char *arg) {
        const char *cmd = command.name;
        struct create_opts *o = target;
        struct create_provider *p;
        char *eq;

        if (o->n_providers >= CREATE_MAX_PROVIDERS)
                return sfu_tool_usage_error(cmd, "at most %d providers (the manifest's limit)", CREATE_MAX_PROVIDERS);
        p = &o->providers[o->n_providers++];
        p->name = strdup(arg);
        if (!p->name)
                return sfu_tool_failf(cmd, "out of memory");
        eq = strchr(p->name, '=');
        if (!eq || eq == p->name || !eq[1])
                return sfu_tool_usage_error(cmd, "--provider %s is not NAME=MANIFEST", arg);
        *eq = 0;
        p->manifest = eq + 1;
        return 0;
}

/* --provider-kid, --provider-key, --provider-class and --min-version
 * apply to the --provider before them. */
static int set_provider_field(struct create_opts *o, const char *option, size_t offset, const char *arg) {
        struct create_provider *last = o->n_providers > 0 ? &o->providers[o->n_providers - 1] : NULL;
        const char **field;

        if (!last)
                return sfu_tool_usage_error(command.name, "%s must follow the --provider it applies to", option);
        if (!*arg)
                return sfu_tool_usage_error(command.name, "%s must not be empty", option);
        field = (const char **) (void *) ((char *) last + offset);
        if (*field)
                return sfu_tool_usage_error(command.name, "two %s options for --provider %s", option, last->name);
        *field = arg;
        return 0;
}

static int set_provider_kid(void *target, const char *arg) {
        return set_provider_field(target, "--provider-kid", offsetof(struct create_provider, kid), arg);
}

static int set_provider_key(void *target, const char *arg) {
        return set_provider_field(target, "--provider-key", offsetof(struct create_provider, key_path), arg);
}

static int set_provider_class(void *target, const char *arg) {
        return set_provider_field(target, "--provider-class", offsetof(struct create_provider, slot_class), arg);
}

static int set_min_version(void *target, const char *arg) {
        return set_provider_field(target, "--min-version", offsetof(struct create_provider, min_version), arg);
}

/* Reads the options into o.  Returns 0, or -1 when the command is over
 * (--help, a usage error) with its exit status in *ret_status. */
static int parse_options(int argc, char **argv, struct create_opts *o, int *ret_status) {
        const struct sfu_tool_option options[] = {
                { "manufacturer", 0, SFU_TOOL_STRING, &o->manufacturer },
                { "model", 0, SFU_TOOL_STRING, &o->model },
                { "version", 0, SFU_TOOL_STRING, &o->version },
                { "image", 0, SFU_TOOL_CALL, o, add_image_option },
                { "slot-class", 0, SFU_TOOL_CALL, o, set_slot_class },
                { "name", 0, SFU_TOOL_CALL, o, set_name },
                { "expires", 0, SFU_TOOL_STRING, &o->expires_text },
                { "timestamp", 0, SFU_TOOL_STRING, &o->timestamp_text },
                { "rollback-floor", 0, SFU_TOOL_STRING, &o->rollback_floor },
                { "announce-key", 0, SFU_TOOL_CALL, o, add_announce },
                { "revoke-kid", 0, SFU_TOOL_CALL, o, add_revoke },
                { "provider", 0, SFU_TOOL_CALL, o, add_provider },
                { "provider-kid", 0, SFU_TOOL_CALL, o, set_provider_kid },
                { "provider-key", 0, SFU_TOOL_CALL, o, set_provider_key },
                { "provider-class", 0, SFU_TOOL_CALL, o, set_provider_class },
                { "min-version", 0, SFU_TOOL_CALL, o, set_min_version },
                { "delta", 0, SFU_TOOL_FLAG, &o->delta },
                { "delta-chunk-size", 0, SFU_TOOL_STRING, &o->delta_chunk_text },
        };

        if (sfu_tool_parse_options(&command, argc, argv, options, ELEMENTSOF(options), ret_status) < 0)
                return -1;
        if (optind < argc) {
                *ret_status = sfu_tool_usage_error(command.name, "unexpected argument %s", argv[optind]);
                return -1;
        }
        return 0;
}

static int parse_date_option(const char *opt, const char *value, int64_t *ret) {
        if (sfu_time_parse_rfc3339(value, true, ret) < 0)
                return sfu_tool_usage_error(command.name, "%s %s is not an RFC 3339 date-time or YYYY-MM-DD date",
                                            opt, value);
        return 0;
}

/* The required options, the version, the rollback floor and the dates;
 * returns 0 or the exit status. */
static int check_options(struct create_opts *o) {
        const char *cmd = command.name;
        struct sfu_version version, floor;
        int r;

        if (!o->manufacturer)
                return sfu_tool_usage_error(cmd, "--manufacturer is required");
        if (!o->model)
                return sfu_tool_usage_error(cmd, "--model is required");
        if (!o->version)
                return sfu_tool_usage_error(cmd, "--version is required");
        if (o->n_images == 0)
                return sfu_tool_usage_error(cmd, "at least one --image is required");
        if (sfu_version_parse(o->version, &version) < 0)
                return sfu_tool_usage_error(cmd, "--version %s is not major.minor.revision (decimal, no leading zeros)",
                                            o->version);
        if (o->rollback_floor) {
                if (sfu_version_parse(o->rollback_floor, &floor) < 0)
                        return sfu_tool_usage_error(cmd, "--rollback-floor %s is not major.minor.revision "
                                                    "(decimal, no leading zeros)", o->rollback_floor);
                if (sfu_version_compare(&floor, &version) > 0)
                        return sfu_tool_usage_error(cmd, "--rollback-floor %s is above --version %s",
                                                    o->rollback_floor, o->version);
        }

        if (o->timestamp_text) {
                r = parse_date_option("--timestamp", o->timestamp_text, &o->timestamp);
                if (r != 0)
                        return r;
        } else {
                struct timespec now;
                if (clock_gettime(CLOCK_REALTIME, &now) < 0)
                        return sfu_tool_failf(cmd, "cannot read the clock: %s", strerror(errno));
                o->timestamp = (int64_t) now.tv_sec;
        }
        o->delta_chunk = SFU_ZCHUNK_DEFAULT_CHUNK;
        if (o->delta_chunk_text) {
                uint64_t v;
                if (!o->delta)
                        return sfu_tool_usage_error(cmd, "--delta-chunk-size needs --delta");
                if (sfu_units_parse_size(o->delta_chunk_text, &v) < 0 || v < SFU_DELTA_MIN_CHUNK ||
                    v > SFU_DELTA_MAX_CHUNK || v % SFU_DELTA_MIN_CHUNK != 0)
                        return sfu_tool_usage_error(cmd, "--delta-chunk-size %s is not a multiple of 4K from 4K to 4M",
                                                    o->delta_chunk_text);
                o->delta_chunk = (uint32_t) v;
        }
        if (o->expires_text) {
                r = parse_date_option("--expires", o->expires_text, &o->expires);
                if (r != 0)
                        return r;
                if (o->expires <= o->timestamp)
                        return sfu_tool_usage_error(cmd, "--expires %s is not after the manifest's timestamp",
                                                    o->expires_text);
        }
        return 0;
}

/* Each provider has exactly one key and a valid minimum version; returns 0
 * or the exit status. */
static int check_providers(const struct create_opts *o) {
        const char *cmd = command.name;

        for (size_t i = 0; i < o->n_providers; i++) {
                const struct create_provider *p = &o->providers[i];
                struct sfu_version v;

                if (!p->kid == !p->key_path)
                        return sfu_tool_usage_error(cmd, "--provider %s needs exactly one of --provider-kid and "
                                                    "--provider-key", p->name);
                if (p->min_version && sfu_version_parse(p->min_version, &v) < 0)
                        return sfu_tool_usage_error(cmd, "--min-version %s is not major.minor.revision (decimal, "
                                                    "no leading zeros)", p->min_version);
                for (size_t j = 0; j < i; j++)
                        if (sfu_streq(p->name, o->providers[j].name))
                                return sfu_tool_usage_error(cmd, "two providers are named \"%s\"", p->name);
                for (size_t j = 0; j < o->n_images; j++) {
                        const struct create_image *img = &o->images[j];
                        if (sfu_streq(p->name, img->name ? img->name : img->name_default))
                                return sfu_tool_usage_error(cmd, "the provider \"%s\" has the name of an image",
                                                            p->name);
                }
        }
        return 0;
}

/* Picks the form (single image or "images") and checks the images fit
 * it; returns 0 or the exit status. */
static int check_images(struct create_opts *o) {
        const char *cmd = command.name;

        o->split = o->n_images > 1 || o->n_providers > 0;
        for (size_t i = 0; i < o->n_images; i++)
                if (o->images[i].slot_class)
                        o->split = true;
        for (size_t i = 0; i < o->n_images; i++) {
                const struct create_image *img = &o->images[i];
                const char *name = img->name ? img->name : img->name_default;

                if (!o->split && img->name)
                        return sfu_tool_usage_error(cmd, "--name needs the images form: give --slot-class too");
                if (!o->split)
                        continue;
                if (!img->slot_class)
                        return sfu_tool_usage_error(cmd, "--image %s needs a --slot-class (several images, or providers)", img->file);
                if (!*name)
                        return sfu_tool_usage_error(cmd, "--image %s needs a --name", img->file);
                for (size_t j = 0; j < i; j++) {
                        const struct create_image *other = &o->images[j];
                        if (sfu_streq(name, other->name ? other->name : other->name_default))
                                return sfu_tool_usage_error(cmd, "two images are named \"%s\"; give --name", name);
                }
        }
        return 0;
}

int sfu_tool_create(int argc, char **argv) {
        const char *cmd = command.name;
        struct create_opts opts _cleanup_(create_opts_free) = {};
        _cleanup_manifest_ struct sfu_manifest *check = NULL;
        _cleanup_json_ json_t *root = NULL;
        _cleanup_free_ char *text = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        int r, status = 0;

        if (parse_options(argc, argv, &opts, &status) < 0)
                return status;
        r = check_options(&opts);
        if (r == 0)
                r = check_images(&opts);
        if (r == 0)
                r = check_providers(&opts);
        if (r != 0)
                return r;

        r = build_manifest(&opts, &root, &err);
        if (r < 0)
                return sfu_tool_fail(cmd, r, &err);
        text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text)
                return sfu_tool_failf(cmd, "out of memory");

        /* What we print must be what a device accepts as syntax. */
        r = sfu_manifest_parse_json(text, strlen(text), SFU_MANIFEST_MAX_SIZE, &check, &err);
        if (r < 0) {
                sfu_err_prefix(&err, "the manifest would not be valid");
                return sfu_tool_fail(cmd, r, &err);
        }
        printf("%s\n", text);
        return sfu_tool_done(cmd);
}
