#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: secfu-manifest with every signed form and bundles, end to end:
# keygen (HSS-LMS included) -> create -> sign (JWS compact/JSON/general,
# COSE_Sign1 over CBOR or JSON, COSE_Sign with several keys) -> verify and
# inspect, for each algorithm family; the tool's COSE checked by
# cose-python-helper.py (HSS-LMS by its own RFC 8554 code), its JWS by
# python3-jwcrypto; an HSS key used up; pack (byte for byte what
# tests/lib/bundle.py writes, also from a manifest jwcrypto signed);
# verify of bundles with every lie of the header and a bad image; publish
# of both forms served by nginx with the configurations of doc/manifest.md
# and doc/bundle.md, and a bundle.  Every refusal: its exit status, its
# one line, and no output file left behind.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build}
SM="$top_builddir/secfu-manifest"
PY=/usr/bin/python3
COSEPY="$top_srcdir/tests/interop/cose-python-helper.py"
JWCPY="$top_srcdir/tests/interop/jwcrypto-helper.py"
BUNDLE="$top_srcdir/tests/lib/bundle.py"
CBOR_CT=application/secfu-manifest+cbor
JSON_CT=application/secfu-manifest+json

if [ ! -x "$SM" ]; then
        echo "Bail out! $SM has not been built"
        exit 1
fi
for m in cbor2 cryptography jwcrypto; do
        if ! "$PY" -c "import $m" >/dev/null 2>&1; then
                echo "1..0 # SKIP python3-$m is not installed (apt-get install python3-$m)"
                exit 0
        fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/secfu-manifest-forms.XXXXXX") || exit 1
NGINX_PID=
trap 'nginx_stop 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
cd "$tmp" || exit 1

# ------------------------------------------------------------ TAP helpers
n=0
failures=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
        n=$((n + 1)); failures=$((failures + 1)); echo "not ok $n - $1"
        for f in out err; do
                [ -s "$tmp/$f" ] && head -c 2000 "$tmp/$f" | sed -n '1,5s/^/# '"$f"': /p'
        done
        return 0
}
check() { desc=$1; shift; if "$@"; then pass "$desc"; else fail "$desc"; fi; }
# run CMD...: stdout to out, stderr to err, status in rc.
run() { "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
lines() { wc -l <"$1" | tr -d ' '; }
# refused RC CMD REASON [FILE...]: the exit status RC, nothing on stdout,
# one line "secfu-manifest: CMD: ...REASON...", and none of the FILEs
# (outputs that must not exist) nor any temporary file in the directory.
refused() {
        local want=$1 cmd=$2 why=$3
        shift 3
        [ "$rc" -eq "$want" ] && [ ! -s "$tmp/out" ] && [ "$(lines "$tmp/err")" = 1 ] &&
                grep -q "^secfu-manifest: $cmd: .*$why" "$tmp/err" || return 1
        for f in "$@"; do
                [ ! -e "$f" ] || return 1
        done
        [ -z "$(find "$tmp" -name '.secfu-*' -o -name '*.tmp.*')" ]
}
# accepted FILE: exit 0 and the payload on stdout is FILE's bytes.
accepted() { [ "$rc" = 0 ] && cmp -s "$tmp/out" "$1"; }
# said TEXT: stderr has the line TEXT.
said() { grep -qxF -- "$1" "$tmp/err"; }
kid() { "$SM" inspect "$1" 2>/dev/null | sed -n 's/^kid: //p'; }
cosepy() { "$PY" "$COSEPY" "$@"; }
jwcpy() { "$PY" "$JWCPY" "$@"; }
# same_json A B: same JSON values (key order and the case of hex digests aside).
same_json() {
        "$PY" -c '
import json, sys
def norm(v):
    if isinstance(v, dict):
        return {k: (x.lower() if k == "hash" else norm(x)) for k, x in v.items()}
    return [norm(x) for x in v] if isinstance(v, list) else v
a, b = (norm(json.load(open(f))) for f in sys.argv[1:3])
sys.exit(a != b)' "$1" "$2"
}
flip_byte() { # flip_byte FILE OFFSET: xor 0x01 into one byte
        "$PY" -c 'import sys; p, o = sys.argv[1], int(sys.argv[2]); b = bytearray(open(p, "rb").read()); b[o] ^= 1; open(p, "wb").write(b)' "$1" "$2"
}

# ------------------------------------------------------------ keys
for spec in ES256:es ES384:e384 EdDSA:ed PS256:rsa; do
        "$SM" keygen --alg "${spec%%:*}" --out "${spec#*:}" >/dev/null 2>err || { echo "Bail out! keygen ${spec%%:*}: $(cat err)"; exit 1; }
done
run "$SM" keygen --alg HSS-LMS --hss H5/W4,H5/W2 --out hss
hkid=$(cat out)
check "keygen --alg HSS-LMS: PREFIX.hsskey 0600, PREFIX.hss 0644 of 60 bytes, the kid printed" test \
        "$rc:$(stat -c %a hss.hsskey):$(stat -c %a hss.hss):$(stat -c %s hss.hss):${#hkid}" = "0:600:644:60:43"
check "the kid is base64url(SHA-256) of the 60 public-key bytes (computed in Python), and inspect finds it" test \
        "$hkid:$(kid hss.hss):$(kid hss.hsskey)" = "$(cosepy kid hss.hss):$hkid:$hkid"
run "$SM" inspect hss.hsskey
check "inspect of the .hsskey: the parameters and 1024 signatures left" sh -c \
        "grep -qx 'parameters: H5/W4,H5/W2, 2 levels' out && grep -qx 'signatures: 1024 in all, 1024 left' out"
(umask 0 && "$SM" keygen --alg HSS-LMS --hss H5/W2 --out um >/dev/null 2>&1)
check "the .hsskey is 0600 whatever the umask" test "$(stat -c %a um.hsskey um.hss | tr '\n' ' ')" = "600 644 "
cp hss.hsskey hss.saved
run "$SM" keygen --alg HSS-LMS --hss H5/W2 --out hss
check "keygen HSS-LMS refuses to overwrite: one line, the key unchanged" sh -c \
        "[ $rc = 1 ] && [ \$(wc -l <err) = 1 ] && cmp -s hss.hsskey hss.saved && [ \$(stat -c %s hss.hss) = 60 ]"
: >only.hss
run "$SM" keygen --alg HSS-LMS --hss H5/W2 --out only
check "keygen HSS-LMS with an existing PREFIX.hss writes no PREFIX.hsskey" refused 1 keygen "already exists" only.hsskey
run "$SM" keygen --alg HSS-LMS --hss H20/W4 --out tall
check "keygen --hss with a tree the signer cannot build is a usage error, no file" refused 2 keygen "hss" tall.hss tall.hsskey
run "$SM" keygen --alg ES256 --hss H5/W4 --out x
check "keygen --hss without --alg HSS-LMS is a usage error" refused 2 keygen "--hss goes with --alg HSS-LMS" x.key x.pub
run "$SM" keygen --alg HSS-LMS --out def
check "keygen HSS-LMS defaults to H10/W4,H10/W4 (2^20 signatures)" sh -c \
        "[ $rc = 0 ] && '$SM' inspect def.hsskey | grep -qx 'signatures: 1048576 in all, 1048576 left'"

# ------------------------------------------------------------ manifests
# A fixed head: random bytes starting with "{", "[" or a COSE tag would be
# read as a (broken) signed manifest, and "pack fw.img" below would then
# be refused for that form's reason instead of "not a signed manifest".
{ printf 'FW\0'; head -c 199997 /dev/urandom; } >fw.img
head -c 7000 /dev/urandom >boot.img
"$SM" create --manufacturer example.com --model gw100 --version 1.2.3 --image fw.img >m.json 2>err &&
        "$SM" create --manufacturer example.com --model gw100 --version 2.0.0 --image fw.img --slot-class rootfs \
                --image boot.img --slot-class boot >s.json 2>err || { echo "Bail out! create: $(cat err)"; exit 1; }

# ------------------------------------------------------------ round trips
# roundtrip KEY ALG FORM: sign m.json, verify; the payload and the summary.
roundtrip() {
        local key=$1 alg=$2 form=$3 out="rt-$1-$2-$3" args what content=JSON want
        case $form in
        compact) args=; what="JWS (compact)" ;;
        json) args=--json; what="JWS (JSON)" ;;
        cose) args=--cose; what=COSE_Sign1; content=CBOR ;;
        cose-json) args="--cose --content json"; what=COSE_Sign1 ;;
        cose-sign) args=--cose-sign; what=COSE_Sign; content=CBOR ;;
        esac
        local priv=$key.key pub=$key.pub
        [ "$key" = hss ] && priv=hss.hsskey pub=hss.hss
        # shellcheck disable=SC2086
        "$SM" sign --key "$priv" --alg "$alg" $args -o "$out" m.json 2>err || return 1
        run "$SM" verify --key "$pub" "$out"
        [ "$rc" = 0 ] && said "verified: $what over a $content manifest" && said "algorithm: $alg" &&
                said "signed by: $pub (kid $(kid "$pub"))" || return 1
        if [ "$content" = CBOR ]; then
                cp out "$out.payload"
                run "$SM" verify --json --quiet --key "$pub" "$out"
                [ "$rc" = 0 ] && [ ! -s err ] && same_json out m.json && ! cmp -s "$out.payload" m.json
        else
                cmp -s out m.json
        fi
}
for spec in es:ES256 e384:ES384 ed:EdDSA rsa:PS256 rsa:RS512; do
        for form in compact json cose cose-json cose-sign; do
                check "round trip ${spec#*:} as $form: signed, verified, the payload back, form/alg/key named" \
                        roundtrip "${spec%%:*}" "${spec#*:}" "$form"
        done
done
for form in cose cose-json cose-sign; do
        check "round trip HSS-LMS as $form: signed with the .hsskey, verified with NAME.hss" roundtrip hss HSS-LMS "$form"
done
run "$SM" inspect hss.hsskey
check "the three HSS signatures advanced the key file: 1021 left" grep -qx 'signatures: 1024 in all, 1021 left' out
check "sign with an HSS key notes the signatures left on stderr" sh -c \
        "'$SM' sign --cose --key hss.hsskey -o note.cose m.json 2>&1 >/dev/null | grep -qx 'secfu-manifest: sign: note: hss.hsskey has 1020 signatures left'"

# ------------------------------------------------------------ independently verified
for spec in es:ES256 ed:EdDSA rsa:PS256 hss:HSS-LMS; do
        k=${spec%%:*} alg=${spec#*:} pub=${spec%%:*}.pub
        [ "$k" = hss ] && pub=hss.hss
        pk=$(cosepy kid "$pub")
        run cosepy verify "rt-$k-$alg-cose" "rt-$k-$alg-cose.payload" "$CBOR_CT" "$pub:$alg:$pk"
        check "$alg: Python (cbor2, cryptography$([ "$k" = hss ] && echo ', RFC 8554 by hand')) verifies our COSE_Sign1 over the CBOR manifest" test "$rc" = 0
        run cosepy verify "rt-$k-$alg-cose-json" m.json "$JSON_CT" "$pub:$alg:$pk"
        check "$alg: Python verifies our COSE_Sign1 over manifest.json" test "$rc" = 0
        run cosepy verify "rt-$k-$alg-cose-sign" "rt-$k-$alg-cose.payload" "$CBOR_CT" "$pub:$alg:$pk"
        check "$alg: Python verifies our COSE_Sign" test "$rc" = 0
done
for spec in es:ES256 ed:EdDSA rsa:RS512 rsa:PS256; do
        k=${spec%%:*} alg=${spec#*:}
        run jwcpy verify "$k.pub" "$alg" m.json "rt-$k-$alg-compact" "$(kid "$k.pub")"
        r1=$rc
        run jwcpy verify "$k.pub" "$alg" m.json "rt-$k-$alg-json" "$(kid "$k.pub")"
        check "$alg: jwcrypto verifies our compact and flattened JWS (typ, kid = its RFC 7638 thumbprint)" test "$r1:$rc" = 0:0
done
cmp -s "rt-hss-HSS-LMS-cose.payload" "rt-es-ES256-cose.payload"
check "the CBOR manifest is the same whatever signed it (deterministic encoding)" test $? = 0

# ------------------------------------------------------------ several keys
run "$SM" sign --key es.key --key rsa.key --alg RS256 --key ed.key -o three.jws m.json
check "sign with three --key (--alg for the one before it): a general JWS with three signatures" test \
        "$rc:$("$PY" -c 'import json; print(len(json.load(open("three.jws"))["signatures"]))')" = 0:3
ok=0
for spec in es:ES256 rsa:RS256 ed:EdDSA; do
        jwcpy verify "${spec%%:*}.pub" "${spec#*:}" m.json three.jws "$(kid "${spec%%:*}.pub")" 2>err || ok=1
done
check "jwcrypto verifies each of the three signatures" test "$ok" = 0
run "$SM" verify --key es.pub --key rsa.pub --key ed.pub --min-signatures 3 three.jws
check "verify --min-signatures 3 names the three keys and algorithms" sh -c "[ $rc = 0 ] && cmp -s out m.json &&
        grep -qx 'algorithms: RS256, ES256, EdDSA' err && [ \$(grep -c '^signed by: ' err) = 3 ]"
run "$SM" sign --cose --key hss.hsskey --key es.key --key ed.key -o three.cose m.json
check "sign --cose with an .hsskey and two keys: one COSE_Sign" test "$rc:$(head -c 2 three.cose | od -An -tx1 | tr -d ' ')" = 0:d862
run cosepy verify three.cose rt-es-ES256-cose.payload "$CBOR_CT" "hss.hss:HSS-LMS:$hkid" \
        "es.pub:ES256:$(kid es.pub)" "ed.pub:EdDSA:$(kid ed.pub)"
check "Python verifies the three signatures (HSS-LMS, ES256, EdDSA)" test "$rc" = 0
run "$SM" sign --key rsa.key --alg PS256 -o four.cose three.cose
check "sign adds a fourth signature to the COSE_Sign" test "$rc" = 0
run "$SM" verify --key hss.hss --key es.pub --key ed.pub --key rsa.pub --min-signatures 4 four.cose
check "verify --min-signatures 4: the four keys named" sh -c "[ $rc = 0 ] && grep -qx 'algorithms: PS256, ES256, EdDSA, HSS-LMS' err &&
        grep -qx 'signed by: hss.hss (kid $hkid)' err && [ \$(grep -c '^signed by: ' err) = 4 ]"
run "$SM" verify --key hss.hss --key es.pub --min-signatures 3 four.cose
check "verify --min-signatures 3 with two trusted keys: refused" refused 1 verify "2 distinct trusted key(s) signed, 3 required"
run "$SM" sign --key es.key -o again.cose four.cose
check "adding a second signature by one key is refused, no output" refused 1 sign "already has a signature with kid" again.cose
run "$SM" sign --key ed.key -o again.cose rt-es-ES256-cose
check "adding to a COSE_Sign1 is refused (it has room for one)" refused 1 sign "room for one signature" again.cose
run "$SM" sign --cose --key es.key --key es.key -o twice.cose m.json
check "the same key twice in one sign is refused" refused 1 sign "the same kid" twice.cose

# ------------------------------------------------------------ sign refusals
run "$SM" sign --key hss.hsskey --alg HSS-LMS -o x.jws m.json
check "--alg HSS-LMS for a JWS is a usage error that says why" refused 2 sign "HSS-LMS has no JOSE name" x.jws
run "$SM" sign --alg HSS-LMS --key hss.hsskey -o x.jws m.json
check "--alg HSS-LMS before the --key, for a JWS: the same usage error" refused 2 sign "HSS-LMS has no JOSE name" x.jws
run "$SM" sign --key hss.hsskey -o x.jws m.json
check "an .hsskey for a JWS is refused: HSS-LMS has no JOSE name" refused 1 sign "has no JOSE name.*--cose" x.jws
run "$SM" sign --cose --key hss.hsskey --alg ES256 -o x.cose m.json
check "an .hsskey with --alg ES256 is refused" refused 1 sign "HSS-LMS signatures only" x.cose
run "$SM" sign --cose --key es.key --alg HSS-LMS -o x.cose m.json
check "an EC key with --alg HSS-LMS is refused" refused 1 sign "cannot make HSS-LMS signatures" x.cose
run "$SM" sign --cose --key es.key -o x.cose rt-es-ES256-compact
check "sign --cose of a JWS is refused" refused 1 sign "is a JWS" x.cose
run "$SM" sign --cose --content json --key es.key -o x.cose rt-es-ES256-cose.payload
check "--content json of a CBOR manifest is refused" refused 1 sign "is a CBOR manifest" x.cose
printf 'not json at all' >text.txt
run "$SM" sign --cose --key es.key -o x.cose text.txt
check "sign --cose of what is no JSON is refused: no CBOR form" refused 1 sign "cannot be written as a CBOR manifest" x.cose
run "$SM" sign --cose --key es.key -o odd.cose rt-es-ES256-cose.payload
check "sign --cose of a CBOR manifest signs it as it is" sh -c "[ $rc = 0 ] &&
        '$SM' verify -q --key es.pub odd.cose | cmp -s - rt-es-ES256-cose.payload"
for args in "--json --cose" "--content json" "--cose --content xml" "--kid ''"; do
        eval "run \"\$SM\" sign --key es.key $args -o x.out m.json"
        check "sign $args is a usage error" refused 2 sign "" x.out
done
if command -v script >/dev/null; then
        script -qec "'$SM' sign --cose --key es.key m.json" /dev/null >tty.out 2>&1
        check "sign --cose does not write binary to a terminal" grep -q 'not writing binary output to a terminal' tty.out
else
        pass "# SKIP script(1) is not installed: the terminal check is not run"
fi

# ------------------------------------------------------------ verify refusals
run "$SM" verify --key e384.pub rt-es-ES256-cose
check "COSE_Sign1 with the wrong key: refused" refused 1 verify "no trusted key"
run "$SM" verify --key um.hss rt-hss-HSS-LMS-cose
check "HSS-LMS COSE_Sign1 with another HSS key: refused" refused 1 verify "no trusted key"
cp rt-es-ES256-cose tampered.cose
flip_byte tampered.cose 150
run "$SM" verify --key es.pub tampered.cose
check "COSE_Sign1 with one payload byte changed: refused" refused 1 verify "does not verify"
cp rt-hss-HSS-LMS-cose tampered-hss.cose
flip_byte tampered-hss.cose 2000
run "$SM" verify --key hss.hss tampered-hss.cose
check "HSS-LMS COSE_Sign1 with one signature byte changed: refused" refused 1 verify "HSS-LMS signature does not verify"
cp rt-es-ES256-json tampered.jws
# the first character of the signature, always to another one (its
# leading bits count, unlike a last character's padding bits)
sed -i 's/"signature":"A/"signature":"@/; s/"signature":"[^@]/"signature":"A/; s/"signature":"@/"signature":"B/' tampered.jws
run "$SM" verify --key es.pub tampered.jws
check "JWS with a signature character changed: refused" refused 1 verify ""
head -c -1 rt-ed-EdDSA-cose-sign >trunc.cose
run "$SM" verify --key ed.pub trunc.cose
check "a truncated COSE_Sign: refused" refused 1 verify "truncated"

# ------------------------------------------------------------ an HSS key used up
"$SM" keygen --alg HSS-LMS --hss H5/W2 --out small >/dev/null 2>&1
i=0
while [ $i -lt 32 ] && "$SM" sign --cose --key small.hsskey -o "small.$i" m.json 2>/dev/null; do i=$((i + 1)); done
check "a one-level H5 key makes exactly its 32 signatures" test "$i" = 32
cp small.hsskey small.saved
run "$SM" sign --cose --key small.hsskey -o small.33 m.json
check "the 33rd is refused: exhausted, no output" refused 1 sign "small.hsskey is exhausted: all 32 signatures used" small.33
check "... and the key file is unchanged by the refusal" cmp -s small.hsskey small.saved
run "$SM" verify --key small.hss small.31
check "the last signature (number 31) verifies, and inspect shows its leaf" sh -c "[ $rc = 0 ] &&
        '$SM' inspect small.31 | grep -qx '  HSS: 1 level, signature 31 of 32'"

# ------------------------------------------------------------ pack
"$SM" sign --key es.key -o s.jws s.json 2>/dev/null
"$SM" sign --key es.key --json -o s.json.jws s.json 2>/dev/null
"$SM" sign --cose --key es.key -o s.cose s.json 2>/dev/null
"$SM" sign --cose --key hss.hsskey -o s-hss.cose s.json 2>/dev/null
"$SM" sign --cose-sign --key ed.key --key rsa.key --alg PS256 -o s-two.cose s.json 2>/dev/null
mkdir jwc && jwcpy gen ES256 jwc s.json >/dev/null 2>err
for signed in s.jws s.json.jws s.cose s-hss.cose s-two.cose jwc/ok.compact jwc/ok.json; do
        b=$(echo "$signed" | tr / -)
        run "$SM" pack -o "$b.sfu" "$signed" fw.img boot.img
        "$PY" "$BUNDLE" "$b.py.sfu" "$signed" fw.img boot.img
        check "pack $signed: exit 0, byte for byte what bundle.py writes" sh -c "[ $rc = 0 ] && [ ! -s out ] && cmp -s '$b.sfu' '$b.py.sfu'"
done
run "$SM" verify --key jwc/pub.pem jwc-ok.compact.sfu
check "the bundle of jwcrypto's JWS verifies with jwcrypto's key" sh -c "[ $rc = 0 ] && cmp -s out s.json &&
        grep -qx 'bundle: 2 images, $(stat -c %s jwc-ok.compact.sfu) bytes, every size and digest as signed' err"
run "$SM" verify --key hss.hss --json s-hss.cose.sfu
check "the bundle of an HSS-LMS COSE_Sign1 verifies (--json: the manifest)" sh -c "[ $rc = 0 ] && grep -qx 'algorithm: HSS-LMS' err" &&
        same_json out s.json
echo old >keep.sfu
run "$SM" pack -o keep.sfu s.jws boot.img fw.img
check "pack with the images out of order: refused" refused 1 pack "give the images in the manifest's order"
check "... and the old output file is kept" test "$(cat keep.sfu)" = old
run "$SM" pack -o x.sfu s.jws fw.img
check "pack with one image missing: refused" refused 1 pack "the manifest has 2 images, 1 given" x.sfu
run "$SM" pack -o x.sfu s.jws fw.img boot.img boot.img
check "pack with an image too many: refused" refused 1 pack "the manifest has 2 images, 3 given" x.sfu
head -c 7000 /dev/urandom >other.img
run "$SM" pack -o x.sfu s.jws fw.img other.img
check "pack with an image of the right size and other bytes: refused naming it" refused 1 pack \
        "the sha256 digest of other.img does not match the manifest's image 2 \"boot\"" x.sfu
head -c 100 /dev/urandom >tiny.img
run "$SM" pack -o x.sfu s.jws fw.img tiny.img
check "pack with an image of another size: refused" refused 1 pack "tiny.img has 100 bytes" x.sfu
run "$SM" pack -o x.sfu s.jws fw.img missing.img
check "pack with a missing image file: refused" refused 1 pack "missing.img" x.sfu
"$PY" -c 'import json; d = json.load(open("m.json")); del d["firmwareSize"]; json.dump(d, open("nosize.json", "w"))'
"$SM" sign --key es.key -o nosize.jws nosize.json 2>/dev/null
run "$SM" pack -o x.sfu nosize.jws fw.img
check "pack of a manifest without the image's size: refused" refused 1 pack "has no size" x.sfu
run "$SM" pack -o x.sfu fw.img fw.img
check "pack of what is no signed manifest: refused" refused 1 pack "not a signed manifest" x.sfu
cp boot.img boot.keep
run "$SM" pack -o boot.img s.jws fw.img boot.img
check "pack -o naming one of its inputs: refused, the input kept" sh -c \
        "[ $rc = 1 ] && [ \$(wc -l <err) = 1 ] && grep -q 'is boot.img, an input' err && cmp -s boot.img boot.keep"
run "$SM" pack s.jws fw.img boot.img
check "pack without -o is a usage error" refused 2 pack "-o FILE is required"
run "$SM" pack -o x.sfu s.jws
check "pack without images is a usage error" refused 2 pack "" x.sfu
run "$SM" pack --help
check "pack --help says that pack needs no key and checks no signature" grep -q 'pack needs no key and checks no signature' out

# ------------------------------------------------------------ verify of bundles
# bad_bundle DESC REASON BUNDLE-ARGS...: bundle.py writes it, verify refuses.
bad_bundle() {
        local desc=$1 why=$2
        shift 2
        "$PY" "$BUNDLE" bad.sfu s.jws fw.img boot.img "$@"
        run "$SM" verify --key es.pub bad.sfu
        check "bundle with $desc: refused" refused 1 verify "$why"
}
m_len=$(stat -c %s s.jws)
t_len=$((200000 + 7000))
off2=$((24 + m_len + 200000))
cp s.jws.sfu bad-image.sfu && flip_byte bad-image.sfu $((off2 + 6999))
run "$SM" verify --key es.pub bad-image.sfu
check "bundle with the last byte of image 2 changed: refused naming the image and its bytes" refused 1 verify \
        "image 2 of 2 \"boot\" (bytes $off2 to $((off2 + 6999)) of the bundle): its sha256 digest does not match the manifest"
cp s.jws.sfu bad-image.sfu && flip_byte bad-image.sfu $((24 + m_len))
run "$SM" verify --key es.pub bad-image.sfu
check "bundle with the first byte of image 1 changed: refused naming it" refused 1 verify "image 1 of 2 \"fw\""
bad_bundle "T one short (the file is longer)" "the bundle is $((24 + m_len + t_len)) bytes, its header says $((24 + m_len + t_len - 1))" --images-len $((t_len - 1))
bad_bundle "T three long and three trailing bytes (the length agrees)" "the bundle's header says $((t_len + 3)) image bytes, its manifest $t_len" --images-len $((t_len + 3)) --trailing 3
bad_bundle "M one long" "the bundle is" --manifest-len $((m_len + 1))
bad_bundle "M one short" "the bundle is" --manifest-len $((m_len - 1))
bad_bundle "M zero" "bundle manifest length 0 is outside" --manifest-len 0
bad_bundle "format version 2" "bundle format version 2 is not supported" --version 2
bad_bundle "header length 32" "bundle header length is 32, not 24" --header-len 32
bad_bundle "trailing bytes" "the bundle is $((24 + m_len + t_len + 5)) bytes" --trailing 5
bad_bundle "a cut in the manifest" "bundle truncated: its manifest ends at byte $((24 + m_len)), the file at 100" --cut 100
bad_bundle "a cut in image 2" "the bundle is $((off2 + 10)) bytes" --cut $((off2 + 10))
bad_bundle "another magic" "not a signed manifest" --magic 8953465500000000
"$PY" "$BUNDLE" bad.sfu s.jws fw.img boot.img --cut $((off2 + 10))
run sh -c "cat bad.sfu | '$SM' verify --key es.pub -"
check "a bundle cut in image 2, read from a pipe: refused at the cut" refused 1 verify \
        "the bundle file ended in image \"boot\" at byte 10 of 7000"
"$PY" "$BUNDLE" bad.sfu s.jws fw.img boot.img --trailing 1
run sh -c "cat bad.sfu | '$SM' verify --key es.pub -"
check "a bundle with a trailing byte, read from a pipe: refused" refused 1 verify "goes on after its last image"
run sh -c "cat s.jws.sfu | '$SM' verify --key es.pub -"
check "a good bundle from a pipe verifies" accepted s.json
run "$SM" verify --key e384.pub s.jws
cp err bare.err
run "$SM" verify --key e384.pub s.jws.sfu
check "a bundle whose manifest the keys do not vouch for: the bare manifest's refusal line" sh -c \
        "[ $rc = 1 ] && [ ! -s out ] && cmp -s err bare.err"

# ------------------------------------------------------------ inspect
run "$SM" inspect s.jws.sfu
check "inspect of a bundle: header, manifest bytes, each image's place, then the manifest" sh -c "[ $rc = 0 ] &&
        grep -qx 'signed manifest: bytes 24 to $((23 + m_len)) ($m_len bytes)' out &&
        grep -qx 'image 1 of 2 \"fw\": bytes $((24 + m_len)) to $((off2 - 1)) (200000 bytes), slot class rootfs' out &&
        grep -qx 'image 2 of 2 \"boot\": bytes $off2 to $((off2 + 6999)) (7000 bytes), slot class boot' out &&
        grep -qx 'signed manifest: JWS (compact)' out && grep -q '^manifest syntax: valid' out"
"$PY" "$BUNDLE" lie.sfu s.jws fw.img boot.img --images-len $((t_len + 3)) --trailing 3
run "$SM" inspect lie.sfu
check "inspect of a bundle whose header lies: shown, and the lie named" sh -c "[ $rc = 0 ] &&
        grep -qx 'bundle check: INVALID: the bundle.s header says $((t_len + 3)) image bytes, its manifest $t_len' out"
run "$SM" inspect four.cose
check "inspect of a COSE_Sign: the body's content type, each signature's alg and kid" sh -c "[ $rc = 0 ] &&
        head -1 out | grep -q '^NOT VERIFIED' && grep -qx 'form: COSE_Sign' out &&
        grep -qx '    3 (content type): \"$CBOR_CT\"' out && grep -qx '    1 (alg): -46 (HSS-LMS)' out &&
        grep -qx '    1 (alg): -7 (ES256)' out && grep -qx '    1 (alg): -37 (PS256)' out &&
        grep -qx \"    4 (kid): '$hkid'\" out && grep -qx 'signatures: 4' out"
check "inspect of an HSS-LMS signature: its levels and leaves" sh -c "grep -qx '  HSS: 2 levels, signature 4 of 1024' out &&
        grep -q '^    level 1 of 2: tree top, leaf 0 (LMS_SHA256_M32_H5, LMOTS_SHA256_N32_W4)' out &&
        grep -Eq '^    level 2 of 2: tree [0-9a-f]{32}, leaf 4 \(LMS_SHA256_M32_H5, LMOTS_SHA256_N32_W2\)' out"
check "inspect of a COSE_Sign: the CBOR payload shown as JSON" sh -c "grep -q 'bytes of CBOR, shown as JSON' out &&
        grep -q '\"firmwareVersion\": \"1.2.3\"' out"
run "$SM" inspect es.pub
check "inspect of a public key: its type and kid (keygen's)" sh -c "[ $rc = 0 ] && grep -qx 'key: P-256 public key (PEM)' out &&
        grep -qx 'kid: $(cosepy kid es.pub)' out"

# ------------------------------------------------------------ publish both forms, and a bundle
wk=.well-known/firmware/example.com/gw100
run "$SM" publish --root www --cose s.cose --bundle firmware/example.com/gw100/current.sfu s.jws fw.img boot.img
check "publish --cose --bundle: images, bundle, manifest.cbor, manifest.json, in that order" test \
        "$rc:$(tr '\n' ' ' <out)" = "0:$wk/fw.img $wk/boot.img firmware/example.com/gw100/current.sfu $wk/manifest.cbor $wk/manifest.json "
check "publish: manifest.json is the JWS, manifest.cbor the COSE_Sign1, the bundle what pack writes" sh -c \
        "cmp -s www/$wk/manifest.json s.jws && cmp -s www/$wk/manifest.cbor s.cose && cmp -s www/firmware/example.com/gw100/current.sfu s.jws.sfu"
run "$SM" publish --root www2 --cose rt-es-ES256-cose s.jws fw.img boot.img
check "publish --cose of another manifest: refused, nothing written" refused 1 publish "does not carry the same manifest" www2
run "$SM" publish --root www2 --cose s.json.jws s.jws fw.img boot.img
check "publish --cose of a JWS: refused" refused 1 publish "is a JWS (JSON), not COSE" www2
run "$SM" publish --root www2 --cose s.cose s-two.cose fw.img boot.img
check "publish --cose when the manifest is COSE already: refused" refused 1 publish "give the JWS as SIGNED-MANIFEST" www2
run "$SM" publish --root www2 --bundle ../up.sfu s.jws fw.img boot.img
check "publish --bundle outside the root: a usage error" refused 2 publish "not a plain path segment" www2 up.sfu
run "$SM" publish --root www2 --bundle "$wk/manifest.json" s.jws fw.img boot.img
check "publish --bundle onto the manifest: refused, nothing written" refused 1 publish "would replace a manifest" www2/$wk
"$SM" create --manufacturer example.com --model gw100 --version 1.2.3 --image "fw.img=https://cdn.example.com/fw.img" >ext.json 2>/dev/null
"$SM" sign --key es.key -o ext.jws ext.json 2>/dev/null
run "$SM" publish --root www2 --allow-external --bundle b.sfu ext.jws
check "publish --bundle with an external image: refused" refused 1 publish "--bundle needs every image" www2/b.sfu
run "$SM" publish --root www3 s-hss.cose fw.img boot.img
check "publish of a COSE_Sign1 alone: it is the manifest.json (devices tell the form by the bytes)" sh -c \
        "[ $rc = 0 ] && cmp -s www3/$wk/manifest.json s-hss.cose"

# nginx with the configurations of doc/manifest.md ("Publishing both
# forms") and doc/bundle.md ("Serving bundles"), as they stand there.
# doc_nginx DOC HEADING: the nginx block after HEADING.
doc_nginx() {
        awk -v h="$2" 'index($0, h) == 1 { on = 1; next } on && /^```nginx/ { inside = 1; next }
                inside && /^```/ { exit } inside { print }' "$top_srcdir/doc/$1"
}
. "$top_srcdir/tests/lib/nginx.sh"
if command -v nginx >/dev/null && command -v curl >/dev/null; then
        conf=$(doc_nginx manifest.md "### Publishing both forms")
        NGINX_HTTP=$(printf '%s\n' "$conf" | awk '/^map /, /^}/')
        NGINX_SERVER=$(printf '%s\n' "$conf" | awk '/^map /, /^}/ { next } { print }')
        url=
        if [ -n "$NGINX_HTTP" ] && nginx_start "$tmp/nginx" "$tmp/www"; then
                url=$NGINX_URL/$wk/manifest.json
                curl -s -H 'Accept: application/cose, application/jose;q=0.5' -o got.cose -w '%{content_type}' "$url" >ct.cose
                curl -s -H 'Accept: application/jose, application/cose;q=0.9' -o got.jws -w '%{content_type}' "$url" >ct.jws
                nginx_stop
        fi
        check "nginx as doc/manifest.md configures it serves the published COSE form to Accept: application/cose" \
                sh -c "[ -n '$url' ] && cmp -s got.cose s.cose && [ \"\$(cat ct.cose)\" = application/cose ]"
        check "... and the JWS to Accept: application/jose" sh -c "cmp -s got.jws s.jws && [ \"\$(cat ct.jws)\" = application/jose ]"
        NGINX_HTTP=
        NGINX_SERVER=$(doc_nginx bundle.md "### Serving bundles")
        url=
        if [ -n "$NGINX_SERVER" ] && nginx_start "$tmp/nginx2" "$tmp/www"; then
                url=$NGINX_URL/$wk/manifest.json
                curl -s -o got.sfu -w '%{content_type}' "$url" >ct.sfu
                nginx_stop
        fi
        run "$SM" verify --key es.pub got.sfu
        check "nginx as doc/bundle.md configures it serves the published bundle at the well-known path; it verifies" \
                sh -c "[ -n '$url' ] && [ $rc = 0 ] && cmp -s got.sfu s.jws.sfu && [ \"\$(cat ct.sfu)\" = application/vnd.secfu.image ]"
else
        pass "# SKIP nginx or curl is not installed: doc/manifest.md's negotiation not checked"
        pass "# SKIP nginx or curl is not installed"
        pass "# SKIP nginx or curl is not installed: doc/bundle.md's configuration not checked"
fi

# ------------------------------------------------------------ usage
for args in "verify s.jws" "verify --key es.pub" "pack" "sign --cose m.json" "keygen --alg HSS-LMS" \
            "publish --root w --bundle '' s.jws"; do
        eval "run \"\$SM\" $args"
        check "usage error exits 2 with one line: secfu-manifest $args" refused 2 "${args%% *}" ""
done

echo "1..$n"
[ "$failures" = 0 ]
