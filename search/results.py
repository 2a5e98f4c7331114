"""What a search returns: its hits, facet counts and results, as the CLI, the batch runner and
the web app show them (`serialize.to_dict` makes them JSON), and the stored fields they are
read from."""

from __future__ import annotations

import heapq
import math
import zlib
from collections import Counter
from dataclasses import dataclass, field

from .documents import Document
from .highlighting import Snippet
from .scoring import Explanation
from .settings import MAX_FACET_VALUES
from .speakers import Turn
from .trends import Trend


@dataclass
class Hit:
    rank: int
    path: str
    title: str
    date: str | None
    tags: list[str]
    source_url: str | None
    score: float
    snippet: Snippet
    title_matches: list[list[int]] = field(default_factory=list)
    doc_id: str | None = None
    explanation: Explanation | None = None  # how the score was made, when asked (explain=True)
    speaker: str | None = None  # whose words the snippet is, in a transcript (as snippet.speaker)
    collection: str | None = None  # the archive it comes from, by name
    copies: list[str] = field(default_factory=list)  # the paths of its copies ("also filed as"), folded into it
    facets: dict[str, list[str]] = field(default_factory=dict)  # its values of the declared facets


@dataclass
class FacetCount:
    value: str
    count: int


@dataclass
class SearchResults:
    query: str
    total: int
    page: int
    pages: int
    limit: int
    sort: str
    suggestion: str | None  # a corrected query, when a word is not in the archive
    corrected: bool  # the results are for the suggestion, because the query found nothing
    seconds: float
    results: list[Hit]
    tags: list[FacetCount] | None = None  # counts with the other filters applied
    years: list[FacetCount] | None = None
    speakers: list[FacetCount] | None = None  # who speaks in the matches (reporters left out)
    reading: list[str] | None = None  # how the query was read, when asked (explain=True)
    note: str | None = None  # what the results are, when it is not what was asked (date order)
    search_instead: str | None = None  # when corrected: the words typed, to run as they are (exact=True)
    timeline: Trend | None = None  # the matches by period, when asked (timeline=True)
    collections: list[FacetCount] | None = None  # counts by collection (with facets=True)
    facets: dict[str, list[FacetCount]] | None = None  # counts by each declared facet's values (with facets=True)
    hints: list[str] = field(default_factory=list)  # why a filter finds nothing: a value no document has
    folded: int = 0  # copies left out of the results, each listed under its group's best ("also filed as")


@dataclass
class ArchiveOverview:
    documents: int
    first_date: str | None
    last_date: str | None
    tags: list[FacetCount]
    built: str | None
    collections: list[FacetCount] = field(default_factory=list)  # documents by collection
    facets: list[str] = field(default_factory=list)  # the declared facets (search index --facet)
    duplicate_groups: int = 0  # groups of copies: each shown once in results


def top_counts(counts: Counter) -> list[FacetCount]:
    """The commonest values first, at most MAX_FACET_VALUES: a hostile archive's thousands of
    tags must not make every page enormous."""
    best = heapq.nsmallest(MAX_FACET_VALUES, counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [FacetCount(value, count) for value, count in best]


def finite(score: float) -> float:
    """A score as JSON can carry it: boosts are bounded, so this is only a last guard."""
    value = float(score)
    return round(value, 4) if math.isfinite(value) else 0.0


def stored_tags(stored: dict) -> list[str]:
    value = stored.get("tags") or ""
    return [t for t in value.split(",") if t]


def first_value(values) -> str | None:
    """The one value of a single-valued value field (stored as a list)."""
    return str(values[0]) if values else None


def stored_document(stored: dict, facets: list[str], copies: list[str]) -> Document:
    """A document as the index stores it, with its declared `facets`' values and its `copies`."""
    return Document(
        path=stored["path"], title=stored.get("title", ""), date=stored.get("date"), tags=stored_tags(stored),
        source_url=stored.get("source_url"), published_time=stored.get("published_time"),
        modified_time=stored.get("modified_time"), body=stored_body(stored), doc_id=stored.get("doc_id"),
        turns=[Turn(speaker, label, start, end, words) for speaker, label, start, words, end, *_ in stored.get("turns") or ()],
        collection=first_value(stored.get("collection")), facets={k: list(stored.get(k) or ()) for k in facets}, copies=copies,
    )


def stored_body(stored: dict) -> str:
    content = stored.get("content")
    return zlib.decompress(content).decode("utf-8") if content else ""
