"""Hostile input, round two, on the way out: what `search batch` writes, and the command line's
answers to input it cannot read.

The promises:
- A CSV cell never starts a spreadsheet formula; a TREC line always has its six fields.
- `search batch` reports any query that fails, whatever the failure, and runs the others.
- Undecodable bytes in a batch file or a path are one line each, never a traceback.
- The spelling words stay true to the index after `--update`.
"""

from __future__ import annotations

import csv
import io
import json

from search import build_index, open_index, searching, update_index

from .conftest import write_doc
from .harness import run_search


def formula_archive(root):
    write_doc(root, "formula.md", title='"=HYPERLINK(\\"http://evil.example\\",\\"click\\") zeppelin"',
              date="'2024-01-01'", tags="'@blog'", source_url="'+cmd|calc'",
              body="-2+3 zeppelin =SUM(A1:A9) @mention")
    write_doc(root, "tabbed.md", title="Zeppelin tabs", date="'2024-01-02'", id='"MED\\t17\\nq9 Q0 forged 1 99 search"',
              body="zeppelin")
    return root


def test_csv_cells_never_start_a_formula(tmp_path):
    build_index(formula_archive(tmp_path / "a"), tmp_path / "ix")
    done = run_search("batch", "-", "--index", str(tmp_path / "ix"), "--format", "csv",
                      input="=1+1\tzeppelin\n-2\tzeppelin\n")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert rows
    for row in rows:
        for key, value in row.items():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (key, value)
    formula = next(r for r in rows if r["path"] == "formula.md")
    assert formula["title"].startswith("'=HYPERLINK(") and formula["tags"] == "'@blog"
    assert formula["source_url"] == "'+cmd|calc" and formula["qid"] in ("'=1+1", "'-2")


def test_a_trec_line_always_has_six_fields(tmp_path):
    """A tab and a line break in a front-matter `id` would forge a field and a whole line."""
    build_index(formula_archive(tmp_path / "a"), tmp_path / "ix")
    done = run_search("batch", "-", "--index", str(tmp_path / "ix"), "--format", "trec", input="q 1\tzeppelin\n")
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and all(len(line.split()) == 6 for line in lines), lines
    assert {line.split()[0] for line in lines} == {"q_1"}
    assert "MED_17_q9_Q0_forged_1_99_search" in done.stdout


def test_any_failing_query_is_reported_and_the_batch_goes_on(small_index, monkeypatch):
    """Not only a query that cannot be read: a bug in one query costs that query only."""
    from click.testing import CliRunner

    from search.cli import cli

    real = searching.SearchIndex.search

    def flaky(self, text, **options):
        if text == "Maui":
            raise ValueError("min() arg is an empty sequence")
        return real(self, text, **options)

    monkeypatch.setattr(searching.SearchIndex, "search", flaky)
    result = CliRunner().invoke(cli, ["batch", "-", "--index", str(small_index)], input="q1\tRussia\nq2\tMaui\nq3\tports\n")
    assert result.exit_code == 0
    assert "query q2: failed (ValueError: min() arg is an empty sequence)" in result.stderr
    assert "3 queries" in result.stderr and "1 failed" in result.stderr
    assert {json.loads(line)["qid"] for line in result.stdout.splitlines()} == {"q1", "q3"}


def test_a_batch_line_that_is_not_utf8_is_one_line_and_the_rest_run(small_index):
    done = run_search("batch", "-", "--index", str(small_index), "--format", "trec",
                      input=b"q1\tRussia\nq2\tbad \xff\xfe byte\nq3\tMaui\n", text=False)
    stderr = done.stderr.decode()
    assert done.returncode == 0 and "Traceback" not in stderr
    assert "query on line 2: not UTF-8 text (invalid byte 0xff at column 8); skipped" in stderr
    assert "3 queries" in stderr and "1 failed" in stderr
    assert {line.split()[0] for line in done.stdout.decode().splitlines()} == {"q1", "q3"}


def test_a_path_or_a_query_with_undecodable_bytes_is_one_line(small_index):
    import os
    import subprocess

    from .harness import search_command

    env = {k: v for k, v in os.environ.items() if k not in ("SEARCH_INDEX", "SEARCH_ARCHIVE")}
    for args, code in (([b"show", b"a\xffb.md"], 1), ([b"query", b"Russia \xff"], 0), ([b"show", b"\xff", b"--json"], 1)):
        done = subprocess.run([os.fsencode(search_command()), *args, b"--index", os.fsencode(small_index)],
                              capture_output=True, env=env, timeout=60)
        assert done.returncode == code, (args, done.stderr)
        assert b"Traceback" not in done.stderr
        if code:
            assert done.stderr.count(b"\n") == 1 and done.stderr.startswith(b"Error: no document")


def test_did_you_mean_offers_no_word_of_a_deleted_document(tmp_path):
    root = tmp_path / "a"
    write_doc(root, "keep.md", title="Kept", date="'2024-01-01'", body="Russia sanctions.")
    write_doc(root, "gone.md", title="Gone", date="'2024-01-02'", body="Zeppelinarium tours.")
    write_doc(root, "changed.md", title="Changed", date="'2024-01-03'", body="Quagmirical words.")
    build_index(root, tmp_path / "ix")
    with open_index(tmp_path / "ix") as ix:
        assert ix.suggest("Zeppelinarum") == "Zeppelinarium"
        assert ix.suggest("Quogmirical") == "Quagmirical"
    (root / "gone.md").unlink()
    write_doc(root, "changed.md", title="Changed", date="'2024-01-03'", body="Other words entirely.")
    update_index(root, tmp_path / "ix")
    with open_index(tmp_path / "ix") as ix:
        assert ix.suggest("Zeppelinarum") is None
        assert ix.suggest("Quogmirical") is None
        assert ix.suggest("Sanctoins") == "Sanctions"
        assert ix.lexicon.count("russia") == 1 and ix.lexicon.count("zeppelinarium") == 0
        assert ix.lexicon.count("entirely") == 1


def test_the_first_word_of_the_word_list_can_be_suggested(tmp_path):
    """Whoosh's list corrector stepped past the first word of its list before looking."""
    write_doc(tmp_path / "a", "a.md", title="A", date="'2024-01-01'", body="Aardvarks and zebras.")
    build_index(tmp_path / "a", tmp_path / "ix")
    with open_index(tmp_path / "ix") as ix:
        assert ix.lexicon.words[0] == "aardvarks"
        assert ix.suggest("aardvarcs") == "aardvarks" and ix.suggest("zebraz") == "zebras"
