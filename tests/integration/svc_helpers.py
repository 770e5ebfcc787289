"""Helpers for the service-runner tests (foster -c FILE [-- PROGRAM]).

Services are small /bin/sh or python commands that record what happened to
them (start and stop times, pids, what they saw) into files of the test's
temporary directory; the tests poll those files with a bound (wait_until).
Times are wall-clock seconds (`date +%s.%N` in sh, time.time() in python),
the same clock in every process.
"""
import json
import os
import re
import socket
import textwrap
import time

from helpers import (PROMPT, descendants, is_alive, read_stat, read_text,
                     wait_until)

# A timestamp, as a sh fragment.
NOW = "$(date +%s.%N)"


def q(text):
    """A TOML basic string (JSON's escaping is valid TOML for these)."""
    return json.dumps(str(text))


def write_config(path, text):
    """Writes a config whole (write, then rename): a reload never reads it
    half-written. Returns the path as a string."""
    path = str(path)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(textwrap.dedent(text))
    os.replace(tmp, path)
    return path


def start(runner, text, program=None, args=(), name="foster.toml", env=None, **kwargs):
    """Writes the config and starts `foster [ARGS] -c CONFIG [-- PROGRAM]`.
    Each foster gets a control socket of its own in the test's directory
    ($FOSTER_SOCKET), so that no two fosters (of this test run or another
    one) contend for /run/foster.sock. Returns (foster, config path)."""
    cfg = write_config(runner.tmp / name, text)
    env = dict(os.environ if env is None else env)
    env.setdefault("FOSTER_SOCKET", str(runner.tmp / f"control{runner.count + 1}.sock"))
    foster = runner.start(list(args) + ["-c", cfg], program, env=env, **kwargs)
    return foster, cfg


def lines(path):
    """The complete lines of a file (a last line without its newline is still
    being written and left out); [] while it does not exist."""
    text = read_text(str(path)) or ""
    return text.split("\n")[:-1]


def times(path):
    """The timestamps (floats) of a file of `date +%s.%N` lines."""
    out = []
    for line in lines(path):
        try:
            out.append(float(line))
        except ValueError:
            pass
    return out


def stamp(path, timeout=PROMPT):
    """Waits for a file holding one timestamp line; returns it."""
    found = wait_until(lambda: times(path), timeout, what=f"a timestamp in {path}")
    return found[0]


def exists(path):
    return os.path.exists(str(path))


def wait_file(path, timeout=PROMPT):
    wait_until(lambda: exists(path), timeout, what=f"{path} to exist")


def stays_false(predicate, seconds, what):
    """Asserts that predicate stays false for `seconds` (polled): for things
    that must NOT happen, there is no event to wait for."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert not predicate(), what
        time.sleep(0.01)
    assert not predicate(), what


def log_matches(foster, pattern):
    return re.search(pattern, foster.stderr(), re.MULTILINE)


def wait_log(foster, pattern, timeout=PROMPT):
    """Waits until foster's stderr matches the regex pattern."""
    return wait_until(lambda: log_matches(foster, pattern), timeout,
                      what=f"foster to log /{pattern}/; stderr so far: "
                           f"{foster.stderr()[-2000:]!r}")


def state_logged(service, state):
    """Regex for foster's log of `service` entering `state` (the state names
    are foster.toml(5)'s)."""
    return rf"\b{re.escape(service)}\b.*\b{state}\b"


def snapshot(pids):
    """{pid: starttime} of the processes alive now (to tell later whether the
    very same processes are gone, whatever reused their numbers)."""
    out = {}
    for p in pids:
        st = read_stat(p)
        if st and st[0] not in ("Z", "X"):
            out[p] = st[3]
    return out


def still_alive(snap):
    """Those of a snapshot that are still the same live processes."""
    alive = []
    for p, starttime in snap.items():
        st = read_stat(p)
        if st and st[3] == starttime and st[0] not in ("Z", "X"):
            alive.append(p)
    return alive


def ns_pid(pid):
    """A process's pid in its own (innermost) PID namespace, from NSpid."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def host_pid(foster_pid, inner_pid):
    """The host pid of the descendant of foster whose pid as the services see
    it (inside foster's namespace, if foster is PID 1 of one) is inner_pid."""
    for p in descendants(foster_pid):
        if ns_pid(p) == inner_pid:
            return p
    return None


def wait_host_pid(foster_pid, inner_pid, timeout=PROMPT):
    return wait_until(lambda: host_pid(foster_pid, inner_pid), timeout,
                      what=f"service process {inner_pid} below foster")


def live_descendants(pid):
    return [p for p in descendants(pid) if is_alive(p)]


def ctx_switches(pid):
    """voluntary + nonvoluntary context switches of pid (its main thread)."""
    total = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("voluntary_ctxt_switches:",
                                "nonvoluntary_ctxt_switches:")):
                total += int(line.split()[1])
    return total


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def notify_address(addr):
    """$NOTIFY_SOCKET as a socket address: a leading '@' means abstract."""
    return "\0" + addr[1:] if addr.startswith("@") else addr


def send_notify(addr, message=b"READY=1"):
    """Sends a notify datagram from the calling process."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendto(message, notify_address(addr))


# A notify service: records $NOTIFY_SOCKET in DIR/NAME.addr (whole, by rename),
# waits for DIR/NAME.go, records the time in DIR/NAME.ready, sends READY=1,
# then waits for a signal.
NOTIFY_SERVICE = r'''
import os, signal, socket, sys, time
d, name = sys.argv[1], sys.argv[2]
addr = os.environ.get("NOTIFY_SOCKET", "")
with open(f"{d}/{name}.addr.tmp", "w") as f:
    f.write(addr)
os.rename(f"{d}/{name}.addr.tmp", f"{d}/{name}.addr")
while not os.path.exists(f"{d}/{name}.go"):
    time.sleep(0.01)
with open(f"{d}/{name}.ready", "w") as f:
    f.write(f"{time.time():.6f}\n")
if addr:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.sendto(b"READY=1", "\0" + addr[1:] if addr.startswith("@") else addr)
    s.close()
while True:
    signal.pause()
'''

# A stranger: waits for DIR/NAME.addr (another service's NOTIFY_SOCKET), sends
# READY=1 there from its own process, writes DIR/stranger.sent, waits.
STRANGER = r'''
import os, signal, socket, sys, time
d, name = sys.argv[1], sys.argv[2]
while not os.path.exists(f"{d}/{name}.addr"):
    time.sleep(0.01)
addr = open(f"{d}/{name}.addr").read()
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"READY=1", "\0" + addr[1:] if addr.startswith("@") else addr)
s.close()
open(f"{d}/stranger.sent", "w").close()
while True:
    signal.pause()
'''


def script(tmp_path, name, text):
    """Writes a python script into tmp_path; returns its path."""
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def trap_service(d, name, *, stop_delay=0.0):
    """A sh service (as a TOML string) that writes DIR/NAME.start once its
    trap is set, and on SIGTERM writes DIR/NAME.stop, waits stop_delay,
    writes DIR/NAME.exit and exits 0."""
    delay = f"sleep {stop_delay}; " if stop_delay else ""
    body = (f'trap \'echo {NOW} > {d}/{name}.stop; {delay}echo {NOW} > {d}/{name}.exit; '
            f'kill $! 2>/dev/null; exit 0\' TERM; '
            f'sleep 1000 & echo {NOW} > {d}/{name}.start; wait')
    return q(body)
