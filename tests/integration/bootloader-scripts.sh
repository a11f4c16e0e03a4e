#!/bin/sh
# SPDX-License-Identifier: MIT
# TAP: the boot script snippets in etc/ are well formed and use the
# variables secfud's grub and uboot backends write (RAUC's names), and the
# kernel command line parameter `booted-slot = cmdline:secfu.slot` reads.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
GRUB_CFG="$top_srcdir/etc/grub/secfu-ab.cfg"
UBOOT_CMD="$top_srcdir/etc/u-boot/secfu-ab.cmd"

if ! command -v grub-script-check >/dev/null 2>&1; then
        echo "1..0 # SKIP grub-script-check is not installed (apt-get install grub-common)"
        exit 0
fi

n=0
failures=0
ok() {
        n=$((n + 1))
        if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else failures=$((failures + 1)); echo "not ok $n - $2"; fi
}
count() { grep -cE "$1" "$2"; }

grub-script-check "$GRUB_CFG" >/dev/null 2>&1
ok $? "grub: secfu-ab.cfg passes grub-script-check"
tmp=$(mktemp "${TMPDIR:-/tmp}/secfu-grubcfg.XXXXXX") || exit 1
trap 'rm -f "$tmp"' EXIT
sed 's/^fi$//' "$GRUB_CFG" >"$tmp"
grub-script-check "$tmp" >/dev/null 2>&1
ok $((! $?)) "grub: grub-script-check does find a broken copy"

for var in ORDER A_OK A_TRY B_OK B_TRY SECFU_INCOMPLETE; do
        grep -q "\$$var\b\|^ *set $var=" "$GRUB_CFG"
        ok $? "grub: uses $var"
done
grep -q '^ *load_env *$' "$GRUB_CFG"
ok $? "grub: loads the default grubenv"
grep -q '^ *save_env A_TRY B_TRY *$' "$GRUB_CFG"
ok $? "grub: saves only the TRY flags"
[ "$(count 'secfu\.slot=[AB]( |$)' "$GRUB_CFG")" -eq 2 ]
ok $? "grub: both slot entries pass secfu.slot="

for var in BOOT_ORDER BOOT_A_LEFT BOOT_B_LEFT SECFU_INCOMPLETE; do
        grep -q "\${$var}" "$UBOOT_CMD"
        ok $? "uboot: uses $var"
done
code=$(sed 's/#.*//' "$UBOOT_CMD")
ifs=$(printf '%s\n' "$code" | grep -cE '^\s*if ')
fis=$(printf '%s\n' "$code" | grep -cE '^\s*fi\s*$')
[ "$ifs" -gt 0 ] && [ "$ifs" -eq "$fis" ]
ok $? "uboot: if/fi balanced ($ifs/$fis)"
fors=$(printf '%s\n' "$code" | grep -cE '^\s*for ')
dones=$(printf '%s\n' "$code" | grep -cE '^\s*done\s*$')
[ "$fors" -eq 1 ] && [ "$dones" -eq 1 ]
ok $? "uboot: one for/done loop"
[ "$(count 'setexpr BOOT_[AB]_LEFT \$\{BOOT_[AB]_LEFT\} - 1' "$UBOOT_CMD")" -eq 2 ]
ok $? "uboot: each boot spends one attempt with setexpr"
# saveenv by default, through the board's secfu_save_env hook
[ "$(count '^\s*run secfu_save_env\s*$' "$UBOOT_CMD")" -ge 1 ] &&
        grep -qE '^test -n "\$\{secfu_save_env\}" \|\| setenv secfu_save_env saveenv$' "$UBOOT_CMD"
ok $? "uboot: saves the environment (saveenv unless the board sets secfu_save_env)"
# shellcheck disable=SC2016 # a literal ${...}
grep -q 'secfu\.slot=\${secfu_slot}' "$UBOOT_CMD"
ok $? "uboot: passes secfu.slot="

echo "1..$n"
[ "$failures" -eq 0 ]
