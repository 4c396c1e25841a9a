#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Where an enroll run's time went, from its journal's transitions.

    /usr/bin/python3 bench/timeline.py STATE_DIR/journal.sqlite [KEYS]

The journal stamps every state change (ms).  Per user:
  prefetch  pending -> options_fetched      (GET user + GET creationOptions)
  key       options_fetched -> key_touched  (ready-queue wait + key work)
  post      key_touched -> done             (post-queue wait + POST)
and, over the run, how many users sat in each stage (Little's law:
time-weighted mean).  'key' includes the wait in the ready queue, so
with K keys always busy it holds >= K users; fewer means the keys
starved.  Per device: the interval between two credentials of a key.
"""

import sqlite3
import statistics
import sys
from datetime import datetime


def ms(at):
    return datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() * 1e3


def main():
    db = sqlite3.connect(sys.argv[1])
    keys = int(sys.argv[2]) if len(sys.argv) > 2 else None
    t = {}
    for uid, at, to in db.execute(
            "SELECT user_id, at, to_state FROM transitions ORDER BY id"):
        t.setdefault(uid, {})[to] = ms(at)
    dev = dict(db.execute("SELECT user_id, device FROM enrollments"))
    users = [u for u, s in t.items() if "done" in s and "pending" in s]
    if not users:
        print("no completed users in the journal")
        return 1
    t0 = min(t[u]["pending"] for u in users)
    t1 = max(t[u]["done"] for u in users)
    stages = [("prefetch", "pending", "options_fetched"),
              ("  resolve", "pending", "resolved"),
              ("  options", "resolved", "options_fetched"),
              ("key", "options_fetched", "key_touched"),
              ("post", "key_touched", "done")]
    print("%d users in %.1f s (first pending to last done)" % (
        len(users), (t1 - t0) / 1e3))
    print("%-10s %8s %8s %8s %8s %10s" % ("stage", "mean ms", "p50",
                                          "p95", "max", "in stage"))
    for name, a, b in stages:
        d = sorted(t[u][b] - t[u][a] for u in users)
        p95 = d[min(len(d) - 1, int(0.95 * len(d)))]
        # Little's law: mean number of users in the stage
        occ = sum(d) / (t1 - t0)
        print("%-10s %8.1f %8.1f %8.1f %8.1f %10.2f" % (
            name, statistics.mean(d), statistics.median(d), p95, d[-1],
            occ))
    # steady state: the middle 80% of completions
    done = sorted(t[u]["done"] for u in users)
    lo, hi = done[len(done) // 10], done[len(done) * 9 // 10]
    if hi > lo:
        print("steady-state rate (middle 80%% of completions): %.0f "
              "users/min" % ((len(done) * 8 // 10) * 60e3 / (hi - lo)))
    first = min(t[u]["key_touched"] for u in users)
    print("first credential %.0f ms after start; last done %.0f ms after "
          "the last credential" % (
              first - t0, t1 - max(t[u]["key_touched"] for u in users)))
    per = {}
    for u in users:
        per.setdefault(dev.get(u), []).append(t[u]["key_touched"])
    gaps = []
    for d, v in per.items():
        v.sort()
        gaps += [b - a for a, b in zip(v, v[1:])]
    if gaps:
        gaps.sort()
        print("per key: %d keys, %.0f users each; interval between two "
              "credentials mean %.0f ms, p50 %.0f, p95 %.0f" % (
                  len(per), len(users) / len(per), statistics.mean(gaps),
                  statistics.median(gaps),
                  gaps[min(len(gaps) - 1, int(0.95 * len(gaps)))]))
    if keys:
        kd = sum(t[u]["key_touched"] - t[u]["options_fetched"]
                 for u in users)
        print("keys busy at most %.0f%% (time users spent in 'key' / "
              "(%d keys x run time); the rest the keys starved)" % (
                  100 * kd / (keys * (t1 - t0)), keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
