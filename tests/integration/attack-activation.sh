#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: the last line of defence before activation.  secfud stops itself
# (SFU_FAULT=before-switch:pause) after every image is written, synced and
# verified; while it is stopped the test changes the slot; then it resumes.
# secfud must re-read the slot, notice, and leave the bootloader alone:
#   - one flipped byte (also near the end) in the verified image;
#   - the slot's path replaced by a symbolic link to the running slot;
#   - the slot's path replaced by another file holding the same bytes.
# Each has a twin (stopped and resumed, slot untouched) that stages.  Then
# block-device slots (loop devices over the slot files, when this machine
# can make them): an image staged into one, and a slot that another
# program holds exclusively (as when it is mounted) is refused before any
# image byte is requested.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"
dev_require


# stopped: secfud has stopped itself at the fault point (state T).
stopped() { [ "$(awk '{ print $3 }' "/proc/$SECFUD_PID/stat" 2>/dev/null)" = T ]; }

# paused_run WHAT ACTION: runs secfud --once up to the fault point before
# the bootloader switch, runs ACTION (a shell command) while it is
# stopped, then lets it finish (ONCE_STATUS).
paused_run() {
        local what=$1 action=$2
        SFU_FAULT=before-switch:pause secfud_once_bg
        if ! wait_until 60 stopped; then
                ok 1 "$what: secfud stops before the bootloader switch"
                kill -KILL "$SECFUD_PID" 2>/dev/null
                secfud_wait 2>/dev/null
                return 1
        fi
        ok 0 "$what: secfud stops before the bootloader switch, image verified"
        eval "$action"
        kill -CONT "$SECFUD_PID"
        secfud_wait
}

# flip OFFSET: inverts one byte of slot B in place.
flip() {
        /usr/bin/python3 - "$D/slot-b" "$1" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
off = int(sys.argv[2])
b = os.pread(fd, 1, off)
os.pwrite(fd, bytes([b[0] ^ 0xFF]), off)
os.close(fd)
PY
}

# not_activated WHAT PATTERN: the resumed run refused to activate, for
# PATTERN, and changed nothing that counts.
not_activated() {
        local what=$1 pattern=$2
        refused s "" "$pattern" "$what"
        is "$(once_errors | wc -l)" 1 "$what: one line of reason"
        grep -q '^BOOT_ORDER=A B$' "$D/bootenv"
        ok $? "$what: the bootloader still boots A first"
        is "$(state_field "s['slots']['B']['health'], s['state']")" "bad idle" \
                "$what: slot B is marked bad, the device is idle"
        [ ! -e "$D/state/manifest-B.jws" ]
        ok $? "$what: no manifest is recorded for slot B"
}

SIZE_IMG=3145728

# ---------------------------------------------------------------- the slot changes after verification
for offset in 0 1048576 $((SIZE_IMG - 1)); do
        dev_fresh
        dev_snapshot s
        paused_run "byte $offset flipped" "flip $offset"
        not_activated "byte $offset flipped after verification" "changed in slot B after it was verified"
        is "$(state_field "(s['lastError'] or {}).get('code')")" digest "byte $offset flipped: lastError code digest"
        is "$(fixture_count "$IMG")" 1 "byte $offset flipped: the image was fetched once, not again"
        secfud_once
        staged 1.1.0 "byte $offset flipped, the next cycle"
done

dev_fresh
paused_run "twin: stopped and resumed, slot untouched" ":"
staged 1.1.0 "twin: stopped and resumed, slot untouched"
once_log_has "image firmware verified in slot B"
ok $? "twin: the log says the image was verified"

# the data flipped and flipped back: the same bytes, so it stages
dev_fresh
paused_run "twin: a byte flipped twice" "flip 4096; flip 4096"
staged 1.1.0 "twin: a byte flipped and flipped back"

# ---------------------------------------------------------------- the slot's path replaced
dev_fresh
dev_snapshot s
paused_run "slot B replaced by a link to slot A" \
        'mv "$D/slot-b" "$D/slot-b.real"; ln -s "$D/slot-a" "$D/slot-b"'
not_activated "slot B's path replaced by a symbolic link to the running slot" "replaced"
rm -f "$D/slot-b"
mv "$D/slot-b.real" "$D/slot-b"
secfud_once
staged 1.1.0 "slot B's path restored, the next cycle"

dev_fresh
dev_snapshot s
paused_run "slot B replaced by a copy" \
        'cp "$D/slot-b" "$D/slot-b.copy"; mv "$D/slot-b" "$D/slot-b.real"; mv "$D/slot-b.copy" "$D/slot-b"'
not_activated "slot B's path replaced by another file with the same bytes" "replaced"
cmp -s "$D/slot-b" "$D/slot-b.real"
ok $? "replaced by a copy: the copy does hold the verified bytes (identity, not content, was refused)"
secfud_once
staged 1.1.0 "slot B's path now a file that stays put, the next cycle"

# ---------------------------------------------------------------- block-device slots
# loop_setup: slot B becomes a loop device over $D/slot-b (LOOP_B).
loop_setup() {
        LOOP_B=$(losetup --find --show "$D/slot-b" 2>/dev/null) || return 1
        EXTRA_CONF=""
        sed -i "s|^device = $D/slot-b\$|device = $LOOP_B|" "$CONF"
        grep -q "^device = $LOOP_B\$" "$CONF"
}
loop_teardown() {
        [ -n "${LOOP_B:-}" ] && losetup -d "$LOOP_B" 2>/dev/null
        LOOP_B=
}
trap 'loop_teardown; dev_cleanup' EXIT

dev_fresh
if [ "$(id -u)" -ne 0 ] || ! command -v losetup >/dev/null || ! loop_setup; then
        skip "block-device slots" "cannot make loop devices here (needs root and /dev/loop*)"
else
        # a program holds slot B exclusively, as the kernel does for a mounted device
        /usr/bin/python3 -c 'import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL)
print("held", flush=True)
time.sleep(120)' "$LOOP_B" >"$D/holder.out" &
        holder=$!
        wait_until 10 grep -q held "$D/holder.out"
        ok $? "a program holds $LOOP_B exclusively"
        dev_snapshot s
        secfud_once
        refused s "$IMG" "in use" "slot B ($LOOP_B) held exclusively by another program"
        kill "$holder" 2>/dev/null
        wait "$holder" 2>/dev/null

        secfud_once
        is "$ONCE_STATUS" 0 "block-device slot B, released: secfud --once succeeds"
        blockdev --flushbufs "$LOOP_B" 2>/dev/null
        cmp -s -n "$SIZE_IMG" "$D/img-1.1.0.img" "$LOOP_B"
        ok $? "block-device slot B holds the 1.1.0 image"
        is "$(state_field "s['state'], s['slots']['B']['health']")" "staged staged" \
                "block-device slot B: state staged"
        env_has "BOOT_ORDER=B A"
        ok $? "block-device slot B: the bootloader tries B first"
        loop_teardown
fi

tap_done
