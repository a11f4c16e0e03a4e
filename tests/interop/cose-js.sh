#!/bin/sh
# SPDX-License-Identifier: MIT
# TAP: COSE interoperability with two npm implementations under Debian's
# nodejs: cose-kit (all ten algorithms, COSE_Sign1 and COSE_Sign, both
# directions) and cose-js (ES*, PS*, RS*: it verifies our COSE_Sign1, and
# we verify its COSE_Sign1 and COSE_Sign).  The packages are installed at
# pinned versions into a cache directory (SFU_NPM_DIR, default
# $top_builddir/npm-cose); when npm cannot install them (no network) the
# test is skipped with that reason, never passed.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/interop/interop-lib.sh
. "$top_srcdir/tests/interop/interop-lib.sh"
HELPER="$top_srcdir/tests/interop/cose-js-helper.js"
NPM_DIR=${SFU_NPM_DIR:-$top_builddir/npm-cose}
PACKAGES="cose-kit@1.7.1 cose-js@0.9.0"

command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
        skip_all "nodejs/npm are not installed (apt-get install nodejs npm)"
[ -x "$CT" ] || bail "$CT has not been built (make builds it, make check the test tools)"
if [ ! -f "$NPM_DIR/.installed" ] || [ "$(cat "$NPM_DIR/.installed")" != "$PACKAGES" ]; then
        mkdir -p "$NPM_DIR" || exit 1
        # shellcheck disable=SC2086
        if ! (cd "$NPM_DIR" && timeout 300 npm install --no-audit --no-fund --no-save --ignore-scripts \
                --prefix "$NPM_DIR" $PACKAGES) >"$NPM_DIR/install.log" 2>&1; then
                skip_all "npm install $PACKAGES failed (no registry?): $(tail -1 "$NPM_DIR/install.log")"
        fi
        echo "$PACKAGES" >"$NPM_DIR/.installed"
fi
export NODE_PATH="$NPM_DIR/node_modules"

interop_start cose-js "$CT"

js() { node "$HELPER" "$@"; }

"$CT" manifest-cbor "$DATA/manifest/minimal.json" >m.cbor || bail "manifest-cbor failed"
cp "$DATA/manifest/minimal.json" m.json

key_for() {
        case $1 in
        ES256) echo ec-p256 ;; ES384) echo ec-p384 ;; ES512) echo ec-p521 ;; EdDSA) echo ed25519 ;; *) echo rsa2048 ;;
        esac
}

for alg in $ALGS; do
        k=$(key_for "$alg"); priv="$DATA/keys/$k.pem"; pub="$DATA/keys/$k.pub.pem"
        kid=$("$CT" kid "$pub")

        # cose-kit, both directions.
        "$CT" sign1 --key "$priv" --alg "$alg" m.cbor >"o1-$alg.cose" 2>err
        run js kit-verify "o1-$alg.cose" m.cbor "$pub"
        check "$alg: we sign COSE_Sign1, cose-kit verifies" test "$rc" = 0
        "$CT" sign --key "$priv" --alg "$alg" m.cbor >"o-$alg.cose" 2>err
        run js kit-verify "o-$alg.cose" m.cbor "$pub"
        check "$alg: we sign COSE_Sign, cose-kit verifies" test "$rc" = 0
        run js kit-sign1 "$priv" "$alg" "$kid" 60 m.cbor "k1-$alg.cose"
        run "$CT" verify --key "$pub" "k1-$alg.cose"
        check "$alg: cose-kit signs COSE_Sign1 (content type 60), we verify" accepted m.cbor
        run js kit-sign1 "$priv" "$alg" "$kid" 50 m.json "k1j-$alg.cose"
        run "$CT" verify --key "$pub" --content json "k1j-$alg.cose"
        check "$alg: cose-kit signs COSE_Sign1 over manifest.json (content type 50), we verify" accepted m.json

        # cose-js: no EdDSA.
        [ "$alg" = EdDSA ] && continue
        run js js-verify "o1-$alg.cose" m.cbor "$pub" "$alg"
        check "$alg: we sign COSE_Sign1, cose-js verifies" test "$rc" = 0
        run js js-sign1 "$priv" "$alg" "$kid" "$CBOR_CT" m.cbor "j1-$alg.cose"
        run "$CT" verify --key "$pub" "j1-$alg.cose"
        check "$alg: cose-js signs COSE_Sign1 (kid unprotected), we verify" accepted m.cbor
        run js js-sign "$CBOR_CT" m.cbor "j-$alg.cose" "$priv:$alg:$kid"
        run "$CT" verify --key "$pub" "j-$alg.cose"
        check "$alg: cose-js signs COSE_Sign, we verify" accepted m.cbor
done

# Several signers with cose-kit: cose-kit 1.7.1 writes each
# COSE_Signature's protected header as a map instead of the byte string
# RFC 9052 section 4.1 requires (it reads its own output back), so we
# refuse its COSE_Sign, rightly, and the other direction is checked.
k1=$("$CT" kid "$DATA/keys/ec-p256.pub.pem"); k2=$("$CT" kid "$DATA/keys/ed25519.pub.pem")
k3=$("$CT" kid "$DATA/keys/rsa2048.pub.pem")
run js kit-sign 60 m.cbor kit3.cose "$DATA/keys/ec-p256.pem:ES256:$k1" "$DATA/keys/ed25519.pem:EdDSA:$k2" \
        "$DATA/keys/rsa2048.pem:RS512:$k3"
run js kit-verify kit3.cose m.cbor "$DATA/keys/ec-p256.pub.pem" "$DATA/keys/ed25519.pub.pem" "$DATA/keys/rsa2048.pub.pem"
check "cose-kit reads back its own 3-signer COSE_Sign" test "$rc" = 0
run "$CT" verify --key "$DATA/keys/ec-p256.pub.pem" --key "$DATA/keys/ed25519.pub.pem" \
        --key "$DATA/keys/rsa2048.pub.pem" --min 3 kit3.cose
check "cose-kit's COSE_Sign (a COSE_Signature protected header as a map) is refused" \
        cose_refused "signature 1: the protected header is a map, not a byte string"
"$CT" sign --key "$DATA/keys/ec-p256.pem" m.cbor >s1.cose 2>err &&
        "$CT" add --key "$DATA/keys/ed25519.pem" s1.cose >s2.cose 2>err &&
        "$CT" add --key "$DATA/keys/rsa2048.pem" --alg PS384 s2.cose >s3.cose 2>err
run js kit-verify s3.cose m.cbor "$DATA/keys/ec-p256.pub.pem" "$DATA/keys/ed25519.pub.pem" "$DATA/keys/rsa2048.pub.pem"
check "we sign COSE_Sign and add 2 signatures; cose-kit verifies all three" test "$rc" = 0

# What cose-kit writes that our rules refuse: a text content type becomes
# a byte string in its protected header (cose-kit encodes every string
# header value as bytes).
run js kit-sign1 "$DATA/keys/ec-p256.pem" ES256 "$k1" 0 m.cbor ct0.cose
run "$CT" verify --key "$DATA/keys/ec-p256.pub.pem" ct0.cose
check "cose-kit COSE_Sign1 with content type 0 (text/plain): refused" cose_refused "content type 0 is not a manifest's"
# Damaged ones are refused on both sides.
head -c -1 o1-ES256.cose >trunc.cose
run js kit-verify trunc.cose m.cbor "$DATA/keys/ec-p256.pub.pem"
check "cose-kit refuses our COSE_Sign1 truncated by one byte" test "$rc" != 0
run js js-verify o1-ES384.cose m.cbor "$DATA/keys/ec-p256.pub.pem" ES256
check "cose-js refuses our ES384 COSE_Sign1 with a P-256 key" test "$rc" != 0
run js kit-verify o1-ES256.cose m.cbor "$DATA/keys/ec-p256-b.pub.pem"
check "cose-kit refuses our COSE_Sign1 with another P-256 key" test "$rc" != 0

tap_done
