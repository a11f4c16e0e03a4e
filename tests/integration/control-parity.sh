#!/bin/bash
# The two control interfaces cannot drift apart: the methods and arguments
# of org.secfu.Daemon1 (D-Bus introspection, from secfud's vtable) are
# those of org.secfu.Daemon (Varlink, GetInterfaceDescription), names
# mapped camelCase <-> snake_case, and the description matches what the
# command table takes (an unknown or wrongly typed parameter of each
# method is refused by name).  The one documented difference: Monitor is
# Varlink's (D-Bus has PropertiesChanged), and a descriptor is the Varlink
# int "fd" (its index among the descriptors sent) and the D-Bus 'h' "file".
# TAP output.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"
# shellcheck source=tests/integration/control-dev-lib.sh
. "$top_srcdir/tests/integration/control-dev-lib.sh"
dev_require
[ -x "$SECFUCTL" ] || skip_all "$SECFUCTL is not built"
cdev_setup || skip_all "no device"
bus_start || cdev_bail "dbus-daemon does not start: $(cat "$D/bus.log")"
cdev_start || cdev_bail "secfud does not start"
on_bus() { bctl status org.secfu.Daemon1 >/dev/null 2>&1; }
wait_until 10 on_bus || cdev_bail "secfud is not on the bus"

bctl introspect --xml-interface org.secfu.Daemon1 /org/secfu/Daemon1 >"$D/dbus.xml" ||
        cdev_bail "cannot introspect org.secfu.Daemon1"

# Python prints one "ok|not ok<TAB>description" line per check.
"$PY" - "$SOCK" "$D/dbus.xml" >"$D/parity.out" <<'EOF'
import json, re, socket, sys
import xml.etree.ElementTree as ET

sock_path, xml_path = sys.argv[1], sys.argv[2]
results = []
def check(cond, what, detail=""):
    results.append(("ok" if cond else "not ok", what + (f" ({detail})" if detail and not cond else "")))

def varlink(method, params=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.settimeout(20)
    msg = {"method": method}
    if params is not None:
        msg["parameters"] = params
    s.sendall(json.dumps(msg).encode() + b"\0")
    buf = b""
    while b"\0" not in buf:
        c = s.recv(65536)
        if not c:
            break
        buf += c
    s.close()
    return json.loads(buf.split(b"\0")[0])

# ---- Varlink: the interface description
desc = varlink("org.varlink.service.GetInterfaceDescription", {"interface": "org.secfu.Daemon"})["parameters"]["description"]
text = re.sub(r"#[^\n]*", "", desc)
def fields(group):
    out = []
    for part in group.split(","):
        part = part.strip()
        if part:
            name, _, typ = part.partition(":")
            out.append((name.strip(), typ.strip()))
    return out
vl_methods = {}
for m in re.finditer(r"method\s+(\w+)\s*\(([^)]*)\)\s*->\s*\(([^)]*)\)", text):
    vl_methods[m.group(1)] = {"in": fields(m.group(2)), "out": fields(m.group(3))}
vl_types = {m.group(1): fields(m.group(2)) for m in re.finditer(r"type\s+(\w+)\s*\(([^)]*)\)", text)}
check(len(vl_methods) >= 9, f"the Varlink description declares {len(vl_methods)} methods")

# ---- D-Bus: the introspection of secfud's vtable
root = ET.parse(xml_path).getroot()
iface = root if root.get("name") == "org.secfu.Daemon1" else root.find("interface[@name='org.secfu.Daemon1']")
db_methods = {}
for m in iface.findall("method"):
    args = m.findall("arg")
    db_methods[m.get("name")] = {
        "in": [(a.get("name"), a.get("type")) for a in args if a.get("direction", "in") == "in"],
        "out": [(a.get("name"), a.get("type")) for a in args if a.get("direction") == "out"],
    }
db_props = [p.get("name") for p in iface.findall("property")]

# ---- the same methods
varlink_only = {"Monitor"}
check(set(vl_methods) - varlink_only == set(db_methods),
      "both interfaces offer the same methods (Monitor is Varlink's: D-Bus has PropertiesChanged)",
      f"Varlink only: {sorted(set(vl_methods) - varlink_only - set(db_methods))}, "
      f"D-Bus only: {sorted(set(db_methods) - set(vl_methods))}")
check(varlink_only <= set(vl_methods), "Varlink has Monitor")

# ---- the same arguments, in the same order
def snake(name):
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)
TYPES = {"bool": "b", "?bool": "b", "string": "s", "?string": "s"}
def dbus_arg(name, typ):
    if name == "fd" and typ.lstrip("?") == "int":
        return ("file", "h")  # a descriptor: its index on Varlink, the descriptor itself on D-Bus
    return (snake(name), TYPES.get(typ, "?" + typ))
for name in sorted(set(vl_methods) & set(db_methods)):
    want = [dbus_arg(n, t) for n, t in vl_methods[name]["in"]]
    got = db_methods[name]["in"]
    check(want == got, f"{name}: the same arguments on both ({', '.join(f'{t} {n}' for n, t in got) or 'none'})",
          f"Varlink says {want}, D-Bus has {got}")
    check(db_methods[name]["out"] and [t for _, t in db_methods[name]["out"]] == ["s"],
          f"{name}: D-Bus answers with the reply's JSON (one string)")

# ---- the D-Bus properties are fields of Status
status_fields = {n for n, _ in vl_methods.get("Status", {"out": []})["out"]}
check(set(vl_types.get("DaemonStatus", [])) == set(vl_methods["Status"]["out"]) if "DaemonStatus" in vl_types else False,
      "Varlink's DaemonStatus type and Status reply list the same fields")
# Fetched is a member of Status's progress (its Varlink type Progress)
NESTED = {"Fetched": ("progress", "Progress", "fetched")}
for p in db_props:
    if p in NESTED:
        field, typ, member = NESTED[p]
        members = [n for n, _ in vl_types.get(typ, [])]
        check(field in status_fields and member in members, f"D-Bus property {p} is Status's {field}.{member}")
        continue
    field = p[0].lower() + p[1:]
    check(field in status_fields, f"D-Bus property {p} is Status's {field}")
check("rollbackFloor" in status_fields, "Status declares rollbackFloor")
live = varlink("org.secfu.Daemon.Status")["parameters"]
check(set(live) == status_fields, "Status answers exactly the fields its description declares",
      f"extra {sorted(set(live) - status_fields)}, missing {sorted(status_fields - set(live))}")

# ---- the description is what the command table takes
WRONG = {"bool": "yes", "string": 1, "int": "zero"}
for name, m in sorted(vl_methods.items()):
    r = varlink("org.secfu.Daemon." + name, {"noSuchParameter": True})
    check(r.get("error") == "org.varlink.service.InvalidParameter" and r["parameters"].get("parameter") == "noSuchParameter",
          f"{name}: secfud knows the method and refuses an undeclared parameter", json.dumps(r))
    for pname, ptype in m["in"]:
        r = varlink("org.secfu.Daemon." + name, {pname: WRONG[ptype.lstrip("?")]})
        check(r.get("error") == "org.varlink.service.InvalidParameter" and r["parameters"].get("parameter") == pname,
              f"{name}: secfud takes {pname} as {ptype.lstrip('?')}", json.dumps(r))

for status, what in results:
    print(f"{status}\t{what}")
EOF
[ -s "$D/parity.out" ] || cdev_bail "the comparison did not run"
while IFS=$'\t' read -r status what; do
        [ "$status" = ok ]
        ok $? "$what"
done <"$D/parity.out"

cdev_stop
is "$?" 0 "secfud exits cleanly"
tap_done
