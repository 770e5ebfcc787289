"""foster under a real systemd: `systemctl start/reload/stop` of the shipped
systemd/foster.service, with systemd booted as PID 1 of a new PID and mount
namespace.

systemd there sees none of the host's units (nor the host's /sys/fs/cgroup): /usr/lib/systemd/system and
/etc/systemd/system are scratch directories holding only foster.service (with
a drop-in pointing ExecStart=/ExecReload= at this build and this test's
config, and DefaultDependencies=no, as there is no sysinit.target), the
journal's units and an empty target to boot into. So nothing the host's
systemd configuration would do at boot (tmpfiles cleaning /tmp, sysusers,
...) can happen; /run and /var/log are scratch too."""
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import FOSTER
from helpers import PROMPT, children_of, wait_until
from svc_helpers import write_config

SYSTEMD = "/lib/systemd/systemd"
UNITS = Path(__file__).resolve().parent.parent.parent / "systemd"
FOSTERCTL = str(Path(FOSTER).with_name("fosterctl"))
# Not systemd-journald-dev-log.socket: it would put a /dev/log symlink into
# the devtmpfs, which the host shares.
JOURNAL_UNITS = ["systemd-journald.service", "systemd-journald.socket"]

BOOT = r'''
set -e
d=$1
# A /sys/fs/cgroup of its own: systemd creates directories there and
# remounts it read-only, which on the host's tmpfs would change the host's
# (a superblock is shared across namespaces). Its hierarchies are the host's.
mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
mkdir /sys/fs/cgroup/systemd /sys/fs/cgroup/unified
mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
mount -t tmpfs tmpfs /run
mkdir -p /run/e2e-units
for u in $JOURNAL_UNITS; do cp /usr/lib/systemd/system/$u /run/e2e-units/; done
cp "$d/foster.service" "$d/e2e.target" /run/e2e-units/
for m in /var/log /etc/systemd/system /usr/lib/systemd/system; do mount -t tmpfs tmpfs $m; done
cp /run/e2e-units/* /usr/lib/systemd/system/
mkdir -p /etc/systemd/system/foster.service.d
cp "$d/test.conf" /etc/systemd/system/foster.service.d/
export container=foster-test
exec "$SYSTEMD" --system --unit=e2e.target
'''


class Systemd:
    def __init__(self, popen, pid):
        self.popen = popen
        self.pid = pid   # systemd, as the host sees it

    def run(self, *args, timeout=60):
        return subprocess.run(["nsenter", "-t", str(self.pid), "-m", "-p"] + list(args),
                              capture_output=True, text=True, timeout=timeout)

    def systemctl(self, *args):
        return self.run("systemctl", "--no-pager", *args)

    def show(self, *props):
        r = self.systemctl("show", "foster", *[f"-p{p}" for p in props])
        return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


@pytest.fixture
def systemd(tmp_path):
    if os.geteuid() != 0 or not os.access(SYSTEMD, os.X_OK) or shutil.which("nsenter") is None:
        pytest.skip("needs root, systemd and nsenter")
    for u in JOURNAL_UNITS:
        if not Path("/usr/lib/systemd/system", u).exists():
            pytest.skip(f"{u} missing")
    shutil.copy(UNITS / "foster.service", tmp_path / "foster.service")
    (tmp_path / "e2e.target").write_text("[Unit]\nDescription=foster end-to-end test\n"
                                         "Wants=systemd-journald.socket\n")
    (tmp_path / "test.conf").write_text(
        "[Unit]\nDefaultDependencies=no\n[Service]\n"
        f"ExecStart=\nExecStart={FOSTER} -c {tmp_path}/foster.toml\n"
        f"ExecReload=\nExecReload={FOSTERCTL} -c {tmp_path}/foster.toml reload\n")
    env = dict(os.environ, SYSTEMD=SYSTEMD, JOURNAL_UNITS=" ".join(JOURNAL_UNITS))
    p = subprocess.Popen(["unshare", "--pid", "--fork", "--mount", "--mount-proc", "--propagation", "private",
                          "sh", "-c", BOOT, "sh", str(tmp_path)], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, start_new_session=True)
    sd = None
    try:
        pid = wait_until(lambda: children_of(p.pid) or p.poll() is not None, PROMPT, what="systemd to start")
        if p.poll() is not None:
            pytest.skip(f"systemd could not be booted in a namespace here: {p.communicate()[0][-500:]}")
        sd = Systemd(p, pid[0])

        def up():
            state = sd.systemctl("is-system-running").stdout.strip()
            return state in ("running", "degraded") or p.poll() is not None
        try:
            wait_until(up, 30, interval=0.1, what="systemd to reach running")
        except AssertionError:
            pytest.skip("systemd did not come up in a namespace here")
        if p.poll() is not None:
            pytest.skip(f"systemd exited: {p.communicate()[0][-500:]}")
        yield sd
    finally:
        if sd is not None:
            try:
                os.kill(sd.pid, 9)   # PID 1 of the namespace: everything in it goes
            except ProcessLookupError:
                pass
        if p.poll() is None:
            os.killpg(p.pid, 9)
        p.communicate(timeout=PROMPT)


CONFIG = """
    [services.db]
    command = ["sleep", "1000"]

    [services.web]
    command = ["sleep", "1000"]
    depends_on = ["db"]
    """


def test_start_reload_stop_under_systemd(systemd, tmp_path):
    cfg = write_config(tmp_path / "foster.toml", CONFIG)
    r = systemd.systemctl("start", "foster")
    assert r.returncode == 0, (r.stdout, r.stderr, systemd.systemctl("status", "foster").stdout)
    s = systemd.show("ActiveState", "SubState", "StatusText", "MainPID", "Type")
    assert s["ActiveState"] == "active" and s["SubState"] == "running", s
    assert s["StatusText"] == "2 running", s
    main_pid = s["MainPID"]
    comm = systemd.run("cat", f"/proc/{main_pid}/comm").stdout.strip()
    assert comm == "foster", comm

    # Reload with a service added: applied, the unit stays active, the old
    # processes were left alone (the same main pid).
    write_config(cfg, CONFIG + """
    [services.cache]
    command = ["sleep", "1000"]
    """)
    r = systemd.systemctl("reload", "foster")
    assert r.returncode == 0, (r.stdout, r.stderr)
    wait_until(lambda: systemd.show("StatusText")["StatusText"] == "3 running", PROMPT, interval=0.05,
               what="STATUS with cache")
    assert systemd.show("MainPID")["MainPID"] == main_pid

    # A broken file: the reload fails and nothing changes.
    write_config(cfg, '[services.db]\ncommand = 7\n')
    r = systemd.systemctl("reload", "foster")
    assert r.returncode != 0
    s = systemd.show("ActiveState", "StatusText", "MainPID")
    assert s["ActiveState"] == "active" and s["MainPID"] == main_pid and s["StatusText"] == "3 running", s

    # The journal: foster's lines about one service, by field.
    def journal_has_cache():
        r = systemd.run("journalctl", "-u", "foster", "FOSTER_SERVICE=cache", "-o", "cat", "--no-pager")
        return "cache: starting → running" in r.stdout
    wait_until(journal_has_cache, PROMPT, interval=0.1, what="foster's lines about cache in the journal")

    # Stop: foster stops the services itself (KillMode=mixed), exit 0.
    t0 = time.monotonic()
    r = systemd.systemctl("stop", "foster")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert time.monotonic() - t0 < 10
    s = systemd.show("ActiveState", "Result", "ExecMainStatus")
    assert s == {"ActiveState": "inactive", "Result": "success", "ExecMainStatus": "0"}, s


def test_start_returns_once_a_failing_service_is_fatal(systemd, tmp_path):
    """A service that cannot run does not make `systemctl start` hang: READY
    comes, and the status names it."""
    write_config(tmp_path / "foster.toml", """
        [services.db]
        command = ["/nonexistent/db"]

        [services.web]
        command = ["sleep", "1000"]
        """)
    t0 = time.monotonic()
    r = systemd.systemctl("start", "foster")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert time.monotonic() - t0 < 20
    assert systemd.show("StatusText")["StatusText"] == "1 running, 1 fatal (db)"
    assert systemd.systemctl("stop", "foster").returncode == 0
