#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The kiosk's board on a terminal, under tmux.

The real binary runs in a tmux pane (a real terminal) against the
emulator and vauth keys: the pane shows the totals, a row per slot with
its state and user, and the last events; the board is redrawn in place
(the alternate screen: the shell's screen is back afterwards, with the
summary); no PIN is ever on it.  --no-board gives lines on a terminal.
"""

import os
import shlex
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

USERS = ["alice@contoso.example", "dave@contoso.example",
         "carol@contoso.example"]


def tmux(*args):
    return subprocess.run(["tmux"] + list(args), check=True,
                          capture_output=True, text=True).stdout


@unittest.skipIf(shutil.which("tmux") is None, "tmux is not installed")
class Board(unittest.TestCase):
    def start(self, env, *extra):
        env.write("users.csv", "upn\n" + "\n".join(USERS) + "\n")
        self.sock = os.path.join(env.tmp, "tmux.sock")
        script = os.path.join(env.tmp, "run.sh")
        e = env.env(TERM="xterm-256color")
        with open(script, "w") as f:
            # Ctrl+C is for the kiosk: the shell stays to show the exit
            f.write("trap true INT\ncd %s\n" % shlex.quote(env.work))
            for k, v in sorted(e.items()):
                if k.startswith(("PROVISIONING_", "LC_", "PATH", "HOME",
                                 "ASAN_", "UBSAN_", "LSAN_")):
                    f.write("export %s=%s\n" % (k, shlex.quote(v)))
            argv = env.argv("kiosk", "--csv", "users.csv", "--pin", "random",
                            "--pins-out", "pins.csv", *extra)
            f.write("%s 2>%s\necho \"exit=$?\"\nsleep 600\n" % (
                " ".join(shlex.quote(a) for a in argv),
                shlex.quote(os.path.join(env.tmp, "kiosk.err"))))
        tmux("-S", self.sock, "new-session", "-d", "-x", "150", "-y", "40",
             "sh " + shlex.quote(script))
        self.addCleanup(subprocess.run, ["tmux", "-S", self.sock,
                                         "kill-server"],
                        capture_output=True)

    def pane(self):
        return tmux("-S", self.sock, "capture-pane", "-p")

    def wait_pane(self, pred, secs, what):
        end = time.time() + secs
        text = ""
        while time.time() < end:
            text = self.pane()
            if pred(text):
                return text
            time.sleep(0.2)
        self.fail("no %s on the board:\n%s" % (what, text))

    def slot_row(self, text, slot):
        rows = [x for x in text.splitlines() if x.startswith(slot + " ")]
        return rows[0].split() if rows else None

    def test_board_rows_and_totals(self):
        env = e2e.Env(self, name="board")
        self.start(env)
        self.wait_pane(lambda t: "provisioning kiosk" in t and
                       "SLOT" in t, 30, "header")
        env.add_key("padA", presence="delay:3000")
        # the slot's row: its name, the touch, the user
        text = self.wait_pane(
            lambda t: (self.slot_row(t, "padA") or [""])[1:2] == ["touch"],
            30, "padA in touch")
        row = self.slot_row(text, "padA")
        self.assertIn(row[2], USERS)
        self.assertIn("touch the key", text)
        env.add_key("padB")
        text = self.wait_pane(lambda t: "done 2" in t, 60, "two done")
        for slot in ("padA", "padB"):
            self.assertEqual(self.slot_row(text, slot)[1], "done", text)
        self.assertIn("left 1", text)
        self.assertIn("last events:", text)
        # a third user waits for a key: the operator is asked
        self.wait_pane(lambda t: "insert a new security key" in t, 30,
                       "the ask for a key")
        # Ctrl+C: the board gives the screen back
        tmux("-S", self.sock, "send-keys", "C-c")
        text = self.wait_pane(lambda t: "exit=" in t, 60, "the exit")
        self.assertIn("exit=130", text)
        self.assertNotIn("SLOT", text)
        # two of the three users, one passkey each
        self.assertEqual(env.total_added(), 2)

    def test_no_pin_on_the_board(self):
        env = e2e.Env(self, name="board-pin")
        self.start(env)
        for n in ("padC", "padD", "padG"):
            env.add_key(n)
        seen = []
        end = time.time() + 60
        while time.time() < end:
            seen.append(self.pane())
            if "exit=" in seen[-1]:
                break
            time.sleep(0.1)
        self.assertIn("exit=0", seen[-1])
        with open(env.path("pins.csv")) as f:
            rows = f.read().splitlines()[1:]
        self.assertEqual(len(rows), 3)
        for r in rows:
            pin = r.split(",")[-1].strip()
            for s in seen:
                self.assertNotIn(pin, s)

    def test_no_board_gives_lines(self):
        env = e2e.Env(self, name="board-lines")
        self.start(env, "--no-board")
        for n in ("padE", "padF", "padH"):
            env.add_key(n)
        text = self.wait_pane(lambda t: "exit=" in t, 60, "the exit")
        self.assertNotIn("SLOT", text)
        self.assertIn("slot padE: touch", text)


if __name__ == "__main__":
    unittest.main()
