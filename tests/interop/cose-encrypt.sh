#!/bin/sh
# SPDX-License-Identifier: MIT
# TAP: COSE_Encrypt around a signed manifest (doc/encryption.md) against an
# independent implementation (tests/interop/cose-encrypt-ref.py, written
# from RFC 9052/9053 with python3-cbor2 and python3-cryptography):
#  - both ways for ECDH-ES + A256KW on P-256, P-384, P-521 and X25519 and
#    for RSA-OAEP-256, one recipient and five; a COSE_Sign1 and a JWS
#    inside; verify --decrypt-key and inspect (ruby-cose 1.2 cannot read a
#    COSE_Encrypt with recipients, so it is not used here);
#  - what a device must refuse, each with one line and nothing printed: a
#    wrong key, the GCM tag, the ciphertext, the protected header, a wrapped
#    key changed, wrapped keys swapped between recipients, COSE_Encrypt0,
#    "direct", crit, alg unprotected, A128GCM, a Partial IV, nested
#    recipients, a detached ciphertext, an ECDH-SS static key, a label in
#    both headers, a private ephemeral key, untagged input, a content type
#    that does not name the plaintext, an inner manifest signed by an
#    untrusted key.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/interop/interop-lib.sh
. "$top_srcdir/tests/interop/interop-lib.sh"
REF="$top_srcdir/tests/interop/cose-encrypt-ref.py"
KINDS="P-256 P-384 P-521 X25519 RSA"
NO_FIT="secfu-manifest: decrypt: cannot decrypt with this device's key(s)"

"$PY" -c 'import cbor2, cryptography' >/dev/null 2>&1 ||
        skip_all "python3-cbor2 or python3-cryptography is not installed"
interop_start cose-enc

# The plaintext came out exactly (the signed manifest in $want).
want=m.cose
decrypted() { [ "$rc" = 0 ] && cmp -s "$tmp/out" "$tmp/$want"; }
# refused WANT [CMD]: refused with exactly one line "secfu-manifest: CMD: ..."
# (CMD decrypt by default) naming WANT, nothing on standard output.
refused() { cli_refused "${2:-decrypt}" && grep -qF -- "$1" "$tmp/err"; }
no_fit() { [ "$rc" != 0 ] && [ ! -s "$tmp/out" ] && [ "$(cat "$tmp/err")" = "$NO_FIT" ]; }

# ---------------------------------------------------------------- setup
head -c 70000 /dev/urandom >fw.img
"$SM" keygen --alg ES256 --out vendor >/dev/null 2>&1 && "$SM" keygen --alg ES256 --out other >/dev/null 2>&1 &&
        "$SM" create --manufacturer example.com --model gw100 --version 3.1.4 --image fw.img >m.json 2>err &&
        "$SM" sign --cose --key vendor.key -o m.cose m.json 2>err &&
        "$SM" sign --cose --key other.key -o m-other.cose m.json 2>err &&
        "$SM" sign --key vendor.key m.json >m.jws 2>err || {
        bail "cannot make the signed manifests: $(cat err)"
}
tr -d '\n' <m.jws >m1.jws
for k in $KINDS; do
        for who in d x; do
                case $k in
                P-*) openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$k" -out "$who$k.pem" 2>err ;;
                X25519) openssl genpkey -algorithm X25519 -out "$who$k.pem" 2>err ;;
                RSA) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$who$k.pem" 2>err ;;
                esac
                openssl pkey -in "$who$k.pem" -pubout -out "$who$k.pub" 2>>err || {
                        bail "openssl cannot make a $k key: $(cat err)"
                }
        done
done
# all_pubs [OPTION]: every device public key, each after OPTION when given
all_pubs() { for k in $KINDS; do printf '%s d%s.pub ' "${1:-}" "$k"; done; }

# ---------------------------------------------------------------- secfu-manifest -> reference
for k in $KINDS; do
        "$SM" encrypt --cose --to "d$k.pub" -o "ours-$k.cose" m.cose 2>err
        run "$PY" "$REF" decrypt "d$k.pem" "ours-$k.cose"
        check "$k: secfu-manifest encrypts a COSE_Sign1 (COSE_Encrypt), the reference decrypts" decrypted
done
# shellcheck disable=SC2046
"$SM" encrypt --cose $(all_pubs --to) -o ours-all.cose m.cose 2>err
for k in $KINDS; do
        run "$PY" "$REF" decrypt "d$k.pem" ours-all.cose
        check "5 recipients by secfu-manifest: the reference decrypts with the $k key" decrypted
done
run "$PY" "$REF" decrypt xP-256.pem ours-all.cose
check "(the reference finds no recipient for a key that is not one)" test "$rc" != 0
"$SM" encrypt --cose --to dX25519.pub -o ours-jws.cose m.jws 2>err
want=m1.jws
run "$PY" "$REF" decrypt dX25519.pem ours-jws.cose
check "a JWS inside a COSE_Encrypt by secfu-manifest: the reference decrypts" decrypted
want=m.cose

# ---------------------------------------------------------------- reference -> secfu-manifest
for k in $KINDS; do
        "$PY" "$REF" encrypt m.cose "ref-$k.cose" 'application/cose; cose-type="cose-sign1"' "d$k.pub" 2>err
        run "$SM" decrypt --key "d$k.pem" "ref-$k.cose"
        check "$k: the reference encrypts (no kid), secfu-manifest decrypts" decrypted
done
# shellcheck disable=SC2046
"$PY" "$REF" encrypt m.cose ref-all.cose - $(all_pubs) 2>err
for k in $KINDS; do
        run "$SM" decrypt --key "d$k.pem" ref-all.cose
        check "5 recipients by the reference, no content type: secfu-manifest decrypts with the $k key" decrypted
done
run "$SM" decrypt --key xP-384.pem --key dP-384.pem ref-all.cose
check "a device with two P-384 keys finds the one that fits" decrypted
"$PY" "$REF" encrypt m1.jws ref-jws.cose application/jose dRSA.pub 2>err
want=m1.jws
run "$SM" decrypt --key dRSA.pem ref-jws.cose
check "a JWS inside the reference's COSE_Encrypt (content type application/jose): decrypted" decrypted
want=m.cose
for k in $KINDS; do
        run "$SM" verify --key vendor.pub --decrypt-key "d$k.pem" "ref-$k.cose"
        check "$k: verify --decrypt-key of the reference's COSE_Encrypt: the manifest (CBOR), verified" \
                sh -c "[ $rc = 0 ] && grep -aq 3.1.4 '$tmp/out' && grep -q '^decrypted: a COSE_Encrypt' '$tmp/err' && grep -q '^signed by: vendor.pub' '$tmp/err'"
done
run "$SM" inspect ref-all.cose
check "inspect of the reference's COSE_Encrypt names 5 recipients, and decrypts nothing" \
        sh -c "[ $rc = 0 ] && [ \$(grep -c '\"alg\": ' '$tmp/out') = 5 ] && grep -q '^form: COSE_Encrypt, encrypted; not decrypted' '$tmp/out' && ! grep -q 3.1.4 '$tmp/out'"
run "$SM" verify --key vendor.pub ref-P-256.cose
check "verify of a COSE_Encrypt without --decrypt-key: refused, saying so" refused "give the device's key with --decrypt-key" verify
"$PY" "$REF" encrypt m-other.cose ref-other.cose - dP-256.pub 2>err
run "$SM" verify --key vendor.pub --decrypt-key dP-256.pem ref-other.cose
check "verify --decrypt-key: it decrypts, the manifest inside is signed by an untrusted key: refused" \
        refused "" verify

# ---------------------------------------------------------------- refused
run "$SM" decrypt --key xX25519.pem ref-X25519.cose
check "another device's X25519 key: one line, nothing decrypted" no_fit
run "$SM" decrypt --key dRSA.pem ref-X25519.cose
check "a device key of another type: refused as no recipient fitting" refused "no recipient of the COSE_Encrypt (ECDH-ES+A256KW/X25519) fits"
# shellcheck disable=SC2046
"$PY" "$REF" encrypt m.cose two.cose - dP-256.pub xP-256.pub 2>err
for what in tag ciphertext protected wrapped; do
        "$PY" "$REF" mutate "$what" two.cose "bad-$what.cose" 2>err
        run "$SM" decrypt --key dP-256.pem "bad-$what.cose"
        check "$what changed: refused with the one line that tells nothing" no_fit
done
"$PY" "$REF" mutate swap two.cose bad-swap.cose 2>err
run "$SM" decrypt --key xP-256.pem bad-swap.cose
check "wrapped keys swapped between two recipients: refused" no_fit
refusal() { # refusal MUTATION WANT DESCRIPTION
        "$PY" "$REF" mutate "$1" two.cose "bad-$1.cose" 2>err
        run "$SM" decrypt --key dP-256.pem "bad-$1.cose"
        check "$3: refused before any key is used ($2)" refused "$2"
}
refusal encrypt0 "COSE_Encrypt0 (tag 16) uses a key shared by every device" "COSE_Encrypt0"
refusal direct 'alg "direct" (-6) uses a key shared by every device' "a recipient with alg direct"
refusal crit '"crit" (2)' "crit in the protected header"
refusal alg-unprotected "alg is in the unprotected header" "A256GCM only in the unprotected header"
refusal a128gcm "is not A256GCM" "A128GCM"
refusal partial-iv "Partial IV" "a Partial IV"
refusal nested "nested layers are refused" "a recipient with recipients"
refusal detached "ciphertext is nil" "a detached ciphertext"
refusal static-key "ECDH-SS" "a static sender key id"
refusal both-buckets "in both the protected and the unprotected header" "alg in both headers"
refusal private-epk "holds a private key" "an ephemeral key with its private part"
refusal untagged "not an encrypted manifest" "an untagged COSE_Encrypt"
"$PY" "$REF" encrypt m.cose bad-cty.cose application/jose dP-256.pub 2>err
run "$SM" decrypt --key dP-256.pem bad-cty.cose
check "a content type that names a JWS around a COSE_Sign1: refused" refused "does not name its plaintext"
printf 'plain text, no signature' >plain.txt
"$PY" "$REF" encrypt plain.txt bad-plain.cose - dP-256.pub 2>err
run "$SM" decrypt --key dP-256.pem bad-plain.cose
check "a COSE_Encrypt around text that is no signed manifest: refused" refused "not to a signed manifest"

tap_done
