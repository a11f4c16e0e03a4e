/* SPDX-License-Identifier: MIT */
/* secfuctl --dbus: the same commands through org.secfu.Daemon1 on the
 * system bus (DBUS_SYSTEM_BUS_ADDRESS honoured).  Methods answer with the
 * reply's JSON as a string; apply's progress and monitor follow
 * PropertiesChanged. */
#pragma once
#include <signal.h>
#include <systemd/sd-bus.h>

#include "ctl/ctl.h"
#include "ctl/output.h"

/* Bytes of a JSON reply accepted from the daemon. */
#define SFU_CTL_BUS_REPLY_MAX (16u * 1024u * 1024u)

int sfu_ctl_bus_open(sd_bus **ret, struct sfu_ctl_failure *f);

/* Calls a method (Status, Check, Apply, ApplyFile, Cancel, Rollback,
 * MarkGood, MarkBad) with the parameters of the Varlink call (Apply:
 * source, allowDowngrade, wait, reboot; ApplyFile: fd passed as its 'h',
 * allowDowngrade, wait, reboot; Rollback: reboot); *ret: the reply's
 * parameters. With progress, shows the Progress property while the call
 * runs. */
int sfu_ctl_bus_call(sd_bus *bus, const char *method, json_t *params, int fd, struct sfu_ctl_progress *progress,
                     json_t **ret, struct sfu_ctl_failure *f);

/* Prints the properties, then every PropertiesChanged, until *stop. */
int sfu_ctl_bus_monitor(sd_bus *bus, bool json, volatile sig_atomic_t *stop, struct sfu_ctl_failure *f);
