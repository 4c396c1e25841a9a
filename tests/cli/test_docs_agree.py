#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The man page, the README and --help describe the same tool.

- every command `provisioning --help` lists has its entry in the man
  page (.It Cm VERB) and is named in the README;
- every option a command's --help shows, and every global option, is in
  the man page (Fl -NAME);
- every environment variable the sources read (PROVISIONING_*, XDG_*)
  is in the man page's ENVIRONMENT section and, unless it is test-only
  (PROVISIONING_TEST_*), in the README's Environment table; and neither
  documents a PROVISIONING_* variable the sources do not read.
"""

import os
import re
import subprocess
import sys
import unittest

SRCDIR = os.environ.get("SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BINDIR = os.environ.get("BINDIR") or os.path.join(SRCDIR, "build")
PROV = os.environ.get("PROVISIONING") or os.path.join(
    BINDIR, "src", "cli", "provisioning")
CODE_DIRS = ("src", "common", "graph", "ctap")


def read(*p):
    with open(os.path.join(SRCDIR, *p), encoding="utf-8") as f:
        return f.read()


def help_of(*args):
    r = subprocess.run([PROV] + list(args) + ["--help"],
                       capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, LC_ALL="C"))
    return r.stdout + r.stderr


def man_section(man, name):
    m = re.search(r"^\.Sh %s\n(.*?)(?=^\.Sh )" % name, man, re.M | re.S)
    return m.group(1) if m else ""


def code_env_vars():
    names = set()
    for d in CODE_DIRS:
        for root, _, files in os.walk(os.path.join(SRCDIR, d)):
            for f in files:
                if f.endswith((".c", ".h")):
                    text = read(root, f)
                    names |= set(re.findall(
                        r'"((?:PROVISIONING|XDG)_[A-Z_]+)"', text))
    return names


class DocsAgree(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.man = read("man", "provisioning.1")
        cls.readme = read("README.md")
        cls.top = help_of()

    def verbs(self):
        m = re.search(r"^commands:\n(.*?)\n\n", self.top, re.M | re.S)
        self.assertIsNotNone(m, self.top)
        return [ln.split()[0] for ln in m.group(1).splitlines()]

    def test_verbs(self):
        verbs = self.verbs()
        self.assertIn("enroll", verbs)
        for v in verbs:
            self.assertTrue(re.search(r"(?m)^\.It (?:Xo\n\.)?Cm %s\b" %
                                      v, self.man), "%s: no man entry" % v)
            self.assertTrue(re.search(r"provisioning %s\b|`%s`" % (v, v),
                                      self.readme),
                            "%s: not in the README" % v)

    def test_options(self):
        flags = set(re.findall(r"(?m)\bFl -([a-z0-9-]+)", self.man))
        seen = 0
        for v in self.verbs() + [None]:
            text = help_of(v) if v else self.top
            for name in set(re.findall(r"(?<![\w-])--([a-z][a-z0-9-]+)",
                                       text)):
                if name == "help":
                    continue
                seen += 1
                self.assertIn(name, flags, "%s --%s: not in the man page"
                              % (v or "global", name))
        self.assertGreater(seen, 40)

    def test_environment(self):
        used = code_env_vars()
        self.assertIn("PROVISIONING_GROUP", used)
        env_sec = man_section(self.man, "ENVIRONMENT")
        self.assertTrue(env_sec)
        man_vars = set(re.findall(r"\b((?:PROVISIONING|XDG)_[A-Z_]+)",
                                  env_sec))
        m = re.search(r"^### Environment\n(.*?)(?=^#)", self.readme,
                      re.M | re.S)
        self.assertIsNotNone(m)
        readme_vars = set(re.findall(r"`((?:PROVISIONING|XDG)_[A-Z_]+)`",
                                     m.group(1)))
        for v in sorted(used):
            self.assertIn(v, man_vars, "%s: not in the man page's "
                          "ENVIRONMENT" % v)
            if not v.startswith("PROVISIONING_TEST_"):
                self.assertIn(v, readme_vars, "%s: not in the README's "
                              "Environment table" % v)
        for v in sorted((man_vars | readme_vars) - used):
            self.assertFalse(v.startswith("PROVISIONING_"),
                             "%s is documented but never read" % v)

    def test_group_variable(self):
        # where PROVISIONING_GROUP applies: the same verbs everywhere
        env_sec = man_section(self.man, "ENVIRONMENT")
        m = re.search(r"\.It Ev PROVISIONING_GROUP\n(.*?)(?=^\.It )",
                      env_sec, re.M | re.S)
        self.assertIsNotNone(m)
        for v in ("auto", "kiosk"):
            self.assertIn("Cm %s" % v, m.group(1))
            self.assertIn("PROVISIONING_GROUP", help_of(v))
        self.assertNotIn("PROVISIONING_GROUP", help_of("enroll"))
        row = [ln for ln in self.readme.splitlines()
               if ln.startswith("| `PROVISIONING_GROUP`")]
        self.assertEqual(len(row), 1)
        self.assertIn("`auto`", row[0])
        self.assertIn("`kiosk`", row[0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
