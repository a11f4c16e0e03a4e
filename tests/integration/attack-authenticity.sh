#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: attacks on the authenticity of the manifest (DESIGN section 5, JWS
# rules).  Every forged manifest comes from tests/lib/jwsforge.py and is
# served in place of the real one; secfud --once must refuse it with one
# error line that names the reason, before any byte of the image is
# requested, leaving the running slot, the bootloader environment, the
# trust store and the installed versions alone (att_refused).  Each group
# has a positive twin: the same forging with the one defect left out
# stages the update, so the refusal happened for the stated reason.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/attack-lib.sh
. "$top_srcdir/tests/integration/attack-lib.sh"
att_require
att_setup

A=$D/attacker.key

# ---------------------------------------------------------------- unsigned
att_try "$P11"
att_refused "$IMG11" 'no "payload"' "a bare JSON manifest, not a JWS"
printf '%s' "$(seg 2 "$J11")" >"$D/payload-only.jws"
att_try "$D/payload-only.jws"
att_refused "$IMG11" '3 segments' "the base64url payload alone"
neg 'alg "none"' 'alg "none" is not allowed' --payload "$P11" --alg none
neg 'alg "None"' 'alg "None" is not allowed' --payload "$P11" --alg None
neg 'alg "NONE" with a valid ES256 signature' 'alg "NONE" is not allowed' \
        --payload "$P11" --alg NONE --sign-as ES256 --key "$F"
neg 'alg "none" in the unprotected header only' '"alg" is only in the unprotected header' \
        --form flattened --payload "$P11" --no-protected --unprotected '{"alg":"none"}'
printf '.%s.' "$(seg 2 "$J11")" >"$D/empty-header.jws"
att_try "$D/empty-header.jws"
att_refused "$IMG11" 'protected header is empty' "empty protected header and signature"
pos "twin: the factory-signed forging" "${GOOD[@]}"

# ---------------------------------------------------------------- attacker-signed
neg "signed by an untrusted key (its own kid)" 'no trusted key with kid' \
        --payload "$P11" --key "$A" --alg ES256
neg "signed by an untrusted key, no kid" 'does not verify with any of the 1 trusted key' \
        --payload "$P11" --key "$A" --alg ES256 --no-kid
neg "signed by an untrusted key under the factory kid" "does not verify with the trusted key with kid \"$KID\"" \
        --payload "$P11" --key "$A" --alg ES256 --kid "$KID"
"$SECFU_MANIFEST" keygen --alg EdDSA --out "$D/attacker-ed" >/dev/null
neg "signed by an untrusted Ed25519 key" 'no trusted key fits alg EdDSA' \
        --payload "$P11" --key "$D/attacker-ed.key" --alg EdDSA --no-kid
pos "twin: the factory key, no kid" "${GOOD[@]}" --no-kid

# ---------------------------------------------------------------- bit flips
# A tab between header members becomes a carriage return: still the same
# JSON, so only the signature can tell.
neg "bit flip in the protected header (tab to CR)" 'does not verify' \
        "${GOOD[@]}" --header-sep ',\t' --flip-text 'header:\t:2'
pos "twin: the header with a tab, unflipped" "${GOOD[@]}" --header-sep ',\t'
neg "bit flip in the payload: firmwareVersion 1.1.0 to 0.1.0" 'does not verify' \
        "${GOOD[@]}" --flip-text 'payload:1.1.0:0'
H=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["firmwareCryptoInfo"]["commitHash"][0]["hash"])' "$P11")
neg "bit flip in the payload: the first sha256 digit" 'does not verify' \
        "${GOOD[@]}" --flip-text "payload:$H:0"
neg "bit flip in the signature: first byte (R)" 'does not verify' "${GOOD[@]}" --flip signature:0:0
neg "bit flip in the signature: byte 40 (S)" 'does not verify' "${GOOD[@]}" --flip signature:40:3
neg "bit flip in the signature: last byte" 'does not verify' "${GOOD[@]}" --flip signature:-1:7

# ---------------------------------------------------------------- transplanted signatures
att_payload 1.2.0 >/dev/null
J12=$D/signed-1.2.0.jws
neg "the signature of the 1.2.0 manifest on the 1.1.0 payload" 'does not verify' \
        --payload "$P11" --signature-from "$J12"
OUT=gw200 MODEL=gw200 att_payload 1.1.0 >/dev/null
neg "the signature of a manifest for another model" 'does not verify' \
        --payload "$P11" --signature-from "$D/signed-gw200.jws"
OUT=evil PAYLOAD_EDIT="m['firmwareLocation'] = 'http://127.0.0.1:9/evil.img'" att_payload 1.1.0 >/dev/null
neg "a real signature on an edited payload (image elsewhere)" 'does not verify' \
        --payload "$D/payload-evil.json" --signature-from "$J11"
neg "a transplanted signature in the general JSON serialization" 'does not verify' \
        --form general --payload "$P11" --signature-from "$J12"
att_try "$J11"
staged 1.1.0 "twin: the untouched factory-signed 1.1.0 manifest"
att_daemon_report "twin: the untouched factory-signed 1.1.0 manifest"

# ---------------------------------------------------------------- empty and zero signatures
neg "empty signature (compact)" 'ECDSA signature must be 64 bytes for ES256, got 0' \
        "${GOOD[@]}" --signature-b64 ''
neg "empty signature (flattened)" 'ECDSA signature must be 64 bytes for ES256, got 0' \
        --form flattened "${GOOD[@]}" --signature-b64 ''
neg "64 zero bytes as the signature" 'does not verify' \
        "${GOOD[@]}" --signature-bytes "$(printf '00%.0s' {1..64})"
neg "64 0xff bytes as the signature (R, S beyond the group order)" 'does not verify' \
        "${GOOD[@]}" --signature-bytes "$(printf 'ff%.0s' {1..64})"
neg "a 70-byte DER signature instead of R||S" 'must be 64 bytes for ES256, got 70 \(it looks DER-encoded' \
        "${GOOD[@]}" --signature-bytes "30440220$(printf '2a%.0s' {1..32})0220$(printf '3b%.0s' {1..32})"

# ---------------------------------------------------------------- HMAC key confusion
neg "HS256 keyed with the trusted public key PEM" '\(HMAC\) is not allowed' \
        --payload "$P11" --alg HS256 --key "$D/factory.pub"
neg "HS256 keyed with the public key PEM, factory kid" '\(HMAC\) is not allowed' \
        --payload "$P11" --alg HS256 --key "$D/factory.pub" --kid "$KID"
neg "HS512 keyed with the trusted key file from keys.d" '\(HMAC\) is not allowed' \
        --payload "$P11" --alg HS512 --key "$D/keys.d/factory.pem"
neg '"hs256" in lower case' '\(HMAC\) is not allowed' \
        --payload "$P11" --alg hs256 --sign-as HS256 --key "$D/factory.pub"

# ---------------------------------------------------------------- keys offered in the header
/usr/bin/python3 - "$JWSFORGE" "$D/attacker.key" >"$D/attacker.jwk" <<'PY'
import json, sys, importlib.util as u
s = u.spec_from_file_location("jwsforge", sys.argv[1]); m = u.module_from_spec(s); s.loader.exec_module(m)
print(json.dumps(m.public_jwk(m.load_private(sys.argv[2]).public_key())))
PY
printf '{"keys": [%s]}\n' "$(cat "$D/attacker.jwk")" >"$WWW/jwks.json"
cp "$D/attacker.pub" "$WWW/attacker.pem"
neg "attacker-signed, its key in \"jwk\"" 'does not verify with any of the 1 trusted key' \
        --payload "$P11" --key "$A" --alg ES256 --no-kid --hdr-jwk "$A"
neg "attacker-signed, its key in \"jwk\" and its kid" 'no trusted key with kid' \
        --payload "$P11" --key "$A" --alg ES256 --hdr-jwk "$A"
neg "attacker-signed, its JWKS at \"jku\"" 'does not verify with any of the 1 trusted key' \
        --payload "$P11" --key "$A" --alg ES256 --no-kid --hdr "jku=\"$SERVER/jwks.json\""
flush
is "$(att_count /jwks.json)" 0 "the jku URL was never fetched"
neg "attacker-signed, its key at \"x5u\"" 'does not verify with any of the 1 trusted key' \
        --payload "$P11" --key "$A" --alg ES256 --no-kid --hdr "x5u=\"$SERVER/attacker.pem\""
flush
is "$(att_count /attacker.pem)" 0 "the x5u URL was never fetched"
neg "attacker-signed, its self-signed certificate in \"x5c\"" 'does not verify with any of the 1 trusted key' \
        --payload "$P11" --key "$A" --alg ES256 --no-kid --hdr-x5c "$A"
neg "attacker-signed, \"jwk\" in the unprotected header" 'does not verify with any of the 1 trusted key' \
        --form flattened --payload "$P11" --key "$A" --alg ES256 --no-kid \
        --unprotected "{\"jwk\": $(cat "$D/attacker.jwk")}"
pos "twin: the factory key with the attacker's jwk, jku, x5u and x5c in the header" \
        "${GOOD[@]}" --hdr-jwk "$A" --hdr "jku=\"$SERVER/jwks.json\"" --hdr "x5u=\"$SERVER/attacker.pem\"" --hdr-x5c "$A"

# ---------------------------------------------------------------- odd kid values
neg 'kid "../../etc/passwd"' 'no trusted key with kid "\.\./\.\./etc/passwd"' "${GOOD[@]}" --kid ../../etc/passwd
neg 'kid "../keys.d/factory.pem"' 'no trusted key with kid' "${GOOD[@]}" --kid ../keys.d/factory.pem
neg "a kid of 6000 characters" 'no trusted key with kid "A+\.\.\."' "${GOOD[@]}" --kid "$(printf 'A%.0s' {1..6000})"
neg "an unknown kid" 'no trusted key with kid "unknown"' "${GOOD[@]}" --kid unknown
neg "an empty kid" 'no trusted key with kid ""' "${GOOD[@]}" --kid ""
neg "the factory kid with a trailing space" 'no trusted key with kid' "${GOOD[@]}" --kid "$KID "
neg "the factory kid less its last character" 'no trusted key with kid' "${GOOD[@]}" --kid "${KID%?}"
neg "the factory kid with a NUL and more after it" 'protected header.*(u0000|NUL)' "${GOOD[@]}" \
        --protected-json "{\"alg\":\"ES256\",\"kid\":\"$KID\\\\u0000x\",\"typ\":\"secfu-manifest+jws\"}"
neg "a kid that is a number" '"kid" is not a string' "${GOOD[@]}" --hdr kid=7
neg "attacker-signed, the factory kid in the unprotected header" 'does not verify with the trusted key with kid' \
        --form flattened --payload "$P11" --key "$A" --alg ES256 --no-kid --unprotected "{\"kid\":\"$KID\"}"
pos "twin: the factory kid" "${GOOD[@]}" --kid "$KID"

# ---------------------------------------------------------------- crit, b64
neg 'crit ["exp"]' 'crit" names "exp", which is not understood' "${GOOD[@]}" --hdr 'exp=1' --hdr 'crit=["exp"]'
neg "crit naming a registered header (alg)" 'crit" names "alg", which is not understood' "${GOOD[@]}" --hdr 'crit=["alg"]'
neg "crit an empty list" '"crit" must be a non-empty list' "${GOOD[@]}" --hdr 'crit=[]'
neg "crit a string" '"crit" must be a non-empty list' "${GOOD[@]}" --hdr 'crit="exp"'
neg "crit in the unprotected header" '"crit" must be in the protected header' \
        --form flattened "${GOOD[@]}" --hdr exp=1 --unprotected '{"crit":["exp"]}'
neg 'b64: false with crit ["b64"]' '"b64"' "${GOOD[@]}" --hdr b64=false --hdr 'crit=["b64"]'
neg 'b64: false without crit' '"b64": false .*not supported' "${GOOD[@]}" --hdr b64=false
neg 'b64: false in the unprotected header' '"b64": false .*not supported' \
        --form flattened "${GOOD[@]}" --unprotected '{"b64":false}'
# (secfu-manifest sign warns that it signs a manifest it would not accept)
OUT=crit-unknown PAYLOAD_EDIT="m['crit'] = ['secureBoot']; m['secureBoot'] = True" att_payload 1.1.0 >/dev/null 2>&1
neg 'manifest crit ["secureBoot"]' 'crit names "secureBoot", which this device does not understand' \
        --payload "$D/payload-crit-unknown.json" --key "$F" --alg ES256
OUT=crit-known PAYLOAD_EDIT="m['crit'] = ['firmwareSize']" att_payload 1.1.0 >/dev/null
pos 'twin: manifest crit ["firmwareSize"] (understood)' --payload "$D/payload-crit-known.json" --key "$F" --alg ES256
pos 'twin: b64: true' "${GOOD[@]}" --hdr b64=true

# ---------------------------------------------------------------- typ
neg "no typ" 'has no "typ"' "${GOOD[@]}" --no-typ
neg 'typ "JWT"' 'typ "JWT" is not the required' "${GOOD[@]}" --typ JWT
neg 'typ "secfu-manifest+json"' 'is not the required' "${GOOD[@]}" --typ secfu-manifest+json
neg "typ a number" '"typ" is not a string' "${GOOD[@]}" --hdr typ=1
neg "typ only in the unprotected header" 'has no "typ"' \
        --form flattened "${GOOD[@]}" --no-typ --unprotected '{"typ":"secfu-manifest+jws"}'
pos 'twin: typ "application/secfu-manifest+jws"' "${GOOD[@]}" --typ application/secfu-manifest+jws
pos 'twin: typ in upper case' "${GOOD[@]}" --typ SECFU-MANIFEST+JWS

# ---------------------------------------------------------------- base64url strictness
# The signature is computed over the segments as sent, so a lax decoder
# would accept every one of these.
OUT=note PAYLOAD_EDIT="m['note'] = '?????'" att_payload 1.1.0 >/dev/null
PN=$D/payload-note.json
neg "padding in the protected header" 'protected header is not valid base64url: padding' \
        "${GOOD[@]}" --header-align 1 --b64 padded --b64-only header
neg "padding in the payload" 'payload is not valid base64url: padding' \
        "${GOOD[@]}" --payload-align 1 --b64 padded --b64-only payload
neg "padding in the signature" 'signature is not valid base64url: padding' \
        "${GOOD[@]}" --b64 padded --b64-only signature
neg "'/' of standard base64 in the protected header" "protected header is not valid base64url: '\+' and '/'" \
        "${GOOD[@]}" --hdr 'x="?????"' --b64 std --b64-only header
neg "'/' of standard base64 in the payload" "payload is not valid base64url: '\+' and '/'" \
        --payload "$PN" --key "$F" --alg ES256 --b64 std --b64-only payload
neg "a space in the protected header" 'protected header is not valid base64url: white space' \
        "${GOOD[@]}" --b64 space --b64-only header
neg "a newline in the payload" 'payload is not valid base64url: white space' \
        "${GOOD[@]}" --b64 newline --b64-only payload
neg "a space in the signature" 'signature is not valid base64url: white space' \
        "${GOOD[@]}" --b64 space --b64-only signature
neg "a payload segment of length 4n+1" 'payload is not valid base64url: impossible length' \
        "${GOOD[@]}" --b64 long --b64-only payload
neg "non-zero unused bits at the end of the signature" 'signature is not valid base64url: non-zero unused bits' \
        "${GOOD[@]}" --b64 noncanonical --b64-only signature
neg "non-zero unused bits at the end of the protected header" 'protected header is not valid base64url: non-zero unused bits' \
        "${GOOD[@]}" --header-align 2 --b64 noncanonical --b64-only header
forge "${GOOD[@]}" >"$D/good.jws"
printf '%s.%s.*%s' "$(seg 1 "$D/good.jws")" "$(seg 2 "$D/good.jws")" "$(seg 3 "$D/good.jws" | cut -c2-)" >"$D/star.jws"
att_try "$D/star.jws"
att_refused "$IMG11" 'signature is not valid base64url: a character outside' "a '*' in the signature"
pos "twin: the forging with the '?????' header member, strict base64url" "${GOOD[@]}" --hdr 'x="?????"' --header-align 1
pos "twin: the payload with the '?????' member, strict base64url" --payload "$PN" --key "$F" --alg ES256 --payload-align 1
printf '\n \t%s \r\n\n' "$(cat "$D/good.jws")" >"$D/spaced.jws"
att_try "$D/spaced.jws"
staged 1.1.0 "twin: white space around the whole compact JWS is not part of a segment"
att_daemon_report "twin: white space around the whole compact JWS"

# ---------------------------------------------------------------- key rotation by an attacker
OUT=rotate PAYLOAD_EDIT="m['keyInfo'] = {'newKeys': [json.load(open('$D/attacker.jwk'))]}" att_payload 1.1.0 >/dev/null
neg "attacker-signed keyInfo that adds the attacker's key" 'does not verify' \
        --payload "$D/payload-rotate.json" --key "$A" --alg ES256 --no-kid
flush
[ ! -e "$D/state/keys" ] && [ ! -e "$D/state/revoked-kids" ]
ok $? "the attacker's keyInfo left no rotated key and no revocation behind"
OUT=revoke PAYLOAD_EDIT="m['keyInfo'] = {'revokedKeys': ['$KID']}" att_payload 1.1.0 >/dev/null
neg "attacker-signed keyInfo that revokes the factory key" 'does not verify' \
        --payload "$D/payload-revoke.json" --key "$A" --alg ES256 --no-kid
flush
[ ! -e "$D/state/revoked-kids" ]
ok $? "the attacker's revocation was not recorded"
pos "twin: the factory signs the keyInfo that adds the attacker's key" \
        --payload "$D/payload-rotate.json" --key "$F" --alg ES256
flush
[ "$(find "$D/state/keys" -name '*.jwk' 2>/dev/null | wc -l)" -eq 1 ]
ok $? "twin: the factory's keyInfo added one rotated key"

# ---------------------------------------------------------------- signature counts (JSON serialization)
# A signature that does not verify counts for nothing; the good one carries
# the manifest (min-signatures = 1), as a device that moved to another
# algorithm needs.  none, HMAC and crit still refuse the whole.
pos "general: a good signature and one that fails under the factory kid (it counts for nothing)" \
        --form general "${GOOD[@]}" --sig --key "$A" --alg ES256 --kid "$KID"
neg 'general: a good signature and an alg "none" one' 'signature 2: alg "none" is not allowed' \
        --form general "${GOOD[@]}" --sig --alg none
neg "general: a good signature and an HS256 one" 'signature 2: alg "HS256" \(HMAC\)' \
        --form general "${GOOD[@]}" --sig --alg HS256 --key "$D/factory.pub"
SEVENTEEN=()
for _ in $(seq 17); do SEVENTEEN+=(--sig --key "$F" --alg ES256); done
neg "general: 17 signatures" 'more than the limit of 16' --form general --payload "$P11" "${SEVENTEEN[@]:1}"
neg "general: an empty signatures list" '"signatures" is empty' --form general "${GOOD[@]}" --json-extra 'signatures=[]'
neg 'flattened and general mixed' 'mixes the flattened' --form flattened "${GOOD[@]}" --json-extra 'signatures=[]'
pos "twin (min-signatures = 1): a good signature and an untrusted one, which does not count" \
        --form general "${GOOD[@]}" --sig --key "$A" --alg ES256 --no-kid
pos "twin (min-signatures = 1): the general serialization, one signature" --form general "${GOOD[@]}"

att_restore
att_conf security min-signatures 2
"$SECFU_MANIFEST" keygen --alg ES384 --out "$D/factory2" >/dev/null
cp "$D/factory2.pub" "$D/keys.d/factory2.pem"
att_save
neg "min-signatures = 2: one factory signature" '1 distinct trusted key\(s\) signed, 2 required \(1 signature' \
        --form general "${GOOD[@]}"
neg "min-signatures = 2: the compact form" '1 distinct trusted key\(s\) signed, 2 required' "${GOOD[@]}"
neg "min-signatures = 2: two signatures by the same key" '1 distinct trusted key\(s\) signed, 2 required \(2 signature' \
        --form general "${GOOD[@]}" --sig --key "$F" --alg ES256
neg "min-signatures = 2: the same key with and without kid" '1 distinct trusted key\(s\) signed, 2 required' \
        --form general "${GOOD[@]}" --sig --key "$F" --alg ES256 --no-kid
neg "min-signatures = 2: the same key, the second under the other key's kid" 'signature 2: .*does not fit|signature 2: .*does not verify' \
        --form general "${GOOD[@]}" --sig --key "$F" --alg ES256 --kid "$(forge_kid "$D/factory2.key")"
neg "min-signatures = 2: a factory signature and an attacker's" '1 distinct trusted key\(s\) signed, 2 required' \
        --form general "${GOOD[@]}" --sig --key "$A" --alg ES256 --no-kid
pos "twin (min-signatures = 2): signatures by two distinct trusted keys" \
        --form general "${GOOD[@]}" --sig --key "$D/factory2.key" --alg ES384

att_done
