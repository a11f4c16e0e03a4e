/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the control socket's request decoder (core/varlink.c)
 * on an arbitrary byte stream, split into messages by the framing the
 * daemon uses.  Every message is decoded as a call (what secfud does) and
 * as a reply (what secfuctl does); whatever decodes must re-encode to a
 * message that decodes to the same thing, and every refusal explains
 * itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/varlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct sfu_varlink_param apply_params[] = {
        { "source", SFU_VARLINK_STRING },
        { "allowDowngrade", SFU_VARLINK_BOOL },
        { "wait", SFU_VARLINK_BOOL },
        { "reboot", SFU_VARLINK_BOOL },
        { "count", SFU_VARLINK_INT },
};

static void check_call(const char *msg, size_t len) {
        struct sfu_varlink_call call = {}, again = {};
        struct sfu_err err = SFU_ERR_INIT;
        char iface[SFU_VARLINK_NAME_MAX + 1], *out = NULL;
        const char *member = NULL, *bad = NULL;
        size_t out_size = 0;

        if (sfu_varlink_call_decode(msg, len, &call, &err) < 0) {
                if (err.code == SFU_ERR_NONE || !err.message[0] || call.method || call.parameters)
                        abort();
                return;
        }
        if (!sfu_varlink_name_valid(call.method) || !json_is_object(call.parameters) || (call.more && call.oneway))
                abort();
        if (sfu_varlink_name_split(call.method, iface, sizeof(iface), &member) < 0 || !member[0] ||
            strlen(iface) + 1 + strlen(member) != strlen(call.method))
                abort();
        if (sfu_varlink_params_check(call.parameters, apply_params, sizeof(apply_params) / sizeof(apply_params[0]),
                                     &bad) < 0 &&
            !bad)
                abort();
        if (sfu_varlink_call_encode(call.method, call.parameters, call.more, call.oneway, &out, &out_size) < 0)
                abort();
        if (out_size == 0 || out[out_size - 1] != 0 || strlen(out) != out_size - 1)
                abort();
        /* What the daemon would write is at most what it would read back
         * (plus escaping), and decodes to the same call. */
        if (out_size - 1 <= SFU_VARLINK_MESSAGE_MAX) {
                sfu_err_clear(&err);
                if (sfu_varlink_call_decode(out, out_size - 1, &again, &err) < 0 ||
                    strcmp(again.method, call.method) != 0 || !json_equal(again.parameters, call.parameters) ||
                    again.more != call.more || again.oneway != call.oneway)
                        abort();
                sfu_varlink_call_done(&again);
        }
        free(out);
        sfu_varlink_call_done(&call);
}

static void check_reply(const char *msg, size_t len) {
        struct sfu_varlink_reply reply = {}, again = {};
        struct sfu_err err = SFU_ERR_INIT;
        char *out = NULL;
        size_t out_size = 0;

        if (sfu_varlink_reply_decode(msg, len, &reply, &err) < 0) {
                if (err.code == SFU_ERR_NONE || !err.message[0] || reply.error || reply.parameters)
                        abort();
                return;
        }
        if (!json_is_object(reply.parameters) || (reply.error && reply.continues))
                abort();
        if (sfu_varlink_reply_encode(reply.error, reply.parameters, reply.continues, &out, &out_size) < 0)
                abort();
        sfu_err_clear(&err);
        if (sfu_varlink_reply_decode(out, out_size - 1, &again, &err) < 0 ||
            !json_equal(again.parameters, reply.parameters) || again.continues != reply.continues ||
            (reply.error != NULL) != (again.error != NULL) || (reply.error && strcmp(reply.error, again.error) != 0))
                abort();
        sfu_varlink_reply_done(&again);
        free(out);
        sfu_varlink_reply_done(&reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *buf = (const char *) data;
        size_t off = 0;

        while (off < size) {
                size_t len = 0;
                int r = sfu_varlink_frame(buf + off, size - off, SFU_VARLINK_MESSAGE_MAX, &len);
                if (r < 0) {
                        if (size - off <= SFU_VARLINK_MESSAGE_MAX)
                                abort();
                        break;
                }
                if (r == 0) {
                        /* The daemon waits for the rest; decode what is
                         * there as if it were whole. */
                        check_call(buf + off, size - off);
                        break;
                }
                if (len > size - off - 1 || buf[off + len] != 0 || memchr(buf + off, 0, len))
                        abort();
                check_call(buf + off, len);
                check_reply(buf + off, len);
                off += len + 1;
        }
        return 0;
}
