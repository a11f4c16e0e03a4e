#!/bin/bash
# Delta staging (doc/delta.md) end to end: slot A runs 1.0.0, the server
# has 1.1.0, which differs from it in a few 4 KiB blocks, as a plain image
# and as a zchunk file the signed manifest binds.  Against nginx (multipart
# byteranges) and the fixture server (no multipart: one range per
# request), the device fetches only the chunks it lacks; a server without
# Range, a tampered header, a tampered chunk and a file that changes
# between requests all end in the full download (or, with [delta]
# fallback = no, in a refusal that leaves the device as it was).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
. "$top_srcdir/tests/lib/nginx.sh"
dev_require
command -v nginx >/dev/null || skip_all "nginx not installed (apt-get install nginx-light)"

SIZE=3145728
BLOCKS="17 200 411 600 701"             # 4 KiB blocks 1.1.0 changes
WK=/.well-known/firmware/example.com/gw100
IMG=$WK/fw-1.1.0.img
ZCK=$WK/fw-1.1.0.img.zck

# new_device: a device running 1.0.0 from slot A, 1.1.0 (+ delta)
# published on the fixture server.
# The images are made once, so that every device asks for the same ranges.
STASH=$(mktemp -d "${TMPDIR:-/tmp}/secfu-delta.XXXXXX")
head -c "$SIZE" /dev/urandom >"$STASH/img-1.0.0.img"
cp "$STASH/img-1.0.0.img" "$STASH/img-1.1.0.img"
for b in $BLOCKS; do
        head -c 4096 /dev/urandom | dd of="$STASH/img-1.1.0.img" bs=4096 seek="$b" conv=notrunc status=none
done
new_device() {
        dev_setup || bail "dev_setup failed"
        trap 'nginx_stop; dev_cleanup; rm -rf "$STASH"' EXIT
        cp "$STASH/img-1.0.0.img" "$STASH/img-1.1.0.img" "$D/"
        # slot A holds 1.0.0 (the rest of the slot stays random)
        dd if="$D/img-1.0.0.img" of="$D/slot-a" conv=notrunc status=none
        jws=$(dev_manifest 1.1.0 --delta) || bail "cannot make the manifest"
        dir=$WWW$WK
        mkdir -p "$dir"
        cp "$jws" "$dir/manifest.json"
        cp "$D/img-1.1.0.img" "$dir/fw-1.1.0.img"
        cp "$D/img-1.1.0.img.zck" "$dir/fw-1.1.0.img.zck"
        HEADER_SIZE=$(/usr/bin/python3 -c "import json; m = json.load(open('$D/manifest-1.1.0.json')); print(m['firmwareDelta']['headerSize'])")
}

zck_bytes() { # body bytes the fixture server sent for the zchunk file
        fixture_bytes "$ZCK"
}

# ---------------------------------------------------------------- nginx, multipart
new_device
nginx_start "$D/nginx" "$WWW" || bail "nginx did not start"
MANUFACTURER_URL="$NGINX_URL$MANIFEST_PATH"
dev_write_config
secfud_once
staged 1.1.0 "delta from nginx"
once_log_has "delta: firmware: fetched"; ok $? "the log says how much the delta fetched"
diag "$(grep 'delta:' "$D/once.log" | tr '\n' ' ')"
sleep 0.1
! grep -q "fw-1.1.0.img " "$D/nginx/access.log"; ok $? "nginx: the plain image was never requested"
fetched=$(awk '$2 ~ /\.zck$/ { s += $4 } END { print s + 0 }' "$D/nginx/access.log")
requests=$(grep -c '\.zck 206' "$D/nginx/access.log")
diag "nginx: $fetched bytes of the zchunk file in $requests requests for an image of $SIZE bytes"
[ "$fetched" -gt 0 ] && [ "$fetched" -lt $((SIZE / 20)) ]; ok $? "nginx: less than 5 % of the image fetched ($fetched bytes)"
[ "$requests" -le 3 ]; ok $? "nginx: the header and one multi-range batch ($requests requests)"
nginx_stop
MANUFACTURER_URL="$SERVER$MANIFEST_PATH"

# ---------------------------------------------------------------- fixture: no multipart
new_device
secfud_once
staged 1.1.0 "delta from a server without multipart"
is "$(fixture_count "$IMG")" 0 "no multipart: the plain image was never requested"
once_log_has "one at a time"; ok $? "no multipart: the device asks for one range at a time"
b=$(zck_bytes)
diag "fixture: $b bytes of the zchunk file in $(fixture_count "$ZCK") requests"
# What the server wrote of its whole-file answer to the multi-range
# request before the device dropped it depends on socket buffers: count
# the 206 answers.
b206=$(fixture_stats | /usr/bin/python3 -c 'import json, sys
print(sum(r["bytes_sent"] for r in json.load(sys.stdin)["paths"][sys.argv[1]]["requests"] if r["status"] == 206))' "$ZCK")
[ "$b206" -lt $((SIZE / 20)) ]; ok $? "no multipart: the ranges sent are less than 5 % of the image ($b206 bytes)"
d_fetched=$(sed -n 's/.*delta: firmware: fetched \([0-9]*\) bytes.*/\1/p' "$D/once.log")
[ -n "$d_fetched" ] && [ "$d_fetched" -lt $((SIZE / 20)) ]; ok $? "no multipart: the device kept less than 5 % of the image (${d_fetched:-?} bytes)"

RANGES=$(fixture_header "$ZCK" Range 1)
diag "the first batch asked for $RANGES"

# ---------------------------------------------------------------- lying multipart answers
# A 206 multipart/byteranges answer made up for the first batch (the same
# ranges on every device: the same images), with the file's own ETag.
# craft MODE: reorder (the parts in reverse order), boundary (the body's
# delimiters are not the announced boundary), total (Content-Range says
# another file size), extra (a part for a range not asked for comes first).
# The parts' data are not the chunks: the framing must be refused first.
craft() {
        /usr/bin/python3 - "$1" "$RANGES" "$(stat -c %s "$WWW$ZCK")" <<'PY'
import json, sys
mode, ranges, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
parts = [tuple(int(x) for x in r.split("-")) for r in ranges[len("bytes="):].split(",")]
if mode == "reorder":
    parts.reverse()
if mode == "extra":
    parts.insert(0, (0, 9))
body = ""
for a, b in parts:
    total = size + 1 if mode == "total" else size
    n = b - a + 1
    delim = "XYZ" if mode == "boundary" else "B0UND"
    body += "\r\n--%s\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes %d-%d/%d\r\n\r\n%s" % (delim, a, b, total, "x" * n)
body += "\r\n--B0UND--\r\n"
print(json.dumps(body))
PY
}
etag=$(curl -sI "$SERVER$ZCK" | sed -n 's/^ETag: *"\(.*\)"\r*$/\1/p')
declare -A why=([reorder]="where range 0 was expected" [boundary]="does not start with the boundary"
        [total]="where range 0 was expected" [extra]="bytes 0-9/[0-9]+ where range 0 was expected")
for mode in reorder boundary total extra; do
        new_device
        EXTRA_CONF=$'[delta]\nfallback = no'
        dev_write_config
        fixture_rule "$ZCK" '{"once": true}' >/dev/null
        fixture_rule_append "$ZCK" "{\"once\": true, \"status\": 206, \"etag\": \"$etag\",
                \"headers\": {\"Content-Type\": \"multipart/byteranges; boundary=B0UND\"}, \"body\": $(craft $mode)}" >/dev/null
        dev_snapshot before
        secfud_once
        refused before "$IMG" "${why[$mode]}" "a multipart answer ($mode), fallback = no"
        is "$(fixture_count "$ZCK")" 2 "$mode: the header and one batch, then the device stops"
        EXTRA_CONF=""
done

# ---------------------------------------------------------------- kill -9 during a delta
new_device
fixture_rule "$ZCK" '{"once": true}' >/dev/null
# every request after the header's stalls (the multi-range one is answered
# whole by this server and dropped, then single ranges)
fixture_rule_append "$ZCK" '{"count": 20, "stall_after": 1000, "stall": 30}' >/dev/null
dev_snapshot before
secfud_once_bg
wait_until 20 grep -q "fetching the rest" "$D/once.log"; ok $? "kill -9: the delta began"
wait_until 20 test "$(fixture_count "$ZCK")" -ge 3; ok $? "kill -9: a range request is in flight"
sleep 0.3
kill -KILL "$SECFUD_PID"
secfud_wait
dev_unchanged before "kill -9 during a delta"
fixture_clear "$ZCK" >/dev/null
secfud_once
staged 1.1.0 "after kill -9 during a delta, the next cycle"
once_log_has "delta: firmware: fetched"; ok $? "after kill -9: the next cycle stages by delta again"
is "$(fixture_count "$IMG")" 0 "after kill -9: the plain image was never requested"

# ---------------------------------------------------------------- no Range at all
new_device
fixture_rule "$ZCK" '{"range": "ignore"}' >/dev/null
secfud_once
staged 1.1.0 "a server that ignores Range"
is "$(fixture_count "$IMG")" 1 "no Range: the full image is downloaded once"
once_log_has "downloading the whole image"; ok $? "no Range: the log says the delta fell back"

# ---------------------------------------------------------------- tampered header
new_device
printf '\xff' | dd of="$WWW$ZCK" bs=1 seek=$((HEADER_SIZE - 40)) conv=notrunc status=none
secfud_once
staged 1.1.0 "a tampered zchunk header"
once_log_has "does not match the manifest's headerSha256"; ok $? "tampered header: refused before parsing"
is "$(fixture_count "$IMG")" 1 "tampered header: the full image instead"

new_device
printf '\xff' | dd of="$WWW$ZCK" bs=1 seek=$((HEADER_SIZE - 40)) conv=notrunc status=none
EXTRA_CONF=$'[delta]\nfallback = no'
dev_write_config
dev_snapshot before
secfud_once
refused before "" "headerSha256" "tampered header, fallback = no"
is "$(fixture_count "$IMG")" 0 "tampered header, fallback = no: no image byte requested"
EXTRA_CONF=""

# ---------------------------------------------------------------- tampered chunk
# The first changed block is in a chunk the device lacks: flip a byte in
# the middle of the zchunk file's data past the header, in every chunk
# that differs (their compressed bytes are the fetched ones).
tamper_chunks() {
        /usr/bin/python3 - "$WWW$ZCK" "$HEADER_SIZE" <<'PY'
import sys
path, header = sys.argv[1], int(sys.argv[2])
data = bytearray(open(path, "rb").read())
# random image data does not compress: chunk k is at about header + k * 16 KiB
for k in range(0, (len(data) - header) // 16384):
    data[header + k * 16390 + 100] ^= 0x55
open(path, "wb").write(data)
PY
}
new_device
tamper_chunks
secfud_once
staged 1.1.0 "tampered chunks"
once_log_has "do not match their digest"; ok $? "tampered chunk: its digest caught it"
is "$(fixture_count "$IMG")" 1 "tampered chunk: the full image instead"

new_device
tamper_chunks
EXTRA_CONF=$'[delta]\nfallback = no'
dev_write_config
dev_snapshot before
secfud_once
refused before "" "do not match their digest" "tampered chunk, fallback = no"
EXTRA_CONF=""

# ---------------------------------------------------------------- lying sizes
new_device
printf 'x' >>"$WWW$ZCK"
EXTRA_CONF=$'[delta]\nfallback = no'
dev_write_config
dev_snapshot before
secfud_once
refused before "$IMG" "the file on the server is [0-9]+ bytes, the manifest says" "a zchunk file of another size, fallback = no"
EXTRA_CONF=""

# ---------------------------------------------------------------- the file changes between requests
new_device
cp "$WWW$ZCK" "$WWW$WK/other.zck"
printf '\x00' | dd of="$WWW$WK/other.zck" bs=1 seek=$((HEADER_SIZE + 5000)) conv=notrunc status=none
fixture_rule "$ZCK" "{\"swap_after\": {\"bytes\": $HEADER_SIZE, \"with\": \"$WK/other.zck\"}}" >/dev/null
EXTRA_CONF=$'[delta]\nfallback = no'
dev_write_config
dev_snapshot before
secfud_once
refused before "" "changed|not 206" "the zchunk file changes after its header, fallback = no"
EXTRA_CONF=""
dev_write_config
secfud_once
staged 1.1.0 "the zchunk file changed: with fallback"

# ---------------------------------------------------------------- disabled
new_device
EXTRA_CONF=$'[delta]\nenable = no'
dev_write_config
secfud_once
staged 1.1.0 "[delta] enable = no"
is "$(fixture_count "$ZCK")" 0 "enable = no: the zchunk file is never requested"
is "$(fixture_count "$IMG")" 1 "enable = no: the full image"
EXTRA_CONF=""

new_device
EXTRA_CONF=$'[delta]\nsource-slots = none'
dev_write_config
secfud_once
staged 1.1.0 "[delta] source-slots = none"
is "$(fixture_count "$IMG")" 1 "source-slots = none: the full image"
EXTRA_CONF=""

# ---------------------------------------------------------------- progress: bytes fetched
# The chunk requests drip, so that the daemon's status can be read while
# the delta runs: progress.fetched counts what came from the server,
# progress.done every byte written (the source slot's chunks too).
new_device
fixture_rule "$ZCK" '{"count": 2}' >/dev/null   # the header, the multi-range request (dropped)
fixture_rule_append "$ZCK" '{"count": 5, "drip": {"bytes": 2048, "interval": 0.05}}' >/dev/null
dev_daemon_start || bail "secfud did not start"
dev_ctl apply >"$D/apply.out" 2>&1 &
apply_pid=$!
: >"$D/progress.json"
for ((i = 0; i < 200; i++)); do
        dev_ctl --json status 2>/dev/null | /usr/bin/python3 -c 'import json, sys
p = json.load(sys.stdin).get("progress")
if p and p.get("phase") == "downloading" and "fetched" in p and p["fetched"] > 0 and p["done"] > p["fetched"]:
    print(json.dumps(p))' >>"$D/progress.json"
        [ -s "$D/progress.json" ] && break
        sleep 0.05
done
p=$(head -1 "$D/progress.json")
diag "progress during the delta: $p"
[ -n "$p" ]; ok $? "status during a delta: progress has fetched > 0, below done"
is "$(/usr/bin/python3 -c 'import json, sys; p = json.loads(sys.argv[1]) or {}; print(p.get("total"), p.get("image"))' "${p:-null}")" \
        "$SIZE firmware" "status during a delta: total is the image's size"
wait_until 5 eval 'dev_ctl status >"$D/status.txt" 2>&1; grep -qE "^progress: +downloading firmware: [0-9]+% \(.* of 3.0 MiB, .* fetched, .*/s\)" "$D/status.txt"'
ok $? "secfuctl status during a delta: the progress line says how much was fetched"
diag "$(grep '^progress' "$D/status.txt")"
wait "$apply_pid"
is "$?" 0 "secfuctl apply during the dripping delta succeeds"
grep -qE '^downloading: [0-9]+% \(.* of .*, .* fetched\)$' "$D/apply.out"
ok $? "secfuctl apply (no terminal): its progress lines say how much was fetched"
diag "$(grep fetched "$D/apply.out" | head -3 | tr '\n' '|')"
dev_daemon_stop
grep -q "delta: firmware: fetched" "$D/daemon.log"; ok $? "the apply staged by delta"
is "$(fixture_count "$IMG")" 0 "progress case: the plain image was never requested"

# ---------------------------------------------------------------- progress over D-Bus: Fetched
# The same dripping delta through a private bus: the Fetched property
# counts what came from the server, and secfuctl --dbus apply's progress
# lines show it.
if command -v dbus-daemon >/dev/null && command -v busctl >/dev/null; then
        new_device
        fixture_rule "$ZCK" '{"count": 2}' >/dev/null
        fixture_rule_append "$ZCK" '{"count": 5, "drip": {"bytes": 2048, "interval": 0.05}}' >/dev/null
        dev_bus_start
        ok $? "a private bus for the D-Bus case"
        dev_daemon_start || bail "secfud did not start"
        wait_until 10 grep -q "D-Bus interface: org.secfu.Daemon1" "$D/daemon.log" ||
                bail "secfud did not take its name on the private bus: $(grep D-Bus "$D/daemon.log")"
        ok 0 "secfud took its name on the private bus"
        fetched_prop() {
                timeout 5 busctl get-property org.secfu.Daemon1 /org/secfu/Daemon1 \
                        org.secfu.Daemon1 Fetched 2>/dev/null
        }
        is "$(fetched_prop)" "t 0" "D-Bus: Fetched is 0 before the delta"
        timeout 120 "$SECFUCTL" --dbus apply >"$D/dapply.out" 2>&1 &
        apply_pid=$!
        seen=""
        for ((i = 0; i < 200; i++)); do
                v=$(fetched_prop)
                [ -n "$v" ] && [ "${v#t }" -gt 0 ] 2>/dev/null && { seen=${v#t }; break; }
                sleep 0.05
        done
        [ -n "$seen" ] && [ "$seen" -lt "$SIZE" ]; ok $? "D-Bus: Fetched counts the bytes a delta receives (${seen:-none seen})"
        wait "$apply_pid"
        is "$?" 0 "secfuctl --dbus apply during the dripping delta succeeds"
        grep -qE '^downloading: [0-9]+% \(.* of .*, .* fetched\)$' "$D/dapply.out"
        ok $? "secfuctl --dbus apply: its progress lines say how much was fetched"
        diag "$(grep fetched "$D/dapply.out" | head -3 | tr '\n' '|')"
        is "$(fetched_prop)" "t 0" "D-Bus: Fetched is 0 again when the job is over"
        dev_daemon_stop
        grep -q "delta: firmware: fetched" "$D/daemon.log"; ok $? "the D-Bus apply staged by delta"
        dev_bus_stop
else
        skip "D-Bus progress (8 cases)" "no dbus-daemon or busctl"
fi

# ---------------------------------------------------------------- a broken connection, same cycle
# The first chunk request is cut after 1000 bytes: the delta asks again
# from the first chunk not yet written, after a back-off.
new_device
fixture_rule "$ZCK" '{"count": 2}' >/dev/null
fixture_rule_append "$ZCK" '{"once": true, "reset_at": 1000}' >/dev/null
secfud_once
staged 1.1.0 "a connection reset during a delta"
once_log_has "delta goes on at chunk"; ok $? "connection reset: the delta goes on after a back-off"
once_log_has "delta: firmware: fetched"; ok $? "connection reset: staged by delta"
is "$(fixture_count "$IMG")" 0 "connection reset: the plain image was never requested"

# ---------------------------------------------------------------- resume a delta in the next cycle
# Three of the five changed chunks arrive (1.6 MiB of the image written),
# then every request is cut: after its retries the cycle ends with a
# checkpoint, and no full download from the unreachable server.  The next
# cycle reads the written part back and fetches only the last two chunks.
new_device
fixture_rule "$ZCK" '{"count": 5}' >/dev/null   # header, multi-range, chunks 4, 50, 102
fixture_rule_append "$ZCK" '{"count": 20, "reset_at": 100}' >/dev/null
dev_snapshot before
secfud_once
[ "$ONCE_STATUS" -ne 0 ]; ok $? "a server that keeps cutting the delta: the cycle fails (exit $ONCE_STATUS)"
once_errors | grep -q "Failure when receiving data"; ok $? "... with the connection's error on stderr"
diag "$(once_errors | tail -1)"
dev_unchanged before "a delta cut off mid-way"
is "$(fixture_count "$IMG")" 0 "cut off: no full download from the server that keeps failing"
offset=$(state_field "s['resume']['offset'] if s.get('resume') else 0")
diag "resume record: $(state_field "s.get('resume')")"
[ "${offset:-0}" -gt 1048576 ]; ok $? "cut off: the state records the durable part of slot B ($offset bytes)"
is "$(state_field "s['resume']['url'].endswith('fw-1.1.0.img'), s['resume']['bootname']")" "True B" \
        "cut off: the record names the image and slot B"
fixture_clear "$ZCK" >/dev/null
before_zck=$(fixture_count "$ZCK")
secfud_once
staged 1.1.0 "the next cycle after a delta was cut off"
grep -E "delta: firmware: resuming at byte [1-9][0-9]* \(chunk [0-9]+ of 192\)" "$D/once.log" >"$D/resume.line"
ok $? "next cycle: the delta resumes from the checkpoint"
diag "$(cat "$D/resume.line")"
resumed=$(sed -n 's/.*resuming at byte \([0-9]*\).*/\1/p' "$D/resume.line")
is "$((${resumed:-1} % 16384))" 0 "next cycle: it resumes at a chunk boundary"
[ "${resumed:-0}" -le "${offset:-0}" ]; ok $? "next cycle: ... not beyond what was durable ($resumed <= $offset)"
once_log_has "2 chunks fetched"; ok $? "next cycle: only the two chunks after the checkpoint are fetched"
is "$(($(fixture_count "$ZCK") - before_zck))" 4 "next cycle: the header, the multi-range request and two single ranges"
is "$(fixture_count "$IMG")" 0 "next cycle: the plain image was never requested"
is "$(state_field "s.get('resume')")" "None" "next cycle: the resume record is gone once staged"

# A record that says the whole image is in the slot (a kill after the
# last checkpoint, before the digests were compared): the delta redoes
# the last chunk rather than nothing, and the image is verified whole.
new_device
fixture_rule "$ZCK" '{"count": 5}' >/dev/null
fixture_rule_append "$ZCK" '{"count": 20, "reset_at": 100}' >/dev/null
secfud_once
fixture_clear "$ZCK" >/dev/null
/usr/bin/python3 - "$D/state/state.json" "$SIZE" <<'PY'
import json, sys
path, size = sys.argv[1], int(sys.argv[2])
s = json.load(open(path))
s["resume"]["offset"] = size
json.dump(s, open(path, "w"))
PY
dd if="$D/img-1.1.0.img" of="$D/slot-b" conv=notrunc status=none
secfud_once
staged 1.1.0 "a resume record that covers the whole image"
grep -qE "resuming at byte $((SIZE - 16384)) \(chunk 191 of 192\)" "$D/once.log"
ok $? "whole-image record: the delta redoes the last chunk"

# ---------------------------------------------------------------- shifted chunks
# 1.1.0 is now 1.0.0 with 8 KiB inserted at 400 KiB (a file that grew by
# two blocks in a file system rebuilt from scratch): everything after it
# sits half a chunk further.  Only [delta] shifted-chunks finds it.
head -c 409600 "$STASH/img-1.0.0.img" >"$STASH/img-1.1.0.img"
head -c 8192 /dev/urandom >>"$STASH/img-1.1.0.img"
tail -c +409601 "$STASH/img-1.0.0.img" | head -c $((SIZE - 409600 - 8192)) >>"$STASH/img-1.1.0.img"
for shifted in no yes; do
        new_device
        EXTRA_CONF=$'[delta]\nshifted-chunks = '$shifted
        dev_write_config
        secfud_once
        staged 1.1.0 "an image shifted by 8 KiB, shifted-chunks = $shifted"
        f=$(sed -n 's/.*delta: firmware: fetched \([0-9]*\) bytes.*/\1/p' "$D/once.log")
        diag "shifted-chunks = $shifted: fetched ${f:-?} bytes of $SIZE; $(grep 'other 4 KiB offsets' "$D/once.log")"
        eval "fetched_$shifted=\${f:-0}"
done
[ "$fetched_no" -gt $((SIZE / 2)) ]; ok $? "shifted-chunks = no: most of the shifted image is fetched ($fetched_no bytes)"
[ "$fetched_yes" -gt 0 ] && [ "$fetched_yes" -lt $((SIZE / 20)) ]
ok $? "shifted-chunks = yes: less than 5 % of it is fetched ($fetched_yes bytes)"
once_log_has "more chunks found in slot A at other 4 KiB offsets"; ok $? "shifted-chunks: the log says how many chunks the search found"
EXTRA_CONF=""
tap_done
