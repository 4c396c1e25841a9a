#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Build a fido2Methods POST body for a creationOptions reply, with the
emulator's software authenticator (so graph/ tests need no key).

usage: softreg.py OPTIONS.json  ->  {"body": {...}, "credId": "<b64url>"}
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "graph-emulator"))
import softauthn  # noqa: E402


def main():
    with open(sys.argv[1]) as f:
        options = json.load(f)
    body = softauthn.SoftAuthenticator().register(options,
                                                  display_name="graph test")
    json.dump({"body": body, "credId": body["publicKeyCredential"]["id"]},
              sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
