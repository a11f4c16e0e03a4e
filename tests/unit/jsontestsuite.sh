#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs sfu_json_parse_object() (src/core/json.c) over the parsing cases of
# JSONTestSuite and reports one TAP case per file.  File names say what a
# strict RFC 8259 parser must do:
#   y_*  valid JSON.  With an object at the top level it must be accepted;
#        any other top level must be refused as "not an object", and the
#        same value wrapped as {"v":VALUE} must be accepted.
#   n_*  invalid JSON: must be refused.
#   i_*  implementation-defined: either answer, but no crash; the case
#        description records what secfud does.
# Deliberate exceptions (secfud refuses valid JSON that it never wants in
# signed input; see src/core/json.h):
#   duplicate object keys (RFC 8259 says names SHOULD be unique, and two
#   readers of one manifest must not see two different values), and
#   U+0000 in strings and keys (C strings would be cut short there).
# These y_ files must be refused, and for the stated reason.
#
# Environment: top_srcdir and top_builddir (exported by the test harness;
# derived from the script's place when run by hand), JSONTESTSUITE (the
# JSONTestSuite checkout).
set -u

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$here/../..}"
: "${top_builddir:=$top_srcdir/build}"
# shellcheck source=tests/lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"

# JSONTESTSUITE: a checkout of JSONTestSuite (default: beside the source tree).
suite="${JSONTESTSUITE:-$top_srcdir/../shared/data/JSONTestSuite}/test_parsing"
checker="$top_builddir/tests/unit/json-check"

[ -d "$suite" ] || skip_all "no JSONTestSuite at $suite (set JSONTESTSUITE)"
[ -x "$checker" ] || bail "$checker is not built"
tap_tmpdir jsontestsuite

cd "$suite" || exit 1
ls -1 | LC_ALL=C sort > "$tmp/files"
[ -s "$tmp/files" ] || bail "no files in $suite"

# All files through one process.  Exit 0 or 1 is an answer; anything else
# (a signal, a sanitizer report on stderr) is a crash, and then every file
# runs on its own so that the crashing one is named.
xargs -d '\n' "$checker" < "$tmp/files" > "$tmp/out" 2> "$tmp/err"
status=$?
# xargs reports 123 when an invocation exited with 1..125.
if [ "$status" -ne 0 ] && [ "$status" -ne 123 ] || grep -q . "$tmp/err"; then
        : > "$tmp/out"
        while IFS= read -r f; do
                "$checker" "$f" > "$tmp/out1" 2> "$tmp/err1"
                s=$?
                if [ "$s" -gt 1 ] || [ -s "$tmp/err1" ]; then
                        printf '%s\tcrash\texit status %s: %s\tcrash\t\n' "$f" "$s" \
                                "$(tr '\t\n' '  ' < "$tmp/err1" | cut -c1-200)" >> "$tmp/out"
                else
                        cat "$tmp/out1" >> "$tmp/out"
                fi
        done < "$tmp/files"
fi

# One line "STATUS<tab>DESCRIPTION" per file (STATUS 0: as it must be).
LC_ALL=C awk -F '\t' '
function tap(pass, desc) {
        gsub(/#/, "(hash)", desc)
        printf "%d\t%s\n", pass ? 0 : 1, desc
}
FNR == NR { order[++nfiles] = $0; next }
{ verdict[$1] = $2; reason[$1] = $3; wverdict[$1] = $4; wreason[$1] = $5 }
END {
        # valid JSON that secfud refuses on purpose, and why
        policy["y_object_duplicated_key.json"] = "duplicate object key"
        policy["y_object_duplicated_key_and_value.json"] = "duplicate object key"
        policy["y_object_escaped_null_in_key.json"] = "NUL byte in object key"
        policy["y_string_null_escape.json"] = "u0000 is not allowed"

        for (i = 1; i <= nfiles; i++) {
                f = order[i]
                if (!(f in verdict)) {
                        tap(0, f ": no answer from json-check")
                        continue
                }
                v = verdict[f]; r = reason[f]; wv = wverdict[f]; wr = wreason[f]
                if (v == "crash") {
                        tap(0, f ": json-check crashed (" r ")")
                } else if (f in policy) {
                        why = policy[f]
                        if (v == "accept")
                                tap(0, f ": accepted, but secfud refuses it by policy (" why ")")
                        else if (index(r, "not an object") > 0)
                                tap(wv == "refuse" && index(wr, why) > 0,
                                    f ": refused by policy (" why "), wrapped: " wr)
                        else
                                tap(index(r, why) > 0, f ": refused by policy: " r)
                } else if (f ~ /^y_/) {
                        if (v == "accept")
                                tap(1, f ": accepted")
                        else if (index(r, "not an object") > 0)
                                tap(wv == "accept", f ": refused as not an object; wrapped in an object " \
                                    (wv == "accept" ? "accepted" : "refused: " wr))
                        else
                                tap(0, f ": valid JSON refused: " r)
                } else if (f ~ /^n_/) {
                        tap(v == "refuse", f ": " (v == "refuse" ? "refused: " r : "invalid JSON accepted"))
                } else if (f ~ /^i_/) {
                        tap(v == "accept" || v == "refuse",
                            f ": implementation-defined, secfud " (v == "accept" ? "accepts" : "refuses: " r))
                } else {
                        tap(0, f ": file name does not start with y_, n_ or i_")
                }
        }
}' "$tmp/files" "$tmp/out" >"$tmp/verdicts" || bail "the verdicts could not be computed"
tab=$(printf '\t')
while IFS=$tab read -r status desc; do
        ok "$status" "$desc"
done <"$tmp/verdicts"
tap_done
