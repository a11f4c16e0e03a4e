#!/bin/bash
# The D-Bus interface against a private dbus-daemon configured like the
# system bus plus dbus/org.secfu.Daemon1.conf: every method through busctl
# and secfuctl --dbus, the properties, PropertiesChanged on manager events,
# the policy (nobody may read, not change), secfud's own check behind a
# permissive bus, and life without a bus.  TAP output.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/control-lib.sh
. "$top_srcdir/tests/integration/control-lib.sh"
ctl_require dbus-daemon busctl dbus-monitor runuser timeout
[ "$(id -u)" = 0 ] || {
        echo "1..0 # SKIP needs root (owns the bus name as root, runs clients as nobody)"
        exit 77
}
BUS_PID=
MON_PID=
MON2_PID=
stop_bus() {
        [ -n "$MON2_PID" ] && kill "$MON2_PID" 2>/dev/null
        [ -n "$MON_PID" ] && kill "$MON_PID" 2>/dev/null
        [ -n "$BUS_PID" ] && kill "$BUS_PID" 2>/dev/null
        BUS_PID=
        MON_PID=
}
trap 'stop_bus; ctl_cleanup' EXIT

ctl_setup
POLICY="$top_srcdir/dbus/org.secfu.Daemon1.conf"
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$W/bus.sock"
DEST=org.secfu.Daemon1
OBJ=/org/secfu/Daemon1
IFACE=org.secfu.Daemon1

# start_bus strict|permissive: a private bus on $W/bus.sock. strict is
# the system bus' default policy plus ours; permissive allows everything
# (and leaves our policy out) to reach secfud's own check.
start_bus() {
        local policy
        if [ "$1" = strict ]; then
                policy="<policy context=\"default\">
    <allow user=\"*\"/>
    <deny own=\"*\"/>
    <deny send_type=\"method_call\"/>
    <allow send_type=\"signal\"/>
    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>
    <allow send_requested_reply=\"true\" send_type=\"error\"/>
    <allow receive_type=\"method_call\"/>
    <allow receive_type=\"method_return\"/>
    <allow receive_type=\"error\"/>
    <allow receive_type=\"signal\"/>
    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus\"/>
    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Introspectable\"/>
    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Properties\"/>
  </policy>
  <include>$POLICY</include>"
        else
                policy="<policy context=\"default\">
    <allow user=\"*\"/>
    <allow own=\"*\"/>
    <allow send_destination=\"*\" eavesdrop=\"true\"/>
    <allow eavesdrop=\"true\"/>
  </policy>"
        fi
        cat >"$W/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$W/bus.sock</listen>
  <auth>EXTERNAL</auth>
  $policy
</busconfig>
EOF
        rm -f "$W/bus.sock"
        dbus-daemon --config-file="$W/bus.conf" --fork --print-pid=3 3>"$W/bus.pid" >"$W/bus.log" 2>&1 ||
                return 1
        read -r BUS_PID <"$W/bus.pid"
}

bctl() { timeout 60 busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" "$@"; }
# dcall METHOD [SIGNATURE ARGS...]: the JSON string a method returns
dcall() {
        bctl --json=short call "$DEST" "$OBJ" "$IFACE" "$@" | json_get 'd["data"][0]'
}
prop() { bctl --json=short get-property "$DEST" "$OBJ" "$IFACE" "$1" | json_get 'd["data"]'; }

start_bus strict || bail "dbus-daemon does not start: $(cat "$W/bus.log")"
cond "private bus is up" -S "$W/bus.sock"
ctl_start DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS" || bail "secfud does not start"
cond "secfud took its name on the bus" -n "$(grep -F 'D-Bus interface: org.secfu.Daemon1 on the system bus' "$W/secfud.log")"

# ---------------------------------------------------------------- introspection, properties
intro=$(bctl introspect "$DEST" "$OBJ" "$IFACE")
missing=""
for m in Status Check Apply Cancel Rollback MarkGood MarkBad State BootedSlot RunningVersion AvailableVersion \
        StagedVersion Progress Fetched LastError; do
        grep -qE "^\\.$m " <<<"$intro" || missing="$missing $m"
done
is "$missing" "" "introspection lists every method and property"
cond "Apply takes (s source, b allow_downgrade, b wait, b reboot)" -n "$(grep -E '^\.Apply +method +sbbb +s ' <<<"$intro")"
cond "Progress is (tt)" -n "$(grep -E '^\.Progress +property +\(tt\) ' <<<"$intro")"
is "$(prop State)" idle "property State"
is "$(prop BootedSlot)" A "property BootedSlot"
is "$(prop RunningVersion)" 1.0.0 "property RunningVersion"
is "$(prop AvailableVersion)" "" "property AvailableVersion (none yet)"
is "$(prop StagedVersion)" "" "property StagedVersion (none yet)"
is "$(prop Progress)" "[0, 0]" "property Progress (nothing running)"
is "$(prop LastError)" "" "property LastError (none)"
is "$(prop Fetched)" 0 "property Fetched (no delta running)"

# ---------------------------------------------------------------- methods through busctl
is "$(dcall Status | json_get 'd["state"], d["bootedSlot"]')" "('idle', 'A')" "Status returns the status JSON"
dbus-monitor --address "$DBUS_SYSTEM_BUS_ADDRESS" \
        "type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',path='$OBJ'" \
        >"$W/signals.log" 2>&1 &
MON_PID=$!
sleep 0.5
is "$(dcall Check | json_get 'd["result"], d["version"]')" "('available', '1.1.0')" "Check returns when the check is done"
is "$(prop AvailableVersion)" 1.1.0 "AvailableVersion after Check"
for ((i = 0; i < 50; i++)); do
        grep -q '"AvailableVersion"' "$W/signals.log" && break
        sleep 0.1
done
kill "$MON_PID" 2>/dev/null
wait "$MON_PID" 2>/dev/null
MON_PID=
cond "PropertiesChanged arrives for State" -n "$(grep -A3 'string "State"' "$W/signals.log" | grep 'string "checking"')"
cond "PropertiesChanged arrives for AvailableVersion" -n "$(grep -A3 'string "AvailableVersion"' "$W/signals.log" | grep 'string "1.1.0"')"
cond "PropertiesChanged names interface org.secfu.Daemon1" -n "$(grep 'string "org.secfu.Daemon1"' "$W/signals.log")"

out=$(bctl call "$DEST" "$OBJ" "$IFACE" Apply sbbb "relative/m.jws" false true false 2>&1)
is "$?" 1 "Apply with a relative source fails"
cond "... with InvalidArgs naming the source" -n "$(grep -i 'invalid argument: source' <<<"$out")"
out=$(bctl call "$DEST" "$OBJ" "$IFACE" Cancel 2>&1)
is "$?" 1 "Cancel with nothing running fails"
cond "... saying no operation is running" -n "$(grep 'no operation is running' <<<"$out")"

# ---------------------------------------------------------------- secfuctl --dbus
out=$(timeout 60 "$SECFUCTL" --dbus status)
is "$?" 0 "secfuctl --dbus status"
cond "secfuctl --dbus status: human output" -n "$(grep -E '^available version: +1\.1\.0$' <<<"$out")"
is "$(timeout 60 "$SECFUCTL" --dbus status --json | json_get 'd["availableVersion"]')" 1.1.0 \
        "secfuctl --dbus status --json"
is "$(timeout 60 "$SECFUCTL" --dbus check --json | json_get 'd["result"]')" available "secfuctl --dbus check --json"

fixture_rule /.well-known/firmware/example.com/gw100/fw-1.1.0.img '{"drip": {"bytes": 65536, "interval": 0.1}}' \
        >/dev/null
# Not under timeout(1): it would forward SIGINT with a SIGCONT, and signal
# the monitor again later, while it exits.
"$SECFUCTL" --dbus monitor --json >"$W/dmon.out" 2>"$W/dmon.err" &
dmon=$!
MON2_PID=$dmon
sleep 0.5
out=$(timeout 60 "$SECFUCTL" --dbus apply)
is "$?" 0 "secfuctl --dbus apply"
cond "secfuctl --dbus apply: progress lines from the Progress property" -n "$(grep -E '^downloading: [0-9]+% ' <<<"$out")"
is "$(tail -n 1 <<<"$out")" "1.1.0 staged (from manufacturer); reboot to try it (systemctl reboot)" \
        "secfuctl --dbus apply: result line"
sleep 0.5
kill -INT "$dmon"
wait "$dmon"
is "$?" 0 "secfuctl --dbus monitor exits 0 on SIGINT"
MON2_PID=
"$PY" - "$W/dmon.out" >"$W/dmon.summary" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
first = lines[0]
changed = [l["properties"] for l in lines[1:]]
states = [c["State"] for c in changed if "State" in c]
print(first["event"], first["properties"]["State"], "downloading" in states, states[-1] if states else None,
      any(c.get("Progress", [0, 0])[0] > 0 for c in changed))
EOF
is "$(cat "$W/dmon.summary")" "properties available True staged True" \
        "secfuctl --dbus monitor: the properties, then PropertiesChanged through downloading to staged"
fixture_clear /.well-known/firmware/example.com/gw100/fw-1.1.0.img >/dev/null
is "$(prop StagedVersion)" 1.1.0 "StagedVersion after apply"
is "$(dcall Apply sbbb "" false true false | json_get 'd["result"]')" staged "Apply through busctl (already staged)"
is "$(dcall Apply sbbb "" false false false | json_get 'd["result"]')" started "Apply with wait=false answers at once"
for ((i = 0; i < 100; i++)); do
        [ "$(dcall Status | json_get 'd["busy"]')" = false ] && break
        sleep 0.1
done
out=$(timeout 60 "$SECFUCTL" --dbus apply --reboot --json 2>&1)
is "$(json_get 'd["result"], d["reboot"]' <<<"$out")" "('staged', True)" "secfuctl --dbus apply --reboot: reboot requested"
out=$(cd "$W" && timeout 60 "$SECFUCTL" --dbus apply missing.jws 2>&1)
is "$?" 1 "secfuctl --dbus apply of a missing FILE exits 1"
cond "... naming it by its absolute path" -n "$(grep -F "$W/missing.jws" <<<"$out")"
out=$(timeout 60 "$SECFUCTL" --dbus rollback 2>&1)
is "$?" 1 "secfuctl --dbus rollback without a good other slot exits 1"
is "$(dcall MarkGood | json_get 'd["slot"]')" A "MarkGood through busctl"
is "$(timeout 60 "$SECFUCTL" --dbus mark-good --json | json_get 'd["slot"]')" A "secfuctl --dbus mark-good"
out=$(timeout 60 "$SECFUCTL" --dbus cancel 2>&1)
is "$?" 1 "secfuctl --dbus cancel with nothing running exits 1"

# ---------------------------------------------------------------- the policy
out=$(runuser -u nobody -- env DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS" timeout 60 "$SECFUCTL" --dbus status)
is "$?" 0 "policy: nobody may call Status"
out=$(runuser -u nobody -- busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" --json=short get-property "$DEST" "$OBJ" \
        "$IFACE" State | json_get 'd["data"]')
is "$out" staged "policy: nobody may read the properties"
out=$(runuser -u nobody -- busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" introspect "$DEST" "$OBJ" 2>&1)
is "$?" 0 "policy: nobody may introspect"
out=$(runuser -u nobody -- env DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS" timeout 60 "$SECFUCTL" --dbus \
        check 2>&1)
is "$?" 4 "policy: nobody may not call Check (exit 4)"
cond "policy: refused by the bus" -n "$(grep -i 'permission denied' <<<"$out")"
out=$(runuser -u nobody -- busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" call "$DEST" "$OBJ" "$IFACE" MarkBad 2>&1)
is "$?" 1 "policy: nobody may not call MarkBad through busctl"
is "$(prop State)" staged "nothing changed"

is "$(dcall MarkBad | json_get 'd["slot"], d["next"]')" "('A', 'B')" "MarkBad through busctl (as root)"

# ---------------------------------------------------------------- secfud's own check
ctl_stop
stop_bus
start_bus permissive || bail "the permissive dbus-daemon does not start"
ctl_start DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS" || bail "secfud does not restart"
out=$(runuser -u nobody -- env DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS" timeout 60 "$SECFUCTL" --dbus \
        check 2>&1)
is "$?" 4 "permissive bus: secfud itself refuses Check from nobody (exit 4)"
out=$(runuser -u nobody -- busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" call "$DEST" "$OBJ" "$IFACE" Rollback b false 2>&1)
cond "permissive bus: the error is org.secfu.Daemon1.Error.NotPermitted" \
        -n "$(grep -E 'needs root or membership in the group' <<<"$out")"
cond "permissive bus: the log names method and uid" \
        -n "$(grep -F "denied Check to uid $(id -u nobody)" "$W/secfud.log")"
out=$(runuser -u nobody -- env DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS" timeout 60 "$SECFUCTL" --dbus \
        status --json | json_get 'd["state"]')
is "$out" rolled-back "permissive bus: nobody may still call Status"

# ---------------------------------------------------------------- without a bus
stop_bus
sleep 0.3
is "$(sfctl status --json | json_get 'd["state"]')" rolled-back "secfud keeps serving the socket when the bus goes"
out=$(timeout 60 "$SECFUCTL" --dbus status 2>&1)
is "$?" 3 "secfuctl --dbus without a bus: exit 3"
ctl_stop
ctl_start DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS" || bail "secfud does not start without a bus"
cond "no bus: secfud says so once at info level and goes on" \
        "$(grep -c '<6>D-Bus interface not available' "$W/secfud.log")" -ge 1
is "$(sfctl status --json | json_get 'd["state"]')" rolled-back "no bus: the socket works"

ctl_done
