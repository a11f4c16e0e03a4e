#!/bin/bash
# make demo: the main job of secfud end to end, in a temporary directory.
#   a manufacturer key; firmware 1.0.0 running in slot A; 1.1.0 published on
#   a local HTTP server on 127.0.0.1 that the device finds as
#   _firmware.<its domain>; file-backed slots and the `file` bootloader;
#   secfud stages 1.1.0 in slot B; a simulated reboot boots B on trial;
#   secfuctl mark-good commits it.
set -euo pipefail
DEMO_NAME=demo
# shellcheck source=tools/demo-lib.sh
. "$(dirname "$0")/demo-lib.sh"
# shellcheck source=tests/lib/device.sh
. "$top/tests/lib/device.sh"
mkdir -p www

say "The manufacturer makes a signing key (ES256)"
run "$MANIFEST" keygen --alg ES256 --out manufacturer

say "The device runs firmware 1.0.0 from slot A; slot B is empty"
# (tests/lib/device.sh: 16 MiB of firmware in slot A, 64 MiB of zeros in B)
device_layout "$demo" manufacturer.pub 16777216 67108864 1.0.0
sha256sum slot-a >slot-a.sha256
echo "The device trusts keys.d/manufacturer.pem (its factory trust store)."
run cat bootenv

say "The manufacturer builds firmware 1.1.0, writes and signs its manifest"
head -c 33554432 /dev/urandom >fw-1.1.0.img
run "$MANIFEST" create --manufacturer example.com --model gw100 --version 1.1.0 --image fw-1.1.0.img >manifest.json
run "$MANIFEST" sign --key manufacturer.key manifest.json >manifest.jws
run "$MANIFEST" inspect manifest.jws | head -20

say "A local firmware cache publishes it on 127.0.0.1"
run "$MANIFEST" publish --root www manifest.jws fw-1.1.0.img
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory www "$port" >server.log 2>&1 &
server_pid=$!
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
find www -type f | sed 's/^/  /'

say "The device: DHCP domain demo.test, so it looks for _firmware.demo.test first"
DOMAIN=demo.test
MANUFACTURER_URL="https://firmware.example.com/.well-known/firmware/{manufacturer}/{model}/manifest.json"
CONNECT_TO="_firmware.demo.test:80:127.0.0.1:$port"
POLICY=check
device_config "$demo" >secfud.conf
sed -n '/\[discovery\]/,/^$/p' secfud.conf
echo "(A real device resolves _firmware.demo.test; here connect-to maps it to the server on 127.0.0.1.)"

say "secfud starts (policy = check: it looks, but installs only when asked)"
start_daemon
sleep 0.5
run "$SECFUCTL" -s "$sock" status

say "secfuctl check: discovery, manifest, signature and policy"
run "$SECFUCTL" -s "$sock" check

say "secfuctl apply: download into slot B while hashing, sync, verify, switch"
run "$SECFUCTL" -s "$sock" apply
run cat bootenv
cmp -s fw-1.1.0.img <(head -c 33554432 slot-b) && echo "slot B holds exactly fw-1.1.0.img"
sha256sum --quiet -c slot-a.sha256 && echo "slot A (running) is untouched"
run "$SECFUCTL" -s "$sock" status

say "Reboot (simulated): the bootloader tries slot B"
stop_daemon
run python3 "$BOOTSIM" --backend file --env bootenv --out booted --slots "A B" --attempts 3
echo 1.1.0 >version    # the new root file system carries its version
start_daemon
run "$SECFUCTL" -s "$sock" status

say "The new firmware works: secfuctl mark-good commits it"
run "$SECFUCTL" -s "$sock" mark-good
run cat bootenv
run "$SECFUCTL" -s "$sock" status

say "Done"
echo "The daemon's log:"
sed 's/^/  /' daemon.log
