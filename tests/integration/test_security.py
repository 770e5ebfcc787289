"""The claims of docs/SECURITY.md, as root.

Files foster refuses: a config file or control socket directory that someone
other than root can change, at start, at --check, at a reload and in
`fosterctl -c FILE`. A service as `nobody`: exactly nobody's groups and ids,
none of foster's descriptors, cannot signal foster, cannot connect to the
control socket, and its capabilities are the ones the page says.

Needs root (chown, and running a service as another user) and, for the
service tests, a `nobody` account."""
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from ctl_helpers import BASE_ENV, ctl, start_foster, wait_answering, wait_state
from helpers import PROMPT, read_text, wait_until
from svc_helpers import q, write_config

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the rules apply to a root foster")

STRANGER = 43210   # neither root nor us; chown needs no passwd entry

SERVICE = """
[services.a]
command = ["sleep", "1000"]
"""


def nobody():
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no `nobody` account")


def config(tmp, sock=None, name="foster.toml"):
    sock = sock or tmp / "ctl.sock"
    return write_config(tmp / name, f'[foster]\ncontrol_socket = {q(sock)}\n' + SERVICE)


def make_untrusted(tmp, kind):
    """A config of the given fault; returns (path given to foster, the
    text the refusal must contain)."""
    cfg = config(tmp)
    if kind == "world-writable":
        os.chmod(cfg, 0o646)
        return cfg, f"{cfg}: not trusted: {cfg} is writable by others (mode 0646)"
    if kind == "group-writable":
        os.chmod(cfg, 0o664)
        return cfg, f"{cfg} is writable by its group (mode 0664)"
    if kind == "other owner":
        os.chown(cfg, STRANGER, 0)
        return cfg, f"{cfg} is owned by uid {STRANGER}, not root"
    link = str(tmp / "link.toml")
    os.symlink(cfg, link)
    os.lchown(link, STRANGER, 0)
    return link, f"symlink {link} is owned by uid {STRANGER}, not root"


def foster_run(runner, *args):
    return runner.run(list(args), env=dict(BASE_ENV))


KINDS = ["world-writable", "group-writable", "other owner", "symlink"]


@pytest.mark.parametrize("kind", KINDS)
def test_untrusted_config_is_refused_at_start_and_check(plain_runner, kind):
    cfg, reason = make_untrusted(plain_runner.tmp, kind)
    for args in (["--check", "-c", cfg], ["-c", cfg]):
        status, _, err = foster_run(plain_runner, *args)
        assert status == 2, err
        assert reason in err
        assert "foster runs as root" in err
    assert not (plain_runner.tmp / "ctl.sock").exists()   # nothing was started


def test_trusted_config_is_accepted(plain_runner):
    cfg = config(plain_runner.tmp)
    link = plain_runner.tmp / "root-link.toml"
    os.symlink(cfg, link)   # root's own symlink: the target decides
    for path in (cfg, str(link)):
        status, _, err = foster_run(plain_runner, "--check", "-c", path)
        assert status == 0, err


def test_untrusted_config_refuses_a_reload(plain_runner):
    foster, cfg, sock = start_foster(plain_runner, SERVICE)
    before = wait_state(sock, "a", "running")["pid"]
    os.chmod(cfg, 0o666)
    r = ctl(sock, "reload")
    assert r.returncode != 0
    assert f"{cfg} is writable by others (mode 0666)" in r.stdout + r.stderr
    wait_until(lambda: "reload refused" in foster.stderr(), what="the refusal in foster's log")
    assert f"{cfg}: not trusted: {cfg} is writable by others" in foster.stderr()
    assert wait_state(sock, "a", "running")["pid"] == before
    os.chmod(cfg, 0o644)
    assert ctl(sock, "reload").returncode == 0
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


@pytest.mark.parametrize("fault", ["world-writable", "other owner"])
def test_untrusted_control_socket_directory_is_refused(plain_runner, fault):
    d = plain_runner.tmp / "run"
    d.mkdir(mode=0o755)
    if fault == "world-writable":
        os.chmod(d, 0o777)
        reason = f"directory {d} is writable by others (mode 0777)"
    else:
        os.chown(d, STRANGER, 0)
        reason = f"directory {d} is owned by uid {STRANGER}"
    cfg = config(plain_runner.tmp, sock=d / "ctl.sock")
    for args in (["--check", "-c", cfg], ["-c", cfg]):
        status, _, err = foster_run(plain_runner, *args)
        assert status == 2, err
        assert f"control socket {d}/ctl.sock not trusted: {reason}" in err
    assert not (d / "ctl.sock").exists()


@pytest.mark.parametrize("kind", ["world-writable", "symlink"])
def test_fosterctl_as_root_refuses_an_untrusted_config(plain_runner, kind):
    """FILE decides where root's commands go: the same rule as foster's."""
    cfg, reason = make_untrusted(plain_runner.tmp, kind)
    r = ctl(None, "-c", cfg, "status")
    assert r.returncode == 2, r.stderr
    assert reason in r.stderr
    r = ctl(None, "-c", config(plain_runner.tmp, name="good.toml"), "status")
    assert "not trusted" not in r.stderr   # a trusted FILE: only unreachable
