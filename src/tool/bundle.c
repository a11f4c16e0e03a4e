/* SPDX-License-Identifier: MIT */
/* Bundles in the tool (doc/bundle.md): the head read under the device's
 * rules, the images streamed through their digests in constant memory,
 * and a bundle written from a signed manifest and its image files
 * (pack, publish --bundle). */
#include <inttypes.h>
#include <sys/stat.h>

#include "core/digest.h"
#include "io/fileio.h"
#include "tool/tool.h"

/* Reads up to len bytes; fewer only at the end of the file. */
static ssize_t read_full(int fd, void *buf, size_t len) {
        size_t got = 0;
        int r = sfu_file_read_full(fd, buf, len, -1, &got);

        return r < 0 ? r : (ssize_t) got;
}

void sfu_tool_bundle_clear(struct sfu_tool_bundle *b) {
        free(b->manifest);
        b->manifest = NULL;
}

/* Rules 2 to 4 of doc/bundle.md "Rules a device applies". */
static int check_head(const struct sfu_tool_bundle *b, size_t have, bool lenient, struct sfu_err *err) {
        const struct sfu_bundle_header *h = &b->header;
        uint64_t head = SFU_BUNDLE_HEADER_SIZE + (uint64_t) h->manifest_len;

        if (!lenient && h->manifest_len > SFU_MANIFEST_MAX_SIZE)
                return sfu_err_set(err, SFU_ERR_SIZE, EFBIG,
                                   "the bundle's manifest is %" PRIu32 " bytes, more than max-manifest-size (%u)",
                                   h->manifest_len, SFU_MANIFEST_MAX_SIZE);
        if (have < h->manifest_len)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG,
                                   "bundle truncated: its manifest ends at byte %" PRIu64 ", the file at %" PRIu64, head,
                                   (uint64_t) SFU_BUNDLE_HEADER_SIZE + have);
        if (!lenient && b->has_file_size && b->file_size != sfu_bundle_length(h))
                return sfu_err_set(err, SFU_ERR_SIZE, EBADMSG,
                                   "the bundle is %" PRIu64 " bytes, its header says %" PRIu64
                                   " (24 + %" PRIu32 " manifest + %" PRIu64 " image bytes)",
                                   b->file_size, sfu_bundle_length(h), h->manifest_len, h->images_len);
        return 0;
}

int sfu_tool_bundle_read_head(int fd, const char *name, const void *first, size_t len, bool lenient,
                              struct sfu_tool_bundle *ret, struct sfu_err *err) {
        struct sfu_tool_bundle b = { .fd = fd, .name = name };
        uint8_t header[SFU_BUNDLE_HEADER_SIZE];
        struct stat st;
        ssize_t n;
        int r;

        if (len > sizeof(header))
                return -EINVAL;
        memcpy(header, first, len);
        n = read_full(fd, header + len, sizeof(header) - len);
        if (n < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, (int) -n, "cannot read %s: %s", name, strerror((int) -n));
        r = sfu_bundle_parse_header(header, len + (size_t) n, &b.header, err);
        if (r < 0)
                return r;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
                b.has_file_size = true;
                b.file_size = (uint64_t) st.st_size;
        }
        b.manifest = malloc((size_t) b.header.manifest_len + 1);
        if (!b.manifest)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        n = read_full(fd, b.manifest, b.header.manifest_len);
        if (n < 0)
                r = sfu_err_set(err, SFU_ERR_STORAGE, (int) -n, "cannot read %s: %s", name, strerror((int) -n));
        else
                r = check_head(&b, (size_t) n, lenient, err);
        if (r < 0) {
                sfu_tool_bundle_clear(&b);
                return r;
        }
        b.manifest[b.header.manifest_len] = 0;
        *ret = b;
        return 0;
}

/* ------------------------------------------------------------ checking the images */

/* The first digest of image that differs from set, or NULL. */
static const char *digest_mismatch(const struct sfu_manifest_image *image, const struct sfu_digest_set *set) {
        for (size_t i = 0; i < image->n_digests; i++) {
                const struct sfu_manifest_digest *d = &image->digests[i];
                uint8_t value[SFU_DIGEST_MAX_SIZE];

                if (sfu_digest_set_get(set, d->alg, value) < 0 || memcmp(value, d->value, sfu_digest_size(d->alg)) != 0)
                        return sfu_digest_name(d->alg);
        }
        return NULL;
}

/* Streams image i (size bytes at offset, the next bytes of b->fd) through
 * its digests. */
static int check_image(struct sfu_tool_bundle *b, const struct sfu_manifest *m, size_t i, uint64_t offset,
                       uint8_t *block, struct sfu_err *err) {
        const struct sfu_manifest_image *image = &m->images[i];
        _cleanup_digest_set_ struct sfu_digest_set *set = NULL;
        const char *bad;
        uint64_t done = 0;

        if (sfu_digest_set_new(image->digest_mask, &set) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "cannot set up the digests");
        while (done < image->size) {
                uint64_t left = image->size - done;
                ssize_t n = read_full(b->fd, block, left < SFU_TOOL_BUNDLE_BLOCK ? (size_t) left : SFU_TOOL_BUNDLE_BLOCK);

                if (n < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, (int) -n, "cannot read %s: %s", b->name,
                                           strerror((int) -n));
                if (n == 0)
                        return sfu_err_set(err, SFU_ERR_SIZE, EBADMSG,
                                           "the bundle file ended in image \"%s\" at byte %" PRIu64 " of %" PRIu64,
                                           image->name, done, image->size);
                if (sfu_digest_set_update(set, block, (size_t) n) < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, EIO, "cannot compute the digests");
                done += (uint64_t) n;
        }
        if (sfu_digest_set_final(set) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, EIO, "cannot compute the digests");
        bad = digest_mismatch(image, set);
        if (bad)
                return sfu_err_set(err, SFU_ERR_DIGEST, EBADMSG,
                                   "image %zu of %zu \"%s\" (bytes %" PRIu64 " to %" PRIu64
                                   " of the bundle): its %s digest does not match the manifest",
                                   i + 1, m->n_images, image->name, offset, offset + image->size - 1, bad);
        return 0;
}

int sfu_tool_bundle_check_images(struct sfu_tool_bundle *b, const struct sfu_manifest *m, const uint64_t *offsets,
                                 struct sfu_err *err) {
        _cleanup_free_ uint8_t *block = malloc(SFU_TOOL_BUNDLE_BLOCK);
        ssize_t n;
        int r;

        if (!block)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        for (size_t i = 0; i < m->n_images; i++) {
                r = check_image(b, m, i, offsets[i], block, err);
                if (r < 0)
                        return r;
        }
        /* A pipe's length is known only now (a file's was checked first). */
        n = read_full(b->fd, block, 1);
        if (n < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, (int) -n, "cannot read %s: %s", b->name, strerror((int) -n));
        if (n > 0)
                return sfu_err_set(err, SFU_ERR_SIZE, EBADMSG, "the bundle goes on after its last image (at byte %" PRIu64 ")",
                                   sfu_bundle_length(&b->header));
        return 0;
}

/* ------------------------------------------------------------ writing */

struct bundle_inputs {
        int fds[SFU_MANIFEST_MAX_IMAGES];
        size_t n;
};

static void bundle_inputs_close(struct bundle_inputs *in) {
        for (size_t i = 0; i < in->n; i++)
                close(in->fds[i]);
}

/* The image of m (other than i) that a file of size bytes, digests set
 * (NULL: by its size only), could be. */
static const struct sfu_manifest_image *other_image(const struct sfu_manifest *m, size_t i, uint64_t size,
                                                    const struct sfu_digest_set *set) {
        for (size_t j = 0; j < m->n_images; j++)
                if (j != i && m->images[j].size == size && (!set || !digest_mismatch(&m->images[j], set)))
                        return &m->images[j];
        return NULL;
}

static int out_of_order(const struct sfu_manifest *m, size_t i, const char *path,
                        const struct sfu_manifest_image *other, const char *what, struct sfu_err *err) {
        return sfu_err_set(err, SFU_ERR_POLICY, EINVAL,
                           "%s %s image \"%s\", not of image %zu \"%s\": give the images in the manifest's order", path,
                           what, other->name, i + 1, m->images[i].name);
}

/* The count, every size, and every file open: what can be refused before
 * a byte is written. */
static int open_inputs(const struct sfu_manifest *m, char *const *paths, size_t n, struct bundle_inputs *in,
                       uint64_t *ret_total, struct sfu_err *err) {
        uint64_t total = 0;
        int r;

        if (n != m->n_images)
                return sfu_err_set(err, SFU_ERR_POLICY, EINVAL, "the manifest has %zu image%s, %zu given", m->n_images,
                                   m->n_images == 1 ? "" : "s", n);
        for (size_t i = 0; i < n; i++) {
                const struct sfu_manifest_image *image = &m->images[i], *other;
                struct stat st;

                if (!image->has_size)
                        return sfu_err_set(err, SFU_ERR_POLICY, EINVAL,
                                           "the manifest's image \"%s\" has no size; a bundle needs every image's size",
                                           image->name);
                r = sfu_file_open_regular(paths[i], &in->fds[in->n], err);
                if (r < 0)
                        return r;
                in->n++;
                if (fstat(in->fds[i], &st) < 0)
                        return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot stat %s: %s", paths[i], strerror(errno));
                if ((uint64_t) st.st_size != image->size) {
                        other = other_image(m, i, (uint64_t) st.st_size, NULL);
                        if (other)
                                return out_of_order(m, i, paths[i], other, "has the size of", err);
                        return sfu_err_set(err, SFU_ERR_SIZE, EINVAL,
                                           "%s has %" PRIu64 " bytes, the manifest's image %zu \"%s\" %" PRIu64, paths[i],
                                           (uint64_t) st.st_size, i + 1, image->name, image->size);
                }
                if (image->size > UINT64_MAX - SFU_BUNDLE_HEADER_SIZE - SFU_BUNDLE_MANIFEST_MAX - total)
                        return sfu_err_set(err, SFU_ERR_SIZE, EFBIG, "the images are too large for a bundle");
                total += image->size;
        }
        *ret_total = total;
        return 0;
}

/* Copies image i from in_fd to out_fd, checking its size and digests. */
static int copy_image(const struct sfu_manifest *m, size_t i, const char *path, int in_fd, int out_fd,
                      struct sfu_err *err) {
        const struct sfu_manifest_image *image = &m->images[i], *other;
        _cleanup_digest_set_ struct sfu_digest_set *set = NULL;
        uint64_t copied = 0;
        const char *bad;
        int r;

        if (sfu_digest_set_new(SFU_DIGEST_MASK_ALL, &set) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "cannot set up the digests");
        r = sfu_file_copy(in_fd, out_fd, image->size, set, &copied);
        if (r == -EFBIG || (r >= 0 && copied != image->size))
                return sfu_err_set(err, SFU_ERR_SIZE, EINVAL, "%s changed size while it was read", path);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot copy %s: %s", path, strerror(-r));
        bad = digest_mismatch(image, set);
        if (!bad)
                return 0;
        other = other_image(m, i, image->size, set);
        if (other)
                return out_of_order(m, i, path, other, "is", err);
        return sfu_err_set(err, SFU_ERR_DIGEST, EBADMSG, "the %s digest of %s does not match the manifest's image %zu \"%s\"",
                           bad, path, i + 1, image->name);
}

int sfu_tool_bundle_write(const char *dir, const void *signed_manifest, size_t signed_len, const struct sfu_manifest *m,
                          char *const *image_paths, size_t n_paths, char **ret_tmp, struct sfu_err *err) {
        struct bundle_inputs in _cleanup_(bundle_inputs_close) = {};
        _cleanup_free_ char *tmp = NULL;
        uint8_t header[SFU_BUNDLE_HEADER_SIZE];
        struct sfu_bundle_header h = {};
        int out_fd = -1, r;

        if (signed_len == 0 || signed_len > SFU_MANIFEST_MAX_SIZE)
                return sfu_err_set(err, SFU_ERR_SIZE, EFBIG,
                                   "the signed manifest has %zu bytes; a device takes 1 to %u (max-manifest-size)",
                                   signed_len, SFU_MANIFEST_MAX_SIZE);
        r = open_inputs(m, image_paths, n_paths, &in, &h.images_len, err);
        if (r < 0)
                return r;
        h.manifest_len = (uint32_t) signed_len;
        sfu_bundle_write_header(&h, header);

        r = sfu_file_create_temp(dir, &tmp, &out_fd, err);
        if (r < 0)
                return r;
        r = sfu_file_write_all(out_fd, header, sizeof(header));
        if (r >= 0)
                r = sfu_file_write_all(out_fd, signed_manifest, signed_len);
        if (r < 0)
                r = sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot write %s: %s", tmp, strerror(-r));
        for (size_t i = 0; r >= 0 && i < m->n_images; i++)
                r = copy_image(m, i, image_paths[i], in.fds[i], out_fd, err);
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
