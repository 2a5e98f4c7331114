"""How one posting scores: BM25 with Robertson's IDF for a word in one field, BM25F for a word
over several fields, and a constant for filters. One formula each, used by every path: the
term-at-a-time executor (over numpy arrays of postings), Whoosh's own matchers (through
`Weighting`, the reference the tests compare with) and `explain`.

As Lucene's BM25Similarity and tantivy's bm25.rs do, each scorer works out once what a
document's length contributes, for each of the 256 length bytes a segment stores, so scoring
a posting is a table lookup, an addition and a division.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from whoosh import scoring

from .postings import LENGTH_OF_BYTE, frequency, length_bytes, term_statistics
from .ranking import Ranking


def robertson_idf(doc_frequency: int, doc_count: int) -> float:
    """log(1 + (N - df + 0.5) / (df + 0.5)), as Lucene and bm25s: never negative, near 0 for a
    word in every document. (Whoosh's own, log(N / (df + 1)) + 1, gives the commonest words a
    floor of 1, so that "the president said" outweighs a rare name.)"""
    return math.log(1 + (doc_count - doc_frequency + 0.5) / (doc_frequency + 0.5))


@dataclass(frozen=True)
class Explanation:
    """How a score was made: its value, what it is, and the parts it was made of."""

    value: float
    description: str
    details: tuple["Explanation", ...] = ()
    adds: bool = False  # the details are parts that add up to the value (else they are its factors)

    def lines(self, indent: int = 0) -> list[str]:
        out = [f"{'  ' * indent}{self.value:.4f}  {self.description}{'' if not self.details or self.adds else ':'}"]
        for detail in self.details:
            out += detail.lines(indent + 1)
        return out


@dataclass(frozen=True, eq=False)
class BM25:
    """One word in one field: idf * w * (k1 + 1) / (w + k1 * (1 - b + b * length / average)),
    times the boost, where w is the posting's weight (its frequency, times the field's boost)."""

    word: str
    fieldname: str
    idf: float
    k1: float
    b: float
    average_length: float
    boost: float = 1.0
    numerator: float = field(init=False)
    base: float = field(init=False)
    length_part: np.ndarray = field(init=False, repr=False)  # k1 * b / average * length, by length byte

    def __post_init__(self):
        per_length = self.k1 * self.b / (self.average_length or 1.0)
        object.__setattr__(self, "numerator", self.idf * (self.k1 + 1) * self.boost)
        object.__setattr__(self, "base", self.k1 * (1 - self.b))
        object.__setattr__(self, "length_part", per_length * LENGTH_OF_BYTE)

    def score(self, weight: float, length_byte: int) -> float:
        return self.numerator * weight / (weight + self.base + float(self.length_part[length_byte]))

    def scores(self, weights: np.ndarray, length_bytes: np.ndarray) -> np.ndarray:
        return self.numerator * weights / (weights + self.base + self.length_part[length_bytes])

    def at_lengths(self, weights: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """The same, for lengths counted exactly rather than as length bytes (what a speaker
        said in a document: `spoken.py`)."""
        return self.numerator * weights / (weights + self.base + self.k1 * self.b / (self.average_length or 1.0) * lengths)

    @property
    def max_score(self) -> float:
        return self.numerator  # the limit as the weight grows

    def explain(self, weight: float, length_byte: int) -> Explanation:
        length = float(LENGTH_OF_BYTE[length_byte])
        return Explanation(self.score(weight, length_byte), f"{self.fieldname}:{self.word} (BM25)", (
            Explanation(self.idf, "idf"),
            Explanation(weight, "weight: its frequency, times the field's boost"),
            Explanation(length, f"the field's length (average {self.average_length:.1f}), k1={self.k1}, b={self.b}"),
        ) + ((Explanation(self.boost, "boost"),) if self.boost != 1.0 else ()))


    def explain_at_length(self, weight: float, length: float, whose: str) -> Explanation:
        score = float(self.at_lengths(np.array([weight]), np.array([length]))[0])
        return Explanation(score, f"{self.word} in the words of {whose} (BM25)", (
            Explanation(self.idf, "idf, from the documents with the word in the body"),
            Explanation(weight, "how often they said it"),
            Explanation(length, f"how many words they said (the body's average {self.average_length:.1f}), "
                                f"k1={self.k1}, b={self.b}"),
        ) + ((Explanation(self.boost, "boost"),) if self.boost != 1.0 else ()))


@dataclass(frozen=True, eq=False)
class FieldNorm:
    """What one field adds to a BM25F frequency: weight * w / (1 - b + b * length / average)."""

    fieldname: str
    weight: float
    b: float
    average_length: float
    norm: np.ndarray = field(init=False, repr=False)  # by length byte

    def __post_init__(self):
        per_length = self.b / (self.average_length or 1.0)
        object.__setattr__(self, "norm", (1 - self.b) + per_length * LENGTH_OF_BYTE)

    def frequency(self, weights: np.ndarray, length_bytes: np.ndarray) -> np.ndarray:
        return self.weight * weights / self.norm[length_bytes]


@dataclass(frozen=True, eq=False)
class BM25F:
    """One word over several fields, as BM25F defines it (Robertson, Zaragoza and Taylor, 2004):
    the fields' length-normalized, weighted frequencies are added, the sum is saturated once,
    and multiplied by one IDF, from the documents that hold the word in any of the fields.
    (Whoosh's BM25F is BM25 per field, summed: a word in title and body counts twice.)"""

    word: str
    idf: float
    k1: float
    fields: tuple[FieldNorm, ...]
    boost: float = 1.0  # the word's own
    outer: float = 1.0  # the boosts of the queries around it

    @property
    def numerator(self) -> float:
        return self.idf * self.boost * (self.k1 + 1) * self.outer

    def saturate(self, frequency: np.ndarray | float):
        return self.numerator * frequency / (frequency + self.k1)

    @property
    def max_score(self) -> float:
        return self.numerator

    def explain(self, parts: list[tuple[FieldNorm, float, int]]) -> Explanation:
        """`parts`: each field where the document has the word, its weight and length byte."""
        details = []
        frequency = 0.0
        for norm, weight, length_byte in parts:
            share = float(norm.weight * weight / norm.norm[length_byte])
            frequency += share
            details.append(Explanation(share, f"{norm.fieldname}: weight {weight:g}, length "
                                              f"{LENGTH_OF_BYTE[length_byte]:.0f} (average {norm.average_length:.1f})"))
        return Explanation(float(self.saturate(frequency)), f"{self.word} in {'+'.join(f.fieldname for f in self.fields)} (BM25F)",
                           (Explanation(self.idf, "idf, from the documents with the word in any of the fields"),
                            Explanation(frequency, f"frequency, the fields' added, saturated once with k1={self.k1}"),
                            *details) + ((Explanation(self.boost, "boost"),) if self.boost != 1.0 else ()))


UNION_DF_CACHE = 20_000  # (segment, word, fields) document counts kept per process


def union_frequency(searcher, text: str, fieldnames: tuple[str, ...]) -> int:
    """How many documents hold `text` in any of the fields, over the whole index (deleted ones
    included, as Whoosh's doc_frequency counts them): the IDF of a BM25F word. Each segment's
    count is kept for the process (its threads share it), up to UNION_DF_CACHE of them (random
    words would fill it for ever)."""
    from .postings import postings, segment_key, segment_memo

    counts = segment_memo("union frequency")
    parent = searcher.get_parent() if hasattr(searcher, "get_parent") else searcher
    total = 0
    for sub, _ in parent.leaf_searchers():
        reader = sub.reader()
        key = (segment_key(reader), text, fieldnames)
        count = counts.get(key)
        if count is None:
            present = [f for f in fieldnames if frequency(reader, f, text)]
            if len(present) == 1:
                count = frequency(reader, present[0], text)
            elif present:
                found = [postings(reader, f, reader.schema[f].to_bytes(text)).ids for f in present]
                count = len(np.unique(np.concatenate(found)))
            else:
                count = 0
            if len(counts) >= UNION_DF_CACHE:
                counts.clear()
            counts[key] = count
        total += count
    return total


def bm25f(searcher, word: str, weights: dict[str, float], ranking: Ranking, boost: float = 1.0,
          outer: float = 1.0, idf_fields: tuple[str, ...] | None = None) -> BM25F:
    """The scorer of a word over the fields of `weights` (each with what one occurrence counts);
    its IDF counts the documents with the word in any of `idf_fields` (default: those fields)."""
    parent = searcher.get_parent() if hasattr(searcher, "get_parent") else searcher
    fieldnames = tuple(sorted(idf_fields if idf_fields is not None else weights))
    idf = robertson_idf(union_frequency(parent, word, fieldnames), parent.doc_count_all())
    norms = tuple(field_norm(parent, f, w, ranking) for f, w in weights.items())
    return BM25F(word, idf, ranking.k1, norms, boost, outer)


def bm25(searcher, fieldname: str, word: str, btext: bytes, ranking: Ranking, boost: float = 1.0) -> BM25:
    """The scorer of a word in a field, with the whole index's statistics."""
    parent = searcher.get_parent() if hasattr(searcher, "get_parent") else searcher
    idf = robertson_idf(frequency(parent.reader(), fieldname, btext), parent.doc_count_all())
    return BM25(word, fieldname, idf, ranking.k1, ranking.b(fieldname), average_length(parent, fieldname), boost)


def field_norm(searcher, fieldname: str, weight: float, ranking: Ranking) -> FieldNorm:
    parent = searcher.get_parent() if hasattr(searcher, "get_parent") else searcher
    return FieldNorm(fieldname, weight, ranking.b(fieldname), average_length(parent, fieldname))


def average_length(searcher, fieldname: str) -> float:
    """The field's average length over the index, worked out once per searcher."""
    averages = searcher.__dict__.setdefault("_search_average_lengths", {})
    if fieldname not in averages:
        averages[fieldname] = searcher.avg_field_length(fieldname) or 1.0
    return averages[fieldname]


def key_terms(searcher, fieldname: str, text: str, count: int) -> list[tuple[str, float]]:
    """The `count` words that best tell `text` apart from the index, with their weights: what
    Whoosh's `key_terms_from_text` (its Bo1 model, unnormalized, as `more_like` asks) gives, a
    test checks, with the collection frequencies looked up once and kept (`postings.frequency`)
    instead of once a word and page."""
    from .analysis import index_terms

    reader = searcher.reader()
    boost = searcher.schema[fieldname].format.field_boost
    # What the field's `index()` yields, without encoding the positions it does not need.
    in_text = {word: len(positions) * boost for word, positions in index_terms(text).positions.items()}
    size = reader.doc_count_all()
    scored = []
    best = 0.0
    statistics = term_statistics(reader, fieldname, list(in_text))
    for word, weight in in_text.items():
        documents, collection = statistics[word]
        if not documents:
            continue
        f = collection / size
        score = weight * math.log((1.0 + f) / f, 2) + math.log(1.0 + f, 2)
        best = max(best, score)
        scored.append((score, word))
    ranked = sorted(((score / best, word) for score, word in scored), key=lambda x: (0 - x[0], x[1]))
    return [(word, weight) for weight, word in ranked[:count]]


class Weighting(scoring.WeightingModel):
    """Whoosh's weighting model over these scorers, for Whoosh's own matchers: the reference
    path the executor is tested against, and the way for any query the executor cannot run."""

    use_final = False

    def __init__(self, ranking: Ranking):
        self.ranking = ranking

    def idf(self, searcher, fieldname, text):
        parent = searcher.get_parent()
        return robertson_idf(frequency(parent.reader(), fieldname, text), parent.doc_count_all())

    def scorer(self, searcher, fieldname, text, qf=1):
        if not searcher.schema[fieldname].scorable:
            return scoring.WeightScorer.for_(searcher, fieldname, text)
        lengths = length_bytes(searcher.reader(), fieldname)
        return _TermScorer(bm25(searcher, fieldname, str(text), text, self.ranking), lengths, searcher, fieldname)


class _TermScorer(scoring.BaseScorer):
    def __init__(self, scorer: BM25, lengths: np.ndarray | None, searcher, fieldname: str):
        self.bm25 = scorer
        self.lengths = lengths
        self.searcher = searcher
        self.fieldname = fieldname

    def supports_block_quality(self):
        return False

    def max_quality(self):
        return self.bm25.max_score

    def score(self, matcher):
        docnum = matcher.id()
        if self.lengths is not None:
            return self.bm25.score(matcher.weight(), int(self.lengths[docnum]))
        length = self.searcher.doc_field_length(docnum, self.fieldname, 1)
        return self.bm25.numerator * matcher.weight() / (
            matcher.weight() + self.bm25.base + self.bm25.k1 * self.bm25.b / self.bm25.average_length * length)
