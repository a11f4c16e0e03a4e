#!/bin/bash
# SPDX-License-Identifier: MIT
# TAP: the install engine against a firmware server that answers with
# status codes and redirects (DESIGN section 4, step 6): 503 with a sane
# Retry-After is retried after the time asked for, an absurd one ends the
# cycle at once; redirects to other schemes (file, ftp) and redirect loops
# are refused at once, redirects to another http host work.  Refusals leave
# the running slot and the bootloader environment untouched; each has a
# positive twin on the same server.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"
dev_require

slot_b_not_passwd() { ! cmp -s -n "$(stat -c %s /etc/passwd)" /etc/passwd "$D/slot-b"; }

# ---------------------------------------------------------------- 503 + Retry-After
dev_fresh
fixture_rule "$MANIFEST_PATH" '{"status": 503, "retry_after": 1, "once": true}'
fixture_rule "$IMG" '{"status": 503, "retry_after": 1, "once": true}'
secfud_once
staged 1.1.0 "503 with Retry-After: 1 once, for the manifest and the image"
is "$(fixture_count "$MANIFEST_PATH")" 2 "503 once: the manifest was asked twice"
is "$(fixture_count "$IMG")" 2 "503 once: the image was asked twice"
awk -v t="$ONCE_SECONDS" 'BEGIN { exit !(t >= 1.9) }'
ok $? "503 once: Retry-After was honoured, twice (${ONCE_SECONDS}s)"

dev_fresh
fixture_rule "$MANIFEST_PATH" '{"status": 503, "retry_after": 999999}'
dev_snapshot s
secfud_once
refused s "$IMG" "999999" "manifest: 503 with Retry-After: 999999"
bounded 5 "$ONCE_SECONDS" "absurd Retry-After (manifest): fails fast (${ONCE_SECONDS}s)"
is "$(fixture_count "$MANIFEST_PATH")" 1 "absurd Retry-After (manifest): one request"
fixture_clear "$MANIFEST_PATH"
fixture_rule "$IMG" '{"status": 503, "retry_after": 999999}'
dev_snapshot s
secfud_once
refused s "" "999999" "image: 503 with Retry-After: 999999"
bounded 5 "$ONCE_SECONDS" "absurd Retry-After (image): fails fast (${ONCE_SECONDS}s)"
is "$(fixture_count "$IMG")" 1 "absurd Retry-After (image): one request"
fixture_clear "$IMG"
secfud_once
staged 1.1.0 "the same server without the 503"

# ---------------------------------------------------------------- redirects
dev_fresh
for target in file:///etc/passwd ftp://127.0.0.1/fw.img; do
        fixture_reset
        fixture_rule "$MANIFEST_PATH" "{\"redirect\": {\"location\": \"$target\"}}"
        dev_snapshot s
        secfud_once
        refused s "$IMG" "scheme|protocol|redirect" "manifest redirected to $target"
        bounded 5 "$ONCE_SECONDS" "manifest redirected to $target: a refusal, not retried (${ONCE_SECONDS}s)"
        fixture_reset
        fixture_rule "$IMG" "{\"redirect\": {\"location\": \"$target\"}}"
        dev_snapshot s
        secfud_once
        refused s "" "scheme|protocol|redirect" "image redirected to $target"
        is "$(fixture_count "$IMG")" 1 "image redirected to $target: a refusal, not retried"
        slot_b_not_passwd
        ok $? "image redirected to $target: slot B does not hold /etc/passwd"
done

fixture_reset
fixture_rule "$MANIFEST_PATH" "{\"redirect\": {\"location\": \"$MANIFEST_PATH\"}}"
dev_snapshot s
secfud_once
refused s "$IMG" "redirect" "manifest redirected to itself"
bounded 6 "$(fixture_count "$MANIFEST_PATH")" "manifest redirect loop: at most 5 redirects followed, once ($(fixture_count "$MANIFEST_PATH") requests)"
fixture_reset
fixture_rule "$IMG" '{"redirect": {"location": "/loop"}}'
fixture_rule /loop "{\"redirect\": {\"location\": \"$IMG\"}}"
dev_snapshot s
secfud_once
refused s "" "redirect" "image redirected in a loop"
bounded 6 "$(($(fixture_count "$IMG") + $(fixture_count /loop)))" "image redirect loop: at most 5 redirects followed, once"
fixture_reset

# the twins: http redirects to another host work
dev_server2 "$D/www2"
dev_publish 1.1.0 "$D/www2"
fixture_rule "$MANIFEST_PATH" "{\"redirect\": {\"location\": \"$SERVER2$MANIFEST_PATH\"}}"
secfud_once
staged 1.1.0 "manifest redirected to another host"
is "$(FIXTURE_PORT=$SERVER2_PORT fixture_count "$IMG")" 1 \
        "manifest redirected: the relative image location resolves against the new host"
dev_fresh
dev_server2 "$D/www2"
cp "$D/img-1.1.0.img" "$D/www2/elsewhere.img"
fixture_rule "$IMG" "{\"redirect\": {\"location\": \"$SERVER2/elsewhere.img\", \"status\": 301}}"
secfud_once
staged 1.1.0 "image redirected (301) to another host"
is "$(FIXTURE_PORT=$SERVER2_PORT fixture_count /elsewhere.img)" 1 "image redirected: fetched from the other host"

tap_done
