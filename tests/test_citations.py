"""Citations of a document: Chicago, APA and BibTeX, exactly; `search show --cite`; the document page."""

from __future__ import annotations

import datetime

import pytest
from click.testing import CliRunner

from search import open_index
from search.citations import apa, bibtex, chicago, citations, cite
from search.cli import cli
from search.documents import Document
from web import create_app

NATO = "statements-releases/2024-07/2024-07-11-nato-partners.md"
DAY = datetime.date(2025, 3, 4)
CHICAGO = ("The White House. “Readout of President Biden’s Meeting with NATO’s Indo-Pacific Partners.” July 11, 2024. "
           "https://example.gov/2024/07/11/nato-partners/. Accessed March 4, 2025.")
APA = ("The White House. (2024, July 11). Readout of President Biden’s Meeting with NATO’s Indo-Pacific Partners. "
       "Retrieved March 4, 2025, from https://example.gov/2024/07/11/nato-partners/")
BIBTEX = """@misc{whitehouse2024readout,
  author = {{The White House}},
  title = {Readout of President Biden’s Meeting with {NATO}’s Indo-Pacific Partners},
  year = {2024},
  month = jul,
  date = {2024-07-11},
  url = {https://example.gov/2024/07/11/nato-partners/},
  urldate = {2025-03-04},
  note = {Accessed 2025-03-04},
}"""


@pytest.fixture
def nato(small):
    return small.document(NATO)


def test_each_style_exactly(nato):
    assert chicago(nato, "The White House", DAY) == CHICAGO
    assert apa(nato, "The White House", DAY) == APA
    assert bibtex(nato, "The White House", DAY) == BIBTEX
    assert citations(nato, "The White House", accessed=DAY).apa == APA and cite(nato, "bibtex", "The White House", accessed=DAY) == BIBTEX


def test_without_an_office_the_citation_starts_with_the_title(nato):
    assert chicago(nato, None, DAY) == CHICAGO.removeprefix("The White House. ")
    assert apa(nato, None, DAY).startswith("Readout of President Biden’s Meeting with NATO’s Indo-Pacific Partners. (2024, July 11). Retrieved March 4, 2025, from ")
    entry = bibtex(nato, None, DAY)
    assert "author" not in entry and entry.startswith("@misc{doc2024readout,")


def test_an_undated_document_without_a_url_and_another_office():
    doc = Document(path="a/b.md", title="Why? 100% & {braces}_now", date=None, tags=[], source_url=None,
                   published_time=None, modified_time=None, body="")
    assert chicago(doc, "Office of the Press Secretary", DAY) == "Office of the Press Secretary. “Why? 100% & {braces}_now.” n.d. Accessed March 4, 2025."
    assert apa(doc, "OPS", DAY) == "OPS. (n.d.). Why? 100% & {braces}_now."
    entry = bibtex(doc, "Office of the Press Secretary", DAY)
    assert entry.splitlines()[:3] == ["@misc{officeofthepresssecretaryndbracesnow,", "  author = {{Office of the Press Secretary}},",
                                      r"  title = {Why? 100\% \& \{braces\}\_now},"]
    assert "year" not in entry and "url =" not in entry


def test_a_title_ending_in_a_question_mark_keeps_it(nato):
    nato.title = "Is it done?"
    assert "“Is it done?” July 11, 2024." in chicago(nato, "The White House", DAY)


def test_cli_show_cite(small_index):
    """The office is the archive's: search.toml's [site] office, beside the index."""
    (small_index.parent / "search.toml").write_text('[site]\noffice = "The White House"\n', encoding="utf-8")
    today = datetime.date.today()
    runner = CliRunner()
    plain = runner.invoke(cli, ["show", NATO, "--index", str(small_index), "--cite"])
    assert plain.exit_code == 0 and plain.output == CHICAGO.replace("March 4, 2025", f"{today:%B} {today.day}, {today.year}") + "\n"
    entry = runner.invoke(cli, ["show", NATO, "--index", str(small_index), "--cite", "bibtex"])
    assert entry.output == BIBTEX.replace("2025-03-04", today.isoformat()) + "\n"
    wrong = runner.invoke(cli, ["show", NATO, "--index", str(small_index), "--cite", "mla"])
    assert wrong.exit_code == 2 and "'mla' is not one of 'chicago', 'apa', 'bibtex'" in wrong.output


def test_document_page_offers_the_three(small_index):
    app = create_app({"SEARCH_INDEX": str(small_index), "TESTING": True})
    html = app.test_client().get(f"/doc/{NATO}").get_data(as_text=True)
    app.extensions["search"].close()
    with open_index(small_index) as ix:
        expected = citations(ix.document(NATO))
    assert '<summary>Cite this document</summary>' in html
    assert f'<p class="citation" data-style="chicago">{expected.chicago}</p>' in html
    assert f'<p class="citation" data-style="apa">{expected.apa}</p>' in html
    assert f'<pre class="citation" data-style="bibtex" tabindex="0">{expected.bibtex}</pre>' in html
