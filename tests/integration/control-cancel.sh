#!/bin/bash
# secfuctl cancel during a slow download (the fixture server drips the
# image): the apply ends with an error that says so, cancel answers once
# the job has stopped, the running slot and the bootloader environment
# are byte-identical to before, and the next apply works.  TAP output.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/control-lib.sh
. "$top_srcdir/tests/integration/control-lib.sh"
ctl_require curl sha256sum

ctl_running 4000000

# About 40 s for the whole image: cancel comes long before the end.
fixture_rule "$IMG" '{"drip": {"bytes": 16384, "interval": 0.15}}' >/dev/null
sha256sum "$D/slot-a" "$D/bootenv" >"$D/before.sha"
cp "$D/bootenv" "$D/bootenv.before"

timeout 120 "$SECFUCTL" -s "$SOCK" apply >"$D/apply.out" 2>"$D/apply.err" &
apply=$!
downloading=no
for ((i = 0; i < 100; i++)); do
        done_bytes=$(dev_ctl status --json | json_get 'd["progress"]["done"] if d["progress"] else 0')
        if [ "$done_bytes" -gt 0 ] 2>/dev/null; then
                downloading=yes
                break
        fi
        sleep 0.1
done
is "$downloading" yes "the download is under way"
is "$(dev_ctl status --json | json_get 'd["state"], d["busy"], d["progress"]["phase"]')" \
        "('downloading', True, 'downloading')" "status shows the running download"
out=$(dev_ctl check 2>&1)
is "$?" 1 "check while the apply runs: exit 1"
check "check while the apply runs: busy" test -n "$(grep 'another operation is running' <<<"$out")"

start=$(date +%s%N)
out=$(dev_ctl cancel)
rc=$?
end=$(date +%s%N)
is "$rc" 0 "cancel exits 0"
is "$out" "cancelled" "cancel answers when the job has stopped"
is "$(( (end - start) < 10000000000 ))" 1 "cancel took less than 10 s"
is "$(dev_ctl status --json | json_get 'd["busy"]')" false "no operation runs after cancel"
wait "$apply"
is "$?" 1 "the cancelled apply exits 1"
check "the cancelled apply says so" test -n "$(grep -i 'cancel' "$D/apply.err")"
sha256sum -c --quiet "$D/before.sha"
is "$?" 0 "running slot A and the bootloader environment are byte-identical"
cmp -s "$D/bootenv" "$D/bootenv.before"
is "$?" 0 "bootloader environment unchanged (cmp)"
dev_ctl status --json >"$D/status.json"
is "$(json_get 'd["bootedSlot"], d["primarySlot"], d["stagedVersion"], d["slots"][0]["health"]' <"$D/status.json")" \
        "('A', 'A', None, 'good')" "status: A still booted, primary and good, nothing staged"
is "$(json_get 'd["slots"][1]["health"] in ("bad", "empty")' <"$D/status.json")" true \
        "status: the inactive slot is not offered as good"
is "$(json_get 'd["lastError"]["code"]' <"$D/status.json")" network "status: the last error is the cancelled download"

out=$(dev_ctl cancel 2>&1)
is "$?" 1 "a second cancel finds nothing to cancel (exit 1)"

# The daemon is fine afterwards: the same update installs.
fixture_clear "$IMG" >/dev/null
out=$(dev_ctl apply --json)
is "$?" 0 "the next apply succeeds"
is "$(json_get 'd["result"]' <<<"$out")" staged "... and stages the update"
cmp -s "$D/img-1.1.0.img" <(head -c "$CTL_IMAGE_SIZE" "$D/slot-b")
is "$?" 0 "slot B holds the whole image"

ctl_done
