#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The python3-cbor2 + python3-cryptography side of the COSE interop tests.

COSE_Sign1 and COSE_Sign are assembled and checked here by hand from
RFC 9052 (section 4.4, Sig_structure), RFC 9053 (ECDSA as raw R||S, EdDSA)
and RFC 8230/8812 (RSA-PSS with salt = hash length, RSASSA-PKCS1-v1_5);
HSS-LMS (RFC 8778, COSE -46) signatures are checked by the RFC 8554
verification below (python3-cryptography has no LMS): nothing of secfud's
code is used.  Every command exits 0 on success and 1 with one reason on
stderr otherwise.

  keygen ALG DIR            DIR/key.pem (PKCS#8), DIR/pub.pem (SPKI); prints
                            the RFC 7638 thumbprint (secfud's kid)
  kid PUB.pem               prints the RFC 7638 thumbprint of a public key
                            (PUB.hss: base64url of SHA-256 over its 60 bytes)
  sign1 KEY.pem ALG KID CT PAYLOAD OUT
                            COSE_Sign1, protected {1: alg, 3: CT, 4: KID};
                            CT "-" leaves the content type out
  sign CT PAYLOAD OUT KEY.pem:ALG:KID ...
                            COSE_Sign: body protected {3: CT}, each
                            signature protected {1: alg, 4: kid}
  verify FILE PAYLOAD CT PUB.pem:ALG:KID ...
                            FILE is a tagged COSE_Sign1 (one key) or
                            COSE_Sign (one key per signature, matched by
                            kid); checks the payload, the content type
                            (text, or a number), alg in the protected
                            header, and every signature; ALG HSS-LMS takes
                            a 60-byte PUB.hss (RFC 8554 public key)
  bad KIND KEY.pem ALG KID CT PAYLOAD OUT
                            a COSE_Sign1 that breaks a rule, validly signed:
                            alg-unprotected, crit, dup-label, label-both,
                            indefinite, trailing, truncated, untagged,
                            no-content-type, flip (one bit of the signature)
  hss-vector FILE           checks the RFC 8554 verifier above on a test
                            vector of tests/data/hss (NAME = HEX lines): it
                            must accept the signature and refuse it with one
                            bit of the message changed
  manifest-cbor JSON OUT    the manifest with each "hash" as a byte string,
                            keys in the JSON file's order (not sorted)
  canonical JSON OUT        the same, canonical (RFC 7049 3.9 = RFC 8949
                            4.2.1 for text keys)
"""

import hashlib
import json
import sys

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

ALGS = {
    # name: (COSE id, kind, hash, curve or None)
    "ES256": (-7, "ec", hashes.SHA256, ec.SECP256R1),
    "ES384": (-35, "ec", hashes.SHA384, ec.SECP384R1),
    "ES512": (-36, "ec", hashes.SHA512, ec.SECP521R1),
    "EdDSA": (-8, "ed", None, None),
    "PS256": (-37, "pss", hashes.SHA256, None),
    "PS384": (-38, "pss", hashes.SHA384, None),
    "PS512": (-39, "pss", hashes.SHA512, None),
    "RS256": (-257, "pkcs1", hashes.SHA256, None),
    "RS384": (-258, "pkcs1", hashes.SHA384, None),
    "RS512": (-259, "pkcs1", hashes.SHA512, None),
    "HSS-LMS": (-46, "hss", None, None),
}
BY_ID = {v[0]: k for k, v in ALGS.items()}


def die(msg):
    sys.stderr.write("cose-python-helper: %s\n" % msg)
    sys.exit(1)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def b64u(b):
    import base64
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def thumbprint(pub):
    """RFC 7638 over the required members, in lexicographic order."""
    if isinstance(pub, ec.EllipticCurvePublicKey):
        size = (pub.curve.key_size + 7) // 8
        nums = pub.public_numbers()
        crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}[pub.curve.name]
        members = {"crv": crv, "kty": "EC", "x": b64u(nums.x.to_bytes(size, "big")),
                   "y": b64u(nums.y.to_bytes(size, "big"))}
    elif isinstance(pub, ed25519.Ed25519PublicKey):
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        members = {"crv": "Ed25519", "kty": "OKP", "x": b64u(raw)}
    elif isinstance(pub, rsa.RSAPublicKey):
        nums = pub.public_numbers()
        members = {"e": b64u(nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big")), "kty": "RSA",
                   "n": b64u(nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big"))}
    else:
        die("unsupported key type")
    text = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    return b64u(hashlib.sha256(text).digest())


def raw_sign(key, alg, data):
    _, kind, h, _ = ALGS[alg]
    if kind == "ec":
        der = key.sign(data, ec.ECDSA(h()))
        r, s = decode_dss_signature(der)
        size = (key.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if kind == "ed":
        return key.sign(data)
    if kind == "pss":
        return key.sign(data, padding.PSS(mgf=padding.MGF1(h()), salt_length=h.digest_size), h())
    return key.sign(data, padding.PKCS1v15(), h())


# ---------------------------------------------------------------- RFC 8554
# LMS types (section 5.1): code -> tree height; LM-OTS types (section
# 4.1): code -> (w, p, ls).  SHA-256, n = m = 32.
LMS_H = {5: 5, 6: 10, 7: 15, 8: 20, 9: 25}
LMOTS = {1: (1, 265, 7), 2: (2, 133, 6), 3: (4, 67, 4), 4: (8, 34, 0)}
D_PBLC, D_MESG, D_LEAF, D_INTR = b"\x80\x80", b"\x81\x81", b"\x82\x82", b"\x83\x83"


def H(*parts):
    return hashlib.sha256(b"".join(parts)).digest()


def u32(v):
    return v.to_bytes(4, "big")


def coef(s, i, w):
    return ((1 << w) - 1) & (s[i * w // 8] >> (8 - (w * (i % (8 // w)) + w)))


class Reader:
    def __init__(self, b):
        self.b, self.o = b, 0

    def take(self, n):
        if self.o + n > len(self.b):
            raise ValueError("signature too short")
        v = self.b[self.o:self.o + n]
        self.o += n
        return v

    def u32(self):
        return int.from_bytes(self.take(4), "big")


def lmots_candidate(ots_type, I, q, sig, msg):
    """Algorithm 4b: the candidate LM-OTS public key."""
    w, p, ls = LMOTS[ots_type]
    r = Reader(sig)
    if r.u32() != ots_type:
        raise ValueError("LM-OTS type differs from the key's")
    C = r.take(32)
    y = [r.take(32) for _ in range(p)]
    Q = H(I, u32(q), D_MESG, C, msg)
    cksm = sum((1 << w) - 1 - coef(Q, i, w) for i in range(256 // w)) << ls
    Qc = Q + cksm.to_bytes(2, "big")
    z = []
    for i in range(p):
        tmp = y[i]
        for j in range(coef(Qc, i, w), (1 << w) - 1):
            tmp = H(I, u32(q), i.to_bytes(2, "big"), bytes([j]), tmp)
        z.append(tmp)
    return H(I, u32(q), D_PBLC, *z)


def lms_verify(pub, r, msg):
    """Algorithm 6a for the LMS signature read from r, under pub (56 bytes)."""
    lms_type, ots_type, I, T1 = int.from_bytes(pub[:4], "big"), int.from_bytes(pub[4:8], "big"), pub[8:24], pub[24:56]
    h = LMS_H[lms_type]
    w, p, _ = LMOTS[ots_type]
    q = r.u32()
    ots_sig = r.take(4 + 32 + 32 * p)
    if r.u32() != lms_type:
        raise ValueError("LMS type differs from the key's")
    path = [r.take(32) for _ in range(h)]
    if q >= 1 << h:
        raise ValueError("leaf index out of range")
    node = (1 << h) + q
    tmp = H(I, u32(node), D_LEAF, lmots_candidate(ots_type, I, q, ots_sig, msg))
    for sib in path:
        tmp = H(I, u32(node // 2), D_INTR, sib, tmp) if node % 2 else H(I, u32(node // 2), D_INTR, tmp, sib)
        node //= 2
    return tmp == T1


def hss_verify(pub, sig, msg):
    if len(pub) != 60:
        return False
    L = int.from_bytes(pub[:4], "big")
    try:
        r = Reader(sig)
        if r.u32() != L - 1:
            return False
        key = pub[4:]
        for _ in range(L - 1):
            start = r.o
            # The signed child key follows its signature.
            tmp = Reader(sig)
            tmp.o = start
            lms_sig_skip(tmp, key)
            child = tmp.take(56)
            if not lms_verify(key, r, child):
                return False
            r.take(56)
            key = child
        ok = lms_verify(key, r, msg)
        return ok and r.o == len(sig)
    except (ValueError, KeyError):
        return False


def lms_sig_skip(r, key):
    """Moves r over one LMS signature made under key's types."""
    h = LMS_H[int.from_bytes(key[:4], "big")]
    p = LMOTS[int.from_bytes(key[4:8], "big")][1]
    r.take(4 + 4 + 32 + 32 * p + 4 + 32 * h)


def raw_verify(pub, alg, sig, data):
    _, kind, h, curve = ALGS[alg]
    if kind == "hss":
        return isinstance(pub, bytes) and hss_verify(pub, sig, data)
    try:
        if kind == "ec":
            if not isinstance(pub, ec.EllipticCurvePublicKey) or not isinstance(pub.curve, curve):
                return False
            size = (pub.curve.key_size + 7) // 8
            if len(sig) != 2 * size:
                return False
            r = int.from_bytes(sig[:size], "big")
            s = int.from_bytes(sig[size:], "big")
            pub.verify(encode_dss_signature(r, s), data, ec.ECDSA(h()))
        elif kind == "ed":
            pub.verify(sig, data)
        elif kind == "pss":
            pub.verify(sig, data, padding.PSS(mgf=padding.MGF1(h()), salt_length=h.digest_size), h())
        else:
            pub.verify(sig, data, padding.PKCS1v15(), h())
    except InvalidSignature:
        return False
    return True


def load_priv(path):
    return serialization.load_pem_private_key(read(path), password=None)


def load_pub(path):
    if path.endswith(".hss"):
        return read(path)
    return serialization.load_pem_public_key(read(path))


def sig_structure(context, body_prot, sign_prot, payload):
    items = [context, body_prot] + ([sign_prot] if sign_prot is not None else []) + [b"", payload]
    return cbor2.dumps(items)


def content_type_value(ct):
    return int(ct) if ct.isdigit() else ct


def cmd_keygen(alg, d):
    kind = ALGS[alg][1]
    if kind == "ec":
        key = ec.generate_private_key(ALGS[alg][3]())
    elif kind == "ed":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write(d + "/key.pem", key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    write(d + "/pub.pem", key.public_key().public_bytes(serialization.Encoding.PEM,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo))
    print(thumbprint(key.public_key()))


def protected_map(alg, ct, kid):
    m = {1: ALGS[alg][0]}
    if ct != "-":
        m[3] = content_type_value(ct)
    if kid:
        m[4] = kid.encode()
    return m


def cmd_sign1(keypath, alg, kid, ct, payload_path, out):
    key = load_priv(keypath)
    payload = read(payload_path)
    prot = cbor2.dumps(protected_map(alg, ct, kid))
    sig = raw_sign(key, alg, sig_structure("Signature1", prot, None, payload))
    write(out, cbor2.dumps(cbor2.CBORTag(18, [prot, {}, payload, sig])))


def cmd_sign(ct, payload_path, out, signers):
    payload = read(payload_path)
    body = cbor2.dumps({3: content_type_value(ct)})
    sigs = []
    for spec in signers:
        keypath, alg, kid = spec.split(":", 2)
        prot = cbor2.dumps({1: ALGS[alg][0], 4: kid.encode()})
        sig = raw_sign(load_priv(keypath), alg, sig_structure("Signature", body, prot, payload))
        sigs.append([prot, {}, sig])
    write(out, cbor2.dumps(cbor2.CBORTag(98, [body, {}, payload, sigs])))


def header_of(prot_bytes, unprot):
    prot = cbor2.loads(prot_bytes) if prot_bytes else {}
    if not isinstance(prot, dict) or not isinstance(unprot, dict):
        die("a header is not a map")
    if 1 in unprot:
        die("alg in the unprotected header")
    if 2 in prot or 2 in unprot:
        die("crit present")
    if set(prot) & set(unprot):
        die("a label in both headers")
    return prot, unprot


def check_ct(header, want):
    got = header.get(3)
    if want == "-":
        if got is not None:
            die("unexpected content type %r" % (got,))
    elif got != content_type_value(want):
        die("content type %r, want %r" % (got, want))


def cmd_verify(path, payload_path, ct, keyspecs):
    data = read(path)
    obj = cbor2.loads(data)
    if cbor2.dumps(obj) != data:
        die("not in preferred serialization (re-encoding differs)")
    if not isinstance(obj, cbor2.CBORTag) or obj.tag not in (18, 98):
        die("not a tagged COSE_Sign1 or COSE_Sign")
    body_prot, body_unprot, payload, last = obj.value
    if payload != read(payload_path):
        die("payload differs")
    keys = []
    for spec in keyspecs:
        p, alg, kid = spec.split(":", 2)
        keys.append((load_pub(p), alg, kid.encode()))
    prot, unprot = header_of(body_prot, body_unprot)
    check_ct(prot, ct)
    if obj.tag == 18:
        if len(keys) != 1:
            die("one key for a COSE_Sign1")
        pub, alg, kid = keys[0]
        if prot.get(1) != ALGS[alg][0]:
            die("alg %r, want %s" % (prot.get(1), alg))
        if kid and prot.get(4, unprot.get(4)) != kid:
            die("kid %r, want %r" % (prot.get(4, unprot.get(4)), kid))
        if not raw_verify(pub, alg, last, sig_structure("Signature1", body_prot, None, payload)):
            die("signature does not verify")
        return
    if len(last) != len(keys):
        die("%d signatures, %d keys" % (len(last), len(keys)))
    for sp, su, sig in last:
        sprot, sunprot = header_of(sp, su)
        kid = sprot.get(4, sunprot.get(4))
        match = [k for k in keys if k[2] == kid]
        if len(match) != 1:
            die("no key for kid %r" % (kid,))
        pub, alg, _ = match[0]
        if sprot.get(1) != ALGS[alg][0]:
            die("alg %r, want %s" % (sprot.get(1), alg))
        if not raw_verify(pub, alg, sig, sig_structure("Signature", body_prot, sp, payload)):
            die("signature by kid %r does not verify" % (kid,))


def cmd_bad(kind, keypath, alg, kid, ct, payload_path, out):
    key = load_priv(keypath)
    payload = read(payload_path)
    protm, unprot = protected_map(alg, ct, kid), {}
    if kind == "alg-unprotected":
        unprot[1] = protm.pop(1)
    elif kind == "crit":
        protm[2] = [99]
        protm[99] = 0
    elif kind == "label-both":
        unprot[4] = kid.encode()
    elif kind == "no-content-type":
        protm.pop(3, None)
    prot = cbor2.dumps(protm)
    if kind == "dup-label":
        # {1: alg, 1: alg, ...}: cbor2 cannot make it, so by hand.
        inner = cbor2.dumps(protm)
        prot = bytes([inner[0] + 1]) + inner[1:] + cbor2.dumps(1) + cbor2.dumps(protm[1])
    sig = raw_sign(key, alg, sig_structure("Signature1", prot, None, payload))
    body = [prot, unprot, payload, sig]
    data = cbor2.dumps(cbor2.CBORTag(18, body))
    if kind == "indefinite":
        # d2 84 ... -> d2 9f ... ff
        assert data[1] == 0x84
        data = data[:1] + b"\x9f" + data[2:] + b"\xff"
    elif kind == "trailing":
        data += b"\x00"
    elif kind == "truncated":
        data = data[:-1]
    elif kind == "untagged":
        data = cbor2.dumps(body)
    elif kind == "flip":
        data = data[:-1] + bytes([data[-1] ^ 0x01])
    write(out, data)


def cmd_hss_vector(path):
    fields, name = {}, None
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        if "=" in line and not line[0].isspace():
            name, _, rest = line.partition("=")
            name = name.strip()
            fields[name] = rest.strip()
        elif name:
            fields[name] += line.strip()
    pub, msg, sig = (bytes.fromhex(fields[k]) for k in ("public-key", "message", "signature"))
    if not hss_verify(pub, sig, msg):
        die("the RFC's signature does not verify")
    if hss_verify(pub, sig, bytes([msg[0] ^ 1]) + msg[1:]):
        die("a changed message verifies")


def manifest_tree(path):
    with open(path, "rb") as f:
        tree = json.load(f)

    def walk(v):
        if isinstance(v, dict):
            return {k: (bytes.fromhex(x) if k == "hash" else walk(x)) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v
    return walk(tree)


def main(argv):
    if len(argv) < 2:
        die("usage: see the docstring")
    cmd, args = argv[1], argv[2:]
    if cmd == "keygen":
        cmd_keygen(*args)
    elif cmd == "kid":
        pub = load_pub(args[0])
        print(b64u(hashlib.sha256(pub).digest()) if isinstance(pub, bytes) else thumbprint(pub))
    elif cmd == "sign1":
        cmd_sign1(*args)
    elif cmd == "sign":
        cmd_sign(args[0], args[1], args[2], args[3:])
    elif cmd == "verify":
        cmd_verify(args[0], args[1], args[2], args[3:])
    elif cmd == "hss-vector":
        cmd_hss_vector(args[0])
    elif cmd == "bad":
        cmd_bad(*args)
    elif cmd == "manifest-cbor":
        write(args[1], cbor2.dumps(manifest_tree(args[0])))
    elif cmd == "canonical":
        write(args[1], cbor2.dumps(manifest_tree(args[0]), canonical=True))
    else:
        die("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
