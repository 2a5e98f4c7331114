"""Integration over the real archive (../shared/archive): every document indexed, and the
queries the project was started for rank the right documents first."""

from __future__ import annotations

import re

import pytest

from search import open_index
from search.analysis import stem

from .conftest import ARCHIVE, SAMPLE

pytestmark = pytest.mark.archive


@pytest.fixture(scope="module")
def ix(archive_index):
    with open_index(archive_index) as opened:
        yield opened


def test_every_document_is_indexed(ix):
    files = sorted(p.relative_to(ARCHIVE).as_posix() for p in ARCHIVE.rglob("*.md"))
    assert len(files) == 12255
    assert ix.overview().documents == 12255
    stored = sorted(f["path"] for f in ix._searcher.all_stored_fields())
    assert stored == files


def test_the_sample_document_ranks_first_for_its_topic(ix):
    assert ix.search("NATO Indo-Pacific partners").results[0].path == SAMPLE


def test_dprk_russia_ranks_documents_that_mention_both_first(ix):
    results = ix.search("DPRK Russia", limit=10)
    assert results.total > 100
    for hit in results.results:
        document = ix.document(hit.path)
        text = document.title + " " + document.body
        words = {stem(w.lower()) for w in re.findall(r"\w+", text)}
        assert "russia" in words, hit.path
        # DPRK, or its alias North Korea
        assert "dprk" in words or re.search(r"North\s+Korea", text), hit.path


def test_filters_on_the_real_archive(ix):
    results = ix.search("NATO Indo-Pacific partners", since="2024-01-01", tags=["statements-releases"], limit=50)
    assert results.results[0].path == SAMPLE
    assert all(h.date >= "2024-01-01" and h.tags == ["statements-releases"] for h in results.results)


def test_snippets_work_on_the_longest_document(ix):
    # The largest files by size (252 KB is mostly table markup); take the longest text.
    largest = sorted(ARCHIVE.rglob("*.md"), key=lambda p: p.stat().st_size)[-5:]
    path = max((p.relative_to(ARCHIVE).as_posix() for p in largest), key=lambda p: len(ix.document(p).body))
    body = ix.document(path).body
    assert len(body) > 150_000
    # A word near the end of the document that is rare in the archive.
    tail_words = re.findall(r"[A-Za-z]{7,}", body[-20000:])
    rare = min(tail_words, key=lambda w: ix._searcher.doc_frequency("body", stem(w.lower())))
    hit = next(h for h in ix.search(rare, limit=50).results if h.path == path)
    marked = {hit.snippet.text[s:e].lower() for s, e in hit.snippet.matches}
    assert rare.lower() in marked
    assert len(hit.snippet.text) <= 300


def test_misspelling_is_corrected_on_the_real_archive(ix):
    results = ix.search("Kishda")
    assert results.suggestion == "Kishida" and results.corrected
