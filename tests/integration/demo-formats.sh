#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: `make demo-formats` (tools/demo-formats.sh) runs to its end against
# the test build and shows what it claims: the COSE manifest with two
# signatures staged, the bundle applied from a file, the two-provider set
# staged in both slot classes, the encrypted updates (a JWE, and a
# COSE_Sign1 in a COSE_Encrypt) decrypted and staged, and a delta update,
# each committed.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"
dev_require
command -v curl >/dev/null || skip_all "curl is not installed"
out=$(TMPDIR=${TMPDIR:-/tmp} timeout 300 "$top_srcdir/tools/demo-formats.sh" "$top_builddir" 2>&1)
status=$?
ok $status "demo-formats runs to its end"
[ "$status" -eq 0 ] || diag "$(tail -25 <<<"$out")"
has() { grep -qF -- "$1" <<<"$out"; ok $? "$2"; }
has "algorithms: ES256, HSS-LMS" "the COSE manifest carries an ES256 and an HSS-LMS signature"
has "slot B holds exactly rootfs-1.1.0.img" "the COSE manifest's image is staged"
has "slot A holds exactly rootfs-1.2.0.img" "the bundle applied from a file is staged"
has "rootfs slot B holds exactly rootfs-1.3.0.img" "the provider set: the rootfs is staged"
has "modem slot B holds exactly modem-2.0.0.img" "the provider set: the vendor's modem is staged"
has 'provider "modem": modem 2.0.0, signed by' "the daemon names the vendor's key"
has "slot A holds exactly rootfs-1.4.0.img (the plaintext)" "the encrypted update is staged, decrypted"
has "signed as:          JWS (compact) in a JWE, ES256" "status says the manifest came encrypted"
has "slot B holds exactly rootfs-1.5.0.img (the plaintext)" "the COSE_Encrypt update is staged, decrypted"
has "signed as:          COSE_Sign1 in a COSE_Encrypt, ES256" "status says it came in a COSE_Encrypt"
[ "$(grep -c '^slot [AB]: committed$' <<<"$out")" = 6 ]
ok $? "the encrypted updates and the delta update are committed too"
has "slot A holds exactly rootfs-1.6.0.img" "the delta update is staged"
grep -qE 'delta: rootfs: fetched [0-9]+ bytes for an image of 4194304 \([0-9.]+ %, [0-9]+ bytes saved\)' <<<"$out"
ok $? "the delta step shows the bytes saved"
has "running version:    1.6.0" "the device ends on 1.6.0"
tap_done
