#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""What the shared libraries alone cost at exec: the floor under
provisioning's start-up and resident memory.

Builds programs whose main() only reads its own /proc/self/status, each
linked (--no-as-needed) with a growing share of provisioning's DT_NEEDED
libraries, and spawns each RUNS times.  For each it prints the objects
mapped, the median wall time of a spawn (exec, loading, relocation,
constructors, exit), and the RSS when main() runs, anonymous and mapped
files.  The last row is `provisioning --version` itself (its RSS read at
exit_group under gdb, when gdb is there).  Never fails on time.

    /usr/bin/python3 bench/libcost.py           RUNS=40
    BUILD=dir /usr/bin/python3 bench/libcost.py the provisioning of dir
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROG = r"""
#include <stdio.h>
#include <string.h>
int
main(void)
{
	char	line[256];
	FILE	*f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return (1);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0 ||
		    strncmp(line, "RssAnon:", 8) == 0 ||
		    strncmp(line, "RssFile:", 8) == 0)
			fputs(line, stdout);
	fclose(f);
	return (0);
}
"""

# provisioning's own DT_NEEDED, without libcurl and libpq, then with each
BASE = ["sqlite3", "fido2", "cbor", "hidapi-hidraw", "ssl", "crypto",
        "jansson"]
SETS = [
    ("libc only", []),
    ("provisioning's libraries but libcurl and libpq", BASE),
    ("those and libcurl", BASE + ["curl"]),
    ("those, libcurl and libpq (provisioning's set)", BASE + ["curl", "pq"]),
]


def kb(status, field):
    for line in status.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def objects(path):
    out = subprocess.run(["ldd", path], capture_output=True,
                         text=True).stdout
    return sum(1 for line in out.splitlines() if "=>" in line or
               line.strip().startswith("/"))


def spawn_ms(argv, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


def rss_at_exit(argv):
    """RSS at exit_group, read by gdb from /proc; None without gdb."""
    if shutil.which("gdb") is None:
        return None
    py = ("python import gdb; pid = gdb.selected_inferior().pid; "
          "print(open('/proc/%d/status' % pid).read())")
    out = subprocess.run(["gdb", "-q", "-batch", "-ex",
                          "catch syscall exit_group", "-ex", "run",
                          "-ex", py, "--args"] + argv,
                         capture_output=True, text=True).stdout
    return out if "RssAnon" in out else None


def row(name, nobj, ms, status):
    def mb(f):
        v = kb(status, f) if status else None
        return "%.1f" % (v / 1024.0) if v is not None else "?"
    print("| %s | %d | %.1f | %s | %s | %s |" % (
        name, nobj, ms, mb("VmRSS"), mb("RssAnon"), mb("RssFile")),
        flush=True)


def main():
    runs = int(os.environ.get("RUNS", "40"))
    b = os.environ.get("BUILD", "build")
    if not os.path.isabs(b):
        b = os.path.join(TOP, b)
    prov = os.path.join(b, "src", "cli", "provisioning")
    work = tempfile.mkdtemp(prefix="bench-libcost.")
    try:
        src = os.path.join(work, "p.c")
        with open(src, "w") as f:
            f.write(PROG)
        print("# %s; %s; median of %d spawns each" % (
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            os.uname().release, runs))
        print()
        print("| program | objects mapped | spawn ms | RSS MB | anonymous MB "
              "| mapped files MB |")
        print("|---|---:|---:|---:|---:|---:|")
        for i, (name, libs) in enumerate(SETS):
            exe = os.path.join(work, "p%d" % i)
            subprocess.run(["cc", "-O2", "-o", exe, src,
                            "-Wl,--no-as-needed"] +
                           ["-l" + x for x in libs], check=True)
            st = subprocess.run([exe], capture_output=True,
                                text=True).stdout
            row(name, objects(exe), spawn_ms([exe], runs), st)
        if os.access(prov, os.X_OK):
            argv = [prov, "--version"]
            row("`provisioning --version`", objects(prov),
                spawn_ms(argv, runs), rss_at_exit(argv))
        else:
            print("(no %s: build it, or set BUILD)" % prov)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
