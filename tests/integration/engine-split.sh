#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: split firmware and single-copy classes (DESIGN sections 3 and 5).
#   1. A manifest with a rootfs and an appfs image on a device with two A/B
#      classes: both inactive slots are written and verified, the
#      bootloader is switched once (trial of B), the state is staged.
#   2. The same with the second image broken (wrong digest, or missing on
#      the server): all or nothing -- the bootloader environment is
#      byte-identical, the running slots are untouched, nothing is staged,
#      and the first image's slot is not offered as good.
#   3. A single-copy class (one slot) next to rootfs A/B: updated in place,
#      with SECFU_INCOMPLETE=<class> in the bootloader environment while the
#      copy is unverified (seen after a kill at the slot sync), and gone
#      after a successful run.
#   4. A single-copy class that is the running system: refused, nothing
#      written.
# Plus: a single-copy slot sharing the booted bootname is refused whatever
# its class is called, and a manifest without slotClass on a rootfs+appfs
# device goes to rootfs (KNOWN BUG at the time of writing: it goes to appfs,
# the class that sorts first; see the report of 2026-11-23).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"
dev_require

FWDIR_PATH=/.well-known/firmware/example.com/gw100
T_START=$(date +%s)

sha() { sha256sum <"$1" | cut -d' ' -f1; }
holds() { # holds IMAGE DEVICE: the first bytes of DEVICE are IMAGE
        cmp -s -n "$(stat -c %s "$1")" "$1" "$2"
}
env_var() { sed -n "s/^$1=//p" "$D/bootenv"; }

# split_setup: the default device plus an A/B appfs class (A = index 0, B = 1)
split_setup() {
        dev_setup
        head -c 4194304 /dev/urandom >"$D/app-0"
        truncate -s 4194304 "$D/app-1"
        EXTRA_CONF="
[slot.appfs.0]
device = $D/app-0
bootname = A
[slot.appfs.1]
device = $D/app-1
bootname = B"
        dev_write_config
        head -c 1048576 /dev/urandom >"$D/app-1.1.0.img"
}

# split_publish [MISSING-APP]: a signed two-image manifest for 1.1.0 on the
# server (PAYLOAD_EDIT applies); with an argument the appfs image is not served.
split_publish() {
        local jws
        jws=$(dev_manifest 1.1.0 --slot-class rootfs --name rootfs \
                --image "$D/app-1.1.0.img=app-1.1.0.img" --slot-class appfs --name appfs) || return 1
        dev_install_manifest "$jws"
        cp "$D/img-1.1.0.img" "$WWW$FWDIR_PATH/fw-1.1.0.img"
        [ -n "${1:-}" ] || cp "$D/app-1.1.0.img" "$WWW$FWDIR_PATH/app-1.1.0.img"
}

# ---------------------------------------------------------------- 1. split A/B
split_setup
split_publish
ok $? "split: a two-image manifest (rootfs + appfs) is published"
is "$(/usr/bin/python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(" ".join(i["slotClass"] for i in m["images"]))' \
        "$D/manifest-1.1.0.json")" "rootfs appfs" "split: the manifest lists the images of both classes"
app0=$(sha "$D/app-0")
slot_a=$(sha "$D/slot-a")
secfud_once
staged 1.1.0 "split"
holds "$D/app-1.1.0.img" "$D/app-1"
ok $? "split: appfs slot 1 holds the appfs image"
is "$(sha "$D/slot-a")/$(sha "$D/app-0")" "$slot_a/$app0" "split: the running slots (rootfs A, appfs 0) are untouched"
is "$(env_var BOOT_ORDER)" "B A" "split: the bootloader order is switched once to B A"
is "$(env_var BOOT_B_LEFT)" 3 "split: slot B has its trial attempts"
is "$(env_var SECFU_INCOMPLETE)" "" "split: no incomplete mark (no single-copy class)"
is "$(fixture_count "$FWDIR_PATH/fw-1.1.0.img") $(fixture_count "$FWDIR_PATH/app-1.1.0.img")" "1 1" \
        "split: each image was requested once"
is "$(state_field "s['trial']['bootname'], s['trial']['previous']")" "B A" "split: the state records the trial of B from A"

# ---------------------------------------------------------------- 2. split, second image bad
# split_refused WHAT: the last run failed as a whole
split_refused() {
        local what=$1 pattern=$2
        [ "$ONCE_STATUS" -ne 0 ]
        ok $? "$what: secfud --once fails (exit $ONCE_STATUS)"
        once_errors | grep -qiE -- "$pattern"
        ok $? "$what: the reason on stderr matches /$pattern/ ($(once_errors | tail -1))"
        cmp -s "$D/bootenv" "$D/bootenv.before"
        ok $? "$what: the bootloader environment is byte-identical"
        is "$(sha "$D/slot-a")/$(sha "$D/app-0")" "$slot_a/$app0" "$what: the running slots (rootfs A, appfs 0) are untouched"
        dev_unchanged before "$what"
        ok "$(state_is staged && echo 1 || echo 0)" "$what: the state is not staged ($(state_field "s['state']"))"
        health=$(state_field "s['slots'].get('B', {}).get('health', 'absent')")
        case $health in bad | empty | absent) r=0 ;; *) r=1 ;; esac
        ok $r "$what: slot B (the first image's, fully written) is not offered: health $health"
        state_field "s['slots'].get('B', {}).get('version')" | grep -qx None
        ok $? "$what: slot B has no version in the state"
        [ -n "$(state_field "(s.get('lastError') or {}).get('message', '')")" ]
        ok $? "$what: the state's lastError tells why"
}

split_setup
PAYLOAD_EDIT='
for h in m["images"][1]["commitHash"]:
    h["hash"] = "0" * len(h["hash"])' split_publish
app0=$(sha "$D/app-0")
slot_a=$(sha "$D/slot-a")
cp "$D/bootenv" "$D/bootenv.before"
dev_snapshot before
secfud_once
split_refused "split, appfs digest wrong" "appfs.*(sha256|sha512|digest)"
holds "$D/img-1.1.0.img" "$D/slot-b"
ok $? "split, appfs digest wrong: the first image was downloaded in full before the second failed (the scenario tests what it means to)"

split_setup
split_publish missing-app
app0=$(sha "$D/app-0")
slot_a=$(sha "$D/slot-a")
cp "$D/bootenv" "$D/bootenv.before"
dev_snapshot before
secfud_once
split_refused "split, appfs image 404" "404"
# the next poll, with the image back, stages both
cp "$D/app-1.1.0.img" "$WWW$FWDIR_PATH/app-1.1.0.img"
secfud_once
staged 1.1.0 "split, after the 404 is healed"
holds "$D/app-1.1.0.img" "$D/app-1"
ok $? "split, after the 404 is healed: appfs slot 1 holds the appfs image"

# ---------------------------------------------------------------- 3. single-copy class
# data_setup BOOTED: rootfs A/B and a single-copy class "data" (bootname D)
data_setup() {
        dev_setup
        head -c 4194304 /dev/urandom >"$D/data-0"
        echo canary-data >"$D/data-0.canary"
        EXTRA_CONF="
[slot.data.0]
device = $D/data-0
bootname = D"
        dev_write_config
        echo "$1" >"$D/booted"
        head -c 1048576 /dev/urandom >"$D/data-1.1.0.img"
        local jws
        jws=$(dev_manifest_data) || return 1
        dev_install_manifest "$jws"
        cp "$D/data-1.1.0.img" "$WWW$FWDIR_PATH/data-1.1.0.img"
}
# a manifest whose only image is for class data
dev_manifest_data() {
        local json=$D/manifest-data.json out=$D/manifest-data.jws
        "$SECFU_MANIFEST" create --manufacturer example.com --model gw100 --version 1.1.0 \
                --image "$D/data-1.1.0.img=data-1.1.0.img" --slot-class data >"$json" || return 1
        "$SECFU_MANIFEST" sign --key "$D/factory.key" "$json" >"$out" || return 1
        echo "$out"
}

data_setup A
ok $? "single-copy: a manifest with one image for class data is published"
slot_a=$(sha "$D/slot-a")
cp "$D/bootenv" "$D/bootenv.before"
SFU_FAULT=slot-sync:kill secfud_once
is "$ONCE_STATUS" 137 "single-copy: secfud is killed at the slot sync (fault point)"
is "$(env_var SECFU_INCOMPLETE)" data "single-copy: during the in-place write the bootloader env holds SECFU_INCOMPLETE=data"
is "$(env_var BOOT_ORDER)" "A B" "single-copy: the mark is the only change of the boot order (still A B)"
health=$(state_field "s['slots'].get('D', {}).get('health', 'absent')")
case $health in good | staged | trial) r=1 ;; *) r=0 ;; esac
ok $r "single-copy: after the kill the state does not offer slot D as good (health $health)"
secfud_once
is "$ONCE_STATUS" 0 "single-copy: the next run succeeds"
holds "$D/data-1.1.0.img" "$D/data-0"
ok $? "single-copy: the data slot holds the image (written in place)"
cmp -s "$D/data-0.canary" <(echo canary-data)
ok $? "single-copy: nothing written past the end of the data slot"
is "$(env_var SECFU_INCOMPLETE)" "" "single-copy: after the verified copy the incomplete mark is gone"
is "$(env_var BOOT_ORDER)" "A B" "single-copy: no A/B switch for a single-copy image"
is "$(sha "$D/slot-a")" "$slot_a" "single-copy: the running slot A is untouched"
is "$(state_field "s['slots']['D']['health'], s['slots']['D']['version']")" "good 1.1.0" \
        "single-copy: state records slot D good with 1.1.0"
is "$(state_field "s['slots'].get('A', {}).get('health', 'absent'), s['slots'].get('A', {}).get('version', '-')")" \
        "good 1.0.0" "single-copy: the running slot A's record is unchanged (good 1.0.0)"

# single-copy class whose slot shares the booted bootname A (index 0, as
# the config rules allow): a bootname names one side of every class, so the
# slot is on the running side and is refused -- whatever the class is
# called (the slots are kept sorted by class name: "data" sorts before
# "rootfs", "zdata" after it), and the running slot A's record is kept.
for cls in data zdata; do
        data_setup A
        sed -i -e "s/^bootname = D$/bootname = A/" -e "s/^\[slot\.data\.0\]$/[slot.$cls.0]/" "$CONF"
        "$SECFU_MANIFEST" create --manufacturer example.com --model gw100 --version 1.1.0 \
                --image "$D/data-1.1.0.img=data-1.1.0.img" --slot-class "$cls" >"$D/m-$cls.json" &&
                "$SECFU_MANIFEST" sign --key "$D/factory.key" "$D/m-$cls.json" >"$D/m-$cls.jws" &&
                dev_install_manifest "$D/m-$cls.jws"
        ok $? "single-copy $cls, bootname A: config and manifest ready"
        data0=$(sha "$D/data-0")
        cp "$D/bootenv" "$D/bootenv.before"
        dev_snapshot before
        secfud_once
        refused before "$FWDIR_PATH/data-1.1.0.img" "running system" "single-copy $cls sharing the booted bootname A"
        is "$(sha "$D/data-0")" "$data0" "single-copy $cls, bootname A: the slot is not written"
        cmp -s "$D/bootenv" "$D/bootenv.before"
        ok $? "single-copy $cls, bootname A: the bootloader environment is byte-identical"
        is "$(state_field "s['slots'].get('A', {}).get('health', 'absent'), s['slots'].get('A', {}).get('version', '-')")" \
                "good 1.0.0" "single-copy $cls, bootname A: the running slot A's record still says good 1.0.0"
done

# the single-image form (no slotClass) on a device with rootfs A/B and
# appfs A/B: the image is the running system's (rootfs), not appfs's,
# which only sorts first
split_setup
dev_publish 1.1.0
app1=$(sha "$D/app-1")
secfud_once
staged 1.1.0 "single-image manifest on a rootfs+appfs device"
is "$(sha "$D/app-1")" "$app1" "single-image manifest on a rootfs+appfs device: appfs slot 1 is not written"

# ---------------------------------------------------------------- 4. single-copy running system
data_setup D
data0=$(sha "$D/data-0")
cp "$D/bootenv" "$D/bootenv.before"
dev_snapshot before
secfud_once
[ "$ONCE_STATUS" -ne 0 ]
ok $? "single-copy running: secfud --once fails (exit $ONCE_STATUS)"
once_errors | grep -qiE "running system"
ok $? "single-copy running: the reason says the slot is the running system ($(once_errors | tail -1))"
is "$(sha "$D/data-0")" "$data0" "single-copy running: the data slot is not written"
cmp -s "$D/bootenv" "$D/bootenv.before"
ok $? "single-copy running: the bootloader environment is byte-identical"
is "$(fixture_count "$FWDIR_PATH/data-1.1.0.img")" 0 "single-copy running: no image byte was requested"

# a device whose rootfs is single-copy (no B), booted from it
dev_setup
/usr/bin/python3 - "$CONF" <<'PY'
import re, sys
p = sys.argv[1]
t = open(p).read()
t = re.sub(r"\[slot\.rootfs\.1\]\ndevice = [^\n]*\nbootname = B\n", "", t)
open(p, "w").write(t)
PY
grep -q 'slot.rootfs.1' "$CONF"
ok $((!$?)) "single-copy rootfs: the config has one rootfs slot"
dev_publish 1.1.0
slot_b=$(sha "$D/slot-b")
cp "$D/bootenv" "$D/bootenv.before"
dev_snapshot before
secfud_once
refused before "$(dev_image_path 1.1.0)" "running system" "single-copy rootfs booted from its only slot"
cmp -s "$D/bootenv" "$D/bootenv.before"
ok $? "single-copy rootfs: the bootloader environment is byte-identical"
is "$(env_var SECFU_INCOMPLETE)" "" "single-copy rootfs: no incomplete mark"

dev_teardown
diag "runtime $(($(date +%s) - T_START)) s"
tap_done
