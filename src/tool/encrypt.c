/* SPDX-License-Identifier: MIT */
/* secfu-manifest encrypt: a signed manifest into a JWE for device keys
 * (--to; or a COSE_Encrypt with --cose), or an image into the segmented encrypted format with a fresh
 * content key (--image), whose manifest member is printed or merged into
 * a manifest (doc/encryption.md). */
#include <fcntl.h>
#include <inttypes.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "core/b64url.h"
#include "core/digest.h"
#include "core/json.h"
#include "core/cose-crypt.h"
#include "core/jwe.h"
#include "core/manifest.h"
#include "core/segcrypt.h"
#include "core/signed.h"
#include "io/fileio.h"
#include "tool/tool.h"

#define ENCRYPT_BLOCK (256u * 1024u)

static void help(void) {
        printf("Usage: " SFU_TOOL_PROG " encrypt --to KEY [--to KEY ...] [--json | --cose] [-o OUT]\n"
               "           SIGNED-MANIFEST\n"
               "       " SFU_TOOL_PROG " encrypt --image IMG -o OUT [--segment-size N]\n"
               "           [--manifest MANIFEST [--name NAME] [--location LOC]]\n\n"
               "With --to: encrypts a signed manifest (JWS or COSE, as sign writes it) for\n"
               "the devices holding the private halves of the given keys and prints the JWE:\n"
               "ECDH-ES+A256KW for EC (P-256, P-384, P-521) and X25519 keys, RSA-OAEP-256 for\n"
               "RSA keys, A256GCM content encryption, \"cty\" naming the signed manifest's\n"
               "type. One recipient gives the compact serialization, several the general\n"
               "JSON serialization. With --cose: a COSE_Encrypt (binary CBOR, tag 96) with\n"
               "one COSE_recipient per key (ECDH-ES + A256KW with HKDF-SHA-256, or\n"
               "RSA-OAEP-256) and A256GCM, its content type naming the signed manifest.\n\n"
               "With --image: encrypts IMG into OUT (a new file) with a fresh random content\n"
               "key in the segmented A256GCM-STREAM format and prints the manifest member\n"
               "\"encryption\" that a device needs to decrypt it. With --manifest (a manifest\n"
               "as create writes it), prints that manifest instead with the member added to\n"
               "the image (the one named NAME, or the one whose location names IMG), its\n"
               "location pointed at OUT (or LOC) and \"encryption\" listed in crit, after\n"
               "checking that the image's digests and size are IMG's. The member holds the\n"
               "content key: sign the manifest, then publish it only encrypted with --to.\n\n"
               "  --to KEY            a recipient's public (or private) key, PEM or JWK;\n"
               "                      repeatable, at most 16\n"
               "  --json              the general JSON serialization even for one recipient\n"
               "  --cose              a COSE_Encrypt instead of a JWE (written to -o OUT, or\n"
               "                      to standard output when it is not a terminal)\n"
               "  --image IMG         the plaintext image\n"
               "  -o, --output OUT    the encrypted image to create (never overwritten); with\n"
               "                      --to, the file to write the envelope to (atomically)\n"
               "  --segment-size N    plaintext bytes per segment (default 65536)\n"
               "  --manifest FILE     a manifest to add the member to\n"
               "  --name NAME         the image of a split manifest to encrypt\n"
               "  --location LOC      the encrypted image's location (default: the image's\n"
               "                      location with its last path segment replaced by OUT's)\n");
}

static const struct sfu_tool_command command = { "encrypt", help };

struct recipients {
        const char *paths[SFU_JWE_MAX_RECIPIENTS];
        size_t n;
};

static int add_recipient(void *target, const char *path) {
        struct recipients *r = target;

        if (r->n >= ELEMENTSOF(r->paths))
                return sfu_tool_usage_error(command.name, "at most %d --to options", SFU_JWE_MAX_RECIPIENTS);
        r->paths[r->n++] = path;
        return 0;
}

static int parse_segment_size(void *target, const char *text) {
        uint32_t *ret = target;
        char *end;
        unsigned long long n;

        errno = 0;
        n = strtoull(text, &end, 10);
        if (errno || end == text || *end || text[0] < '0' || text[0] > '9' || !sfu_segcrypt_segment_size_ok(n))
                return sfu_tool_usage_error(command.name, "--segment-size must be a number from %u to %u",
                                            SFU_SEGCRYPT_MIN_SEGMENT, SFU_SEGCRYPT_MAX_SEGMENT);
        *ret = (uint32_t) n;
        return 0;
}

/* ---------------------------------------------------------------- --to */

static void keys_freep(struct sfu_key *(*keys)[SFU_JWE_MAX_RECIPIENTS]) {
        for (size_t i = 0; i < SFU_JWE_MAX_RECIPIENTS; i++)
                sfu_key_free((*keys)[i]);
}

/* The COSE_Encrypt's content type for a signed manifest of this form:
 * application/cose with the cose-type parameter of RFC 9052 section 2,
 * or the JWS media type. */
static const char *cose_content_type(enum sfu_signed_form form) {
        switch (form) {
        case SFU_SIGNED_COSE_SIGN1:
                return "application/cose; cose-type=\"cose-sign1\"";
        case SFU_SIGNED_COSE_SIGN:
                return "application/cose; cose-type=\"cose-sign\"";
        case SFU_SIGNED_JWS_COMPACT:
        case SFU_SIGNED_JWS_JSON:
        case _SFU_SIGNED_FORM_MAX:
        default:
                return sfu_signed_media_type(form);
        }
}

static int encrypt_manifest(const char *path, const struct recipients *to, bool json, bool cose, const char *output,
                            struct sfu_err *err) {
        _cleanup_(keys_freep) struct sfu_key *keys[SFU_JWE_MAX_RECIPIENTS] = {};
        _cleanup_free_ char *input = NULL, *out = NULL;
        const struct sfu_key *recipients[SFU_JWE_MAX_RECIPIENTS];
        struct sfu_jwe_encrypt_opts opts = { .form = json ? SFU_JWE_ENCRYPT_GENERAL : SFU_JWE_ENCRYPT_AUTO };
        enum sfu_signed_form form;
        const char *media;
        size_t len = 0;
        int r;

        for (size_t i = 0; i < to->n; i++) {
                r = sfu_key_load_file_for(to->paths[i], SFU_KEY_USE_ENC, false, &keys[i], err);
                if (r < 0)
                        return r;
                recipients[i] = keys[i];
        }
        r = sfu_tool_read_input(path, SFU_JWE_MAX_PLAINTEXT, &input, &len, err);
        if (r < 0)
                return r;
        /* A JWS as sign prints it ends with a newline; COSE is binary. */
        if (sfu_signed_detect(input, len, &form) < 0 || sfu_signed_family_of(form) == SFU_SIGNED_FAMILY_JWS)
                len = sfu_tool_trim_space(input, len);
        if (sfu_signed_detect(input, len, &form) < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                   "%s is not a signed manifest (a JWS or a COSE_Sign1 / COSE_Sign): sign it first", path);
        if (cose) {
                _cleanup_free_ uint8_t *ce = NULL;
                size_t ce_len = 0;
                r = sfu_cose_crypt_encrypt((const uint8_t *) input, len, recipients, to->n, cose_content_type(form),
                                           false, &ce, &ce_len, err);
                if (r < 0)
                        return r;
                return sfu_tool_write_output(output, ce, ce_len, true, err);
        }
        /* cty: the media type without "application/" (RFC 7516 4.1.12) */
        media = sfu_signed_media_type(form);
        opts.cty = strchr(media, '/') ? strchr(media, '/') + 1 : media;
        r = sfu_jwe_encrypt((const uint8_t *) input, len, recipients, to->n, &opts, &out, err);
        if (r < 0)
                return r;
        if (output) {
                _cleanup_free_ char *line = sfu_tool_format("%s\n", out);
                return line ? sfu_tool_write_output(output, line, strlen(line), false, err) : -ENOMEM;
        }
        r = sfu_tool_write_stdout(out, strlen(out), err);
        if (r < 0)
                return r;
        return sfu_tool_write_stdout("\n", 1, err);
}

/* ---------------------------------------------------------------- --image */

struct image_out {
        int fd;
        const char *path;
        uint64_t written;
};

static int write_out(void *userdata, const uint8_t *data, size_t len, struct sfu_err *err) {
        struct image_out *o = userdata;

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
                o->written += (uint64_t) n;
        }
        return 0;
}

/* Encrypts in_path into a new out_path; the plaintext's digests and size
 * on the way. */
static int encrypt_file(const char *in_path, const char *out_path, const struct sfu_segcrypt_params *params,
                        struct sfu_digest_set *digests, uint64_t *ret_plain, uint64_t *ret_cipher,
                        struct sfu_err *err) {
        _cleanup_segcrypt_ struct sfu_segcrypt *s = NULL;
        _cleanup_close_ int in_fd = -1, out_fd = -1;
        _cleanup_free_ uint8_t *buf = NULL;
        struct image_out out = { .path = out_path };
        uint64_t plain = 0;
        int r;

        r = sfu_file_open_regular(in_path, &in_fd, err);
        if (r < 0)
                return r;
        buf = malloc(ENCRYPT_BLOCK);
        if (!buf)
                return sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        r = sfu_file_create_new(out_path, 0644, &out_fd, err);
        if (r < 0)
                return r;
        out.fd = out_fd;
        r = sfu_segcrypt_encrypt_new(params, write_out, &out, &s, err);
        for (;;) {
                ssize_t n;

                if (r < 0)
                        break;
                n = read(in_fd, buf, ENCRYPT_BLOCK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = sfu_err_set(err, SFU_ERR_STORAGE, errno, "cannot read %s: %s", in_path, strerror(errno));
                        break;
                }
                if (n == 0) {
                        r = sfu_segcrypt_finish(s, err);
                        break;
                }
                plain += (uint64_t) n;
                r = sfu_digest_set_update(digests, buf, (size_t) n);
                if (r < 0) {
                        r = sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot hash %s", in_path);
                        break;
                }
                r = sfu_segcrypt_feed(s, buf, (size_t) n, err);
        }
        if (r >= 0)
                r = sfu_digest_set_final(digests);
        if (r >= 0)
                r = sfu_file_finish(TAKE_FD(out_fd), out_path, NULL, 0, 0644, err);
        if (r < 0) {
                (void) unlink(out_path);
                return r;
        }
        *ret_plain = plain;
        *ret_cipher = out.written;
        return 0;
}

/* The member of doc/encryption.md, key included. */
static json_t *member_json(const struct sfu_segcrypt_params *params, uint64_t size) {
        _cleanup_secret_ char *key = sfu_b64url_encode(params->key, sizeof(params->key));
        _cleanup_free_ char *prefix = sfu_b64url_encode(params->nonce_prefix, sizeof(params->nonce_prefix));

        if (!key || !prefix)
                return NULL;
        return json_pack("{s:s, s:s, s:s, s:I, s:I}", "alg", SFU_SEGCRYPT_ALG, "key", key, "noncePrefix", prefix,
                         "segmentSize", (json_int_t) params->segment_size, "size", (json_int_t) size);
}

static const char *basename_of(const char *path) {
        const char *slash = strrchr(path, '/');
        return slash ? slash + 1 : path;
}

/* The image entry of the manifest to encrypt: in the single-image form
 * the root (its members firmwareLocation / firmwareSize /
 * firmwareCryptoInfo), in the split form the entry named name or the one
 * whose location names the image file. */
static int find_image(json_t *root, const char *name, const char *image_path, json_t **ret_entry, bool *ret_split,
                      struct sfu_err *err) {
        json_t *images = json_object_get(root, "images"), *entry, *found = NULL;
        size_t i;

        if (!images) {
                if (name && !sfu_streq(name, "firmware"))
                        return sfu_err_set(err, SFU_ERR_PARSE, ENOENT,
                                           "--name %s: the manifest has a single image (\"firmware\")", name);
                *ret_entry = root;
                *ret_split = false;
                return 0;
        }
        json_array_foreach(images, i, entry) {
                const char *n = json_string_value(json_object_get(entry, "name"));
                const char *loc = json_string_value(json_object_get(entry, "location"));
                bool match = name ? sfu_streq(n, name) : (loc && sfu_streq(basename_of(loc), basename_of(image_path)));
                if (!match)
                        continue;
                if (found)
                        return sfu_err_set(err, SFU_ERR_PARSE, EINVAL,
                                           "several images of the manifest are at %s: choose one with --name",
                                           basename_of(image_path));
                found = entry;
        }
        if (!found && name)
                return sfu_err_set(err, SFU_ERR_PARSE, ENOENT, "the manifest has no image named %s", name);
        if (!found)
                return sfu_err_set(err, SFU_ERR_PARSE, ENOENT, "no image of the manifest is at %s: choose one with --name",
                                   basename_of(image_path));
        *ret_entry = found;
        *ret_split = true;
        return 0;
}

/* The image's digests and size in the manifest must be IMG's. */
static int check_image(json_t *entry, bool split, const struct sfu_digest_set *digests, uint64_t plain_size,
                       struct sfu_err *err) {
        json_t *list = split ? json_object_get(entry, "commitHash")
                             : json_object_get(json_object_get(entry, "firmwareCryptoInfo"), "commitHash");
        json_t *size = json_object_get(entry, split ? "size" : "firmwareSize"), *d;
        size_t i, checked = 0;

        if (size && (!json_is_integer(size) || (uint64_t) json_integer_value(size) != plain_size))
                return sfu_err_set(err, SFU_ERR_DIGEST, EINVAL, "the manifest's size of the image is not the %" PRIu64
                                   " bytes of the image file", plain_size);
        json_array_foreach(list, i, d) {
                enum sfu_digest_alg alg;
                uint8_t want[SFU_DIGEST_MAX_SIZE];
                char hex[2 * SFU_DIGEST_MAX_SIZE + 1];
                const char *algo = json_string_value(json_object_get(d, "digestAlgo"));
                const char *hash = json_string_value(json_object_get(d, "hash"));

                if (!algo || !hash || sfu_digest_from_name(algo, &alg) < 0)
                        continue;
                if (sfu_digest_set_get(digests, alg, want) < 0)
                        return -EIO;
                for (size_t k = 0; k < sfu_digest_size(alg); k++)
                        snprintf(hex + 2 * k, 3, "%02x", want[k]);
                if (strcasecmp(hex, hash) != 0)
                        return sfu_err_set(err, SFU_ERR_DIGEST, EINVAL,
                                           "the manifest's %s of the image is not the image file's: is it the right image?",
                                           sfu_digest_name(alg));
                checked++;
        }
        if (checked == 0)
                return sfu_err_set(err, SFU_ERR_DIGEST, EINVAL, "the manifest lists no sha256/384/512 digest of the image");
        return 0;
}

/* LOC, or the old location with its last path segment replaced by OUT's
 * name. */
static int new_location(const char *old, const char *out_path, const char *loc, char **ret) {
        const char *slash;

        if (loc)
                *ret = strdup(loc);
        else if (old && (slash = strrchr(old, '/')))
                *ret = sfu_tool_format("%.*s/%s", (int) (slash - old), old, basename_of(out_path));
        else
                *ret = strdup(basename_of(out_path));
        return *ret ? 0 : -ENOMEM;
}

static int add_crit(json_t *root) {
        json_t *crit = json_object_get(root, "crit"), *v;
        size_t i;

        if (!crit) {
                crit = json_array();
                if (json_object_set_new(root, "crit", crit) < 0)
                        return -ENOMEM;
        }
        if (!json_is_array(crit))
                return -EINVAL;
        json_array_foreach(crit, i, v) if (sfu_streq(json_string_value(v), "encryption")) return 0;
        return json_array_append_new(crit, json_string("encryption")) < 0 ? -ENOMEM : 0;
}

/* Prints the manifest with the member added, after checking that it is
 * still a valid manifest. */
static int merge_member(const char *manifest_path, const char *name, const char *image_path, const char *out_path,
                        const char *loc, const struct sfu_digest_set *digests, uint64_t plain, json_t *member,
                        struct sfu_err *err) {
        _cleanup_json_ json_t *root = NULL;
        _cleanup_free_ char *text = NULL, *location = NULL;
        _cleanup_secret_ char *out = NULL;
        _cleanup_manifest_ struct sfu_manifest *check = NULL;
        json_t *entry = NULL, *target;
        bool split = false;
        size_t len = 0;
        int r;

        r = sfu_tool_read_input(manifest_path, SFU_MANIFEST_MAX_SIZE, &text, &len, err);
        if (r < 0)
                return r;
        r = sfu_json_parse_object(text, len, SFU_MANIFEST_MAX_SIZE, &root, err);
        if (r < 0) {
                sfu_err_prefix(err, "%s", manifest_path);
                return r;
        }
        r = find_image(root, name, image_path, &entry, &split, err);
        if (r < 0)
                return r;
        r = check_image(entry, split, digests, plain, err);
        if (r < 0)
                return r;
        target = split ? entry : json_object_get(entry, "firmwareCryptoInfo");
        if (!json_is_object(target))
                return sfu_err_set(err, SFU_ERR_PARSE, EINVAL, "the manifest has no firmwareCryptoInfo object");
        r = new_location(json_string_value(json_object_get(entry, split ? "location" : "firmwareLocation")), out_path,
                         loc, &location);
        if (r < 0)
                return r;
        if (json_object_set(target, "encryption", member) < 0 ||
            json_object_set_new(entry, split ? "location" : "firmwareLocation", json_string(location)) < 0 ||
            add_crit(root) < 0)
                return sfu_err_set(err, SFU_ERR_PARSE, ENOMEM, "cannot edit the manifest");
        out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!out)
                return sfu_err_set(err, SFU_ERR_PARSE, ENOMEM, "cannot write the manifest");
        r = sfu_manifest_parse_json(out, strlen(out), SFU_MANIFEST_MAX_SIZE, &check, err);
        if (r < 0) {
                sfu_err_prefix(err, "the manifest with the encrypted image would not be valid");
                return r;
        }
        r = sfu_tool_write_stdout(out, strlen(out), err);
        if (r < 0)
                return r;
        return sfu_tool_write_stdout("\n", 1, err);
}

static int encrypt_image(const char *image, const char *out_path, uint32_t segment_size, const char *manifest,
                         const char *name, const char *loc, struct sfu_err *err) {
        _cleanup_digest_set_ struct sfu_digest_set *digests = NULL;
        _cleanup_json_ json_t *member = NULL;
        _cleanup_secret_ char *text = NULL;
        struct sfu_segcrypt_params params = {};
        uint64_t plain = 0, cipher = 0, want = 0;
        int r;

        r = sfu_digest_set_new(SFU_DIGEST_MASK(SFU_DIGEST_SHA256) | SFU_DIGEST_MASK(SFU_DIGEST_SHA384) |
                                       SFU_DIGEST_MASK(SFU_DIGEST_SHA512),
                               &digests);
        if (r < 0)
                return sfu_err_set(err, SFU_ERR_STORAGE, -r, "cannot set up the digests");
        r = sfu_segcrypt_params_generate(segment_size, &params, err);
        if (r >= 0)
                r = encrypt_file(image, out_path, &params, digests, &plain, &cipher, err);
        if (r >= 0 && (sfu_segcrypt_ciphertext_size(plain, segment_size, &want) < 0 || want != cipher))
                r = sfu_err_set(err, SFU_ERR_STORAGE, EIO, "%s: %" PRIu64 " bytes written, %" PRIu64 " expected",
                                out_path, cipher, want);
        if (r >= 0) {
                member = member_json(&params, cipher);
                if (!member)
                        r = sfu_err_set(err, SFU_ERR_STORAGE, ENOMEM, "out of memory");
        }
        OPENSSL_cleanse(&params, sizeof(params));
        if (r < 0)
                return r;
        if (manifest)
                r = merge_member(manifest, name, image, out_path, loc, digests, plain, member, err);
        else {
                text = json_dumps(member, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                r = text ? sfu_tool_write_stdout(text, strlen(text), err) : -ENOMEM;
                if (r >= 0)
                        r = sfu_tool_write_stdout("\n", 1, err);
        }
        /* the key text jansson holds */
        sfu_wipe((char *) json_string_value(json_object_get(member, "key")), 43);
        if (r < 0)
                (void) unlink(out_path);
        return r;
}

int sfu_tool_encrypt(int argc, char **argv) {
        const char *cmd = command.name, *image = NULL, *out = NULL, *manifest = NULL, *name = NULL, *loc = NULL;
        const char *path = NULL;
        struct recipients to = {};
        uint32_t segment_size = SFU_SEGCRYPT_DEFAULT_SEGMENT;
        bool json = false, cose = false;
        const struct sfu_tool_option options[] = {
                { "to", 0, SFU_TOOL_CALL, &to, add_recipient },
                { "json", 0, SFU_TOOL_FLAG, &json },
                { "cose", 0, SFU_TOOL_FLAG, &cose },
                { "image", 0, SFU_TOOL_STRING, &image },
                { "output", 'o', SFU_TOOL_STRING, &out },
                { "segment-size", 0, SFU_TOOL_CALL, &segment_size, parse_segment_size },
                { "manifest", 0, SFU_TOOL_STRING, &manifest },
                { "name", 0, SFU_TOOL_STRING, &name },
                { "location", 0, SFU_TOOL_STRING, &loc },
        };
        struct sfu_err err = SFU_ERR_INIT;
        int r, status;

        if (sfu_tool_parse_options(&command, argc, argv, options, ELEMENTSOF(options), &status) < 0)
                return status;
        if (image) {
                if (to.n > 0 || json || cose)
                        return sfu_tool_usage_error(cmd, "--image does not go with --to, --json or --cose");
                if (!out)
                        return sfu_tool_usage_error(cmd, "--image needs -o OUT");
                if ((name || loc) && !manifest)
                        return sfu_tool_usage_error(cmd, "--name and --location go with --manifest");
                if (optind != argc)
                        return sfu_tool_usage_error(cmd, "--image takes no operand");
                r = encrypt_image(image, out, segment_size, manifest, name, loc, &err);
        } else {
                if (manifest || name || loc || segment_size != SFU_SEGCRYPT_DEFAULT_SEGMENT)
                        return sfu_tool_usage_error(cmd, "--segment-size, --manifest, --name and --location go with --image");
                if (json && cose)
                        return sfu_tool_usage_error(cmd, "--json (a JWE serialization) does not go with --cose");
                if (to.n == 0)
                        return sfu_tool_usage_error(cmd, "either --to KEY (a manifest) or --image IMG is required");
                if (sfu_tool_one_operand(&command, argc, argv, &path, &status) < 0)
                        return status;
                r = encrypt_manifest(path, &to, json, cose, out, &err);
        }
        if (r < 0)
                return sfu_tool_fail(cmd, r, &err);
        return EXIT_SUCCESS;
}
