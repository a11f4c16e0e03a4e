#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: kill -9 inside every step of a staging cycle's persistent writes, for
# the file, uboot (redundant environment, two copies) and grub backends.
# Test-build fault points kill secfud --once the N-th time it reaches them:
#   atomic-write   a crash-safe file write (state.json, manifest-cache.jws,
#                  manifest-B.jws) has created its temporary file
#   atomic-rename  ... has written and synced it, before the rename
#   env-write      the environment write is about to start (file: temporary
#                  file created; uboot: before libubootenv's store; grub:
#                  before grub-editenv runs)
#   env-rename     file backend: the new file is synced, before the rename
#   env-written    the environment write is complete and synced
# for N = 1, 2, ... until a cycle no longer reaches the point N times, so
# every write of the cycle is hit whatever their number.  After each kill:
#   - the environment decodes (tests/integration/bootsim and the native tool
#     agree: the file itself, grub-editenv list, fw_printenv -c) to exactly
#     the old or exactly the new variables; never "no valid environment";
#   - state.json parses; slot A, the canaries and the trust store are as
#     they were;
#   - a restarted secfud (policy = check: it reads the state, reconciles,
#     looks, writes nothing to the slots or the environment) agrees with
#     the environment: new environment <=> state staged with B on trial;
#   - a restarted cycle (policy = stage) ends staged, slot B holding the
#     image, the environment switched.
# Plus the failing actions: env-write:eio and env-write:enospc must fail the
# cycle cleanly (environment byte-identical, nothing staged).
#
# TORTURE_RUNS = sweeps (default 1; make torture: 2).  Sweep 0 stages a
# 1 MiB image; odd sweeps a 72 MiB one, whose download records resume data
# at the 64 MiB checkpoint (more state writes to hit).
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/torture/torture-lib.sh
. "$top_srcdir/tests/torture/torture-lib.sh"

torture_init kill-in-commit 1
torture_require

MAX_HITS=64
torture_device $((80 * 1024 * 1024)) || bail "device setup failed"
torture_publish 1.1.0 $((1024 * 1024)) || bail "publishing 1.1.0 failed"
torture_publish 1.2.0 $((72 * 1024 * 1024)) || bail "publishing 1.2.0 failed"

# commit_checks BACKEND VERSION WHAT: the checks after a kill or a failure.
# WHAT: "old" (the environment must be byte-identical), or "any" (old or new).
commit_checks() {
        local backend=$1 version=$2 what=$3 env_now
        if env_decoded_is "old-$backend"; then
                env_now=old
        elif env_decoded_is "new-$backend-$version"; then
                env_now=new
        elif env_decode >/dev/null; then
                env_now=other
                run_fail "the environment decodes to neither the old nor the new variables: $(env_decode | tr '\n' ' ')"
        else
                env_now=invalid
                run_fail "no valid environment (or bootsim and the native tool disagree)"
        fi
        if [ "$what" = old ]; then
                run_expect "environment byte-identical" env_same_pristine
                [ "$env_now" = old ] || run_fail "environment is $env_now, not the old one"
        fi
        run_expect "slot A, canaries, trust store unchanged" never_changed
        state_read
        [ "$ST_OK" = 1 ] || run_fail "state.json after the kill: $ST_PROBLEM"

        # Restart and only look: the state must agree with the environment.
        POLICY=check torture_backend "$backend"
        torture_once 120
        run_log restart-check
        run_expect "restart (policy check) succeeds (status $ONCE_STATUS)" test "$ONCE_STATUS" = 0
        state_read
        [ "$ST_OK" = 1 ] || run_fail "state.json after the restart: $ST_PROBLEM"
        local agreed="state $ST_STATE, trial '${ST_TRIAL}', slot B ${ST_B_HEALTH} ${ST_B_VERSION}"
        case $env_now in
        new)
                run_expect "environment switched to B, so the restarted state says B is staged ($agreed)" \
                        test "$ST_STATE/$ST_TRIAL/$ST_B_HEALTH/$ST_B_VERSION" = "staged/B/staged/$version"
                ;;
        old)
                run_expect "environment not switched, so the restarted state does not claim B staged ($agreed)" \
                        test "$ST_STATE" != staged -a "$ST_B_HEALTH" != staged -a "$ST_B_HEALTH" != trial -a -z "$ST_TRIAL"
                ;;
        esac
        [ "$env_now" = invalid ] || run_expect "the restart did not change the environment ($env_now)" \
                env_decoded_is "$([ "$env_now" = new ] && echo "new-$backend-$version" || echo "old-$backend")"
        torture_backend "$backend"

        # Restart for real: the cycle completes.
        fixture_reset >/dev/null
        torture_once 120
        run_log restart
        run_expect "restarted cycle succeeds (status $ONCE_STATUS)" test "$ONCE_STATUS" = 0
        state_read
        run_expect "then staged in B ($ST_STATE, trial '$ST_TRIAL', B $ST_B_HEALTH $ST_B_VERSION)" \
                test "$ST_STATE/$ST_TRIAL/$ST_B_HEALTH/$ST_B_VERSION" = "staged/B/staged/$version"
        run_expect "slot B holds the published image (sha256)" slot_b_holds "$version"
        run_expect "environment switched to B" env_decoded_is "new-$backend-$version"
        run_expect "slot A, canaries, trust store unchanged at the end" never_changed
        LAST_ENV=$env_now
}

for ((sweep = 0; sweep < RUNS; sweep++)); do
        if ((sweep % 2 == 0)); then version=1.1.0; else version=1.2.0; fi
        for backend in file uboot grub; do
                torture_backend "$backend"
                torture_clean_cycle "$version" 120

                points="atomic-write atomic-rename env-write env-written"
                [ "$backend" = file ] && points="atomic-write atomic-rename env-write env-rename env-written"
                for point in $points; do
                        for ((n = 1; n <= MAX_HITS; n++)); do
                                torture_reset "$version"
                                run_begin
                                SFU_FAULT="$point:kill:$n" torture_once 120
                                run_log killed
                                if [ "$ONCE_STATUS" != 137 ]; then
                                        # fewer than n hits: the sweep of this point is complete
                                        [ "$n" -gt 1 ] || run_fail "$point was never reached (status $ONCE_STATUS)"
                                        run_expect "the cycle that passes every $point succeeds" test "$ONCE_STATUS" = 0
                                        run_expect "and stages" slot_b_holds "$version"
                                        run_end "$backend, $version: $point reached $((n - 1)) time(s) per cycle"
                                        break
                                fi
                                commit_checks "$backend" "$version" any
                                run_end "$backend, $version: kill at $point #$n: environment $LAST_ENV after the kill"
                        done
                        [ "$n" -le "$MAX_HITS" ] || { run_begin; run_fail "$point reached more than $MAX_HITS times"; run_end "$backend: $point"; }
                done
                for action in eio enospc; do
                        torture_reset "$version"
                        run_begin
                        SFU_FAULT="env-write:$action:1" torture_once 120
                        run_log failed
                        run_expect "the cycle fails (status $ONCE_STATUS)" test "$ONCE_STATUS" != 0 -a "$ONCE_STATUS" != 137
                        state_read
                        run_expect "the failure is recorded, nothing staged ($ST_STATE, B $ST_B_HEALTH)" \
                                test "$ST_STATE" != staged -a "$ST_B_HEALTH" != staged
                        commit_checks "$backend" "$version" old
                        run_end "$backend, $version: env-write fails with $action: environment untouched"
                done
        done
done

torture_done
