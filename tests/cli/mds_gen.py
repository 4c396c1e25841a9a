#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Test FIDO MDS3 BLOBs, signed by a test PKI shaped like the real one.

usage: mds_gen.py OUTDIR [--vauth-root PEM]

The PKI: a test "R3" root, a test "R46" root, an R46 cross-signed by
R3 (as the real service's later BLOBs carry), an intermediate under
R46, RSA and EC signing leaves, and an unrelated "wrong" root.  Every
BLOB is a compact JWS; the header's alg is what the name says.

Written to OUTDIR: roots.pem (R3 + R46), root-r3.pem, root-r46.pem,
wrong-root.pem, att-root.pem / att-leaf.der / att-other-leaf.der (an
attestation CA listed in the metadata, and leaves to check against
it; att-leaf-{otheraaguid,critical,badext}.der carry a wrong AAGUID
extension), vauth-root.pem (the entry's attestation root: --vauth-root, or a
generated one), and the BLOBs listed in BLOBS below (NAME.jwt), plus
blobs.json with what each one is.
"""

import base64
import datetime
import json
import os
import sys
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import \
    decode_dss_signature
from cryptography.x509.oid import NameOID

VAUTH_AAGUID = "76617574-682d-7465-7374-2d6b65790001"
REVOKED_AAGUID = "0badc0de-0000-4000-8000-00000000dead"
ATT_AAGUID = "a77e57ed-0000-4000-8000-000000000a77"
OTHER_AAGUID = "0ddba11c-0000-4000-8000-0000000000dd"
OID_AAGUID = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
NOW = datetime.datetime.now(datetime.timezone.utc)


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def name(cn, o="provisioning tests"):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, o),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def cert(subject, key, issuer, issuer_key, ca, san=None, days=3650,
         ext=None):
    b = (x509.CertificateBuilder()
         .subject_name(subject).issuer_name(issuer)
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(NOW - datetime.timedelta(days=1))
         .not_valid_after(NOW + datetime.timedelta(days=days))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None),
                        critical=True))
    if ca:
        b = b.add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False,
            key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    if san:
        b = b.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(san)]), critical=False)
    if ext is not None:        # (value DER, critical)
        b = b.add_extension(x509.UnrecognizedExtension(OID_AAGUID, ext[0]),
                            critical=ext[1])
    return b.sign(issuer_key, hashes.SHA256())


def aaguid_ext(aaguid, critical=False, raw=None):
    """id-fido-gen-ce-aaguid: an OCTET STRING of the 16 bytes."""
    v = raw if raw is not None else b"\x04\x10" + uuid.UUID(aaguid).bytes
    return (v, critical)


def der_b64(c):
    return base64.b64encode(c.public_bytes(serialization.Encoding.DER)
                            ).decode()


def pem(*certs):
    return b"".join(c.public_bytes(serialization.Encoding.PEM)
                    for c in certs)


def payload(no, next_update, att_root_b64, vauth_root_b64):
    return {
        "legalHeader": "test metadata: not the FIDO Alliance's",
        "no": no,
        "nextUpdate": next_update,
        "entries": [
            {"aaguid": VAUTH_AAGUID,
             "metadataStatement": {
                 "aaguid": VAUTH_AAGUID,
                 "description": "vauth virtual authenticator",
                 "protocolFamily": "fido2",
                 "schema": 3,
                 "attestationTypes": ["basic_full"],
                 "attestationRootCertificates": [vauth_root_b64],
                 "icon": "data:image/png;base64," + "A" * 4000},
             "statusReports": [
                 {"status": "NOT_FIDO_CERTIFIED",
                  "effectiveDate": "2024-01-01"},
                 {"status": "FIDO_CERTIFIED_L1",
                  "effectiveDate": "2025-03-01"}],
             "timeOfLastStatusChange": "2025-03-01"},
            {"aaguid": REVOKED_AAGUID.upper(),
             "metadataStatement": {
                 "description": "Revoked Test Key",
                 "protocolFamily": "fido2",
                 "attestationRootCertificates": [att_root_b64]},
             "statusReports": [
                 {"status": "FIDO_CERTIFIED_L2",
                  "effectiveDate": "2023-05-01"},
                 {"status": "REVOKED", "effectiveDate": "2025-06-01"},
                 {"status": "UPDATE_AVAILABLE",
                  "effectiveDate": "2025-09-01"}]},
            {"aaguid": ATT_AAGUID,
             "metadataStatement": {
                 "description": "Attestation Test Key",
                 "attestationRootCertificates": [att_root_b64]},
             "statusReports": [
                 {"status": "FIDO_CERTIFIED_L1plus",
                  "effectiveDate": "2025-01-01"}]},
            # UAF and U2F entries have no aaguid: skipped, not refused
            {"aaid": "4e4e#4005",
             "metadataStatement": {"description": "a UAF key"},
             "statusReports": [{"status": "FIDO_CERTIFIED"}]},
            {"attestationCertificateKeyIdentifiers": ["00" * 20],
             "statusReports": []},
        ],
    }


def jws(header, body, key, alg):
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    p = b64url(body if isinstance(body, bytes) else
               json.dumps(body, separators=(",", ":")).encode())
    data = (h + "." + p).encode()
    if alg == "RS256":
        sig = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "PS256":
        sig = key.sign(data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                         salt_length=32), hashes.SHA256())
    else:
        r, s = decode_dss_signature(key.sign(data,
                                             ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return h + "." + p + "." + b64url(sig)


def main(argv):
    out = argv[0]
    vauth_root_pem = None
    if len(argv) > 2 and argv[1] == "--vauth-root":
        with open(argv[2], "rb") as f:
            vauth_root_pem = f.read()
    os.makedirs(out, exist_ok=True)

    k_r3, k_r46, k_int, k_leaf = rsa_key(), rsa_key(), rsa_key(), rsa_key()
    k_wrong, k_wint = rsa_key(), rsa_key()
    k_ec = ec.generate_private_key(ec.SECP256R1())
    n_r3 = name("Test Root CA - R3", "Test GlobalSign")
    n_r46 = name("Test Root R46", "Test GlobalSign")
    r3 = cert(n_r3, k_r3, n_r3, k_r3, True)
    r46 = cert(n_r46, k_r46, n_r46, k_r46, True)
    r46x = cert(n_r46, k_r46, n_r3, k_r3, True)      # cross-signed by R3
    n_int = name("Test GCC R46 EV TLS CA 2025", "Test GlobalSign")
    inter = cert(n_int, k_int, n_r46, k_r46, True)
    leaf = cert(name("mds.fidoalliance.org"), k_leaf, n_int, k_int, False,
                "mds.fidoalliance.org")
    leaf_ec = cert(name("mds.fidoalliance.org"), k_ec, n_int, k_int, False,
                   "mds.fidoalliance.org")
    # chains to the roots, but issued to another host (any GlobalSign
    # customer), and a private metadata signer for --signer
    k_oh = rsa_key()
    leaf_oh = cert(name("mds.example.org"), k_oh, n_int, k_int, False,
                   "mds.example.org")
    leaf_priv = cert(name("metadata.corp.example"), k_oh, n_int, k_int,
                     False, "metadata.corp.example")
    n_w = name("Wrong Root", "Elsewhere")
    wrong = cert(n_w, k_wrong, n_w, k_wrong, True)
    wint = cert(name("Wrong CA"), k_wint, n_w, k_wrong, True)
    wleaf = cert(name("mds.fidoalliance.org"), k_leaf, wint.subject, k_wint,
                 False)

    # attestation: a CA listed in the metadata, a leaf under it, and a
    # leaf under another CA
    k_att, k_attl = ec.generate_private_key(ec.SECP256R1()), \
        ec.generate_private_key(ec.SECP256R1())
    n_att = name("Test Attestation Root")
    att_root = cert(n_att, k_att, n_att, k_att, True)
    att_leaf = cert(name("Test Attestation Leaf"), k_attl, n_att, k_att,
                    False, ext=aaguid_ext(ATT_AAGUID))
    # the AAGUID extension: another model's, critical, malformed
    att_leaf_other = cert(name("Test Attestation Leaf"), k_attl, n_att,
                          k_att, False, ext=aaguid_ext(OTHER_AAGUID))
    att_leaf_crit = cert(name("Test Attestation Leaf"), k_attl, n_att,
                         k_att, False, ext=aaguid_ext(ATT_AAGUID, True))
    att_leaf_bad = cert(name("Test Attestation Leaf"), k_attl, n_att, k_att,
                        False, ext=aaguid_ext(None, raw=b"\x04\x04abcd"))
    k_o = ec.generate_private_key(ec.SECP256R1())
    n_o = name("Other Attestation Root")
    o_root = cert(n_o, k_o, n_o, k_o, True)
    o_leaf = cert(name("Other Leaf"), k_attl, n_o, k_o, False)

    if vauth_root_pem is None:
        k_v = ec.generate_private_key(ec.SECP256R1())
        n_v = name("vauth test attestation root")
        vauth_root = cert(n_v, k_v, n_v, k_v, True)
    else:
        vauth_root = x509.load_pem_x509_certificate(vauth_root_pem)

    files = {
        "roots.pem": pem(r3, r46), "root-r3.pem": pem(r3),
        "root-r46.pem": pem(r46), "wrong-root.pem": pem(wrong),
        "att-root.pem": pem(att_root), "vauth-root.pem": pem(vauth_root),
        "att-leaf.der": att_leaf.public_bytes(serialization.Encoding.DER),
        "att-other-leaf.der": o_leaf.public_bytes(
            serialization.Encoding.DER),
        "att-leaf-otheraaguid.der": att_leaf_other.public_bytes(
            serialization.Encoding.DER),
        "att-leaf-critical.der": att_leaf_crit.public_bytes(
            serialization.Encoding.DER),
        "att-leaf-badext.der": att_leaf_bad.public_bytes(
            serialization.Encoding.DER),
        "att-other-root.der": o_root.public_bytes(
            serialization.Encoding.DER),
    }
    future = (NOW + datetime.timedelta(days=30)).strftime("%Y-%m-%d")
    att_b64, vauth_b64 = der_b64(att_root), der_b64(vauth_root)

    def body(no, nu=future):
        return payload(no, nu, att_b64, vauth_b64)

    cross = [der_b64(c) for c in (leaf, inter, r46x)]
    r46only = [der_b64(c) for c in (leaf, inter)]
    ec_chain = [der_b64(c) for c in (leaf_ec, inter, r46x)]
    rs = {"alg": "RS256", "typ": "JWT", "x5c": cross}
    blobs = {
        # the good ones, in increasing no
        "valid": (jws(rs, body(10), k_leaf, "RS256"),
                  "RS256, x5c leaf+intermediate+R46 cross-signed by R3"),
        "r46only": (jws({"alg": "RS256", "x5c": r46only}, body(11), k_leaf,
                        "RS256"), "chain to R46 only (no cross-sign)"),
        "cross": (jws(rs, body(12), k_leaf, "RS256"),
                  "no 12; with root-r3.pem alone only the cross-sign "
                  "reaches a root"),
        "es256": (jws({"alg": "ES256", "x5c": ec_chain}, body(13), k_ec,
                      "ES256"), "ES256 with an EC leaf"),
        "ps256": (jws({"alg": "PS256", "x5c": cross}, body(14), k_leaf,
                      "PS256"), "PS256"),
        "private": (jws({"alg": "RS256", "x5c": [der_b64(c) for c in
                                                 (leaf_priv, inter, r46x)]},
                        body(16), k_oh, "RS256"),
                    "no 16, signed for metadata.corp.example (--signer)"),
        "stale": (jws(rs, body(30, "2020-01-01"), k_leaf, "RS256"),
                  "nextUpdate 2020-01-01: accepted with a warning"),
        # the bad ones (no 20: higher than any good one before stale)
        "lower": (jws(rs, body(5), k_leaf, "RS256"), "no 5"),
        "wrongroot": (jws({"alg": "RS256", "x5c": [der_b64(c) for c in
                                                    (wleaf, wint, wrong)]},
                          body(20), k_leaf, "RS256"),
                      "chains to an unrelated root"),
        "algmismatch": (jws({"alg": "RS256", "x5c": ec_chain}, body(20),
                            k_ec, "ES256"),
                        "header RS256, but the leaf key is EC (ES256 "
                        "signature)"),
        "otherhost": (jws({"alg": "RS256", "x5c": [der_b64(c) for c in
                                                   (leaf_oh, inter, r46x)]},
                          body(20), k_oh, "RS256"),
                      "chains to the roots, signed for mds.example.org"),
        "nox5c": (jws({"alg": "RS256"}, body(20), k_leaf, "RS256"),
                  "no x5c"),
        "crit": (jws({"alg": "RS256", "x5c": cross, "crit": ["b64"],
                      "b64": True}, body(20), k_leaf, "RS256"),
                 "a crit header extension"),
        "payload": (jws(rs, b'{"no": 20, "entries": []}', k_leaf, "RS256"),
                    "signed, but no nextUpdate"),
    }
    good = blobs["valid"][0]
    b20 = jws(rs, body(20), k_leaf, "RS256").split(".")
    sig = bytearray(base64.urlsafe_b64decode(b20[2] + "=" *
                                             (-len(b20[2]) % 4)))
    sig[10] ^= 0x01
    blobs["badsig"] = (b20[0] + "." + b20[1] + "." + b64url(bytes(sig)),
                       "no 20, one signature bit flipped")
    flipped = jws(rs, body(20), k_leaf, "RS256").split(".")
    blobs["tampered"] = (flipped[0] + "." + jws(rs, body(21), k_leaf,
                                                "RS256").split(".")[1] +
                         "." + flipped[2], "payload swapped after signing")
    for alg in ("none", "HS256"):
        hh = b64url(json.dumps({"alg": alg, "x5c": cross}).encode())
        blobs["alg" + alg.lower()] = (hh + "." + b20[1] + "." + b20[2],
                                      "header alg " + alg)
    blobs["algnone_empty"] = (b64url(b'{"alg":"none"}') + "." + b20[1] +
                              ".", "alg none, empty signature")
    blobs["truncated"] = (good[:len(good) // 2], "cut in half")
    blobs["garbage"] = (base64.b64encode(os.urandom(300)).decode(),
                        "random")
    for n, (text, what) in blobs.items():
        files[n + ".jwt"] = text.encode()
    files["blobs.json"] = json.dumps({n: w for n, (t, w) in blobs.items()},
                                     indent=1).encode()
    for fn, data in files.items():
        with open(os.path.join(out, fn), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
