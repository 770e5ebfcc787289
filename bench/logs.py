#!/usr/bin/python3
"""Logging throughput: one service printing as fast as it can, its lines
timestamped and written to a file, by foster (no extra process) and by the
logger processes s6 and runit put behind a service (s6-log, svlogd).
Standard library only; see bench/README.md.

    /usr/bin/python3 bench/logs.py [--foster PATH] [--lines N] [--rounds R]
                                   [--json FILE] [--wait-idle SECONDS]

The producer is bench/spew.c: N numbered 64-byte lines in 64 KiB writes, then
its own CPU time into a report file. Setups, each writing into a fresh
directory on /dev/shm (RAM, so the disk does not set the pace):

  foster prefix  `foster -c` with one service, stdout = "prefix",
                 timestamps = "iso", main = true; foster's stdout a file
  foster file    the same with stdout = FILE, timestamps = "iso" (foster writes it)
  s6-log         spew | s6-log T s4294967295 DIR   (ISO 8601 stamps, no rotation)
  svlogd         spew | svlogd -tt DIR             (UTC stamps; config `s0`: no rotation)

Each run ends when the logger exits (foster: its main service ended and its
lines are out; the peers: EOF). Wall time gives lines/s; the logger's CPU is
its wait4 rusage (foster's minus the producer's, which foster reaped).
Setups are interleaved round by round (order rotated) and the medians are
reported with foster's ratios to the best peer: the machine is shared and noisy.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import compile_helpers, log, wait_for_quiet_machine

SETUPS = ["foster prefix", "foster file", "s6-log", "svlogd"]


def run_foster(bins, foster, work, lines, to_file):
    report = os.path.join(work, "spew.cpu")
    out_path = os.path.join(work, "out")
    cfg = os.path.join(work, "foster.toml")
    target = '"%s"' % os.path.join(work, "spew.log") if to_file else '"prefix"'
    with open(cfg, "w") as f:
        f.write('[foster]\ncontrol_socket = "%s"\n[services.spew]\ncommand = ["%s", "%d", "%s"]\n'
                'stdout = %s\ntimestamps = "iso"\nmain = true\n'
                % (os.path.join(work, "ctl.sock"), bins["spew"], lines, report, target))
    with open(out_path, "wb") as out, open(os.path.join(work, "err"), "wb") as err:
        t0 = time.monotonic()
        p = subprocess.Popen([foster, "-q", "-c", cfg], stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
    p.returncode = status
    spew_cpu = int(open(report).read()) / 1e6
    written = os.path.join(work, "spew.log") if to_file else out_path
    return wall, ru.ru_utime + ru.ru_stime - spew_cpu, spew_cpu, count_lines(written)


def run_pipeline(bins, work, lines, logger_argv):
    report = os.path.join(work, "spew.cpu")
    t0 = time.monotonic()
    spew = subprocess.Popen([bins["spew"], str(lines), report], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    logger = subprocess.Popen(logger_argv, stdin=spew.stdout, stdout=subprocess.DEVNULL)
    spew.stdout.close()
    _, _, ru = os.wait4(logger.pid, 0)
    wall = time.monotonic() - t0
    spew.wait()
    spew_cpu = int(open(report).read()) / 1e6
    return wall, ru.ru_utime + ru.ru_stime, spew_cpu


def count_lines(path):
    n = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return n
            n += b.count(b"\n")


def run_setup(name, bins, foster, lines):
    work = tempfile.mkdtemp(prefix="foster-logs-bench-", dir="/dev/shm")
    try:
        if name.startswith("foster"):
            wall, cpu, spew_cpu, got = run_foster(bins, foster, work, lines, name == "foster file")
        elif name == "s6-log":
            d = os.path.join(work, "s6")
            wall, cpu, spew_cpu = run_pipeline(bins, work, lines, ["s6-log", "T", "s4294967295", d])
            got = count_lines(os.path.join(d, "current"))
        else:
            d = os.path.join(work, "sv")
            os.mkdir(d)
            with open(os.path.join(d, "config"), "w") as f:
                f.write("s0\n")
            wall, cpu, spew_cpu = run_pipeline(bins, work, lines, ["svlogd", "-tt", d])
            got = count_lines(os.path.join(d, "current"))
        if got != lines:
            log("%s: %d lines written, %d expected" % (name, got, lines))
        return {"wall_s": wall, "cpu_s": cpu, "producer_cpu_s": spew_cpu, "lines": got}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--foster", default=os.path.join(os.path.dirname(__file__), "..", "build", "release", "foster"))
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json")
    ap.add_argument("--wait-idle", type=float, default=0)
    a = ap.parse_args()
    for tool, package in (("s6-log", "s6"), ("svlogd", "runit")):
        if shutil.which(tool) is None:
            sys.exit("%s is missing: apt-get install -y %s" % (tool, package))
    tmp = tempfile.mkdtemp(prefix="foster-logs-bench-")
    try:
        bins = compile_helpers(tmp, [("spew", False)])
        foster = os.path.join(tmp, "foster")
        shutil.copy(os.path.realpath(a.foster), foster)  # a rebuild meanwhile changes nothing
        wait_for_quiet_machine(a.wait_idle)
        results = {s: [] for s in SETUPS}
        for r in range(a.rounds):
            order = SETUPS[r % len(SETUPS):] + SETUPS[:r % len(SETUPS)]
            for s in order:
                results[s].append(run_setup(s, bins, foster, a.lines))
            log("round %d/%d done" % (r + 1, a.rounds))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    summary = {}
    for s in SETUPS:
        runs = results[s]
        wall = statistics.median(x["wall_s"] for x in runs)
        cpu = statistics.median(x["cpu_s"] for x in runs)
        producer = statistics.median(x["producer_cpu_s"] for x in runs)
        summary[s] = {"lines_per_s": a.lines / wall, "cpu_s_per_million": cpu / a.lines * 1e6,
                      "total_cpu_s_per_million": (cpu + producer) / a.lines * 1e6,
                      "all_lines": all(x["lines"] == a.lines for x in runs)}
    best_rate = max(summary[p]["lines_per_s"] for p in ("s6-log", "svlogd"))
    best_cpu = min(summary[p]["cpu_s_per_million"] for p in ("s6-log", "svlogd"))
    best_total = min(summary[p]["total_cpu_s_per_million"] for p in ("s6-log", "svlogd"))
    print("%d lines of 64 bytes, ISO timestamps, %d rounds interleaved, medians\n" % (a.lines, a.rounds))
    print("| setup | lines/s | logger CPU s / 1M lines | logger+producer CPU s / 1M lines | every line |")
    print("|---|---|---|---|---|")
    for s in SETUPS:
        x = summary[s]
        print("| %s | %.0f | %.3f | %.3f | %s |" % (s, x["lines_per_s"], x["cpu_s_per_million"],
                                                   x["total_cpu_s_per_million"], "yes" if x["all_lines"] else "NO"))
    print()
    for s in ("foster prefix", "foster file"):
        x = summary[s]
        print("%s vs best peer: lines/s %.2fx (target >= 1), logger CPU %.2fx, total CPU %.2fx (target < 1)"
              % (s, x["lines_per_s"] / best_rate, x["cpu_s_per_million"] / best_cpu,
                 x["total_cpu_s_per_million"] / best_total))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"lines": a.lines, "rounds": a.rounds, "setups": summary, "runs": results}, f, indent=1)


if __name__ == "__main__":
    main()
