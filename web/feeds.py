"""An Atom 1.0 feed of a search's newest matches: a journalist follows a topic in a feed reader
and is told when it comes up again.

Built with ElementTree, which escapes every text and attribute, so a document's title or
snippet cannot break the XML. An entry's id is the document page's URL, which depends only on
the document's path: stable across rebuilds, as a reader needs to tell new entries from seen
ones.
"""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

from search.describe import readable
from search.results import Hit, SearchResults

from . import formatting

ATOM = "http://www.w3.org/2005/Atom"
FEED_ENTRIES = 50


def atom_feed(results: SearchResults, *, title: str, feed_url: str, page_url: str, document_url, site: str,
              category=readable) -> bytes:
    """The feed of `results` (the newest matches first); `document_url(path)` is the absolute URL
    of a document's page."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "title", title)
    _text(feed, "id", feed_url)
    _link(feed, feed_url, "self", "application/atom+xml")
    _link(feed, page_url, "alternate", "text/html")
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", site)
    _text(feed, "generator", "search (wh-archive-search)")
    stamps = [_updated(hit) for hit in results.results]
    _text(feed, "updated", max(stamps) if stamps else _epoch())
    for hit, stamp in zip(results.results, stamps):
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        url = document_url(hit.path)
        _text(entry, "title", hit.title or hit.path)
        _text(entry, "id", url)
        _link(entry, url, "alternate", "text/html")
        original = formatting.web_url(hit.source_url)
        if original:
            _link(entry, original, "related", "text/html")
        _text(entry, "updated", stamp)
        if hit.date:
            _text(entry, "published", _day(hit.date))
        for tag in hit.tags:
            ET.SubElement(entry, f"{{{ATOM}}}category", term=tag, label=category(tag))
        summary = (f"{hit.speaker}: " if hit.speaker else "") + hit.snippet.text
        if summary:
            _text(entry, "summary", summary)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _updated(hit: Hit) -> str:
    """When the entry last changed, as RFC 3339: its date (the archive keeps no time of day a
    search returns), else the epoch."""
    return _day(hit.date) if hit.date else _epoch()


def _day(date: str) -> str:
    try:
        return datetime.date.fromisoformat(date[:10]).isoformat() + "T00:00:00Z"
    except ValueError:
        return _epoch()


def _epoch() -> str:
    return "1970-01-01T00:00:00Z"


def _text(parent: ET.Element, name: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{name}")
    element.text = value
    return element


def _link(parent: ET.Element, href: str, rel: str, kind: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}link", href=href, rel=rel, type=kind)
