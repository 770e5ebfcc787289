"""foster and fosterctl pick the default control socket by the same uid, the
effective one: it owns the socket, it is what SO_PEERCRED reports of a
client, and it decides whether /run is writable. Checked with both started
with real uid root and effective uid nobody (the two differ)."""
import os
import pwd
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

from ctl_helpers import BASE_ENV, ctl
from helpers import PROMPT, sanitized, wait_until


def copy_binaries_for(owner, into):
    """foster (with the full build it hands over to) and fosterctl, copied
    where `owner` can run them: the checkout may sit in a directory nobody
    else can enter (a clone in root's home)."""
    import conftest
    from ctl_helpers import FOSTERCTL
    build = Path(conftest.FOSTER).parent
    copies = {}
    for rel in ("foster", "libexec/foster", "fosterctl"):
        source = Path(FOSTERCTL) if rel == "fosterctl" else build / rel
        if not source.exists():
            continue
        target = into / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        os.chown(target.parent, owner.pw_uid, owner.pw_gid)
        copies[rel] = str(target)
    return copies


def test_default_socket_follows_the_effective_uid(plain_runner, monkeypatch):
    # Real and effective uids apart make exec "secure": the process is not
    # dumpable and ignores ASAN_OPTIONS, so LeakSanitizer cannot scan it and
    # fails every exit. The release suite runs this test.
    from ctl_helpers import FOSTERCTL
    if sanitized(FOSTERCTL):
        pytest.skip("LeakSanitizer cannot run with real and effective uids apart")
    if os.geteuid() != 0:
        pytest.skip("needs root to run with real and effective uids apart")
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no `nobody` account")
    runtime = Path(tempfile.mkdtemp(prefix="foster-xdg-", dir="/tmp"))
    try:
        os.chown(runtime, nobody.pw_uid, nobody.pw_gid)
        config = runtime / "foster.toml"
        config.write_text('[services.idle]\ncommand = ["/bin/sleep", "1000"]\nstop_timeout = "2s"\n')
        config.chmod(0o644)
        env = {k: v for k, v in BASE_ENV.items() if k not in ("XDG_RUNTIME_DIR",)}
        env["XDG_RUNTIME_DIR"] = str(runtime)


        def as_nobody():
            os.setresuid(0, nobody.pw_uid, nobody.pw_uid)

        import conftest
        copies = copy_binaries_for(nobody, runtime / "bin")
        monkeypatch.setattr(conftest, "FOSTER", copies["foster"])

        foster = plain_runner.start(["-c", str(config)], env=env, preexec=as_nobody)
        sock = runtime / "foster.sock"
        wait_until(lambda: sock.exists() or not foster.running(), PROMPT,
                   what="foster's socket in $XDG_RUNTIME_DIR")
        assert sock.exists(), f"no socket at {sock}: {foster.stderr()[-1000:]!r}"
        r = ctl(None, "status", env=env, preexec_fn=as_nobody, fosterctl=copies["fosterctl"])
        assert r.returncode == 0, (r.returncode, r.stderr)
        assert "idle" in r.stdout
        foster.send(signal.SIGTERM)
        assert foster.wait() == 0, foster.stderr()[-1000:]
    finally:
        shutil.rmtree(runtime, ignore_errors=True)
