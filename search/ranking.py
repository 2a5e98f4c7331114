"""How documents are scored: Whoosh's BM25F with field lengths held in memory, and the bonus
for documents that match every word of a query.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left
from collections import OrderedDict

from whoosh import query
from whoosh.matching import WrappingMatcher
from whoosh.query.wrappers import WrappingQuery
from whoosh.scoring import BM25F, BM25FScorer
from whoosh.util.numeric import byte_to_length

_BYTE_LENGTHS = [byte_to_length(b) for b in range(256)]

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
    perdoc = getattr(reader, "_perdoc", None)
    if perdoc is not None and hasattr(perdoc, "_cached_reader"):
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

        column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        size = reader.doc_count_all()
        if column is None:
            lengths = [1] * size
        else:
            raw = column._dbfile.get(column._basepos, column._count)
            # A length that rounds to byte 0 reads as 1, where Whoosh would return None.
            lengths = [_BYTE_LENGTHS[b] or 1 for b in raw] + [1] * (size - column._count)
    cache[fieldname] = lengths
    return lengths


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
    if type(q) in (query.Require, query.AndNot):
        scored, other = _plan(q.a), _plan(q.b)
        kind = "require" if type(q) is query.Require else "andnot"
        return None if scored is None or other is None else (kind, scored, other)
    if type(q) is query.Prefix:
        return ("prefix", q.fieldname, q.text)  # only as a filter: which documents match
    if type(q) is query.TermRange:
        return ("range", q.fieldname, q.start, q.end, q.startexcl, q.endexcl)
    if type(q) is query.Term:
        return ("term", q.fieldname, q.text, q.boost)
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
    kind = plan[0]
    if kind == "term":
        _, fieldname, text, term_boost = plan
        return _add_term(searcher, reader, weighting, fieldname, text, boost * term_boost, scores)
    if kind == "phrase":
        return _add_phrase(plan, searcher, reader, weighting, boost, scores)
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
    if kind in ("prefix", "range"):
        return False  # scored as Whoosh scores them: leave the query to Whoosh
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
    decode = field.format.decode_positions
    positions = [_values(reader, fieldname, key, candidates) for key in keys]
    return {d for d in candidates if _in_order([decode(p[d]) for p in positions], slop)}


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
    if plan[0] == "require":
        return _docs(plan[1], reader) & _docs(plan[2], reader)
    if plan[0] == "andnot":
        return _docs(plan[1], reader) - _docs(plan[2], reader)
    if plan[0] in ("prefix", "range"):
        return _term_range_docs(plan, reader)
    if plan[0] == "or":
        docs = set()
        for child in plan[1]:
            docs |= _docs(child, reader)
        return docs
    return _docs(plan[1], reader)


POSTINGS_CACHE = 4_000_000  # postings kept decoded, per segment reader (about 40 MB)


def postings(reader, fieldname: str, btext: bytes) -> tuple[array, array]:
    """A term's document numbers and weights in one segment, decoded once and kept (the most
    recently used terms, up to POSTINGS_CACHE postings) for the next query that needs them."""
    cache: OrderedDict = reader.__dict__.setdefault("_search_postings", OrderedDict())
    key = (fieldname, btext)
    found = cache.get(key)
    if found is not None:
        cache.move_to_end(key)
        return found
    ids, weights = array("I"), array("f")
    for block_ids, block_weights in _blocks(reader, fieldname, btext):
        ids.extend(block_ids)
        weights.extend(block_weights)
    found = cache[key] = (ids, weights)
    held = reader.__dict__.get("_search_postings_held", 0) + len(ids)
    while held > POSTINGS_CACHE and len(cache) > 1:
        _, (old_ids, _) = cache.popitem(last=False)
        held -= len(old_ids)
    reader.__dict__["_search_postings_held"] = held
    return found


def _term_range_docs(plan, reader) -> set[int]:
    """Documents with any term of a field that starts with a prefix, or lies in a range."""
    fieldname = plan[1]
    if fieldname not in reader.schema:
        return set()
    field = reader.schema[fieldname]
    if plan[0] == "prefix":
        texts = reader.expand_prefix(fieldname, plan[2])
    else:
        _, _, start, end, startexcl, endexcl = plan
        texts = []
        for btext in reader.lexicon(fieldname) if start is None else reader.terms_from(fieldname, start):
            if isinstance(btext, tuple):  # terms_from yields (fieldname, text)
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
