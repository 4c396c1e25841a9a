#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The browser we start inherits no secret of ours.

$BROWSER is a stand-in (tests/graph/browser.py --dump-env) that writes
the environment it was started with, then signs in as a browser would.
`login` (browser sign-in) runs with PROVISIONING_CLIENT_SECRET and
secret-looking variables set; `enroll --as-user` with the PIN in a
variable named by --pin-env whose name would otherwise pass the
whitelist (LC_...).  Neither value, nor any PROVISIONING_* variable, may
reach the browser; what a desktop browser needs (PATH, HOME, LANG,
DISPLAY, XDG_*) does.
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
import e2e  # noqa: E402

BROWSER = os.path.join(HERE, "browser.py")
PUBLIC = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
PIN = "48151623"
DESKTOP = {"DISPLAY": ":7", "XDG_RUNTIME_DIR": "/run/user/4242",
           "LANG": "C.UTF-8", "HOME": "/root"}


def dump(path):
    with open(path) as f:
        return dict(line.rstrip("\n").split("=", 1) for line in f
                    if "=" in line)


class BrowserEnv(unittest.TestCase):
    def check(self, got, secrets):
        text = "\n".join("%s=%s" % kv for kv in got.items())
        for s in secrets:
            self.assertNotIn(s, text)
        self.assertEqual([k for k in got if k.startswith("PROVISIONING_")],
                         [])
        for k, v in DESKTOP.items():
            self.assertEqual(got.get(k), v, k)
        self.assertIn("PATH", got)
        self.assertIn("BROWSER", got)

    def test_login_browser(self):
        env = e2e.Env(self, login=False, name="browserenv")
        out = os.path.join(env.tmp, "browser-env.txt")
        browser = "%s --ca %s --dump-env %s" % (BROWSER, env.emu.ca, out)
        secrets = {e2e.CLIENT_SECRET: "PROVISIONING_CLIENT_SECRET",
                   "tok-0123456789": "GITHUB_TOKEN",
                   "pw-0123456789": "XDG_PASSWORD_X",
                   "pin-0123456789": "LC_PIN",
                   "api-0123456789": "LC_APIKEY"}
        extra = dict(DESKTOP, BROWSER=browser,
                     **{v: k for k, v in secrets.items()})
        r = env.run("--client-id", PUBLIC, "login", env=env.env(**extra))
        self.assertEqual(r.rc, 0, r)
        self.assertIn("Signed in as admin@contoso.example", r.out)
        self.check(dump(out), secrets)

    def test_as_user_pin_env(self):
        env = e2e.Env(self, name="browserenv-pin")
        env.emu.set_settings(me_registration=True)   # a tenant that does
        key = env.add_key(pin=PIN)
        out = os.path.join(env.tmp, "browser-env.txt")
        tapfile = os.path.join(env.tmp, "tap")
        with open(tapfile, "w") as f:
            f.write("Tap+Test=1")      # dave's one-time TAP in basic.json
        browser = "%s --ca %s --tap-file %s --dump-env %s" % (
            BROWSER, env.emu.ca, tapfile, out)
        # an LC_ name passes the whitelist: only --pin-env drops it
        extra = dict(DESKTOP, BROWSER=browser, LC_KIOSK_CODE=PIN,
                     PROVISIONING_CLIENT_SECRET=e2e.CLIENT_SECRET)
        r = env.run("--device", key.path, "enroll", "--as-user",
                    "dave@contoso.example", "--pin", "keep", "--pin-env",
                    "LC_KIOSK_CODE", env=env.env(**extra))
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey(["dave@contoso.example"])
        got = dump(out)
        self.check(got, [PIN, e2e.CLIENT_SECRET])
        self.assertNotIn("LC_KIOSK_CODE", got)


if __name__ == "__main__":
    unittest.main(verbosity=2)
