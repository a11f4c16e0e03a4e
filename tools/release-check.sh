#!/bin/bash
# tools/release-check.sh DIR...: the programs in each DIR (a build directory,
# or an unpacked package's usr/bin and usr/sbin) are release builds: none
# carries a test hook.  Test builds compile in the fault points (SFU_FAULT)
# and read SFU_TEST_* and the other variables below; a release build reads
# none of them and has none of the fault points' names.  Prints TAP.
set -uo pipefail
hooks=(SFU_FAULT SFU_TEST_ SFU_GRUB_EDITENV SFU_PROC_CMDLINE before-switch env-written atomic-rename trust-key-saved)
# shellcheck source=tests/lib/tap.sh
. "$(cd "$(dirname "$0")/.." && pwd)/tests/lib/tap.sh"
programs=0
for dir in "$@"; do
        for prog in secfud secfuctl secfu-manifest; do
                bin=$dir/$prog
                [ -x "$bin" ] || continue
                programs=$((programs + 1))
                found=$(for h in "${hooks[@]}"; do grep -qaF -- "$h" "$bin" && printf '%s ' "$h"; done)
                [ -z "$found" ]; ok $? "$bin carries no test hook${found:+ (found: $found)}"
        done
done
[ "$programs" -gt 0 ]; ok $? "release programs found in $*"
tap_done
