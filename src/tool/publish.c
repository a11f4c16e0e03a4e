/* SPDX-License-Identifier: MIT */
/* secfu-manifest publish: a directory tree for a static web server, with
 * the signed manifest at a well-known path (and a COSE form of it beside
 * it, for servers that negotiate), every image where its location,
 * resolved against the manifest URL, points, and optionally a bundle. */
#include <inttypes.h>

#include "core/digest.h"
#include "core/json.h"
#include "core/manifest.h"
#include "core/url.h"
#include "io/fileio.h"
#include "tool/tool.h"

#define PUBLISH_MAX_IMAGE_ARGS SFU_MANIFEST_MAX_IMAGES
/* The COSE form beside manifest.json (doc/manifest.md, "Publishing both
 * forms", whose nginx configuration serves it to devices that prefer it). */
#define PUBLISH_COSE_NAME "manifest.cbor"

/* The trees a publication can have: the manifest at
 * /.well-known/firmware/M/X/manifest.json (what the devices' default URL
 * templates ask for) and the variant the SecFU draft names in its
 * download section, /.well-known/manifest/M/X/manifest.json. */
static const struct {
        const char *name, *dir;
} layouts_known[] = {
        { "firmware", ".well-known/firmware" },
        { "manifest", ".well-known/manifest" },
};
#define LAYOUT_FIRMWARE 0
#define LAYOUT_BIT(i) (1u << (i))
#define LAYOUTS_MAX ELEMENTSOF(layouts_known)

static void help(void) {
        printf("Usage: " SFU_TOOL_PROG " publish --root DIR [--layout firmware|manifest|both]\n"
               "           [--cose SIGNED.cose] [--bundle PATH] [--allow-external]\n"
               "           SIGNED-MANIFEST [IMAGE ...]\n\n"
               "Lays out DIR for a static HTTP server: SIGNED-MANIFEST (any form) goes to\n"
               "DIR/.well-known/firmware/MANUFACTURER/MODEL/manifest.json (--layout manifest:\n"
               "DIR/.well-known/manifest/MANUFACTURER/MODEL/manifest.json; both: both) and\n"
               "every IMAGE to the path its location in the manifest resolves to from there.\n"
               "Signatures are not checked; each IMAGE must match the size and digests of an\n"
               "image of the manifest. Files are written atomically; the manifests last.\n\n"
               "  --root DIR         document root of the web server (created if missing)\n"
               "  --layout L         firmware (default), manifest or both\n"
               "  --cose FILE        also the COSE form of the same manifest, as manifest.cbor\n"
               "                     beside each manifest.json (a server that negotiates by\n"
               "                     Accept serves it to devices preferring COSE)\n"
               "  --bundle PATH      also a bundle of the manifest and the images at DIR/PATH\n"
               "                     (e.g. firmware/MANUFACTURER/MODEL/current.sfu)\n"
               "  --allow-external   accept images with absolute http(s) locations (they\n"
               "                     are not copied; publish them there yourself)\n");
}

static const struct sfu_tool_command command = { "publish", help };

/* One file an image goes to; an image has one per layout, fewer when two
 * layouts resolve its location to the same file. */
struct publish_target {
        size_t image;           /* index in manifest->images */
        char *rel;              /* path below the root */
};

struct publish_plan {
        const char *root;
        const struct sfu_manifest *manifest;
        const char *input, *cose_input;                 /* the signed manifests' bytes */
        size_t input_len, cose_len;
        const char *bundle_rel;                         /* --bundle PATH, or NULL */
        char *manifest_rels[LAYOUTS_MAX];
        char *cose_rels[LAYOUTS_MAX];                   /* manifest.cbor, with --cose */
        size_t n_manifests;
        struct publish_target targets[LAYOUTS_MAX * SFU_MANIFEST_MAX_IMAGES];
        size_t n_targets;
        bool external[SFU_MANIFEST_MAX_IMAGES];         /* absolute location, not copied */
        char *tmp[SFU_MANIFEST_MAX_IMAGES];             /* verified copy, waiting to be moved */
        const char *source[SFU_MANIFEST_MAX_IMAGES];    /* the IMAGE argument it came from */
        char *tmp_dir;                                  /* beside the first manifest */
        char *bundle_tmp;                               /* the bundle, waiting to be moved */
};

static void publish_plan_free(struct publish_plan *plan) {
        for (size_t i = 0; i < plan->n_manifests; i++) {
                free(plan->manifest_rels[i]);
                free(plan->cose_rels[i]);
        }
        for (size_t i = 0; i < plan->n_targets; i++)
                free(plan->targets[i].rel);
        for (size_t i = 0; i < SFU_MANIFEST_MAX_IMAGES; i++) {
                if (plan->tmp[i])
                        unlink(plan->tmp[i]);
                free(plan->tmp[i]);
        }
        free(plan->tmp_dir);
        if (plan->bundle_tmp)
                unlink(plan->bundle_tmp);
        free(plan->bundle_tmp);
}

/* ------------------------------------------------------------ the plan */

/* Adds a target unless the same image already goes there; two images at
 * one file are refused. */
static int add_target(struct publish_plan *plan, size_t image, char *rel, struct sfu_err *err) {
        _cleanup_free_ char *owned = rel;
        const struct sfu_manifest_image *images = plan->manifest->images;

        for (size_t j = 0; j < plan->n_targets; j++) {
                const struct publish_target *t = &plan->targets[j];
                if (!sfu_streq(t->rel, rel))
                        continue;
                if (t->image == image)
                        return 0;
                return sfu_err_set(err, SFU_ERR_POLICY, EEXIST, "images \"%s\" and \"%s\" have the same location",
                                   images[t->image].name, images[image].name);
        }
        plan->targets[plan->n_targets++] = (struct publish_target) { image, TAKE_PTR(owned) };
        return 0;
}

/* Where the manifest and every image go in one layout. */
static int plan_layout(struct publish_plan *plan, const char *dir, bool allow_external, struct sfu_err *err) {
        const struct sfu_manifest *m = plan->manifest;
        _cleanup_free_ char *base_path = NULL;
        char *manifest_rel;
        int r;

        manifest_rel = sfu_tool_format("%s/%s/%s/manifest.json", dir, m->manufacturer, m->model);
        if (!manifest_rel)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        plan->manifest_rels[plan->n_manifests++] = manifest_rel;
        if (plan->cose_input) {
                plan->cose_rels[plan->n_manifests - 1] =
                        sfu_tool_format("%s/%s/%s/" PUBLISH_COSE_NAME, dir, m->manufacturer, m->model);
                if (!plan->cose_rels[plan->n_manifests - 1])
                        return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        }
        base_path = sfu_tool_format("/%s", manifest_rel);
        if (!base_path)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");

        for (size_t i = 0; i < m->n_images; i++) {
                const struct sfu_manifest_image *image = &m->images[i];
                char *rel = NULL;

                r = sfu_url_local_path(base_path, image->location, &rel, err);
                if (r == -EREMOTE) {
                        if (!allow_external)
                                return sfu_err_set(err, SFU_ERR_POLICY, EREMOTE,
                                                   "image \"%s\" has the external location %s; "
                                                   "use --allow-external and publish it there yourself",
                                                   image->name, image->location);
                        plan->external[i] = true;
                        continue;
                }
                if (r < 0) {
                        sfu_err_prefix(err, "image \"%s\"", image->name);
                        return r;
                }
                r = add_target(plan, i, rel, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Whether rel is a file the plan writes besides the images: a manifest,
 * its COSE form or the bundle; the name of what it is, or NULL. */
static const char *special_file(const struct publish_plan *plan, const char *rel) {
        for (size_t j = 0; j < plan->n_manifests; j++) {
                if (sfu_streq(rel, plan->manifest_rels[j]))
                        return plan->manifest_rels[j];
                if (sfu_streq(rel, plan->cose_rels[j]))
                        return plan->cose_rels[j];
        }
        return sfu_streq(rel, plan->bundle_rel) ? plan->bundle_rel : NULL;
}

/* No image lands on a manifest or the bundle, and the bundle on no
 * manifest. */
static int check_clashes(const struct publish_plan *plan, struct sfu_err *err) {
        const struct sfu_manifest *m = plan->manifest;

        for (size_t t = 0; t < plan->n_targets; t++) {
                const char *what = special_file(plan, plan->targets[t].rel);
                if (what)
                        return sfu_err_set(err, SFU_ERR_POLICY, EEXIST, "image \"%s\" would replace %s",
                                           m->images[plan->targets[t].image].name, what);
        }
        for (size_t j = 0; plan->bundle_rel && j < plan->n_manifests; j++)
                if (sfu_streq(plan->bundle_rel, plan->manifest_rels[j]) || sfu_streq(plan->bundle_rel, plan->cose_rels[j]))
                        return sfu_err_set(err, SFU_ERR_POLICY, EEXIST, "--bundle %s would replace a manifest",
                                           plan->bundle_rel);
        for (size_t i = 0; plan->bundle_rel && i < m->n_images; i++)
                if (plan->external[i])
                        return sfu_err_set(err, SFU_ERR_POLICY, EREMOTE,
                                           "--bundle needs every image, and image \"%s\" is external (%s)",
                                           m->images[i].name, m->images[i].location);
        return 0;
}

static int make_plan(struct publish_plan *plan, unsigned layouts, bool allow_external, struct sfu_err *err) {
        const struct sfu_manifest *m = plan->manifest;
        int r;

        if (!sfu_url_segment_unreserved(m->manufacturer))
                return sfu_err_set(err, SFU_ERR_POLICY, EINVAL, "manufacturer \"%s\" cannot be used as a directory name",
                                   m->manufacturer);
        if (!sfu_url_segment_unreserved(m->model))
                return sfu_err_set(err, SFU_ERR_POLICY, EINVAL, "model \"%s\" cannot be used as a directory name",
                                   m->model);
        for (size_t l = 0; l < LAYOUTS_MAX; l++) {
                if (!(layouts & LAYOUT_BIT(l)))
                        continue;
                r = plan_layout(plan, layouts_known[l].dir, allow_external, err);
                if (r < 0)
                        return r;
        }
        return check_clashes(plan, err);
}

/* ------------------------------------------------------------ the images */

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

/* An image of the manifest that still waits for its file. */
static bool image_open(const struct publish_plan *plan, size_t i) {
        return !plan->external[i] && !plan->tmp[i];
}

/* Copies src_fd into a new temporary file in dir, hashing it with set
 * (NULL: not hashed); more than max_size bytes is -EFBIG. */
static int copy_to_temp(int src_fd, const char *dir, uint64_t max_size, struct sfu_digest_set *set,
                        char **ret_tmp, uint64_t *ret_size, struct sfu_err *err) {
        _cleanup_free_ char *tmp = NULL;
        int out_fd = -1, r;

        r = sfu_file_create_temp(dir, &tmp, &out_fd, err);
        if (r < 0)
                return r;
        r = sfu_file_copy(src_fd, out_fd, max_size, set, ret_size);
        if (r >= 0)
                r = sfu_file_finish(out_fd, tmp, NULL, 0, 0644, err);
        else
                close(out_fd);
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        *ret_tmp = TAKE_PTR(tmp);
        return 0;
}

/* Why source fits no open image: the one line for the user. */
static int explain_mismatch(const struct publish_plan *plan, const char *source, uint64_t size,
                            const struct sfu_digest_set *set, struct sfu_err *err) {
        const struct sfu_manifest_image *only = NULL;
        size_t open_images = 0;

        for (size_t i = 0; i < plan->manifest->n_images; i++)
                if (image_open(plan, i)) {
                        open_images++;
                        only = &plan->manifest->images[i];
                }
        if (open_images == 1 && only->has_size && only->size != size)
                return sfu_err_set(err, SFU_ERR_SIZE, EINVAL,
                                   "%s has %" PRIu64 " bytes, but the manifest's image \"%s\" has %" PRIu64, source,
                                   size, only->name, only->size);
        if (open_images == 1)
                return sfu_err_set(err, SFU_ERR_DIGEST, EINVAL,
                                   "the %s digest of %s does not match the manifest's image \"%s\"",
                                   digest_mismatch(only, set), source, only->name);
        return sfu_err_set(err, SFU_ERR_DIGEST, EINVAL,
                           "%s (%" PRIu64 " bytes) matches the size and digests of no image of the manifest", source,
                           size);
}

/* Copies one IMAGE argument into the temporary directory, hashing it in
 * the same pass, and hands the copy to the image it matches. */
static int copy_image(struct publish_plan *plan, const char *source, struct sfu_err *err) {
        const struct sfu_manifest *m = plan->manifest;
        _cleanup_digest_set_ struct sfu_digest_set *set = NULL;
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        uint64_t size = 0, max_size = 0;
        size_t open_images = 0;
        int r;

        for (size_t i = 0; i < m->n_images; i++) {
                if (!image_open(plan, i))
                        continue;
                open_images++;
                max_size = !m->images[i].has_size ? UINT64_MAX :
                           m->images[i].size > max_size ? m->images[i].size : max_size;
        }
        if (open_images == 0)
                return sfu_err_set(err, SFU_ERR_POLICY, EINVAL,
                                   "%s is one image too many: every image of the manifest is already given", source);

        r = sfu_file_open_regular(source, &fd, err);
        if (r < 0)
                return r;
        if (sfu_digest_set_new(SFU_DIGEST_MASK_ALL, &set) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "cannot set up the digests");
        r = copy_to_temp(fd, plan->tmp_dir, max_size, set, &tmp, &size, err);
        if (r == -EFBIG)
                return sfu_err_set(err, SFU_ERR_SIZE, EFBIG, "%s is larger than every image of the manifest", source);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot copy %s: %s", source, strerror(-r));

        for (size_t i = 0; i < m->n_images; i++) {
                const struct sfu_manifest_image *image = &m->images[i];

                if (!image_open(plan, i) || (image->has_size && image->size != size) || digest_mismatch(image, set))
                        continue;
                plan->tmp[i] = TAKE_PTR(tmp);
                plan->source[i] = source;
                return 0;
        }
        unlink(tmp);
        return explain_mismatch(plan, source, size, set, err);
}

/* Moves (for its last target) or copies the verified file of the image
 * into the target's place. */
static int install_target(struct publish_plan *plan, size_t t, struct sfu_err *err) {
        const struct publish_target *target = &plan->targets[t];
        _cleanup_free_ char *path = NULL, *copy = NULL;
        _cleanup_close_ int fd = -1;
        bool last = true;
        int r;

        path = sfu_tool_format("%s/%s", plan->root, target->rel);
        if (!path)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        for (size_t j = t + 1; j < plan->n_targets; j++)
                if (plan->targets[j].image == target->image)
                        last = false;
        if (last) {
                r = sfu_file_move_into(plan->tmp[target->image], path, err);
                if (r >= 0)
                        free(TAKE_PTR(plan->tmp[target->image]));
                return r;
        }
        r = sfu_file_open_regular(plan->tmp[target->image], &fd, err);
        if (r >= 0)
                r = copy_to_temp(fd, plan->tmp_dir, UINT64_MAX, NULL, &copy, NULL, err);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot copy %s: %s", plan->source[target->image],
                                   strerror(-r));
        r = sfu_file_move_into(copy, path, err);
        if (r < 0)
                unlink(copy);
        return r;
}

/* ------------------------------------------------------------ the command */

/* Writes data to root/rel atomically, creating its directories. */
static int write_file(const char *root, const char *rel, const void *data, size_t len, struct sfu_err *err) {
        _cleanup_free_ char *path = sfu_tool_format("%s/%s", root, rel);
        char *slash;
        int r;

        if (!path)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        slash = strrchr(path, '/');
        *slash = 0;
        r = sfu_mkdir_p(path, 0755);
        *slash = '/';
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot create the directory of %s: %s", path, strerror(-r));
        return sfu_file_write_atomic(path, data, len, 0644, err);
}

/* The bundle, from the verified copies of the images, into a temporary
 * file beside its place. */
static int make_bundle(struct publish_plan *plan, struct sfu_err *err) {
        const struct sfu_manifest *m = plan->manifest;
        _cleanup_free_ char *dir = sfu_tool_format("%s/%s", plan->root, plan->bundle_rel);
        int r;

        if (!dir)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        *strrchr(dir, '/') = 0;
        r = sfu_mkdir_p(dir, 0755);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot create directory %s: %s", dir, strerror(-r));
        return sfu_tool_bundle_write(dir, plan->input, plan->input_len, m, plan->tmp, m->n_images, &plan->bundle_tmp,
                                     err);
}

/* Copies and checks every image (and makes the bundle) before anything
 * becomes visible, then writes the images, the bundle and, last, the
 * manifests: a server never offers a manifest whose images are missing. */
static int publish(struct publish_plan *plan, char **images, size_t n_images, struct sfu_err *err) {
        const struct sfu_manifest *m = plan->manifest;
        _cleanup_free_ char *bundle_path = NULL;
        int r;

        plan->tmp_dir = sfu_tool_format("%s/%s", plan->root, plan->manifest_rels[0]);
        if (!plan->tmp_dir)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        *strrchr(plan->tmp_dir, '/') = 0;
        r = sfu_mkdir_p(plan->tmp_dir, 0755);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot create directory %s: %s", plan->tmp_dir,
                                   strerror(-r));
        for (size_t a = 0; a < n_images; a++) {
                r = copy_image(plan, images[a], err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < m->n_images; i++)
                if (image_open(plan, i))
                        return sfu_err_set(err, SFU_ERR_POLICY, ENOENT,
                                           "no file was given for the manifest's image \"%s\" (%s)", m->images[i].name,
                                           m->images[i].location);
        if (plan->bundle_rel && (r = make_bundle(plan, err)) < 0)
                return r;

        for (size_t t = 0; t < plan->n_targets; t++) {
                r = install_target(plan, t, err);
                if (r < 0)
                        return r;
        }
        if (plan->bundle_rel) {
                bundle_path = sfu_tool_format("%s/%s", plan->root, plan->bundle_rel);
                if (!bundle_path)
                        return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
                r = sfu_file_move_into(plan->bundle_tmp, bundle_path, err);
                if (r < 0)
                        return r;
                free(TAKE_PTR(plan->bundle_tmp));
        }
        for (size_t j = 0; plan->cose_input && j < plan->n_manifests; j++) {
                r = write_file(plan->root, plan->cose_rels[j], plan->cose_input, plan->cose_len, err);
                if (r < 0)
                        return r;
        }
        for (size_t j = 0; j < plan->n_manifests; j++) {
                r = write_file(plan->root, plan->manifest_rels[j], plan->input, plan->input_len, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void print_result(const struct publish_plan *plan) {
        for (size_t t = 0; t < plan->n_targets; t++)
                printf("%s\n", plan->targets[t].rel);
        for (size_t i = 0; i < plan->manifest->n_images; i++)
                if (plan->external[i])
                        fprintf(stderr, SFU_TOOL_PROG ": publish: note: image \"%s\" is at %s and was not copied\n",
                                plan->manifest->images[i].name, plan->manifest->images[i].location);
        if (plan->bundle_rel)
                printf("%s\n", plan->bundle_rel);
        for (size_t j = 0; plan->cose_input && j < plan->n_manifests; j++)
                printf("%s\n", plan->cose_rels[j]);
        for (size_t j = 0; j < plan->n_manifests; j++)
                printf("%s\n", plan->manifest_rels[j]);
}

/* --bundle PATH: below the root, segments a URL names as they are. */
static int check_bundle_path(const char *rel) {
        _cleanup_free_ char *copy = strdup(rel);
        char *save = NULL;

        if (!copy)
                return sfu_tool_failf(command.name, "out of memory");
        if (!*rel || rel[0] == '/' || rel[strlen(rel) - 1] == '/' || strstr(rel, "//"))
                return sfu_tool_usage_error(command.name, "--bundle %s is not a relative file path", rel);
        for (char *seg = strtok_r(copy, "/", &save); seg; seg = strtok_r(NULL, "/", &save))
                if (!sfu_url_segment_unreserved(seg))
                        return sfu_tool_usage_error(command.name, "--bundle %s: \"%s\" is not a plain path segment "
                                                    "(letters, digits, -._~; no . or ..)", rel, seg);
        return 0;
}

/* --cose FILE: a COSE form of the same manifest as the one to publish. */
static int read_cose(const char *path, const struct sfu_tool_signed *primary, const struct sfu_manifest *m,
                     char **ret, size_t *ret_len, struct sfu_err *err) {
        _cleanup_tool_signed_ struct sfu_tool_signed s = {};
        _cleanup_manifest_ struct sfu_manifest *other = NULL;
        _cleanup_json_ json_t *a = NULL, *b = NULL;
        int r;

        if (primary->cose)
                return sfu_err_set(err, SFU_ERR_POLICY, EINVAL,
                                   "the manifest to publish is a %s already; give the JWS as SIGNED-MANIFEST and the COSE "
                                   "form with --cose", sfu_signed_form_name(primary->form));
        r = sfu_tool_read_signed(path, SFU_COSE_MAX_SIZE, ret, ret_len, &s, &other, err);
        if (r < 0)
                return r;
        if (!s.cose)
                return sfu_err_set(err, SFU_ERR_POLICY, EINVAL, "--cose %s is a %s, not COSE", path,
                                   sfu_signed_form_name(s.form));
        if (sfu_manifest_to_json(m, &a) < 0 || sfu_manifest_to_json(other, &b) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        if (!json_equal(a, b))
                return sfu_err_set(err, SFU_ERR_POLICY, EINVAL,
                                   "--cose %s does not carry the same manifest as the one to publish", path);
        return 0;
}

static int parse_layout(void *target, const char *text) {
        unsigned *ret = target;

        for (size_t l = 0; l < LAYOUTS_MAX; l++)
                if (sfu_streq(text, layouts_known[l].name)) {
                        *ret = LAYOUT_BIT(l);
                        return 0;
                }
        if (!sfu_streq(text, "both"))
                return sfu_tool_usage_error(command.name, "--layout must be firmware, manifest or both, not %s", text);
        *ret = LAYOUT_BIT(LAYOUTS_MAX) - 1;
        return 0;
}

int sfu_tool_publish(int argc, char **argv) {
        const char *cmd = command.name, *manifest_path, *cose_path = NULL;
        struct publish_plan plan _cleanup_(publish_plan_free) = {};
        unsigned layouts = LAYOUT_BIT(LAYOUT_FIRMWARE);
        bool allow_external = false;
        const struct sfu_tool_option options[] = {
                { "root", 0, SFU_TOOL_STRING, &plan.root },
                { "allow-external", 0, SFU_TOOL_FLAG, &allow_external },
                { "layout", 0, SFU_TOOL_CALL, &layouts, parse_layout },
                { "cose", 0, SFU_TOOL_STRING, &cose_path },
                { "bundle", 0, SFU_TOOL_STRING, &plan.bundle_rel },
        };
        _cleanup_tool_signed_ struct sfu_tool_signed s = {};
        _cleanup_manifest_ struct sfu_manifest *manifest = NULL;
        _cleanup_free_ char *input = NULL, *cose_input = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        int r, status;

        if (sfu_tool_parse_options(&command, argc, argv, options, ELEMENTSOF(options), &status) < 0)
                return status;
        if (!plan.root || !*plan.root)
                return sfu_tool_usage_error(cmd, "--root is required");
        if (optind >= argc)
                return sfu_tool_usage_error(cmd, "expected SIGNED-MANIFEST and the image files");
        if (argc - optind - 1 > PUBLISH_MAX_IMAGE_ARGS)
                return sfu_tool_usage_error(cmd, "at most %d images", PUBLISH_MAX_IMAGE_ARGS);
        if (plan.bundle_rel && (status = check_bundle_path(plan.bundle_rel)) != 0)
                return status;
        manifest_path = argv[optind];

        /* The payload is read without trust: only to learn where things go.
         * Whoever fetches the manifest verifies it. */
        r = sfu_tool_read_signed(manifest_path, SFU_JWS_MAX_SIZE, &input, &plan.input_len, &s, &manifest, &err);
        if (r >= 0 && cose_path)
                r = read_cose(cose_path, &s, manifest, &cose_input, &plan.cose_len, &err);
        if (r < 0)
                return sfu_tool_fail(cmd, r, &err);
        plan.manifest = manifest;
        plan.input = input;
        plan.cose_input = cose_input;
        r = make_plan(&plan, layouts, allow_external, &err);
        if (r >= 0)
                r = publish(&plan, argv + optind + 1, (size_t) (argc - optind - 1), &err);
        if (r < 0)
                return sfu_tool_fail(cmd, r, &err);
        print_result(&plan);
        return sfu_tool_done(cmd);
}
