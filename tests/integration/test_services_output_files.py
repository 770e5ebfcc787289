"""Service-runner mode: `stdout = "/path"` files are opened by the service's
own process, as the service's user, after dropping privileges, and never
through a symlink: a service user who can write to its log directory cannot
make foster (root) create or append to any other file. `stderr = "stdout"`
shares stdout's open file, whatever stdout is; every stdout × stderr
combination points fds 1 and 2 where the config says.

The tests of files opened as `nobody` need root and a `nobody` account."""
import ctypes
import os
import pwd
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

from helpers import PROMPT, descendants, read_stat, wait_until
from svc_helpers import q, start, state_logged, wait_log

KCMP_FILE = 0
SYS_KCMP = 312  # x86_64


def nobody():
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no `nobody` account")


@pytest.fixture
def shared_dir():
    """A directory any user can traverse (pytest's tmp_path is 0700 root)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run a service as another user")
    d = Path(tempfile.mkdtemp(prefix="foster-output-", dir="/tmp"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def log_dir_of(shared, user):
    """A log directory the service's user owns (and so can plant links in)."""
    d = shared / "log"
    d.mkdir()
    os.chown(d, user.pw_uid, user.pw_gid)
    return d


def finish(foster):
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def same_open_file(pid1, fd1, pid2, fd2):
    """kcmp(2): do the two descriptors share one open file description?"""
    libc = ctypes.CDLL(None, use_errno=True)
    r = libc.syscall(SYS_KCMP, pid1, pid2, KCMP_FILE, fd1, fd2)
    assert r >= 0, f"kcmp: {os.strerror(ctypes.get_errno())}"
    return r == 0


def service_pid(foster, comm):
    """The pid of foster's descendant whose command name is comm."""
    def find():
        for p in descendants(foster.pid):
            try:
                if Path(f"/proc/{p}/comm").read_text().strip() == comm and read_stat(p)[0] != "Z":
                    return p
            except OSError:
                pass
        return None
    return wait_until(find, PROMPT, what=f"a {comm} process under foster")


def test_symlink_planted_in_the_log_directory_is_not_followed(plain_runner, shared_dir):
    user = nobody()
    secret = shared_dir / "root-only"
    secret.write_text("root only\n")
    secret.chmod(0o600)
    logs = log_dir_of(shared_dir, user)
    (logs / "out.log").symlink_to(secret)
    (logs / "err.log").symlink_to(secret)
    (logs / "new.log").symlink_to(shared_dir / "created-by-foster")
    foster, _ = start(plain_runner, f"""
        [services.viaout]
        command = "echo written through stdout"
        user = "nobody"
        stdout = {q(logs / "out.log")}
        restart = "no"

        [services.viaerr]
        command = "echo written through stderr >&2"
        user = "nobody"
        stderr = {q(logs / "err.log")}
        restart = "no"

        [services.create]
        command = "echo created"
        user = "nobody"
        stdout = {q(logs / "new.log")}
        restart = "no"
        """)
    for name in ("viaout", "viaerr", "create"):
        wait_log(foster, state_logged(name, "fatal"))
    err = foster.stderr()
    assert f"viaout: cannot open {logs}/out.log: " in err, err
    assert f"viaerr: cannot open {logs}/err.log: " in err, err
    assert f"create: cannot open {logs}/new.log: " in err, err
    finish(foster)
    assert secret.read_text() == "root only\n"
    assert secret.stat().st_uid == 0 and (secret.stat().st_mode & 0o777) == 0o600
    assert not (shared_dir / "created-by-foster").exists()


def test_output_file_is_created_by_the_service_user_and_shared_with_stderr(plain_runner, shared_dir):
    user = nobody()
    logs = log_dir_of(shared_dir, user)
    out = logs / "service.log"
    foster, _ = start(plain_runner, f"""
        [services.writer]
        command = "echo out-line; echo err-line >&2; exec sleep 1000"
        user = "nobody"
        stdout = {q(out)}
        stderr = "stdout"
        stop_timeout = "2s"
        """)
    pid = service_pid(foster, "sleep")
    wait_until(lambda: out.exists() and out.read_text() == "out-line\nerr-line\n", PROMPT,
               what=f"both lines in {out}")
    assert out.stat().st_uid == user.pw_uid
    assert os.readlink(f"/proc/{pid}/fd/1") == str(out)
    assert same_open_file(pid, 1, pid, 2), "stderr = \"stdout\" should share stdout's open file"
    finish(foster)


STDOUT_KINDS = ["inherit", "null", "prefix", "file"]
STDERR_KINDS = ["inherit", "null", "prefix", "file", "stdout"]


def check_slot(pid, slot, kind, foster_pid, path):
    """Where fd `slot` of the service points, for `kind` (not "stdout")."""
    target = os.readlink(f"/proc/{pid}/fd/{slot}")
    if kind == "inherit":
        return same_open_file(pid, slot, foster_pid, slot), f"fd {slot} -> {target}, not foster's fd {slot}"
    if kind == "null":
        return target == "/dev/null", f"fd {slot} -> {target}"
    if kind == "prefix":
        return target.startswith("pipe:"), f"fd {slot} -> {target}"
    return target == str(path), f"fd {slot} -> {target}, not {path}"


def test_every_stdout_stderr_combination(plain_runner, tmp_path):
    """Each of stdout × stderr in one foster: fds 1 and 2 of each service
    point where the config says; stderr = "stdout" is a copy of fd 1 (the
    same open file) whatever stdout is, `inherit` included."""
    from ctl_helpers import start_foster, status_json
    tables = []
    for o in STDOUT_KINDS:
        for e in STDERR_KINDS:
            name = f"{o}-{e}"
            out = q(tmp_path / f"{name}.out") if o == "file" else q(o)
            err = q(tmp_path / f"{name}.err") if e == "file" else q(e)
            tables.append(f"""
                [services.{name}]
                command = ["/bin/sleep", "1000"]
                stdout = {out}
                stderr = {err}
                stop_timeout = "2s"
                """)
    foster, _, sock = start_foster(plain_runner, "".join(tables))

    def pids():
        got = {name: s["pid"] for name, s in status_json(sock).items() if s["state"] == "running"}
        return got if len(got) == len(STDOUT_KINDS) * len(STDERR_KINDS) else None
    by_name = wait_until(pids, PROMPT, what="every service running")
    wrong = []
    for o in STDOUT_KINDS:
        for e in STDERR_KINDS:
            name = f"{o}-{e}"
            pid = by_name[name]
            ok, why = check_slot(pid, 1, o, foster.pid, tmp_path / f"{name}.out")
            if not ok:
                wrong.append(f"{name}: {why}")
            if e == "stdout":
                ok, why = same_open_file(pid, 1, pid, 2), "fd 2 is not a copy of fd 1"
            else:
                ok, why = check_slot(pid, 2, e, foster.pid, tmp_path / f"{name}.err")
                if ok and e == "prefix" and o == "prefix":
                    ok, why = not same_open_file(pid, 1, pid, 2), "stdout and stderr share one prefix pipe"
            if not ok:
                wrong.append(f"{name}: {why}")
    assert not wrong, "\n".join(wrong)
    finish(foster)


def test_stderr_follows_inherited_stdout(plain_runner):
    """What arrives where: stderr = "stdout" with stdout inherited lands on
    foster's stdout, not its stderr."""
    foster, _ = start(plain_runner, """
        [services.both]
        command = "echo to-stdout; echo to-stderr >&2"
        stderr = "stdout"
        restart = "no"
        """)
    wait_log(foster, state_logged("both", "exited"))
    finish(foster)
    assert "to-stdout\nto-stderr\n" in foster.stdout()
    assert "to-stderr" not in foster.stderr()


def test_missing_dev_null_is_a_clear_error_at_start(plain_runner):
    """Without /dev/null (an empty /dev in a mount namespace of its own)
    foster refuses to start, rather than giving services its own fds."""
    if os.geteuid() != 0:
        pytest.skip("needs root for a mount namespace")
    wrapper = ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
               'mount -t tmpfs none /dev && exec "$@"', "sh"]
    foster, _ = start(plain_runner, """
        [services.quiet]
        command = ["/bin/sleep", "1000"]
        stdout = "null"
        """, wrapper=wrapper)
    assert foster.wait() == 1, foster.stderr()
    assert "cannot open /dev/null: No such file or directory" in foster.stderr()
