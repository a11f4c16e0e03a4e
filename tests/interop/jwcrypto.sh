#!/bin/sh
# SPDX-License-Identifier: MIT
# TAP: JWS interoperability with python3-jwcrypto, for all ten algorithms
# in both directions (secfu-manifest signs / jwcrypto verifies, and
# jwcrypto signs / secfu-manifest verifies), compact and JSON, plus the
# attacks a verifier must refuse.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/interop/interop-lib.sh
. "$top_srcdir/tests/interop/interop-lib.sh"

"$PY" -c 'import jwcrypto' >/dev/null 2>&1 ||
        skip_all "python3-jwcrypto is not installed (apt-get install python3-jwcrypto)"
interop_start jwcrypto
interop_manifest 3.1.4

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
                ok 1 "$alg: secfu-manifest keygen/sign failed"
                ok 1 "$alg: secfu-manifest keygen/sign failed"
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
                check "$alg: jwcrypto JWS without typ is refused" verify_refused
                # secfu-manifest signs with jwcrypto's private JWK.
                "$SM" sign --key "j-$alg/key.jwk" --alg "$alg" m.json >"j-$alg/ours.compact" 2>err
                run "$PY" "$HELPER" verify "j-$alg/pub.pem" "$alg" m.json "j-$alg/ours.compact" "$(cat "j-$alg/kid")"
                check "$alg: secfu-manifest signs with jwcrypto's private JWK, jwcrypto verifies" test "$rc" = 0
        else
                for _ in 1 2 3 4 5; do ok 1 "$alg: jwcrypto could not make a key and sign"; done
        fi
done

# Refusals of JWS that jwcrypto made validly but that break our rules.
run "$SM" verify --key j-ES256/pub.pem j-ES256/badtyp.json
check "typ \"JWT\" is refused" verify_refused
run "$SM" verify --key j-EdDSA/pub.pem j-EdDSA/crit.compact
check "a crit header is refused" verify_refused
run "$SM" verify --key j-ES384/pub.pem j-ES384/jwkhdr.compact
check "a key carried in a jwk header is not trusted" verify_refused
run "$SM" verify --key j-RS256/pub.pem --alg-allow PS256,PS384,PS512 j-RS256/ok.compact
check "RS256 signature with --alg-allow PS*: refused" verify_refused
run "$SM" verify --key j-PS256/pub.pem j-RS256/ok.compact
check "signature by another RSA key: refused" verify_refused
run "$SM" verify --key j-ES256/pub.pem s-ES256.compact
check "secfu-manifest signature against jwcrypto's key: refused" verify_refused

# Algorithm confusion: HS256 keyed with the bytes of the trusted PEM.
"$PY" "$HELPER" hmac j-RS256/pub.pem m.json >hs256.jws 2>err
run "$SM" verify --key j-RS256/pub.pem hs256.jws
check "HS256 keyed with the public key PEM (alg confusion) is refused" verify_refused
"$PY" "$HELPER" hmac s-ES256.pub m.json >hs256b.jws 2>err
run "$SM" verify --key s-ES256.pub hs256b.jws
check "HS256 keyed with an EC public key PEM is refused" verify_refused
"$PY" "$HELPER" unsigned m.json >none.jws 2>err
run "$SM" verify --key j-ES256/pub.pem none.jws
check "alg \"none\" is refused" verify_refused
# ES256 made with a P-384 key: the alg does not fit the trusted key.
"$PY" "$HELPER" curve-mismatch . m.json >mismatch.jws 2>err
run "$SM" verify --key p384.pem mismatch.jws
check "ES256 header with a P-384 key (alg does not fit the key) is refused" verify_refused
run "$SM" verify --key p384.pem --alg-allow ES256 mismatch.jws
check "... also when ES256 is explicitly allowed" verify_refused

# General serialization with two signatures made by jwcrypto.
"$PY" "$HELPER" general j-EdDSA j-PS384 EdDSA PS384 m.json >general.json 2>err
run "$SM" verify --key j-EdDSA/pub.pem --key j-PS384/pub.pem --min-signatures 2 general.json
check "jwcrypto general JSON with two signatures, --min-signatures 2: accepted" accepted
run "$SM" verify --key j-EdDSA/pub.pem --min-signatures 2 general.json
check "... with only one of the keys trusted: refused" verify_refused
# secfu-manifest adds a third signature to jwcrypto's JWS; jwcrypto
# checks the new one.
"$SM" sign --key s-ES512.key general.json >three.json 2>err
run "$PY" "$HELPER" verify s-ES512.pub ES512 m.json three.json "$(cat s-ES512.kid)"
check "secfu-manifest adds a signature to jwcrypto's general JSON; jwcrypto verifies it" test "$rc" = 0
run "$SM" verify --key j-EdDSA/pub.pem --key j-PS384/pub.pem --key s-ES512.pub --min-signatures 3 three.json
check "the three-signature JWS verifies with --min-signatures 3" accepted

tap_done
