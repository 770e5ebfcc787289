"""[services.NAME.sockets]: listening sockets bound and held by foster, passed
at fd 3, 4, ... with LISTEN_FDS / LISTEN_FDNAMES / LISTEN_PID (sd_listen_fds),
kept across restarts (no refused connection), compared at reload, and taken
from systemd (LISTEN_FDS naming foster) for `listen = "systemd:NAME"`.

Loopback only; ports are picked free by the kernel for each test."""
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

import pytest

from conftest import FOSTER, PROBE
from ctl_helpers import ctl, start_foster
from helpers import PROMPT, wait_report, wait_until
from svc_helpers import q, start, wait_log, write_config


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def socket_inodes(pid):
    """{fd: inode} of the sockets a process holds, from /proc."""
    out = {}
    fd_dir = f"/proc/{pid}/fd"
    for name in os.listdir(fd_dir):
        try:
            target = os.readlink(f"{fd_dir}/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            out[int(name)] = int(target[8:-1])
    return out


def inode_of(report, fd):
    target = report["fds"][fd]
    assert target.startswith("socket:["), report["fds"]
    return int(target[8:-1])


def connects(port, host="127.0.0.1", family=socket.AF_INET):
    """Whether a TCP connection to the port is accepted by the kernel (a held
    socket with nobody accepting still queues it in the backlog)."""
    with socket.socket(family, socket.SOCK_STREAM) as c:
        c.settimeout(PROMPT)
        try:
            c.connect((host, port))
            return True
        except ConnectionRefusedError:
            return False


def has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


# --------------------------------------------------------------- passing

def test_sockets_passed_at_fd_3_in_order_with_listen_env(runner):
    d = runner.tmp
    tcp, tcp6 = free_port(), (free_port(socket.AF_INET6, "::1") if has_ipv6_loopback() else None)
    v6 = f'v6 = {{ listen = "[::1]:{tcp6}", backlog = 16 }}' if tcp6 else ""
    foster, _ = start(runner, f"""
        [services.web]
        command = [{q(PROBE)}, "report", {q(d / "web.report")}, "hold"]
        [services.web.sockets]
        http = {{ listen = "127.0.0.1:{tcp}" }}
        {v6}
        admin = {{ listen = {q(d / "admin.sock")}, mode = "0660" }}
        logs = {{ listen = "@foster-test-{os.getpid()}-{tcp}", type = "datagram" }}

        [services.plain]
        command = [{q(PROBE)}, "report", {q(d / "plain.report")}, "hold"]
        """)
    web = wait_report(str(d / "web.report"))
    plain = wait_report(str(d / "plain.report"))
    names = ["http"] + (["v6"] if tcp6 else []) + ["admin", "logs"]
    n = len(names)
    assert sorted(web["fds"]) == list(range(3 + n)), web["fds"]
    assert web["env"]["LISTEN_FDS"] == str(n)
    assert web["env"]["LISTEN_FDNAMES"] == ":".join(names)
    assert web["env"]["LISTEN_PID"] == str(web["pid"])
    # The very sockets foster holds (same inodes), in the order written.
    held = set(socket_inodes(foster.pid).values())
    for fd in range(3, 3 + n):
        assert inode_of(web, fd) in held
    # Bound where the config says.
    assert connects(tcp)
    if tcp6:
        assert connects(tcp6, "::1", socket.AF_INET6)
    st = os.stat(d / "admin.sock")
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o660
    # A service without sockets: fds 0-2 and none of LISTEN_*.
    assert sorted(plain["fds"]) == [0, 1, 2], plain["fds"]
    assert not [k for k in plain["env"] if k.startswith("LISTEN_")], plain["env"]
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()
    assert not (d / "admin.sock").exists(), "foster removes its socket files when it exits"


def test_socket_bound_before_start_and_held_while_stopped(runner):
    """autostart = false: nothing runs, yet connections queue in the backlog.
    fosterctl stop keeps the socket bound, except with close_on_stop."""
    port, closing_port = free_port(), free_port()
    sock = runner.tmp / "ctl.sock"
    foster, _, _ = start_foster(runner, f"""
        [services.web]
        command = ["sleep", "60"]
        autostart = false
        sockets.http = {{ listen = "127.0.0.1:{port}" }}

        [services.closing]
        command = ["sleep", "60"]
        sockets.http = {{ listen = "127.0.0.1:{closing_port}", close_on_stop = true }}
        """, sock=sock)
    assert connects(port)
    assert connects(closing_port)
    assert ctl(sock, "stop", "closing").returncode == 0
    wait_until(lambda: not connects(closing_port), what="close_on_stop to close the socket")
    assert connects(port), "a stopped service's socket must stay bound"
    assert ctl(sock, "start", "closing").returncode == 0
    assert connects(closing_port), "close_on_stop: bound again at the start"
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


# ----------------------------------------------------------- bind errors

def test_bind_errors_at_start_and_check_point_at_listen(plain_runner):
    d = plain_runner.tmp
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    (d / "plain-file").write_text("not a socket")
    text = f"""[services.web]
command = "sleep 60"
[services.web.sockets]
ok = {{ listen = "127.0.0.1:{free_port()}" }}
busy = {{ listen = "127.0.0.1:{port}" }}
nodir = {{ listen = "{d}/no/such/dir.sock" }}
file = {{ listen = "{d}/plain-file" }}
"""
    cfg = write_config(d / "bad.toml", text)
    try:
        for args in (["-c", cfg], ["--check", "-c", cfg]):
            status, _, err = plain_runner.run(args)
            assert status == 2, err
            assert f"{cfg}:5:19: service 'web' socket 'busy': 127.0.0.1:{port}: cannot bind: Address already in use" in err
            assert f"{cfg}:6:20: service 'web' socket 'nodir': {d}/no/such/dir.sock: cannot bind: No such file or directory" in err
            assert f"{cfg}:7:19: service 'web' socket 'file': {d}/plain-file: {d}/plain-file exists and is not a socket" in err
            assert "sleep" not in err
    finally:
        busy.close()


def test_check_binds_then_lets_go(plain_runner):
    """--check binds each socket to find a port in use, then closes it: the
    port is free afterwards and no socket file is left behind."""
    d = plain_runner.tmp
    port = free_port()
    cfg = write_config(d / "ok.toml", f"""
        [services.web]
        command = "sleep 60"
        sockets.http = {{ listen = "127.0.0.1:{port}" }}
        sockets.admin = {{ listen = "{d}/admin.sock" }}
        """)
    status, _, err = plain_runner.run(["--check", "-c", cfg])
    assert status == 0, err
    assert not (d / "admin.sock").exists()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_stale_socket_file_is_replaced_at_start(runner):
    d = runner.tmp
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(d / "admin.sock"))
    stale.close()  # the file stays, nobody listens: what a killed foster leaves
    foster, _ = start(runner, f"""
        [services.web]
        command = [{q(PROBE)}, "report", {q(d / "web.report")}, "hold"]
        sockets.admin = {{ listen = {q(d / "admin.sock")} }}
        """)
    wait_report(str(d / "web.report"))
    with socket.socket(socket.AF_UNIX) as c:
        c.connect(str(d / "admin.sock"))
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


# ------------------------------------------------- restarts: zero refused

# One connection at a time. SIGTERM only sets a flag that is looked at
# between connections (a handler that exited could drop a connection just
# accepted); the wake-up fd makes select() return for it.
SERVER = r"""
import os, select, signal, socket, sys
listen = socket.socket(fileno=3)
assert os.environ["LISTEN_PID"] == str(os.getpid()) and os.environ["LISTEN_FDS"] == "1"
wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
signal.set_wakeup_fd(wake_w)
stop = False
def on_term(sig, frame):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
with open(sys.argv[1], "a") as f:
    f.write(f"{os.getpid()}\n")
while not stop:
    readable, _, _ = select.select([listen, wake_r], [], [])
    if stop or listen not in readable:
        continue
    conn, _ = listen.accept()
    with conn:
        request = conn.recv(16)
        conn.sendall(b"ok %d\n" % os.getpid())
    if request.startswith(b"kill"):
        os.kill(os.getpid(), signal.SIGKILL)
    if request.startswith(b"crash"):
        os._exit(3)
"""


class Client(threading.Thread):
    """Connects in a tight loop; counts answered, refused and failed ones."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.answered = self.refused = self.failed = 0
        self.failures = []
        self.longest_gap = 0.0
        self.stop = threading.Event()
        self.command = None  # sent once, by the next connection
        self.last_request = None
        self.lock = threading.Lock()

    def request(self):
        with self.lock:
            command, self.command = self.command, None
        return command or b"hello"

    def run(self):
        last = time.monotonic()
        while not self.stop.is_set():
            c = socket.socket()
            c.settimeout(PROMPT)
            try:
                c.connect(("127.0.0.1", self.port))
                self.last_request = self.request()
                c.sendall(self.last_request)
                answer = c.makefile("rb").readline()
                if answer.startswith(b"ok "):
                    self.answered += 1
                    now = time.monotonic()
                    self.longest_gap = max(self.longest_gap, now - last)
                    last = now
                else:
                    self.failed += 1
                    self.failures.append(repr(answer))
            except ConnectionRefusedError:
                self.refused += 1
            except OSError as e:
                self.failed += 1
                self.failures.append(f"{e!r} (request {self.last_request!r})")
            finally:
                c.close()


def test_100_restarts_with_zero_refused_connections(runner):
    """A server on a held socket is restarted 100 times — killed by SIGKILL,
    a crash (exit 3), fosterctl restart — while a client connects in a tight
    loop: no connection is refused, every one is answered (by the next process
    when it lands in a restart). The server kills itself or crashes right
    after answering a request that asks for it: a process killed while it
    holds an accepted connection loses that one connection whatever the
    supervisor does, and that is not what this test measures."""
    d = runner.tmp
    port = free_port()
    server = d / "server.py"
    server.write_text(SERVER)
    pids = d / "pids"
    sock = d / "ctl.sock"
    foster, _, _ = start_foster(runner, f"""
        [services.web]
        command = [{q(sys.executable)}, {q(server)}, {q(pids)}]
        restart = "always"
        restart_delay = "0s"
        min_uptime = "0s"
        start_limit_burst = 1000
        sockets.http = {{ listen = "127.0.0.1:{port}" }}
        """, sock=sock)

    def started():
        return len((pids.read_text() if pids.exists() else "").split())

    wait_until(lambda: started() == 1, what="the first server")
    client = Client(port)
    client.start()
    wait_until(lambda: client.answered > 0, what="a first answer")
    restarts = 100
    began = time.monotonic()
    for i in range(restarts):
        before = started()
        how = i % 3
        if how in (0, 1):
            with client.lock:
                client.command = b"kill" if how == 0 else b"crash"
        else:
            r = ctl(sock, "restart", "web")
            assert r.returncode == 0, r.stderr
        wait_until(lambda: started() > before, what=f"restart {i + 1}")
    elapsed = time.monotonic() - began
    answered_before_end = client.answered
    wait_until(lambda: client.answered > answered_before_end, what="an answer after the last restart")
    client.stop.set()
    client.join(PROMPT)
    summary = (f"{restarts} restarts in {elapsed:.2f}s: {client.answered} connections answered, "
               f"{client.refused} refused, {client.failed} failed, "
               f"longest gap between answers {client.longest_gap * 1000:.1f} ms")
    print(summary)
    (d / "summary").write_text(summary + "\n")
    if os.environ.get("FOSTER_SOCKETS_SUMMARY"):
        with open(os.environ["FOSTER_SOCKETS_SUMMARY"], "a") as f:
            f.write(f"{runner.mode}: {summary}\n")
    assert started() >= restarts + 1
    assert client.refused == 0, summary
    assert client.failed == 0, (summary, client.failures[:5])
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


# ---------------------------------------------------------------- reload

def test_reload_keeps_unchanged_rebinds_changed_closes_removed(runner):
    d = runner.tmp
    keep, change, change_to, removed = free_port(), free_port(), free_port(), free_port()
    sock = d / "ctl.sock"

    def services(web_port, with_gone=True):
        gone = f"""
        [services.gone]
        command = [{q(PROBE)}, "report", {q(d / "gone.report")}, "hold"]
        sockets.http = {{ listen = "127.0.0.1:{removed}" }}
        """ if with_gone else ""
        return f"""
        [services.stable]
        command = [{q(PROBE)}, "report", {q(d / "stable.report")}, "hold"]
        sockets.http = {{ listen = "127.0.0.1:{keep}" }}
        sockets.admin = {{ listen = {q(d / "admin.sock")} }}

        [services.web]
        command = [{q(PROBE)}, "report", {q(d / "web.report")}, "hold"]
        sockets.http = {{ listen = "127.0.0.1:{web_port}" }}
        """ + gone

    foster, cfg, _ = start_foster(runner, services(change), sock=sock)
    stable = wait_report(str(d / "stable.report"))
    web = wait_report(str(d / "web.report"))
    wait_report(str(d / "gone.report"))
    stable_inodes = (inode_of(stable, 3), inode_of(stable, 4))
    old_web_inode = inode_of(web, 3)
    os.unlink(d / "web.report")

    from ctl_helpers import config_text
    import textwrap
    write_config(cfg, config_text(str(sock), textwrap.dedent(services(change_to, with_gone=False))))
    r = ctl(sock, "reload")
    assert r.returncode == 0, r.stderr + r.stdout
    web2 = wait_report(str(d / "web.report"))
    assert inode_of(web2, 3) != old_web_inode
    assert inode_of(web2, 3) in socket_inodes(foster.pid).values()
    assert connects(change_to)
    wait_until(lambda: not connects(change), what="the old port of web to close")
    wait_until(lambda: not connects(removed), what="the removed service's socket to close")
    # The unchanged service: not restarted, and the very same sockets in foster.
    assert wait_report(str(d / "stable.report"))["pid"] == stable["pid"]
    held = set(socket_inodes(foster.pid).values())
    assert set(stable_inodes) <= held
    assert connects(keep)

    # A reload whose bind fails is refused and changes nothing.
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    busy_port = busy.getsockname()[1]
    try:
        before = socket_inodes(foster.pid)
        write_config(cfg, config_text(str(sock), textwrap.dedent(services(busy_port, with_gone=False))))
        r = ctl(sock, "reload")
        assert r.returncode == 1
        line, column = [(n, text.index('"127.0.0.1') + 1)
                        for n, text in enumerate(open(cfg).read().splitlines(), 1) if f":{busy_port}" in text][0]
        expected = (f"{cfg}:{line}:{column}: service 'web' socket 'http': 127.0.0.1:{busy_port}: "
                    "cannot bind: Address already in use")
        assert expected in r.stdout + r.stderr, r.stdout + r.stderr
        assert set(socket_inodes(foster.pid).values()) == set(before.values())
        assert connects(change_to) and connects(keep)
    finally:
        busy.close()
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


# ------------------------------------------------ socket activation

LISTEN_PID_OF_SELF = ["/bin/sh", "-c", 'LISTEN_PID=$$; export LISTEN_PID; exec "$@"', "sh"]


def systemd_sockets():
    a, b = socket.socket(), socket.socket()
    for s in (a, b):
        s.bind(("127.0.0.1", 0))
        s.listen()
    return a, b


def test_socket_activation_from_systemd(runner):
    """foster started as systemd would (fds 3, 4; LISTEN_FDS, LISTEN_FDNAMES,
    LISTEN_PID naming foster) hands the socket named "web" to the service."""
    d = runner.tmp
    a, b = systemd_sockets()
    env = dict(os.environ, LISTEN_FDS="2", LISTEN_FDNAMES="other:web")
    try:
        foster, _ = start(runner, f"""
            [services.app]
            command = [{q(PROBE)}, "report", {q(d / "app.report")}, "hold"]
            sockets.http = {{ listen = "systemd:web" }}
            """, env=env, fds={3: a.fileno(), 4: b.fileno()}, wrapper=LISTEN_PID_OF_SELF)
        report = wait_report(str(d / "app.report"))
        assert sorted(report["fds"]) == [0, 1, 2, 3], report["fds"]
        assert inode_of(report, 3) == os.fstat(b.fileno()).st_ino
        assert report["env"]["LISTEN_FDNAMES"] == "http"
        assert report["env"]["LISTEN_FDS"] == "1"
        assert report["env"]["LISTEN_PID"] == str(report["pid"])
        foster.send(signal.SIGTERM)
        assert foster.wait() == 0, foster.stderr()
    finally:
        a.close()
        b.close()


def test_socket_activation_unknown_name_lists_what_systemd_passed(plain_runner):
    d = plain_runner.tmp
    a, b = systemd_sockets()
    cfg = write_config(d / "f.toml", """
        [services.app]
        command = "sleep 60"
        sockets.http = { listen = "systemd:nope" }
        """)
    env = dict(os.environ, LISTEN_FDS="2", LISTEN_FDNAMES="other:web")
    try:
        status, _, err = plain_runner.run(["-c", cfg], env=env, fds={3: a.fileno(), 4: b.fileno()},
                                          wrapper=LISTEN_PID_OF_SELF)
        assert status == 2, err
        assert (f"{cfg}:4:27: service 'app' socket 'http': systemd:nope: "
                "systemd passed no socket named 'nope' (it passed: other, web)") in err
        # Without LISTEN_* (foster not started by systemd): said as much.
        status, _, err = plain_runner.run(["-c", cfg])
        assert status == 2
        assert "systemd passed no sockets to foster: no LISTEN_FDS and LISTEN_PID naming foster" in err
    finally:
        a.close()
        b.close()


def test_static_build_says_it_cannot_take_sockets_from_systemd(plain_runner):
    static = os.path.join(os.path.dirname(FOSTER), "foster-static")
    if not os.access(static, os.X_OK):
        pytest.skip("no foster-static in this build")
    d = plain_runner.tmp
    cfg = write_config(d / "f.toml", """
        [services.app]
        command = "sleep 60"
        sockets.http = { listen = "systemd:web" }
        """)
    r = subprocess.run([static, "--check", "-c", cfg], capture_output=True, text=True, timeout=PROMPT)
    assert r.returncode == 2
    assert "this build (foster-static) has no systemd support" in r.stderr


def test_exec_failure_with_sockets_is_reported(runner):
    """The child's failure report still arrives when descriptors are moved
    onto 3, 4, ... (the report pipe is kept above them)."""
    d = runner.tmp
    ports = [free_port() for _ in range(6)]
    sockets = "\n".join(f'        s{i} = {{ listen = "127.0.0.1:{p}" }}' for i, p in enumerate(ports))
    foster, _ = start(runner, f"""
        [services.web]
        command = [{q(d / "no-such-program")}]
        restart = "no"
        [services.web.sockets]
{sockets}
        """)
    wait_log(foster, r"web: cannot run '.*no-such-program': No such file or directory")
    assert connects(ports[0])
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_reload_applies_options_to_the_same_socket(runner):
    """A changed backlog (or mode) restarts the service, which is changed,
    but the socket is the same one: no gap, the same inode."""
    d = runner.tmp
    port = free_port()
    sock = d / "ctl.sock"
    from ctl_helpers import config_text
    import textwrap

    def services(backlog, mode):
        return textwrap.dedent(f"""
            [services.web]
            command = [{q(PROBE)}, "report", {q(d / "web.report")}, "hold"]
            sockets.http = {{ listen = "127.0.0.1:{port}", backlog = {backlog} }}
            sockets.admin = {{ listen = {q(d / "admin.sock")}, mode = "{mode}" }}
            """)
    foster, cfg, _ = start_foster(runner, services(16, "0600"), sock=sock)
    first = wait_report(str(d / "web.report"))
    assert stat.S_IMODE(os.stat(d / "admin.sock").st_mode) == 0o600
    os.unlink(d / "web.report")
    write_config(cfg, config_text(str(sock), services(32, "0660")))
    assert ctl(sock, "reload").returncode == 0
    second = wait_report(str(d / "web.report"))
    assert second["pid"] != first["pid"], "a changed service is restarted"
    assert (inode_of(second, 3), inode_of(second, 4)) == (inode_of(first, 3), inode_of(first, 4))
    assert stat.S_IMODE(os.stat(d / "admin.sock").st_mode) == 0o660
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_ipv6_socket_is_ipv6_only(runner):
    if not has_ipv6_loopback():
        pytest.skip("no IPv6 loopback")
    d = runner.tmp
    port = free_port(socket.AF_INET6, "::1")
    foster, _ = start(runner, f"""
        [services.web]
        command = [{q(PROBE)}, "report", {q(d / "web.report")}, "hold"]
        sockets.v6 = {{ listen = "[::]:{port}" }}
        """)
    wait_report(str(d / "web.report"))
    assert connects(port, "::1", socket.AF_INET6)
    assert not connects(port), "[::]:PORT must not also take IPv4"
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_unix_socket_file_belongs_to_the_services_user(runner):
    import pwd
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody")
    d = runner.tmp
    os.chmod(d, 0o755)
    foster, _ = start(runner, f"""
        [services.web]
        command = ["sleep", "60"]
        user = "nobody"
        sockets.admin = {{ listen = {q(d / "admin.sock")} }}
        sockets.root = {{ listen = {q(d / "root.sock")}, user = 0, group = 0 }}
        """)
    wait_until(lambda: (d / "admin.sock").exists() and (d / "root.sock").exists(), what="the socket files")
    st = os.stat(d / "admin.sock")
    assert (st.st_uid, st.st_gid) == (nobody.pw_uid, nobody.pw_gid)
    st = os.stat(d / "root.sock")
    assert (st.st_uid, st.st_gid) == (0, 0)
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_check_takes_systemd_sockets_as_written(tmp_path):
    """What systemd will pass is known only when it starts foster: --check
    (handed to the full build, as -c is) takes a "systemd:" socket as written.
    foster-static, which can never take one, still says so
    (test_static_build_says_it_cannot_take_sockets_from_systemd)."""
    import conftest
    cfg = tmp_path / "f.toml"
    cfg.write_text('[services.web]\ncommand = ["sleep", "1"]\nsockets.http = { listen = "systemd:http" }\n')
    r = subprocess.run([conftest.FOSTER, "--check", "-c", str(cfg)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
