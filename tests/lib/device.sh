# shellcheck shell=bash
# shellcheck disable=SC2034  # the configuration variables are set by callers
# SPDX-License-Identifier: MIT
# A device for secfud in a directory: what the integration tests
# (tests/integration/lib.sh and the libraries built on it), `make demo` and
# `make bench` run secfud on.  Two file-backed A/B slots, the `file`
# bootloader backend, a trust store, the running version, and the
# configuration that names them.
#
#   . "$top_srcdir/tests/lib/device.sh"
#   device_layout DIR KEY.pub SLOT-A-BYTES SLOT-B-BYTES [RUNNING-VERSION]
#   MANUFACTURER_URL=... device_config DIR >DIR/secfud.conf
#
# device_layout makes
#   DIR/keys.d/NAME.pem       KEY.pub, the trust store (NAME: KEY's base name)
#   DIR/slot-a                SLOT-A-BYTES of random bytes: the running firmware
#   DIR/slot-b                SLOT-B-BYTES of zeros (device_slot)
#   DIR/version               RUNNING-VERSION (default 1.0.0)
#   DIR/booted, DIR/bootenv   slot A booted, BOOT_ORDER=A B, 3 attempts each
#   DIR/state, DIR/run        empty
#   DIR/sources/              no DHCP lease and an empty resolv.conf, exported
#                             as the SFU_TEST_* discovery hooks (test builds
#                             read them instead of the machine's network setup)
#
# device_config writes the configuration of the device in DIR from these
# variables (unset: the default in brackets):
#   DOMAIN [auto]  LOCAL_URL [http://_firmware.{domain}/.well-known/...]
#   MANUFACTURER_URL (required)  CONNECT_TO [no line]
#   CONNECT_TIMEOUT [5s]  LOW_SPEED_TIMEOUT [10s]
#   POLL_INTERVAL, POLL_JITTER [no line]  POLICY [stage]
#   BACKEND [file]  FW_ENV_CONFIG [no line]
#   EXTRA_CONF        text appended at the end (after [storage])

# device_slot PATH BYTES: a zeroed regular file of BYTES, allocated when the
# file system can (like a partition).
device_slot() {
        rm -f "$1"
        fallocate -l "$2" "$1" 2>/dev/null || truncate -s "$2" "$1"
}

device_layout() {
        local dir=$1 key=$2 slot_a=$3 slot_b=$4 version=${5:-1.0.0}
        mkdir -p "$dir/keys.d" "$dir/state" "$dir/run" "$dir/sources/leases" || return 1
        cp "$key" "$dir/keys.d/$(basename "$key" .pub).pem" || return 1
        head -c "$slot_a" /dev/urandom >"$dir/slot-a" || return 1
        device_slot "$dir/slot-b" "$slot_b" || return 1
        echo "$version" >"$dir/version"
        echo A >"$dir/booted"
        printf 'BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n' >"$dir/bootenv"
        : >"$dir/sources/resolv.conf"
        export SFU_TEST_NETWORKD_LEASES="$dir/sources/leases" SFU_TEST_DHCLIENT_GLOB="$dir/sources/none*.leases"
        export SFU_TEST_RESOLV_CONF="$dir/sources/resolv.conf" SFU_TEST_NO_RESOLVED=1
}

device_config() {
        local dir=$1
        local local_url="http://_firmware.{domain}/.well-known/firmware/{manufacturer}/{model}/manifest.json"
        cat <<CONF
[device]
manufacturer = example.com
model = gw100
version-file = $dir/version
booted-slot = file:$dir/booted

[discovery]
domain = ${DOMAIN:-auto}
local-url = ${LOCAL_URL:-$local_url}
manufacturer-url = ${MANUFACTURER_URL:?device_config: no MANUFACTURER_URL}
${CONNECT_TO:+connect-to = $CONNECT_TO}

[security]
keys = $dir/keys.d

[network]
connect-timeout = ${CONNECT_TIMEOUT:-5s}
low-speed-timeout = ${LOW_SPEED_TIMEOUT:-10s}

[poll]
${POLL_INTERVAL:+interval = $POLL_INTERVAL}
${POLL_JITTER:+jitter = $POLL_JITTER}
policy = ${POLICY:-stage}

[bootloader]
backend = ${BACKEND:-file}
file = $dir/bootenv
grubenv = $dir/grubenv
${FW_ENV_CONFIG:+fw-env-config = $FW_ENV_CONFIG}
attempts = 3

[slot.rootfs.0]
device = $dir/slot-a
bootname = A
[slot.rootfs.1]
device = $dir/slot-b
bootname = B

[storage]
state-dir = $dir/state
runtime-dir = $dir/run
${EXTRA_CONF:-}
CONF
}
