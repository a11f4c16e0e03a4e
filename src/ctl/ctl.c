/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include "ctl/ctl.h"

int sfu_ctl_fail(struct sfu_ctl_failure *f, int exit_status, const char *fmt, ...) {
        va_list ap;

        if (f->exit_status != SFU_CTL_EXIT_OK)
                return -1;
        f->exit_status = exit_status;
        va_start(ap, fmt);
        vsnprintf(f->message, sizeof(f->message), fmt, ap);
        va_end(ap);
        return -1;
}

int sfu_ctl_exit_status_for(const char *error_name, const char *code) {
        enum sfu_err_code c;

        if (code && sfu_err_code_from_name(code, &c) >= 0 && c != SFU_ERR_NONE)
                return sfu_err_code_exit_status(c);
        for (int i = SFU_ERR_NONE + 1; i < _SFU_ERR_MAX; i++)
                if (sfu_streq(error_name, sfu_err_code_varlink((enum sfu_err_code) i)) ||
                    sfu_streq(error_name, sfu_err_code_dbus((enum sfu_err_code) i)))
                        return sfu_err_code_exit_status((enum sfu_err_code) i);
        if (sfu_streq(error_name, "org.freedesktop.DBus.Error.AccessDenied") ||
            sfu_streq(error_name, "org.varlink.service.PermissionDenied"))
                return SFU_CTL_EXIT_DENIED;
        return SFU_CTL_EXIT_FAILED;
}
