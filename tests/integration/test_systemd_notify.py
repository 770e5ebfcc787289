"""foster as a systemd unit (Type=notify): what it sends to $NOTIFY_SOCKET,
read from a socket of the test's own, as systemd would (sd_notify(3)).
No running systemd is needed: the protocol is a unix datagram socket."""
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import FOSTER
from helpers import PROMPT, wait_until
from svc_helpers import (NOTIFY_SERVICE, exists, q, read_text, script, start,
                         stays_false, wait_file, write_config)
from ctl_helpers import ctl
from systemd_helpers import NotifyListener

FOSTER_STATIC = os.environ.get("FOSTER_STATIC_BIN") or str(Path(FOSTER).with_name("foster-static"))


@pytest.fixture
def systemd(tmp_path):
    listener = NotifyListener(tmp_path)
    yield listener
    listener.close()


def ready(m):
    return m.get("READY") == "1"


def test_ready_only_once_every_autostart_service_is_ready(plain_runner, systemd):
    """READY=1 waits for a notify service's own READY=1 and for what depends
    on it; MAINPID is foster; STATUS says how many run."""
    d = plain_runner.tmp
    svc = script(d, "notify.py", NOTIFY_SERVICE)
    foster, _ = start(plain_runner, f"""
        [services.db]
        command = ["/usr/bin/python3", {q(svc)}, {q(d)}, "db"]
        type = "notify"

        [services.web]
        command = ["sleep", "1000"]
        depends_on = ["db"]

        [services.manual]
        command = ["sleep", "1000"]
        autostart = false
        """, env=systemd.env())
    wait_file(d / "db.addr")
    stays_false(lambda: any(ready(m) for m in (x for _, x in systemd.drain())), 0.5,
                "foster said READY=1 before db was ready")
    (d / "db.go").touch()
    m = systemd.wait_for(ready, what="READY=1")
    assert m["MAINPID"] == str(foster.pid)
    assert m["STATUS"] == "2 running, 1 stopped", m
    # db's own READY=1 went to foster's socket, not to systemd's.
    assert read_text(str(d / "db.addr")) != systemd.address
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_ready_still_comes_when_an_autostart_service_is_fatal(plain_runner, systemd):
    """A service that cannot run does not leave `systemctl start` hanging:
    READY=1 comes, and STATUS names it."""
    foster, _ = start(plain_runner, """
        [services.db]
        command = ["/nonexistent/db"]

        [services.web]
        command = ["sleep", "1000"]
        """, env=systemd.env())
    m = systemd.wait_for(ready, what="READY=1")
    assert m["STATUS"] == "1 running, 1 fatal (db)", m
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_status_follows_state_changes(plain_runner, systemd):
    sock = plain_runner.tmp / "ctl.sock"
    foster, _ = start(plain_runner, """
        [services.a]
        command = ["sleep", "1000"]

        [services.b]
        command = ["sleep", "1000"]
        """, env=systemd.env(FOSTER_SOCKET=str(sock)))
    systemd.wait_for(ready, what="READY=1")
    assert ctl(sock, "stop", "b").returncode == 0
    systemd.wait_for(lambda m: m.get("STATUS") == "1 running, 1 stopped", what="STATUS after the stop")
    assert ctl(sock, "start", "b").returncode == 0
    systemd.wait_for(lambda m: m.get("STATUS") == "2 running" and "READY" not in m, what="STATUS after the start")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_backoff_names_the_service_and_its_exit(plain_runner, systemd):
    foster, _ = start(plain_runner, """
        [services.web]
        command = "exit 3"
        restart_delay = "5s"
        """, env=systemd.env())
    systemd.wait_for(lambda m: m.get("STATUS") == "1 backoff (web: exit 3)", what="STATUS with the backoff")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_no_status_message_without_a_change(plain_runner, systemd):
    """STATUS= is sent on changes only: an idle foster sends nothing."""
    foster, _ = start(plain_runner, """
        [services.a]
        command = ["sleep", "1000"]
        """, env=systemd.env())
    systemd.wait_for(ready, what="READY=1")
    count = len(systemd.drain())
    stays_false(lambda: len(systemd.drain()) > count, 1.0, "foster sent a message with nothing changed")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


@pytest.mark.parametrize("valid", [True, False], ids=["applied", "refused"])
def test_reload_is_announced_with_reloading_then_ready(plain_runner, systemd, valid):
    foster, cfg = start(plain_runner, """
        [services.a]
        command = ["sleep", "1000"]
        """, env=systemd.env())
    systemd.wait_for(ready, what="READY=1")
    start_index = len(systemd.drain())
    write_config(cfg, """
        [services.a]
        command = ["sleep", "1000"]

        [services.b]
        command = ["sleep", "1000"]
        """ if valid else """
        [services.a]
        command = 7
        """)
    before = time.monotonic()
    foster.send(signal.SIGHUP)
    m, i = systemd.wait_after(start_index, lambda m: m.get("RELOADING") == "1", what="RELOADING=1")
    usec = int(m["MONOTONIC_USEC"])
    # CLOCK_MONOTONIC, the clock time.monotonic() reads, in microseconds.
    assert before * 1e6 - 1e6 < usec < time.monotonic() * 1e6 + 1e6, (usec, before)
    m, _ = systemd.wait_after(i + 1, ready, what="READY=1 after the reload")
    if valid:
        assert "refused" not in m["STATUS"], m
        systemd.wait_for(lambda m: m.get("STATUS") == "2 running", what="STATUS with b")
    else:
        assert "reload refused" in m["STATUS"] and ":3:" in m["STATUS"], m
        assert m["STATUS"].startswith("1 running"), m
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_stopping_at_sigterm(plain_runner, systemd):
    foster, _ = start(plain_runner, """
        [services.a]
        command = ["sleep", "1000"]
        """, env=systemd.env())
    systemd.wait_for(ready, what="READY=1")
    foster.send(signal.SIGTERM)
    m = systemd.wait_for(lambda m: m.get("STOPPING") == "1", what="STOPPING=1")
    assert m["STATUS"].startswith("stopping"), m
    assert foster.wait() == 0, foster.stderr()


def test_watchdog_pings_at_half_the_interval(plain_runner, systemd):
    """WATCHDOG_USEC=300ms: a ping every 150 ms. Over a window the count is
    bounded on both sides (a loaded machine may delay a ping, never add one)."""
    foster, _ = start(plain_runner, """
        [services.a]
        command = ["sleep", "1000"]
        """, env=systemd.env(WATCHDOG_USEC="300000"))
    systemd.wait_for(ready, what="READY=1")
    first = systemd.wait_for(lambda m: m.get("WATCHDOG") == "1", what="WATCHDOG=1")
    assert first
    n0 = sum(1 for _, m in systemd.drain() if m.get("WATCHDOG") == "1")
    pings = [t for t, m in systemd.collect(1.5) if m.get("WATCHDOG") == "1"]
    in_window = len(pings) - n0
    assert 4 <= in_window <= 11, f"{in_window} pings in 1.5 s at a 150 ms period"
    gaps = [b - a for a, b in zip(pings[n0:], pings[n0 + 1:])]
    assert min(gaps) > 0.1, f"pings {min(gaps):.3f} s apart: faster than half the interval"
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


@pytest.mark.parametrize("extra, seconds, why", [
    ({}, 1.0, "a watchdog nobody asked for"),
    # WATCHDOG_PID names another process: the watchdog is not foster's.
    ({"WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"}, 0.6, "a watchdog meant for pid 1"),
], ids=["no WATCHDOG_USEC", "WATCHDOG_PID of another process"])
def test_no_watchdog_pings_that_are_not_foster_s(plain_runner, systemd, extra, seconds, why):
    foster, _ = start(plain_runner, """
        [services.a]
        command = ["sleep", "1000"]
        """, env=systemd.env(**extra))
    systemd.wait_for(ready, what="READY=1")
    stays_false(lambda: any(m.get("WATCHDOG") for _, m in systemd.drain()), seconds,
                f"foster pinged {why}")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_services_never_see_foster_s_systemd_variables(plain_runner, systemd):
    d = plain_runner.tmp
    dump = f"env > {d}/env.txt; exec sleep 1000"
    foster, _ = start(plain_runner, f"""
        [services.a]
        command = {q(dump)}
        """, env=systemd.env(WATCHDOG_USEC="10000000", LISTEN_FDS="0", LISTEN_PID="1"))
    systemd.wait_for(ready, what="READY=1")
    wait_until(lambda: "PATH=" in (read_text(str(d / "env.txt")) or ""), PROMPT)
    env = read_text(str(d / "env.txt"))
    assert not re.search(r"^(NOTIFY_SOCKET|WATCHDOG_\w+|LISTEN_\w+)=", env, re.M), env
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_abstract_notify_socket(plain_runner, tmp_path):
    listener = NotifyListener(tmp_path, abstract=True)
    try:
        foster, _ = start(plain_runner, """
            [services.a]
            command = ["sleep", "1000"]
            """, env=listener.env())
        assert listener.wait_for(ready, what="READY=1")["STATUS"] == "1 running"
        foster.send(signal.SIGTERM)
        assert foster.wait() == 0, foster.stderr()
    finally:
        listener.close()


def test_pid1_notifies_too(tmp_path, systemd, binaries):
    """As PID 1 of a PID namespace (a container run by a systemd unit)."""
    from conftest import Runner
    r = Runner("pid1", tmp_path)
    try:
        foster, _ = start(r, """
            [services.a]
            command = ["sleep", "1000"]
            """, env=systemd.env())
        m = systemd.wait_for(ready, what="READY=1")
        assert m["STATUS"] == "1 running"
        foster.send(signal.SIGTERM)
        systemd.wait_for(lambda m: m.get("STOPPING") == "1", what="STOPPING=1")
        assert foster.wait() == 0, foster.stderr()
    finally:
        r.cleanup()


def test_entrypoint_mode_leaves_notify_socket_to_program(plain_runner, systemd):
    """PROGRAM gets NOTIFY_SOCKET as it was and notifies for itself; foster
    sends nothing of its own."""
    d = plain_runner.tmp
    code = ("import os, socket; a = os.environ['NOTIFY_SOCKET']; "
            "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); "
            "s.sendto(b'READY=1\\nSTATUS=program', a); "
            f"open('{d}/sent', 'w').close()")
    foster = plain_runner.start([], ["/usr/bin/python3", "-c", code], env=systemd.env())
    assert foster.wait() == 0, foster.stderr()
    wait_file(d / "sent")
    msgs = [m for _, m in systemd.drain()]
    assert msgs == [{"READY": "1", "STATUS": "program"}], msgs


def test_both_mode_ready_after_program_started_and_program_without_notify_socket(plain_runner, systemd):
    d = plain_runner.tmp
    program = ["/bin/sh", "-c", f"env > {d}/program.env; exec sleep 1000"]
    foster, _ = start(plain_runner, """
        [services.side]
        command = ["sleep", "1000"]
        """, program=program, env=systemd.env(WATCHDOG_USEC="10000000"))
    m = systemd.wait_for(ready, what="READY=1")
    assert "1 running" in m["STATUS"], m
    wait_until(lambda: "PATH=" in (read_text(str(d / "program.env")) or ""), PROMPT)
    env = read_text(str(d / "program.env"))
    assert not re.search(r"^(NOTIFY_SOCKET|WATCHDOG_\w+)=", env, re.M), env
    foster.send(signal.SIGTERM)
    assert foster.wait() == 128 + signal.SIGTERM, foster.stderr()


def test_static_build_says_once_it_cannot_notify(plain_runner, systemd):
    if not os.access(FOSTER_STATIC, os.X_OK):
        pytest.skip(f"{FOSTER_STATIC} is not built")
    env = systemd.env()
    cfg = write_config(plain_runner.tmp / "foster.toml", """
        [services.a]
        command = ["sleep", "1000"]
        """)
    env["FOSTER_SOCKET"] = str(plain_runner.tmp / "ctl.sock")
    p = subprocess.Popen([FOSTER_STATIC, "-c", cfg], env=env, stderr=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, text=True)
    try:
        wait_until(lambda: exists(plain_runner.tmp / "ctl.sock"), PROMPT)
        stays_false(lambda: systemd.drain(), 0.3, "foster-static sent a notify message")
    finally:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=PROMPT)
    assert p.returncode == 0, err
    assert err.count("no systemd support") == 1, err
