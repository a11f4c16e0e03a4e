#!/bin/bash
# Bundles (doc/bundle.md): a signed manifest and its images in one file.
#  - staged end to end from the well-known path, from a URL and from a
#    file given to secfuctl apply; the manifest's image locations are never
#    asked for, the images come as one Range of the bundle each;
#  - resume with Range within a bundle, If-Range with the bundle's ETag, a
#    server that ignores ranges, a bundle replaced between attempts;
#  - the signed-image attack class: truncated header, lying lengths,
#    trailing garbage, images longer or shorter than declared, a manifest
#    swapped for another validly signed one, a bundle swapped on the server;
#  - what is refused for a manifest is refused for the same manifest in a
#    bundle, with the same line.
# The bundles are written by tests/lib/bundle.py from the format's
# description, not by secfu-manifest.  A refusal before the manifest passed
# leaves slot B as it was (nothing written) and the device unchanged.
. "$top_srcdir/tests/integration/lib.sh"
dev_require
BUNDLE="/usr/bin/python3 $top_srcdir/tests/lib/bundle.py"

dev_setup
cp "$(dev_manifest 1.1.0)" "$D/j1.jws"
J=$D/j1.jws
IMG=$D/img-1.1.0.img
WK=$MANIFEST_PATH
$BUNDLE "$D/good.sfu" "$J" "$IMG"
BSIZE=$(stat -c %s "$D/good.sfu")
JLEN=$(stat -c %s "$J")
BASE=$((24 + JLEN))

fresh() {
        rm -rf "$D/state" && mkdir -p "$D/state"
        printf 'BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n' >"$D/bootenv"
        truncate -s 0 "$D/slot-b" && truncate -s 8388608 "$D/slot-b"
        fixture_reset >/dev/null
}
# range_of N: the Range header of request N (0-based) of the well-known path
range_of() { fixture_header "$WK" Range "$1"; }
# slot_b_blank: slot B still holds only zeros (nothing was written)
slot_b_blank() { cmp -s "$D/slot-b" <(head -c 8388608 /dev/zero); }
# try_wk DESCRIPTION PATTERN: serve $D/x.sfu at the well-known path, expect a refusal before any image byte
try_wk() {
        fresh
        dev_install_manifest "$D/x.sfu"
        dev_snapshot s
        secfud_once
        refused s "" "$2" "$1"
        slot_b_blank
        ok $? "$1: nothing was written to slot B"
        is "$(fixture_count "$WK")" 1 "$1: the bundle was asked for once (its head), no image range"
}

# ---------------------------------------------------------------- staged
fresh
dev_install_manifest "$D/good.sfu"
secfud_once
staged 1.1.0 "bundle at the well-known path"
is "$(fixture_count "$(dev_image_path 1.1.0)")" 0 "bundle: the manifest's image location is never asked for"
is "$(range_of 0)" "" "bundle: the head is one plain GET"
is "$(range_of 1)" "bytes=$BASE-$((BSIZE - 1))" "bundle: the image is one Range of the bundle"
ok $([ -n "$(fixture_header "$WK" If-Range 1)" ] && echo 0 || echo 1) "bundle: the image range carries If-Range"
is "$(state_field "s['newestSeen']['format']")" "JWS (compact)" "bundle: status names the manifest's form"

# with the bundle's own media type
fresh
fixture_rule "$WK" '{"headers": {"Content-Type": "application/vnd.secfu.image"}}' >/dev/null
secfud_once
staged 1.1.0 "bundle served as application/vnd.secfu.image"

# two images in the manifest's order (split firmware)
fresh
dev_image 1.1.0-boot 65536 >/dev/null
"$SECFU_MANIFEST" create --manufacturer example.com --model gw100 --version 1.1.0 \
        --image "$IMG=fw-1.1.0.img" --slot-class rootfs --image "$D/img-1.1.0-boot.img=boot.img" --slot-class boot \
        --name boot >"$D/two.json" 2>"$D/err" || diag "$(cat "$D/err")"
"$SECFU_MANIFEST" sign --key "$D/factory.key" "$D/two.json" >"$D/two.jws"
$BUNDLE "$D/two.sfu" "$D/two.jws" "$IMG" "$D/img-1.1.0-boot.img"
truncate -s 131072 "$D/boot-a" "$D/boot-b"
EXTRA_CONF="
[slot.boot.0]
device = $D/boot-a
bootname = A
[slot.boot.1]
device = $D/boot-b
bootname = B"
dev_write_config
dev_install_manifest "$D/two.sfu"
secfud_once
staged 1.1.0 "two-image bundle"
cmp -s -n 65536 "$D/img-1.1.0-boot.img" "$D/boot-b"
ok $? "two-image bundle: the second image is in its own slot"
EXTRA_CONF=""
dev_write_config

# ---------------------------------------------------------------- resume
# The image range breaks after 1 MiB; the retry asks for the rest only.
fresh
dev_install_manifest "$D/good.sfu"
fixture_rule "$WK" '{"once": true}' >/dev/null
fixture_rule_append "$WK" '{"truncate_at": 1048576, "once": true}' >/dev/null
secfud_once
staged 1.1.0 "bundle, transfer broken in the image"
R=$(range_of 2)
START=${R#bytes=}
START=${START%-*}
ok $([ "$START" -gt "$BASE" ] && [ "${R#*-}" = $((BSIZE - 1)) ] && echo 0 || echo 1) \
        "bundle resume: the retry asks for bytes=$START-$((BSIZE - 1)), after the first MiB ($R)"

# A server that ignores ranges: the whole bundle, its head compared, the image taken from its offset.
fresh
fixture_rule "$WK" '{"range": "ignore"}' >/dev/null
secfud_once
staged 1.1.0 "bundle from a server that ignores Range"

# The image was already there once and the server sends another ETag: If-Range brings the whole bundle.
fresh
fixture_rule "$WK" '{"once": true}' >/dev/null
fixture_rule_append "$WK" '{"etag": "\"other\""}' >/dev/null
secfud_once
staged 1.1.0 "bundle whose ETag changed between head and image (same bytes)"

# break_cycle: a cycle whose image range breaks after 1 MiB and whose
# server then asks for a day's pause: the cycle fails and keeps resume data.
break_cycle() {
        fixture_reset >/dev/null
        fixture_rule "$WK" '{"once": true}' >/dev/null
        fixture_rule_append "$WK" '{"truncate_at": 1048576, "once": true}' >/dev/null
        fixture_rule_append "$WK" '{"status": 503, "retry_after": 86400}' >/dev/null
        secfud_once
        ok $([ "$ONCE_STATUS" -ne 0 ] && echo 0 || echo 1) "$1: the broken cycle fails"
        ok $([ "$(state_field "(s.get('resume') or {}).get('offset', 0)")" -gt 0 ] && echo 0 || echo 1) \
                "$1: the broken cycle keeps resume data"
        fixture_reset >/dev/null
}
# The same bundle in the next cycle resumes where the slot's bytes end.
fresh
break_cycle "same bundle"
secfud_once
staged 1.1.0 "same bundle, next cycle"
is "$(range_of 1)" "bytes=$((BASE + 1048576))-$((BSIZE - 1))" "same bundle: the next cycle resumes after the first MiB"
# A re-signed bundle (another manifest, same image) restarts at the image's first byte.
fresh
break_cycle "re-signed bundle"
cp "$(dev_manifest 1.1.0)" "$D/j2.jws" # ES256 signatures differ each time
$BUNDLE "$D/resigned.sfu" "$D/j2.jws" "$IMG"
dev_install_manifest "$D/resigned.sfu"
secfud_once
staged 1.1.0 "re-signed bundle after a broken cycle"
if cmp -s "$J" "$D/j2.jws"; then
        skip "re-signed bundle restarts" "the re-signed manifest came out identical"
else
        is "$(range_of 1)" "bytes=$((24 + $(stat -c %s "$D/j2.jws")))-$(($(stat -c %s "$D/resigned.sfu") - 1))" \
                "re-signed bundle: a changed header or manifest restarts the image at its first byte"
fi
dev_install_manifest "$D/good.sfu"

# ---------------------------------------------------------------- from a URL and a file (secfuctl apply)
fresh
mkdir -p "$WWW/bundles"
cp "$D/good.sfu" "$WWW/bundles/fw-1.1.0.sfu"
rm -f "$WWW$WK"
dev_daemon_start
dev_ctl apply "$SERVER/bundles/fw-1.1.0.sfu" >"$D/out" 2>&1
is "$?" 0 "secfuctl apply URL of a bundle succeeds"
slot_b_is "$IMG"
ok $? "apply URL: slot B holds the image"
is "$(fixture_header /bundles/fw-1.1.0.sfu Range 1)" "bytes=$BASE-$((BSIZE - 1))" "apply URL: the image is one Range"
dev_daemon_stop
fresh
dev_daemon_start
dev_ctl apply "$D/good.sfu" >"$D/out" 2>&1
is "$?" 0 "secfuctl apply FILE of a bundle succeeds"
slot_b_is "$IMG"
ok $? "apply FILE: slot B holds the image"
is "$(state_field "s['slots']['B']['health']")" staged "apply FILE: slot B is staged"
is "$(fixture_stat requests)" 0 "apply FILE: nothing asked of any server"
# a file whose images do not add up is refused before a byte is written
$BUNDLE "$D/x.sfu" "$J" "$IMG" --trailing 7
fresh
dev_snapshot s
dev_ctl apply "$D/x.sfu" >"$D/out" 2>&1
ok $([ $? -ne 0 ] && echo 0 || echo 1) "apply FILE with trailing garbage: refused"
grep -q "its header says" "$D/out"
ok $? "apply FILE with trailing garbage: the reason ($(head -c 200 "$D/out"))"
slot_b_blank
ok $? "apply FILE with trailing garbage: nothing was written to slot B"
dev_unchanged s "apply FILE with trailing garbage"
dev_daemon_stop
cp "$D/good.sfu" "$WWW$WK"

# ---------------------------------------------------------------- the attack class
$BUNDLE "$D/x.sfu" "$J" "$IMG" --cut 16
try_wk "truncated header (16 bytes)" "bundle header truncated"
$BUNDLE "$D/x.sfu" "$J" "$IMG" --version 2
try_wk "format version 2" "bundle format version 2 is not supported"
$BUNDLE "$D/x.sfu" "$J" "$IMG" --header-len 32
try_wk "header length 32" "bundle header length is 32"
$BUNDLE "$D/x.sfu" "$J" "$IMG" --manifest-len 0
try_wk "manifest length 0" "manifest length 0 is outside"
$BUNDLE "$D/x.sfu" "$J" "$IMG" --manifest-len 4194305
try_wk "manifest length beyond the format's bound" "manifest length 4194305 is outside"
$BUNDLE "$D/x.sfu" "$J" "$IMG" --manifest-len 2000000
try_wk "manifest length beyond max-manifest-size" "more than max-manifest-size"
$BUNDLE "$D/x.sfu" "$J" "$IMG" --manifest-len $((JLEN + 10))
try_wk "manifest length 10 bytes too long" "its header says"
$BUNDLE "$D/x.sfu" "$J" "$IMG" --manifest-len $((JLEN - 10))
try_wk "manifest length 10 bytes too short" "its header says"
$BUNDLE "$D/x.sfu" "$J" "$IMG" --images-len $(($(stat -c %s "$IMG") + 1))
try_wk "image length one byte more than the file" "its header says"
$BUNDLE "$D/x.sfu" "$J" "$IMG" --images-len 18446744073709551615
try_wk "image length 2^64-1" "impossible"
$BUNDLE "$D/x.sfu" "$J" "$IMG" --trailing 100
try_wk "trailing garbage after the images" "its header says"
$BUNDLE "$D/x.sfu" "$J" "$IMG" --cut $((BSIZE - 1000))
try_wk "file cut in the image" "its header says"
$BUNDLE "$D/x.sfu" "$J" "$IMG" --cut $((BASE - 5))
try_wk "file cut in the manifest" "its header says|truncated"
head -c 100 /dev/urandom >>"$D/long.img"
cat "$IMG" "$D/long.img" >"$D/long.img.2"
$BUNDLE "$D/x.sfu" "$J" "$D/long.img.2"
try_wk "image 100 bytes longer than the manifest says" "header says [0-9]+ image bytes, its manifest"
head -c $(($(stat -c %s "$IMG") - 100)) "$IMG" >"$D/short.img"
$BUNDLE "$D/x.sfu" "$J" "$D/short.img"
try_wk "image 100 bytes shorter than the manifest says" "header says [0-9]+ image bytes, its manifest"
$BUNDLE "$D/x.sfu" "$J" "$IMG" --magic 8953465500000000
try_wk "broken magic (so: not a bundle, and too large for a manifest)" "exceeds the limit"
fixture_rule "$WK" '{"headers": {"Content-Type": "application/vnd.secfu.image"}}' >/dev/null
cp "$J" "$D/x.sfu"
dev_install_manifest "$D/x.sfu"
dev_snapshot s
secfud_once
refused s "" "served as a bundle" "a plain manifest served as application/vnd.secfu.image"
fixture_reset >/dev/null

# the manifest swapped for another validly signed one: the image's digests decide, before the switch
fresh
J3=$(dev_manifest 1.2.0)
$BUNDLE "$D/x.sfu" "$J3" "$IMG"
dev_install_manifest "$D/x.sfu"
dev_snapshot s
secfud_once
refused s "" "mismatch" "a validly signed 1.2.0 manifest over the 1.1.0 image"
is "$(state_field "s['slots']['B']['health']")" bad "swapped manifest: slot B is marked bad, not staged"

# the bundle swapped on the server between its head and its image
fresh
$BUNDLE "$WWW/other.sfu" "$J3" "$D/img-1.2.0.img"
dev_install_manifest "$D/good.sfu"
fixture_rule "$WK" '{"swap_after": {"bytes": 0, "with": "other.sfu"}, "once": true}' >/dev/null
dev_snapshot s
secfud_once
refused s "" "changed on the server after its manifest was checked" "bundle swapped on the server after its head"
# the same head with other image bytes
cp "$D/good.sfu" "$WWW/other.sfu"
printf 'XXXX' | dd of="$WWW/other.sfu" bs=1 seek=$((BASE + 4096)) conv=notrunc 2>/dev/null
fresh
fixture_rule "$WK" '{"swap_after": {"bytes": 0, "with": "other.sfu"}, "once": true}' >/dev/null
dev_snapshot s
secfud_once
refused s "" "mismatch" "bundle whose image bytes changed on the server after its head"

# ---------------------------------------------------------------- the same line as for the manifest
# same_line DESCRIPTION MANIFEST [IMAGE]: refused alone and in a bundle, with the same reason.
same_line() {
        fresh
        dev_install_manifest "$2"
        secfud_once
        once_errors | head -n 1 | sed 's/^<[0-9]>//; s/ (device time [^)]*)//' >"$D/alone"
        fresh
        $BUNDLE "$D/x.sfu" "$2" "${3:-$IMG}"
        dev_install_manifest "$D/x.sfu"
        dev_snapshot s
        secfud_once
        refused s "" "." "$1 in a bundle"
        once_errors | head -n 1 | sed 's/^<[0-9]>//; s/ (device time [^)]*)//' >"$D/bundled"
        ok $([ -s "$D/alone" ] && cmp -s "$D/alone" "$D/bundled" && echo 0 || echo 1) \
                "$1: the same line alone and in a bundle ($(cat "$D/bundled"))"
}
same_line "signed by an untrusted key" "$(KEY=attacker dev_manifest 1.1.0)"
same_line "another model" "$(MODEL=gw200 dev_manifest 1.1.0)"
same_line "a downgrade" "$(dev_manifest 0.9.0)"
same_line "expired" "$(dev_manifest 1.1.0 --timestamp 2020-01-01T00:00:00Z --expires 2020-06-01T00:00:00Z)"
same_line "an image larger than the slot" "$(SIZE=9000000 dev_manifest 1.3.0)" "$D/img-1.3.0.img"

tap_done
