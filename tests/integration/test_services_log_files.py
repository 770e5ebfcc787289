"""Output files foster writes itself (foster.toml(5), "Output files"):
rotation by size (`stdout_max_size`, `stdout_backups`), `fosterctl reopen`
after an outside rename, timestamps on prefix and file lines, long lines
split and unfinished lines marked, a full disk that costs lines but never
the supervision, and the service user's rights when foster opens the file."""
import os
import pwd
import re
import shutil
import signal
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ctl_helpers import ctl, start_foster, wait_state
from helpers import PROMPT, wait_until
from svc_helpers import q

PYTHON = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
CUT = " [foster: line continues]"
PARTIAL = " [foster: no newline]"
ISO = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z ")

# Writes COUNT numbered lines of exactly 1 KiB ("%08d " + filler + "\n").
NUMBERED = r'''
import os, sys
count = int(sys.argv[1])
out = os.fdopen(1, "wb", buffering=1 << 16)
for i in range(count):
    out.write(b"%08d " % i + b"x" * 1014 + b"\n")
out.flush()
'''

# Numbered lines, one every millisecond, until the file argv[1] exists; then "end".
UNTIL = r'''
import os, sys, time
i = 0
while not os.path.exists(sys.argv[1]):
    print("%08d" % i, flush=True)
    i += 1
    time.sleep(0.001)
print("end", flush=True)
'''


def finish(foster):
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def numbered_lines(paths):
    """The numbers of the lines of the files, oldest file first; every line
    whole (1 KiB, its own number and filler)."""
    numbers = []
    for path in paths:
        data = Path(path).read_bytes()
        assert data.endswith(b"\n"), f"{path} ends inside a line"
        for line in data[:-1].split(b"\n"):
            assert len(line) == 1023 and line[8:] == b" " + b"x" * 1014, f"a cut line in {path}: {line[:40]!r}"
            numbers.append(int(line[:8]))
    return numbers


def test_rotation_keeps_backups_whole_lines_and_drops_the_oldest(plain_runner):
    log = plain_runner.tmp / "big.log"
    foster, _, sock = start_foster(plain_runner, f"""
        [services.big]
        command = [{q(PYTHON)}, "-c", {q(NUMBERED)}, "10240"]
        stdout = {q(log)}
        stdout_max_size = "1MiB"
        stdout_backups = 3
        restart = "no"
        """)
    wait_state(sock, "big", "exited", timeout=PROMPT * 3)
    finish(foster)
    files = [f"{log}.3", f"{log}.2", f"{log}.1", str(log)]
    present = sorted(p.name for p in plain_runner.tmp.iterdir() if p.name.startswith("big.log"))
    assert present == ["big.log", "big.log.1", "big.log.2", "big.log.3"], present
    for f in files:
        assert os.path.getsize(f) <= 1 << 20, f"{f} is over the size"
    numbers = numbered_lines(files)
    # 10 MiB of 1 KiB lines are ten full files: the last four are kept, every
    # line of them in order, none lost or doubled; the first six are gone.
    assert numbers == list(range(6144, 10240))


def test_reopen_after_an_outside_rename_loses_no_line(plain_runner):
    log = plain_runner.tmp / "app.log"
    stop = plain_runner.tmp / "stop"
    foster, _, sock = start_foster(plain_runner, f"""
        [services.app]
        command = [{q(PYTHON)}, "-c", {q(UNTIL)}, {q(stop)}]
        stdout = {q(log)}
        timestamps = "iso"
        restart = "no"
        """)
    wait_until(lambda: log.exists() and log.read_text().count("\n") > 50, what="lines in app.log")
    os.rename(log, f"{log}.old")                       # what logrotate does
    r = ctl(sock, "reopen")
    assert r.returncode == 0, r.stderr
    wait_until(lambda: log.exists() and log.read_text().count("\n") > 20, what="a new app.log")
    stop.touch()
    wait_state(sock, "app", "exited")
    finish(foster)
    text = Path(f"{log}.old").read_text() + log.read_text()
    lines = text.splitlines()
    for line in lines:
        assert ISO.match(line), line
    bodies = [ISO.sub("", line) for line in lines]
    assert bodies[-1] == "end"
    assert [int(b) for b in bodies[:-1]] == list(range(len(bodies) - 1))


def test_iso_timestamps_are_utc_milliseconds_and_never_go_back(plain_runner):
    script = "for i in $(seq 1 200); do echo line $i; done; echo err-line >&2"
    before = datetime.now(timezone.utc)
    foster, _, sock = start_foster(plain_runner, f"""
        [services.web]
        command = {q(script)}
        stdout = "prefix"
        stderr = "prefix"
        timestamps = "iso"
        restart = "no"
        """, wrapper=["env", "TZ=Asia/Tokyo"])  # UTC whatever foster's time zone
    wait_state(sock, "web", "exited")
    finish(foster)
    after = datetime.now(timezone.utc)
    out = [line for line in foster.stdout().splitlines() if " web | " in line]
    assert len(out) == 200
    stamps = []
    for i, line in enumerate(out, 1):
        m = ISO.match(line)
        assert m and line[m.end():] == f"web | line {i}", line
        t = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc)
        assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= t <= after, line
        stamps.append(t)
    assert stamps == sorted(stamps)
    assert any(ISO.match(line) and line.endswith("web | err-line") for line in foster.stderr().splitlines())


def test_mono_timestamps_are_seconds_since_boot(plain_runner):
    # A first line with no table header: it lands in [foster] (start_foster's).
    foster, _, sock = start_foster(plain_runner, """
        timestamps = "mono"
        [services.m]
        command = "echo one; echo two"
        stdout = "prefix"
        restart = "no"
        """)
    wait_state(sock, "m", "exited")
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    finish(foster)
    got = [line for line in foster.stdout().splitlines() if " m | " in line]
    assert len(got) == 2
    for line, body in zip(got, ["one", "two"]):
        m = re.match(r"^(\d+)\.(\d{3}) m \| (.*)$", line)
        assert m and m.group(3) == body, line
        assert abs(float(f"{m.group(1)}.{m.group(2)}") - uptime) < 30


def test_long_lines_are_split_with_a_marker_and_files_keep_raw_bytes(plain_runner):
    log = plain_runner.tmp / "raw.log"
    # 40000 bytes then a newline; then bytes that are not UTF-8; then no newline at all.
    script = ("import sys; o = sys.stdout.buffer; o.write(b'a' * 40000 + b'\\n'); "
              "o.write(b'bad \\xff\\xfe end\\n'); o.write(b'unfinished'); o.flush()")
    foster, _, sock = start_foster(plain_runner, f"""
        [services.long]
        command = [{q(PYTHON)}, "-c", {q(script)}]
        stdout = "prefix"
        restart = "no"

        [services.raw]
        command = [{q(PYTHON)}, "-c", {q(script)}]
        stdout = {q(log)}
        stdout_max_size = "10MiB"
        restart = "no"
        """)
    wait_state(sock, "long", "exited")
    wait_state(sock, "raw", "exited")
    finish(foster)
    out = [line for line in foster.stdout().splitlines() if line.startswith("long | a")]
    assert out == ["long | " + "a" * 16384 + CUT, "long | " + "a" * 16384 + CUT, "long | " + "a" * 7232]
    assert log.read_bytes() == (b"a" * 16384 + CUT.encode() + b"\n") * 2 + b"a" * 7232 + b"\n" + \
        b"bad \xff\xfe end\n" + b"unfinished" + PARTIAL.encode() + b"\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="mounts a tmpfs: needs root")
def test_a_full_disk_drops_lines_but_not_the_supervision(plain_runner):
    full = plain_runner.tmp / "full"
    full.mkdir()
    # A 64 KiB tmpfs of foster's own (a mount namespace: nothing outside sees it).
    wrapper = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
               f"mount -t tmpfs -o size=64k tmpfs {full} && exec \"$@\"", "sh"]
    foster, _, sock = start_foster(plain_runner, f"""
        [services.flood]
        command = [{q(PYTHON)}, "-c", {q(NUMBERED)}, "2000"]
        stdout = "{full}/flood.log"
        stdout_max_size = "10MiB"
        restart = "no"

        [services.beat]
        command = "while :; do echo beat; sleep 0.05; done"
        stdout = "prefix"
        """, wrapper=wrapper)
    wait_state(sock, "flood", "exited", timeout=PROMPT * 2)
    wait_until(lambda: "No space left on device" in foster.stderr(), what="the full disk reported")
    # foster goes on: it answers, and the other service's lines still arrive.
    seen = foster.stdout().count("beat | beat")
    wait_until(lambda: foster.stdout().count("beat | beat") > seen + 3, what="more beats")
    assert ctl(sock, "status").returncode == 0
    assert ctl(sock, "restart", "flood").returncode in (0, 1)  # runs again into the full disk
    assert ctl(sock, "status", "beat").returncode == 0
    assert foster.stderr().count("cannot write to") == 1, "said once, not per line"
    finish(foster)


def nobody():
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no `nobody` account")


@pytest.fixture
def nobody_dir():
    user = nobody()
    d = Path(tempfile.mkdtemp(prefix="foster-logs-", dir="/tmp"))
    d.chmod(0o755)
    (d / "out").mkdir()
    os.chown(d / "out", user.pw_uid, user.pw_gid)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="runs a service as nobody: needs root")
def test_foster_writes_rotating_files_with_the_service_users_rights(plain_runner, nobody_dir):
    user = nobody()
    out = nobody_dir / "out"
    secret = nobody_dir / "root-only"
    secret.write_text("root's\n")
    secret.chmod(0o600)
    (out / "planted.log").symlink_to(secret)         # the service's user planted it
    foster, _, sock = start_foster(plain_runner, f"""
        [services.planted]
        user = "nobody"
        command = "echo should-not-land"
        stdout = "{out}/planted.log"
        stdout_max_size = "1KiB"
        restart = "no"

        [services.rootdir]
        user = "nobody"
        command = "echo nor-here"
        stdout = "{nobody_dir}/rootdir.log"
        timestamps = "iso"
        restart = "no"

        [services.own]
        user = "nobody"
        command = "for i in 1 2 3 4 5 6 7 8; do echo line-$i-of-the-service-user-padded-to-be-long; done"
        stdout = "{out}/own.log"
        stdout_max_size = "100B"
        stdout_backups = 2
        restart = "no"
        """)
    wait_state(sock, "own", "exited")
    wait_until(lambda: "planted.log: Too many levels of symbolic links" in foster.stderr(),
               what="the planted symlink refused")
    wait_until(lambda: "rootdir.log: Permission denied" in foster.stderr(), what="root's directory refused")
    finish(foster)
    assert secret.read_text() == "root's\n", "a planted symlink was followed"
    assert not (nobody_dir / "rootdir.log").exists(), "created where nobody cannot write"
    for name in ["own.log", "own.log.1", "own.log.2"]:
        assert (out / name).stat().st_uid == user.pw_uid, name
    assert not (out / "own.log.3").exists()
