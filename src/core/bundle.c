/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "core/bundle.h"

static uint64_t get_be(const uint8_t *p, size_t n) {
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++)
                v = v << 8 | p[i];
        return v;
}

static void put_be(uint8_t *p, size_t n, uint64_t v) {
        for (size_t i = n; i-- > 0; v >>= 8)
                p[i] = (uint8_t) v;
}

bool sfu_bundle_is(const void *buf, size_t len) {
        return buf && len >= SFU_BUNDLE_MAGIC_SIZE && memcmp(buf, SFU_BUNDLE_MAGIC, SFU_BUNDLE_MAGIC_SIZE) == 0;
}

int sfu_bundle_parse_header(const void *buf, size_t len, struct sfu_bundle_header *ret, struct sfu_err *err) {
        const uint8_t *p = buf;
        uint64_t version, header_len, manifest_len, images_len;

        if (!sfu_bundle_is(buf, len))
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "not a bundle: its magic is missing");
        if (len < SFU_BUNDLE_HEADER_SIZE)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "bundle header truncated: %zu of %u bytes", len,
                                   SFU_BUNDLE_HEADER_SIZE);
        version = get_be(p + 8, 2);
        header_len = get_be(p + 10, 2);
        manifest_len = get_be(p + 12, 4);
        images_len = get_be(p + 16, 8);
        if (version != SFU_BUNDLE_VERSION)
                return sfu_err_set(err, SFU_ERR_PARSE, EPROTONOSUPPORT,
                                   "bundle format version %" PRIu64 " is not supported (this device reads version %d)",
                                   version, SFU_BUNDLE_VERSION);
        if (header_len != SFU_BUNDLE_HEADER_SIZE)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG, "bundle header length is %" PRIu64 ", not %u",
                                   header_len, SFU_BUNDLE_HEADER_SIZE);
        if (manifest_len == 0 || manifest_len > SFU_BUNDLE_MANIFEST_MAX)
                return sfu_err_set(err, SFU_ERR_SIZE, EFBIG,
                                   "bundle manifest length %" PRIu64 " is outside 1..%u bytes", manifest_len,
                                   SFU_BUNDLE_MANIFEST_MAX);
        if (images_len > UINT64_MAX - SFU_BUNDLE_HEADER_SIZE - manifest_len)
                return sfu_err_set(err, SFU_ERR_SIZE, EFBIG, "bundle image length %" PRIu64 " is impossible",
                                   images_len);
        *ret = (struct sfu_bundle_header) { .manifest_len = (uint32_t) manifest_len, .images_len = images_len };
        return 0;
}

size_t sfu_bundle_prefix_limit(const char *buf, size_t len, const char *data, size_t n) {
        uint8_t head[SFU_BUNDLE_HEADER_SIZE];
        struct sfu_bundle_header h;
        struct sfu_err err = SFU_ERR_INIT;
        size_t have = 0;

        /* Asked again with every block: the answer depends only on the
         * first 24 bytes, wherever they are. */
        have = len < SFU_BUNDLE_HEADER_SIZE ? len : SFU_BUNDLE_HEADER_SIZE;
        if (have > 0)
                memcpy(head, buf, have);
        if (n > SFU_BUNDLE_HEADER_SIZE - have)
                n = SFU_BUNDLE_HEADER_SIZE - have;
        if (n > 0)
                memcpy(head + have, data, n);
        have += n;
        if (have < SFU_BUNDLE_MAGIC_SIZE || !sfu_bundle_is(head, have))
                return 0;
        if (have < SFU_BUNDLE_HEADER_SIZE)
                return 0;
        if (sfu_bundle_parse_header(head, have, &h, &err) < 0)
                return SFU_BUNDLE_HEADER_SIZE;
        return SFU_BUNDLE_HEADER_SIZE + (size_t) h.manifest_len;
}

void sfu_bundle_write_header(const struct sfu_bundle_header *h, uint8_t out[SFU_BUNDLE_HEADER_SIZE]) {
        memcpy(out, SFU_BUNDLE_MAGIC, SFU_BUNDLE_MAGIC_SIZE);
        put_be(out + 8, 2, SFU_BUNDLE_VERSION);
        put_be(out + 10, 2, SFU_BUNDLE_HEADER_SIZE);
        put_be(out + 12, 4, h->manifest_len);
        put_be(out + 16, 8, h->images_len);
}

uint64_t sfu_bundle_length(const struct sfu_bundle_header *h) {
        return SFU_BUNDLE_HEADER_SIZE + (uint64_t) h->manifest_len + h->images_len;
}

int sfu_bundle_check(const struct sfu_bundle_header *h, const struct sfu_manifest *m, uint64_t *ret_offsets,
                     struct sfu_err *err) {
        uint64_t offset = SFU_BUNDLE_HEADER_SIZE + (uint64_t) h->manifest_len, sum = 0;

        for (size_t i = 0; i < m->n_images; i++) {
                const struct sfu_manifest_image *img = &m->images[i];
                if (!img->has_size)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "image \"%s\" has no size: a bundle's manifest gives every image's size",
                                           img->name);
                if (img->size > UINT64_MAX - sum)
                        return sfu_err_set(err, SFU_ERR_SIZE, EFBIG, "the images' sizes overflow");
                ret_offsets[i] = offset + sum;
                sum += img->size;
        }
        if (sum != h->images_len)
                return sfu_err_set(err, SFU_ERR_SIZE, EBADMSG,
                                   "the bundle's header says %" PRIu64 " image bytes, its manifest %" PRIu64, h->images_len,
                                   sum);
        return 0;
}
