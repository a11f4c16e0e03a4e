/* SPDX-License-Identifier: MIT */
/* The Varlink wire format (doc/control.md), as pure functions that both
 * secfud and secfuctl use: framing (each message is a JSON object ended by
 * a NUL byte), decoding and encoding of calls and replies, and a small
 * schema check for call parameters.  No sockets here: the daemon's server
 * (src/daemon/varlink-server.c) and the client (src/ctl/varlink-client.c) do
 * the I/O.
 *
 *   call   {"method": "org.secfu.Daemon.Status", "parameters": {...},
 *           "more": bool, "oneway": bool}
 *   reply  {"parameters": {...}, "continues": bool}
 *          {"error": "org.secfu.Daemon.Busy", "parameters": {...}} */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "core/err.h"

/* Bytes of one call, without its NUL: larger requests are refused. */
#define SFU_VARLINK_MESSAGE_MAX (64u * 1024u)
/* Bytes of a fully qualified method or error name. */
#define SFU_VARLINK_NAME_MAX 255u

struct sfu_varlink_call {
        char *method;           /* fully qualified, syntax checked */
        json_t *parameters;     /* an object; empty when the call had none */
        bool more;              /* the caller accepts several replies */
        bool oneway;            /* the caller wants no reply */
};

struct sfu_varlink_reply {
        char *error;            /* fully qualified error name, NULL on success */
        json_t *parameters;     /* an object; empty when the reply had none */
        bool continues;         /* more replies to this call follow */
};

/* Finds the end of the first message in buf[0..len): returns 1 and the
 * message's length (without the NUL) in *ret_len, 0 when no NUL has
 * arrived yet and more bytes may still make a message of at most max
 * bytes, or -EMSGSIZE when the first message is already longer than max. */
int sfu_varlink_frame(const char *buf, size_t len, size_t max, size_t *ret_len) _wur_;

/* "org.secfu.Daemon.Status": an interface name (dot separated labels of
 * letters, digits and inner dashes, the first starting with a letter, at
 * least two labels) and a member that starts with an upper-case letter
 * followed by letters and digits. */
bool sfu_varlink_name_valid(const char *name);
/* Splits a valid name: copies the interface into iface (of size bytes)
 * and points *ret_member into name. -EINVAL for an invalid name,
 * -ENAMETOOLONG when the interface does not fit. */
int sfu_varlink_name_split(const char *name, char *iface, size_t size, const char **ret_member) _wur_;

/* Decodes one call message (buf without its NUL). Refuses (SFU_ERR_SIZE)
 * more than SFU_VARLINK_MESSAGE_MAX bytes, and (SFU_ERR_PARSE) anything
 * that is not strict JSON, not an object, lacks "method", has a field of
 * the wrong type, an invalid method name, or a field other than method,
 * parameters, more and oneway. "parameters": null counts as absent. On
 * failure *ret is untouched. */
int sfu_varlink_call_decode(const char *buf, size_t len, struct sfu_varlink_call *ret, struct sfu_err *err) _wur_;
void sfu_varlink_call_done(struct sfu_varlink_call *call);

/* Decodes one reply message; the same strictness, fields error,
 * parameters and continues. */
int sfu_varlink_reply_decode(const char *buf, size_t len, struct sfu_varlink_reply *ret,
                             struct sfu_err *err) _wur_;
void sfu_varlink_reply_done(struct sfu_varlink_reply *reply);

/* Encode a message, NUL included: *ret is a new buffer, *ret_size counts
 * the NUL. parameters (borrowed) may be NULL for none; "more", "oneway"
 * and "continues" are written only when true. -EINVAL for an invalid
 * method or error name or non-object parameters, -ENOMEM. */
int sfu_varlink_call_encode(const char *method, json_t *parameters, bool more, bool oneway, char **ret,
                            size_t *ret_size) _wur_;
int sfu_varlink_reply_encode(const char *error, json_t *parameters, bool continues, char **ret,
                             size_t *ret_size) _wur_;

/* Parameter schema of a method: which fields it takes and their types.
 * Every field is optional; null counts as absent (Varlink's "?type"). */
enum sfu_varlink_type {
        SFU_VARLINK_BOOL,
        SFU_VARLINK_STRING,
        SFU_VARLINK_INT,
};

struct sfu_varlink_param {
        const char *name;
        enum sfu_varlink_type type;
};

/* Checks that the object parameters holds only fields of spec[0..n), each
 * of its type or null. On a mismatch returns -EINVAL and points *bad_name
 * at the offending field's name (borrowed from parameters or spec). */
int sfu_varlink_params_check(json_t *parameters, const struct sfu_varlink_param *spec, size_t n,
                             const char **bad_name) _wur_;

/* Descriptors passed with calls (SCM_RIGHTS).  On a stream socket the
 * descriptors of one sendmsg arrive with the first byte it carried; a
 * connection keeps at most SFU_VARLINK_FDS_MAX of them, each with the
 * stream offset of that byte, and a call owns those that arrived with its
 * own bytes.  Bookkeeping only: nothing here closes a descriptor; what
 * push refuses and what take hands out are the caller's to close. */
#define SFU_VARLINK_FDS_MAX 4u

struct sfu_varlink_fds {
        int fd[SFU_VARLINK_FDS_MAX];
        uint64_t at[SFU_VARLINK_FDS_MAX];
        size_t n;
};

/* Queues fd, which arrived with the byte at stream offset at.  -ENOBUFS
 * when SFU_VARLINK_FDS_MAX are queued, -EINVAL for a negative fd or an
 * offset before the last one queued; fd stays the caller's then. */
int sfu_varlink_fds_push(struct sfu_varlink_fds *q, int fd, uint64_t at) _wur_;
/* Moves the descriptors that arrived before stream offset end (the end of
 * a call, its NUL included) to ret, oldest first, and returns how many;
 * UINT64_MAX takes them all. */
size_t sfu_varlink_fds_take(struct sfu_varlink_fds *q, uint64_t end, int ret[static SFU_VARLINK_FDS_MAX]);
