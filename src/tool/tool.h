/* SPDX-License-Identifier: MIT */
/* secfu-manifest: the manufacturer's tool.  One file per command
 * (keygen.c, create.c, sign.c, verify.c, inspect.c, pack.c, publish.c),
 * each exporting sfu_tool_<command>(), with helpers of its own beside it
 * (sign-cose.c, inspect-cose.c); main.c holds the command table; this
 * header, common.c (options, messages, inputs and outputs), signed.c (a
 * signed manifest read without trust) and bundle.c (reading, checking and
 * writing bundles) what they share.  Everything that decides whether a
 * key, a signature or a manifest is valid lives in src/core, files are
 * written through src/io/fileio.
 *
 * Exit status: 0 success, 1 failure (one line "secfu-manifest: CMD: reason"
 * on stderr), 2 usage error. */
#pragma once
#include <getopt.h>
#include <stdio.h>

#include "core/bundle.h"
#include "core/cose.h"
#include "core/err.h"
#include "core/jws.h"
#include "core/manifest.h"
#include "core/sig.h"
#include "core/signed.h"

#define SFU_TOOL_PROG "secfu-manifest"
#define SFU_TOOL_EXIT_USAGE 2

/* The commands, argv[0] being the command's name. */
int sfu_tool_keygen(int argc, char **argv);
int sfu_tool_create(int argc, char **argv);
int sfu_tool_sign(int argc, char **argv);
int sfu_tool_verify(int argc, char **argv);
int sfu_tool_inspect(int argc, char **argv);
int sfu_tool_publish(int argc, char **argv);
int sfu_tool_pack(int argc, char **argv);
int sfu_tool_encrypt(int argc, char **argv);
int sfu_tool_decrypt(int argc, char **argv);

/* ------------------------------------------------------------ options */

#define SFU_TOOL_MAX_OPTIONS 20         /* options of one command, --help not counted */

/* What every command has: its name (for messages) and its help text. */
struct sfu_tool_command {
        const char *name;
        void (*help)(void);
};

enum sfu_tool_arg {
        SFU_TOOL_FLAG,                  /* no argument; target is a bool, set to true */
        SFU_TOOL_STRING,                /* target is a const char *; the last one given counts */
        SFU_TOOL_CALL,                  /* call(target, argument), for lists and checked values */
};

/* One option of a command, "--name" (and "-short" when short is set). */
struct sfu_tool_option {
        const char *name;
        char short_name;
        enum sfu_tool_arg arg;
        void *target;
        /* SFU_TOOL_CALL: 0, or the exit status that ends the command
         * (after printing why). */
        int (*call)(void *target, const char *arg);
};

/* Parses the options of a command (getopt_long, in order; --help and -h
 * print cmd->help).  Returns 0 with optind at the first operand, or -1
 * when the command is over with its exit status in *ret_status: 0 after
 * --help, 2 after an unknown option or a missing argument, or what a
 * call returned. */
int sfu_tool_parse_options(const struct sfu_tool_command *cmd, int argc, char **argv,
                           const struct sfu_tool_option *options, size_t n_options, int *ret_status);

/* The operands after the options: exactly one FILE, or a usage error
 * (*ret_status 2, returns -1). */
int sfu_tool_one_operand(const struct sfu_tool_command *cmd, int argc, char **argv, const char **ret,
                         int *ret_status);

/* ------------------------------------------------------------ messages */

/* Prints msg with every control character replaced by '?', so that one
 * reason stays one line whatever a file or a peer put into it. */
void sfu_tool_put_sanitized(FILE *f, const char *msg);

/* "secfu-manifest: CMD: message" on stderr; returns EXIT_FAILURE. */
int sfu_tool_failf(const char *cmd, const char *fmt, ...) _printf_(2, 3);

/* The one failure line for an error the core or io recorded in err (or,
 * when none was, strerror(r)); returns EXIT_FAILURE. */
int sfu_tool_fail(const char *cmd, int r, const struct sfu_err *err);

/* A usage error: the message and a pointer to --help; returns 2. */
int sfu_tool_usage_error(const char *cmd, const char *fmt, ...) _printf_(2, 3);

/* Flushes standard output: EXIT_SUCCESS, or the failure line. */
int sfu_tool_done(const char *cmd);

/* ------------------------------------------------------------ inputs and outputs */

/* asprintf() that returns the new string, or NULL when memory runs out. */
char *sfu_tool_format(const char *fmt, ...) _printf_(1, 2);

/* Frees a string holding key material after wiping it. */
void sfu_tool_secret_freep(char **p);
#define _cleanup_secret_ _cleanup_(sfu_tool_secret_freep)

/* Reads all of path ("-": standard input) into a new NUL-terminated
 * buffer; more than max bytes is an error. */
int sfu_tool_read_input(const char *path, size_t max, char **ret, size_t *ret_len, struct sfu_err *err) _wur_;

/* Length of buf without trailing white space (a newline after a compact
 * JWS). */
size_t sfu_tool_trim_space(const char *buf, size_t len);

/* Writes len bytes to standard output and flushes it. */
int sfu_tool_write_stdout(const void *buf, size_t len, struct sfu_err *err) _wur_;

/* A ring of the device's private decryption keys from n key files
 * (decrypt --key, verify --decrypt-key). */
int sfu_tool_load_decryption_keys(const char *const *paths, size_t n, struct sfu_keyring **ret,
                                  struct sfu_err *err) _wur_;

/* The output of a command: path NULL or "-" is standard output, anything
 * else a file replaced atomically (a temporary file, synced and renamed:
 * it exists only whole).  Binary output is not written to a terminal. */
int sfu_tool_write_output(const char *path, const void *buf, size_t len, bool binary, struct sfu_err *err) _wur_;

/* Whether s ends with suffix. */
bool sfu_tool_has_suffix(const char *s, const char *suffix);

/* Whether path is an HSS private-key file (its magic), without reading
 * more than the magic. */
bool sfu_tool_is_hsskey(const char *path);

/* ------------------------------------------------------------ signed manifests (signed.c) */

/* A signed manifest in any form, parsed WITHOUT checking a signature:
 * for inspect, pack and publish (which need no keys) and for what verify
 * prints after the core accepted it. */
struct sfu_tool_signed {
        enum sfu_signed_form form;
        struct sfu_jws *jws;            /* the JWS forms */
        struct sfu_cose *cose;          /* the COSE forms */
        const uint8_t *payload;         /* inside jws or cose */
        size_t payload_len;
        bool cbor;                      /* COSE with a CBOR manifest's content type */
};

/* Tells the form by the bytes and parses it (structure only). */
int sfu_tool_signed_parse(const void *buf, size_t len, struct sfu_tool_signed *ret, struct sfu_err *err) _wur_;
void sfu_tool_signed_clear(struct sfu_tool_signed *s);
#define _cleanup_tool_signed_ _cleanup_(sfu_tool_signed_clear)
/* The manifest of the payload, parsed as a device parses it (JSON, or
 * CBOR by the COSE content type) but with no signature checked. */
int sfu_tool_signed_manifest(const struct sfu_tool_signed *s, struct sfu_manifest **ret, struct sfu_err *err) _wur_;
/* The payload as a JSON tree: a JSON payload parsed, a CBOR manifest
 * mapped (digests as hex).  -EINVAL (nothing in err) when it is neither. */
int sfu_tool_signed_payload_json(const struct sfu_tool_signed *s, json_t **ret, struct sfu_err *err) _wur_;
/* "a JSON manifest", "a CBOR manifest", or what the content type says. */
const char *sfu_tool_signed_content(const struct sfu_tool_signed *s);
/* Reads path ("-": standard input; at most max bytes), parses it and
 * reads its manifest (without trust); *ret_bytes keeps the file. */
int sfu_tool_read_signed(const char *path, size_t max, char **ret_bytes, size_t *ret_len, struct sfu_tool_signed *ret,
                         struct sfu_manifest **ret_manifest, struct sfu_err *err) _wur_;

/* ------------------------------------------------------------ bundles (bundle.c) */

#define SFU_TOOL_BUNDLE_BLOCK (64u * 1024u)     /* bytes read at a time from an image */

/* The head of a bundle: its header and the signed manifest after it. */
struct sfu_tool_bundle {
        int fd;                         /* positioned after the manifest */
        const char *name;               /* for messages */
        struct sfu_bundle_header header;
        char *manifest;                 /* M bytes, NUL-terminated */
        bool has_file_size;             /* fd is a regular file */
        uint64_t file_size;
};

/* Reads the header and the manifest from fd, whose first bytes (len of
 * them, at least SFU_BUNDLE_MAGIC_SIZE) are already in first; applies the
 * device's rules on the head (doc/bundle.md, 1 to 4, with the tool's
 * max-manifest-size, the 1 MiB hard cap).  lenient: only what is needed
 * to read the manifest (for inspect, which reports the rest).  Takes
 * over nothing: fd stays the caller's. */
int sfu_tool_bundle_read_head(int fd, const char *name, const void *first, size_t len, bool lenient,
                              struct sfu_tool_bundle *ret, struct sfu_err *err) _wur_;
void sfu_tool_bundle_clear(struct sfu_tool_bundle *b);
/* Streams every image of m from b->fd (in order, SFU_TOOL_BUNDLE_BLOCK
 * at a time) through the digests m lists; then the end of the file must
 * follow.  A mismatch is one line naming the image. */
int sfu_tool_bundle_check_images(struct sfu_tool_bundle *b, const struct sfu_manifest *m, const uint64_t *offsets,
                                 struct sfu_err *err) _wur_;
/* Writes a bundle of the signed manifest (its bytes as given) and the
 * image files, given in the manifest's order, to a new temporary file in
 * dir and returns its name (for sfu_file_move_into()).  Refuses, before
 * anything is written, a wrong number of images, an image of the manifest
 * without a size and a file of another size; a digest mismatch removes
 * the temporary file. */
int sfu_tool_bundle_write(const char *dir, const void *signed_manifest, size_t signed_len, const struct sfu_manifest *m,
                          char *const *image_paths, size_t n_paths, char **ret_tmp, struct sfu_err *err) _wur_;

/* ------------------------------------------------------------ signing (sign.c, sign-cose.c) */

#include "io/hsskey.h"

#define SFU_TOOL_SIGN_MAX_KEYS SFU_COSE_MAX_SIGNATURES

/* One --key of sign, ready to sign. */
struct sfu_tool_signer {
        const char *path;
        struct sfu_key *key;            /* a PEM or JWK private key, or NULL: */
        bool is_hss;                    /* an HSS key file, signing through hss */
        struct sfu_hsskey_signer hss;
        struct sfu_signer signer;       /* alg, kid and the signing */
};

struct sfu_tool_signers {
        struct sfu_tool_signer items[SFU_TOOL_SIGN_MAX_KEYS];
        size_t n;
};

struct sfu_tool_cose_job {
        const char *path;               /* FILE, for messages */
        bool add;                       /* FILE is a COSE structure to add signatures to */
        bool multi;                     /* a new COSE_Sign (else COSE_Sign1) */
        enum sfu_cose_content content;  /* of a new one */
};

/* The COSE structure of a manifest (JSON or CBOR) by every signer, or
 * every signature added to the COSE_Sign in input. */
int sfu_tool_sign_cose(const struct sfu_tool_cose_job *job, const uint8_t *input, size_t len,
                       const struct sfu_tool_signers *signers, uint8_t **ret, size_t *ret_len, struct sfu_err *err) _wur_;
/* Warns on standard error when what is signed is not a valid manifest. */
void sfu_tool_sign_check_payload(const char *path, const void *payload, size_t len, bool cbor);

/* ------------------------------------------------------------ inspect (inspect.c, inspect-cose.c) */

/* Pretty JSON, every line indented, non-ASCII escaped. */
void sfu_tool_print_json_indented(const json_t *j, const char *indent);
/* The COSE structure, its headers and signatures (not the payload). */
void sfu_tool_inspect_cose(const struct sfu_tool_signed *s);
