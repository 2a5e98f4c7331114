"""Full-text search over archives of documents: the White House briefing room, and any other.

The library under the `search` command and the web page:

    from search import build_index, open_index
    report = build_index(Path("seeds"), Path("index"))
    with open_index(Path("index")) as ix:
        results = ix.search("DPRK Russia", since="2024-01-01")
"""

__version__ = "0.1.0"

# The public names, imported on first use (PEP 562), so that `search --help` or a query
# does not pay for modules it does not touch.
_EXPORTS = {
    "Document": "documents", "FileProblem": "archive", "parse_document": "documents", "read_document": "documents",
    "ArchiveNotFound": "errors", "DocumentNotFound": "errors", "IndexBusy": "errors", "IndexDamaged": "errors",
    "IndexIncompatible": "errors", "IndexNotFound": "errors", "IndexWriteError": "errors", "QueryError": "errors",
    "RankingMismatch": "errors", "Ranking": "ranking",
    "QueryTimeout": "errors", "QueryTooCostly": "errors", "SearchError": "errors", "ServerBusy": "errors",
    "IndexReport": "indexing", "build_index": "indexing", "update_index": "indexing",
    "ArchiveOverview": "searching", "FacetCount": "searching", "Hit": "searching", "SearchIndex": "searching",
    "SearchResults": "searching", "open_index": "searching",
    "Snippet": "highlighting",
    "to_dict": "serialize",
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'search' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def search(text: str, index=None, **options):
    """One query against the index at `index` (default: $SEARCH_INDEX, then index/)."""
    from .searching import open_index
    from .settings import index_path

    with open_index(index_path(index)) as ix:
        return ix.search(text, **options)


__all__ = [  # noqa: F822 - provided by __getattr__
    "ArchiveNotFound", "ArchiveOverview", "Document", "DocumentNotFound", "FacetCount", "FileProblem", "Hit",
    "IndexBusy", "IndexDamaged", "IndexIncompatible", "IndexNotFound", "IndexReport", "IndexWriteError",
    "QueryError", "QueryTimeout", "QueryTooCostly", "Ranking", "RankingMismatch", "SearchError", "ServerBusy", "SearchIndex", "SearchResults", "Snippet", "build_index", "open_index",
    "parse_document", "read_document", "search", "to_dict", "update_index",
]
