#!/usr/bin/env python3
"""Refused connections during restarts: foster (held socket) vs supervisord, s6, runit.

One TCP server on 127.0.0.1 (bench/sockets.py writes it: Python, one connection at a time)
is restarted N times while a client connects as fast as it can. Each restart is the server
exiting right after answering a request that asks for it (a crash), so every supervisor
restarts it by its own policy, at its minimum delay: foster `restart = "always"`,
`restart_delay = "0s"`, `min_uptime = "0s"` with the port in `[services.srv.sockets]`;
supervisord `autorestart=true`, `startsecs=0`; s6 and runit at their defaults (they hold back
a service that ran less than 1 s for the rest of that second). Under foster the server takes
fd 3 (LISTEN_FDS); under the others it binds the port itself (SO_REUSEADDR).

Per supervisor: connections answered, refused and failed (reset, no answer), the longest
time without an answered connection, and the restart itself (from the answer to the crash
request until the next server is ready to accept: what a held socket cannot hide).
Target: foster 0 refused, 0 failed, and no gap longer than its slowest restart plus 50 ms.

Overlapping restarts (foster only; no peer can run two copies of one service): a `notify`
server that takes 1 s to become ready (it sends READY=1 and starts accepting after a 1 s
sleep) is replaced N times with `fosterctl restart --overlap srv` while the client connects
as fast as it can. A request is connect + send + read the whole answer. Target: 0 refused,
0 failed, every fosterctl exits 0.

    /usr/bin/python3 bench/sockets.py [--foster PATH] [--restarts N] [--overlaps N] [--quick] [--json FILE]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import log  # noqa: E402

SUPERVISORS = ["foster", "supervisord", "s6", "runit"]
PACKAGES = {"supervisord": "supervisor", "s6": "s6", "runit": "runit"}

SERVER = r'''
import os, socket, sys, time
pids, port = sys.argv[1], int(sys.argv[2])
if os.environ.get("LISTEN_FDS") == "1" and os.environ.get("LISTEN_PID") == str(os.getpid()):
    listen = socket.socket(fileno=3)
else:
    listen = socket.socket()
    listen.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listen.bind(("127.0.0.1", port))
    listen.listen(4096)
with open(pids, "a") as f:
    f.write("%d %.6f\n" % (os.getpid(), time.monotonic()))
while True:
    conn, _ = listen.accept()
    with conn:
        request = conn.recv(16)
        conn.sendall(b"ok\n")
    if request.startswith(b"crash"):
        os._exit(1)
'''


# The overlap server: ready (READY=1, then accept) after 1 s; on SIGTERM it
# finishes the connection in hand and exits, leaving the backlog to the new one.
OVERLAP_SERVER = r'''
import os, select, signal, socket, sys, time
pids = sys.argv[1]
listen = socket.socket(fileno=3)
wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
signal.set_wakeup_fd(wake_w)
stop = False
def on_term(sig, frame):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
time.sleep(1.0)
addr = os.environ["NOTIFY_SOCKET"]
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", "\0" + addr[1:] if addr[0] == "@" else addr)
with open(pids, "a") as f:
    f.write("%d %.6f\n" % (os.getpid(), time.monotonic()))
while not stop:
    readable, _, _ = select.select([listen, wake_r], [], [])
    if stop or listen not in readable:
        continue
    conn, _ = listen.accept()
    with conn:
        conn.recv(16)
        conn.sendall(b"ok %d\n" % os.getpid())
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client(threading.Thread):
    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.answered = self.refused = self.failed = 0
        self.longest_gap = 0.0
        self.crash_answered_at = []
        self.pending = None
        self.lock = threading.Lock()
        self.halt = threading.Event()

    def run(self):
        last = None
        while not self.halt.is_set():
            with self.lock:
                request, self.pending = (self.pending or b"hello"), None
            c = socket.socket()
            c.settimeout(10)
            try:
                c.connect(("127.0.0.1", self.port))
                c.sendall(request)
                if c.makefile("rb").readline().startswith(b"ok"):
                    now = time.monotonic()
                    self.answered += 1
                    if last is not None:
                        self.longest_gap = max(self.longest_gap, now - last)
                    last = now
                    if request == b"crash":
                        self.crash_answered_at.append(now)
                else:
                    self.failed += 1
            except ConnectionRefusedError:
                self.refused += 1
                if request == b"crash":
                    with self.lock:
                        self.pending = self.pending or request
            except OSError:
                self.failed += 1
            finally:
                c.close()


def configure(kind, d, paths, server, pids, port):
    argv = [sys.executable, server, pids, str(port)]
    if kind == "foster":
        conf = os.path.join(d, "foster.toml")
        with open(conf, "w") as f:
            f.write('[foster]\ncontrol_socket = "%s/foster.sock"\n\n[services.srv]\ncommand = %s\n'
                    'restart = "always"\nrestart_delay = "0s"\nmin_uptime = "0s"\nstart_limit_burst = 100000\n'
                    'sockets.http = { listen = "127.0.0.1:%d" }\n' % (d, json.dumps(argv), port))
        return [paths["foster"], "-c", conf]
    if kind == "supervisord":
        conf = os.path.join(d, "supervisord.conf")
        with open(conf, "w") as f:
            f.write("[supervisord]\nnodaemon=true\nlogfile=%s/supervisord.log\npidfile=%s/supervisord.pid\n"
                    "childlogdir=%s\n\n[program:srv]\ncommand=%s\nautorestart=true\nstartsecs=0\n"
                    "stdout_logfile=NONE\nstderr_logfile=NONE\n" % (d, d, d, " ".join(argv)))
        return [paths["supervisord"], "-c", conf]
    scan = os.path.join(d, "scan")
    os.makedirs(os.path.join(scan, "srv"))
    run = os.path.join(scan, "srv", "run")
    with open(run, "w") as f:
        f.write("#!/bin/sh\nexec %s\n" % " ".join(argv))
    os.chmod(run, 0o755)
    old = time.time() - 60  # runsvdir holds back a directory modified within this second
    for p in (os.path.join(scan, "srv"), scan):
        os.utime(p, (old, old))
    if kind == "s6":
        return [paths["s6-svscan"], scan]
    return [paths["runsvdir"], "-P", scan]


def ready_times(pids):
    try:
        with open(pids) as f:
            return [float(line.split()[1]) for line in f if line.endswith("\n")]
    except FileNotFoundError:
        return []


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for " + what)
        time.sleep(0.002)


def ours(pid, d):
    """Whether a process runs in (or from) this supervisor's directory."""
    try:
        if os.readlink("/proc/%d/cwd" % pid).startswith(d):
            return True
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return d.encode() in f.read()
    except OSError:
        return False


def sweep(proc, d):
    """SIGKILLs the supervisor and everything it started: runsv and s6-supervise
    run in sessions of their own and outlive a killed parent, so every process
    whose directory or command line is in the run's directory goes too."""
    for pid in [proc.pid] + [int(p) for p in os.listdir("/proc") if p.isdigit()]:
        if pid == proc.pid or ours(pid, d):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    proc.wait()
    time.sleep(0.1)  # let the last writers into supervise/ go before the directory is removed


def run_one(kind, paths, restarts, tmp):
    d = os.path.join(tmp, kind)
    os.makedirs(d)
    server = os.path.join(d, "server.py")
    with open(server, "w") as f:
        f.write(SERVER)
    pids = os.path.join(d, "pids")
    port = free_port()
    proc = subprocess.Popen(configure(kind, d, paths, server, pids, port), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "stderr"), "wb"),
                            cwd=d, process_group=0)
    client = None
    try:
        wait_until(lambda: len(ready_times(pids)) >= 1, 30, kind + "'s first server")
        client = Client(port)
        client.start()
        wait_until(lambda: client.answered > 0, 30, "a first answer")
        began = time.monotonic()
        for i in range(restarts):
            before = len(ready_times(pids))
            with client.lock:
                client.pending = b"crash"
            wait_until(lambda: len(ready_times(pids)) > before, 30, "restart %d" % (i + 1))
        answered = client.answered
        wait_until(lambda: client.answered > answered, 30, "an answer after the last restart")
        elapsed = time.monotonic() - began
    finally:
        if client:
            client.halt.set()
            client.join(15)
        sweep(proc, d)
    ready = ready_times(pids)[1:]
    durations = [r - c for c, r in zip(client.crash_answered_at, ready) if r >= c]
    return dict(restarts=restarts, seconds=elapsed, answered=client.answered, refused=client.refused,
                failed=client.failed, longest_gap_ms=client.longest_gap * 1000,
                restart_median_ms=statistics.median(durations) * 1000 if durations else None,
                restart_max_ms=max(durations) * 1000 if durations else None)


def run_overlap(paths, overlaps, tmp):
    """foster only: N overlapping restarts of a server that needs 1 s to be ready."""
    d = os.path.join(tmp, "overlap")
    os.makedirs(d)
    server = os.path.join(d, "server.py")
    with open(server, "w") as f:
        f.write(OVERLAP_SERVER)
    pids = os.path.join(d, "pids")
    port = free_port()
    sock = os.path.join(d, "foster.sock")
    conf = os.path.join(d, "foster.toml")
    with open(conf, "w") as f:
        f.write('[foster]\ncontrol_socket = "%s"\n\n[services.srv]\ncommand = %s\ntype = "notify"\n'
                'sockets.http = { listen = "127.0.0.1:%d" }\n' % (sock, json.dumps([sys.executable, server, pids]), port))
    fosterctl = os.path.join(os.path.dirname(paths["foster"]), "fosterctl")
    proc = subprocess.Popen([paths["foster"], "-c", conf], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(d, "stderr"), "wb"), cwd=d, process_group=0)
    client = None
    durations, failures = [], []
    try:
        wait_until(lambda: len(ready_times(pids)) >= 1, 30, "the first server")
        client = Client(port)
        client.start()
        wait_until(lambda: client.answered > 0, 30, "a first answer")
        began = time.monotonic()
        for i in range(overlaps):
            t0 = time.monotonic()
            r = subprocess.run([fosterctl, "-s", sock, "restart", "--overlap", "srv"], capture_output=True, text=True)
            durations.append(time.monotonic() - t0)
            if r.returncode != 0:
                failures.append("overlap %d: exit %d: %s" % (i + 1, r.returncode, r.stderr.strip()))
        answered = client.answered
        wait_until(lambda: client.answered > answered, 30, "an answer after the last overlap")
        elapsed = time.monotonic() - began
    finally:
        if client:
            client.halt.set()
            client.join(15)
        sweep(proc, d)
    return dict(overlaps=overlaps, seconds=elapsed, answered=client.answered, refused=client.refused,
                failed=client.failed, fosterctl_failures=failures, longest_gap_ms=client.longest_gap * 1000,
                servers=len(ready_times(pids)),
                overlap_median_ms=statistics.median(durations) * 1000, overlap_max_ms=max(durations) * 1000)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--foster", default="/work/main/build/foster")
    ap.add_argument("--restarts", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="5 restarts")
    ap.add_argument("--supervisors", default=",".join(SUPERVISORS))
    ap.add_argument("--overlaps", type=int, default=20, help="overlapping restarts (0: none)")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    restarts = 5 if args.quick else args.restarts
    overlaps = min(args.overlaps, 5) if args.quick else args.overlaps
    paths = {"foster": os.path.abspath(args.foster)}
    for name in ("supervisord", "s6-svscan", "runsvdir"):
        paths[name] = shutil.which(name)
    results = {}
    with tempfile.TemporaryDirectory(prefix="foster-bench-sockets-", ignore_cleanup_errors=True) as tmp:
        for kind in args.supervisors.split(","):
            binary = {"foster": "foster", "supervisord": "supervisord", "s6": "s6-svscan", "runit": "runsvdir"}[kind]
            if not paths.get(binary) or not os.access(paths[binary], os.X_OK):
                log("%s: missing (apt-get install -y %s); skipped" % (kind, PACKAGES.get(kind, kind)))
                continue
            log("%s: %d restarts ..." % (kind, restarts))
            try:
                results[kind] = run_one(kind, paths, restarts, tmp)
                log("  %s" % results[kind])
            except Exception as e:  # noqa: BLE001
                results[kind] = {"error": str(e)}
                log("  FAILED: %s" % e)
        if overlaps > 0 and os.access(paths["foster"], os.X_OK):
            log("foster: %d overlapping restarts ..." % overlaps)
            try:
                results["foster-overlap"] = run_overlap(paths, overlaps, tmp)
                log("  %s" % results["foster-overlap"])
            except Exception as e:  # noqa: BLE001
                results["foster-overlap"] = {"error": str(e)}
                log("  FAILED: %s" % e)
    overlap = results.pop("foster-overlap", None)
    print("| supervisor | restarts | answered | refused | failed | longest gap without an answer | restart (median / max) |")
    print("|---|---|---|---|---|---|---|")
    for kind, r in results.items():
        if "error" in r:
            print("| %s | failed: %s | | | | | |" % (kind, r["error"]))
            continue
        restart = ("%.0f / %.0f ms" % (r["restart_median_ms"], r["restart_max_ms"])
                   if r["restart_median_ms"] is not None else "—")
        print("| %s | %d | %d | %d | %d | %.0f ms | %s |" % (kind, r["restarts"], r["answered"], r["refused"],
                                                            r["failed"], r["longest_gap_ms"], restart))
    f = results.get("foster")
    if f and "error" not in f:
        met = f["refused"] == 0 and f["failed"] == 0 and f["longest_gap_ms"] <= (f["restart_max_ms"] or 0) + 50
        print("\nTarget (foster: 0 refused, 0 failed, no gap longer than its slowest restart + 50 ms): %s"
              % ("met" if met else "NOT met"))
    if overlap:
        print("\nOverlapping restarts (fosterctl restart --overlap; the new server is ready after 1 s):\n")
        if "error" in overlap:
            print("failed: %s" % overlap["error"])
        else:
            print("| overlaps | answered | refused | failed | fosterctl failed | longest gap without an answer | fosterctl restart --overlap (median / max) |")
            print("|---|---|---|---|---|---|---|")
            print("| %d | %d | %d | %d | %d | %.0f ms | %.0f / %.0f ms |" % (
                overlap["overlaps"], overlap["answered"], overlap["refused"], overlap["failed"],
                len(overlap["fosterctl_failures"]), overlap["longest_gap_ms"], overlap["overlap_median_ms"],
                overlap["overlap_max_ms"]))
            for failure in overlap["fosterctl_failures"]:
                print("  " + failure)
            met = overlap["refused"] == 0 and overlap["failed"] == 0 and not overlap["fosterctl_failures"]
            print("\nTarget (overlap: 0 refused, 0 failed, every fosterctl exit 0): %s" % ("met" if met else "NOT met"))
        results["foster-overlap"] = overlap
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2)
    ok = all("error" not in r for r in results.values())
    return 0 if ok and not (overlap and overlap.get("fosterctl_failures")) else 1


if __name__ == "__main__":
    sys.exit(main())
