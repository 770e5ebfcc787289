"""Health checks (foster.toml(5), the `healthcheck` key): starting -> healthy
-> unhealthy, what unhealthy does under each restart policy, start_period,
probe timeouts, probes never overlapping, depends_on waiting for healthy, and
how status and check report health."""
import json
import os
import time

from ctl_helpers import (ctl, pid_alive, service, start_foster, status_json,
                         wait_health, wait_service, wait_state)
from helpers import descendants, read_stat, wait_until
from svc_helpers import lines, q, stays_false

CLK_TCK = os.sysconf("SC_CLK_TCK")


def hc(command, interval="100ms", timeout="2s", retries=2, start_period=None):
    """A healthcheck inline table. command: argv list, or a sh string."""
    cmd = json.dumps(command) if isinstance(command, list) else json.dumps(["/bin/sh", "-c", command])
    extra = f', start_period = "{start_period}"' if start_period else ""
    return (f'{{ command = {cmd}, interval = "{interval}", timeout = "{timeout}", '
            f'retries = {retries}{extra} }}')


def status_table(sock):
    r = ctl(sock, "status")
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines()]
    return rows[0], {row[0]: row for row in rows[1:]}


def test_starting_then_healthy_in_status_and_check(plain_runner):
    d = plain_runner.tmp
    foster, cfg, sock = start_foster(plain_runner, f"""
    [services.web]
    command = ["sleep", "1000"]
    restart = "no"
    healthcheck = {hc(["test", "-e", str(d / "ok")], retries=100000)}

    [services.plain]
    command = ["sleep", "1000"]
    """)
    wait_state(sock, "web", "running")
    wait_state(sock, "plain", "running")
    s = service(sock, "web")
    assert s["health"] == "starting", s
    assert service(sock, "plain")["health"] is None
    header, rows = status_table(sock)
    assert header == ["NAME", "STATE", "PID", "UPTIME", "RESTARTS", "LAST-EXIT", "HEALTH"], header
    assert rows["web"][-1] == "starting" and rows["plain"][-1] == "-", rows

    # No verdict yet: not healthy.
    r = ctl(sock, "check")
    assert r.returncode == 1 and "web" in r.stderr, r.stderr
    assert ctl(sock, "check", "web").returncode == 1
    assert ctl(sock, "check", "plain").returncode == 0

    (d / "ok").touch()
    wait_health(sock, "web", "healthy")
    assert service(sock, "web")["pid"] == s["pid"]
    _, rows = status_table(sock)
    assert rows["web"][1] == "running" and rows["web"][-1] == "healthy", rows
    r = ctl(sock, "check")
    assert r.returncode == 0, r.stderr
    assert ctl(sock, "check", "web").returncode == 0


def test_unhealthy_service_is_restarted_by_on_failure_and_always(plain_runner):
    d = plain_runner.tmp
    services = ""
    for name, policy in (("onfail", "on-failure"), ("always", "always")):
        services += f"""
    [services.{name}]
    command = {q(f"touch {d}/{name}.ok; exec sleep 1000")}
    restart = "{policy}"
    restart_delay = "10ms"
    healthcheck = {hc(["test", "-e", str(d / f"{name}.ok")])}
    """
    foster, cfg, sock = start_foster(plain_runner, services)
    old = {}
    for name in ("onfail", "always"):
        s = wait_health(sock, name, "healthy")
        assert s["restarts"] == 0, s
        old[name] = s["pid"]

    for name in ("onfail", "always"):
        os.unlink(d / f"{name}.ok")  # the check fails; the next run recreates the file
    for name in ("onfail", "always"):
        s = wait_service(sock, name, lambda s: s["pid"] not in (None, old[name]) and s["state"] == "running",
                         what=f"{name} to be restarted with a new pid")
        assert s["restarts"] == 1, s
        wait_until(lambda: not pid_alive(old[name]), what=f"{name}'s unhealthy process to go")
        s = wait_health(sock, name, "healthy")
        assert s["restarts"] == 1, s
    assert "unhealthy" in foster.stderr(), foster.stderr()


def test_unhealthy_service_without_restart_keeps_running(plain_runner):
    d = plain_runner.tmp
    (d / "ok").touch()
    foster, cfg, sock = start_foster(plain_runner, f"""
    [services.web]
    command = ["sleep", "1000"]
    restart = "no"
    healthcheck = {hc(["test", "-e", str(d / "ok")])}
    """)
    pid = wait_health(sock, "web", "healthy")["pid"]
    assert ctl(sock, "check").returncode == 0

    os.unlink(d / "ok")
    s = wait_health(sock, "web", "unhealthy")
    assert s["state"] == "running" and s["pid"] == pid and s["restarts"] == 0, s
    stays_false(lambda: service(sock, "web")["pid"] != pid or not pid_alive(pid), 0.5,
                "an unhealthy service with restart = \"no\" was stopped or restarted")
    s = service(sock, "web")
    assert s["state"] == "running" and s["health"] == "unhealthy", s
    _, rows = status_table(sock)
    assert rows["web"][-1] == "unhealthy", rows
    r = ctl(sock, "check")
    assert r.returncode == 1 and "web" in r.stderr and "unhealthy" in r.stderr, r.stderr
    assert ctl(sock, "check", "web").returncode == 1

    # One passing probe makes it healthy again.
    (d / "ok").touch()
    wait_health(sock, "web", "healthy")
    assert service(sock, "web")["pid"] == pid
    assert ctl(sock, "check").returncode == 0


def test_start_period_failures_do_not_count(plain_runner):
    foster, cfg, sock = start_foster(plain_runner, f"""
    [services.web]
    command = ["sleep", "1000"]
    restart = "no"
    healthcheck = {hc(["false"], retries=1, start_period="1500ms")}
    """)
    seen = []

    def unhealthy():
        s = service(sock, "web")
        seen.append((s["uptime_ms"], s["health"]))
        return s if s["health"] == "unhealthy" else None

    s = wait_until(unhealthy, interval=0.02, what="web to be unhealthy after its start period")
    # Every probe failed (one failure is enough), but none counted before
    # the start period was over.
    early = [(u, h) for u, h in seen if h == "unhealthy" and u is not None and u < 1400]
    assert not early, f"unhealthy within the start period: {early}"
    assert any(h == "starting" and u is not None and u >= 500 for u, h in seen), \
        f"never seen starting while probes failed: {seen[:20]}"
    assert s["state"] == "running"


def probe_pids(path):
    return [int(x) for x in lines(path) if x.strip().isdigit()]


def test_a_hanging_probe_is_killed_at_its_timeout(plain_runner):
    d = plain_runner.tmp
    log = d / "probes"
    probe = f"echo $$$$ >> {log}; sleep 1000 & echo $! >> {log}; wait"
    foster, cfg, sock = start_foster(plain_runner, f"""
    [services.web]
    command = ["sleep", "1000"]
    restart = "no"
    healthcheck = {hc(probe, interval="100ms", timeout="300ms", retries=2)}
    """)
    # Sampled all along: how many probe processes run at once (at most one
    # probe: its sh and its sleep), and each probe's sh from its birth (the
    # kernel's start time, on the boot clock) until it is gone. Only the
    # logged pids are looked at, never all of /proc: a scan of a loaded
    # machine's /proc can outlast a probe's 300 ms and miss it whole.
    most, born, gone = 0, {}, {}

    def under_foster(pids):
        """The pids (from the log) that are foster's probe sh or its child."""
        parents = {foster.pid} | set(pids[0::2])
        return {p for p in pids if (lambda st: st is not None and st[1] in parents)(read_stat(p))}

    def watch():
        nonlocal most
        now = time.clock_gettime(time.CLOCK_BOOTTIME)
        pids = probe_pids(log)
        below = under_foster(pids)
        most = max(most, len(below))
        for sh in pids[0::2]:  # the log holds sh's pid, then its sleep's
            st = read_stat(sh) if sh in below else None
            if st and sh not in born:
                born[sh] = st[3] / CLK_TCK
            elif sh in born and sh not in below:
                gone.setdefault(sh, now)
        return len(gone) >= 3

    wait_until(watch, what="three probes to have run and gone")
    assert most <= 2, f"{most} probe processes at once"
    s = wait_health(sock, "web", "unhealthy")
    assert s["state"] == "running", s
    # Two probes of 300 ms each had to time out.
    assert s["uptime_ms"] is not None and s["uptime_ms"] >= 600, s
    # Killed at the timeout: not at once (the lower bound leaves 0.1 s: on a
    # loaded machine a life of 0.289 s was measured once, from the kernel's
    # start time in 10 ms ticks to the test seeing it gone), and not long
    # after (bounded, with room for a slow machine).
    lives = [gone[p] - born[p] for p in gone]
    assert all(0.3 - 0.1 <= life <= 0.3 + 3.0 for life in lives), f"probe lives: {lives}"

    pids = probe_pids(log)
    below = set(descendants(foster.pid))
    # Every probe but the newest one is gone (killed and reaped), with its child.
    leftovers = [p for p in pids[:-2] if p in below]
    assert not leftovers, f"probe processes left behind: {leftovers}"

    assert ctl(sock, "stop", "web").returncode == 0
    wait_until(lambda: not any(p in descendants(foster.pid) for p in probe_pids(log)),
               what="the last probe to go when its service stopped")


def test_probes_never_overlap(plain_runner):
    d = plain_runner.tmp
    log = d / "probe.log"
    probe = (f"echo start $(date +%s.%N) >> {log}; sleep 0.3; "
             f"echo end $(date +%s.%N) >> {log}")
    foster, cfg, sock = start_foster(plain_runner, f"""
    [services.web]
    command = ["sleep", "1000"]
    healthcheck = {hc(probe, interval="50ms", timeout="5s", retries=3)}
    """)

    def records():
        out = []
        for line in lines(log):
            kind, _, t = line.partition(" ")
            out.append((kind, float(t)))
        return out

    wait_until(lambda: [k for k, _ in records()].count("end") >= 4, what="four probes to finish")
    recs = records()
    kinds = [k for k, _ in recs]
    assert kinds[:8] == ["start", "end"] * 4, f"probes overlapped: {recs}"
    for (k1, t1), (k2, t2) in zip(recs, recs[1:]):
        assert t2 >= t1, recs
    for i in range(1, len(recs) - 1, 2):
        assert recs[i][0] == "end" and recs[i + 1][1] >= recs[i][1], f"overlap at {i}: {recs}"
    assert service(sock, "web")["health"] == "healthy"


def test_dependent_waits_until_its_dependency_is_healthy(plain_runner):
    d = plain_runner.tmp
    foster, cfg, sock = start_foster(plain_runner, f"""
    [services.db]
    command = ["sleep", "1000"]
    healthcheck = {hc(["test", "-e", str(d / "db.ok")], retries=100000)}

    [services.web]
    command = {q(f"touch {d}/web.started; exec sleep 1000")}
    depends_on = ["db"]
    """)
    wait_state(sock, "db", "running")
    stays_false(lambda: (d / "web.started").exists(), 1.0,
                "web started while its dependency db was running but not healthy")
    s = service(sock, "web")
    assert s["state"] in ("stopped", "starting") and s["pid"] is None, s
    assert ctl(sock, "check").returncode == 1

    (d / "db.ok").touch()
    wait_until(lambda: (d / "web.started").exists(), what="web to start once db is healthy")
    wait_state(sock, "web", "running")
    all_ = status_json(sock)
    assert all_["db"]["health"] == "healthy", all_
    assert ctl(sock, "check").returncode == 0
