"""Helpers for the fosterctl and healthcheck tests: a foster with a control
socket of its own (in the test's directory), fosterctl runs, raw protocol
exchanges and the status of the services as foster reports it.

Everything waits with a bound (helpers.wait_until); nothing sleeps and hopes.
"""
import json
import os
import socket
import subprocess
import textwrap
import time
from pathlib import Path

from conftest import FOSTER
from helpers import PROMPT, read_stat, wait_until
from svc_helpers import q, write_config


def _fosterctl_path():
    build = os.environ.get("BUILD_DIR")
    if build:
        return str(Path(build) / "fosterctl")
    return str(Path(FOSTER).resolve().parent / "fosterctl")


FOSTERCTL = _fosterctl_path()

# The environment fosterctl and foster run with: no socket from the
# environment, so that -s / the config decide (and never /run/foster.sock).
BASE_ENV = {k: v for k, v in os.environ.items() if k != "FOSTER_SOCKET"}


def ctl(sock, *args, timeout=PROMPT + 10, env=None, fosterctl=FOSTERCTL, **kwargs):
    """Runs `fosterctl -s SOCK ARGS...` (sock None: no -s); returns the
    CompletedProcess (text stdout/stderr, returncode). `fosterctl`: another
    copy of it, e.g. one that a test running it as another user can reach."""
    assert os.access(fosterctl, os.X_OK), f"{fosterctl} is not built"
    cmd = [fosterctl] + (["-s", str(sock)] if sock is not None else []) + [str(a) for a in args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env=dict(BASE_ENV if env is None else env),
                          stdin=subprocess.DEVNULL, **kwargs)


def timed_ctl(sock, *args, **kwargs):
    """ctl, and how long it took (seconds)."""
    t0 = time.monotonic()
    r = ctl(sock, *args, **kwargs)
    return r, time.monotonic() - t0


def config_text(sock, services, shutdown_timeout="5s"):
    return (f'[foster]\ncontrol_socket = {q(sock)}\n'
            f'shutdown_timeout = {q(shutdown_timeout)}\n\n' + services)


def start_foster(runner, services, *, sock=None, name="foster.toml", wait=True,
                 args=(), **kwargs):
    """Writes a config (services: the [services.*] tables, dedented TOML)
    with control_socket in the test's directory, starts `foster -c CONFIG`
    and, if wait, waits until it answers on its socket.
    Returns (foster, config path, socket path)."""
    sock = str(sock or runner.tmp / "ctl.sock")
    cfg = write_config(runner.tmp / name,
                       config_text(sock, textwrap.dedent(services)))
    foster = runner.start(list(args) + ["-c", cfg], env=dict(BASE_ENV), **kwargs)
    if wait:
        wait_answering(foster, sock)
    return foster, cfg, sock


def wait_answering(foster, sock, timeout=PROMPT):
    def answers():
        assert foster.running(), f"foster exited: {foster.stderr()!r}"
        if not os.path.exists(sock):
            return False
        return raw_request(sock, b"foster/1 status\n").startswith(b"ok\n")
    wait_until(answers, timeout, what=f"foster to answer on {sock}")


def raw_request(sock, data, *, shut_wr=True, timeout=PROMPT):
    """Sends data on a fresh connection and reads until foster closes.
    Returns the bytes received (b"" when it closed without a word or the
    connection failed)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        try:
            s.connect(str(sock))
        except (ConnectionError, FileNotFoundError):
            return b""
        try:
            s.sendall(data)
            if shut_wr:
                s.shutdown(socket.SHUT_WR)
        except (ConnectionError, BrokenPipeError):
            pass  # foster may answer and close before taking it all
        return recv_all(s)


def recv_all(s):
    chunks = []
    while True:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def status_json(sock, *names):
    """`fosterctl status --json [NAMES]` parsed: {name: service dict}."""
    r = ctl(sock, "status", "--json", *names)
    assert r.returncode == 0, f"status --json: {r.returncode} {r.stderr!r}"
    doc = json.loads(r.stdout)
    return {s["name"]: s for s in doc["services"]}


def service(sock, name):
    return status_json(sock)[name]


def wait_service(sock, name, predicate, timeout=PROMPT, what=None):
    """Waits until predicate(the service's JSON dict) holds; returns it."""
    last = {}

    def check():
        last["s"] = service(sock, name)
        return last["s"] if predicate(last["s"]) else None
    try:
        return wait_until(check, timeout, interval=0.02,
                          what=what or f"{name} to satisfy {predicate}")
    except AssertionError as e:
        raise AssertionError(f"{e}; last status: {last.get('s')}") from None


def wait_state(sock, name, state, timeout=PROMPT):
    return wait_service(sock, name, lambda s: s["state"] == state, timeout,
                        what=f"{name} to be {state}")


def wait_health(sock, name, health, timeout=PROMPT):
    return wait_service(sock, name, lambda s: s["health"] == health, timeout,
                        what=f"{name} to be {health}")


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def pid_alive(pid):
    st = read_stat(pid)
    return st is not None and st[0] not in ("Z", "X")
