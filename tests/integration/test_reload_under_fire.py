"""Reload under fire, bounded in time: a broken file, a deleted file, a file
caught half-written (in place) and then replaced, and a storm of 100
SIGHUPs within a second. Every running service keeps its pid unless its
own table changed; a refused reload changes nothing (pids, held sockets);
after the storm each changed service was restarted exactly once.

Observed through `fosterctl status --json`, /proc and files the services
write when they start; foster's log is not read."""
import os
import signal
import time

import pytest

from ctl_helpers import ctl, start_foster, status_json, wait_service, wait_state
from svc_helpers import lines, q, write_config


def pids(sock):
    return {name: s["pid"] for name, s in status_json(sock).items()}


def services_text(d, c_arg, with_d=False):
    def starts(name, arg):
        return q(f"echo {arg} >> {d}/{name}.starts; exec sleep {arg}")
    text = f"""
[services.a]
command = {starts("a", 1000)}

[services.b]
command = {starts("b", 1000)}
[services.b.sockets]
http = {{ listen = {q(d / "b.sock")} }}

[services.c]
command = {starts("c", c_arg)}
"""
    if with_d:
        text += f"""
[services.d]
command = {starts("d", 1000)}
"""
    return text


@pytest.mark.parametrize("mode", ["pid1"], indirect=True)
def test_refused_reloads_change_nothing_and_a_storm_applies_the_last_file_once(runner):
    d = runner.tmp
    foster, cfg, sock = start_foster(runner, services_text(d, 1001))
    for name in "abc":
        wait_state(sock, name, "running")
    before = pids(sock)
    socket_inode = os.stat(d / "b.sock").st_ino
    head = open(cfg).read().split("[services.a]")[0]

    def unchanged(what):
        assert pids(sock) == before, what
        assert os.stat(d / "b.sock").st_ino == socket_inode, what
        for name in "abc":
            assert len(lines(d / f"{name}.starts")) == 1, (what, name)

    # A broken file: refused, by fosterctl reload and by SIGHUP alike.
    write_config(cfg, head + services_text(d, 1001) + "\n[services.c]\ncommand = 'dup'\n")
    r = ctl(sock, "reload")
    assert r.returncode == 1, r
    foster.send(signal.SIGHUP)
    unchanged("broken file")

    # A deleted file.
    os.unlink(cfg)
    assert ctl(sock, "reload").returncode == 1
    foster.send(signal.SIGHUP)
    unchanged("deleted file")

    # Caught half-written in place (truncate, write part of it): refused.
    new_text = head + services_text(d, 1002, with_d=True)
    with open(cfg, "w") as f:
        cut = new_text.index("[services.c]") + len("[services.c]\ncommand = \"echo")
        f.write(new_text[:cut])
        f.flush()
        assert ctl(sock, "reload").returncode == 1
        unchanged("half-written file")
        # The rest arrives; the storm then finds the whole file.
        f.write(new_text[cut:])

    # 100 SIGHUPs within a second: ten bursts of ten, 50 ms apart, so that
    # some arrive while foster is busy with the reload the previous ones asked.
    for _ in range(10):
        for _ in range(10):
            foster.send(signal.SIGHUP)
        time.sleep(0.05)
    assert ctl(sock, "reload").returncode == 0   # after every SIGHUP was taken
    wait_service(sock, "c", lambda s: s["state"] == "running" and s["pid"] != before["c"])
    wait_state(sock, "d", "running")
    after = pids(sock)
    assert (after["a"], after["b"]) == (before["a"], before["b"])
    assert os.stat(d / "b.sock").st_ino == socket_inode
    assert lines(d / "c.starts") == ["1001", "1002"]
    assert lines(d / "d.starts") == ["1000"]
    assert len(lines(d / "a.starts")) == len(lines(d / "b.starts")) == 1

    # And a reload replacing the file by rename, changing nothing, is a no-op.
    write_config(cfg, new_text)
    assert ctl(sock, "reload").returncode == 0
    assert pids(sock) == after
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()
