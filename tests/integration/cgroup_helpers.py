"""Cgroups for the fault-injection tests: a child cgroup of the test's own,
under the cgroup v1 controller named (pids, memory), created for one test
and removed after it.

Only v1 hierarchies are handled (what the CI machines and containers we run
on mount); without the controller, or without the right to create a cgroup
in it, the test is skipped and the reason says which."""
import os
import uuid
from pathlib import Path

import pytest

from helpers import PROMPT, wait_until


def v1_mount(controller):
    """Where the v1 hierarchy holding `controller` is mounted, or None."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        before, _, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if len(tail) >= 3 and tail[0] == "cgroup" and controller in tail[2].split(","):
            return Path(fields[4])
    return None


def own_path(controller):
    """This process's cgroup in the v1 hierarchy of `controller` ("/..."), or None."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path
    return None


class Cgroup:
    """One cgroup made for a test. join() is meant for a preexec function."""

    def __init__(self, path):
        self.path = path

    def write(self, name, value):
        (self.path / name).write_text(f"{value}\n")

    def read(self, name):
        return (self.path / name).read_text().strip()

    def procs(self):
        return [int(p) for p in self.read("cgroup.procs").split()]

    def join(self):
        self.write("cgroup.procs", os.getpid())

    def join_command(self):
        """A fragment of a service's command string that moves the shell
        running it into this cgroup ($$$$: foster turns $$ into $)."""
        return f"echo $$$$ > {self.path}/cgroup.procs"


def make_cgroup(controller):
    """A fresh child cgroup of the test's own under `controller` (v1), or a
    pytest skip saying why there is none. Remove it with remove_cgroup."""
    mount = v1_mount(controller)
    if mount is None:
        pytest.skip(f"no cgroup v1 '{controller}' controller mounted here")
    own = own_path(controller)
    if own is None:
        pytest.skip(f"this process is in no '{controller}' cgroup")
    path = mount / own.lstrip("/") / f"foster-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        path.mkdir()
    except OSError as e:
        pytest.skip(f"cannot create a '{controller}' cgroup ({path}): {e.strerror}")
    return Cgroup(path)


def remove_cgroup(group):
    """Waits for the test's processes to leave (the runner killed them), then
    removes the cgroup."""
    try:
        wait_until(lambda: not group.procs(), PROMPT, what=f"{group.path} to empty")
    finally:
        try:
            group.path.rmdir()
        except OSError:
            pass
