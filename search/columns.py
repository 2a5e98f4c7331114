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
from pathlib import Path

import numpy as np

from .duplicates import Groups, find_groups, load_groups
from .speakers import REPORTER
from .storage import PerGeneration


@dataclass(frozen=True)
class Filters:
    """The filters of a search: categories, dates (YYYY-MM-DD, both ends included), and the
    values of value fields (collections, declared facets) as (field, values) pairs."""

    tags: frozenset[str] = frozenset()
    since: str | None = None
    until: str | None = None
    values: tuple[tuple[str, frozenset[str]], ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.tags) or self.since is not None or self.until is not None or bool(self.values)

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
        # Who speaks in each document, the collections and the declared facets, counted as the
        # categories are; each read the first time a filter or a facet needs it (a date sort
        # does not), under a lock, with that search's reader of this generation.
        self._sets: dict[str, tuple[np.ndarray, list[tuple[str, ...]]]] = {}
        self._lock = threading.Lock()
        self.live = live_documents(reader)

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

    def masks(self, docnums: np.ndarray, filters: Filters, reader) -> dict[str, np.ndarray]:
        """One mask a filter that is on ("date", "tags", or a value field's name): which of
        the documents it keeps."""
        found: dict[str, np.ndarray] = {}
        if filters.dated:
            found["date"] = self.date_mask(docnums, filters)
        if filters.tags:
            found["tags"] = self.tag_mask(docnums, filters)
        for fieldname, values in filters.values:
            numbers, sets = self.value_sets(fieldname, reader)
            chosen = [n for n, held in enumerate(sets) if any(v in values for v in held)]
            mask = np.isin(numbers[docnums], np.array(chosen, dtype=np.int64))
            found[fieldname] = found[fieldname] & mask if fieldname in found else mask
        return found

    def tag_counts(self, docnums: np.ndarray) -> Counter:
        return _set_counts(self.tag_set[docnums], self.tag_sets)

    def value_sets(self, fieldname: str, reader) -> tuple[np.ndarray, list[tuple[str, ...]]]:
        """Each document's values of a keyword field, numbered by set (reporters left out of
        the speakers)."""
        with self._lock:
            found = self._sets.get(fieldname)
            if found is None:
                found = self._sets[fieldname] = _value_sets(reader, fieldname, leave_out=REPORTER if fieldname == "speaker" else None)
            return found

    def value_counts(self, docnums: np.ndarray, fieldname: str, reader) -> Counter:
        """How many of the documents hold each value of a keyword field (speakers: each
        speaker, reporters left out; collections; a declared facet)."""
        numbers, sets = self.value_sets(fieldname, reader)
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


def read_groups(reader) -> Groups:
    """The groups of copies among an index's live documents, from the digest and URL columns
    (duplicates.py): found as a generation is built, and written beside it."""
    size = reader.doc_count_all()

    def column(name: str) -> list:
        return list(reader.column_reader(name)) if reader.has_column(name) else [b""] * size

    return find_groups(column("digest"), column("source_url"), live_documents(reader))


def live_documents(reader) -> np.ndarray:
    """Which of an index's documents are not deleted, by document number."""
    size = reader.doc_count_all()
    return np.array([not reader.is_deleted(d) for d in range(size)], bool) if reader.has_deletions() else np.ones(size, bool)


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


_columns: PerGeneration[Columns] = PerGeneration()
_groups: PerGeneration[Groups] = PerGeneration()


def shared_columns(folder: Path, reader) -> Columns:
    """One Columns per generation and process (storage.PerGeneration)."""
    return _columns.get(folder, lambda: Columns(reader))


def shared_groups(folder: Path, reader) -> Groups:
    """One Groups per generation and process, as the columns are: read from the file written
    with the generation, or found from its columns when it has none."""
    return _groups.get(folder, lambda: load_groups(folder, reader.doc_count_all()) or read_groups(reader))
