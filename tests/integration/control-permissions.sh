#!/bin/bash
# Who may do what over the control socket (DESIGN section 6): any local
# user may call Status, Monitor and the Varlink service methods; the rest
# needs uid 0 or the group "secfu" (primary or supplementary), else
# org.secfu.Daemon.NotPermitted, exit status 4, a notice in the log, and
# nothing changes.  When the machine has no "secfu" group, secfud runs in
# a private mount namespace whose /etc/group has one.  TAP output.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/control-lib.sh
. "$top_srcdir/tests/integration/control-lib.sh"
ctl_require runuser setpriv
[ "$(id -u)" = 0 ] || {
        echo "1..0 # SKIP needs root (runs clients as nobody)"
        exit 77
}
trap ctl_cleanup EXIT

ctl_setup
NOBODY=$(id -u nobody) || bail "no user nobody"
NOGROUP=$(id -g nobody)

# The secfu group: the machine's, or one of our own in a mount namespace.
SECFU_GID=$(getent group secfu | cut -d: -f3)
if [ -z "$SECFU_GID" ] && unshare -m true 2>/dev/null; then
        SECFU_GID=4242
        while getent group "$SECFU_GID" >/dev/null; do SECFU_GID=$((SECFU_GID + 1)); done
        cp /etc/group "$W/group"
        echo "secfu:x:$SECFU_GID:" >>"$W/group"
        CTL_WRAP=(unshare -m sh -c 'mount --bind "$0" /etc/group && exec "$@"' "$W/group")
fi
ctl_start || bail "secfud does not start"

as_nobody() { runuser -u nobody -- "$SECFUCTL" -s "$SOCK" "$@"; }
snapshot() { sha256sum "$W/slotA.img" "$W/slotB.img" "$W/bootenv"; }

# ---------------------------------------------------------------- reading is open
out=$(as_nobody status)
is "$?" 0 "nobody may call status"
cond "nobody sees the state" -n "$(grep -E '^state: +idle$' <<<"$out")"
is "$(as_nobody status --json | json_get 'd["bootedSlot"]')" A "nobody may call status --json"
out=$(runuser -u nobody -- "$PY" - "$SOCK" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b'{"method":"org.secfu.Daemon.Monitor","more":true}\0')
s.settimeout(5)
data = b""
while b"\0" not in data:
    c = s.recv(65536)
    if not c:
        break
    data += c
print(data.split(b"\0")[0].decode())
EOF
)
is "$(json_get 'd["continues"], d["parameters"]["event"], d["parameters"]["status"]["state"]' <<<"$out")" \
        "(True, 'status', 'idle')" "nobody may call Monitor (more)"
out=$(runuser -u nobody -- "$PY" - "$SOCK" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b'{"method":"org.varlink.service.GetInfo"}\0{"method":"org.secfu.Daemon.Apply","parameters":{}}\0')
s.shutdown(socket.SHUT_WR)
s.settimeout(5)
data = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    data += c
for m in data.split(b"\0")[:-1]:
    print(m.decode())
EOF
)
is "$(sed -n 1p <<<"$out" | json_get 'd["parameters"]["product"]')" secfud "nobody may call GetInfo"
is "$(sed -n 2p <<<"$out" | json_get 'd["error"], d["parameters"]["code"]')" \
        "('org.secfu.Daemon.NotPermitted', 'denied')" "raw Apply from nobody: NotPermitted, code denied"

# ---------------------------------------------------------------- the rest is not
before=$(snapshot)
for cmd in check apply cancel rollback mark-good mark-bad "apply --reboot" "rollback --reboot"; do
        # shellcheck disable=SC2086
        out=$(as_nobody $cmd 2>&1)
        is "$?" 4 "nobody: $cmd is refused with exit status 4"
done
cond "the refusal names the group" -n "$(as_nobody check 2>&1 | grep -F 'needs root or membership in the group "secfu"')"
is "$(snapshot)" "$before" "refused calls changed neither the slots nor the bootloader environment"
for method in Check Apply Cancel Rollback MarkGood MarkBad; do
        cond "log: denied $method to uid $NOBODY" -n "$(grep -F "<5>denied $method to uid $NOBODY" "$W/secfud.log")"
done
is "$(sfctl status --json | json_get 'd["state"], d["busy"]')" "('idle', False)" "nothing started"
out=$(sfctl mark-good 2>&1)
is "$?" 0 "root may call mark-good"

# ---------------------------------------------------------------- the secfu group
if [ -n "$SECFU_GID" ]; then
        out=$(setpriv --reuid="$NOBODY" --regid="$NOGROUP" --groups="$SECFU_GID" "$SECFUCTL" -s "$SOCK" check 2>&1)
        is "$?" 0 "uid nobody with the supplementary group secfu may call check"
        out=$(setpriv --reuid="$NOBODY" --regid="$SECFU_GID" --clear-groups "$SECFUCTL" -s "$SOCK" mark-good 2>&1)
        is "$?" 0 "uid nobody with the primary group secfu may call mark-good"
        out=$(setpriv --reuid="$NOBODY" --regid="$NOGROUP" --groups="$((SECFU_GID + 1000))" "$SECFUCTL" -s "$SOCK" \
                check 2>&1)
        is "$?" 4 "another supplementary group does not count"
else
        skip "uid nobody with the supplementary group secfu may call check" "no secfu group and no unshare"
        skip "uid nobody with the primary group secfu may call mark-good" "no secfu group and no unshare"
        skip "another supplementary group does not count" "no secfu group and no unshare"
fi

# ---------------------------------------------------------------- connection caps
out=$(runuser -u nobody -- "$PY" - "$SOCK" 20 <"$top_srcdir/tests/lib/ctl-flood.py")
is "$out" 16 "one non-root user gets at most 16 connections at once"
sfctl status >/dev/null
is "$?" 0 "root still gets in"

ctl_done
