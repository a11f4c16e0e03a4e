#!/bin/sh
# SPDX-License-Identifier: MIT
# TAP: COSE interoperability with a COSE_Sign1/COSE_Sign assembled by hand
# in Python (python3-cbor2 + python3-cryptography, cose-python-helper.py),
# for all ten algorithms in both directions, COSE_Sign1 and COSE_Sign,
# CBOR and JSON manifest payloads; the multi-signer count; the attacks a
# verifier must refuse; and the deterministic CBOR manifest against
# cbor2's canonical encoding.  Our side is tests/unit/cose-tool (the core
# API) until secfu-manifest has COSE verbs.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/interop/interop-lib.sh
. "$top_srcdir/tests/interop/interop-lib.sh"
HELPER="$top_srcdir/tests/interop/cose-python-helper.py"

for m in cbor2 cryptography; do
        "$PY" -c "import $m" >/dev/null 2>&1 || skip_all "python3-$m is not installed (apt-get install python3-$m)"
done
interop_start cose-python "$CT"

py() { "$PY" "$HELPER" "$@"; }

"$CT" manifest-cbor "$DATA/manifest/minimal.json" >m.cbor 2>err || bail "cose-tool manifest-cbor failed: $(cat err)"
cp "$DATA/manifest/minimal.json" m.json

# ---------------------------------------------------------------- the CBOR manifest
for f in minimal split keyinfo; do
        "$CT" manifest-cbor "$DATA/manifest/$f.json" >"ours-$f.cbor" 2>err
        py canonical "$DATA/manifest/$f.json" "py-$f.cbor" 2>err
        check "$f.json: our CBOR manifest equals cbor2's canonical encoding byte for byte" cmp -s "ours-$f.cbor" "py-$f.cbor"
        py manifest-cbor "$DATA/manifest/$f.json" "py-unsorted-$f.cbor" 2>err
        "$CT" manifest-check "ours-$f.cbor" >"model-ours-$f" 2>err
        run "$CT" manifest-check "py-unsorted-$f.cbor"
        check "$f.json: cbor2's CBOR (keys unsorted) gives the same model as ours" \
                sh -c "[ $rc = 0 ] && [ -s model-ours-$f ] && cmp -s out model-ours-$f"
done

# ---------------------------------------------------------------- all algorithms
for alg in $ALGS; do
        d="k-$alg"
        mkdir "$d"
        if ! kid=$(py keygen "$alg" "$d" 2>err); then
                ok 1 "$alg: cbor2/cryptography keygen failed"
                continue
        fi
        ourkid=$("$CT" kid "$d/pub.pem" 2>err)
        check "$alg: our kid of the key is its RFC 7638 thumbprint (computed in Python)" test "$ourkid" = "$kid"

        # (a) ours -> Python
        "$CT" sign1 --key "$d/key.pem" --alg "$alg" m.cbor >"$d/ours1.cose" 2>err
        run py verify "$d/ours1.cose" m.cbor "$CBOR_CT" "$d/pub.pem:$alg:$kid"
        check "$alg: we sign COSE_Sign1 (CBOR manifest), Python verifies (alg, kid, content type, payload)" test "$rc" = 0
        "$CT" sign1 --key "$d/key.pem" --alg "$alg" --content json m.json >"$d/ours1j.cose" 2>err
        run py verify "$d/ours1j.cose" m.json "$JSON_CT" "$d/pub.pem:$alg:$kid"
        check "$alg: we sign COSE_Sign1 over manifest.json's bytes, Python verifies" test "$rc" = 0
        "$CT" sign --key "$d/key.pem" --alg "$alg" m.cbor >"$d/ours.cose" 2>err
        run py verify "$d/ours.cose" m.cbor "$CBOR_CT" "$d/pub.pem:$alg:$kid"
        check "$alg: we sign COSE_Sign, Python verifies" test "$rc" = 0

        # (b) Python -> ours
        py sign1 "$d/key.pem" "$alg" "$kid" "$CBOR_CT" m.cbor "$d/py1.cose" 2>err
        run "$CT" verify --key "$d/pub.pem" "$d/py1.cose"
        check "$alg: Python signs COSE_Sign1 (CBOR manifest), we verify, payload identical" accepted m.cbor
        py sign1 "$d/key.pem" "$alg" "$kid" "$JSON_CT" m.json "$d/py1j.cose" 2>err
        run "$CT" verify --key "$d/pub.pem" --content json "$d/py1j.cose"
        check "$alg: Python signs COSE_Sign1 over manifest.json, we verify (--content json)" accepted m.json
        py sign "$CBOR_CT" m.cbor "$d/py.cose" "$d/key.pem:$alg:$kid" 2>err
        run "$CT" verify --key "$d/pub.pem" "$d/py.cose"
        check "$alg: Python signs COSE_Sign, we verify" accepted m.cbor
        py sign1 "$d/key.pem" "$alg" "" "$CBOR_CT" m.cbor "$d/py1-nokid.cose" 2>err
        run "$CT" verify --key "$DATA/keys/ec-p256.pub.pem" --key "$d/pub.pem" "$d/py1-nokid.cose"
        check "$alg: Python COSE_Sign1 without kid: we find the key among two" accepted m.cbor
done

# ---------------------------------------------------------------- content types
py sign1 k-ES256/key.pem ES256 "$(py kid k-ES256/pub.pem)" 60 m.cbor ct60.cose 2>err
run "$CT" verify --key k-ES256/pub.pem --content cbor ct60.cose
check "content type 60 (CoAP application/cbor) is a CBOR manifest" accepted m.cbor
py sign1 k-ES256/key.pem ES256 "$(py kid k-ES256/pub.pem)" application/json m.json ctjson.cose 2>err
run "$CT" verify --key k-ES256/pub.pem --content cbor ctjson.cose
check "a JSON manifest where only CBOR is allowed: refused" cose_refused "is not accepted here"

# ---------------------------------------------------------------- several signers
ka=$(py kid k-ES256/pub.pem); kb=$(py kid k-EdDSA/pub.pem); kc=$(py kid k-PS384/pub.pem)
py sign "$CBOR_CT" m.cbor three.cose k-ES256/key.pem:ES256:"$ka" k-EdDSA/key.pem:EdDSA:"$kb" \
        k-PS384/key.pem:PS384:"$kc" 2>err
run "$CT" verify --key k-ES256/pub.pem --key k-EdDSA/pub.pem --key k-PS384/pub.pem --min 3 three.cose
check "Python COSE_Sign with 3 signers, 3 trusted, --min 3: accepted" accepted m.cbor
run "$CT" verify --key k-ES256/pub.pem --key k-EdDSA/pub.pem --min 3 three.cose
check "... only 2 of them trusted, --min 3: refused" cose_refused "2 distinct trusted key(s) signed, 3 required"
run "$CT" verify --key k-ES256/pub.pem --key k-EdDSA/pub.pem --min 2 three.cose
check "... only 2 of them trusted, --min 2: accepted (the unknown kid counts for nothing)" accepted m.cbor
run "$CT" verify --key k-ES256/pub.pem --key k-EdDSA/pub.pem --key k-PS384/pub.pem --min 3 --alg-allow ES256,PS384 three.cose
check "... EdDSA not allowed, --min 3: refused" cose_refused "2 distinct trusted key(s) signed, 3 required"
# Ours: COSE_Sign, then two more signatures added; Python checks all three.
"$CT" sign --key k-ES512/key.pem --alg ES512 m.cbor >ours-1.cose 2>err &&
        "$CT" add --key k-EdDSA/key.pem ours-1.cose >ours-2.cose 2>err &&
        "$CT" add --key k-RS256/key.pem --alg RS256 ours-2.cose >ours-3.cose 2>err
run py verify ours-3.cose m.cbor "$CBOR_CT" k-ES512/pub.pem:ES512:"$(py kid k-ES512/pub.pem)" \
        k-EdDSA/pub.pem:EdDSA:"$kb" k-RS256/pub.pem:RS256:"$(py kid k-RS256/pub.pem)"
check "we sign COSE_Sign and add 2 signatures; Python verifies all three" test "$rc" = 0
run "$CT" verify --key k-ES512/pub.pem --key k-EdDSA/pub.pem --key k-RS256/pub.pem --min 3 ours-3.cose
check "... and we count 3 distinct keys" accepted m.cbor
# We add a signature to Python's COSE_Sign; Python verifies all four.
"$CT" add --key k-ES384/key.pem three.cose >four.cose 2>err
run py verify four.cose m.cbor "$CBOR_CT" k-ES256/pub.pem:ES256:"$ka" k-EdDSA/pub.pem:EdDSA:"$kb" \
        k-PS384/pub.pem:PS384:"$kc" k-ES384/pub.pem:ES384:"$(py kid k-ES384/pub.pem)"
check "we add a signature to Python's COSE_Sign; Python verifies all four" test "$rc" = 0

# ---------------------------------------------------------------- attacks
for kind in alg-unprotected crit dup-label label-both indefinite trailing truncated untagged no-content-type flip; do
        py bad "$kind" k-ES256/key.pem ES256 "$ka" "$CBOR_CT" m.cbor "bad-$kind.cose" 2>err
        run "$CT" verify --key k-ES256/pub.pem "bad-$kind.cose"
        case $kind in
        alg-unprotected) why='"alg" is only in the unprotected header' ;;
        crit) why='"crit" names 99, which is not understood' ;;
        dup-label) why='duplicate key' ;;
        label-both) why='in both the protected and the unprotected header' ;;
        indefinite) why='indefinite-length array' ;;
        trailing) why='trailing byte' ;;
        truncated) why='truncated' ;;
        untagged) why='has no tag' ;;
        no-content-type) why='no content type' ;;
        flip) why='signature does not verify' ;;
        esac
        check "a Python COSE_Sign1 with $kind (validly signed otherwise) is refused: $why" cose_refused "$why"
done
py sign1 k-ES256/key.pem ES256 nobody "$CBOR_CT" m.cbor wrongkid.cose 2>err
run "$CT" verify --key k-ES256/pub.pem wrongkid.cose
check "a Python COSE_Sign1 with a kid no trusted key has is refused" cose_refused 'no trusted key with kid "nobody"'
run "$CT" verify --key k-ES384/pub.pem k-ES256/py1.cose
check "a Python COSE_Sign1 against another key is refused" cose_refused "no trusted key"
# Python refuses what we made and then damaged.
head -c -1 k-ES256/ours1.cose >trunc.cose
run py verify trunc.cose m.cbor "$CBOR_CT" k-ES256/pub.pem:ES256:"$ka"
check "Python refuses our COSE_Sign1 truncated by one byte" test "$rc" != 0
run py verify k-ES256/ours1.cose m.cbor "$CBOR_CT" k-ES384/pub.pem:ES256:"$ka"
check "Python refuses our COSE_Sign1 against another key" test "$rc" != 0

tap_done
