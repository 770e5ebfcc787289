"""Process helpers for the integration tests: polling, /proc, probe output.

Everything here waits for an event with a bound (wait_until) instead of
sleeping and hoping, and looks at processes through /proc only.
"""
import os
import signal
import subprocess
import time

# Bounds for "promptly". Generous, because the suite also runs under ASan.
# FOSTER_TEST_SLOWDOWN multiplies it for slower runs: under valgrind
# (tests/valgrind/run) every foster and fosterctl takes a second or more to
# start.
PROMPT = 10.0 * float(os.environ.get("FOSTER_TEST_SLOWDOWN", "1"))


def wait_until(predicate, timeout=PROMPT, interval=0.005, what=None):
    """Polls predicate until it returns a truthy value, which is returned.

    Fails the test (AssertionError naming `what`) when timeout seconds pass.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


def read_stat(pid):
    """(state, ppid, pgid, starttime) from /proc/PID/stat, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    # comm (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = data[data.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); field 22 (starttime) is fields[19].
    return fields[0], int(fields[1]), int(fields[2]), int(fields[19])


def read_status(pid):
    """/proc/PID/status as a dict of stripped strings, or None if gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            lines = f.read().splitlines()
    except (FileNotFoundError, ProcessLookupError):
        return None
    result = {}
    for line in lines:
        key, _, value = line.partition(":")
        result[key] = value.strip()
    return result


def all_pids():
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def children_of(pid):
    """Pids whose parent is pid, zombies included."""
    result = []
    for p in all_pids():
        st = read_stat(p)
        if st and st[1] == pid:
            result.append(p)
    return result


def zombies_of(pid):
    """Zombie children of pid (state Z) — what a good reaper never leaves."""
    result = []
    for p in all_pids():
        st = read_stat(p)
        if st and st[1] == pid and st[0] == "Z":
            result.append(p)
    return result


def descendants(pid):
    """Every process below pid in the tree (not pid itself)."""
    by_parent = {}
    for p in all_pids():
        st = read_stat(p)
        if st:
            by_parent.setdefault(st[1], []).append(p)
    result, todo = [], [pid]
    while todo:
        for child in by_parent.get(todo.pop(), []):
            result.append(child)
            todo.append(child)
    return result


def is_alive(pid):
    """True if pid exists and is not a zombie."""
    st = read_stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def is_gone(pid):
    """True if pid no longer runs (exited; a zombie counts as gone)."""
    return not is_alive(pid)


def sigmask(*signals):
    """The /proc status hex mask (SigBlk, SigIgn) for these signals."""
    mask = 0
    for s in signals:
        mask |= 1 << (int(s) - 1)
    return f"{mask:016x}"


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


def parse_report(path):
    """A `probe report` file as a dict; None until it exists (it is renamed
    into place whole). Keys: pid, ppid, pgid, sid (int), cwd, sigblk, sigign
    (str), fds {fd: target}, env {name: value}."""
    text = read_text(path)
    if text is None:
        return None
    report = {"fds": {}, "env": {}}
    for line in text.splitlines():
        key, _, rest = line.partition(" ")
        if key in ("pid", "ppid", "pgid", "sid"):
            report[key] = int(rest)
        elif key == "fd":
            fd, _, target = rest.partition(" ")
            report["fds"][int(fd)] = target
        elif key == "env":
            name, _, value = rest.partition("=")
            report["env"][name] = value
        else:
            report[key] = rest
    return report


def wait_report(path, timeout=PROMPT):
    return wait_until(lambda: parse_report(path), timeout,
                      what=f"probe report {path}")


class SignalLog:
    """A `probe signals` file: the ready line and the received signals."""

    def __init__(self, path):
        self.path = path

    def _lines(self):
        text = read_text(self.path) or ""
        # A line without its newline is still being written: ignore it.
        return [l.split() for l in text.split("\n")[:-1]]

    def ready(self):
        """(pid, ppid, pgid) of the probe once it is ready, else None."""
        for fields in self._lines():
            if fields[0] == "ready":
                return tuple(int(x) for x in fields[1:4])
        return None

    def records(self):
        """[(signo, si_pid, si_code, monotonic_ns)] in order of arrival."""
        return [tuple(int(x) for x in f[1:5])
                for f in self._lines() if f[0] == "sig"]

    def signals(self):
        return [r[0] for r in self.records()]

    def wait_ready(self, timeout=PROMPT):
        return wait_until(self.ready, timeout, what=f"{self.path} ready")

    def wait_count(self, n, timeout=PROMPT):
        wait_until(lambda: len(self.records()) >= n, timeout,
                   what=f"{n} signal(s) recorded in {self.path}, "
                        f"have {self.signals()}")
        return self.signals()


def parse_keyed(path):
    """Lines "key value" (spawn-and-exit output) as {key: int}."""
    text = read_text(path)
    if text is None:
        return None
    return {k: int(v) for k, v in (l.split() for l in text.splitlines())}


def kill_if_same(pid, starttime, sig=signal.SIGKILL):
    """Signals pid only if it is still the process we saw (same start time)."""
    st = read_stat(pid)
    if st and st[3] == starttime:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def stat_fields(pid):
    """/proc/PID/stat fields from field 3 (state) on, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    return data[data.rindex(")") + 2:].split()


def foreground_pgid(pid):
    """The foreground process group of pid's controlling terminal (tpgid)."""
    fields = stat_fields(pid)
    return int(fields[5]) if fields else None


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except (FileNotFoundError, ProcessLookupError):
        return None


def reap_orphan(pid, timeout=PROMPT):
    """Waits for a process re-parented to the test (a subreaper) and returns
    its exit status as subprocess does (negative: killed by that signal)."""
    def reaped():
        got, status = os.waitpid(pid, os.WNOHANG)
        return os.waitstatus_to_exitcode(status) if got == pid else None
    result = []
    wait_until(lambda: result.append(reaped()) or result[-1] is not None,
               timeout, what=f"process {pid} to exit")
    return result[-1]


def sanitized(binary):
    """Linked with the sanitizers' runtime (the ASan+UBSan build)."""
    out = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True).stdout
    return "libasan" in out
