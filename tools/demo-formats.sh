#!/bin/bash
# make demo-formats: the other ways firmware reaches a device, end to end
# in a temporary directory, with file-backed slots and the `file`
# bootloader:
#   1. a COSE_Sign over a CBOR manifest, signed by an ES256 key and a
#      hash-based HSS-LMS key, staged from a local HTTP server;
#   2. a bundle (.sfu: the signed manifest and its image in one file)
#      handed to secfuctl apply FILE, which passes it as a descriptor;
#   3. a set from two providers: the manufacturer's root file system and a
#      modem vendor's firmware, which the manufacturer's manifest delegates
#      to the vendor's own signed manifest, verified with the vendor's
#      scoped key, staged all-or-nothing;
#   4. an encrypted update: the signed manifest inside a JWE for the
#      device's X25519 key, the image encrypted in authenticated segments,
#      decrypted while it streams into the slot;
#   5. the same all in COSE: a COSE_Sign1 inside a COSE_Encrypt;
#   6. a delta update from nginx: the new image also as a zchunk file, of
#      which the device fetches only the chunks its running slot lacks.
set -euo pipefail
DEMO_NAME=demo-formats
# shellcheck source=tools/demo-lib.sh
. "$(dirname "$0")/demo-lib.sh"
mkdir -p keys.d state run www
MiB=1048576

ctl() { run "$SECFUCTL" -s "$sock" "$@"; }
# apply [ARG]: secfuctl apply once the daemon has no operation running (a
# poll of its own would answer Busy)
apply() {
        for _ in $(seq 600); do
                "$SECFUCTL" -s "$sock" status --json 2>/dev/null | grep -q '"busy": *false' && break
                sleep 0.1
        done
        ctl apply "$@"
}
# reboot_into VERSION: a simulated reboot into the trial slot, which runs
# VERSION; secfud restarts there and the operator commits it
reboot_into() {
        stop_daemon
        python3 "$BOOTSIM" --backend file --env bootenv --out booted --slots "A B" --attempts 3 >/dev/null
        echo "$1" >version
        start_daemon
        ctl mark-good
}

say "The manufacturer's keys: ES256, and HSS-LMS (hash-based, stateful)"
run "$MANIFEST" keygen --alg ES256 --out manufacturer
run "$MANIFEST" keygen --alg HSS-LMS --out manufacturer-pq
cp manufacturer.pub keys.d/manufacturer.pem
cp manufacturer-pq.hss keys.d/manufacturer-pq.hss
echo "The device trusts both (keys.d/manufacturer.pem, keys.d/manufacturer-pq.hss)."

say "A modem vendor's key, which the device trusts for the modem only"
vendor_kid=$(run "$MANIFEST" keygen --alg EdDSA --out vendor)
echo "$vendor_kid"
cp vendor.pub keys.d/vendor.pem
cat >keys.d/vendor.scope <<'SCOPE'
[scope]
manufacturers = example.com
models = gw100
slot-classes = modem
images = modem
SCOPE
run cat keys.d/vendor.scope

say "The device's decryption key (X25519), in a directory only secfud may read"
mkdir -m 0700 decrypt.d
run openssl genpkey -algorithm X25519 -out decrypt.d/device.pem
chmod 0600 decrypt.d/device.pem
openssl pkey -in decrypt.d/device.pem -pubout -out device-enc.pub
echo "The factory keeps device-enc.pub, the public half, for the manufacturer."

say "The device: rootfs 1.0.0 and modem 1.0.0 in slots A; slots B empty"
head -c $((4 * MiB)) /dev/urandom >rootfs-1.0.0.img
cp rootfs-1.0.0.img rootfs-a
head -c $MiB /dev/urandom >modem-a
truncate -s 16M rootfs-a rootfs-b
truncate -s 4M modem-a modem-b
echo 1.0.0 >version
echo A >booted
printf 'BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n' >bootenv
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >secfud.conf <<CONF
[device]
manufacturer = example.com
model = gw100
version-file = $demo/version
booted-slot = file:$demo/booted

[discovery]
domain = none
manufacturer-url = http://127.0.0.1:$port/.well-known/firmware/{manufacturer}/{model}/manifest.json

[security]
keys = $demo/keys.d
formats = cose, jws
decryption-keys = $demo/decrypt.d

[poll]
policy = check

[bootloader]
backend = file
file = $demo/bootenv

[slot.rootfs.0]
device = $demo/rootfs-a
bootname = A
[slot.rootfs.1]
device = $demo/rootfs-b
bootname = B
[slot.modem.0]
device = $demo/modem-a
bootname = A
[slot.modem.1]
device = $demo/modem-b
bootname = B

[storage]
state-dir = $demo/state
runtime-dir = $demo/run
CONF
python3 -m http.server --bind 127.0.0.1 --directory www "$port" >server.log 2>&1 &
server_pid=$!
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
start_daemon
ctl status

# ------------------------------------------------------------------ COSE
say "1.1.0: a CBOR manifest in a COSE_Sign, signed with both keys"
head -c $((8 * MiB)) /dev/urandom >rootfs-1.1.0.img
run "$MANIFEST" create --manufacturer example.com --model gw100 --version 1.1.0 \
        --image rootfs-1.1.0.img --slot-class rootfs --name rootfs >manifest-1.1.0.json
run "$MANIFEST" sign --cose --key manufacturer.key --key manufacturer-pq.hsskey -o manifest-1.1.0.cose \
        manifest-1.1.0.json
run "$MANIFEST" verify --min-signatures 2 --key keys.d manifest-1.1.0.cose >/dev/null
printf 'manifest-1.1.0.cose: %s bytes (the JSON manifest alone: %s bytes)\n' \
        "$(stat -c %s manifest-1.1.0.cose)" "$(stat -c %s manifest-1.1.0.json)"
run "$MANIFEST" publish --root www manifest-1.1.0.cose rootfs-1.1.0.img

say "secfuctl apply: the device takes the COSE manifest from the server"
apply
cmp -s rootfs-1.1.0.img <(head -c $((8 * MiB)) rootfs-b) && echo "slot B holds exactly rootfs-1.1.0.img"
reboot_into 1.1.0

# ------------------------------------------------------------------ bundle
say "1.2.0: a bundle, the signed manifest and the image in one file"
head -c $((8 * MiB)) /dev/urandom >rootfs-1.2.0.img
run "$MANIFEST" create --manufacturer example.com --model gw100 --version 1.2.0 \
        --image rootfs-1.2.0.img --slot-class rootfs --name rootfs >manifest-1.2.0.json
run "$MANIFEST" sign --key manufacturer.key manifest-1.2.0.json >manifest-1.2.0.jws
run "$MANIFEST" pack -o rootfs-1.2.0.sfu manifest-1.2.0.jws rootfs-1.2.0.img
run "$MANIFEST" verify --key keys.d rootfs-1.2.0.sfu >/dev/null

say "secfuctl apply FILE: secfuctl opens the bundle and passes the descriptor"
apply "$demo/rootfs-1.2.0.sfu"
cmp -s rootfs-1.2.0.img <(head -c $((8 * MiB)) rootfs-a) && echo "slot A holds exactly rootfs-1.2.0.img"
reboot_into 1.2.0

# ------------------------------------------------------------------ providers
say "1.3.0: the manufacturer's rootfs and the vendor's modem 2.0.0"
head -c $((8 * MiB)) /dev/urandom >rootfs-1.3.0.img
head -c $((2 * MiB)) /dev/urandom >modem-2.0.0.img
echo "The vendor signs the modem's manifest with its own key:"
run "$MANIFEST" create --manufacturer example.com --model gw100 --version 2.0.0 \
        --image modem-2.0.0.img=modem-2.0.0.img --slot-class modem --name modem >modem.json
run "$MANIFEST" sign --key vendor.key modem.json >modem.jws
echo "The manufacturer's manifest delegates the modem to it:"
run "$MANIFEST" create --manufacturer example.com --model gw100 --version 1.3.0 \
        --image rootfs-1.3.0.img --slot-class rootfs --name rootfs \
        --provider modem=vendor/modem.jws --provider-kid "$vendor_kid" \
        --min-version 2.0.0 >manifest-1.3.0.json
run "$MANIFEST" sign --key manufacturer.key manifest-1.3.0.json >manifest-1.3.0.jws
run "$MANIFEST" verify --key keys.d manifest-1.3.0.jws >/dev/null
run "$MANIFEST" verify --key keys.d modem.jws >/dev/null
run "$MANIFEST" publish --root www manifest-1.3.0.jws rootfs-1.3.0.img
echo "The vendor's manifest and image go beside it, under vendor/:"
mkdir -p www/.well-known/firmware/example.com/gw100/vendor
cp modem.jws modem-2.0.0.img www/.well-known/firmware/example.com/gw100/vendor/
find www -type f | sort | sed 's/^/  /'

say "secfuctl apply: both manifests verified, both slots B staged"
apply
cmp -s rootfs-1.3.0.img <(head -c $((8 * MiB)) rootfs-b) && echo "rootfs slot B holds exactly rootfs-1.3.0.img"
cmp -s modem-2.0.0.img <(head -c $((2 * MiB)) modem-b) && echo "modem slot B holds exactly modem-2.0.0.img"
grep -F 'provider "modem"' daemon.log | sed 's/^/  /'
reboot_into 1.3.0

# ------------------------------------------------------------------ encrypted
say "1.4.0, confidential: sign, then encrypt the manifest and the image"
head -c $((8 * MiB)) /dev/urandom >rootfs-1.4.0.img
run "$MANIFEST" create --manufacturer example.com --model gw100 --version 1.4.0 \
        --image rootfs-1.4.0.img --slot-class rootfs --name rootfs >manifest-1.4.0.json
run "$MANIFEST" encrypt --image rootfs-1.4.0.img -o rootfs-1.4.0.enc --manifest manifest-1.4.0.json \
        >manifest-1.4.0-enc.json
run "$MANIFEST" sign --key manufacturer.key manifest-1.4.0-enc.json >manifest-1.4.0.jws
run "$MANIFEST" encrypt --to device-enc.pub manifest-1.4.0.jws >manifest-1.4.0.jwe
run "$MANIFEST" inspect manifest-1.4.0.jwe
dir=www/.well-known/firmware/example.com/gw100
# serve_manifest FILE: FILE becomes the served manifest.json.  This server
# knows only Last-Modified, in whole seconds: a new file in the same second
# as the one the device has cached would rightly be answered 304, so wait
# for the next second; and replace it atomically, so that a poll never
# pairs the old bytes with the new file's time.
serve_manifest() {
        sleep 1
        cp "$1" "$dir/manifest.json.tmp" && mv "$dir/manifest.json.tmp" "$dir/manifest.json"
}
serve_manifest manifest-1.4.0.jwe
cp rootfs-1.4.0.enc "$dir/"
echo "The server holds only ciphertext: manifest.json (a JWE) and rootfs-1.4.0.enc."

say "secfuctl apply: decrypt the manifest, verify it, decrypt the image into slot A"
apply
cmp -s rootfs-1.4.0.img <(head -c $((8 * MiB)) rootfs-a) && echo "slot A holds exactly rootfs-1.4.0.img (the plaintext)"
grep -F 'manifest decrypted' daemon.log | sed 's/^/  /'
reboot_into 1.4.0
ctl status

# ------------------------------------------------------------------ all COSE
say "1.5.0, confidential in COSE: a COSE_Sign1 inside a COSE_Encrypt"
head -c $((4 * MiB)) /dev/urandom >rootfs-1.5.0.img
run "$MANIFEST" create --manufacturer example.com --model gw100 --version 1.5.0 \
        --image rootfs-1.5.0.img --slot-class rootfs --name rootfs >manifest-1.5.0.json
run "$MANIFEST" encrypt --image rootfs-1.5.0.img -o rootfs-1.5.0.enc --manifest manifest-1.5.0.json \
        >manifest-1.5.0-enc.json
run "$MANIFEST" sign --cose --key manufacturer.key -o manifest-1.5.0.cose manifest-1.5.0-enc.json
run "$MANIFEST" encrypt --cose --to device-enc.pub -o manifest-1.5.0.cenc manifest-1.5.0.cose
run "$MANIFEST" inspect manifest-1.5.0.cenc
serve_manifest manifest-1.5.0.cenc
cp rootfs-1.5.0.enc "$dir/"
apply
cmp -s rootfs-1.5.0.img <(head -c $((4 * MiB)) rootfs-b) && echo "slot B holds exactly rootfs-1.5.0.img (the plaintext)"
grep -F '(COSE_Encrypt)' daemon.log | sed 's/^/  /'
reboot_into 1.5.0
ctl status

# ------------------------------------------------------------------ delta
say "1.6.0 as a delta: a few 4 KiB blocks of 1.5.0 changed, published with --delta"
cp rootfs-1.5.0.img rootfs-1.6.0.img
for block in 3 300 700; do
        head -c 4096 /dev/urandom | dd of=rootfs-1.6.0.img bs=4096 seek=$block conv=notrunc status=none
done
run "$MANIFEST" create --manufacturer example.com --model gw100 --version 1.6.0 \
        --image rootfs-1.6.0.img --slot-class rootfs --name rootfs --delta >manifest-1.6.0.json
run "$MANIFEST" sign --key manufacturer.key manifest-1.6.0.json >manifest-1.6.0.jws
run "$MANIFEST" publish --root www manifest-1.6.0.jws rootfs-1.6.0.img
cp rootfs-1.6.0.img.zck "$dir/"
printf 'rootfs-1.6.0.img: %s bytes; rootfs-1.6.0.img.zck: %s bytes beside it\n' \
        "$(stat -c %s rootfs-1.6.0.img)" "$(stat -c %s rootfs-1.6.0.img.zck)"
echo "Range requests need a real web server: nginx replaces python's http.server."
kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
# shellcheck source=tests/lib/nginx.sh
. "$top/tests/lib/nginx.sh"
nginx_start "$demo/nginx" "$demo/www" >/dev/null 2>&1 || { echo "$DEMO_NAME: nginx did not start"; exit 1; }
server_pid=$NGINX_PID
stop_daemon
sed -i "s|^manufacturer-url = .*|manufacturer-url = $NGINX_URL/.well-known/firmware/{manufacturer}/{model}/manifest.json|" secfud.conf
start_daemon

say "secfuctl apply: the chunks slot B holds come from there, the rest from nginx"
apply
cmp -s rootfs-1.6.0.img <(head -c $((4 * MiB)) rootfs-a) && echo "slot A holds exactly rootfs-1.6.0.img"
grep -F 'delta: rootfs' daemon.log | sed 's/^<[0-9]>/  /'
echo "nginx's log (request, status, body bytes):"
sed 's/^/  /' "$demo/nginx/access.log" | grep -F '1.6.0' || true
reboot_into 1.6.0
ctl status

say "Done"
