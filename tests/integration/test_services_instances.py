"""Service-runner mode: `instances = N` — N copies named NAME@1 … NAME@N, `%i`
expanded in what each one runs, each with its own state; depends_on and
fosterctl take the table's name for every instance; a reload that changes N
starts or stops only the difference; held sockets are shared."""
import os
import signal

from ctl_helpers import ctl, start_foster, status_json, wait_state
from helpers import PROMPT, wait_until
from svc_helpers import exists, q, stays_false, write_config
from ctl_helpers import config_text


def running_pids(sock, prefix):
    """{name: pid} of the running services whose name starts with prefix."""
    return {n: s["pid"] for n, s in status_json(sock).items()
            if n.startswith(prefix) and s["state"] == "running"}


def wait_running(sock, names):
    return wait_until(lambda: (lambda r: r if set(r) == set(names) else None)(running_pids(sock, names[0].split("@")[0] + "@")),
                      PROMPT, what=f"exactly {names} running")


def test_instances_are_named_counted_and_expanded(plain_runner):
    d = plain_runner.tmp
    foster, _, sock = start_foster(plain_runner, f"""
        [services.web]
        instances = 3
        command = ["sleep", "100%i"]
        environment = {{ INSTANCE = "n%i", PERCENT = "100%%", OTHER = "%s" }}
        stdout = {q(str(d) + "/web-%i.log")}
        """)
    pids = wait_running(sock, ["web@1", "web@2", "web@3"])
    for i in (1, 2, 3):
        pid = pids[f"web@{i}"]
        assert open(f"/proc/{pid}/cmdline", "rb").read() == f"sleep\x00100{i}\x00".encode()
        environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
        assert f"INSTANCE=n{i}".encode() in environ
        assert b"PERCENT=100%" in environ and b"OTHER=%s" in environ
        assert os.readlink(f"/proc/{pid}/fd/1") == f"{d}/web-{i}.log"
    # The table's name stands for every instance; NAME@N for one.
    assert set(status_json(sock, "web")) == {"web@1", "web@2", "web@3"}
    assert set(status_json(sock, "web@2")) == {"web@2"}
    r = ctl(sock, "status", "web@4")
    assert r.returncode == 1 and "unknown service 'web@4'" in r.stderr
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()[-2000:]


def test_fosterctl_acts_on_every_instance_or_one(plain_runner):
    foster, _, sock = start_foster(plain_runner, """
        [services.web]
        instances = 2
        command = ["sleep", "1000"]
        """)
    first = wait_running(sock, ["web@1", "web@2"])
    assert ctl(sock, "stop", "web@2").returncode == 0
    states = status_json(sock, "web")
    assert states["web@1"]["state"] == "running" and states["web@1"]["pid"] == first["web@1"]
    assert states["web@2"]["state"] == "stopped"
    assert ctl(sock, "stop", "web").returncode == 0
    assert {s["state"] for s in status_json(sock, "web").values()} == {"stopped"}
    assert ctl(sock, "start", "web").returncode == 0
    again = wait_running(sock, ["web@1", "web@2"])
    r = ctl(sock, "restart", "web@1")
    assert r.returncode == 0, r.stderr
    after = wait_running(sock, ["web@1", "web@2"])
    assert after["web@2"] == again["web@2"] and after["web@1"] != again["web@1"]
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()[-2000:]


def test_depends_on_waits_for_every_instance(plain_runner):
    d = plain_runner.tmp
    job = f"while [ ! -e {d}/go-%i ]; do sleep 0.05; done"
    foster, _, sock = start_foster(plain_runner, f"""
        [services.job]
        instances = 2
        type = "oneshot"
        command = {q(job)}

        [services.after]
        depends_on = ["job"]
        command = {q(f"touch {d}/after; exec sleep 1000")}
        """)
    wait_state(sock, "job@1", "starting")
    open(d / "go-1", "w").close()
    wait_state(sock, "job@1", "exited")
    stays_false(lambda: exists(d / "after"), 0.5, "after started before job@2 was done")
    open(d / "go-2", "w").close()
    wait_state(sock, "after", "running")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()[-2000:]


def test_reload_changing_the_count_starts_or_stops_only_the_difference(plain_runner):
    text = """
        [services.web]
        instances = {n}
        command = ["sleep", "1000"]
        """
    foster, cfg, sock = start_foster(plain_runner, text.format(n=3))
    three = wait_running(sock, ["web@1", "web@2", "web@3"])
    write_config(cfg, config_text(sock, text.format(n=2)))
    assert ctl(sock, "reload").returncode == 0
    wait_until(lambda: "web@3" not in status_json(sock), PROMPT, what="web@3 to be removed")
    two = wait_running(sock, ["web@1", "web@2"])
    assert two == {k: three[k] for k in ("web@1", "web@2")}, "a kept instance was restarted"
    write_config(cfg, config_text(sock, text.format(n=4)))
    assert ctl(sock, "reload").returncode == 0
    four = wait_running(sock, ["web@1", "web@2", "web@3", "web@4"])
    assert four["web@1"] == three["web@1"] and four["web@2"] == three["web@2"]
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()[-2000:]


def test_instances_share_their_held_sockets(plain_runner):
    foster, _, sock = start_foster(plain_runner, """
        [services.web]
        instances = 2
        command = ["sleep", "1000"]
        sockets.http = { listen = "127.0.0.1:0" }
        """)
    pids = wait_running(sock, ["web@1", "web@2"])
    inodes = {os.readlink(f"/proc/{pid}/fd/3") for pid in pids.values()}
    assert len(inodes) == 1 and next(iter(inodes)).startswith("socket:"), inodes
    for pid in pids.values():
        environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
        assert b"LISTEN_FDS=1" in environ
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()[-2000:]
