"""The bash completions (packaging/completions): bash is given a command line
as it would be when Tab is pressed (COMP_WORDS, COMP_CWORD, split at the same
word breaks), the completion function runs, and COMPREPLY is compared.
Service names come from a real foster, found through -s, --socket=, -c."""
import shlex
import subprocess
from pathlib import Path


from ctl_helpers import FOSTERCTL, start_foster

COMPLETIONS = Path(__file__).resolve().parent.parent.parent / "packaging" / "completions"
BASH = "/bin/bash"

SERVICES = """
    [services.web]
    command = ["sleep", "1000"]

    [services.db]
    command = ["sleep", "1000"]

    [services.worker]
    command = ["sleep", "1000"]
    autostart = false
"""


def complete(line, cwd=None):
    """The completions bash offers at the end of `line` (a shell command
    line, its first word the program); sorted."""
    script = f"""
        set -u
        source {shlex.quote(str(COMPLETIONS / "fosterctl"))}
        source {shlex.quote(str(COMPLETIONS / "foster"))}
        line={shlex.quote(line)}
        # Split as readline does: at blanks, keeping ':' and '=' (COMP_WORDBREAKS) as words.
        read -ra words <<<"$(sed -e 's/[:=]/ & /g' <<<"$line")"
        [[ $line == *" " || $line == *[:=] ]] && words+=("")
        COMP_WORDS=("${{words[@]}}")
        COMP_CWORD=$(( ${{#words[@]}} - 1 ))
        COMP_LINE=$line COMP_POINT=${{#line}}
        spec=$(complete -p "$(basename "${{words[0]}}")")
        function=${{spec#*-F }}; function=${{function%% *}}
        "$function"
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    out = subprocess.run([BASH, "--norc", "--noprofile", "-c", script], capture_output=True,
                         text=True, timeout=30, cwd=cwd, check=True)
    return sorted(w for w in out.stdout.split("\n") if w)


def test_both_are_registered():
    out = subprocess.run([BASH, "--norc", "-c",
                          f"source {COMPLETIONS / 'fosterctl'}; source {COMPLETIONS / 'foster'}; "
                          "complete -p fosterctl foster foster-static"],
                         capture_output=True, text=True, check=True).stdout
    assert "-F _fosterctl fosterctl" in out and "-F _foster foster" in out and "foster-static" in out, out


def test_fosterctl_commands_and_options():
    assert complete("fosterctl ") == sorted(
        "status start stop restart signal reload shutdown check reopen logs".split())
    assert complete("fosterctl re") == ["reload", "reopen", "restart"]
    assert complete("fosterctl -") == sorted(
        "-s --socket -c --config --timeout -h --help -V --version".split())
    assert complete("fosterctl -s /tmp/x.sock st") == ["start", "status", "stop"]
    assert complete("fosterctl --timeout 5s sh") == ["shutdown"]
    assert complete("fosterctl status --") == ["--json"]
    assert complete("fosterctl stop --") == ["--no-wait"]
    assert complete("fosterctl restart --") == ["--no-wait", "--overlap"]
    assert complete("fosterctl check -") == ["--quiet", "-q"]
    assert complete("fosterctl reload ") == []
    assert complete("fosterctl logs --") == ["--follow", "--json", "--lines", "--since"]
    assert complete("fosterctl logs -n ") == []


def test_signal_names():
    assert complete("fosterctl signal US") == ["USR1", "USR2"]
    assert complete("fosterctl signal sigte") == ["SIGTERM"]
    assert "HUP" in complete("fosterctl signal ")
    assert complete("foster -p KI") == ["KILL"]
    assert complete("foster -r TE") == ["TERM"]
    assert complete("foster -r TERM:IN") == ["INT"]
    assert "0" in complete("foster -r TERM:")


def test_config_files(tmp_path):
    (tmp_path / "a.toml").write_text("")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "sub").mkdir()
    assert complete("foster -c ", cwd=tmp_path) == ["a.toml", "sub"]
    assert complete("fosterctl --config=", cwd=tmp_path) == ["a.toml", "sub"]
    assert complete("fosterctl -s no", cwd=tmp_path) == ["notes.txt"]


def test_foster_options_then_program():
    opts = complete("foster --")
    assert {"--config", "--check", "--signal-group", "--rewrite", "--success-exit",
            "--parent-death-signal", "--grace", "--verbose", "--quiet", "--version",
            "--help", "--"} <= set(opts), opts
    assert "bash" in complete("foster -g -- bas")
    assert "bash" in complete("foster -e 143 bas")
    assert "bash" in complete("foster -r TERM:INT bas")


def test_service_names_from_the_running_foster(plain_runner):
    foster, cfg, sock = start_foster(plain_runner, SERVICES)
    ctl = shlex.quote(FOSTERCTL)
    names = ["db", "web", "worker"]
    assert complete(f"{ctl} -s {sock} restart ") == names
    assert complete(f"{ctl} --socket={sock} stop w") == ["web", "worker"]
    assert complete(f"{ctl} -c {cfg} status ") == names
    assert complete(f"{ctl} -s {sock} start web ") == ["db", "worker"]  # each at most once
    assert complete(f"{ctl} -s {sock} signal HUP ") == names
    assert complete(f"{ctl} -s {sock} check ") == names
    assert complete(f"{ctl} -s {sock} logs -f ") == names
    # No foster there: no names, and no error on the terminal.
    assert complete(f"{ctl} -s {plain_runner.tmp}/none.sock stop ") == []


def test_instances_and_their_table_name(plain_runner):
    foster, cfg, sock = start_foster(plain_runner, """
        [services.pool]
        instances = 2
        command = ["sleep", "1000"]
        """)
    ctl = shlex.quote(FOSTERCTL)
    assert complete(f"{ctl} -s {sock} stop ") == ["pool", "pool@1", "pool@2"]
