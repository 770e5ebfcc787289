"""Fault injection through cgroups (v1), bounded in time: fork failing in a
pids cgroup whose pids.max is reached, and a service killed by the OOM
killer in a memory cgroup. Skipped, with the reason, where the controller is
not mounted or no cgroup can be created (not root, a read-only hierarchy).

What is checked is what a user sees: foster alive (/proc), the services'
states, pids and exit statuses from `fosterctl status --json`; the log only
for how often a failure is reported."""
import re
import os
import signal

import pytest

from cgroup_helpers import make_cgroup, remove_cgroup
from ctl_helpers import ctl, service, start_foster, wait_service, wait_state
from helpers import is_alive, wait_until
from svc_helpers import lines, q


@pytest.fixture
def pids_cgroup():
    group = make_cgroup("pids")
    yield group
    remove_cgroup(group)


# The cgroup fixture comes first in each test's arguments, so that it is
# removed after the runner has killed what the test started.
@pytest.fixture
def memory_cgroup():
    group = make_cgroup("memory")
    yield group
    remove_cgroup(group)


CRASH_LOOP = """
    restart = "always"
    restart_delay = "20ms"
    restart_delay_max = "100ms"
    start_limit_interval = "0"
"""


def test_fork_failing_in_a_full_pids_cgroup_is_survived_and_every_service_recovers(pids_cgroup, runner):
    """foster (PID 1 or subreaper) in a pids cgroup: once its pids.max is
    reached, a crash-looping service, a service whose process was killed
    and the health probes of a third all fail to fork (EAGAIN). foster stays
    up, reports each service's failure once, keeps the healthy service
    running (a probe that could not even be forked says nothing about it),
    and once pids.max is raised every service runs again."""
    probes = runner.tmp / "probes"
    foster, _, sock = start_foster(runner, f"""
        [services.loop]
        command = ["sleep", "0.3"]
        {CRASH_LOOP}
        [services.victim]
        command = ["sleep", "1000"]
        {CRASH_LOOP}
        [services.steady]
        command = ["sleep", "1000"]
        healthcheck = {{ command = ["sh", "-c", {q(f"echo >> {probes}")}], interval = "50ms", timeout = "5s", retries = 2 }}
        """, preexec=pids_cgroup.join)
    for name in ("loop", "victim", "steady"):
        wait_state(sock, name, "running")
    wait_service(sock, "steady", lambda s: s["health"] == "healthy")
    steady_pid = service(sock, "steady")["pid"]

    # Full: what runs keeps running, nothing new can be forked.
    pids_cgroup.write("pids.max", 1)
    assert ctl(sock, "signal", "KILL", "victim").returncode == 0
    loop_before = service(sock, "loop")["restarts"]
    wait_service(sock, "victim", lambda s: s["restarts"] >= 4 and s["pid"] is None,
                 what="victim's restarts to fail four times")
    wait_service(sock, "loop", lambda s: s["restarts"] >= loop_before + 4,
                 what="loop's restarts to fail four times")
    # Every probe of the last 0.3 s failed to fork (retries = 2, interval 50 ms).
    assert is_alive(foster.pid), foster.stderr()
    steady = service(sock, "steady")
    assert (steady["state"], steady["pid"], steady["health"]) == ("running", steady_pid, "healthy"), steady
    assert int(pids_cgroup.read("pids.events").split()[1]) > 0   # the limit did refuse forks

    log = foster.stderr()
    for name, what in (("loop", "sleep"), ("victim", "sleep")):
        failures = [l for l in log.splitlines() if f"{name}: cannot start a process for '{what}'" in l]
        assert len(failures) == 1, log
    assert len(re.findall(r"steady: healthcheck: cannot start a process for 'sh'", log)) == 1, log

    # Room again: every service recovers.
    pids_cgroup.write("pids.max", "max")
    wait_state(sock, "victim", "running")
    wait_service(sock, "loop", lambda s: s["state"] == "running")
    probes_then = len(lines(probes))
    wait_until(lambda: len(lines(probes)) >= probes_then + 2, what="steady's probes to run again")
    assert service(sock, "steady")["pid"] == steady_pid
    assert is_alive(foster.pid)
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_program_that_cannot_be_forked_ends_foster_with_126(pids_cgroup, plain_runner):
    """Entrypoint mode in a pids cgroup with room for foster alone: the fork
    of PROGRAM fails, foster says so and exits 126 at once."""
    def alone():
        pids_cgroup.join()
        pids_cgroup.write("pids.max", 1)
    # LeakSanitizer's exit check needs a thread of its own, which the cgroup
    # has no room for either (a sanitizer build would abort there instead).
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
    status, _, err = plain_runner.run([], ["true"], preexec=alone, env=env)
    assert status == 126, err
    assert "cannot start a process for 'true': Resource temporarily unavailable" in err


@pytest.mark.parametrize("mode", ["pid1"], indirect=True)
def test_service_killed_by_the_oom_killer_is_restarted_and_reported(memory_cgroup, runner):
    """A service that moves itself into a memory cgroup limited to 32 MiB
    and then allocates 256 MiB is killed by the OOM killer (SIGKILL): status
    shows 137 (128 + 9), and restart = "on-failure" starts it again."""
    limit = 32 << 20
    memory_cgroup.write("memory.limit_in_bytes", limit)
    if (memory_cgroup.path / "memory.memsw.limit_in_bytes").exists():
        memory_cgroup.write("memory.memsw.limit_in_bytes", limit)   # no escape to swap
    marker = runner.tmp / "oomed"
    hog = (f"{memory_cgroup.join_command()}; "
           f"if [ -e {marker} ]; then exec sleep 1000; fi; touch {marker}; "
           "exec python3 -c 'b = b\"x\" * (256 << 20); import time; time.sleep(100)'")
    foster, _, sock = start_foster(runner, f"""
        [services.hog]
        command = {q(hog)}
        restart = "on-failure"
        restart_delay = "20ms"
        """)
    s = wait_service(sock, "hog", lambda s: s["restarts"] >= 1 and s["state"] == "running",
                     what="hog to be OOM-killed and restarted")
    assert s["exit_status"] == 128 + signal.SIGKILL, s
    assert int(dict(l.split() for l in memory_cgroup.read("memory.oom_control").splitlines()).get("oom_kill", 1)) >= 1
    assert is_alive(foster.pid)
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()
