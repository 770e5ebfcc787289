"""The entrypoint image (packaging/container/Containerfile.entrypoint) under
podman: foster as PID 1 of a real container, driven by the engine's own
commands (run, stop, kill, exec)."""
import time

import pytest

from engine import RUN, read_lines, wait_for

# The apps are busybox sh scripts that record what happens to them in /out,
# a directory of the test's mounted into the container.
TERM_AND_LEFTOVERS = r"""
trap 'echo app TERM >> /out/log; exit 3' TERM
# A leftover in a session of its own that logs SIGTERM and carries on: only
# SIGKILL ends it.
setsid sh -c 'trap "echo leftover TERM >> /out/log" TERM; while :; do sleep 1; done' &
echo $! > /out/leftover
sleep 1000 & wait
"""

RECORD_SIGNALS = r"""
trap 'echo HUP >> /out/log' HUP
trap 'echo USR1 >> /out/log' USR1
echo ready > /out/ready
while :; do sleep 1000 & wait; done
"""

# Orphans: each subshell exits at once, leaving its child to PID 1. They end
# after the app has become `sleep`, which never reaps, so only PID 1 can.
MAKE_ORPHANS = r"""
for i in 1 2 3 4 5; do (sh -c 'echo $$ >> /out/orphans; sleep 0.5' &); done
exec sleep 1000
"""


def run_app(podman, image, name, out, script, *options):
    podman.run(*RUN, "-d", "--name", name, "-v", f"{out}:/out", *options,
               image, "sh", "-c", script)


@pytest.mark.parametrize("app, status", [
    (["sh", "-c", "exit 7"], 7),
    (["sh", "-c", "kill -TERM $$"], 128 + 15),
    (["sh", "-c", "kill -KILL $$"], 128 + 9),
    (["nosuch-program"], 127),
])
def test_podman_run_exits_with_the_apps_status(podman, entrypoint_image, app, status):
    result = podman.run(*RUN, "--rm", entrypoint_image, *app, check=False)
    assert result.returncode == status, result.stderr
    if status == 127:  # foster's message, not podman's own 127
        assert "foster: cannot run 'nosuch-program'" in result.stderr


def test_podman_stop_terminates_the_app_and_kills_the_leftovers_before_the_engine_does(
        podman, entrypoint_image, containers, tmp_path, note):
    name = containers("stop")
    run_app(podman, entrypoint_image, name, tmp_path, TERM_AND_LEFTOVERS)
    wait_for("the leftover to start", lambda: read_lines(tmp_path / "leftover"))

    engine_grace = 30
    started = time.monotonic()
    podman.run("stop", "-t", str(engine_grace), name, timeout=engine_grace + 30)
    took = time.monotonic() - started
    note(f"podman stop -t {engine_grace} of the entrypoint image: {took:.2f}s "
         f"(foster's --grace for leftovers: 3s)")

    status = podman.run("inspect", "-f", "{{.State.ExitCode}}", name).stdout.strip()
    assert status == "3", "the container's status is the app's exit status"
    log = read_lines(tmp_path / "log")
    assert "app TERM" in log, "podman's SIGTERM reached the app"
    assert "leftover TERM" in log, "foster sent the leftover SIGTERM itself"
    # foster SIGKILLs the leftover after its 3s grace: far from the engine's 30s.
    assert took < 15, f"podman stop took {took:.1f}s: foster did not end the leftovers"


@pytest.mark.parametrize("signal", ["HUP", "USR1"])
def test_podman_kill_reaches_the_app(podman, entrypoint_image, containers, tmp_path,
                                     signal):
    name = containers("kill")
    run_app(podman, entrypoint_image, name, tmp_path, RECORD_SIGNALS)
    wait_for("the app to set its traps", lambda: read_lines(tmp_path / "ready"))

    podman.run("kill", "-s", signal, name)
    wait_for(f"the app to record {signal}",
             lambda: signal in read_lines(tmp_path / "log"), timeout=10)
    assert read_lines(tmp_path / "log") == [signal]
    assert podman.run("inspect", "-f", "{{.State.Running}}", name).stdout.strip() == "true"


def processes(podman, name):
    """{pid: (state, args)} of every process in the container, from busybox ps."""
    out = podman.run("exec", name, "ps", "-o", "pid,stat,args").stdout.splitlines()[1:]
    table = {}
    for line in out:
        pid, stat, args = (line.split(None, 2) + [""])[:3]
        table[int(pid)] = (stat, args)
    return table


def test_zombies_made_in_the_container_are_reaped(podman, entrypoint_image, containers,
                                                  tmp_path):
    name = containers("zombies")
    run_app(podman, entrypoint_image, name, tmp_path, MAKE_ORPHANS)
    orphans = wait_for("five orphans to run",
                       lambda: len(read_lines(tmp_path / "orphans")) == 5
                       and [int(p) for p in read_lines(tmp_path / "orphans")])

    def orphans_gone():
        table = processes(podman, name)
        return not any(pid in table for pid in orphans) and table

    table = wait_for("the orphans to be reaped", orphans_gone, timeout=10, interval=0.2)
    zombies = {pid: row for pid, row in table.items() if row[0].startswith("Z")}
    assert zombies == {}
    assert table[1][1].startswith("/foster -- sh -c")
