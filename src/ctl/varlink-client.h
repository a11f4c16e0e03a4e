/* SPDX-License-Identifier: MIT */
/* A small blocking Varlink client for secfuctl: one Unix socket
 * connection, calls sent whole, replies read into a bounded buffer and
 * decoded with core/varlink.h.  Two connections can be polled together
 * (apply's progress: Monitor on one, Apply on the other) through
 * sfu_varlink_client_fd() and non-blocking receives. */
#pragma once
#include <stdbool.h>
#include <jansson.h>

#include "core/err.h"
#include "core/varlink.h"

/* Bytes of one reply accepted from the daemon. */
#define SFU_VARLINK_CLIENT_REPLY_MAX (16u * 1024u * 1024u)

struct sfu_varlink_client;

/* Connects to the socket at path. -errno (ENOENT, ECONNREFUSED, EACCES,
 * ENAMETOOLONG, ...) when that fails. */
int sfu_varlink_client_connect(const char *path, struct sfu_varlink_client **ret) _wur_;
/* Uses fd (a connected stream socket; taken over) instead. */
int sfu_varlink_client_new_fd(int fd, struct sfu_varlink_client **ret) _wur_;
void sfu_varlink_client_free(struct sfu_varlink_client *c);
static inline void sfu_varlink_client_freep(struct sfu_varlink_client **c) { sfu_varlink_client_free(*c); }
#define _cleanup_varlink_client_ _cleanup_(sfu_varlink_client_freep)

int sfu_varlink_client_fd(const struct sfu_varlink_client *c);

/* Sends one call (parameters borrowed, NULL for none); blocks until it is
 * written. -EPIPE / -ECONNRESET when the daemon has gone. */
int sfu_varlink_client_call(struct sfu_varlink_client *c, const char *method, json_t *parameters, bool more) _wur_;
/* The same, with the descriptor fd (borrowed) sent along with the call's
 * first byte (SCM_RIGHTS): the call's parameter "fd": 0 names it. */
int sfu_varlink_client_call_fd(struct sfu_varlink_client *c, const char *method, json_t *parameters, bool more,
                               int fd) _wur_;

/* The next reply: 1 and *ret filled (release it with
 * sfu_varlink_reply_done()). With block, waits for it (-EINTR when a
 * signal interrupts the wait); without, reads what the socket holds now
 * and returns 0 when no whole reply has arrived. -ECONNRESET when the
 * daemon closed the connection, -EMSGSIZE for a reply over the cap,
 * -EBADMSG (err says why) for one that does not decode. */
int sfu_varlink_client_receive(struct sfu_varlink_client *c, bool block, struct sfu_varlink_reply *ret,
                               struct sfu_err *err) _wur_;
