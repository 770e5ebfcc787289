"""Command-line fuzzing of the real binaries: a few hundred generated argvs
(seeded, so every run tries the same) for foster and for fosterctl:
overlong and non-UTF-8 strings, empty strings, `--` in odd places, unknown
options, options without their value, numbers out of range. Neither ever
dies of a signal or prints a sanitizer report; a refusal is exit 2 with a
message on stderr: one line naming the problem (foster adds its usage
lines after it).

Nothing generated can start a real program or reach a real foster: the
only PROGRAM that exists is /bin/true, PATH is empty, config files and
sockets are paths that do not exist, and FOSTER_SOCKET names one too.
(tests/fuzz/fuzz_parse_args.cpp fuzzes the same parsers with libFuzzer.)"""
import random
import subprocess

import pytest

from conftest import FOSTER
from ctl_helpers import FOSTERCTL
from helpers import PROMPT

SEED = 10
RUNS = 250
MISSING = "/nonexistent-foster-fuzz"


def junk(rng):
    """A value no parser expects."""
    kind = rng.randrange(9)
    if kind == 0:
        return b""
    if kind == 1:
        return b"x" * rng.choice((200, 5000, 100000))
    if kind == 2:
        return bytes(rng.randrange(1, 256) for _ in range(rng.randrange(1, 40)))  # non-UTF-8, controls
    if kind == 3:
        return str(rng.choice((-1, 256, 99999999999999999999, 2**63, -2**63 - 1))).encode()
    if kind == 4:
        return rng.choice((b"--", b"-", b"---", b"-=", b"--=", b"=", b"-\n", b"\xff\xfe"))
    if kind == 5:
        return rng.choice((b"1e999s", b"99999999999999999999ms", b"-5s", b"1.5s", b"s", b"0", b"9" * 40))
    if kind == 6:
        return rng.choice((b"TERM:", b":KILL", b"99:1", b"SIGFOO", b"0", b"65", b"-9", b"HUP:HUP:HUP"))
    if kind == 7:
        return MISSING.encode() + b"/" + bytes(rng.randrange(0x21, 0x7f) for _ in range(8))
    return b"\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc"


FOSTER_OPTS = [b"-c", b"--config", b"--check", b"-g", b"--signal-group", b"-r", b"--rewrite",
               b"-e", b"--success-exit", b"-p", b"--parent-death-signal", b"--grace", b"-v",
               b"-q", b"--verbose", b"--quiet", b"-vq", b"-gv", b"-cx", b"--config=", b"--grace=",
               b"-e300", b"--bogus", b"-Z", b"--help=yes", b"--check=1"]

CTL_OPTS = [b"-s", b"--socket", b"-c", b"--config", b"--timeout", b"--timeout=", b"-s=",
            b"--json", b"--no-wait", b"-q", b"--quiet", b"--bogus", b"-x"]
CTL_COMMANDS = [b"status", b"start", b"stop", b"restart", b"signal", b"reload", b"shutdown",
                b"check", b"bogus", b""]


def foster_argv(rng):
    args = []
    for _ in range(rng.randrange(0, 6)):
        r = rng.random()
        if r < 0.5:
            args.append(rng.choice(FOSTER_OPTS))
        elif r < 0.65:
            args.append(b"--")
        else:
            args.append(junk(rng))
    # A bare word is PROGRAM: make the first one harmless.
    out = []
    for a in args:
        if not a.startswith(b"-") and (not out or out[-1] not in
                                       (b"-c", b"--config", b"-r", b"--rewrite", b"-e",
                                        b"--success-exit", b"-p", b"--parent-death-signal",
                                        b"--grace")):
            a = MISSING.encode() + b"/" + a[:50].replace(b"\0", b"")
        out.append(a)
    # A config file would start services: -c always names a missing file.
    out = [MISSING.encode() + b"/" + a[:50] if prev in (b"-c", b"--config") else a
           for prev, a in zip([None] + out, out)]
    if rng.random() < 0.5:
        out += [b"--", rng.choice((b"/bin/true", MISSING.encode() + b"/program"))]
    return out


def ctl_argv(rng):
    args = []
    for _ in range(rng.randrange(0, 3)):
        args.append(rng.choice(CTL_OPTS) if rng.random() < 0.7 else junk(rng))
    if rng.random() < 0.8:
        args.append(rng.choice(CTL_COMMANDS))
    for _ in range(rng.randrange(0, 4)):
        r = rng.random()
        args.append(rng.choice(CTL_OPTS) if r < 0.3 else b"--" if r < 0.4 else junk(rng))
    # Any socket fosterctl could reach is a missing path.
    return [MISSING.encode() + b"/" + a[:50] if prev in (b"-s", b"--socket", b"-c", b"--config") else a
            for prev, a in zip([None] + args, args)]


def run(argv, env):
    argv = [a.replace(b"\0", b"") for a in argv]
    # cwd: an empty directory (an empty PATH searches the current one).
    r = subprocess.run(argv, capture_output=True, env=env, timeout=PROMPT,
                       stdin=subprocess.DEVNULL, cwd=env["HOME"])
    return r


def check(r, argv, name):
    where = f"argv {repr(argv[:8])[:300]}"
    assert r.returncode >= 0, f"{name} died of signal {-r.returncode}: {where}"
    assert b"Sanitizer" not in r.stderr and b"runtime error" not in r.stderr, f"{where}: {r.stderr[:2000]!r}"
    if r.returncode == 2:
        lines = r.stderr.split(b"\n")
        # "NAME: message", or a config file's own errors: "FILE: message".
        assert (lines[0].startswith(name.encode() + b": ") and len(lines[0]) > len(name) + 2
                or lines[0].startswith(MISSING.encode())), f"{where}: {r.stderr[:300]!r}"
        assert len(lines[0]) < 400, f"{where}: an error line of {len(lines[0])} bytes"


@pytest.fixture
def env(tmp_path):
    (tmp_path / "empty").mkdir()
    tmp_path = tmp_path / "empty"
    return {"PATH": "", "FOSTER_SOCKET": f"{MISSING}/sock", "HOME": str(tmp_path),
            "XDG_RUNTIME_DIR": f"{MISSING}/run", "LC_ALL": "C"}


def test_foster_on_generated_argvs(env):
    rng = random.Random(SEED)
    codes = {}
    for _ in range(RUNS):
        argv = [FOSTER.encode()] + foster_argv(rng)
        r = run(argv, env)
        check(r, argv, "foster")
        codes[r.returncode] = codes.get(r.returncode, 0) + 1
    # The generator reaches refusals and programs run alike.
    assert codes.get(2, 0) > RUNS // 3, codes
    assert set(codes) <= {0, 1, 2, 126, 127}, codes


def test_fosterctl_on_generated_argvs(env):
    rng = random.Random(SEED)
    codes = {}
    for _ in range(RUNS):
        argv = [FOSTERCTL.encode()] + ctl_argv(rng)
        r = run(argv, env)
        check(r, argv, "fosterctl")
        codes[r.returncode] = codes.get(r.returncode, 0) + 1
    assert codes.get(2, 0) > RUNS // 3, codes
    # 1: `reload -c FILE` reads FILE to check it first, and a missing file
    # fails the reload; 3: no foster at the (missing) socket.
    assert set(codes) <= {0, 1, 2, 3}, codes


@pytest.mark.parametrize("binary,args", [
    ("foster", [b"--grace", b"x\n\x1b[31mred"]),
    ("foster", [b"--" + b"y" * 5000]),
    ("fosterctl", [b"status\n\x1b[2J"]),
    ("fosterctl", [b"--timeout", b"z" * 5000, b"status"]),
])
def test_a_refused_argument_is_shown_on_one_short_line(env, binary, args):
    path = FOSTER if binary == "foster" else FOSTERCTL
    r = run([path.encode()] + args, env)
    assert r.returncode == 2
    first = r.stderr.split(b"\n")[0]
    assert first.startswith(binary.encode() + b": ")
    assert b"\x1b" not in r.stderr, r.stderr[:300]
    if binary == "fosterctl":
        assert r.stderr.count(b"\n") == 2, r.stderr[:300]  # the message and "Try 'fosterctl --help'."
    assert len(first) < 200, first[:300]
