#!/usr/bin/ruby
# SPDX-License-Identifier: MIT
# The ruby-cose side of the COSE interop tests (Debian's ruby-cose, which
# verifies COSE_Sign1 and COSE_Sign with ES256/384/512 and PS256/384/512;
# it has no signer).
#
#   verify FILE PAYLOAD CONTENT_TYPE PUB.pem:KID ...
#       FILE is a tagged COSE_Sign1 (one key) or COSE_Sign (each key checks
#       the signature with its kid); the payload must equal PAYLOAD's
#       bytes and the body's protected content type (3) CONTENT_TYPE.
# Exits 0 when everything verifies, 1 with one reason otherwise.
require "cose"
require "openssl"

def die(msg)
  warn "cose-ruby-helper: #{msg}"
  exit 1
end

cmd, file, payload_path, content_type, *keyspecs = ARGV
die "usage: verify FILE PAYLOAD CONTENT_TYPE PUB.pem:KID ..." unless cmd == "verify" && !keyspecs.empty?
data = File.binread(file)
payload = File.binread(payload_path)
tag = CBOR.decode(data).tag rescue die("not a tagged CBOR item")
klass = { 18 => COSE::Sign1, 98 => COSE::Sign }[tag] || die("tag #{tag} is neither 18 nor 98")
begin
  msg = klass.deserialize(data)
  die "payload differs" unless msg.payload == payload
  got = msg.protected_headers[3]
  die "content type #{got.inspect}, want #{content_type}" unless got == content_type
  die "one key for a COSE_Sign1" if klass == COSE::Sign1 && keyspecs.length != 1
  die "#{msg.signatures.length} signatures, #{keyspecs.length} keys" if klass == COSE::Sign && msg.signatures.length != keyspecs.length
  keyspecs.each do |spec|
    path, kid = spec.split(":", 2)
    # ruby-cose's COSE::Key#to_pkey builds an OpenSSL key by mutation,
    # which Ruby's OpenSSL 3 bindings refuse; its algorithms take an
    # OpenSSL::PKey as it is, so it gets the key read from PEM, and the
    # kid its verify compares with the message's.
    key = OpenSSL::PKey.read(File.read(path))
    key.define_singleton_method(:kid) { kid.b }
    # A fresh object per key: COSE::Sign memoizes its first
    # Sig_structure and would check every later signature against it.
    klass.deserialize(data).verify(key) || die("signature by #{kid} does not verify")
  end
rescue COSE::Error, OpenSSL::PKey::PKeyError, CBOR::MalformedFormatError, EOFError => e
  die "#{e.class}: #{e.message}"
end
