"""Full-text search over the White House briefing-room archive.

The library under the `search` command and the web page:

    from search import build_index, open_index
    report = build_index(Path("seeds"), Path("index"))
    with open_index(Path("index")) as ix:
        results = ix.search("DPRK Russia", since="2024-01-01")
"""

__version__ = "0.1.0"

from .documents import Document, FileProblem, parse_document, read_document  # noqa: E402
from .errors import (  # noqa: E402
    ArchiveNotFound,
    DocumentNotFound,
    IndexBusy,
    IndexDamaged,
    IndexIncompatible,
    IndexNotFound,
    IndexWriteError,
    QueryError,
    SearchError,
)
from .indexing import IndexReport, build_index, update_index  # noqa: E402
from .searching import ArchiveOverview, FacetCount, Hit, SearchIndex, SearchResults, Snippet, open_index  # noqa: E402
from .serialize import to_dict  # noqa: E402


def search(text: str, index=None, **options) -> SearchResults:
    """One query against the index at `index` (default: $SEARCH_INDEX, then index/)."""
    from .settings import index_path

    with open_index(index_path(index)) as ix:
        return ix.search(text, **options)


__all__ = [
    "ArchiveNotFound", "ArchiveOverview", "Document", "DocumentNotFound", "FacetCount", "FileProblem", "Hit",
    "IndexBusy", "IndexDamaged", "IndexIncompatible", "IndexNotFound", "IndexReport", "IndexWriteError",
    "QueryError", "SearchError", "SearchIndex", "SearchResults", "Snippet", "build_index", "open_index",
    "parse_document", "read_document", "search", "to_dict", "update_index",
]
