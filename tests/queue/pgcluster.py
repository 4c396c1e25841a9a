#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""A throwaway PostgreSQL cluster for the fleet queue tests.

`Cluster` runs initdb in a temporary directory and starts the server on a
unix socket in that directory only (listen_addresses = ''), as an
unprivileged user: as root, the directory is handed to `nobody` and the
server commands run through runuser; otherwise as the calling user.  The
cluster's superuser is `prov` (trust on the socket: nothing leaves the
temp dir), and `conninfo()` is the libpq keyword string of its database.

As a program it brackets a command:

    pgcluster.py run -- CMD ARGS...

starts a cluster, runs CMD with PROVISIONING_QUEUE, PGHOST, PGPORT,
PGUSER and PGDATABASE set to it, stops the cluster and exits with CMD's
status.  Without PostgreSQL's initdb it prints why and exits 77 (ctest's
SKIP_RETURN_CODE).
"""

import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77
SUPERUSER = "prov"
DBNAME = "provisioning"
RUNAS = "nobody"


def find_bindir():
    """PostgreSQL's server binaries: PG_BINDIR, Debian's, or PATH."""
    cands = []
    if os.environ.get("PG_BINDIR"):
        cands.append(os.environ["PG_BINDIR"])
    cands += sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                    key=lambda p: int(p.split("/")[-2])
                    if p.split("/")[-2].isdigit() else 0, reverse=True)
    for d in cands:
        if os.access(os.path.join(d, "initdb"), os.X_OK):
            return d
    p = shutil.which("initdb")
    return os.path.dirname(p) if p else None


class Unavailable(Exception):
    pass


class Cluster:
    def __init__(self, port=None):
        self.bindir = find_bindir()
        if self.bindir is None:
            raise Unavailable("PostgreSQL's initdb not found (install "
                              "postgresql, or set PG_BINDIR)")
        self.root = os.geteuid() == 0
        self.dir = tempfile.mkdtemp(prefix="provq-pg-")
        os.chmod(self.dir, 0o700)
        self.data = os.path.join(self.dir, "data")
        self.sock = self.dir
        self.port = port or 5432 + (os.getpid() % 20000) + 1
        self.log = os.path.join(self.dir, "server.log")
        self.running = False
        if self.root:
            pw = pwd.getpwnam(RUNAS)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            # the client (root) reaches the socket in the owner's dir
            os.chmod(self.dir, 0o711)

    def _run(self, *argv, check=True, timeout=60):
        cmd = [os.path.join(self.bindir, argv[0])] + list(argv[1:])
        if self.root:
            cmd = ["runuser", "-u", RUNAS, "--"] + cmd
        return subprocess.run(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              check=check, timeout=timeout, cwd=self.dir)

    def start(self):
        try:
            self._run("initdb", "-D", self.data, "-U", SUPERUSER,
                      "-A", "trust", "-E", "UTF8", "--no-locale",
                      "--no-sync")
        except subprocess.CalledProcessError as e:
            raise RuntimeError("initdb failed:\n" + e.stdout)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("listen_addresses = ''\n"
                    "unix_socket_directories = '%s'\n"
                    "port = %d\n"
                    "fsync = off\n"
                    "max_connections = 100\n" % (self.sock, self.port))
        self.pg_ctl_start()
        self._psql_create_db()
        return self

    def pg_ctl_start(self):
        r = self._run("pg_ctl", "-D", self.data, "-l", self.log, "-w",
                      "-t", "30", "start", check=False)
        if r.returncode != 0:
            raise RuntimeError("pg_ctl start failed:\n%s\n%s" %
                               (r.stdout, self.server_log()))
        self.running = True

    def stop(self, mode="fast"):
        if not self.running:
            return
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t",
                  "30", "stop", check=False)
        self.running = False

    def restart(self, pause=0.0):
        self.stop("immediate")
        time.sleep(pause)
        self.pg_ctl_start()

    def _psql_create_db(self):
        self.psql("CREATE DATABASE %s" % DBNAME, db="postgres")

    def psql(self, sql, db=DBNAME):
        """one statement as the superuser; its rows, tab-separated"""
        cmd = [os.path.join(self.bindir, "psql"), "-X", "-q", "-A",
               "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-h",
               self.sock, "-p", str(self.port), "-U", SUPERUSER, "-d",
               db, "-c", sql]
        if not os.access(cmd[0], os.X_OK):
            cmd[0] = shutil.which("psql") or "psql"
        r = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("psql: %s" % r.stderr.strip())
        return [ln.split("\t") for ln in r.stdout.splitlines() if ln]

    def conninfo(self):
        return "host=%s port=%d user=%s dbname=%s" % (
            self.sock, self.port, SUPERUSER, DBNAME)

    def env(self):
        return {"PROVISIONING_QUEUE": self.conninfo(),
                "PGHOST": self.sock, "PGPORT": str(self.port),
                "PGUSER": SUPERUSER, "PGDATABASE": DBNAME}

    def server_log(self):
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""

    def close(self):
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


def started(test):
    """A running cluster for a unittest.TestCase, stopped at its cleanup;
    the test is skipped where PostgreSQL is not installed."""
    try:
        pg = Cluster()
    except Unavailable as e:
        test.skipTest(str(e))
    pg.start()
    test.addCleanup(pg.close)
    return pg


def main(argv):
    if len(argv) < 3 or argv[1] != "run" or argv[2] != "--" or \
            len(argv) < 4:
        sys.stderr.write("usage: pgcluster.py run -- CMD [ARGS...]\n")
        return 2
    try:
        c = Cluster()
    except Unavailable as e:
        print("SKIP: %s" % e)
        return SKIP
    rc = 1
    try:
        c.start()
        env = dict(os.environ)
        env.update(c.env())
        p = subprocess.Popen(argv[3:], env=env)

        def fwd(sig, frame):
            p.send_signal(sig)
        signal.signal(signal.SIGTERM, fwd)
        rc = p.wait()
        if rc != 0:
            sys.stderr.write("--- server log ---\n%s" % c.server_log())
    finally:
        c.close()
    return rc if rc >= 0 else 128 - rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
