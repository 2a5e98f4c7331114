"""The search page in a real headless Chromium, served by the real `search serve`."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from search import build_index

from .conftest import CHROMIUM, DESKTOP, serve_process, write_doc, write_small_archive
from .test_web import HOSTILE_BODY, HOSTILE_TITLE, write_budget_archive

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

if sync_playwright is None or CHROMIUM is None:
    pytest.skip(
        "the browser tests need playwright (pip install '.[test]') and a chromium binary (apt-get install chromium); "
        f"found playwright={sync_playwright is not None}, chromium={CHROMIUM}",
        allow_module_level=True,
    )

HOSTILE = "statements-releases/2024-08/2024-08-01-hostile.md"
HOSTILE_NEIGHBOUR = "statements-releases/2024-08/2024-08-02-sanctions-neighbour.md"
LONG = "speeches-remarks/2024-05/2024-05-05-long-remarks.md"
PHONE = {"width": 375, "height": 812}


# --- The server ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def archive_index(tmp_path_factory) -> Path:
    """The small archive, 25 budget documents (3 pages), a long document, and hostile ones."""
    root = tmp_path_factory.mktemp("browser") / "archive"
    write_small_archive(root)
    write_budget_archive(root)
    filler = "\n\n".join(f"Paragraph {i} of remarks on infrastructure and roads." for i in range(80))
    write_doc(root, LONG, title="'Remarks on Infrastructure'", date="'2024-05-05'", tags="speeches-remarks",
              body=filler + "\n\nAt last, the zeppelin arrived over the harbour.")
    write_doc(root, HOSTILE, title=json.dumps(HOSTILE_TITLE), date="'2024-08-01'", tags="statements-releases",
              source_url="'javascript:window.__pwned=1'", body=HOSTILE_BODY)
    write_doc(root, HOSTILE_NEIGHBOUR, title="'Sanctions on Russia: a neighbour'", date="'2024-08-02'",
              tags="statements-releases", body="Sanctions on Russia. " * 5 + "window pwned onload onerror script")
    index = root.parent / "index"
    build_index(root, index)
    return index


@pytest.fixture(scope="module")
def server(archive_index, tmp_path_factory):
    """The real `search serve` on a free loopback port; yields its base URL and log."""
    with serve_process(archive_index, tmp_path_factory.mktemp("serve")) as running:
        yield {"url": running.url, "log": running.log}


def results(page) -> list[tuple[str, int]]:
    return page.eval_on_selector_all(
        "li.result[data-path]", "els => els.map(e => [e.dataset.path, Number(e.dataset.rank)])"
    )


def api(server, query: str) -> dict:
    with urllib.request.urlopen(server["url"] + "api/search?" + query, timeout=10) as response:
        return json.load(response)


def params(url: str) -> dict:
    return parse_qs(urlsplit(url).query)


# --- Tests -----------------------------------------------------------------------------------


def test_the_server_binds_localhost_says_where_and_hides_its_version(server):
    assert f"Serving {server['url']} (index: " in server["log"].read_text()
    with urllib.request.urlopen(server["url"], timeout=10) as response:
        assert response.headers["Server"] == "search"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def wait_for_autofocus(page) -> None:
    """Chromium applies `autofocus` at a rendering step after the load event, so keys typed
    at once can land before the box has focus (CI once searched for "udget"). Fails if the
    box never takes the focus by itself."""
    page.wait_for_function("document.activeElement && document.activeElement.name === 'q'", timeout=5000)


def test_type_a_query_press_enter_and_read_ranked_results(server, page):
    page.goto(server["url"])
    wait_for_autofocus(page)
    page.keyboard.type("budget")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"\?q=budget"))
    expected = api(server, "q=budget")
    assert results(page) == [[h["path"], h["rank"]] for h in expected["results"]]
    assert [rank for _, rank in results(page)] == list(range(1, 11))
    assert re.fullmatch(r"\d+ results \(\d+\.\d\d s\) · page 1 of 3", page.inner_text(".summary .count"))
    assert page.locator("li.result .snippet mark").count() >= 10
    assert page.errors == []


def test_filter_by_category_page_on_and_undo(server, page):
    page.goto(server["url"] + "?q=budget")
    page.locator("a.facet", has_text="Press briefings").click()
    page.wait_for_url(re.compile(r"tag=press-briefings"))
    narrowed = results(page)
    assert narrowed and all(path.startswith("press-briefings/") for path, _ in narrowed)
    assert page.locator("a.facet.on", has_text="Press briefings").count() == 1
    total = api(server, "q=budget&tag=press-briefings")["total"]
    assert total > 10  # so there is a next page
    page.locator("a[rel=next]").click()
    page.wait_for_url(re.compile(r"page=2"))
    assert [rank for _, rank in results(page)] == list(range(11, min(total, 20) + 1))
    assert all(path.startswith("press-briefings/") for path, _ in results(page))
    page.locator("a.chip", has_text="Press briefings").click()
    page.wait_for_url(lambda url: "tag=" not in url)
    assert "tag" not in params(page.url) and "page" not in params(page.url)
    assert {p.split("/")[0] for p, _ in results(page)} >= {"press-briefings", "statements-releases"}


def test_keyboard_alone_can_search_filter_and_page(server, page):
    page.goto(server["url"])
    wait_for_autofocus(page)
    page.keyboard.type("budget")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"\?q=budget"))
    for _ in range(60):  # tab to the first year filter
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('.years') !== null"):
            break
    else:
        pytest.fail("no year filter reachable with Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"since=\d{4}-01-01"))
    year = params(page.url)["since"][0][:4]
    assert results(page) and all(f"/{year}-" in path for path, _ in results(page))
    outline = page.evaluate(
        "() => { const a = document.querySelector('a.facet'); a.focus(); return getComputedStyle(a).outlineStyle; }"
    )
    assert outline != "none"  # a visible focus style


def test_the_search_works_without_javascript(server, browser):
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(server["url"])
        page.fill("input[name=q]", "Maui")
        page.press("input[name=q]", "Enter")
        page.wait_for_url(re.compile(r"\?q=Maui"))
        assert results(page)[0] == ["statements-releases/2024-07/2024-07-25-maui.md", 1]
    finally:
        context.close()


def test_a_document_from_a_search_marks_the_words_and_scrolls_to_the_first(server, page):
    page.goto(server["url"] + "?q=zeppelin")
    assert results(page)[0][0] == LONG
    page.locator("li.result h3 a").first.click()
    page.wait_for_url(re.compile(r"/doc/.*#first-match"))
    assert page.locator(".document .body mark").all_inner_texts() == ["zeppelin"]
    page.wait_for_function(
        "() => { const r = document.getElementById('first-match').getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; }"
    )
    assert page.evaluate("window.scrollY") > 1000  # the word is near the end of a long text
    assert page.locator(".document .body p").count() == 81
    assert page.locator(".similar-item").count() >= 1
    assert page.errors == []


def test_a_hostile_document_runs_no_script_anywhere(server, page):
    checks = "() => ({pwned: typeof window.__pwned, injected: document.querySelectorAll('svg:not(.chart-svg), img, iframe, script:not([src]), [onload], [onerror], a[href^=\"javascript:\"]').length})"
    page.goto(server["url"] + "?q=Russia+sanctions")
    assert HOSTILE in [path for path, _ in results(page)]
    assert page.locator(f'li.result[data-path="{HOSTILE}"] h3').inner_text().startswith("<script>window.__pwned=1</script>")
    assert page.evaluate(checks) == {"pwned": "undefined", "injected": 0}

    page.goto(server["url"] + f"doc/{HOSTILE}?q=Russia")
    assert "<svg onload=window.__pwned=1>" in page.inner_text("h1")
    assert page.locator(".document .body mark").count() >= 1
    assert page.evaluate(checks) == {"pwned": "undefined", "injected": 0}

    page.goto(server["url"] + f"doc/{HOSTILE_NEIGHBOUR}")
    similar = page.eval_on_selector_all(".similar-item", "els => els.map(e => e.dataset.path)")
    assert HOSTILE in similar  # more like this lists it
    assert page.evaluate(checks) == {"pwned": "undefined", "injected": 0}


def test_screenshots_and_no_sideways_scroll_on_a_phone(server, page, tmp_path):
    page.goto(server["url"] + "?q=budget")
    desktop = tmp_path / "desktop.png"
    page.screenshot(path=str(desktop))
    page.set_viewport_size(PHONE)
    for url in ("?q=budget", "", f"doc/{LONG}?q=zeppelin", f"doc/{HOSTILE}", "?q=nothingmatcheszz&tag=blog"):
        page.goto(server["url"] + url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (url, width)
    page.goto(server["url"] + "?q=budget")
    phone = tmp_path / "phone.png"
    page.screenshot(path=str(phone), full_page=True)
    for shot in (desktop, phone):
        assert shot.exists() and shot.stat().st_size > 10_000
    assert page.errors == []


# --- The chart, the feed link, citations, the phone layout, axe ---------------------------------


def bar_data(page) -> list[dict]:
    return page.eval_on_selector_all(
        "svg.chart-svg a.bar-link rect",
        "els => els.map(r => ({since: r.dataset.since, until: r.dataset.until, count: Number(r.dataset.count),"
        " height: r.getBoundingClientRect().height, cls: r.getAttribute('class')}))",
    )


def test_the_chart_draws_a_bar_per_period_and_a_bar_narrows_the_search(server, page):
    page.goto(server["url"] + "?q=budget")
    bars = bar_data(page)
    timeline = api(server, "q=budget")["timeline"]["series"][0]
    assert [(b["since"], b["count"]) for b in bars] == [(p["since"], p["count"]) for p in timeline["points"] if p["count"]]
    assert all(b["height"] > 0 for b in bars)
    tallest = max(bars, key=lambda b: b["count"])
    assert tallest["height"] == max(b["height"] for b in bars)
    page.locator(f'svg.chart-svg rect[data-since="{tallest["since"]}"]').click()
    page.wait_for_url(re.compile(r"since="))
    assert params(page.url)["since"] == [tallest["since"]] and params(page.url)["until"] == [tallest["until"]]
    assert page.inner_text(".summary .count").startswith(f"{tallest['count']} result")
    assert page.errors == []


def test_the_chart_table_toggles_without_script(server, browser):
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(server["url"] + "?q=budget")
        table = page.locator(".chart-table table")
        assert not table.is_visible()
        page.locator(".chart-table summary").click()
        assert table.is_visible()
        rows = page.locator(".chart-table tbody tr").count()
        assert rows == len(api(server, "q=budget")["timeline"]["series"][0]["points"])
    finally:
        context.close()


def test_a_trends_comparison_draws_each_search_in_its_colour(server, page):
    page.goto(server["url"] + "trends?q=budget&q=Russia&per=1000")
    classes = {b["cls"] for b in bar_data(page)}
    assert classes == {"bar s0", "bar s1"}
    assert page.locator(".legend li").all_inner_texts() == ["budget", "Russia"]
    colours = page.eval_on_selector_all("svg.chart-svg rect.bar", "els => [...new Set(els.map(e => getComputedStyle(e).fill))]")
    assert len(colours) == 2
    page.locator("svg.chart-svg rect.s1").first.click()
    page.wait_for_url(re.compile(r"q=Russia.*since="))
    assert results(page)


def test_the_results_page_links_its_feed(server, page):
    page.goto(server["url"] + "?q=budget")
    href = page.get_attribute('link[rel=alternate][type="application/atom+xml"]', "href")
    assert page.get_attribute("p.follow a >> text=Follow this search", "href") == href
    with urllib.request.urlopen(server["url"] + href.lstrip("/"), timeout=10) as response:
        assert response.headers["Content-Type"].startswith("application/atom+xml")
        assert b"<feed" in response.read()


def test_the_citation_box_opens_with_the_three_styles(server, page):
    page.goto(server["url"] + f"doc/{LONG}")
    chicago = page.locator('.citation[data-style="chicago"]')
    assert not chicago.is_visible()
    page.locator(".cite summary").click()
    assert chicago.is_visible()
    # No search.toml names this archive's office: each style starts with the title.
    assert chicago.inner_text().startswith("“Remarks on Infrastructure.” May 5, 2024. Accessed ")
    assert page.locator('.citation[data-style="bibtex"]').inner_text().startswith("@misc{doc2024remarks,")
    assert page.locator('.citation[data-style="apa"]').inner_text() == "Remarks on Infrastructure. (2024, May 5)."


def test_on_a_phone_the_first_result_is_on_the_first_screen(server, page):
    page.set_viewport_size(PHONE)
    for url in ("?q=budget", "?q=budget&tag=press-briefings", "?tag=press-briefings"):
        page.goto(server["url"] + url)
        first = page.locator("li.result").first.bounding_box()
        filters = page.locator("aside.filters").bounding_box()
        assert first["y"] + 40 < PHONE["height"], (url, first)  # its title is in view
        assert filters["y"] > first["y"]  # the filters follow the results
        page.locator("a.refine-link").click()
        assert page.evaluate("document.activeElement.id") == "filters" or page.evaluate("window.scrollY") > 0


def test_skip_to_results_takes_the_keyboard_to_the_first_result(server, page):
    page.goto(server["url"] + "?q=budget")
    wait_for_autofocus(page)  # where a keyboard user starts: the search box; the skip links come before it
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to results"
    assert page.evaluate("document.activeElement.getBoundingClientRect().top") >= 0  # shown when focused
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('li.result') !== null")


AXE_PAGES = ["", "?q=budget", "?q=budget&tag=press-briefings&page=2", "?tag=blog", "?q=nothingmatcheszz",
             "trends", "trends?q=budget&q=Russia&per=1000", f"doc/{LONG}?q=zeppelin", "doc/no/such.md", "?q=budget&since=2024-13-01"]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_finds_no_serious_or_critical_issue_on_any_page(server, browser, viewport):
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    try:
        found = {}
        for url in AXE_PAGES:
            page.goto(server["url"] + url)
            violations = axe.run(page).response["violations"]
            serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations
                       if v["impact"] in ("serious", "critical")]
            if serious:
                found[url] = serious
        assert found == {}
        # Each page kind was checked, the chart among them.
        page.goto(server["url"] + "?q=budget")
        assert page.locator("svg.chart-svg").count() == 1
    finally:
        context.close()


def contrast(foreground: list[float], background: list[float]) -> float:
    def luminance(rgb: list[float]) -> float:
        parts = [c / 255 for c in rgb[:3]]
        parts = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
        return 0.2126 * parts[0] + 0.7152 * parts[1] + 0.0722 * parts[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_greyed_out_previous_keeps_its_contrast(server, page):
    page.goto(server["url"] + "?q=budget")
    style = page.eval_on_selector(
        ".pagination .prev.disabled",
        "e => { const s = getComputedStyle(e); return {color: s.color, background: s.backgroundColor, opacity: s.opacity}; }",
    )
    numbers = [[float(x) for x in re.findall(r"[\d.]+", style[key])] for key in ("color", "background")]
    assert style["opacity"] == "1"
    assert contrast(*numbers) >= 4.5  # it was 2.62:1, faded by opacity
