#!/bin/bash
# make deb: builds the Debian packages from a copy of the source tree (the
# files git tracks plus new ones it does not ignore), so that build
# directories and test leftovers never reach the package build, and puts
# the .deb files into build-deb/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build-deb
work=$(mktemp -d "${TMPDIR:-/tmp}/secfud-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$out"
cd "$top"
if [ -d .git ] && command -v git >/dev/null; then
        git ls-files --cached --others --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C "$work/src"
else
        tar --exclude='./build*' --exclude='./debian/build' -cf - . | tar -xf - -C "$work/src"
fi
(cd "$work/src" && dpkg-buildpackage -us -uc -b)
rm -f "$out"/*.deb "$out"/*.buildinfo "$out"/*.changes
mv "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes "$out"/
echo "packages in $out:"
ls -1 "$out"/*.deb | sed 's/^/  /'
