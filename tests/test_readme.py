"""The README's quick start and usage stay true: its commands exist and work as written."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from search.cli import cli

from .conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def quick_start() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.DOTALL)]


def test_the_quick_start_is_two_commands():
    commands = quick_start()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    main, tests = commands
    assert main.startswith("python3 -m venv .venv && . .venv/bin/activate && pip install . && ")
    assert "pytest" in tests and "'.[test]'" in tests


def test_ci_makes_the_quick_starts_virtual_environment():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 -m venv .venv" in ci and ". .venv/bin/activate" in ci


def test_ci_runs_the_readmes_test_command():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    steps = [line for line in ci.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert steps[-1].strip() == quick_start()[1]


def test_the_main_job_runs_as_written_with_the_installed_command(tmp_path):
    """Everything after the install, run by the real `search` executable in a fresh folder."""
    executable = shutil.which("search")
    if executable is None:
        pytest.skip("the search command is not installed (pip install . puts it on PATH)")
    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    steps = [step for step in quick_start()[0].split(" && ") if step.startswith("search ")]
    assert len(steps) == 2
    outputs = []
    for step in steps:
        argv = shlex.split(step)
        assert argv[0] == "search"
        done = subprocess.run([executable, *argv[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0].startswith("Indexed 1 document from ")
    assert "Readout of President Biden’s Meeting with NATO’s Indo-Pacific Partners" in outputs[-1]


def synopses() -> list[list[str]]:
    """The `search COMMAND ARG [--option ...]` usage lines of the README (not its pasted output)."""
    lines = re.findall(r"^search (\w+) ([A-Z]+(?:\.\.\.)? )?(\[.+)$", README, re.MULTILINE)
    lines = [(command, rest) for command, _, rest in lines]
    return [[command, *re.findall(r"--[a-z]+", rest)] for command, rest in lines]


def test_the_readme_documents_every_command():
    assert {s[0] for s in synopses()} >= {"index", "query", "show", "batch", "trends"}


@pytest.mark.parametrize("synopsis", synopses(), ids=lambda s: s[0])
def test_every_documented_option_exists(synopsis):
    command, *options = synopsis
    result = CliRunner().invoke(cli, [command, "-h"])
    assert result.exit_code == 0, f"search {command} is documented but does not exist"
    for option in options:
        assert option in result.output, f"search {command} {option} is documented but not accepted"


def test_every_guarantee_points_at_tests_that_exist():
    section = README.split("## Guarantees", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| promise")]
    assert len(rows) >= 10
    defined = {m for path in (REPO / "tests").glob("test_*.py") for m in re.findall(r"^def (test_\w+)\(", path.read_text(encoding="utf-8"), re.M)}
    for row in rows:
        named = re.findall(r"`(?:[\w/.]+::)?(test_\w+)`", row.rsplit(" | ", 1)[1])
        assert named, row[:60]
        assert set(named) <= defined, (row[:60], set(named) - defined)


# --- The pasted runs over the full archive -------------------------------------------------------


def examples() -> list[tuple[str, str | None, list[str]]]:
    """The README's pasted runs of a command over the full archive's index (`--index
    /tmp/wh-index`): (command line, what it reads on stdin, output lines). Rebuilds are left
    out (their times are the whole output), and so is --explain (all scores)."""
    found = []
    for block in re.findall(r"```\n(\$ .*?)```", README, re.DOTALL):
        first, *output = block.rstrip("\n").split("\n")
        command, stdin = first[2:], None
        if "--index /tmp/wh-index " not in command + " " or command.split()[:2] in (["search", "index"], ["search", "serve"]) or "--explain" in command:
            continue
        if command.startswith("printf "):
            printed, command = command.split(" | ", 1)
            stdin = shlex.split(printed)[1].encode().decode("unicode_escape")
        if command.startswith("search "):
            found.append((command, stdin, output))
    return found


def score_free(line: str) -> str:
    """A line of output without what changes from run to run or with a ranking's weights:
    times, and the scores of a TREC run."""
    line = re.sub(r"\(\d+\.\d+ s\)", "(… s)", line)
    line = re.sub(r", \d+\.\d+ s$", ", … s", line)
    return re.sub(r"^(\S+ Q0 \S+ \d+) \d+\.\d+ (\S+)$", r"\1 … \2", line)


def test_the_readme_pastes_runs_of_the_commands():
    commands = {command.split()[1] for command, _, _ in examples()}
    assert commands >= {"query", "show", "batch", "stats", "trends"}


@pytest.mark.archive
@pytest.mark.parametrize("command, stdin, expected", examples(), ids=lambda v: v if isinstance(v, str) and v.startswith("search") else "")
def test_each_pasted_run_is_what_the_command_prints(archive_index, command, stdin, expected):
    """Each line as pasted (of a line ending in `...`, only its start, and the output may go
    on after it; a line of `...` ends the comparison), times and scores aside."""
    places = {"/tmp/wh-index": str(archive_index), "search.toml": str(REPO / "search.toml")}  # the repository's own
    argv = [places.get(word, word) for word in shlex.split(command)[1:]]
    result = CliRunner().invoke(cli, argv, input=stdin, env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    actual = result.output.rstrip("\n").split("\n")
    for n, line in enumerate(expected):
        if line == "...":
            return
        assert n < len(actual), (command, line)
        if line.endswith(" ..."):
            assert score_free(actual[n]).startswith(score_free(line[:-4])), (command, n, actual[n])
        else:
            assert score_free(actual[n]) == score_free(line), (command, n)
    if not expected[-1].endswith(" ..."):  # else the rest of the output is left out
        assert len(actual) == len(expected), (command, actual[len(expected):][:3])
