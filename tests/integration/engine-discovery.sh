#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: where the install engine looks for a manifest (DESIGN section 4):
# nothing to do when the server offers the running version; the local
# server at _firmware.<DHCP domain> first, the manufacturer when the local
# one does not resolve, is not reachable, answers 404, serves an invalid
# manifest or offers nothing newer; the local server's newer manifest (and
# image) when it has one.  The local name is sent to a second fixture
# server with [discovery] connect-to.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"
dev_require

LOCAL_NAME=_firmware.example.test

# fresh: a new device whose DHCP domain is example.test
fresh() {
        dev_setup
        dev_domain example.test
}
source_is() { # source_is SOURCE VERSION DESCRIPTION
        is "$(state_field "s['newestSeen']['source'], s['newestSeen']['version']")" "$1 $2" "$3"
}

# ---------------------------------------------------------------- up to date
dev_setup
dev_publish 1.0.0
dev_snapshot uptodate
secfud_once
is "$ONCE_STATUS" 0 "up to date: secfud --once succeeds"
once_log_has "up to date"
ok $? "up to date: the log says so"
is "$(fixture_count "$(dev_image_path 1.0.0)")" 0 "up to date: no image byte was requested"
is "$(state_field "s['state']")" idle "up to date: state idle"
dev_unchanged uptodate "up to date"
once_log_has "no DHCP domain known"
ok $? "no DHCP domain: the local server is skipped and the log says why"
# the positive twin: a newer version on the same server is staged
dev_publish 1.1.0
secfud_once
staged 1.1.0 "newer than running"

# ---------------------------------------------------------------- local name does not resolve
fresh
dev_publish 1.1.0
secfud_once
staged 1.1.0 "local name does not resolve"
once_log_has 'domain "example.test" from .*resolv.conf'
ok $? "local name does not resolve: the domain and its source are logged"
once_log_has "$LOCAL_NAME"
ok $? "local name does not resolve: the local server was tried first"
source_is manufacturer 1.1.0 "local name does not resolve: the manufacturer's manifest is used"

# ---------------------------------------------------------------- local port closed
fresh
CONNECT_TO="$LOCAL_NAME:$SERVER_PORT:127.0.0.1:$(dev_free_port)"
dev_write_config
dev_publish 1.1.0
secfud_once
staged 1.1.0 "local server unreachable"
once_log_has "$LOCAL_NAME.*asking the manufacturer"
ok $? "local server unreachable: logged, then the manufacturer is asked"
source_is manufacturer 1.1.0 "local server unreachable: the manufacturer's manifest is used"
bounded 10 "$ONCE_SECONDS" "local server unreachable: the cycle is not held up (${ONCE_SECONDS}s)"

# ---------------------------------------------------------------- local 404
fresh
dev_local_server "$LOCAL_NAME"
dev_publish 1.1.0
secfud_once
staged 1.1.0 "local server 404"
is "$(dev_local_count "$MANIFEST_PATH")" 1 "local server 404: the local server was asked once"
source_is manufacturer 1.1.0 "local server 404: the manufacturer's manifest is used"

# ---------------------------------------------------------------- stale local
fresh
dev_local_server "$LOCAL_NAME"
dev_publish 1.0.0 "$D/www-local"
dev_publish 1.1.0
secfud_once
staged 1.1.0 "local server offers only the running version"
is "$(dev_local_count "$MANIFEST_PATH")" 1 "stale local server: its manifest was read"
is "$(fixture_count "$MANIFEST_PATH")" 1 "stale local server: the manufacturer was asked"
source_is manufacturer 1.1.0 "stale local server: the manufacturer's newer manifest is used"
is "$(fixture_count "$(dev_image_path 1.1.0)")" 1 "stale local server: the image came from the manufacturer"

# ---------------------------------------------------------------- local with an invalid newer manifest
fresh
dev_local_server "$LOCAL_NAME"
KEY=attacker dev_publish 1.2.0 "$D/www-local"
dev_publish 1.1.0
secfud_once
staged 1.1.0 "local server with a forged 1.2.0"
grep -qE "local server: .*(signature|kid).*asking the manufacturer" "$D/once.log"
ok $? "local server with a forged 1.2.0: the refusal is logged"
is "$(dev_local_count "$(dev_image_path 1.2.0)")" 0 "local server with a forged 1.2.0: its image is never requested"
source_is manufacturer 1.1.0 "local server with a forged 1.2.0: the manufacturer's manifest is used"

# ---------------------------------------------------------------- local with a newer manifest
fresh
dev_local_server "$LOCAL_NAME"
dev_publish 1.0.0
dev_publish 1.1.0 "$D/www-local"
secfud_once
staged 1.1.0 "local server with a newer manifest"
source_is local 1.1.0 "local server with a newer manifest: it is used"
is "$(dev_local_count "$(dev_image_path 1.1.0)")" 1 "local server with a newer manifest: the image came from it"
is "$(fixture_count "$MANIFEST_PATH")" 0 "local server with a newer manifest: the manufacturer is not asked"

# ---------------------------------------------------------------- lease file before resolv.conf
fresh
dev_domain other.test
printf '# This is private data. Do not parse.\nADDRESS=192.0.2.10\nDOMAINNAME=example.test\n' \
        >"$D/sources/leases/2"
dev_local_server "$LOCAL_NAME"
dev_publish 1.1.0 "$D/www-local"
secfud_once
staged 1.1.0 "networkd lease"
once_log_has 'domain "example.test" from systemd-networkd lease'
ok $? "networkd lease: its DOMAINNAME wins over resolv.conf, and the source is logged"
source_is local 1.1.0 "networkd lease: the local server of its domain is used"

# ---------------------------------------------------------------- invalid domain
fresh
dev_domain bad_name.test
fixture_canary_start
CONNECT_TO="_firmware.bad_name.test:$SERVER_PORT:127.0.0.1:$CANARY_PORT"
dev_write_config
dev_publish 1.1.0
secfud_once
staged 1.1.0 "invalid DHCP domain"
once_log_has 'invalid domain.*bad_name.test'
ok $? "invalid DHCP domain: logged as invalid"
is "$(fixture_canary_connections)" 0 "invalid DHCP domain: no local server is contacted"

tap_done
