#!/bin/bash
# What make demo and make demo-formats share: the programs of BUILD_DIR
# ($1, default build/), numbered steps that echo their commands, a
# temporary directory $demo (the working directory) removed on exit with
# the fixture processes, and secfud started and stopped on the control
# socket $sock.  Sourced after `set -euo pipefail` with DEMO_NAME set.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
SECFUD=$build/secfud
SECFUCTL=$build/secfuctl
MANIFEST=$build/secfu-manifest
BOOTSIM=$top/tests/integration/bootsim
for bin in "$SECFUD" "$SECFUCTL" "$MANIFEST"; do
        [ -x "$bin" ] || { echo "$DEMO_NAME: $bin is missing; run make first" >&2; exit 1; }
done

bold=$(tput bold 2>/dev/null || true)
plain=$(tput sgr0 2>/dev/null || true)
step=0
say() { step=$((step + 1)); printf '\n%s== %d. %s%s\n' "$bold" "$step" "$*" "$plain"; }
run() { printf '%s$ %s%s\n' "$bold" "$*" "$plain" >&2; "$@"; }

demo=$(mktemp -d "${TMPDIR:-/tmp}/secfud-$DEMO_NAME.XXXXXX")
server_pid=""
daemon_pid=""
# shellcheck disable=SC2317  # run by the trap
demo_cleanup() {
        local status=$?
        if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null; wait "$daemon_pid" 2>/dev/null || true; fi
        if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; fi
        rm -rf "$demo"
        exit "$status"
}
trap demo_cleanup EXIT
trap 'echo; echo "$DEMO_NAME: interrupted, cleaning up"; exit 130' INT TERM
cd "$demo"
sock=$demo/run/secfud.sock

start_daemon() {
        "$SECFUD" -c secfud.conf >>daemon.log 2>&1 &
        daemon_pid=$!
        for _ in $(seq 100); do [ -S "$sock" ] && return 0; sleep 0.05; done
        echo "$DEMO_NAME: secfud did not start:"; cat daemon.log; exit 1
}
stop_daemon() {
        kill "$daemon_pid" && wait "$daemon_pid" 2>/dev/null || true
        daemon_pid=""
}
