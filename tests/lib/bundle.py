#!/usr/bin/env python3
"""Writes secfu bundles (doc/bundle.md) for the tests, from the format's
description alone, and bends them on request:

  bundle.py OUT MANIFEST [IMAGE...] [--magic HEX] [--version N]
            [--header-len N] [--manifest-len N] [--images-len N]
            [--trailing N] [--cut N] [--extra-image FILE]

--manifest-len / --images-len write these numbers into the header whatever
the parts are; --trailing appends N bytes after the images; --cut keeps
only the first N bytes of the file.  Standard library only.
"""
import argparse
import struct
import sys

MAGIC = b"\x89SFU\r\n\x1a\n"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("manifest")
    p.add_argument("images", nargs="*")
    p.add_argument("--magic", default=MAGIC.hex())
    p.add_argument("--version", type=int, default=1)
    p.add_argument("--header-len", type=int, default=24)
    p.add_argument("--manifest-len", type=int)
    p.add_argument("--images-len", type=int)
    p.add_argument("--trailing", type=int, default=0)
    p.add_argument("--cut", type=int)
    a = p.parse_args()

    manifest = open(a.manifest, "rb").read()
    images = b"".join(open(f, "rb").read() for f in a.images)
    m = len(manifest) if a.manifest_len is None else a.manifest_len
    t = len(images) if a.images_len is None else a.images_len
    header = bytes.fromhex(a.magic) + struct.pack(">HHIQ", a.version, a.header_len, m, t)
    data = header + manifest + images + b"\xa5" * a.trailing
    if a.cut is not None:
        data = data[:a.cut]
    with open(a.out, "wb") as f:
        f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
