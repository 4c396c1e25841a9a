#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The user-context mode (--as-user).

- Where the tenant refuses /me registration (Entra's documented answer,
  and the emulator's default), the run says so once, names the fix
  (drop --as-user), fails that one user and stops: exit 5, no key
  touched, the other users left for a re-run.

- A user who holds a Temporary Access Pass signs in (authorization code +
  PKCE with login_hint, through $BROWSER) and the passkey is registered
  through /me with the user's token, not the admin's.
- --issue-tap: the admin creates a one-time TAP and shows it on the
  operator's terminal only; the user signs in with it; the TAP never
  reaches stdout, stderr, the report, the failures file or the journal.
"""

import os
import pty
import re
import select
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

PIN = "31415926"
BROWSER = os.path.join(e2e.SRCDIR, "tests", "graph", "browser.py")


def me_posts(env):
    counts = env.state()["requests"]["counts"]
    return sum(n for k, n in counts.items()
               if k.startswith("POST /v1.0/me/authentication/fido2Methods")
               and k.endswith(" 201"))


def tap_browser(env, tap):
    # the browser's environment is scrubbed: it gets the CA and the TAP
    # through its command line and a file
    tapfile = os.path.join(env.tmp, "tap")
    with open(tapfile, "w") as f:
        f.write(tap)
    return "%s --ca %s --tap-file %s" % (BROWSER, env.emu.ca, tapfile)


class AsUser(unittest.TestCase):
    def test_tenant_refuses_self_service(self):
        # Entra's answer in 2026: /me registration is not supported
        env = e2e.Env(self, name="asuser-no")
        key = env.add_key(pin=PIN)
        tap = "Tap+Test=1"
        users = ["dave@contoso.example", "alice@contoso.example",
                 "bob@contoso.example"]
        r = env.run("--device", key.path, "enroll", "--as-user", *users,
                    "--pin", "keep", "--pin-env", "PIN",
                    env=env.env(PIN=PIN, BROWSER=tap_browser(env, tap)))
        self.assertEqual(r.rc, 5, r)
        self.assertEqual(r.err.count("Microsoft Graph does not accept "
                                     "self-service passkey registration "
                                     "for this tenant"), 1, r)
        self.assertIn("drop --as-user", r.err)
        self.assertIn("the other users would fail the same way", r.err)
        # one user failed with that reason; the others were not tried
        fails = env.failures()
        self.assertEqual(len(fails), 1, fails)
        self.assertEqual(fails[0]["error_code"], "unsupported")
        self.assertEqual(env.key_commands(key).count("0x01"), 0)
        self.assertEqual(env.total_added(), 0)


    def test_tap_holder_registers_through_me(self):
        env = e2e.Env(self, name="asuser")
        env.emu.set_settings(me_registration=True)   # a tenant that does
        key = env.add_key(pin=PIN)
        tap = "Tap+Test=1"      # dave's one-time TAP in basic.json
        browser = tap_browser(env, tap)
        r = env.run("--device", key.path, "enroll", "--as-user",
                    "dave@contoso.example", "--pin", "keep", "--pin-env",
                    "PIN", env=env.env(PIN=PIN, BROWSER=browser))
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey(["dave@contoso.example"])
        self.assertEqual(me_posts(env), 1)
        for text in (r.out, r.err, env.read(env.path("report.csv"))):
            self.assertNotIn(tap, text)
        # the TAP was one-time: a second user-context run cannot sign in
        # again with it, and the journal says dave is done anyway
        r2 = env.run("--device", key.path, "enroll", "--as-user",
                     "dave@contoso.example", "--pin", "keep", "--pin-env",
                     "PIN", env=env.env(PIN=PIN, BROWSER=browser))
        self.assertEqual(r2.rc, 0, r2)
        env.assert_one_passkey(["dave@contoso.example"])

    def test_issue_tap_shown_on_terminal_only(self):
        env = e2e.Env(self, name="issuetap")
        env.emu.set_settings(me_registration=True)
        key = env.add_key(pin=PIN)
        tapfile = os.path.join(env.tmp, "tap")
        browser = os.path.join(env.tmp, "browser.sh")
        with open(browser, "w") as f:
            # the operator reads the TAP off the screen and types it in
            f.write("#!/bin/sh\nn=0\nwhile [ ! -s '%s' ] && [ $n -lt 200 ]; "
                    "do sleep 0.05; n=$((n+1)); done\n"
                    "exec '%s' --ca '%s' --tap-file '%s' \"$1\"\n"
                    % (tapfile, BROWSER, env.emu.ca, tapfile))
        os.chmod(browser, 0o755)
        argv = env.argv("--device", key.path, "enroll", "--as-user",
                        "--issue-tap", "alice@contoso.example", "--pin",
                        "keep", "--pin-env", "PIN")
        penv = env.env(PIN=PIN, BROWSER=browser)
        pid, fd = pty.fork()
        if pid == 0:
            os.chdir(env.work)
            os.execve(argv[0], argv, penv)
        out = b""
        tap = None
        end = time.time() + 60
        try:
            while time.time() < end:
                r, _, _ = select.select([fd], [], [], 0.2)
                if r:
                    try:
                        chunk = os.read(fd, 4096)
                    except OSError:
                        break
                    if not chunk:
                        break
                    out += chunk
                    m = re.search(rb"Temporary Access Pass for \S+ \(one "
                                  rb"use, 60 minutes\): (\S+)", out)
                    if m and tap is None:
                        tap = m.group(1).decode()
                        with open(tapfile + ".tmp", "w") as f:
                            f.write(tap)
                        os.rename(tapfile + ".tmp", tapfile)
                wpid, status = os.waitpid(pid, os.WNOHANG)
                if wpid == pid:
                    break
            else:
                os.kill(pid, signal.SIGKILL)
                self.fail("timed out:\n%s" % out.decode(errors="replace"))
            if wpid != pid:
                _, status = os.waitpid(pid, 0)
        finally:
            os.close(fd)
        text = out.decode(errors="replace")
        self.assertIsNotNone(tap, text)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, text)
        env.assert_one_passkey(["alice@contoso.example"])
        self.assertEqual(me_posts(env), 1)
        # shown once on the terminal, and nowhere else
        self.assertEqual(text.count(tap), 1, text)
        for name in ("report.csv", "failures.csv"):
            p = env.path(name)
            if os.path.exists(p):
                self.assertNotIn(tap, env.read(p))
        self.assertNotIn(tap.encode(), env.journal_bytes())


if __name__ == "__main__":
    unittest.main()
