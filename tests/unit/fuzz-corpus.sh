#!/bin/sh
# Replays every fuzz corpus (seeds and regression inputs) through the fuzz
# entry points built with the normal compiler: one TAP case per target.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir/build}"
# shellcheck source=tests/lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"
for dir in "$top_srcdir"/fuzz/corpus/*/; do
        target=$(basename "$dir")
        bin="$top_builddir/fuzz/replay-$target"
        if [ ! -x "$bin" ]; then
                ok 1 "fuzz corpus $target: no replay binary $bin"
        elif out=$("$bin" "$dir" 2>&1); then
                ok 0 "fuzz corpus $target: $out"
        else
                ok 1 "fuzz corpus $target"
                printf '%s\n' "$out" | sed 's/^/# /' | tail -20
        fi
done
tap_done
