#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: attacks on, and damage to, the persistent state (state-dir/state.json;
# DESIGN section 2: a state file that fails to parse is never silently
# replaced by defaults; secfud reports it and refuses to install until the
# operator acts).  With a valid 1.1.0 manifest on the server, a state file
# that is bit-flipped, truncated, empty, a symbolic link, a FIFO, a
# directory, over 256 KiB, or writable by others must make secfud --once
# fail with one error line that says why, request no image, change nothing
# (dev_unchanged) and leave the state file exactly as it found it.  The
# twin of each: the operator removes the file and the next cycle stages
# 1.1.0.
#
# Edits that leave a valid file are the attacker's (root's) edits and
# cannot be told from real history:
#   highestInstalled lowered: secfud believes it, but the running version
#     is a floor of its own, so an older manifest is still refused;
#   highestInstalled or the replay floor raised: newer firmware is refused
#     (a denial of service, by someone who could as well delete the slot);
#   the state file disagrees with the bootloader environment about a
#     slot's health: the environment wins.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/attack-lib.sh
. "$top_srcdir/tests/integration/attack-lib.sh"
att_require
att_setup

ST=$D/state/state.json
# A state file as secfud writes it: one up-to-date cycle (with a manifest
# older than every other one here, so that the replay floor it sets stops
# none of them).
J10=$(dev_manifest 1.0.0 --timestamp 2020-01-01T00:00:00Z)
att_try "$J10"
is "$ONCE_STATUS/$(state_field "s['state'], s['highestInstalled']")" "0/idle 1.0.0" "a first cycle writes a valid state file"
att_daemon_report "a first cycle"
att_save
att_try "$J11"
staged 1.1.0 "twin: with that state file, the 1.1.0 manifest stages"
att_daemon_report "twin: with that state file, the 1.1.0 manifest stages"

# edit_state PYTHON: runs PYTHON on the bytes b of the state file and writes
# the result back (mode kept).
edit_state() {
        /usr/bin/python3 - "$ST" "$1" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
exec(sys.argv[2])
open(p, "wb").write(b)
PY
}
# fingerprint: what the state-file path is (type, link target, bytes).
fingerprint() {
        stat -c '%F %a' "$ST"
        if [ -L "$ST" ]; then readlink "$ST"; fi
        if [ -f "$ST" ]; then sha256sum <"$ST"; fi
        ls -A "$D/state"
}
# damaged DESCRIPTION PATTERN COMMAND...: from the pristine device, COMMAND
# damages the state file; secfud must refuse for PATTERN (after the path
# and before "installs are refused until it is repaired or removed") and
# leave the path as it was; then the operator's repair (removing it) lets
# 1.1.0 stage.
damaged() {
        local desc=$1 pattern=$2
        shift 2
        att_restore
        dev_install_manifest "$J11"
        "$@"
        fingerprint >"$D/fp-before"
        dev_snapshot s
        att_cycle
        att_refused "$IMG11" "state\.json.*($pattern).*installs are refused until it is repaired or removed" "$desc"
        fingerprint >"$D/fp-after"
        cmp -s "$D/fp-before" "$D/fp-after"
        ok $? "$desc: the state file is left exactly as it was"
        bounded 10 "$ONCE_SECONDS" "$desc: $ATT_RUN returns at once (${ONCE_SECONDS}s)"
        rm -rf "$ST"
        att_cycle
        staged 1.1.0 "twin of \"$desc\": with the file removed by the operator"
        att_daemon_report "twin of \"$desc\""
}

flip() { edit_state "i = bytes(b).index($1) + ${3:-0}; b[i] ^= 1 << $2"; }
damaged "bit flip in a member name (highestInstalled)" 'unknown member "iighestInstalled"' \
        flip "b'\"highestInstalled\"'" 0 1
damaged "bit flip in a slot health (good to gooe)" '"health" has an unknown value "gooe"' \
        flip "b'\"good\"'" 0 4
damaged "bit flip in a version (1.0.0 to 1/0.0)" '"(highestInstalled|version)" is not a version' \
        flip "b'\"1.0.0\"'" 0 2
damaged "bit flip in the first byte ({ to z)" 'invalid JSON' flip "b'{'" 0
damaged "bit flip in the format number" '"format" must be 1' flip "b'\"format\": 1'" 1 10
damaged "truncated to half its size" 'invalid JSON' edit_state "b = b[:len(b) // 2]"
damaged "truncated to zero bytes" 'invalid JSON' truncate -s 0 "$ST"
damaged "a JSON array instead of an object" 'not an object|invalid JSON' edit_state "b = b'[' + b + b']'"
cp "$D/pristine/state/state.json" "$D/elsewhere.json"
damaged "replaced by a symbolic link to a valid state file" 'is a symbolic link' \
        ln -sf "$D/elsewhere.json" "$ST"
damaged "replaced by a symbolic link to /dev/zero" 'is a symbolic link' ln -sf /dev/zero "$ST"
to_fifo() { rm -f "$ST" && mkfifo -m 0600 "$ST"; }
to_dir() { rm -f "$ST" && mkdir -m 0700 "$ST"; }
damaged "replaced by a FIFO" 'is not a regular file' to_fifo
damaged "replaced by a directory" 'is not a regular file' to_dir
damaged "grown to 300 KiB (valid JSON, padded)" 'more than the limit of 262144' \
        edit_state "b = b[:-2] + b' ' * (300 * 1024) + b[-2:]"
damaged "world-writable (0666)" 'writable by group or others \(mode 0666\)' chmod 0666 "$ST"
damaged "group-writable (0620)" 'writable by group or others \(mode 0620\)' chmod 0620 "$ST"

# ---------------------------------------------------------------- valid edits
# set_state PYTHON: edits the parsed state s and writes it back.
set_state() {
        /usr/bin/python3 - "$ST" "$1" <<'PY'
import json, sys
p = sys.argv[1]
s = json.load(open(p))
exec(sys.argv[2])
open(p, "w").write(json.dumps(s, indent=2))
PY
}
# run_with_state PYTHON JWS: from the pristine device, edit the state, serve
# JWS, snapshot s, one cycle.
run_with_state() {
        att_restore
        set_state "$1"
        dev_install_manifest "$2"
        dev_snapshot s
        att_cycle
}

J09=$(dev_manifest 0.9.0)
run_with_state "s['highestInstalled'] = '0.0.1'" "$J09"
att_refused "$(dev_image_path 0.9.0)" 'firmwareVersion 0\.9\.0 is older than the running 1\.0\.0: downgrade refused' \
        "highestInstalled lowered to 0.0.1 by hand, 0.9.0 offered"
is "$(state_field "s['highestInstalled']")" 0.0.1 "secfud keeps the lowered highestInstalled (it cannot tell)"
run_with_state "s['highestInstalled'] = '0.0.1'" "$J11"
staged 1.1.0 "twin: highestInstalled lowered, 1.1.0 offered"
att_daemon_report "twin: highestInstalled lowered, 1.1.0 offered"

run_with_state "s['highestInstalled'] = None" "$J09"
[ "$ONCE_STATUS" -ne 0 ] && [ "$(once_errors | wc -l)" -eq 1 ] && once_errors | grep -q 'downgrade refused'
ok $? "highestInstalled removed by hand, 0.9.0 offered: refused, one error line (downgrade refused)"
is "$(att_count "$(dev_image_path 0.9.0)")" 0 "highestInstalled removed by hand: no image byte was requested"
is "$(state_field "s['highestInstalled']")" 1.0.0 "a removed highestInstalled becomes the running version again"
att_daemon_report "highestInstalled removed by hand, 0.9.0 offered"

run_with_state "s['highestInstalled'] = '5.0.0'" "$J11"
att_refused "$IMG11" 'firmwareVersion 1\.1\.0 is not newer than the highest installed 5\.0\.0: rollback refused' \
        "highestInstalled raised to 5.0.0 by hand, 1.1.0 offered"
att_payload 5.0.1 >/dev/null
J501=$D/signed-5.0.1.jws
run_with_state "s['highestInstalled'] = '5.0.0'" "$J501"
staged 5.0.1 "twin: highestInstalled raised to 5.0.0, 5.0.1 offered"
att_daemon_report "twin: highestInstalled raised to 5.0.0, 5.0.1 offered"

run_with_state "s['newestAcceptedTimestamp'] = '2099-01-01T00:00:00Z'" "$J11"
att_refused "$IMG11" 'older than the newest accepted manifest \(2099-01-01T00:00:00Z\): replay refused' \
        "the replay floor raised to 2099 by hand"

# The bootloader environment says slot B is bad (no boot attempts left, out
# of the boot order) while the state file says good.
att_restore
set_state "s['slots']['B'] = {'version': '1.1.0', 'health': 'good'}"
printf 'BOOT_ORDER=A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=0\n' >"$D/bootenv"
cp "$D/bootenv" "$D/bootenv-before"
dev_install_manifest "$J10"
att_cycle
is "$ONCE_STATUS" 0 "state says slot B good, the environment bad: the cycle succeeds (up to date)"
is "$(state_field "s['slots']['B']['health']")" bad "state says slot B good, the environment bad: the environment wins"
cmp -s "$D/bootenv" "$D/bootenv-before"
ok $? "state says slot B good, the environment bad: the environment is not rewritten"
att_daemon_report "state says slot B good, the environment bad"
att_restore
set_state "s['slots']['B'] = {'version': '1.1.0', 'health': 'good'}"
dev_install_manifest "$J10"
att_cycle
is "$(state_field "s['slots']['B']['health']")" good "twin: both say slot B good: it stays good"
att_daemon_report "twin: both say slot B good"

att_done
