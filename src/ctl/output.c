/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <time.h>

#include "core/macro.h"
#include "ctl/output.h"

#define BAR_MIN 10u             /* cells of the bar at the least */
#define BAR_MAX 40u
#define LINE_MAX_WIDTH 200u

static int max_int(int a, int b) {
        return a > b ? a : b;
}

void sfu_ctl_format_bytes(double bytes, char *buf, size_t size) {
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        size_t u = 0;

        while (bytes >= 1024 && u + 1 < ELEMENTSOF(units)) {
                bytes /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, size, "%.0f B", bytes);
        else
                snprintf(buf, size, "%.1f %s", bytes, units[u]);
}

static const char *str(json_t *obj, const char *key) {
        const char *v = json_string_value(json_object_get(obj, key));
        return v && v[0] ? v : "-";
}

static uint64_t u64(json_t *obj, const char *key) {
        json_int_t v = json_integer_value(json_object_get(obj, key));
        return v > 0 ? (uint64_t) v : 0;
}

static void line(FILE *f, const char *key, const char *fmt, ...) _printf_(3, 4);
static void line(FILE *f, const char *key, const char *fmt, ...) {
        va_list ap;
        fprintf(f, "%-19s ", key);
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
        fputc('\n', f);
}

static void progress_text(json_t *progress, char *buf, size_t size) {
        char done[32], total[32], rate[32];
        uint64_t d = u64(progress, "done"), t = u64(progress, "total");
        double r = json_number_value(json_object_get(progress, "rate"));

        sfu_ctl_format_bytes((double) d, done, sizeof(done));
        sfu_ctl_format_bytes((double) t, total, sizeof(total));
        sfu_ctl_format_bytes(r, rate, sizeof(rate));
        json_t *fetched_v = json_object_get(progress, "fetched");
        char fetched[48] = "";

        if (json_is_integer(fetched_v)) {
                char f[32];
                sfu_ctl_format_bytes((double) json_integer_value(fetched_v), f, sizeof(f));
                snprintf(fetched, sizeof(fetched), ", %s fetched", f);
        }
        if (t > 0)
                snprintf(buf, size, "%s %s: %u%% (%s of %s%s, %s/s)", str(progress, "phase"), str(progress, "image"),
                         (unsigned) (d * 100 / t), done, total, fetched, rate);
        else
                snprintf(buf, size, "%s %s: %s (%s/s)", str(progress, "phase"), str(progress, "image"), done, rate);
}

void sfu_ctl_print_status(FILE *f, json_t *status) {
        json_t *seen = json_object_get(status, "newestSeen");
        json_t *progress = json_object_get(status, "progress");
        json_t *error = json_object_get(status, "lastError");
        json_t *slots = json_object_get(status, "slots");
        json_t *slot;
        size_t i;
        int w_class = 5, w_boot = 8, w_version = 7, w_health = 6;

        line(f, "state:", "%s", str(status, "state"));
        line(f, "reason:", "%s", str(status, "reason"));
        if (json_is_false(json_object_get(status, "stateUsable")))
                line(f, "state file:", "UNUSABLE: installs are refused until it is repaired");
        line(f, "booted slot:", "%s", str(status, "bootedSlot"));
        line(f, "primary slot:", "%s", str(status, "primarySlot"));
        line(f, "running version:", "%s", str(status, "runningVersion"));
        line(f, "available version:", "%s", str(status, "availableVersion"));
        line(f, "staged version:", "%s", str(status, "stagedVersion"));
        line(f, "highest installed:", "%s", str(status, "highestInstalled"));
        line(f, "rollback floor:", "%s", str(status, "rollbackFloor"));
        line(f, "last check:", "%s", str(status, "lastCheck"));
        if (json_is_object(seen)) {
                line(f, "newest seen:", "%s (%s, from %s)", str(seen, "version"), str(seen, "timestamp"),
                     str(seen, "source"));
                if (json_is_string(json_object_get(seen, "format")))
                        line(f, "signed as:", "%s, %s", str(seen, "format"), str(seen, "algorithms"));
        }
        else
                line(f, "newest seen:", "-");
        if (json_is_object(progress)) {
                char text[256];
                progress_text(progress, text, sizeof(text));
                line(f, "progress:", "%s", text);
        } else
                line(f, "progress:", "-");
        if (json_is_object(error))
                line(f, "last error:", "%s: %s", str(error, "code"), str(error, "message"));
        else
                line(f, "last error:", "-");

        if (!json_is_array(slots) || json_array_size(slots) == 0)
                return;
        json_array_foreach(slots, i, slot) {
                w_class = max_int(w_class, (int) strlen(str(slot, "class")));
                w_boot = max_int(w_boot, (int) strlen(str(slot, "bootname")));
                w_version = max_int(w_version, (int) strlen(str(slot, "version")));
                w_health = max_int(w_health, (int) strlen(str(slot, "health")));
        }
        fprintf(f, "slots:\n");
        fprintf(f, "  %-*s  %-*s  %-*s  %-*s  %-6s  %s\n", w_class, "CLASS", w_boot, "BOOTNAME", w_version, "VERSION",
                w_health, "HEALTH", "BOOTED", "DEVICE");
        json_array_foreach(slots, i, slot)
                fprintf(f, "  %-*s  %-*s  %-*s  %-*s  %-6s  %s\n", w_class, str(slot, "class"), w_boot,
                        str(slot, "bootname"), w_version, str(slot, "version"), w_health, str(slot, "health"),
                        json_is_true(json_object_get(slot, "booted")) ? "yes" : "no", str(slot, "device"));
}

void sfu_ctl_print_json(FILE *f, json_t *j, bool one_line) {
        (void) json_dumpf(j, f, one_line ? JSON_COMPACT : JSON_INDENT(2));
        fputc('\n', f);
        fflush(f);
}

void sfu_ctl_print_event(FILE *f, json_t *event) {
        json_t *status = json_object_get(event, "status");
        json_t *progress = json_object_get(status, "progress");
        const char *kind = str(event, "event");
        char stamp[16] = "", text[256];
        time_t now = time(NULL);
        struct tm tm;

        if (localtime_r(&now, &tm))
                strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
        if (strcmp(kind, "progress") == 0 && json_is_object(progress)) {
                progress_text(progress, text, sizeof(text));
                fprintf(f, "%s progress: %s\n", stamp, text);
        } else
                fprintf(f, "%s %s: %s (%s)\n", stamp, kind, str(status, "state"), str(status, "reason"));
        fflush(f);
}

/* ---------------------------------------------------------------- progress */

void sfu_ctl_progress_init(struct sfu_ctl_progress *p, FILE *f, bool tty) {
        struct winsize ws;

        *p = (struct sfu_ctl_progress) { .f = f, .tty = tty, .width = 80, .last_decile = -1 };
        if (tty && ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
                p->width = ws.ws_col < LINE_MAX_WIDTH ? ws.ws_col : LINE_MAX_WIDTH;
}

static void format_eta(double seconds, char *buf, size_t size) {
        unsigned long s;

        if (!(seconds >= 0) || seconds > 99 * 3600) {
                snprintf(buf, size, "--:--");
                return;
        }
        s = (unsigned long) seconds;
        if (s >= 3600)
                snprintf(buf, size, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
        else
                snprintf(buf, size, "%lu:%02lu", s / 60, s % 60);
}

void sfu_ctl_progress_update(struct sfu_ctl_progress *p, json_t *status) {
        json_t *progress = json_object_get(status, "progress");
        const char *phase;
        char done[32], total[32], rate[32], eta[32], tail[160], bar[BAR_MAX + 1], fetched[48];
        uint64_t d, t;
        double r;
        unsigned pct, cells, filled;
        int tail_len;

        if (!json_is_object(progress))
                return;
        phase = str(progress, "phase");
        d = u64(progress, "done");
        t = u64(progress, "total");
        r = json_number_value(json_object_get(progress, "rate"));
        pct = t > 0 ? (unsigned) (d >= t ? 100 : d * 100 / t) : 0;
        fetched[0] = 0;
        if (json_is_integer(json_object_get(progress, "fetched"))) {
                char f[32];
                sfu_ctl_format_bytes((double) json_integer_value(json_object_get(progress, "fetched")), f, sizeof(f));
                snprintf(fetched, sizeof(fetched), ", %s fetched", f);
        }
        if (strcmp(phase, p->phase) != 0) {
                snprintf(p->phase, sizeof(p->phase), "%s", phase);
                p->last_decile = -1;
        }
        sfu_ctl_format_bytes((double) d, done, sizeof(done));
        sfu_ctl_format_bytes((double) t, total, sizeof(total));

        if (!p->tty) {
                int decile = (int) (pct / 10);
                if (decile <= p->last_decile)
                        return;
                p->last_decile = decile;
                fprintf(p->f, "%s: %u%% (%s of %s%s)\n", phase, decile * 10, done, total, fetched);
                fflush(p->f);
                return;
        }

        sfu_ctl_format_bytes(r, rate, sizeof(rate));
        format_eta(r > 0 && t > d ? (double) (t - d) / r : (t > 0 && d >= t ? 0 : -1), eta, sizeof(eta));
        tail_len = snprintf(tail, sizeof(tail), " %3u%%  %s / %s%s  %s/s  ETA %s", pct, done, total, fetched, rate, eta);
        /* "phase [bar]tail" in the terminal's width */
        cells = p->width > (unsigned) tail_len + 16 ? p->width - (unsigned) tail_len - 16 : 0;
        if (cells > BAR_MAX)
                cells = BAR_MAX;
        if (cells < BAR_MIN)
                cells = 0;
        filled = cells * pct / 100;
        for (unsigned i = 0; i < cells; i++)
                bar[i] = i < filled ? '#' : '.';
        bar[cells] = 0;
        if (cells > 0)
                fprintf(p->f, "\r\033[K%-11s [%s]%s", phase, bar, tail);
        else
                fprintf(p->f, "\r\033[K%-11s%s", phase, tail);
        fflush(p->f);
        p->drawn = true;
}

void sfu_ctl_progress_finish(struct sfu_ctl_progress *p) {
        if (p->tty && p->drawn) {
                fputc('\n', p->f);
                fflush(p->f);
        }
        p->drawn = false;
}
