"""The last guard on what one search costs: a deadline, and the client's leaving.

The work budget (`settings.WorkBudget`) refuses a costly query before any work starts; this
stops whatever it did not foresee. The scoring loops, the snippets and Whoosh's collector call
`check()` as they go; it raises `QueryTimeout` once the search's deadline has passed or its
client has gone. The deadline of the search running in this thread (or task) is held in a
context variable, so that code deep in the executor needs no extra argument.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Callable, Iterator

from .errors import QueryTimeout


class Deadline:
    """A point in time after which a search stops, and an optional test of whether the one who
    asked for it is still there (waitress's `client_disconnected`)."""

    def __init__(self, seconds: float | None, gone: Callable[[], bool] | None = None):
        self.seconds = seconds
        self.gone = gone
        self.at = time.monotonic() + seconds if seconds else math.inf

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise QueryTimeout(self.seconds)
        if self.gone is not None and self.gone():
            raise QueryTimeout(None)


_current: ContextVar[Deadline | None] = ContextVar("search_deadline", default=None)


@contextmanager
def running(deadline: Deadline | None) -> Iterator[None]:
    """Make `deadline` the one `check()` tests until the block ends."""
    token = begin(deadline)
    try:
        yield
    finally:
        end(token)


def begin(deadline: Deadline | None) -> Token:
    """Make `deadline` the one `check()` tests, until `end` is given the token (for a web
    request, which begins and ends in two hooks)."""
    return _current.set(deadline)


def end(token: Token) -> None:
    _current.reset(token)


def current() -> Deadline | None:
    """The deadline of the search running here, if any."""
    return _current.get()


def check() -> None:
    """Raise QueryTimeout if the running search is past its deadline or its client is gone."""
    deadline = _current.get()
    if deadline is not None:
        deadline.check()
