"""Service-runner mode: what issue 14 added to a service definition —
`environment_file`, `${VAR}` expansion from foster's environment, and the
process settings (`limits`, `nice`, `oom_score_adjust`, `no_new_privileges`),
each seen from the service's /proc."""
import os
import signal

from conftest import PROBE
from helpers import PROMPT, wait_report, wait_until
from svc_helpers import lines, q, start, write_config


def test_environment_files_and_expansion_reach_the_service(plain_runner, tmp_path):
    d = plain_runner.tmp
    env_file = tmp_path / "app.env"
    env_file.write_text("# comment\nFROM_FILE=file value\nOVERRIDDEN='from file'\nQUOTED=\"a \\\"b\\\"\"\n")
    workdir = tmp_path / "work"
    workdir.mkdir()
    env = dict(os.environ, FOSTER_TEST_ROOT=str(tmp_path), FOSTER_TEST_WORK=str(workdir))
    foster, _ = start(plain_runner, f"""
        [services.app]
        command = [{q(PROBE)}, "report", "${{FOSTER_TEST_ROOT}}/app.report", "hold"]
        environment_file = [{q(env_file)}, "-/nonexistent/foster-optional.env"]
        environment = {{ OVERRIDDEN = "from table", EXPANDED = "${{FOSTER_TEST_ROOT}}", DEFAULTED = "${{FOSTER_TEST_NOPE:-dflt}}", DOLLAR = "$$x" }}
        working_directory = "${{FOSTER_TEST_WORK}}"
        """, env=env)
    report = wait_report(str(d / "app.report"))
    assert report["env"]["FROM_FILE"] == "file value"
    assert report["env"]["OVERRIDDEN"] == "from table"
    assert report["env"]["QUOTED"] == 'a "b"'
    assert report["env"]["EXPANDED"] == str(tmp_path)
    assert report["env"]["DEFAULTED"] == "dflt"
    assert report["env"]["DOLLAR"] == "$x"
    assert os.readlink(f"/proc/{report['pid']}/cwd") == str(workdir)
    environ = open(f"/proc/{report['pid']}/environ", "rb").read().split(b"\0")
    assert environ.count(b"OVERRIDDEN=from table") == 1 and b"OVERRIDDEN=from file" not in environ
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_a_changed_environment_file_restarts_its_service_at_reload(plain_runner, tmp_path):
    d = plain_runner.tmp
    env_file = tmp_path / "app.env"
    env_file.write_text("GREETING=one\n")
    text = f"""
        [services.uses]
        command = {q(f"echo $GREETING >> {d}/uses.runs; exec sleep 1000")}
        environment_file = {q(env_file)}

        [services.other]
        command = {q(f"echo started >> {d}/other.runs; exec sleep 1000")}
        """
    foster, cfg = start(plain_runner, text)
    wait_until(lambda: lines(d / "uses.runs") == ["one"] and lines(d / "other.runs") == ["started"],
               PROMPT, what="both services to start")
    env_file.write_text("GREETING=two\n")
    foster.send(signal.SIGHUP)
    wait_until(lambda: lines(d / "uses.runs") == ["one", "two"], PROMPT,
               what="the service using the changed file to restart")
    assert lines(d / "other.runs") == ["started"]
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_missing_environment_file_and_unset_variable_are_load_errors(plain_runner, tmp_path):
    cfg = write_config(tmp_path / "bad.toml", """\
        [services.app]
        command = ["/bin/true", "${FOSTER_TEST_NOPE}"]
        environment_file = ["/nonexistent/app.env"]
        """)
    env = {k: v for k, v in os.environ.items() if k != "FOSTER_TEST_NOPE"}
    status, _, err = plain_runner.run(["--check", "-c", cfg], env=env)
    assert status == 2
    assert f"{cfg}:2:25: service 'app': 'command': unset variable 'FOSTER_TEST_NOPE'" in err, err
    assert (f"{cfg}:3:21: service 'app': 'environment_file': cannot read /nonexistent/app.env: "
            "No such file or directory" in err), err
