"""The search page and its JSON twin, through Flask's test client."""

from __future__ import annotations

import json
import re
import threading
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

import web
from search import build_index, open_index, to_dict
from search.describe import readable
from search.storage import CURRENT, META
from web import create_app, formatting

from .conftest import REPO, serve_process, write_doc, write_small_archive

NATO = "statements-releases/2024-07/2024-07-11-nato-partners.md"
MAUI = "statements-releases/2024-07/2024-07-25-maui.md"
BRIEFING = "press-briefings/2023-03/2023-03-02-briefing.md"
IRA = "speeches-remarks/2022-08/2022-08-16-ira-signing.md"

HOSTILE_TITLE = "<script>window.__pwned=1</script> Sanctions \"><svg onload=window.__pwned=1>"
HOSTILE_BODY = """
    Sanctions <script>window.__pwned=1</script> on Russia.

    "><svg onload=window.__pwned=1> sanctions <img src=x onerror=window.__pwned=1> Russia
    second line <b onmouseover=window.__pwned=1>bold</b>
"""


# --- Fixtures --------------------------------------------------------------------------------


def make_client(index: Path):
    app = create_app({"SEARCH_INDEX": str(index), "TESTING": True})
    return app, app.test_client()


@pytest.fixture
def app(small_index):
    app = create_app({"SEARCH_INDEX": str(small_index), "TESTING": True})
    yield app
    app.extensions["search"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def small(small_index):
    with open_index(small_index) as ix:
        yield ix


def write_budget_archive(root: Path, count: int = 25) -> Path:
    """`count` documents about the budget over three years and two categories: 2+ pages."""
    for i in range(count):
        year = 2022 + i % 3
        tag = "press-briefings" if i % 2 else "statements-releases"
        write_doc(
            root,
            f"{tag}/{year}-03/{year}-03-{i + 1:02d}-budget-{i:02d}.md",
            title=f"'Budget Statement Number {i:02d}'",
            date=f"'{year}-03-{i + 1:02d}'",
            tags=tag,
            source_url=f"https://example.gov/{year}/budget-{i:02d}/",
            body=("The budget " * (i + 1)) + f"\n\nParagraph two of statement {i:02d}.\\\nA second line.",
        )
    return root


@pytest.fixture
def budget_index(tmp_path):
    root = write_budget_archive(tmp_path / "budget")
    build_index(root, tmp_path / "budget-ix")
    return tmp_path / "budget-ix"


@pytest.fixture
def hostile_index(tmp_path):
    root = write_small_archive(tmp_path / "hostile")
    write_doc(
        root, "statements-releases/2024-08/2024-08-01-hostile.md",
        title=json.dumps(HOSTILE_TITLE), date="'2024-08-01'", tags="statements-releases",
        source_url="'javascript:window.__pwned=1'", body=HOSTILE_BODY,
    )
    write_doc(
        root, "statements-releases/2024-08/2024-08-02-hostile-tag.md",
        title="'<img src=x onerror=window.__pwned=1> Russia sanctions'", date="'2024-08-02'",
        tags="'\"><svg onload=window.__pwned=1>'", source_url="'https://example.gov/ok/'",
        body="Russia sanctions and more sanctions on Russia.",
    )
    build_index(root, tmp_path / "hostile-ix")
    return tmp_path / "hostile-ix"


class Page(HTMLParser):
    """The parts of a page the tests read: every start tag, and the result elements."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.results: list[tuple[str, int]] = []
        self.similar: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        classes = (attrs.get("class") or "").split()
        if "result" in classes:
            self.results.append((attrs["data-path"], int(attrs["data-rank"])))
        if "similar-item" in classes:
            self.similar.append(attrs["data-path"])

    def links(self, css_class: str) -> list[str]:
        return [a["href"] for t, a in self.tags if t == "a" and css_class in (a.get("class") or "").split()]

    def find(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def page(response) -> Page:
    return Page(response.get_data(as_text=True))


def paths(response) -> list[str]:
    return [p for p, _ in page(response).results]


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


# --- The app factory -------------------------------------------------------------------------


def test_the_index_comes_from_config_then_environment_then_the_default(small_index, tmp_path, monkeypatch):
    assert create_app({"SEARCH_INDEX": str(small_index)}).config["SEARCH_INDEX"] == str(small_index)
    assert create_app().config["SEARCH_INDEX"] == "index"
    monkeypatch.setenv("SEARCH_INDEX", str(small_index))
    app = create_app()
    assert app.config["SEARCH_INDEX"] == str(small_index)
    assert app.test_client().get("/?q=Maui").status_code == 200
    assert create_app({"SEARCH_INDEX": str(tmp_path / "other")}).config["SEARCH_INDEX"] == str(tmp_path / "other")


def test_no_module_level_app_and_apps_do_not_share_an_index(small_index, budget_index):
    for module in (web, web.views):
        assert not any(isinstance(value, Flask) for value in vars(module).values())
    _, small_client = make_client(small_index)
    _, budget_client = make_client(budget_index)
    assert paths(small_client.get("/?q=Maui")) == [MAUI]
    assert paths(budget_client.get("/?q=Maui")) == []
    assert len(paths(budget_client.get("/?q=budget"))) == 10


def test_each_thread_opens_its_own_index_once(app):
    indexes = app.extensions["search"]
    mine = indexes.get()
    assert indexes.get() is mine
    theirs = []
    worker = threading.Thread(target=lambda: theirs.append(indexes.get()))
    worker.start()
    worker.join()
    assert theirs and theirs[0] is not mine
    theirs[0].close()


# --- The search page -------------------------------------------------------------------------


def test_an_empty_query_shows_what_the_archive_holds(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-documents="5"' in html
    assert "November 17, 2021" in html and "July 25, 2024" in html
    assert "Statements releases" in html and "Press briefings" in html  # slugs by the general rule (no search.toml)
    examples = re.findall(r'<ul class="examples">(.*?)</ul>', html, re.S)[0]
    links = re.findall(r'href="/\?q=([^"]+)"', examples)
    assert len(links) >= 3  # example searches, drawn from the index, are links
    for link in links:
        assert client.get(f"/api/search?q={link}").json["total"] > 0, link
    assert page(response).results == []


def test_the_search_box_is_a_labelled_autofocused_get_form_that_keeps_the_query(client):
    doc = page(client.get("/?q=DPRK+Russia"))
    form = doc.find("form", role="search")[0]
    assert form["method"] == "get" and form["action"] == "/"
    box = doc.find("input", name="q")[0]
    assert box["value"] == "DPRK Russia" and "autofocus" in box and box["type"] == "search"
    assert doc.find("label", **{"for": box["id"]})
    assert doc.find("button", type="submit")


def test_results_are_ranked_like_the_library_with_data_attributes(client, small):
    response = client.get("/?q=Russia+sanctions")
    expected = small.search("Russia sanctions", facets=True)
    assert response.status_code == 200
    assert page(response).results == [(h.path, h.rank) for h in expected.results]
    html = response.get_data(as_text=True)
    assert re.search(rf"<strong>{expected.total}</strong> results? <span class=\"time\">\(\d+\.\d\d s\)</span>", html)


def test_a_result_shows_title_date_category_marked_snippet_and_links(client, small):
    response = client.get("/?q=DPRK+Russia")
    html = response.get_data(as_text=True)
    doc = page(response)
    assert doc.results[0][0] == NATO
    item = html.split(f'data-path="{NATO}"', 1)[1].split("</li>", 1)[0]
    assert "July 11, 2024" in item and '<time datetime="2024-07-11">' in item
    assert "Statements releases" in item
    assert "<mark>DPRK</mark>" in item and "<mark>Russia</mark>" in item
    assert 'href="https://example.gov/2024/07/11/nato-partners/"' in item
    hit = small.search("DPRK Russia").results[0]
    assert item.count("<mark>") == len(hit.snippet.matches) + len(hit.title_matches)
    title_link = f'/doc/{NATO}?q=DPRK+Russia#first-match'
    assert f'href="{title_link}"' in item


def test_a_suggestion_is_a_link_and_a_correction_says_so(client, small):
    corrected = small.search("Kishda")
    assert corrected.corrected and corrected.suggestion == "Kishida"
    html = client.get("/?q=Kishda").get_data(as_text=True)
    assert "No results for “Kishda”. Showing results for “<a href=\"/?q=Kishida\">Kishida</a>”" in html
    assert f'/doc/{BRIEFING}?q=Kishida#first-match' in html  # the document marks what was searched

    suggested = small.search("Kishda sanctions")
    assert suggested.suggestion == "Kishida sanctions" and not suggested.corrected
    html = client.get("/?q=Kishda+sanctions").get_data(as_text=True)
    assert 'Did you mean: <a href="/?q=Kishida+sanctions">Kishida sanctions</a>?' in html


def test_no_results_says_so_with_hints(client):
    response = client.get("/?q=zyxwvut&tag=blog")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "No documents match “zyxwvut” with these filters." in html
    assert 'href="/?q=zyxwvut"' in html  # the way out of the filters
    assert page(response).results == []


def test_category_facets_count_narrow_and_undo(client, small):
    response = client.get("/?q=President")
    expected = small.search("President", facets=True)
    shown = dict(
        (unescape(name), int(count.replace(",", "")))
        for name, count in re.findall(
            r'<span class="facet-name">([^<]*)(?:<span[^>]*>[^<]*</span>)?</span>\s*<span class="count">([\d,]+)</span>',
            response.get_data(as_text=True),
        )
    )
    assert shown == {
        **{readable(f.value): f.count for f in expected.tags},
        **{f.value: f.count for f in expected.years},
    }
    link = next(href for href in page(response).links("facet") if query_of(href).get("tag") == ["speeches-remarks"])
    narrowed = client.get(link)
    assert paths(narrowed) == [IRA]
    undo = page(narrowed).links("chip")
    assert len(undo) == 1 and "tag" not in query_of(undo[0])
    assert set(paths(client.get(undo[0]))) == set(paths(response))


def test_year_facets_select_a_whole_year_and_undo(client):
    response = client.get("/?q=Russia")
    link = next(href for href in page(response).links("facet") if query_of(href).get("since") == ["2023-01-01"])
    assert query_of(link)["until"] == ["2023-12-31"]
    narrowed = client.get(link)
    assert paths(narrowed) == [BRIEFING]
    doc = page(narrowed)
    selected = [h for h in doc.links("facet") if h in doc.links("on")]
    assert len(selected) == 1 and "since" not in query_of(selected[0]), "the selected year links back to all years"
    assert set(paths(client.get(selected[0]))) == set(paths(response))


def test_date_range_inputs_and_sort_choice(client, small):
    doc = page(client.get("/?q=President&sort=newest"))
    assert doc.find("input", type="date", name="since") and doc.find("input", type="date", name="until")
    assert [p for p, _ in doc.results] == [h.path for h in small.search("President", sort="newest").results]
    oldest = client.get("/?q=President&sort=oldest")
    assert paths(oldest) == [h.path for h in small.search("President", sort="oldest").results]
    ranged = client.get("/?q=President&since=2022-01-01&until=2022-12-31")
    assert paths(ranged) == [IRA]


def test_pages_of_ten_with_previous_and_next(budget_index):
    _, client = make_client(budget_index)
    first = page(client.get("/?q=budget"))
    assert [r for _, r in first.results] == list(range(1, 11))
    assert not first.find("a", rel="prev")
    second = page(client.get(first.find("a", rel="next")[0]["href"]))
    assert [r for _, r in second.results] == list(range(11, 21))
    assert second.find("a", rel="prev") and second.find("a", rel="next")
    third = page(client.get(second.find("a", rel="next")[0]["href"]))
    assert [r for _, r in third.results] == list(range(21, 26))
    assert not third.find("a", rel="next")
    html = client.get("/?q=budget&page=2").get_data(as_text=True)
    assert "Page 2 of 3" in html


def test_every_state_is_a_shareable_url(budget_index):
    _, client = make_client(budget_index)
    url = "/?q=budget&tag=press-briefings&since=2023-01-01&until=2023-12-31&sort=newest&page=1"
    doc = page(client.get(url))
    assert doc.results and all(p.startswith("press-briefings/2023") for p, _ in doc.results)
    hidden = {a["name"]: a["value"] for a in doc.find("input", type="hidden")}
    assert hidden == {"tag": "press-briefings", "since": "2023-01-01", "until": "2023-12-31", "sort": "newest", "q": "budget"}


# --- Bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", "1e3", "٣", "0x10", " ", "00"])
def test_a_page_that_is_not_a_positive_whole_number_is_a_400(client, value):
    response = client.get("/", query_string={"q": "Russia", "page": value})
    if value.strip() == "":
        assert response.status_code == 200  # an empty page is the first
        return
    assert response.status_code == 400
    assert "page must be a positive whole number" in response.get_data(as_text=True)
    api = client.get("/api/search", query_string={"q": "Russia", "page": value})
    assert api.status_code == 400 and api.json["ok"] is False and "page" in api.json["error"]


@pytest.mark.parametrize("value", ["3", "99", "1" * 40, str(10**13)])
def test_a_page_past_the_end_shows_the_last_page_and_the_api_refuses_it(budget_index, value):
    _, client = make_client(budget_index)
    response = client.get("/", query_string={"q": "budget", "page": value})
    assert response.status_code == 200
    assert [r for _, r in page(response).results] == list(range(21, 26))
    if value != "3":
        assert "this is the last page" in response.get_data(as_text=True)
        api = client.get("/api/search", query_string={"q": "budget", "page": value})
        assert api.status_code == 400 and "beyond the last page (3)" in api.json["error"]


@pytest.mark.parametrize(
    "args, message",
    [
        ({"since": "2024-13-01"}, "since 2024-13-01 is not a real date"),
        ({"until": "yesterday"}, "until must be a date as YYYY-MM-DD"),
        ({"since": "2024-02-30"}, "is not a real date"),
        ({"sort": "random"}, "unknown sort"),
        ({"q": "x" * 1001}, "the query is too long"),
        ({"q": "the"}, "no words to search for"),
        ({"q": "a*"}, "too short a prefix"),
    ],
)
def test_bad_parameters_are_a_400_with_a_message(client, args, message):
    args = {"q": "Russia", **args}
    response = client.get("/", query_string=args)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert page(response).find("input", name="q")[0]["value"] == args["q"]  # the form keeps the query
    assert not page(response).find("input", type="hidden")  # but not the parameters that failed
    api = client.get("/api/search", query_string=args)
    assert api.status_code == 400 and api.json == {"ok": False, "error": api.json["error"]}
    assert message in api.json["error"]


@pytest.mark.parametrize(
    "query_string",
    [
        "q=%22unbalanced", "q=((((", "q=AND+OR", "q=*", "q=title:", "q=date:xx", "q=Russia%00",
        "q=%00%01%02", "q=%ED%A0%80", "q=Russia&q=Maui", "q=Russia&page=1&page=x", "q=Russia&sort=newest&sort=x",
        "q=Russia&since=&until=", "q=Russia&tag=", "q=Russia&tag=%00", "q=Russia&page=" + "9" * 5000,
        "q=" + "%22" * 900, "q=Russia&tag=" + "&tag=".join(str(i) for i in range(200)), "q=[2024+TO",
        "q=%E2%80%AE+Russia", "q=date:[2024+to+2023]",
    ],
)
def test_odd_input_is_never_a_500(client, query_string):
    for url in (f"/?{query_string}", f"/api/search?{query_string}", f"/doc/{NATO}?{query_string}"):
        response = client.get(url)
        assert response.status_code in (200, 400), url
        if url.startswith("/api/"):
            assert response.json["ok"] is (response.status_code == 200)


def test_repeated_single_valued_parameters_count_once(client):
    assert paths(client.get("/?q=Maui&q=Russia")) == [MAUI]
    assert client.get("/?q=Maui&page=1&page=abc").status_code == 200


def test_control_characters_read_as_spaces(client):
    assert paths(client.get("/?q=Russia%01%02")) == paths(client.get("/?q=Russia"))
    assert paths(client.get("/?q=Maui%00")) == [MAUI]


# --- The document page -----------------------------------------------------------------------


def test_the_document_page_shows_the_text_in_paragraphs(client, small):
    response = client.get(f"/doc/{BRIEFING}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1 id=\"doc-title\">Press Briefing by Press Secretary Karine Jean-Pierre</h1>" in html
    assert "March 2, 2023" in html and "Press briefings" in html
    assert 'href="https://example.gov/2023/03/02/briefing/"' in html
    body = html.split('<div class="body">', 1)[1].split('<p class="path">', 1)[0]
    assert body.count("<p>") == len(small.document(BRIEFING).body.split("\n\n")) == 2
    # A transcript: each paragraph is a turn, with its speaker and an anchor.
    assert body.count('<div class="turn" id="t') == 2 and 'data-speaker="Karine Jean-Pierre"' in body
    assert "<mark" not in html


def test_single_newlines_become_line_breaks(budget_index):
    _, client = make_client(budget_index)
    path = "statements-releases/2022-03/2022-03-01-budget-00.md"
    html = client.get(f"/doc/{path}").get_data(as_text=True)
    assert "Paragraph two of statement 00.<br>\nA second line.</p>" in html


def test_from_a_search_the_words_are_marked_and_the_first_is_an_anchor(client, small):
    html = client.get(f"/doc/{BRIEFING}?q=sanctioned+Russia").get_data(as_text=True)
    body = html.split('<div class="body">', 1)[1].split('<p class="path">', 1)[0]
    marked = re.findall(r"<mark[^>]*>([^<]*)</mark>", body)
    assert marked == ["Russia", "sanctions", "sanctions", "Russia"]
    assert body.count('id="first-match"') == 1
    assert re.search(r'<mark id="first-match" tabindex="-1">Russia</mark>', body)
    assert "4 matches for “sanctioned Russia” marked" in html


def test_a_query_that_cannot_be_read_marks_nothing_on_the_document_page(client):
    response = client.get(f"/doc/{BRIEFING}?q=the")
    assert response.status_code == 200 and "<mark" not in response.get_data(as_text=True)


def test_more_like_this_lists_the_similar_documents(client, small):
    doc = page(client.get(f"/doc/{NATO}"))
    assert doc.similar == [h.path for h in small.similar(NATO, limit=5)]
    assert doc.similar and NATO not in doc.similar


def test_an_unknown_document_is_a_404(client):
    response = client.get("/doc/press-briefings/nothing-here.md")
    assert response.status_code == 404
    assert "Document not found" in response.get_data(as_text=True)
    api = client.get("/api/doc/press-briefings/nothing-here.md")
    assert api.status_code == 404 and api.json["ok"] is False


@pytest.mark.parametrize(
    "path",
    [
        "../secret.md", "..%2Fsecret.md", "%2e%2e/secret.md", "%2E%2E%2Fsecret.md", "%252e%252e/secret.md",
        "..\\secret.md", "..%5Csecret.md", "/{secret}", "%2F{secret}", "{secret}",
        "statements-releases/../" + NATO, "./" + NATO, NATO + "%00", NATO + "%00.txt", "%00",
        NATO.replace("/", "\\"), "C:/Windows/win.ini", "C:%5CWindows%5Cwin.ini", "statements-releases//x.md",
        NATO + "/", "....//secret.md", "%c0%ae%c0%ae/secret.md",
    ],
)
def test_paths_that_try_to_leave_the_archive_are_404s_never_file_reads(client, small_index, path):
    secret = small_index.parent / "secret.md"
    secret.write_text("---\ntitle: TOP SECRET\n---\n\nTOP SECRET CONTENT\n", encoding="utf-8")
    path = path.format(secret=str(secret).lstrip("/"))
    for prefix in ("/doc/", "/api/doc/"):
        response = client.get(prefix + path)
        assert response.status_code == 404, prefix + path
        assert "TOP SECRET" not in response.get_data(as_text=True)


# --- Hostile documents -----------------------------------------------------------------------


def assert_inert(response):
    """No element or attribute the documents could have smuggled in."""
    html = response.get_data(as_text=True)
    doc = page(response)
    for tag, attrs in doc.tags:
        if tag == "svg" and attrs.get("class") == "chart-svg":  # the page's own chart (_chart.html)
            continue
        assert tag not in ("svg", "img", "iframe", "object", "embed", "style", "b"), tag
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if tag == "script":
            assert attrs.get("src") == "/static/app.js"
        for name in ("href", "src", "action"):
            assert not (attrs.get(name) or "").strip().lower().startswith("javascript:")
    assert "<script>window" not in html and html.count("<svg") == html.count('<svg class="chart-svg"') and "<img" not in html


def test_hostile_documents_render_as_text_on_every_page(hostile_index):
    _, client = make_client(hostile_index)
    results = client.get("/?q=Russia+sanctions")
    assert "statements-releases/2024-08/2024-08-01-hostile.md" in paths(results)
    assert_inert(results)
    html = results.get_data(as_text=True)
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;svg onload=window.__pwned=1&gt;" in html
    assert "<mark>Sanctions</mark>" in html

    doc = client.get("/doc/statements-releases/2024-08/2024-08-01-hostile.md?q=Russia")
    assert doc.status_code == 200
    assert_inert(doc)
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in doc.get_data(as_text=True)
    assert 'href="javascript:' not in doc.get_data(as_text=True)

    tagged = client.get("/doc/statements-releases/2024-08/2024-08-02-hostile-tag.md")
    assert_inert(tagged)
    similar = page(tagged).similar
    assert "statements-releases/2024-08/2024-08-01-hostile.md" in similar  # more like this shows it
    assert "&lt;script&gt;" in tagged.get_data(as_text=True)

    facets = client.get("/?q=Russia")
    assert_inert(facets)
    assert "&#34;&gt;&lt;svg onload=window.__pwned=1&gt;" in facets.get_data(as_text=True)  # the tag facet


def test_the_api_returns_hostile_text_as_json_strings(hostile_index):
    _, client = make_client(hostile_index)
    response = client.get("/api/doc/statements-releases/2024-08/2024-08-01-hostile.md")
    assert response.mimetype == "application/json"
    assert response.json["document"]["title"] == HOSTILE_TITLE


def test_highlighting_adds_no_markup_but_mark():
    text = '<b>Russia</b> & "sanctions"'
    spans = [[3, 9], [17, 26], [100, 120], [4, 6]]
    assert formatting.pieces(text, spans) == [
        formatting.Piece("<b>"), formatting.Piece("Russia", True), formatting.Piece("</b> & \""),
        formatting.Piece("sanctions", True), formatting.Piece('"'),
    ]
    paragraphs = formatting.paragraphs("One Russia.\nTwo.\n\n\n  Russia again.  ", [[4, 10], [21, 27]])
    assert paragraphs == [
        [[formatting.Piece("One "), formatting.Piece("Russia", True, True), formatting.Piece(".")], [formatting.Piece("Two.")]],
        [[formatting.Piece("Russia", True), formatting.Piece(" again.")]],
    ]


def test_templates_never_mark_text_safe():
    for template in (REPO / "web" / "templates").glob("*.html"):
        source = template.read_text(encoding="utf-8")
        assert "|safe" not in source.replace(" ", "") and "autoescape false" not in source, template.name
    for module in (REPO / "web").glob("*.py"):
        assert "Markup(" not in module.read_text(encoding="utf-8"), module.name


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://example.gov/x", "https://example.gov/x"),
        ("http://example.gov", "http://example.gov"),
        ("javascript:alert(1)", None),
        (" JavaScript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("//evil.example/x", None),
        ("https:///nohost", None),
        (None, None),
    ],
)
def test_only_web_links_are_linked(url, expected):
    assert formatting.web_url(url) == expected


@pytest.mark.parametrize("value, expected", [("2024-07-11", "July 11, 2024"), ("2021-01-05", "January 5, 2021"), ("2024-13-01", "2024-13-01"), (None, "")])
def test_long_dates(value, expected):
    assert formatting.long_date(value) == expected


# --- No index, a damaged index, a rebuild ----------------------------------------------------


def test_no_index_is_a_friendly_503_until_one_is_built(tmp_path, small_archive):
    index = tmp_path / "not-yet"
    app, client = make_client(index)
    for url in ("/", "/?q=Maui", f"/doc/{MAUI}"):
        response = client.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == 503, url
        assert "No index yet" in html and "run &#39;search index&#39;" in html
        assert str(tmp_path) not in html  # the folder goes to the log, not to visitors
    api = client.get("/api/search?q=Maui")
    assert api.status_code == 503
    assert api.json == {"ok": False, "error": "There is no search index yet; run 'search index' to build one."}
    build_index(small_archive, index)
    assert paths(client.get("/?q=Maui")) == [MAUI]  # no restart


def test_a_damaged_or_incompatible_index_is_a_503(tmp_path, small_archive):
    index = tmp_path / "ix"
    build_index(small_archive, index)
    generation = index / (index / CURRENT).read_text().strip()
    meta = json.loads((generation / META).read_text())
    (generation / META).write_text(json.dumps({**meta, "format": -1}))
    _, client = make_client(index)
    response = client.get("/?q=Maui")
    assert response.status_code == 503 and "another version" in response.get_data(as_text=True)
    (index / CURRENT).write_text("not-a-generation")
    api = client.get("/api/search?q=Maui")
    assert api.status_code == 503 and "damaged" in api.json["error"]


def test_a_rebuild_is_picked_up_without_a_new_app(small_archive, small_index, app, client):
    assert paths(client.get("/?q=zeppelin")) == []
    write_doc(small_archive, "blog/2024-09/2024-09-09-zeppelin.md", title="Airships", date="'2024-09-09'", tags="blog", body="A zeppelin.")
    build_index(small_archive, small_index)
    assert paths(client.get("/?q=zeppelin")) == ["blog/2024-09/2024-09-09-zeppelin.md"]
    assert client.get("/api/doc/blog/2024-09/2024-09-09-zeppelin.md").json["ok"] is True
    assert client.get("/").get_data(as_text=True).count('data-documents="6"') == 1


def test_an_index_deleted_while_serving_is_a_503_then_comes_back(small_archive, small_index, client):
    assert client.get("/?q=Maui").status_code == 200
    current = (small_index / CURRENT).read_text()
    (small_index / CURRENT).unlink()
    assert client.get("/?q=Maui").status_code == 503
    (small_index / CURRENT).write_text(current)
    assert paths(client.get("/?q=Maui")) == [MAUI]


# --- Security headers, local resources -------------------------------------------------------

URLS = ["/", "/?q=Russia", "/?q=Russia&page=0", f"/doc/{NATO}?q=Russia", "/doc/nope.md", "/api/search?q=Russia",
        "/api/search?page=x", f"/api/doc/{NATO}", "/api/overview", "/static/style.css", "/static/app.js", "/nowhere"]


@pytest.mark.parametrize("url", URLS)
def test_security_headers_on_every_response(client, url):
    response = client.get(url)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "*" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Server" not in response.headers or "/" not in response.headers["Server"]


def test_security_headers_on_the_503_page(tmp_path):
    _, client = make_client(tmp_path / "none")
    response = client.get("/")
    assert response.status_code == 503 and "default-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("url", ["/", "/?q=Russia", f"/doc/{NATO}?q=Russia", "/doc/nope.md", "/?q=Russia&page=0"])
def test_pages_use_only_local_resources_and_no_inline_script_or_style(client, url):
    doc = page(client.get(url))
    for tag, attrs in doc.tags:
        assert "style" not in attrs, tag
        assert tag != "style"
        if tag == "script":
            assert attrs["src"].startswith("/static/")
        if tag == "link":  # the site's own files, and the feed of a results page
            assert attrs["href"].startswith("/static/") or (attrs["rel"] == "alternate" and attrs["href"].startswith("/feed?"))
    for name in ("style.css", "app.js", "favicon.svg"):
        assert client.get(f"/static/{name}").status_code == 200


def test_landmarks_and_a_skip_link(budget_index):
    _, client = make_client(budget_index)
    doc = page(client.get("/?q=budget"))
    names = [t for t, _ in doc.tags]
    assert {"header", "main", "footer", "nav", "aside"} <= set(names)
    assert doc.find("a", href="#main")
    assert doc.find("html", lang="en")


# --- The JSON twin ---------------------------------------------------------------------------


def without_timing(data: dict) -> dict:
    return {k: v for k, v in data.items() if k not in ("seconds", "ok")}


@pytest.mark.parametrize(
    "args",
    [
        {"q": "Russia"},
        {"q": "President", "tag": ["statements-releases", "speeches-remarks"], "sort": "newest"},
        {"q": "Kishda"},
        {"q": "Russia sanctions", "since": "2023-01-01", "until": "2023-12-31"},
        {"q": "President", "sort": "oldest"},
        {"q": "zyxwvut"},
    ],
)
def test_the_api_is_to_dict_of_the_library_search(client, small, args):
    response = client.get("/api/search", query_string=args)
    assert response.status_code == 200 and response.json["ok"] is True
    expected = small.search(
        args["q"], tags=args.get("tag", ()), since=args.get("since"), until=args.get("until"),
        sort=args.get("sort", "relevance"), page=1, limit=10, facets=True, timeline=True,
    )
    assert without_timing(response.json) == without_timing(json.loads(json.dumps(to_dict(expected))))
    assert list(response.json)[:3] == ["ok", "query", "total"]


def test_the_api_pages_like_the_library(budget_index):
    _, client = make_client(budget_index)
    with open_index(budget_index) as ix:
        expected = ix.search("budget", page=3, limit=10, facets=True, timeline=True)
    data = client.get("/api/search?q=budget&page=3").json
    assert without_timing(data) == without_timing(json.loads(json.dumps(to_dict(expected))))
    assert [h["rank"] for h in data["results"]] == list(range(21, 26))


def test_api_document_and_overview(client, small):
    data = client.get(f"/api/doc/{NATO}").json
    assert data == {
        "ok": True,
        "document": json.loads(json.dumps(to_dict(small.document(NATO)))),
        "similar": json.loads(json.dumps(to_dict(small.similar(NATO, limit=5)))),
    }
    overview = client.get("/api/overview").json
    site = overview.pop("site")
    assert overview == {"ok": True, **json.loads(json.dumps(to_dict(small.overview())))}
    assert site["title"] == "Archive Search" and site["description"].startswith("Full-text search of 5 documents from 2021 to 2024")
    assert site["examples"] and all(client.get("/api/search", query_string={"q": e}).json["total"] for e in site["examples"])


@pytest.mark.parametrize(
    "method, url, status",
    [
        ("get", "/api/search", 400),
        ("get", "/api/search?q=", 400),
        ("get", "/api/search?q=Russia&since=nope", 400),
        ("get", "/api/doc/nope.md", 404),
        ("get", "/api/doc/../etc/passwd", 404),
        ("get", "/api/nothing", 404),
        ("post", "/api/search?q=Russia", 405),
    ],
)
def test_api_errors_share_one_envelope(client, method, url, status):
    response = getattr(client, method)(url)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert set(response.json) == {"ok", "error"} and response.json["ok"] is False
    assert isinstance(response.json["error"], str) and response.json["error"]
    if status == 405:
        assert "GET" in response.headers["Allow"]


def test_the_json_links_on_the_pages(client):
    doc = page(client.get("/?q=Russia&tag=press-briefings&sort=newest"))
    link = next(a["href"] for t, a in doc.tags if t == "a" and a.get("href", "").startswith("/api/search"))
    assert query_of(link) == {"q": ["Russia"], "tag": ["press-briefings"], "sort": ["newest"]}
    assert client.get(link).json["ok"] is True


# --- serve: the real `search serve` ------------------------------------------------------------


def fetch(url: str):
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.parametrize("processes", ["1", "2"])
def test_serve_listens_on_loopback_with_waitress_and_prints_the_url(small_index, tmp_path, processes):
    with serve_process(small_index, tmp_path, "--processes", processes) as server:
        assert re.search(rf"Serving http://127\.0\.0\.1:{server.port}/ \(index: {re.escape(str(small_index.resolve()))}", server.stderr())
        statuses = [fetch(server.url + "api/search?q=Maui") for _ in range(6)]
        assert {status for status, _, _ in statuses} == {200}
        assert all(headers["Server"] == "search" for _, headers, _ in statuses)
        assert json.loads(statuses[0][2])["results"][0]["path"].endswith("maui.md")
        server.process.terminate()
        assert server.process.wait(timeout=15) == 0
    assert server.stderr().rstrip().endswith("Stopped.")


def test_serve_warns_when_there_is_no_index_yet_and_answers_503(tmp_path):
    with serve_process(tmp_path / "none", tmp_path) as server:
        assert "Warning: no index at" in server.stderr()
        status, _, body = fetch(server.url + "api/search?q=Maui")
        assert status == 503 and json.loads(body)["ok"] is False


def test_search_serve_options_reach_the_server(small_index):
    from click.testing import CliRunner

    from search.cli import cli

    result = CliRunner().invoke(cli, ["serve", "-h"])
    for option in ["--index", "--host", "--port", "--threads", "--processes"]:
        assert option in result.output


def test_serve_explains_a_port_in_use(small_index):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit, match=rf"cannot listen on 127.0.0.1:{port}"):
            web.serve(small_index, port=port)


def test_the_api_takes_a_limit_from_1_to_100_and_the_page_keeps_ten(budget_index):
    _, client = make_client(budget_index)
    answer = client.get("/api/search?q=budget&limit=25").get_json()
    assert answer["limit"] == 25 and len(answer["results"]) == 25 and answer["pages"] == 1
    assert [r["rank"] for r in client.get("/api/search?q=budget&limit=7&page=2").get_json()["results"]] == list(range(8, 15))
    assert len(client.get("/api/search?q=budget").get_json()["results"]) == 10
    for bad in ("0", "101", "ten", "-5", "1e2"):
        response = client.get(f"/api/search?q=budget&limit={bad}")
        assert response.status_code == 400, bad
        assert "limit must be a whole number from 1 to 100" in response.get_json()["error"]
    page = client.get("/?q=budget&limit=25").get_data(as_text=True)
    assert page.count('<li class="result"') == 10
