#!/bin/bash
# secfud opens no file for a caller: `secfuctl apply FILE` opens FILE with
# the caller's rights and passes the descriptor (ApplyFile: SCM_RIGHTS on
# the socket, 'h' on D-Bus); Apply with a path is root's alone.  Also what
# the Varlink server does with descriptors it did not ask for (closes
# them, holds at most 4 per connection), the descriptors ApplyFile
# refuses (O_PATH, write-only, not a regular file, too big), that a file
# that is no manifest leaves nothing of itself in lastError, and who the
# D-Bus caller is (the bus's word, groups included).  TAP output.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"
# shellcheck source=tests/integration/control-dev-lib.sh
. "$top_srcdir/tests/integration/control-dev-lib.sh"
dev_require
[ -x "$SECFUCTL" ] || skip_all "$SECFUCTL is not built"
cdev_setup || skip_all "no device"
cdev_group
[ -n "$SECFU_GID" ] || skip_all "no secfu group and no unshare to make one"

# 1.1.0 whose image URL is absolute: a manifest from a file has no base URL.
PAYLOAD_EDIT="m['firmwareLocation'] = '$SERVER$(dev_image_path 1.1.0)'" dev_publish 1.1.0 >/dev/null ||
        cdev_bail "cannot publish 1.1.0"
M11=$D/manifest-1.1.0.jws
chmod 0644 "$M11"
bus_start || cdev_bail "dbus-daemon does not start: $(cat "$D/bus.log")"
cdev_start || cdev_bail "secfud does not start: $(tail -5 "$D/daemon.log")"
NOBODY=$(id -u nobody)

# vsend [-u member|nobody] MESSAGE [FD-SPEC...]: MESSAGE (a JSON call) on
# one connection with the descriptors of FD-SPEC (PATH, opath:PATH,
# wo:PATH, fifo:PATH, dir:PATH, devnull*N) sent with its first byte; prints
# the first reply.
vsend() {
        local who=()
        if [ "$1" = -u ]; then
                case $2 in
                member) who=(setpriv --reuid=nobody --regid=nogroup --groups="$SECFU_GID") ;;
                nobody) who=(setpriv --reuid=nobody --regid=nogroup --clear-groups) ;;
                esac
                shift 2
        fi
        timeout 60 ${who[@]+"${who[@]}"} "$PY" - "$SOCK" "$@" <<'EOF'
import os, socket, sys
path, msg, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
fds = []
for spec in specs:
    kind, _, arg = spec.partition(":")
    if kind == "opath":
        fds.append(os.open(arg, os.O_PATH))
    elif kind == "wo":
        fds.append(os.open(arg, os.O_WRONLY))
    elif kind == "fifo":
        fds.append(os.open(arg, os.O_RDONLY | os.O_NONBLOCK))
    elif kind == "dir":
        fds.append(os.open(arg, os.O_RDONLY | os.O_DIRECTORY))
    elif kind.startswith("devnull*"):
        fds += [os.open("/dev/null", os.O_RDONLY) for _ in range(int(kind[8:]))]
    else:
        fds.append(os.open(spec, os.O_RDONLY))
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.settimeout(50)
data = msg.encode() + b"\0"
if fds:
    socket.send_fds(s, [data], fds)
else:
    s.sendall(data)
buf = b""
while b"\0" not in buf:
    c = s.recv(65536)
    if not c:
        break
    buf += c
print(buf.split(b"\0")[0].decode())
EOF
}
call_json() { # call_json METHOD PARAMETERS-JSON: a Varlink call message
        printf '{"method":"org.secfu.Daemon.%s","parameters":%s}' "$1" "$2"
}
state_now() { ctl status --json | jget 'd["state"], d["stagedVersion"], d["busy"]'; }

# ---------------------------------------------------------------- apply FILE over the socket
dev_snapshot before
out=$(cd "$D" && as_member "$SECFUCTL" -s "$SOCK" apply --json "$(basename "$M11")" 2>&1)
is "$?" 0 "a secfu member: apply of a relative FILE stages it"
is "$(jget 'd["result"], d["version"], d["source"]' <<<"$out")" "('staged', '1.1.0', 'operator')" \
        "... the manifest in the file, from the operator"
check "... through ApplyFile, by the member's uid" grep -qF "ApplyFile started by uid $NOBODY" "$D/daemon.log"
check "... and no path reached secfud" test -z "$(grep -F "$(basename "$M11")" "$D/daemon.log")"
is "$(slot_b_is "$D/img-1.1.0.img" && echo yes)" yes "... slot B holds the 1.1.0 image"
out=$(ctl apply --json "$M11")
is "$(jget 'd["result"]' <<<"$out")" staged "root: apply of an absolute FILE goes through ApplyFile too"

# A file the caller cannot open is never sent.
cp "$M11" "$D/private.jws"
chmod 0600 "$D/private.jws"
n_before=$(grep -c 'ApplyFile' "$D/daemon.log")
out=$(as_member "$SECFUCTL" -s "$SOCK" apply "$D/private.jws" 2>&1)
is "$?" 1 "a member cannot apply a file it cannot read: exit 1"
is "$out" "secfuctl: cannot open $D/private.jws: Permission denied" "... saying why, by its absolute path"
is "$(grep -c 'ApplyFile' "$D/daemon.log")" "$n_before" "... and nothing reached secfud"
out=$(ctl apply "$D/missing.jws" 2>&1)
is "$?" 1 "apply of a missing FILE: exit 1"
out=$(ctl apply "$D" 2>&1)
is "$?" 1 "apply of a directory: exit 1"
is "$out" "secfuctl: $D is not a regular file" "... it is not a regular file"

# ---------------------------------------------------------------- Apply of a path: root's alone
out=$(vsend -u member "$(call_json Apply "{\"source\":\"$M11\"}")")
is "$(jget 'd["error"], d["parameters"]["code"]' <<<"$out")" "('org.secfu.Daemon.NotPermitted', 'denied')" \
        "Apply with a path from a secfu member: NotPermitted (denied)"
check "... the reason says to pass the file" grep -q 'pass the file itself' <<<"$out"
check "... and the log names the caller" grep -qF "denied Apply of the path $M11 to uid $NOBODY" "$D/daemon.log"
out=$(vsend -u member "$(call_json Apply "{\"source\":\"/etc/shadow\"}")")
is "$(jget 'd["parameters"]["code"]' <<<"$out")" denied "Apply of /etc/shadow from a member: denied"
out=$(vsend "$(call_json Apply "{\"source\":\"$M11\"}")")
is "$(jget 'd.get("error"), d["parameters"]["result"]' <<<"$out")" "(None, 'staged')" "Apply with a path from root: taken"
out=$(vsend -u member "$(call_json Apply "{\"source\":\"$SERVER$MANIFEST_PATH\"}")")
is "$(jget 'd.get("error"), d["parameters"]["result"]' <<<"$out")" "(None, 'staged')" \
        "Apply with a URL from a member: taken"

# ---------------------------------------------------------------- the descriptors ApplyFile takes
out=$(vsend "$(call_json ApplyFile '{"fd":0}')")
is "$(jget 'd["error"], d["parameters"]["parameter"]' <<<"$out")" "('org.varlink.service.InvalidParameter', 'fd')" \
        "ApplyFile without a descriptor: InvalidParameter fd"
out=$(vsend "$(call_json ApplyFile '{}')" "$M11")
is "$(jget 'd["error"], d["parameters"]["parameter"]' <<<"$out")" "('org.varlink.service.InvalidParameter', 'fd')" \
        "ApplyFile without the fd parameter: InvalidParameter fd"
out=$(vsend "$(call_json ApplyFile '{"fd":1}')" "$M11" "$M11")
is "$(jget 'd["error"], d["parameters"]["parameter"]' <<<"$out")" "('org.varlink.service.InvalidParameter', 'fd')" \
        "ApplyFile with fd 1: InvalidParameter fd (the index must be 0)"
out=$(vsend "$(call_json ApplyFile '{"fd":0,"wait":true}')" "$M11" devnull*3)
is "$(jget 'd.get("error"), d["parameters"]["result"]' <<<"$out")" "(None, 'staged')" \
        "ApplyFile with the file and three more descriptors: the file is taken"
out=$(vsend -u nobody "$(call_json ApplyFile '{"fd":0}')" "$M11")
is "$(jget 'd["error"], d["parameters"]["code"]' <<<"$out")" "('org.secfu.Daemon.NotPermitted', 'denied')" \
        "ApplyFile from nobody: NotPermitted"

cp "$M11" "$D/root-only.jws"
chmod 0600 "$D/root-only.jws"
out=$(vsend -u member "$(call_json ApplyFile '{"fd":0}')" "opath:$D/root-only.jws")
is "$(jget 'd["parameters"]["code"], d["parameters"]["message"]' <<<"$out")" \
        "('storage', 'the file passed is not open for reading')" \
        "ApplyFile with an O_PATH descriptor of a file the member cannot read: refused"
out=$(vsend "$(call_json ApplyFile '{"fd":0}')" "wo:$D/root-only.jws")
is "$(jget 'd["parameters"]["message"]' <<<"$out")" "the file passed is not open for reading" \
        "ApplyFile with a write-only descriptor: refused"
mkfifo "$D/fifo"
out=$(vsend "$(call_json ApplyFile '{"fd":0}')" "fifo:$D/fifo")
is "$(jget 'd["parameters"]["message"]' <<<"$out")" "the file passed is not a regular file" \
        "ApplyFile with a FIFO: refused"
out=$(vsend "$(call_json ApplyFile '{"fd":0}')" "dir:$D")
is "$(jget 'd["parameters"]["message"]' <<<"$out")" "the file passed is not a regular file" \
        "ApplyFile with a directory: refused"
head -c 1100000 /dev/zero >"$D/big.jws"
out=$(vsend "$(call_json ApplyFile '{"fd":0}')" "$D/big.jws")
is "$(jget 'd["parameters"]["code"]' <<<"$out")" size "ApplyFile with a file over max-manifest-size: size"
is "$(state_now)" "('staged', '1.1.0', False)" "the refused descriptors started nothing"

# ---------------------------------------------------------------- descriptors nobody asked for
sleep 0.3
base=$(fd_count)
out=$(vsend -u nobody "$(call_json Status '{}')" devnull*4)
is "$(jget 'd["parameters"]["state"]' <<<"$out")" staged "Status sent with 4 descriptors is answered"
out=$(vsend -u nobody '{"method":"org.varlink.service.GetInfo"}' devnull*4)
is "$(jget 'd["parameters"]["product"]' <<<"$out")" secfud "GetInfo sent with 4 descriptors is answered"
out=$(vsend -u nobody '{"method":"org.secfu.Daemon.Nope"}' devnull*4)
is "$(jget 'd["error"]' <<<"$out")" org.varlink.service.MethodNotFound "an unknown method sent with descriptors"
out=$(vsend -u nobody 'not json' devnull*4)
is "$(jget 'd["parameters"]["code"]' <<<"$out")" parse "garbage sent with descriptors"
out=$(vsend -u nobody "$(call_json Status '{}')" devnull*40)
is "$(jget 'd["parameters"]["state"]' <<<"$out")" staged "Status sent with 40 descriptors at once is answered"
sleep 0.3
is "$(fd_count)" "$base" "secfud holds no descriptor of those calls afterwards"

# One connection that keeps sending descriptors with the bytes of a call
# it never finishes: secfud holds at most 4 of them.
"$PY" - "$SOCK" "$D/held" <<'EOF' &
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
for i in range(30):
    fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(3)]
    socket.send_fds(s, [b" "], fds)
    for fd in fds:
        os.close(fd)
    time.sleep(0.01)
open(sys.argv[2], "w").write("sent\n")
time.sleep(3)
EOF
holder=$!
wait_until 10 test -s "$D/held"
sleep 0.3
held=$(($(fd_count) - base))
is "$held" 5 "90 descriptors sent with one unfinished call: secfud holds the connection and 4 of them"
wait "$holder"
sleep 0.3
is "$(fd_count)" "$base" "... and none once the connection closed"
check "the log counts what it closed" grep -q 'closed .* descriptor(s) that uid 0 sent' "$D/daemon.log"

# ---------------------------------------------------------------- a file that is no manifest
SECRET=Hunter2xQz9Secret
printf 'root:$6$Sv7rTq2Pz$%sAsDfGhJkL.zXcVbNm/1234:19341:0:99999:7:::\ndaemon:*:19341:0:99999:7:::\n' "$SECRET" \
        >"$D/shadow"
printf '{"user": "admin" "%s": 1}\n' "$SECRET" >"$D/secret.json"
printf '{"%s": 1, "%s": 2}\n' "$SECRET" "$SECRET" >"$D/dup.json"
chown nobody "$D/shadow" "$D/secret.json" "$D/dup.json"
chmod 0600 "$D/shadow" "$D/secret.json" "$D/dup.json"
for f in shadow secret.json dup.json; do
        out=$(as_member "$SECFUCTL" -s "$SOCK" apply "$D/$f" 2>&1)
        is "$?" 1 "a member's $f passed as the manifest: refused (exit 1)"
        check "... the caller hears it is no signed manifest" \
                grep -qE 'manifest passed by the caller: (not a signed manifest|a compact JWS|JWS: invalid JSON)' <<<"$out"
        last=$(as_nobody "$SECFUCTL" -s "$SOCK" status --json | jget 'd["lastError"]')
        check "... lastError, which nobody reads, says so ($last)" grep -q 'manifest passed by the caller' <<<"$last"
        check "... and quotes nothing of the file" test -z "$(grep -o 'Hunter\|2xQz\|9Secret\|Sv7rTq' <<<"$last$out")"
done
check "secfud's log quotes nothing of the files either" test -z "$(grep -o 'Hunter2x\|Qz9Secret\|Sv7rTq' "$D/daemon.log")"

# ---------------------------------------------------------------- D-Bus
DEST=org.secfu.Daemon1
OBJ=/org/secfu/Daemon1
out=$(as_member "$SECFUCTL" --dbus apply --json "$M11")
is "$(jget 'd["result"], d["version"]' <<<"$out")" "('staged', '1.1.0')" "D-Bus: a member's apply FILE (ApplyFile, h)"
out=$(setpriv --reuid=nobody --regid="$SECFU_GID" --clear-groups timeout 60 "$SECFUCTL" --dbus apply --json "$M11" 2>&1)
is "$(jget 'd["result"]' <<<"$out")" staged "D-Bus: secfu as the primary group counts (the bus reports it)"
out=$(as_nobody "$SECFUCTL" --dbus apply "$M11" 2>&1)
is "$?" 4 "D-Bus: nobody's apply FILE is refused (exit 4)"
check "... by secfud's own check" grep -q 'needs root or membership in the group' <<<"$out"
out=$(as_member "$SECFUCTL" --dbus apply "$D/private.jws" 2>&1)
is "$?" 1 "D-Bus: a file the member cannot read is never sent (exit 1)"
out=$(as_member busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" call "$DEST" "$OBJ" "$DEST" Apply sbbb "$M11" false true false 2>&1)
is "$?" 1 "D-Bus: Apply with a path from a member fails"
check "... NotPermitted, saying to pass the file" grep -q 'pass the file itself' <<<"$out"
out=$(cd "$D" && timeout 60 "$SECFUCTL" --dbus apply --json "$(basename "$M11")")
is "$(jget 'd["result"]' <<<"$out")" staged "D-Bus: root's apply of a relative FILE (ApplyFile, h)"
out=$(bctl --json=short call "$DEST" "$OBJ" "$DEST" Apply sbbb "$M11" false true false 2>&1)
is "$(jget 'd["data"][0]' <<<"$out" | jget 'd["result"]')" staged "D-Bus: Apply with a path from root is taken"
check "the bus vouched for the callers' groups (debug log)" \
        grep -qE "D-Bus caller :[0-9.]+: uid $NOBODY, [1-9][0-9]* group\\(s\\) vouched for by the bus\$" "$D/daemon.log"
sleep 0.3
is "$(fd_count)" "$base" "secfud holds no descriptor passed over D-Bus"

cdev_stop
is "$?" 0 "secfud exits cleanly"
check "no sanitizer reports in secfud's log" test -z "$(grep -E 'Sanitizer|runtime error:' "$D/daemon.log")"
tap_done
