"""Process trees that fight back, bounded in time, as PID 1 and as subreaper:
a service that keeps forking with SIGTERM ignored, a daemon that double-forks
out of its session, a child that moves to a process group of its own.

What foster does, and what it cannot do without cgroups (foster(1), "Process
trees"): a service's stop reaches its process group (stop_signal, then
SIGKILL after stop_timeout) and its main process. A process that left the
group (setpgid) or the session (setsid) is out of reach of that stop; it is
reaped whenever it exits (it is foster's, as PID 1 or subreaper) and it gets
SIGTERM, then SIGKILL, as a leftover when foster itself stops."""
import os
import signal
import socket as socketlib
import time

import pytest

from ctl_helpers import ctl, recv_all, service, start_foster, wait_state
from helpers import PROMPT, comm, descendants, read_stat, wait_until, zombies_of
from svc_helpers import q


def group_members(foster_pid, pgid_host):
    return [p for p in descendants(foster_pid) if (st := read_stat(p)) and st[2] == pgid_host and st[0] != "Z"]


def host_pid(foster, ns_pid):
    """The host pid of a process foster reports (in its PID namespace as PID 1)."""
    if foster.runner.mode != "pid1":
        return ns_pid
    for p in descendants(foster.pid):
        try:
            nspid = open(f"/proc/{p}/status").read().split("NSpid:")[1].split("\n")[0].split()
        except (OSError, IndexError):
            continue
        if int(nspid[-1]) == ns_pid:
            return p
    return None


@pytest.mark.parametrize("mode", ["pid1"], indirect=True)   # the group is the same as subreaper
def test_fork_bomb_ignoring_sigterm_is_killed_whole_at_stop_timeout(runner):
    """200 processes in the service's group, all ignoring SIGTERM, the shell
    still forking: stop takes stop_timeout, then SIGKILL takes them all; no
    process of the group and no zombie remains."""
    bomb = ("trap '' TERM; n=0; while :; do "
            "if [ $n -lt 200 ]; then sleep 1000 & n=$((n+1)); else sleep 0.05; fi; done")
    foster, _, sock = start_foster(runner, f"""
        [services.bomb]
        command = {q(bomb)}
        stop_timeout = "500ms"
        """)
    pid = host_pid(foster, wait_state(sock, "bomb", "running")["pid"])
    wait_until(lambda: len(group_members(foster.pid, read_stat(pid)[2])) >= 200, timeout=PROMPT * 2,
               what="the bomb to reach 200 processes")
    pgid = read_stat(pid)[2]
    t0 = time.monotonic()
    assert ctl(sock, "stop", "bomb").returncode == 0
    took = time.monotonic() - t0
    assert took >= 0.45, f"stopped in {took:.2f}s: SIGTERM should have been ignored"
    assert took < 0.5 + PROMPT, took
    assert group_members(foster.pid, pgid) == []
    wait_until(lambda: zombies_of(foster.pid) == [], what="no zombie left")
    assert service(sock, "bomb")["state"] == "stopped"
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_double_forked_daemon_is_reaped_and_killed_as_a_leftover(runner):
    """A daemon that double-forks into a session of its own escapes its
    service's stop (no cgroup to follow it), is re-parented to foster, reaped
    when it exits, and killed as a leftover when foster stops."""
    d = runner.tmp
    # $$$$: foster's config turns $$ into the shell's $.
    daemon = (f"(setsid sh -c 'echo $$$$ > {d}/escaped.one; exec sleep 1000' &); "
              f"(setsid sh -c 'echo $$$$ > {d}/escaped.two; exec sleep 1000' &); exec sleep 1000")
    foster, _, sock = start_foster(runner, f"""
        [services.daemon]
        command = {q(daemon)}
        """)
    wait_state(sock, "daemon", "running")
    escaped = {}
    for name in ("one", "two"):
        ns_pid = int(wait_until(lambda: (d / f"escaped.{name}").exists()
                                and (d / f"escaped.{name}").read_text().strip(), what=f"escapee {name}"))
        escaped[name] = host_pid(foster, ns_pid)
        wait_until(lambda: read_stat(escaped[name])[1] == foster.pid and comm(escaped[name]) == "sleep",
                   what=f"{name} re-parented to foster, running sleep")
    assert ctl(sock, "stop", "daemon").returncode == 0
    # Out of the service's reach: both still run, in sessions of their own.
    for p in escaped.values():
        st = read_stat(p)
        assert st and st[0] != "Z" and st[1] == foster.pid and comm(p) == "sleep", st
    # One exits: foster reaps it (it is foster's child now).
    os.kill(escaped["one"], signal.SIGTERM)
    wait_until(lambda: read_stat(escaped["one"]) is None, what="the escapee to be reaped")
    # The other is a leftover when foster stops.
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()
    assert read_stat(escaped["two"]) is None
    if runner.mode == "subreaper":
        assert runner.strays() == []


@pytest.mark.parametrize("mode", ["pid1"], indirect=True)
def test_child_in_a_process_group_of_its_own_outlives_the_stop_until_foster_stops(runner):
    """setpgid() in a child: the service's stop signals its process group and
    main process, which do not include that child; the service is stopped
    once its own group is empty, and the child is a leftover of foster."""
    d = runner.tmp
    mover = (f"python3 -c 'import os, time; os.setpgid(0, 0); open(\"{d}/moved\", \"w\").write(str(os.getpid())); "
             f"time.sleep(1000)' & exec sleep 1000")
    foster, _, sock = start_foster(runner, f"""
        [services.mover]
        command = {q(mover)}
        """)
    wait_state(sock, "mover", "running")
    moved = host_pid(foster, int(wait_until(lambda: (d / "moved").exists() and (d / "moved").read_text(),
                                            what="the child to move")))
    assert ctl(sock, "stop", "mover").returncode == 0
    assert service(sock, "mover")["state"] == "stopped"
    st = read_stat(moved)
    assert st and st[0] != "Z", "the moved child was reached by the stop"
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()
    assert read_stat(moved) is None
    if runner.mode == "subreaper":
        assert runner.strays() == []


def test_stop_right_after_start_reaches_the_whole_tree(runner):
    """The flake of test_services_are_stopped_when_program_exits: a service
    stopped within microseconds of its exec (start and stop in one batch of
    requests) or up to 4.4 ms after it, 40 times over. Every stop must end by SIGTERM, well before
    stop_timeout; a process of the tree that missed the SIGTERM would hold
    the stop until the SIGKILL."""
    foster, _, sock = start_foster(runner, """
        [services.tree]
        command = "sleep 1000 & sleep 1000"
        autostart = false
        stop_timeout = "30s"
        """)
    slow = []
    for i in range(40):
        logged = len(foster.stderr())
        starter = socketlib.socket(socketlib.AF_UNIX, socketlib.SOCK_STREAM)
        stopper = socketlib.socket(socketlib.AF_UNIX, socketlib.SOCK_STREAM)
        try:
            starter.connect(sock)
            stopper.connect(sock)
            # Back to back, the two requests are read in one turn of foster's
            # loop and the stop follows the exec at once; spaced by up to
            # 4.4 ms, it finds sh anywhere in its start-up.
            starter.sendall(b"foster/1 start tree\n")
            time.sleep((i % 12) * 0.0004)   # 0 to 4.4 ms: before, while and after sh forks
            stopper.sendall(b"foster/1 stop --wait=4000 tree\n")
            starter.shutdown(socketlib.SHUT_WR)
            stopper.shutdown(socketlib.SHUT_WR)
            starter.settimeout(PROMPT)
            stopper.settimeout(PROMPT + 5)
            assert recv_all(starter).startswith(b"ok"), i
            answer = recv_all(stopper)
        finally:
            starter.close()
            stopper.close()
        if not answer.startswith(b"ok"):
            # What held the stop, seen at once: the processes below foster
            # and this iteration's whole log.
            below = [(p, comm(p), read_stat(p)) for p in descendants(foster.pid)]
            slow.append((i, answer, below, foster.stderr()[logged:]))
            try:
                wait_state(sock, "tree", "stopped", timeout=40)
            except AssertionError as e:
                raise AssertionError(f"{e}\n{foster.stderr()[-4000:]}") from None
    assert slow == [], f"stops that SIGTERM did not finish: {slow}\n{foster.stderr()[-4000:]}"
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_stopped_service_is_continued_so_that_it_can_act_on_its_stop_signal(runner):
    """A service stopped with SIGSTOP (a debugger, `fosterctl signal STOP`)
    that handles SIGTERM: the stop sends SIGCONT after the stop signal, as
    systemd does, so it exits gracefully at once instead of being SIGKILLed
    at stop_timeout."""
    d = runner.tmp
    foster, _, sock = start_foster(runner, f"""
        [services.paused]
        command = {q(f"trap 'echo term > {d}/term; exit 0' TERM; while :; do sleep 0.05; done")}
        stop_timeout = "20s"
        """)
    wait_state(sock, "paused", "running")
    assert ctl(sock, "signal", "STOP", "paused").returncode == 0
    pid = host_pid(foster, service(sock, "paused")["pid"])
    wait_until(lambda: read_stat(pid)[0] == "T", what="the service to be stopped")
    t0 = time.monotonic()
    assert ctl(sock, "stop", "paused").returncode == 0
    assert time.monotonic() - t0 < PROMPT
    assert (d / "term").exists(), "the service did not act on SIGTERM"
    assert service(sock, "paused")["state"] == "stopped"
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()
