"""Service-runner mode: what a service starts with — empty signal mask, default
dispositions, fds 0-2 only, foster's environment minus systemd's variables
plus `environment`, umask, working_directory, user/group."""
import os
import pwd
import grp
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

from conftest import PROBE
from helpers import wait_report
from svc_helpers import q, read_text, start, state_logged, wait_log

S = signal.Signals

SYSTEMD_VARS = {"NOTIFY_SOCKET": "/run/test-notify.sock", "LISTEN_PID": "1",
                "LISTEN_FDS": "1", "LISTEN_FDNAMES": "http",
                "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}


def block_and_ignore():
    signal.pthread_sigmask(signal.SIG_BLOCK, {S.SIGUSR1, S.SIGWINCH, S.SIGTERM})
    signal.signal(S.SIGUSR2, signal.SIG_IGN)
    signal.signal(S.SIGHUP, signal.SIG_IGN)
    signal.signal(S.SIGPIPE, signal.SIG_IGN)


@pytest.mark.parametrize("preexec", [None, block_and_ignore],
                         ids=["clean", "foster-started-with-signals-blocked-and-ignored"])
def test_service_starts_clean(plain_runner, tmp_path, preexec):
    d = plain_runner.tmp
    env = dict(os.environ)
    env.update(SYSTEMD_VARS)
    env.update({"INHERITED": "from foster", "OVERRIDDEN": "old"})
    passed = tmp_path / "passed"
    passed.write_text("x")
    fd = os.open(passed, os.O_RDONLY)
    try:
        foster, _ = start(plain_runner, f"""
            [services.plain]
            command = [{q(PROBE)}, "report", {q(d / "plain.report")}, "hold"]
            environment = {{ ADDED = "yes", OVERRIDDEN = "new" }}

            [services.notified]
            command = [{q(PROBE)}, "report", {q(d / "notified.report")}, "hold"]
            type = "notify"
            """, env=env, fds={3: fd}, preexec=preexec)
    finally:
        os.close(fd)
    plain = wait_report(str(d / "plain.report"))
    notified = wait_report(str(d / "notified.report"))
    for report in (plain, notified):
        assert report["sigblk"] == "0000000000000000", report["sigblk"]
        assert report["sigign"] == "0000000000000000", report["sigign"]
        assert sorted(report["fds"]) == [0, 1, 2], report["fds"]
        assert report["env"]["INHERITED"] == "from foster"
    for name in SYSTEMD_VARS:
        assert name not in plain["env"], f"{name} leaked into the service"
        if name != "NOTIFY_SOCKET":
            assert name not in notified["env"], f"{name} leaked into the service"
    assert plain["env"]["ADDED"] == "yes"
    assert plain["env"]["OVERRIDDEN"] == "new"
    assert notified["env"]["OVERRIDDEN"] == "old"
    own = notified["env"].get("NOTIFY_SOCKET")
    assert own and own != SYSTEMD_VARS["NOTIFY_SOCKET"], (
        f"the notify service got NOTIFY_SOCKET={own!r}, not foster's own socket")
    # Each service is a session (and process group) leader of its own.
    for report in (plain, notified):
        assert report["pid"] == report["pgid"] == report["sid"]
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def status_of(text):
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        out[key] = value.split()
    return out


@pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")
def test_umask_working_directory_and_user_are_applied(plain_runner, tmp_path):
    """The service reports through its stdout file, which it opens itself
    as `nobody` (after dropping privileges): so the files are in a directory
    of nobody's, outside the test's directory (which nobody cannot reach)."""
    try:
        nobody = pwd.getpwnam("nobody")
        daemon = grp.getgrnam("daemon").gr_gid
    except KeyError:
        pytest.skip("needs the user nobody and the group daemon")
    groups = sorted(os.getgrouplist("nobody", nobody.pw_gid))
    wd = tmp_path / "wd"
    wd.mkdir()
    out_dir = Path(tempfile.mkdtemp(prefix="foster-env-", dir="/tmp"))
    out_dir.chmod(0o755)
    os.chown(out_dir, nobody.pw_uid, nobody.pw_gid)
    try:
        check_ids_umask_and_cwd(plain_runner, wd, out_dir, nobody, daemon, groups)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


def check_ids_umask_and_cwd(plain_runner, wd, out_dir, nobody, daemon, groups):
    status_file = out_dir / "status"
    cwd_file = out_dir / "cwd"
    foster, _ = start(plain_runner, f"""
        [services.status]
        command = ["cat", "/proc/self/status"]
        user = "nobody"
        umask = "027"
        working_directory = {q(wd)}
        stdout = {q(status_file)}
        restart = "no"

        [services.cwd]
        command = ["readlink", "/proc/self/cwd"]
        user = "nobody"
        working_directory = {q(wd)}
        stdout = {q(cwd_file)}
        restart = "no"

        [services.grouped]
        command = ["cat", "/proc/self/status"]
        user = "nobody"
        group = "daemon"
        stdout = {q(out_dir / "grouped")}
        restart = "no"
        """)
    for name in ("status", "cwd", "grouped"):
        wait_log(foster, state_logged(name, "exited"))
    st = status_of(read_text(str(status_file)))
    uid, gid = str(nobody.pw_uid), str(nobody.pw_gid)
    assert st["Uid"] == [uid] * 4, st["Uid"]
    assert st["Gid"] == [gid] * 4, st["Gid"]
    assert sorted(int(g) for g in st["Groups"]) == groups, st["Groups"]
    assert st["Umask"] == ["0027"], st["Umask"]
    assert read_text(str(cwd_file)) == f"{wd}\n"
    gst = status_of(read_text(str(out_dir / "grouped")))
    assert gst["Uid"] == [uid] * 4
    assert gst["Gid"] == [str(daemon)] * 4, gst["Gid"]
    assert daemon in [int(g) for g in gst["Groups"]], gst["Groups"]
    assert 0 not in [int(g) for g in gst["Groups"]], "kept root's groups"
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()
