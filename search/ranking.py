"""How documents are scored: Whoosh's BM25F with field lengths held in memory, and the bonus
for documents that match every word of a query.
"""

from __future__ import annotations

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
