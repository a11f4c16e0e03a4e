/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "core/err.h"
#include "tap.h"

int main(void) {
        struct sfu_err err = SFU_ERR_INIT;
        char long_text[2 * SFU_ERR_MESSAGE_MAX];
        enum sfu_err_code code = SFU_ERR_NONE;
        int r;

        ok(!sfu_err_isset(&err) && !sfu_err_isset(NULL), "a fresh record is not set");

        r = sfu_err_set(&err, SFU_ERR_PARSE, EBADMSG, "bad %s at %d", "thing", 7);
        is_int(r, -EBADMSG, "set returns -errnum");
        ok(sfu_err_isset(&err) && err.code == SFU_ERR_PARSE && err.errnum == EBADMSG, "code and errnum recorded");
        is_str(err.message, "bad thing at 7", "message formatted");

        r = sfu_err_set(&err, SFU_ERR_DIGEST, EIO, "second");
        ok(r == -EIO && err.code == SFU_ERR_PARSE && strcmp(err.message, "bad thing at 7") == 0,
           "the first failure wins; a later one only returns its errno");

        sfu_err_prefix(&err, "manifest %s", "x.json");
        is_str(err.message, "manifest x.json: bad thing at 7", "prefix adds context in front");

        sfu_err_clear(&err);
        ok(!sfu_err_isset(&err) && err.message[0] == 0 && err.errnum == 0, "clear empties the record");
        sfu_err_prefix(&err, "context");
        ok(err.message[0] == 0 && !sfu_err_isset(&err), "prefix on an empty record does nothing");

        is_int(sfu_err_set(&err, SFU_ERR_SIZE, 0, "zero errno"), -EINVAL, "errnum 0 becomes EINVAL");
        is_int(err.errnum, EINVAL, "recorded errnum EINVAL");
        sfu_err_clear(&err);
        is_int(sfu_err_set(&err, SFU_ERR_SIZE, -E2BIG, "negative"), -E2BIG, "a negative errnum is accepted too");
        is_int(err.errnum, E2BIG, "recorded as positive");
        is_int(sfu_err_set(NULL, SFU_ERR_SIZE, ENOSPC, "nowhere"), -ENOSPC, "NULL record: just the return value");

        sfu_err_clear(&err);
        memset(long_text, 'x', sizeof(long_text) - 1);
        long_text[sizeof(long_text) - 1] = 0;
        (void) sfu_err_set(&err, SFU_ERR_PARSE, EINVAL, "%s", long_text);
        ok(strlen(err.message) == SFU_ERR_MESSAGE_MAX - 1, "a long message is cut to the buffer");
        sfu_err_prefix(&err, "ctx");
        ok(strlen(err.message) == SFU_ERR_MESSAGE_MAX - 1 && strncmp(err.message, "ctx: xxx", 8) == 0,
           "prefix on a full message keeps the prefix and stays terminated");

        /* untrusted text in a message stays on one line */
        sfu_err_clear(&err);
        (void) sfu_err_set(&err, SFU_ERR_PARSE, EINVAL, "bad kid \"%s\"", "a\n<0>forged\r\x1b[31mred\x7f\t");
        is_str(err.message, "bad kid \"a\\x0a<0>forged\\x0d\\x1b[31mred\\x7f\\x09\"",
               "newline, CR, ESC, DEL and tab are shown as \\xNN");
        sfu_err_prefix(&err, "from %s", "x\ny");
        ok(strncmp(err.message, "from x\\x0ay: bad kid", 20) == 0, "a prefix is made one line too (%s)", err.message);
        sfu_err_clear(&err);
        (void) sfu_err_set(&err, SFU_ERR_PARSE, EINVAL, "ünïcode ✓ stays");
        is_str(err.message, "ünïcode ✓ stays", "UTF-8 text is left alone");
        sfu_err_clear(&err);
        memset(long_text, '\n', sizeof(long_text) - 1);
        long_text[sizeof(long_text) - 1] = 0;
        (void) sfu_err_set(&err, SFU_ERR_PARSE, EINVAL, "%s", long_text);
        ok(strlen(err.message) < SFU_ERR_MESSAGE_MAX && strlen(err.message) % 4 == 0 && !strchr(err.message, '\n'),
           "a message of newlines is escaped whole escapes only, within the buffer (%zu)", strlen(err.message));
        {
                char small[6] = "ab\ncd";
                sfu_text_one_line(small, sizeof(small));
                is_str(small, "ab", "an escape that does not fit is left out, not cut");
        }

        /* the code table */
        for (int c = 0; c < _SFU_ERR_MAX; c++) {
                const char *name = sfu_err_code_name(c);
                ok(name && sfu_err_code_from_name(name, &code) == 0 && code == (enum sfu_err_code) c,
                   "code %d: name \"%s\" maps back", c, name ? name : "(null)");
        }
        for (int c = 1; c < _SFU_ERR_MAX; c++) {
                const char *v = sfu_err_code_varlink(c), *d = sfu_err_code_dbus(c);
                ok(v && strncmp(v, "org.secfu.Daemon.", 17) == 0 && d && strncmp(d, "org.secfu.Daemon1.Error.", 24) == 0,
                   "code %s: varlink %s, dbus %s", sfu_err_code_name(c), v ? v : "(null)", d ? d : "(null)");
        }
        is_str(sfu_err_code_name(SFU_ERR_SIGNATURE), "signature", "signature name (DESIGN 6)");
        is_str(sfu_err_code_name(SFU_ERR_DENIED), "denied", "denied name (DESIGN 6)");
        is_str(sfu_err_code_varlink(SFU_ERR_DENIED), "org.secfu.Daemon.NotPermitted", "denied varlink error (DESIGN 6)");
        is_int(sfu_err_code_exit_status(SFU_ERR_DENIED), 4, "denied exits 4 (DESIGN 1)");
        is_int(sfu_err_code_exit_status(SFU_ERR_PARSE), 1, "parse exits 1");
        is_int(sfu_err_code_exit_status(SFU_ERR_NONE), 0, "none exits 0");
        is_str(sfu_err_code_name(_SFU_ERR_MAX), "unknown", "out-of-range name");
        is_str(sfu_err_code_varlink(SFU_ERR_NONE), "org.secfu.Daemon.Failed", "none maps to the generic varlink error");
        is_str(sfu_err_code_dbus(_SFU_ERR_MAX), "org.secfu.Daemon1.Error.Failed", "out-of-range dbus error");
        is_int(sfu_err_code_exit_status(_SFU_ERR_MAX), 1, "out-of-range exits 1");
        code = SFU_ERR_TRIAL;
        ok(sfu_err_code_from_name("nope", &code) == -ENOENT && code == SFU_ERR_TRIAL, "unknown name: ENOENT, untouched");
        ok(sfu_err_code_from_name(NULL, &code) == -ENOENT, "NULL name: ENOENT");
        return tap_done();
}
