"""Service-runner mode: SIGHUP reloads the config — added services start,
removed ones stop, changed ones restart, unchanged ones are left alone; an
invalid file changes nothing and its errors are logged with file:line:col."""
import re
import signal

from helpers import PROMPT, is_alive, wait_until
from svc_helpers import (lines, q, snapshot, start, still_alive, stays_false,
                         write_config)


def service(d, name, extra=""):
    """A service that appends its pid to DIR/NAME.pids and records every
    signal it gets (but SIGKILL) in DIR/NAME.signals, staying alive."""
    body = (f"trap 'echo HUP >> {d}/{name}.signals' HUP; "
            f"trap 'echo INT >> {d}/{name}.signals' INT; "
            f"trap 'echo USR1 >> {d}/{name}.signals' USR1; "
            f"trap 'echo USR2 >> {d}/{name}.signals' USR2; "
            f"trap 'echo TERM >> {d}/{name}.signals; exit 0' TERM; "
            f"echo $$$$ >> {d}/{name}.pids; "
            f"while :; do sleep 0.2; done")
    return f"""
        [services.{name}]
        command = {q(body)}
        {extra}
        """


def pids(d, name):
    return [int(p) for p in lines(d / f"{name}.pids")]


def wait_pids(d, name, n):
    def found():
        p = pids(d, name)
        return p if len(p) >= n else None
    return wait_until(found, PROMPT, what=f"{n} start(s) of {name}")


def test_reload_adds_removes_restarts_and_leaves_alone(plain_runner):
    d = plain_runner.tmp
    foster, cfg = start(plain_runner,
                        service(d, "keep", 'environment = { A = "1" }')
                        + service(d, "change", 'environment = { A = "1" }')
                        + service(d, "gone"))
    keep = wait_pids(d, "keep", 1)[0]
    change = wait_pids(d, "change", 1)[0]
    gone = wait_pids(d, "gone", 1)[0]
    procs = snapshot([keep, change, gone])
    assert len(procs) == 3
    write_config(cfg, service(d, "keep", 'environment = { A = "1" }')
                 + service(d, "change", 'environment = { A = "2" }')
                 + service(d, "new"))
    foster.send(signal.SIGHUP)
    new = wait_pids(d, "new", 1)
    changed = wait_pids(d, "change", 2)
    wait_until(lambda: not is_alive(gone), PROMPT, what="the removed service to stop")
    wait_until(lambda: not is_alive(change), PROMPT, what="the changed service's old run to stop")
    assert changed[1] != changed[0]
    assert is_alive(changed[1]) and is_alive(new[0])
    assert lines(d / "gone.signals") == ["TERM"]
    assert lines(d / "change.signals") == ["TERM"]
    # Unchanged: the same process, never signalled (SIGHUP not passed on).
    assert still_alive({keep: procs[keep]}) == [keep]
    assert pids(d, "keep") == [keep]
    assert lines(d / "keep.signals") == []
    # A second reload of the same file changes nothing at all.
    foster.send(signal.SIGHUP)
    stays_false(lambda: len(pids(d, "new")) > 1 or len(pids(d, "change")) > 2, 0.5,
                "a reload of an unchanged file restarted something")
    assert lines(d / "keep.signals") == [] and lines(d / "new.signals") == []
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()
    assert plain_runner.strays() == []


def test_invalid_reload_changes_nothing_and_logs_where(plain_runner):
    d = plain_runner.tmp
    foster, cfg = start(plain_runner, service(d, "keep") + service(d, "old"))
    keep = wait_pids(d, "keep", 1)[0]
    old = wait_pids(d, "old", 1)[0]
    procs = snapshot([keep, old])
    bad = (service(d, "keep", 'environment = { A = "changed" }')
           + service(d, "added")
           + """
        [services.broken]
        command = "true"
        restart = "sometimes"
        """)
    write_config(cfg, bad)
    bad_line = next(i for i, l in enumerate(open(cfg).read().split("\n"), 1)
                    if "sometimes" in l)
    foster.send(signal.SIGHUP)
    pattern = rf"{re.escape(cfg)}:{bad_line}:\d+: .*"
    wait_until(lambda: re.search(pattern, foster.stderr()), PROMPT,
               what=f"the error at {cfg}:{bad_line}; stderr: {foster.stderr()!r}")
    stays_false(lambda: lines(d / "added.pids"), 0.5, "a service of the invalid file started")
    assert sorted(still_alive(procs)) == sorted(procs), "a running service was stopped"
    assert pids(d, "keep") == [keep] and pids(d, "old") == [old]
    assert lines(d / "keep.signals") == [] and lines(d / "old.signals") == []
    assert foster.running()
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()
