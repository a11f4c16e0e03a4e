/* SPDX-License-Identifier: MIT */
/* Descriptors passed with Varlink calls: the bookkeeping of core/varlink.h
 * (which call owns which descriptor, the cap, the refusals) and secfuctl's
 * sending side (sfu_varlink_client_call_fd puts the descriptor on the
 * call's first byte). */
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "core/varlink.h"
#include "ctl/varlink-client.h"
#include "tap.h"

static void test_bookkeeping(void) {
        struct sfu_varlink_fds q = { .n = 0 };
        int out[SFU_VARLINK_FDS_MAX];
        size_t n;

        ok(sfu_varlink_fds_push(&q, 10, 0) == 0 && sfu_varlink_fds_push(&q, 11, 0) == 0,
           "two descriptors with the first byte");
        ok(sfu_varlink_fds_push(&q, 12, 40) == 0, "one with byte 40");
        is_int(sfu_varlink_fds_push(&q, 13, 39), -EINVAL, "an offset before the last one: -EINVAL");
        is_int(sfu_varlink_fds_push(&q, -1, 41), -EINVAL, "a negative descriptor: -EINVAL");
        ok(sfu_varlink_fds_push(&q, 14, 41) == 0, "a fourth");
        is_int(sfu_varlink_fds_push(&q, 15, 42), -ENOBUFS, "a fifth: -ENOBUFS (at most 4 held)");
        is_int(q.n, 4, "four held");

        n = sfu_varlink_fds_take(&q, 40, out);
        ok(n == 2 && out[0] == 10 && out[1] == 11, "a call of bytes 0..39 owns the first two, in order");
        n = sfu_varlink_fds_take(&q, 40, out);
        is_int(n, 0, "taking again to the same end: nothing");
        n = sfu_varlink_fds_take(&q, 41, out);
        ok(n == 1 && out[0] == 12, "the call of byte 40 owns the third");
        ok(sfu_varlink_fds_push(&q, 16, 50) == 0, "room again");
        n = sfu_varlink_fds_take(&q, UINT64_MAX, out);
        ok(n == 2 && out[0] == 14 && out[1] == 16 && q.n == 0, "a closed connection: the rest, in order");
}

static void test_client_sends(void) {
        _cleanup_varlink_client_ struct sfu_varlink_client *c = NULL;
        _cleanup_close_ int file = -1;
        int sv[2], got = -1;
        char buf[512] = "";
        union {
                struct cmsghdr align;
                char b[CMSG_SPACE(sizeof(int) * 4)];
        } control;
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control) };
        struct stat a, b;
        json_t *params = json_pack("{s:i}", "fd", 0);
        ssize_t len;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || !params) {
                ok(false, "socketpair");
                return;
        }
        file = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        ok(sfu_varlink_client_new_fd(sv[0], &c) == 0, "a client on one end");
        ok(sfu_varlink_client_call_fd(c, "org.secfu.Daemon.ApplyFile", params, false, file) == 0,
           "ApplyFile sent with a descriptor");
        len = recvmsg(sv[1], &mh, MSG_CMSG_CLOEXEC);
        ok(len > 0 && buf[len - 1] == 0, "the call arrives whole, NUL-terminated");
        ok(strstr(buf, "\"method\":\"org.secfu.Daemon.ApplyFile\"") && strstr(buf, "\"fd\":0"),
           "the call names ApplyFile and fd 0 (%s)", buf);
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
                    cm->cmsg_len == CMSG_LEN(sizeof(int)))
                        memcpy(&got, CMSG_DATA(cm), sizeof(int));
        ok(got >= 0, "one descriptor came with the call's bytes");
        ok(got >= 0 && fstat(got, &a) == 0 && fstat(file, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev,
           "it is the file the client opened");
        ok(got >= 0 && (fcntl(got, F_GETFD) & FD_CLOEXEC), "received close-on-exec");
        is_int(sfu_varlink_client_call_fd(c, "org.secfu.Daemon.ApplyFile", params, false, -1), -EBADF,
               "no descriptor to send: -EBADF");
        if (got >= 0)
                close(got);
        close(sv[1]);
        json_decref(params);
}

int main(void) {
        test_bookkeeping();
        test_client_sends();
        return tap_done();
}
