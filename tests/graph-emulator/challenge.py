"""WebAuthn challenges shaped like Entra's: base64url of an ASCII compact JWE.

Entra's challenge is ~6,931 base64url chars that decode to ~5,198 bytes of
ASCII JWE ({"alg":"RSA-OAEP-256","enc":"A256GCM","x5c":[...]}). We produce the
same shape; the ciphertext is a real AES-256-GCM encryption (key in DIR) of
{uid, tid, exp, nonce}, padded so the length matches, which lets the emulator
validate a challenge without a lookup table.
"""

import base64
import json
import os

from common import b64u, b64u_dec

TARGET_JWE_LEN = 5198          # -> 6931 base64url chars
_ENC_KEY_LEN = 256             # "RSA-OAEP-256 wrapped CEK" (random filler)


class ChallengeCodec:
    def __init__(self, keys, x5c_der):
        self.keys = keys
        header = {"alg": "RSA-OAEP-256", "enc": "A256GCM",
                  "x5c": [base64.b64encode(d).decode()
                          for d in x5c_der]}
        self.header_b64 = b64u(json.dumps(header, separators=(",", ":")).encode())
        fixed = (len(self.header_b64) + 1 + len(b64u(b"\0" * _ENC_KEY_LEN)) + 1
                 + len(b64u(b"\0" * 12)) + 1 + 1 + len(b64u(b"\0" * 16)))
        room = TARGET_JWE_LEN - fixed
        # ciphertext length == plaintext length for GCM; b64u grows it 4/3.
        self.plain_len = max(128, room * 3 // 4)

    def issue(self, uid, tid, exp, version):
        """Return (challenge_string, nonce)."""
        nonce = os.urandom(16).hex()
        body = {"uid": uid, "tid": tid, "exp": int(exp), "nonce": nonce,
                "ver": version, "pad": ""}
        raw = json.dumps(body, separators=(",", ":"))
        fill = self.plain_len - len(raw.encode())
        if fill > 0:
            body["pad"] = "0" * fill
        plain = json.dumps(body, separators=(",", ":")).encode()
        iv = os.urandom(12)
        ct = self.keys.aead.encrypt(iv, plain, self.header_b64.encode())
        jwe = ".".join([self.header_b64, b64u(os.urandom(_ENC_KEY_LEN)),
                        b64u(iv), b64u(ct[:-16]), b64u(ct[-16:])])
        return b64u(jwe.encode()), nonce

    def open(self, challenge):
        """Decode a challenge string; return its payload dict or None."""
        try:
            jwe = b64u_dec(challenge, strict=True).decode("ascii")
            parts = jwe.split(".")
            if len(parts) != 5 or parts[0] != self.header_b64:
                return None
            iv = b64u_dec(parts[2], strict=True)
            ct = b64u_dec(parts[3], strict=True) + b64u_dec(parts[4], strict=True)
        except (ValueError, UnicodeDecodeError):
            return None
        return self.keys.open(iv, ct, self.header_b64.encode())
