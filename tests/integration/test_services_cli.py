"""Service-runner mode on the command line: --check, invalid and missing
config files (exit 2 with FILE:LINE:COLUMN), usage errors."""
import re

from svc_helpers import q, write_config

VALID = """
    [foster]
    shutdown_timeout = "5s"

    [services.db]
    command = {cmd}
    type = "notify"
    stop_signal = "SIGINT"

    [services.web]
    command = ["sleep", "1000"]
    depends_on = ["db"]
    restart = "always"
    environment = {{ PORT = "8080" }}
    stdout = "prefix"
    """

INVALID = """
    [services.db]
    command = ["sleep", "1000"]
    restart = "sometimes"

    [services.web]
    command = ["sleep", "1000"]
    colour = "blue"
    stop_timeout = "ten seconds"
    """


def error_lines(err, cfg):
    """{line: column} of the FILE:LINE:COLUMN: messages about cfg."""
    found = {}
    for m in re.finditer(rf"^(?:foster: )?{re.escape(cfg)}:(\d+):(\d+): \S", err, re.MULTILINE):
        found.setdefault(int(m.group(1)), int(m.group(2)))
    return found


def test_check_accepts_a_valid_file_and_starts_nothing(plain_runner):
    d = plain_runner.tmp
    cfg = write_config(d / "ok.toml", VALID.format(cmd=q(f"touch {d}/started")))
    status, out, err = plain_runner.run(["--check", "-c", cfg])
    assert status == 0, err
    assert not (d / "started").exists(), "--check started a service"


def test_check_reports_every_problem_with_file_line_column(plain_runner):
    cfg = write_config(plain_runner.tmp / "bad.toml", INVALID)
    status, out, err = plain_runner.run(["--check", "-c", cfg])
    assert status == 2, err
    where = error_lines(err, cfg)
    # restart (line 4, value at column 11), colour (line 8), stop_timeout (line 9)
    assert set(where) >= {4, 8, 9}, err
    assert where[4] in (1, 11), err
    assert where[8] == 1, err
    assert "colour" in err and "sometimes" in err


def test_invalid_config_exits_2_and_starts_nothing(plain_runner):
    d = plain_runner.tmp
    cfg = write_config(d / "bad.toml", f"""
        [services.ok]
        command = {q(f"touch {d}/started")}

        [services.web]
        command = ["sleep", "1000"]
        depends_on = ["nosuch"]
        """)
    status, out, err = plain_runner.run(["-c", cfg])
    assert status == 2, err
    assert 7 in error_lines(err, cfg), err
    assert "nosuch" in err
    assert not (d / "started").exists()


def test_dependency_cycle_is_a_config_error_naming_it(plain_runner):
    cfg = write_config(plain_runner.tmp / "cycle.toml", """
        [services.alpha]
        command = ["true"]
        depends_on = ["beta"]

        [services.beta]
        command = ["true"]
        depends_on = ["alpha"]
        """)
    status, out, err = plain_runner.run(["--check", "-c", cfg])
    assert status == 2, err
    assert "alpha" in err and "beta" in err
    assert error_lines(err, cfg), err


def test_missing_config_file_exits_2_naming_it(plain_runner):
    missing = str(plain_runner.tmp / "nosuch.toml")
    for args in (["-c", missing], ["--check", "-c", missing]):
        status, out, err = plain_runner.run(args)
        assert status == 2, err
        assert missing in err


def test_main_service_is_a_config_error_with_a_program(plain_runner):
    d = plain_runner.tmp
    cfg = write_config(d / "main.toml", f"""
        [services.app]
        command = {q(f"touch {d}/started")}
        main = true
        """)
    status, out, err = plain_runner.run(["-c", cfg], ["sh", "-c", f"touch {d}/program"])
    assert status == 2, err
    assert 4 in error_lines(err, cfg) or 2 in error_lines(err, cfg), err
    assert not (d / "started").exists() and not (d / "program").exists()
