"""The geometry of a trend's bar chart, which `_chart.html` writes as SVG.

Pure functions of a `search.trends.Trend`: a bar per period and search (grouped when several
searches are compared), each with its place, size, label and the URL that narrows the search
to its period; the axis labels; and the rows of the chart's table, its text alternative. The
server draws the chart, so it needs no script and no chart library in the browser.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass

from search.trends import Point, Trend

WIDTH = 720  # the SVG's own units; CSS scales it to the page's width
HEIGHT = 150
LEFT = 52  # room for the top value's label (larger on a phone)
BOTTOM = 20  # room for the periods' labels
TOP = 16  # room above the scale's top line for its label
RIGHT = 24  # room for the last period's label
MAX_TICKS = 12  # period labels along the axis


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int  # which search (its colour: class s0..s3)
    label: str  # the period, as a reader would say it: "July 2024"
    since: str  # its first and last days
    until: str
    value: float  # what the bar's height shows: a count, or per thousand documents
    count: int
    url: str  # the search narrowed to this period


@dataclass
class Tick:
    x: float
    label: str


@dataclass
class Row:
    label: str
    values: list[float]
    counts: list[int]
    documents: int
    urls: list[str]


@dataclass
class Chart:
    width: int
    height: int
    baseline: float  # the y of the axis
    left: float
    right: float  # the x where the axis ends
    top_y: float
    top_label: str  # the value at the top of the scale
    bars: list[Bar]
    ticks: list[Tick]
    rows: list[Row]
    names: list[str]  # the searches, in the order of their colours
    by: str
    per_thousand: bool
    summary: str  # one sentence: the highest period of each search

    @property
    def empty(self) -> bool:
        return not self.rows


def chart(trend: Trend, url: Callable[[int, Point], str], per_thousand: bool = False) -> Chart:
    """The chart of a trend; `url(series, point)` is where a bar leads."""
    names = [s.query or "All documents" for s in trend.series]
    periods = len(trend.labels)
    values = [[p.per_thousand if per_thousand else p.count for p in s.points] for s in trend.series]
    top = max((v for column in values for v in column), default=0) or 1
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - BOTTOM - TOP
    baseline = float(HEIGHT - BOTTOM)
    slot = plot_width / max(periods, 1)
    gap = slot * 0.15 if slot >= 4 else 0.0
    width = (slot - gap) / max(len(values), 1)
    bars, rows = [], []
    for i, label in enumerate(trend.labels):
        spoken = period_name(label, trend.by)
        points = [s.points[i] for s in trend.series]
        urls = [url(n, p) for n, p in enumerate(points)]
        rows.append(Row(spoken, [column[i] for column in values], [p.count for p in points], points[0].documents, urls))
        for n, column in enumerate(values):
            if not column[i]:
                continue  # nothing to draw or follow
            height = max(1.0, column[i] / top * plot_height)
            x = LEFT + i * slot + gap / 2 + n * width
            bars.append(Bar(round(x, 2), round(baseline - height, 2), round(width, 2), round(height, 2), n, spoken,
                            points[n].since, points[n].until, column[i], points[n].count, urls[n]))
    return Chart(
        width=WIDTH, height=HEIGHT, baseline=baseline, left=LEFT, right=WIDTH - RIGHT, top_y=float(TOP),
        top_label=f"{top:,.1f}" if per_thousand else f"{int(top):,}", bars=bars,
        ticks=_ticks(trend, slot), rows=rows, names=names, by=trend.by, per_thousand=per_thousand,
        summary=_summary(trend, names, values, per_thousand),
    )


def period_name(label: str, by: str) -> str:
    """2024-07 as "July 2024"; years and decades as they are."""
    if by == "month" and len(label) == 7:
        return f"{calendar.month_name[int(label[5:])]} {label[:4]}"
    return label


def _ticks(trend: Trend, slot: float) -> list[Tick]:
    """Labels along the axis: every period when few; else each year's January (months) or
    every few years or decades."""
    labels = trend.labels
    if trend.by == "month" and len(labels) > MAX_TICKS:
        chosen = [i for i, label in enumerate(labels) if label.endswith("-01")]
        if not chosen or chosen[0] >= 6:  # a first year that starts late is named too
            chosen.insert(0, 0)
        step = -(-len(chosen) // MAX_TICKS)
        return [Tick(round(LEFT + i * slot + slot / 2, 2), labels[i][:4]) for i in chosen[::step]]
    step = max(1, -(-len(labels) // MAX_TICKS))
    return [Tick(round(LEFT + i * slot + slot / 2, 2), labels[i]) for i in range(0, len(labels), step)]


def _summary(trend: Trend, names: list[str], values: list[list[float]], per_thousand: bool) -> str:
    parts = []
    for name, series, column in zip(names, trend.series, values):
        # A search's matches, or (no words: browsing, the archive) the documents themselves.
        what, noun = (f"“{name}”: ", "matches") if series.query else ("", "documents")
        if not series.total:
            parts.append(f"{what}no dated {noun}")
            continue
        best = max(range(len(column)), key=lambda i: column[i])
        shown = f"{column[best]:,.1f} per 1,000 documents" if per_thousand else f"{int(column[best]):,}"
        parts.append(f"{what}{series.total:,} dated {noun}, the most in {period_name(trend.labels[best], trend.by)} ({shown})")
    parts[0] = parts[0][0].upper() + parts[0][1:]
    return "; ".join(parts) + "."
