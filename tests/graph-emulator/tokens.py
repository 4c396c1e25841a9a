"""Emulator keys, JWT minting/checking, sealed (AEAD) opaque blobs.

Access and id tokens are RS256 JWTs signed with DIR/token-key.pem. Refresh
tokens and challenges are AES-GCM sealed JSON, so they stay valid across an
emulator restart on the same DIR and nothing secret has to be stored in
state.json.
"""

import hashlib
import json
import os

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common import b64u, b64u_dec
from tls import load_or_make_key, write_private


class TokenInvalid(Exception):
    """Raised with a Graph-style message when an access token is unusable."""


class Keys:
    """Signing key (RSA) and sealing key (AES-256), persisted in DIR."""

    def __init__(self, d):
        self.sign_key = load_or_make_key(os.path.join(d, "token-key.pem"), "rsa")
        self.pub = self.sign_key.public_key()
        nums = self.pub.public_numbers()
        n = nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big")
        self.kid = b64u(hashlib.sha256(n).digest()[:20])
        self.jwk = {"kty": "RSA", "use": "sig", "kid": self.kid,
                    "x5t": self.kid, "n": b64u(n),
                    "e": b64u(nums.e.to_bytes(3, "big"))}
        seal_path = os.path.join(d, "seal.key")
        if os.path.exists(seal_path):
            with open(seal_path, "rb") as f:
                self.seal_key = f.read()
        else:
            self.seal_key = os.urandom(32)
            write_private(seal_path, self.seal_key)
        self.aead = AESGCM(self.seal_key)
        self._cache = {}

    # --- JWT ---------------------------------------------------------------

    def sign_jwt(self, claims, typ="JWT"):
        header = {"typ": typ, "alg": "RS256", "x5t": self.kid, "kid": self.kid}
        signing_input = (b64u(json.dumps(header, separators=(",", ":")).encode())
                         + "." + b64u(json.dumps(claims,
                                                 separators=(",", ":")).encode()))
        sig = self.sign_key.sign(signing_input.encode(), padding.PKCS1v15(),
                                 hashes.SHA256())
        return signing_input + "." + b64u(sig)

    def verify_jwt(self, token):
        """Return the claims of a JWT signed by us, or raise TokenInvalid.

        Does not check times or audience; callers do.
        """
        hit = self._cache.get(token)
        if hit is not None:
            return hit
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenInvalid(
                "CompactToken parsing failed with error code: 80049217")
        try:
            header = json.loads(b64u_dec(parts[0], strict=True))
            claims = json.loads(b64u_dec(parts[1], strict=True))
            sig = b64u_dec(parts[2], strict=True)
        except (ValueError, UnicodeDecodeError):
            raise TokenInvalid("IDX14100: JWT is not well formed.")
        if not isinstance(header, dict) or not isinstance(claims, dict) \
                or header.get("alg") != "RS256":
            raise TokenInvalid("IDX14100: JWT is not well formed.")
        try:
            self.pub.verify(sig, (parts[0] + "." + parts[1]).encode(),
                            padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise TokenInvalid("Access token validation failure. "
                               "Invalid signature.")
        if len(self._cache) > 20000:
            self._cache.clear()
        self._cache[token] = claims
        return claims

    # --- sealed blobs --------------------------------------------------------

    def seal(self, obj, aad=b""):
        iv = os.urandom(12)
        ct = self.aead.encrypt(iv, json.dumps(
            obj, separators=(",", ":")).encode(), aad)
        return iv, ct

    def open(self, iv, ct, aad=b""):
        try:
            return json.loads(self.aead.decrypt(iv, ct, aad))
        except (InvalidTag, ValueError):
            return None

    def seal_str(self, obj, prefix):
        """An opaque url-safe string carrying obj (used for refresh tokens)."""
        iv, ct = self.seal(obj, prefix.encode())
        return prefix + b64u(iv + ct)

    def open_str(self, s, prefix):
        if not isinstance(s, str) or not s.startswith(prefix):
            return None
        try:
            raw = b64u_dec(s[len(prefix):], strict=True)
        except ValueError:
            return None
        if len(raw) < 29:
            return None
        return self.open(raw[:12], raw[12:], prefix.encode())
