"""podman with a private, throw-away state, and what the container tests
share: finding the static binaries, building the images of packaging/container,
polling with a deadline.

What works on a machine with the hybrid cgroup layout and without
CAP_SYS_RESOURCE (see packaging/container/README.md): runc with the cgroupfs
manager, and rlimits the process may set. The limits are given with soft ==
hard because podman 4.3 swaps soft and hard in the infra container of a pod
(`kube play` failed with "error setting rlimit type 7: invalid argument").
"""
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TOP = HERE.parent.parent
CONTAINER_DIR = TOP / "packaging" / "container"
BUSYBOX = Path("/bin/busybox")
PT_INTERP = 3


def is_static_elf(path):
    """True when the ELF file at path asks for no program interpreter (no
    PT_INTERP header), i.e. runs without a dynamic loader and shared libraries."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
            return False  # only 64-bit little-endian is expected here
        phoff = int.from_bytes(head[32:40], "little")
        phentsize = int.from_bytes(head[54:56], "little")
        phnum = int.from_bytes(head[56:58], "little")
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return all(int.from_bytes(table[i:i + 4], "little") != PT_INTERP
               for i in range(0, len(table), phentsize))


def _build_dir():
    return Path(os.environ.get("BUILD_DIR", TOP / "build" / "release"))


def static_foster():
    """(path, None) of a static foster to put into images, or (None, reason)."""
    explicit = os.environ.get("FOSTER_STATIC_BIN")
    if explicit:
        return Path(explicit), None
    candidate = _build_dir() / "foster-static"
    if candidate.exists():
        return candidate, None
    foster = Path(os.environ.get("FOSTER", _build_dir() / "foster"))
    if not foster.exists():
        return None, f"no foster built ({foster})"
    if is_static_elf(foster):
        return foster, None
    return None, (f"{foster} is dynamically linked and neither FOSTER_STATIC_BIN "
                  f"nor {candidate} exists")


def static_fosterctl():
    path = Path(os.environ.get("FOSTERCTL", _build_dir() / "fosterctl"))
    if not path.exists():
        return None, f"no fosterctl built ({path})"
    if not is_static_elf(path):
        return None, f"{path} is dynamically linked; the scratch image has no libraries"
    return path, None


def skip_reason():
    if shutil.which("podman") is None:
        return "podman is not installed (packaging/deps.sh installs it)"
    if shutil.which("runc") is None:
        return "runc is not installed (packaging/deps.sh installs it)"
    if os.geteuid() != 0:
        return "the podman tests run rootful podman and need root"
    if not BUSYBOX.exists() or not is_static_elf(BUSYBOX):
        return f"{BUSYBOX} is missing or not static (install busybox-static)"
    return None


class Podman:
    """podman with its whole state under one temporary directory."""

    def __init__(self, root):
        self.root = root
        conf = root / "containers.conf"
        conf.write_text(f"""\
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "none"
lock_type = "file"
tmp_dir = "{root}/tmp"
""")
        storage = root / "storage.conf"
        storage.write_text(f"""\
[storage]
driver = "vfs"
graphroot = "{root}/graph"
runroot = "{root}/run"
""")
        self.env = dict(os.environ, CONTAINERS_CONF=str(conf),
                        CONTAINERS_STORAGE_CONF=str(storage))

    def run(self, *args, check=True, timeout=60):
        result = subprocess.run(["podman", *args], env=self.env, text=True,
                                capture_output=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout}{result.stderr}")
        return result

    def build(self, containerfile, tag, files):
        """Builds containerfile with a context of packaging/container plus
        `files` ({name in context: source path})."""
        context = self.root / ("context-" + tag.replace("/", "_").replace(":", "_"))
        shutil.copytree(CONTAINER_DIR, context)
        for name, source in files.items():
            shutil.copy2(source, context / name)
        self.run("build", "--format", "docker", "--network", "none", "-q",
                 "-f", str(context / containerfile), "-t", tag, str(context),
                 timeout=180)
        return tag

    def remove_everything(self):
        self.run("pod", "rm", "-a", "-f", check=False)
        self.run("rm", "-a", "-f", "-t", "0", check=False)
        self.run("system", "reset", "-f", check=False, timeout=120)


def build_services_image(podman, tag):
    foster, reason = static_foster()
    if reason:
        pytest.skip(reason)
    fosterctl, reason = static_fosterctl()
    if reason:
        pytest.skip(reason)
    return podman.build("Containerfile.services", tag,
                        {"foster": foster, "fosterctl": fosterctl, "busybox": BUSYBOX})


# Every container of the tests: no network (nothing on the host changes).
RUN = ["run", "--network", "none"]


def wait_for(what, predicate, timeout=20.0, interval=0.1):
    """Polls predicate until it returns a true value or timeout passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def read_lines(path):
    try:
        return Path(path).read_text().splitlines()
    except FileNotFoundError:
        return []
