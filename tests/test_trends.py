"""Trends over time: the library's counts by period agree with the search's totals; the CLI's
table and JSON."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from click.testing import CliRunner

from search import QueryError, build_index, open_index
from search.cli import cli
from search.trends import MONTHS_UP_TO, build, choose_by
from web import create_app

from .conftest import write_doc, write_small_archive

QUERIES = ["Russia", "running", "president", "sanctions OR ports", ""]


@pytest.fixture
def spread_index(tmp_path):
    """The small archive, plus documents over several months (one undated) for the counts."""
    root = write_small_archive(tmp_path / "archive")
    for n, date in enumerate(["2024-07-02", "2024-07-30", "2024-06-15", "2023-03-31", "2022-01-01", "2021-11-30"]):
        write_doc(root, f"blog/extra-{n}.md", title=f"'Russia note {n}'", date=f"'{date}'", tags="blog",
                  body=f"Russia and the president spoke of ports (note {n})." if n % 2 else f"Sanctions on Russia (note {n}).")
    write_doc(root, "blog/undated.md", title="'Undated Russia note'", tags="blog", body="Russia, undated.")
    build_index(root, tmp_path / "index")
    return tmp_path / "index"


@pytest.mark.parametrize("text", QUERIES)
@pytest.mark.parametrize("filters", [{}, {"tags": ["blog"]}, {"since": "2021-11-20", "until": "2024-07-26"}])
def test_counts_agree_with_the_search_total_in_each_period(spread_index, text, filters):
    with open_index(spread_index) as ix:
        trend = ix.trends([text], **filters)
        series = trend.series[0]
        assert series.points, "every query here finds something"
        for point in series.points:
            since = max(point.since, filters.get("since", point.since))
            until = min(point.until, filters.get("until", point.until))
            if text:
                total = ix.search(text, tags=filters.get("tags", ()), since=since, until=until).total
            else:
                total = ix.browse(tags=filters.get("tags", ()), since=since, until=until).total
            assert point.count == total, (text, filters, point)
        whole = ix.search(text, **filters).total if text else ix.browse(**filters).total
        assert series.total + series.undated == whole
        assert sum(p.count for p in series.points) == series.total


def test_undated_documents_are_left_out_and_said(spread_index):
    with open_index(spread_index) as ix:
        series = ix.trends(["undated"]).series[0]
    assert (series.total, series.undated, series.points) == (0, 1, [])


def test_the_periods_span_the_matches_months_by_default(spread_index):
    with open_index(spread_index) as ix:
        trend = ix.trends(["Russia", "ports"])
    assert trend.by == "month"
    assert trend.labels[0] == "2021-11" and trend.labels[-1] == "2024-07"
    assert len(trend.labels) == 33  # every month between, the empty ones too
    assert all(s.points[i].label == label for s in trend.series for i, label in enumerate(trend.labels))
    july = trend.series[0].points[-1]
    assert (july.since, july.until) == ("2024-07-01", "2024-07-31")


def test_per_thousand_is_matches_over_the_periods_documents(spread_index):
    with open_index(spread_index) as ix:
        trend = ix.trends(["Russia"], by="month")
        everything = ix.trends([""], by="month")
    for point, whole in zip(trend.series[0].points, everything.series[0].points):
        assert point.documents == whole.count  # all live dated documents of the period
        assert point.per_thousand == (round(1000 * point.count / point.documents, 2) if point.documents else 0.0)
    july = trend.series[0].points[-1]
    assert july.label == "2024-07" and july.documents == 4 and july.count == 3 and july.per_thousand == 750.0


def test_year_and_decade_periods(spread_index):
    with open_index(spread_index) as ix:
        years = ix.trends(["Russia"], by="year")
        decades = ix.trends(["Russia"], by="decade")
    assert years.labels == ["2021", "2022", "2023", "2024"]
    assert [p.count for p in years.series[0].points] == [1, 1, 2, 4]
    assert decades.labels == ["2020s"] and decades.series[0].points[0].until == "2029-12-31"


@pytest.mark.parametrize("low, high, by", [
    (20210101, 20250131, "month"), (20200101, 20241231, "month"), (20200101, 20250101, "year"),
    (17890430, 17990101, "year"), (17890430, 20240101, "decade"),
])
def test_choose_by_the_span(low, high, by):
    assert choose_by(low, high) == by
    assert MONTHS_UP_TO == 60


def test_build_counts_by_bincount_over_old_dates():
    class Columns:  # the two columns build reads, for dates back to 1789
        day = np.array([17890430, 17890501, 18011231, 0, 20240101], dtype=np.int64)
        live = np.array([True, True, True, True, False])

    trend = build(["q"], [np.array([0, 1, 2, 3])], Columns(), None)  # type: ignore[arg-type]
    assert trend.by == "year" and trend.labels[0] == "1789" and trend.labels[-1] == "1801"
    points = trend.series[0].points
    assert (points[0].count, points[-1].count, trend.series[0].undated) == (2, 1, 1)


@pytest.mark.parametrize("texts, message", [
    (["a", "b", "c", "d", "e"], "a trend compares 1 to 4 searches, not 5"),
    ([], "a trend compares 1 to 4 searches, not 0"),
])
def test_too_many_or_no_searches_is_a_query_error(spread_index, texts, message):
    with open_index(spread_index) as ix, pytest.raises(QueryError) as caught:
        ix.trends(texts)
    assert str(caught.value) == message


def test_an_unknown_period_is_a_query_error(spread_index):
    with open_index(spread_index) as ix, pytest.raises(QueryError, match="unknown period 'week'"):
        ix.trends(["Russia"], by="week")


def test_results_timeline_is_the_trend_of_the_same_matches(spread_index):
    with open_index(spread_index) as ix:
        results = ix.search("Russia", timeline=True, tags=["blog"])
        trend = ix.trends(["Russia"], tags=["blog"])
        plain = ix.search("Russia")
    assert results.timeline == trend
    assert plain.timeline is None


def test_browse_lists_every_document_in_the_filters_newest_first(spread_index):
    with open_index(spread_index) as ix:
        results = ix.browse(tags=["blog"], limit=20, facets=True)
        dated = ix.browse(since="2024-07-01", until="2024-07-31")
    assert results.total == 8 and [h.date for h in results.results][:3] == ["2024-07-30", "2024-07-02", "2024-06-15"]
    assert results.results[-1].date is None  # undated last
    assert results.results[0].snippet.text  # the opening of the text
    assert {f.value: f.count for f in results.tags}["blog"] == 8
    assert dated.total == 4 and all(h.date.startswith("2024-07") for h in dated.results)


# --- The command line ----------------------------------------------------------------------------


def run(index, *args):
    return CliRunner().invoke(cli, ["trends", "--index", str(index), *args])


def test_cli_prints_a_table(spread_index):
    result = run(spread_index, "Russia", "ports", "--by", "year")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "year       Russia    ports",
        "2021            1        2",
        "2022            1        0",
        "2023            2        1",
        "2024            4        1",
        "Russia: 8 matches (1 undated, not counted)",
        "ports: 4 matches",
    ]
    assert "█" not in result.output  # bars only on a terminal


def test_cli_bars_on_a_terminal():
    from search.terminal import bar as _bar

    assert _bar(10, 10, 4) == "████"
    assert _bar(5, 10, 4) == "██  "
    assert _bar(1, 16, 2) == "▏ "
    assert _bar(0, 10, 3) == "   "


def test_cli_json_is_the_library_trend(spread_index):
    result = run(spread_index, "Russia", "--json", "--by", "year")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["by"] == "year" and data["series"][0]["query"] == "Russia"
    assert [p["count"] for p in data["series"][0]["points"]] == [1, 1, 2, 4]
    assert set(data["series"][0]["points"][0]) == {"label", "since", "until", "count", "documents", "per_thousand"}


def test_cli_five_searches_is_a_usage_error(spread_index):
    result = run(spread_index, "a", "b", "c", "d", "e")
    assert result.exit_code == 2
    assert result.output.strip() == "Error: a trend compares 1 to 4 searches, not 5"


# --- The web: /api/trends, /trends and the results page's chart ----------------------------------

BAR = re.compile(r'<a class="bar-link" href="([^"]+)" tabindex="-1" aria-label="([^"]+)"><rect class="bar s(\d)"[^>]* data-since="([^"]+)" '
                 r'data-until="([^"]+)" data-count="(\d+)"')


@pytest.fixture
def client(spread_index):
    app = create_app({"SEARCH_INDEX": str(spread_index), "TESTING": True})
    yield app.test_client()
    app.extensions["search"].close()


def bars(html: str) -> list[tuple[str, str, int, str, str, int]]:
    return [(unescape(url), label, int(series), since, until, int(count)) for url, label, series, since, until, count in BAR.findall(html)]


@pytest.mark.parametrize("filters", ["", "&tag=blog", "&since=2021-11-20&until=2024-07-26", "&tag=blog&tag=press-briefings"])
def test_api_trends_counts_are_api_search_totals_in_each_period(client, filters):
    answer = client.get(f"/api/trends?q=Russia&q=ports&q=running{filters}").json
    assert answer["ok"] and len(answer["series"]) == 3
    checked = 0
    for series in answer["series"]:
        for point in series["points"]:
            args = {"q": series["query"], "since": point["since"], "until": point["until"]}
            extra = parse_qs(filters.lstrip("&"))
            if "since" in extra:
                args["since"], args["until"] = max(point["since"], extra["since"][0]), min(point["until"], extra["until"][0])
            total = client.get("/api/search", query_string={**args, "tag": extra.get("tag", [])}).json["total"]
            assert point["count"] == total, (series["query"], point)
            checked += point["count"] > 0
    assert checked >= 3


def test_api_trends_by_and_per_thousand(client):
    answer = client.get("/api/trends?q=Russia&by=year").json
    points = answer["series"][0]["points"]
    assert answer["by"] == "year" and [p["label"] for p in points] == ["2021", "2022", "2023", "2024"]
    assert all(p["per_thousand"] == round(1000 * p["count"] / p["documents"], 2) for p in points)


@pytest.mark.parametrize("url, message", [
    ("/api/trends?q=a&q=b&q=c&q=d&q=e", "a chart compares at most 4 searches, not 5"),
    ("/api/trends", "give one to four searches, as in /api/trends?q=Ukraine&q=Gaza"),
    ("/api/trends?q=Russia&by=week", "by must be one of: month, year, decade, not 'week'"),
    ("/api/trends?q=Russia&since=2024-13-01", "since 2024-13-01 is not a real date"),
])
def test_api_trends_refuses_with_a_400(client, url, message):
    response = client.get(url)
    assert response.status_code == 400 and response.json == {"ok": False, "error": message}


def test_trends_page_compares_up_to_four_and_refuses_a_fifth(client):
    page = client.get("/trends?q=Russia&q=ports&q=sanctions&q=president")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert {b[2] for b in bars(html)} == {0, 1, 2, 3}
    assert html.count('<span class="swatch') == 4
    fifth = client.get("/trends?q=a&q=b&q=c&q=d&q=e")
    assert fifth.status_code == 400 and "a chart compares at most 4 searches, not 5" in fifth.get_data(as_text=True)
    empty = client.get("/trends")
    assert empty.status_code == 200 and "<svg" not in empty.get_data(as_text=True)


def test_trends_page_per_thousand_table(client):
    html = client.get("/trends?q=Russia&per=1000&by=year").get_data(as_text=True)
    assert "per 1,000 documents of each year" in html
    rows = re.findall(r'<tr><th scope="row">(\d{4})</th><td><a href="[^"]+">([\d.,]+)</a></td><td>(\d+)</td></tr>', html)
    api = {p["label"]: p for p in client.get("/api/trends?q=Russia&by=year").json["series"][0]["points"]}
    assert len(rows) == 4
    for label, shown, documents in rows:
        assert shown == f"{api[label]['per_thousand']:,.1f}" and int(documents) == api[label]["documents"]


@pytest.mark.parametrize("url", ["/?q=Russia", "/?q=Russia&tag=blog", "/?q=Russia&since=2023-01-01&until=2024-07-10",
                                 "/?tag=blog", "/trends?q=Russia&q=ports"])
def test_each_bar_links_to_the_search_narrowed_to_its_period(client, url):
    found = bars(client.get(url).get_data(as_text=True))
    assert found
    asked = parse_qs(urlsplit(url).query)
    for link, label, series, since, until, count in found:
        args = parse_qs(urlsplit(link).query)
        assert args["since"] == [max(since, asked.get("since", [since])[0])]
        assert args["until"] == [min(until, asked.get("until", [until])[0])]
        assert args.get("tag") == asked.get("tag")
        assert args["q"] == [asked["q"][series]] if "q" in asked else "q" not in args
        html = client.get(link).get_data(as_text=True)
        shown = re.search(r"<strong>([\d,]+)</strong> results?", html)
        assert shown and int(shown[1].replace(",", "")) == count, (link, label)


def test_results_page_has_a_chart_with_its_text_alternative(client):
    html = client.get("/?q=Russia").get_data(as_text=True)
    assert '<figcaption id="chart-caption" class="chart-caption">Matches by month</figcaption>' in html
    assert "<details class=\"chart-table\">\n    <summary>Show as table</summary>" in html
    assert "“Russia”: 8 dated matches, the most in July 2024 (3)." in html
    assert '<h1 class="results-heading">Results for “Russia”</h1>' in html
    assert '<a class="skip-link" href="#results">Skip to results</a>' in html and 'id="results" tabindex="-1"' in html
    assert "<script" not in html.split("<main", 1)[1]  # the chart needs no script


def test_api_search_carries_the_timeline_of_its_total(client):
    answer = client.get("/api/search?q=Russia&tag=blog").json
    assert answer["timeline"]["series"][0]["total"] + answer["timeline"]["series"][0]["undated"] == answer["total"]


def test_home_page_shows_the_archive_over_time_and_links_categories_and_years(client):
    html = client.get("/").get_data(as_text=True)
    assert "Documents over time" in html and bars(html)
    assert '<a href="/?tag=blog">Blog</a>' in html
    assert '<a href="/?since=2024-01-01&amp;until=2024-12-31">2024</a> <span class="count">5</span>' in html
    assert sum(b[5] for b in bars(html)) == 11  # every dated document (one of the twelve is undated)


def test_no_matches_no_chart(client):
    response = client.get("/?q=zyxwvut&exact=1")
    assert response.status_code == 200 and "<svg" not in response.get_data(as_text=True)
    assert client.get("/trends?q=zyxwvut").status_code == 200


@pytest.mark.archive
def test_on_the_full_archive_each_period_is_the_search_total(archive_index):
    with open_index(archive_index) as ix:
        trend = ix.trends(["Ukraine", "DPRK Russia", '"Inflation Reduction Act"', "wildfire"], tags=["statements-releases"])
        assert trend.by == "month"
        for series in trend.series:
            # The total counts each group of copies once, as the search does; a group filed in two
            # periods counts in each period's point, so the points may add up to more.
            assert series.total + series.undated == ix.search(series.query, tags=["statements-releases"]).total
            assert sum(p.count for p in series.points) >= series.total
            for point in series.points[::5]:
                found = ix.search(series.query, tags=["statements-releases"], since=point.since, until=point.until)
                assert found.total == point.count, (series.query, point)


def test_a_browse_page_charts_its_documents(client):
    html = client.get("/?tag=blog").get_data(as_text=True)
    assert '<h1 class="results-heading">Documents in Blog, newest first</h1>' in html
    assert '<p class="chart-summary">7 dated documents, the most in November 2021 (2).</p>' in html
    assert "Documents by month" in html and sum(b[5] for b in bars(html)) == 7


def test_the_timeline_is_named_as_typed(client):
    answer = client.get("/api/search?q=sanctions&speaker=Jean-Pierre").json
    assert answer["total"] == 1 and answer["timeline"]["series"][0]["query"] == "sanctions"
    corrected = client.get("/api/search?q=Kishda").json
    assert corrected["corrected"] and corrected["timeline"]["series"][0]["query"] == "Kishida"


def test_copies_count_once_in_each_period_as_the_restricted_search_does(tmp_path):
    """A document filed twice (one source URL) in January and February, and twice in March:
    each month's count is that month's total, so the group counts in January and in February,
    and once in March."""
    root = tmp_path / "archive"
    for relpath, date, body in [("blog/a.md", "2024-01-05", "Tariffs on steel."), ("statements-releases/a.md", "2024-02-05", "Tariffs on steel, filed again."),
                                ("blog/b.md", "2024-03-01", "Tariffs, a March note."), ("press-briefings/b.md", "2024-03-09", "Tariffs, a March note."),
                                ("blog/c.md", "2024-03-20", "Other tariffs.")]:
        extra = {"source_url": "'https://example.gov/same/'"} if relpath.endswith("a.md") else {}
        write_doc(root, relpath, title=f"'{relpath}'", date=f"'{date}'", tags=relpath.split("/")[0], body=body, **extra)
    # The two a.md share their source URL; the two b.md their text.
    build_index(root, tmp_path / "index")
    with open_index(tmp_path / "index") as ix:
        series = ix.trends(["tariffs"], by="month").series[0]
        assert [(p.label, p.count) for p in series.points] == [("2024-01", 1), ("2024-02", 1), ("2024-03", 2)]
        for point in series.points:
            assert point.count == ix.search("tariffs", since=point.since, until=point.until).total
        # The a.md group is in two months: it counts in each (as each month's search does), once in the total.
        assert ix.search("tariffs").total == series.total == 3 and sum(p.count for p in series.points) == 4
        whole = ix.trends([""], by="month").series[0]
        assert [p.documents for p in series.points] == [p.count for p in whole.points] == [1, 1, 2]
        assert ix.search("tariffs", timeline=True).timeline == ix.trends(["tariffs"])


@pytest.fixture
def collections_index(tmp_path):
    """Two collections: addresses from 1789 to 2014 with declared facets, and a 2025 briefing
    room with copies (tests/conftest.py)."""
    from search.sources import Source

    from .conftest import write_newer_briefings, write_speeches

    speeches, wh = write_speeches(tmp_path / "speeches"), write_newer_briefings(tmp_path / "wh47")
    build_index([Source("speeches", speeches), Source("wh47", wh)], tmp_path / "ix", facets=("president", "party"))
    return tmp_path / "ix"


@pytest.mark.parametrize("filters", [{}, {"collections": ["speeches"]}, {"filters": {"president": ["Abraham Lincoln"]}},
                                     {"collections": ["wh47"], "tags": ["presidential-actions"]}])
@pytest.mark.parametrize("text", ["", "war OR tariffs OR union", "address"])
def test_collections_and_facets_trend_as_their_totals(collections_index, filters, text):
    with open_index(collections_index) as ix:
        trend = ix.trends([text], **filters)
        for point in trend.series[0].points:
            if text:
                total = ix.search(text, since=point.since, until=point.until, **filters).total
            else:
                total = ix.browse(since=point.since, until=point.until, **filters).total
            assert point.count == total, (text, filters, point)


def test_a_span_of_two_centuries_counts_by_decade(collections_index):
    with open_index(collections_index) as ix:
        trend = ix.trends([""])
    assert trend.by == "decade" and trend.labels[0] == "1780s" and trend.labels[-1] == "2020s"
    assert [p.count for p in trend.series[0].points if p.count] == [1, 5, 6, 6, 1, 5, 3]  # the 2025 copies count once each


def test_browsing_a_collection_and_the_home_pages_links(collections_index):
    app = create_app({"SEARCH_INDEX": str(collections_index), "TESTING": True})
    client = app.test_client()
    home = client.get("/").get_data(as_text=True)
    assert '<a href="/?collection=speeches">' in home and '<a href="/?since=1780-01-01&amp;until=1789-12-31">1780s</a>' in home
    page = client.get("/?collection=speeches&president=Abraham+Lincoln")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "newest first</h1>" in html
    dates = re.findall(r'<time datetime="(\d{4}-\d\d-\d\d)">', html)
    assert len(dates) == 6 and dates == sorted(dates, reverse=True) and all(d.startswith("186") for d in dates)
    assert client.get("/api/trends?q=address&collection=speeches&by=decade").json["series"][0]["total"] == 24
    app.extensions["search"].close()


def test_cli_trends_of_a_collection_and_a_facet(collections_index):
    result = CliRunner().invoke(cli, ["trends", "address", "--index", str(collections_index), "--collection", "speeches",
                                      "--where", "president=Abraham Lincoln", "--by", "decade", "--json"])
    assert result.exit_code == 0, result.output
    series = json.loads(result.output)["series"][0]
    assert series["total"] == 6 and [(p["label"], p["count"]) for p in series["points"]] == [("1860s", 6)]
