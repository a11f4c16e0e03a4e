/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>
#include <systemd/sd-bus.h>

#include "core/url.h"
#include "io/discovery.h"
#include "core/file.h"
#include "io/clock.h"

#define SOURCE_MAX (PATH_MAX + 64)

#define RESOLVE_SERVICE "org.freedesktop.resolve1"
#define RESOLVE_PATH "/org/freedesktop/resolve1"
#define RESOLVE_MANAGER "org.freedesktop.resolve1.Manager"

static const char *const default_dhclient_globs[] = {
        "/var/lib/dhcp/dhclient*.leases",
        "/var/lib/dhclient/*.leases",
        NULL,
};

void sfu_discovery_paths_default(struct sfu_discovery_paths *ret) {
        *ret = (struct sfu_discovery_paths) {
                .networkd_leases_dir = SFU_DISCOVERY_NETWORKD_LEASES_DIR,
                .use_resolved = true,
                .resolved_timeout_usec = SFU_DISCOVERY_RESOLVED_TIMEOUT_USEC,
                .dhclient_leases_globs = default_dhclient_globs,
                .resolv_conf = SFU_DISCOVERY_RESOLV_CONF,
        };
}

/* One search: the options, the source being looked at, the result. */
struct search {
        const struct sfu_discovery_paths *paths;
        char source[SOURCE_MAX];
        char *domain;
};

static void search_done(struct search *s) {
        free(s->domain);
}

static void set_source(struct search *s, const char *fmt, ...) _printf_(2, 3);
static void set_source(struct search *s, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(s->source, sizeof(s->source), fmt, ap);
        va_end(ap);
}

static void report_invalid(const struct search *s, const char *candidate) {
        char shown[SFU_DISCOVERY_CANDIDATE_SHOWN_MAX + 4];
        size_t len = 0;

        if (!s->paths->on_invalid)
                return;
        for (; len < SFU_DISCOVERY_CANDIDATE_SHOWN_MAX && candidate[len]; len++) {
                unsigned char c = (unsigned char) candidate[len];
                shown[len] = (c >= 0x20 && c < 0x7f) ? (char) c : '?';
        }
        if (candidate[len]) {
                memcpy(shown + len, "...", 3);
                len += 3;
        }
        shown[len] = 0;
        s->paths->on_invalid(s->source, shown, s->paths->userdata);
}

/* Checks one candidate from the current source.  Returns 1 when it is
 * taken, 0 when it was invalid (and reported), -ENOMEM. */
static int offer(struct search *s, const char *value, size_t value_len) {
        _cleanup_free_ char *name = NULL;
        size_t len;

        name = strndup(value, value_len);
        if (!name)
                return -ENOMEM;
        if (!sfu_url_domain_valid(name)) {
                report_invalid(s, name);
                return 0;
        }
        len = strlen(name);
        if (name[len - 1] == '.')
                name[len - 1] = 0;
        s->domain = TAKE_PTR(name);
        return 1;
}

/* Reads a whole regular file of at most SFU_DISCOVERY_FILE_MAX bytes
 * without NUL bytes.  Symlinks are followed only when follow is set. */
static int read_small_file(int dir_fd, const char *path, bool follow, char **ret) {
        _cleanup_close_ int fd = -1;
        int r;

        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW));
        if (fd < 0)
                return -errno;
        r = sfu_file_load_fd(fd, SFU_DISCOVERY_FILE_MAX, SFU_FILE_REGULAR | SFU_FILE_NO_NUL, ret, NULL);
        return r == -EINVAL ? -EBADFD : r;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r';
}

/* Steps through buf line by line: *line and *len give the next line without its
 * newline; returns false at the end. */
static bool next_line(const char **pos, const char **line, size_t *len) {
        const char *p = *pos, *nl;

        if (!*p)
                return false;
        nl = strchr(p, '\n');
        *line = p;
        *len = nl ? (size_t) (nl - p) : strlen(p);
        *pos = nl ? nl + 1 : p + *len;
        return true;
}

static void trim(const char **p, size_t *len) {
        while (*len > 0 && is_blank(**p))
                (*p)++, (*len)--;
        while (*len > 0 && is_blank((*p)[*len - 1]))
                (*len)--;
}

/* ------------------------------------------------ systemd-networkd */

/* The last DOMAINNAME= of a lease file (an env-style file: KEY=value,
 * value possibly quoted). */
static bool networkd_domain(const char *buf, const char **ret, size_t *ret_len) {
        const char *pos = buf, *line, *found = NULL;
        size_t len, found_len = 0;

        while (next_line(&pos, &line, &len)) {
                trim(&line, &len);
                if (len < 11 || memcmp(line, "DOMAINNAME=", 11) != 0)
                        continue;
                line += 11, len -= 11;
                trim(&line, &len);
                if (len >= 2 && (line[0] == '"' || line[0] == '\'') && line[len - 1] == line[0])
                        line++, len -= 2;
                found = line, found_len = len;
        }
        if (!found || found_len == 0)
                return false;
        *ret = found;
        *ret_len = found_len;
        return true;
}

struct names {
        char **v;
        size_t n;
};

static void names_done(struct names *names) {
        for (size_t i = 0; i < names->n; i++)
                free(names->v[i]);
        free(names->v);
}

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

static int cmp_version(const void *a, const void *b) {
        return strverscmp(*(char *const *) a, *(char *const *) b);
}

static int from_networkd(struct search *s) {
        const char *dir = s->paths->networkd_leases_dir;
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_(names_done) struct names names = {};
        struct dirent *de;
        int r;

        if (!dir)
                return 0;
        d = opendir(dir);
        if (!d)
                return errno == ENOMEM ? -ENOMEM : 0;
        names.v = calloc(SFU_DISCOVERY_DIR_ENTRIES_MAX, sizeof(char *));
        if (!names.v)
                return -ENOMEM;
        while (names.n < SFU_DISCOVERY_DIR_ENTRIES_MAX && (de = readdir(d))) {
                /* Dot files include networkd's own temporary files. */
                if (de->d_name[0] == '.')
                        continue;
                names.v[names.n] = strdup(de->d_name);
                if (!names.v[names.n])
                        return -ENOMEM;
                names.n++;
        }
        /* Files are named by interface index: "2" before "10". */
        qsort(names.v, names.n, sizeof(char *), cmp_version);

        for (size_t i = 0; i < names.n; i++) {
                _cleanup_free_ char *buf = NULL;
                const char *value;
                size_t len;

                r = read_small_file(dirfd(d), names.v[i], false, &buf);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || !networkd_domain(buf, &value, &len))
                        continue;
                set_source(s, "systemd-networkd lease %s/%s", dir, names.v[i]);
                r = offer(s, value, len);
                if (r != 0)
                        return r;
        }
        return 0;
}

/* ------------------------------------------------ systemd-resolved */

static int on_resolved_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        sd_bus_message **reply = userdata;

        (void) ret_error;
        if (!*reply)
                *reply = sd_bus_message_ref(m);
        return 0;
}

struct link_domain {
        int32_t ifindex;
        const char *name;       /* borrowed from the reply */
        size_t order;
};

/* Link domains (ifindex > 0) by interface index, then global ones, each
 * in the order resolved gave them. */
static int cmp_link_domain(const void *a, const void *b) {
        const struct link_domain *x = a, *y = b;
        bool xg = x->ifindex == 0, yg = y->ifindex == 0;

        if (xg != yg)
                return xg ? 1 : -1;
        if (x->ifindex != y->ifindex)
                return x->ifindex < y->ifindex ? -1 : 1;
        return x->order < y->order ? -1 : x->order > y->order;
}

/* Asks resolved for Manager.Domains, with the whole exchange (connect,
 * authentication, call) bounded by timeout_usec and without starting
 * resolved if it is not running.  Returns the reply, or NULL on any
 * failure: the source is then skipped. */
static sd_bus_message *resolved_get_domains(uint64_t timeout_usec) {
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        uint64_t deadline = sfu_clock_monotonic_usec() + timeout_usec;
        int r;

        if (sd_bus_open_system(&bus) < 0)
                return NULL;
        if (sd_bus_message_new_method_call(bus, &call, RESOLVE_SERVICE, RESOLVE_PATH,
                                           "org.freedesktop.DBus.Properties", "Get") < 0 ||
            sd_bus_message_append(call, "ss", RESOLVE_MANAGER, "Domains") < 0 ||
            sd_bus_message_set_auto_start(call, 0) < 0 ||
            sd_bus_call_async(bus, &slot, call, on_resolved_reply, &reply, timeout_usec) < 0)
                return NULL;

        while (!reply) {
                uint64_t now;

                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return NULL;
                if (r > 0)
                        continue;
                now = sfu_clock_monotonic_usec();
                if (now >= deadline)
                        return NULL;
                r = sd_bus_wait(bus, deadline - now);
                if (r < 0 && r != -EINTR)
                        return NULL;
        }
        if (sd_bus_message_is_method_error(reply, NULL))
                return NULL;
        return TAKE_PTR(reply);
}

static int from_resolved(struct search *s) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ struct link_domain *list = NULL;
        size_t n = 0;
        int r;

        if (!s->paths->use_resolved)
                return 0;
        reply = resolved_get_domains(s->paths->resolved_timeout_usec ?: SFU_DISCOVERY_RESOLVED_TIMEOUT_USEC);
        if (!reply)
                return 0;
        if (sd_bus_message_enter_container(reply, 'v', "a(isb)") <= 0 ||
            sd_bus_message_enter_container(reply, 'a', "(isb)") <= 0)
                return 0;
        list = calloc(SFU_DISCOVERY_RESOLVED_DOMAINS_MAX, sizeof(*list));
        if (!list)
                return -ENOMEM;
        for (size_t order = 0; order < SFU_DISCOVERY_RESOLVED_DOMAINS_MAX; order++) {
                int32_t ifindex;
                const char *name;
                int route_only;

                r = sd_bus_message_read(reply, "(isb)", &ifindex, &name, &route_only);
                if (r < 0)
                        return 0;
                if (r == 0)
                        break;
                /* Routing-only domains ("~example.com", "~.") only steer
                 * queries; they are not the network's own domain. */
                if (route_only || ifindex < 0)
                        continue;
                list[n++] = (struct link_domain) { ifindex, name, order };
        }
        qsort(list, n, sizeof(*list), cmp_link_domain);

        for (size_t i = 0; i < n; i++) {
                if (list[i].ifindex > 0)
                        set_source(s, "systemd-resolved (link %" PRIi32 ")", list[i].ifindex);
                else
                        set_source(s, "systemd-resolved (global)");
                r = offer(s, list[i].name, strlen(list[i].name));
                if (r != 0)
                        return r;
        }
        return 0;
}

/* ------------------------------------------------ dhclient */

struct token {
        const char *ptr;
        size_t len;
        bool string;
};

static bool token_is(const struct token *t, const char *word) {
        return !t->string && t->len == strlen(word) && memcmp(t->ptr, word, t->len) == 0;
}

#define DHCLIENT_DEPTH_MAX 16

/* The domain-name option of the last complete `lease { }` block of a
 * dhclient lease file (later blocks are newer leases).  The returned span
 * is the raw string contents; a list keeps only its first name.  False
 * when the last lease has none or the file does not parse. */
static bool dhclient_domain(const char *buf, const char **ret, size_t *ret_len) {
        struct token stmt[3];
        size_t n_tokens = 0, depth = 0;
        bool in_lease = false, block_has = false, last_has = false;
        struct token block = {}, last = {};
        const char *p = buf;

        while (*p) {
                struct token t = {};

                if (is_blank(*p) || *p == '\n') {
                        p++;
                        continue;
                }
                if (*p == '#') {
                        while (*p && *p != '\n')
                                p++;
                        continue;
                }
                if (*p == ';') {
                        if (in_lease && depth == 1 && n_tokens == 3 && token_is(&stmt[0], "option") &&
                            token_is(&stmt[1], "domain-name") && stmt[2].string) {
                                block = stmt[2];
                                block_has = true;
                        }
                        n_tokens = 0;
                        p++;
                        continue;
                }
                if (*p == '{') {
                        if (depth == 0) {
                                in_lease = n_tokens == 1 && token_is(&stmt[0], "lease");
                                block_has = false;
                        }
                        if (++depth > DHCLIENT_DEPTH_MAX)
                                return false;
                        n_tokens = 0;
                        p++;
                        continue;
                }
                if (*p == '}') {
                        if (depth == 0)
                                return false;
                        if (--depth == 0 && in_lease) {
                                last = block;
                                last_has = block_has;
                                in_lease = false;
                        }
                        n_tokens = 0;
                        p++;
                        continue;
                }
                if (*p == '"') {
                        t.ptr = ++p;
                        while (*p && *p != '"') {
                                if (*p == '\\' && p[1])
                                        p++;
                                p++;
                        }
                        if (!*p)
                                return false;
                        t.len = (size_t) (p - t.ptr);
                        t.string = true;
                        p++;
                } else {
                        t.ptr = p;
                        while (*p && !is_blank(*p) && *p != '\n' && !strchr("{};\"", *p))
                                p++;
                        t.len = (size_t) (p - t.ptr);
                }
                if (n_tokens < ELEMENTSOF(stmt))
                        stmt[n_tokens] = t;
                /* Count on, so that longer statements never match. */
                if (n_tokens <= ELEMENTSOF(stmt))
                        n_tokens++;
        }
        if (!last_has)
                return false;
        /* "a.example b.example": the first name. */
        trim(&last.ptr, &last.len);
        for (size_t i = 0; i < last.len; i++)
                if (is_blank(last.ptr[i])) {
                        last.len = i;
                        break;
                }
        if (last.len == 0)
                return false;
        *ret = last.ptr;
        *ret_len = last.len;
        return true;
}

struct lease_file {
        char *path;
        struct timespec mtime;
};

struct lease_files {
        struct lease_file *v;
        size_t n;
};

static void lease_files_done(struct lease_files *files) {
        for (size_t i = 0; i < files->n; i++)
                free(files->v[i].path);
        free(files->v);
}

/* Newest first: dhclient rewrites the file of the interface it serves. */
static int cmp_lease_file(const void *a, const void *b) {
        const struct lease_file *x = a, *y = b;

        if (x->mtime.tv_sec != y->mtime.tv_sec)
                return x->mtime.tv_sec > y->mtime.tv_sec ? -1 : 1;
        if (x->mtime.tv_nsec != y->mtime.tv_nsec)
                return x->mtime.tv_nsec > y->mtime.tv_nsec ? -1 : 1;
        return strcmp(x->path, y->path);
}

static int collect_lease_files(const char *pattern, struct lease_files *files) {
        _cleanup_(globfree) glob_t g = {};
        int r;

        r = glob(pattern, 0, NULL, &g);
        if (r == GLOB_NOSPACE)
                return -ENOMEM;
        if (r != 0)
                return 0;
        for (size_t i = 0; i < g.gl_pathc && files->n < SFU_DISCOVERY_GLOB_FILES_MAX; i++) {
                struct stat st;

                if (lstat(g.gl_pathv[i], &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                files->v[files->n].path = strdup(g.gl_pathv[i]);
                if (!files->v[files->n].path)
                        return -ENOMEM;
                files->v[files->n].mtime = st.st_mtim;
                files->n++;
        }
        return 0;
}

static int from_dhclient(struct search *s) {
        const char *const *globs = s->paths->dhclient_leases_globs;
        _cleanup_(lease_files_done) struct lease_files files = {};
        int r;

        if (!globs)
                return 0;
        files.v = calloc(SFU_DISCOVERY_GLOB_FILES_MAX, sizeof(*files.v));
        if (!files.v)
                return -ENOMEM;
        for (size_t i = 0; globs[i]; i++) {
                r = collect_lease_files(globs[i], &files);
                if (r < 0)
                        return r;
        }
        qsort(files.v, files.n, sizeof(*files.v), cmp_lease_file);

        for (size_t i = 0; i < files.n; i++) {
                _cleanup_free_ char *buf = NULL;
                const char *value;
                size_t len;

                r = read_small_file(AT_FDCWD, files.v[i].path, false, &buf);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || !dhclient_domain(buf, &value, &len))
                        continue;
                set_source(s, "dhclient lease %s", files.v[i].path);
                r = offer(s, value, len);
                if (r != 0)
                        return r;
        }
        return 0;
}

/* ------------------------------------------------ resolv.conf */

/* The first word after keyword when line is "keyword<blank>...", as the
 * resolver reads it: keyword at the start of the line, "#" and ";" lines
 * are comments by not matching. */
static bool keyword_value(const char *line, size_t len, const char *keyword, const char **ret,
                          size_t *ret_len) {
        size_t klen = strlen(keyword), start, end;

        if (len <= klen || memcmp(line, keyword, klen) != 0 || !is_blank(line[klen]))
                return false;
        for (start = klen; start < len && is_blank(line[start]); start++)
                ;
        for (end = start; end < len && !is_blank(line[end]); end++)
                ;
        if (end == start)
                return false;
        *ret = line + start;
        *ret_len = end - start;
        return true;
}

static int from_resolv_conf(struct search *s) {
        const char *path = s->paths->resolv_conf;
        _cleanup_free_ char *buf = NULL;
        const char *pos, *line, *domain = NULL, *search = NULL, *value;
        size_t len, domain_len = 0, search_len = 0, value_len;
        int r;

        if (!path)
                return 0;
        /* Often a symlink (to resolved's or NetworkManager's file). */
        r = read_small_file(AT_FDCWD, path, true, &buf);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        pos = buf;
        while (next_line(&pos, &line, &len)) {
                if (keyword_value(line, len, "domain", &value, &value_len))
                        domain = value, domain_len = value_len;
                else if (keyword_value(line, len, "search", &value, &value_len))
                        search = value, search_len = value_len;
        }
        set_source(s, "%s", path);
        /* "." (resolved's "search ." when there is no search domain) names
         * the root, not a local domain. */
        if (domain && !(domain_len == 1 && domain[0] == '.')) {
                r = offer(s, domain, domain_len);
                if (r != 0)
                        return r;
        }
        if (search && !(search_len == 1 && search[0] == '.'))
                return offer(s, search, search_len);
        return 0;
}

/* ------------------------------------------------ */

int sfu_discovery_domain(const struct sfu_discovery_paths *paths, char **ret_domain, const char **ret_source,
                         struct sfu_err *err) {
        static _Thread_local char source[SOURCE_MAX];
        static int (*const sources[])(struct search *) = {
                from_networkd,
                from_resolved,
                from_dhclient,
                from_resolv_conf,
        };
        struct sfu_discovery_paths defaults;
        _cleanup_(search_done) struct search s = {};
        int r = 0;

        if (!paths) {
                sfu_discovery_paths_default(&defaults);
                paths = &defaults;
        }
        s.paths = paths;
        for (size_t i = 0; i < ELEMENTSOF(sources) && r == 0; i++)
                r = sources[i](&s);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot look for the local domain: %s",
                                   strerror(-r));
        if (r == 0)
                return -ENOENT;
        memcpy(source, s.source, sizeof(source));
        *ret_domain = TAKE_PTR(s.domain);
        if (ret_source)
                *ret_source = source;
        return 0;
}
