/* SPDX-License-Identifier: MIT */
/* The control plane of secfud (doc/control.md): the Varlink server on
 * <runtime-dir>/secfud.sock and, when a system bus is there, the D-Bus
 * service org.secfu.Daemon1.  Both adapters dispatch through the one
 * command table of daemon/commands.h. */
#pragma once
#include <systemd/sd-event.h>

#include "core/err.h"
#include "daemon/commands.h"
#include "daemon/manager.h"

/* The socket's name inside config->runtime_dir. */
#define SFU_CONTROL_SOCKET_NAME "secfud.sock"

struct sfu_control;

/* Sets up the socket (a failure is fatal: err says why) and D-Bus (a
 * missing bus is logged once at info level and is not an error). */
int sfu_control_new(struct sfu_manager *m, sd_event *event, struct sfu_control **ret, struct sfu_err *err) _wur_;
void sfu_control_free(struct sfu_control *c);

/* ---- the adapters, for control.c ---- */

/* Caps of the Varlink server. */
#define SFU_VARLINK_MAX_CLIENTS 64              /* connections at once */
#define SFU_VARLINK_MAX_CLIENTS_PER_UID 16      /* of one non-root uid */
#define SFU_VARLINK_ROOT_RESERVE 8              /* of MAX_CLIENTS, for root only: root always gets in */
#define SFU_VARLINK_REQUEST_TIMEOUT_USEC (10u * 1000000u)      /* a request must be complete within */
#define SFU_VARLINK_IDLE_TIMEOUT_USEC (60u * 1000000u)         /* a connection with nothing to do is closed */
#define SFU_VARLINK_OUTPUT_MAX (1024u * 1024u)  /* bytes queued to a client that does not read */
#define SFU_VARLINK_MAX_GROUPS 65536u           /* supplementary groups of a peer */

struct sfu_varlink_server;

/* Listens on the socket that systemd passed (sd_listen_fds), else binds
 * runtime_dir/secfud.sock (mode 0666; runtime_dir is created 0755 when
 * missing). A stale socket there is replaced; anything else there (a
 * symlink, a file, a live secfud's socket) is refused. */
int sfu_varlink_server_new(struct sfu_commands *cmds, sd_event *event, const char *runtime_dir,
                           struct sfu_varlink_server **ret, struct sfu_err *err) _wur_;
void sfu_varlink_server_free(struct sfu_varlink_server *s);

struct sfu_dbus_service;

/* Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS honoured), exports
 * /org/secfu/Daemon1 and takes the name org.secfu.Daemon1. -errno when
 * there is no bus or the name cannot be had; the caller logs. */
int sfu_dbus_service_new(struct sfu_commands *cmds, struct sfu_manager *m, sd_event *event,
                         struct sfu_dbus_service **ret, struct sfu_err *err) _wur_;
void sfu_dbus_service_free(struct sfu_dbus_service *s);
