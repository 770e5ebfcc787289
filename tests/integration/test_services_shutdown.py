"""Service-runner mode: graceful shutdown in reverse dependency order, SIGKILL
after stop_timeout, a second SIGTERM, shutdown_timeout, and every process of
a service's tree gone once it is stopped. As PID 1 and as subreaper."""
import signal
import time

import pytest

from helpers import PROMPT, wait_until
from svc_helpers import (NOW, q, snapshot, stamp, start, state_logged,
                         still_alive, times, trap_service, wait_log,
                         live_descendants, write_config)


def test_reverse_dependency_order_and_clean_exit(runner):
    """web depends on db: web stops first, and db gets its stop signal only
    once web is gone (web takes 0.5 s to stop); all clean: exit 0."""
    d = runner.tmp
    foster, _ = start(runner, f"""
        [services.db]
        command = {trap_service(d, "db")}

        [services.web]
        command = {trap_service(d, "web", stop_delay=0.5)}
        depends_on = ["db"]

        [services.cache]
        command = {trap_service(d, "cache")}
        depends_on = ["db"]
        """)
    for name in ("db", "web", "cache"):
        stamp(d / f"{name}.start")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()
    web_exit, db_stop = stamp(d / "web.exit", 0), stamp(d / "db.stop", 0)
    assert db_stop >= web_exit, "db was stopped before web was gone"
    assert db_stop >= stamp(d / "cache.exit", 0), "db was stopped before cache was gone"
    assert stamp(d / "web.stop", 0) < web_exit
    if runner.mode == "subreaper":
        assert runner.strays() == []


def test_service_ignoring_sigterm_is_killed_after_stop_timeout(runner):
    d = runner.tmp
    foster, _ = start(runner, f"""
        [services.stubborn]
        command = {q(f"trap '' TERM; echo {NOW} > {d}/stubborn.start; exec sleep 1000")}
        stop_timeout = "400ms"

        [services.clean]
        command = {trap_service(d, "clean")}
        """)
    stamp(d / "stubborn.start")
    stamp(d / "clean.start")
    sent = time.monotonic()
    foster.send(signal.SIGTERM)
    status = foster.wait()
    took = time.monotonic() - sent
    assert status == 1, foster.stderr()
    assert took >= 0.38, f"foster exited {took:.2f}s after SIGTERM, before stop_timeout"
    assert took < 0.4 + 3, f"foster took {took:.2f}s (stop_timeout 400ms)"
    assert times(d / "clean.stop"), "the clean service was not stopped"
    if runner.mode == "subreaper":
        assert runner.strays() == []


def test_second_sigterm_kills_everything_at_once(runner):
    d = runner.tmp
    foster, _ = start(runner, f"""
        [services.stubborn]
        command = {q(f"trap '' TERM; echo {NOW} > {d}/stubborn.start; exec sleep 1000")}
        stop_timeout = "60s"

        [services.other]
        command = {q(f"trap '' TERM; echo {NOW} > {d}/other.start; exec sleep 1000")}
        stop_timeout = "60s"
        """)
    stamp(d / "stubborn.start")
    stamp(d / "other.start")
    foster.send(signal.SIGTERM)
    wait_log(foster, state_logged("stubborn", "stopping"))
    wait_log(foster, state_logged("other", "stopping"))
    sent = time.monotonic()
    foster.send(signal.SIGTERM)
    status = foster.wait(5)
    assert status == 1, foster.stderr()
    assert time.monotonic() - sent < 3, "the second SIGTERM did not skip the waiting"
    if runner.mode == "subreaper":
        assert runner.strays() == []


def test_shutdown_timeout_bounds_the_whole_shutdown(runner):
    d = runner.tmp
    foster, _ = start(runner, f"""
        [foster]
        shutdown_timeout = "700ms"

        [services.stubborn]
        command = {q(f"trap '' TERM; echo {NOW} > {d}/stubborn.start; exec sleep 1000")}
        stop_timeout = "60s"
        """)
    stamp(d / "stubborn.start")
    sent = time.monotonic()
    foster.send(signal.SIGTERM)
    status = foster.wait()
    took = time.monotonic() - sent
    assert status == 1, foster.stderr()
    assert took >= 0.65, f"foster exited {took:.2f}s after SIGTERM, before shutdown_timeout"
    assert took < 0.7 + 3, f"foster took {took:.2f}s (shutdown_timeout 700ms)"
    if runner.mode == "subreaper":
        assert runner.strays() == []


# A child in the background, and an orphan re-parented to foster (its parent
# exited at once); both stay in the service's process group and session.
TREES = {
    "child": "sleep 1000 & sleep 1000",
    "orphan": "(sleep 1000 &); sleep 1000",
}


def wait_tree(foster, n=3):
    """The live processes below foster, once there are n of them."""
    def found():
        procs = live_descendants(foster.pid)
        return procs if len(procs) >= n else None
    return wait_until(found, PROMPT, what=f"{n} service processes below foster")


@pytest.mark.parametrize("tree", sorted(TREES))
def test_service_tree_is_gone_after_shutdown(runner, tree):
    foster, _ = start(runner, f"""
        [services.tree]
        command = {q(TREES[tree])}
        stop_timeout = "20s"
        """)
    procs = snapshot(wait_tree(foster))
    foster.send(signal.SIGTERM)
    # 0: the whole group got stop_signal and exited; nothing was SIGKILLed.
    assert foster.wait() == 0, foster.stderr()
    assert still_alive(procs) == []
    if runner.mode == "subreaper":
        assert runner.strays() == []


@pytest.mark.parametrize("tree", sorted(TREES))
def test_service_tree_is_gone_after_the_service_is_removed(runner, tree):
    """A reload that removes the service stops its whole tree while foster
    runs on."""
    foster, cfg = start(runner, f"""
        [services.tree]
        command = {q(TREES[tree])}
        stop_timeout = "20s"

        [services.keep]
        command = ["sleep", "1000"]
        """)
    procs = snapshot(wait_tree(foster, 4))
    write_config(cfg, """
        [services.keep]
        command = ["sleep", "1000"]
        """)
    foster.send(signal.SIGHUP)
    wait_until(lambda: len(still_alive(procs)) == 1, PROMPT,
               what="the removed service's processes to be gone")
    assert len(live_descendants(foster.pid)) == 1, "a process of the removed service is left"
    assert foster.running()
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_processes_left_by_an_exited_run_are_stopped(runner):
    """The main process exits on its own, leaving an orphan in its group:
    the run is over only once that one is gone too (it gets stop_signal)."""
    d = runner.tmp
    foster, _ = start(runner, f"""
        [services.leaver]
        command = {q(f"(trap 'echo {NOW} > {d}/orphan.term; exit 0' TERM; "
                     f"sleep 1000 & echo {NOW} > {d}/orphan.start; wait) & "
                     f"while [ ! -e {d}/orphan.start ]; do sleep 0.01; done; exit 3")}
        restart = "no"
        stop_timeout = "20s"
        """)
    stamp(d / "orphan.start")
    wait_log(foster, state_logged("leaver", "exited"))
    assert times(d / "orphan.term"), "the orphan did not get SIGTERM"
    wait_until(lambda: live_descendants(foster.pid) == [], PROMPT,
               what="the orphan to be gone")
    assert foster.running()
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_each_service_gets_its_stop_signal_once(runner):
    """The stop signal goes to the service's process group, and to its main
    process only if that left the group: a second SIGTERM (or SIGINT) means
    "quit now, skip the graceful part" to many programs. Each service here
    records the first two signals it receives (sigwaitinfo, so none coalesce
    once taken): SIGTERM and the SIGCONT after it, or SIGTERM twice."""
    from conftest import PROBE
    d = runner.tmp
    names = [f"s{i}" for i in range(12)]
    config = "".join(f"""
        [services.{n}]
        command = [{q(PROBE)}, "signals", {q(d / (n + ".sig"))}, "2"]
        stop_timeout = "1s"
        """ for n in names)
    foster, _ = start(runner, config)
    for n in names:
        wait_until(lambda n=n: (d / f"{n}.sig").exists() and "ready" in (d / f"{n}.sig").read_text(), PROMPT,
                   what=f"{n} ready")
    foster.send(signal.SIGTERM)
    foster.wait()
    for n in names:
        got = [int(line.split()[1]) for line in (d / f"{n}.sig").read_text().splitlines() if line.startswith("sig ")]
        assert got.count(signal.SIGTERM) == 1, f"{n} got {got}"
