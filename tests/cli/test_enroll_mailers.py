#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""PIN letters: --mailers DIR [--print].

- Three users on two blank keys, --pin random --pins-out --parallel: one
  PDF letter per user, 0600 in a 0700 directory the run made; the text
  poppler extracts from each holds its user's UPN, name and AAGUID and
  exactly the PIN pins.csv recorded for that user's key (not the other
  key's); no PIN is anywhere else (report, failures, stdout, stderr with
  -v -v, the journal's bytes).
- --print: a fake lp first on PATH is run once per letter, with the
  letter's path; an lp that fails is a warning naming the letter, and
  the run still exits 0.
- An existing letter of the same name is kept: the new one gets "-2".
- A symbolic link planted at the letter's name is not followed: the user
  is enrolled, the run says "NO PIN LETTER" for them and exits 1, and
  failures.csv has no row (the user did not fail).
- A directory open to others is refused before any key is touched
  (exit 2); --print without --mailers is a usage error.
- kiosk --mailers writes the letter of the key plugged in, with the
  letters' module (cairo) loaded before the first key; without --mailers
  none of cairo is mapped; a program without its module refuses
  --mailers before any key is touched.
"""

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

PIN = "31415926"


def config(prefix, n):
    cfg = e2e.basic_config()
    cfg["users"] += [e2e.member("%s%d" % (prefix, i))
                     for i in range(1, n + 1)]
    return cfg


def pdf_text(path):
    r = subprocess.run(["pdftotext", path, "-"], capture_output=True,
                       timeout=60)
    if r.returncode != 0:
        raise AssertionError("pdftotext %s: %s" % (path, r.stderr))
    return r.stdout.decode()


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def mapped(pid):
    """The file names a running process maps."""
    with open("/proc/%d/maps" % pid) as f:
        return {os.path.basename(ln.split()[-1]) for ln in f
                if len(ln.split()) >= 6}


class Mailers(unittest.TestCase):
    def start(self, prefix, n, name, **keys):
        env = e2e.Env(self, config(prefix, n), name=name)
        upns = ["%s%d@contoso.example" % (prefix, i) for i in range(1, n + 1)]
        env.write("users.csv", "upn\n" + "\n".join(upns) + "\n")
        return env, upns

    def letters(self, env, d="letters"):
        p = env.path(d)
        return {f: os.path.join(p, f) for f in sorted(os.listdir(p))}

    def fake_lp(self, env, fail=False):
        """An lp first on PATH that appends its argv, one per line."""
        bindir = os.path.join(env.tmp, "bin")
        os.makedirs(bindir, exist_ok=True)
        log = os.path.join(env.tmp, "lp.log")
        with open(os.path.join(bindir, "lp"), "w") as f:
            f.write("#!/bin/sh\n"
                    "printf '%%s\\n' \"$PWD\" \"$@\" >> '%s'\n"
                    "echo 'request id is fake-1 (1 file(s))'\n"
                    "exit %d\n" % (log, 1 if fail else 0))
        os.chmod(os.path.join(bindir, "lp"), 0o700)
        return env.env(PATH=bindir + ":" + os.environ.get("PATH", "")), log

    def test_random_pins_letters_and_no_leaks(self):
        env, upns = self.start("mail", 3, "mailers")
        keys = env.add_keys(2, presence="delay:50")
        r = env.run("-v", "-v", "enroll", "--csv", "users.csv",
                    "--pin", "random", "--pins-out", "pins.csv",
                    "--mailers", "letters", "--parallel")
        self.assertEqual(r.rc, 0, r)
        methods = env.assert_one_passkey(upns)
        rows = env.report()
        env.assert_report_matches(rows, methods)
        self.assertIn("PIN letters: 3 in letters", r.err)

        pins = {x["device"]: x["pin"] for x in env.read_csv("pins.csv")}
        self.assertEqual(sorted(pins), sorted(k.path for k in keys))
        self.assertEqual(len(set(pins.values())), 2, pins)
        self.assertEqual(mode(env.path("letters")), 0o700)
        files = self.letters(env)
        self.assertEqual(len(files), 3, files)
        byuser = {}
        for f, p in files.items():
            self.assertTrue(stat.S_ISREG(os.lstat(p).st_mode), f)
            self.assertEqual(mode(p), 0o600, f)
            self.assertTrue(f.endswith(".pdf"), f)
            with open(p, "rb") as fh:
                self.assertEqual(fh.read(5), b"%PDF-", f)
            text = pdf_text(p)
            who = [u for u in upns if u in text]
            self.assertEqual(len(who), 1, (f, text))
            self.assertNotIn(who[0], byuser, "two letters for %s" % who[0])
            self.assertTrue(f.startswith(who[0] + "-"), f)
            byuser[who[0]] = text
        self.assertEqual(sorted(byuser), sorted(upns))
        for row in rows:
            text = byuser[row["user"]]
            pin = pins[row["device"]]
            other = [x for x in pins.values() if x != pin]
            self.assertIn(pin, text.split(), row["user"])
            for o in other:
                self.assertNotIn(o, text, row["user"])
            self.assertIn(row["aaguid"], text)
            self.assertIn(row["user"].split("@")[0].title(), text)
            self.assertIn(row["device"].rsplit("/", 1)[1], text)  # slot

        blobs = {"stdout": r.out, "stderr": r.err,
                 "journal": env.journal_bytes().decode("latin-1")}
        for name in ("report.csv", "failures.csv"):
            if os.path.exists(env.path(name)):
                blobs[name] = env.read(env.path(name))
        leaks = [(w, p) for p in pins.values() for w, t in blobs.items()
                 if p in t]
        self.assertEqual(leaks, [])

    def test_print(self):
        env, upns = self.start("prn", 2, "mailprint")
        env.add_key(pin=PIN)
        penv, log = self.fake_lp(env)
        penv["E2E_PIN"] = PIN
        r = env.run("enroll", "--csv", "users.csv", "--same-key", "--pin",
                    "keep", "--pin-env", "E2E_PIN", "--mailers", "letters",
                    "--print", env=penv)
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey(upns)
        files = self.letters(env)
        self.assertEqual(len(files), 2, files)
        # each call: its cwd, then its arguments (the letter alone)
        calls = env.read(log).splitlines()
        self.assertEqual(len(calls), 4, calls)
        printed = sorted(os.path.realpath(os.path.join(calls[i],
                                                       calls[i + 1]))
                         for i in range(0, 4, 2))
        self.assertEqual(printed, sorted(os.path.realpath(p)
                                         for p in files.values()))
        for p in files.values():
            self.assertIn(PIN, pdf_text(p))
        self.assertNotIn("request id", r.out)
        self.assertNotIn(PIN, r.out + r.err)

        # an lp that fails: a warning naming the letter; the run is fine
        env2, upns2 = self.start("prf", 1, "mailprintfail")
        env2.add_key(pin=PIN)
        fenv, log2 = self.fake_lp(env2, fail=True)
        fenv["E2E_PIN"] = PIN
        r = env2.run("enroll", upns2[0], "--pin", "keep", "--pin-env",
                     "E2E_PIN", "--mailers", "letters", "--print", env=fenv)
        self.assertEqual(r.rc, 0, r)
        (f,) = self.letters(env2)
        self.assertRegex(r.err, r"PIN letter \S*%s was not printed: lp "
                         r"exited with status 1" % f.replace(".", r"\."))
        self.assertIn("1 PIN letter not printed", r.err)

    def test_existing_letter_kept(self):
        env, (upn,) = self.start("old", 1, "mailold")
        env.add_key(pin=PIN)
        d = env.path("letters")
        os.mkdir(d, 0o700)
        name = "%s-%s.pdf" % (upn, time.strftime("%Y-%m-%d"))
        with open(os.path.join(d, name), "wb") as f:
            f.write(b"an earlier letter\n")
        r = env.run("enroll", upn, "--pin", "keep", "--pin-env", "E2E_PIN",
                    "--mailers", "letters", env=env.env(E2E_PIN=PIN))
        self.assertEqual(r.rc, 0, r)
        with open(os.path.join(d, name), "rb") as f:
            self.assertEqual(f.read(), b"an earlier letter\n")
        files = self.letters(env)
        new = name[:-4] + "-2.pdf"
        self.assertEqual(sorted(files), sorted([name, new]))
        self.assertIn(PIN, pdf_text(files[new]))
        self.assertEqual(mode(files[new]), 0o600)

    def test_symlink_refused_user_still_enrolled(self):
        env, (upn,) = self.start("lnk", 1, "maillink")
        env.add_key(pin=PIN)
        d = env.path("letters")
        os.mkdir(d, 0o700)
        victim = os.path.join(env.tmp, "victim")
        with open(victim, "w") as f:
            f.write("keep\n")
        name = "%s-%s.pdf" % (upn, time.strftime("%Y-%m-%d"))
        os.symlink(victim, os.path.join(d, name))
        r = env.run("enroll", upn, "--pin", "keep", "--pin-env", "E2E_PIN",
                    "--mailers", "letters", env=env.env(E2E_PIN=PIN))
        self.assertEqual(r.rc, 1, r)
        self.assertRegex(r.err, r"%s: enrolled, but NO PIN LETTER: .*"
                         r"symbolic link" % upn)
        self.assertIn("1 enrolled user got NO PIN LETTER", r.err)
        self.assertIn("1 enrolled, 0 failed", r.err)
        env.assert_one_passkey([upn])
        self.assertEqual(env.failures(), [])
        with open(victim) as f:
            self.assertEqual(f.read(), "keep\n")
        self.assertEqual(os.listdir(d), [name])
        self.assertNotIn(PIN, r.out + r.err)

    def test_unsafe_dir_refused(self):
        env, (upn,) = self.start("bad", 1, "mailbad")
        k = env.add_key(pin=PIN)
        d = env.path("letters")
        os.mkdir(d)
        os.chmod(d, 0o755)
        r = env.run("enroll", upn, "--pin", "keep", "--pin-env", "E2E_PIN",
                    "--mailers", "letters", env=env.env(E2E_PIN=PIN))
        self.assertEqual(r.rc, 2, r)
        self.assertRegex(r.err, r"--mailers: letters: open to group or "
                         r"others.*chmod 700")
        self.assertEqual(env.total_added(), 0)
        self.assertEqual(env.key_commands(k).count("0x01"), 0)
        self.assertEqual(os.listdir(d), [])
        r = env.run("enroll", upn, "--print")
        self.assertEqual(r.rc, 2, r)
        self.assertIn("--print goes with --mailers", r.err)

    def test_kiosk(self):
        env, (upn,) = self.start("kio", 1, "mailkiosk")
        p = env.spawn("kiosk", "--csv", "users.csv", "--pin", "random",
                      "--pins-out", "pins.csv", "--mailers", "letters")
        time.sleep(0.5)
        # the letters' module is loaded before the first key
        libs = mapped(p.pid)
        self.assertIn("letter.so", libs)
        self.assertTrue(any(x.startswith("libcairo.so") for x in libs), libs)
        env.add_key("slot7")
        r = env.finish(p, timeout=60)
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey([upn])
        (pin,) = [x["pin"] for x in env.read_csv("pins.csv")]
        files = self.letters(env)
        self.assertEqual(len(files), 1, files)
        text = pdf_text(list(files.values())[0])
        self.assertIn(upn, text)
        self.assertIn(pin, text.split())
        self.assertIn("slot7", text)

    def test_cairo_only_with_letters(self):
        """A run without letters maps none of cairo's libraries."""
        env, (upn,) = self.start("nocairo", 1, "mailnone")
        p = env.spawn("kiosk", "--csv", "users.csv", "--pin", "random",
                      "--pins-out", "pins.csv")
        time.sleep(0.5)
        libs = mapped(p.pid)
        p.send_signal(signal.SIGINT)
        env.finish(p, timeout=60)
        self.assertIn("libfido2.so.1", " ".join(libs))
        self.assertEqual([x for x in libs if x == "letter.so" or
                          x.startswith(("libcairo", "libpixman",
                                        "libfontconfig", "libX11"))], [])

    def test_module_missing(self):
        """A program without its module refuses --mailers before any key."""
        env, (upn,) = self.start("nomod", 1, "mailnomod")
        k = env.add_key(pin=PIN)
        lone = os.path.join(env.tmp, "bin", "provisioning")
        os.makedirs(os.path.dirname(lone), exist_ok=True)
        shutil.copy(e2e.PROVISIONING, lone)
        argv = env.argv("enroll", upn, "--pin", "keep", "--pin-env",
                        "E2E_PIN", "--mailers", "letters")
        argv[0] = lone
        r = subprocess.run(argv, cwd=env.work, capture_output=True,
                           env=env.env(E2E_PIN=PIN), timeout=60)
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 2, err)
        self.assertRegex(err, r"--mailers: cannot load the letter module: "
                         r".*letter\.so.*reinstall the package")
        self.assertEqual(err.count("letter module"), 1, err)
        self.assertEqual(env.total_added(), 0)
        self.assertEqual(env.key_commands(k).count("0x01"), 0)
        self.assertFalse(os.path.exists(env.path("letters")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
