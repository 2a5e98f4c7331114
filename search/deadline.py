"""The last guards on what one search costs: a deadline, the client's leaving, and a limit on
how many costly searches run at once.

The work budget (`settings.WorkBudget`) refuses a query past it before any work starts; this
stops whatever it did not foresee. The scoring loops, the snippets and Whoosh's collector call
`check()` as they go; it raises `QueryTimeout` once the search's deadline has passed or its
client has gone. A server also gives each search its `gate`: a costly search (known from its
cost before the work) runs only while it holds one of the gate's few slots, and is refused
with `ServerBusy` when none is free. The deadline of the search running in this thread (or
task) is held in a context variable, so that code deep in the executor needs no extra argument.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

from whoosh.collectors import UnlimitedCollector

from .errors import QueryTimeout, ServerBusy


class Gate:
    """At most `slots` costly searches at once, in one process."""

    def __init__(self, slots: int):
        self.slots = slots
        self._free = threading.BoundedSemaphore(slots)

    @contextmanager
    def held(self) -> Iterator[None]:
        if not self._free.acquire(blocking=False):
            raise ServerBusy(self.slots)
        try:
            yield
        finally:
            self._free.release()


class Deadline:
    """A point in time after which a search stops, an optional test of whether the one who
    asked for it is still there (waitress's `client_disconnected`), and the gate its costly
    searches must pass."""

    def __init__(self, seconds: float | None, gone: Callable[[], bool] | None = None, gate: Gate | None = None):
        self.seconds = seconds
        self.gone = gone
        self.gate = gate
        self.at = time.monotonic() + seconds if seconds else math.inf

    @contextmanager
    def admitted(self, costly: bool) -> Iterator[None]:
        """Run the block; a costly search only while it holds a slot of the gate."""
        if costly and self.gate is not None:
            with self.gate.held():
                yield
        else:
            yield

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


class TimedCollector(UnlimitedCollector):
    """Whoosh's collector of every match, checking the deadline as it goes."""

    def collect(self, sub_docnum):
        self._seen = getattr(self, "_seen", 0) + 1
        if not self._seen & 1023:
            check()
        return super().collect(sub_docnum)
