"""Finding the words a query matched in a text, and the best passage to show.

A `Marker` holds what a query asks for: stems to mark wherever they occur, and phrases (from
quotes, hyphenated words and aliases) to mark only where their words occur together. It finds
candidates with one regular expression that runs in C over the text; only the candidates are
stemmed in Python, so marking never tokenizes a whole document. The passage is picked as
Whoosh's PinpointFragmenter and BasicFragmentScorer pick it (a test compares the two), over
plain tuples instead of Token and Fragment objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .analysis import TOKEN_RE, is_stop, normalize, stem
from .speakers import turn_at

SNIPPET_CHARS = 280
SNIPPET_CONTEXT = 100
MAX_MARKS = 5000
# A snippet is picked among the first this many words that match: a press briefing names
# "Jean-Pierre" hundreds of times, and marking them all cost 1.5 ms a hit for one passage.
SNIPPET_MARKS = 400
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
    speaker: str | None = None  # whose words the passage is, in a transcript
    turn: int | None = None  # which of the document's turns it is in (its page's anchor #tN)


class Marker:
    """Marks a query's words in texts. Built once per query, used for every hit."""

    def __init__(self, stems: set[str], phrases: set[tuple[str, ...]]):
        self.stems = set(stems)
        self.phrases = {p for p in phrases if len(p) > 1}
        self.wanted = self.stems | {s for p in self.phrases for s in p}
        self.pattern = _candidates(self.wanted) if len(self.wanted) <= MAX_ALTERNATIVES else TOKEN_RE
        # The same, ignoring case: for the rare text whose lowercase is longer than itself.
        self.any_case = re.compile(self.pattern.pattern, re.IGNORECASE) if self.pattern is not None else None
        self._stem_of: dict[str, str | None] = {}  # a candidate word's stem (None: a stop word), for this query
        self.speakers: frozenset[str] = frozenset()  # the speakers the query named: snippets from their turns

    def spans(self, text: str, limit: int = MAX_MARKS) -> list[list[int]]:
        """The [start, end) offsets of the matched words in `text`, in order."""
        return [[start, end] for start, end, _ in self._marks(text, limit)[:limit]]

    def _marks(self, text: str, enough: int = MAX_MARKS) -> list[tuple[int, int, str]]:
        """The matched words of `text`: (start, end, stem), in order.

        The candidates are found in the text's lowercase (a case-sensitive expression runs three
        times as fast as one that ignores case), whose offsets are the text's own, by an
        expression that starts with the words' letters, so that the engine skips to them (a
        look-behind at its start made it try every position: four times as slow); a candidate
        inside a word is then passed over here."""
        if self.pattern is None or self.any_case is None or not text:
            return []
        stems = self._stem_of
        lowered = text.lower()
        pattern = self.pattern
        if len(lowered) != len(text):  # "İ" lowers to two characters: offsets would drift
            lowered, pattern = text, self.any_case
        found: list[tuple[int, int, str]] = []
        every_word = self.pattern is TOKEN_RE
        wanted = self.wanted
        for match in pattern.finditer(lowered):
            begin = match.start()
            if begin and not _starts_word(lowered, begin):
                continue
            word = match.group()
            stemmed = stems.get(word, "")
            if stemmed == "":
                normal = normalize(word)
                stemmed = stems[word] = None if is_stop(normal) else stem(normal)
            if stemmed is not None and (not every_word or stemmed in wanted):
                found.append((begin, match.end(), stemmed))
                if len(found) >= enough:
                    break
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
        return [mark for mark, kept in zip(found, keep) if kept]

    def snippet(self, text: str, turns: list | None = None, speakers: frozenset[str] = frozenset()) -> Snippet:
        """The best passage of `text` (about 280 characters) with the matched words; the
        opening of the text when nothing in it matched. In a transcript (`turns`, as the index
        stores them: speaker, label, start, start of the words, end), the passage stays within
        one turn's words and says whose they are; with `speakers`, it is taken from their turns."""
        marks = self._marks(text, SNIPPET_MARKS)
        if turns and speakers:
            starts = [t[2] for t in turns]
            marks = [m for m in marks if _in_words_of(turns, starts, m[0], speakers)] or marks
        if not marks:
            spoken = [n for n, t in enumerate(turns or ()) if t[0] in speakers]
            if spoken:  # the opening of their first turn
                speaker, _, _, words, turn_end, *_ = turns[spoken[0]]  # type: ignore[index]
                return Snippet(("… " if words else "") + _opening(text[words:turn_end]), speaker=speaker, turn=spoken[0])
            return Snippet(_opening(text))
        start, end, first, last = best_passage(text, marks)
        speaker = turn = None
        if turns:
            turn = turn_at(turns, marks[first][0])
            if turn is not None:
                speaker, _, _, words, turn_end, *_ = turns[turn]
                start, end = max(start, words), min(end, turn_end)
                while last > first and marks[last][1] > end:
                    last -= 1
        prefix = "… " if start > 0 else ""
        suffix = " …" if end < len(text) else ""
        passage = text[start:end].replace("\n", " ")  # one line; the offsets do not move
        shift = len(prefix) - start
        matches = [[s + shift, e + shift] for s, e, _ in marks[first : last + 1]]
        return Snippet(prefix + passage + suffix, matches, speaker, turn)


def _candidates(stems: set[str]) -> re.Pattern | None:
    """A regular expression for the words that may have one of these stems.

    A porter2 stem is a prefix of its words, except that a final y becomes i ("policy" ->
    "polici"), so that last letter is left out of the prefix.
    """
    prefixes = {s[:-1] if s.endswith("i") and len(s) > 2 else s for s in stems if s}
    if not prefixes:
        return None
    alternatives = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
    return re.compile(rf"(?:{alternatives})\w*(?:['’]\w+)*")


def _starts_word(text: str, i: int) -> bool:
    """Whether a word starts at `i` as the analyzer's tokens do: not after a letter, nor after a
    letter and an apostrophe ("Biden’s"); after an apostrophe alone it does ("’Russia", a quote)."""
    before = text[i - 1]
    if before.isalnum() or before == "_":
        return False
    if before in "'’" and i > 1:
        previous = text[i - 2]
        return not (previous.isalnum() or previous == "_")
    return True


def _adjacent(text: str, end: int, start: int) -> bool:
    """Whether two words are next to each other in a phrase: only stop words, single letters
    and punctuation between them."""
    if start - end > _PHRASE_GAP:
        return False
    return all(is_stop(normalize(word)) for word in TOKEN_RE.findall(text, end, start))


def best_passage(text: str, marks: list[tuple[int, int, str]]) -> tuple[int, int, int, int]:
    """(start, end, first mark, last mark) of the passage Whoosh's PinpointFragmenter (at most
    SNIPPET_CHARS of marks, SNIPPET_CONTEXT around them, trimmed to spaces) and its
    BasicFragmentScorer (marks times a hundred times the distinct stems) would pick; of equally
    scored passages, the one starting last, as Whoosh's `nlargest` over fragments does."""
    size, count = len(text), len(marks)
    best: tuple[int, int] | None = None
    chosen = (0, 0, 0, 0)
    j = -1
    for i in range(count):
        if j >= i:
            continue
        j = i
        left, right = marks[i][0], marks[i][1]
        length = right - left
        while j < count - 1 and length < SNIPPET_CHARS:
            start, end, _ = marks[j + 1]
            if end - right <= SNIPPET_CONTEXT and end - left <= SNIPPET_CHARS:
                j += 1
                right = end
                length += end - start
            else:
                break
        left, right = max(0, left - SNIPPET_CONTEXT), min(size, right + SNIPPET_CONTEXT)
        space = text.find(" ", left, right)  # trimmed to whole words, keeping every mark
        if space > 0:
            left = space + 1
        space = text.rfind(" ", left, right)
        if space > 0:
            right = space
        left, right = min(left, marks[i][0]), max(right, marks[j][1])
        key = ((j - i + 1) * (len({marks[k][2] for k in range(i, j + 1)}) * 100 or 1), left)
        if best is None or key > best:
            best, chosen = key, (left, right, i, j)
    return chosen


def _opening(text: str, size: int = SNIPPET_CHARS) -> str:
    if len(text) <= size:
        return text.replace("\n", " ")
    cut = text.rfind(" ", 0, size)
    return text[: cut if cut > size // 2 else size].replace("\n", " ") + " …"


def _in_words_of(turns: list, starts: list[int], offset: int, speakers: frozenset[str]) -> bool:
    """Whether `offset` falls in the words (not the label) of a turn of one of the speakers."""
    n = turn_at(turns, offset, starts)
    return n is not None and turns[n][0] in speakers and offset >= turns[n][3]
