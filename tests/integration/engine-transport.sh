#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: the install engine against a firmware server whose bodies misbehave
# (DESIGN section 4, step 6): a body cut short, a body that never ends
# (chunked or not, for the image and the manifest, with and without
# firmwareSize), a trickle under the low-speed limit.  Failures end
# cleanly, in bounded time and bytes, with the running slot and the
# bootloader environment untouched; each has a positive twin on the same
# server.  engine-http.sh has the status codes and redirects.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"
dev_require

SIZE_IMG=3145728

# ---------------------------------------------------------------- truncated body
dev_fresh
fixture_rule "$IMG" '{"truncate_at": 1000000, "once": true}'
secfud_once
staged 1.1.0 "body cut after 1000000 bytes once"
is "$(fixture_count "$IMG")" 2 "cut body: one more request"
range=$(fixture_header "$IMG" Range 1)
[[ $range =~ ^bytes=[1-9][0-9]*-$ ]]
ok $? "cut body: the second request resumes with Range ($range)"
bounded $((SIZE_IMG + 65536)) "$(fixture_bytes "$IMG")" "cut body: the bytes received once are not fetched again"

# ---------------------------------------------------------------- endless body
for chunked in true false; do
        dev_fresh
        fixture_rule "$IMG" "{\"endless\": true, \"chunked\": $chunked}"
        dev_snapshot s
        secfud_once
        refused s "" "more than|exceeds|size" "endless body (chunked: $chunked)"
        is "$(state_field "(s['lastError'] or {}).get('code')")" size "endless body (chunked: $chunked): lastError code size"
        bounded 10 "$ONCE_SECONDS" "endless body (chunked: $chunked): refused in bounded time (${ONCE_SECONDS}s)"
        bounded $((SIZE_IMG + 16 * 1048576)) "$(fixture_bytes "$IMG")" \
                "endless body (chunked: $chunked): bounded bytes read ($(fixture_bytes "$IMG"))"
        is "$(fixture_count "$IMG")" 1 "endless body (chunked: $chunked): not retried"
        cmp -s "$D/slot-b.canary" <(echo canary-b)
        ok $? "endless body (chunked: $chunked): nothing written past slot B"
done
fixture_clear "$IMG"
secfud_once
staged 1.1.0 "the same server without the endless rule"

dev_fresh
fixture_rule "$MANIFEST_PATH" '{"endless": true}'
dev_snapshot s
secfud_once
refused s "$IMG" "more than|exceeds|limit" "endless manifest"
bounded 10 "$ONCE_SECONDS" "endless manifest: refused in bounded time (${ONCE_SECONDS}s)"

# no firmwareSize: max-image-size bounds the download
dev_fresh
PAYLOAD_EDIT="del m['firmwareSize']" dev_publish 1.1.0
EXTRA_CONF=$'[security]\nmax-image-size = 4M'
dev_write_config
fixture_rule "$IMG" '{"endless": true}'
dev_snapshot s
secfud_once
refused s "" "more than|exceeds|size" "endless body, manifest without firmwareSize"
bounded $((4194304 + 16 * 1048576)) "$(fixture_bytes "$IMG")" \
        "endless body without firmwareSize: bounded by max-image-size ($(fixture_bytes "$IMG"))"
fixture_clear "$IMG"
secfud_once
staged 1.1.0 "manifest without firmwareSize, normal body"
EXTRA_CONF=""

# ---------------------------------------------------------------- slow drip
dev_fresh
LOW_SPEED_TIMEOUT=2s
dev_write_config
fixture_rule "$IMG" '{"drip": {"bytes": 256, "interval": 0.5}}'
dev_snapshot s
secfud_once
refused s "" "[Tt]ime|slow|speed" "a body at 512 bytes/s (low-speed-timeout 2s)"
bounded 40 "$ONCE_SECONDS" "slow drip: gives up in bounded time (${ONCE_SECONDS}s)"
bounded 5 "$(fixture_count "$IMG")" "slow drip: at most 5 attempts ($(fixture_count "$IMG"))"
fixture_clear "$IMG"
secfud_once
staged 1.1.0 "the same server at full speed"
unset LOW_SPEED_TIMEOUT

tap_done
