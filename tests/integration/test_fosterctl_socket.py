"""foster's control socket (fosterctl(1), docs/PROTOCOL.md):
finding foster (exit 3 with a clear message), stale and live socket files,
mode 0600 and the SO_PEERCRED check, and a control server that survives
garbage, idle clients and a flood of connections while its services run."""
import errno
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time

import pytest

from ctl_helpers import (FOSTERCTL, ctl, fd_count, pid_alive,
                         raw_request, recv_all, service, start_foster,
                         timed_ctl, wait_state)
from helpers import PROMPT, wait_until
from svc_helpers import q, stays_false

WEB = """
    [services.web]
    command = ["sleep", "1000"]
"""

NOBODY_UID = 65534
NOBODY_GID = 65534


def still_serving(foster, sock, pid):
    """foster runs, answers, and web is the very same process."""
    assert foster.running(), foster.stderr()
    r = ctl(sock, "status", "--json")
    assert r.returncode == 0, r.stderr
    s = service(sock, "web")
    assert s["state"] == "running" and s["pid"] == pid and pid_alive(pid), s


def test_stale_socket_file_is_reported_and_replaced(plain_runner):
    sock = str(plain_runner.tmp / "ctl.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(sock)
    s.close()  # the file stays; nobody listens on it
    assert stat.S_ISSOCK(os.stat(sock).st_mode)

    r = ctl(sock, "status")
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert "stale" in r.stderr and sock in r.stderr, r.stderr

    foster, cfg, _ = start_foster(plain_runner, WEB, sock=sock)
    pid = wait_state(sock, "web", "running")["pid"]
    still_serving(foster, sock, pid)
    assert ctl(sock, "check").returncode == 0


def test_a_file_that_is_not_a_socket(tmp_path):
    path = tmp_path / "plain"
    path.write_text("not a socket\n")
    r = ctl(path, "status")
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert "not a socket" in r.stderr and str(path) in r.stderr, r.stderr


def test_second_foster_on_a_live_socket_refuses_to_start(plain_runner):
    d = plain_runner.tmp
    first, cfg, sock = start_foster(plain_runner, WEB)
    pid = wait_state(sock, "web", "running")["pid"]
    second, _, _ = start_foster(plain_runner, f"""
    [services.intruder]
    command = {q(f"touch {d}/intruder.started; exec sleep 1000")}
    """, sock=sock, name="second.toml", wait=False)
    status = second.wait()
    assert status != 0, second.stderr()
    err = second.stderr()
    assert sock in err and ("another foster" in err or "already" in err), err
    assert not (d / "intruder.started").exists(), "the refused foster started its services"
    assert stat.S_ISSOCK(os.stat(sock).st_mode), "the refused foster removed the live socket"
    still_serving(first, sock, pid)


def test_socket_is_mode_0600_owned_by_foster(plain_runner):
    foster, cfg, sock = start_foster(plain_runner, WEB)
    st = os.stat(sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    assert st.st_uid == os.getuid()


NOBODY_CLIENT = r'''
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
try:
    s.sendall(sys.argv[2].encode() + b"\n")
    s.shutdown(socket.SHUT_WR)
except (BrokenPipeError, ConnectionResetError):
    pass  # refused before the request was read
data = b""
while True:
    try:
        chunk = s.recv(65536)
    except ConnectionResetError:
        break
    if not chunk:
        break
    data += chunk
sys.stdout.write(repr(data))
'''


def as_nobody():
    return dict(user=NOBODY_UID, group=NOBODY_GID, extra_groups=[])


@pytest.fixture
def open_dir():
    """A directory other users can traverse (tmp_path's parents are 0700)."""
    if os.getuid() != 0:
        pytest.skip("needs root to run a client as another user")
    d = tempfile.mkdtemp(prefix="foster-perm-", dir="/tmp")
    os.chmod(d, 0o711)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def nobody_fosterctl(open_dir):
    """A copy of fosterctl that nobody can execute: the build directory may sit
    where other users cannot enter (a clone in root's 0700 home directory)."""
    copy = os.path.join(open_dir, "fosterctl")
    shutil.copy(FOSTERCTL, copy)
    os.chmod(copy, 0o755)
    return copy


def test_other_users_are_refused(plain_runner, open_dir, nobody_fosterctl):
    sock = os.path.join(open_dir, "ctl.sock")
    foster, cfg, _ = start_foster(plain_runner, WEB, sock=sock)
    pid = wait_state(sock, "web", "running")["pid"]

    # 0600: the kernel refuses the connection.
    r = ctl(sock, "status", fosterctl=nobody_fosterctl, **as_nobody())
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert "permission denied" in r.stderr.lower() and sock in r.stderr, r.stderr

    # Past the file mode, foster's own SO_PEERCRED check refuses.
    os.chmod(sock, 0o666)
    for request in ("foster/1 status", "foster/1 stop web", "foster/1 shutdown"):
        out = subprocess.run(["/usr/bin/python3", "-c", NOBODY_CLIENT, sock, request],
                             capture_output=True, text=True, timeout=PROMPT + 5, **as_nobody())
        assert out.returncode == 0, out.stderr
        answer = eval(out.stdout)  # repr of bytes written by the client
        assert answer == b"" or answer.startswith(b"error permission denied"), (request, answer)
        assert b"service\t" not in answer and not answer.startswith(b"ok"), (request, answer)
    # Nothing a refused peer asked for happened; root still gets answers.
    still_serving(foster, sock, pid)


def test_fosterctl_run_by_another_user_says_why_it_is_refused(plain_runner, open_dir, nobody_fosterctl):
    sock = os.path.join(open_dir, "ctl.sock")
    foster, cfg, _ = start_foster(plain_runner, WEB, sock=sock)
    pid = wait_state(sock, "web", "running")["pid"]
    os.chmod(sock, 0o666)  # past the file mode: foster's SO_PEERCRED check refuses
    for command in (["status"], ["stop", "web"]):
        r = ctl(sock, *command, fosterctl=nobody_fosterctl, **as_nobody())
        assert r.returncode in (1, 3), (command, r.returncode, r.stderr)
        # foster's "error permission denied: ..." answer, or "closed the
        # connection without answering" (PROTOCOL.md) -- not a socket error.
        assert "permission denied" in r.stderr.lower() or "closed the connection" in r.stderr, \
            (command, r.stderr)
    still_serving(foster, sock, pid)


def garbage_answer_ok(answer):
    """What foster may do with a malformed request: an error answer, or close."""
    return answer == b"" or (answer.startswith(b"error ") and answer.endswith(b"\n")
                             and answer.count(b"\n") == 1)


def test_garbage_requests_get_errors_and_foster_keeps_serving(plain_runner):
    foster, cfg, sock = start_foster(plain_runner, WEB)
    pid = wait_state(sock, "web", "running")["pid"]
    ctl(sock, "status")
    baseline = fd_count(foster.pid)

    exact = {
        b"foster/2 status\n": b"error unsupported protocol 'foster/2' (expected foster/1)\n",
        b"\n": b"error empty request\n",
        b"foster/1\n": b"error missing command after foster/1\n",
        b"foster/1 bogus\n": b"error unknown command 'bogus'\n",
        b"foster/1  status\n": b"error extra space at request byte 10: tokens are separated by single spaces\n",
        b"foster/1 status\tweb\n": b"error request byte 16 is 0x09: only printable ASCII and single spaces are allowed\n",
        b"foster/1 start\n": b"error start needs at least one service name\n",
        b"foster/1 status nosuch\n": b"error unknown service 'nosuch'\n",
    }
    for request, expected in exact.items():
        assert raw_request(sock, request) == expected, request

    rng = __import__("random").Random(4)
    for _ in range(20):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000)))
        answer = raw_request(sock, junk)
        assert garbage_answer_ok(answer), (junk[:40], answer)
    for junk in (b"foster/1 stat\x00us\n", b"foster/1 status \xff\xfe\n", b"\xc3\xa9\n"):
        assert garbage_answer_ok(raw_request(sock, junk)), junk

    # A line without its newline, then a full close.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(sock)
        s.sendall(b"foster/1 shutdown")
    # The same, half-closed: no request, so nothing is done.
    assert garbage_answer_ok(raw_request(sock, b"foster/1 stop web"))

    # 1 MiB without a newline: an error (or a close) soon, not a read forever.
    t0 = time.monotonic()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(PROMPT)
        s.connect(sock)
        try:
            s.sendall(b"a" * (1 << 20))
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            answer = recv_all(s)
        except socket.timeout:
            raise AssertionError("foster neither answered nor closed a 1 MiB request")
    # The limit applies as the bytes arrive, not when a deadline for slow
    # senders (seconds) runs out.
    assert time.monotonic() - t0 < 3.0, "an oversized request was read on and on"
    assert answer in (b"", b"error request is longer than 4096 bytes\n"), answer[:200]

    still_serving(foster, sock, pid)
    wait_until(lambda: fd_count(foster.pid) <= baseline,
               what=f"foster's fds to return to {baseline} (now {fd_count(foster.pid)})")


def test_an_idle_client_does_not_block_others(plain_runner):
    foster, cfg, sock = start_foster(plain_runner, WEB)
    pid = wait_state(sock, "web", "running")["pid"]
    idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    partial = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        idle.connect(sock)
        partial.connect(sock)
        partial.sendall(b"foster/1 sta")
        # foster gives a silent client no deadline: were it blocked on one,
        # these would never be answered. Any bound shows they are not; PROMPT
        # holds on a loaded machine under ASan too.
        for _ in range(3):
            r, took = timed_ctl(sock, "status")
            assert r.returncode == 0, r.stderr
            assert "web" in r.stdout
            assert took < PROMPT, f"status took {took:.2f}s while a client idled"
        r, took = timed_ctl(sock, "restart", "web")
        assert r.returncode == 0 and took < PROMPT, (r.stderr, took)
        assert service(sock, "web")["pid"] != pid, "restart did not happen"
    finally:
        idle.close()
        partial.close()
    assert foster.running()


def test_many_connections_at_once(plain_runner):
    foster, cfg, sock = start_foster(plain_runner, WEB)
    pid = wait_state(sock, "web", "running")["pid"]
    assert ctl(sock, "status").returncode == 0
    baseline = fd_count(foster.pid)

    clients, refused = [], 0
    try:
        for _ in range(200):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            err = s.connect_ex(sock)
            if err in (0, errno.EINPROGRESS):
                clients.append(s)
            else:
                assert err in (errno.EAGAIN, errno.ECONNREFUSED), os.strerror(err)
                refused += 1
                s.close()
        # Half of them send a whole request and never read the answer.
        for s in clients[::2]:
            try:
                s.send(b"foster/1 status\n")
            except OSError:
                pass
        assert foster.running(), foster.stderr()
    finally:
        for s in clients:
            s.close()

    r = ctl(sock, "--timeout", "10s", "status")
    assert r.returncode == 0, r.stderr
    still_serving(foster, sock, pid)
    wait_until(lambda: fd_count(foster.pid) <= baseline,
               what=f"foster's fds to return to {baseline} after the clients closed "
                    f"(now {fd_count(foster.pid)})")
    stays_false(lambda: fd_count(foster.pid) > baseline, 0.2, "foster's fd count grew again")
