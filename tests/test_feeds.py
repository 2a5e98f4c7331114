"""The Atom feed of a search, read by feedparser as a feed reader would: it validates, its
entries are the newest matches, their ids stay the same across a rebuild, and the results page
links it."""

from __future__ import annotations

import feedparser

from search import build_index
from web import create_app

from .conftest import write_doc


def _archive(root):
    for n in range(60):
        year, month = 2021 + n % 3, n % 12 + 1
        write_doc(root, f"statements-releases/{year}-{month:02d}/doc-{n:02d}.md", title=f"'Statement {n} on Ukraine & <aid>'",
                  date=f"'{year}-{month:02d}-{n % 28 + 1:02d}'", tags="statements-releases",
                  source_url=f"https://example.gov/{n}/", body=f"Ukraine aid, part {n}. More on Ukraine and aid.")
    write_doc(root, "press-briefings/b.md", title="'Press Briefing'", date="'2024-12-30'", tags="press-briefings",
              body="MS. JEAN-PIERRE: On Ukraine, the aid goes on.\n\nQ And Gaza?\n")
    write_doc(root, "blog/other.md", title="Other", date="'2024-12-31'", tags="blog", body="Nothing about it.")
    return root


def _client(index):
    return create_app({"SEARCH_INDEX": str(index), "TESTING": True}).test_client()


def test_the_feed_is_valid_atom_of_the_newest_matches(tmp_path):
    build_index(_archive(tmp_path / "a"), tmp_path / "ix")
    client = _client(tmp_path / "ix")
    response = client.get("/feed?q=Ukraine+aid")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "“Ukraine aid” · Archive Search"  # the site title (search.toml, else the default)
    assert len(feed.entries) == 50  # of 61 matches, the newest 50
    dates = [e.updated_parsed for e in feed.entries]
    assert dates == sorted(dates, reverse=True) and feed.feed.updated_parsed == dates[0]
    first = feed.entries[0]
    assert first.title == "Press Briefing" and first.updated.startswith("2024-12-30")
    assert first.summary.startswith("Ms. Jean-Pierre: ") and "Ukraine" in first.summary  # whose words, as the page says
    assert first.id == first.link == "http://localhost/doc/press-briefings/b.md"
    assert [t.term for t in first.tags] == ["press-briefings"]
    statement = next(e for e in feed.entries if "Statement" in e.title)
    assert "<aid>" in statement.title  # escaped in the XML, read back as written
    assert any(link.rel == "related" and link.href.startswith("https://example.gov/") for link in statement.links)
    total = client.get("/api/search?q=Ukraine+aid&sort=newest").get_json()["total"]
    assert total == 61


def test_entry_ids_stay_the_same_across_a_rebuild_and_filters_narrow_the_feed(tmp_path):
    archive = _archive(tmp_path / "a")
    build_index(archive, tmp_path / "ix")
    before = [e.id for e in feedparser.parse(_client(tmp_path / "ix").get("/feed?q=Ukraine").data).entries]
    build_index(archive, tmp_path / "ix")  # a rebuild: a new generation, new document numbers
    after = [e.id for e in feedparser.parse(_client(tmp_path / "ix").get("/feed?q=Ukraine").data).entries]
    assert before == after and len(set(before)) == len(before) == 50
    narrowed = feedparser.parse(_client(tmp_path / "ix").get("/feed?q=Ukraine&tag=press-briefings").data)
    assert [e.id for e in narrowed.entries] == ["http://localhost/doc/press-briefings/b.md"]


def test_the_results_page_links_its_feed_and_a_bad_feed_request_is_a_400(tmp_path):
    build_index(_archive(tmp_path / "a"), tmp_path / "ix")
    client = _client(tmp_path / "ix")
    page = client.get("/?q=Ukraine&tag=statements-releases&page=2&sort=oldest").get_data(as_text=True)
    assert '<link rel="alternate" type="application/atom+xml"' in page
    assert 'href="/feed?q=Ukraine&amp;tag=statements-releases"' in page and ">Follow this search</a>" in page
    for url, message in (("/feed", "a feed follows a search"), ("/feed?q=a*", "too short a prefix"),
                         ("/feed?q=Ukraine&since=2024-13-01", "since")):
        response = client.get(url)
        assert response.status_code == 400 and message in response.get_data(as_text=True), url
