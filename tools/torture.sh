#!/bin/bash
# tools/torture.sh BUILD_DIR: the fault campaigns of tests/torture/ with the
# full counts (`make torture`), then a summary table.  The short versions of
# the same scripts run in `make check`.
#
# The campaigns need a test build (fault points compiled in, which a release
# build never has): BUILD_DIR's secfud when it is one, otherwise a test build
# made here in BUILD_DIR-torture.
#
#   TORTURE_SEED      one seed for every campaign (default: from the clock)
#   TORTURE_JOBS      parallel devices of the chaos campaign (default 6)
#   TORTURE_ONLY_SCRIPTS="chaos torn-env"   a subset
#   KILL_RUNS / COMMIT_SWEEPS / TORN_RUNS / CHAOS_RUNS   other counts
# Logs: BUILD_DIR-torture.logs/<campaign>.log (TAP).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: tools/torture.sh BUILD_DIR}
case $build in /*) ;; *) build=$top/$build ;; esac
cd "$top" || exit 1

is_test_build() { [ -x "$1/secfud" ] && grep -q 'env-written' "$1/secfud" && [ -x "$1/secfu-manifest" ]; }
if is_test_build "$build"; then
        test_build=$build
else
        test_build=$build-torture
        echo "=== torture: $build/secfud is a release build; making a test build in $test_build"
        jobs=$(nproc 2>/dev/null || echo 2)
        if ! tools/configure.sh "$test_build" --enable-fault-injection ||
                ! make --no-print-directory -C "$test_build" -j"$jobs" >"$test_build.build.log" 2>&1; then
                tail -30 "$test_build.build.log" 2>/dev/null
                echo "torture: the test build failed"
                exit 1
        fi
        is_test_build "$test_build" || { echo "torture: $test_build/secfud has no fault points"; exit 1; }
fi

logs=$build-torture.logs
mkdir -p "$logs"
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
: "${TORTURE_SEED:=$(( ($(date +%s) ^ $$) % 1000000 ))}"
export TORTURE_SEED TORTURE_SUMMARY=$summary top_srcdir=$top top_builddir=$test_build
export TORTURE_JOBS=${TORTURE_JOBS:-6}
unset SECFUD SECFUCTL SECFU_MANIFEST

campaigns=(
        "kill-during-staging ${KILL_RUNS:-250}"
        "kill-in-commit ${COMMIT_SWEEPS:-2}"
        "torn-env ${TORN_RUNS:-200}"
        "chaos ${CHAOS_RUNS:-500}"
)
status=0
t0=$(date +%s)
echo "=== torture: seed $TORTURE_SEED, binaries from $test_build, logs in $logs"
for c in "${campaigns[@]}"; do
        read -r name runs <<<"$c"
        if [ -n "${TORTURE_ONLY_SCRIPTS:-}" ] && ! [[ " $TORTURE_ONLY_SCRIPTS " == *" $name "* ]]; then
                continue
        fi
        echo "--- $name ($runs $([ "$name" = kill-in-commit ] && echo sweeps || echo runs))"
        start=$(date +%s)
        TORTURE_RUNS=$runs "tests/torture/$name.sh" >"$logs/$name.log" 2>"$logs/$name.stderr"
        rc=$?
        grep -E '^(not ok|Bail out)' "$logs/$name.log" | head -20
        if grep -q '^not ok\|^Bail out' "$logs/$name.log" || [ "$rc" != 0 ]; then
                status=1
                grep -A8 '^not ok' "$logs/$name.log" | grep '^#' | head -30
        fi
        if ! grep -q "^$name " "$summary"; then
                echo "$name 0 0 0 0 $(($(date +%s) - start)) $TORTURE_SEED" >>"$summary"
                status=1
        fi
done

echo
printf '%-22s %7s %7s %7s %8s %8s\n' campaign runs passed failed resumed seconds
while read -r name runs passed failed resumed secs _; do
        printf '%-22s %7s %7s %7s %8s %8s\n' "$name" "$runs" "$passed" "$failed" "$resumed" "$secs"
done <"$summary"
awk -v secs=$(($(date +%s) - t0)) '{ r += $2; p += $3; f += $4; s += $5 }
        END { printf "%-22s %7d %7d %7d %8d %8d\n", "total", r, p, f, s, secs }' "$summary"
if grep -q '^# wrong images staged: [1-9]' "$logs/chaos.log" 2>/dev/null; then
        echo "torture: HARD GATE FAILED: $(grep '^# wrong images staged' "$logs/chaos.log")"
        status=1
fi
echo "torture: seed $TORTURE_SEED; $([ $status = 0 ] && echo 'all campaigns passed' || echo 'FAILURES (see the logs)')"
exit $status
