"""The control socket under abuse, beyond test_fosterctl_socket.py (garbage,
oversized and half-sent requests, 200 connections, another uid): a thousand
idle clients at once, slowloris clients, clients that vanish before reading
a large answer. foster keeps serving a well-behaved client within a bound,
and its descriptors and memory come back to where they were."""
import resource
import socket
import time

import pytest

from ctl_helpers import ctl, fd_count, raw_request, start_foster, status_json, timed_ctl
from helpers import PROMPT, wait_until
from svc_helpers import stays_false, vm_rss_kib

WEB = """
    [services.web]
    command = ["sleep", "1000"]
    stop_timeout = "2s"
    """

# docs/PROTOCOL.md, "Limits foster enforces".
REQUEST_DEADLINE = 5.0


@pytest.fixture
def many_fds():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} is below 1200")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def connect_idle(sock, count):
    clients = []
    for _ in range(count):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex(sock)
        assert err == 0, f"connect #{len(clients)}: {err}"
        clients.append(s)
    return clients


def test_a_thousand_idle_clients_do_not_lock_out_a_real_one(plain_runner, many_fds):
    foster, _, sock = start_foster(plain_runner, WEB)
    assert ctl(sock, "status").returncode == 0
    fds_before = fd_count(foster.pid)
    rss_before = vm_rss_kib(foster.pid)
    clients = connect_idle(sock, 1000)
    try:
        # Every idle client sits in a slot or in the listen backlog ahead of
        # this one; it is still answered at once (not after the idle ones
        # time out, 64 at a time, 5 s each).
        for _ in range(3):
            r, took = timed_ctl(sock, "status", timeout=PROMPT + 10)
            assert r.returncode == 0, r.stderr
            assert took < 5.0, f"status took {took:.2f}s with 1000 idle clients"
        rss_during = vm_rss_kib(foster.pid)
        assert fd_count(foster.pid) <= fds_before + 64 + 1
    finally:
        for s in clients:
            s.close()
    wait_until(lambda: fd_count(foster.pid) <= fds_before, PROMPT,
               what=f"foster's fds to return to {fds_before} (now {fd_count(foster.pid)})")
    assert ctl(sock, "status").returncode == 0
    growth = vm_rss_kib(foster.pid) - rss_before
    print(f"status with 1000 idle clients: {took:.3f}s; VmRSS {rss_before} KiB before, "
          f"{rss_during} during, growth after {growth} KiB")
    assert max(growth, rss_during - rss_before) < 4 * 1024, "foster's RSS grew by more than 4 MiB"


def test_slowloris_clients_are_cut_off_and_others_served(plain_runner):
    foster, _, sock = start_foster(plain_runner, WEB)
    slow = []
    for _ in range(10):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sock)
        slow.append(s)
    t0 = time.monotonic()
    cut = {}
    try:
        request = b"foster/1 status"
        i = 0
        while len(cut) < len(slow) and time.monotonic() - t0 < REQUEST_DEADLINE + PROMPT:
            for n, s in enumerate(slow):
                if n in cut:
                    continue
                try:
                    s.send(request[i % len(request):][:1])  # one byte, never the newline
                except (BrokenPipeError, ConnectionResetError):
                    cut[n] = time.monotonic() - t0
            i += 1
            r, took = timed_ctl(sock, "status")
            assert r.returncode == 0 and took < 5.0, (r.stderr, took)
            time.sleep(0.2)
    finally:
        for s in slow:
            s.close()
    assert len(cut) == len(slow), f"only {len(cut)} of {len(slow)} slow clients were cut off"
    # Cut at the documented deadline: not before it, and not long after.
    assert min(cut.values()) >= REQUEST_DEADLINE - 0.5, cut
    assert max(cut.values()) < REQUEST_DEADLINE + PROMPT, cut


def test_clients_that_vanish_mid_request_and_mid_answer(plain_runner):
    # An answer larger than a socket buffer (212992 bytes by default), so
    # foster has to wait for room to write the rest: 2,500 services with long
    # names, never started.
    name = "a-service-with-a-rather-long-name-to-make-the-status-answer-large-{:04d}"
    services = WEB + "".join(f"""
    [services.{name.format(i)}]
    command = ["sleep", "1000"]
    autostart = false
    """ for i in range(2500))
    foster, _, sock = start_foster(plain_runner, services)
    full = raw_request(sock, b"foster/1 status\n")
    assert full.startswith(b"ok\n") and len(full) > 212992, len(full)
    fds_before = fd_count(foster.pid)
    for _ in range(20):
        # Mid-request: part of a line, then gone.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(sock)
            s.sendall(b"foster/1 sta")
        # Mid-answer: a whole request for the large answer, a little of it
        # read, then gone.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(PROMPT)
            s.connect(sock)
            s.sendall(b"foster/1 status\n")
            assert s.recv(100).startswith(b"ok\n")
    assert raw_request(sock, b"foster/1 status\n").count(b"\n") == full.count(b"\n")
    wait_until(lambda: fd_count(foster.pid) <= fds_before, PROMPT,
               what=f"foster's fds to return to {fds_before} (now {fd_count(foster.pid)})")
    assert len(status_json(sock)) == 2501


def test_at_the_cap_one_newcomer_displaces_exactly_one_client(plain_runner):
    """64 clients each half-way through a request fill every slot; one more
    comes: the oldest of them gives way, and only that one."""
    foster, _, sock = start_foster(plain_runner, WEB)
    slow = []
    try:
        for _ in range(64):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sock)
            s.sendall(b"foster/1 sta")
            slow.append(s)
        # All 64 are in their slots (foster holds their descriptors).
        wait_until(lambda: fd_count(foster.pid) >= 64, PROMPT, what="64 connections accepted")
        newcomer = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        newcomer.connect(sock)
        newcomer.sendall(b"foster/1 sta")
        slow.append(newcomer)

        def closed_by_foster(s):
            s.setblocking(False)
            try:
                return s.recv(1) == b""
            except BlockingIOError:
                return False
            except ConnectionResetError:
                return True
        wait_until(lambda: closed_by_foster(slow[0]), PROMPT, what="the oldest client to give way")
        # An extra eviction would come in the same turn of foster's loop.
        stays_false(lambda: any(closed_by_foster(s) for s in slow[1:]), 0.3,
                    "a second client was closed for one newcomer")
    finally:
        for s in slow:
            s.close()
