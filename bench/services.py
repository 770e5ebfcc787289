#!/usr/bin/python3
"""Side-by-side benchmark of foster's service-runner mode against supervisord,
s6 (s6-svscan) and runit (runsvdir).  Standard library only; see bench/README.md.

    /usr/bin/python3 bench/services.py [--foster PATH] [--fosterctl PATH] [--quick]
                                       [--json FILE] [--wait-idle SECONDS]
                                       [--tests hundred,thousand,clients,restarts,chain]
                                       [--supervisors foster,supervisord,s6,runit]

Every supervisor runs as a plain child of this runner (its own process group,
not PID 1, no subreaper above it) and supervises services that are one exec of
bench/svc.c: create a marker file, then pause until SIGTERM kills it.  The C
helpers are compiled into a temporary directory on every run; nothing is
installed.  A missing peer is named with the package to install and skipped.
"""

import argparse
import contextlib
import ctypes
import json
import os
import platform
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

from benchlib import (CLK_TCK, busy_cpu_seconds, children_of, compile_helpers, ctxt_switches,
                      log, memory_of, own_cpu_seconds, parse_kv, pct, wait_for_quiet_machine)

SUPERVISORS = ["foster", "supervisord", "s6", "runit"]
PEERS = SUPERVISORS[1:]
ALL_TESTS = ["hundred", "thousand", "clients", "restarts", "chain"]
PACKAGES = {"supervisord": "supervisor", "s6": "s6", "runit": "runit"}
PEER_BINARIES = {
    "supervisord": ["supervisord", "supervisorctl"],
    "s6": ["s6-svscan", "s6-supervise"],
    "runit": ["runsvdir", "runsv", "sv"],
}
STOP_HOW = {
    "foster": "SIGTERM to foster (graceful shutdown: each service gets its `stop_signal`, SIGTERM)",
    "supervisord": "SIGTERM to supervisord (stops every program with its `stopsignal`, TERM, then exits)",
    "s6": "SIGTERM to s6-svscan (s6 ≥ 2.11: same as `s6-svscanctl -t`: SIGTERM to every s6-supervise, "
          "which brings its service down with SIGTERM+SIGCONT and exits; s6-svscan waits for them, then exits)",
    "runit": "SIGHUP to runsvdir (runsvdir(8): SIGTERM to every runsv, then exits 111; runsv(8): SIGTERM = "
             "control `x`: SIGTERM+SIGCONT to the service, exit once it is down). SIGTERM alone would leave "
             "every runsv and service running",
}


def median_or_none(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# --------------------------------------------------------------------------
# /proc


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        kids = children_of(todo.pop())
        out += kids
        todo += kids
    return out


def exe_of(pid):
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return ""


def fd_kinds(pid):
    """(open fds, of which pidfds): a running service holds one pidfd in foster."""
    fds = pidfds = 0
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            fds += 1
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "anon_inode:[pidfd]":
                    pidfds += 1
            except OSError:
                pass
    except OSError:
        return None, None
    return fds, pidfds


def cpu_ms(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / CLK_TCK


def sweep(tmp):
    """SIGKILL every process (but this one) whose executable, working directory or
    command line lies in TMP: what a supervisor left behind.  Returns their descriptions."""
    found = []
    me = os.getpid()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        pid = int(d)
        try:
            exe = exe_of(pid)
            try:
                cwd = os.readlink("/proc/%d/cwd" % pid)
            except OSError:
                cwd = ""
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state == "Z":
            continue
        if exe.startswith(tmp) or cwd.startswith(tmp) or tmp in cmd:
            try:
                os.kill(pid, signal.SIGKILL)
                found.append("%d %s" % (pid, cmd[:80]))
            except OSError:
                pass
    if found:
        time.sleep(0.2)
    return found


# --------------------------------------------------------------------------
# inotify (ctypes; polling when unavailable)

IN_CREATE, IN_MOVED_TO, IN_Q_OVERFLOW = 0x100, 0x80, 0x4000


class MarkerWatch:
    """Counts files created in a directory; `wait(n)` returns the monotonic time at
    which the n-th distinct file was seen."""

    def __init__(self, path):
        self.path = path
        self.names = set()
        self.fd = -1
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(os.O_CLOEXEC | os.O_NONBLOCK)
            if fd >= 0 and libc.inotify_add_watch(fd, path.encode(), IN_CREATE | IN_MOVED_TO) >= 0:
                self.fd = fd
            elif fd >= 0:
                os.close(fd)
        except (OSError, AttributeError):
            self.fd = -1

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def wait(self, n, timeout, alive=None):
        deadline = time.monotonic() + timeout
        while len(self.names) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if alive is not None and alive() is not None:
                return None
            if self.fd < 0:
                time.sleep(0.001)
                self.names = set(os.listdir(self.path))
                continue
            if not select.select([self.fd], [], [], min(left, 0.2))[0]:
                continue
            try:
                buf = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                continue
            i = 0
            while i + 16 <= len(buf):
                _wd, mask, _cookie, ln = struct.unpack_from("iIII", buf, i)
                name = buf[i + 16:i + 16 + ln].rstrip(b"\0")
                i += 16 + ln
                if mask & IN_Q_OVERFLOW:
                    self.names = set(os.listdir(self.path))
                elif name:
                    self.names.add(name)
        return time.monotonic()


# --------------------------------------------------------------------------
# supervisors


def svc_name(i):
    return "s%04d" % i


class Supervisor:
    """One run of one supervisor over a fresh directory."""

    def __init__(self, kind, paths, bins, tmp, tag):
        self.kind = kind
        self.paths = paths
        self.bins = bins
        self.dir = os.path.join(tmp, tag)
        os.makedirs(self.dir)
        self.markers = os.path.join(self.dir, "markers")
        os.makedirs(self.markers)
        self.proc = None
        self.sock = None
        self.conf = None
        self.scandir = None
        self.names = []
        self.exit_cpu_ms = None

    # -- configuration -----------------------------------------------------

    def configure(self, n, crash=None, chain=False):
        """n services that create a marker and wait; or, with crash = dict(counter dir,
        foster restart keys), n services that exit at once. chain (foster): each service
        but the first depends on the one before it."""
        self.names = [svc_name(i) for i in range(n)]
        svc = self.bins["svc"]

        shell = self.bins.get("shape") == "sh"

        def argv_of(name):
            if crash is not None:
                return [svc, "-x", os.path.join(crash["counters"], name)]
            if shell:
                return ["/bin/sh", "-c", ": > %s; exec sleep 1000" % os.path.join(self.markers, name)]
            return [svc, os.path.join(self.markers, name)]

        if self.kind == "nosuper":  # bench/nosuper.c: no configuration, services named by number
            return
        if self.kind == "foster":
            self.sock = os.path.join(self.dir, "foster.sock")
            lines = ["[foster]", 'control_socket = "%s"' % self.sock, ""]
            for k, name in enumerate(self.names):
                lines.append("[services.%s]" % name)
                lines.append("command = [%s]" % ", ".join(json.dumps(a) for a in argv_of(name)))
                if chain and k > 0:
                    lines.append("depends_on = [%s]" % json.dumps(self.names[k - 1]))
                for k, v in (crash or {}).get("foster", {}).items():
                    lines.append("%s = %s" % (k, json.dumps(v)))
                lines.append("")
            self.conf = os.path.join(self.dir, "foster.toml")
            with open(self.conf, "w") as f:
                f.write("\n".join(lines))
        elif self.kind == "supervisord":
            self.sock = os.path.join(self.dir, "supervisor.sock")
            lines = [
                "[supervisord]", "nodaemon=true",
                "logfile=%s" % os.path.join(self.dir, "supervisord.log"),
                "pidfile=%s" % os.path.join(self.dir, "supervisord.pid"),
                "childlogdir=%s" % self.dir, "",
                "[unix_http_server]", "file=%s" % self.sock, "",
                "[rpcinterface:supervisor]",
                "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface", "",
                "[supervisorctl]", "serverurl=unix://%s" % self.sock, "",
            ]
            for name in self.names:
                cmd = " ".join(argv_of(name)) if not shell or crash is not None else \
                    "/bin/sh -c \"%s\"" % argv_of(name)[2]
                lines += ["[program:%s]" % name, "command=%s" % cmd,
                          "stdout_logfile=NONE", "stderr_logfile=NONE"]
                if crash is not None:
                    lines += ["autorestart=true", "startsecs=0"]
                lines.append("")
            self.conf = os.path.join(self.dir, "supervisord.conf")
            with open(self.conf, "w") as f:
                f.write("\n".join(lines))
        else:  # s6, runit: a scan directory; ./run is a symlink to svc, one exec per service
            self.scandir = os.path.join(self.dir, "scan")
            os.makedirs(self.scandir)
            for name in self.names:
                d = os.path.join(self.scandir, name)
                os.makedirs(d)
                if shell and crash is None:  # the same two execs: sh (by its #!), then sleep
                    with open(os.path.join(d, "run"), "w") as f:
                        f.write("#!/bin/sh\n: > %s\nexec sleep 1000\n" % os.path.join(self.markers, name))
                    os.chmod(os.path.join(d, "run"), 0o755)
                    continue
                os.symlink(svc, os.path.join(d, "run"))
                if crash is not None:
                    os.symlink(os.path.join(crash["counters"], name), os.path.join(d, "counter"))
                else:
                    os.symlink(os.path.join(self.markers, name), os.path.join(d, "marker"))
            # as if the services had been installed long ago: runsvdir scans a directory modified
            # within the current second again a second later, and would start them only then
            old = time.time() - 60
            for name in self.names:
                os.utime(os.path.join(self.scandir, name), (old, old))
            os.utime(self.scandir, (old, old))

    def argv(self):
        if self.kind == "nosuper":
            return [self.bins["nosuper"], str(len(self.names)), self.markers, self.bins["svc"]]
        if self.kind == "foster":
            return [self.paths["foster"], "-c", self.conf]
        if self.kind == "supervisord":
            return [self.paths["supervisord"], "-c", self.conf]
        if self.kind == "s6":
            return [self.paths["s6-svscan"], self.scandir]
        return [self.paths["runsvdir"], "-P", self.scandir]

    # -- life --------------------------------------------------------------

    def launch(self):
        self.err = open(os.path.join(self.dir, "stderr"), "wb")
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.err, cwd=self.dir, process_group=0)
        return self.proc

    def stderr_tail(self):
        try:
            with open(os.path.join(self.dir, "stderr"), "rb") as f:
                return f.read()[-300:].decode(errors="replace").strip()
        except OSError:
            return ""

    def processes(self):
        """(supervision tree pids, service pids): the services are the processes running svc."""
        svc = {os.path.realpath(self.bins["svc"])}
        if self.bins.get("shape") == "sh":
            svc |= {os.path.realpath(shutil.which("sleep")), os.path.realpath("/bin/sh")}
        tree, services = [self.proc.pid], []
        for pid in descendants(self.proc.pid):
            (services if exe_of(pid) in svc else tree).append(pid)
        return tree, services

    def stop(self):
        if self.kind == "runit":
            self.proc.send_signal(signal.SIGHUP)
        else:
            self.proc.send_signal(signal.SIGTERM)

    def kill(self):
        if self.proc is None:
            return
        for pid in [self.proc.pid] + descendants(self.proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.err.close()

    def status_argv(self, json_out=False):
        if self.kind == "foster":
            return [self.paths["fosterctl"], "-s", self.sock, "status"] + (["--json"] if json_out else [])
        if self.kind == "supervisord":
            return [self.paths["supervisorctl"], "-c", self.conf, "status"]
        if self.kind == "runit":
            return [self.paths["sv"], "status"] + [os.path.join(self.scandir, n) for n in self.names]
        return None  # s6 has no single status command for a whole scan directory


class QuietGate:
    """With --wait-idle: before each timed start, wait (at most 15 s each, at most the
    --wait-idle budget in all) until other processes keep < 0.2 CPUs busy for 0.5 s."""
    budget = 0.0
    waited = 0.0

    @classmethod
    def wait(cls):
        t0 = time.monotonic()
        busy = None
        while cls.budget - cls.waited > 0 and time.monotonic() - t0 < 15:
            b0 = busy_cpu_seconds()
            time.sleep(0.5)
            busy = (busy_cpu_seconds() - b0) / 0.5
            cls.waited += 0.5
            if busy < 0.2:
                break
        return busy


def start_timed(sup, n, timeout):
    """Launch; return ms until the n-th marker exists."""
    QuietGate.wait()
    watch = MarkerWatch(sup.markers)
    try:
        t0 = time.monotonic()
        p = sup.launch()
        t1 = watch.wait(n, timeout, alive=p.poll)
    finally:
        watch.close()
    if t1 is None:
        raise RuntimeError("%d of %d services started within %.0f s%s: %s" % (
            len(os.listdir(sup.markers)), n, timeout,
            " (the supervisor exited %s)" % p.returncode if p.poll() is not None else "",
            sup.stderr_tail()[-200:]))
    return (t1 - t0) * 1000.0


def stop_timed(sup, timeout=60):
    """Stop the documented way; return (ms until the supervisor and every process it
    started are gone, supervisor exit status, number of processes waited for)."""
    tree, services = sup.processes()
    fds = []
    for pid in tree + services:
        try:
            fds.append(os.pidfd_open(pid))
        except OSError:
            pass
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    left = len(fds)
    t0 = time.monotonic()
    sup.stop()
    deadline = t0 + timeout
    try:
        while left:
            ms = (deadline - time.monotonic()) * 1000
            if ms <= 0:
                raise RuntimeError("%d of %d processes still alive %d s after the stop" % (left, len(fds), timeout))
            for fd, _ev in poller.poll(ms):
                poller.unregister(fd)
                left -= 1
        t1 = time.monotonic()
        try:  # the supervisor's CPU time in all, from its zombie's stat
            sup.exit_cpu_ms = cpu_ms(sup.proc.pid)
        except OSError:
            sup.exit_cpu_ms = None
    finally:
        for fd in fds:
            os.close(fd)
    rc = sup.proc.wait(timeout=10)
    return (t1 - t0) * 1000.0, rc, len(fds)


def tree_memory(pids):
    pss = rss = 0
    for pid in pids:
        r, p, _ = memory_of(pid)
        rss += r or 0
        pss += p or 0
    return rss, pss


def idle_wakeups(pids, window):
    before = ctxt_switches(pids)
    t0 = time.monotonic()
    time.sleep(window)
    dt = time.monotonic() - t0
    return (ctxt_switches(pids) - before) / dt


def time_cli(bins, argv, iters, warm, tmp, tag):
    """median and p99 ms of spawn+exec+wait of argv (execdrv, output to /dev/null)."""
    out = os.path.join(tmp, "cli-%s.txt" % tag)
    r = subprocess.run([bins["execdrv"], out, str(iters), str(warm)] + argv,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    if r.returncode not in (0, 3):
        raise RuntimeError("execdrv failed: " + r.stderr.strip()[-200:])
    with open(out) as f:
        row = [int(x) / 1e6 for x in f.readline().split()]
    return {"median_ms": statistics.median(row), "p99_ms": pct(row, 99), "runs": len(row),
            "nonzero_exit": r.returncode == 3}


# --------------------------------------------------------------------------
# tests


def test_hundred(kinds, paths, bins, cfg, tmp):
    """start, tree PSS, idle wakeups, status CLI and stop of 100 services, per supervisor."""
    n, rounds = cfg["services"], cfg["rounds"]
    log("hundred: %d services, %d round(s) per supervisor, idle window %g s" % (n, rounds, cfg["idle_window"]))
    res = {k: {"start_runs": [], "stop_runs": [], "stop_exit": [], "leftovers": []} for k in kinds}
    for r in range(rounds):
        order = kinds[r % len(kinds):] + kinds[:r % len(kinds)]
        for k in order:
            rec = res[k]
            if "error" in rec:
                continue
            sup = Supervisor(k, paths, bins, tmp, "%s-%d-r%d" % (k, n, r))
            sup.configure(n)
            try:
                ms = start_timed(sup, n, cfg["start_timeout"])
                rec["start_runs"].append(ms)
                time.sleep(cfg["settle"])
                tree, services = sup.processes()
                if len(services) != n:
                    raise RuntimeError("%d service processes found after the start, expected %d" % (len(services), n))
                line = "  %-11s round %d: start %.0f ms" % (k, r + 1, ms)
                if r == 0:
                    rss, pss = tree_memory(tree)
                    rec.update(tree_procs=len(tree), tree_pss_kib=pss, tree_rss_kib=rss, exe=exe_of(sup.proc.pid))
                    rec["wakeups_per_s"] = idle_wakeups(tree, cfg["idle_window"])
                    line += ", tree %d procs PSS %d KiB (%s), %.2f wakeups/s" % (
                        len(tree), pss, os.path.relpath(rec["exe"], tmp) if rec["exe"].startswith(tmp) else rec["exe"],
                        rec["wakeups_per_s"])
                    argv = sup.status_argv()
                    if argv:
                        slow = k == "supervisord"
                        st = time_cli(bins, argv, cfg["cli_slow_iters"] if slow else cfg["cli_iters"],
                                      1 if slow else 3, tmp, k)
                        rec["status_cli"] = st
                        line += ", `%s status` %.1f ms" % (os.path.basename(argv[0]), st["median_ms"])
                ms, rc, nproc = stop_timed(sup)
                rec["stop_runs"].append(ms)
                rec["stop_exit"].append(rc)
                line += ", stop %.0f ms (exit %d, %d processes)" % (ms, rc, nproc)
                log(line)
            except Exception as e:  # noqa: BLE001 - report and go on with the others
                rec["error"] = str(e)
                log("  %-11s FAILED: %s" % (k, e))
            finally:
                sup.kill()
                left = sweep(tmp)
                if left:
                    rec["leftovers"] += left
                    log("  %-11s left %d process(es) behind, killed: %s" % (k, len(left), "; ".join(left[:3])))
    for k, rec in res.items():
        rec["start_ms"] = median_or_none(rec["start_runs"])
        rec["stop_ms"] = median_or_none(rec["stop_runs"])
    return res


def test_thousand(paths, bins, cfg, tmp):
    n = cfg["many"]
    log("thousand: foster with %d services, %d start(s), status latency %d runs"
        % (n, cfg["many_rounds"], cfg["status_iters"]))
    rec = {"start_runs": [], "stop_runs": [], "stop_exit": []}
    for r in range(cfg["many_rounds"]):
        sup = Supervisor("foster", paths, bins, tmp, "foster-%d-r%d" % (n, r))
        sup.configure(n)
        try:
            ms = start_timed(sup, n, cfg["start_timeout"])
            rec["start_runs"].append(ms)
            line = "  foster round %d: start %.0f ms" % (r + 1, ms)
            time.sleep(cfg["settle"])
            tree, services = sup.processes()
            if len(services) != n:
                raise RuntimeError("%d service processes found after the start, expected %d" % (len(services), n))
            if r == 0:
                rss, pss = tree_memory(tree)
                rec.update(tree_pss_kib=pss, tree_rss_kib=rss, tree_procs=len(tree))
                rec["wakeups_per_s"] = idle_wakeups(tree, cfg["idle_window"])
                # correctness of one answer first
                out = subprocess.run(sup.status_argv(json_out=True), capture_output=True, text=True, timeout=30)
                doc = json.loads(out.stdout)
                running = sum(1 for s in doc["services"] if s["state"] == "running")
                if out.returncode != 0 or running != n:
                    raise RuntimeError("fosterctl status --json: exit %d, %d of %d running"
                                       % (out.returncode, running, n))
                rec["json_bytes"] = len(out.stdout)
                rec["status_json"] = time_cli(bins, sup.status_argv(json_out=True), cfg["status_iters"], 3, tmp, "f1000")
                raw = os.path.join(tmp, "raw1000.txt")
                o = subprocess.run([bins["ctlstorm"], "raw", sup.sock, "1", str(cfg["status_iters"]), str(n), raw],
                                   capture_output=True, text=True, timeout=300)
                lat = [int(l.split()[0]) / 1e6 for l in open(raw) if l.endswith(" ok\n")]
                rec["status_raw"] = {"median_ms": median_or_none(lat), "p99_ms": pct(lat, 99) if lat else None,
                                     "summary": o.stdout.strip()}
                line += (", PSS %d KiB, %.2f wakeups/s, fosterctl status --json median %.1f ms p99 %.1f ms, "
                         "raw %.1f ms" % (pss, rec["wakeups_per_s"], rec["status_json"]["median_ms"],
                                          rec["status_json"]["p99_ms"], rec["status_raw"]["median_ms"] or -1))
            ms, rc, _ = stop_timed(sup)
            rec["stop_runs"].append(ms)
            rec["stop_exit"].append(rc)
            log(line + ", stop %.0f ms (exit %d)" % (ms, rc))
        except Exception as e:  # noqa: BLE001
            rec["error"] = str(e)
            log("  foster FAILED: %s" % e)
            break
        finally:
            sup.kill()
            left = sweep(tmp)
            if left:
                rec.setdefault("leftovers", []).extend(left)
        floor_round(rec, bins, cfg, tmp, n, r)
    rec["start_ms"] = median_or_none(rec["start_runs"])
    rec["stop_ms"] = median_or_none(rec["stop_runs"])
    rec["floor_start_ms"] = median_or_none(rec.get("floor_start_runs", []))
    rec["floor_stop_ms"] = median_or_none(rec.get("floor_stop_runs", []))
    return rec


def test_chain(paths, bins, cfg, tmp):
    """foster alone, cfg["chain"] services each depending on the one before: each start waits
    for the exec of the one before, each stop for the exit of the one after. What grows with
    the chain is foster's own CPU per service; the wall clock is mostly one exec after another."""
    n = cfg["chain"]
    log("chain: foster with %d services, each depending on the one before" % n)
    rec = {}
    sup = Supervisor("foster", paths, bins, tmp, "foster-chain-%d" % n)
    sup.configure(n, chain=True)
    with one_run(sup, tmp, rec, "error", "foster"):
        rec["start_ms"] = start_timed(sup, n, cfg["start_timeout"] + n // 100)
        rec["start_cpu_ms"] = cpu_ms(sup.proc.pid)
        time.sleep(cfg["settle"])
        before = cpu_ms(sup.proc.pid)
        stop_ms, rc, _ = stop_timed(sup, timeout=60 + n // 50)
        rec.update(stop_ms=stop_ms, stop_exit=rc)
        if sup.exit_cpu_ms is not None:
            rec["stop_cpu_ms"] = sup.exit_cpu_ms - before
        log("  start %.0f ms (foster's CPU %.0f ms), stop %.0f ms (foster's CPU %s ms, exit %d)" % (
            rec["start_ms"], rec["start_cpu_ms"], stop_ms,
            "%.0f" % rec["stop_cpu_ms"] if "stop_cpu_ms" in rec else "?", rc))
    return rec


def floor_round(rec, bins, cfg, tmp, n, r):
    """The same start and stop with no supervisor (bench/nosuper.c: a posix_spawn loop per CPU,
    then SIGTERM to every service before reaping any): what the machine itself needs."""
    sup = Supervisor("nosuper", None, bins, tmp, "nosuper-%d-r%d" % (n, r))
    sup.configure(n)
    with one_run(sup, tmp, rec, "floor_error", "no supervisor"):
        ms = start_timed(sup, n, cfg["start_timeout"])
        rec.setdefault("floor_start_runs", []).append(ms)
        time.sleep(cfg["settle"])
        stop_ms, _rc, _ = stop_timed(sup)
        rec.setdefault("floor_stop_runs", []).append(stop_ms)
        log("  no supervisor round %d: start %.0f ms, stop %.0f ms" % (r + 1, ms, stop_ms))


@contextlib.contextmanager
def one_run(sup, tmp, rec, error_key, who):
    """The body measures sup: an exception there is recorded in rec[error_key] and logged
    instead of ending the whole benchmark, and sup and whatever it left behind are killed
    afterwards either way."""
    try:
        yield
    except Exception as e:  # noqa: BLE001
        rec[error_key] = str(e)
        log("  %s FAILED: %s" % (who, e))
    finally:
        sup.kill()
        sweep(tmp)


CRASH_LOOP = {"restart": "always", "restart_delay": "100ms", "restart_delay_max": "100ms",
              "min_uptime": "1h", "start_limit_burst": 1000000000}


def count_starts(counters):
    total = 0
    for f in os.listdir(counters):
        total += os.path.getsize(os.path.join(counters, f))
    return total


def test_clients(paths, bins, cfg, tmp):
    n, clients = cfg["crashers"], cfg["clients"]
    log("clients: %d concurrent status requests x %d rounds + %d fosterctl at once, %d services crash-looping"
        % (clients, cfg["client_rounds"], clients, n))
    sup = Supervisor("foster", paths, bins, tmp, "foster-clients")
    counters = os.path.join(sup.dir, "counters")
    os.makedirs(counters)
    sup.configure(n, crash={"counters": counters, "foster": CRASH_LOOP})
    rec = {}
    try:
        p = sup.launch()
        time.sleep(cfg["warmup"])
        if p.poll() is not None:
            raise RuntimeError("foster exited %d: %s" % (p.returncode, sup.stderr_tail()))
        pid = p.pid
        s0, c0, t0 = count_starts(counters), cpu_ms(pid), time.monotonic()
        rec["before"] = dict(zip(("rss_kib", "pss_kib", "fds"), memory_of(pid)))
        rec["before"]["fds"], rec["before"]["pidfds"] = fd_kinds(pid)
        raw = os.path.join(tmp, "storm.txt")
        o = subprocess.run([bins["ctlstorm"], "raw", sup.sock, str(clients), str(cfg["client_rounds"]), str(n), raw],
                           capture_output=True, text=True, timeout=600)
        if o.returncode != 0:
            raise RuntimeError("ctlstorm exited %d: %s" % (o.returncode, o.stderr.strip()[-200:]))
        kv = {k: int(v) for k, v in parse_kv(o.stdout).items()}
        lat = [int(l.split()[0]) / 1e6 for l in open(raw) if l.endswith(" ok\n")]
        rec["raw"] = dict(kv, median_ms=median_or_none(lat), p99_ms=pct(lat, 99) if lat else None,
                          max_ms=max(lat) if lat else None)
        # the same with fewer clients than foster's connection cap (64), for comparison
        o2 = subprocess.run([bins["ctlstorm"], "raw", sup.sock, str(cfg["few_clients"]), str(cfg["client_rounds"]),
                             str(n), raw], capture_output=True, text=True, timeout=600)
        rec["raw_few"] = {k: int(v) for k, v in parse_kv(o2.stdout).items()}
        outdir = os.path.join(tmp, "ctl-out")
        os.makedirs(outdir)
        o = subprocess.run([bins["ctlstorm"], "exec", str(clients), outdir] + sup.status_argv(json_out=True),
                           capture_output=True, text=True, timeout=600)
        good, errs, lat = 0, {}, []
        for line in o.stdout.splitlines():
            i, st, ns = (int(x) for x in line.split())
            ok = False
            if st == 0:
                try:
                    with open(os.path.join(outdir, "%d.out" % i)) as f:
                        ok = len(json.load(f)["services"]) == n
                except (OSError, ValueError, KeyError):
                    ok = False
            if ok:
                good += 1
                lat.append(ns / 1e6)
            else:
                with open(os.path.join(outdir, "%d.err" % i)) as f:
                    msg = "exit %d: %s" % (st, f.read().strip().replace(sup.sock, "SOCK")[:160])
                errs[msg] = errs.get(msg, 0) + 1
        rec["fosterctl"] = {"clients": clients, "ok": good, "errors": errs,
                            "median_ms": median_or_none(lat), "max_ms": max(lat) if lat else None}
        time.sleep(0.5)
        dt = time.monotonic() - t0
        rec["after"] = dict(zip(("rss_kib", "pss_kib", "fds"), memory_of(pid)))
        rec["after"]["fds"], rec["after"]["pidfds"] = fd_kinds(pid)
        rec["starts_per_s"] = (count_starts(counters) - s0) / dt
        rec["foster_cpu_ms"] = cpu_ms(pid) - c0
        rec["window_s"] = dt
        if p.poll() is not None:
            raise RuntimeError("foster died during the test (exit %d)" % p.returncode)
        log("  raw: %s, median %.1f ms p99 %.1f ms; fosterctl: %d/%d ok %s; VmRSS %s -> %s KiB, fds %s -> %s; "
            "%.0f starts/s" % (o.stdout.strip() and " ".join("%s=%s" % kv_ for kv_ in kv.items()),
                               rec["raw"]["median_ms"] or -1, rec["raw"]["p99_ms"] or -1, good, clients,
                               errs or "", rec["before"]["rss_kib"], rec["after"]["rss_kib"],
                               rec["before"]["fds"], rec["after"]["fds"], rec["starts_per_s"]))
        ms, rc, _ = stop_timed(sup)
        rec["stop_ms"], rec["stop_exit"] = ms, rc
    except Exception as e:  # noqa: BLE001
        rec["error"] = str(e)
        log("  clients FAILED: %s" % e)
    finally:
        sup.kill()
        left = sweep(tmp)
        if left:
            rec["leftovers"] = left
    return rec


def test_restarts(kinds, paths, bins, cfg, tmp):
    """one service that exits at once; starts per second over the window (informational)."""
    window = cfg["restart_window"]
    variants = []
    for k in kinds:
        if k == "foster":
            variants.append(("foster", "foster", dict(CRASH_LOOP, restart_delay="0s", restart_delay_max="0s")))
            variants.append(("foster-100ms", "foster", CRASH_LOOP))
        else:
            variants.append((k, k, None))
    log("restarts: one service that exits at once, starts counted over %g s after 1 s" % window)
    res = {}
    for label, k, keys in variants:
        sup = Supervisor(k, paths, bins, tmp, "restart-" + label)
        counters = os.path.join(sup.dir, "counters")
        os.makedirs(counters)
        sup.configure(1, crash={"counters": counters, "foster": keys or {}})
        try:
            p = sup.launch()
            time.sleep(1.0)
            s0, t0 = count_starts(counters), time.monotonic()
            time.sleep(window)
            rate = (count_starts(counters) - s0) / (time.monotonic() - t0)
            if p.poll() is not None:
                raise RuntimeError("exited %d" % p.returncode)
            res[label] = {"starts_per_s": rate}
            log("  %-13s %.1f starts/s" % (label, rate))
            stop_timed(sup)
        except Exception as e:  # noqa: BLE001
            res[label] = {"error": str(e)}
            log("  %-13s FAILED: %s" % (label, e))
        finally:
            sup.kill()
            sweep(tmp)
    return res


# --------------------------------------------------------------------------
# report


def fmt_num(v, fmt):
    return "—" if v is None else fmt % v


def build_table(results, kinds, cfg):
    peers = [k for k in kinds if k != "foster"]
    cols = ["metric"] + kinds + ["best peer", "foster ÷ best", "target", "met"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    summary = {}

    def row(key, label, vals, fmt, target=None, errors=None, cells_override=None):
        """target: ("ratio", x) | ("max", x, text) | None.  vals: {kind: number}."""
        errors = errors or {}
        cells = [label]
        for k in kinds:
            if cells_override and k in cells_override:
                cells.append(cells_override[k])
            elif vals.get(k) is not None:
                cells.append(fmt % vals[k])
            else:
                cells.append("failed" if k in errors else "—")
        pv = {p: vals[p] for p in peers if vals.get(p) is not None}
        best = min(pv.values()) if pv else None
        bestname = [p for p in peers if pv.get(p) == best][:1]
        cells.append(fmt % best + " (" + bestname[0] + ")" if best is not None else "—")
        f = vals.get("foster")
        ratio = f / best if f is not None and best else None
        cells.append("%.2f×" % ratio if ratio is not None else "—")
        met = None
        if target and target[0] == "ratio":
            cells.append("≤ %.1f×" % target[1])
            if ratio is not None:
                met = ratio <= target[1]
        elif target and target[0] == "max":
            cells.append(target[2])
            if f is not None:
                met = f <= target[1]
        else:
            cells.append("(info)")
        cells.append("—" if met is None else ("yes" if met else "**NO**"))
        summary[key] = {"values": vals, "best_peer": best, "ratio": ratio, "met": met}
        lines.append("| " + " | ".join(cells) + " |")

    n, m = cfg["services"], cfg["many"]
    h = results.get("hundred")
    if h:
        err = {k: 1 for k, r in h.items() if "error" in r}

        def v(field):
            return {k: r.get(field) for k, r in h.items()}
        row("start100", "start %d services: launch → last marker (ms, median of %d)" % (n, cfg["rounds"]),
            v("start_ms"), "%.0f", ("ratio", 0.5), err)
        row("stop100", "stop %d services: stop → supervisor and every service gone (ms, median)" % n,
            v("stop_ms"), "%.0f", ("ratio", 0.5), err)
        row("pss100", "supervision-tree PSS, %d services (KiB)" % n, v("tree_pss_kib"), "%d",
            ("max", 2048, "≤ 2048 KiB"), err)
        row("procs100", "supervision-tree processes, %d services" % n, v("tree_procs"), "%d", None, err)
        row("wake100", "idle wakeups/s of the tree, %d services (%g s)" % (n, cfg["idle_window"]),
            v("wakeups_per_s"), "%.2f", ("max", 0.05, "0"), err)
        st = {k: (r.get("status_cli") or {}).get("median_ms") for k, r in h.items()}
        row("status100", "status CLI, %d services: `fosterctl status` / `supervisorctl status` / `sv status` "
            "(ms, median)" % n, st, "%.1f", None, err, {"s6": "— (no such command)"} if "s6" in kinds else None)
    t = results.get("thousand")
    if t and "foster" in kinds:
        e = {"foster": 1} if "error" in t else {}
        # issue 11's targets for 10,000 services; 1,000 must start in 1 s
        big = m > 1000
        row("start1000", "foster, %d services: start (ms, median of %d)" % (m, cfg["many_rounds"]),
            {"foster": t.get("start_ms")}, "%.0f", ("max", 5000, "< 5000 ms") if big else ("max", 1000, "< 1000 ms"),
            e)
        row("pss1000", "foster, %d services: PSS (KiB)" % m, {"foster": t.get("tree_pss_kib")}, "%d",
            ("max", 16384, "< 16 MiB") if big else None, e)
        row("wake1000", "foster, %d services: idle wakeups/s" % m, {"foster": t.get("wakeups_per_s")}, "%.2f",
            ("max", 0.05, "0"), e)
        row("stop1000", "foster, %d services: stop (ms, median)" % m, {"foster": t.get("stop_ms")}, "%.0f",
            ("max", 2000, "< 2000 ms") if big else None, e)
        sj = t.get("status_json") or {}
        row("json_med", "`fosterctl status --json`, %d services (ms, median of %d)" % (m, cfg["status_iters"]),
            {"foster": sj.get("median_ms")}, "%.1f", ("max", 20, "< 20 ms"), e)
        row("json_p99", "`fosterctl status --json`, %d services (ms, p99)" % m,
            {"foster": sj.get("p99_ms")}, "%.1f", ("max", 20, "< 20 ms"), e)
        sr = t.get("status_raw") or {}
        row("raw_med", "raw `foster/1 status` over the socket, %d services (ms, median)" % m,
            {"foster": sr.get("median_ms")}, "%.2f", None, e)
    ch = results.get("chain")
    if ch and "foster" in kinds:
        e = {"foster": 1} if "error" in ch else {}
        k = cfg["chain"]
        row("chain_start", "foster, %d services each depending on the one before: start (ms)" % k,
            {"foster": ch.get("start_ms")}, "%.0f", None, e)
        row("chain_start_cpu", "  same: foster's CPU for the start (ms)", {"foster": ch.get("start_cpu_ms")}, "%.0f",
            None, e)
        row("chain_stop", "  same: stop, dependents first (ms)", {"foster": ch.get("stop_ms")}, "%.0f", None, e)
        row("chain_stop_cpu", "  same: foster's CPU for the stop (ms)", {"foster": ch.get("stop_cpu_ms")}, "%.0f",
            None, e)
    c = results.get("clients")
    if c and "foster" in kinds:
        e = {"foster": 1} if "error" in c else {}
        raw, fc = c.get("raw") or {}, c.get("fosterctl") or {}
        nreq = raw.get("requests")
        bad = None if nreq is None else nreq - raw.get("ok", 0)
        row("clients_raw", "%d concurrent raw `status` clients × %d rounds, %d services crash-looping: "
            "requests not answered in full (of %s)" % (cfg["clients"], cfg["client_rounds"], cfg["crashers"], nreq),
            {"foster": bad}, "%d", ("max", 0, "0"), e)
        row("clients_raw_lat", "  same: latency median / p99 / max (ms)", {"foster": raw.get("median_ms")}, "%.1f",
            None, e, {"foster": "%s / %s / %s" % (fmt_num(raw.get("median_ms"), "%.1f"),
                                                  fmt_num(raw.get("p99_ms"), "%.1f"),
                                                  fmt_num(raw.get("max_ms"), "%.1f"))} if raw else None)
        few = c.get("raw_few") or {}
        row("clients_few", "  same with %d concurrent clients: not answered in full (of %s)"
            % (cfg["few_clients"], few.get("requests")),
            {"foster": None if not few else few["requests"] - few["ok"]}, "%d", ("max", 0, "0"), e)
        fbad = None if not fc else fc["clients"] - fc["ok"]
        row("clients_ctl", "%d `fosterctl status --json` started at once: failed" % cfg["clients"],
            {"foster": fbad}, "%d", ("max", 0, "0"), e)
        b, a = c.get("before") or {}, c.get("after") or {}
        grow = None if not (a.get("rss_kib") and b.get("rss_kib")) else a["rss_kib"] - b["rss_kib"]
        row("clients_rss", "foster VmRSS before → after the clients (KiB; flat = grows ≤ 64 KiB)",
            {"foster": grow}, "%d", ("max", 64, "≤ +64 KiB"), e,
            {"foster": "%s → %s" % (b.get("rss_kib"), a.get("rss_kib"))} if b else None)
        pgrow = None if not (a.get("pss_kib") and b.get("pss_kib")) else a["pss_kib"] - b["pss_kib"]
        row("clients_pss", "foster PSS before → after (KiB); open fds other than pidfds of running services",
            {"foster": pgrow}, "%d", None, e,
            {"foster": "%s → %s; fds %s → %s" % (b.get("pss_kib"), a.get("pss_kib"),
                                                  (b.get("fds") or 0) - (b.get("pidfds") or 0),
                                                  (a.get("fds") or 0) - (a.get("pidfds") or 0))} if b else None)
        row("clients_starts", "  crash-loop starts/s during the clients (50 services, 100 ms delay)",
            {"foster": c.get("starts_per_s")}, "%.0f", None, e)
    rs = results.get("restarts")
    if rs:
        vals = {k: (rs.get(k) or {}).get("starts_per_s") for k in kinds}
        e = {k: 1 for k in kinds if "error" in (rs.get(k) or {})}
        row("restarts", "restarts/s of a service that exits at once (%g s; foster: restart_delay = 0)"
            % cfg["restart_window"], vals, "%.1f", None, e)
        if "foster-100ms" in rs:
            row("restarts100", "  foster with restart_delay = restart_delay_max = 100ms",
                {"foster": rs["foster-100ms"].get("starts_per_s")}, "%.1f", None,
                {"foster": 1} if "error" in rs["foster-100ms"] else {})
    return "\n".join(lines), summary


def versions(paths):
    out = {}
    try:
        out["foster"] = subprocess.run([paths["foster"], "--version"], capture_output=True, text=True,
                                       timeout=5).stdout.strip()
    except Exception:  # noqa: BLE001
        out["foster"] = "?"
    for k, pkg in PACKAGES.items():
        try:
            out[k] = pkg + " " + subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg],
                                                capture_output=True, text=True, timeout=5).stdout.strip()
        except Exception:  # noqa: BLE001
            out[k] = "?"
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--foster", default="/work/main/build/foster", help="foster binary (default %(default)s)")
    ap.add_argument("--fosterctl", help="fosterctl binary (default: next to --foster)")
    ap.add_argument("--quick", action="store_true", help="fewer rounds and shorter windows: under 90 s")
    ap.add_argument("--json", metavar="FILE", help="also write all results as JSON to FILE")
    ap.add_argument("--tests", default=",".join(ALL_TESTS), help="comma list of %s" % ",".join(ALL_TESTS))
    ap.add_argument("--supervisors", help="comma list of %s (default all)" % ",".join(SUPERVISORS))
    ap.add_argument("--shape", choices=("svc", "sh"), default="svc",
                    help="each service: one exec of svc (default), or `/bin/sh -c ': > MARKER; exec sleep 1000'` "
                         "(s6, runit: a #!/bin/sh run script doing the same)")
    ap.add_argument("--services", type=int, help="services in the `hundred` test (default 100)")
    ap.add_argument("--many", type=int, help="services in the `thousand` test (default 1000; 10000 works, "
                                             "see bench/README.md for the limits it needs)")
    ap.add_argument("--chain", type=int, help="services in the `chain` test (default 1000)")
    ap.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                    help="first wait up to SECONDS for the machine to be quiet (< 0.2 CPUs busy)")
    args = ap.parse_args()
    tests = [t for t in args.tests.split(",") if t]
    for t in tests:
        if t not in ALL_TESTS:
            ap.error("unknown test %r" % t)
    wanted = args.supervisors.split(",") if args.supervisors else SUPERVISORS
    for k in wanted:
        if k not in SUPERVISORS:
            ap.error("unknown supervisor %r" % k)

    cfg = dict(services=100, rounds=5, idle_window=10.0, settle=1.5, start_timeout=60, cli_iters=20,
               cli_slow_iters=5, many=1000, many_rounds=2, chain=1000, status_iters=50, crashers=50, clients=100, few_clients=60,
               client_rounds=20, warmup=2.0, restart_window=5.0)
    if args.quick:
        cfg.update(rounds=1, idle_window=2.0, cli_iters=10, cli_slow_iters=3, many_rounds=1, status_iters=20,
                   client_rounds=5, warmup=1.0, restart_window=2.0)

    if args.services:
        cfg["services"] = args.services
    if args.chain:
        cfg["chain"] = args.chain
    if args.many:
        cfg["many"] = args.many
        cfg["start_timeout"] = max(cfg["start_timeout"], args.many // 50)
    cfg["shape"] = args.shape

    wait_for_quiet_machine(args.wait_idle)
    QuietGate.budget = args.wait_idle
    started = time.monotonic()
    busy0, own0 = busy_cpu_seconds(), own_cpu_seconds()

    paths, skipped, kinds = {}, {}, []
    fctl = args.fosterctl or os.path.join(os.path.dirname(args.foster), "fosterctl")
    for k in wanted:
        if k == "foster":
            missing = [p for p in (args.foster, fctl) if not (os.path.isfile(p) and os.access(p, os.X_OK))]
            if missing:
                skipped[k] = "not found: %s (build with `make -C /work/main/build -j2 foster fosterctl`)" % missing
            else:
                paths["foster"], paths["fosterctl"] = args.foster, fctl
        else:
            miss = []
            for b in PEER_BINARIES[k]:
                p = shutil.which(b, path="/usr/bin:/usr/sbin:/bin:/sbin:/usr/local/bin")
                if p:
                    paths[b] = p
                else:
                    miss.append(b)
            if miss:
                skipped[k] = "%s not found (install with `apt-get install -y %s`)" % (", ".join(miss), PACKAGES[k])
        if k in skipped:
            log("MISSING %s: %s -- skipped" % (k, skipped[k]))
        else:
            kinds.append(k)

    meta = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "kernel": platform.release(), "cpus": os.cpu_count(),
            "loadavg_at_start": os.getloadavg()[0], "quick": args.quick, "config": cfg,
            "versions": versions(paths), "skipped": skipped}
    results, errors = {}, {}
    with tempfile.TemporaryDirectory(prefix="foster-svcbench-") as tmp:
        try:
            bins = compile_helpers(tmp, (("svc", True), ("ctlstorm", False), ("execdrv", False), ("nosuper", False)))
            bins["shape"] = args.shape
            if "foster" in kinds:  # private copies: a rebuild during the run must not change what is measured
                # with the full build foster hands the service runner to (libexec/foster beside it, as
                # entrypoint.py and soak.py copy it): without it the copy would run the services itself,
                # static, which is not what a build or an installed foster runs
                full = os.path.join(os.path.dirname(paths["foster"]), "libexec", "foster")
                if os.path.isfile(full):
                    os.makedirs(os.path.join(tmp, "libexec"))
                    shutil.copy2(full, os.path.join(tmp, "libexec", "foster"))
                for b in ("foster", "fosterctl"):
                    shutil.copy2(paths[b], os.path.join(tmp, b))
                    paths[b] = os.path.join(tmp, b)
            for t in tests:
                try:
                    if t == "hundred" and kinds:
                        results[t] = test_hundred(kinds, paths, bins, cfg, tmp)
                    elif t == "thousand" and "foster" in kinds:
                        results[t] = test_thousand(paths, bins, cfg, tmp)
                    elif t == "clients" and "foster" in kinds:
                        results[t] = test_clients(paths, bins, cfg, tmp)
                    elif t == "chain" and "foster" in kinds:
                        results[t] = test_chain(paths, bins, cfg, tmp)
                    elif t == "restarts" and kinds:
                        results[t] = test_restarts(kinds, paths, bins, cfg, tmp)
                except Exception as e:  # noqa: BLE001 - one broken test must not hide the others
                    errors[t] = str(e)
                    log("%s: FAILED: %s" % (t, e))
        finally:
            left = sweep(tmp)
            if left:
                log("killed %d leftover process(es) at the end" % len(left))
    meta["runtime_s"] = round(time.monotonic() - started, 1)
    foreign = (busy_cpu_seconds() - busy0) - (own_cpu_seconds() - own0)
    meta["foreign_cpus_busy"] = round(max(0.0, foreign) / max(1e-3, time.monotonic() - started), 2)

    table, summary = build_table(results, kinds, cfg)
    out = ["## foster service-runner benchmark (%s%s)" % (meta["date"], ", --quick" if args.quick else ""), ""]
    out.append("%d CPUs, Linux %s, load %.2f at start, other processes' CPU during the run %.2f CPUs; %s; "
               "run took %.0f s." % (meta["cpus"], meta["kernel"], meta["loadavg_at_start"],
                                     meta["foreign_cpus_busy"],
                                     ", ".join("%s" % meta["versions"].get(k, k) for k in kinds) or "nothing",
                                     meta["runtime_s"]))
    if meta["foreign_cpus_busy"] > 0.15:
        out.append("- **warning**: other processes kept %.2f CPUs busy on average during the run; figures are noisy"
                   % meta["foreign_cpus_busy"])
    for k, why in skipped.items():
        out.append("- **%s skipped**: %s" % (k, why))
    for t, why in errors.items():
        out.append("- **test %s failed**: %s" % (t, why))
    for t in ("hundred", "restarts"):
        for k, rec in (results.get(t) or {}).items():
            if isinstance(rec, dict) and rec.get("error"):
                out.append("- %s: **%s failed**: %s" % (t, k, rec["error"]))
            if isinstance(rec, dict) and rec.get("leftovers"):
                out.append("- %s: %s left %d process(es) behind (killed): %s" % (
                    t, k, len(rec["leftovers"]), "; ".join(rec["leftovers"][:3])))
    for t in ("thousand", "clients"):
        rec = results.get(t) or {}
        if rec.get("error"):
            out.append("- %s: **foster failed**: %s" % (t, rec["error"]))
        if rec.get("leftovers"):
            out.append("- %s: foster left %d process(es) behind (killed)" % (t, len(rec["leftovers"])))
    out += ["", table, ""]
    h = results.get("hundred") or {}
    if h:
        out += ["| supervisor | run as | stopped by | exit status of the stop |", "|---|---|---|---|"]
        for k in kinds:
            rec = h.get(k, {})
            sup = Supervisor.__new__(Supervisor)
            sup.kind, sup.paths = k, paths
            sup.conf = sup.scandir = "DIR"
            run_as = {"foster": "`foster -c DIR/foster.toml` (`[foster] control_socket`, one `[services.sNNNN]` "
                                "per service, every other key at its default)",
                      "supervisord": "`supervisord -c DIR/supervisord.conf` (`nodaemon=true`, unix_http_server for "
                                     "supervisorctl, `stdout_logfile=NONE`, `stderr_logfile=NONE`, defaults otherwise)",
                      "s6": "`s6-svscan DIR` (each service dir: `run` → svc)",
                      "runit": "`runsvdir -P DIR` (as Debian's /etc/runit/2; each service dir: `run` → svc)"}[k]
            out.append("| %s | %s | %s | %s |" % (k, run_as, STOP_HOW[k],
                                                  ", ".join(str(x) for x in sorted(set(rec.get("stop_exit", []))))
                                                  or "—"))
        out.append("")
    shape_note = (
        "services: one exec of `svc` (bench/svc.c, static): creates its marker file, then pause()s; the default "
        "SIGTERM action ends it. foster and supervisord exec `svc MARKER`; s6 and runit exec `./run`, a symlink "
        "to svc that creates `./marker` (a dangling symlink to the marker), so every supervisor pays one exec.")
    if cfg.get("shape") == "sh":
        shape_note = ("services (--shape sh): `/bin/sh -c ': > MARKER; exec sleep 1000'` for foster and supervisord; "
                      "for s6 and runit `./run` is a `#!/bin/sh` script doing the same, so every supervisor pays "
                      "the same two execs (sh, then sleep) per service.")
    notes = [
        shape_note,
        "start: from just before the supervisor is spawned until the last of the markers appeared (inotify on "
        "the marker directory); a fresh directory each round; rounds interleaved across supervisors.",
        "stop: after %g s settled (supervisord's `startsecs` passed), pidfds on the supervisor, every process "
        "of its tree and every service; from the stop action until all of them have exited." % cfg["settle"],
        "supervision tree = the supervisor and every descendant that is not a service (s6: s6-svscan + "
        "s6-supervise per service; runit: runsvdir + runsv per service); PSS = sum of `Pss:` of "
        "/proc/PID/smaps_rollup; wakeups = voluntary + involuntary context switches of the tree over the window.",
        "status CLI: spawn + exec + wait by execdrv (output to /dev/null) with %d services running: "
        "`fosterctl -s SOCK status` and `sv status` (runit, all %d named) %d runs, `supervisorctl status` %d runs."
        % (cfg["services"], cfg["services"], cfg["cli_iters"], cfg["cli_slow_iters"]),
    ]
    if h:
        notes.append("every round (ms): " + "; ".join(
            "%s start %s, stop %s" % (k, "/".join("%.0f" % x for x in h[k]["start_runs"]) or "—",
                                      "/".join("%.0f" % x for x in h[k]["stop_runs"]) or "—")
            for k in kinds if k in h) + (("; foster ×%d start %s" % (cfg["many"], "/".join(
                "%.0f" % x for x in results["thousand"]["start_runs"]))) if results.get("thousand") else ""))
    if QuietGate.waited:
        notes.append("--wait-idle: %.0f s spent waiting for a quiet machine before timed starts." % QuietGate.waited)
    if results.get("thousand"):
        t = results["thousand"]
        if t.get("floor_start_ms") is not None:
            fs, fp = t["floor_start_ms"], t.get("floor_stop_ms")
            notes.append(
                "the machine's floor, no supervisor (bench/nosuper.c: one posix_spawn loop per CPU, then "
                "SIGTERM to every service before reaping any), the same %d `svc`, timed the same way, rounds "
                "interleaved with foster's: start %.0f ms (%s), stop %s ms (%s); foster ÷ floor: start %s, stop %s."
                % (cfg["many"], fs, "/".join("%.0f" % x for x in t["floor_start_runs"]),
                   "%.0f" % fp if fp is not None else "—",
                   "/".join("%.0f" % x for x in t.get("floor_stop_runs", [])),
                   "%.2f×" % (t["start_ms"] / fs) if t.get("start_ms") and fs else "—",
                   "%.2f×" % (t["stop_ms"] / fp) if t.get("stop_ms") and fp else "—"))
        elif t.get("floor_error"):
            notes.append("no-supervisor floor FAILED: %s" % t["floor_error"])
        notes.append("`fosterctl status --json` with %d services: %d runs by execdrv (answer %s bytes); raw: "
                     "connect, `foster/1 status`, read to EOF, sequentially (%s)."
                     % (cfg["many"], cfg["status_iters"], t.get("json_bytes", "?"),
                        (t.get("status_raw") or {}).get("summary", "")))
    if results.get("clients"):
        c = results["clients"]
        raw = c.get("raw") or {}
        notes.append("clients: %d services `svc -x` (exit 1 at once) with restart=always, restart_delay = "
                     "restart_delay_max = 100ms, min_uptime 1h; after %g s, `ctlstorm raw` opens %d non-blocking "
                     "connections at once per round (%d rounds), each sends `foster/1 status` and must get `ok` "
                     "and %d rows; then `ctlstorm exec` releases %d `fosterctl status --json` at once. "
                     "Raw outcome: %s. fosterctl failures: %s. foster CPU during the clients: %.0f ms."
                     % (cfg["crashers"], cfg["warmup"], cfg["clients"], cfg["client_rounds"], cfg["crashers"],
                        cfg["clients"], " ".join("%s=%s" % (k, raw.get(k)) for k in
                                                 ("requests", "ok", "empty", "error", "bad", "timeout", "eagain")),
                        (c.get("fosterctl") or {}).get("errors") or "none", c.get("foster_cpu_ms") or 0))
    if results.get("restarts"):
        notes.append("restarts: one service `svc -x` (appends a byte to a counter, exits 1); foster: "
                     "restart=always, min_uptime 1h, start_limit_burst 10⁹, restart_delay(_max) 0 (or 100ms); "
                     "supervisord: autorestart=true, startsecs=0; s6 and runit at their defaults (both wait 1 s "
                     "before restarting a service that ran less than 1 s). ./run is svc there too (via `./counter`).")
    out += ["- " + n_ for n_ in notes]
    print("\n".join(out))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results, "summary": summary, "errors": errors}, f, indent=2)
        log("JSON written to " + args.json)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
