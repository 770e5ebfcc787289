"""Overlapping restarts: `fosterctl restart --overlap NAME` and
`restart_mode = "overlap"` for a reload. The new process starts on the same
held socket while the old one keeps serving; the old one is stopped once the
new one is ready; a new one that never gets ready is stopped and the old one
kept (fosterctl exits 1 and says why). Both pids show in `fosterctl status`.

The server below accepts only once it is ready (after READY=1), as real
servers do, and finishes the connection in hand before it obeys SIGTERM."""
import os
import signal
import subprocess
import sys
import threading
import time

from ctl_helpers import FOSTERCTL, BASE_ENV, config_text, ctl, start_foster, status_json, wait_service
from helpers import PROMPT, is_alive, wait_until, zombies_of
from svc_helpers import host_pid, live_descendants, q, write_config
from test_services_sockets import free_port

# argv: DIR. Reads DIR/behavior when it starts: "ok" (READY=1 after
# DIR/delay seconds and once DIR/hold is gone, then serve), "sick" (the same, and DIR/sick.PID exists,
# which the healthcheck of the tests looks for with $MAINPID), "exit" (exit 3
# after the delay, never ready), "hang" (never ready, never serves). Logs "start PID", "ready PID",
# "stop PID" lines to DIR/events.
SERVER = r"""
import os, select, signal, socket, sys, time
d = sys.argv[1]
def event(what):
    with open(f"{d}/events", "a") as f:
        f.write(f"{what} {os.getpid()} {time.monotonic()}\n")
behavior = open(f"{d}/behavior").read().strip()
delay = float(open(f"{d}/delay").read())
listen = socket.socket(fileno=3)
wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
signal.set_wakeup_fd(wake_w)
stop = False
def on_term(sig, frame):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
event("start")
if behavior == "sick":
    open(f"{d}/sick.{os.getpid()}", "w").close()
time.sleep(delay)
# The test holds a new server back from READY=1 until it has looked at both
# processes: a window of time would be missed on a loaded machine.
while os.path.exists(f"{d}/hold") and not stop:
    time.sleep(0.02)
if behavior == "exit":
    os._exit(3)
if behavior == "hang":
    while not stop:
        select.select([wake_r], [], [])
    os._exit(0)
addr = os.environ["NOTIFY_SOCKET"]
n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
n.sendto(b"READY=1", "\0" + addr[1:] if addr.startswith("@") else addr)
event("ready")
while not stop:
    readable, _, _ = select.select([listen, wake_r], [], [])
    if stop or listen not in readable:
        continue
    conn, _ = listen.accept()
    with conn:
        conn.recv(16)
        conn.sendall(b"ok %d\n" % os.getpid())
event("stop")
"""


class Client(threading.Thread):
    """Connects in a tight loop (connect, send, read the whole answer);
    counts refused and failed requests and which pid answered."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.answers = []  # (monotonic time, pid)
        self.refused = self.failed = 0
        self.failures = []
        self.stop = threading.Event()

    def run(self):
        import socket
        while not self.stop.is_set():
            c = socket.socket()
            c.settimeout(PROMPT)
            try:
                c.connect(("127.0.0.1", self.port))
                c.sendall(b"hello")
                answer = c.makefile("rb").readline()
                if answer.startswith(b"ok ") and answer.endswith(b"\n"):
                    self.answers.append((time.monotonic(), int(answer.split()[1])))
                else:
                    self.failed += 1
                    self.failures.append(repr(answer))
            except ConnectionRefusedError:
                self.refused += 1
            except OSError as e:
                self.failed += 1
                self.failures.append(repr(e))
            finally:
                c.close()

    def finish(self):
        self.stop.set()
        self.join(PROMPT)


def events(d, kind):
    """[(pid, time)] of the server's DIR/events lines of this kind."""
    path = d / "events"
    if not path.exists():
        return []
    return [(int(p), float(t)) for k, p, t in (line.split() for line in path.read_text().splitlines()) if k == kind]


def start_web(runner, *, behavior="ok", delay="0.3", extra="", dependent=True):
    d = runner.tmp
    (d / "behavior").write_text(behavior)
    (d / "delay").write_text(delay)
    (d / "server.py").write_text(SERVER)
    port = free_port()
    services = f"""
        [services.web]
        command = [{q(sys.executable)}, {q(d / "server.py")}, {q(d)}]
        type = "notify"
        stop_timeout = "5s"
        sockets.http = {{ listen = "127.0.0.1:{port}" }}
        {extra}
        """
    if dependent:
        services += """
        [services.dep]
        command = ["sleep", "600"]
        depends_on = ["web"]
        """
    foster, cfg, sock = start_foster(runner, services)
    wait_service(sock, "web", lambda s: s["state"] == "running")
    return d, port, foster, cfg, sock, services


def overlap_in_background(sock, *args):
    return subprocess.Popen([FOSTERCTL, "-s", sock, "restart", "--overlap", *args, "web"], env=dict(BASE_ENV),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


def alive(foster, inner_pid):
    host = host_pid(foster.pid, inner_pid)
    return host is not None and is_alive(host)


def clean_end(runner, foster, expected_status=0):
    """SIGTERM: foster stops everything, reaps it all and exits."""
    assert not zombies_of(foster.pid)
    foster.send(signal.SIGTERM)
    assert foster.wait() == expected_status, foster.stderr()
    assert not runner.strays()


def test_both_pids_visible_and_old_serves_until_new_is_ready(runner):
    d, port, foster, _, sock, _ = start_web(runner, delay="0.5")
    # The new server gets ready once the test has seen both processes (CI's
    # ASan run once missed a 2 s window) and 0.5 s have passed, so the old
    # one is seen serving meanwhile.
    (d / "hold").touch()
    old = status_json(sock)["web"]["pid"]
    dep_pid = status_json(sock)["dep"]["pid"]
    client = Client(port)
    client.start()
    wait_until(lambda: client.answers, what="a first answer")
    began = time.monotonic()
    restart = overlap_in_background(sock)
    during = wait_service(sock, "web", lambda s: s["overlap"] is not None and s["pid"] not in (None, old))
    new = during["pid"]
    assert during["overlap"] == {"pid": old, "role": "serving"}, during
    assert during["state"] == "starting"
    table = ctl(sock, "status").stdout
    assert "OVERLAP" in table and f"{old} serving" in table and str(new) in table, table
    assert alive(foster, old) and alive(foster, new)
    # The service counts as ready while the old process serves.
    assert ctl(sock, "check", "web").returncode == 0
    (d / "hold").unlink()
    out, err = restart.communicate(timeout=PROMPT)
    assert restart.returncode == 0, err
    ready_at = dict(events(d, "ready"))[new]
    # Once fosterctl returns the new one is ready and the old one drains, then is gone.
    web = wait_service(sock, "web", lambda s: s["overlap"] is None)
    assert web["pid"] == new and web["state"] == "running"
    wait_until(lambda: not alive(foster, old), what="the old server to be gone")
    assert old in dict(events(d, "stop")), "the old server was asked to stop (stop_signal), not killed"
    answered_after = len(client.answers)
    wait_until(lambda: len(client.answers) > answered_after + 5, what="answers from the new server")
    client.finish()
    by_old = [t for t, pid in client.answers if pid == old]
    by_new = [t for t, pid in client.answers if pid == new]
    assert client.refused == 0 and client.failed == 0, (client.refused, client.failures[:5])
    assert max(by_old) > began + 0.3, "the old server kept answering while the new one got ready"
    assert by_new and min(by_new) >= ready_at
    # Dependents are not restarted.
    assert status_json(sock)["dep"]["pid"] == dep_pid
    # Exactly the new server (and dep, and nothing else) below foster.
    assert len(live_descendants(foster.pid)) == 2, live_descendants(foster.pid)
    clean_end(runner, foster)


def test_new_that_fails_to_become_ready_is_stopped_and_old_kept(runner):
    # The healthcheck asks after the process it checks ($MAINPID): on a
    # shared socket a probe could reach the old one as well.
    # overlap_timeout: long enough that the other two cases never meet it
    # on a loaded machine (a python server's start, two probes).
    d, port, foster, _, sock, _ = start_web(runner, extra='overlap_timeout = "3s"\n'
                                        'healthcheck = { command = ["sh", "-c", "test ! -e ' + str(runner.tmp) +
                                        '/sick.$MAINPID"], interval = "100ms", retries = 2 }', dependent=False)
    wait_service(sock, "web", lambda s: s["health"] == "healthy")
    old = status_json(sock)["web"]["pid"]
    cases = [
        ("exit", "0.1", "the new process exited (exit 3) before it was ready"),
        ("hang", "0", "the new process did not become ready within overlap_timeout (3s)"),
        ("sick", "0.1", "the new process was unhealthy after 2 failed checks"),
    ]
    for behavior, delay, why in cases:
        (d / "behavior").write_text(behavior)
        (d / "delay").write_text(delay)
        before = len(events(d, "start"))
        r = ctl(sock, "restart", "--overlap", "web")
        assert r.returncode == 1, (behavior, r.stderr)
        assert f"web: {why}; the old process (pid {old}) keeps running" in r.stderr, r.stderr
        new = events(d, "start")[before][0]
        wait_until(lambda: not alive(foster, new), what=f"the failed new server ({behavior}) to be gone")
        web = wait_service(sock, "web", lambda s: s["overlap"] is None)
        assert web["pid"] == old and web["state"] == "running", web
        assert alive(foster, old)
        assert f"overlapping restart failed: {why}" in foster.stderr()
    # The old one still serves, and is healthy (its health was kept).
    assert status_json(sock)["web"]["health"] == "healthy"
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=PROMPT) as c:
        c.sendall(b"hi")
        assert c.makefile("rb").readline() == b"ok %d\n" % old
    # The old server alone (its health probes come and go beside it).
    assert servers_below(foster) == [host_pid(foster.pid, old)], servers_below(foster)
    clean_end(runner, foster)


def servers_below(foster):
    def is_server(p):
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                return b"server.py" in f.read()
        except OSError:
            return False
    return [p for p in live_descendants(foster.pid) if is_server(p)]


def test_reload_with_restart_mode_overlap(runner):
    d, port, foster, cfg, sock, services = start_web(runner, extra='restart_mode = "overlap"')
    old = status_json(sock)["web"]["pid"]
    dep_pid = status_json(sock)["dep"]["pid"]
    client = Client(port)
    client.start()
    wait_until(lambda: client.answers, what="a first answer")
    (d / "hold").touch()  # the new server: an overlap the polls below see under load too
    import textwrap
    write_config(cfg, config_text(sock, textwrap.dedent(services.replace(
        'restart_mode = "overlap"', 'restart_mode = "overlap"\nenvironment = { VERSION = "2" }'))))
    assert ctl(sock, "reload").returncode == 0
    during = wait_service(sock, "web", lambda s: s["overlap"] is not None)
    assert during["overlap"]["pid"] == old
    (d / "hold").unlink()
    web = wait_service(sock, "web", lambda s: s["overlap"] is None and s["state"] == "running")
    assert web["pid"] != old
    with open(f"/proc/{host_pid(foster.pid, web['pid'])}/environ", "rb") as f:
        assert b"VERSION=2" in f.read().split(b"\0")
    answered = len(client.answers)
    wait_until(lambda: len(client.answers) > answered + 5, what="answers after the reload")
    client.finish()
    assert client.refused == 0 and client.failed == 0, client.failures[:5]
    assert status_json(sock)["dep"]["pid"] == dep_pid, "a dependent is not restarted"
    wait_until(lambda: not alive(foster, old), what="the old server to be gone")
    clean_end(runner, foster)


def test_overlap_refused_twice_and_stopped_with_the_service(runner):
    d, port, foster, _, sock, _ = start_web(runner, dependent=False)
    (d / "behavior").write_text("hang")
    old = status_json(sock)["web"]["pid"]
    first = overlap_in_background(sock)
    during = wait_service(sock, "web", lambda s: s["overlap"] is not None and s["pid"] not in (None, old))
    new = during["pid"]
    second = ctl(sock, "restart", "--overlap", "web")
    assert second.returncode == 1
    assert (f"web: an overlapping restart is still in progress (pid {old} serving); try again once it is over"
            in second.stderr), second.stderr
    # A stop stops both runs.
    assert ctl(sock, "stop", "web").returncode == 0
    _, err = first.communicate(timeout=PROMPT)
    assert first.returncode == 1
    assert "the service was stopped during the overlapping restart" in err, err
    assert not alive(foster, old) and not alive(foster, new)
    assert status_json(sock)["web"]["state"] == "stopped"
    assert status_json(sock)["web"]["overlap"] is None
    # The old process crashing while it serves is not restarted and does not
    # count: the new one takes over once ready.
    (d / "behavior").write_text("ok")
    assert ctl(sock, "start", "web").returncode == 0
    before = status_json(sock)["web"]
    old = before["pid"]
    # The new server is held back from READY=1 until the old one is killed:
    # CI's ASan run missed a 1 s window (the old one was stopped, rightly,
    # once the new was ready).
    (d / "hold").touch()
    crash = overlap_in_background(sock)
    wait_service(sock, "web", lambda s: s["overlap"] is not None and s["pid"] not in (None, old))
    os.kill(wait_until(lambda: host_pid(foster.pid, old), what=f"old server {old}, {status_json(sock)}"),
            signal.SIGKILL)
    # foster has seen the old one die (it drains what it left, or is gone).
    wait_service(sock, "web", lambda s: s["overlap"] is None or s["overlap"]["role"] == "draining")
    (d / "hold").unlink()
    _, err = crash.communicate(timeout=PROMPT)
    assert crash.returncode == 0, err
    web = status_json(sock)["web"]
    assert web["state"] == "running" and web["pid"] != old and web["overlap"] is None, web
    assert web["restarts"] == 0 and web["exit_status"] == before["exit_status"], (before, web)
    assert "exited (killed by SIGKILL) during the overlapping restart; not restarted" in foster.stderr()
    # SIGTERM to foster during an overlap: both are stopped, foster exits 0.
    old = web["pid"]
    (d / "behavior").write_text("hang")
    third = overlap_in_background(sock)
    during = wait_service(sock, "web", lambda s: s["overlap"] is not None and s["pid"] not in (None, old))
    assert not zombies_of(foster.pid)
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()
    _, err = third.communicate(timeout=PROMPT)
    assert third.returncode != 0, err
    assert events(d, "stop")[-1][0] == old, "the old server was stopped by its stop_signal"
    assert not runner.strays()
