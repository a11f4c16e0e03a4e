/* SPDX-License-Identifier: MIT */
#include "core/url.h"
#include "daemon/log.h"
#include "daemon/provider.h"
#include "daemon/source.h"

struct walk {
        struct sfu_job *job;
        const struct sfu_keyring *ring;
        struct sfu_candidate *root;
        const char *visited[1 + SFU_SET_MAX_PROVIDERS];
        size_t n_visited;
};

static int add_component(struct walk *w, const struct sfu_candidate *from, size_t index, struct sfu_err *err) {
        struct sfu_candidate *root = w->root;
        const struct sfu_manifest_image *img = &from->manifest->images[index];

        for (size_t i = 0; i < root->n_components; i++) {
                const struct sfu_manifest_image *other = root->components[i].image;
                if (sfu_streq(other->name, img->name) || (other->slot_class && sfu_streq(other->slot_class, img->slot_class)))
                        return sfu_err_set(err, SFU_ERR_POLICY, EEXIST,
                                           "the set has two images \"%.64s\" or two for slot class %.64s", img->name,
                                           img->slot_class ? img->slot_class : "of the running system");
        }
        if (root->n_components >= SFU_MANIFEST_MAX_IMAGES)
                return sfu_err_set(err, SFU_ERR_POLICY, E2BIG, "the set has more than %d images",
                                   SFU_MANIFEST_MAX_IMAGES);
        root->components[root->n_components++] = (struct sfu_component) {
                .image = img,
                .from = from,
                .offset = from->bundle ? from->image_offsets[index] : 0,
        };
        return 0;
}

static int visit(struct walk *w, const struct sfu_candidate *from, struct sfu_err *err);

/* The provider entry index of from's manifest: fetch, verify, then its own providers. */
static int follow(struct walk *w, const struct sfu_candidate *from, size_t index, struct sfu_err *err) {
        const struct sfu_manifest_provider *entry = &from->manifest->providers[index];
        struct sfu_candidate *root = w->root, *pc;
        _cleanup_free_ char *url = NULL;
        int r;

        if (from->depth + 1 > SFU_SET_MAX_DEPTH)
                return sfu_err_set(err, SFU_ERR_POLICY, ELOOP,
                                   "provider \"%.64s\" is delegated more than %d levels deep", entry->name,
                                   SFU_SET_MAX_DEPTH);
        if (root->n_providers >= SFU_SET_MAX_PROVIDERS)
                return sfu_err_set(err, SFU_ERR_POLICY, E2BIG, "the set names more than %d provider manifests",
                                   SFU_SET_MAX_PROVIDERS);
        if (from->url[0])
                r = sfu_url_resolve(from->url, entry->manifest, &url, err);
        else if (sfu_url_scheme_allowed(entry->manifest))
                r = (url = strdup(entry->manifest)) ? 0 : -ENOMEM;
        else
                r = sfu_err_set(err, SFU_ERR_POLICY, EINVAL,
                                "provider \"%.64s\" has the relative manifest location \"%.200s\", but its parent came "
                                "from a file",
                                entry->name, entry->manifest);
        if (r < 0)
                return r;
        for (size_t i = 0; i < w->n_visited; i++)
                if (strcmp(w->visited[i], url) == 0)
                        return sfu_err_set(err, SFU_ERR_POLICY, ELOOP,
                                           "provider \"%.64s\": %.200s is already part of this set (a cycle)",
                                           entry->name, url);
        pc = calloc(1, sizeof(*pc));
        if (!pc)
                return -ENOMEM;
        root->providers[root->n_providers++] = pc; /* freed with the set */
        pc->depth = from->depth + 1;
        pc->source = from->source;
        log_info("provider \"%s\": fetching %s", entry->name, url);
        r = sfu_source_fetch(w->job, url, pc, err);
        if (r >= 0)
                r = sfu_verify_provider(w->job, w->ring, entry, from->manifest, pc, err);
        if (r < 0) {
                sfu_err_prefix(err, "provider \"%.64s\" (%.200s)", entry->name, url);
                return r;
        }
        log_info("provider \"%s\": %s %s, signed by %s", entry->name, pc->manifest->images[0].name,
                 pc->manifest->version_text, pc->provider_key->kid);
        w->visited[w->n_visited++] = pc->url;
        return visit(w, pc, err);
}

static int visit(struct walk *w, const struct sfu_candidate *from, struct sfu_err *err) {
        int r;

        for (size_t i = 0; i < from->manifest->n_images; i++) {
                r = add_component(w, from, i, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < from->manifest->n_providers; i++) {
                r = follow(w, from, i, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int sfu_provider_resolve(struct sfu_job *job, const struct sfu_keyring *ring, struct sfu_candidate *c,
                         struct sfu_err *err) {
        struct walk w = { .job = job, .ring = ring, .root = c };

        c->n_components = 0;
        if (c->url[0])
                w.visited[w.n_visited++] = c->url;
        return visit(&w, c, err);
}

void sfu_provider_remember(struct sfu_job *job, const struct sfu_candidate *c) {
        for (size_t i = 0; i < c->n_providers; i++) {
                const struct sfu_candidate *pc = c->providers[i];
                struct sfu_state_component *comp;

                if (!pc->manifest)
                        continue;
                comp = sfu_state_component_ensure(job->state, pc->entry->name);
                if (!comp) {
                        log_warning("cannot remember component \"%s\": the state's table is full", pc->entry->name);
                        continue;
                }
                if (sfu_version_compare(&pc->manifest->version, &comp->version) > 0)
                        comp->version = pc->manifest->version;
                if (pc->manifest->timestamp > comp->timestamp)
                        comp->timestamp = pc->manifest->timestamp;
        }
}
