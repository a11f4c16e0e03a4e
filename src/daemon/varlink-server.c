/* SPDX-License-Identifier: MIT */
/* The Varlink server: a Unix stream socket, messages framed by NUL bytes
 * (core/varlink.h), one call at a time per connection, every socket
 * non-blocking.  Each client has a bounded input buffer (one request of at
 * most SFU_VARLINK_MESSAGE_MAX bytes) and a bounded output queue; a client
 * that stops reading and lets its queue grow past SFU_VARLINK_OUTPUT_MAX
 * is disconnected, so the daemon never blocks on a peer.  A request must
 * arrive whole within SFU_VARLINK_REQUEST_TIMEOUT_USEC of its first byte,
 * and a connection with no call running and nothing to send is closed
 * after SFU_VARLINK_IDLE_TIMEOUT_USEC, so slow or silent peers cannot hold
 * the connection slots (a few of which are kept for root).  Credentials come
 * from SO_PEERCRED and SO_PEERGROUPS at accept time.
 *
 * Descriptors (SCM_RIGHTS) are read with recvmsg(MSG_CMSG_CLOEXEC); a
 * connection holds at most SFU_VARLINK_FDS_MAX, each tagged with the stream
 * offset it arrived at (core/varlink.h), and a call owns those that came
 * with its bytes.  A command that takes a file (ApplyFile) gets the one its
 * "fd" parameter names; every other descriptor is closed once its call has
 * been dispatched, as are those beyond the cap and a dead connection's. */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "core/json.h"
#include "daemon/control-socket.h"
#include "daemon/control.h"
#include "daemon/log.h"
#include "io/fileio.h"

#define IN_BUFFER_SIZE (SFU_VARLINK_MESSAGE_MAX + 1u)   /* a whole request and its NUL */

#define ERROR_INVALID_PARAMETER "org.varlink.service.InvalidParameter"
#define ERROR_METHOD_NOT_FOUND "org.varlink.service.MethodNotFound"
#define ERROR_INTERFACE_NOT_FOUND "org.varlink.service.InterfaceNotFound"
#define SERVICE_INTERFACE "org.varlink.service"

struct vcall;

struct client {
        struct client *prev, *next;
        struct sfu_varlink_server *server;
        int fd;
        sd_event_source *io;
        sd_event_source *defer;         /* runs queued requests after an answer */
        uid_t uid;
        gid_t gid;
        pid_t pid;
        gid_t *groups;
        size_t n_groups;
        char *in;                       /* IN_BUFFER_SIZE bytes */
        size_t in_len;
        uint64_t in_received;           /* bytes read from the socket since accept */
        uint64_t in_consumed;           /* of those, bytes of calls already dispatched */
        struct sfu_varlink_fds fds;     /* descriptors not yet owned by a call */
        uint64_t fds_received;          /* counts, for the log */
        uint64_t fds_dropped;
        char *out;
        size_t out_len, out_off, out_cap;
        struct vcall *calls;            /* every call object that points here */
        struct vcall *pending;          /* the call being answered, if it has not been */
        uint64_t active_at;             /* CLOCK_MONOTONIC usec of the last progress either way */
        uint64_t request_since;         /* when the incomplete request in `in` began (0: none) */
        bool read_eof;                  /* the peer shut its side down */
        bool closing;                   /* send what is queued, then close */
        bool dead;                      /* closed; freed from the loop */
};

struct vcall {
        struct sfu_call base;
        struct vcall *prev, *next;
        struct client *client;          /* NULL once the client is gone */
        bool oneway;
};

struct sfu_varlink_server {
        struct sfu_commands *cmds;
        sd_event *event;
        int listen_fd;
        sd_event_source *listen_source;
        sd_event_source *reaper;        /* frees dead clients */
        sd_event_source *sweeper;       /* closes slow and idle clients; on while there are clients */
        uint64_t request_timeout, idle_timeout, sweep_interval;  /* usec */
        char *path;                     /* bound here; NULL for a socket systemd passed */
        dev_t dev;
        ino_t ino;
        struct client *clients;
        size_t n_clients;
        struct client *dead;
        bool warned_full;
};

static void client_kill(struct client *c, const char *why);

/* The connection failed with r: a peer that hung up (secfuctl after its
 * last reply) is normal; anything else is worth a line. */
static void client_gone(struct client *c, int r) {
        if (r == -EPIPE || r == -ECONNRESET) {
                log_debug("control client of uid %u went away", (unsigned) c->uid);
                client_kill(c, NULL);
        } else
                client_kill(c, "the connection broke");
}
static void client_process(struct client *c);
static void client_update(struct client *c);

static uint64_t loop_now(struct sfu_varlink_server *s) {
        uint64_t now = 0;
        (void) sd_event_now(s->event, CLOCK_MONOTONIC, &now);
        return now;
}

static void client_active(struct client *c) {
        c->active_at = loop_now(c->server);
}

/* ---------------------------------------------------------------- output */

static int client_flush(struct client *c) {
        while (c->out_off < c->out_len) {
                ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                return 0;
                        return -errno;
                }
                c->out_off += (size_t) n;
                client_active(c);
        }
        c->out_off = c->out_len = 0;
        return 0;
}

/* Queues one message and sends what the socket takes now. */
static void client_send(struct client *c, const char *error, json_t *parameters, bool continues) {
        _cleanup_free_ char *msg = NULL;
        int r;
        size_t size;

        if (c->dead)
                return;
        if (sfu_varlink_reply_encode(error, parameters, continues, &msg, &size) < 0) {
                client_kill(c, "cannot encode a reply");
                return;
        }
        if (c->out_off > 0) {
                memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
                c->out_len -= c->out_off;
                c->out_off = 0;
        }
        if (size > SFU_VARLINK_OUTPUT_MAX - c->out_len) {
                client_kill(c, "it does not read its replies");
                return;
        }
        if (c->out_len + size > c->out_cap) {
                size_t cap = c->out_cap ? c->out_cap : 4096;
                char *bigger;
                while (cap < c->out_len + size)
                        cap *= 2;
                bigger = realloc(c->out, cap);
                if (!bigger) {
                        client_kill(c, "out of memory");
                        return;
                }
                c->out = bigger;
                c->out_cap = cap;
        }
        memcpy(c->out + c->out_len, msg, size);
        c->out_len += size;
        r = client_flush(c);
        if (r < 0) {
                client_gone(c, r);
                return;
        }
        client_update(c);
}

static void send_error(struct client *c, const char *error, const char *key, const char *value) {
        _cleanup_json_ json_t *params = json_pack("{s:s}", key, value);
        if (!params) {
                client_kill(c, "out of memory");
                return;
        }
        client_send(c, error, params, false);
}

static void send_sfu_error(struct client *c, const struct sfu_err *err) {
        _cleanup_json_ json_t *params =
                json_pack("{s:s,s:s}", "message", err->message, "code", sfu_err_code_name(err->code));
        if (!params) {
                client_kill(c, "out of memory");
                return;
        }
        client_send(c, sfu_err_code_varlink(err->code), params, false);
}

/* ---------------------------------------------------------------- call objects */

static struct vcall *vcall_of(struct sfu_call *call) {
        return (struct vcall *) call;
}

/* The client a reply may go to, or NULL. */
static struct client *vcall_client(struct vcall *vc) {
        return vc->client && !vc->client->dead ? vc->client : NULL;
}

/* The final answer went out: the next queued request may run. */
static void vcall_finished(struct vcall *vc) {
        struct client *c = vc->client;

        if (!c || c->pending != vc)
                return;
        c->pending = NULL;
        client_active(c);
        if (!c->dead && c->defer)
                (void) sd_event_source_set_enabled(c->defer, SD_EVENT_ONESHOT);
}

static void op_reply(struct sfu_call *call, json_t *parameters) {
        struct vcall *vc = vcall_of(call);
        struct client *c = vcall_client(vc);

        if (c && !vc->oneway)
                client_send(c, NULL, parameters, false);
        vcall_finished(vc);
}

static void op_more(struct sfu_call *call, json_t *parameters) {
        struct vcall *vc = vcall_of(call);
        struct client *c = vcall_client(vc);

        if (c && !vc->oneway)
                client_send(c, NULL, parameters, true);
}

static void op_fail(struct sfu_call *call, const struct sfu_err *err) {
        struct vcall *vc = vcall_of(call);
        struct client *c = vcall_client(vc);

        if (c && !vc->oneway)
                send_sfu_error(c, err);
        vcall_finished(vc);
}

static void op_invalid_parameter(struct sfu_call *call, const char *parameter) {
        struct vcall *vc = vcall_of(call);
        struct client *c = vcall_client(vc);

        if (c && !vc->oneway)
                send_error(c, ERROR_INVALID_PARAMETER, "parameter", parameter);
        vcall_finished(vc);
}

static void vcall_detach(struct vcall *vc) {
        struct client *c = vc->client;

        if (!c)
                return;
        if (c->pending == vc)
                c->pending = NULL;
        if (vc->prev)
                vc->prev->next = vc->next;
        else
                c->calls = vc->next;
        if (vc->next)
                vc->next->prev = vc->prev;
        vc->prev = vc->next = NULL;
        vc->client = NULL;
}

static void op_free(struct sfu_call *call) {
        struct vcall *vc = vcall_of(call);
        vcall_detach(vc);
        free(vc);
}

static const struct sfu_call_ops vcall_ops = {
        .reply = op_reply,
        .more = op_more,
        .fail = op_fail,
        .invalid_parameter = op_invalid_parameter,
        .free = op_free,
};

/* ---------------------------------------------------------------- requests */

static void handle_service(struct client *c, const struct sfu_varlink_call *call, const char *member) {
        _cleanup_json_ json_t *reply = NULL;

        if (strcmp(member, "GetInfo") == 0) {
                const char *bad = NULL;
                if (sfu_varlink_params_check(call->parameters, NULL, 0, &bad) < 0) {
                        send_error(c, ERROR_INVALID_PARAMETER, "parameter", bad);
                        return;
                }
                reply = json_pack("{s:s,s:s,s:s,s:s,s:[s,s]}", "vendor", "secfud", "product", "secfud", "version",
                                  PACKAGE_VERSION, "url", PACKAGE_URL, "interfaces", SERVICE_INTERFACE,
                                  SFU_COMMANDS_INTERFACE);
        } else if (strcmp(member, "GetInterfaceDescription") == 0) {
                static const struct sfu_varlink_param spec[] = { { "interface", SFU_VARLINK_STRING } };
                const char *bad = NULL, *name;
                if (sfu_varlink_params_check(call->parameters, spec, ELEMENTSOF(spec), &bad) < 0) {
                        send_error(c, ERROR_INVALID_PARAMETER, "parameter", bad);
                        return;
                }
                name = json_string_value(json_object_get(call->parameters, "interface"));
                if (!name) {
                        send_error(c, ERROR_INVALID_PARAMETER, "parameter", "interface");
                        return;
                }
                if (strcmp(name, SFU_COMMANDS_INTERFACE) == 0)
                        reply = json_pack("{s:s}", "description", sfu_commands_interface_description);
                else if (strcmp(name, SERVICE_INTERFACE) == 0)
                        reply = json_pack("{s:s}", "description", sfu_commands_service_description);
                else {
                        send_error(c, ERROR_INTERFACE_NOT_FOUND, "interface", name);
                        return;
                }
        } else {
                send_error(c, ERROR_METHOD_NOT_FOUND, "method", call->method);
                return;
        }
        if (!reply) {
                client_kill(c, "out of memory");
                return;
        }
        client_send(c, NULL, reply, false);
}

/* The descriptor a call's "fd" parameter names among those sent with it
 * (moved out of fds), or -1. */
static int take_indexed_fd(json_t *parameters, int *fds, size_t n_fds) {
        json_t *index = json_object_get(parameters, "fd");
        json_int_t i;
        int fd;

        if (!json_is_integer(index))
                return -1;
        i = json_integer_value(index);
        if (i < 0 || (uint64_t) i >= n_fds)
                return -1;
        fd = fds[i];
        fds[i] = -1;
        return fd;
}

static void handle_command(struct client *c, const struct sfu_varlink_call *call, const struct sfu_command *cmd,
                           int *fds, size_t n_fds) {
        struct sfu_varlink_server *s = c->server;
        struct vcall *vc;
        bool privileged;

        vc = calloc(1, sizeof(*vc));
        if (!vc) {
                client_kill(c, "out of memory");
                return;
        }
        privileged = !cmd->needs_privilege || sfu_commands_peer_privileged(c->uid, c->gid, c->groups, c->n_groups);
        sfu_call_init(&vc->base, &vcall_ops, cmd->name, c->uid, privileged, call->more);
        if (cmd->takes_fd)
                vc->base.fd = take_indexed_fd(call->parameters, fds, n_fds);
        vc->oneway = call->oneway;
        vc->client = c;
        vc->next = c->calls;
        if (c->calls)
                c->calls->prev = vc;
        c->calls = vc;
        c->pending = vc;

        sfu_commands_dispatch(s->cmds, cmd, &vc->base, call->parameters);
        /* Answered already, or kept by the handler (it holds a reference
         * and answers later). */
        if (vc->base.done && c->pending == vc)
                c->pending = NULL;
        sfu_call_unref(&vc->base);
}

static void handle_message(struct client *c, const char *buf, size_t len, int *fds, size_t n_fds) {
        struct sfu_varlink_call call = {};
        struct sfu_err err = SFU_ERR_INIT;
        char iface[SFU_VARLINK_NAME_MAX + 1];
        const char *member;

        if (sfu_varlink_call_decode(buf, len, &call, &err) < 0) {
                log_debug("closing the connection of uid %u: %s", (unsigned) c->uid, err.message);
                send_sfu_error(c, &err);
                c->closing = true;
                return;
        }
        if (sfu_varlink_name_split(call.method, iface, sizeof(iface), &member) < 0) {
                /* decode checked the name */
                send_error(c, ERROR_METHOD_NOT_FOUND, "method", call.method);
        } else if (call.oneway && strcmp(iface, SFU_COMMANDS_INTERFACE) != 0) {
                /* Nothing to do for a oneway query without an answer. */
        } else if (strcmp(iface, SERVICE_INTERFACE) == 0) {
                handle_service(c, &call, member);
        } else if (strcmp(iface, SFU_COMMANDS_INTERFACE) == 0) {
                const struct sfu_command *cmd = sfu_commands_find(member);
                if (cmd)
                        handle_command(c, &call, cmd, fds, n_fds);
                else if (!call.oneway)
                        send_error(c, ERROR_METHOD_NOT_FOUND, "method", call.method);
        } else {
                send_error(c, ERROR_INTERFACE_NOT_FOUND, "interface", iface);
        }
        sfu_varlink_call_done(&call);
}

static void close_fds(struct client *c, int *fds, size_t n, const char *what) {
        size_t closed = 0;

        for (size_t i = 0; i < n; i++)
                if (fds[i] >= 0) {
                        close(fds[i]);
                        closed++;
                }
        if (closed > 0) {
                c->fds_dropped += closed;
                log_debug("closed %zu descriptor(s) that uid %u sent %s (%" PRIu64 " of %" PRIu64 " so far)",
                          closed, (unsigned) c->uid, what, c->fds_dropped, c->fds_received);
        }
}

/* The message of len bytes at the head of the input buffer, with the
 * descriptors that arrived with its bytes; those no command took are
 * closed. */
static void dispatch_one(struct client *c, size_t len) {
        int fds[SFU_VARLINK_FDS_MAX];
        size_t n_fds = sfu_varlink_fds_take(&c->fds, c->in_consumed + len + 1, fds);

        handle_message(c, c->in, len, fds, n_fds);
        close_fds(c, fds, n_fds, "with a call that did not take them");
}

/* Runs the complete requests in the input buffer, one at a time: a
 * request that is answered later holds back the ones behind it. */
static void client_process(struct client *c) {
        while (!c->dead && !c->pending && !c->closing) {
                size_t len;
                int r = sfu_varlink_frame(c->in, c->in_len, SFU_VARLINK_MESSAGE_MAX, &len);
                if (r < 0) {
                        struct sfu_err err = SFU_ERR_INIT;
                        (void) sfu_err_set(&err, SFU_ERR_SIZE, EMSGSIZE, "request exceeds the limit of %u bytes",
                                           SFU_VARLINK_MESSAGE_MAX);
                        log_debug("closing the connection of uid %u: %s", (unsigned) c->uid, err.message);
                        send_sfu_error(c, &err);
                        c->closing = true;
                        break;
                }
                if (r == 0)
                        break;
                dispatch_one(c, len);
                if (c->dead)
                        return;
                c->in_len -= len + 1;
                c->in_consumed += len + 1;
                memmove(c->in, c->in + len + 1, c->in_len);
        }
        if (c->dead)
                return;
        /* The clock for a request starts with its first byte, or when the
         * call before it has been answered. */
        if (c->pending || c->in_len == 0)
                c->request_since = 0;
        else if (c->request_since == 0)
                c->request_since = loop_now(c->server);
        /* A peer that shut down its side gets its answers, then we close. */
        if (c->read_eof && !c->pending)
                c->closing = true;
        if (c->closing && c->out_len == c->out_off && !c->pending)
                client_kill(c, NULL);
        else
                client_update(c);
}

/* ---------------------------------------------------------------- connections */

static void client_update(struct client *c) {
        uint32_t events = 0;

        if (c->dead)
                return;
        if (!c->read_eof && !c->closing && c->in_len < IN_BUFFER_SIZE)
                events |= EPOLLIN;
        if (c->out_off < c->out_len)
                events |= EPOLLOUT;
        if (sd_event_source_set_io_events(c->io, events) < 0)
                client_kill(c, "cannot watch the connection");
}

/* Queues the descriptors of one recvmsg: they arrived with the byte at
 * stream offset at.  Beyond the cap they are closed. */
static void receive_fds(struct client *c, struct msghdr *mh, uint64_t at) {
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
                size_t n;

                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len < CMSG_LEN(0))
                        continue;
                n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < n; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
                        c->fds_received++;
                        if (sfu_varlink_fds_push(&c->fds, fd, at) < 0)
                                close_fds(c, &fd, 1, "beyond the number a connection may hold");
                }
        }
        if (mh->msg_flags & MSG_CTRUNC) {
                /* The kernel discarded what did not fit; count one. */
                c->fds_dropped++;
                log_debug("uid %u sent more descriptors at once than the %u taken", (unsigned) c->uid,
                          SFU_VARLINK_FDS_MAX);
        }
}

static void client_read(struct client *c) {
        while (c->in_len < IN_BUFFER_SIZE) {
                union {
                        struct cmsghdr align;
                        char buf[CMSG_SPACE(sizeof(int) * SFU_VARLINK_FDS_MAX)];
                } control;
                struct iovec iov = { .iov_base = c->in + c->in_len, .iov_len = IN_BUFFER_SIZE - c->in_len };
                struct msghdr mh = {
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = &control,
                        .msg_controllen = sizeof(control),
                };
                ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN && errno != EWOULDBLOCK)
                                client_gone(c, -errno);
                        return;
                }
                /* Descriptors come with the first byte of the sendmsg that
                 * carried them; the kernel may deliver earlier bytes of
                 * the same peer in the same read, so they are tagged with
                 * the read's first byte (doc/control.md: a call that
                 * passes descriptors has no unanswered call before it). */
                receive_fds(c, &mh, c->in_received);
                if (n == 0) {
                        c->read_eof = true;
                        return;
                }
                c->in_len += (size_t) n;
                c->in_received += (uint64_t) n;
                client_active(c);
        }
}

static int on_client_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        struct client *c = userdata;

        if (revents & (EPOLLIN | EPOLLHUP))
                client_read(c);
        int r = !c->dead && (revents & EPOLLOUT) ? client_flush(c) : 0;
        if (r < 0)
                client_gone(c, r);
        if (!c->dead)
                client_process(c);
        /* The peer is gone both ways: what it sent last has run (a oneway
         * call, say), but no answer can reach it. */
        if (!c->dead && (revents & (EPOLLHUP | EPOLLERR)))
                client_kill(c, NULL);
        return 0;
}

static int on_client_defer(sd_event_source *source, void *userdata) {
        client_process(userdata);
        return 0;
}

/* Every sweep_interval while there are clients: a request still
 * incomplete after request_timeout, or a connection that has had nothing
 * to do for idle_timeout, is closed.  A client whose call is running (an
 * Apply that waits, a Monitor) is never idle. */
static int on_sweep(sd_event_source *source, uint64_t usec, void *userdata) {
        struct sfu_varlink_server *s = userdata;
        uint64_t now = loop_now(s);
        struct client *c, *next;

        for (c = s->clients; c; c = next) {
                next = c->next;
                if (c->dead || c->pending)
                        continue;
                if (c->request_since && now - c->request_since >= s->request_timeout) {
                        char why[96];
                        snprintf(why, sizeof(why), "its request is still incomplete after %.1f s",
                                 (double) s->request_timeout / 1e6);
                        client_kill(c, why);
                } else if (now - c->active_at >= s->idle_timeout) {
                        log_debug("closing the idle control connection of uid %u", (unsigned) c->uid);
                        client_kill(c, NULL);
                }
        }
        if (s->n_clients == 0)
                return sd_event_source_set_enabled(source, SD_EVENT_OFF);
        (void) sd_event_source_set_time_relative(source, s->sweep_interval);
        return 0;
}

static int on_reaper(sd_event_source *source, void *userdata) {
        struct sfu_varlink_server *s = userdata;

        while (s->dead) {
                struct client *c = s->dead;
                s->dead = c->next;
                /* Calls that outlive the connection (a job, a Monitor) are
                 * told; the handlers drop their references. */
                while (c->calls) {
                        struct vcall *vc = c->calls;
                        vcall_detach(vc);
                        sfu_call_gone(&vc->base);
                }
                free(c->in);
                free(c->out);
                free(c->groups);
                free(c);
        }
        return 0;
}

/* Closes the connection now and frees the client from the loop, so that
 * callers up the stack (a reply op, an event fan-out) are not pulled from
 * under. why: logged when non-NULL. */
static void client_kill(struct client *c, const char *why) {
        struct sfu_varlink_server *s = c->server;

        if (c->dead)
                return;
        if (why)
                log_warning("dropping the control connection of uid %u: %s", (unsigned) c->uid, why);
        c->dead = true;
        {
                int fds[SFU_VARLINK_FDS_MAX];
                size_t n = sfu_varlink_fds_take(&c->fds, UINT64_MAX, fds);
                close_fds(c, fds, n, "on a connection that closed before they were used");
        }
        c->io = sd_event_source_disable_unref(c->io);
        c->defer = sd_event_source_disable_unref(c->defer);
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
        if (c->prev)
                c->prev->next = c->next;
        else
                s->clients = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->n_clients--;
        c->prev = NULL;
        c->next = s->dead;
        s->dead = c;
        (void) sd_event_source_set_enabled(s->reaper, SD_EVENT_ONESHOT);
}

static size_t clients_of_uid(struct sfu_varlink_server *s, uid_t uid) {
        size_t n = 0;
        for (struct client *c = s->clients; c; c = c->next)
                if (c->uid == uid)
                        n++;
        return n;
}

static void accept_one(struct sfu_varlink_server *s, int fd) {
        struct ucred cred;
        socklen_t len = sizeof(cred);
        struct client *c;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                log_warning("cannot read the credentials of a control connection: %s", strerror(errno));
                close(fd);
                return;
        }
        if (s->n_clients >= SFU_VARLINK_MAX_CLIENTS ||
            (cred.uid != 0 && (s->n_clients >= SFU_VARLINK_MAX_CLIENTS - SFU_VARLINK_ROOT_RESERVE ||
                               clients_of_uid(s, cred.uid) >= SFU_VARLINK_MAX_CLIENTS_PER_UID))) {
                if (!s->warned_full)
                        log_warning("too many control connections (uid %u); refusing new ones",
                                    (unsigned) cred.uid);
                s->warned_full = true;
                close(fd);
                return;
        }
        s->warned_full = false;
        c = calloc(1, sizeof(*c));
        if (!c) {
                close(fd);
                return;
        }
        c->server = s;
        c->fd = fd;
        c->uid = cred.uid;
        c->gid = cred.gid;
        c->pid = cred.pid;
        c->in = malloc(IN_BUFFER_SIZE);
        if (!c->in || sfu_control_socket_peer_groups(fd, cred.pid, &c->groups, &c->n_groups) < 0 ||
            sd_event_add_io(s->event, &c->io, fd, EPOLLIN, on_client_io, c) < 0 ||
            sd_event_add_defer(s->event, &c->defer, on_client_defer, c) < 0) {
                log_warning("cannot set up a control connection of uid %u", (unsigned) cred.uid);
                sd_event_source_disable_unref(c->io);
                sd_event_source_disable_unref(c->defer);
                free(c->in);
                free(c->groups);
                free(c);
                close(fd);
                return;
        }
        (void) sd_event_source_set_enabled(c->defer, SD_EVENT_OFF);
        c->next = s->clients;
        if (s->clients)
                s->clients->prev = c;
        s->clients = c;
        s->n_clients++;
        client_active(c);
        if (sd_event_source_get_enabled(s->sweeper, NULL) == 0) {
                (void) sd_event_source_set_time_relative(s->sweeper, s->sweep_interval);
                (void) sd_event_source_set_enabled(s->sweeper, SD_EVENT_ON);
        }
        log_debug("control connection from uid %u pid %d", (unsigned) c->uid, (int) c->pid);
}

static int on_listen(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        struct sfu_varlink_server *s = userdata;

        for (;;) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        if (errno != EAGAIN && errno != EWOULDBLOCK)
                                log_warning("accepting a control connection failed: %s", strerror(errno));
                        return 0;
                }
                accept_one(s, cfd);
        }
}

static void set_timeouts(struct sfu_varlink_server *s) {
        s->request_timeout = SFU_VARLINK_REQUEST_TIMEOUT_USEC;
        s->idle_timeout = SFU_VARLINK_IDLE_TIMEOUT_USEC;
#ifdef SFU_FAULT_INJECTION
        /* Test builds only: SFU_TEST_CONTROL_TIMEOUTS=REQUEST_MS,IDLE_MS */
        unsigned request_ms, idle_ms;
        const char *v = getenv("SFU_TEST_CONTROL_TIMEOUTS");
        if (v && sscanf(v, "%u,%u", &request_ms, &idle_ms) == 2 && request_ms > 0 && idle_ms > 0) {
                s->request_timeout = (uint64_t) request_ms * 1000u;
                s->idle_timeout = (uint64_t) idle_ms * 1000u;
        }
#endif
        s->sweep_interval = (s->request_timeout < s->idle_timeout ? s->request_timeout : s->idle_timeout) / 4;
        if (s->sweep_interval > 1000000u)
                s->sweep_interval = 1000000u;
}

int sfu_varlink_server_new(struct sfu_commands *cmds, sd_event *event, const char *runtime_dir,
                           struct sfu_varlink_server **ret, struct sfu_err *err) {
        struct sfu_varlink_server *s;
        struct sfu_control_socket sock;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->cmds = cmds;
        s->event = sd_event_ref(event);
        s->listen_fd = -1;
        r = sfu_control_socket_open(runtime_dir, &sock, err);
        if (r < 0) {
                sfu_varlink_server_free(s);
                return r;
        }
        s->listen_fd = sock.fd;
        s->path = sock.path;
        s->dev = sock.dev;
        s->ino = sock.ino;
        set_timeouts(s);
        if (sd_event_add_io(event, &s->listen_source, s->listen_fd, EPOLLIN, on_listen, s) < 0 ||
            sd_event_add_defer(event, &s->reaper, on_reaper, s) < 0 ||
            sd_event_add_time_relative(event, &s->sweeper, CLOCK_MONOTONIC, s->sweep_interval,
                                       s->sweep_interval / 4, on_sweep, s) < 0) {
                sfu_varlink_server_free(s);
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "cannot watch the control socket");
        }
        (void) sd_event_source_set_enabled(s->reaper, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(s->sweeper, SD_EVENT_OFF);
        log_info("control socket: %s", s->path ? s->path : "passed by systemd");
        *ret = s;
        return 0;
}

void sfu_varlink_server_free(struct sfu_varlink_server *s) {
        struct stat st;

        if (!s)
                return;
        while (s->clients)
                client_kill(s->clients, NULL);
        on_reaper(NULL, s);
        sd_event_source_disable_unref(s->listen_source);
        sd_event_source_disable_unref(s->reaper);
        sd_event_source_disable_unref(s->sweeper);
        if (s->listen_fd >= 0)
                close(s->listen_fd);
        /* Remove the socket only if it is still the one bound here. */
        if (s->path && lstat(s->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == s->dev &&
            st.st_ino == s->ino)
                (void) unlink(s->path);
        free(s->path);
        sd_event_unref(s->event);
        free(s);
}
