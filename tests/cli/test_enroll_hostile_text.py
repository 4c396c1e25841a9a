#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""No escape sequence from Graph or a CSV reaches the terminal.

Graph's words (a passkey's display name, an error message) and a CSV
cell are untrusted.  Printed by list, doctor, the enroll progress lines,
Graph error messages (with and without -v) and CSV row messages, their
control characters must come out neutralised: no raw ESC, no C1 control
(U+009B is a CSI on many terminals), no bidi override, on stdout or
stderr; the hostile text is still shown, escaped (\\x1b, \\u202e).
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

PIN = "17320508"
D = "@contoso.example"
# clears the screen, sets the title, turns red; a CSI as C1; a bidi
# override that makes "exe.gnp" read as "png.exe"
EVIL = "\x1b[2J\x1b]0;pwned\x07\x1b[31mred \u009b1m \u202egnp.exe"
RAW = ("\x1b", "\x07", "\u009b", "\u202e")


class EnrollHostileText(unittest.TestCase):
    def assert_clean(self, r, what):
        for s in (r.out, r.err):
            for c in RAW:
                self.assertNotIn(c, s, "%s: raw %r reached the terminal:"
                                 "\n%r" % (what, c, r))

    def test_hostile_text(self):
        cfg = e2e.basic_config()
        cfg["users"].append(e2e.member(
            "hostile", displayName="Evil " + EVIL,
            fido2Methods=[{"credentialId": "AAECAwQFBgcICQoLDA0ODw",
                           "displayName": "Key " + EVIL}]))
        env = e2e.Env(self, cfg, name="hostile")
        env.add_key(pin=PIN)
        pe = env.env(E2E_PIN=PIN)

        # list: the passkey's display name is Graph's
        r = env.run("list", "hostile" + D)
        self.assertEqual(r.rc, 0, r)
        self.assert_clean(r, "list")
        self.assertIn("Key \\x1b[2J\\x1b]0;pwned\\x07", r.out)
        self.assertIn("\\u009b1m \\u202egnp.exe", r.out)

        # doctor USER: the user's display name, policy words
        r = env.run("doctor", "hostile" + D)
        self.assert_clean(r, "doctor")

        # Graph's error message, in enroll's progress and -v lines
        env.emu.set_faults([{"path": "creationOptions", "kind": "400",
                             "code": "bad\x1bcode",
                             "message": "Boom " + EVIL}])
        for extra in ((), ("-v",), ("-vv",)):
            r = env.run(*(extra + ("enroll", "alice" + D, "--parallel",
                                   "--pin", "keep", "--pin-env", "E2E_PIN")),
                        env=pe, timeout=180)
            self.assertNotEqual(r.rc, 0, r)
            self.assert_clean(r, "enroll %s" % " ".join(extra))
            self.assertIn("Boom \\x1b[2J", r.err)
        env.emu.clear_faults()

        # a Graph error printed by a verb (cli_graph_error)
        env.emu.set_faults([{"path": "/users/", "method": "GET",
                             "kind": "400", "message": "Nope " + EVIL}])
        r = env.run("list", "alice" + D, timeout=180)
        self.assertNotEqual(r.rc, 0, r)
        self.assert_clean(r, "list (Graph error)")
        self.assertIn("Nope \\x1b[2J", r.err)
        env.emu.clear_faults()

        # a CSV cell: its row fails, its words are shown escaped
        csvp = env.write("evil.csv", "upn\n" + EVIL + "evil" + D + "\n"
                         "helpdesk" + D + "\n")
        r = env.run("enroll", "--csv", csvp, "--parallel", "--pin", "keep",
                    "--pin-env", "E2E_PIN", "-v", env=pe)
        self.assertIn(r.rc, (0, 1), r)
        self.assert_clean(r, "enroll --csv")
        self.assertEqual([x["error_code"] for x in env.failures()
                          if x["stage"] == "csv"], ["csv_invalid_user"])
        env.assert_one_passkey(["helpdesk"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
