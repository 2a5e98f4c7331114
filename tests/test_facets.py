"""Declared facets (`--facet KEY`), clear words for wrong fields and values, and archives whose
dates span centuries."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from search import QueryError, SearchError, build_index, open_index
from search.cli import cli
from search.facets import check_keys
from search.settings import MAX_LIMIT
from web import create_app

from .conftest import PRESIDENTS, write_doc, write_speeches


@pytest.fixture
def speeches(tmp_path):
    write_speeches(tmp_path / "speeches")
    build_index(tmp_path / "speeches", tmp_path / "ix", facets=("president", "party"))
    return tmp_path / "ix"


def by_hand(ix, key: str) -> dict[str, int]:
    """A facet's counts made by reading every document's stored values."""
    counts: dict[str, int] = {}
    for hit in ix.search("address", limit=MAX_LIMIT).results:
        for value in ix.document(hit.path).facets[key]:
            counts[value] = counts.get(value, 0) + 1
    return counts


def test_a_declared_facet_is_stored_filterable_and_counted(speeches):
    with open_index(speeches) as ix:
        results = ix.search("address", facets=True, limit=MAX_LIMIT)
        assert results.total == 24
        assert {f.value: f.count for f in results.facets["president"]} == by_hand(ix, "president") == {p: 6 for p, _, _ in PRESIDENTS}
        assert {f.value: f.count for f in results.facets["party"]} == by_hand(ix, "party")  # a list: several values each
        assert sum(f.count for f in results.facets["party"]) == 48
        lincoln = ix.search("address", filters={"president": ["Abraham Lincoln"]}, limit=MAX_LIMIT)
        assert lincoln.total == 6 and all(h.facets["president"] == ["Abraham Lincoln"] for h in lincoln.results)
        assert all(1861 <= int(h.date[:4]) <= 1866 for h in lincoln.results)


@pytest.mark.parametrize("text", ['president:"Abraham Lincoln"', "president:Lincoln", "president:lincoln", 'president:"abraham lincoln"'])
def test_a_facet_in_the_query_chooses_values_whatever_the_case_or_by_a_word_of_the_name(speeches, text):
    with open_index(speeches) as ix:
        alone = ix.search(text, limit=MAX_LIMIT)
        beside = ix.search(f"war {text}", limit=MAX_LIMIT)
        assert alone.total == 6 and {h.facets["president"][0] for h in alone.results} == {"Abraham Lincoln"}
        assert 0 < beside.total < 6  # the words narrowed by the facet
        assert {h.path for h in beside.results} <= {h.path for h in alone.results}


def test_a_facet_value_no_document_has_gives_no_results_and_the_closest_value(speeches):
    with open_index(speeches) as ix:
        results = ix.search("address", filters={"president": ["Abraham Lincon"]})
        assert results.total == 0
        assert results.hints == ["no document has the president 'Abraham Lincon'; did you mean 'Abraham Lincoln'?"]
        assert ix.search("address president:Nixon").hints == ["no document has the president 'Nixon'."]
        with pytest.raises(QueryError, match="unknown facet 'governor'; this index's facets: party, president"):
            ix.search("address", filters={"governor": ["x"]})


def test_a_category_no_document_has_names_the_closest(small):
    results = small.search("Russia", tags=["press-briefing"])
    assert results.total == 0
    assert results.hints == ["no document has the category 'press-briefing'; did you mean 'press-briefings'?"]
    assert small.search("Russia tags:press-briefing").hints == results.hints
    assert small.search("Russia", tags=["press-briefings"]).hints == []


@pytest.mark.parametrize("text, field", [("president:Lincoln", "president"), ("Russia speakr:Kirby", "speakr"),
                                         ("source:x", "source"), ("(a OR collectionz:b)", "collectionz")])
def test_an_unknown_field_is_an_error_naming_the_fields(small, text, field):
    with pytest.raises(QueryError) as caught:
        small.search(text)
    message = str(caught.value)
    assert message.startswith(f"unknown field '{field}:'; this index's fields are: title:, body:, tags:, date:, speaker:, collection:")
    assert "path:" in message and "source_url:" in message and "\n" not in message


@pytest.mark.parametrize("text", ["Note: the budget", "https://example.gov/2024", "meeting at 10:30", '"ratio:1" budget',
                                  "Title:Budget", "permutation:, budget"])
def test_colons_that_name_no_field_stay_text(small, text):
    small.search(text)  # no error


def test_unknown_fields_and_values_through_the_cli_and_the_web(speeches):
    runner = CliRunner()
    result = runner.invoke(cli, ["query", "governor:Lincoln", "--index", str(speeches)])
    assert result.exit_code == 2 and result.output.startswith("Error: unknown field 'governor:'")
    assert len(result.output.strip().splitlines()) == 1
    result = runner.invoke(cli, ["query", "address", "--where", "president=Lincon", "--index", str(speeches)])
    assert result.exit_code == 0 and "did you mean 'Abraham Lincoln'?" in result.output
    result = runner.invoke(cli, ["query", "address", "--where", "president=Lincoln", "--index", str(speeches), "--json", "--facets"])
    data = json.loads(result.output)
    assert data["total"] == 6 and data["facets"]["president"][0] == {"value": "Abraham Lincoln", "count": 6}
    client = create_app({"SEARCH_INDEX": str(speeches)}).test_client()
    response = client.get("/api/search?q=governor:Lincoln")
    assert response.status_code == 400 and response.get_json()["error"].startswith("unknown field 'governor:'")
    page = client.get("/?q=governor:Lincoln")
    assert page.status_code == 400 and "unknown field" in page.get_data(as_text=True)
    body = client.get("/api/search?q=address&president=Abraham+Lincoln&limit=100").get_json()
    assert body["total"] == 6 and body["facets"]["party"] == [{"value": "Republican", "count": 6}, {"value": "speech-0", "count": 3},
                                                               {"value": "speech-1", "count": 3}]
    html = client.get("/?q=address&president=Abraham+Lincoln").get_data(as_text=True)
    assert 'id="president-title"' in html and "president: Abraham Lincoln" in html  # facet and its chip


def test_facet_keys_are_checked():
    assert check_keys(["president", "party", "president"]) == ("president", "party")
    for bad in ("Title", "date", "q", "page", "1st", "a-b"):
        with pytest.raises(SearchError):
            check_keys([bad])


def test_more_than_thirty_years_of_matches_count_by_decade_and_a_decade_narrows_to_its_years(speeches):
    with open_index(speeches) as ix:
        years = ix.search("address", facets=True).years
        assert [y.value for y in years] == ["2010s", "2000s", "1930s", "1860s", "1790s", "1780s"]
        assert sum(y.count for y in years) == 24 and dict((y.value, y.count) for y in years)["1860s"] == 6
        decade = ix.search("address", facets=True, since="1860-01-01", until="1869-12-31")
        assert decade.total == 6 and [y.value for y in decade.years] == [str(y) for y in range(1866, 1860, -1)]
    client = create_app({"SEARCH_INDEX": str(speeches)}).test_client()
    html = client.get("/?q=address").get_data(as_text=True)
    assert "since=1860-01-01&amp;until=1869-12-31" in html and ">1860s<" in html


def test_dates_before_1900_filter_sort_and_show(speeches):
    with open_index(speeches) as ix:
        oldest = ix.search("address", sort="oldest", limit=3).results
        assert [h.date for h in oldest] == ["1789-03-01", "1790-03-02", "1791-03-03"]
        assert ix.search("address", until="1800-12-31").total == 6
        assert ix.search("address date:1789").total == 1
        assert ix.search("address date:[1860 to 1870]").total == 6
        with pytest.raises(QueryError, match="date:1789-02-30 is not a real date"):
            ix.search("address date:1789-02-30")
        with pytest.raises(QueryError, match="since 2024-13-01 is not a real date|since must be"):
            ix.search("address", since="2024-13-01")
    page = create_app({"SEARCH_INDEX": str(speeches)}).test_client().get("/?q=address&sort=oldest").get_data(as_text=True)
    assert "March 1, 1789" in page


def test_an_impossible_date_in_the_query_is_an_error_everywhere(small_index):
    result = CliRunner().invoke(cli, ["query", "Russia date:2024-02-30", "--index", str(small_index)])
    assert result.exit_code == 2 and result.output == "Error: date:2024-02-30 is not a real date\n"


def test_a_facet_value_list_of_mixed_kinds_is_kept_and_bad_ones_reported(tmp_path):
    write_doc(tmp_path / "a", "d.md", title="D", date="'1850-01-01'", body="Words here.",
              president="[Zachary Taylor, 1849, {a: b}, Zachary Taylor]")
    report = build_index(tmp_path / "a", tmp_path / "ix", facets=("president",))
    assert [w.reason for w in report.warnings] == ["president: a value is a dict, not text; ignored"]
    with open_index(tmp_path / "ix") as ix:
        assert ix.document("d.md").facets == {"president": ["Zachary Taylor", "1849"]}
