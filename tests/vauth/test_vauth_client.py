# Copyright (c) 2025 provisioning authors.
# SPDX-License-Identifier: BSD-2-Clause
"""vauth driven by an independent CTAP2 client: Debian's python3-fido2 0.9.1.

fido2.hid.CtapHidDevice runs over a CtapHidConnection on the vauth Unix
socket (one raw 64-byte report per message). Every attestation is verified
with fido2.attestation; every assertion signature with fido2.cose.

usage: /usr/bin/python3 test_vauth_client.py PATH-TO-vauth [unittest args]
"""

import ctypes
import hashlib
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from fido2.attestation import Attestation, AttestationType
from fido2.attestation.base import verify_x509_chain
from fido2.cose import CoseKey
from fido2.ctap import CtapError, STATUS
from fido2.ctap2 import Ctap2
from fido2.ctap2.config import Config
from fido2.ctap2.credman import CredentialManagement
from fido2.ctap2.pin import ClientPin, PinProtocolV1, PinProtocolV2
from fido2.hid import CtapHidDevice
from fido2.hid.base import CtapHidConnection, HidDescriptor
from fido2.server import AttestationVerifier

VAUTH = None
PIN = "123456"
RP = {"id": "login.microsoft.com", "name": "Microsoft"}
ES256 = [{"type": "public-key", "alg": -7}]
AAGUID = bytes.fromhex("76617574682d746573742d6b65790001")
ERR = CtapError.ERR
MC = ClientPin.PERMISSION.MAKE_CREDENTIAL
GA = ClientPin.PERMISSION.GET_ASSERTION
CM = ClientPin.PERMISSION.CREDENTIAL_MGMT
ACFG = ClientPin.PERMISSION.AUTHENTICATOR_CFG


def die_with_parent():
    """In the child: get SIGTERM if the test process dies (PR_SET_PDEATHSIG)."""
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)


class SocketConnection(CtapHidConnection):
    """CTAPHID reports over a vauth socket; never blocks forever."""

    def __init__(self, path, timeout=20):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)

    def write_packet(self, data):
        assert len(data) == 64
        self.sock.sendall(data)

    def read_packet(self):
        buf = b""
        while len(buf) < 64:
            chunk = self.sock.recv(64 - len(buf))
            if not chunk:
                raise OSError("vauth closed the connection")
            buf += chunk
        return buf

    def close(self):
        self.sock.close()


class Vauth:
    """One vauth daemon in its own temporary directory."""

    def __init__(self, *args, tmpdir=None, sock=None):
        """args may use @DIR@ for the daemon's directory."""
        self.own_dir = tmpdir is None
        self.dir = tmpdir or tempfile.mkdtemp(prefix="vauth-py.")
        self.sock = sock or os.path.join(self.dir, "vauth-%d.sock" % id(self))
        self.args = list(args)
        self.proc = None
        self.dev = None
        self.start()

    def path(self, name):
        return os.path.join(self.dir, name)

    def start(self):
        self.proc = subprocess.Popen(
            preexec_fn=die_with_parent,
            args=[VAUTH, "--socket", self.sock]
            + [a.replace("@DIR@", self.dir) for a in self.args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=None if os.environ.get("VAUTH_TEST_VERBOSE") else subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("vauth exited with %d" % self.proc.returncode)
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.connect(self.sock)
                return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("vauth did not start")

    def connect(self):
        """A fresh connection (closing the previous one): a replug."""
        self.disconnect()
        desc = HidDescriptor(self.sock, 0, 0, 64, 64)
        self.dev = CtapHidDevice(desc, SocketConnection(self.sock))
        return Ctap2(self.dev)

    def disconnect(self):
        if self.dev is not None:
            self.dev.close()
            self.dev = None

    def stop(self):
        self.disconnect()
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = -9
            self.proc = None
            return rc
        return None

    def close(self):
        """Stop and clean up; returns the exit status (0 expected: under
        ASan/LSan a leak or error makes it non-zero)."""
        rc = self.stop()
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        return rc


def cdh(tag=b"x"):
    return hashlib.sha256(b"clientDataJSON " + tag).digest()


def user(uid=b"user-1", name="alice@example.com"):
    return {"id": uid, "name": name, "displayName": name.split("@")[0]}


def token(ctap, pin, perms, rpid=None, proto=None):
    cp = ClientPin(ctap, proto)
    return cp.protocol, cp.get_pin_token(pin, perms, rpid)


def make_cred(ctap, pin=None, rk=True, prot=None, hmac=True, uid=b"user-1",
              exclude=None, tag=b"mc", proto=None, event=None, on_keepalive=None):
    ext = {}
    if prot:
        ext["credProtect"] = prot
    if hmac:
        ext["hmac-secret"] = True
    param = protocol = None
    if pin is not None:
        p, t = token(ctap, pin, MC, RP["id"], proto)
        param, protocol = p.authenticate(t, cdh(tag)), p.VERSION
    return ctap.make_credential(
        cdh(tag), RP, user(uid), ES256, exclude_list=exclude,
        extensions=ext or None, options={"rk": True} if rk else None,
        pin_uv_param=param, pin_uv_protocol=protocol, event=event,
        on_keepalive=on_keepalive)


def get_assertion(ctap, pin=None, allow=None, tag=b"ga", up=None):
    param = protocol = None
    if pin is not None:
        p, t = token(ctap, pin, GA, RP["id"])
        param, protocol = p.authenticate(t, cdh(tag)), p.VERSION
    return ctap.get_assertion(
        RP["id"], cdh(tag), allow_list=allow,
        options=None if up is None else {"up": up},
        pin_uv_param=param, pin_uv_protocol=protocol)


def code_of(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except CtapError as e:
        return e.code
    return 0


class RootVerifier(AttestationVerifier):
    def __init__(self, root_der):
        super().__init__()
        self.root = root_der

    def ca_lookup(self, result, auth_data):
        return [self.root]


def load_root(pem_path):
    with open(pem_path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    return cert.public_bytes(serialization.Encoding.DER)


class VauthTest(unittest.TestCase):
    def setUp(self):
        self.daemons = []

    def tearDown(self):
        codes = [d.close() for d in self.daemons]
        self.assertTrue(all(c in (0, None) for c in codes), codes)

    def vauth(self, *args, **kwargs):
        d = Vauth(*args, **kwargs)
        self.daemons.append(d)
        return d

    # -- getInfo / CTAPHID -------------------------------------------------

    def test_info_ping_wink(self):
        d = self.vauth("--fw", "42", "--max-creds", "10")
        ctap = d.connect()
        info = ctap.info
        self.assertEqual(info.versions, ["FIDO_2_0", "FIDO_2_1"])
        self.assertEqual(info.extensions, ["credProtect", "hmac-secret"])
        self.assertEqual(info.aaguid, AAGUID)
        self.assertEqual(info.options, {
            "rk": True, "up": True, "plat": False, "clientPin": False,
            "credMgmt": True, "authnrCfg": True, "setMinPINLength": True,
            "pinUvAuthToken": True, "makeCredUvNotRqd": False})
        self.assertEqual(info.max_msg_size, 1200)
        self.assertEqual(info.pin_uv_protocols, [2, 1])
        self.assertEqual(info.max_creds_in_list, 8)
        self.assertEqual(info.max_cred_id_length, 128)
        self.assertEqual(info.transports, ["usb"])
        self.assertEqual(info.algorithms, [{"alg": -7, "type": "public-key"}])
        self.assertEqual(info.min_pin_length, 4)
        self.assertEqual(info.firmware_version, 42)
        self.assertEqual(info.remaining_disc_creds, 10)
        self.assertEqual(info.max_rpids_for_min_pin, 8)
        self.assertFalse(info.force_pin_change)
        self.assertEqual(d.dev.ping(b"x" * 300), b"x" * 300)
        d.dev.wink()
        self.assertEqual(d.dev.capabilities, 0x0D)

    def test_custom_aaguid_and_protocol_1(self):
        d = self.vauth("--aaguid", "01234567-89ab-cdef-0123-456789abcdef",
                       "--protocol", "1")
        ctap = d.connect()
        self.assertEqual(ctap.info.aaguid, bytes.fromhex(
            "0123456789abcdef0123456789abcdef"))
        self.assertEqual(ctap.info.pin_uv_protocols, [1])
        # protocol 2 is refused
        self.assertEqual(code_of(ClientPin(ctap, PinProtocolV2()).set_pin, PIN),
                         ERR.INVALID_PARAMETER)
        ClientPin(ctap, PinProtocolV1()).set_pin(PIN)
        att = make_cred(ctap, PIN)
        self.assertTrue(att.auth_data.flags & 0x04)
        self.assertEqual(att.auth_data.credential_data.aaguid,
                         ctap.info.aaguid)

    # -- clientPIN ---------------------------------------------------------

    def test_pin_protocols(self):
        for proto in (PinProtocolV1, PinProtocolV2):
            with self.subTest(protocol=proto.VERSION):
                d = self.vauth("--min-pin-length", "6")
                ctap = d.connect()
                cp = ClientPin(ctap, proto())
                self.assertEqual(cp.get_pin_retries()[0], 8)
                self.assertEqual(code_of(cp.set_pin, "12345"),
                                 ERR.PIN_POLICY_VIOLATION)
                cp.set_pin(PIN)
                self.assertEqual(code_of(cp.set_pin, PIN), ERR.NOT_ALLOWED)
                ctap = d.connect()
                self.assertTrue(ctap.info.options["clientPin"])
                cp = ClientPin(ctap, proto())
                t = cp.get_pin_token(PIN, MC | GA, RP["id"])
                self.assertEqual(len(t), 32)
                cp.change_pin(PIN, "abcdef")
                self.assertEqual(code_of(cp.get_pin_token, PIN, MC, RP["id"]),
                                 ERR.PIN_INVALID)
                t2 = cp.get_pin_token("abcdef", MC, RP["id"])
                self.assertNotEqual(t, t2)
                self.assertEqual(cp.get_pin_retries()[0], 8)
                # no rpId with mc/ga; unsupported permission
                self.assertEqual(code_of(cp.get_pin_token, "abcdef", MC),
                                 ERR.MISSING_PARAMETER)
                self.assertEqual(code_of(cp.get_pin_token, "abcdef", 0x08),
                                 ERR.UNAUTHORIZED_PERMISSION)
                # UV is not built in
                self.assertEqual(code_of(cp.get_uv_retries),
                                 ERR.UNSUPPORTED_OPTION)
                make_cred(ctap, "abcdef", proto=proto())

    def test_token_permissions(self):
        d = self.vauth("--pin", PIN)
        ctap = d.connect()
        # a token without mc
        p, t = token(ctap, PIN, GA, RP["id"])
        self.assertEqual(code_of(
            ctap.make_credential, cdh(), RP, user(), ES256,
            pin_uv_param=p.authenticate(t, cdh()), pin_uv_protocol=p.VERSION),
            ERR.UNAUTHORIZED_PERMISSION)
        # a token bound to another rpId
        p, t = token(ctap, PIN, MC, "example.com")
        self.assertEqual(code_of(
            ctap.make_credential, cdh(), RP, user(), ES256,
            pin_uv_param=p.authenticate(t, cdh()), pin_uv_protocol=p.VERSION),
            ERR.UNAUTHORIZED_PERMISSION)
        # a wrong pinUvAuthParam
        p, t = token(ctap, PIN, MC, RP["id"])
        self.assertEqual(code_of(
            ctap.make_credential, cdh(), RP, user(), ES256,
            pin_uv_param=p.authenticate(t, cdh(b"other")),
            pin_uv_protocol=p.VERSION), ERR.PIN_AUTH_INVALID)
        # missing protocol; unknown protocol
        self.assertEqual(code_of(
            ctap.make_credential, cdh(), RP, user(), ES256,
            pin_uv_param=p.authenticate(t, cdh())), ERR.MISSING_PARAMETER)
        self.assertEqual(code_of(
            ctap.make_credential, cdh(), RP, user(), ES256,
            pin_uv_param=p.authenticate(t, cdh()), pin_uv_protocol=3),
            ERR.INVALID_PARAMETER)
        # PIN set, no pinUvAuthParam
        self.assertEqual(code_of(make_cred, ctap), ERR.PIN_REQUIRED)
        self.assertEqual(code_of(
            ctap.make_credential, cdh(), RP, user(), ES256,
            options={"uv": True}), ERR.INVALID_OPTION)

    def test_wrong_pin_until_blocked(self):
        d = self.vauth("--pin", PIN)
        ctap = d.connect()
        cp = ClientPin(ctap)
        bad = lambda: cp.get_pin_token("000000", MC, RP["id"])
        self.assertEqual(code_of(bad), ERR.PIN_INVALID)
        self.assertEqual(code_of(bad), ERR.PIN_INVALID)
        self.assertEqual(code_of(bad), ERR.PIN_AUTH_BLOCKED)
        # blocked until a power cycle, even for the right PIN
        self.assertEqual(code_of(cp.get_pin_token, PIN, MC, RP["id"]),
                         ERR.PIN_AUTH_BLOCKED)
        self.assertEqual(cp.get_pin_retries(), (5, True))
        # reconnect = power cycle for the consecutive-mismatch block only
        ctap = d.connect()
        cp = ClientPin(ctap)
        self.assertEqual(cp.get_pin_retries(), (5, False))
        cp.get_pin_token(PIN, MC, RP["id"])   # resets the retries
        self.assertEqual(cp.get_pin_retries()[0], 8)
        for i in range(8):
            if i % 3 == 0:
                ctap = d.connect()
                cp = ClientPin(ctap)
            want = (ERR.PIN_BLOCKED if i == 7 else
                    ERR.PIN_AUTH_BLOCKED if i % 3 == 2 else ERR.PIN_INVALID)
            self.assertEqual(code_of(bad), want, "attempt %d" % i)
        ctap = d.connect()
        cp = ClientPin(ctap)
        self.assertEqual(cp.get_pin_retries()[0], 0)
        self.assertEqual(code_of(cp.get_pin_token, PIN, MC, RP["id"]),
                         ERR.PIN_BLOCKED)
        self.assertEqual(code_of(cp.change_pin, PIN, "654321"),
                         ERR.PIN_BLOCKED)
        ctap.reset()
        self.assertFalse(d.connect().info.options["clientPin"])

    # -- makeCredential / attestation --------------------------------------

    def test_attestation_packed_basic_chain(self):
        d = self.vauth("--ca", "@DIR@/ca.pem", "--pin", PIN)
        ctap = d.connect()
        att = make_cred(ctap, PIN, rk=True, prot=2)
        self.assertEqual(att.fmt, "packed")
        ad = att.auth_data
        self.assertEqual(ad.rp_id_hash, hashlib.sha256(RP["id"].encode()).digest())
        self.assertEqual(ad.flags, 0xC5)
        self.assertEqual(ad.credential_data.aaguid, AAGUID)
        self.assertEqual(ad.extensions, {"credProtect": 2, "hmac-secret": True})
        self.assertEqual(dict(ad.credential_data.public_key),
                         {1: 2, 3: -7, -1: 1,
                          -2: ad.credential_data.public_key[-2],
                          -3: ad.credential_data.public_key[-3]})
        res = Attestation.for_type("packed")().verify(
            att.att_statement, ad, cdh(b"mc"))
        self.assertEqual(res.attestation_type, AttestationType.BASIC)
        self.assertEqual(len(att.att_statement["x5c"]), 1)
        leaf = x509.load_der_x509_certificate(att.att_statement["x5c"][0])
        self.assertEqual(leaf.subject.rfc4514_string(),
                         "CN=vauth batch,OU=Authenticator Attestation,"
                         "O=provisioning test,C=US")
        # the trust path ends at the exported root
        out = d.path("root.pem")
        r = subprocess.run([VAUTH, "--export-ca", out, "--ca", d.path("ca.pem")],
                           timeout=20)
        self.assertEqual(r.returncode, 0)
        root = load_root(out)
        verify_x509_chain(res.trust_path + [root])
        RootVerifier(root).verify_attestation(att, cdh(b"mc"))
        self.assertEqual(stat.S_IMODE(os.stat(d.path("ca.pem")).st_mode), 0o600)
        self.assertLess(len(att), 3500)

    def test_attestation_self_and_none(self):
        d = self.vauth("--attestation", "self")
        att = make_cred(d.connect(), rk=False)
        self.assertEqual(att.fmt, "packed")
        self.assertNotIn("x5c", att.att_statement)
        res = Attestation.for_type("packed")().verify(
            att.att_statement, att.auth_data, cdh(b"mc"))
        self.assertEqual(res.attestation_type, AttestationType.SELF)
        self.assertEqual(att.auth_data.flags, 0xC1)

        d = self.vauth("--attestation", "none")
        att = make_cred(d.connect(), rk=False, hmac=False)
        self.assertEqual(att.fmt, "none")
        self.assertEqual(att.att_statement, {})
        self.assertEqual(att.auth_data.flags, 0x41)
        res = Attestation.for_type("none")().verify(
            att.att_statement, att.auth_data, cdh(b"mc"))
        self.assertEqual(res.attestation_type, AttestationType.NONE)

    def test_shared_ca(self):
        tmp = tempfile.mkdtemp(prefix="vauth-py-ca.")
        self.addCleanup(shutil.rmtree, tmp, True)
        ca = os.path.join(tmp, "ca.pem")
        # racing processes creating the same CA file agree on one root
        procs = [subprocess.Popen([VAUTH, "--export-ca",
                                   os.path.join(tmp, "r%d.pem" % i), "--ca", ca])
                 for i in range(4)]
        self.assertEqual([p.wait(timeout=20) for p in procs], [0] * 4)
        roots = {load_root(os.path.join(tmp, "r%d.pem" % i)) for i in range(4)}
        self.assertEqual(len(roots), 1)
        self.assertEqual([f for f in os.listdir(tmp) if ".tmp." in f], [])
        a = self.vauth("--ca", ca, tmpdir=tmp)
        b = self.vauth("--ca", ca, "--aaguid",
                       "11111111-2222-3333-4444-555555555555", tmpdir=tmp)
        root = os.path.join(tmp, "root.pem")
        subprocess.run([VAUTH, "--export-ca", root, "--ca", ca],
                       check=True, timeout=20)
        verifier = RootVerifier(load_root(root))
        for d in (a, b):
            att = make_cred(d.connect(), rk=False)
            verifier.verify_attestation(att, cdh(b"mc"))
            d.disconnect()

    def test_exclude_list_and_touch(self):
        d = self.vauth()
        ctap = d.connect()
        att = make_cred(ctap, rk=False)
        cred = {"type": "public-key", "id": att.auth_data.credential_data.credential_id}
        self.assertEqual(code_of(make_cred, ctap, rk=False, uid=b"u2",
                                 exclude=[cred]), ERR.CREDENTIAL_EXCLUDED)
        other = {"type": "public-key", "id": os.urandom(63)}
        make_cred(ctap, rk=False, uid=b"u2", exclude=[other])
        # zero-length pinUvAuthParam: "touch to select"
        self.assertEqual(code_of(ctap.make_credential, cdh(), RP, user(), ES256,
                                 pin_uv_param=b"", pin_uv_protocol=2),
                         ERR.PIN_NOT_SET)
        ClientPin(ctap).set_pin(PIN)
        self.assertEqual(code_of(ctap.make_credential, cdh(), RP, user(), ES256,
                                 pin_uv_param=b"", pin_uv_protocol=2),
                         ERR.PIN_INVALID)
        # unsupported algorithm; missing parameter
        self.assertEqual(code_of(ctap.make_credential, cdh(), RP, user(),
                                 [{"type": "public-key", "alg": -257}]),
                         ERR.UNSUPPORTED_ALGORITHM)
        self.assertEqual(code_of(ctap.send_cbor, Ctap2.CMD.MAKE_CREDENTIAL,
                                 {1: cdh(), 2: RP}), ERR.MISSING_PARAMETER)
        self.assertEqual(code_of(ctap.send_cbor, Ctap2.CMD.MAKE_CREDENTIAL,
                                 {1: "x", 2: RP, 3: user(), 4: ES256}),
                         ERR.CBOR_UNEXPECTED_TYPE)
        self.assertEqual(code_of(ctap.send_cbor, 0x55), ERR.INVALID_COMMAND)

    def test_key_store_full_and_replace(self):
        d = self.vauth("--max-creds", "1")
        ctap = d.connect()
        make_cred(ctap, uid=b"one")
        make_cred(ctap, uid=b"one")      # same rp + user: replaced
        self.assertEqual(code_of(make_cred, ctap, uid=b"two"), ERR.KEY_STORE_FULL)
        make_cred(ctap, uid=b"two", rk=False)
        self.assertEqual(d.connect().info.remaining_disc_creds, 0)

    # -- getAssertion ------------------------------------------------------

    def test_get_assertion(self):
        d = self.vauth("--pin", PIN)
        ctap = d.connect()
        a1 = make_cred(ctap, PIN, uid=b"u1", prot=1)
        a2 = make_cred(ctap, PIN, uid=b"u2", prot=3)
        nr = make_cred(ctap, PIN, rk=False, prot=2, uid=b"u3")
        keys = {}
        for a in (a1, a2, nr):
            cd = a.auth_data.credential_data
            keys[cd.credential_id] = CoseKey.parse(cd.public_key)

        # without UV only the credProtect=1 credential is discoverable
        r = get_assertion(ctap)
        self.assertEqual(r.user, {"id": b"u1"})
        self.assertIsNone(r.number_of_credentials)
        self.assertEqual(r.auth_data.flags, 0x01)
        r.verify(cdh(b"ga"), keys[r.credential["id"]])

        # with UV both, most recent first, then getNextAssertion
        r = get_assertion(ctap, PIN)
        self.assertEqual(r.number_of_credentials, 2)
        self.assertEqual(r.user["id"], b"u2")
        self.assertEqual(r.user["name"], "alice@example.com")
        self.assertEqual(r.auth_data.flags, 0x05)
        r.verify(cdh(b"ga"), keys[r.credential["id"]])
        n = ctap.get_next_assertion()
        self.assertEqual(n.user["id"], b"u1")
        n.verify(cdh(b"ga"), keys[n.credential["id"]])
        self.assertGreater(n.auth_data.counter, r.auth_data.counter)
        self.assertEqual(code_of(ctap.get_next_assertion), ERR.NOT_ALLOWED)

        # credProtect=2: visible through the allowList without UV
        desc = {"type": "public-key", "id": nr.auth_data.credential_data.credential_id}
        r = get_assertion(ctap, allow=[desc])
        self.assertEqual(r.credential["id"], desc["id"])
        self.assertIsNone(r.user)
        r.verify(cdh(b"ga"), keys[desc["id"]])
        # credProtect=3 needs UV even with the allowList
        desc3 = {"type": "public-key", "id": a2.auth_data.credential_data.credential_id}
        self.assertEqual(code_of(get_assertion, ctap, allow=[desc3]),
                         ERR.NO_CREDENTIALS)
        r = get_assertion(ctap, PIN, allow=[desc3])
        r.verify(cdh(b"ga"), keys[desc3["id"]])
        # silent assertion (up=false)
        r = get_assertion(ctap, allow=[desc], up=False)
        self.assertEqual(r.auth_data.flags, 0x00)
        # other rp, unknown ids
        self.assertEqual(code_of(ctap.get_assertion, "example.com", cdh()),
                         ERR.NO_CREDENTIALS)
        self.assertEqual(code_of(get_assertion, ctap, allow=[
            {"type": "public-key", "id": os.urandom(63)}]), ERR.NO_CREDENTIALS)

    # -- credential management / config / reset ----------------------------

    def test_credential_management(self):
        d = self.vauth("--pin", PIN)
        ctap = d.connect()
        for uid in (b"a", b"b", b"c"):
            make_cred(ctap, PIN, uid=uid, prot=2)
        other = dict(RP, id="example.com")
        p, t = token(ctap, PIN, MC, "example.com")
        ctap.make_credential(cdh(), other, user(b"z"), ES256,
                             options={"rk": True},
                             pin_uv_param=p.authenticate(t, cdh()),
                             pin_uv_protocol=p.VERSION)
        for proto in (PinProtocolV1(), PinProtocolV2()):
            p, t = token(ctap, PIN, CM, proto=proto)
            cm = CredentialManagement(ctap, p, t)
            meta = cm.get_metadata()
            self.assertEqual(meta[CredentialManagement.RESULT.EXISTING_CRED_COUNT], 4)
            self.assertEqual(meta[CredentialManagement.RESULT.MAX_REMAINING_COUNT], 46)
            rps = cm.enumerate_rps()
            self.assertEqual(sorted(r[CredentialManagement.RESULT.RP]["id"]
                                    for r in rps),
                             ["example.com", "login.microsoft.com"])
            creds = cm.enumerate_creds(hashlib.sha256(RP["id"].encode()).digest())
            self.assertEqual(sorted(c[CredentialManagement.RESULT.USER]["id"]
                                    for c in creds), [b"a", b"b", b"c"])
            for c in creds:
                self.assertEqual(c[CredentialManagement.RESULT.CRED_PROTECT], 2)
                CoseKey.parse(c[CredentialManagement.RESULT.PUBLIC_KEY])
        victim = creds[0][CredentialManagement.RESULT.CREDENTIAL_ID]
        cm.update_user_info(victim, {"id": creds[0][CredentialManagement.RESULT.USER]["id"],
                                     "name": "renamed", "displayName": "R"})
        creds = cm.enumerate_creds(hashlib.sha256(RP["id"].encode()).digest())
        self.assertIn("renamed", [c[CredentialManagement.RESULT.USER].get("name")
                                  for c in creds])
        cm.delete_cred(victim)
        self.assertEqual(code_of(cm.delete_cred, victim), ERR.NO_CREDENTIALS)
        self.assertEqual(cm.get_metadata()[
            CredentialManagement.RESULT.EXISTING_CRED_COUNT], 3)
        # a token without the cm permission
        p, t = token(ctap, PIN, MC, RP["id"])
        self.assertEqual(code_of(CredentialManagement(ctap, p, t).get_metadata),
                         ERR.UNAUTHORIZED_PERMISSION)
        # 0x41 (credentialMgmtPreview, what libfido2 1.12 sends) also works
        p, t = token(ctap, PIN, CM)
        msg = b"\x01"
        r = ctap.send_cbor(0x41, {1: 1, 3: p.VERSION, 4: p.authenticate(t, msg)})
        self.assertEqual(r[1], 3)

    def test_config_min_pin_length(self):
        d = self.vauth("--pin", PIN)
        ctap = d.connect()
        p, t = token(ctap, PIN, ACFG)
        cfg = Config(ctap, p, t)
        cfg.set_min_pin_length(6)
        self.assertEqual(code_of(cfg.set_min_pin_length, 5),
                         ERR.PIN_POLICY_VIOLATION)
        self.assertEqual(code_of(cfg.toggle_always_uv), ERR.UNSUPPORTED_OPTION)
        ctap = d.connect()
        self.assertEqual(ctap.info.min_pin_length, 6)
        self.assertFalse(ctap.info.force_pin_change)
        cp = ClientPin(ctap)
        self.assertEqual(code_of(cp.change_pin, PIN, "12345"),
                         ERR.PIN_POLICY_VIOLATION)
        # the 6-digit PIN is still fine; now force a change
        p, t = token(ctap, PIN, ACFG)
        Config(ctap, p, t).set_min_pin_length(force_change_pin=True)
        ctap = d.connect()
        self.assertTrue(ctap.info.force_pin_change)
        cp = ClientPin(ctap)
        self.assertEqual(code_of(cp.get_pin_token, PIN, MC, RP["id"]),
                         ERR.PIN_POLICY_VIOLATION)
        self.assertEqual(code_of(cp.change_pin, PIN, PIN),
                         ERR.PIN_POLICY_VIOLATION)
        cp.change_pin(PIN, "7654321")
        ctap = d.connect()
        self.assertFalse(ctap.info.force_pin_change)
        make_cred(ctap, "7654321")
        # a token without acfg; no token at all
        p, t = token(ctap, "7654321", MC, RP["id"])
        self.assertEqual(code_of(Config(ctap, p, t).set_min_pin_length, 8),
                         ERR.UNAUTHORIZED_PERMISSION)
        self.assertEqual(code_of(Config(ctap).set_min_pin_length, 8),
                         ERR.PIN_REQUIRED)
        # a new minimum above the PIN length forces a change
        p, t = token(ctap, "7654321", ACFG)
        Config(ctap, p, t).set_min_pin_length(8)
        self.assertTrue(d.connect().info.force_pin_change)

    def test_reset_and_selection(self):
        d = self.vauth("--pin", PIN, "--min-pin-length", "5")
        ctap = d.connect()
        make_cred(ctap, PIN)
        ctap.selection()
        ctap.reset()
        ctap = d.connect()
        self.assertFalse(ctap.info.options["clientPin"])
        self.assertEqual(ctap.info.remaining_disc_creds, 50)
        self.assertEqual(ctap.info.min_pin_length, 5)
        self.assertEqual(code_of(get_assertion, ctap), ERR.NO_CREDENTIALS)

    # -- presence, cancel, keepalives ---------------------------------------

    def test_cancel_during_presence_delay(self):
        d = self.vauth("--presence", "delay:5000")
        ctap = d.connect()
        event = threading.Event()
        seen = []
        timer = threading.Timer(0.3, event.set)
        timer.start()
        t0 = time.monotonic()
        code = code_of(make_cred, ctap, rk=False, event=event,
                       on_keepalive=seen.append)
        timer.cancel()
        self.assertEqual(code, ERR.KEEPALIVE_CANCEL)
        self.assertLess(time.monotonic() - t0, 3)
        self.assertIn(STATUS.UPNEEDED, seen)
        # still usable afterwards
        d2 = self.vauth("--presence", "delay:300")
        t0 = time.monotonic()
        make_cred(d2.connect(), rk=False)
        self.assertGreaterEqual(time.monotonic() - t0, 0.29)

    def test_presence_deny(self):
        d = self.vauth("--presence", "deny")
        ctap = d.connect()
        self.assertEqual(code_of(make_cred, ctap), ERR.OPERATION_DENIED)
        self.assertEqual(code_of(ctap.reset), ERR.OPERATION_DENIED)
        self.assertEqual(code_of(ctap.selection), ERR.OPERATION_DENIED)

    def test_fault_kinds(self):
        d = self.vauth("--up-timeout", "200", "--fail",
                       "timeout:sel@1,deny:reset@1,status:cfg=0x2b@1,"
                       "noncanonical:info@1,malformed:info@1,hang:sel@1,"
                       "disconnect:ga@1,slowkeepalive:400@1")
        ctap = None
        # noncanonical and malformed getInfo: python-fido2 refuses both
        for _ in range(2):
            with self.assertRaises(Exception):
                d.connect()
        ctap = d.connect()
        self.assertEqual(code_of(ctap.selection), ERR.USER_ACTION_TIMEOUT)
        self.assertEqual(code_of(ctap.reset), ERR.OPERATION_DENIED)
        self.assertEqual(code_of(ctap.config, 3), ERR.UNSUPPORTED_OPTION)
        event = threading.Event()
        threading.Timer(0.3, event.set).start()
        seen = []
        self.assertEqual(code_of(ctap.selection, event=event,
                                 on_keepalive=seen.append),
                         ERR.KEEPALIVE_CANCEL)
        self.assertEqual(seen, [STATUS.PROCESSING])
        # disconnect with a one-frame reply: nothing at all, then EOF
        with self.assertRaises(OSError):
            ctap.get_assertion(RP["id"], cdh())
        ctap = d.connect()
        # slow keepalives: silence for 400 ms
        times = []
        t0 = time.monotonic()
        make_cred(ctap, rk=False, on_keepalive=lambda s: times.append(
            time.monotonic() - t0))
        self.assertTrue(times and times[0] >= 0.35, times)
        ctap.selection()

    # -- persistence and process behaviour -----------------------------------

    def test_state_persistence(self):
        d = self.vauth("--state", "@DIR@/state.cbor", "--pin", PIN)
        state = d.path("state.cbor")
        ctap = d.connect()
        att = make_cred(ctap, PIN, prot=3)
        cid = att.auth_data.credential_data.credential_id
        pub = CoseKey.parse(att.auth_data.credential_data.public_key)
        self.assertEqual(code_of(ClientPin(ctap).get_pin_token, "000000", MC,
                                 RP["id"]), ERR.PIN_INVALID)
        self.assertEqual(d.stop(), 0)
        self.assertFalse(os.path.exists(d.sock))
        self.assertEqual(stat.S_IMODE(os.stat(state).st_mode), 0o600)
        leftovers = [f for f in os.listdir(d.dir) if ".tmp." in f]
        self.assertEqual(leftovers, [])

        d.args = ["--state", state, "--pin", "ignored-because-set"]
        d.start()
        ctap = d.connect()
        self.assertTrue(ctap.info.options["clientPin"])
        self.assertEqual(ClientPin(ctap).get_pin_retries()[0], 7)
        r = get_assertion(ctap, PIN)
        self.assertEqual(r.credential["id"], cid)
        r.verify(cdh(b"ga"), pub)
        self.assertGreater(r.auth_data.counter, att.auth_data.counter)
        # export from the state
        out = d.path("root.pem")
        subprocess.run([VAUTH, "--export-ca", out, "--state", state],
                       check=True, timeout=20)
        RootVerifier(load_root(out)).verify_attestation(
            make_cred(ctap, PIN, uid=b"x"), cdh(b"mc"))

    def test_stale_socket_and_one_client(self):
        tmp = tempfile.mkdtemp(prefix="vauth-py-sock.")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "s.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.close()                       # a stale socket file
        d = self.vauth(tmpdir=tmp, sock=path)
        ctap = d.connect()
        # a second client waits in the backlog until the first leaves
        second = SocketConnection(path, timeout=0.5)
        second.write_packet(b"\xff\xff\xff\xff\x86\x00\x08" + b"12345678"
                            + b"\0" * 49)
        with self.assertRaises(socket.timeout):
            second.read_packet()
        ctap.get_info()
        d.disconnect()
        second.sock.settimeout(5)
        self.assertEqual(second.read_packet()[7:15], b"12345678")
        second.close()
        # a live socket is not stolen
        r = subprocess.run([VAUTH, "--socket", path], timeout=20,
                           stderr=subprocess.PIPE)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"in use", r.stderr)

    def test_usage_errors(self):
        for args in (["--fail", "bogus:mc"], ["--fail", "timeout:xx"],
                     ["--fail", "status:pin=0x100"], ["--presence", "maybe"],
                     ["--protocol", "3"], ["--attestation", "tpm"],
                     ["--aaguid", "xyz"], ["--max-creds", "-1"], [],
                     ["--min-pin-length", "2"], ["--export-ca", "/tmp/x"]):
            with self.subTest(args=args):
                r = subprocess.run([VAUTH] + (["--socket", "/nonexistent/s"]
                                              if args and args[0] != "--export-ca"
                                              else []) + args,
                                   timeout=20, stderr=subprocess.PIPE,
                                   stdout=subprocess.DEVNULL)
                self.assertEqual(r.returncode, 2, r.stderr)
        r = subprocess.run([VAUTH, "--help"], timeout=20, capture_output=True)
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"--fail SPEC", r.stdout)
        self.assertIn(b"slowkeepalive:MS", r.stdout)
        r = subprocess.run([VAUTH, "--version"], timeout=20, capture_output=True)
        self.assertEqual(r.returncode, 0)

    def test_verbose_logs_no_secrets(self):
        tmp = tempfile.mkdtemp(prefix="vauth-py-log.")
        try:
            path = os.path.join(tmp, "s.sock")
            proc = subprocess.Popen([VAUTH, "--socket", path, "--verbose",
                                     "--pin", "98765432"],
                                    stderr=subprocess.PIPE)
            deadline = time.monotonic() + 5
            while not os.path.exists(path) and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.05)
            desc = HidDescriptor(path, 0, 0, 64, 64)
            dev = CtapHidDevice(desc, SocketConnection(path))
            ctap = Ctap2(dev)
            cp = ClientPin(ctap)
            t = cp.get_pin_token("98765432", MC, RP["id"])
            make_cred(ctap, "98765432")
            dev.close()
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=10)
            self.assertEqual(proc.returncode, 0)
            self.assertIn(b"76617574-682d-7465-7374-2d6b65790001", err)
            self.assertIn(b"token issued", err)
            self.assertNotIn(b"98765432", err)
            self.assertNotIn(t.hex().encode(), err)
            self.assertFalse(os.path.exists(path))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_vauth_client.py PATH-TO-vauth [unittest args]")
    VAUTH = os.path.abspath(sys.argv.pop(1))

    def on_alarm(signum, frame):
        raise TimeoutError("test_vauth_client.py took too long")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(280)   # never hang; tearDown still stops the daemons
    unittest.main(verbosity=2)
