"""From a query's scored matches to what a search shows: the filters (dates, categories,
collections, declared facets) checked and applied, copies folded into their groups, and the
facet counts.

Each facet counts the matches with the other filters only, so a reader can see, and switch to,
the other values; copies count once everywhere (the total, every facet, a trend).
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import executor
from .columns import Columns, Filters
from .duplicates import Groups
from .errors import QueryError
from .facets import choose, declared, field_values, hint
from .results import FacetCount

# Past this many years between the first and the last match, the year facet counts decades.
DECADES_AFTER_YEARS = 30


@dataclass
class Selection:
    """The matches after the filters, copies folded (what a search's `total` counts), and the
    facet counts by dimension: "tags", "years", "speaker", "collection", or a declared facet."""

    matches: executor.Matches
    note: str | None = None  # what the matches are, when not what was asked (date order)
    counts: dict[str, Counter] = field(default_factory=dict)
    folded: int = 0  # copies left out, shown as "also filed as" under their group's best
    unfolded: executor.Matches | None = None  # the matches before copies were folded (a trend counts
    group: np.ndarray | None = None  # each group once in every period): and each document's group

    @property
    def counted(self) -> executor.Matches:
        """What a trend counts by period: the matches before folding when copies were folded
        (with `group`, each group once a period), else the matches."""
        return self.unfolded if self.unfolded is not None else self.matches


def check_filters(reader, tags, since: str | None, until: str | None, collections, facets) -> tuple[Filters, list[str]]:
    """A search's filters, with hints for values no document has (the search finds nothing
    then, and says why). QueryError for a date that is not one, or a facet the index lacks."""
    hints: list[str] = []
    tag_values = frozenset(t.strip().lower() for t in tags if t and t.strip())
    if tag_values:
        known = field_values(reader, "tags")
        hints += [hint("category", known, t) for t in sorted(tag_values) if t not in known]
    values: list[tuple[str, frozenset[str]]] = []
    wanted = [("collection", list(collections))] + [(k, list(v)) for k, v in (facets or {}).items()]
    names = declared(reader.schema)
    for fieldname, typed in wanted:
        typed = [t for t in (" ".join(str(t).split()) for t in typed) if t]
        if not typed:
            continue
        if fieldname != "collection" and fieldname not in names:
            have = ", ".join(names) if names else "none (declare them with search index --facet KEY)"
            raise QueryError(f"unknown facet {fieldname!r}; this index's facets: {have}")
        known = field_values(reader, fieldname)
        chosen: set[str] = set()
        for value in typed:
            found = choose(known, value)
            if not found:
                hints.append(hint("collection" if fieldname == "collection" else fieldname, known, value))
            chosen.update(found)
        values.append((fieldname, frozenset(chosen)))
    return Filters(tag_values, check_day(since, "since"), check_day(until, "until"), tuple(values)), hints


def check_day(value: str | None, name: str) -> str | None:
    """A since or until date as YYYY-MM-DD (any year from 0001, so 1789 too), or QueryError."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise QueryError(f"{name} must be a date as YYYY-MM-DD, not {str(value)[:30]!r}")
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{name} {value} is not a real date") from None
    return value


def select(columns: Callable[[], Columns], matches: executor.Matches, wanted: Filters, reader, facets: bool,
           groups: Groups | None) -> Selection:
    """The matches kept by every filter, with copies folded by `groups` (None: every copy
    kept); with `facets`, each dimension's counts over the matches kept by the other filters.
    `columns` gives the generation's columns, read only when a filter or a facet needs them."""
    chosen = Selection(matches)
    masks = columns().masks(matches.docnums, wanted, reader) if wanted.active else {}
    if groups is not None and not groups.any:
        groups = None

    def kept(but: str | None = None) -> np.ndarray:
        """The documents every filter keeps, but the one named; each group once."""
        keep = np.ones(len(matches.docnums), bool)
        for name, mask in masks.items():
            if name != but:
                keep &= mask
        docnums = matches.docnums[keep]
        return docnums[groups.fold(docnums, matches.scores[keep])] if groups is not None else docnums

    if facets:
        read = columns()
        everything = kept()  # a dimension whose filter is off counts these: filtered and folded once

        def without(name: str) -> np.ndarray:
            return kept(name) if name in masks else everything

        chosen.counts["tags"] = read.tag_counts(without("tags"))
        chosen.counts["years"] = read.year_counts(without("date"))
        for fieldname in ("speaker", "collection", *declared(reader.schema)):
            if fieldname in reader.schema:
                chosen.counts[fieldname] = read.value_counts(without(fieldname), fieldname, reader)
    if masks:
        keep = np.logical_and.reduce(list(masks.values()))
        matches = executor.Matches(matches.docnums[keep], matches.scores[keep])
    if groups is not None:
        chosen.unfolded, chosen.group = matches, groups.group
        positions = groups.fold(matches.docnums, matches.scores)
        chosen.folded = len(matches.docnums) - len(positions)
        matches = executor.Matches(matches.docnums[positions], matches.scores[positions])
    chosen.matches = matches
    return chosen


def year_facet(counts: Counter, wanted: Filters) -> list[FacetCount]:
    """The years of the matches, newest first; over a span of more than DECADES_AFTER_YEARS
    years, decades ("1860s"). Within a chosen span (since/until), only its years are counted,
    so that choosing a decade narrows to the years in it."""
    years = {int(y): c for y, c in counts.items()}
    if wanted.dated and years and max(years) - min(years) > DECADES_AFTER_YEARS:
        low = int(wanted.since[:4]) if wanted.since else 0
        high = int(wanted.until[:4]) if wanted.until else 9999
        years = {y: c for y, c in years.items() if low <= y <= high}
    if years and max(years) - min(years) > DECADES_AFTER_YEARS:
        decades: Counter = Counter()
        for year, count in years.items():
            decades[f"{year // 10 * 10:04d}s"] += count
        return [FacetCount(d, c) for d, c in sorted(decades.items(), reverse=True)]
    return [FacetCount(f"{y:04d}", c) for y, c in sorted(years.items(), reverse=True)]


def period_of(value: str) -> tuple[str, str] | None:
    """The since and until of a year facet's value ("2024", "1860s"); None for another text."""
    if re.fullmatch(r"[0-9]{4}", value):
        return f"{value}-01-01", f"{value}-12-31"
    if re.fullmatch(r"[0-9]{3}0s", value):
        return f"{value[:4]}-01-01", f"{int(value[:4]) + 9:04d}-12-31"
    return None
