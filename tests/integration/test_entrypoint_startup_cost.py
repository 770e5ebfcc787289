"""What `foster -- true` costs in system calls (docs/DESIGN.md, "Start-up and
exit"). On a virtual machine every system call is an exit to the hypervisor,
so the count is what the bench's exec overhead tracks. A count, not a time:
it holds on a busy machine. Counted in foster's own process (strace without
-f: PROGRAM's calls are PROGRAM's), for the static foster users run as the
entrypoint."""
import collections
import shutil
import subprocess

import pytest

from conftest import FOSTER
from helpers import sanitized

# 51 when this was written (catatonit: 25); 114 before the start-up was cut, 55 while the kernel reaped all the time.
MAX_SYSCALLS = 64
# SIGCHLD's disposition asked, set to the default, set to kernel reaping and
# back: the only signal the entrypoint touches. One per signal (64) before.
MAX_SIGACTIONS = 6


def is_static(binary):
    out = subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True, check=True).stdout
    return "INTERP" not in out


def traced_calls(tmp_path, argv):
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (packaging/deps.sh)")
    if sanitized(FOSTER) or not is_static(FOSTER):
        pytest.skip("counted for the static foster only (the sanitizers and the dynamic loader add their own)")
    log = tmp_path / "strace.log"
    r = subprocess.run(["strace", "-qq", "-o", str(log), *argv], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    calls = [line.split("(", 1)[0] for line in log.read_text().splitlines() if "(" in line]
    assert "execve" in calls, log.read_text()
    return collections.Counter(calls)


def test_foster_true_makes_few_system_calls(tmp_path):
    calls = traced_calls(tmp_path, [FOSTER, "--", "/bin/true"])
    total = sum(calls.values())
    assert total <= MAX_SYSCALLS, f"{total} system calls: {calls.most_common()}"
    assert calls["rt_sigaction"] <= MAX_SIGACTIONS, calls.most_common()
