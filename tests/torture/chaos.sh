#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: network chaos.  Each run gives the fixture server random rules for the
# manifest and the image, drawn from benign faults (slow drip, delays, one
# 503 with Retry-After: 1, one 500, a connection reset or a clean cut and
# then a resume, a server that ignores Range after a reset) and hostile ones
# (the file swapped for another image of the same size in the middle of a
# download, a 206 for the wrong range, a lying Content-Length, a cut at the
# same place forever, an endless body, a redirect to file://, another image
# of the same size served from the start, a manifest signed by an unknown
# key for another image, an endless or forever-cut manifest), then runs
# secfud --once (a second time for benign runs that did not finish in one
# cycle, and for half of the hostile ones).
#
# Hard gate, after every cycle: whenever state.json says staged or the
# environment makes B the next boot, slot B's bytes hash to the published
# image's sha256: zero wrong images staged.  Benign runs must end staged.
# Every run: slot A, canaries and the trust store unchanged, state.json
# parses, the environment decodes to the old or the switched variables.
#
# TORTURE_RUNS (default 30; make torture: 500), TORTURE_SEED,
# TORTURE_JOBS (devices run side by side, default 6: the runs mostly wait
# for back-off timers), TORTURE_ONLY=I (only run I, to replay a failure).
# Each secfud --once is bounded (60 s).
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/torture/torture-lib.sh
. "$top_srcdir/tests/torture/torture-lib.sh"

torture_init chaos 30
torture_require

JOBS=${TORTURE_JOBS:-6}
IMAGE_SIZE=$((2 * 1024 * 1024))
ONCE_LIMIT=60

# One device per worker: 1.1.0 published, an evil image of the same size
# beside it, a manifest for the evil image signed by an unknown key, and the
# environments before and after a clean cycle.
chaos_device() {
        torture_device $((4 * 1024 * 1024)) || return 1
        torture_backend file
        torture_publish 1.1.0 "$IMAGE_SIZE" || return 1
        IMG_PATH=$(dev_image_path 1.1.0)
        EVIL_REL=$(dirname "$IMG_PATH")/evil-1.1.0.img
        head -c "$IMAGE_SIZE" /dev/urandom >"$WWW$EVIL_REL"
        cp "$WWW$EVIL_REL" "$D/evil.img"
        cp "$WWW$IMG_PATH" "$D/good.img"
        "$SECFU_MANIFEST" create --manufacturer example.com --model gw100 --version 1.1.0 \
                --image "$D/evil.img=fw-1.1.0.img" >"$D/evil.json" || return 1
        "$SECFU_MANIFEST" sign --key "$D/attacker.key" "$D/evil.json" >"$D/manifest-evil.jws" || return 1
        MANIFEST_SIZE=$(stat -c %s "$D/manifest-1.1.0.jws")
        torture_reset 1.1.0
        env_decoded_save old || return 1
        torture_once "$ONCE_LIMIT"
        [ "$ONCE_STATUS" = 0 ] && slot_b_holds 1.1.0 || return 1
        env_decoded_save new
}

# The menus.  Each sets M_DESC/M_RULES (manifest) or I_DESC/I_RULES
# (image): a description and rule objects queued in order on the path.
benign_manifest() {
        local kind
        pick none none delay 503 500 drip reset
        kind=$R
        M_RULES=()
        case $kind in
        none) M_DESC="manifest ok" ;;
        delay)
                rnd 9
                M_DESC="manifest delayed 0.$((R + 1)) s once"
                M_RULES=("{\"delay\": 0.$((R + 1)), \"once\": true}")
                ;;
        503) M_DESC="manifest 503 once (Retry-After: 1)" M_RULES=('{"status": 503, "retry_after": 1, "once": true}') ;;
        500) M_DESC="manifest 500 once" M_RULES=('{"status": 500, "once": true}') ;;
        drip) M_DESC="manifest dripped" M_RULES=('{"drip": {"bytes": 128, "interval": 0.01}}') ;;
        reset)
                rnd $((MANIFEST_SIZE - 1))
                M_DESC="manifest reset at byte $((R + 1)) once"
                M_RULES=("{\"reset_at\": $((R + 1)), \"once\": true}")
                ;;
        esac
}
hostile_manifest() {
        local kind
        pick forged endless cut-forever redirect
        kind=$R
        M_RULES=()
        case $kind in
        forged) M_DESC="manifest for another image, signed by an unknown key" M_FORGED=1 ;;
        endless) M_DESC="manifest endless" M_RULES=('{"endless": true}') ;;
        cut-forever)
                rnd $((MANIFEST_SIZE - 1))
                M_DESC="manifest cut at byte $((R + 1)) forever"
                M_RULES=("{\"truncate_at\": $((R + 1))}")
                ;;
        redirect)
                M_DESC="manifest redirected to file://"
                M_RULES=("{\"redirect\": {\"location\": \"file://$D/manifest-evil.jws\"}}")
                ;;
        esac
}
benign_image() {
        local kind k k2
        pick none drip delay 503 500 reset cut range-ignore two-resets
        kind=$R
        rnd $((IMAGE_SIZE - 1))
        k=$((R + 1))
        rnd $((IMAGE_SIZE - 1))
        k2=$((R + 1))
        I_RULES=()
        case $kind in
        none) I_DESC="image ok" ;;
        drip) I_DESC="image dripped fast" I_RULES=('{"drip": {"bytes": 65536, "interval": 0.005}}') ;;
        delay)
                rnd 15
                k=$(awk -v r="$R" 'BEGIN { printf "%.1f", 0.1 + r / 10 }')
                I_DESC="image delayed $k s once"
                I_RULES=("{\"delay\": $k, \"once\": true}")
                ;;
        503) I_DESC="image 503 once (Retry-After: 1)" I_RULES=('{"status": 503, "retry_after": 1, "once": true}') ;;
        500) I_DESC="image 500 once" I_RULES=('{"status": 500, "once": true}') ;;
        reset) I_DESC="image reset at byte $k once" I_RULES=("{\"reset_at\": $k, \"once\": true}") ;;
        cut) I_DESC="image cut cleanly at byte $k once" I_RULES=("{\"truncate_at\": $k, \"once\": true}") ;;
        range-ignore)
                I_DESC="image reset at byte $k once, then Range ignored"
                I_RULES=("{\"reset_at\": $k, \"once\": true}" '{"range": "ignore"}')
                ;;
        two-resets)
                I_DESC="image reset at byte $k, then $k2 bytes into the resume"
                I_RULES=("{\"reset_at\": $k, \"once\": true}" "{\"reset_at\": $k2, \"once\": true}")
                ;;
        esac
}
hostile_image() {
        local kind k
        pick swap wrong-range cl-short cl-long cut-forever endless redirect other-image
        kind=$R
        rnd $((IMAGE_SIZE - 1))
        k=$((R + 1))
        I_RULES=()
        case $kind in
        swap)
                I_DESC="image reset at byte $k and swapped for another image of the same size"
                I_RULES=("{\"swap_after\": {\"bytes\": $k, \"with\": \"$EVIL_REL\"}, \"reset_at\": $k, \"once\": true}")
                ;;
        wrong-range)
                I_DESC="image reset at byte $k, then 206 for the wrong range"
                I_RULES=("{\"reset_at\": $k, \"once\": true}" '{"range": "wrong"}')
                ;;
        cl-short) I_DESC="image Content-Length says $k" I_RULES=("{\"content_length_lie\": $k}") ;;
        cl-long)
                I_DESC="image Content-Length says $((IMAGE_SIZE + k))"
                I_RULES=("{\"content_length_lie\": $((IMAGE_SIZE + k))}")
                ;;
        cut-forever)
                rnd $((IMAGE_SIZE / 8))
                k=$((R + 1))
                I_DESC="image cut at byte $k of every response"
                I_RULES=("{\"truncate_at\": $k}")
                ;;
        endless) I_DESC="image endless" I_RULES=('{"endless": true}') ;;
        redirect)
                I_DESC="image redirected to file://"
                I_RULES=("{\"redirect\": {\"location\": \"file://$D/evil.img\"}}")
                ;;
        other-image) I_DESC="another image of the same size served" I_OTHER=1 ;;
        esac
}

# gate: after each cycle.  G_WRONG counts wrong images staged.
gate() {
        local env_now=other
        state_read
        [ "$ST_OK" = 1 ] || run_fail "state.json: $ST_PROBLEM"
        if env_decoded_is old; then
                env_now=old
        elif env_decoded_is new; then
                env_now=new
        else
                run_fail "the environment decodes to neither the old nor the switched variables"
        fi
        if [ "$ST_STATE" = staged ] || [ "$env_now" = new ]; then
                if ! slot_b_holds 1.1.0; then
                        G_WRONG=$((G_WRONG + 1))
                        run_fail "WRONG IMAGE: state $ST_STATE, environment $env_now, but slot B is not the published image"
                fi
        fi
        run_expect "slot A, canaries, trust store unchanged" never_changed
        STAGED=0
        [ "$ST_STATE" = staged ] && [ "$env_now" = new ] && STAGED=1
}

chaos_run() {
        local run=$1 class cycles=1 second=0 rule from
        reseed "$run"
        M_FORGED=0 I_OTHER=0
        run_begin
        torture_reset 1.1.0
        class=benign
        rnd 10
        if [ "$R" -lt 8 ]; then benign_manifest; else hostile_manifest; class=hostile; fi
        rnd 20
        if [ "$R" -lt 11 ]; then benign_image; else hostile_image; class=hostile; fi
        [ "$M_FORGED" = 1 ] && dev_install_manifest "$D/manifest-evil.jws"
        [ "$I_OTHER" = 1 ] && cp "$D/evil.img" "$WWW$IMG_PATH"
        for rule in "${M_RULES[@]}"; do fixture_rule_append "$MANIFEST_PATH" "$rule" || run_fail "rule $rule refused"; done
        for rule in "${I_RULES[@]}"; do fixture_rule_append "$IMG_PATH" "$rule" || run_fail "rule $rule refused"; done
        rnd 2
        [ "$class" = hostile ] && [ "$R" = 0 ] && second=1

        torture_once "$ONCE_LIMIT"
        run_log first
        gate
        local first_status=$ONCE_STATUS first_seconds=$ONCE_SECONDS
        if [ "$STAGED" = 0 ] && { [ "$class" = benign ] || [ "$second" = 1 ]; }; then
                cycles=2
                torture_once "$ONCE_LIMIT"
                run_log second
                gate
        fi
        [ "$ONCE_TIMED_OUT" = 0 ] || run_note "a cycle hit the ${ONCE_LIMIT} s bound"
        if [ "$class" = benign ]; then
                [ "$STAGED" = 1 ] || run_fail "a benign run did not end staged (status $first_status, then $ONCE_STATUS)"
                run_expect "and the last cycle succeeded" test "$ONCE_STATUS" = 0
        fi
        [ "$I_OTHER" = 1 ] && cp "$D/good.img" "$WWW$IMG_PATH"
        from=$(resumed_from "$IMG_PATH")
        RUN_RESUMED=0
        [ "${from:-0}" -gt 0 ] && [ "$STAGED" = 1 ] && RUN_RESUMED=1
        local outcome
        if [ "$STAGED" = 1 ]; then outcome="staged"; else outcome="not staged"; fi
        [ "$RUN_RESUMED" = 1 ] && outcome="$outcome (resumed at $from)"
        RUN_DESC="$class: $M_DESC; $I_DESC -> $outcome after $cycles cycle(s) (${first_seconds}s, status $first_status)"
}

# worker K: runs K, K+JOBS, ...; one TAP line and one result line per run.
worker() {
        local k=$1 run
        G_WRONG=0
        chaos_device >"$RESULTS/setup-$k.log" 2>&1 || {
                echo "setup failed" >"$RESULTS/worker-$k.failed"
                return 1
        }
        for ((run = k; run < RUNS; run += JOBS)); do
                [ -n "${TORTURE_ONLY:-}" ] && [ "$run" != "$TORTURE_ONLY" ] && continue
                G_WRONG=0
                chaos_run "$run"
                run_end "$RUN_DESC" >"$RESULTS/run-$run.tap"
                echo "$((${#_run_failed[@]} == 0 ? 1 : 0)) $RUN_RESUMED $G_WRONG" >"$RESULTS/run-$run.result"
        done
}

RESULTS=$(mktemp -d "${TMPDIR:-/tmp}/secfu-chaos.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$RESULTS"' EXIT
pids=()
for ((k = 0; k < JOBS && k < RUNS; k++)); do
        (
                trap 'dev_teardown' EXIT
                worker "$k"
        ) </dev/null >"$RESULTS/worker-$k.out" 2>&1 &
        pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
for ((k = 0; k < JOBS && k < RUNS; k++)); do
        if [ -f "$RESULTS/worker-$k.failed" ]; then
                sed 's/^/# /' "$RESULTS/setup-$k.log" | tail -20
                bail "chaos worker $k could not set up its device"
        fi
done

wrong=0
for ((run = 0; run < RUNS; run++)); do
        [ -n "${TORTURE_ONLY:-}" ] && [ "$run" != "$TORTURE_ONLY" ] && continue
        if [ ! -f "$RESULTS/run-$run.result" ]; then
                run_begin
                run_fail "no result (the worker died; see its output below)"
                run_end "run $run"
                sed 's/^/# /' "$RESULTS/worker-$((run % JOBS)).out" | tail -20
                continue
        fi
        tap_include "$RESULTS/run-$run.tap" "[run $run] "
        read -r passed resumed w <"$RESULTS/run-$run.result"
        T_RUNS=$((T_RUNS + 1))
        if [ "$passed" = 1 ]; then
                T_PASSED=$((T_PASSED + 1))
        else
                T_FAILED=$((T_FAILED + 1))
        fi
        T_RESUMED=$((T_RESUMED + resumed))
        wrong=$((wrong + w))
done
diag "wrong images staged: $wrong (gate: 0)"
torture_done
