#!/usr/bin/python3
"""Regenerates src/hot_path.order: the functions foster runs in entrypoint mode
(start-up, PROGRAM's start, a forwarded signal, PROGRAM's end, exit), in the
order it first runs them. The foster link (CMakeLists.txt) hands the file to
lld (--symbol-ordering-file), which puts those functions next to each other
at the start of .text. Why: the kernel maps a binary's pages 64 KiB at a time
around every page fault (fault-around), so hot code spread over 1.5 MB of
static text makes most of the text resident; packed, it takes a few 64 KiB
windows. Figures in docs/DESIGN.md ("Linking").

Usage: bench/hot_path.py [FOSTER]   (default build/foster; needs valgrind)

The trace comes from valgrind's lackey tool, whose CPU model is not the
machine's: glibc's string functions are picked at start-up by CPU features,
so for every such family that ran (memmove, strlen, ...) all of its variants
are listed, whichever the real CPU will pick. Run it after changing the code
on that path; tests/integration/test_hot_path_order.py fails when a listed
function no longer exists.
"""
import bisect
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORDER = ROOT / "src" / "hot_path.order"
# One run through the whole entrypoint path: PROGRAM signals foster (forwarded
# back to it, and ignored there), then exits with a status. valgrind does not
# know pidfd_send_signal, so foster logs that it could not forward: expected.
PROGRAM = ["/bin/sh", "-c", "trap '' USR1; kill -USR1 $PPID; sleep 0.2; exit 3"]
# glibc's CPU-dependent variants: __memmove_avx_unaligned_erms, __strlen_evex, ...
VARIANT = re.compile(r"^(__[a-z0-9]+?)_(sse2|ssse3|sse4_1|sse42|sse4_2|avx|avx2|avx512|evex|erms|"
                     r"unaligned|aligned)")


def text_section(binary):
    """(start, end) of .text: only what lies there can be ordered. (valgrind
    runs glibc's __libc_freeres at exit, which lives in a section of its own.)"""
    out = subprocess.run(["readelf", "-SW", binary], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        fields = line.replace("[ ", "[").split()
        if len(fields) > 5 and fields[1] == ".text":
            start, size = int(fields[3], 16), int(fields[5], 16)
            return start, start + size
    sys.exit("hot_path.py: no .text section")


def functions(binary):
    """[(address, name)] of every function symbol, sorted. Names that several
    local functions share (glibc's free_mem, ...) are marked None: the linker
    orders by name, so they cannot be placed."""
    out = subprocess.run(["nm", "--defined-only", binary], check=True,
                         capture_output=True, text=True).stdout
    start, end = text_section(binary)
    syms, count = [], {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwWiI":
            syms.append((int(parts[0], 16), parts[2]))
            count[parts[2]] = count.get(parts[2], 0) + 1
    return sorted((a, n if count[n] == 1 and start <= a < end else None) for a, n in syms)


def executed(binary, trace):
    """Function names in the order the trace first enters them."""
    syms = functions(binary)
    starts = [a for a, _ in syms]
    order, seen = [], set()
    for line in trace:
        if not line.startswith("I "):
            continue
        addr = int(line[3:].split(",")[0], 16)
        i = bisect.bisect_right(starts, addr) - 1
        if i >= 0 and syms[i][1] is not None and syms[i][1] not in seen:
            seen.add(syms[i][1])
            order.append(syms[i][1])
    return order, [name for _, name in syms if name is not None]


# Run only when foster is PID 1 (it changes its working directory to /),
# which the traced foster is not.
PID1_ONLY = ["chdir"]


def with_all_variants(order, all_names):
    families = {m.group(1) for name in order if (m := VARIANT.match(name))}
    # A resolver that ran (strcmp_ifunc) picks a variant at start-up that the
    # trace may never call: its whole family too.
    families |= {"__" + name[:-len("_ifunc")] for name in order if name.endswith("_ifunc")}
    extra = [n for n in all_names
             if (m := VARIANT.match(n)) and m.group(1) in families and n not in order]
    return order + sorted(set(extra))


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "build" / "foster")
    with tempfile.NamedTemporaryFile("r", suffix=".lackey") as log:
        run = subprocess.run(["valgrind", "--tool=lackey", "--trace-mem=yes",
                              f"--log-file={log.name}", binary, "--", *PROGRAM])
        if run.returncode != 3:
            sys.exit(f"hot_path.py: foster exited {run.returncode}, expected 3")
        order, all_names = executed(binary, log)
    order = with_all_variants(order, all_names) + [n for n in PID1_ONLY if n in all_names]
    ORDER.write_text("".join(f"{name}\n" for name in order))
    print(f"hot_path.py: {len(order)} functions written to {ORDER.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
