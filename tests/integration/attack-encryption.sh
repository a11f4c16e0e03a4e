#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: encrypted manifests and images through the daemon (doc/encryption.md).
# A JWE around the signed manifest is decrypted with the device's key from
# [security] decryption-keys, then verified as any manifest; an image in the
# segmented A256GCM-STREAM format is decrypted while it streams into the
# slot, hashed as plaintext, and resumes at a segment boundary.  Staged end
# to end with one and with several recipients (X25519, P-256, RSA), plain
# images under an encrypted manifest, a COSE_Sign1 inside the JWE, a COSE_Encrypt
# around a COSE_Sign1 or a JWS; refused, with the running slot, the
# bootloader environment and the installed versions untouched: no device
# key, a JWE for another device, a tampered JWE, an inner manifest signed by
# an untrusted key, a COSE_Encrypt for others, with its tag altered, as a
# COSE_Encrypt0 or with crit, a key file others can read, a segment altered, two
# segments swapped, a stream cut short or extended, the image served
# unencrypted.  A kill -9 after the resume checkpoint of an 80 MiB
# encrypted image resumes with a Range at a segment boundary.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"
dev_require

DIR=/.well-known/firmware/example.com/gw100
SEG=65536

# device_keys: the device's decryption key (X25519) in a root-only
# directory, and the configuration that names it
device_keys() {
        mkdir -p "$D/dec.d" "$D/others"
        chmod 0700 "$D/dec.d"
        openssl genpkey -algorithm X25519 -out "$D/dec.d/device.pem" 2>/dev/null
        chmod 0600 "$D/dec.d/device.pem"
        openssl pkey -in "$D/dec.d/device.pem" -pubout -out "$D/device.pub" 2>/dev/null
        openssl genpkey -algorithm X25519 -out "$D/others/other.pem" 2>/dev/null
        openssl pkey -in "$D/others/other.pem" -pubout -out "$D/other.pub" 2>/dev/null
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/others/p256.pem" 2>/dev/null
        openssl pkey -in "$D/others/p256.pem" -pubout -out "$D/p256.pub" 2>/dev/null
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$D/others/rsa.pem" 2>/dev/null
        openssl pkey -in "$D/others/rsa.pem" -pubout -out "$D/rsa.pub" 2>/dev/null
        EXTRA_CONF=$'[security]\ndecryption-keys = '"$D/dec.d"
        dev_write_config
}
fresh() {
        [ -n "${D:-}" ] && dev_teardown
        dev_setup "${1:-8388608}" || bail "no device"
        device_keys
}

# enc_publish VERSION: 1.x with its image encrypted (fw-VERSION.enc) and the
# signed manifest encrypted for $TO (default: the device), served.
# Env: KEY (signer, default factory), PLAIN_IMAGE=1 (the image unencrypted),
# PLAIN_MANIFEST=1 (the signed manifest not encrypted), ENVELOPE_COSE=1 (a
# COSE_Encrypt instead of the JWE), COSE=1 (a COSE_Sign1 inside).
enc_publish() {
        local v=$1 img dir=$WWW$DIR to=() k
        img=$(dev_image "$v" "${SIZE:-3145728}")
        mkdir -p "$dir"
        for k in ${TO:-$D/device.pub}; do to+=(--to "$k"); done
        "$SECFU_MANIFEST" create --manufacturer example.com --model gw100 --version "$v" \
                --image "$img=fw-$v.img" >"$D/m-$v.json" || return 1
        if [ -n "${PLAIN_IMAGE:-}" ]; then
                cp "$D/m-$v.json" "$D/me-$v.json"
                cp "$img" "$dir/fw-$v.img"
        else
                rm -f "$dir/fw-$v.enc"
                "$SECFU_MANIFEST" encrypt --image "$img" -o "$dir/fw-$v.enc" --segment-size "$SEG" \
                        --manifest "$D/m-$v.json" --name firmware --location "fw-$v.enc" >"$D/me-$v.json" ||
                        return 1
        fi
        if [ -n "${COSE:-}" ]; then
                "$SECFU_MANIFEST" sign --cose --key "$D/${KEY:-factory}.key" -o "$D/me-$v.jws" "$D/me-$v.json" ||
                        return 1
        else
                "$SECFU_MANIFEST" sign --key "$D/${KEY:-factory}.key" "$D/me-$v.json" >"$D/me-$v.jws" || return 1
        fi
        if [ -n "${PLAIN_MANIFEST:-}" ]; then
                cp "$D/me-$v.jws" "$dir/manifest.json"
        elif [ -n "${ENVELOPE_COSE:-}" ]; then
                "$SECFU_MANIFEST" encrypt --cose "${to[@]}" -o "$dir/manifest.json" "$D/me-$v.jws" || return 1
        else
                "$SECFU_MANIFEST" encrypt "${to[@]}" "$D/me-$v.jws" >"$dir/manifest.json" || return 1
        fi
}
ENC11=$DIR/fw-1.1.0.enc

# ---------------------------------------------------------------- staged
fresh
enc_publish 1.1.0 || bail "cannot publish an encrypted 1.1.0"
grep -q '"key"' "$WWW$DIR/manifest.json"
ok $(( $? == 0 ? 1 : 0 )) "the served manifest shows no content key (it is inside the JWE)"
secfud_once
staged 1.1.0 "an encrypted manifest and an encrypted image"
once_log_has "manifest decrypted with the device key"
ok $? "the log says the manifest was decrypted (naming the key, never the key's bytes)"
is "$(fixture_count "$ENC11")" 1 "one request for the encrypted image"
cond_key=$(/usr/bin/python3 -c "import json; print(json.load(open('$D/me-1.1.0.json'))['firmwareCryptoInfo']['encryption']['key'])")
! grep -rqF "$cond_key" "$D/once.log" "$D/state"
ok $? "the content key is in neither the log nor the state directory"

fresh
TO="$D/other.pub $D/p256.pub $D/device.pub $D/rsa.pub" enc_publish 1.1.0
secfud_once
staged 1.1.0 "a JWE for four recipients (general JSON serialization), the device third"

fresh
COSE=1 enc_publish 1.1.0
secfud_once
staged 1.1.0 "a COSE_Sign1 over the CBOR manifest inside the JWE (cty cose)"

fresh
COSE=1 ENVELOPE_COSE=1 enc_publish 1.1.0
secfud_once
staged 1.1.0 "a COSE_Sign1 inside a COSE_Encrypt: the whole manifest in COSE, and an encrypted image"
once_log_has "(COSE_Encrypt)"
ok $? "the log names the envelope, a COSE_Encrypt"

fresh
ENVELOPE_COSE=1 TO="$D/other.pub $D/rsa.pub $D/device.pub" enc_publish 1.1.0
secfud_once
staged 1.1.0 "a JWS inside a COSE_Encrypt for three recipients, the device last"

fresh
PLAIN_IMAGE=1 enc_publish 1.1.0
secfud_once
staged 1.1.0 "an encrypted manifest with a plain image"

fresh
PLAIN_MANIFEST=1 enc_publish 1.1.0
secfud_once
staged 1.1.0 "an encrypted image under a signed manifest sent in the clear"

# ---------------------------------------------------------------- refused manifests
fresh
enc_publish 1.1.0
EXTRA_CONF="" dev_write_config
dev_snapshot s
secfud_once
refused s "$ENC11" "encrypted \(JWE\) and this device has no decryption keys" "no decryption-keys configured"

fresh
TO="$D/other.pub $D/p256.pub" enc_publish 1.1.0
dev_snapshot s
secfud_once
refused s "$ENC11" "cannot decrypt|no recipient" "a JWE for other devices"

fresh
enc_publish 1.1.0
/usr/bin/python3 - "$WWW$DIR/manifest.json" <<'PY'
import sys
p = sys.argv[1]
parts = open(p).read().strip().split(".")
c = parts[3]
parts[3] = ("B" if c[0] == "A" else "A") + c[1:]
open(p, "w").write(".".join(parts))
PY
dev_snapshot s
secfud_once
refused s "$ENC11" "decrypt|JWE" "a JWE whose ciphertext was altered"

fresh
enc_publish 1.1.0
/usr/bin/python3 - "$WWW$DIR/manifest.json" <<'PY'
import base64, json, sys
p = sys.argv[1]
parts = open(p).read().strip().split(".")
pad = "=" * (-len(parts[0]) % 4)
h = json.loads(base64.urlsafe_b64decode(parts[0] + pad))
h["zip"] = "DEF"
parts[0] = base64.urlsafe_b64encode(json.dumps(h).encode()).decode().rstrip("=")
open(p, "w").write(".".join(parts))
PY
dev_snapshot s
secfud_once
refused s "$ENC11" "zip|JWE" "a JWE asking for compression"

# cose_edit PYTHON: the served COSE_Encrypt decoded (m, with cbor2), edited
# by PYTHON, written back
cose_edit() {
        /usr/bin/python3 - "$WWW$DIR/manifest.json" "$1" <<'PY'
import sys, cbor2
path, code = sys.argv[1], sys.argv[2]
m = cbor2.loads(open(path, "rb").read())
exec(code)
open(path, "wb").write(cbor2.dumps(m))
PY
}
fresh
COSE=1 ENVELOPE_COSE=1 TO="$D/other.pub $D/p256.pub" enc_publish 1.1.0
dev_snapshot s
secfud_once
refused s "$ENC11" "cannot decrypt|no recipient of the COSE_Encrypt" "a COSE_Encrypt for other devices"

fresh
COSE=1 ENVELOPE_COSE=1 enc_publish 1.1.0
cose_edit 'c = m.value[2]; m.value[2] = c[:-1] + bytes([c[-1] ^ 1])'
dev_snapshot s
secfud_once
refused s "$ENC11" "cannot decrypt with this device" "a COSE_Encrypt whose GCM tag was altered"

fresh
COSE=1 ENVELOPE_COSE=1 enc_publish 1.1.0
cose_edit 'm = cbor2.CBORTag(16, m.value[:3])'
dev_snapshot s
secfud_once
refused s "$ENC11" "COSE_Encrypt0 \\(tag 16\\) uses a key shared by every device" "a COSE_Encrypt0 (one key shared by every device)"

fresh
COSE=1 ENVELOPE_COSE=1 enc_publish 1.1.0
cose_edit 'h = cbor2.loads(m.value[0]); h[2] = [1]; m.value[0] = cbor2.dumps(h)'
dev_snapshot s
secfud_once
refused s "$ENC11" "crit" "a COSE_Encrypt with crit"

fresh
COSE=1 ENVELOPE_COSE=1 KEY=attacker enc_publish 1.1.0
dev_snapshot s
secfud_once
refused s "$ENC11" "signature|kid|trusted" "a COSE_Encrypt around a COSE_Sign1 by an untrusted key"

fresh
KEY=attacker enc_publish 1.1.0
dev_snapshot s
secfud_once
refused s "$ENC11" "signature|kid|trusted" "an encrypted manifest signed by an untrusted key"

fresh
enc_publish 1.1.0
chmod 0644 "$D/dec.d/device.pem"
dev_snapshot s
secfud_once
refused s "$ENC11" "device.pem" "a decryption key file others may read"
chmod 0600 "$D/dec.d/device.pem"
secfud_once
staged 1.1.0 "the same key file made private again"

# ---------------------------------------------------------------- refused images
# image_attack WHAT PATTERN PYTHON: the served encrypted image edited by PYTHON
# (on bytes b, segment size s, tag 16); staging fails, nothing switches
image_attack() {
        local what=$1 pattern=$2 code=$3
        fresh
        enc_publish 1.1.0
        /usr/bin/python3 - "$WWW$ENC11" "$SEG" "$code" <<'PY'
import sys
p, s, code = sys.argv[1], int(sys.argv[2]) + 16, sys.argv[3]
b = bytearray(open(p, "rb").read())
exec(code)
open(p, "wb").write(bytes(b))
PY
        dev_snapshot s
        secfud_once
        [ "$ONCE_STATUS" -ne 0 ]
        ok $? "$what: secfud --once fails"
        once_errors | grep -qE -- "$pattern"
        ok $? "$what: the reason matches /$pattern/ ($(once_errors | tail -1 | cut -c1-160))"
        dev_unchanged s "$what"
        env_has "BOOT_ORDER=A B"
        ok $? "$what: the bootloader still starts A"
}
image_attack "a byte of segment 10 altered" "segment 10" 'b[10 * s + 100] ^= 1'
image_attack "segments 3 and 4 swapped" "segment 3" 'b[3*s:4*s], b[4*s:5*s] = b[4*s:5*s], b[3*s:4*s]'
image_attack "the stream cut after 20 segments" "transfer ended|size|segment" 'del b[20 * s:]'
image_attack "the stream cut inside its last segment" "transfer ended|size|segment" 'del b[-10:]'
image_attack "the stream extended by a segment" "more than the expected|size|segment" 'b += b[:s]'
image_attack "the segment before the last removed" "segment|transfer ended" 'del b[(len(b) // s - 1) * s : len(b) // s * s]'

fresh
enc_publish 1.1.0
cp "$D/img-1.1.0.img" "$WWW$ENC11"
dev_snapshot s
secfud_once
[ "$ONCE_STATUS" -ne 0 ]
ok $? "the image served unencrypted: refused"
dev_unchanged s "the image served unencrypted"

# ---------------------------------------------------------------- transport
fresh
enc_publish 1.1.0
fixture_rule "$ENC11" '{"reset_at": 1000000, "once": true}' >/dev/null
secfud_once
staged 1.1.0 "a connection reset after 1 MB of ciphertext"
range=$(fixture_header "$ENC11" Range)
start=${range#bytes=}
start=${start%-}
[ -n "$start" ] && [ $((start % (SEG + 16))) -eq 0 ] && [ "$start" -gt 0 ]
ok $? "... the retry asks for a range at a segment boundary ($range)"

fresh
enc_publish 1.1.0
fixture_rule "$ENC11" '{"reset_at": 1000000, "once": true}' >/dev/null
fixture_rule_append "$ENC11" '{"range": "ignore"}' >/dev/null
secfud_once
staged 1.1.0 "a reset, then a server that ignores Range: the whole stream again"

# ---------------------------------------------------------------- kill -9 and resume
fresh 88080384
SIZE=83886080 enc_publish 1.1.0
# 70 MiB of ciphertext, then the server holds the connection: past the
# 64 MiB resume checkpoint
fixture_rule "$ENC11" '{"stall_after": 73400320, "stall": 60}' >/dev/null
secfud_once_bg
wait_until 60 eval '[ "$(state_field "(s.get(\"resume\") or {}).get(\"offset\", 0)")" -gt 0 ]'
ok $? "an 80 MiB encrypted image: resume data recorded past the checkpoint"
{
        kill -KILL "$SECFUD_PID"
        secfud_wait
} 2>/dev/null
is "$ONCE_STATUS" 137 "secfud killed by SIGKILL in the middle of the download"
fixture_clear "$ENC11" >/dev/null
secfud_once
staged 1.1.0 "after the kill: the encrypted image"
once_log_has "resuming"
ok $? "... the log says it resumed"
range=$(fixture_header "$ENC11" Range)
start=${range#bytes=}
start=${start%-}
[ -n "$start" ] && [ $((start % (SEG + 16))) -eq 0 ] && [ "$start" -ge $((1024 * (SEG + 16))) ]
ok $? "... from a segment boundary at or past the checkpoint ($range)"
tap_done
