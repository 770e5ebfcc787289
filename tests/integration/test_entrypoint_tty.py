"""Entrypoint mode on a terminal: `foster -- bash -i` gets job control, and
Ctrl-C reaches the foreground job, not foster."""
import os
import re
import select
import shutil
import time

import pytest

from helpers import (PROMPT, comm, descendants, foreground_pgid, is_gone,
                     read_stat, wait_until)

PROMPT_TEXT = "PROMPT> "


class Terminal:
    """The master side of a pty, with expect()."""

    def __init__(self, master):
        self.master = master
        self.buffer = ""
        self.pos = 0

    def send(self, text):
        os.write(self.master, text.encode())

    def expect(self, pattern, timeout=PROMPT):
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            match = regex.search(self.buffer, self.pos)
            if match:
                self.pos = match.end()
                return match
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"terminal: no {pattern!r} within {timeout}s in "
                    f"{self.buffer[self.pos:]!r}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:   # EIO: no process holds the terminal any more
                    chunk = b""
                if not chunk:
                    raise AssertionError(
                        f"terminal closed while waiting for {pattern!r}; "
                        f"got {self.buffer[self.pos:]!r}")
                self.buffer += chunk.decode(errors="replace")


@pytest.fixture
def terminal():
    master, slave = os.openpty()
    yield Terminal(master), slave
    os.close(master)


def test_interactive_shell_has_job_control(runner, terminal, tmp_path):
    bash = shutil.which("bash")
    term, slave = terminal
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "dumb",
           "HOME": str(tmp_path)}
    foster = runner.start([], [bash, "--norc", "--noediting", "-i"],
                          stdin=slave, stdout=slave, stderr=slave, ctty=True,
                          env=env, cwd=str(tmp_path))
    os.close(slave)
    term.expect(r"[$#] $")
    term.send("PS1='PROM''PT> '\n")   # split, so that the echo does not match
    term.expect(PROMPT_TEXT)
    foster_pid = foster.pid

    term.send("sleep 100 &\n")
    term.expect(PROMPT_TEXT)
    term.send("jobs\n")
    term.expect(r"\[1\]\+\s+Running\s+sleep 100 &")
    term.expect(PROMPT_TEXT)

    sleeps = wait_until(
        lambda: [p for p in descendants(foster_pid) if comm(p) == "sleep"],
        PROMPT, what="the background sleep")
    sleep_pid = sleeps[0]
    sleep_pgid = read_stat(sleep_pid)[2]
    term.send("fg\n")
    term.expect(r"sleep 100")
    wait_until(lambda: foreground_pgid(sleep_pid) == sleep_pgid, PROMPT,
               what="sleep to become the foreground job")

    term.send("\x03")
    term.expect(PROMPT_TEXT)
    wait_until(lambda: is_gone(sleep_pid), PROMPT, what="Ctrl-C to kill sleep")
    assert foster.running(), "Ctrl-C reached foster"
    term.send("echo alive $((6 * 7))\n")
    term.expect("alive 42")
    term.expect(PROMPT_TEXT)

    term.send("exit 7\n")
    assert foster.wait() == 7
