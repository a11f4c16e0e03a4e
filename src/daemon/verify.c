/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "core/digest.h"
#include "core/hex.h"
#include "core/envelope.h"
#include "core/scope.h"
#include "daemon/log.h"
#include "daemon/verify.h"
#include "io/clock.h"

void sfu_candidate_clear(struct sfu_candidate *c) {
        for (size_t i = 0; i < c->n_providers; i++) {
                sfu_candidate_clear(c->providers[i]);
                free(c->providers[i]);
        }
        sfu_key_free(c->introduced_key);
        if (c->has_fd)
                close(c->fd);
        free(c->bytes);
        sfu_manifest_free(c->manifest);
        memset(c, 0, sizeof(*c));
}

static bool clock_synchronized(void) {
#ifdef SFU_FAULT_INJECTION
        /* Test builds only: the tests decide what the kernel says. */
        const char *v = getenv("SFU_TEST_CLOCK_SYNCHRONIZED");
        if (v)
                return strcmp(v, "1") == 0;
#endif
        return sfu_clock_synchronized();
}

/* What the rules need to know about this device. classes has room for
 * SFU_CONFIG_MAX_SLOTS + 1 names. */
static int device_facts(const struct sfu_job *job, bool allow_downgrade, const char **classes,
                        struct sfu_policy_device *dev, struct sfu_err *err) {
        const struct sfu_config *cfg = job->config;
        const struct sfu_state *s = job->state;
        size_t n = 0;

        if (!job->env->has_running)
                return sfu_err_set(err, SFU_ERR_STATE, ENOENT,
                                   "running firmware version unknown: %s is missing or not \"major.minor.revision\"",
                                   cfg->version_file);
        for (size_t i = 0; i < cfg->n_slots; i++) {
                bool seen = false;
                for (size_t j = 0; j < n; j++)
                        if (strcmp(classes[j], cfg->slots[i].class_name) == 0)
                                seen = true;
                if (!seen)
                        classes[n++] = cfg->slots[i].class_name;
        }
        classes[n] = NULL;
        *dev = (struct sfu_policy_device) {
                .manufacturer = cfg->manufacturer,
                .model = cfg->model,
                .running = job->env->running,
                .has_highest = s->has_highest,
                .highest = s->highest,
                .has_floor = s->has_floor,
                .floor = s->floor,
                .has_newest_timestamp = s->has_newest_timestamp,
                .newest_timestamp = s->newest_timestamp,
                .allow_downgrade = allow_downgrade || cfg->allow_downgrade,
                .max_image_size = cfg->max_image_size,
                .now = sfu_clock_wallclock(),
                .clock_synchronized = clock_synchronized(),
                .max_skew = (int64_t) (cfg->clock_skew_usec / 1000000u),
                .slot_classes = classes,
        };
        return 0;
}

static int sha256_hex(const void *data, size_t len, char out[65]) {
        _cleanup_digest_set_ struct sfu_digest_set *set = NULL;
        uint8_t digest[SFU_DIGEST_MAX_SIZE];
        int r = sfu_digest_set_new(SFU_DIGEST_MASK(SFU_DIGEST_SHA256), &set);

        if (r >= 0)
                r = sfu_digest_set_update(set, data, len);
        if (r >= 0)
                r = sfu_digest_set_final(set);
        if (r >= 0)
                r = sfu_digest_set_get(set, SFU_DIGEST_SHA256, digest);
        if (r < 0)
                return r;
        sfu_hex_encode(digest, 32, out);
        return 0;
}

static void signature_not_counted(void *userdata, const char *why) {
        log_debug("%s: %s", (const char *) userdata, why);
}

/* The device's signature rules ([security]), for bytes a server called
 * content_type; who names the source in notes. */
static struct sfu_signed_opts signed_opts(const struct sfu_job *job, const char *content_type, const char *who) {
        return (struct sfu_signed_opts) {
                .families = job->config->formats.mask,
                .alg_allow = job->config->algorithms,
                .min_signatures = job->config->min_signatures,
                .max_manifest_size = job->config->max_manifest_size,
                .content_type = content_type,
                .note = signature_not_counted,
                .userdata = (void *) who,
        };
}

/* An encrypted manifest (a JWE or a COSE_Encrypt around the signed one):
 * decrypted with the device's keys ([security] decryption-keys), read for
 * this manifest only and freed (wiped) when it is open; *bytes and *len
 * then point at the plaintext in res, which the caller clears.  Anything
 * else passes. */
static int decrypt_if_encrypted(const struct sfu_job *job, const char **bytes, size_t *len,
                                struct sfu_jwe_result *res, enum sfu_envelope *ret_envelope, struct sfu_err *err) {
        _cleanup_keyring_ struct sfu_keyring *keys = NULL;
        enum sfu_envelope envelope = sfu_envelope_detect(*bytes, *len);
        int r;

        *ret_envelope = SFU_ENVELOPE_NONE;
        if (envelope == SFU_ENVELOPE_NONE)
                return 0;
        if (!job->config->decryption_keys[0])
                return sfu_err_set(err, SFU_ERR_SIGNATURE, ENOKEY,
                                   "the manifest is encrypted (%s) and this device has no decryption keys "
                                   "([security] decryption-keys)", sfu_envelope_name(envelope));
        if (sfu_keyring_new(&keys) < 0)
                return -ENOMEM;
        r = sfu_keyring_load_decryption_dir(keys, job->config->decryption_keys, err);
        if (r < 0)
                return r;
        r = sfu_envelope_open(*bytes, *len, keys, res, err);
        if (r < 0)
                return r;
        log_info("manifest decrypted with the device key %s (%s)",
                 res->key && res->key->kid ? res->key->kid : "(no kid)", sfu_envelope_name(envelope));
        res->key = NULL; /* it goes with keys */
        *bytes = (const char *) res->plaintext;
        *len = res->plaintext_len;
        *ret_envelope = envelope;
        return 0;
}

static void jwe_result_clearp(struct sfu_jwe_result *res) {
        sfu_jwe_result_clear(res);
}

/* A bundle cannot carry an encrypted image: its image bytes sit at
 * offsets the plaintext sizes give. */
static int check_bundle_plain(const struct sfu_manifest *m, struct sfu_err *err) {
        for (size_t i = 0; i < m->n_images; i++)
                if (m->images[i].encryption.present)
                        return sfu_err_set(err, SFU_ERR_POLICY, EINVAL,
                                           "image \"%s\" is encrypted: a bundle carries plain images only "
                                           "(encrypt the manifest instead)", m->images[i].name);
        return 0;
}

/* The head of a bundle: its header sane, its manifest wholly read, the
 * file exactly as long as the header says when the length is known. */
static int open_bundle(const struct sfu_job *job, struct sfu_candidate *c, struct sfu_err *err) {
        struct sfu_bundle_header *h = &c->bundle_header;
        uint64_t head;
        int r = sfu_bundle_parse_header(c->bytes, c->len, h, err);

        if (r < 0)
                return r;
        if (h->manifest_len > job->config->max_manifest_size)
                return sfu_err_set(err, SFU_ERR_SIZE, EFBIG,
                                   "the bundle's manifest is %" PRIu32 " bytes, more than max-manifest-size (%zu)",
                                   h->manifest_len, job->config->max_manifest_size);
        head = SFU_BUNDLE_HEADER_SIZE + (uint64_t) h->manifest_len;
        if (c->len < head)
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG,
                                   "bundle truncated: its manifest ends at byte %" PRIu64 ", the file at %zu", head,
                                   c->len);
        if (c->file_size && c->file_size != sfu_bundle_length(h))
                return sfu_err_set(err, SFU_ERR_SIZE, EBADMSG,
                                   "the bundle is %" PRIu64 " bytes, its header says %" PRIu64
                                   " (24 + %" PRIu32 " manifest + %" PRIu64 " image bytes)",
                                   c->file_size, sfu_bundle_length(h), h->manifest_len, h->images_len);
        c->len = (size_t) head; /* image bytes that came along are not the head's */
        c->bundle = true;
        return 0;
}

int sfu_verify_candidate(struct sfu_job *job, const struct sfu_keyring *ring, bool allow_downgrade,
                         struct sfu_candidate *c, struct sfu_err *err) {
        const char *classes[SFU_CONFIG_MAX_SLOTS + 1];
        struct sfu_policy_device dev;
        struct sfu_signed_opts o = signed_opts(job, c->content_type, sfu_state_source_name(c->source));
        struct sfu_jwe_result plain _cleanup_(jwe_result_clearp) = {};
        const char *signed_bytes = c->bytes;
        size_t signed_len = c->len;
        int r;

        if (sfu_bundle_is(c->bytes, c->len)) {
                r = open_bundle(job, c, err);
                if (r < 0)
                        return r;
                signed_bytes += SFU_BUNDLE_HEADER_SIZE;
                signed_len = c->bundle_header.manifest_len;
                o.content_type = NULL; /* the server named the bundle, not the manifest inside */
        } else if (sfu_signed_media_type_is(c->content_type, SFU_BUNDLE_MEDIA_TYPE))
                return sfu_err_set(err, SFU_ERR_PARSE, EBADMSG,
                                   "served as a bundle (%s) but it does not start with a bundle's magic",
                                   SFU_BUNDLE_MEDIA_TYPE);
        r = decrypt_if_encrypted(job, &signed_bytes, &signed_len, &plain, &c->envelope, err);
        if (r < 0)
                return r;
        if (c->envelope)
                o.content_type = NULL; /* the server named the envelope */
        r = sfu_signed_open(signed_bytes, signed_len, ring, &o, &c->manifest, &c->info, err);
        if (r < 0)
                return r;
        if (c->bundle) {
                r = check_bundle_plain(c->manifest, err);
                if (r < 0)
                        return r;
        }
        r = device_facts(job, allow_downgrade, classes, &dev, err);
        if (r < 0)
                return r;
        r = sfu_policy_check(c->manifest, &dev, &c->verdict, err);
        if (r < 0)
                return r;
        if (c->bundle) {
                r = sfu_bundle_check(&c->bundle_header, c->manifest, c->image_offsets, err);
                if (r < 0)
                        return r;
        }
        /* A bundle's header is hashed with its manifest: a header that
         * changes between attempts restarts a resumed staging. */
        return sha256_hex(c->bytes, c->len, c->sha256);
}

/* The provider's key: the trust store's key of the entry's kid, or the
 * entry's own JWK with a scope of exactly its component. */
static int provider_key(const struct sfu_keyring *ring, const struct sfu_manifest_provider *entry,
                        const struct sfu_manifest *parent, struct sfu_candidate *pc, struct sfu_err *err) {
        int r;

        if (entry->kid) {
                pc->provider_key = sfu_keyring_find_kid(ring, entry->kid);
                if (!pc->provider_key)
                        return sfu_err_set(err, SFU_ERR_SIGNATURE, ENOKEY,
                                           "provider key \"%.64s\" for \"%.64s\" is not in the trust store", entry->kid,
                                           entry->name);
                return 0;
        }
        r = sfu_key_from_jwk(entry->key, "the provider entry's key", false, &pc->introduced_key, err);
        if (r < 0)
                return r;
        r = sfu_scope_for_component(parent->manufacturer, parent->model, entry->slot_class, entry->name,
                                    &pc->introduced_key->scope);
        if (r < 0)
                return r;
        pc->provider_key = pc->introduced_key;
        return 0;
}

int sfu_verify_provider(struct sfu_job *job, const struct sfu_keyring *ring, const struct sfu_manifest_provider *entry,
                        const struct sfu_manifest *parent, struct sfu_candidate *pc, struct sfu_err *err) {
        const char *classes[SFU_CONFIG_MAX_SLOTS + 1];
        struct sfu_keyring with = {};
        struct sfu_policy_device dev;
        bool signed_by_provider = false;
        struct sfu_signed_opts opts = signed_opts(job, pc->content_type, "provider");
        struct sfu_jwe_result plain _cleanup_(jwe_result_clearp) = {};
        const char *signed_bytes = pc->bytes;
        size_t signed_len = pc->len;
        int r;

        pc->entry = entry;
        if (sfu_bundle_is(pc->bytes, pc->len))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "a provider's manifest must be a manifest, not a bundle");
        r = provider_key(ring, entry, parent, pc, err);
        if (r < 0)
                return r;
        /* The trust store, plus the key the entry introduces (borrowed). */
        for (size_t i = 0; i < ring->n_keys; i++)
                with.keys[with.n_keys++] = ring->keys[i];
        if (pc->introduced_key) {
                if (sfu_keyring_find_key(ring, pc->introduced_key))
                        return sfu_err_set(err, SFU_ERR_SIGNATURE, EEXIST,
                                           "the provider entry for \"%.64s\" introduces a key the trust store holds",
                                           entry->name);
                if (with.n_keys >= SFU_KEYRING_MAX)
                        return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "the trust store is full");
                with.keys[with.n_keys++] = pc->introduced_key;
        }
        r = decrypt_if_encrypted(job, &signed_bytes, &signed_len, &plain, &pc->envelope, err);
        if (r < 0)
                return r;
        if (pc->envelope)
                opts.content_type = NULL;
        r = sfu_signed_open(signed_bytes, signed_len, &with, &opts, &pc->manifest, &pc->info, err);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < pc->info.signers; i++)
                signed_by_provider = signed_by_provider || pc->info.signer_keys[i] == pc->provider_key;
        if (!signed_by_provider)
                return sfu_err_set(err, SFU_ERR_SIGNATURE, EKEYREJECTED,
                                   "the manifest for \"%.64s\" is not signed by its provider's key %s", entry->name,
                                   pc->provider_key->kid);
        r = device_facts(job, false, classes, &dev, err);
        if (r >= 0)
                r = sfu_policy_check_provider(pc->manifest, entry, &dev, sfu_state_component(job->state, entry->name),
                                              err);
        if (r < 0)
                return r;
        return sha256_hex(pc->bytes, pc->len, pc->sha256);
}

const char *sfu_candidate_manifest(const struct sfu_candidate *c, size_t *ret_len) {
        if (c->bundle) {
                *ret_len = c->bundle_header.manifest_len;
                return c->bytes + SFU_BUNDLE_HEADER_SIZE;
        }
        *ret_len = c->len;
        return c->bytes;
}

const char *sfu_verify_accept(const struct sfu_config *config, char *buf, size_t size) {
        static const char *const types[_SFU_SIGNED_FAMILY_MAX] = {
                [SFU_SIGNED_FAMILY_JWS] = "application/jose, application/jose+json",
                [SFU_SIGNED_FAMILY_COSE] = "application/cose",
        };
        static const char *const second[_SFU_SIGNED_FAMILY_MAX] = {
                [SFU_SIGNED_FAMILY_JWS] = "application/jose;q=0.9, application/jose+json;q=0.9",
                [SFU_SIGNED_FAMILY_COSE] = "application/cose;q=0.9",
        };
        size_t used = 0;

        buf[0] = 0;
        for (size_t i = 0; i < config->formats.n && used < size; i++)
                used += (size_t) snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
                                          (i == 0 ? types : second)[config->formats.order[i]]);
        /* The form is told by the bytes anyway: a server that does not
         * negotiate may answer with anything. */
        if (used < size)
                snprintf(buf + used, size - used, ", %s;q=0.5, */*;q=0.1", SFU_BUNDLE_MEDIA_TYPE);
        return buf;
}
