#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The python3-jwcrypto side of the JWS interoperability tests.

Run with /usr/bin/python3 (Debian's jwcrypto).  Every command exits 0 on
success and 1 with one reason on stderr otherwise.

  verify PUB.pem ALG PAYLOAD JWS [KID]
      jwcrypto verifies JWS (compact or JSON) with the PEM public key, and
      checks the payload, alg, typ and (if given) kid and the RFC 7638
      thumbprint of the key.
  gen ALG DIR PAYLOAD
      makes a key for ALG (DIR/key.jwk private, DIR/pub.pem, DIR/pub.jwk),
      prints its thumbprint and writes signatures of PAYLOAD:
        ok.compact, ok.json     protected {"alg","typ":"secfu-manifest+jws","kid"}
        notyp.compact           no typ
        badtyp.json             typ "JWT"
        crit.compact            crit ["exp"] with an exp header
        jwkhdr.compact          signed by a fresh key carried in a "jwk" header
                                (EC and EdDSA only)
  general DIR1 DIR2 ALG1 ALG2 PAYLOAD
      prints a general-serialization JWS signed with both keys.
  hmac PUB.pem PAYLOAD
      prints an HS256 JWS whose secret is the bytes of PUB.pem (the RS/HS
      alg-confusion attack).
  unsigned PAYLOAD
      prints a JWS with alg "none" and an empty signature.
  curve-mismatch DIR PAYLOAD
      makes a P-384 key (DIR/p384.pem) and prints an "ES256" JWS whose
      R||S signature that key made over SHA-256.
  pem2jwk PUB.pem ALG
      prints the public key as a JWK with "alg" set.
"""

import json
import sys

from jwcrypto import jwk, jws
from jwcrypto.common import base64url_encode, json_encode

TYP = "secfu-manifest+jws"


def die(msg):
    sys.stderr.write("jwcrypto-helper: %s\n" % msg)
    sys.exit(1)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def generate(alg):
    if alg[:2] in ("RS", "PS"):
        return jwk.JWK.generate(kty="RSA", size=2048)
    if alg == "ES256":
        return jwk.JWK.generate(kty="EC", crv="P-256")
    if alg == "ES384":
        return jwk.JWK.generate(kty="EC", crv="P-384")
    if alg == "ES512":
        return jwk.JWK.generate(kty="EC", crv="P-521")
    if alg == "EdDSA":
        return jwk.JWK.generate(kty="OKP", crv="Ed25519")
    die("unknown alg %s" % alg)


def sign(key, payload, header, compact):
    token = jws.JWS(payload)
    token.allowed_algs = jws.default_allowed_algs + ["none"]
    token.add_signature(key, None, json_encode(header), None)
    return token.serialize(compact=compact)


def sign_raw(key, payload, header):
    """Compact JWS through jwcrypto's low-level signer, which, unlike
    JWS.add_signature, lets the header carry what a verifier must refuse
    (an unknown critical header)."""
    core = jws.JWSCore(header["alg"], key, json_encode(header), payload)
    sig = core.sign()
    return "%s.%s.%s" % (sig["protected"], base64url_encode(payload), sig["signature"])


def cmd_verify(pub_path, alg, payload_path, jws_path, kid=None):
    key = jwk.JWK.from_pem(read(pub_path))
    raw = read(jws_path).decode().strip()
    token = jws.JWS()
    try:
        token.deserialize(raw)
        token.verify(key, alg=alg)
    except Exception as e:  # jwcrypto raises several types
        die("verification failed: %r" % e)
    if token.payload != read(payload_path):
        die("payload differs")
    header = token.jose_header
    if isinstance(header, list):
        # General serialization: the signature of interest is the one
        # with our kid (or our alg).
        mine = [h for h in header if h.get("kid", None) == kid] if kid else \
               [h for h in header if h.get("alg") == alg]
        if not mine:
            die("no signature with kid %r / alg %r" % (kid, alg))
        header = mine[0]
    if header.get("alg") != alg:
        die("alg is %r" % header.get("alg"))
    if header.get("typ") != TYP:
        die("typ is %r" % header.get("typ"))
    if kid is not None:
        if header.get("kid") != kid:
            die("kid is %r, want %r" % (header.get("kid"), kid))
        if key.thumbprint() != kid:
            die("RFC 7638 thumbprint is %s, the tool said %s" % (key.thumbprint(), kid))


def cmd_gen(alg, outdir, payload_path):
    payload = read(payload_path)
    key = generate(alg)
    kid = key.thumbprint()
    write(outdir + "/key.jwk", key.export(private_key=True))
    write(outdir + "/pub.pem", key.export_to_pem(private_key=False, password=None))
    pub = json.loads(key.export_public())
    pub["kid"] = kid
    write(outdir + "/pub.jwk", json.dumps(pub))
    good = {"alg": alg, "typ": TYP, "kid": kid}
    write(outdir + "/ok.compact", sign(key, payload, good, True))
    write(outdir + "/ok.json", sign(key, payload, good, False))
    write(outdir + "/notyp.compact", sign(key, payload, {"alg": alg, "kid": kid}, True))
    write(outdir + "/badtyp.json", sign(key, payload, {"alg": alg, "typ": "JWT", "kid": kid}, False))
    write(outdir + "/crit.compact",
          sign_raw(key, payload, {"alg": alg, "typ": TYP, "kid": kid, "crit": ["exp"], "exp": 1}))
    if alg[:2] not in ("RS", "PS"):  # RSA key generation is slow; EC shows it
        rogue = generate(alg)
        rogue_pub = json.loads(rogue.export_public())
        write(outdir + "/jwkhdr.compact",
              sign(rogue, payload, {"alg": alg, "typ": TYP, "kid": kid, "jwk": rogue_pub}, True))
    print(kid)


def cmd_general(dir1, dir2, alg1, alg2, payload_path):
    token = jws.JWS(read(payload_path))
    for d, alg in ((dir1, alg1), (dir2, alg2)):
        key = jwk.JWK.from_json(read(d + "/key.jwk"))
        token.add_signature(key, None, json_encode({"alg": alg, "typ": TYP, "kid": key.thumbprint()}), None)
    print(token.serialize())


def cmd_hmac(pub_path, payload_path):
    secret = jwk.JWK(kty="oct", k=base64url_encode(read(pub_path)))
    print(sign(secret, read(payload_path), {"alg": "HS256", "typ": TYP}, True))


def cmd_unsigned(payload_path):
    header = base64url_encode(json_encode({"alg": "none", "typ": TYP}))
    print("%s.%s." % (header, base64url_encode(read(payload_path))))


def cmd_curve_mismatch(outdir, payload_path):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    key = jwk.JWK.generate(kty="EC", crv="P-384")
    write(outdir + "/p384.pem", key.export_to_pem(private_key=False, password=None))
    header = base64url_encode(json_encode({"alg": "ES256", "typ": TYP}))
    body = base64url_encode(read(payload_path))
    signing_input = ("%s.%s" % (header, body)).encode()
    der = key.get_op_key("sign").sign(signing_input, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    sig = r.to_bytes(48, "big") + s.to_bytes(48, "big")
    print("%s.%s.%s" % (header, body, base64url_encode(sig)))


def cmd_pem2jwk(pub_path, alg):
    key = jwk.JWK.from_pem(read(pub_path))
    pub = json.loads(key.export_public())
    pub["alg"] = alg
    print(json.dumps(pub))


COMMANDS = {
    "verify": (cmd_verify, (4, 5)),
    "gen": (cmd_gen, (3,)),
    "general": (cmd_general, (5,)),
    "hmac": (cmd_hmac, (2,)),
    "unsigned": (cmd_unsigned, (1,)),
    "curve-mismatch": (cmd_curve_mismatch, (2,)),
    "pem2jwk": (cmd_pem2jwk, (2,)),
}


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS:
        die("usage: jwcrypto-helper.py %s ARGS" % "|".join(COMMANDS))
    fn, nargs = COMMANDS[argv[1]]
    if len(argv) - 2 not in nargs:
        die("%s: wrong number of arguments" % argv[1])
    fn(*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
