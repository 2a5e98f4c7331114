"""`search batch`: many queries, the same ranking as `search query`, three output formats."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from search.batch import read_queries
from search.cli import cli

QUERIES = "# a comment\nq1\tRussia sanctions\n\nq2\tMaui recovery\nq3\tthe\nq4\tPresident OR ports OR Maui\n"


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_read_queries_with_ids_or_numbered():
    assert list(read_queries(["a\tfirst", "# skip", "", "second line", "third"])) == [
        ("a", "first"), ("2", "second line"), ("3", "third"),
    ]


def test_batch_ranks_exactly_as_query_does(small_index):
    result = run("batch", "-", "--index", str(small_index), "--limit", "5", input=QUERIES)
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    for qid, text in [("q1", "Russia sanctions"), ("q2", "Maui recovery"), ("q4", "President OR ports OR Maui")]:
        single = json.loads(run("query", text, "--index", str(small_index), "--json", "--limit", "5").stdout)
        batch_rows = [r for r in rows if r["qid"] == qid]
        assert [(r["path"], r["rank"], r["score"]) for r in batch_rows] == [
            (h["path"], h["rank"], h["score"]) for h in single["results"]
        ]
        assert batch_rows[0]["snippet"] == single["results"][0]["snippet"]


def test_a_failing_query_is_reported_and_the_rest_still_run(small_index):
    result = CliRunner().invoke(cli, ["batch", "-", "--index", str(small_index)], input=QUERIES)
    assert "query q3: the query has no words to search for" in result.stderr
    assert "4 queries" in result.stderr and "1 failed" in result.stderr
    assert {json.loads(line)["qid"] for line in result.stdout.splitlines()} == {"q1", "q2", "q4"}


def test_trec_format(small_index, tmp_path):
    out = tmp_path / "run.trec"
    result = run("batch", "-", "--index", str(small_index), "--format", "trec", "--output", str(out), input="q1\tRussia\n")
    assert result.exit_code == 0
    lines = [line.split() for line in out.read_text().splitlines()]
    assert len(lines) == 2
    assert [line[0] for line in lines] == ["q1", "q1"]
    assert [line[1] for line in lines] == ["Q0", "Q0"]
    assert [line[3] for line in lines] == ["1", "2"]
    assert float(lines[0][4]) >= float(lines[1][4])
    assert {line[5] for line in lines} == {"search"}


def test_trec_uses_the_front_matter_id_when_there_is_one(tmp_path):
    from .conftest import write_doc

    write_doc(tmp_path / "a", "doc.md", title="T", id="'MED-17'", body="zeppelin")
    run("index", "--archive", str(tmp_path / "a"), "--index", str(tmp_path / "ix"))
    result = run("batch", "-", "--index", str(tmp_path / "ix"), "--format", "trec", input="1\tzeppelin\n")
    assert result.stdout.split()[2] == "MED-17"


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_csv_and_jsonl_carry_the_same_fields(small_index, fmt):
    result = run("batch", "-", "--index", str(small_index), "--format", fmt, input="q2\tMaui\n")
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        assert rows[0]["tags"] == "statements-releases"
    else:
        rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows[0]["qid"] == "q2"
    assert rows[0]["path"] == "statements-releases/2024-07/2024-07-25-maui.md"
    assert {"query", "rank", "title", "date", "source_url", "score", "snippet"} <= set(rows[0])
