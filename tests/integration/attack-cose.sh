#!/bin/bash
# The COSE and CBOR path of the engine, with the manifests made by an
# independent implementation (python3-cbor2 + python3-cryptography,
# tests/interop/cose-python-helper.py):
#  - twins: a COSE_Sign1 over a CBOR manifest and one over manifest.json
#    stage, and status names the form and the algorithm;
#  - authenticity: every structural rule of the COSE profile, a forged
#    signature, untrusted keys;
#  - the CBOR manifest: floats, text digests, duplicate and indefinite maps,
#    tags, trailing bytes;
#  - policy through CBOR: identity, downgrade, expiry, replay;
#  - forms: [security] formats, and a content type that contradicts the
#    bytes;
#  - nginx with the content negotiation of doc/manifest.md: a device gets
#    the form it prefers.
# Every refusal leaves the device unchanged and requests no image byte.
. "$top_srcdir/tests/integration/lib.sh"
dev_require
/usr/bin/python3 -c 'import cbor2, cryptography' 2>/dev/null || skip_all "python3-cbor2 or python3-cryptography missing"
HELPER="/usr/bin/python3 $top_srcdir/tests/interop/cose-python-helper.py"
CT_CBOR=application/secfu-manifest+cbor
CT_JSON=application/secfu-manifest+json

dev_setup
KID=$($HELPER kid "$D/factory.pub")
ATTACKER_KID=$($HELPER kid "$D/attacker.pub")
dev_publish 1.1.0 >/dev/null # the image of 1.1.0 on the server
IMG=$(dev_image_path 1.1.0)

# mk_json VERSION [PYTHON-EDIT] [create options]: an unsigned manifest, $D/m-VERSION.json
mk_json() {
        local version=$1 edit=${2:-}
        shift 2 2>/dev/null || shift
        "$SECFU_MANIFEST" create --manufacturer example.com --model gw100 --version "$version" \
                --image "$(dev_image "$version")=fw-$version.img" "$@" >"$D/m-$version.json" || return 1
        if [ -n "$edit" ]; then
                /usr/bin/python3 - "$D/m-$version.json" "$edit" <<'PY' || return 1
import json, sys
m = json.load(open(sys.argv[1]))
exec(sys.argv[2])
open(sys.argv[1], "w").write(json.dumps(m, indent=2))
PY
        fi
        echo "$D/m-$version.json"
}
# cose_of JSON [KEY [KID]]: a COSE_Sign1 ES256 over the JSON's CBOR form, $D/out.cose
cose_of() {
        $HELPER canonical "$1" "$D/payload.cbor" &&
                $HELPER sign1 "$D/${2:-factory}.key" ES256 "${3:-$KID}" "$CT_CBOR" "$D/payload.cbor" "$D/out.cose"
}
# cose_cbor CBOR-FILE: a COSE_Sign1 ES256 by the factory over those CBOR bytes
cose_cbor() { $HELPER sign1 "$D/factory.key" ES256 "$KID" "$CT_CBOR" "$1" "$D/out.cose"; }
# fresh: the device as dev_setup left it, the server's rules and counts cleared.
fresh() {
        rm -rf "$D/state" && mkdir -p "$D/state"
        printf 'BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n' >"$D/bootenv"
        fixture_reset >/dev/null
}
# try WHAT PATTERN: serve $D/out.cose, run a cycle, expect a refusal.
try() {
        dev_install_manifest "$D/out.cose"
        dev_snapshot s
        secfud_once
        refused s "$IMG" "$2" "$1"
}

# ---------------------------------------------------------------- twins
J=$(mk_json 1.1.0)
cose_of "$J"
dev_install_manifest "$D/out.cose"
secfud_once
staged 1.1.0 "COSE_Sign1 ES256 over a CBOR manifest"
is "$(state_field "s['newestSeen']['format'], s['newestSeen']['algorithms']")" "COSE_Sign1 ES256" \
        "status: the form and the algorithm that signed"

fresh
$HELPER sign1 "$D/factory.key" ES256 "$KID" "$CT_JSON" "$J" "$D/out.cose"
dev_install_manifest "$D/out.cose"
secfud_once
staged 1.1.0 "COSE_Sign1 ES256 over manifest.json (hash-sigs(manifest.json, key) with ES256)"

# ---------------------------------------------------------------- authenticity
$HELPER canonical "$J" "$D/payload.cbor"
declare -A BAD=(
        [alg-unprotected]='"alg" is only in the unprotected header'
        [crit]='crit'
        [dup-label]='twice|duplicate'
        [label-both]='both'
        [indefinite]='indefinite'
        [trailing]='trailing'
        [truncated]='truncated|ends|short'
        [untagged]='not a signed manifest'
        [no-content-type]='no content type'
        [flip]='does not verify'
)
for kind in alg-unprotected crit dup-label label-both indefinite trailing truncated untagged no-content-type flip; do
        fresh
        $HELPER bad "$kind" "$D/factory.key" ES256 "$KID" "$CT_CBOR" "$D/payload.cbor" "$D/out.cose"
        try "COSE_Sign1 $kind" "${BAD[$kind]}"
done
fresh
cose_of "$J" attacker "$KID"
try "signed by an untrusted key under the factory kid" 'does not verify with the trusted key'
fresh
cose_of "$J" attacker "$ATTACKER_KID"
try "signed by an untrusted key under its own kid" 'no trusted key with kid'
fresh
$HELPER sign1 "$D/factory.key" ES256 "$KID" "application/json-seq" "$D/payload.cbor" "$D/out.cose"
try "a content type that is not a manifest's" 'is not a manifest'

# ---------------------------------------------------------------- the CBOR manifest
# bad_cbor WHAT PATTERN PYTHON: the python builds the payload bytes from m
# (the manifest with its digests as bytes) into out.
bad_cbor() {
        /usr/bin/python3 - "$J" "$D/bad.cbor" "$3" <<'PY' || return 1
import cbor2, json, sys
m = json.load(open(sys.argv[1]))
for e in m["firmwareCryptoInfo"]["commitHash"]:
    e["hash"] = bytes.fromhex(e["hash"])
out = None
exec(sys.argv[3])
open(sys.argv[2], "wb").write(out if out is not None else cbor2.dumps(m, canonical=True))
PY
        fresh
        cose_cbor "$D/bad.cbor"
        try "CBOR manifest: $1" "$2"
}
bad_cbor "a float firmwareSize" 'float|floating' 'm["firmwareSize"] = float(m["firmwareSize"])'
bad_cbor "a digest as text" 'hash' 'e = m["firmwareCryptoInfo"]["commitHash"][0]; e["hash"] = e["hash"].hex()'
bad_cbor "a duplicate key" 'twice|duplicate' 'b = cbor2.dumps(m, canonical=True); out = bytes([b[0] + 1]) + b[1:] + cbor2.dumps("model") + cbor2.dumps("gw100")'
bad_cbor "an indefinite-length map" 'indefinite' 'b = cbor2.dumps(m, canonical=True); n = b[0] & 0x1f; out = b"\xbf" + b[1:] + b"\xff"'
bad_cbor "a tag inside" 'tag' 'm["timestamp"] = cbor2.CBORTag(0, m["timestamp"])'
bad_cbor "bytes after the map" 'trailing|after' 'out = cbor2.dumps(m, canonical=True) + b"\x00"'
bad_cbor "an array, not a map" 'map' 'out = cbor2.dumps([m])'

# ---------------------------------------------------------------- policy through CBOR
fresh
cose_of "$(mk_json 1.1.0 "m['model'] = 'gw101'")"
try "CBOR manifest for another model" 'model "gw101"'
fresh
cose_of "$(mk_json 0.9.0)"
try "CBOR manifest downgrading to 0.9.0" 'downgrade refused'
fresh
cose_of "$(mk_json 1.1.0 "m['expires'] = '2020-01-01T00:00:00Z'; m['timestamp'] = '2019-01-01T00:00:00Z'")"
try "an expired CBOR manifest" 'expired'
fresh
cose_of "$(mk_json 1.0.0 "m['timestamp'] = '2026-06-01T00:00:00Z'")"
dev_install_manifest "$D/out.cose"
secfud_once
is "$ONCE_STATUS" 0 "an up-to-date COSE manifest of 2026-06-01 is taken (replay floor)"
cose_of "$(mk_json 1.1.0 "m['timestamp'] = '2026-01-01T00:00:00Z'")"
try "an older COSE manifest after it: replay" 'replay refused'

# ---------------------------------------------------------------- forms
fresh
cose_of "$J"
EXTRA_CONF=$'[security]\nformats = jws'
dev_write_config
try "COSE to a device that takes JWS only" 'a form this device does not take'
fresh
dev_install_manifest "$(dev_manifest 1.1.0)"
EXTRA_CONF=$'[security]\nformats = cose'
dev_write_config
dev_snapshot s
secfud_once
refused s "$IMG" 'a form this device does not take' "JWS to a device that takes COSE only"
EXTRA_CONF=""
dev_write_config
fresh
cose_of "$J"
dev_install_manifest "$D/out.cose"
fixture_rule "$MANIFEST_PATH" '{"headers": {"Content-Type": "application/jose"}}'
dev_snapshot s
secfud_once
refused s "$IMG" 'the server says application/jose, but the manifest is a COSE_Sign1' \
        "COSE bytes served as application/jose"
fixture_rule "$MANIFEST_PATH" '{"headers": {"Content-Type": "application/cose"}}'
secfud_once
staged 1.1.0 "twin: the same bytes served as application/cose"

# ---------------------------------------------------------------- nginx negotiates
. "$top_srcdir/tests/lib/nginx.sh"
if command -v nginx >/dev/null; then
        DIR=$D/nginx-www/.well-known/firmware/example.com/gw100
        mkdir -p "$DIR"
        cose_of "$J"
        cp "$D/out.cose" "$DIR/manifest.cbor"
        dev_manifest 1.1.0 >/dev/null
        cp "$D/manifest-1.1.0.jws" "$DIR/manifest.json"
        cp "$D/img-1.1.0.img" "$DIR/fw-1.1.0.img"
        # The snippet of doc/manifest.md, as it stands there.
        NGINX_HTTP='map $http_accept $secfu_manifest { default manifest.json; "~^application/cose" manifest.cbor; }'
        NGINX_SERVER='location ~ ^(?<secfu_dir>/\.well-known/firmware/[^/]+/[^/]+/)manifest\.json$ { try_files $secfu_dir$secfu_manifest =404; types { application/jose json; application/cose cbor; } }'
        nginx_start "$D/nginx" "$D/nginx-www" || skip_all "nginx did not start"
        MANUFACTURER_URL="$NGINX_URL$MANIFEST_PATH"
        for prefer in "cose, jws" "jws, cose"; do
                fresh
                EXTRA_CONF=$'[security]\nformats = '"$prefer"
                dev_write_config
                secfud_once
                want=$([ "${prefer%%,*}" = cose ] && echo COSE_Sign1 || echo "JWS (compact)")
                is "$ONCE_STATUS:$(state_field "s['newestSeen']['format']")" "0:$want" \
                        "nginx with the documented negotiation, formats = $prefer: the device gets a $want"
        done
        nginx_stop
else
        skip "nginx negotiation (formats = cose, jws)" "nginx is not installed"
        skip "nginx negotiation (formats = jws, cose)" "nginx is not installed"
fi

dev_teardown
tap_done
