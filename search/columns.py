"""Each document's date, categories and speakers, by document number, as numpy columns read once per
generation; the filters, facet counts and date order that work on them.

A search scores its matches once (`executor.run`); the category and date filters, the facet
counts and the date order are then array operations over the matched document numbers, so a
total, its facets and its pages cost no second query.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .speakers import REPORTER


@dataclass(frozen=True)
class Filters:
    """The category and date filters of a search (dates as YYYY-MM-DD, both ends included)."""

    tags: frozenset[str] = frozenset()
    since: str | None = None
    until: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.tags) or self.since is not None or self.until is not None

    @property
    def dated(self) -> bool:
        return self.since is not None or self.until is not None


def day_number(date: str | None) -> int:
    """YYYY-MM-DD as the integer YYYYMMDD, which orders as the dates do; 0 for no date."""
    if not date or len(date) < 10:
        return 0
    try:
        return int(date[:4]) * 10000 + int(date[5:7]) * 100 + int(date[8:10])
    except ValueError:
        return 0


class Columns:
    """Dates, categories and speakers of one generation's documents (deleted ones included)."""

    def __init__(self, reader):
        size = reader.doc_count_all()
        dates = list(reader.column_reader("date")) if reader.has_column("date") else [""] * size
        self.dates: list[str] = [d or "" for d in dates]
        self.day = np.array([day_number(d) for d in self.dates], dtype=np.int64)
        self.year = self.day // 10000
        self.tag_set, self.tag_sets = _value_sets(reader, "tags")
        # Who speaks in each document, counted as the categories are; read the first time a
        # facet needs it (a date sort or a filter does not), under a lock, with that search's
        # reader of this generation.
        self._speakers: tuple[np.ndarray, list[tuple[str, ...]]] | None = None
        self._speakers_lock = threading.Lock()
        self.live = np.array([not reader.is_deleted(d) for d in range(size)], bool) if reader.has_deletions() \
            else np.ones(size, bool)

    def tags(self, docnum: int) -> list[str]:
        return list(self.tag_sets[self.tag_set[docnum]])

    def date_mask(self, docnums: np.ndarray, filters: Filters) -> np.ndarray:
        """Which of the documents are dated within the filters' dates (undated ones are not)."""
        days = self.day[docnums]
        mask = days > 0
        if filters.since is not None:
            mask &= days >= day_number(filters.since)
        if filters.until is not None:
            mask &= days <= day_number(filters.until)
        return mask

    def tag_mask(self, docnums: np.ndarray, filters: Filters) -> np.ndarray:
        """Which of the documents have any of the filters' categories."""
        chosen = [n for n, tags in enumerate(self.tag_sets) if any(t in filters.tags for t in tags)]
        return np.isin(self.tag_set[docnums], np.array(chosen, dtype=np.int64))

    def filter_mask(self, docnums: np.ndarray, filters: Filters) -> tuple[np.ndarray, np.ndarray]:
        """(within the dates, within the categories), each all True when that filter is off."""
        dated = self.date_mask(docnums, filters) if filters.dated else np.ones(len(docnums), bool)
        tagged = self.tag_mask(docnums, filters) if filters.tags else np.ones(len(docnums), bool)
        return dated, tagged

    def tag_counts(self, docnums: np.ndarray) -> Counter:
        return _set_counts(self.tag_set[docnums], self.tag_sets)

    def speaker_counts(self, docnums: np.ndarray, reader) -> Counter:
        """How many of the documents each speaker speaks in (reporters left out)."""
        with self._speakers_lock:
            if self._speakers is None:
                self._speakers = _value_sets(reader, "speaker", leave_out=REPORTER)
        numbers, sets = self._speakers
        return _set_counts(numbers[docnums], sets)

    def year_counts(self, docnums: np.ndarray) -> Counter:
        years = self.year[docnums]
        years = years[years > 0]  # undated documents have no year
        if not len(years):
            return Counter()
        low = int(years.min())
        counts = np.bincount(years - low)
        return Counter({f"{low + i:04d}": int(c) for i, c in enumerate(counts) if c})

    def date_order(self, docnums: np.ndarray, scores: np.ndarray, newest: bool) -> np.ndarray:
        """Positions of the documents by date (newest or oldest first), then by score, then by
        document number; undated documents last either way."""
        days = self.day[docnums]
        undated = days == 0
        return np.lexsort((docnums, -scores, -days if newest else days, undated))


def _value_sets(reader, fieldname: str, leave_out: str | None = None) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Each document's values of a keyword field as the number of its set of values, and the
    sets: an archive has few sets of categories (or of speakers), so counts are a bincount."""
    values_of: list[list[str]] = [[] for _ in range(reader.doc_count_all())]
    for term in reader.lexicon(fieldname) if fieldname in reader.schema else ():
        value = term.decode("utf-8") if isinstance(term, bytes) else term
        if value != leave_out:
            for docnum in reader.postings(fieldname, term).all_ids():
                values_of[docnum].append(value)
    numbering: dict[tuple[str, ...], int] = {}
    numbers = np.array([numbering.setdefault(tuple(values), len(numbering)) for values in values_of], dtype=np.int64)
    return numbers, list(numbering)


def _set_counts(numbers: np.ndarray, sets: list[tuple[str, ...]]) -> Counter:
    """How many documents have each value, from the documents' numbered sets of values: each
    set counted once, then expanded (an archive has few sets)."""
    counts = np.bincount(numbers, minlength=len(sets))
    found: Counter = Counter()
    for number in np.flatnonzero(counts):
        for value in sets[number]:
            found[value] += int(counts[number])
    return found
