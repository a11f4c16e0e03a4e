/* SPDX-License-Identifier: MIT */
/* secfu-manifest decrypt: what a device does with an encrypted manifest
 * (the JWE or COSE_Encrypt opened with its key; the signed manifest inside printed, not
 * verified) or an encrypted image (decrypted with the key its manifest
 * carries, its digests checked). */
#include <fcntl.h>
#include <inttypes.h>

#include "core/digest.h"
#include "core/envelope.h"
#include "core/manifest.h"
#include "core/segcrypt.h"
#include "core/signed.h"
#include "io/fileio.h"
#include "tool/tool.h"

#define DECRYPT_BLOCK (256u * 1024u)

static void help(void) {
        printf("Usage: " SFU_TOOL_PROG " decrypt --key KEY [--key KEY ...] FILE\n"
               "       " SFU_TOOL_PROG " decrypt --image ENC --manifest MANIFEST [--name NAME] -o OUT\n\n"
               "With --key: decrypts the JWE (compact or JSON, from any JOSE library) or\n"
               "the COSE_Encrypt in FILE with a device's private key(s), as a device does,\n"
               "and prints the signed manifest inside byte for byte. It must be a JWS or\n"
               "COSE signed manifest whose type agrees with the envelope's content type;\n"
               "its signatures are NOT verified here (verify does that).\n\n"
               "With --image: decrypts the encrypted image ENC into OUT (a new file) with\n"
               "the key of its \"encryption\" member in MANIFEST (a manifest, or a JWS whose\n"
               "payload is used without verifying it), and checks the image's digests.\n\n"
               "  --key KEY          a device's private decryption key (PEM or JWK: RSA,\n"
               "                     EC P-256/384/521 or X25519); repeatable\n"
               "  --image ENC        the encrypted image\n"
               "  --manifest FILE    the manifest describing it\n"
               "  --name NAME        which image of a split manifest (default: the only\n"
               "                     encrypted one)\n"
               "  -o, --output OUT   the decrypted image to create (never overwritten)\n");
}

static const struct sfu_tool_command command = { "decrypt", help };

struct key_paths {
        const char *items[SFU_KEYRING_MAX];
        size_t n;
};

static int add_key(void *target, const char *path) {
        struct key_paths *k = target;

        if (k->n >= ELEMENTSOF(k->items))
                return sfu_tool_usage_error(command.name, "at most %zu --key options", ELEMENTSOF(k->items));
        k->items[k->n++] = path;
        return 0;
}

/* ---------------------------------------------------------------- manifests */

static void result_clearp(struct sfu_jwe_result *r) {
        sfu_jwe_result_clear(r);
}

static int decrypt_manifest(const char *path, const struct key_paths *paths, struct sfu_err *err) {
        _cleanup_keyring_ struct sfu_keyring *ring = NULL;
        _cleanup_free_ char *input = NULL;
        _cleanup_(result_clearp) struct sfu_jwe_result res = {};
        size_t len = 0;
        int r;

        r = sfu_tool_load_decryption_keys(paths->items, paths->n, &ring, err);
        if (r < 0)
                return r;
        r = sfu_tool_read_input(path, SFU_JWE_MAX_SIZE, &input, &len, err);
        if (r < 0)
                return r;
        /* a JWE may end with a newline; a COSE_Encrypt is binary */
        if (sfu_envelope_detect(input, len) == SFU_ENVELOPE_JWE)
                len = sfu_tool_trim_space(input, len);
        r = sfu_envelope_open(input, len, ring, &res, err);
        if (r < 0)
                return r;
        return sfu_tool_write_stdout(res.plaintext, res.plaintext_len, err);
}

/* ---------------------------------------------------------------- images */

struct image_out {
        int fd;
        const char *path;
        struct sfu_digest_set *digests;
};

static int write_plain(void *userdata, const uint8_t *data, size_t len, struct sfu_err *err) {
        struct image_out *o = userdata;

        if (sfu_digest_set_update(o->digests, data, len) < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, EIO, "cannot hash the image");
        while (len > 0) {
                ssize_t n = write(o->fd, data, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        int e = n < 0 ? errno : EIO;
                        return sfu_err_set(err, SFU_ERR_STORAGE, e, "cannot write %s: %s", o->path, strerror(e));
                }
                data += n;
                len -= (size_t) n;
        }
        return 0;
}

/* The manifest: JSON, or the payload of a JWS (not verified). */
static int load_manifest(const char *path, struct sfu_manifest **ret, struct sfu_err *err) {
        _cleanup_free_ char *input = NULL;
        _cleanup_jws_ struct sfu_jws *jws = NULL;
        size_t len = 0, trimmed;
        int r;

        r = sfu_tool_read_input(path, SFU_JWS_MAX_SIZE, &input, &len, err);
        if (r < 0)
                return r;
        trimmed = sfu_tool_trim_space(input, len);
        if (sfu_jws_parse(input, trimmed, &jws, NULL) == 0)
                return sfu_manifest_parse_json((const char *) jws->payload, jws->payload_len, SFU_MANIFEST_MAX_SIZE,
                                               ret, err);
        return sfu_manifest_parse_json(input, len, SFU_MANIFEST_MAX_SIZE, ret, err);
}

static int pick_image(const struct sfu_manifest *m, const char *name, const struct sfu_manifest_image **ret,
                      struct sfu_err *err) {
        const struct sfu_manifest_image *found = NULL;

        for (size_t i = 0; i < m->n_images; i++) {
                const struct sfu_manifest_image *img = &m->images[i];
                if (name ? !sfu_streq(img->name, name) : !img->encryption.present)
                        continue;
                if (found)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "the manifest has several encrypted images: choose one with --name");
                found = img;
        }
        if (!found && name)
                return sfu_err_set(err, SFU_ERR_PARSE, ENOENT, "the manifest has no image named %s", name);
        if (!found)
                return sfu_err_set(err, SFU_ERR_PARSE, ENOENT, "the manifest has no encrypted image");
        if (!found->encryption.present)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the manifest's image %s is not encrypted", found->name);
        *ret = found;
        return 0;
}

static int check_digests(const struct sfu_manifest_image *img, const struct sfu_digest_set *set, struct sfu_err *err) {
        for (size_t i = 0; i < img->n_digests; i++) {
                uint8_t got[SFU_DIGEST_MAX_SIZE];
                if (sfu_digest_set_get(set, img->digests[i].alg, got) < 0)
                        return -EIO;
                if (memcmp(got, img->digests[i].value, sfu_digest_size(img->digests[i].alg)) != 0)
                        return sfu_err_set(err, SFU_ERR_DIGEST, EBADMSG, "the decrypted image's %s does not match the manifest",
                                           sfu_digest_name(img->digests[i].alg));
        }
        return 0;
}

static int decrypt_image(const char *enc_path, const char *manifest_path, const char *name, const char *out_path,
                         struct sfu_err *err) {
        _cleanup_manifest_ struct sfu_manifest *m = NULL;
        _cleanup_digest_set_ struct sfu_digest_set *digests = NULL;
        _cleanup_segcrypt_ struct sfu_segcrypt *s = NULL;
        _cleanup_close_ int in_fd = -1, out_fd = -1;
        _cleanup_free_ uint8_t *buf = NULL;
        const struct sfu_manifest_image *img = NULL;
        struct image_out out = { .path = out_path };
        int r;

        r = load_manifest(manifest_path, &m, err);
        if (r < 0)
                return r;
        r = pick_image(m, name, &img, err);
        if (r < 0)
                return r;
        if (!img)
                return -EINVAL;
        r = sfu_digest_set_new(img->digest_mask, &digests);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot set up the digests");
        out.digests = digests;
        r = sfu_file_open_regular(enc_path, &in_fd, err);
        if (r < 0)
                return r;
        buf = malloc(DECRYPT_BLOCK);
        if (!buf)
                return -ENOMEM;
        r = sfu_file_create_new(out_path, 0644, &out_fd, err);
        if (r < 0)
                return r;
        out.fd = out_fd;
        r = sfu_segcrypt_decrypt_new(&img->encryption.params, 0, img->encryption.size, write_plain, &out, &s, err);
        for (;;) {
                ssize_t n;

                if (r < 0)
                        break;
                n = read(in_fd, buf, DECRYPT_BLOCK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot read %s: %s", enc_path, strerror(errno));
                        break;
                }
                if (n == 0) {
                        r = sfu_segcrypt_finish(s, err);
                        break;
                }
                r = sfu_segcrypt_feed(s, buf, (size_t) n, err);
        }
        if (r >= 0 && img->has_size && sfu_segcrypt_plaintext_done(s) != img->size)
                r = sfu_err_set(err, SFU_ERR_DIGEST, EBADMSG, "the decrypted image is %" PRIu64 " bytes, not %" PRIu64,
                                sfu_segcrypt_plaintext_done(s), img->size);
        if (r >= 0)
                r = sfu_digest_set_final(digests) < 0 ? -EIO : check_digests(img, digests, err);
        if (r >= 0)
                r = sfu_file_finish(TAKE_FD(out_fd), out_path, NULL, 0, 0644, err);
        if (r < 0)
                (void) unlink(out_path);
        return r;
}

int sfu_tool_decrypt(int argc, char **argv) {
        const char *cmd = command.name, *image = NULL, *manifest = NULL, *name = NULL, *out = NULL, *path = NULL;
        struct key_paths keys = {};
        const struct sfu_tool_option options[] = {
                { "key", 0, SFU_TOOL_CALL, &keys, add_key },
                { "image", 0, SFU_TOOL_STRING, &image },
                { "manifest", 0, SFU_TOOL_STRING, &manifest },
                { "name", 0, SFU_TOOL_STRING, &name },
                { "output", 'o', SFU_TOOL_STRING, &out },
        };
        struct sfu_err err = SFU_ERR_INIT;
        int r, status;

        if (sfu_tool_parse_options(&command, argc, argv, options, ELEMENTSOF(options), &status) < 0)
                return status;
        if (image) {
                if (keys.n > 0)
                        return sfu_tool_usage_error(cmd, "--image does not go with --key: the key is in the manifest");
                if (!manifest || !out)
                        return sfu_tool_usage_error(cmd, "--image needs --manifest FILE and -o OUT");
                if (optind != argc)
                        return sfu_tool_usage_error(cmd, "--image takes no operand");
                r = decrypt_image(image, manifest, name, out, &err);
        } else {
                if (manifest || name || out)
                        return sfu_tool_usage_error(cmd, "--manifest, --name and -o go with --image");
                if (keys.n == 0)
                        return sfu_tool_usage_error(cmd, "either --key KEY (a JWE) or --image ENC is required");
                if (sfu_tool_one_operand(&command, argc, argv, &path, &status) < 0)
                        return status;
                r = decrypt_manifest(path, &keys, &err);
        }
        if (r < 0)
                return sfu_tool_fail(cmd, r, &err);
        return EXIT_SUCCESS;
}
