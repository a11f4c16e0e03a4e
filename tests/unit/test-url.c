/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "core/url.h"
#include "tap.h"

/* n labels of label_len 'a's separated by dots, then tail. */
static char *name_of(size_t labels, size_t label_len, const char *tail) {
        size_t len = labels * (label_len + 1) + strlen(tail) + 1;
        char *s = calloc(1, len), *p = s;
        if (!s)
                abort();
        for (size_t i = 0; i < labels; i++) {
                memset(p, 'a', label_len);
                p += label_len;
                *p++ = '.';
        }
        strcpy(p, tail);
        return s;
}

static void test_domain(void) {
        static const char *const good[] = {
                "example.com", "example.com.", "lan", "a", "a-b.c-d", "x1.y2", "EXAMPLE.Com",
                "xn--bcher-kva.example", "123.example", "0.example", "a.1b", "site42", "0xfg",
        };
        static const char *const bad[] = {
                "", ".", "..", "example..com", ".example.com", "example.com..", "-a.com", "a-.com", "a.-b",
                "a.b-", "_firmware", "_firmware.example.com", "a_b.example", "ex ample", "a;rm -rf /",
                "$(reboot)", "`reboot`", "x/../y", "a/b", "user@host", "host:80", "a%2e.b", "{domain}",
                "\"quoted\"", "'q'", "a\nb", "a\rb", "a\tb", "\x7f", "exa\x01mple",
                "b\303\274cher.example", "\xe2\x80\x8b.example", "10.0.0.1", "192.168.1.1.", "127.1",
                "2130706433", "1.2.3.0x4",
                "0x7f000001", "a,b", "a*b", "*.example", "a\\b", "a.b ", " a.b",
        };
        char *s;

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                ok(sfu_url_domain_valid(good[i]), "domain \"%s\" is valid", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ok(!sfu_url_domain_valid(bad[i]), "hostile/invalid domain #%zu refused", i);
        ok(!sfu_url_domain_valid(NULL), "NULL domain refused");

        s = tap_repeat('a', 63);
        ok(sfu_url_domain_valid(s), "63-character label is valid");
        free(s);
        s = tap_repeat('a', 64);
        ok(!sfu_url_domain_valid(s), "64-character label is refused");
        free(s);
        s = name_of(1, 64, "com");
        ok(!sfu_url_domain_valid(s), "64-character first label is refused");
        free(s);
        s = name_of(1, 63, "com");
        ok(sfu_url_domain_valid(s), "63-character first label is valid");
        free(s);

        /* 3 * 64 + 61 = 253 */
        s = name_of(3, 63, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        is_int(strlen(s), 253, "test name is 253 characters");
        ok(sfu_url_domain_valid(s), "253-character name is valid");
        {
                char *dot = malloc(strlen(s) + 3);
                if (!dot)
                        abort();
                strcpy(dot, s);
                strcat(dot, ".");
                ok(sfu_url_domain_valid(dot), "253-character name with trailing dot is valid");
                strcat(dot, ".");
                ok(!sfu_url_domain_valid(dot), "253-character name with two trailing dots is refused");
                free(dot);
        }
        free(s);
        s = name_of(3, 63, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        is_int(strlen(s), 254, "test name is 254 characters");
        ok(!sfu_url_domain_valid(s), "254-character name is refused");
        free(s);
        s = name_of(200, 1, "com");
        ok(!sfu_url_domain_valid(s), "403-character name of short labels is refused");
        free(s);
}

static void test_scheme(void) {
        static const char *const allowed[] = {
                "http://a/", "https://a/", "HTTP://A/", "HttpS://x", "http:g",
        };
        static const char *const refused[] = {
                "file:///etc/passwd", "ftp://a/", "data:text/plain,x", "javascript:alert(1)", "gopher://a",
                "httpx://a", "http", "https//a", "", "://a", " http://a", "ht tp://a", "shttp://a",
                "/relative",
        };

        for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
                ok(sfu_url_scheme_allowed(allowed[i]), "scheme of \"%s\" allowed", allowed[i]);
        for (size_t i = 0; i < ELEMENTSOF(refused); i++)
                ok(!sfu_url_scheme_allowed(refused[i]), "scheme of \"%s\" refused", refused[i]);
        ok(!sfu_url_scheme_allowed(NULL), "NULL URL refused");
}

#define LOCAL_TMPL "http://_firmware.{domain}/.well-known/firmware/{manufacturer}/{model}/manifest.json"

static void expand_ok(const char *tmpl, const char *domain, const char *mf, const char *model,
                      const char *want) {
        struct sfu_err err = SFU_ERR_INIT;
        char *got = NULL;
        int r = sfu_url_expand_template(tmpl, domain, mf, model, &got, &err);

        is_int(r, 0, "template expands");
        if (r < 0)
                tap_diag("%s", err.message);
        is_str(got, want, "expanded URL");
        free(got);
}

static void expand_fails(const char *tmpl, const char *domain, const char *mf, const char *model,
                         enum sfu_err_code code, const char *what) {
        struct sfu_err err = SFU_ERR_INIT;
        char *got = (char *) "untouched";
        int r = sfu_url_expand_template(tmpl, domain, mf, model, &got, &err);

        ok(r < 0, "template refused: %s", what);
        is_int(err.code, code, "error code");
        ok(err.message[0] != 0, "error has a message (%s)", err.message);
        ok(got && strcmp(got, "untouched") == 0, "output untouched on failure");
}

static void test_template(void) {
        char *long_model;

        expand_ok(LOCAL_TMPL, "lan", "example.com", "gw100",
                  "http://_firmware.lan/.well-known/firmware/example.com/gw100/manifest.json");
        expand_ok(LOCAL_TMPL, "corp.example.", "example.com", "gw100",
                  "http://_firmware.corp.example/.well-known/firmware/example.com/gw100/manifest.json");
        expand_ok("https://fw.example/fw/{manufacturer}/{model}/m.json", NULL, "ACME Corp/EU", "gw 100?x#y",
                  "https://fw.example/fw/ACME%20Corp%2FEU/gw%20100%3Fx%23y/m.json");
        expand_ok("https://h/{model}", NULL, NULL, "a~b_c-d.e%f\xc3\xa9", "https://h/a~b_c-d.e%25f%C3%A9");
        expand_ok("HTTPS://h/{model}/{model}", NULL, NULL, "m", "HTTPS://h/m/m");
        expand_ok("https://h/x?m={manufacturer}&v={model}", NULL, "../..", "..x",
                  "https://h/x?m=..%2F..&v=..x");

        /* Templates and values that cannot make a URL. */
        static const struct {
                const char *tmpl, *domain, *mf, *model, *what;
        } bad[] = {
                {LOCAL_TMPL, NULL, "example.com", "gw100", "{domain} without a domain"},
                {LOCAL_TMPL, "bad_domain", "example.com", "gw100", "invalid domain"},
                {LOCAL_TMPL, "evil.com/x?", "example.com", "gw100", "domain with a path"},
                {LOCAL_TMPL, "a b", "example.com", "gw100", "domain with a space"},
                {LOCAL_TMPL, "lan", NULL, "gw100", "no manufacturer"},
                {LOCAL_TMPL, "lan", "example.com", NULL, "no model"},
                {LOCAL_TMPL, "lan", "example.com", "", "empty model"},
                {LOCAL_TMPL, "lan", "..", "gw100", "manufacturer \"..\""},
                {LOCAL_TMPL, "lan", "example.com", ".", "model \".\""},
                {"http://h/{version}", "lan", "m", "m", "unknown placeholder"},
                {"http://h/{Domain}", "lan", "m", "m", "placeholders are case-sensitive"},
                {"http://h/{}", "lan", "m", "m", "empty placeholder"},
                {"http://h/{model", "lan", "m", "m", "unclosed brace"},
                {"http://h/model}", "lan", "m", "m", "stray closing brace"},
                {"file:///etc/{model}", "lan", "m", "m", "file: template"},
                {"ftp://{domain}/x", "lan", "m", "m", "ftp: template"},
                {"{domain}/x", "lan", "m", "m", "no scheme"},
                {"http:{domain}/x", "lan", "m", "m", "http: without //"},
                {"http://h/a b/{model}", "lan", "m", "m", "space in template"},
                {"http://h/a\\b", "lan", "m", "m", "backslash in template"},
                {"http://h/\n", "lan", "m", "m", "newline in template"},
                {NULL, "lan", "m", "m", "NULL template"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                expand_fails(bad[i].tmpl, bad[i].domain, bad[i].mf, bad[i].model, SFU_ERR_PARSE,
                             bad[i].what);

        long_model = tap_repeat('m', SFU_URL_SEGMENT_MAX + 1);
        expand_fails("http://h/{model}", NULL, NULL, long_model, SFU_ERR_SIZE, "over-long model");
        free(long_model);
        /* 255 bytes that each become %XX, 20 times: far over SFU_URL_MAX. */
        long_model = tap_repeat(' ', SFU_URL_SEGMENT_MAX);
        expand_fails("http://h/{model}{model}{model}{model}{model}{model}", NULL, NULL, long_model,
                     SFU_ERR_SIZE, "result over SFU_URL_MAX");
        free(long_model);
}

/* ref with non-printable bytes escaped, for test names (static buffer). */
static const char *shown(const char *s) {
        static char buf[128];
        size_t len = 0;

        if (!s)
                return "(null)";
        for (; *s && len + 5 < sizeof(buf); s++) {
                unsigned char c = (unsigned char) *s;
                if (c < 0x20 || c >= 0x7f)
                        len += (size_t) snprintf(buf + len, sizeof(buf) - len, "\\x%02x", c);
                else
                        buf[len++] = (char) c;
        }
        buf[len] = 0;
        return buf;
}

struct resolve_case {
        const char *ref;
        const char *want;
};

/* RFC 3986 5.4.1 and 5.4.2, base "http://a/b/c/d;p?q".  "g:h" and the
 * strict reading of "http:g" are refused (see resolve_refused). */
static const struct resolve_case rfc_cases[] = {
        { "g", "http://a/b/c/g" },
        { "./g", "http://a/b/c/g" },
        { "g/", "http://a/b/c/g/" },
        { "/g", "http://a/g" },
        { "//g", "http://g" },
        { "?y", "http://a/b/c/d;p?y" },
        { "g?y", "http://a/b/c/g?y" },
        { "#s", "http://a/b/c/d;p?q#s" },
        { "g#s", "http://a/b/c/g#s" },
        { "g?y#s", "http://a/b/c/g?y#s" },
        { ";x", "http://a/b/c/;x" },
        { "g;x", "http://a/b/c/g;x" },
        { "g;x?y#s", "http://a/b/c/g;x?y#s" },
        { "", "http://a/b/c/d;p?q" },
        { ".", "http://a/b/c/" },
        { "./", "http://a/b/c/" },
        { "..", "http://a/b/" },
        { "../", "http://a/b/" },
        { "../g", "http://a/b/g" },
        { "../..", "http://a/" },
        { "../../", "http://a/" },
        { "../../g", "http://a/g" },
        /* 5.4.2 */
        { "../../../g", "http://a/g" },
        { "../../../../g", "http://a/g" },
        { "/./g", "http://a/g" },
        { "/../g", "http://a/g" },
        { "g.", "http://a/b/c/g." },
        { ".g", "http://a/b/c/.g" },
        { "g..", "http://a/b/c/g.." },
        { "..g", "http://a/b/c/..g" },
        { "./../g", "http://a/b/g" },
        { "./g/.", "http://a/b/c/g/" },
        { "g/./h", "http://a/b/c/g/h" },
        { "g/../h", "http://a/b/c/h" },
        { "g;x=1/./y", "http://a/b/c/g;x=1/y" },
        { "g;x=1/../y", "http://a/b/c/y" },
        { "g?y/./x", "http://a/b/c/g?y/./x" },
        { "g?y/../x", "http://a/b/c/g?y/../x" },
        { "g#s/./x", "http://a/b/c/g#s/./x" },
        { "g#s/../x", "http://a/b/c/g#s/../x" },
};

static void resolve_ok(const char *base, const char *ref, const char *want) {
        struct sfu_err err = SFU_ERR_INIT;
        char *got = NULL;
        int r = sfu_url_resolve(base, ref, &got, &err);

        ok(r == 0 && got && strcmp(got, want) == 0, "resolve \"%s\" against %s -> %s (got %s)", ref, base,
           want, got ? got : err.message);
        free(got);
}

static void resolve_refused(const char *base, const char *ref, enum sfu_err_code code) {
        struct sfu_err err = SFU_ERR_INIT;
        char *got = (char *) "untouched";
        int r = sfu_url_resolve(base, ref, &got, &err);

        ok(r < 0 && err.code == code && err.message[0], "resolve refuses %s + \"%s\" with %s (%s)",
           base ? base : "(null)", shown(ref), sfu_err_code_name(code), err.message);
        ok(strcmp(got, "untouched") == 0, "output untouched on failure");
}

static void test_resolve(void) {
        static const char *const base = "http://a/b/c/d;p?q";
        char *long_ref, *p;

        for (size_t i = 0; i < ELEMENTSOF(rfc_cases); i++)
                resolve_ok(base, rfc_cases[i].ref, rfc_cases[i].want);

        /* The manifest case of DESIGN 4.4. */
        resolve_ok("https://fw.example.com/.well-known/firmware/example.com/gw100/manifest.json",
                   "gw100-10.4.12.img",
                   "https://fw.example.com/.well-known/firmware/example.com/gw100/gw100-10.4.12.img");
        resolve_ok("http://_firmware.lan/.well-known/firmware/m/x/manifest.json",
                   "https://cdn.example/a/b.img", "https://cdn.example/a/b.img");
        resolve_ok("http://_firmware.lan/.well-known/firmware/m/x/manifest.json",
                   "HTTPS://CDN.example/./a/../b.img", "HTTPS://CDN.example/b.img");
        resolve_ok("http://h:8080", "img", "http://h:8080/img");
        resolve_ok("http://h:8080?q", "", "http://h:8080?q");
        resolve_ok("http://u@h/dir/m.json", "../../../x%20y.img", "http://u@h/x%20y.img");
        resolve_ok("http://[::1]:8080/m/manifest.json", "img?a=1&b=%2F",
                   "http://[::1]:8080/m/img?a=1&b=%2F");
        resolve_ok("https://h/a/b/", "c/./d/../e", "https://h/a/b/c/e");

        /* Schemes other than http and https. */
        resolve_refused(base, "g:h", SFU_ERR_POLICY);
        resolve_refused(base, "file:///etc/shadow", SFU_ERR_POLICY);
        resolve_refused(base, "FILE:/etc/shadow", SFU_ERR_POLICY);
        resolve_refused(base, "ftp://a/img", SFU_ERR_POLICY);
        resolve_refused(base, "data:application/octet-stream;base64,AAAA", SFU_ERR_POLICY);
        resolve_refused(base, "javascript:alert(1)", SFU_ERR_POLICY);
        resolve_refused(base, "http:g", SFU_ERR_POLICY);         /* strict 5.4.2: no host */
        resolve_refused(base, "http:///g", SFU_ERR_POLICY);      /* empty host */
        resolve_refused(base, "///g", SFU_ERR_POLICY);
        resolve_refused(base, "http://user@/g", SFU_ERR_POLICY);
        resolve_refused(base, "http://:80/g", SFU_ERR_POLICY);
        resolve_refused("file:///srv/m.json", "g", SFU_ERR_POLICY);
        resolve_refused("/relative/m.json", "g", SFU_ERR_POLICY);
        resolve_refused("http:/m.json", "g", SFU_ERR_POLICY);

        /* Characters that have no place in a reference. */
        resolve_refused(base, "g h", SFU_ERR_PARSE);
        resolve_refused(base, " g", SFU_ERR_PARSE);
        resolve_refused(base, "g\n", SFU_ERR_PARSE);
        resolve_refused(base, "g\r\nHost: evil", SFU_ERR_PARSE);
        resolve_refused(base, "g\t", SFU_ERR_PARSE);
        resolve_refused(base, "\x7fg", SFU_ERR_PARSE);
        resolve_refused(base, "..\\..\\g", SFU_ERR_PARSE);
        resolve_refused(base, "http:\\\\evil\\g", SFU_ERR_PARSE);
        resolve_refused(base, "g\xc3\xa9", SFU_ERR_PARSE);
        resolve_refused(base, "g\"", SFU_ERR_PARSE);
        resolve_refused(base, "g<x>", SFU_ERR_PARSE);
        resolve_refused(base, "g%", SFU_ERR_PARSE);
        resolve_refused(base, "g%4", SFU_ERR_PARSE);
        resolve_refused(base, "g%zz", SFU_ERR_PARSE);
        resolve_refused(base, "g#a#b", SFU_ERR_PARSE);
        resolve_refused(base, "1http://a/", SFU_ERR_PARSE);      /* ':' in the first segment */
        resolve_refused(base, "a b:c", SFU_ERR_PARSE);
        resolve_refused("http://a/b c", "g", SFU_ERR_PARSE);
        resolve_refused(NULL, "g", SFU_ERR_PARSE);
        resolve_refused(base, NULL, SFU_ERR_PARSE);

        /* Sizes. */
        long_ref = tap_repeat('g', SFU_URL_MAX + 1);
        resolve_refused(base, long_ref, SFU_ERR_SIZE);
        /* Each part fits, the result does not. */
        p = malloc(SFU_URL_MAX + 1);
        if (!p)
                abort();
        strcpy(p, "http://a/");
        memset(p + 9, 'b', SFU_URL_MAX - 9);
        p[SFU_URL_MAX - 1] = '/';
        p[SFU_URL_MAX] = 0;
        long_ref[SFU_URL_MAX - 100] = 0;
        resolve_refused(p, long_ref, SFU_ERR_SIZE);
        free(p);
        free(long_ref);
}

/* sfu_url_segment_unreserved(), sfu_url_segment_encode(),
 * sfu_url_local_path(): laying out files for a static web server. */
static void local_path_is(const char *base, const char *ref, const char *want) {
        struct sfu_err err = SFU_ERR_INIT;
        char *got = NULL;
        int r = sfu_url_local_path(base, ref, &got, &err);

        ok(r == 0 && got && strcmp(got, want) == 0, "local_path(%s, %s) = %s (got %s; %s)", base, ref, want,
           got ? got : "(none)", err.message);
        free(got);
}

static void local_path_refused(const char *ref, int want_r, enum sfu_err_code code, const char *why) {
        struct sfu_err err = SFU_ERR_INIT;
        char *got = NULL;
        int r = sfu_url_local_path("/.well-known/firmware/acme/gw1/manifest.json", ref, &got, &err);

        ok(r == want_r && !got && err.code == code && (code == SFU_ERR_NONE || strstr(err.message, why)),
           "local_path refuses %s: %s (%d; %s)", ref, why, r, err.message);
        free(got);
}

static void test_local_path(void) {
        static const char *const plain[] = { "acme", "gw-100", "a.b_c~d", "X" };
        static const char *const not_plain[] = { "", ".", "..", "a b", "a/b", "a%41", "\xc3\xa9", "a:b", "a?" };
        const char *m = "/.well-known/firmware/acme/gw1/manifest.json";
        char *enc = NULL;

        for (size_t i = 0; i < ELEMENTSOF(plain); i++)
                ok(sfu_url_segment_unreserved(plain[i]), "unreserved segment \"%s\"", plain[i]);
        for (size_t i = 0; i < ELEMENTSOF(not_plain); i++)
                ok(!sfu_url_segment_unreserved(not_plain[i]), "not an unreserved segment \"%s\"", not_plain[i]);
        ok(!sfu_url_segment_unreserved(NULL), "NULL is no segment");

        ok(sfu_url_segment_encode("my fw/1%.img~", &enc) == 0 && strcmp(enc, "my%20fw%2F1%25.img~") == 0,
           "segment_encode escapes all but unreserved characters (%s)", enc ? enc : "(none)");
        free(enc);
        enc = NULL;
        ok(sfu_url_segment_encode("\xc3\xa9", &enc) == 0 && strcmp(enc, "%C3%A9") == 0, "segment_encode of UTF-8");
        free(enc);

        local_path_is(m, "fw.img", ".well-known/firmware/acme/gw1/fw.img");
        local_path_is(m, "./b/fw.img", ".well-known/firmware/acme/gw1/b/fw.img");
        local_path_is(m, "../../images/x%20y.img", ".well-known/firmware/images/x y.img");
        local_path_is(m, "../../../../fw.img", "fw.img");
        local_path_is(m, "/images/fw.img", "images/fw.img");
        local_path_is(m, "a/../b/./c.img", ".well-known/firmware/acme/gw1/b/c.img");
        local_path_is(m, "%41%7e.img", ".well-known/firmware/acme/gw1/A~.img");
        local_path_is("/.well-known/manifest/acme/gw1/manifest.json", "../../../firmware/acme/gw1/fw.img",
                      ".well-known/firmware/acme/gw1/fw.img");
        local_path_is("/m.json", "fw.img", "fw.img");

        local_path_refused("https://cdn.example.com/fw.img", -EREMOTE, SFU_ERR_NONE, "absolute URI");
        local_path_refused("HTTP://cdn.example.com/fw.img", -EREMOTE, SFU_ERR_NONE, "absolute URI, upper case");
        local_path_refused("//cdn.example.com/fw.img", -EREMOTE, SFU_ERR_NONE, "network-path reference");
        local_path_refused("../../../../../escape.img", -EPERM, SFU_ERR_POLICY, "outside");
        local_path_refused("/../escape.img", -EPERM, SFU_ERR_POLICY, "outside");
        local_path_refused("a/../../../../../..", -EPERM, SFU_ERR_POLICY, "outside");
        local_path_refused("fw.img?x=1", -EINVAL, SFU_ERR_PARSE, "query or fragment");
        local_path_refused("fw.img#top", -EINVAL, SFU_ERR_PARSE, "query or fragment");
        local_path_refused("", -EINVAL, SFU_ERR_PARSE, "empty location");
        local_path_refused("dir/", -EISDIR, SFU_ERR_PARSE, "directory");
        local_path_refused(".", -EISDIR, SFU_ERR_PARSE, "directory");
        local_path_refused("a/..", -EISDIR, SFU_ERR_PARSE, "directory");
        local_path_refused("/", -EISDIR, SFU_ERR_PARSE, "directory");
        local_path_refused("a//b.img", -EINVAL, SFU_ERR_PARSE, "empty path segment");
        local_path_refused("a%2Fb.img", -EINVAL, SFU_ERR_PARSE, "control character");
        local_path_refused("a%00b.img", -EINVAL, SFU_ERR_PARSE, "control character");
        local_path_refused("a%0ab.img", -EINVAL, SFU_ERR_PARSE, "control character");
        local_path_refused("a%zzb.img", -EINVAL, SFU_ERR_PARSE, "percent-escape");
        local_path_refused("a%4", -EINVAL, SFU_ERR_PARSE, "percent-escape");
        local_path_refused("a b.img", -EINVAL, SFU_ERR_PARSE, "percent-escape");
        local_path_refused("%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/x", -EINVAL, SFU_ERR_PARSE, "encoded dot segment");
}

int main(void) {
        test_domain();
        test_scheme();
        test_template();
        test_resolve();
        test_local_path();
        return tap_done();
}
