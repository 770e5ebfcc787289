"""Entrypoint mode: signals sent to foster reach PROGRAM (or its group),
rewritten or dropped with -r, and -p asks for a signal when foster's parent
dies."""
import os
import signal

from conftest import PROBE, PYTHON
from helpers import SignalLog, children_of, comm, reap_orphan, wait_until

S = signal.Signals
FORWARDED = [S.SIGHUP, S.SIGINT, S.SIGQUIT, S.SIGUSR1, S.SIGUSR2, S.SIGWINCH,
             S.SIGCONT, S.SIGTERM]
# The rest of foster(1)'s "…" (SIGNALS): every signal but SIGCHLD and the
# synchronous ones (a sender can still kill(2) them, e.g. SIGTTOU).
ALSO_FORWARDED = [S.SIGALRM, S.SIGTSTP, S.SIGTTIN, S.SIGTTOU, S.SIGPIPE,
                  S.SIGXCPU, S.SIGVTALRM, S.SIGPROF, S.SIGURG,
                  signal.SIGRTMIN, signal.SIGRTMIN + 5, signal.SIGRTMAX]


def send_and_wait(foster, sig, *logs):
    """Sends sig to foster and waits until each log has one more record, so
    that standard signals never coalesce in the probe."""
    before = [len(log.records()) for log in logs]
    foster.send(sig)
    for log, n in zip(logs, before):
        log.wait_count(n + 1)


def test_signals_are_forwarded_to_program_only(runner):
    log = SignalLog(runner.path("signals"))
    other = SignalLog(runner.path("signals.groupmate"))
    foster = runner.start([], [PROBE, "signals", log.path, "0", other.path])
    pid, ppid, pgid = log.wait_ready()
    other.wait_ready()
    assert ppid == foster.pid_for_program
    for sig in FORWARDED:
        send_and_wait(foster, sig, log)
    assert log.signals() == FORWARDED
    senders = {r[1] for r in log.records()}
    assert senders == {foster.pid_for_program}, "not sent by foster"
    assert foster.wait() == 0, foster.stderr()
    # Without -g, the other member of PROGRAM's group gets none of them (as a
    # process left behind it may get foster's SIGTERM at the end).
    assert set(other.signals()) <= {S.SIGTERM}, other.signals()


def test_other_signals_are_forwarded_too(runner):
    log = SignalLog(runner.path("signals"))
    foster = runner.start([], [PROBE, "signals", log.path])
    log.wait_ready()
    for sig in ALSO_FORWARDED + [S.SIGTERM]:
        send_and_wait(foster, sig, log)
    assert log.signals() == [int(s) for s in ALSO_FORWARDED + [S.SIGTERM]]
    assert foster.wait() == 0, foster.stderr()


def test_foster_outlives_sigterm_and_sigint_until_program_exits(runner):
    """foster forwards SIGTERM/SIGINT and goes on as long as PROGRAM does."""
    log = SignalLog(runner.path("signals"))
    foster = runner.start([], [PROBE, "signals", log.path, "5"])
    log.wait_ready()
    sent = [S.SIGTERM, S.SIGINT, S.SIGTERM, S.SIGINT, S.SIGUSR1]
    for sig in sent:
        send_and_wait(foster, sig, log)
    assert log.signals() == sent
    assert foster.wait() == 0, foster.stderr()


def test_program_killed_by_forwarded_sigterm_gives_143(runner):
    foster = runner.start([], ["sleep", "100"])
    foster_pid = foster.pid
    wait_until(lambda: any(comm(p) == "sleep" for p in children_of(foster_pid)),
               what="sleep to run")
    foster.send(S.SIGTERM)
    assert foster.wait() == 128 + S.SIGTERM, foster.stderr()


def test_signal_from_program_to_foster_comes_back_to_program(runner):
    """`kill 1` inside a container: PROGRAM signals foster, which forwards
    the signal to PROGRAM like any other."""
    log = SignalLog(runner.path("signals"))
    foster = runner.start([], [PROBE, "kill-parent", str(int(S.SIGTERM)), log.path])
    log.wait_count(1)
    assert log.signals() == [S.SIGTERM]
    assert log.records()[0][1] == foster.pid_for_program, "not sent by foster"
    assert foster.wait() == 0, foster.stderr()


def test_signal_group_forwards_to_the_whole_group(runner):
    log = SignalLog(runner.path("signals"))
    other = SignalLog(runner.path("signals.groupmate"))
    foster = runner.start(["-g"], [PROBE, "signals", log.path, "3", other.path])
    pid, ppid, pgid = log.wait_ready()
    other_pid, other_ppid, other_pgid = other.wait_ready()
    assert other_pgid == pgid and other_ppid == pid
    sent = [S.SIGUSR1, S.SIGWINCH, S.SIGTERM]
    for sig in sent:
        send_and_wait(foster, sig, log, other)
    assert log.signals() == sent
    assert other.signals() == sent
    senders = {r[1] for r in log.records() + other.records()}
    assert senders == {foster.pid_for_program}, "not sent by foster"
    assert foster.wait() == 0, foster.stderr()


def test_rewrite_forwards_one_signal_as_another(runner):
    log = SignalLog(runner.path("signals"))
    foster = runner.start(["-r", "USR1:USR2"], [PROBE, "signals", log.path])
    log.wait_ready()
    send_and_wait(foster, S.SIGUSR1, log)
    send_and_wait(foster, S.SIGTERM, log)
    assert log.signals() == [S.SIGUSR2, S.SIGTERM]
    assert foster.wait() == 0, foster.stderr()


def test_rewrite_to_zero_drops_a_signal(runner):
    log = SignalLog(runner.path("signals"))
    foster = runner.start(["-r", "USR1:0", "--rewrite", "SIGHUP:12"],
                          [PROBE, "signals", log.path])
    log.wait_ready()
    foster.send(S.SIGUSR1)
    # SIGHUP (rewritten to SIGUSR2) is the barrier: foster handles signals in
    # order, so a forwarded SIGUSR1 would be recorded before or with it.
    send_and_wait(foster, S.SIGHUP, log)
    assert log.signals() == [S.SIGUSR2]
    send_and_wait(foster, S.SIGTERM, log)
    assert log.signals() == [S.SIGUSR2, S.SIGTERM]
    assert foster.wait() == 0, foster.stderr()


def test_parent_death_signal(runner):
    """foster's parent dies -> foster gets -p SIG and forwards it. As PID 1
    foster's parent is unshare; as subreaper, a Python wrapper. Orphaned
    foster is re-parented to the test process (a subreaper) and reaped here."""
    log = SignalLog(runner.path("signals"))
    program = [PROBE, "signals", log.path, "1"]
    if runner.mode == "pid1":
        foster = runner.start(["-p", "SIGUSR1"], program)
    else:
        wrapper = [PYTHON, "-c",
                   "import subprocess, sys; subprocess.call(sys.argv[1:])"]
        foster = runner.start(["-p", "SIGUSR1"], program, wrapper=wrapper,
                              parent_wrapper=True)
    log.wait_ready()
    foster_pid = foster.pid
    assert foster.popen.pid != foster_pid
    os.kill(foster.popen.pid, signal.SIGKILL)
    foster.popen.wait()
    log.wait_count(1)
    assert log.signals() == [S.SIGUSR1]
    assert log.records()[0][1] == foster.pid_for_program, "not sent by foster"
    assert reap_orphan(foster_pid) == 0
