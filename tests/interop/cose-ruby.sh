#!/bin/sh
# SPDX-License-Identifier: MIT
# TAP: COSE interoperability with Debian's ruby-cose: it verifies what we
# sign, COSE_Sign1 and COSE_Sign (several signers), for every algorithm it
# has (ES256, ES384, ES512, PS256, PS384, PS512), and refuses what we made
# and then damaged.  ruby-cose has no signer, so this is one direction;
# tests/interop/cose-python.sh and cose-js.sh cover the other.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/interop/interop-lib.sh
. "$top_srcdir/tests/interop/interop-lib.sh"
HELPER="$top_srcdir/tests/interop/cose-ruby-helper.rb"

command -v ruby >/dev/null 2>&1 && ruby -e 'require "cose"' >/dev/null 2>&1 ||
        skip_all "ruby-cose is not installed (apt-get install ruby-cose)"
interop_start cose-ruby "$CT"

rb() { ruby "$HELPER" "$@" 2>"$tmp/err"; }

"$CT" manifest-cbor "$DATA/manifest/minimal.json" >m.cbor || bail "manifest-cbor failed"
cp "$DATA/manifest/minimal.json" m.json

# The test keys of tests/data/keys (openssl-made PEM).
key_for() {
        case $1 in
        ES256) echo ec-p256 ;; ES384) echo ec-p384 ;; ES512) echo ec-p521 ;; *) echo rsa2048 ;;
        esac
}

for alg in ES256 ES384 ES512 PS256 PS384 PS512; do
        k=$(key_for "$alg")
        kid=$("$CT" kid "$DATA/keys/$k.pub.pem")
        "$CT" sign1 --key "$DATA/keys/$k.pem" --alg "$alg" m.cbor >"$alg-1.cose" 2>err
        rb verify "$alg-1.cose" m.cbor "$CBOR_CT" "$DATA/keys/$k.pub.pem:$kid"
        ok $? "$alg: we sign COSE_Sign1 (CBOR manifest), ruby-cose verifies"
        "$CT" sign1 --key "$DATA/keys/$k.pem" --alg "$alg" --content json m.json >"$alg-1j.cose" 2>err
        rb verify "$alg-1j.cose" m.json "$JSON_CT" "$DATA/keys/$k.pub.pem:$kid"
        ok $? "$alg: we sign COSE_Sign1 over manifest.json, ruby-cose verifies"
        "$CT" sign --key "$DATA/keys/$k.pem" --alg "$alg" m.cbor >"$alg.cose" 2>err
        rb verify "$alg.cose" m.cbor "$CBOR_CT" "$DATA/keys/$k.pub.pem:$kid"
        ok $? "$alg: we sign COSE_Sign, ruby-cose verifies"
        # Damaged: the last byte of the signature, and a different key.
        head -c -1 "$alg-1.cose" >bad.cose
        last=$(tail -c 1 "$alg-1.cose" | od -An -tu1 | tr -d ' ')
        printf "$(printf '\\%03o' $(( (last + 1) % 256 )))" >>bad.cose
        rb verify bad.cose m.cbor "$CBOR_CT" "$DATA/keys/$k.pub.pem:$kid"
        [ $? -ne 0 ]; ok $? "$alg: ruby-cose refuses our COSE_Sign1 with the last signature byte changed"
done

# Three signers in one COSE_Sign; ruby-cose checks each by its kid.
k1=$("$CT" kid "$DATA/keys/ec-p256.pub.pem"); k2=$("$CT" kid "$DATA/keys/ec-p384.pub.pem")
k3=$("$CT" kid "$DATA/keys/rsa2048.pub.pem")
"$CT" sign --key "$DATA/keys/ec-p256.pem" m.cbor >s1.cose 2>err &&
        "$CT" add --key "$DATA/keys/ec-p384.pem" s1.cose >s2.cose 2>err &&
        "$CT" add --key "$DATA/keys/rsa2048.pem" --alg PS512 s2.cose >s3.cose 2>err
rb verify s3.cose m.cbor "$CBOR_CT" "$DATA/keys/ec-p256.pub.pem:$k1" "$DATA/keys/ec-p384.pub.pem:$k2" \
        "$DATA/keys/rsa2048.pub.pem:$k3"
ok $? "we sign COSE_Sign with ES256 and add ES384 and PS512 signatures; ruby-cose verifies all three"
rb verify s3.cose m.cbor "$CBOR_CT" "$DATA/keys/ec-p256-b.pub.pem:$k1"
[ $? -ne 0 ]; ok $? "ruby-cose refuses our COSE_Sign checked with another P-256 key under the first kid"

tap_done
