#!/bin/bash
# secfud's main paths under valgrind: a full stage (--once), a refused
# manifest, an up-to-date check, a COSE manifest with an ES256 and an
# HSS-LMS signature, a set from two providers, an encrypted manifest (JWE,
# and COSE_Encrypt) and image, and the daemon answering
# secfuctl (status, monitor, apply, cancel, a cut-off request, apply of a
# bundle passed as a descriptor) then exiting on SIGTERM.  No definite or
# indirect leaks, no memory errors.
# Skipped in the sanitizer build (valgrind cannot run ASan binaries).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
command -v valgrind >/dev/null || skip_all "valgrind not installed"
if nm -D "$SECFUD" 2>/dev/null | grep -q __asan_init || nm "$SECFUD" 2>/dev/null | grep -q __asan_init; then
        skip_all "sanitizer build: valgrind does not run ASan binaries"
fi
VG=(valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect --track-fds=no
    --suppressions="$top_srcdir/tests/integration/valgrind.supp")

dev_setup
dev_publish 1.1.0
vg_once() {
        "${VG[@]}" --log-file="$D/vg-$1.log" "$SECFUD" -c "$CONF" --once >"$D/once.out" 2>"$D/once.log"
        VG_STATUS=$?
}

vg_once stage
ok $(( VG_STATUS == 0 ? 0 : 1 )) "stage under valgrind exits 0 (status $VG_STATUS)"
ok $(( $(grep -c "ERROR SUMMARY\|definitely lost\|indirectly lost\|Invalid" "$D/vg-stage.log") == 0 ? 0 : 1 )) "no leaks or errors while staging"
slot_b_is "$D/img-1.1.0.img"; ok $? "and slot B holds the image"

vg_once uptodate
ok $(( VG_STATUS == 0 ? 0 : 1 )) "a second cycle (staged already) under valgrind exits 0"

# a manifest signed by the attacker: refused, still no leaks
KEY=attacker dev_publish 1.2.0
vg_once refused
ok $(( VG_STATUS == 1 ? 0 : 1 )) "refused manifest under valgrind exits 1 without memory errors (status $VG_STATUS)"
[ -s "$D/vg-refused.log" ] && sed 's/^/# /' "$D/vg-refused.log" | head -20

vg_clean() { # vg_clean NAME DESCRIPTION: exit 0 and a clean log
        ok $(( VG_STATUS == 0 ? 0 : 1 )) "$2 under valgrind exits 0 (status $VG_STATUS)"
        ok $(( $(grep -c "ERROR SUMMARY\|definitely lost\|indirectly lost\|Invalid" "$D/vg-$1.log") == 0 ? 0 : 1 )) \
                "$2: no leaks or errors"
        [ "$VG_STATUS" -ne 0 ] && { sed 's/^/# /' "$D/vg-$1.log" | head -20; sed 's/^/# /' "$D/once.log" | tail -5; }
}

# COSE_Sign over the CBOR manifest: ES256 and HSS-LMS
"$SECFU_MANIFEST" keygen --alg HSS-LMS --hss H5/W8 --out "$D/pq" >/dev/null
cp "$D/pq.hss" "$D/keys.d/pq.hss"
dev_publish 1.2.0
"$SECFU_MANIFEST" sign --cose --key "$D/factory.key" --key "$D/pq.hsskey" -o "$D/m-1.2.0.cose" \
        "$D/manifest-1.2.0.json" 2>/dev/null
dev_install_manifest "$D/m-1.2.0.cose"
vg_once cose
vg_clean cose "a COSE manifest with two signatures"
slot_b_is "$D/img-1.2.0.img"; ok $? "and slot B holds the 1.2.0 image"

# a set from two providers: the rootfs here, a modem from a scoped vendor key
"$SECFU_MANIFEST" keygen --alg ES256 --out "$D/vendor" >"$D/vendor.kid"
cp "$D/vendor.pub" "$D/keys.d/vendor.pem"
printf '[scope]\nslot-classes = modem\nimages = modem\n' >"$D/keys.d/vendor.scope"
truncate -s 1M "$D/modem-a" "$D/modem-b"
EXTRA_CONF=$'[slot.modem.0]\ndevice = '"$D/modem-a"$'\nbootname = A\n[slot.modem.1]\ndevice = '"$D/modem-b"$'\nbootname = B'
dev_write_config
head -c 300000 /dev/urandom >"$D/modem.img"
VDIR=$WWW/.well-known/firmware/example.com/gw100
mkdir -p "$VDIR/vendor"
cp "$D/modem.img" "$VDIR/vendor/modem-2.0.0.img"
cp "$(dev_image 1.4.0)" "$VDIR/fw-1.4.0.img"
"$SECFU_MANIFEST" create --manufacturer example.com --model gw100 --version 2.0.0 \
        --image "$D/modem.img=modem-2.0.0.img" --slot-class modem --name modem >"$D/modem.json" &&
        "$SECFU_MANIFEST" sign --key "$D/vendor.key" "$D/modem.json" >"$VDIR/vendor/modem.jws" &&
        "$SECFU_MANIFEST" create --manufacturer example.com --model gw100 --version 1.4.0 \
                --image "$D/img-1.4.0.img=fw-1.4.0.img" --slot-class rootfs --name rootfs \
                --provider modem=vendor/modem.jws --provider-kid "$(cat "$D/vendor.kid")" >"$D/set.json" &&
        "$SECFU_MANIFEST" sign --key "$D/factory.key" "$D/set.json" >"$VDIR/manifest.json"
ok $? "the two-provider set is made"
vg_once providers
vg_clean providers "a two-provider set"
slot_b_is "$D/img-1.4.0.img"; ok $? "and slot B holds the 1.4.0 rootfs"
cmp -s -n 300000 "$D/modem.img" "$D/modem-b"; ok $? "and the modem's slot B the vendor's modem"

# an encrypted update: a JWE around the signed manifest, the image in
# authenticated segments
mkdir -m 0700 "$D/dec.d"
openssl genpkey -algorithm X25519 -out "$D/dec.d/device.pem" 2>/dev/null
chmod 0600 "$D/dec.d/device.pem"
openssl pkey -in "$D/dec.d/device.pem" -pubout -out "$D/device-enc.pub" 2>/dev/null
EXTRA_CONF="$EXTRA_CONF"$'\n[security]\ndecryption-keys = '"$D/dec.d"
dev_write_config
"$SECFU_MANIFEST" create --manufacturer example.com --model gw100 --version 1.4.5 \
        --image "$(dev_image 1.4.5)=fw-1.4.5.img" >"$D/m-1.4.5.json" &&
        "$SECFU_MANIFEST" encrypt --image "$D/img-1.4.5.img" -o "$VDIR/fw-1.4.5.enc" --manifest "$D/m-1.4.5.json" \
                --name firmware --location fw-1.4.5.enc >"$D/me-1.4.5.json" &&
        "$SECFU_MANIFEST" sign --key "$D/factory.key" "$D/me-1.4.5.json" >"$D/me-1.4.5.jws" &&
        "$SECFU_MANIFEST" encrypt --to "$D/device-enc.pub" "$D/me-1.4.5.jws" >"$VDIR/manifest.json"
ok $? "the encrypted update is made"
vg_once encrypted
vg_clean encrypted "an encrypted manifest and image"
slot_b_is "$D/img-1.4.5.img"; ok $? "and slot B holds the decrypted 1.4.5 image"

# the same all in COSE: a COSE_Encrypt around a COSE_Sign1
"$SECFU_MANIFEST" create --manufacturer example.com --model gw100 --version 1.4.6 \
        --image "$(dev_image 1.4.6)=fw-1.4.6.img" >"$D/m-1.4.6.json" &&
        "$SECFU_MANIFEST" encrypt --image "$D/img-1.4.6.img" -o "$VDIR/fw-1.4.6.enc" --manifest "$D/m-1.4.6.json" \
                --name firmware --location fw-1.4.6.enc >"$D/me-1.4.6.json" &&
        "$SECFU_MANIFEST" sign --cose --key "$D/factory.key" -o "$D/me-1.4.6.cose" "$D/me-1.4.6.json" &&
        "$SECFU_MANIFEST" encrypt --cose --to "$D/device-enc.pub" -o "$VDIR/manifest.json" "$D/me-1.4.6.cose"
ok $? "the COSE_Encrypt update is made"
vg_once cose-encrypted
vg_clean cose-encrypted "a COSE_Encrypt around a COSE_Sign1, and an encrypted image"
slot_b_is "$D/img-1.4.6.img"; ok $? "and slot B holds the decrypted 1.4.6 image"

# the daemon: status, a Monitor subscription, a half-sent request that it
# cuts off, an apply cancelled in the middle of a slow download, an apply
# that stages (worker thread, re-check, switch), then SIGTERM
if [ -x "$SECFUCTL" ]; then
        ctl() { timeout 120 "$SECFUCTL" -s "$D/run/secfud.sock" "$@"; }
        dev_publish 1.3.0
        IMG13=$(dev_image_path 1.3.0)
        SFU_TEST_POLL_AT_START=never SFU_TEST_CONTROL_TIMEOUTS=1000,30000 "${VG[@]}" --log-file="$D/vg-daemon.log" "$SECFUD" -c "$CONF" \
                >"$D/daemon.log" 2>&1 &
        SECFUD_PID=$!
        wait_until 60 test -S "$D/run/secfud.sock"
        ctl status >/dev/null 2>&1
        ok $? "daemon under valgrind answers status"
        ctl monitor >"$D/monitor.out" 2>&1 &
        monitor=$!
        /usr/bin/python3 - "$D/run/secfud.sock" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"method":"org.secfu.Daemon.Sta')
s.settimeout(30)
sys.exit(0 if s.recv(100) == b"" else 1)
PY
        ok $? "daemon under valgrind cuts off a half-sent request"
        fixture_rule "$IMG13" '{"drip": {"bytes": 16384, "interval": 0.1}}' >/dev/null
        ctl apply >"$D/apply.out" 2>&1 &
        apply=$!
        wait_until 60 eval '[ "$(fixture_bytes "$IMG13")" -gt 65536 ]'
        ok $? "daemon under valgrind downloads (slowly)"
        is "$(ctl cancel 2>&1)" cancelled "daemon under valgrind: cancel answers cancelled"
        wait "$apply"
        is "$?" 1 "daemon under valgrind: the cancelled apply exits 1"
        fixture_reset >/dev/null
        ctl apply >/dev/null 2>&1
        ok $? "daemon under valgrind: the next apply stages 1.3.0"
        slot_b_is "$D/img-1.3.0.img"
        ok $? "daemon under valgrind: slot B holds 1.3.0"
        kill "$monitor" 2>/dev/null
        wait "$monitor" 2>/dev/null
        grep -q "staged" "$D/monitor.out"
        ok $? "daemon under valgrind: the monitor saw the update staged"
        # a bundle applied from a file: secfuctl passes the descriptor
        dev_manifest 1.5.0 >/dev/null &&
                "$SECFU_MANIFEST" pack -o "$D/fw-1.5.0.sfu" "$D/manifest-1.5.0.jws" "$D/img-1.5.0.img"
        ctl apply "$D/fw-1.5.0.sfu" >/dev/null 2>&1
        ok $? "daemon under valgrind: apply of a bundle file stages 1.5.0"
        slot_b_is "$D/img-1.5.0.img"
        ok $? "daemon under valgrind: slot B holds 1.5.0"
        kill -TERM "$SECFUD_PID"
        wait "$SECFUD_PID"
        status=$?
        SECFUD_PID=""
        ok $(( status == 0 ? 0 : 1 )) "daemon under valgrind exits cleanly on SIGTERM (status $status)"
        [ "$status" -ne 0 ] && sed 's/^/# /' "$D/vg-daemon.log" | head -30
fi
tap_done
