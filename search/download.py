"""Every match of a search, as the rows `search batch` writes (CSV or JSON lines), for `/export`.

The rows come from the same selection as the search's `total` (`SearchIndex._select`), in the
search's order, at most `EXPORT_CAP` of them. They carry no snippets: a snippet costs about a
third of a millisecond, and ten thousand of them would pass the web's three-second deadline;
the document's stored fields cost a few microseconds each. The `snippet` field is there, empty,
so that an export reads as a batch run does.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from . import executor
from .batch import writer
from .errors import QueryError
from .narrowing import check_filters
from .results import Hit
from .searching import SearchIndex

EXPORT_CAP = 10_000
FORMATS = ("csv", "jsonl")
CHUNK_ROWS = 500  # rows written at a time to the stream


@dataclass
class Export:
    query: str
    total: int  # every match, as the search counts them
    rows: int  # what the export holds: at most EXPORT_CAP
    hits: Iterator[Hit]

    @property
    def truncated(self) -> bool:
        return self.rows < self.total


def export(ix: SearchIndex, text: str, *, tags: list[str] | tuple[str, ...] = (), since: str | None = None,
           until: str | None = None, speakers: list[str] | tuple[str, ...] = (), sort: str = "relevance",
           collections: list[str] | tuple[str, ...] = (), filters: Mapping[str, Sequence[str]] | None = None,
           cap: int = EXPORT_CAP) -> Export:
    """The search's matches in its order (without words: every document within the filters,
    newest first, or oldest with sort="oldest"; with a speaker, what they said). The query is checked, and admitted past the
    work budget, as a search of one result: the same errors as `search`."""
    if text or speakers:
        ix.search(text, tags=tags, since=since, until=until, speakers=speakers, sort=sort, limit=1, snippets=False, exact=True,
                  collections=collections, filters=filters)
        parsed = ix._read(text, speakers)[0]
    else:
        ix.browse(tags=tags, since=since, until=until, collections=collections, filters=filters, limit=1)
        parsed, sort = None, "oldest" if sort == "oldest" else "newest"
    wanted, _ = check_filters(ix.searcher.reader(), tags, since, until, collections, filters)
    matches = ix._select(parsed, wanted, sort, False).matches
    if sort == "relevance":
        order = executor.best(matches, cap)[:cap]
    else:
        order = ix.columns().date_order(matches.docnums, matches.scores, newest=sort == "newest")[:cap]

    def hits() -> Iterator[Hit]:
        for rank, position in enumerate(order, start=1):
            yield ix._hit(rank, int(matches.docnums[position]), float(matches.scores[position]), None, None)

    return Export(text, len(matches), len(order), hits())


def rows(found: Export, format: str) -> Iterator[str]:
    """The export written as `format` (csv or jsonl), a chunk of rows at a time."""
    if format not in FORMATS:
        raise QueryError(f"unknown format {str(format)[:30]!r}; use one of: {', '.join(FORMATS)}")
    buffer = io.StringIO()
    write = writer(format, buffer)
    for n, hit in enumerate(found.hits, start=1):
        write("1", found.query, hit)
        if not n % CHUNK_ROWS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
