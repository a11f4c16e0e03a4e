#!/bin/bash
# Builds every fuzz/fuzz-*.c with clang's libFuzzer (+ASan+UBSan) into
# build-fuzz/ and runs each for FUZZ_SECONDS on a copy of its corpus.
# A crash leaves its input in build-fuzz/ and fails; copy it into
# fuzz/corpus/<target>/ once fixed, so `make check` replays it forever.
# With FUZZ_RESULTS set, appends automake-style result lines there.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
seconds=${FUZZ_SECONDS:-60}
out=build-fuzz
mkdir -p "$out/obj"
cflags=(-g -O1 -std=gnu11 -D_GNU_SOURCE -DSFU_FUZZING=1 -DSFU_SYSCONFDIR='"/etc"' -DSFU_LOCALSTATEDIR='"/var"'
        -Isrc -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined)
libs=(-lcrypto -ljansson -linih -lubootenv -lcbor)
objs=()
for src in src/core/*.c; do
        obj="$out/obj/$(basename "${src%.c}").o"
        if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find src/core -name '*.h' -newer "$obj" -print -quit)" ]; then
                clang "${cflags[@]}" -c "$src" -o "$obj" || exit 1
        fi
        objs+=("$obj")
done
# libFuzzer inputs are not NUL-terminated: strict_string_checks (which
# make check sets) would flag a correct strndup() of a length-bounded
# field. The fuzzers run with ASan's defaults plus leak detection.
export ASAN_OPTIONS=detect_leaks=1
status=0
for fz in fuzz/fuzz-*.c; do
        name=$(basename "${fz%.c}"); target=${name#fuzz-}
        bin="$out/$name"
        clang "${cflags[@]}" -fsanitize=fuzzer "$fz" "${objs[@]}" "${libs[@]}" -o "$bin" || { status=1; continue; }
        work="$out/corpus-$target"; rm -rf "$work"; mkdir -p "$work"
        cp -r fuzz/corpus/"$target"/. "$work"/ 2>/dev/null || true
        log="$out/$name.log"
        if (cd "$out" && "./$name" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
                -print_final_stats=1 "corpus-$target" >"$name.log" 2>&1); then
                execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
                echo "fuzz $target: ok, ${execs:-?} executions in ${seconds}s"
                [ -n "${FUZZ_RESULTS:-}" ] && echo "fuzz :test-result: PASS" >>"$FUZZ_RESULTS"
        else
                echo "fuzz $target: FAILED (see $log)"
                grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5
                [ -n "${FUZZ_RESULTS:-}" ] && echo "fuzz :test-result: FAIL" >>"$FUZZ_RESULTS"
                status=1
        fi
done
exit $status
