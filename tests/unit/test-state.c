/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "core/state.h"
#include "tap.h"

static struct sfu_state sample(void) {
        struct sfu_state s;
        sfu_state_init(&s);
        s.state = SFU_STATE_STAGED;
        snprintf(s.reason, sizeof(s.reason), "1.1.0 staged in slot B");
        s.has_highest = true;
        s.highest = (struct sfu_version) { 1, 0, 0 };
        s.has_newest_timestamp = true;
        s.newest_timestamp = 1795000000;
        s.has_newest_seen = true;
        s.newest_seen = (struct sfu_version) { 1, 1, 0 };
        s.newest_seen_timestamp = 1795000000;
        s.newest_seen_source = SFU_SOURCE_LOCAL;
        s.has_last_check = true;
        s.last_check = 1795000100;
        struct sfu_state_slot *a = sfu_state_slot_ensure(&s, "A");
        a->health = SFU_HEALTH_GOOD;
        a->has_version = true;
        a->version = (struct sfu_version) { 1, 0, 0 };
        struct sfu_state_slot *b = sfu_state_slot_ensure(&s, "B");
        b->health = SFU_HEALTH_STAGED;
        b->has_version = true;
        b->version = (struct sfu_version) { 1, 1, 0 };
        strcpy(s.trial_bootname, "B");
        strcpy(s.trial_previous, "A");
        s.has_resume = true;
        strcpy(s.resume_manifest_sha256, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
        strcpy(s.resume_image, "firmware");
        strcpy(s.resume_bootname, "B");
        s.resume_offset = 67108864;
        strcpy(s.resume_etag, "\"abc\"");
        strcpy(s.manifest_url, "https://firmware.example.com/m.json");
        strcpy(s.manifest_etag, "\"e1\"");
        return s;
}

static void roundtrip(void) {
        struct sfu_state s = sample(), back;
        struct sfu_err err = SFU_ERR_INIT;
        char *text = NULL;

        ok(sfu_state_to_json(&s, &text) == 0, "state serialises");
        ok(sfu_state_from_json(text, strlen(text), &back, &err) == 0, "state parses back: %s", err.message);
        is_int(back.state, SFU_STATE_STAGED, "state kept");
        is_str(back.reason, s.reason, "reason kept");
        ok(back.has_highest && sfu_version_compare(&back.highest, &s.highest) == 0, "highest kept");
        is_int(back.newest_timestamp, s.newest_timestamp, "newest timestamp kept");
        is_int(back.newest_seen_source, SFU_SOURCE_LOCAL, "newest seen source kept");
        is_int(back.n_slots, 2, "two slots");
        ok(sfu_state_slot(&back, "B") && sfu_state_slot(&back, "B")->health == SFU_HEALTH_STAGED, "slot B staged");
        is_str(back.trial_bootname, "B", "trial slot kept");
        is_int(back.resume_offset, 67108864, "resume offset kept");
        is_str(back.resume_etag, "\"abc\"", "resume etag kept");
        is_str(back.manifest_etag, "\"e1\"", "manifest etag kept");
        ok(text[strlen(text) - 1] == '\n', "file ends with a newline");
        free(text);
}

static void refuse(const char *json, const char *reason_part, const char *name) {
        struct sfu_state s;
        struct sfu_err err = SFU_ERR_INIT;
        int r = sfu_state_from_json(json, strlen(json), &s, &err);
        ok(r < 0 && err.code == SFU_ERR_PARSE && strstr(err.message, reason_part), "%s refused (%s)", name,
           err.message);
}

static void corrupt(void) {
        struct sfu_state s = sample();
        struct sfu_err err = SFU_ERR_INIT;
        char *text = NULL;

        refuse("", "invalid JSON", "empty file");
        refuse("{\"format\":1,\"state\":\"idle\"", "invalid JSON", "truncated file");
        refuse("{\"format\":2,\"state\":\"idle\"}", "format", "other format");
        refuse("{\"format\":1,\"state\":\"idlf\"}", "unknown value", "bit-flipped state name");
        refuse("{\"format\":1,\"state\":\"idle\",\"highestInstalled\":\"1.0\"}", "not a version", "bad version");
        refuse("{\"format\":1,\"state\":\"idle\",\"highestInstalled\":\"1.0.0\",\"highestInstalled\":\"9.0.0\"}",
               "duplicate", "duplicate key");
        refuse("{\"format\":1,\"state\":\"idle\",\"highestInstallef\":\"1.0.0\"}", "unknown member", "unknown key");
        refuse("{\"format\":1,\"state\":\"idle\",\"slots\":{\"A\":{\"health\":\"great\"}}}", "unknown value",
               "bad health");
        refuse("{\"format\":1,\"state\":\"idle\",\"resume\":{\"manifestSha256\":\"x\",\"image\":\"f\",\"bootname\":\"B\"}}",
               "offset", "resume without offset");
        refuse("{\"format\":1,\"state\":\"idle\",\"lastError\":{\"code\":\"oops\",\"message\":\"m\"}}",
               "unknown error code", "bad error code");
        refuse("[1,2]", "not an object", "array");

        /* Every single-bit flip of a valid file is refused or parses to a
         * record; none crashes (the sanitizer build watches). */
        ok(sfu_state_to_json(&s, &text) == 0, "serialise for bit flips");
        size_t len = strlen(text), refused = 0;
        for (size_t i = 0; i < len; i++) {
                struct sfu_state back;
                char saved = text[i];
                text[i] ^= 0x02;
                sfu_err_clear(&err);
                if (sfu_state_from_json(text, len, &back, &err) < 0)
                        refused++;
                text[i] = saved;
        }
        ok(refused > len / 2, "most bit flips are refused (%zu of %zu)", refused, len);
        free(text);
}

int main(void) {
        roundtrip();
        corrupt();
        return tap_done();
}
