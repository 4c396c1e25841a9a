#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The files a run writes and the state it trusts, against other users.

- Symbolic links planted by another uid in a world-writable sticky
  directory for the report, the failures file, the PIN file and the old
  fixed temporary name (NAME.tmp) are not written through; the run says
  which file and why, and exits 2.
- An output that cannot be written (a full disk, a directory) is an
  error naming the file and errno, exit 2, and no "report: PATH".
- A state directory, a journal or a token cache owned by another uid is
  refused with a message naming the path and its owner (exit 2), also
  when the tool runs as an unprivileged user.
- Two runs on one state directory: the second is turned away at once
  with "another run (pid N) is using STATE" (exit 2), and the first
  enrolls everyone.
- Cells starting with = + - @ come out with a leading ' in the report
  and the failures file, and read back as they were.
- The report is appended: rows of another run (another input, another
  state directory) stay, and a re-run adds no duplicate.
"""

import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

PIN = "27182818"
D = "@contoso.example"
ALICE = "alice" + D
CAROL = "carol" + D
NOBODY = 65534
AS_NOBODY = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
             "--clear-groups"]


def as_nobody(*argv):
    subprocess.run(AS_NOBODY + list(argv), check=True)


def read(path):
    with open(path, "rb") as f:
        return f.read()


@unittest.skipUnless(os.geteuid() == 0, "needs root to act as other uids")
class Files(unittest.TestCase):
    def shared_dir(self, env):
        os.chmod(env.tmp, 0o755)     # for the other uid to get in
        d = os.path.join(env.tmp, "shared")
        os.mkdir(d)
        os.chmod(d, 0o1777)
        return d

    def victim(self, env, name):
        p = os.path.join(env.tmp, name)
        with open(p, "wb") as f:
            f.write(b"precious\n")
        return p

    def test_planted_symlinks(self):
        env = e2e.Env(self, name="files-links")
        key = env.add_key(pin=PIN)
        pe = env.env(E2E_PIN=PIN)
        shared = self.shared_dir(env)
        links = {}
        for name in ("failures.csv", "report.csv", "report.csv.tmp",
                     "pins.csv"):
            v = self.victim(env, "victim-" + name)
            links[name] = (os.path.join(shared, name), v)
            as_nobody("ln", "-s", v, os.path.join(shared, name))
        users = (ALICE, "nobody" + D)

        # failures through another user's link: refused before anything
        r = env.run("enroll", *users, "--pin", "keep", "--pin-env",
                    "E2E_PIN", "--failures", links["failures.csv"][0],
                    "--report", env.path("r1.csv"), env=pe)
        self.assertEqual(r.rc, 2, r)
        self.assertIn("%s is a symbolic link owned by uid %d" % (
            links["failures.csv"][0], NOBODY), r.err)
        self.assertEqual(env.key_commands(key), [])

        # the PIN file likewise (a blank key would get a random PIN)
        blank = env.add_key("blank")
        r = env.run("--device", blank.path, "enroll", CAROL, "--pin",
                    "random", "--pins-out", links["pins.csv"][0],
                    "--failures", env.path("f.csv"), "--report",
                    env.path("r2.csv"))
        self.assertEqual(r.rc, 2, r)
        self.assertIn(links["pins.csv"][0], r.err)
        self.assertIn("symbolic link", r.err)

        # the report (and its old fixed temp name): the users are
        # enrolled, the report is not written through, the run says so
        r = env.run("--device", key.path, "enroll", *users, "--pin",
                    "keep", "--pin-env", "E2E_PIN", "--failures",
                    env.path("f.csv"), "--report", links["report.csv"][0],
                    env=pe)
        self.assertEqual(r.rc, 2, r)
        self.assertIn("cannot write the report: %s is a symbolic link "
                      "owned by uid %d" % (links["report.csv"][0], NOBODY),
                      r.err)
        self.assertNotIn("\nreport: " + links["report.csv"][0], r.err)
        env.assert_one_passkey([ALICE])
        for name, (link, v) in links.items():
            self.assertEqual(read(v), b"precious\n", name)
            self.assertTrue(os.path.islink(link), name)
        self.assertEqual(sorted(os.listdir(shared)), sorted(links))

        # the journal knows alice: a run with a safe report lists her
        r = env.run("--device", key.path, "enroll", ALICE, "--pin", "keep",
                    "--pin-env", "E2E_PIN", "--report",
                    os.path.join(shared, "ok.csv"), env=pe)
        self.assertEqual(r.rc, 0, r)
        rows = env.read_csv(os.path.join(shared, "ok.csv"))
        self.assertEqual([x["user"] for x in rows], [ALICE])
        self.assertEqual(os.stat(os.path.join(shared, "ok.csv")).st_mode
                         & 0o7777, 0o644)

        # a regular file another user put there is not appended to
        as_nobody("touch", os.path.join(shared, "theirs.csv"))
        r = env.run("--device", key.path, "enroll", ALICE, "--pin", "keep",
                    "--pin-env", "E2E_PIN", "--failures",
                    os.path.join(shared, "theirs.csv"), env=pe)
        self.assertEqual(r.rc, 2, r)
        self.assertIn("owned by uid %d" % NOBODY, r.err)
        self.assertEqual(os.path.getsize(os.path.join(shared,
                                                      "theirs.csv")), 0)

    def test_unwritable_outputs(self):
        env = e2e.Env(self, name="files-full")
        key = env.add_key(pin=PIN)
        pe = env.env(E2E_PIN=PIN)
        # a full disk under the failures file: a failed user's row is lost
        r = env.run("--device", key.path, "enroll", ALICE, "nobody" + D,
                    "--pin", "keep", "--pin-env", "E2E_PIN", "--failures",
                    "/dev/full", env=pe)
        self.assertEqual(r.rc, 2, r)
        self.assertIn("cannot write the failures file: /dev/full: No space "
                      "left on device", r.err)
        # a report that is a directory: enrolled, but the run says the
        # report could not be written, and exits 2
        d = env.path("adir")
        os.mkdir(d)
        r = env.run("--device", key.path, "enroll", CAROL, "--pin", "keep",
                    "--pin-env", "E2E_PIN", "--report", d, env=pe)
        self.assertEqual(r.rc, 2, r)
        self.assertIn("cannot write the report: %s: Is a directory" % d,
                      r.err)
        self.assertNotIn("\nreport: " + d, r.err)
        self.assertEqual(os.listdir(d), [])
        env.assert_one_passkey([CAROL])

    def test_foreign_state(self):
        env = e2e.Env(self, name="files-state")
        key = env.add_key(pin=PIN)
        pe = env.env(E2E_PIN=PIN)
        st = env.state_dir
        args = ("--device", key.path, "enroll", ALICE, "--pin", "keep",
                "--pin-env", "E2E_PIN")
        os.chown(st, NOBODY, NOBODY)
        r = env.run(*args, env=pe)
        self.assertEqual(r.rc, 2, r)
        self.assertIn("state directory %s is owned by uid %d (nobody), not "
                      "by you (uid 0)" % (st, NOBODY), r.err)
        self.assertIn("--state-dir", r.err)
        self.assertEqual(env.key_commands(key), [])
        os.chown(st, 0, 0)

        # a journal someone else owns (they could say anyone is done)
        r = env.run(*args, env=pe)
        self.assertEqual(r.rc, 0, r)
        j = os.path.join(st, "journal.sqlite")
        os.chown(j, NOBODY, NOBODY)
        r = env.run(*args, env=pe)
        self.assertEqual(r.rc, 2, r)
        self.assertIn("%s is owned by uid %d (nobody), not by you" % (
            j, NOBODY), r.err)
        os.chown(j, 0, 0)

        # a token cache someone else owns
        tok = os.path.join(st, "tokens.json")
        os.chown(tok, NOBODY, NOBODY)
        r = env.run(*args, env=pe)
        self.assertNotEqual(r.rc, 0, r)
        self.assertIn("token cache owned by someone else", r.err)
        self.assertIn("owned by uid %d (nobody)" % NOBODY, r.err)
        os.chown(tok, 0, 0)

        # run as an unprivileged user: root's state directory is refused
        # even though its mode lets no one else write it
        rootdir = os.path.join(env.tmp, "rootstate")
        os.mkdir(rootdir, 0o755)
        os.chmod(env.tmp, 0o755)
        p = subprocess.run(AS_NOBODY + env.argv("enroll", ALICE),
                           cwd="/", env=env.env(
                               PROVISIONING_STATE_DIR=rootdir),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2, p)
        self.assertIn("state directory %s is owned by uid 0 (root), not by "
                      "you (uid %d)" % (rootdir, NOBODY), p.stderr)

    def test_two_runs_one_state_dir(self):
        cfg = e2e.basic_config()
        many = ["lock%d" % i for i in range(6)]
        cfg["users"] += [e2e.member(u) for u in many]
        env = e2e.Env(self, cfg, name="files-lock")
        key = env.add_key(pin=PIN, presence="delay:400")
        pe = env.env(E2E_PIN=PIN)
        upns = [u + D for u in many]
        first = env.spawn("--device", key.path, "enroll", "--same-key",
                          *upns, "--pin",
                          "keep", "--pin-env", "E2E_PIN", env=pe)
        lock = os.path.join(env.state_dir, "run.lock")

        def holder():
            try:
                return read(lock).strip() == str(first.pid).encode()
            except FileNotFoundError:
                return False
        e2e.wait_for(holder, 30, what="the first run's lock")
        r = env.run("--device", key.path, "enroll", CAROL, "--pin", "keep",
                    "--pin-env", "E2E_PIN", env=pe)
        self.assertEqual(r.rc, 2, r)
        self.assertIn("another run (pid %d) is using %s" % (
            first.pid, env.state_dir), r.err)
        self.assertNotIn("journal", r.err)
        res = env.finish(first, timeout=240)
        self.assertEqual(res.rc, 0, res)
        env.assert_one_passkey(upns)
        self.assertEqual(env.passkeys(CAROL), [])
        self.assertEqual(env.failures(), [])
        self.assertEqual(sorted(x["user"] for x in env.report()),
                         sorted(upns))
        # released: the next run goes ahead
        r = env.run("--device", key.path, "enroll", CAROL, "--pin", "keep",
                    "--pin-env", "E2E_PIN", env=pe)
        self.assertEqual(r.rc, 0, r)

    def test_formula_cells(self):
        cfg = e2e.basic_config()
        cfg["users"] += [
            e2e.member("+plus", displayName="=HYPERLINK(\"http://evil\")"),
            e2e.member("at.sign", displayName="@SUM(1+1)")]
        env = e2e.Env(self, cfg, name="files-formula")
        key = env.add_key(pin=PIN)
        pe = env.env(E2E_PIN=PIN)
        csvf = env.write("in.csv", "userPrincipalName\n+plus%s\n"
                         "at.sign%s\n-dash%s\n+nobody%s\n" % (D, D, D, D))
        args = ("--device", key.path, "enroll", "--same-key", "--csv", csvf,
                "--display-name", "{name}", "--pin", "keep", "--pin-env",
                "E2E_PIN")
        r = env.run(*args, env=pe)
        self.assertEqual(r.rc, 1, r)
        raw = env.read_csv("report.csv", raw=True)
        self.assertEqual(len(raw), 2, (raw, r))
        byu = {x["user"]: x for x in raw}
        self.assertIn("'+plus" + D, byu, raw)
        self.assertEqual(byu["'+plus" + D]["display_name"],
                         "'=HYPERLINK(\"http://evil\")")
        self.assertEqual(byu["at.sign" + D]["display_name"], "'@SUM(1+1)")
        for x in raw:
            for k, v in x.items():
                self.assertFalse(v[:1] in ("=", "+", "-", "@", "\t", "\r"),
                                 (k, v))
        text = read(env.path("failures.csv")).decode()
        self.assertIn(",'-dash" + D + ",csv,", text)
        self.assertIn(",'+nobody" + D + ",resolve,", text)
        for x in env.read_csv("failures.csv", raw=True):
            for k, v in x.items():
                self.assertFalse(v[:1] in ("=", "+", "-", "@", "\t", "\r"),
                                 (k, v))
        # read back (our reader and e2e's) as they were
        rows = env.report()
        self.assertEqual(sorted(x["user"] for x in rows),
                         sorted(["+plus" + D, "at.sign" + D]))
        methods = env.assert_one_passkey(["+plus" + D, "at.sign" + D])
        env.assert_report_matches(rows, methods)
        # a re-run reads the prefixed ids back: no row twice
        r = env.run(*args, env=pe)
        self.assertEqual(r.rc, 1, r)
        env.assert_report_matches(env.report(), methods)

    def test_report_keeps_other_rows(self):
        env = e2e.Env(self, name="files-keep")
        key = env.add_key(pin=PIN)
        pe = env.env(E2E_PIN=PIN)
        other = ("2026-01-01T00:00:00Z,other@fabrikam.example,"
                 "7c9e6679-7425-40de-944b-e07fc1f90ae7,m-other,'-otherCred,"
                 ",,\"Key, old\",station2,attested\n")
        env.write("report.csv", "time,user,user_id,method_id,credential_id,"
                  "aaguid,model,display_name,device,attestation_level\n" +
                  other)
        args = ("--device", key.path, "enroll", "--pin", "keep",
                "--pin-env", "E2E_PIN")
        r = env.run(*args, ALICE, env=pe)
        self.assertEqual(r.rc, 0, r)
        r = env.run(*args, CAROL, env=pe)
        self.assertEqual(r.rc, 0, r)
        # a second state directory (another station), same report
        st2 = os.path.join(env.tmp, "state2")
        shutil.copytree(env.state_dir, st2)
        for f in os.listdir(st2):
            if f.startswith("journal.sqlite"):
                os.unlink(os.path.join(st2, f))
        r = env.run(*args, "helpdesk" + D, env=env.env(
            E2E_PIN=PIN, PROVISIONING_STATE_DIR=st2))
        self.assertEqual(r.rc, 0, r)
        r = env.run(*args, ALICE, CAROL, env=pe)
        self.assertEqual(r.rc, 0, r)
        text = read(env.path("report.csv")).decode()
        self.assertEqual(text.count(other), 1, text)
        rows = env.report()
        self.assertEqual([x["user"] for x in rows],
                         ["other@fabrikam.example", ALICE, CAROL,
                          "helpdesk" + D])
        self.assertEqual(rows[0]["credential_id"], "-otherCred")


if __name__ == "__main__":
    unittest.main(verbosity=2)
