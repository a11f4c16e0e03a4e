#!/bin/sh
# SPDX-License-Identifier: MIT
# TAP: COSE interoperability with a COSE_Sign1/COSE_Sign assembled by hand
# in Python (python3-cbor2 + python3-cryptography, cose-python-helper.py),
# for all ten algorithms in both directions, COSE_Sign1 and COSE_Sign,
# CBOR and JSON manifest payloads; HSS-LMS signatures of secfu-manifest
# checked by the helper's own RFC 8554 verifier (itself checked on the
# RFC's test vectors); the multi-signer count; the attacks a verifier must
# refuse; and the deterministic CBOR manifest against cbor2's canonical
# encoding.  Our side is secfu-manifest (sign --cose, verify, inspect).
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build}
SM="$top_builddir/secfu-manifest"
PY=/usr/bin/python3
HELPER="$top_srcdir/tests/interop/cose-python-helper.py"
DATA="$top_srcdir/tests/data"
ALGS="ES256 ES384 ES512 EdDSA RS256 RS384 RS512 PS256 PS384 PS512"
CBOR_CT=application/secfu-manifest+cbor
JSON_CT=application/secfu-manifest+json

for m in cbor2 cryptography; do
        if ! "$PY" -c "import $m" >/dev/null 2>&1; then
                echo "1..0 # SKIP python3-$m is not installed (apt-get install python3-$m)"
                exit 0
        fi
done
if [ ! -x "$SM" ]; then
        echo "Bail out! $SM has not been built"
        exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/secfu-cose-python.XXXXXX") || exit 1
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
# Accepted by us: exit 0, the payload byte for byte on stdout.
accepted() { [ "$rc" = 0 ] && cmp -s "$tmp/out" "$1"; }
# Refused by us: non-zero, nothing on stdout, one reason line naming $1.
refused() {
        [ "$rc" = 1 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" = 1 ] &&
                grep -q "^secfu-manifest: verify: .*$1" "$tmp/err"
}
py() { "$PY" "$HELPER" "$@"; }
# kid FILE: the key id secfu-manifest inspect finds in a key file.
kid() { "$SM" inspect "$1" 2>/dev/null | sed -n 's/^kid: //p'; }
# cbor_of JSON OUT: our CBOR form of a JSON manifest, as sign --cose puts
# it into a COSE_Sign1 (and verify gives it back).
cbor_of() {
        "$SM" sign --cose --key "$DATA/keys/ec-p256.pem" -o "$2.cose" "$1" 2>/dev/null &&
                "$SM" verify --quiet --key "$DATA/keys/ec-p256.pub.pem" "$2.cose" >"$2"
}
# same_json A B [C]: the JSON files hold the same values (any key order;
# the hex of a "hash" in any case, as CBOR holds its bytes).
same_json() {
        "$PY" -c '
import json, sys
def norm(v):
    if isinstance(v, dict):
        return {k: (x.lower() if k == "hash" else norm(x)) for k, x in v.items()}
    return [norm(x) for x in v] if isinstance(v, list) else v
v = [norm(json.load(open(f))) for f in sys.argv[1:]]
sys.exit(any(x != v[0] for x in v))' "$@"
}

if ! cbor_of "$DATA/manifest/minimal.json" m.cbor 2>err; then
        echo "Bail out! secfu-manifest cannot make the CBOR manifest: $(cat err)"
        exit 1
fi
cp "$DATA/manifest/minimal.json" m.json

# ---------------------------------------------------------------- the CBOR manifest
# unsorted_reads_back F: cbor2's unsorted CBOR of F.json was accepted, is
# not our encoding, and reads back (verify --json) as the JSON manifest, as
# ours does.
unsorted_reads_back() {
        [ "$rc" = 0 ] && ! cmp -s "py-unsorted-$1.cbor" "ours-$1.cbor" &&
                same_json "model-py-$1.json" "model-ours-$1.json" "$DATA/manifest/$1.json"
}
for f in minimal split keyinfo; do
        cbor_of "$DATA/manifest/$f.json" "ours-$f.cbor" 2>err
        py canonical "$DATA/manifest/$f.json" "py-$f.cbor" 2>err
        check "$f.json: our CBOR manifest equals cbor2's canonical encoding byte for byte" cmp -s "ours-$f.cbor" "py-$f.cbor"
        py manifest-cbor "$DATA/manifest/$f.json" "py-unsorted-$f.cbor" 2>err
        "$SM" sign --cose --key "$DATA/keys/ec-p256.pem" -o "py-unsorted-$f.cose" "py-unsorted-$f.cbor" 2>err
        "$SM" verify --quiet --json --key "$DATA/keys/ec-p256.pub.pem" "ours-$f.cbor.cose" >"model-ours-$f.json" 2>err
        run "$SM" verify --quiet --json --key "$DATA/keys/ec-p256.pub.pem" "py-unsorted-$f.cose"
        cp out "model-py-$f.json"
        check "$f.json: cbor2's CBOR (keys unsorted) signs as given and reads back as the JSON manifest, as ours" \
                unsorted_reads_back "$f"
done

# ---------------------------------------------------------------- all algorithms
for alg in $ALGS; do
        d="k-$alg"
        mkdir "$d"
        if ! kid=$(py keygen "$alg" "$d" 2>err); then
                fail "$alg: cbor2/cryptography keygen failed"
                continue
        fi
        check "$alg: our kid of the key is its RFC 7638 thumbprint (computed in Python)" test "$(kid "$d/pub.pem")" = "$kid"

        # (a) ours -> Python
        "$SM" sign --cose --key "$d/key.pem" --alg "$alg" -o "$d/ours1.cose" m.json 2>err
        run py verify "$d/ours1.cose" m.cbor "$CBOR_CT" "$d/pub.pem:$alg:$kid"
        check "$alg: we sign COSE_Sign1 (CBOR manifest), Python verifies (alg, kid, content type, payload)" test "$rc" = 0
        "$SM" sign --cose --content json --key "$d/key.pem" --alg "$alg" -o "$d/ours1j.cose" m.json 2>err
        run py verify "$d/ours1j.cose" m.json "$JSON_CT" "$d/pub.pem:$alg:$kid"
        check "$alg: we sign COSE_Sign1 over manifest.json's bytes, Python verifies" test "$rc" = 0
        "$SM" sign --cose-sign --key "$d/key.pem" --alg "$alg" -o "$d/ours.cose" m.json 2>err
        run py verify "$d/ours.cose" m.cbor "$CBOR_CT" "$d/pub.pem:$alg:$kid"
        check "$alg: we sign COSE_Sign, Python verifies" test "$rc" = 0

        # (b) Python -> ours
        py sign1 "$d/key.pem" "$alg" "$kid" "$CBOR_CT" m.cbor "$d/py1.cose" 2>err
        run "$SM" verify --key "$d/pub.pem" "$d/py1.cose"
        check "$alg: Python signs COSE_Sign1 (CBOR manifest), we verify, payload identical" accepted m.cbor
        check "$alg: ... and we name the form, the algorithm and the key" test \
                "$(cat err)" = "$(printf 'verified: COSE_Sign1 over a CBOR manifest\nalgorithm: %s\nsigned by: %s (kid %s)\ncomponent firmware (default slot class): vouched for by kid %s (1 needed)' "$alg" "$d/pub.pem" "$kid" "$kid")"
        py sign1 "$d/key.pem" "$alg" "$kid" "$JSON_CT" m.json "$d/py1j.cose" 2>err
        run "$SM" verify --key "$d/pub.pem" "$d/py1j.cose"
        check "$alg: Python signs COSE_Sign1 over manifest.json, we verify" accepted m.json
        py sign "$CBOR_CT" m.cbor "$d/py.cose" "$d/key.pem:$alg:$kid" 2>err
        run "$SM" verify --key "$d/pub.pem" "$d/py.cose"
        check "$alg: Python signs COSE_Sign, we verify" accepted m.cbor
        py sign1 "$d/key.pem" "$alg" "" "$CBOR_CT" m.cbor "$d/py1-nokid.cose" 2>err
        run "$SM" verify --key "$DATA/keys/ec-p256.pub.pem" --key "$d/pub.pem" "$d/py1-nokid.cose"
        check "$alg: Python COSE_Sign1 without kid: we find the key among two" accepted m.cbor
done

# ---------------------------------------------------------------- HSS-LMS
for v in tc1 tc2; do
        run py hss-vector "$DATA/hss/rfc8554-$v.txt"
        check "the Python RFC 8554 verifier accepts RFC 8554 Appendix F $v and refuses it changed" test "$rc" = 0
done
"$SM" keygen --alg HSS-LMS --hss H5/W4,H5/W2 --out hss >/dev/null 2>err
hkid=$(py kid hss.hss)
check "HSS-LMS: our key id of NAME.hss is base64url(SHA-256) of its 60 bytes (computed in Python)" test "$(kid hss.hss)" = "$hkid"
"$SM" sign --cose --key hss.hsskey -o hss1.cose m.json 2>err
run py verify hss1.cose m.cbor "$CBOR_CT" "hss.hss:HSS-LMS:$hkid"
check "HSS-LMS (2 levels): we sign COSE_Sign1 with an .hsskey, Python verifies (RFC 8554 by hand)" test "$rc" = 0
"$SM" sign --cose --content json --key hss.hsskey -o hss1j.cose m.json 2>err
run py verify hss1j.cose m.json "$JSON_CT" "hss.hss:HSS-LMS:$hkid"
check "HSS-LMS: we sign COSE_Sign1 over manifest.json (hash-sigs(manifest.json, key)), Python verifies" test "$rc" = 0
"$SM" sign --cose --key hss.hsskey --key k-ES256/key.pem -o hss2.cose m.json 2>err
run py verify hss2.cose m.cbor "$CBOR_CT" "hss.hss:HSS-LMS:$hkid" "k-ES256/pub.pem:ES256:$(py kid k-ES256/pub.pem)"
check "HSS-LMS and ES256 in one COSE_Sign (two --key): Python verifies both" test "$rc" = 0
head -c 600 hss1.cose >hssbad.cose
printf '\001' | cat - >>hssbad.cose
tail -c +602 hss1.cose >>hssbad.cose
run py verify hssbad.cose m.cbor "$CBOR_CT" "hss.hss:HSS-LMS:$hkid"
check "Python refuses our HSS-LMS COSE_Sign1 with a signature byte changed" test "$rc" != 0 -a "$(wc -c <hssbad.cose)" = "$(wc -c <hss1.cose)"

# ---------------------------------------------------------------- content types
py sign1 k-ES256/key.pem ES256 "$(py kid k-ES256/pub.pem)" 60 m.cbor ct60.cose 2>err
run "$SM" verify --key k-ES256/pub.pem ct60.cose
check "content type 60 (CoAP application/cbor) is a CBOR manifest" sh -c "[ $rc = 0 ] && cmp -s out m.cbor && grep -q 'over a CBOR manifest' err"
py sign1 k-ES256/key.pem ES256 "$(py kid k-ES256/pub.pem)" application/json m.json ctjson.cose 2>err
run "$SM" verify --key k-ES256/pub.pem ctjson.cose
check "content type application/json is a JSON manifest" sh -c "[ $rc = 0 ] && cmp -s out m.json && grep -q 'over a JSON manifest' err"
py sign1 k-ES256/key.pem ES256 "$(py kid k-ES256/pub.pem)" text/plain m.json cttext.cose 2>err
run "$SM" verify --key k-ES256/pub.pem cttext.cose
check "content type text/plain: refused" refused "is not a manifest's"

# ---------------------------------------------------------------- several signers
ka=$(py kid k-ES256/pub.pem); kb=$(py kid k-EdDSA/pub.pem); kc=$(py kid k-PS384/pub.pem)
py sign "$CBOR_CT" m.cbor three.cose k-ES256/key.pem:ES256:"$ka" k-EdDSA/key.pem:EdDSA:"$kb" \
        k-PS384/key.pem:PS384:"$kc" 2>err
run "$SM" verify --key k-ES256/pub.pem --key k-EdDSA/pub.pem --key k-PS384/pub.pem --min-signatures 3 three.cose
check "Python COSE_Sign with 3 signers, 3 trusted, --min-signatures 3: accepted" accepted m.cbor
check "... and all three keys are named" test "$(grep -c '^signed by: ' err)" = 3
run "$SM" verify --key k-ES256/pub.pem --key k-EdDSA/pub.pem --min-signatures 3 three.cose
check "... only 2 of them trusted, --min-signatures 3: refused" refused "2 distinct trusted key(s) signed, 3 required"
run "$SM" verify --key k-ES256/pub.pem --key k-EdDSA/pub.pem --min-signatures 2 three.cose
check "... only 2 of them trusted, --min-signatures 2: accepted (the unknown kid counts for nothing)" accepted m.cbor
run "$SM" verify --key k-ES256/pub.pem --key k-EdDSA/pub.pem --key k-PS384/pub.pem --min-signatures 3 \
        --alg-allow ES256,PS384 three.cose
check "... EdDSA not allowed, --min-signatures 3: refused" refused "2 distinct trusted key(s) signed, 3 required"
# Ours: COSE_Sign, then two more signatures added; Python checks all three.
"$SM" sign --cose-sign --key k-ES512/key.pem --alg ES512 -o ours-1.cose m.json 2>err &&
        "$SM" sign --key k-EdDSA/key.pem -o ours-2.cose ours-1.cose 2>err &&
        "$SM" sign --key k-RS256/key.pem --alg RS256 -o ours-3.cose ours-2.cose 2>err
run py verify ours-3.cose m.cbor "$CBOR_CT" k-ES512/pub.pem:ES512:"$(py kid k-ES512/pub.pem)" \
        k-EdDSA/pub.pem:EdDSA:"$kb" k-RS256/pub.pem:RS256:"$(py kid k-RS256/pub.pem)"
check "we sign COSE_Sign and add 2 signatures; Python verifies all three" test "$rc" = 0
run "$SM" verify --key k-ES512/pub.pem --key k-EdDSA/pub.pem --key k-RS256/pub.pem --min-signatures 3 ours-3.cose
check "... and we count 3 distinct keys" accepted m.cbor
# The same three in one command (--alg after the --key it is for).
"$SM" sign --cose --key k-ES512/key.pem --key k-EdDSA/key.pem --key k-RS256/key.pem --alg RS256 -o one-go.cose \
        m.json 2>err
run py verify one-go.cose m.cbor "$CBOR_CT" k-ES512/pub.pem:ES512:"$(py kid k-ES512/pub.pem)" \
        k-EdDSA/pub.pem:EdDSA:"$kb" k-RS256/pub.pem:RS256:"$(py kid k-RS256/pub.pem)"
check "sign --cose with three --key: one COSE_Sign, Python verifies all three" test "$rc" = 0
# We add a signature to Python's COSE_Sign; Python verifies all four.
"$SM" sign --key k-ES384/key.pem -o four.cose three.cose 2>err
run py verify four.cose m.cbor "$CBOR_CT" k-ES256/pub.pem:ES256:"$ka" k-EdDSA/pub.pem:EdDSA:"$kb" \
        k-PS384/pub.pem:PS384:"$kc" k-ES384/pub.pem:ES384:"$(py kid k-ES384/pub.pem)"
check "we add a signature to Python's COSE_Sign; Python verifies all four" test "$rc" = 0

# ---------------------------------------------------------------- attacks
for kind in alg-unprotected crit dup-label label-both indefinite trailing truncated untagged no-content-type flip; do
        py bad "$kind" k-ES256/key.pem ES256 "$ka" "$CBOR_CT" m.cbor "bad-$kind.cose" 2>err
        run "$SM" verify --key k-ES256/pub.pem "bad-$kind.cose"
        case $kind in
        alg-unprotected) why='"alg" is only in the unprotected header' ;;
        crit) why='"crit" names 99, which is not understood' ;;
        dup-label) why='duplicate key' ;;
        label-both) why='in both the protected and the unprotected header' ;;
        indefinite) why='indefinite-length array' ;;
        trailing) why='trailing byte' ;;
        truncated) why='truncated' ;;
        untagged) why='not a signed manifest' ;;
        no-content-type) why='no content type' ;;
        flip) why='signature does not verify' ;;
        esac
        check "a Python COSE_Sign1 with $kind (validly signed otherwise) is refused: $why" refused "$why"
done
py sign1 k-ES256/key.pem ES256 nobody "$CBOR_CT" m.cbor wrongkid.cose 2>err
run "$SM" verify --key k-ES256/pub.pem wrongkid.cose
check "a Python COSE_Sign1 with a kid no trusted key has is refused" refused 'no trusted key with kid "nobody"'
run "$SM" verify --key k-ES384/pub.pem k-ES256/py1.cose
check "a Python COSE_Sign1 against another key is refused" refused "no trusted key"
# Python refuses what we made and then damaged.
head -c -1 k-ES256/ours1.cose >trunc.cose
run py verify trunc.cose m.cbor "$CBOR_CT" k-ES256/pub.pem:ES256:"$ka"
check "Python refuses our COSE_Sign1 truncated by one byte" test "$rc" != 0
run py verify k-ES256/ours1.cose m.cbor "$CBOR_CT" k-ES384/pub.pem:ES256:"$ka"
check "Python refuses our COSE_Sign1 against another key" test "$rc" != 0

echo "1..$n"
[ "$failures" = 0 ]
