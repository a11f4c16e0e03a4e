#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""An independent writer and reader of COSE_Encrypt (RFC 9052 section 5.1,
RFC 9053) as doc/encryption.md profiles it, written from the RFCs with
python3-cbor2 and python3-cryptography (no code shared with
src/core/cose-crypt*.c).

  decrypt KEY.pem IN
      decrypts the COSE_Encrypt in IN with the private key (EC P-256/384/521,
      X25519 or RSA) and writes the plaintext to standard output; exits 1
      with a reason when no recipient decrypts.
  encrypt IN OUT CONTENT-TYPE PUB.pem [PUB.pem ...]
      encrypts IN for the public keys (ECDH-ES + A256KW with HKDF-SHA-256 and
      a fresh ephemeral key each, RSA-OAEP-256), A256GCM; CONTENT-TYPE "-"
      for none.  No kid: the device must find its recipient by trying.
  mutate WHAT IN OUT
      writes IN changed in one way a device must refuse (see MUTATIONS).
"""

import os
import sys

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap

TAG_ENCRYPT = 96
TAG_ENCRYPT0 = 16
A256GCM, A256KW, DIRECT = 3, -5, -6
ECDH_ES_A256KW, RSA_OAEP_256 = -31, -41
CURVES = {1: ec.SECP256R1(), 2: ec.SECP384R1(), 3: ec.SECP521R1()}
CRV_OF = {"secp256r1": 1, "secp384r1": 2, "secp521r1": 3}


def oaep():
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def kek_for(z, recipient_protected):
    # COSE_KDF_Context (RFC 9053 section 5.2) for A256KW, no party info
    context = cbor2.dumps([A256KW, [None, None, None], [None, None, None], [256, recipient_protected]])
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=context).derive(z)


def enc_structure(protected):
    return cbor2.dumps(["Encrypt", protected, b""])


def header(protected, unprotected, label):
    p = cbor2.loads(protected) if protected else {}
    return p.get(label, unprotected.get(label))


def unwrap(priv, recipient):
    protected, unprotected, ek = recipient[0], recipient[1], recipient[2]
    alg = header(protected, unprotected, 1)
    if alg == RSA_OAEP_256 and isinstance(priv, rsa.RSAPrivateKey):
        return priv.decrypt(ek, oaep())
    if alg != ECDH_ES_A256KW:
        return None
    epk = header(protected, unprotected, -1)
    if isinstance(priv, x25519.X25519PrivateKey) and epk.get(1) == 1 and epk.get(-1) == 4:
        z = priv.exchange(x25519.X25519PublicKey.from_public_bytes(epk[-2]))
    elif isinstance(priv, ec.EllipticCurvePrivateKey) and epk.get(1) == 2 and \
            CRV_OF.get(priv.curve.name) == epk.get(-1):
        pub = ec.EllipticCurvePublicNumbers(int.from_bytes(epk[-2], "big"), int.from_bytes(epk[-3], "big"),
                                            priv.curve).public_key()
        z = priv.exchange(ec.ECDH(), pub)
    else:
        return None
    return aes_key_unwrap(kek_for(z, protected), ek)


def decrypt(key_path, in_path):
    with open(key_path, "rb") as f:
        priv = serialization.load_pem_private_key(f.read(), password=None)
    with open(in_path, "rb") as f:
        msg = cbor2.loads(f.read())
    if not isinstance(msg, cbor2.CBORTag) or msg.tag != TAG_ENCRYPT:
        sys.exit("not a COSE_Encrypt")
    protected, unprotected, ciphertext, recipients = msg.value
    if header(protected, unprotected, 1) != A256GCM:
        sys.exit("content encryption is not A256GCM")
    iv = header(protected, unprotected, 5)
    for recipient in recipients:
        try:
            cek = unwrap(priv, recipient)
            if cek is None:
                continue
            plain = AESGCM(cek).decrypt(iv, ciphertext, enc_structure(protected))
        except Exception:  # a recipient that is not ours, or altered
            continue
        sys.stdout.buffer.write(plain)
        return
    sys.exit("no recipient decrypts with this key")


def cose_key(pub):
    if isinstance(pub, x25519.X25519PublicKey):
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {1: 1, -1: 4, -2: raw}
    n = pub.public_numbers()
    size = (pub.curve.key_size + 7) // 8
    return {1: 2, -1: CRV_OF[pub.curve.name], -2: n.x.to_bytes(size, "big"), -3: n.y.to_bytes(size, "big")}


def recipient_for(pub, cek):
    if isinstance(pub, rsa.RSAPublicKey):
        return [cbor2.dumps({1: RSA_OAEP_256}), {}, pub.encrypt(cek, oaep())]
    protected = cbor2.dumps({1: ECDH_ES_A256KW})
    if isinstance(pub, x25519.X25519PublicKey):
        eph = x25519.X25519PrivateKey.generate()
        z = eph.exchange(pub)
    else:
        eph = ec.generate_private_key(pub.curve)
        z = eph.exchange(ec.ECDH(), pub)
    return [protected, {-1: cose_key(eph.public_key())}, aes_key_wrap(kek_for(z, protected), cek)]


def encrypt(in_path, out_path, content_type, pubs):
    with open(in_path, "rb") as f:
        plain = f.read()
    cek, iv = os.urandom(32), os.urandom(12)
    prot = {1: A256GCM}
    if content_type != "-":
        prot[3] = content_type
    protected = cbor2.dumps(prot)
    ciphertext = AESGCM(cek).encrypt(iv, plain, enc_structure(protected))
    recipients = []
    for path in pubs:
        with open(path, "rb") as f:
            recipients.append(recipient_for(serialization.load_pem_public_key(f.read()), cek))
    with open(out_path, "wb") as f:
        f.write(cbor2.dumps(cbor2.CBORTag(TAG_ENCRYPT, [protected, {5: iv}, ciphertext, recipients])))


def flip_last(b):
    return b[:-1] + bytes([b[-1] ^ 1])


def mutate(what, in_path, out_path):
    with open(in_path, "rb") as f:
        msg = cbor2.loads(f.read())
    protected, unprotected, ciphertext, recipients = msg.value
    tag = TAG_ENCRYPT
    prot = cbor2.loads(protected)
    if what == "encrypt0":          # the same ciphertext as a COSE_Encrypt0
        out = cbor2.CBORTag(TAG_ENCRYPT0, [protected, unprotected, ciphertext])
    elif what == "untagged":
        out = [protected, unprotected, ciphertext, recipients]
    else:
        if what == "tag":           # the GCM tag
            ciphertext = flip_last(ciphertext)
        elif what == "ciphertext":  # the first ciphertext byte
            ciphertext = bytes([ciphertext[0] ^ 0x80]) + ciphertext[1:]
        elif what == "protected":   # the content type, authenticated as AAD
            prot[3] = "application/cose"
            protected = cbor2.dumps(prot)
        elif what == "swap":        # the encrypted keys of recipients 1 and 2
            recipients[0][2], recipients[1][2] = recipients[1][2], recipients[0][2]
        elif what == "wrapped":     # recipient 1's wrapped key
            recipients[0][2] = flip_last(recipients[0][2])
        elif what == "direct":      # a shared key
            recipients = [[b"", {1: DIRECT}, b""]]
        elif what == "crit":
            prot[2] = [99]
            protected = cbor2.dumps(prot)
        elif what == "alg-unprotected":
            del prot[1]
            protected = cbor2.dumps(prot)
            unprotected = {**unprotected, 1: A256GCM}
        elif what == "partial-iv":
            unprotected = {**unprotected, 6: b"\x01"}
        elif what == "nested":
            recipients[0] = recipients[0] + [[recipients[0]]]
        elif what == "detached":
            ciphertext = None
        elif what == "a128gcm":
            prot[1] = 1
            protected = cbor2.dumps(prot)
        elif what == "static-key":
            recipients[0][1] = {**recipients[0][1], -3: b"kid"}
        elif what == "both-buckets":
            unprotected = {**unprotected, 1: A256GCM}  # alg in both
        elif what == "private-epk":
            recipients[0][1][-1] = {**recipients[0][1][-1], -4: b"\x01" * 32}
        else:
            sys.exit("unknown mutation " + what)
        out = cbor2.CBORTag(tag, [protected, unprotected, ciphertext, recipients])
    with open(out_path, "wb") as f:
        f.write(cbor2.dumps(out))


def main(argv):
    if len(argv) == 4 and argv[1] == "decrypt":
        decrypt(argv[2], argv[3])
    elif len(argv) >= 6 and argv[1] == "encrypt":
        encrypt(argv[2], argv[3], argv[4], argv[5:])
    elif len(argv) == 5 and argv[1] == "mutate":
        mutate(argv[2], argv[3], argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
