"""fosterctl logs: the recent output foster keeps of each `prefix` service —
the last N lines, several services merged in the order foster read them,
--since, --json with the run of each line across restarts, -f following new
lines as they arrive, and a follower that stops reading cut off while
foster keeps answering everyone else."""
import json
import os
import select
import socket
import subprocess
import time

from conftest import FOSTER
from ctl_helpers import BASE_ENV, FOSTERCTL, ctl, start_foster
from helpers import PROMPT, sanitized, wait_until
from svc_helpers import q


def logs_json(sock, *args):
    r = ctl(sock, "logs", "--json", *args)
    assert r.returncode == 0, f"logs --json: {r.returncode} {r.stderr!r}"
    return [json.loads(line) for line in r.stdout.splitlines()]


def wait_lines(sock, count, *args):
    """Waits until `logs --json ARGS` holds at least `count` lines; returns them."""
    return wait_until(lambda: (lambda got: got if len(got) >= count else None)(logs_json(sock, *args)),
                      PROMPT, interval=0.02, what=f"{count} lines from logs {args}")


def fifo_service(runner, name):
    """A service whose output is whatever the test writes into a FIFO."""
    path = runner.tmp / f"{name}.fifo"
    os.mkfifo(path)
    return path, f"""
        [services.{name}]
        command = {q(f"exec cat {path}")}
        stdout = "prefix"
        """


class LineReader:
    """Lines of a child's stdout, each waited for with a bound (a follower
    that gets nothing fails the test instead of hanging it)."""

    def __init__(self, stream):
        self.fd = stream.fileno()
        self.buffer = b""

    def line(self, timeout=PROMPT):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            assert left > 0 and select.select([self.fd], [], [], left)[0], "no line within the time"
            chunk = os.read(self.fd, 65536)
            assert chunk, "the follower ended"
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)


def test_last_lines_names_and_json(plain_runner):
    _, _, sock = start_foster(plain_runner, """
        [services.a]
        command = "for i in 1 2 3 4 5; do echo a$i; done; exec sleep 1000"
        stdout = "prefix"

        [services.b]
        command = "echo b-err >&2; exec sleep 1000"
        stderr = "prefix"

        [services.plain]
        command = "exec sleep 1000"
        """)
    wait_lines(sock, 6)
    r = ctl(sock, "logs", "-n", "2", "a")
    assert r.returncode == 0, r.stderr
    shown = r.stdout.splitlines()
    assert [line.split(" ", 1)[1] for line in shown] == ["a | a4", "a | a5"]
    stamp = shown[0].split(" ", 1)[0]
    assert len(stamp) == 24 and stamp.endswith("Z") and stamp[10] == "T", stamp
    lines = logs_json(sock, "a")
    assert [x["text"] for x in lines] == ["a1", "a2", "a3", "a4", "a5"]
    assert {x["stream"] for x in lines} == {"stdout"}
    assert {x["run"] for x in lines} == {1}
    assert [(x["text"], x["stream"], x["run"]) for x in logs_json(sock, "b")] == [("b-err", "stderr", 1)]
    assert abs(lines[0]["time_ms"] / 1000 - time.time()) < 60
    assert {x["name"] for x in logs_json(sock)} == {"a", "b"}
    r = ctl(sock, "logs", "plain")
    assert r.returncode == 1 and "keeps no output in memory" in r.stderr, r.stderr
    r = ctl(sock, "logs", "nosuch")
    assert r.returncode == 1 and "unknown service 'nosuch'" in r.stderr, r.stderr
    r = ctl(sock, "logs", "-n", "x")
    assert r.returncode == 2 and "bad -n value" in r.stderr, r.stderr


def test_services_merged_in_time_order(plain_runner):
    fifo_x, x = fifo_service(plain_runner, "x")
    fifo_y, y = fifo_service(plain_runner, "y")
    _, _, sock = start_foster(plain_runner, x + y)
    expected = []
    with open(fifo_x, "w") as wx, open(fifo_y, "w") as wy:
        for i in range(1, 4):
            for name, w in (("x", wx), ("y", wy)):
                w.write(f"{name}{i}\n")
                w.flush()
                expected.append(f"{name}{i}")
                wait_lines(sock, len(expected))
    lines = logs_json(sock)
    assert [x["text"] for x in lines] == expected
    times = [x["time_ms"] for x in lines]
    assert times == sorted(times), times
    r = ctl(sock, "logs", "-n", "3", "y", "x")
    assert [line.split(" ", 1)[1] for line in r.stdout.splitlines()] == ["y | y2", "x | x3", "y | y3"]


def test_since(plain_runner):
    fifo, service = fifo_service(plain_runner, "s")
    _, _, sock = start_foster(plain_runner, service)
    with open(fifo, "w") as w:
        w.write("old\n")
        w.flush()
        old = wait_lines(sock, 1)[0]
        # Time passes (a wait for the clock, not for an event).
        wait_until(lambda: time.time() * 1000 > old["time_ms"] + 1000, PROMPT)
        w.write("new\n")
        w.flush()
        wait_lines(sock, 2)
        since_ms = int(time.time() * 1000) - old["time_ms"] - 300
        r = ctl(sock, "logs", "--since", f"{since_ms}ms", "s")
        assert r.returncode == 0, r.stderr
        assert [line.split(" | ")[1] for line in r.stdout.splitlines()] == ["new"]
        assert len(logs_json(sock, "--since", "1h")) == 2


def test_lines_across_restarts_carry_their_run(plain_runner):
    _, _, sock = start_foster(plain_runner, """
        [services.r]
        command = "echo started; exit 1"
        stdout = "prefix"
        restart = "always"
        restart_delay = "50ms"
        start_limit_burst = 100
        """)
    lines = wait_lines(sock, 3, "r")
    runs = [x["run"] for x in lines]
    assert runs[:3] == [1, 2, 3], runs
    assert all(x["text"] == "started" for x in lines)


def test_follow_sees_new_lines_at_once(plain_runner):
    fifo, service = fifo_service(plain_runner, "f")
    _, _, sock = start_foster(plain_runner, service)
    follower = subprocess.Popen([FOSTERCTL, "-s", sock, "logs", "-f", "--json", "f"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=dict(BASE_ENV))
    reader = LineReader(follower.stdout)
    try:
        with open(fifo, "w") as w:
            w.write("before\n")
            w.flush()
            first = reader.line()
            assert first["text"] == "before"
            latencies = []
            for i in range(5):
                w.write(f"line{i}\n")
                w.flush()
                got = reader.line()
                latencies.append(time.time() - got["time_ms"] / 1000)
                assert got["text"] == f"line{i}"
        # Pushed when read, not polled for: even on a loaded machine one of
        # them arrives within 100 ms of foster reading it.
        assert min(latencies) < 0.1, latencies
        assert max(latencies) < 5, latencies
        assert follower.poll() is None, "-f should keep following"
    finally:
        follower.terminate()
        follower.wait(PROMPT)


def test_blocked_follower_is_cut_off_and_foster_keeps_answering(plain_runner):
    go = plain_runner.tmp / "go"
    foster, _, sock = start_foster(plain_runner, f"""
        [services.flood]
        command = {q(f"while [ ! -e {go} ]; do sleep 0.01; done; exec seq 1 400000")}
        stdout = "prefix"
        log_buffer = 10
        """)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stuck:
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.connect(sock)
        stuck.sendall(b"foster/1 logs --follow flood\n")   # and never reads
        go.touch()
        wait_until(lambda: "logs --follow client read too slowly" in foster.stderr(), PROMPT * 3,
                   what="foster to cut the follower off")
        r = ctl(sock, "status", "flood")
        assert r.returncode == 0, r.stderr
        # Foster has let go: what is left in the socket ends in EOF.
        stuck.settimeout(PROMPT)
        received = b""
        while chunk := stuck.recv(65536):
            received += chunk
        assert received.startswith(b"ok\n")
    wait_until(lambda: "flood | 400000\n" in foster.stdout(), PROMPT * 3, what="the whole flood on stdout")
    assert [x["text"] for x in logs_json(sock, "flood")] == [str(i) for i in range(399991, 400001)]


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_log_buffer_bounds_lines_and_memory(plain_runner):
    foster, _, sock = start_foster(plain_runner, """
        [services.many]
        command = "seq 1 500000; exec sleep 1000"
        stdout = "prefix"
        log_buffer = 50

        [services.none]
        command = "echo x; exec sleep 1000"
        stdout = "prefix"
        log_buffer = 0
        """)
    wait_until(lambda: "many | 500000\n" in foster.stdout(), PROMPT * 3, what="all the lines on stdout")
    assert [x["text"] for x in logs_json(sock, "many")] == [str(i) for i in range(499951, 500001)]
    # Without the bound foster would hold 500,000 lines (some 50 MiB). A
    # sanitizer build's RSS is its shadow memory and quarantine, not foster's
    # own: the bound in lines (above) is what it checks.
    if not sanitized(FOSTER):
        assert vm_rss_kib(foster.pid) < 20 * 1024
    r = ctl(sock, "logs", "none")
    assert r.returncode == 1 and "keeps no output in memory" in r.stderr, r.stderr


def test_file_and_null_outputs_are_kept_when_the_service_asks(plain_runner):
    """A file or null output is read by foster only for a service that sets
    log_buffer itself; the file still gets every line, and the plain file
    service next to it keeps nothing (it writes its file directly)."""
    d = plain_runner.tmp
    _, _, sock = start_foster(plain_runner, f"""
        [services.tofile]
        command = "echo one; echo two >&2; exec sleep 1000"
        stdout = {q(d / "tofile.log")}
        stderr = "null"
        log_buffer = 10

        [services.quiet]
        command = "echo hush; exec sleep 1000"
        stdout = "null"
        log_buffer = 10

        [services.direct]
        command = "echo direct; exec sleep 1000"
        stdout = {q(d / "direct.log")}
        """)
    got = wait_lines(sock, 3, "tofile", "quiet")
    assert sorted((l["name"], l["stream"], l["text"]) for l in got) == [
        ("quiet", "stdout", "hush"), ("tofile", "stderr", "two"), ("tofile", "stdout", "one")], got
    wait_until(lambda: (d / "tofile.log").exists() and (d / "tofile.log").read_text() == "one\n", PROMPT,
               what="the file written as well")
    wait_until(lambda: (d / "direct.log").exists() and (d / "direct.log").read_text() == "direct\n", PROMPT,
               what="the direct file")
    r = ctl(sock, "logs", "direct")
    assert r.returncode != 0 and "direct" in r.stderr, (r.returncode, r.stdout, r.stderr)
    # The direct service's stdout is its file itself, not a pipe to foster.
    pid = next(s["pid"] for s in json.loads(ctl(sock, "status", "--json").stdout)["services"] if s["name"] == "direct")
    assert os.readlink(f"/proc/{pid}/fd/1") == str(d / "direct.log")
