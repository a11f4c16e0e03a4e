/* SPDX-License-Identifier: MIT */
/* Baseline A of `make bench`: the practical limit for one process that
 * GETs an image with libcurl, feeds every block to OpenSSL's SHA-256 and
 * SHA-512, writes it in place into a slot file and fsyncs at the end.
 *
 *   baseline-a URL SLOT
 * prints "BYTES SECONDS SHA256-HEX SHA512-HEX" on stdout; exit 0 on success. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

struct sink {
        int fd;
        off_t offset;
        EVP_MD_CTX *sha256, *sha512;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata) {
        struct sink *s = userdata;
        size_t len = size * nmemb, done = 0;

        if (EVP_DigestUpdate(s->sha256, data, len) != 1 || EVP_DigestUpdate(s->sha512, data, len) != 1)
                return 0;
        while (done < len) {
                ssize_t n = pwrite(s->fd, data + done, len - done, s->offset + (off_t) done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return 0;
                done += (size_t) n;
        }
        s->offset += (off_t) len;
        return len;
}

static void print_hex(const unsigned char *p, unsigned len) {
        for (unsigned i = 0; i < len; i++)
                printf("%02x", p[i]);
}

int main(int argc, char **argv) {
        struct sink s = { .sha256 = EVP_MD_CTX_new(), .sha512 = EVP_MD_CTX_new() };
        unsigned char d256[EVP_MAX_MD_SIZE], d512[EVP_MAX_MD_SIZE];
        unsigned l256 = 0, l512 = 0;
        struct timespec t0, t1;
        CURLcode rc;
        CURL *curl;

        if (argc != 3) {
                fprintf(stderr, "usage: baseline-a URL SLOT\n");
                return 2;
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        s.fd = open(argv[2], O_WRONLY | O_CLOEXEC);
        if (s.fd < 0 || !s.sha256 || !s.sha512 || EVP_DigestInit_ex(s.sha256, EVP_sha256(), NULL) != 1 ||
            EVP_DigestInit_ex(s.sha512, EVP_sha512(), NULL) != 1 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
            !(curl = curl_easy_init())) {
                perror("baseline-a: setup");
                return 1;
        }
        curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
        curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
        rc = curl_easy_perform(curl);
        if (rc != CURLE_OK) {
                fprintf(stderr, "baseline-a: %s\n", curl_easy_strerror(rc));
                return 1;
        }
        if (fsync(s.fd) < 0 || close(s.fd) < 0) {
                perror("baseline-a: fsync");
                return 1;
        }
        EVP_DigestFinal_ex(s.sha256, d256, &l256);
        EVP_DigestFinal_ex(s.sha512, d512, &l512);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("%lld %.6f ", (long long) s.offset,
               (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9);
        print_hex(d256, l256);
        putchar(' ');
        print_hex(d512, l512);
        putchar('\n');
        curl_easy_cleanup(curl);
        EVP_MD_CTX_free(s.sha256);
        EVP_MD_CTX_free(s.sha512);
        return 0;
}
