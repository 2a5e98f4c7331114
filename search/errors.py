"""Errors the library raises; the CLI and the web app turn them into one-line messages.

Every message is written for the person at the keyboard and, where there is one, names the
next step.
"""

from __future__ import annotations

from pathlib import Path


class SearchError(Exception):
    """Base class: anything the user can act on."""

    def __reduce__(self):
        # Pickled as message and attributes, not by calling __init__ again with the message
        # (which the subclasses' signatures do not take): an indexing worker sends its error
        # to the parent this way.
        return (_restored, (type(self), self.args), self.__dict__)


def _restored(cls: type[SearchError], args: tuple) -> SearchError:
    error = cls.__new__(cls)
    error.args = args
    return error


class ArchiveNotFound(SearchError):
    def __init__(self, path: Path):
        super().__init__(f"no archive at {path}: the folder does not exist")
        self.path = path


class IndexNotFound(SearchError):
    def __init__(self, path: Path):
        super().__init__(f"no index at {path}; run 'search index' first")
        self.path = path


class IndexIncompatible(SearchError):
    def __init__(self, path: Path, found: object, expected: object):
        super().__init__(
            f"the index at {path} was built by an incompatible version "
            f"(format {found}, this version reads {expected}); run 'search index' to rebuild"
        )
        self.path = path


class RankingMismatch(SearchError):
    """An index opened with a ranking whose index-time settings differ from the index's."""


class IndexDamaged(SearchError):
    def __init__(self, path: Path, reason: str):
        super().__init__(f"the index at {path} is damaged ({reason}); run 'search index' to rebuild")
        self.path = path


class IndexBusy(SearchError):
    def __init__(self, path: Path, pid: int | None):
        who = f" (pid {pid})" if pid else ""
        super().__init__(f"another indexing run is in progress{who} on {path}; wait for it to finish")
        self.path = path
        self.pid = pid


class IndexWriteError(SearchError):
    def __init__(self, path: Path, reason: str):
        super().__init__(
            f"could not write the index at {path}: {reason}; the previous index is unchanged"
        )
        self.path = path


class QueryError(SearchError):
    """A query or a search option the engine cannot read."""


class QueryTooCostly(QueryError):
    """A query past the work budget, refused before the work starts; the message says what
    to narrow."""


class QueryTimeout(SearchError):
    """A query stopped at its deadline, or because the client that asked for it has gone."""

    def __init__(self, seconds: float | None):
        if seconds is None:
            super().__init__("the search was stopped: the client is gone")
        else:
            super().__init__(
                f"the search took longer than {seconds:g} s and was stopped; "
                "narrow it: fewer or rarer words, a date range, or a category"
            )
        self.seconds = seconds


class ServerBusy(SearchError):
    """A costly search refused because the server is running as many as it allows."""

    def __init__(self, slots: int):
        super().__init__(
            f"the server is busy with {slots} other costly searches; try again in a moment, "
            "or narrow the search (fewer or rarer words, fewer prefixes and fuzzy words)"
        )
        self.slots = slots


class DocumentNotFound(SearchError):
    def __init__(self, path: str):
        super().__init__(f"no document {path!r} in the index")
        self.path = path
