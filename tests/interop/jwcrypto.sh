#!/bin/sh
# SPDX-License-Identifier: MIT
# TAP: JWS interoperability with python3-jwcrypto, for all ten algorithms
# in both directions (secfu-manifest signs / jwcrypto verifies, and
# jwcrypto signs / secfu-manifest verifies), compact and JSON, plus the
# attacks a verifier must refuse.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build}
SM="$top_builddir/secfu-manifest"
PY=/usr/bin/python3
HELPER="$top_srcdir/tests/interop/jwcrypto-helper.py"
ALGS="ES256 ES384 ES512 EdDSA RS256 RS384 RS512 PS256 PS384 PS512"

if ! "$PY" -c 'import jwcrypto' >/dev/null 2>&1; then
        echo "1..0 # SKIP python3-jwcrypto is not installed (apt-get install python3-jwcrypto)"
        exit 0
fi
if [ ! -x "$SM" ]; then
        echo "Bail out! $SM has not been built"
        exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/secfu-jwcrypto.XXXXXX") || exit 1
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
# Accepted: exit 0, the payload byte for byte on stdout.
accepted() { [ "$rc" = 0 ] && cmp -s "$tmp/out" "$tmp/m.json"; }
# Refused: non-zero, nothing on stdout, one reason line; and not merely
# because the file to verify was never made.
refused() {
        [ "$rc" != 0 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" = 1 ] &&
                grep -q '^secfu-manifest: verify: .' "$tmp/err" &&
                ! grep -q 'cannot open' "$tmp/err"
}

head -c 65536 /dev/urandom >fw.img
if ! "$SM" create --manufacturer example.com --model gw100 --version 3.1.4 --image fw.img >m.json 2>err; then
        echo "Bail out! secfu-manifest create failed: $(cat err)"
        exit 1
fi

for alg in $ALGS; do
        # (a) secfu-manifest makes the key and signs; jwcrypto verifies
        # with the SPKI PEM, and checks typ, kid and the RFC 7638 thumbprint.
        if kid=$("$SM" keygen --alg "$alg" --out "s-$alg" 2>err) &&
                "$SM" sign --key "s-$alg.key" --alg "$alg" m.json >"s-$alg.compact" 2>err &&
                "$SM" sign --key "s-$alg.key" --alg "$alg" --json m.json >"s-$alg.json" 2>err; then
                echo "$kid" >"s-$alg.kid"
                run "$PY" "$HELPER" verify "s-$alg.pub" "$alg" m.json "s-$alg.compact" "$kid"
                check "$alg: secfu-manifest signs compact, jwcrypto verifies (payload, typ, kid = thumbprint)" test "$rc" = 0
                run "$PY" "$HELPER" verify "s-$alg.pub" "$alg" m.json "s-$alg.json" "$kid"
                check "$alg: secfu-manifest signs JSON, jwcrypto verifies" test "$rc" = 0
        else
                fail "$alg: secfu-manifest keygen/sign failed"
                fail "$alg: secfu-manifest keygen/sign failed"
        fi

        # (b) jwcrypto makes the key and signs; secfu-manifest verifies with
        # the PEM jwcrypto exported (and with its JWK).
        mkdir "j-$alg"
        if "$PY" "$HELPER" gen "$alg" "j-$alg" m.json >"j-$alg/kid" 2>err; then
                run "$SM" verify --key "j-$alg/pub.pem" "j-$alg/ok.compact"
                check "$alg: jwcrypto signs compact, secfu-manifest verifies, payload identical" accepted
                run "$SM" verify --key "j-$alg/pub.pem" --alg-allow "$alg" "j-$alg/ok.json"
                check "$alg: jwcrypto signs JSON, secfu-manifest verifies" accepted
                run "$SM" verify --key "j-$alg/pub.jwk" "j-$alg/ok.compact"
                check "$alg: secfu-manifest verifies with jwcrypto's public JWK" accepted
                run "$SM" verify --key "j-$alg/pub.pem" "j-$alg/notyp.compact"
                check "$alg: jwcrypto JWS without typ is refused" refused
                # secfu-manifest signs with jwcrypto's private JWK.
                "$SM" sign --key "j-$alg/key.jwk" --alg "$alg" m.json >"j-$alg/ours.compact" 2>err
                run "$PY" "$HELPER" verify "j-$alg/pub.pem" "$alg" m.json "j-$alg/ours.compact" "$(cat "j-$alg/kid")"
                check "$alg: secfu-manifest signs with jwcrypto's private JWK, jwcrypto verifies" test "$rc" = 0
        else
                for _ in 1 2 3 4 5; do fail "$alg: jwcrypto could not make a key and sign"; done
        fi
done

# Refusals of JWS that jwcrypto made validly but that break our rules.
run "$SM" verify --key j-ES256/pub.pem j-ES256/badtyp.json
check "typ \"JWT\" is refused" refused
run "$SM" verify --key j-EdDSA/pub.pem j-EdDSA/crit.compact
check "a crit header is refused" refused
run "$SM" verify --key j-ES384/pub.pem j-ES384/jwkhdr.compact
check "a key carried in a jwk header is not trusted" refused
run "$SM" verify --key j-RS256/pub.pem --alg-allow PS256,PS384,PS512 j-RS256/ok.compact
check "RS256 signature with --alg-allow PS*: refused" refused
run "$SM" verify --key j-PS256/pub.pem j-RS256/ok.compact
check "signature by another RSA key: refused" refused
run "$SM" verify --key j-ES256/pub.pem s-ES256.compact
check "secfu-manifest signature against jwcrypto's key: refused" refused

# Algorithm confusion: HS256 keyed with the bytes of the trusted PEM.
"$PY" "$HELPER" hmac j-RS256/pub.pem m.json >hs256.jws 2>err
run "$SM" verify --key j-RS256/pub.pem hs256.jws
check "HS256 keyed with the public key PEM (alg confusion) is refused" refused
"$PY" "$HELPER" hmac s-ES256.pub m.json >hs256b.jws 2>err
run "$SM" verify --key s-ES256.pub hs256b.jws
check "HS256 keyed with an EC public key PEM is refused" refused
"$PY" "$HELPER" unsigned m.json >none.jws 2>err
run "$SM" verify --key j-ES256/pub.pem none.jws
check "alg \"none\" is refused" refused
# ES256 made with a P-384 key: the alg does not fit the trusted key.
"$PY" "$HELPER" curve-mismatch . m.json >mismatch.jws 2>err
run "$SM" verify --key p384.pem mismatch.jws
check "ES256 header with a P-384 key (alg does not fit the key) is refused" refused
run "$SM" verify --key p384.pem --alg-allow ES256 mismatch.jws
check "... also when ES256 is explicitly allowed" refused

# General serialization with two signatures made by jwcrypto.
"$PY" "$HELPER" general j-EdDSA j-PS384 EdDSA PS384 m.json >general.json 2>err
run "$SM" verify --key j-EdDSA/pub.pem --key j-PS384/pub.pem --min-signatures 2 general.json
check "jwcrypto general JSON with two signatures, --min-signatures 2: accepted" accepted
run "$SM" verify --key j-EdDSA/pub.pem --min-signatures 2 general.json
check "... with only one of the keys trusted: refused" refused
# secfu-manifest adds a third signature to jwcrypto's JWS; jwcrypto
# checks the new one.
"$SM" sign --key s-ES512.key general.json >three.json 2>err
run "$PY" "$HELPER" verify s-ES512.pub ES512 m.json three.json "$(cat s-ES512.kid)"
check "secfu-manifest adds a signature to jwcrypto's general JSON; jwcrypto verifies it" test "$rc" = 0
run "$SM" verify --key j-EdDSA/pub.pem --key j-PS384/pub.pem --key s-ES512.pub --min-signatures 3 three.json
check "the three-signature JWS verifies with --min-signatures 3" accepted

echo "1..$n"
[ "$failures" = 0 ]
