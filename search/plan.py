"""A query made into a plan the executor runs term at a time: small frozen dataclasses, with
each word's scorer built once, from the whole index's statistics.

`make_plan` decides, before any posting is read, whether the executor can run a query; it
returns None for a query type it does not know, which then goes through Whoosh's own matchers.
Every type the query reader makes is planned, `+word` and `NOT` included. The plan keeps
Whoosh's meaning of each type exactly (the tests compare every answer with Whoosh's matchers):

- an OR adds its clauses' scores; an AND keeps the documents in all of them and adds theirs;
- `a ANDMAYBE b` keeps a's documents, adding b's score where b matches too;
- `a REQUIRE b` keeps the documents in both, scored by a alone; `a ANDNOT b` drops b's;
- `NOT b` alone is every other document, scoring 1; a filter scores its boost;
- a compound query of one clause is that clause: its own boost is not applied.

`cost` is the work budget's measure: the postings a query reads, from the term statistics.
"""

from __future__ import annotations

from dataclasses import dataclass

from whoosh import query

from .postings import frequency
from .queries import AllWordsBonus, Concept, DocSet, Excluding, FieldsTerm, PeriodBonus, SpokenWord
from .ranking import Ranking
from .scoring import BM25, BM25F, bm25, bm25f


@dataclass(frozen=True)
class Term:
    """A word in one field: BM25 where the field is scored, else the posting's weight times `boost`."""

    fieldname: str
    btext: bytes
    scorer: BM25 | None
    boost: float
    label: str


@dataclass(frozen=True)
class Fields:
    """A word over several fields, one BM25F term."""

    fields: tuple[tuple[str, bytes], ...]  # the field and the word's bytes in it, in the scorer's order
    scorer: BM25F
    label: str


@dataclass(frozen=True)
class Phrase:
    """Words in order within `slop` in one field, scoring the sum of the words' BM25 where they do."""

    fieldname: str
    words: tuple[bytes, ...]
    slop: int
    scorers: tuple[BM25, ...]
    label: str


@dataclass(frozen=True)
class Filter:
    """A set of documents (a date range, `field:*`), each scoring `score`."""

    docset: DocSet
    score: float
    label: str


@dataclass(frozen=True)
class AnyOf:
    children: tuple["Node", ...]
    label: str


@dataclass(frozen=True)
class AllOf:
    children: tuple["Node", ...]
    label: str


@dataclass(frozen=True)
class Maybe:
    """`required ANDMAYBE optional` (`+word` beside other words)."""

    required: "Node"
    optional: "Node"


@dataclass(frozen=True)
class Require:
    scored: "Node"
    required: "Node"


@dataclass(frozen=True)
class Exclude:
    scored: "Node"
    excluded: "Node"


@dataclass(frozen=True)
class Inverse:
    """`NOT x` on its own: every document without x, each scoring 1 (times the boosts around
    it), as Whoosh's InverseMatcher."""

    excluded: "Node"
    score: float
    label: str


@dataclass(frozen=True)
class Bonus:
    """The child's scores, times `factor` where the document matches every clause: the
    all-words bonus, or with `period` the bonus for a period the words name."""

    child: "Node"
    clauses: tuple["Node", ...]
    factor: float
    period: str | None = None


@dataclass(frozen=True)
class Spoken:
    """A word in the words some people spoke (`spoken.py`): BM25 of how often they said it,
    normalized by how much they said."""

    btext: bytes
    speakers: tuple[str, ...]
    scorer: BM25
    label: str


@dataclass(frozen=True)
class Nothing:
    """A clause that matches no document (a word in no index field)."""


Node = Term | Fields | Phrase | Spoken | Filter | AnyOf | AllOf | Maybe | Require | Exclude | Inverse | Bonus | Nothing


class _Unplannable(Exception):
    pass


def make_plan(q: query.Query, searcher, ranking: Ranking) -> Node | None:
    """The plan of `q`, or None when it holds a type the executor does not know."""
    try:
        return _plan(q, searcher, ranking, 1.0)
    except _Unplannable:
        return None


def _plan(q: query.Query, searcher, ranking: Ranking, boost: float) -> Node:
    schema = searcher.schema
    if isinstance(q, AllWordsBonus):
        return Bonus(_plan(q.child, searcher, ranking, boost), tuple(_plan(c, searcher, ranking, 1.0) for c in q.clauses),
                     q.factor, q.label if isinstance(q, PeriodBonus) else None)
    if type(q) in (query.Require, query.AndNot, Excluding, query.AndMaybe):
        a = _plan(q.a, searcher, ranking, boost)
        if type(q) is query.AndMaybe:
            return Maybe(a, _plan(q.b, searcher, ranking, boost))
        other = _plan(q.b, searcher, ranking, 1.0)  # only which documents match matters
        return Require(a, other) if type(q) is query.Require else Exclude(a, other)
    if type(q) is query.Not:
        return Inverse(_plan(q.query, searcher, ranking, 1.0), boost, f"NOT {q.query}")
    if isinstance(q, DocSet):
        return Filter(q, boost * q.boost, str(q))
    if type(q) is FieldsTerm:
        fields = tuple((f, w) for f, w in q.weights.items() if w and f in schema)
        if not fields:
            return Nothing()
        scorer = bm25f(searcher, q.text, dict(fields), ranking, q.boost, outer=boost, idf_fields=tuple(q.weights))
        return Fields(tuple((f, schema[f].to_bytes(q.text)) for f, _ in fields), scorer, f"{q.text} in {'+'.join(f for f, _ in fields)}")
    if isinstance(q, SpokenWord):
        if "body" not in schema or "speaker" not in schema:
            return Nothing()
        btext = q.text.encode("utf-8")
        return Spoken(btext, q.speakers, bm25(searcher, "body", q.text, btext, ranking, boost * q.boost), str(q))
    if type(q) is query.Term:
        if q.fieldname not in schema:
            return Nothing()
        try:
            btext = schema[q.fieldname].to_bytes(q.text)
        except ValueError:
            return Nothing()
        label = f"{q.fieldname}:{q.text}" + (f"^{q.boost:g}" if q.boost != 1.0 else "")
        if not schema[q.fieldname].scorable:
            return Term(q.fieldname, btext, None, boost * q.boost, label)
        return Term(q.fieldname, btext, bm25(searcher, q.fieldname, q.text, btext, ranking, boost * q.boost), 1.0, label)
    if type(q) is query.Phrase and len(q.words) > 1:
        if q.fieldname not in schema:
            return Nothing()
        field = schema[q.fieldname]
        words = tuple(field.to_bytes(w) for w in q.words)
        scorers = tuple(bm25(searcher, q.fieldname, w, b, ranking, boost * q.boost) for w, b in zip(q.words, words))
        return Phrase(q.fieldname, words, q.slop, scorers, f'{q.fieldname}:"{" ".join(q.words)}"')
    if type(q) is query.Phrase and len(q.words) == 1:
        return _plan(query.Term(q.fieldname, q.words[0], boost=q.boost), searcher, ranking, boost)
    if isinstance(q, (query.Or, query.And)) and not isinstance(q, query.DisjunctionMax) and not getattr(q, "scale", None) \
            and not getattr(q, "minmatch", None):
        subs = q.subqueries
        if not subs:
            return Nothing()
        if len(subs) == 1:  # as Whoosh: a compound of one is that query, without its own boost
            return _plan(subs[0], searcher, ranking, boost)
        children = tuple(_plan(s, searcher, ranking, boost * q.boost) for s in subs)
        label = _label(q)
        return AnyOf(children, label) if isinstance(q, query.Or) else AllOf(children, label)
    if q is query.NullQuery or isinstance(q, type(query.NullQuery)):
        return Nothing()
    raise _Unplannable(type(q).__name__)


def _label(q: query.Query) -> str:
    """What an OR or an AND stands for, in explain's words."""
    if isinstance(q, Concept):
        return f"{q.typed!r} or an alias of it"
    if type(q).__name__ == "NaturalOr":
        return "the words of the query"
    first = q.subqueries[0]
    if isinstance(q, query.Or) and isinstance(first, FieldsTerm):
        return f"the word {first.text!r}: in title and body, in the title alone, as a category"
    if isinstance(q, query.Or) and isinstance(first, query.Phrase):
        return f"the words {' '.join(first.words)!r}: in the title or the body, as a category"
    return str(q)


def could_match(q: query.Query, reader) -> bool:
    """Whether a query could match a document at all, as Whoosh's `estimate_size(reader) > 0`
    decides it (a phrase needs every word in the index, an OR any clause), from the kept term
    statistics: whether a typed word counts for the all-words bonus."""
    if isinstance(q, DocSet):
        return reader.doc_count_all() > 0
    if isinstance(q, FieldsTerm):
        return any(frequency(reader, f, q.text) for f in q.weights)
    if type(q) is query.Term:
        return frequency(reader, q.fieldname, q.text) > 0
    if isinstance(q, query.Phrase):
        return all(frequency(reader, q.fieldname, word) for word in q.words)
    if type(q) is query.And:
        return all(could_match(s, reader) for s in q.subqueries)
    if type(q) is query.Require:
        return could_match(q.b, reader)
    if isinstance(q, query.CompoundQuery):  # OR, ANDNOT, ANDMAYBE: the sum of the clauses
        return any(could_match(s, reader) for s in q.subqueries)
    return q.estimate_size(reader) > 0


def cost(q: query.Query, reader) -> int:
    """The postings a query will read, from the index's term statistics, before reading any.
    A filter counts its documents; the all-words bonus reads its words again."""
    if isinstance(q, DocSet):
        return reader.doc_count_all()
    if isinstance(q, FieldsTerm):
        return sum(frequency(reader, f, q.text) for f in q.weights)
    if isinstance(q, AllWordsBonus):
        return cost(q.child, reader) + sum(cost(c, reader) for c in q.clauses)
    if isinstance(q, query.Phrase):  # Whoosh's Phrase.terms() names its words only when asked for phrases
        return sum(frequency(reader, q.fieldname, word) for word in q.words)
    children = q.children() if q.is_leaf() is False else []
    if children:
        return sum(cost(c, reader) for c in children)
    total = 0
    for fieldname, text in q.terms():
        total += frequency(reader, fieldname, text)
    return total


def describe(node: Node, indent: int = 0) -> list[str]:
    """How a query was read, as indented lines: `search query --explain` prints them."""
    pad = "  " * indent
    match node:
        case Term(label=label, scorer=scorer):
            return [f"{pad}{label}" + (" (BM25)" if scorer is not None else " (its weight)")]
        case Spoken(label=label):
            return [f"{pad}{label}: BM25 in their own words, normalized by how much they said"]
        case Fields(fields=fields, scorer=scorer):
            return [f"{pad}{scorer.word}: one BM25F term over {' and '.join(f for f, _ in fields)}"
                    + (f", weight {scorer.boost * scorer.outer:g}" if scorer.boost * scorer.outer != 1.0 else "")]
        case Phrase(label=label, slop=slop):
            return [f"{pad}the phrase {label} (words at most {slop} apart)"]
        case Filter(label=label, score=score):
            return [f"{pad}the filter {label}, scoring {score:g}"]
        case AnyOf(children=children, label=label):
            return [f"{pad}{label}; their scores added:"] + [line for c in children for line in describe(c, indent + 1)]
        case AllOf(children=children):
            return [f"{pad}all of these, their scores added:"] + [line for c in children for line in describe(c, indent + 1)]
        case Maybe(required=required, optional=optional):
            return ([f"{pad}required:"] + describe(required, indent + 1)
                    + [f"{pad}and added where it also matches:"] + describe(optional, indent + 1))
        case Require(scored=scored, required=required):
            return describe(scored, indent) + [f"{pad}only where this matches too:"] + describe(required, indent + 1)
        case Exclude(scored=scored, excluded=excluded):
            return describe(scored, indent) + [f"{pad}except where this matches:"] + describe(excluded, indent + 1)
        case Inverse(excluded=excluded, score=score):
            return [f"{pad}every document without this, scoring {score:g}:"] + describe(excluded, indent + 1)
        case Bonus(child=child, factor=factor, period=str(period)):
            return [f"{pad}scores ×{factor:g} for a document dated in {period} (a period the words name):"] + describe(child, indent + 1)
        case Bonus(child=child, factor=factor):
            return [f"{pad}scores ×{factor:g} for a document with every word (the all-words bonus):"] + describe(child, indent + 1)
        case Nothing():
            return [f"{pad}nothing (not in the index)"]
    raise TypeError(f"not a plan node: {node!r}")
