"""/export and search/download.py: every match as the rows of `search batch`, capped and saying so."""

from __future__ import annotations

import csv
import io
import json

import pytest

from search import QueryError, build_index, open_index
from search.batch import CSV_FIELDS
from search.download import EXPORT_CAP, export, rows
from web import create_app

from .conftest import write_doc, write_small_archive


@pytest.fixture
def index(tmp_path):
    """The small archive, plus 30 notes on budgets (one whose title a spreadsheet would run)."""
    root = write_small_archive(tmp_path / "archive")
    for n in range(30):
        write_doc(root, f"blog/budget-{n:02d}.md", title=f"'Budget note {n}'", date=f"'2024-01-{n + 1:02d}'", tags="blog",
                  body="The budget and the deficit." + " budget" * n)
    write_doc(root, "blog/formula.md", title="'=HYPERLINK(\"http://x\") budget'", date="'2023-05-05'", tags="blog", body="budget")
    build_index(root, tmp_path / "index")
    return tmp_path / "index"


@pytest.fixture
def client(index):
    app = create_app({"SEARCH_INDEX": str(index), "TESTING": True})
    yield app.test_client()
    app.extensions["search"].close()


def test_csv_export_has_every_match_in_the_search_order(client):
    response = client.get("/export?q=budget&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="search-export.csv"'
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    total = client.get("/api/search?q=budget").json["total"]
    assert len(table) == total == 31
    assert list(table[0]) == CSV_FIELDS
    first_page = [hit["path"] for hit in client.get("/api/search?q=budget&limit=100").json["results"]]
    assert [row["path"] for row in table] == first_page
    assert [row["rank"] for row in table] == [str(n) for n in range(1, 32)]
    assert response.headers["X-Export-Total"] == "31" and response.headers["X-Export-Truncated"] == "false"
    assert response.headers["X-Export-Cap"] == str(EXPORT_CAP)
    formula = next(row for row in table if row["path"] == "blog/formula.md")
    assert formula["title"] == "'=HYPERLINK(\"http://x\") budget"  # a formula is made text, as batch does


def test_jsonl_export_with_filters_and_order(client):
    response = client.get("/export?q=budget&format=jsonl&tag=blog&since=2024-01-10&sort=oldest")
    assert response.mimetype == "application/x-ndjson"
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert len(lines) == 21 and [line["date"] for line in lines] == sorted(line["date"] for line in lines)
    assert lines[0]["date"] == "2024-01-10" and lines[0]["query"] == "budget" and lines[0]["qid"] == "1"
    assert lines[0]["snippet"] == {"text": "", "matches": [], "speaker": None, "turn": None}  # no snippets: see download.py


def test_export_without_words_lists_the_filters_documents_newest_first(client):
    lines = client.get("/export?tag=blog&format=jsonl").get_data(as_text=True).splitlines()
    dates = [json.loads(line)["date"] for line in lines]
    assert len(dates) == 32 and dates[0] == "2024-01-30" and dates == sorted(dates, reverse=True)


def test_the_cap_stops_the_export_and_says_so(index):
    with open_index(index) as ix:
        found = export(ix, "budget", cap=5)
        body = "".join(rows(found, "csv"))
    assert (found.total, found.rows, found.truncated) == (31, 5, True)
    assert len(list(csv.DictReader(io.StringIO(body)))) == 5


def test_the_results_page_links_the_export(client):
    html = client.get("/?q=budget&tag=blog").get_data(as_text=True)
    assert '<a href="/export?format=csv&amp;q=budget&amp;tag=blog">Export as CSV</a>' in html
    assert '<a href="/export?format=jsonl&amp;q=budget&amp;tag=blog">JSON lines</a>' in html


@pytest.mark.parametrize("url, message", [
    ("/export?q=budget&format=xml", "format must be one of: csv, jsonl, not 'xml'"),
    ("/export?format=csv", "an export needs a search, or a category or dates: /export?q=Ukraine&format=csv"),
    ("/export?q=budget&since=2024-02-30", "since 2024-02-30 is not a real date"),
    ("/export?q=budget&sort=sideways", "unknown sort 'sideways'; use one of: relevance, newest, oldest"),
])
def test_a_bad_export_is_a_400_in_one_line(client, url, message):
    response = client.get(url)
    assert response.status_code == 400 and response.get_data(as_text=True) == f"Error: {message}\n"


def test_rows_refuses_an_unknown_format(index):
    with open_index(index) as ix, pytest.raises(QueryError):
        list(rows(export(ix, "budget"), "xml"))


def test_a_speaker_alone_exports_what_they_said(tmp_path):
    from .conftest import write_small_archive as small

    root = small(tmp_path / "a")
    build_index(root, tmp_path / "i")
    app = create_app({"SEARCH_INDEX": str(tmp_path / "i"), "TESTING": True})
    client = app.test_client()
    lines = client.get("/export?speaker=Jean-Pierre&format=jsonl").get_data(as_text=True).splitlines()
    assert [json.loads(line)["path"] for line in lines] == [r["path"] for r in client.get("/api/search?speaker=Jean-Pierre").json["results"]]
    assert len(lines) == 1
    app.extensions["search"].close()
