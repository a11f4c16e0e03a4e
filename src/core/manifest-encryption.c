/* SPDX-License-Identifier: MIT */
/* An image's "encryption" member (doc/encryption.md, "The manifest
 * member"):
 *
 *   "encryption": {"alg": "A256GCM-STREAM", "key": B64URL(32 bytes),
 *                  "noncePrefix": B64URL(7 bytes), "segmentSize": S, "size": C}
 *
 * every member required, no other member allowed (a device must not
 * ignore anything that changes how an image decrypts). */
#include <inttypes.h>

#include <openssl/crypto.h>

#include "core/b64url.h"
#include "core/json.h"
#include "core/manifest-internal.h"

static const char *const members[] = { "alg", "key", "noncePrefix", "segmentSize", "size" };

/* A base64url member of exactly size bytes into out (wiped on failure). */
static int get_b64_exact(json_t *obj, const char *path, const char *key, uint8_t *out, size_t size,
                         struct sfu_err *err) {
        json_t *v = json_object_get(obj, key);
        uint8_t *data = NULL;
        size_t len = 0;
        int r;

        if (!v)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest has no \"%s.%s\"", path, key);
        if (!json_is_string(v))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s.%s\" is not a string", path, key);
        if (json_string_length(v) > 64)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s.%s\" is not %zu bytes of base64url",
                                   path, key, size);
        r = sfu_b64url_decode(json_string_value(v), json_string_length(v), &data, &len);
        if (r == -ENOMEM)
                return sfu_err_set(err, SFU_ERR_PARSE, ENOMEM, "out of memory while reading the manifest");
        if (r < 0 || len != size) {
                if (data) {
                        OPENSSL_cleanse(data, len);
                        free(data);
                }
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s.%s\" is not %zu bytes of base64url",
                                   path, key, size);
        }
        memcpy(out, data, size);
        OPENSSL_cleanse(data, len);
        free(data);
        return 0;
}

int sfu_manifest_parse_encryption(json_t *obj, const char *path, struct sfu_manifest_image *img,
                                  struct sfu_err *err) {
        struct sfu_manifest_encryption enc = {};
        const char *alg = NULL;
        uint64_t segment_size = 0;
        int r;

        r = sfu_manifest_check_members(obj, path, members, ELEMENTSOF(members), err);
        if (r < 0)
                return r;
        r = sfu_manifest_get_text(obj, "alg", "encryption.alg", true, SFU_MANIFEST_MAX_STRING, &alg, err);
        if (r < 0)
                return r;
        if (strcmp(alg, SFU_SEGCRYPT_ALG) != 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EOPNOTSUPP,
                                   "manifest \"%s.alg\" \"%.*s\" is not supported (" SFU_SEGCRYPT_ALG " is)", path,
                                   sfu_manifest_excerpt(alg), alg);
        r = sfu_manifest_get_positive(obj, path, "segmentSize", &segment_size, err);
        if (r < 0)
                return r;
        r = sfu_manifest_get_positive(obj, path, "size", &enc.size, err);
        if (r < 0)
                return r;
        r = get_b64_exact(obj, path, "noncePrefix", enc.params.nonce_prefix, SFU_SEGCRYPT_PREFIX_SIZE, err);
        if (r < 0)
                return r;
        if (!sfu_segcrypt_segment_size_ok(segment_size))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s.segmentSize\" is outside %u to %u bytes",
                                   path, SFU_SEGCRYPT_MIN_SEGMENT, SFU_SEGCRYPT_MAX_SEGMENT);
        enc.params.segment_size = (uint32_t) segment_size;
        r = get_b64_exact(obj, path, "key", enc.params.key, SFU_SEGCRYPT_KEY_SIZE, err);
        if (r < 0)
                return r;
        enc.present = true;
        img->encryption = enc;
        OPENSSL_cleanse(&enc, sizeof(enc));
        r = sfu_manifest_validate_encryption(img, err);
        if (r < 0) {
                OPENSSL_cleanse(&img->encryption, sizeof(img->encryption));
                return r;
        }
        return 0;
}

/* The ciphertext size must be one a stream can have and, when the image
 * states its (plaintext) size, the one that size gives. */
int sfu_manifest_validate_encryption(const struct sfu_manifest_image *img, struct sfu_err *err) {
        const struct sfu_manifest_encryption *enc = &img->encryption;
        uint64_t plain = 0, want = 0;

        if (!enc->present)
                return 0;
        if (!sfu_segcrypt_segment_size_ok(enc->params.segment_size))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "manifest image \"%.*s\" has an encryption segment size outside %u to %u bytes",
                                   sfu_manifest_excerpt(img->name ? img->name : ""), img->name ? img->name : "",
                                   SFU_SEGCRYPT_MIN_SEGMENT, SFU_SEGCRYPT_MAX_SEGMENT);
        if (enc->size > INT64_MAX || sfu_segcrypt_plaintext_size(enc->size, enc->params.segment_size, &plain) < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "manifest image \"%.*s\": encryption size %" PRIu64
                                   " is not a possible ciphertext size with %" PRIu32 "-byte segments",
                                   sfu_manifest_excerpt(img->name ? img->name : ""), img->name ? img->name : "",
                                   enc->size, enc->params.segment_size);
        if (img->has_size &&
            (sfu_segcrypt_ciphertext_size(img->size, enc->params.segment_size, &want) < 0 || want != enc->size))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "manifest image \"%.*s\": encryption size %" PRIu64 " does not fit its size %" PRIu64
                                   " (%" PRIu64 " expected)",
                                   sfu_manifest_excerpt(img->name ? img->name : ""), img->name ? img->name : "",
                                   enc->size, img->size, want);
        return 0;
}

/* The member without its key: the model as JSON is for display and
 * status, where a content key never goes. */
int sfu_manifest_encryption_to_json(const struct sfu_manifest_image *img, json_t *obj) {
        const struct sfu_manifest_encryption *enc = &img->encryption;
        char *prefix;
        json_t *e;

        if (!enc->present)
                return 0;
        prefix = sfu_b64url_encode(enc->params.nonce_prefix, SFU_SEGCRYPT_PREFIX_SIZE);
        if (!prefix)
                return -ENOMEM;
        e = json_pack("{s:s, s:s, s:I, s:I}", "alg", SFU_SEGCRYPT_ALG, "noncePrefix", prefix, "segmentSize",
                      (json_int_t) enc->params.segment_size, "size", (json_int_t) enc->size);
        free(prefix);
        if (!e || json_object_set_new(obj, "encryption", e) < 0)
                return -ENOMEM;
        return 0;
}
