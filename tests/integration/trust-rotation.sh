#!/bin/bash
# The trust store stays loadable after any sequence of signed rotations:
#  - ROTATIONS (default 200) rotations in a row, each manifest signed by the
#    key the previous one announced, announcing its successor and revoking
#    itself (the announcing key): one rotated key file remains, every
#    revoked kid is listed, only the last key verifies;
#  - an announced key that is already trusted (a factory key, the same key
#    twice in one manifest) is a no-op;
#  - a key the store could not load (RSA-1024) is reported and not written;
#  - a revocation that would leave no trusted key is refused;
#  - more keys than the store holds: the excess is reported, the store
#    stays loadable;
#  - a broken file planted in the rotated store is skipped, never taking the
#    factory key down;
#  - kill -9 at each step of writing the store: the next cycle completes
#    the rotation and the store is consistent.
# The manifests are made and signed by python3-jwcrypto (an independent
# JOSE implementation), all at once, so the loop costs one secfud --once
# per rotation.
. "$top_srcdir/tests/integration/lib.sh"
dev_require
dev_setup
ROTATIONS=${ROTATIONS:-200}
FAULTS=(trust-key-saving trust-key-saved trust-revoked-saved trust-key-removed)

IMG10=$(dev_image 1.0.0)
IMG11=$(dev_image 1.1.0)
dev_publish 1.1.0 >/dev/null # the 1.1.0 image on the server

# gen.py MODE ...: writes signed manifests into $D/m-*.jws (see below).
cat >"$D/gen.py" <<'PY'
import hashlib, json, os, sys, time
from jwcrypto import jwk, jws
from jwcrypto.common import json_encode

d = sys.argv[1]
mode = sys.argv[2]

def image_entry(path, location):
    data = open(path, "rb").read()
    return {"firmwareLocation": location, "firmwareSize": len(data),
            "firmwareCryptoInfo": {"commitHash": [
                {"digestAlgo": "sha256", "hash": hashlib.sha256(data).hexdigest()},
                {"digestAlgo": "sha512", "hash": hashlib.sha512(data).hexdigest()}]}}

def manifest(version, ts, key_info=None):
    img = os.path.join(d, "img-%s.img" % version)
    m = {"manifestVersion": "1.0", "timestamp": ts, "manufacturer": "example.com", "model": "gw100",
         "firmwareVersion": version}
    m.update(image_entry(img, "fw-%s.img" % version))
    if key_info:
        m["keyInfo"] = key_info
    return m

def sign(m, key, out):
    s = jws.JWS(json.dumps(m).encode())
    s.add_signature(key, None, json_encode({"alg": "ES256", "kid": key.thumbprint(), "typ": "secfu-manifest+jws"}))
    open(out, "w").write(s.serialize(compact=True))

def load(name):
    return jwk.JWK.from_pem(open(os.path.join(d, name), "rb").read())

def stamp(i):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 86400 + i))

factory = load("factory.key")
if mode == "chain":
    # m-N.jws: signed by key N-1 (0 = the factory), announces key N and
    # revokes key N-1; last.jws: 1.1.0 signed by the last key; prev.jws:
    # 1.1.0 signed by the one before.
    n = int(sys.argv[3])
    keys = [factory] + [jwk.JWK.generate(kty="EC", crv="P-256") for _ in range(n)]
    for i in range(1, n + 1):
        info = {"newKeys": [keys[i].export_public(as_dict=True)], "revokedKeys": [keys[i - 1].thumbprint()]}
        sign(manifest("1.0.0", stamp(i), info), keys[i - 1], os.path.join(d, "m-%d.jws" % i))
    sign(manifest("1.1.0", stamp(n + 1)), keys[n], os.path.join(d, "last.jws"))
    sign(manifest("1.1.0", stamp(n + 1)), keys[n - 1], os.path.join(d, "prev.jws"))
    open(os.path.join(d, "kids"), "w").write("\n".join(k.thumbprint() for k in keys) + "\n")
elif mode == "one":
    # one OUT JSON-OF-KEYINFO [VERSION]: a factory-signed manifest.
    info = json.loads(sys.argv[4])
    version = sys.argv[5] if len(sys.argv) > 5 else "1.0.0"
    sign(manifest(version, stamp(int(time.time()) % 80000), info), factory, sys.argv[3])
elif mode == "jwk":
    # jwk KIND: a fresh public JWK on stdout (ec, rsa1024).
    kind = sys.argv[3]
    k = jwk.JWK.generate(kty="EC", crv="P-256") if kind == "ec" else jwk.JWK.generate(kty="RSA", size=1024)
    print(json.dumps(k.export_public(as_dict=True)))
PY
gen() { /usr/bin/python3 "$D/gen.py" "$D" "$@"; }
rotated_files() { find "$D/state/keys" -name '*.jwk' 2>/dev/null | wc -l; }
revoked_count() { grep -c . "$D/state/revoked-kids" 2>/dev/null || echo 0; }
fresh() {
        rm -rf "$D/state" && mkdir -p "$D/state"
        dev_install_manifest "$1"
}

# ---------------------------------------------------------------- 200 rotations in a row
gen chain "$ROTATIONS"
ok $? "python3-jwcrypto made $ROTATIONS chained rotation manifests" || { tap_done; exit 1; }
mapfile -t KIDS <"$D/kids"
for ((i = 1; i <= ROTATIONS; i++)); do
        dev_install_manifest "$D/m-$i.jws"
        secfud_once
        [ "$ONCE_STATUS" -eq 0 ] && once_log_has "up to date"
        ok $? "rotation $i: signed by key $((i - 1)), announces key $i, revokes key $((i - 1)) (exit $ONCE_STATUS)"
        [ "$ONCE_STATUS" -eq 0 ] || { sed 's/^/# /' "$D/once.log"; }
done
is "$(rotated_files)" 1 "after $ROTATIONS rotations one rotated key file remains"
is "$(revoked_count)" "$ROTATIONS" "every revoked kid is listed ($ROTATIONS)"
grep -qx "${KIDS[0]}" "$D/state/revoked-kids"
ok $? "the factory key is among the revoked"
dev_install_manifest "$D/prev.jws"
dev_snapshot s
secfud_once
refused s "$(dev_image_path 1.1.0)" 'no trusted key with kid' "1.1.0 signed by the revoked key $((ROTATIONS - 1))"
dev_install_manifest "$D/last.jws"
secfud_once
staged 1.1.0 "1.1.0 signed by the last key ($ROTATIONS)"

# ---------------------------------------------------------------- duplicates
FACTORY_JWK=$(/usr/bin/python3 -c 'import json, sys
from jwcrypto import jwk
print(json.dumps(jwk.JWK.from_pem(open(sys.argv[1], "rb").read()).export_public(as_dict=True)))' "$D/factory.pub")
NEW_JWK=$(gen jwk ec)
gen one "$D/dup.jws" "{\"newKeys\": [$FACTORY_JWK, $NEW_JWK, $NEW_JWK]}"
fresh "$D/dup.jws"
secfud_once
is "$ONCE_STATUS" 0 "a manifest announcing the factory key and a new key twice is taken"
once_log_has "is trusted already"
ok $? "... the factory key and the repeated key are no-ops, said in the log"
is "$(rotated_files)" 1 "... one rotated key file (the new key)"
secfud_once
is "$ONCE_STATUS:$(rotated_files)" 0:1 "the same rotation again: no-op, the store loads"

# ---------------------------------------------------------------- a key the store refuses
WEAK_JWK=$(gen jwk rsa1024)
gen one "$D/weak.jws" "{\"newKeys\": [$WEAK_JWK]}"
fresh "$D/weak.jws"
secfud_once
is "$ONCE_STATUS" 0 "a manifest announcing an RSA-1024 key is taken"
grep -q 'not trusting an announced key: .*1024' "$D/once.log"
ok $? "... the key is reported (below the minimum) and not trusted"
is "$(rotated_files)" 0 "... and never written"

# ---------------------------------------------------------------- revoking every key
gen one "$D/nokeys.jws" "{\"revokedKeys\": [\"${KIDS[0]}\"]}"
fresh "$D/nokeys.jws"
secfud_once
grep -q 'not revoking 1 key(s): fewer than min-signatures' "$D/once.log"
ok $? "a revocation of the only trusted key is refused (the log says why)"
[ ! -s "$D/state/revoked-kids" ]
ok $? "... nothing is recorded as revoked"
gen one "$D/after.jws" '{}' 1.1.0
dev_install_manifest "$D/after.jws"
secfud_once
staged 1.1.0 "... and the factory key still carries an update"

# ---------------------------------------------------------------- more keys than the store holds
fresh "$D/last.jws"
for m in 1 2 3 4 5; do
        keys=""
        for k in $(seq 16); do keys="$keys${keys:+, }$(gen jwk ec)"; done
        gen one "$D/many-$m.jws" "{\"newKeys\": [$keys]}"
        dev_install_manifest "$D/many-$m.jws"
        secfud_once
done
is "$(rotated_files)" 63 "80 keys announced: the store holds 64 with the factory key, no more"
grep -q 'holds its maximum of 64 keys' "$D/once.log"
ok $? "... the excess is reported"
gen one "$D/full.jws" '{}' 1.1.0
dev_install_manifest "$D/full.jws"
secfud_once
staged 1.1.0 "... and a factory-signed update still stages"

# ---------------------------------------------------------------- a broken file in the rotated store
fresh "$D/full.jws"
mkdir -p "$D/state/keys"
echo '{"kty": "EC", "crv": "P-256", "x": "broken"}' >"$D/state/keys/broken.jwk"
head -c 100 /dev/urandom >"$D/state/keys/garbage.pem"
secfud_once
staged 1.1.0 "broken files in the rotated store: the factory key still carries an update"
grep -q 'skipping rotated key .*broken.jwk' "$D/once.log"
ok $? "... broken.jwk is reported and skipped"
grep -q 'skipping rotated key .*garbage.pem' "$D/once.log"
ok $? "... garbage.pem is reported and skipped"

# ---------------------------------------------------------------- kill -9 while writing the store
# Rotation: the factory announces key A and revokes a key B it announced
# earlier (so a file is removed too).
B_JWK=$(gen jwk ec)
B_KID=$(/usr/bin/python3 -c 'import json, sys
from jwcrypto import jwk
print(jwk.JWK(**json.loads(sys.argv[1])).thumbprint())' "$B_JWK")
A_JWK=$(gen jwk ec)
gen one "$D/announce-b.jws" "{\"newKeys\": [$B_JWK]}"
gen one "$D/rotate-a.jws" "{\"newKeys\": [$A_JWK], \"revokedKeys\": [\"$B_KID\"]}"
for point in "${FAULTS[@]}"; do
        fresh "$D/announce-b.jws"
        secfud_once
        dev_install_manifest "$D/rotate-a.jws"
        SFU_FAULT="$point:kill" secfud_once
        is "$ONCE_STATUS" 137 "kill -9 at $point: secfud was killed there"
        secfud_once
        is "$ONCE_STATUS" 0 "after the kill at $point: the next cycle runs"
        is "$(rotated_files)" 1 "after the kill at $point: one rotated key (A) remains"
        grep -qx "$B_KID" "$D/state/revoked-kids"
        ok $? "after the kill at $point: B is revoked"
        ! grep -q "$B_KID" "$D"/state/keys/*.jwk
        ok $? "after the kill at $point: B's file is gone"
done

dev_teardown
tap_done
