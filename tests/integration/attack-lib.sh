# shellcheck shell=bash
# shellcheck disable=SC2034  # KID, P11, J11, IMG11, F, GOOD are set for the sourcing test
# Shared by tests/integration/attack-*.sh (sourced, not a test itself): the
# device test bed of lib.sh plus what the attack scenarios need on top of
# it -- forged manifests (tests/lib/jwsforge.py), a saved pristine device
# that every scenario starts from, and the refusal check with its
# single-error-line rule.
#
#   . "$top_srcdir/tests/integration/attack-lib.sh"
#   att_require; att_setup       # dev_setup, the 1.1.0 payload ($P11) and image, saved
#   neg "bit flip in the signature" 'does not verify' \
#           --payload "$P11" --key "$D/factory.key" --alg ES256 --flip signature:0:0
#   pos "twin: unflipped" --payload "$P11" --key "$D/factory.key" --alg ES256
#   att_try "$D/other.jws"       # restore, serve, snapshot s, secfud --once
#   att_refused "$IMG11" 'PATTERN' "description"
#   att_done                     # runs what neg/pos queued, prints the plan
#
# With ATT_DAEMON=1 in the environment every cycle (att_try, att_cycle)
# runs in the real daemon instead of secfud --once: see "daemon mode" below.
set -u
: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"

JWSFORGE="$top_srcdir/tests/lib/jwsforge.py"
FW_IMAGE_SIZE=65536

# forge ARGS...: tests/lib/jwsforge.py (see its --help) on stdout.
forge() { /usr/bin/python3 "$JWSFORGE" "$@"; }

# att_require: dev_require, plus the python cryptography package.
att_require() {
        dev_require
        /usr/bin/python3 -c 'import cryptography' 2>/dev/null ||
                skip_all "/usr/bin/python3 has no cryptography package (python3-cryptography)"
}

# att_setup: a fresh device with small slots; the 1.1.0 manifest payload in
# $P11 (and the factory-signed compact JWS in $J11), its image on the server
# ($IMG11 is its URL path), the factory kid in $KID, the factory key in $F,
# the jwsforge arguments of the genuine 1.1.0 manifest in GOOD (an array),
# and the device saved as the pristine state every att_try starts from.
att_setup() {
        dev_setup 1048576 || return 1
        export SIZE=$FW_IMAGE_SIZE
        KID=$(forge_kid "$D/factory.key")
        att_payload 1.1.0 >/dev/null || return 1
        P11=$D/payload-1.1.0.json
        J11=$D/signed-1.1.0.jws
        IMG11=$(dev_image_path 1.1.0)
        F=$D/factory.key
        GOOD=(--payload "$P11" --key "$F" --alg ES256)
        att_save
}

# forge_kid KEYFILE: the RFC 7638 thumbprint (the kid secfu-manifest writes).
forge_kid() {
        /usr/bin/python3 -c 'import sys, importlib.util as u
s = u.spec_from_file_location("jwsforge", sys.argv[1]); m = u.module_from_spec(s); s.loader.exec_module(m)
print(m.thumbprint(m.load_private(sys.argv[2]).public_key()))' "$JWSFORGE" "$1"
}

# att_payload VERSION [create options...]: a manifest payload for VERSION
# (PAYLOAD_EDIT, MANUFACTURER, MODEL as for dev_manifest), its image on the
# server; prints the payload path $D/payload-VERSION.json (and leaves the
# factory-signed JWS in $D/signed-VERSION.jws).  OUT=NAME names the files
# $D/payload-NAME.json / $D/signed-NAME.jws instead.
att_payload() {
        local version=$1 name=${OUT:-$1} jws dir
        shift
        jws=$(dev_manifest "$version" "$@") || return 1
        cp "$D/manifest-$version.json" "$D/payload-$name.json"
        cp "$jws" "$D/signed-$name.jws"
        dir=$WWW$(dirname "$(dev_image_path "$version")")
        mkdir -p "$dir"
        cp "$D/img-$version.img" "$WWW$(dev_image_path "$version")"
        echo "$D/payload-$name.json"
}

# att_save / att_restore: the device as it is now (state, bootloader
# environment, slot B, trust store, configuration) / back to it, with the
# server's rules and counters cleared.
att_save() {
        rm -rf "$D/pristine"
        mkdir -p "$D/pristine"
        cp -a "$D/state" "$D/keys.d" "$D/slot-b" "$D/version" "$D/booted" "$CONF" "$D/pristine/"
        [ -e "$D/bootenv" ] && cp -a "$D/bootenv" "$D/pristine/"
        return 0
}
att_restore() {
        [ -n "${_att_flushing:-}" ] || flush
        rm -rf "$D/state" "$D/keys.d" "$D/bootenv"
        cp -a "$D/pristine/state" "$D/pristine/keys.d" "$D/"
        cp -a "$D/pristine/slot-b" "$D/pristine/version" "$D/pristine/booted" "$D/"
        cp -a "$D/pristine/$(basename "$CONF")" "$CONF"
        [ -e "$D/pristine/bootenv" ] && cp -a "$D/pristine/bootenv" "$D/"
        fixture_reset >/dev/null
}

# att_try JWS: from the pristine device, serve JWS as the manifest, take
# snapshot "s" and run one cycle (att_cycle: ONCE_STATUS, $D/once.log).
# Queued cases (neg, pos) run first.
att_try() {
        att_restore
        dev_install_manifest "$1"
        dev_snapshot s
        _att_label=$(basename "$1")
        att_cycle
}

# att_refused IMAGE-PATH PATTERN DESCRIPTION: the last att_try failed with
# exactly one error-level line on stderr (in daemon mode: in the daemon's
# log, from its start to its exit), matching PATTERN (grep -E), changed
# nothing of snapshot "s" (dev_unchanged), and (unless IMAGE-PATH is empty)
# never requested IMAGE-PATH; in daemon mode also att_daemon_report.
att_refused() {
        local img=$1 pattern=$2 errors failed=1
        shift 2
        if [ "$ATT_DAEMON" = 1 ]; then
                # 1 and nothing else: Status itself reports the failure.
                [ "$ONCE_STATUS" -eq 1 ] && failed=0
                ok "$failed" "$*: the daemon's poll fails (status $ONCE_STATUS: Status gives its lastError as the reason)"
        else
                [ "$ONCE_STATUS" -ne 0 ] && failed=0
                ok "$failed" "$*: secfud --once fails (exit $ONCE_STATUS)"
        fi
        errors=$(once_errors)
        [ "$(printf '%s\n' "$errors" | grep -c .)" -eq 1 ] && printf '%s\n' "$errors" | grep -qE -- "$pattern"
        ok $? "$*: one error line, matching /$pattern/"
        dev_unchanged s "$*"
        if [ -n "$img" ]; then
                is "$(att_count "$img")" 0 "$*: no image byte was requested"
        fi
        att_daemon_report "$*"
}

# ---------------------------------------------------------------- daemon mode
# ATT_DAEMON=1: a cycle is the first poll of the real daemon (secfud -c
# CONF, no --once), which SFU_TEST_POLL_AT_START=1 (test builds) starts at
# once: the same job as --once, with the configured [poll] policy.  The
# poll has finished when the daemon logged a line after its "ready" line
# (every poll logs at least its outcome) and a Status call made after that
# says "busy": false.  ONCE_STATUS mirrors the exit status of --once: 0
# when the poll succeeded, 1 when Status then says it failed (lastError is
# set and is the reason of the state: a failed poll gives its error as the
# reason, a successful one what it found), 2 when Status lacks those
# members, 124 when the poll did not finish.  Then the daemon must be alive, answer one Status call within
# 1 s, and exit with status 0 within 10 s of SIGTERM; att_daemon_report
# turns that into two TAP cases.
ATT_DAEMON=${ATT_DAEMON:-0}
ATT_POLL_TIMEOUT=${ATT_POLL_TIMEOUT:-30}
# ATT_RUN: what runs a cycle, for the descriptions of the scripts' checks.
if [ "$ATT_DAEMON" = 1 ]; then ATT_RUN="the daemon's first poll"; else ATT_RUN="secfud --once"; fi

# att_cycle: one cycle on the device as it is (ONCE_STATUS, ONCE_SECONDS,
# the log in $D/once.log): secfud --once, or in daemon mode the daemon's
# first poll.
att_cycle() {
        if [ "$ATT_DAEMON" = 1 ]; then
                [ -n "${_att_label:-}" ] || _att_label="the cycle at line ${BASH_LINENO[0]}"
                _att_daemon_cycle
        else
                # shellcheck disable=SC2119  # secfud_once takes no arguments here
                secfud_once
        fi
        _att_label=
}

# _att_usec: the wall clock in microseconds (no process started).
_att_usec() { echo "${EPOCHREALTIME//[!0-9]/}"; }

_att_daemon_pending=
_att_daemon_cycle() {
        local sock=$D/run/secfud.sock pid t0 t1 deadline rc logged finished=
        att_daemon_report # what the previous cycle left unreported
        _att_daemon_pending=$_att_label
        _att_alive_why=
        _att_stop_why=
        _att_status_ms=-
        rm -f "$sock"
        t0=$(_att_usec)
        SFU_TEST_POLL_AT_START=1 "$SECFUD" -c "$CONF" >"$D/once.out" 2>"$D/once.log" &
        SECFUD_PID=$!
        pid=$SECFUD_PID
        # The log first, then Status: "busy": false after a line of the
        # poll means the poll is over, not that it has yet to start.  The
        # Status calls also wake the event loop, which otherwise starts the
        # due poll only at its timer's coalesced wake-up (up to 1 s later).
        deadline=$((t0 + ATT_POLL_TIMEOUT * 1000000))
        while [ "$(_att_usec)" -lt "$deadline" ] && kill -0 "$pid" 2>/dev/null; do
                logged=0
                awk 'r { f = 1; exit } /^<[0-7]>secfud .* ready: / { r = 1 } END { exit !f }' "$D/once.log" && logged=1
                if timeout 5 "$SECFUCTL" -s "$sock" --json status >"$D/status.json" 2>/dev/null &&
                        [ "$logged" = 1 ] && grep -q '"busy": false' "$D/status.json"; then
                        finished=1
                        break
                fi
                sleep 0.02
        done
        t1=$(_att_usec)
        ONCE_SECONDS=$(awk -v d="$((t1 - t0))" 'BEGIN { printf "%.2f", d / 1e6 }')
        [ -n "$finished" ] || _att_alive_why="; the first poll did not finish within ${ATT_POLL_TIMEOUT} s"
        # One Status call, timed, and the verdict on the poll from it.
        t0=$(_att_usec)
        timeout 5 "$SECFUCTL" -s "$sock" --json status >"$D/status.json" 2>"$D/status.err"
        rc=$?
        t1=$(_att_usec)
        _att_status_ms=$(((t1 - t0) / 1000))
        if [ "$rc" -ne 0 ]; then
                _att_alive_why+="; Status failed (secfuctl exit $rc: $(head -c 300 "$D/status.err"))"
        elif [ "$_att_status_ms" -ge 1000 ]; then
                _att_alive_why+="; Status took $_att_status_ms ms"
        fi
        if [ -z "$finished" ] || [ "$rc" -ne 0 ]; then
                ONCE_STATUS=124
        else
                /usr/bin/python3 -S -c 'import json, sys
s = json.load(open(sys.argv[1]))
if "lastError" not in s or "reason" not in s:
    print("# Status has no lastError or no reason", file=sys.stderr)
    sys.exit(2)
e = s["lastError"]
sys.exit(1 if e is not None and e["message"] == s["reason"] else 0)' "$D/status.json" 2>&1
                ONCE_STATUS=$?
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
                wait "$pid"
                rc=$?
                _att_alive_why+="; the daemon is gone (exit status $rc)"
                _att_stop_why="it had exited (status $rc) before SIGTERM"
                SECFUD_PID=
                return 0
        fi
        # SIGTERM: gone within 10 s, with exit status 0.
        kill -TERM "$pid" 2>/dev/null
        deadline=$(($(_att_usec) + 10000000))
        while [ "$(_att_usec)" -lt "$deadline" ] && kill -0 "$pid" 2>/dev/null; do
                sleep 0.02
        done
        if kill -0 "$pid" 2>/dev/null; then
                kill -KILL "$pid" 2>/dev/null
                _att_stop_why="still running 10 s after SIGTERM"
        fi
        wait "$pid"
        rc=$?
        SECFUD_PID=
        [ -n "$_att_stop_why" ] || [ "$rc" -eq 0 ] || _att_stop_why="exit status $rc"
}

# att_daemon_report [DESCRIPTION]: in daemon mode, the two TAP cases of
# the last cycle, once: the daemon was alive after its poll and answered
# Status within 1 s, and it exited cleanly on SIGTERM.  att_refused and
# flush call it; a cycle nobody reported is reported at the start of the
# next one (under the manifest's file name or the line of att_cycle).
att_daemon_report() {
        local desc=${1:-"daemon run ($_att_daemon_pending)"}
        [ -n "$_att_daemon_pending" ] || return 0
        _att_daemon_pending=
        [ -z "$_att_alive_why" ]
        ok $? "$desc: the daemon is alive after its poll and answers Status within 1 s (${_att_status_ms} ms)"
        [ -z "$_att_alive_why" ] || diag "  ${_att_alive_why#; }"
        [ -z "$_att_stop_why" ]
        ok $? "$desc: the daemon exits cleanly on SIGTERM"
        [ -z "$_att_stop_why" ] || diag "  $_att_stop_why"
}

# att_conf SECTION KEY VALUE: sets KEY in SECTION of the device's
# configuration (after the section header; the pristine copy follows with
# att_save).
att_conf() {
        sed -i "/^\[$1\]\$/a $2 = $3" "$CONF"
}

# seg N FILE: segment N (1..3) of a compact JWS.
seg() { cut -d. -f"$1" <"$2"; }

# neg DESCRIPTION PATTERN FORGE-ARGS...: a manifest forged with ARGS must
# be refused for PATTERN before any byte of the 1.1.0 image.
# pos DESCRIPTION FORGE-ARGS...: the forged manifest stages 1.1.0.
# Both only queue the case: flush forges every queued manifest in one
# jwsforge run and then runs the cases in order (call it before anything
# that looks at what a case left behind; att_done calls it).
_att_kind=()
_att_desc=()
_att_pattern=()
neg() {
        _att_queue neg "$1" "$2" "${@:3}"
}
pos() {
        _att_queue pos "$1" - "${@:2}"
}
_att_queue() {
        local n=${#_att_kind[@]}
        _att_kind+=("$1")
        _att_desc+=("$2")
        _att_pattern+=("$3")
        shift 3
        printf '%s\0%s\0' "$D/queued-$n.jws" $# >>"$D/forge.batch"
        [ $# -eq 0 ] || printf '%s\0' "$@" >>"$D/forge.batch"
}
flush() {
        local i n=${#_att_kind[@]}
        [ "$n" -gt 0 ] || return 0
        if ! forge --batch "$D/forge.batch"; then
                ok 1 "jwsforge --batch: $n queued cases"
                n=0
        fi
        _att_flushing=1
        for ((i = 0; i < n; i++)); do
                att_try "$D/queued-$i.jws"
                if [ "${_att_kind[i]}" = neg ]; then
                        att_refused "$IMG11" "${_att_pattern[i]}" "${_att_desc[i]}"
                else
                        staged 1.1.0 "${_att_desc[i]}"
                        att_daemon_report "${_att_desc[i]}"
                fi
        done
        _att_flushing=
        rm -f "$D/forge.batch" "$D"/queued-*.jws
        _att_kind=()
        _att_desc=()
        _att_pattern=()
}
att_done() {
        flush
        att_daemon_report
        tap_done
}

# att_count PATH: requests the fixture server saw for PATH (fixture_count,
# without the start-up time of the fixture's control client).
att_count() {
        curl -sS --max-time 10 "http://127.0.0.1:$SERVER_PORT/_fixture/stats" |
                /usr/bin/python3 -S -c 'import json, sys
print(json.load(sys.stdin).get("paths", {}).get(sys.argv[1], {}).get("count", 0))' "$1"
}
