#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: hostile DHCP domain strings, as a networkd lease (DOMAINNAME=), a
# dhclient lease (option domain-name "...") and resolv.conf (search) would
# hand them over.  None may reach a URL, a shell or the log as more than
# one line: secfud says the domain is invalid (one line, control characters
# escaped), contacts no local server (a canary listener stands in for every
# _firmware name this test can map), runs nothing (a marker file that a
# shell would create stays absent) and falls back to the manufacturer,
# which stages.  A dhclient domain-name or a resolv.conf search line is a
# list: only its first name counts, so "example.test && touch x" there
# means example.test and nothing more.  The twin: a valid domain from the
# same source is used.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"
dev_require

# setup: one device, servers and configuration for every case
setup() {
        dev_setup
        export SFU_TEST_DHCLIENT_GLOB="$D/sources/dhclient*.leases"
        fixture_canary_start
        # the names an injected string could make of _firmware.<domain>
        CONNECT_TO="_firmware.example.test:$SERVER_PORT:127.0.0.1:$CANARY_PORT"
        CONNECT_TO+=" _firmware.evil.test:$SERVER_PORT:127.0.0.1:$CANARY_PORT"
        CONNECT_TO+=" evil.test:$SERVER_PORT:127.0.0.1:$CANARY_PORT"
        dev_write_config
        dev_publish 1.1.0
}
# fresh: the same device as new (state, bootloader environment, slot B,
# DHCP sources); CANARY_BEFORE is where the canary's count starts
fresh() {
        rm -rf "$D/state" "$D/sources/leases" "$D"/sources/dhclient*.leases
        mkdir -p "$D/state" "$D/sources/leases"
        : >"$D/sources/resolv.conf"
        printf 'BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n' >"$D/bootenv"
        truncate -s 0 "$D/slot-b" && truncate -s "$(stat -c %s "$D/slot-a")" "$D/slot-b"
        CANARY_BEFORE=$(fixture_canary_connections)
}
canary_seen() { echo $(($(fixture_canary_connections) - CANARY_BEFORE)); }
setup

# hostile strings; PWNED is replaced by a marker path below
hostile=(
        'example.test;touch PWNED'
        'example.test && touch PWNED'
        '$(touch PWNED)'
        '`touch PWNED`'
        'example.test|touch PWNED'
        'example.test/../../evil.test'
        'evil.test:1@example.test'
        'example.test?x=1#frag'
        'example.test%2f..%2fevil.test'
        'example.test\evil.test'
        '-oProxyCommand=touch PWNED'
        'a..example.test'
        '.example.test'
        "$(printf 'l%.0s' {1..64}).example.test"
        'exämple.test'
        'example.test evil.test'
        "$(printf 'example.test\033[2J\033]0;pwned\007')"
        "$(printf 'example.test\r<0>forged log line')"
)

# via SOURCE VALUE: writes VALUE as the DHCP domain of SOURCE.
via() {
        local source=$1 value=$2
        case $source in
        networkd) printf 'ADDRESS=192.0.2.10\nDOMAINNAME=%s\n' "$value" >"$D/sources/leases/2" ;;
        dhclient)
                printf 'lease {\n  interface "eth0";\n  fixed-address 192.0.2.10;\n  option domain-name "%s";\n}\n' \
                        "$value" >"$D/sources/dhclient.eth0.leases"
                ;;
        resolv.conf) printf 'search %s\n' "$value" >"$D/sources/resolv.conf" ;;
        esac
}

n=0
for source in networkd dhclient resolv.conf; do
        for h in "${hostile[@]}"; do
                n=$((n + 1))
                fresh
                marker=$D/PWNED
                value=${h//PWNED/$marker}
                via "$source" "$value"
                what="$source domain #$n $(printf '%q' "$h" | cut -c1-40)"
                dev_snapshot s
                secfud_once
                staged 1.1.0 "$what: the manufacturer's update"
                first=${value%%[ $'\t\r']*}
                if [ "$source" != networkd ] && [ "$first" = example.test ]; then
                        # a list (dhclient, resolv.conf): its first name only
                        ok $(($(canary_seen) > 0 ? 0 : 1)) \
                                "$what: a list, whose first name example.test alone is used"
                        once_log_has 'domain "example.test" from'
                        ok $? "$what: ... and logged as the domain"
                else
                        is "$(canary_seen)" 0 "$what: no local server is contacted"
                        once_log_has "invalid domain"
                        ok $? "$what: the log says the domain is invalid"
                fi
                [ ! -e "$marker" ]
                ok $? "$what: nothing was run"
                once_log_has "_firmware.*evil" && bad=1 || bad=0
                is "$bad" 0 "$what: no _firmware name is made of it"
                # every log line is one line: a reset of the line or a forged
                # priority prefix would show as a line without its own <N>
                is "$(grep -cv '^<[0-7]>' "$D/once.log")" 0 "$what: every log line starts with its own priority"
                is "$(grep -c $'[\x01-\x08\x0b-\x1f\x7f]' "$D/once.log")" 0 "$what: no control character reaches the log"
        done
        # the twin: a valid domain from the same source
        fresh
        via "$source" example.test
        secfud_once
        staged 1.1.0 "$source twin: a valid domain"
        ok $(($(canary_seen) > 0 ? 0 : 1)) "$source twin: the local server _firmware.example.test is asked"
done

tap_done
