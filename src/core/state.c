/* SPDX-License-Identifier: MIT */
#include <stdbool.h>

#include "core/json.h"
#include "core/state.h"
#include "core/timeutil.h"

static const char *const state_names[_SFU_STATE_MAX] = {
        [SFU_STATE_IDLE] = "idle",
        [SFU_STATE_CHECKING] = "checking",
        [SFU_STATE_AVAILABLE] = "available",
        [SFU_STATE_DOWNLOADING] = "downloading",
        [SFU_STATE_STAGED] = "staged",
        [SFU_STATE_TRIAL] = "trial",
        [SFU_STATE_COMMITTED] = "committed",
        [SFU_STATE_ROLLED_BACK] = "rolled-back",
};

static const char *const health_names[_SFU_HEALTH_MAX] = {
        [SFU_HEALTH_EMPTY] = "empty",
        [SFU_HEALTH_GOOD] = "good",
        [SFU_HEALTH_BAD] = "bad",
        [SFU_HEALTH_TRIAL] = "trial",
        [SFU_HEALTH_STAGED] = "staged",
};

static const char *const source_names[_SFU_SOURCE_MAX] = {
        [SFU_SOURCE_NONE] = "none",
        [SFU_SOURCE_LOCAL] = "local",
        [SFU_SOURCE_MANUFACTURER] = "manufacturer",
        [SFU_SOURCE_OPERATOR] = "operator",
};

const char *sfu_state_install_name(enum sfu_install_state st) {
        return (unsigned) st < _SFU_STATE_MAX ? state_names[st] : "unknown";
}

const char *sfu_state_health_name(enum sfu_slot_health h) {
        return (unsigned) h < _SFU_HEALTH_MAX ? health_names[h] : "unknown";
}

const char *sfu_state_source_name(enum sfu_source src) {
        return (unsigned) src < _SFU_SOURCE_MAX ? source_names[src] : "unknown";
}

static int lookup(const char *const *names, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (sfu_streq(names[i], name))
                        return (int) i;
        return -1;
}

void sfu_state_init(struct sfu_state *s) {
        memset(s, 0, sizeof(*s));
        s->state = SFU_STATE_IDLE;
}

struct sfu_state_slot *sfu_state_slot(struct sfu_state *s, const char *bootname) {
        for (size_t i = 0; i < s->n_slots; i++)
                if (sfu_streq(s->slots[i].bootname, bootname))
                        return &s->slots[i];
        return NULL;
}

struct sfu_state_slot *sfu_state_slot_ensure(struct sfu_state *s, const char *bootname) {
        struct sfu_state_slot *slot = sfu_state_slot(s, bootname);
        if (slot)
                return slot;
        if (s->n_slots >= SFU_STATE_MAX_SLOTS || strlen(bootname) >= sizeof(slot->bootname))
                return NULL;
        slot = &s->slots[s->n_slots++];
        memset(slot, 0, sizeof(*slot));
        strcpy(slot->bootname, bootname);
        slot->health = SFU_HEALTH_EMPTY;
        return slot;
}

void sfu_state_set_error(struct sfu_state *s, const struct sfu_err *err) {
        if (!sfu_err_isset(err)) {
                s->has_last_error = false;
                s->last_error_code[0] = s->last_error_message[0] = 0;
                return;
        }
        s->has_last_error = true;
        snprintf(s->last_error_code, sizeof(s->last_error_code), "%s", sfu_err_code_name(err->code));
        snprintf(s->last_error_message, sizeof(s->last_error_message), "%s", err->message);
}

/* ---------------------------------------------------------------- parsing */

/* Every member of obj must be one of the allowed names: a bit flip in a
 * key is a corrupt file, not an unknown extension. */
static int check_members(json_t *obj, const char *where, const char *const *allowed, struct sfu_err *err) {
        const char *key;
        json_t *value;

        json_object_foreach(obj, key, value) {
                bool found = false;
                for (size_t i = 0; allowed[i]; i++)
                        if (strcmp(allowed[i], key) == 0)
                                found = true;
                if (!found)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s: unknown member \"%s\"", where, key);
        }
        return 0;
}

static int get_text(json_t *obj, const char *key, bool required, char *out, size_t out_size, struct sfu_err *err) {
        json_t *v = json_object_get(obj, key);
        if (!v || json_is_null(v)) {
                if (required)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"%s\" is missing", key);
                out[0] = 0;
                return 0;
        }
        if (!json_is_string(v))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"%s\" is not a string", key);
        if (json_string_length(v) >= out_size)
                return sfu_err_set(err, SFU_ERR_PARSE, E2BIG, "\"%s\" is too long", key);
        memcpy(out, json_string_value(v), json_string_length(v) + 1);
        return 0;
}

static int get_version(json_t *obj, const char *key, bool *ret_has, struct sfu_version *ret, struct sfu_err *err) {
        char text[SFU_VERSION_STRING_MAX];
        int r = get_text(obj, key, false, text, sizeof(text), err);
        if (r < 0)
                return r;
        *ret_has = text[0] != 0;
        if (*ret_has && sfu_version_parse(text, ret) < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"%s\" is not a version: \"%s\"", key, text);
        return 0;
}

static int get_time(json_t *obj, const char *key, bool *ret_has, int64_t *ret, struct sfu_err *err) {
        char text[64];
        int r = get_text(obj, key, false, text, sizeof(text), err);
        if (r < 0)
                return r;
        *ret_has = text[0] != 0;
        if (*ret_has && sfu_time_parse_rfc3339(text, false, ret) < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"%s\" is not an RFC 3339 time: \"%s\"", key, text);
        return 0;
}

static int get_enum(json_t *obj, const char *key, const char *const *names, size_t n, int *ret, struct sfu_err *err) {
        char text[32];
        int r = get_text(obj, key, true, text, sizeof(text), err), idx;
        if (r < 0)
                return r;
        idx = lookup(names, n, text);
        if (idx < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"%s\" has an unknown value \"%s\"", key, text);
        *ret = idx;
        return 0;
}

static int get_object(json_t *obj, const char *key, json_t **ret, struct sfu_err *err) {
        json_t *v = json_object_get(obj, key);
        *ret = NULL;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_object(v))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"%s\" is not an object", key);
        *ret = v;
        return 0;
}

static int parse_slots(json_t *slots, struct sfu_state *s, struct sfu_err *err) {
        static const char *const slot_members[] = { "version", "health", "floor", NULL };
        const char *bootname;
        json_t *slot_json;

        if (json_object_size(slots) > SFU_STATE_MAX_SLOTS)
                return sfu_err_set(err, SFU_ERR_PARSE, E2BIG, "too many slots");
        json_object_foreach(slots, bootname, slot_json) {
                struct sfu_state_slot *slot;
                int health, r;

                if (!json_is_object(slot_json))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "slot \"%s\" is not an object", bootname);
                if (sfu_state_slot(s, bootname))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "slot \"%s\" appears twice", bootname);
                slot = sfu_state_slot_ensure(s, bootname);
                if (!slot || bootname[0] == 0)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "bad slot name \"%s\"", bootname);
                r = check_members(slot_json, bootname, slot_members, err);
                if (r < 0)
                        return r;
                r = get_version(slot_json, "version", &slot->has_version, &slot->version, err);
                if (r < 0)
                        return r;
                r = get_enum(slot_json, "health", health_names, _SFU_HEALTH_MAX, &health, err);
                if (r < 0)
                        return r;
                slot->health = (enum sfu_slot_health) health;
                r = get_version(slot_json, "floor", &slot->has_floor, &slot->floor, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_holds(json_t *holds, struct sfu_state *s, struct sfu_err *err) {
        static const char *const hold_members[] = { "manifestSha256", "failures", "until", NULL };
        size_t i;
        json_t *h;

        if (!json_is_array(holds))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"heldBack\" is not an array");
        if (json_array_size(holds) > SFU_STATE_MAX_HOLDS)
                return sfu_err_set(err, SFU_ERR_PARSE, E2BIG, "\"heldBack\" has more than %d entries",
                                   SFU_STATE_MAX_HOLDS);
        json_array_foreach(holds, i, h) {
                struct sfu_state_hold *hold = &s->holds[i];
                uint64_t failures = 0;
                bool has;
                int r;

                if (!json_is_object(h))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"heldBack\" holds a non-object");
                r = check_members(h, "heldBack", hold_members, err);
                if (r >= 0)
                        r = get_text(h, "manifestSha256", true, hold->manifest_sha256, sizeof(hold->manifest_sha256),
                                     err);
                if (r >= 0)
                        r = sfu_json_get_u64(h, "failures", &failures, err);
                if (r >= 0 && (failures == 0 || failures > 64))
                        r = sfu_err_set(err, SFU_ERR_PARSE, ERANGE, "\"failures\" is out of range");
                if (r >= 0)
                        r = get_time(h, "until", &has, &hold->until, err);
                if (r >= 0 && !has)
                        r = sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"until\" is missing");
                if (r < 0)
                        return r == -ENOENT ? sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"failures\" is missing") : r;
                hold->failures = (unsigned) failures;
                s->n_holds++;
        }
        return 0;
}

static int parse_components(json_t *obj, struct sfu_state *s, struct sfu_err *err) {
        static const char *const members[] = { "version", "timestamp", NULL };
        const char *name;
        json_t *c;

        if (json_object_size(obj) > SFU_STATE_MAX_COMPONENTS)
                return sfu_err_set(err, SFU_ERR_PARSE, E2BIG, "\"components\" has more than %d entries",
                                   SFU_STATE_MAX_COMPONENTS);
        json_object_foreach(obj, name, c) {
                struct sfu_state_component *comp;
                bool has_version, has_time;
                int r;

                if (!json_is_object(c))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"components\" holds a non-object");
                comp = sfu_state_component_ensure(s, name);
                if (!comp)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"components\" names a component of %zu bytes",
                                           strlen(name));
                r = check_members(c, "components", members, err);
                if (r >= 0)
                        r = get_version(c, "version", &has_version, &comp->version, err);
                if (r >= 0)
                        r = get_time(c, "timestamp", &has_time, &comp->timestamp, err);
                if (r >= 0 && (!has_version || !has_time))
                        r = sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "component \"%.64s\" lacks its version or timestamp",
                                        name);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_newest_seen(json_t *obj, struct sfu_state *s, struct sfu_err *err) {
        static const char *const members[] = { "version", "timestamp", "source", "format", "algorithms", NULL };
        bool has = false;
        int r, v = 0;

        r = check_members(obj, "newestSeen", members, err);
        if (r >= 0)
                r = get_version(obj, "version", &s->has_newest_seen, &s->newest_seen, err);
        if (r >= 0)
                r = get_time(obj, "timestamp", &has, &s->newest_seen_timestamp, err);
        if (r >= 0)
                r = get_enum(obj, "source", source_names, _SFU_SOURCE_MAX, &v, err);
        if (r >= 0)
                s->newest_seen_source = (enum sfu_source) v;
        if (r >= 0)
                r = get_text(obj, "format", false, s->newest_seen_form, sizeof(s->newest_seen_form), err);
        if (r >= 0)
                r = get_text(obj, "algorithms", false, s->newest_seen_algs, sizeof(s->newest_seen_algs), err);
        if (r >= 0 && (!s->has_newest_seen || !has))
                r = sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"newestSeen\" is incomplete");
        return r;
}

static int parse_last_error(json_t *obj, struct sfu_state *s, struct sfu_err *err) {
        static const char *const members[] = { "code", "message", NULL };
        enum sfu_err_code code;
        int r;

        r = check_members(obj, "lastError", members, err);
        if (r >= 0)
                r = get_text(obj, "code", true, s->last_error_code, sizeof(s->last_error_code), err);
        if (r >= 0 && sfu_err_code_from_name(s->last_error_code, &code) < 0)
                r = sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "unknown error code \"%s\"", s->last_error_code);
        if (r >= 0)
                r = get_text(obj, "message", true, s->last_error_message, sizeof(s->last_error_message), err);
        s->has_last_error = r >= 0;
        return r;
}

static int parse_trial(json_t *obj, struct sfu_state *s, struct sfu_err *err) {
        static const char *const members[] = { "bootname", "previous", NULL };
        int r = check_members(obj, "trial", members, err);

        if (r >= 0)
                r = get_text(obj, "bootname", true, s->trial_bootname, sizeof(s->trial_bootname), err);
        if (r >= 0)
                r = get_text(obj, "previous", true, s->trial_previous, sizeof(s->trial_previous), err);
        return r;
}

static int parse_resume(json_t *obj, struct sfu_state *s, struct sfu_err *err) {
        static const char *const members[] = { "manifestSha256", "image", "bootname", "offset", "etag", "url", NULL };
        uint64_t offset = 0;
        int r = check_members(obj, "resume", members, err);

        if (r >= 0)
                r = get_text(obj, "manifestSha256", true, s->resume_manifest_sha256, sizeof(s->resume_manifest_sha256),
                             err);
        if (r >= 0)
                r = get_text(obj, "image", true, s->resume_image, sizeof(s->resume_image), err);
        if (r >= 0)
                r = get_text(obj, "bootname", true, s->resume_bootname, sizeof(s->resume_bootname), err);
        if (r >= 0)
                r = get_text(obj, "etag", false, s->resume_etag, sizeof(s->resume_etag), err);
        if (r >= 0)
                r = get_text(obj, "url", false, s->resume_url, sizeof(s->resume_url), err);
        if (r >= 0) {
                r = sfu_json_get_u64(obj, "offset", &offset, err);
                if (r == -ENOENT)
                        r = sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"offset\" is missing");
        }
        s->resume_offset = offset;
        s->has_resume = r >= 0;
        return r;
}

static int parse_cache(json_t *obj, struct sfu_state *s, struct sfu_err *err) {
        static const char *const members[] = { "url", "etag", "lastModified", NULL };
        int r = check_members(obj, "manifestCache", members, err);

        if (r >= 0)
                r = get_text(obj, "url", true, s->manifest_url, sizeof(s->manifest_url), err);
        if (r >= 0)
                r = get_text(obj, "etag", false, s->manifest_etag, sizeof(s->manifest_etag), err);
        if (r >= 0)
                r = get_text(obj, "lastModified", false, s->manifest_last_modified, sizeof(s->manifest_last_modified),
                             err);
        return r;
}

/* The members that hold an object, and who reads each. */
static const struct {
        const char *name;
        int (*parse)(json_t *obj, struct sfu_state *s, struct sfu_err *err);
} object_members[] = {
        { "newestSeen", parse_newest_seen }, { "lastError", parse_last_error }, { "slots", parse_slots },
        { "trial", parse_trial },           { "resume", parse_resume },        { "manifestCache", parse_cache },
        { "components", parse_components },
};

static int parse_root(json_t *root, struct sfu_state *s, struct sfu_err *err) {
        static const char *const members[] = {
                "format", "state", "reason", "highestInstalled", "newestAcceptedTimestamp", "newestSeen",
                "lastCheck", "lastError", "slots", "trial", "resume", "manifestCache", "rejectedVersion",
                "rollbackFloor", "heldBack", "components", NULL,
        };
        json_t *format, *obj;
        int r, v;

        r = check_members(root, "state", members, err);
        if (r < 0)
                return r;
        format = json_object_get(root, "format");
        if (!json_is_integer(format) || json_integer_value(format) != SFU_STATE_FORMAT)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"format\" must be %d", SFU_STATE_FORMAT);
        r = get_enum(root, "state", state_names, _SFU_STATE_MAX, &v, err);
        if (r < 0)
                return r;
        s->state = (enum sfu_install_state) v;
        r = get_text(root, "reason", false, s->reason, sizeof(s->reason), err);
        if (r >= 0)
                r = get_version(root, "highestInstalled", &s->has_highest, &s->highest, err);
        if (r >= 0)
                r = get_version(root, "rollbackFloor", &s->has_floor, &s->floor, err);
        if (r >= 0)
                r = get_time(root, "newestAcceptedTimestamp", &s->has_newest_timestamp, &s->newest_timestamp, err);
        if (r >= 0)
                r = get_version(root, "rejectedVersion", &s->has_rejected, &s->rejected, err);
        if (r >= 0)
                r = get_time(root, "lastCheck", &s->has_last_check, &s->last_check, err);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(object_members); i++) {
                r = get_object(root, object_members[i].name, &obj, err);
                if (r >= 0 && obj)
                        r = object_members[i].parse(obj, s, err);
        }
        if (r < 0)
                return r;
        obj = json_object_get(root, "heldBack");
        if (obj && !json_is_null(obj))
                return parse_holds(obj, s, err);
        return 0;
}

struct sfu_state_component *sfu_state_component(struct sfu_state *s, const char *name) {
        for (size_t i = 0; i < s->n_components; i++)
                if (strcmp(s->components[i].name, name) == 0)
                        return &s->components[i];
        return NULL;
}

struct sfu_state_component *sfu_state_component_ensure(struct sfu_state *s, const char *name) {
        struct sfu_state_component *c = sfu_state_component(s, name);

        if (c)
                return c;
        if (s->n_components >= SFU_STATE_MAX_COMPONENTS || !name[0] ||
            strlen(name) >= sizeof(s->components[0].name))
                return NULL;
        c = &s->components[s->n_components++];
        memset(c, 0, sizeof(*c));
        snprintf(c->name, sizeof(c->name), "%s", name);
        return c;
}

int sfu_state_from_json(const char *buf, size_t len, struct sfu_state *ret, struct sfu_err *err) {
        _cleanup_json_ json_t *root = NULL;
        struct sfu_state s;
        int r;

        r = sfu_json_parse_object(buf, len, SFU_STATE_MAX_SIZE, &root, err);
        if (r < 0)
                return r;
        sfu_state_init(&s);
        r = parse_root(root, &s, err);
        if (r < 0)
                return r;
        *ret = s;
        return 0;
}

/* ---------------------------------------------------------------- output */

static json_t *version_json(bool has, const struct sfu_version *v) {
        char buf[SFU_VERSION_STRING_MAX];
        return has ? json_string(sfu_version_format(v, buf)) : json_null();
}

static json_t *time_json(bool has, int64_t t) {
        char buf[32];
        return has ? json_string(sfu_time_format_rfc3339(t, buf)) : json_null();
}

static json_t *text_json(const char *s) {
        return s[0] ? json_string(s) : json_null();
}

int sfu_state_to_json(const struct sfu_state *s, char **ret) {
        _cleanup_json_ json_t *root = NULL;
        json_t *slots;
        char *text;

        root = json_object();
        slots = json_object();
        if (!root || !slots) {
                json_decref(slots);
                return -ENOMEM;
        }
        json_object_set_new(root, "format", json_integer(SFU_STATE_FORMAT));
        json_object_set_new(root, "state", json_string(sfu_state_install_name(s->state)));
        json_object_set_new(root, "reason", json_string(s->reason));
        json_object_set_new(root, "highestInstalled", version_json(s->has_highest, &s->highest));
        json_object_set_new(root, "rollbackFloor", version_json(s->has_floor, &s->floor));
        json_object_set_new(root, "newestAcceptedTimestamp",
                            time_json(s->has_newest_timestamp, s->newest_timestamp));
        json_object_set_new(root, "rejectedVersion", version_json(s->has_rejected, &s->rejected));
        if (s->has_newest_seen)
                json_object_set_new(root, "newestSeen",
                                    json_pack("{s:o,s:o,s:s,s:o,s:o}", "version", version_json(true, &s->newest_seen),
                                              "timestamp", time_json(true, s->newest_seen_timestamp), "source",
                                              sfu_state_source_name(s->newest_seen_source), "format",
                                              text_json(s->newest_seen_form), "algorithms",
                                              text_json(s->newest_seen_algs)));
        else
                json_object_set_new(root, "newestSeen", json_null());
        json_object_set_new(root, "lastCheck", time_json(s->has_last_check, s->last_check));
        if (s->has_last_error)
                json_object_set_new(root, "lastError", json_pack("{s:s,s:s}", "code", s->last_error_code,
                                                                 "message", s->last_error_message));
        else
                json_object_set_new(root, "lastError", json_null());
        for (size_t i = 0; i < s->n_slots; i++) {
                json_t *slot = json_pack("{s:o,s:s}", "version",
                                         version_json(s->slots[i].has_version, &s->slots[i].version), "health",
                                         sfu_state_health_name(s->slots[i].health));
                if (slot && s->slots[i].has_floor)
                        json_object_set_new(slot, "floor", version_json(true, &s->slots[i].floor));
                json_object_set_new(slots, s->slots[i].bootname, slot);
        }
        json_object_set_new(root, "slots", slots);
        if (s->trial_bootname[0])
                json_object_set_new(root, "trial", json_pack("{s:s,s:s}", "bootname", s->trial_bootname,
                                                             "previous", s->trial_previous));
        else
                json_object_set_new(root, "trial", json_null());
        if (s->has_resume)
                json_object_set_new(root, "resume",
                                    json_pack("{s:s,s:s,s:s,s:I,s:o,s:o}", "manifestSha256",
                                              s->resume_manifest_sha256, "image", s->resume_image, "bootname",
                                              s->resume_bootname, "offset", (json_int_t) s->resume_offset, "etag",
                                              text_json(s->resume_etag), "url", text_json(s->resume_url)));
        else
                json_object_set_new(root, "resume", json_null());
        if (s->n_components > 0) {
                json_t *comps = json_object();
                for (size_t i = 0; comps && i < s->n_components; i++)
                        json_object_set_new(comps, s->components[i].name,
                                            json_pack("{s:o,s:o}", "version",
                                                      version_json(true, &s->components[i].version), "timestamp",
                                                      time_json(true, s->components[i].timestamp)));
                json_object_set_new(root, "components", comps);
        }
        if (s->n_holds > 0) {
                json_t *holds = json_array();
                for (size_t i = 0; holds && i < s->n_holds; i++)
                        json_array_append_new(holds, json_pack("{s:s,s:I,s:o}", "manifestSha256",
                                                               s->holds[i].manifest_sha256, "failures",
                                                               (json_int_t) s->holds[i].failures, "until",
                                                               time_json(true, s->holds[i].until)));
                json_object_set_new(root, "heldBack", holds);
        }
        if (s->manifest_url[0])
                json_object_set_new(root, "manifestCache",
                                    json_pack("{s:s,s:o,s:o}", "url", s->manifest_url, "etag",
                                              text_json(s->manifest_etag), "lastModified",
                                              text_json(s->manifest_last_modified)));
        else
                json_object_set_new(root, "manifestCache", json_null());

        text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (!text)
                return -ENOMEM;
        /* json_dumps has no trailing newline; files want one. */
        size_t len = strlen(text);
        char *with_newline = realloc(text, len + 2);
        if (!with_newline) {
                free(text);
                return -ENOMEM;
        }
        with_newline[len] = '\n';
        with_newline[len + 1] = 0;
        *ret = with_newline;
        return 0;
}
