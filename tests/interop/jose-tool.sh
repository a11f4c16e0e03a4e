#!/bin/sh
# SPDX-License-Identifier: MIT
# TAP: JWS interoperability with the `jose` command line tool (José), for
# every algorithm of ours that `jose alg` lists, in both directions, compact
# and JSON; keys move between the tools as JWK files.  Algorithms jose
# lacks are reported as skipped, naming the algorithm.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build}
SM="$top_builddir/secfu-manifest"
PY=/usr/bin/python3
HELPER="$top_srcdir/tests/interop/jwcrypto-helper.py"
ALGS="ES256 ES384 ES512 EdDSA RS256 RS384 RS512 PS256 PS384 PS512"
TYP_TEMPLATE='{"protected":{"typ":"secfu-manifest+jws"}}'

if ! command -v jose >/dev/null 2>&1; then
        echo "1..0 # SKIP the jose tool is not installed (apt-get install jose)"
        exit 0
fi
if [ ! -x "$SM" ]; then
        echo "Bail out! $SM has not been built"
        exit 1
fi
# Our PEM keys become JWK for jose through jwcrypto; without it that
# direction is skipped (jose has no PEM import).
have_jwcrypto=no
"$PY" -c 'import jwcrypto' >/dev/null 2>&1 && have_jwcrypto=yes

tmp=$(mktemp -d "${TMPDIR:-/tmp}/secfu-jose.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
cd "$tmp" || exit 1

n=0
failures=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - # SKIP $1"; }
fail() {
        n=$((n + 1)); failures=$((failures + 1)); echo "not ok $n - $1"
        for f in out err; do
                [ -s "$tmp/$f" ] && sed -n '1,5s/^/# '"$f"': /p' "$tmp/$f"
        done
        return 0
}
check() { desc=$1; shift; if "$@"; then pass "$desc"; else fail "$desc"; fi; }
run() { "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
accepted() { [ "$rc" = 0 ] && cmp -s "$tmp/out" "$tmp/m.json"; }
refused() {
        [ "$rc" != 0 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" = 1 ] &&
                grep -q '^secfu-manifest: verify: .' "$tmp/err" && ! grep -q 'cannot open' "$tmp/err"
}
# Input for jose: jose reads a JWS file strictly, so a trailing newline
# (which secfu-manifest prints and our parser accepts) makes it fail; and
# jose takes an -i argument with two dots for a compact JWS rather than a
# file name, so the copy is named without dots: FILE a.b.c -> a_b_c_jose.
jose_input() { echo "$1" | tr . _ | sed 's/$/_jose/'; }
strip_newline() { printf '%s' "$(cat "$1")" >"$(jose_input "$1")"; }
# jose_verified FILE PUB.jwk: jose verifies and outputs exactly the manifest.
jose_verified() {
        [ -s "$1" ] && strip_newline "$1" &&
                jose jws ver -i "$(jose_input "$1")" -k "$2" -O jose_out 2>"$tmp/err" && cmp -s jose_out m.json
}
# protected_typ FILE: typ in the protected header of a flattened JSON JWS, read by jose fmt.
protected_typ() { strip_newline "$1" && jose fmt -j "$(jose_input "$1")" -g protected -y -g typ -u- 2>/dev/null; }

jose alg >algs.txt 2>/dev/null
jose_version=$(dpkg-query -W -f '${Version}' jose 2>/dev/null)
jose_has() { grep -qx "$1" algs.txt; }

head -c 65536 /dev/urandom >fw.img
if ! "$SM" create --manufacturer example.com --model gw100 --version 2.7.18 --image fw.img >m.json 2>err; then
        echo "Bail out! secfu-manifest create failed: $(cat err)"
        exit 1
fi

for alg in $ALGS; do
        if ! jose_has "$alg"; then
                why="jose ${jose_version:-(unknown version)} does not implement $alg ('jose alg' does not list it)"
                skip "$alg secfu-manifest -> jose: $why"
                skip "$alg jose -> secfu-manifest: $why"
                skip "$alg jose JWK -> secfu-manifest sign -> jose: $why"
                continue
        fi

        # secfu-manifest signs with its own key; jose verifies with the
        # public key converted to JWK.
        if [ "$have_jwcrypto" = yes ]; then
                if "$SM" keygen --alg "$alg" --out "s-$alg" >/dev/null 2>err &&
                        "$SM" sign --key "s-$alg.key" --alg "$alg" m.json >"s-$alg.compact" 2>err &&
                        "$SM" sign --key "s-$alg.key" --alg "$alg" --json m.json >"s-$alg.json" 2>err &&
                        "$PY" "$HELPER" pem2jwk "s-$alg.pub" "$alg" >"s-$alg.pub.jwk" 2>err; then
                        if jose_verified "s-$alg.compact" "s-$alg.pub.jwk" && jose_verified "s-$alg.json" "s-$alg.pub.jwk" &&
                                [ "$(protected_typ "s-$alg.json")" = secfu-manifest+jws ]; then
                                pass "$alg secfu-manifest -> jose: compact and JSON verify, payload identical, typ kept"
                        else
                                fail "$alg secfu-manifest -> jose: compact and JSON verify, payload identical, typ kept"
                        fi
                else
                        fail "$alg secfu-manifest -> jose: keygen, sign or key conversion failed"
                fi
        else
                skip "$alg secfu-manifest -> jose: python3-jwcrypto (for PEM -> JWK) is not installed"
        fi

        # jose makes the key and signs (typ through the signature
        # template); secfu-manifest verifies with jose's public JWK.
        if jose jwk gen -i "{\"alg\":\"$alg\"}" -o "j-$alg.jwk" 2>err &&
                jose jwk pub -i "j-$alg.jwk" -o "j-$alg.pub.jwk" 2>err &&
                jose jws sig -I m.json -k "j-$alg.jwk" -s "$TYP_TEMPLATE" -o "j-$alg.json" 2>err &&
                jose jws sig -I m.json -k "j-$alg.jwk" -s "$TYP_TEMPLATE" -c -o "j-$alg.compact" 2>err; then
                run "$SM" verify --key "j-$alg.pub.jwk" "j-$alg.compact"
                ok_compact=no; accepted && ok_compact=yes
                run "$SM" verify --key "j-$alg.pub.jwk" --alg-allow "$alg" "j-$alg.json"
                if [ "$ok_compact" = yes ] && accepted; then
                        pass "$alg jose -> secfu-manifest: compact and JSON verify with jose's JWK, payload identical"
                else
                        fail "$alg jose -> secfu-manifest: compact and JSON verify with jose's JWK, payload identical"
                fi
        else
                fail "$alg jose -> secfu-manifest: jose could not make the key or sign"
        fi

        # secfu-manifest signs with jose's private JWK; jose verifies.
        run "$SM" sign --key "j-$alg.jwk" --alg "$alg" --json m.json
        cp out "sj-$alg.json"
        check "$alg jose JWK -> secfu-manifest sign -> jose verifies" jose_verified "sj-$alg.json" "j-$alg.pub.jwk"
done

# Refusals, with ES256 (every jose build has it).
jose jwk gen -i '{"alg":"ES256"}' -o a.jwk && jose jwk pub -i a.jwk -o a.pub.jwk
jose jwk gen -i '{"alg":"ES256"}' -o b.jwk && jose jwk pub -i b.jwk -o b.pub.jwk
jose jwk gen -i '{"alg":"ES384"}' -o c.jwk && jose jwk pub -i c.jwk -o c.pub.jwk
jose jws sig -I m.json -k a.jwk -c -o notyp.compact
run "$SM" verify --key a.pub.jwk notyp.compact
check "jose JWS without typ is refused" refused
jose jws sig -I m.json -k a.jwk -s '{"protected":{"typ":"JWT"}}' -o jwt.json
run "$SM" verify --key a.pub.jwk jwt.json
check "jose JWS with typ JWT is refused" refused
jose jws sig -I m.json -k a.jwk -s "$TYP_TEMPLATE" -c -o a.compact
run "$SM" verify --key b.pub.jwk a.compact
check "jose JWS signed by another key is refused" refused
run "$SM" verify --key a.pub.jwk --alg-allow ES384,EdDSA a.compact
check "jose ES256 JWS with --alg-allow ES384,EdDSA is refused" refused
jose jws sig -I fw.img -k a.jwk -s "$TYP_TEMPLATE" -c -o image.compact
run "$SM" verify --key a.pub.jwk image.compact
check "jose JWS whose payload is not a manifest is refused" refused

# Several signatures: jose makes a general JSON JWS with two keys, and
# secfu-manifest adds a third; both tools verify all of them.
jose jws sig -I m.json -s "$TYP_TEMPLATE" -k a.jwk -s "$TYP_TEMPLATE" -k c.jwk -o two.json
check "jose writes a general JSON JWS with two signatures (jose fmt)" test "$(jose fmt -j two.json -g signatures -l -o- 2>/dev/null)" = 2
run "$SM" verify --key a.pub.jwk --key c.pub.jwk --min-signatures 2 two.json
check "secfu-manifest verifies jose's two signatures (--min-signatures 2)" accepted
run "$SM" verify --key a.pub.jwk --key b.pub.jwk --min-signatures 2 two.json
check "... and refuses when only one of the signers is trusted" refused
run "$SM" sign --key b.jwk two.json
cp out three.json
strip_newline three.json
check "secfu-manifest adds a third signature to jose's JWS" test "$rc" = 0 -a "$(jose fmt -j three_json_jose -g signatures -l -o- 2>/dev/null)" = 3
check "jose verifies all three signatures (jose jws ver -a)" sh -c "jose jws ver -i three_json_jose -k a.pub.jwk -k b.pub.jwk -k c.pub.jwk -a -O jose_out 2>jose_err && cmp -s jose_out m.json"
run "$SM" verify --key a.pub.jwk --key b.pub.jwk --key c.pub.jwk --min-signatures 3 three.json
check "secfu-manifest verifies all three (--min-signatures 3)" accepted

echo "1..$n"
[ "$failures" = 0 ]
