/* SPDX-License-Identifier: MIT */
/* HSS/LMS timings: key generation, signing (cold: a fresh process that
 * loads the key file and builds every tree of the index; warm: the next
 * index in the same process; through io/hsskey.c with its fsyncs) and
 * verification (median of many) for the default parameters, plus the
 * verification cost of taller and wider sets built from partial trees
 * (the real leaf, random siblings, the root computed upward).
 *
 *   make -C build bench/hss-bench && build/bench/hss-bench [PARAMS]
 *
 * Not run by make check; CPU time, one thread. */
#include <inttypes.h>
#include <time.h>

#include <openssl/crypto.h>

#include "core/hss-internal.h"
#include "core/hss-sign.h"
#include "core/hss.h"
#include "io/hsskey.h"
#include "bench/bench-common.h"
#include "bench/hss-partial.h"

#define VERIFY_RUNS 101

static void die(const char *what, const struct sfu_err *err) {
        bench_die("hss-bench", what, err);
}

/* Median CPU time of VERIFY_RUNS verifications, in ms. */
static double verify_ms(const uint8_t *pub, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                        size_t sig_len) {
        double t[VERIFY_RUNS];
        struct sfu_err err = SFU_ERR_INIT;

        for (unsigned i = 0; i < VERIFY_RUNS; i++) {
                double t0 = bench_cpu_now();
                if (sfu_hss_verify(pub, SFU_HSS_PUBLIC_KEY_SIZE, msg, msg_len, sig, sig_len, &err) < 0)
                        die("verify", &err);
                t[i] = (bench_cpu_now() - t0) * 1e3;
        }
        qsort(t, VERIFY_RUNS, sizeof(t[0]), bench_cmp_double);
        return t[VERIFY_RUNS / 2];
}

static void bench_partial(const char *name, unsigned L, const uint32_t *lms, const uint32_t *ots) {
        static const uint8_t msg[] = "a firmware manifest of a few hundred bytes";
        static uint8_t sig[SFU_HSS_SIGNATURE_MAX];
        uint8_t pub[SFU_HSS_PUBLIC_KEY_SIZE];
        size_t len = 0;

        sfu_bench_hss_partial(L, lms, ots, pub, msg, sizeof(msg), sig, &len);
        printf("%-40s  verify %7.3f ms   signature %6zu bytes\n", name,
               verify_ms(pub, msg, sizeof(msg), sig, len), len);
}

int main(int argc, char **argv) {
        const char *params_text = argc > 1 ? argv[1] : SFU_HSS_PARAMS_DEFAULT;
        static const uint8_t msg[] = "a firmware manifest of a few hundred bytes";
        struct sfu_hss_key *key = NULL, *cold = NULL;
        struct sfu_hss_params params;
        struct sfu_err err = SFU_ERR_INIT;
        uint8_t pub[SFU_HSS_PUBLIC_KEY_SIZE], state[SFU_HSS_PRIVATE_KEY_MAX];
        uint8_t *sig = NULL, *sig2 = NULL;
        size_t sig_len = 0, sig2_len = 0, state_len;
        double t0, keygen, sign_cold, sign_warm, file_sign;
        char dir[] = "/tmp/hss-bench.XXXXXX", path[64];

        if (sfu_hss_params_from_string(params_text, &params, &err) < 0)
                die("parameters", &err);
        t0 = bench_cpu_now();
        if (sfu_hss_keygen(&params, &key, &err) < 0)
                die("keygen", &err);
        keygen = bench_cpu_now() - t0;
        sfu_hss_key_public(key, pub);
        state_len = sfu_hss_key_save(key, state);

        /* cold: as a new process that loaded the key file */
        if (sfu_hss_key_load(state, state_len, &cold, &err) < 0)
                die("load", &err);
        t0 = bench_cpu_now();
        if (sfu_hss_sign(cold, msg, sizeof(msg), &sig, &sig_len, &err) < 0)
                die("sign", &err);
        sign_cold = bench_cpu_now() - t0;
        t0 = bench_cpu_now();
        if (sfu_hss_sign(cold, msg, sizeof(msg), &sig2, &sig2_len, &err) < 0)
                die("sign", &err);
        sign_warm = bench_cpu_now() - t0;

        if (!mkdtemp(dir))
                die("mkdtemp", NULL);
        snprintf(path, sizeof(path), "%s/key", dir);
        if (sfu_hsskey_generate(path, &params, pub, &err) < 0)
                die("key file", &err);
        free(sig2);
        sig2 = NULL;
        t0 = bench_cpu_now();
        if (sfu_hsskey_sign(path, msg, sizeof(msg), &sig2, &sig2_len, NULL, &err) < 0)
                die("key file sign", &err);
        file_sign = bench_cpu_now() - t0;
        unlink(path);
        rmdir(dir);

        printf("HSS %s: %" PRIu64 " signatures, signature %zu bytes, private key file %zu bytes\n",
               params_text, sfu_hss_params_total(&params), sig_len, state_len);
        printf("  keygen (top tree)          %8.1f ms\n", keygen * 1e3);
        printf("  sign, cold (every tree)    %8.1f ms\n", sign_cold * 1e3);
        printf("  sign, next index in memory %8.1f ms\n", sign_warm * 1e3);
        printf("  sign through the key file  %8.1f ms CPU (plus the fsyncs)\n", file_sign * 1e3);
        sfu_hss_key_public(cold, pub);
        printf("  verify                     %8.3f ms (median of %d)\n",
               verify_ms(pub, msg, sizeof(msg), sig, sig_len), VERIFY_RUNS);

        printf("\nverification cost by parameter set (partial trees):\n");
        {
                const uint32_t lms[] = {SFU_HSS_LMS_SHA256_M32_H20}, ots[] = {SFU_HSS_LMOTS_SHA256_N32_W8};
                bench_partial("L=1 H20/W8", 1, lms, ots);
        }
        {
                const uint32_t lms[] = {SFU_HSS_LMS_SHA256_M32_H25}, ots[] = {SFU_HSS_LMOTS_SHA256_N32_W8};
                bench_partial("L=1 H25/W8", 1, lms, ots);
        }
        {
                const uint32_t lms[] = {SFU_HSS_LMS_SHA256_M32_H10, SFU_HSS_LMS_SHA256_M32_H10};
                const uint32_t ots[] = {SFU_HSS_LMOTS_SHA256_N32_W8, SFU_HSS_LMOTS_SHA256_N32_W8};
                bench_partial("L=2 H10/W8,H10/W8", 2, lms, ots);
        }
        {
                const uint32_t lms[] = {SFU_HSS_LMS_SHA256_M32_H20}, ots[] = {SFU_HSS_LMOTS_SHA256_N32_W1};
                bench_partial("L=1 H20/W1", 1, lms, ots);
        }
        {
                uint32_t lms[8], ots[8];
                for (unsigned l = 0; l < 8; l++) {
                        lms[l] = SFU_HSS_LMS_SHA256_M32_H25;
                        ots[l] = SFU_HSS_LMOTS_SHA256_N32_W8;
                }
                bench_partial("L=8 H25/W8 (most hashing)", 8, lms, ots);
        }
        free(sig);
        free(sig2);
        sfu_hss_key_free(key);
        sfu_hss_key_free(cold);
        OPENSSL_cleanse(state, sizeof(state));
        return 0;
}
