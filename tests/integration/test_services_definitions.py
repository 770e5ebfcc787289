"""Service-runner mode: what issue 14 added to a service definition —
`environment_file`, `${VAR}` expansion from foster's environment, the
process settings (`limits`, `nice`, `oom_score_adjust`, `no_new_privileges`)
seen from the service's /proc, `reload_signal`, and the hooks (`stop_command`,
`pre_start`, `post_stop`) with their order and bounds."""
import os
import resource
import signal
from pathlib import Path

import pytest

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


def proc_limits(pid):
    """/proc/PID/limits as {"Max open files": ("soft", "hard"), ...}."""
    out = {}
    for line in open(f"/proc/{pid}/limits").read().splitlines()[1:]:
        name = line[:26].strip()
        fields = line[26:].split()
        out[name] = (fields[0], fields[1])
    return out


def proc_status(pid):
    return dict(line.split(":\t", 1) for line in open(f"/proc/{pid}/status").read().splitlines())


def fits_hard_limit(resource_id, value):
    hard = resource.getrlimit(resource_id)[1]
    return hard == resource.RLIM_INFINITY or value <= hard


def test_limits_nice_oom_score_and_no_new_privileges_are_set(plain_runner):
    """Values foster may set without CAP_SYS_RESOURCE (at or below the hard
    limits it inherits), so the test runs in any container."""
    d = plain_runner.tmp
    for resource_id, value in ((resource.RLIMIT_NOFILE, 1000), (resource.RLIMIT_NPROC, 4000),
                               (resource.RLIMIT_MEMLOCK, 4 << 20), (resource.RLIMIT_STACK, 16 << 20),
                               (resource.RLIMIT_CPU, 3600)):
        if not fits_hard_limit(resource_id, value):
            pytest.skip(f"the hard limit of resource {resource_id} is below {value}")
    core_hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
    core = "unlimited" if core_hard == resource.RLIM_INFINITY else str(core_hard)
    foster, _ = start(plain_runner, f"""
        [services.tuned]
        command = [{q(PROBE)}, "report", {q(d / "tuned.report")}, "hold"]
        limits = {{ nofile = 1000, nproc = {{ soft = 3000, hard = 4000 }}, core = {q(core)}, memlock = "4MiB", stack = {{ soft = "4MiB", hard = "16MiB" }}, cpu = "1h" }}
        nice = 5
        oom_score_adjust = 500
        no_new_privileges = true

        [services.plain]
        command = [{q(PROBE)}, "report", {q(d / "plain.report")}, "hold"]
        """)
    tuned = wait_report(str(d / "tuned.report"))["pid"]
    plain = wait_report(str(d / "plain.report"))["pid"]
    limits = proc_limits(tuned)
    assert limits["Max open files"] == ("1000", "1000"), limits
    assert limits["Max processes"] == ("3000", "4000"), limits
    assert limits["Max core file size"] == (core, core), limits
    assert limits["Max locked memory"] == (str(4 << 20), str(4 << 20)), limits
    assert limits["Max stack size"] == (str(4 << 20), str(16 << 20)), limits
    assert limits["Max cpu time"] == ("3600", "3600"), limits
    # Field 19 of /proc/PID/stat is the nice value (after the ")" of comm: index 16).
    stat = open(f"/proc/{tuned}/stat").read().rsplit(")", 1)[1].split()
    assert stat[16] == "5", stat
    assert open(f"/proc/{tuned}/oom_score_adj").read().strip() == "500"
    assert proc_status(tuned)["NoNewPrivs"].strip() == "1"
    # The service without the keys keeps foster's own settings.
    # RLIMIT_NOFILE: the limit foster was given (this runner's), not the one it raised for itself.
    given = tuple(str(v) for v in resource.getrlimit(resource.RLIMIT_NOFILE))
    assert proc_limits(plain)["Max open files"] == given
    assert open(f"/proc/{plain}/oom_score_adj").read() == open(f"/proc/{foster.pid}/oom_score_adj").read()
    assert proc_status(plain)["NoNewPrivs"].strip() == "0"
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_foster_raises_its_open_files_limit_and_its_children_get_the_one_it_was_given(plain_runner):
    """Thousands of services need more descriptors than a soft limit of 1024:
    foster raises its own to the hard limit (as systemd does), and gives every
    child (service, hook) the limit it was given, unless the service sets
    `limits.nofile` itself."""
    d = plain_runner.tmp
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 1024:
        pytest.skip(f"the hard limit of open files is {hard}")
    given = 512
    foster, _ = start(plain_runner, f"""
        [services.plain]
        command = [{q(PROBE)}, "report", {q(d / "plain.report")}, "hold"]
        pre_start = ["/bin/sh", "-c", {q(f"grep 'Max open files' /proc/self/limits > {d}/hook.limits")}]

        [services.own]
        command = [{q(PROBE)}, "report", {q(d / "own.report")}, "hold"]
        limits = {{ nofile = 300 }}
        """, preexec=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (given, hard)))
    plain = wait_report(str(d / "plain.report"))["pid"]
    own = wait_report(str(d / "own.report"))["pid"]
    assert proc_limits(foster.pid)["Max open files"] == (str(hard), str(hard))
    assert proc_limits(plain)["Max open files"] == (str(given), str(hard))
    assert open(d / "hook.limits").read().split()[3:5] == [str(given), str(hard)]
    assert proc_limits(own)["Max open files"] == ("300", "300")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_an_impossible_limit_fails_the_start_with_the_limit_named(plain_runner):
    d = plain_runner.tmp
    # Above fs.nr_open nobody may raise RLIMIT_NOFILE, root included.
    nr_open = int(open("/proc/sys/fs/nr_open").read())
    foster, _ = start(plain_runner, f"""
        [services.impossible]
        command = [{q(PROBE)}, "report", {q(d / "impossible.report")}, "hold"]
        limits = {{ nofile = {nr_open + 1} }}
        """)
    wait_until(lambda: "impossible: cannot set RLIMIT_NOFILE: Operation not permitted" in foster.stderr(),
               PROMPT, what="the limit failure in foster's log")
    assert not os.path.exists(d / "impossible.report")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_fosterctl_reload_name_sends_the_reload_signal_without_a_restart(plain_runner):
    from ctl_helpers import ctl, start_foster, wait_state
    d = plain_runner.tmp
    foster, cfg, sock = start_foster(plain_runner, f"""
    [services.web]
    command = {q(f"trap 'echo HUP >> {d}/web.signals' HUP; trap 'exit 0' TERM; echo $$$$ >> {d}/web.pids; while :; do sleep 0.1; done")}
    reload_signal = "HUP"

    [services.plain]
    command = ["sleep", "1000"]
    """)
    wait_state(sock, "web", "running")
    wait_until(lambda: lines(d / "web.pids"), PROMPT, what="web to start")
    r = ctl(sock, "reload", "web")
    assert r.returncode == 0, r.stderr
    wait_until(lambda: lines(d / "web.signals") == ["HUP"], PROMPT, what="web to get SIGHUP")
    assert "web: sent SIGHUP to reload it (fosterctl)" in foster.stderr()
    # No reload_signal: refused, and nothing is sent to anyone named with it.
    r = ctl(sock, "reload", "web", "plain")
    assert r.returncode == 1 and "plain has no reload_signal" in r.stderr, (r.returncode, r.stderr)
    # Without a name, reload is still foster's own (the config is read again).
    r = ctl(sock, "reload")
    assert r.returncode == 0, r.stderr
    assert lines(d / "web.signals") == ["HUP"]
    assert len(lines(d / "web.pids")) == 1, "the service was restarted"
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_stop_command_replaces_the_stop_signal(plain_runner):
    from ctl_helpers import ctl, start_foster, wait_state
    d = plain_runner.tmp
    # The service ignores SIGTERM and stops on SIGUSR1, which only its stop_command sends.
    foster, cfg, sock = start_foster(plain_runner, f"""
    [services.web]
    command = {q(f"trap 'echo TERM >> {d}/web.signals' TERM; trap 'echo USR1 >> {d}/web.signals; exit 0' USR1; echo $$$$ > {d}/web.pid; while :; do sleep 0.1; done")}
    stop_command = {q(f"echo $MAINPID > {d}/stop.mainpid; echo asked to stop; kill -USR1 $MAINPID")}
    stop_timeout = "20s"
    stdout = "prefix"
    """)
    pid = wait_state(sock, "web", "running")["pid"]
    wait_until(lambda: lines(d / "web.pid"), PROMPT, what="web to start")
    r = ctl(sock, "stop", "web")
    assert r.returncode == 0, r.stderr
    wait_state(sock, "web", "stopped")
    assert lines(d / "stop.mainpid") == [str(pid)]
    assert lines(d / "web.signals") == ["USR1"], "the stop signal was sent as well"
    assert "web: running its stop_command" in foster.stderr()
    wait_until(lambda: "web | asked to stop" in foster.stdout(), PROMPT,
               what="the stop command's output through the service's prefix")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_stop_command_is_bounded_by_stop_timeout_then_sigkill(plain_runner):
    from ctl_helpers import ctl, start_foster, wait_state
    d = plain_runner.tmp
    foster, cfg, sock = start_foster(plain_runner, f"""
    [services.stubborn]
    command = {q(f"trap '' TERM; while :; do sleep 0.1; done")}
    stop_command = {q(f"echo $$$$ > {d}/stop.pid; exec sleep 1000")}
    stop_timeout = "300ms"
    """)
    wait_state(sock, "stubborn", "running")
    r = ctl(sock, "stop", "stubborn")
    assert r.returncode == 0, r.stderr
    state = wait_state(sock, "stubborn", "stopped")
    assert state["exit_status"] == 128 + 9, state
    stop_pid = int(wait_until(lambda: lines(d / "stop.pid"), PROMPT, what="the stop command")[0])
    # The stop command, still running when the stop ended, went with it.
    wait_until(lambda: not os.path.exists(f"/proc/{stop_pid}") or
               open(f"/proc/{stop_pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z",
               PROMPT, what="the stop command to be killed")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_fosterctl_c_does_not_need_fosters_environment(plain_runner):
    from ctl_helpers import BASE_ENV, config_text, ctl, wait_answering, wait_state
    sock = str(plain_runner.tmp / "ctl.sock")
    # FOSTER_SOCKET empty (= unset): foster listens where the config says.
    env = dict(BASE_ENV, FOSTER_TEST_ONLY_FOSTER="/bin", FOSTER_SOCKET="")
    foster, cfg = start(plain_runner, config_text(sock, """
[services.web]
command = ["${FOSTER_TEST_ONLY_FOSTER}/sleep", "1000"]
"""), env=env)
    wait_answering(foster, sock)
    wait_state(sock, "web", "running")
    r = ctl(None, "-c", cfg, "status")  # fosterctl's environment lacks the variable
    assert r.returncode == 0 and "web" in r.stdout, (r.returncode, r.stderr)
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_pre_start_runs_to_completion_before_every_start(plain_runner):
    from ctl_helpers import ctl, start_foster, wait_state
    d = plain_runner.tmp
    foster, cfg, sock = start_foster(plain_runner, f"""
    [services.web]
    command = {q(f"echo svc $$$$ >> {d}/order; exec sleep 1000")}
    pre_start = {q(f"sleep 0.2; echo pre $GREETING >> {d}/order")}
    environment = {{ GREETING = "hello" }}
    """)
    wait_state(sock, "web", "running")
    # "running" comes with the exec of sh; its echo may come a moment later.
    wait_until(lambda: len(lines(d / "order")) == 2, PROMPT, what="the service's line")
    first = lines(d / "order")
    assert [l.split()[0] for l in first] == ["pre", "svc"], first
    assert first[0] == "pre hello"
    r = ctl(sock, "restart", "web")
    assert r.returncode == 0, r.stderr
    wait_until(lambda: len(lines(d / "order")) == 4, PROMPT, what="the second start")
    assert [l.split()[0] for l in lines(d / "order")] == ["pre", "svc", "pre", "svc"]
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_a_failing_or_hanging_pre_start_is_a_failed_start(plain_runner):
    from ctl_helpers import start_foster
    d = plain_runner.tmp
    foster, cfg, sock = start_foster(plain_runner, f"""
    [services.failing]
    command = {q(f"touch {d}/failing.ran; exec sleep 1000")}
    pre_start = "exit 3"
    restart_delay = "10s"

    [services.hanging]
    command = {q(f"touch {d}/hanging.ran; exec sleep 1000")}
    pre_start = {q(f"echo $$$$ > {d}/hook.pid; exec sleep 1000")}
    hook_timeout = "300ms"
    restart_delay = "10s"
    """)
    wait_until(lambda: "failing: pre_start failed (exit 3)" in foster.stderr(), PROMPT, what="the failure logged")
    wait_until(lambda: "hanging: pre_start timed out after 300ms" in foster.stderr(), PROMPT,
               what="the timeout logged")
    wait_until(lambda: "failing: starting → backoff" in foster.stderr()
               and "hanging: starting → backoff" in foster.stderr(), PROMPT, what="both in backoff")
    hook = int(lines(d / "hook.pid")[0])
    wait_until(lambda: not os.path.exists(f"/proc/{hook}"), PROMPT, what="the hanging hook to be killed and reaped")
    assert not os.path.exists(d / "failing.ran") and not os.path.exists(d / "hanging.ran")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_a_stop_during_pre_start_kills_it_and_never_starts_the_service(plain_runner):
    from ctl_helpers import ctl, start_foster, wait_state
    d = plain_runner.tmp
    foster, cfg, sock = start_foster(plain_runner, f"""
    [services.web]
    command = {q(f"touch {d}/web.ran; exec sleep 1000")}
    pre_start = {q(f"echo $$$$ > {d}/hook.pid; exec sleep 1000")}
    """)
    hook = int(wait_until(lambda: lines(d / "hook.pid"), PROMPT, what="the hook to run")[0])
    r = ctl(sock, "stop", "web")
    assert r.returncode == 0, r.stderr
    wait_state(sock, "web", "stopped")
    wait_until(lambda: not os.path.exists(f"/proc/{hook}"), PROMPT, what="the hook to be killed and reaped")
    assert not os.path.exists(d / "web.ran")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_post_stop_runs_after_every_run_with_its_exit_status(plain_runner):
    from ctl_helpers import ctl, start_foster, wait_state
    d = plain_runner.tmp
    post = f"echo post status=$FOSTER_EXIT_STATUS signal=${{FOSTER_EXIT_SIGNAL:-none}} >> {d}/order; sleep 0.3; echo post-done >> {d}/order"
    foster, cfg, sock = start_foster(plain_runner, f"""
    [services.web]
    command = {q(f"echo svc >> {d}/order; exec sleep 1000")}
    post_stop = {q(post.replace("$", "$$"))}

    [services.once]
    command = "exit 3"
    restart = "no"
    post_stop = {q(f"echo $$FOSTER_EXIT_STATUS-$${{FOSTER_EXIT_SIGNAL:-none}} > {d}/once.post")}
    """)
    wait_state(sock, "web", "running")
    r = ctl(sock, "restart", "web")
    assert r.returncode == 0, r.stderr
    wait_until(lambda: len(lines(d / "order")) == 4, PROMPT, what="post_stop, then the second start")
    # The restart waited for post_stop to finish.
    assert lines(d / "order") == ["svc", "post status=143 signal=SIGTERM", "post-done", "svc"], lines(d / "order")
    wait_until(lambda: lines(d / "once.post") == ["3-none"], PROMPT, what="the oneshot's post_stop")
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()
    # Shutdown waits for the last post_stop.
    assert lines(d / "order")[-1] == "post-done", lines(d / "order")


def test_the_examples_are_valid(plain_runner):
    examples = sorted((Path(__file__).resolve().parents[2] / "config" / "examples").glob("*.toml"))
    assert examples
    for example in examples:
        status, _, err = plain_runner.run(["--check", "-c", str(example)])
        assert status == 0, (example, err)
