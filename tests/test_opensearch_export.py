"""`search export --format opensearch`: files whose shape follows the bulk API's rules, with the
index's documents and fields."""

from __future__ import annotations

import json

from click.testing import CliRunner

from search import build_index, open_index
from search.cli import cli
from search.export import export_opensearch
from search.sources import Source

from .conftest import write_newer_briefings, write_speeches


def read_bulk(path) -> list[tuple[dict, dict]]:
    """The bulk format's rules: newline-delimited JSON ending in a newline, an action line then a
    source line per document."""
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    lines = text.split("\n")[:-1]
    assert len(lines) % 2 == 0
    pairs = []
    for action_line, source_line in zip(lines[::2], lines[1::2]):
        action, source = json.loads(action_line), json.loads(source_line)
        assert list(action) == ["index"] and set(action["index"]) == {"_index", "_id"}
        assert isinstance(source, dict) and "index" not in source
        pairs.append((action, source))
    return pairs


def test_the_export_holds_every_document_with_its_fields_in_bulk_format(tmp_path):
    write_speeches(tmp_path / "speeches")
    write_newer_briefings(tmp_path / "wh")
    index = tmp_path / "ix"
    build_index([Source("speeches", tmp_path / "speeches"), Source("wh47", tmp_path / "wh")], index, facets=("president",))
    result = CliRunner().invoke(cli, ["export", str(tmp_path / "out"), "--index", str(index), "--name", "speeches-and-wh"])
    assert result.exit_code == 0, result.output
    assert result.output == f"Exported 29 documents into {tmp_path / 'out'}: index.json and 1 bulk file (documents-0001.ndjson).\n"
    pairs = read_bulk(tmp_path / "out" / "documents-0001.ndjson")
    ids = [a["index"]["_id"] for a, _ in pairs]
    assert len(ids) == len(set(ids)) == 29 and {a["index"]["_index"] for a, _ in pairs} == {"speeches-and-wh"}
    definition = json.loads((tmp_path / "out" / "index.json").read_text(encoding="utf-8"))
    mapped = definition["mappings"]["properties"]
    assert definition["mappings"]["dynamic"] == "strict"
    with open_index(index) as ix:
        for action, source in pairs:
            assert set(source) <= set(mapped), set(source) - set(mapped)  # a strict mapping takes every field
            doc = ix.document(action["index"]["_id"])
            assert source["path"] == doc.path and source["body"] == doc.body and source["title"] == doc.title
            assert source["collection"] == doc.collection and source["tags"] == doc.tags and source.get("date") == doc.date
            if doc.collection == "speeches":
                assert source["president"] == doc.facets["president"] and len(source["president"]) == 1
        copies = [s for _, s in pairs if s["path"].endswith("fact-sheet-steel.md")]
        assert len(copies) == 2 and copies[0]["group"] == copies[1]["group"]
    analysis = definition["settings"]["analysis"]
    assert analysis["analyzer"]["archive_english"]["filter"][-1] == "archive_porter2"
    assert analysis["filter"]["archive_porter2"] == {"type": "stemmer", "language": "porter2"}
    assert mapped["body"]["analyzer"] == mapped["title"]["analyzer"] == "archive_english"


def test_a_large_export_is_split_into_bulk_files_under_the_limit(tmp_path, monkeypatch):
    from search import export

    write_speeches(tmp_path / "speeches")
    build_index(tmp_path / "speeches", tmp_path / "ix")
    monkeypatch.setattr(export, "BULK_FILE_BYTES", 2000)
    with open_index(tmp_path / "ix") as ix:
        report = export_opensearch(ix, tmp_path / "out")
    assert len(report.files) > 2 and report.documents == 24
    every = [s["path"] for name in report.files for _, s in read_bulk(tmp_path / "out" / name)]
    assert len(every) == 24 == len(set(every))
    for name in report.files:
        assert (tmp_path / "out" / name).stat().st_size <= 2000 or len(read_bulk(tmp_path / "out" / name)) == 1
