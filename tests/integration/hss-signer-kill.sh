#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: kill -9 the HSS signer (secfu-manifest sign --cose with an .hsskey,
# over io/hsskey.c) at random points and prove that no one-time key is
# ever used twice.  One two-level key (H5/W2,H5/W2: 1024 signatures, 32
# per bottom tree, so the runs cross many bottom trees) signs a fresh
# manifest per run (a COSE_Sign1 over its JSON bytes); each run is one of
#   - undisturbed;
#   - killed with SIGKILL after a random 0-79 ms (wherever it is: reading,
#     the state write, signing, writing the signature);
#   - killed by a fault point (test builds): hss-state-synced (the advanced
#     state is durable, no signature made yet), atomic-write or
#     atomic-rename of the state (1st hit) or of the output file (2nd).
# The output (sign -o) is written to a temporary name and renamed, so it
# exists only whole: a signature is "released" when its file exists.
# secfu-manifest inspect reads the levels and leaves of each signature.
# Afterwards:
#   - every released signature verifies (secfu-manifest verify with the
#     key's NAME.hss) and carries its run's manifest;
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
SM=$top_builddir/secfu-manifest

n=0
failed=0
ok() { # ok STATUS DESCRIPTION
        local status=$1
        shift
        n=$((n + 1))
        if [ "$status" -eq 0 ]; then echo "ok $n - $*"; else echo "not ok $n - $*"; failed=$((failed + 1)); fi
}
diag() { echo "# $*"; }

# leaf_check FILE: FILE has "level=L I=.. q=.. signed=.. run=N" lines
# (from levels); fails when a leaf signed two messages, or a bottom leaf
# (level 1 of this two-level key) is in two signatures.
leaf_check() {
        awk '{
                split($1, a, "="); split($4, s, "=");
                leaf = a[2] " " $2 " " $3
                if ((leaf in msg) && msg[leaf] != s[2]) { bad++; printf "# %s signed two messages (%s, %s)\n", leaf, run[leaf], $5 }
                msg[leaf] = s[2]; run[leaf] = $5
                if (a[2] == 1 && ++uses[leaf] > 1) { bad++; printf "# bottom leaf %s in two signatures\n", leaf }
        } END { exit bad > 0 }' "$1"
}

# levels SIGNED MSG RUN: one "level=L I=.. q=.. signed=.. run=RUN" line per
# level of the HSS signature in SIGNED (secfu-manifest inspect): the tree
# ("top", or the I of a lower tree), the leaf, and what that leaf signed:
# the next tree's key (named by its I) for an upper level, the manifest
# (its SHA-256) for the bottom one.
levels() {
        "$SM" inspect "$1" | awk -v msg="$(sha256sum "$2" | cut -d" " -f1)" -v run="$3" '
                $1 == "level" && $5 == "tree" { l = $2; n = $4 + 0; t[l] = $6; sub(",", "", t[l]); q[l] = $8 + 0 }
                END { for (l = 1; l <= n; l++) printf "level=%d I=%s q=%d signed=%s run=%s\n", l - 1, t[l], q[l], l < n ? t[l + 1] : msg, run }'
}
# number SIGNED: the signature number of the HSS signature in SIGNED.
number() { "$SM" inspect "$1" | sed -n 's/^  HSS: .*, signature \([0-9]*\) of .*/\1/p'; }

[ -x "$SM" ] || { echo "Bail out! $SM is not built"; exit 1; }
RUNS=${HSS_KILL_RUNS:-120}
SEED=${HSS_KILL_SEED:-$(( ($(date +%s) ^ $$) % 100000 ))}
RANDOM=$SEED
diag "HSS_KILL_SEED=$SEED HSS_KILL_RUNS=$RUNS"
FAULTS=no
grep -q '^#define SFU_FAULT_INJECTION 1' "$top_builddir/config.h" 2>/dev/null && FAULTS=yes
T=$(mktemp -d "${TMPDIR:-/tmp}/hss-kill.XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
trap 'rm -rf "$T"' EXIT

"$SM" keygen --alg HSS-LMS --hss H5/W2,H5/W2 --out "$T/key" >/dev/null 2>"$T/err"
ok $? "a fresh H5/W2,H5/W2 key file $(cat "$T/err")"
# A manifest per run: the same one with the run's nonce as an extra member.
head -c 4096 /dev/urandom >"$T/fw.img"
"$SM" create --manufacturer example.com --model gw100 --version 1.0.0 --image "$T/fw.img" >"$T/base.json" 2>"$T/err" ||
        { echo "Bail out! create: $(cat "$T/err")"; exit 1; }
manifest() { sed "1s/{/{ \"nonce\": \"$1-$RANDOM$RANDOM\",/" "$T/base.json"; }

killed=0
refused=0
released=0
kinds=""
order=()
for i in $(seq 1 "$RUNS"); do
        manifest "$i" >"$T/msg.$i"
        kind=$((RANDOM % 9))
        if [ "$FAULTS" != yes ] && [ "$kind" -ge 6 ]; then kind=$((kind % 6)); fi
        fault=
        case $kind in
        6) fault=hss-state-synced:kill ;;
        7) fault=atomic-write:kill:$((RANDOM % 2 + 1)) ;;
        8) fault=atomic-rename:kill:$((RANDOM % 2 + 1)) ;;
        esac
        # Background + wait for every kind: the shell reports no "Killed".
        SFU_FAULT=$fault "$SM" sign --cose --content json --key "$T/key.hsskey" -o "$T/sig.$i" "$T/msg.$i" \
                >"$T/out.$i" 2>&1 &
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
        if "$SM" verify --quiet --key "$T/key.hss" "$T/sig.$i" >"$T/payload" 2>"$T/verify.err" &&
                cmp -s "$T/payload" "$T/msg.$i"; then
                levels "$T/sig.$i" "$T/msg.$i" "$i" >>"$T/levels"
                number "$T/sig.$i" >>"$T/indices"
        else
                bad=$((bad + 1))
                diag "run $i: $(cat "$T/verify.err")"
        fi
done
ok "$bad" "all $released released signatures verify and carry their run's manifest"

awk 'NR > 1 && $1 <= prev { bad++; printf "# index %s after %s\n", $1, prev } { prev = $1 } END { exit bad > 0 }' \
        "$T/indices"
ok $? "the released signature numbers strictly increase ($(head -1 "$T/indices")..$(tail -1 "$T/indices"))"

leaf_check "$T/levels"
ok $? "no leaf signed two messages at any level; no bottom leaf in two signatures ($(wc -l <"$T/levels") leaf uses)"

last=$(tail -1 "$T/indices")
"$SM" sign --cose --content json --key "$T/key.hsskey" -o "$T/sig.final" "$T/msg.1" >"$T/out.final" 2>&1
final=$(number "$T/sig.final")
ok "$([ -n "$final" ] && [ "$final" -gt "${last:--1}" ] && echo 0 || echo 1)" \
        "a last signature takes number $final, above every released one (${last:-none}); lost to kills: $((final - released))"
leftovers=$(find "$T" -maxdepth 1 -name 'key.hsskey?*' | wc -l)
ok "$leftovers" "no copy of the state is left beside the key ($leftovers key.hsskey* files)"

# The check above can fail: a restored copy of the state signs again.
manifest c1 >"$T/copy.msg1"
manifest c2 >"$T/copy.msg2"
"$SM" keygen --alg HSS-LMS --hss H5/W2,H5/W2 --out "$T/copy" >/dev/null &&
        cp -p "$T/copy.hsskey" "$T/copy.backup" &&
        "$SM" sign --cose --content json --key "$T/copy.hsskey" -o "$T/copy.sig1" "$T/copy.msg1" 2>/dev/null &&
        mv "$T/copy.backup" "$T/copy.hsskey" &&
        "$SM" sign --cose --content json --key "$T/copy.hsskey" -o "$T/copy.sig2" "$T/copy.msg2" 2>/dev/null &&
        { levels "$T/copy.sig1" "$T/copy.msg1" 1; levels "$T/copy.sig2" "$T/copy.msg2" 2; } >"$T/copy.levels"
reuse=$(leaf_check "$T/copy.levels")
ok "$([ -n "$reuse" ] && echo 0 || echo 1)" "control: signing from a restored copy of the state is caught ($(echo "$reuse" | head -1 | sed 's/^# //'))"

echo "1..$n"
[ "$failed" -eq 0 ]
