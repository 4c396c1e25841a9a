"""A software WebAuthn authenticator for tests (python-fido2 structures +
python3-cryptography keys). Builds fido2Methods POST bodies from a Graph
creationOptions response, with knobs to break each property on purpose."""

import datetime
import hashlib
import json
import os
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fido2 import cbor
from fido2.cose import ES256
from fido2.ctap2.base import AttestedCredentialData, AuthenticatorData

from common import b64u

ORIGIN = "https://login.microsoft.com"
TEST_AAGUID = "a1b2c3d4-0000-4000-8000-00000000beef"
OID_AAGUID = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
UP, UV, BE, AT, ED = 0x01, 0x04, 0x08, 0x40, 0x80


def _name(cn, ou=None):
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
             x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Emulator Tests")]
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def make_attestation_chain(aaguid=TEST_AAGUID):
    """(root_pem, leaf_der, leaf_key): a FIDO-style attestation PKI."""
    now = datetime.datetime.now(datetime.timezone.utc)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (x509.CertificateBuilder().subject_name(_name("Emulator FIDO Root"))
            .issuer_name(_name("Emulator FIDO Root"))
            .public_key(root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           True)
            .sign(root_key, hashes.SHA256()))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(_name("Emulator Key Attestation",
                                "Authenticator Attestation"))
            .issuer_name(root.subject).public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                           True)
            .add_extension(x509.UnrecognizedExtension(
                OID_AAGUID, b"\x04\x10" + uuid.UUID(aaguid).bytes), False)
            .sign(root_key, hashes.SHA256()))
    return (root.public_bytes(serialization.Encoding.PEM),
            leaf.public_bytes(serialization.Encoding.DER), leaf_key)


def public_key_of(options):
    return (options.get("value") or options)["publicKey"]


class SoftAuthenticator:
    """attestation: "self" (packed, no x5c), "basic" (packed + x5c) or "none"."""

    def __init__(self, aaguid=TEST_AAGUID, attestation="self", chain=None):
        self.aaguid = aaguid
        self.attestation = attestation
        if attestation == "basic" and chain is None:
            chain = make_attestation_chain(aaguid)
        self.chain = chain
        self.credentials = []

    def register(self, options, display_name="Test key", origin=ORIGIN,
                 rp_id=None, flags=UP | UV | AT | ED, extensions=None,
                 challenge=None, cd_type="webauthn.create", cross_origin=False,
                 body_cred_id=None, odata_type=False, fmt=None, bad_sig=False,
                 credential=None):
        """Return the fido2Methods POST body for these creationOptions.

        credential: (cred_id, private key) to re-register an existing one.
        """
        pk = public_key_of(options)
        rp_id = rp_id or pk["rp"]["id"]
        cd = {"type": cd_type, "challenge": challenge or pk["challenge"],
              "origin": origin, "crossOrigin": cross_origin}
        cdj = json.dumps(cd, separators=(",", ":")).encode()
        if credential:
            cred_id, key = credential
        else:
            key = ec.generate_private_key(ec.SECP256R1())
            cred_id = os.urandom(32)
        ext = {"credProtect": 1, "hmac-secret": True} if extensions is None \
            else extensions
        acd = AttestedCredentialData.create(
            uuid.UUID(self.aaguid).bytes, cred_id,
            ES256.from_cryptography_key(key.public_key()))
        if not ext:
            flags &= ~ED
        auth_data = AuthenticatorData.create(
            hashlib.sha256(rp_id.encode()).digest(), flags, 7, acd,
            ext if flags & ED else None)
        signed = bytes(auth_data) + hashlib.sha256(cdj).digest()
        if bad_sig:
            signed += b"x"
        if self.attestation == "none":
            stmt, f = {}, "none"
        elif self.attestation == "basic":
            sig = self.chain[2].sign(signed, ec.ECDSA(hashes.SHA256()))
            stmt, f = {"alg": -7, "sig": sig, "x5c": [self.chain[1]]}, "packed"
        else:
            sig = key.sign(signed, ec.ECDSA(hashes.SHA256()))
            stmt, f = {"alg": -7, "sig": sig}, "packed"
        att_obj = cbor.encode({"fmt": fmt or f, "attStmt": stmt,
                               "authData": bytes(auth_data)})
        self.credentials.append((cred_id, key))
        body = {"displayName": display_name, "publicKeyCredential": {
            "id": b64u(body_cred_id or cred_id),
            "response": {"clientDataJSON": b64u(cdj),
                         "attestationObject": b64u(att_obj)},
            "clientExtensionResults": {}}}
        if odata_type:
            body["@odata.type"] = "#microsoft.graph.fido2AuthenticationMethod"
        return body
