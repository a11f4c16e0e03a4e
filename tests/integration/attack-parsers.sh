#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: hostile JSON in a correctly signed manifest.  The signature is the
# factory's, so every refusal here is the parsers' (src/core/json.c, jws.c,
# manifest.c) and must name a parse (or size) reason: a sample of the
# invalid documents of JSONTestSuite served as the manifest payload
# (tests/unit/jsontestsuite.sh runs all of them through the parser; here a
# representative sample goes through secfud --once), and hand-made cases on
# the real 1.1.0 manifest: deep nesting, duplicate keys, numbers beyond
# 64 bits, NUL and invalid UTF-8 in strings, byte order marks, trailing
# data; then the same in the protected header and the JSON serialization.
# Nothing may change and no image byte may be requested; the twins are the
# same manifests with the one defect left out, and a nesting depth exactly
# at the limit.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/attack-lib.sh
. "$top_srcdir/tests/integration/attack-lib.sh"
att_require
att_setup

PARSE='manifest: (invalid JSON|JSON document is not an object|JSON nested deeper than)|the JWS payload is empty'

# signed_payload FILE DESCRIPTION PATTERN: FILE's bytes as the payload,
# signed by the factory key, must be refused for PATTERN.
signed_payload() {
        neg "$2" "$3" --payload "$1" --key "$F" --alg ES256
}

# ---------------------------------------------------------------- JSONTestSuite sample
SUITE="$top_srcdir/../shared/data/JSONTestSuite/test_parsing"
if [ -d "$SUITE" ]; then
        for name in n_object_trailing_comma n_object_missing_colon n_object_single_quote n_object_unquoted_key \
                n_object_non_string_key n_object_trailing_comment n_object_with_trailing_garbage \
                n_object_lone_continuation_byte_in_key_and_trailing_comma n_object_emoji n_object_repeated_null_null \
                n_object_bracket_key n_structure_object_followed_by_closing_object \
                n_structure_object_with_trailing_garbage n_structure_open_object n_structure_open_object_open_array \
                n_structure_100000_opening_arrays n_structure_UTF8_BOM_no_data n_structure_null-byte-outside-string \
                n_structure_lone-invalid-utf-8 n_structure_whitespace_U+2060_word_joiner n_string_unescaped_ctrl_char \
                n_string_invalid_utf8_after_escape n_string_1_surrogate_then_escape_u1x n_string_backslash_00 \
                n_number_NaN n_number_with_leading_zero n_number_hex_1_digit n_array_extra_comma n_single_space \
                n_structure_no_data i_structure_500_nested_arrays i_string_UTF-16LE_with_BOM i_number_huge_exp \
                y_object_duplicated_key y_object_duplicated_key_and_value y_string_null_escape; do
                if [ -f "$SUITE/$name.json" ]; then
                        signed_payload "$SUITE/$name.json" "JSONTestSuite $name" "$PARSE|duplicate object key|u0000"
                else
                        skip "JSONTestSuite $name" "not in $SUITE"
                fi
        done
        cp "$SUITE/y_object_basic.json" "$D/y_object_basic.json" 2>/dev/null || echo '{"asd":"sdf"}' >"$D/y_object_basic.json"
        signed_payload "$D/y_object_basic.json" "JSONTestSuite y_object_basic: valid JSON, not a manifest" \
                'manifest has no "manifestVersion"'
else
        skip "JSONTestSuite sample" "../shared/data/JSONTestSuite is not present"
fi

# ---------------------------------------------------------------- hand-made payloads
# Each is the real 1.1.0 manifest with one defect; payloads.tsv lists
# file, pattern, description (the positive twins have pattern "-").
mkdir -p "$D/p"
/usr/bin/python3 - "$P11" "$D/p" >"$D/payloads.tsv" <<'PY'
import json, sys

base = open(sys.argv[1], "rb").read()
out = sys.argv[2]
assert base.startswith(b"{\n") and base.count(b'"firmwareSize": 65536') == 1
cases = []


def case(name, data, pattern, desc):
    open("%s/%s.json" % (out, name), "wb").write(data)
    cases.append((name, pattern, desc))


def member(text):
    """base with TEXT (bytes) as its first member."""
    return b"{\n  " + text + b",\n" + base[2:]


def replace(old, new):
    assert base.count(old) >= 1, old
    return base.replace(old, new, 1)


def size(text):
    return replace(b'"firmwareSize": 65536', b'"firmwareSize": ' + text)


def model(raw):
    return replace(b'"model": "gw100"', b'"model": "gw100' + raw + b'"')


inv = "manifest: invalid JSON"
case("deep-10000", member(b'"x": ' + b"[" * 10000 + b"]" * 10000), "nested deeper than 32", "10000 nested arrays")
case("deep-objects", member(b'"x": ' + b'{"a":' * 5000 + b"1" + b"}" * 5000), "nested deeper than 32",
     "5000 nested objects")
case("deep-33", member(b'"x": ' + b"[" * 32 + b"]" * 32), "nested deeper than 32",
     "nesting depth 33 (the root object and 32 arrays)")
case("dup-version-last", replace(b'  "firmwareVersion": "1.1.0",', b'  "firmwareVersion": "1.1.0",\n  "firmwareVersion": "9.9.9",'),
     inv + ".*duplicate object key", "firmwareVersion twice (1.1.0, then 9.9.9)")
case("dup-version-first", member(b'"firmwareVersion": "0.0.1"'), inv + ".*duplicate object key",
     "firmwareVersion twice (0.0.1, then 1.1.0)")
case("dup-hash", replace(b'"hash": "', b'"hash": "00", "hash": "'), inv + ".*duplicate object key",
     "a commitHash entry with \"hash\" twice")
case("dup-location", member(b'"firmwareLocation": "http://127.0.0.1:9/evil.img"'), inv + ".*duplicate object key",
     "firmwareLocation twice")
case("size-1e400", size(b"1e400"), inv + ".*(overflow|too big)", "firmwareSize 1e400")
case("size-2^64", size(b"18446744073709551616"), inv + ".*too big", "firmwareSize 2^64")
case("size-2^63", size(b"9223372036854775808"), inv + ".*too big", "firmwareSize 2^63")
case("size-5000-digits", size(b"1" + b"0" * 5000), inv + ".*too big", "firmwareSize of 5000 digits")
case("size-negative", size(b"-65536"), '"firmwareSize" is not greater than zero', "firmwareSize -65536")
case("size-zero", size(b"0"), '"firmwareSize" is not greater than zero', "firmwareSize 0")
case("size-real", size(b"65536.0"), '"firmwareSize" is not an integer', "firmwareSize 65536.0")
case("size-exponent", size(b"6.5536e4"), '"firmwareSize" is not an integer', "firmwareSize 6.5536e4")
case("size-string", size(b'"65536"'), '"firmwareSize" is not an integer', 'firmwareSize "65536"')
case("size-nan", size(b"NaN"), inv, "firmwareSize NaN")
case("size-hex", size(b"0x10000"), inv, "firmwareSize 0x10000")
case("nul-escaped", replace(b'"example.com"', b'"example.com\\u0000.evil"'), inv + ".*u0000",
     "\\u0000 in manufacturer")
case("nul-escaped-key", member(b'"firmware\\u0000Version": "9.9.9"'), inv + ".*(u0000|NUL byte)", "\\u0000 in a key")
case("nul-raw", model(b"\x00evil"), "manifest: invalid JSON: NUL byte at offset", "a raw NUL byte in model")
case("nul-after", base + b"\x00" + b'{"firmwareVersion": "9.9.9"}', "manifest: invalid JSON: NUL byte at offset",
     "a NUL byte and a second document after the manifest")
case("utf8-ff", model(b"\xff"), inv, "byte 0xff in model")
case("utf8-overlong", model(b"\xc0\xaf"), inv, "overlong UTF-8 (C0 AF) in model")
case("utf8-overlong-nul", model(b"\xc0\x80"), inv, "overlong NUL (C0 80) in model")
case("utf8-surrogate", model(b"\xed\xa0\x80"), inv, "a UTF-8-encoded surrogate (ED A0 80) in model")
case("utf8-truncated", model(b"\xe2\x82"), inv, "a truncated UTF-8 sequence in model")
case("utf8-continuation", model(b"\x80"), inv, "a lone continuation byte in model")
case("utf8-too-big", model(b"\xf4\x90\x80\x80"), inv, "U+110000 (F4 90 80 80) in model")
case("utf8-in-key", member(b'"mo\xffdel": "x"'), inv, "byte 0xff in a key")
case("escape-lone-surrogate", model(b"\\ud800"), inv + ".*(Unicode|surrogate)", "\\ud800 alone in model")
case("escape-low-surrogate", model(b"\\udc00\\ud800"), inv, "\\udc00\\ud800 in model")
case("ctrl-raw", model(b"\x01"), inv + ".*control character", "a raw control character in model")
case("ctrl-newline", model(b"\n"), inv + ".*(control character|newline)", "a raw newline in model")
case("bom", b"\xef\xbb\xbf" + base, inv, "a UTF-8 byte order mark")
case("utf16", base.decode().encode("utf-16"), "manifest: invalid JSON", "the manifest in UTF-16")
case("trailing-garbage", base + b"x", inv + ".*end of file expected", "a byte after the manifest")
case("two-documents", base + base, inv + ".*end of file expected", "the manifest twice")
case("comment", b"/* firmware */" + base, inv, "a comment before the manifest")
case("single-quotes", replace(b'"model": "gw100"', b"'model': 'gw100'"), inv, "single quotes")
case("trailing-comma", replace(b'"model": "gw100",', b'"model": "gw100",,'), inv, "two commas")
case("array", b"[" + base + b"]", "JSON document is not an object", "the manifest inside an array")
case("string", json.dumps(base.decode()).encode(), "JSON document is not an object", "the manifest as a JSON string")
case("empty-object", b"{}", 'manifest has no "manifestVersion"', "an empty object")
case("long-model", replace(b'"model": "gw100"', b'"model": "gw100' + b"x" * 2000 + b'"'),
     '"model" is longer than 1024 bytes', "a model of 2005 bytes")
case("version-in-exponent", replace(b'"firmwareVersion": "1.1.0"', b'"firmwareVersion": 1.1e0'),
     '"firmwareVersion" is not a string', "firmwareVersion 1.1e0")
case("crit-nul", member(b'"crit": ["firmwareSize\\u0000x"]'), inv + ".*u0000", "crit name with \\u0000")
case("twin-depth-32", member(b'"x": ' + b"[" * 31 + b"]" * 31), "-",
     "twin: nesting depth 32 (the root object and 31 arrays) is accepted")
case("twin-brackets-in-strings", member(b'"x": "' + b"[{" * 100 + b'\\"' + b'"'), "-",
     "twin: 200 brackets and an escaped quote inside a string do not nest")
case("twin-unknown-members", member(b'"x": [1], "y": {"firmwareVersion": "9.9.9"}'), "-",
     "twin: unknown members, a nested object with a firmwareVersion of its own")
case("twin-escapes", replace(b'"model": "gw100"', b'"model": "\\u0067w\\u0031\\u0030\\u0030"'), "-",
     "twin: model spelled with \\u escapes")
case("twin-utf8-elsewhere", member(b'"note": "caf\xc3\xa9 \xf0\x9f\x94\xa5 \\ud83d\\udd25"'), "-",
     "twin: valid UTF-8 and a surrogate pair in an unknown member")
for name, pattern, desc in cases:
    print("%s\t%s\t%s" % (name, pattern, desc))
PY
while IFS=$'\t' read -r -u 3 name pattern desc; do
        if [ "$pattern" = - ]; then
                pos "$desc" --payload "$D/p/$name.json" --key "$F" --alg ES256
        else
                signed_payload "$D/p/$name.json" "$desc" "$pattern"
        fi
done 3<"$D/payloads.tsv"

# A manifest over max-manifest-size (1M): refused while it downloads.
/usr/bin/python3 -c 'import sys; b = open(sys.argv[1], "rb").read(); sys.stdout.buffer.write(b[:-2] + b" " * (1 << 20) + b[-2:])' \
        "$P11" >"$D/p/huge.json"
signed_payload "$D/p/huge.json" "a manifest of 1 MiB + 1 KiB (max-manifest-size = 1M)" 'exceed|limit|too large'

# ---------------------------------------------------------------- the protected header
H="\"kid\":\"$KID\",\"typ\":\"secfu-manifest+jws\""
neg 'protected header {"alg":"none","alg":"ES256"}' 'protected header: invalid JSON.*duplicate object key' \
        "${GOOD[@]}" --protected-json "{\"alg\":\"none\",\"alg\":\"ES256\",$H}"
neg 'protected header {"alg":"ES256","alg":"none"}' 'protected header: invalid JSON.*duplicate object key' \
        "${GOOD[@]}" --protected-json "{\"alg\":\"ES256\",\"alg\":\"none\",$H}"
neg "protected header with kid twice" 'protected header: invalid JSON.*duplicate object key' \
        "${GOOD[@]}" --protected-json "{\"alg\":\"ES256\",\"kid\":\"other\",$H}"
neg "protected header with a trailing comma" 'protected header: invalid JSON' \
        "${GOOD[@]}" --protected-json "{\"alg\":\"ES256\",$H,}"
neg "protected header a JSON array" 'protected header: JSON document is not an object' \
        "${GOOD[@]}" --protected-json "[{\"alg\":\"ES256\",$H}]"
neg "protected header with 2000 nested arrays" 'protected header: JSON nested deeper than 32' \
        "${GOOD[@]}" --protected-json "{\"alg\":\"ES256\",$H,\"x\":$(printf '[%.0s' {1..2000})$(printf ']%.0s' {1..2000})}"
neg "protected header of 9000 bytes" 'protected header exceeds the limit of 8192 bytes' \
        "${GOOD[@]}" --hdr "x=\"$(printf 'x%.0s' {1..9000})\""
neg "protected header with byte 0xff in kid" 'protected header: invalid JSON' \
        "${GOOD[@]}" --protected-json "{\"alg\":\"ES256\",\"kid\":\"\\xff\",\"typ\":\"secfu-manifest+jws\"}"
neg "protected header with a raw NUL" 'protected header: invalid JSON: NUL byte' \
        "${GOOD[@]}" --protected-json "{\"alg\":\"ES256\",$H}\\x00{\"alg\":\"none\"}"
neg "protected header with a byte order mark" 'protected header: invalid JSON' \
        "${GOOD[@]}" --protected-json "\\xef\\xbb\\xbf{\"alg\":\"ES256\",$H}"
neg "protected header with \"alg\" escaped to NUL" 'protected header: invalid JSON.*u0000' \
        "${GOOD[@]}" --protected-json "{\"alg\":\"ES256\\\\u0000none\",$H}"
pos "twin: the protected header written by hand, with \\u escapes" \
        "${GOOD[@]}" --protected-json "{\"\\\\u0061lg\":\"ES\\\\u0032\\\\u00356\",$H}"

# ---------------------------------------------------------------- the serialization
forge --form flattened "${GOOD[@]}" >"$D/flat.jws"
/usr/bin/python3 - "$D/flat.jws" "$D" <<'PY'
import json, sys
flat = json.load(open(sys.argv[1]))
d = sys.argv[2]
p, h, s = flat["payload"], flat["protected"], flat["signature"]
w = lambda name, text: open("%s/%s.jws" % (d, name), "wb").write(text if isinstance(text, bytes) else text.encode())
w("ser-dup-payload", '{"payload":"%s","payload":"%s","protected":"%s","signature":"%s"}' % (p, p[:-4] + "AAAA", h, s))
w("ser-dup-signature", '{"payload":"%s","protected":"%s","signature":"%s","signature":"%s"}' % (p, h, s, s))
w("ser-deep", '{"payload":"%s","protected":"%s","header":{"x":%s%s},"signature":"%s"}' % (p, h, "[" * 5000, "]" * 5000, s))
w("ser-payload-number", '{"payload":1,"protected":"%s","signature":"%s"}' % (h, s))
w("ser-array", '[{"payload":"%s","protected":"%s","signature":"%s"}]' % (p, h, s))
w("ser-bom", b"\xef\xbb\xbf" + json.dumps(flat).encode())
w("ser-nul", json.dumps(flat).encode() + b"\x00garbage")
w("ser-trailing", json.dumps(flat) + ' {"payload":"x"}')
w("ser-jwe", "%s.%s.%s.%s.%s" % (h, "", p[:20], p[20:40], s))
w("ser-4-segments", "%s.%s.%s.%s" % (h, p, s, s))
w("ser-unprotected-not-object", '{"payload":"%s","protected":"%s","header":"x","signature":"%s"}' % (p, h, s))
w("ser-twin-reordered", '{ "signature" : "%s" ,\n "protected":"%s", "payload":"%s"}\n' % (s, h, p))
PY
ser() { # ser NAME DESCRIPTION PATTERN
        att_try "$D/$1.jws"
        att_refused "$IMG11" "$3" "$2"
}
ser ser-dup-payload "JSON serialization with \"payload\" twice" 'JWS: invalid JSON.*duplicate object key'
ser ser-dup-signature "JSON serialization with \"signature\" twice" 'JWS: invalid JSON.*duplicate object key'
ser ser-deep "JSON serialization with 5000 nested arrays in the header" 'JWS: JSON nested deeper than 32'
ser ser-payload-number "JSON serialization with a number as payload" '"payload" is not a string'
ser ser-array "JSON serialization inside an array" 'must be a JSON object'
ser ser-bom "JSON serialization with a byte order mark" '3 segments|JWS: invalid JSON'
ser ser-nul "JSON serialization, a NUL, then more" 'JWS: invalid JSON: NUL byte'
ser ser-trailing "JSON serialization followed by a second document" 'JWS: invalid JSON'
ser ser-jwe "five segments (a JWE)" 'encrypted \(JWE\) and this device has no decryption keys'
ser ser-4-segments "four segments" 'a compact JWS has 3 segments separated by .\.., this has 4'
ser ser-unprotected-not-object "an unprotected header that is a string" 'unprotected "header" is not a JSON object'
att_try "$D/ser-twin-reordered.jws"
staged 1.1.0 "twin: the flattened serialization, members reordered, white space between tokens"
att_daemon_report "twin: the flattened serialization, members reordered"

att_done
