"""How text becomes index terms: one definition, used to index, to query and to highlight.

The Whoosh analyzer (`text_analyzer`) is the reference. `index_terms` is a fast equivalent for
indexing, which does in one loop with a stem cache what the analyzer's chain of tokenizer and
filters does token by token; a test checks that the two agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from whoosh.analysis import Filter, RegexTokenizer, StemFilter
from whoosh.analysis.filters import STOP_WORDS as WHOOSH_STOP_WORDS
from whoosh.lang.porter2 import stem as porter2_stem

# Bump when anything below changes what terms a text produces: an index built with another
# version must be rebuilt, and `search index --update` does that by itself.
ANALYZER_VERSION = 1

# Words: runs of letters and digits, with apostrophes inside ("Biden’s", "don't").
TOKEN_PATTERN = r"\w+(?:['’]\w+)*"
TOKEN_RE = re.compile(TOKEN_PATTERN)
MIN_TOKEN_CHARS = 2
MAX_TOKEN_CHARS = 80  # longer "words" are junk (encoded data) and bloat the term dictionary

STOP_WORDS = frozenset(WHOOSH_STOP_WORDS)

_stem_cache: dict[str, str] = {}
STEM_CACHE = 100_000  # words; the archive has about 80,000, and queries bring any others


def stem(word: str) -> str:
    """The porter2 (Snowball English) stem of a lowercase word, cached.

    Porter2 keeps "running" -> "run", where Whoosh's default StemmingAnalyzer (the original
    Porter) gives "runn"; and it removes possessive 's. The cache is emptied when full: a
    server's users type words without end, and an unbounded cache grew with every one.
    """
    stemmed = _stem_cache.get(word)
    if stemmed is None:
        if len(_stem_cache) >= STEM_CACHE:
            _stem_cache.clear()
        stemmed = _stem_cache[word] = porter2_stem(word)
    return stemmed


def normalize(token: str) -> str:
    """Lowercase, with typographic apostrophes made plain."""
    token = token.lower()
    return token.replace("’", "'") if "’" in token else token


def is_stop(word: str) -> bool:
    return word in STOP_WORDS or not MIN_TOKEN_CHARS <= len(word) <= MAX_TOKEN_CHARS


class NormalizeStopFilter(Filter):
    """Lowercase, plain apostrophes, and stop words dropped (positions keep their gaps)."""

    def __call__(self, tokens):
        for t in tokens:
            text = normalize(t.text)
            t.text = text
            if is_stop(text):
                if t.removestops:
                    continue
                t.stopped = True
            else:
                t.stopped = False
            yield t


def text_analyzer():
    """The Whoosh analyzer for title and body text."""
    return RegexTokenizer(TOKEN_PATTERN) | NormalizeStopFilter() | StemFilter(stem, cachesize=0)


@dataclass
class IndexTerms:
    """One text's terms, ready for a Whoosh posting list, and its words for spelling."""

    positions: dict[str, list[int]]  # stem -> token positions
    words: set[str]  # the unstemmed words, for "did you mean"
    length: int  # number of indexed tokens
    bounds: list[tuple[int, int]] = field(default_factory=list)  # token positions of each span asked for


def index_terms(text: str, spans: list[tuple[int, int]] | None = None) -> IndexTerms:
    """What `text_analyzer()` produces for `text` in index mode, computed in one loop.

    With `spans` (start, end) covering the text in order, `bounds` gives each span's first
    token position and the position after its last: a speaker's turns, in token positions
    (a turn starts at a line, so no word spans two)."""
    positions: dict[str, list[int]] = {}
    words: dict[str, str] = {}  # normalized word -> stem; its keys are the spelling words
    bounds: list[tuple[int, int]] = []
    length = 0
    pos = 0
    for start, end in spans or [(0, len(text))]:
        first = pos
        for token in TOKEN_RE.findall(text, start, end):
            word = token.lower()
            if "’" in word:
                word = word.replace("’", "'")
            stemmed = words.get(word)
            if stemmed is None:
                if is_stop(word):
                    pos += 1
                    continue
                stemmed = words[word] = stem(word)
            length += 1
            posting = positions.get(stemmed)
            if posting is None:
                positions[stemmed] = [pos]
            else:
                posting.append(pos)
            pos += 1
        bounds.append((first, pos))
    return IndexTerms(positions, set(words), length, bounds if spans else [])
