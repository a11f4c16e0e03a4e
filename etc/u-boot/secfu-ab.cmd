# SPDX-License-Identifier: MIT
# secfud A/B slot selection for U-Boot: a boot script snippet (boot.cmd,
# made into boot.scr with `mkimage -A arm -T script -C none -d boot.cmd
# boot.scr`).
#
# It keeps RAUC's documented U-Boot variables, so a device already set up
# for RAUC keeps its environment:
#
#   BOOT_ORDER     the slots in the order they are tried, primary first ("A B")
#   BOOT_A_LEFT, BOOT_B_LEFT
#                  boots the slot may still get; each boot spends one (setexpr
#                  writes the new count in hex), secfud's mark-good sets it
#                  back to [bootloader] attempts, mark-bad to 0
#   SECFU_INCOMPLETE
#                  not empty: an in-place update of a single-copy class has
#                  not been verified; start the recovery system instead
#
# secfud changes these variables through libubootenv (fw_env.config must
# describe the same environment as U-Boot's CONFIG_ENV_* options; with
# CONFIG_SYS_REDUNDAND_ENVIRONMENT give both copies) with one store per
# switch.  Keep the default below equal to [bootloader] attempts (at most 9:
# `test -gt` reads decimal).
#
# Adapt the devices and the load commands to the board; the kernel command
# line must carry secfu.slot=<bootname> for `booted-slot = cmdline:secfu.slot`.
# tests/integration/bootsim plays this logic in the test suite.

# Board hook: the commands that store the environment.  saveenv unless the
# board sets secfu_save_env before this script runs (e.g. an environment
# kept in a raw area of a disk: "env export -c ... && virtio write ...").
test -n "${secfu_save_env}" || setenv secfu_save_env saveenv

test -n "${BOOT_ORDER}" || setenv BOOT_ORDER "A B"
test -n "${BOOT_A_LEFT}" || setenv BOOT_A_LEFT 3
test -n "${BOOT_B_LEFT}" || setenv BOOT_B_LEFT 3

setenv secfu_slot
setenv secfu_root
setenv secfu_part

if test -n "${SECFU_INCOMPLETE}"; then
	echo "secfu: the update of ${SECFU_INCOMPLETE} is incomplete: starting the recovery system"
	setenv secfu_slot R
	setenv secfu_root /dev/mmcblk0p4
	setenv secfu_part 4
else
	for BOOT_SLOT in "${BOOT_ORDER}"; do
		if test -n "${secfu_slot}"; then
			# a slot has been chosen: ignore the rest of the order
		elif test "x${BOOT_SLOT}" = "xA"; then
			if test ${BOOT_A_LEFT} -gt 0; then
				setexpr BOOT_A_LEFT ${BOOT_A_LEFT} - 1
				echo "secfu: booting slot A, ${BOOT_A_LEFT} attempts left after this one"
				setenv secfu_slot A
				setenv secfu_root /dev/mmcblk0p2
				setenv secfu_part 2
			fi
		elif test "x${BOOT_SLOT}" = "xB"; then
			if test ${BOOT_B_LEFT} -gt 0; then
				setexpr BOOT_B_LEFT ${BOOT_B_LEFT} - 1
				echo "secfu: booting slot B, ${BOOT_B_LEFT} attempts left after this one"
				setenv secfu_slot B
				setenv secfu_root /dev/mmcblk0p3
				setenv secfu_part 3
			fi
		fi
	done

	if test -n "${secfu_slot}"; then
		run secfu_save_env
	else
		# every slot has spent its attempts: give them all new ones and
		# start over, rather than stop in the bootloader
		echo "secfu: no slot has boot attempts left: resetting them"
		setenv BOOT_A_LEFT 3
		setenv BOOT_B_LEFT 3
		run secfu_save_env
		reset
	fi
fi

setenv bootargs "${bootargs} root=${secfu_root} rootwait secfu.slot=${secfu_slot}"

# Board specific from here: load the kernel and device tree of the chosen
# root and boot them, e.g.
#   load mmc 0:${secfu_part} ${kernel_addr_r} /boot/Image
#   load mmc 0:${secfu_part} ${fdt_addr_r} /boot/board.dtb
#   booti ${kernel_addr_r} - ${fdt_addr_r}
