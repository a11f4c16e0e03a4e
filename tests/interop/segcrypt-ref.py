#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""An independent writer and reader of the encrypted image format of
doc/encryption.md, written from that description with python3-
cryptography's AESGCM (no code shared with src/core/segcrypt.c).

  encrypt MEMBER.json IN OUT
      encrypts IN into OUT with the key, nonce prefix and segment size of
      the manifest member in MEMBER.json and checks its "size".
  decrypt MEMBER.json IN OUT
      decrypts IN into OUT; exits 1 with a reason at the first segment that
      does not authenticate, on a size other than "size", or on a stream
      without a final segment.
  member S [SIZE-OF-PLAINTEXT]
      prints a fresh member (random key and prefix) for segments of S bytes
      and, when given, a plaintext of that size.
  tamper WHAT S IN OUT
      writes IN (a stream of S-byte segments) changed: swap (segments 0 and
      1), drop-last, append (the last segment again), flip (a bit of
      segment 1).
"""

import base64
import json
import os
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TAG = 16


def die(msg):
    sys.stderr.write("segcrypt-ref: %s\n" % msg)
    sys.exit(1)


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def load_member(path):
    with open(path) as f:
        m = json.load(f)
    if m.get("alg") != "A256GCM-STREAM":
        die("alg is not A256GCM-STREAM")
    key, prefix, s = b64d(m["key"]), b64d(m["noncePrefix"]), m["segmentSize"]
    if len(key) != 32 or len(prefix) != 7:
        die("bad key or nonce prefix length")
    return AESGCM(key), prefix, s, m["size"]


def nonce(prefix, i, last):
    return prefix + i.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def encrypt(member, src, dst):
    aead, prefix, s, size = load_member(member)
    with open(src, "rb") as f:
        data = f.read()
    segments = [data[i:i + s] for i in range(0, len(data), s)] or [b""]
    out = b"".join(aead.encrypt(nonce(prefix, i, i == len(segments) - 1), seg, None)
                   for i, seg in enumerate(segments))
    if len(out) != size:
        die("%d bytes written, the member says %d" % (len(out), size))
    with open(dst, "wb") as f:
        f.write(out)


def decrypt(member, src, dst):
    aead, prefix, s, size = load_member(member)
    with open(src, "rb") as f:
        data = f.read()
    if len(data) != size:
        die("the stream is %d bytes, the member says %d" % (len(data), size))
    unit, out, i, off = s + TAG, [], 0, 0
    while True:
        chunk = data[off:off + unit]
        last = off + unit >= len(data)
        if len(chunk) < TAG or (last and len(chunk) == TAG and i > 0):
            die("segment %d: no final segment" % i)
        try:
            out.append(aead.decrypt(nonce(prefix, i, last), chunk, None))
        except InvalidTag:
            die("segment %d does not authenticate" % i)
        off += len(chunk)
        i += 1
        if last:
            break
    with open(dst, "wb") as f:
        f.write(b"".join(out))


def member(s, plain_size):
    segments = max(1, -(-plain_size // s))
    print(json.dumps({"alg": "A256GCM-STREAM", "key": b64e(os.urandom(32)),
                      "noncePrefix": b64e(os.urandom(7)), "segmentSize": s,
                      "size": plain_size + TAG * segments}))


def tamper(what, s, src, dst):
    with open(src, "rb") as f:
        data = f.read()
    unit = s + TAG
    segs = [data[i:i + unit] for i in range(0, len(data), unit)]
    if what == "swap":
        segs[0], segs[1] = segs[1], segs[0]
    elif what == "drop-last":
        segs = segs[:-1]
    elif what == "append":
        segs.append(segs[-1])
    elif what == "flip":
        b = bytearray(segs[1])
        b[3] ^= 0x10
        segs[1] = bytes(b)
    else:
        die("unknown tamper %s" % what)
    with open(dst, "wb") as f:
        f.write(b"".join(segs))


def main(argv):
    if len(argv) == 5 and argv[1] in ("encrypt", "decrypt"):
        (encrypt if argv[1] == "encrypt" else decrypt)(argv[2], argv[3], argv[4])
    elif len(argv) in (3, 4) and argv[1] == "member":
        member(int(argv[2]), int(argv[3]) if len(argv) == 4 else 0)
    elif len(argv) == 6 and argv[1] == "tamper":
        tamper(argv[2], int(argv[3]), argv[4], argv[5])
    else:
        die("bad arguments")


if __name__ == "__main__":
    main(sys.argv)
