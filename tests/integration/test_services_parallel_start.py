"""Service-runner mode: foster does not wait for a service's exec. The exec's
outcome is read from the child's report pipe as an event of the loop, so a
service whose set-up blocks before its exec holds up neither the services
after it nor fosterctl. Here the blocking step is real: the service's
`stdout` file is a FIFO nobody reads yet, so the child's open() waits."""
import os
import signal

from ctl_helpers import start_foster, status_json, wait_state
from helpers import PROMPT, wait_until
from svc_helpers import q


def test_a_service_stuck_before_its_exec_holds_up_nothing(plain_runner, tmp_path):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    # `stuck` is first in the start order: a foster that waited for its exec
    # would start nothing else and answer nobody.
    foster, _, sock = start_foster(plain_runner, f"""
        [services.stuck]
        command = ["/bin/sleep", "1000"]
        stdout = {q(fifo)}

        [services.free]
        command = ["/bin/sleep", "1000"]
        """)
    wait_state(sock, "free", "running")
    assert status_json(sock)["stuck"]["state"] == "starting"

    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # the child's open() returns
    try:
        running = wait_state(sock, "stuck", "running")
        assert running["pid"] > 0
    finally:
        os.close(reader)
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_exec_failures_of_many_services_are_each_reported(plain_runner, tmp_path):
    """Children that fail their exec while foster goes on: each failure still
    arrives with its own step and errno (read from that child's pipe)."""
    tables = "".join(f"""
        [services.missing{i}]
        command = ["{tmp_path}/no-such-program-{i}"]
        restart = "no"

        [services.cwd{i}]
        command = ["/bin/sleep", "1000"]
        working_directory = "{tmp_path}/no-such-directory-{i}"
        restart = "no"
        """ for i in range(5))
    foster, _, sock = start_foster(plain_runner, tables)

    def all_fatal():
        states = {name: s["state"] for name, s in status_json(sock).items()}
        return states if set(states.values()) == {"fatal"} else None
    wait_until(all_fatal, PROMPT, what="every service fatal")
    log = foster.stderr()
    for i in range(5):
        assert f"cannot run '{tmp_path}/no-such-program-{i}': No such file or directory" in log, log
        assert f"cannot change directory to {tmp_path}/no-such-directory-{i}: No such file or directory" in log, log
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_running_services_hold_no_descriptor_in_foster(plain_runner):
    """foster holds a service's main process by pid, not by a descriptor:
    every descriptor foster holds is copied into each child it starts and
    closed at that child's exec, so one per running service would make the
    N-th start cost N (10,000 services started in time N²)."""
    def config(count):
        return "".join(f"""
            [services.s{i:02}]
            command = ["/bin/sleep", "1000"]
            """ for i in range(count))

    def descriptors_with(count, name):
        foster, _, sock = start_foster(plain_runner, config(count), sock=plain_runner.tmp / f"{name}.sock",
                                       name=f"{name}.toml")

        def all_running():
            states = [s["state"] for s in status_json(sock).values()]
            return len(states) == count and set(states) == {"running"}
        wait_until(all_running, PROMPT, what=f"{count} services running")
        fds = len(os.listdir(f"/proc/{foster.pid}/fd"))
        foster.send(signal.SIGTERM)
        assert foster.wait() == 0, foster.stderr()
        return fds

    few, many = descriptors_with(1, "one"), descriptors_with(30, "thirty")
    assert many - few < 5, f"foster held {few} descriptors with 1 service running, {many} with 30"


def child_stacks_mapped(pid):
    """Child stacks in foster: a 64 KiB read-write mapping right above a 4 KiB
    inaccessible guard page (spawn.cpp's layout)."""
    stacks, guard_end = 0, None
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            span, perms = line.split()[:2]
            start, end = (int(x, 16) for x in span.split("-"))
            if perms == "rw-p" and start == guard_end and end - start == 64 * 1024:
                stacks += 1
            guard_end = end if perms == "---p" and end - start == 4096 else None
    return stacks


def test_the_start_up_burst_leaves_no_child_stack_behind(plain_runner):
    """Up to 32 services are between clone and exec at once, each on a stack
    of its own; the stacks are kept for the next burst, but the start-up's are
    given back once it is over (a page each, for nothing until a next burst)."""
    count = 40
    foster, _, sock = start_foster(plain_runner, "".join(f"""
        [services.s{i:02}]
        command = ["/bin/sleep", "1000"]
        """ for i in range(count)))

    def all_running():
        states = [s["state"] for s in status_json(sock).values()]
        return len(states) == count and set(states) == {"running"}
    wait_until(all_running, PROMPT, what=f"{count} services running")
    assert child_stacks_mapped(foster.pid) == 0, open(f"/proc/{foster.pid}/maps").read()
    # A later start maps a stack again, and keeps it.
    s00 = status_json(sock)["s00"]["pid"]
    os.kill(s00, signal.SIGKILL)
    # One status read: two let the old run pass for "running" and the
    # backoff's pid None for "another pid", with no stack mapped yet.
    def restarted():
        now = status_json(sock)["s00"]
        return now["state"] == "running" and now["pid"] not in (None, s00)
    wait_until(restarted, PROMPT, what="s00 restarted")
    assert child_stacks_mapped(foster.pid) == 1, open(f"/proc/{foster.pid}/maps").read() + foster.stderr()[-3000:]
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()
