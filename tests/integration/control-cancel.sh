#!/bin/bash
# secfuctl cancel during a slow download (the fixture server drips the
# image): the apply ends with an error that says so, cancel answers once
# the job has stopped, the running slot and the bootloader environment
# are byte-identical to before, and the next apply works.  TAP output.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/control-lib.sh
. "$top_srcdir/tests/integration/control-lib.sh"
ctl_require curl sha256sum
trap ctl_cleanup EXIT

CTL_IMAGE_SIZE=4000000
ctl_setup
ctl_start || bail "secfud does not start"
IMAGE_PATH=/.well-known/firmware/example.com/gw100/fw-1.1.0.img

# About 40 s for the whole image: cancel comes long before the end.
fixture_rule "$IMAGE_PATH" '{"drip": {"bytes": 16384, "interval": 0.15}}' >/dev/null
sha256sum "$W/slotA.img" "$W/bootenv" >"$W/before.sha"
cp "$W/bootenv" "$W/bootenv.before"

timeout 120 "$SECFUCTL" -s "$SOCK" apply >"$W/apply.out" 2>"$W/apply.err" &
apply=$!
downloading=no
for ((i = 0; i < 100; i++)); do
        done_bytes=$(sfctl status --json | json_get 'd["progress"]["done"] if d["progress"] else 0')
        if [ "$done_bytes" -gt 0 ] 2>/dev/null; then
                downloading=yes
                break
        fi
        sleep 0.1
done
is "$downloading" yes "the download is under way"
is "$(sfctl status --json | json_get 'd["state"], d["busy"], d["progress"]["phase"]')" \
        "('downloading', True, 'downloading')" "status shows the running download"
out=$(sfctl check 2>&1)
is "$?" 1 "check while the apply runs: exit 1"
cond "check while the apply runs: busy" -n "$(grep 'another operation is running' <<<"$out")"

start=$(date +%s%N)
out=$(sfctl cancel)
rc=$?
end=$(date +%s%N)
is "$rc" 0 "cancel exits 0"
is "$out" "cancelled" "cancel answers when the job has stopped"
is "$(( (end - start) < 10000000000 ))" 1 "cancel took less than 10 s"
is "$(sfctl status --json | json_get 'd["busy"]')" false "no operation runs after cancel"
wait "$apply"
is "$?" 1 "the cancelled apply exits 1"
cond "the cancelled apply says so" -n "$(grep -i 'cancel' "$W/apply.err")"
sha256sum -c --quiet "$W/before.sha"
is "$?" 0 "running slot A and the bootloader environment are byte-identical"
cmp -s "$W/bootenv" "$W/bootenv.before"
is "$?" 0 "bootloader environment unchanged (cmp)"
sfctl status --json >"$W/status.json"
is "$(json_get 'd["bootedSlot"], d["primarySlot"], d["stagedVersion"], d["slots"][0]["health"]' <"$W/status.json")" \
        "('A', 'A', None, 'good')" "status: A still booted, primary and good, nothing staged"
is "$(json_get 'd["slots"][1]["health"] in ("bad", "empty")' <"$W/status.json")" true \
        "status: the inactive slot is not offered as good"
is "$(json_get 'd["lastError"]["code"]' <"$W/status.json")" network "status: the last error is the cancelled download"

out=$(sfctl cancel 2>&1)
is "$?" 1 "a second cancel finds nothing to cancel (exit 1)"

# The daemon is fine afterwards: the same update installs.
fixture_clear "$IMAGE_PATH" >/dev/null
out=$(sfctl apply --json)
is "$?" 0 "the next apply succeeds"
is "$(json_get 'd["result"]' <<<"$out")" staged "... and stages the update"
cmp -s "$W/fw-1.1.0.img" <(head -c "$CTL_IMAGE_SIZE" "$W/slotB.img")
is "$?" 0 "slot B holds the whole image"

ctl_done
