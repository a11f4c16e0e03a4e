#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: the install engine refuses manifests that break the rules of DESIGN
# section 5 -- a signature by an untrusted key, another model or
# manufacturer, a downgrade, a replayed older manifest, an expired one -- all
# before the first image byte is requested, and an image whose digest does
# not match after the download.  Every refusal leaves the running slot, the
# bootloader environment and the installed versions alone; every refusal has
# a positive twin: the same server with a good manifest stages the update.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"
dev_require

IMG11=/.well-known/firmware/example.com/gw100/fw-1.1.0.img
IMG12=/.well-known/firmware/example.com/gw100/fw-1.2.0.img
fresh() {
        [ -n "${D:-}" ] && dev_teardown
        dev_setup
}
error_code_is() { # error_code_is CODE DESCRIPTION
        is "$(state_field "(s['lastError'] or {}).get('code')")" "$1" "$2: lastError code $1"
}
# serve JWS as the manifest (the image of its version stays where it is)
serve() { dev_install_manifest "$1"; }

# ---------------------------------------------------------------- untrusted key
fresh
KEY=attacker dev_publish 1.1.0
dev_snapshot s
secfud_once
refused s "$IMG11" "signature|kid" "manifest signed by an untrusted key"
error_code_is signature "untrusted key"
is "$(state_field "s['state']")" idle "untrusted key: state idle"
dev_publish 1.1.0
secfud_once
staged 1.1.0 "the same manifest signed by the factory key"

# ---------------------------------------------------------------- model / manufacturer
fresh
dev_publish 1.1.0
cp "$(MODEL=gw200 dev_manifest 1.1.0)" "$D/other-model.jws"
cp "$(MANUFACTURER=example.org dev_manifest 1.1.0)" "$D/other-maker.jws"
serve "$D/other-model.jws"
dev_snapshot s
secfud_once
refused s "$IMG11" 'model "gw200"' "manifest for another model"
error_code_is policy "another model"
serve "$D/other-maker.jws"
dev_snapshot s
secfud_once
refused s "$IMG11" 'manufacturer "example.org"' "manifest for another manufacturer"
dev_publish 1.1.0
secfud_once
staged 1.1.0 "the manifest for this model and manufacturer"

# ---------------------------------------------------------------- downgrade
fresh
dev_publish 0.9.0
dev_snapshot s
secfud_once
refused s "$(dev_image_path 0.9.0)" "downgrade" "downgrade to 0.9.0"
error_code_is policy "downgrade"
# allow-downgrade lifts version order only: the anti-rollback floor starts
# at the version secfud first meets (1.0.0 here) and nothing crosses it
EXTRA_CONF=$'[security]\nallow-downgrade = yes'
dev_write_config
dev_snapshot s
secfud_once
refused s "$(dev_image_path 0.9.0)" "below the anti-rollback floor 1.0.0" \
        "downgrade to 0.9.0 with allow-downgrade = yes, below the floor"
error_code_is policy "below the floor"
# a device secfud first met at 0.8.0 (floor 0.8.0), now running 1.0.0:
# version order refuses 0.9.0, allow-downgrade = yes stages it
fresh
echo 0.8.0 >"$D/version"
secfud_once
is "$(state_field "s['rollbackFloor']")" 0.8.0 "the floor starts at the version secfud first meets"
echo 1.0.0 >"$D/version"
secfud_once # nothing offered yet: secfud records slot A's 1.0.0
dev_publish 0.9.0
dev_snapshot s
secfud_once
refused s "$(dev_image_path 0.9.0)" "downgrade" "downgrade to 0.9.0 above the floor 0.8.0, by default"
EXTRA_CONF=$'[security]\nallow-downgrade = yes'
dev_write_config
secfud_once
staged 0.9.0 "downgrade to 0.9.0 above the floor 0.8.0 with allow-downgrade = yes"
EXTRA_CONF=""
dev_write_config

# ---------------------------------------------------------------- replay
fresh
dev_publish 1.1.0
secfud_once
staged 1.1.0 "replay: a first manifest"
newest=$(state_field "s['newestAcceptedTimestamp']")
PAYLOAD_EDIT="m['timestamp'] = '2020-01-01T00:00:00Z'" dev_publish 1.2.0
dev_snapshot s
secfud_once
refused s "$IMG12" "replay" "1.2.0 in a manifest older than the one accepted before (replay)"
is "$(state_field "s['newestAcceptedTimestamp']")" "$newest" "replay: the freshness floor stays"
is "$(state_field "s['slots']['B']['health'], s['slots']['B']['version']")" "staged 1.1.0" \
        "replay: the staged 1.1.0 stays staged"
dev_publish 1.2.0
secfud_once
staged 1.2.0 "a fresh manifest for 1.2.0"

# ---------------------------------------------------------------- expiry
fresh
PAYLOAD_EDIT="m['timestamp'] = '2020-01-01T00:00:00Z'; m['expires'] = '2021-01-01T00:00:00Z'" dev_publish 1.1.0
dev_snapshot s
secfud_once
refused s "$IMG11" "expired" "expired manifest"
error_code_is policy "expired manifest"
PAYLOAD_EDIT="m['expires'] = '2020-01-01T00:00:00Z'" dev_publish 1.1.0 2>/dev/null
dev_snapshot s
secfud_once
refused s "$IMG11" "expires.*earlier|expire" "manifest that expires before its timestamp"
PAYLOAD_EDIT="m['expires'] = '2099-01-01T00:00:00Z'" dev_publish 1.1.0
secfud_once
staged 1.1.0 "the manifest with an expiry in the future"

# ---------------------------------------------------------------- digest mismatch
# flips the first hex digit of one commitHash entry
flip() {
        echo "e = [x for x in m['firmwareCryptoInfo']['commitHash'] if x['digestAlgo'] == '$1'][0]
e['hash'] = ('1' if e['hash'][0] == '0' else '0') + e['hash'][1:]"
}
fresh
PAYLOAD_EDIT=$(flip sha512) dev_publish 1.1.0
dev_snapshot s
secfud_once
refused s "" "sha512 mismatch" "sha256 right, sha512 wrong"
error_code_is digest "sha512 wrong"
is "$(state_field "s['slots']['B']['health']")" bad "sha512 wrong: slot B is marked bad"
is "$(state_field "s['state']")" idle "sha512 wrong: state idle, nothing staged"
PAYLOAD_EDIT=$(flip sha256) dev_publish 1.1.0
dev_snapshot s
secfud_once
refused s "" "sha256 mismatch" "sha256 wrong, sha512 right"
is "$(state_field "s['slots']['B']['health']")" bad "sha256 wrong: slot B is marked bad"
dev_publish 1.1.0
secfud_once
staged 1.1.0 "the manifest with both digests right"

tap_done
