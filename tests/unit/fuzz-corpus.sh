#!/bin/sh
# Replays every fuzz corpus (seeds and regression inputs) through the fuzz
# entry points built with the normal compiler: one TAP case per target.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir/build}"
n=0; failed=0
for dir in "$top_srcdir"/fuzz/corpus/*/; do
        target=$(basename "$dir")
        n=$((n + 1))
        bin="$top_builddir/fuzz/replay-$target"
        if [ ! -x "$bin" ]; then
                echo "not ok $n - fuzz corpus $target: no replay binary $bin"
                failed=$((failed + 1))
                continue
        fi
        if out=$("$bin" "$dir" 2>&1); then
                echo "ok $n - fuzz corpus $target: $out"
        else
                echo "not ok $n - fuzz corpus $target"
                printf '%s\n' "$out" | sed 's/^/# /' | tail -20
                failed=$((failed + 1))
        fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
