"""Trends over time: the library's counts by period agree with the search's totals; the CLI's
table and JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from search import QueryError, build_index, open_index
from search.cli import cli
from search.trends import MONTHS_UP_TO, build, choose_by

from .conftest import write_doc, write_small_archive

QUERIES = ["Russia", "running", "president", "sanctions OR ports", ""]


@pytest.fixture
def spread_index(tmp_path):
    """The small archive, plus documents over several months (one undated) for the counts."""
    root = write_small_archive(tmp_path / "archive")
    for n, date in enumerate(["2024-07-02", "2024-07-30", "2024-06-15", "2023-03-31", "2022-01-01", "2021-11-30"]):
        write_doc(root, f"blog/extra-{n}.md", title=f"'Russia note {n}'", date=f"'{date}'", tags="blog",
                  body="Russia and the president spoke of ports." if n % 2 else "Sanctions on Russia.")
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
    from search.cli import _bar

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
