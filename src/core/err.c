/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include "core/err.h"

static const struct {
        const char *name;
        const char *varlink;
        const char *dbus;
        int exit_status;
} table[_SFU_ERR_MAX] = {
        [SFU_ERR_NONE] = { "none", NULL, NULL, 0 },
        [SFU_ERR_SIGNATURE] = { "signature", "org.secfu.Daemon.SignatureInvalid", "org.secfu.Daemon1.Error.Signature", 1 },
        [SFU_ERR_POLICY] = { "policy", "org.secfu.Daemon.PolicyRefused", "org.secfu.Daemon1.Error.Policy", 1 },
        [SFU_ERR_PARSE] = { "parse", "org.secfu.Daemon.ParseError", "org.secfu.Daemon1.Error.Parse", 1 },
        [SFU_ERR_DIGEST] = { "digest", "org.secfu.Daemon.DigestMismatch", "org.secfu.Daemon1.Error.Digest", 1 },
        [SFU_ERR_SIZE] = { "size", "org.secfu.Daemon.SizeExceeded", "org.secfu.Daemon1.Error.Size", 1 },
        [SFU_ERR_NETWORK] = { "network", "org.secfu.Daemon.NetworkError", "org.secfu.Daemon1.Error.Network", 1 },
        [SFU_ERR_STORAGE] = { "storage", "org.secfu.Daemon.StorageError", "org.secfu.Daemon1.Error.Storage", 1 },
        [SFU_ERR_STATE] = { "state", "org.secfu.Daemon.InvalidState", "org.secfu.Daemon1.Error.State", 1 },
        [SFU_ERR_TRIAL] = { "trial", "org.secfu.Daemon.TrialFailed", "org.secfu.Daemon1.Error.Trial", 1 },
        [SFU_ERR_BUSY] = { "busy", "org.secfu.Daemon.Busy", "org.secfu.Daemon1.Error.Busy", 1 },
        [SFU_ERR_DENIED] = { "denied", "org.secfu.Daemon.NotPermitted", "org.secfu.Daemon1.Error.NotPermitted", 4 },
};

const char *sfu_quote(const char *s, size_t len, char buf[static SFU_QUOTE_MAX + 4]) {
        size_t o = 0;
        for (size_t i = 0; s && i < len && o < SFU_QUOTE_MAX; i++) {
                unsigned char c = (unsigned char) s[i];
                buf[o++] = (c < 0x20 || c > 0x7e || c == '"' || c == '\\') ? '?' : (char) c;
        }
        if (s && len > SFU_QUOTE_MAX) {
                memcpy(buf + o, "...", 3);
                o += 3;
        }
        buf[o] = 0;
        return buf;
}

void sfu_text_one_line(char *text, size_t size) {
        char out[2048];
        size_t o = 0;

        if (size == 0)
                return;
        if (size > sizeof(out))
                size = sizeof(out);
        for (size_t i = 0; i < size && text[i]; i++) {
                unsigned char c = (unsigned char) text[i];
                if (c >= 0x20 && c != 0x7f) {
                        if (o + 1 >= size)
                                break;
                        out[o++] = (char) c;
                } else {
                        if (o + 4 >= size)
                                break;
                        o += (size_t) snprintf(out + o, size - o, "\\x%02x", c);
                }
        }
        out[o] = 0;
        memcpy(text, out, o + 1);
}

int sfu_err_set(struct sfu_err *err, enum sfu_err_code code, int errnum, const char *fmt, ...) {
        if (errnum < 0)
                errnum = -errnum;
        if (errnum == 0)
                errnum = EINVAL;
        if (err && err->code == SFU_ERR_NONE) {
                va_list ap;
                err->code = code;
                err->errnum = errnum;
                va_start(ap, fmt);
                vsnprintf(err->message, sizeof(err->message), fmt, ap);
                va_end(ap);
                sfu_text_one_line(err->message, sizeof(err->message));
        }
        return -errnum;
}

void sfu_err_prefix(struct sfu_err *err, const char *fmt, ...) {
        char prefix[SFU_ERR_MESSAGE_MAX], joined[SFU_ERR_MESSAGE_MAX];
        va_list ap;

        if (!err || err->code == SFU_ERR_NONE)
                return;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        snprintf(joined, sizeof(joined), "%s: %s", prefix, err->message);
        sfu_text_one_line(joined, sizeof(joined));
        memcpy(err->message, joined, sizeof(joined));
}

void sfu_err_clear(struct sfu_err *err) {
        if (err)
                *err = (struct sfu_err) SFU_ERR_INIT;
}

const char *sfu_err_code_name(enum sfu_err_code code) {
        if ((unsigned) code >= _SFU_ERR_MAX)
                return "unknown";
        return table[code].name;
}

int sfu_err_code_from_name(const char *name, enum sfu_err_code *ret) {
        for (size_t i = 0; i < _SFU_ERR_MAX; i++)
                if (sfu_streq(table[i].name, name)) {
                        *ret = (enum sfu_err_code) i;
                        return 0;
                }
        return -ENOENT;
}

const char *sfu_err_code_varlink(enum sfu_err_code code) {
        if ((unsigned) code >= _SFU_ERR_MAX || code == SFU_ERR_NONE)
                return "org.secfu.Daemon.Failed";
        return table[code].varlink;
}

const char *sfu_err_code_dbus(enum sfu_err_code code) {
        if ((unsigned) code >= _SFU_ERR_MAX || code == SFU_ERR_NONE)
                return "org.secfu.Daemon1.Error.Failed";
        return table[code].dbus;
}

int sfu_err_code_exit_status(enum sfu_err_code code) {
        if ((unsigned) code >= _SFU_ERR_MAX)
                return 1;
        return table[code].exit_status;
}
