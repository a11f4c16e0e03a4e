#!/bin/bash
# The whole test suite, as `make check` and CI run it:
#   1. a test build (fault points compiled in) with every warning (-Werror
#      under CI), whole suite;
#   2. an ASan+UBSan test build, the suite again, less what runs no C code
#      of ours (the fixture server's self-test, the boot-script text checks)
#      and the --once variants of the attack suites, whose cases the
#      *-daemon.sh variants send through the same parsers inside the daemon;
#   3. the release build (build/, what `make` makes): it must carry no test
#      hook;
#   4. each libFuzzer target for FUZZ_SECONDS (when clang is there);
#   5. under CI (or SFU_CHECK_DEB=1) the Debian packages, and under CI (or
#      SFU_CHECK_SYSTEM=1) the system tests' net-cache scenario (real
#      dnsmasq, nginx and dhclient in namespaces; make check-system runs
#      all of them).
# Every test program and TAP case counts; the last line is
# "check: N passed, N failed[, N skipped]".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
passes=${SFU_CHECK_PASSES:-plain asan}
jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${FUZZ_SECONDS:-$([ -n "${CI:-}" ] && echo 20 || echo 0)}
werror=${WERROR:-no}
status=0
asan_skip='tests/integration/fixture-selftest\.sh|tests/integration/bootloader-scripts\.sh|tests/integration/attack-(authenticity|policy|parsers|state)\.sh'
results=$(mktemp)
trap 'rm -f "$results"' EXIT

# Collects the results of one automake test run from its .trs files.
collect() {
        local dir=$1 label=$2
        find "$dir" -name '*.trs' -newer "$dir/.check-start" -print0 2>/dev/null |
                xargs -0 -r grep -h '^:test-result:' | sed "s/^/$label /" >>"$results"
}

for pass in $passes; do
        case $pass in
        plain) dir=build-test; opts=(--enable-werror="$werror" --enable-fault-injection) ;;
        asan) dir=build-asan; opts=(--enable-werror="$werror" --enable-sanitizers --enable-fault-injection) ;;
        *) echo "unknown pass $pass"; exit 2 ;;
        esac
        echo "=== check ($pass build in $dir)"
        if ! tools/configure.sh "$dir" "${opts[@]}" || ! make --no-print-directory -C "$dir" -j"$jobs" >"$dir.build.log" 2>&1; then
                tail -40 "$dir.build.log" 2>/dev/null
                echo ":test-result: FAIL" | sed "s/^/$pass /" >>"$results"
                echo "build failed ($pass)"
                status=1
                continue
        fi
        touch "$dir/.check-start"
        sleep 1
        export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
        export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
        tests=()
        if [ "$pass" = asan ]; then
                mapfile -t tests < <(make --no-print-directory -s -C "$dir" print-tests | tr ' ' '\n' | grep -v '^$' |
                        grep -vxE "$asan_skip")
                tests=("TESTS=${tests[*]}")
        fi
        if ! make --no-print-directory -C "$dir" -j"$jobs" check "${tests[@]}" >"$dir.check.log" 2>&1; then
                status=1
                grep -E '^(FAIL|ERROR|XPASS):' "$dir.check.log" | head -50
                # a test program that did not build: no test line says so
                grep -q '^# TOTAL:' "$dir.check.log" || { tail -30 "$dir.check.log"; echo ":test-result: FAIL" | sed "s/^/$pass /" >>"$results"; }
                for log in $(grep -lE '^(not ok|Bail out)' $(find "$dir/tests" "$dir/fuzz" -name '*.log' 2>/dev/null) 2>/dev/null | head -10); do
                        echo "--- $log"; grep -E -B2 -A8 '^(not ok|Bail out)' "$log" | head -60
                done
        fi
        grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR):' "$dir.check.log" | sed "s/^/[$pass] /"
        collect "$dir" "$pass"
done

# The release build: what `make` installs has no test hook in it.
echo "=== release build (build/): no test hooks"
if tools/configure.sh build --enable-werror="$werror" && make --no-print-directory -C build -j"$jobs" >build.build.log 2>&1; then
        tools/release-check.sh build | tee release.check.log | grep -E '^not ok' || true
else
        tail -20 build.build.log
        echo "not ok - the release build failed" >release.check.log
fi
sed -n 's/^ok .*/release :test-result: PASS/p; s/^not ok .*/release :test-result: FAIL/p' release.check.log >>"$results"

if [ "$fuzz_seconds" -gt 0 ] && command -v clang >/dev/null; then
        echo "=== fuzz (${fuzz_seconds}s per target)"
        if FUZZ_SECONDS=$fuzz_seconds FUZZ_RESULTS="$results" tools/fuzz.sh; then :; else status=1; fi
fi

# The Debian packages: built and checked under CI (or SFU_CHECK_DEB=1).
if [ -n "${CI:-}" ] || [ -n "${SFU_CHECK_DEB:-}" ]; then
        echo "=== packages (dpkg-buildpackage, lintian)"
        if make --no-print-directory deb >deb.build.log 2>&1; then
                tools/deb-check.sh | tee deb.check.log | grep -E '^not ok' || true
        else
                tail -20 deb.build.log
                echo "not ok - dpkg-buildpackage failed" >deb.check.log
        fi
        sed -n 's/^ok .*/deb :test-result: PASS/p; s/^not ok .*/deb :test-result: FAIL/p' deb.check.log >>"$results"
        grep -c '^ok' deb.check.log | sed 's/^/packages: /; s/$/ checks passed/'
fi

# The system tests' quick scenario (doc/system-tests.md, "CI").
if [ -n "${CI:-}" ] || [ -n "${SFU_CHECK_SYSTEM:-}" ]; then
        echo "=== system tests (tools/check-system.sh net-cache)"
        tools/check-system.sh net-cache >system.check.log 2>&1
        grep -E '^not ok|^check-system:|^# net-cache: [0-9]+ s' system.check.log
        sed -n 's/^ok .*# SKIP.*/system :test-result: SKIP/p; t; s/^ok .*/system :test-result: PASS/p; s/^not ok .*/system :test-result: FAIL/p' \
                system.check.log >>"$results"
        grep -q '^check-system:' system.check.log || { tail -20 system.check.log; echo "system :test-result: FAIL" >>"$results"; }
fi

passed=$(grep -cE ':test-result: (PASS|XFAIL)' "$results")
failed=$(grep -cE ':test-result: (FAIL|ERROR|XPASS)' "$results")
skipped=$(grep -cE ':test-result: SKIP' "$results")
[ "$failed" -gt 0 ] && status=1
echo "check: $passed passed, $failed failed, $skipped skipped"
exit $status
