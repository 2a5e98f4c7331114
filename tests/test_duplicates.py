"""Copies folded: documents of one source URL or one cleaned text show once, at the rank of the
best of them, with the others as "also filed as"; totals and facets count groups."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from search import build_index, open_index
from search.cli import cli
from search.duplicates import body_digest, find_groups
from search.settings import MAX_LIMIT
from web import create_app

from .conftest import write_doc, write_newer_briefings

SHEET = ("briefings-statements/2025-05/2025-05-01-fact-sheet-steel.md", "presidential-actions/2025-05/2025-05-01-fact-sheet-steel.md")
MEMO = ("briefings-statements/2025-05/2025-05-09-omb-memo.md", "presidential-actions/2025-05/2025-05-09-omb-memo.md")


@pytest.fixture
def newer(tmp_path):
    write_newer_briefings(tmp_path / "wh")
    report = build_index(tmp_path / "wh", tmp_path / "ix")
    assert (report.duplicate_groups, report.duplicate_documents) == (2, 4)
    return tmp_path / "ix"


def test_one_text_or_one_url_filed_twice_shows_once_with_also_filed_as(newer):
    with open_index(newer) as ix:
        results = ix.search("OMB Memo M-25-11")
        assert results.total == 1 and results.folded == 1
        hit = results.results[0]
        assert {hit.path, *hit.copies} == set(MEMO) and len(hit.copies) == 1
        every = ix.search("OMB Memo M-25-11", keep_duplicates=True)
        assert every.total == 2 and every.folded == 0
        # The group shows at the rank of its best member: the best-scoring copy is the one shown.
        assert hit.path == every.results[0].path and hit.score == every.results[0].score
        sheet = ix.search("steel tariffs").results[0]
        assert {sheet.path, *sheet.copies} == set(SHEET)


def test_totals_and_facets_count_groups(newer):
    with open_index(newer) as ix:
        folded = ix.search("tariffs OR memorandum", facets=True, limit=MAX_LIMIT)
        every = ix.search("tariffs OR memorandum", facets=True, limit=MAX_LIMIT, keep_duplicates=True)
        assert (folded.total, every.total) == (3, 5)
        assert sum(f.count for f in folded.years) == folded.total
        shown = {h.path for h in folded.results}
        tags = {}
        for path in shown:
            for tag in ix.document(path).tags:
                tags[tag] = tags.get(tag, 0) + 1
        assert {f.value: f.count for f in folded.tags} == tags
        # A filter applies before folding: the copy filed under the chosen category is the one shown.
        actions = ix.search("steel tariffs", tags=["presidential-actions"])
        assert actions.results[0].path == SHEET[1] and SHEET[0] not in {h.path for h in actions.results}


def test_more_like_this_never_lists_a_copy_of_the_document(newer):
    with open_index(newer) as ix:
        for path in SHEET + MEMO:
            similar = [h.path for h in ix.similar(path, limit=10)]
            group = SHEET if path in SHEET else MEMO
            assert not set(similar) & set(group), path
            others = [p for p in similar if p in SHEET or p in MEMO]
            assert len(others) <= 1  # the other group's copies once


def test_the_index_report_the_cli_and_the_web_say_so(tmp_path, newer):
    write_newer_briefings(tmp_path / "again")
    result = CliRunner().invoke(cli, ["index", "--archive", str(tmp_path / "again"), "--index", str(tmp_path / "ix2"), "--quiet"])
    assert "Copies: 2 groups of documents with the same source URL or text (4 documents); results show each group once." in result.output
    result = CliRunner().invoke(cli, ["query", "OMB Memo M-25-11", "--index", str(newer)])
    assert f"also filed as: {MEMO[1]}" in result.output or f"also filed as: {MEMO[0]}" in result.output
    assert "1 copy folded into the documents above (--keep-duplicates lists them)." in result.output
    data = json.loads(CliRunner().invoke(cli, ["query", "OMB Memo M-25-11", "--index", str(newer), "--json", "--keep-duplicates"]).output)
    assert data["total"] == 2 and [len(r["copies"]) for r in data["results"]] == [1, 1]
    client = create_app({"SEARCH_INDEX": str(newer)}).test_client()
    body = client.get("/api/search?q=OMB+Memo+M-25-11").get_json()
    assert body["total"] == 1 and body["folded"] == 1 and len(body["results"][0]["copies"]) == 1
    assert client.get("/api/search?q=OMB+Memo+M-25-11&duplicates=all").get_json()["total"] == 2
    page = client.get("/?q=OMB+Memo+M-25-11").get_data(as_text=True)
    assert "Also filed as:" in page and "Show every copy" in page and "duplicates=all" in page
    assert page.count('class="result"') == 1
    doc = client.get(f"/doc/{MEMO[0]}").get_data(as_text=True)
    assert f'href="/doc/{MEMO[1]}' in doc and "Also filed as:" in doc
    assert client.get("/api/overview").get_json()["duplicate_groups"] == 2


def test_groups_link_through_either_key_and_ignore_empty_text():
    digests = [body_digest(t) for t in ["a b", "a  b\n", "c", "", "", "d"]]
    urls = ["", "", "https://x/1", "https://x/1", "", "https://x/2"]
    groups = find_groups(digests, urls, np.ones(6, bool))
    assert groups.group.tolist() == [0, 0, 2, 2, 4, 5]  # 0~1 by text, 2~3 by URL; 4 alone (empty text)
    assert groups.members == {0: [0, 1], 2: [2, 3]}
    # A copy of a copy belongs too: 0~1 by text, 1~2 by URL.
    chained = find_groups([body_digest(t) for t in ["x", "x", "y"]], ["", "u", "u"], np.ones(3, bool))
    assert chained.members == {0: [0, 1, 2]}
    # Deleted documents make no copies.
    assert not find_groups(digests, urls, np.array([True, False, True, False, True, True])).any


def test_folding_keeps_the_best_of_each_group_in_order():
    groups = find_groups([b"a", b"a", b"b", b"a"], ["", "", "", ""], np.ones(4, bool))
    docnums = np.array([0, 1, 2, 3])
    scores = np.array([1.0, 3.0, 2.0, 3.0])
    assert groups.fold(docnums, scores).tolist() == [1, 2]  # 1 beats 3 (equal scores: the first document)
    assert groups.count(docnums) == 2


def test_an_update_that_makes_or_removes_a_copy_changes_the_groups(tmp_path):
    root = tmp_path / "a"
    write_doc(root, "one.md", title="One", date="'2024-01-01'", body="The same words in both.")
    write_doc(root, "two.md", title="Two", date="'2024-01-02'", body="Other words entirely.")
    build_index(root, tmp_path / "ix")
    from search import update_index

    write_doc(root, "two.md", title="Two", date="'2024-01-02'", body="The same words in both.")
    assert update_index(root, tmp_path / "ix").duplicate_groups == 1
    with open_index(tmp_path / "ix") as ix:
        assert ix.search("same words").total == 1
    (root / "one.md").unlink()
    assert update_index(root, tmp_path / "ix").duplicate_groups == 0
