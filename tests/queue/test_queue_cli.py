#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""`provisioning queue init|add|status|retry|drain|report` against a
throwaway PostgreSQL cluster (pgcluster.py): exit codes and messages for
a database that is unreachable, not initialised or given with a
password; idempotent init and add (also two `queue add` of one CSV at
once); status counts; drain, retry and the fleet report."""

import csv
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcluster  # noqa: E402

SRCDIR = os.environ.get("SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BINDIR = os.environ.get("BINDIR") or os.path.join(SRCDIR, "build")
PROV = os.environ.get("PROVISIONING") or os.path.join(
    BINDIR, "src", "cli", "provisioning")


class QueueCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        try:
            cls.pg = pgcluster.Cluster()
        except pgcluster.Unavailable as e:
            raise unittest.SkipTest(str(e))
        cls.pg.start()
        cls.tmp = tempfile.TemporaryDirectory(prefix="provq-cli-")

    @classmethod
    def tearDownClass(cls):
        cls.pg.close()
        cls.tmp.cleanup()

    def run_prov(self, *args, env=None, queue=True):
        e = {k: v for k, v in os.environ.items()
             if not k.startswith(("PG", "PROVISIONING_"))}
        e["PROVISIONING_STATE_DIR"] = os.path.join(self.tmp.name, "state")
        e["LC_ALL"] = "C"
        if queue:
            e["PROVISIONING_QUEUE"] = self.pg.conninfo()
        e.update(env or {})
        return subprocess.run([PROV] + list(args), capture_output=True,
                              text=True, timeout=60, env=e,
                              cwd=self.tmp.name)

    def status(self):
        r = self.run_prov("queue", "status", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_1_errors(self):
        r = self.run_prov("queue", "status", queue=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("PROVISIONING_QUEUE", r.stderr)
        r = self.run_prov("--queue", "postgresql://prov:hunter2@db/x",
                          "queue", "status", queue=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn(".pgpass", r.stderr)
        self.assertNotIn("hunter2", r.stderr + r.stdout)
        r = self.run_prov("queue", "init", env={
            "PROVISIONING_QUEUE": "host=/nonexistent dbname=x"})
        self.assertEqual(r.returncode, 5)
        self.assertIn("cannot connect to the queue database",
                      r.stderr)
        r = self.run_prov("queue", "status")
        self.assertEqual(r.returncode, 2)
        self.assertIn("queue init", r.stderr)
        r = self.run_prov("queue", "frobnicate")
        self.assertEqual(r.returncode, 2)
        r = self.run_prov("queue", "add")
        self.assertEqual(r.returncode, 2)

    def test_2_flow(self):
        r = self.run_prov("queue", "init")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("was 0", r.stdout)
        r = self.run_prov("queue", "init")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("up to date", r.stdout)
        path = os.path.join(self.tmp.name, "users.csv")
        with open(path, "w") as f:
            f.write("userPrincipalName\n")
            for i in range(200):
                f.write("user%03d@contoso.example\n" % i)
            f.write("not a user\n")
        # two `queue add` of the same CSV at once
        e = {k: v for k, v in os.environ.items()
             if not k.startswith(("PG", "PROVISIONING_"))}
        e["PROVISIONING_QUEUE"] = self.pg.conninfo()
        ps = [subprocess.Popen([PROV, "queue", "add", "--csv", path],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=e,
                               cwd=self.tmp.name) for _ in range(2)]
        outs = [p.communicate(timeout=60) for p in ps]
        for p, (out, err) in zip(ps, outs):
            self.assertEqual(p.returncode, 1, err)   # the bad row
            self.assertIn("not queued", err)
        added = sum(int(o.split()[0]) for o, _ in outs)
        self.assertEqual(added, 200)
        r = self.run_prov("queue", "add", "USER000@contoso.example",
                          "extra@contoso.example")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1 user added", r.stdout)
        s = self.status()
        self.assertEqual(s["total"], 201)
        self.assertEqual(s["states"]["queued"], 201)
        self.assertFalse(s["draining"])
        # a failed user, as a station would record it
        self.pg.psql("UPDATE provisioning_users SET state = 'failed',"
                     " station = 'st1', last_error = 'no key' WHERE"
                     " user_key IN ('user001@contoso.example',"
                     " 'user002@contoso.example')")
        self.pg.psql("UPDATE provisioning_users SET state = 'done',"
                     " station = 'st1', method_id = 'm1',"
                     " credential_id = 'c1' WHERE"
                     " user_key = 'user003@contoso.example'")
        self.pg.psql("INSERT INTO provisioning_stations (name)"
                     " VALUES ('st1')")
        r = self.run_prov("queue", "status")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"failed\s+2")
        self.assertRegex(r.stdout, r"st1\s+0\s+1\s+2")
        r = self.run_prov("queue", "report", "--report", "fleet.csv",
                          "--failures", "fleet-failures.csv")
        self.assertEqual(r.returncode, 1, r.stderr)
        with open(os.path.join(self.tmp.name, "fleet.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), 1)
        self.assertIn("c1", rows[0].values())
        with open(os.path.join(self.tmp.name, "fleet-failures.csv")) as f:
            text = f.read()
        self.assertIn("user001@contoso.example", text)
        self.assertIn("no key (station st1)", text)
        r = self.run_prov("queue", "retry", "user001@contoso.example")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1 failed user back", r.stdout)
        r = self.run_prov("queue", "retry")
        self.assertIn("1 failed user back", r.stdout)
        self.assertEqual(self.status()["states"]["failed"], 0)
        r = self.run_prov("queue", "drain")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(self.status()["draining"])
        r = self.run_prov("queue", "drain", "st1")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.run_prov("queue", "drain", "--resume")
        self.assertEqual(r.returncode, 0, r.stderr)
        s = self.status()
        self.assertFalse(s["draining"])
        self.assertFalse(s["stations"][0]["draining"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
