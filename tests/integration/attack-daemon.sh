#!/bin/bash
# Refused inputs against the running daemon (not --once): after each, the
# running slot, the bootloader environment, the trust store and the
# installed versions are unchanged, and the daemon is alive and answers
# Status within 1 s. Each refusal has a positive twin at the end.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
[ -x "$SECFUCTL" ] || skip_all "secfuctl not built"

dev_setup
SOCK=$D/run/secfud.sock
POLICY=check dev_write_config
dev_snapshot before
dev_daemon_start
ok $? "daemon started"

# alive_fast DESCRIPTION: Status answered within 1 s, and nothing changed
alive_fast() {
        local t0 t1
        t0=$(date +%s%N)
        timeout 5 "$SECFUCTL" -s "$SOCK" --json status >"$D/status.json" 2>/dev/null
        local rc=$?
        t1=$(date +%s%N)
        ok $(( rc == 0 && (t1 - t0) < 1000000000 ? 0 : 1 )) "$1: the daemon answers Status within 1 s ($(( (t1 - t0) / 1000000 )) ms)"
        dev_unchanged before "$1"
}

# 1. a manifest signed by the attacker, through check and apply
KEY=attacker dev_publish 1.1.0
dev_ctl check >"$D/out" 2>&1; rc=$?
ok $(( rc == 1 ? 0 : 1 )) "attacker-signed manifest: check fails (exit $rc)"
grep -qi "signature\|trusted key\|does not verify" "$D/out"; ok $? "attacker-signed manifest: the reason is given"
dev_ctl apply >"$D/out" 2>&1; rc=$?
ok $(( rc == 1 ? 0 : 1 )) "attacker-signed manifest: apply fails (exit $rc)"
[ "$(fixture_count "$(dev_image_path 1.1.0)")" -eq 0 ]; ok $? "attacker-signed manifest: no image byte requested"
alive_fast "attacker-signed manifest"

# 2. 10 MB of garbage as an operator-supplied manifest file
head -c 10485760 /dev/urandom >"$D/garbage.jws"
dev_ctl apply "$D/garbage.jws" >"$D/out" 2>&1; rc=$?
ok $(( rc == 1 ? 0 : 1 )) "10 MB of garbage via apply FILE: refused (exit $rc)"
grep -qiE "size|limit|exceeds|larger" "$D/out"; ok $? "10 MB of garbage: the reason names the size"
alive_fast "10 MB of garbage"

# 3. deep nesting and broken JSON sent straight to the control socket
/usr/bin/python3 - "$SOCK" >"$D/raw.out" 2>&1 <<'PY'
import socket, sys
def send(data):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sys.argv[1])
    s.sendall(data)
    try:
        reply = s.recv(65536)
    except socket.timeout:
        reply = b"TIMEOUT"
    s.close()
    return reply
deep = b'{"method":"org.secfu.Daemon.Status","parameters":' + b'[' * 60000 + b']' * 60000 + b'}\0'
print("deep:", send(deep)[:120])
nested = b'{"method":"org.secfu.Daemon.Status","parameters":{"x":' + b'[' * 15000 + b']' * 15000 + b'}}\0'
print("deep-within-64k:", send(nested)[:120])
print("nul-in-string:", send(b'{"method":"org.secfu.Daemon.Status\\u0000x","parameters":{}}\0')[:120])
print("utf8:", send(b'{"method":"org.secfu.Daemon.\xff\xfe","parameters":{}}\0')[:120])
print("dup:", send(b'{"method":"org.secfu.Daemon.Status","method":"org.secfu.Daemon.Apply","parameters":{}}\0')[:120])
PY
ok $? "raw hostile requests sent"
! grep -q TIMEOUT "$D/raw.out"; ok $? "every hostile request got an answer or a close, never a hang"
! grep -q '"parameters": *{ *"state"' "$D/raw.out"; ok $? "no hostile request was executed as a Status or Apply"
sed 's/^/# /' "$D/raw.out"
alive_fast "deep nesting, NUL, invalid UTF-8, duplicate keys on the socket"

# twin: the same daemon stages a good manifest afterwards
dev_publish 1.2.0
dev_ctl apply >"$D/out" 2>&1; rc=$?
ok $(( rc == 0 ? 0 : 1 )) "twin: a factory-signed 1.2.0 is staged by the same daemon (exit $rc)" ||
        { sed 's/^/# apply: /' "$D/out"; tail -n 20 "$D/daemon.log" | sed 's/^/# secfud: /'; }
slot_b_is "$D/img-1.2.0.img"; ok $? "twin: slot B holds 1.2.0"
dev_daemon_stop
ok $? "daemon stops cleanly"

# A refused poll (a state file others may write) cannot record lastCheck:
# the next poll still waits for the interval, not a loop of refusals.
chmod 666 "$D/state/state.json"
dev_snapshot before # the device as the twin left it
sed -i 's/^\[poll\]$/[poll]\ninterval = 1m\njitter = 0s/' "$CONF"
: >"$D/daemon.log"
SFU_TEST_POLL_AT_START=1 dev_daemon_start
ok $? "daemon with a refused state file started"
wait_until 10 grep -q "writable by group or others" "$D/daemon.log"
ok $? "refused state file: the first poll is refused, with the reason"
sleep 3
is "$(grep -c "^<3>.*writable by group or others" "$D/daemon.log")" 1 \
        "refused state file: one refusal in 3 s, the next poll waits for the interval"
alive_fast "refused state file"
dev_daemon_stop
ok $? "daemon with a refused state file stops cleanly"
tap_done
