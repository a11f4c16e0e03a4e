#!/bin/bash
# Defects an outside review found, each as it was reproduced:
#  - a LAN cache that replays the real manifest and serves a corrupt (or
#    short) image: the manufacturer is asked in the same cycle, the offer is
#    held back, the next poll does not rewrite the slot from it;
#  - Retry-After on the image path after a 200 that ended early: capped by
#    retry-after-max; every job has a deadline (job-timeout);
#  - timestamps: an offset that carries 9999-12-31 into year 10000 is
#    refused; a far-future manifest is refused when the clock is
#    synchronised and taken when it is not, and the state reads back;
#  - the manifest cache: a forged answer that copies the real ETag is never
#    cached, so a later 304 brings back the real manifest.
. "$top_srcdir/tests/integration/lib.sh"
dev_require

fresh() {
        dev_setup
        dev_domain example.test
}
slot_b_sha() { sha256sum "$D/slot-b" | cut -d' ' -f1; }

# ---------------------------------------------------------------- 1. a hostile local cache
for how in corrupt short; do
        fresh
        dev_local_server
        dev_publish 1.1.0
        IMG=$(dev_image_path 1.1.0)
        # The cache replays the manufacturer's signed manifest ...
        mkdir -p "$D/www-local$(dirname "$IMG")"
        cp "$WWW$MANIFEST_PATH" "$D/www-local$MANIFEST_PATH"
        cp "$D/img-1.1.0.img" "$D/www-local$IMG"
        if [ "$how" = corrupt ]; then
                # ... with the image's last byte flipped,
                /usr/bin/python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(-1, 2); b = f.read(1); f.seek(-1, 2); f.write(bytes([b[0] ^ 1]))' "$D/www-local$IMG"
        else
                # ... or cut short, every time.
                FIXTURE_PORT=$SERVER2_PORT fixture_rule "$IMG" '{"truncate_at": 100000}'
        fi
        secfud_once
        staged 1.1.0 "$how local image: the manufacturer's image stages in the same cycle"
        once_log_has "staging 1.1.0 from the local server failed: .*held back until"
        ok $? "$how local image: the log names the failure and the hold"
        is "$(state_field "len(s['heldBack']), s['heldBack'][0]['failures']")" "1 1" \
                "$how local image: the offer is held back (one failure)"
        ok "$([ "$(dev_local_count "$IMG")" -ge 1 ] && echo 0 || echo 1)" "$how local image: the local image was tried"
        tried=$(dev_local_count "$IMG")
        is "$(fixture_count "$IMG")" 1 "$how local image: the manufacturer's image was fetched once"
        b=$(slot_b_sha)
        secfud_once
        is "$ONCE_STATUS" 0 "$how local image, next poll: succeeds"
        once_log_has "held back until"
        ok $? "$how local image, next poll: the local offer is held back"
        is "$(dev_local_count "$IMG")" "$tried" "$how local image, next poll: the local image is not requested again"
        is "$(slot_b_sha)" "$b" "$how local image, next poll: slot B is not rewritten"
done

# ---------------------------------------------------------------- 2. bounded waits
fresh
dev_publish 1.1.0
IMG=$(dev_image_path 1.1.0)
fixture_rule "$IMG" '{"truncate_at": 1000, "retry_after": 86400, "once": true}'
dev_snapshot s
secfud_once
refused s "" "retry after 86400 s \(more than retry-after-max, 300 s\)" "a 200 cut short with Retry-After: 86400"
bounded 10 "$ONCE_SECONDS" "Retry-After: 86400 after a short 200: the cycle ends at once (${ONCE_SECONDS}s)"
fixture_rule "$IMG" '{"truncate_at": 1000, "retry_after": 1, "once": true}'
secfud_once
staged 1.1.0 "twin: Retry-After: 1 after a short 200 is honoured"

fresh
dev_publish 1.1.0
EXTRA_CONF=$'[network]\njob-timeout = 3s'
dev_write_config
fixture_rule "$IMG" '{"drip": {"bytes": 4096, "interval": 1}}'
dev_snapshot s
secfud_once
refused s "" "ran out of time \(job-timeout\)" "an image that would take 13 minutes, job-timeout = 3s"
bounded 9 "$ONCE_SECONDS" "job-timeout = 3s: the job ends on time (${ONCE_SECONDS}s)"
EXTRA_CONF=""
dev_write_config

# ---------------------------------------------------------------- 3. timestamps
fresh
J=$(dev_manifest 1.1.0 --timestamp 9999-12-31T23:59:59-23:59) ||
        J=$(PAYLOAD_EDIT="m['timestamp'] = '9999-12-31T23:59:59-23:59'" dev_manifest 1.1.0)
dev_install_manifest "$J"
dev_snapshot s
secfud_once
refused s "$(dev_image_path 1.1.0)" 'timestamp.*is not an RFC 3339 date-time' \
        "a timestamp whose offset carries it into year 10000"
is "$(state_field "s['format'], s['newestAcceptedTimestamp']")" "1 None" "... the state file reads back, no replay floor from it"
secfud_once
once_errors | grep -q 'is not an RFC 3339 date-time' && ! once_errors | grep -q 'state'
ok $? "... the next cycle refuses the same manifest for the same reason (the state is usable)"

fresh
dev_publish 1.1.0
J=$(PAYLOAD_EDIT="import datetime; m['timestamp'] = (datetime.datetime.utcnow() + datetime.timedelta(days=2)).strftime('%Y-%m-%dT%H:%M:%SZ')" dev_manifest 1.1.0)
dev_install_manifest "$J"
dev_snapshot s
SFU_TEST_CLOCK_SYNCHRONIZED=1 secfud_once
refused s "$(dev_image_path 1.1.0)" 'more than clock-skew .* ahead of the synchronised device clock' \
        "a manifest dated 2 days ahead, clock synchronised"
SFU_TEST_CLOCK_SYNCHRONIZED=0 secfud_once
staged 1.1.0 "the same manifest, clock not synchronised: taken as signed"

fresh
J=$(PAYLOAD_EDIT="m['timestamp'] = '9999-12-31T23:59:59Z'" dev_manifest 1.0.0)
dev_install_manifest "$J"
SFU_TEST_CLOCK_SYNCHRONIZED=0 secfud_once
is "$ONCE_STATUS" 0 "a manifest dated 9999-12-31T23:59:59Z, clock not synchronised: taken"
is "$(state_field "s['newestAcceptedTimestamp']")" 9999-12-31T23:59:59Z "... the replay floor stored reads back"
SFU_TEST_CLOCK_SYNCHRONIZED=0 secfud_once
is "$ONCE_STATUS" 0 "... and the next cycle still runs on that state"

# ---------------------------------------------------------------- 4. the manifest cache
fresh
dev_publish 1.0.0
fixture_rule "$MANIFEST_PATH" '{"etag": "\"real-etag\""}'
secfud_once
is "$ONCE_STATUS/$(state_field "s['manifestCache']['etag']")" '0/"real-etag"' "the real manifest is cached with its ETag"
FORGED=$(KEY=attacker dev_manifest 1.0.0)
fixture_rule "$MANIFEST_PATH" "{\"status\": 200, \"body\": $(/usr/bin/python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "$FORGED"), \"headers\": {\"ETag\": \"\\\"real-etag\\\"\"}, \"once\": true}"
fixture_rule_append "$MANIFEST_PATH" '{"etag": "\"real-etag\""}'
dev_snapshot s
secfud_once
refused s "" 'no trusted key with kid|does not verify' "a forged answer (200) that copies the real ETag"
cmp -s "$D/state/manifest-cache.jws" "$WWW$MANIFEST_PATH"
ok $? "... the cache still holds the real manifest"
secfud_once
is "$ONCE_STATUS" 0 "the next poll (304 for the real ETag) succeeds"
is "$(fixture_stat paths "$MANIFEST_PATH" requests -1 status)" 304 "... the server answered 304"
once_log_has "up to date"
ok $? "... with the real manifest from the cache"

dev_teardown
tap_done
