"""Matches over time: how many documents a search finds in each month, year or decade.

A trend counts the documents `SearchIndex._select` keeps, the very ones a search's `total`
counts, by the period of their date (`Columns.day`, YYYYMMDD; undated documents are left
out), with a numpy bincount. Several searches share one axis, so they can be compared; each
period also says how many documents the whole archive has in it, since the archive's volume
varies a lot from month to month and raw counts mislead (`per_thousand`).

The period is chosen from the span of the matches unless asked: months when they span at
most `MONTHS_UP_TO` months (five years: at most 60 bars, a presidential term and its edges), years up to `YEARS_UP_TO` years,
decades beyond (an archive that goes back to 1789).
"""

from __future__ import annotations

import calendar
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .columns import Columns
from .errors import QueryError

BY = ("month", "year", "decade")
MONTHS_UP_TO = 60
YEARS_UP_TO = 60
MAX_PERIODS = 1200  # a month axis over a century is not a chart
MAX_QUERIES = 4  # searches compared on one chart


@dataclass
class Point:
    """One period of one search: its matches, and the archive's dated documents then."""

    label: str  # 2024-07, 2024 or 1990s
    since: str  # the period's first day, YYYY-MM-DD
    until: str  # its last day
    count: int
    documents: int
    per_thousand: float  # count per 1,000 documents of the period (0 when it has none)


@dataclass
class Series:
    """One search's trend: a point per period of the shared axis."""

    query: str
    total: int  # the dated matches, each group of copies once, as the search's total counts them (a group filed
    # in two periods counts in each period's point, as the search restricted to it does: the points may add up to more)
    undated: int  # matches left out for having no date
    points: list[Point]


@dataclass
class Trend:
    """One or more searches counted over the same periods."""

    by: str
    series: list[Series]

    @property
    def labels(self) -> list[str]:
        return [p.label for p in self.series[0].points] if self.series else []


def check_by(by: str | None) -> str | None:
    if by is not None and by not in BY:
        raise QueryError(f"unknown period {str(by)[:30]!r}; use one of: {', '.join(BY)}")
    return by


def choose_by(low: int, high: int) -> str:
    """The period for matches dated from `low` to `high` (YYYYMMDD)."""
    if _keys(np.array([high]), "month")[0] - _keys(np.array([low]), "month")[0] < MONTHS_UP_TO:
        return "month"
    if high // 10000 - low // 10000 < YEARS_UP_TO:
        return "year"
    return "decade"


def build(queries: Sequence[str], matched: Sequence[np.ndarray], columns: Columns, by: str | None = None,
          group: np.ndarray | None = None) -> Trend:
    """The trend of each search, from the document numbers it matched (one array per query),
    on one axis from the first period any of them has a match in to the last. With `group`
    (each document's group of copies, duplicates.py; the matches then unfolded), a group
    counts once in each period it has a match in, as a search restricted to that period
    counts it (so a group filed in two months counts in both)."""
    matched = [np.asarray(docnums, dtype=np.int64) for docnums in matched]
    days = [columns.day[docnums] for docnums in matched]
    groups = [group[docnums] if group is not None else docnums for docnums in matched]
    copied = np.bincount(group)[group] > 1 if group is not None else None  # documents that have copies
    dated = [d[d > 0] for d in days]
    found = [d for d in dated if len(d)]
    if not found:
        return Trend(check_by(by) or "month",
                     [Series(q, 0, len(np.unique(g[d == 0])), []) for q, d, g in zip(queries, days, groups)])
    low, high = min(int(d.min()) for d in found), max(int(d.max()) for d in found)
    by = check_by(by) or choose_by(low, high)
    first, last = int(_keys(np.array([low]), by)[0]), int(_keys(np.array([high]), by)[0])
    size = last - first + 1
    if size > MAX_PERIODS:
        raise QueryError(f"by {by}, the matches would make {size:,} periods (at most {MAX_PERIODS:,}); count by year or decade")
    documents = _documents(columns, by, group, copied, first, size)
    periods = [_period(first + i, by) for i in range(size)]
    series = []
    for query, docnums, all_days, these, of in zip(queries, matched, days, dated, groups):
        shared = copied[docnums[all_days > 0]] if copied is not None else None
        counts = _counts(these, by, first, size, of[all_days > 0], shared)
        points = [
            Point(label, since, until, int(c), int(n), round(1000 * int(c) / int(n), 2) if n else 0.0)
            for (label, since, until), c, n in zip(periods, counts, documents)
        ]
        total = len(np.unique(of[all_days > 0])) if group is not None else int(counts.sum())
        series.append(Series(query, total, len(np.unique(of[all_days == 0])), points))
    return Trend(by, series)


def _keys(days: np.ndarray, by: str) -> np.ndarray:
    """Each date's period as a whole number that counts periods (months since year 0...)."""
    years = days // 10000
    if by == "month":
        return years * 12 + (days // 100 % 100 - 1)
    if by == "year":
        return years
    return years // 10


def _counts(days: np.ndarray, by: str, first: int, size: int, groups: np.ndarray, shared: np.ndarray | None) -> np.ndarray:
    """How many groups (a document without copies is its own) have a date in each period:
    a bincount, and for the few documents with copies (`shared`), each (period, group) once."""
    keys = _keys(days, by) - first
    inside = (keys >= 0) & (keys < size)
    if shared is None or not shared.any():
        return np.bincount(keys[inside], minlength=size)
    alone, copies = inside & ~shared, inside & shared
    width = int(groups[copies].max()) + 1 if copies.any() else 1
    pairs = np.unique(keys[copies] * width + groups[copies]) // width
    return np.bincount(keys[alone], minlength=size) + np.bincount(pairs, minlength=size)


_documents_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_documents_lock = threading.Lock()


def _documents(columns: Columns, by: str, group: np.ndarray | None, copied: np.ndarray | None, first: int, size: int) -> np.ndarray:
    """The archive's dated live documents (groups of copies once) in each period from `first`:
    counted once per generation's columns and period, then sliced."""
    with _documents_lock:
        known = _documents_cache.setdefault(columns, {})
        found = known.get((by, group is not None))
        if found is None:
            live = np.flatnonzero(columns.live & (columns.day > 0))
            if not len(live):
                return np.zeros(size, np.int64)
            low = int(_keys(columns.day[live], by).min())
            high = int(_keys(columns.day[live], by).max())
            found = known[(by, group is not None)] = (low, _counts(
                columns.day[live], by, low, high - low + 1, group[live] if group is not None else live,
                copied[live] if copied is not None else None))
    low, counts = found
    out = np.zeros(size, np.int64)
    start, stop = max(first, low), min(first + size, low + len(counts))
    if start < stop:
        out[start - first : stop - first] = counts[start - low : stop - low]
    return out


def _period(key: int, by: str) -> tuple[str, str, str]:
    """(label, first day, last day) of a period's key."""
    if by == "month":
        year, month = divmod(key, 12)
        month += 1
        end = calendar.monthrange(year, month)[1] if year > 0 else 31
        return f"{year:04d}-{month:02d}", f"{year:04d}-{month:02d}-01", f"{year:04d}-{month:02d}-{end:02d}"
    if by == "year":
        return f"{key:04d}", f"{key:04d}-01-01", f"{key:04d}-12-31"
    return f"{key * 10:04d}s", f"{key * 10:04d}-01-01", f"{key * 10 + 9:04d}-12-31"
