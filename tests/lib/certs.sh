#!/bin/bash
# Test certificates for the fixture HTTPS server, made with the openssl CLI.
#
#   source tests/lib/certs.sh; fixture_make_certs DIR
#   or: tests/lib/certs.sh DIR
#
# DIR receives (every *.pem with its *.key, EC P-256):
#   ca.pem             the test CA: give it to the client as its CA file
#   good.pem           127.0.0.1 + localhost, signed by ca.pem
#   selfsigned.pem     127.0.0.1 + localhost, self-signed
#   wrongname.pem      only wrong.invalid, signed by ca.pem
#   expired.pem        127.0.0.1 + localhost, signed by ca.pem, valid 2020-01-01..02
#   notyet.pem         127.0.0.1 + localhost, signed by ca.pem, valid from 2099
#   untrusted-ca.pem   another CA that no client is told about
#   untrusted.pem      127.0.0.1 + localhost, signed by untrusted-ca.pem
# Each server certificate file holds the leaf only; *-chain.pem adds its CA.
# Returns non-zero with a message on stderr when openssl fails.

_certs_openssl() {
        local log=$1
        shift
        if ! openssl "$@" >>"$log" 2>&1; then
                echo "certs.sh: openssl $1 failed; see $log" >&2
                return 1
        fi
}

# _certs_server_section NAME SAN: the extensions of a server certificate
# for the names SAN, as the config section NAME.
_certs_server_section() {
        printf '[ %s ]\n' "$1"
        printf '%s\n' "basicConstraints = critical, CA:FALSE" "keyUsage = critical, digitalSignature" \
                "extendedKeyUsage = serverAuth" "subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid"
        printf 'subjectAltName = %s\n' "$2"
}

# _certs_ca DIR NAME SUBJECT: a self-signed CA plus its `openssl ca` database.
_certs_ca() {
        local dir=$1 name=$2 subject=$3
        local db="$dir/.$name-db"
        mkdir -p "$db/new" || return 1
        : >"$db/index.txt"
        echo 1000 >"$db/serial"
        cat >"$db/ca.cnf" <<EOF || return 1
[ ca ]
default_ca = fixture_ca
[ fixture_ca ]
dir = $db
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir/new
certificate = $dir/$name.pem
private_key = $dir/$name.key
default_md = sha256
policy = fixture_policy
unique_subject = no
email_in_dn = no
copy_extensions = none
[ fixture_policy ]
commonName = supplied
organizationName = optional
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
$(_certs_server_section server_good "IP:127.0.0.1, DNS:localhost")
$(_certs_server_section server_wrong "DNS:wrong.invalid")
EOF
        _certs_openssl "$dir/openssl.log" req -x509 -new -config "$db/ca.cnf" \
                -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
                -keyout "$dir/$name.key" -out "$dir/$name.pem" \
                -subj "$subject" -days 3650 -extensions v3_ca
}

# _certs_leaf DIR CA NAME EXT CN [openssl ca date options...]
_certs_leaf() {
        local dir=$1 ca=$2 name=$3 ext=$4 cn=$5
        shift 5
        local db="$dir/.$ca-db"
        _certs_openssl "$dir/openssl.log" req -new -config "$db/ca.cnf" \
                -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
                -keyout "$dir/$name.key" -out "$db/$name.csr" -subj "/CN=$cn" || return 1
        _certs_openssl "$dir/openssl.log" ca -batch -notext -config "$db/ca.cnf" \
                -extensions "$ext" -in "$db/$name.csr" -out "$dir/$name.pem" "$@" || return 1
        cat "$dir/$name.pem" "$dir/$ca.pem" >"$dir/$name-chain.pem"
}

fixture_make_certs() {
        local dir=${1:?usage: fixture_make_certs DIR}
        command -v openssl >/dev/null || { echo "certs.sh: openssl not found" >&2; return 1; }
        mkdir -p "$dir" || return 1
        : >"$dir/openssl.log"
        _certs_ca "$dir" ca "/O=secfu fixture/CN=secfu fixture CA" || return 1
        _certs_ca "$dir" untrusted-ca "/O=somebody else/CN=untrusted fixture CA" || return 1
        _certs_leaf "$dir" ca good server_good 127.0.0.1 -days 3650 || return 1
        _certs_leaf "$dir" ca wrongname server_wrong wrong.invalid -days 3650 || return 1
        _certs_leaf "$dir" ca expired server_good 127.0.0.1 \
                -startdate 20200101000000Z -enddate 20200102000000Z || return 1
        _certs_leaf "$dir" ca notyet server_good 127.0.0.1 \
                -startdate 20990101000000Z -enddate 20991231000000Z || return 1
        _certs_leaf "$dir" untrusted-ca untrusted server_good 127.0.0.1 -days 3650 || return 1
        # self-signed leaf: its own issuer, not a CA
        _certs_openssl "$dir/openssl.log" req -x509 -new -config "$dir/.ca-db/ca.cnf" \
                -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
                -keyout "$dir/selfsigned.key" -out "$dir/selfsigned.pem" \
                -subj "/CN=127.0.0.1" -days 3650 -extensions server_good || return 1
        chmod 600 "$dir"/*.key
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
        fixture_make_certs "$@"
fi
