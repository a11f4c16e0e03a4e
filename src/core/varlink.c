/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "core/json.h"
#include "core/varlink.h"

int sfu_varlink_frame(const char *buf, size_t len, size_t max, size_t *ret_len) {
        size_t window = len;
        const char *nul;

        /* A message of max bytes needs max + 1 with its NUL. */
        if (window > max)
                window = max + 1;
        nul = window > 0 ? memchr(buf, 0, window) : NULL;
        if (nul) {
                *ret_len = (size_t) (nul - buf);
                return 1;
        }
        return len > max ? -EMSGSIZE : 0;
}

static bool is_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c) {
        return is_alpha(c) || (c >= '0' && c <= '9');
}

/* One label of an interface name: [A-Za-z0-9] runs joined by dashes,
 * neither starting nor ending with a dash; the first label starts with a
 * letter. */
static bool label_valid(const char *s, size_t len, bool first) {
        if (len == 0 || s[0] == '-' || s[len - 1] == '-')
                return false;
        if (first && !is_alpha(s[0]))
                return false;
        for (size_t i = 0; i < len; i++)
                if (!is_alnum(s[i]) && s[i] != '-')
                        return false;
        return true;
}

static bool interface_valid(const char *s, size_t len) {
        size_t labels = 0, start = 0;

        for (size_t i = 0; i <= len; i++)
                if (i == len || s[i] == '.') {
                        if (!label_valid(s + start, i - start, labels == 0))
                                return false;
                        labels++;
                        start = i + 1;
                }
        return labels >= 2;
}

static bool member_valid(const char *s) {
        if (!(s[0] >= 'A' && s[0] <= 'Z'))
                return false;
        for (size_t i = 1; s[i]; i++)
                if (!is_alnum(s[i]))
                        return false;
        return true;
}

bool sfu_varlink_name_valid(const char *name) {
        const char *dot;
        size_t len;

        if (!name)
                return false;
        len = strnlen(name, SFU_VARLINK_NAME_MAX + 1);
        if (len > SFU_VARLINK_NAME_MAX)
                return false;
        dot = strrchr(name, '.');
        if (!dot)
                return false;
        return interface_valid(name, (size_t) (dot - name)) && member_valid(dot + 1);
}

int sfu_varlink_name_split(const char *name, char *iface, size_t size, const char **ret_member) {
        const char *dot;
        size_t len;

        if (!sfu_varlink_name_valid(name))
                return -EINVAL;
        dot = strrchr(name, '.');
        len = (size_t) (dot - name);
        if (len >= size)
                return -ENAMETOOLONG;
        memcpy(iface, name, len);
        iface[len] = 0;
        *ret_member = dot + 1;
        return 0;
}

/* The fields every message may carry, besides its own. */
static int get_parameters(json_t *msg, json_t **ret, struct sfu_err *err) {
        json_t *p = json_object_get(msg, "parameters");

        if (!p || json_is_null(p)) {
                p = json_object();
                if (!p)
                        return -ENOMEM;
                *ret = p;
                return 0;
        }
        if (!json_is_object(p))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"parameters\" is not an object");
        *ret = json_incref(p);
        return 0;
}

static int get_bool(json_t *msg, const char *key, bool *ret, struct sfu_err *err) {
        json_t *v = json_object_get(msg, key);

        if (!v || json_is_null(v)) {
                *ret = false;
                return 0;
        }
        if (!json_is_boolean(v))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"%s\" is not a boolean", key);
        *ret = json_is_true(v);
        return 0;
}

static int only_fields(json_t *msg, const char *const *allowed, struct sfu_err *err) {
        const char *key;
        json_t *v;

        json_object_foreach(msg, key, v) {
                bool known = false;
                for (size_t i = 0; allowed[i]; i++)
                        if (strcmp(allowed[i], key) == 0)
                                known = true;
                if (!known) {
                        char shown[64];
                        /* Quoted back into replies and logs: keep it short
                         * and printable. */
                        snprintf(shown, sizeof(shown), "%s", key);
                        for (char *s = shown; *s; s++)
                                if ((unsigned char) *s < 0x20 || (unsigned char) *s >= 0x7f)
                                        *s = '?';
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "unknown message field \"%s\"", shown);
                }
        }
        return 0;
}

static int get_name(json_t *msg, const char *key, bool required, char **ret, struct sfu_err *err) {
        json_t *v = json_object_get(msg, key);
        char *copy;

        if (!v) {
                if (required)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "message has no \"%s\"", key);
                *ret = NULL;
                return 0;
        }
        if (!json_is_string(v))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "\"%s\" is not a string", key);
        if (!sfu_varlink_name_valid(json_string_value(v)))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "\"%s\" is not a qualified name such as org.example.Interface.Name", key);
        copy = strdup(json_string_value(v));
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

int sfu_varlink_call_decode(const char *buf, size_t len, struct sfu_varlink_call *ret, struct sfu_err *err) {
        static const char *const fields[] = { "method", "parameters", "more", "oneway", NULL };
        _cleanup_json_ json_t *msg = NULL;
        _cleanup_json_ json_t *params = NULL;
        _cleanup_free_ char *method = NULL;
        bool more, oneway;
        int r;

        if (len > SFU_VARLINK_MESSAGE_MAX)
                return sfu_err_set(err, SFU_ERR_SIZE, EMSGSIZE, "request of %zu bytes exceeds the limit of %u bytes",
                                   len, SFU_VARLINK_MESSAGE_MAX);
        r = sfu_json_parse_object(buf, len, SFU_VARLINK_MESSAGE_MAX, &msg, err);
        if (r < 0)
                return r;
        r = only_fields(msg, fields, err);
        if (r < 0)
                return r;
        r = get_name(msg, "method", true, &method, err);
        if (r < 0)
                return r;
        r = get_parameters(msg, &params, err);
        if (r < 0)
                return r;
        r = get_bool(msg, "more", &more, err);
        if (r < 0)
                return r;
        r = get_bool(msg, "oneway", &oneway, err);
        if (r < 0)
                return r;
        if (more && oneway)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "a call cannot be both \"more\" and \"oneway\"");
        *ret = (struct sfu_varlink_call) {
                .method = TAKE_PTR(method),
                .parameters = TAKE_PTR(params),
                .more = more,
                .oneway = oneway,
        };
        return 0;
}

void sfu_varlink_call_done(struct sfu_varlink_call *call) {
        if (!call)
                return;
        free(call->method);
        json_decref(call->parameters);
        *call = (struct sfu_varlink_call) {};
}

int sfu_varlink_reply_decode(const char *buf, size_t len, struct sfu_varlink_reply *ret, struct sfu_err *err) {
        static const char *const fields[] = { "error", "parameters", "continues", NULL };
        _cleanup_json_ json_t *msg = NULL;
        _cleanup_json_ json_t *params = NULL;
        _cleanup_free_ char *error = NULL;
        bool continues;
        int r;

        r = sfu_json_parse_object(buf, len, len, &msg, err);
        if (r < 0)
                return r;
        r = only_fields(msg, fields, err);
        if (r < 0)
                return r;
        r = get_name(msg, "error", false, &error, err);
        if (r < 0)
                return r;
        r = get_parameters(msg, &params, err);
        if (r < 0)
                return r;
        r = get_bool(msg, "continues", &continues, err);
        if (r < 0)
                return r;
        if (error && continues)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "an error reply cannot continue");
        *ret = (struct sfu_varlink_reply) {
                .error = TAKE_PTR(error),
                .parameters = TAKE_PTR(params),
                .continues = continues,
        };
        return 0;
}

void sfu_varlink_reply_done(struct sfu_varlink_reply *reply) {
        if (!reply)
                return;
        free(reply->error);
        json_decref(reply->parameters);
        *reply = (struct sfu_varlink_reply) {};
}

/* Serialises msg with its NUL. jansson escapes U+0000 in strings, so the
 * only NUL in the output is the terminator. */
static int dump(json_t *msg, char **ret, size_t *ret_size) {
        char *text = json_dumps(msg, JSON_COMPACT);
        if (!text)
                return -ENOMEM;
        *ret_size = strlen(text) + 1;
        *ret = text;
        return 0;
}

static int build(json_t *msg, const char *name_key, const char *name, json_t *parameters) {
        if (name && json_object_set_new(msg, name_key, json_string(name)) < 0)
                return -ENOMEM;
        if (parameters && json_object_set(msg, "parameters", parameters) < 0)
                return -ENOMEM;
        if (!parameters && json_object_set_new(msg, "parameters", json_object()) < 0)
                return -ENOMEM;
        return 0;
}

int sfu_varlink_call_encode(const char *method, json_t *parameters, bool more, bool oneway, char **ret,
                            size_t *ret_size) {
        _cleanup_json_ json_t *msg = NULL;
        int r;

        if (!sfu_varlink_name_valid(method) || (parameters && !json_is_object(parameters)) || (more && oneway))
                return -EINVAL;
        msg = json_object();
        if (!msg)
                return -ENOMEM;
        r = build(msg, "method", method, parameters);
        if (r < 0)
                return r;
        if ((more && json_object_set_new(msg, "more", json_true()) < 0) ||
            (oneway && json_object_set_new(msg, "oneway", json_true()) < 0))
                return -ENOMEM;
        return dump(msg, ret, ret_size);
}

int sfu_varlink_reply_encode(const char *error, json_t *parameters, bool continues, char **ret, size_t *ret_size) {
        _cleanup_json_ json_t *msg = NULL;
        int r;

        if ((error && !sfu_varlink_name_valid(error)) || (parameters && !json_is_object(parameters)) ||
            (error && continues))
                return -EINVAL;
        msg = json_object();
        if (!msg)
                return -ENOMEM;
        r = build(msg, "error", error, parameters);
        if (r < 0)
                return r;
        if (continues && json_object_set_new(msg, "continues", json_true()) < 0)
                return -ENOMEM;
        return dump(msg, ret, ret_size);
}

static bool type_matches(json_t *v, enum sfu_varlink_type type) {
        switch (type) {
        case SFU_VARLINK_BOOL:
                return json_is_boolean(v);
        case SFU_VARLINK_STRING:
                return json_is_string(v);
        case SFU_VARLINK_INT:
                return json_is_integer(v);
        }
        return false;
}

int sfu_varlink_params_check(json_t *parameters, const struct sfu_varlink_param *spec, size_t n,
                             const char **bad_name) {
        const char *key;
        json_t *v;

        if (!json_is_object(parameters)) {
                *bad_name = "parameters";
                return -EINVAL;
        }
        json_object_foreach(parameters, key, v) {
                const struct sfu_varlink_param *p = NULL;
                for (size_t i = 0; i < n; i++)
                        if (strcmp(spec[i].name, key) == 0)
                                p = &spec[i];
                if (!p || (!json_is_null(v) && !type_matches(v, p->type))) {
                        *bad_name = key;
                        return -EINVAL;
                }
        }
        return 0;
}

/* ---------------------------------------------------------------- descriptors */

int sfu_varlink_fds_push(struct sfu_varlink_fds *q, int fd, uint64_t at) {
        if (fd < 0 || (q->n > 0 && at < q->at[q->n - 1]))
                return -EINVAL;
        if (q->n >= SFU_VARLINK_FDS_MAX)
                return -ENOBUFS;
        q->fd[q->n] = fd;
        q->at[q->n] = at;
        q->n++;
        return 0;
}

size_t sfu_varlink_fds_take(struct sfu_varlink_fds *q, uint64_t end, int ret[static SFU_VARLINK_FDS_MAX]) {
        size_t n = 0;

        while (n < q->n && q->at[n] < end) {
                ret[n] = q->fd[n];
                n++;
        }
        memmove(q->fd, q->fd + n, (q->n - n) * sizeof(q->fd[0]));
        memmove(q->at, q->at + n, (q->n - n) * sizeof(q->at[0]));
        q->n -= n;
        return n;
}
