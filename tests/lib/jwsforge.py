#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""jwsforge: emits arbitrary JWS, valid or deliberately malformed, for the
attack scenarios (tests/integration/attack-*.sh).

Every byte is under control: the protected header (built from options or
given verbatim), the payload, the signature, the base64url flavour and the
serialization.  Signatures are computed over the segments exactly as they
are emitted, so that a malformed encoding still carries a signature that a
lax verifier would accept: a refusal then proves strictness, not luck.

  jwsforge.py [GLOBAL OPTIONS] [SIGNATURE OPTIONS] [--sig SIGNATURE OPTIONS]...

Global options
  --payload FILE           payload bytes (FILE '-' is standard input)
  --payload-text TEXT      payload bytes: TEXT in UTF-8 (\\n, \\t, \\xHH,
                           \\uHHHH escapes are decoded; \\xHH gives a raw byte)
  --payload-b64 SEG        the payload segment verbatim
  --form FORM              compact (default), flattened or general
  --b64 STYLE              how every segment is encoded: strict (RFC 7515
                           base64url, the default), padded ('=' kept), std
                           (the '+' '/' alphabet, no padding), space (a ' '
                           in the middle of each segment), newline (a
                           '\\n' there), long (one extra symbol: a length
                           of 4n+1), noncanonical (the last symbol's unused
                           bits set: same bytes for a lax decoder)
  --b64-only SEG           apply --b64 to one segment only: header,
                           payload or signature
  --flip SEG:OFFSET:BIT    after signing, flip bit BIT (0..7) of byte
                           OFFSET (negative: from the end) of the decoded
                           SEG (header, payload or signature of the first
                           signature; sigN-header, sigN-signature for others)
  --flip-text SEG:TEXT:BIT the same at the first byte of the first
                           occurrence of TEXT (escapes as in --payload-text)
                           in SEG
  --payload-align N        append '\n' to the payload until its length is
                           3k+N (N 1 or 2: its segment then ends in a
                           partial group, with padding and unused bits)
  --json-extra NAME=JSON   an extra top-level member of a JSON serialization

Signature options (--sig starts the next signature; general form only)
  --key FILE               private key (PEM: EC P-256/384/521, RSA, Ed25519);
                           for HS* algorithms the HMAC secret is the file's
                           bytes, whatever they are (a public key PEM, say)
  --alg NAME               the "alg" header value; also the signing
                           algorithm unless --sign-as is given.  "none" (any
                           case) signs nothing: the signature is empty
  --sign-as ALG            compute the signature with ALG (ES256..ES512,
                           RS*, PS*, EdDSA, HS*, none)
  --kid TEXT / --no-kid    default: the RFC 7638 thumbprint of --key
  --typ TEXT / --no-typ    default: secfu-manifest+jws
  --hdr NAME=JSON          set a protected header member to a JSON value
  --hdr-jwk KEYFILE        "jwk": the public JWK of KEYFILE
  --hdr-x5c KEYFILE        "x5c": a self-signed certificate of KEYFILE
  --header-order a,b,...   member order of the protected header (default:
                           alg, kid, typ, then --hdr in order)
  --header-sep TEXT        text between protected header members
                           (default ","; e.g. ",\\t" for a tab)
  --header-align N         append ' ' to the protected header until its
                           length is 3k+N (as --payload-align)
  --protected-json TEXT    the protected header bytes verbatim (escapes as
                           in --payload-text); overrides the above
  --protected-b64 SEG      the protected segment verbatim
  --no-protected           no "protected" member (JSON forms); the compact
                           form then has an empty first segment
  --unprotected JSON       the unprotected "header" member (JSON forms)
  --signature-b64 SEG      the signature segment verbatim ("" for empty)
  --signature-bytes HEX    the signature bytes (then encoded per --b64)
  --signature-from JWS     protected and signature segments taken from the
                           first signature of the JWS in file JWS (any
                           serialization): a transplanted signature

Output: the JWS on standard output, no trailing newline.  Exit 2 on a
usage error.

  jwsforge.py --batch FILE

forges many JWS in one process (python and its crypto modules start once):
FILE holds records of NUL-terminated fields, OUTPUT COUNT ARG1 .. ARGn, and
each record writes the JWS that the ARGs describe to the file OUTPUT.
"""

import base64
import hashlib
import hmac
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

TYP_MANIFEST = "secfu-manifest+jws"
HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
EC_SIZES = {"ES256": 32, "ES384": 48, "ES512": 66}


die_context = None


def die(msg):
    sys.stderr.write("jwsforge: %s%s\n" % (die_context + ": " if die_context else "", msg))
    sys.exit(2)


def unescape(text):
    """TEXT with \\n \\t \\r \\\\ \\xHH \\uHHHH decoded; \\xHH is one raw byte."""
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c != "\\" or i + 1 >= len(text):
            out += c.encode("utf-8", "surrogatepass")
            i += 1
            continue
        e = text[i + 1]
        if e in "ntr\\":
            out += {"n": b"\n", "t": b"\t", "r": b"\r", "\\": b"\\"}[e]
            i += 2
        elif e == "x":
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        elif e == "u":
            out += chr(int(text[i + 2:i + 6], 16)).encode("utf-8", "surrogatepass")
            i += 6
        else:
            out += c.encode()
            i += 1
    return bytes(out)


# ---------------------------------------------------------------- base64url

def b64_strict(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64_decode_lax(seg):
    """Decodes any of the flavours this tool writes (for --flip and
    --signature-from)."""
    s = "".join(seg.split()).replace("+", "-").replace("/", "_").rstrip("=")
    if len(s) % 4 == 1:
        s = s[:-1]
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def encode(data, style):
    s = b64_strict(data)
    if style == "strict":
        return s
    if style == "padded":
        return base64.urlsafe_b64encode(data).decode()
    if style == "std":
        return base64.b64encode(data).rstrip(b"=").decode()
    if style in ("space", "newline"):
        mid = len(s) // 2
        return s[:mid] + (" " if style == "space" else "\n") + s[mid:]
    if style == "long":
        return long_form(s)
    if style == "noncanonical":
        # 2 or 3 symbols in the last group: the last one has 4 or 2
        # unused low bits, which a strict decoder requires to be zero.
        rem = len(data) % 3
        if rem == 0:
            die("noncanonical: %d bytes leave no unused bits; pick another segment" % len(data))
        v = ALPHABET.index(s[-1]) | (0x01 if rem == 2 else 0x0f)
        return s[:-1] + ALPHABET[v]
    die("unknown --b64 style %r" % style)


def long_form(s):
    """s with symbols appended until its length is 4n+1 (never decodable)."""
    while len(s) % 4 != 1:
        s += "A"
    return s


# ---------------------------------------------------------------- keys

def load_private(path):
    data = open(path, "rb").read()
    try:
        return serialization.load_pem_private_key(data, password=None)
    except ValueError as e:
        die("%s: not a PEM private key (%s)" % (path, e))


def load_any_public(path):
    data = open(path, "rb").read()
    try:
        return serialization.load_pem_private_key(data, password=None).public_key()
    except (ValueError, TypeError):
        return serialization.load_pem_public_key(data)


def int_b64(n, size=None):
    if size is None:
        size = (n.bit_length() + 7) // 8
    return b64_strict(n.to_bytes(size, "big"))


def public_jwk(pub):
    if isinstance(pub, ec.EllipticCurvePublicKey):
        size = (pub.curve.key_size + 7) // 8
        crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}[pub.curve.name]
        nums = pub.public_numbers()
        return {"crv": crv, "kty": "EC", "x": int_b64(nums.x, size), "y": int_b64(nums.y, size)}
    if isinstance(pub, rsa.RSAPublicKey):
        nums = pub.public_numbers()
        return {"e": int_b64(nums.e), "kty": "RSA", "n": int_b64(nums.n)}
    if isinstance(pub, ed25519.Ed25519PublicKey):
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"crv": "Ed25519", "kty": "OKP", "x": b64_strict(raw)}
    die("unsupported key type %s" % type(pub).__name__)


def thumbprint(pub):
    """RFC 7638: SHA-256 of the required members, sorted, no white space."""
    jwk = public_jwk(pub)
    text = json.dumps(jwk, sort_keys=True, separators=(",", ":"))
    return b64_strict(hashlib.sha256(text.encode()).digest())


def self_signed_cert(priv):
    import datetime
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "firmware signing")])
    now = datetime.datetime(2020, 1, 1)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(priv.public_key()).serial_number(1)
               .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=36500)))
    algo = None if isinstance(priv, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    cert = builder.sign(priv, algo)
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def sign(alg, key_path, data):
    a = alg.upper() if alg.lower() != "eddsa" else "EDDSA"
    if a == "NONE":
        return b""
    if a.startswith("HS"):
        if not key_path:
            die("--alg %s needs --key (the HMAC secret file)" % alg)
        if a[2:] not in HASHES:
            die("unknown HMAC algorithm %s" % alg)
        return hmac.new(open(key_path, "rb").read(), data, getattr(hashlib, "sha" + a[2:])).digest()
    if not key_path:
        die("--alg %s needs --key" % alg)
    key = load_private(key_path)
    if a in EC_SIZES:
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            die("%s needs an EC key" % alg)
        der = key.sign(data, ec.ECDSA(HASHES[a[2:]]()))
        r, s = decode_dss_signature(der)
        return r.to_bytes(EC_SIZES[a], "big") + s.to_bytes(EC_SIZES[a], "big")
    if a[:2] in ("RS", "PS") and a[2:] in HASHES:
        if not isinstance(key, rsa.RSAPrivateKey):
            die("%s needs an RSA key" % alg)
        h = HASHES[a[2:]]()
        if a.startswith("RS"):
            return key.sign(data, padding.PKCS1v15(), h)
        return key.sign(data, padding.PSS(mgf=padding.MGF1(HASHES[a[2:]]()),
                                          salt_length=h.digest_size), h)
    if a == "EDDSA":
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            die("EdDSA needs an Ed25519 key")
        return key.sign(data)
    die("cannot sign with %r (use --sign-as)" % alg)


# ---------------------------------------------------------------- options

class Signature:
    def __init__(self):
        self.key = None
        self.alg = None
        self.sign_as = None
        self.kid = None          # None: default; False: none
        self.typ = TYP_MANIFEST  # False: none
        self.hdr = []            # [(name, value)]
        self.order = None
        self.sep = ","
        self.align = None
        self.protected_json = None
        self.protected_b64 = None
        self.no_protected = False
        self.unprotected = None
        self.signature_b64 = None
        self.signature_bytes = None
        self.signature_from = None

    def header_bytes(self):
        if self.protected_json is not None:
            return self.protected_json
        members = []
        if self.alg is not None:
            members.append(("alg", self.alg))
        kid = self.kid
        if kid is None and self.key and not (self.alg or "").upper().startswith("HS"):
            kid = thumbprint(load_private(self.key).public_key())
        if kid is not None and kid is not False:
            members.append(("kid", kid))
        if self.typ is not False:
            members.append(("typ", self.typ))
        for name, value in self.hdr:
            members = [m for m in members if m[0] != name]
            members.append((name, value))
        if self.order:
            rank = {n: i for i, n in enumerate(self.order)}
            members.sort(key=lambda m: rank.get(m[0], len(rank)))
        body = self.sep.join(json.dumps(n) + ":" + json.dumps(v, separators=(",", ":"))
                             for n, v in members)
        return ("{" + body + "}").encode()


# Options of the current signature (after the last --sig): option ->
# (attribute of Signature, conversion of the value) ...
SIGNATURE_OPTIONS = {
    "--key": ("key", str), "--alg": ("alg", str), "--sign-as": ("sign_as", str),
    "--kid": ("kid", str), "--typ": ("typ", str),
    "--header-order": ("order", lambda v: v.split(",")),
    "--header-sep": ("sep", lambda v: unescape(v).decode()), "--header-align": ("align", int),
    "--protected-json": ("protected_json", unescape), "--protected-b64": ("protected_b64", str),
    "--unprotected": ("unprotected", json.loads), "--signature-b64": ("signature_b64", str),
    "--signature-bytes": ("signature_bytes", bytes.fromhex), "--signature-from": ("signature_from", str),
}
# ... and the ones without a value: option -> (attribute, value).
SIGNATURE_FLAGS = {"--no-kid": ("kid", False), "--no-typ": ("typ", False),
                   "--no-protected": ("no_protected", True)}


def header_member(opt, v):
    """The protected header member (name, value) of --hdr NAME=JSON,
    --hdr-jwk KEYFILE or --hdr-x5c KEYFILE."""
    if opt == "--hdr-jwk":
        return "jwk", public_jwk(load_any_public(v))
    if opt == "--hdr-x5c":
        return "x5c", [self_signed_cert(load_private(v))]
    name, _, text = v.partition("=")
    return name, json.loads(text)


def parse_args(argv):
    g = {"payload": None, "payload_b64": None, "form": "compact", "b64": "strict",
         "b64_only": None, "flips": [], "json_extra": [], "align": None}
    sigs = [Signature()]

    def value(i):
        if i + 1 >= len(argv):
            die("%s needs a value" % argv[i])
        return argv[i + 1]

    i = 0
    while i < len(argv):
        opt = argv[i]
        s = sigs[-1]
        step = 2
        if opt == "--sig":
            sigs.append(Signature())
            step = 1
        elif opt == "--payload":
            v = value(i)
            g["payload"] = sys.stdin.buffer.read() if v == "-" else open(v, "rb").read()
        elif opt == "--payload-text":
            g["payload"] = unescape(value(i))
        elif opt == "--payload-b64":
            g["payload_b64"] = value(i)
        elif opt == "--form":
            g["form"] = value(i)
            if g["form"] not in ("compact", "flattened", "general"):
                die("unknown --form %r" % g["form"])
        elif opt == "--b64":
            g["b64"] = value(i)
        elif opt == "--b64-only":
            g["b64_only"] = value(i)
        elif opt in ("--flip", "--flip-text"):
            parts = value(i).split(":")
            if len(parts) < 3:
                die("%s SEG:%s:BIT" % (opt, "OFFSET" if opt == "--flip" else "TEXT"))
            seg, where, bit = parts[0], ":".join(parts[1:-1]), int(parts[-1])
            g["flips"].append((seg, unescape(where) if opt == "--flip-text" else int(where), bit))
        elif opt == "--payload-align":
            g["align"] = int(value(i))
        elif opt == "--json-extra":
            name, _, v = value(i).partition("=")
            g["json_extra"].append((name, json.loads(v)))
        elif opt in SIGNATURE_FLAGS:
            attr, v = SIGNATURE_FLAGS[opt]
            setattr(s, attr, v)
            step = 1
        elif opt in SIGNATURE_OPTIONS:
            attr, convert = SIGNATURE_OPTIONS[opt]
            setattr(s, attr, convert(value(i)))
        elif opt in ("--hdr", "--hdr-jwk", "--hdr-x5c"):
            s.hdr.append(header_member(opt, value(i)))
        elif opt in ("-h", "--help"):
            sys.stdout.write(__doc__)
            sys.exit(0)
        else:
            die("unknown option %r" % opt)
        i += step
    if g["payload"] is None and g["payload_b64"] is None:
        die("no payload (--payload, --payload-text or --payload-b64)")
    if g["align"] is not None and g["payload"] is not None:
        while len(g["payload"]) % 3 != g["align"] % 3:
            g["payload"] += b"\n"
    if len(sigs) > 1 and g["form"] != "general":
        die("several signatures need --form general")
    return g, sigs


def first_signature_of(path):
    """(protected segment, signature segment) of the first signature of a
    JWS file in any serialization."""
    text = open(path, "rb").read().decode().strip()
    if text.startswith("{"):
        doc = json.loads(text)
        sig = doc["signatures"][0] if "signatures" in doc else doc
        return sig.get("protected", ""), sig["signature"]
    parts = text.split(".")
    if len(parts) != 3:
        die("%s: not a compact JWS" % path)
    return parts[0], parts[2]


# ---------------------------------------------------------------- assembly

def forge(argv):
    """The JWS that argv describes, as text."""
    g, sigs = parse_args(argv)

    def style_for(seg):
        if g["b64_only"] and g["b64_only"] != seg:
            return "strict"
        return g["b64"]

    def enc(seg, data):
        st = style_for(seg)
        if st == "long":
            return long_form(b64_strict(data))
        return encode(data, st)

    flips = {}
    for seg, where, bit in g["flips"]:
        flips.setdefault(seg, []).append((where, bit))

    def flipped(seg, data):
        data = bytearray(data)
        for where, bit in flips.get(seg, []):
            if isinstance(where, bytes):
                pos = bytes(data).find(where)
                if pos < 0:
                    die("--flip-text: %r not in %s" % (where, seg))
            else:
                pos = where
            data[pos] ^= 1 << bit
        return bytes(data)

    if g["payload_b64"] is not None:
        payload_seg = g["payload_b64"]
        payload_sent = g["payload_b64"]
    else:
        payload_seg = enc("payload", g["payload"])
        payload_sent = enc("payload", flipped("payload", g["payload"])) if "payload" in flips else payload_seg

    out_sigs = []
    for n, s in enumerate(sigs, 1):
        name_h = "header" if n == 1 else "sig%d-header" % n
        name_s = "signature" if n == 1 else "sig%d-signature" % n
        if s.signature_from:
            prot_seg, sig_seg = first_signature_of(s.signature_from)
            out_sigs.append((prot_seg, s.unprotected, sig_seg))
            continue
        if s.no_protected:
            prot_seg = ""
        elif s.protected_b64 is not None:
            prot_seg = s.protected_b64
        else:
            header = s.header_bytes()
            while s.align is not None and len(header) % 3 != s.align % 3:
                header += b" "
            prot_seg = enc("header", header)
        signing_input = (prot_seg + "." + payload_seg).encode()
        if s.signature_b64 is not None:
            sig_seg = s.signature_b64
        else:
            if s.signature_bytes is not None:
                sig = s.signature_bytes
            else:
                sig = sign(s.sign_as or s.alg or "none", s.key, signing_input)
            sig = flipped(name_s, sig) if name_s in flips else sig
            sig_seg = enc("signature", sig) if sig or style_for("signature") == "long" else ""
        if name_h in flips:
            prot_seg = enc("header", flipped(name_h, b64_decode_lax(prot_seg)))
        out_sigs.append((prot_seg, s.unprotected, sig_seg))

    if g["form"] == "compact":
        prot_seg, unprot, sig_seg = out_sigs[0]
        if unprot is not None:
            die("the compact form has no unprotected header")
        return "%s.%s.%s" % (prot_seg, payload_sent, sig_seg)

    def sig_object(prot_seg, unprot, sig_seg, no_protected):
        obj = {}
        if not no_protected:
            obj["protected"] = prot_seg
        if unprot is not None:
            obj["header"] = unprot
        obj["signature"] = sig_seg
        return obj

    if g["form"] == "flattened":
        doc = {"payload": payload_sent}
        doc.update(sig_object(*out_sigs[0], sigs[0].no_protected))
    else:
        doc = {"payload": payload_sent,
               "signatures": [sig_object(*o, s.no_protected) for o, s in zip(out_sigs, sigs)]}
    for name, v in g["json_extra"]:
        doc[name] = v
    return json.dumps(doc, separators=(",", ":"))


def main(argv):
    global die_context
    if argv[:1] != ["--batch"]:
        sys.stdout.write(forge(argv))
        return 0
    if len(argv) != 2:
        die("--batch FILE")
    fields = open(argv[1], "rb").read().split(b"\0")
    i = 0
    while i + 1 < len(fields):
        out, count = fields[i].decode(), int(fields[i + 1])
        args = [f.decode("utf-8", "surrogateescape") for f in fields[i + 2:i + 2 + count]]
        die_context = out
        text = forge(args)
        open(out, "w", encoding="utf-8", errors="surrogateescape").write(text)
        i += 2 + count
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
