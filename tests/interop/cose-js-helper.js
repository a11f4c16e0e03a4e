// SPDX-License-Identifier: MIT
// The npm side of the COSE interop tests: cose-kit (all ten algorithms,
// COSE_Sign1 and COSE_Sign) and cose-js (ES*, PS*, RS*; COSE_Sign1, and
// COSE_Sign with one signer whose kid is in the unprotected header).
// NODE_PATH names the node_modules directory the test installed them in.
//
//   kit-sign1 KEY.pem ALG KID CT PAYLOAD OUT     CT: a number (CoAP Content-Format)
//   kit-sign CT PAYLOAD OUT KEY.pem:ALG:KID ...
//   kit-verify FILE PAYLOAD PUB.pem ...          one key per signature, in order
//   js-sign1 KEY.pem ALG KID CT PAYLOAD OUT      CT: a media type (text)
//   js-sign CT PAYLOAD OUT KEY.pem:ALG:KID       COSE_Sign, one signer
//   js-verify FILE PAYLOAD PUB.pem ALG           a COSE_Sign1
// Exits 0 on success, 1 with one reason on stderr.
'use strict';

const fs = require('fs');
const crypto = require('crypto');

function die (msg) {
  process.stderr.write('cose-js-helper: ' + msg + '\n');
  process.exit(1);
}

const privateKey = (path) => crypto.createPrivateKey(fs.readFileSync(path));
const publicKey = (path) => crypto.createPublicKey(fs.readFileSync(path));
const jwkOf = (key) => key.export({ format: 'jwk' });
const b = (s) => Buffer.from(s, 'base64url');

// cose-js wants raw key components.
function coseJsSigner (path, alg) {
  if (alg.startsWith('RS')) return { key: fs.readFileSync(path, 'utf8') };
  const j = jwkOf(privateKey(path));
  if (alg.startsWith('ES')) return { key: { d: b(j.d) } };
  return { key: { n: b(j.n), e: b(j.e), d: b(j.d), p: b(j.p), q: b(j.q), dp: b(j.dp), dq: b(j.dq), qi: b(j.qi) } };
}

function coseJsVerifier (path, alg) {
  if (alg.startsWith('RS')) return { key: fs.readFileSync(path, 'utf8') };
  const j = jwkOf(publicKey(path));
  if (alg.startsWith('ES')) return { key: { x: b(j.x), y: b(j.y) } };
  return { key: { n: b(j.n), e: b(j.e) } };
}

async function main (argv) {
  const [cmd, ...args] = argv;
  if (cmd.startsWith('kit-')) {
    const kit = require('cose-kit');
    if (cmd === 'kit-sign1') {
      const [key, alg, kid, ct, payload, out] = args;
      const s = await kit.Sign1.sign({ alg, ctyp: Number(ct), kid }, {}, fs.readFileSync(payload), privateKey(key));
      fs.writeFileSync(out, s.encode());
    } else if (cmd === 'kit-sign') {
      const [ct, payload, out, ...specs] = args;
      const signers = specs.map((spec) => {
        const [key, alg, kid] = spec.split(':');
        return { key: privateKey(key), protectedHeaders: { alg, kid }, unprotectedHeaders: {} };
      });
      const s = await kit.Sign.sign({ ctyp: Number(ct) }, {}, fs.readFileSync(payload), signers);
      fs.writeFileSync(out, s.encode());
    } else if (cmd === 'kit-verify') {
      const [file, payload, ...pubs] = args;
      const data = fs.readFileSync(file);
      const keys = pubs.map(publicKey);
      const r = data[0] === 0xd2 ? await kit.coseVerify(data, keys[0]) : await kit.coseVerifyMultiSignature(data, keys);
      if (!r.isValid) die('signature does not verify');
      if (!Buffer.from(r.decoded.payload).equals(fs.readFileSync(payload))) die('payload differs');
    } else die('unknown command ' + cmd);
    return;
  }

  const cose = require('cose-js');
  if (cmd === 'js-sign1') {
    const [key, alg, kid, ct, payload, out] = args;
    const buf = await cose.sign.create({ p: { alg, ctyp: ct }, u: { kid } }, fs.readFileSync(payload),
      coseJsSigner(key, alg));
    fs.writeFileSync(out, buf);
  } else if (cmd === 'js-sign') {
    const [ct, payload, out, spec] = args;
    const [key, alg, kid] = spec.split(':');
    const signer = coseJsSigner(key, alg);
    signer.p = { alg };
    signer.u = { kid };
    const buf = await cose.sign.create({ p: { ctyp: ct }, u: {} }, fs.readFileSync(payload), [signer]);
    fs.writeFileSync(out, buf);
  } else if (cmd === 'js-verify') {
    const [file, payload, pub, alg] = args;
    const got = await cose.sign.verify(fs.readFileSync(file), coseJsVerifier(pub, alg));
    if (!Buffer.from(got).equals(fs.readFileSync(payload))) die('payload differs');
  } else die('unknown command ' + cmd);
}

main(process.argv.slice(2)).catch((e) => die(e && e.message ? e.message : String(e)));
