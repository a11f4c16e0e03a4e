/* SPDX-License-Identifier: MIT */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/macro.h"
#include "io/fault.h"

#ifdef SFU_FAULT_INJECTION
int sfu_fault(const char *point) {
        static unsigned hits;
        const char *spec = getenv("SFU_FAULT");
        char name[128], action[16];
        unsigned count = 1;

        if (!spec || sscanf(spec, "%127[^:]:%15[^:]:%u", name, action, &count) < 2)
                return 0;
        if (strcmp(name, point) != 0 || ++hits != count)
                return 0;
        if (strcmp(action, "kill") == 0)
                raise(SIGKILL);
        if (strcmp(action, "pause") == 0)
                raise(SIGSTOP);
        if (strcmp(action, "hold") == 0) {
                struct timespec ts = { SFU_FAULT_HOLD_MS / 1000, (SFU_FAULT_HOLD_MS % 1000) * 1000000L };
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
        }
        if (strcmp(action, "enospc") == 0)
                return -ENOSPC;
        if (strcmp(action, "eio") == 0)
                return -EIO;
        return 0;
}
#endif
