/* SPDX-License-Identifier: MIT */
/* "providers" (doc/manifest.md, "Providers"): components whose bytes and
 * digests another party's signed manifest brings, each entry naming the
 * component, where that manifest is and which key must sign it. */
#include "core/json.h"
#include "core/manifest-internal.h"

static int parse_key(json_t *entry, const char *what, struct sfu_manifest_provider *p, struct sfu_err *err) {
        json_t *key = json_object_get(entry, "key");
        const char *kid = NULL;
        int r;

        r = sfu_manifest_get_text(entry, "kid", what, false, SFU_MANIFEST_MAX_STRING, &kid, err);
        if (r < 0)
                return r;
        if (!kid == !key)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "manifest \"%s\" needs exactly one of \"kid\" (a trusted key) and \"key\" (a JWK)",
                                   what);
        if (kid)
                return sfu_manifest_dup_text(kid, &p->kid, err);
        p->key = json_incref(key);
        return 0;
}

int sfu_manifest_parse_providers(json_t *list, struct sfu_manifest *m, struct sfu_err *err) {
        size_t n;
        int r;

        if (!json_is_array(list))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"providers\" is not an array");
        n = json_array_size(list);
        if (n == 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"providers\" is empty");
        if (n > SFU_MANIFEST_MAX_PROVIDERS)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"providers\" has more than %d entries",
                                   SFU_MANIFEST_MAX_PROVIDERS);
        for (size_t i = 0; i < n; i++) {
                struct sfu_manifest_provider *p = &m->providers[i];
                json_t *entry = json_array_get(list, i);
                const char *s = NULL;
                char what[MANIFEST_PATH_MAX];

                snprintf(what, sizeof(what), "providers[%zu]", i);
                if (!json_is_object(entry))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"%s\" is not an object", what);
                m->n_providers++; /* from here on, freed with the manifest */
                snprintf(what, sizeof(what), "providers[%zu].name", i);
                r = sfu_manifest_get_text(entry, "name", what, true, SFU_MANIFEST_MAX_STRING, &s, err);
                if (r >= 0)
                        r = sfu_manifest_dup_text(s, &p->name, err);
                snprintf(what, sizeof(what), "providers[%zu].slotClass", i);
                if (r >= 0)
                        r = sfu_manifest_get_text(entry, "slotClass", what, true, SFU_MANIFEST_MAX_STRING, &s, err);
                if (r >= 0)
                        r = sfu_manifest_dup_text(s, &p->slot_class, err);
                snprintf(what, sizeof(what), "providers[%zu].manifest", i);
                if (r >= 0)
                        r = sfu_manifest_get_text(entry, "manifest", what, true, SFU_MANIFEST_MAX_LOCATION, &s, err);
                if (r >= 0)
                        r = sfu_manifest_dup_text(s, &p->manifest, err);
                snprintf(what, sizeof(what), "providers[%zu]", i);
                if (r >= 0)
                        r = parse_key(entry, what, p, err);
                snprintf(what, sizeof(what), "providers[%zu].minVersion", i);
                if (r >= 0)
                        r = sfu_manifest_get_text(entry, "minVersion", what, false, SFU_MANIFEST_MAX_STRING, &s, err);
                if (r >= 0 && s) {
                        if (sfu_version_parse(s, &p->min_version) < 0)
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                                   "manifest \"%s\" \"%.*s\" is not a version MAJOR.MINOR.REVISION", what,
                                                   sfu_manifest_excerpt(s), s);
                        p->has_min_version = true;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A component's name and slot class are unique in the whole manifest. */
static int check_unique(const struct sfu_manifest *m, size_t index, struct sfu_err *err) {
        const struct sfu_manifest_provider *p = &m->providers[index];

        for (size_t j = 0; j < m->n_images + index; j++) {
                const char *name = j < m->n_images ? m->images[j].name : m->providers[j - m->n_images].name;
                const char *class = j < m->n_images ? m->images[j].slot_class : m->providers[j - m->n_images].slot_class;
                if (sfu_streq(name, p->name))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest names the component \"%.*s\" twice",
                                           sfu_manifest_excerpt(p->name), p->name);
                if (sfu_streq(class, p->slot_class))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "manifest sends two components to slot class \"%.*s\"",
                                           sfu_manifest_excerpt(p->slot_class), p->slot_class);
        }
        return 0;
}

int sfu_manifest_validate_providers(const struct sfu_manifest *m, struct sfu_err *err) {
        bool named = false;
        int r;

        if (m->n_providers == 0)
                return 0;
        if (m->n_providers > SFU_MANIFEST_MAX_PROVIDERS)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "manifest \"providers\" has more than %d entries",
                                   SFU_MANIFEST_MAX_PROVIDERS);
        /* A device that cannot follow a provider must refuse the manifest,
         * not stage the manufacturer's part of it alone. */
        for (size_t i = 0; i < m->n_crit; i++)
                named = named || strcmp(m->crit[i], "providers") == 0;
        if (!named)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "manifest has \"providers\" but does not name it in \"crit\"");
        for (size_t i = 0; i < m->n_providers; i++) {
                const struct sfu_manifest_provider *p = &m->providers[i];
                char what[MANIFEST_PATH_MAX];

                snprintf(what, sizeof(what), "providers[%zu].name", i);
                r = sfu_manifest_check_text(what, p->name, SFU_MANIFEST_MAX_STRING, err);
                if (r < 0)
                        return r;
                snprintf(what, sizeof(what), "providers[%zu].slotClass", i);
                r = sfu_manifest_check_slot_class(what, p->slot_class, err);
                if (r < 0)
                        return r;
                snprintf(what, sizeof(what), "providers[%zu].manifest", i);
                r = sfu_manifest_check_location(what, p->manifest, err);
                if (r < 0)
                        return r;
                if (!p->kid == !p->key)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "manifest \"providers[%zu]\" needs exactly one of \"kid\" and \"key\"", i);
                if (p->kid) {
                        snprintf(what, sizeof(what), "providers[%zu].kid", i);
                        r = sfu_manifest_check_text(what, p->kid, SFU_MANIFEST_MAX_STRING, err);
                } else
                        r = sfu_manifest_check_new_key(p->key, i, err);
                if (r < 0)
                        return r;
                r = check_unique(m, i, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int sfu_manifest_providers_to_json(const struct sfu_manifest *m, json_t *obj) {
        json_t *list;

        if (m->n_providers == 0)
                return 0;
        list = json_array();
        if (json_object_set_new(obj, "providers", list) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_providers; i++) {
                const struct sfu_manifest_provider *p = &m->providers[i];
                json_t *entry = json_object();
                char v[SFU_VERSION_STRING_MAX];

                if (json_array_append_new(list, entry) < 0 ||
                    json_object_set_new(entry, "name", json_string(p->name)) < 0 ||
                    json_object_set_new(entry, "slotClass", json_string(p->slot_class)) < 0 ||
                    json_object_set_new(entry, "manifest", json_string(p->manifest)) < 0)
                        return -ENOMEM;
                if (p->kid && json_object_set_new(entry, "kid", json_string(p->kid)) < 0)
                        return -ENOMEM;
                if (p->key && json_object_set_new(entry, "key", json_deep_copy(p->key)) < 0)
                        return -ENOMEM;
                if (p->has_min_version &&
                    json_object_set_new(entry, "minVersion", json_string(sfu_version_format(&p->min_version, v))) < 0)
                        return -ENOMEM;
        }
        return 0;
}

void sfu_manifest_providers_free(struct sfu_manifest *m) {
        for (size_t i = 0; i < SFU_MANIFEST_MAX_PROVIDERS; i++) {
                free(m->providers[i].name);
                free(m->providers[i].slot_class);
                free(m->providers[i].manifest);
                free(m->providers[i].kid);
                json_decref(m->providers[i].key);
        }
}
