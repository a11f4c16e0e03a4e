#!/bin/bash
# tools/release-check.sh DIR...: the programs in each DIR (a build directory,
# or an unpacked package's usr/bin and usr/sbin) are release builds: none
# carries a test hook.  Test builds compile in the fault points (SFU_FAULT)
# and read SFU_TEST_* and the other variables below; a release build reads
# none of them and has none of the fault points' names.  Prints TAP.
set -uo pipefail
hooks=(SFU_FAULT SFU_TEST_ SFU_GRUB_EDITENV SFU_PROC_CMDLINE before-switch env-written atomic-rename trust-key-saved)
n=0
failed=0
t() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
for dir in "$@"; do
        for prog in secfud secfuctl secfu-manifest; do
                bin=$dir/$prog
                [ -x "$bin" ] || continue
                found=$(for h in "${hooks[@]}"; do grep -qaF -- "$h" "$bin" && printf '%s ' "$h"; done)
                [ -z "$found" ]; t $? "$bin carries no test hook${found:+ (found: $found)}"
        done
done
[ "$n" -gt 0 ]; t $? "release programs found in $*"
echo "1..$n"
[ "$failed" -eq 0 ]
