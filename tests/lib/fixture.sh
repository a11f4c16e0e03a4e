# shellcheck shell=bash
# shellcheck disable=SC2034  # FIXTURE_* and CANARY_* are set for the caller
# Shell helpers for integration tests: the fixture HTTP(S) server.
#
#   . "$top_srcdir/tests/lib/fixture.sh"
#   trap fixture_cleanup EXIT
#   fixture_start ROOT [server options]   # FIXTURE_PORT, FIXTURE_PID, FIXTURE_URL
#   fixture_rule /x '{"truncate_at": 100}'
#   fixture_count /x                      # requests seen for /x
#   fixture_stop
#
# Call the start functions directly, not in $(...): they set variables.
# A test with several servers saves FIXTURE_PORT / FIXTURE_SCHEME after each
# start and sets them again (FIXTURE_PORT=$p fixture_rule ...) to talk to one.
# Every wait is bounded; fixture_cleanup stops every server started here and
# removes the work directory (kept when FIXTURE_KEEP=1).
# Needs python3 (the server, stats reads) and curl (rule changes).

FIXTURE_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FIXTURE_SERVER="$FIXTURE_LIB_DIR/fixture-server.py"
# The server needs the standard library only: Debian's interpreter starts
# in a tenth of the time a version-manager shim on PATH takes, and the
# tests call it for every statistic they read.
if [ -z "${FIXTURE_PYTHON:-}" ]; then
        if [ -x /usr/bin/python3 ]; then FIXTURE_PYTHON=/usr/bin/python3; else FIXTURE_PYTHON=python3; fi
fi
: "${FIXTURE_START_TIMEOUT:=10}"      # seconds to wait for the port file
: "${FIXTURE_STOP_TIMEOUT:=5}"        # seconds between SIGTERM and SIGKILL
_FIXTURE_PIDS=()
_FIXTURE_SEQ=0

# shellcheck source=tests/lib/certs.sh
. "$FIXTURE_LIB_DIR/certs.sh"

# fixture_workdir: makes FIXTURE_WORKDIR (logs, port and stats files) once.
fixture_workdir() {
        if [ -z "${FIXTURE_WORKDIR:-}" ]; then
                FIXTURE_WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/secfu-fixture.XXXXXX") || return 1
                _FIXTURE_OWN_WORKDIR=1
        fi
}

# _fixture_launch PREFIX ARGS...: starts the server, waits for its port file.
_fixture_launch() {
        local base=$1
        shift
        local pid port="" i
        rm -f "$base.port"
        "$FIXTURE_PYTHON" -S "$FIXTURE_SERVER" --port-file "$base.port" --stats-file "$base.stats" \
                "$@" >"$base.log" 2>&1 &
        pid=$!
        for ((i = 0; i < FIXTURE_START_TIMEOUT * 20; i++)); do
                if [ -s "$base.port" ]; then
                        read -r port <"$base.port"
                        break
                fi
                if ! kill -0 "$pid" 2>/dev/null; then
                        break
                fi
                sleep 0.05
        done
        if [ -z "$port" ]; then
                echo "fixture: server did not start; its log ($base.log):" >&2
                sed 's/^/fixture:   /' "$base.log" >&2
                kill -KILL "$pid" 2>/dev/null
                wait "$pid" 2>/dev/null
                return 1
        fi
        _FIXTURE_PIDS+=("$pid")
        _FIXTURE_LAST_PID=$pid
        _FIXTURE_LAST_PORT=$port
}

# fixture_start ROOT [server options]: an HTTP(S) server serving ROOT.
# Sets FIXTURE_PORT, FIXTURE_PID, FIXTURE_SCHEME (http|https), FIXTURE_URL
# (scheme://127.0.0.1:port, no trailing slash), FIXTURE_LOG, FIXTURE_STATS_FILE.
fixture_start() {
        local root=${1:?usage: fixture_start ROOT [options]}
        shift
        local scheme=http a
        for a in "$@"; do
                case $a in --tls-cert | --tls-cert=*) scheme=https ;; esac
        done
        fixture_workdir || return 1
        _FIXTURE_SEQ=$((_FIXTURE_SEQ + 1))
        local base="$FIXTURE_WORKDIR/server-$_FIXTURE_SEQ"
        _fixture_launch "$base" --root "$root" "$@" || return 1
        FIXTURE_PID=$_FIXTURE_LAST_PID
        FIXTURE_PORT=$_FIXTURE_LAST_PORT
        FIXTURE_SCHEME=$scheme
        FIXTURE_URL="$scheme://127.0.0.1:$FIXTURE_PORT"
        FIXTURE_LOG="$base.log"
        FIXTURE_STATS_FILE="$base.stats"
}

# fixture_canary_start: a listener that only counts connections.
# Sets CANARY_PORT, CANARY_PID, CANARY_STATS_FILE.
fixture_canary_start() {
        fixture_workdir || return 1
        _FIXTURE_SEQ=$((_FIXTURE_SEQ + 1))
        local base="$FIXTURE_WORKDIR/canary-$_FIXTURE_SEQ"
        _fixture_launch "$base" --canary "$@" || return 1
        CANARY_PID=$_FIXTURE_LAST_PID
        CANARY_PORT=$_FIXTURE_LAST_PORT
        CANARY_STATS_FILE="$base.stats"
}

# fixture_canary_connections: connections the canary has seen.
fixture_canary_connections() {
        "$FIXTURE_PYTHON" -S "$FIXTURE_SERVER" ctl --stats-file "$CANARY_STATS_FILE" \
                stat --default 0 connections
}

# fixture_stop [PID]: SIGTERM (SIGKILL after FIXTURE_STOP_TIMEOUT); default
# FIXTURE_PID. Returns the server's exit status (0 after a clean shutdown).
fixture_stop() {
        local pid=${1:-${FIXTURE_PID:-}} i rc=0 p keep=()
        [ -n "$pid" ] || return 0
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < FIXTURE_STOP_TIMEOUT * 20; i++)); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.05
        done
        if kill -0 "$pid" 2>/dev/null; then
                echo "fixture: server $pid ignored SIGTERM; killing it" >&2
                kill -KILL "$pid" 2>/dev/null
        fi
        wait "$pid" 2>/dev/null || rc=$?
        for p in "${_FIXTURE_PIDS[@]}"; do
                [ "$p" = "$pid" ] || keep+=("$p")
        done
        _FIXTURE_PIDS=("${keep[@]}")
        [ "$pid" = "${FIXTURE_PID:-}" ] && FIXTURE_PID=
        return "$rc"
}

# fixture_cleanup: stops every server started here and removes the work
# directory; for `trap fixture_cleanup EXIT`.
fixture_cleanup() {
        local p
        for p in "${_FIXTURE_PIDS[@]}"; do
                fixture_stop "$p" || true
        done
        if [ -n "${_FIXTURE_OWN_WORKDIR:-}" ] && [ -n "${FIXTURE_WORKDIR:-}" ]; then
                if [ "${FIXTURE_KEEP:-0}" = 1 ]; then
                        echo "fixture: kept $FIXTURE_WORKDIR" >&2
                else
                        rm -rf "$FIXTURE_WORKDIR"
                fi
                FIXTURE_WORKDIR=
                _FIXTURE_OWN_WORKDIR=
        fi
        return 0
}

# _fixture_ctl ARGS...: the control client against FIXTURE_PORT.
_fixture_ctl() {
        local tls=()
        [ "${FIXTURE_SCHEME:-http}" = https ] && tls=(--tls)
        "$FIXTURE_PYTHON" -S "$FIXTURE_SERVER" ctl --port "${FIXTURE_PORT:?no fixture server}" \
                "${tls[@]}" "$@"
}

# _fixture_post NAME JSON: POST /_fixture/NAME with curl (quicker than a
# python start for the many rule changes of a test); the server's one-line
# reason on stderr when it refuses.
_fixture_post() {
        local out code
        out=$(curl -sS -k --max-time 10 -H 'Content-Type: application/json' \
                --data-binary "$2" -w '\n%{http_code}' \
                "${FIXTURE_SCHEME:-http}://127.0.0.1:${FIXTURE_PORT:?no fixture server}/_fixture/$1") || {
                echo "fixture: control request $1 failed" >&2
                return 1
        }
        code=${out##*$'\n'}
        if [ "$code" != 200 ]; then
                echo "fixture: $1: ${out%$'\n'*}" >&2
                return 1
        fi
}
# _fixture_json_string TEXT: TEXT as a JSON string
_fixture_json_string() {
        local s=${1//\\/\\\\}
        s=${s//\"/\\\"}
        printf '"%s"' "$s"
}

# fixture_rule PATH JSON: replaces the rules of PATH.
fixture_rule() {
        _fixture_post rules "{\"path\": $(_fixture_json_string "${1:?path}"), \"rules\": ${2:?json}}"
}
# fixture_rule_append PATH JSON: queues rules after those PATH has.
fixture_rule_append() {
        _fixture_post rules \
                "{\"path\": $(_fixture_json_string "${1:?path}"), \"rules\": ${2:?json}, \"append\": true}"
}
# fixture_clear PATH: PATH is served normally again.
fixture_clear() { _fixture_post rules "{\"path\": $(_fixture_json_string "${1:?path}"), \"rules\": null}"; }
# fixture_reset: no rules, no swaps, zero counters.
fixture_reset() { _fixture_post reset '{}'; }
# fixture_stats: the stats JSON on stdout.
fixture_stats() { _fixture_ctl stats; }
# fixture_stat KEY...: one value of the stats (e.g. paths /x requests -1 status).
fixture_stat() { _fixture_ctl stat "$@"; }
# fixture_count PATH: requests for PATH (0 if none).
fixture_count() { _fixture_ctl stat --default 0 paths "${1:?path}" count; }
# fixture_bytes PATH: body bytes sent for PATH.
fixture_bytes() { _fixture_ctl stat --default 0 paths "${1:?path}" bytes_sent; }
# fixture_header PATH NAME [INDEX]: a request header of a request for PATH
# (INDEX into the log, default -1 = the last); empty when absent.
fixture_header() {
        _fixture_ctl stat --default "" paths "${1:?path}" requests "${3:--1}" headers "${2:?name}"
}
# fixture_connections: TCP connections accepted (control calls included);
# fixture_data_connections: those that carried a request for a file.
fixture_connections() { _fixture_ctl stat connections; }
fixture_data_connections() { _fixture_ctl stat data_connections; }
