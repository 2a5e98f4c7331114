"""Several archives in one index: named collections, their paths, filters and facets, updates
that add or remove one, search.toml, and a site that describes the archive it serves."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from search import SearchError, build_index, open_index, update_index
from search.cli import cli
from search.config import load_config
from search.sources import Source, parse_source, sources_from
from web import create_app

from .conftest import ARCHIVE, REPO, SAMPLE, needs_archive, write_doc, write_newer_briefings, write_small_archive, write_speeches


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def two(tmp_path):
    """An index of two collections with different front matter."""
    speeches, wh = write_speeches(tmp_path / "speeches"), write_newer_briefings(tmp_path / "wh47")
    index = tmp_path / "ix"
    build_index([Source("speeches", speeches), Source("wh47", wh)], index, facets=("president", "party"))
    return index


def test_an_archive_named_on_the_command_line_is_a_collection_and_paths_start_with_its_name(tmp_path):
    write_speeches(tmp_path / "s")
    write_newer_briefings(tmp_path / "w")
    result = run("index", "--archive", f"speeches={tmp_path / 's'}", "--archive", f"wh47={tmp_path / 'w'}",
                 "--index", str(tmp_path / "ix"), "--quiet", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["documents"] == 29 and set(report["collections"]) == {"speeches", "wh47"}
    with open_index(tmp_path / "ix") as ix:
        paths = {h.path for h in ix.search("tariffs OR address", limit=100, keep_duplicates=True).results}
        assert {p.split("/", 1)[0] for p in paths} == {"speeches", "wh47"}
        hit = ix.search("Steel Tariffs").results[0]
        assert hit.collection == "wh47" and hit.path.startswith("wh47/")
        assert ix.document(hit.path).collection == "wh47"


def test_one_archive_keeps_its_relative_paths(tmp_path):
    write_small_archive(tmp_path / "a")
    build_index(tmp_path / "a", tmp_path / "ix")
    with open_index(tmp_path / "ix") as ix:
        hit = ix.search("Maui wildfire").results[0]
        assert hit.path == "statements-releases/2024-07/2024-07-25-maui.md" and hit.collection == "a"


def test_collection_filters_in_the_query_the_option_and_the_web_agree_with_the_facet(two):
    with open_index(two) as ix:
        every = ix.search("tariffs OR war OR address", facets=True, limit=100)
        counts = {f.value: f.count for f in every.collections}
        assert set(counts) == {"speeches", "wh47"}
        for name, count in counts.items():
            by_option = ix.search("tariffs OR war OR address", collections=[name], limit=100)
            by_query = ix.search(f"(tariffs OR war OR address) collection:{name}", limit=100)
            assert by_option.total == by_query.total == count
            assert {h.collection for h in by_option.results} == {name}
            assert {h.path for h in by_option.results} == {h.path for h in by_query.results}
        # Each facet counts with the other filters only: narrowing to one collection keeps both listed.
        narrowed = ix.search("tariffs OR war OR address", collections=["speeches"], facets=True)
        assert {f.value: f.count for f in narrowed.collections} == counts
    client = create_app({"SEARCH_INDEX": str(two)}).test_client()
    body = client.get("/api/search?q=tariffs+OR+war+OR+address&collection=wh47").get_json()
    assert body["total"] == counts["wh47"] and all(r["collection"] == "wh47" for r in body["results"])
    page = client.get("/?q=tariffs+OR+war+OR+address").get_data(as_text=True)
    assert 'id="collection-title"' in page and "collection=speeches" in page


def test_a_collection_no_document_has_finds_nothing_and_names_the_closest(two):
    with open_index(two) as ix:
        results = ix.search("tariffs", collections=["speech"])
        assert results.total == 0 and results.hints == ["no document has the collection 'speech'; did you mean 'speeches'?"]
        assert ix.search("tariffs collection:wh46").hints == ["no document has the collection 'wh46'; did you mean 'wh47'?"]
    result = run("query", "tariffs", "--collection", "speech", "--index", str(two))
    assert result.exit_code == 0
    assert "Note: no document has the collection 'speech'; did you mean 'speeches'?" in result.output
    assert 'No results for "tariffs".' in result.output


def test_update_adds_and_removes_a_collection(tmp_path):
    speeches, wh, more = write_speeches(tmp_path / "speeches"), write_newer_briefings(tmp_path / "wh47"), tmp_path / "more"
    write_doc(more, "note.md", title="A note", date="'2020-01-01'", body="A note on tariffs and steel in 2020.")
    index = tmp_path / "ix"
    build_index([Source("speeches", speeches), Source("wh47", wh)], index)
    report = update_index([Source("speeches", speeches), Source("wh47", wh), Source("more", more)], index)
    assert (report.mode, report.added, report.removed, report.documents) == ("update", 1, 0, 30)
    report = update_index([Source("speeches", speeches), Source("more", more)], index)
    assert (report.mode, report.removed, report.documents) == ("update", 5, 25)
    with open_index(index) as ix:
        assert ix.search("tariffs", facets=True).collections is not None
        assert {h.collection for h in ix.search("tariffs OR address", limit=100).results} == {"speeches", "more"}
        assert ix.overview().collections and {c.value for c in ix.overview().collections} == {"speeches", "more"}
    # With no archive named, an update reads the collections the index was built from.
    write_doc(more, "later.md", title="Later", date="'2020-02-01'", body="Later words.")
    report = update_index(None, index)
    assert (report.mode, report.added, set(report.collections)) == ("update", 1, {"speeches", "more"})


def test_going_from_one_collection_to_several_is_a_rebuild_that_says_why(tmp_path):
    write_small_archive(tmp_path / "a")
    write_speeches(tmp_path / "s")
    build_index(tmp_path / "a", tmp_path / "ix")
    report = update_index([Source("a", tmp_path / "a"), Source("s", tmp_path / "s")], tmp_path / "ix")
    assert report.mode == "rebuild" and "one collection to several" in report.note


def test_archive_options_are_read_and_checked():
    assert parse_source("speeches=/data/speeches") == Source("speeches", parse_source("/data/speeches").folder)
    assert parse_source("/data/My Archive").name == "my-archive"
    with pytest.raises(SearchError, match="two archives are named 'a'"):
        sources_from(["a=/x", "a=/y"])
    with pytest.raises(SearchError, match="cannot name a collection"):
        parse_source("Bad Name=/x")


def test_search_toml_names_the_archives_facets_and_site(tmp_path):
    write_speeches(tmp_path / "speeches")
    (tmp_path / "search.toml").write_text(
        'facets = ["president"]\n[site]\ntitle = "Presidential Speeches"\ndescription = "Every address, 1789 on."\n'
        'examples = ["union liberty"]\n[archives]\naddresses = "speeches"\n[categories]\nspeeches = "Addresses"\n',
        encoding="utf-8")
    result = run("index", "--index", str(tmp_path / "ix"), "--quiet")  # search.toml beside the index
    assert result.exit_code == 0, result.output
    assert "Facets: president." in result.output
    with open_index(tmp_path / "ix") as ix:
        assert ix.overview().facets == ["president"]
    client = create_app({"SEARCH_INDEX": str(tmp_path / "ix")}).test_client()
    home = client.get("/").get_data(as_text=True)
    assert "<title>Search the archive · Presidential Speeches</title>" in home
    assert "Every address, 1789 on." in home and "union liberty" in home and "Addresses" in home
    assert "White House" not in home and "DPRK" not in home
    # The command line wins over the file.
    result = run("index", "--index", str(tmp_path / "ix"), "--quiet", "--facet", "party")
    assert "Facets: party." in result.output


@pytest.mark.parametrize("text, message", [
    ("[site]\ntitel = 'x'\n", "unknown key site.titel"),
    ("[sites]\n", "unknown key 'sites'"),
    ("facets = 'president'\n", "facets must be a list of strings"),
    ("[archives]\n'Bad Name' = 'x'\n", "cannot name a collection"),
    ("title = \n", "is not valid TOML"),
])
def test_a_bad_search_toml_is_a_one_line_error_naming_the_file(tmp_path, text, message):
    config = tmp_path / "search.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(SearchError, match=message) as caught:
        load_config(config)
    assert str(config) in str(caught.value) and "\n" not in str(caught.value)
    write_doc(tmp_path / "a", "d.md", title="D", date="'2024-01-01'", body="Words.")
    result = CliRunner().invoke(cli, ["index", "--archive", str(tmp_path / "a"), "--index", str(tmp_path / "ix")])
    assert result.exit_code == 1 and result.output.startswith("Error: ") and message.split("'")[0] in result.output


def test_without_configuration_the_site_describes_what_the_index_holds(two):
    client = create_app({"SEARCH_INDEX": str(two)}).test_client()
    home = client.get("/").get_data(as_text=True)
    for absent in ("White House", "briefing room", "Briefing Room", "DPRK", "Biden"):
        assert absent not in home, absent
    assert "Full-text search of 29 documents from 1789 to 2025 in 3 categories and 2 collections." in home
    overview = client.get("/api/overview").get_json()
    assert overview["facets"] == ["party", "president"] and overview["site"]["title"] == "Archive Search"
    examples = overview["site"]["examples"]
    assert len(examples) >= 3
    for example in examples:  # drawn from the index: each finds something
        assert client.get("/api/search", query_string={"q": example}).get_json()["total"] > 0, example
        assert f'q={example.split()[0]}' in home
    # Category slugs read by the general rule.
    assert "Briefings statements" in client.get("/?q=tariffs").get_data(as_text=True)


def test_the_sample_archive_s_wording_is_its_configuration_not_code(tmp_path):
    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    shutil.copy(REPO / "search.toml", tmp_path / "search.toml")
    build_index(tmp_path / "seeds", tmp_path / "index")
    client = create_app({"SEARCH_INDEX": str(tmp_path / "index")}).test_client()
    home = client.get("/").get_data(as_text=True)
    assert "Briefing Room Search" in home and "DPRK Russia" in home and 'placeholder="e.g. DPRK Russia"' in home
    assert "Statements &amp; releases" in home
    templates = "".join(p.read_text(encoding="utf-8") for p in (REPO / "web" / "templates").glob("*.html"))
    code = "".join(p.read_text(encoding="utf-8") for p in (REPO / "web").glob("*.py"))
    for wording in ("Briefing Room", "White House", "DPRK", "Maui"):
        assert wording not in templates + code, wording


@needs_archive()
def test_the_real_archive_beside_a_small_one_as_two_collections(tmp_path):
    """../shared/archive as one collection beside a generated one: every document keeps its
    place, the collection filter splits them, and the archive's own copies fold."""
    write_speeches(tmp_path / "speeches")
    index = tmp_path / "ix"
    report = build_index([Source("biden", ARCHIVE), Source("speeches", tmp_path / "speeches")], index)
    assert report.documents == 12_255 + 24
    with open_index(index) as ix:
        assert ix.document(f"biden/{SAMPLE}").collection == "biden"
        counts = {c.value: c.count for c in ix.overview().collections}
        assert counts == {"biden": 12_255, "speeches": 24}
        war = ix.search("war", facets=True)
        split = {c.value: c.count for c in war.collections}
        assert sum(split.values()) == war.total and split["speeches"] > 0 and split["biden"] > 0
        assert ix.search("war", collections=["speeches"]).total == split["speeches"]
        assert report.duplicate_groups > 0 and ix.overview().duplicate_groups == report.duplicate_groups
