#!/bin/sh
# SPDX-License-Identifier: MIT
# TAP: encrypted manifests and images against independent implementations.
#  - JWE both ways with python3-jwcrypto (ECDH-ES+A256KW on P-256, P-384,
#    P-521 and X25519, RSA-OAEP-256; compact, flattened, general JSON, the
#    JSON "aad" member, apu/apv) and with the jose tool (every key
#    management algorithm of ours that jose's own round trip manages on this
#    machine; the others are skipped naming why);
#  - what a device must refuse: a wrong recipient key, a changed tag or
#    protected header, ciphertexts swapped between recipients, zip, dir,
#    RSA1_5, A256KW, ECDH-ES, other encs, crit, alg "none", a cty that does
#    not name the plaintext, and an inner JWS signed by an untrusted key;
#  - the encrypted image format both ways with an independent reader and
#    writer (tests/interop/segcrypt-ref.py, python3-cryptography's AESGCM),
#    its tamper classes, and the vendor-to-device chain end to end.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-/work/main/build}
SM="$top_builddir/secfu-manifest"
PY=/usr/bin/python3
HELPER="$top_srcdir/tests/interop/jwe-helper.py"
SEGREF="$top_srcdir/tests/interop/segcrypt-ref.py"
KINDS="P-256 P-384 P-521 X25519 RSA"
NO_FIT="secfu-manifest: decrypt: cannot decrypt with this device's key(s)"

if ! "$PY" -c 'import jwcrypto, cryptography' >/dev/null 2>&1; then
        echo "1..0 # SKIP python3-jwcrypto or python3-cryptography is not installed"
        exit 0
fi
if [ ! -x "$SM" ]; then
        echo "Bail out! $SM has not been built"
        exit 1
fi
have_jose=no
command -v jose >/dev/null 2>&1 && have_jose=yes
jose_version=$(dpkg-query -W -f '${Version}' jose 2>/dev/null)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/secfu-jwe.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
cd "$tmp" || exit 1

n=0
failures=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - # SKIP $1"; }
fail() {
        n=$((n + 1)); failures=$((failures + 1)); echo "not ok $n - $1"
        for f in out err; do
                [ -s "$tmp/$f" ] && sed -n '1,5s/^/# '"$f"': /p' "$tmp/$f"
        done
        return 0
}
check() { desc=$1; shift; if "$@"; then pass "$desc"; else fail "$desc"; fi; }
run() { "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
# The plaintext came out exactly.
decrypted() { [ "$rc" = 0 ] && cmp -s "$tmp/out" "$tmp/m1.jws"; }
# Refused with exactly one line naming want, nothing on standard output.
refused() {
        [ "$rc" != 0 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -qF -- "$1" "$tmp/err"
}
no_fit() { [ "$rc" != 0 ] && [ ! -s "$tmp/out" ] && [ "$(cat "$tmp/err")" = "$NO_FIT" ]; }

# ---------------------------------------------------------------- setup
head -c 70000 /dev/urandom >fw.img
"$SM" keygen --alg ES256 --out vendor >/dev/null 2>&1 && "$SM" keygen --alg ES256 --out other >/dev/null 2>&1 &&
        "$SM" create --manufacturer example.com --model gw100 --version 3.1.4 --image fw.img >m.json 2>err &&
        "$SM" sign --key vendor.key m.json >m.jws 2>err && "$SM" sign --key other.key m.json >m-other.jws 2>err || {
        echo "Bail out! cannot make the signed manifests: $(cat err)"
        exit 1
}
tr -d '\n' <m.jws >m1.jws
for k in $KINDS; do
        "$PY" "$HELPER" gen "$k" . "d$k" 2>err && "$PY" "$HELPER" gen "$k" . "x$k" 2>>err || {
                echo "Bail out! jwcrypto cannot make a $k key: $(cat err)"
                exit 1
        }
done
openssl genpkey -algorithm X25519 -out dev-x25519.pem 2>/dev/null &&
        openssl pkey -in dev-x25519.pem -pubout -out dev-x25519.pub.pem 2>/dev/null || {
        echo "Bail out! openssl cannot make an X25519 key"
        exit 1
}

# ---------------------------------------------------------------- secfu-manifest -> jwcrypto
for k in $KINDS; do
        "$SM" encrypt --to "d$k.pub.jwk" m.jws >"ours-$k.jwe" 2>err
        run "$PY" "$HELPER" decrypt "d$k.jwk" "ours-$k.jwe"
        check "$k: secfu-manifest encrypts (compact), jwcrypto decrypts" decrypted
done
"$SM" encrypt --json --to dP-256.pub.jwk m.jws >ours-flat.jwe 2>err
run "$PY" "$HELPER" decrypt dP-256.jwk ours-flat.jwe
check "P-256: secfu-manifest encrypts (general JSON, one recipient), jwcrypto decrypts" decrypted
"$SM" encrypt $(for k in $KINDS; do printf -- '--to d%s.pub.jwk ' "$k"; done) m.jws >ours-all.jwe 2>err
for k in $KINDS; do
        run "$PY" "$HELPER" decrypt "d$k.jwk" ours-all.jwe
        check "general JSON for 5 recipients by secfu-manifest: jwcrypto decrypts with the $k key" decrypted
done
"$SM" encrypt --to dev-x25519.pub.pem m.jws >ours-pem.jwe 2>err
run "$PY" "$HELPER" decrypt dev-x25519.pem ours-pem.jwe
check "X25519 from PEM files: secfu-manifest encrypts, jwcrypto decrypts" decrypted

# ---------------------------------------------------------------- jwcrypto -> secfu-manifest
for k in $KINDS; do
        for form in compact json aad apu; do
                "$PY" "$HELPER" encrypt "$form" jose m1.jws "d$k.pub.jwk" >"jc-$k-$form.jwe" 2>err
                run "$SM" decrypt --key "d$k.jwk" "jc-$k-$form.jwe"
                check "$k: jwcrypto encrypts ($form), secfu-manifest decrypts" decrypted
        done
done
"$PY" "$HELPER" encrypt json jose m1.jws $(for k in $KINDS; do printf 'd%s.pub.jwk ' "$k"; done) >jc-all.jwe 2>err
for k in $KINDS; do
        run "$SM" decrypt --key "d$k.jwk" jc-all.jwe
        check "general JSON for 5 recipients by jwcrypto: secfu-manifest decrypts with the $k key" decrypted
done
"$PY" "$HELPER" encrypt compact jose m1.jws dev-x25519.pub.pem >jc-pem.jwe 2>err
run "$SM" decrypt --key dev-x25519.pem jc-pem.jwe
check "X25519 PEM device key: jwcrypto encrypts, secfu-manifest decrypts" decrypted
run "$SM" decrypt --key xP-256.jwk --key dP-256.jwk jc-P-256-compact.jwe
check "a device with two P-256 keys finds the one that fits" decrypted
# verify takes a JWE made by jwcrypto around the signed manifest: it
# decrypts with the device key, verifies with the vendor key, prints the
# manifest
for k in $KINDS; do
        run "$SM" verify --key vendor.pub --decrypt-key "d$k.jwk" "jc-$k-compact.jwe"
        check "$k: verify --decrypt-key of jwcrypto's JWE: the manifest, verified" \
                sh -c "[ $rc = 0 ] && cmp -s '$tmp/out' m.json && grep -q '^decrypted: a JWE' '$tmp/err' && grep -q '^signed by: vendor.pub' '$tmp/err'"
done
run "$SM" inspect jc-all.jwe
check "inspect of jwcrypto's JWE for 5 recipients names 5, and decrypts nothing" \
        sh -c "[ $rc = 0 ] && [ \$(grep -c '\"alg\": ' '$tmp/out') = 5 ] && grep -q '^form: JWE (general JSON), encrypted; not decrypted' '$tmp/out' && ! grep -q 3.1.4 '$tmp/out'"
run "$SM" verify --key vendor.pub jc-P-256-compact.jwe
check "verify of a JWE without --decrypt-key: refused, saying so" refused "give the device's key with --decrypt-key"
run "$SM" verify --key vendor.pub --decrypt-key xP-256.jwk jc-P-256-compact.jwe
check "verify --decrypt-key with another device's key: refused" refused "cannot decrypt"
"$PY" "$HELPER" encrypt compact jose m-other.jws dP-256.pub.jwk >jc-other.jwe 2>err
run "$SM" verify --key vendor.pub --decrypt-key dP-256.jwk jc-other.jwe
check "verify --decrypt-key: the JWE decrypts, the manifest inside is signed by an untrusted key: refused" \
        refused "secfu-manifest: verify:"

# ---------------------------------------------------------------- jose
# jose reads a compact JWE given with -i as text when it has dots, so
# files are named without them.
for k in $KINDS; do
        if [ "$have_jose" = no ]; then
                skip "$k with the jose tool: jose is not installed"
                continue
        fi
        alg=ECDH-ES+A256KW
        [ "$k" = RSA ] && alg=RSA-OAEP-256
        tmpl="{\"protected\":{\"alg\":\"$alg\",\"enc\":\"A256GCM\",\"cty\":\"jose\"}}"
        # jose's own round trip first: what it cannot do itself is skipped.
        if ! jose jwe enc -I m1.jws -k "d$k.pub.jwk" -i "$tmpl" -c -o jose_self 2>jose_err ||
                ! jose jwe dec -i jose_self -k "d$k.jwk" -O jose_self_out 2>>jose_err; then
                why="jose ${jose_version:-(unknown version)} cannot do $alg with a $k key itself ($(head -c 60 jose_err | tr '\n' ' '))"
                skip "$k: secfu-manifest -> jose: $why"
                skip "$k: jose -> secfu-manifest (compact): $why"
                skip "$k: jose -> secfu-manifest (flattened JSON): $why"
                continue
        fi
        tr -d '\n' <"ours-$k.jwe" >ours_jose
        run jose jwe dec -i ours_jose -k "d$k.jwk" -O -
        check "$k: secfu-manifest encrypts, jose decrypts" decrypted
        jose jwe enc -I m1.jws -k "d$k.pub.jwk" -i "$tmpl" -c -o jose_compact 2>err
        run "$SM" decrypt --key "d$k.jwk" jose_compact
        check "$k: jose encrypts (compact), secfu-manifest decrypts" decrypted
        echo "{\"header\":{\"alg\":\"$alg\"}}" >rcpt.json
        jose jwe enc -I m1.jws -i '{"protected":{"enc":"A256GCM","cty":"jose"}}' -r rcpt.json -k "d$k.pub.jwk" \
                -o jose_flat 2>err
        run "$SM" decrypt --key "d$k.jwk" jose_flat
        check "$k: jose encrypts (flattened JSON), secfu-manifest decrypts" decrypted
done
if [ "$have_jose" = yes ]; then
        echo '{"header":{"alg":"ECDH-ES+A256KW"}}' >rcpt.json
        jose jwe enc -I m1.jws -i '{"protected":{"enc":"A256GCM","cty":"jose"}}' -r rcpt.json -k dP-256.pub.jwk \
                -r rcpt.json -k dP-384.pub.jwk -r rcpt.json -k dP-521.pub.jwk -o jose_general 2>err
        for k in P-256 P-384 P-521; do
                run "$SM" decrypt --key "d$k.jwk" jose_general
                check "general JSON for 3 recipients by jose: secfu-manifest decrypts with the $k key" decrypted
        done
        "$PY" "$HELPER" edit flip-tag jose_compact >jose_flipped 2>err
        run "$SM" decrypt --key dP-521.jwk jose_flipped
        check "a jose JWE with a changed tag: the one message" no_fit
        jose jwe enc -I m1.jws -k dP-256.pub.jwk -i '{"protected":{"alg":"ECDH-ES+A128KW","enc":"A256GCM"}}' -c \
                -o jose_a128kw 2>err
        run "$SM" decrypt --key dP-256.jwk jose_a128kw
        check "jose's ECDH-ES+A128KW is refused" refused 'alg "ECDH-ES+A128KW" is not accepted'
else
        for i in 1 2 3 4 5; do skip "jose: not installed"; done
fi

# ---------------------------------------------------------------- refusals
run "$SM" decrypt --key xP-256.jwk ours-P-256.jwe
check "wrong recipient key (another P-256 key), ours: the one message" no_fit
run "$SM" decrypt --key xRSA.jwk jc-RSA-compact.jwe
check "wrong recipient key (another RSA key), jwcrypto's: the one message" no_fit
run "$SM" decrypt --key dP-384.jwk jc-P-256-compact.jwe
check "a key of another curve: no recipient fits, said as such" refused "no recipient of the JWE (ECDH-ES+A256KW/P-256) fits"
"$PY" "$HELPER" edit flip-tag jc-X25519-compact.jwe >flipped.jwe 2>err
run "$SM" decrypt --key dX25519.jwk flipped.jwe
check "tampered tag: the one message" no_fit
run "$PY" "$HELPER" decrypt dX25519.jwk flipped.jwe
check "(jwcrypto refuses the changed tag too)" test "$rc" != 0
"$PY" "$HELPER" edit protected jc-RSA-compact.jwe "jose+json" >prot.jwe 2>err
run "$SM" decrypt --key dRSA.jwk prot.jwe
check "tampered protected header (cty changed): the one message" no_fit
"$PY" "$HELPER" encrypt compact jose m1.jws xP-256.pub.jwk >for-x.jwe 2>err
"$PY" "$HELPER" edit swap jc-P-256-compact.jwe for-x.jwe >swapped.jwe 2>err
run "$SM" decrypt --key dP-256.jwk swapped.jwe
check "ciphertext, IV and tag swapped in from another recipient's JWE: the one message" no_fit
"$PY" "$HELPER" edit swap for-x.jwe jc-P-256-compact.jwe >swapped2.jwe 2>err
run "$SM" decrypt --key xP-256.jwk swapped2.jwe
check "and the other way round" no_fit
"$PY" "$HELPER" edit swap ours-all.jwe jc-all.jwe >swapped3.jwe 2>err
run "$SM" decrypt --key dRSA.jwk swapped3.jwe
check "general JSON: another JWE's ciphertext under this one's recipients: the one message" no_fit

while read -r kind key want; do
        "$PY" "$HELPER" refused-kind "$kind" m1.jws "d$key.pub.jwk" >"bad-$kind.jwe" 2>err || {
                fail "jwcrypto cannot make the $kind JWE: $(cat err)"
                continue
        }
        run "$SM" decrypt --key "d$key.jwk" "bad-$kind.jwe"
        check "refused: $kind" refused "$want"
done <<'EOF'
zip P-256 has "zip": compressed plaintext is not accepted
dir P-256 alg "dir" (a content key shared with the device) is not accepted
rsa1_5 RSA alg "RSA1_5" (RSA PKCS#1 v1.5 key transport) is not accepted
a256kw P-256 alg "A256KW" is not accepted
ecdh-es P-256 alg "ECDH-ES" is not accepted
cbc P-256 enc "A256CBC-HS512" is not accepted (A256GCM is)
a128gcm X25519 enc "A128GCM" is not accepted (A256GCM is)
crit RSA has "crit": no critical extension is understood
EOF
"$PY" "$HELPER" edit alg-none jc-P-256-json.jwe >none.jwe 2>err
run "$SM" decrypt --key dP-256.jwk none.jwe
check "refused: alg none without an encrypted key" refused 'alg "none" is not accepted'
"$PY" "$HELPER" encrypt compact cose m1.jws dP-256.pub.jwk >cty.jwe 2>err
run "$SM" decrypt --key dP-256.jwk cty.jwe
check "refused: cty \"cose\" around a JWS" refused "does not name its plaintext, a JWS (compact)"
printf 'not a manifest' >plain.txt
"$PY" "$HELPER" encrypt compact jose plain.txt dP-256.pub.jwk >text.jwe 2>err
run "$SM" decrypt --key dP-256.jwk text.jwe
check "refused: a JWE around something that is not a signed manifest" refused "not to a signed manifest"
run "$SM" decrypt --key ../nonexistent.jwk ours-P-256.jwe
check "refused: a missing key file, named" refused "nonexistent.jwk"
"$SM" keygen --alg EdDSA --out ed >/dev/null 2>&1
run "$SM" decrypt --key ed.key ours-P-256.jwe
check "refused: an Ed25519 signing key as a device key" refused "Ed25519 is a signature key"

# The signed manifest inside is the device's next check.
"$SM" encrypt --to dP-256.pub.jwk m-other.jws >other.jwe 2>err
"$SM" decrypt --key dP-256.jwk other.jwe >other.jws 2>err
run "$SM" verify --key vendor.pub other.jws
check "an inner JWS signed by an untrusted key decrypts, and verify then refuses it" refused "secfu-manifest: verify:"
"$SM" decrypt --key dP-256.jwk ours-P-256.jwe >good.jws 2>err
run "$SM" verify --key vendor.pub good.jws
check "the inner JWS signed by the vendor verifies after decryption" test "$rc" = 0

# ---------------------------------------------------------------- the image format
for s in 65536 1000; do
        for size in 0 1 999 1000 1001 65536 200000; do
                head -c "$size" /dev/urandom >img
                rm -f img.enc
                "$SM" encrypt --image img -o img.enc --segment-size "$s" >member.json 2>err
                run "$PY" "$SEGREF" decrypt member.json img.enc img.back
                check "image of $size bytes, $s-byte segments: secfu-manifest writes, the Python reader reads" \
                        cmp -s img img.back
        done
done
head -c 200000 /dev/urandom >py.img
for s in 65536 1000; do
        "$SM" create --manufacturer example.com --model gw100 --version 3.1.4 --image py.img >py.json 2>err
        "$PY" "$SEGREF" member "$s" 200000 >py-member.json
        "$PY" "$SEGREF" encrypt py-member.json py.img py.enc
        "$PY" -c 'import json, sys
m = json.load(open("py.json")); m["firmwareCryptoInfo"]["encryption"] = json.load(open("py-member.json"))
m["crit"] = ["encryption"]; json.dump(m, open("py-enc.json", "w"))'
        rm -f py.back
        run "$SM" decrypt --image py.enc --manifest py-enc.json -o py.back
        check "image of 200000 bytes, $s-byte segments: the Python writer writes, secfu-manifest reads" cmp -s py.img py.back
        for what in swap drop-last append flip; do
                "$PY" "$SEGREF" tamper "$what" "$s" py.enc py.bad
                rm -f py.back
                run "$SM" decrypt --image py.bad --manifest py-enc.json -o py.back
                check "$s-byte segments, $what: refused, and no output file is left" \
                        eval 'refused "encrypted image:" && [ ! -e py.back ]'
        done
done
head -c 150000 img.enc >img.cut
run "$PY" "$SEGREF" decrypt member.json img.cut img.back
check "(the Python reader refuses a truncated stream of ours too)" test "$rc" != 0

# The whole chain: create, encrypt the image into the manifest, sign,
# encrypt the manifest for two device classes; a device decrypts, verifies
# and decrypts the image.
"$SM" create --manufacturer example.com --model gw100 --version 3.1.5 --image fw.img >chain.json 2>err &&
        "$SM" encrypt --image fw.img -o fw.img.enc --manifest chain.json >chain-enc.json 2>err &&
        "$SM" sign --key vendor.key chain-enc.json >chain.jws 2>err &&
        "$SM" encrypt --to dX25519.pub.jwk --to dRSA.pub.jwk chain.jws >chain.jwe 2>err
check "vendor: create, encrypt --image --manifest, sign, encrypt --to (two device classes)" test $? = 0
check "the manifest points at the encrypted image and lists encryption in crit" \
        eval 'grep -q "\"firmwareLocation\": \"fw.img.enc\"" chain-enc.json && grep -q "\"encryption\"" chain-enc.json'
"$SM" decrypt --key dRSA.jwk chain.jwe >dev.jws 2>err && "$SM" verify --key vendor.pub dev.jws >dev.json 2>err &&
        "$SM" decrypt --image fw.img.enc --manifest dev.jws -o fw.dev 2>err
check "device: decrypt, verify, decrypt the image: the image comes back" cmp -s fw.img fw.dev
run "$PY" "$HELPER" decrypt dX25519.jwk chain.jwe
check "the other device class opens the same JWE with jwcrypto" eval 'cmp -s out chain.jws || { tr -d "\n" <chain.jws >c1 && cmp -s out c1; }'
head -c 70000 /dev/urandom >fw2.img
run "$SM" encrypt --image fw2.img -o fw2.enc --manifest chain.json
check "encrypt --image refuses a manifest whose digests are another image's" \
        eval 'refused "is not the image file" && [ ! -e fw2.enc ]'

echo "1..$n"
[ "$failures" -eq 0 ]
