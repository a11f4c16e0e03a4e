# shellcheck shell=bash
# shellcheck disable=SC2034  # variables set here are read by the scenarios
# Shared helpers of the system tests (tests/system/*.sh, run by
# tools/check-system.sh): TAP output, clean-up on exit, the packaged
# binaries, signing and publishing, network namespaces.
#
#   . "$(dirname "$0")/lib.sh"
#   sys_init NAME               # work dir $W, cache $SYS_CACHE, traps
#   sys_require_root; sys_require_cmd qemu-system-x86_64 ...
#   sys_pkgroot                 # $PKG: the .deb files unpacked (usr/sbin/secfud ...)
#   ok STATUS "what"; is GOT WANT "what"; tap_done
#
# Every scenario prints TAP ("ok N - ...", a plan at the end) and exits 0
# when all its tests passed.  A failing test prints the scenario's name and
# the tail of its log ($SYS_TAIL_FILE: the serial console of a VM, the log
# of a device), so that the runner's output alone explains a failure.
set -u
SYS_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SYS_CACHE=${SYS_CACHE:-$SYS_TOP/build-system}
SYS_DEB_DIR=${SYS_DEB_DIR:-$SYS_TOP/build-deb}
SYS_NAME=unnamed
SYS_TAIL_FILE=
W=

# ---------------------------------------------------------------- TAP
_tap_n=0
_tap_failed=0
diag() { echo "# $*"; }
ok() { # ok STATUS DESCRIPTION
        local status=$1
        shift
        _tap_n=$((_tap_n + 1))
        if [ "$status" -eq 0 ]; then
                echo "ok $_tap_n - $*"
                return 0
        fi
        echo "not ok $_tap_n - $*"
        _tap_failed=$((_tap_failed + 1))
        diag "scenario $SYS_NAME failed: $*"
        if [ -n "$SYS_TAIL_FILE" ] && [ -f "$SYS_TAIL_FILE" ]; then
                diag "last lines of $SYS_TAIL_FILE:"
                tr -d '\r' <"$SYS_TAIL_FILE" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' | grep -v '^\s*$' | tail -n "${SYS_TAIL_LINES:-25}" |
                        sed 's/^/#   /'
        fi
        return 1
}
is() { # is GOT WANT DESCRIPTION
        local got=$1 want=$2
        shift 2
        if [ "$got" = "$want" ]; then
                ok 0 "$*"
        else
                diag "  got '$got', want '$want'"
                ok 1 "$*"
        fi
}
skip() { # skip DESCRIPTION REASON
        _tap_n=$((_tap_n + 1))
        echo "ok $_tap_n - $1 # SKIP $2"
}
skip_all() {
        echo "1..0 # SKIP $*"
        exit 0
}
tap_done() {
        echo "1..$_tap_n"
        [ "$_tap_failed" -eq 0 ]
}
# bail REASON: a set-up step failed; the scenario cannot go on.
bail() {
        ok 1 "set-up: $*"
        tap_done
        exit 1
}

# ---------------------------------------------------------------- clean-up
_sys_cleanups=()
_sys_pids=()
# sys_on_exit_kill PID...: processes to stop at exit, all at once (SIGTERM,
# SIGKILL for those left after 2 s), before the sys_on_exit commands.
sys_on_exit_kill() {
        _sys_pids+=("$@")
}
# sys_on_exit COMMAND...: run at exit, last registered first.
sys_on_exit() {
        local q
        printf -v q '%q ' "$@"
        _sys_cleanups+=("$q")
}
_sys_exit() {
        local i pid left
        if [ ${#_sys_pids[@]} -gt 0 ]; then
                kill -TERM "${_sys_pids[@]}" 2>/dev/null
                for _ in $(seq 20); do
                        left=()
                        for pid in "${_sys_pids[@]}"; do kill -0 "$pid" 2>/dev/null && left+=("$pid"); done
                        [ ${#left[@]} -eq 0 ] && break
                        sleep 0.1
                done
                [ ${#left[@]} -gt 0 ] && kill -KILL "${left[@]}" 2>/dev/null
                _sys_pids=()
        fi
        for ((i = ${#_sys_cleanups[@]} - 1; i >= 0; i--)); do
                eval "${_sys_cleanups[$i]}" >/dev/null 2>&1 || true
        done
        _sys_cleanups=()
        if [ -n "$W" ] && [ -z "${SYS_KEEP:-}" ]; then
                rm -rf "$W"
        elif [ -n "$W" ]; then
                echo "# kept $W" >&2
        fi
}

# sys_init NAME: the scenario's name, its work directory $W (removed at exit
# unless SYS_KEEP is set), the image cache directory $SYS_CACHE.
sys_init() {
        SYS_NAME=$1
        mkdir -p "$SYS_CACHE" || exit 1
        W=$(mktemp -d "${TMPDIR:-/tmp}/secfu-sys-$SYS_NAME.XXXXXX") || exit 1
        trap _sys_exit EXIT
        trap 'exit 130' INT TERM
        SYS_START=$(date +%s)
}

# ---------------------------------------------------------------- requirements
sys_require_root() {
        [ "$(id -u)" -eq 0 ] || skip_all "needs root (namespaces, mounts, QEMU images)"
}
sys_require_cmd() {
        local c
        for c in "$@"; do
                command -v "$c" >/dev/null 2>&1 || skip_all "$c is not installed"
        done
}
sys_require_netns() {
        local probe=secfu-probe-$$
        ip netns add "$probe" >/dev/null 2>&1 || skip_all "cannot create network namespaces here"
        ip netns del "$probe" >/dev/null 2>&1
        unshare -m true 2>/dev/null || skip_all "cannot create mount namespaces here"
}

# sys_hash FILE|DIR...: one SHA-256 over the contents of files (directories:
# every file under them, sorted by path).
sys_hash() {
        local f
        for f in "$@"; do
                if [ -d "$f" ]; then
                        find "$f" -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
                else
                        sha256sum "$f"
                fi
        done | sed "s|  $SYS_TOP/|  |" | sha256sum | cut -c1-16
}

# ---------------------------------------------------------------- the product
# sys_pkgroot: the Debian packages of this tree (make deb) unpacked into
# $PKG, cached by the packages' hash.  Sets PKG, SECFUD, SECFUCTL,
# SECFU_MANIFEST, SECFUD_DEB.
sys_pkgroot() {
        local deb tool key
        SECFUD_DEB=$(ls "$SYS_DEB_DIR"/secfud_*.deb 2>/dev/null | head -1)
        tool=$(ls "$SYS_DEB_DIR"/secfu-manifest_*.deb 2>/dev/null | head -1)
        [ -n "$SECFUD_DEB" ] && [ -n "$tool" ] || bail "no packages in $SYS_DEB_DIR: run make deb"
        key=$(sys_hash "$SECFUD_DEB" "$tool")
        PKG=$SYS_CACHE/pkgroot-$key
        if [ ! -x "$PKG/usr/sbin/secfud" ]; then
                local tmp
                tmp=$(mktemp -d "$PKG.XXXXXX") || bail "mktemp in $SYS_CACHE"
                for deb in "$SECFUD_DEB" "$tool"; do
                        dpkg-deb -x "$deb" "$tmp" || bail "cannot unpack $deb"
                done
                # another scenario may have unpacked the same packages meanwhile
                mv -T "$tmp" "$PKG" 2>/dev/null || rm -rf "$tmp"
        fi
        SECFUD=$PKG/usr/sbin/secfud
        SECFUCTL=$PKG/usr/bin/secfuctl
        SECFU_MANIFEST=$PKG/usr/bin/secfu-manifest
}

# sys_vendor DIR: the manufacturer's signing key (DIR/factory.key,
# DIR/factory.pub).
sys_vendor() {
        mkdir -p "$1"
        [ -f "$1/factory.key" ] || "$SECFU_MANIFEST" keygen --alg ES256 --out "$1/factory" >/dev/null ||
                bail "secfu-manifest keygen failed"
}

# sys_publish KEYDIR ROOT VERSION IMAGE [manufacturer] [model]: sign a
# manifest for IMAGE and lay out ROOT for a static web server.
sys_publish() {
        local keys=$1 root=$2 version=$3 image=$4 manufacturer=${5:-example.com} model=${6:-gw100}
        local m=$keys/manifest-$version
        "$SECFU_MANIFEST" create --manufacturer "$manufacturer" --model "$model" --version "$version" \
                --image "$image" >"$m.json" &&
                "$SECFU_MANIFEST" sign --key "$keys/factory.key" "$m.json" >"$m.jws" &&
                "$SECFU_MANIFEST" publish --root "$root" "$m.jws" "$image" >/dev/null
}

# sys_certs DIR NAME...: a test CA (DIR/ca.pem) and a server certificate
# DIR/server.pem (+ .key) valid for the DNS names given.
sys_certs() {
        local dir=$1 san="" n
        shift
        for n in "$@"; do san="$san${san:+,}DNS:$n"; done
        mkdir -p "$dir"
        (
                cd "$dir" || exit 1
                openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
                        -keyout ca.key -out ca.pem -subj "/CN=secfu system-test CA" \
                        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
                        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
                                -keyout server.key -out server.csr -subj "/CN=$1" &&
                        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
                                -out server.pem -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n' "$san")
        ) >"$dir/openssl.log" 2>&1 || bail "openssl failed: $(tail -3 "$dir/openssl.log")"
}

# sys_nginx_conf DIR SERVER-BLOCKS: an nginx.conf in DIR (pid, logs and temp
# paths there) whose http block holds SERVER-BLOCKS.  The access log
# line is "HOST METHOD URI STATUS BYTES".
sys_nginx_conf() {
        local dir=$1 servers=$2
        mkdir -p "$dir"
        cat >"$dir/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
user root root;
events { worker_connections 512; }
http {
        log_format brief '\$host \$request_method \$uri \$status \$body_bytes_sent';
        access_log $dir/access.log brief;
        sendfile on;
        default_type application/octet-stream;
        client_body_temp_path $dir/body;
        proxy_temp_path $dir/proxy;
        fastcgi_temp_path $dir/fastcgi;
        uwsgi_temp_path $dir/uwsgi;
        scgi_temp_path $dir/scgi;
$servers
}
CONF
}

# ---------------------------------------------------------------- namespaces
# Names carry the test's pid, so that parallel runs and leftovers of a
# killed run never collide; sys_netns_add registers the removal.
SYS_NS_PREFIX="sfu$$"
sys_netns_add() { # sys_netns_add NAME
        ip netns add "$SYS_NS_PREFIX-$1" || bail "ip netns add $1"
        sys_on_exit ip netns del "$SYS_NS_PREFIX-$1"
        ip -n "$SYS_NS_PREFIX-$1" link set lo up
}
sys_ns() { # sys_ns NAME COMMAND...: run in the namespace
        local ns=$SYS_NS_PREFIX-$1
        shift
        ip netns exec "$ns" "$@"
}
# sys_ns_bg NAME LOG COMMAND...: start COMMAND in the namespace in the
# background, output to LOG; SYS_BG_PID is its pid (`ip netns exec` execs
# the command), stopped at exit.
sys_ns_bg() {
        local ns=$SYS_NS_PREFIX-$1 log=$2
        shift 2
        ip netns exec "$ns" "$@" >"$log" 2>&1 </dev/null &
        SYS_BG_PID=$!
        sys_on_exit_kill "$SYS_BG_PID"
}
# sys_in_ns PID COMMAND...: run COMMAND in the network and mount namespaces
# of process PID, which must not be the test's own network namespace (a
# wrong pid would run a DHCP client on the machine's real interface).
sys_in_ns() {
        local pid=$1
        shift
        if [ ! -e "/proc/$pid/ns/net" ] || [ "$(readlink "/proc/$pid/ns/net")" = "$(readlink /proc/self/ns/net)" ]; then
                echo "sys_in_ns: process $pid is not in a namespace of its own" >&2
                return 99
        fi
        nsenter -t "$pid" -m -n -- "$@"
}
# sys_kill PID: SIGTERM, then SIGKILL after 5 s.
sys_kill() {
        local pid=$1
        kill -0 "$pid" 2>/dev/null || return 0
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
}

# sys_wait_for SECONDS COMMAND...: poll COMMAND every 0.2 s until it
# succeeds; false after SECONDS.
sys_wait_for() {
        local end=$(($(date +%s) + $1))
        shift
        while ! "$@" >/dev/null 2>&1; do
                [ "$(date +%s)" -ge "$end" ] && return 1
                sleep 0.2
        done
}

# sys_json FILE|- EXPR: a value from a JSON document (python3 expression on
# "d"); empty when it is absent.
sys_json() {
        python3 -c 'import json,sys
src = sys.argv[1]
try:
    d = json.load(sys.stdin if src == "-" else open(src))
    v = eval(sys.argv[2], {"d": d})
except Exception:
    v = ""
print("" if v is None else (json.dumps(v) if isinstance(v, (dict, list)) else v))' "$1" "$2"
}

sys_elapsed() { echo $(($(date +%s) - SYS_START)); }
