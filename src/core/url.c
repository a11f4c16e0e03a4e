/* SPDX-License-Identifier: MIT */
#include "core/url.h"
#include "core/hex.h"

/* ASCII classes, independent of the locale. */
static bool is_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool is_hex(char c) {
        return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char lower(char c) {
        return (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
}

static bool is_unreserved(char c) {
        return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* unreserved, reserved (gen-delims and sub-delims) and '%' of RFC 3986. */
static bool is_uri_char(char c) {
        return is_unreserved(c) || (c != 0 && strchr(":/?#[]@!$&'()*+,;=%", c));
}

static bool span_eq_nocase(const char *a, size_t len, const char *lit) {
        if (strlen(lit) != len)
                return false;
        for (size_t i = 0; i < len; i++)
                if (lower(a[i]) != lit[i])
                        return false;
        return true;
}

bool sfu_url_domain_valid(const char *name) {
        size_t len, label_len = 0, last_label = 0;
        bool numeric = true, hex_tail = true;

        if (!name)
                return false;
        /* Two more than the limit: room for a trailing dot and for seeing
         * that the name is too long without reading all of it. */
        len = strnlen(name, SFU_URL_DOMAIN_MAX + 2);
        if (len > 0 && name[len - 1] == '.')
                len--;
        if (len == 0 || len > SFU_URL_DOMAIN_MAX)
                return false;

        for (size_t i = 0; i < len; i++) {
                char c = name[i];

                if (c == '.') {
                        if (label_len == 0 || name[i - 1] == '-')
                                return false;
                        label_len = 0;
                        last_label = i + 1;
                        continue;
                }
                if (!is_alpha(c) && !is_digit(c) && c != '-')
                        return false;
                if (label_len == 0 && c == '-')
                        return false;
                if (++label_len > SFU_URL_LABEL_MAX)
                        return false;
        }
        if (label_len == 0 || name[len - 1] == '-')
                return false;

        /* The last label decides whether resolvers (inet_aton) would take the
         * name for an IPv4 address: "10.0.0.1", "127.1", "2130706433",
         * "1.2.3.0x4". */
        for (size_t i = last_label; i < len; i++)
                if (!is_digit(name[i]))
                        numeric = false;
        if (len - last_label < 2 || name[last_label] != '0' || lower(name[last_label + 1]) != 'x')
                hex_tail = false;
        else
                for (size_t i = last_label + 2; i < len; i++)
                        if (!is_hex(name[i]))
                                hex_tail = false;
        return !numeric && !hex_tail;
}

/* Length of the scheme of s (the part before ':'), or 0 when s does not
 * start with a syntactically valid scheme followed by ':'. */
static size_t scheme_len(const char *s) {
        size_t i;

        if (!s || !is_alpha(s[0]))
                return 0;
        for (i = 1; s[i] != ':'; i++)
                if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '+' && s[i] != '-' && s[i] != '.')
                        return 0;
        return i;
}

static bool scheme_is_http(const char *s, size_t len) {
        return span_eq_nocase(s, len, "http") || span_eq_nocase(s, len, "https");
}

bool sfu_url_scheme_allowed(const char *url) {
        size_t len = scheme_len(url);
        return len > 0 && scheme_is_http(url, len);
}

/* Checks the characters of a URL or reference: RFC 3986 characters only,
 * every '%' followed by two hex digits, at most one '#'. */
static bool uri_chars_valid(const char *s) {
        bool fragment = false;

        for (size_t i = 0; s[i]; i++) {
                if (!is_uri_char(s[i]))
                        return false;
                if (s[i] == '%' && (!is_hex(s[i + 1]) || !is_hex(s[i + 2])))
                        return false;
                if (s[i] == '#') {
                        if (fragment)
                                return false;
                        fragment = true;
                }
        }
        return true;
}

/* A bounded output buffer; appends fail (and stay failed) beyond
 * SFU_URL_MAX. */
struct out {
        char buf[SFU_URL_MAX + 1];
        size_t len;
        bool overflow;
};

static void out_put(struct out *o, const char *s, size_t n) {
        if (o->overflow || n > SFU_URL_MAX - o->len) {
                o->overflow = true;
                return;
        }
        memcpy(o->buf + o->len, s, n);
        o->len += n;
        o->buf[o->len] = 0;
}

static void out_put_segment(struct out *o, const char *s) {
        static const char digits[] = "0123456789ABCDEF";

        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;
                if (is_unreserved((char) c))
                        out_put(o, (const char *) &c, 1);
                else {
                        char esc[3] = { '%', digits[c >> 4], digits[c & 15] };
                        out_put(o, esc, 3);
                }
        }
}

static int check_segment(const char *what, const char *value, struct sfu_err *err) {
        if (!value)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "URL template uses {%s}, but no %s is known",
                                   what, what);
        if (value[0] == 0 || sfu_streq(value, ".") || sfu_streq(value, ".."))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "%s \"%s\" cannot be a URL path segment",
                                   what, value);
        if (strnlen(value, SFU_URL_SEGMENT_MAX + 1) > SFU_URL_SEGMENT_MAX)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "%s is longer than %u bytes", what,
                                   SFU_URL_SEGMENT_MAX);
        return 0;
}

int sfu_url_expand_template(const char *tmpl, const char *domain, const char *manufacturer,
                            const char *model, char **ret, struct sfu_err *err) {
        _cleanup_free_ struct out *o = NULL;
        char *result;
        int r;

        if (!tmpl)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "no URL template");
        if (strnlen(tmpl, SFU_URL_MAX + 1) > SFU_URL_MAX)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "URL template is longer than %u bytes",
                                   SFU_URL_MAX);
        o = calloc(1, sizeof(*o));
        if (!o)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");

        for (const char *p = tmpl; *p;) {
                const char *close;
                size_t name_len;

                if (*p == '}')
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "URL template has a stray '}': %s",
                                           tmpl);
                if (*p != '{') {
                        if (!is_uri_char(*p))
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                                   "URL template contains a character not allowed in a URL");
                        out_put(o, p, 1);
                        p++;
                        continue;
                }
                close = strchr(p + 1, '}');
                if (!close)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "URL template has an unclosed '{': %s", tmpl);
                name_len = (size_t) (close - p - 1);
                if (name_len == 6 && strncmp(p + 1, "domain", 6) == 0) {
                        size_t dlen;
                        if (!domain)
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                                   "URL template uses {domain}, but no domain is known");
                        if (!sfu_url_domain_valid(domain))
                                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                                   "invalid domain name for {domain} in URL template");
                        dlen = strlen(domain);
                        if (domain[dlen - 1] == '.')
                                dlen--;
                        out_put(o, domain, dlen);
                } else if (name_len == 12 && strncmp(p + 1, "manufacturer", 12) == 0) {
                        r = check_segment("manufacturer", manufacturer, err);
                        if (r < 0)
                                return r;
                        out_put_segment(o, manufacturer);
                } else if (name_len == 5 && strncmp(p + 1, "model", 5) == 0) {
                        r = check_segment("model", model, err);
                        if (r < 0)
                                return r;
                        out_put_segment(o, model);
                } else
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "URL template has an unknown placeholder {%.*s}",
                                           (int) (name_len > 32 ? 32 : name_len), p + 1);
                p = close + 1;
        }
        if (o->overflow)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "URL from template is longer than %u bytes",
                                   SFU_URL_MAX);
        if (!sfu_url_scheme_allowed(o->buf) || strncmp(o->buf + scheme_len(o->buf), "://", 3) != 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "URL template does not give an http:// or https:// URL: %s", tmpl);
        result = strdup(o->buf);
        if (!result)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        *ret = result;
        return 0;
}

/* ---------------------------------------------------------- RFC 3986 */

struct span {
        const char *ptr;
        size_t len;
        bool defined;
};

struct uri {
        struct span scheme, authority, path, query, fragment;
};

/* The regular expression of RFC 3986 appendix B, with the scheme checked
 * against its syntax: a first segment with a ':' that is not a valid
 * scheme makes the reference invalid (section 4.2). */
static int uri_split(const char *s, struct uri *ret) {
        struct uri u = {};
        const char *p = s;
        size_t n;

        n = strcspn(p, ":/?#");
        if (p[n] == ':') {
                if (n == 0 || scheme_len(p) != n)
                        return -EINVAL;
                u.scheme = (struct span) { p, n, true };
                p += n + 1;
        }
        if (p[0] == '/' && p[1] == '/') {
                p += 2;
                n = strcspn(p, "/?#");
                u.authority = (struct span) { p, n, true };
                p += n;
        }
        n = strcspn(p, "?#");
        u.path = (struct span) { p, n, true };
        p += n;
        if (*p == '?') {
                p++;
                n = strcspn(p, "#");
                u.query = (struct span) { p, n, true };
                p += n;
        }
        if (*p == '#') {
                p++;
                u.fragment = (struct span) { p, strlen(p), true };
        }
        *ret = u;
        return 0;
}

/* True when the authority has a non-empty host (after any userinfo, before
 * any port). */
static bool authority_has_host(struct span a) {
        const char *host, *end;

        if (!a.defined || !a.ptr)
                return false;
        host = a.ptr;
        end = a.ptr + a.len;
        for (const char *q = a.ptr; q < end; q++)
                if (*q == '@')
                        host = q + 1;
        if (host < end && *host == '[')
                return end - host > 2 && memchr(host, ']', (size_t) (end - host));
        return host < end && *host != ':';
}

static bool starts(const char *s, size_t len, const char *lit) {
        size_t n = strlen(lit);
        return len >= n && memcmp(s, lit, n) == 0;
}

static bool equals(const char *s, size_t len, const char *lit) {
        return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

/* RFC 3986 5.2.4.  out must have room for in_len bytes; returns the
 * length written. */
static size_t remove_dot_segments(const char *in, size_t in_len, char *out) {
        size_t out_len = 0;

        while (in_len > 0) {
                if (starts(in, in_len, "../")) {                        /* A */
                        in += 3, in_len -= 3;
                } else if (starts(in, in_len, "./")) {
                        in += 2, in_len -= 2;
                } else if (starts(in, in_len, "/./")) {                 /* B */
                        in += 2, in_len -= 2;
                } else if (equals(in, in_len, "/.")) {
                        in = "/", in_len = 1;
                } else if (starts(in, in_len, "/../") || equals(in, in_len, "/..")) { /* C */
                        if (in_len == 3)
                                in = "/", in_len = 1;
                        else
                                in += 3, in_len -= 3;
                        while (out_len > 0 && out[out_len - 1] != '/')
                                out_len--;
                        if (out_len > 0)
                                out_len--;
                } else if (equals(in, in_len, ".") || equals(in, in_len, "..")) { /* D */
                        in_len = 0;
                } else {                                                /* E */
                        size_t n = in[0] == '/' ? 1 : 0;
                        while (n < in_len && in[n] != '/')
                                n++;
                        memcpy(out + out_len, in, n);
                        out_len += n;
                        in += n, in_len -= n;
                }
        }
        return out_len;
}

int sfu_url_resolve(const char *base, const char *ref, char **ret, struct sfu_err *err) {
        _cleanup_free_ char *merged = NULL, *path = NULL;
        _cleanup_free_ struct out *o = NULL;
        struct uri b, r, t = {};
        size_t merged_len = 0, path_len;
        char *result;

        if (!base || !ref)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "no URL to resolve");
        if (strnlen(base, SFU_URL_MAX + 1) > SFU_URL_MAX || strnlen(ref, SFU_URL_MAX + 1) > SFU_URL_MAX)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "URL is longer than %u bytes", SFU_URL_MAX);
        if (!uri_chars_valid(base) || uri_split(base, &b) < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "base URL is not a valid URI");
        if (!b.scheme.defined || !scheme_is_http(b.scheme.ptr, b.scheme.len) ||
            !authority_has_host(b.authority))
                return sfu_err_set(err, SFU_ERR_POLICY, EPROTONOSUPPORT,
                                   "base URL is not an http or https URL with a host");
        if (!uri_chars_valid(ref) || uri_split(ref, &r) < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "location is not a valid URI reference (spaces, control characters, "
                                   "backslashes and non-ASCII must be percent-encoded)");
        if (r.scheme.defined && !scheme_is_http(r.scheme.ptr, r.scheme.len))
                return sfu_err_set(err, SFU_ERR_POLICY, EPROTONOSUPPORT,
                                   "location uses the scheme \"%.*s\"; only http and https are allowed",
                                   (int) (r.scheme.len > 16 ? 16 : r.scheme.len), r.scheme.ptr);

        /* Scratch space for merging and for remove_dot_segments(). */
        merged = malloc(b.path.len + r.path.len + 2);
        path = malloc(b.path.len + r.path.len + 2);
        o = calloc(1, sizeof(*o));
        if (!merged || !path || !o)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");

        /* RFC 3986 5.2.2, strict. */
        if (r.scheme.defined) {
                t.scheme = r.scheme;
                t.authority = r.authority;
                path_len = remove_dot_segments(r.path.ptr, r.path.len, path);
                t.query = r.query;
        } else {
                if (r.authority.defined) {
                        t.authority = r.authority;
                        path_len = remove_dot_segments(r.path.ptr, r.path.len, path);
                        t.query = r.query;
                } else {
                        if (r.path.len == 0) {
                                memcpy(path, b.path.ptr, b.path.len);
                                path_len = b.path.len;
                                t.query = r.query.defined ? r.query : b.query;
                        } else {
                                if (r.path.ptr[0] == '/') {
                                        memcpy(merged, r.path.ptr, r.path.len);
                                        merged_len = r.path.len;
                                } else if (b.authority.defined && b.path.len == 0) {    /* 5.2.3 */
                                        merged[0] = '/';
                                        memcpy(merged + 1, r.path.ptr, r.path.len);
                                        merged_len = 1 + r.path.len;
                                } else {
                                        size_t keep = b.path.len;
                                        while (keep > 0 && b.path.ptr[keep - 1] != '/')
                                                keep--;
                                        memcpy(merged, b.path.ptr, keep);
                                        memcpy(merged + keep, r.path.ptr, r.path.len);
                                        merged_len = keep + r.path.len;
                                }
                                path_len = remove_dot_segments(merged, merged_len, path);
                                t.query = r.query;
                        }
                        t.authority = b.authority;
                }
                t.scheme = b.scheme;
        }
        t.fragment = r.fragment;

        if (!authority_has_host(t.authority))
                return sfu_err_set(err, SFU_ERR_POLICY, EPROTONOSUPPORT,
                                   "location does not resolve to an http or https URL with a host");

        /* RFC 3986 5.3 */
        out_put(o, t.scheme.ptr, t.scheme.len);
        out_put(o, "://", 3);
        out_put(o, t.authority.ptr, t.authority.len);
        out_put(o, path, path_len);
        if (t.query.defined) {
                out_put(o, "?", 1);
                out_put(o, t.query.ptr, t.query.len);
        }
        if (t.fragment.defined) {
                out_put(o, "#", 1);
                out_put(o, t.fragment.ptr, t.fragment.len);
        }
        if (o->overflow)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "resolved URL is longer than %u bytes",
                                   SFU_URL_MAX);
        result = strdup(o->buf);
        if (!result)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        *ret = result;
        return 0;
}

/* ---------------------------------------------------------- URL paths and files */

bool sfu_url_segment_unreserved(const char *s) {
        if (!s || !*s || sfu_streq(s, ".") || sfu_streq(s, ".."))
                return false;
        for (; *s; s++)
                if (!is_unreserved(*s))
                        return false;
        return true;
}

int sfu_url_segment_encode(const char *s, char **ret) {
        _cleanup_free_ struct out *o = calloc(1, sizeof(*o));
        char *result;

        if (!o)
                return -ENOMEM;
        out_put_segment(o, s);
        if (o->overflow)
                return -E2BIG;
        result = strdup(o->buf);
        if (!result)
                return -ENOMEM;
        *ret = result;
        return 0;
}

/* Percent-decodes the len bytes of one segment into out (room for len + 1
 * bytes); a decoded '/', NUL or control character is refused. */
static int decode_segment(const char *seg, size_t len, char *out) {
        size_t o = 0;

        for (size_t i = 0; i < len; i++) {
                uint8_t ch = (uint8_t) seg[i];

                if (ch == '%') {
                        char hex[3];

                        if (len - i < 3)
                                return -EINVAL;
                        hex[0] = seg[i + 1], hex[1] = seg[i + 2], hex[2] = 0;
                        if (sfu_hex_decode(hex, &ch, 1) < 0)
                                return -EINVAL;
                        i += 2;
                }
                if (ch < 0x20 || ch == 0x7f || ch == '/')
                        return -EINVAL;
                out[o++] = (char) ch;
        }
        out[o] = 0;
        return 0;
}

/* True when a ".." of path (which starts with '/') would climb above the
 * root, which remove_dot_segments() silently stops at. */
static bool climbs_above_root(const char *path, size_t len) {
        size_t depth = 0;

        for (size_t i = 1; i <= len;) {
                size_t n = 0;

                while (i + n < len && path[i + n] != '/')
                        n++;
                if (equals(path + i, n, "..")) {
                        if (depth == 0)
                                return true;
                        depth--;
                } else if (!equals(path + i, n, "."))
                        depth++;
                i += n + 1;
        }
        return false;
}

/* Decodes the segments of path (which starts with '/') into a relative
 * file path. */
static int decode_path(const char *ref, const char *path, size_t len, char **ret, struct sfu_err *err) {
        _cleanup_free_ char *out = malloc(len + 1);
        size_t o = 0;

        if (!out)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        for (size_t i = 1; i < len;) {
                size_t n = 0;

                while (i + n < len && path[i + n] != '/')
                        n++;
                if (n == 0)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "location %s has an empty path segment", ref);
                if (decode_segment(path + i, n, out + o) < 0)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "location %s has a bad percent-escape or a control character", ref);
                if (sfu_streq(out + o, ".") || sfu_streq(out + o, ".."))
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "location %s has an encoded dot segment", ref);
                o += strlen(out + o);
                out[o++] = '/';
                i += n + 1;
        }
        out[o - 1] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

int sfu_url_local_path(const char *base_path, const char *ref, char **ret, struct sfu_err *err) {
        _cleanup_free_ char *merged = NULL, *path = NULL;
        size_t keep = 0, merged_len, path_len;
        struct uri r;

        if (!base_path || base_path[0] != '/' || !ref)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "no path to resolve");
        if (strnlen(base_path, SFU_URL_MAX + 1) > SFU_URL_MAX || strnlen(ref, SFU_URL_MAX + 1) > SFU_URL_MAX)
                return sfu_err_set(err, SFU_ERR_SIZE, E2BIG, "location is longer than %u bytes", SFU_URL_MAX);
        if (scheme_len(ref) > 0 || strncmp(ref, "//", 2) == 0)
                return -EREMOTE;
        if (!*ref)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "empty location");
        if (strpbrk(ref, "?#"))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "location %s has a query or fragment, which a file cannot have", ref);
        if (!uri_chars_valid(ref) || uri_split(ref, &r) < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "location %s has a bad percent-escape or a character a URI may not contain", ref);

        /* RFC 3986 5.2.2 and 5.2.3 for a reference without scheme and
         * authority: an absolute path replaces the base path, a relative
         * one replaces its last segment. */
        if (ref[0] != '/')
                keep = (size_t) (strrchr(base_path, '/') - base_path) + 1;
        merged_len = keep + strlen(ref);
        merged = malloc(merged_len + 1);
        path = malloc(merged_len + 1);
        if (!merged || !path)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        memcpy(merged, base_path, keep);
        strcpy(merged + keep, ref);
        if (climbs_above_root(merged, merged_len))
                return sfu_err_set(err, SFU_ERR_POLICY, EPERM, "location %s leads outside the document root", ref);
        path_len = remove_dot_segments(merged, merged_len, path);
        if (path_len <= 1 || path[path_len - 1] == '/')
                return sfu_err_set(err, SFU_ERR_PARSE, EISDIR, "location %s names a directory, not a file", ref);
        return decode_path(ref, path, path_len, ret, err);
}
