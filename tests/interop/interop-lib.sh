# shellcheck shell=sh
# shellcheck disable=SC2034  # SM, CT, PY, HELPER, DATA, ALGS, *_CT are for the sourcing test
# SPDX-License-Identifier: MIT
# Shared by tests/interop/*.sh (sourced, not a test itself): the TAP
# helpers, the secfu-manifest of the build tree, a work directory, and the
# verdicts on one run of a command.
#
#   top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
#   . "$top_srcdir/tests/interop/interop-lib.sh"
#   interop_start NAME [PROG]   # bail unless PROG (secfu-manifest) is built; cd $tmp
#   run "$SM" verify ...        # stdout in $tmp/out, stderr in $tmp/err, status in $rc
#   check "what" accepted       # or cli_refused CMD [RC], verify_refused, cose_refused WHY
#
# Without the harness's top_builddir, the build tree is $top_srcdir/build
# (where `make` builds).
: "${top_builddir:=$top_srcdir/build}"
SM="$top_builddir/secfu-manifest"
CT="$top_builddir/tests/unit/cose-tool" # our COSE side, until secfu-manifest has COSE verbs
PY=/usr/bin/python3
HELPER="$top_srcdir/tests/interop/jwcrypto-helper.py"
DATA="$top_srcdir/tests/data"
ALGS="ES256 ES384 ES512 EdDSA RS256 RS384 RS512 PS256 PS384 PS512"
CBOR_CT=application/secfu-manifest+cbor # COSE content types
JSON_CT=application/secfu-manifest+json
# shellcheck source=tests/lib/tap.sh
. "$top_srcdir/tests/lib/tap.sh"

# A failed case shows the start of what the last run printed.
_interop_show_run() {
        for f in out err; do
                [ -s "$tmp/$f" ] && sed -n '1,5s/^/# '"$f"': /p' "$tmp/$f"
        done
        return 0
}
TAP_ON_FAIL=_interop_show_run

interop_start() {
        [ -x "${2:-$SM}" ] || bail "${2:-$SM} has not been built (make builds it, make check the test tools)"
        tap_tmpdir "$1"
}

# interop_manifest VERSION: a random image fw.img and its manifest m.json.
interop_manifest() {
        head -c 65536 /dev/urandom >fw.img
        "$SM" create --manufacturer example.com --model gw100 --version "$1" --image fw.img >m.json 2>err ||
                bail "secfu-manifest create failed: $(cat err)"
}

# run CMD...: stdout to $tmp/out, stderr to $tmp/err, status in rc.
run() {
        "$@" >"$tmp/out" 2>"$tmp/err"
        rc=$?
}
# accepted [FILE]: the last run exited 0 and printed FILE (m.json) byte for byte.
accepted() { [ "$rc" = 0 ] && cmp -s "$tmp/out" "${1:-$tmp/m.json}"; }
# cli_refused CMD [RC]: the last run failed (with status RC when given),
# printed nothing on stdout and exactly one line "secfu-manifest: CMD: ..."
# on stderr.
cli_refused() {
        if [ $# -gt 1 ]; then [ "$rc" -eq "$2" ]; else [ "$rc" -ne 0 ]; fi &&
                [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "^secfu-manifest: $1: ." "$tmp/err"
}
# verify_refused: cli_refused verify, and not merely because the file to
# verify was never made.
verify_refused() { cli_refused verify && ! grep -q 'cannot open' "$tmp/err"; }
# cose_refused WHY: the last run was refused by us: exit 1, nothing on
# stdout, one reason line naming WHY.
cose_refused() {
        [ "$rc" = 1 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" = 1 ] &&
                grep -q "^cose-tool: verify: .*$1" "$tmp/err"
}
