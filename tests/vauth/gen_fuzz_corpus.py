# Copyright (c) 2025 provisioning authors.
# SPDX-License-Identifier: BSD-2-Clause
"""Write the seed corpora of fuzz_vauth_cbor and fuzz_vauth_hid.

usage: /usr/bin/python3 gen_fuzz_corpus.py TESTS-FUZZ-CORPUS-DIR

The seeds are real CTAP2 requests as libfido2/python-fido2 send them
(canonical CBOR, built with fido2.cbor), and CTAPHID packet sequences
that carry them. Channel id 00000001 in an HID seed stands for "the
channel the last INIT allocated" (see fuzz_vauth_hid.c).
"""

import hashlib
import os
import struct
import sys

from fido2 import cbor

CDH = hashlib.sha256(b"clientDataJSON").digest()
RP = {"id": "login.microsoft.com", "name": "Microsoft"}
USER = {"id": b"\x01\x02\x03\x04", "name": "alice@example.com",
        "displayName": "Alice"}
ES256 = [{"alg": -7, "type": "public-key"}]
CRED = {"id": bytes(range(63)), "type": "public-key"}
COSE = {1: 2, 3: -25, -1: 1, -2: b"\x11" * 32, -3: b"\x22" * 32}


def req(cmd, params=None):
    return bytes([cmd]) + (cbor.encode(params) if params is not None else b"")


CBOR_SEEDS = {
    "getinfo": req(0x04),
    "mc_min": req(0x01, {1: CDH, 2: RP, 3: USER, 4: ES256}),
    "mc_rk_ext": req(0x01, {1: CDH, 2: RP, 3: USER, 4: ES256,
                            5: [CRED],
                            6: {"credProtect": 3, "hmac-secret": True},
                            7: {"rk": True}}),
    "mc_pinauth": req(0x01, {1: CDH, 2: RP, 3: USER, 4: ES256,
                             8: b"\x00" * 32, 9: 2}),
    "mc_touch": req(0x01, {1: CDH, 2: {"id": ".dummy"}, 3: USER, 4: ES256,
                           8: b"", 9: 2}),
    "ga_allow": req(0x02, {1: RP["id"], 2: CDH, 3: [CRED],
                           5: {"up": False}}),
    "ga_rk": req(0x02, {1: RP["id"], 2: CDH}),
    "ga_next": req(0x08),
    "pin_retries": req(0x06, {1: 1, 2: 1}),
    "pin_ka": req(0x06, {1: 2, 2: 2}),
    "pin_set": req(0x06, {1: 2, 2: 3, 3: COSE, 4: b"\x00" * 32,
                          5: b"\x00" * 80}),
    "pin_change": req(0x06, {1: 1, 2: 4, 3: COSE, 4: b"\x00" * 16,
                             5: b"\x00" * 64, 6: b"\x00" * 16}),
    "pin_token": req(0x06, {1: 2, 2: 9, 3: COSE, 6: b"\x00" * 32,
                            9: 3, 10: RP["id"]}),
    "reset": req(0x07),
    "selection": req(0x0B),
    "cm_meta": req(0x41, {1: 1, 3: 2, 4: b"\x00" * 32}),
    "cm_rks": req(0x0A, {1: 4, 2: {1: hashlib.sha256(b"x").digest()},
                         3: 1, 4: b"\x00" * 16}),
    "cm_delete": req(0x41, {1: 6, 2: {2: CRED}, 3: 2, 4: b"\x00" * 32}),
    "cfg_minpin": req(0x0D, {1: 3, 2: {1: 6, 2: ["example.com"], 3: True}}),
    "cfg_alwaysuv": req(0x0D, {1: 2}),
    "bad_cbor": bytes([0x01, 0xa1, 0x01]),
}


def packets(cid, cmd, payload):
    """CTAPHID framing of one message."""
    out = [struct.pack(">IBH", cid, 0x80 | cmd, len(payload))
           + payload[:57]]
    rest, seq = payload[57:], 0
    while rest:
        out.append(struct.pack(">IB", cid, seq) + rest[:59])
        rest, seq = rest[59:], seq + 1
    return b"".join(p.ljust(64, b"\0") for p in out)


INIT = packets(0xFFFFFFFF, 0x06, b"\x01\x02\x03\x04\x05\x06\x07\x08")
LIVE = 0x00000001

HID_SEEDS = {
    "init": INIT,
    "init_getinfo": INIT + packets(LIVE, 0x10, CBOR_SEEDS["getinfo"]),
    "init_ping_long": INIT + packets(LIVE, 0x01, bytes(range(256)) * 2),
    "init_mc": INIT + packets(LIVE, 0x10, CBOR_SEEDS["mc_rk_ext"]),
    "init_cancel_wink": INIT + packets(LIVE, 0x11, b"")
    + packets(LIVE, 0x08, b""),
    "broadcast_cbor": packets(0xFFFFFFFF, 0x10, CBOR_SEEDS["getinfo"]),
    "bad_seq": INIT + packets(LIVE, 0x01, b"\xaa" * 200)[:64]
    + struct.pack(">IB", LIVE, 5).ljust(64, b"\0"),
    "msg_lock": INIT + packets(LIVE, 0x03, b"\x00\x01")
    + packets(LIVE, 0x04, b"\x01"),
}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for name, seeds in (("vauth_cbor", CBOR_SEEDS), ("vauth_hid", HID_SEEDS)):
        d = os.path.join(sys.argv[1], name)
        os.makedirs(d, exist_ok=True)
        for k, v in seeds.items():
            with open(os.path.join(d, k), "wb") as f:
                f.write(v)


if __name__ == "__main__":
    main()
