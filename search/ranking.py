"""How documents are scored: BM25 with Robertson's IDF and field lengths held in memory,
a plain word scored once over title and body as BM25F defines it (`FieldsTerm`), and the
bonus for documents that match every word of a query.
"""

from __future__ import annotations

import heapq
import math
import os
import threading
from array import array
from bisect import bisect_left
from collections import OrderedDict
from pathlib import Path

from whoosh import query
from whoosh.matching import AndNotMatcher, ListMatcher, Matcher, NullMatcher, ReadTooFar, WrappingMatcher
from whoosh.query import qcore
from whoosh.query.wrappers import WrappingQuery
from whoosh.scoring import BM25F, BM25FScorer
from whoosh.util.numeric import byte_to_length

from .deadline import check as check_deadline

_BYTE_LENGTHS = [byte_to_length(b) for b in range(256)]
EXHAUSTED = 2**31  # the id of a matcher past its last posting: beyond any document number
UNION_DF_CACHE = 20_000  # (word, fields) document frequencies kept per searcher

# For an OR over a segment of fewer than 5,000 documents Whoosh preloads every posting into
# arrays and scores them all; its binary tree of union matchers is faster on this archive's
# segments (median query 33 -> 22 ms in benchmarks/speed.py's query set), so use it always.
query.Or.matcher_type = query.Or.DEFAULT_MATCHER


class CachedBM25F(BM25F):
    """Whoosh's BM25F, reading each segment's field lengths once instead of once a posting.

    Whoosh looks a document's field length up in its column file (a seek and a read) for
    every posting it scores, which is most of the cost of a query over common words. The
    lengths are one byte a document, so a segment's whole column is read in one call and
    kept with the reader. The scores are the same.
    """

    def idf(self, searcher, fieldname, text):
        """Robertson's IDF, as Lucene and bm25s use it: Whoosh's own, log(N / (df + 1)) + 1,
        gives the commonest words a floor of 1, so that "the president said" outweighs a rare
        name. (nDCG@10 +0.0055 on SciFact, +0.0047 on the archive's queries, -0.0007 on
        Cranfield.)"""
        parent = searcher.get_parent()
        return robertson_idf(parent.doc_frequency(fieldname, text), parent.doc_count_all())

    def scorer(self, searcher, fieldname, text, qf=1):
        if not searcher.schema[fieldname].scorable:
            return super().scorer(searcher, fieldname, text, qf=qf)
        B = self._field_B.get(fieldname, self.B)
        return _Scorer(searcher, fieldname, text, B, self.K1, qf=qf)


class _Scorer(BM25FScorer):
    def __init__(self, searcher, fieldname, text, B, K1, qf=1):
        # bm25(idf, tf, fl) = idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * fl / avgfl)),
        # with its constants worked out once (before the parent's setup scores with them).
        parent = searcher.get_parent()
        avgfl = parent.avg_field_length(fieldname) or 1
        self._numerator = parent.idf(fieldname, text) * (K1 + 1)
        self._base = K1 * (1 - B)
        self._per_length = K1 * B / avgfl
        super().__init__(searcher, fieldname, text, B, K1, qf=qf)
        lengths = field_lengths(searcher.reader(), fieldname)
        if lengths is not None:
            self.dfl = lengths.__getitem__

    def _score(self, weight, length):
        return self._numerator * weight / (weight + self._base + self._per_length * length)


def field_lengths(reader, fieldname: str) -> list[int] | None:
    """A segment's lengths of `fieldname` by document number, read once and cached on the
    reader; None when the reader is not a plain segment reader."""
    cache = reader.__dict__.setdefault("_search_lengths", {})
    if fieldname in cache:
        return cache[fieldname]
    lengths = None
    raw = _length_bytes(reader, fieldname)
    if raw is not None:
        # A length that rounds to byte 0 reads as 1, where Whoosh would return None.
        lengths = [_BYTE_LENGTHS[b] or 1 for b in raw] + [1] * (reader.doc_count_all() - len(raw))
    cache[fieldname] = lengths
    return lengths


def _length_bytes(reader, fieldname: str) -> bytes | None:
    """A segment's length column for `fieldname`, one byte a document (0: not in the field;
    empty when no document has it); None when the reader is not a plain segment reader."""
    perdoc = getattr(reader, "_perdoc", None)
    if perdoc is None or not hasattr(perdoc, "_cached_reader"):
        return None
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

    column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    return b"" if column is None else column._dbfile.get(column._basepos, column._count)


def robertson_idf(doc_frequency: int, doc_count: int) -> float:
    """log(1 + (N - df + 0.5) / (df + 0.5)): never negative, near 0 for a word in every document."""
    return math.log(1 + (doc_count - doc_frequency + 0.5) / (doc_frequency + 0.5))


class FieldsTerm(qcore.Query):
    """One analyzed word in several text fields, scored as one BM25F term.

    Whoosh's BM25F is BM25 per field, summed: a word in the title and in the body counts
    twice, each time saturated on its own and with its own IDF (a word rare in titles gets a
    large one). BM25F as defined (Robertson, Zaragoza and Taylor, 2004) adds the word's
    frequencies in the fields, each weighted and normalized by its field's length, saturates
    the sum once, and multiplies it by one IDF from the documents that hold the word in any of
    the fields. `weights` maps each field to what one occurrence there counts, on top of the
    field's index-time boost (already in the postings' weights).
    """

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
        return sum(ixreader.doc_frequency(f, self.text) for f in self.weights if f in ixreader.schema)

    def matcher(self, searcher, context=None):
        reader = searcher.reader()
        fields = [(f, w) for f, w in self.weights.items() if w and f in searcher.schema and (f, self.text) in reader]
        if not fields:
            return NullMatcher()
        matchers = [reader.postings(f, self.text) for f, _ in fields]
        weighting = searcher.weighting if context is None else context.weighting
        if not weighting or not isinstance(weighting, CachedBM25F):
            return _FieldsMatcher(matchers, None)  # unscored: only which documents match matters
        return _FieldsMatcher(matchers, _fields_scoring(self, fields, searcher, reader, weighting))


def _fields_scoring(term: FieldsTerm, fields, searcher, reader, weighting) -> tuple:
    """(per field: weight / norm by document, and idf * boost * (K1 + 1), K1), for one segment."""
    parent = searcher.get_parent()
    norms = []
    for fieldname, weight in fields:
        b = weighting._field_B.get(fieldname, weighting.B)
        average = parent.avg_field_length(fieldname) or 1.0
        lengths = field_lengths(reader, fieldname)
        if lengths is None:
            lengths = _Lengths(searcher, fieldname)
        norms.append((weight, 1 - b, b / average, lengths))
    idf = robertson_idf(_union_frequency(parent, term.text, tuple(sorted(term.weights))), parent.doc_count_all())
    return norms, idf * term.boost * (weighting.K1 + 1), weighting.K1


class _Lengths:
    def __init__(self, searcher, fieldname):
        self.searcher, self.fieldname = searcher, fieldname

    def __getitem__(self, docnum):
        return self.searcher.doc_field_length(docnum, self.fieldname, 1)


def _union_frequency(parent, text: str, fieldnames: tuple[str, ...]) -> int:
    """How many documents hold `text` in any of the fields, over the whole index (deleted ones
    included, as Whoosh's doc_frequency counts them); kept with the searcher."""
    cache = parent.__dict__.setdefault("_search_union_df", {})
    key = (text, fieldnames)
    if key not in cache:
        if len(cache) >= UNION_DF_CACHE:  # random words would fill it for ever
            cache.clear()
        total = 0
        for sub, _ in parent.leaf_searchers():
            reader = sub.reader()
            present = [f for f in fieldnames if f in reader.schema and (f, text) in reader]
            if len(present) == 1:
                total += reader.doc_frequency(present[0], text)
            elif present:
                docs: set[int] = set()
                for f in present:
                    docs.update(postings(reader, f, reader.schema[f].to_bytes(text))[0])
                total += len(docs)
        cache[key] = total
    return cache[key]


class _FieldsMatcher(Matcher):
    """The union of one word's postings in several fields, scored by `_fields_scoring`."""

    def __init__(self, matchers, scoring):
        self.matchers = matchers
        self.scoring = scoring

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
        return _FieldsMatcher([m.copy() for m in self.matchers], self.scoring)

    def replace(self, minquality=0):
        return self if self.is_active() else NullMatcher()

    def children(self):
        return list(self.matchers)

    def supports(self, astype):
        return False

    def supports_block_quality(self):
        return False

    def max_quality(self):
        return 1.0 if self.scoring is None else self.scoring[1]  # the limit as frequency grows

    def block_quality(self):
        return self.max_quality()

    def weight(self):
        current = self.id()
        return sum(m.weight() for m in self.matchers if m.is_active() and m.id() == current)

    def score(self):
        if self.scoring is None:
            return 1.0
        norms, numerator, k1 = self.scoring
        current = self.id()
        tf = 0.0
        for m, (weight, base, per_length, lengths) in zip(self.matchers, norms):
            if m.is_active() and m.id() == current:
                tf += weight * m.weight() / (base + per_length * lengths[current])
        return numerator * tf / (tf + k1)


class DocSet(qcore.Query):
    """A filter written as a query: every document of a set, each scoring its boost (as
    Whoosh's constant-score queries do). The set is found once per segment, however many
    terms make it up, so a date range over years is one list, not Whoosh's tree of one
    matcher per day (seconds under AND)."""

    fieldname: str = ""

    def doc_set(self, reader) -> set[int]:
        raise NotImplementedError

    def field(self):
        return self.fieldname

    def has_terms(self):
        return False

    def estimate_size(self, ixreader):
        return ixreader.doc_count_all()

    def segment_docs(self, reader) -> set[int]:
        """`doc_set`, kept with the segment's reader for the query's other uses (and the next query)."""
        memo = reader.__dict__.setdefault("_search_docsets", OrderedDict())
        key = (type(self).__name__, self._key())
        found = memo.get(key)
        if found is None:
            found = memo[key] = self.doc_set(reader)
            while len(memo) > 64:
                memo.popitem(last=False)
        else:
            memo.move_to_end(key)
        return found

    def matcher(self, searcher, context=None):
        reader = searcher.reader()
        docs = self.segment_docs(reader)
        if reader.has_deletions():
            docs = {d for d in docs if not reader.is_deleted(d)}
        if not docs:
            return NullMatcher()
        return ListMatcher(sorted(docs), all_weights=self.boost)

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

    def doc_set(self, reader) -> set[int]:
        return _term_range_docs(("range", self.fieldname, self.start, self.end, self.startexcl, self.endexcl, 1.0), reader)


class FieldPresent(DocSet):
    """`field:*`: documents with anything in the field, from its length column where it has
    one (one read, where Whoosh's Every reads every term's postings: 19 s for `body:*`)."""

    def __init__(self, fieldname: str, boost: float = 1.0):
        self.fieldname, self.boost = fieldname, boost

    def __str__(self):
        return f"{self.fieldname}:*"

    def doc_set(self, reader) -> set[int]:
        return _field_docs(self.fieldname, reader)


def estimated_postings(q: query.Query, reader) -> int:
    """The postings a query will read, from the index's term statistics, before reading any:
    the work budget's measure. A filter counts its segment's documents."""
    if isinstance(q, DocSet):
        return reader.doc_count_all()
    if isinstance(q, FieldsTerm):
        return sum(reader.doc_frequency(f, q.text) for f in q.weights if f in reader.schema)
    if isinstance(q, AllWordsBonus):
        return estimated_postings(q.child, reader) + sum(estimated_postings(c, reader) for c in q.clauses)
    children = q.children() if q.is_leaf() is False else []
    if children:
        return sum(estimated_postings(c, reader) for c in children)
    total = 0
    for fieldname, text in q.terms():
        if fieldname in reader.schema:
            total += reader.doc_frequency(fieldname, text)
    return total


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
    later one is."""

    def _find_first(self):
        if self.a.is_active() and self.b.is_active():
            self._find_next()


class AllWordsBonus(WrappingQuery):
    """Scores documents as its child does, times `factor` for those that match every clause.

    The set of such documents is found per segment with an unscored AND, which skips through
    the postings; the child is scored once. (An OR plus a boosted AND would score every
    clause twice.)
    """

    def __init__(self, child: query.Query, clauses: list[query.Query], factor: float):
        super().__init__(child)
        self.clauses = clauses
        self.factor = factor

    def _rewrap(self, child):
        return self.__class__(child, self.clauses, self.factor)

    def __eq__(self, other):
        return (
            isinstance(other, AllWordsBonus)
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


# --- Term at a time --------------------------------------------------------------------------
#
# Whoosh scores a query document at a time through a tree of matchers, a few Python calls per
# posting for every node. A plain query (ORs of terms, with the all-words bonus: what a search
# box mostly sends) can instead be scored term at a time: each term's postings are read a
# block at a time and added into one table. The scores are Whoosh's own (the same scorer,
# the same boosts, the same sums); a test checks them against Whoosh's matchers. Anything
# else (phrases, NOT, fuzzy terms, ranges) returns None and goes through Whoosh.


def term_at_a_time(q: query.Query, searcher) -> list[tuple[float, int]] | None:
    """Every match of a plain query as (score, docnum), in no order, or None when the query
    is not plain."""
    plan = _plan(q)
    if plan is None:
        return None
    weighting = searcher.weighting
    if not isinstance(weighting, CachedBM25F):
        return None
    found: list[tuple[float, int]] = []
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        scores: dict[int, float] = {}
        if not _accumulate(plan, sub, reader, weighting, 1.0, scores):
            return None
        deleted = reader.deleted_docs_set if reader.has_deletions() else ()
        found.extend((score, docnum + offset) for docnum, score in scores.items() if docnum not in deleted)
    return found


def best_first(matches: list[tuple[float, int]], count: int | None = None) -> list[tuple[float, int]]:
    """(score, docnum) pairs by score, then document number, as Whoosh orders them; only the
    first `count` when given."""
    key = _ranking_key
    if count is not None and count < len(matches) // 4:
        return heapq.nsmallest(count, matches, key=key)
    return sorted(matches, key=key)


def _ranking_key(pair: tuple[float, int]) -> tuple[float, int]:
    return (-pair[0], pair[1])


def _plan(q: query.Query):
    """The query as nested tuples the accumulator understands, or None."""
    if isinstance(q, AllWordsBonus):
        child = _plan(q.child)
        clauses = [_plan(c) for c in q.clauses]
        if child is None or any(c is None for c in clauses):
            return None
        return ("bonus", child, clauses, q.factor)
    if type(q) in (query.Require, query.AndNot, Excluding):
        scored, other = _plan(q.a), _plan(q.b)
        kind = "require" if type(q) is query.Require else "andnot"
        return None if scored is None or other is None else (kind, scored, other)
    # Prefixes and ranges are date filters here (words are expanded before this); they score
    # a constant, as Whoosh's constant-score MultiTerm does, without its tree of one matcher
    # per day (seconds for a range over years).
    if isinstance(q, DocSet):
        return ("docset", q, q.boost)
    if type(q) is query.Term:
        return ("term", q.fieldname, q.text, q.boost)
    if type(q) is FieldsTerm:
        return ("fields", q)
    if type(q) is query.Phrase and len(q.words) > 1:
        return ("phrase", q.fieldname, tuple(q.words), q.slop, q.boost)
    if isinstance(q, query.Or) and not isinstance(q, query.DisjunctionMax) and not q.scale and not q.minmatch:
        children = [_plan(c) for c in q.subqueries]
        if any(c is None for c in children):
            return None
        # Like Whoosh, an OR of one query is that query: its own boost is not applied.
        return ("or", children, q.boost if len(children) > 1 else 1.0)
    return None


def _accumulate(plan, searcher, reader, weighting, boost: float, scores: dict[int, float]) -> bool:
    check_deadline()
    kind = plan[0]
    if kind == "term":
        _, fieldname, text, term_boost = plan
        return _add_term(searcher, reader, weighting, fieldname, text, boost * term_boost, scores)
    if kind == "phrase":
        return _add_phrase(plan, searcher, reader, weighting, boost, scores)
    if kind == "fields":
        return _add_fields(plan[1], searcher, reader, weighting, boost, scores)
    if kind in ("require", "andnot"):  # scored by the first part; the second filters
        _, scored, other = plan
        found: dict[int, float] = {}
        if not _accumulate(scored, searcher, reader, weighting, boost, found):
            return False
        other_docs = _docs(other, reader)
        keep = kind == "require"
        for docnum, score in found.items():
            if (docnum in other_docs) == keep:
                scores[docnum] = scores.get(docnum, 0.0) + score
        return True
    if kind == "docset":
        constant = boost * plan[-1]
        get = scores.get
        for docnum in _docs(plan, reader):
            scores[docnum] = get(docnum, 0.0) + constant
        return True
    if kind == "or":
        _, children, or_boost = plan
        return all(_accumulate(child, searcher, reader, weighting, boost * or_boost, scores) for child in children)
    _, child, clauses, factor = plan
    found = {}
    if not _accumulate(child, searcher, reader, weighting, boost, found):
        return False
    everywhere = None
    for clause in clauses:
        docs = _docs(clause, reader)
        everywhere = docs if everywhere is None else everywhere & docs
        if not everywhere:
            break
    for docnum, score in found.items():
        if everywhere and docnum in everywhere:
            score *= factor
        scores[docnum] = scores.get(docnum, 0.0) + score
    return True


def _add_term(searcher, reader, weighting, fieldname, text, boost, scores) -> bool:
    field = searcher.schema[fieldname] if fieldname in searcher.schema else None
    if field is None:
        return True
    try:
        btext = field.to_bytes(text)
    except ValueError:
        return True
    if (fieldname, btext) not in reader:
        return True
    if not field.scorable:  # Whoosh's WeightScorer: the posting's weight (1 for an ID)
        get = scores.get
        ids, weights = postings(reader, fieldname, btext)
        for docnum, weight in zip(ids, weights):
            scores[docnum] = get(docnum, 0.0) + boost * weight
        return True
    scorer = weighting.scorer(searcher, fieldname, btext)
    if not isinstance(scorer, _Scorer):
        return False
    lengths = field_lengths(reader, fieldname)
    if lengths is None:
        return False
    numerator, base, per_length = scorer._numerator * boost, scorer._base, scorer._per_length
    get = scores.get
    ids, weights = postings(reader, fieldname, btext)
    for docnum, weight in zip(ids, weights):
        scores[docnum] = get(docnum, 0.0) + numerator * weight / (weight + base + per_length * lengths[docnum])
    return True


def _add_fields(term: FieldsTerm, searcher, reader, weighting, boost, scores) -> bool:
    """A FieldsTerm, as its matcher scores it: the fields' normalized frequencies summed per
    document (in the same order), then saturated once."""
    fields = [(f, w) for f, w in term.weights.items() if w and f in searcher.schema and (f, term.text) in reader]
    if not fields:
        return True
    norms, numerator, k1 = _fields_scoring(term, fields, searcher, reader, weighting)
    numerator *= boost
    frequency: dict[int, float] = {}
    get = frequency.get
    for (fieldname, _), (weight, base, per_length, lengths) in zip(fields, norms):
        ids, weights = postings(reader, fieldname, searcher.schema[fieldname].to_bytes(term.text))
        for docnum, w in zip(ids, weights):
            frequency[docnum] = get(docnum, 0.0) + weight * w / (base + per_length * lengths[docnum])
    add = scores.get
    for docnum, tf in frequency.items():
        scores[docnum] = add(docnum, 0.0) + numerator * tf / (tf + k1)
    return True


def _add_phrase(plan, searcher, reader, weighting, boost, scores) -> bool:
    """A phrase scores, where its words stand in order within the slop, the sum of its
    words' scores (as Whoosh's span matcher over an intersection does)."""
    _, fieldname, words, _, phrase_boost = plan
    docs = _phrase_docs(plan, reader)
    if not docs:
        return True
    lengths = field_lengths(reader, fieldname)
    field = searcher.schema[fieldname]
    get = scores.get
    for word in words:
        btext = field.to_bytes(word)
        scorer = weighting.scorer(searcher, fieldname, btext)
        if not isinstance(scorer, _Scorer) or lengths is None:
            return False
        numerator, base, per_length = scorer._numerator * boost * phrase_boost, scorer._base, scorer._per_length
        ids, weights = postings(reader, fieldname, btext)
        for docnum, weight in zip(ids, weights):
            if docnum in docs:
                scores[docnum] = get(docnum, 0.0) + numerator * weight / (weight + base + per_length * lengths[docnum])
    return True


def _phrase_docs(plan, reader) -> set[int]:
    """The documents of a segment where the phrase occurs (kept for the query's other uses)."""
    memo = reader.__dict__.setdefault("_search_phrases", OrderedDict())
    key = plan[1:4]
    if key in memo:
        memo.move_to_end(key)
        return memo[key]
    docs = memo[key] = _find_phrase(plan, reader)
    while len(memo) > 256:
        memo.popitem(last=False)
    return docs


def _find_phrase(plan, reader) -> set[int]:
    _, fieldname, words, slop, _ = plan
    if fieldname not in reader.schema:
        return set()
    field = reader.schema[fieldname]
    keys = [field.to_bytes(word) for word in words]
    if any((fieldname, key) not in reader for key in keys):
        return set()
    candidates = None
    for key in keys:
        docs = set(postings(reader, fieldname, key)[0])
        candidates = docs if candidates is None else candidates & docs
        if not candidates:
            return set()
    # Each distinct word's positions are read and decoded once per document, however often
    # the phrase repeats it (a pasted paragraph repeats "the president" dozens of times).
    decode = field.format.decode_positions
    distinct = list(dict.fromkeys(keys))
    values = [_values(reader, fieldname, key, candidates) for key in distinct]
    slot = [distinct.index(key) for key in keys]
    found = set()
    for d in candidates:
        decoded = [decode(v[d]) for v in values]
        if _in_order([decoded[i] for i in slot], slop):
            found.add(d)
    return found


def _in_order(position_lists: list[list[int]], slop: int) -> bool:
    """Whether one position from each list follows the previous within 1..slop (Whoosh's
    SpanNear2 with ordered=True and mindist=1)."""
    spans = {(p, p) for p in position_lists[0]}
    for positions in position_lists[1:]:
        following = set()
        for start, end in spans:
            i = bisect_left(positions, end + 1)
            while i < len(positions) and positions[i] <= end + slop:
                following.add((start, positions[i]))
                i += 1
        spans = following
        if not spans:
            return False
    return True


def _values(reader, fieldname: str, btext: bytes, docs: set[int]) -> dict[int, bytes]:
    """The encoded values (positions) of a term's postings for some documents."""
    from whoosh.codec.whoosh3 import W3LeafMatcher
    from whoosh.matching.wrappers import FilterMatcher

    matcher = reader.postings(fieldname, btext)
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    found: dict[int, bytes] = {}
    if not isinstance(matcher, W3LeafMatcher):
        while matcher.is_active():
            if matcher.id() in docs:
                found[matcher.id()] = matcher.value()
            matcher.next()
        return found
    while matcher.is_active():
        if matcher._ids is None:
            matcher._read_ids()
        block = matcher._ids
        if not docs.isdisjoint(block):
            if matcher._values is None:
                matcher._read_values()
            for docnum, value in zip(block, matcher._values):
                if docnum in docs:
                    found[docnum] = value
        matcher._next_block()
    return found


def _docs(plan, reader) -> set[int]:
    if plan[0] == "term":
        _, fieldname, text, _ = plan
        field = reader.schema[fieldname] if fieldname in reader.schema else None
        if field is None:
            return set()
        btext = field.to_bytes(text)
        if (fieldname, btext) not in reader:
            return set()
        return set(postings(reader, fieldname, btext)[0])
    if plan[0] == "phrase":
        return _phrase_docs(plan, reader)
    if plan[0] == "fields":
        term, docs = plan[1], set()
        for fieldname in term.weights:
            if fieldname in reader.schema and (fieldname, term.text) in reader:
                docs.update(postings(reader, fieldname, reader.schema[fieldname].to_bytes(term.text))[0])
        return docs
    if plan[0] == "require":
        return _docs(plan[1], reader) & _docs(plan[2], reader)
    if plan[0] == "andnot":
        return _docs(plan[1], reader) - _docs(plan[2], reader)
    if plan[0] == "docset":
        return plan[1].segment_docs(reader)
    if plan[0] == "or":
        docs = set()
        for child in plan[1]:
            docs |= _docs(child, reader)
        return docs
    return _docs(plan[1], reader)


POSTINGS_CACHE = 6_000_000  # postings kept decoded, per process (about 50 MB)

# Decoded postings are shared by every thread of the process, keyed by the segment's folder
# and id (a segment's files never change once written), in one LRU with one bound: the web
# app gives each thread its own reader, and a cache per reader would fill once per thread
# and per segment (tens of readers), for more memory and fewer hits.
_postings: OrderedDict = OrderedDict()
_postings_held = 0
_postings_lock = threading.Lock()


def postings(reader, fieldname: str, btext: bytes) -> tuple[array, array]:
    """A term's document numbers and weights in one segment, decoded once and kept (the most
    recently used terms, up to POSTINGS_CACHE postings in all) for the next query."""
    global _postings_held
    key = (_segment_key(reader), fieldname, btext)
    with _postings_lock:
        found = _postings.get(key)
        if found is not None:
            _postings.move_to_end(key)
            return found
    ids, weights = array("I"), array("f")
    for block_ids, block_weights in _blocks(reader, fieldname, btext):
        ids.extend(block_ids)
        weights.extend(block_weights)
    with _postings_lock:
        if key not in _postings:
            _postings[key] = (ids, weights)
            _postings_held += len(ids)
            while _postings_held > POSTINGS_CACHE and len(_postings) > 1:
                _, (old_ids, _) = _postings.popitem(last=False)
                _postings_held -= len(old_ids)
    return ids, weights


def forget_other_generations(folder: Path | str) -> None:
    """Drop the decoded postings of the other generations beside `folder` (the one just
    opened): once a rebuild has swapped in, they are never read again, and left to the LRU
    they would hold its memory until pushed out by new ones (a server's RSS then grew by
    tens of MB at each swap before levelling off)."""
    global _postings_held
    current = os.path.abspath(folder)
    parent = os.path.dirname(current)
    with _postings_lock:
        stale = [
            key for key in _postings
            if len(key[0]) == 2 and key[0][0] != current and os.path.dirname(key[0][0]) == parent
        ]
        for key in stale:
            _postings_held -= len(_postings.pop(key)[0])


def _segment_key(reader) -> tuple:
    """What names a segment's postings for as long as the process lives: its folder and its
    random id; a reader of another kind is its own key (the object, kept alive by the entry)."""
    key = reader.__dict__.get("_search_segment_key")
    if key is None:
        folder = getattr(getattr(reader, "_storage", None), "folder", None)
        segment = getattr(reader, "_segment", None)
        key = (os.path.abspath(folder), segment.segment_id()) if folder and segment is not None else (reader,)
        reader.__dict__["_search_segment_key"] = key
    return key


def _field_docs(fieldname: str, reader) -> set[int]:
    """Documents with any term in the field: a nonzero length where the field keeps lengths
    (one read of a byte column, where Whoosh's Every reads every term's postings: 19 s for
    `body:*` on the archive), every term's postings otherwise (a date has one term)."""
    if fieldname not in reader.schema:
        return set()
    raw = _length_bytes(reader, fieldname) if reader.schema[fieldname].scorable else None
    if raw is not None:
        return {docnum for docnum, byte in enumerate(raw) if byte}
    return _term_range_docs(("range", fieldname, None, None, False, False, 1.0), reader)


def _term_range_docs(plan, reader) -> set[int]:
    """Documents with any term of a field that starts with a prefix, or lies in a range."""
    fieldname = plan[1]
    if fieldname not in reader.schema:
        return set()
    field = reader.schema[fieldname]
    if plan[0] == "prefix":
        texts = reader.expand_prefix(fieldname, plan[2])
    else:
        _, _, start, end, startexcl, endexcl, _ = plan
        texts = []
        for btext in reader.lexicon(fieldname) if start is None else reader.terms_from(fieldname, start):
            if isinstance(btext, tuple):  # terms_from yields (fieldname, text), on into later fields
                if btext[0] != fieldname:
                    break
                btext = btext[1]
            text = field.from_bytes(btext)
            if start is not None and (text < start or (startexcl and text == start)):
                continue
            if end is not None and (text > end or (endexcl and text == end)):
                break
            texts.append(btext)
    docs: set[int] = set()
    for text in texts:
        btext = field.to_bytes(text) if isinstance(text, str) else text
        docs.update(postings(reader, fieldname, btext)[0])
    return docs


def _blocks(reader, fieldname: str, btext: bytes):
    """A term's postings in one segment, a block of (ids, weights) at a time."""
    from whoosh.codec.whoosh3 import W3LeafMatcher
    from whoosh.matching.wrappers import FilterMatcher

    matcher = reader.postings(fieldname, btext)
    if isinstance(matcher, FilterMatcher):  # deleted documents: dropped by the caller
        matcher = matcher.child
    if not isinstance(matcher, W3LeafMatcher):
        ids, weights = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        yield ids, weights
        return
    while matcher.is_active():
        if matcher._ids is None:
            matcher._read_ids()
        if matcher._weights is None:
            matcher._read_weights()
        yield matcher._ids, matcher._weights
        matcher._next_block()
