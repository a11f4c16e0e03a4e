#!/bin/bash
# System test 1: a real x86_64 device in QEMU (SeaBIOS, GRUB with the
# shipped snippet, Debian 12 with systemd and dbus, the packaged secfud),
# discovering _firmware.site.test through its networkd DHCP lease and DNS.
# One disk goes through seven boots (tests/system/vm-lib.sh):
#
#   1  A 1.0.0  exposure (systemd-analyze security), bus policy, then an
#               apply over D-Bus as a member of group secfu; QEMU is killed
#               in the middle of the download                     (c)
#   2  A 1.0.0  the update resumes where it was cut and completes; reboot
#   3  B 1.1.0  GRUB boots B on trial, secfud-mark-good commits it    (a);
#               kill -STOP of secfud: the watchdog restarts it
#   4  B 1.1.0  the next boot is B again                            (a);
#               apply 1.2.0; power cut inside grub-editenv's rewrite of
#               the grubenv during the switch                      (d)
#   5  B 1.1.0  a consistent slot boots (B, the environment intact);
#               apply 1.2.0 again; reboot
#   6  A 1.2.0  on trial, its multi-user.target fails: never confirmed (b)
#   7  B 1.1.0  GRUB fell back; secfud reports rolled-back           (b)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vm-lib.sh"
sys_init grub-device
sys_require_root
sys_require_cmd qemu-system-x86_64 grub-mkimage mmdebstrap mke2fs debugfs sfdisk busybox cpio depmod modprobe \
        dnsmasq nginx curl
[ -f /usr/lib/grub/i386-pc/boot.img ] || skip_all "grub-pc-bin is not installed"
sys_require_netns
sys_pkgroot
vm_image
vm_net_start
VENDOR=$VM/vendor
MAN_PATH=/.well-known/firmware/example.com/gw100
sys_publish "$VENDOR" "$W/www" 1.1.0 "$VM/rootfs-1.1.0.img" || bail "publishing 1.1.0"
vm_disk dev
DISK=$W/dev.img
phase() { diag "--- $* ($(sys_elapsed) s)"; }
serial_has() { tr -d '\r' <"$SERIAL" | grep -aqE "$1"; }

# The commands of boot 1 .. 7, run by the guest's harness (bash).
WAIT_APPLY='runuser -u fwadmin -- secfuctl --dbus apply >/run/apply.out 2>&1; say "apply rc=$? $(tail -1 /run/apply.out)"; status'

# ------------------------------------------------------------ boot 1
phase "boot 1: slot A, security, bus policy, apply cut by a power cut"
vm_boot "$DISK" '
systemd-analyze security secfud.service --no-pager >/run/security.txt 2>&1
say "exposure $(grep -a "Overall exposure level" /run/security.txt)"
grep -aE "^ *✗" /run/security.txt | head -40 | while read -r l; do say "exposed $l"; done
say "unit $(systemctl show -p ActiveState,SubState --value secfud | tr "\n" " ")"
runuser -u visitor -- secfuctl --dbus status >/dev/null 2>&1; say "visitor-dbus-status rc=$?"
runuser -u visitor -- secfuctl --dbus check >/run/v.out 2>&1; say "visitor-dbus-check rc=$? $(head -1 /run/v.out)"
runuser -u visitor -- secfuctl check >/run/v.out 2>&1; say "visitor-socket-check rc=$? $(head -1 /run/v.out)"
runuser -u fwadmin -- secfuctl --dbus check >/run/c.out 2>&1; say "fwadmin-dbus-check rc=$? $(head -1 /run/c.out)"
runuser -u fwadmin -- secfuctl --dbus apply --no-wait >/run/a.out 2>&1; say "fwadmin-dbus-apply rc=$? $(head -1 /run/a.out)"
for i in $(seq 600); do status; sleep 1; done
' 900 'SYSTEST status .*"done": ?[1-9][0-9]{8}[^0-9]'
exposure=$(vm_say exposure | sed -n 's/.*Overall exposure level for secfud.service: //p')
diag "systemd-analyze security in the guest: $exposure"
tr -d '\r' <"$SERIAL" | sed -n 's/^.*SYSTEST exposed /#   /p'
is "$(vm_say boot)" "slot=A version=1.0.0" "boot 1: GRUB booted slot A (1.0.0)"
is "$(vm_say unit)" "active running " "secfud.service as packaged runs under systemd, sandbox included"
ok "$([ -n "$exposure" ] && echo 0 || echo 1)" "systemd-analyze security measured the unit: $exposure"
is "$(vm_say visitor-dbus-status)" "rc=0" "D-Bus: a user outside group secfu may read the status"
ok "$(vm_say visitor-dbus-check | grep -q '^rc=4 ' && echo 0 || echo 1)" \
        "D-Bus: the bus policy refuses check to a user outside group secfu (exit 4): $(vm_say visitor-dbus-check)"
ok "$(vm_say visitor-socket-check | grep -q '^rc=4 ' && echo 0 || echo 1)" "socket: secfud refuses check to that user too (exit 4)"
ok "$(vm_say fwadmin-dbus-check | grep -q '^rc=0 .*1\.1\.0' && echo 0 || echo 1)" \
        "D-Bus: a member of group secfu checks and sees 1.1.0 at _firmware.site.test: $(vm_say fwadmin-dbus-check)"
is "$(vm_say fwadmin-dbus-apply | cut -c1-4)" "rc=0" "D-Bus: the member of group secfu starts the apply"
ok "$(tr -d '\r' <"$SERIAL" | grep -aq 'SYSTEST step-done' && echo 1 || echo 0)" "(c) QEMU killed while staging, before the apply ended"
ok "$(grep -q '_firmware.site.test' "$W/dnsmasq.log" && echo 0 || echo 1)" "the guest resolved _firmware.site.test through DNS"
cut_at=$(tr -d '\r' <"$SERIAL" | grep -a 'SYSTEST status' | tail -1 | grep -oE '"done": ?[0-9]+' | grep -oE '[0-9]+$')
diag "power cut after $cut_at bytes of $(stat -c %s "$VM/rootfs-1.1.0.img")"
served_before=$(grep -c 'rootfs-1.1.0.img' "$W/nginx/access.log")

# ------------------------------------------------------------ boot 2
phase "boot 2: slot A again, the download resumes"
vm_boot "$DISK" "status
$WAIT_APPLY
systemctl reboot" 900
is "$(vm_say boot)" "slot=A version=1.0.0" "(c) boot 2: slot A again after the power cut"
ok "$(tr -d '\r' <"$SERIAL" | grep -a 'SYSTEST status' | head -1 | grep -q 'interrupted' && echo 0 || echo 1)" \
        "(c) secfud reports the interrupted download"
ok "$(vm_say apply | grep -q '^rc=0' && echo 0 || echo 1)" "(c) the apply completes: $(vm_say apply)"
is "$(vm_status 'd["state"]')" staged "(c) state staged"
is "$(vm_status '[s["version"] for s in d["slots"] if s["bootname"] == "B"][0]')" 1.1.0 "(c) slot B holds 1.1.0"
range=$(tail -n +"$((served_before + 1))" "$W/nginx/access.log" | grep -c 'rootfs-1.1.0.img 206 ')
ok "$([ "$range" -ge 1 ] && echo 0 || echo 1)" "(c) the download resumed with a range request (HTTP 206)"
env=$(vm_env "$DISK" | tr '\n' ' ')
ok "$(echo "$env" | grep -q 'ORDER=B A' && echo 0 || echo 1)" "the grubenv on the disk asks for B first: $env"

# ------------------------------------------------------------ boot 3
phase "boot 3: B on trial, committed; watchdog"
vm_boot "$DISK" '
status
pid=$(systemctl show -p MainPID --value secfud)
kill -STOP "$pid"
say "watchdog stopped $pid"
new=$pid
for i in $(seq 240); do
        sleep 1
        new=$(systemctl show -p MainPID --value secfud)
        [ "$new" != "$pid" ] && [ "$new" != 0 ] && systemctl is-active -q secfud && break
done
say "watchdog old=$pid new=$new after=${i}s restarts=$(systemctl show -p NRestarts --value secfud)"
journalctl -b -u secfud --no-pager | grep -ai watchdog | tail -2 | while read -r l; do say "journal $l"; done
' 600
is "$(vm_say boot)" "slot=B version=1.1.0" "(a) boot 3: GRUB booted slot B (1.1.0) on trial"
ok "$(serial_has "Booting .Slot B \\(OK=1 TRY=1\\)" && echo 0 || echo 1)" "(a) GRUB spent B's try (its menu: Slot B (OK=1 TRY=1))"
ok "$(vm_say mark-good | grep -q '^success' && echo 0 || echo 1)" "(a) secfud-mark-good.service ran: $(vm_say mark-good)"
is "$(vm_status 'd["state"]')" committed "(a) secfud reports committed"
is "$(vm_status 'd["runningVersion"]')" 1.1.0 "(a) running 1.1.0"
ok "$(vm_say watchdog | grep -qE '^old=([0-9]+) new=([0-9]+) ' && ! vm_say watchdog | grep -qE '^old=([0-9]+) new=\1 ' && echo 0 || echo 1)" \
        "watchdog: after kill -STOP, systemd restarted secfud: $(vm_say watchdog)"
ok "$(vm_say journal | grep -qi watchdog && echo 0 || echo 1)" "watchdog: the journal names the watchdog: $(vm_say journal | cut -c1-120)"
env=$(vm_env "$DISK" | tr '\n' ' ')
ok "$(echo "$env" | grep -q 'B_TRY=0' && echo 0 || echo 1)" "(a) the commit reset B's try in the grubenv: $env"

# ------------------------------------------------------------ boot 4
phase "boot 4: B again; apply 1.2.0; power cut inside the grubenv rewrite"
sys_publish "$VENDOR" "$W/www" 1.2.0 "$VM/rootfs-1.2.0.img" || bail "publishing 1.2.0"
env_before=$(vm_env "$DISK")
vm_boot "$DISK" '
status
# Test only: a grub-editenv found first on the service PATH that stops as a
# power cut would, after the truncation of the file it rewrites and before
# the new block reaches it.
cat >/usr/local/sbin/grub-editenv <<"WRAP"
#!/bin/sh
case " $* " in
*" set "*ORDER=*) : >"$1"; sync; touch /run/secfud/power-cut; exec sleep 1000 ;;
esac
exec /usr/bin/grub-editenv "$@"
WRAP
chmod 755 /usr/local/sbin/grub-editenv
sync
runuser -u fwadmin -- secfuctl --dbus apply --no-wait >/run/a.out 2>&1; say "apply-start rc=$?"
for i in $(seq 900); do [ -e /run/secfud/power-cut ] && break; sleep 1; done
say "power-cut-now"
sleep 1000
' 900 'SYSTEST power-cut-now'
is "$(vm_say boot)" "slot=B version=1.1.0" "(a) boot 4: the next boot is B again"
ok "$(vm_status 'd["state"]' | grep -qE '^(committed|idle)$' && [ "$(vm_status 'd["primarySlot"]')" = B ] && echo 0 || echo 1)" \
        "(a) B is primary, nothing pending: $(vm_status 'd["state"]'), highest installed $(vm_status 'd["highestInstalled"]')"
ok "$(serial_has 'SYSTEST power-cut-now' && echo 0 || echo 1)" "(d) power cut in the switch, inside the grubenv write"
env_after=$(vm_env "$DISK")
is "$(echo "$env_after" | tr '\n' ' ')" "$(echo "$env_before" | tr '\n' ' ')" "(d) the grubenv on the disk is intact (the old block)"

# ------------------------------------------------------------ boot 5
phase "boot 5: a consistent slot; apply 1.2.0 again"
vm_boot "$DISK" "status
rm -f /usr/local/sbin/grub-editenv
$WAIT_APPLY
systemctl reboot" 900
is "$(vm_say boot)" "slot=B version=1.1.0" "(d) boot 5: a consistent slot boots (B, 1.1.0, committed before)"
ok "$(tr -d '\r' <"$SERIAL" | grep -a 'SYSTEST status' | head -1 | grep -qE '"state": ?"(idle|committed|staged)"' && echo 0 || echo 1)" \
        "(d) secfud's state agrees with the boot: $(tr -d '\r' <"$SERIAL" | grep -a 'SYSTEST status' | head -1 | grep -oE '"(state|reason)": ?"[^"]*"' | tr '\n' ' ')"
ok "$(vm_say apply | grep -q '^rc=0' && echo 0 || echo 1)" "(b) 1.2.0 staged into slot A: $(vm_say apply)"

# ------------------------------------------------------------ boot 6
phase "boot 6: A on trial with 1.2.0, whose multi-user.target fails"
vm_boot "$DISK" 'status; say "mark-good-started $(systemctl show -p ExecMainStartTimestampMonotonic --value secfud-mark-good)"
systemctl --failed --no-legend | while read -r l; do say "failed $l"; done' 600
is "$(vm_say boot)" "slot=A version=1.2.0" "(b) boot 6: GRUB booted slot A (1.2.0) on trial"
ok "$(vm_say mark-good-started | grep -qx '0' && echo 0 || echo 1)" "(b) secfud-mark-good.service never started (multi-user.target failed)"
is "$(vm_status 'd["state"]')" trial "(b) secfud reports the trial"

# ------------------------------------------------------------ boot 7
phase "boot 7: GRUB falls back to B"
vm_boot "$DISK" 'status' 600
is "$(vm_say boot)" "slot=B version=1.1.0" "(b) boot 7: GRUB fell back to slot B (1.1.0)"
is "$(vm_status 'd["state"]')" rolled-back "(b) secfud reports rolled-back"
is "$(vm_status '[s["health"] for s in d["slots"] if s["bootname"] == "A"][0]')" bad "(b) slot A is marked bad"

diag "grub-device: $VM_BOOTS boots, $(sys_elapsed) s"
tap_done
