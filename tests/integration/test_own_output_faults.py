"""foster's own stdout and stderr closed or broken: closed descriptors
(EBADF), a pipe whose reader is gone (EPIPE), a full pipe nobody reads, a
file on a full filesystem (ENOSPC). In every case foster keeps supervising:
a crash-looping service is restarted, `fosterctl status` answers within a
bound, shutdown completes, no zombie is left. All of it is checked through
fosterctl and /proc, never through foster's log (which may be lost)."""
import os
import shutil
import subprocess
import time

import pytest

from ctl_helpers import ctl, start_foster, status_json
from helpers import PROMPT, wait_until, zombies_of

SERVICES = """
    [services.crasher]
    command = ["/bin/sh", "-c", "echo crashing; echo crashing >&2; exit 3"]
    restart = "always"
    restart_delay = "20ms"
    restart_delay_max = "20ms"
    start_limit_interval = "0s"
    stdout = "prefix"
    stderr = "prefix"

    [services.loud]
    command = "yes loud-output-line | head -n 20000; yes loud-error-line | head -n 20000 >&2; exec sleep 1000"
    stdout = "prefix"
    stderr = "prefix"
    stop_timeout = "2s"

    [services.quiet]
    command = ["sleep", "1000"]
    stop_timeout = "2s"

    [services.nulled]
    command = ["sleep", "1000"]
    stdout = "null"
    stderr = "null"
    stop_timeout = "2s"
    """


def restarts(sock):
    return status_json(sock)["crasher"]["restarts"]


def still_supervises(foster, sock):
    """The checks every case shares: restarts go on, status answers in a
    bound, no zombie stays, shutdown completes."""
    for _ in range(3):
        before = restarts(sock)
        wait_until(lambda: restarts(sock) >= before + 2, PROMPT,
                   what="crasher to be restarted")
        t0 = time.monotonic()
        r = ctl(sock, "status", timeout=PROMPT)
        assert r.returncode == 0, r.stderr
        assert time.monotonic() - t0 < 5, "fosterctl status took too long"
    for name in ("quiet", "nulled"):
        assert status_json(sock)[name]["state"] == "running", name
    # The crasher's zombies are reaped: none lingers (each one may exist for
    # an instant, so wait for a moment with none).
    wait_until(lambda: not zombies_of(foster.pid), PROMPT, what="no zombie of foster")
    r = ctl(sock, "shutdown", timeout=PROMPT)
    assert r.returncode == 0, r.stderr
    assert foster.wait(PROMPT) == 0
    assert not zombies_of(foster.pid)


@pytest.mark.parametrize("closed", [(1,), (2,), (0, 1, 2)], ids=["stdout", "stderr", "all"])
def test_closed_standard_descriptors(plain_runner, closed):
    def close_them():
        for fd in closed:
            os.close(fd)
    foster, _, sock = start_foster(plain_runner, SERVICES, args=["-v"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   preexec=close_them)
    # No descriptor of foster's own (socket, pipe, epoll) took a closed slot:
    # what sits there now is /dev/null.
    for fd in closed:
        assert os.readlink(f"/proc/{foster.pid}/fd/{fd}") == "/dev/null"
    still_supervises(foster, sock)


def test_pipe_whose_reader_is_gone(plain_runner):
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        foster, _, sock = start_foster(plain_runner, SERVICES, args=["-v"],
                                       stdout=write_end, stderr=write_end)
    finally:
        os.close(write_end)
    still_supervises(foster, sock)


def test_full_pipe_nobody_reads(plain_runner):
    """Both of foster's outputs on one pipe nobody reads: foster's own lines
    (-v: one per state change) and the prefix lines share the writer of fd 2."""
    read_end, write_end = os.pipe()
    try:
        foster, _, sock = start_foster(plain_runner, SERVICES, args=["-v"],
                                       stdout=write_end, stderr=write_end)
        os.close(write_end)
        write_end = None
        still_supervises(foster, sock)
    finally:
        if write_end is not None:
            os.close(write_end)
        os.close(read_end)


def _can_mount_tmpfs(d):
    r = subprocess.run(["unshare", "--mount", "sh", "-c",
                        f"mount -t tmpfs -o size=64k none {d}"],
                       stderr=subprocess.DEVNULL, timeout=PROMPT)
    return r.returncode == 0


def test_outputs_on_a_full_filesystem(plain_runner, tmp_path):
    """stdout and stderr are files on a 64 KiB tmpfs (a mount namespace of
    foster's own), filled up; a service writes its own file there too. Once
    room is made, the lines foster could not write are reported."""
    d = tmp_path / "small"
    d.mkdir()
    if shutil.which("unshare") is None or not _can_mount_tmpfs(d):
        pytest.skip("cannot mount a tmpfs in a mount namespace here (needs root)")
    # Without `loud`: its burst would fill the room made below again before
    # foster's next line.
    quiet_services = SERVICES[:SERVICES.index("[services.loud]")] + SERVICES[SERVICES.index("[services.quiet]"):]
    services = quiet_services + f"""
    [services.filler]
    command = "yes file-output-line; exec sleep 1000"
    stdout = "{d}/filler.out"
    stop_timeout = "2s"
    """
    script = ('mount -t tmpfs -o size=64k none "$0" && head -c 40000 /dev/zero >"$0/ballast" '
              '&& exec "$@" >"$0/foster.out" 2>"$0/foster.err"')
    foster, _, sock = start_foster(plain_runner, services, args=["-v"],
                                   wrapper=["unshare", "--mount", "sh", "-c", script, str(d)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    small = f"/proc/{foster.pid}/root{d}"

    def free_blocks():
        st = os.statvfs(small)
        return st.f_bavail
    wait_until(lambda: free_blocks() == 0, PROMPT, what="the tmpfs to fill up")
    # The last page of foster.err takes lines for a while yet; after 40
    # restarts (3 lines each with -v, about 6 KiB) it is full for sure, and
    # from then on the file stops growing while the restarts go on.
    err = f"{small}/foster.err"
    before = restarts(sock)
    wait_until(lambda: restarts(sock) >= before + 40, PROMPT, what="crasher to be restarted")
    size = os.path.getsize(err)
    wait_until(lambda: restarts(sock) >= before + 60, PROMPT, what="crasher to be restarted")
    assert os.path.getsize(err) == size, "foster.err grew on a full filesystem"
    # Room again: the next line foster writes brings the count of those lost.
    os.unlink(f"{small}/filler.out")
    os.unlink(f"{small}/ballast")
    ctl(sock, "stop", "filler", timeout=PROMPT)

    def reported():
        with open(err, errors="replace") as f:
            return "foster: dropped " in f.read()
    try:
        wait_until(reported, PROMPT, what="foster to report the lines it dropped")
    except AssertionError:
        with open(err, "rb") as f:
            text = f.read()
        raise AssertionError(f"no report; free blocks {free_blocks()}, files {os.listdir(small)}, "
                             f"foster.err ({len(text)} bytes) ends {text[-300:]!r}") from None
    still_supervises(foster, sock)
