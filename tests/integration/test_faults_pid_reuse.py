"""PID reuse pressure, bounded in time: while foster restarts, stops,
signals and probes services, a churner in foster's PID namespace keeps
sixteen 2-ms decoys alive, each a session and process-group leader, and
steers ns_last_pid so that every pid freed below 400 is taken again within
milliseconds. A signal foster meant for a process (or group) that is gone
would land on a decoy: the churner records every decoy killed by a signal,
and there must be none.

foster signals a service's main process through its pidfd, its process
group only while the group is pinned (a member alive or not yet reaped),
probes and hooks before they are reaped, and leftovers through pidfds;
foster(1), "Process trees", says what remains open without cgroups."""
import signal
import time

import pytest

from conftest import PROBE
from ctl_helpers import ctl, start_foster, wait_state
from helpers import PROMPT, wait_until
from svc_helpers import lines, q


@pytest.mark.parametrize("mode", ["pid1"], indirect=True)
def test_no_signal_reaches_a_recycled_pid(runner):
    d = runner.tmp
    result = d / "churn.out"
    foster, _, sock = start_foster(runner, f"""
        [services.churn]
        command = [{q(PROBE)}, "churn", "3", "400", {q(result)}]
        restart = "no"

        [services.flap]
        command = ["true"]
        restart = "always"
        restart_delay = "10ms"
        restart_delay_max = "20ms"
        start_limit_interval = "0"

        [services.tree]
        command = "sleep 1000 & sleep 1000"
        stop_timeout = "2s"

        [services.probed]
        command = ["sleep", "1000"]
        healthcheck = {{ command = ["sleep", "1"], interval = "20ms", timeout = "30ms", retries = 100000 }}
        """)
    wait_state(sock, "probed", "running")
    rounds = 0
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        assert ctl(sock, "restart", "tree").returncode == 0
        assert ctl(sock, "signal", "CONT", "probed", "tree").returncode == 0
        assert ctl(sock, "stop", "tree").returncode == 0
        assert ctl(sock, "start", "tree").returncode == 0
        rounds += 1
    report = wait_until(lambda: result.exists() and lines(result), timeout=PROMPT, what="the churner's report")
    fields = dict(l.split(" ", 1) for l in report)
    hits = [l for l in report if l.startswith("hit ")]
    foster.send(signal.SIGTERM)
    foster.wait()
    assert int(fields["children"]) > 0 and rounds >= 1, report
    assert hits == [], f"decoys killed by a signal ({rounds} rounds of restarts): {hits}"
    if fields["steered"] != "1":
        pytest.skip("/proc/sys/kernel/ns_last_pid is not writable here: no pid was forced to be reused")
