"""Entrypoint mode: PROGRAM sees what it would see without foster — signal
mask and ignored signals, descriptors, working directory, environment (with
LISTEN_PID rewritten), stdin and stdout."""
import os
import signal
import socket
import subprocess

import pytest

from conftest import PROBE
from helpers import PROMPT, parse_report, sigmask, wait_report, wait_until

S = signal.Signals


def report_of(runner, name="report", direct=False, **kwargs):
    """Runs `probe report` under foster (or directly, as a baseline) and
    returns the report, after checking the run exited 0."""
    path = runner.path(name)
    started = runner.start([], [PROBE, "report", path], direct=direct, **kwargs)
    assert started.wait() == 0, started.stderr()
    report = parse_report(path)
    assert report, f"no report; stderr: {started.stderr()!r}"
    return report


def test_program_is_child_of_foster_and_foster_is_pid1_in_a_namespace(runner):
    report = report_of(runner)
    if runner.mode == "pid1":
        assert report["ppid"] == 1
    else:
        assert report["ppid"] == runner.started[-1].popen.pid


def block_and_ignore():
    signal.pthread_sigmask(signal.SIG_BLOCK, {S.SIGUSR1, S.SIGWINCH})
    signal.signal(S.SIGUSR2, signal.SIG_IGN)
    signal.signal(S.SIGHUP, signal.SIG_IGN)


@pytest.mark.parametrize("preexec, blocked, ignored", [
    (None, (), ()),
    (block_and_ignore, (S.SIGUSR1, S.SIGWINCH), (S.SIGUSR2, S.SIGHUP)),
], ids=["clean", "blocked-and-ignored"])
def test_signal_mask_and_ignored_signals_pass_through(runner, preexec, blocked, ignored):
    baseline = report_of(runner, "baseline", direct=True, preexec=preexec)
    report = report_of(runner, preexec=preexec)
    assert (report["sigblk"], report["sigign"]) == (
        baseline["sigblk"], baseline["sigign"])
    assert report["sigblk"] == sigmask(*blocked)
    assert report["sigign"] == sigmask(*ignored)


def ignore_sigchld():
    signal.signal(S.SIGCHLD, signal.SIG_IGN)


def test_sigchld_ignored_by_whoever_started_foster(runner, reaping_env):
    """With SIGCHLD ignored the kernel would reap PROGRAM before any waitid
    saw it (tini hangs there). foster sets its own disposition, and PROGRAM
    still gets SIGCHLD ignored, as it would have without foster."""
    baseline = report_of(runner, "baseline", direct=True, preexec=ignore_sigchld)
    report = report_of(runner, preexec=ignore_sigchld, env=reaping_env)
    assert report["sigign"] == baseline["sigign"]
    if runner.mode == "subreaper":  # unshare --fork resets it for its child
        assert report["sigign"] == sigmask(S.SIGCHLD)
    status, _, err = runner.run([], [PROBE, "exit", "3"], preexec=ignore_sigchld, env=reaping_env)
    assert status == 3, err


def test_program_holds_no_descriptor_of_foster(runner):
    report = report_of(runner)
    assert sorted(report["fds"]) == [0, 1, 2], report["fds"]


def test_descriptor_passed_to_foster_reaches_program(runner, tmp_path):
    data = tmp_path / "passed"
    data.write_text("x")
    fd = os.open(data, os.O_RDONLY)
    try:
        report = report_of(runner, fds={3: fd})
    finally:
        os.close(fd)
    assert sorted(report["fds"]) == [0, 1, 2, 3], report["fds"]
    assert report["fds"][3] == str(data)


def test_working_directory_passes_through_and_pid1_moves_to_root(runner, tmp_path):
    path = runner.path("report")
    foster = runner.start([], [PROBE, "report", path, "hold"], cwd=str(tmp_path))
    report = wait_report(path)
    assert report["cwd"] == str(tmp_path)
    if runner.mode == "pid1":
        foster_pid = foster.pid
        wait_until(lambda: os.readlink(f"/proc/{foster_pid}/cwd") == "/", PROMPT,
                   what="foster (PID 1) to change directory to /")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


LISTEN_PID_OF_SELF = ["/bin/sh", "-c",
                      'LISTEN_PID=$$; export LISTEN_PID; exec "$@"', "sh"]


def test_environment_passes_through_with_listen_pid_rewritten(runner, tmp_path):
    """LISTEN_PID names the process started by the wrapper: foster, or the
    probe itself in the baseline. Under foster it must name the probe."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PWD": str(tmp_path),
           "FOO": "bar baz", "NOTIFY_SOCKET": "/run/test-notify.sock",
           "LISTEN_FDS": "1", "LISTEN_FDNAMES": "http", "EMPTY": ""}
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(tmp_path / "sock"))
    listener.listen()
    try:
        kwargs = dict(env=env, cwd=str(tmp_path), wrapper=LISTEN_PID_OF_SELF,
                      fds={3: listener.fileno()})
        baseline = report_of(runner, "baseline", direct=True, **kwargs)
        report = report_of(runner, **kwargs)
    finally:
        listener.close()
    assert baseline["env"]["LISTEN_PID"] == str(baseline["pid"])
    assert report["env"]["LISTEN_PID"] == str(report["pid"]), (
        f"LISTEN_PID not rewritten to PROGRAM's pid {report['pid']}")
    assert report["env"] == baseline["env"] | {"LISTEN_PID": str(report["pid"])}
    assert report["env"]["NOTIFY_SOCKET"] == "/run/test-notify.sock"
    assert report["fds"][3].startswith("socket:")


def test_listen_pid_naming_another_process_is_left_alone(runner, tmp_path):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LISTEN_PID": "999999",
           "LISTEN_FDS": "1"}
    report = report_of(runner, env=env)
    assert report["env"]["LISTEN_PID"] == "999999"
    assert report["env"]["LISTEN_FDS"] == "1"


def test_stdin_and_stdout_pass_through(runner):
    data = b"".join(b"line %d of the input\n" % i for i in range(5000))
    foster = runner.start([], [PROBE, "echo"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE)
    out, _ = foster.popen.communicate(data, timeout=PROMPT)
    assert out == data
    assert foster.wait() == 0, foster.stderr()


WATCHDOG_PID_OF_SELF = ["/bin/sh", "-c",
                        'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"', "sh"]


def test_watchdog_of_a_unit_running_foster_is_program_s(runner, tmp_path):
    """Under `systemd ... foster -- app` with WatchdogSec=, WATCHDOG_PID names
    foster: PROGRAM gets WATCHDOG_USEC without it, so sd_watchdog_enabled(3)
    says yes to PROGRAM."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "WATCHDOG_USEC": "30000000",
           "NOTIFY_SOCKET": "/run/test-notify.sock"}
    report = report_of(runner, env=env, wrapper=WATCHDOG_PID_OF_SELF)
    assert report["env"]["WATCHDOG_USEC"] == "30000000"
    assert "WATCHDOG_PID" not in report["env"], report["env"]
    assert report["env"]["NOTIFY_SOCKET"] == "/run/test-notify.sock"


def test_watchdog_pid_naming_another_process_is_left_alone(runner):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "WATCHDOG_PID": "999999",
           "WATCHDOG_USEC": "30000000"}
    report = report_of(runner, env=env)
    assert report["env"]["WATCHDOG_PID"] == "999999"
