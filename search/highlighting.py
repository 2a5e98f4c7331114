"""Finding the words a query matched in a text, and the best passage to show.

A `Marker` holds what a query asks for: stems to mark wherever they occur, and phrases (from
quotes, hyphenated words and aliases) to mark only where their words occur together. It finds
candidates with one regular expression that runs in C over the text; only the candidates are
stemmed in Python, so marking never tokenizes a whole document. Whoosh's own fragmenter and
scorer then pick the passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from whoosh import highlight
from whoosh.analysis import Token

from .analysis import TOKEN_RE, is_stop, normalize, stem

SNIPPET_CHARS = 280
SNIPPET_CONTEXT = 100
MAX_MARKS = 5000
# Up to this many stems, one regular expression of their prefixes finds the candidates in C;
# beyond it (a prefix query's hundreds of expansions) every word is looked at instead, so that
# the cost follows the text's length, not the number of stems.
MAX_ALTERNATIVES = 64
_PHRASE_GAP = 40  # characters between two words of a phrase: room for stop words and punctuation


@dataclass
class Snippet:
    """A passage of a document, with the offsets of the matched words in `text`."""

    text: str
    matches: list[list[int]] = field(default_factory=list)  # [start, end) pairs


class Marker:
    """Marks a query's words in texts. Built once per query, used for every hit."""

    def __init__(self, stems: set[str], phrases: set[tuple[str, ...]]):
        self.stems = set(stems)
        self.phrases = {p for p in phrases if len(p) > 1}
        self.wanted = self.stems | {s for p in self.phrases for s in p}
        self.pattern = _candidates(self.wanted) if len(self.wanted) <= MAX_ALTERNATIVES else TOKEN_RE

    def spans(self, text: str, limit: int = MAX_MARKS) -> list[list[int]]:
        """The [start, end) offsets of the matched words in `text`, in order."""
        if self.pattern is None or not text:
            return []
        found: list[tuple[int, int, str]] = []
        every_word = self.pattern is TOKEN_RE
        wanted = self.wanted
        for match in self.pattern.finditer(text):
            word = normalize(match.group())
            if not is_stop(word):
                stemmed = stem(word)
                if not every_word or stemmed in wanted:
                    found.append((match.start(), match.end(), stemmed))
        keep = [s in self.stems for _, _, s in found]
        if self.phrases:
            starts: dict[str, list[int]] = {}
            for i, (_, _, s) in enumerate(found):
                starts.setdefault(s, []).append(i)
            for phrase in self.phrases:
                n = len(phrase)
                for i in starts.get(phrase[0], ()):
                    if i + n <= len(found) and all(found[i + k][2] == phrase[k] for k in range(1, n)) and all(
                        _adjacent(text, found[i + k][1], found[i + k + 1][0]) for k in range(n - 1)
                    ):
                        for k in range(n):
                            keep[i + k] = True
        spans = [[start, end] for (start, end, _), kept in zip(found, keep) if kept]
        return spans[:limit]

    def snippet(self, text: str) -> Snippet:
        """The best passage of `text` (about 280 characters) with the matched words; the
        opening of the text when nothing in it matched."""
        spans = self.spans(text)
        if not spans:
            return Snippet(_opening(text))
        tokens = []
        for start, end in spans:
            token = Token(text=stem(normalize(text[start:end])), startchar=start, endchar=end, matched=True)
            token.boost = 1.0
            tokens.append(token)
        fragments = list(_FRAGMENTER.fragment_matches(text, tokens))
        best = highlight.top_fragments(fragments, 1, _SCORER, highlight.FIRST, minscore=0)
        fragment = best[0] if best else fragments[0]
        start, end = fragment.startchar, fragment.endchar
        prefix = "… " if start > 0 else ""
        suffix = " …" if end < len(text) else ""
        passage = text[start:end].replace("\n", " ")  # one line; the offsets do not move
        shift = len(prefix) - start
        matches = [[t.startchar + shift, t.endchar + shift] for t in fragment.matches]
        return Snippet(prefix + passage + suffix, matches)


def _candidates(stems: set[str]) -> re.Pattern | None:
    """A regular expression for the words that may have one of these stems.

    A porter2 stem is a prefix of its words, except that a final y becomes i ("policy" ->
    "polici"), so that last letter is left out of the prefix.
    """
    prefixes = {s[:-1] if s.endswith("i") and len(s) > 2 else s for s in stems if s}
    if not prefixes:
        return None
    alternatives = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
    # A word starts where the analyzer's tokens do: not after a letter, nor after a letter and
    # an apostrophe ("Biden’s"); after an apostrophe alone it does ("’Russia", a quote).
    return re.compile(rf"(?<!\w)(?<!\w['’])(?:{alternatives})\w*(?:['’]\w+)*", re.IGNORECASE)


def _adjacent(text: str, end: int, start: int) -> bool:
    """Whether two words are next to each other in a phrase: only stop words, single letters
    and punctuation between them."""
    if start - end > _PHRASE_GAP:
        return False
    return all(is_stop(normalize(word)) for word in TOKEN_RE.findall(text, end, start))


_FRAGMENTER = highlight.PinpointFragmenter(maxchars=SNIPPET_CHARS, surround=SNIPPET_CONTEXT, autotrim=True, charlimit=None)
_SCORER = highlight.BasicFragmentScorer()


def _opening(text: str, size: int = SNIPPET_CHARS) -> str:
    if len(text) <= size:
        return text.replace("\n", " ")
    cut = text.rfind(" ", 0, size)
    return text[: cut if cut > size // 2 else size].replace("\n", " ") + " …"
