"""Entrypoint mode: the command line and foster's exit status."""
import os
import re
import signal

import pytest

from conftest import PROBE


def says_what_is_missing(err):
    """A usage message: the usage itself, or what is missing (PROGRAM)."""
    return err.startswith("foster") and re.search(r"usage|PROGRAM", err, re.I)


def test_no_program_is_a_usage_error(plain_runner):
    status, out, err = plain_runner.run([], None)
    assert status == 2
    assert says_what_is_missing(err), err


def test_bare_double_dash_is_a_usage_error(plain_runner):
    status, out, err = plain_runner.run([], [])
    assert status == 2
    assert says_what_is_missing(err), err


@pytest.mark.parametrize("option", ["--no-such-option", "-Z"])
def test_unknown_option_is_a_usage_error(plain_runner, option):
    marker = plain_runner.path("ran")
    status, out, err = plain_runner.run([option], [PROBE, "exit", "0", marker])
    assert status == 2
    assert option.lstrip("-") in err, err
    assert not os.path.exists(marker), "PROGRAM ran despite the bad command line"


@pytest.mark.parametrize("code", [0, 3, 255])
def test_exit_status_is_passed_through(runner, reaping_env, code):
    marker = runner.path("ran")
    status, out, err = runner.run([], [PROBE, "exit", str(code), marker], env=reaping_env)
    assert os.path.exists(marker), f"PROGRAM did not run; stderr: {err!r}"
    assert status == code


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGUSR1])
def test_death_by_signal_gives_128_plus_n(runner, reaping_env, sig):
    marker = runner.path("ran")
    status, out, err = runner.run([], [PROBE, "kill-self", str(int(sig)), marker], env=reaping_env)
    assert os.path.exists(marker), f"PROGRAM did not run; stderr: {err!r}"
    assert status == 128 + sig, err


def test_program_not_found_gives_127(runner, reaping_env):
    name = "nosuch-foster-test-program"
    status, out, err = runner.run([], [name, "arg"], env=reaping_env)
    assert status == 127
    assert re.search(
        rf"foster: cannot run '{re.escape(name)}': No such file or directory", err), err


def test_program_not_executable_gives_126(runner, tmp_path):
    path = tmp_path / "not-executable"
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o644)
    status, out, err = runner.run([], [str(path)])
    assert status == 126
    assert re.search(
        rf"foster: cannot run '{re.escape(str(path))}': Permission denied", err), err


@pytest.mark.parametrize("program, expected", [
    (["exit", "143"], 0),
    (["kill-self", str(int(signal.SIGTERM))], 0),   # 128+15 counts as 143 too
    (["exit", "3"], 3),
    (["exit", "7"], 0),                              # -e is repeatable
    (["exit", "0"], 0),
])
def test_success_exit_maps_codes_to_zero(runner, program, expected):
    marker = runner.path("ran")
    status, out, err = runner.run(["-e", "143", "--success-exit", "7"],
                                  [PROBE] + program + [marker])
    assert os.path.exists(marker), f"PROGRAM did not run; stderr: {err!r}"
    assert status == expected, err


@pytest.mark.parametrize("args, culprit", [
    (["-r", "USR1"], "USR1"),
    (["-r", "NOSUCH:USR2"], "NOSUCH"),
    (["--rewrite", "USR1:NOSUCH"], "NOSUCH"),
    (["-e", "256"], "256"),
    (["-e", "abc"], "abc"),
    (["-p", "NOSUCH"], "NOSUCH"),
    (["--grace", "soon"], "soon"),
])
def test_bad_option_values_are_usage_errors(plain_runner, args, culprit):
    marker = plain_runner.path("ran")
    status, out, err = plain_runner.run(args, [PROBE, "exit", "0", marker])
    assert status == 2
    assert culprit in err, err
    assert not os.path.exists(marker), "PROGRAM ran despite the bad command line"


def test_help_and_version_exit_0_on_stdout(plain_runner):
    status, out, err = plain_runner.run(["--help"])
    assert status == 0, err
    assert re.search(r"usage", out, re.I) and "--grace" in out, out
    assert "man foster" in out and "man foster.toml" in out, out  # the reference
    status, out, err = plain_runner.run(["-V"])
    assert status == 0, err
    assert out.startswith("foster"), out


def test_program_is_searched_on_path(runner):
    status, out, err = runner.run([], ["sh", "-c", "exit 4"])
    assert status == 4, err


def test_directory_as_program_gives_126(runner, tmp_path):
    status, out, err = runner.run([], [str(tmp_path)])
    assert status == 126
    assert re.search(rf"foster: cannot run '{re.escape(str(tmp_path))}': "
                     r"Permission denied", err), err


def test_quiet_still_reports_why_program_could_not_run(runner):
    name = "nosuch-foster-test-program"
    status, out, err = runner.run(["-q"], [name])
    assert status == 127
    assert f"cannot run '{name}'" in err, err
