"""The only module that reads Whoosh's codec internals: postings decoded into numpy arrays and
kept for the next query, a segment's field lengths as one byte column, and positions.

Whoosh hands postings out one at a time through its matchers, a few Python calls a posting.
Term-at-a-time scoring needs a term's whole list in one segment, as arrays, so this module
reads the W3 codec's blocks directly: their decoded ids and weights (`W3LeafMatcher._read_ids`,
`_read_weights`, `_next_block`), the per-document length column (`_cached_reader`, and the
column's `_dbfile`, `_basepos`, `_count`) and positions (`_read_values`). Those names are not
Whoosh's public API: `check_codec()` says loudly when a Whoosh release has changed them, and
pyproject.toml pins the range they were checked against (whoosh-reloaded 2.7.5 up to 2.8).

Decoded postings are shared by every thread of the process, keyed by the segment's folder and
id (a segment's files never change once written), in one LRU with one bound in bytes. A
rebuild's new generation drops the old one's entries when it is opened (`forget_other_generations`).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from whoosh.util.numeric import byte_to_length

# Checked with these; `check_codec` fails loudly on anything else missing.
WHOOSH_RELEASES = ("2.7.5",)
POSTINGS_CACHE_BYTES = 64 * 1024 * 1024  # decoded postings kept per process (12 bytes a posting)
_LENGTH_OF_BYTE = [byte_to_length(b) for b in range(256)]


class CodecChanged(RuntimeError):
    """Whoosh's codec is not what this module was written against."""


def check_codec() -> None:
    """Raise CodecChanged, naming what is missing, when the installed Whoosh lacks an internal
    this module reads. Cheap; called once when an index is first opened."""
    from whoosh.codec import whoosh3

    missing = [
        f"whoosh.codec.whoosh3.{name}" for name in ("W3LeafMatcher", "LENGTHS_COLUMN", "_lenfield")
        if not hasattr(whoosh3, name)
    ]
    leaf = getattr(whoosh3, "W3LeafMatcher", None)
    if leaf is not None:
        missing += [f"W3LeafMatcher.{name}" for name in ("_read_ids", "_read_weights", "_read_values", "_next_block")
                    if not hasattr(leaf, name)]
    perdoc = getattr(whoosh3, "W3PerDocReader", None)
    if perdoc is None or not hasattr(perdoc, "_cached_reader"):
        missing.append("W3PerDocReader._cached_reader")
    if missing:
        raise CodecChanged(
            "this Whoosh release's codec lacks what search/postings.py reads: " + ", ".join(missing)
            + f" (checked against whoosh-reloaded {', '.join(WHOOSH_RELEASES)}; see pyproject.toml)"
        )


@dataclass(frozen=True, eq=False)
class Postings:
    """A term's postings in one segment: document numbers, ascending, and their weights."""

    ids: np.ndarray  # int32
    weights: np.ndarray  # float64 (Whoosh stores float32; exact as float64)

    def __len__(self) -> int:
        return len(self.ids)


EMPTY = Postings(np.zeros(0, np.int32), np.zeros(0, np.float64))

_postings: OrderedDict = OrderedDict()
_postings_held = 0  # bytes
_postings_lock = threading.Lock()


def postings(reader, fieldname: str, btext: bytes) -> Postings:
    """A term's postings in one segment (deleted documents included: callers drop them),
    decoded once and kept, the most recently used first, up to POSTINGS_CACHE_BYTES."""
    global _postings_held
    key = (segment_key(reader), fieldname, btext)
    with _postings_lock:
        found = _postings.get(key)
        if found is not None:
            _postings.move_to_end(key)
            return found
    if not frequency(reader, fieldname, btext):
        return EMPTY
    ids: list[int] = []
    weights: list[float] = []
    for block_ids, block_weights in _blocks(reader, fieldname, btext):
        ids.extend(block_ids)
        weights.extend(block_weights)
    decoded = Postings(np.array(ids, dtype=np.int32), np.array(weights, dtype=np.float64))
    size = decoded.ids.nbytes + decoded.weights.nbytes
    with _postings_lock:
        if key not in _postings:
            _postings[key] = decoded
            _postings_held += size
            while _postings_held > POSTINGS_CACHE_BYTES and len(_postings) > 1:
                _, old = _postings.popitem(last=False)
                _postings_held -= old.ids.nbytes + old.weights.nbytes
    return decoded


# A segment field's term statistics are looked up a term at a time (some 30 microseconds each,
# in the on-disk term table) until the field has needed this many; then every term's are read in
# one pass (a tenth of a second for the archive's body field of one segment) and kept for the
# process. A one-off query (`search query`) never pays for the pass; a server soon has it.
LOOKUPS_BEFORE_TABLE = 2000


class _FieldStats:
    """One segment field's terms: (document frequency, total weight) by term."""

    def __init__(self):
        self.terms: dict[bytes, tuple[int, float]] = {}
        self.complete = False
        self.lock = threading.Lock()


_field_stats: dict[tuple, _FieldStats] = {}
_field_stats_lock = threading.Lock()


def frequency(reader, fieldname: str, text: str | bytes) -> int:
    """How many documents (deleted ones included, as Whoosh counts) hold a term: in one
    segment, or summed over an index's segments, from the kept statistics (`_FieldStats`):
    a query asks for the same counts several times (its cost, its IDFs, which of its words
    exist), and the next query again."""
    return int(_frequency(reader, fieldname, text)[0])


def total_weight(reader, fieldname: str, text: str | bytes) -> float:
    """The sum of a term's weights (Whoosh's collection frequency), kept as `frequency` is."""
    return float(_frequency(reader, fieldname, text)[1])


def term_statistics(reader, fieldname: str, texts) -> dict:
    """(documents, total weight) of many terms of one field at once, over an index's segments
    (`frequency` and `total_weight` for each, without their per-call overhead)."""
    if fieldname not in reader.schema:
        return {text: (0, 0.0) for text in texts}
    to_bytes = reader.schema[fieldname].to_bytes
    keys = {text: to_bytes(text) if isinstance(text, str) else text for text in texts}
    totals = dict.fromkeys(keys, (0, 0.0))
    for leaf, _ in reader.leaf_readers() if hasattr(reader, "leaf_readers") else [(reader, 0)]:
        stats = _stats_of(leaf, fieldname)
        for text, btext in keys.items():
            found = stats.terms.get(btext)
            if found is None and not stats.complete:
                found = _segment_stats(leaf, fieldname, btext)
            if found is not None:
                count, weight = totals[text]
                totals[text] = (count + found[0], weight + found[1])
    return totals


def _frequency(reader, fieldname: str, text: str | bytes) -> tuple[int, float]:
    if fieldname not in reader.schema:
        return (0, 0.0)
    btext = reader.schema[fieldname].to_bytes(text) if isinstance(text, str) else text
    leaves = reader.leaf_readers() if hasattr(reader, "leaf_readers") else [(reader, 0)]
    count, weight = 0, 0.0
    for leaf, _ in leaves:
        found = _segment_stats(leaf, fieldname, btext)
        count += found[0]
        weight += found[1]
    return count, weight


def read_field_stats(reader, fieldname: str) -> None:
    """Read every term's statistics of a segment field now, in one pass (a server warming up)."""
    stats = _stats_of(reader, fieldname)
    with stats.lock:
        if not stats.complete:
            stats.terms = {term: (info.doc_frequency(), info.weight()) for term, info in reader.iter_field(fieldname)}
            stats.complete = True


def _stats_of(reader, fieldname: str) -> _FieldStats:
    key = (segment_key(reader), fieldname)
    stats = _field_stats.get(key)
    if stats is None:
        with _field_stats_lock:
            stats = _field_stats.setdefault(key, _FieldStats())
    return stats


def _segment_stats(reader, fieldname: str, btext: bytes) -> tuple[int, float]:
    stats = _stats_of(reader, fieldname)
    found = stats.terms.get(btext)
    if found is not None or stats.complete:
        return found or (0, 0.0)
    if len(stats.terms) >= LOOKUPS_BEFORE_TABLE:
        read_field_stats(reader, fieldname)
        return stats.terms.get(btext, (0, 0.0))
    # 0 for a term the segment lacks
    found = (reader.doc_frequency(fieldname, btext), reader.frequency(fieldname, btext))
    stats.terms[btext] = found
    return found


_memos: dict[str, dict] = {}
_memos_lock = threading.Lock()


def segment_memo(name: str) -> dict:
    """A process-wide dict for figures worked out per segment (its keys start with the
    segment's `segment_key`), shared by the threads (each has its own readers) and dropped with
    the segment's generation like the postings."""
    with _memos_lock:
        return _memos.setdefault(name, {})


def remembered(name: str, key: tuple, make, bound: int):
    """`make()`, kept in the process-wide memo `name` under `key` (which starts with a segment
    key), the latest `bound` of them."""
    memo = segment_memo(name)
    found = memo.get(key)
    if found is None:
        found = make()
        with _memos_lock:
            memo[key] = found
            if len(memo) > bound:
                for old in list(memo)[: len(memo) - bound]:
                    memo.pop(old, None)
    return found


def cached_bytes() -> int:
    """How much the process's decoded postings hold (for tests and the load benchmark)."""
    return _postings_held


def cached_segments() -> set[tuple]:
    with _postings_lock:
        return {key[0] for key in _postings}


def forget_other_generations(folder: Path | str) -> None:
    """Drop the decoded postings of the other generations beside `folder` (the one just
    opened): once a rebuild has swapped in, they are never read again, and left to the LRU
    they would hold its memory until pushed out by new ones."""
    global _postings_held
    current = os.path.abspath(folder)
    parent = os.path.dirname(current)
    with _postings_lock:
        stale = [
            key for key in _postings
            if len(key[0]) == 2 and key[0][0] != current and os.path.dirname(key[0][0]) == parent
        ]
        for key in stale:
            old = _postings.pop(key)
            _postings_held -= old.ids.nbytes + old.weights.nbytes
    with _field_stats_lock:
        for key in [k for k in _field_stats if len(k[0]) == 2 and k[0][0] != current and os.path.dirname(k[0][0]) == parent]:
            del _field_stats[key]
    for memo in _memos.values():
        for key in [k for k in list(memo) if len(k[0]) == 2 and k[0][0] != current and os.path.dirname(k[0][0]) == parent]:
            memo.pop(key, None)


def segment_key(reader) -> tuple:
    """What names a segment's postings for as long as the process lives: its folder and its
    random id; a reader of another kind is its own key (the object, kept alive by the entry)."""
    key = reader.__dict__.get("_search_segment_key")
    if key is None:
        folder = getattr(getattr(reader, "_storage", None), "folder", None)
        segment = getattr(reader, "_segment", None)
        key = (os.path.abspath(folder), segment.segment_id()) if folder and segment is not None else (reader,)
        reader.__dict__["_search_segment_key"] = key
    return key


def length_bytes(reader, fieldname: str) -> np.ndarray | None:
    """A segment's field lengths, one byte a document as Whoosh stores them (0: none; decode
    with `LENGTH_OF_BYTE`), read once and kept with the reader; None when the reader is not a
    plain segment reader or the field keeps no lengths."""
    key = (segment_key(reader), fieldname)
    memo = segment_memo("length bytes")
    if key in memo:
        return memo[key]
    found = None
    raw = _length_column(reader, fieldname)
    if raw is not None:
        size = reader.doc_count_all()
        found = np.zeros(size, np.uint8)
        column = np.frombuffer(raw, dtype=np.uint8)[:size]
        found[: len(column)] = column
    memo[key] = found
    return found


def _length_column(reader, fieldname: str) -> bytes | None:
    perdoc = getattr(reader, "_perdoc", None)
    if perdoc is None or not hasattr(perdoc, "_cached_reader"):
        return None
    if fieldname not in reader.schema or not reader.schema[fieldname].scorable:
        return None
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

    column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    return b"" if column is None else column._dbfile.get(column._basepos, column._count)


# What a length byte stands for; a length that rounds to byte 0 reads as 1 (Whoosh would give
# None), so that no norm divides by zero.
LENGTH_OF_BYTE = np.array([length or 1 for length in _LENGTH_OF_BYTE], dtype=np.float64)


def deleted(reader) -> np.ndarray | None:
    """The segment's deleted documents as a boolean mask, or None when it has none."""
    if not reader.has_deletions():
        return None
    def mask() -> np.ndarray:
        found = np.zeros(reader.doc_count_all(), bool)
        gone = getattr(reader, "deleted_docs_set", None)
        if gone is None:
            gone = [d for d in range(len(found)) if reader.is_deleted(d)]
        found[list(gone)] = True
        return found

    return remembered("deleted", (segment_key(reader),), mask, 10_000)


def values(reader, fieldname: str, btext: bytes, docs: set[int]) -> dict[int, bytes]:
    """The encoded values (positions) of a term's postings for some documents of a segment."""
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


def _blocks(reader, fieldname: str, btext: bytes) -> Iterator[tuple]:
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

