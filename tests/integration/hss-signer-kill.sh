#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: kill -9 the HSS signer (tests/unit/hss-sign-tool over
# io/hsskey.c) at random points and prove that no one-time key is ever
# used twice.  One two-level key (H5/W2,H5/W2: 1024 signatures, 32 per
# bottom tree, so the runs cross many bottom trees) signs a fresh message
# per run; each run is one of
#   - undisturbed;
#   - killed with SIGKILL after a random 0-79 ms (wherever it is: reading,
#     the state write, signing, writing the signature);
#   - killed by a fault point (test builds): hss-state-synced (the advanced
#     state is durable, no signature made yet), atomic-write or
#     atomic-rename of the state (1st hit) or of the signature file (2nd).
# The signature file is written to a temporary name and renamed, so it
# exists only whole: a signature is "released" when its file exists.
# Afterwards:
#   - every released signature verifies;
#   - the signature numbers of the released signatures strictly increase
#     in the order of the runs;
#   - at every level, a leaf (tree I, index q) signed one message only
#     (an upper leaf signs its child tree's public key, again and again);
#     a bottom leaf appears in one released signature only;
#   - no run was refused: each found the key file loadable, whatever
#     killed the run before it; a final signature takes a number above all
#     released ones; no state copy is left beside the key;
#   - control: a restored copy of the state, signing again, is caught by
#     the same leaf check (so that check can fail).
# HSS_KILL_RUNS (default 120), HSS_KILL_SEED (printed) to rerun.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir/build}"
TOOL=$top_builddir/tests/unit/hss-sign-tool

# shellcheck source=tests/lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"

# leaf_check FILE: FILE has "level=L I=.. q=.. signed=.. run=N" lines
# (inspect's, with the run); fails when a leaf signed two messages, or a
# bottom leaf (level 1 of this two-level key) is in two signatures.
leaf_check() {
        awk '{
                split($1, a, "="); split($4, s, "=");
                leaf = a[2] " " $2 " " $3
                if ((leaf in msg) && msg[leaf] != s[2]) { bad++; printf "# %s signed two messages (%s, %s)\n", leaf, run[leaf], $5 }
                msg[leaf] = s[2]; run[leaf] = $5
                if (a[2] == 1 && ++uses[leaf] > 1) { bad++; printf "# bottom leaf %s in two signatures\n", leaf }
        } END { exit bad > 0 }' "$1"
}

[ -x "$TOOL" ] || bail "$TOOL is not built (make check builds it)"
RUNS=${HSS_KILL_RUNS:-120}
SEED=${HSS_KILL_SEED:-$(( ($(date +%s) ^ $$) % 100000 ))}
RANDOM=$SEED
diag "HSS_KILL_SEED=$SEED HSS_KILL_RUNS=$RUNS"
FAULTS=$("$TOOL" faults)
T=$(mktemp -d "${TMPDIR:-/tmp}/hss-kill.XXXXXX") || bail "mktemp"
trap 'rm -rf "$T"' EXIT

"$TOOL" keygen "$T/key" H5/W2,H5/W2 "$T/pub" 2>"$T/err"
ok $? "a fresh H5/W2,H5/W2 key file $(cat "$T/err")"

killed=0
refused=0
released=0
kinds=""
order=()
for i in $(seq 1 "$RUNS"); do
        printf 'firmware manifest %d, nonce %d\n' "$i" "$RANDOM$RANDOM" >"$T/msg.$i"
        kind=$((RANDOM % 9))
        if [ "$FAULTS" != yes ] && [ "$kind" -ge 6 ]; then kind=$((kind % 6)); fi
        fault=
        case $kind in
        6) fault=hss-state-synced:kill ;;
        7) fault=atomic-write:kill:$((RANDOM % 2 + 1)) ;;
        8) fault=atomic-rename:kill:$((RANDOM % 2 + 1)) ;;
        esac
        # Background + wait for every kind: the shell reports no "Killed".
        SFU_FAULT=$fault "$TOOL" sign "$T/key" "$T/msg.$i" "$T/sig.$i" >"$T/out.$i" 2>&1 &
        pid=$!
        if [ "$kind" -ge 3 ] && [ "$kind" -le 5 ]; then
                sleep "$(printf '0.%03d' $((RANDOM % 80)))"
                kill -9 "$pid" 2>/dev/null
        fi
        wait "$pid" 2>/dev/null
        status=$?
        if [ "$status" -eq 137 ]; then
                killed=$((killed + 1))
        elif [ "$status" -ne 0 ]; then
                diag "run $i (kind $kind) failed with status $status: $(head -1 "$T/out.$i")"
                refused=$((refused + 1))
        fi
        kinds="$kinds$kind"
        if [ -f "$T/sig.$i" ]; then
                released=$((released + 1))
                order+=("$i")
        fi
done
diag "run kinds (0-2 plain, 3-5 killed after 0-79 ms, 6-8 fault points): $kinds"
ok "$([ "$killed" -ge $((RUNS / 8)) ] && [ "$released" -ge $((RUNS / 8)) ] && [ "$refused" -eq 0 ] && echo 0 || echo 1)" \
        "$RUNS runs: $killed killed, $released signatures released, $refused refused (each run must find a loadable key)"

bad=0
: >"$T/levels"
: >"$T/indices"
for i in "${order[@]}"; do
        if "$TOOL" inspect "$T/pub" "$T/msg.$i" "$T/sig.$i" >"$T/insp.$i" 2>"$T/insp.err"; then
                grep '^level=' "$T/insp.$i" | sed "s/\$/ run=$i/" >>"$T/levels"
                sed -n 's/^index=//p' "$T/insp.$i" >>"$T/indices"
        else
                bad=$((bad + 1))
                diag "run $i: $(cat "$T/insp.err")"
        fi
done
ok "$bad" "all $released released signatures verify"

awk 'NR > 1 && $1 <= prev { bad++; printf "# index %s after %s\n", $1, prev } { prev = $1 } END { exit bad > 0 }' \
        "$T/indices"
ok $? "the released signature numbers strictly increase ($(head -1 "$T/indices")..$(tail -1 "$T/indices"))"

leaf_check "$T/levels"
ok $? "no leaf signed two messages at any level; no bottom leaf in two signatures ($(wc -l <"$T/levels") leaf uses)"

last=$(tail -1 "$T/indices")
out=$("$TOOL" sign "$T/key" "$T/msg.1" "$T/sig.final" 2>&1)
final=$(printf '%s\n' "$out" | sed -n 's/^index=\([0-9]*\) .*/\1/p')
ok "$([ -n "$final" ] && [ "$final" -gt "${last:--1}" ] && echo 0 || echo 1)" \
        "a last signature takes number $final, above every released one (${last:-none}); lost to kills: $((final - released))"
leftovers=$(find "$T" -maxdepth 1 -name 'key.*' | wc -l)
ok "$leftovers" "no copy of the state is left beside the key ($leftovers key.* files)"

# The check above can fail: a restored copy of the state signs again.
"$TOOL" keygen "$T/copy" H5/W2,H5/W2 "$T/copy.pub" &&
        cp -p "$T/copy" "$T/copy.backup" &&
        "$TOOL" sign "$T/copy" "$T/msg.1" "$T/copy.sig1" >/dev/null &&
        mv "$T/copy.backup" "$T/copy" &&
        "$TOOL" sign "$T/copy" "$T/msg.2" "$T/copy.sig2" >/dev/null &&
        { "$TOOL" inspect "$T/copy.pub" "$T/msg.1" "$T/copy.sig1" | sed 's/$/ run=1/'
          "$TOOL" inspect "$T/copy.pub" "$T/msg.2" "$T/copy.sig2" | sed 's/$/ run=2/'; } | grep '^level=' >"$T/copy.levels"
reuse=$(leaf_check "$T/copy.levels")
ok "$([ -n "$reuse" ] && echo 0 || echo 1)" "control: signing from a restored copy of the state is caught ($(echo "$reuse" | head -1 | sed 's/^# //'))"

tap_done
