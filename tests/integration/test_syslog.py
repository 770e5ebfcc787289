"""foster as the container's syslog: as PID 1 with no /dev/log, foster binds
it, and what logger(1) / syslog(3) send there comes out as `TAG | message`
on foster's stdout and in `fosterctl logs` (with facility and severity in
--json). Each test runs in a mount namespace whose /dev is a tmpfs of its own
(with a /dev/null), so the host's /dev/log is never touched."""
import json
import subprocess

import pytest

from conftest import FOSTER, UNSHARE
from ctl_helpers import BASE_ENV, ctl, wait_answering
from helpers import PROMPT, wait_until
from svc_helpers import q, write_config

# Run inside the new mount namespace, before foster: a private /dev.
PRIVATE_DEV = ["sh", "-c", 'mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3 && exec "$0" "$@"']


def config(runner, sock, foster_table="", services=""):
    return write_config(runner.tmp / "foster.toml", f"""
[foster]
control_socket = {q(sock)}
shutdown_timeout = "5s"
{foster_table}
{services}
""")


@pytest.fixture
def pid1_runner(plain_runner):
    plain_runner.mode = "pid1"
    return plain_runner


def test_logger_line_reaches_stdout_as_pid1_by_default(pid1_runner):
    sock = str(pid1_runner.tmp / "ctl.sock")
    cfg = config(pid1_runner, sock, services="""
[services.cron]
command = "logger -t cron hello; logger -p mail.err -t postfix/smtpd 'two words'; exec sleep 1000"
""")
    foster = pid1_runner.start(["-c", cfg], wrapper=PRIVATE_DEV, env=dict(BASE_ENV))
    wait_until(lambda: "postfix/smtpd | two words\n" in foster.stdout(), PROMPT,
               what="the syslog lines on foster's stdout")
    assert "cron | hello\n" in foster.stdout()
    wait_answering(foster, sock)
    r = ctl(sock, "logs", "--json", "cron", "postfix/smtpd")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [(x["name"], x["text"], x["stream"]) for x in lines] == [
        ("cron", "hello", "syslog"), ("postfix/smtpd", "two words", "syslog")]
    assert (lines[0]["facility"], lines[0]["severity"]) == (1, 5)   # user.notice, logger's default
    assert (lines[1]["facility"], lines[1]["severity"]) == (2, 3)   # mail.err


def test_syslog_false_leaves_dev_log_alone(pid1_runner):
    sock = str(pid1_runner.tmp / "ctl.sock")
    marker = pid1_runner.tmp / "seen"
    cfg = config(pid1_runner, sock, foster_table="syslog = false", services=f"""
[services.look]
command = {q(f"if [ -e /dev/log ]; then echo present; else echo absent; fi > {marker}; exec sleep 1000")}
""")
    pid1_runner.start(["-c", cfg], wrapper=PRIVATE_DEV, env=dict(BASE_ENV))
    wait_until(lambda: marker.exists() and marker.read_text() == "absent\n", PROMPT,
               what="the service to find no /dev/log")


def test_socket_removed_at_exit_and_stale_one_replaced(plain_runner):
    """syslog = true outside PID 1 (here under sh in the namespace): a stale
    socket file is replaced, and foster removes its own at exit."""
    sock = str(plain_runner.tmp / "ctl.sock")
    cfg = config(plain_runner, sock, foster_table="syslog = true", services="""
[services.say]
command = "logger -t say hi"
type = "oneshot"
main = true
""")
    # A stale socket (bound by a process that is gone) at /dev/log first.
    script = ('mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3 && '
              'python3 -c "import socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).bind(\'/dev/log\')" && '
              '"$0" "$@"; status=$?; if [ -e /dev/log ]; then echo left-behind; else echo removed; fi; exit $status')
    r = subprocess.run(UNSHARE + ["sh", "-c", script, FOSTER, "-c", cfg], capture_output=True, text=True,
                       timeout=PROMPT * 2, env=dict(BASE_ENV), stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert "say | hi\n" in r.stdout
    assert r.stdout.endswith("removed\n"), r.stdout
