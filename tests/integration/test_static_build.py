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


def test_version_says_which_build():
    out = subprocess.run([FOSTER_STATIC, "-V"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("foster ") and "static build: no systemd support" in out, out
    out = subprocess.run([FOSTER, "-V"], capture_output=True, text=True, check=True).stdout
    assert "libsystemd.so.0 loaded when needed" in out, out


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
