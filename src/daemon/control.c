/* SPDX-License-Identifier: MIT */
#include "daemon/control.h"
#include "daemon/log.h"

struct sfu_control {
        struct sfu_commands *commands;
        struct sfu_varlink_server *varlink;
        struct sfu_dbus_service *dbus;
};

int sfu_control_new(struct sfu_manager *m, sd_event *event, struct sfu_control **ret, struct sfu_err *err) {
        const struct sfu_config *config = sfu_manager_config(m);
        struct sfu_err bus_err = SFU_ERR_INIT;
        struct sfu_control *c;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        r = sfu_commands_new(m, event, &c->commands);
        if (r < 0) {
                sfu_control_free(c);
                return sfu_err_set(err, SFU_ERR_STATE, r, "cannot set up the control commands: %s", strerror(-r));
        }
        r = sfu_varlink_server_new(c->commands, event, config->runtime_dir, &c->varlink, err);
        if (r < 0) {
                sfu_control_free(c);
                return r;
        }
        /* D-Bus is optional: a device without a system bus is still
         * controlled through the socket. */
        if (sfu_dbus_service_new(c->commands, m, event, &c->dbus, &bus_err) < 0)
                log_info("D-Bus interface not available (%s); continuing with the control socket only",
                         bus_err.message);
        else
                log_info("D-Bus interface: org.secfu.Daemon1 on the system bus");
        *ret = c;
        return 0;
}

void sfu_control_free(struct sfu_control *c) {
        if (!c)
                return;
        /* The adapters first: their peers' calls are told they are gone,
         * and the command handlers drop them. */
        sfu_varlink_server_free(c->varlink);
        sfu_commands_free(c->commands);
        sfu_dbus_service_free(c->dbus);
        free(c);
}
