/* SPDX-License-Identifier: MIT */
/* The control socket itself: the one systemd passes (secfud.socket), or
 * RUNTIME_DIR/secfud.sock bound here (mode 0666: every call is checked
 * against the caller's credentials), and a peer's supplementary groups. */
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>

#include "daemon/control-socket.h"
#include "daemon/control.h"
#include "daemon/log.h"
#include "io/fileio.h"

#define PROC_STATUS_MAX (64u * 1024u)                   /* bytes of /proc/PID/status read */

static int make_address(const char *path, struct sockaddr_un *sa, socklen_t *ret_len) {
        size_t len = strlen(path);

        if (len >= sizeof(sa->sun_path))
                return -ENAMETOOLONG;
        *sa = (struct sockaddr_un) { .sun_family = AF_UNIX };
        memcpy(sa->sun_path, path, len + 1);
        *ret_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len + 1);
        return 0;
}

/* Something at the socket path: a stale socket goes, anything else (a
 * symlink, a file, a live daemon's socket) is refused. Never follows a
 * symlink. */
static int clear_path(const char *path, const struct sockaddr_un *sa, socklen_t sa_len, struct sfu_err *err) {
        _cleanup_close_ int probe = -1;
        struct stat st;

        if (lstat(path, &st) < 0) {
                if (errno == ENOENT)
                        return 0;
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot inspect %s: %s", path, strerror(errno));
        }
        if (S_ISLNK(st.st_mode))
                return sfu_err_set(err, SFU_ERR_STORAGE, EEXIST,
                                   "%s is a symbolic link; refusing to use it as the control socket "
                                   "(remove it if nothing should be there)",
                                   path);
        if (!S_ISSOCK(st.st_mode))
                return sfu_err_set(err, SFU_ERR_STORAGE, EEXIST,
                                   "%s exists and is not a socket; refusing to replace it", path);
        probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0 && connect(probe, (const struct sockaddr *) sa, sa_len) == 0)
                return sfu_err_set(err, SFU_ERR_BUSY, EADDRINUSE,
                                   "another secfud is already listening on %s", path);
        if (unlink(path) < 0 && errno != ENOENT)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot remove the stale socket %s: %s", path,
                                   strerror(errno));
        log_info("removed the stale socket %s", path);
        return 0;
}

static int bind_socket(const char *runtime_dir, struct sfu_control_socket *ret, struct sfu_err *err) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *path = NULL;
        struct sockaddr_un sa;
        socklen_t sa_len;
        struct stat st;
        int r;

        if (asprintf(&path, "%s/%s", runtime_dir, SFU_CONTROL_SOCKET_NAME) < 0)
                return -ENOMEM;
        if (make_address(path, &sa, &sa_len) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENAMETOOLONG,
                                   "control socket path %s is longer than a Unix socket address allows", path);
        r = sfu_mkdir_p(runtime_dir, 0755);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, r, "cannot create the runtime directory %s: %s",
                                   runtime_dir, strerror(-r));
        if (stat(runtime_dir, &st) < 0 || !S_ISDIR(st.st_mode))
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOTDIR, "runtime directory %s is not a directory",
                                   runtime_dir);
        r = clear_path(path, &sa, sa_len, err);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot create the control socket: %s",
                                   strerror(errno));
        if (bind(fd, (const struct sockaddr *) &sa, sa_len) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot bind the control socket %s: %s", path,
                                   strerror(errno));
        /* Anyone may connect; each call is checked against the caller's
         * credentials. */
        if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode) || chmod(path, 0666) < 0) {
                r = sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot set the mode of %s: %s", path,
                                strerror(errno));
                (void) unlink(path);
                return r;
        }
        if (listen(fd, SOMAXCONN) < 0) {
                r = sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot listen on %s: %s", path, strerror(errno));
                (void) unlink(path);
                return r;
        }
        ret->dev = st.st_dev;
        ret->ino = st.st_ino;
        ret->path = TAKE_PTR(path);
        ret->fd = TAKE_FD(fd);
        return 0;
}

/* A socket from systemd's secfud.socket, if there is one. */
static int passed_socket(struct sfu_control_socket *ret, struct sfu_err *err) {
        int n = sd_listen_fds(1), fd = SD_LISTEN_FDS_START;

        if (n <= 0)
                return 0;
        if (n > 1)
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL, "systemd passed %d sockets; secfud takes one", n);
        if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0)
                return sfu_err_set(err, SFU_ERR_STATE, EINVAL,
                                   "the socket systemd passed is not a listening Unix stream socket");
        if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
                return sfu_err_set(err, SFU_ERR_STATE, errno, "cannot set up the socket systemd passed");
        ret->fd = fd;
        return 1;
}

int sfu_control_socket_open(const char *runtime_dir, struct sfu_control_socket *ret, struct sfu_err *err) {
        int r;

        *ret = (struct sfu_control_socket) { .fd = -1 };
        r = passed_socket(ret, err);
        if (r == 0)
                r = bind_socket(runtime_dir, ret, err);
        return r;
}

/* Supplementary groups from /proc, for kernels without SO_PEERGROUPS. */
static int groups_from_proc(pid_t pid, gid_t **ret, size_t *ret_n) {
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ gid_t *groups = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        char path[64], *line, *p;
        size_t len, n = 0;
        int r;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        r = sfu_file_read(path, PROC_STATUS_MAX, 0, &text, &len, &err);
        if (r < 0)
                return r;
        line = strstr(text, "\nGroups:");
        if (!line)
                return -ENOENT;
        p = line + strlen("\nGroups:");
        groups = calloc(SFU_VARLINK_MAX_GROUPS, sizeof(gid_t));
        if (!groups)
                return -ENOMEM;
        while (*p && *p != '\n' && n < SFU_VARLINK_MAX_GROUPS) {
                char *end;
                unsigned long g;
                while (*p == ' ' || *p == '\t')
                        p++;
                if (*p == '\n' || !*p)
                        break;
                errno = 0;
                g = strtoul(p, &end, 10);
                if (end == p || errno || g > UINT_MAX)
                        return -EINVAL;
                groups[n++] = (gid_t) g;
                p = end;
        }
        *ret = TAKE_PTR(groups);
        *ret_n = n;
        return 0;
}

int sfu_control_socket_peer_groups(int fd, pid_t pid, gid_t **ret, size_t *ret_n) {
        _cleanup_free_ gid_t *groups = NULL;
        socklen_t len = 64 * sizeof(gid_t);

        for (;;) {
                gid_t *bigger = realloc(groups, len ? len : sizeof(gid_t));
                if (!bigger)
                        return -ENOMEM;
                groups = bigger;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
                        break;
                if (errno == ERANGE && len <= SFU_VARLINK_MAX_GROUPS * sizeof(gid_t))
                        continue; /* len now says how much is needed */
                if (errno == ENOPROTOOPT)
                        return groups_from_proc(pid, ret, ret_n);
                return -errno;
        }
        *ret = TAKE_PTR(groups);
        *ret_n = len / sizeof(gid_t);
        return 0;
}
