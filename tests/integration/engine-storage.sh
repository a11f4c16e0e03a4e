#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: what the install engine writes and how it survives interruptions:
# resuming a download (in the same cycle and in the next one, with the
# bytes already in the slot re-hashed from the slot), servers that ignore or
# botch Range or change the file underneath, a slot too small for the image,
# kill -9 in the middle of the write and at the other fault points, a
# failing slot device, and a state file that cannot be trusted.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"
dev_require

SIZE_IMG=3145728
state_parses() { /usr/bin/python3 -c "import json, sys; json.load(open(sys.argv[1]))" "$D/state/state.json"; }
req() { fixture_stat --default "" paths "$IMG" requests "$1" "$2"; } # req INDEX FIELD
hdr() { fixture_header "$IMG" "$2" "$1"; }                             # hdr INDEX NAME
not_staged() { # not_staged DESCRIPTION: the last run did not stage anything
        [ "$(state_field "s['state']")" != staged ] && ! grep -q '^BOOT_ORDER=B' "$D/bootenv"
        ok $? "$1: nothing is staged"
}

# ---------------------------------------------------------------- resume in the same cycle
dev_fresh
fixture_rule "$IMG" '{"reset_at": 1000000, "once": true}'
secfud_once
staged 1.1.0 "connection reset after 1000000 bytes"
range=$(hdr 1 Range)
[[ $range =~ ^bytes=([0-9]+)-$ ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] && [ "${BASH_REMATCH[1]}" -le 1000000 ]
ok $? "reset: the retry asks for the rest with Range ($range)"
[ -n "$(hdr 1 If-Range)" ]
ok $? "reset: the retry names the file it resumes with If-Range"
is "$(req 1 status)" 206 "reset: the server answered 206"

# ---------------------------------------------------------------- resume in the next cycle
# (a clean cut, so that all 1000000 bytes arrive)
dev_fresh
fixture_rule "$IMG" '{"truncate_at": 1000000, "once": true}'
fixture_rule_append "$IMG" '{"status": 503, "retry_after": 1, "count": 4}'
dev_snapshot s
secfud_once
refused s "" "503" "cut, then 503 until the cycle gives up"
offset=$(state_field "(s['resume'] or {}).get('offset', 0)")
[ "${offset:-0}" -gt 0 ] 2>/dev/null
ok $? "interrupted cycle: resume data records $offset bytes"
not_staged "interrupted cycle"
fixture_reset
secfud_once
staged 1.1.0 "the next cycle"
is "$(hdr 0 Range)" "bytes=$offset-" "next cycle: resumes at the recorded offset"
is "$(fixture_bytes "$IMG")" $((SIZE_IMG - offset)) "next cycle: only the missing bytes are fetched"
is "$(state_field "s['resume']")" None "next cycle: the resume data is dropped once staged"

# the bytes in the slot are re-hashed, never trusted: damage them between cycles
dev_fresh
fixture_rule "$IMG" '{"truncate_at": 1000000, "once": true}'
fixture_rule_append "$IMG" '{"status": 503, "retry_after": 1, "count": 4}'
secfud_once
offset=$(state_field "(s['resume'] or {}).get('offset', 0)")
printf '\x00\x01\x02\x03' | dd of="$D/slot-b" bs=1 seek=1000 conv=notrunc status=none
fixture_reset
dev_snapshot s
secfud_once
refused s "" "mismatch" "resume onto a slot damaged below the resume offset ($offset)"
is "$(state_field "(s['lastError'] or {}).get('code')")" digest "damaged slot: lastError code digest"
secfud_once
staged 1.1.0 "damaged slot, the cycle after the mismatch (starts over)"

# ---------------------------------------------------------------- servers that botch Range
dev_fresh
fixture_rule "$IMG" '{"reset_at": 1000000, "once": true}'
fixture_rule_append "$IMG" '{"range": "ignore"}'
secfud_once
staged 1.1.0 "server that ignores Range"
[ -n "$(hdr 1 Range)" ] && [ "$(req 1 status)" = 200 ]
ok $? "Range ignored: the retry asked for a range and got a 200"

dev_fresh
fixture_rule "$IMG" '{"reset_at": 1000000, "once": true}'
fixture_rule_append "$IMG" '{"range": "wrong", "once": true}'
secfud_once
staged 1.1.0 "server that answers another range"
is "$(req 1 status)" 206 "wrong range: the server sent a 206 for another range"
is "$(hdr 2 Range)" "" "wrong range: the next request starts over, without Range"

dev_fresh
head -c "$SIZE_IMG" /dev/urandom >"$WWW/other.img"
fixture_rule "$IMG" '{"reset_at": 1000000, "swap_after": {"bytes": 500000, "with": "other.img"}, "once": true}'
dev_snapshot s
secfud_once
refused s "" "mismatch|changed|range" "file swapped on the server during the download"
not_staged "swapped file"
is "$(state_field "s['slots']['B']['health'], (s['lastError'] or {}).get('code')")" "bad digest" \
        "swapped file: slot B is marked bad with a digest error"
fixture_reset
secfud_once
staged 1.1.0 "the same server, the file back in place"

# ---------------------------------------------------------------- slot too small
dev_fresh 1048576
dev_snapshot s
secfud_once
refused s "$IMG" "holds|too small|fit|needs" "slot of 1 MiB, image of 3 MiB"
is "$(state_field "(s['lastError'] or {}).get('code')")" size "slot too small: lastError code size"
SIZE=524288 dev_publish 1.2.0
secfud_once
staged 1.2.0 "a 512 KiB image in the 1 MiB slot"

# ---------------------------------------------------------------- kill -9 and other faults
# killed WHAT: the checks after a run that was killed
killed() {
        local what=$1
        is "$ONCE_STATUS" 137 "$what: secfud died by SIGKILL"
        dev_unchanged s "$what"
        state_parses
        ok $? "$what: the state file parses"
        not_staged "$what"
        cmp -s "$D/slot-b.canary" <(echo canary-b)
        ok $? "$what: nothing written past slot B"
        secfud_once
        staged 1.1.0 "$what, the next cycle"
}

for point in slot-write:kill:2 slot-sync:kill before-switch:kill atomic-rename:kill:3 atomic-write:kill:4; do
        dev_fresh
        dev_snapshot s
        SFU_FAULT=$point secfud_once 2>/dev/null
        killed "SFU_FAULT=$point"
done

dev_fresh
fixture_rule "$IMG" '{"drip": {"bytes": 32768, "interval": 0.05}}' # 3 MiB in 5 s
dev_snapshot s
secfud_once_bg
wait_until 15 eval '[ "$(fixture_bytes "$IMG")" -gt 524288 ]'
ok $? "drip: the download is under way"
{
        kill -KILL "$SECFUD_PID"
        secfud_wait
} 2>/dev/null # no "Killed" job notice on stderr
fixture_reset
killed "kill -9 during the download"

dev_fresh
dev_snapshot s
SFU_FAULT=slot-write:eio:2 secfud_once
refused s "" "slot" "slot device fails with EIO"
is "$(state_field "(s['lastError'] or {}).get('code'), s['slots']['B']['health']")" "storage bad" \
        "EIO: lastError code storage, slot B bad"
secfud_once
staged 1.1.0 "the slot device working again"

# ---------------------------------------------------------------- state file that cannot be trusted
# bad_state WHAT: secfud must refuse, say why in one line and leave the file alone
bad_state() {
        local what=$1 before
        fixture_reset
        before=$(cd "$D/state" && ls -l --time-style=+ state.json && sha256sum state.json 2>/dev/null)
        dev_snapshot s
        secfud_once
        refused s "$IMG" "state" "state file $what"
        is "$(once_errors | wc -l)" 1 "state file $what: one line of reason"
        is "$(cd "$D/state" && ls -l --time-style=+ state.json && sha256sum state.json 2>/dev/null)" "$before" \
                "state file $what: not overwritten (bytes, mode, link)"
        rm -f "$D/state/state.json"
        secfud_once
        staged 1.1.0 "state file $what removed by the operator"
}
dev_fresh
dev_publish 1.0.0
secfud_once
cp "$D/state/state.json" "$D/valid-state.json" # a valid state file, up to date
dev_publish 1.1.0

echo 'garbage {{{' >"$D/state/state.json"
chmod 600 "$D/state/state.json"
bad_state "with garbage"

head -c 100 "$D/valid-state.json" >"$D/state/state.json"
chmod 600 "$D/state/state.json"
bad_state "truncated"

cp "$D/valid-state.json" "$D/elsewhere.json"
rm -f "$D/state/state.json"
ln -s "$D/elsewhere.json" "$D/state/state.json"
bad_state "that is a symbolic link"
cmp -s "$D/valid-state.json" "$D/elsewhere.json"
ok $? "state file that is a symbolic link: its target is not written either"

cp "$D/valid-state.json" "$D/state/state.json"
chmod 666 "$D/state/state.json"
bad_state "writable by everyone"

tap_done
