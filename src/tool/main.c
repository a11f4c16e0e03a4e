/* SPDX-License-Identifier: MIT */
/* secfu-manifest: the command table, --help, --version and dispatch. */
#include "tool/tool.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
} commands[] = {
        { "keygen", sfu_tool_keygen, "make a signing key pair" },
        { "create", sfu_tool_create, "print a manifest for image files" },
        { "sign", sfu_tool_sign, "sign a manifest as a JWS or COSE (or add signatures)" },
        { "verify", sfu_tool_verify, "verify a signed manifest or a bundle and print it" },
        { "inspect", sfu_tool_inspect, "show a signed manifest, a bundle or a key, unverified" },
        { "pack", sfu_tool_pack, "make a bundle of a signed manifest and its images" },
        { "publish", sfu_tool_publish, "lay out a web server directory" },
        { "encrypt", sfu_tool_encrypt, "encrypt a signed manifest for devices, or an image" },
        { "decrypt", sfu_tool_decrypt, "decrypt a manifest with a device key, or an image" },
};

static void help(void) {
        printf("Usage: " SFU_TOOL_PROG " COMMAND [OPTIONS] [ARGS]\n"
               "       " SFU_TOOL_PROG " --help | --version\n\n"
               "Makes keys and writes, signs, verifies and publishes SecFU firmware manifests.\n\n"
               "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                printf("  %-8s %s\n", commands[i].name, commands[i].summary);
        printf("\n'" SFU_TOOL_PROG " COMMAND --help' describes a command; see also secfu-manifest(1).\n");
}

int main(int argc, char **argv) {
        const char *name;

        opterr = 0;
        if (argc < 2)
                return sfu_tool_usage_error(NULL, "no command given");
        name = argv[1];
        if (sfu_streq(name, "--help") || sfu_streq(name, "-h")) {
                help();
                return EXIT_SUCCESS;
        }
        if (sfu_streq(name, "--version")) {
                printf(SFU_TOOL_PROG " " PACKAGE_VERSION "\n");
                return EXIT_SUCCESS;
        }
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (sfu_streq(name, commands[i].name)) {
                        optind = 0;
                        return commands[i].run(argc - 1, argv + 1);
                }
        if (name[0] == '-')
                return sfu_tool_usage_error(NULL, "unknown option %s", name);
        return sfu_tool_usage_error(NULL, "unknown command %s", name);
}
