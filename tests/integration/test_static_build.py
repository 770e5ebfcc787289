"""foster-static, the single-file build for images: it runs without glibc's
shared NSS modules and says plainly what it cannot do."""
import os
import subprocess
from pathlib import Path

import pytest

from conftest import FOSTER

FOSTER_STATIC = os.environ.get("FOSTER_STATIC_BIN") or str(Path(FOSTER).with_name("foster-static"))

pytestmark = pytest.mark.skipif(not os.access(FOSTER_STATIC, os.X_OK), reason=f"{FOSTER_STATIC} is not built")


def check(tmp_path, text):
    cfg = tmp_path / "foster.toml"
    cfg.write_text(text)
    return subprocess.run([FOSTER_STATIC, "--check", "-c", str(cfg)], capture_output=True, text=True, timeout=30)


def test_it_is_static():
    out = subprocess.run(["readelf", "-lW", FOSTER_STATIC], capture_output=True, text=True, check=True).stdout
    assert "INTERP" not in out


FULL = Path(FOSTER).parent / "libexec" / "foster"


@pytest.mark.skipif(not FULL.exists(), reason="no full build (FOSTER_STATIC=OFF or sanitizers)")
def test_the_full_build_loads_glibc_and_nothing_else():
    """Every shared library the service runner needs is loaded at each start and
    counted in its PSS (libm alone was ~180 KiB of it, for one call of round())."""
    comment = subprocess.run(["readelf", "-p", ".comment", str(FULL)], capture_output=True, text=True).stdout
    if "LLD" not in comment:
        pytest.skip("linked by GNU ld, which keeps libm for a reference in code it drops (CMakeLists.txt)")
    out = subprocess.run(["readelf", "-d", str(FULL)], capture_output=True, text=True, check=True).stdout
    needed = [line.split("[")[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line]
    assert needed and all(n == "libc.so.6" or n.startswith("ld-linux") for n in needed), needed


def version(binary):
    return subprocess.run([str(binary), "-V"], capture_output=True, text=True, check=True).stdout


def test_version_says_which_build():
    assert "static build: no systemd support" in version(FOSTER_STATIC)
    if FULL.exists():
        assert "libsystemd.so.0 loaded when needed" in version(FULL)
        assert f"the service runner and systemd support run {FULL}" in version(FOSTER)
    else:   # FOSTER_STATIC=OFF, sanitizers: foster is the full build itself
        assert "libsystemd.so.0 loaded when needed" in version(FOSTER)


def run_and_look_at_exe(argv, tmp_path, env=None):
    """Starts argv, waits for a control socket or a pid file, returns the
    executable /proc says foster runs, then stops it."""
    env = dict(os.environ if env is None else env, FOSTER_SOCKET=str(tmp_path / "ctl.sock"))
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        from helpers import wait_until
        wait_until(lambda: (tmp_path / "ctl.sock").exists() or (tmp_path / "pid").exists(), 10)
        return os.readlink(f"/proc/{p.pid}/exe")
    finally:
        p.terminate()
        p.communicate(timeout=10)


@pytest.mark.skipif(not FULL.exists(), reason="no full build (FOSTER_STATIC=OFF or sanitizers)")
def test_service_runner_hands_over_to_the_full_build_and_the_entrypoint_does_not(tmp_path):
    cfg = tmp_path / "foster.toml"
    cfg.write_text('[services.a]\ncommand = ["sleep", "1000"]\n')
    assert run_and_look_at_exe([FOSTER, "-c", str(cfg)], tmp_path) == str(FULL.resolve())
    (tmp_path / "ctl.sock").unlink(missing_ok=True)
    exe = run_and_look_at_exe([FOSTER, "--", "sh", "-c", f"echo $$ > {tmp_path}/pid; exec sleep 1000"], tmp_path)
    assert exe == str(Path(FOSTER).resolve())
    # foster-static never hands over.
    (tmp_path / "pid").unlink()
    assert run_and_look_at_exe([FOSTER_STATIC, "-c", str(cfg)], tmp_path) == str(Path(FOSTER_STATIC).resolve())


@pytest.mark.skipif(not FULL.exists(), reason="no full build (FOSTER_STATIC=OFF or sanitizers)")
def test_without_the_full_build_foster_runs_services_by_itself(tmp_path):
    """An image that holds only the static foster: the service runner works,
    without systemd support."""
    import shutil
    lone = tmp_path / "bin" / "foster"
    lone.parent.mkdir()
    shutil.copy(FOSTER, lone)
    cfg = tmp_path / "foster.toml"
    cfg.write_text('[services.a]\ncommand = ["sleep", "1000"]\n')
    if any(Path(p).exists() for p in ("/usr/local/libexec/foster/foster", "/usr/libexec/foster/foster")):
        pytest.skip("a full build is installed at a libexec path foster looks at")
    assert run_and_look_at_exe([str(lone), "-c", str(cfg)], tmp_path) == str(lone)


def test_unknown_user_is_a_config_error_not_a_crash(tmp_path):
    """With nsswitch.conf's "files systemd" (Debian's default) a static glibc
    would dlopen libnss_systemd for a name missing from /etc/passwd and crash."""
    r = check(tmp_path, '[services.a]\ncommand = ["true"]\nuser = "no-such-user-here"\n')
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "3:8: service 'a': unknown user 'no-such-user-here'" in r.stderr, r.stderr


def test_numeric_user_without_an_entry_is_accepted(tmp_path):
    r = check(tmp_path, '[services.a]\ncommand = ["true"]\nuser = 48213\ngroup = "48213"\n')
    assert r.returncode == 0, (r.returncode, r.stderr)


def test_user_from_etc_passwd_resolves(tmp_path):
    r = check(tmp_path, '[services.a]\ncommand = ["true"]\nuser = "root"\n')
    assert r.returncode == 0, (r.returncode, r.stderr)
