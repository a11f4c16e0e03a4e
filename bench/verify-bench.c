/* SPDX-License-Identifier: MIT */
/* How long a device takes to verify a manifest, by form and algorithm, as
 * ratios to one OpenSSL ES256 verification measured in the same run.
 * Each row is the whole device path, sfu_signed_open(): recognise the
 * form, parse it, check the signature with the trust store, parse the
 * manifest inside.
 *
 *   verify-bench MANIFEST.json ES256-KEY.pem
 *
 * Prints one line a row: NAME  MEDIAN-MS  RATIO.  Run by make bench
 * (tools/bench.sh); CPU time of one thread, median of many runs. */
#include <time.h>

#include <openssl/evp.h>

#include "bench/bench-common.h"
#include "bench/hss-partial.h"
#include "core/cbor.h"
#include "core/cose.h"
#include "core/hss-sign.h"
#include "core/json.h"
#include "core/jws.h"
#include "core/signed.h"

#define RUNS 201

static void die(const char *what, const struct sfu_err *err) {
        bench_die("verify-bench", what, err);
}

/* Median CPU ms of RUNS calls of fn. */
static double median_ms(void (*fn)(void *), void *userdata) {
        double t[RUNS];
        for (unsigned i = 0; i < RUNS; i++) {
                double t0 = bench_cpu_now();
                fn(userdata);
                t[i] = (bench_cpu_now() - t0) * 1e3;
        }
        qsort(t, RUNS, sizeof(t[0]), bench_cmp_double);
        return t[RUNS / 2];
}

struct opened {
        const uint8_t *buf;
        size_t len;
        const struct sfu_keyring *ring;
};

static void open_once(void *userdata) {
        const struct opened *o = userdata;
        struct sfu_manifest *m = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        if (sfu_signed_open(o->buf, o->len, o->ring, NULL, &m, NULL, &err) < 0)
                die("sfu_signed_open", &err);
        sfu_manifest_free(m);
}

struct raw {
        EVP_PKEY *pkey;
        const uint8_t *msg;
        size_t msg_len;
        uint8_t der[80];
        size_t der_len;
};

/* The baseline: one ECDSA P-256 verification through EVP, nothing else. */
static void raw_once(void *userdata) {
        const struct raw *x = userdata;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        if (!ctx || EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, x->pkey) != 1 ||
            EVP_DigestVerify(ctx, x->der, x->der_len, x->msg, x->msg_len) != 1)
                die("EVP_DigestVerify", NULL);
        EVP_MD_CTX_free(ctx);
}

static uint8_t hss_pub[SFU_HSS_PUBLIC_KEY_SIZE];

/* A signer that makes a partial-tree H20/W8 signature of what it is asked
 * to sign (hss-partial.h), for the cost of verifying the tallest trees. */
static int sign_partial(void *userdata, const void *input, size_t input_len, uint8_t **ret, size_t *ret_len,
                        struct sfu_err *err) {
        static uint8_t sig[SFU_HSS_SIGNATURE_MAX];
        const uint32_t *params = userdata;
        sfu_bench_hss_partial(1, &params[0], &params[1], hss_pub, input, input_len, sig, ret_len);
        *ret = malloc(*ret_len);
        if (!*ret)
                return -ENOMEM;
        memcpy(*ret, sig, *ret_len);
        (void) err;
        return 0;
}

static int sign_hss(void *userdata, const void *input, size_t input_len, uint8_t **ret, size_t *ret_len,
                    struct sfu_err *err) {
        return sfu_hss_sign(userdata, input, input_len, ret, ret_len, err);
}

static void row(const char *name, double ms, double base) {
        printf("%-44s %9.3f ms %8.2fx\n", name, ms, ms / base);
}

int main(int argc, char **argv) {
        struct sfu_err err = SFU_ERR_INIT;
        struct sfu_key *key = NULL, *pub = NULL, *hss_key = NULL, *tall_key = NULL;
        struct sfu_keyring *ring = NULL;
        _cleanup_free_ char *text = NULL, *jws = NULL;
        _cleanup_free_ uint8_t *cbor = NULL, *cose = NULL, *cose_hss = NULL, *cose_tall = NULL;
        _cleanup_json_ json_t *tree = NULL;
        size_t text_len = 0, cbor_len = 0, cose_len = 0, hss_len = 0, tall_len = 0;
        struct sfu_hss_params params;
        struct sfu_hss_key *hss = NULL;
        struct raw raw = {};
        double base;
        FILE *f;

        if (argc != 3) {
                fprintf(stderr, "usage: verify-bench MANIFEST.json ES256-KEY.pem\n");
                return 2;
        }
        f = fopen(argv[1], "re");
        if (!f)
                die(argv[1], NULL);
        text = malloc(SFU_MANIFEST_MAX_SIZE);
        text_len = text ? fread(text, 1, SFU_MANIFEST_MAX_SIZE - 1, f) : 0;
        fclose(f);
        if (sfu_key_load_file(argv[2], true, &key, &err) < 0 || sfu_key_load_file(argv[2], false, &pub, &err) < 0 ||
            sfu_keyring_new(&ring) < 0 || sfu_keyring_add(ring, pub, &err) < 0)
                die("key", &err);

        /* The forms. */
        if (sfu_jws_sign((const uint8_t *) text, text_len, key, &(struct sfu_jws_sign_opts) { .alg = SFU_ALG_ES256 },
                         &jws, &err) < 0)
                die("JWS", &err);
        if (sfu_json_parse_object(text, text_len, SFU_MANIFEST_MAX_SIZE, &tree, &err) < 0 ||
            sfu_cbor_encode_json(tree, SFU_MANIFEST_CBOR_BYTES_KEY, &cbor, &cbor_len, &err) < 0 ||
            sfu_cose_sign1(cbor, cbor_len, key,
                           &(struct sfu_cose_sign_opts) { .alg = SFU_ALG_ES256, .content = SFU_COSE_CONTENT_CBOR },
                           &cose, &cose_len, &err) < 0)
                die("COSE", &err);
        if (sfu_hss_params_from_string(SFU_HSS_PARAMS_DEFAULT, &params, &err) < 0 ||
            sfu_hss_keygen(&params, &hss, &err) < 0)
                die("HSS key", &err);
        sfu_hss_key_public(hss, hss_pub);
        if (sfu_key_from_hss(hss_pub, sizeof(hss_pub), "hss", &hss_key, &err) < 0 ||
            sfu_keyring_add(ring, hss_key, &err) < 0 ||
            sfu_cose_sign1_with((const uint8_t *) text, text_len, SFU_COSE_CONTENT_JSON,
                                &(struct sfu_signer) { .alg = SFU_ALG_HSS_LMS, .kid = hss_key->kid, .sign = sign_hss,
                                                       .userdata = hss },
                                &cose_hss, &hss_len, &err) < 0)
                die("HSS COSE", &err);
        {
                /* The partial-tree key is made while signing; kid "tall" names it. */
                static const uint32_t tall[2] = { SFU_HSS_LMS_SHA256_M32_H20, SFU_HSS_LMOTS_SHA256_N32_W8 };
                if (sfu_cose_sign1_with((const uint8_t *) text, text_len, SFU_COSE_CONTENT_JSON,
                                        &(struct sfu_signer) { .alg = SFU_ALG_HSS_LMS, .kid = "tall",
                                                               .sign = sign_partial, .userdata = (void *) tall },
                                        &cose_tall, &tall_len, &err) < 0 ||
                    sfu_key_from_hss(hss_pub, sizeof(hss_pub), "tall", &tall_key, &err) < 0)
                        die("HSS H20/W8 COSE", &err);
                free(tall_key->kid);
                tall_key->kid = strdup("tall");
                if (!tall_key->kid || sfu_keyring_add(ring, tall_key, &err) < 0)
                        die("HSS H20/W8 key", &err);
        }

        /* The baseline's own signature, DER as OpenSSL wants it. */
        raw.pkey = key->pkey;
        raw.msg = (const uint8_t *) text;
        raw.msg_len = text_len;
        {
                EVP_MD_CTX *ctx = EVP_MD_CTX_new();
                raw.der_len = sizeof(raw.der);
                if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key->pkey) != 1 ||
                    EVP_DigestSign(ctx, raw.der, &raw.der_len, raw.msg, raw.msg_len) != 1)
                        die("baseline signature", NULL);
                EVP_MD_CTX_free(ctx);
        }

        base = median_ms(raw_once, &raw);
        printf("verify: the whole device path (form, signature, manifest), median of %d, CPU ms\n", RUNS);
        row("baseline: OpenSSL ES256 verify (EVP)", base, base);
        row("JWS ES256 (compact)", median_ms(open_once, &(struct opened) { (const uint8_t *) jws, strlen(jws), ring }),
            base);
        row("COSE_Sign1 ES256 (CBOR manifest)", median_ms(open_once, &(struct opened) { cose, cose_len, ring }), base);
        row("COSE_Sign1 HSS-LMS H10/W4,H10/W4 (default)",
            median_ms(open_once, &(struct opened) { cose_hss, hss_len, ring }), base);
        row("COSE_Sign1 HSS-LMS H20/W8 (one level)",
            median_ms(open_once, &(struct opened) { cose_tall, tall_len, ring }), base);
        printf("signature sizes: HSS default %zu bytes in a %zu-byte COSE_Sign1, H20/W8 %zu-byte COSE_Sign1\n",
               hss_len - text_len, hss_len, tall_len);
        sfu_hss_key_free(hss);
        sfu_keyring_free(ring);
        sfu_key_free(key);
        return 0;
}
