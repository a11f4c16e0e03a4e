#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: kill -9 while secfud stages an image, at random moments and at chosen
# byte offsets.  Even runs: the image is served slowly (a drip rule: about
# 1.2 s of staging) and secfud --once is killed after a random fraction of
# that.  Odd runs: a test-build fault point kills it before the slot write
# that starts at (or covers) a chosen byte offset (SFU_FAULT=slot-write:kill:N;
# the size of one write is measured first) or before a slot sync (the 64 MiB
# resume checkpoint, the final sync; their number is measured too).  A
# quarter of the random runs and half of the chosen offsets stage a 72 MiB
# image, so that a kill after the 64 MiB checkpoint leaves resume data.
# Backends rotate: file, uboot, grub.  After each kill: slot A, the canaries and the trust store are
# unchanged, the environment files are byte-identical (or, when the kill came
# after the switch, decode to exactly the switched environment), state.json
# parses; a restart that only looks (policy = check) changes nothing; then a
# restarted secfud --once stages the image (slot B's bytes
# hash to the published sha256) with the environment switched, resuming
# where the resume data says (counted from the server's Range headers).
#
# TORTURE_RUNS (default 20; make torture: 250), TORTURE_SEED.
# shellcheck disable=SC2153  # ST_* are set by state_read
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/torture/torture-lib.sh
. "$top_srcdir/tests/torture/torture-lib.sh"

torture_init kill-during-staging 20
torture_require

BIG=$((72 * 1024 * 1024))
SMALL=$((3 * 1024 * 1024))
torture_device $((80 * 1024 * 1024)) || bail "device setup failed"
torture_publish 1.1.0 "$SMALL" || bail "publishing 1.1.0 failed"
torture_publish 1.2.0 "$BIG" || bail "publishing 1.2.0 failed"

# What a clean cycle switches to, per backend and version.
for backend in file uboot grub; do
        torture_backend "$backend"
        for version in 1.1.0 1.2.0; do
                torture_clean_cycle "$version" 60
        done
done

# The granularity of slot writes (the hash pipeline's block) and the number
# of slot syncs of a cycle, measured rather than assumed: kill before the
# second write, the prefix of slot B that holds the image is one write.
prefix_written() { # bytes at the start of slot B equal to VERSION's image (4 KiB pages)
        /usr/bin/python3 - "$D/slot-b" "$D/img-$1.img" <<'PY'
import sys
a = open(sys.argv[1], "rb").read(16 << 20)
b = open(sys.argv[2], "rb").read(16 << 20)
n = 0
while n < min(len(a), len(b)) and a[n:n + 4096] == b[n:n + 4096]:
    n += 4096
print(n)
PY
}
torture_backend file
written=()
for n in 2 3; do
        torture_reset 1.1.0
        SFU_FAULT="slot-write:kill:$n" torture_once 60
        [ "$ONCE_STATUS" = 137 ] || bail "slot-write:kill:$n was not reached (status $ONCE_STATUS)"
        written[n]=$(prefix_written 1.1.0)
done
BLOCK=${written[2]}
if [ "$BLOCK" -le 0 ] || [ "${written[3]}" != $((2 * BLOCK)) ]; then
        bail "cannot measure the slot write size (${written[2]} then ${written[3]} bytes)"
fi
count_syncs() { # count_syncs VERSION: slot syncs of a clean cycle
        local k
        for ((k = 1; k <= 16; k++)); do
                torture_reset "$1"
                SFU_FAULT="slot-sync:kill:$k" torture_once 120
                [ "$ONCE_STATUS" = 137 ] || break
        done
        echo $((k - 1))
}
SYNCS_SMALL=$(count_syncs 1.1.0)
SYNCS_BIG=$(count_syncs 1.2.0)
diag "slot writes of $BLOCK bytes; $SYNCS_SMALL slot sync(s) staging 1.1.0, $SYNCS_BIG staging 1.2.0"
MIB=$((1024 * 1024))
# write_case VERSION OFFSET: kill before the write that starts at or
# covers byte OFFSET
write_case() { echo "$1 slot-write $(($2 / BLOCK + 1))"; }
OFFSET_CASES=(
        "$(write_case 1.1.0 0)" "$(write_case 1.1.0 "$BLOCK")" "$(write_case 1.1.0 $((SMALL / 2)))"
        "$(write_case 1.1.0 $((SMALL - 1)))"
        "$(write_case 1.2.0 $((32 * MIB)))" "$(write_case 1.2.0 $((64 * MIB + BLOCK)))"
        "$(write_case 1.2.0 $((68 * MIB)))" "$(write_case 1.2.0 $((BIG - 1)))"
)
for ((k = 1; k <= SYNCS_SMALL; k++)); do OFFSET_CASES+=("1.1.0 slot-sync $k"); done
for ((k = 1; k <= SYNCS_BIG; k++)); do OFFSET_CASES+=("1.2.0 slot-sync $k"); done
BACKENDS=(file uboot grub)

for ((run = 0; run < RUNS; run++)); do
        reseed "$run"
        backend=${BACKENDS[$((run % 3))]}
        torture_backend "$backend"
        run_begin
        killed=1
        if ((run % 2 == 0)); then
                rnd 4
                if [ "$R" = 0 ]; then version=1.2.0; else version=1.1.0; fi
                torture_reset "$version"
                img_path=$(dev_image_path "$version")
                # about 1.2 s of staging either way
                if [ "$version" = 1.2.0 ]; then
                        fixture_rule "$img_path" '{"drip": {"bytes": 1048576, "interval": 0.016}}'
                else
                        fixture_rule "$img_path" '{"drip": {"bytes": 65536, "interval": 0.025}}'
                fi
                rnd 1300
                ms=$R
                what="random kill after ${ms} ms"
                torture_once_bg
                sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
                torture_kill || killed=0
                torture_wait
                wait_orphans
                run_log killed
                [ "$ONCE_STATUS" = 137 ] || killed=0
        else
                read -r version point n <<<"${OFFSET_CASES[$(((run / 2) % ${#OFFSET_CASES[@]}))]}"
                torture_reset "$version"
                img_path=$(dev_image_path "$version")
                if [ "$point" = slot-write ]; then
                        what="kill before the write at byte $(((n - 1) * BLOCK))"
                else
                        what="kill before slot sync $n"
                fi
                SFU_FAULT="$point:kill:$n" torture_once 60
                run_log killed
                [ "$ONCE_STATUS" = 137 ] || { killed=0; run_fail "the fault point $point:kill:$n was never reached (status $ONCE_STATUS)"; }
        fi
        desc="$backend, $version: $what"
        [ "$killed" = 1 ] || desc="$desc (finished first)"
        # After the kill: nothing but slot B and the state directory changed.
        run_expect "slot A, canaries, trust store unchanged after the kill" never_changed
        state_read
        [ "$ST_OK" = 1 ] || run_fail "state.json after the kill: $ST_PROBLEM"
        kill_resume=$ST_RESUME
        if env_same_pristine; then
                :
        elif ((run % 2 == 1)); then
                run_fail "environment changed by a kill during the slot write"
        elif env_decoded_is "new-$backend-$version"; then
                # a random kill after the switch (or none at all)
                desc="$desc (after the switch)"
        else
                run_fail "environment neither unchanged nor exactly the switched one"
        fi

        # Restart and only look (policy = check): the restart itself writes
        # neither slot A nor the environment, and the state still parses.
        env_snapshot killed
        POLICY=check torture_backend "$backend"
        fixture_reset >/dev/null
        torture_once 60
        run_log restart-check
        run_expect "a restart (policy check) succeeds (status $ONCE_STATUS)" test "$ONCE_STATUS" = 0
        run_expect "the restart leaves the environment byte-identical" env_same killed
        run_expect "the restart leaves slot A, canaries, trust store unchanged" never_changed
        state_read
        [ "$ST_OK" = 1 ] || run_fail "state.json after a restart: $ST_PROBLEM"
        torture_backend "$backend"

        # Restart: a full cycle without faults.
        fixture_reset >/dev/null
        torture_once 120
        run_log restart
        run_expect "the restarted cycle succeeds (status $ONCE_STATUS)" test "$ONCE_STATUS" = 0
        state_read
        [ "$ST_OK" = 1 ] || run_fail "state.json after the restart: $ST_PROBLEM"
        run_expect "state says staged in B (state $ST_STATE, trial $ST_TRIAL, B $ST_B_HEALTH $ST_B_VERSION)" \
                test "$ST_STATE/$ST_TRIAL/$ST_B_HEALTH/$ST_B_VERSION" = "staged/B/staged/$version"
        run_expect "slot B holds the published image (sha256)" slot_b_holds "$version"
        run_expect "the environment is switched to B" env_decoded_is "new-$backend-$version"
        run_expect "slot A, canaries, trust store unchanged after the restart" never_changed
        from=$(resumed_from "$img_path")
        if [ -n "$from" ] && [ "$from" -gt 0 ]; then
                T_RESUMED=$((T_RESUMED + 1))
                desc="$desc; resumed at byte $from"
                run_expect "resumed where the resume data said ($kill_resume)" test "$from" = "$kill_resume"
                run_expect "the log says it resumed" once_log_has "resuming"
        elif [ -n "$kill_resume" ] && [ "$kill_resume" != 0 ] && [ "$killed" = 1 ]; then
                run_fail "resume data at byte $kill_resume, but the restart did not resume"
        else
                desc="$desc; restarted from byte 0"
        fi
        run_end "$desc"
done

torture_done
