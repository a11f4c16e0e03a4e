#!/bin/sh
# SPDX-License-Identifier: MIT
# TAP: the boot simulator against the real environment tools.  bootsim
# implements the grubenv block and the (redundant) U-Boot environment on its
# own, as GRUB and U-Boot do; here grub-editenv and libubootenv's
# fw_setenv/fw_printenv check that it reads what they write and writes what
# they read, including a corrupt copy and the wrap of the redundancy flag,
# and that it plays RAUC's boot scripts (etc/grub/secfu-ab.cfg,
# etc/u-boot/secfu-ab.cmd) step by step.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
BOOTSIM="$top_srcdir/tests/integration/bootsim"
PY=/usr/bin/python3
# shellcheck source=tests/lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"

for tool in grub-editenv fw_setenv fw_printenv; do
        command -v "$tool" >/dev/null 2>&1 || skip_all "$tool is not installed (apt-get install grub-common libubootenv-tool)"
done

tap_tmpdir bootsim
sim() { "$PY" "$BOOTSIM" "$@" >/dev/null 2>sim.err; }

# ---------------------------------------------------------------- grub
grub-editenv grubenv create
grub-editenv grubenv set ORDER="B A" A_OK=1 A_TRY=0 B_OK=1 B_TRY=0 'note=back\slash
and a newline' saved_entry=2
sim --backend grub --env grubenv --out booted
ok $? "grub: boot"
is "$(cat booted)" B "grub: the first slot of ORDER with OK=1 TRY=0 boots"
grub-editenv grubenv list >list.txt
ok $? "grub: grub-editenv reads the block bootsim wrote"
grep -qx 'B_TRY=1' list.txt
ok $? "grub: B's try is recorded"
grep -qx 'A_TRY=0' list.txt
ok $? "grub: A untouched"
grep -qx 'note=back\\slash' list.txt && grep -qx 'and a newline' list.txt && grep -qx 'saved_entry=2' list.txt
ok $? "grub: foreign variables survive, escapes included"
is "$(stat -c %s grubenv)" 1024 "grub: the block keeps its size"
sim --backend grub --env grubenv --out booted
is "$(cat booted)" A "grub: B unconfirmed: the next boot falls back to A"
sim --backend grub --env grubenv --out booted
is "$(cat booted)" A "grub: every try spent: flags of good slots cleared, first entry boots"
grub-editenv grubenv list >list.txt
grep -qx 'A_TRY=0' list.txt && grep -qx 'B_TRY=0' list.txt
ok $? "grub: the TRY flags were cleared"
grub-editenv grubenv set B_OK=0 B_TRY=0 A_TRY=0 ORDER="B A"
sim --backend grub --env grubenv --out booted
is "$(cat booted)" A "grub: a slot with B_OK=0 is skipped"
grub-editenv grubenv set SECFU_INCOMPLETE=rootfs
sim --backend grub --env grubenv --out booted --recovery R
is "$(cat booted)" R "grub: an incomplete update boots recovery"
"$PY" "$BOOTSIM" --backend grub --env grubenv --dump >dump.txt
grep -qx 'SECFU_INCOMPLETE=rootfs' dump.txt && grep -qx 'ORDER=B A' dump.txt
ok $? "grub: --dump shows what grub-editenv wrote"
echo garbage >bad-grubenv
sim --backend grub --env bad-grubenv --out booted
ok $((! $?)) "grub: a block without the GRUB signature is refused"

# ---------------------------------------------------------------- uboot
make_uboot() { # make_uboot CONFIG-LINES...: zeroed copies, the variables below
        rm -f env0 env1
        head -c 16384 /dev/zero >env0
        head -c 16384 /dev/zero >env1
        printf '%s\n' "$@" >fw_env.config
        : >empty
        printf 'BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\nbootcmd=run distro_bootcmd\n' >init.txt
        fw_setenv -c fw_env.config -f empty -s init.txt >/dev/null 2>&1
}
fw() { fw_printenv -c fw_env.config "$@" 2>/dev/null; echo; }
flag() { od -A n -t u1 -j 4 -N 1 "$1" | tr -d ' '; }

make_uboot "$tmp/env0 0x0 0x4000" "$tmp/env1 0x0 0x4000"
sim --backend uboot --env fw_env.config --out booted
ok $? "uboot: boot from a redundant environment made by fw_setenv"
is "$(cat booted)" A "uboot: A boots"
is "$(fw -n BOOT_A_LEFT | head -1)" 2 "uboot: fw_printenv sees the spent attempt"
is "$(fw -n bootcmd | head -1)" "run distro_bootcmd" "uboot: other variables survive"
is "$(flag env0)" 2 "uboot: saveenv went to the other copy with the next flag"
is "$(flag env1)" 1 "uboot: the previous copy is kept"
fw_setenv -c fw_env.config BOOT_ORDER "B A" >/dev/null 2>&1
sim --backend uboot --env fw_env.config --out booted
is "$(cat booted)" B "uboot: bootsim reads what fw_setenv wrote"
for i in 1 2; do sim --backend uboot --env fw_env.config --out booted --fail-boot; done
is "$(fw -n BOOT_B_LEFT | head -1)" 0 "uboot: three boots of B spent its attempts"
sim --backend uboot --env fw_env.config --out booted
is "$(cat booted)" A "uboot: then A boots (fallback)"
# corrupt the newest copy: U-Boot and libubootenv take the older one
newest=env0
[ "$(flag env1)" -gt "$(flag env0)" ] && newest=env1
"$PY" "$BOOTSIM" --backend uboot --env fw_env.config --dump >before.txt
printf '\377' | dd of=$newest bs=1 seek=200 conv=notrunc 2>/dev/null
"$PY" "$BOOTSIM" --backend uboot --env fw_env.config --dump | sort >sim.txt
fw | grep . | sort >fw.txt
cmp -s sim.txt fw.txt
ok $? "uboot: with the newest copy corrupt, bootsim and fw_printenv read the same copy"
cmp -s before.txt sim.txt
ok $((! $?)) "uboot: and it is the previous one"
# both copies corrupt: both fall back to a default environment
printf '\377' | dd of=env0 bs=1 seek=300 conv=notrunc 2>/dev/null
printf '\377' | dd of=env1 bs=1 seek=300 conv=notrunc 2>/dev/null
"$PY" "$BOOTSIM" --backend uboot --env fw_env.config --dump >sim.txt 2>sim.err
[ ! -s sim.txt ]
ok $? "uboot: no valid copy: bootsim starts from an empty default environment"
grep -q 'bad CRC' sim.err
ok $? "uboot: and says so"
sim --backend uboot --env fw_env.config --out booted
is "$(cat booted)" A "uboot: the script's defaults boot A"
is "$(fw -n BOOT_ORDER | head -1)" "A B" "uboot: the saved defaults are valid for libubootenv"

# the one-byte flag wraps from 255 to 0: the copy with 0 is the newer one
make_uboot "$tmp/env0 0x0 0x4000" "$tmp/env1 0x0 0x4000"
i=1
while [ "$(flag env0)" != 255 ] && [ "$(flag env1)" != 255 ] && [ $i -lt 300 ]; do
        fw_setenv -c fw_env.config COUNT "$i" >/dev/null 2>&1
        i=$((i + 1))
done
fw_setenv -c fw_env.config COUNT wrapped >/dev/null 2>&1
[ "$(flag env0)" = 0 ] || [ "$(flag env1)" = 0 ]
ok $? "uboot: the flag wrapped"
is "$("$PY" "$BOOTSIM" --backend uboot --env fw_env.config --dump | grep '^COUNT=')" COUNT=wrapped \
        "uboot: after the wrap bootsim reads the newest copy, as libubootenv does"
sim --backend uboot --env fw_env.config --out booted
is "$(fw -n COUNT | head -1)" wrapped "uboot: bootsim's save after the wrap is read by fw_printenv"
is "$(fw -n BOOT_A_LEFT | head -1)" 2 "uboot: with the attempt spent"

# a single copy (no redundancy)
make_uboot "$tmp/env0 0x0 0x4000"
sim --backend uboot --env fw_env.config --out booted
is "$(cat booted)" A "uboot: single copy: A boots"
is "$(fw -n BOOT_A_LEFT | head -1)" 2 "uboot: single copy: fw_printenv reads bootsim's save"

# an environment at an offset inside a larger file, as on a raw device
head -c 65536 /dev/zero >disk
printf '%s\n' "$tmp/disk 0x8000 0x2000" "$tmp/disk 0xa000 0x2000" >fw_env.config
printf 'BOOT_ORDER=B A\n' >init.txt
fw_setenv -c fw_env.config -f empty -s init.txt >/dev/null 2>&1
sim --backend uboot --env fw_env.config --out booted
is "$(cat booted)" B "uboot: copies at offsets inside one device"
is "$(fw -n BOOT_B_LEFT | head -1)" 2 "uboot: the script's default attempts, one spent"

# ---------------------------------------------------------------- file
rm -f bootenv
sim --backend file --env "$tmp/bootenv" --out booted
is "$(cat booted)" A "file: a missing file is an erased environment: defaults, A boots"
grep -qx 'BOOT_A_LEFT=2' bootenv && grep -qx 'BOOT_ORDER=A B' bootenv
ok $? "file: the defaults are saved with the spent attempt"
printf 'BOOT_ORDER=B A\nBOOT_A_LEFT=0\nBOOT_B_LEFT=0\n' >bootenv
sim --backend file --env "$tmp/bootenv" --out booted
is "$(cat booted)" B "file: no attempts anywhere: reset and boot the first of the order"
grep -qx 'BOOT_A_LEFT=3' bootenv && grep -qx 'BOOT_B_LEFT=2' bootenv
ok $? "file: counters reset to --attempts, one spent"
printf 'BOOT_ORDER=A B\nBOOT_A_LEFT=a\nBOOT_B_LEFT=1\n' >bootenv
sim --backend file --env "$tmp/bootenv" --out booted
is "$(cat booted)" B "file: a hex counter U-Boot's test reads as 0 is skipped, as on U-Boot"
printf 'BOOT_ORDER=A B\nbroken line\n' >bootenv
cp bootenv bootenv.orig
sim --backend file --env "$tmp/bootenv" --out booted
ok $((! $?)) "file: a file that does not parse is refused"
cmp -s bootenv bootenv.orig
ok $? "file: and left alone"

tap_done
