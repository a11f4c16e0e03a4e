/* SPDX-License-Identifier: MIT */
/* The control socket (doc/control.md): opened once at start-up. */
#pragma once
#include <sys/types.h>

#include "core/err.h"

struct sfu_control_socket {
        int fd;                 /* listening, non-blocking, close-on-exec */
        char *path;             /* bound here; NULL for a socket systemd passed */
        dev_t dev;              /* of the bound socket file, to remove only ours */
        ino_t ino;
};

/* The socket systemd passed (returns 1), or RUNTIME_DIR/secfud.sock made
 * here (returns 0): a stale socket is replaced, a live daemon's or
 * anything that is not a socket refused with a one-line reason. */
int sfu_control_socket_open(const char *runtime_dir, struct sfu_control_socket *ret, struct sfu_err *err) _wur_;

/* The supplementary groups of the peer on fd (SO_PEERGROUPS; /proc for
 * older kernels), at most SFU_VARLINK_MAX_GROUPS. */
int sfu_control_socket_peer_groups(int fd, pid_t pid, gid_t **ret, size_t *ret_n) _wur_;
