#!/bin/sh
# SPDX-License-Identifier: MIT
# TAP: the secfu-manifest command line, end to end: keygen for every
# algorithm, create with a real image, sign, verify (and its refusals),
# multiple signatures, inspect, publish, usage errors.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build}
SM="$top_builddir/secfu-manifest"
PY=/usr/bin/python3
ALGS="ES256 ES384 ES512 EdDSA RS256 RS384 RS512 PS256 PS384 PS512"

if [ ! -x "$SM" ]; then
        echo "Bail out! $SM has not been built"
        exit 1
fi
if [ ! -x "$PY" ]; then
        echo "1..0 # SKIP $PY is needed to read JSON"
        exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/secfu-manifest-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
cd "$tmp" || exit 1

# ------------------------------------------------------------ TAP helpers
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
# run CMD...: stdout to out, stderr to err, status in rc.
run() { "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
lines() { wc -l <"$1" | tr -d ' '; }
# A refusal: given exit status, nothing on stdout, exactly one line
# "secfu-manifest: CMD: ..." on stderr.
refused() { # want_rc cmd
        [ "$rc" -eq "$1" ] && [ ! -s "$tmp/out" ] && [ "$(lines "$tmp/err")" = 1 ] &&
                grep -q "^secfu-manifest: $2: ." "$tmp/err"
}
# json FILE EXPR: prints EXPR evaluated on the parsed JSON as d.
json() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
b64url_decode() { "$PY" -c 'import base64,sys; s=sys.argv[1]; sys.stdout.buffer.write(base64.urlsafe_b64decode(s+"="*(-len(s)%4)))' "$1"; }

# ------------------------------------------------------------ global
run "$SM" --help
check "--help exits 0 and lists the commands" test "$rc" = 0 -a "$(grep -c -E '^  (keygen|create|sign|verify|inspect|pack|publish) ' out)" = 7
run "$SM" --version
check "--version exits 0 and prints a version" sh -c "[ $rc = 0 ] && grep -q '^secfu-manifest [0-9]' '$tmp/out'"

# ------------------------------------------------------------ keygen
for alg in $ALGS; do
        run "$SM" keygen --alg "$alg" --out "k-$alg"
        kid=$(cat out)
        ok=yes
        [ "$rc" = 0 ] || ok="exit $rc"
        echo "$kid" | grep -Eq '^[A-Za-z0-9_-]{43}$' || ok="${ok}; kid '$kid'"
        [ "$(stat -c %a "k-$alg.key")" = 600 ] || ok="${ok}; key mode $(stat -c %a "k-$alg.key")"
        [ "$(stat -c %a "k-$alg.pub")" = 644 ] || ok="${ok}; pub mode $(stat -c %a "k-$alg.pub")"
        grep -q -- '-----BEGIN PRIVATE KEY-----' "k-$alg.key" || ok="${ok}; key is not PKCS#8 PEM"
        grep -q -- '-----BEGIN PUBLIC KEY-----' "k-$alg.pub" || ok="${ok}; pub is not SPKI PEM"
        echo "$kid" >"k-$alg.kid"
        check "keygen --alg $alg: PKCS#8 0600, SPKI 0644, kid printed${ok#yes}" test "$ok" = yes
done
if command -v openssl >/dev/null; then
        check "keygen RS256 makes a 3072-bit RSA key" sh -c "openssl pkey -pubin -in k-RS256.pub -noout -text | grep -q '3072 bit'"
        check "keygen ES512 makes a P-521 key" sh -c "openssl pkey -pubin -in k-ES512.pub -noout -text | grep -q 'P-521'"
else
        pass "# SKIP openssl not installed: RSA size not checked"
        pass "# SKIP openssl not installed: curve not checked"
fi
# Modes do not depend on the umask.
(umask 000 && "$SM" keygen --alg ES256 --out umask0 >/dev/null 2>&1)
(umask 077 && "$SM" keygen --alg ES256 --out umask77 >/dev/null 2>&1)
check "keygen modes are 0600/0644 whatever the umask" test "$(stat -c %a umask0.key umask0.pub umask77.key umask77.pub | tr '\n' ' ')" = "600 644 600 644 "
cp k-ES256.key saved.key
run "$SM" keygen --alg ES256 --out k-ES256
check "keygen refuses to overwrite existing files" sh -c "[ $rc = 1 ] && cmp -s k-ES256.key saved.key"
check "keygen overwrite refusal is one line on stderr, nothing on stdout" refused 1 keygen
: >only.pub
run "$SM" keygen --alg ES256 --out only
check "keygen with an existing PREFIX.pub writes no PREFIX.key" test "$rc" = 1 -a ! -e only.key -a ! -s only.pub

# ------------------------------------------------------------ create
head -c 3145728 /dev/urandom >fw.img
run "$SM" create --manufacturer example.com --model gw100 --version 1.2.3 --image fw.img --expires 2030-01-01
cp out m.json
check "create with a 3 MiB image exits 0" test "$rc" = 0 -a ! -s err
check "create: firmwareSize is the file size" test "$(json m.json 'd["firmwareSize"]')" = "$(stat -c %s fw.img)"
check "create: sha256 matches sha256sum" test "$(json m.json '[h["hash"] for h in d["firmwareCryptoInfo"]["commitHash"] if h["digestAlgo"]=="sha256"][0]')" = "$(sha256sum fw.img | cut -d' ' -f1)"
check "create: sha512 matches sha512sum" test "$(json m.json '[h["hash"] for h in d["firmwareCryptoInfo"]["commitHash"] if h["digestAlgo"]=="sha512"][0]')" = "$(sha512sum fw.img | cut -d' ' -f1)"
check "create: manifestVersion, location, version, expires" test "$(json m.json 'd["manifestVersion"]+" "+d["firmwareLocation"]+" "+d["firmwareVersion"]+" "+d["expires"]+" "+d["manufacturer"]+" "+d["model"]')" = "1.0 fw.img 1.2.3 2030-01-01T00:00:00Z example.com gw100"
now=$(date -u +%s)
check "create: timestamp is now, RFC 3339 UTC" "$PY" -c '
import json,sys,datetime
t=json.load(open("m.json"))["timestamp"]
assert len(t)==20 and t.endswith("Z"), t
ts=datetime.datetime.strptime(t,"%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
assert abs(ts-int(sys.argv[1]))<120, t' "$now"
check "create: pretty JSON with 2-space indentation" test "$(sed -n 2p m.json)" = '  "manifestVersion": "1.0",'
run "$SM" create --manufacturer example.com --model gw100 --version 1.2.3 --image "fw.img=https://cdn.example.com/fw.img?token=a=b" --timestamp 2026-01-02T03:04:05+01:00
check "create: LOCATION after the first '=', --timestamp converted to UTC" test "$rc" = 0 -a "$(json out 'd["firmwareLocation"]+" "+d["timestamp"]')" = "https://cdn.example.com/fw.img?token=a=b 2026-01-02T02:04:05Z"
cp fw.img "my fw.img"
run "$SM" create --manufacturer example.com --model gw100 --version 1.2.3 --image "my fw.img"
check "create: default location is the percent-encoded basename" test "$rc" = 0 -a "$(json out 'd["firmwareLocation"]')" = "my%20fw.img"
head -c 4096 /dev/urandom >boot.vfat
run "$SM" create --manufacturer example.com --model gw100 --version 2.0.0 --image fw.img --slot-class rootfs --image boot.vfat=b/boot.vfat --slot-class boot
cp out split.json
check "create: two images give the images form" test "$rc" = 0 -a "$(json split.json '" ".join(i["name"]+":"+i["slotClass"]+":"+i["location"]+":"+str(i["size"]) for i in d["images"]) + " " + str("firmwareLocation" in d)')" = "fw:rootfs:fw.img:3145728 boot:boot:b/boot.vfat:4096 False"
check "create: images form digests match" test "$(json split.json 'd["images"][1]["commitHash"][0]["hash"]')" = "$(sha256sum boot.vfat | cut -d' ' -f1)"
run "$SM" create --manufacturer example.com --model gw100 --version 2.0.0 --image fw.img --slot-class rootfs --name system
check "create: one image with --slot-class and --name gives the images form" test "$rc" = 0 -a "$(json out 'd["images"][0]["name"]')" = system
run "$SM" create --manufacturer example.com --model gw100 --version 2.0.0 --image fw.img --image boot.vfat
check "create: several images without --slot-class is a usage error" refused 2 create
run "$SM" create --manufacturer example.com --model gw100 --version 1.02.3 --image fw.img
check "create: a bad --version is a usage error" refused 2 create
run "$SM" create --manufacturer example.com --model gw100 --version 1.2.3 --image fw.img --expires tomorrow
check "create: a bad --expires is a usage error" refused 2 create
run "$SM" create --manufacturer example.com --model gw100 --version 1.2.3 --image missing.img
check "create: a missing image fails with one line" refused 1 create
run "$SM" create --manufacturer example.com --version 1.2.3 --image fw.img
check "create: missing --model is a usage error" refused 2 create

# ------------------------------------------------------------ sign and verify
run "$SM" sign --key k-ES256.key m.json
cp out m.jws
check "sign: compact JWS, one line, three segments" test "$rc" = 0 -a "$(lines m.jws)" = 1 -a "$(tr -cd . <m.jws | wc -c)" = 2
hdr=$(b64url_decode "$(cut -d. -f1 m.jws)")
check "sign: protected header has alg ES256, typ and the keygen kid" test "$(echo "$hdr" | "$PY" -c 'import json,sys; h=json.load(sys.stdin); print(h["alg"], h["typ"], h["kid"])')" = "ES256 secfu-manifest+jws $(cat k-ES256.kid)"
run "$SM" sign --key k-ES256.key --json m.json
cp out m.json.jws
check "sign --json: flattened JSON serialization" test "$rc" = 0 -a "$(json m.json.jws '",".join(sorted(d))')" = "payload,protected,signature"
run "$SM" verify --key k-ES256.pub m.jws
check "verify compact: exit 0, payload byte-identical" sh -c "[ $rc = 0 ] && cmp -s '$tmp/out' m.json"
check "verify names the form, the algorithm, the key that signed and what it vouched for, on stderr" test \
        "$(cat err)" = "$(printf 'verified: JWS (compact) over a JSON manifest\nalgorithm: ES256\nsigned by: k-ES256.pub (kid %s)\ncomponent firmware (default slot class): vouched for by kid %s (1 needed)' "$(cat k-ES256.kid)" "$(cat k-ES256.kid)")"
run "$SM" verify --quiet --key k-ES256.pub m.jws
check "verify --quiet: the payload, and nothing on stderr" sh -c "[ $rc = 0 ] && cmp -s '$tmp/out' m.json && [ ! -s '$tmp/err' ]"
run "$SM" verify --key k-ES256.pub m.json.jws
check "verify JSON: exit 0, payload byte-identical" sh -c "[ $rc = 0 ] && cmp -s '$tmp/out' m.json"
run "$SM" verify --key k-ES256.pub - <m.jws
check "verify reads standard input for -" sh -c "[ $rc = 0 ] && cmp -s '$tmp/out' m.json"
for alg in $ALGS; do
        "$SM" sign --key "k-$alg.key" --alg "$alg" m.json >"s-$alg.jws" 2>err &&
        "$SM" sign --key "k-$alg.key" --alg "$alg" --json m.json >"s-$alg.json" 2>err &&
        "$SM" verify --key "k-$alg.pub" "s-$alg.jws" >"v-$alg" 2>err && cmp -s "v-$alg" m.json &&
        "$SM" verify --key "k-$alg.pub" --alg-allow "$alg" "s-$alg.json" >"v-$alg" 2>err && cmp -s "v-$alg" m.json
        check "sign/verify round trip $alg, compact and JSON" test $? = 0
done
run "$SM" sign --key k-RS256.key m.json
check "sign with an RSA key and no --alg is a usage error" refused 2 sign
run "$SM" sign --key k-ES256.key --alg ES384 m.json
check "sign with an alg that does not fit the key fails" refused 1 sign
run "$SM" sign --key k-ES256.key --kid my-key m.json
check "sign --kid sets the kid" test "$rc" = 0 -a "$(b64url_decode "$(cut -d. -f1 out)" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["kid"])')" = my-key

run "$SM" verify --key k-ES384.pub m.jws
check "verify with a wrong key: refused, nothing on stdout, one line" refused 1 verify
run "$SM" verify --key k-ES256.pub --alg-allow ES384,EdDSA,PS256 m.jws
check "verify with --alg-allow excluding the alg: refused" refused 1 verify
run "$SM" verify --key k-ES256.pub --alg-allow ES256 m.jws
check "verify with --alg-allow including the alg: accepted" test "$rc" = 0
# Tampering: one payload character, one signature character, the header.
"$PY" -c '
import sys
h,p,s=open("m.jws").read().strip().split(".")
i=len(p)//2; p2=p[:i]+("A" if p[i]!="A" else "B")+p[i+1:]
open("t1.jws","w").write(".".join([h,p2,s])+"\n")
j=len(s)//2; s2=s[:j]+("A" if s[j]!="A" else "B")+s[j+1:]
open("t2.jws","w").write(".".join([h,p,s2])+"\n")
import base64,json
hd=json.loads(base64.urlsafe_b64decode(h+"=="))
hd["typ"]="JWT"
h2=base64.urlsafe_b64encode(json.dumps(hd).encode()).decode().rstrip("=")
open("t3.jws","w").write(".".join([h2,p,s])+"\n")
d=json.load(open("m.json.jws")); d["payload"]=d["payload"][:-4]+"AAAA"
open("t4.json","w").write(json.dumps(d))'
for t in t1.jws:payload t2.jws:signature t3.jws:header t4.json:JSON-payload; do
        run "$SM" verify --key k-ES256.pub "${t%%:*}"
        check "verify refuses a tampered ${t#*:}" refused 1 verify
done
printf 'not a manifest\n' >notmanifest.txt
run "$SM" sign --key k-ES256.key notmanifest.txt
cp out notmanifest.jws
check "sign signs a non-manifest but warns" sh -c "[ $rc = 0 ] && grep -q 'warning' '$tmp/err'"
run "$SM" verify --key k-ES256.pub notmanifest.jws
check "verify refuses a signed payload that is not a manifest" refused 1 verify
mkdir keys.d && cp k-ES384.pub keys.d/a.pem && cp k-ES256.pub keys.d/b.pem
run "$SM" verify --key keys.d m.jws
check "verify --key DIR trusts the keys of a directory" sh -c "[ $rc = 0 ] && cmp -s '$tmp/out' m.json"

# Two signatures: sign --json, then sign the JWS again.
"$SM" sign --key k-ES256.key --json m.json >one.json 2>err
run "$SM" sign --key k-PS256.key --alg PS256 one.json
cp out two.json
check "signing a JWS adds a signature (general serialization)" test "$rc" = 0 -a "$(json two.json 'len(d["signatures"])')" = 2
check "the added signature keeps the payload" test "$(json two.json 'd["payload"]')" = "$(json one.json 'd["payload"]')"
run "$SM" verify --key k-ES256.pub --key k-PS256.pub --min-signatures 2 two.json
check "verify --min-signatures 2 with both keys: accepted" sh -c "[ $rc = 0 ] && cmp -s '$tmp/out' m.json"
run "$SM" verify --key k-ES256.pub --min-signatures 2 two.json
check "verify --min-signatures 2 with one trusted key: refused" refused 1 verify
run "$SM" verify --key k-PS256.pub two.json
check "verify of a two-signature JWS with one trusted key: accepted" test "$rc" = 0
run "$SM" sign --key k-ES256.key two.json
check "signing again with the same key is refused" refused 1 sign
run "$SM" sign --key k-EdDSA.key m.jws
cp out compact-plus.json
check "signing a compact JWS adds a signature too" sh -c "[ $rc = 0 ] && [ \"\$(\"$PY\" -c 'import json; print(len(json.load(open(\"compact-plus.json\"))[\"signatures\"]))')\" = 2 ]"

# ------------------------------------------------------------ inspect
run "$SM" inspect two.json
check "inspect exits 0 and says NOT VERIFIED first" test "$rc" = 0 -a "$(head -n1 out | cut -c1-12)" = "NOT VERIFIED"
check "inspect shows both protected headers" test "$(grep -c '"typ": "secfu-manifest+jws"' out)" = 2 -a "$(grep -c '^signatures: 2$' out)" = 1
check "inspect shows the payload pretty-printed" sh -c "grep -q '^  \"firmwareVersion\": \"1.2.3\",\$' '$tmp/out' && grep -q 'manifest syntax: valid' '$tmp/out'"
run "$SM" inspect notmanifest.jws
check "inspect shows a non-JSON payload and that it is no manifest" sh -c "[ $rc = 0 ] && grep -q '^not a manifest\$' '$tmp/out' && grep -q 'manifest syntax: INVALID' '$tmp/out'"
printf 'garbage' >garbage.jws
run "$SM" inspect garbage.jws
check "inspect of something that is no JWS fails with one line" refused 1 inspect

# ------------------------------------------------------------ publish
mdir=www/.well-known/firmware/example.com/gw100
run "$SM" publish --root www m.jws fw.img
check "publish exits 0 and lists the files" test "$rc" = 0 -a "$(tr '\n' ' ' <out)" = ".well-known/firmware/example.com/gw100/fw.img .well-known/firmware/example.com/gw100/manifest.json "
check "publish: manifest.json holds the JWS bytes" cmp -s "$mdir/manifest.json" m.jws
check "publish: the image is copied byte for byte" cmp -s "$mdir/fw.img" fw.img
check "publish: no temporary files left" test "$(find www -name '.secfu*' | wc -l)" = 0
head -c 3145728 /dev/urandom >other.img
run "$SM" publish --root www2 m.jws other.img
check "publish refuses an image whose digests differ" sh -c "[ $rc = 1 ] && [ ! -e www2/.well-known/firmware/example.com/gw100/manifest.json ] && [ ! -e www2/.well-known/firmware/example.com/gw100/fw.img ]"
check "publish refusal is one line" refused 1 publish
head -c 100 /dev/urandom >short.img
run "$SM" publish --root www2 m.jws short.img
check "publish refuses an image of the wrong size" refused 1 publish
run "$SM" publish --root www2 m.jws
check "publish refuses when an image is not given" refused 1 publish
"$SM" create --manufacturer example.com --model gw100 --version 1.2.3 --image "fw.img=../../../../../escape.img" >esc.json 2>err
"$SM" sign --key k-ES256.key esc.json >esc.jws 2>err
run "$SM" publish --root www3 esc.jws fw.img
check "publish refuses a location that escapes the root with ../" sh -c "[ $rc = 1 ] && [ ! -e escape.img ] && [ ! -e www3/escape.img ] && grep -q 'outside' '$tmp/err'"
"$SM" create --manufacturer example.com --model gw100 --version 1.2.3 --image "fw.img=../../images/x%20y.img" >up.json 2>err
"$SM" sign --key k-ES256.key up.json >up.jws 2>err
run "$SM" publish --root www4 up.jws fw.img
check "publish resolves ../ and percent-escapes inside the root" sh -c "[ $rc = 0 ] && cmp -s 'www4/.well-known/firmware/images/x y.img' fw.img"
"$SM" create --manufacturer example.com --model gw100 --version 1.2.3 --image "fw.img=https://cdn.example.net/fw.img" >ext.json 2>err
"$SM" sign --key k-ES256.key ext.json >ext.jws 2>err
run "$SM" publish --root www5 ext.jws
check "publish refuses an external location without --allow-external" refused 1 publish
run "$SM" publish --root www5 --allow-external ext.jws
check "publish --allow-external publishes only the manifest" sh -c "[ $rc = 0 ] && cmp -s www5/.well-known/firmware/example.com/gw100/manifest.json ext.jws && [ \$(find www5 -type f | wc -l) = 1 ]"
"$SM" sign --key k-ES256.key split.json >split.jws 2>err
run "$SM" publish --root www6 split.jws boot.vfat fw.img
check "publish of the images form matches images by content, any order" sh -c "[ $rc = 0 ] && cmp -s www6/.well-known/firmware/example.com/gw100/b/boot.vfat boot.vfat && cmp -s www6/.well-known/firmware/example.com/gw100/fw.img fw.img"
run "$SM" publish --root www6 m.jws fw.img
check "publish replaces an earlier publication" sh -c "[ $rc = 0 ] && cmp -s www6/.well-known/firmware/example.com/gw100/manifest.json m.jws"

# ------------------------------------------------------------ usage errors
for args in "" "frobnicate" "--frobnicate" "keygen" "keygen --alg HS256 --out x" "keygen --alg none --out x" \
            "keygen --alg ES256" "sign --key k-ES256.key" "sign --key k-ES256.key m.json m.json" \
            "sign --bogus m.json" "verify m.jws" "verify --key k-ES256.pub --min-signatures 0 m.jws" \
            "verify --key k-ES256.pub --alg-allow HS256 m.jws" "verify --key" "inspect" "publish m.jws" \
            "create --image"; do
        # shellcheck disable=SC2086
        run "$SM" $args
        check "usage error exits 2 with a message: secfu-manifest $args" sh -c "[ $rc = 2 ] && [ ! -s '$tmp/out' ] && [ \$(wc -l <'$tmp/err') = 1 ] && grep -q '^secfu-manifest: ' '$tmp/err'"
done
for cmd in keygen create sign verify inspect publish; do
        run "$SM" "$cmd" --help
        check "$cmd --help exits 0" test "$rc" = 0 -a -s out
done

# ------------------------------------------------------------ create: keyInfo and rollbackFloor
# create_k ARGS...: a manifest for fw.img with the extra ARGS, into out/err.
create_k() { run "$SM" create --manufacturer example.com --model gw100 --version 1.2.3 --image fw.img "$@"; }
"$PY" -c '
import json,sys
from jwcrypto import jwk
k=jwk.JWK.from_pem(open("k-EdDSA.pub","rb").read())
d=json.loads(k.export_public()); d["kid"]="successor-1"
open("succ.jwk","w").write(json.dumps(d))' 2>err
check "jwcrypto writes a public JWK with its own kid" test -s succ.jwk
create_k --announce-key k-ES256.pub --announce-key succ.jwk --announce-key k-RS256.pub
cp out ki.json
check "create --announce-key PEM, JWK, PEM: exit 0" test "$rc" = 0 -a ! -s err
check "keyInfo.newKeys: three entries, kids from the thumbprint, the JWK, the thumbprint" test \
        "$(json ki.json '" ".join(k["kid"] for k in d["keyInfo"]["newKeys"])')" = "$(cat k-ES256.kid) successor-1 $(cat k-RS256.kid)"
check "keyInfo.newKeys are the public keys of the files (jwcrypto), no private members" "$PY" -c '
import json
from jwcrypto import jwk
keys=json.load(open("ki.json"))["keyInfo"]["newKeys"]
for entry,pem in zip(keys,["k-ES256.pub",None,"k-RS256.pub"]):
    assert not set(entry) & {"d","p","q","dp","dq","qi","k"}, entry
    got=jwk.JWK(**{m:v for m,v in entry.items() if m!="kid"})
    if pem:
        want=jwk.JWK.from_pem(open(pem,"rb").read())
        assert got.thumbprint()==want.thumbprint()==entry["kid"], (got.thumbprint(), entry["kid"])
    else:
        assert got.thumbprint()==jwk.JWK(**json.load(open("succ.jwk"))).thumbprint()'
check "create with keyInfo has no revokedKeys and no rollbackFloor unless asked" test \
        "$(json ki.json '"revokedKeys" in d["keyInfo"], "rollbackFloor" in d')" = "(False, False)"
"$SM" sign --key k-ES256.key ki.json >ki.jws 2>err
run "$SM" verify --key k-ES256.pub ki.jws
check "a manifest with keyInfo signs and verifies (the device parser accepts it)" sh -c "[ $rc = 0 ] && cmp -s '$tmp/out' ki.json"
create_k --revoke-kid "$(cat k-PS256.kid)" --revoke-kid old-factory-2
cp out rk.json
check "create --revoke-kid twice: keyInfo.revokedKeys in order, no newKeys" test "$rc" = 0 -a \
        "$(json rk.json '" ".join(d["keyInfo"]["revokedKeys"]) + " " + str("newKeys" in d["keyInfo"])')" = "$(cat k-PS256.kid) old-factory-2 False"
create_k --announce-key k-ES256.key
check "create --announce-key of a private PEM key is refused" refused 1 create
check "the private-key refusal says so" grep -q 'private key' err
create_k --announce-key "$top_srcdir/tests/data/keys/ec-p256.jwk"
check "create --announce-key of a private JWK is refused" refused 1 create
create_k --announce-key k-ES256.pub --announce-key k-ES256.pub
check "create --announce-key of one file twice is a usage error" refused 2 create
"$PY" -c '
from jwcrypto import jwk
open("es256.jwk","w").write(jwk.JWK.from_pem(open("k-ES256.pub","rb").read()).export_public())'
create_k --announce-key k-ES256.pub --announce-key es256.jwk
check "create --announce-key of one key as PEM and as JWK is refused" refused 1 create
create_k --revoke-kid a --revoke-kid a
check "create --revoke-kid of one kid twice is a usage error" refused 2 create
create_k --announce-key k-ES256.pub --revoke-kid "$(cat k-ES256.kid)"
check "announcing and revoking one kid at once is refused" refused 1 create
i=0; args=""
while [ $i -lt 16 ]; do "$SM" keygen --alg ES256 --out "many$i" >/dev/null 2>&1; args="$args --announce-key many$i.pub"; i=$((i + 1)); done
# shellcheck disable=SC2086
create_k $args
check "create with 16 --announce-key (the manifest's limit) is accepted" test "$rc" = 0 -a "$(json out 'len(d["keyInfo"]["newKeys"])')" = 16
# shellcheck disable=SC2086
create_k $args --announce-key k-ES256.pub
check "create with 17 --announce-key is a usage error" refused 2 create
args=$(i=0; while [ $i -lt 17 ]; do printf ' --revoke-kid kid%d' $i; i=$((i + 1)); done)
# shellcheck disable=SC2086
create_k $args
check "create with 17 --revoke-kid is a usage error" refused 2 create
create_k --rollback-floor 1.1.0
check "create --rollback-floor writes rollbackFloor" test "$rc" = 0 -a "$(json out 'd["rollbackFloor"]')" = 1.1.0
create_k --rollback-floor 1.2.3
check "create --rollback-floor equal to --version is accepted" test "$rc" = 0 -a "$(json out 'd["rollbackFloor"]')" = 1.2.3
create_k --rollback-floor 1.2.4
check "create --rollback-floor above --version is a usage error" refused 2 create
create_k --rollback-floor 1.x
check "create --rollback-floor that is no version is a usage error" refused 2 create

# ------------------------------------------------------------ publish --layout
wk=.well-known
run "$SM" publish --root wm --layout manifest m.jws fw.img
check "publish --layout manifest lists the manifest tree" test "$rc" = 0 -a "$(tr '\n' ' ' <out)" = "$wk/manifest/example.com/gw100/fw.img $wk/manifest/example.com/gw100/manifest.json "
check "publish --layout manifest: the files, and no firmware tree" sh -c "cmp -s wm/$wk/manifest/example.com/gw100/manifest.json m.jws && cmp -s wm/$wk/manifest/example.com/gw100/fw.img fw.img && [ ! -e wm/$wk/firmware ]"
run "$SM" publish --root wb --layout both split.jws fw.img boot.vfat
check "publish --layout both writes both trees, images first, manifests last" test "$rc" = 0 -a "$(tr '\n' ' ' <out)" = \
        "$wk/firmware/example.com/gw100/fw.img $wk/firmware/example.com/gw100/b/boot.vfat $wk/manifest/example.com/gw100/fw.img $wk/manifest/example.com/gw100/b/boot.vfat $wk/firmware/example.com/gw100/manifest.json $wk/manifest/example.com/gw100/manifest.json "
check "publish --layout both: every file in place, no temporary file left" sh -c "
        for t in firmware manifest; do
                cmp -s wb/$wk/\$t/example.com/gw100/manifest.json split.jws && cmp -s wb/$wk/\$t/example.com/gw100/fw.img fw.img &&
                        cmp -s wb/$wk/\$t/example.com/gw100/b/boot.vfat boot.vfat || exit 1
        done
        [ \$(find wb -type f | wc -l) = 6 ]"
run "$SM" publish --root wu --layout both up.jws fw.img
check "publish --layout both: a location both trees resolve alike is written once" test "$rc" = 0 -a "$(tr '\n' ' ' <out)" = \
        "$wk/firmware/images/x y.img $wk/manifest/images/x y.img $wk/firmware/example.com/gw100/manifest.json $wk/manifest/example.com/gw100/manifest.json "
"$SM" create --manufacturer example.com --model gw100 --version 1.2.3 --image "fw.img=/images/fw.img" >abs.json 2>err
"$SM" sign --key k-ES256.key abs.json >abs.jws 2>err
run "$SM" publish --root wa --layout both abs.jws fw.img
check "publish --layout both: an absolute path is one file for both manifests" sh -c "[ $rc = 0 ] && [ \$(grep -c images/fw.img '$tmp/out') = 1 ] && cmp -s wa/images/fw.img fw.img"
"$SM" create --manufacturer example.com --model gw100 --version 1.2.3 --image fw.img --slot-class rootfs \
        --image "boot.vfat=../../../firmware/example.com/gw100/manifest.json" --slot-class boot >clash.json 2>err
"$SM" sign --key k-ES256.key clash.json >clash.jws 2>err
run "$SM" publish --root wc --layout both clash.jws fw.img boot.vfat
check "publish --layout both refuses an image that lands on the other tree's manifest, writing nothing" sh -c "[ $rc = 1 ] && [ \$(find wc -type f 2>/dev/null | wc -l) = 0 ]"
check "that refusal is one line naming the manifest" sh -c "[ \$(wc -l <'$tmp/err') = 1 ] && grep -q 'manifest' '$tmp/err'"
run "$SM" publish --root wd --layout manifest esc.jws fw.img
check "publish --layout manifest refuses a location that escapes the root" sh -c "[ $rc = 1 ] && grep -q outside '$tmp/err' && [ ! -e escape.img ]"
run "$SM" publish --root we --layout web m.jws fw.img
check "publish --layout with an unknown layout is a usage error" refused 2 publish
# Serve the trees over HTTP and fetch every image at its location resolved
# against the manifest URL, as a device does.
check "over HTTP, each layout's image locations resolve from its manifest URL to the right bytes" "$PY" -c '
import base64, functools, hashlib, http.server, json, sys, threading, urllib.parse, urllib.request
def serve(root):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass
    h = functools.partial(Quiet, directory=root)
    s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), h)
    threading.Thread(target=s.serve_forever, daemon=True).start()
    return s
def payload(jws):
    jws = jws.strip()
    if jws.startswith(b"{"):
        p = json.loads(jws)["payload"]
    else:
        p = jws.split(b".")[1].decode()
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
checked = 0
for root, layouts in (("wm", ["manifest"]), ("wb", ["firmware", "manifest"]), ("wu", ["firmware", "manifest"]),
                      ("wa", ["firmware", "manifest"])):
    s = serve(root)
    for layout in layouts:
        url = "http://127.0.0.1:%d/.well-known/%s/example.com/gw100/manifest.json" % (s.server_address[1], layout)
        m = payload(urllib.request.urlopen(url).read())
        images = m.get("images") or [{"location": m["firmwareLocation"], "commitHash": m["firmwareCryptoInfo"]["commitHash"]}]
        for img in images:
            data = urllib.request.urlopen(urllib.parse.urljoin(url, img["location"])).read()
            want = [h["hash"] for h in img["commitHash"] if h["digestAlgo"] == "sha256"][0]
            assert hashlib.sha256(data).hexdigest() == want, (root, layout, img["location"])
            checked += 1
    s.shutdown()
assert checked == 9, checked'

echo "1..$n"
[ "$failures" = 0 ]
