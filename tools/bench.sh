#!/bin/bash
# tools/bench.sh BUILD_DIR: the performance table of `make bench`
# (bench/README.md says how to read it).
#
# A private nginx on 127.0.0.1 serves a random image (256 MiB) and a
# signed manifest listing its sha256 and sha512.  The contenders fetch,
# hash and write it into a fresh, zeroed slot file, in turn, BENCH_RUNS
# times each (default 3), and the medians are compared:
#   A       bench/baseline-a.c: libcurl + OpenSSL EVP + pwrite + fsync, one process
#   B       curl | tee >(openssl dgst) >(openssl dgst) | dd conv=fsync
#   secfud  secfud -c CONF --once on a fresh device: discovery, manifest,
#           verification, staging, bootloader switch (file backend)
#   SWUpdate  swupdate -d (its downloader) streaming a signed .swu (cpio:
#           sw-description, its CMS signature, the image with its sha256)
#           into the slot with the raw handler, then `sync -d SLOT`
#           (SWUpdate itself never syncs); skipped when swupdate is absent
# plus `curl -o SLOT` (the RSS reference), secfud with a 64 MiB image
# (RSS independent of size) and secfud staging the big image encrypted
# (a JWE manifest for the device's X25519 key, the image in A256GCM-STREAM
# segments; doc/encryption.md).  Then: up-to-date polls answered 304
# (requests counted in nginx's access log, CPU of the --once process), the
# same process start without any work (bench/startup-floor.c), the idle
# daemon's RSS, and up-to-date checks through the daemon's control socket.
#
# Delta staging (doc/delta.md): the device runs a random DELTA_MIB image in
# slot A; the server offers the same image with 0.1, 1 or 10 % of its 4 KiB
# blocks changed (scattered at random, or one clustered run), published
# with `secfu-manifest create --delta`; secfud stages it from the chunks it
# holds and the ones it fetches, and the same image in full with [delta]
# enable = no.  Rows "delta P % LAYOUT": bytes fetched (secfud's log line)
# as % of the image, wall time vs the full staging of the same image.
# Rows "ext4 ...": the same on real file-system images: a BENCH_EXT4_MIB
# (64) MiB ext4 root file system of Debian packages (secfud's run-time
# libraries, busybox-static, ca-certificates; libssl3 and openssl at
# BENCH_EXT4_OLD) in slot A, and offered, the same after one security
# upgrade (libssl3 and openssl at BENCH_EXT4_NEW), rebuilt from scratch
# with mke2fs -d or upgraded in place (debugfs doing what dpkg does), with
# the % of 4 KiB blocks that differ from image A, and the rebuilt one again
# with [delta] shifted-chunks = yes; their own full staging is their
# reference. The .debs come from apt-get download, once, into
# BENCH_DEB_CACHE; without apt, network, e2fsprogs or dpkg-deb the rows
# are left out with a note.
# Rows "zckdl ..." (under each synthetic and ext4 delta row, no targets):
# the peer, libzck's own downloader (Debian package zchunk), on the same
# images from the same nginx: `zckdl -s BASE.zck URL` downloads the case's
# fw.img.zck into an empty directory, taking the chunks it can from the
# base image's zchunk file (made once per set like the others, with
# secfu-manifest create --delta), RUNS times beside secfud's runs; fetched
# = the body bytes nginx logged for that path during the run; the file
# must be the served one byte for byte; zck_delta_size's prediction
# follows the runs. Left out with a note without zckdl, or BENCH_ZCKDL=0.
# Then the same over a shaped link (BENCH_SHAPED_RATE, 20mbit, tc tbf on
# the loopback of a network namespace that holds nginx and the device;
# root only) for a BENCH_SHAPED_MIB (16) MiB image, BENCH_SHAPED_CASES.
#
# Environment: BENCH_RUNS (3), BENCH_IMAGE_MIB (256), BENCH_SMALL_MIB (64),
# BENCH_DELTA_MIB (64), BENCH_DELTA_CHUNK (16K), BENCH_DELTA_CASES
# ("0.1:scattered ... 10:clustered"), BENCH_SHAPED_MIB (16),
# BENCH_SHAPED_RATE (20mbit), BENCH_SHAPED_CASES ("1:scattered ...
# 15:scattered"), BENCH_EXT4=0 (no ext4 rows), BENCH_EXT4_MIB (64),
# BENCH_EXT4_OLD (3.0.20-1~deb12u2) and BENCH_EXT4_NEW (3.0.22-1~deb12u2;
# when apt offers not both, the two newest versions apt-cache madison
# lists, with a note), BENCH_EXT4_UPGRADE ("libssl3 openssl": the packages
# at those versions), BENCH_EXT4_PACKAGES (the others, at apt's candidate
# version when first downloaded), BENCH_DEB_CACHE (BUILD_DIR/bench-debs),
# BENCH_ZCKDL=0 (no zckdl rows), BENCH_POLL_RUNS (5), BENCH_STRICT=1
# (exit 1 when a target is missed), BENCH_KEEP=1 (keep the temporary
# directory), SECFUD / SECFUCTL / SECFU_MANIFEST (override the binaries of
# BUILD_DIR), TMPDIR.
# Exit status: 0 when every run did its job (targets are reported, and
# only fail the run under BENCH_STRICT), 2 when something could not run.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd) || { echo "bench: no build directory ${1:-}"; exit 2; }
SECFUD=${SECFUD:-$build/secfud}
SECFU_MANIFEST=${SECFU_MANIFEST:-$build/secfu-manifest}
SECFUCTL=${SECFUCTL:-$build/secfuctl}
RUNS=${BENCH_RUNS:-3}
BIG_MIB=${BENCH_IMAGE_MIB:-256}
SMALL_MIB=${BENCH_SMALL_MIB:-64}
POLL_RUNS=${BENCH_POLL_RUNS:-5}
DELTA_MIB=${BENCH_DELTA_MIB:-64}
DELTA_CHUNK=${BENCH_DELTA_CHUNK:-16K}
SHAPED_MIB=${BENCH_SHAPED_MIB:-16}
SHAPED_RATE=${BENCH_SHAPED_RATE:-20mbit}
SHAPED_CASES=${BENCH_SHAPED_CASES:-"1:scattered 10:clustered 15:scattered"}
NS=secfu-bench-$$
SHAPED_NGINX_PID=
DELTA_CASES=${BENCH_DELTA_CASES:-"0.1:scattered 0.1:clustered 1:scattered 1:clustered 10:scattered 10:clustered"}
SLOT_MARGIN_MIB=16
# ext4 rows: a root file system of EXT4_PACKAGES plus EXT4_UPGRADE, the
# latter at EXT4_OLD in slot A and at EXT4_NEW in the offered image.
EXT4=${BENCH_EXT4:-1}
EXT4_MIB=${BENCH_EXT4_MIB:-64}
EXT4_UPGRADE=${BENCH_EXT4_UPGRADE:-"libssl3 openssl"}
EXT4_OLD=${BENCH_EXT4_OLD:-3.0.20-1~deb12u2}
EXT4_NEW=${BENCH_EXT4_NEW:-3.0.22-1~deb12u2}
EXT4_PACKAGES=${BENCH_EXT4_PACKAGES:-"libc6 libgcc-s1 busybox-static ca-certificates libcurl4 curl libjansson4 \
libinih1 libcbor0.8 libsystemd0 libubootenv0.1 libzck1 zlib1g libzstd1 liblzma5 liblz4-1 libbrotli1 libgcrypt20 \
libgpg-error0 libcap2 libnghttp2-14 libidn2-0 libunistring2 libpsl5 librtmp1 libssh2-1 libgssapi-krb5-2 libkrb5-3 \
libk5crypto3 libkrb5support0 libkeyutils1 libcom-err2 libldap-2.5-0 libsasl2-2 libgnutls30 libnettle8 libhogweed6 \
libgmp10 libp11-kit0 libtasn1-6 libffi8"}
DEB_CACHE=${BENCH_DEB_CACHE:-$build/bench-debs}
EXT4_UUID=5ecf0d00-0000-4000-8000-00000000e474   # file system UUID and directory hash seed
EXT4_EPOCH=1700000000                            # every timestamp of image A; the upgrade is a day later

die() { echo "bench: $*" >&2; exit 2; }
for tool in nginx curl openssl gcc tee dd; do
        command -v "$tool" >/dev/null || die "$tool is missing (apt-get install nginx-light curl openssl gcc coreutils)"
done
SWUPDATE=
if command -v swupdate >/dev/null && command -v cpio >/dev/null; then
        SWUPDATE=$(command -v swupdate)
else
        echo "bench: note: swupdate or cpio is missing: no SWUpdate row (apt-get install swupdate cpio)"
fi
# zckdl (Debian package zchunk): libzck's own downloader, the peer of the
# delta rows; zck_delta_size, from the same package, is optional.
ZCKDL=
ZCK_DELTA_SIZE=
if [ "${BENCH_ZCKDL:-1}" = 0 ]; then
        echo "bench: note: BENCH_ZCKDL=0: no zckdl rows"
elif command -v zckdl >/dev/null; then
        ZCKDL=$(command -v zckdl)
        ZCK_DELTA_SIZE=$(command -v zck_delta_size)
else
        echo "bench: note: zckdl is missing: no zckdl rows (apt-get install zchunk)"
fi
if [ "$EXT4" != 0 ]; then
        PATH=$PATH:/usr/sbin:/sbin   # mke2fs, debugfs, e2fsck for a user without sbin in PATH
        for tool in mke2fs debugfs e2fsck dpkg dpkg-deb apt-get apt-cache tar numfmt; do
                if ! command -v "$tool" >/dev/null; then
                        echo "bench: note: $tool is missing: no ext4 rows (apt-get install e2fsprogs dpkg apt tar coreutils)"
                        EXT4=0
                        break
                fi
        done
fi
[[ $EXT4_MIB =~ ^[1-9][0-9]*$ ]] || die "BENCH_EXT4_MIB must be a positive integer"
[ -x "$SECFUD" ] || die "$SECFUD not found: build first (make)"
[ -x "$SECFU_MANIFEST" ] || die "$SECFU_MANIFEST not found: build first (make)"
[[ $RUNS =~ ^[1-9][0-9]*$ && $POLL_RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS and BENCH_POLL_RUNS must be positive integers"

# ---------------------------------------------------------------- helpers
BASELINE_A=$build/bench-baseline-a
RUNSTAT=$build/bench-runstat
gcc -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -o "$BASELINE_A" "$top/bench/baseline-a.c" -lcurl -lcrypto ||
        die "cannot build bench/baseline-a.c (needs libcurl4-openssl-dev, libssl-dev)"
gcc -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -o "$RUNSTAT" "$top/bench/runstat.c" || die "cannot build bench/runstat.c"
# The process floor: linked against exactly the libraries secfud needs,
# and libcurl, which it loads for a job.
FLOOR=
if command -v readelf >/dev/null; then
        mapfile -t needed < <(readelf -d "$SECFUD" | sed -n 's/.*Shared library: \[\(.*\)\]/-l:\1/p')
        if gcc -std=gnu11 -O2 -Wall -Wextra -o "$build/bench-startup-floor" "$top/bench/startup-floor.c" \
                -Wl,--no-as-needed "${needed[@]}" -lcurl 2>/dev/null; then
                FLOOR=$build/bench-startup-floor
        else
                echo "bench: note: cannot link bench/startup-floor.c like secfud; no floor row"
        fi
fi

# Images go to a real disk, so that fsync means something.
base=${TMPDIR:-/var/tmp}
[ "$(stat -f -c %T "$base" 2>/dev/null)" = tmpfs ] && base=/var/tmp
T=$(mktemp -d "$base/secfu-bench.XXXXXX") || die "cannot create a directory in $base"
NGINX_PID=
DAEMON_PID=
# shellcheck disable=SC2317  # run by the trap
cleanup() {
        if [ -n "$DAEMON_PID" ]; then kill -TERM "$DAEMON_PID" 2>/dev/null; wait "$DAEMON_PID" 2>/dev/null; fi
        if [ -n "$NGINX_PID" ]; then kill -QUIT "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null; fi
        if [ -n "$SHAPED_NGINX_PID" ]; then kill -QUIT "$SHAPED_NGINX_PID" 2>/dev/null; wait "$SHAPED_NGINX_PID" 2>/dev/null; fi
        ip netns del "$NS" 2>/dev/null
        if [ -n "${BENCH_KEEP:-}" ]; then echo "bench: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- nginx
mkdir -p "$T/nginx" "$T/www"
# shellcheck source=tests/lib/nginx.sh
. "$top/tests/lib/nginx.sh"
start_nginx() {
        nginx_start "$T/nginx" "$T/www" || die "nginx did not start"
        PORT=$NGINX_PORT
        SERVER=$NGINX_URL
}

# ---------------------------------------------------------------- firmware
"$SECFU_MANIFEST" keygen --alg ES256 --out "$T/factory" >/dev/null || die "secfu-manifest keygen failed"

# publish NAME MIB: a random image and its signed manifest (version 1.1.0)
# under /NAME/ on the server; sets SHA256[NAME] and SHA512[NAME].
declare -A SHA256 SHA512
publish() {
        local name=$1 mib=$2 dir=$T/www/$1 hashes
        mkdir -p "$dir"
        head -c "$((mib * 1048576))" /dev/urandom >"$dir/fw.img" || die "cannot write the $name image"
        "$SECFU_MANIFEST" create --manufacturer example.com --model gw100 --version 1.1.0 \
                --image "$dir/fw.img=fw.img" >"$T/$name.json" || die "secfu-manifest create failed"
        "$SECFU_MANIFEST" sign --key "$T/factory.key" --alg ES256 "$T/$name.json" >"$dir/manifest.json" ||
                die "secfu-manifest sign failed"
        hashes=$(grep -Eo '"hash": *"[0-9a-f]+"' "$T/$name.json" | grep -Eo '[0-9a-f]{64,}')
        # create lists sha256 first, then sha512.
        SHA256[$name]=$(sed -n 1p <<<"$hashes")
        SHA512[$name]=$(sed -n 2p <<<"$hashes")
        if [ ${#SHA256[$name]} -ne 64 ] || [ ${#SHA512[$name]} -ne 128 ]; then
                die "no sha256 and sha512 in $T/$name.json"
        fi
}

# ---------------------------------------------------------------- device
# shellcheck source=tests/lib/device.sh
. "$top/tests/lib/device.sh"
# new_device NAME MIB [RUNNING-VERSION]: a fresh device (tests/lib/device.sh)
# in $T/dev-NAME: empty state, zeroed slot B of MIB + margin, `file`
# bootloader, config pointing at /NAME/manifest.json; no DHCP domain, so the
# local server is skipped (test builds honour the SFU_TEST_* hooks that
# device_layout exports; others find nothing on a machine without leases
# either).
new_device() {
        local name=$1 mib=$2 running=${3:-1.0.0} d=$T/dev-$1
        rm -rf "$d"
        device_layout "$d" "$T/factory.pub" 65536 $(((mib + SLOT_MARGIN_MIB) * 1048576)) "$running" ||
                die "cannot lay out the device $d"
        LOCAL_URL="http://_firmware.{domain}:$PORT/.well-known/firmware/{manufacturer}/{model}/manifest.json" \
                MANUFACTURER_URL="$SERVER/$name/manifest.json" device_config "$d" >"$d/secfud.conf"
        D=$d
}

# new_slot PATH MIB: a zeroed slot of MIB + margin.
new_slot() { device_slot "$1" $((($2 + SLOT_MARGIN_MIB) * 1048576)); }

# ---------------------------------------------------------------- contenders
# Each run_X appends "WALL_USEC MAXRSS_KIB CPU_USEC" to $T/results-X and
# fails loudly when the result is wrong (digests, exit status, staging).
record() { # record NAME: moves runstat's numbers into the results file
        local rss user sys wall
        read -r _ rss user sys wall <"$T/stat" || die "$1: no measurement"
        echo "$wall $rss $((user + sys))" >>"$T/results-$1"
}

run_a() {
        local d=$T/dev-big s256 s512
        new_slot "$d/slot-b" "$BIG_MIB"
        "$RUNSTAT" "$T/stat" "$BASELINE_A" "$SERVER/big/fw.img" "$d/slot-b" >"$T/a.out" ||
                die "baseline A failed"
        read -r _ _ s256 s512 <"$T/a.out"
        if [ "$s256" != "${SHA256[big]}" ] || [ "$s512" != "${SHA512[big]}" ]; then
                die "baseline A computed wrong digests"
        fi
        record a
}

run_b() {
        local d=$T/dev-big
        new_slot "$d/slot-b" "$BIG_MIB"
        rm -f "$T/f1" "$T/f2"
        # `wait` lets bash reap both process substitutions: the run ends
        # when the digests are complete, not when dd is done.
        # shellcheck disable=SC2016  # expanded by the inner bash
        "$RUNSTAT" "$T/stat" bash -c 'set -o pipefail
                curl -s "$1" | tee >(openssl dgst -sha256 >"$3") >(openssl dgst -sha512 >"$4") |
                        dd of="$2" bs=1M conv=fsync,notrunc status=none && wait' \
                bench "$SERVER/big/fw.img" "$d/slot-b" "$T/f1" "$T/f2" || die "baseline B failed"
        if ! grep -q "= ${SHA256[big]}\$" "$T/f1" || ! grep -q "= ${SHA512[big]}\$" "$T/f2"; then
                die "baseline B computed wrong digests"
        fi
        record b
}

run_curl() {
        local d=$T/dev-big
        new_slot "$d/slot-b" "$BIG_MIB"
        "$RUNSTAT" "$T/stat" curl -s -f -o "$d/slot-b" "$SERVER/big/fw.img" || die "curl -o failed"
        record curl
}

# publish_encrypted NAME FROM: the image of FROM encrypted under /NAME/, its
# manifest signed, then encrypted for the device key in $T/dec.d.
publish_encrypted() {
        local name=$1 dir=$T/www/$1
        mkdir -p "$dir" "$T/dec.d"
        chmod 0700 "$T/dec.d"
        ln -f "$T/www/$2/fw.img" "$dir/fw.img" 2>/dev/null || cp "$T/www/$2/fw.img" "$dir/fw.img"
        openssl genpkey -algorithm X25519 -out "$T/dec.d/device.pem" 2>/dev/null &&
                chmod 0600 "$T/dec.d/device.pem" &&
                openssl pkey -in "$T/dec.d/device.pem" -pubout -out "$T/device-enc.pub" 2>/dev/null ||
                die "cannot make the device's decryption key"
        "$SECFU_MANIFEST" create --manufacturer example.com --model gw100 --version 1.1.0 \
                --image "$dir/fw.img=fw.img" >"$T/$name.json" &&
                "$SECFU_MANIFEST" encrypt --image "$dir/fw.img" -o "$dir/fw.enc" --manifest "$T/$name.json" \
                        --name firmware --location fw.enc >"$T/$name-enc.json" &&
                "$SECFU_MANIFEST" sign --key "$T/factory.key" --alg ES256 "$T/$name-enc.json" >"$T/$name.jws" &&
                "$SECFU_MANIFEST" encrypt --to "$T/device-enc.pub" "$T/$name.jws" >"$dir/manifest.json" ||
                die "cannot publish the encrypted image"
}

# publish_swu FROM: the image of FROM as SWUpdate's update file under
# /swu/fw.swu: a cpio archive (newc with CRC) of sw-description, its CMS
# signature (a throw-away certificate, SWUpdate's -k) and the image, which
# the raw handler streams into the slot ("installed-directly": no copy in
# /tmp), checking its sha256 on the way.
publish_swu() {
        local dir=$T/www/swu s=$T/swu
        mkdir -p "$dir" "$s"
        ln -f "$T/www/$1/fw.img" "$s/fw.img" 2>/dev/null || cp "$T/www/$1/fw.img" "$s/fw.img"
        cat >"$s/sw-description" <<SWU
software =
{
        version = "1.1.0";
        hardware-compatibility = [ "1.0" ];
        images: (
                {
                        filename = "fw.img";
                        device = "$T/dev-big/slot-b";
                        type = "raw";
                        installed-directly = true;
                        sha256 = "${SHA256[$1]}";
                }
        );
}
SWU
        openssl req -x509 -newkey rsa:2048 -nodes -keyout "$s/key.pem" -out "$s/cert.pem" -subj /CN=secfu-bench \
                -days 2 -addext extendedKeyUsage=emailProtection 2>/dev/null &&
                openssl cms -sign -in "$s/sw-description" -out "$s/sw-description.sig" -signer "$s/cert.pem" \
                        -inkey "$s/key.pem" -outform DER -nosmimecap -binary &&
                (cd "$s" && printf '%s\n' sw-description sw-description.sig fw.img | cpio -o -H crc --quiet) \
                        >"$dir/fw.swu" || die "cannot build the .swu for SWUpdate"
        rm -f "$s/fw.img"
}

run_swupdate() {
        local d=$T/dev-big
        new_slot "$d/slot-b" "$BIG_MIB"
        # SWUpdate never syncs what it wrote; the run ends when the slot is
        # durable, like every other contender's.
        # shellcheck disable=SC2016  # expanded by the inner bash
        if ! "$RUNSTAT" "$T/stat" bash -c '"$1" -k "$2" -H gw100:1.0 -d "-u $3" >"$5" 2>&1 && sync -d "$4"' \
                bench "$SWUPDATE" "$T/swu/cert.pem" "$SERVER/swu/fw.swu" "$d/slot-b" "$T/swupdate.log"; then
                tail -20 "$T/swupdate.log" | sed 's/^/  | /' >&2
                die "swupdate failed"
        fi
        if [ ! -s "$T/results-swupdate" ]; then
                cmp -s -n "$((BIG_MIB * 1048576))" "$T/www/big/fw.img" "$d/slot-b" ||
                        die "slot B does not hold the image after SWUpdate installed it"
        fi
        record swupdate
}

# run_secfud NAME MIB RESULT: one full staging on a fresh device.
run_secfud() {
        local name=$1 mib=$2 result=$3
        if [ "$name" = enc ]; then
                EXTRA_CONF=$'[security]\ndecryption-keys = '"$T/dec.d" new_device "$name" "$mib"
        else
                new_device "$name" "$mib"
        fi
        if ! "$RUNSTAT" "$T/stat" "$SECFUD" -c "$D/secfud.conf" --once >"$T/secfud.out" 2>"$T/secfud.log" ||
                ! grep -q '^BOOT_ORDER=B A' "$D/bootenv"; then
                sed 's/^/  | /' "$T/secfud.log" | tail -20 >&2
                die "secfud --once did not stage the $name image"
        fi
        if [ ! -s "$T/results-$result" ]; then
                [ "$result" = secfud ] && grep -m1 'discovery' "$T/secfud.log" | sed 's/^<[0-9]>/bench: secfud says: /'
                # first run only: the slot really holds the image
                cmp -s -n "$((mib * 1048576))" "$T/www/$name/fw.img" "$D/slot-b" ||
                        die "slot B does not hold the $name image after secfud staged it"
        fi
        record "$result"
}

# ---------------------------------------------------------------- statistics
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
col() { awk -v c="$2" '{ print $c }' "$T/results-$1"; }
med() { col "$1" "$2" | median; }   # med RESULT COLUMN (1 wall µs, 2 rss KiB, 3 cpu µs)
list_s() { col "$1" 1 | awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 / 1e6 }'; }

# ---------------------------------------------------------------- run
echo "bench: secfud $("$SECFUD" --version 2>/dev/null | awk '{ print $2 }') ($SECFUD), $RUNS runs each, files in $T ($(stat -f -c %T "$T"))"
echo "bench: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine makes the wall times noisy)"
if ! grep -aq SFU_TEST_NETWORKD_LEASES "$SECFUD"; then
        echo "bench: note: $SECFUD is not a test build; discovery reads this machine's lease files and resolv.conf"
fi
start_nginx
echo "bench: nginx on $SERVER; making a $BIG_MIB MiB and a $SMALL_MIB MiB image"
publish big "$BIG_MIB"
publish small "$SMALL_MIB"
publish_encrypted enc big
[ -n "$SWUPDATE" ] && publish_swu big
new_device big "$BIG_MIB"
# Write back the new images now, not during the first timed run, and warm
# the page cache, so that every contender reads the image from memory.
sync
cat "$T/www/big/fw.img" "$T/www/small/fw.img" "$T/www/enc/fw.enc" >/dev/null
[ -n "$SWUPDATE" ] && cat "$T/www/swu/fw.swu" >/dev/null

for i in $(seq "$RUNS"); do
        echo "bench: round $i of $RUNS: A, B, secfud, curl -o, secfud ($SMALL_MIB MiB), secfud (encrypted)${SWUPDATE:+, SWUpdate}"
        run_a
        run_b
        run_secfud big "$BIG_MIB" secfud
        [ -n "$SWUPDATE" ] && run_swupdate
        run_curl
        run_secfud small "$SMALL_MIB" secfud-small
        run_secfud enc "$BIG_MIB" secfud-enc
done

# An up-to-date poll: the first one fetches and caches the manifest with
# its ETag, the next ones get 304 Not Modified.
echo "bench: up-to-date polls ($POLL_RUNS)"
new_device big "$BIG_MIB" 1.1.0
"$SECFUD" -c "$D/secfud.conf" --once >/dev/null 2>"$T/poll.log" || { cat "$T/poll.log" >&2; die "first poll failed"; }
poll_requests_max=0
poll_not_304=0
for _ in $(seq "$POLL_RUNS"); do
        before=$(wc -l <"$T/nginx/access.log")
        "$RUNSTAT" "$T/stat" "$SECFUD" -c "$D/secfud.conf" --once >/dev/null 2>"$T/poll.log" ||
                { cat "$T/poll.log" >&2; die "up-to-date poll failed"; }
        record poll
        sleep 0.05   # nginx writes its access log line after the response
        requests=$(($(wc -l <"$T/nginx/access.log") - before))
        [ "$requests" -gt "$poll_requests_max" ] && poll_requests_max=$requests
        tail -n "$requests" "$T/nginx/access.log" | awk '$3 != 304 { bad = 1 } END { exit !bad }' &&
                poll_not_304=$((poll_not_304 + 1))
done

# What any process linked like secfud costs to start and end.
floor_cpu=
floor_rss=
if [ -n "$FLOOR" ]; then
        for _ in $(seq "$POLL_RUNS"); do
                "$RUNSTAT" "$T/stat" "$FLOOR" || die "$FLOOR failed"
                record floor
        done
        floor_cpu=$(med floor 3)
        floor_rss=$(med floor 2)
fi

# The idle daemon (up to date, its last check just recorded: the next
# poll is hours away), then, when secfuctl is there, up-to-date checks
# through the control socket: what a poll costs the running daemon.
echo "bench: idle daemon"
"$SECFUD" -c "$D/secfud.conf" >/dev/null 2>"$T/daemon.log" &
DAEMON_PID=$!
sleep 1
idle_rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status" 2>/dev/null)
[ -n "$idle_rss" ] || { cat "$T/daemon.log" >&2; die "the daemon did not stay up for 1 s"; }
daemon_checks=0
if [ -x "$SECFUCTL" ] && [ -S "$D/run/secfud.sock" ]; then
        checks=$((POLL_RUNS * 10))
        echo "bench: $checks checks through the daemon's control socket"
        ticks() { awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat"; }   # utime + stime, every thread
        cpu_before=$(ticks)
        requests_before=$(wc -l <"$T/nginx/access.log")
        for _ in $(seq "$checks"); do
                "$SECFUCTL" -s "$D/run/secfud.sock" check >/dev/null 2>>"$T/daemon.log" || die "secfuctl check failed"
        done
        sleep 0.05
        daemon_checks=$checks
        daemon_check_ms=$(awk -v t="$(($(ticks) - cpu_before))" -v hz="$(getconf CLK_TCK)" -v n="$checks" \
                'BEGIN { printf "%.2f", t * 1000 / hz / n }')
        daemon_check_requests=$(($(wc -l <"$T/nginx/access.log") - requests_before))
        daemon_busy_rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status")
        # idle again: secfud unloads libcurl 10 s after its last job
        sleep 11
        daemon_rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status")
fi
kill -TERM "$DAEMON_PID" 2>/dev/null
wait "$DAEMON_PID"
daemon_status=$?
DAEMON_PID=

# ---------------------------------------------------------------- delta
# delta_images: the base image and one changed image per case, each
# published with its zchunk file under /delta-CASE/.
# The globals DPREFIX (delta), DBASE (the base image), DMIB (its size),
# DSERVER (the URL of the server the device reaches) and DWRAP (a command
# prefix for secfud, e.g. ip netns exec NS) say which set is meant.
delta_publish() { # delta_publish CASE PCT LAYOUT
        local name=$1 pct=$2 layout=$3 dir=$T/www/$DPREFIX-$1
        mkdir -p "$dir"
        /usr/bin/python3 - "$DBASE" "$dir/fw.img" "$pct" "$layout" <<'PY' || die "cannot make the $name image"
import os, random, sys
base, out, pct, layout = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
data = bytearray(open(base, "rb").read())
blocks = len(data) // 4096
n = max(1, round(blocks * pct / 100))
rng = random.Random(f"{pct}{layout}")
if layout == "scattered":
    picks = rng.sample(range(blocks), n)
else:
    first = rng.randrange(0, blocks - n)
    picks = range(first, first + n)
for b in picks:
    data[b * 4096:(b + 1) * 4096] = os.urandom(4096)
open(out, "wb").write(data)
PY
        delta_manifest "$name"
}

# delta_manifest CASE: the zchunk file of /DPREFIX-CASE/fw.img and the
# signed manifest that offers it.
delta_manifest() {
        local dir=$T/www/$DPREFIX-$1
        "$SECFU_MANIFEST" create --manufacturer example.com --model gw100 --version 1.1.0 \
                --image "$dir/fw.img=fw.img" --delta --delta-chunk-size "$DELTA_CHUNK" >"$T/$DPREFIX-$1.json" ||
                die "secfu-manifest create --delta failed"
        "$SECFU_MANIFEST" sign --key "$T/factory.key" --alg ES256 "$T/$DPREFIX-$1.json" >"$dir/manifest.json" ||
                die "secfu-manifest sign failed"
}

# run_delta CASE RESULT [EXTRA_CONF]: one staging of /delta-CASE/ on a
# device whose slot A holds the base image; appends the bytes fetched to
# $T/fetched-RESULT.
run_delta() {
        local name=$1 result=$2 d=$T/dev-delta
        rm -rf "$d"
        device_layout "$d" "$T/factory.pub" $((DMIB * 1048576)) $(((DMIB + SLOT_MARGIN_MIB) * 1048576)) ||
                die "cannot lay out the device $d"
        cp "$DBASE" "$d/slot-a"
        EXTRA_CONF=${3:-} LOCAL_URL="http://_firmware.{domain}:$PORT/.well-known/firmware/{manufacturer}/{model}/manifest.json" \
                MANUFACTURER_URL="$DSERVER/$DPREFIX-$name/manifest.json" device_config "$d" >"$d/secfud.conf"
        if ! "$RUNSTAT" "$T/stat" "${DWRAP[@]}" "$SECFUD" -c "$d/secfud.conf" --once >"$T/secfud.out" 2>"$T/delta.log" ||
                ! grep -q '^BOOT_ORDER=B A' "$d/bootenv"; then
                sed 's/^/  | /' "$T/delta.log" | tail -20 >&2
                die "secfud --once did not stage the $DPREFIX-$name image"
        fi
        cmp -s -n "$((DMIB * 1048576))" "$T/www/$DPREFIX-$name/fw.img" "$d/slot-b" ||
                die "slot B does not hold the $DPREFIX-$name image"
        # a staging by delta says what it fetched; without EXTRA_CONF it must
        if grep -q 'delta: firmware: fetched' "$T/delta.log"; then
                sed -n 's/.*delta: firmware: fetched \([0-9]*\) bytes.*/\1/p' "$T/delta.log" >>"$T/fetched-$result"
        elif [ -z "${3:-}" ]; then
                die "$DPREFIX-$name: secfud did not stage by delta"
        fi
        record "$result"
}

# zckdl_base: the zchunk file of the base image DBASE, made like the
# offered ones (secfu-manifest create --delta, DELTA_CHUNK), which writes
# it beside the image as DBASE.zck: zckdl's source.
zckdl_base() {
        "$SECFU_MANIFEST" create --manufacturer example.com --model gw100 --version 1.0.0 \
                --image "$DBASE=fw.img" --delta --delta-chunk-size "$DELTA_CHUNK" >"$T/$DPREFIX-base.json" ||
                die "secfu-manifest create --delta failed for $DBASE"
        [ -s "$DBASE.zck" ] || die "secfu-manifest create --delta wrote no $DBASE.zck"
}

# zckdl_size CASE: what zck_delta_size says zckdl needs of
# /DPREFIX-CASE/fw.img.zck given DBASE.zck (header and missing chunks,
# in bytes), in ZCKDL_SIZE[DPREFIX-CASE]; nothing without zck_delta_size.
declare -A ZCKDL_SIZE
zckdl_size() {
        local f=$T/www/$DPREFIX-$1/fw.img.zck n
        [ -n "$ZCK_DELTA_SIZE" ] || return 0
        n=$("$ZCK_DELTA_SIZE" "$DBASE.zck" "$f" 2>"$T/zck_delta_size.log" |
                sed -n "s/^Would download \([0-9]*\) of $(stat -c %s "$f") bytes\$/\1/p")
        [ -n "$n" ] || { cat "$T/zck_delta_size.log" >&2; die "zck_delta_size $DBASE.zck $f said no size"; }
        ZCKDL_SIZE[$DPREFIX-$1]=$n
}

# run_zckdl CASE RESULT: zckdl -s DBASE.zck downloads /DPREFIX-CASE/fw.img.zck
# into an empty directory; appends the body bytes nginx sent for that
# path during the run (its access log) to $T/fetched-RESULT. The file it
# wrote must be the served one, byte for byte; it is removed then.
run_zckdl() {
        local path=/$DPREFIX-$1/fw.img.zck result=$2 dir=$T/zckdl before bytes
        if ! rm -rf "$dir" || ! mkdir "$dir"; then die "cannot create $dir"; fi
        before=$(wc -l <"$T/nginx/access.log")
        if ! (cd "$dir" && exec "$RUNSTAT" "$T/stat" "$ZCKDL" -s "$DBASE.zck" "$DSERVER$path") >"$T/zckdl.log" 2>&1; then
                sed 's/^/  | /' "$T/zckdl.log" | tail -20 >&2
                die "zckdl -s $DBASE.zck $DSERVER$path failed"
        fi
        cmp -s "$T/www$path" "$dir/fw.img.zck" || die "zckdl wrote a $dir/fw.img.zck that is not the $path nginx serves"
        # gone before it is written back: the next contender does not pay for it
        rm -rf "$dir"
        sleep 0.05   # nginx writes its access log line after the response
        bytes=$(tail -n "+$((before + 1))" "$T/nginx/access.log" |
                awk -v p="$path" '$2 == p { n++; s += $4 } END { if (n) print s }')
        [ -n "$bytes" ] || die "zckdl: no request for $path in nginx's access log"
        echo "$bytes" >>"$T/fetched-$result"
        record "$result"
}

echo "bench: delta: a $DELTA_MIB MiB base image and $(wc -w <<<"$DELTA_CASES") changed ones (zchunk files)"
head -c "$((DELTA_MIB * 1048576))" /dev/urandom >"$T/delta-base.img" || die "cannot write the delta base image"
DPREFIX=delta DBASE=$T/delta-base.img DMIB=$DELTA_MIB DSERVER=$SERVER
DWRAP=()
for c in $DELTA_CASES; do
        delta_publish "${c/:/-}" "${c%%:*}" "${c#*:}"
done
if [ -n "$ZCKDL" ]; then
        zckdl_base
        for c in $DELTA_CASES; do
                zckdl_size "${c/:/-}"
        done
fi
delta_first=${DELTA_CASES%% *}
delta_first=${delta_first/:/-}
for i in $(seq "$RUNS"); do
        echo "bench: delta round $i of $RUNS${ZCKDL:+ (and zckdl)}"
        run_delta "$delta_first" delta-full $'[delta]\nenable = no'
        run_delta "$delta_first" delta-zck-only $'[delta]\nsource-slots = none'
        for c in $DELTA_CASES; do
                run_delta "${c/:/-}" "delta-${c/:/-}"
                [ -n "$ZCKDL" ] && run_zckdl "${c/:/-}" "zckdl-delta-${c/:/-}"
        done
done

# ---------------------------------------------------------------- ext4
# Delta on real file-system images: an ext4 root file system of the
# Debian packages EXT4_PACKAGES (secfud's run-time libraries and their
# dependencies, busybox-static, ca-certificates) and EXT4_UPGRADE at
# EXT4_OLD runs in slot A; the server offers the same with EXT4_UPGRADE at
# EXT4_NEW (one security upgrade), made in two ways:
#   rebuilt   mke2fs -d from a freshly extracted tree, as image builders
#             (Yocto, mkosi, debos) make every release;
#   inplace   a copy of image A that debugfs changes the way dpkg upgrades
#             a package on the mounted file system: each file of the new
#             version written beside the old one (NAME.dpkg-new), then
#             renamed over it (the old blocks are freed only then), the
#             files it no longer ships removed, dpkg's database rewritten.
# Both are reproducible: a fixed UUID and directory hash seed, and fixed
# timestamps (E2FSPROGS_FAKE_TIME for the superblock; touch for the tree,
# and debugfs for the ctime, crtime and atime mke2fs -d copies from it),
# so that the images differ by the upgrade and by what it moves.
# The .debs are downloaded once into DEB_CACHE (apt-get download).

# ext4_cached PKG [VERSION]: the cached .deb of PKG (at VERSION), if any.
ext4_cached() {
        local f v found=''
        for f in "$DEB_CACHE/${1}_"*_*.deb; do
                [ -f "$f" ] || continue
                v=${f##*/} && v=${v#"${1}_"} && v=${v%_*}   # the version, its epoch's colon as %3a
                if [ -z "${2:-}" ] || [ "$v" = "${2//:/%3a}" ]; then found=$f; fi
        done
        [ -n "$found" ] && echo "$found"
}

# ext4_madison PKG: the versions of PKG apt can download, one a line.
ext4_madison() { apt-cache madison "$1" 2>/dev/null | awk -F'|' '$3 ~ /Packages *$/ { gsub(/ /, "", $2); print $2 }' | sort -u; }

# ext4_versions: EXT4_OLD and EXT4_NEW of every EXT4_UPGRADE package must be
# cached or listed by apt-cache madison; if not, the two newest versions
# it lists for the first package are used instead, with a note.
ext4_versions() {
        local p v avail newest='' second=''
        for p in $EXT4_UPGRADE; do
                ext4_cached "$p" "$EXT4_OLD" >/dev/null && ext4_cached "$p" "$EXT4_NEW" >/dev/null && continue
                avail=$(ext4_madison "$p")
                grep -qxF -- "$EXT4_OLD" <<<"$avail" && grep -qxF -- "$EXT4_NEW" <<<"$avail" && continue
                p=${EXT4_UPGRADE%% *}
                for v in $(ext4_madison "$p"); do
                        if [ -z "$newest" ] || dpkg --compare-versions "$v" gt "$newest"; then
                                second=$newest newest=$v
                        elif [ -z "$second" ] || dpkg --compare-versions "$v" gt "$second"; then
                                second=$v
                        fi
                done
                if [ -z "$second" ]; then
                        echo "bench: note: $EXT4_UPGRADE $EXT4_OLD and $EXT4_NEW are not cached in $DEB_CACHE, and apt-cache madison $p lists fewer than two versions: no ext4 rows (apt-get update?)"
                        return 1
                fi
                echo "bench: note: $EXT4_UPGRADE $EXT4_OLD -> $EXT4_NEW is not available; using the two newest versions apt-cache madison $p lists: $second -> $newest"
                EXT4_OLD=$second EXT4_NEW=$newest
                return 0
        done
        return 0
}

# ext4_debs: every package the images need in DEB_CACHE; downloads the
# missing ones (EXT4_PACKAGES at apt's candidate version).
ext4_debs() {
        local p missing=()
        for p in $EXT4_PACKAGES; do
                ext4_cached "$p" >/dev/null || missing+=("$p")
        done
        for p in $EXT4_UPGRADE; do
                ext4_cached "$p" "$EXT4_OLD" >/dev/null || missing+=("$p=$EXT4_OLD")
                ext4_cached "$p" "$EXT4_NEW" >/dev/null || missing+=("$p=$EXT4_NEW")
        done
        [ ${#missing[@]} -eq 0 ] && return 0
        echo "bench: ext4: downloading ${#missing[@]} package(s) into $DEB_CACHE"
        # into a subdirectory first: the cache only ever holds complete .debs
        if ! mkdir -p "$DEB_CACHE" || ! rm -rf "$DEB_CACHE/partial" || ! mkdir "$DEB_CACHE/partial"; then
                echo "bench: note: cannot create $DEB_CACHE/partial: no ext4 rows"
                return 1
        fi
        if ! (cd "$DEB_CACHE/partial" && apt-get download "${missing[@]}") >"$T/apt.log" 2>&1; then
                echo "bench: note: apt-get download of ${#missing[@]} package(s) failed ($(grep '^E:' "$T/apt.log" | tail -1)): no ext4 rows"
                rm -rf "$DEB_CACHE/partial"
                return 1
        fi
        if ! mv "$DEB_CACHE/partial/"*.deb "$DEB_CACHE/" || ! rmdir "$DEB_CACHE/partial"; then
                die "cannot move the .debs into $DEB_CACHE"
        fi
}

# ext4_unpack TREE DEB: DEB extracted into TREE as dpkg-deb -x does, with
# what dpkg records of it: TREE/var/lib/dpkg/info/PKG.list and .md5sums,
# its status stanza in TREE.status/PACKAGE, "PACKAGE PKG" in TREE.names
# (PKG: libssl3:amd64 for a Multi-Arch: same package).
ext4_unpack() {
        local tree=$1 deb=$2 ctl=$1.control name pkg
        rm -rf "$ctl"
        mkdir -p "$ctl" "$tree/var/lib/dpkg/info" "$tree.status" && dpkg-deb -e "$deb" "$ctl" || return 1
        name=$(awk -F': *' '$1 == "Package" { print $2 }' "$ctl/control")
        pkg=$(awk -F': *' '$1 == "Architecture" { a = $2 } $1 == "Multi-Arch" && $2 == "same" { m = 1 }
                END { if (m) printf ":%s", a }' "$ctl/control")
        pkg=$name$pkg
        dpkg-deb --fsys-tarfile "$deb" | tar -x -v -p -C "$tree" -f - |
                sed 's|^\./$|/.|; s|^\./|/|; s|/$||' >"$tree/var/lib/dpkg/info/$pkg.list" || return 1
        if [ -f "$ctl/md5sums" ]; then cp "$ctl/md5sums" "$tree/var/lib/dpkg/info/$pkg.md5sums" || return 1; fi
        awk 'NR == 1 { print; print "Status: install ok installed"; next } { print } END { print "" }' \
                "$ctl/control" >"$tree.status/$name" || return 1
        echo "$name $pkg" >>"$tree.names"
}

# ext4_tree TREE BASE DEB...: a root tree: a copy of the tree BASE (if not
# empty) and the packages, dpkg's status file (stanzas sorted by package,
# as dpkg writes it), every mtime and atime EXT4_EPOCH.
ext4_tree() {
        local tree=$1 base=$2 deb
        shift 2
        rm -rf "$tree" "$tree.status" "$tree.names"
        if [ -n "$base" ] && ! { cp -a "$base" "$tree" && cp -a "$base.status" "$tree.status" && cp "$base.names" "$tree.names"; }; then
                die "cannot copy $base"
        fi
        for deb in "$@"; do
                ext4_unpack "$tree" "$deb" || die "cannot extract $deb into $tree"
        done
        rm -rf "$tree.control"
        cat "$tree.status"/* >"$tree/var/lib/dpkg/status" || die "cannot write $tree/var/lib/dpkg/status"
        find "$tree" -exec touch -h -d "@$EXT4_EPOCH" {} + || die "cannot set the times in $tree"
}

# ext4_debugfs IMAGE TIME: runs the debugfs commands on stdin on IMAGE (the
# superblock's times TIME); any error message is fatal.
ext4_debugfs() {
        E2FSPROGS_FAKE_TIME=$2 debugfs -w -f - "$1" >/dev/null 2>"$T/debugfs.log" || die "debugfs -w $1 failed"
        if grep -v '^debugfs [0-9]' "$T/debugfs.log" | grep -q .; then
                grep -v '^debugfs [0-9]' "$T/debugfs.log" | head -5 | sed 's/^/  | /' >&2
                die "debugfs could not change $1"
        fi
}

# ext4_times TREE TIME: debugfs commands that set the ctime, crtime and
# atime of every inode of TREE's image to TIME (mke2fs -d copies ctime
# and atime from the tree, whose ctimes say when it was extracted).
ext4_times() {
        (cd "$1" && find . -printf '/%P\n') | awk -v t="$2" '
                /["\\]/ { bad = 1; exit }
                { for (i = split("ctime crtime atime", f, " "); i > 0; i--) printf "sif \"%s\" %s @%d\nsif \"%s\" %s_extra 0\n", $0, f[i], t, $0, f[i] }
                END { exit bad }' || die "a path in $1 has a quote or a backslash, which the debugfs commands do not escape"
}

# ext4_image TREE IMAGE: an EXT4_MIB MiB ext4 image of TREE.
ext4_image() {
        rm -f "$2"
        truncate -s "${EXT4_MIB}M" "$2" || die "cannot create $2"
        E2FSPROGS_FAKE_TIME=$EXT4_EPOCH mke2fs -q -F -t ext4 -b 4096 -I 256 -U "$EXT4_UUID" \
                -E "hash_seed=$EXT4_UUID,root_owner=0:0" -d "$1" "$2" >"$T/mke2fs.log" 2>&1 ||
                die "mke2fs -d $1 failed ($(tail -1 "$T/mke2fs.log")); a larger BENCH_EXT4_MIB than $EXT4_MIB?"
        ext4_times "$1" "$EXT4_EPOCH" | ext4_debugfs "$2" "$EXT4_EPOCH" || die "cannot set the times in $2"
}

# ext4_stamp PATH TIME [MTIME]: debugfs commands that set PATH's times to
# TIME (its mtime to MTIME).
ext4_stamp() {
        local f
        for f in atime ctime crtime mtime; do
                printf 'sif "%s" %s @%d\nsif "%s" %s_extra 0\n' "$1" "$f" "$2" "$1" "$f"
        done
        [ -n "${3:-}" ] && printf 'sif "%s" mtime @%d\n' "$1" "$3"
        return 0
}

# ext4_upgrade OLD NEW PKG...: debugfs commands that turn an image of the
# tree OLD into one of NEW, which differ by the packages PKG, as dpkg
# upgrades them (see above); the changed inodes get EXT4_EPOCH + 1 day.
ext4_upgrade() {
        local old=$1 new=$2 pkg p dir base db=() t=$((EXT4_EPOCH + 86400))
        shift 2
        if grep -h '["\\]' "$new/var/lib/dpkg/info/"*.list "$old/var/lib/dpkg/info/"*.list | grep -q .; then
                die "a path in $old or $new has a quote or a backslash, which the debugfs commands do not escape"
        fi
        for pkg in "$@"; do
                # unpack: the new version beside the old one
                while IFS= read -r p; do
                        [ "$p" = /. ] && continue
                        dir=${p%/*}/ base=${p##*/}
                        if [ -d "$new$p" ] && [ ! -L "$new$p" ]; then
                                [ -d "$old$p" ] && continue
                                printf 'cd "%s"\nmkdir "%s"\nsif "%s" mode 0%o\n' "$dir" "$base" "$p" \
                                        $((8#40000 | 8#$(stat -c %a "$new$p")))
                                ext4_stamp "$p" "$t"
                                ext4_stamp "$dir" "$t"
                                continue
                        elif [ -L "$new$p" ]; then
                                printf 'cd "%s"\nsymlink "%s.dpkg-new" "%s"\n' "$dir" "$base" "$(readlink "$new$p")"
                        else
                                printf 'cd "%s"\nwrite "%s" "%s.dpkg-new"\n' "$dir" "$new$p" "$base"
                        fi
                        # dpkg sets the mtime the package has (here: EXT4_EPOCH)
                        ext4_stamp "$p.dpkg-new" "$t" "$EXT4_EPOCH"
                done <"$new/var/lib/dpkg/info/$pkg.list"
                # then each renamed over the old file, whose blocks are freed
                while IFS= read -r p; do
                        [ "$p" = /. ] && continue
                        [ -d "$new$p" ] && [ ! -L "$new$p" ] && continue
                        dir=${p%/*}/ base=${p##*/}
                        printf 'cd "%s"\n' "$dir"
                        if [ -e "$old$p" ] || [ -L "$old$p" ]; then printf 'rm "%s"\n' "$base"; fi
                        printf 'ln "%s.dpkg-new" "%s"\nunlink "%s.dpkg-new"\n' "$base" "$base" "$base"
                        ext4_stamp "$dir" "$t"
                done <"$new/var/lib/dpkg/info/$pkg.list"
                # and the files the new version no longer ships removed
                while IFS= read -r p; do
                        [ "$p" = /. ] && continue
                        [ -d "$old$p" ] && [ ! -L "$old$p" ] && continue
                        grep -qxF -- "$p" "$new/var/lib/dpkg/info/$pkg.list" && continue
                        printf 'rm "%s"\n' "$p"
                        ext4_stamp "${p%/*}/" "$t"
                done <"$old/var/lib/dpkg/info/$pkg.list"
        done
        # dpkg's database: the packages' file lists and md5sums, the status
        for pkg in "$@"; do
                db+=("/var/lib/dpkg/info/$pkg.list" "/var/lib/dpkg/info/$pkg.md5sums")
        done
        for p in "${db[@]}" /var/lib/dpkg/status; do
                [ -e "$new$p" ] || continue
                dir=${p%/*}/ base=${p##*/}
                printf 'cd "%s"\nwrite "%s" "%s-new"\n' "$dir" "$new$p" "$base"
                if [ -e "$old$p" ]; then printf 'rm "%s"\n' "$base"; fi
                printf 'ln "%s-new" "%s"\nunlink "%s-new"\n' "$base" "$base" "$base"
                ext4_stamp "$p" "$t"
                ext4_stamp "$dir" "$t"
        done
}

# ext4_changes OLD NEW: "CHANGED BLOCKS NEW MISSING CHUNKS": of the BLOCKS
# 4 KiB blocks of image NEW, CHANGED differ from OLD's at the same offset
# and NEW are nowhere in OLD (at any 4 KiB offset); of its CHUNKS chunks
# of DELTA_CHUNK, MISSING are not among OLD's chunks at multiples of the
# chunk size (what a delta has to fetch).
ext4_changes() {
        /usr/bin/python3 - "$1" "$2" "$(numfmt --from=iec "$DELTA_CHUNK")" <<'PY' || die "cannot compare $1 and $2"
import hashlib, sys
old, new, cs = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read(), int(sys.argv[3])
def split(d, n):
    return [d[i:i + n] for i in range(0, len(d), n)]
ob, nb = split(old, 4096), split(new, 4096)
changed = sum(1 for i, b in enumerate(nb) if i >= len(ob) or ob[i] != b)
seen = set(hashlib.sha256(b).digest() for b in ob)
fresh = sum(1 for b in nb if hashlib.sha256(b).digest() not in seen)
seen = set(hashlib.sha256(c).digest() for c in split(old, cs))
nc = split(new, cs)
missing = sum(1 for c in nc if hashlib.sha256(c).digest() not in seen)
print(changed, len(nb), fresh, missing, len(nc))
PY
}

# run_ext4: the images, published under /ext4-rebuilt/ and /ext4-inplace/,
# and BENCH_RUNS rounds of full, rebuilt and in-place staging; sets
# EXT4_DONE, EXT4_INFO and EXT4_CHANGES[CASE].
EXT4_DONE=
EXT4_INFO=
declare -A EXT4_CHANGES
run_ext4() {
        local e=$T/ext4 p deb base=() old=() new=() pkgs=() c i
        ext4_versions && ext4_debs || return 0
        for p in $EXT4_PACKAGES; do
                base+=("$(ext4_cached "$p")")
        done
        for p in $EXT4_UPGRADE; do
                old+=("$(ext4_cached "$p" "$EXT4_OLD")")
                new+=("$(ext4_cached "$p" "$EXT4_NEW")")
        done
        for deb in "${base[@]}" "${old[@]}" "${new[@]}"; do
                [ -f "$deb" ] || die "a package is missing from $DEB_CACHE after the download"
        done
        echo "bench: ext4: $EXT4_MIB MiB images of $((${#base[@]} + ${#old[@]})) packages, $EXT4_UPGRADE $EXT4_OLD -> $EXT4_NEW (rebuilt, in place)"
        mkdir -p "$e" "$T/www/ext4-rebuilt" "$T/www/ext4-inplace" || die "cannot create $e"
        # the packages both have, extracted once
        ext4_tree "$e/base" "" "${base[@]}"
        ext4_tree "$e/tree-a" "$e/base" "${old[@]}"
        ext4_tree "$e/tree-b" "$e/base" "${new[@]}"
        ext4_image "$e/tree-a" "$e/a.img"
        ext4_image "$e/tree-b" "$T/www/ext4-rebuilt/fw.img"
        cp "$e/a.img" "$T/www/ext4-inplace/fw.img" || die "cannot copy $e/a.img"
        for p in $EXT4_UPGRADE; do
                pkgs+=("$(awk -v p="$p" '$1 == p { print $2 }' "$e/tree-b.names")")
        done
        ext4_upgrade "$e/tree-a" "$e/tree-b" "${pkgs[@]}" | ext4_debugfs "$T/www/ext4-inplace/fw.img" $((EXT4_EPOCH + 86400)) ||
                die "cannot upgrade $EXT4_UPGRADE in place"
        # all three consistent, and the upgraded one holds exactly tree B
        for i in "$e/a.img" "$T/www/ext4-rebuilt/fw.img" "$T/www/ext4-inplace/fw.img"; do
                e2fsck -f -n "$i" >"$T/e2fsck.log" 2>&1 || { tail -5 "$T/e2fsck.log" >&2; die "e2fsck finds errors in $i"; }
        done
        if ! mkdir -p "$e/check" || ! debugfs -R "rdump / $e/check" "$T/www/ext4-inplace/fw.img" >/dev/null 2>&1; then
                die "cannot read the files back from the upgraded image"
        fi
        diff -r --no-dereference -x lost+found "$e/tree-b" "$e/check" >"$T/ext4-diff.log" 2>&1 ||
                { head -5 "$T/ext4-diff.log" >&2; die "the image upgraded in place does not hold tree B"; }
        EXT4_INFO="$((${#base[@]} + ${#old[@]})) Debian packages ($(du -s -B 1048576 --apparent-size "$e/tree-a" | cut -f1) MiB of files), $EXT4_UPGRADE $EXT4_OLD -> $EXT4_NEW"
        rm -rf "$e"/base* "$e"/tree-* "$e/check"
        for c in rebuilt inplace; do
                EXT4_CHANGES[$c]=$(ext4_changes "$e/a.img" "$T/www/ext4-$c/fw.img") || die "cannot compare the ext4 images"
                delta_manifest "$c"
        done
        if [ -n "$ZCKDL" ]; then
                zckdl_base
                for c in rebuilt inplace; do
                        zckdl_size "$c"
                done
        fi
        for i in $(seq "$RUNS"); do
                echo "bench: ext4 round $i of $RUNS${ZCKDL:+ (and zckdl)}"
                run_delta rebuilt ext4-full $'[delta]\nenable = no'
                for c in rebuilt inplace; do
                        run_delta "$c" "ext4-$c"
                        [ -n "$ZCKDL" ] && run_zckdl "$c" "zckdl-ext4-$c"
                done
                run_delta rebuilt ext4-rebuilt-shifted $'[delta]\nshifted-chunks = yes'
        done
        EXT4_DONE=1
}

if [ "$EXT4" != 0 ]; then
        DPREFIX=ext4 DBASE=$T/ext4/a.img DMIB=$EXT4_MIB DSERVER=$SERVER
        DWRAP=()
        run_ext4
fi

# A shaped link: nginx and the device in a network namespace whose
# loopback a token bucket limits to SHAPED_RATE (root, ip and tc's tbf
# needed; netem, for a delay, is not available everywhere and not used).
SHAPED=
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null && command -v tc >/dev/null && ip netns add "$NS" 2>/dev/null; then
        # MTU 1500: tbf drops any packet larger than its bucket
        if ip netns exec "$NS" ip link set lo mtu 1500 up &&
                ip netns exec "$NS" tc qdisc add dev lo root tbf rate "$SHAPED_RATE" burst 32kb latency 200ms; then
                main_nginx=$NGINX_PID
                # exec: the PID nginx_start keeps is nginx's (a subshell would
                # ignore the SIGQUIT that stops it)
                nginx() { exec ip netns exec "$NS" nginx "$@"; }
                curl() { ip netns exec "$NS" curl "$@"; }
                nginx_start "$T/nginx-shaped" "$T/www" || die "nginx did not start in $NS"
                unset -f nginx curl
                SHAPED_NGINX_PID=$NGINX_PID
                NGINX_PID=$main_nginx
                SHAPED=1
        else
                echo "bench: note: cannot shape a namespace's loopback (tc tbf); no shaped-link rows"
        fi
else
        echo "bench: note: no network namespace (needs root and ip); no shaped-link rows"
fi
if [ -n "$SHAPED" ]; then
        echo "bench: shaped link ($SHAPED_RATE): a $SHAPED_MIB MiB base image and $(wc -w <<<"$SHAPED_CASES") changed ones"
        head -c "$((SHAPED_MIB * 1048576))" /dev/urandom >"$T/shaped-base.img" || die "cannot write the shaped base image"
        DPREFIX=shaped DBASE=$T/shaped-base.img DMIB=$SHAPED_MIB DSERVER=$NGINX_URL
        DWRAP=(ip netns exec "$NS")
        for c in $SHAPED_CASES; do
                delta_publish "${c/:/-}" "${c%%:*}" "${c#*:}"
        done
        shaped_first=${SHAPED_CASES%% *}
        shaped_first=${shaped_first/:/-}
        for i in $(seq "$RUNS"); do
                echo "bench: shaped round $i of $RUNS"
                run_delta "$shaped_first" shaped-full $'[delta]\nenable = no'
                for c in $SHAPED_CASES; do
                        run_delta "${c/:/-}" "shaped-${c/:/-}"
                done
        done
fi

# ---------------------------------------------------------------- table
a_us=$(med a 1)
a_cpu=$(med a 3)
row() { # row LABEL RESULT MIB
        awk -v l="$1" -v us="$(med "$2" 1)" -v rss="$(med "$2" 2)" -v cpu="$(med "$2" 3)" -v mib="$3" -v a="$a_us" \
                -v acpu="$a_cpu" -v big="$BIG_MIB" -v runs="$(list_s "$2")" \
                'BEGIN { printf "%-34s %8.3f %8.1f %6.2fx %7.3f %6.2fx %8.1f   %s\n", l, us / 1e6, mib / (us / 1e6), a / us * mib / big, cpu / 1e6, cpu / mib / (acpu / big), rss / 1024, runs }'
}
echo
printf '%-34s %8s %8s %7s %7s %7s %8s   %s\n' contender "median s" "MiB/s" "vs A" "CPU s" "CPU/B" "RSS MiB" "runs (s)"
printf '%.0s-' {1..112}; echo
row "baseline A (libcurl+EVP+pwrite)" a "$BIG_MIB"
row "baseline B (curl|tee|openssl|dd)" b "$BIG_MIB"
[ -n "$SWUPDATE" ] && row "SWUpdate 2022.12 -d, raw (+sync)" swupdate "$BIG_MIB"
row "secfud --once ($BIG_MIB MiB)" secfud "$BIG_MIB"
row "secfud --once ($SMALL_MIB MiB)" secfud-small "$SMALL_MIB"
row "secfud --once, encrypted ($BIG_MIB MiB)" secfud-enc "$BIG_MIB"
row "curl -o SLOT (no hash, no fsync)" curl "$BIG_MIB"
poll_cpu=$(med poll 3)
awk -v cpu="$poll_cpu" -v wall="$(med poll 1)" -v rss="$(med poll 2)" -v n="$poll_requests_max" -v k="$POLL_RUNS" \
        'BEGIN { printf "%-34s %8.3f %8s %7s %7.4f %7s %8.1f   %d request(s) per poll, median of %d\n", "secfud --once, up to date (304)", wall / 1e6, "-", "-", cpu / 1e6, "-", rss / 1024, n, k }'
if [ -n "$floor_cpu" ]; then
        awk -v cpu="$floor_cpu" -v rss="$floor_rss" \
                'BEGIN { printf "%-34s %8s %8s %7s %7.4f %7s %8.1f   secfud'"'"'s shared libraries + curl_global_init\n", "process floor (start + exit)", "-", "-", "-", cpu / 1e6, "-", rss / 1024 }'
fi
awk -v rss="$idle_rss" 'BEGIN { printf "%-34s %8s %8s %7s %7s %7s %8.1f   VmRSS after 1 s, before any check\n", "secfud daemon, idle", "-", "-", "-", "-", "-", rss / 1024 }'
if [ "$daemon_checks" -gt 0 ]; then
        awk -v ms="$daemon_check_ms" -v rss="$daemon_busy_rss" -v n="$daemon_checks" -v req="$daemon_check_requests" \
                'BEGIN { printf "%-34s %8s %8s %7s %7.4f %7s %8.1f   CPU per check (%d checks, %d requests); VmRSS after\n", "secfud daemon, check (304)", "-", "-", "-", ms / 1000, "-", rss / 1024, n, req }'
        awk -v rss="$daemon_rss" \
                'BEGIN { printf "%-34s %8s %8s %7s %7s %7s %8.1f   VmRSS 11 s after the last check (libcurl unloaded)\n", "secfud daemon, idle after checks", "-", "-", "-", "-", "-", rss / 1024 }'
fi
# Delta rows: bytes fetched as % of the image, and the zchunk file's own
# size (the "compressed full image" of this data); wall time vs full.
echo
full_us=$(med delta-full 1)
full_rss=$(med delta-full 2)
DMIB=$DELTA_MIB
printf '%-34s %8s %9s %7s %7s %8s   %s\n' "delta ($DELTA_MIB MiB, $DELTA_CHUNK chunks)" "median s" "fetched" "vs full" "CPU s" "RSS MiB" "runs (s)"
printf '%.0s-' {1..104}; echo
drow() { # drow LABEL RESULT [NOTE]
        local fetched
        fetched=0
        [ -s "$T/fetched-$2" ] && fetched=$(median <"$T/fetched-$2")
        awk -v l="$1" -v us="$(med "$2" 1)" -v rss="$(med "$2" 2)" -v cpu="$(med "$2" 3)" -v f="${fetched:-0}" \
                -v size="$((DMIB * 1048576))" -v full="$full_us" -v runs="$(list_s "$2")" -v note="${3:-}" \
                'BEGIN { printf "%-34s %8.3f %8.2f%% %6.2fx %7.3f %8.1f   %s%s\n", l, us / 1e6, f ? 100 * f / size : 100, full / us, cpu / 1e6, rss / 1024, runs, note }'
}
# zrow LABEL CASE: zckdl's row for DPREFIX-CASE, if it ran, with what
# zck_delta_size predicted (% of the image).
zrow() {
        local note=
        [ -n "$ZCKDL" ] || return 0
        if [ -n "${ZCKDL_SIZE[$DPREFIX-$2]:-}" ]; then
                note=$(awk -v n="${ZCKDL_SIZE[$DPREFIX-$2]}" -v size="$((DMIB * 1048576))" \
                        'BEGIN { printf "; zck_delta_size %.2f%%", 100 * n / size }')
        fi
        drow "$1" "zckdl-$DPREFIX-$2" "$note"
}
drow "full staging (delta disabled)" delta-full
zck_size=$(stat -c %s "$T/www/delta-$delta_first/fw.img.zck")
drow "zchunk, no source slot (all fetched)" delta-zck-only
DPREFIX="delta"
for c in $DELTA_CASES; do
        drow "delta ${c%%:*} % ${c#*:}" "delta-${c/:/-}"
        zrow "zckdl ${c%%:*} % ${c#*:}" "${c/:/-}"
done
# ext4 rows: vs their own full staging, fetched as % of their image.
# ext4_pct CASE: the % of 4 KiB blocks that differ from image A.
ext4_pct() { awk '{ printf "%.2f", 100 * $1 / $2 }' <<<"${EXT4_CHANGES[$1]}"; }
if [ -n "$EXT4_DONE" ]; then
        full_us_delta=$full_us
        full_us=$(med ext4-full 1)
        DMIB=$EXT4_MIB
        drow "ext4 full staging (delta disabled)" ext4-full
        DPREFIX="ext4"
        drow "ext4 rebuilt, $(ext4_pct rebuilt) % changed" ext4-rebuilt
        zrow "zckdl ext4 rebuilt" rebuilt
        drow "ext4 in place, $(ext4_pct inplace) % changed" ext4-inplace
        zrow "zckdl ext4 in place" inplace
        drow "ext4 rebuilt, shifted-chunks = yes" ext4-rebuilt-shifted
        full_us=$full_us_delta
        DMIB=$DELTA_MIB
fi
if [ -n "$SHAPED" ]; then
        full_us_delta=$full_us
        full_us=$(med shaped-full 1)
        DMIB=$SHAPED_MIB
        echo
        printf '%-34s %8s %9s %7s %7s %8s   %s\n' "shaped $SHAPED_RATE ($SHAPED_MIB MiB)" "median s" "fetched" "vs full" "CPU s" "RSS MiB" "runs (s)"
        printf '%.0s-' {1..104}; echo
        drow "full staging (delta disabled)" shaped-full
        for c in $SHAPED_CASES; do
                drow "delta ${c%%:*} % ${c#*:}, shaped" "shaped-${c/:/-}"
        done
        full_us=$full_us_delta
        DMIB=$DELTA_MIB
fi
awk -v z="$zck_size" -v size="$((DELTA_MIB * 1048576))" -v h="$(grep -o '"headerSize": [0-9]*' "$T/delta-$delta_first.json" | grep -o '[0-9]*$')" \
        'BEGIN { printf "zchunk file %.2f%% of the image (header %.2f%%: %d bytes)\n", 100 * z / size, 100 * h / size, h }'
# ext4_header CASE: the zchunk header of the ext4 image CASE in bytes
ext4_header() { grep -o '"headerSize": [0-9]*' "$T/ext4-$1.json" | grep -o '[0-9]*$'; }
if [ -n "$EXT4_DONE" ]; then
        echo "ext4 ($EXT4_MIB MiB): $EXT4_INFO"
        for c in rebuilt inplace; do
                awk -v c="${c/inplace/in place}:" -v chunk="$DELTA_CHUNK" -v z="$(stat -c %s "$T/www/ext4-$c/fw.img.zck")" \
                        -v h="$(ext4_header "$c")" -v size="$((EXT4_MIB * 1048576))" \
                        '{ printf "  %-9s %d of %d 4 KiB blocks differ from image A (%.2f%%), %d (%.2f%%) are nowhere in it; %d of %d %s chunks (%.2f%%) are not among its chunks; zchunk file %.2f%% of the image (header %.2f%%)\n", c, $1, $2, 100 * $1 / $2, $3, 100 * $3 / $2, $4, $5, chunk, 100 * $4 / $5, 100 * z / size, 100 * h / size }' \
                        <<<"${EXT4_CHANGES[$c]}"
        done
fi

# Verifying a manifest, by form and algorithm (bench/verify-bench.c):
# CPU per sfu_signed_open as a ratio to one OpenSSL ES256 verify.
echo
if make --no-print-directory -C "$build" bench/verify-bench >"$T/verify-bench.log" 2>&1; then
        "$build/bench/verify-bench" "$T/big.json" "$T/factory.key" || die "verify-bench failed"
else
        echo "bench: note: cannot build bench/verify-bench ($(tail -1 "$T/verify-bench.log")); no verification rows"
fi
echo
echo "targets"
missed=0
target() { # target PASS(0/1) TEXT
        if [ "$1" -eq 1 ]; then echo "  [pass] $2"; else echo "  [FAIL] $2"; missed=$((missed + 1)); fi
}
s_us=$(med secfud 1)
b_us=$(med b 1)
s_rss=$(med secfud 2)
small_rss=$(med secfud-small 2)
curl_rss=$(med curl 2)
enc_us=$(med secfud-enc 1)
target "$(awk -v s="$s_us" -v e="$enc_us" 'BEGIN { print (s / e >= 0.9) }')" \
        "$(awk -v s="$s_us" -v e="$enc_us" 'BEGIN { printf "encrypted staging >= 0.9x plain staging: %.2fx", s / e }')"
target "$(awk -v s="$s_us" -v a="$a_us" 'BEGIN { print (a / s >= 0.9) }')" \
        "$(awk -v s="$s_us" -v a="$a_us" 'BEGIN { printf "secfud throughput >= 0.9x baseline A: %.2fx", a / s }')"
s_cpu=$(med secfud 3)
if [ -n "$SWUPDATE" ]; then
        sw_us=$(med swupdate 1)
        target "$(awk -v s="$s_us" -v w="$sw_us" 'BEGIN { print (w / s >= 1.5) }')" \
                "$(awk -v s="$s_us" -v w="$sw_us" 'BEGIN { printf "secfud throughput >= 1.5x SWUpdate: %.2fx", w / s }')"
else
        echo "  [skip] secfud throughput >= 1.5x SWUpdate: swupdate is not installed"
fi
target "$(awk -v s="$s_us" -v a="$a_us" 'BEGIN { print (a / s >= 1.6) }')" \
        "$(awk -v s="$s_us" -v a="$a_us" 'BEGIN { printf "secfud throughput >= 1.6x baseline A (same two digests): %.2fx", a / s }')"
target "$(awk -v s="$s_cpu" -v a="$a_cpu" 'BEGIN { print (s <= 1.5 * a) }')" \
        "$(awk -v s="$s_cpu" -v a="$a_cpu" 'BEGIN { printf "secfud CPU per staged byte <= 1.5x baseline A: %.2fx (%.3f vs %.3f s for the same image)", s / a, s / 1e6, a / 1e6 }')"
target "$(awk -v s="$s_us" -v b="$b_us" 'BEGIN { print (s < b) }')" \
        "$(awk -v s="$s_us" -v b="$b_us" -v m="$BIG_MIB" 'BEGIN { printf "secfud throughput > baseline B: %.1f vs %.1f MiB/s", m / (s / 1e6), m / (b / 1e6) }')"
diff_kib=$((s_rss - small_rss))
target "$([ "${diff_kib#-}" -lt 1024 ] && echo 1 || echo 0)" \
        "staging peak RSS independent of image size: $BIG_MIB MiB $s_rss KiB, $SMALL_MIB MiB $small_rss KiB (difference $diff_kib KiB, limit 1024)"
target "$([ "$s_rss" -le $((curl_rss + 2048)) ] && echo 1 || echo 0)" \
        "staging peak RSS <= curl -o + 2 MiB: $s_rss KiB vs $curl_rss KiB (+$((s_rss - curl_rss)) KiB, limit +2048)"
# Idle twice: before its first check (libcurl not loaded yet) and after
# the checks through the socket (each loaded and unloaded it again).
if [ "$daemon_checks" -gt 0 ]; then
        target "$([ "$idle_rss" -le 8192 ] && [ "$daemon_rss" -le 8192 ] && echo 1 || echo 0)" \
                "idle daemon RSS <= 8 MiB: $idle_rss KiB before its first check, $daemon_rss KiB after $daemon_checks checks"
else
        target "$([ "$idle_rss" -le 8192 ] && echo 1 || echo 0)" \
                "idle daemon RSS <= 8 MiB: $idle_rss KiB before its first check (no secfuctl: no checks)"
fi
target "$([ "$poll_requests_max" -eq 1 ] && [ "$poll_not_304" -eq 0 ] && echo 1 || echo 0)" \
        "up-to-date poll costs one request answered 304: at most $poll_requests_max request(s) per poll, $poll_not_304 poll(s) saw another status"
header_pct=$(awk -v h="$(grep -o '"headerSize": [0-9]*' "$T/delta-$delta_first.json" | grep -o '[0-9]*$')" \
        -v size="$((DELTA_MIB * 1048576))" 'BEGIN { printf "%.4f", 100 * h / size }')
for c in $DELTA_CASES; do
        pct=${c%%:*} r="delta-${c/:/-}"
        f=$(median <"$T/fetched-$r")
        us=$(med "$r" 1)
        rss=$(med "$r" 2)
        target "$(awk -v f="$f" -v p="$pct" -v h="$header_pct" -v size="$((DELTA_MIB * 1048576))" 'BEGIN { print (100 * f / size <= 2 * p + h) }')" \
                "$(awk -v f="$f" -v p="$pct" -v h="$header_pct" -v size="$((DELTA_MIB * 1048576))" -v c="$c" 'BEGIN { printf "delta %s: fetched <= 2 x changed + header: %.2f%% vs %.2f%%", c, 100 * f / size, 2 * p + h }')"
        target "$(awk -v f="$f" -v z="$zck_size" 'BEGIN { print (f < z) }')" \
                "delta $c: fetched below the compressed full image (the zchunk file): $f vs $zck_size bytes"
        target "$(awk -v us="$us" -v full="$full_us" 'BEGIN { print (us < full) }')" \
                "$(awk -v us="$us" -v full="$full_us" -v c="$c" 'BEGIN { printf "delta %s: faster than full staging over loopback: %.3f vs %.3f s", c, us / 1e6, full / 1e6 }')"
        target "$([ "$rss" -le $((full_rss + 4096)) ] && echo 1 || echo 0)" \
                "delta $c: peak RSS within 4 MiB of full staging: $rss vs $full_rss KiB"
done
if [ -n "$EXT4_DONE" ]; then
        ext4_full_us=$(med ext4-full 1)
        ext4_full_rss=$(med ext4-full 2)
        for c in rebuilt inplace rebuilt-shifted; do
                # rebuilt-shifted: the rebuilt image with [delta] shifted-chunks
                k=${c%-shifted} r=ext4-$c l=${c/inplace/in place}
                l=${l/-shifted/ (shifted-chunks)}
                read -r changed blocks _ <<<"${EXT4_CHANGES[$k]}"
                f=$(median <"$T/fetched-$r")
                us=$(med "$r" 1)
                rss=$(med "$r" 2)
                zck=$(stat -c %s "$T/www/ext4-$k/fw.img.zck")
                h=$(ext4_header "$k")
                size=$((EXT4_MIB * 1048576))
                target "$(awk -v f="$f" -v ch="$changed" -v bl="$blocks" -v h="$h" -v size="$size" 'BEGIN { print (100 * f / size <= 200 * ch / bl + 100 * h / size) }')" \
                        "$(awk -v f="$f" -v ch="$changed" -v bl="$blocks" -v h="$h" -v size="$size" -v c="$l" 'BEGIN { printf "ext4 %s (%.2f%% of blocks changed): fetched <= 2 x changed + header: %.2f%% vs %.2f%%", c, 100 * ch / bl, 100 * f / size, 200 * ch / bl + 100 * h / size }')"
                target "$(awk -v f="$f" -v z="$zck" 'BEGIN { print (f < z) }')" \
                        "ext4 $l: fetched below the compressed full image (the zchunk file): $f vs $zck bytes"
                target "$(awk -v us="$us" -v full="$ext4_full_us" 'BEGIN { print (us < full) }')" \
                        "$(awk -v us="$us" -v full="$ext4_full_us" -v c="$l" 'BEGIN { printf "ext4 %s: faster than full staging over loopback: %.3f vs %.3f s", c, us / 1e6, full / 1e6 }')"
                target "$([ "$rss" -le $((ext4_full_rss + 4096)) ] && echo 1 || echo 0)" \
                        "ext4 $l: peak RSS within 4 MiB of full staging: $rss vs $ext4_full_rss KiB"
        done
fi
if [ -n "$SHAPED" ]; then
        shaped_full=$(med shaped-full 1)
        for c in $SHAPED_CASES; do
                us=$(med "shaped-${c/:/-}" 1)
                target "$(awk -v us="$us" -v full="$shaped_full" 'BEGIN { print (us < full) }')" \
                        "$(awk -v us="$us" -v full="$shaped_full" -v c="$c" -v r="$SHAPED_RATE" 'BEGIN { printf "delta %s: faster than full staging over a %s link: %.2f vs %.2f s", c, r, us / 1e6, full / 1e6 }')"
        done
fi
context=
if [ -n "$floor_cpu" ]; then
        context=$(awk -v c="$poll_cpu" -v f="$floor_cpu" 'BEGIN { printf "; %.2f ms of it is the process floor, %.2f ms secfud'"'"'s own work", f / 1000, (c - f) / 1000 }')
fi
# Polls happen inside the running daemon: that is the figure the target is
# about. A --once process also pays for starting and linking its libraries
# (the floor row); it is reported beside it.
if [ "$daemon_checks" -gt 0 ]; then
        target "$(awk -v c="$daemon_check_ms" 'BEGIN { print (c < 5) }')" \
                "up-to-date poll CPU (user+sys) inside the daemon < 5 ms: $daemon_check_ms ms per check; secfud --once costs $(awk -v c="$poll_cpu" 'BEGIN { printf "%.2f", c / 1000 }') ms$context"
else
        target "$([ "$poll_cpu" -lt 5000 ] && echo 1 || echo 0)" \
                "up-to-date poll CPU (user+sys) of secfud --once < 5 ms: median $(awk -v c="$poll_cpu" 'BEGIN { printf "%.2f", c / 1000 }') ms of $POLL_RUNS$context"
fi
[ "$daemon_status" -eq 0 ] || echo "  (note: the idle daemon exited with status $daemon_status on SIGTERM)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$missed" -gt 0 ]; then
        echo "bench: $missed target(s) missed"
        [ -n "${BENCH_STRICT:-}" ] && exit 1
else
        echo "bench: all targets met"
fi
exit 0
