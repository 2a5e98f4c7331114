"""Periods named in a query's words ("readout March 2023", "proclamation 2021").

Same-titled documents recur every year (a proclamation, a call readout, a jobs report), and the
period a user names is then the only thing that tells them apart. It is a soft signal: the
ranking scores documents dated in it higher (`Ranking.period_bonus`); it never filters.
`date:` stays the way to filter.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from whoosh import query

from .queries import PeriodBonus, TermSpan

_MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): n for n, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
# A year a document can be dated in: four digits, not an amount ($2000, 2000%, 2,000) and not
# part of a word or a longer number (FY2024, 120210).
_YEAR = r"(?<![\w$,.])(1[6-9]\d\d|20\d\d)(?![\d%]|,\d)"
_PERIOD = re.compile(
    rf"\b(?P<month>{_MONTH})\.?\s+(?:\d{{1,2}}(?:st|nd|rd|th)?,?\s+)?{_YEAR}"  # March 2023, Jan. 5, 2024
    rf"|(?<![\w-]){_YEAR.replace('(1', '(?P<iso>1', 1)}-(?P<isomonth>0[1-9]|1[0-2])(?:-\d\d)?\b"  # 2023-03, 2023-03-14
    rf"|{_YEAR.replace('(1', '(?P<year>1', 1)}",  # 2021
    re.IGNORECASE,
)
# What the reader treats as a filter, not as words: `date:2024`, `date:[2021 to 2022]`.
_DATE_SYNTAX = re.compile(r"\bdate:(?:\[[^\]]*\]?|\S*)", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    """A month or a year, as the first and last days a `date` field holds for it."""

    label: str
    start: str  # YYYY-MM-DD
    end: str


def named_periods(text: str) -> list[Period]:
    """The months and years named in `text`, each once, in the order named."""
    found: dict[str, Period] = {}
    for m in _PERIOD.finditer(_DATE_SYNTAX.sub(" ", text)):
        if m.group("month"):
            year, month = int(m.group(2)), _MONTHS[m.group("month").lower()]
            period = _month(year, month)
        elif m.group("iso"):
            period = _month(int(m.group("iso")), int(m.group("isomonth")))
        else:
            year = int(m.group("year"))
            period = Period(str(year), f"{year:04d}-01-01", f"{year:04d}-12-31")
        found.setdefault(period.label, period)
    return list(found.values())


def _month(year: int, month: int) -> Period:
    last = calendar.monthrange(year, month)[1]
    return Period(f"{calendar.month_name[month]} {year}", f"{year:04d}-{month:02d}-01", f"{year:04d}-{month:02d}-{last:02d}")


def with_period_bonus(q: query.Query, text: str, bonus: float) -> query.Query:
    """`q` with the documents dated in a month or year the words name scoring `1 + bonus`
    times; a query that only excludes has no scores to raise."""
    periods = named_periods(text)
    if not bonus or not periods or isinstance(q, query.Not):
        return q
    spans: list[query.Query] = [TermSpan("date", p.start, p.end) for p in periods]
    within = spans[0] if len(spans) == 1 else query.Or(spans)
    return PeriodBonus(q, [within], 1.0 + bonus, " or ".join(p.label for p in periods))
