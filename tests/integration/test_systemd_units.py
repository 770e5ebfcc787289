"""The unit files in systemd/: `systemd-analyze verify` finds nothing to say
(a bad value is only a warning there, so any output fails the test), and the
settings the rest of foster relies on are there."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import FOSTER

UNITS = Path(__file__).resolve().parent.parent.parent / "systemd"
BUILD = Path(FOSTER).parent


def settings(path):
    out = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^(\w+)=(.*)$", line)
        if m:
            out.setdefault(m.group(1), []).append(m.group(2))
    return out


@pytest.fixture
def units(tmp_path):
    """The unit files with /usr/bin/ pointing at this build (verify checks
    that ExecStart= and ExecReload= are executable)."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze missing (package systemd)")
    for f in list(UNITS.glob("*.service")) + list(UNITS.glob("*.socket")):
        (tmp_path / f.name).write_text(f.read_text().replace("/usr/bin/", f"{BUILD}/"))
    return tmp_path


def test_systemd_analyze_verify_is_clean(units):
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", str(units / "foster.service"),
                        str(units / "foster@example.service"), str(units / "foster.socket")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", (r.stdout, r.stderr)


@pytest.mark.parametrize("name", ["foster.service", "foster@.service"])
def test_units_say_what_foster_relies_on(name):
    s = settings(UNITS / name)
    assert s["Type"] == ["notify"] and s["NotifyAccess"] == ["main"]
    assert s["KillMode"] == ["mixed"], "foster stops its services in order; systemd only sweeps"
    assert s["ExecStart"][0].startswith("/usr/bin/foster -c /etc/foster/")
    assert "fosterctl" in s["ExecReload"][0] and s["ExecReload"][0].endswith(" reload")
    # foster's default shutdown_timeout is 30s: systemd must wait longer.
    stop = re.fullmatch(r"(\d+)s", s["TimeoutStopSec"][0])
    assert stop and int(stop.group(1)) > 30
    assert s["OOMPolicy"] == ["continue"]
    assert s["RuntimeDirectory"] == ["foster"] and s["RuntimeDirectoryPreserve"] == ["yes"]
    assert "WatchdogSec" in s and "Restart" in s


def test_instances_get_a_socket_each():
    s = settings(UNITS / "foster@.service")
    assert "FOSTER_SOCKET=/run/foster/%i.sock" in s["Environment"]
    assert s["ExecReload"] == ["/usr/bin/fosterctl -s /run/foster/%i.sock reload"]


def test_socket_unit_names_what_the_example_config_uses():
    s = settings(UNITS / "foster.socket")
    assert s["Service"] == ["foster.service"]
    assert s["FileDescriptorName"] == ["http"]
    example = (UNITS.parent / "config" / "socket-activation.toml").read_text()
    assert 'listen = "systemd:http"' in example
