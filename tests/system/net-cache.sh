#!/bin/bash
# System test 3: a site cache in front of the manufacturer, with real
# components only, in network namespaces:
#
#   inet   the manufacturer: nginx, HTTPS with a test CA the devices trust,
#          firmware.maker.test = 10.98.0.2
#   site   the site's router 10.99.0.1: dnsmasq (DHCP with the domain
#          option, DNS for _firmware.<domain> and firmware.maker.test, no
#          upstream), nginx with proxy_cache in front of the manufacturer,
#          forwarding to inet; a bridge for the devices
#   devN   a device: dhclient on eth0 (its lease is where secfud learns the
#          domain), its own /etc, /run and /var/lib/dhcp, the packaged
#          secfud running --once with the grub backend on file slots
#
# Asserts: N devices (SYS_DEVICES, default 50) stage the image while the
# manufacturer serves it once; with the cache down, devices fall back to
# the manufacturer; a cache serving a tampered image gets no device to
# activate it; a DHCP domain change between two polls of a running daemon
# is picked up.  Nothing here has a route off the machine: the namespaces
# are linked only to each other.
. "$(dirname "$0")/lib.sh"
sys_init net-cache
sys_require_root
sys_require_cmd ip nsenter dnsmasq dhclient nginx openssl grub-editenv python3 curl
sys_require_netns
sys_pkgroot

N=${SYS_DEVICES:-50}
MAN_PATH=/.well-known/firmware/example.com/gw100
IMAGE_SIZE=$((8 * 1024 * 1024))
DEVICE_SCRIPT=$(cd "$(dirname "$0")" && pwd)/net-device.sh

# ------------------------------------------------------------ the firmware
sys_vendor "$W/vendor"
head -c "$IMAGE_SIZE" /dev/urandom >"$W/gw100-1.1.0.img"
sys_publish "$W/vendor" "$W/maker-www" 1.1.0 "$W/gw100-1.1.0.img" || bail "publishing 1.1.0"
IMAGE_URI=$MAN_PATH/gw100-1.1.0.img
[ -f "$W/maker-www$IMAGE_URI" ] || bail "publish put the image elsewhere: $(find "$W/maker-www" -type f)"
# the tampered copy a bad cache serves: same size, one byte changed
cp "$W/gw100-1.1.0.img" "$W/tampered.img"
printf 'X' | dd of="$W/tampered.img" bs=1 seek=$((IMAGE_SIZE / 2)) conv=notrunc status=none
sys_certs "$W/pki" firmware.maker.test

# ------------------------------------------------------------ the network
sys_netns_add inet
sys_netns_add site
ip link add "sfu$$u0" type veth peer name eth0 netns "$SYS_NS_PREFIX-inet" || bail "veth inet"
ip link set "sfu$$u0" netns "$SYS_NS_PREFIX-site" || bail "veth site"
sys_ns site ip link set "sfu$$u0" name up0
sys_ns site ip addr add 10.98.0.1/30 dev up0
sys_ns site ip link set up0 up
sys_ns inet ip addr add 10.98.0.2/30 dev eth0
sys_ns inet ip link set eth0 up
sys_ns inet ip route add 10.99.0.0/24 via 10.98.0.1
sys_ns site ip link add br0 type bridge
sys_ns site ip addr add 10.99.0.1/24 dev br0
sys_ns site ip link set br0 up
sys_ns site sysctl -qw net.ipv4.ip_forward=1

# ------------------------------------------------------------ servers
sys_nginx_conf "$W/maker" "
        server {
                listen 10.98.0.2:443 ssl;
                server_name firmware.maker.test;
                ssl_certificate $W/pki/server.pem;
                ssl_certificate_key $W/pki/server.key;
                root $W/maker-www;
        }"
sys_ns_bg inet "$W/maker/stderr.log" nginx -c "$W/maker/nginx.conf" -e "$W/maker/error.log"

# The cache: HTTP for the devices, HTTPS (verified) to the manufacturer;
# one upstream fetch per object however many devices ask at once
# (proxy_cache_lock).  cache_start MODE: "proxy" or "tampered" (the image
# path answered from a tampered file instead).
CACHE_PID=
cache_start() {
        local tampered=""
        [ "$1" = tampered ] && tampered="location = $IMAGE_URI { alias $W/tampered.img; }"
        mkdir -p "$W/cache/data"
        sys_nginx_conf "$W/cache" "
        proxy_cache_path $W/cache/data levels=1:2 keys_zone=fw:1m max_size=1g inactive=1h use_temp_path=off;
        upstream maker { server 10.98.0.2:443; }
        server {
                listen 10.99.0.1:80;
                server_name _;
                $tampered
                location /.well-known/firmware/ {
                        proxy_pass https://maker;
                        proxy_set_header Host firmware.maker.test;
                        proxy_ssl_server_name on;
                        proxy_ssl_name firmware.maker.test;
                        proxy_ssl_verify on;
                        proxy_ssl_trusted_certificate $W/pki/ca.pem;
                        proxy_cache fw;
                        proxy_cache_valid 200 10m;
                        proxy_cache_lock on;
                        proxy_cache_lock_timeout 120s;
                        proxy_cache_lock_age 120s;
                }
        }"
        sys_ns_bg site "$W/cache/stderr.log" nginx -c "$W/cache/nginx.conf" -e "$W/cache/error.log"
        CACHE_PID=$SYS_BG_PID
        sys_wait_for 10 sys_ns site curl -s -o /dev/null http://10.99.0.1/ || bail "cache nginx did not start: $(cat "$W/cache/error.log")"
}
cache_stop() {
        [ -n "$CACHE_PID" ] && sys_kill "$CACHE_PID"
        CACHE_PID=
}
sys_on_exit cache_stop

DNSMASQ_PID=
dnsmasq_start() { # dnsmasq_start DOMAIN
        sys_ns_bg site "$W/dnsmasq.stderr" dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-ping --bind-interfaces \
                --interface=br0 --except-interface=lo --conf-file=/dev/null \
                --dhcp-range=10.99.0.10,10.99.0.250,255.255.255.0,1h --dhcp-authoritative \
                --dhcp-option=option:domain-name,"$1" --dhcp-option=option:router,10.99.0.1 \
                --address=/_firmware.site.test/10.99.0.1 --address=/_firmware.other.test/10.99.0.1 \
                --address=/firmware.maker.test/10.98.0.2 \
                --dhcp-leasefile="$W/dnsmasq.leases" --pid-file="$W/dnsmasq.pid" \
                --log-facility="$W/dnsmasq.log" --log-queries
        DNSMASQ_PID=$SYS_BG_PID
        sys_wait_for 10 test -s "$W/dnsmasq.pid" || bail "dnsmasq did not start: $(tail -3 "$W/dnsmasq.log")"
}
dnsmasq_stop() {
        [ -n "$DNSMASQ_PID" ] && sys_kill "$DNSMASQ_PID"
        rm -f "$W/dnsmasq.pid"
        DNSMASQ_PID=
}
sys_on_exit dnsmasq_stop

cache_start proxy
dnsmasq_start site.test
sys_wait_for 10 sys_ns inet curl -s -o /dev/null --cacert "$W/pki/ca.pem" --resolve firmware.maker.test:443:10.98.0.2 \
        https://firmware.maker.test/ || bail "manufacturer nginx did not start: $(cat "$W/maker/error.log")"

# ------------------------------------------------------------ devices
declare -A ANCHOR
dev_dir() { echo "$W/dev/$1"; }
dev_in() { # dev_in N COMMAND...: run inside device N's namespaces
        local n=$1
        shift
        sys_in_ns "${ANCHOR[$n]}" "$@"
}
dev_write_state() { # a device running 1.0.0 from slot A, slot B empty
        local d
        d=$(dev_dir "$1")
        rm -rf "$d/state" "$d/run"
        mkdir -p "$d/state" "$d/run" "$d/keys.d"
        chmod 700 "$d/state"
        cp "$W/vendor/factory.pub" "$d/keys.d/factory.pem"
        head -c "$IMAGE_SIZE" /dev/zero | tr '\0' 'A' >"$d/slot-a"
        rm -f "$d/slot-b"
        truncate -s "$IMAGE_SIZE" "$d/slot-b"
        echo 1.0.0 >"$d/version"
        echo A >"$d/booted"
        rm -f "$d/grubenv"
        grub-editenv "$d/grubenv" create
        grub-editenv "$d/grubenv" set ORDER="A B" A_OK=1 A_TRY=0 B_OK=1 B_TRY=0
        cat >"$d/secfud.conf" <<CONF
[device]
manufacturer = example.com
model = gw100
version-file = $d/version
booted-slot = file:$d/booted

[discovery]
domain = auto
manufacturer-url = https://firmware.maker.test/.well-known/firmware/{manufacturer}/{model}/manifest.json

[security]
keys = $d/keys.d

[network]
ca-file = $W/pki/ca.pem
connect-timeout = 5s

[poll]
policy = ${POLICY:-stage}

[bootloader]
backend = grub
grubenv = $d/grubenv

[slot.rootfs.0]
device = $d/slot-a
bootname = A

[slot.rootfs.1]
device = $d/slot-b
bootname = B

[storage]
state-dir = $d/state
runtime-dir = $d/run
CONF
}
dev_up() { # dev_up N: namespace, link to the site's bridge, the device's mounts
        local n=$1 d
        d=$(dev_dir "$n")
        mkdir -p "$d"
        dev_write_state "$n"
        sys_netns_add "d$n"
        ip link add "sfu$$v$n" type veth peer name eth0 netns "$SYS_NS_PREFIX-d$n" || return 1
        ip link set "sfu$$v$n" netns "$SYS_NS_PREFIX-site" || return 1
        sys_ns site ip link set "sfu$$v$n" master br0 up || return 1
        sys_ns "d$n" ip link set eth0 up
        rm -f "$d/ns-ready"
        sys_ns_bg "d$n" "$d/ns.log" "$DEVICE_SCRIPT" "$d"
        sys_wait_for 10 test -s "$d/ns-ready" || return 1
        ANCHOR[$n]=$(cat "$d/ns-ready")
}
dev_dhcp() { # dev_dhcp N: (re)acquire a lease; dhclient stays to renew it
        local n=$1 d
        d=$(dev_dir "$n")
        if [ -s "$d/dhclient.pid" ]; then
                dev_in "$n" dhclient -x -pf "$d/dhclient.pid" >/dev/null 2>&1
                rm -f "$d/dhclient.pid"
        fi
        dev_in "$n" dhclient -1 -lf /var/lib/dhcp/dhclient.eth0.leases -pf "$d/dhclient.pid" eth0 \
                >>"$d/dhclient.log" 2>&1 || return 1
        sys_wait_for 5 test -s "$d/dhclient.pid"
}
dev_once() { # dev_once N: secfud --once; its log in once.log, status in once.rc
        local n=$1 d
        d=$(dev_dir "$n")
        dev_in "$n" "$SECFUD" -c "$d/secfud.conf" --once >"$d/once.log" 2>&1
        echo $? >"$d/once.rc"
}
count_log() { # count_log ACCESS-LOG REGEX
        grep -cE "$2" "$1" 2>/dev/null || true
}
grubenv_get() { grub-editenv "$(dev_dir "$1")/grubenv" list | sed -n "s/^$2=//p"; }
# staged_ok N SOURCE: device N staged 1.1.0 from SOURCE, slot B holds the
# image, the grubenv asks for a trial of B.
staged_ok() {
        local n=$1 source=$2 d
        d=$(dev_dir "$n")
        [ "$(cat "$d/once.rc")" = 0 ] &&
                grep -q "staging 1.1.0 from $source" "$d/once.log" &&
                cmp -s "$d/slot-b" "$W/gw100-1.1.0.img" &&
                [ "$(grubenv_get "$n" ORDER)" = "B A" ]
}

started=$(date +%s)
for n in $(seq 1 "$N"); do
        dev_up "$n" || bail "device $n did not come up: $(cat "$(dev_dir "$n")/ns.log" 2>/dev/null)"
done
# the DHCP clients in parallel, as devices powered on together
pids=()
for n in $(seq 1 "$N"); do
        dev_dhcp "$n" &
        pids+=($!)
done
for i in "${!pids[@]}"; do
        wait "${pids[$i]}" || bail "device $((i + 1)) got no lease: $(tail -3 "$(dev_dir $((i + 1)))/dhclient.log")"
done
for n in $(seq 1 "$N"); do sys_on_exit_kill "$(cat "$(dev_dir "$n")/dhclient.pid")"; done
diag "$N devices up with DHCP leases in $(($(date +%s) - started)) s"

leased=0 domain_ok=0
for n in $(seq 1 "$N"); do
        grep -q 'option domain-name "site.test";' "$(dev_dir "$n")/dhcp/dhclient.eth0.leases" 2>/dev/null && leased=$((leased + 1))
        grep -q '^search site.test' "$(dev_dir "$n")/etc-upper/resolv.conf" 2>/dev/null && domain_ok=$((domain_ok + 1))
done
is "$leased" "$N" "every device's dhclient lease names the domain site.test"
is "$domain_ok" "$N" "dhclient-script wrote each device's own resolv.conf (the host's is untouched)"
SYS_TAIL_FILE=$(dev_dir 1)/once.log
ok "$(dev_in 1 getent hosts _firmware.site.test | grep -q '^10.99.0.1 ' && echo 0 || echo 1)" \
        "_firmware.site.test resolves through the lease's DNS server"

# ------------------------------------------------------------ 1. N devices, one download
started=$(date +%s)
pids=()
for n in $(seq 1 "$N"); do
        dev_once "$n" &
        pids+=($!)
done
wait "${pids[@]}"
diag "$N devices ran secfud --once in $(($(date +%s) - started)) s"
good=0 from_lease=0 bad=""
for n in $(seq 1 "$N"); do
        if staged_ok "$n" local; then good=$((good + 1)); else bad="$bad $n"; fi
        grep -q 'discovery: domain "site.test" from dhclient lease /var/lib/dhcp/dhclient.eth0.leases' \
                "$(dev_dir "$n")/once.log" && from_lease=$((from_lease + 1))
done
[ -n "$bad" ] && SYS_TAIL_FILE=$(dev_dir "${bad%% *}")/once.log && SYS_TAIL_FILE=$(dev_dir "${bad## }")/once.log
is "$from_lease" "$N" "every secfud learned the domain from its dhclient lease"
is "$good" "$N" "every device staged 1.1.0 from the local cache into slot B and switched GRUB to a trial${bad:+ (failed:$bad)}"
is "$(count_log "$W/maker/access.log" "GET $IMAGE_URI 200")" 1 "the manufacturer served the image once"
is "$(count_log "$W/cache/access.log" "^_firmware.site.test GET $IMAGE_URI 200 $IMAGE_SIZE\$")" "$N" \
        "the cache served the whole image to each of the $N devices"
is "$(grep -cv "GET / " "$W/maker/access.log")" 2 "the manufacturer saw only the cache's two fetches (manifest, image) over HTTPS"

# ------------------------------------------------------------ 2. cache down
cache_stop
FALLBACK=3
maker_before=$(count_log "$W/maker/access.log" "GET $IMAGE_URI 200")
for n in $(seq 1 "$FALLBACK"); do dev_write_state "$n"; done
pids=()
for n in $(seq 1 "$FALLBACK"); do dev_once "$n" & pids+=($!); done
wait "${pids[@]}"
good=0
for n in $(seq 1 "$FALLBACK"); do
        SYS_TAIL_FILE=$(dev_dir "$n")/once.log
        staged_ok "$n" manufacturer && grep -q 'local server: .*asking the manufacturer' "$SYS_TAIL_FILE" && good=$((good + 1))
done
is "$good" "$FALLBACK" "with the cache down, $FALLBACK devices fell back to the manufacturer and staged 1.1.0"
is "$(($(count_log "$W/maker/access.log" "GET $IMAGE_URI 200") - maker_before))" "$FALLBACK" \
        "the manufacturer served each of them directly"

# ------------------------------------------------------------ 3. a tampered cache
cache_start tampered
TAMPER=3
for n in $(seq 1 "$TAMPER"); do dev_write_state "$n"; done
pids=()
for n in $(seq 1 "$TAMPER"); do dev_once "$n" & pids+=($!); done
wait "${pids[@]}"
refused=0
for n in $(seq 1 "$TAMPER"); do
        d=$(dev_dir "$n")
        SYS_TAIL_FILE=$d/once.log
        [ "$(cat "$d/once.rc")" != 0 ] && grep -qi 'digest\|sha-\?256\|hash' "$d/once.log" &&
                [ "$(grubenv_get "$n" ORDER)" = "A B" ] && [ "$(grubenv_get "$n" B_TRY)" = 0 ] &&
                ! cmp -s "$d/slot-b" "$W/gw100-1.1.0.img" && refused=$((refused + 1))
done
is "$refused" "$TAMPER" "a cache serving a tampered image: no device activated it (GRUB still boots A)"
is "$(count_log "$W/cache/access.log" "GET $IMAGE_URI 200")" "$((N + TAMPER))" "the tampered image was served and downloaded"
cache_stop
cache_start proxy

# ------------------------------------------------------------ 4. the domain changes between polls
n=1
d=$(dev_dir $n)
SYS_TAIL_FILE=$d/daemon.log
POLICY=check dev_write_state $n
dev_in $n true || bail "device $n has no namespace"
nsenter -t "${ANCHOR[$n]}" -m -n -- "$SECFUD" -c "$d/secfud.conf" >"$d/daemon.log" 2>&1 </dev/null &
DAEMON_PID=$!
sys_on_exit_kill "$DAEMON_PID"
sys_wait_for 20 test -S "$d/run/secfud.sock" || bail "secfud did not open its socket: $(tail -5 "$d/daemon.log")"
"$SECFUCTL" -s "$d/run/secfud.sock" check >"$d/check1.out" 2>&1
ok $? "poll 1 through secfuctl check: $(head -1 "$d/check1.out")"
ok "$(grep -q 'discovery: domain "site.test" from dhclient lease' "$d/daemon.log" && echo 0 || echo 1)" "poll 1 used the domain site.test"
dnsmasq_stop
dnsmasq_start other.test
dev_dhcp $n || bail "renewing the lease of device $n"
sys_on_exit_kill "$(cat "$d/dhclient.pid")"
ok "$(tail -25 "$d/dhcp/dhclient.eth0.leases" | grep -q 'option domain-name "other.test";' && echo 0 || echo 1)" \
        "the renewed lease names other.test"
before=$(count_log "$W/cache/access.log" "^_firmware.other.test GET $MAN_PATH/manifest.json")
"$SECFUCTL" -s "$d/run/secfud.sock" check >"$d/check2.out" 2>&1
ok $? "poll 2 through secfuctl check: $(head -1 "$d/check2.out")"
ok "$(grep -q 'discovery: domain "other.test" from dhclient lease' "$d/daemon.log" && echo 0 || echo 1)" "poll 2 used the new domain other.test"
is "$(($(count_log "$W/cache/access.log" "^_firmware.other.test GET $MAN_PATH/manifest.json") - before))" 1 \
        "poll 2 asked _firmware.other.test"
sys_kill "$DAEMON_PID"

diag "net-cache: $(sys_elapsed) s"
tap_done
