"""Fixtures for the container tests: podman with its whole state in a
temporary directory (removed at the end), the images of packaging/container
built from the static foster, and containers removed after each test."""
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from engine import (BUSYBOX, Podman, build_services_image, skip_reason,
                    static_foster)

_FIGURES = []


@pytest.fixture
def note():
    """Records a figure worth seeing in the summary (a time, a count)."""
    return _FIGURES.append


def pytest_terminal_summary(terminalreporter):
    if _FIGURES:
        terminalreporter.section("container figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def podman():
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="foster-podman-"))
    engine = Podman(root)
    try:
        yield engine
    finally:
        engine.remove_everything()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def entrypoint_image(podman):
    foster, reason = static_foster()
    if reason:
        pytest.skip(reason)
    return podman.build("Containerfile.entrypoint", "localhost/foster-entrypoint:test",
                        {"foster": foster, "busybox": BUSYBOX})


@pytest.fixture(scope="session")
def services_image(podman):
    return build_services_image(podman, "localhost/foster-services:test")


@pytest.fixture
def containers(podman):
    """Names for containers of one test; each is removed afterwards."""
    names = []

    def new(label):
        name = f"foster-test-{label}-{os.getpid()}-{len(names)}"
        names.append(name)
        return name

    yield new
    for name in names:
        podman.run("rm", "-f", "-t", "0", name, check=False)


