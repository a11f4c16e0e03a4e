# shellcheck shell=bash
# shellcheck disable=SC2034  # variables are set for the sourcing test
# The control plane on lib.sh's device (sourced, not a test itself), for
# the scripts that drive secfud as different users and over both
# transports: secfud serving with debug logging (in a private mount
# namespace whose /etc/group has a "secfu" group when the machine has
# none), a private system bus whose policy lets everyone call everything
# (so what a test sees is secfud's own check), and callers as root, as a
# member of secfu and as nobody.
#
#   . "$top_srcdir/tests/integration/lib.sh"
#   . "$top_srcdir/tests/integration/control-dev-lib.sh"
#   cdev_setup          # dev_setup, policy check, no poll soon; SOCK
#   cdev_group          # SECFU_GID (empty: no group to be had)
#   bus_start           # DBUS_SYSTEM_BUS_ADDRESS exported
#   cdev_start          # secfud serving; log in $D/daemon.log
#   as_member secfuctl ...; as_nobody secfuctl ...
#   cdev_stop; bus_stop

PY=/usr/bin/python3
BUS_PID=
SECFU_GID=
CDEV_WRAP=()

# cdev_bail WHY: the script cannot go on (the end of secfud's log shows why).
cdev_bail() {
        echo "Bail out! $*"
        [ -n "${D:-}" ] && [ -f "$D/daemon.log" ] && tail -n 20 "$D/daemon.log" | sed 's/^/# secfud: /'
        exit 99
}

# jget EXPR < JSON: a value of the JSON document d (None for null).
jget() {
        "$PY" -c 'import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1], {"d": d})
print(json.dumps(v) if isinstance(v, (dict, list, bool)) else v)' "$1"
}

# cdev_setup: a fresh device whose secfud checks only when asked: its last
# check was just now, the poll a day away.  Other users reach the socket.
cdev_setup() {
        [ "$(id -u)" = 0 ] || skip_all "needs root (runs callers as other users)"
        command -v setpriv >/dev/null || skip_all "setpriv is not installed"
        dev_setup || return 1
        chmod 0755 "$D"
        SOCK=$D/run/secfud.sock
        POLICY=check
        dev_write_config
        printf '{"format": 1, "state": "idle", "lastCheck": "%s"}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
                >"$D/state/state.json"
        chmod 0600 "$D/state/state.json"
        trap 'cdev_stop; bus_stop; dev_teardown' EXIT
}

# cdev_group: the machine's secfu group, or one of our own that secfud sees
# in a mount namespace of its own; SECFU_GID stays empty without either.
cdev_group() {
        SECFU_GID=$(getent group secfu | cut -d: -f3)
        CDEV_WRAP=()
        if [ -z "$SECFU_GID" ] && unshare -m true 2>/dev/null; then
                SECFU_GID=4242
                while getent group "$SECFU_GID" >/dev/null; do SECFU_GID=$((SECFU_GID + 1)); done
                cp /etc/group "$D/group"
                echo "secfu:x:$SECFU_GID:" >>"$D/group"
                # shellcheck disable=SC2016
                CDEV_WRAP=(unshare -m sh -c 'mount --bind "$0" /etc/group && exec "$@"' "$D/group")
        fi
}

# cdev_start: secfud serving (debug log in $D/daemon.log); 1 when it does
# not answer status within 10 s.
cdev_start() {
        local i
        ${CDEV_WRAP[@]+"${CDEV_WRAP[@]}"} "$SECFUD" -c "$CONF" --log-level debug >>"$D/daemon.log" 2>&1 &
        SECFUD_PID=$!
        for ((i = 0; i < 200; i++)); do
                [ -S "$SOCK" ] && "$SECFUCTL" -s "$SOCK" status >/dev/null 2>&1 && return 0
                kill -0 "$SECFUD_PID" 2>/dev/null || break
                sleep 0.05
        done
        return 1
}

cdev_stop() { dev_daemon_stop; }

# ctl ARGS...: secfuctl against this secfud as root (120 s at most).
ctl() { timeout 120 "$SECFUCTL" -s "$SOCK" "$@"; }
# as_member ARGS...: a command as nobody with the supplementary group secfu.
as_member() { timeout 120 setpriv --reuid=nobody --regid=nogroup --groups="$SECFU_GID" "$@"; }
# as_nobody ARGS...: a command as nobody, no group of ours.
as_nobody() { timeout 120 setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

# fd_count: descriptors secfud holds open now.
fd_count() { find "/proc/$SECFUD_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# ---------------------------------------------------------------- the bus
bus_start() {
        command -v dbus-daemon >/dev/null && command -v busctl >/dev/null ||
                skip_all "dbus-daemon and busctl are not installed"
        dev_bus_start
}
bus_stop() { dev_bus_stop; }

# bctl ARGS...: busctl on the private bus (60 s at most).
bctl() { timeout 60 busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" "$@"; }
