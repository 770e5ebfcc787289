"""The "both" mode, `foster -c FILE -- PROGRAM`: the services start first,
PROGRAM once every autostart service is ready; foster exits with PROGRAM's
status after stopping the services; SIGTERM goes to PROGRAM. As PID 1 and as
subreaper."""
import signal

from svc_helpers import (NOTIFY_SERVICE, NOW, exists, q, read_text, script,
                         stamp, start, stays_false, times, trap_service,
                         wait_file)


def test_program_starts_when_services_are_ready_and_sets_the_status(runner, tmp_path):
    d = runner.tmp
    db = script(tmp_path, "notify_service.py", NOTIFY_SERVICE)
    program = ["/bin/sh", "-c",
               f"echo {NOW} > {d}/program.start; "
               f"if [ -e {d}/migrate.done ]; then echo yes; else echo no; fi > {d}/program.saw; "
               f"exit 5"]
    foster, _ = start(runner, f"""
        [services.db]
        command = ["/usr/bin/python3", {q(db)}, {q(d)}, "db"]
        type = "notify"

        [services.migrate]
        command = {q(f"sleep 0.3; touch {d}/migrate.done")}
        type = "oneshot"

        [services.side]
        command = {trap_service(d, "side")}

        [services.later]
        command = {q(f"touch {d}/later.start")}
        autostart = false
        """, program=program)
    wait_file(d / "db.addr")
    stamp(d / "side.start")
    stays_false(lambda: exists(d / "program.start"), 0.6,
                "PROGRAM started before the notify service was ready")
    (d / "db.go").touch()
    assert foster.wait() == 5, foster.stderr()
    assert stamp(d / "program.start", 0) >= stamp(d / "db.ready", 0)
    assert read_text(str(d / "program.saw")) == "yes\n", "PROGRAM started before the oneshot finished"
    assert stamp(d / "side.stop", 0) >= stamp(d / "program.start", 0)
    assert not exists(d / "later.start"), "a service with autostart = false was started"
    if runner.mode == "subreaper":
        assert runner.strays() == [], "services left running after foster exited"


def test_sigterm_goes_to_program_and_services_stop_after_it(runner):
    d = runner.tmp
    program = ["/bin/sh", "-c",
               f"trap 'echo {NOW} > {d}/program.term; sleep 0.3; "
               f"echo {NOW} > {d}/program.exit; kill $! 2>/dev/null; exit 9' TERM; "
               f"sleep 1000 & echo {NOW} > {d}/program.start; wait"]
    foster, _ = start(runner, f"""
        [services.side]
        command = {trap_service(d, "side")}
        """, program=program)
    stamp(d / "program.start")
    stamp(d / "side.start")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 9, foster.stderr()
    assert times(d / "program.term"), "PROGRAM did not get SIGTERM"
    assert stamp(d / "side.stop", 0) >= stamp(d / "program.exit", 0), (
        "the service was stopped before PROGRAM had exited")
    if runner.mode == "subreaper":
        assert runner.strays() == []


def test_services_are_stopped_when_program_exits(runner):
    d = runner.tmp
    foster, _ = start(runner, f"""
        [services.side]
        command = {trap_service(d, "side")}

        [services.tree]
        command = "sleep 1000 & sleep 1000"
        """, program=["/bin/sh", "-c", f"while [ ! -e {d}/side.start ]; do sleep 0.01; done; exit 0"])
    assert foster.wait() == 0, foster.stderr()
    assert times(d / "side.stop"), "the service was not stopped"
    if runner.mode == "subreaper":
        assert runner.strays() == []


def test_fatal_service_with_on_fatal_shutdown_stops_program_and_exits_1(runner):
    d = runner.tmp
    program = ["/bin/sh", "-c",
               f"trap 'echo {NOW} > {d}/program.term; kill $! 2>/dev/null; exit 0' TERM; "
               f"sleep 1000 & echo {NOW} > {d}/program.start; wait"]
    foster, _ = start(runner, f"""
        [services.crash]
        command = {q(f"while [ ! -e {d}/program.start ]; do sleep 0.01; done; exit 1")}
        restart = "always"
        restart_delay = "20ms"
        start_limit_burst = 1
        on_fatal = "shutdown"
        """, program=program)
    assert foster.wait() == 1, foster.stderr()
    assert times(d / "program.term"), "PROGRAM was not stopped"
    if runner.mode == "subreaper":
        assert runner.strays() == []


def test_sighup_goes_to_program_in_combined_mode(runner):
    d = runner.tmp
    program = ["/bin/sh", "-c",
               f"trap 'echo HUP > {d}/program.hup; kill $! 2>/dev/null; exit 4' HUP; "
               f"sleep 1000 & echo {NOW} > {d}/program.start; wait"]
    foster, _ = start(runner, f"""
        [services.side]
        command = {trap_service(d, "side")}
        """, program=program)
    stamp(d / "program.start")
    foster.send(signal.SIGHUP)
    assert foster.wait() == 4, foster.stderr()
    assert read_text(str(d / "program.hup")) == "HUP\n"


def test_sigchld_ignored_by_whoever_started_foster(runner):
    """With SIGCHLD ignored the kernel would reap every child before foster's
    waitid saw it: foster sets its own disposition, so services are seen to
    end and PROGRAM's status still comes through."""
    d = runner.tmp
    foster, _ = start(runner, f"""
        [services.once]
        command = {q(f"touch {d}/once.done")}
        type = "oneshot"
        """, program=["/bin/sh", "-c", f"test -e {d}/once.done && exit 6"],
        preexec=lambda: signal.signal(signal.SIGCHLD, signal.SIG_IGN))
    assert foster.wait() == 6, foster.stderr()
