/* SPDX-License-Identifier: MIT */
/* The control commands (doc/control.md): one table {name, needs
 * privilege, parameters, handler} that the Varlink server and the D-Bus
 * adapter both dispatch through.  The adapters only translate: they turn a
 * request into a JSON parameter object and a call object whose ops send
 * replies back in their protocol; the handlers here decide and call the
 * manager.
 *
 * A call object is reference counted.  A handler that answers later (Check
 * and Apply answer when their job ends, Cancel when the job has stopped,
 * Monitor streams until the peer leaves) takes a reference; the adapter
 * calls sfu_call_gone() when the peer disappears, after which replies are
 * dropped.
 *
 * A command that takes a file (ApplyFile) gets it as a descriptor the
 * caller passed (SCM_RIGHTS on the socket, 'h' on D-Bus): the adapter puts
 * its own duplicate in call->fd, the handler's job duplicates it again,
 * and sfu_commands_dispatch() closes call->fd when the handler returns.
 * The daemon never opens a path for a caller other than root. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "core/err.h"
#include "core/varlink.h"
#include "daemon/manager.h"

/* The group whose members may call the mutating methods, besides root. */
#define SFU_CONTROL_GROUP "secfu"
/* Bytes of an Apply "source" (URL or absolute path). */
#define SFU_COMMANDS_SOURCE_MAX 4096u
/* The uid that may name a file on the device as Apply's source; everyone
 * else passes the file itself (ApplyFile). */
#define SFU_COMMANDS_PATH_UID 0
/* How long a Cancel waits for the job to stop before it answers anyway. */
#define SFU_COMMANDS_CANCEL_WAIT_USEC (60u * 1000000u)
/* Monitor calls streaming at once (one per Varlink client at most). */
#define SFU_COMMANDS_MAX_MONITORS 64

/* The Varlink interface of the command table, in Varlink IDL. */
#define SFU_COMMANDS_INTERFACE "org.secfu.Daemon"
extern const char sfu_commands_interface_description[];
/* org.varlink.service, which the Varlink server answers itself. */
extern const char sfu_commands_service_description[];

struct sfu_commands;
struct sfu_call;

struct sfu_call_ops {
        /* The final reply; parameters is a borrowed object. */
        void (*reply)(struct sfu_call *call, json_t *parameters);
        /* One of several replies; only for calls with more set. */
        void (*more)(struct sfu_call *call, json_t *parameters);
        /* A failure with its code (never SFU_ERR_NONE) and message. */
        void (*fail)(struct sfu_call *call, const struct sfu_err *err);
        /* A parameter had an unknown name, a wrong type or a bad value. */
        void (*invalid_parameter)(struct sfu_call *call, const char *parameter);
        /* Frees the adapter's object when the last reference goes. */
        void (*free)(struct sfu_call *call);
};

struct sfu_call {
        const struct sfu_call_ops *ops;
        unsigned n_ref;
        const char *method;     /* member name, for logs */
        uid_t uid;              /* of the peer, for logs */
        bool privileged;        /* root or the secfu group (sfu_commands_peer_privileged) */
        bool more;              /* the peer accepts several replies (Varlink "more") */
        bool done;              /* the final reply went out */
        bool gone;              /* the peer left; replies are dropped */
        int fd;                 /* the descriptor passed with the call (the adapter's dup), or -1 */
        /* Set by a handler that keeps the call: runs once when the peer
         * goes, before any reference is dropped. */
        void (*on_gone)(struct sfu_call *call);
        void *handler_data;
};

/* The adapters' side of a call. */
void sfu_call_init(struct sfu_call *call, const struct sfu_call_ops *ops, const char *method, uid_t uid,
                   bool privileged, bool more);
struct sfu_call *sfu_call_ref(struct sfu_call *call);
void sfu_call_unref(struct sfu_call *call);
void sfu_call_gone(struct sfu_call *call);

/* The handlers' side: each does nothing once the call is done or gone. */
void sfu_call_reply(struct sfu_call *call, json_t *parameters);
void sfu_call_more(struct sfu_call *call, json_t *parameters);
void sfu_call_fail(struct sfu_call *call, const struct sfu_err *err);
void sfu_call_invalid_parameter(struct sfu_call *call, const char *parameter);

struct sfu_command {
        const char *name;               /* Varlink member and D-Bus method: "Status" */
        bool needs_privilege;           /* root or the secfu group only */
        bool streams;                   /* replies until the peer leaves (Varlink only) */
        bool takes_fd;                  /* parameter "fd" indexes the descriptors sent with the call */
        const struct sfu_varlink_param *params;
        size_t n_params;
        void (*handler)(struct sfu_commands *cmds, struct sfu_call *call, json_t *parameters);
};

int sfu_commands_new(struct sfu_manager *m, sd_event *event, struct sfu_commands **ret) _wur_;
void sfu_commands_free(struct sfu_commands *cmds);

/* The table, in the order of the interface description. */
const struct sfu_command *sfu_commands_table(size_t *ret_n);
const struct sfu_command *sfu_commands_find(const char *name);

/* Checks the parameters against the command's schema and the caller's
 * privilege, then runs the handler; closes call->fd afterwards. Exactly
 * one final reply (now or later) answers every call that is not gone. */
void sfu_commands_dispatch(struct sfu_commands *cmds, const struct sfu_command *cmd, struct sfu_call *call,
                           json_t *parameters);

/* The access rule of doc/control.md: uid 0, or the group "secfu" as the
 * primary or a supplementary group. */
bool sfu_commands_peer_privileged(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups);
