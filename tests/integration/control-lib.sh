# shellcheck shell=bash
# shellcheck disable=SC2034  # variables are set for the sourcing test
# Shared by tests/integration/control-*.sh (sourced, not a test itself):
# a secfud of its own in a temporary directory, with a key made by
# `secfu-manifest keygen`, firmware 1.0.0 running in file-backed slot A,
# 1.1.0 signed with `secfu-manifest create/sign/publish` and served by the
# fixture server on 127.0.0.1, the `file` bootloader backend, and a fake
# `systemctl` first in secfud's PATH that records reboots instead of
# rebooting.  TAP helpers too.
#
#   . "$top_srcdir/tests/integration/control-lib.sh"
#   ctl_setup            # W, ROOT, SOCK, CONF, FIXTURE_URL; publishes 1.1.0
#   ctl_start            # starts secfud, waits for its socket
#   sfctl status --json  # secfuctl against this secfud
#   ctl_done             # stops everything, prints the plan, exits

set -u

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
PY=/usr/bin/python3

# shellcheck source=tests/lib/fixture.sh
. "$top_srcdir/tests/lib/fixture.sh"

TESTS_RUN=0
TESTS_FAILED=0
ok() { # ok STATUS NAME
        TESTS_RUN=$((TESTS_RUN + 1))
        if [ "$1" = 0 ]; then
                echo "ok $TESTS_RUN - $2"
        else
                echo "not ok $TESTS_RUN - $2"
                TESTS_FAILED=$((TESTS_FAILED + 1))
        fi
}
is() { # is GOT EXPECTED NAME
        local rc=0
        [ "$1" = "$2" ] || rc=1
        ok "$rc" "$3"
        [ "$rc" = 0 ] || echo "#   got '$1', expected '$2'"
}
cond() { # cond NAME TEST-ARGS...
        local name=$1 rc=0
        shift
        test "$@" || rc=1
        ok "$rc" "$name"
        [ "$rc" = 0 ] || echo "#   failed: test $*"
}
skip() { # skip NAME REASON
        TESTS_RUN=$((TESTS_RUN + 1))
        echo "ok $TESTS_RUN - $1 # SKIP $2"
}
bail() {
        echo "Bail out! $*"
        [ -n "${W:-}" ] && [ -f "$W/secfud.log" ] && sed 's/^/# secfud: /' "$W/secfud.log" | tail -n 30
        ctl_cleanup
        exit 99
}

# jq-like access with the system python: json_get EXPR < JSON, where the
# document is `d`, e.g. json_get 'd["state"]'. Prints None for null.
json_get() {
        "$PY" -c 'import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1], {"d": d})
print(json.dumps(v) if isinstance(v, (dict, list, bool)) else v)' "$1"
}

# ctl_program NAME: the built program (top_builddir first, then PATH).
ctl_program() {
        if [ -x "$top_builddir/$1" ]; then
                echo "$top_builddir/$1"
        elif command -v "$1" >/dev/null; then
                command -v "$1"
        else
                return 1
        fi
}

ctl_require() { # ctl_require TOOL...: skip the whole test when a tool is missing
        local t
        for t in "$@"; do
                if ! command -v "$t" >/dev/null; then
                        echo "1..0 # SKIP $t not installed"
                        exit 77
                fi
        done
}

# ctl_publish VERSION [SIZE [FLOOR]]: a signed manifest for VERSION with a
# random image of SIZE bytes (default CTL_IMAGE_SIZE), published under
# $ROOT; FLOOR is its rollbackFloor (committing it lets the device go back
# to FLOOR).
ctl_publish() {
        local version=$1 size=${2:-$CTL_IMAGE_SIZE} floor=${3:-}
        head -c "$size" /dev/urandom >"$W/fw-$version.img"
        "$MANIFEST" create --manufacturer example.com --model gw100 --version "$version" \
                ${floor:+--rollback-floor "$floor"} --image "$W/fw-$version.img=fw-$version.img" >"$W/manifest-$version.json" || return 1
        "$MANIFEST" sign --key "$W/vendor.key" --alg ES256 "$W/manifest-$version.json" \
                >"$W/manifest-$version.jws" || return 1
        "$MANIFEST" publish --root "$ROOT" "$W/manifest-$version.jws" "$W/fw-$version.img" >/dev/null
}

MANIFEST_PATH=/.well-known/firmware/example.com/gw100/manifest.json

ctl_setup() {
        : "${CTL_IMAGE_SIZE:=2000000}"
        SECFUD=$(ctl_program secfud) || bail "secfud is not built"
        SECFUCTL=$(ctl_program secfuctl) || bail "secfuctl is not built"
        MANIFEST=$(ctl_program secfu-manifest) || bail "secfu-manifest is not built"
        fixture_workdir || bail "no work directory"
        W=$FIXTURE_WORKDIR
        # Other users (runuser -u nobody) must reach the socket.
        chmod 0755 "$W"
        ROOT="$W/root"
        SOCK="$W/run/secfud.sock"
        CONF="$W/secfud.conf"
        mkdir -p "$W/keys" "$W/state" "$ROOT" "$W/bin"
        "$MANIFEST" keygen --alg ES256 --out "$W/vendor" >/dev/null || bail "keygen failed"
        cp "$W/vendor.pub" "$W/keys/vendor.pem"
        echo 1.0.0 >"$W/version"
        echo A >"$W/booted"
        head -c 1048576 /dev/urandom >"$W/slotA.img"
        truncate -s 8M "$W/slotB.img"
        printf 'BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n' >"$W/bootenv"
        ctl_publish 1.1.0 "$CTL_IMAGE_SIZE" 1.0.0 || bail "cannot publish 1.1.0"
        fixture_start "$ROOT" || bail "the fixture server does not start"
        # A last check just now: the daemon's own poll is a day away and
        # does not compete with the tests' calls.
        printf '{"format": 1, "state": "idle", "lastCheck": "%s"}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
                >"$W/state/state.json"
        chmod 0600 "$W/state/state.json"
        cat >"$W/bin/systemctl" <<EOF
#!/bin/sh
echo "\$*" >>"$W/reboot.log"
EOF
        chmod +x "$W/bin/systemctl"
        cat >"$CONF" <<EOF
[device]
manufacturer = example.com
model = gw100
version-file = $W/version
booted-slot = file:$W/booted

[discovery]
domain = example.test
local-url = $FIXTURE_URL/local/{manufacturer}/{model}/manifest.json
manufacturer-url = $FIXTURE_URL/.well-known/firmware/{manufacturer}/{model}/manifest.json

[security]
keys = $W/keys

[network]
connect-timeout = 5s
low-speed-timeout = 60s

[poll]
interval = 1d
jitter = 0s
policy = check

[bootloader]
backend = file
file = $W/bootenv

[slot.rootfs.0]
device = $W/slotA.img
bootname = A

[slot.rootfs.1]
device = $W/slotB.img
bootname = B

[storage]
state-dir = $W/state
runtime-dir = $W/run
EOF
}

# ctl_start [ENV=VALUE...]: secfud in the background (log in
# $W/secfud.log); waits until its socket answers. Returns 1 if it does not
# come up.
# CTL_WRAP (an array), when set, is the command that runs secfud (it
# must exec it, so that SECFUD_PID is secfud's).
ctl_start() {
        local i
        ${CTL_WRAP[@]+"${CTL_WRAP[@]}"} env PATH="$W/bin:$PATH" "$@" "$SECFUD" -c "$CONF" --log-level debug \
                >>"$W/secfud.log" 2>&1 &
        SECFUD_PID=$!
        for ((i = 0; i < 200; i++)); do
                [ -S "$SOCK" ] && "$SECFUCTL" -s "$SOCK" status >/dev/null 2>&1 && return 0
                kill -0 "$SECFUD_PID" 2>/dev/null || break
                sleep 0.05
        done
        return 1
}

# ctl_stop: SIGTERM, then wait (SIGKILL after 10 s); returns secfud's status.
ctl_stop() {
        local i rc=0
        [ -n "${SECFUD_PID:-}" ] || return 0
        kill -TERM "$SECFUD_PID" 2>/dev/null
        for ((i = 0; i < 200; i++)); do
                kill -0 "$SECFUD_PID" 2>/dev/null || break
                sleep 0.05
        done
        kill -KILL "$SECFUD_PID" 2>/dev/null && echo "# secfud ignored SIGTERM"
        wait "$SECFUD_PID" 2>/dev/null || rc=$?
        SECFUD_PID=
        return "$rc"
}

# sfctl ARGS...: secfuctl against this secfud, never for more than
# CTL_TIMEOUT seconds (a hang fails the test instead of stalling it).
sfctl() { timeout "${CTL_TIMEOUT:-120}" "$SECFUCTL" -s "$SOCK" "$@"; }

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

# ctl_wait_state STATE [SECONDS]: polls status until the state is STATE.
ctl_wait_state() {
        local want=$1 i
        for ((i = 0; i < ${2:-20} * 10; i++)); do
                [ "$(sfctl status --json 2>/dev/null | json_get 'd["state"]')" = "$want" ] && return 0
                sleep 0.1
        done
        return 1
}

ctl_cleanup() {
        ctl_stop >/dev/null 2>&1
        if [ "$TESTS_FAILED" != 0 ] && [ -n "${W:-}" ] && [ -f "$W/secfud.log" ]; then
                echo "# last lines of secfud's log:"
                tail -n 40 "$W/secfud.log" | sed 's/^/#   /'
        fi
        fixture_cleanup
}

ctl_done() {
        ctl_stop >/dev/null 2>&1
        if [ -n "${W:-}" ] && [ -f "$W/secfud.log" ]; then
                ! grep -qE 'Sanitizer|runtime error:' "$W/secfud.log"
                ok "$?" "no sanitizer reports in secfud's log"
        fi
        ctl_cleanup
        echo "1..$TESTS_RUN"
        [ "$TESTS_FAILED" = 0 ]
        exit
}
