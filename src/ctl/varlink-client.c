/* SPDX-License-Identifier: MIT */
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ctl/varlink-client.h"

struct sfu_varlink_client {
        int fd;
        char *in;
        size_t in_len, in_cap;
        size_t consumed;        /* bytes of in already returned as replies */
};

int sfu_varlink_client_new_fd(int fd, struct sfu_varlink_client **ret) {
        struct sfu_varlink_client *c = calloc(1, sizeof(*c));

        if (!c) {
                close(fd);
                return -ENOMEM;
        }
        c->fd = fd;
        *ret = c;
        return 0;
}

int sfu_varlink_client_connect(const char *path, struct sfu_varlink_client **ret) {
        _cleanup_close_ int fd = -1;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len = strlen(path);

        if (len >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, len + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        while (connect(fd, (const struct sockaddr *) &sa,
                       (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len + 1)) < 0)
                if (errno != EINTR)
                        return -errno;
        return sfu_varlink_client_new_fd(TAKE_FD(fd), ret);
}

void sfu_varlink_client_free(struct sfu_varlink_client *c) {
        if (!c)
                return;
        if (c->fd >= 0)
                close(c->fd);
        free(c->in);
        free(c);
}

int sfu_varlink_client_fd(const struct sfu_varlink_client *c) {
        return c->fd;
}

/* Sends the call; with fd >= 0, the first sendmsg carries it. */
static int send_call(struct sfu_varlink_client *c, const char *method, json_t *parameters, bool more, int fd) {
        _cleanup_free_ char *msg = NULL;
        size_t size, sent = 0;
        int r;

        r = sfu_varlink_call_encode(method, parameters, more, false, &msg, &size);
        if (r < 0)
                return r;
        while (sent < size) {
                union {
                        struct cmsghdr align;
                        char buf[CMSG_SPACE(sizeof(int))];
                } control = {};
                struct iovec iov = { .iov_base = msg + sent, .iov_len = size - sent };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
                ssize_t n;

                if (fd >= 0 && sent == 0) {
                        struct cmsghdr *cm;
                        mh.msg_control = &control;
                        mh.msg_controllen = sizeof(control);
                        cm = CMSG_FIRSTHDR(&mh);
                        cm->cmsg_level = SOL_SOCKET;
                        cm->cmsg_type = SCM_RIGHTS;
                        cm->cmsg_len = CMSG_LEN(sizeof(int));
                        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
                }
                n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                sent += (size_t) n;
        }
        return 0;
}

int sfu_varlink_client_call(struct sfu_varlink_client *c, const char *method, json_t *parameters, bool more) {
        return send_call(c, method, parameters, more, -1);
}

int sfu_varlink_client_call_fd(struct sfu_varlink_client *c, const char *method, json_t *parameters, bool more,
                               int fd) {
        if (fd < 0)
                return -EBADF;
        return send_call(c, method, parameters, more, fd);
}

/* A whole reply at the head of the buffer: decode it. */
static int take_reply(struct sfu_varlink_client *c, struct sfu_varlink_reply *ret, struct sfu_err *err) {
        const char *head = c->in + c->consumed;
        size_t avail = c->in_len - c->consumed, len;
        int r = sfu_varlink_frame(head, avail, SFU_VARLINK_CLIENT_REPLY_MAX, &len);

        if (r <= 0)
                return r;
        c->consumed += len + 1;
        r = sfu_varlink_reply_decode(head, len, ret, err);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        return 1;
}

static int fill(struct sfu_varlink_client *c, bool block) {
        ssize_t n;

        if (c->consumed > 0) {
                memmove(c->in, c->in + c->consumed, c->in_len - c->consumed);
                c->in_len -= c->consumed;
                c->consumed = 0;
        }
        if (c->in_cap - c->in_len < 4096) {
                size_t cap = c->in_cap ? c->in_cap * 2 : 16384;
                char *bigger;
                if (cap > SFU_VARLINK_CLIENT_REPLY_MAX + 4096)
                        cap = SFU_VARLINK_CLIENT_REPLY_MAX + 4096;
                if (cap <= c->in_len)
                        return -EMSGSIZE;
                bigger = realloc(c->in, cap);
                if (!bigger)
                        return -ENOMEM;
                c->in = bigger;
                c->in_cap = cap;
        }
        if (block) {
                struct pollfd p = { .fd = c->fd, .events = POLLIN };
                if (poll(&p, 1, -1) < 0)
                        return -errno;
        }
        n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
        if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                        return 0;
                return -errno;
        }
        if (n == 0)
                return -ECONNRESET;
        c->in_len += (size_t) n;
        return 1;
}

int sfu_varlink_client_receive(struct sfu_varlink_client *c, bool block, struct sfu_varlink_reply *ret,
                               struct sfu_err *err) {
        for (;;) {
                int r = take_reply(c, ret, err);
                if (r != 0)
                        return r;
                r = fill(c, block);
                if (r < 0)
                        return r;
                if (r == 0 && !block)
                        return 0;
        }
}
