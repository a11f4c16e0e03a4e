#!/bin/bash
# make check-system: the system tests (tests/system/), real Debian 12
# components started by the tests on this machine: dnsmasq, nginx and
# dhclient in network namespaces; QEMU (TCG) booting GRUB, systemd and the
# packaged secfud; U-Boot under qemu-system-aarch64.  See
# doc/system-tests.md.
#
#   tools/check-system.sh [SCENARIO...]     default: every tests/system/*.sh
#                                           scenario (net-cache, uboot, grub-device)
#
# Installs the Debian packages it needs when run as root (otherwise prints
# the apt-get line), builds the .deb files (make deb) when they are older
# than the tree, and caches the built images in build-system/ (git-ignored),
# keyed by their inputs.  Output: one TAP stream (scenario name in each
# line, the plan at the end) and the line "check-system: N passed, N
# failed, N skipped".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scenarios=("$@")
[ ${#scenarios[@]} -eq 0 ] && scenarios=(net-cache uboot grub-device)
# What each scenario needs, so that a subset installs only its part.
packages=(openssl curl python3 dpkg-dev util-linux iproute2 nginx-light)
for s in "${scenarios[@]}"; do
        case $s in
        net-cache) packages+=(dnsmasq-base isc-dhcp-client grub-common) ;;
        uboot) packages+=(qemu-system-arm u-boot-qemu u-boot-tools libubootenv-tool busybox-static cpio kmod e2fsprogs fdisk) ;;
        grub-device) packages+=(qemu-system-x86 qemu-utils seabios grub-pc-bin grub-common busybox-static mmdebstrap
                                e2fsprogs fdisk cpio kmod) ;;
        esac
done
missing=()
for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" -eq 0 ]; then
                echo "# installing: ${missing[*]}"
                export DEBIAN_FRONTEND=noninteractive
                apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
                        { echo "apt-get install failed"; exit 1; }
        else
                echo "# the system tests need (as root): apt-get install -y ${missing[*]}"
        fi
fi
# apt-cache must know the kernel package the GRUB device boots
[[ " ${scenarios[*]} " == *" grub-device "* ]] && [ "$(id -u)" -eq 0 ] &&
        ! apt-cache show linux-image-amd64 >/dev/null 2>&1 && apt-get update -qq

# The packages under test: rebuilt when a tracked file is newer than them.
deb=$(ls build-deb/secfud_*.deb 2>/dev/null | head -1)
if [ -z "$deb" ] || [ -n "$(find src etc systemd dbus debian man configure.ac Makefile.am -newer "$deb" -type f 2>/dev/null | head -1)" ]; then
        echo "# building the packages (make deb)"
        make --no-print-directory deb >deb.build.log 2>&1 || { tail -20 deb.build.log; echo "check-system: 0 passed, 1 failed"; exit 1; }
fi

n=0 passed=0 failed=0 skipped=0 status=0
started=$(date +%s)
for s in "${scenarios[@]}"; do
        script=tests/system/$s.sh
        [ -f "$script" ] || { echo "unknown scenario $s"; exit 2; }
        echo "# === $s"
        t0=$(date +%s)
        log=build-system/$s.log
        mkdir -p build-system
        bash "$script" >"$log" 2>&1
        rc=$?
        saw_plan=0
        while IFS= read -r line; do
                case $line in
                "ok "*"# SKIP"*) n=$((n + 1)); skipped=$((skipped + 1)); echo "ok $n - $s: ${line#ok * - }" ;;
                "ok "*) n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $s: ${line#ok * - }" ;;
                "not ok "*) n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $s: ${line#not ok * - }" ;;
                "1..0 # SKIP"*) n=$((n + 1)); skipped=$((skipped + 1)); saw_plan=1; echo "ok $n - $s # SKIP ${line#1..0 # SKIP }" ;;
                1..*) saw_plan=1 ;;
                *) echo "$line" ;;
                esac
        done <"$log"
        if [ "$rc" -ne 0 ] || [ "$saw_plan" -eq 0 ]; then
                status=1
                if [ "$saw_plan" -eq 0 ] || ! grep -q '^not ok' "$log"; then
                        n=$((n + 1)); failed=$((failed + 1))
                        echo "not ok $n - $s: exited with status $rc (log: $log)"
                fi
        fi
        echo "# $s: $(($(date +%s) - t0)) s"
done
echo "1..$n"
echo "# check-system: $(($(date +%s) - started)) s"
[ "$failed" -gt 0 ] && status=1
echo "check-system: $passed passed, $failed failed, $skipped skipped"
exit $status
