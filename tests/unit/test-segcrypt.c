/* SPDX-License-Identifier: MIT */
/* The segmented image stream: sizes, a known-answer vector made with
 * python3-cryptography's AESGCM, round trips in every feeding pattern,
 * resume at each segment boundary, and each tamper class refused at the
 * first bad segment with nothing of it or after it handed out. */
#include <inttypes.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/hex.h"
#include "core/segcrypt.h"
#include "tap.h"

/* ---------------------------------------------------------------- sinks */

struct sink {
        uint8_t *data;
        size_t len, cap;
        size_t calls;
        size_t fail_after;              /* fail the call after this many bytes (0: never) */
};

static int sink_write(void *userdata, const uint8_t *data, size_t len, struct sfu_err *err) {
        struct sink *k = userdata;

        if (k->fail_after && k->len + len > k->fail_after)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOSPC, "the slot is full");
        if (k->len + len > k->cap) {
                k->cap = (k->len + len) * 2 + 64;
                k->data = realloc(k->data, k->cap);
                if (!k->data)
                        abort();
        }
        memcpy(k->data + k->len, data, len);
        k->len += len;
        k->calls++;
        return 0;
}

static void sink_free(struct sink *k) {
        free(k->data);
        *k = (struct sink){};
}

static struct sfu_segcrypt_params params_of(uint32_t segment_size) {
        struct sfu_segcrypt_params p = { .segment_size = segment_size };
        for (size_t i = 0; i < sizeof(p.key); i++)
                p.key[i] = (uint8_t) i;
        for (size_t i = 0; i < sizeof(p.nonce_prefix); i++)
                p.nonce_prefix[i] = (uint8_t) (0xa0 + i);
        return p;
}

static uint8_t *random_bytes(size_t len) {
        uint8_t *p = malloc(len + 1);
        if (!p || RAND_bytes(p, (int) len + 1) != 1)
                abort();
        return p;
}

/* Encrypts pt with the encryptor, fed in chunks of chunk bytes. */
static void encrypt_all(const struct sfu_segcrypt_params *p, const uint8_t *pt, size_t len, size_t chunk,
                        struct sink *out) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_segcrypt *s = NULL;

        if (sfu_segcrypt_encrypt_new(p, sink_write, out, &s, &err) < 0)
                abort();
        for (size_t off = 0; off < len; off += chunk)
                if (sfu_segcrypt_feed(s, pt + off, len - off < chunk ? len - off : chunk, &err) < 0)
                        abort();
        if (sfu_segcrypt_finish(s, &err) < 0)
                abort();
        sfu_segcrypt_free(s);
}

/* Decrypts ct from segment start (ct is the stream from that segment's
 * offset); 0 or the error. */
static int decrypt_all(const struct sfu_segcrypt_params *p, uint64_t start, uint64_t size, const uint8_t *ct, size_t len,
                       size_t chunk, struct sink *out, struct sfu_err *err) {
        struct sfu_segcrypt *s = NULL;
        int r;

        r = sfu_segcrypt_decrypt_new(p, start, size, sink_write, out, &s, err);
        if (r < 0)
                return r;
        for (size_t off = 0; off < len && r >= 0; off += chunk)
                r = sfu_segcrypt_feed(s, ct + off, len - off < chunk ? len - off : chunk, err);
        if (r >= 0)
                r = sfu_segcrypt_finish(s, err);
        sfu_segcrypt_free(s);
        return r;
}

/* ---------------------------------------------------------------- sizes */

static void test_sizes(void) {
        static const uint32_t sizes[] = { 64, 1000, 65536 };
        uint64_t c = 0, p = 0;
        bool all = true;

        is_int(sfu_segcrypt_segments(0, 64), 1, "the empty image has one segment");
        is_int(sfu_segcrypt_segments(64, 64), 1, "S bytes: one segment");
        is_int(sfu_segcrypt_segments(65, 64), 2, "S + 1 bytes: two segments");
        ok(sfu_segcrypt_ciphertext_size(0, 64, &c) == 0 && c == 16, "the empty image is 16 bytes (one tag)");
        ok(sfu_segcrypt_ciphertext_size(268435456, 65536, &c) == 0 && c == 268435456 + 4096 * 16,
           "256 MiB in 64 KiB segments: 4096 tags more");
        ok(sfu_segcrypt_ciphertext_size(1, 63, &c) == -EINVAL, "a segment size below the minimum");
        ok(sfu_segcrypt_ciphertext_size(1, SFU_SEGCRYPT_MAX_SEGMENT + 1, &c) == -EINVAL, "above the maximum");
        ok(sfu_segcrypt_ciphertext_size((uint64_t) 64 << 32 | 1, 64, &c) == -EOVERFLOW, "more than 2^32 segments");
        ok(sfu_segcrypt_ciphertext_size(UINT64_MAX - 8, SFU_SEGCRYPT_MAX_SEGMENT, &c) == -EOVERFLOW, "past 2^63 bytes");

        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                uint32_t s = sizes[i];
                uint64_t plains[] = { 0, 1, s - 1, s, s + 1, 2 * (uint64_t) s, 7 * (uint64_t) s + 3, 1000003 };
                for (size_t j = 0; j < ELEMENTSOF(plains); j++) {
                        if (sfu_segcrypt_ciphertext_size(plains[j], s, &c) < 0 ||
                            sfu_segcrypt_plaintext_size(c, s, &p) < 0 || p != plains[j] ||
                            c != plains[j] + 16 * sfu_segcrypt_segments(plains[j], s))
                                all = false;
                }
        }
        ok(all, "plaintext_size inverts ciphertext_size, and C = P + 16 * segments");

        /* every ciphertext size up to 5 segments of 64 bytes: possible
         * exactly when some plaintext size gives it */
        bool agree = true;
        for (uint64_t size = 0; size <= 5 * 80; size++) {
                bool possible = false;
                for (uint64_t q = 0; q <= 5 * 64 && !possible; q++)
                        possible = sfu_segcrypt_ciphertext_size(q, 64, &c) == 0 && c == size;
                if ((sfu_segcrypt_plaintext_size(size, 64, &p) == 0) != possible)
                        agree = false;
        }
        ok(agree, "plaintext_size refuses exactly the impossible sizes (0..400, S = 64)");
        ok(sfu_segcrypt_plaintext_size(80 + 16, 64, &p) < 0, "a full segment then an empty final one is impossible");
        ok(sfu_segcrypt_plaintext_size(80 + 15, 64, &p) < 0, "a final segment shorter than its tag is impossible");
        ok(sfu_segcrypt_plaintext_size(0, 64, &p) < 0, "no segment at all is impossible");
        is_int(sfu_segcrypt_ciphertext_offset(3, 65536), 3 * 65552, "segment 3 starts at 3 * (S + 16)");
        is_int(sfu_segcrypt_plaintext_offset(3, 65536), 3 * 65536, "and holds plaintext from 3 * S");
}

/* ---------------------------------------------------------------- vector */

static void test_vector(void) {
        /* Made with python3-cryptography: AESGCM(key = 00..1f), nonce =
         * a0..a6 || i || last, 100 bytes 00..63, S = 64. */
        static const char want_hex[] =
                "0ad01eaa9251433a642ace8b950d5864c2d05d566f72eb16174ee0f928d253ea687121a478e7aecca4211bc242949220"
                "a34b734bb94ed076ccdb3ec0fcd446a685858f18be1f66555a4f8250201d5f6fa94782aa446fdd78fc16abfc1331e704"
                "a7558ecc61afeff2a85e1c4ae929fda594cb42756e639fd591c5f5b90972763ab845ed01";
        struct sfu_segcrypt_params p = params_of(64);
        uint8_t pt[100], want[132];
        struct sink out = {}, back = {};
        struct sfu_err err = SFU_ERR_INIT;

        for (size_t i = 0; i < sizeof(pt); i++)
                pt[i] = (uint8_t) i;
        if (sfu_hex_decode(want_hex, want, sizeof(want)) < 0)
                abort();
        encrypt_all(&p, pt, sizeof(pt), 7, &out);
        ok(out.len == sizeof(want) && memcmp(out.data, want, sizeof(want)) == 0,
           "the encryptor writes the published vector byte for byte");
        ok(decrypt_all(&p, 0, sizeof(want), want, sizeof(want), 13, &back, &err) == 0 && back.len == sizeof(pt) &&
                   memcmp(back.data, pt, sizeof(pt)) == 0,
           "the decryptor reads it (%s)", err.message);
        sink_free(&out);
        sink_free(&back);
}

/* ---------------------------------------------------------------- round trips */

static void test_round_trips(void) {
        static const uint32_t seg_sizes[] = { 64, 1000, 4096 };
        bool all = true;
        size_t cases = 0;

        for (size_t i = 0; i < ELEMENTSOF(seg_sizes); i++) {
                uint32_t s = seg_sizes[i];
                size_t lens[] = { 0, 1, s - 1, s, s + 1, 3 * (size_t) s, 3 * (size_t) s + 7 };
                struct sfu_segcrypt_params p = params_of(s);
                for (size_t j = 0; j < ELEMENTSOF(lens); j++) {
                        uint8_t *pt = random_bytes(lens[j]);
                        size_t chunks[] = { 1, 7, s, (size_t) s + 16, 100000 };
                        struct sink ct = {};
                        uint64_t want = 0;

                        encrypt_all(&p, pt, lens[j], 33, &ct);
                        if (sfu_segcrypt_ciphertext_size(lens[j], s, &want) < 0 || ct.len != want)
                                all = false;
                        for (size_t k = 0; k < ELEMENTSOF(chunks); k++) {
                                struct sink back = {};
                                struct sfu_err err = SFU_ERR_INIT;
                                uint64_t sizes_known[] = { 0, ct.len };
                                for (size_t m = 0; m < 2; m++) {
                                        back.len = 0;
                                        if (decrypt_all(&p, 0, sizes_known[m], ct.data, ct.len, chunks[k], &back, &err) < 0 ||
                                            back.len != lens[j] || (lens[j] && memcmp(back.data, pt, lens[j]) != 0)) {
                                                tap_diag("S %u, %zu bytes, chunks of %zu: %s", s, lens[j], chunks[k],
                                                         err.message);
                                                all = false;
                                        }
                                        cases++;
                                }
                                sink_free(&back);
                        }
                        sink_free(&ct);
                        free(pt);
                }
        }
        ok(all, "%zu round trips (3 segment sizes, 7 image sizes, 5 feeding patterns, size known or not)", cases);

        /* The encryptor's segments checked with plain OpenSSL calls and a
         * nonce built here. */
        struct sfu_segcrypt_params p = params_of(64);
        uint8_t *pt = random_bytes(150), out[64], nonce[12];
        struct sink ct = {};
        EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
        int n = 0, fin = 0;
        encrypt_all(&p, pt, 150, 150, &ct);
        memcpy(nonce, p.nonce_prefix, 7);
        memcpy(nonce + 7, "\x00\x00\x00\x01\x00", 5);
        ok(c && ct.len == 150 + 3 * 16 && EVP_DecryptInit_ex2(c, EVP_aes_256_gcm(), p.key, nonce, NULL) == 1 &&
                   EVP_DecryptUpdate(c, out, &n, ct.data + 80, 64) == 1 &&
                   EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, ct.data + 80 + 64) == 1 &&
                   EVP_DecryptFinal_ex(c, out + n, &fin) == 1 && memcmp(out, pt + 64, 64) == 0,
           "segment 1 opens with plain OpenSSL: nonce prefix || 00000001 || 00");
        memcpy(nonce + 7, "\x00\x00\x00\x02\x01", 5);
        ok(EVP_DecryptInit_ex2(c, NULL, NULL, nonce, NULL) == 1 && EVP_DecryptUpdate(c, out, &n, ct.data + 160, 22) == 1 &&
                   EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, ct.data + 182) == 1 &&
                   EVP_DecryptFinal_ex(c, out + n, &fin) == 1 && memcmp(out, pt + 128, 22) == 0,
           "the final segment 2 opens with the flag 01");
        ERR_clear_error();
        EVP_CIPHER_CTX_free(c);
        sink_free(&ct);
        free(pt);

        /* Plaintext comes out as segments authenticate, one held back. */
        struct sink back = {};
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_segcrypt *s = NULL;
        uint8_t *big = random_bytes(10 * 64);
        encrypt_all(&p, big, 10 * 64, 64, &ct);
        ok(sfu_segcrypt_decrypt_new(&p, 0, 0, sink_write, &back, &s, &err) == 0 &&
                   sfu_segcrypt_feed(s, ct.data, 4 * 80 + 1, &err) == 0 && back.len == 4 * 64 &&
                   sfu_segcrypt_next_segment(s) == 4 && sfu_segcrypt_plaintext_done(s) == 4 * 64,
           "after 4 segments and a byte, 4 segments are out (%zu bytes)", back.len);
        ok(sfu_segcrypt_feed(s, ct.data + 4 * 80 + 1, ct.len - 4 * 80 - 1, &err) == 0 && back.len == 9 * 64,
           "the last segment is held until the end");
        ok(sfu_segcrypt_finish(s, &err) == 0 && back.len == 10 * 64 && memcmp(back.data, big, back.len) == 0,
           "and released by finish");
        ok(sfu_segcrypt_finish(s, &err) == 0, "finish twice is harmless");
        sfu_err_clear(&err);
        ok(sfu_segcrypt_feed(s, "x", 1, &err) < 0 && strstr(err.message, "after the end"),
           "data after the end is refused (%s)", err.message);
        sfu_segcrypt_free(s);
        sink_free(&back);
        sink_free(&ct);
        free(big);
}

/* ---------------------------------------------------------------- resume */

static void test_resume(void) {
        struct sfu_segcrypt_params p = params_of(64);
        const size_t len = 5 * 64 + 10;
        uint8_t *pt = random_bytes(len);
        struct sink ct = {};

        encrypt_all(&p, pt, len, len, &ct);
        for (uint64_t k = 0; k <= 5; k++) {
                struct sink back = {};
                struct sfu_err err = SFU_ERR_INIT;
                uint64_t off = sfu_segcrypt_ciphertext_offset(k, 64), poff = sfu_segcrypt_plaintext_offset(k, 64);
                ok(decrypt_all(&p, k, ct.len, ct.data + off, ct.len - off, 17, &back, &err) == 0 &&
                           back.len == len - poff && memcmp(back.data, pt + poff, back.len) == 0,
                   "resume at segment %" PRIu64 " (ciphertext offset %" PRIu64 ", plaintext offset %" PRIu64 ") (%s)", k,
                   off, poff, err.message);
                sink_free(&back);
        }
        struct sink back = {};
        struct sfu_err err = SFU_ERR_INIT;
        ok(decrypt_all(&p, 2, ct.len, ct.data + 3 * 80, ct.len - 3 * 80, 17, &back, &err) < 0 && back.len == 0 &&
                   err.code == SFU_ERR_DIGEST && strstr(err.message, "segment 2 does not authenticate"),
           "resuming at segment 2 with segment 3's bytes is refused (%s)", err.message);
        sfu_err_clear(&err);
        ok(decrypt_all(&p, 3, ct.len, ct.data + 2 * 80, ct.len - 2 * 80, 17, &back, &err) < 0 && back.len == 0,
           "resuming at segment 3 with segment 2's bytes is refused (%s)", err.message);
        sfu_err_clear(&err);
        ok(decrypt_all(&p, 6, ct.len, NULL, 0, 17, &back, &err) < 0 && strstr(err.message, "past the end"),
           "a start segment past the end is refused (%s)", err.message);
        sfu_err_clear(&err);
        ok(decrypt_all(&p, 2, 0, ct.data + 2 * 80 + 1, ct.len - 2 * 80 - 1, 17, &back, &err) < 0 && back.len == 0,
           "resuming one byte off the boundary is refused (%s)", err.message);
        sink_free(&back);
        sink_free(&ct);
        free(pt);
}

/* ---------------------------------------------------------------- tampering */

/* A copy of ct (len bytes) for editing. */
static uint8_t *dup_bytes(const uint8_t *ct, size_t len, size_t extra) {
        uint8_t *p = calloc(1, len + extra + 1);
        if (!p)
                abort();
        memcpy(p, ct, len);
        return p;
}

/* Decrypting data is refused with a reason holding want, and only the
 * first good_segments segments came out. */
static void tampered(const char *name, const struct sfu_segcrypt_params *p, uint64_t size, const uint8_t *data,
                     size_t len, enum sfu_err_code code, const char *want, size_t good_segments, const uint8_t *pt) {
        static const size_t chunks[] = { 1, 80, 4096 };
        for (size_t i = 0; i < ELEMENTSOF(chunks); i++) {
                struct sink back = {};
                struct sfu_err err = SFU_ERR_INIT;
                int r = decrypt_all(p, 0, size, data, len, chunks[i], &back, &err);
                ok(r < 0 && err.code == code && strstr(err.message, want) && back.len == good_segments * 64 &&
                           (back.len == 0 || memcmp(back.data, pt, back.len) == 0),
                   "%s (fed by %zu): refused, %zu good segments out (%s)", name, chunks[i], back.len / 64, err.message);
                sink_free(&back);
        }
}

static void test_tampering(void) {
        struct sfu_segcrypt_params p = params_of(64), other = params_of(64), prefix = params_of(64);
        const size_t len = 4 * 64 + 20; /* segments 0..3 full, 4 final with 20 bytes */
        uint8_t *pt = random_bytes(len), *pt2 = random_bytes(len), *t;
        struct sink ct = {}, ct_other = {}, ct_prefix = {}, ct_same = {};
        const size_t clen = len + 5 * 16;

        other.key[0] ^= 0xff;
        prefix.nonce_prefix[6] ^= 0x01;
        encrypt_all(&p, pt, len, len, &ct);
        encrypt_all(&other, pt, len, len, &ct_other);
        encrypt_all(&prefix, pt, len, len, &ct_prefix);
        encrypt_all(&p, pt2, len, len, &ct_same);
        ok(ct.len == clen, "a stream of 5 segments (%zu bytes)", ct.len);

        for (int known = 0; known < 2; known++) {
                uint64_t size = known ? clen : 0;
                tap_diag("the size is %s", known ? "known" : "not known");

                tampered("wrong key", &other, size, ct.data, clen, SFU_ERR_DIGEST, "segment 0 does not authenticate", 0, pt);
                tampered("wrong nonce prefix", &prefix, size, ct.data, clen, SFU_ERR_DIGEST,
                         "segment 0 does not authenticate", 0, pt);
                t = dup_bytes(ct.data, clen, 0);
                t[80 + 5] ^= 0x04;
                tampered("a bit flipped in segment 1", &p, size, t, clen, SFU_ERR_DIGEST, "segment 1 does not authenticate", 1, pt);
                free(t);
                t = dup_bytes(ct.data, clen, 0);
                t[2 * 80 + 79] ^= 0x80;
                tampered("a bit flipped in segment 2's tag", &p, size, t, clen, SFU_ERR_DIGEST,
                         "segment 2 does not authenticate", 2, pt);
                free(t);
                t = dup_bytes(ct.data, clen, 0);
                t[clen - 1] ^= 0x01;
                tampered("a bit flipped in the final tag", &p, size, t, clen, SFU_ERR_DIGEST,
                         "segment 4 does not authenticate as the final segment", 4, pt);
                free(t);
                t = dup_bytes(ct.data, clen, 0);
                memcpy(t + 80, ct.data + 160, 80);
                memcpy(t + 160, ct.data + 80, 80);
                tampered("segments 1 and 2 swapped", &p, size, t, clen, SFU_ERR_DIGEST, "segment 1 does not authenticate", 1, pt);
                free(t);
                t = dup_bytes(ct.data, clen, 0);
                memcpy(t + 160, ct.data + 80, 80);
                tampered("segment 1 repeated in place of 2", &p, size, t, clen, SFU_ERR_DIGEST,
                         "segment 2 does not authenticate", 2, pt);
                free(t);
                t = dup_bytes(ct.data, clen, 0);
                memcpy(t + 160, ct_other.data + 160, 80);
                tampered("segment 2 spliced from a stream with another key", &p, size, t, clen, SFU_ERR_DIGEST,
                         "segment 2 does not authenticate", 2, pt);
                free(t);
                t = dup_bytes(ct.data, clen, 0);
                memcpy(t + 160, ct_prefix.data + 160, 80);
                tampered("segment 2 spliced from a stream with another nonce prefix", &p, size, t, clen, SFU_ERR_DIGEST,
                         "segment 2 does not authenticate", 2, pt);
                free(t);
                /* (The same position under the same key and prefix would
                 * pass: the format relies on a fresh key per image, which
                 * the encryptor's parameters always are.) */
                t = dup_bytes(ct.data, clen, 0);
                memcpy(t + 160, ct_same.data + 240, 80);
                tampered("segment 3 of another image under the same key and prefix, as segment 2", &p, size, t, clen,
                         SFU_ERR_DIGEST, "segment 2 does not authenticate", 2, pt);
                free(t);
        }

        /* Truncation and extension, size not known: refused by the
         * segment format alone. */
        tampered("truncated at a segment boundary (final segment dropped)", &p, 0, ct.data, 4 * 80, SFU_ERR_DIGEST,
                 "segment 3 does not authenticate as the final segment", 3, pt);
        tampered("truncated in the final segment", &p, 0, ct.data, clen - 5, SFU_ERR_DIGEST,
                 "segment 4 does not authenticate as the final segment", 4, pt);
        tampered("truncated inside segment 2", &p, 0, ct.data, 2 * 80 + 40, SFU_ERR_DIGEST,
                 "segment 2 does not authenticate as the final segment", 2, pt);
        tampered("truncated to less than a tag", &p, 0, ct.data, 4 * 80 + 10, SFU_ERR_DIGEST, "shorter than its tag", 4, pt);
        tampered("nothing at all", &p, 0, ct.data, 0, SFU_ERR_DIGEST, "ends before its final segment 0", 0, pt);
        t = dup_bytes(ct.data, clen, 1);
        tampered("one byte appended", &p, 0, t, clen + 1, SFU_ERR_DIGEST, "segment 4 does not authenticate", 4, pt);
        free(t);
        t = dup_bytes(ct.data, clen, 36);
        memcpy(t + clen, ct.data + 4 * 80, 36);
        tampered("the final segment appended again", &p, 0, t, clen + 36, SFU_ERR_DIGEST, "segment 4 does not authenticate", 4, pt);
        free(t);
        t = dup_bytes(ct.data, 4 * 80, 80);
        memcpy(t + 4 * 80, ct.data + 3 * 80, 80);
        tampered("a segment moved past the end", &p, 0, t, 5 * 80, SFU_ERR_DIGEST, "segment 4 does not authenticate", 4, pt);
        free(t);
        tampered("segment 0 dropped", &p, 0, ct.data + 80, clen - 80, SFU_ERR_DIGEST, "segment 0 does not authenticate", 0, pt);
        t = dup_bytes(ct.data, clen, 0);
        memmove(t + 80, t + 160, clen - 160);
        tampered("segment 1 dropped", &p, 0, t, clen - 80, SFU_ERR_DIGEST, "segment 1 does not authenticate", 1, pt);
        free(t);

        /* Size known: extension and truncation are told as such. */
        t = dup_bytes(ct.data, clen, 1);
        tampered("one byte past the manifest's size", &p, clen, t, clen + 1, SFU_ERR_SIZE, "the stream is extended", 4, pt);
        free(t);
        tampered("short of the manifest's size", &p, clen, ct.data, clen - 5, SFU_ERR_DIGEST,
                 "the stream ends after 351 of 356 bytes", 4, pt);
        {
                struct sink back = {};
                struct sfu_err err = SFU_ERR_INIT;
                ok(decrypt_all(&p, 0, 4 * 80 + 10, ct.data, clen, 80, &back, &err) < 0 && strstr(err.message, "not a possible size"),
                   "a manifest size no stream can have is refused (%s)", err.message);
                sink_free(&back);
        }

        /* An empty final segment after others: never written by the
         * encryptor, made here with plain OpenSSL. */
        {
                struct sfu_segcrypt_params q = params_of(64);
                uint8_t stream[2 * 80 + 16], nonce[12], *pt128 = random_bytes(128);
                EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
                int n = 0, fin = 0;
                for (uint32_t i = 0; i < 3; i++) {
                        memcpy(nonce, q.nonce_prefix, 7);
                        nonce[7] = nonce[8] = nonce[9] = 0;
                        nonce[10] = (uint8_t) i;
                        nonce[11] = i == 2;
                        if (EVP_EncryptInit_ex2(c, EVP_aes_256_gcm(), q.key, nonce, NULL) != 1 ||
                            EVP_EncryptUpdate(c, stream + i * 80, &n, pt128 + i * 64, i < 2 ? 64 : 0) != 1 ||
                            EVP_EncryptFinal_ex(c, stream + i * 80 + n, &fin) != 1 ||
                            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, stream + i * 80 + (i < 2 ? 64 : 0)) != 1)
                                abort();
                }
                EVP_CIPHER_CTX_free(c);
                struct sink back = {};
                struct sfu_err err = SFU_ERR_INIT;
                ok(decrypt_all(&q, 0, 0, stream, sizeof(stream), 80, &back, &err) < 0 &&
                           strstr(err.message, "empty final segment after others") && back.len == 128,
                   "an empty final segment after full ones is refused (%s)", err.message);
                sink_free(&back);
                free(pt128);
        }

        /* A failing writer stops the stream, and the failure sticks. */
        {
                struct sink back = { .fail_after = 100 };
                struct sfu_err err = SFU_ERR_INIT;
                struct sfu_segcrypt *s = NULL;
                ok(sfu_segcrypt_decrypt_new(&p, 0, 0, sink_write, &back, &s, &err) == 0 &&
                           sfu_segcrypt_feed(s, ct.data, clen, &err) == -ENOSPC && strstr(err.message, "the slot is full"),
                   "the writer's failure is returned (%s)", err.message);
                sfu_err_clear(&err);
                ok(sfu_segcrypt_feed(s, ct.data, 1, &err) == -ENOSPC && strstr(err.message, "the slot is full") &&
                           sfu_segcrypt_finish(s, NULL) == -ENOSPC,
                   "and repeated by every later call");
                sfu_segcrypt_free(s);
                sink_free(&back);
        }
        /* A bad segment sticks too. */
        {
                struct sink back = {};
                struct sfu_err err = SFU_ERR_INIT;
                struct sfu_segcrypt *s = NULL;
                ok(sfu_segcrypt_decrypt_new(&other, 0, 0, sink_write, &back, &s, &err) == 0 &&
                           sfu_segcrypt_feed(s, ct.data, 81, &err) < 0,
                   "a bad segment fails the feed");
                sfu_err_clear(&err);
                ok(sfu_segcrypt_feed(s, ct.data + 81, 80, &err) < 0 && strstr(err.message, "segment 0") &&
                           sfu_segcrypt_finish(s, &err) < 0 && back.len == 0,
                   "and every later call, with nothing handed out");
                sfu_segcrypt_free(s);
                sink_free(&back);
        }
        {
                struct sfu_segcrypt_params bad = params_of(63);
                struct sfu_segcrypt *s = NULL;
                struct sfu_err err = SFU_ERR_INIT;
                struct sink back = {};
                ok(sfu_segcrypt_decrypt_new(&bad, 0, 0, sink_write, &back, &s, &err) < 0 && strstr(err.message, "outside 64"),
                   "a segment size below the minimum is refused (%s)", err.message);
        }
        sink_free(&ct);
        sink_free(&ct_other);
        sink_free(&ct_prefix);
        sink_free(&ct_same);
        free(pt);
        free(pt2);
}

static void test_generate(void) {
        struct sfu_segcrypt_params a, b;
        struct sfu_err err = SFU_ERR_INIT;

        ok(sfu_segcrypt_params_generate(SFU_SEGCRYPT_DEFAULT_SEGMENT, &a, &err) == 0 &&
                   sfu_segcrypt_params_generate(SFU_SEGCRYPT_DEFAULT_SEGMENT, &b, &err) == 0 &&
                   memcmp(a.key, b.key, sizeof(a.key)) != 0 && memcmp(a.nonce_prefix, b.nonce_prefix, 7) != 0 &&
                   a.segment_size == 65536,
           "fresh parameters differ each time");
        ok(sfu_segcrypt_params_generate(10, &a, &err) < 0, "no parameters for a 10-byte segment");
}

int main(void) {
        test_sizes();
        test_vector();
        test_round_trips();
        test_resume();
        test_tampering();
        test_generate();
        return tap_done();
}
