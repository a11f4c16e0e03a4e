/* SPDX-License-Identifier: MIT */
/* secfu-manifest pack: a bundle (doc/bundle.md) of a signed manifest, in
 * any form and made by any tool, and its images.  No key is needed: the
 * signature is the device's to check; the images are checked against the
 * manifest's sizes and digests. */
#include <libgen.h>
#include <sys/stat.h>

#include "io/fileio.h"
#include "tool/tool.h"

static void help(void) {
        printf("Usage: " SFU_TOOL_PROG " pack -o FILE.sfu SIGNED-MANIFEST IMAGE...\n\n"
               "Writes a bundle: a 24-byte header, the signed manifest byte for byte and the\n"
               "images in the manifest's order, which a device takes in one download or from\n"
               "a file. SIGNED-MANIFEST may be any form a device takes (JWS compact or JSON,\n"
               "COSE_Sign1 or COSE_Sign), also one made by another tool.\n\n"
               "pack needs no key and checks no signature: it reads the manifest without\n"
               "trust to learn the images, and refuses images whose number, order, size or\n"
               "digests do not match it. The bundle is written to a temporary file and\n"
               "renamed: FILE.sfu appears whole or not at all (an existing one is replaced).\n\n"
               "  -o, --output FILE   the bundle to write\n");
}

static const struct sfu_tool_command command = { "pack", help };

/* Whether the output would replace one of the inputs (renamed over it
 * after it was read, but gone for the user all the same). */
static const char *output_is_input(const char *out, char **inputs, size_t n) {
        struct stat o, in;

        if (stat(out, &o) < 0)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (stat(inputs[i], &in) == 0 && in.st_dev == o.st_dev && in.st_ino == o.st_ino)
                        return inputs[i];
        return NULL;
}

int sfu_tool_pack(int argc, char **argv) {
        const char *cmd = command.name, *out = NULL, *manifest_path, *same;
        const struct sfu_tool_option options[] = {
                { "output", 'o', SFU_TOOL_STRING, &out },
        };
        _cleanup_tool_signed_ struct sfu_tool_signed s = {};
        _cleanup_manifest_ struct sfu_manifest *m = NULL;
        _cleanup_free_ char *bytes = NULL, *dir = NULL, *tmp = NULL;
        struct sfu_err err = SFU_ERR_INIT;
        size_t len = 0;
        int r, status;

        if (sfu_tool_parse_options(&command, argc, argv, options, ELEMENTSOF(options), &status) < 0)
                return status;
        if (!out || !*out || sfu_streq(out, "-"))
                return sfu_tool_usage_error(cmd, "-o FILE is required (a bundle is not written to standard output)");
        if (argc - optind < 2)
                return sfu_tool_usage_error(cmd, "expected SIGNED-MANIFEST and the image files");
        if (argc - optind - 1 > SFU_MANIFEST_MAX_IMAGES)
                return sfu_tool_usage_error(cmd, "at most %d images", SFU_MANIFEST_MAX_IMAGES);
        manifest_path = argv[optind];
        same = output_is_input(out, argv + optind, (size_t) (argc - optind));
        if (same)
                return sfu_tool_failf(cmd, "-o %s is %s, an input", out, same);

        r = sfu_tool_read_signed(manifest_path, SFU_BUNDLE_MANIFEST_MAX, &bytes, &len, &s, &m, &err);
        if (r < 0)
                return sfu_tool_fail(cmd, r, &err);
        dir = strdup(out);
        if (!dir)
                return sfu_tool_failf(cmd, "out of memory");
        r = sfu_tool_bundle_write(dirname(dir), bytes, len, m, argv + optind + 1, (size_t) (argc - optind - 1), &tmp,
                                  &err);
        if (r >= 0) {
                r = sfu_file_move_into(tmp, out, &err);
                if (r < 0)
                        unlink(tmp);
        }
        if (r < 0)
                return sfu_tool_fail(cmd, r, &err);
        return EXIT_SUCCESS;
}
