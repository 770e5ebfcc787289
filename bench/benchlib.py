"""What bench/entrypoint.py and bench/services.py both need: the machine's and
the runner's CPU time, /proc readings of one process, percentiles, compiling
the C helpers, and waiting for a quiet machine. Standard library only."""

import math
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def busy_cpu_seconds():
    """CPU seconds spent busy by the whole machine since boot (from /proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / CLK_TCK


def own_cpu_seconds():
    """CPU seconds of this runner and of every child it has waited for."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def wait_for_quiet_machine(budget_s):
    """Waits, up to budget_s seconds, until the machine is below 0.2 busy CPUs."""
    if budget_s <= 0:
        return
    deadline = time.monotonic() + budget_s
    while True:
        b0 = busy_cpu_seconds()
        time.sleep(2)
        used = (busy_cpu_seconds() - b0) / 2
        if used < 0.2 or time.monotonic() > deadline:
            log("machine %s: %.2f CPUs busy" % ("quiet" if used < 0.2 else "still busy, going on", used))
            return
        log("waiting for a quiet machine: %.2f CPUs busy" % used)


def pct(values, p):
    v = sorted(values)
    return v[max(0, math.ceil(p / 100.0 * len(v)) - 1)]


def parse_kv(line):
    return {k: v for k, v in (x.split("=", 1) for x in line.split() if "=" in x)}


def children_of(pid):
    out = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def ctxt_switches(pids):
    """Voluntary + involuntary context switches of every thread of `pids`."""
    total = 0
    for pid in pids:
        try:
            for tid in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                    for line in f:
                        if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                            total += int(line.split()[1])
        except OSError:
            pass
    return total


def memory_of(pid):
    """(VmRSS KiB, PSS KiB, open fds) of one process; None for what is gone."""
    rss = pss = fds = None
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
        fds = len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        pass
    return rss, pss, fds


def compile_helpers(tmp, helpers):
    """Compiles bench/NAME.c into tmp for every (NAME, static) of helpers;
    static falls back to dynamic when no static libc is installed."""
    cc = os.environ.get("CC", "cc")
    bins = {}
    for h, static in helpers:
        src, out = os.path.join(HERE, h + ".c"), os.path.join(tmp, h)
        r = subprocess.run([cc, "-O2", "-Wall"] + (["-static"] if static else []) + ["-o", out, src],
                           capture_output=True, text=True)
        if r.returncode != 0 and static:
            r = subprocess.run([cc, "-O2", "-Wall", "-o", out, src], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("cannot compile %s:\n%s" % (src, r.stderr))
        bins[h] = out
    return bins
