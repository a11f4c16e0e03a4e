# shellcheck shell=bash
# shellcheck disable=SC2034  # SERVER2*, ONCE_* and the like are set for the scripts
# The device test bed of the integration scenarios: a temporary device
# (tests/lib/device.sh) with file-backed A/B slots (a canary file after
# each), the `file` bootloader backend, a factory key, a running firmware
# 1.0.0 in slot A, and a firmware server (tests/lib/fixture-server.py) that
# the scenario fills with `dev_publish`; secfud run once or as a daemon;
# the TAP helpers of tests/lib/tap.sh, and the assertion every refusal
# makes: the running slot, the bootloader environment and the
# installed-version record did not change.
#
#   . "$top_srcdir/tests/integration/lib.sh"
#   dev_require               # skip unless the binaries are a test build
#   dev_setup                 # D, CONF, ...; fixture server on $WWW
#   dev_publish 1.1.0         # image + signed manifest on the server
#   dev_snapshot before; secfud_once; dev_unchanged before "reason"
#   refused before "$(dev_image_path 1.1.0)" 'regex' "what"   # all of a refusal
#   staged 1.1.0 "what"       # all of a success
#   dev_setup                 # again: a fresh device in the same script
#   dev_fresh                 # dev_setup, dev_publish 1.1.0, IMG
#   dev_daemon_start; dev_ctl status; dev_daemon_stop
# Change the config with the variables device_config reads (BACKEND,
# POLICY, LOW_SPEED_TIMEOUT, CONNECT_TO, LOCAL_URL, EXTRA_CONF, ...) and
# call dev_write_config again.
set -u
: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir/build}"
SECFUD=${SECFUD:-$top_builddir/secfud}
SECFUCTL=${SECFUCTL:-$top_builddir/secfuctl}
SECFU_MANIFEST=${SECFU_MANIFEST:-$top_builddir/secfu-manifest}
BOOTSIM="$top_srcdir/tests/integration/bootsim"
# shellcheck source=tests/lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"
# shellcheck source=tests/lib/device.sh
. "$top_srcdir/tests/lib/device.sh"
# shellcheck source=tests/lib/fixture.sh
. "$top_srcdir/tests/lib/fixture.sh"

# TAP_ON_FAIL: a failed case shows the end of the last secfud --once log.
_dev_once_log_tail() {
        if [ -n "${D:-}" ] && [ -f "$D/once.log" ]; then sed 's/^/#   /' "$D/once.log" | tail -15; fi
}
TAP_ON_FAIL=_dev_once_log_tail

# dev_require: skips the whole script unless the binaries exist and secfud is
# a test build (./configure --enable-fault-injection: the SFU_TEST_*
# discovery hooks and SFU_FAULT points are compiled in).
dev_require() {
        local tool
        for tool in "$SECFUD" "$SECFU_MANIFEST"; do
                [ -x "$tool" ] || skip_all "$tool is not built"
        done
        for tool in /usr/bin/python3 curl; do
                command -v "$tool" >/dev/null 2>&1 || skip_all "$tool is not installed"
        done
        grep -q SFU_TEST_RESOLV_CONF "$SECFUD" ||
                skip_all "$SECFUD is not a test build (configure --enable-fault-injection)"
}

# ---------------------------------------------------------------- device
dev_cleanup() { dev_teardown; }

# dev_teardown: stops the servers and removes the device (dev_setup may
# follow, for a scenario that needs a fresh device).
dev_teardown() {
        fixture_cleanup
        dev_bus_stop
        if [ -n "${SECFUD_PID:-}" ]; then kill -KILL "$SECFUD_PID" 2>/dev/null; wait "$SECFUD_PID" 2>/dev/null; fi
        SECFUD_PID=
        [ -n "${D:-}" ] && [ -z "${KEEP:-}" ] && rm -rf "$D"
        D=
}

# dev_setup [slot-size-bytes]: a fresh device (tests/lib/device.sh: slot A
# random, slot B zero, both of that size, default 8 MiB, a canary file after
# each), the factory key it trusts and an attacker key it does not, and an
# empty firmware server on $WWW; the device of before, if any, torn down.
dev_setup() {
        local slot_size=${1:-8388608}
        [ -z "${D:-}" ] || dev_teardown
        D=$(mktemp -d "${TMPDIR:-/tmp}/secfu-dev.XXXXXX")
        trap dev_cleanup EXIT
        WWW=$D/www
        mkdir -p "$WWW"
        "$SECFU_MANIFEST" keygen --alg ES256 --out "$D/factory" >/dev/null || return 1
        "$SECFU_MANIFEST" keygen --alg ES256 --out "$D/attacker" >/dev/null || return 1
        device_layout "$D" "$D/factory.pub" "$slot_size" "$slot_size" || return 1
        echo canary-a >"$D/slot-a.canary"
        echo canary-b >"$D/slot-b.canary"
        fixture_start "$WWW" || return 1
        SERVER_PORT=$FIXTURE_PORT
        SERVER=$FIXTURE_URL
        SERVER_PID=$FIXTURE_PID
        MANIFEST_PATH=/.well-known/firmware/example.com/gw100/manifest.json
        # no DHCP domain unless a scenario writes one (in $D/sources)
        DOMAIN=auto
        LOCAL_URL="http://_firmware.{domain}:$SERVER_PORT/.well-known/firmware/{manufacturer}/{model}/manifest.json"
        MANUFACTURER_URL="$SERVER$MANIFEST_PATH"
        CONNECT_TO=""
        EXTRA_CONF=""
        dev_write_config
}

# dev_fresh [slot-size-bytes]: dev_setup, and 1.1.0 published ($IMG: the
# URL path of its image).
dev_fresh() {
        dev_setup "$@" || return 1
        dev_publish 1.1.0 || return 1
        IMG=$(dev_image_path 1.1.0)
}

# dev_write_config: $CONF from the variables device_config reads.
dev_write_config() {
        CONF=$D/secfud.conf
        device_config "$D" >"$CONF"
}

# dev_image VERSION [SIZE]: a random image file $D/img-VERSION.img
dev_image() {
        local version=$1 size=${2:-3145728}
        [ -f "$D/img-$version.img" ] || head -c "$size" /dev/urandom >"$D/img-$version.img"
        echo "$D/img-$version.img"
}

# dev_manifest VERSION [create options...]: prints a signed manifest (compact JWS) path.
# Env: KEY (default factory), PAYLOAD_EDIT (a python expression run on the dict m).
dev_manifest() {
        local version=$1
        shift
        local img out=$D/manifest-$version.jws json=$D/manifest-$version.json
        img=$(dev_image "$version" "${SIZE:-3145728}")
        "$SECFU_MANIFEST" create --manufacturer "${MANUFACTURER:-example.com}" --model "${MODEL:-gw100}" \
                --version "$version" --image "$img=fw-$version.img" "$@" >"$json" || return 1
        if [ -n "${PAYLOAD_EDIT:-}" ]; then
                /usr/bin/python3 - "$json" "$PAYLOAD_EDIT" <<'PY' || return 1
import json, sys
m = json.load(open(sys.argv[1]))
exec(sys.argv[2])
open(sys.argv[1], "w").write(json.dumps(m, indent=2))
PY
        fi
        "$SECFU_MANIFEST" sign --key "$D/${KEY:-factory}.key" "$json" >"$out" || return 1
        echo "$out"
}

# dev_image_path VERSION: the URL path of the image dev_publish serves.
dev_image_path() { echo "/.well-known/firmware/${MANUFACTURER:-example.com}/${MODEL:-gw100}/fw-$1.img"; }

# dev_server2 ROOT: a second fixture server (a local cache, a redirect
# target); sets SERVER2_PORT, SERVER2 (its URL) and leaves FIXTURE_* naming
# the first server, so fixture_* calls go there unless FIXTURE_PORT=$SERVER2_PORT.
dev_server2() {
        mkdir -p "$1"
        fixture_start "$1" || return 1
        SERVER2_PORT=$FIXTURE_PORT
        SERVER2=$FIXTURE_URL
        SERVER2_PID=$FIXTURE_PID
        FIXTURE_PORT=$SERVER_PORT
        FIXTURE_URL=$SERVER
        FIXTURE_PID=$SERVER_PID
}

# dev_domain DOMAIN: the device's DHCP domain is DOMAIN (a search line in
# the resolv.conf it reads).
dev_domain() { echo "search $1" >"$D/sources/resolv.conf"; }

# dev_local_server [NAME]: a local firmware cache, a second fixture server
# ($D/www-local, dev_server2) that the device reaches as NAME (connect-to;
# default _firmware.example.test, the local server of the DHCP domain
# example.test); dev_local_count PATH: the requests it saw for PATH.
dev_local_server() {
        dev_server2 "$D/www-local"
        CONNECT_TO="${1:-_firmware.example.test}:$SERVER_PORT:127.0.0.1:$SERVER2_PORT"
        dev_write_config
}
dev_local_count() { FIXTURE_PORT=$SERVER2_PORT fixture_count "$1"; }

# dev_free_port: a TCP port on 127.0.0.1 that nothing listens on.
dev_free_port() {
        /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# dev_publish VERSION [ROOT]: image + manifest under ROOT (default $WWW).
dev_publish() {
        local version=$1 root=${2:-$WWW} jws dir
        jws=$(dev_manifest "$version") || return 1
        dir=$root/.well-known/firmware/${MANUFACTURER:-example.com}/${MODEL:-gw100}
        mkdir -p "$dir"
        cp "$jws" "$dir/manifest.json"
        cp "$D/img-$version.img" "$dir/fw-$version.img"
}

# dev_install_manifest JWS [ROOT]: serve this exact manifest.
dev_install_manifest() {
        local jws=$1 root=${2:-$WWW}
        mkdir -p "$root/.well-known/firmware/example.com/gw100"
        cp "$jws" "$root/.well-known/firmware/example.com/gw100/manifest.json"
}

# ---------------------------------------------------------------- running secfud
# secfud_once: one cycle; exit status in $ONCE_STATUS, stderr in $D/once.log,
# wall time in $ONCE_SECONDS.
secfud_once() {
        local t0
        t0=$(date +%s.%N)
        "$SECFUD" -c "$CONF" --once "$@" >"$D/once.out" 2>"$D/once.log"
        ONCE_STATUS=$?
        ONCE_SECONDS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
        return 0
}
# secfud_once_bg: secfud --once in the background (SECFUD_PID);
# secfud_wait waits for it as secfud_once would (ONCE_STATUS, ONCE_SECONDS).
secfud_once_bg() {
        _once_t0=$(date +%s.%N)
        "$SECFUD" -c "$CONF" --once "$@" >"$D/once.out" 2>"$D/once.log" &
        SECFUD_PID=$!
}
secfud_wait() {
        wait "$SECFUD_PID"
        ONCE_STATUS=$?
        SECFUD_PID=
        ONCE_SECONDS=$(awk -v a="$_once_t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
}
# dev_bus_start: a private system bus on $D/bus.sock whose policy lets
# everyone own and call everything (what a test then sees is secfud's own
# check); exports DBUS_SYSTEM_BUS_ADDRESS (BUS_PID: the bus).  1 when it
# does not start.  dev_bus_stop: stops it and unexports the address.
dev_bus_start() {
        cat >"$D/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$D/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
        rm -f "$D/bus.sock"
        dbus-daemon --config-file="$D/bus.conf" --fork --print-pid=3 3>"$D/bus.pid" >"$D/bus.log" 2>&1 || return 1
        read -r BUS_PID <"$D/bus.pid"
        export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$D/bus.sock"
}
dev_bus_stop() {
        [ -n "${BUS_PID:-}" ] && kill "$BUS_PID" 2>/dev/null
        BUS_PID=
        unset DBUS_SYSTEM_BUS_ADDRESS
}

# dev_daemon_start [ENV=VALUE...]: secfud serving (no --once, debug log
# appended to $D/daemon.log) in the background (SECFUD_PID), with $D/bin
# first in its PATH (where a scenario puts a fake systemctl) and
# DAEMON_WRAP (an array; it must exec secfud) in front when set; waits up
# to 10 s until its control socket ($D/run/secfud.sock) answers status
# (exists, without secfuctl).  1 when it does not come up.
# dev_daemon_stop: SIGTERM (SIGKILL after 10 s); secfud's exit status.
# dev_ctl ARGS...: secfuctl against that socket, for CTL_TIMEOUT seconds at
# most (default 120: a hang fails the test instead of stalling it).
dev_daemon_start() {
        local sock=$D/run/secfud.sock i
        # No poll at start unless the caller asks for one (=1): with a fresh
        # state the first poll comes at a random moment within the jitter,
        # and would compete with the test's own calls.
        ${DAEMON_WRAP[@]+"${DAEMON_WRAP[@]}"} env PATH="$D/bin:$PATH" \
                SFU_TEST_POLL_AT_START="${SFU_TEST_POLL_AT_START:-never}" "$@" "$SECFUD" -c "$CONF" --log-level debug \
                >>"$D/daemon.log" 2>&1 &
        SECFUD_PID=$!
        for ((i = 0; i < 200; i++)); do
                if [ -S "$sock" ]; then
                        [ -x "$SECFUCTL" ] || return 0
                        "$SECFUCTL" -s "$sock" status >/dev/null 2>&1 && return 0
                fi
                kill -0 "$SECFUD_PID" 2>/dev/null || break
                sleep 0.05
        done
        return 1
}
dev_daemon_stop() {
        local rc=0
        [ -n "${SECFUD_PID:-}" ] || return 0
        kill -TERM "$SECFUD_PID" 2>/dev/null
        if ! wait_until 10 eval '! kill -0 "$SECFUD_PID" 2>/dev/null'; then
                kill -KILL "$SECFUD_PID" 2>/dev/null
                diag "secfud ignored SIGTERM"
        fi
        wait "$SECFUD_PID" 2>/dev/null || rc=$?
        SECFUD_PID=
        return "$rc"
}
dev_ctl() { timeout "${CTL_TIMEOUT:-120}" "$SECFUCTL" -s "$D/run/secfud.sock" "$@"; }
# dev_daemon_done WHAT: the running daemon answers status within 1 s and
# exits cleanly on SIGTERM (three cases).
dev_daemon_done() {
        local t0 t1
        t0=$(date +%s%N)
        dev_ctl status >/dev/null 2>&1
        ok $? "$1: the daemon answers status"
        t1=$(date +%s%N)
        ok $(((t1 - t0) < 1000000000 ? 0 : 1)) "$1: ... within 1 s ($(((t1 - t0) / 1000000)) ms)"
        dev_daemon_stop
        is "$?" 0 "$1: the daemon exits cleanly on SIGTERM"
}

# wait_until SECONDS COMMAND...: polls COMMAND every 0.05 s; 1 on timeout.
wait_until() {
        local deadline i
        deadline=$(($1 * 20))
        shift
        for ((i = 0; i < deadline; i++)); do
                "$@" && return 0
                sleep 0.05
        done
        return 1
}
# once_errors: the error lines (<0>..<3>) of the last run's stderr.
once_errors() { grep '^<[0-3]>' "$D/once.log"; }
once_log_has() { grep -q -- "$1" "$D/once.log"; }

state_is() { [ "$(state_field "s['state']")" = "$1" ]; }
state_field() { # state_field PYTHON-EXPRESSION-ON-s
        /usr/bin/python3 -c "import json,sys; s=json.load(open('$D/state/state.json')); print($1)" 2>/dev/null
}

# ---------------------------------------------------------------- invariants
# dev_snapshot NAME: what must survive any refused input.  When state.json
# is not a regular file (the state-file attacks) the snapshot records what
# the path is instead of what the file says: python would block on a FIFO
# and read a link to /dev/zero without end.
dev_snapshot() {
        local name=$1 st=$D/state/state.json
        {
                sha256sum "$D/slot-a" | cut -d' ' -f1
                sha256sum "$D/slot-a.canary" "$D/slot-b.canary" | cut -d' ' -f1
                sha256sum "$D/bootenv" 2>/dev/null | cut -d' ' -f1
                sha256sum "$D/grubenv" 2>/dev/null | cut -d' ' -f1
                sha256sum "$D"/keys.d/* | cut -d' ' -f1
                if [ -L "$st" ] || { [ -e "$st" ] && [ ! -f "$st" ]; }; then
                        echo "state.json is a $(stat -c %F "$st")"
                else
                        # a device that never ran secfud has installed what it runs
                        /usr/bin/python3 - "$D" <<'PY' 2>/dev/null
import json, os, sys
d = sys.argv[1]
try:
    s = json.load(open(os.path.join(d, "state", "state.json")))
except FileNotFoundError:
    version = open(os.path.join(d, "version")).read().strip()
    booted = open(os.path.join(d, "booted")).read().strip()
    s = {"highestInstalled": version, "slots": {booted: {"version": version, "health": "good"}}}
print(s["highestInstalled"], [(k, v["version"]) for k, v in sorted(s["slots"].items())
                              if v["health"] in ("good", "trial")])
PY
                fi
        } >"$D/snapshot-$name"
}
# dev_unchanged NAME DESCRIPTION
dev_unchanged() {
        local name=$1
        shift
        dev_snapshot "$name-after"
        cmp -s "$D/snapshot-$name" "$D/snapshot-$name-after"
        ok $? "$* leaves the running slot, bootloader env, trust store and installed versions unchanged"
}
# refused SNAPSHOT IMAGE-PATH PATTERN DESCRIPTION: the last secfud_once
# failed (exit != 0) with an error line on stderr matching PATTERN (grep -E),
# left what dev_snapshot SNAPSHOT recorded alone and, unless IMAGE-PATH is
# empty, never asked the firmware server for IMAGE-PATH.
refused() {
        local snap=$1 img=$2 pattern=$3
        shift 3
        [ "$ONCE_STATUS" -ne 0 ]
        ok $? "$*: secfud --once fails (exit $ONCE_STATUS)"
        once_errors | grep -qE -- "$pattern"
        ok $? "$*: the reason on stderr matches /$pattern/"
        dev_unchanged "$snap" "$*"
        if [ -n "$img" ]; then
                is "$(fixture_count "$img")" 0 "$*: no image byte was requested"
        fi
}
# staged VERSION DESCRIPTION: the last secfud_once staged VERSION in slot B.
staged() {
        local version=$1
        shift
        is "$ONCE_STATUS" 0 "$*: secfud --once succeeds"
        slot_b_is "$D/img-$version.img"
        ok $? "$*: slot B holds the $version image"
        is "$(state_field "s['state'], s['slots']['B']['health'], s['slots']['B']['version']")" \
                "staged staged $version" "$*: state staged, slot B staged with $version"
        if [ "${BACKEND:-file}" = file ]; then
                env_has "BOOT_ORDER=B A"
                ok $? "$*: the bootloader tries B first"
        fi
}
slot_b_is() { # slot_b_is IMAGE: the first bytes of slot B are IMAGE
        local size
        size=$(stat -c %s "$1")
        cmp -s -n "$size" "$1" "$D/slot-b"
}
env_has() { grep -qx -- "$1" "$D/bootenv"; }

# reboot_sim [--fail-boot]: one simulated boot with the file backend.
reboot_sim() {
        /usr/bin/python3 "$BOOTSIM" --backend "${BACKEND:-file}" --env "${BOOTENV_PATH:-$D/bootenv}" \
                --out "$D/booted" --slots "A B" --attempts 3 "$@"
}
booted_now() { cat "$D/booted"; }
