#!/usr/bin/python3
"""foster's memory with many services printing through `prefix` into the
in-memory log buffer (foster.toml(5), RECENT OUTPUT): RSS before and after
every service printed more than its buffer holds, next to the bound the
configuration allows.  Standard library only; see bench/README.md.

    /usr/bin/python3 bench/logs_memory.py [--foster PATH] [--fosterctl PATH]
                                          [--services 1000] [--lines 3000]
                                          [--width 100] [--log-buffer 1000]

foster runs as a plain child (not PID 1); its stdout goes to /dev/null.
Each service prints `--lines` lines of `--width` bytes, then sleeps.  The
figure to look at: RSS growth per service against `log_buffer` × 256 bytes
of text (+ about 140 bytes of bookkeeping per line), and `fosterctl logs -n`
answering with exactly the last lines.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from benchlib import log, memory_of


def rss_kib(pid):
    return memory_of(pid)[0] or 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    build = os.path.join(here, "..", "build", "release")
    ap = argparse.ArgumentParser()
    ap.add_argument("--foster", default=os.path.join(build, "foster"))
    ap.add_argument("--fosterctl", default=os.path.join(build, "fosterctl"))
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--lines", type=int, default=3000)
    ap.add_argument("--width", type=int, default=100)
    ap.add_argument("--log-buffer", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "ctl.sock")
        go = os.path.join(tmp, "go")
        body = "x" * (args.width - 8)
        done = os.path.join(tmp, "done")
        os.mkdir(done)
        script = (f"while [ ! -e {go} ]; do sleep 0.1; done; "
                  f"seq -f '%07g {body}' 1 {args.lines}; touch {done}/$FOSTER_BENCH_NAME; exec sleep 100000")
        cfg = [f'[foster]\ncontrol_socket = "{sock}"\nlog_buffer = {args.log_buffer}\nshutdown_timeout = "60s"\n']
        for i in range(args.services):
            cfg.append(f'[services.s{i}]\ncommand = {json.dumps(script)}\nstdout = "prefix"\n'
                       f'environment = {{ FOSTER_BENCH_NAME = "s{i}" }}\n')
        path = os.path.join(tmp, "foster.toml")
        with open(path, "w") as f:
            f.write("\n".join(cfg))
        foster = subprocess.Popen([args.foster, "-q", "-c", path], stdout=subprocess.DEVNULL)
        try:
            ctl = [args.fosterctl, "-s", sock, "--timeout", "60s"]
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                r = subprocess.run(ctl + ["status", "--json"], capture_output=True, text=True)
                if r.returncode == 0 and sum(s["state"] == "running" for s in json.loads(r.stdout)["services"]) == args.services:
                    break
                time.sleep(0.5)
            before = rss_kib(foster.pid)
            open(go, "w").close()
            t0 = time.monotonic()
            last = f"{args.lines:07d} {body}"
            while time.monotonic() < deadline and len(os.listdir(done)) < args.services:
                time.sleep(0.2)
            # Printed: now wait until foster has read each service's last line.
            pending = [f"s{i}" for i in range(args.services)]
            while pending and time.monotonic() < deadline:
                r = subprocess.run(ctl + ["logs", "-n", "1", pending[0]], capture_output=True, text=True)
                if last in r.stdout:
                    pending.pop(0)
                else:
                    time.sleep(0.05)
            took = time.monotonic() - t0
            after = rss_kib(foster.pid)
            kept = min(args.log_buffer, args.lines, args.log_buffer * 256 // args.width)
            r = subprocess.run(ctl + ["logs", "s0"], capture_output=True, text=True)
            bound_kib = args.services * (args.log_buffer * 256 + kept * 140) // 1024
            log(f"{args.services} services x {args.lines} lines of {args.width} bytes, log_buffer = {args.log_buffer}")
            log(f"  all printed and kept in {took:.1f} s")
            log(f"  foster RSS: {before} KiB before, {after} KiB after: +{after - before} KiB "
                f"(+{(after - before) / args.services:.1f} KiB per service; configured bound {bound_kib} KiB)")
            log(f"  s0 keeps {len(r.stdout.splitlines())} lines (expected {kept})")
        finally:
            foster.send_signal(signal.SIGTERM)
            foster.wait(120)
    return 0


if __name__ == "__main__":
    sys.exit(main())
