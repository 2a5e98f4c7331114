"""Running a plan term at a time, a segment at a time, over numpy arrays.

Whoosh scores a query document at a time through a tree of matchers, a few Python calls per
posting for every node. Here each term's postings (decoded once, `postings.py`) are scored in
one array operation by the term's scorer (`scoring.py`) and added into one array of scores per
segment; sets of documents (filters, phrases, the all-words bonus, NOT) are boolean masks. The
scores are those of Whoosh's matchers over the same query (tests compare them on every kind of
query); only the order of additions differs, which moves a score by a few units in the last
place at most.

`run` gives every match; `best` the top by score; `explain` how one document's score was made.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

import numpy as np

from .deadline import check as check_deadline
from .plan import AllOf, AnyOf, Bonus, Exclude, Fields, Filter, Inverse, Maybe, Node, Nothing, Phrase, Require, Spoken, Term
from .postings import deleted, frequency, length_bytes, postings, remembered, segment_key, values
from .scoring import Explanation
from .spoken import said


@dataclass
class Matches:
    """Every matching document of a query: global document numbers, ascending, and scores."""

    docnums: np.ndarray  # int64
    scores: np.ndarray  # float64

    def __len__(self) -> int:
        return len(self.docnums)


class _Segment:
    """One segment's reader, and what the executor reads from it."""

    def __init__(self, reader):
        self.reader = reader
        self.size = reader.doc_count_all()

    def lengths(self, fieldname: str) -> np.ndarray:
        found = length_bytes(self.reader, fieldname)
        return found if found is not None else np.ones(self.size, np.uint8)

    def zeros(self) -> np.ndarray:
        return np.zeros(self.size, np.float64)

    def none(self) -> np.ndarray:
        return np.zeros(self.size, bool)


def run(plan: Node, searcher) -> Matches:
    """Every document the plan matches, with its score (deleted documents left out)."""
    docnums, scores = [], []
    for sub, offset in searcher.leaf_searchers():
        segment = _Segment(sub.reader())
        if not segment.size:
            continue
        found, mask = _evaluate(plan, segment)
        gone = deleted(segment.reader)
        if gone is not None:
            mask &= ~gone
        local = np.flatnonzero(mask)
        docnums.append(local.astype(np.int64) + offset)
        scores.append(found[local])
    if not docnums:
        return Matches(np.zeros(0, np.int64), np.zeros(0, np.float64))
    return Matches(np.concatenate(docnums), np.concatenate(scores))


def coverage(plan: Node, searcher) -> tuple[Matches, int] | None:
    """For a query of plain words (a plan with the all-words bonus): each matching document
    with the number of its words it holds (aliases and stems counting as the word), and how
    many words there are; None for any other query."""
    bonus = _find_bonus(plan)
    if bonus is None:
        return None
    docnums, counts = [], []
    for sub, offset in searcher.leaf_searchers():
        segment = _Segment(sub.reader())
        if not segment.size:
            continue
        held = np.zeros(segment.size, np.int64)
        for clause in bonus.clauses:
            held += _docs(clause, segment)
        gone = deleted(segment.reader)
        if gone is not None:
            held[gone] = 0
        local = np.flatnonzero(held)
        docnums.append(local.astype(np.int64) + offset)
        counts.append(held[local].astype(np.float64))
    if not docnums:
        return Matches(np.zeros(0, np.int64), np.zeros(0, np.float64)), len(bonus.clauses)
    return Matches(np.concatenate(docnums), np.concatenate(counts)), len(bonus.clauses)


def _find_bonus(node: Node) -> Bonus | None:
    """The all-words bonus of a plain-words query, under its filters and exclusions."""
    match node:
        case Bonus(period=str()):
            return _find_bonus(node.child)
        case Bonus():
            return node
        case Require(scored=scored) | Exclude(scored=scored):
            return _find_bonus(scored)
    return None


def best(matches: Matches, count: int | None = None) -> np.ndarray:
    """Positions in `matches` by score, then document number (as Whoosh orders them); only the
    first `count` when given, found with a partial sort."""
    scores, n = matches.scores, len(matches)
    if count is not None and count < n:
        kth = np.partition(scores, n - count)[n - count]  # the count-th highest score
        above = np.flatnonzero(scores > kth)
        tied = np.flatnonzero(scores == kth)[: count - len(above)]  # docnums ascend: the first ties
        chosen = np.concatenate([above, tied])
    else:
        chosen = np.arange(n)
    order = np.lexsort((matches.docnums[chosen], -scores[chosen]))
    return chosen[order]


# --- Scores and sets of one segment ----------------------------------------------------------


def _evaluate(node: Node, segment: _Segment) -> tuple[np.ndarray, np.ndarray]:
    """(scores, matched) for every document of the segment; scores are 0 where not matched."""
    check_deadline()
    match node:
        case Term() | Fields() | Phrase() | Spoken() | Filter() | AnyOf():
            scores, mask = segment.zeros(), segment.none()
            _add(node, segment, scores, mask)
            return scores, mask
        case AllOf(children=children):
            scores, mask = _evaluate(children[0], segment)
            for child in children[1:]:
                more, also = _evaluate(child, segment)
                scores += more
                mask &= also
            scores[~mask] = 0.0
            return scores, mask
        case Maybe(required=required, optional=optional):
            scores, mask = _evaluate(required, segment)
            more, _ = _evaluate(optional, segment)
            scores += np.where(mask, more, 0.0)
            return scores, mask
        case Require(scored=scored, required=required):
            scores, mask = _evaluate(scored, segment)
            mask &= _docs(required, segment)
            scores[~mask] = 0.0
            return scores, mask
        case Exclude(scored=scored, excluded=excluded):
            scores, mask = _evaluate(scored, segment)
            mask &= ~_docs(excluded, segment)
            scores[~mask] = 0.0
            return scores, mask
        case Inverse(excluded=excluded, score=score):
            mask = ~_docs(excluded, segment)
            return np.where(mask, score, 0.0), mask
        case Bonus(child=child, clauses=clauses, factor=factor):
            scores, mask = _evaluate(child, segment)
            everywhere = mask.copy()
            for clause in clauses:
                everywhere &= _docs(clause, segment)
                if not everywhere.any():
                    break
            scores[everywhere] *= factor
            return scores, mask
        case Nothing():
            return segment.zeros(), segment.none()
    raise TypeError(f"not a plan node: {node!r}")


def _add(node: Node, segment: _Segment, scores: np.ndarray, mask: np.ndarray) -> None:
    """Add an additive node's scores (a term's, an OR's) into `scores`, in place."""
    check_deadline()
    reader = segment.reader
    match node:
        case Term(fieldname=fieldname, btext=btext, scorer=scorer, boost=boost):
            found = postings(reader, fieldname, btext)
            if not len(found):
                return
            if scorer is None:  # an unscored field: the posting's weight (1 for an ID field)
                scores[found.ids] += boost * found.weights
            else:
                scores[found.ids] += scorer.scores(found.weights, segment.lengths(fieldname)[found.ids])
            mask[found.ids] = True
        case Fields(fields=fields, scorer=scorer):
            frequency = None
            present = None
            for (fieldname, btext), norm in zip(fields, scorer.fields):
                found = postings(reader, fieldname, btext)
                if not len(found):
                    continue
                if frequency is None or present is None:
                    frequency, present = segment.zeros(), segment.none()
                frequency[found.ids] += norm.frequency(found.weights, segment.lengths(fieldname)[found.ids])
                present[found.ids] = True
            if present is not None and frequency is not None:
                scores[present] += scorer.saturate(frequency[present])
                mask |= present
        case Phrase(fieldname=fieldname, words=words, scorers=scorers):
            where = phrase_docs(node, reader)
            if not where.any():
                return
            lengths = segment.lengths(fieldname)
            for btext, scorer in zip(words, scorers):
                found = postings(reader, fieldname, btext)
                keep = where[found.ids]
                ids = found.ids[keep]
                scores[ids] += scorer.scores(found.weights[keep], lengths[ids])
            mask |= where
        case Spoken(btext=btext, speakers=speakers, scorer=scorer):
            docs, counts, lengths = said(reader, btext, speakers)
            scores[docs] += scorer.at_lengths(counts, lengths)
            mask[docs] = True
        case Filter(docset=docset, score=score):
            where = docset.segment_docs(reader)
            scores[where] += score
            mask |= where
        case AnyOf(children=children):
            for child in children:
                if isinstance(child, (Term, Fields, Phrase, Spoken, Filter, AnyOf)):
                    _add(child, segment, scores, mask)
                else:
                    more, also = _evaluate(child, segment)
                    scores += more
                    mask |= also
        case _:
            raise TypeError(f"not an additive plan node: {node!r}")


def _docs(node: Node, segment: _Segment) -> np.ndarray:
    """The documents a node matches, unscored."""
    check_deadline()
    reader = segment.reader
    match node:
        case Term(fieldname=fieldname, btext=btext):
            mask = segment.none()
            mask[postings(reader, fieldname, btext).ids] = True
            return mask
        case Fields(fields=fields):
            mask = segment.none()
            for fieldname, btext in fields:
                mask[postings(reader, fieldname, btext).ids] = True
            return mask
        case Phrase():
            return phrase_docs(node, reader).copy()
        case Spoken(btext=btext, speakers=speakers):
            mask = segment.none()
            mask[said(reader, btext, speakers)[0]] = True
            return mask
        case Filter(docset=docset):
            return docset.segment_docs(reader).copy()
        case AnyOf(children=children):
            mask = segment.none()
            for child in children:
                mask |= _docs(child, segment)
            return mask
        case AllOf(children=children):
            mask = _docs(children[0], segment)
            for child in children[1:]:
                mask &= _docs(child, segment)
            return mask
        case Maybe(required=required):
            return _docs(required, segment)
        case Require(scored=scored, required=required):
            return _docs(scored, segment) & _docs(required, segment)
        case Exclude(scored=scored, excluded=excluded):
            return _docs(scored, segment) & ~_docs(excluded, segment)
        case Inverse(excluded=excluded):
            return ~_docs(excluded, segment)
        case Bonus(child=child):
            return _docs(child, segment)
        case Nothing():
            return segment.none()
    raise TypeError(f"not a plan node: {node!r}")


# --- Phrases ---------------------------------------------------------------------------------


def phrase_docs(node: Phrase, reader) -> np.ndarray:
    """The documents of a segment where the phrase occurs, as a mask (kept for the query's
    other uses, and the next query's)."""
    key = (segment_key(reader), node.fieldname, node.words, node.slop)
    return remembered("phrases", key, lambda: _find_phrase(node, reader), 512)


def _find_phrase(node: Phrase, reader) -> np.ndarray:
    size = reader.doc_count_all()
    mask = np.zeros(size, bool)
    if node.fieldname not in reader.schema or not all(frequency(reader, node.fieldname, w) for w in node.words):
        return mask
    candidates = None
    for btext in node.words:
        ids = postings(reader, node.fieldname, btext).ids
        candidates = ids if candidates is None else np.intersect1d(candidates, ids, assume_unique=True)
        if not len(candidates):
            return mask
    assert candidates is not None
    # Each distinct word's positions are read and decoded once per document, however often
    # the phrase repeats it (a pasted paragraph repeats "the president" dozens of times).
    decode = reader.schema[node.fieldname].format.decode_positions
    distinct = list(dict.fromkeys(node.words))
    wanted = {int(d) for d in candidates}
    encoded = [values(reader, node.fieldname, btext, wanted) for btext in distinct]
    slot = [distinct.index(btext) for btext in node.words]
    for d in wanted:
        decoded = [decode(v[d]) for v in encoded]
        if _in_order([decoded[i] for i in slot], node.slop):
            mask[d] = True
    return mask


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


# --- Explain ---------------------------------------------------------------------------------


def explain(plan: Node, searcher, docnum: int) -> Explanation:
    """How the plan scores one document (a global number): the parts add up to its score."""
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        if offset <= docnum < offset + reader.doc_count_all():
            found = _explain(plan, _Segment(reader), docnum - offset)
            return found or Explanation(0.0, "no match")
    raise ValueError(f"no document {docnum}")


def _explain(node: Node, segment: _Segment, doc: int) -> Explanation | None:
    """The node's part of one document's score, or None where it does not match it."""
    reader = segment.reader
    match node:
        case Term(fieldname=fieldname, btext=btext, scorer=scorer, boost=boost, label=label):
            weight = _weight_of(reader, fieldname, btext, doc)
            if weight is None:
                return None
            if scorer is None:
                return Explanation(boost * weight, f"{label} (its weight, {weight:g}, times {boost:g})")
            part = scorer.explain(weight, int(segment.lengths(fieldname)[doc]))
            return Explanation(part.value, label + " (BM25)", part.details)
        case Fields(fields=fields, scorer=scorer, label=label):
            parts = []
            for (fieldname, btext), norm in zip(fields, scorer.fields):
                weight = _weight_of(reader, fieldname, btext, doc)
                if weight is not None:
                    parts.append((norm, weight, int(segment.lengths(fieldname)[doc])))
            if not parts:
                return None
            return scorer.explain(parts)
        case Spoken(btext=btext, speakers=speakers, scorer=scorer):
            docs, counts, lengths = said(reader, btext, speakers)
            where = np.flatnonzero(docs == doc)
            if not len(where):
                return None
            return scorer.explain_at_length(float(counts[where[0]]), float(lengths[where[0]]), " or ".join(speakers))
        case Phrase(fieldname=fieldname, words=words, scorers=scorers, label=label):
            if not phrase_docs(node, reader)[doc]:
                return None
            lengths = segment.lengths(fieldname)
            details = []
            for btext, scorer in zip(words, scorers):
                weight = _weight_of(reader, fieldname, btext, doc) or 0.0
                details.append(scorer.explain(weight, int(lengths[doc])))
            return _sum(f"the phrase {label}", details)
        case Filter(docset=docset, score=score, label=label):
            return Explanation(score, f"the filter {label}") if docset.segment_docs(reader)[doc] else None
        case AnyOf(children=children, label=label):
            details = [e for e in (_explain(c, segment, doc) for c in children) if e is not None]
            return _sum(label, details) if details else None
        case AllOf(children=children, label=label):
            every = [_explain(c, segment, doc) for c in children]
            shares = [e for e in every if e is not None]
            return _sum(f"all of: {label}", shares) if len(shares) == len(every) else None
        case Maybe(required=required, optional=optional):
            first = _explain(required, segment, doc)
            if first is None:
                return None
            second = _explain(optional, segment, doc)
            return _sum("required, and what may also match", [first] + ([second] if second else []))
        case Require(scored=scored, required=required):
            if not _docs(required, segment)[doc]:
                return None
            return _explain(scored, segment, doc)
        case Exclude(scored=scored, excluded=excluded):
            if _docs(excluded, segment)[doc]:
                return None
            return _explain(scored, segment, doc)
        case Inverse(excluded=excluded, score=score, label=label):
            return None if _docs(excluded, segment)[doc] else Explanation(score, label)
        case Bonus(child=child, clauses=clauses, factor=factor, period=period):
            base = _explain(child, segment, doc)
            if base is None:
                return None
            if all(_docs(c, segment)[doc] for c in clauses):
                if period is not None:
                    what, why = "the period bonus", f"dated in {period}, a period the words name"
                else:
                    what, why = "the all-words bonus", "every word is in it"
                bonus = Explanation(base.value * factor - base.value, f"{what}: {why} (×{factor:g})")
                return Explanation(base.value * factor, f"with {what}", (base, bonus), adds=True)
            return base
        case Nothing():
            return None
    raise TypeError(f"not a plan node: {node!r}")


def _sum(description: str, details: list[Explanation]) -> Explanation:
    if len(details) == 1:
        return details[0]
    return Explanation(sum(e.value for e in details), description, tuple(details), adds=True)


def _weight_of(reader, fieldname: str, btext: bytes, doc: int) -> float | None:
    found = postings(reader, fieldname, btext)
    i = int(np.searchsorted(found.ids, doc))
    if i < len(found) and found.ids[i] == doc:
        return float(found.weights[i])
    return None
