"""Service-runner mode: restart policies, backoff, the start limit, `fatal`,
on_fatal = "shutdown" and main = true."""
import signal

import pytest

from ctl_helpers import service, wait_answering, wait_service
from helpers import PROMPT, wait_until
from svc_helpers import (NOW, lines, q, start, state_logged, stays_false,
                         times, trap_service, wait_file, wait_log)


def control_socket(runner, foster):
    """The control socket of the foster the runner started last (svc_helpers
    start gives each its own), once foster answers on it: for what
    `fosterctl status` shows."""
    sock = str(runner.tmp / f"control{runner.count}.sock")
    wait_answering(foster, sock)
    return sock


def runs_of(path):
    return len(lines(path))


@pytest.mark.parametrize("policy, end, extra, restarts", [
    ("no", "exit 0", "", False),
    ("no", "exit 3", "", False),
    ("on-failure", "exit 0", "", False),
    ("on-failure", "exit 3", "", True),
    ("on-failure", "kill -USR1 $$$$", "", True),
    ("on-failure", "exit 3", "success_exit_codes = [0, 3]", False),
    (None, "exit 0", "", False),   # the default is on-failure
    (None, "exit 3", "", True),
    ("always", "exit 0", "", True),
    ("always", "exit 3", "", True),
], ids=["no-success", "no-failure", "on-failure-success", "on-failure-failure",
        "on-failure-signal", "on-failure-success-code", "default-success",
        "default-failure", "always-success", "always-failure"])
def test_restart_policy(plain_runner, policy, end, extra, restarts):
    runs = plain_runner.path("runs")
    restart = f"restart = {q(policy)}" if policy else ""
    foster, _ = start(plain_runner, f"""
        [services.svc]
        command = {q(f"echo run >> {runs}; {end}")}
        {restart}
        {extra}
        restart_delay = "50ms"
        start_limit_burst = 100
        """)
    wait_file(runs)
    if restarts:
        wait_until(lambda: runs_of(runs) >= 3, PROMPT,
                   what=f"3 runs of the service; stderr: {foster.stderr()!r}")
    else:
        wait_log(foster, state_logged("svc", "exited"))
        # Ten times the restart delay: a restart would have come by now.
        stays_false(lambda: runs_of(runs) > 1, 0.5,
                    f"the service was restarted; stderr: {foster.stderr()!r}")
    assert foster.running(), foster.stderr()
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_backoff_doubles_from_restart_delay_up_to_the_cap(plain_runner):
    starts = plain_runner.path("starts")
    foster, _ = start(plain_runner, f"""
        [services.crash]
        command = {q(f"echo {NOW} >> {starts}; exit 1")}
        restart = "always"
        restart_delay = "100ms"
        restart_delay_max = "400ms"
        min_uptime = "10s"
        start_limit_burst = 100
        start_limit_interval = "60s"
        """)
    wait_until(lambda: len(times(starts)) >= 7, PROMPT,
               what=f"7 starts; stderr: {foster.stderr()!r}")
    t = times(starts)[:7]
    gaps = [b - a for a, b in zip(t, t[1:])]
    expected = [0.1, 0.2, 0.4, 0.4, 0.4, 0.4]
    shown = f"gaps between starts {[round(g, 3) for g in gaps]}, expected about {expected}"
    # A delay is never cut short, so each gap is at least its delay: the
    # doubling shows. A loaded machine only makes gaps longer, so the cap is
    # checked on the last three together, with seconds of room: uncapped
    # (0.8, 1.6, 3.2 s) they would take 5.6 s, capped 1.2 s.
    for gap, want in zip(gaps, expected):
        assert gap >= want * 0.9, shown
    assert sum(gaps[3:]) <= sum(expected[3:]) + 2.0, shown
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_run_longer_than_min_uptime_resets_the_backoff(plain_runner):
    """Each run lasts 0.4 s, longer than min_uptime: every delay is
    restart_delay (0.3 s), never doubled (0.3, 0.6, 1.2, 2.4 s), so the
    starts are 0.7 s apart (doubled: 0.7, 1.0, 1.6, 2.8 s)."""
    starts = plain_runner.path("starts")
    foster, _ = start(plain_runner, f"""
        [services.slow]
        command = {q(f"echo {NOW} >> {starts}; sleep 0.4; exit 1")}
        restart_delay = "300ms"
        min_uptime = "300ms"
        start_limit_burst = 100
        """)
    wait_until(lambda: len(times(starts)) >= 5, PROMPT,
               what=f"5 starts; stderr: {foster.stderr()!r}")
    t = times(starts)[:5]
    gaps = [b - a for a, b in zip(t, t[1:])]
    shown = f"gaps {[round(g, 3) for g in gaps]}, expected about 0.7 s each"
    # Never shorter than run + delay; a loaded machine only lengthens a gap,
    # so the bound above leaves 1.5 s of room and still tells a doubled
    # fourth delay (2.8 s) from a reset one.
    for gap in gaps:
        assert 0.65 <= gap <= 0.7 + 1.5, shown
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_start_limit_makes_the_service_fatal(plain_runner):
    starts = plain_runner.path("starts")
    alive = plain_runner.path("alive")
    foster, _ = start(plain_runner, f"""
        [services.crash]
        command = {q(f"echo {NOW} >> {starts}; exit 1")}
        restart = "always"
        restart_delay = "20ms"
        restart_delay_max = "20ms"
        start_limit_burst = 3
        start_limit_interval = "1h"

        [services.other]
        command = {q(f"echo {NOW} > {alive}; exec sleep 1000")}
        """)
    # An hour: however slowly the machine starts them (under valgrind a start
    # took seconds), all three fall within it.
    sock = control_socket(plain_runner, foster)
    wait_service(sock, "crash", lambda s: s["state"] == "fatal", what="crash to be fatal")
    stays_false(lambda: len(times(starts)) > 3 or service(sock, "crash")["state"] != "fatal", 0.5,
                f"restarted after going fatal; stderr: {foster.stderr()!r}")
    assert len(times(starts)) == 3, foster.stderr()
    # on_fatal defaults to "ignore": foster and the other service go on.
    assert foster.running(), foster.stderr()
    wait_file(alive)
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_program_that_cannot_be_executed_is_fatal_at_once(plain_runner):
    foster, _ = start(plain_runner, """
        [services.ghost]
        command = ["/nonexistent/ghost"]
        restart = "always"
        restart_delay = "20ms"
        """)
    sock = control_socket(plain_runner, foster)
    s = wait_service(sock, "ghost", lambda s: s["state"] == "fatal", what="ghost to be fatal")
    err = foster.stderr()
    assert "No such file or directory" in err, err
    # Not tried again: it stays fatal, with no process and no more restarts.
    def tried_again():
        now = service(sock, "ghost")
        return (now["state"], now["pid"], now["restarts"]) != ("fatal", None, s["restarts"])
    stays_false(tried_again, 0.3, f"tried again: {foster.stderr()!r}")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_on_fatal_shutdown_stops_everything_and_exits_1(plain_runner):
    d = plain_runner.tmp
    foster, _ = start(plain_runner, f"""
        [services.other]
        command = {trap_service(d, "other")}

        [services.crash]
        command = {q(f"while [ ! -e {d}/other.start ]; do sleep 0.01; done; exit 1")}
        restart = "always"
        restart_delay = "20ms"
        start_limit_burst = 2
        on_fatal = "shutdown"
        """)
    status = foster.wait()
    assert status == 1, foster.stderr()
    assert times(d / "other.stop"), "the other service was not stopped"
    assert plain_runner.strays() == []


@pytest.mark.parametrize("end, status", [("exit 7", 7), ("kill -USR1 $$$$", 128 + 10)],
                         ids=["exit-7", "killed-by-SIGUSR1"])
def test_main_service_exit_ends_foster_with_its_status(plain_runner, end, status):
    d = plain_runner.tmp
    foster, _ = start(plain_runner, f"""
        [services.other]
        command = {trap_service(d, "other")}

        [services.app]
        command = {q(f"echo run >> {d}/app.runs; "
                     f"while [ ! -e {d}/other.start ]; do sleep 0.01; done; {end}")}
        main = true
        restart = "always"
        """)
    assert foster.wait() == status, foster.stderr()
    assert len(lines(d / "app.runs")) == 1, "the main service was restarted"
    assert times(d / "other.stop"), "the other service was not stopped"
    assert plain_runner.strays() == []
