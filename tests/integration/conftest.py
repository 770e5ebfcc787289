"""Fixtures for the integration tests: the binaries, the two ways foster runs
(PID 1 of a new PID namespace, subreaper), and a runner that starts foster,
resolves its pid and cleans up every process a test started.

The test process makes itself a child subreaper, so that a process orphaned by
a test (for instance when foster has to be killed) is re-parented to it and
reaped at teardown, instead of lingering as a zombie under the host's init.
"""
import ctypes
import fcntl
import os
import signal
import subprocess
import termios
import time
from pathlib import Path

import pytest

from helpers import (PROMPT, children_of, descendants, kill_if_same,
                     read_stat, wait_until)

HERE = Path(__file__).resolve().parent


def _binary(var, default):
    path = os.environ.get(var)
    if not path:
        build = os.environ.get("BUILD_DIR", str(HERE.parent.parent / "build"))
        path = str(Path(build) / default)
    return path


FOSTER = _binary("FOSTER", "foster")
PROBE = _binary("PROBE", "tests/probe")
PYTHON = "/usr/bin/python3"
UNSHARE = ["unshare", "--pid", "--fork", "--mount-proc"]
PR_SET_CHILD_SUBREAPER = 36
_SESSION_START = None


def pytest_configure(config):
    global _SESSION_START
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    _SESSION_START = read_stat(os.getpid())[3]


# CI (CI=true) runs as root on a machine that packaging/deps.sh set up: what a
# developer's machine may lack (a PID namespace, systemd-notify) is there, so
# a test that would skip for want of it fails instead of vanishing quietly.
IN_CI = os.environ.get("CI") == "true"


def skip_unless_in_ci(reason):
    """Skips the test for want of `reason`, but fails it in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI has to provide it: packaging/deps.sh, root)")
    pytest.skip(reason)


def _unshare_error():
    """Why `unshare --pid --fork --mount-proc` cannot run here, or None."""
    try:
        r = subprocess.run(UNSHARE + ["true"], timeout=10, capture_output=True, text=True)
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    if r.returncode == 0:
        return None
    return r.stderr.strip() or f"exit status {r.returncode}"


@pytest.fixture(scope="session")
def binaries():
    for path in (FOSTER, PROBE):
        assert os.access(path, os.X_OK), f"{path} is not built"
    return FOSTER, PROBE


_UNSHARE_ERROR = ...   # not yet tried


@pytest.fixture(params=["pid1", "subreaper"])
def mode(request):
    """pid1: foster is PID 1 of a new PID namespace (unshare); subreaper:
    foster runs as a plain child of the test and must make itself a
    subreaper."""
    global _UNSHARE_ERROR
    if request.param == "pid1":
        if _UNSHARE_ERROR is ...:
            _UNSHARE_ERROR = _unshare_error()
        if _UNSHARE_ERROR:
            skip_unless_in_ci(f"cannot create a PID namespace here: {_UNSHARE_ERROR}")
    return request.param


@pytest.fixture(params=["autoreap", "waitid"])
def reaping_env(request):
    """How foster reaps while PROGRAM runs: the kernel does (autoreap, on Linux
    6.15 and later; elsewhere foster falls back to waitid by itself), or foster
    does with waitid (FOSTER_AUTOREAP=0). The environment for runner.start."""
    if request.param == "waitid":
        return {**os.environ, "FOSTER_AUTOREAP": "0"}
    return None


def reset_signals():
    """Every disposition default, no signal blocked: the known state foster
    starts in, whatever the test process inherited (a shell's `cmd &` starts
    it with SIGINT and SIGQUIT ignored, for instance). A test's own preexec
    runs after this."""
    for sig in range(1, signal.NSIG):
        if sig in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):
            pass   # the few that glibc reserves
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


class Foster:
    """One started foster (possibly behind unshare or a wrapper)."""

    def __init__(self, runner, popen, parent_wrapper, out_path, err_path):
        self.runner = runner
        self.popen = popen
        self.parent_wrapper = parent_wrapper
        self.out_path = out_path
        self.err_path = err_path
        self._pid = None
        self._starttime = None

    @property
    def pid(self):
        """foster's pid as the test sees it (host PID namespace)."""
        if self._pid is None:
            pid = self.popen.pid
            hops = (self.runner.mode == "pid1") + bool(self.parent_wrapper)
            for _ in range(hops):
                parent = pid
                pid = wait_until(lambda: children_of(parent), PROMPT,
                                 what=f"the child of {parent} (foster)")[0]
            self._pid = pid
            self._starttime = read_stat(pid)[3]
        return self._pid

    @property
    def pid_for_program(self):
        """foster's pid as PROGRAM sees it."""
        return 1 if self.runner.mode == "pid1" else self.pid

    def send(self, sig):
        os.kill(self.pid, sig)

    def running(self):
        return self.popen.poll() is None

    def wait(self, timeout=PROMPT):
        """The exit status of the started command (unshare passes foster's
        on); fails the test if it does not exit within timeout."""
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"foster did not exit within {timeout}s; stderr: {self.stderr()!r}")

    def stdout(self):
        return Path(self.out_path).read_text(errors="replace") if self.out_path else ""

    def stderr(self):
        return Path(self.err_path).read_text(errors="replace") if self.err_path else ""

    def kill_everything(self):
        """SIGKILL foster's descendants, foster and the command around it."""
        if self._pid is not None:
            for p in descendants(self._pid):
                st = read_stat(p)
                if st:
                    kill_if_same(p, st[3])
            kill_if_same(self._pid, self._starttime)
        if self.popen.poll() is None:
            for p in descendants(self.popen.pid):
                st = read_stat(p)
                if st:
                    kill_if_same(p, st[3])
            self.popen.kill()
        self.popen.wait()


class Runner:
    """Starts foster in the mode of the test, and cleans up after it."""

    def __init__(self, mode, tmp_path):
        self.mode = mode
        self.tmp = tmp_path
        self.started = []
        self.count = 0
        # Children the test process had before this test (none, normally):
        # never counted as strays of this test, never killed by it.
        self.preexisting = set(children_of(os.getpid()))

    def path(self, name):
        return str(self.tmp / name)

    def command(self, foster_args=(), program=None, *, direct=False,
                wrapper=()):
        """argv: [unshare ...] [wrapper ...] foster ARGS -- PROGRAM.
        direct: the same without foster, as a baseline."""
        prefix = UNSHARE if self.mode == "pid1" else []
        if direct:
            return prefix + list(wrapper) + list(program)
        cmd = prefix + list(wrapper) + [FOSTER] + list(foster_args)
        if program is not None:
            cmd += ["--"] + list(program)
        return cmd

    def start(self, foster_args=(), program=None, *, direct=False, wrapper=(),
              parent_wrapper=False, stdin=subprocess.DEVNULL, stdout=None,
              stderr=None, fds=None, preexec=None, env=None, cwd=None,
              ctty=False, new_session=False):
        """Starts foster. stdout/stderr default to files (read them with
        .stdout()/.stderr()), so no leftover can make the test block on a
        pipe. fds {target: source} places descriptors at exact numbers.
        parent_wrapper: the wrapper stays foster's parent (does not exec).
        ctty: in a session of its own whose controlling terminal is stdin;
        new_session: in a session of its own without a terminal, whatever
        the test process has."""
        self.count += 1
        out_path = err_path = None
        opened = []
        if stdout is None:
            out_path = self.path(f"foster{self.count}.out")
            stdout = open(out_path, "wb")
            opened.append(stdout)
        if stderr is None:
            err_path = self.path(f"foster{self.count}.err")
            stderr = open(err_path, "wb")
            opened.append(stderr)
        fds = dict(fds or {})

        def child_setup():
            reset_signals()
            if ctty:
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)
            for target, source in fds.items():
                if target != source:
                    os.dup2(source, target)
            if preexec:
                preexec()

        cmd = self.command(foster_args, program, direct=direct, wrapper=wrapper)
        popen = subprocess.Popen(
            cmd, stdin=stdin, stdout=stdout, stderr=stderr,
            pass_fds=tuple(fds), preexec_fn=child_setup, env=env, cwd=cwd,
            start_new_session=ctty or new_session,
            process_group=None if ctty or new_session else 0)
        for f in opened:
            f.close()
        foster = Foster(self, popen, parent_wrapper, out_path, err_path)
        self.started.append(foster)
        return foster

    def run(self, foster_args=(), program=None, timeout=PROMPT, **kwargs):
        """Starts foster and waits for it: (status, stdout, stderr)."""
        foster = self.start(foster_args, program, **kwargs)
        status = foster.wait(timeout)
        return status, foster.stdout(), foster.stderr()

    def strays(self):
        """Processes re-parented to the test process: what foster left behind
        when it exited (the test process is a subreaper)."""
        ours = {f.popen.pid for f in self.started} | self.preexisting
        return [p for p in children_of(os.getpid()) if p not in ours]

    def cleanup(self):
        for foster in self.started:
            foster.kill_everything()
        reap_strays(self.preexisting)


def reap_strays(preexisting=frozenset()):
    """Kills and reaps processes re-parented to the test process (it is a
    subreaper): only descendants of what the test started end up here."""
    me = os.getpid()
    deadline = time.monotonic() + PROMPT
    while time.monotonic() < deadline:
        strays = [p for p in children_of(me) if p not in preexisting]
        if not strays:
            return
        for pid in strays:
            st = read_stat(pid)
            if st and st[3] >= _SESSION_START:
                kill_if_same(pid, st[3])
                try:
                    os.waitpid(pid, 0)
                except ChildProcessError:
                    pass
        time.sleep(0.01)


@pytest.fixture
def runner(mode, tmp_path, binaries):
    r = Runner(mode, tmp_path)
    yield r
    r.cleanup()


@pytest.fixture
def plain_runner(tmp_path, binaries):
    """A runner for tests that need no PID namespace (command-line checks)."""
    r = Runner("subreaper", tmp_path)
    yield r
    r.cleanup()


@pytest.fixture
def probe(binaries):
    return PROBE
