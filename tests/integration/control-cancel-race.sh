#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: `secfuctl cancel` racing the bootloader switch, against the running
# daemon.  A cancel either stops the job before the switch (slot B bad,
# the environment byte-identical, apply fails) or is refused as too late
# (the switch completes, apply succeeds) -- never half of each.
#   1. cancel wins: the worker is held (SFU_FAULT=before-switch:hold) after
#      every image is written, synced and verified; the cancel comes then.
#   2. the switch wins: the worker is held inside the environment write
#      (SFU_FAULT=env-write:hold); the cancel comes then.
#   3. the real race: the daemon stops itself before the switch
#      (before-switch:pause); a cancel is sent to the stopped daemon or
#      just as it resumes, so both threads run at once; every outcome
#      must be one of the two (a cancel that comes after the job has
#      ended finds nothing to cancel: the switch won).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"
dev_require
[ -x "$SECFUCTL" ] || skip_all "secfuctl not built"

RACES=${RACES:-8}

fresh() {
        dev_setup || return 1
        SOCK=$D/run/secfud.sock
        POLICY=check dev_write_config # polls never stage: only apply does
        dev_publish 1.1.0
        cp "$D/bootenv" "$D/bootenv.before"
        dev_snapshot s
}

status_field() { # status_field PYTHON-EXPRESSION-ON-d
        dev_ctl --json status 2>/dev/null |
                /usr/bin/python3 -c "import json, sys; d = json.load(sys.stdin); print($1)" 2>/dev/null
}

start_apply() {
        timeout 120 "$SECFUCTL" -s "$SOCK" apply >"$D/apply.out" 2>"$D/apply.err" &
        APPLY_PID=$!
}
wait_apply() {
        wait "$APPLY_PID"
        APPLY_STATUS=$?
}

# cancel_won WHAT: the cancel stopped the job before the switch.
cancel_won() {
        local what=$1
        is "$APPLY_STATUS" 1 "$what: apply fails"
        grep -qi cancel "$D/apply.err"
        ok $? "$what: apply says it was cancelled"
        cmp -s "$D/bootenv" "$D/bootenv.before"
        ok $? "$what: the bootloader environment is byte-identical"
        dev_unchanged s "$what"
        is "$(status_field "d['state'], d['stagedVersion'], d['primarySlot'], d['slots'][1]['health']")" \
                "idle None A bad" "$what: idle, nothing staged, A primary, slot B bad"
        [ ! -e "$D/state/manifest-B.jws" ]
        ok $? "$what: no manifest is recorded for slot B"
}

# switch_won WHAT: the cancel came too late and changed nothing.
switch_won() {
        local what=$1
        is "$APPLY_STATUS" 0 "$what: apply succeeds"
        grep -qx 'BOOT_ORDER=B A' "$D/bootenv"
        ok $? "$what: the bootloader tries B first"
        is "$(status_field "d['state'], d['stagedVersion'], d['primarySlot'], d['slots'][1]['health']")" \
                "staged 1.1.0 B staged" "$what: staged, B primary, slot B staged"
        slot_b_is "$D/img-1.1.0.img"
        ok $? "$what: slot B holds the 1.1.0 image"
        cmp -s "$D/state/manifest-B.jws" "$WWW/.well-known/firmware/example.com/gw100/manifest.json"
        ok $? "$what: the manifest is recorded for slot B"
}

# ---------------------------------------------------------------- 1. cancel wins
fresh
SFU_FAULT=before-switch:hold dev_daemon_start
ok $? "cancel before the switch: daemon started"
start_apply
wait_until 30 grep -q "image firmware verified in slot B" "$D/daemon.log"
ok $? "cancel before the switch: the image is written, synced and verified"
out=$(dev_ctl cancel 2>&1)
is "$?/$out" "0/cancelled" "cancel before the switch: cancel answers cancelled"
wait_apply
cancel_won "cancel before the switch"
grep -q "cancelled before the bootloader switch" "$D/daemon.log"
ok $? "cancel before the switch: the log says where it stopped"
dev_ctl apply >/dev/null 2>&1
is "$?" 0 "cancel before the switch: the next apply succeeds"
grep -qx 'BOOT_ORDER=B A' "$D/bootenv"
ok $? "cancel before the switch: the next apply switches the bootloader"
dev_daemon_done "cancel before the switch"

# ---------------------------------------------------------------- 2. the switch wins
fresh
SFU_FAULT=env-write:hold dev_daemon_start
ok $? "cancel during the switch: daemon started"
start_apply
wait_until 30 eval '[[ "$(status_field "d[\"stateReason\"] if \"stateReason\" in d else d.get(\"reason\", \"\")")" == switching* ]]'
ok $? "cancel during the switch: the daemon is switching the bootloader"
out=$(dev_ctl cancel 2>&1)
rc=$?
is "$rc" 1 "cancel during the switch: cancel fails (exit 1)"
grep -q "too late to cancel" <<<"$out"
ok $? "cancel during the switch: it says it is too late ($out)"
wait_apply
switch_won "cancel during the switch"
dev_daemon_done "cancel during the switch"

# ---------------------------------------------------------------- 3. the real race
n_cancelled=0
n_too_late=0
n_after=0
for ((i = 1; i <= RACES; i++)); do
        fresh
        SFU_FAULT=before-switch:pause dev_daemon_start
        start_apply
        if ! wait_until 30 eval '[ "$(awk "{ print \$3 }" "/proc/$SECFUD_PID/stat" 2>/dev/null)" = T ]'; then
                ok 1 "race $i: the daemon stops before the switch"
                continue
        fi
        if ((i % 2)); then
                # the cancel waits in the socket's queue while the daemon
                # is stopped: it reaches the loop as the worker resumes
                timeout 60 "$SECFUCTL" -s "$SOCK" cancel >"$D/cancel.out" 2>&1 &
                cancel_pid=$!
                sleep 0.2
                kill -CONT "$SECFUD_PID"
        else
                # the cancel leaves as the worker resumes, a few ms behind
                kill -CONT "$SECFUD_PID"
                timeout 60 "$SECFUCTL" -s "$SOCK" cancel >"$D/cancel.out" 2>&1 &
                cancel_pid=$!
        fi
        wait "$cancel_pid"
        cancel_status=$?
        wait_apply
        if [ "$cancel_status" = 0 ] && grep -qx cancelled "$D/cancel.out"; then
                n_cancelled=$((n_cancelled + 1))
                cancel_won "race $i (the cancel won)"
        elif [ "$cancel_status" = 1 ] && grep -q "too late to cancel" "$D/cancel.out"; then
                n_too_late=$((n_too_late + 1))
                switch_won "race $i (the switch won)"
        elif [ "$cancel_status" = 1 ] && grep -q "no operation is running" "$D/cancel.out"; then
                # the cancel came after the job had ended (a slow client:
                # the sanitizer build) -- the switch won by a wider margin
                n_after=$((n_after + 1))
                switch_won "race $i (the job ended before the cancel)"
        else
                ok 1 "race $i: cancel answers cancelled, too late or nothing running (exit $cancel_status: $(cat "$D/cancel.out"))"
        fi
        dev_daemon_done "race $i"
done
diag "races: the cancel won $n_cancelled, the switch won $n_too_late, the job ended first $n_after of $RACES"

tap_done
