"""The claims of docs/SECURITY.md, as root.

Files foster refuses: a config file or control socket directory that someone
other than root can change, at start, at --check, at a reload and in
`fosterctl -c FILE`. A service as `nobody`: exactly nobody's groups and ids,
none of foster's descriptors, cannot signal foster, cannot connect to the
control socket, and its capabilities are the ones the page says.

Needs root (chown, and running a service as another user) and, for the
service tests, a `nobody` account."""
import json
import os
import pwd
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

from ctl_helpers import BASE_ENV, ctl, start_foster, wait_state
from helpers import read_text, wait_until
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


# The service reports what it could do to foster (its parent) and to the
# control socket, then stays, so the test can look at it in /proc.
PROBE_SCRIPT = r"""
import errno, json, os, socket, sys, time
result = {}
try:
    os.kill(os.getppid(), 0)
    result["kill"] = "ok"
except OSError as e:
    result["kill"] = errno.errorcode[e.errno]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1])
    result["connect"] = "ok"
except OSError as e:
    result["connect"] = errno.errorcode[e.errno]
s.close()
with open(sys.argv[2] + ".tmp", "w") as f:
    json.dump(result, f)
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
time.sleep(1000)
"""


@pytest.fixture
def shared_dir():
    """Root's 0755 directory (trusted, and one `nobody` can traverse, unlike
    pytest's 0700 tmp_path), with an `out` directory nobody owns."""
    user = nobody()
    d = Path(tempfile.mkdtemp(prefix="foster-security-", dir="/tmp"))
    d.chmod(0o755)
    (d / "out").mkdir()
    os.chown(d / "out", user.pw_uid, user.pw_gid)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def status_fields(pid):
    fields = {}
    for line in read_text(f"/proc/{pid}/status").splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.split()
    return fields


def test_a_service_as_nobody_is_only_nobody(plain_runner, shared_dir):
    user = nobody()
    sock = shared_dir / "ctl.sock"
    result = shared_dir / "out" / "result.json"
    python = shutil.which("python3", path="/usr/bin:/bin")
    # A descriptor foster inherited without close-on-exec: not the service's.
    secret = os.open(shared_dir / "secret", os.O_CREAT | os.O_WRONLY, 0o600)
    foster, _, _ = start_foster(plain_runner, f"""
        [services.a]
        user = "nobody"
        command = [{q(python)}, "-c", {q(PROBE_SCRIPT)}, {q(sock)}, {q(result)}]
        """, sock=sock, fds={9: secret})
    os.close(secret)
    assert "9" in os.listdir(f"/proc/{foster.pid}/fd")
    pid = wait_state(sock, "a", "running")["pid"]
    wait_until(result.exists, what="the service's report")
    seen = json.loads(result.read_text())

    # Cannot signal foster, cannot connect to its 0600 control socket.
    assert seen == {"kill": "EPERM", "connect": "EACCES"}
    assert os.stat(sock).st_mode & 0o777 == 0o600

    st = status_fields(pid)
    # Real, effective, saved and filesystem ids: all nobody's.
    assert st["Uid"] == [str(user.pw_uid)] * 4
    assert st["Gid"] == [str(user.pw_gid)] * 4
    # Exactly nobody's groups, none of root's.
    assert sorted(map(int, st["Groups"])) == sorted(set(os.getgrouplist("nobody", user.pw_gid)))
    # None of foster's descriptors (control socket, epoll, signalfd, pipes).
    assert sorted(map(int, os.listdir(f"/proc/{pid}/fd"))) == [0, 1, 2]
    # docs/SECURITY.md: no capabilities left, bounding set as foster's, no
    # no_new_privs.
    assert st["CapEff"] == ["0000000000000000"]
    assert st["CapPrm"] == ["0000000000000000"]
    assert st["CapAmb"] == ["0000000000000000"]
    assert st["CapBnd"] == status_fields(foster.pid)["CapBnd"]
    assert st["NoNewPrivs"] == ["0"]

    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()
