# shellcheck shell=bash
# shellcheck disable=SC2034
# The x86_64 device of the GRUB system tests: a disk image built from
# Debian packages, booted by SeaBIOS + GRUB in QEMU (TCG), and the host
# side it talks to.
#
#   . "$(dirname "$0")/vm-lib.sh"     (after lib.sh)
#   vm_image                # builds or reuses $VM (cache dir): disk.img,
#                           # rootfs-1.1.0.img, rootfs-1.2.0.img, vendor/
#   vm_net_start            # namespace with dnsmasq + nginx for the guest
#   vm_disk NAME            # a fresh copy of the device's disk: $W/NAME.img
#   vm_boot DISK 'shell commands for the guest' [timeout]
#                           # one boot; the serial log is $W/serial-N.log
#
# The disk (MBR, BIOS boot):
#   1  16 MiB ext2: /grub (core modules embedded in the MBR gap), grub.cfg
#      that sources etc/grub/secfu-ab.cfg with its board placeholders
#      filled in, grubenv.  Mounted at /boot in the guest.
#   2  slot A: ext4 root file system (Debian 12 minbase, systemd, dbus,
#      our .deb; kernel and initramfs in its /boot), firmware 1.0.0
#   3  slot B: empty
#   4  16 MiB ext4: secfud's state, mounted at /var/lib/secfud by both
#      slots (this test device has no recovery system)
# A second small disk (/dev/vdb) carries the shell commands of one boot
# to the test harness unit (systest.service) in the guest, which prints
# "SYSTEST ..." lines on the serial console and powers off or reboots.
#
# The guest's network is QEMU's user network with domainname=site.test;
# QEMU runs in a network namespace of its own whose resolv.conf names a
# dnsmasq on 127.0.0.1 answering _firmware.site.test with 10.0.2.2 (QEMU's
# alias of the host loopback), where nginx serves the firmware.  Nothing
# can leave: that namespace has only its loopback.

VM_SUITE=bookworm
VM_PACKAGES=systemd-sysv,dbus,udev,grub-common,adduser,libcurl4,libjansson4,libinih1,libubootenv0.1,libssl3,ca-certificates
VM_SLOT_MB=${VM_SLOT_MB:-300}
VM_MEM=${VM_MEM:-512}
VM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

vm_kernel_version() {
        apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: linux-image-//p' | head -1
}

# vm_kernel DIR VERSION: vmlinuz and a busybox initramfs that loads the
# virtio and ext4 modules and switches to root=.
vm_kernel() {
        local dir=$1 ver=$2 k=$1/pkg m
        mkdir -p "$dir" "$k"
        (cd "$dir" && apt-get download -q "linux-image-$ver" >"$dir/download.log" 2>&1) || return 1
        dpkg-deb -x "$dir"/linux-image-"$ver"_*.deb "$k" || return 1
        depmod -b "$k" "$ver" || return 1
        cp "$k/boot/vmlinuz-$ver" "$dir/vmlinuz"
        rm -rf "$dir/initrd"
        mkdir -p "$dir/initrd"/{bin,dev,proc,sys,newroot,lib/modules}
        cp /bin/busybox "$dir/initrd/bin/busybox"
        for m in $(for mod in virtio_pci virtio_blk virtio_net crc32c_generic ext4; do
                modprobe -d "$k" -S "$ver" --show-depends "$mod"; done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }'); do
                cp "$m" "$dir/initrd/lib/modules/"
                basename "$m" >>"$dir/initrd/lib/modules/order"
        done
        cat >"$dir/initrd/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m 2>/dev/null; done
root=$(sed -n 's/.*root=\([^ ]*\).*/\1/p' /proc/cmdline)
for i in $(seq 100); do [ -b "$root" ] && break; sleep 0.1; done
mount -t ext4 -o rw "$root" /newroot || { echo "initramfs: cannot mount $root"; sleep 5; poweroff -f; }
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
INIT
        chmod 755 "$dir/initrd/init"
        (cd "$dir/initrd" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$dir/initrd.img"
}

# The harness unit and its script (test only: not part of the product).
vm_harness() {
        local root=$1
        cat >"$root/usr/local/sbin/systest-step" <<'STEP'
#!/bin/bash
# Runs the commands of this boot from /dev/vdb, then powers off (or does
# whatever the commands did).  Output goes to the serial console.
exec >/dev/ttyS0 2>&1
say() { echo "SYSTEST $*"; }
status() { say "status $(secfuctl --json status 2>&1 | tr -d '\n')"; }
say "boot slot=$(sed -n 's/.*secfu.slot=\([^ ]*\).*/\1/p' /proc/cmdline) version=$(cat /etc/secfu-version)"
say "grubenv $(grub-editenv /boot/grub/grubenv list | tr '\n' ' ')"
say "mark-good $(systemctl show -p ActiveState,Result --value secfud-mark-good.service | tr '\n' ' ')"
say "system $(systemctl is-system-running)"
tr -d '\000' </dev/vdb >/run/systest-step.sh
. /run/systest-step.sh
say "step-done"
sync
systemctl poweroff
STEP
        chmod 755 "$root/usr/local/sbin/systest-step"
        cat >"$root/etc/systemd/system/systest.service" <<'UNIT'
[Unit]
Description=System test harness (runs the commands of this boot)
After=multi-user.target secfud.service secfud-mark-good.service
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/systest-step
TimeoutStartSec=infinity
[Install]
WantedBy=multi-user.target
UNIT
}

# vm_image: builds the cached image set into $VM (keyed by the inputs).
vm_image() {
        local kver key root base
        kver=$(vm_kernel_version)
        [ -n "$kver" ] || bail "apt-cache knows no linux-image-amd64 (run apt-get update)"
        # and whatever the package depends on now (a new library: no
        # stale list to keep in step)
        local deps
        deps=$(dpkg-deb -f "$SECFUD_DEB" Depends | tr ',' '\n' | sed 's/([^)]*)//; s/|.*//; s/ //g' |
                grep -vx 'libc6\|' | sort -u | paste -sd, -)
        [ -n "$deps" ] && VM_PACKAGES="$VM_PACKAGES,$deps"
        key=$( { echo "$VM_SUITE $VM_PACKAGES $VM_SLOT_MB $kver"; sys_hash "$SECFUD_DEB" "$SYS_TOP/etc/grub" \
                "$VM_LIB_DIR/vm-lib.sh"; } | sha256sum | cut -c1-16)
        VM=$SYS_CACHE/vm-$key
        if [ -f "$VM/done" ]; then
                diag "image: cached $VM"
                return 0
        fi
        # images of older inputs: about 900 MB each
        find "$SYS_CACHE" -maxdepth 1 -name 'vm-*' ! -name "vm-$key*" -exec rm -rf {} + 2>/dev/null
        rm -rf "$VM" "$VM.tmp"
        base=$VM.tmp
        mkdir -p "$base"
        diag "image: building $VM (mmdebstrap, kernel $kver)"
        vm_kernel "$base/kernel" "$kver" || bail "kernel $kver: $(tail -3 "$base/kernel/download.log")"
        root=$base/root
        # the Debian part alone, cached by its package list
        local tarball
        tarball=$SYS_CACHE/debian-$(echo "$VM_SUITE $VM_PACKAGES" | sha256sum | cut -c1-16).tar
        if [ ! -f "$tarball" ]; then
                nice -n 10 mmdebstrap --variant=minbase --include="$VM_PACKAGES" \
                        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
                        --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
                        "$VM_SUITE" "${tarball%.tar}.part.tar" >"$base/mmdebstrap.log" 2>&1 ||
                        bail "mmdebstrap: $(tail -5 "$base/mmdebstrap.log")"
                mv "${tarball%.tar}.part.tar" "$tarball"
        fi
        mkdir -p "$root"
        tar -C "$root" -xf "$tarball" || bail "unpacking $tarball"
        cp "$SECFUD_DEB" "$root/tmp/secfud.deb"
        chroot "$root" dpkg -i /tmp/secfud.deb >"$base/dpkg.log" 2>&1 || bail "dpkg -i secfud: $(tail -5 "$base/dpkg.log")"
        rm -f "$root/tmp/secfud.deb"

        # the device: its firmware version, factory key, configuration
        sys_vendor "$base/vendor"
        cp "$base/vendor/factory.pub" "$root/etc/secfud/keys.d/factory.pem"
        echo 1.0.0 >"$root/etc/secfu-version"
        cat >"$root/etc/secfud/secfud.conf" <<'CONF'
# The test device: an x86_64 board with GRUB, slots on the virtio disk.
[device]
manufacturer = example.com
model = gw100
version-file = /etc/secfu-version
booted-slot = cmdline:secfu.slot

[discovery]
domain = auto
manufacturer-url = https://firmware.maker.test/.well-known/firmware/{manufacturer}/{model}/manifest.json

[network]
connect-timeout = 10s

[poll]
policy = check

[bootloader]
backend = grub
grubenv = /boot/grub/grubenv

[slot.rootfs.0]
device = /dev/vda2
bootname = A

[slot.rootfs.1]
device = /dev/vda3
bootname = B
CONF
        echo secfu-device >"$root/etc/hostname"
        # TCG on a busy machine: udev may need more than the default 90 s
        # secfud's state on a data partition both slots mount: a trial boot
        # of the other root file system must find the record of the switch
        printf '/dev/vda1 /boot ext2 defaults,x-systemd.device-timeout=10min 0 0\n/dev/vda4 /var/lib/secfud ext4 defaults,x-systemd.device-timeout=10min 0 0\n' \
                >"$root/etc/fstab"
        printf 'nameserver 10.0.2.3\n' >"$root/etc/resolv.conf"
        mkdir -p "$root/etc/systemd/network"
        printf '[Match]\nName=en* eth*\n[Network]\nDHCP=ipv4\n' >"$root/etc/systemd/network/10-wired.network"
        vm_harness "$root"
        chroot "$root" systemctl enable systemd-networkd systemd-networkd-wait-online secfud secfud-mark-good systest \
                >>"$base/dpkg.log" 2>&1 || bail "systemctl enable: $(tail -3 "$base/dpkg.log")"
        # No login prompt on the serial console: its vhangup() cuts off the
        # harness's output, which happens when a failed multi-user.target
        # lets the harness run while the getty starts (boot 6).
        chroot "$root" systemctl mask serial-getty@ttyS0.service >>"$base/dpkg.log" 2>&1 || bail "systemctl mask getty"
        chroot "$root" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
                systemd-timesyncd.service >>"$base/dpkg.log" 2>&1
        # an operator in group secfu, and a user who is not
        chroot "$root" useradd -m -G secfu fwadmin >>"$base/dpkg.log" 2>&1 || bail "useradd fwadmin"
        chroot "$root" useradd -m visitor >>"$base/dpkg.log" 2>&1 || bail "useradd visitor"
        cp "$base/kernel/vmlinuz" "$root/boot/vmlinuz"
        cp "$base/kernel/initrd.img" "$root/boot/initrd.img"

        # the three root file systems: 1.0.0 (slot A), 1.1.0 (the update),
        # 1.2.0 (an update whose multi-user.target fails: never confirmed)
        vm_mkfs "$root" "$base/rootfs-1.0.0.img" || bail "mke2fs 1.0.0"
        echo 1.1.0 >"$root/etc/secfu-version"
        vm_mkfs "$root" "$base/rootfs-1.1.0.img" || bail "mke2fs 1.1.0"
        echo 1.2.0 >"$root/etc/secfu-version"
        printf '[Unit]\nDescription=A service firmware 1.2.0 breaks\n[Service]\nType=oneshot\nExecStart=/bin/false\n[Install]\nRequiredBy=multi-user.target\n' \
                >"$root/etc/systemd/system/broken.service"
        chroot "$root" systemctl enable broken.service >>"$base/dpkg.log" 2>&1
        vm_mkfs "$root" "$base/rootfs-1.2.0.img" || bail "mke2fs 1.2.0"

        vm_make_disk "$base" || bail "disk image"
        rm -rf "$root" "$base/kernel/pkg" "$base/kernel/initrd"
        touch "$base/done"
        mv "$base" "$VM"
        diag "image: built in $(sys_elapsed) s"
}

vm_mkfs() { # vm_mkfs ROOT IMAGE: ext4 of VM_SLOT_MB from a directory, no mount
        rm -f "$2"
        mke2fs -q -t ext4 -L rootfs -d "$1" "$2" "${VM_SLOT_MB}M"
}

# vm_make_disk DIR: DIR/disk.img with GRUB, the boot partition and slot A.
vm_make_disk() {
        local dir=$1 boot=$1/bootfs slot_sectors=$((VM_SLOT_MB * 2048))
        local p2=$((34 * 2048)) p3 p4
        p3=$((p2 + slot_sectors))
        mkdir -p "$boot/grub"
        grub-mkimage -O i386-pc -o "$dir/core.img" -p '(hd0,msdos1)/grub' \
                biosdisk part_msdos ext2 normal configfile loadenv test echo halt serial terminal linux sleep \
                reboot cat || return 1
        # grub.cfg: the serial console of this board, then the shipped snippet
        printf 'serial --unit=0 --speed=115200\nterminal_input serial\nterminal_output serial\nsource $prefix/secfu-ab.cfg\n' \
                >"$boot/grub/grub.cfg"
        vm_snippet >"$boot/grub/secfu-ab.cfg" || return 1
        grub-editenv "$boot/grub/grubenv" create
        grub-editenv "$boot/grub/grubenv" set ORDER="A B" A_OK=1 A_TRY=0 B_OK=1 B_TRY=0
        rm -f "$dir/boot.img"
        mke2fs -q -t ext2 -L boot -d "$boot" "$dir/boot.img" 32M || return 1
        mkdir -p "$dir/datafs"
        chmod 700 "$dir/datafs"
        rm -f "$dir/data.img"
        mke2fs -q -t ext4 -L data -d "$dir/datafs" "$dir/data.img" 16M || return 1
        rm -f "$dir/disk.img"
        p4=$((p3 + slot_sectors))
        truncate -s $(((p4 + 16 * 2048) * 512 + 1048576)) "$dir/disk.img"
        printf 'label: dos\n2048,%d,83\n%d,%d,83\n%d,%d,83\n%d,%d,83\n' $((32 * 2048)) "$p2" "$slot_sectors" "$p3" "$slot_sectors" \
                "$p4" $((16 * 2048)) | sfdisk -q "$dir/disk.img" || return 1
        dd if=/usr/lib/grub/i386-pc/boot.img of="$dir/disk.img" bs=440 count=1 conv=notrunc status=none
        dd if="$dir/core.img" of="$dir/disk.img" bs=512 seek=1 conv=notrunc status=none
        dd if="$dir/boot.img" of="$dir/disk.img" bs=1M seek=1 conv=notrunc,sparse status=none
        dd if="$dir/rootfs-1.0.0.img" of="$dir/disk.img" bs=512 seek="$p2" conv=notrunc,sparse status=none
        dd if="$dir/data.img" of="$dir/disk.img" bs=512 seek="$p4" conv=notrunc,sparse status=none
        echo "$p2 $p3 $slot_sectors" >"$dir/layout"
}

# The shipped snippet with its documented board placeholders filled in
# (doc/system-tests.md): the disk as GRUB and Linux name it, and the
# kernel command line with the serial console.
vm_snippet() {
        sed -e 's|^set secfu_grub_disk=.*|set secfu_grub_disk=hd0|' \
                -e 's|^set secfu_linux_disk=.*|set secfu_linux_disk=/dev/vda|' \
                -e 's|^set secfu_cmdline=.*|set secfu_cmdline="rootwait panic=30 console=ttyS0 quiet"|' \
                "$SYS_TOP/etc/grub/secfu-ab.cfg"
}

# ------------------------------------------------------------ the host side
# vm_net_start: the namespace QEMU runs in, with dnsmasq and nginx serving
# $W/www (publish into it with sys_publish).
vm_net_start() {
        sys_netns_add q
        mkdir -p "$W/www" "$W/nginx"
        printf 'nameserver 127.0.0.1\n' >"$W/resolv.conf"
        sys_ns_bg q "$W/dnsmasq.stderr" dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null \
                --listen-address=127.0.0.1 --bind-interfaces --port=53 \
                --address=/_firmware.site.test/10.0.2.2 --address=/firmware.maker.test/10.0.2.2 \
                --log-facility="$W/dnsmasq.log" --log-queries
        sys_nginx_conf "$W/nginx" "
        server {
                listen 127.0.0.1:80;
                root $W/www;
        }"
        sys_ns_bg q "$W/nginx/stderr.log" nginx -c "$W/nginx/nginx.conf" -e "$W/nginx/error.log"
        sys_wait_for 10 sys_ns q curl -s -o /dev/null http://127.0.0.1/ || bail "nginx for the guest did not start"
}

# vm_disk NAME: a fresh sparse copy of the device's disk.
vm_disk() {
        cp --sparse=always "$VM/disk.img" "$W/$1.img"
}

# vm_env DISK: the grubenv of the disk (host side, read with debugfs).
vm_env() {
        debugfs -R "cat /grub/grubenv" "$1?offset=1048576" 2>/dev/null | grep -v '^#'
}

VM_BOOTS=0
# vm_boot DISK COMMANDS [TIMEOUT] [KILL-WHEN-REGEX]: one boot of the device.
# COMMANDS run in the guest's harness after multi-user (bash; helpers say,
# status).  Returns when QEMU exits (the guest powered off or rebooted), or
# kills it after TIMEOUT s (default 240), or as soon as the serial log
# matches KILL-WHEN-REGEX (a power cut).  Sets SERIAL (the log of this
# boot) and SYS_TAIL_FILE.
vm_boot() {
        local disk=$1 cmds=$2 timeout=${3:-240} kill_re=${4:-} pid start
        VM_BOOTS=$((VM_BOOTS + 1))
        SERIAL=$W/serial-$VM_BOOTS.log
        SYS_TAIL_FILE=$SERIAL
        truncate -s 0 "$W/ctl.img"
        printf '%s\n' "$cmds" >"$W/ctl.img"
        truncate -s 1M "$W/ctl.img"
        start=$(date +%s)
        ip netns exec "$SYS_NS_PREFIX-q" sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' sh "$W/resolv.conf" \
                nice -n 10 qemu-system-x86_64 -machine pc,accel=tcg -cpu max -m "$VM_MEM" -nodefaults -no-reboot \
                -display none -monitor none -serial "file:$SERIAL" \
                -drive "file=$disk,format=raw,if=virtio,cache=unsafe" \
                -drive "file=$W/ctl.img,format=raw,if=virtio,readonly=on" \
                -netdev user,id=n0,domainname=site.test -device virtio-net-pci,netdev=n0 \
                </dev/null >"$W/qemu-$VM_BOOTS.log" 2>&1 &
        pid=$!
        sys_on_exit_kill "$pid"
        while kill -0 "$pid" 2>/dev/null; do
                if grep -qaE 'You are in emergency mode|Kernel panic' "$SERIAL" 2>/dev/null; then
                        diag "boot $VM_BOOTS: the guest failed to boot, killing QEMU"
                        kill -KILL "$pid"
                        break
                fi
                if [ $(($(date +%s) - start)) -ge "$timeout" ]; then
                        diag "boot $VM_BOOTS: timeout after $timeout s, killing QEMU"
                        kill -KILL "$pid"
                        break
                fi
                if [ -n "$kill_re" ] && grep -qaE "$kill_re" "$SERIAL" 2>/dev/null; then
                        kill -KILL "$pid"
                        diag "boot $VM_BOOTS: power cut (QEMU killed) at: $(grep -aE "$kill_re" "$SERIAL" | tail -1 | tr -d '\r' | cut -c1-160)"
                        break
                fi
                sleep 0.5
        done
        wait "$pid" 2>/dev/null
        diag "boot $VM_BOOTS: $(($(date +%s) - start)) s"
}

# vm_say KEY: the value of the last "SYSTEST KEY ..." line of this boot.
vm_say() {
        tr -d '\r' <"$SERIAL" | sed -n "s/^.*SYSTEST $1 //p" | tail -1
}
# vm_status EXPR: a field of the last `secfuctl --json status` of this boot.
vm_status() {
        vm_say status | sys_json - "$1"
}
