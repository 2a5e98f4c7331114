"""Collections, declared facets and folded copies on the search page, in a real headless
Chromium served by the real `search serve`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from search import build_index
from search.sources import Source

from .conftest import serve_process, write_newer_briefings, write_speeches
from .test_browser import params, results

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def two_index(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("collections")
    index = root / "index"
    build_index([Source("speeches", write_speeches(root / "speeches")), Source("wh47", write_newer_briefings(root / "wh47"))],
                index, facets=("president", "party"))
    return index


@pytest.fixture(scope="module")
def site(two_index, tmp_path_factory):
    with serve_process(two_index, tmp_path_factory.mktemp("serve")) as running:
        yield running.url


def facet(page, key: str, name: str):
    return page.locator(f"section[aria-labelledby='{key}-title'] a.facet", has_text=name)


def test_choose_a_collection_then_a_declared_facet_then_undo(site, page):
    page.goto(site + "?q=address+OR+tariffs")
    both = len(results(page))
    assert {p.split("/", 1)[0] for p, _ in results(page)} == {"speeches", "wh47"}
    facet(page, "collection", "Speeches").click()
    page.wait_for_url(re.compile(r"collection=speeches"))
    assert results(page) and all(p.startswith("speeches/") for p, _ in results(page))
    facet(page, "president", "Abraham Lincoln").click()
    page.wait_for_url(re.compile(r"president=Abraham"))
    assert params(page.url)["president"] == ["Abraham Lincoln"] and params(page.url)["collection"] == ["speeches"]
    assert page.inner_text(".summary .count").startswith("6 results")
    assert page.locator(".active-filters .chip", has_text="president: Abraham Lincoln").count() == 1
    page.locator(".active-filters .clear").click()
    page.wait_for_load_state()
    assert "president" not in params(page.url) and "collection" not in params(page.url)
    assert len(results(page)) == both
    assert page.errors == []


def test_a_decade_narrows_to_its_years(site, page):
    page.goto(site + "?q=address")
    decades = page.locator("section[aria-labelledby='year-title'] .facet-name").all_inner_texts()
    assert decades[:2] == ["2010s", "2000s"] and "1860s" in decades
    facet(page, "year", "1860s").click()
    page.wait_for_url(re.compile(r"until=1869-12-31"))
    assert params(page.url)["since"] == ["1860-01-01"]
    years = page.locator("section[aria-labelledby='year-title'] .facet-name").all_inner_texts()
    assert [y.split()[0] for y in years] == [str(y) for y in range(1866, 1860, -1)]
    assert all(p.startswith("speeches/186") for p, _ in results(page))


def test_a_folded_copy_is_listed_as_also_filed_as_and_opens(site, page):
    page.goto(site + "?q=%22OMB+Memo+M-25-11%22")
    assert len(results(page)) == 1
    copies = page.locator("li.result .copies a")
    assert copies.count() == 1
    other = copies.first.inner_text()
    assert other.startswith("wh47/") and other != results(page)[0][0]
    assert "1 copy of matching documents folded into their groups" in page.inner_text(".summary")
    copies.first.click()
    page.wait_for_url(re.compile(r"/doc/"))
    assert page.locator("article.document").get_attribute("data-path") == other
    page.goto(site + "?q=%22OMB+Memo+M-25-11%22")
    page.locator(".summary a", has_text="Show every copy").click()
    page.wait_for_url(re.compile(r"duplicates=all"))
    assert len(results(page)) == 2
    assert page.errors == []
