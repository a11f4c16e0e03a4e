/* SPDX-License-Identifier: MIT */
/* The Varlink wire format (core/varlink.c): framing, call and reply
 * decoding and encoding, the parameter schema; and secfuctl's client
 * (ctl/varlink-client.c) reassembling replies that arrive in pieces. */
#include <string.h>
#include <sys/socket.h>

#include "core/json.h"
#include "core/varlink.h"
#include "ctl/varlink-client.h"
#include "tap.h"

static void frame_case(const char *buf, size_t len, size_t max, int want_r, size_t want_len, const char *name) {
        size_t got = 12345;
        int r = sfu_varlink_frame(buf, len, max, &got);
        ok(r == want_r && (r != 1 || got == want_len) && (r == 1 || got == 12345), "frame: %s (r=%d len=%zu)", name,
           r, got);
}

static void test_frame(void) {
        static const char two[] = "{\"a\":1}\0{\"b\":2}";
        char big[70000];

        frame_case("", 0, 100, 0, 0, "empty buffer needs more");
        frame_case("{\"a\"", 4, 100, 0, 0, "no NUL yet needs more");
        frame_case(two, sizeof(two) - 1, 100, 1, 7, "first of two messages");
        frame_case(two + 8, 7, 100, 0, 0, "second without its NUL needs more");
        frame_case("\0", 1, 100, 1, 0, "an empty message is a message (decode refuses it)");
        memset(big, 'x', sizeof(big));
        frame_case(big, 100, 100, 0, 0, "exactly max bytes without NUL may still end");
        frame_case(big, 101, 100, -EMSGSIZE, 0, "max + 1 bytes without NUL is too big");
        big[100] = 0;
        frame_case(big, 101, 100, 1, 100, "a message of exactly max bytes");
        big[100] = 'x';
        big[101] = 0;
        frame_case(big, 102, 100, -EMSGSIZE, 0, "a message of max + 1 bytes is too big even with its NUL");
        big[101] = 'x';
        big[SFU_VARLINK_MESSAGE_MAX] = 0;
        frame_case(big, sizeof(big), SFU_VARLINK_MESSAGE_MAX, 1, SFU_VARLINK_MESSAGE_MAX,
                   "the protocol cap: 64 KiB is accepted");
}

static void test_names(void) {
        static const char *const good[] = {
                "org.secfu.Daemon.Status", "org.varlink.service.GetInfo", "a.b.C", "io.sys-temd.Foo2.Bar9",
                "x1.y.Method",
        };
        static const char *const bad[] = {
                "", "Status", "org.Status.", "org..secfu.Status", ".org.secfu.Status", "org.secfu.status",
                "org.secfu.Sta-tus", "org.-secfu.Status", "org.secfu-.Status", "1org.secfu.Status",
                "org.secfu.Status ", "org secfu.Status", "org.secfu.Daemon.Stätus", "a.B",
        };
        char iface[64], tiny[4];
        const char *member = NULL;
        char longname[300];

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                ok(sfu_varlink_name_valid(good[i]), "name valid: %s", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ok(!sfu_varlink_name_valid(bad[i]), "name invalid: \"%s\"", bad[i]);
        ok(!sfu_varlink_name_valid(NULL), "NULL is no name");
        memset(longname, 'a', sizeof(longname));
        memcpy(longname + sizeof(longname) - 8, ".b.Cdef", 8);
        ok(!sfu_varlink_name_valid(longname), "a name over %u bytes is refused", SFU_VARLINK_NAME_MAX);

        ok(sfu_varlink_name_split("org.secfu.Daemon.Status", iface, sizeof(iface), &member) == 0 &&
                   strcmp(iface, "org.secfu.Daemon") == 0 && strcmp(member, "Status") == 0,
           "split into interface and member");
        ok(sfu_varlink_name_split("org.secfu.Daemon.Status", tiny, sizeof(tiny), &member) == -ENAMETOOLONG,
           "split refuses a small interface buffer");
        ok(sfu_varlink_name_split("nodots", iface, sizeof(iface), &member) == -EINVAL, "split refuses a bad name");
}

static int decode_call(const char *text, struct sfu_varlink_call *call, struct sfu_err *err) {
        return sfu_varlink_call_decode(text, strlen(text), call, err);
}

static void call_ok(const char *text, const char *method, size_t n_params, bool more, bool oneway) {
        struct sfu_varlink_call call = {};
        struct sfu_err err = SFU_ERR_INIT;
        int r = decode_call(text, &call, &err);

        ok(r == 0 && sfu_streq(call.method, method) && json_is_object(call.parameters) &&
                   json_object_size(call.parameters) == n_params && call.more == more && call.oneway == oneway,
           "call decodes: %s%s%s", text, r < 0 ? " -- " : "", r < 0 ? err.message : "");
        sfu_varlink_call_done(&call);
}

static void call_refused(const char *text, size_t len, enum sfu_err_code code, const char *why) {
        struct sfu_varlink_call call = { .method = (char *) "untouched" };
        struct sfu_err err = SFU_ERR_INIT;
        int r = sfu_varlink_call_decode(text, len, &call, &err);

        ok(r < 0 && err.code == code && err.message[0] && sfu_streq(call.method, "untouched") && !call.parameters,
           "call refused (%s): %s [%s]", sfu_err_code_name(code), why, err.message);
}

#define REFUSED(text, why) call_refused(text, strlen(text), SFU_ERR_PARSE, why)

static void test_call_decode(void) {
        char *huge;
        size_t len;

        call_ok("{\"method\":\"org.secfu.Daemon.Status\"}", "org.secfu.Daemon.Status", 0, false, false);
        call_ok("{\"method\":\"org.secfu.Daemon.Status\",\"parameters\":{}}", "org.secfu.Daemon.Status", 0, false,
                false);
        call_ok("{\"method\":\"org.secfu.Daemon.Status\",\"parameters\":null}", "org.secfu.Daemon.Status", 0, false,
                false);
        call_ok(" {\"parameters\":{\"source\":\"/x\",\"wait\":false},\"method\":\"org.secfu.Daemon.Apply\"} \n",
                "org.secfu.Daemon.Apply", 2, false, false);
        call_ok("{\"method\":\"org.secfu.Daemon.Monitor\",\"more\":true}", "org.secfu.Daemon.Monitor", 0, true,
                false);
        call_ok("{\"method\":\"org.secfu.Daemon.Cancel\",\"oneway\":true,\"more\":false}", "org.secfu.Daemon.Cancel",
                0, false, true);
        call_ok("{\"method\":\"org.secfu.Daemon.Monitor\",\"more\":null}", "org.secfu.Daemon.Monitor", 0, false,
                false);

        REFUSED("", "empty message");
        REFUSED("{", "truncated JSON");
        REFUSED("[]", "an array");
        REFUSED("\"org.secfu.Daemon.Status\"", "a string");
        REFUSED("{}", "no method");
        REFUSED("{\"method\":42}", "method not a string");
        REFUSED("{\"method\":\"Status\"}", "unqualified method");
        REFUSED("{\"method\":\"org.secfu.Daemon.status\"}", "member starting lower case");
        REFUSED("{\"method\":\"org.secfu.Daemon.Status\",\"parameters\":[]}", "parameters an array");
        REFUSED("{\"method\":\"org.secfu.Daemon.Status\",\"parameters\":\"x\"}", "parameters a string");
        REFUSED("{\"method\":\"org.secfu.Daemon.Status\",\"more\":1}", "more not a boolean");
        REFUSED("{\"method\":\"org.secfu.Daemon.Status\",\"oneway\":\"yes\"}", "oneway not a boolean");
        REFUSED("{\"method\":\"org.secfu.Daemon.Status\",\"more\":true,\"oneway\":true}", "more and oneway");
        REFUSED("{\"method\":\"org.secfu.Daemon.Status\",\"upgrade\":true}", "unknown field upgrade");
        REFUSED("{\"method\":\"org.secfu.Daemon.Status\",\"method\":\"org.secfu.Daemon.Apply\"}", "duplicate key");
        REFUSED("{\"method\":\"org.secfu.Daemon.Status\"} {}", "trailing data");
        REFUSED("{\"method\":\"org.secfu.Daemon.Status\",\"parameters\":{\"a\":\"\\u0000\"}}", "escaped NUL");
        REFUSED("{\"method\":\"org.secfu.Daemon.St\xff\"}", "invalid UTF-8");
        call_refused("{\"method\":\"org.secfu.Daemon.Status\"}\0", 37, SFU_ERR_PARSE, "raw NUL inside the message");
        REFUSED("{\"method\":\"org.secfu.Daemon.Status\",\"parameters\":"
                "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}",
                "nesting deeper than the JSON cap");

        /* Over the size cap: refused before parsing. */
        len = SFU_VARLINK_MESSAGE_MAX + 1;
        huge = malloc(len);
        if (huge) {
                memset(huge, ' ', len);
                memcpy(huge, "{\"method\":\"org.secfu.Daemon.Status\"}", 37);
                call_refused(huge, len, SFU_ERR_SIZE, "more than 64 KiB");
                free(huge);
        }
}

static void test_call_encode(void) {
        _cleanup_json_ json_t *params = json_pack("{s:s,s:b}", "source", "/tmp/m.jws", "wait", 0);
        _cleanup_json_ json_t *array = json_array();
        struct sfu_varlink_call call = {};
        struct sfu_err err = SFU_ERR_INIT;
        char *msg = NULL;
        size_t size = 0;

        ok(sfu_varlink_call_encode("org.secfu.Daemon.Apply", params, false, false, &msg, &size) == 0 && msg &&
                   size == strlen(msg) + 1 && msg[size - 1] == 0,
           "call encodes with its NUL counted");
        ok(msg && sfu_varlink_call_decode(msg, size - 1, &call, &err) == 0 &&
                   sfu_streq(call.method, "org.secfu.Daemon.Apply") && json_equal(call.parameters, params) &&
                   !call.more && !call.oneway,
           "an encoded call decodes to the same call");
        sfu_varlink_call_done(&call);
        free(msg);
        msg = NULL;

        ok(sfu_varlink_call_encode("org.secfu.Daemon.Monitor", NULL, true, false, &msg, &size) == 0 && msg &&
                   strstr(msg, "\"more\":true") && strstr(msg, "\"parameters\":{}"),
           "more is written, missing parameters become {}");
        free(msg);
        msg = NULL;
        ok(sfu_varlink_call_encode("Status", NULL, false, false, &msg, &size) == -EINVAL && !msg,
           "encode refuses an unqualified method");
        ok(sfu_varlink_call_encode("org.secfu.Daemon.Status", array, false, false, &msg, &size) == -EINVAL,
           "encode refuses array parameters");
        ok(sfu_varlink_call_encode("org.secfu.Daemon.Status", NULL, true, true, &msg, &size) == -EINVAL,
           "encode refuses more with oneway");
}

static void test_reply(void) {
        _cleanup_json_ json_t *params = json_pack("{s:s,s:s}", "message", "another operation is running", "code",
                                                  "busy");
        _cleanup_json_ json_t *evil = json_pack("{s:s}", "message", "a\nb\x01c");
        struct sfu_varlink_reply reply = {};
        struct sfu_err err = SFU_ERR_INIT;
        char *msg = NULL;
        size_t size;

        ok(sfu_varlink_reply_encode("org.secfu.Daemon.Busy", params, false, &msg, &size) == 0 && msg,
           "error reply encodes");
        ok(msg && sfu_varlink_reply_decode(msg, size - 1, &reply, &err) == 0 &&
                   sfu_streq(reply.error, "org.secfu.Daemon.Busy") && json_equal(reply.parameters, params) &&
                   !reply.continues,
           "error reply decodes back");
        sfu_varlink_reply_done(&reply);
        free(msg);

        ok(sfu_varlink_reply_encode(NULL, params, true, &msg, &size) == 0 && strstr(msg, "\"continues\":true") &&
                   !strstr(msg, "error"),
           "streamed reply carries continues");
        ok(sfu_varlink_reply_decode(msg, size - 1, &reply, &err) == 0 && !reply.error && reply.continues,
           "streamed reply decodes back");
        sfu_varlink_reply_done(&reply);
        free(msg);

        ok(sfu_varlink_reply_encode(NULL, evil, false, &msg, &size) == 0 && strlen(msg) == size - 1 &&
                   !strchr(msg, '\n'),
           "control characters are escaped: one message, one NUL");
        free(msg);
        msg = NULL;
        ok(sfu_varlink_reply_encode("org.secfu.Daemon.Busy", NULL, true, &msg, &size) == -EINVAL,
           "an error cannot continue (encode)");
        ok(sfu_varlink_reply_encode("busy", NULL, false, &msg, &size) == -EINVAL, "error names are qualified");

        ok(sfu_varlink_reply_decode("{\"parameters\":{}}", 17, &reply, &err) == 0 && !reply.error,
           "minimal reply decodes");
        sfu_varlink_reply_done(&reply);
        ok(sfu_varlink_reply_decode("{}", 2, &reply, &err) == 0 && json_object_size(reply.parameters) == 0,
           "an empty reply has empty parameters");
        sfu_varlink_reply_done(&reply);
        sfu_err_clear(&err);
        ok(sfu_varlink_reply_decode("{\"error\":\"org.x.Y\",\"continues\":true}", 36, &reply, &err) < 0 &&
                   err.code == SFU_ERR_PARSE,
           "an error cannot continue (decode)");
        sfu_err_clear(&err);
        ok(sfu_varlink_reply_decode("{\"error\":\"Busy\"}", 16, &reply, &err) < 0, "unqualified error refused");
        sfu_err_clear(&err);
        ok(sfu_varlink_reply_decode("{\"parameters\":{},\"extra\":1}", 27, &reply, &err) < 0,
           "unknown reply field refused");
}

static void test_params(void) {
        static const struct sfu_varlink_param spec[] = {
                { "source", SFU_VARLINK_STRING },
                { "wait", SFU_VARLINK_BOOL },
                { "count", SFU_VARLINK_INT },
        };
        struct {
                const char *json;
                const char *bad;        /* NULL: accepted */
        } cases[] = {
                { "{}", NULL },
                { "{\"source\":\"/x\",\"wait\":true,\"count\":3}", NULL },
                { "{\"source\":null,\"wait\":null}", NULL },
                { "{\"source\":1}", "source" },
                { "{\"wait\":\"yes\"}", "wait" },
                { "{\"wait\":0}", "wait" },
                { "{\"count\":1.5}", "count" },
                { "{\"count\":true}", "count" },
                { "{\"source\":\"/x\",\"reboot\":true}", "reboot" },
                { "{\"source\":{}}", "source" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ json_t *p = json_loads(cases[i].json, 0, NULL);
                const char *bad = NULL;
                int r = sfu_varlink_params_check(p, spec, ELEMENTSOF(spec), &bad);
                if (cases[i].bad)
                        ok(r == -EINVAL && sfu_streq(bad, cases[i].bad), "params %s: refused, names %s",
                           cases[i].json, cases[i].bad);
                else
                        ok(r == 0, "params %s: accepted", cases[i].json);
        }
        {
                _cleanup_json_ json_t *p = json_pack("{s:b}", "x", 1);
                const char *bad = NULL;
                ok(sfu_varlink_params_check(p, NULL, 0, &bad) == -EINVAL && sfu_streq(bad, "x"),
                   "a method without parameters refuses any");
        }
}

/* The client against a socketpair: replies written in pieces, two in one
 * write, an oversized one, an invalid one, the peer closing. */
static void test_client(void) {
        struct sfu_varlink_client *c = NULL;
        struct sfu_varlink_reply reply = {};
        struct sfu_err err = SFU_ERR_INIT;
        static const char first[] = "{\"parameters\":{\"state\":\"idle\"},\"continues\":true}";
        static const char second[] = "{\"parameters\":{\"n\":2}}";
        char buf[256];
        int sv[2], r;
        ssize_t n;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                tap_skip("socketpair failed");
                return;
        }
        ok(sfu_varlink_client_new_fd(sv[0], &c) == 0, "client on a socketpair");
        ok(sfu_varlink_client_call(c, "org.secfu.Daemon.Monitor", NULL, true) == 0, "call sent");
        n = recv(sv[1], buf, sizeof(buf), 0);
        ok(n > 0 && buf[n - 1] == 0 && strstr(buf, "\"method\":\"org.secfu.Daemon.Monitor\"") &&
                   memchr(buf, 0, (size_t) n) == buf + n - 1,
           "the call arrives as one NUL-terminated message");

        ok(sfu_varlink_client_receive(c, false, &reply, &err) == 0, "nothing there yet: 0 without blocking");
        ok(write(sv[1], first, 10) == 10, "first 10 bytes written");
        ok(sfu_varlink_client_receive(c, false, &reply, &err) == 0, "a partial reply is not returned");
        ok(write(sv[1], first + 10, sizeof(first) - 10) == (ssize_t) (sizeof(first) - 10) &&
                   write(sv[1], second, sizeof(second)) == (ssize_t) sizeof(second),
           "rest of the first and all of the second written");
        r = sfu_varlink_client_receive(c, true, &reply, &err);
        ok(r == 1 && reply.continues && sfu_streq(json_string_value(json_object_get(reply.parameters, "state")), "idle"),
           "first reply reassembled");
        sfu_varlink_reply_done(&reply);
        r = sfu_varlink_client_receive(c, false, &reply, &err);
        ok(r == 1 && !reply.continues && json_integer_value(json_object_get(reply.parameters, "n")) == 2,
           "second reply from the same read");
        sfu_varlink_reply_done(&reply);

        ok(write(sv[1], "{\"bogus\":1}", 12) == 12, "invalid reply written");
        r = sfu_varlink_client_receive(c, true, &reply, &err);
        ok(r == -EBADMSG && err.code == SFU_ERR_PARSE, "an invalid reply is -EBADMSG with a reason");
        close(sv[1]);
        r = sfu_varlink_client_receive(c, true, &reply, &err);
        ok(r == -ECONNRESET, "the peer closing is -ECONNRESET");
        sfu_varlink_client_free(c);

        ok(sfu_varlink_client_connect("/nonexistent/secfud.sock", &c) == -ENOENT, "connect to a missing socket");
}

int main(void) {
        test_frame();
        test_names();
        test_call_decode();
        test_call_encode();
        test_reply();
        test_params();
        test_client();
        return tap_done();
}
