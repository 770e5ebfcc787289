"""Service-runner mode: where a service's stdout and stderr go — "null", a
file (appended), "prefix" (`NAME | line` on foster's own stdout/stderr), and
stderr = "stdout"; prefixed lines stay whole under concurrent writers."""
import signal

from helpers import PROMPT, wait_until
from svc_helpers import q, script, start, state_logged, wait_log


def finish(foster):
    foster.send(signal.SIGTERM)
    assert foster.wait() == 0, foster.stderr()


def test_null_discards_output(plain_runner):
    d = plain_runner.tmp
    foster, _ = start(plain_runner, f"""
        [services.quiet]
        command = {q(f"echo secret-out; echo secret-err >&2; touch {d}/quiet.ran")}
        stdout = "null"
        stderr = "null"
        restart = "no"

        [services.half]
        command = "echo visible-out; echo hidden-err >&2"
        stderr = "null"
        restart = "no"
        """)
    wait_log(foster, state_logged("quiet", "exited"))
    wait_log(foster, state_logged("half", "exited"))
    finish(foster)
    assert (d / "quiet.ran").exists()
    out, err = foster.stdout(), foster.stderr()
    assert "secret" not in out + err
    assert "hidden-err" not in out + err
    assert "visible-out\n" in out, "stdout = inherit (the default) should reach foster's stdout"


def test_file_targets_are_appended_to(plain_runner, tmp_path):
    both = tmp_path / "both.log"
    both.write_text("old line 1\nold line 2\n")
    err_only = tmp_path / "err.log"
    err_only.write_text("old err\n")
    foster, _ = start(plain_runner, f"""
        [services.both]
        command = "echo out-line; echo err-line >&2"
        stdout = {q(both)}
        stderr = "stdout"
        restart = "no"

        [services.split]
        command = "echo split-out; echo split-err >&2"
        stderr = {q(err_only)}
        restart = "no"
        """)
    wait_log(foster, state_logged("both", "exited"))
    wait_log(foster, state_logged("split", "exited"))
    finish(foster)
    assert both.read_text() == "old line 1\nold line 2\nout-line\nerr-line\n"
    assert err_only.read_text() == "old err\nsplit-err\n"
    assert "split-out\n" in foster.stdout()
    assert "err-line" not in foster.stdout() + foster.stderr()


def test_file_target_is_appended_to_across_restarts(plain_runner, tmp_path):
    log = tmp_path / "runs.log"
    log.write_text("before\n")
    foster, _ = start(plain_runner, f"""
        [services.again]
        command = "echo run"
        stdout = {q(log)}
        restart = "always"
        restart_delay = "20ms"
        start_limit_burst = 3
        """)
    wait_log(foster, state_logged("again", "fatal"))
    finish(foster)
    assert log.read_text() == "before\nrun\nrun\nrun\n"


def test_prefix_and_stderr_to_stdout(plain_runner):
    foster, _ = start(plain_runner, """
        [services.web]
        command = "echo hello from web; echo oops from web >&2"
        stdout = "prefix"
        stderr = "prefix"
        restart = "no"

        [services.db]
        command = "echo db says hi; echo db complains >&2"
        stdout = "prefix"
        stderr = "stdout"
        restart = "no"
        """)
    wait_log(foster, state_logged("web", "exited"))
    wait_log(foster, state_logged("db", "exited"))
    finish(foster)
    out = foster.stdout().splitlines()
    err = foster.stderr().splitlines()
    assert "web | hello from web" in out
    assert "web | oops from web" in err
    assert "db | db says hi" in out
    assert "db | db complains" in out
    assert not any("oops" in line for line in out)
    assert not any("complains" in line or "says hi" in line for line in err)


def test_prefix_partial_last_line_still_appears(plain_runner):
    d = plain_runner.tmp
    foster, _ = start(plain_runner, f"""
        [services.partial]
        command = {q(f"echo first; printf 'no newline at the end'; touch {d}/partial.done; exec sleep 1000")}
        stdout = "prefix"
        restart = "no"
        stop_timeout = "2s"

        [services.exits]
        command = "printf 'line one\\nunfinished'"
        stdout = "prefix"
        restart = "no"
        """)
    # A run that ended: its unfinished line is flushed, with the marker that
    # says the service did not end it.
    wait_until(lambda: "exits | unfinished [foster: no newline]\n" in foster.stdout(), PROMPT,
               what=f"the unfinished line; stdout: {foster.stdout()!r}")
    assert "exits | line one\n" in foster.stdout()
    # A run that is stopped at shutdown: the same.
    wait_until(lambda: "partial | first\n" in foster.stdout(), PROMPT, what="the first line")
    # The unfinished line has been written (not only the first): else the
    # SIGTERM could end the service before its printf ran.
    wait_until(lambda: (d / "partial.done").exists(), PROMPT, what="partial.done")
    finish(foster)
    assert "partial | no newline at the end [foster: no newline]\n" in foster.stdout()


WRITERS = r'''
import os, sys
writers, count = int(sys.argv[1]), int(sys.argv[2])
pids = []
for w in range(writers):
    pid = os.fork()
    if pid == 0:
        for i in range(count):
            head = f"w{w}-l{i}-"
            size = (i * 997 + w * 131) % 4000          # 0 .. 3999 bytes of filler
            body = (head * (size // len(head) + 1))[:size]
            line = f"{head}{size}:{body}\n".encode()
            os.write(1, line)                          # one write per line, < 4 KiB
        os._exit(0)
    pids.append(pid)
for pid in pids:
    os.waitpid(pid, 0)
'''


def expected_lines(writers, count):
    out = set()
    for w in range(writers):
        for i in range(count):
            head = f"w{w}-l{i}-"
            size = (i * 997 + w * 131) % 4000
            body = (head * (size // len(head) + 1))[:size]
            out.add(f"burst | {head}{size}:{body}")
    return out


def test_prefix_lines_stay_whole_with_concurrent_writers(plain_runner, tmp_path):
    writers, count = 4, 2500
    prog = script(tmp_path, "writers.py", WRITERS)
    foster, _ = start(plain_runner, f"""
        [services.burst]
        command = ["/usr/bin/python3", {q(prog)}, "{writers}", "{count}"]
        stdout = "prefix"
        restart = "no"
        """)
    wait_log(foster, state_logged("burst", "exited"), timeout=60)
    finish(foster)
    got = [line for line in foster.stdout().split("\n") if line]
    want = expected_lines(writers, count)
    broken = [line[:80] for line in got if line not in want]
    assert not broken, f"{len(broken)} mangled line(s), e.g. {broken[:3]}"
    assert len(got) == len(want), f"{len(want) - len(set(got))} line(s) lost, {len(got) - len(set(got))} doubled"
    assert set(got) == want
