"""Service-runner mode: `schedule` — a oneshot started at its times ("every
DURATION" here, cron syntax in the unit tests), never overlapping itself, its
next start shown by fosterctl status, and no wake-up of foster in between."""
import re
import signal
import time

from ctl_helpers import ctl, start_foster, status_json
from helpers import PROMPT, wait_until
from svc_helpers import ctx_switches, lines, q, times, wait_log


def test_every_fires_on_time_and_status_shows_the_next_run(plain_runner):
    d = plain_runner.tmp
    t0 = time.time()
    foster, _, sock = start_foster(plain_runner, f"""
        [services.tick]
        type = "oneshot"
        schedule = "every 2s"
        command = {q(f"date +%s.%N >> {d}/tick.runs")}
        """)
    first = status_json(sock)["tick"]
    assert first["state"] == "stopped", "a scheduled service does not start with foster"
    planned = first["next_run"]
    assert isinstance(planned, int) and t0 - 1 <= planned <= time.time() + 3, first
    runs = wait_until(lambda: (lambda t: t if len(t) >= 2 else None)(times(d / "tick.runs")),
                      PROMPT + 4, what="two scheduled runs")
    # next_run has second resolution; a loaded machine may be late, never early.
    assert planned - 1 <= runs[0] <= planned + 1.5, (planned, runs)
    assert 1.0 <= runs[1] - runs[0] <= 4.0, runs
    # The line is in the file a moment before its shell exits: until then the
    # run is still "starting". Between runs (2 s) it is "exited".
    later = wait_until(lambda: (lambda s: s if s["state"] == "exited" else None)(
        status_json(sock)["tick"]), PROMPT, what="the second run to end")
    assert later["next_run"] > planned, (planned, later)
    table = ctl(sock, "status").stdout
    assert "NEXT-RUN" in table.splitlines()[0]
    # The state was checked above; a third run may have begun since.
    assert re.search(r"^tick\s+\w+\s.*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", table, re.MULTILINE), table
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()[-2000:]


def test_a_run_still_going_skips_the_next(plain_runner):
    d = plain_runner.tmp
    job = f"echo start $(date +%s.%N) >> {d}/job.log; sleep 2.2; echo end $(date +%s.%N) >> {d}/job.log"
    foster, _, sock = start_foster(plain_runner, f"""
        [services.job]
        type = "oneshot"
        schedule = "every 1s"
        command = {q(job)}
        """)
    wait_log(foster, r"job: still \w+ at its scheduled time; this run is skipped", PROMPT + 4)
    wait_until(lambda: sum(1 for l in lines(d / "job.log") if l.startswith("end")) >= 2, PROMPT + 8,
               what="two runs to end")
    events = [l.split() for l in lines(d / "job.log")]
    # start, end, start, end, ...: never two starts in a row.
    kinds = [e[0] for e in events]
    assert kinds[:4] == ["start", "end", "start", "end"], events
    assert float(events[2][1]) >= float(events[1][1]), events
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()[-2000:]


def test_autostart_runs_once_at_start_too(plain_runner):
    d = plain_runner.tmp
    foster, _, sock = start_foster(plain_runner, f"""
        [services.now]
        type = "oneshot"
        schedule = "@yearly"
        autostart = true
        command = {q(f"date +%s.%N >> {d}/now.runs")}
        """)
    wait_until(lambda: times(d / "now.runs"), PROMPT, what="the autostart run")
    assert status_json(sock)["now"]["next_run"] > time.time() + 60
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()[-2000:]


def test_a_long_schedule_does_not_wake_foster(plain_runner):
    foster, _, sock = start_foster(plain_runner, """
        [services.nightly]
        type = "oneshot"
        schedule = "0 3 * * *"
        command = "true"
        """)
    assert status_json(sock)["nightly"]["next_run"] is not None
    pid = foster.pid

    def settled():
        before = ctx_switches(pid)
        time.sleep(0.5)
        return ctx_switches(pid) == before
    wait_until(settled, PROMPT, interval=0, what="foster to go idle")
    before = ctx_switches(pid)
    time.sleep(2.0)
    assert ctx_switches(pid) == before, "foster woke up between scheduled runs"
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()[-2000:]
