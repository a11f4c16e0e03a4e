#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The python3-jwcrypto side of the JWE interoperability tests.

Run with /usr/bin/python3 (Debian's jwcrypto).  Every command exits 0 on
success and 1 with one reason on stderr otherwise.

  gen KIND DIR NAME
      a key of KIND (P-256, P-384, P-521, X25519, RSA): DIR/NAME.jwk
      (private) and DIR/NAME.pub.jwk (public).
  encrypt FORM CTY PLAINTEXT KEY [KEY ...]
      prints a JWE of PLAINTEXT for the keys (JWK, or PEM by name; alg ECDH-ES+A256KW or
      RSA-OAEP-256 by key type, enc A256GCM, cty CTY in the protected
      header); FORM is compact, json (flattened for one key, general for
      several), aad (json with a JWE AAD) or apu (json with apu/apv in
      the per-recipient header).
  decrypt KEY.jwk JWE-FILE
      jwcrypto decrypts (allowing only ECDH-ES+A256KW, RSA-OAEP-256 and
      A256GCM) and prints the plaintext.
  refused-kind KIND PLAINTEXT PUB.jwk
      prints a JWE that secfud must refuse, made by jwcrypto itself:
        zip          ECDH-ES+A256KW with "zip": "DEF" (compressed)
        dir          alg dir with a 256-bit shared key
        rsa1_5       RSA1_5 (needs an RSA PUB.jwk)
        a256kw       alg A256KW with a shared key
        ecdh-es      ECDH-ES direct key agreement
        cbc          enc A256CBC-HS512
        a128gcm      enc A128GCM
        crit         a crit header naming "exp"
  edit WHAT JWE-FILE [ARG]
      prints the JSON-serialized JWE edited:
        alg-none        every alg set to "none" and encrypted keys removed
        flip-tag        the tag's last byte changed
        protected ARG   the protected header with "cty" set to ARG
        swap OTHER      ciphertext, iv and tag taken from the JWE in OTHER
"""

import json
import sys

from jwcrypto import jwe, jwk
from jwcrypto.common import base64url_decode, base64url_encode, json_encode

ALLOWED = ["ECDH-ES+A256KW", "RSA-OAEP-256", "A256GCM"]


def die(msg):
    sys.stderr.write("jwe-helper: %s\n" % msg)
    sys.exit(1)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def load_key(path):
    if not path.endswith(".pem"):
        return jwk.JWK.from_json(read(path).decode())
    data = read(path)
    try:
        return jwk.JWK.from_pem(data)
    except Exception:
        pass
    # jwcrypto 1.1 does not read X25519 PEM: build the OKP JWK (RFC 8037)
    # from the raw key with python3-cryptography.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import x25519
    raw = serialization.Encoding.Raw
    if b"PRIVATE" in data:
        priv = serialization.load_pem_private_key(data, password=None)
        if not isinstance(priv, x25519.X25519PrivateKey):
            die("%s: not a key jwcrypto reads" % path)
        d = priv.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
        x = priv.public_key().public_bytes(raw, serialization.PublicFormat.Raw)
        return jwk.JWK(kty="OKP", crv="X25519", x=base64url_encode(x), d=base64url_encode(d))
    pub = serialization.load_pem_public_key(data)
    if not isinstance(pub, x25519.X25519PublicKey):
        die("%s: not a key jwcrypto reads" % path)
    return jwk.JWK(kty="OKP", crv="X25519", x=base64url_encode(pub.public_bytes(raw, serialization.PublicFormat.Raw)))


def kty(key):
    return json.loads(key.export_public())["kty"]


def alg_for(key):
    return "RSA-OAEP-256" if kty(key) == "RSA" else "ECDH-ES+A256KW"


def gen(kind, directory, name):
    if kind == "RSA":
        key = jwk.JWK.generate(kty="RSA", size=2048)
    elif kind == "X25519":
        key = jwk.JWK.generate(kty="OKP", crv="X25519")
    else:
        key = jwk.JWK.generate(kty="EC", crv=kind)
    write("%s/%s.jwk" % (directory, name), key.export_private())
    write("%s/%s.pub.jwk" % (directory, name), key.export_public())


def as_json(token):
    """The JWE as a JSON object (jwcrypto's JSON serialization)."""
    return json.loads(token.serialize(compact=False))


def encrypt(form, cty, plaintext, key_paths):
    keys = [load_key(p) for p in key_paths]
    if form == "compact":
        if len(keys) != 1:
            die("compact takes one key")
        protected = {"alg": alg_for(keys[0]), "enc": "A256GCM", "cty": cty}
        token = jwe.JWE(plaintext, json_encode(protected))
        token.add_recipient(keys[0])
        return token.serialize(compact=True)
    aad = b"secfu interop aad" if form == "aad" else None
    token = jwe.JWE(plaintext, json_encode({"enc": "A256GCM", "cty": cty}), aad=aad)
    for key in keys:
        header = {"alg": alg_for(key)}
        if form == "apu" and kty(key) != "RSA":
            header["apu"] = base64url_encode(b"secfu vendor")
            header["apv"] = base64url_encode(b"gw100")
        token.add_recipient(key, json_encode(header))
    return token.serialize(compact=False)


def decrypt(key_path, jwe_path):
    token = jwe.JWE(algs=ALLOWED)
    token.deserialize(read(jwe_path).decode().strip(), key=load_key(key_path))
    sys.stdout.buffer.write(token.payload)


def refused_kind(kind, plaintext, pub_path):
    pub = load_key(pub_path)
    every = ["ECDH-ES+A256KW", "ECDH-ES", "RSA1_5", "RSA-OAEP-256", "dir", "A256KW",
             "A256GCM", "A128GCM", "A256CBC-HS512"]
    shared = jwk.JWK.generate(kty="oct", size=256)
    if kind == "zip":
        prot, key = {"alg": "ECDH-ES+A256KW", "enc": "A256GCM", "zip": "DEF", "cty": "jose"}, pub
    elif kind == "dir":
        prot, key = {"alg": "dir", "enc": "A256GCM", "cty": "jose"}, shared
    elif kind == "rsa1_5":
        prot, key = {"alg": "RSA1_5", "enc": "A256GCM", "cty": "jose"}, pub
    elif kind == "a256kw":
        prot, key = {"alg": "A256KW", "enc": "A256GCM", "cty": "jose"}, shared
    elif kind == "ecdh-es":
        prot, key = {"alg": "ECDH-ES", "enc": "A256GCM", "cty": "jose"}, pub
    elif kind == "cbc":
        prot, key = {"alg": alg_for(pub), "enc": "A256CBC-HS512", "cty": "jose"}, pub
    elif kind == "a128gcm":
        prot, key = {"alg": alg_for(pub), "enc": "A128GCM", "cty": "jose"}, pub
    elif kind == "crit":
        prot, key = {"alg": alg_for(pub), "enc": "A256GCM", "cty": "jose", "crit": ["exp"], "exp": 1}, pub
    else:
        die("unknown kind %s" % kind)
    token = jwe.JWE(plaintext, json_encode(prot), algs=every)
    token.add_recipient(key)
    return token.serialize(compact=kind != "crit")


def to_json(text):
    """A JWE (compact or JSON) as a general JSON object."""
    text = text.strip()
    if text.startswith("{"):
        obj = json.loads(text)
        if "recipients" not in obj:
            rcpt = {}
            for member in ("header", "encrypted_key"):
                if member in obj:
                    rcpt[member] = obj.pop(member)
            obj["recipients"] = [rcpt]
        return obj
    p = text.split(".")
    return {"protected": p[0], "recipients": [{"encrypted_key": p[1]}], "iv": p[2],
            "ciphertext": p[3], "tag": p[4]}


def edit(what, jwe_path, arg):
    obj = to_json(read(jwe_path).decode())
    if what == "alg-none":
        prot = json.loads(base64url_decode(obj["protected"]))
        prot.pop("alg", None)
        prot.pop("epk", None)
        obj["protected"] = base64url_encode(json_encode(prot))
        for rcpt in obj["recipients"]:
            rcpt["header"] = {"alg": "none"}
            rcpt.pop("encrypted_key", None)
    elif what == "flip-tag":
        tag = bytearray(base64url_decode(obj["tag"]))
        tag[-1] ^= 1
        obj["tag"] = base64url_encode(bytes(tag))
    elif what == "protected":
        prot = json.loads(base64url_decode(obj["protected"]))
        prot["cty"] = arg
        obj["protected"] = base64url_encode(json_encode(prot))
    elif what == "swap":
        other = to_json(read(arg).decode())
        for member in ("ciphertext", "iv", "tag"):
            obj[member] = other[member]
    else:
        die("unknown edit %s" % what)
    return json.dumps(obj)


def main(argv):
    if len(argv) < 2:
        die("usage: see the module documentation")
    cmd = argv[1]
    try:
        if cmd == "gen" and len(argv) == 5:
            gen(argv[2], argv[3], argv[4])
        elif cmd == "encrypt" and len(argv) >= 6:
            print(encrypt(argv[2], argv[3], read(argv[4]), argv[5:]))
        elif cmd == "decrypt" and len(argv) == 4:
            decrypt(argv[2], argv[3])
        elif cmd == "refused-kind" and len(argv) == 5:
            print(refused_kind(argv[2], read(argv[3]), argv[4]))
        elif cmd == "edit" and len(argv) in (4, 5):
            print(edit(argv[2], argv[3], argv[4] if len(argv) == 5 else None))
        else:
            die("bad arguments: %s" % " ".join(argv[1:]))
    except Exception as e:  # one line, whatever jwcrypto raised
        die("%s: %s" % (type(e).__name__, str(e).replace("\n", " ")))


if __name__ == "__main__":
    main(sys.argv)
