# shellcheck shell=bash
# shellcheck disable=SC2034  # variables are set for the sourcing test
# Shared by tests/integration/control-*.sh (sourced, not a test itself):
# the device of lib.sh (firmware 1.0.0 running in file-backed slot A, the
# `file` bootloader backend, 1.1.0 signed and served by the fixture server
# on 127.0.0.1) with policy = check and its last check just now (the
# daemon's own poll is a day away and does not compete with the tests'
# calls), a runtime directory that secfud has to create, and a fake
# `systemctl` in $D/bin, first in secfud's PATH, that records reboots in
# $D/reboot.log instead of rebooting.
#
#   . "$top_srcdir/tests/integration/control-lib.sh"
#   ctl_require TOOL...    # skip unless the tools are installed
#   ctl_setup [IMAGE-SIZE] # dev_setup and the above; SOCK; trap ctl_cleanup EXIT
#   dev_daemon_start       # secfud serving, log in $D/daemon.log
#   ctl_running [IMAGE-SIZE]  # ctl_setup, then dev_daemon_start
#   dev_ctl status --json  # secfuctl against it
#   ctl_done               # stops everything, prints the plan, exits
set -u

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"
export top_srcdir top_builddir
PY=/usr/bin/python3

# jq-like access with the system python: json_get EXPR < JSON, where the
# document is `d`, e.g. json_get 'd["state"]'. Prints None for null.
json_get() {
        "$PY" -c 'import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1], {"d": d})
print(json.dumps(v) if isinstance(v, (dict, list, bool)) else v)' "$1"
}

ctl_require() { # ctl_require TOOL...: skip the whole test when a tool is missing
        local t
        for t in "$@"; do
                command -v "$t" >/dev/null || skip_all "$t not installed"
        done
}

# ctl_setup [IMAGE-SIZE]: the device, 1.1.0 (an image of IMAGE-SIZE
# bytes, default 2000000, kept in CTL_IMAGE_SIZE, at the URL path $IMG) on
# the server; SOCK.
ctl_setup() {
        local tool
        CTL_IMAGE_SIZE=${1:-2000000}
        for tool in "$SECFUD" "$SECFUCTL" "$SECFU_MANIFEST"; do
                [ -x "$tool" ] || bail "$tool is not built"
        done
        SIZE=$CTL_IMAGE_SIZE dev_fresh || bail "no device with 1.1.0 published"
        trap ctl_cleanup EXIT
        # Other users (runuser -u nobody) must reach the socket.
        chmod 0755 "$D"
        rmdir "$D/run"
        SOCK=$D/run/secfud.sock
        printf '{"format": 1, "state": "idle", "lastCheck": "%s"}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
                >"$D/state/state.json"
        chmod 0600 "$D/state/state.json"
        mkdir -p "$D/bin"
        cat >"$D/bin/systemctl" <<EOF
#!/bin/sh
echo "\$*" >>"$D/reboot.log"
EOF
        chmod +x "$D/bin/systemctl"
        DOMAIN=example.test
        LOCAL_URL="$SERVER/local/{manufacturer}/{model}/manifest.json"
        MANUFACTURER_URL="$SERVER/.well-known/firmware/{manufacturer}/{model}/manifest.json"
        LOW_SPEED_TIMEOUT=60s
        POLL_INTERVAL=1d
        POLL_JITTER=0s
        POLICY=check
        dev_write_config
}

# ctl_running [IMAGE-SIZE]: ctl_setup, and secfud serving on it (the test
# bails out when it does not start).
ctl_running() {
        ctl_setup "$@"
        dev_daemon_start || bail "secfud does not start"
}

# ctl_raw [--keep] TEXT...: sends TEXT (with \0 escapes) to the socket,
# shuts the sending side down (not with --keep) and prints the replies, one
# message per line, then EOF when secfud closed the connection (TIMEOUT
# after 5 s without; RESET when it was reset).
ctl_raw() {
        "$PY" - "$SOCK" "$@" <<'EOF'
import socket, sys
path, args = sys.argv[1], sys.argv[2:]
keep = bool(args) and args[0] == "--keep"
if keep:
    args = args[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.settimeout(5)
for a in args:
    s.sendall(a.encode().decode("unicode_escape").encode("latin-1"))
if not keep:
    s.shutdown(socket.SHUT_WR)
data, end = b"", "TIMEOUT"
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            end = "EOF"
            break
        data += chunk
except socket.timeout:
    pass
except ConnectionResetError:
    end = "RESET"
for m in data.split(b"\0")[:-1]:
    print(m.decode())
print(end)
EOF
}

# ctl_raw1 TEXT...: the first reply of ctl_raw.
ctl_raw1() { ctl_raw "$@" | sed -n 1p; }
# ctl_raw_is TEXT EXPR WANT DESCRIPTION: json_get EXPR of the first reply
# to TEXT is WANT.
ctl_raw_is() { is "$(ctl_raw1 "$1" | json_get "$2")" "$3" "$4"; }

# ctl_wait_state STATE [SECONDS]: polls status until the state is STATE.
ctl_wait_state() {
        local want=$1 i
        for ((i = 0; i < ${2:-20} * 10; i++)); do
                [ "$(dev_ctl status --json 2>/dev/null | json_get 'd["state"]')" = "$want" ] && return 0
                sleep 0.1
        done
        return 1
}

ctl_cleanup() {
        dev_daemon_stop >/dev/null 2>&1
        if [ "$_tap_failed" != 0 ] && [ -n "${D:-}" ] && [ -f "$D/daemon.log" ]; then
                echo "# last lines of secfud's log:"
                tail -n 40 "$D/daemon.log" | sed 's/^/#   /'
        fi
        dev_teardown
}

ctl_done() {
        dev_daemon_stop >/dev/null 2>&1
        if [ -n "${D:-}" ] && [ -f "$D/daemon.log" ]; then
                ! grep -qE 'Sanitizer|runtime error:' "$D/daemon.log"
                ok "$?" "no sanitizer reports in secfud's log"
        fi
        ctl_cleanup
        tap_done
        exit
}
