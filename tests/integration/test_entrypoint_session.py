"""PROGRAM's session: foster's own, in a process group of its own, with or
without a controlling terminal (docs/DESIGN.md, "PROGRAM's session": a
session of its own was tried and measured, and made no signal faster)."""
import os
import signal

from conftest import PROBE
from helpers import children_of, stat_fields, wait_report, wait_until


def pgrp_and_session(pid):
    fields = stat_fields(pid)   # field 3 (state) on: pgrp is field 5, session field 6
    return int(fields[2]), int(fields[3])


def program_of(foster, report_path):
    """PROGRAM's host pid, once its report says it runs."""
    wait_report(report_path)
    return wait_until(lambda: children_of(foster.pid), what="PROGRAM")[0]


def stop(foster):
    foster.send(signal.SIGTERM)   # forwarded: the probe exits 0, then foster
    assert foster.wait() == 0, foster.stderr()


def test_without_a_terminal_program_stays_in_fosters_session(runner):
    path = runner.path("report")
    foster = runner.start([], [PROBE, "report", path, "hold"], new_session=True)
    program = program_of(foster, path)
    assert pgrp_and_session(program) == (program, pgrp_and_session(foster.pid)[1])
    stop(foster)


def test_with_a_controlling_terminal_program_stays_in_fosters_session(runner):
    """The terminal is foster's controlling terminal but none of its
    descriptors 0-2 (a job started with everything redirected): PROGRAM keeps
    the terminal it could open as /dev/tty."""
    master, slave = os.openpty()
    devnull = os.open(os.devnull, os.O_RDONLY)
    path = runner.path("report")
    try:
        foster = runner.start([], [PROBE, "report", path, "hold"], stdin=slave, ctty=True,
                              preexec=lambda: os.dup2(devnull, 0))
        program = program_of(foster, path)
        assert pgrp_and_session(program) == (program, pgrp_and_session(foster.pid)[1])
        assert int(stat_fields(program)[4]) != 0, "PROGRAM has no controlling terminal"
        stop(foster)
    finally:
        os.close(devnull)
        os.close(slave)
        os.close(master)
