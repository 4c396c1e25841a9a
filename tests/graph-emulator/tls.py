"""Test CA and server certificate for 127.0.0.1/localhost; TLS context."""

import datetime
import ipaddress
import os
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def write_private(path, data):
    """Write a file readable only by us, atomically."""
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def write_public(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_or_make_key(path, kind="ec"):
    """Load a PEM private key from path, or create one (ec P-256 or rsa 2048)."""
    if os.path.exists(path):
        with open(path, "rb") as f:
            return serialization.load_pem_private_key(f.read(), None)
    if kind == "rsa":
        key = rsa.generate_private_key(65537, 2048)
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    write_private(path, key_pem(key))
    return key


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME,
                                         "provisioning graph-emulator"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _make_ca(key):
    now = datetime.datetime.now(datetime.timezone.utc)
    name = _name("graph-emulator test CA")
    return (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
            .add_extension(x509.KeyUsage(False, False, False, False, False,
                                         True, True, False, False), True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                key.public_key()), False)
            .sign(key, hashes.SHA256()))


def _make_server(ca_cert, ca_key, key):
    now = datetime.datetime.now(datetime.timezone.utc)
    san = x509.SubjectAlternativeName([
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    return (x509.CertificateBuilder()
            .subject_name(_name("127.0.0.1"))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=825))
            .add_extension(san, False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                           True)
            .add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), False)
            .sign(ca_key, hashes.SHA256()))


def ensure_certs(d):
    """Create (once) DIR/ca.pem, ca-key.pem, server.pem, server-key.pem.

    Returns (ca_path, server_cert_path, server_key_path).
    """
    ca_path = os.path.join(d, "ca.pem")
    ca_key_path = os.path.join(d, "ca-key.pem")
    srv_path = os.path.join(d, "server.pem")
    srv_key_path = os.path.join(d, "server-key.pem")
    fresh_ca = not (os.path.exists(ca_path) and os.path.exists(ca_key_path))
    if fresh_ca:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _make_ca(ca_key)
        write_private(ca_key_path, key_pem(ca_key))
        write_public(ca_path, ca_cert.public_bytes(serialization.Encoding.PEM))
    else:
        with open(ca_key_path, "rb") as f:
            ca_key = serialization.load_pem_private_key(f.read(), None)
        with open(ca_path, "rb") as f:
            ca_cert = x509.load_pem_x509_certificate(f.read())
    if fresh_ca or not (os.path.exists(srv_path)
                        and os.path.exists(srv_key_path)):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _make_server(ca_cert, ca_key, key)
        write_private(srv_key_path, key_pem(key))
        write_public(srv_path, cert.public_bytes(serialization.Encoding.PEM))
    return ca_path, srv_path, srv_key_path


def server_context(cert_path, key_path):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_path, key_path)
    return ctx


def client_context(ca_path):
    """An ssl context trusting only the emulator CA (for tests/emuctl)."""
    ctx = ssl.create_default_context(cafile=ca_path)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx
