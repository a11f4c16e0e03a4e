#!/bin/bash
# Self-test of the fixture server (tests/lib/fixture-server.py): every rule
# is exercised with curl and its effect on the wire checked. TAP output.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"
for tool in curl openssl python3 cmp; do
        command -v "$tool" >/dev/null || skip_all "$tool not installed"
done

# shellcheck source=tests/lib/fixture.sh
. "$top_srcdir/tests/lib/fixture.sh"
trap fixture_cleanup EXIT
fixture_workdir || exit 1
W=$FIXTURE_WORKDIR
ROOT="$W/root"
mkdir -p "$ROOT/sub" "$W/out"

# fetch URL-PATH [curl options]: body to $W/out/body, headers to $W/out/hdr;
# sets CODE (HTTP status), RC (curl exit code), SIZE (body bytes),
# TIME (seconds).
fetch() {
        local path=$1 info
        shift
        rm -f "$W/out/body" "$W/out/hdr"
        info=$(curl -s --max-time 5 -o "$W/out/body" -D "$W/out/hdr" \
                -w '%{http_code} %{size_download} %{time_total}' \
                "$@" "$FIXTURE_URL$path")
        RC=$?
        read -r CODE SIZE TIME <<<"$info"
        [ -f "$W/out/body" ] || : >"$W/out/body"
}
# hdr NAME: a response header of the last fetch (last one if repeated)
hdr() {
        grep -i "^$1:" "$W/out/hdr" | tail -n 1 | sed 's/^[^:]*: *//; s/\r$//'
}
# at_least A B: A >= B for decimal seconds
at_least() { "$FIXTURE_PYTHON" -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' "$1" "$2"; }

printf 'hello, fixture\n' >"$ROOT/small.txt"
head -c 100000 /dev/urandom >"$ROOT/img.bin"
head -c 50000 /dev/urandom >"$ROOT/other.bin"
printf 'in a sub directory\n' >"$ROOT/sub/file.txt"
touch -d '2024-01-02 03:04:05 UTC' "$ROOT/small.txt"

# ---------------------------------------------------------------- start
fixture_start "$ROOT" || bail "the fixture server does not start"
check "server listens on a port" test "$FIXTURE_PORT" -gt 0
# listening sockets on the port, from /proc (local address in hex, state 0A)
listeners=$(awk -v port="$(printf '%04X' "$FIXTURE_PORT")" \
        '$4 == "0A" && substr($2, index($2, ":") + 1) == port { print substr($2, 1, index($2, ":") - 1) }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null | tr '\n' ' ')
is "$listeners" "0100007F " "server is bound to 127.0.0.1 only"

# ---------------------------------------------------------------- plain files
fetch /img.bin
is "$CODE" 200 "GET: 200"
cmp -s "$W/out/body" "$ROOT/img.bin"
ok $? "GET: body is the file"
is "$(hdr Content-Length)" 100000 "GET: Content-Length"
ETAG=$(hdr ETag)
check "GET: strong ETag" test -n "$ETAG" -a "${ETAG#W/}" = "$ETAG"
fetch /img.bin -I
is "$CODE/$(hdr Content-Length)/$SIZE" 200/100000/0 "HEAD: headers, no body"
fetch /nothing-here
is "$CODE" 404 "missing file: 404"
fetch /../../../../etc/passwd --path-as-is
is "$CODE" 404 "path traversal: 404"
fetch /sub/file.txt
is "$CODE" 200 "file in a sub directory"
fetch /sub
is "$CODE" 404 "directory: 404"
info=$(curl -s --max-time 5 -o /dev/null -o /dev/null -w '%{num_connects} ' \
        "$FIXTURE_URL/small.txt" "$FIXTURE_URL/small.txt")
is "$info" "1 0 " "keep-alive: second request reuses the connection"

# ---------------------------------------------------------------- ranges
fetch /img.bin -r 1000-1999
is "$CODE/$SIZE" 206/1000 "Range: 206 with the asked length"
is "$(hdr Content-Range)" "bytes 1000-1999/100000" "Range: Content-Range"
tail -c +1001 "$ROOT/img.bin" | head -c 1000 | cmp -s - "$W/out/body"
ok $? "Range: the right bytes"
fetch /img.bin -r 99990-
is "$CODE/$SIZE/$(hdr Content-Range)" "206/10/bytes 99990-99999/100000" "Range: open end"
fetch /img.bin -r -100
is "$CODE/$SIZE/$(hdr Content-Range)" "206/100/bytes 99900-99999/100000" "Range: suffix"
fetch /img.bin -r 200000-
is "$CODE/$(hdr Content-Range)" "416/bytes */100000" "Range past the end: 416"
fetch /img.bin -r 0-1,5-6
is "$CODE/$SIZE" 200/100000 "several ranges: full 200"
fetch /img.bin -r 10-19 -H 'If-Range: "not-the-etag"'
is "$CODE/$SIZE" 200/100000 "If-Range mismatch: full 200"
fetch /img.bin -r 10-19 -H "If-Range: $ETAG"
is "$CODE/$SIZE" 206/10 "If-Range match: 206"

# ---------------------------------------------------------------- validators
fetch /img.bin -H "If-None-Match: $ETAG"
is "$CODE/$SIZE" 304/0 "If-None-Match: 304"
is "$(hdr ETag)" "$ETAG" "304 carries the ETag"
fetch /img.bin -H 'If-None-Match: "other"'
is "$CODE" 200 "If-None-Match mismatch: 200"
fetch /small.txt
LASTMOD=$(hdr Last-Modified)
is "$LASTMOD" "Tue, 02 Jan 2024 03:04:05 GMT" "Last-Modified is the file's mtime"
fetch /small.txt -H "If-Modified-Since: $LASTMOD"
is "$CODE" 304 "If-Modified-Since (same date): 304"
fetch /small.txt -H "If-Modified-Since: Mon, 01 Jan 2024 00:00:00 GMT"
is "$CODE" 200 "If-Modified-Since (older date): 200"

# ---------------------------------------------------------------- status rules
fixture_rule /small.txt '{"status": 503, "retry_after": "120"}'
fetch /small.txt
is "$CODE/$(hdr Retry-After)" 503/120 "status 503 with Retry-After"
fixture_rule /small.txt '{"retry_after": "99999999999999999999999", "status": 429}'
fetch /small.txt
is "$CODE/$(hdr Retry-After)" 429/99999999999999999999999 "absurd Retry-After sent verbatim"
fixture_rule /small.txt '{"status": 200, "body": "<html><body>Login required</body></html>"}'
fetch /small.txt
is "$CODE/$(cat "$W/out/body")" "200/<html><body>Login required</body></html>" "HTML page with 200"
is "$(hdr Content-Type)" "text/html; charset=utf-8" "HTML page: text/html"
fixture_rule /small.txt '{"status": 599}'
fetch /small.txt
is "$CODE" 599 "any status code"
fixture_rule /small.txt '{"headers": {"X-Fixture": "yes", "Content-Type": "application/x-odd", "ETag": null}}'
fetch /small.txt
is "$(hdr X-Fixture)/$(hdr Content-Type)/$(hdr ETag)" "yes/application/x-odd/" \
        "headers: added, replaced, removed"
fixture_clear /small.txt
fetch /small.txt
is "$CODE/$(cat "$W/out/body")" "200/hello, fixture" "cleared rule: normal again"
_fixture_ctl rule /small.txt '{"status": 410}'
fetch /small.txt
is "$CODE" 410 "python control client: rule"
_fixture_ctl clear /small.txt
fetch /small.txt
is "$CODE" 200 "python control client: clear"

# ---------------------------------------------------------------- once, count, queue
fixture_rule /small.txt '{"status": 500, "once": true}'
fetch /small.txt
c1=$CODE
fetch /small.txt
is "$c1/$CODE" 500/200 "once: only the next request"
fixture_rule /small.txt '{"status": 502, "count": 2}'
codes=""
for _ in 1 2 3; do
        fetch /small.txt
        codes="$codes$CODE "
done
is "$codes" "502 502 200 " "count 2: the next two requests"
fixture_rule /img.bin '{"status": 503, "once": true}'
fixture_rule_append /img.bin '{"truncate_at": 10, "once": true}'
fixture_rule_append /img.bin '{"status": 404, "once": true}'
codes=""
for _ in 1 2 3 4; do
        fetch /img.bin
        codes="$codes$CODE:$SIZE "
done
is "$codes" "503:24 200:10 404:14 200:100000 " "appended rules apply in order"

# ---------------------------------------------------------------- cut connections
fixture_rule /img.bin '{"truncate_at": 1000}'
fetch /img.bin
is "$RC/$CODE/$SIZE" 18/200/1000 "truncate_at: curl 18 after 1000 bytes"
is "$(hdr Content-Length)" 100000 "truncate_at: full Content-Length advertised"
fixture_rule /img.bin '{"reset_at": 2000}'
fetch /img.bin
is "$RC/$CODE" 56/200 "reset_at: curl 56 (connection reset)"
check "reset_at: at most 2000 bytes" test "$SIZE" -le 2000
fixture_rule /img.bin '{"content_length_lie": 200000}'
fetch /img.bin
is "$RC/$(hdr Content-Length)/$SIZE" 18/200000/100000 "content_length_lie (larger): curl 18"
fixture_rule /img.bin '{"content_length_lie": 10}'
fetch /img.bin
is "$(hdr Content-Length)/$SIZE" 10/10 "content_length_lie (smaller): client reads 10"
fixture_clear /img.bin

# ---------------------------------------------------------------- endless
fixture_rule /endless '{"endless": true}'
fetch /endless --max-time 0.5
is "$RC/$CODE/$(hdr Transfer-Encoding)/$(hdr Content-Length)" 28/200/chunked/ \
        "endless chunked: stopped by --max-time"
check "endless chunked: bytes flowed" test "$SIZE" -gt 100000
fixture_rule /endless '{"endless": true, "chunked": false}'
fetch /endless --max-time 0.5
is "$RC/$CODE/$(hdr Transfer-Encoding)/$(hdr Content-Length)/$(hdr Connection)" 28/200///close \
        "endless unchunked: no length, stopped by --max-time"
check "endless unchunked: bytes flowed" test "$SIZE" -gt 100000
fixture_rule /endless '{"endless": true, "content_length_lie": 1000, "chunked": false}'
fetch /endless --max-filesize 500
is "$RC/$SIZE" 63/0 "endless with a Content-Length: stopped by --max-filesize"
fixture_rule /endless '{"endless": true}'
curl -s --max-time 5 "$FIXTURE_URL/endless" | head -c 300000 >"$W/out/body"
is "$(wc -c <"$W/out/body")" 300000 "endless: a reader can stop it"

# ---------------------------------------------------------------- slow servers
printf '%0500d' 0 >"$ROOT/five-hundred"
fixture_rule /five-hundred '{"drip": {"bytes": 100, "interval": 0.1}}'
fetch /five-hundred
is "$CODE/$SIZE" 200/500 "drip: complete body"
at_least "$TIME" 0.38
ok $? "drip: took >= 0.4 s ($TIME)"
fixture_rule /img.bin '{"stall_after": 300, "stall": 30}'
fetch /img.bin --max-time 0.5
is "$RC/$CODE/$SIZE" 28/200/300 "stall_after: 300 bytes, then silence"
fixture_rule /img.bin '{"stall_before_headers": true, "stall": 30}'
fetch /img.bin --max-time 0.5
is "$RC/$SIZE" 28/0 "stall_before_headers: no answer"
fixture_rule /img.bin '{"stall_before_headers": true, "stall": 0.2}'
fetch /img.bin
is "$RC" 52 "stall_before_headers, short stall: empty reply"
fixture_rule /img.bin '{"delay": 0.5}'
fetch /img.bin
is "$CODE" 200 "delay: answered"
at_least "$TIME" 0.5
ok $? "delay: took >= 0.5 s ($TIME)"
fetch /small.txt --max-time 2
is "$CODE" 200 "stalls do not block other requests"
fixture_clear /img.bin

# ---------------------------------------------------------------- redirects
fixture_rule /r '{"redirect": {"location": "file:///etc/passwd"}}'
fetch /r
is "$CODE/$(hdr Location)" "302/file:///etc/passwd" "redirect to file:///"
fixture_rule /r '{"redirect": {"location": "ftp://127.0.0.1/fw.img", "status": 301}}'
fetch /r
is "$CODE/$(hdr Location)" "301/ftp://127.0.0.1/fw.img" "redirect 301 to ftp://"
fixture_rule /loop '{"redirect": {"location": "/loop", "status": 307}}'
fetch /loop -L --max-redirs 3
is "$RC/$(fixture_count /loop)" 47/4 "redirect loop: curl gives up after 3"

# ---------------------------------------------------------------- range modes
fixture_rule /img.bin '{"range": "ignore"}'
fetch /img.bin -r 100-199
is "$CODE/$SIZE/$(hdr Content-Range)" 200/100000/ "range ignore: 200 full"
fixture_rule /img.bin '{"range": "wrong"}'
fetch /img.bin -r 100-199
is "$CODE" 206 "range wrong: 206"
check "range wrong: another range ($(hdr Content-Range))" test \
        "$(hdr Content-Range)" != "bytes 100-199/100000"
fetch /img.bin
is "$CODE/$(hdr Content-Range)" "206/bytes 1-99999/100000" "range wrong: 206 nobody asked for"
fixture_clear /img.bin

# ---------------------------------------------------------------- ETag override, swap
fixture_rule /small.txt '{"etag": "fixed-1"}'
fetch /small.txt
is "$(hdr ETag)" '"fixed-1"' "etag override"
fetch /small.txt -H 'If-None-Match: "fixed-1"'
is "$CODE" 304 "etag override: If-None-Match compares with it"
fixture_clear /small.txt
fixture_rule /img.bin '{"swap_after": {"bytes": 5000, "with": "other.bin"}, "truncate_at": 8000}'
fetch /img.bin
is "$RC/$SIZE" 18/8000 "swap_after: first response cut at 8000"
fixture_clear /img.bin
fetch /img.bin
cmp -s "$W/out/body" "$ROOT/other.bin"
ok $? "swap_after: later requests get the other file"
check "swap_after: new ETag" test "$(hdr ETag)" != "$ETAG"
fetch /img.bin -r 8000- -H "If-Range: $ETAG"
is "$CODE/$SIZE" 200/50000 "swap_after: resume with the old ETag gets a full 200"

# ---------------------------------------------------------------- stats, reset
fixture_reset
fetch /img.bin
cmp -s "$W/out/body" "$ROOT/img.bin"
ok $? "reset: swap undone"
curl -s --max-time 5 -o /dev/null -r 5-9 -A "secfud-test/1" -H 'If-None-Match: "abc"' \
        "$FIXTURE_URL/img.bin"
is "$(fixture_count /img.bin)" 2 "stats: request count"
is "$(fixture_header /img.bin Range)" "bytes=5-9" "stats: Range header seen"
is "$(fixture_header /img.bin user-agent)" "secfud-test/1" "stats: User-Agent seen"
is "$(fixture_header /img.bin If-None-Match)" '"abc"' "stats: If-None-Match seen"
is "$(fixture_bytes /img.bin)" 100005 "stats: bytes sent"
is "$(fixture_stat paths /img.bin requests -1 status)" 206 "stats: status logged"
is "$(fixture_data_connections)" 2 "stats: data connections"
is "$(fixture_stat requests)" 2 "stats: total requests"
is "$(fixture_count /never)" 0 "stats: unseen path counts 0"
check "stats file is written" test -s "$FIXTURE_STATS_FILE"
fixture_rule /x '{"no_such_rule": 1}' 2>/dev/null
check "unknown rule refused" test $? -ne 0
fixture_rule /x '{"swap_after": {"bytes": 1, "with": "../../etc/passwd"}}' 2>/dev/null
check "swap_after outside the root refused" test $? -ne 0
info=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X POST \
        --data-binary '{not json' "$FIXTURE_URL/_fixture/rules")
is "$info" 400 "control API: bad JSON gets 400"
fetch /img.bin -X DELETE
is "$CODE" 405 "other methods: 405"

# ---------------------------------------------------------------- --rules file, SIGTERM
fixture_rule /img.bin '{"stall_after": 10, "stall": 3600}'
curl -s --max-time 20 -o /dev/null "$FIXTURE_URL/img.bin" &
curl_pid=$!
sleep 0.5
t0=$(date +%s%N)
fixture_stop
ok $? "SIGTERM: clean exit"
t1=$(date +%s%N)
check "SIGTERM: exit within 3 s with a stalled client ($(((t1 - t0) / 1000000)) ms)" test \
        $(((t1 - t0) / 1000000)) -lt 3000
wait "$curl_pid"
is $? 18 "SIGTERM: the stalled client sees the connection end"
old_port=$FIXTURE_PORT
cat >"$W/rules.json" <<'EOF'
{"/small.txt": {"status": 418}, "/img.bin": {"truncate_at": 3}}
EOF
fixture_start "$ROOT" --rules "$W/rules.json"
fetch /small.txt
is "$CODE" 418 "--rules file: rule applied"
fetch /img.bin
is "$RC/$SIZE" 18/3 "--rules file: second rule applied"
fixture_stop
curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$old_port/small.txt"
is $? 7 "stopped server: connection refused"
echo '{"/x": {"status": "bad"}}' >"$W/bad-rules.json"
"$FIXTURE_PYTHON" "$FIXTURE_SERVER" --root "$ROOT" --rules "$W/bad-rules.json" --port-file "$W/p" \
        2>/dev/null
is $? 2 "bad --rules file: refused at start"
"$FIXTURE_PYTHON" "$FIXTURE_SERVER" --root "$ROOT" --bind 0.0.0.0 --port-file "$W/p" 2>/dev/null
is $? 2 "--bind other than 127.0.0.1 refused"
fixture_start "$ROOT" --lifetime 0.3 --quiet
sleep 1
kill -0 "$FIXTURE_PID" 2>/dev/null
check "--lifetime: server exits by itself" test $? -ne 0
fixture_stop

# ---------------------------------------------------------------- canary
fixture_canary_start --quiet
is "$(fixture_canary_connections)" 0 "canary: no connection yet"
curl -s --max-time 3 -o /dev/null "http://127.0.0.1:$CANARY_PORT/manifest.json"
rc=$?
check "canary: curl gets no HTTP answer (rc $rc)" test "$rc" -ne 0
sleep 0.3
is "$(fixture_canary_connections)" 1 "canary: connection counted"
is "$("$FIXTURE_PYTHON" "$FIXTURE_SERVER" ctl --stats-file "$CANARY_STATS_FILE" stat first_lines 0)" \
        "GET /manifest.json HTTP/1.1" "canary: first line recorded"
fixture_stop "$CANARY_PID"
ok $? "canary: clean exit on SIGTERM"

# ---------------------------------------------------------------- TLS
CERTS="$W/certs"
if fixture_make_certs "$CERTS"; then
        ok 0 "certificates made"
        for cert in good selfsigned wrongname expired notyet untrusted; do
                case $cert in
                selfsigned) chain=$CERTS/selfsigned.pem ;;
                *) chain=$CERTS/$cert-chain.pem ;;
                esac
                if ! fixture_start "$ROOT" --tls-cert "$chain" --tls-key "$CERTS/$cert.key" --quiet; then
                        ok 1 "TLS server with $cert certificate starts"
                        continue
                fi
                fetch /small.txt --cacert "$CERTS/ca.pem"
                if [ "$cert" = good ]; then
                        is "$RC/$CODE/$(cat "$W/out/body")" "0/200/hello, fixture" \
                                "TLS good certificate verifies with the CA"
                        curl -s --max-time 5 -o /dev/null --cacert "$CERTS/ca.pem" \
                                --resolve "localhost:$FIXTURE_PORT:127.0.0.1" \
                                "https://localhost:$FIXTURE_PORT/small.txt"
                        is $? 0 "TLS good certificate: name localhost verifies too"
                        fetch /small.txt
                        is "$RC" 60 "TLS good certificate: fails without the CA"
                        fixture_rule /img.bin '{"truncate_at": 100}'
                        fetch /img.bin --cacert "$CERTS/ca.pem"
                        is "$RC/$SIZE" 18/100 "TLS: rules apply (truncate_at)"
                        is "$(fixture_count /img.bin)" 1 "TLS: control API over HTTPS"
                else
                        is "$RC/$CODE" 60/000 "TLS $cert certificate: curl refuses (60)"
                        fetch /small.txt -k
                        is "$RC/$CODE" 0/200 "TLS $cert certificate: serves with -k"
                        is "$(fixture_count /small.txt)" 1 "TLS $cert: refusing client sent no request"
                fi
                fixture_stop
        done
else
        ok 1 "certificates made"
fi

tap_done
