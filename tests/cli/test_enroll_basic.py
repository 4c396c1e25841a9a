#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""enroll, one user at a time.

- `enroll USER`: exit 0, one passkey that the emulator's python-fido2
  verifier accepted, a report row that matches it; a re-run says
  "skipped (enrolled by an earlier run)" and registers nothing.
- `--dry-run` fetches creationOptions but sends no command to the key
  and registers nothing; `--replace` swaps the passkey this key holds
  for a new one; an exclude hit without --replace is "already
  registered", with no new passkey.
- The seed spellings: `--csv FILE --mode headful --verbose` (PIN typed
  at the terminal, never a pause when stdin is not a terminal) and
  `--automatic-provision` with PROVISIONING_GROUP.
"""

import fcntl
import hashlib
import os
import select
import signal
import sys
import termios
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

PIN = "27182818"
ALICE = "alice@contoso.example"


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Terminal:
    """provisioning with a pty as its controlling terminal (so /dev/tty
    opens) but stdin not a terminal; answers PIN prompts."""

    def __init__(self, env, args, pin, extra_env=None, tag="tty"):
        self.master, slave = os.openpty()
        self.text = ""
        self.pin = pin
        self.prompts = 0
        self.pauses = 0

        def pre():
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            e2e._die_with_parent()

        self.proc = env.spawn(*args, env=env.env(**(extra_env or {})),
                              tag=tag, preexec_fn=pre, pass_fds=(slave,))
        os.close(slave)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        answered = 0
        while True:
            try:
                r, _, _ = select.select([self.master], [], [], 0.2)
                if not r:
                    if self.proc.poll() is not None:
                        break
                    continue
                data = os.read(self.master, 4096)
            except OSError:
                break
            if not data:
                break
            self.text += data.decode(errors="replace")
            asked = self.text.count("PIN for the key at") + \
                self.text.count("Repeat the PIN:")
            while answered < asked:
                os.write(self.master, (self.pin + "\n").encode())
                answered += 1
            self.prompts = answered
            pauses = self.text.count("Press Enter")
            if pauses > self.pauses:
                # a pause would hang the run: record it, then go on
                self.pauses = pauses
                os.write(self.master, b"\n")

    def close(self):
        self.thread.join(10)
        os.close(self.master)


class EnrollBasic(unittest.TestCase):
    def test_one_user_then_already_enrolled(self):
        env = e2e.Env(self, name="one")
        key = env.add_key(pin=PIN)
        pe = env.env(E2E_PIN=PIN)
        r = env.run("enroll", ALICE, "--pin", "keep", "--pin-env", "E2E_PIN",
                    env=pe)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("1 enrolled, 0 failed", r.err)
        methods = env.assert_one_passkey([ALICE])
        m = methods[ALICE]
        # the independent verifier saw a packed basic attestation from
        # an app-only caller on /users/{id}
        v = m["verification"]
        self.assertEqual(v["attestationType"], "basic")
        self.assertEqual(v["path"], "users")
        self.assertEqual(v["caller"], e2e.CLIENT_ID)
        self.assertEqual(m["aaGuid"], "76617574-682d-7465-7374-2d6b65790001")
        # default report in the working directory: the one row is Graph's
        rows = env.report()
        env.assert_report_matches(rows, methods)
        self.assertEqual(rows[0]["user_id"],
                         "44444444-4444-4444-8444-444444444444")
        self.assertEqual(rows[0]["device"], key.path)
        self.assertEqual(rows[0]["aaguid"], m["aaGuid"])
        self.assertEqual(env.failures(), [])
        j = [x for x in env.journal().values()
             if x["object_id"] == "44444444-4444-4444-8444-444444444444"]
        self.assertEqual(len(j), 1)
        self.assertEqual((j[0]["state"], j[0]["method_id"]), ("done",
                                                                m["id"]))
        cmds = env.key_commands(key)
        mc = cmds.count("0x01")
        self.assertEqual(mc, 1)
        # the check that the passkey signs is one silent getAssertion,
        # with no PIN token of its own (its credProtect is 1)
        self.assertEqual(cmds[cmds.index("0x01") + 1:], ["0x02"], cmds)

        # again: skipped (enrolled by an earlier run), the key is not asked, nothing added
        r = env.run("enroll", ALICE, "--pin", "keep", "--pin-env", "E2E_PIN",
                    env=pe)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("skipped (enrolled by an earlier run)", r.err)
        self.assertEqual(env.key_commands(key).count("0x01"), mc)
        self.assertEqual(env.passkeys(ALICE), [m])
        env.assert_report_matches(env.report(), methods)

    def test_dry_run_replace_exclude(self):
        env = e2e.Env(self, name="replace")
        key = env.add_key()             # blank: no PIN yet
        before = sha(key.state)
        ncmd = len(env.key_commands(key))
        regs = env.state()["registrations"]
        pins = env.path("pins.csv")

        # --dry-run: options fetched, the key never spoken to
        r = env.run("enroll", ALICE, "bob@contoso.example", "--dry-run",
                    "--pin", "random", "--pins-out", pins)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("dry run", r.err)
        self.assertEqual(len(env.key_commands(key)), ncmd, "dry run used "
                         "the key")
        self.assertNotIn("hid: init", env.read(key.log))
        self.assertEqual(sha(key.state), before)
        self.assertFalse(os.path.exists(pins))
        self.assertEqual(env.state()["registrations"], regs)
        self.assertEqual(env.total_added(), 0)
        self.assertFalse(os.path.exists(env.path("report.csv")) and
                         env.report())

        # a real enrollment sets a random PIN and registers
        r = env.run("enroll", ALICE, "--pin", "random", "--pins-out", pins)
        self.assertEqual(r.rc, 0, r)
        old = env.assert_one_passkey([ALICE])[ALICE]
        pin = env.read_csv(pins)[0]["pin"]

        # the journal is lost (another station): her creationOptions
        # exclude a credential -> she holds a passkey: skipped, the key
        # not asked
        def lose_journal():
            for f in os.listdir(env.state_dir):
                if f.startswith("journal.sqlite"):
                    os.unlink(os.path.join(env.state_dir, f))
        lose_journal()
        pe = env.env(E2E_PIN=pin)
        mc = env.key_commands(key).count("0x01")
        r = env.run("enroll", ALICE, "--pin", "keep", "--pin-env",
                    "E2E_PIN", env=pe)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("already holds a passkey (1); use --another", r.err)
        self.assertEqual(env.key_commands(key).count("0x01"), mc)
        self.assertEqual(env.passkeys(ALICE), [old])
        self.assertEqual(env.failures(), [])

        # --another: the key's exclude list says it holds the passkey
        # already -> skipped, nothing added
        lose_journal()
        r = env.run("enroll", ALICE, "--another", "--pin", "keep",
                    "--pin-env", "E2E_PIN", env=pe)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("already registered", r.err)
        self.assertEqual(env.passkeys(ALICE), [old])
        self.assertEqual(env.failures(), [])

        # --replace: the old method is removed, a new one registered
        r = env.run("enroll", ALICE, "--replace", "--pin", "keep",
                    "--pin-env", "E2E_PIN", env=pe)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(len(env.passkeys(ALICE)), 1, r)
        new = env.assert_one_passkey([ALICE])[ALICE]
        self.assertNotEqual(new["id"], old["id"])
        self.assertNotEqual(new["credentialId"], old["credentialId"])
        # the report is appended: the replaced passkey's row stays
        rows = env.report()
        self.assertEqual([x["method_id"] for x in rows
                          if x["user"] == ALICE], [old["id"], new["id"]])

        # --replace also applies to a user the journal has as done
        r = env.run("enroll", ALICE, "--replace", "--pin", "keep",
                    "--pin-env", "E2E_PIN", env=pe)
        self.assertEqual(r.rc, 0, r)
        newer = env.assert_one_passkey([ALICE])[ALICE]
        self.assertNotEqual(newer["id"], new["id"])
        self.assertNotIn(pin, r.err + r.out)

    def test_seed_csv_headful_verbose(self):
        env = e2e.Env(self, name="seed")
        env.add_keys(2, pin=PIN)
        csvp = env.write("users.csv", "upn\r\nalice@contoso.example\r\n"
                         "helpdesk@contoso.example\r\n")
        t = Terminal(env, ["--csv", csvp, "--mode", "headful", "--verbose"],
                     PIN)
        r = env.finish(t.proc, timeout=60)
        t.close()
        self.assertEqual(r.rc, 0, "%r\n--- tty\n%s" % (r, t.text))
        self.assertEqual(t.pauses, 0, "headful paused with stdin not a "
                         "terminal:\n" + t.text)
        self.assertEqual(t.prompts, 2, t.text)   # one PIN per key
        self.assertNotIn(PIN, r.err + r.out + t.text)
        methods = env.assert_one_passkey([ALICE, "helpdesk"])
        env.assert_report_matches(env.report(), methods)
        # one key per user, the default: each key made one credential
        self.assertEqual(sorted(x["device"] for x in env.report()),
                         sorted(k.path for k in env.keys.values()))

    def test_seed_csv_no_terminal(self):
        """No terminal at all (a scheduled job): the PIN cannot be asked
        for, so every user fails at once with a failures.csv line that
        says what to do; nothing waits for a key forever."""
        env = e2e.Env(self, name="seednotty")
        key = env.add_key(pin=PIN)
        csvp = env.write("users.csv", "upn\nalice@contoso.example\n"
                         "helpdesk@contoso.example\n")
        p = env.spawn("--csv", csvp, "--mode", "headful", "--verbose",
                      start_new_session=True, tag="notty")
        r = env.finish(p, timeout=60)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("no terminal to ask for the PIN", r.err)
        rows = env.failures()
        self.assertEqual(sorted((x["user"], x["stage"], x["error_code"])
                                for x in rows),
                         [("alice@contoso.example", "key", "no_pin"),
                          ("helpdesk@contoso.example", "key", "no_pin")])
        for x in rows:
            self.assertIn("--pin-env", x["message"])
        self.assertEqual(env.key_commands(key).count("0x01"), 0)
        self.assertEqual(env.total_added(), 0)

        # --automatic-provision the same way: one round of failures, then
        # it stops (another round could not get a PIN either)
        os.unlink(env.path("failures.csv"))
        p = env.spawn("--automatic-provision", "--interval", "1",
                      env=env.env(PROVISIONING_GROUP="Pilot"),
                      start_new_session=True, tag="notty-auto")
        r = env.finish(p, timeout=60)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(sorted((x["user"], x["error_code"])
                                for x in env.failures()),
                         [("alice@contoso.example", "no_pin"),
                          ("dave@contoso.example", "no_pin")])

    def test_seed_automatic_provision(self):
        cfg = e2e.basic_config()
        cfg["users"] += [e2e.member("auto1"), e2e.member("auto2")]
        cfg["groups"].append({"id": "b0000000-0000-4000-8000-0000000000a1",
                              "displayName": "Seed Auto",
                              "members": ["auto1@contoso.example",
                                          "auto2@contoso.example"]})
        env = e2e.Env(self, cfg, name="seedauto")
        env.add_keys(2, pin=PIN)
        t = Terminal(env, ["--automatic-provision"], PIN,
                     extra_env={"PROVISIONING_GROUP": "Seed Auto"})
        try:
            e2e.wait_for(lambda: all(
                len(env.added(u)) >= 1 for k, u in env.users().items()
                if k.startswith("auto")), 60, what="both users enrolled")
            time.sleep(0.5)
        finally:
            if t.proc.poll() is None:
                t.proc.send_signal(signal.SIGINT)
        r = env.finish(t.proc, timeout=30)
        t.close()
        self.assertEqual(r.rc, 130, "%r\n--- tty\n%s" % (r, t.text))
        self.assertEqual(t.prompts, 2, t.text)
        methods = env.assert_one_passkey(["auto1", "auto2"])
        env.assert_report_matches(env.report(), methods)
        self.assertNotIn(PIN, r.err + r.out + t.text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
