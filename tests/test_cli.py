"""The `search` command through Click's runner: output, messages and exit codes."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from search.cli import cli

from .conftest import REPO, write_doc


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args, input=None, env=None):
        return runner.invoke(cli, list(args), input=input, env=env, catch_exceptions=False)

    return invoke


def test_help_and_version(run):
    result = run("-h")
    assert result.exit_code == 0
    assert "search query" in result.output and "Examples" in result.output
    assert run("--version").output.startswith("search, version ")


def test_index_then_query_with_the_defaults_in_the_current_directory(run, tmp_path):
    shutil.copytree(REPO / "seeds", "seeds")
    result = run("index", "--quiet")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Indexed 1 document from ")
    assert (tmp_path / "cwd" / "index" / "CURRENT").exists()
    result = run("query", "DPRK Russia")
    assert result.exit_code == 0
    assert "1-1 of 1 result (" in result.output
    assert "Readout of President Biden’s Meeting with NATO’s Indo-Pacific Partners" in result.output
    assert "\x1b[" not in result.output  # no colour codes when not on a terminal


def test_paths_come_from_options_then_environment(run, small_archive, tmp_path):
    env = {"SEARCH_ARCHIVE": str(small_archive), "SEARCH_INDEX": str(tmp_path / "env-ix")}
    assert run("index", env=env).exit_code == 0
    assert (tmp_path / "env-ix" / "CURRENT").exists()
    assert run("index", "--index", str(tmp_path / "opt-ix"), env=env).exit_code == 0
    assert (tmp_path / "opt-ix" / "CURRENT").exists()
    assert "Maui" in run("query", "Maui", env=env).output


def test_index_summary_lists_skipped_files_and_warnings(run, small_archive, tmp_path):
    (small_archive / "broken.md").write_text("---\ntitle: [oops\n---\nbody\n")
    write_doc(small_archive, "2024-05-06-note.md", body="untitled")
    result = run("index", "--archive", str(small_archive), "--index", str(tmp_path / "ix"))
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("Indexed 6 documents")
    assert "Skipped 1 file:" in lines
    assert any(line.startswith("  broken.md: invalid YAML front matter") for line in lines)
    assert "  2024-05-06-note.md: no title; using the file name" in lines


def test_index_errors_are_one_line_with_exit_code_1(run, tmp_path):
    result = run("index", "--archive", str(tmp_path / "missing"), "--index", str(tmp_path / "ix"))
    assert result.exit_code == 1
    assert result.output == f"Error: no archive at {tmp_path / 'missing'}: the folder does not exist\n"


def test_query_without_an_index(run, tmp_path):
    result = run("query", "Russia")
    assert result.exit_code == 1
    assert result.output == "Error: no index at index; run 'search index' first\n"


def test_query_on_an_incompatible_index(run, small_index):
    meta = small_index / "gen-000001" / "meta.json"
    meta.write_text(meta.read_text().replace('"format":"', '"format":"0.'))
    result = run("query", "Russia", "--index", str(small_index))
    assert result.exit_code == 1
    assert "built by an incompatible version" in result.output and "run 'search index' to rebuild" in result.output
    assert len(result.output.splitlines()) == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["the"], "Error: the query has no words to search for"),
        ([""], "Error: the query is empty"),
        (["Russia", "--since", "2024-99-01"], "Error: since 2024-99-01 is not a real date"),
        (["Russia", "--until", "July"], "Error: until must be a date as YYYY-MM-DD"),
        (["a*"], "Error: 'a*' is too short a prefix"),
    ],
)
def test_bad_queries_exit_2_with_one_line(run, small_index, args, message):
    result = run("query", *args, "--index", str(small_index))
    assert result.exit_code == 2
    assert result.output.startswith(message)
    assert len(result.output.splitlines()) == 1


@pytest.mark.parametrize("text", ['"unbalanced', "(open", "AND", "OR OR", "NOT -", "x?"])
def test_malformed_queries_never_give_a_traceback(run, small_index, text):
    result = run("query", text, "--index", str(small_index))
    assert result.exit_code in (0, 2)
    assert "Traceback" not in result.output


def test_query_json(run, small_index):
    result = run("query", "Maui recovery", "--index", str(small_index), "--json", "--limit", "1")
    data = json.loads(result.output)
    assert (data["query"], data["total"], data["page"], data["limit"]) == ("Maui recovery", 1, 1, 1)
    assert data["results"][0]["path"] == "statements-releases/2024-07/2024-07-25-maui.md"
    snippet = data["results"][0]["snippet"]
    assert {snippet["text"][s:e] for s, e in snippet["matches"]} == {"Maui", "recovery"}


def test_query_text_shows_suggestion_and_correction(run, small_index):
    result = run("query", "Kishda", "--index", str(small_index))
    assert result.output.startswith('No results for "Kishda". Showing results for "Kishida".')
    result = run("query", "Russia Kishda", "--index", str(small_index))
    assert result.output.startswith("Did you mean: Russia Kishida?")


def test_query_options(run, small_index):
    result = run("query", "President", "--index", str(small_index), "--tag", "speeches-remarks", "--json")
    assert [h["path"] for h in json.loads(result.output)["results"]] == ["speeches-remarks/2022-08/2022-08-16-ira-signing.md"]
    result = run("query", "President OR Maui", "--index", str(small_index), "--sort", "oldest", "--limit", "1", "--page", "2", "--json")
    data = json.loads(result.output)
    assert data["page"] == 2 and data["results"][0]["rank"] == 2
    assert run("query", "x", "--sort", "sideways", "--index", str(small_index)).exit_code == 2


def test_show(run, small_index):
    result = run("show", "blog/2021-11/2021-11-17-ports.md", "--index", str(small_index))
    assert result.output.splitlines()[:2] == ["Recent Progress at Our Ports", "2021-11-17 · blog"]
    data = json.loads(run("show", "blog/2021-11/2021-11-17-ports.md", "--index", str(small_index), "--json").output)
    assert data["body"].startswith("The ports of Los Angeles")
    result = run("show", "nope.md", "--index", str(small_index))
    assert result.exit_code == 1 and result.output == "Error: no document 'nope.md' in the index\n"


def test_update_flag(run, small_archive, small_index):
    write_doc(small_archive, "new.md", title="New", date="'2024-09-09'", body="A zeppelin.")
    result = run("index", "--update", "--archive", str(small_archive), "--index", str(small_index))
    assert result.output.startswith(f"Updated {small_index}: 1 added, 0 changed, 0 removed; 6 documents")
    result = run("index", "--update", "--archive", str(small_archive), "--index", str(small_index))
    assert result.output.startswith(f"The index at {small_index} is up to date (6 documents).")


def test_index_json_report(run, small_archive, tmp_path):
    data = json.loads(run("index", "--archive", str(small_archive), "--index", str(tmp_path / "ix"), "--json").output)
    assert data["mode"] == "rebuild" and data["documents"] == 5 and data["skipped"] == []


def test_counts_are_singular_or_plural_and_facets_fill_the_json(run, small_index):
    one = run("query", "Maui recovery", "--index", str(small_index), "--limit", "1")
    assert "1-1 of 1 result (" in one.output
    several = run("query", "President OR Maui", "--index", str(small_index), "--limit", "1")
    assert " results (" in several.output and " result (" not in several.output
    plain = json.loads(run("query", "President", "--index", str(small_index), "--json").output)
    assert plain["tags"] is None and plain["years"] is None  # not asked for: not counted
    data = json.loads(run("query", "President", "--index", str(small_index), "--json", "--facets").output)
    assert sum(f["count"] for f in data["tags"]) >= data["total"] > 0
    assert sum(f["count"] for f in data["years"]) == data["total"]
    text = run("query", "President", "--index", str(small_index), "--facets").output
    assert "\nCategories: " in text and "\nYears: " in text


@pytest.mark.parametrize("env, coloured", [({}, True), ({"NO_COLOR": "1"}, False), ({"TERM": "dumb"}, False)])
def test_no_color_and_a_dumb_terminal_turn_colour_off_on_a_terminal(small_index, env, coloured):
    """The real command on a pseudo-terminal: bold and colour codes unless NO_COLOR or TERM=dumb."""
    import os
    import pty
    import subprocess

    command = shutil.which("search")
    if command is None:
        pytest.skip("the search command is not installed (pip install . puts it on PATH)")
    leader, follower = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")} | {"TERM": "xterm"} | env
    process = subprocess.run([command, "query", "Maui recovery", "--index", str(small_index)], stdout=follower,
                             stderr=subprocess.PIPE, env=environment, timeout=120)
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert process.returncode == 0 and b"Maui" in output
    assert (b"\x1b[" in output) is coloured
