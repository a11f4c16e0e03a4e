#!/bin/bash
# The happy path against nginx, a real web server as a firmware cache would
# run it: stage 1.1.0, a conditional re-poll answered 304 with no image
# request, reboot into the trial, mark-good.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
. "$top_srcdir/tests/lib/nginx.sh"
command -v nginx >/dev/null || skip_all "nginx not installed (apt-get install nginx-light)"

dev_setup
trap 'nginx_stop; dev_cleanup' EXIT
dev_publish 1.1.0 "$D/nginx-www"
nginx_start "$D/nginx" "$D/nginx-www" || bail "nginx did not start"
MANUFACTURER_URL="$NGINX_URL$MANIFEST_PATH"
dev_write_config
requests() { sleep 0.1; cat "$D/nginx/access.log" 2>/dev/null; }

slot_a_before=$(sha256sum <"$D/slot-a")
secfud_once
ok $(( ONCE_STATUS == 0 ? 0 : 1 )) "secfud --once against nginx exits 0"
state_is staged; ok $? "state staged"
slot_b_is "$D/img-1.1.0.img"; ok $? "slot B holds the image nginx served"
env_has "BOOT_ORDER=B A"; ok $? "the bootloader tries B first"
[ "$(sha256sum <"$D/slot-a")" = "$slot_a_before" ]; ok $? "slot A (running) untouched"

lines_before=$(requests | wc -l)
secfud_once
ok $(( ONCE_STATUS == 0 ? 0 : 1 )) "a second poll exits 0"
new=$(requests | tail -n +$((lines_before + 1)))
diag "second poll: $(printf '%s' "$new" | tr '\n' ';')"
[ "$(printf '%s\n' "$new" | grep -c .)" -eq 1 ]; ok $? "the second poll makes one request"
printf '%s\n' "$new" | grep -q "manifest.json 304"; ok $? "answered 304 Not Modified (conditional GET)"
! printf '%s\n' "$new" | grep -q "\.img"; ok $? "no image byte requested again"
state_is staged; ok $? "still staged"

reboot_sim >/dev/null
[ "$(booted_now)" = B ]; ok $? "the simulated reboot boots B"
echo 1.1.0 >"$D/version"
secfud_once
state_is trial; ok $? "after the reboot: trial"
if [ -x "$SECFUCTL" ]; then
        dev_daemon_start
        dev_ctl mark-good >/dev/null 2>&1; ok $? "secfuctl mark-good"
        dev_daemon_stop
        state_is committed; ok $? "committed"
        [ "$(state_field "s['highestInstalled']")" = 1.1.0 ]; ok $? "highest installed rose to 1.1.0 on commit"
else
        for what in "secfuctl mark-good" "committed" "highest installed rose to 1.1.0 on commit"; do
                skip "$what" "secfuctl not built"
        done
fi
tap_done
