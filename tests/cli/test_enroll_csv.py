#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""enroll --csv with bad rows.

Two CSV files in the spellings spreadsheets produce (UTF-8 with BOM,
CRLF, quoted commas and quotes; UTF-16 LE with BOM, semicolons, a quoted
semicolon) mixing good rows with an unknown user, a guest, a disabled
account, duplicates and a malformed user: the good rows are enrolled (one
passkey each, in Graph and in the report), every bad row is exactly one
failures.csv line with its stage and code, the exit status is 1, and
failures.csv grows across runs (never truncated, one header), and so
does the report (each enrollment once).  A CSV without a user column
stops at once with exit 2 and a clear message, before any key or Graph
call.

test_batched_resolution: 21 rows are resolved in one $batch of 20 (its
unknown user a failure row, two inner 429s resent in a second batch)
and one lone GET, then creationOptions and the POST each.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

PIN = "16180339"
D = "@contoso.example"


class EnrollCsv(unittest.TestCase):
    def test_file_changed_mid_run(self):
        """The CSV is read as the run goes: a file rewritten under a run
        stops it with the reason (not rows that disagree with what was
        counted), loses nothing, and a re-run enrolls the rest, each
        user once."""
        # more users than the prefetchers take at the start (3 x 20)
        n = 80
        cfg = e2e.basic_config()
        cfg["users"] += [e2e.member("chg%02d" % i) for i in range(n + 1)]
        env = e2e.Env(self, cfg, name="csvchg")
        env.add_key(None, "--max-creds", "200", pin=PIN,
                    presence="delay:100")
        upns = ["chg%02d%s" % (i, D) for i in range(n)]
        path = env.write("users.csv", "userPrincipalName\n" +
                         "\n".join(upns) + "\n")
        pe = env.env(E2E_PIN=PIN)
        args = ("enroll", "--csv", path, "--parallel", "--pin", "keep",
                "--pin-env",
                "E2E_PIN", "--report", env.path("report.csv"),
                "--failures", env.path("failures.csv"))
        p = env.spawn(*args, env=pe)

        def one_done():
            try:
                return any(x.get("state") == "done"
                           for x in env.journal().values())
            except Exception:       # not created yet, or busy
                return False
        e2e.wait_for(lambda: p.poll() is not None or one_done(), 60,
                     what="a first user enrolled")
        # an editor's save: same path, rewritten in place, one more row
        with open(path, "w") as f:
            f.write("userPrincipalName\n" + "\n".join(upns) + "\nchg%02d%s\n"
                    % (n, D))
        r = env.finish(p)
        self.assertEqual(r.rc, 2, r)
        self.assertEqual(r.err.count("changed while it was being read"),
                         1, r)
        self.assertIn("a re-run writes them", r.err)
        done = [u for u, x in env.journal().items()
                if x.get("state") == "done"]
        self.assertGreaterEqual(len(done), 1)
        self.assertLess(len(done), n + 1)
        # the re-run takes the new file from the start: nobody twice
        r = env.run(*args, env=pe)
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey(upns + ["chg%02d%s" % (n, D)])
        self.assertEqual(sorted(x["user"].lower() for x in env.report()),
                         sorted(u.lower() for u in upns +
                                ["chg%02d%s" % (n, D)]))

    def test_bad_rows(self):
        cfg = e2e.basic_config()
        cfg["users"] += [e2e.member("csv1"), e2e.member("csv2"),
                         e2e.member("o'brien")]
        env = e2e.Env(self, cfg, name="csv")
        key = env.add_key(pin=PIN)
        pe = env.env(E2E_PIN=PIN)
        fails = env.path("failures.csv")

        def enroll(path):
            return env.run("enroll", "--csv", path, "--parallel", "--pin",
                           "keep", "--pin-env", "E2E_PIN", "--failures",
                           fails, env=pe)

        # 1: no user column: fatal before anything is touched
        nocol = env.write("nocol.csv", "name,department\nAlice,Sales\n")
        regs = env.state()["requests"]["total"]
        r = enroll(nocol)
        self.assertEqual(r.rc, 2, r)
        self.assertIn("no user column", r.err)
        self.assertIn("userPrincipalName", r.err)
        self.assertEqual(env.key_commands(key), [])
        self.assertEqual(env.state()["requests"]["total"], regs)
        self.assertFalse(os.path.exists(fails))

        # 2: UTF-8 BOM, CRLF, comma, RFC 4180 quoting
        a = ("\ufeffdisplayName,userPrincipalName,department\r\n"
             '"Smith, Alice",alice' + D + ',"Sales, EMEA"\r\n'
             '"Nobody, Known",nobody' + D + ",x\r\n"
             '"Guest, Erin",erin_fabrikam.example#EXT#' + D + ",x\r\n"
             '"Frank, Disabled",frank' + D + ",x\r\n"
             '"Alice again",ALICE' + D + ",x\r\n"
             '"Bad, Row",not a user name,x\r\n'
             '"Hugo ""the"" Helpdesk",helpdesk' + D +
             ',"a, ""quoted"" word"\r\n'
             ",\r\n")                          # blank: skipped silently
        r = enroll(env.write("a.csv", a.encode("utf-8")))
        self.assertEqual(r.rc, 1, r)
        rows = env.failures()
        got = sorted((x["user"].lower(), x["stage"], x["error_code"])
                     for x in rows)
        self.assertEqual(got, sorted([
            ("nobody" + D, "resolve", "user_not_found"),
            ("erin_fabrikam.example#ext#" + D, "resolve", "guest_user"),
            ("frank" + D, "resolve", "account_disabled"),
            ("alice" + D, "csv", "csv_duplicate"),
            ("not a user name", "csv", "csv_invalid_user")]), rows)
        for x in rows:
            self.assertTrue(x["message"], x)
            self.assertTrue(x["time"], x)
        dup = [x for x in rows if x["error_code"] == "csv_duplicate"][0]
        self.assertIn("line 6", dup["message"])
        self.assertIn("line 2", dup["message"])
        good = env.assert_one_passkey(["alice", "helpdesk"])
        for u in ("nobody", "erin_fabrikam.example#EXT#", "frank"):
            self.assertEqual(env.added(env.users()[(u + D).lower()]) if
                             (u + D).lower() in env.users() else [], [])
        env.assert_report_matches(env.report(), good)
        self.assertEqual(env.total_added(), 2)

        # 3: UTF-16 LE with BOM, semicolons, LF, a quoted semicolon; the
        # same failures file: appended, one header, old rows kept
        b = ("upn;note\n"
             "csv1" + D + ';"a;b"\n'
             "o'brien" + D + ";x\n"
             "csv2" + D + ";y\n"
             "CSV1" + D + ";dup\n"
             "ghost" + D + ";z\n")
        r = enroll(env.write("b.csv", b"\xff\xfe" + b.encode("utf-16-le")))
        self.assertEqual(r.rc, 1, r)
        with open(fails, encoding="utf-8") as f:
            text = f.read()
        self.assertEqual(text.count("time,user,stage"), 1, text)
        rows2 = env.failures()
        self.assertEqual(rows2[:len(rows)], rows)
        got = sorted((x["user"].lower(), x["stage"], x["error_code"])
                     for x in rows2[len(rows):])
        self.assertEqual(got, sorted([
            ("csv1" + D, "csv", "csv_duplicate"),
            ("ghost" + D, "resolve", "user_not_found")]), rows2)
        good.update(env.assert_one_passkey(["csv1", "csv2", "o'brien"]))
        self.assertEqual(env.total_added(), 5)
        # the report is appended: the first input's users stay, this
        # input's three are added, each once, with Graph's ids
        env.assert_report_matches(env.report(), good)

        # 4: the first file again: the good rows are done, the bad rows
        # fail again (appended, not replacing the earlier lines)
        r = enroll(env.path("a.csv"))
        self.assertEqual(r.rc, 1, r)
        self.assertIn("skipped (enrolled by an earlier run)", r.err)
        rows3 = env.failures()
        self.assertEqual(rows3[:len(rows2)], rows2)
        self.assertEqual(len(rows3), len(rows2) + 5)
        self.assertEqual(env.total_added(), 5)
        # and adds no report row twice
        env.assert_report_matches(env.report(), good)

    def test_batched_resolution(self):
        cfg = e2e.basic_config()
        upns = ["batch%02d" % i + D for i in range(21)]
        cfg["users"] += [e2e.member(u.split("@")[0]) for u in upns
                         if not u.startswith("batch05")]
        env = e2e.Env(self, cfg, name="csvbatch")
        env.add_keys(2, pin=PIN)
        env.write("users.csv", "upn\n" + "\n".join(upns) + "\n")
        env.emu.set_faults([{"kind": "429", "batch": True, "count": 2,
                             "path": "/users/", "retry_after": 1}])
        r = env.run("enroll", "--csv", env.path("users.csv"), "--parallel",
                    "--pin", "keep", "--pin-env", "E2E_PIN",
                    env=env.env(E2E_PIN=PIN), timeout=180)
        self.assertEqual(r.rc, 1, r)
        got = [(x["user"], x["stage"], x["error_code"])
               for x in env.failures()]
        self.assertEqual(got, [("batch05" + D, "resolve",
                                "user_not_found")], r)
        good = [u for u in upns if not u.startswith("batch05")]
        env.assert_one_passkey([u.split("@")[0] for u in good])
        counts = env.state()["requests"]["counts"]

        def n(prefix):
            return sum(v for k, v in counts.items() if k.startswith(prefix))
        # 20 + 2 resent inner lookups in two batches; the 21st alone
        self.assertEqual(n("POST /v1.0/$batch"), 2, counts)
        self.assertEqual(n("$batch:GET /v1.0/users/{id} 200"), 19, counts)
        self.assertEqual(n("$batch:GET /v1.0/? 404"), 1, counts)
        self.assertEqual(n("$batch:GET /v1.0/? 429"), 2, counts)
        self.assertEqual(n("GET /v1.0/users/{id} "), 1, counts)
        self.assertEqual(n("POST /v1.0/users/{id}/authentication/"
                           "fido2Methods 201"), 20, counts)


if __name__ == "__main__":
    unittest.main(verbosity=2)
