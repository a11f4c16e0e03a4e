#!/bin/bash
# tools/configure.sh DIR [configure options]: generate the autotools files
# if needed and configure an out-of-tree build in DIR (only when DIR has
# no Makefile yet or the options changed).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$1; shift
cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
        autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
fi
mkdir -p "$dir"
stamp="$dir/.configure-options"
want="$*"
if [ ! -f "$dir/Makefile" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        (cd "$dir" && "$top/configure" --prefix=/usr --sysconfdir=/etc --localstatedir=/var "$@" >/dev/null) \
                || { echo "configure failed in $dir; see $dir/config.log"; exit 1; }
        printf '%s' "$want" >"$stamp"
fi
