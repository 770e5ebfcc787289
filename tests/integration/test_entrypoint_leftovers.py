"""Entrypoint mode: when PROGRAM exits, what it left behind gets SIGTERM, then
SIGKILL after --grace; foster exits with PROGRAM's status once nothing is
left, and does not hold a descriptor open in the meantime."""
import errno
import os
import time

import pytest

from conftest import PROBE
from helpers import PROMPT, is_gone, parse_keyed, read_text, wait_until

SECOND = 1_000_000_000


def leftover_info(path):
    return wait_until(lambda: parse_keyed(path), PROMPT,
                      what="PROGRAM's report of its leftover")


def term_times(path):
    text = read_text(path + ".term") or ""
    return [int(l.split()[1]) for l in text.split("\n")[:-1]]


@pytest.mark.parametrize("grace_arg, grace", [("1500ms", 1.5), (None, 3.0)])
def test_leftover_gets_sigterm_then_sigkill_after_grace(runner, reaping_env, grace_arg, grace):
    if grace_arg is None and runner.mode == "pid1":
        pytest.skip("the default grace is checked once, as subreaper")
    info_path = runner.path("leftover")
    args = ["--grace", grace_arg] if grace_arg else []
    foster = runner.start(args, [PROBE, "spawn-and-exit", info_path, "record", "7"], env=reaping_env)
    info = leftover_info(info_path)
    status = foster.wait(PROMPT + grace)
    exited = time.monotonic_ns()
    terms = term_times(info_path)
    assert status == 7, foster.stderr()
    assert terms, "the leftover never got SIGTERM"
    assert terms[0] - info["exit"] < 2 * SECOND, "SIGTERM came late"
    killed_after = (exited - terms[0]) / SECOND
    assert killed_after >= grace * 0.95, (
        f"foster was done {killed_after:.2f}s after SIGTERM, before --grace {grace}s")
    assert killed_after < grace + 3, f"SIGKILL came {killed_after:.2f}s after SIGTERM"
    if runner.mode == "subreaper":
        assert is_gone(info["leftover"])
    assert runner.strays() == [], "foster exited leaving processes behind"


def test_leftover_that_exits_on_sigterm_lets_foster_exit_at_once(runner, reaping_env):
    info_path = runner.path("leftover")
    foster = runner.start(["--grace", "30s"],
                          [PROBE, "spawn-and-exit", info_path, "exit", "3"], env=reaping_env)
    info = leftover_info(info_path)
    status = foster.wait(PROMPT)
    took = (time.monotonic_ns() - info["exit"]) / SECOND
    assert status == 3, foster.stderr()
    assert took < 5, f"foster took {took:.2f}s although the leftover exited on SIGTERM"
    assert runner.strays() == []


def test_inherited_pipe_reaches_eof_while_foster_waits_out_grace(runner, reaping_env, tmp_path):
    """A pipe handed to foster as fd 3 (opened by a shell in front of foster,
    so that unshare does not hold it too) is at EOF once PROGRAM exited,
    although foster still waits for a leftover that ignores SIGTERM."""
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        info_path = runner.path("leftover")
        wrapper = ["/bin/sh", "-c", f'exec "$@" 3>"{fifo}"', "sh"]
        foster = runner.start(["--grace", "4s"],
                              [PROBE, "spawn-and-exit", info_path, "ignore", "0"],
                              wrapper=wrapper, env=reaping_env)
        leftover_info(info_path)

        def at_eof():
            try:
                return os.read(reader, 4096) == b""
            except OSError as e:
                if e.errno == errno.EAGAIN:
                    return False
                raise
        wait_until(at_eof, 3, what="EOF on the pipe handed to foster")
        assert foster.running(), "foster did not wait out --grace"
        assert foster.wait(PROMPT) == 0, foster.stderr()
        assert runner.strays() == []
    finally:
        os.close(reader)


def test_stopped_leftover_is_continued_so_that_sigterm_ends_it(runner, reaping_env):
    """A stopped process does not act on SIGTERM until continued: foster
    must not leave it to SIGKILL at the end of --grace."""
    info_path = runner.path("leftover")
    foster = runner.start(["--grace", "30s"],
                          [PROBE, "spawn-and-exit", info_path, "stop", "4"], env=reaping_env)
    info = leftover_info(info_path)
    status = foster.wait(PROMPT)
    took = (time.monotonic_ns() - info["exit"]) / SECOND
    assert status == 4, foster.stderr()
    assert took < 5, f"the stopped leftover lasted {took:.2f}s"
    assert runner.strays() == []
