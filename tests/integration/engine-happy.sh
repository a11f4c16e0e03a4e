#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: the install engine's whole path, A -> B, with the file and the grub
# bootloader backends: secfud --once finds, verifies, downloads and stages
# 1.1.0 in slot B; a simulated reboot starts B on trial; a trial that never
# comes up makes the bootloader fall back to A, and secfud reports the
# rollback, keeps A and does not stage the failed version again.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"
dev_require

# the first field of BOOT_ORDER (file backend) or ORDER (grubenv)
primary_in_env() {
        if [ "${BACKEND:-file}" = grub ]; then
                grub-editenv "$D/grubenv" list | sed -n 's/^ORDER=\([^ ]*\).*/\1/p'
        else
                sed -n 's/^BOOT_ORDER=\([^ ]*\).*/\1/p' "$D/bootenv"
        fi
}

# to_trial: 1.1.0 staged, rebooted into B, confirmed as trial by a poll
to_trial() {
        dev_publish 1.1.0
        secfud_once
        reboot_sim >/dev/null 2>&1
        echo 1.1.0 >"$D/version"
        secfud_once
}
# fall_back: the trial never comes up: every attempt of B fails, then A boots
fall_back() {
        local i
        if [ "${BACKEND:-file}" = grub ]; then
                # B used its one try without being confirmed
                reboot_sim >/dev/null 2>&1
        else
                for i in 1 2 3 4 5; do
                        grep -qx 'BOOT_B_LEFT=0' "$D/bootenv" && break
                        reboot_sim --fail-boot >/dev/null 2>&1
                done
                reboot_sim >/dev/null 2>&1
        fi
        echo 1.0.0 >"$D/version"
}

# check_rollback WHAT: after fall_back, a poll that may stage (policy
# stage) must report the rollback, keep A first and not stage the failed
# 1.1.0 again.
check_rollback() {
        local what=$1 img_before
        img_before=$(fixture_count "$(dev_image_path 1.1.0)")
        secfud_once
        is "$ONCE_STATUS" 0 "$what: secfud --once after the fall-back succeeds"
        is "$(state_field "s['state']")" rolled-back "$what: state is rolled-back"
        state_field "s['reason']" | grep -qiE 'trial|fell back'
        ok $? "$what: the state's reason tells why ($(state_field "s['reason']"))"
        is "$(state_field "(s['lastError'] or {}).get('code')")" trial "$what: lastError code trial"
        is "$(state_field "s['slots']['B']['health']")" bad "$what: slot B is bad"
        is "$(primary_in_env)" A "$what: the bootloader environment names A first again"
        is "$(fixture_count "$(dev_image_path 1.1.0)")" "$img_before" \
                "$what: the failed 1.1.0 is not downloaded again"
}

# check_stays_on_a WHAT: after fall_back, with polls that only look
# (policy check), the following boots keep starting A: the failed B is not
# tried again when A's attempts run out.
check_stays_on_a() {
        local what=$1 i booted=""
        POLICY=check dev_write_config
        secfud_once
        is "$(state_field "s['slots']['B']['health']")" bad "$what: a poll after the fall-back marks slot B bad"
        for i in 1 2 3 4; do
                reboot_sim >/dev/null 2>&1
                booted="$booted$(booted_now)"
                secfud_once
        done
        is "$booted" AAAA "$what: four more reboots (each with a poll) all start A"
        dev_write_config
}

# ---------------------------------------------------------------- file backend
dev_setup
dev_publish 1.1.0
IMG=$(dev_image_path 1.1.0)
slot_a=$(sha256sum <"$D/slot-a")
dev_snapshot fresh
secfud_once
staged 1.1.0 "file backend"
is "$(sha256sum <"$D/slot-a")" "$slot_a" "file backend: the running slot A is untouched"
cmp -s "$D/slot-a.canary" <(echo canary-a) && cmp -s "$D/slot-b.canary" <(echo canary-b)
ok $? "file backend: nothing written past the end of a slot"
is "$(fixture_count "$IMG")" 1 "file backend: the image was requested once"
is "$(state_field "s['newestSeen']['source'], s['newestSeen']['version']")" "manufacturer 1.1.0" \
        "file backend: newestSeen names 1.1.0 from the manufacturer"
is "$(state_field "s['highestInstalled']")" 1.0.0 "file backend: staging does not raise highestInstalled"

secfud_once
is "$ONCE_STATUS" 0 "second --once before the reboot succeeds"
is "$(fixture_count "$IMG")" 1 "second --once does not download the staged image again"
is "$(state_field "s['state']")" staged "second --once: still staged"

reboot_sim >/dev/null 2>&1
is "$(booted_now)" B "reboot: the bootloader starts B"
echo 1.1.0 >"$D/version" # what the new firmware would say
secfud_once
is "$ONCE_STATUS" 0 "--once on the trial boot succeeds"
is "$(state_field "s['state'], s['slots']['B']['health'], s['slots']['B']['version']")" "trial trial 1.1.0" \
        "--once on the trial boot: state trial, slot B on trial with 1.1.0"
is "$(fixture_count "$IMG")" 1 "--once on the trial boot downloads nothing"
is "$(state_field "s['highestInstalled']")" 1.0.0 "a trial does not raise highestInstalled"
if [ -x "$SECFUCTL" ]; then
        dev_daemon_start
        ok $? "secfud serves its control socket"
        dev_ctl mark-good >/dev/null 2>"$D/ctl.err"
        is "$?" 0 "secfuctl mark-good on the trial boot succeeds"
        dev_daemon_stop
        is "$?" 0 "secfud exits cleanly on SIGTERM"
        is "$(state_field "s['state'], s['slots']['B']['health'], s['highestInstalled']")" "committed good 1.1.0" \
                "mark-good: state committed, slot B good, highestInstalled 1.1.0"
        is "$(primary_in_env)" B "mark-good: the bootloader keeps B first"
        env_has "BOOT_B_LEFT=3"
        ok $? "mark-good: slot B's boot attempts are reset"
        dev_publish 1.0.5
        dev_snapshot s
        secfud_once
        refused s "$(dev_image_path 1.0.5)" "not newer|rollback|downgrade" \
                "after the commit, 1.0.5 (older than the running 1.1.0)"
else
        skip "mark-good commits the trial" "secfuctl is not built"
fi

# the trial never comes up: every attempt of B fails, then A boots
dev_setup
to_trial
fall_back
is "$(booted_now)" A "file backend: after the failed attempts the bootloader falls back to A"
check_rollback "file backend"

# a newer release after the rollback is staged as usual
dev_publish 1.2.0
secfud_once
staged 1.2.0 "after the rollback, 1.2.0"

dev_setup
to_trial
fall_back
check_stays_on_a "file backend"

# ---------------------------------------------------------------- grub backend
if ! command -v grub-editenv >/dev/null 2>&1; then
        skip "grub backend" "grub-editenv is not installed"
        tap_done
        exit
fi
BACKEND=grub
dev_setup
BOOTENV_PATH=$D/grubenv
grub-editenv "$D/grubenv" create
grub-editenv "$D/grubenv" set ORDER="A B" A_OK=1 A_TRY=0 B_OK=1 B_TRY=0
dev_publish 1.1.0
secfud_once
staged 1.1.0 "grub backend"
is "$(grub-editenv "$D/grubenv" list | sort | tr '\n' ' ')" "A_OK=1 A_TRY=0 B_OK=1 B_TRY=0 ORDER=B A " \
        "grub backend: grubenv says ORDER=\"B A\", B_OK=1, B_TRY=0"
is "$(stat -c %s "$D/grubenv")" 1024 "grub backend: the grubenv block keeps its 1024 bytes"
reboot_sim >/dev/null 2>&1
is "$(booted_now)" B "grub backend: reboot starts B"
echo 1.1.0 >"$D/version"
secfud_once
is "$(state_field "s['state'], s['slots']['B']['health']")" "trial trial" "grub backend: state trial"
fall_back
is "$(booted_now)" A "grub backend: the unconfirmed B is not tried again; A boots"
check_rollback "grub backend"

dev_setup
BOOTENV_PATH=$D/grubenv
grub-editenv "$D/grubenv" create
grub-editenv "$D/grubenv" set ORDER="A B" A_OK=1 A_TRY=0 B_OK=1 B_TRY=0
to_trial
fall_back
check_stays_on_a "grub backend"

tap_done
