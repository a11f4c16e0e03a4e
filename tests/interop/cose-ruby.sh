#!/bin/sh
# SPDX-License-Identifier: MIT
# TAP: COSE interoperability with Debian's ruby-cose: it verifies what
# secfu-manifest signs, COSE_Sign1 and COSE_Sign (several signers), for
# every algorithm it has (ES256, ES384, ES512, PS256, PS384, PS512), and
# refuses what we made and then damaged.  ruby-cose has no signer, so this is one direction;
# tests/interop/cose-python.sh and cose-js.sh cover the other.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build}
SM="$top_builddir/secfu-manifest"
HELPER="$top_srcdir/tests/interop/cose-ruby-helper.rb"
DATA="$top_srcdir/tests/data"
CBOR_CT=application/secfu-manifest+cbor
JSON_CT=application/secfu-manifest+json

if ! command -v ruby >/dev/null 2>&1 || ! ruby -e 'require "cose"' >/dev/null 2>&1; then
        echo "1..0 # SKIP ruby-cose is not installed (apt-get install ruby-cose)"
        exit 0
fi
if [ ! -x "$SM" ]; then
        echo "Bail out! $SM has not been built"
        exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/secfu-cose-ruby.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
cd "$tmp" || exit 1

n=0
failures=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
        n=$((n + 1)); failures=$((failures + 1)); echo "not ok $n - $1"
        [ -s "$tmp/err" ] && sed -n '1,5s/^/# err: /p' "$tmp/err"
        return 0
}
rb() { ruby "$HELPER" "$@" 2>"$tmp/err"; }
# kid FILE: the key id secfu-manifest inspect finds in a key file.
kid() { "$SM" inspect "$1" 2>/dev/null | sed -n 's/^kid: //p'; }

cp "$DATA/manifest/minimal.json" m.json
# Our CBOR form of the manifest: the payload of what sign --cose makes.
if ! "$SM" sign --cose --key "$DATA/keys/ec-p256.pem" -o m.cose m.json 2>err ||
        ! "$SM" verify --quiet --key "$DATA/keys/ec-p256.pub.pem" m.cose >m.cbor 2>err; then
        echo "Bail out! secfu-manifest cannot make the CBOR manifest: $(cat err)"
        exit 1
fi

# The test keys of tests/data/keys (openssl-made PEM).
key_for() {
        case $1 in
        ES256) echo ec-p256 ;; ES384) echo ec-p384 ;; ES512) echo ec-p521 ;; *) echo rsa2048 ;;
        esac
}

for alg in ES256 ES384 ES512 PS256 PS384 PS512; do
        k=$(key_for "$alg")
        kid=$(kid "$DATA/keys/$k.pub.pem")
        "$SM" sign --cose --key "$DATA/keys/$k.pem" --alg "$alg" -o "$alg-1.cose" m.json 2>err
        if rb verify "$alg-1.cose" m.cbor "$CBOR_CT" "$DATA/keys/$k.pub.pem:$kid"; then
                pass "$alg: we sign COSE_Sign1 (CBOR manifest), ruby-cose verifies"
        else
                fail "$alg: we sign COSE_Sign1 (CBOR manifest), ruby-cose verifies"
        fi
        "$SM" sign --cose --content json --key "$DATA/keys/$k.pem" --alg "$alg" -o "$alg-1j.cose" m.json 2>err
        if rb verify "$alg-1j.cose" m.json "$JSON_CT" "$DATA/keys/$k.pub.pem:$kid"; then
                pass "$alg: we sign COSE_Sign1 over manifest.json, ruby-cose verifies"
        else
                fail "$alg: we sign COSE_Sign1 over manifest.json, ruby-cose verifies"
        fi
        "$SM" sign --cose-sign --key "$DATA/keys/$k.pem" --alg "$alg" -o "$alg.cose" m.json 2>err
        if rb verify "$alg.cose" m.cbor "$CBOR_CT" "$DATA/keys/$k.pub.pem:$kid"; then
                pass "$alg: we sign COSE_Sign, ruby-cose verifies"
        else
                fail "$alg: we sign COSE_Sign, ruby-cose verifies"
        fi
        # Damaged: the last byte of the signature, and a different key.
        head -c -1 "$alg-1.cose" >bad.cose
        last=$(tail -c 1 "$alg-1.cose" | od -An -tu1 | tr -d ' ')
        printf "$(printf '\\%03o' $(( (last + 1) % 256 )))" >>bad.cose
        if rb verify bad.cose m.cbor "$CBOR_CT" "$DATA/keys/$k.pub.pem:$kid"; then
                fail "$alg: ruby-cose refuses our COSE_Sign1 with the last signature byte changed"
        else
                pass "$alg: ruby-cose refuses our COSE_Sign1 with the last signature byte changed"
        fi
done

# Three signers in one COSE_Sign; ruby-cose checks each by its kid.
k1=$(kid "$DATA/keys/ec-p256.pub.pem"); k2=$(kid "$DATA/keys/ec-p384.pub.pem")
k3=$(kid "$DATA/keys/rsa2048.pub.pem")
"$SM" sign --cose-sign --key "$DATA/keys/ec-p256.pem" -o s1.cose m.json 2>err &&
        "$SM" sign --key "$DATA/keys/ec-p384.pem" -o s2.cose s1.cose 2>err &&
        "$SM" sign --key "$DATA/keys/rsa2048.pem" --alg PS512 -o s3.cose s2.cose 2>err
if rb verify s3.cose m.cbor "$CBOR_CT" "$DATA/keys/ec-p256.pub.pem:$k1" "$DATA/keys/ec-p384.pub.pem:$k2" \
        "$DATA/keys/rsa2048.pub.pem:$k3"; then
        pass "we sign COSE_Sign with ES256 and add ES384 and PS512 signatures; ruby-cose verifies all three"
else
        fail "we sign COSE_Sign with ES256 and add ES384 and PS512 signatures; ruby-cose verifies all three"
fi
"$SM" sign --cose --key "$DATA/keys/ec-p256.pem" --key "$DATA/keys/ec-p384.pem" --key "$DATA/keys/rsa2048.pem" \
        --alg PS512 -o one-go.cose m.json 2>err
if rb verify one-go.cose m.cbor "$CBOR_CT" "$DATA/keys/ec-p256.pub.pem:$k1" "$DATA/keys/ec-p384.pub.pem:$k2" \
        "$DATA/keys/rsa2048.pub.pem:$k3"; then
        pass "the same three --key in one sign --cose; ruby-cose verifies all three"
else
        fail "the same three --key in one sign --cose; ruby-cose verifies all three"
fi
if rb verify s3.cose m.cbor "$CBOR_CT" "$DATA/keys/ec-p256-b.pub.pem:$k1"; then
        fail "ruby-cose refuses our COSE_Sign checked with another P-256 key under the first kid"
else
        pass "ruby-cose refuses our COSE_Sign checked with another P-256 key under the first kid"
fi

echo "1..$n"
[ "$failures" = 0 ]
