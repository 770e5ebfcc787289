"""Service-runner mode: readiness (simple, oneshot, notify) gates the start of
the services that depend on it."""
import random
import shutil
import signal

import pytest

from conftest import skip_unless_in_ci
from helpers import PROMPT, wait_until
from svc_helpers import (NOTIFY_SERVICE, STRANGER, NOW, exists, lines, q,
                         read_text, script, send_notify, stamp, start,
                         state_logged, stays_false, wait_file, wait_log)


def test_simple_dependent_starts_after_its_dependency_was_executed(plain_runner):
    """web starts once db's exec succeeded: by then db's /proc cmdline is the
    program it runs (a unique sleep duration), not foster's."""
    d = plain_runner.tmp
    marker = f"{random.randint(100000, 999999)}.5"
    # One grep over every cmdline (not a process per /proc entry: slow under
    # load); the bracket keeps grep's own cmdline from matching.
    pattern = f"[{marker[0]}]{marker[1:]}"
    web = (f"grep -a -l -e '{pattern}' /proc/[0-9]*/cmdline "
           f"> {d}/web.procs 2>/dev/null; echo done > {d}/web.saw; exec sleep 1000")
    foster, _ = start(plain_runner, f"""
        [services.db]
        command = ["sleep", {q(marker)}]

        [services.web]
        command = {q(web)}
        depends_on = ["db"]
        """)
    wait_file(d / "web.saw")
    procs = read_text(str(d / "web.procs")).split()
    assert len(procs) == 1, f"web started before db was executed (cmdlines naming {marker}: {procs})"
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_dependent_of_a_service_that_cannot_be_executed_never_starts(plain_runner):
    d = plain_runner.tmp
    foster, _ = start(plain_runner, f"""
        [services.db]
        command = ["/nonexistent/db"]

        [services.web]
        command = {q(f"touch {d}/web.start; exec sleep 1000")}
        depends_on = ["db"]
        """)
    wait_log(foster, state_logged("db", "fatal"))
    stays_false(lambda: exists(d / "web.start"), 0.5, "web started although db never ran")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_oneshot_dependent_starts_only_after_it_exited_successfully(plain_runner):
    d = plain_runner.tmp
    foster, _ = start(plain_runner, f"""
        [services.migrate]
        command = {q(f"sleep 0.4; echo {NOW} > {d}/migrate.done")}
        type = "oneshot"

        [services.web]
        command = {q(f"echo {NOW} > {d}/web.start; "
                     f"if [ -e {d}/migrate.done ]; then echo yes; else echo no; fi > {d}/web.saw; "
                     f"exec sleep 1000")}
        depends_on = ["migrate"]
        """)
    started = stamp(d / "web.start")
    saw = wait_until(lambda: lines(d / "web.saw"), PROMPT, what="web's look at migrate.done")
    assert saw == ["yes"], "web started before migrate exited"
    assert started >= stamp(d / "migrate.done")
    # The oneshot ends `exited` and is not restarted: it stays done.
    wait_log(foster, state_logged("migrate", "exited"))
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


@pytest.mark.parametrize("restart", ["no", "on-failure"])
def test_dependent_of_a_failed_oneshot_never_starts(plain_runner, restart):
    d = plain_runner.tmp
    foster, _ = start(plain_runner, f"""
        [services.migrate]
        command = {q(f"echo run >> {d}/migrate.runs; exit 1")}
        type = "oneshot"
        restart = {q(restart)}
        restart_delay = "20ms"
        start_limit_burst = 2

        [services.web]
        command = {q(f"touch {d}/web.start; exec sleep 1000")}
        depends_on = ["migrate"]
        """)
    wait_log(foster, state_logged("migrate", "exited" if restart == "no" else "fatal"))
    stays_false(lambda: exists(d / "web.start"), 0.5, "web started although migrate failed")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def notify_config(d, db_command, stranger=None):
    text = f"""
        [services.db]
        command = {db_command}
        type = "notify"

        [services.web]
        command = {q(f"echo {NOW} > {d}/web.start; exec sleep 1000")}
        depends_on = ["db"]
        """
    if stranger:
        text += f"""
        [services.stranger]
        command = {stranger}
        """
    return text


def test_notify_dependent_waits_for_ready_and_ignores_strangers(plain_runner, tmp_path):
    d = plain_runner.tmp
    db = script(tmp_path, "notify_service.py", NOTIFY_SERVICE)
    stranger = script(tmp_path, "stranger.py", STRANGER)
    foster, _ = start(plain_runner, notify_config(
        d, q_list(["/usr/bin/python3", db, str(d), "db"]),
        stranger=q_list(["/usr/bin/python3", stranger, str(d), "db"])))
    wait_file(d / "db.addr")
    addr = read_text(str(d / "db.addr"))
    assert addr.startswith("@") or addr.startswith("/"), f"NOTIFY_SOCKET={addr!r}"
    # Another service sends READY=1 to db's socket: not db's readiness.
    wait_file(d / "stranger.sent")
    stays_false(lambda: exists(d / "web.start"), 0.6,
                "web started after a READY=1 from another service")
    # So does a process that is not a service at all (this test).
    send_notify(addr, b"READY=1")
    stays_false(lambda: exists(d / "web.start"), 0.4,
                "web started after a READY=1 from a process outside foster")
    assert not exists(d / "db.ready")
    (d / "db.go").touch()
    web_started = stamp(d / "web.start")
    assert web_started >= stamp(d / "db.ready")
    wait_log(foster, state_logged("db", "running"))
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_notify_ready_from_systemd_notify_in_the_service(plain_runner):
    """The documented way for a shell service: `systemd-notify --ready`, a
    child process of the service's main process. (packaging/deps.sh installs
    it, with the package systemd: in CI a missing one fails the test.)"""
    if shutil.which("systemd-notify") is None:
        skip_unless_in_ci("systemd-notify is not installed (Debian: apt-get install systemd)")
    d = plain_runner.tmp
    db = q(f"echo $NOTIFY_SOCKET > {d}/db.addr; "
           f"while [ ! -e {d}/db.go ]; do sleep 0.01; done; "
           f"echo {NOW} > {d}/db.ready; systemd-notify --ready; exec sleep 1000")
    foster, _ = start(plain_runner, notify_config(d, db))
    wait_file(d / "db.addr")
    stays_false(lambda: exists(d / "web.start"), 0.5, "web started before db was ready")
    (d / "db.go").touch()
    assert stamp(d / "web.start") >= stamp(d / "db.ready")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def q_list(items):
    return "[" + ", ".join(q(i) for i in items) + "]"


@pytest.mark.parametrize("mode", ["pid1"], indirect=True)
def test_notify_works_for_two_fosters_as_pid1_sharing_a_network_namespace(runner, tmp_path):
    """Two containers of one pod (or `docker run --network=container:...`):
    each foster is PID 1 of its own PID namespace, and both share one network
    namespace, where abstract socket names are shared too. Each must still
    get its notify service's READY=1."""
    db = script(tmp_path, "notify_service.py", NOTIFY_SERVICE)
    fosters = []
    for name in ("a", "b"):
        d = tmp_path / name
        d.mkdir()
        (d / "db.go").touch()   # READY=1 as soon as it starts
        foster, _ = start(runner, f"""
            [services.db]
            command = ["/usr/bin/python3", {q(db)}, {q(d)}, "db"]
            type = "notify"

            [services.web]
            command = {q(f"echo {NOW} > {d}/web.start; exec sleep 1000")}
            depends_on = ["db"]
            """, name=f"{name}.toml")
        wait_file(d / "db.ready")
        fosters.append(foster)
    for name, foster in zip(("a", "b"), fosters):
        assert foster.running(), foster.stderr()
        try:
            stamp(tmp_path / name / "web.start", 5)
        except AssertionError:
            raise AssertionError(f"foster {name}'s notify service was never ready; "
                                 f"stderr: {foster.stderr()!r}") from None
    for foster in fosters:
        foster.send(signal.SIGTERM)
        assert foster.wait() == 0, foster.stderr()
