#!/bin/bash
# Firmware from several providers (doc/manifest.md, "Providers"; doc/trust.md,
# "Scopes"): the manufacturer's manifest carries the root file system and
# names a modem vendor's manifest for the modem component.
#  - staged: with a scoped trust-store key, with a key the manufacturer's
#    manifest introduces, with two signers where the vendor's scope asks
#    for two; all-or-nothing when the vendor's image is bad;
#  - the attack class: a provider signing outside its scope (another slot
#    class, another model, a key announcement), a delegation to an unknown
#    key, a provider manifest replayed from an older set, a cycle of
#    delegations, delegations deeper or more numerous than the bounds.
# Each refusal before staging leaves the device unchanged and asks for no
# image byte.
. "$top_srcdir/tests/integration/lib.sh"
dev_require
/usr/bin/python3 -c 'import cryptography' 2>/dev/null || skip_all "python3-cryptography missing"
KIDOF="/usr/bin/python3 $top_srcdir/tests/interop/cose-python-helper.py kid"

dev_setup
VDIR=$WWW/.well-known/firmware/example.com/gw100
mkdir -p "$VDIR/vendor"
"$SECFU_MANIFEST" keygen --alg ES256 --out "$D/vendor" >/dev/null
"$SECFU_MANIFEST" keygen --alg ES256 --out "$D/vendor2" >/dev/null
cp "$D/vendor.pub" "$D/keys.d/vendor.pem"
printf '[scope]\nmanufacturers = example.com\nmodels = gw100\nslot-classes = modem\nimages = modem\n' \
        >"$D/keys.d/vendor.scope"
FACTORY_KID=$($KIDOF "$D/factory.pub")
VENDOR_KID=$($KIDOF "$D/vendor.pub")
for c in modem c2 c3 c4; do truncate -s 1048576 "$D/$c-a" "$D/$c-b"; done
EXTRA_CONF=""
for c in modem c2 c3 c4; do
        EXTRA_CONF="$EXTRA_CONF
[slot.$c.0]
device = $D/$c-a
bootname = A
[slot.$c.1]
device = $D/$c-b
bootname = B"
done
dev_write_config
ROOTFS=$(dev_image 1.1.0)
MODEM=$D/modem-2.0.0.img
head -c 200000 /dev/urandom >"$MODEM"
cp "$ROOTFS" "$VDIR/rootfs-1.1.0.img"
cp "$MODEM" "$VDIR/vendor/modem-2.0.0.img"

# mk NAME VERSION TIMESTAMP PYTHON: a manifest JSON $D/NAME.json built by PYTHON on m
# (m starts with the device's identity, VERSION and TIMESTAMP; img(name, class,
# file, location) makes an images entry).
mk() {
        /usr/bin/python3 - "$D/$1.json" "$2" "$3" "$4" <<'PY'
import hashlib, json, sys
out, version, ts, code = sys.argv[1:5]
def img(name, cls, path, location):
    data = open(path, "rb").read()
    return {"name": name, "slotClass": cls, "location": location, "size": len(data),
            "commitHash": [{"digestAlgo": "sha256", "hash": hashlib.sha256(data).hexdigest()}]}
def prov(name, cls, manifest, kid=None, key=None, **kw):
    e = {"name": name, "slotClass": cls, "manifest": manifest}
    if kid: e["kid"] = kid
    if key: e["key"] = json.load(open(key))
    e.update(kw)
    return e
m = {"manifestVersion": "1.0", "timestamp": ts, "manufacturer": "example.com", "model": "gw100",
     "firmwareVersion": version}
exec(code)
json.dump(m, open(out, "w"), indent=1)
PY
}
# sig NAME KEY...: $D/NAME.jws, the JSON signed by each KEY in turn
sig() {
        local name=$1 k
        shift
        cp "$D/$name.json" "$D/$name.tmp"
        for k in "$@"; do
                "$SECFU_MANIFEST" sign --key "$D/$k.key" "$D/$name.tmp" >"$D/$name.jws" || return 1
                cp "$D/$name.jws" "$D/$name.tmp"
        done
}
now() { date -u -d "${1:-now}" +%Y-%m-%dT%H:%M:%SZ; }
ROOT_IMG='m["images"] = [img("rootfs", "rootfs", "'"$ROOTFS"'", "rootfs-1.1.0.img")]; m["crit"] = ["providers"]'
# root ENTRY-PYTHON...: the manufacturer's 1.1.0, signed by the factory key, served
root() {
        mk root 1.1.0 "$(now)" "$ROOT_IMG; m['providers'] = [$1]" && sig root factory &&
                cp "$D/root.jws" "$VDIR/manifest.json"
}
# vendor [VERSION [TIMESTAMP [PYTHON [KEYS...]]]]: the vendor's modem manifest at vendor/modem.jws
vendor() {
        local version=${1:-2.0.0} ts=${2:-$(now)} code=${3:-}
        shift 3 2>/dev/null || shift $#
        mk vmodem "$version" "$ts" \
                "m['images'] = [img('modem', 'modem', '$MODEM', 'modem-2.0.0.img')]; $code" &&
                sig vmodem "${@:-vendor}" && cp "$D/vmodem.jws" "$VDIR/vendor/modem.jws"
}
fresh() {
        rm -rf "$D/state" && mkdir -p "$D/state"
        printf 'BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n' >"$D/bootenv"
        for c in modem c2 c3 c4; do truncate -s 0 "$D/$c-b" && truncate -s 1048576 "$D/$c-b"; done
        fixture_reset >/dev/null
}
ENTRY="prov('modem', 'modem', 'vendor/modem.jws', kid='$VENDOR_KID')"
IMGPATH=/.well-known/firmware/example.com/gw100/rootfs-1.1.0.img
MODEMPATH=/.well-known/firmware/example.com/gw100/vendor/modem-2.0.0.img
# no_bytes WHAT: neither image was asked for
no_bytes() {
        is "$(($(fixture_count "$IMGPATH") + $(fixture_count "$MODEMPATH")))" 0 "$1: no image byte was requested"
}
# try WHAT PATTERN: a cycle refused before staging
try() {
        dev_snapshot s
        secfud_once
        refused s "" "$2" "$1"
        no_bytes "$1"
        fresh
}

# ---------------------------------------------------------------- staged
fresh
root "$ENTRY"
vendor
secfud_once
staged 1.1.0 "two providers: the manufacturer's rootfs and the vendor's modem"
cmp -s -n 200000 "$MODEM" "$D/modem-b"
ok $? "two providers: the vendor's modem image is in the inactive modem slot"
is "$(state_field "s['components']['modem']['version']")" 2.0.0 "two providers: the state remembers modem 2.0.0"
once_log_has "provider \"modem\": modem 2.0.0, signed by $VENDOR_KID"
ok $? "two providers: the log names who vouched for the modem"

# the same set made with secfu-manifest alone: create --provider, sign,
# and verify naming who vouched for which component
fresh
"$SECFU_MANIFEST" create --manufacturer example.com --model gw100 --version 1.1.0 \
        --image "$ROOTFS=rootfs-1.1.0.img" --slot-class rootfs --name rootfs \
        --provider modem=vendor/modem.jws --provider-kid "$VENDOR_KID" --min-version 2.0.0 >"$D/troot.json" &&
        "$SECFU_MANIFEST" sign --key "$D/factory.key" "$D/troot.json" >"$VDIR/manifest.json" &&
        "$SECFU_MANIFEST" create --manufacturer example.com --model gw100 --version 2.0.0 \
                --image "$MODEM=modem-2.0.0.img" --slot-class modem --name modem >"$D/tmodem.json" &&
        "$SECFU_MANIFEST" sign --key "$D/vendor.key" "$D/tmodem.json" >"$VDIR/vendor/modem.jws"
ok $? "secfu-manifest create --provider and sign make both manifests"
"$SECFU_MANIFEST" verify --key "$D/keys.d" "$VDIR/manifest.json" >/dev/null 2>"$D/verify.err"
ok $? "secfu-manifest verify takes the delegating manifest with the trust store"
grep -qx "component rootfs (rootfs): vouched for by kid $FACTORY_KID (1 needed)" "$D/verify.err" &&
        grep -qx "component modem (modem): delegated to vendor/modem.jws, signed by the trusted kid $VENDOR_KID; this manifest vouched by kid $FACTORY_KID (1 needed)" "$D/verify.err"
ok $? "verify names who vouched for each component"
"$SECFU_MANIFEST" verify --key "$D/keys.d" "$VDIR/vendor/modem.jws" >/dev/null 2>"$D/verify.err"
grep -qx "component modem (modem): vouched for by kid $VENDOR_KID (1 needed)" "$D/verify.err"
ok $? "verify of the vendor's manifest: the scoped vendor key vouched for the modem"
secfud_once
staged 1.1.0 "the set made with secfu-manifest"
cmp -s -n 200000 "$MODEM" "$D/modem-b"
ok $? "the set made with secfu-manifest: the modem image is in the inactive modem slot"
"$SECFU_MANIFEST" create --manufacturer example.com --model gw100 --version 2.0.0 \
        --image "$MODEM=modem-2.0.0.img" --slot-class rootfs --name rootfs >"$D/tbad.json" &&
        "$SECFU_MANIFEST" sign --key "$D/vendor.key" "$D/tbad.json" >"$D/tbad.jws"
"$SECFU_MANIFEST" verify --key "$D/keys.d" "$D/tbad.jws" >/dev/null 2>"$D/verify.err"
is "$?" 1 "verify refuses the vendor key signing a rootfs, outside its scope"
diag "$(cat "$D/verify.err")"

fresh
/usr/bin/python3 - "$D/vendor2.pub" "$D/vendor2.jwk" <<'PY'
import base64, json, sys
from cryptography.hazmat.primitives import serialization
k = serialization.load_pem_public_key(open(sys.argv[1], "rb").read())
n = k.public_numbers()
b = lambda i: base64.urlsafe_b64encode(i.to_bytes(32, "big")).rstrip(b"=").decode()
json.dump({"kty": "EC", "crv": "P-256", "x": b(n.x), "y": b(n.y)}, open(sys.argv[2], "w"))
PY
root "prov('modem', 'modem', 'vendor/modem.jws', key='$D/vendor2.jwk')"
vendor 2.0.0 "$(now)" "" vendor2
secfud_once
staged 1.1.0 "a key the manufacturer's manifest introduces for the modem"

# Two signers for the modem: the vendor's scope asks for them.
fresh
printf '[scope]\nslot-classes = modem\nmin-signatures = 2\n' >"$D/keys.d/vendor.scope"
root "$ENTRY"
vendor
try "the vendor alone where its scope asks two signatures" "component \"modem\" needs 2 signatures"
root "$ENTRY"
vendor 2.0.0 "$(now)" "" vendor factory
secfud_once
staged 1.1.0 "the vendor and the manufacturer sign the modem manifest"
printf '[scope]\nmanufacturers = example.com\nmodels = gw100\nslot-classes = modem\nimages = modem\n' \
        >"$D/keys.d/vendor.scope"

# All or nothing: the vendor's image does not match its manifest.
fresh
root "$ENTRY"
vendor
head -c 200000 /dev/urandom >"$VDIR/vendor/modem-2.0.0.img"
dev_snapshot s
secfud_once
refused s "" "image \"modem\": sha256 mismatch" "the vendor's image does not match its manifest"
env_has "BOOT_ORDER=A B"
ok $? "bad vendor image: the bootloader was not switched although the rootfs was staged"
is "$(state_field "s['slots']['B']['health']")" bad "bad vendor image: the B side is bad, nothing staged"
cp "$MODEM" "$VDIR/vendor/modem-2.0.0.img"
fresh
rm "$VDIR/vendor/modem.jws"
try "the vendor's manifest is missing (404)" "provider \"modem\".*HTTP 404"

# ---------------------------------------------------------------- outside the scope
vendor
root "$ENTRY, prov('boot', 'c2', 'vendor/boot.jws', kid='$VENDOR_KID')"
mk vboot 1.0.0 "$(now)" "m['images'] = [img('boot', 'c2', '$MODEM', 'modem-2.0.0.img')]" && sig vboot vendor &&
        cp "$D/vboot.jws" "$VDIR/vendor/boot.jws"
try "the vendor signs a component of another slot class" "no signing key's scope covers component \"boot\""
root "$ENTRY"
vendor 2.0.0 "$(now)" "m['model'] = 'gw200'"
try "the vendor's manifest is for another model" "manifest is for model \"gw200\"|scope covers component \"modem\" \(slot class modem\) of example.com gw200"
printf '[scope]\nmodels = gw200\nslot-classes = modem\n' >"$D/keys.d/vendor.scope"
root "$ENTRY"
vendor
try "the vendor's key is scoped to another model" "no signing key's scope covers component \"modem\""
printf '[scope]\nmanufacturers = example.com\nmodels = gw100\nslot-classes = modem\nimages = modem\n' \
        >"$D/keys.d/vendor.scope"
root "$ENTRY"
vendor 2.0.0 "$(now)" "m['keyInfo'] = {'revokedKeys': ['$FACTORY_KID']}"
try "the vendor's manifest announces a key revocation" "keyInfo needs 1 signatures by keys that may announce"
ls "$D/keys.d" "$D/state" >"$D/keys-after"
ok $([ -f "$D/keys.d/factory.pem" ] && ! grep -q "$FACTORY_KID" "$D/state/revoked-kids" 2>/dev/null && echo 0 || echo 1) \
        "revocation by the vendor: the factory key is still trusted"
root "$ENTRY"
vendor 2.0.0 "$(now)" "m['images'][0]['slotClass'] = 'c2'"
try "the vendor's manifest puts the modem into another slot class" "must carry the one image \"modem\" of slot class modem|scope covers component \"modem\" \(slot class c2\)"

# ---------------------------------------------------------------- keys
root "prov('modem', 'modem', 'vendor/modem.jws', kid='no-such-key')"
vendor
try "a delegation to an unknown key" "provider key \"no-such-key\" for \"modem\" is not in the trust store"
root "$ENTRY"
vendor 2.0.0 "$(now)" "" vendor2
try "the modem manifest signed by another key than the one named" "no trusted key with kid|not signed by its provider's key"
root "$ENTRY"
vendor 2.0.0 "$(now)" "" factory
try "the modem manifest signed by the manufacturer instead of the vendor" "not signed by its provider's key"

# ---------------------------------------------------------------- replay
# A poll that only checks accepts the set of modem 2.0.0; the next set names the vendor's older manifest.
OLD_TS=$(now '-2 days')
vendor 1.9.0 "$OLD_TS"
cp "$D/vmodem.jws" "$D/vmodem-old.jws"
fresh
vendor
root "$ENTRY"
POLICY=check dev_write_config
secfud_once
is "$(state_field "s['components']['modem']['version']")" 2.0.0 "a checked set: the state remembers modem 2.0.0"
POLICY=stage dev_write_config
cp "$D/vmodem-old.jws" "$VDIR/vendor/modem.jws"
root "$ENTRY"
dev_snapshot s
secfud_once
refused s "" "older than the newest accepted manifest" "the vendor's manifest of an older set replayed"
no_bytes "replayed provider manifest"
vendor 1.9.0 "$(now)"
root "$ENTRY"
dev_snapshot s
secfud_once
refused s "" "firmwareVersion 1.9.0 is older than 2.0.0, accepted before" "an older modem version, freshly signed"
root "prov('modem', 'modem', 'vendor/modem.jws', kid='$VENDOR_KID', minVersion='2.1.0')"
vendor 2.0.0 "$(now)"
dev_snapshot s
secfud_once
refused s "" "below the minVersion 2.1.0" "the manufacturer asks for modem 2.1.0 at least"
fresh

# ---------------------------------------------------------------- cycles and bounds
root "prov('modem', 'modem', 'vendor/p.jws', kid='$FACTORY_KID')"
mk p 2.0.0 "$(now)" "m['images'] = [img('modem', 'modem', '$MODEM', 'modem-2.0.0.img')]; m['crit'] = ['providers']; m['providers'] = [prov('c2', 'c2', 'p.jws', kid='$FACTORY_KID')]"
sig p factory && cp "$D/p.jws" "$VDIR/vendor/p.jws"
try "a provider manifest that delegates to itself" "already part of this set \\(a cycle\\)"
root "prov('modem', 'modem', 'vendor/p.jws', kid='$FACTORY_KID')"
mk p 2.0.0 "$(now)" "m['images'] = [img('modem', 'modem', '$MODEM', 'modem-2.0.0.img')]; m['crit'] = ['providers']; m['providers'] = [prov('c2', 'c2', 'q.jws', kid='$FACTORY_KID')]"
sig p factory && cp "$D/p.jws" "$VDIR/vendor/p.jws"
mk q 2.0.0 "$(now)" "m['images'] = [img('c2', 'c2', '$MODEM', 'modem-2.0.0.img')]; m['crit'] = ['providers']; m['providers'] = [prov('c3', 'c3', 'p.jws', kid='$FACTORY_KID')]"
sig q factory && cp "$D/q.jws" "$VDIR/vendor/q.jws"
try "two provider manifests that delegate to each other" "vendor/p.jws is already part of this set \\(a cycle\\)"
# a chain modem -> c2 -> c3 -> c4 -> c5: one level too deep
root "prov('modem', 'modem', 'vendor/d1.jws', kid='$FACTORY_KID')"
chain=(modem c2 c3 c4 c5)
for i in 1 2 3 4; do
        mk "d$i" 2.0.0 "$(now)" "m['images'] = [img('${chain[i - 1]}', '${chain[i - 1]}', '$MODEM', 'modem-2.0.0.img')]; m['crit'] = ['providers']; m['providers'] = [prov('${chain[i]}', '${chain[i]}', 'd$((i + 1)).jws', kid='$FACTORY_KID')]"
        sig "d$i" factory && cp "$D/d$i.jws" "$VDIR/vendor/d$i.jws"
done
try "delegations five levels deep" "delegated more than 4 levels deep"
is "$(fixture_count /.well-known/firmware/example.com/gw100/vendor/d5.jws)" 0 "too deep: the fifth manifest is never asked for"
mk root 1.1.0 "$(now)" "$ROOT_IMG; m['providers'] = [prov('p%d' % i, 'x%d' % i, 'vendor/m.jws', kid='$VENDOR_KID') for i in range(9)]"
sig root factory && cp "$D/root.jws" "$VDIR/manifest.json"
try "nine providers in one manifest" "\"providers\" has more than 8 entries"

tap_done
