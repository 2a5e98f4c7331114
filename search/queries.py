"""The query types this engine adds to Whoosh's, with their Whoosh matchers.

The query reader (`querying.py`) builds trees of these and of Whoosh's own types; the executor
(`plan.py`, `executor.py`) scores them term at a time. Their matchers here are the reference
path: what Whoosh's collector does with them, which the tests compare the executor with, and
what runs a query the executor cannot plan.

- `FieldsTerm`: one word over several fields, as one BM25F term.
- `SpokenWord`: a word in the words some people spoke (`speaker:NAME word`).
- `Concept`: what was typed OR its aliases, one clause.
- `AllWordsBonus`: its child's scores, times a factor for the documents with every word;
  `PeriodBonus`, for the documents dated in a period the words name.
- `DocSet` (`TermSpan`, `FieldPresent`): a filter as a constant-score query: date ranges,
  years and months, `field:*`.
- `Excluding`: `a ANDNOT b`, with Whoosh's AndNotMatcher fixed.
"""

from __future__ import annotations

import numpy as np
from whoosh import query
from whoosh.matching import AndNotMatcher, ListMatcher, Matcher, NullMatcher, ReadTooFar, WrappingMatcher
from whoosh.query import qcore
from whoosh.query.wrappers import WrappingQuery

from .postings import frequency, length_bytes, postings, remembered, segment_key
from .scoring import BM25F, Weighting, bm25, bm25f

EXHAUSTED = 2**31  # the id of a matcher past its last posting: beyond any document number


class FieldsTerm(qcore.Query):
    """One analyzed word in several text fields, scored as one BM25F term (`scoring.BM25F`).
    `weights` maps each field to what one occurrence there counts, on top of the field's
    index-time boost (already in the postings' weights)."""

    def __init__(self, text: str, weights: dict[str, float], boost: float = 1.0):
        self.text = text
        self.weights = dict(weights)
        self.boost = boost

    def __eq__(self, other):
        return (
            isinstance(other, FieldsTerm)
            and (self.text, self.weights, self.boost) == (other.text, other.weights, other.boost)
        )

    def __hash__(self):
        return hash((self.text, tuple(sorted(self.weights.items())), self.boost))

    def __repr__(self):
        return f"{self.__class__.__name__}({self.text!r}, {self.weights!r}, boost={self.boost})"

    def __str__(self):
        return "(" + " OR ".join(f"{f}:{self.text}" for f in self.weights) + ")"

    def has_terms(self):
        return True

    def terms(self, phrases=False):
        for fieldname in self.weights:
            yield (fieldname, self.text)

    def field(self):
        return None

    def estimate_size(self, ixreader):
        return sum(frequency(ixreader, f, self.text) for f in self.weights)

    def present_fields(self, schema, reader) -> list[tuple[str, float]]:
        """The fields, with their weights, where the word is in this segment."""
        return [(f, w) for f, w in self.weights.items() if w and f in schema and frequency(reader, f, self.text)]

    def matcher(self, searcher, context=None):
        reader = searcher.reader()
        fields = self.present_fields(searcher.schema, reader)
        if not fields:
            return NullMatcher()
        matchers = [reader.postings(f, self.text) for f, _ in fields]
        weighting = searcher.weighting if context is None else context.weighting
        if not isinstance(weighting, Weighting):
            return _FieldsMatcher(matchers, None, [])  # unscored: only which documents match matters
        scorer = bm25f(searcher, self.text, dict(fields), weighting.ranking, self.boost, idf_fields=tuple(self.weights))
        return _FieldsMatcher(matchers, scorer, [length_bytes(reader, f) for f, _ in fields])


class SpokenWord(qcore.Query):
    """A word in the words some people spoke in transcripts (`speaker:Kirby Gaza`): BM25 of how
    often they said it, normalized by how much they said (`spoken.py`)."""

    def __init__(self, text: str, speakers: tuple[str, ...], boost: float = 1.0):
        self.text = text
        self.speakers = tuple(sorted(speakers))
        self.boost = boost

    def __eq__(self, other):
        return isinstance(other, SpokenWord) and (self.text, self.speakers, self.boost) == (other.text, other.speakers, other.boost)

    def __hash__(self):
        return hash((self.text, self.speakers, self.boost))

    def __repr__(self):
        return f"SpokenWord({self.text!r}, {self.speakers!r}, boost={self.boost})"

    def __str__(self):
        return f"{self.text} said by {' or '.join(self.speakers)}"

    def has_terms(self):
        return True

    def terms(self, phrases=False):
        yield ("body", self.text)

    def field(self):
        return None

    def estimate_size(self, ixreader):
        return frequency(ixreader, "body", self.text)

    def matcher(self, searcher, context=None):
        from .spoken import said

        reader = searcher.reader()
        docs, counts, lengths = said(reader, self.text.encode("utf-8"), self.speakers)
        if not len(docs):
            return NullMatcher()
        weighting = searcher.weighting if context is None else context.weighting
        if not isinstance(weighting, Weighting):
            return ListMatcher(docs.tolist())
        scorer = bm25(searcher, "body", self.text, self.text.encode("utf-8"), weighting.ranking, self.boost)
        return ListMatcher(docs.tolist(), weights=scorer.at_lengths(counts, lengths).tolist())


class _FieldsMatcher(Matcher):
    """The union of one word's postings in several fields, scored by a BM25F scorer."""

    def __init__(self, matchers, scorer: BM25F | None, lengths: list):
        self.matchers = matchers
        self.scorer = scorer
        self.lengths = lengths

    def is_active(self):
        return any(m.is_active() for m in self.matchers)

    def reset(self):
        for m in self.matchers:
            m.reset()

    def id(self):
        """The current document; past the end, a number beyond every document. Whoosh's
        AndNotMatcher asks an exhausted matcher for its id (after `skip_to` ran it out), so
        that must answer, and with nothing it could take for a match."""
        active = [m.id() for m in self.matchers if m.is_active()]
        return min(active) if active else EXHAUSTED

    def next(self):
        if not self.is_active():
            raise ReadTooFar
        current = self.id()
        for m in self.matchers:
            if m.is_active() and m.id() == current:
                m.next()

    def skip_to(self, id):
        if not self.is_active():
            raise ReadTooFar
        for m in self.matchers:
            if m.is_active() and m.id() < id:
                m.skip_to(id)

    def copy(self):
        return _FieldsMatcher([m.copy() for m in self.matchers], self.scorer, self.lengths)

    def replace(self, minquality=0):
        return self if self.is_active() else NullMatcher()

    def children(self):
        return list(self.matchers)

    def supports(self, astype):
        return False

    def supports_block_quality(self):
        return False

    def max_quality(self):
        return 1.0 if self.scorer is None else self.scorer.max_score

    def block_quality(self):
        return self.max_quality()

    def weight(self):
        current = self.id()
        return sum(m.weight() for m in self.matchers if m.is_active() and m.id() == current)

    def score(self):
        if self.scorer is None:
            return 1.0
        current = self.id()
        frequency = 0.0
        for m, norm, lengths in zip(self.matchers, self.scorer.fields, self.lengths):
            if m.is_active() and m.id() == current:
                frequency += norm.weight * m.weight() / norm.norm[lengths[current]]
        return float(self.scorer.saturate(frequency))


class Concept(query.Or):
    """What was typed OR its aliases: one clause, so the all-words bonus counts it once."""

    def __init__(self, subqueries, boost=1.0, typed: str = ""):
        super().__init__(subqueries, boost=boost)
        self.typed = typed

    def __eq__(self, other):
        return super().__eq__(other) and getattr(other, "typed", None) == self.typed

    def __hash__(self):
        return super().__hash__() ^ hash(self.typed)

    def normalize(self):
        found = super().normalize()
        if isinstance(found, Concept):
            found.typed = self.typed
        return found


class AllWordsBonus(WrappingQuery):
    """Scores documents as its child does, times `factor` for those that match every clause.

    The set of such documents is found per segment with an unscored AND; the child is scored
    once. (An OR plus a boosted AND would score every clause twice.)
    """

    def __init__(self, child: query.Query, clauses: list[query.Query], factor: float):
        super().__init__(child)
        self.clauses = clauses
        self.factor = factor

    def _rewrap(self, child):
        return self.__class__(child, self.clauses, self.factor)

    def __eq__(self, other):
        return (
            type(other) is type(self)
            and self.child == other.child
            and self.clauses == other.clauses
            and self.factor == other.factor
        )

    def __hash__(self):
        return hash(self.child) ^ hash(self.factor)

    def matcher(self, searcher, context=None):
        child = self.child.matcher(searcher, context)
        if context is not None and not context.weighting:
            return child  # unscored: only which documents match matters
        everything = query.And(self.clauses).matcher(searcher, searcher.boolean_context())
        docs = set(everything.all_ids()) if everything.is_active() else set()
        return _BonusMatcher(child, docs, self.factor) if docs else child


class PeriodBonus(AllWordsBonus):
    """Scores documents as its child does, times `factor` for those dated in a period the
    words name (`periods.py`): `clauses` is one date span, or an OR of them."""

    def __init__(self, child: query.Query, clauses: list[query.Query], factor: float, label: str):
        super().__init__(child, clauses, factor)
        self.label = label

    def _rewrap(self, child):
        return self.__class__(child, self.clauses, self.factor, self.label)

    def __eq__(self, other):
        return super().__eq__(other) and self.label == other.label

    def __hash__(self):
        return super().__hash__() ^ hash(self.label)

    def __repr__(self):
        return f"PeriodBonus({self.child!r}, {self.label!r}, {self.factor:g})"


class _BonusMatcher(WrappingMatcher):
    def __init__(self, child, docs: set[int], factor: float):
        super().__init__(child)
        self.docs = docs
        self.factor = factor

    def _replacement(self, newchild):
        return self.__class__(newchild, self.docs, self.factor)

    def score(self):
        score = self.child.score()
        return score * self.factor if self.child.id() in self.docs else score

    def max_quality(self):
        return self.child.max_quality() * self.factor

    def block_quality(self):
        return self.child.block_quality() * self.factor


class DocSet(qcore.Query):
    """A filter written as a query: every document of a set, each scoring its boost (as
    Whoosh's constant-score queries do). The set is found once per segment, however many
    terms make it up, so a date range over years is one list, not Whoosh's tree of one
    matcher per day (seconds under AND)."""

    fieldname: str = ""

    def doc_set(self, reader) -> np.ndarray:
        """The segment's documents in the set, as a boolean mask (deleted ones included)."""
        raise NotImplementedError

    def segment_docs(self, reader) -> np.ndarray:
        """`doc_set`, kept with the segment's reader for the query's other uses (and the next query)."""
        key = (segment_key(reader), type(self).__name__, self._key())
        return remembered("document sets", key, lambda: self.doc_set(reader), 256)

    def field(self):
        return self.fieldname

    def has_terms(self):
        return False

    def estimate_size(self, ixreader):
        return ixreader.doc_count_all()

    def matcher(self, searcher, context=None):
        reader = searcher.reader()
        mask = self.segment_docs(reader)
        if reader.has_deletions():
            mask = mask & ~np.array([reader.is_deleted(d) for d in range(len(mask))], bool)
        docs = np.flatnonzero(mask)
        if not len(docs):
            return NullMatcher()
        return ListMatcher([int(d) for d in docs], all_weights=self.boost)

    def _key(self) -> tuple:
        return tuple(v for k, v in sorted(self.__dict__.items()) if k != "boost")

    def __eq__(self, other):
        return type(other) is type(self) and other.__dict__ == self.__dict__

    def __hash__(self):
        return hash((type(self).__name__, self._key(), self.boost))

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in sorted(self.__dict__.items()))})"


class TermSpan(DocSet):
    """Documents with a term of `fieldname` between `start` and `end` (either may be None,
    for no bound): a date range, or with `end = start + "~"` a year or a month."""

    def __init__(self, fieldname: str, start: str | None, end: str | None, startexcl: bool = False,
                 endexcl: bool = False, boost: float = 1.0):
        self.fieldname, self.start, self.end = fieldname, start, end
        self.startexcl, self.endexcl, self.boost = startexcl, endexcl, boost

    def __str__(self):
        return f"{self.fieldname}:[{self.start or ''} to {self.end or ''}]"

    def doc_set(self, reader) -> np.ndarray:
        mask = np.zeros(reader.doc_count_all(), bool)
        for btext in self.btexts(reader):
            mask[postings(reader, self.fieldname, btext).ids] = True
        return mask

    def btexts(self, reader) -> list[bytes]:
        """The field's terms in the span, in one segment."""
        fieldname, start, end = self.fieldname, self.start, self.end
        if fieldname not in reader.schema:
            return []
        field = reader.schema[fieldname]
        found = []
        for btext in reader.lexicon(fieldname) if start is None else reader.terms_from(fieldname, start):
            if isinstance(btext, tuple):  # terms_from yields (fieldname, text), on into later fields
                if btext[0] != fieldname:
                    break
                btext = btext[1]
            text = field.from_bytes(btext)
            if start is not None and (text < start or (self.startexcl and text == start)):
                continue
            if end is not None and (text > end or (self.endexcl and text == end)):
                break
            found.append(btext)
        return found


class FieldPresent(DocSet):
    """`field:*`: documents with anything in the field, from its length column where it has
    one (one read, where Whoosh's Every reads every term's postings: 19 s for `body:*`)."""

    def __init__(self, fieldname: str, boost: float = 1.0):
        self.fieldname, self.boost = fieldname, boost

    def __str__(self):
        return f"{self.fieldname}:*"

    def doc_set(self, reader) -> np.ndarray:
        if self.fieldname not in reader.schema:
            return np.zeros(reader.doc_count_all(), bool)
        lengths = length_bytes(reader, self.fieldname)
        if lengths is not None:
            return lengths != 0
        return TermSpan(self.fieldname, None, None).doc_set(reader)


class Excluding(query.AndNot):
    """`a ANDNOT b`, `-word`, `NOT word` beside words: Whoosh's AndNot, with its matcher fixed."""

    def matcher(self, searcher, context=None):
        scored = self.a.matcher(searcher, context)
        excluded = self.b.matcher(searcher, searcher.boolean_context())
        return _AndNotMatcher(scored, excluded)


class _AndNotMatcher(AndNotMatcher):
    """Whoosh's AndNotMatcher looks for the excluded documents at its first posting only when
    both matchers start on the same document: when the excluded one starts earlier, the first
    document is let through although it is excluded (`-biden russia` listed two documents
    that say "Biden", found by the operator fuzz). Here the first posting is checked as every
    later one is. And its skip_to reads the id of a matcher that the skip has used up
    (`+biden date:2024 ANDNOT russia` raised IndexError, found by the fuzz too)."""

    def _find_first(self):
        if self.a.is_active() and self.b.is_active():
            self._find_next()

    def _find_next(self):
        if not self.a.is_active():
            return False
        return super()._find_next()
