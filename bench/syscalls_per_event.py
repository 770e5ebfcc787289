#!/usr/bin/python3
"""System calls foster makes per event of the soak's workload, one kind at a time.

  crash   N services that exit at once (`/bin/false`, restart = "always", 1 s apart): per restart
  probe   N `sleep infinity` services with a 1 s healthcheck (`true`): per probe
  status  one service and `fosterctl status --json` in a loop: per request

foster runs as a plain child (its own process group) from beside --foster, with
fosterctl next to it; after 3 s `strace -c -p` counts foster's own system calls
(not its children's) for --seconds; a restart and a probe are one clone each, so
the counts are per clone there. Needs strace. Standard library only.

Usage: /usr/bin/python3 bench/syscalls_per_event.py [--foster build/release/foster]
           [--services 10] [--seconds 10] [crash probe status]
"""

import argparse
import collections
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def config(kind, n, sock):
    out = ["[foster]", f'control_socket = "{sock}"', ""]
    for i in range(n):
        if kind == "crash":
            out += [f"[services.crash{i}]", 'command = ["/bin/false"]', 'restart = "always"',
                    'restart_delay = "1s"', 'restart_delay_max = "1s"', "start_limit_interval = 0",
                    'stdout = "null"', 'stderr = "null"', ""]
        elif kind == "probe":
            out += [f"[services.healthy{i}]", 'command = ["sleep", "infinity"]',
                    'healthcheck = { command = ["true"], interval = "1s", timeout = "5s", retries = 3 }', ""]
        else:
            out += [f"[services.idle{i}]", 'command = ["sleep", "infinity"]', ""]
    return "\n".join(out)


def restarts(fosterctl, sock):
    r = subprocess.run([fosterctl, "-s", sock, "status", "--json"], capture_output=True, text=True, check=True)
    return sum(s.get("restarts") or 0 for s in json.loads(r.stdout)["services"])


def strace_counts(path):
    calls = collections.Counter()
    for line in open(path):
        m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$", line)
        if m and m.group(2) != "total":
            calls[m.group(2)] = int(m.group(1))
    return calls


def measure(kind, foster, fosterctl, n, seconds):
    with tempfile.TemporaryDirectory(prefix="foster-syscalls-") as tmp:
        sock, cfg = os.path.join(tmp, "control.sock"), os.path.join(tmp, "foster.toml")
        with open(cfg, "w") as f:
            f.write(config(kind, n if kind != "status" else 1, sock))
        env = {k: v for k, v in os.environ.items() if k not in ("FOSTER_SOCKET", "NOTIFY_SOCKET")}
        p = subprocess.Popen([foster, "-c", cfg], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=env, process_group=0)
        try:
            time.sleep(3)
            before = restarts(fosterctl, sock)
            out = os.path.join(tmp, "strace")
            st = subprocess.Popen(["strace", "-c", "-o", out, "-p", str(p.pid)], stderr=subprocess.DEVNULL)
            time.sleep(0.5)  # attached
            t0, requests = time.monotonic(), 0
            while time.monotonic() - t0 < seconds:
                if kind == "status":
                    subprocess.run([fosterctl, "-s", sock, "status", "--json"], capture_output=True, check=True)
                    requests += 1
                else:
                    time.sleep(0.1)
            st.send_signal(signal.SIGINT)
            st.wait()
            # A restart or a probe is one clone each (the sleeps run already):
            # counted, not assumed from the rate, which a busy machine lowers.
            calls = strace_counts(out)
            events = requests if kind == "status" else calls["clone"]
            if kind == "crash" and restarts(fosterctl, sock) == before:
                raise RuntimeError("no restart during the measurement")
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(30)
        return events, calls


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--foster", default=os.path.join(HERE, "..", "build", "release", "foster"))
    ap.add_argument("--services", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("kinds", nargs="*", default=["crash", "probe", "status"])
    args = ap.parse_args()
    fosterctl = os.path.join(os.path.dirname(os.path.abspath(args.foster)), "fosterctl")
    for kind in args.kinds:
        events, calls = measure(kind, args.foster, fosterctl, args.services, args.seconds)
        total = sum(calls.values())
        print(f"{kind}: {events:.0f} events, {total / max(events, 1):.1f} system calls each: " +
              ", ".join(f"{name} {count / max(events, 1):.2f}" for name, count in calls.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
