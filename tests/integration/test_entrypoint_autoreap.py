"""Entrypoint mode, who reaps while PROGRAM runs. foster reaps with its own
waitid loop, and waits for signals in sigwaitinfo, the fastest wait there is
for a signal to forward. During a storm of orphan exits, on Linux 6.15 and
later, the kernel reaps instead (SIGCHLD ignored): an orphan is released the
moment it exits, without foster doing anything or even waking up, so none is
ever a zombie, even while foster itself is stopped. Once the storm is over,
foster reaps itself again. FOSTER_AUTOREAP=0 (and an older kernel) keeps
foster's own waitid loop throughout.

Tests elsewhere (reaping, leftovers, exit statuses) run under both ways
through the reaping_env fixture; these prove which way is in effect."""
import os
import platform
import signal

import pytest

from conftest import PROBE
from helpers import PROMPT, children_of, read_stat, read_status, wait_until, zombies_of

ORPHANS = 50
STREAM = 500  # orphans made one at a time
STREAM_GAP_US = 300  # between two of them: each exit would be a SIGCHLD of its own


def kernel_at_least(major, minor):
    numbers = platform.release().split("-")[0].split(".")
    return (int(numbers[0]), int(numbers[1])) >= (major, minor)


KERNEL_REAPS = kernel_at_least(6, 15)


def sigchld_ignored(pid):
    """True while the kernel reaps for foster (SIGCHLD ignored)."""
    return (int(read_status(pid)["SigIgn"], 16) >> (signal.SIGCHLD - 1)) & 1 == 1


# The system calls foster blocks in: its own reaping, or the kernel's.
WAITS = {"x86_64": {128: "rt_sigtimedwait", 7: "poll"},
         "aarch64": {137: "rt_sigtimedwait", 73: "poll"}}.get(platform.machine())


def blocked_in(pid):
    """The name of the system call pid is blocked in (/proc/PID/syscall)."""
    with open(f"/proc/{pid}/syscall") as f:
        number = f.read().split()[0]
    return WAITS.get(int(number), number) if number.lstrip("-").isdigit() else number


def orphans_while_foster_is_stopped(runner, env, storm_first):
    """Starts foster, stops it (SIGSTOP), then lets PROGRAM orphan ORPHANS
    grandchildren that exit at once. With storm_first, a stream of orphans
    (which goes on for ever) has made foster let the kernel reap before the
    stop. Returns (foster, its pid, PROGRAM's)."""
    go, done, stream = runner.path("go"), runner.path("done"), runner.path("stream")
    # The stream is an orphan itself (a child of foster): `orphans` waits for all its own children.
    storm = f"({PROBE} orphan-stream 100 300 {stream} &); " if storm_first else ""
    program = ["/bin/sh", "-c",
               f"{storm}while [ ! -e {go} ]; do sleep 0.01; done; "
               f"exec {PROBE} orphans {ORPHANS} 0 {done}"]
    foster = runner.start([], program, env=env)
    foster_pid = foster.pid
    program_pid = wait_until(lambda: children_of(foster_pid), PROMPT, what="PROGRAM")[0]
    if storm_first:
        wait_until(lambda: os.path.exists(stream) and sigchld_ignored(foster_pid), PROMPT,
                   what="the kernel to reap during the orphan stream")
    os.kill(foster_pid, signal.SIGSTOP)
    wait_until(lambda: (read_stat(foster_pid) or "?")[0] == "T", PROMPT, what="foster stopped")
    # A stopped foster cannot end the kernel's reaping, however long it is stopped.
    assert sigchld_ignored(foster_pid) == storm_first
    open(go, "w").close()
    wait_until(lambda: os.path.exists(done), PROMPT, what="the orphans forked")
    return foster, foster_pid, program_pid


def finish(foster, foster_pid, runner):
    os.kill(foster_pid, signal.SIGCONT)
    foster.send(signal.SIGTERM)  # PROGRAM (probe) exits 0 on it
    assert foster.wait() == 0, foster.stderr()
    assert runner.strays() == []


@pytest.mark.skipif(not KERNEL_REAPS, reason="the kernel keeps exit statuses for pidfds since Linux 6.15 only")
def test_during_a_storm_the_kernel_reaps_even_while_foster_is_stopped(runner):
    foster, foster_pid, program_pid = orphans_while_foster_is_stopped(runner, None, storm_first=True)
    # The stream's orphans come and go (none is ever a zombie); the ORPHANS are
    # gone. Left: PROGRAM and the stream.
    wait_until(lambda: zombies_of(foster_pid) == [] and len(children_of(foster_pid)) <= 2, PROMPT,
               what=f"the orphans gone while foster is stopped; zombies: {len(zombies_of(foster_pid))}")
    finish(foster, foster_pid, runner)


@pytest.mark.parametrize("env", [None, {**os.environ, "FOSTER_AUTOREAP": "0"}], ids=["quiet", "autoreap-off"])
def test_foster_reaps_them_itself_while_orphans_exit_now_and_then(runner, env):
    foster, foster_pid, program_pid = orphans_while_foster_is_stopped(runner, env, storm_first=False)
    wait_until(lambda: len(zombies_of(foster_pid)) == ORPHANS, PROMPT,
               what=f"{ORPHANS} zombies waiting for the stopped foster; "
                    f"zombies: {len(zombies_of(foster_pid))}")
    os.kill(foster_pid, signal.SIGCONT)
    wait_until(lambda: children_of(foster_pid) == [program_pid], PROMPT,
               what=f"foster reaped them once continued; zombies: {len(zombies_of(foster_pid))}")
    finish(foster, foster_pid, runner)


@pytest.mark.skipif(not KERNEL_REAPS, reason="the kernel keeps exit statuses for pidfds since Linux 6.15 only")
@pytest.mark.skipif(WAITS is None, reason=f"system call numbers of {platform.machine()} not listed")
def test_after_a_storm_foster_reaps_itself_again_and_waits_in_sigwaitinfo(runner):
    calm, stream = runner.path("calm"), runner.path("stream")
    program = ["/bin/sh", "-c",
               f"{PROBE} orphan-stream 100 300 {stream} & s=$!; "
               f"while [ ! -e {calm} ]; do sleep 0.01; done; kill $s; wait $s; "
               f"exec {PROBE} report {runner.path('report')} hold"]
    foster = runner.start([], program)
    foster_pid = foster.pid
    wait_until(lambda: blocked_in(foster_pid) == "rt_sigtimedwait", PROMPT, what="foster waiting for signals")
    assert not sigchld_ignored(foster_pid)
    wait_until(lambda: os.path.exists(stream) and sigchld_ignored(foster_pid), PROMPT,
               what="the kernel to reap during the orphan stream")
    assert blocked_in(foster_pid) == "poll"
    open(calm, "w").close()
    # The stream ends within the first hold (2 s, autoreap.hpp); were it
    # seen again after it, the second is 8 s.
    wait_until(lambda: not sigchld_ignored(foster_pid) and blocked_in(foster_pid) == "rt_sigtimedwait",
               16 + PROMPT, what="foster reaping itself again after the storm")
    assert zombies_of(foster_pid) == []
    foster.send(signal.SIGTERM)  # forwarded: the probe exits 0 on it
    assert foster.wait() == 0, foster.stderr()
    assert runner.strays() == []


def test_program_status_survives_a_burst_of_exits_with_it(runner, reaping_env):
    """PROGRAM exits together with 50 children, 30 times: its SIGCHLD
    coalesces with theirs, yet foster learns its status every time."""
    for i in range(30):
        status, _, err = runner.run([], [PROBE, "burst", "50", "exit", str(i % 7 + 1)], env=reaping_env)
        assert status == i % 7 + 1, f"round {i}: {err}"


def wake_ups(pid):
    """foster's voluntary context switches: one each time it blocks again
    after something woke it. (Involuntary ones count preemptions of a foster
    that is running anyway, e.g. a slow sanitized start-up on a busy machine,
    not wake-ups.)"""
    return int(read_status(pid)["voluntary_ctxt_switches"])


@pytest.mark.skipif(not KERNEL_REAPS, reason="the kernel keeps exit statuses for pidfds since Linux 6.15 only")
def test_orphan_exits_do_not_wake_foster(runner):
    """STREAM orphans exit one at a time, far enough apart that their SIGCHLDs
    could not coalesce: after the first few, the kernel reaps every one of them
    without waking foster. Counted in foster's voluntary context switches (a
    count, not a time): a wake-up per exit would be about STREAM of them. The
    bound leaves room for start-up, the eight wake-ups that tell a storm, and
    as many again at the end of each hold (2, 8 s) on a machine so loaded
    that the stream takes seconds."""
    done = runner.path("done")
    foster = runner.start([], [PROBE, "orphan-stream", str(STREAM), str(STREAM_GAP_US), done])
    foster_pid = foster.pid
    wait_until(lambda: os.path.exists(done), 3 * PROMPT, what=f"{STREAM} orphans made")
    woken = wake_ups(foster_pid)
    assert woken < STREAM // 10, f"foster woke {woken} times for {STREAM} orphan exits"
    # The stream goes on: an orphan may be between its exit and its reaping.
    wait_until(lambda: zombies_of(foster_pid) == [], PROMPT, what="no zombie")
    foster.send(signal.SIGTERM)  # forwarded: PROGRAM dies of it mid-stream
    assert foster.wait() == 128 + signal.SIGTERM, foster.stderr()
    assert runner.strays() == []


@pytest.mark.parametrize("end, status", [("exit 7", 7), ("kill -KILL $$", 128 + signal.SIGKILL)])
def test_program_status_is_exact_when_it_ends_mid_storm(runner, reaping_env, end, status):
    """PROGRAM ends while a process it started goes on making orphans as fast
    as it can: foster still exits with PROGRAM's exact status (after ending
    the orphan maker, a leftover) and leaves nothing behind."""
    for i in range(2):
        started = runner.path(f"started{i}")
        script = (f"{PROBE} orphan-stream 50 0 {started} & "
                  f"while [ ! -e {started} ]; do sleep 0.01; done; {end}")
        got, _, err = runner.run([], ["/bin/sh", "-c", script], env=reaping_env)
        assert got == status, f"round {i}: {err}"
        assert runner.strays() == []
