"""Fault injection, bounded in time: foster as a non-root user under a low
RLIMIT_NPROC, with a service crash-looping into the limit.

foster runs as uid 43210 (no passwd entry needed; no other process on the
machine has it, so the count of its processes is this test's alone), from
copies of the binaries in a 0755 directory that user can reach. Needs root
(to switch users) and setpriv."""
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from ctl_helpers import BASE_ENV, FOSTERCTL, ctl, service, wait_answering, wait_state
from helpers import PROMPT, descendants, kill_if_same, read_stat, wait_until
from svc_helpers import q, write_config

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                                reason="needs root and setpriv")

UID = 43210


@pytest.fixture
def user_dir():
    d = Path(tempfile.mkdtemp(prefix="foster-faults-", dir="/tmp"))
    d.chmod(0o755)
    (d / "bin").mkdir(mode=0o755)
    from conftest import FOSTER
    for binary in (FOSTER, FOSTERCTL):
        shutil.copy(binary, d / "bin")
    (d / "run").mkdir(mode=0o755)
    os.chown(d / "run", UID, UID)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def start_as_user(runner, d, config, nproc):
    def limit():
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    cmd = ["setpriv", f"--reuid={UID}", f"--regid={UID}", "--clear-groups", "--",
           str(d / "bin" / "foster"), "-c", config]
    runner.count += 1
    err = open(runner.path(f"foster{runner.count}.err"), "wb")
    popen = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                             preexec_fn=limit, env=dict(BASE_ENV), process_group=0)
    err.close()
    return popen, runner.path(f"foster{runner.count}.err")


def test_fork_failing_with_eagain_is_logged_once_and_recovers(plain_runner, user_dir):
    sock = user_dir / "run" / "ctl.sock"
    hogs = "".join(f"""
[services.hog{i}]
command = ["sleep", "1000"]
""" for i in range(4))
    # Four hogs and foster fill RLIMIT_NPROC = 5: every start of `crash`
    # (after the hogs) fails in clone with EAGAIN until a hog stops.
    config = write_config(user_dir / "foster.toml", f"""
[foster]
control_socket = {q(sock)}
shutdown_timeout = "5s"
{hogs}
[services.crash]
command = ["sh", "-c", "exit 1"]
depends_on = ["hog0", "hog1", "hog2", "hog3"]
restart = "always"
restart_delay = "20ms"
restart_delay_max = "50ms"
start_limit_interval = "0"
""")
    popen, err_path = start_as_user(plain_runner, user_dir, config, nproc=5)
    try:
        wait_until(lambda: sock.exists() or popen.poll() is not None, what="the control socket")
        assert popen.poll() is None, Path(err_path).read_text()
        for i in range(4):
            wait_state(sock, f"hog{i}", "running")

        # Ten failed attempts at least (the restarts counter counts them).
        wait_until(lambda: service(sock, "crash")["restarts"] >= 10, timeout=PROMPT * 2,
                   what="crash to retry ten times")
        log = Path(err_path).read_text()
        failures = [l for l in log.splitlines() if "crash: cannot start a process for 'sh'" in l]
        assert len(failures) == 1, log
        assert "Resource temporarily unavailable" in failures[0]
        assert popen.poll() is None   # foster survived

        # A process frees up: crash starts again (and crash-loops, as it
        # should), and the failures it did not log are counted in one line.
        assert ctl(sock, "stop", "hog3").returncode == 0
        wait_until(lambda: re.search(r"crash: started after (\d+) more failed attempt\(s\) \(cannot start a "
                                     r"process for 'sh': Resource temporarily unavailable\)",
                                     Path(err_path).read_text()),
                   what="crash to start again")
        n = int(re.search(r"started after (\d+) more", Path(err_path).read_text()).group(1))
        assert n >= 8
        # Filled again: a new series, logged once more.
        assert ctl(sock, "stop", "crash").returncode == 0
        assert ctl(sock, "start", "hog3").returncode == 0
        wait_state(sock, "hog3", "running")
        assert ctl(sock, "start", "crash", "--no-wait").returncode == 0
        wait_until(lambda: Path(err_path).read_text().count("crash: cannot start a process for 'sh'") == 2,
                   timeout=PROMPT * 2, what="a new series of failures, logged once")
        popen.send_signal(signal.SIGTERM)
        assert popen.wait(PROMPT * 2) == 0, Path(err_path).read_text()
    finally:
        for pid in descendants(popen.pid):
            st = read_stat(pid)
            if st:
                kill_if_same(pid, st[3])
        if popen.poll() is None:
            popen.kill()
        popen.wait()


def fds_of(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks."""
    text = Path(f"/proc/{pid}/stat").read_text()
    rest = text[text.rindex(")") + 2:].split()
    return int(rest[11]) + int(rest[12])


def test_descriptor_exhaustion_fails_cleanly_and_recovers(plain_runner):
    """foster under RLIMIT_NOFILE = its idle count + 8, with three prefix
    services (one crash-looping, so it keeps needing pipes) and 40 control
    clients that hold their connections: accepting and spawning fail with
    EMFILE, foster neither spins nor dies, and once the clients go it
    serves again, the service starts again, and its fd count is what it was."""
    import socket as socketlib
    sock = plain_runner.tmp / "ctl.sock"
    config = write_config(plain_runner.tmp / "foster.toml", f"""
[foster]
control_socket = {q(sock)}
shutdown_timeout = "5s"

[services.talk1]
command = ["sh", "-c", "while :; do echo one; sleep 0.05; done"]
stdout = "prefix"

[services.talk2]
command = ["sh", "-c", "while :; do echo two >&2; sleep 0.05; done"]
stdout = "prefix"
stderr = "prefix"

[services.crash]
command = ["sh", "-c", "echo crashing; sleep 0.05; exit 1"]
stdout = "prefix"
stderr = "prefix"
restart = "always"
restart_delay = "20ms"
restart_delay_max = "50ms"
start_limit_interval = "0"
""")
    # A first run, unlimited, to learn foster's idle descriptor count.
    probe = plain_runner.start(["-c", config], env=dict(BASE_ENV))
    wait_answering(probe, str(sock))
    for name in ("talk1", "talk2"):
        wait_state(sock, name, "running")
    assert ctl(sock, "stop", "crash").returncode == 0
    idle = fds_of(probe.pid)   # two prefix services running, crash stopped
    probe.send(signal.SIGTERM)
    assert probe.wait() == 0, probe.stderr()

    limit = idle + 8
    foster = plain_runner.start(
        ["-c", config], env=dict(BASE_ENV),
        preexec=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit)))
    wait_answering(foster, str(sock))
    for name in ("talk1", "talk2"):
        wait_state(sock, name, "running")
    restarts_before = service(sock, "crash")["restarts"]

    clients = []
    try:
        for _ in range(40):
            c = socketlib.socket(socketlib.AF_UNIX, socketlib.SOCK_STREAM)
            c.connect(str(sock))   # queued in the backlog once foster cannot accept
            clients.append(c)
        wait_until(lambda: fds_of(foster.pid) >= limit - 1, what="foster to run out of descriptors")
        # Out of descriptors for a second: foster must wait, not spin on the
        # listener (a spin is a whole core; 30 of 100 ticks leaves room for
        # the crash loop's failed spawns on a loaded machine).
        t0 = cpu_ticks(foster.pid)
        time.sleep(1)
        assert cpu_ticks(foster.pid) - t0 < 30 * os.sysconf("SC_CLK_TCK") // 100
        assert foster.running()
    finally:
        for c in clients:
            c.close()

    # Recovered: it answers, the crash loop goes on, and nothing leaked.
    wait_answering(foster, str(sock))
    wait_until(lambda: service(sock, "crash")["restarts"] >= restarts_before + 3, what="crash to restart again")
    assert "Too many open files" in foster.stderr()
    assert ctl(sock, "stop", "crash").returncode == 0
    wait_until(lambda: fds_of(foster.pid) == idle, what=f"foster's fd count back to {idle}")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()
