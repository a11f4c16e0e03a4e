/* SPDX-License-Identifier: MIT */
/* The caller-owned error record.  The first failure writes it; callers
 * above may only add context in front of the message.  One table maps each
 * code to its name, the Varlink and D-Bus error names and secfuctl's exit
 * code. */
#pragma once

#include "core/macro.h"

enum sfu_err_code {
        SFU_ERR_NONE = 0,
        SFU_ERR_SIGNATURE,      /* manifest signature or trust */
        SFU_ERR_POLICY,         /* valid but not acceptable: version, model, expiry, replay */
        SFU_ERR_PARSE,          /* malformed input: JSON, JWS, config, state */
        SFU_ERR_DIGEST,         /* image digest mismatch */
        SFU_ERR_SIZE,           /* something larger than allowed */
        SFU_ERR_NETWORK,        /* transport */
        SFU_ERR_STORAGE,        /* slot or file I/O */
        SFU_ERR_STATE,          /* persistent state unusable, or wrong state for the request */
        SFU_ERR_TRIAL,          /* trial boot failed / rolled back */
        SFU_ERR_BUSY,           /* another operation is running */
        SFU_ERR_DENIED,         /* caller not permitted */
        _SFU_ERR_MAX,
};

#define SFU_ERR_MESSAGE_MAX 320

struct sfu_err {
        enum sfu_err_code code;
        int errnum;                     /* positive errno, 0 if none */
        char message[SFU_ERR_MESSAGE_MAX];
};

#define SFU_ERR_INIT { .code = SFU_ERR_NONE }

/* Records the failure in err (if err is non-NULL and still empty) and
 * returns -errnum (or -EINVAL when errnum is 0), so that callers can write
 * `return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "...")`. */
int sfu_err_set(struct sfu_err *err, enum sfu_err_code code, int errnum, const char *fmt, ...)
        _printf_(4, 5);

/* Prepends "context: " to an already recorded message. */
void sfu_err_prefix(struct sfu_err *err, const char *fmt, ...) _printf_(2, 3);

void sfu_err_clear(struct sfu_err *err);

/* Makes text one line of printable text in place: every ASCII control
 * character (a newline, an escape sequence's ESC, DEL) becomes "\xNN",
 * truncated to size.  Error messages pass through it, since they quote
 * untrusted input, and so do log lines. */
void sfu_text_one_line(char *text, size_t size);

/* An untrusted string (len bytes, not necessarily NUL-terminated) quoted
 * for a one-line message: at most SFU_QUOTE_MAX characters then "...",
 * anything but printable ASCII (and '"', '\\') as '?'. Returns buf. */
#define SFU_QUOTE_MAX 80
const char *sfu_quote(const char *s, size_t len, char buf[static SFU_QUOTE_MAX + 4]);
static inline bool sfu_err_isset(const struct sfu_err *err) { return err && err->code != SFU_ERR_NONE; }

const char *sfu_err_code_name(enum sfu_err_code code);          /* "signature", ... */
int sfu_err_code_from_name(const char *name, enum sfu_err_code *ret);
const char *sfu_err_code_varlink(enum sfu_err_code code);       /* org.secfu.Daemon.X */
const char *sfu_err_code_dbus(enum sfu_err_code code);          /* org.secfu.Daemon1.Error.X */
int sfu_err_code_exit_status(enum sfu_err_code code);           /* secfuctl exit code */
