/* SPDX-License-Identifier: MIT */
/* An image's "delta" member (doc/delta.md, doc/manifest.md):
 *
 *   "delta": {"format": "zchunk", "location": "rootfs.img.zck", "size": Z,
 *             "headerSize": H, "headerSha256": HEX(32 bytes), "chunkSize": C}
 *
 * every member required, no other member allowed.  A device that does not
 * know the member ignores it and downloads the image as always. */
#include <inttypes.h>

#include "core/hex.h"
#include "core/json.h"
#include "core/manifest-internal.h"

static const char *const members[] = { "format", "location", "size", "headerSize", "headerSha256", "chunkSize" };

int sfu_manifest_parse_delta(json_t *obj, const char *path, struct sfu_manifest_image *img, struct sfu_err *err) {
        struct sfu_manifest_delta d = {};
        const char *format = NULL, *location = NULL, *hex = NULL;
        uint64_t chunk_size = 0;
        char what[MANIFEST_PATH_MAX + 16];
        int r;

        r = sfu_manifest_check_members(obj, path, members, ELEMENTSOF(members), err);
        if (r < 0)
                return r;
        snprintf(what, sizeof(what), "%s.format", path);
        r = sfu_manifest_get_text(obj, "format", what, true, SFU_MANIFEST_MAX_STRING, &format, err);
        if (r < 0)
                return r;
        if (strcmp(format, SFU_DELTA_FORMAT) != 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EOPNOTSUPP,
                                   "manifest \"%s\" \"%.*s\" is not supported (" SFU_DELTA_FORMAT " is)", what,
                                   sfu_manifest_excerpt(format), format);
        snprintf(what, sizeof(what), "%s.location", path);
        r = sfu_manifest_get_text(obj, "location", what, true, SFU_MANIFEST_MAX_LOCATION, &location, err);
        if (r < 0)
                return r;
        r = sfu_manifest_check_location(what, location, err);
        if (r < 0)
                return r;
        r = sfu_manifest_get_positive(obj, path, "size", &d.size, err);
        if (r < 0)
                return r;
        r = sfu_manifest_get_positive(obj, path, "headerSize", &d.header_size, err);
        if (r < 0)
                return r;
        r = sfu_manifest_get_positive(obj, path, "chunkSize", &chunk_size, err);
        if (r < 0)
                return r;
        d.chunk_size = chunk_size > UINT32_MAX ? 0 : (uint32_t) chunk_size;
        snprintf(what, sizeof(what), "%s.headerSha256", path);
        r = sfu_manifest_get_text(obj, "headerSha256", what, true, 64, &hex, err);
        if (r < 0)
                return r;
        if (strlen(hex) != 64 || sfu_hex_decode(hex, d.header_sha256, sizeof(d.header_sha256)) < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s\" is not 64 hexadecimal digits", what);
        r = sfu_manifest_dup_text(location, &d.location, err);
        if (r < 0)
                return r;
        d.present = true;
        free(img->delta.location);
        img->delta = d;
        return sfu_manifest_validate_delta(img, err);
}

int sfu_manifest_validate_delta(const struct sfu_manifest_image *img, struct sfu_err *err) {
        const struct sfu_manifest_delta *d = &img->delta;
        const char *name = img->name ? img->name : "";

        if (!d->present)
                return 0;
        if (!d->location)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest image \"%.*s\": delta without a location",
                                   sfu_manifest_excerpt(name), name);
        if (!img->has_size)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "manifest image \"%.*s\": a delta needs the image's size",
                                   sfu_manifest_excerpt(name), name);
        if (d->chunk_size < SFU_DELTA_MIN_CHUNK || d->chunk_size > SFU_DELTA_MAX_CHUNK ||
            d->chunk_size % SFU_DELTA_MIN_CHUNK != 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "manifest image \"%.*s\": delta chunkSize is not a multiple of %u from %u to %u",
                                   sfu_manifest_excerpt(name), name, SFU_DELTA_MIN_CHUNK, SFU_DELTA_MIN_CHUNK,
                                   SFU_DELTA_MAX_CHUNK);
        if (d->header_size > SFU_DELTA_MAX_HEADER || d->header_size >= d->size || d->size > INT64_MAX)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "manifest image \"%.*s\": delta headerSize %" PRIu64 " does not fit (file %" PRIu64
                                   " bytes, at most %u)",
                                   sfu_manifest_excerpt(name), name, d->header_size, d->size, SFU_DELTA_MAX_HEADER);
        return 0;
}

int sfu_manifest_delta_to_json(const struct sfu_manifest_image *img, json_t *obj, const char *key) {
        const struct sfu_manifest_delta *d = &img->delta;
        char hex[2 * sizeof(d->header_sha256) + 1];
        json_t *e;

        if (!d->present)
                return 0;
        sfu_hex_encode(d->header_sha256, sizeof(d->header_sha256), hex);
        e = json_pack("{s:s, s:s, s:I, s:I, s:s, s:I}", "format", SFU_DELTA_FORMAT, "location", d->location, "size",
                      (json_int_t) d->size, "headerSize", (json_int_t) d->header_size, "headerSha256", hex,
                      "chunkSize", (json_int_t) d->chunk_size);
        if (!e || json_object_set_new(obj, key, e) < 0)
                return -ENOMEM;
        return 0;
}
