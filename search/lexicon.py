"""The archive's word list: the words of its documents (unstemmed) with how many documents hold
each, written beside each generation as `words.tsv`. Prefixes, wildcards and fuzzy words expand
through it, and "did you mean" draws its suggestions from it.

Read on first use (most queries never need it), and shared by a process's threads: one
lexicon per generation, the two most recent kept.
"""

from __future__ import annotations

import threading
import unicodedata
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
from whoosh.spelling import ListCorrector
from whoosh.support.levenshtein import damerau_levenshtein

from .analysis import TOKEN_RE, is_stop, normalize, stem
from .storage import PerGeneration

WORDS = "words.tsv"
OPERATORS = ("AND", "OR", "NOT", "ANDNOT", "ANDMAYBE")  # Whoosh's, in capitals: never "corrected"


def write_words(path: Path, words: Counter) -> None:
    """A generation's word list (its WORDS file): each word and its document count, sorted."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("".join([f"{word}\t{count}\n" for word, count in sorted(words.items()) if count > 0]))


def read_words(path: Path) -> Counter:
    """A generation's word list; empty when it is missing or unreadable (spelling then offers
    nothing, and prefixes match nothing, but searching works)."""
    try:
        with open(path, encoding="utf-8") as handle:
            parts = handle.read().replace("\n", "\t").split("\t")[:-1]  # word, count, word, count, ...
        return Counter(dict(zip(parts[0::2], map(int, parts[1::2]))))
    except (OSError, ValueError):
        return Counter()


class Lexicon:
    """A generation's words, sorted, with their document counts."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._words: list[str] | None = None
        self._counts: dict[str, int] = {}
        self._counts_of_letters: dict[str, tuple[int, np.ndarray, np.ndarray]] = {}
        self._lock = threading.Lock()

    @property
    def words(self) -> list[str]:
        if self._words is None:
            with self._lock:
                if self._words is None:
                    counts = read_words(self.path)
                    self._counts = dict(counts)
                    self._words = sorted(counts)
        return self._words

    def count(self, word: str) -> int:
        self.words  # noqa: B018 - loads the counts
        return self._counts.get(word, 0)

    def with_prefix(self, prefix: str) -> list[str]:
        words = self.words
        i = bisect_left(words, prefix)
        out = []
        while i < len(words) and words[i].startswith(prefix):
            out.append(words[i])
            i += 1
        return out

    def near(self, word: str, maxdist: int, prefix: str) -> dict[str, int]:
        """The words at most `maxdist` edits (Damerau-Levenshtein) from `word` that start with
        `prefix`, with their distances; stop words left out. The in-memory list, where Whoosh's
        FuzzyTerm walks a Levenshtein automaton over the on-disk term table in pure Python
        (about half a second a word on the full archive).

        An edit changes a word's letter counts by at most two in all, so a word whose counts
        differ from `word`'s by more than 2 * maxdist cannot be near: that test runs over the
        whole list at once in numpy, and the exact distance only for what passes it (a tenth
        of the words, or fewer)."""
        words = self.words
        if not prefix:
            return {}
        first, counts, lengths = self._letter_counts(prefix[0])
        start = bisect_left(words, prefix)
        end = bisect_left(words, prefix + "\U0010ffff", start)
        if start == end:
            return {}
        block = slice(start - first, end - first)
        wanted = _letters(word)
        near_enough = (np.abs(lengths[block] - len(word)) <= maxdist) & (
            np.abs(counts[block] - wanted).sum(axis=1) <= 2 * maxdist)
        found = {}
        for i in np.flatnonzero(near_enough):
            candidate = words[start + int(i)]
            if not is_stop(candidate):
                distance = damerau_levenshtein(word, candidate, maxdist)
                if distance <= maxdist:
                    found[candidate] = distance
        return found

    def _letter_counts(self, initial: str) -> tuple[int, np.ndarray, np.ndarray]:
        """For the words starting with `initial`: where they start in the list, and each one's
        counts of a-z (every other character counted together) and length. Worked out on first
        use, one initial at a time (a one-off fuzzy query pays for its letter only)."""
        found = self._counts_of_letters.get(initial)
        if found is None:
            words = self.words
            start = bisect_left(words, initial)
            end = bisect_left(words, initial + "\U0010ffff", start)
            block = words[start:end]
            counts = np.array([[w.count(c) for c in _ALPHABET] for w in block], dtype=np.int16).reshape(len(block), len(_ALPHABET))
            lengths = np.array([len(w) for w in block], dtype=np.int64)
            others = lengths - counts.sum(axis=1)
            found = self._counts_of_letters[initial] = (start, np.column_stack([counts, others]).astype(np.int16), lengths)
        return found


_ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def _letters(word: str) -> np.ndarray:
    """A word's counts of a-z, and of every other character together."""
    counts = [word.count(c) for c in _ALPHABET]
    return np.array(counts + [len(word) - sum(counts)], dtype=np.int16)


_lexicons: PerGeneration[Lexicon] = PerGeneration()


def shared_lexicon(folder: Path) -> Lexicon:
    """One Lexicon (7 MB for the full archive, once loaded) per generation and process, shared
    by its threads: it is only read (storage.PerGeneration)."""
    path = Path(folder) / WORDS
    try:
        return _lexicons.get(path, lambda: Lexicon(path))
    except OSError:
        return Lexicon(path)  # none to share: it reads as empty


# --- Spelling --------------------------------------------------------------------------------


MAX_SUGGEST_WORDS = 12  # a longer query is a pasted passage or a topic: no "did you mean"


# A word the archive has can still be a rare spelling of a common one ("Zelensky": 5 documents;
# "Zelenskyy": 426). It is suggested when a word one edit away (or the same but for accents:
# "Erdogan", "Erdoğan"), starting with the same three letters and not another form of the same
# word, is in VARIANT_FACTOR times as many documents, and in at least VARIANT_MIN_DOCUMENTS.
# Measured on 1,500 rare words of the archive (README, Ranking quality): half of those the rule
# flags are real typos of the archive's own text, the rest real rare words beside a common
# one ("clash", "class"); the suggestion is only offered, never applied, when the word finds
# documents.
VARIANT_FACTOR = 20
ACCENT_FACTOR = 3
VARIANT_MIN_DOCUMENTS = 50
VARIANT_MAX_DOCUMENTS = 10  # a word in more documents is no rare spelling


def suggest_in(reader, text: str, lexicon: Lexicon, alias_stems: Callable[[tuple[str, ...]], list[tuple[str, ...]]]) -> str | None:
    """The query with each word the archive lacks replaced by its nearest common word
    (`Kishda` -> `Kishida`), and a rare spelling by a far more common one (`Zelensky` ->
    `Zelenskyy`); None when there is nothing to change. A word an alias stands in for is
    known when the alias is in the archive (`DPRK`, with "North Korea" there: not `DARK`)."""
    from .postings import frequency

    def held(stemmed: str) -> bool:
        return bool(frequency(reader, "body", stemmed) or frequency(reader, "title", stemmed))

    def known(stemmed: str) -> bool:
        return held(stemmed) or any(all(held(s) for s in other) for other in alias_stems((stemmed,)))

    def common(stemmed: str) -> bool:
        return frequency(reader, "body", stemmed) + frequency(reader, "title", stemmed) >= 2 * VARIANT_MIN_DOCUMENTS

    return suggest(text, lexicon, known, common)


def suggest(text: str, lexicon: Lexicon, known: Callable[[str], bool],
            common: Callable[[str], bool] = lambda stemmed: False) -> str | None:
    """The query with each word the archive lacks (`known(stem)` is False) replaced by its
    nearest common word (`Kishda` -> `Kishida`), and each rare spelling of a far more common
    word by it (`Zelensky` -> `Zelenskyy`); None when there is nothing to change, and for a
    query of more than MAX_SUGGEST_WORDS words. A word `common(stem)` says is in at least
    VARIANT_MIN_DOCUMENTS documents is no rare spelling: the word list is not even read for
    it (reading it cost a one-off `search query` 70 ms)."""
    if len(TOKEN_RE.findall(text)) > MAX_SUGGEST_WORDS:
        return None
    pieces: list[str] = []
    last = 0
    changed = False
    for match in TOKEN_RE.finditer(text):
        token = match.group()
        if token in OPERATORS or text[match.end() : match.end() + 1] in (":", "*", "~"):
            continue
        word = normalize(token)
        if is_stop(word) or any(c.isdigit() for c in word):
            continue
        stemmed = stem(word)
        if known(stemmed):
            better = None if common(stemmed) else variant(word, lexicon)
        else:
            better = correct(word, lexicon)
        if better:
            pieces.append(text[last : match.start()])
            pieces.append(_same_case(token, better))
            last = match.end()
            changed = True
    if not changed:
        return None
    pieces.append(text[last:])
    return "".join(pieces)


def variant(word: str, lexicon: Lexicon) -> str | None:
    """A far more common spelling of a rare word the archive has (see VARIANT_FACTOR)."""
    count = lexicon.count(word)
    if len(word) < 6 or not count:
        return None
    stemmed, folded = stem(word), _folded(word)
    best, best_count = None, 0
    candidates = set(lexicon.near(word, 1, word[:3])) | {c for c in lexicon.with_prefix(folded[:2]) if _folded(c) == folded}
    for candidate in candidates:
        if candidate == word or stem(candidate) == stemmed:
            continue
        if _folded(candidate) == folded:  # the same but for accents
            factor = ACCENT_FACTOR
        elif count <= VARIANT_MAX_DOCUMENTS and _inserted_or_swapped(word, candidate):
            factor = VARIANT_FACTOR
        else:  # a letter for another ("clash", "class") is as often a real word as a typo
            continue
        found = lexicon.count(candidate)
        if found >= max(VARIANT_MIN_DOCUMENTS, factor * count) and found > best_count:
            best, best_count = candidate, found
    return best


def _inserted_or_swapped(a: str, b: str) -> bool:
    """Whether one edit between two words is a letter put in or left out, or two swapped."""
    if len(a) != len(b):
        return True
    different = [i for i in range(len(a)) if a[i] != b[i]]
    return len(different) == 2 and different[1] == different[0] + 1 and a[different[0]] == b[different[1]]


def _folded(word: str) -> str:
    """A word without its accents: "erdoğan" -> "erdogan"."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def correct(word: str, lexicon: Lexicon) -> str | None:
    """The closest word of the archive, the commonest among equally close ones."""
    words = lexicon.words
    if not words or len(word) < 3:
        return None
    maxdist = 1 if len(word) <= 4 else 2
    found = _FrequencyCorrector(words, lexicon).suggest(word, limit=1, maxdist=maxdist, prefix=1)
    return found[0] if found else None


class _FrequencyCorrector(ListCorrector):
    """Whoosh's list corrector, ranking by edit distance, then by how common the word is."""

    def __init__(self, words: list[str], lexicon: Lexicon):
        super().__init__(words)
        self.lexicon = lexicon

    def _suggestions(self, text, maxdist, prefix):
        for score, word in super()._suggestions(text, maxdist, prefix):
            yield score + min(self.lexicon.count(word), 10**6) / 10**7, word

    class Skipper:
        """The first word of the list at or after a string, for Whoosh's automaton walk.
        Whoosh's own steps past the list's first word before it looks, so the alphabetically
        first word of an archive could never be suggested."""

        def __init__(self, data: list[str]):
            self.data = data
            self.i = 0

        def __call__(self, w: str) -> str | None:
            self.i = bisect_left(self.data, w, self.i)
            return self.data[self.i] if self.i < len(self.data) else None


def _same_case(original: str, word: str) -> str:
    if original.isupper() and len(original) > 1:
        return word.upper()
    if original[:1].isupper():
        return word[:1].upper() + word[1:]
    return word
