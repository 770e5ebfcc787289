"""foster and the journal, tested against a real systemd-journald.

journald runs in a mount namespace of its own with scratch directories over
/run/systemd and /run/log (so the host's journal, if any, is never touched),
and foster runs in the same namespace with its stderr connected to a journal
stream (systemd-cat) and JOURNAL_STREAM naming it, as systemd starts a unit.
The test reads what arrived with journalctl from the scratch directory."""
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import FOSTER, skip_unless_in_ci
from ctl_helpers import ctl
from helpers import PROMPT, wait_until
from svc_helpers import q, read_text, start, write_config

JOURNALD = "/lib/systemd/systemd-journald"
FOSTER_STATIC = os.environ.get("FOSTER_STATIC_BIN") or str(Path(FOSTER).with_name("foster-static"))

# Runs inside `unshare --mount --pid --fork`: journald on scratch directories,
# then foster with stderr on a journal stream. $1 scratch dir, then foster's argv.
WRAPPER = r'''
set -e
d=$1; shift
mount -t tmpfs tmpfs /run/systemd
mkdir -p /run/systemd/journal /run/log "$d/log"
mount --bind "$d/log" /run/log
"$JOURNALD" &
journald=$!
i=0
while [ ! -S /run/systemd/journal/stdout ] || [ ! -S /run/systemd/journal/socket ]; do
    i=$((i + 1)); [ $i -lt 400 ] || { echo "journald did not start" >&2; exit 99; }
    sleep 0.025
done
touch "$d/journald.up"
set +e
systemd-cat -t foster-unit sh -c 'JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec "$@"' sh "$@"
status=$?
# Let journald write what it has received, then stop it.
sleep 0.2
kill $journald; wait $journald
exit $status
'''


def journal_entries(d):
    path = d / "log" / "journal"
    if not path.exists():
        return []
    r = subprocess.run(["journalctl", "-D", str(path), "-o", "json", "--no-pager"],
                       capture_output=True, text=True, timeout=30)
    out = []
    for line in r.stdout.splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return out


def find(entries, **fields):
    return [e for e in entries if all(e.get(k) == v for k, v in fields.items())]


@pytest.fixture
def journald(tmp_path):
    if not os.access(JOURNALD, os.X_OK) or shutil.which("journalctl") is None or shutil.which("systemd-cat") is None:
        skip_unless_in_ci("systemd-journald, journalctl or systemd-cat missing (package systemd)")
    r = subprocess.run(["unshare", "--mount", "true"], capture_output=True, text=True)
    if r.returncode != 0:
        skip_unless_in_ci(f"cannot create a mount namespace here: {r.stderr.strip() or r.returncode}")
    started = []

    def run(argv, env):
        env = dict(env, JOURNALD=JOURNALD)
        p = subprocess.Popen(["unshare", "--mount", "--pid", "--fork", "--mount-proc", "sh", "-c", WRAPPER, "sh",
                              str(tmp_path)] + list(argv), env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
        started.append(p)
        wait_until(lambda: (tmp_path / "journald.up").exists() or p.poll() is not None, PROMPT,
                   what="journald to start")
        assert p.poll() is None, p.communicate()
        return p

    yield run
    for p in started:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.communicate(timeout=PROMPT)


def test_journal_output_and_foster_s_own_fields(tmp_path, journald):
    d = tmp_path
    sock = d / "ctl.sock"
    # (dash applies a redirection in the shell itself before it forks: read
    # the shell's fd 1 first, redirect afterwards.)
    web = ("fd1=$(readlink /proc/$$$$/fd/1); echo $fd1 > " + str(d / "web.fd1") + "; echo 'hello web'; "
           "echo '<3>bad thing'; "
           "echo 'to stderr' >&2; exec sleep 1000")
    cfg = write_config(d / "foster.toml", f"""
        [services.web]
        command = {q(web)}
        stdout = "journal"
        stderr = "stdout"

        [services.broken]
        command = ["/nonexistent/broken"]
        """)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_SOCKET", "JOURNAL_STREAM"))}
    env["FOSTER_SOCKET"] = str(sock)
    p = journald([FOSTER, "-c", cfg], env)

    def arrived():
        entries = journal_entries(d)
        return (find(entries, SYSLOG_IDENTIFIER="web", MESSAGE="to stderr")
                and find(entries, SYSLOG_IDENTIFIER="foster", FOSTER_SERVICE="broken", PRIORITY="3")
                and entries)
    entries = wait_until(arrived, PROMPT, interval=0.1, what="web's lines and foster's in the journal")
    # The service's own stream: identifier = its name, "<3>" sets the priority.
    assert find(entries, SYSLOG_IDENTIFIER="web", MESSAGE="hello web", PRIORITY="6"), entries
    assert find(entries, SYSLOG_IDENTIFIER="web", MESSAGE="bad thing", PRIORITY="3"), entries
    # Its lines never pass through foster: its stdout is the journal's socket.
    assert read_text(str(d / "web.fd1")).startswith("socket:"), read_text(str(d / "web.fd1"))
    # foster's own lines: native entries, no "foster: " prefix, per-service field.
    ours = find(entries, SYSLOG_IDENTIFIER="foster")
    assert ours and not any(e["MESSAGE"].startswith("foster:") for e in ours), ours
    assert find(ours, FOSTER_SERVICE="web", PRIORITY="6"), ours
    failed = find(ours, FOSTER_SERVICE="broken", PRIORITY="3")
    assert any("/nonexistent/broken" in e["MESSAGE"] for e in failed), failed
    # Lines not about one service carry no FOSTER_SERVICE.
    assert r_ok(ctl(sock, "shutdown"))
    out, err = p.communicate(timeout=PROMPT)
    assert p.returncode == 0, (out, err)
    entries = journal_entries(d)
    stop = [e for e in find(entries, SYSLOG_IDENTIFIER="foster") if "shutdown requested" in e["MESSAGE"]]
    assert stop and "FOSTER_SERVICE" not in stop[0], stop
    # Nothing of foster's went to the stream as plain text.
    assert not find(entries, SYSLOG_IDENTIFIER="foster-unit"), find(entries, SYSLOG_IDENTIFIER="foster-unit")


def r_ok(r):
    assert r.returncode == 0, (r.stdout, r.stderr)
    return True


def test_journal_output_is_reopened_for_every_start(tmp_path, journald):
    d = tmp_path
    sock = d / "ctl.sock"
    cfg = write_config(d / "foster.toml", f"""
        [services.web]
        command = {q("echo run-$$$$; exec sleep 1000")}
        stdout = "journal"
        """)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_SOCKET", "JOURNAL_STREAM"))}
    env["FOSTER_SOCKET"] = str(sock)
    p = journald([FOSTER, "-c", cfg], env)

    def runs():
        return [e for e in find(journal_entries(d), SYSLOG_IDENTIFIER="web") if e["MESSAGE"].startswith("run-")]
    wait_until(lambda: len(runs()) == 1, PROMPT, interval=0.1, what="the first run's line")
    assert r_ok(ctl(sock, "restart", "web"))
    wait_until(lambda: len(runs()) == 2, PROMPT, interval=0.1, what="the second run's line")
    assert r_ok(ctl(sock, "shutdown"))
    p.communicate(timeout=PROMPT)
    assert p.returncode == 0


@pytest.mark.parametrize("binary", ["foster", "foster-static"])
def test_without_journald_the_service_inherits_and_foster_says_so_once(plain_runner, binary, monkeypatch):
    """No journald here (outside a namespace that has one): `journal` falls
    back to foster's own stdout, and the log says so once, not per start."""
    path = FOSTER if binary == "foster" else FOSTER_STATIC
    if not os.access(path, os.X_OK):
        pytest.skip(f"{path} is not built")
    if os.path.exists("/run/systemd/journal/stdout"):
        pytest.skip("this machine runs journald")
    import conftest
    monkeypatch.setattr(conftest, "FOSTER", path)
    foster, _ = start(plain_runner, f"""
        [services.web]
        command = {q("echo line-$$$$")}
        stdout = "journal"
        restart = "always"
        restart_delay = "50ms"
        min_uptime = "10ms"
        start_limit_burst = 100
        """)
    wait_until(lambda: foster.stdout().count("line-") >= 3, PROMPT, what="three runs' lines on foster's stdout")
    foster.send(signal.SIGTERM)
    foster.wait()
    err = foster.stderr()
    expected = "no systemd support" if binary == "foster-static" else "cannot reach the journal"
    assert err.count(expected) == 1, err
