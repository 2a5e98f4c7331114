"""Fields of values: the collection a document belongs to, and the front-matter keys an index
declares as facets (`search index --facet president`).

A value field holds a few whole values a document (a name, a slug), stored as written and
matched without regard to case. `president:Lincoln` finds the documents whose value is
"Abraham Lincoln": a value is chosen when it is the text typed, or else when it holds every word
typed. A value no document has finds nothing, with a hint naming the closest value there is.
"""

from __future__ import annotations

import datetime as dt
import difflib
import fnmatch
import re

import numpy as np
from whoosh import fields

from .cleaning import TEXT_CONTROL
from .errors import SearchError
from .postings import postings
from .queries import DocSet
from .settings import MAX_TAG_CHARS, MAX_TAGS_PER_DOCUMENT

# Names a facet cannot take: the index's own fields, and the parameters of the search page's
# URLs (a facet filters as ?KEY=value).
RESERVED = frozenset({
    "path", "doc_id", "title", "body", "tags", "tag", "date", "source_url", "published_time", "modified_time",
    "content", "speaker", "speakers", "turns", "collection", "collections", "digest", "q", "page", "sort", "since",
    "until", "limit", "explain", "exact", "duplicates", "format", "per", "by", "years", "facets", "id",
})
_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")


class ValueField(fields.KEYWORD):
    """Whole values, each one term as written (a list of them per document), stored as the list."""

    def __init__(self):
        super().__init__(stored=True, lowercase=False, commas=True, scorable=False)


def check_keys(keys: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The declared facet keys, each once, or a one-line error for one that cannot be one."""
    found: dict[str, None] = {}
    for key in keys:
        if not _KEY.fullmatch(key):
            raise SearchError(f"--facet {key[:40]!r}: a facet is a front-matter key of lowercase letters, digits and _, starting with a letter")
        if key in RESERVED:
            raise SearchError(f"--facet {key}: that name is taken by the index's own fields or the search page's parameters")
        found[key] = None
    return tuple(found)


def values_of(value: object, key: str, warnings: list[str]) -> list[str]:
    """A front-matter value as a facet's values: a string, a number or a date, or a list of
    them; each cleaned and cut as tags are, at most MAX_TAGS_PER_DOCUMENT."""
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else [value]
    found: dict[str, None] = {}
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int, float, dt.date)):
            warnings.append(f"{key}: a value is a {type(item).__name__}, not text; ignored")
            continue
        text = " ".join(TEXT_CONTROL.sub(" ", str(item)).split())[:MAX_TAG_CHARS].strip()
        if text and len(found) < MAX_TAGS_PER_DOCUMENT:
            found[text] = None
    return list(found)


def value_fields(schema) -> list[str]:
    """The index's value fields: `collection`, then the declared facets."""
    return [name for name in schema.names() if isinstance(schema[name], ValueField)]


def declared(schema) -> list[str]:
    """The facets the index was built with (`--facet`)."""
    return [name for name in value_fields(schema) if name != "collection"]


def field_values(reader, fieldname: str) -> list[str]:
    """Every value of a field in the index, as stored."""
    if fieldname not in reader.schema:
        return []
    return [v.decode("utf-8") if isinstance(v, bytes) else v for v in reader.lexicon(fieldname)]


def choose(values: list[str], typed: str) -> list[str]:
    """The values `typed` names: those equal to it, whatever the case; else those holding
    every word of it (`Lincoln` names "Abraham Lincoln")."""
    wanted = " ".join(typed.split()).casefold()
    exact = [v for v in values if v.casefold() == wanted]
    if exact or not wanted:
        return exact
    words = re.findall(r"\w+", wanted)
    if not words:
        return []
    return [v for v in values if all(w in re.findall(r"\w+", v.casefold()) for w in words)]


def closest(values: list[str], typed: str) -> str | None:
    """The value nearest to one that no document has, for the hint: by the whole value, or by
    its nearest word ("Lincon" is near "Abraham Lincoln")."""
    wanted = typed.casefold()

    def likeness(value: str) -> float:
        parts = [value.casefold(), *re.findall(r"\w+", value.casefold())]
        return max(difflib.SequenceMatcher(None, wanted, part).ratio() for part in parts)

    scored = [(likeness(v), v) for v in values[:10_000]]
    best = max(scored, default=(0.0, ""), key=lambda pair: pair[0])
    return best[1] if best[0] >= 0.6 else None


def hint(label: str, values: list[str], typed: str) -> str:
    """What to say when no document has the value `typed` of `label` (a category, a collection, a facet)."""
    near = closest(values, typed)
    return f"no document has the {label} {typed!r}" + (f"; did you mean {near!r}?" if near else ".")


class ValueSet(DocSet):
    """The documents holding any of some values of a value field (or of `tags`): a filter,
    each document scoring its boost."""

    def __init__(self, fieldname: str, values: tuple[str, ...], boost: float = 1.0):
        self.fieldname, self.values, self.boost = fieldname, tuple(sorted(values)), boost

    def __str__(self):
        return f"{self.fieldname}:({' OR '.join(repr(v) for v in self.values)})" if self.values else f"{self.fieldname}:(none)"

    def doc_set(self, reader) -> np.ndarray:
        mask = np.zeros(reader.doc_count_all(), bool)
        if self.fieldname in reader.schema:
            field = reader.schema[self.fieldname]
            for value in self.values:
                btext = field.to_bytes(value)
                if (self.fieldname, btext) in reader:
                    mask[postings(reader, self.fieldname, btext).ids] = True
        return mask


class TermMatch(DocSet):
    """`path:press-briefings/*`, `source_url:*2024*`: the documents with a term of a whole-value
    field matching a pattern (`*` for any run of characters), a filter."""

    def __init__(self, fieldname: str, pattern: str, boost: float = 1.0):
        self.fieldname, self.pattern, self.boost = fieldname, pattern, boost

    def __str__(self):
        return f"{self.fieldname}:{self.pattern}"

    def doc_set(self, reader) -> np.ndarray:
        mask = np.zeros(reader.doc_count_all(), bool)
        if self.fieldname not in reader.schema:
            return mask
        matcher = re.compile(fnmatch.translate(self.pattern), re.DOTALL)
        literal = self.pattern.split("*", 1)[0]
        for btext in reader.lexicon(self.fieldname):
            text = btext.decode("utf-8")
            if text.startswith(literal) and matcher.match(text):
                mask[postings(reader, self.fieldname, btext).ids] = True
        return mask
