"""fosterctl's commands against a running foster (fosterctl(1),
docs/PROTOCOL.md "fosterctl"): what each prints, what it waits for and its
exit status (0 done, 1 failed, 2 usage, 3 cannot reach foster)."""
import json
import os
import re
import signal
import textwrap

from ctl_helpers import (BASE_ENV, config_text, ctl, pid_alive, service, start_foster, wait_answering,
                         status_json, timed_ctl, wait_service, wait_state)
from helpers import PROMPT, wait_until
from svc_helpers import q, stays_false, wait_file, write_config

PY = "/usr/bin/python3"

# A notify service that sends READY=1 after DELAY seconds (argv[1]).
NOTIFY_LATE = r'''
import os, signal, socket, sys, time
time.sleep(float(sys.argv[1]))
addr = os.environ["NOTIFY_SOCKET"]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"READY=1", "\0" + addr[1:] if addr.startswith("@") else addr)
s.close()
while True:
    signal.pause()
'''


def notify_late(tmp, delay):
    path = tmp / "notify_late.py"
    path.write_text(NOTIFY_LATE)
    return json.dumps([PY, str(path), str(delay)])


def table(text):
    """The status table as (header cells, rows of cells, column offsets per line)."""
    lines = text.splitlines()
    assert lines, "empty status table"
    cells = [line.split() for line in lines]
    offsets = [[m.start() for m in re.finditer(r"\S+", line)] for line in lines]
    return cells, offsets, lines


# ----------------------------------------------------------------- status

STATUS_SERVICES = """
    [services.alpha]
    command = ["sleep", "1000"]

    [services.beta]
    command = "exit 3"
    type = "oneshot"
    restart = "no"

    [services.gamma]
    command = ["sleep", "1000"]
    autostart = false

    [services.delta]
    command = ["sleep", "1000"]
    restart = "no"
"""


def test_status_table_has_the_documented_columns(plain_runner):
    foster, cfg, sock = start_foster(plain_runner, STATUS_SERVICES)
    wait_state(sock, "beta", "exited")
    alpha_pid = wait_state(sock, "alpha", "running")["pid"]

    r = ctl(sock, "status")
    assert r.returncode == 0, r.stderr
    cells, offsets, lines = table(r.stdout)
    # No service has a healthcheck: no HEALTH column.
    assert cells[0] == ["NAME", "STATE", "PID", "UPTIME", "RESTARTS", "LAST-EXIT"], r.stdout
    rows = {c[0]: c for c in cells[1:]}
    assert set(rows) == {"alpha", "beta", "gamma", "delta"}, r.stdout
    assert [c[0] for c in cells[1:]] == sorted(rows), "rows are not sorted by name"
    a = rows["alpha"]
    assert a[1] == "running" and a[2] == str(alpha_pid), r.stdout
    assert re.fullmatch(r"\d+s", a[3]), f"uptime {a[3]!r} is not like 45s"
    assert a[4:] == ["0", "-"], r.stdout
    assert rows["beta"][1:] == ["exited", "-", "-", "0", "3"], r.stdout
    assert rows["gamma"][1:] == ["stopped", "-", "-", "0", "-"], r.stdout
    # Left-aligned columns, two spaces between the widest cell and the next.
    for line_offsets in offsets:
        assert line_offsets == offsets[0], f"columns not aligned:\n{r.stdout}"
    for col in range(len(offsets[0]) - 1):
        widest = max(offsets[0][col] + len(c[col]) for c in cells)
        assert offsets[0][col + 1] == widest + 2, f"column {col} not two spaces apart:\n{r.stdout}"


def test_status_filters_by_name_and_refuses_unknown_names(plain_runner):
    foster, cfg, sock = start_foster(plain_runner, STATUS_SERVICES)
    wait_state(sock, "alpha", "running")

    r = ctl(sock, "status", "gamma")
    assert r.returncode == 0, r.stderr
    cells, _, _ = table(r.stdout)
    assert [c[0] for c in cells[1:]] == ["gamma"], r.stdout

    r = ctl(sock, "status", "gamma", "alpha")
    assert r.returncode == 0, r.stderr
    assert sorted(c[0] for c in table(r.stdout)[0][1:]) == ["alpha", "gamma"], r.stdout

    for args in (["nosuch"], ["alpha", "nosuch"], ["--json", "nosuch"]):
        r = ctl(sock, "status", *args)
        assert r.returncode == 1, (args, r.returncode, r.stdout, r.stderr)
        assert "nosuch" in r.stderr and r.stderr.startswith("fosterctl: "), r.stderr
        assert r.stdout == "", r.stdout


JSON_KEYS = {"name", "state", "pid", "restarts", "exit_status", "uptime_ms", "health", "next_run", "overlap"}


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def test_status_json_matches_the_documented_schema(plain_runner):
    services = STATUS_SERVICES + """
    [services.health]
    command = ["sleep", "1000"]
    healthcheck = { command = ["true"], interval = "100ms", timeout = "5s" }
    """
    foster, cfg, sock = start_foster(plain_runner, services)
    wait_state(sock, "beta", "exited")
    delta_pid = wait_state(sock, "delta", "running")["pid"]
    wait_service(sock, "health", lambda s: s["health"] == "healthy")
    os.kill(delta_pid, signal.SIGKILL)  # restart = "no": exited, 128+9
    wait_state(sock, "delta", "exited")

    r = ctl(sock, "status", "--json")
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith("\n") and r.stdout.count("\n") == 1, f"not one line: {r.stdout!r}"
    doc = json.loads(r.stdout)
    assert set(doc) == {"services"} and isinstance(doc["services"], list), doc
    names = [s["name"] for s in doc["services"]]
    assert names == sorted(names) and set(names) == {"alpha", "beta", "gamma", "delta", "health"}, names
    for s in doc["services"]:
        assert set(s) == JSON_KEYS, s
        assert isinstance(s["name"], str) and isinstance(s["state"], str), s
        assert s["pid"] is None or (is_int(s["pid"]) and s["pid"] > 0), s
        assert s["next_run"] is None or (is_int(s["next_run"]) and s["next_run"] > 0), s
        assert is_int(s["restarts"]) and s["restarts"] >= 0, s
        assert s["exit_status"] is None or (is_int(s["exit_status"]) and 0 <= s["exit_status"] <= 255), s
        assert s["uptime_ms"] is None or (is_int(s["uptime_ms"]) and s["uptime_ms"] >= 0), s
        assert s["health"] is None or isinstance(s["health"], str), s
        assert s["overlap"] is None, s  # an object only during an overlapping restart
    by = {s["name"]: s for s in doc["services"]}
    alpha = by["alpha"]
    assert alpha["state"] == "running" and pid_alive(alpha["pid"]), alpha
    with open(f"/proc/{alpha['pid']}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[:2] == [b"sleep", b"1000"], "pid is not alpha's process"
    assert alpha["exit_status"] is None and alpha["health"] is None and is_int(alpha["uptime_ms"]), alpha
    assert by["beta"] == {"name": "beta", "state": "exited", "pid": None, "restarts": 0,
                          "exit_status": 3, "uptime_ms": None, "health": None, "next_run": None,
                          "overlap": None}, by["beta"]
    assert by["gamma"] == {"name": "gamma", "state": "stopped", "pid": None, "restarts": 0,
                           "exit_status": None, "uptime_ms": None, "health": None, "next_run": None,
                           "overlap": None}, by["gamma"]
    assert by["delta"]["state"] == "exited" and by["delta"]["exit_status"] == 128 + 9, by["delta"]
    assert by["delta"]["pid"] is None, by["delta"]
    assert by["health"]["health"] == "healthy" and is_int(by["health"]["pid"]), by["health"]

    # NAME filter, --json anywhere among the arguments.
    for args in (["--json", "beta"], ["beta", "--json"]):
        r = ctl(sock, "status", *args)
        assert r.returncode == 0, r.stderr
        assert [s["name"] for s in json.loads(r.stdout)["services"]] == ["beta"], r.stdout


# ------------------------------------------------------------------ start

START_SERVICES = """
    [services.slow]
    command = {slow}
    type = "notify"
    autostart = false

    [services.slower]
    command = {slower}
    type = "notify"
    autostart = false

    [services.once]
    command = {once}
    type = "oneshot"
    autostart = false

    [services.bad]
    command = "exit 4"
    type = "notify"
    restart = "no"
    autostart = false

    [services.badshot]
    command = "exit 5"
    type = "oneshot"
    autostart = false

    [services.noexec]
    command = ["/nonexistent/foster-test-program"]
    autostart = false
"""


def start_services(runner):
    d = runner.tmp
    text = START_SERVICES.format(
        slow=notify_late(d, 1.0), slower=notify_late(d, 3.0),
        once=q(f"sleep 0.5; touch {d}/once.done"))
    return start_foster(runner, text)


def test_start_waits_until_ready(plain_runner):
    foster, cfg, sock = start_services(plain_runner)
    r, took = timed_ctl(sock, "start", "slow")
    assert r.returncode == 0, r.stderr
    assert took >= 0.9, f"start returned after {took:.2f}s, before READY=1"
    s = service(sock, "slow")
    assert s["state"] == "running" and pid_alive(s["pid"]), s


def test_start_of_a_oneshot_is_done_when_it_exited_successfully(plain_runner):
    foster, cfg, sock = start_services(plain_runner)
    r, took = timed_ctl(sock, "start", "once")
    assert r.returncode == 0, r.stderr
    assert took >= 0.4, f"start returned after {took:.2f}s, before the oneshot finished"
    assert (plain_runner.tmp / "once.done").exists()
    s = service(sock, "once")
    assert s["state"] == "exited" and s["exit_status"] == 0, s


def test_start_of_a_failing_service_fails_with_a_reason(plain_runner):
    foster, cfg, sock = start_services(plain_runner)
    for name, reason in (("bad", r"exit(ed| status)? 4|\b4\b"), ("badshot", r"\b5\b"),
                         ("noexec", r"fatal|No such file")):
        r, took = timed_ctl(sock, "--timeout", "20s", "start", name)
        assert r.returncode == 1, (name, r.returncode, r.stderr)
        assert name in r.stderr and re.search(reason, r.stderr), (name, r.stderr)
        assert took < 10, f"start {name} waited {took:.1f}s for a goal it could no longer reach"


def test_start_fails_at_once_when_a_dependency_gave_up(plain_runner):
    """foster does not start dependencies: a start of web whose db is fatal,
    or exited for good, could only wait for its timeout. It fails at once and
    names the dependency; the start stays asked for, so web starts once db is
    started and ready."""
    d = plain_runner.tmp
    foster, cfg, sock = start_foster(plain_runner, f"""
        [services.db]
        command = {q(f"test -e {d}/fixed && exec sleep 1000; exit 3")}
        restart_delay = "10ms"
        start_limit_burst = 1
        start_limit_interval = "30s"

        [services.setup]
        command = "exit 4"
        type = "oneshot"
        restart = "no"

        [services.web]
        command = ["sleep", "1000"]
        depends_on = ["db"]
        autostart = false

        [services.job]
        command = ["sleep", "1000"]
        depends_on = ["setup"]
        autostart = false
        """)
    wait_state(sock, "db", "fatal")
    wait_state(sock, "setup", "exited")
    for name, why in (("web", "web waits for db, which is fatal (exit status 3)"),
                      ("job", "job waits for setup, which is exited (exit status 4)")):
        r, took = timed_ctl(sock, "--timeout", "15s", "start", name)
        assert r.returncode == 1, (name, r.stderr)
        assert why in r.stderr, r.stderr
        assert took < PROMPT, f"start {name} waited {took:.1f}s for a dependency that gave up"
        assert service(sock, name)["state"] == "stopped"
    (d / "fixed").touch()
    r = ctl(sock, "start", "db")
    assert r.returncode == 0, r.stderr
    wait_state(sock, "web", "running")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_start_no_wait_returns_at_once(plain_runner):
    foster, cfg, sock = start_services(plain_runner)
    r, took = timed_ctl(sock, "start", "--no-wait", "slower")
    assert r.returncode == 0, r.stderr
    assert took < 2.0, f"--no-wait took {took:.2f}s"
    assert service(sock, "slower")["state"] == "starting"


def test_start_timeout_too_short_fails(plain_runner):
    foster, cfg, sock = start_services(plain_runner)
    r, took = timed_ctl(sock, "--timeout", "300ms", "start", "slower")
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "slower" in r.stderr, r.stderr
    assert 0.25 <= took < 2.5, f"took {took:.2f}s for a 300ms timeout"
    assert service(sock, "slower")["state"] == "starting"


def test_start_clears_fatal(plain_runner):
    d = plain_runner.tmp
    services = f"""
    [services.flaky]
    command = {q(f"test -e {d}/fixed && exec sleep 1000; exit 1")}
    restart_delay = "10ms"
    start_limit_burst = 2
    start_limit_interval = "30s"
    """
    foster, cfg, sock = start_foster(plain_runner, services)
    wait_state(sock, "flaky", "fatal")
    stays_false(lambda: service(sock, "flaky")["state"] != "fatal", 0.3,
                "a fatal service was restarted without being asked")
    (d / "fixed").touch()
    r = ctl(sock, "start", "flaky")
    assert r.returncode == 0, r.stderr
    s = service(sock, "flaky")
    assert s["state"] == "running" and pid_alive(s["pid"]), s
    assert s["restarts"] == 0, s


# ------------------------------------------------------------- stop, restart

def trap_stop(d, name, delay):
    """sh that, on SIGTERM, waits `delay` seconds and then exits 0. NAME.trapped
    exists once its sleep is forked: a SIGTERM to the group that came while sh
    was still forking it would miss the sleep, and foster would rightly wait
    for that leftover until stop_timeout."""
    return q(f"trap 'sleep {delay}; echo done > {d}/{name}.stopped; exit 0' TERM; "
             f"sleep 1000 & touch {d}/{name}.trapped; wait $!")


def test_stop_waits_until_stopped(plain_runner):
    d = plain_runner.tmp
    services = f"""
    [services.lingers]
    command = {trap_stop(d, "lingers", 0.6)}
    """
    foster, cfg, sock = start_foster(plain_runner, services)
    pid = wait_state(sock, "lingers", "running")["pid"]
    wait_file(d / "lingers.trapped")
    r, took = timed_ctl(sock, "stop", "lingers")
    assert r.returncode == 0, r.stderr
    assert took >= 0.5, f"stop returned after {took:.2f}s, before the service stopped"
    s = service(sock, "lingers")
    assert s["state"] == "stopped" and s["pid"] is None, s
    assert not pid_alive(pid)
    # Stopping what is stopped is done at once.
    r = ctl(sock, "stop", "lingers")
    assert r.returncode == 0, r.stderr


def test_stop_no_wait_returns_at_once(plain_runner):
    d = plain_runner.tmp
    # On SIGTERM the service waits for the test's go-ahead: fosterctl must
    # return while it is still stopping, however slow the machine.
    services = f"""
    [services.lingers]
    command = {q(f"trap 'while [ ! -e {d}/go ]; do sleep 0.05; done; exit 0' TERM; "
                 f"sleep 1000 & touch {d}/lingers.trapped; wait $!")}
    stop_timeout = "60s"
    """
    foster, cfg, sock = start_foster(plain_runner, services)
    wait_state(sock, "lingers", "running")
    wait_file(d / "lingers.trapped")
    r, took = timed_ctl(sock, "stop", "--no-wait", "lingers")
    assert r.returncode == 0, r.stderr
    assert took < PROMPT, f"--no-wait took {took:.2f}s"
    assert service(sock, "lingers")["state"] == "stopping"
    (d / "go").touch()
    wait_state(sock, "lingers", "stopped")


def test_restart_gives_a_new_process(plain_runner):
    d = plain_runner.tmp
    services = f"""
    [services.web]
    command = ["sleep", "1000"]

    [services.slow]
    command = {notify_late(d, 1.0)}
    type = "notify"
    """
    foster, cfg, sock = start_foster(plain_runner, services)
    old = wait_state(sock, "web", "running")["pid"]
    r = ctl(sock, "restart", "web")
    assert r.returncode == 0, r.stderr
    s = service(sock, "web")
    assert s["state"] == "running" and s["pid"] != old and pid_alive(s["pid"]), (old, s)
    assert not pid_alive(old), "the old process still runs"
    # restart waits for readiness too.
    wait_state(sock, "slow", "running")
    r, took = timed_ctl(sock, "restart", "slow")
    assert r.returncode == 0, r.stderr
    assert took >= 0.9, f"restart returned after {took:.2f}s, before READY=1"
    assert service(sock, "slow")["state"] == "running"


# ------------------------------------------------------------------ signal

SIGNAL_SERVICE = r'''
import os, signal, sys
d = sys.argv[1]
child = os.fork()
tag = "child" if child == 0 else "main"
def record(sig, frame):
    with open(f"{d}/{tag}.sig", "a") as f:
        f.write(f"{sig}\n")
signal.signal(signal.SIGUSR1, record)
signal.signal(signal.SIGUSR2, record)
open(f"{d}/{tag}.ready", "w").close()
while True:
    signal.pause()
'''


def test_signal_reaches_the_main_process_only(plain_runner):
    d = plain_runner.tmp
    (d / "sig.py").write_text(SIGNAL_SERVICE)
    services = f"""
    [services.sig]
    command = {json.dumps([PY, str(d / "sig.py"), str(d)])}

    [services.idle]
    command = ["sleep", "1000"]
    autostart = false
    """
    foster, cfg, sock = start_foster(plain_runner, services)
    wait_until(lambda: (d / "main.ready").exists() and (d / "child.ready").exists(),
               what="the signal service to be ready")
    pid = service(sock, "sig")["pid"]

    def received():
        try:
            return [int(x) for x in (d / "main.sig").read_text().split()]
        except FileNotFoundError:
            return []

    r = ctl(sock, "signal", "USR1", "sig")
    assert r.returncode == 0, r.stderr
    wait_until(lambda: received() == [signal.SIGUSR1], what="USR1 in the main process")
    for spelling, signo in (("SIGUSR2", signal.SIGUSR2), (str(int(signal.SIGUSR1)), signal.SIGUSR1)):
        r = ctl(sock, "signal", spelling, "sig")
        assert r.returncode == 0, (spelling, r.stderr)
        wait_until(lambda: received()[-1:] == [signo], what=f"{spelling} in the main process")
    stays_false(lambda: (d / "child.sig").exists(), 0.2,
                "the signal reached the service's other process, not just the main one")
    assert service(sock, "sig")["pid"] == pid

    # An unknown signal is a usage error; foster is not asked.
    for bad in ("NOPE", "0", "SIGFOO"):
        r = ctl(sock, "signal", bad, "sig")
        assert r.returncode == 2, (bad, r.returncode, r.stderr)
        assert "signal" in r.stderr, r.stderr
    r = ctl(sock, "signal", "USR1")
    assert r.returncode == 2, r.stderr
    # Unknown service, and a service with no process: foster refuses (1).
    r = ctl(sock, "signal", "USR1", "nosuch")
    assert r.returncode == 1 and "nosuch" in r.stderr, r.stderr
    r = ctl(sock, "signal", "USR1", "idle")
    assert r.returncode == 1 and "idle" in r.stderr, r.stderr
    assert len(received()) == 3 and pid_alive(pid)


# ------------------------------------------------------------------ reload

def test_reload_applies_a_valid_config_and_refuses_an_invalid_one(plain_runner):
    d = plain_runner.tmp
    base = """
    [services.one]
    command = ["sleep", "1000"]
    """
    foster, cfg, sock = start_foster(plain_runner, base)
    one = wait_state(sock, "one", "running")["pid"]
    added = base + f"""
    [services.two]
    command = {q(f"touch {d}/two.started; exec sleep 1000")}
    """
    write_config(cfg, config_text(sock, textwrap.dedent(added)))
    r = ctl(sock, "reload")
    assert r.returncode == 0, r.stderr
    two = wait_state(sock, "two", "running")["pid"]
    assert service(sock, "one")["pid"] == one, "an unchanged service was restarted"

    invalid = added + f"""
    [services.three]
    command = {q(f"touch {d}/three.started; exec sleep 1000")}
    restart = "sometimes"
    colour = "blue"
    """
    write_config(cfg, config_text(sock, textwrap.dedent(invalid)))
    r = ctl(sock, "reload")
    assert r.returncode == 1, (r.returncode, r.stderr)
    where = re.findall(rf"{re.escape(cfg)}:(\d+):(\d+):", r.stderr)
    assert len(where) >= 2, f"no FILE:LINE:COLUMN for both errors: {r.stderr!r}"
    lines_ = open(cfg).read().splitlines()
    bad_lines = {i + 1 for i, l in enumerate(lines_) if "sometimes" in l or "colour" in l}
    assert bad_lines <= {int(l) for l, _ in where}, (bad_lines, r.stderr)
    # Nothing changed.
    now = status_json(sock)
    assert set(now) == {"one", "two"}, now
    assert now["one"]["pid"] == one and now["two"]["pid"] == two, now
    stays_false(lambda: (d / "three.started").exists(), 0.3, "a refused reload started a service")
    assert foster.running()


# ---------------------------------------------------------------- shutdown

def test_shutdown_makes_foster_exit_0_and_removes_the_socket(plain_runner):
    foster, cfg, sock = start_foster(plain_runner, """
    [services.web]
    command = ["sleep", "1000"]
    """)
    pid = wait_state(sock, "web", "running")["pid"]
    r = ctl(sock, "shutdown")
    assert r.returncode == 0, r.stderr
    assert foster.wait() == 0, foster.stderr()
    assert not os.path.exists(sock), "foster left its socket file behind"
    assert not pid_alive(pid)
    r = ctl(sock, "status")
    assert r.returncode == 3, r.stderr


# ------------------------------------------------------------------- check

def test_check(plain_runner):
    foster, cfg, sock = start_foster(plain_runner, """
    [services.a]
    command = ["sleep", "1000"]

    [services.b]
    command = ["sleep", "1000"]

    [services.once]
    command = "exit 0"
    type = "oneshot"

    [services.manual]
    command = ["sleep", "1000"]
    autostart = false

    [services.failshot]
    command = "exit 2"
    type = "oneshot"
    autostart = false
    """)
    wait_state(sock, "a", "running")
    wait_state(sock, "b", "running")
    wait_state(sock, "once", "exited")

    r = ctl(sock, "check")
    assert r.returncode == 0, r.stderr  # manual (autostart = false) is not counted
    for name in ("a", "once"):
        assert ctl(sock, "check", name).returncode == 0, name
    r = ctl(sock, "check", "manual")
    assert r.returncode == 1 and "manual" in r.stderr, r.stderr

    assert ctl(sock, "stop", "b").returncode == 0
    r = ctl(sock, "check")
    assert r.returncode == 1, r.stderr
    # The reason names b and its state; a (running) is not named.
    assert re.search(r"(^|\W)b is stopped\b", r.stderr, re.MULTILINE), r.stderr
    assert not re.search(r"(^|\W)a is\b", r.stderr, re.MULTILINE), r.stderr
    r = ctl(sock, "check", "-q")
    assert r.returncode == 1 and r.stderr == "", r.stderr
    assert ctl(sock, "check", "a").returncode == 0
    assert ctl(sock, "check", "a", "b").returncode == 1

    assert ctl(sock, "start", "failshot").returncode == 1
    r = ctl(sock, "check", "failshot")
    assert r.returncode == 1 and "failshot" in r.stderr, r.stderr
    r = ctl(sock, "check", "nosuch")
    assert r.returncode == 1 and "nosuch" in r.stderr, r.stderr

    assert ctl(sock, "start", "b").returncode == 0
    assert ctl(sock, "check").returncode == 0


# ------------------------------------------------- usage, finding foster

def test_usage_errors_exit_2_without_asking_foster(plain_runner):
    foster, cfg, sock = start_foster(plain_runner, """
    [services.web]
    command = ["sleep", "1000"]
    """)
    pid = wait_state(sock, "web", "running")["pid"]
    for args in ([], ["bogus"], ["start"], ["stop"], ["restart"], ["restart", "--no-wait"],
                 ["status", "--bogus"], ["signal"], ["reload", "bad/name"], ["shutdown", "now"],
                 ["--timeout", "soon", "status"], ["--bogus", "status"],
                 ["start", "bad/name"], ["stop", "web", "web"]):
        r = ctl(sock, *args)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert r.stderr.startswith("fosterctl: "), (args, r.stderr)
    # -s and -c together
    r = ctl(None, "-s", sock, "-c", cfg, "status")
    assert r.returncode == 2, r.stderr
    # None of those reached foster: the service is untouched, foster runs.
    assert foster.running()
    s = service(sock, "web")
    assert s["state"] == "running" and s["pid"] == pid, s
    # The same usage errors without any foster: still 2, not 3.
    for args in ([], ["bogus"], ["start"]):
        r = ctl(plain_runner.tmp / "none.sock", *args)
        assert r.returncode == 2, (args, r.returncode, r.stderr)


def test_help_and_version_exit_0():
    for arg in ("--help", "--version"):
        r = ctl(None, arg)
        assert r.returncode == 0 and r.stdout, (arg, r.stderr)
    assert "man fosterctl" in ctl(None, "--help").stdout  # the reference


def test_not_running_exits_3(tmp_path):
    sock = tmp_path / "nobody-here.sock"
    for command in (["status"], ["check"], ["start", "web"], ["shutdown"]):
        r = ctl(sock, *command)
        assert r.returncode == 3, (command, r.returncode, r.stderr)
        assert "not running" in r.stderr and str(sock) in r.stderr, r.stderr


def test_socket_found_through_env_and_config(plain_runner):
    foster, cfg, sock = start_foster(plain_runner, """
    [services.web]
    command = ["sleep", "1000"]
    """)
    wait_state(sock, "web", "running")
    r = ctl(None, "status", env=dict(BASE_ENV, FOSTER_SOCKET=sock))
    assert r.returncode == 0 and "web" in r.stdout, r.stderr
    r = ctl(None, "-c", cfg, "status")
    assert r.returncode == 0 and "web" in r.stdout, r.stderr
    r = ctl(None, "--socket", sock, "status")
    assert r.returncode == 0 and "web" in r.stdout, r.stderr


def test_config_with_variables_is_readable_without_foster_s_environment(plain_runner):
    """fosterctl -c reads FILE for its control_socket only: values that need
    foster's environment (${APP_DIR}) must not make it refuse the file."""
    d = plain_runner.tmp
    sock = d / "ctl.sock"
    cfg = write_config(d / "foster.toml", f"""
        [foster]
        control_socket = "{sock}"

        [services.web]
        command = ["sleep", "1000"]
        working_directory = "${{APP_DIR}}"
        stdout = "${{APP_DIR}}/web.log"
        """)
    foster = plain_runner.start(["-c", cfg], env=dict(BASE_ENV, APP_DIR=str(d)))
    wait_answering(foster, str(sock))
    r = ctl(None, "-c", cfg, "status", env={k: v for k, v in BASE_ENV.items() if k != "APP_DIR"})
    assert r.returncode == 0 and "web" in r.stdout, (r.returncode, r.stderr)
