# shellcheck shell=sh
# SPDX-License-Identifier: MIT
# The TAP helpers of every shell test (POSIX sh: sourced by bash and dash
# scripts alike).  One vocabulary:
#
#   ok STATUS DESCRIPTION...    a case: passes when STATUS (an exit status) is 0
#   is GOT WANT DESCRIPTION...  passes when the two strings are equal
#   check DESCRIPTION CMD...    passes when CMD (output discarded) exits 0;
#                               check "..." test "$n" -gt 0 for a condition
#   bounded MAX GOT DESCRIPTION...  passes when GOT is a number (digits, a
#                               decimal point) <= MAX; empty fails
#   skip DESCRIPTION REASON     a case that cannot run here
#   skip_all REASON             the whole script cannot run here (plan 1..0, exit 0)
#   diag TEXT...                a comment line
#   bail REASON                 "Bail out!": the script cannot go on (exit 1)
#   tap_done                    prints the plan; its status is 0 when all passed
#   tap_include FILE [PREFIX]   the cases another process wrote to FILE,
#                               numbered on from here, PREFIX before each
#                               description (comment lines as they are,
#                               its plan left out)
#
# TAP_ON_FAIL, when set, is a command run after every failed case (to show
# the log that explains it).  (printf, not echo: dash's echo would expand
# backslashes.)
#
#   . "$top_srcdir/tests/lib/tap.sh"
#   tap_tmpdir NAME             a work directory $tmp, removed on exit; cd there

_tap_n=0
_tap_failed=0

ok() {
        local status=$1
        shift
        _tap_n=$((_tap_n + 1))
        if [ "$status" -eq 0 ] 2>/dev/null; then
                printf 'ok %d - %s\n' "$_tap_n" "$*"
                return 0
        fi
        printf 'not ok %d - %s\n' "$_tap_n" "$*"
        _tap_failed=$((_tap_failed + 1))
        [ -z "${TAP_ON_FAIL:-}" ] || $TAP_ON_FAIL
        return 0
}

is() {
        local got=$1 want=$2
        shift 2
        if [ "$got" = "$want" ]; then
                ok 0 "$*"
        else
                ok 1 "$*"
                diag "  got '$got', want '$want'"
        fi
}

check() {
        local desc=$1
        shift
        if "$@" >/dev/null 2>&1; then
                ok 0 "$desc"
        else
                ok 1 "$desc"
                diag "  failed: $(printf '%s' "$*" | tr '\n' ' ' | cut -c1-300)"
        fi
}

bounded() {
        local max=$1 got=$2
        shift 2
        if awk -v g="$got" -v m="$max" 'BEGIN { exit !(g ~ /^[0-9]+(\.[0-9]*)?$/ && g + 0 <= m + 0) }'; then
                ok 0 "$*"
        else
                ok 1 "$*"
                diag "  got '$got', want at most $max"
        fi
}

skip() {
        _tap_n=$((_tap_n + 1))
        printf 'ok %d - %s # SKIP %s\n' "$_tap_n" "$1" "$2"
}

skip_all() {
        printf '1..0 # SKIP %s\n' "$*"
        exit 0
}

diag() { printf '# %s\n' "$*"; }

bail() {
        printf 'Bail out! %s\n' "$*"
        _tap_failed=$((_tap_failed + 1))
        exit 1
}

tap_done() {
        echo "1..$_tap_n"
        [ "$_tap_failed" -eq 0 ]
}

tap_include() {
        local line rest
        while IFS= read -r line; do
                case $line in
                "not ok "*)
                        rest=${line#not ok * - }
                        _tap_n=$((_tap_n + 1))
                        _tap_failed=$((_tap_failed + 1))
                        printf 'not ok %d - %s%s\n' "$_tap_n" "${2:-}" "$rest"
                        ;;
                "ok "*)
                        rest=${line#ok * - }
                        _tap_n=$((_tap_n + 1))
                        printf 'ok %d - %s%s\n' "$_tap_n" "${2:-}" "$rest"
                        ;;
                1..*) ;;
                *) printf '%s\n' "$line" ;;
                esac
        done <"$1"
}

tap_tmpdir() {
        tmp=$(mktemp -d "${TMPDIR:-/tmp}/secfu-$1.XXXXXX") || bail "cannot create a temporary directory"
        # shellcheck disable=SC2064  # $tmp is expanded now, on purpose
        trap "rm -rf '$tmp'" EXIT
        trap 'exit 1' INT TERM HUP
        cd "$tmp" || bail "cannot enter $tmp"
}
