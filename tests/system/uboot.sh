#!/bin/bash
# System test 2: the shipped U-Boot script (etc/u-boot/secfu-ab.cmd) under
# Debian's real U-Boot (u-boot-qemu, qemu_arm64, in qemu-system-aarch64),
# with its environment in a raw area of the virtio disk (1 MiB, 16 KiB),
# which the packaged secfud on the host reads and writes through
# libubootenv (fw_env.config naming the same bytes of the disk image).
#
# The disk: the environment area; partition 1 (ext2, bootable) with
# boot.scr = a board prologue (load the environment from the disk, the
# secfu_save_env hook writing it back) + the shipped script + a board
# epilogue (load and booti the chosen slot's kernel and initramfs);
# partitions 2 and 3 (slots A and B) each with Debian's arm64 kernel and a
# busybox initramfs that prints the command line and powers off.  The
# slots secfud writes are files on the host: only the bootloader's part is
# under test here.
#
#   boot 1  BOOT_ORDER="A B": A boots, one attempt spent (fw_printenv sees it)
#   secfud stages 1.1.0 (B on trial: BOOT_ORDER="B A", BOOT_B_LEFT=3)
#   boot 2  B boots on trial, one attempt spent
#   secfud mark-good (the daemon, secfuctl over its socket): committed
#   boot 3  B boots again, attempts restored by the commit
#   secfud stages 1.2.0 into A; boots 4-6: A on trial, never confirmed,
#   spends its 3 attempts; boot 7: the counter ran out, U-Boot falls back
#   to B; secfud then reports rolled-back.
. "$(dirname "$0")/lib.sh"
sys_init uboot
sys_require_root
sys_require_cmd qemu-system-aarch64 mkimage fw_printenv fw_setenv mke2fs sfdisk cpio nginx curl apt-get dpkg-deb
UBOOT_BIN=/usr/lib/u-boot/qemu_arm64/u-boot.bin
[ -f "$UBOOT_BIN" ] || skip_all "u-boot-qemu is not installed"
sys_pkgroot

# ------------------------------------------------------------ kernel + initramfs
# Debian's arm64 kernel and busybox, fetched with a private apt state
# (arm64 lists only; the machine's apt configuration is not touched).
KVER=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: linux-image-\(.*\)-amd64$/\1/p' | head -1)
[ -n "$KVER" ] || bail "apt-cache knows no linux-image-amd64 (run apt-get update)"
K=$SYS_CACHE/arm64-$KVER
if [ ! -f "$K/done" ]; then
        rm -rf "$K"
        mkdir -p "$K/apt/state/lists/partial" "$K/apt/cache/archives/partial" "$K/dl" "$K/x"
        apt_o=(-o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o "Dir::State=$K/apt/state"
                -o Dir::State::status=/dev/null -o "Dir::Cache=$K/apt/cache")
        apt-get "${apt_o[@]}" update -qq >"$K/apt.log" 2>&1 || bail "apt-get update (arm64 lists): $(tail -2 "$K/apt.log")"
        (cd "$K/dl" && apt-get "${apt_o[@]}" download -q "linux-image-$KVER-arm64" busybox-static) >>"$K/apt.log" 2>&1 ||
                bail "apt-get download (arm64): $(tail -2 "$K/apt.log")"
        dpkg-deb --fsys-tarfile "$K"/dl/linux-image-*.deb | tar -x -C "$K/x" ./boot || bail "unpacking the arm64 kernel"
        dpkg-deb -x "$K"/dl/busybox-static_*.deb "$K/x" || bail "unpacking busybox"
        cp "$K"/x/boot/vmlinuz-* "$K/Image"
        mkdir -p "$K/initrd"/{bin,proc,dev}
        cp "$K/x/bin/busybox" "$K/initrd/bin/busybox"
        cat >"$K/initrd/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "SECFU-INIT $(/bin/busybox cat /proc/cmdline)"
/bin/busybox poweroff -f
INIT
        chmod 755 "$K/initrd/init"
        (cd "$K/initrd" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$K/initrd.img"
        rm -rf "$K/x" "$K/dl" "$K/apt" "$K/initrd"
        touch "$K/done"
fi

# ------------------------------------------------------------ the disk
DISK=$W/uboot.img
ENV_OFFSET=$((1024 * 1024))
ENV_SIZE=$((16 * 1024))
mkdir -p "$W/p1" "$W/slot/boot"
cp "$K/Image" "$W/slot/boot/Image"
cp "$K/initrd.img" "$W/slot/boot/initrd.img"
cat >"$W/boot.cmd" <<EOF
# --- board prologue (test board: environment in a raw area of virtio 0,
# blocks 0x800..0x81f = $ENV_OFFSET + $ENV_SIZE bytes, as in fw_env.config)
virtio scan
if virtio read \${loadaddr} 0x800 0x20 && env import -c \${loadaddr} 0x4000; then
	echo "secfu-board: environment loaded from virtio 0"
else
	echo "secfu-board: no valid environment on virtio 0"
fi
setenv secfu_save_env 'env export -c -s 0x4000 \${loadaddr} && virtio write \${loadaddr} 0x800 0x20 && echo secfu-board: environment saved'
setenv bootargs "console=ttyAMA0 panic=-1"
# --- etc/u-boot/secfu-ab.cmd
$(cat "$SYS_TOP/etc/u-boot/secfu-ab.cmd")
# --- board epilogue: the chosen slot's kernel and initramfs
echo "secfu-board: slot \${secfu_slot} BOOT_ORDER=\${BOOT_ORDER} BOOT_A_LEFT=\${BOOT_A_LEFT} BOOT_B_LEFT=\${BOOT_B_LEFT}"
load virtio 0:\${secfu_part} \${kernel_addr_r} /boot/Image
load virtio 0:\${secfu_part} \${ramdisk_addr_r} /boot/initrd.img
booti \${kernel_addr_r} \${ramdisk_addr_r}:\${filesize} \${fdtcontroladdr}
EOF
mkimage -A arm64 -T script -C none -d "$W/boot.cmd" "$W/p1/boot.scr" >"$W/mkimage.log" 2>&1 || bail "mkimage: $(tail -3 "$W/mkimage.log")"
mke2fs -q -t ext2 -d "$W/p1" "$W/p1.img" 8M || bail "mke2fs boot"
mke2fs -q -t ext2 -d "$W/slot" "$W/slot.img" 64M || bail "mke2fs slot"
truncate -s $((2 + 8 + 64 + 64 + 1))M "$DISK"
printf 'label: dos\n4096,%d,83,*\n%d,%d,83\n%d,%d,83\n' $((8 * 2048)) $((10 * 2048)) $((64 * 2048)) $((74 * 2048)) $((64 * 2048)) |
        sfdisk -q "$DISK" || bail "sfdisk"
dd if="$W/p1.img" of="$DISK" bs=1M seek=2 conv=notrunc status=none
dd if="$W/slot.img" of="$DISK" bs=1M seek=10 conv=notrunc status=none
dd if="$W/slot.img" of="$DISK" bs=1M seek=74 conv=notrunc status=none
printf '%s 0x%x 0x%x\n' "$DISK" "$ENV_OFFSET" "$ENV_SIZE" >"$W/fw_env.config"
# the factory environment, written by libubootenv
printf 'BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n' >"$W/factory.env"
: >"$W/empty.env"
fw_setenv -c "$W/fw_env.config" -f "$W/empty.env" -s "$W/factory.env" >"$W/fw_setenv.log" 2>&1 || bail "fw_setenv: $(cat "$W/fw_setenv.log")"
[ "$(fw_printenv -c "$W/fw_env.config" -n BOOT_ORDER 2>/dev/null)" = "A B" ] || bail "fw_printenv does not read the factory environment"
envget() { fw_printenv -c "$W/fw_env.config" -n "$1" 2>/dev/null; }

# ------------------------------------------------------------ U-Boot boots
BOOTS=0
# uboot_boot: one power-on; SERIAL is its console log; KERNEL_SLOT the
# secfu.slot the kernel received.
uboot_boot() {
        local pid start
        BOOTS=$((BOOTS + 1))
        SERIAL=$W/serial-$BOOTS.log
        SYS_TAIL_FILE=$SERIAL
        start=$(date +%s)
        nice -n 10 qemu-system-aarch64 -machine virt -cpu cortex-a57 -m 512 -nodefaults -no-reboot \
                -display none -monitor none -serial "file:$SERIAL" -bios "$UBOOT_BIN" \
                -drive "if=none,file=$DISK,format=raw,id=d0,cache=unsafe" -device virtio-blk-device,drive=d0 \
                </dev/null >"$W/qemu-$BOOTS.log" 2>&1 &
        pid=$!
        sys_on_exit_kill "$pid"
        while kill -0 "$pid" 2>/dev/null; do
                if [ $(($(date +%s) - start)) -ge 180 ]; then
                        diag "boot $BOOTS: timeout, killing QEMU"
                        kill -KILL "$pid"
                        break
                fi
                sleep 0.5
        done
        wait "$pid" 2>/dev/null
        KERNEL_SLOT=$(tr -d '\r' <"$SERIAL" | sed -n 's/^SECFU-INIT .*secfu\.slot=\([A-Z]\).*/\1/p' | tail -1)
        diag "boot $BOOTS: $(($(date +%s) - start)) s, U-Boot: $(tr -d '\r' <"$SERIAL" | grep -a '^secfu: booting' | tail -1)"
}

# ------------------------------------------------------------ secfud on the host
sys_vendor "$W/vendor"
mkdir -p "$W/dev/keys.d" "$W/dev/state" "$W/dev/run" "$W/www"
chmod 700 "$W/dev/state"
cp "$W/vendor/factory.pub" "$W/dev/keys.d/factory.pem"
head -c $((4 * 1024 * 1024)) /dev/urandom >"$W/dev/slot-a"
truncate -s $((4 * 1024 * 1024)) "$W/dev/slot-b"
echo 1.0.0 >"$W/dev/version"
sys_nginx_conf "$W/nginx" "
        server {
                listen 127.0.0.1:$((20000 + $$ % 20000));
                root $W/www;
        }"
PORT=$((20000 + $$ % 20000))
nginx -c "$W/nginx/nginx.conf" -e "$W/nginx/error.log" >"$W/nginx/stderr.log" 2>&1 &
sys_on_exit_kill $!
sys_wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$PORT/" || bail "nginx did not start"
cat >"$W/dev/secfud.conf" <<CONF
[device]
manufacturer = example.com
model = gw100
version-file = $W/dev/version
booted-slot = file:$W/dev/booted
[discovery]
domain = site.test
local-url = http://127.0.0.1:$PORT/.well-known/firmware/{manufacturer}/{model}/manifest.json
manufacturer-url = https://127.0.0.1:1/.well-known/firmware/{manufacturer}/{model}/manifest.json
[security]
keys = $W/dev/keys.d
[poll]
policy = stage
[bootloader]
backend = uboot
fw-env-config = $W/fw_env.config
attempts = 3
[slot.rootfs.0]
device = $W/dev/slot-a
bootname = A
[slot.rootfs.1]
device = $W/dev/slot-b
bootname = B
[storage]
state-dir = $W/dev/state
runtime-dir = $W/dev/run
CONF
once() { # once: secfud --once on the host, booted slot $1
        echo "$1" >"$W/dev/booted"
        "$SECFUD" -c "$W/dev/secfud.conf" --once >"$W/once.log" 2>&1
}
# daemon_do SLOT COMMAND: start secfud (booted SLOT), run secfuctl COMMAND,
# keep its output in $W/ctl.out and the status JSON in $W/status.json.
daemon_do() {
        local pid rc
        echo "$1" >"$W/dev/booted"
        "$SECFUD" -c "$W/dev/secfud.conf" >"$W/daemon.log" 2>&1 &
        pid=$!
        sys_wait_for 20 test -S "$W/dev/run/secfud.sock" || { kill "$pid"; return 1; }
        "$SECFUCTL" -s "$W/dev/run/secfud.sock" "$2" >"$W/ctl.out" 2>&1
        rc=$?
        "$SECFUCTL" -s "$W/dev/run/secfud.sock" --json status >"$W/status.json" 2>&1
        kill "$pid"
        wait "$pid" 2>/dev/null
        return $rc
}

# ------------------------------------------------------------ the scenario
uboot_boot
SYS_TAIL_LINES=40
is "$KERNEL_SLOT" A "boot 1: U-Boot ran the shipped script and booted slot A's kernel and initramfs"
ok "$(tr -d '\r' <"$SERIAL" | grep -aq 'secfu-board: environment saved' && echo 0 || echo 1)" "boot 1: the script saved the environment to the disk area"
is "$(envget BOOT_A_LEFT)" 2 "fw_printenv (libubootenv) reads U-Boot's write: BOOT_A_LEFT=2"

echo 1.1.0 >/dev/null
head -c $((4 * 1024 * 1024)) /dev/urandom >"$W/fw-1.1.0.img"
sys_publish "$W/vendor" "$W/www" 1.1.0 "$W/fw-1.1.0.img" || bail "publishing 1.1.0"
SYS_TAIL_FILE=$W/once.log
once A
ok $? "secfud --once (booted A) stages 1.1.0 through libubootenv"
is "$(envget BOOT_ORDER)|$(envget BOOT_B_LEFT)" "B A|3" "the environment asks for a trial of B: BOOT_ORDER=\"B A\", BOOT_B_LEFT=3"

uboot_boot
is "$KERNEL_SLOT" B "boot 2: U-Boot booted slot B on trial"
is "$(envget BOOT_B_LEFT)" 2 "boot 2 spent one of B's attempts (fw_printenv: BOOT_B_LEFT=2)"

SYS_TAIL_FILE=$W/daemon.log
daemon_do B mark-good
ok $? "secfuctl mark-good on the booted trial: $(head -1 "$W/ctl.out")"
is "$(sys_json "$W/status.json" 'd["state"]')" committed "secfud reports committed"
is "$(envget BOOT_ORDER)|$(envget BOOT_B_LEFT)" "B A|3" "the commit restored B's attempts through libubootenv"

uboot_boot
is "$KERNEL_SLOT" B "boot 3: the committed slot B boots again"

head -c $((4 * 1024 * 1024)) /dev/urandom >"$W/fw-1.2.0.img"
sys_publish "$W/vendor" "$W/www" 1.2.0 "$W/fw-1.2.0.img" || bail "publishing 1.2.0"
echo 1.1.0 >"$W/dev/version"
SYS_TAIL_FILE=$W/once.log
once B
ok $? "secfud --once (booted B) stages 1.2.0 into A"
is "$(envget BOOT_ORDER)|$(envget BOOT_A_LEFT)" "A B|3" "the environment asks for a trial of A"
slots=""
for i in 1 2 3 4; do
        uboot_boot
        slots="$slots$KERNEL_SLOT"
done
is "$slots" AAAB "boots 4-7: A on trial spends its 3 attempts unconfirmed, then U-Boot falls back to B"
is "$(envget BOOT_A_LEFT)" 0 "fw_printenv: BOOT_A_LEFT=0"

SYS_TAIL_FILE=$W/daemon.log
daemon_do B status
is "$(sys_json "$W/status.json" 'd["state"]')" rolled-back "secfud (booted B) reports rolled-back"
is "$(sys_json "$W/status.json" '[s["health"] for s in d["slots"] if s["bootname"] == "A"][0]')" bad "slot A is marked bad"

diag "uboot: $BOOTS boots, $(sys_elapsed) s"
tap_done
