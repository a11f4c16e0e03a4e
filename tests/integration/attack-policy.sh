#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: validly signed manifests that a device must still refuse (DESIGN
# section 5, freshness and policy): downgrades, malformed versions, replays
# of older manifests, a withheld image, manifests for another (or a
# look-alike) manufacturer or model, expired manifests and a wrong device
# clock, image locations outside http(s), images over max-image-size or for
# a slot class the device lacks.  Every manifest here is signed by the
# factory key, so each refusal is a policy decision; each has a positive
# twin on the same fixture.
#
# The device clock: faketime is not a build dependency, so a wrong clock is
# emulated by moving the manifest instead of the clock.  A device clock D
# days ahead sees a manifest valid from now for less than D days as a
# manifest that expired in the past; a device clock set back (RTC lost, NTP
# spoofed) sees an old, expired manifest as one whose expiry lies in the
# future.  secfud reads the clock only to compare with "expires"; the
# replay floor (the newest accepted timestamp) does not depend on it.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/attack-lib.sh
. "$top_srcdir/tests/integration/attack-lib.sh"
att_require
att_setup

# signed VERSION EDIT [create options...]: a manifest for VERSION whose
# payload PAYLOAD_EDIT EDIT changed, signed by the factory key with
# secfu-manifest (which warns about, but signs, a payload it would not
# accept); prints its path.
signed() {
        local version=$1 edit=$2
        shift 2
        OUT=edited PAYLOAD_EDIT=$edit att_payload "$version" "$@" >/dev/null 2>"$D/sign.err" || return 1
        echo "$D/signed-edited.jws"
}
# neg_edit DESCRIPTION PATTERN VERSION EDIT [create options...]
neg_edit() {
        local desc=$1 pattern=$2 version=$3 edit=$4 jws
        shift 4
        if ! jws=$(signed "$version" "$edit" "$@"); then
                ok 1 "$desc: cannot make the manifest"
                return
        fi
        att_try "$jws"
        att_refused "$(dev_image_path "$version")" "$pattern" "$desc"
}
# pos_edit DESCRIPTION VERSION EDIT [create options...]: stages VERSION.
pos_edit() {
        local desc=$1 version=$2 edit=$3 jws
        shift 3
        if ! jws=$(signed "$version" "$edit" "$@"); then
                ok 1 "$desc: cannot make the manifest"
                return
        fi
        att_try "$jws"
        staged "$version" "$desc"
        att_daemon_report "$desc"
}
# up_to_date DESCRIPTION VERSION: the last run found nothing to do and
# requested no image.
up_to_date() {
        local desc=$1 version=$2
        is "$ONCE_STATUS" 0 "$desc: $ATT_RUN succeeds"
        once_log_has "up to date ($version"
        ok $? "$desc: it says up to date"
        is "$(att_count "$(dev_image_path "$version")")" 0 "$desc: no image byte was requested"
        dev_unchanged s "$desc"
        att_daemon_report "$desc"
}
# available VERSION DESCRIPTION: with policy = check, the last run accepted
# the manifest for VERSION and requested no image.
available() {
        local version=$1
        shift
        is "$ONCE_STATUS" 0 "$*: $ATT_RUN succeeds"
        is "$(state_field "s['state'], s['reason'].split(' ')[0]")" "available $version" "$*: state available, $version"
        is "$(att_count "$(dev_image_path "$version")")" 0 "$*: no image byte was requested (policy = check)"
        att_daemon_report "$*"
}
rfc3339() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }

# ---------------------------------------------------------------- downgrade, equal version
neg_edit "downgrade to 0.9.0" 'firmwareVersion 0\.9\.0 is older than the running 1\.0\.0: downgrade refused' 0.9.0 ""
neg_edit "downgrade to 0.9.0 in a manifest that claims allowDowngrade" 'downgrade refused' 0.9.0 \
        "m['allowDowngrade'] = True; m['allow-downgrade'] = 'yes'"
neg_edit "downgrade to 0.9.9 with a timestamp in 2099" 'downgrade refused' 0.9.9 "" --timestamp 2099-01-01T00:00:00Z
neg_edit "downgrade to 0.999999999.999999999" 'downgrade refused' 0.999999999.999999999 ""
pos_edit "twin: 1.1.0, the same way" 1.1.0 ""

att_try "$(signed 1.0.0 "")"
up_to_date "the running version 1.0.0 again" 1.0.0
rm -f "$D/img-1.0.0.img"
att_try "$(SIZE=4096 signed 1.0.0 "")"
up_to_date "1.0.0 with another image (same version, other bytes)" 1.0.0

# ---------------------------------------------------------------- malformed versions
v=0
while IFS= read -r -u 3 version; do
        v=$((v + 1))
        neg_edit "firmwareVersion \"$version\"" '"firmwareVersion" (.*is not a version|contains a control|is empty)' \
                1.1.0 "m['firmwareVersion'] = json.loads(open('$D/v$v').read())"
done 3< <(/usr/bin/python3 - "$D" <<'PY'
import json, sys
versions = ["01.1.0", "1.01.0", "1.1.00", "1234567890.0.0", "4294967297.0.0", "1.1.0.0", "-1.1.0",
            "1.-1.0", "1.1", "1..0", "1.1.0 ", " 1.1.0", "1.1.0-rc1", "v1.1.0", "+1.1.0", "0x1.1.0",
            "\uff11.1.0", "1.1.0\n", "1.1.0\u0085", "", "1,1,0"]
for i, v in enumerate(versions, 1):
    open("%s/v%d" % (sys.argv[1], i), "w").write(json.dumps(v))
    print(v.replace("\n", "\\n").replace("\u0085", "\\u0085"))
PY
)
neg_edit "firmwareVersion a number" '"firmwareVersion" is not a string' 1.1.0 "m['firmwareVersion'] = 1.1"
neg_edit "firmwareVersion a list" '"firmwareVersion" is not a string' 1.1.0 "m['firmwareVersion'] = [1, 1, 0]"
neg_edit "no firmwareVersion" 'no "firmwareVersion"' 1.1.0 "del m['firmwareVersion']"
pos_edit "twin: firmwareVersion \"1.1.0\" set the same way" 1.1.0 "m['firmwareVersion'] = '1.1.0'"
pos_edit "twin: the largest version, 999999999.999999999.999999999" 999999999.999999999.999999999 ""

# ---------------------------------------------------------------- manufacturer and model, look-alikes
while IFS=$'\t' read -r -u 3 field value shown; do
        neg_edit "$field \"$shown\"" "manifest is for $field" 1.1.0 \
                "m['$field'] = json.loads('\"$value\"')"
done 3<<'LIST'
manufacturer	example.org	example.org
manufacturer	Example.com	Example.com
manufacturer	ex\u0430mple.com	ex<U+0430 Cyrillic a>mple.com
manufacturer	exam\u0440le.com	exam<U+0440 Cyrillic er>le.com
manufacturer	example.com.	example.com.
manufacturer	example.com 	example.com<space>
manufacturer	\u200bexample.com	<U+200B zero width space>example.com
manufacturer	example\u3002com	example<U+3002 ideographic full stop>com
model	gw101	gw101
model	GW100	GW100
model	gw1\u043e\u043e	gw1<U+043E U+043E Cyrillic o o>
model	gw100\u00a0	gw100<U+00A0 no-break space>
model	\uff47\uff57100	<fullwidth gw>100
model	gw1\u200d00	gw1<U+200D zero width joiner>00
model	gw100\u0301	gw100<U+0301 combining acute>
LIST
neg_edit "model with a control character" '"model" contains a control character' 1.1.0 "m['model'] = 'gw100\x1b[2J'"
pos_edit "twin: manufacturer and model set the same way, exactly" 1.1.0 \
        "m['manufacturer'] = json.loads('\"example.com\"'); m['model'] = json.loads('\"gw100\"')"

# ---------------------------------------------------------------- image locations
neg_edit 'firmwareLocation "file:///dev/mmcblk0"' 'only http and https' 1.1.0 "m['firmwareLocation'] = 'file:///dev/mmcblk0'"
neg_edit 'firmwareLocation "ftp://"' 'only http and https' 1.1.0 "m['firmwareLocation'] = 'ftp://127.0.0.1/fw-1.1.0.img'"
neg_edit 'firmwareLocation "data:"' 'only http and https' 1.1.0 "m['firmwareLocation'] = 'data:application/octet-stream;base64,AAAA'"
neg_edit 'firmwareLocation "http:///fw.img" (no host)' 'without a host' 1.1.0 "m['firmwareLocation'] = 'http:///fw.img'"
neg_edit 'firmwareLocation with a space' 'a URI may not contain' 1.1.0 "m['firmwareLocation'] = 'fw 1.1.0.img'"
pos_edit "twin: an absolute http location on the same server" 1.1.0 "m['firmwareLocation'] = '$SERVER$(dev_image_path 1.1.0)'"

# ---------------------------------------------------------------- sizes and slot classes
att_restore
att_conf security max-image-size 63K
att_save
neg_edit "firmwareSize 64K over max-image-size = 63K" 'exceeds max-image-size' 1.1.0 ""
neg_edit "firmwareSize 2^63-1" 'exceeds max-image-size' 1.1.0 "m['firmwareSize'] = 2**63 - 1"
att_restore
sed -i 's/^max-image-size = 63K$/max-image-size = 64K/' "$CONF"
att_save
pos_edit "twin: max-image-size = 64K, the image's exact size" 1.1.0 ""
neg_edit 'an image for slot class "bootloader", which the device lacks' \
        'targets slot class "bootloader", which this device does not have' 1.1.0 "" --slot-class bootloader
pos_edit 'twin: the same image for slot class "rootfs"' 1.1.0 "" --slot-class rootfs

# ---------------------------------------------------------------- withheld image
for status in 404 403 410; do
        att_restore
        dev_install_manifest "$J11"
        fixture_rule "$IMG11" "{\"status\": $status}"
        dev_snapshot s
        att_cycle
        [ "$ONCE_STATUS" -ne 0 ]
        ok $? "image withheld (HTTP $status): $ATT_RUN fails"
        [ "$(once_errors | wc -l)" -eq 1 ] && once_errors | grep -q "HTTP $status"
        ok $? "image withheld (HTTP $status): one error line names HTTP $status"
        dev_unchanged s "image withheld (HTTP $status)"
        is "$(state_field "s['highestInstalled'], s['lastError']['code'], s['state']")" "1.0.0 network idle" \
                "image withheld (HTTP $status): highestInstalled stays 1.0.0, lastError network, state idle"
        is "$(state_field "s['slots']['B']['health'] in ('empty', 'bad'), s['trial']")" "True None" \
                "image withheld (HTTP $status): slot B is not staged, no trial pending"
        att_daemon_report "image withheld (HTTP $status)"
done
att_try "$J11"
staged 1.1.0 "twin: the image served"
att_daemon_report "twin: the image served"

# ---------------------------------------------------------------- expiry and a wrong device clock
neg_edit "expired in 2020" 'manifest expired at 2020-06-01' 1.1.0 "" \
        --timestamp 2020-01-01T00:00:00Z --expires 2020-06-01T00:00:00Z
neg_edit "expired a minute ago" 'manifest expired at' 1.1.0 "" \
        --timestamp "$(rfc3339 '-1 hour')" --expires "$(rfc3339 '-1 minute')"
neg_edit "device clock 2 days ahead (emulated: a manifest valid for 1 day, 2 days older)" 'manifest expired at' 1.1.0 "" \
        --timestamp "$(rfc3339 '-2 days')" --expires "$(rfc3339 '-1 day')"
pos_edit "twin: the same manifest on a correct clock (valid for 1 more day)" 1.1.0 "" \
        --timestamp "$(rfc3339 'now')" --expires "$(rfc3339 '+1 day')"
pos_edit "device clock far behind (emulated: a manifest from 2099) is accepted" 1.1.0 "" \
        --timestamp 2099-01-01T00:00:00Z --expires 2099-12-31T00:00:00Z
is "$(state_field "s['newestAcceptedTimestamp']")" 2099-01-01T00:00:00Z \
        "the replay floor is the manifest's timestamp, not the device clock"

# ---------------------------------------------------------------- replay
# policy = check: the device only looks, so the floor is the only state
# that moves.
att_restore
sed -i 's/^policy = stage$/policy = check/' "$CONF"
att_save
att_try "$(signed 1.2.0 "" --timestamp 2025-06-01T00:00:00Z)"
available 1.2.0 "replay: a first manifest, 1.2.0 of 2025-06-01"
is "$(state_field "s['newestAcceptedTimestamp']")" 2025-06-01T00:00:00Z "replay: the floor is 2025-06-01"
att_save
neg_edit "replay of an older manifest (1.1.0 of 2025-01-01)" \
        'manifest timestamp 2025-01-01T00:00:00Z is older than the newest accepted manifest \(2025-06-01T00:00:00Z\): replay refused' \
        1.1.0 "" --timestamp 2025-01-01T00:00:00Z
neg_edit "replay of 1.2.0 itself, re-signed with an older timestamp" 'replay refused' 1.2.0 "" \
        --timestamp 2025-05-31T23:59:59Z
neg_edit "device clock set back (emulated: a 2020 manifest whose expiry, 2099, lies ahead)" 'replay refused' 1.1.0 "" \
        --timestamp 2020-01-01T00:00:00Z --expires 2099-01-01T00:00:00Z
att_try "$(signed 1.1.0 "" --timestamp 2025-06-01T00:00:00Z)"
available 1.1.0 "twin: 1.1.0 with the floor's own timestamp"
att_try "$(signed 1.1.0 "" --timestamp 2025-07-01T00:00:00Z)"
available 1.1.0 "twin: 1.1.0 of 2025-07-01"

att_done
