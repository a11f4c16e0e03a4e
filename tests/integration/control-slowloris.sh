#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: slow and silent clients on the control socket cannot hold it.
# The daemon runs with short limits (test builds:
# SFU_TEST_CONTROL_TIMEOUTS=REQUEST_MS,IDLE_MS; the defaults are 10 s and
# 60 s): a request must be whole within REQUEST_MS of its first byte, a
# connection with nothing to do is closed after IDLE_MS, a Monitor (a call
# still running) is never idle, and 8 of the 64 connection slots are kept
# for root.  Meanwhile root's status answers within 1 s.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"
dev_require
[ -x "$SECFUCTL" ] || skip_all "secfuctl not built"
[ "$(id -u)" -eq 0 ] || skip_all "needs root (clients of other uids)"

REQUEST_MS=2000
IDLE_MS=5000

dev_setup
chmod 755 "$D" # clients of other uids reach $D/run/secfud.sock
SOCK=$D/run/secfud.sock
POLICY=check dev_write_config
dev_snapshot s
SFU_TEST_CONTROL_TIMEOUTS=$REQUEST_MS,$IDLE_MS dev_daemon_start
ok $? "daemon started (request limit $REQUEST_MS ms, idle limit $IDLE_MS ms)"

# The scenarios run in one python process (it takes other uids with
# seteuid around connect(): SO_PEERCRED records the effective uid); it
# prints "1 DESCRIPTION" or "0 DESCRIPTION" per check, and calls secfuctl
# as root for the "root still gets in" checks.
/usr/bin/python3 - "$SOCK" "$REQUEST_MS" "$IDLE_MS" "$SECFUCTL" >"$D/slowloris.out" 2>&1 <<'PY'
import os, socket, subprocess, sys, time

SOCK, REQUEST, IDLE, SECFUCTL = sys.argv[1], int(sys.argv[2]) / 1000, int(sys.argv[3]) / 1000, sys.argv[4]
STATUS = b'{"method":"org.secfu.Daemon.Status"}\0'
NOBODY = 65534


def check(cond, desc):
    print(("1 " if cond else "0 ") + desc, flush=True)


def connect(uid=0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if uid:
        os.seteuid(uid)
    try:
        s.connect(SOCK)
    finally:
        if uid:
            os.seteuid(0)
    return s


def is_closed(s):
    """True once the daemon closed s (EOF or reset); never blocks."""
    s.setblocking(False)
    try:
        return s.recv(65536) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def wait_closed(socks, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(is_closed(s) for s in socks):
            return True
        time.sleep(0.05)
    return False


def refused(uid):
    """A new connection of uid is closed at once, unanswered."""
    s = connect(uid)
    try:
        s.sendall(STATUS)
    except OSError:
        return True
    ok = wait_closed([s], 2)
    s.close()
    return ok


def root_status(desc):
    t0 = time.monotonic()
    r = subprocess.run([SECFUCTL, "-s", SOCK, "status"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=10)
    ms = (time.monotonic() - t0) * 1000
    check(r.returncode == 0 and ms < 1000, f"{desc}: root's status answers within 1 s ({ms:.0f} ms)")


def answer(s, timeout=5):
    s.setblocking(True)
    s.settimeout(timeout)
    data = b""
    while not data.endswith(b"\0"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


# 1. sixteen half-sent requests of one unprivileged uid
half = [connect(NOBODY) for _ in range(16)]
for s in half:
    s.sendall(STATUS[:20])
time.sleep(0.3)
check(not any(is_closed(s) for s in half), "16 half-sent requests of uid nobody: connected")
check(refused(NOBODY), "a 17th connection of uid nobody is refused (16 per uid)")
root_status("16 half-sent requests held")
t0 = time.monotonic()
closed = wait_closed(half, REQUEST + 3)
took = time.monotonic() - t0 + 0.3
check(closed, f"the 16 half-sent requests are closed by the daemon ({took:.1f} s)")
check(took >= REQUEST * 0.9, f"... not before the request limit ({took:.1f} s >= {REQUEST:.1f} s)")
for s in half:
    s.close()
s = connect(NOBODY)
s.sendall(STATUS)
check(b'"state"' in answer(s), "uid nobody gets in again afterwards and is answered")
s.close()

# 2. a request dripped one byte at a time: progress does not extend the limit
s = connect(NOBODY)
t0 = time.monotonic()
sent = 0
dripped_out = False
while time.monotonic() - t0 < REQUEST * 3:
    try:
        s.send(STATUS[sent:sent + 1])
    except OSError:
        dripped_out = True
        break
    sent += 1
    if sent == len(STATUS) - 1:
        break  # never the final NUL
    if is_closed(s):
        dripped_out = True
        break
    time.sleep(REQUEST / 20)
s.setblocking(True)
took = time.monotonic() - t0
check(dripped_out, f"a request dripped a byte at a time is cut off ({took:.1f} s, {sent} bytes)")
check(REQUEST * 0.9 <= took < REQUEST * 2.5, f"... near the request limit ({took:.1f} s)")
s.close()

# 3. slow but whole in time: answered
s = connect(NOBODY)
s.sendall(STATUS[:10])
time.sleep(REQUEST / 3)
s.sendall(STATUS[10:])
check(b'"state"' in answer(s), "a request sent in two parts within the limit is answered")
# and the connection may be used again before it goes idle
s.sendall(STATUS)
check(b'"state"' in answer(s), "... and a second request on the same connection too")
s.close()

# 4. a silent connection is idle: closed after the idle limit, not before
silent = connect(NOBODY)
monitor = connect(NOBODY)
monitor.sendall(b'{"method":"org.secfu.Daemon.Monitor","more":true}\0')
first = answer(monitor)
check(b'"continues":true' in first, "a Monitor subscription is answered and continues")
t0 = time.monotonic()
time.sleep(min(REQUEST, IDLE) * 0.75)
check(not is_closed(silent), "a silent connection survives the request limit (it sent nothing)")
closed = wait_closed([silent], IDLE + 3)
took = time.monotonic() - t0
check(closed, f"a silent connection is closed after the idle limit ({took:.1f} s)")
check(took >= IDLE * 0.9, f"... not before it ({took:.1f} s >= {IDLE:.1f} s)")
check(not is_closed(monitor), "the Monitor connection, silent as long, stays open")
r = subprocess.run([SECFUCTL, "-s", SOCK, "check"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
monitor.setblocking(True)
monitor.settimeout(5)
try:
    event = monitor.recv(65536)
except OSError:
    event = b""
check(b'"continues":true' in event, "... and still receives events (after a check)")
monitor.close()
silent.close()

# 5. four unprivileged uids fill what is not kept for root
others = []
for uid in (60001, 60002, 60003, 60004):
    others += [connect(uid) for _ in range(14)]
time.sleep(0.3)
check(not any(is_closed(s) for s in others), "56 connections of four unprivileged uids are accepted")
check(refused(60005), "a 57th unprivileged connection (a fifth uid) is refused: 8 slots are kept for root")
root_status("56 unprivileged connections held")
closed = wait_closed(others, IDLE + 3)
check(closed, "the 56 idle connections are closed after the idle limit")
for s in others:
    s.close()
PY
while read -r verdict desc; do
        case $verdict in
        1) ok 0 "$desc" ;;
        0) ok 1 "$desc" ;;
        *) diag "$verdict $desc" ;;
        esac
done <"$D/slowloris.out"
grep -q '^1 ' "$D/slowloris.out"
ok $? "the scenarios ran"

grep -q "uid 65534: its request is still incomplete after 2.0 s" "$D/daemon.log"
ok $? "the daemon log names the uid and the reason for the cut-off connections"
dev_unchanged s "slow, silent and surplus clients"
dev_daemon_done "after the slow clients"

tap_done
