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
top_builddir=${top_builddir:-$top_srcdir/build}
SM="$top_builddir/secfu-manifest"
HELPER="$top_srcdir/tests/interop/cose-js-helper.js"
DATA="$top_srcdir/tests/data"
NPM_DIR=${SFU_NPM_DIR:-$top_builddir/npm-cose}
PACKAGES="cose-kit@1.7.1 cose-js@0.9.0"
ALGS="ES256 ES384 ES512 EdDSA RS256 RS384 RS512 PS256 PS384 PS512"
CBOR_CT=application/secfu-manifest+cbor

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        echo "1..0 # SKIP nodejs/npm are not installed (apt-get install nodejs npm)"
        exit 0
fi
if [ ! -x "$SM" ]; then
        echo "Bail out! $SM has not been built"
        exit 1
fi
if [ ! -f "$NPM_DIR/.installed" ] || [ "$(cat "$NPM_DIR/.installed")" != "$PACKAGES" ]; then
        mkdir -p "$NPM_DIR" || exit 1
        # shellcheck disable=SC2086
        if ! (cd "$NPM_DIR" && timeout 300 npm install --no-audit --no-fund --no-save --ignore-scripts \
                --prefix "$NPM_DIR" $PACKAGES) >"$NPM_DIR/install.log" 2>&1; then
                echo "1..0 # SKIP npm install $PACKAGES failed (no registry?): $(tail -1 "$NPM_DIR/install.log")"
                exit 0
        fi
        echo "$PACKAGES" >"$NPM_DIR/.installed"
fi
export NODE_PATH="$NPM_DIR/node_modules"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/secfu-cose-js.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
cd "$tmp" || exit 1

n=0
failures=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
        n=$((n + 1)); failures=$((failures + 1)); echo "not ok $n - $1"
        for f in out err; do
                [ -s "$tmp/$f" ] && sed -n '1,5s/^/# '"$f"': /p' "$tmp/$f"
        done
        return 0
}
check() { desc=$1; shift; if "$@"; then pass "$desc"; else fail "$desc"; fi; }
run() { "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
accepted() { [ "$rc" = 0 ] && cmp -s "$tmp/out" "$1"; }
refused() {
        [ "$rc" = 1 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" = 1 ] &&
                grep -q "^secfu-manifest: verify: .*$1" "$tmp/err"
}
js() { node "$HELPER" "$@"; }
# kid FILE: the key id secfu-manifest inspect finds in a key file.
kid() { "$SM" inspect "$1" 2>/dev/null | sed -n 's/^kid: //p'; }

cp "$DATA/manifest/minimal.json" m.json
# Our CBOR form of the manifest: the payload of what sign --cose makes.
if ! "$SM" sign --cose --key "$DATA/keys/ec-p256.pem" -o m.cose m.json 2>err ||
        ! "$SM" verify --quiet --key "$DATA/keys/ec-p256.pub.pem" m.cose >m.cbor 2>err; then
        echo "Bail out! secfu-manifest cannot make the CBOR manifest: $(cat err)"
        exit 1
fi

key_for() {
        case $1 in
        ES256) echo ec-p256 ;; ES384) echo ec-p384 ;; ES512) echo ec-p521 ;; EdDSA) echo ed25519 ;; *) echo rsa2048 ;;
        esac
}

for alg in $ALGS; do
        k=$(key_for "$alg"); priv="$DATA/keys/$k.pem"; pub="$DATA/keys/$k.pub.pem"
        kid=$(kid "$pub")

        # cose-kit, both directions.
        "$SM" sign --cose --key "$priv" --alg "$alg" -o "o1-$alg.cose" m.json 2>err
        run js kit-verify "o1-$alg.cose" m.cbor "$pub"
        check "$alg: we sign COSE_Sign1, cose-kit verifies" test "$rc" = 0
        "$SM" sign --cose-sign --key "$priv" --alg "$alg" -o "o-$alg.cose" m.json 2>err
        run js kit-verify "o-$alg.cose" m.cbor "$pub"
        check "$alg: we sign COSE_Sign, cose-kit verifies" test "$rc" = 0
        run js kit-sign1 "$priv" "$alg" "$kid" 60 m.cbor "k1-$alg.cose"
        run "$SM" verify --key "$pub" "k1-$alg.cose"
        check "$alg: cose-kit signs COSE_Sign1 (content type 60), we verify" accepted m.cbor
        run js kit-sign1 "$priv" "$alg" "$kid" 50 m.json "k1j-$alg.cose"
        run "$SM" verify --key "$pub" "k1j-$alg.cose"
        check "$alg: cose-kit signs COSE_Sign1 over manifest.json (content type 50), we verify" accepted m.json

        # cose-js: no EdDSA.
        [ "$alg" = EdDSA ] && continue
        run js js-verify "o1-$alg.cose" m.cbor "$pub" "$alg"
        check "$alg: we sign COSE_Sign1, cose-js verifies" test "$rc" = 0
        run js js-sign1 "$priv" "$alg" "$kid" "$CBOR_CT" m.cbor "j1-$alg.cose"
        run "$SM" verify --key "$pub" "j1-$alg.cose"
        check "$alg: cose-js signs COSE_Sign1 (kid unprotected), we verify" accepted m.cbor
        run js js-sign "$CBOR_CT" m.cbor "j-$alg.cose" "$priv:$alg:$kid"
        run "$SM" verify --key "$pub" "j-$alg.cose"
        check "$alg: cose-js signs COSE_Sign, we verify" accepted m.cbor
done

# Several signers with cose-kit: cose-kit 1.7.1 writes each
# COSE_Signature's protected header as a map instead of the byte string
# RFC 9052 section 4.1 requires (it reads its own output back), so we
# refuse its COSE_Sign, rightly, and the other direction is checked.
k1=$(kid "$DATA/keys/ec-p256.pub.pem"); k2=$(kid "$DATA/keys/ed25519.pub.pem")
k3=$(kid "$DATA/keys/rsa2048.pub.pem")
run js kit-sign 60 m.cbor kit3.cose "$DATA/keys/ec-p256.pem:ES256:$k1" "$DATA/keys/ed25519.pem:EdDSA:$k2" \
        "$DATA/keys/rsa2048.pem:RS512:$k3"
run js kit-verify kit3.cose m.cbor "$DATA/keys/ec-p256.pub.pem" "$DATA/keys/ed25519.pub.pem" "$DATA/keys/rsa2048.pub.pem"
check "cose-kit reads back its own 3-signer COSE_Sign" test "$rc" = 0
run "$SM" verify --key "$DATA/keys/ec-p256.pub.pem" --key "$DATA/keys/ed25519.pub.pem" \
        --key "$DATA/keys/rsa2048.pub.pem" --min-signatures 3 kit3.cose
check "cose-kit's COSE_Sign (a COSE_Signature protected header as a map) is refused" \
        refused "signature 1: the protected header is a map, not a byte string"
"$SM" sign --cose-sign --key "$DATA/keys/ec-p256.pem" -o s1.cose m.json 2>err &&
        "$SM" sign --key "$DATA/keys/ed25519.pem" -o s2.cose s1.cose 2>err &&
        "$SM" sign --key "$DATA/keys/rsa2048.pem" --alg PS384 -o s3.cose s2.cose 2>err
run js kit-verify s3.cose m.cbor "$DATA/keys/ec-p256.pub.pem" "$DATA/keys/ed25519.pub.pem" "$DATA/keys/rsa2048.pub.pem"
check "we sign COSE_Sign and add 2 signatures; cose-kit verifies all three" test "$rc" = 0

# What cose-kit writes that our rules refuse: a text content type becomes
# a byte string in its protected header (cose-kit encodes every string
# header value as bytes).
run js kit-sign1 "$DATA/keys/ec-p256.pem" ES256 "$k1" 0 m.cbor ct0.cose
run "$SM" verify --key "$DATA/keys/ec-p256.pub.pem" ct0.cose
check "cose-kit COSE_Sign1 with content type 0 (text/plain): refused" refused "content type 0 is not a manifest's"
# Damaged ones are refused on both sides.
head -c -1 o1-ES256.cose >trunc.cose
run js kit-verify trunc.cose m.cbor "$DATA/keys/ec-p256.pub.pem"
check "cose-kit refuses our COSE_Sign1 truncated by one byte" test "$rc" != 0
run js js-verify o1-ES384.cose m.cbor "$DATA/keys/ec-p256.pub.pem" ES256
check "cose-js refuses our ES384 COSE_Sign1 with a P-256 key" test "$rc" != 0
run js kit-verify o1-ES256.cose m.cbor "$DATA/keys/ec-p256-b.pub.pem"
check "cose-kit refuses our COSE_Sign1 with another P-256 key" test "$rc" != 0

echo "1..$n"
[ "$failures" = 0 ]
