#!/bin/bash
# Installs the Debian packages the build and the tests need, when run as
# root; otherwise prints the apt-get line.  Quiet when nothing is missing.
set -euo pipefail
packages=(
        build-essential autoconf automake libtool pkg-config
        libcurl4-openssl-dev libssl-dev libjansson-dev libsystemd-dev libinih-dev libubootenv-dev libcbor-dev libzck-dev libzstd-dev zchunk
        grub-common libubootenv-tool nginx-light dbus python3 python3-jwcrypto jose clang valgrind
        debhelper lintian mandoc curl openssl python3-cbor2 python3-cryptography ruby-cose nodejs
)
missing=()
for p in "${packages[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
                missing+=("$p")
        fi
done
# npm: Debian's package, unless the installed nodejs brings its own (a
# nodesource nodejs conflicts with Debian's npm).
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
        echo "Installing build dependencies: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
        echo "Missing build dependencies. Run as root:"
        echo "  apt-get install -y ${missing[*]}"
        exit 1
fi
