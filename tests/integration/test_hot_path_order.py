"""The static foster is linked with its entrypoint hot path packed at the
start of .text (src/hot_path.order, lld --symbol-ordering-file): that is what
keeps its idle RSS under 1 MiB (bench/entrypoint.py measures it). These tests
fail when the order file has gone stale (a listed function no longer exists:
regenerate it with bench/hot_path.py) or the link ignored it."""
import os
import subprocess
from pathlib import Path

import pytest

from conftest import FOSTER

ORDER = Path(__file__).resolve().parent.parent.parent / "src" / "hot_path.order"


def is_static(binary):
    """A static ELF file; not a dynamic one, nor a script (the wrapper that
    tests/valgrind/run puts in foster's place), nor a missing file."""
    r = subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True)
    return r.returncode == 0 and "INTERP" not in r.stdout


def function_symbols(binary):
    """{name: (address, size)} of the binary's functions."""
    out = subprocess.run(["nm", "-S", "--defined-only", binary],
                         capture_output=True, text=True, check=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:  # no size (crt's _init, frame_dummy, ...)
            parts.insert(1, "0")
        if len(parts) == 4 and parts[2] in "tTwWiI":
            syms[parts[3]] = (int(parts[0], 16), int(parts[1], 16))
    return syms


# foster (static, the entrypoint) is what bench/hot_path.py traces; the
# sanitizer build's foster is the dynamic full build, not ordered.
pytestmark = [pytest.mark.skipif(not os.access(FOSTER, os.X_OK), reason=f"{FOSTER} is not built"),
              pytest.mark.skipif(not is_static(FOSTER), reason="foster is not the static build here")]


def test_every_function_in_the_order_file_exists():
    listed = ORDER.read_text().split()
    syms = function_symbols(FOSTER)
    missing = [name for name in listed if name not in syms]
    assert not missing, (f"{len(missing)} of {len(listed)} functions in {ORDER.name} are gone "
                         f"(run bench/hot_path.py): {missing[:10]}")


def test_the_hot_path_is_packed():
    listed = ORDER.read_text().split()
    syms = function_symbols(FOSTER)
    # Sizeless ones are crt's _init and _fini, in sections of their own.
    placed = [syms[name] for name in listed if name in syms and syms[name][1] > 0]
    span = max(a + s for a, s in placed) - min(a for a, _ in placed)
    size = sum(s for _, s in placed)
    # Alignment padding between functions is all that may come in between.
    assert span < 1.5 * size, (f"the {len(placed)} hot functions ({size} bytes) are spread over "
                               f"{span} bytes: was foster linked without lld's ordering?")
