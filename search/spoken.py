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

import difflib
import re

import numpy as np
from whoosh import query

from .analysis import normalize
from .errors import QueryError
from .postings import postings, remembered, segment_key, values
from .speakers import folded, names_match
from .syntax import TEXT

TURN_CACHE = 20_000  # documents' turns kept per process, by segment and document
SAID_CACHE = 512  # (segment, word, speakers) answers kept per process

# A question of what someone said: "what did Kirby say about Gaza".
_SAYING = frozenset("say said says saying tell told think thinks thought".split())
# The framing of such a question, left out of the words searched in what they said.
_FRAMING = _SAYING | frozenset("what when where why how which did does do has have had about regarding me us".split())
_SAID_QUESTION = re.compile(
    r"\b(?:what|how|when|why|where)\s+(?:did|does|do|has|have|had|will|would)\s+(?P<who>[\w.'’\- ]{2,40}?)\s+"
    r"(?:say|said|tell|told|think|thinks|mean)\b", re.IGNORECASE)
_HONORIFIC_WORDS = frozenset("the mr ms mrs dr miss secretary admiral ambassador senator governor".split())
_OFFICES = frozenset("president vice secretary senator governor mayor first lady reporter moderator".split())


def said(reader, btext: bytes, speakers: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For one segment: the documents where the speakers said the word, how often, and how
    many words they said there (token positions, stop words included, as the body's lengths
    count them). Kept for the process, as phrases are: a query asks for the same word's
    documents for its scores, for the all-words bonus and for explain."""
    key = (segment_key(reader), btext, tuple(speakers))
    return remembered("said", key, lambda: _said(reader, btext, speakers), SAID_CACHE)


def _said(reader, btext: bytes, speakers: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


# --- Who a query names ------------------------------------------------------------------------


def speaker_names(reader) -> list[str]:
    """Every speaker of the index, as its `speaker` field keeps the names."""
    if "speaker" not in reader.schema:
        return []
    return [v.decode("utf-8") if isinstance(v, bytes) else v for v in reader.lexicon("speaker")]


def named_speakers(typed: str, reader) -> list[str]:
    """The index's speakers that `typed` names: a full name, or any of its words
    (`Kirby`, `John Kirby`, `Jean-Pierre`). None is a clear error naming the closest."""
    words = folded(typed).split()
    if not words:
        raise QueryError("speaker: needs a name, as in speaker:Kirby or speaker:\"John Kirby\"")
    names = speaker_names(reader)  # an index without speakers is refused before (QueryReader.read)
    found = [name for name in names if names_match(name, words)]
    if found:
        return found
    lowered = {folded(n): n for n in names}
    close = [lowered[n] for n in difflib.get_close_matches(" ".join(words), list(lowered), n=3, cutoff=0.6)] or \
        sorted({n for w in words for k, n in lowered.items() if difflib.get_close_matches(w, k.split(), n=1, cutoff=0.75)})[:3]
    hint = f"; the closest: {', '.join(close)}" if close else ""
    raise QueryError(f"no speaker in this index is named {typed!r}{hint}")

def where_they_speak(names: list[str]) -> query.Query:
    """The documents where these people speak, the most turns first."""
    return query.Or([query.Term("speaker", name) for name in names]).normalize()

def asked_about(subqueries: list[query.Query], reader, text: str) -> tuple[list[query.Query], list[query.Query]]:
    """A question of what someone said, "what did Kirby say about Gaza": when the words
    between "did" and "say" name a speaker of the index, that speaker's clause
    (speaker:Kirby), and the plain words it replaces (the name and the framing)."""
    asked = _SAID_QUESTION.search(text)
    if not asked:
        return [], []
    who = [w for w in folded(asked.group("who").replace(".", " ")).split() if w not in _HONORIFIC_WORDS]
    if not who or any(w in _OFFICES for w in who) or not any(names_match(n, who) for n in speaker_names(reader)):
        return [], []
    plain = [c for c in subqueries if type(c) is query.Term and c.fieldname == TEXT]
    replaced = [c for c in plain if normalize(c.text).strip(".") in who or normalize(c.text) in _FRAMING]
    return [query.Term("speaker", " ".join(who))], replaced
