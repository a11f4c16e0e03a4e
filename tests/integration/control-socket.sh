#!/bin/bash
# The control socket end to end: every method through secfuctl (human and
# --json output), the Varlink service methods and protocol errors sent as
# raw bytes, a whole install cycle (check, apply, simulated reboot into the
# trial slot, mark-good, rollback, mark-bad) and secfuctl's exit codes.
# TAP output.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/control-lib.sh
. "$top_srcdir/tests/integration/control-lib.sh"
ctl_require curl
trap ctl_cleanup EXIT

ctl_setup
ctl_start || bail "secfud does not start"
BOOTSIM="$top_srcdir/tests/integration/bootsim"
# 1.1.0 keeps 1.0.0 allowed (rollbackFloor): the rollback and mark-bad of
# the install cycle below cross no anti-rollback floor.
"$PY" -c 'import json, sys; m = json.load(open(sys.argv[1])); m["rollbackFloor"] = "1.0.0"; json.dump(m, open(sys.argv[1], "w"))' \
        "$W/manifest-1.1.0.json" && "$MANIFEST" sign --key "$W/vendor.key" --alg ES256 "$W/manifest-1.1.0.json" \
        >"$W/manifest-1.1.0.jws" && "$MANIFEST" publish --root "$ROOT" "$W/manifest-1.1.0.jws" "$W/fw-1.1.0.img" \
        >/dev/null || bail "cannot publish 1.1.0 with a rollbackFloor"

# ---------------------------------------------------------------- the socket
is "$(stat -c %a "$SOCK")" 666 "socket mode 0666"
is "$(stat -c %a "$W/run")" 755 "runtime directory created 0755"

# ---------------------------------------------------------------- status
out=$(sfctl status)
is "$?" 0 "status exits 0"
cond "status: aligned state line" -n "$(grep -E '^state: +idle$' <<<"$out")"
cond "status: booted slot line" -n "$(grep -E '^booted slot: +A$' <<<"$out")"
cond "status: running version line" -n "$(grep -E '^running version: +1\.0\.0$' <<<"$out")"
cond "status: slot table row for A" -n "$(grep -E '^  rootfs +A +1\.0\.0 +good +yes ' <<<"$out")"
cond "status: slot table row for B" -n "$(grep -E '^  rootfs +B +- +empty +no ' <<<"$out")"

sfctl status --json >"$W/status.json"
is "$?" 0 "status --json exits 0"
is "$(json_get 'sorted(k for k in ["state", "bootedSlot", "primarySlot", "runningVersion", "availableVersion", "stagedVersion", "slots", "lastCheck", "newestSeen", "progress", "lastError"] if k not in d)' <"$W/status.json")" \
        "[]" "status --json carries every field of DESIGN section 6"
is "$(json_get 'd["state"], d["bootedSlot"], d["runningVersion"], d["progress"], d["lastError"]' <"$W/status.json")" \
        "('idle', 'A', '1.0.0', None, None)" "status --json values"
is "$(json_get '[(s["bootname"], s["health"], s["booted"], s["class"]) for s in d["slots"]]' <"$W/status.json")" \
        '[["A", "good", true, "rootfs"], ["B", "empty", false, "rootfs"]]' "status --json slots"

# ---------------------------------------------------------------- Varlink service
out=$(ctl_raw1 '{"method":"org.varlink.service.GetInfo"}\0')
is "$(json_get 'd["parameters"]["product"], "org.secfu.Daemon" in d["parameters"]["interfaces"], "org.varlink.service" in d["parameters"]["interfaces"]' <<<"$out")" \
        "('secfud', True, True)" "GetInfo names the product and both interfaces"
out=$(ctl_raw1 '{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"org.secfu.Daemon"}}\0')
desc=$(json_get 'd["parameters"]["description"]' <<<"$out")
cond "GetInterfaceDescription: the interface line" -n "$(grep -x 'interface org.secfu.Daemon' <<<"$desc")"
missing=""
for m in Status Check Apply Cancel Rollback MarkGood MarkBad Monitor; do
        grep -q "^method $m(" <<<"$desc" || missing="$missing $m"
done
is "$missing" "" "GetInterfaceDescription declares every method"
out=$(ctl_raw1 '{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"org.varlink.service"}}\0')
cond "GetInterfaceDescription of org.varlink.service" -n "$(json_get 'd["parameters"]["description"]' <<<"$out" | grep -x 'interface org.varlink.service')"
out=$(ctl_raw1 '{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"org.example.Nope"}}\0')
is "$(json_get 'd["error"], d["parameters"]["interface"]' <<<"$out")" \
        "('org.varlink.service.InterfaceNotFound', 'org.example.Nope')" "unknown interface description: InterfaceNotFound"
out=$(ctl_raw1 '{"method":"org.varlink.service.GetInfo","parameters":{"x":1}}\0')
is "$(json_get 'd["error"], d["parameters"]["parameter"]' <<<"$out")" \
        "('org.varlink.service.InvalidParameter', 'x')" "GetInfo with a parameter: InvalidParameter"

# ---------------------------------------------------------------- protocol errors
out=$(ctl_raw1 '{"method":"org.secfu.Daemon.Frobnicate"}\0')
is "$(json_get 'd["error"], d["parameters"]["method"]' <<<"$out")" \
        "('org.varlink.service.MethodNotFound', 'org.secfu.Daemon.Frobnicate')" "unknown method: MethodNotFound"
out=$(ctl_raw1 '{"method":"org.example.Other.Call"}\0')
is "$(json_get 'd["error"]' <<<"$out")" "org.varlink.service.InterfaceNotFound" "unknown interface: InterfaceNotFound"
out=$(ctl_raw '{"method":"org.secfu.Daemon.Apply","parameters":{"wait":"yes"}}\0{"method":"org.secfu.Daemon.Status"}\0')
is "$(head -n 1 <<<"$out" | json_get 'd["error"], d["parameters"]["parameter"]')" \
        "('org.varlink.service.InvalidParameter', 'wait')" "Apply with a wrongly typed parameter: InvalidParameter"
is "$(sed -n 2p <<<"$out" | json_get 'd["parameters"]["state"]')" "idle" \
        "the connection stays usable after InvalidParameter (pipelined Status answered)"
out=$(ctl_raw1 '{"method":"org.secfu.Daemon.Apply","parameters":{"colour":"blue"}}\0')
is "$(json_get 'd["error"], d["parameters"]["parameter"]' <<<"$out")" \
        "('org.varlink.service.InvalidParameter', 'colour')" "Apply with an unknown parameter: InvalidParameter"
out=$(ctl_raw1 '{"method":"org.secfu.Daemon.Apply","parameters":{"source":"relative/m.jws"}}\0')
is "$(json_get 'd["error"], d["parameters"]["parameter"]' <<<"$out")" \
        "('org.varlink.service.InvalidParameter', 'source')" "Apply with a relative source: InvalidParameter"
out=$(ctl_raw '{"method":"org.secfu.Daemon.Status","oneway":true}\0{"method":"org.secfu.Daemon.Status"}\0')
is "$(wc -l <<<"$out")" 2 "a oneway call gets no reply, the next call one"
n_before=$(grep -c '<5>MarkGood by uid 0' "$W/secfud.log")
"$PY" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"{\"method\":\"org.secfu.Daemon.MarkGood\",\"oneway\":true}\0")
s.close()' "$SOCK"
for ((i = 0; i < 50; i++)); do
        [ "$(grep -c '<5>MarkGood by uid 0' "$W/secfud.log")" -gt "$n_before" ] && break
        sleep 0.1
done
is "$(grep -c '<5>MarkGood by uid 0' "$W/secfud.log")" "$((n_before + 1))" \
        "a oneway call from a client that closes at once is still carried out"
out=$(ctl_raw1 '{"method":"org.secfu.Daemon.Monitor"}\0')
is "$(json_get 'd["parameters"]["event"], "continues" in d, d["parameters"]["status"]["state"]' <<<"$out")" \
        "('status', False, 'idle')" "Monitor without more: one reply with the status"

out=$(ctl_raw --keep '{"method": nope}\0{"method":"org.secfu.Daemon.Status"}\0')
is "$(head -n 1 <<<"$out" | json_get 'd["error"], d["parameters"]["code"]')" \
        "('org.secfu.Daemon.ParseError', 'parse')" "malformed JSON: ParseError"
is "$(sed -n 2p <<<"$out")" "EOF" "malformed JSON: the connection is closed, the rest not served"
out=$(ctl_raw '{"method":"org.secfu.Daemon.Status","bogus":1}\0')
is "$(head -n 1 <<<"$out" | json_get 'd["error"]')" "org.secfu.Daemon.ParseError" "unknown message field: ParseError"

# Oversize, with another client connected all along.
"$PY" - "$SOCK" >"$W/bystander.out" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
time.sleep(1.5)
s.sendall(b'{"method":"org.secfu.Daemon.Status"}\0')
s.settimeout(5)
print(s.recv(65536).split(b"\0")[0].decode())
EOF
bystander=$!
sleep 0.3
out=$("$PY" - "$SOCK" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.settimeout(5)
try:
    s.sendall(b'{"method":"org.secfu.Daemon.Status","parameters":{"x":"' + b"a" * 70000)
except OSError:
    pass
data = b""
try:
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
    end = "CLOSED"
except ConnectionResetError:
    end = "CLOSED"  # closed with our surplus bytes unread
except OSError as e:
    end = "error %s" % e
print(data.split(b"\0")[0].decode())
print(end)
EOF
)
is "$(head -n 1 <<<"$out" | json_get 'd["error"], d["parameters"]["code"]')" \
        "('org.secfu.Daemon.SizeExceeded', 'size')" "request over 64 KiB: SizeExceeded"
is "$(sed -n 2p <<<"$out")" "CLOSED" "request over 64 KiB: then the connection is closed"
wait "$bystander"
is "$(json_get 'd["parameters"]["state"]' <"$W/bystander.out")" "idle" "a client connected meanwhile is still served"
out=$(ctl_raw1 "{\"method\":\"org.secfu.Daemon.Status\",\"parameters\":{},\"more\":false$(printf '%*s' 65400 '')}\\0")
is "$(json_get 'd["parameters"]["state"]' <<<"$out")" "idle" "a request just under 64 KiB is served"
sfctl status >/dev/null
is "$?" 0 "secfud still serves after the bad requests"

# ---------------------------------------------------------------- check
out=$(sfctl check)
is "$?" 0 "check exits 0 when an update exists"
is "$out" "update available: 1.1.0 (from manufacturer); install it with: secfuctl apply" "check: human output"
is "$(sfctl check --json | json_get 'd["result"], d["version"], d["source"]')" \
        "('available', '1.1.0', 'manufacturer')" "check --json"
is "$(sfctl status --json | json_get 'd["availableVersion"], d["newestSeen"]["version"], d["newestSeen"]["source"]')" \
        "('1.1.0', '1.1.0', 'manufacturer')" "status after check: available and newest seen"

# ---------------------------------------------------------------- cancel with nothing running
out=$(sfctl cancel 2>&1)
is "$?" 1 "cancel with nothing running exits 1"
cond "cancel with nothing running says so" -n "$(grep 'no operation is running' <<<"$out")"

# ---------------------------------------------------------------- apply
cp "$W/slotA.img" "$W/slotA.before"
out=$(sfctl apply </dev/null)
is "$?" 0 "apply exits 0"
cond "apply (not a terminal): plain progress lines" -n "$(grep -E '^downloading: [0-9]+% \(' <<<"$out")"
is "$(grep -cE '^downloading: ' <<<"$out" | awk '{print ($1 <= 11)}')" 1 "apply: at most one line per 10%"
is "$(tail -n 1 <<<"$out")" "1.1.0 staged (from manufacturer); reboot to try it (systemctl reboot)" "apply: result line"
sfctl status --json >"$W/status.json"
is "$(json_get 'd["state"], d["stagedVersion"], d["primarySlot"], [s["health"] for s in d["slots"]]' <"$W/status.json")" \
        "('staged', '1.1.0', 'B', ['good', 'staged'])" "status after apply: staged in B, B primary"
cmp -s "$W/fw-1.1.0.img" <(head -c "$(stat -c %s "$W/fw-1.1.0.img")" "$W/slotB.img")
is "$?" 0 "slot B holds the image"
cmp -s "$W/slotA.img" "$W/slotA.before"
is "$?" 0 "the running slot A is untouched"
is "$(sfctl check --json | json_get 'd["result"]')" "staged" "check after staging: staged"

out=$(sfctl apply --reboot --json)
is "$?" 0 "apply --reboot --json exits 0"
is "$(json_get 'd["result"], d["reboot"]' <<<"$out")" "('staged', True)" "apply --reboot: reboot requested"
for ((i = 0; i < 50; i++)); do [ -s "$W/reboot.log" ] && break; sleep 0.1; done
is "$(cat "$W/reboot.log" 2>/dev/null)" "reboot" "apply --reboot ran 'systemctl reboot'"
out=$(sfctl apply --no-wait --json)
is "$(json_get 'd["result"]' <<<"$out")" "started" "apply --no-wait answers at once"
for ((i = 0; i < 100; i++)); do
        [ "$(sfctl status --json | json_get 'd["busy"]')" = false ] && break
        sleep 0.1
done
is "$(sfctl status --json | json_get 'd["busy"], d["state"]')" "(False, 'staged')" "the --no-wait apply finished"

# URL and FILE sources
out=$(sfctl apply --json "$FIXTURE_URL$MANIFEST_PATH")
is "$(json_get 'd["result"], d["source"]' <<<"$out")" "('staged', 'operator')" "apply URL: the manifest at the URL"
out=$(cd "$W" && sfctl apply no-such-manifest.jws 2>&1)
rc=$?
is "$rc" 1 "apply of a missing FILE exits 1"
cond "apply FILE: a relative path reaches secfud made absolute" -n "$(grep -F "$W/no-such-manifest.jws" <<<"$out")"
out=$(sfctl apply "$FIXTURE_URL/nothing-here.json" 2>&1)
is "$?" 1 "apply of a URL that answers 404 exits 1"
is "$(sfctl status --json | json_get 'd["lastError"]["code"]')" "network" "status shows the last error's code"

# ---------------------------------------------------------------- trial boot, mark-good
"$BOOTSIM" --backend file --env "$W/bootenv" --out "$W/booted" >"$W/bootsim.log" 2>&1 || bail "bootsim failed"
is "$(cat "$W/booted")" B "simulated reboot starts slot B"
echo 1.1.0 >"$W/version"
ctl_stop
ctl_start || bail "secfud does not restart"
is "$(sfctl status --json | json_get 'd["state"], d["bootedSlot"], d["runningVersion"]')" \
        "('trial', 'B', '1.1.0')" "after the reboot: B on trial"
out=$(sfctl mark-good)
is "$?" 0 "mark-good exits 0"
is "$out" "slot B: committed" "mark-good: human output"
is "$(sfctl status --json | json_get 'd["state"], d["highestInstalled"], [s["health"] for s in d["slots"]]')" \
        "('committed', '1.1.0', ['good', 'good'])" "after mark-good: committed"
out=$(sfctl mark-good --json)
is "$?" 0 "mark-good again exits 0"
is "$(json_get 'd["slot"], d["result"] != "committed"' <<<"$out")" "('B', True)" "mark-good again: nothing left to commit"
out=$(sfctl check)
is "$?" 0 "check exits 0 when up to date"
is "$out" "up to date (the newest firmware offered is 1.1.0, from manufacturer)" "check: up to date"

# ---------------------------------------------------------------- rollback, mark-bad
: >"$W/reboot.log"
out=$(sfctl rollback)
is "$?" 0 "rollback exits 0"
is "$out" "the next boot starts slot A" "rollback: human output"
is "$(sfctl status --json | json_get 'd["primarySlot"], d["state"]')" "('A', 'rolled-back')" "after rollback: A is primary"
out=$(sfctl rollback --reboot --json)
is "$(json_get 'd["next"], d["reboot"]' <<<"$out")" "('A', True)" "rollback --reboot --json"
for ((i = 0; i < 50; i++)); do [ -s "$W/reboot.log" ] && break; sleep 0.1; done
is "$(cat "$W/reboot.log")" "reboot" "rollback --reboot ran 'systemctl reboot'"
out=$(sfctl mark-bad)
is "$?" 0 "mark-bad exits 0"
is "$out" "slot B marked bad; the next boot starts slot A" "mark-bad: human output"
is "$(sfctl status --json | json_get '[s["health"] for s in d["slots"]]')" '["good", "bad"]' "after mark-bad: B bad"
"$BOOTSIM" --backend file --env "$W/bootenv" --out "$W/booted" >"$W/bootsim.log" 2>&1
is "$(cat "$W/booted")" A "the next boot starts slot A"
echo 1.0.0 >"$W/version"
ctl_stop
ctl_start || bail "secfud does not restart"
out=$(sfctl rollback 2>&1)
is "$?" 1 "rollback without a good other slot exits 1"
cond "rollback refusal says why" -n "$(grep 'does not hold a verified good image' <<<"$out")"

# ---------------------------------------------------------------- exit codes
out=$(sfctl frobnicate 2>&1)
is "$?" 2 "unknown command: exit 2"
out=$(sfctl status --reboot 2>&1)
is "$?" 2 "an option the command does not take: exit 2"
out=$(sfctl apply a b 2>&1)
is "$?" 2 "apply with two arguments: exit 2"
out=$("$SECFUCTL" 2>&1)
is "$?" 2 "no command: exit 2"
out=$("$SECFUCTL" -s "$W/run/none.sock" status 2>&1)
is "$?" 3 "no daemon: exit 3"
is "$out" "secfuctl: secfud is not running (cannot connect to $W/run/none.sock): systemctl start secfud" \
        "no daemon: the message says what to do"
out=$("$SECFUCTL" --help)
is "$?" 0 "--help exits 0"

ctl_stop
is "$?" 0 "secfud exits 0 on SIGTERM"
cond "the socket is removed on exit" ! -e "$SOCK"
ctl_done
