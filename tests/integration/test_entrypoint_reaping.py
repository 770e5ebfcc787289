"""Entrypoint mode: foster adopts orphans (as PID 1 and as subreaper) and
reaps every child promptly, even many at once."""
import os
import signal

from conftest import PROBE
from helpers import PROMPT, children_of, wait_report, wait_until, zombies_of


def settled(foster_pid, expected_children):
    """True once foster has no zombie and exactly the expected children."""
    return (not zombies_of(foster_pid)
            and len(children_of(foster_pid)) == expected_children)


def test_orphans_are_reparented_to_foster(runner, reaping_env):
    report = runner.path("orphan")
    foster = runner.start([], [PROBE, "orphan", report], env=reaping_env)
    expected_parent = 1 if runner.mode == "pid1" else foster.popen.pid
    orphan = wait_report(report)
    assert orphan["ppid"] == expected_parent, (
        "the orphan was not re-parented to foster; is foster a subreaper?")
    assert foster.wait() == 0, foster.stderr()
    assert runner.strays() == []


def test_a_thousand_orphans_leave_no_zombie(runner, reaping_env):
    done = runner.path("done")
    foster = runner.start([], [PROBE, "orphans", "1000", "20", done], env=reaping_env)
    wait_until(lambda: os.path.exists(done), 60, what="1000 orphans forked")
    foster_pid = foster.pid
    wait_until(lambda: settled(foster_pid, 1), PROMPT,
               what=f"no zombie left under foster; zombies: "
                    f"{len(zombies_of(foster_pid))}")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()
    assert runner.strays() == []


def test_simultaneous_deaths_of_adopted_children_do_not_hang_foster(runner, reaping_env):
    """200 orphans of foster exit at the same moment: their SIGCHLDs
    coalesce, yet all are reaped and foster keeps working."""
    released = runner.path("released")
    foster = runner.start([], [PROBE, "burst", "200", "hold", released], env=reaping_env)
    wait_until(lambda: os.path.exists(released), PROMPT, what="the release")
    foster_pid = foster.pid
    wait_until(lambda: settled(foster_pid, 1), PROMPT,
               what=f"200 orphans reaped; zombies: {len(zombies_of(foster_pid))}, "
                    f"children: {len(children_of(foster_pid))}")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()
    assert runner.strays() == []


def test_program_exiting_with_200_children_does_not_hang_foster(runner, reaping_env):
    """PROGRAM exits and its 200 children exit with it, at the same moment."""
    status, out, err = runner.run(["--grace", "30s"],
                                  [PROBE, "burst", "200", "exit", "5"],
                                  timeout=PROMPT, env=reaping_env)
    assert status == 5, err
    assert runner.strays() == []
