"""The snippet's fast paths against their references: the passage against Whoosh's own
fragmenter and scorer, and marking against the analyzer's tokens."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import highlight
from whoosh.analysis import Token

from search.analysis import TOKEN_RE, is_stop, normalize, stem
from search.highlighting import SNIPPET_CHARS, SNIPPET_CONTEXT, Marker, best_passage

WORDS = ["the", "president", "said", "Russia", "sanctions", "on", "Russia’s", "running", "policy", "policies",
         "\n", "\n\n", "—", "Sanctioned,", "RUSSIA", "of", "today", "x" * 40, "’Russia", "Biden’s"]
TEXTS = st.lists(st.sampled_from(WORDS), max_size=500).map(" ".join)


def whoosh_passage(text: str, marks: list[tuple[int, int, str]]) -> tuple[int, int, list[tuple[int, int]]]:
    """What Whoosh's PinpointFragmenter and BasicFragmentScorer pick, as the engine once used them."""
    fragmenter = highlight.PinpointFragmenter(maxchars=SNIPPET_CHARS, surround=SNIPPET_CONTEXT, autotrim=True, charlimit=None)
    tokens = []
    for start, end, stemmed in marks:
        token = Token(text=stemmed, startchar=start, endchar=end, matched=True)
        token.boost = 1.0
        tokens.append(token)
    fragments = list(fragmenter.fragment_matches(text, tokens))
    best = highlight.top_fragments(fragments, 1, highlight.BasicFragmentScorer(), highlight.FIRST, minscore=0)[0]
    return best.startchar, best.endchar, [(t.startchar, t.endchar) for t in best.matches]


@settings(max_examples=400, deadline=None)
@given(text=TEXTS)
def test_the_passage_is_the_one_whooshs_fragmenter_picks(text):
    marks = Marker({"russia", "sanction", "run", "polici"}, {("presid", "said")})._marks(text)
    if not marks:
        return
    start, end, first, last = best_passage(text, marks)
    assert (start, end, [(s, e) for s, e, _ in marks[first : last + 1]]) == whoosh_passage(text, marks)


@settings(max_examples=300, deadline=None)
@given(text=TEXTS)
def test_marks_are_the_analyzers_words_with_those_stems(text):
    """Every marked word is a word the index holds with a wanted stem, and every such word is
    marked (case, apostrophes and words inside words included)."""
    wanted = {"russia", "sanction", "run", "polici", "biden"}
    marked = [text[s:e] for s, e in Marker(wanted, set()).spans(text)]
    # The analyzer's own reading of the text: its tokens, normalized, stop words left out, stemmed.
    expected = [t for t in TOKEN_RE.findall(text) if not is_stop(normalize(t)) and stem(normalize(t)) in wanted]
    assert marked == expected
