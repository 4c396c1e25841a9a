#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Independent check of a fido2Methods registration body.

Given Graph's creationOptions and the POST body we produced, verify with
python-fido2 (Debian's 0.9.1) and python-cryptography -- code that shares
nothing with ours -- that the body is what Entra will accept:

  body shape: displayName 1..30, no @odata.type, base64url without padding
  clientDataJSON: type webauthn.create, challenge == options challenge,
                  origin == "https://" + rp.id, crossOrigin false/absent
  attestationObject: canonical CBOR {fmt, attStmt, authData}, fmt packed
                  or none, statement verified over authData||SHA-256(cd)
  authData: rpIdHash == SHA-256(rp.id), UP, UV, AT, credential id ==
            body id, ES256 credential key, credProtect and hmac-secret
            as the options ask (Entra: 1 and true)
  --trust CA.pem: the x5c chain ends in CA (packed basic only)

Prints a JSON summary; exit 0 if every check passed, 1 if one failed,
2 on usage errors or unreadable input.  Run with /usr/bin/python3.
"""

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
import uuid

from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives.serialization import Encoding

from fido2 import cbor
from fido2.attestation import Attestation, AttestationType
from fido2.attestation.base import InvalidAttestation, verify_x509_chain
from fido2.cose import CoseKey
from fido2.ctap2.base import AttestationObject, AuthenticatorData

PROT_LEVELS = {
    "userVerificationOptional": 1,
    "userVerificationOptionalWithCredentialIDList": 2,
    "userVerificationRequired": 3,
}
B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


class Checks:
    def __init__(self):
        self.items = []

    def add(self, name, ok, detail=""):
        self.items.append({"check": name, "ok": bool(ok),
                           "detail": str(detail)})
        return bool(ok)

    @property
    def ok(self):
        return all(c["ok"] for c in self.items)


def b64url_strict(s):
    """base64url without padding, canonical; raises ValueError."""
    if not isinstance(s, str) or not B64URL.match(s) or len(s) % 4 == 1:
        raise ValueError("not base64url without padding")
    raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != s:
        raise ValueError("non-canonical base64url")
    return raw


def normalise_challenge(c):
    return c.replace("+", "-").replace("/", "_").rstrip("=")


def public_key_options(doc):
    for cand in (doc, doc.get("value") if isinstance(doc, dict) else None):
        if isinstance(cand, dict) and isinstance(cand.get("publicKey"),
                                                 dict):
            return cand["publicKey"]
    if isinstance(doc, dict) and "challenge" in doc:
        return doc
    raise ValueError("no publicKey in the creationOptions")


def utf16_units(s):
    return len(s.encode("utf-16-le")) // 2


def load_json(path):
    if path == "-":
        return json.load(sys.stdin)
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"))


def check_chain(x5c, trust_pem, checks):
    with open(trust_pem, "rb") as f:
        pem = f.read()
    cas = []
    for blk in re.findall(rb"-----BEGIN CERTIFICATE-----.+?"
                          rb"-----END CERTIFICATE-----", pem, re.S):
        cas.append(x509.load_pem_x509_certificate(blk, default_backend()))
    if not cas:
        return checks.add("x5c_chain", False, "no certificate in --trust")
    last = x509.load_der_x509_certificate(x5c[-1], default_backend())
    for ca in cas:
        if last.issuer != ca.subject:
            continue
        try:
            verify_x509_chain(list(x5c) + [ca.public_bytes(Encoding.DER)])
        except InvalidAttestation as e:
            return checks.add("x5c_chain", False, "signature: %r" % e)
        return checks.add("x5c_chain", True,
                          "%d cert(s) -> %s" % (len(x5c),
                                                ca.subject.rfc4514_string()))
    return checks.add("x5c_chain", False, "issuer %s not in --trust" %
                      last.issuer.rfc4514_string())


def verify(opts_doc, body, trust, expect_att, expect_fmt):
    checks = Checks()
    summary = {"ok": False}
    pk = public_key_options(opts_doc)
    rp_id = pk["rp"]["id"]
    challenge = normalise_challenge(pk["challenge"])
    ext_opts = pk.get("extensions") or {}
    want_prot = PROT_LEVELS.get(ext_opts.get("credentialProtectionPolicy"),
                                1)
    want_hmac = ext_opts.get("hmacCreateSecret", True)
    want_uv = (pk.get("authenticatorSelection") or {}).get(
        "userVerification", "required") == "required"
    summary["rp_id"] = rp_id

    # body shape
    dn = body.get("displayName") if isinstance(body, dict) else None
    checks.add("displayName", isinstance(dn, str) and
               1 <= utf16_units(dn) <= 30, repr(dn))
    text = json.dumps(body)
    checks.add("no_odata_type", "@odata" not in text)
    pkc = body.get("publicKeyCredential") or {}
    resp = pkc.get("response") or {}
    try:
        cred_id = b64url_strict(pkc.get("id"))
        cd_raw = b64url_strict(resp.get("clientDataJSON"))
        att_raw = b64url_strict(resp.get("attestationObject"))
    except (ValueError, binascii.Error, TypeError) as e:
        checks.add("base64url", False, e)
        summary["checks"] = checks.items
        return summary
    checks.add("base64url", True)
    cer = pkc.get("clientExtensionResults", {})
    checks.add("clientExtensionResults", isinstance(cer, dict), repr(cer))
    summary["credential_id"] = pkc["id"]

    # clientDataJSON
    try:
        cd = json.loads(cd_raw.decode("utf-8"))
    except ValueError as e:
        cd = {}
        checks.add("clientData_json", False, e)
    checks.add("clientData_type", cd.get("type") == "webauthn.create",
               cd.get("type"))
    checks.add("clientData_challenge", cd.get("challenge") == challenge,
               "%d chars" % len(str(cd.get("challenge"))))
    checks.add("clientData_origin", cd.get("origin") == "https://" + rp_id,
               cd.get("origin"))
    checks.add("clientData_crossOrigin", cd.get("crossOrigin", False) is
               False, cd.get("crossOrigin"))

    # attestationObject
    try:
        ao = AttestationObject(att_raw)
    except Exception as e:  # any parse failure is a verdict, not a crash
        checks.add("attestationObject", False, "unparsable: %r" % e)
        summary["checks"] = checks.items
        return summary
    checks.add("attestationObject", True, ao.fmt)
    canon = cbor.encode({"fmt": ao.fmt, "attStmt": ao.att_statement,
                         "authData": bytes(ao.auth_data)})
    checks.add("canonical_cbor", canon == att_raw,
               "" if canon == att_raw else "key order or encoding differs")
    summary["fmt"] = ao.fmt
    checks.add("fmt", ao.fmt in ("packed", "none") and
               (expect_fmt is None or ao.fmt == expect_fmt), ao.fmt)

    ad = ao.auth_data
    F = AuthenticatorData.FLAG
    summary["flags"] = {"UP": ad.is_user_present(),
                        "UV": ad.is_user_verified(),
                        "AT": ad.is_attested(),
                        "ED": ad.has_extension_data()}
    checks.add("rpIdHash", ad.rp_id_hash ==
               hashlib.sha256(rp_id.encode()).digest())
    checks.add("flag_UP", ad.flags & F.USER_PRESENT)
    checks.add("flag_UV", ad.flags & F.USER_VERIFIED or not want_uv)
    checks.add("flag_AT", ad.flags & F.ATTESTED)
    credential = ad.credential_data
    if credential is None:
        checks.add("credential_id", False, "no attested credential data")
    else:
        summary["aaguid"] = str(uuid.UUID(bytes=bytes(credential.aaguid)))
        checks.add("credential_id", credential.credential_id == cred_id,
                   "%d bytes" % len(credential.credential_id))
        try:
            key = CoseKey.parse(credential.public_key)
            checks.add("credential_alg", key.ALGORITHM == -7,
                       key.ALGORITHM)
        except Exception as e:
            checks.add("credential_alg", False, repr(e))
    ext = ad.extensions or {}
    summary["extensions"] = {k: v for k, v in ext.items()
                             if isinstance(v, (int, bool, str))}
    checks.add("credProtect", ext.get("credProtect") == want_prot,
               "got %r, want %r" % (ext.get("credProtect"), want_prot))
    checks.add("hmac-secret", ext.get("hmac-secret", False) is want_hmac,
               "got %r, want %r" % (ext.get("hmac-secret"), want_hmac))

    # the attestation statement itself
    att_type = None
    try:
        res = Attestation.for_type(ao.fmt)().verify(
            ao.att_statement, ad, hashlib.sha256(cd_raw).digest())
        att_type = {AttestationType.BASIC: "basic",
                    AttestationType.SELF: "self",
                    AttestationType.NONE: "none"}.get(
                        res.attestation_type, str(res.attestation_type))
        checks.add("attestation_signature", True, att_type)
        if att_type == "basic" and trust:
            check_chain(res.trust_path, trust, checks)
        elif trust:
            checks.add("x5c_chain", False, "%s attestation has no x5c" %
                       att_type)
    except (InvalidAttestation, NotImplementedError) as e:
        checks.add("attestation_signature", False, repr(e))
    summary["attestation"] = att_type
    if expect_att is not None:
        checks.add("expected_attestation", att_type == expect_att,
                   "got %s, want %s" % (att_type, expect_att))

    summary["checks"] = checks.items
    summary["ok"] = checks.ok
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("options", help="creationOptions JSON file ('-': stdin)")
    ap.add_argument("body", help="fido2Methods POST body file ('-': stdin)")
    ap.add_argument("--trust", metavar="CA.pem",
                    help="also check the x5c chain ends in this CA")
    ap.add_argument("--expect-attestation", choices=("basic", "self", "none"))
    ap.add_argument("--expect-fmt", choices=("packed", "none"))
    a = ap.parse_args()
    if a.options == "-" and a.body == "-":
        ap.error("only one of OPTIONS and BODY can be stdin")
    try:
        opts = load_json(a.options)
        body = load_json(a.body)
        if not isinstance(body, dict):
            raise ValueError("body is not a JSON object")
        public_key_options(opts)["rp"]["id"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(json.dumps({"ok": False, "error": str(e)}))
        return 2
    summary = verify(opts, body, a.trust, a.expect_attestation, a.expect_fmt)
    print(json.dumps(summary, indent=1, sort_keys=True))
    if not summary["ok"]:
        for c in summary.get("checks", []):
            if not c["ok"]:
                print("FAILED %s: %s" % (c["check"], c["detail"]),
                      file=sys.stderr)
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
