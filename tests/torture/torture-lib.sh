# shellcheck shell=bash
# shellcheck disable=SC2034  # ST_*, ONCE_*, R and the like are set for the scripts
# SPDX-License-Identifier: MIT
# Helpers of the fault campaigns in tests/torture/: one device (the test bed
# of tests/integration/lib.sh) with all three bootloader environments set up
# side by side (the `file` backend's KEY=VALUE file, a grubenv block, a
# redundant U-Boot environment in two files named by fw_env.config), so that
# a scenario switches backends by rewriting the configuration; a reset that
# brings the device back to "1.0.0 running in A, nothing staged" between
# runs; decoders of each environment through an independent reader
# (tests/integration/bootsim) and the native tool (grub-editenv,
# fw_printenv); a state.json reader; per-run verdicts that fold many checks
# into one TAP line; the seeded random numbers and the summary line that
# tools/torture.sh collects.
#
#   TORTURE_RUNS=N    runs of a scenario (default: the `make check` size)
#   TORTURE_SEED=S    seed of every random choice (printed; rerun with it)
#   TORTURE_TMPDIR=D  where the devices live (default /dev/shm when it has
#                     room: the campaigns write hundreds of MiB)
#   TORTURE_SUMMARY=F append "name runs passed failed resumed seconds" to F
#   KEEP=1            keep the device directories
set -u
: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir/build}"
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"

T_RUNS=0
T_PASSED=0
T_FAILED=0
T_RESUMED=0
T_NAME=
T_T0=

# torture_init NAME DEFAULT_RUNS: RUNS, the seed, the device directory.
torture_init() {
        T_NAME=$1
        RUNS=${TORTURE_RUNS:-$2}
        case $RUNS in '' | *[!0-9]*) bail "TORTURE_RUNS must be a number" ;; esac
        if [ -z "${TORTURE_SEED:-}" ]; then
                TORTURE_SEED=$(( ($(date +%s) ^ $$) % 1000000 ))
        fi
        case $TORTURE_SEED in '' | *[!0-9]*) bail "TORTURE_SEED must be a number" ;; esac
        reseed 0
        diag "$T_NAME: $RUNS runs, TORTURE_SEED=$TORTURE_SEED (rerun: TORTURE_SEED=$TORTURE_SEED TORTURE_RUNS=$RUNS $0)"
        if [ -n "${TORTURE_TMPDIR:-}" ]; then
                export TMPDIR=$TORTURE_TMPDIR
        elif [ -d /dev/shm ] && [ -w /dev/shm ] &&
                [ "$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')" -gt 1048576 ] 2>/dev/null; then
                export TMPDIR=/dev/shm
        fi
        T_T0=$(date +%s)
}

# torture_require: skips the script unless the binaries and tools exist.
torture_require() {
        local tool
        dev_require
        for tool in grub-editenv fw_setenv fw_printenv timeout sha256sum; do
                command -v "$tool" >/dev/null 2>&1 ||
                        skip_all "$tool is not installed (apt-get install grub-common libubootenv-tool coreutils)"
        done
        grep -q 'env-written' "$SECFUD" || skip_all "$SECFUD has no env-write fault points (rebuild it)"
}

# rnd N: R = a random number 0..N-1; pick WORD...: R = one of the words.
# Not bash's $RANDOM: a command substitution would reseed it.  A linear
# congruential generator in a variable, so that the choices of a run depend
# on TORTURE_SEED and the run's number only (reseed I), whatever ran before.
_rng=1
rnd() {
        _rng=$(((_rng * 1103515245 + 12345) % 2147483648))
        R=$(((_rng >> 8) % $1))
}
pick() {
        local words=("$@")
        rnd ${#words[@]}
        R=${words[$R]}
}
reseed() {
        local i
        _rng=$(((TORTURE_SEED * 7919 + $1 * 104729 + 1) % 2147483648))
        for i in 1 2 3; do rnd 2; done
}

# ---------------------------------------------------------------- per-run verdicts
# run_begin; run_expect DESC COMMAND...; ...; run_end DESCRIPTION
# One TAP line per run; the checks that failed are listed under it.
run_begin() {
        _run_failed=()
        _run_notes=()
        RUN_LOG=
}
run_expect() {
        local desc=$1
        shift
        if ! "$@" >/dev/null 2>&1; then
                _run_failed+=("$desc")
        fi
}
run_fail() { _run_failed+=("$1"); }
run_note() { _run_notes+=("$1"); }
# run_log: keep the log of the secfud --once just run; a failed run shows it
# (default: the log of the last secfud --once).
run_log() {
        cp "$D/once.log" "$D/run-$1.log" 2>/dev/null
        RUN_LOG="${RUN_LOG:+$RUN_LOG }$D/run-$1.log"
}
run_end() {
        local f
        T_RUNS=$((T_RUNS + 1))
        if [ ${#_run_failed[@]} -eq 0 ]; then
                T_PASSED=$((T_PASSED + 1))
                ok 0 "$*"
                return
        fi
        T_FAILED=$((T_FAILED + 1))
        TAP_ON_FAIL= ok 1 "$*"
        for f in "${_run_failed[@]}"; do diag "  failed: $f"; done
        for f in "${_run_notes[@]}"; do diag "  note: $f"; done
        for f in ${RUN_LOG:-${D:+$D/once.log}}; do
                [ -f "$f" ] || continue
                diag "  secfud --once log ($(basename "$f")):"
                sed 's/^/#     /' "$f" | tail -12
        done
}

# torture_done: the summary line, TAP plan, exit status.
torture_done() {
        local secs=$(($(date +%s) - T_T0))
        diag "summary: $T_NAME runs=$T_RUNS passed=$T_PASSED failed=$T_FAILED resumed=$T_RESUMED seconds=$secs seed=$TORTURE_SEED"
        if [ -n "${TORTURE_SUMMARY:-}" ]; then
                echo "$T_NAME $T_RUNS $T_PASSED $T_FAILED $T_RESUMED $secs $TORTURE_SEED" >>"$TORTURE_SUMMARY"
        fi
        tap_done
}

# ---------------------------------------------------------------- the device
# torture_device SLOT_SIZE: dev_setup plus the grub and U-Boot environments,
# reference hashes of everything a run must never change, and the pristine
# environments that torture_reset restores.
torture_device() {
        dev_setup "$1" || return 1
        mkdir -p "$D/uboot" "$D/pristine" "$D/ref"
        # grub: RAUC's variables, both slots good, A first
        grub-editenv "$D/grubenv" create || return 1
        grub-editenv "$D/grubenv" set ORDER="A B" A_OK=1 A_TRY=0 B_OK=1 B_TRY=0 saved_entry=0 || return 1
        # U-Boot: two copies, the newer one (flag 2) says MARK=new, the
        # older (flag 1) MARK=old; a variable secfud does not own survives
        head -c 16384 /dev/zero >"$D/uboot/env0"
        head -c 16384 /dev/zero >"$D/uboot/env1"
        printf '%s\n' "$D/uboot/env0 0x0 0x4000" "$D/uboot/env1 0x0 0x4000" >"$D/uboot/fw_env.config"
        : >"$D/uboot/empty"
        printf 'BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\nbootcmd=run distro_bootcmd\nMARK=old\n' >"$D/uboot/init.txt"
        fw_setenv -c "$D/uboot/fw_env.config" -f "$D/uboot/empty" -s "$D/uboot/init.txt" >/dev/null 2>&1 || return 1
        fw_setenv -c "$D/uboot/fw_env.config" MARK new >/dev/null 2>&1 || return 1
        cp "$D/bootenv" "$D/grubenv" "$D/uboot/env0" "$D/uboot/env1" "$D/pristine/"
        sha256sum "$D/slot-a" "$D/slot-a.canary" "$D/slot-b.canary" "$D"/keys.d/* >"$D/ref/never-changed"
        SLOT_SIZE=$1
        torture_backend file
}

# torture_backend file|grub|uboot: rewrites the configuration for it.
torture_backend() {
        BACKEND=$1
        FW_ENV_CONFIG=$D/uboot/fw_env.config
        dev_write_config
}

# env_files: the files that hold the current backend's environment.
env_files() {
        case $BACKEND in
        file) echo "$D/bootenv" ;;
        grub) echo "$D/grubenv" ;;
        uboot) echo "$D/uboot/env0 $D/uboot/env1" ;;
        esac
}
# env_bootsim_arg: what bootsim --env takes for the current backend.
env_bootsim_arg() {
        case $BACKEND in
        file) echo "$D/bootenv" ;;
        grub) echo "$D/grubenv" ;;
        uboot) echo "$D/uboot/fw_env.config" ;;
        esac
}

# torture_reset [VERSION]: 1.0.0 runs in A, nothing staged, nothing
# recorded; slot B emptied (so that "slot B holds the image" is the work of
# this run); the server without rules, serving VERSION's manifest.
torture_reset() {
        rm -rf "$D/state"
        mkdir -p "$D/state"
        cp "$D/pristine/bootenv" "$D/pristine/grubenv" "$D/"
        cp "$D/pristine/env0" "$D/pristine/env1" "$D/uboot/"
        echo A >"$D/booted"
        : >"$D/slot-b"
        truncate -s "$SLOT_SIZE" "$D/slot-b"
        fixture_reset >/dev/null
        [ -z "${1:-}" ] || dev_install_manifest "$D/manifest-$1.jws"
}

# torture_clean_cycle VERSION SECONDS: from torture_reset VERSION, one
# cycle without faults (torture_once SECONDS) must stage VERSION with the
# current backend (else Bail out!); the decoded environment before and after
# it is saved as old-$BACKEND and new-$BACKEND-VERSION (env_decoded_save).
torture_clean_cycle() {
        torture_reset "$1"
        env_decoded_save "old-$BACKEND" || bail "the $BACKEND environment does not decode"
        torture_once "$2"
        if [ "$ONCE_STATUS" != 0 ] || ! slot_b_holds "$1"; then
                sed 's/^/# /' "$D/once.log"
                bail "a clean cycle with the $BACKEND backend does not stage $1"
        fi
        env_decoded_save "new-$BACKEND-$1"
}

# torture_publish VERSION SIZE: image + manifest of VERSION on the server
# (several versions can be published; torture_reset picks the manifest).
torture_publish() {
        SIZE=$2 dev_publish "$1" >/dev/null || return 1
        sha256sum <"$D/img-$1.img" | cut -d' ' -f1 >"$D/img-$1.sha256"
}

# env_snapshot NAME / env_same NAME: the current backend's environment
# files, byte for byte.
env_snapshot() {
        local f
        rm -rf "$D/envsnap-$1"
        mkdir -p "$D/envsnap-$1"
        for f in $(env_files); do cp "$f" "$D/envsnap-$1/"; done
}
env_same() {
        local f
        for f in $(env_files); do
                cmp -s "$f" "$D/envsnap-$1/$(basename "$f")" || return 1
        done
}

# env_same_pristine: the environment files are those torture_reset restored.
env_same_pristine() {
        local f
        for f in $(env_files); do
                cmp -s "$f" "$D/pristine/$(basename "$f")" || return 1
        done
}

# env_decode: the environment as the bootloader reads it, sorted KEY=VALUE
# lines; fails when it has no valid copy, when bootsim (our independent
# reader) and the native tool disagree, or when the native tool fails.
env_decode() {
        local sim native err
        err=$(mktemp "$D/env-decode.XXXXXX")
        sim=$(/usr/bin/python3 "$BOOTSIM" --backend "$BACKEND" --env "$(env_bootsim_arg)" --dump 2>"$err") || {
                rm -f "$err"
                return 1
        }
        if grep -q 'bad CRC' "$err"; then
                rm -f "$err"
                return 1
        fi
        rm -f "$err"
        case $BACKEND in
        file) native=$(grep -v '^#' "$D/bootenv" | grep . | LC_ALL=C sort) || return 1 ;;
        grub) native=$(grub-editenv "$D/grubenv" list 2>/dev/null | LC_ALL=C sort) || return 1 ;;
        uboot) native=$(fw_printenv -c "$D/uboot/fw_env.config" 2>/dev/null | LC_ALL=C sort) || return 1 ;;
        esac
        sim=$(printf '%s\n' "$sim" | LC_ALL=C sort)
        [ "$sim" = "$native" ] || return 1
        printf '%s\n' "$sim"
}

# env_decoded_is NAME: the environment decodes to exactly $D/decoded-NAME.
env_decoded_is() {
        local now
        now=$(env_decode) || return 1
        [ "$now" = "$(cat "$D/decoded-$1")" ]
}
env_decoded_save() { env_decode >"$D/decoded-$1"; }

# never_changed: slot A, both canaries and the trust store are as set up.
never_changed() { sha256sum --quiet -c "$D/ref/never-changed" >/dev/null 2>&1; }

# slot_b_holds VERSION: slot B begins with VERSION's image (sha256 of the
# image-sized prefix).
slot_b_holds() {
        local size
        size=$(stat -c %s "$D/img-$1.img")
        [ "$(head -c "$size" "$D/slot-b" | sha256sum | cut -d' ' -f1)" = "$(cat "$D/img-$1.sha256")" ]
}

# state_read: parses state.json (strict JSON, the keys every state has, known
# values) and sets ST_EXISTS (0/1), ST_OK (1: parses and complete; when 0,
# ST_PROBLEM says why), ST_STATE, ST_TRIAL (trial bootname or empty),
# ST_B_HEALTH, ST_B_VERSION, ST_RESUME (resume offset or empty).
state_read() {
        local out
        out=$(/usr/bin/python3 - "$D/state/state.json" <<'PY'
import json, os, shlex, sys
path = sys.argv[1]
def emit(**kv):
    print(" ".join("%s=%s" % (k, shlex.quote(str(v))) for k, v in kv.items()))
if not os.path.exists(path):
    emit(ST_EXISTS=0, ST_OK=1, ST_STATE="", ST_TRIAL="", ST_B_HEALTH="", ST_B_VERSION="", ST_RESUME="", ST_PROBLEM="")
    sys.exit(0)
def bad(why):
    emit(ST_EXISTS=1, ST_OK=0, ST_STATE="", ST_TRIAL="", ST_B_HEALTH="", ST_B_VERSION="", ST_RESUME="", ST_PROBLEM=why)
    sys.exit(0)
def no_constants(name):
    raise ValueError("not JSON: " + name)
try:
    with open(path, "rb") as f:
        s = json.loads(f.read().decode("utf-8"), parse_constant=no_constants)
except (ValueError, UnicodeDecodeError) as e:
    bad("does not parse: %s" % e)
if not isinstance(s, dict):
    bad("not an object")
for key in ("format", "state", "reason", "slots", "highestInstalled", "trial", "resume", "lastError"):
    if key not in s:
        bad("key %s missing" % key)
states = ("idle", "checking", "available", "downloading", "staged", "trial", "committed", "rolled-back")
if s["state"] not in states:
    bad("unknown state %r" % s["state"])
slots = s["slots"]
if not isinstance(slots, dict) or set(slots) != {"A", "B"}:
    bad("slots are not A and B: %r" % slots)
for name, slot in slots.items():
    if not isinstance(slot, dict) or slot.get("health") not in ("good", "bad", "trial", "staged", "empty"):
        bad("slot %s: bad health %r" % (name, slot))
trial = s["trial"]
if trial is not None and not (isinstance(trial, dict) and isinstance(trial.get("bootname"), str)):
    bad("trial is neither null nor {bootname, previous}")
resume = s["resume"]
offset = ""
if resume is not None:
    if not isinstance(resume, dict):
        bad("resume is neither null nor an object")
    offset = resume.get("offset", "")
emit(ST_EXISTS=1, ST_OK=1, ST_STATE=s["state"], ST_TRIAL=(trial or {}).get("bootname", ""),
     ST_B_HEALTH=slots["B"]["health"], ST_B_VERSION=slots["B"].get("version") or "", ST_RESUME=offset,
     ST_PROBLEM="")
PY
) || {
                ST_EXISTS=1 ST_OK=0 ST_PROBLEM="state reader failed"
                return 1
        }
        eval "$out"
}

# torture_once [SECONDS]: secfud --once bounded in time (default 60 s);
# ONCE_STATUS (137: killed, by a fault point or by the bound), ONCE_SECONDS,
# ONCE_TIMED_OUT (0/1).
torture_once() {
        local limit=${1:-60} t0
        t0=$(date +%s.%N)
        # (bash's "Killed" notice goes nowhere)
        { timeout -s KILL "$limit" "$SECFUD" -c "$CONF" --once >"$D/once.out" 2>"$D/once.log"; } 2>/dev/null
        ONCE_STATUS=$?
        ONCE_SECONDS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
        ONCE_TIMED_OUT=$(awk -v s="$ONCE_SECONDS" -v l="$limit" 'BEGIN { print (s + 0.05 >= l) ? 1 : 0 }')
}

# torture_once_bg / torture_kill / torture_wait: secfud --once in the
# background (SECFUD_PID), kill -9 (1 when it had already exited), reaping
# (ONCE_STATUS).
torture_once_bg() {
        "$SECFUD" -c "$CONF" --once >"$D/once.out" 2>"$D/once.log" &
        SECFUD_PID=$!
}
torture_kill() { kill -KILL "$SECFUD_PID" 2>/dev/null; }
# wait_orphans: a grub-editenv that secfud had started outlives a kill of
# secfud (as it would a crash): let it finish before the checks (at most 5 s).
wait_orphans() {
        local i
        for ((i = 0; i < 100; i++)); do
                pgrep -f -- "grub-editenv $D/grubenv" >/dev/null 2>&1 || return 0
                sleep 0.05
        done
}
torture_wait() {
        wait "$SECFUD_PID" 2>/dev/null
        ONCE_STATUS=$?
        SECFUD_PID=
}

# resumed_from PATH: the largest Range start the server answered with 206
# for PATH since the last fixture_reset (0: never resumed).
resumed_from() {
        fixture_stats | /usr/bin/python3 -c '
import json, sys
path = sys.argv[1]
reqs = json.load(sys.stdin).get("paths", {}).get(path, {}).get("requests", [])
best = 0
for r in reqs:
    h = r.get("headers", {}).get("Range", "")
    if r.get("status") == 206 and h.startswith("bytes=") and h[6:].split("-")[0].isdigit():
        best = max(best, int(h[6:].split("-")[0]))
print(best)' "$1"
}
