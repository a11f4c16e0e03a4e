#!/bin/bash
# What secfud does with the socket path before it binds: a symlink, a
# regular file or a live daemon's socket there make it refuse to start
# with a clear message (and touch nothing); a stale socket is replaced; a
# socket passed by systemd (socket activation) is used instead of binding.
# TAP output.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/control-lib.sh
. "$top_srcdir/tests/integration/control-lib.sh"
trap ctl_cleanup EXIT

ctl_setup

# start_fails NAME: secfud must exit non-zero within 10 s; its stderr in $W/fail.log.
start_fails() {
        local rc
        timeout 10 "$SECFUD" -c "$CONF" >"$W/fail.log" 2>&1
        rc=$?
        cond "$1: secfud refuses to start" "$rc" -ne 0 -a "$rc" -ne 124
}

# ---------------------------------------------------------------- a symlink
mkdir -p "$W/run"
echo "precious" >"$W/target"
ln -s "$W/target" "$SOCK"
start_fails "symlink at the socket path"
cond "symlink: the message names the path and the reason" \
        -n "$(grep -F "$SOCK is a symbolic link; refusing to use it as the control socket" "$W/fail.log")"
cond "symlink: left in place" -L "$SOCK"
is "$(cat "$W/target")" precious "symlink: its target is untouched"
rm -f "$SOCK"
ln -s "$W/run/elsewhere.sock" "$SOCK"
start_fails "dangling symlink at the socket path"
cond "dangling symlink: nothing created where it points" ! -e "$W/run/elsewhere.sock"
rm -f "$SOCK"

# ---------------------------------------------------------------- a regular file
echo "not a socket" >"$SOCK"
start_fails "regular file at the socket path"
cond "regular file: the message says so" -n "$(grep -F "$SOCK exists and is not a socket; refusing to replace it" "$W/fail.log")"
is "$(cat "$SOCK")" "not a socket" "regular file: untouched"
rm -f "$SOCK"

# ---------------------------------------------------------------- a stale socket
"$PY" -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$SOCK"
cond "a stale socket is there" -S "$SOCK"
ctl_start
is "$?" 0 "stale socket: secfud starts"
cond "stale socket: the log says it was replaced" -n "$(grep -F "removed the stale socket $SOCK" "$W/secfud.log")"
is "$(sfctl status --json | json_get 'd["state"]')" idle "stale socket: the new socket answers"

# ---------------------------------------------------------------- a live daemon
start_fails "a second secfud on the same socket"
cond "second secfud: the message says another one listens" \
        -n "$(grep -F "another secfud is already listening on $SOCK" "$W/fail.log")"
is "$(sfctl status --json | json_get 'd["state"]')" idle "the first secfud still answers"
ctl_stop
cond "the socket is removed on exit" ! -e "$SOCK"

# ---------------------------------------------------------------- a missing runtime directory
rm -rf "$W/run"
ctl_start
is "$?" 0 "secfud creates a missing runtime directory"
is "$(stat -c %a "$W/run")" 755 "... with mode 0755"
ctl_stop

# ---------------------------------------------------------------- socket activation
if command -v systemd-socket-activate >/dev/null; then
        ACT="$W/activated.sock"
        systemd-socket-activate -l "$ACT" env PATH="$W/bin:$PATH" "$SECFUD" -c "$CONF" >>"$W/secfud.log" 2>&1 &
        SECFUD_PID=$!
        for ((i = 0; i < 100; i++)); do
                [ -S "$ACT" ] && break
                sleep 0.05
        done
        out=$(timeout 20 "$SECFUCTL" -s "$ACT" status --json | json_get 'd["state"]')
        is "$out" idle "socket activation: secfud answers on the socket systemd passed"
        cond "socket activation: secfud did not bind its own socket" ! -e "$SOCK"
        cond "socket activation: the log says so" -n "$(grep -F 'control socket: passed by systemd' "$W/secfud.log")"
        ctl_stop
else
        skip "socket activation" "systemd-socket-activate is not installed"
fi

ctl_done
