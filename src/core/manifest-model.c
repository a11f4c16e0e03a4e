/* SPDX-License-Identifier: MIT */
/* The manifest model, however it was filled: its checks, its JSON form
 * (for inspect, status and the state), and freeing it. */
#include <inttypes.h>

#include <openssl/crypto.h>

#include "core/hex.h"
#include "core/json.h"
#include "core/manifest-internal.h"
#include "core/timeutil.h"

static int validate_image(const struct sfu_manifest *m, size_t index, struct sfu_err *err) {
        const struct sfu_manifest_image *img = &m->images[index];
        char what[MANIFEST_PATH_MAX];
        unsigned mask = 0;
        int r;

        snprintf(what, sizeof(what), m->split ? "images[%zu].name" : "image name", index);
        r = sfu_manifest_check_text(what, img->name, SFU_MANIFEST_MAX_STRING, err);
        if (r < 0)
                return r;
        if (m->split) {
                snprintf(what, sizeof(what), "images[%zu].slotClass", index);
                r = sfu_manifest_check_slot_class(what, img->slot_class, err);
                if (r < 0)
                        return r;
                if (!img->has_size)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest has no \"images[%zu].size\"", index);
        } else if (img->slot_class || !sfu_streq(img->name, "firmware"))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "manifest single-image form must have one image \"firmware\" without a slot class");
        snprintf(what, sizeof(what), m->split ? "images[%zu].location" : "firmwareLocation", index);
        r = sfu_manifest_check_location(what, img->location, err);
        if (r < 0)
                return r;
        if (img->has_size && (img->size == 0 || img->size > INT64_MAX))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest image \"%.*s\" has a size out of range",
                                   sfu_manifest_excerpt(img->name), img->name);
        if (img->n_digests == 0 || img->n_digests > _SFU_DIGEST_MAX)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "manifest image \"%.*s\" has no sha256, sha384 or sha512 digest",
                                   sfu_manifest_excerpt(img->name), img->name);
        for (size_t i = 0; i < img->n_digests; i++) {
                enum sfu_digest_alg alg = img->digests[i].alg;
                if ((unsigned) alg >= _SFU_DIGEST_MAX || (mask & SFU_DIGEST_MASK(alg)))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "manifest image \"%.*s\" has an invalid or repeated digest",
                                           sfu_manifest_excerpt(img->name), img->name);
                mask |= SFU_DIGEST_MASK(alg);
        }
        if (mask != img->digest_mask)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest image \"%.*s\" has an inconsistent digest mask",
                                   sfu_manifest_excerpt(img->name), img->name);
        r = sfu_manifest_validate_delta(img, err);
        if (r < 0)
                return r;
        r = sfu_manifest_validate_encryption(img, err);
        if (r < 0)
                return r;
        for (size_t j = 0; j < index; j++) {
                if (sfu_streq(m->images[j].name, img->name))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest names the image \"%.*s\" twice",
                                           sfu_manifest_excerpt(img->name), img->name);
                if (m->split && sfu_streq(m->images[j].slot_class, img->slot_class))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "manifest sends two images to slot class \"%.*s\"",
                                           sfu_manifest_excerpt(img->slot_class), img->slot_class);
        }
        return 0;
}

static bool crit_member_present(const struct sfu_manifest *m, const char *name) {
        if (strcmp(name, "firmwareSize") == 0)
                return !m->split && m->n_images == 1 && m->images[0].has_size;
        if (strcmp(name, "expires") == 0)
                return m->has_expires;
        if (strcmp(name, "images") == 0)
                return m->split;
        if (strcmp(name, "keyInfo") == 0)
                return m->new_keys || m->n_revoked_kids > 0;
        if (strcmp(name, "rollbackFloor") == 0)
                return m->has_rollback_floor;
        if (strcmp(name, "providers") == 0)
                return m->n_providers > 0;
        if (strcmp(name, "encryption") == 0) {
                for (size_t i = 0; i < m->n_images; i++)
                        if (m->images[i].encryption.present)
                                return true;
                return false;
        }
        return false;
}

int sfu_manifest_validate(const struct sfu_manifest *m, struct sfu_err *err) {
        struct sfu_version v;
        int64_t t;
        int r;

        if (!m)
                return -EINVAL;
        r = sfu_manifest_check_version_field(m->manifest_version, err);
        if (r < 0)
                return r;
        r = sfu_manifest_check_text("timestamp", m->timestamp_text, SFU_MANIFEST_MAX_STRING, err);
        if (r < 0)
                return r;
        if (sfu_time_parse_rfc3339(m->timestamp_text, false, &t) < 0 || t != m->timestamp)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"timestamp\" is not a valid RFC 3339 date-time");
        if (m->has_expires && m->expires < m->timestamp)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"expires\" is earlier than its \"timestamp\"");
        r = sfu_manifest_check_text("manufacturer", m->manufacturer, SFU_MANIFEST_MAX_STRING, err);
        if (r < 0)
                return r;
        r = sfu_manifest_check_text("model", m->model, SFU_MANIFEST_MAX_STRING, err);
        if (r < 0)
                return r;
        r = sfu_manifest_check_text("firmwareVersion", m->version_text, SFU_MANIFEST_MAX_STRING, err);
        if (r < 0)
                return r;
        if (sfu_version_parse(m->version_text, &v) < 0 || sfu_version_compare(&v, &m->version) != 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"firmwareVersion\" is not a valid version");

        if (m->has_rollback_floor && sfu_version_compare(&m->rollback_floor, &m->version) > 0) {
                char floor[SFU_VERSION_STRING_MAX];
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "manifest \"rollbackFloor\" %s is above its \"firmwareVersion\" %s",
                                   sfu_version_format(&m->rollback_floor, floor), m->version_text);
        }

        if (m->n_images == 0 || m->n_images > SFU_MANIFEST_MAX_IMAGES || (!m->split && m->n_images != 1))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest has %zu images", m->n_images);
        for (size_t i = 0; i < m->n_images; i++) {
                r = validate_image(m, i, err);
                if (r < 0)
                        return r;
        }

        r = sfu_manifest_validate_providers(m, err);
        if (r < 0)
                return r;

        if (m->new_keys) {
                if (!json_is_array(m->new_keys) || json_array_size(m->new_keys) > SFU_MANIFEST_MAX_KEYS)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "manifest \"keyInfo.newKeys\" is not an array of at most %d keys",
                                           SFU_MANIFEST_MAX_KEYS);
                for (size_t i = 0; i < json_array_size(m->new_keys); i++) {
                        r = sfu_manifest_check_new_key(json_array_get(m->new_keys, i), i, err);
                        if (r < 0)
                                return r;
                }
        }
        if (m->n_revoked_kids > SFU_MANIFEST_MAX_KEYS)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"keyInfo.revokedKeys\" has too many entries");
        for (size_t i = 0; i < m->n_revoked_kids; i++) {
                r = sfu_manifest_check_text("keyInfo.revokedKeys", m->revoked_kids[i], SFU_MANIFEST_MAX_STRING, err);
                if (r < 0)
                        return r;
        }

        if (m->n_crit > SFU_MANIFEST_MAX_CRIT)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"crit\" has too many entries");
        for (size_t i = 0; i < m->n_crit; i++) {
                r = sfu_manifest_check_text("crit", m->crit[i], SFU_MANIFEST_MAX_STRING, err);
                if (r < 0)
                        return r;
                if (!sfu_manifest_understood(m->crit[i]))
                        return sfu_err_set(err, SFU_ERR_PARSE, EOPNOTSUPP,
                                           "manifest crit names \"%.*s\", which this device does not understand",
                                           sfu_manifest_excerpt(m->crit[i]), m->crit[i]);
                for (size_t j = 0; j < i; j++)
                        if (strcmp(m->crit[j], m->crit[i]) == 0)
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest crit names \"%s\" twice",
                                                   m->crit[i]);
                if (!crit_member_present(m, m->crit[i]))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "manifest crit names \"%s\", which the manifest does not contain",
                                           m->crit[i]);
        }
        return 0;
}

/* json_object_set_new() and json_array_append_new() take the value even
 * when they fail, and a NULL value just fails. */
static int set_new(json_t *obj, const char *key, json_t *value) {
        return json_object_set_new(obj, key, value) < 0 ? -ENOMEM : 0;
}

static int append_new(json_t *array, json_t *value) {
        return json_array_append_new(array, value) < 0 ? -ENOMEM : 0;
}

static int digests_to_json(const struct sfu_manifest_image *img, json_t **ret) {
        _cleanup_json_ json_t *list = json_array();

        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < img->n_digests; i++) {
                const struct sfu_manifest_digest *d = &img->digests[i];
                char hex[2 * SFU_DIGEST_MAX_SIZE + 1];
                json_t *entry;

                sfu_hex_encode(d->value, sfu_digest_size(d->alg), hex);
                entry = json_object();
                if (append_new(list, entry) < 0 ||
                    set_new(entry, "digestAlgo", json_string(sfu_digest_name(d->alg))) < 0 ||
                    set_new(entry, "hash", json_string(hex)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(list);
        return 0;
}

static int strings_to_json(char *const *strings, size_t n, json_t **ret) {
        _cleanup_json_ json_t *list = json_array();

        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (append_new(list, json_string(strings[i])) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(list);
        return 0;
}

static int images_to_json(const struct sfu_manifest *m, json_t *obj) {
        json_t *crypto_info, *list = NULL;
        int r;

        if (!m->split) {
                const struct sfu_manifest_image *img = &m->images[0];

                if (set_new(obj, "firmwareLocation", json_string(img->location)) < 0)
                        return -ENOMEM;
                if (img->has_size && set_new(obj, "firmwareSize", json_integer((json_int_t) img->size)) < 0)
                        return -ENOMEM;
                crypto_info = json_object();
                if (set_new(obj, "firmwareCryptoInfo", crypto_info) < 0)
                        return -ENOMEM;
                r = digests_to_json(img, &list);
                if (r < 0)
                        return r;
                if (set_new(crypto_info, "commitHash", list) < 0)
                        return -ENOMEM;
                r = sfu_manifest_delta_to_json(img, obj, "firmwareDelta");
                if (r < 0)
                        return r;
                return sfu_manifest_encryption_to_json(img, crypto_info);
        }

        list = json_array();
        if (set_new(obj, "images", list) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_images; i++) {
                const struct sfu_manifest_image *img = &m->images[i];
                json_t *entry = json_object(), *digests = NULL;

                if (append_new(list, entry) < 0 ||
                    set_new(entry, "name", json_string(img->name)) < 0 ||
                    set_new(entry, "slotClass", json_string(img->slot_class)) < 0 ||
                    set_new(entry, "location", json_string(img->location)) < 0 ||
                    set_new(entry, "size", json_integer((json_int_t) img->size)) < 0)
                        return -ENOMEM;
                r = digests_to_json(img, &digests);
                if (r < 0)
                        return r;
                if (set_new(entry, "commitHash", digests) < 0)
                        return -ENOMEM;
                r = sfu_manifest_encryption_to_json(img, entry);
                if (r < 0)
                        return r;
                r = sfu_manifest_delta_to_json(img, entry, "delta");
                if (r < 0)
                        return r;
        }
        return 0;
}

int sfu_manifest_to_json(const struct sfu_manifest *m, json_t **ret) {
        _cleanup_json_ json_t *obj = NULL;
        json_t *list = NULL;
        int r;

        r = sfu_manifest_validate(m, NULL);
        if (r < 0)
                return r;
        obj = json_object();
        if (!obj)
                return -ENOMEM;
        if (set_new(obj, "manifestVersion", json_string(m->manifest_version)) < 0 ||
            set_new(obj, "timestamp", json_string(m->timestamp_text)) < 0 ||
            set_new(obj, "manufacturer", json_string(m->manufacturer)) < 0 ||
            set_new(obj, "model", json_string(m->model)) < 0 ||
            set_new(obj, "firmwareVersion", json_string(m->version_text)) < 0)
                return -ENOMEM;
        if (m->has_expires) {
                char buf[32];
                if (set_new(obj, "expires", json_string(sfu_time_format_rfc3339(m->expires, buf))) < 0)
                        return -ENOMEM;
        }
        if (m->has_rollback_floor) {
                char floor[SFU_VERSION_STRING_MAX];
                if (set_new(obj, "rollbackFloor", json_string(sfu_version_format(&m->rollback_floor, floor))) < 0)
                        return -ENOMEM;
        }
        r = images_to_json(m, obj);
        if (r >= 0)
                r = sfu_manifest_providers_to_json(m, obj);
        if (r < 0)
                return r;
        if (m->new_keys || m->n_revoked_kids > 0) {
                json_t *key_info = json_object();

                if (set_new(obj, "keyInfo", key_info) < 0)
                        return -ENOMEM;
                if (m->new_keys && set_new(key_info, "newKeys", json_deep_copy(m->new_keys)) < 0)
                        return -ENOMEM;
                if (m->n_revoked_kids > 0) {
                        r = strings_to_json(m->revoked_kids, m->n_revoked_kids, &list);
                        if (r < 0)
                                return r;
                        if (set_new(key_info, "revokedKeys", list) < 0)
                                return -ENOMEM;
                }
        }
        if (m->n_crit > 0) {
                r = strings_to_json(m->crit, m->n_crit, &list);
                if (r < 0)
                        return r;
                if (set_new(obj, "crit", list) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(obj);
        return 0;
}

void sfu_manifest_free(struct sfu_manifest *m) {
        if (!m)
                return;
        free(m->manifest_version);
        free(m->timestamp_text);
        free(m->manufacturer);
        free(m->model);
        free(m->version_text);
        for (size_t i = 0; i < SFU_MANIFEST_MAX_IMAGES; i++) {
                free(m->images[i].name);
                free(m->images[i].slot_class);
                free(m->images[i].location);
                OPENSSL_cleanse(&m->images[i].encryption, sizeof(m->images[i].encryption));
                free(m->images[i].delta.location);
        }
        sfu_manifest_providers_free(m);
        json_decref(m->new_keys);
        for (size_t i = 0; i < SFU_MANIFEST_MAX_KEYS; i++)
                free(m->revoked_kids[i]);
        for (size_t i = 0; i < SFU_MANIFEST_MAX_CRIT; i++)
                free(m->crit[i]);
        free(m);
}
