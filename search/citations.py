"""Citations of a document in the Chicago and APA styles, and a BibTeX entry.

Built from what the index stores: the title, the date, the original URL, and the office that
issued it (`office`: search.toml's `[site] office`, "The White House" for the sample archive;
without one the citation starts with the title, as the styles cite a work without an author),
with the day it was read as the access date.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

from .documents import Document
from .errors import QueryError

STYLES = ("chicago", "apa", "bibtex")


@dataclass
class Citations:
    chicago: str
    apa: str
    bibtex: str


def citations(doc: Document, office: str | None = None, accessed: datetime.date | None = None) -> Citations:
    """The document cited in every style; `accessed` is today when not given."""
    accessed = accessed or datetime.date.today()
    return Citations(chicago(doc, office, accessed), apa(doc, office, accessed), bibtex(doc, office, accessed))


def cite(doc: Document, style: str, office: str | None = None, accessed: datetime.date | None = None) -> str:
    if style not in STYLES:
        raise QueryError(f"unknown citation style {str(style)[:30]!r}; use one of: {', '.join(STYLES)}")
    return str(getattr(citations(doc, office, accessed), style))


def chicago(doc: Document, office: str | None, accessed: datetime.date) -> str:
    """Chicago (17th ed.), a web page in the bibliography: Office. “Title.” Date. URL. Accessed Date."""
    date = _date(doc.date)
    parts = ([_end(office)] if office else []) + [f"“{_end(_title(doc))}”", _end(_long(date) if date else "n.d.")]
    if doc.source_url:
        parts.append(_end(doc.source_url))
    parts.append(f"Accessed {_long(accessed)}.")
    return " ".join(parts)


def apa(doc: Document, office: str | None, accessed: datetime.date) -> str:
    """APA (7th ed.), a web page with a retrieval date: Office. (2024, July 11). Title. Retrieved …, from URL
    (without an office, the title takes the author's place: Title. (2024, July 11). Retrieved …)."""
    date = _date(doc.date)
    when = f"({date.year}, {date.strftime('%B')} {date.day})" if date else "(n.d.)"
    text = f"{_end(office)} {when}. {_end(_title(doc))}" if office else f"{_end(_title(doc))} {when}."
    if doc.source_url:
        text += f" Retrieved {_long(accessed)}, from {doc.source_url}"
    return text


def bibtex(doc: Document, office: str | None, accessed: datetime.date) -> str:
    """A @misc entry (BibLaTeX's date and urldate, and BibTeX's year, month and note)."""
    date = _date(doc.date)
    fields = ([("author", "{" + _tex(office) + "}")] if office else []) + [("title", _tex(_title(doc)))]
    if date:
        fields += [("year", str(date.year)), ("month", date.strftime("%b").lower()), ("date", date.isoformat())]
    if doc.source_url:
        fields += [("url", doc.source_url.replace("}", "%7D").replace("{", "%7B"))]
    fields += [("urldate", accessed.isoformat()), ("note", f"Accessed {accessed.isoformat()}")]
    lines = [f"@misc{{{_key(doc, office, date)},"]
    lines += [f"  {name} = {value}," if name == "month" else f"  {name} = {{{value}}}," for name, value in fields]
    return "\n".join(lines) + "\n}"


def _title(doc: Document) -> str:
    return " ".join((doc.title or doc.path).split())


def _date(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _long(date: datetime.date) -> str:
    return f"{date.strftime('%B')} {date.day}, {date.year}"


def _end(text: str) -> str:
    """The text ending with a full stop (one, after whatever ends it: "?" and "!" stay)."""
    text = text.rstrip()
    return text if text.endswith((".", "?", "!")) else text + "."


_TEX_SPECIAL = re.compile(r"([&%$#_{}])|(\\)|(~)|(\^)")


def _tex(text: str) -> str:
    """Text as a BibTeX value: its special characters escaped, capitals kept as written."""
    def escape(m: re.Match) -> str:
        if m[1]:
            return "\\" + m[1]
        return {"\\": r"\textbackslash{}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}[m[0]]

    escaped = _TEX_SPECIAL.sub(escape, text)
    return re.sub(r"\b([A-Z][A-Za-z]*[A-Z][A-Za-z]*)\b", r"{\1}", escaped)  # NATO, DPRK: not lowercased


def _key(doc: Document, office: str | None, date: datetime.date | None) -> str:
    """whitehouse2024readout: the office, the year and the title's first long word, in ASCII."""
    def ascii_word(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower())

    office_word = ascii_word((office or "").removeprefix("The ")) or "doc"
    words = [ascii_word(w) for w in _title(doc).split()]
    first = next((w for w in words if len(w) > 3), next((w for w in words if w), "untitled"))
    return f"{office_word}{date.year if date else 'nd'}{first}"
