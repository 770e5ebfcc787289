#!/usr/bin/python3
"""Side-by-side benchmark of foster's entrypoint mode against tini, dumb-init
and catatonit.  Standard library only; see bench/README.md.

    /usr/bin/python3 bench/entrypoint.py [--foster PATH] [--quick] [--json FILE]
                                         [--tests exec,storm,idle,sig,spawn]
                                         [--storm-batch N[,N]] [--storm-spawners N[,N]]
                                         [--inits foster,tini,dumb-init,catatonit]

The C helpers next to this file are compiled with `cc -O2` into a temporary
directory on every run.  Nothing is installed: a missing peer is reported and
skipped.  The storm and idle tests need root (unshare --pid --mount-proc).
"""

import argparse
import json
import os
import platform
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import (CLK_TCK, busy_cpu_seconds, children_of, compile_helpers, ctxt_switches,
                      log, memory_of, own_cpu_seconds, parse_kv, pct, wait_for_quiet_machine)

HELPERS = ["execdrv", "storm", "zsample", "sigwait", "sigdrv", "spawn_primitives", "onedrv"]
PEERS = ["tini", "dumb-init", "catatonit"]
ALL_TESTS = ["exec", "storm", "idle", "sig", "oneway", "spawn", "notify"]
OURS = ["foster", "foster-static"]


# --------------------------------------------------------------------------
# inits


class Init:
    def __init__(self, name, path):
        self.name = name
        self.path = path

    def prefix(self, pid1):
        """argv up to (not including) PROGRAM."""
        if self.name == "dumb-init":
            return [self.path]  # dumb-init takes no `--`
        if self.name == "tini" and not pid1:
            # not PID 1: ask tini to be a subreaper, as foster and catatonit
            # are by themselves (and to silence its warning)
            return [self.path, "-s", "--"]
        return [self.path, "--"]


def find_inits(args):
    inits, skipped = [], {}
    wanted = args.inits.split(",") if args.inits else OURS + PEERS
    for name in wanted:
        if name == "foster":
            path = args.foster
            hint = "build it with `cmake --build build --target foster`"
        elif name == "foster-static":
            path = args.foster_static or os.path.join(os.path.dirname(args.foster), "foster-static")
            hint = "build it with `cmake --build build --target foster-static`"
        else:
            path = shutil.which(name, path="/usr/bin:/usr/local/bin:/bin") or "/usr/bin/" + name
            hint = "install it with `apt-get install -y %s`" % name
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            skipped[name] = "not found at %s (%s)" % (path, hint)
            log("MISSING %s: %s -- skipped" % (name, skipped[name]))
            continue
        inits.append(Init(name, path))
    return inits, skipped


def version_of(init):
    for flag in (["--version"], ["-V"]):
        try:
            r = subprocess.run([init.path] + flag, capture_output=True, text=True, timeout=5)
            out = (r.stdout + r.stderr).strip().splitlines()
            if r.returncode == 0 and out:
                return out[0][:80]
        except Exception:
            pass
    return "?"


def sanity(init):
    """None if INIT -- sh -c 'exit 7' exits 7, else the reason."""
    try:
        r = subprocess.run(init.prefix(False) + ["/bin/sh", "-c", "exit 7"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    except subprocess.TimeoutExpired:
        return "`%s -- sh -c 'exit 7'` did not exit within 10 s" % init.name
    if r.returncode != 7:
        err = r.stderr.decode(errors="replace").strip().splitlines()
        return "`%s -- sh -c 'exit 7'` exited %d, expected 7%s" % (
            init.name, r.returncode, (": " + err[-1][:120]) if err else "")
    return None


# --------------------------------------------------------------------------
# helpers


def read_ints_lines(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            rows.append(line if line.startswith("FAIL") else [int(x) for x in line.split()])
    return rows


def cpu_of(pid):
    """(utime+stime in ms, on-CPU ns from schedstat) of a live process, summed over threads."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    ns = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                ns += int(f.read().split()[0])
    except OSError:
        ns = None
    return ticks * 1000.0 / CLK_TCK, ns


def start_pid1(init, program, **popen_kw):
    """Start `unshare --pid --fork --mount-proc INIT -- PROGRAM`; return (Popen, init host pid)."""
    argv = ["unshare", "--pid", "--fork", "--mount-proc"] + init.prefix(True) + program
    p = subprocess.Popen(argv, **popen_kw)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        kids = children_of(p.pid)
        if kids:
            ipid = kids[0]
            # wait until the init runs (exec'd) and has started PROGRAM
            try:
                exe = os.readlink("/proc/%d/exe" % ipid)
            except OSError:
                exe = ""
            if os.path.realpath(exe) == os.path.realpath(init.path) and children_of(ipid):
                return p, ipid
        if p.poll() is not None:
            break
        time.sleep(0.002)
    kill_quietly(p)
    raise RuntimeError("%s did not start PROGRAM as PID 1 of a new namespace" % init.name)


def kill_quietly(p):
    if p.poll() is None:
        try:
            for k in children_of(p.pid):
                os.kill(k, signal.SIGKILL)
            p.kill()
        except OSError:
            pass
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def readline_timeout(f, timeout):
    fd = f.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise RuntimeError("timed out after %.0f s" % timeout)
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk
    return buf.decode(errors="replace").strip()


# --------------------------------------------------------------------------
# tests


def test_exec(inits, bins, cfg, tmp):
    iters, warm = cfg["exec_iters"], 50
    log("exec: %d iterations x %d commands, round-robin" % (iters, len(inits) + 1))
    argv = [bins["execdrv"], os.path.join(tmp, "exec.txt"), str(iters), str(warm), "/bin/true"]
    for i in inits:
        argv += [":::"] + i.prefix(False) + ["/bin/true"]
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if r.returncode not in (0, 3):
        raise RuntimeError("execdrv failed: " + r.stderr)
    if r.stderr:
        log(r.stderr.rstrip())
    rows = read_ints_lines(os.path.join(tmp, "exec.txt"))
    bare = rows[0]
    b_mean, b_med = statistics.mean(bare) / 1e3, statistics.median(bare) / 1e3
    res = {"baseline": {"mean_us": b_mean, "median_us": b_med}}
    for i, row in zip(inits, rows[1:]):
        m, md = statistics.mean(row) / 1e3, statistics.median(row) / 1e3
        res[i.name] = {"mean_us": m, "median_us": md,
                       "overhead_mean_us": m - b_mean, "overhead_median_us": md - b_med}
    return res


def storm_shapes(cfg):
    """(results key, label, batch, spawners) of every storm shape to run: one
    spawner with each batch size, then each number of parallel spawners
    making single orphans (batch 1) as fast as they can."""
    shapes = [("storm_b%d" % b, "storm ×%d" % b, b, 1) for b in cfg["storm_batches"]]
    shapes += [("storm_p%d" % n, "storm %d spawners" % n, 1, n) for n in cfg["storm_spawners"]]
    return shapes


def storm_once(init, bins, cfg, batch, spawners):
    errf = tempfile.TemporaryFile()
    p, ipid = start_pid1(init, [bins["storm"], str(cfg["orphans"]), str(batch), str(spawners)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errf)
    samp = None
    try:
        samp = subprocess.Popen([bins["zsample"], str(ipid), "500"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        if readline_timeout(samp.stdout, 5) != "ready":
            raise RuntimeError("sampler did not start")
        p.stdin.write(b"g")
        p.stdin.flush()
        try:
            line = readline_timeout(p.stdout, 120)
        except RuntimeError:
            raise RuntimeError("storm did not finish within 120 s")
        if not line:
            errf.seek(0)
            raise RuntimeError("storm died (init exited?): " + errf.read().decode(errors="replace")[-300:])
        st = parse_kv(line)
        cpu_ms, cpu_ns = cpu_of(ipid)  # the init is alive: storm waits for our byte
        switches = ctxt_switches([ipid])
        samp.stdin.close()
        zs = parse_kv(readline_timeout(samp.stdout, 10))
        samp.wait(timeout=10)
        p.stdin.write(b"x")
        p.stdin.close()
        rc = p.wait(timeout=30)
        if int(st["drain_ns"]) < 0:
            raise RuntimeError("orphans were not all reaped within 60 s")
        return {
            "time_ms": int(st["total_ns"]) / 1e6,
            "create_ms": int(st["create_ns"]) / 1e6,
            "drain_ms": int(st["drain_ns"]) / 1e6,
            "created": int(st["created"]),
            "eagain": int(st["eagain"]),
            "init_cpu_ms": cpu_ns / 1e6 if cpu_ns is not None else cpu_ms,
            "init_utime_stime_ms": cpu_ms,
            "init_ctxt_switches": switches,
            "peak_zombies": int(zs["peak_zombies"]),
            "peak_children": int(zs["peak_children"]),
            "samples": int(zs["samples"]),
            "exit": rc,
        }
    finally:
        if samp and samp.poll() is None:
            samp.kill()
            samp.wait()
        kill_quietly(p)


def test_storm(inits, bins, cfg, batch, spawners):
    runs = cfg["storm_runs"]
    log("storm: %d orphans in batches of %d by %d spawner(s), %d run(s) per init, as PID 1 of a new pid namespace"
        % (cfg["orphans"], batch, spawners, runs))
    per = {i.name: [] for i in inits}
    errors = {}
    for r in range(runs):
        order = inits[r % len(inits):] + inits[:r % len(inits)]
        for i in order:
            if i.name in errors:
                continue
            try:
                one = storm_once(i, bins, cfg, batch, spawners)
                per[i.name].append(one)
                log("  %-10s run %d: %.0f ms, init CPU %.0f ms, peak zombies %d"
                    % (i.name, r + 1, one["time_ms"], one["init_cpu_ms"], one["peak_zombies"]))
            except Exception as e:  # noqa: BLE001 - report and go on with the others
                errors[i.name] = str(e)
                log("  %-10s FAILED: %s" % (i.name, e))
    res = {}
    for name, rs in per.items():
        if name in errors or not rs:
            res[name] = {"error": errors.get(name, "no run")}
            continue
        res[name] = {k: statistics.median([x[k] for x in rs]) for k in rs[0] if k != "exit"}
        res[name]["runs"] = rs
    return res


def test_idle(inits, bins, cfg):
    window = cfg["idle_window"]
    log("idle: INIT -- sleep 1000 as PID 1, all inits at once, %g s window" % window)
    procs, res = {}, {}
    for i in inits:
        try:
            procs[i.name] = start_pid1(i, ["sleep", "1000"], stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except Exception as e:  # noqa: BLE001
            res[i.name] = {"error": str(e)}
    try:
        time.sleep(1.0)
        before = {}
        for name, (p, ipid) in procs.items():
            before[name] = ctxt_switches([ipid])
        t0 = time.monotonic()
        time.sleep(window)
        dt = time.monotonic() - t0
        for name, (p, ipid) in procs.items():
            if p.poll() is not None:
                res[name] = {"error": "exited during the idle window"}
                continue
            rss, pss, _ = memory_of(ipid)
            res[name] = {"rss_kib": rss, "pss_kib": pss,
                         "wakeups_per_s": (ctxt_switches([ipid]) - before[name]) / dt}
    finally:
        for name, (p, ipid) in procs.items():
            try:
                os.kill(ipid, signal.SIGKILL)
            except OSError:
                pass
            kill_quietly(p)
    return res


def sig_run(inits, bins, cfg, tmp, own_sessions):
    """One sigdrv run: every init interleaved; rows[0] is the helper alone (the baseline).
    own_sessions: each init in a session of its own (sigdrv --setsid), else all in sigdrv's."""
    iters, warm = cfg["sig_iters"], 20
    argv = [bins["sigdrv"]] + (["--setsid"] if own_sessions else []) + [
        os.path.join(tmp, "sig.txt"), str(iters), str(warm), bins["sigwait"], "-"]
    for i in inits:
        argv += [":::"] + i.prefix(False)
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError("sigdrv failed: " + r.stderr)
    rows = read_ints_lines(os.path.join(tmp, "sig.txt"))
    if isinstance(rows[0], str):
        raise RuntimeError("the helper alone failed: " + rows[0])
    return rows


class BusyCpus:
    """One busy loop per CPU, each in a session of its own (a scheduling group of its own
    with Debian's sched_autogroup): other containers or services keeping the machine busy.
    Started and killed by pid."""

    def __enter__(self):
        self.procs = [subprocess.Popen(["/bin/sh", "-c", "while :; do :; done"], start_new_session=True,
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
                      for _ in range(os.cpu_count() or 1)]
        time.sleep(0.2)  # running before the first trip
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
            p.wait()


def test_sig(inits, bins, cfg, tmp, own_sessions=True, loaded=False):
    """Round trips, cfg["sig_runs"] runs of sig_iters each; median and percentiles over every
    trip of every run, and the spread of the run medians. own_sessions: each init in a session
    of its own, as container runtimes start PID 1. loaded: with BusyCpus running."""
    runs = cfg["sig_runs"]
    log("sig%s%s: %d run(s) of %d SIGUSR1 round trips per init, interleaved"
        % ("" if own_sessions else ", every init in the runner's session",
           " with a busy loop per CPU" if loaded else "", runs, cfg["sig_iters"]))
    trips = [[] for _ in range(len(inits) + 1)]
    medians = [[] for _ in range(len(inits) + 1)]
    failed = {}
    for _ in range(runs):
        if loaded:
            with BusyCpus():
                rows = sig_run(inits, bins, cfg, tmp, own_sessions)
        else:
            rows = sig_run(inits, bins, cfg, tmp, own_sessions)
        for k, row in enumerate(rows):
            if isinstance(row, str):
                failed[k] = row[5:]
                continue
            trips[k] += row
            medians[k].append(statistics.median(row) / 1e3)

    def summary(k):
        row = trips[k]
        return {"median_us": statistics.median(row) / 1e3, "p90_us": pct(row, 90) / 1e3,
                "p99_us": pct(row, 99) / 1e3, "mean_us": statistics.mean(row) / 1e3,
                "run_medians_us": medians[k],
                "spread_us": max(medians[k]) - min(medians[k]) if len(medians[k]) > 1 else None}

    res = {"baseline": summary(0)}
    for k, i in enumerate(inits, start=1):
        if k in failed or not trips[k]:
            res[i.name] = {"error": failed.get(k, "no trips")}
            continue
        res[i.name] = summary(k)
        res[i.name]["over_direct_median_us"] = res[i.name]["median_us"] - res["baseline"]["median_us"]
    return res


class Flagged(Init):
    """An init run with extra options (dumb-init -c), measured beside it."""

    def __init__(self, base, flags):
        super().__init__("%s %s" % (base.name, " ".join(flags)), base.path)
        self.base, self.flags = base, flags

    def prefix(self, pid1):
        return self.base.prefix(pid1) + self.flags


def oneway_variants(inits):
    """Every init, plus dumb-init -c (no setsid for its child) beside dumb-init."""
    out = []
    for i in inits:
        out.append(i)
        if i.name == "dumb-init":
            out.append(Flagged(i, ["-c"]))
    return out


def start_oneway(variant, onewait, pid1):
    """Starts VARIANT -- ONEWAIT (`sigwait clock`, a list) in a session of its own without a terminal (as a
    container runtime or systemd starts PID 1); returns (Popen, pid to signal)."""
    kw = dict(stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    if variant is None:
        p = subprocess.Popen(onewait, **kw)
        return p, p.pid
    if pid1:
        return start_pid1(variant, onewait, **kw)
    p = subprocess.Popen(variant.prefix(False) + onewait, **kw)
    return p, p.pid


def test_oneway(inits, bins, cfg, tmp, pid1):
    runs, trips = cfg["oneway_runs"], cfg["oneway_trips"]
    variants = oneway_variants(inits)
    log("oneway%s: %d x %d trips per init, 1 ms idle before each, interleaved" % (
        " (PID 1)" if pid1 else "", runs, trips))
    started, res = [], {}
    try:
        for v in [None] + variants:
            try:
                started.append((v, start_oneway(v, [bins["sigwait"], "clock"], pid1)))
            except Exception as e:  # noqa: BLE001 - report and go on with the others
                res["baseline" if v is None else v.name] = {"error": str(e)}
        out = os.path.join(tmp, "oneway.txt")
        argv = [bins["onedrv"], out, str(runs * trips), "20", "1000"]
        argv += ["%d:%d" % (pid, p.stdout.fileno()) for _, (p, pid) in started]
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900,
                           pass_fds=[p.stdout.fileno() for _, (p, _) in started])
        if r.returncode != 0:
            raise RuntimeError("onedrv failed: " + r.stderr)
        for (v, _), row in zip(started, read_ints_lines(out)):
            name = "baseline" if v is None else v.name
            if isinstance(row, str):
                res[name] = {"error": row[5:]}
                continue
            medians = [statistics.median(row[k:k + trips]) / 1e3 for k in range(0, len(row), trips)]
            res[name] = {"median_us": statistics.median(row) / 1e3, "p90_us": pct(row, 90) / 1e3,
                         "run_medians_us": medians,
                         "spread_us": max(medians) - min(medians) if len(medians) > 1 else None}
    finally:
        for v, (p, pid) in started:
            try:
                os.kill(pid, signal.SIGTERM)  # forwarded: onewait ends, then its init
                p.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
            kill_quietly(p)
            p.stdout.close()
    return res


def test_spawn(bins, cfg):
    log("spawn: fork / vfork / clone(CLONE_VM|CLONE_VFORK) / posix_spawn, %g s per cell" % cfg["spawn_secs"])
    r = subprocess.run([bins["spawn_primitives"], "-t", str(cfg["spawn_secs"]), "2", "50", "500"],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError("spawn_primitives failed: " + r.stderr)
    table = [l for l in r.stdout.splitlines() if not l.startswith("RESULT")]
    results = [parse_kv(l) for l in r.stdout.splitlines() if l.startswith("RESULT")]
    return {"table": "\n".join(table), "results": results}


# --------------------------------------------------------------------------
# report

# (key, label, test, field, unit format, target kind, target value)
def test_notify_cost(foster, cfg, tmp):
    """What talking to systemd costs foster (information, no target): the
    service runner with one service, started with and without NOTIFY_SOCKET
    (then libsystemd is loaded); time until its control socket answers (and,
    with NOTIFY_SOCKET, until READY=1), and VmRSS/PSS once settled."""
    import socket as socketmod
    conf = os.path.join(tmp, "notify.toml")
    with open(conf, "w") as f:
        f.write('[services.a]\ncommand = ["sleep", "1000"]\n')
    runs = 5 if cfg["exec_iters"] < 1000 else 20
    out = {}
    for label, notify in (("without NOTIFY_SOCKET", False), ("with NOTIFY_SOCKET", True)):
        times, rss, pss = [], [], []
        for k in range(runs):
            ctl = os.path.join(tmp, "ctl-%d-%d.sock" % (notify, k))
            env = {x: v for x, v in os.environ.items() if not x.startswith(("NOTIFY_SOCKET", "WATCHDOG_"))}
            env["FOSTER_SOCKET"] = ctl
            listener = None
            if notify:
                addr = os.path.join(tmp, "notify-%d.sock" % k)
                listener = socketmod.socket(socketmod.AF_UNIX, socketmod.SOCK_DGRAM)
                listener.bind(addr)
                listener.settimeout(10)
                env["NOTIFY_SOCKET"] = addr
            t0 = time.monotonic()
            p = subprocess.Popen([foster.path, "-c", conf], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            try:
                if listener:
                    while b"READY=1" not in listener.recv(4096):
                        pass
                else:
                    while not os.path.exists(ctl):
                        time.sleep(0.0005)
                times.append((time.monotonic() - t0) * 1000)
                r, ps, _ = memory_of(p.pid)
                rss.append(r)
                pss.append(ps)
            finally:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=10)
                if listener:
                    listener.close()
        out[label] = {"ready_ms_median": statistics.median(times), "rss_kib": statistics.median(rss),
                      "pss_kib": statistics.median(pss)}
        log("notify: %s: ready after %.1f ms (median of %d), VmRSS %d KiB, PSS %d KiB" % (
            label, out[label]["ready_ms_median"], runs, out[label]["rss_kib"], out[label]["pss_kib"]))
    return out


def table_rows(shapes):
    """(key, label, results key, field, format, target kind, target value)"""
    rows = [
        ("exec_mean", "exec overhead, mean (µs)", "exec", "overhead_mean_us", "%.0f", "ratio", 1.0),
        ("exec_median", "exec overhead, median (µs)", "exec", "overhead_median_us", "%.0f", "ratio", 1.0),
    ]
    for t, lb, _, _ in shapes:
        rows += [
            (t + "_time", lb + ": time until only the init is left (ms)", t, "time_ms", "%.0f", None, None),
            (t + "_cpu", lb + ": init CPU time (ms, schedstat)", t, "init_cpu_ms", "%.0f", "ratio", 0.1),
            (t + "_ticks", lb + ": init utime+stime (ms, 10 ms ticks)", t, "init_utime_stime_ms", "%.0f", None, None),
            (t + "_switches", lb + ": init context switches", t, "init_ctxt_switches", "%.0f", None, None),
            (t + "_zombies", lb + ": peak zombies", t, "peak_zombies", "%.0f", "ratio", 1.0),
        ]
    rows += [
        ("idle_rss", "idle VmRSS (KiB)", "idle", "rss_kib", "%d", "max", 1024),
        ("idle_pss", "idle PSS (KiB)", "idle", "pss_kib", "%d", None, None),
        ("idle_wakeups", "idle wakeups/s", "idle", "wakeups_per_s", "%.2f", "max", 0),
        ("sig_median", "signal forwarding, median (µs)", "sig", "median_us", "%.1f", "ratio", 1.0),
        ("sig_p99", "signal forwarding, p99 (µs)", "sig", "p99_us", "%.1f", None, None),
        ("sig_spread", "signal forwarding, spread of the run medians (µs)", "sig", "spread_us", "%.1f", None, None),
        ("sigshared_median", "the same, every init in the runner's session, median (µs)", "sigshared", "median_us",
         "%.1f", None, None),
        ("sigshared_p99", "the same, every init in the runner's session, p99 (µs)", "sigshared", "p99_us", "%.1f",
         None, None),
        ("sigload_median", "the same in the runner's session, a busy loop per CPU, median (µs)", "sigload",
         "median_us", "%.1f", None, None),
        ("sigload_p90", "the same in the runner's session, a busy loop per CPU, p90 (µs)", "sigload", "p90_us",
         "%.1f", None, None),
        ("sigload_p99", "the same in the runner's session, a busy loop per CPU, p99 (µs)", "sigload", "p99_us",
         "%.1f", None, None),
    ]
    for t, lb in (("oneway", "one-way forwarding after 1 ms idle"), ("oneway_pid1", "the same, init as PID 1")):
        rows += [
            (t + "_median", lb + ", median (µs)", t, "median_us", "%.1f", "ratio", 1.0),
            (t + "_p90", lb + ", p90 (µs)", t, "p90_us", "%.1f", None, None),
            (t + "_spread", lb + ", spread of the run medians (µs)", t, "spread_us", "%.1f", None, None),
        ]
    return rows


def build_table(results, inits, shapes):
    names = [i.name for i in inits]
    peers = [n for n in names if n not in OURS]
    have_foster = "foster" in names
    cols = ["metric"] + names + ["best peer", "foster ÷ best", "target", "met"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    summary = {}
    for key, label, test, field, fmt, kind, tv in table_rows(shapes):
        if test not in results:
            continue
        vals = {}
        cells = [label]
        for n in names:
            rec = results[test].get(n, {})
            v = rec.get(field) if isinstance(rec, dict) else None
            if v is None:
                cells.append("failed" if "error" in rec else "—")
            else:
                vals[n] = v
                cells.append(fmt % v)
        pv = [vals[p] for p in peers if p in vals]
        best = min(pv) if pv else None
        bestname = [p for p in peers if p in vals and vals[p] == best][:1]
        cells.append((fmt % best + " (" + bestname[0] + ")") if best is not None else "—")
        f = vals.get("foster")
        ratio = None
        if f is not None and best is not None and best > 0:
            ratio = f / best
        cells.append("%.2f×" % ratio if ratio is not None else ("—" if f is None or best is None else "n/a (best 0)"))
        met = None
        if kind == "ratio":
            cells.append("≤ %.1f×" % tv)
            if f is not None and best is not None:
                met = (ratio <= tv) if ratio is not None else (f <= best)
        elif kind == "max":
            cells.append(("≤ %d KiB" % tv) if key == "idle_rss" else "0")
            if f is not None:
                met = f <= tv + (0.05 if key == "idle_wakeups" else 0)
        else:
            cells.append("(info)")
        cells.append("—" if met is None else ("yes" if met else "**NO**"))
        summary[key] = {"values": vals, "best_peer": best, "ratio": ratio, "met": met}
        lines.append("| " + " | ".join(cells) + " |")
    if not have_foster:
        lines.append("")
        lines.append("(foster was not measured: ratio and target columns are empty)")
    return "\n".join(lines), summary


def oneway_report(results, cfg):
    """Every variant of the one-way test (dumb-init -c too), with the medians of its runs."""
    out = []
    for t, title in (("oneway", "not PID 1"), ("oneway_pid1", "PID 1 of a new pid namespace")):
        if t not in results:
            continue
        out += ["", "### one-way forwarding after 1 ms idle, %s (µs; %d run(s) of %d trips, interleaved)"
                % (title, cfg["oneway_runs"], cfg["oneway_trips"]), "",
                "| init | median | p90 | run medians |", "|---|---|---|---|"]
        for name, rec in results[t].items():
            if "error" in rec:
                out.append("| %s | failed: %s | | |" % (name, rec["error"]))
                continue
            out.append("| %s | %.1f | %.1f | %s |" % (
                "signal sent straight to PROGRAM" if name == "baseline" else name, rec["median_us"],
                rec["p90_us"], ", ".join("%.1f" % m for m in rec["run_medians_us"])))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--foster", default="/work/main/build/foster", help="foster binary (default %(default)s)")
    ap.add_argument("--foster-static", help="foster-static binary (default: beside --foster)")
    ap.add_argument("--quick", action="store_true", help="fewer iterations: a smoke test under a minute")
    ap.add_argument("--json", metavar="FILE", help="also write all results as JSON to FILE")
    ap.add_argument("--tests", default=",".join(ALL_TESTS), help="comma list of %s" % ",".join(ALL_TESTS))
    ap.add_argument("--inits", help="comma list of foster,tini,dumb-init,catatonit (default all)")
    ap.add_argument("--storm-batch", metavar="N[,N]",
                    help="orphans per intermediate child in the storm (default 1,10; --quick: 10)")
    ap.add_argument("--storm-spawners", metavar="N[,N]",
                    help="storms by N spawners at once, one orphan per intermediate child (default 2,4; --quick: 2;"
                         " 0: none)")
    ap.add_argument("--orphans", type=int, metavar="N", help="orphans per storm (default 20000)")
    ap.add_argument("--storm-runs", type=int, metavar="N", help="runs per storm shape and init (default 3; --quick: 1)")
    ap.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                    help="first wait up to SECONDS for the machine to be quiet (< 0.2 CPUs busy)")
    ap.add_argument("--spawn", action="store_true", help="accepted for compatibility: spawn runs by default")
    ap.add_argument("--no-spawn", action="store_true", help="skip the spawn-primitive micro-benchmark")
    args = ap.parse_args()

    for n in (args.inits or "").split(","):
        if n and n not in OURS + PEERS:
            ap.error("unknown init %r (known: foster, %s)" % (n, ", ".join(PEERS)))
    tests = [t for t in args.tests.split(",") if t]
    for t in tests:
        if t not in ALL_TESTS:
            ap.error("unknown test %r" % t)
    if args.no_spawn and "spawn" in tests:
        tests.remove("spawn")
    cfg = dict(exec_iters=2000, orphans=20000, storm_runs=3, storm_batches=[1, 10], storm_spawners=[2, 4], idle_window=10.0,
               sig_iters=2000, sig_runs=4, spawn_secs=1.0, oneway_runs=4, oneway_trips=500)
    if args.quick:
        cfg.update(exec_iters=300, storm_runs=1, storm_batches=[10], storm_spawners=[2], idle_window=2.0,
                   sig_iters=100, sig_runs=1, spawn_secs=0.2, oneway_runs=1, oneway_trips=100)
    if args.storm_batch:
        cfg["storm_batches"] = [int(x) for x in args.storm_batch.split(",") if int(x) > 0]
    if args.storm_spawners:
        cfg["storm_spawners"] = [int(x) for x in args.storm_spawners.split(",") if int(x) > 0]
    if args.orphans:
        cfg["orphans"] = args.orphans
    if args.storm_runs:
        cfg["storm_runs"] = args.storm_runs

    wait_for_quiet_machine(args.wait_idle)
    started = time.monotonic()
    inits, skipped = find_inits(args)
    ok = []
    for i in inits:
        why = sanity(i)
        if why:
            skipped[i.name] = "sanity check failed: " + why
            log("BROKEN %s: %s -- skipped" % (i.name, why))
        else:
            ok.append(i)
    inits = ok
    if os.geteuid() != 0 or not shutil.which("unshare"):
        for t in ("storm", "idle"):
            if t in tests:
                tests.remove(t)
                log("%s: skipped (needs root and unshare for a new pid namespace)" % t)

    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "kernel": platform.release(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": os.getloadavg()[0],
        "quick": args.quick,
        "config": cfg,
        "inits": {i.name: {"path": i.path, "version": version_of(i)} for i in inits},
        "skipped": skipped,
    }
    results = {}
    errors = {}
    with tempfile.TemporaryDirectory(prefix="foster-bench-") as tmp:
        bins = compile_helpers(tmp, [(h, False) for h in HELPERS])
        for i in inits:
            if i.name in OURS:
                # measure a private copy: a rebuild during the run must not swap the binary under us
                copy = os.path.join(tmp, i.name)
                shutil.copy2(i.path, copy)
                # with the full build foster hands the service runner to (libexec/foster beside it)
                full = os.path.join(os.path.dirname(i.path), "libexec", "foster")
                if i.name == "foster" and os.path.exists(full):
                    os.makedirs(os.path.join(tmp, "libexec"), exist_ok=True)
                    shutil.copy2(full, os.path.join(tmp, "libexec", "foster"))
                i.path = copy
        # Other processes' CPU is sampled around every test but the storm: an
        # orphan the kernel reaps (foster's autoreap) is charged to no waiting
        # parent, so the storm's own orphans would look like foreign load.
        foreign_s = window_s = 0.0
        for t in tests:
            b0, o0, t0 = busy_cpu_seconds(), own_cpu_seconds(), time.monotonic()
            try:
                if t == "exec" and inits:
                    results[t] = test_exec(inits, bins, cfg, tmp)
                elif t == "storm" and inits:
                    for key, _, batch, spawners in storm_shapes(cfg):
                        results[key] = test_storm(inits, bins, cfg, batch, spawners)
                elif t == "idle" and inits:
                    results[t] = test_idle(inits, bins, cfg)
                elif t == "sig" and inits:
                    results[t] = test_sig(inits, bins, cfg, tmp)
                    results["sigshared"] = test_sig(inits, bins, cfg, tmp, own_sessions=False)
                    results["sigload"] = test_sig(inits, bins, cfg, tmp, own_sessions=False, loaded=True)
                elif t == "oneway" and inits:
                    results[t] = test_oneway(inits, bins, cfg, tmp, False)
                    if os.geteuid() == 0 and shutil.which("unshare"):
                        results["oneway_pid1"] = test_oneway(inits, bins, cfg, tmp, True)
                elif t == "spawn":
                    results[t] = test_spawn(bins, cfg)
                elif t == "notify":
                    foster = [i for i in inits if i.name == "foster"]
                    if foster:
                        results[t] = test_notify_cost(foster[0], cfg, tmp)
            except Exception as e:  # noqa: BLE001 - one broken test must not hide the others
                errors[t] = str(e)
                log("%s: FAILED: %s" % (t, e))
            if t != "storm":
                foreign_s += (busy_cpu_seconds() - b0) - (own_cpu_seconds() - o0)
                window_s += time.monotonic() - t0
    meta["runtime_s"] = round(time.monotonic() - started, 1)
    meta["foreign_cpus_busy"] = round(max(0.0, foreign_s) / max(1e-3, window_s), 2)

    table, summary = build_table(results, inits, storm_shapes(cfg))
    out = ["## foster entrypoint benchmark (%s%s)" % (meta["date"], ", --quick" if args.quick else ""), ""]
    out.append("%d CPUs, Linux %s, load %.2f at start, other processes' CPU during the run %.2f CPUs (storm excluded); %s; "
               "run took %.0f s." % (
        meta["cpus"], meta["kernel"], meta["loadavg_at_start"], meta["foreign_cpus_busy"],
        ", ".join("%s = %s" % (n, v["version"]) for n, v in meta["inits"].items()) or "no init",
        meta["runtime_s"]))
    if meta["foreign_cpus_busy"] > 0.15:
        out.append("- **warning**: other processes kept %.2f CPUs busy on average during the run; figures are noisy"
                   % meta["foreign_cpus_busy"])
    for n, why in skipped.items():
        out.append("- **%s skipped**: %s" % (n, why))
    for t, why in errors.items():
        out.append("- **test %s failed**: %s" % (t, why))
    for t in [shape[0] for shape in storm_shapes(cfg)] + ["idle", "sig", "sigshared", "sigload", "oneway", "oneway_pid1"]:
        for n, rec in results.get(t, {}).items():
            if isinstance(rec, dict) and "error" in rec:
                out.append("- %s: **%s failed**: %s" % (t, n, rec["error"]))
    out += ["", table, ""]
    notes = []
    if "exec" in results:
        b = results["exec"]["baseline"]
        notes.append("bare `/bin/true`: mean %.0f µs, median %.0f µs (%d iterations each, round-robin); "
                     "overhead = INIT's time minus that." % (b["mean_us"], b["median_us"], cfg["exec_iters"]))
    for t, label, b, spawners in storm_shapes(cfg):
        if t not in results:
            continue
        ea = {n: r.get("eagain") for n, r in results[t].items() if isinstance(r, dict) and r.get("eagain")}
        who = "each child of storm" if spawners == 1 else (
            "%d spawner processes (children of storm) at once, each making intermediate children; each one" % spawners)
        notes.append("%s: %d orphans, %s forks %d grandchild(ren) that _exit(0) at once and "
                     "exits itself; median of %d run(s); `unshare --pid --fork --mount-proc INIT -- storm`; "
                     "zombies = children of the init in state Z, sampled every 0.5 ms from outside%s."
                     % (label, cfg["orphans"], who, b, cfg["storm_runs"],
                        ("; fork EAGAIN retries: " + ", ".join("%s %d" % kv for kv in ea.items())) if ea else ""))
    if "idle" in results:
        notes.append("idle: `INIT -- sleep 1000` as PID 1; wakeups = context switches of the init over %g s." % cfg["idle_window"])
    if "sig" in results:
        b = results["sig"]["baseline"]
        notes.append("signal: kill(INIT, SIGUSR1) → helper's byte on a pipe, %d run(s) of %d round trips, inits "
                     "interleaved, each init in a session of its own (as a container runtime or systemd starts "
                     "PID 1); median and p99 over every trip; the same sent straight to the helper: median "
                     "%.1f µs, p99 %.1f µs." % (cfg["sig_runs"], cfg["sig_iters"], b["median_us"], b["p99_us"]))
    if "sigshared" in results:
        notes.append("in the runner's session: every init, its child and the runner share one session, hence one "
                     "scheduling group under sched_autogroup, except the child of dumb-init, which calls setsid: "
                     "it alone has a group of its own, which wins on an idle machine and loses on a busy one "
                     "(the busy-loop rows).")
    if "sigload" in results:
        b = results["sigload"]["baseline"]
        notes.append("with a busy loop per CPU: the same runs while %d `sh` busy loops, each in a session of its "
                     "own (a scheduling group of its own under sched_autogroup), keep every CPU busy; straight to "
                     "the helper: median %.1f µs, p99 %.1f µs." % (os.cpu_count() or 1, b["median_us"], b["p99_us"]))
    if "tini" in [i.name for i in inits]:
        notes.append("tini runs with `-s` (subreaper) when it is not PID 1, as foster and catatonit subreap by themselves.")
    out += ["- " + n for n in notes]
    out += oneway_report(results, cfg)
    if "spawn" in results:
        out += ["", "### spawn primitives", "", results["spawn"]["table"]]
    text = "\n".join(out)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results, "summary": summary, "errors": errors}, f, indent=2)
        log("JSON written to " + args.json)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
