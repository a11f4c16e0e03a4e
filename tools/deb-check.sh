#!/bin/bash
# After `make deb`: lintian (no errors, no warnings) and the contents of the
# secfud package. Prints TAP, so tools/check.sh can count it.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
arch=$(dpkg --print-architecture)
out=$top/build-deb
# shellcheck source=tests/lib/tap.sh
. "$top/tests/lib/tap.sh"
for pkg in secfud secfu-manifest; do
        deb=$out/${pkg}_${version}_${arch}.deb
        [ -f "$deb" ]; ok $? "$pkg package built ($deb)"
        tags=$(lintian --tag-display-limit 0 "$deb" 2>/dev/null | grep -E '^[EW]: ' || true)
        # (no package is no lintian verdict either)
        [ -f "$deb" ] && [ -z "$tags" ]; ok $? "lintian: no errors or warnings for $pkg"
        [ -n "$tags" ] && printf '%s\n' "$tags" | sed 's/^/# /'
done
contents=$(dpkg-deb -c "$out/secfud_${version}_${arch}.deb" | awk '{print $6}')
for path in ./usr/sbin/secfud ./usr/bin/secfuctl ./etc/secfud/secfud.conf ./lib/systemd/system/secfud.service \
        ./lib/systemd/system/secfud-mark-good.service ./usr/share/dbus-1/system.d/org.secfu.Daemon1.conf \
        ./usr/lib/sysusers.d/secfud.conf ./usr/share/man/man8/secfud.8.gz ./usr/share/man/man5/secfud.conf.5.gz \
        ./usr/share/man/man1/secfuctl.1.gz; do
        printf '%s\n' "$contents" | grep -qx "$path"; ok $? "secfud ships $path"
done
dpkg-deb -I "$out/secfud_${version}_${arch}.deb" conffiles | grep -qx /etc/secfud/secfud.conf
ok $? "secfud.conf is a conffile"
# The packaged programs are release builds: no test hook in them.
unpacked=$(mktemp -d)
trap 'rm -rf "$unpacked"' EXIT
for pkg in secfud secfu-manifest; do dpkg-deb -x "$out/${pkg}_${version}_${arch}.deb" "$unpacked"; done
tap_include <("$top/tools/release-check.sh" "$unpacked/usr/bin" "$unpacked/usr/sbin") "package: "
tap_done
