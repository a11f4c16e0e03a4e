#!/bin/bash
# What secfud does with the socket path before it binds: a symlink, a
# regular file or a live daemon's socket there make it refuse to start
# with a clear message (and touch nothing); a stale socket is replaced; a
# socket passed by systemd (socket activation) is used instead of binding.
# TAP output.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/control-lib.sh
. "$top_srcdir/tests/integration/control-lib.sh"

ctl_setup

# start_fails NAME: secfud must exit non-zero within 10 s; its stderr in $D/fail.log.
start_fails() {
        local rc
        timeout 10 "$SECFUD" -c "$CONF" >"$D/fail.log" 2>&1
        rc=$?
        check "$1: secfud refuses to start" test "$rc" -ne 0 -a "$rc" -ne 124
}

# ---------------------------------------------------------------- a symlink
mkdir -p "$D/run"
echo "precious" >"$D/target"
ln -s "$D/target" "$SOCK"
start_fails "symlink at the socket path"
check "symlink: the message names the path and the reason" test \
        -n "$(grep -F "$SOCK is a symbolic link; refusing to use it as the control socket" "$D/fail.log")"
check "symlink: left in place" test -L "$SOCK"
is "$(cat "$D/target")" precious "symlink: its target is untouched"
rm -f "$SOCK"
ln -s "$D/run/elsewhere.sock" "$SOCK"
start_fails "dangling symlink at the socket path"
check "dangling symlink: nothing created where it points" test ! -e "$D/run/elsewhere.sock"
rm -f "$SOCK"

# ---------------------------------------------------------------- a regular file
echo "not a socket" >"$SOCK"
start_fails "regular file at the socket path"
check "regular file: the message says so" test -n "$(grep -F "$SOCK exists and is not a socket; refusing to replace it" "$D/fail.log")"
is "$(cat "$SOCK")" "not a socket" "regular file: untouched"
rm -f "$SOCK"

# ---------------------------------------------------------------- a stale socket
"$PY" -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$SOCK"
check "a stale socket is there" test -S "$SOCK"
dev_daemon_start
is "$?" 0 "stale socket: secfud starts"
check "stale socket: the log says it was replaced" test -n "$(grep -F "removed the stale socket $SOCK" "$D/daemon.log")"
is "$(dev_ctl status --json | json_get 'd["state"]')" idle "stale socket: the new socket answers"

# ---------------------------------------------------------------- a live daemon
start_fails "a second secfud on the same socket"
check "second secfud: the message says another one listens" test \
        -n "$(grep -F "another secfud is already listening on $SOCK" "$D/fail.log")"
is "$(dev_ctl status --json | json_get 'd["state"]')" idle "the first secfud still answers"
dev_daemon_stop
check "the socket is removed on exit" test ! -e "$SOCK"

# ---------------------------------------------------------------- a missing runtime directory
rm -rf "$D/run"
dev_daemon_start
is "$?" 0 "secfud creates a missing runtime directory"
is "$(stat -c %a "$D/run")" 755 "... with mode 0755"
dev_daemon_stop

# ---------------------------------------------------------------- socket activation
if command -v systemd-socket-activate >/dev/null; then
        ACT="$D/activated.sock"
        systemd-socket-activate -l "$ACT" env PATH="$D/bin:$PATH" "$SECFUD" -c "$CONF" >>"$D/daemon.log" 2>&1 &
        SECFUD_PID=$!
        for ((i = 0; i < 100; i++)); do
                [ -S "$ACT" ] && break
                sleep 0.05
        done
        out=$(timeout 20 "$SECFUCTL" -s "$ACT" status --json | json_get 'd["state"]')
        is "$out" idle "socket activation: secfud answers on the socket systemd passed"
        check "socket activation: secfud did not bind its own socket" test ! -e "$SOCK"
        check "socket activation: the log says so" test -n "$(grep -F 'control socket: passed by systemd' "$D/daemon.log")"
        dev_daemon_stop
else
        skip "socket activation" "systemd-socket-activate is not installed"
fi

ctl_done
