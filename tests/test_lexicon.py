"""The word list's fast paths against their references: fuzzy neighbours against a plain scan
with Whoosh's Damerau-Levenshtein, the bulk reader and writer against each other."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.support.levenshtein import damerau_levenshtein

from search.analysis import is_stop
from search.lexicon import Lexicon, read_words, write_words

LETTERS = st.text(alphabet="abcdeinorstuüé'", min_size=1, max_size=9)


@settings(max_examples=150, deadline=None)
@given(words=st.lists(LETTERS, min_size=1, max_size=300, unique=True), word=LETTERS, maxdist=st.integers(1, 2),
       prefix_length=st.integers(1, 2))
def test_near_words_are_those_a_plain_scan_finds(tmp_path_factory, words, word, maxdist, prefix_length):
    path = tmp_path_factory.mktemp("lexicon") / "words.tsv"
    write_words(path, Counter({w: 1 for w in words}))
    lexicon = Lexicon(path)
    prefix = word[:prefix_length]
    expected = {}
    for candidate in sorted(words):
        if candidate.startswith(prefix) and abs(len(candidate) - len(word)) <= maxdist and not is_stop(candidate):
            distance = damerau_levenshtein(word, candidate, maxdist)
            if distance <= maxdist:
                expected[candidate] = distance
    assert lexicon.near(word, maxdist, prefix) == expected


@settings(max_examples=50, deadline=None)
@given(counts=st.dictionaries(st.text(alphabet="abcdé'’-", min_size=1, max_size=12), st.integers(0, 10**6), max_size=200))
def test_the_word_list_reads_back_what_was_written(tmp_path_factory, counts):
    path = tmp_path_factory.mktemp("words") / "words.tsv"
    write_words(path, Counter(counts))
    assert read_words(path) == Counter({w: c for w, c in counts.items() if c > 0})
