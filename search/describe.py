"""What a site says about the archive it serves: its title, a line describing it, example
searches and the names of its categories and collections.

`search.toml` may say each of them (config.py). What it leaves out is drawn from the index
itself, so that a site over an archive nobody configured names no administration it does not
hold, and offers example searches that each find something.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .analysis import is_stop, text_analyzer
from .config import SiteConfig
from .errors import SearchError
from .postings import frequency
from .results import ArchiveOverview, top_counts

DEFAULT_TITLE = "Archive Search"
EXAMPLES = 5
# An example's words: found in this many documents at least, so the example finds a few.
EXAMPLE_MIN_DOCUMENTS = 3
# ... and in the titles of at most one document in this many.
EXAMPLE_MAX_SHARE = 100


@dataclass
class Site:
    title: str
    description: str
    examples: list[str]
    office: str | None = None  # who issued the documents, where the configuration says
    categories: dict[str, str] = field(default_factory=dict)  # display names, slug -> name
    collections: dict[str, str] = field(default_factory=dict)
    configured: bool = False  # a search.toml said something

    def category(self, slug: str) -> str:
        return self.categories.get(slug) or readable(slug)

    def collection(self, name: str) -> str:
        return self.collections.get(name) or readable(name)


def overview(ix) -> ArchiveOverview:
    """What an open index (`SearchIndex`) holds: documents, date range, categories, collections,
    the declared facets and the groups of copies."""
    columns = ix.columns()
    reader = ix.searcher.reader()
    live = np.flatnonzero(columns.live)
    dated = live[columns.day[live] > 0]
    first = columns.dates[int(dated[np.argmin(columns.day[dated])])] if len(dated) else None
    last = columns.dates[int(dated[np.argmax(columns.day[dated])])] if len(dated) else None
    return ArchiveOverview(
        documents=len(live), first_date=first, last_date=last, tags=top_counts(columns.tag_counts(live)),
        built=ix.meta.get("built"),
        collections=top_counts(columns.value_counts(live, "collection", reader)) if "collection" in ix.schema else [],
        facets=ix.facet_keys,
        duplicate_groups=len(ix.groups().members),
    )


def readable(slug: str) -> str:
    """A slug's name for people, by a rule that fits any archive: `press-briefings` ->
    "Press briefings"."""
    words = re.sub(r"[-_]+", " ", slug).strip()
    return words[:1].upper() + words[1:] if words else slug


def describe(config: SiteConfig, overview: ArchiveOverview | None, examples: list[str]) -> Site:
    """The site's words: the configuration's where it has them, else the index's."""
    return Site(
        title=config.title or DEFAULT_TITLE,
        description=config.description or (summary(overview, config) if overview else "Full-text search of an archive of documents."),
        examples=list(config.examples) or examples,
        office=config.office,
        categories=dict(config.categories),
        collections=dict(config.collections),
        configured=config.path is not None and bool(config.title or config.description or config.examples),
    )


def summary(overview: ArchiveOverview, config: SiteConfig) -> str:
    """One line saying what the index holds: "12,255 documents from 2021 to 2025 in 7
    categories and 2 collections"."""
    parts = [f"{overview.documents:,} document{'s' if overview.documents != 1 else ''}"]
    if overview.first_date and overview.last_date:
        first, last = overview.first_date[:4], overview.last_date[:4]
        parts.append(f"from {first}" + (f" to {last}" if last != first else ""))
    groups = []
    if overview.tags:
        groups.append(f"{len(overview.tags):,} categor{'ies' if len(overview.tags) != 1 else 'y'}")
    if len(overview.collections) > 1:
        groups.append(f"{len(overview.collections):,} collections")
    if groups:
        parts.append("in " + " and ".join(groups))
    return "Full-text search of " + " ".join(parts) + "."


def example_queries(titles: list[str], count_of, in_titles, n: int = EXAMPLES, least: int = EXAMPLE_MIN_DOCUMENTS,
                    most_titles: int | None = None) -> list[str]:
    """Example searches from documents' titles (given spread over the archive, newest
    first): of each title, the two neighbouring words that most documents hold (by
    `count_of`, the word list's counts), each held by at least `least` documents and by the
    titles of at most `most_titles` (by `in_titles`: a word of every other title, "Remarks",
    "Fact Sheet", tells nothing). "Hurricane Helene", "Artificial Intelligence": each finds
    the document it came from, and more where the archive is large enough."""
    found: list[str] = []
    for title in titles:
        words = re.findall(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]", title)

        def fits(word: str) -> int:
            if len(word) < 4 or is_stop(word.lower()) or count_of(word.lower()) < least:
                return 0
            return count_of(word.lower()) if most_titles is None or in_titles(word) <= most_titles else 0

        pairs: list[tuple[int, tuple[str, ...]]] = [
            (min(fits(a), fits(b)), (a, b)) for a, b in zip(words, words[1:]) if a.lower() != b.lower()
        ]
        # A title with no such two neighbours offers its telling word alone.
        pairs = [p for p in pairs if p[0]] or [(fits(w), (w,)) for w in words if fits(w)]
        if not pairs:
            continue
        _, chosen = max(pairs, key=lambda p: p[0])
        example = " ".join(w.capitalize() if w.isupper() and len(w) > 5 else w for w in chosen)
        if example.lower() not in (e.lower() for e in found):
            found.append(example)
        if len(found) == n:
            break
    return found


def spread(day: np.ndarray, live: np.ndarray, n: int) -> list[int]:
    """Document numbers spread over the archive's dates, newest first: one from each of n
    equal stretches of the dated documents in date order."""
    dated = np.flatnonzero(live & (day > 0))
    if not len(dated):
        dated = np.flatnonzero(live)
    order = dated[np.argsort(-day[dated], kind="stable")]
    if not len(order):
        return []
    picks = np.linspace(0, len(order) - 1, num=min(n * 3, len(order))).astype(int)
    return [int(order[p]) for p in dict.fromkeys(picks.tolist())]


def index_examples(ix, n: int = EXAMPLES) -> list[str]:
    """Example searches drawn from an open index (`SearchIndex`), each checked to find something."""
    columns = ix.columns()
    titles = [ix.searcher.stored_fields(d).get("title", "") for d in spread(columns.day, columns.live, n * 4)]
    documents = int(columns.live.sum())
    least = min(EXAMPLE_MIN_DOCUMENTS, max(1, documents // 100))  # a small archive's words are rarer
    reader = ix.searcher.reader()

    analyzer = text_analyzer()

    def held(field: str):
        def documents(word: str) -> int:
            stems = [t.text for t in analyzer(word, mode="query")]
            return min((frequency(reader, field, s) for s in stems), default=0)
        return documents

    in_body, in_titles = held("body"), held("title")
    found = []
    for example in example_queries(titles, lambda w: max(in_body(w), in_titles(w)), in_titles, n * 2, least, max(3, documents // EXAMPLE_MAX_SHARE)):
        try:
            if ix.search(example, limit=1, snippets=False).total:
                found.append(example)
        except SearchError:
            continue
        if len(found) == n:
            break
    return found
