"""Stuck readers: foster's stdout is a pipe nobody reads and a `prefix`
service writes a lot. foster's loop never blocks: the control socket answers
and another service is still restarted; the lines foster cannot write are
kept up to a bound, then dropped whole with a count, reported as
`foster: dropped N lines of NAME output` once the pipe takes lines again."""
import fcntl
import os
import re
import signal
import termios
import time

from ctl_helpers import ctl, start_foster, status_json
from helpers import PROMPT, wait_until

LINES = 300000
LINE = "line-of-loud-output"


def pipe_bytes(fd):
    """Bytes waiting in a pipe (FIONREAD)."""
    buf = fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0")
    return int.from_bytes(buf, "little")


def restarts(sock, name):
    return status_json(sock)[name]["restarts"]


def test_full_stdout_pipe_does_not_block_foster(plain_runner):
    read_end, write_end = os.pipe()
    try:
        foster, _, sock = start_foster(plain_runner, f"""
            [services.loud]
            command = "yes {LINE} | head -n {LINES}; exec sleep 1000"
            stdout = "prefix"
            stop_timeout = "2s"

            [services.crasher]
            command = ["/bin/sh", "-c", "exit 3"]
            restart = "always"
            restart_delay = "50ms"
            restart_delay_max = "50ms"
            start_limit_interval = "0s"
            """, stdout=write_end)
        os.close(write_end)
        write_end = None
        # The pipe fills up (nobody reads it): foster has lines it cannot write.
        # (64 KiB, less what a page-sized piece of a line left unused).
        wait_until(lambda: pipe_bytes(read_end) >= 48 * 1024, PROMPT, what="foster's stdout pipe to fill")
        time.sleep(0.2)  # let foster go on reading `loud` while its destination is full
        for _ in range(3):
            before = restarts(sock, "crasher")
            t0 = time.monotonic()
            r = ctl(sock, "status", timeout=PROMPT)
            assert r.returncode == 0, r.stderr
            assert time.monotonic() - t0 < 5, "fosterctl status took too long"
            wait_until(lambda: restarts(sock, "crasher") > before + 1, PROMPT,
                       what="crasher to be restarted while the pipe is full")

        # Now read: the kept lines arrive, then the count of the dropped ones.
        os.set_blocking(read_end, False)
        got = bytearray()

        def drained():
            try:
                while True:
                    chunk = os.read(read_end, 65536)
                    if not chunk:
                        break
                    got.extend(chunk)
            except BlockingIOError:
                pass
            return re.search(rb"foster: dropped (\d+) lines of loud output\n", got)
        found = wait_until(drained, PROMPT, what="the dropped-lines report")
        dropped = int(found.group(1))
        text = got.decode()
        lines = [l for l in text.split("\n") if l]
        kept = [l for l in lines if l == f"loud | {LINE}"]
        others = [l for l in lines if l != f"loud | {LINE}" and not l.startswith("foster: dropped")]
        assert not others, f"broken lines: {others[:3]}"
        assert dropped > 0
        assert len(kept) + dropped == LINES, (len(kept), dropped)
        # And lines flow again.
        ctl(sock, "restart", "loud")
        wait_until(lambda: drained() and got.decode().count(f"loud | {LINE}") > len(kept), PROMPT,
                   what="new lines of loud after the report")
        foster.send(signal.SIGTERM)
        wait_until(lambda: (drained(), not foster.running())[1], PROMPT, what="foster to exit")
        assert foster.wait() in (0, 1), foster.stderr()
    finally:
        os.close(read_end)
        if write_end is not None:
            os.close(write_end)
