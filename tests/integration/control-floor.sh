#!/bin/bash
# allowDowngrade against the anti-rollback floor, over the socket and over
# D-Bus: on a device that committed 1.1.0 (staged, booted on trial by the
# boot simulator, marked good), a validly signed 0.9.0 is refused below
# the floor whatever the caller asks (--allow-downgrade, allow-downgrade =
# yes in the config, root, a secfu member), and rollback and mark-bad
# refuse to go below it; when the committed manifest said
# "rollbackFloor": "0.5.0", --allow-downgrade stages 0.9.0, plain apply
# refuses it by version order, and 0.4.0 stays below the floor.  Every
# refusal leaves the slots, the bootloader environment and the installed
# versions as they were and fetches no image byte.  TAP output.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"
# shellcheck source=tests/integration/control-dev-lib.sh
. "$top_srcdir/tests/integration/control-dev-lib.sh"
dev_require
[ -x "$SECFUCTL" ] || skip_all "$SECFUCTL is not built"

DEST=org.secfu.Daemon1
OBJ=/org/secfu/Daemon1
status_of() { ctl status --json | jget "$1"; }

# device FACTORY-VERSION [PAYLOAD-EDIT-OF-1.1.0]: a fresh device running
# FACTORY-VERSION that staged 1.1.0, booted it on trial and committed it;
# secfud serving on it, on a private bus too.
device() {
        cdev_stop
        bus_stop
        cdev_setup || cdev_bail "no device"
        echo "$1" >"$D/version"
        cdev_group
        PAYLOAD_EDIT=${2:-} dev_publish 1.1.0 || cdev_bail "cannot publish 1.1.0"
        bus_start || cdev_bail "dbus-daemon does not start: $(cat "$D/bus.log")"
        cdev_start || cdev_bail "secfud does not start"
        is "$(status_of 'd["rollbackFloor"]')" "$1" "factory $1: the floor starts at the running version"
        is "$(ctl apply --json | jget 'd["result"], d["version"]')" "('staged', '1.1.0')" "factory $1: 1.1.0 staged"
        cdev_stop
        reboot_sim >/dev/null 2>&1 || cdev_bail "bootsim failed"
        is "$(booted_now)" B "factory $1: the simulated reboot starts B"
        echo 1.1.0 >"$D/version"
        cdev_start || cdev_bail "secfud does not restart"
        is "$(ctl mark-good --json | jget 'd["slot"], d["result"]')" "('B', 'committed')" "factory $1: 1.1.0 committed"
}

# downgrade VERSION: a validly signed VERSION whose image (served) is named
# by an absolute URL; the manifest also served at $SERVER/manifest-VERSION.jws.
downgrade() {
        local m
        m=$(PAYLOAD_EDIT="m['firmwareLocation'] = '$SERVER$(dev_image_path "$1")'" dev_manifest "$1") ||
                cdev_bail "cannot sign $1"
        mkdir -p "$WWW$(dirname "$(dev_image_path "$1")")"
        cp "$D/img-$1.img" "$WWW$(dev_image_path "$1")"
        cp "$m" "$WWW/manifest-$1.jws"
        chmod 0644 "$m"
        echo "$m"
}

# refused_below WHAT PATTERN COMMAND...: COMMAND exits 1 and says PATTERN.
refused_below() {
        local what=$1 pattern=$2 out rc
        shift 2
        out=$("$@" 2>&1)
        rc=$?
        is "$rc" 1 "$what: refused (exit 1)"
        grep -qE -- "$pattern" <<<"$out"
        ok $? "$what: says /$pattern/"
        [ -n "$(grep -E -- "$pattern" <<<"$out")" ] || diag "  said: $out"
}

# ---------------------------------------------------------------- the floor is 1.1.0
device 1.0.0
is "$(status_of 'd["rollbackFloor"], d["highestInstalled"]')" "('1.1.0', '1.1.0')" \
        "commit without a rollbackFloor in the manifest: the floor rises to 1.1.0"
M09=$(downgrade 0.9.0)
URL09=$SERVER/manifest-0.9.0.jws
BELOW='firmwareVersion 0\.9\.0 is below the anti-rollback floor 1\.1\.0'
dev_snapshot floor
refused_below "socket, root, apply --allow-downgrade FILE" "$BELOW" ctl apply --allow-downgrade "$D/manifest-0.9.0.jws"
refused_below "socket, root, apply --allow-downgrade URL" "$BELOW" ctl apply --allow-downgrade "$URL09"
refused_below "socket, root, apply FILE (no --allow-downgrade)" "$BELOW|downgrade refused" ctl apply "$M09"
if [ -n "$SECFU_GID" ]; then
        refused_below "socket, a secfu member, apply --allow-downgrade FILE" "$BELOW" \
                as_member "$SECFUCTL" -s "$SOCK" apply --allow-downgrade "$M09"
else
        skip "socket, a secfu member, apply --allow-downgrade FILE: refused (exit 1)" "no secfu group"
        skip "socket, a secfu member, apply --allow-downgrade FILE: says why" "no secfu group"
fi
refused_below "D-Bus, root, apply --allow-downgrade FILE" "$BELOW" \
        timeout 60 "$SECFUCTL" --dbus apply --allow-downgrade "$M09"
refused_below "D-Bus, root, apply --allow-downgrade URL" "$BELOW" \
        timeout 60 "$SECFUCTL" --dbus apply --allow-downgrade "$URL09"
out=$(bctl call "$DEST" "$OBJ" "$DEST" Apply sbbb "$URL09" true true false 2>&1)
is "$?" 1 "D-Bus, busctl Apply with allow_downgrade true: an error"
check "... PolicyRefused, below the floor" grep -qE "$BELOW" <<<"$out"
is "$(status_of 'd["lastError"]["code"]')" policy "status: lastError is a policy refusal"

refused_below "socket, rollback to A (1.0.0)" \
        'slot A holds 1\.0\.0, below the anti-rollback floor 1\.1\.0; refusing to roll back to it' ctl rollback
refused_below "D-Bus, rollback to A (1.0.0)" 'below the anti-rollback floor 1\.1\.0' \
        timeout 60 "$SECFUCTL" --dbus rollback
refused_below "socket, mark-bad of the committed B (the next boot would be 1.0.0)" \
        'slot A holds 1\.0\.0, below the anti-rollback floor 1\.1\.0; refusing to mark the running slot bad' \
        ctl mark-bad

# allow-downgrade = yes in the config: version order only, never the floor.
cdev_stop
EXTRA_CONF=$'[security]\nallow-downgrade = yes'
dev_write_config
cdev_start || cdev_bail "secfud does not start with allow-downgrade = yes"
refused_below "config allow-downgrade = yes, socket, apply FILE" "$BELOW" ctl apply "$M09"
refused_below "config allow-downgrade = yes, socket, apply --allow-downgrade FILE" "$BELOW" \
        ctl apply --allow-downgrade "$M09"
refused_below "config allow-downgrade = yes, D-Bus, apply --allow-downgrade FILE" "$BELOW" \
        timeout 60 "$SECFUCTL" --dbus apply --allow-downgrade "$M09"
is "$(fixture_count "$(dev_image_path 0.9.0)")" 0 "no byte of the 0.9.0 image was requested"
dev_unchanged floor "the refusals below the floor"
is "$(status_of 'd["rollbackFloor"], d["primarySlot"], d["state"]')" "('1.1.0', 'B', 'committed')" \
        "the floor, the primary slot and the state are as before"
EXTRA_CONF=""

# ---------------------------------------------------------------- the manifest said rollbackFloor 0.5.0
device 0.1.0 "m['rollbackFloor'] = '0.5.0'"
is "$(status_of 'd["rollbackFloor"], d["highestInstalled"]')" "('0.5.0', '1.1.0')" \
        "commit of a manifest with rollbackFloor 0.5.0: the floor is 0.5.0"
M09=$(downgrade 0.9.0)
M04=$(downgrade 0.4.0)
dev_snapshot floor2
refused_below "floor 0.5.0, socket, apply FILE of 0.9.0 without --allow-downgrade" \
        'firmwareVersion 0\.9\.0 is older than the running 1\.1\.0: downgrade refused' ctl apply "$M09"
refused_below "floor 0.5.0, D-Bus, apply FILE of 0.9.0 without --allow-downgrade" 'downgrade refused' \
        timeout 60 "$SECFUCTL" --dbus apply "$M09"
refused_below "floor 0.5.0, socket, apply --allow-downgrade of 0.4.0" \
        'firmwareVersion 0\.4\.0 is below the anti-rollback floor 0\.5\.0' ctl apply --allow-downgrade "$M04"
refused_below "floor 0.5.0, D-Bus, apply --allow-downgrade of 0.4.0" 'below the anti-rollback floor 0\.5\.0' \
        timeout 60 "$SECFUCTL" --dbus apply --allow-downgrade "$M04"
refused_below "floor 0.5.0, rollback to A (0.1.0)" 'slot A holds 0\.1\.0, below the anti-rollback floor 0\.5\.0' \
        ctl rollback
dev_unchanged floor2 "the refusals with floor 0.5.0"

out=$(timeout 120 "$SECFUCTL" --dbus apply --allow-downgrade --json "$M09")
is "$?" 0 "floor 0.5.0, D-Bus, apply --allow-downgrade of 0.9.0: exit 0"
is "$(jget 'd["result"], d["version"]' <<<"$out")" "('staged', '0.9.0')" "... 0.9.0 staged"
size=$(stat -c %s "$D/img-0.9.0.img")
cmp -s -n "$size" "$D/img-0.9.0.img" "$D/slot-a"
ok $? "... into slot A (the one not running)"
env_has "BOOT_ORDER=A B"
ok $? "... and the bootloader tries A first"
is "$(status_of 'd["state"], d["stagedVersion"], d["rollbackFloor"]')" "('staged', '0.9.0', '0.5.0')" \
        "status: staged 0.9.0, the floor unchanged"
out=$(ctl apply --allow-downgrade --json "$M09")
is "$(jget 'd["result"], d["version"]' <<<"$out")" "('staged', '0.9.0')" \
        "floor 0.5.0, socket, apply --allow-downgrade of 0.9.0: staged already"

cdev_stop
is "$?" 0 "secfud exits cleanly"
check "no sanitizer reports in secfud's log" test -z "$(grep -E 'Sanitizer|runtime error:' "$D/daemon.log")"
tap_done
