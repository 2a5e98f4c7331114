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

from .analysis import is_stop
from .config import SiteConfig
from .errors import SearchError
from .results import ArchiveOverview

DEFAULT_TITLE = "Archive Search"
EXAMPLES = 5
# An example's words: found in this many documents at least, so the example finds a few.
EXAMPLE_MIN_DOCUMENTS = 3


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


def example_queries(titles: list[str], count_of, n: int = EXAMPLES, least: int = EXAMPLE_MIN_DOCUMENTS) -> list[str]:
    """Example searches from documents' titles (given spread over the archive, newest
    first): of each title, its two least common words that at least `least` documents hold
    (by `count_of`, the word list's counts), in the title's order. Each finds the document it
    came from, and a few more where the archive is large enough."""
    found: list[str] = []
    for title in titles:
        words = [w for w in re.findall(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]", title) if len(w) > 3 and not is_stop(w.lower())]
        counted = [(count_of(w.lower()), i, w) for i, w in enumerate(words)]
        chosen = sorted(sorted(c for c in counted if c[0] >= least)[:2], key=lambda c: c[1])
        example = " ".join(w for _, _, w in chosen)
        if example and example.lower() not in (e.lower() for e in found):
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
    titles = [ix.searcher.stored_fields(d).get("title", "") for d in spread(columns.day, columns.live, n)]
    least = min(EXAMPLE_MIN_DOCUMENTS, max(1, int(columns.live.sum()) // 100))  # a small archive's words are rarer
    found = []
    for example in example_queries(titles, ix.lexicon.count, n * 2, least):
        try:
            if ix.search(example, limit=1, snippets=False).total:
                found.append(example)
        except SearchError:
            continue
        if len(found) == n:
            break
    return found
