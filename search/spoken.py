"""A word in the words that some people spoke: `speaker:Kirby Gaza` counts "gaza" only where
it falls in Kirby's turns.

The index keeps no second copy of the transcripts' words. Each document's turns are stored
with the body's token positions of their words (`speakers.stored`), and the body's postings
hold every word's positions: a word's frequency in a speaker's words is the count of its
positions inside that speaker's turns, and the length it is normalized by is the number of
positions those turns hold. Only the documents where one of the speakers speaks and the body
has the word are looked at, so the cost follows the speaker, not the archive.
"""

from __future__ import annotations

import numpy as np

from .postings import postings, remembered, segment_key, values

TURN_CACHE = 20_000  # documents' turns kept per process, by segment and document


def said(reader, btext: bytes, speakers: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For one segment: the documents where the speakers said the word, how often, and how
    many words they said there (token positions, stop words included, as the body's lengths
    count them)."""
    empty = np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    if "speaker" not in reader.schema or "body" not in reader.schema:
        return empty
    theirs = [postings(reader, "speaker", name.encode("utf-8")).ids for name in speakers]
    where = np.unique(np.concatenate(theirs)) if theirs else np.zeros(0, np.int64)
    docs = np.intersect1d(where, postings(reader, "body", btext).ids, assume_unique=True)
    if not len(docs):
        return empty
    encoded = values(reader, "body", btext, set(docs.tolist()))
    decode = reader.schema["body"].format.decode_positions
    wanted = set(speakers)
    found, counts, lengths = [], [], []
    for doc in docs.tolist():
        starts, ends = spans(reader, doc, wanted)
        if not len(starts):
            continue
        positions = np.asarray(decode(encoded[doc]), dtype=np.int64)
        inside = np.searchsorted(starts, positions, side="right") - 1
        hit = (inside >= 0) & (positions < ends[np.maximum(inside, 0)])
        count = int(hit.sum())
        if count:
            found.append(doc)
            counts.append(count)
            lengths.append(int((ends - starts).sum()))
    return np.array(found, np.int64), np.array(counts, float), np.array(lengths, float)


def spans(reader, doc: int, speakers: set[str]) -> tuple[np.ndarray, np.ndarray]:
    """The token positions of the speakers' words in one document: (starts, ends), in order."""
    turns = remembered("turns", (segment_key(reader), doc), lambda: _turns(reader, doc), TURN_CACHE)
    chosen = [(first, after) for speaker, first, after in turns if speaker in speakers and after > first]
    if not chosen:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    bounds = np.array(chosen, dtype=np.int64)
    return bounds[:, 0], bounds[:, 1]


def _turns(reader, doc: int) -> list[tuple[str, int, int]]:
    stored = reader.stored_fields(doc).get("turns") or ()
    return [(turn[0], turn[5], turn[6]) for turn in stored]
