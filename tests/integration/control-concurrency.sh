#!/bin/bash
# Many clients at once: two monitors follow one apply (status first, then
# state and progress events), 50 parallel applies of which exactly one
# runs and the others get "busy", a client that stops reading its replies
# is dropped while others are served, the cap on connections, and the
# progress bar on a terminal.  TAP output.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/control-lib.sh
. "$top_srcdir/tests/integration/control-lib.sh"
ctl_require curl timeout
trap ctl_cleanup EXIT

CTL_IMAGE_SIZE=3000000
ctl_setup
ctl_start || bail "secfud does not start"
IMAGE_PATH=/.well-known/firmware/example.com/gw100/fw-1.1.0.img

# ---------------------------------------------------------------- two monitors, one apply
# About 3 s of download, so that progress events flow.
fixture_rule "$IMAGE_PATH" '{"drip": {"bytes": 65536, "interval": 0.06}}' >/dev/null
"$SECFUCTL" -s "$SOCK" monitor --json >"$W/mon1.out" 2>"$W/mon1.err" &
mon1=$!
"$SECFUCTL" -s "$SOCK" monitor >"$W/mon2.out" 2>"$W/mon2.err" &
mon2=$!
for ((i = 0; i < 50; i++)); do
        [ -s "$W/mon1.out" ] && [ -s "$W/mon2.out" ] && break
        sleep 0.1
done
sfctl apply --json >"$W/apply.out"
is "$?" 0 "apply with two monitors attached"
sleep 0.5
kill -INT "$mon1" "$mon2"
wait "$mon1"
is "$?" 0 "monitor --json exits 0 on SIGINT"
wait "$mon2"
is "$?" 0 "monitor exits 0 on SIGINT"
is "$(head -n 1 "$W/mon1.out" | json_get 'd["event"], d["status"]["state"]')" "('status', 'idle')" \
        "monitor: the first message is the current status"
"$PY" - "$W/mon1.out" >"$W/mon1.summary" <<'EOF'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
states = [e["status"]["state"] for e in events if e["event"] == "state"]
progress = [e["status"]["progress"] for e in events if e["event"] == "progress" and e["status"]["progress"]]
print("downloading" in states, states[-1] if states else None, len(progress) >= 3,
      all(p["total"] > 0 and 0 <= p["done"] <= p["total"] for p in progress),
      any(p["phase"] == "downloading" and 0 < p["done"] < p["total"] for p in progress))
EOF
is "$(cat "$W/mon1.summary")" "True staged True True True" \
        "monitor --json: state events through downloading to staged, progress events with sane counts"
cond "monitor (human): one line per event, state lines" -n "$(grep -E '^[0-9:]{8} state: staged \(' "$W/mon2.out")"
cond "monitor (human): progress lines" -n "$(grep -E '^[0-9:]{8} progress: downloading firmware: [0-9]+% \(' "$W/mon2.out")"
is "$(wc -l <"$W/mon1.out" | awk '{print ($1 > 5)}')" 1 "monitor --json: one JSON object per line, several lines"

# ---------------------------------------------------------------- 50 parallel applies
# Fresh start: slot B empty again, 1.2.0 on the server, a slow download.
ctl_stop
printf '{"format": 1, "state": "idle", "lastCheck": "%s"}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$W/state/state.json"
printf 'BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n' >"$W/bootenv"
ctl_start || bail "secfud does not restart"
fixture_rule "$IMAGE_PATH" '{"drip": {"bytes": 65536, "interval": 0.1}}' >/dev/null
mkdir "$W/par"
pids=()
for ((i = 0; i < 50; i++)); do
        (
                sfctl apply --json >"$W/par/$i.out" 2>"$W/par/$i.err"
                echo $? >"$W/par/$i.rc"
        ) &
        pids+=($!)
done
wait "${pids[@]}"
is "$(cat "$W"/par/*.rc | grep -c '^0$')" 1 "50 parallel applies: exactly one succeeds"
is "$(cat "$W"/par/*.rc | grep -c '^1$')" 49 "50 parallel applies: 49 exit with status 1"
is "$(grep -l 'another operation is running' "$W"/par/*.err | wc -l)" 49 "the 49 were told another operation is running"
is "$(cat "$W"/par/*.out | json_get 'd["result"]')" staged "the one that ran staged the update"
is "$(grep -c 'Apply started by uid' "$W/secfud.log")" 2 "the log shows one more apply started (two in all)"
fixture_clear "$IMAGE_PATH" >/dev/null

# ---------------------------------------------------------------- a client that does not read
"$PY" - "$SOCK" >"$W/slow.out" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.settimeout(20)
try:
    # 5000 pipelined calls, several MiB of answers, none read for now.
    s.sendall(b'{"method":"org.secfu.Daemon.Status"}\0' * 5000)
except OSError as e:
    pass
time.sleep(3)
total = 0
s.settimeout(3)
try:
    while True:
        c = s.recv(1 << 20)
        if not c:
            print("closed after", total)
            break
        total += len(c)
except ConnectionResetError:
    print("reset after", total)
except OSError as e:
    print("still open after", total, e)
EOF
slow=$!
sleep 1
start=$(date +%s%N)
out=$(timeout 5 "$SECFUCTL" -s "$SOCK" status --json | json_get 'd["state"]')
end=$(date +%s%N)
is "$out" staged "status is served while a client does not read"
is "$(( (end - start) < 2000000000 ))" 1 "... promptly (under 2 s)"
wait "$slow"
cond "the client that did not read was disconnected" -n "$(grep -E '^(closed|reset) after' "$W/slow.out")"
cond "the log says why" -n "$(grep 'dropping the control connection of uid 0: it does not read its replies' "$W/secfud.log")"

# ---------------------------------------------------------------- the connection cap
out=$("$PY" - "$SOCK" 70 <"$top_srcdir/tests/lib/ctl-flood.py")
is "$out" 64 "at most 64 connections at once; the rest are closed"
cond "the log says so" -n "$(grep 'too many control connections' "$W/secfud.log")"
sfctl status >/dev/null
is "$?" 0 "served again once they are gone"

# ---------------------------------------------------------------- the progress bar on a terminal
if command -v script >/dev/null; then
        sfctl mark-bad >/dev/null 2>&1 || true # nothing to stage otherwise: reset below
        ctl_stop
        printf '{"format": 1, "state": "idle", "lastCheck": "%s"}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
                >"$W/state/state.json"
        printf 'BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n' >"$W/bootenv"
        ctl_start || bail "secfud does not restart"
        fixture_rule "$IMAGE_PATH" '{"drip": {"bytes": 65536, "interval": 0.05}}' >/dev/null
        COLUMNS=100 script -qefc "stty cols 100; '$SECFUCTL' -s '$SOCK' apply" "$W/tty.out" >/dev/null 2>&1
        is "$?" 0 "apply on a terminal exits 0"
        cond "terminal: the bar is redrawn in place" -n "$(grep -c $'\r\e\\[Kdownloading \\[#*\\.*\\] ' "$W/tty.out")"
        cond "terminal: percentage, bytes, rate and ETA" \
                -n "$(grep -aoE '[0-9]+%  [0-9.]+ [KM]?i?B / 2\.9 MiB  [0-9.]+ [KM]?i?B/s  ETA [0-9]+:[0-9]{2}' "$W/tty.out")"
        cond "terminal: the result line follows" -n "$(grep -a '1.1.0 staged (from manufacturer)' "$W/tty.out")"
        fixture_clear "$IMAGE_PATH" >/dev/null
else
        skip "apply on a terminal" "script(1) is not installed"
fi

ctl_done
