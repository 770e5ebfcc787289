"""foster's own allocation failure, at load: a config of 10,000 services
under a ladder of address-space limits (RLIMIT_AS). At every limit foster
either refuses the file at load, saying it ran out of memory (exit 2,
nothing started, no control socket), or runs it whole (every service
listed, the one autostart service started); never a crash, never a failure
after start-up. Skipped under the sanitizers, whose shadow memory needs
terabytes of address space."""
import os
import resource
import signal

import pytest

from conftest import FOSTER
from ctl_helpers import BASE_ENV, status_json, wait_answering
from helpers import sanitized, wait_until
from svc_helpers import q


def test_huge_config_under_address_space_limits_fails_at_load_or_runs_whole(plain_runner):
    if sanitized(FOSTER):
        pytest.skip("RLIMIT_AS cannot hold the sanitizers' shadow memory")
    d = plain_runner.tmp
    marker = d / "started"
    parts = [f"[services.marker]\ncommand = [\"sh\", \"-c\", {q(f'touch {marker}; exec sleep 1000')}]\n"]
    parts += [f"\n[services.s{i}]\ncommand = [\"true\"]\nautostart = false\n" for i in range(10000)]
    outcomes = {}
    for mib in (24, 44, 256):   # refused, near the edge (46 MiB on Debian 12, x86-64), ran
        sock = d / f"ctl{mib}.sock"
        config = d / f"big{mib}.toml"
        config.write_text(f"[foster]\ncontrol_socket = {q(sock)}\n\n" + "".join(parts))
        limit = mib << 20
        foster = plain_runner.start(["-c", str(config)], env=dict(BASE_ENV),
                                    preexec=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
        wait_until(lambda: not foster.running() or os.path.exists(sock), what=f"foster at {mib} MiB to load or fail")
        if not foster.running() and not os.path.exists(sock):
            status = foster.wait()
            assert status == 2, (mib, status, foster.stderr())
            assert f"big{mib}.toml: out of memory while reading the file" in foster.stderr(), foster.stderr()
            assert not marker.exists(), "a service started although the load failed"
            outcomes[mib] = "refused"
            continue
        wait_answering(foster, str(sock))
        services = status_json(sock)
        assert len(services) == 10001, (mib, len(services))
        wait_until(marker.exists, what="the autostart service to start")
        foster.send(signal.SIGTERM)
        assert foster.wait() == 0, (mib, foster.stderr())
        marker.unlink()
        outcomes[mib] = "ran"
    # The ladder spans the boundary: the failure path was taken, and so was the run.
    assert "refused" in outcomes.values() and outcomes[256] == "ran", outcomes
