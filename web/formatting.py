"""What the templates show: text cut into pieces to mark, paragraphs, dates and categories.

Highlighting builds no HTML. It cuts a text into `Piece`s at the `[start, end)` offsets the
engine gives, and the templates write every piece escaped, inside `<mark>` when it matched, so
`<mark>` is the only markup highlighting can add and no template needs `|safe`.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


@dataclass(frozen=True)
class Piece:
    text: str
    mark: bool = False
    first: bool = False  # the first marked word of a document: the anchor results link to


def pieces(text: str, spans) -> list[Piece]:
    """`text` cut at the matched spans, in order; unmatched text between them."""
    return _cut(text or "", 0, len(text or ""), _clean(spans, len(text or "")))


@dataclass(frozen=True)
class Section:
    """A stretch of a document's text: one speaker's turn in a transcript (with its anchor,
    `t` and the turn's number, for links to an exact quote), or text without a speaker."""

    paragraphs: list
    anchor: str | None = None
    speaker: str | None = None
    label: str | None = None


def sections(text: str, spans, turns) -> list[Section]:
    """The text as its turns (`search.speakers.Turn`s), each turn's words in paragraphs, its
    label shown apart; text before the first turn as a section without a speaker. The first
    marked piece of the whole text is flagged `first`."""
    text = text or ""
    spans = _clean(spans, len(text))
    if not turns:
        return [Section(paragraphs(text, spans))]
    stretches = [(0, turns[0].start, None)] + [(max(t.words, t.start), t.end, (n, t)) for n, t in enumerate(turns)]
    out, first_done = [], False
    for a, b, turn in stretches:
        inside = [(s - a, e - a) for s, e in spans if s >= a and e <= b]
        if a >= b or (turn is None and not text[a:b].strip()):
            continue
        paras = paragraphs(text[a:b], inside, mark_first=not first_done)
        first_done = first_done or bool(inside)
        if turn is None:
            out.append(Section(paras))
        else:
            n, t = turn
            out.append(Section(paras, f"t{n}", t.speaker, t.label))
    return out


def paragraphs(text: str, spans, mark_first: bool = True) -> list[list[list[Piece]]]:
    """The text's paragraphs (split at blank lines), each a list of lines (split at single
    newlines), each a list of pieces. The first marked piece is flagged `first`, unless not
    `mark_first`."""
    text = text or ""
    spans = _clean(spans, len(text))
    bounds, start = [], 0
    for gap in _PARAGRAPH_BREAK.finditer(text):
        bounds.append((start, gap.start()))
        start = gap.end()
    bounds.append((start, len(text)))
    out: list[list[list[Piece]]] = []
    first_done = not mark_first
    next_span = 0
    for a, b in bounds:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        inside = []
        while next_span < len(spans) and spans[next_span][0] < b:
            if spans[next_span][0] >= a and spans[next_span][1] <= b:
                inside.append(spans[next_span])
            next_span += 1
        if a == b:
            continue
        lines: list[list[Piece]] = [[]]
        for piece in _cut(text, a, b, inside):
            if piece.mark:
                if not first_done:
                    piece, first_done = Piece(piece.text, True, True), True
                lines[-1].append(piece)
                continue
            for i, line in enumerate(piece.text.split("\n")):
                if i:
                    lines.append([])
                if line:
                    lines[-1].append(Piece(line))
        out.append(lines)
    return out


def _clean(spans, size: int) -> list[tuple[int, int]]:
    """Spans sorted, inside the text, non-empty and not overlapping."""
    out: list[tuple[int, int]] = []
    for span in sorted((int(s), int(e)) for s, e in (spans or [])):
        start, end = max(0, span[0]), min(size, span[1])
        if start < end and (not out or start >= out[-1][1]):
            out.append((start, end))
    return out


def _cut(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> list[Piece]:
    out, pos = [], start
    for s, e in spans:
        if s > pos:
            out.append(Piece(text[pos:s]))
        out.append(Piece(text[s:e], mark=True))
        pos = e
    if pos < end:
        out.append(Piece(text[pos:end]))
    return out


def long_date(value: str | None) -> str:
    """`2024-07-11` as `July 11, 2024`; anything else as it is."""
    if not value:
        return ""
    try:
        day = datetime.date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


def web_url(url: str | None) -> str | None:
    """The URL when it is an http(s) link; None for anything else (`javascript:` ...)."""
    if not url or not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def host(url: str | None) -> str:
    """The host name of a link, for showing where it goes."""
    safe = web_url(url)
    return (urlsplit(safe).hostname or "") if safe else ""
